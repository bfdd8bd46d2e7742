/*
 * IPA framing and CCM against the wire captures of GSUP_NOTES.md section 8:
 * osmo-hlr's exact ID_GET, the ID_RESP a libosmo-abis client sends, frames
 * split at every byte boundary or packed two to a buffer, and the frames a
 * libosmocore reader refuses (over 1200 octets, empty, OSMO without its
 * extension octet).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hlr/ipa.h"

/* Hex with optional spaces to bytes; returns the length. */
static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	while (*s) {
		if (*s == ' ') {
			s++;
			continue;
		}
		unsigned v;
		assert_int_equal(sscanf(s, "%2x", &v), 1);
		assert_true(n < cap);
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

static const char ID_GET_HEX[] = "00 11 fe 04 01 08 01 07 01 02 01 03 01 04 01 05 01 01 01 00";

static void test_id_get_exact(void **state)
{
	(void)state;
	uint8_t want[32], got[32];
	size_t n = unhex(ID_GET_HEX, want, sizeof(want));
	assert_int_equal(n, 20);
	assert_int_equal(ipa_ccm_id_get(got), 20);
	assert_memory_equal(got, want, 20);

	struct ipa_frame f;
	assert_int_equal(ipa_frame_parse(got, 20, &f), 1);
	assert_int_equal(f.proto, IPA_PROTO_CCM);
	assert_int_equal(f.ext, 0);
	assert_int_equal(f.frame_len, 20);
	assert_int_equal(f.payload_len, 17);
	assert_int_equal(f.payload[0], IPA_CCM_ID_GET);
}

static void test_ccm_simple(void **state)
{
	(void)state;
	uint8_t b[4];
	const uint8_t ping[] = {0x00, 0x01, 0xfe, 0x00};
	const uint8_t pong[] = {0x00, 0x01, 0xfe, 0x01};
	const uint8_t ack[] = {0x00, 0x01, 0xfe, 0x06};
	assert_int_equal(ipa_ccm_simple(b, IPA_CCM_PING), 4);
	assert_memory_equal(b, ping, 4);
	assert_int_equal(ipa_ccm_simple(b, IPA_CCM_PONG), 4);
	assert_memory_equal(b, pong, 4);
	assert_int_equal(ipa_ccm_simple(b, IPA_CCM_ID_ACK), 4);
	assert_memory_equal(b, ack, 4);
}

/* Builds the value part of one ID_RESP entry: 16-bit length, tag, string + NUL. */
static size_t id_entry(uint8_t *out, uint8_t tag, const char *s)
{
	size_t l = strlen(s) + 1;
	out[0] = (uint8_t)((l + 1) >> 8);
	out[1] = (uint8_t)(l + 1);
	out[2] = tag;
	memcpy(out + 3, s, l);
	return 3 + l;
}

static void test_id_resp_capture(void **state)
{
	(void)state;
	/* Section 8, with the elided Location2 / versions filled as empty. */
	uint8_t p[256];
	size_t n = 0;
	p[n++] = IPA_CCM_ID_RESP;
	n += id_entry(p + n, IPA_ID_UNIT, "0/0/0");
	n += id_entry(p + n, IPA_ID_MACADDR, "00:00:00:00:00:00");
	n += id_entry(p + n, IPA_ID_LOCATION1, "");
	n += id_entry(p + n, IPA_ID_LOCATION2, "");
	n += id_entry(p + n, IPA_ID_EQUIPVERS, "");
	n += id_entry(p + n, IPA_ID_SWVERSION, "");
	n += id_entry(p + n, IPA_ID_UNITNAME, "gsup-load-verify-0");
	n += id_entry(p + n, IPA_ID_SERNR, "gsup-load-verify-0");

	/* The octets shown in section 8 are these. */
	uint8_t head[64];
	size_t hn = unhex("05 00 07 08 30 2f 30 2f 30 00 00 13 07", head, sizeof(head));
	assert_memory_equal(p, head, hn);
	uint8_t tail[64];
	size_t tn = unhex("00 14 00 67 73 75 70 2d 6c 6f 61 64 2d 76 65 72 69 66 79 2d 30 00", tail,
	                  sizeof(tail));
	assert_memory_equal(p + n - tn, tail, tn);

	struct ipa_id_resp r;
	assert_int_equal(ipa_ccm_id_resp_parse(p, n, &r), 0);
	assert_true(r.has_unit_id);
	assert_true(r.has_serno);
	assert_string_equal(r.unit_id, "0/0/0");
	assert_string_equal(r.unit_name, "gsup-load-verify-0");
	assert_string_equal(r.serno, "gsup-load-verify-0");

	/* Our builder produces the same octets, framed. */
	uint8_t built[512];
	int bn =
	    ipa_ccm_id_resp_build(built, sizeof(built), "gsup-load-verify-0", "gsup-load-verify-0");
	assert_int_equal(bn, (int)(3 + n));
	assert_int_equal(built[0], 0);
	assert_int_equal(built[1], n);
	assert_int_equal(built[2], IPA_PROTO_CCM);
	assert_memory_equal(built + 3, p, n);
}

static void test_id_resp_osmo_msc_default(void **state)
{
	(void)state;
	/* libosmo-abis 1.3 without an ipa-name: unset tags repeat the previous
	 * string, so SERNR is the unit name with the MAC appended. */
	uint8_t p[256];
	size_t n = 0;
	p[n++] = IPA_CCM_ID_RESP;
	n += id_entry(p + n, IPA_ID_UNIT, "0/0/0");
	n += id_entry(p + n, IPA_ID_MACADDR, "00:00:00:00:00:00");
	n += id_entry(p + n, IPA_ID_LOCATION1, "00:00:00:00:00:00");
	n += id_entry(p + n, IPA_ID_UNITNAME, "MSC-00-00-00-00-00-00");
	n += id_entry(p + n, IPA_ID_SERNR, "MSC-00-00-00-00-00-00");
	struct ipa_id_resp r;
	assert_int_equal(ipa_ccm_id_resp_parse(p, n, &r), 0);
	assert_string_equal(r.serno, "MSC-00-00-00-00-00-00");
	assert_string_equal(r.unit_name, "MSC-00-00-00-00-00-00");
}

static void test_id_resp_missing_and_malformed(void **state)
{
	(void)state;
	uint8_t p[512];
	struct ipa_id_resp r;
	size_t n = 0;
	p[n++] = IPA_CCM_ID_RESP;
	n += id_entry(p + n, IPA_ID_UNITNAME, "x");
	assert_int_equal(ipa_ccm_id_resp_parse(p, n, &r), 0);
	assert_false(r.has_serno);
	assert_false(r.has_unit_id);
	assert_string_equal(r.serno, "");

	/* Wrong type octet, empty payload. */
	assert_int_equal(ipa_ccm_id_resp_parse(p, 0, &r), -EBADMSG);
	p[0] = IPA_CCM_ID_ACK;
	assert_int_equal(ipa_ccm_id_resp_parse(p, n, &r), -EBADMSG);
	p[0] = IPA_CCM_ID_RESP;

	/* Every truncation of a valid list either parses a prefix or fails. */
	n = 1;
	n += id_entry(p + n, IPA_ID_UNIT, "0/0/0");
	n += id_entry(p + n, IPA_ID_SERNR, "MSC-1");
	for (size_t cut = 1; cut < n; cut++) {
		uint8_t *copy = malloc(cut); /* exact size: ASan sees any over-read */
		memcpy(copy, p, cut);
		int rc = ipa_ccm_id_resp_parse(copy, cut, &r);
		assert_true(rc == 0 || rc == -EBADMSG);
		if (rc == 0)
			assert_false(r.has_serno);
		free(copy);
	}

	/* Zero length, length past the end. */
	const uint8_t zero[] = {0x05, 0x00, 0x00, 0x00};
	assert_int_equal(ipa_ccm_id_resp_parse(zero, sizeof(zero), &r), -EBADMSG);
	const uint8_t past[] = {0x05, 0x00, 0x05, 0x00, 'a', 0x00};
	assert_int_equal(ipa_ccm_id_resp_parse(past, sizeof(past), &r), -EBADMSG);

	/* Long and unterminated values are cut to fit the 64-octet fields. */
	n = 1;
	char longname[300];
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	n += id_entry(p + n, IPA_ID_SERNR, longname);
	assert_int_equal(ipa_ccm_id_resp_parse(p, n, &r), 0);
	assert_int_equal(strlen(r.serno), sizeof(r.serno) - 1);
	const uint8_t unterminated[] = {0x05, 0x00, 0x04, 0x00, 'a', 'b', 'c'};
	assert_int_equal(ipa_ccm_id_resp_parse(unterminated, sizeof(unterminated), &r), 0);
	assert_string_equal(r.serno, "abc");
	/* An embedded NUL ends the string. */
	const uint8_t embedded[] = {0x05, 0x00, 0x05, 0x00, 'a', 0x00, 'c', 0x00};
	assert_int_equal(ipa_ccm_id_resp_parse(embedded, sizeof(embedded), &r), 0);
	assert_string_equal(r.serno, "a");
}

static void test_id_resp_build_truncates_and_caps(void **state)
{
	(void)state;
	uint8_t b[512];
	char longname[200];
	memset(longname, 'q', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	int n = ipa_ccm_id_resp_build(b, sizeof(b), longname, longname);
	assert_true(n > 0);
	struct ipa_frame f;
	assert_int_equal(ipa_frame_parse(b, (size_t)n, &f), 1);
	struct ipa_id_resp r;
	assert_int_equal(ipa_ccm_id_resp_parse(f.payload, f.payload_len, &r), 0);
	assert_int_equal(strlen(r.serno), 63);
	assert_int_equal(strlen(r.unit_name), 63);
	/* Too small a buffer at every size. */
	for (size_t cap = 0; cap < (size_t)n; cap++)
		assert_int_equal(ipa_ccm_id_resp_build(b, cap, longname, longname), -EMSGSIZE);
	assert_int_equal(ipa_ccm_id_resp_build(b, (size_t)n, longname, longname), n);
	/* NULL names are empty strings. */
	n = ipa_ccm_id_resp_build(b, sizeof(b), NULL, NULL);
	assert_int_equal(ipa_frame_parse(b, (size_t)n, &f), 1);
	assert_int_equal(ipa_ccm_id_resp_parse(f.payload, f.payload_len, &r), 0);
	assert_true(r.has_serno);
	assert_string_equal(r.serno, "");
}

/* SAI request from section 8, framed: ipa=0015ee05 then 20 octets. */
static const char SAI_REQ_FRAME[] =
    "00 15 ee 05 08 01 08 00 01 01 00 00 00 00 f1 52 01 01 28 01 02 0a 01 01";

static void test_frame_gsup(void **state)
{
	(void)state;
	uint8_t b[64];
	size_t n = unhex(SAI_REQ_FRAME, b, sizeof(b));
	struct ipa_frame f;
	assert_int_equal(ipa_frame_parse(b, n, &f), 1);
	assert_int_equal(f.proto, IPA_PROTO_OSMO);
	assert_int_equal(f.ext, IPA_EXT_GSUP);
	assert_int_equal(f.frame_len, n);
	assert_int_equal(f.payload_len, n - 4);
	assert_ptr_equal(f.payload, b + 4);

	uint8_t h[4];
	assert_int_equal(ipa_header_write(h, IPA_PROTO_OSMO, IPA_EXT_GSUP, n - 4), 4);
	assert_memory_equal(h, b, 4);
	assert_int_equal(ipa_header_write(h, IPA_PROTO_CCM, 0, 1), 3);
	assert_int_equal(h[0], 0);
	assert_int_equal(h[1], 1);
	assert_int_equal(h[2], 0xfe);
}

static void test_frame_split_every_boundary(void **state)
{
	(void)state;
	uint8_t b[64];
	size_t n = unhex(SAI_REQ_FRAME, b, sizeof(b));
	struct ipa_frame f;
	for (size_t have = 0; have < n; have++) {
		uint8_t *part = malloc(have ? have : 1); /* exact size for ASan */
		memcpy(part, b, have);
		assert_int_equal(ipa_frame_parse(part, have, &f), 0);
		free(part);
	}
	assert_int_equal(ipa_frame_parse(b, n, &f), 1);
}

static void test_two_frames_in_one_buffer(void **state)
{
	(void)state;
	uint8_t b[128];
	size_t n = unhex(SAI_REQ_FRAME, b, sizeof(b));
	n += ipa_ccm_simple(b + n, IPA_CCM_PING);
	struct ipa_frame f;
	size_t off = 0;
	assert_int_equal(ipa_frame_parse(b + off, n - off, &f), 1);
	assert_int_equal(f.proto, IPA_PROTO_OSMO);
	off += f.frame_len;
	assert_int_equal(ipa_frame_parse(b + off, n - off, &f), 1);
	assert_int_equal(f.proto, IPA_PROTO_CCM);
	assert_int_equal(f.payload_len, 1);
	assert_int_equal(f.payload[0], IPA_CCM_PING);
	off += f.frame_len;
	assert_int_equal(off, n);
	assert_int_equal(ipa_frame_parse(b + off, n - off, &f), 0);
}

static void test_frame_limits(void **state)
{
	(void)state;
	struct ipa_frame f;
	/* 1200 octets including the header: accepted; one more: refused,
	 * already from the header alone. */
	uint8_t *big = calloc(1, IPA_MAX_FRAME + 1);
	big[0] = (IPA_MAX_FRAME - 3) >> 8;
	big[1] = (IPA_MAX_FRAME - 3) & 0xff;
	big[2] = IPA_PROTO_OSMO;
	big[3] = IPA_EXT_GSUP;
	assert_int_equal(ipa_frame_parse(big, IPA_MAX_FRAME, &f), 1);
	assert_int_equal(f.payload_len, IPA_MAX_FRAME - 4);
	assert_int_equal(ipa_frame_parse(big, IPA_MAX_FRAME - 1, &f), 0);
	big[1]++;
	assert_int_equal(ipa_frame_parse(big, 3, &f), -EBADMSG);
	assert_int_equal(ipa_frame_parse(big, IPA_MAX_FRAME + 1, &f), -EBADMSG);
	const uint8_t huge[] = {0xff, 0xff, 0xfe};
	assert_int_equal(ipa_frame_parse(huge, 3, &f), -EBADMSG);
	free(big);

	/* Empty frames, OSMO without its extension octet. */
	const uint8_t osmo0[] = {0x00, 0x00, 0xee};
	assert_int_equal(ipa_frame_parse(osmo0, 3, &f), -EBADMSG);
	const uint8_t ccm0[] = {0x00, 0x00, 0xfe};
	assert_int_equal(ipa_frame_parse(ccm0, 3, &f), -EBADMSG);
	/* OSMO with only the extension octet: a frame with an empty payload. */
	const uint8_t osmo1[] = {0x00, 0x01, 0xee, 0x05};
	assert_int_equal(ipa_frame_parse(osmo1, 4, &f), 1);
	assert_int_equal(f.payload_len, 0);
	/* Another stream id is framed; the caller decides what to do with it. */
	const uint8_t other[] = {0x00, 0x01, 0x00, 0x42};
	assert_int_equal(ipa_frame_parse(other, 4, &f), 1);
	assert_int_equal(f.proto, 0x00);

	/* Header write refuses what the parser would refuse. */
	uint8_t h[4];
	assert_int_equal(ipa_header_write(h, IPA_PROTO_OSMO, IPA_EXT_GSUP, 1196), 4);
	assert_int_equal(h[0] << 8 | h[1], 1197);
	assert_int_equal(ipa_header_write(h, IPA_PROTO_OSMO, IPA_EXT_GSUP, 1197), -EMSGSIZE);
	assert_int_equal(ipa_header_write(h, IPA_PROTO_CCM, 0, 1197), 3);
	assert_int_equal(ipa_header_write(h, IPA_PROTO_CCM, 0, 1198), -EMSGSIZE);
	assert_int_equal(ipa_header_write(h, IPA_PROTO_CCM, 0, (size_t)-1), -EMSGSIZE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_id_get_exact),
	    cmocka_unit_test(test_ccm_simple),
	    cmocka_unit_test(test_id_resp_capture),
	    cmocka_unit_test(test_id_resp_osmo_msc_default),
	    cmocka_unit_test(test_id_resp_missing_and_malformed),
	    cmocka_unit_test(test_id_resp_build_truncates_and_caps),
	    cmocka_unit_test(test_frame_gsup),
	    cmocka_unit_test(test_frame_split_every_boundary),
	    cmocka_unit_test(test_two_frames_in_one_buffer),
	    cmocka_unit_test(test_frame_limits),
	};
	return cmocka_run_group_tests_name("ipa", tests, NULL, NULL);
}
