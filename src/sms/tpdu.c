#include "sms/tpdu.h"

#include <string.h>

#include "sms/gsm7.h"
#include "sms/sms_err.h"
#include "sms/ucs2.h"

/* Semi-octet digits in the order of 23.040 section 9.1.2.3 (0xF is filler). */
static const char bcd_digits[] = "0123456789*#abc";

/* Maps a digit character to its semi-octet value, or -1. */
static int digit_value(char c)
{
	if (c >= 'A' && c <= 'C')
		c = (char)(c - 'A' + 'a');
	const char *p = c ? strchr(bcd_digits, c) : NULL;
	return p ? (int)(p - bcd_digits) : -1;
}

/* Decodes ndigits semi-octets from p into a->value (after a '+' when the
 * TON is international). 0xF inside the digits is refused. */
static int digits_decode(const uint8_t *p, size_t ndigits, struct sms_addr *a)
{
	size_t o = 0;
	if (SMS_TON(a->toa) == SMS_TON_INTL)
		a->value[o++] = '+';
	for (size_t i = 0; i < ndigits; i++) {
		unsigned nib = i % 2 ? p[i / 2] >> 4 : p[i / 2] & 0x0f;
		if (nib == 0x0f || o + 1 >= SMS_ADDR_MAX)
			return SMS_E_ADDRESS;
		a->value[o++] = bcd_digits[nib];
	}
	a->value[o] = '\0';
	return 0;
}

/* Writes the digits of a->value (a leading '+' skipped) as semi-octets with
 * an 0xF filler; returns the digit count or an sms_err. */
static int digits_encode(const struct sms_addr *a, size_t max_digits, uint8_t *out, size_t cap)
{
	const char *v = a->value;
	if (*v == '+')
		v++;
	size_t n = strnlen(v, SMS_ADDR_MAX);
	if (n > max_digits)
		return SMS_E_ADDRESS;
	if ((n + 1) / 2 > cap)
		return SMS_E_NOSPC;
	for (size_t i = 0; i < n; i++) {
		int d = digit_value(v[i]);
		if (d < 0)
			return SMS_E_ADDRESS;
		if (i % 2)
			out[i / 2] = (uint8_t)((out[i / 2] & 0x0f) | d << 4);
		else
			out[i / 2] = (uint8_t)(0xf0 | d);
	}
	return (int)n;
}

int sms_addr_set(struct sms_addr *a, const char *text)
{
	size_t n = strnlen(text, SMS_ADDR_MAX);
	if (n == 0 || n >= SMS_ADDR_MAX)
		return SMS_E_ADDRESS;
	bool digits = true;
	for (size_t i = text[0] == '+' ? 1 : 0; i < n; i++)
		if (digit_value(text[i]) < 0)
			digits = false;
	if (digits && n > (text[0] == '+' ? 1u : 0u)) {
		a->toa = text[0] == '+' ? 0x91 : 0x81;
	} else {
		/* TP-OA/DA hold at most 11 alphanumeric septets. */
		int s = gsm7_from_utf8(text, n, NULL, 0);
		if (s < 0 || s > 11)
			return SMS_E_ADDRESS;
		a->toa = 0xd0;
	}
	memcpy(a->value, text, n + 1);
	return 0;
}

int sms_tp_addr_decode(const uint8_t *buf, size_t len, struct sms_addr *a)
{
	if (len < 2)
		return SMS_E_TRUNCATED;
	size_t ndig = buf[0];
	if (ndig > 20) /* TP addresses are at most 12 octets */
		return SMS_E_ADDRESS;
	size_t octets = (ndig + 1) / 2;
	if (2 + octets > len)
		return SMS_E_TRUNCATED;
	a->toa = buf[1];
	if (SMS_TON(a->toa) == SMS_TON_ALPHANUMERIC) {
		/* The length counts semi-octets, so 4 bits each (23.040 9.1.2.5). */
		uint8_t sept[11];
		size_t n = ndig * 4 / 7;
		if (gsm7_unpack(buf + 2, octets, 0, n, sept) < 0)
			return SMS_E_ADDRESS;
		if (gsm7_to_utf8(sept, n, a->value, sizeof(a->value)) < 0)
			return SMS_E_ADDRESS;
	} else {
		int rc = digits_decode(buf + 2, ndig, a);
		if (rc < 0)
			return rc;
	}
	return (int)(2 + octets);
}

int sms_tp_addr_encode(const struct sms_addr *a, uint8_t *out, size_t cap)
{
	if (cap < 2)
		return SMS_E_NOSPC;
	out[1] = a->toa;
	if (SMS_TON(a->toa) == SMS_TON_ALPHANUMERIC) {
		uint8_t sept[11];
		int n =
		    gsm7_from_utf8(a->value, strnlen(a->value, SMS_ADDR_MAX), sept, sizeof(sept));
		if (n < 0)
			return n == SMS_E_NOSPC ? SMS_E_ADDRESS : n;
		int octets = gsm7_pack(sept, (size_t)n, 0, out + 2, cap - 2);
		if (octets < 0)
			return octets;
		out[0] = (uint8_t)((n * 7 + 3) / 4);
		return 2 + octets;
	}
	int n = digits_encode(a, 20, out + 2, cap - 2);
	if (n < 0)
		return n;
	out[0] = (uint8_t)n;
	return 2 + (n + 1) / 2;
}

int sms_rp_addr_decode(const uint8_t *buf, size_t len, struct sms_addr *a)
{
	if (len < 1)
		return SMS_E_TRUNCATED;
	size_t l = buf[0];
	memset(a, 0, sizeof(*a));
	if (l == 0)
		return 1;
	if (l > 11) /* 24.011 8.2.5.1: 12 octets with the length */
		return SMS_E_ADDRESS;
	if (1 + l > len)
		return SMS_E_TRUNCATED;
	a->toa = buf[1];
	size_t ndig = 2 * (l - 1);
	if (ndig && (buf[l] >> 4) == 0x0f)
		ndig--;
	int rc = digits_decode(buf + 2, ndig, a);
	return rc < 0 ? rc : (int)(1 + l);
}

int sms_rp_addr_encode(const struct sms_addr *a, uint8_t *out, size_t cap)
{
	if (cap < 1)
		return SMS_E_NOSPC;
	if (a->value[0] == '\0') {
		out[0] = 0;
		return 1;
	}
	if (cap < 2)
		return SMS_E_NOSPC;
	out[1] = a->toa;
	int n = digits_encode(a, 20, out + 2, cap - 2);
	if (n < 0)
		return n;
	out[0] = (uint8_t)(1 + (n + 1) / 2);
	return 2 + (n + 1) / 2;
}

/* One swapped-BCD octet (23.040 9.1.2.3): low nibble is the tens digit. */
static int bcd_get(uint8_t o, uint8_t *v)
{
	if ((o & 0x0f) > 9 || (o >> 4) > 9)
		return SMS_E_TIME;
	*v = (uint8_t)((o & 0x0f) * 10 + (o >> 4));
	return 0;
}

static uint8_t bcd_put(uint8_t v)
{
	return (uint8_t)((v / 10) | (v % 10) << 4);
}

static int ts_decode(const uint8_t *p, struct sms_ts *ts)
{
	uint8_t *f[6] = {&ts->year, &ts->month, &ts->day, &ts->hour, &ts->minute, &ts->second};
	for (int i = 0; i < 6; i++)
		if (bcd_get(p[i], f[i]) < 0)
			return SMS_E_TIME;
	/* Zone: bit 3 of the tens semi-octet is the sign (23.040 9.2.3.11). */
	unsigned tens = p[6] & 0x07, units = p[6] >> 4;
	if (units > 9)
		return SMS_E_TIME;
	int q = (int)(tens * 10 + units);
	ts->tz_quarters = (int8_t)(p[6] & 0x08 ? -q : q);
	return 0;
}

static int ts_encode(const struct sms_ts *ts, uint8_t *p)
{
	const uint8_t f[6] = {ts->year, ts->month, ts->day, ts->hour, ts->minute, ts->second};
	for (int i = 0; i < 6; i++) {
		if (f[i] > 99)
			return SMS_E_INVAL;
		p[i] = bcd_put(f[i]);
	}
	int q = ts->tz_quarters;
	if (q < -79 || q > 79)
		return SMS_E_INVAL;
	p[6] = (uint8_t)(bcd_put((uint8_t)(q < 0 ? -q : q)) | (q < 0 ? 0x08 : 0));
	return 0;
}

void sms_dcs_decode(uint8_t raw, struct sms_dcs *d)
{
	d->alphabet = SMS_ALPHABET_GSM7;
	d->msg_class = -1;
	d->compressed = false;
	unsigned group = raw >> 4;
	if (group <= 7) {
		/* General data coding, with (01xx) or without auto-deletion. */
		unsigned a = (raw >> 2) & 3;
		d->alphabet = a == 3 ? SMS_ALPHABET_GSM7 : (enum sms_alphabet)a;
		d->compressed = raw & 0x20;
		if (raw & 0x10)
			d->msg_class = raw & 3;
	} else if (group == 0x0e) {
		d->alphabet = SMS_ALPHABET_UCS2; /* message waiting, UCS-2 text */
	} else if (group == 0x0f) {
		d->alphabet = raw & 0x04 ? SMS_ALPHABET_8BIT : SMS_ALPHABET_GSM7;
		d->msg_class = raw & 3;
	}
}

uint8_t sms_dcs_make(enum sms_alphabet alphabet, int msg_class)
{
	uint8_t d = (uint8_t)((unsigned)alphabet << 2);
	if (msg_class >= 0)
		d = (uint8_t)(d | 0x10 | (msg_class & 3));
	return d;
}

long sms_vp_seconds(const struct sms_vp *vp)
{
	unsigned v;
	switch (vp->format) {
	case SMS_VP_RELATIVE:
		v = vp->relative;
		break;
	case SMS_VP_ENHANCED: {
		const uint8_t *e = vp->enhanced;
		uint8_t h, m, s;
		if (e[0] & 0x80) /* an extended functionality indicator */
			return -1;
		switch (e[0] & 7) {
		case 1:
			v = e[1];
			break;
		case 2:
			return e[1];
		case 3:
			if (bcd_get(e[1], &h) < 0 || bcd_get(e[2], &m) < 0 || bcd_get(e[3], &s) < 0)
				return -1;
			return (long)h * 3600 + m * 60 + s;
		default:
			return -1;
		}
		break;
	}
	default:
		return -1;
	}
	/* 23.040 9.2.3.12.1 */
	if (v <= 143)
		return (long)(v + 1) * 300;
	if (v <= 167)
		return 43200L + (long)(v - 143) * 1800;
	if (v <= 196)
		return (long)(v - 166) * 86400;
	return (long)(v - 192) * 604800;
}

uint8_t sms_vp_relative_from_seconds(long s)
{
	if (s <= 300)
		return 0;
	if (s <= 43200)
		return (uint8_t)((s + 299) / 300 - 1);
	if (s <= 86400)
		return (uint8_t)(143 + (s - 43200 + 1799) / 1800);
	if (s <= 30L * 86400)
		return (uint8_t)(166 + (s + 86399) / 86400);
	long w = (s + 604799) / 604800;
	return (uint8_t)(w > 63 ? 255 : 192 + w);
}

int sms_udh_parse(const uint8_t *ies, size_t len, struct sms_udh *u)
{
	memset(u, 0, sizeof(*u));
	u->ies = ies;
	u->len = len;
	size_t p = 0;
	while (p < len) {
		if (len - p < 2)
			return SMS_E_UDH;
		uint8_t iei = ies[p], l = ies[p + 1];
		const uint8_t *d = ies + p + 2;
		if (l > len - p - 2)
			return SMS_E_UDH;
		switch (iei) {
		case 0x00:
		case 0x08: {
			size_t want = iei == 0x00 ? 3 : 4;
			if (l != want)
				return SMS_E_UDH;
			uint8_t total = d[want - 2], seq = d[want - 1];
			if (seq == 0 || seq > total)
				break; /* 23.040 9.2.3.24.1: ignore this element */
			u->has_concat = true;
			u->concat16 = iei == 0x08;
			u->ref = iei == 0x00 ? d[0] : (uint16_t)(d[0] << 8 | d[1]);
			u->total = total;
			u->seq = seq;
			break;
		}
		case 0x04:
		case 0x05:
			if (l != (iei == 0x04 ? 2 : 4))
				return SMS_E_UDH;
			u->has_ports = true;
			u->ports16 = iei == 0x05;
			if (iei == 0x04) {
				u->dst_port = d[0];
				u->src_port = d[1];
			} else {
				u->dst_port = (uint16_t)(d[0] << 8 | d[1]);
				u->src_port = (uint16_t)(d[2] << 8 | d[3]);
			}
			break;
		default:
			break;
		}
		p += 2 + (size_t)l;
	}
	return 0;
}

int sms_udh_build(const struct sms_udh *u, uint8_t *out, size_t cap)
{
	size_t n = 0;
	if (u->has_ports) {
		size_t l = u->ports16 ? 4 : 2;
		if (n + 2 + l > cap)
			return SMS_E_NOSPC;
		out[n++] = u->ports16 ? 0x05 : 0x04;
		out[n++] = (uint8_t)l;
		if (u->ports16) {
			out[n++] = (uint8_t)(u->dst_port >> 8);
			out[n++] = (uint8_t)u->dst_port;
			out[n++] = (uint8_t)(u->src_port >> 8);
			out[n++] = (uint8_t)u->src_port;
		} else {
			out[n++] = (uint8_t)u->dst_port;
			out[n++] = (uint8_t)u->src_port;
		}
	}
	if (u->has_concat) {
		size_t l = u->concat16 ? 4 : 3;
		if (n + 2 + l > cap)
			return SMS_E_NOSPC;
		out[n++] = u->concat16 ? 0x08 : 0x00;
		out[n++] = (uint8_t)l;
		if (u->concat16)
			out[n++] = (uint8_t)(u->ref >> 8);
		out[n++] = (uint8_t)u->ref;
		out[n++] = u->total;
		out[n++] = u->seq;
	}
	return (int)n;
}

/* Whether TP-UDL counts septets: GSM 7-bit text not compressed (23.040
 * 9.2.3.16); compressed and 8-bit/UCS-2 data count octets. */
static bool udl_in_septets(const struct sms_dcs *d)
{
	return d->alphabet == SMS_ALPHABET_GSM7 && !d->compressed;
}

/* Decodes TP-UDL and TP-UD from buf[p..len), which must be all of it. */
static int ud_decode(const uint8_t *buf, size_t len, size_t p, struct sms_tpdu *t)
{
	if (p >= len)
		return SMS_E_TRUNCATED;
	t->udl = buf[p++];
	bool sept = udl_in_septets(&t->dcs_info);
	if (t->udl > (sept ? 160 : 140))
		return SMS_E_UDL;
	size_t ud_len = sept ? ((size_t)t->udl * 7 + 7) / 8 : t->udl;
	if (ud_len > len - p)
		return SMS_E_TRUNCATED;
	if (ud_len < len - p)
		return SMS_E_TRAILING;
	t->ud = buf + p;
	t->ud_len = ud_len;
	size_t h = 0;
	if (t->udhi) {
		if (ud_len < 1 || (size_t)1 + t->ud[0] > ud_len)
			return SMS_E_UDH;
		h = (size_t)1 + t->ud[0];
		int rc = sms_udh_parse(t->ud + 1, h - 1, &t->udh);
		if (rc < 0)
			return rc;
	}
	if (sept) {
		size_t hs = h ? gsm7_header_septets(h) : 0;
		if (hs > t->udl)
			return SMS_E_UDH;
		t->text_septets = t->udl - hs;
	}
	t->payload = t->ud + h;
	t->payload_len = ud_len - h;
	return 0;
}

/* Reads one octet at buf[*p] or fails with SMS_E_TRUNCATED. */
#define TAKE(dst)                                                                                  \
	do {                                                                                       \
		if (p >= len)                                                                      \
			return SMS_E_TRUNCATED;                                                    \
		(dst) = buf[p++];                                                                  \
	} while (0)

int sms_tpdu_decode(const uint8_t *buf, size_t len, enum sms_dir dir, struct sms_tpdu *t)
{
	size_t p = 0;
	int rc;
	memset(t, 0, sizeof(*t));
	t->dcs_info.msg_class = -1;
	TAKE(t->first_octet);
	uint8_t fo = t->first_octet, mti = fo & 3;
	t->udhi = fo & 0x40;
	if (dir == SMS_DIR_MT && mti == 0) {
		t->type = SMS_DELIVER;
	} else if (dir == SMS_DIR_MO && mti == 1) {
		t->type = SMS_SUBMIT;
	} else if (dir == SMS_DIR_MT && mti == 2) {
		t->type = SMS_STATUS_REPORT;
	} else if (dir == SMS_DIR_MO && mti == 2) {
		t->type = SMS_COMMAND;
	} else {
		return SMS_E_TYPE;
	}
	switch (t->type) {
	case SMS_DELIVER:
		t->more_messages = !(fo & 0x04);
		t->loop_prevention = fo & 0x08;
		t->status_report = fo & 0x20;
		t->reply_path = fo & 0x80;
		rc = sms_tp_addr_decode(buf + p, len - p, &t->addr);
		if (rc < 0)
			return rc;
		p += (size_t)rc;
		TAKE(t->pid);
		TAKE(t->dcs);
		sms_dcs_decode(t->dcs, &t->dcs_info);
		if (len - p < 7)
			return SMS_E_TRUNCATED;
		if ((rc = ts_decode(buf + p, &t->scts)) < 0)
			return rc;
		return ud_decode(buf, len, p + 7, t);
	case SMS_SUBMIT:
		t->reject_duplicates = fo & 0x04;
		t->vp.format = (enum sms_vpf)((fo >> 3) & 3);
		t->status_report = fo & 0x20;
		t->reply_path = fo & 0x80;
		TAKE(t->mr);
		rc = sms_tp_addr_decode(buf + p, len - p, &t->addr);
		if (rc < 0)
			return rc;
		p += (size_t)rc;
		TAKE(t->pid);
		TAKE(t->dcs);
		sms_dcs_decode(t->dcs, &t->dcs_info);
		if (t->vp.format == SMS_VP_RELATIVE) {
			TAKE(t->vp.relative);
		} else if (t->vp.format != SMS_VP_NONE) {
			if (len - p < 7)
				return SMS_E_TRUNCATED;
			if (t->vp.format == SMS_VP_ABSOLUTE) {
				if ((rc = ts_decode(buf + p, &t->vp.absolute)) < 0)
					return rc;
			} else {
				memcpy(t->vp.enhanced, buf + p, 7);
			}
			p += 7;
		}
		return ud_decode(buf, len, p, t);
	case SMS_STATUS_REPORT:
		t->more_messages = !(fo & 0x04);
		t->loop_prevention = fo & 0x08;
		t->status_report = fo & 0x20;
		TAKE(t->mr);
		rc = sms_tp_addr_decode(buf + p, len - p, &t->addr);
		if (rc < 0)
			return rc;
		p += (size_t)rc;
		if (len - p < 15)
			return SMS_E_TRUNCATED;
		if ((rc = ts_decode(buf + p, &t->scts)) < 0 ||
		    (rc = ts_decode(buf + p + 7, &t->dt)) < 0)
			return rc;
		t->st = buf[p + 14];
		p += 15;
		if (p == len) /* no TP-PI: no user data, so no header either */
			return t->udhi ? SMS_E_UDH : 0;
		/* TP-PI; extension octets (bit 8 set) carry nothing defined
		 * yet and are skipped, as 23.040 9.2.3.27 allows. */
		t->pi = buf[p] & 0x7f;
		while (buf[p++] & 0x80)
			if (p >= len)
				return SMS_E_TRUNCATED;
		if (t->pi & 0x01)
			TAKE(t->pid);
		if (t->pi & 0x02) {
			TAKE(t->dcs);
			sms_dcs_decode(t->dcs, &t->dcs_info);
		}
		if (t->pi & 0x04)
			return ud_decode(buf, len, p, t);
		if (t->udhi)
			return SMS_E_UDH;
		return p == len ? 0 : SMS_E_TRAILING;
	case SMS_COMMAND:
		t->status_report = fo & 0x20;
		TAKE(t->mr);
		TAKE(t->pid);
		TAKE(t->ct);
		TAKE(t->mn);
		rc = sms_tp_addr_decode(buf + p, len - p, &t->addr);
		if (rc < 0)
			return rc;
		p += (size_t)rc;
		TAKE(t->udl);
		if (t->udl > 156) /* 23.040 9.2.3.21 */
			return SMS_E_UDL;
		if (t->udl > len - p)
			return SMS_E_TRUNCATED;
		if (t->udl < len - p)
			return SMS_E_TRAILING;
		t->ud = t->payload = buf + p;
		t->ud_len = t->payload_len = t->udl;
		if (t->udhi) {
			if (t->udl < 1 || (size_t)1 + t->ud[0] > t->udl)
				return SMS_E_UDH;
			if ((rc = sms_udh_parse(t->ud + 1, t->ud[0], &t->udh)) < 0)
				return rc;
			t->payload += 1 + t->ud[0];
			t->payload_len -= (size_t)1 + t->ud[0];
		}
		return 0;
	}
	return SMS_E_TYPE;
}

/* Room check for the encoder. */
#define NEED(n)                                                                                    \
	do {                                                                                       \
		if ((size_t)(n) > cap - p)                                                         \
			return SMS_E_NOSPC;                                                        \
	} while (0)

/* Writes TP-UDL and TP-UD at out[p]; returns the new end or an sms_err.
 * max is 140 octets (160 septets), or 156 octets for command data. */
static int ud_encode(const struct sms_tpdu *t, bool sept, size_t max, uint8_t *out, size_t cap,
                     size_t p)
{
	size_t h = t->udhi ? 1 + t->udh.len : 0;
	if (h > max)
		return SMS_E_UDH;
	size_t udl = sept ? (h ? gsm7_header_septets(h) : 0) + t->data_len : h + t->data_len;
	if (udl > (sept ? max * 8 / 7 : max))
		return SMS_E_UDL;
	NEED(1 + h);
	out[p++] = (uint8_t)udl;
	if (h) {
		out[p] = (uint8_t)t->udh.len;
		if (t->udh.len)
			memcpy(out + p + 1, t->udh.ies, t->udh.len);
	}
	if (sept) {
		for (size_t i = 0; i < t->data_len; i++)
			if (t->data[i] > 0x7f)
				return SMS_E_INVAL;
		int n = gsm7_pack(t->data, t->data_len, h ? gsm7_header_septets(h) : 0, out + p,
		                  cap - p);
		if (n < 0)
			return n;
		return (int)(p + (size_t)(n > (int)h ? n : (int)h));
	}
	NEED(h + t->data_len);
	if (t->data_len)
		memcpy(out + p + h, t->data, t->data_len);
	return (int)(p + h + t->data_len);
}

int sms_tpdu_encode(const struct sms_tpdu *t, uint8_t *out, size_t cap)
{
	size_t p = 0;
	int rc;
	struct sms_dcs d;
	sms_dcs_decode(t->dcs, &d);
	bool sept = udl_in_septets(&d);
	NEED(1);
	uint8_t fo = (uint8_t)((t->udhi ? 0x40 : 0) | (t->status_report ? 0x20 : 0));
	switch (t->type) {
	case SMS_DELIVER:
		fo |= (uint8_t)((t->more_messages ? 0 : 0x04) | (t->loop_prevention ? 0x08 : 0) |
		                (t->reply_path ? 0x80 : 0));
		out[p++] = fo;
		if ((rc = sms_tp_addr_encode(&t->addr, out + p, cap - p)) < 0)
			return rc;
		p += (size_t)rc;
		NEED(9);
		out[p++] = t->pid;
		out[p++] = t->dcs;
		if ((rc = ts_encode(&t->scts, out + p)) < 0)
			return rc;
		return ud_encode(t, sept, 140, out, cap, p + 7);
	case SMS_SUBMIT:
		fo |= (uint8_t)(0x01 | (t->reject_duplicates ? 0x04 : 0) | (t->vp.format & 3) << 3 |
		                (t->reply_path ? 0x80 : 0));
		out[p++] = fo;
		NEED(1);
		out[p++] = t->mr;
		if ((rc = sms_tp_addr_encode(&t->addr, out + p, cap - p)) < 0)
			return rc;
		p += (size_t)rc;
		NEED(2);
		out[p++] = t->pid;
		out[p++] = t->dcs;
		if (t->vp.format == SMS_VP_RELATIVE) {
			NEED(1);
			out[p++] = t->vp.relative;
		} else if (t->vp.format != SMS_VP_NONE) {
			NEED(7);
			if (t->vp.format == SMS_VP_ABSOLUTE) {
				if ((rc = ts_encode(&t->vp.absolute, out + p)) < 0)
					return rc;
			} else {
				memcpy(out + p, t->vp.enhanced, 7);
			}
			p += 7;
		}
		return ud_encode(t, sept, 140, out, cap, p);
	case SMS_STATUS_REPORT:
		fo |= (uint8_t)(0x02 | (t->more_messages ? 0 : 0x04) |
		                (t->loop_prevention ? 0x08 : 0));
		out[p++] = fo;
		NEED(1);
		out[p++] = t->mr;
		if ((rc = sms_tp_addr_encode(&t->addr, out + p, cap - p)) < 0)
			return rc;
		p += (size_t)rc;
		NEED(15);
		if ((rc = ts_encode(&t->scts, out + p)) < 0 ||
		    (rc = ts_encode(&t->dt, out + p + 7)) < 0)
			return rc;
		out[p + 14] = t->st;
		p += 15;
		if (t->pi & 0x80)
			return SMS_E_INVAL;
		if (t->pi == 0)
			return t->udhi ? SMS_E_UDH : (int)p;
		NEED(1);
		out[p++] = t->pi;
		if (t->pi & 0x01) {
			NEED(1);
			out[p++] = t->pid;
		}
		if (t->pi & 0x02) {
			NEED(1);
			out[p++] = t->dcs;
		}
		if (t->pi & 0x04)
			return ud_encode(t, sept, 140, out, cap, p);
		return t->udhi ? SMS_E_UDH : (int)p;
	case SMS_COMMAND:
		fo |= 0x02;
		out[p++] = fo;
		NEED(4);
		out[p++] = t->mr;
		out[p++] = t->pid;
		out[p++] = t->ct;
		out[p++] = t->mn;
		if ((rc = sms_tp_addr_encode(&t->addr, out + p, cap - p)) < 0)
			return rc;
		p += (size_t)rc;
		return ud_encode(t, false, 156, out, cap, p);
	}
	return SMS_E_INVAL;
}

int sms_tpdu_septets(const struct sms_tpdu *t, uint8_t *sept, size_t cap)
{
	if (t->type == SMS_COMMAND || !udl_in_septets(&t->dcs_info))
		return SMS_E_DCS;
	if (t->text_septets > cap)
		return SMS_E_NOSPC;
	if (!t->ud) /* a status report without user data */
		return 0;
	size_t first = t->udhi ? gsm7_header_septets((size_t)1 + t->ud[0]) : 0;
	int rc = gsm7_unpack(t->ud, t->ud_len, first, t->text_septets, sept);
	return rc < 0 ? rc : (int)t->text_septets;
}

int sms_tpdu_text(const struct sms_tpdu *t, char *out, size_t cap)
{
	if (t->type == SMS_COMMAND || t->dcs_info.compressed)
		return SMS_E_DCS;
	if (t->dcs_info.alphabet == SMS_ALPHABET_UCS2)
		return ucs2_to_utf8(t->payload, t->payload_len, out, cap);
	if (t->dcs_info.alphabet != SMS_ALPHABET_GSM7)
		return SMS_E_DCS;
	uint8_t sept[160];
	int n = sms_tpdu_septets(t, sept, sizeof(sept));
	if (n < 0)
		return n;
	return gsm7_to_utf8(sept, (size_t)n, out, cap);
}
