#include "sms/ucs2.h"

#include "sms/sms_err.h"

int sms_utf8_next(const char *s, size_t len, size_t *i, uint32_t *cp)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t k = *i;
	if (k >= len)
		return SMS_E_UTF8;
	uint32_t c = p[k];
	size_t extra;
	uint32_t min;
	if (c < 0x80) {
		*cp = c;
		*i = k + 1;
		return 0;
	} else if ((c & 0xe0) == 0xc0) {
		extra = 1, min = 0x80, c &= 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		extra = 2, min = 0x800, c &= 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		extra = 3, min = 0x10000, c &= 0x07;
	} else {
		return SMS_E_UTF8;
	}
	if (len - k - 1 < extra)
		return SMS_E_UTF8;
	for (size_t j = 1; j <= extra; j++) {
		if ((p[k + j] & 0xc0) != 0x80)
			return SMS_E_UTF8;
		c = (c << 6) | (p[k + j] & 0x3f);
	}
	/* Overlong forms and encoded surrogates are refused: they would let
	 * two different inputs mean the same text. */
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return SMS_E_UTF8;
	*cp = c;
	*i = k + 1 + extra;
	return 0;
}

int sms_utf8_put(uint32_t cp, char *out, size_t cap, size_t *n)
{
	size_t k = *n, need = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
	if (cap == 0 || k + need > cap - 1)
		return SMS_E_NOSPC;
	unsigned char *o = (unsigned char *)out + k;
	switch (need) {
	case 1:
		o[0] = (unsigned char)cp;
		break;
	case 2:
		o[0] = (unsigned char)(0xc0 | (cp >> 6));
		o[1] = (unsigned char)(0x80 | (cp & 0x3f));
		break;
	case 3:
		o[0] = (unsigned char)(0xe0 | (cp >> 12));
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp & 0x3f));
		break;
	default:
		o[0] = (unsigned char)(0xf0 | (cp >> 18));
		o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		o[3] = (unsigned char)(0x80 | (cp & 0x3f));
		break;
	}
	*n = k + need;
	out[*n] = '\0';
	return 0;
}

static int put16(uint32_t u, uint8_t *out, size_t cap, size_t *n)
{
	if (out) {
		if (*n + 2 > cap)
			return SMS_E_NOSPC;
		out[*n] = (uint8_t)(u >> 8);
		out[*n + 1] = (uint8_t)u;
	}
	*n += 2;
	return 0;
}

int ucs2_from_utf8(const char *s, size_t len, uint8_t *out, size_t cap)
{
	size_t i = 0, n = 0;
	while (i < len) {
		uint32_t cp;
		int rc = sms_utf8_next(s, len, &i, &cp);
		if (rc < 0)
			return rc;
		if (cp >= 0x10000) {
			cp -= 0x10000;
			rc = put16(0xd800 | (cp >> 10), out, cap, &n);
			if (rc == 0)
				rc = put16(0xdc00 | (cp & 0x3ff), out, cap, &n);
		} else {
			rc = put16(cp, out, cap, &n);
		}
		if (rc < 0)
			return rc;
	}
	return (int)n;
}

int ucs2_to_utf8(const uint8_t *in, size_t len, char *out, size_t cap)
{
	size_t n = 0;
	if (cap == 0)
		return SMS_E_NOSPC;
	out[0] = '\0';
	for (size_t i = 0; i + 1 < len; i += 2) {
		uint32_t u = (uint32_t)in[i] << 8 | in[i + 1];
		if (u >= 0xd800 && u <= 0xdbff && i + 3 < len) {
			uint32_t lo = (uint32_t)in[i + 2] << 8 | in[i + 3];
			if (lo >= 0xdc00 && lo <= 0xdfff) {
				u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
				i += 2;
			}
		}
		if (u >= 0xd800 && u <= 0xdfff)
			u = 0xfffd;
		int rc = sms_utf8_put(u, out, cap, &n);
		if (rc < 0)
			return rc;
	}
	return (int)n;
}
