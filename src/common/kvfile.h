#pragma once
/* Reader for `key = value` files (koryod.conf, a profile's profile.conf).
 * Blank lines and lines starting with '#' are ignored; a value may be wrapped in
 * double quotes to keep leading or trailing spaces. */

#include <stddef.h>

/* Called once per setting. Returns 0, or -1 after writing the reason into err
 * (without file or line: the reader adds them). */
typedef int (*kvfile_fn)(void *ctx, const char *key, const char *value, char *err, size_t errcap);

/* Parses path, calling fn for each setting in order. Returns 0; or -1 with
 * "PATH:LINE: reason" in err (a line without '=' included), or "PATH: cannot
 * open: reason" for a file that cannot be read. */
int kvfile_parse(const char *path, kvfile_fn fn, void *ctx, char *err, size_t errcap);
