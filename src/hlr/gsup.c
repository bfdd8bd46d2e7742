/*
 * GSUP codec (GSUP_NOTES.md section 3), wire-compatible with libosmogsm 1.7.
 *
 * The decoder is stricter than libosmogsm where libosmogsm would read past an
 * IE or accept something it could not encode again (fixed-size IEs must have
 * their size, numbers must be decimal digits, APN labels must fit), and exactly
 * as lenient where peers rely on it (IEs after the IMSI in any order, unknown
 * IEs skipped). Whatever it accepts, gsup_encode() can write again.
 *
 * The encoder writes IEs in the order libosmogsm 1.7's osmo_gsup_encode() does,
 * so our messages are byte-for-byte what osmo-hlr would send.
 */
#include "hlr/gsup.h"

#include <errno.h>
#include <string.h>

enum gsup_iei {
	IEI_IMSI = 0x01,
	IEI_CAUSE = 0x02,
	IEI_AUTH_TUPLE = 0x03,
	IEI_PDP_INFO_COMPL = 0x04,
	IEI_PDP_INFO = 0x05,
	IEI_CANCEL_TYPE = 0x06,
	IEI_FREEZE_PTMSI = 0x07,
	IEI_MSISDN = 0x08,
	IEI_HLR_NUMBER = 0x09,
	IEI_MSG_CLASS = 0x0a,
	IEI_PDP_CONTEXT_ID = 0x10,
	IEI_PDP_TYPE = 0x11,
	IEI_APN = 0x12,
	IEI_PDP_QOS = 0x13,
	IEI_CHARG_CHAR = 0x14,
	IEI_RAND = 0x20,
	IEI_SRES = 0x21,
	IEI_KC = 0x22,
	IEI_IK = 0x23,
	IEI_CK = 0x24,
	IEI_AUTN = 0x25,
	IEI_AUTS = 0x26,
	IEI_RES = 0x27,
	IEI_CN_DOMAIN = 0x28,
	IEI_CURRENT_RAT = 0x2a,
	IEI_SESSION_ID = 0x30,
	IEI_SESSION_STATE = 0x31,
	IEI_SS_INFO = 0x35,
	IEI_SM_RP_MR = 0x40,
	IEI_SM_RP_DA = 0x41,
	IEI_SM_RP_OA = 0x42,
	IEI_SM_RP_UI = 0x43,
	IEI_SM_RP_CAUSE = 0x44,
	IEI_SM_RP_MMS = 0x45,
	IEI_SM_ALERT_REASON = 0x46,
	IEI_IMEI = 0x50,
	IEI_IMEI_RESULT = 0x51,
	IEI_NUM_VECTORS = 0x52,
	IEI_SOURCE_NAME = 0x60,
	IEI_DESTINATION_NAME = 0x61,
};

#define IMSI_MIN_DIGITS 6
#define IMSI_MAX_DIGITS 15
#define APN_LABEL_MAX   63

/* ---- decoding ---- */

/* A walk over a list of 1-octet-tag, 1-octet-length IEs. */
struct tlv_iter {
	const uint8_t *p;
	size_t left;
};

/* Takes the next IE. Returns 1 with tag/val/vlen set, 0 at the end of the list,
 * or -EBADMSG if the list ends inside an IE header or value. */
static int tlv_next(struct tlv_iter *it, uint8_t *tag, const uint8_t **val, size_t *vlen)
{
	if (it->left == 0)
		return 0;
	if (it->left < 2 || it->p[1] > it->left - 2)
		return -EBADMSG;
	*tag = it->p[0];
	*vlen = it->p[1];
	*val = it->p + 2;
	it->p += 2 + *vlen;
	it->left -= 2 + *vlen;
	return 1;
}

/* Decodes TBCD digits (low nibble first, an F filler allowed only in the last
 * high nibble) into out as a C string. Returns the number of digits, or -1 for
 * a non-digit nibble or more digits than fit in cap (out is then ""). */
static int tbcd_decode(const uint8_t *v, size_t n, char *out, size_t cap)
{
	size_t d = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		for (int half = 0; half < 2; half++) {
			uint8_t nib = half ? v[i] >> 4 : v[i] & 0x0f;
			if (nib == 0x0f && half && i == n - 1)
				break;
			if (nib > 9 || d + 1 >= cap) {
				out[0] = '\0';
				return -1;
			}
			out[d++] = (char)('0' + nib);
		}
	}
	out[d] = '\0';
	return (int)d;
}

/* A number coded [n][n octets TBCD], without TON/NPI (MSISDN, HLR number,
 * IMEI). Returns 0 or -EBADMSG. */
static int lv_number_decode(const uint8_t *v, size_t vlen, char *out, size_t cap)
{
	if (vlen < 1 || v[0] != vlen - 1)
		return -EBADMSG;
	return tbcd_decode(v + 1, vlen - 1, out, cap) < 0 ? -EBADMSG : 0;
}

/* TS 23.003 9.1 label encoding to dotted text. Labels must be 1..63 octets,
 * must lie inside the IE and may not contain '.' or NUL (they would not survive
 * being encoded again). Returns 0 or -EBADMSG. */
static int apn_decode(const uint8_t *v, size_t n, char *out, size_t cap)
{
	size_t pos = 0, o = 0;
	out[0] = '\0';
	while (pos < n) {
		size_t l = v[pos++];
		if (l == 0 || l > APN_LABEL_MAX || l > n - pos)
			return -EBADMSG;
		if (o + (o ? 1 : 0) + l + 1 > cap)
			return -EBADMSG;
		if (o)
			out[o++] = '.';
		for (size_t i = 0; i < l; i++) {
			uint8_t c = v[pos + i];
			if (c == '.' || c == '\0') {
				out[0] = '\0';
				return -EBADMSG;
			}
			out[o++] = (char)c;
		}
		out[o] = '\0';
		pos += l;
	}
	return 0;
}

static int auth_tuple_decode(const uint8_t *v, size_t n, struct gsup_auth_tuple *t)
{
	struct tlv_iter it = {v, n};
	uint8_t tag;
	const uint8_t *val;
	size_t vlen;
	int rc;

	memset(t, 0, sizeof(*t));
	while ((rc = tlv_next(&it, &tag, &val, &vlen)) > 0) {
		uint8_t *dst = NULL;
		size_t want = 0;
		bool gsm = false;
		switch (tag) {
		case IEI_RAND:
			dst = t->rand, want = sizeof(t->rand), gsm = true;
			break;
		case IEI_SRES:
			dst = t->sres, want = sizeof(t->sres), gsm = true;
			break;
		case IEI_KC:
			dst = t->kc, want = sizeof(t->kc), gsm = true;
			break;
		case IEI_IK:
			dst = t->ik, want = sizeof(t->ik);
			break;
		case IEI_CK:
			dst = t->ck, want = sizeof(t->ck);
			break;
		case IEI_AUTN:
			dst = t->autn, want = sizeof(t->autn);
			break;
		case IEI_RES:
			if (vlen < 4 || vlen > sizeof(t->res))
				return -EBADMSG;
			memcpy(t->res, val, vlen);
			t->res_len = (uint8_t)vlen;
			t->has_umts = true;
			continue;
		default:
			continue; /* unknown: skipped */
		}
		if (vlen != want)
			return -EBADMSG;
		memcpy(dst, val, want);
		if (gsm)
			t->has_gsm = true;
		else
			t->has_umts = true;
	}
	return rc;
}

/* The octets pdp_info_encode() will write inside the PDP info IE. */
static size_t pdp_info_inner_len(const struct gsup_pdp_info *p)
{
	size_t n = 3; /* context id */
	if (p->has_pdp_type)
		n += 4;
	size_t apn_len = strnlen(p->apn, sizeof(p->apn));
	if (apn_len)
		n += 2 + apn_len + 1;
	if (p->qos)
		n += 2 + (size_t)p->qos_len;
	return n;
}

static int pdp_info_decode(const uint8_t *v, size_t n, struct gsup_pdp_info *p)
{
	struct tlv_iter it = {v, n};
	uint8_t tag;
	const uint8_t *val;
	size_t vlen;
	int rc;

	memset(p, 0, sizeof(*p));
	while ((rc = tlv_next(&it, &tag, &val, &vlen)) > 0) {
		switch (tag) {
		case IEI_PDP_CONTEXT_ID:
			if (vlen != 1)
				return -EBADMSG;
			p->context_id = val[0];
			break;
		case IEI_PDP_TYPE:
			if (vlen != 2)
				return -EBADMSG;
			p->has_pdp_type = true;
			p->pdp_type = (uint16_t)(val[0] << 8 | val[1]);
			break;
		case IEI_APN:
			if (apn_decode(val, vlen, p->apn, sizeof(p->apn)) < 0)
				return -EBADMSG;
			break;
		case IEI_PDP_QOS:
			p->qos = val;
			p->qos_len = (uint8_t)vlen;
			break;
		default:
			/* 0x14 (per-context charging) has no field; unknown skipped */
			break;
		}
	}
	if (rc < 0)
		return rc;
	/* What we accept we must be able to send again: a context without its
	 * id IE, re-encoded with one, could outgrow a one-octet length. */
	if (pdp_info_inner_len(p) > 255)
		return -EBADMSG;
	return 0;
}

/* One-octet IEs: 1 if the IE has exactly one octet (copied to *dst). */
static bool u8_ie(const uint8_t *val, size_t vlen, uint8_t *dst)
{
	if (vlen != 1)
		return false;
	*dst = val[0];
	return true;
}

/* SM-RP-DA/OA: a known identity type and, except for "none", an identity
 * (libosmogsm refuses the message otherwise, so a peer never sends it). */
static bool sm_rp_id_ok(const uint8_t *val, size_t vlen)
{
	if (vlen < 1)
		return false;
	switch (val[0]) {
	case GSUP_SM_RP_ID_IMSI:
	case GSUP_SM_RP_ID_MSISDN:
	case GSUP_SM_RP_ID_SMSC:
		return vlen >= 2;
	case GSUP_SM_RP_ID_NONE:
		return vlen == 1;
	default:
		return false;
	}
}

/* Decodes every IE after the IMSI. Returns 0 or -EBADMSG. */
static int decode_ies(struct tlv_iter *it, struct gsup_msg *m)
{
	uint8_t tag;
	const uint8_t *val;
	size_t vlen;
	int rc;

	while ((rc = tlv_next(it, &tag, &val, &vlen)) > 0) {
		bool ok = true;
		switch (tag) {
		case IEI_CAUSE:
			ok = m->has_cause = u8_ie(val, vlen, &m->cause);
			break;
		case IEI_AUTH_TUPLE:
			if (m->n_auth >= GSUP_MAX_AUTH)
				return -EBADMSG;
			if (auth_tuple_decode(val, vlen, &m->auth[m->n_auth]) < 0)
				return -EBADMSG;
			m->n_auth++;
			break;
		case IEI_PDP_INFO_COMPL:
			m->pdp_info_complete = true;
			break;
		case IEI_PDP_INFO:
			if (m->n_pdp >= GSUP_MAX_PDP)
				return -EBADMSG;
			if (pdp_info_decode(val, vlen, &m->pdp[m->n_pdp]) < 0)
				return -EBADMSG;
			m->n_pdp++;
			break;
		case IEI_CANCEL_TYPE:
			ok = m->has_cancel_type = u8_ie(val, vlen, &m->cancel_type);
			break;
		case IEI_FREEZE_PTMSI:
			m->freeze_ptmsi = true;
			break;
		case IEI_MSISDN:
			ok = lv_number_decode(val, vlen, m->msisdn, sizeof(m->msisdn)) == 0;
			break;
		case IEI_HLR_NUMBER:
			ok = lv_number_decode(val, vlen, m->hlr_number, sizeof(m->hlr_number)) == 0;
			break;
		case IEI_MSG_CLASS:
			ok = m->has_msg_class = u8_ie(val, vlen, &m->msg_class);
			break;
		case IEI_CHARG_CHAR:
			m->pdp_charging = val;
			m->pdp_charging_len = vlen;
			break;
		case IEI_RAND:
			ok = m->has_rand = vlen == sizeof(m->rand);
			if (ok)
				memcpy(m->rand, val, vlen);
			break;
		case IEI_AUTS:
			ok = m->has_auts = vlen == sizeof(m->auts);
			if (ok)
				memcpy(m->auts, val, vlen);
			break;
		case IEI_CN_DOMAIN:
			ok = m->has_cn_domain = u8_ie(val, vlen, &m->cn_domain);
			break;
		case IEI_CURRENT_RAT:
			ok = m->has_current_rat = u8_ie(val, vlen, &m->current_rat);
			break;
		case IEI_SESSION_ID:
			ok = vlen == 4;
			if (ok) {
				m->has_session = true;
				m->session_id = (uint32_t)val[0] << 24 | (uint32_t)val[1] << 16 |
				                (uint32_t)val[2] << 8 | val[3];
			}
			break;
		case IEI_SESSION_STATE:
			ok = u8_ie(val, vlen, &m->session_state);
			if (ok)
				m->has_session = true;
			break;
		case IEI_SS_INFO:
			m->ss_info = val;
			m->ss_info_len = vlen;
			break;
		case IEI_SM_RP_MR:
			ok = m->has_sm_rp_mr = u8_ie(val, vlen, &m->sm_rp_mr);
			break;
		case IEI_SM_RP_DA:
			ok = sm_rp_id_ok(val, vlen);
			m->sm_rp_da = val;
			m->sm_rp_da_len = vlen;
			break;
		case IEI_SM_RP_OA:
			ok = sm_rp_id_ok(val, vlen);
			m->sm_rp_oa = val;
			m->sm_rp_oa_len = vlen;
			break;
		case IEI_SM_RP_UI:
			m->sm_rp_ui = val;
			m->sm_rp_ui_len = vlen;
			break;
		case IEI_SM_RP_CAUSE:
			ok = m->has_sm_rp_cause = u8_ie(val, vlen, &m->sm_rp_cause);
			break;
		case IEI_SM_RP_MMS:
			ok = m->has_sm_rp_mms = u8_ie(val, vlen, &m->sm_rp_mms);
			break;
		case IEI_SM_ALERT_REASON:
			ok = m->has_sm_alert_reason = u8_ie(val, vlen, &m->sm_alert_reason);
			break;
		case IEI_IMEI:
			ok = lv_number_decode(val, vlen, m->imei, sizeof(m->imei)) == 0;
			break;
		case IEI_IMEI_RESULT:
			ok = m->has_imei_result = u8_ie(val, vlen, &m->imei_result);
			break;
		case IEI_NUM_VECTORS:
			ok = m->has_num_vectors = u8_ie(val, vlen, &m->num_vectors);
			break;
		case IEI_SOURCE_NAME:
			m->source_name = val;
			m->source_name_len = vlen;
			break;
		case IEI_DESTINATION_NAME:
			m->destination_name = val;
			m->destination_name_len = vlen;
			break;
		default:
			/* Unknown, or not modelled here (a second IMSI, top-level
			 * PDP context ids of DeleteSubscriberData, supported RAT
			 * types, AN-APDU, RR/BSSAP/SM causes). */
			break;
		}
		if (!ok)
			return -EBADMSG;
	}
	return rc;
}

int gsup_decode(const uint8_t *buf, size_t len, struct gsup_msg *out, uint8_t *cause)
{
	memset(out, 0, sizeof(*out));
	int rc = -EBADMSG;
	if (len < 1)
		goto err;
	out->type = buf[0];

	struct tlv_iter it = {buf + 1, len - 1};
	uint8_t tag;
	const uint8_t *val;
	size_t vlen;
	if (tlv_next(&it, &tag, &val, &vlen) <= 0 || tag != IEI_IMSI)
		goto err;
	int digits = tbcd_decode(val, vlen, out->imsi, sizeof(out->imsi));
	if (digits < 0)
		goto err;

	/* An IMSI of the wrong length is still readable: decode the rest so the
	 * caller can answer with this IMSI, class and session (osmo-hlr does the
	 * same: "12345" gets an error 0x60 back, GSUP_NOTES.md section 8). */
	rc = decode_ies(&it, out);
	if (digits < IMSI_MIN_DIGITS || digits > IMSI_MAX_DIGITS)
		rc = -EBADMSG;
	if (rc == 0)
		return 0;
err:
	if (cause)
		*cause = GSUP_CAUSE_INV_MAND_INFO;
	return rc;
}

/* ---- encoding ---- */

/* An output buffer that remembers the first failure. */
struct wbuf {
	uint8_t *p;
	size_t cap, n;
	int err; /* 0, -EMSGSIZE or -EINVAL */
};

static void put_u8(struct wbuf *w, uint8_t v)
{
	if (w->err)
		return;
	if (w->n >= w->cap) {
		w->err = -EMSGSIZE;
		return;
	}
	w->p[w->n++] = v;
}

static void put_bytes(struct wbuf *w, const uint8_t *v, size_t len)
{
	if (w->err)
		return;
	if (len > w->cap - w->n) {
		w->err = -EMSGSIZE;
		return;
	}
	if (len)
		memcpy(w->p + w->n, v, len);
	w->n += len;
}

static void put_tlv(struct wbuf *w, uint8_t tag, const uint8_t *v, size_t len)
{
	if (len > 255) {
		if (!w->err)
			w->err = -EINVAL;
		return;
	}
	put_u8(w, tag);
	put_u8(w, (uint8_t)len);
	put_bytes(w, v, len);
}

/* Starts a nested IE; returns the position of its length octet. */
static size_t nest_begin(struct wbuf *w, uint8_t tag)
{
	put_u8(w, tag);
	put_u8(w, 0);
	return w->n;
}

/* Closes a nested IE opened at pos (the octet after its length). */
static void nest_end(struct wbuf *w, size_t pos)
{
	if (w->err)
		return;
	size_t len = w->n - pos;
	if (len > 255) {
		w->err = -EINVAL;
		return;
	}
	w->p[pos - 1] = (uint8_t)len;
}

/* Packs decimal digits as TBCD (low nibble first, F filler). Returns the
 * number of octets, or -EINVAL for a non-digit or more than max_digits. */
static int tbcd_encode(const char *digits, size_t max_digits, uint8_t *out)
{
	size_t n = strnlen(digits, max_digits + 1);
	if (n > max_digits)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (digits[i] < '0' || digits[i] > '9')
			return -EINVAL;
		uint8_t nib = (uint8_t)(digits[i] - '0');
		if (i % 2 == 0)
			out[i / 2] = 0xf0 | nib;
		else
			out[i / 2] = (uint8_t)((out[i / 2] & 0x0f) | nib << 4);
	}
	return (int)((n + 1) / 2);
}

/* MSISDN, HLR number, IMEI: [n][TBCD], omitted when the string is empty. */
static void put_lv_number(struct wbuf *w, uint8_t tag, const char *digits, size_t field_size)
{
	uint8_t v[1 + 8];
	if (w->err || digits[0] == '\0')
		return;
	int n = tbcd_encode(digits, field_size - 1, v + 1);
	if (n < 0) {
		w->err = n;
		return;
	}
	v[0] = (uint8_t)n;
	put_tlv(w, tag, v, 1 + (size_t)n);
}

/* Dotted text to TS 23.003 labels. Returns the encoded length or -EINVAL. */
static int apn_encode(const char *apn, size_t field_size, uint8_t *out, size_t cap)
{
	size_t len = strnlen(apn, field_size);
	if (len == field_size || len + 1 > cap)
		return -EINVAL;
	size_t o = 0, start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && apn[i] != '.')
			continue;
		size_t l = i - start;
		if (l == 0 || l > APN_LABEL_MAX)
			return -EINVAL;
		out[o++] = (uint8_t)l;
		memcpy(out + o, apn + start, l);
		o += l;
		start = i + 1;
	}
	return (int)o;
}

static void put_pdp_info(struct wbuf *w, const struct gsup_pdp_info *p)
{
	size_t pos = nest_begin(w, IEI_PDP_INFO);
	put_tlv(w, IEI_PDP_CONTEXT_ID, &p->context_id, 1);
	if (p->has_pdp_type) {
		/* libosmogsm keeps the low 12 bits and writes the top nibble
		 * as F (spare bits of TS 29.060 7.7.27 End User Address). */
		uint16_t t = p->pdp_type | 0xf000;
		uint8_t v[2] = {(uint8_t)(t >> 8), (uint8_t)t};
		put_tlv(w, IEI_PDP_TYPE, v, 2);
	}
	if (p->apn[0] != '\0') {
		uint8_t v[sizeof(p->apn) + 1];
		int n = apn_encode(p->apn, sizeof(p->apn), v, sizeof(v));
		if (n < 0) {
			if (!w->err)
				w->err = n;
			return;
		}
		put_tlv(w, IEI_APN, v, (size_t)n);
	}
	if (p->qos)
		put_tlv(w, IEI_PDP_QOS, p->qos, p->qos_len);
	nest_end(w, pos);
}

/* GSUP_NOTES.md 5.2: RAND goes out only with the GSM part, as in libosmogsm's
 * encode_auth_info(); RES is left out only when there is none. */
static void put_auth_tuple(struct wbuf *w, const struct gsup_auth_tuple *t)
{
	size_t pos = nest_begin(w, IEI_AUTH_TUPLE);
	if (t->has_gsm) {
		put_tlv(w, IEI_RAND, t->rand, sizeof(t->rand));
		put_tlv(w, IEI_SRES, t->sres, sizeof(t->sres));
		put_tlv(w, IEI_KC, t->kc, sizeof(t->kc));
	}
	if (t->has_umts) {
		put_tlv(w, IEI_IK, t->ik, sizeof(t->ik));
		put_tlv(w, IEI_CK, t->ck, sizeof(t->ck));
		put_tlv(w, IEI_AUTN, t->autn, sizeof(t->autn));
		if (t->res_len != 0) {
			if (t->res_len < 4 || t->res_len > sizeof(t->res)) {
				if (!w->err)
					w->err = -EINVAL;
				return;
			}
			put_tlv(w, IEI_RES, t->res, t->res_len);
		}
	}
	nest_end(w, pos);
}

int gsup_encode(const struct gsup_msg *m, uint8_t *out, size_t cap)
{
	struct wbuf w = {out, cap, 0, 0};
	uint8_t v[16];

	if (m->n_auth > GSUP_MAX_AUTH || m->n_pdp > GSUP_MAX_PDP || m->imsi[0] == '\0')
		return -EINVAL;
	put_u8(&w, m->type);
	int n = tbcd_encode(m->imsi, IMSI_MAX_DIGITS, v);
	if (n < 0)
		return n;
	put_tlv(&w, IEI_IMSI, v, (size_t)n);

	/* The rest in osmo_gsup_encode()'s order. */
	put_lv_number(&w, IEI_MSISDN, m->msisdn, sizeof(m->msisdn));
	put_lv_number(&w, IEI_HLR_NUMBER, m->hlr_number, sizeof(m->hlr_number));
	if (m->has_cause)
		put_tlv(&w, IEI_CAUSE, &m->cause, 1);
	if (m->has_cancel_type)
		put_tlv(&w, IEI_CANCEL_TYPE, &m->cancel_type, 1);
	if (m->pdp_info_complete)
		put_tlv(&w, IEI_PDP_INFO_COMPL, NULL, 0);
	if (m->freeze_ptmsi)
		put_tlv(&w, IEI_FREEZE_PTMSI, NULL, 0);
	for (unsigned i = 0; i < m->n_pdp; i++)
		put_pdp_info(&w, &m->pdp[i]);
	/* libosmogsm writes the number of vectors wanted in a SAI request
	 * where the tuples go in any other message, and never both. */
	if (m->type == GSUP_SEND_AUTH_INFO_REQ) {
		if (m->has_num_vectors)
			put_tlv(&w, IEI_NUM_VECTORS, &m->num_vectors, 1);
	} else {
		for (unsigned i = 0; i < m->n_auth; i++)
			put_auth_tuple(&w, &m->auth[i]);
	}
	if (m->has_auts)
		put_tlv(&w, IEI_AUTS, m->auts, sizeof(m->auts));
	if (m->has_rand)
		put_tlv(&w, IEI_RAND, m->rand, sizeof(m->rand));
	if (m->has_cn_domain)
		put_tlv(&w, IEI_CN_DOMAIN, &m->cn_domain, 1);
	if (m->pdp_charging)
		put_tlv(&w, IEI_CHARG_CHAR, m->pdp_charging, m->pdp_charging_len);
	if (m->has_session) {
		uint8_t sid[4] = {(uint8_t)(m->session_id >> 24), (uint8_t)(m->session_id >> 16),
		                  (uint8_t)(m->session_id >> 8), (uint8_t)m->session_id};
		put_tlv(&w, IEI_SESSION_ID, sid, 4);
		put_tlv(&w, IEI_SESSION_STATE, &m->session_state, 1);
	}
	if (m->ss_info)
		put_tlv(&w, IEI_SS_INFO, m->ss_info, m->ss_info_len);
	if (m->has_sm_rp_mr)
		put_tlv(&w, IEI_SM_RP_MR, &m->sm_rp_mr, 1);
	if (m->sm_rp_da)
		put_tlv(&w, IEI_SM_RP_DA, m->sm_rp_da, m->sm_rp_da_len);
	if (m->sm_rp_oa)
		put_tlv(&w, IEI_SM_RP_OA, m->sm_rp_oa, m->sm_rp_oa_len);
	if (m->sm_rp_ui)
		put_tlv(&w, IEI_SM_RP_UI, m->sm_rp_ui, m->sm_rp_ui_len);
	if (m->has_sm_rp_mms)
		put_tlv(&w, IEI_SM_RP_MMS, &m->sm_rp_mms, 1);
	if (m->has_sm_rp_cause)
		put_tlv(&w, IEI_SM_RP_CAUSE, &m->sm_rp_cause, 1);
	if (m->has_sm_alert_reason)
		put_tlv(&w, IEI_SM_ALERT_REASON, &m->sm_alert_reason, 1);
	put_lv_number(&w, IEI_IMEI, m->imei, sizeof(m->imei));
	if (m->has_imei_result)
		put_tlv(&w, IEI_IMEI_RESULT, &m->imei_result, 1);
	if (m->has_msg_class)
		put_tlv(&w, IEI_MSG_CLASS, &m->msg_class, 1);
	if (m->source_name)
		put_tlv(&w, IEI_SOURCE_NAME, m->source_name, m->source_name_len);
	if (m->destination_name)
		put_tlv(&w, IEI_DESTINATION_NAME, m->destination_name, m->destination_name_len);
	if (m->has_current_rat)
		put_tlv(&w, IEI_CURRENT_RAT, &m->current_rat, 1);

	return w.err ? w.err : (int)w.n;
}

int gsup_sm_rp_id_build(uint8_t id, uint8_t ton_npi, const char *digits, uint8_t *out, size_t cap)
{
	/* An SMSC address or MSISDN has at most 20 digits (TS 24.011 8.2.5.1);
	 * an IMSI 15. */
	uint8_t v[2 + 10];
	size_t n = 0;
	v[n++] = id;
	switch (id) {
	case GSUP_SM_RP_ID_NONE:
		break;
	case GSUP_SM_RP_ID_MSISDN:
	case GSUP_SM_RP_ID_SMSC:
		v[n++] = ton_npi;
		/* fall through */
	case GSUP_SM_RP_ID_IMSI: {
		if (!digits || !digits[0])
			return -EINVAL;
		int d = tbcd_encode(digits, id == GSUP_SM_RP_ID_IMSI ? IMSI_MAX_DIGITS : 20, v + n);
		if (d < 0)
			return d;
		n += (size_t)d;
		break;
	}
	default:
		return -EINVAL;
	}
	if (n > cap)
		return -EMSGSIZE;
	memcpy(out, v, n);
	return (int)n;
}

enum gsup_session_state_wire {
	SESSION_STATE_CONTINUE = 2,
	SESSION_STATE_END = 3,
};

/* A result or error ends the dialogue (state END); a request sent in answer
 * (network-initiated USSD continuation) keeps it open (CONTINUE). */
void gsup_make_response(const struct gsup_msg *req, uint8_t type, struct gsup_msg *out)
{
	memset(out, 0, sizeof(*out));
	out->type = type;
	memcpy(out->imsi, req->imsi, sizeof(out->imsi));
	out->imsi[sizeof(out->imsi) - 1] = '\0';
	out->has_msg_class = req->has_msg_class;
	out->msg_class = req->msg_class;
	if (req->source_name) {
		out->destination_name = req->source_name;
		out->destination_name_len = req->source_name_len;
	}
	out->has_sm_rp_mr = req->has_sm_rp_mr;
	out->sm_rp_mr = req->sm_rp_mr;
	if (req->has_session) {
		out->has_session = true;
		out->session_id = req->session_id;
		out->session_state =
		    GSUP_IS_REQUEST(type) ? SESSION_STATE_CONTINUE : SESSION_STATE_END;
	}
}

const char *gsup_type_name(uint8_t type)
{
	switch (type) {
	case GSUP_UPDATE_LOCATION_REQ:
		return "UpdateLocation-Request";
	case GSUP_UPDATE_LOCATION_ERR:
		return "UpdateLocation-Error";
	case GSUP_UPDATE_LOCATION_RES:
		return "UpdateLocation-Result";
	case GSUP_SEND_AUTH_INFO_REQ:
		return "SendAuthInfo-Request";
	case GSUP_SEND_AUTH_INFO_ERR:
		return "SendAuthInfo-Error";
	case GSUP_SEND_AUTH_INFO_RES:
		return "SendAuthInfo-Result";
	case GSUP_AUTH_FAIL_REPORT:
		return "AuthFailureReport";
	case GSUP_PURGE_MS_REQ:
		return "PurgeMS-Request";
	case GSUP_PURGE_MS_ERR:
		return "PurgeMS-Error";
	case GSUP_PURGE_MS_RES:
		return "PurgeMS-Result";
	case GSUP_INSERT_DATA_REQ:
		return "InsertSubscriberData-Request";
	case GSUP_INSERT_DATA_ERR:
		return "InsertSubscriberData-Error";
	case GSUP_INSERT_DATA_RES:
		return "InsertSubscriberData-Result";
	case GSUP_DELETE_DATA_REQ:
		return "DeleteSubscriberData-Request";
	case GSUP_DELETE_DATA_ERR:
		return "DeleteSubscriberData-Error";
	case GSUP_DELETE_DATA_RES:
		return "DeleteSubscriberData-Result";
	case GSUP_LOCATION_CANCEL_REQ:
		return "LocationCancel-Request";
	case GSUP_LOCATION_CANCEL_ERR:
		return "LocationCancel-Error";
	case GSUP_LOCATION_CANCEL_RES:
		return "LocationCancel-Result";
	case GSUP_PROC_SS_REQ:
		return "ProcessSS-Request";
	case GSUP_PROC_SS_ERR:
		return "ProcessSS-Error";
	case GSUP_PROC_SS_RES:
		return "ProcessSS-Result";
	case GSUP_MO_FORWARD_SM_REQ:
		return "MO-ForwardSM-Request";
	case GSUP_MO_FORWARD_SM_ERR:
		return "MO-ForwardSM-Error";
	case GSUP_MO_FORWARD_SM_RES:
		return "MO-ForwardSM-Result";
	case GSUP_MT_FORWARD_SM_REQ:
		return "MT-ForwardSM-Request";
	case GSUP_MT_FORWARD_SM_ERR:
		return "MT-ForwardSM-Error";
	case GSUP_MT_FORWARD_SM_RES:
		return "MT-ForwardSM-Result";
	case GSUP_READY_FOR_SM_REQ:
		return "ReadyForSM-Request";
	case GSUP_READY_FOR_SM_ERR:
		return "ReadyForSM-Error";
	case GSUP_READY_FOR_SM_RES:
		return "ReadyForSM-Result";
	case GSUP_CHECK_IMEI_REQ:
		return "CheckIMEI-Request";
	case GSUP_CHECK_IMEI_ERR:
		return "CheckIMEI-Error";
	case GSUP_CHECK_IMEI_RES:
		return "CheckIMEI-Result";
	default:
		return "unknown";
	}
}
