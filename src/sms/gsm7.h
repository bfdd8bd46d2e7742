#pragma once
/* The GSM 7-bit default alphabet and its extension table (TS 23.038
 * section 6.2.1), converted to and from UTF-8, and septet packing (TS 23.040
 * section 9.2.3.24: after a user data header, fill bits bring the first
 * character to a septet boundary). Extension characters ({ } [ ] ~ \ ^ | €
 * and form feed) cost two septets: escape (0x1B) then the code. No
 * allocation. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GSM7_ESC 0x1b

/* Converts UTF-8 text to septets (one per octet, 0..127) in sept, which may
 * be NULL to only count. Returns the septet count, SMS_E_CHARSET if a
 * character is in neither table, SMS_E_UTF8, or SMS_E_NOSPC. */
int gsm7_from_utf8(const char *s, size_t len, uint8_t *sept, size_t cap);

/* True if all of the UTF-8 text can be sent in the GSM 7-bit alphabet. */
bool gsm7_can_encode(const char *s, size_t len);

/* Septets needed for one character, 1 or 2, or 0 if it has none. */
int gsm7_char_septets(uint32_t cp);

/* Converts septets to NUL-terminated UTF-8. An escape followed by a code the
 * extension table lacks gives the default-table character (TS 23.038 says
 * to display that); escape-escape and an escape at the end give a space.
 * Returns the UTF-8 length or SMS_E_NOSPC. */
int gsm7_to_utf8(const uint8_t *sept, size_t n, char *out, size_t cap);

/* Packs n septets into the user data out, as septets first..first+n-1 of it
 * (first is the number of septets the header and its fill bits take, 0
 * without a header); the octets before the first septet are left as they are
 * and the fill bits are zero. Returns the total UD octets or SMS_E_NOSPC. */
int gsm7_pack(const uint8_t *sept, size_t n, size_t first, uint8_t *out, size_t cap);

/* Unpacks septets first..first+n-1 of the user data ud (ud_len octets) into
 * sept. Returns 0 or SMS_E_TRUNCATED if ud is too short for them. */
int gsm7_unpack(const uint8_t *ud, size_t ud_len, size_t first, size_t n, uint8_t *sept);

/* Septets taken by a user data header of udh_octets octets (UDHL included)
 * with its fill bits: ceil(8 * udh_octets / 7). */
size_t gsm7_header_septets(size_t udh_octets);
