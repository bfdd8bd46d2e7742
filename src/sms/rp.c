#include "sms/rp.h"

#include <string.h>

#include "sms/sms_err.h"

/* RP-User-Data as an optional element of RP-ACK and RP-ERROR (24.011
 * 8.2.1: IEI 0x41). */
#define RP_IEI_USER_DATA 0x41

enum sms_dir sms_rp_tpdu_dir(enum sms_rp_type type)
{
	return (type & 1) ? SMS_DIR_MT : SMS_DIR_MO;
}

int sms_rp_decode(const uint8_t *buf, size_t len, struct sms_rp *rp)
{
	size_t p = 0;
	int rc;
	memset(rp, 0, sizeof(*rp));
	if (len < 2)
		return SMS_E_TRUNCATED;
	/* Bits 4-8 of the first octet are spare (24.011 8.2.2). */
	uint8_t mti = buf[0] & 7;
	if (mti > SMS_RP_SMMA)
		return SMS_E_TYPE;
	rp->type = (enum sms_rp_type)mti;
	rp->mr = buf[1];
	p = 2;
	switch (rp->type) {
	case SMS_RP_DATA_MO:
	case SMS_RP_DATA_MT:
		if ((rc = sms_rp_addr_decode(buf + p, len - p, &rp->oa)) < 0)
			return rc;
		p += (size_t)rc;
		if ((rc = sms_rp_addr_decode(buf + p, len - p, &rp->da)) < 0)
			return rc;
		p += (size_t)rc;
		/* Only the SMSC's address is sent; the MS side's is empty. */
		if ((rp->type == SMS_RP_DATA_MO ? rp->oa : rp->da).value[0] != '\0')
			return SMS_E_RP;
		if (p >= len)
			return SMS_E_TRUNCATED;
		rp->user_data_len = buf[p++];
		if (rp->user_data_len == 0)
			return SMS_E_RP;
		if (rp->user_data_len > len - p)
			return SMS_E_TRUNCATED;
		rp->user_data = buf + p;
		p += rp->user_data_len;
		return p == len ? 0 : SMS_E_TRAILING;
	case SMS_RP_ERROR_MO:
	case SMS_RP_ERROR_MT: {
		if (p >= len)
			return SMS_E_TRUNCATED;
		size_t cl = buf[p++];
		if (cl < 1 || cl > 2)
			return SMS_E_RP;
		if (cl > len - p)
			return SMS_E_TRUNCATED;
		/* An extension bit would announce octets 24.011 does not define. */
		if (buf[p] & 0x80)
			return SMS_E_RP;
		rp->cause = buf[p];
		if (cl == 2) {
			rp->has_diagnostic = true;
			rp->diagnostic = buf[p + 1];
		}
		p += cl;
		/* The optional user data is as in RP-ACK. */
	}
		/* fall through */
	case SMS_RP_ACK_MO:
	case SMS_RP_ACK_MT:
		if (p == len)
			return 0;
		if (buf[p] != RP_IEI_USER_DATA)
			return SMS_E_RP;
		if (len - p < 2)
			return SMS_E_TRUNCATED;
		rp->user_data_len = buf[p + 1];
		p += 2;
		if (rp->user_data_len == 0)
			return SMS_E_RP;
		if (rp->user_data_len > len - p)
			return SMS_E_TRUNCATED;
		rp->user_data = buf + p;
		p += rp->user_data_len;
		return p == len ? 0 : SMS_E_TRAILING;
	case SMS_RP_SMMA:
		return p == len ? 0 : SMS_E_TRAILING;
	}
	return SMS_E_TYPE;
}

int sms_rp_encode(const struct sms_rp *rp, uint8_t *out, size_t cap)
{
	size_t p = 0;
	int rc;
	if ((unsigned)rp->type > SMS_RP_SMMA || rp->user_data_len > 255)
		return SMS_E_INVAL;
	if (cap < 2)
		return SMS_E_NOSPC;
	out[p++] = (uint8_t)rp->type;
	out[p++] = rp->mr;
	switch (rp->type) {
	case SMS_RP_DATA_MO:
	case SMS_RP_DATA_MT: {
		struct sms_addr none = {0};
		const struct sms_addr *oa = rp->type == SMS_RP_DATA_MO ? &none : &rp->oa;
		const struct sms_addr *da = rp->type == SMS_RP_DATA_MO ? &rp->da : &none;
		if (rp->user_data_len == 0 || !rp->user_data)
			return SMS_E_INVAL;
		if ((rc = sms_rp_addr_encode(oa, out + p, cap - p)) < 0)
			return rc;
		p += (size_t)rc;
		if ((rc = sms_rp_addr_encode(da, out + p, cap - p)) < 0)
			return rc;
		p += (size_t)rc;
		if (cap - p < 1 + rp->user_data_len)
			return SMS_E_NOSPC;
		out[p++] = (uint8_t)rp->user_data_len;
		memcpy(out + p, rp->user_data, rp->user_data_len);
		return (int)(p + rp->user_data_len);
	}
	case SMS_RP_ERROR_MO:
	case SMS_RP_ERROR_MT:
		if (rp->cause & 0x80)
			return SMS_E_INVAL;
		if (cap - p < (rp->has_diagnostic ? 3u : 2u))
			return SMS_E_NOSPC;
		out[p++] = rp->has_diagnostic ? 2 : 1;
		out[p++] = rp->cause;
		if (rp->has_diagnostic)
			out[p++] = rp->diagnostic;
		/* fall through */
	case SMS_RP_ACK_MO:
	case SMS_RP_ACK_MT:
		if (rp->user_data_len == 0)
			return (int)p;
		if (!rp->user_data)
			return SMS_E_INVAL;
		if (cap - p < 2 + rp->user_data_len)
			return SMS_E_NOSPC;
		out[p++] = RP_IEI_USER_DATA;
		out[p++] = (uint8_t)rp->user_data_len;
		memcpy(out + p, rp->user_data, rp->user_data_len);
		return (int)(p + rp->user_data_len);
	case SMS_RP_SMMA:
		return (int)p;
	}
	return SMS_E_INVAL;
}
