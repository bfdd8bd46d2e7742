#include "sms/gsm7.h"

#include <pthread.h>

#include "sms/sms_err.h"
#include "sms/ucs2.h"

/* TS 23.038 figure 6.2.1; 0x1B (escape) is a placeholder never produced. */
static const uint16_t gsm7_basic[128] = {
    0x0040, 0x00a3, 0x0024, 0x00a5, 0x00e8, 0x00e9, 0x00f9, 0x00ec, 0x00f2, 0x00c7, 0x000a, 0x00d8,
    0x00f8, 0x000d, 0x00c5, 0x00e5, 0x0394, 0x005f, 0x03a6, 0x0393, 0x039b, 0x03a9, 0x03a0, 0x03a8,
    0x03a3, 0x0398, 0x039e, 0x00a0, 0x00c6, 0x00e6, 0x00df, 0x00c9, 0x0020, 0x0021, 0x0022, 0x0023,
    0x00a4, 0x0025, 0x0026, 0x0027, 0x0028, 0x0029, 0x002a, 0x002b, 0x002c, 0x002d, 0x002e, 0x002f,
    0x0030, 0x0031, 0x0032, 0x0033, 0x0034, 0x0035, 0x0036, 0x0037, 0x0038, 0x0039, 0x003a, 0x003b,
    0x003c, 0x003d, 0x003e, 0x003f, 0x00a1, 0x0041, 0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0047,
    0x0048, 0x0049, 0x004a, 0x004b, 0x004c, 0x004d, 0x004e, 0x004f, 0x0050, 0x0051, 0x0052, 0x0053,
    0x0054, 0x0055, 0x0056, 0x0057, 0x0058, 0x0059, 0x005a, 0x00c4, 0x00d6, 0x00d1, 0x00dc, 0x00a7,
    0x00bf, 0x0061, 0x0062, 0x0063, 0x0064, 0x0065, 0x0066, 0x0067, 0x0068, 0x0069, 0x006a, 0x006b,
    0x006c, 0x006d, 0x006e, 0x006f, 0x0070, 0x0071, 0x0072, 0x0073, 0x0074, 0x0075, 0x0076, 0x0077,
    0x0078, 0x0079, 0x007a, 0x00e4, 0x00f6, 0x00f1, 0x00fc, 0x00e0,
};

/* TS 23.038 figure 6.2.1.1, the default extension table. */
static const struct {
	uint8_t code;
	uint16_t cp;
} gsm7_ext[] = {
    {0x0a, 0x000c}, {0x14, 0x005e}, {0x28, 0x007b}, {0x29, 0x007d}, {0x2f, 0x005c},
    {0x3c, 0x005b}, {0x3d, 0x007e}, {0x3e, 0x005d}, {0x40, 0x007c}, {0x65, 0x20ac},
};

#define N_EXT (sizeof(gsm7_ext) / sizeof(gsm7_ext[0]))

/* Finds the septets for cp by searching the tables: returns 1 (basic,
 * *a), 2 (escape then *a) or 0. */
static int search(uint32_t cp, uint8_t *a)
{
	for (unsigned i = 0; i < 128; i++) {
		if (i != GSM7_ESC && gsm7_basic[i] == cp) {
			*a = (uint8_t)i;
			return 1;
		}
	}
	for (unsigned i = 0; i < N_EXT; i++) {
		if (gsm7_ext[i].cp == cp) {
			*a = gsm7_ext[i].code;
			return 2;
		}
	}
	/* Small c-cedilla shares 0x09 with the capital: 23.038 draws the
	 * capital but phones send both there, which beats switching to UCS-2. */
	if (cp == 0x00e7) {
		*a = 0x09;
		return 1;
	}
	return 0;
}

/* The answers of search() for U+0000..U+00FF, where nearly every character
 * of a text falls, made once: splitting a text looks up each character, and
 * a search of the 128-entry table for each was most of what it cost. */
#define LATIN_N 256
static uint8_t latin_kind[LATIN_N], latin_code[LATIN_N];
static pthread_once_t latin_once = PTHREAD_ONCE_INIT;

static void latin_init(void)
{
	for (uint32_t cp = 0; cp < LATIN_N; cp++)
		latin_kind[cp] = (uint8_t)search(cp, &latin_code[cp]);
}

/* Finds the septets for cp: returns 1 (basic, *a), 2 (escape then *a) or 0. */
static int lookup(uint32_t cp, uint8_t *a)
{
	if (cp >= LATIN_N)
		return search(cp, a);
	pthread_once(&latin_once, latin_init);
	*a = latin_code[cp];
	return latin_kind[cp];
}

int gsm7_char_septets(uint32_t cp)
{
	uint8_t a;
	return lookup(cp, &a);
}

int gsm7_from_utf8(const char *s, size_t len, uint8_t *sept, size_t cap)
{
	size_t i = 0, n = 0;
	while (i < len) {
		uint32_t cp;
		uint8_t a;
		int rc = sms_utf8_next(s, len, &i, &cp);
		if (rc < 0)
			return rc;
		int k = lookup(cp, &a);
		if (k == 0)
			return SMS_E_CHARSET;
		if (sept) {
			if (n + (size_t)k > cap)
				return SMS_E_NOSPC;
			if (k == 2)
				sept[n] = GSM7_ESC;
			sept[n + (size_t)k - 1] = a;
		}
		n += (size_t)k;
	}
	return (int)n;
}

bool gsm7_can_encode(const char *s, size_t len)
{
	return gsm7_from_utf8(s, len, NULL, 0) >= 0;
}

int gsm7_to_utf8(const uint8_t *sept, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	if (cap == 0)
		return SMS_E_NOSPC;
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		uint8_t c = sept[i] & 0x7f;
		uint32_t cp;
		if (c != GSM7_ESC) {
			cp = gsm7_basic[c];
		} else if (i + 1 == n || (sept[i + 1] & 0x7f) == GSM7_ESC) {
			/* 0x1B in the extension table is reserved for a further
			 * table; 23.038 says to show a space meanwhile. */
			cp = 0x20;
			i++;
		} else {
			uint8_t e = sept[++i] & 0x7f;
			cp = gsm7_basic[e];
			for (unsigned k = 0; k < N_EXT; k++)
				if (gsm7_ext[k].code == e)
					cp = gsm7_ext[k].cp;
		}
		int rc = sms_utf8_put(cp, out, cap, &o);
		if (rc < 0)
			return rc;
	}
	return (int)o;
}

size_t gsm7_header_septets(size_t udh_octets)
{
	return (udh_octets * 8 + 6) / 7;
}

int gsm7_pack(const uint8_t *sept, size_t n, size_t first, uint8_t *out, size_t cap)
{
	size_t total = ((first + n) * 7 + 7) / 8;
	size_t start = first * 7 / 8;
	if (total > cap)
		return SMS_E_NOSPC;
	/* A header of u octets takes first = ceil(8u/7) septets, so octet
	 * first*7/8 is the first one after it: it and the rest are cleared,
	 * which makes the fill bits zero. */
	for (size_t k = start; k < total; k++)
		out[k] = 0;
	for (size_t i = 0; i < n; i++) {
		size_t bit = (first + i) * 7;
		unsigned sh = (unsigned)(bit % 8);
		uint8_t v = sept[i] & 0x7f;
		out[bit / 8] |= (uint8_t)(v << sh);
		if (sh > 1)
			out[bit / 8 + 1] |= (uint8_t)(v >> (8 - sh));
	}
	return (int)total;
}

int gsm7_unpack(const uint8_t *ud, size_t ud_len, size_t first, size_t n, uint8_t *sept)
{
	if (((first + n) * 7 + 7) / 8 > ud_len)
		return SMS_E_TRUNCATED;
	for (size_t i = 0; i < n; i++) {
		size_t bit = (first + i) * 7;
		unsigned sh = (unsigned)(bit % 8);
		unsigned v = ud[bit / 8] >> sh;
		if (sh > 1)
			v |= (unsigned)ud[bit / 8 + 1] << (8 - sh);
		sept[i] = (uint8_t)(v & 0x7f);
	}
	return 0;
}
