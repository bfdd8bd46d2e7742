/*
 * libFuzzer target for what a GSUP peer controls: the input is a TCP byte
 * stream, cut into IPA frames as a connection would; GSUP payloads go through
 * gsup_decode() and CCM ID_RESPs through ipa_ccm_id_resp_parse(). Each payload
 * is copied into a buffer of exactly its size so that ASan sees a read past it
 * (and not into the next frame). Whatever decodes must encode again into one
 * frame's worth of octets (1196), decode again to the same IMSI and type, and
 * encode to the same octets a second time.
 *
 * Built by tests/integration/fuzz_gsup.sh:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I src \
 *         tests/fuzz/fuzz_gsup.c src/hlr/ipa.c src/hlr/gsup.c
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hlr/gsup.h"
#include "hlr/ipa.h"

#define GSUP_MAX_MSG (IPA_MAX_FRAME - 4)

/* An invariant broke: make it a crash libFuzzer reports. */
#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			__builtin_trap();                                                          \
	} while (0)

static void check_gsup(const uint8_t *payload, size_t len)
{
	uint8_t *buf = malloc(len ? len : 1);
	CHECK(buf);
	if (len)
		memcpy(buf, payload, len);

	struct gsup_msg m, m2;
	uint8_t cause = 0;
	int rc = gsup_decode(buf, len, &m, &cause);
	if (rc != 0) {
		CHECK(rc == -EBADMSG && cause == GSUP_CAUSE_INV_MAND_INFO);
		CHECK(memchr(m.imsi, '\0', sizeof(m.imsi)) != NULL);
		free(buf);
		return;
	}
	CHECK(strlen(m.imsi) >= 6 && strlen(m.imsi) <= 15);

	static uint8_t out[GSUP_MAX_MSG], out2[GSUP_MAX_MSG];
	int n = gsup_encode(&m, out, sizeof(out));
	/* Re-encoding can outgrow a frame (a 4-octet auth tuple IE comes back
	 * with all its parts), never be refused as unencodable. */
	CHECK(n > 0 || n == -EMSGSIZE);
	if (n > 0) {
		uint8_t *enc = malloc((size_t)n);
		CHECK(enc);
		memcpy(enc, out, (size_t)n);
		CHECK(gsup_decode(enc, (size_t)n, &m2, NULL) == 0);
		CHECK(m2.type == m.type);
		CHECK(strcmp(m2.imsi, m.imsi) == 0);
		CHECK(gsup_encode(&m2, out2, sizeof(out2)) == n);
		CHECK(memcmp(out, out2, (size_t)n) == 0);
		free(enc);
	}
	free(buf);
}

static void check_ccm(const uint8_t *payload, size_t len)
{
	uint8_t *buf = malloc(len ? len : 1);
	CHECK(buf);
	if (len)
		memcpy(buf, payload, len);
	struct ipa_id_resp r;
	int rc = ipa_ccm_id_resp_parse(buf, len, &r);
	CHECK(rc == 0 || rc == -EBADMSG);
	CHECK(strlen(r.serno) < sizeof(r.serno));
	CHECK(strlen(r.unit_id) < sizeof(r.unit_id));
	CHECK(strlen(r.unit_name) < sizeof(r.unit_name));
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;
	for (;;) {
		struct ipa_frame f;
		int rc = ipa_frame_parse(data + off, size - off, &f);
		if (rc <= 0) {
			CHECK(rc == 0 || rc == -EBADMSG);
			break; /* more octets needed, or the connection is closed */
		}
		CHECK(f.frame_len >= IPA_HEADER_LEN + 1 && f.frame_len <= IPA_MAX_FRAME);
		CHECK(f.frame_len <= size - off);
		CHECK(f.payload >= data + off &&
		      f.payload + f.payload_len == data + off + f.frame_len);
		if (f.proto == IPA_PROTO_OSMO && f.ext == IPA_EXT_GSUP)
			check_gsup(f.payload, f.payload_len);
		else if (f.proto == IPA_PROTO_CCM && f.payload_len > 0 &&
		         f.payload[0] == IPA_CCM_ID_RESP)
			check_ccm(f.payload, f.payload_len);
		off += f.frame_len;
	}
	/* The whole input as one GSUP message too, so the fuzzer reaches the
	 * decoder without having to learn the framing first. */
	if (size <= GSUP_MAX_MSG)
		check_gsup(data, size);
	return 0;
}
