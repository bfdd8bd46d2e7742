/*
 * GSUP codec: every osmo-hlr capture of GSUP_NOTES.md section 8 decodes to the
 * right fields and encodes back to the same octets; round trips of every
 * message koryod sends; malformed input (IMSI misplaced or malformed, IEs past
 * the end, every truncation of valid messages, too many tuples or PDP infos,
 * APN labels past their end) refused without reading out of bounds. When
 * libosmogsm's development files are installed, our encoder is also compared
 * byte for byte with osmo_gsup_encode() and our output decoded with
 * osmo_gsup_decode(), over fixed and random messages.
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

#include "hlr/gsup.h"
#include "hlr/ipa.h"

#define GSUP_MAX_MSG (IPA_MAX_FRAME - 4) /* 1196 */

/* Hex with optional spaces and '|' separators to bytes; returns the length. */
static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	while (*s) {
		if (*s == ' ' || *s == '|') {
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

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

/* Decodes hex that must be valid and re-encode to the same octets. */
static void decode_hex(const char *hex, struct gsup_msg *m, uint8_t *buf, size_t *len)
{
	*len = unhex(hex, buf, 1024);
	uint8_t cause = 0xff;
	assert_int_equal(gsup_decode(buf, *len, m, &cause), 0);
}

static void assert_encodes_to(const struct gsup_msg *m, const uint8_t *want, size_t want_len)
{
	uint8_t out[GSUP_MAX_MSG];
	int n = gsup_encode(m, out, sizeof(out));
	assert_int_equal(n, (int)want_len);
	assert_memory_equal(out, want, want_len);
}

static void roundtrip_hex(const char *hex, struct gsup_msg *m)
{
	static uint8_t buf[1024];
	size_t len;
	decode_hex(hex, m, buf, &len);
	assert_encodes_to(m, buf, len);
}

#define IMSI1     "001010000000001"
#define IMSI1_IE  "01 08 00 01 01 00 00 00 00 f1"
#define MSISDN_IE "08 07 06 94 00 00 00 00 f1"

/* ---- section 8 captures ---- */

static void test_capture_sai_req(void **state)
{
	(void)state;
	struct gsup_msg m;
	roundtrip_hex("08 |" IMSI1_IE "| 52 01 01 | 28 01 02 | 0a 01 01", &m);
	assert_int_equal(m.type, GSUP_SEND_AUTH_INFO_REQ);
	assert_string_equal(m.imsi, IMSI1);
	assert_true(m.has_num_vectors);
	assert_int_equal(m.num_vectors, 1);
	assert_true(m.has_cn_domain);
	assert_int_equal(m.cn_domain, GSUP_CN_DOMAIN_CS);
	assert_true(m.has_msg_class);
	assert_int_equal(m.msg_class, GSUP_CLASS_SUBSCRIBER_MGMT);
	assert_int_equal(m.n_auth, 0);
	assert_false(m.has_rand);
	assert_false(m.has_auts);
}

static void test_capture_sai_resync(void **state)
{
	(void)state;
	char hex[512];
	snprintf(hex, sizeof(hex), "08 " IMSI1_IE " 52 01 02 26 0e %s 20 10 %s 28 01 02 0a 01 01",
	         "a0a1a2a3a4a5a6a7a8a9aaabacad", "b0b1b2b3b4b5b6b7b8b9babbbcbdbebf");
	struct gsup_msg m;
	roundtrip_hex(hex, &m);
	assert_int_equal(m.num_vectors, 2);
	assert_true(m.has_auts);
	assert_int_equal(m.auts[0], 0xa0);
	assert_int_equal(m.auts[13], 0xad);
	assert_true(m.has_rand);
	assert_int_equal(m.rand[0], 0xb0);
	assert_int_equal(m.rand[15], 0xbf);
	/* 0x37 - 1 octets on the wire. */
	uint8_t out[GSUP_MAX_MSG];
	assert_int_equal(gsup_encode(&m, out, sizeof(out)), 0x36);
}

static void test_capture_sai_result(void **state)
{
	(void)state;
	struct gsup_msg m;
	char hex[1024];
	snprintf(hex, sizeof(hex),
	         "0a " IMSI1_IE " 03 62 20 10 %s 21 04 %s 22 08 %s 23 10 %s 24 10 %s 25 10 %s "
	         "27 08 %s 0a 01 01",
	         "00112233445566778899aabbccddeeff", "01020304", "1112131415161718",
	         "20212223242526272829202122232425", "30313233343536373839303132333435",
	         "40414243444546474849404142434445", "5152535455565758");
	roundtrip_hex(hex, &m);
	assert_int_equal(m.type, GSUP_SEND_AUTH_INFO_RES);
	assert_int_equal(m.n_auth, 1);
	const struct gsup_auth_tuple *t = &m.auth[0];
	assert_true(t->has_gsm);
	assert_true(t->has_umts);
	assert_int_equal(t->rand[0], 0x00);
	assert_int_equal(t->rand[15], 0xff);
	assert_int_equal(t->sres[3], 0x04);
	assert_int_equal(t->kc[7], 0x18);
	assert_int_equal(t->ik[0], 0x20);
	assert_int_equal(t->ck[0], 0x30);
	assert_int_equal(t->autn[0], 0x40);
	assert_int_equal(t->res_len, 8);
	assert_int_equal(t->res[7], 0x58);
	uint8_t out[GSUP_MAX_MSG];
	assert_int_equal(gsup_encode(&m, out, sizeof(out)), 0x72); /* ipa=0073ee05 */
	assert_int_equal(out[12], 0x62);                           /* 98-octet tuple */
}

static void test_capture_sai_error(void **state)
{
	(void)state;
	struct gsup_msg req, m;
	uint8_t buf[64];
	size_t len;
	decode_hex("08 01 08 99 99 09 00 00 00 00 f1 28 01 02 0a 01 01", &req, buf, &len);
	assert_string_equal(req.imsi, "999990000000001");
	gsup_make_response(&req, GSUP_SEND_AUTH_INFO_ERR, &m);
	m.has_cause = true;
	m.cause = GSUP_CAUSE_IMSI_UNKNOWN;
	uint8_t want[64];
	size_t wn = unhex("09 | 01 08 99990900000000f1 | 02 01 02 | 0a 01 01", want, sizeof(want));
	assert_int_equal(wn, 0x11);
	assert_encodes_to(&m, want, wn);
	struct gsup_msg d;
	roundtrip_hex("09 | 01 08 99990900000000f1 | 02 01 02 | 0a 01 01", &d);
	assert_true(d.has_cause);
	assert_int_equal(d.cause, 0x02);
}

static void test_capture_ul_cs(void **state)
{
	(void)state;
	struct gsup_msg ul, m;
	roundtrip_hex("04 |" IMSI1_IE "| 28 01 02 | 0a 01 01", &ul);
	assert_int_equal(ul.type, GSUP_UPDATE_LOCATION_REQ);
	assert_int_equal(ul.cn_domain, GSUP_CN_DOMAIN_CS);

	/* ISD as osmo-hlr builds it from the UL: MSISDN, CN domain, class. */
	gsup_make_response(&ul, GSUP_INSERT_DATA_REQ, &m);
	strcpy(m.msisdn, "49000000001");
	m.has_cn_domain = true;
	m.cn_domain = GSUP_CN_DOMAIN_CS;
	uint8_t want[64];
	size_t wn =
	    unhex("10 |" IMSI1_IE "|" MSISDN_IE "| 28 01 02 | 0a 01 01", want, sizeof(want));
	assert_encodes_to(&m, want, wn);
	struct gsup_msg isd;
	roundtrip_hex("10 |" IMSI1_IE "|" MSISDN_IE "| 28 01 02 | 0a 01 01", &isd);
	assert_string_equal(isd.msisdn, "49000000001");
	assert_int_equal(isd.n_pdp, 0);

	struct gsup_msg res;
	roundtrip_hex("12 |" IMSI1_IE "| 28 01 02 | 0a 01 01", &res);
	assert_int_equal(res.type, GSUP_INSERT_DATA_RES);

	gsup_make_response(&ul, GSUP_UPDATE_LOCATION_RES, &m);
	wn = unhex("06 |" IMSI1_IE "| 0a 01 01", want, sizeof(want));
	assert_encodes_to(&m, want, wn);
}

static void test_capture_ul_ps(void **state)
{
	(void)state;
	struct gsup_msg ul, m;
	roundtrip_hex("04 |" IMSI1_IE "| 28 01 01", &ul);
	assert_int_equal(ul.cn_domain, GSUP_CN_DOMAIN_PS);
	assert_false(ul.has_msg_class);

	gsup_make_response(&ul, GSUP_INSERT_DATA_REQ, &m);
	strcpy(m.msisdn, "49000000001");
	m.n_pdp = 1;
	m.pdp[0].context_id = 1;
	strcpy(m.pdp[0].apn, "*");
	m.has_cn_domain = true;
	m.cn_domain = GSUP_CN_DOMAIN_PS;
	const char *isd_hex =
	    "10 |" IMSI1_IE "|" MSISDN_IE "| 05 07 10 01 01 12 02 01 2a | 28 01 01";
	uint8_t want[64];
	size_t wn = unhex(isd_hex, want, sizeof(want));
	assert_encodes_to(&m, want, wn);

	struct gsup_msg isd;
	roundtrip_hex(isd_hex, &isd);
	assert_int_equal(isd.n_pdp, 1);
	assert_int_equal(isd.pdp[0].context_id, 1);
	assert_string_equal(isd.pdp[0].apn, "*");
	assert_false(isd.pdp[0].has_pdp_type);
	assert_null(isd.pdp[0].qos);
	assert_false(isd.pdp_info_complete);

	roundtrip_hex("12 |" IMSI1_IE "| 28 01 01", &m);
	gsup_make_response(&ul, GSUP_UPDATE_LOCATION_RES, &m);
	wn = unhex("06 |" IMSI1_IE, want, sizeof(want));
	assert_encodes_to(&m, want, wn);
}

static void test_capture_ul_error(void **state)
{
	(void)state;
	struct gsup_msg m;
	roundtrip_hex("05 |" IMSI1_IE "| 02 01 11 | 0a 01 01", &m);
	assert_int_equal(m.type, GSUP_UPDATE_LOCATION_ERR);
	assert_true(m.has_cause);
	assert_int_equal(m.cause, GSUP_CAUSE_NET_FAIL);
}

static void test_capture_purge_and_check_imei(void **state)
{
	(void)state;
	struct gsup_msg req, m;
	uint8_t want[64];
	size_t wn;

	roundtrip_hex("0c |" IMSI1_IE "| 28 01 02 | 0a 01 01", &req);
	assert_int_equal(req.type, GSUP_PURGE_MS_REQ);
	gsup_make_response(&req, GSUP_PURGE_MS_RES, &m);
	wn = unhex("0e |" IMSI1_IE "| 0a 01 01", want, sizeof(want));
	assert_encodes_to(&m, want, wn);

	roundtrip_hex("30 |" IMSI1_IE "| 50 08 07 53968330653408 | 0a 01 01", &req);
	assert_int_equal(req.type, GSUP_CHECK_IMEI_REQ);
	assert_string_equal(req.imei, "35693803564380");
	gsup_make_response(&req, GSUP_CHECK_IMEI_RES, &m);
	m.has_imei_result = true;
	m.imei_result = 0; /* ACK on the wire */
	wn = unhex("32 |" IMSI1_IE "| 51 01 00 | 0a 01 01", want, sizeof(want));
	assert_encodes_to(&m, want, wn);
	roundtrip_hex("32 |" IMSI1_IE "| 51 01 00 | 0a 01 01", &m);
	assert_true(m.has_imei_result);
	assert_int_equal(m.imei_result, 0);
}

static void test_capture_short_imsi(void **state)
{
	(void)state;
	/* osmo-hlr answers an IMSI of 5 digits with error 0x60 carrying it. */
	uint8_t buf[64];
	size_t len = unhex("08 | 01 03 2143f5 | 28 01 02 | 0a 01 01", buf, sizeof(buf));
	struct gsup_msg req, m;
	uint8_t cause = 0;
	assert_int_equal(gsup_decode(buf, len, &req, &cause), -EBADMSG);
	assert_int_equal(cause, GSUP_CAUSE_INV_MAND_INFO);
	assert_int_equal(req.type, GSUP_SEND_AUTH_INFO_REQ);
	assert_string_equal(req.imsi, "12345");
	assert_true(req.has_msg_class);
	gsup_make_response(&req, GSUP_TO_ERROR(req.type), &m);
	m.has_cause = true;
	m.cause = cause;
	uint8_t want[64];
	size_t wn = unhex("09 | 01 03 2143f5 | 02 01 60 | 0a 01 01", want, sizeof(want));
	assert_encodes_to(&m, want, wn);
}

/* ---- round trips of what koryod sends ---- */

static void roundtrip(const struct gsup_msg *m, struct gsup_msg *back, size_t max_len)
{
	uint8_t out[GSUP_MAX_MSG], out2[GSUP_MAX_MSG];
	int n = gsup_encode(m, out, sizeof(out));
	assert_true(n > 0);
	assert_true((size_t)n <= max_len);
	uint8_t cause = 0;
	assert_int_equal(gsup_decode(out, (size_t)n, back, &cause), 0);
	assert_int_equal(back->type, m->type);
	assert_string_equal(back->imsi, m->imsi);
	/* Decoding then encoding again gives the same octets. */
	int n2 = gsup_encode(back, out2, sizeof(out2));
	assert_int_equal(n2, n);
	assert_memory_equal(out, out2, (size_t)n);
}

static void make_tuple(struct gsup_auth_tuple *t, uint8_t seed)
{
	memset(t, 0, sizeof(*t));
	t->has_gsm = t->has_umts = true;
	fill(t->rand, 16, seed);
	fill(t->sres, 4, seed + 1);
	fill(t->kc, 8, seed + 2);
	fill(t->ik, 16, seed + 3);
	fill(t->ck, 16, seed + 4);
	fill(t->autn, 16, seed + 5);
	fill(t->res, 8, seed + 6);
	t->res_len = 8;
}

static void test_roundtrip_sai_result_5(void **state)
{
	(void)state;
	struct gsup_msg m, b;
	memset(&m, 0, sizeof(m));
	m.type = GSUP_SEND_AUTH_INFO_RES;
	strcpy(m.imsi, "262420123456789");
	for (unsigned i = 0; i < GSUP_MAX_AUTH; i++)
		make_tuple(&m.auth[i], (uint8_t)(i * 40));
	m.n_auth = GSUP_MAX_AUTH;
	m.has_msg_class = true;
	m.msg_class = GSUP_CLASS_SUBSCRIBER_MGMT;
	roundtrip(&m, &b, GSUP_MAX_MSG);
	uint8_t out[GSUP_MAX_MSG];
	int n = gsup_encode(&m, out, sizeof(out));
	assert_int_equal(n, 1 + 10 + 5 * 100 + 3);
	assert_int_equal(b.n_auth, 5);
	for (unsigned i = 0; i < 5; i++) {
		assert_true(b.auth[i].has_gsm && b.auth[i].has_umts);
		assert_memory_equal(b.auth[i].rand, m.auth[i].rand, 16);
		assert_memory_equal(b.auth[i].sres, m.auth[i].sres, 4);
		assert_memory_equal(b.auth[i].kc, m.auth[i].kc, 8);
		assert_memory_equal(b.auth[i].ik, m.auth[i].ik, 16);
		assert_memory_equal(b.auth[i].ck, m.auth[i].ck, 16);
		assert_memory_equal(b.auth[i].autn, m.auth[i].autn, 16);
		assert_int_equal(b.auth[i].res_len, 8);
		assert_memory_equal(b.auth[i].res, m.auth[i].res, 8);
	}
	/* Encoding refuses a buffer one octet short, at every size below. */
	for (size_t cap = 0; cap < (size_t)n; cap++)
		assert_int_equal(gsup_encode(&m, out, cap), -EMSGSIZE);

	/* A 2G-only tuple goes out without the UMTS part and vice versa. */
	m.n_auth = 2;
	m.auth[0].has_umts = false;
	m.auth[1].has_gsm = false;
	m.auth[1].res_len = 16;
	roundtrip(&m, &b, GSUP_MAX_MSG);
	assert_true(b.auth[0].has_gsm && !b.auth[0].has_umts);
	assert_true(!b.auth[1].has_gsm && b.auth[1].has_umts);
	assert_int_equal(b.auth[1].res_len, 16);
}

static void test_roundtrip_isd_pdp(void **state)
{
	(void)state;
	struct gsup_msg m, b;
	const uint8_t qos[] = {0x01, 0x23, 0x45};
	const uint8_t charging[] = {0x04, 0x00};
	memset(&m, 0, sizeof(m));
	m.type = GSUP_INSERT_DATA_REQ;
	strcpy(m.imsi, IMSI1);
	strcpy(m.msisdn, "4900000000123456"); /* 16 digits, even */
	m.has_cn_domain = true;
	m.cn_domain = GSUP_CN_DOMAIN_PS;
	m.pdp_info_complete = true;
	m.n_pdp = 2;
	m.pdp[0].context_id = 1;
	strcpy(m.pdp[0].apn, "intranet");
	m.pdp[0].has_pdp_type = true;
	m.pdp[0].pdp_type = 0xf121;
	m.pdp[1].context_id = 2;
	strcpy(m.pdp[1].apn, "internet");
	m.pdp[1].qos = qos;
	m.pdp[1].qos_len = sizeof(qos);
	m.pdp_charging = charging;
	m.pdp_charging_len = sizeof(charging);
	roundtrip(&m, &b, GSUP_MAX_MSG);
	assert_string_equal(b.msisdn, "4900000000123456");
	assert_true(b.pdp_info_complete);
	assert_int_equal(b.n_pdp, 2);
	assert_int_equal(b.pdp[0].context_id, 1);
	assert_string_equal(b.pdp[0].apn, "intranet");
	assert_true(b.pdp[0].has_pdp_type);
	assert_int_equal(b.pdp[0].pdp_type, 0xf121);
	assert_int_equal(b.pdp[1].context_id, 2);
	assert_string_equal(b.pdp[1].apn, "internet");
	assert_int_equal(b.pdp[1].qos_len, 3);
	assert_memory_equal(b.pdp[1].qos, qos, 3);
	assert_int_equal(b.pdp_charging_len, 2);

	/* Exact octets of the PDP infos. */
	uint8_t out[GSUP_MAX_MSG], want[128];
	int n = gsup_encode(&m, out, sizeof(out));
	size_t wn = unhex("10 |" IMSI1_IE "| 08 09 08 94 00 00 00 00 21 43 65 | 04 00"
	                  "| 05 12 10 01 01 11 02 f1 21 12 09 08 696e7472616e6574"
	                  "| 05 13 10 01 02 12 09 08 696e7465726e6574 13 03 012345"
	                  "| 28 01 01 | 14 02 04 00",
	                  want, sizeof(want));
	assert_int_equal(n, (int)wn);
	assert_memory_equal(out, want, wn);

	/* Multi-label APNs. */
	strcpy(m.pdp[0].apn, "internet.mnc001.mcc001.gprs");
	roundtrip(&m, &b, GSUP_MAX_MSG);
	assert_string_equal(b.pdp[0].apn, "internet.mnc001.mcc001.gprs");

	/* Ten PDP infos fit; an eleventh cannot be expressed. */
	m.n_pdp = GSUP_MAX_PDP;
	for (unsigned i = 0; i < GSUP_MAX_PDP; i++) {
		m.pdp[i] = m.pdp[0];
		m.pdp[i].context_id = (uint8_t)(i + 1);
	}
	roundtrip(&m, &b, GSUP_MAX_MSG);
	assert_int_equal(b.n_pdp, 10);
	m.n_pdp = GSUP_MAX_PDP + 1;
	assert_int_equal(gsup_encode(&m, out, sizeof(out)), -EINVAL);
}

static void test_roundtrip_other_results(void **state)
{
	(void)state;
	struct gsup_msg m, b;
	const uint8_t types[] = {
	    GSUP_UPDATE_LOCATION_RES, GSUP_UPDATE_LOCATION_ERR, GSUP_PURGE_MS_RES,
	    GSUP_PURGE_MS_ERR,        GSUP_CHECK_IMEI_RES,      GSUP_CHECK_IMEI_ERR,
	    GSUP_LOCATION_CANCEL_REQ, GSUP_DELETE_DATA_REQ,     GSUP_SEND_AUTH_INFO_ERR};
	for (size_t i = 0; i < sizeof(types); i++) {
		memset(&m, 0, sizeof(m));
		m.type = types[i];
		strcpy(m.imsi, "90170000000012");
		m.has_msg_class = true;
		m.msg_class = GSUP_CLASS_SUBSCRIBER_MGMT;
		if (!GSUP_IS_REQUEST(m.type) && (m.type & 3) == 1) {
			m.has_cause = true;
			m.cause = GSUP_CAUSE_IMSI_UNKNOWN;
		}
		if (m.type == GSUP_LOCATION_CANCEL_REQ) {
			m.has_cancel_type = true;
			m.cancel_type = 1; /* subscription withdrawn */
			m.has_cn_domain = true;
			m.cn_domain = GSUP_CN_DOMAIN_CS;
		}
		if (m.type == GSUP_CHECK_IMEI_RES) {
			m.has_imei_result = true;
			m.imei_result = 1; /* NACK */
		}
		roundtrip(&m, &b, 64);
		assert_int_equal(b.has_cause, m.has_cause);
		assert_int_equal(b.cause, m.cause);
		assert_int_equal(b.has_cancel_type, m.has_cancel_type);
		assert_int_equal(b.cancel_type, m.cancel_type);
		assert_int_equal(b.has_imei_result, m.has_imei_result);
		assert_int_equal(b.imei_result, m.imei_result);
		assert_true(b.has_msg_class);
	}
	/* CancelLocation, withdrawn, on the wire: 06 01 01. */
	memset(&m, 0, sizeof(m));
	m.type = GSUP_LOCATION_CANCEL_REQ;
	strcpy(m.imsi, IMSI1);
	m.has_cancel_type = true;
	m.cancel_type = 1;
	uint8_t want[32];
	size_t wn = unhex("1c |" IMSI1_IE "| 06 01 01", want, sizeof(want));
	assert_encodes_to(&m, want, wn);
}

static void test_roundtrip_session_sms_names(void **state)
{
	(void)state;
	const uint8_t ss[] = {0xa1, 0x0e, 0x02, 0x01, 0x01};
	const uint8_t da[] = {0x03, 0x91, 0x94, 0x71};
	const uint8_t oa[] = {0x02, 0x91, 0x94, 0x72};
	const uint8_t ui[] = {0x01, 0x02, 0x03};
	const uint8_t src[] = "MSC-1";
	struct gsup_msg req, m, b;
	memset(&req, 0, sizeof(req));
	req.type = GSUP_PROC_SS_REQ;
	strcpy(req.imsi, IMSI1);
	req.has_session = true;
	req.session_id = 0xdeadbeef;
	req.session_state = 1;
	req.ss_info = ss;
	req.ss_info_len = sizeof(ss);
	req.has_msg_class = true;
	req.msg_class = GSUP_CLASS_USSD;
	req.has_sm_rp_mr = true;
	req.sm_rp_mr = 0x42;
	req.sm_rp_da = da;
	req.sm_rp_da_len = sizeof(da);
	req.sm_rp_oa = oa;
	req.sm_rp_oa_len = sizeof(oa);
	req.sm_rp_ui = ui;
	req.sm_rp_ui_len = sizeof(ui);
	req.source_name = src;
	req.source_name_len = sizeof(src);
	req.has_current_rat = true;
	req.current_rat = 3;
	strcpy(req.hlr_number, "4912");
	req.freeze_ptmsi = true;
	roundtrip(&req, &b, GSUP_MAX_MSG);
	assert_true(b.has_session);
	assert_int_equal(b.session_id, 0xdeadbeef);
	assert_int_equal(b.session_state, 1);
	assert_int_equal(b.ss_info_len, sizeof(ss));
	assert_memory_equal(b.ss_info, ss, sizeof(ss));
	assert_int_equal(b.sm_rp_mr, 0x42);
	assert_memory_equal(b.sm_rp_da, da, sizeof(da));
	assert_memory_equal(b.sm_rp_oa, oa, sizeof(oa));
	assert_memory_equal(b.sm_rp_ui, ui, sizeof(ui));
	assert_int_equal(b.source_name_len, sizeof(src));
	assert_memory_equal(b.source_name, src, sizeof(src));
	assert_int_equal(b.current_rat, 3);
	assert_string_equal(b.hlr_number, "4912");
	assert_true(b.freeze_ptmsi);

	/* Section 5.6: the response copies IMSI, class, session (END when
	 * final, CONTINUE for a request), SM-RP-MR, Source -> Destination. */
	gsup_make_response(&req, GSUP_PROC_SS_RES, &m);
	assert_int_equal(m.type, GSUP_PROC_SS_RES);
	assert_string_equal(m.imsi, IMSI1);
	assert_true(m.has_msg_class);
	assert_int_equal(m.msg_class, GSUP_CLASS_USSD);
	assert_true(m.has_session);
	assert_int_equal(m.session_id, 0xdeadbeef);
	assert_int_equal(m.session_state, 3);
	assert_true(m.has_sm_rp_mr);
	assert_int_equal(m.sm_rp_mr, 0x42);
	assert_ptr_equal(m.destination_name, src);
	assert_int_equal(m.destination_name_len, sizeof(src));
	assert_null(m.source_name);
	assert_null(m.ss_info);
	assert_false(m.has_cause);
	gsup_make_response(&req, GSUP_PROC_SS_REQ, &m);
	assert_int_equal(m.session_state, 2);
	gsup_make_response(&req, GSUP_PROC_SS_ERR, &m);
	assert_int_equal(m.session_state, 3);

	uint8_t out[GSUP_MAX_MSG];
	int n = gsup_encode(&m, out, sizeof(out));
	uint8_t want[64];
	size_t wn = unhex("21 |" IMSI1_IE "| 30 04 deadbeef 31 01 03 | 40 01 42 | 0a 01 03 |"
	                  " 61 06 4d53432d3100",
	                  want, sizeof(want));
	assert_int_equal(n, (int)wn);
	assert_memory_equal(out, want, wn);

	/* Without a session in the request, none in the response. */
	req.has_session = false;
	gsup_make_response(&req, GSUP_PROC_SS_RES, &m);
	assert_false(m.has_session);
}

static void test_encode_refuses_bad_fields(void **state)
{
	(void)state;
	struct gsup_msg m;
	uint8_t out[GSUP_MAX_MSG];
	memset(&m, 0, sizeof(m));
	m.type = GSUP_INSERT_DATA_REQ;
	assert_int_equal(gsup_encode(&m, out, sizeof(out)), -EINVAL); /* no IMSI */
	strcpy(m.imsi, "00101000000000a");
	assert_int_equal(gsup_encode(&m, out, sizeof(out)), -EINVAL);
	memset(m.imsi, '1', sizeof(m.imsi)); /* unterminated */
	assert_int_equal(gsup_encode(&m, out, sizeof(out)), -EINVAL);
	strcpy(m.imsi, IMSI1);
	strcpy(m.msisdn, "+49");
	assert_int_equal(gsup_encode(&m, out, sizeof(out)), -EINVAL);
	strcpy(m.msisdn, "49");
	m.n_pdp = 1;
	m.pdp[0].context_id = 1;
	strcpy(m.pdp[0].apn, "a..b");
	assert_int_equal(gsup_encode(&m, out, sizeof(out)), -EINVAL);
	strcpy(m.pdp[0].apn, "internet.");
	assert_int_equal(gsup_encode(&m, out, sizeof(out)), -EINVAL);
	memset(m.pdp[0].apn, 'x', 64);
	m.pdp[0].apn[64] = '\0';
	assert_int_equal(gsup_encode(&m, out, sizeof(out)), -EINVAL);
	m.pdp[0].apn[63] = '\0';
	assert_true(gsup_encode(&m, out, sizeof(out)) > 0);
	m.n_pdp = 0;
	m.n_auth = 1;
	make_tuple(&m.auth[0], 1);
	m.auth[0].res_len = 3;
	assert_int_equal(gsup_encode(&m, out, sizeof(out)), -EINVAL);
	m.auth[0].res_len = 17;
	assert_int_equal(gsup_encode(&m, out, sizeof(out)), -EINVAL);
	m.auth[0].res_len = 4;
	assert_true(gsup_encode(&m, out, sizeof(out)) > 0);
	m.n_auth = GSUP_MAX_AUTH + 1;
	assert_int_equal(gsup_encode(&m, out, sizeof(out)), -EINVAL);
	/* An IE over 255 octets cannot be written. */
	static uint8_t big[300];
	memset(&m, 0, sizeof(m));
	m.type = GSUP_PROC_SS_REQ;
	strcpy(m.imsi, IMSI1);
	m.ss_info = big;
	m.ss_info_len = 256;
	assert_int_equal(gsup_encode(&m, out, sizeof(out)), -EINVAL);
	m.ss_info_len = 255;
	assert_int_equal(gsup_encode(&m, out, sizeof(out)), 1 + 10 + 257);
}

/* ---- malformed input ---- */

static void expect_bad(const char *hex, const char *imsi_after)
{
	uint8_t buf[1024];
	size_t len = unhex(hex, buf, sizeof(buf));
	struct gsup_msg m;
	uint8_t cause = 0;
	assert_int_equal(gsup_decode(buf, len, &m, &cause), -EBADMSG);
	assert_int_equal(cause, GSUP_CAUSE_INV_MAND_INFO);
	assert_string_equal(m.imsi, imsi_after);
}

static void test_malformed_imsi(void **state)
{
	(void)state;
	/* Not first. */
	expect_bad("08 | 28 01 02 |" IMSI1_IE, "");
	/* Missing, empty message, type only. */
	expect_bad("08", "");
	expect_bad("", "");
	expect_bad("08 | 01 00", "");
	/* Too short (5 digits), too long (16 digits, 17 digits). */
	expect_bad("08 | 01 03 21 43 f5", "12345");
	expect_bad("08 | 01 08 00 01 01 00 00 00 00 01", "");
	expect_bad("08 | 01 09 00 01 01 00 00 00 00 01 f1", "");
	/* Non-digit nibbles, filler anywhere but the last high nibble. */
	expect_bad("08 | 01 08 00 01 01 00 00 0a 00 f1", "");
	expect_bad("08 | 01 08 00 01 f1 00 00 00 00 f1", "");
	expect_bad("08 | 01 08 00 01 01 00 00 00 00 1f", "");
	/* 6 and 15 digits are fine. */
	struct gsup_msg m;
	roundtrip_hex("08 | 01 03 21 43 65", &m);
	assert_string_equal(m.imsi, "123456");
	/* The IMSI IE again later is ignored. */
	uint8_t buf[64];
	size_t len = unhex("08 |" IMSI1_IE "| 01 03 21 43 65", buf, sizeof(buf));
	assert_int_equal(gsup_decode(buf, len, &m, NULL), 0);
	assert_string_equal(m.imsi, IMSI1);
}

static void test_malformed_ies(void **state)
{
	(void)state;
	/* Length past the end; a lone tag octet. */
	expect_bad("08 |" IMSI1_IE "| 28 02 02", IMSI1);
	expect_bad("08 |" IMSI1_IE "| 28", IMSI1);
	expect_bad("08 | 01 09 00 01 01 00 00 00 00 f1", "");
	/* Fixed-size IEs with the wrong size. */
	expect_bad("08 |" IMSI1_IE "| 28 00", IMSI1);
	expect_bad("08 |" IMSI1_IE "| 0a 02 01 01", IMSI1);
	expect_bad("08 |" IMSI1_IE "| 26 0d 00000000000000000000000000", IMSI1);
	expect_bad("08 |" IMSI1_IE "| 20 0f 000000000000000000000000000000", IMSI1);
	expect_bad("20 |" IMSI1_IE "| 30 03 000001", IMSI1);
	/* Numbers: inner length disagreeing, non-digits. */
	expect_bad("10 |" IMSI1_IE "| 08 07 07 94 00 00 00 00 f1", IMSI1);
	expect_bad("10 |" IMSI1_IE "| 08 00", IMSI1);
	expect_bad("10 |" IMSI1_IE "| 08 03 02 94 b0", IMSI1);
	expect_bad("30 |" IMSI1_IE "| 50 0a 09 111111111111111111", IMSI1); /* 18 digits */
	/* Auth tuples: 6 of them, RES too short or long, SRES wrong size,
	 * nested IE past the tuple's end. */
	char hex[2048];
	int o = snprintf(hex, sizeof(hex), "0a %s", IMSI1_IE);
	for (int i = 0; i < 6; i++)
		o += snprintf(hex + o, sizeof(hex) - (size_t)o, " 03 06 21 04 01020304");
	expect_bad(hex, IMSI1);
	hex[strlen(hex) - strlen(" 03 06 21 04 01020304")] = '\0';
	struct gsup_msg m;
	uint8_t buf[128];
	size_t len = unhex(hex, buf, sizeof(buf));
	assert_int_equal(gsup_decode(buf, len, &m, NULL), 0);
	assert_int_equal(m.n_auth, 5);
	assert_true(m.auth[4].has_gsm);
	assert_false(m.auth[4].has_umts);
	expect_bad("0a |" IMSI1_IE "| 03 05 27 03 010203", IMSI1);
	expect_bad("0a |" IMSI1_IE "| 03 13 27 11 0102030405060708090a0b0c0d0e0f1011", IMSI1);
	expect_bad("0a |" IMSI1_IE "| 03 05 21 03 010203", IMSI1);
	expect_bad("0a |" IMSI1_IE "| 03 04 21 04 0102", IMSI1);
	expect_bad("0a |" IMSI1_IE "| 03 07 21 04 01020304", IMSI1);
	/* PDP infos: 11 of them, APN label past its end, zero label, bad
	 * context id / type sizes, an APN too long for the text field. */
	o = snprintf(hex, sizeof(hex), "10 %s", IMSI1_IE);
	for (int i = 0; i < 11; i++)
		o += snprintf(hex + o, sizeof(hex) - (size_t)o, " 05 03 10 01 %02x", i + 1);
	expect_bad(hex, IMSI1);
	expect_bad("10 |" IMSI1_IE "| 05 06 12 04 08 69 6e 74", IMSI1);
	expect_bad("10 |" IMSI1_IE "| 05 06 12 04 02 69 6e 00", IMSI1);
	expect_bad("10 |" IMSI1_IE "| 05 05 12 03 01 2e 00", IMSI1);
	expect_bad("10 |" IMSI1_IE "| 05 04 10 02 01 01", IMSI1);
	expect_bad("10 |" IMSI1_IE "| 05 05 11 03 f1 21 00", IMSI1);
	expect_bad("10 |" IMSI1_IE "| 05 06 12 04 02 2a 2e 00", IMSI1);
	o = snprintf(hex, sizeof(hex), "10 %s 05 %02x 12 %02x", IMSI1_IE, 2 + 102, 102);
	for (int i = 0; i < 2; i++) {
		o += snprintf(hex + o, sizeof(hex) - (size_t)o, " 32");
		for (int j = 0; j < 50; j++)
			o += snprintf(hex + o, sizeof(hex) - (size_t)o, " 61");
	}
	expect_bad(hex, IMSI1); /* 101 characters of text */
	/* Unknown IEs, top-level and nested, are skipped. */
	roundtrip_hex("10 |" IMSI1_IE "| 05 07 10 01 01 12 02 01 2a", &m);
	len = unhex("10 |" IMSI1_IE "| 7f 02 0102 | 05 0b 10 01 01 7e 02 aabb 12 02 01 2a"
	            "| 03 04 7d 02 0000 | 29 02 01 02 | 14 00",
	            buf, sizeof(buf));
	assert_int_equal(gsup_decode(buf, len, &m, NULL), 0);
	assert_int_equal(m.n_pdp, 1);
	assert_string_equal(m.pdp[0].apn, "*");
	assert_int_equal(m.n_auth, 1);
	assert_false(m.auth[0].has_gsm);
	assert_false(m.auth[0].has_umts);
	assert_non_null(m.pdp_charging);
	assert_int_equal(m.pdp_charging_len, 0);
}

/* Every prefix of a valid message, in a buffer of exactly that size (so ASan
 * catches any read past it), decodes or fails cleanly. */
static void truncate_all(const uint8_t *msg, size_t len)
{
	for (size_t cut = 0; cut <= len; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);
		memcpy(copy, msg, cut);
		struct gsup_msg m;
		uint8_t cause = 0;
		int rc = gsup_decode(copy, cut, &m, &cause);
		assert_true(rc == 0 || rc == -EBADMSG);
		if (rc == 0) {
			uint8_t out[GSUP_MAX_MSG];
			assert_true(gsup_encode(&m, out, sizeof(out)) > 0);
		} else {
			assert_int_equal(cause, GSUP_CAUSE_INV_MAND_INFO);
		}
		free(copy);
	}
}

static void test_truncation(void **state)
{
	(void)state;
	struct gsup_msg m;
	uint8_t out[GSUP_MAX_MSG];
	int n;

	memset(&m, 0, sizeof(m));
	m.type = GSUP_SEND_AUTH_INFO_RES;
	strcpy(m.imsi, IMSI1);
	for (unsigned i = 0; i < GSUP_MAX_AUTH; i++)
		make_tuple(&m.auth[i], (uint8_t)i);
	m.n_auth = GSUP_MAX_AUTH;
	m.has_msg_class = true;
	m.msg_class = 1;
	n = gsup_encode(&m, out, sizeof(out));
	assert_true(n > 0);
	truncate_all(out, (size_t)n);

	memset(&m, 0, sizeof(m));
	m.type = GSUP_INSERT_DATA_REQ;
	strcpy(m.imsi, IMSI1);
	strcpy(m.msisdn, "49000000001");
	m.pdp_info_complete = true;
	m.n_pdp = 2;
	m.pdp[0].context_id = 1;
	strcpy(m.pdp[0].apn, "intranet.example");
	m.pdp[1].context_id = 2;
	strcpy(m.pdp[1].apn, "internet");
	m.has_cn_domain = true;
	m.cn_domain = 1;
	strcpy(m.imei, "35693803564380");
	m.has_session = true;
	m.session_id = 7;
	m.session_state = 2;
	n = gsup_encode(&m, out, sizeof(out));
	assert_true(n > 0);
	truncate_all(out, (size_t)n);
}

static void test_type_names(void **state)
{
	(void)state;
	const uint8_t all[] = {
	    0x04, 0x05, 0x06, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x10, 0x11,
	    0x12, 0x14, 0x15, 0x16, 0x1c, 0x1d, 0x1e, 0x20, 0x21, 0x22, 0x24, 0x25,
	    0x26, 0x28, 0x29, 0x2a, 0x2c, 0x2d, 0x2e, 0x30, 0x31, 0x32,
	};
	for (size_t i = 0; i < sizeof(all); i++) {
		const char *name = gsup_type_name(all[i]);
		assert_non_null(name);
		assert_string_not_equal(name, "unknown");
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(name, gsup_type_name(all[j]));
	}
	assert_string_equal(gsup_type_name(GSUP_SEND_AUTH_INFO_REQ), "SendAuthInfo-Request");
	assert_string_equal(gsup_type_name(0x00), "unknown");
	assert_string_equal(gsup_type_name(0xff), "unknown");
}

/* ---- SMS over GSUP (TS 29.002 7.6.8, libosmogsm gsup.h/gsup_sms.h) ---- */

/* An SMS-SUBMIT (TS 23.040 9.2.2.2): TP-MR 0x2a, TP-DA +85019120000002,
 * GSM 7-bit "hi". */
#define SUBMIT_HI "01 2a 0e 91 5810190200 0020 00 00 02 e834"
/* SM-RP-DA IMSI 001010000000001 (type 01, TBCD); SMSC +8501900000 (type
 * 03, TON/NPI 91, BCD); SM-RP-OA MSISDN +85019120000001 (type 02). */
#define DA_IMSI   "41 09 01 00 01 01 00 00 00 00 f1"
#define SMSC_ADDR "03 91 58 10 09 00 00"
#define OA_MSISDN "42 09 02 91 58 10 19 02 00 00 10"

static void test_sms_vectors(void **state)
{
	(void)state;
	struct gsup_msg m;

	/* MO-Forward-SM as osmo-msc sends it: MR, DA = SMSC, OA = MSISDN, UI. */
	roundtrip_hex("24 |" IMSI1_IE "| 40 01 05 | 41 07 " SMSC_ADDR " |" OA_MSISDN
	              "| 43 10 " SUBMIT_HI " | 0a 01 02",
	              &m);
	assert_int_equal(m.type, GSUP_MO_FORWARD_SM_REQ);
	assert_true(m.has_sm_rp_mr);
	assert_int_equal(m.sm_rp_mr, 5);
	assert_int_equal(m.sm_rp_da_len, 7);
	assert_int_equal(m.sm_rp_da[0], GSUP_SM_RP_ID_SMSC);
	assert_int_equal(m.sm_rp_oa[0], GSUP_SM_RP_ID_MSISDN);
	assert_int_equal(m.sm_rp_ui_len, 16);
	assert_int_equal(m.sm_rp_ui[1], 0x2a);
	assert_false(m.has_sm_rp_cause);
	assert_false(m.has_sm_rp_mms);
	assert_false(m.has_sm_alert_reason);
	assert_int_equal(m.msg_class, GSUP_CLASS_SMS);

	/* Its error: MR echoed, SM-RP-Cause 0x60 (96, invalid mandatory
	 * information), in libosmogsm's order: MMS, cause, alert after UI. */
	struct gsup_msg err;
	gsup_make_response(&m, GSUP_MO_FORWARD_SM_ERR, &err);
	err.has_sm_rp_cause = true;
	err.sm_rp_cause = 96;
	uint8_t want[128];
	size_t wn = unhex("25 |" IMSI1_IE "| 40 01 05 | 44 01 60 | 0a 01 02", want, sizeof(want));
	assert_encodes_to(&err, want, wn);
	roundtrip_hex("25 |" IMSI1_IE "| 40 01 05 | 44 01 60 | 0a 01 02", &m);
	assert_true(m.has_sm_rp_cause);
	assert_int_equal(m.sm_rp_cause, 96);

	/* MT-Forward-SM as koryod sends it: DA = IMSI, OA = SMSC, UI, MMS. */
	struct gsup_msg mt;
	uint8_t da[16], oa[16];
	memset(&mt, 0, sizeof(mt));
	mt.type = GSUP_MT_FORWARD_SM_REQ;
	strcpy(mt.imsi, IMSI1);
	mt.has_sm_rp_mr = true;
	mt.sm_rp_mr = 7;
	int dn = gsup_sm_rp_id_build(GSUP_SM_RP_ID_IMSI, 0, IMSI1, da, sizeof(da));
	assert_int_equal(dn, 9);
	int on = gsup_sm_rp_id_build(GSUP_SM_RP_ID_SMSC, 0x91, "8501900000", oa, sizeof(oa));
	assert_int_equal(on, 7);
	mt.sm_rp_da = da;
	mt.sm_rp_da_len = (size_t)dn;
	mt.sm_rp_oa = oa;
	mt.sm_rp_oa_len = (size_t)on;
	const uint8_t ui[] = {0x04, 0x0b, 0x91, 0x58};
	mt.sm_rp_ui = ui;
	mt.sm_rp_ui_len = sizeof(ui);
	mt.has_sm_rp_mms = true;
	mt.sm_rp_mms = 1;
	mt.has_msg_class = true;
	mt.msg_class = GSUP_CLASS_SMS;
	wn = unhex("28 |" IMSI1_IE "| 40 01 07 |" DA_IMSI "| 42 07 " SMSC_ADDR
	           "| 43 04 040b9158 | 45 01 01 | 0a 01 02",
	           want, sizeof(want));
	assert_encodes_to(&mt, want, wn);
	roundtrip_hex("28 |" IMSI1_IE "| 40 01 07 |" DA_IMSI "| 42 07 " SMSC_ADDR
	              "| 43 04 040b9158 | 45 01 01 | 0a 01 02",
	              &m);
	assert_true(m.has_sm_rp_mms);
	assert_int_equal(m.sm_rp_mms, 1);

	/* ReadyForSM (RP-SMMA): alert reason 2, memory available. */
	roundtrip_hex("2c |" IMSI1_IE "| 40 01 03 | 46 01 02 | 0a 01 02", &m);
	assert_true(m.has_sm_alert_reason);
	assert_int_equal(m.sm_alert_reason, GSUP_SM_ALERT_MEMORY_AVAILABLE);
	/* MT-Forward-SM error from an MSC: RP cause 22, memory exceeded. */
	roundtrip_hex("29 |" IMSI1_IE "| 40 01 09 | 44 01 16 | 0a 01 02", &m);
	assert_int_equal(m.sm_rp_cause, 22);
	/* noSM-RP-DA / noSM-RP-OA: the type octet alone. */
	roundtrip_hex("24 |" IMSI1_IE "| 41 01 ff | 42 01 ff", &m);
	assert_int_equal(m.sm_rp_da_len, 1);

	/* Malformed SMS IEs: wrong sizes, unknown identity types, an identity
	 * missing, or one where none may be. */
	expect_bad("29 |" IMSI1_IE "| 44 02 16 00", IMSI1);
	expect_bad("29 |" IMSI1_IE "| 44 00", IMSI1);
	expect_bad("28 |" IMSI1_IE "| 45 00", IMSI1);
	expect_bad("2c |" IMSI1_IE "| 46 02 0102", IMSI1);
	expect_bad("24 |" IMSI1_IE "| 41 00", IMSI1);
	expect_bad("24 |" IMSI1_IE "| 41 01 01", IMSI1);
	expect_bad("24 |" IMSI1_IE "| 41 01 03", IMSI1);
	expect_bad("24 |" IMSI1_IE "| 42 02 ff 00", IMSI1);
	expect_bad("24 |" IMSI1_IE "| 42 03 07 91 58", IMSI1);
	expect_bad("24 |" IMSI1_IE "| 42 03 00 91 58", IMSI1);

	/* The identity builder. */
	uint8_t v[16];
	assert_int_equal(gsup_sm_rp_id_build(GSUP_SM_RP_ID_NONE, 0, NULL, v, sizeof(v)), 1);
	assert_int_equal(v[0], 0xff);
	assert_int_equal(
	    gsup_sm_rp_id_build(GSUP_SM_RP_ID_MSISDN, 0x91, "85019120000001", v, sizeof(v)), 9);
	uint8_t want_oa[16];
	size_t won = unhex("02 91 58 10 19 02 00 00 10", want_oa, sizeof(want_oa));
	assert_memory_equal(v, want_oa, won);
	assert_int_equal(gsup_sm_rp_id_build(GSUP_SM_RP_ID_SMSC, 0x91, "", v, sizeof(v)), -EINVAL);
	assert_int_equal(gsup_sm_rp_id_build(GSUP_SM_RP_ID_SMSC, 0x91, "85a", v, sizeof(v)),
	                 -EINVAL);
	assert_int_equal(
	    gsup_sm_rp_id_build(GSUP_SM_RP_ID_IMSI, 0, "0010100000000012", v, sizeof(v)), -EINVAL);
	assert_int_equal(gsup_sm_rp_id_build(0x07, 0, "1", v, sizeof(v)), -EINVAL);
	assert_int_equal(gsup_sm_rp_id_build(GSUP_SM_RP_ID_SMSC, 0x91, "8501900000", v, 6),
	                 -EMSGSIZE);
	assert_int_equal(
	    gsup_sm_rp_id_build(GSUP_SM_RP_ID_SMSC, 0x91, "123456789012345678901", v, sizeof(v)),
	    -EINVAL);
}

/* ---- comparison with libosmogsm ---- */

#ifdef KORYO_HAVE_LIBOSMOGSM
#include <osmocom/core/msgb.h>
#include <osmocom/gsm/apn.h>
#include <osmocom/gsm/gsup.h>

/* [n][TBCD] the way a libosmogsm user fills msisdn_enc / imei_enc. */
static size_t lv_number(const char *digits, uint8_t *out)
{
	size_t n = strlen(digits);
	for (size_t i = 0; i < n; i++) {
		uint8_t d = (uint8_t)(digits[i] - '0');
		if (i % 2 == 0)
			out[1 + i / 2] = 0xf0 | d;
		else
			out[1 + i / 2] = (uint8_t)((out[1 + i / 2] & 0x0f) | d << 4);
	}
	out[0] = (uint8_t)((n + 1) / 2);
	return 1 + out[0];
}

struct osmo_scratch {
	uint8_t msisdn[10], hlr[10], imei[10];
	uint8_t apn[GSUP_MAX_PDP][128];
};

/* The libosmogsm message that should encode to the same octets as m (the
 * fields of m chosen so that libosmogsm 1.7 can express them: non-zero
 * causes, classes and alert reasons, no 0x52). */
static void to_osmo(const struct gsup_msg *m, struct osmo_gsup_message *o, struct osmo_scratch *s)
{
	memset(o, 0, sizeof(*o));
	o->message_type = m->type;
	strcpy(o->imsi, m->imsi);
	if (m->msisdn[0]) {
		o->msisdn_enc = s->msisdn;
		o->msisdn_enc_len = lv_number(m->msisdn, s->msisdn);
	}
	if (m->hlr_number[0]) {
		o->hlr_enc = s->hlr;
		o->hlr_enc_len = lv_number(m->hlr_number, s->hlr);
	}
	if (m->has_cause)
		o->cause = m->cause;
	if (m->has_cancel_type)
		o->cancel_type = m->cancel_type + 1;
	o->pdp_info_compl = m->pdp_info_complete;
	o->freeze_ptmsi = m->freeze_ptmsi;
	for (unsigned i = 0; i < m->n_pdp; i++) {
		struct osmo_gsup_pdp_info *p = &o->pdp_infos[i];
		p->have_info = 1;
		p->context_id = m->pdp[i].context_id;
		if (m->pdp[i].has_pdp_type)
			p->pdp_type = m->pdp[i].pdp_type & 0x0fff;
		if (m->pdp[i].apn[0]) {
			int n = osmo_apn_from_str(s->apn[i], sizeof(s->apn[i]), m->pdp[i].apn);
			assert_true(n > 0);
			p->apn_enc = s->apn[i];
			p->apn_enc_len = (size_t)n;
		}
		if (m->pdp[i].qos) {
			p->qos_enc = m->pdp[i].qos;
			p->qos_enc_len = m->pdp[i].qos_len;
		}
	}
	o->num_pdp_infos = m->n_pdp;
	for (unsigned i = 0; i < m->n_auth; i++) {
		const struct gsup_auth_tuple *t = &m->auth[i];
		struct osmo_auth_vector *v = &o->auth_vectors[i];
		if (t->has_gsm)
			v->auth_types |= OSMO_AUTH_TYPE_GSM;
		if (t->has_umts)
			v->auth_types |= OSMO_AUTH_TYPE_UMTS;
		memcpy(v->rand, t->rand, 16);
		memcpy(v->sres, t->sres, 4);
		memcpy(v->kc, t->kc, 8);
		memcpy(v->ik, t->ik, 16);
		memcpy(v->ck, t->ck, 16);
		memcpy(v->autn, t->autn, 16);
		memcpy(v->res, t->res, t->res_len);
		v->res_len = t->res_len;
	}
	o->num_auth_vectors = m->n_auth;
	if (m->type == GSUP_SEND_AUTH_INFO_REQ) /* 0x52 instead of tuples */
		o->num_auth_vectors = m->has_num_vectors ? m->num_vectors : 0;
	if (m->has_auts)
		o->auts = m->auts;
	if (m->has_rand)
		o->rand = m->rand;
	if (m->has_cn_domain)
		o->cn_domain = m->cn_domain;
	if (m->pdp_charging) {
		o->pdp_charg_enc = m->pdp_charging;
		o->pdp_charg_enc_len = m->pdp_charging_len;
	}
	if (m->has_session) {
		o->session_state = m->session_state;
		o->session_id = m->session_id;
	}
	if (m->ss_info) {
		o->ss_info = (uint8_t *)m->ss_info;
		o->ss_info_len = m->ss_info_len;
	}
	if (m->has_sm_rp_mr)
		o->sm_rp_mr = &m->sm_rp_mr;
	if (m->sm_rp_da) {
		o->sm_rp_da_type = m->sm_rp_da[0];
		o->sm_rp_da = m->sm_rp_da_len > 1 ? m->sm_rp_da + 1 : NULL;
		o->sm_rp_da_len = m->sm_rp_da_len - 1;
	}
	if (m->sm_rp_oa) {
		o->sm_rp_oa_type = m->sm_rp_oa[0];
		o->sm_rp_oa = m->sm_rp_oa_len > 1 ? m->sm_rp_oa + 1 : NULL;
		o->sm_rp_oa_len = m->sm_rp_oa_len - 1;
	}
	if (m->sm_rp_ui) {
		o->sm_rp_ui = m->sm_rp_ui;
		o->sm_rp_ui_len = m->sm_rp_ui_len;
	}
	if (m->has_sm_rp_cause)
		o->sm_rp_cause = &m->sm_rp_cause;
	if (m->has_sm_rp_mms)
		o->sm_rp_mms = &m->sm_rp_mms;
	if (m->has_sm_alert_reason)
		o->sm_alert_rsn = m->sm_alert_reason;
	if (m->imei[0]) {
		o->imei_enc = s->imei;
		o->imei_enc_len = lv_number(m->imei, s->imei);
	}
	if (m->has_imei_result)
		o->imei_result = m->imei_result + 1;
	if (m->has_msg_class)
		o->message_class = m->msg_class;
	if (m->source_name) {
		o->source_name = m->source_name;
		o->source_name_len = m->source_name_len;
	}
	if (m->destination_name) {
		o->destination_name = m->destination_name;
		o->destination_name_len = m->destination_name_len;
	}
	if (m->has_current_rat)
		o->current_rat_type = m->current_rat;
}

static void compare_with_osmo(const struct gsup_msg *m)
{
	struct osmo_gsup_message o, od;
	struct osmo_scratch s;
	to_osmo(m, &o, &s);
	struct msgb *msg = msgb_alloc(4096, "gsup-compare");
	assert_non_null(msg);
	assert_int_equal(osmo_gsup_encode(msg, &o), 0);
	uint8_t out[4096];
	int n = gsup_encode(m, out, sizeof(out));
	if (n != (int)msgb_length(msg) || memcmp(out, msgb_data(msg), (size_t)n) != 0) {
		fprintf(stderr, "ours:      %s\nlibosmogsm: %s\n", osmo_hexdump(out, n),
		        msgb_hexdump(msg));
		msgb_free(msg);
		fail_msg("encodings differ for type 0x%02x", m->type);
	}
	/* libosmogsm decodes what we wrote, to the same values. */
	assert_int_equal(osmo_gsup_decode(out, (size_t)n, &od), 0);
	assert_int_equal(od.message_type, m->type);
	assert_string_equal(od.imsi, m->imsi);
	if (m->type != GSUP_SEND_AUTH_INFO_REQ)
		assert_int_equal(od.num_auth_vectors, m->n_auth);
	assert_int_equal(od.num_pdp_infos, m->n_pdp);
	for (unsigned i = 0; i < m->n_pdp; i++) {
		char apn[128] = "";
		if (od.pdp_infos[i].apn_enc)
			osmo_apn_to_str(apn, od.pdp_infos[i].apn_enc, od.pdp_infos[i].apn_enc_len);
		assert_string_equal(apn, m->pdp[i].apn);
	}
	if (m->has_cancel_type)
		assert_int_equal(od.cancel_type, m->cancel_type + 1);
	if (m->has_imei_result)
		assert_int_equal(od.imei_result, m->imei_result + 1);
	if (m->has_sm_rp_cause)
		assert_int_equal(*od.sm_rp_cause, m->sm_rp_cause);
	if (m->has_sm_rp_mms)
		assert_int_equal(*od.sm_rp_mms, m->sm_rp_mms);
	if (m->has_sm_alert_reason)
		assert_int_equal(od.sm_alert_rsn, m->sm_alert_reason);
	if (m->sm_rp_da) {
		assert_int_equal(od.sm_rp_da_type, m->sm_rp_da[0]);
		assert_int_equal(od.sm_rp_da_len, m->sm_rp_da_len - 1);
	}
	if (m->sm_rp_oa) {
		assert_int_equal(od.sm_rp_oa_type, m->sm_rp_oa[0]);
		assert_int_equal(od.sm_rp_oa_len, m->sm_rp_oa_len - 1);
	}
	msgb_free(msg);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(uint32_t bound)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % bound);
}

static void rnd_digits(char *out, size_t min, size_t max)
{
	size_t n = min + rnd((uint32_t)(max - min + 1));
	for (size_t i = 0; i < n; i++)
		out[i] = (char)('0' + rnd(10));
	out[n] = '\0';
}

static void rnd_apn(char *out)
{
	static const char *labels[] = {"*",      "internet", "intranet", "mnc001",
	                               "mcc262", "gprs",     "a-b",      "x"};
	size_t n = 1 + rnd(4), o = 0;
	for (size_t i = 0; i < n; i++) {
		const char *l = labels[rnd(8)];
		if (i)
			out[o++] = '.';
		strcpy(out + o, l);
		o += strlen(l);
	}
}

static void test_libosmogsm_fixed(void **state)
{
	(void)state;
	static const char *captures[] = {
	    "08 |" IMSI1_IE "| 28 01 02 | 0a 01 01",
	    "0a |" IMSI1_IE "| 03 62 20 10 00112233445566778899aabbccddeeff 21 04 01020304"
	    " 22 08 1112131415161718 23 10 20212223242526272829202122232425"
	    " 24 10 30313233343536373839303132333435 25 10 40414243444546474849404142434445"
	    " 27 08 5152535455565758 | 0a 01 01",
	    "09 | 01 08 99990900000000f1 | 02 01 02 | 0a 01 01",
	    "04 |" IMSI1_IE "| 28 01 02 | 0a 01 01",
	    "10 |" IMSI1_IE "|" MSISDN_IE "| 28 01 02 | 0a 01 01",
	    "10 |" IMSI1_IE "|" MSISDN_IE "| 05 07 10 01 01 12 02 01 2a | 28 01 01",
	    "12 |" IMSI1_IE "| 28 01 01",
	    "06 |" IMSI1_IE,
	    "05 |" IMSI1_IE "| 02 01 11 | 0a 01 01",
	    "0c |" IMSI1_IE "| 28 01 02 | 0a 01 01",
	    "0e |" IMSI1_IE "| 0a 01 01",
	    "30 |" IMSI1_IE "| 50 08 07 53968330653408 | 0a 01 01",
	    "32 |" IMSI1_IE "| 51 01 00 | 0a 01 01",
	    "08 |" IMSI1_IE "| 26 0e a0a1a2a3a4a5a6a7a8a9aaabacad 20 10 "
	    "b0b1b2b3b4b5b6b7b8b9babbbcbdbebf 28 01 02 0a 01 01",
	    "24 |" IMSI1_IE "| 40 01 05 | 41 07 " SMSC_ADDR " |" OA_MSISDN "| 43 10 " SUBMIT_HI
	    " | 0a 01 02",
	    "25 |" IMSI1_IE "| 40 01 05 | 44 01 60 | 0a 01 02",
	    "28 |" IMSI1_IE "| 40 01 07 |" DA_IMSI "| 42 07 " SMSC_ADDR
	    "| 43 04 040b9158 | 45 01 01 | 0a 01 02",
	    "2a |" IMSI1_IE "| 40 01 07 | 0a 01 02",
	    "2c |" IMSI1_IE "| 40 01 03 | 46 01 02 | 0a 01 02",
	};
	for (size_t i = 0; i < sizeof(captures) / sizeof(captures[0]); i++) {
		struct gsup_msg m;
		roundtrip_hex(captures[i], &m);
		compare_with_osmo(&m);
	}
}

static void test_libosmogsm_random(void **state)
{
	(void)state;
	static uint8_t blob[4][255];
	for (int b = 0; b < 4; b++)
		fill(blob[b], sizeof(blob[b]), (uint8_t)(b * 31));
	for (int iter = 0; iter < 3000; iter++) {
		struct gsup_msg m;
		memset(&m, 0, sizeof(m));
		m.type = (uint8_t)(1 + rnd(0x4f));
		rnd_digits(m.imsi, 6, 15);
		if (rnd(3) == 0)
			rnd_digits(m.msisdn, 1, 16);
		if (rnd(5) == 0)
			rnd_digits(m.hlr_number, 1, 16);
		if ((m.has_cause = rnd(4) == 0))
			m.cause = (uint8_t)(1 + rnd(255));
		if ((m.has_cancel_type = rnd(6) == 0))
			m.cancel_type = (uint8_t)rnd(2);
		m.pdp_info_complete = rnd(5) == 0;
		m.freeze_ptmsi = rnd(8) == 0;
		m.n_pdp = rnd(4) == 0 ? rnd(GSUP_MAX_PDP + 1) : 0;
		for (unsigned i = 0; i < m.n_pdp; i++) {
			m.pdp[i].context_id = (uint8_t)(1 + rnd(15));
			if ((m.pdp[i].has_pdp_type = rnd(2)))
				m.pdp[i].pdp_type = (uint16_t)(0xf000 | (1 + rnd(0xfff)));
			if (rnd(4))
				rnd_apn(m.pdp[i].apn);
			if (rnd(3) == 0) {
				m.pdp[i].qos = blob[1];
				m.pdp[i].qos_len = (uint8_t)rnd(20);
			}
		}
		m.n_auth = rnd(3) == 0 ? rnd(GSUP_MAX_AUTH + 1) : 0;
		for (unsigned i = 0; i < m.n_auth; i++) {
			make_tuple(&m.auth[i], (uint8_t)rnd(256));
			unsigned k = rnd(3);
			m.auth[i].has_gsm = k != 1;
			m.auth[i].has_umts = k != 0;
			m.auth[i].res_len = (uint8_t)(4 + rnd(13));
		}
		if (m.type == GSUP_SEND_AUTH_INFO_REQ && (m.has_num_vectors = rnd(2)))
			m.num_vectors = (uint8_t)(1 + rnd(GSUP_MAX_AUTH));
		if ((m.has_auts = rnd(8) == 0))
			fill(m.auts, 14, (uint8_t)rnd(256));
		if ((m.has_rand = rnd(8) == 0))
			fill(m.rand, 16, (uint8_t)rnd(256));
		if ((m.has_cn_domain = rnd(2) == 0))
			m.cn_domain = (uint8_t)(1 + rnd(2));
		if (rnd(8) == 0) {
			m.pdp_charging = blob[2];
			m.pdp_charging_len = rnd(4);
		}
		if ((m.has_session = rnd(6) == 0)) {
			m.session_id = (uint32_t)rnd(0xffffffffu);
			m.session_state = (uint8_t)(1 + rnd(3));
		}
		if (rnd(6) == 0) {
			m.ss_info = blob[0];
			m.ss_info_len = rnd(200);
		}
		if ((m.has_sm_rp_mr = rnd(8) == 0))
			m.sm_rp_mr = (uint8_t)rnd(256);
		if (rnd(8) == 0) {
			m.sm_rp_ui = blob[3];
			m.sm_rp_ui_len = rnd(160);
		}
		/* SM-RP-DA/OA: a type octet, then 1..12 octets, or "none". */
		static const uint8_t id_types[] = {GSUP_SM_RP_ID_IMSI, GSUP_SM_RP_ID_MSISDN,
		                                   GSUP_SM_RP_ID_SMSC, GSUP_SM_RP_ID_NONE};
		static uint8_t da[13], oa[13];
		if (rnd(8) == 0) {
			da[0] = id_types[rnd(4)];
			fill(da + 1, 12, (uint8_t)rnd(256));
			m.sm_rp_da = da;
			m.sm_rp_da_len = da[0] == GSUP_SM_RP_ID_NONE ? 1 : 2 + rnd(12);
		}
		if (rnd(8) == 0) {
			oa[0] = id_types[1 + rnd(3)];
			fill(oa + 1, 12, (uint8_t)rnd(256));
			m.sm_rp_oa = oa;
			m.sm_rp_oa_len = oa[0] == GSUP_SM_RP_ID_NONE ? 1 : 2 + rnd(12);
		}
		if ((m.has_sm_rp_cause = rnd(8) == 0))
			m.sm_rp_cause = (uint8_t)rnd(128);
		if ((m.has_sm_rp_mms = rnd(8) == 0))
			m.sm_rp_mms = (uint8_t)rnd(2);
		if ((m.has_sm_alert_reason = rnd(8) == 0))
			m.sm_alert_reason = (uint8_t)(1 + rnd(2));
		if (rnd(6) == 0)
			rnd_digits(m.imei, 14, 16);
		if ((m.has_imei_result = rnd(6) == 0))
			m.imei_result = (uint8_t)rnd(2);
		if ((m.has_msg_class = rnd(2) == 0))
			m.msg_class = (uint8_t)(1 + rnd(4));
		if (rnd(6) == 0) {
			m.source_name = (const uint8_t *)"MSC-A";
			m.source_name_len = 6;
		}
		if (rnd(6) == 0) {
			m.destination_name = (const uint8_t *)"EUSE-x";
			m.destination_name_len = 7;
		}
		if ((m.has_current_rat = rnd(4) == 0))
			m.current_rat = (uint8_t)(1 + rnd(3));
		compare_with_osmo(&m);
		/* And our decoder reads it back to the same octets. */
		struct gsup_msg b;
		uint8_t out[4096], out2[4096];
		int n = gsup_encode(&m, out, sizeof(out));
		assert_int_equal(gsup_decode(out, (size_t)n, &b, NULL), 0);
		assert_int_equal(gsup_encode(&b, out2, sizeof(out2)), n);
		assert_memory_equal(out, out2, (size_t)n);
	}
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_capture_sai_req),
	    cmocka_unit_test(test_capture_sai_resync),
	    cmocka_unit_test(test_capture_sai_result),
	    cmocka_unit_test(test_capture_sai_error),
	    cmocka_unit_test(test_capture_ul_cs),
	    cmocka_unit_test(test_capture_ul_ps),
	    cmocka_unit_test(test_capture_ul_error),
	    cmocka_unit_test(test_capture_purge_and_check_imei),
	    cmocka_unit_test(test_capture_short_imsi),
	    cmocka_unit_test(test_roundtrip_sai_result_5),
	    cmocka_unit_test(test_roundtrip_isd_pdp),
	    cmocka_unit_test(test_roundtrip_other_results),
	    cmocka_unit_test(test_roundtrip_session_sms_names),
	    cmocka_unit_test(test_encode_refuses_bad_fields),
	    cmocka_unit_test(test_malformed_imsi),
	    cmocka_unit_test(test_malformed_ies),
	    cmocka_unit_test(test_truncation),
	    cmocka_unit_test(test_type_names),
	    cmocka_unit_test(test_sms_vectors),
#ifdef KORYO_HAVE_LIBOSMOGSM
	    cmocka_unit_test(test_libosmogsm_fixed),
	    cmocka_unit_test(test_libosmogsm_random),
#endif
	};
	return cmocka_run_group_tests_name("gsup", tests, NULL, NULL);
}
