#pragma once
/* UTF-8 <-> UCS-2 big endian for TP-DCS "UCS2" user data (TS 23.038
 * section 5). Characters beyond the Basic Multilingual Plane are sent as
 * UTF-16 surrogate pairs, which is what handsets do in practice; on receipt a
 * well-formed pair becomes one character and a lone surrogate becomes U+FFFD,
 * so a message cut between two segments still decodes. No allocation. */

#include <stddef.h>
#include <stdint.h>

/* Reads one code point of UTF-8 at s[*i], advancing *i. Returns 0, or
 * SMS_E_UTF8 for an invalid, overlong or surrogate sequence. */
int sms_utf8_next(const char *s, size_t len, size_t *i, uint32_t *cp);

/* Writes cp as UTF-8 at out[*n], advancing *n; SMS_E_NOSPC if it does not fit
 * in cap (one octet is always left for the terminating NUL). */
int sms_utf8_put(uint32_t cp, char *out, size_t cap, size_t *n);

/* Encodes UTF-8 text as UCS-2/UTF-16 BE into out (may be NULL to count).
 * Returns the number of octets, SMS_E_UTF8, or SMS_E_NOSPC. */
int ucs2_from_utf8(const char *s, size_t len, uint8_t *out, size_t cap);

/* Decodes UCS-2/UTF-16 BE octets to NUL-terminated UTF-8. An odd final octet
 * is ignored (it cannot be a character). Returns the UTF-8 length (without
 * the NUL) or SMS_E_NOSPC. */
int ucs2_to_utf8(const uint8_t *in, size_t len, char *out, size_t cap);
