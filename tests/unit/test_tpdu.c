/*
 * SMS codec: every published PDU of sms_pdus.tsv (SMSC address + TPDU, as
 * modems and the python-gsmmodem, python-messaging, AOSP and LuatOS tests
 * write them) decoded with each field the row gives checked, and re-encoded
 * byte for byte; then Hangul and concatenation (split, reassembled in and
 * out of order), the GSM 7-bit extension table, RP messages, and malformed
 * input refused with the right error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sms/gsm7.h"
#include "sms/rp.h"
#include "sms/segment.h"
#include "sms/sms_err.h"
#include "sms/tpdu.h"
#include "sms/ucs2.h"

enum col {
	C_KIND,
	C_PDU,
	C_SMSC,
	C_ADDR,
	C_TOA,
	C_FO,
	C_MR,
	C_PID,
	C_DCS,
	C_TIME,
	C_UDL,
	C_UDH,
	C_UDH_DEC,
	C_TEXT,
	C_TEXT_HEX,
	C_PAYLOAD,
	C_SOURCE,
	N_COLS
};

struct row {
	char *f[N_COLS];
};

#define MAX_ROWS 64
static struct row rows[MAX_ROWS];
static size_t n_rows;
static char *tsv;

static int load_rows(void **state)
{
	(void)state;
	FILE *fp = fopen(SMS_PDUS_TSV, "rb");
	if (!fp)
		return -1;
	fseek(fp, 0, SEEK_END);
	long n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	tsv = malloc((size_t)n + 1);
	if (!tsv || fread(tsv, 1, (size_t)n, fp) != (size_t)n)
		return -1;
	fclose(fp);
	tsv[n] = '\0';
	char *line = strchr(tsv, '\n'); /* skip the header row */
	while (line && *++line && n_rows < MAX_ROWS) {
		char *end = strchr(line, '\n');
		if (end)
			*end = '\0';
		struct row *r = &rows[n_rows];
		char *p = line;
		for (int c = 0; c < N_COLS; c++) {
			r->f[c] = p;
			char *tab = p ? strchr(p, '\t') : NULL;
			if (tab)
				*tab = '\0';
			p = tab ? tab + 1 : NULL;
			if (!r->f[c])
				return -1;
		}
		n_rows++;
		line = end;
	}
	return n_rows > 0 ? 0 : -1;
}

static int free_rows(void **state)
{
	(void)state;
	free(tsv);
	return 0;
}

static size_t unhex(const char *h, uint8_t *out, size_t cap)
{
	size_t n = strlen(h) / 2;
	assert_true(n <= cap);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		assert_int_equal(sscanf(h + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

static void tohex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
	out[2 * n] = '\0';
}

static void fmt_ts(const struct sms_ts *ts, char *out, size_t cap)
{
	int q = ts->tz_quarters < 0 ? -ts->tz_quarters : ts->tz_quarters;
	snprintf(out, cap, "%02u-%02u-%02u %02u:%02u:%02u %c%02d:%02d", ts->year, ts->month,
	         ts->day, ts->hour, ts->minute, ts->second, ts->tz_quarters < 0 ? '-' : '+', q / 4,
	         q % 4 * 15);
}

/* The row's udh_decoded form of the elements, in the order sent. */
static void fmt_udh(const struct sms_udh *u, char *out, size_t cap)
{
	size_t n = 0;
	out[0] = '\0';
	for (size_t p = 0; p + 2 <= u->len; p += 2 + u->ies[p + 1]) {
		const uint8_t *d = u->ies + p + 2;
		const char *sep = n ? " " : "";
		switch (u->ies[p]) {
		case 0x00:
			n += (size_t)snprintf(out + n, cap - n, "%sconcat8(ref=%u,total=%u,seq=%u)",
			                      sep, d[0], d[1], d[2]);
			break;
		case 0x08:
			n +=
			    (size_t)snprintf(out + n, cap - n, "%sconcat16(ref=%u,total=%u,seq=%u)",
			                     sep, d[0] << 8 | d[1], d[2], d[3]);
			break;
		case 0x05:
			n += (size_t)snprintf(out + n, cap - n, "%sport16(dest=%u,orig=%u)", sep,
			                      d[0] << 8 | d[1], d[2] << 8 | d[3]);
			break;
		default:
			n += (size_t)snprintf(out + n, cap - n, "%siei%02x", sep, u->ies[p]);
		}
	}
}

#define assert_field(row, col, got)                                                                \
	do {                                                                                       \
		if (strcmp((got), (row)->f[col]) != 0)                                             \
			fail_msg("row %zu (%s) column %d: got '%s', want '%s'", ri,                \
			         (row)->f[C_SOURCE], col, (got), (row)->f[col]);                   \
	} while (0)

/* Decodes row ri; returns the SMSC prefix length. */
static size_t decode_row(size_t ri, const uint8_t *pdu, size_t n, struct sms_addr *smsc,
                         struct sms_tpdu *t)
{
	const struct row *r = &rows[ri];
	int off = sms_rp_addr_decode(pdu, n, smsc);
	assert_true(off > 0);
	enum sms_dir dir = strcmp(r->f[C_KIND], "SMS-SUBMIT") == 0 ? SMS_DIR_MO : SMS_DIR_MT;
	int rc = sms_tpdu_decode(pdu + off, n - (size_t)off, dir, t);
	if (rc != 0)
		fail_msg("row %zu: decode failed: %s", ri, sms_strerror(rc));
	return (size_t)off;
}

static void test_published_pdus(void **state)
{
	(void)state;
	static uint8_t pdu[512], out[512];
	static char got[2048], want_hex[2048];
	for (size_t ri = 0; ri < n_rows; ri++) {
		const struct row *r = &rows[ri];
		size_t n = unhex(r->f[C_PDU], pdu, sizeof(pdu));
		struct sms_addr smsc;
		struct sms_tpdu t;
		size_t off = decode_row(ri, pdu, n, &smsc, &t);
		enum sms_tpdu_type want_type = strcmp(r->f[C_KIND], "SMS-SUBMIT") == 0 ? SMS_SUBMIT
		                               : strcmp(r->f[C_KIND], "SMS-DELIVER") == 0
		                                   ? SMS_DELIVER
		                                   : SMS_STATUS_REPORT;
		assert_int_equal(t.type, want_type);
		assert_field(r, C_SMSC, smsc.value);
		assert_field(r, C_ADDR, t.addr.value);
		snprintf(got, sizeof(got), "%02x", t.addr.toa);
		assert_true(strncmp(r->f[C_TOA], got, 2) == 0);
		snprintf(got, sizeof(got), "%02x", t.first_octet);
		assert_true(strncmp(r->f[C_FO], got, 2) == 0);
		/* The flags the row names after the octet. */
		assert_int_equal(t.udhi, strstr(r->f[C_FO], "UDHI") != NULL);
		if (t.type == SMS_SUBMIT) {
			assert_int_equal(t.reject_duplicates, strstr(r->f[C_FO], "RD") != NULL);
			assert_int_equal(t.status_report, strstr(r->f[C_FO], "SRR") != NULL);
		} else if (t.type == SMS_DELIVER) {
			assert_int_equal(t.status_report, strstr(r->f[C_FO], "SRI") != NULL);
			assert_false(t.more_messages);
		}
		if (r->f[C_MR][0]) {
			snprintf(got, sizeof(got), "%u", t.mr);
			assert_field(r, C_MR, got);
		}
		if (t.type == SMS_STATUS_REPORT) {
			char a[40], b[40];
			fmt_ts(&t.scts, a, sizeof(a));
			fmt_ts(&t.dt, b, sizeof(b));
			snprintf(got, sizeof(got), "SCTS %s; DT %s; ST 0x%02x", a, b, t.st);
			assert_field(r, C_TIME, got);
		} else {
			snprintf(got, sizeof(got), "%02x", t.pid);
			assert_field(r, C_PID, got);
			snprintf(got, sizeof(got), "%02x", t.dcs);
			assert_true(strncmp(r->f[C_DCS], got, 2) == 0);
			/* "(gsm7" / "(8bit" / "(ucs2", then ",classN" if any. */
			static const char *names[] = {"(gsm7", "(8bit", "(ucs2"};
			assert_non_null(strstr(r->f[C_DCS], names[t.dcs_info.alphabet]));
			if (t.dcs_info.msg_class >= 0 && t.dcs >= 0xf0) {
				snprintf(got, sizeof(got), "class%d", t.dcs_info.msg_class);
				assert_non_null(strstr(r->f[C_DCS], got));
			}
			snprintf(got, sizeof(got), "%u", t.udl);
			assert_field(r, C_UDL, got);
		}
		if (t.type == SMS_DELIVER) {
			fmt_ts(&t.scts, got, sizeof(got));
			assert_field(r, C_TIME, got);
		} else if (t.type == SMS_SUBMIT) {
			const char *w = r->f[C_TIME];
			if (t.vp.format == SMS_VP_NONE) {
				assert_string_equal(w, "VP none");
			} else if (t.vp.format == SMS_VP_ABSOLUTE) {
				char a[40];
				fmt_ts(&t.vp.absolute, a, sizeof(a));
				snprintf(got, sizeof(got), "VP absolute %s", a);
				assert_field(r, C_TIME, got);
			} else {
				assert_int_equal(t.vp.format, SMS_VP_RELATIVE);
				snprintf(got, sizeof(got), "VP relative 0x%02x = ", t.vp.relative);
				assert_true(strncmp(w, got, strlen(got)) == 0);
				long days = atol(w + strlen(got));
				assert_non_null(strstr(w, "days"));
				assert_int_equal(sms_vp_seconds(&t.vp), days * 86400);
			}
		}
		if (t.type != SMS_STATUS_REPORT) {
			tohex(t.udh.ies, t.udh.len, got);
			assert_field(r, C_UDH, got);
			fmt_udh(&t.udh, got, sizeof(got));
			assert_field(r, C_UDH_DEC, got);
		}
		/* Text and payload. */
		uint8_t sept[160];
		int sn = sms_tpdu_septets(&t, sept, sizeof(sept));
		if (t.type == SMS_STATUS_REPORT) {
			assert_int_equal(t.ud_len, 0);
			assert_string_equal(r->f[C_PAYLOAD], "");
		} else if (t.dcs_info.alphabet == SMS_ALPHABET_GSM7) {
			assert_true(sn >= 0);
			tohex(sept, (size_t)sn, got);
			assert_field(r, C_PAYLOAD, got);
		} else {
			assert_int_equal(sn, SMS_E_DCS);
			tohex(t.payload, t.payload_len, got);
			assert_field(r, C_PAYLOAD, got);
		}
		int tn = sms_tpdu_text(&t, got, sizeof(got));
		if (t.dcs_info.alphabet == SMS_ALPHABET_8BIT) {
			assert_int_equal(tn, SMS_E_DCS);
		} else if (t.type != SMS_STATUS_REPORT) {
			assert_true(tn >= 0);
			tohex((const uint8_t *)got, (size_t)tn, want_hex);
			if (strcmp(want_hex, r->f[C_TEXT_HEX]) != 0)
				fail_msg("row %zu text: got '%s'", ri, got);
			/* The text column writes a backslash as two. */
			char want[2048];
			size_t w = 0;
			for (const char *c = r->f[C_TEXT]; *c && w + 1 < sizeof(want); c++) {
				if (c[0] == '\\' && c[1] == '\\')
					c++;
				want[w++] = *c;
			}
			want[w] = '\0';
			if (strcmp(want, got) != 0)
				fail_msg("row %zu text: got '%s', want '%s'", ri, got, want);
		}

		/* Re-encode: every row here is canonical (flags, fill bits and
		 * padding all as the encoder writes them). */
		t.data = t.dcs_info.alphabet == SMS_ALPHABET_GSM7 ? sept : t.payload;
		t.data_len = t.dcs_info.alphabet == SMS_ALPHABET_GSM7 ? (size_t)sn : t.payload_len;
		int en = sms_rp_addr_encode(&smsc, out, sizeof(out));
		assert_int_equal(en, (int)off);
		int tl = sms_tpdu_encode(&t, out + en, sizeof(out) - (size_t)en);
		if (tl < 0)
			fail_msg("row %zu: encode failed: %s", ri, sms_strerror(tl));
		/* One row is not canonical: its zone octet 0x08 is "minus
		 * zero", which decodes as 0 and is written back as 0x00. */
		size_t zone = off + (size_t)tl - t.ud_len - 2;
		if (t.type == SMS_DELIVER && t.scts.tz_quarters == 0 && pdu[zone] == 0x08 &&
		    out[zone] == 0x00)
			out[zone] = 0x08;
		tohex(out, (size_t)(en + tl), got);
		assert_field(r, C_PDU, got);
	}
}

/* Cutting a PDU anywhere before its end is SMS_E_TRUNCATED; one octet more
 * is SMS_E_TRAILING. The copy is exactly as long as the cut so ASan sees
 * any read past it. */
static void test_truncated_rows(void **state)
{
	(void)state;
	uint8_t pdu[512];
	for (size_t ri = 0; ri < n_rows; ri++) {
		size_t n = unhex(rows[ri].f[C_PDU], pdu, sizeof(pdu));
		struct sms_addr smsc;
		struct sms_tpdu t;
		size_t off = decode_row(ri, pdu, n, &smsc, &t);
		enum sms_dir dir = t.type == SMS_SUBMIT ? SMS_DIR_MO : SMS_DIR_MT;
		for (size_t cut = 0; cut < n - off; cut++) {
			uint8_t *copy = malloc(cut ? cut : 1);
			memcpy(copy, pdu + off, cut);
			int rc = sms_tpdu_decode(copy, cut, dir, &t);
			if (rc != SMS_E_TRUNCATED)
				fail_msg("row %zu cut at %zu: %s", ri, cut, sms_strerror(rc));
			free(copy);
		}
		uint8_t *longer = malloc(n - off + 1);
		memcpy(longer, pdu + off, n - off);
		longer[n - off] = 0;
		int rc = sms_tpdu_decode(longer, n - off + 1, dir, &t);
		/* A status report may carry a TP-PI after TP-ST. */
		if (t.type != SMS_STATUS_REPORT)
			assert_int_equal(rc, SMS_E_TRAILING);
		free(longer);
		for (size_t cut = 0; cut < off; cut++)
			assert_int_equal(sms_rp_addr_decode(pdu, cut, &smsc), SMS_E_TRUNCATED);
	}
}

static void decode_hex(const char *hex, enum sms_dir dir, struct sms_tpdu *t, int want,
                       uint8_t *buf)
{
	size_t n = unhex(hex, buf, 512);
	int rc = sms_tpdu_decode(buf, n, dir, t);
	if (rc != want)
		fail_msg("%s: got %s, want %s", hex, sms_strerror(rc), sms_strerror(want));
}

static void test_malformed(void **state)
{
	(void)state;
	struct sms_tpdu t;
	static uint8_t b[512];
	/* "hola", SUBMIT, VP none, UDL 4. */
	decode_hex("01000b914316565811f9000004e8373b0c", SMS_DIR_MO, &t, 0, b);
	/* UDL says 5 septets: one more octet than sent. */
	decode_hex("01000b914316565811f9000005e8373b0c", SMS_DIR_MO, &t, SMS_E_TRUNCATED, b);
	/* UDL 3: the fourth octet is left over. */
	decode_hex("01000b914316565811f9000003e8373b0c", SMS_DIR_MO, &t, SMS_E_TRAILING, b);
	/* UDL 161 septets, 141 octets: over the limit. */
	decode_hex("01000b914316565811f90000a1e8373b0c", SMS_DIR_MO, &t, SMS_E_UDL, b);
	decode_hex("01000b914316565811f900048de8373b0c", SMS_DIR_MO, &t, SMS_E_UDL, b);
	/* The same as a DELIVER in the wrong direction, and MTI 3. */
	decode_hex("01000b914316565811f9000004e8373b0c", SMS_DIR_MT, &t, SMS_E_TYPE, b);
	decode_hex("03000b914316565811f9000004e8373b0c", SMS_DIR_MO, &t, SMS_E_TYPE, b);
	/* Address: 21 digits; filler 0xF inside the digits. */
	decode_hex("010015914316565811f9000004e8373b0c", SMS_DIR_MO, &t, SMS_E_ADDRESS, b);
	decode_hex("01000b9143f6565811f9000004e8373b0c", SMS_DIR_MO, &t, SMS_E_ADDRESS, b);
	/* 8-bit data: UDL 6 with 5 octets sent, UDL 4 with 5; and UDHI with
	 * UDHL 5 in 4 octets of UD. */
	decode_hex("41000b914316565811f90004060500030003", SMS_DIR_MO, &t, SMS_E_TRUNCATED, b);
	decode_hex("41000b914316565811f90004040500030003", SMS_DIR_MO, &t, SMS_E_TRAILING, b);
	decode_hex("41000b914316565811f900040405000300", SMS_DIR_MO, &t, SMS_E_UDH, b);
	/* UDHL 3 inside 4 octets, but the element says 3 octets of data. */
	decode_hex("41000b914316565811f900040403000300", SMS_DIR_MO, &t, SMS_E_UDH, b);
	/* Concat8 element with length 4. */
	decode_hex("41000b914316565811f9000406050004000302", SMS_DIR_MO, &t, SMS_E_UDH, b);
	/* GSM 7-bit: UDL 6 septets but a 6-octet header needs 7. */
	decode_hex("41000b914316565811f9000006050003000302", SMS_DIR_MO, &t, SMS_E_UDH, b);
	/* Concat with seq 0 is ignored, not refused (23.040). */
	decode_hex("41000b914316565811f9000406050003000300", SMS_DIR_MO, &t, 0, b);
	assert_false(t.udh.has_concat);
	/* SCTS with a non-BCD digit. */
	decode_hex("040b917228214365f700003a30805120618005d4f29c2e03", SMS_DIR_MT, &t, SMS_E_TIME,
	           b);
	/* Text of compressed data is refused. */
	decode_hex("01000b914316565811f9002004e8373b0c", SMS_DIR_MO, &t, 0, b);
	char txt[64];
	assert_int_equal(sms_tpdu_text(&t, txt, sizeof(txt)), SMS_E_DCS);
	assert_int_equal(sms_tpdu_decode(b, 0, SMS_DIR_MO, &t), SMS_E_TRUNCATED);
}

static void test_gsm7_extension(void **state)
{
	(void)state;
	const char *text = "{[~]}|\\^\xe2\x82\xac\f";
	uint8_t sept[64], ud[64];
	char back[64];
	int n = gsm7_from_utf8(text, strlen(text), sept, sizeof(sept));
	assert_int_equal(n, 20);
	static const uint8_t want[] = {0x1b, 0x28, 0x1b, 0x3c, 0x1b, 0x3d, 0x1b, 0x3e, 0x1b, 0x29,
	                               0x1b, 0x40, 0x1b, 0x2f, 0x1b, 0x14, 0x1b, 0x65, 0x1b, 0x0a};
	assert_memory_equal(sept, want, sizeof(want));
	assert_int_equal(gsm7_to_utf8(sept, (size_t)n, back, sizeof(back)), (int)strlen(text));
	assert_string_equal(back, text);
	/* Packing and unpacking at every header offset. */
	for (size_t first = 0; first < 9; first++) {
		uint8_t got[64];
		memset(ud, 0xff, sizeof(ud));
		int o = gsm7_pack(sept, (size_t)n, first, ud, sizeof(ud));
		assert_int_equal(o, (int)(((first + (size_t)n) * 7 + 7) / 8));
		assert_int_equal(gsm7_unpack(ud, (size_t)o, first, (size_t)n, got), 0);
		assert_memory_equal(got, sept, (size_t)n);
		assert_int_equal(gsm7_unpack(ud, (size_t)o - 1, first, (size_t)n, got),
		                 SMS_E_TRUNCATED);
	}
	/* Escape then a code the table lacks: the default character. Escape
	 * then escape, or at the end: a space. */
	const uint8_t odd[] = {0x1b, 0x41, 0x1b, 0x1b, 0x42, 0x1b};
	assert_int_equal(gsm7_to_utf8(odd, sizeof(odd), back, sizeof(back)), 4);
	assert_string_equal(back, "A B ");
	/* Hangul is not in the alphabet; small c-cedilla is sent as 0x09. */
	assert_false(gsm7_can_encode("\xec\x95\x88", 3));
	assert_int_equal(gsm7_from_utf8("\xc3\xa7", 2, sept, sizeof(sept)), 1);
	assert_int_equal(sept[0], 0x09);
	assert_int_equal(gsm7_from_utf8("\xc3", 1, sept, sizeof(sept)), SMS_E_UTF8);
	assert_int_equal(gsm7_to_utf8(want, 2, back, 1), SMS_E_NOSPC);
	/* An extension character is not cut between two segments: 152
	 * letters then a euro sign, with concat8 (153 septets a segment). */
	char longtext[400];
	memset(longtext, 'a', 152);
	strcpy(longtext + 152, "\xe2\x82\xac and more text to need a second segment");
	struct sms_segment segs[SMS_SPLIT_MAX];
	struct sms_split sp;
	assert_int_equal(
	    sms_split_text(longtext, strlen(longtext), false, 7, segs, SMS_SPLIT_MAX, &sp), 2);
	assert_int_equal(sp.alphabet, SMS_ALPHABET_GSM7);
	assert_int_equal(segs[0].len, 152);
	assert_int_equal(segs[1].off, 152);
}

static void test_ucs2(void **state)
{
	(void)state;
	const char *hello = "\xec\x95\x88\xeb\x85\x95\xed\x95\x98\xec\x84\xb8\xec\x9a\x94";
	uint8_t u[64];
	char back[64];
	assert_int_equal(ucs2_from_utf8(hello, strlen(hello), u, sizeof(u)), 10);
	static const uint8_t want[] = {0xc5, 0x48, 0xb1, 0x55, 0xd5, 0x58, 0xc1, 0x38, 0xc6, 0x94};
	assert_memory_equal(u, want, 10);
	assert_int_equal(ucs2_to_utf8(u, 10, back, sizeof(back)), 15);
	assert_string_equal(back, hello);
	/* Outside the BMP: a surrogate pair each way. */
	const char *grin = "\xf0\x9f\x98\x80";
	assert_int_equal(ucs2_from_utf8(grin, 4, u, sizeof(u)), 4);
	assert_int_equal(u[0], 0xd8);
	assert_int_equal(u[1], 0x3d);
	assert_int_equal(u[2], 0xde);
	assert_int_equal(u[3], 0x00);
	assert_int_equal(ucs2_to_utf8(u, 4, back, sizeof(back)), 4);
	assert_string_equal(back, grin);
	/* A lone high surrogate (a pair cut between segments) is U+FFFD. */
	assert_int_equal(ucs2_to_utf8(u, 2, back, sizeof(back)), 3);
	assert_string_equal(back, "\xef\xbf\xbd");
	/* Encoded surrogates and overlong forms are not UTF-8. */
	assert_int_equal(ucs2_from_utf8("\xed\xa0\x80", 3, u, sizeof(u)), SMS_E_UTF8);
	assert_int_equal(ucs2_from_utf8("\xc0\xaf", 2, u, sizeof(u)), SMS_E_UTF8);
	assert_int_equal(ucs2_from_utf8(hello, strlen(hello), u, 9), SMS_E_NOSPC);

	/* A whole SMS-DELIVER in Korean, encoded and decoded. */
	struct sms_tpdu t = {.type = SMS_DELIVER, .scts = {26, 1, 7, 18, 59, 38, 0}};
	assert_int_equal(sms_addr_set(&t.addr, "+821012345678"), 0);
	struct sms_segment seg;
	struct sms_split sp;
	uint8_t scratch[SMS_SPLIT_SCRATCH], pdu[200];
	assert_int_equal(sms_split_text(hello, strlen(hello), false, 0, &seg, 1, &sp), 1);
	assert_int_equal(sp.alphabet, SMS_ALPHABET_UCS2);
	assert_int_equal(sms_split_fill(&sp, &seg, 0, hello, &t, scratch, sizeof(scratch)), 0);
	int n = sms_tpdu_encode(&t, pdu, sizeof(pdu));
	uint8_t row[64];
	size_t rn =
	    unhex("040c912801214365870008621070819583000ac548b155d558c138c694", row, sizeof(row));
	assert_int_equal(n, (int)rn);
	assert_memory_equal(pdu, row, rn);
}

/* Korean long enough for three UCS-2 segments: split, encode, decode,
 * reassemble in the order given. */
static void korean_three(bool concat16, const int *order)
{
	char text[1200];
	size_t n = 0;
	for (int i = 0; i < 30; i++) {
		const char *w = "\xec\x95\x88\xeb\x85\x95\xed\x95\x98\xec\x84\xb8\xec\x9a\x94 ";
		memcpy(text + n, w, strlen(w));
		n += strlen(w);
	}
	text[n] = '\0';
	struct sms_segment segs[SMS_SPLIT_MAX];
	struct sms_split sp;
	assert_int_equal(sms_split_text(text, n, concat16, 0x1234, segs, SMS_SPLIT_MAX, &sp), 3);
	assert_int_equal(sp.alphabet, SMS_ALPHABET_UCS2);
	struct sms_reasm *r = sms_reasm_new(4, 4096, 60);
	assert_non_null(r);
	char out[1200];
	size_t out_len = 0;
	for (int k = 0; k < 3; k++) {
		size_t i = (size_t)order[k];
		uint8_t scratch[SMS_SPLIT_SCRATCH], pdu[200];
		struct sms_tpdu t = {.type = SMS_SUBMIT, .mr = (uint8_t)i};
		assert_int_equal(sms_addr_set(&t.addr, "+821012345678"), 0);
		assert_int_equal(sms_split_fill(&sp, segs, i, text, &t, scratch, sizeof(scratch)),
		                 0);
		int pn = sms_tpdu_encode(&t, pdu, sizeof(pdu));
		assert_true(pn > 0);
		struct sms_tpdu d;
		assert_int_equal(sms_tpdu_decode(pdu, (size_t)pn, SMS_DIR_MO, &d), 0);
		assert_true(d.udh.has_concat);
		assert_int_equal(d.udh.concat16, concat16);
		assert_int_equal(d.udh.ref, concat16 ? 0x1234 : 0x34);
		assert_int_equal(d.udh.total, 3);
		assert_int_equal(d.udh.seq, i + 1);
		assert_true(d.payload_len <= (concat16 ? 132u : 134u));
		char part[400];
		int tn = sms_tpdu_text(&d, part, sizeof(part));
		assert_int_equal(tn, (int)segs[i].len);
		int rc = sms_reasm_add(r, d.addr.value, &d.udh, part, (size_t)tn, 100 + k, out,
		                       sizeof(out), &out_len);
		assert_int_equal(rc, k == 2 ? 1 : 0);
		assert_int_equal(sms_reasm_pending(r), k == 2 ? 0 : 1);
	}
	assert_int_equal(out_len, n);
	assert_string_equal(out, text);
	assert_int_equal(sms_reasm_bytes(r), 0);
	sms_reasm_free(r);
}

static void test_korean_concat(void **state)
{
	(void)state;
	const int in_order[] = {0, 1, 2}, out_of_order[] = {2, 0, 1}, reversed[] = {2, 1, 0};
	korean_three(false, in_order);
	korean_three(false, out_of_order);
	korean_three(true, reversed);
	korean_three(true, out_of_order);
}

static void test_split_limits(void **state)
{
	(void)state;
	static char text[80000];
	struct sms_segment segs[SMS_SPLIT_MAX];
	struct sms_split sp;
	memset(text, 'x', 161);
	assert_int_equal(sms_split_text(text, 160, false, 1, segs, SMS_SPLIT_MAX, &sp), 1);
	assert_int_equal(sms_split_text(text, 161, false, 1, segs, SMS_SPLIT_MAX, &sp), 2);
	memset(text, 'x', 306);
	assert_int_equal(sms_split_text(text, 306, false, 1, segs, SMS_SPLIT_MAX, &sp), 2);
	assert_int_equal(segs[0].len, 153);
	assert_int_equal(sms_split_text(text, 306, true, 1, segs, SMS_SPLIT_MAX, &sp), 3);
	assert_int_equal(segs[0].len, 152);
	/* 255 segments of 153 fit; one more character does not. */
	memset(text, 'y', 255 * 153 + 1);
	assert_int_equal(sms_split_text(text, 255 * 153, false, 1, segs, SMS_SPLIT_MAX, &sp), 255);
	assert_int_equal(sms_split_text(text, 255 * 153 + 1, false, 1, segs, SMS_SPLIT_MAX, &sp),
	                 SMS_E_TOO_LONG);
	assert_int_equal(sms_split_text(text, 400, false, 1, segs, 2, &sp), SMS_E_TOO_LONG);
	assert_int_equal(sms_split_text("", 0, false, 1, segs, 1, &sp), 1);
	assert_int_equal(sms_split_text("\xff", 1, false, 1, segs, 1, &sp), SMS_E_UTF8);
	/* Each GSM 7-bit segment of a long text encodes to UDL 160. */
	assert_int_equal(sms_split_text(text, 1000, false, 9, segs, SMS_SPLIT_MAX, &sp), 7);
	for (size_t i = 0; i + 1 < sp.count; i++) {
		uint8_t scratch[SMS_SPLIT_SCRATCH], pdu[200];
		struct sms_tpdu t = {.type = SMS_SUBMIT};
		assert_int_equal(sms_addr_set(&t.addr, "12345"), 0);
		assert_int_equal(sms_split_fill(&sp, segs, i, text, &t, scratch, sizeof(scratch)),
		                 0);
		assert_true(sms_tpdu_encode(&t, pdu, sizeof(pdu)) > 0);
		struct sms_tpdu d;
		int pn = sms_tpdu_encode(&t, pdu, sizeof(pdu));
		assert_int_equal(sms_tpdu_decode(pdu, (size_t)pn, SMS_DIR_MO, &d), 0);
		assert_int_equal(d.udl, 160);
		assert_int_equal(d.text_septets, 153);
	}
}

static void test_reassembly_limits(void **state)
{
	(void)state;
	struct sms_reasm *r = sms_reasm_new(2, 64, 30);
	assert_non_null(r);
	char out[256];
	size_t ol;
	struct sms_udh u = {.has_concat = true, .ref = 5, .total = 2, .seq = 1};
	assert_int_equal(sms_reasm_add(r, "+1", &u, "abc", 3, 0, out, sizeof(out), &ol), 0);
	/* Duplicate ignored; a different total for the same key refused. */
	assert_int_equal(sms_reasm_add(r, "+1", &u, "zzz", 3, 1, out, sizeof(out), &ol), 0);
	u.total = 3;
	assert_int_equal(sms_reasm_add(r, "+1", &u, "x", 1, 1, out, sizeof(out), &ol),
	                 SMS_E_CONCAT);
	/* Same reference from another sender, then a third message: full. */
	u.total = 2;
	assert_int_equal(sms_reasm_add(r, "+2", &u, "def", 3, 2, out, sizeof(out), &ol), 0);
	assert_int_equal(sms_reasm_add(r, "+3", &u, "ghi", 3, 3, out, sizeof(out), &ol),
	                 SMS_E_FULL);
	assert_int_equal(sms_reasm_pending(r), 2);
	/* Byte budget: 64 octets in all. */
	u.seq = 2;
	char big[80];
	memset(big, 'q', sizeof(big));
	assert_int_equal(sms_reasm_add(r, "+2", &u, big, sizeof(big), 4, out, sizeof(out), &ol),
	                 SMS_E_FULL);
	/* Completing +1 gives its text, seq 1 first. */
	assert_int_equal(sms_reasm_add(r, "+1", &u, "DEF", 3, 5, out, sizeof(out), &ol), 1);
	assert_string_equal(out, "abcDEF");
	assert_int_equal(ol, 6);
	/* +2 times out 30 s after its first segment. */
	assert_int_equal(sms_reasm_expire(r, 31), 0);
	assert_int_equal(sms_reasm_expire(r, 32), 1);
	assert_int_equal(sms_reasm_pending(r), 0);
	assert_int_equal(sms_reasm_bytes(r), 0);
	u.seq = 3;
	assert_int_equal(sms_reasm_add(r, "+1", &u, "a", 1, 40, out, sizeof(out), &ol),
	                 SMS_E_CONCAT);
	/* The complete text does not fit in out: refused and forgotten. */
	u.seq = 1;
	assert_int_equal(sms_reasm_add(r, "+4", &u, "abc", 3, 41, out, sizeof(out), &ol), 0);
	u.seq = 2;
	assert_int_equal(sms_reasm_add(r, "+4", &u, "def", 3, 41, out, 4, &ol), SMS_E_NOSPC);
	assert_int_equal(sms_reasm_pending(r), 0);
	sms_reasm_free(r);
}

static void test_addresses_and_vp(void **state)
{
	(void)state;
	struct sms_addr a, b;
	uint8_t buf[32];
	assert_int_equal(sms_addr_set(&a, "+821012345678"), 0);
	assert_int_equal(a.toa, 0x91);
	assert_int_equal(sms_addr_set(&a, "0101234567"), 0);
	assert_int_equal(a.toa, 0x81);
	a.toa = 0xa1; /* national */
	int n = sms_tp_addr_encode(&a, buf, sizeof(buf));
	assert_int_equal(n, 7);
	assert_int_equal(buf[0], 10);
	assert_int_equal(sms_tp_addr_decode(buf, (size_t)n, &b), n);
	assert_int_equal(b.toa, 0xa1);
	assert_string_equal(b.value, "0101234567");
	/* Alphanumeric: 10 characters are 18 semi-octets. */
	assert_int_equal(sms_addr_set(&a, "www.tim.it"), 0);
	assert_int_equal(a.toa, 0xd0);
	n = sms_tp_addr_encode(&a, buf, sizeof(buf));
	assert_int_equal(buf[0], 0x12);
	assert_int_equal(sms_tp_addr_decode(buf, (size_t)n, &b), n);
	assert_string_equal(b.value, "www.tim.it");
	assert_int_equal(sms_addr_set(&a, "TwelveLetter"), SMS_E_ADDRESS);
	assert_int_equal(sms_addr_set(&a, ""), SMS_E_ADDRESS);
	assert_int_equal(sms_addr_set(&a, "*#123#"), 0);
	n = sms_tp_addr_encode(&a, buf, sizeof(buf));
	assert_int_equal(sms_tp_addr_decode(buf, (size_t)n, &b), n);
	assert_string_equal(b.value, "*#123#");

	struct sms_vp vp = {.format = SMS_VP_RELATIVE};
	static const struct {
		uint8_t v;
		long s;
	} rel[] = {{0, 300},         {143, 43200},      {144, 45000},      {167, 86400},
	           {168, 2 * 86400}, {196, 30 * 86400}, {197, 5 * 604800}, {255, 63 * 604800}};
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		vp.relative = rel[i].v;
		assert_int_equal(sms_vp_seconds(&vp), rel[i].s);
		assert_int_equal(sms_vp_relative_from_seconds(rel[i].s), rel[i].v);
	}
	assert_int_equal(sms_vp_relative_from_seconds(301), 1);
	vp.format = SMS_VP_ENHANCED;
	memcpy(vp.enhanced, "\x03\x10\x30\x00\x00\x00\x00", 7); /* 01:03:00 */
	assert_int_equal(sms_vp_seconds(&vp), 3780);
	memcpy(vp.enhanced, "\x02\x2d\x00\x00\x00\x00\x00", 7);
	assert_int_equal(sms_vp_seconds(&vp), 45);

	/* An enhanced VP round trips as sent. */
	struct sms_tpdu t = {
	    .type = SMS_SUBMIT, .vp = vp, .data = (const uint8_t *)"\x48", .data_len = 1};
	assert_int_equal(sms_addr_set(&t.addr, "+1"), 0);
	uint8_t pdu[64];
	struct sms_tpdu d;
	n = sms_tpdu_encode(&t, pdu, sizeof(pdu));
	assert_int_equal(pdu[0], 0x09);
	assert_int_equal(sms_tpdu_decode(pdu, (size_t)n, SMS_DIR_MO, &d), 0);
	assert_memory_equal(d.vp.enhanced, vp.enhanced, 7);

	struct sms_dcs dc;
	sms_dcs_decode(0xf1, &dc);
	assert_int_equal(dc.alphabet, SMS_ALPHABET_GSM7);
	assert_int_equal(dc.msg_class, 1);
	sms_dcs_decode(0x18, &dc);
	assert_int_equal(dc.alphabet, SMS_ALPHABET_UCS2);
	assert_int_equal(dc.msg_class, 0);
	sms_dcs_decode(0x0c, &dc); /* reserved alphabet: GSM 7-bit */
	assert_int_equal(dc.alphabet, SMS_ALPHABET_GSM7);
	assert_int_equal(sms_dcs_make(SMS_ALPHABET_8BIT, 1), 0x15);
}

static void test_rp(void **state)
{
	(void)state;
	uint8_t tp[64], buf[300];
	size_t tn = unhex("01000b914316565811f9000004e8373b0c", tp, sizeof(tp));
	struct sms_rp rp = {.type = SMS_RP_DATA_MO, .mr = 7, .user_data = tp, .user_data_len = tn};
	assert_int_equal(sms_addr_set(&rp.da, "+447785016005"), 0);
	int n = sms_rp_encode(&rp, buf, sizeof(buf));
	uint8_t want[64];
	size_t wn = unhex("0007000791447758100650", want, sizeof(want));
	assert_true(n == (int)(wn + 1 + tn));
	assert_memory_equal(buf, want, wn);
	assert_int_equal(buf[wn], tn);
	struct sms_rp d;
	assert_int_equal(sms_rp_decode(buf, (size_t)n, &d), 0);
	assert_int_equal(d.type, SMS_RP_DATA_MO);
	assert_int_equal(d.mr, 7);
	assert_string_equal(d.da.value, "+447785016005");
	assert_string_equal(d.oa.value, "");
	assert_int_equal(d.user_data_len, tn);
	assert_memory_equal(d.user_data, tp, tn);
	struct sms_tpdu t;
	assert_int_equal(sms_tpdu_decode(d.user_data, d.user_data_len, sms_rp_tpdu_dir(d.type), &t),
	                 0);
	assert_int_equal(t.type, SMS_SUBMIT);
	/* Every truncation of it. */
	for (int cut = 0; cut < n; cut++) {
		uint8_t *c = malloc(cut ? (size_t)cut : 1);
		memcpy(c, buf, (size_t)cut);
		assert_int_equal(sms_rp_decode(c, (size_t)cut, &d), SMS_E_TRUNCATED);
		free(c);
	}
	/* An RP-DATA MO must not carry an originator address. */
	uint8_t bad[] = {0x00, 0x01, 0x02, 0x91, 0x21, 0x01, 0x00, 0x01, 0x00};
	assert_int_equal(sms_rp_decode(bad, sizeof(bad), &d), SMS_E_RP);

	/* RP-DATA network to MS. */
	rp.type = SMS_RP_DATA_MT;
	rp.oa = rp.da;
	memset(&rp.da, 0, sizeof(rp.da));
	n = sms_rp_encode(&rp, buf, sizeof(buf));
	assert_int_equal(buf[0], 1);
	assert_int_equal(buf[2], 7);
	assert_int_equal(sms_rp_decode(buf, (size_t)n, &d), 0);
	assert_string_equal(d.oa.value, "+447785016005");

	/* RP-ACK without and with a report. */
	struct sms_rp ack = {.type = SMS_RP_ACK_MT, .mr = 7};
	n = sms_rp_encode(&ack, buf, sizeof(buf));
	assert_int_equal(n, 2);
	assert_int_equal(sms_rp_decode(buf, 2, &d), 0);
	assert_int_equal(d.type, SMS_RP_ACK_MT);
	assert_null(d.user_data);
	const uint8_t report[] = {0x01, 0x00, 0x11, 0x10, 0x70, 0x81, 0x95, 0x83, 0x00};
	ack.user_data = report;
	ack.user_data_len = sizeof(report);
	n = sms_rp_encode(&ack, buf, sizeof(buf));
	assert_int_equal(n, 2 + 2 + (int)sizeof(report));
	assert_int_equal(buf[2], 0x41);
	assert_int_equal(sms_rp_decode(buf, (size_t)n, &d), 0);
	assert_memory_equal(d.user_data, report, sizeof(report));
	buf[2] = 0x42; /* not RP-User-Data */
	assert_int_equal(sms_rp_decode(buf, (size_t)n, &d), SMS_E_RP);

	/* RP-ERROR: cause 42 (congestion), then with a diagnostic. */
	struct sms_rp err = {.type = SMS_RP_ERROR_MT, .mr = 9, .cause = SMS_RP_CAUSE_CONGESTION};
	n = sms_rp_encode(&err, buf, sizeof(buf));
	const uint8_t err_want[] = {0x05, 0x09, 0x01, 0x2a};
	assert_int_equal(n, 4);
	assert_memory_equal(buf, err_want, 4);
	assert_int_equal(sms_rp_decode(buf, 4, &d), 0);
	assert_int_equal(d.cause, 42);
	assert_false(d.has_diagnostic);
	err.has_diagnostic = true;
	err.diagnostic = 3;
	err.type = SMS_RP_ERROR_MO;
	err.cause = SMS_RP_CAUSE_MEMORY_EXCEEDED;
	err.user_data = report;
	err.user_data_len = sizeof(report);
	n = sms_rp_encode(&err, buf, sizeof(buf));
	assert_int_equal(sms_rp_decode(buf, (size_t)n, &d), 0);
	assert_int_equal(d.type, SMS_RP_ERROR_MO);
	assert_int_equal(d.cause, 22);
	assert_true(d.has_diagnostic);
	assert_int_equal(d.diagnostic, 3);
	assert_int_equal(d.user_data_len, sizeof(report));
	const uint8_t bad_cause[] = {0x05, 0x09, 0x03, 0x2a, 0x00, 0x00};
	assert_int_equal(sms_rp_decode(bad_cause, sizeof(bad_cause), &d), SMS_E_RP);
	const uint8_t ext_cause[] = {0x05, 0x09, 0x01, 0xaa};
	assert_int_equal(sms_rp_decode(ext_cause, sizeof(ext_cause), &d), SMS_E_RP);

	/* RP-SMMA, and an unknown MTI. */
	const uint8_t smma[] = {0x06, 0x11};
	assert_int_equal(sms_rp_decode(smma, 2, &d), 0);
	assert_int_equal(d.type, SMS_RP_SMMA);
	const uint8_t mti7[] = {0x07, 0x11};
	assert_int_equal(sms_rp_decode(mti7, 2, &d), SMS_E_TYPE);
	const uint8_t smma_long[] = {0x06, 0x11, 0x00};
	assert_int_equal(sms_rp_decode(smma_long, 3, &d), SMS_E_TRAILING);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_published_pdus),
	    cmocka_unit_test(test_truncated_rows),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_gsm7_extension),
	    cmocka_unit_test(test_ucs2),
	    cmocka_unit_test(test_korean_concat),
	    cmocka_unit_test(test_split_limits),
	    cmocka_unit_test(test_reassembly_limits),
	    cmocka_unit_test(test_addresses_and_vp),
	    cmocka_unit_test(test_rp),
	};
	return cmocka_run_group_tests(tests, load_rows, free_rows);
}
