#pragma once
#include <stddef.h>
#include <stdint.h>

/* Decodes exactly len bytes from 2*len hex digits (either case) in s, which must
 * be NUL-terminated right after them. Returns 0, or -EINVAL. */
int hex_decode(const char *s, uint8_t *out, size_t len);

/* Writes 2*len lowercase hex digits and a NUL to out (size 2*len+1). */
void hex_encode(const uint8_t *in, size_t len, char *out);

/* True if s is 1..max_len decimal digits and nothing else. */
int str_is_digits(const char *s, size_t min_len, size_t max_len);
