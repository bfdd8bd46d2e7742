/*
 * Key files: a secret of n random octets kept as one line of lowercase hex in
 * a file only its owner can read (mode 0600). Used for the AuC master key
 * (32 octets) and the API bearer token (32 octets; the hex text itself is
 * the token).
 *
 * Nothing here prints or logs the contents; error codes say what is wrong.
 */
#ifndef KORYO_CRYPTO_KEYFILE_H
#define KORYO_CRYPTO_KEYFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KEYFILE_MAX_BYTES 1024

/*
 * Loads the key of nbytes octets from path, creating it first if it does not
 * exist: nbytes from crypto_random(), written as hex plus newline to a private
 * temporary file (O_CREAT|O_EXCL, mode 0600), fsync'ed, then linked into
 * place, so that a reader never sees a partial file and two processes racing
 * to create it agree on one key. *created (may be NULL) says which happened.
 * Returns 0 with out filled, or:
 *   -EPERM   the file is readable or writable by group or others;
 *   -EINVAL  the file is not exactly 2*nbytes hex digits (plus an optional
 *            newline), is not a regular file, or nbytes is 0 or above
 *            KEYFILE_MAX_BYTES;
 *   -ENOENT  the directory does not exist; other -errno from the file system.
 */
int keyfile_load_or_create(const char *path, size_t nbytes, uint8_t *out, bool *created);

/* As keyfile_load_or_create(), but never creates: -ENOENT if missing. */
int keyfile_load(const char *path, size_t nbytes, uint8_t *out);

/*
 * Loads the key file as its lowercase hex text (for bearer tokens): 2*nbytes
 * characters plus NUL into hex_out. Returns the errors of keyfile_load(), and
 * -ENOSPC if cap < 2*nbytes + 1.
 */
int keyfile_load_hex(const char *path, size_t nbytes, char *hex_out, size_t cap);

/*
 * Writes n octets as lowercase hex plus NUL into hex_out. Returns 0, or
 * -ENOSPC if cap < 2*n + 1.
 */
int keyfile_hex_encode(const uint8_t *in, size_t n, char *hex_out, size_t cap);

#endif
