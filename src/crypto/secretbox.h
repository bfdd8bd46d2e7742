/*
 * Sealing of small secrets at rest (subscriber K and OPc) with AES-256-GCM.
 *
 * A sealed box is nonce (12 octets, random) || ciphertext || tag (16 octets).
 * The AAD binds the box to its owner (the AuC passes the IMSI), so a box
 * copied to another subscriber's row fails to open. Random 96-bit nonces are
 * safe for far more seals under one master key than an operator will make
 * (NIST SP 800-38D 8.3 bounds it at 2^32).
 *
 * Both calls run on every vector generation: they reuse one EVP cipher
 * context per thread and do not allocate after the thread's first call.
 */
#ifndef KORYO_CRYPTO_SECRETBOX_H
#define KORYO_CRYPTO_SECRETBOX_H

#include <stddef.h>
#include <stdint.h>

#define SECRETBOX_KEY_LEN   32
#define SECRETBOX_NONCE_LEN 12
#define SECRETBOX_TAG_LEN   16
#define SECRETBOX_OVERHEAD  (SECRETBOX_NONCE_LEN + SECRETBOX_TAG_LEN)

/*
 * Seals len octets of pt into out, which must hold len + SECRETBOX_OVERHEAD
 * octets and must not overlap pt. aad may be NULL when aad_len is 0.
 * Returns 0, -EINVAL if len or aad_len exceeds INT_MAX, -ENOMEM if the
 * thread's cipher context could not be allocated, or -EIO if the RNG or the
 * cipher failed (out is then zeroed).
 */
int secretbox_seal(const uint8_t key[32], const void *aad, size_t aad_len, const void *pt,
                   size_t len, uint8_t *out);

/*
 * Opens a box of in_len octets (made by secretbox_seal() with the same key and
 * AAD) into out, which receives in_len - SECRETBOX_OVERHEAD octets and must
 * not overlap in. Returns 0, -EBADMSG if the box is too short or was not
 * sealed with this key and AAD, or was altered (out is then zeroed: a caller
 * never sees unauthenticated plaintext), -EINVAL for lengths over INT_MAX,
 * -ENOMEM or -EIO.
 */
int secretbox_open(const uint8_t key[32], const void *aad, size_t aad_len, const uint8_t *in,
                   size_t in_len, void *out);

#endif
