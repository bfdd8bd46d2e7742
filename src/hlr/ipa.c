/*
 * IPA framing and CCM (GSUP_NOTES.md sections 1-2). Pure functions over caller
 * buffers: nothing is allocated and nothing a peer sends can make them read or
 * write outside the buffers they are given.
 */
#include "hlr/ipa.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* What osmo-hlr sends on accept (libosmocore ipa_id_req_msg[]): (len 1, tag)
 * pairs for unit id, MAC, location 1/2, equipment and software version, unit
 * name and serial number, in that order. */
static const uint8_t id_get_tags[] = {
    IPA_ID_UNIT,      IPA_ID_MACADDR,   IPA_ID_LOCATION1, IPA_ID_LOCATION2,
    IPA_ID_EQUIPVERS, IPA_ID_SWVERSION, IPA_ID_UNITNAME,  IPA_ID_SERNR,
};

int ipa_frame_parse(const uint8_t *buf, size_t len, struct ipa_frame *f)
{
	if (len < IPA_HEADER_LEN)
		return 0;
	size_t body = ((size_t)buf[0] << 8) | buf[1];
	uint8_t proto = buf[2];

	/* Decide on the header alone: a bad length is known before the body
	 * arrives, and waiting for it would only let a peer make us buffer. */
	if (body == 0 || IPA_HEADER_LEN + body > IPA_MAX_FRAME)
		return -EBADMSG;
	/* body >= 1 here, so an OSMO frame always has its extension octet. */
	if (len < IPA_HEADER_LEN + body)
		return 0;

	f->proto = proto;
	f->frame_len = IPA_HEADER_LEN + body;
	if (proto == IPA_PROTO_OSMO) {
		f->ext = buf[IPA_HEADER_LEN];
		f->payload = buf + IPA_HEADER_LEN + 1;
		f->payload_len = body - 1;
	} else {
		f->ext = 0;
		f->payload = buf + IPA_HEADER_LEN;
		f->payload_len = body;
	}
	return 1;
}

int ipa_header_write(uint8_t *out, uint8_t proto, uint8_t ext, size_t payload_len)
{
	size_t hdr = proto == IPA_PROTO_OSMO ? IPA_HEADER_LEN + 1 : IPA_HEADER_LEN;
	if (payload_len > IPA_MAX_FRAME - hdr)
		return -EMSGSIZE;
	size_t body = hdr - IPA_HEADER_LEN + payload_len;
	out[0] = (uint8_t)(body >> 8);
	out[1] = (uint8_t)body;
	out[2] = proto;
	if (proto == IPA_PROTO_OSMO)
		out[3] = ext;
	return (int)hdr;
}

size_t ipa_ccm_simple(uint8_t *out, enum ipa_ccm_type type)
{
	out[0] = 0x00;
	out[1] = 0x01;
	out[2] = IPA_PROTO_CCM;
	out[3] = (uint8_t)type;
	return 4;
}

size_t ipa_ccm_id_get(uint8_t *out)
{
	size_t n = IPA_HEADER_LEN;
	out[n++] = IPA_CCM_ID_GET;
	for (size_t i = 0; i < sizeof(id_get_tags); i++) {
		out[n++] = 0x01; /* an ID_GET entry's length counts the tag */
		out[n++] = id_get_tags[i];
	}
	ipa_header_write(out, IPA_PROTO_CCM, 0, n - IPA_HEADER_LEN);
	return n;
}

/* Copies an ID_RESP value (which should end in a NUL, counted in its length)
 * as a C string: up to the first NUL or the end of the value, truncated to
 * fit dst. */
static void id_value_copy(char *dst, size_t cap, const uint8_t *val, size_t len)
{
	size_t n = 0;
	while (n < len && n + 1 < cap && val[n] != '\0') {
		dst[n] = (char)val[n];
		n++;
	}
	dst[n] = '\0';
}

int ipa_ccm_id_resp_parse(const uint8_t *payload, size_t len, struct ipa_id_resp *out)
{
	memset(out, 0, sizeof(*out));
	if (len < 1 || payload[0] != IPA_CCM_ID_RESP)
		return -EBADMSG;
	size_t pos = 1;
	while (pos < len) {
		/* Each entry: 16-bit length (= 1 + value length), tag, value. */
		if (len - pos < 3)
			return -EBADMSG;
		size_t elen = ((size_t)payload[pos] << 8) | payload[pos + 1];
		uint8_t tag = payload[pos + 2];
		if (elen == 0 || elen - 1 > len - pos - 3)
			return -EBADMSG;
		const uint8_t *val = payload + pos + 3;
		size_t vlen = elen - 1;
		switch (tag) {
		case IPA_ID_UNIT:
			id_value_copy(out->unit_id, sizeof(out->unit_id), val, vlen);
			out->has_unit_id = 1;
			break;
		case IPA_ID_UNITNAME:
			id_value_copy(out->unit_name, sizeof(out->unit_name), val, vlen);
			break;
		case IPA_ID_SERNR:
			id_value_copy(out->serno, sizeof(out->serno), val, vlen);
			out->has_serno = 1;
			break;
		default:
			break;
		}
		pos += 3 + vlen;
	}
	return 0;
}

/* libosmo-abis formats each value into a 64-octet buffer (IPA_STRING_MAX), so
 * longer strings are cut to 63 characters. */
#define IPA_STRING_MAX 64

int ipa_ccm_id_resp_build(uint8_t *out, size_t cap, const char *unit_name, const char *serno)
{
	size_t n = IPA_HEADER_LEN;
	if (cap < n + 1)
		return -EMSGSIZE;
	out[n++] = IPA_CCM_ID_RESP;
	/* Answer the tags of osmo-hlr's ID_GET in its order, as a libosmo-abis
	 * client with no site/BTS id, no MAC and no locations or versions
	 * configured does (GSUP_NOTES.md section 8): every string is cleared
	 * before its tag is filled, and each value carries its NUL. */
	for (size_t i = 0; i < sizeof(id_get_tags); i++) {
		char str[IPA_STRING_MAX] = "";
		switch (id_get_tags[i]) {
		case IPA_ID_UNIT:
			snprintf(str, sizeof(str), "%u/%u/%u", 0u, 0u, 0u);
			break;
		case IPA_ID_MACADDR:
			snprintf(str, sizeof(str), "00:00:00:00:00:00");
			break;
		case IPA_ID_UNITNAME:
			snprintf(str, sizeof(str), "%s", unit_name ? unit_name : "");
			break;
		case IPA_ID_SERNR:
			snprintf(str, sizeof(str), "%s", serno ? serno : "");
			break;
		default:
			break;
		}
		size_t slen = strlen(str) + 1;
		if (cap - n < 3 + slen)
			return -EMSGSIZE;
		out[n++] = (uint8_t)((1 + slen) >> 8);
		out[n++] = (uint8_t)(1 + slen);
		out[n++] = id_get_tags[i];
		memcpy(out + n, str, slen);
		n += slen;
	}
	if (ipa_header_write(out, IPA_PROTO_CCM, 0, n - IPA_HEADER_LEN) < 0)
		return -EMSGSIZE;
	return (int)n;
}
