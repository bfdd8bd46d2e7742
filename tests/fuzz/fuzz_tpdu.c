/*
 * libFuzzer target for the SMS codec (src/sms): the input is decoded as a
 * TPDU in both directions and as an RP message (and the TPDU it carries).
 * Whatever decodes is re-encoded and decoded again, and the two decodings
 * must agree field by field; the text, if any, is converted to UTF-8 and
 * must be valid UTF-8 that splits cleanly. Each input is copied into a
 * buffer of exactly its size so that ASan sees any read past it.
 *
 * Built by tests/integration/fuzz_tpdu.sh:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I src \
 *         tests/fuzz/fuzz_tpdu.c src/sms/{sms_err,gsm7,ucs2,tpdu,rp,segment}.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sms/rp.h"
#include "sms/segment.h"
#include "sms/sms_err.h"
#include "sms/tpdu.h"
#include "sms/ucs2.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			__builtin_trap();                                                          \
	} while (0)

static bool ts_eq(const struct sms_ts *a, const struct sms_ts *b)
{
	return a->year == b->year && a->month == b->month && a->day == b->day &&
	       a->hour == b->hour && a->minute == b->minute && a->second == b->second &&
	       a->tz_quarters == b->tz_quarters;
}

static bool addr_eq(const struct sms_addr *a, const struct sms_addr *b)
{
	return a->toa == b->toa && strcmp(a->value, b->value) == 0;
}

/* The fields that define a TPDU (not first_octet: reserved bits are not
 * kept, and not the pointers, which differ between buffers). */
static void tpdu_same(const struct sms_tpdu *a, const struct sms_tpdu *b)
{
	CHECK(a->type == b->type);
	CHECK(a->reject_duplicates == b->reject_duplicates);
	CHECK(a->more_messages == b->more_messages);
	CHECK(a->loop_prevention == b->loop_prevention);
	CHECK(a->status_report == b->status_report && a->udhi == b->udhi);
	CHECK(a->reply_path == b->reply_path && a->mr == b->mr);
	CHECK(addr_eq(&a->addr, &b->addr));
	CHECK(a->pid == b->pid && a->dcs == b->dcs && a->st == b->st && a->pi == b->pi);
	CHECK(a->ct == b->ct && a->mn == b->mn);
	CHECK(ts_eq(&a->scts, &b->scts) && ts_eq(&a->dt, &b->dt));
	CHECK(a->vp.format == b->vp.format && a->vp.relative == b->vp.relative);
	CHECK(ts_eq(&a->vp.absolute, &b->vp.absolute));
	CHECK(memcmp(a->vp.enhanced, b->vp.enhanced, 7) == 0);
	CHECK(a->udl == b->udl && a->ud_len == b->ud_len);
	/* GSM 7-bit padding and fill bits are written as zero, so the septets
	 * are compared, not the octets. */
	uint8_t sa[160], sb[160];
	int na = sms_tpdu_septets(a, sa, sizeof(sa)), nb = sms_tpdu_septets(b, sb, sizeof(sb));
	CHECK(na == nb);
	if (na >= 0)
		CHECK(na == 0 || memcmp(sa, sb, (size_t)na) == 0);
	else
		CHECK(a->payload_len == 0 || memcmp(a->payload, b->payload, a->payload_len) == 0);
	CHECK(a->udh.len == b->udh.len && a->udh.has_concat == b->udh.has_concat);
	CHECK(a->udh.len == 0 || memcmp(a->udh.ies, b->udh.ies, a->udh.len) == 0);
	CHECK(a->udh.ref == b->udh.ref && a->udh.seq == b->udh.seq);
	CHECK(a->text_septets == b->text_septets && a->payload_len == b->payload_len);
}

static void tpdu_round_trip(const uint8_t *buf, size_t len, enum sms_dir dir)
{
	struct sms_tpdu t, t2;
	static uint8_t out[512];
	static char text[1024];
	uint8_t sept[160];
	if (sms_tpdu_decode(buf, len, dir, &t) != 0)
		return;
	CHECK(t.ud_len <= len && (t.ud_len == 0 || (t.ud >= buf && t.ud + t.ud_len <= buf + len)));
	int n = sms_tpdu_septets(&t, sept, sizeof(sept));
	if (n >= 0) {
		t.data = sept;
		t.data_len = (size_t)n;
	} else {
		t.data = t.payload;
		t.data_len = t.payload_len;
	}
	int tn = sms_tpdu_text(&t, text, sizeof(text));
	CHECK(tn >= 0 || tn == SMS_E_DCS);
	if (tn >= 0) {
		size_t i = 0;
		uint32_t cp;
		while (i < (size_t)tn)
			CHECK(sms_utf8_next(text, (size_t)tn, &i, &cp) == 0);
		struct sms_segment segs[SMS_SPLIT_MAX];
		struct sms_split sp;
		int s = sms_split_text(text, (size_t)tn, true, 1, segs, SMS_SPLIT_MAX, &sp);
		CHECK(s >= 1 && s <= 4);
	}
	int el = sms_tpdu_encode(&t, out, sizeof(out));
	CHECK(el > 0);
	uint8_t *copy = malloc((size_t)el);
	memcpy(copy, out, (size_t)el);
	CHECK(sms_tpdu_decode(copy, (size_t)el, dir, &t2) == 0);
	tpdu_same(&t, &t2);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1);
	memcpy(buf, data, size);
	tpdu_round_trip(buf, size, SMS_DIR_MO);
	tpdu_round_trip(buf, size, SMS_DIR_MT);

	struct sms_rp rp, rp2;
	static uint8_t out[600];
	if (sms_rp_decode(buf, size, &rp) == 0) {
		if (rp.user_data) {
			CHECK(rp.user_data >= buf && rp.user_data + rp.user_data_len <= buf + size);
			tpdu_round_trip(rp.user_data, rp.user_data_len, sms_rp_tpdu_dir(rp.type));
		}
		int el = sms_rp_encode(&rp, out, sizeof(out));
		CHECK(el > 0);
		CHECK(sms_rp_decode(out, (size_t)el, &rp2) == 0);
		CHECK(rp.type == rp2.type && rp.mr == rp2.mr && rp.cause == rp2.cause);
		CHECK(rp.has_diagnostic == rp2.has_diagnostic && rp.diagnostic == rp2.diagnostic);
		CHECK(strcmp(rp.oa.value, rp2.oa.value) == 0);
		CHECK(strcmp(rp.da.value, rp2.da.value) == 0);
		CHECK(rp.user_data_len == rp2.user_data_len);
		CHECK(rp.user_data_len == 0 ||
		      memcmp(rp.user_data, rp2.user_data, rp.user_data_len) == 0);
	}
	free(buf);
	return 0;
}
