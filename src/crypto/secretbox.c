/*
 * AES-256-GCM boxes for secrets at rest.
 *
 * Cost matters: the AuC opens the subscriber's K||OPc box for every
 * SendAuthInfo. Two things dominate a naive implementation: allocating an
 * EVP_CIPHER_CTX, and OpenSSL 3's implicit algorithm fetch inside
 * EVP_*Init_ex(EVP_aes_256_gcm()); next comes the key schedule. So the
 * cipher is fetched once per process, each thread keeps one context (freed by
 * a thread-exit destructor), and a thread re-keys only when the key changes.
 * What remains (~200-300 ns a call, measured with koryo-bench-milenage) is
 * mostly OpenSSL 3's OSSL_PARAM plumbing for the IV and tag; a hand-written
 * AES-NI/PCLMUL GCM could go lower, but is not worth owning while one box
 * costs a fraction of the MILENAGE budget.
 */
#include "crypto/secretbox.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "crypto/aka.h"

static pthread_once_t secretbox_once = PTHREAD_ONCE_INIT;
static pthread_key_t secretbox_tls_key;
static EVP_CIPHER *secretbox_cipher; /* fetched once, lives for the process */

/*
 * Per-thread state. The key copy lets a thread that keeps using the same
 * master key (the AuC's case) skip the AES-256 key schedule and GHASH setup:
 * after OpenSSL's parameter plumbing, that is the largest cost of a call.
 */
struct secretbox_tls {
	EVP_CIPHER_CTX *ctx;
	uint8_t key[SECRETBOX_KEY_LEN];
	bool keyed; /* ctx holds the schedule of key */
};
static _Thread_local struct secretbox_tls *secretbox_tls;

static void secretbox_tls_free(void *p)
{
	struct secretbox_tls *t = p;

	EVP_CIPHER_CTX_free(t->ctx);
	OPENSSL_cleanse(t, sizeof(*t));
	free(t);
}

static void secretbox_init_once(void)
{
	secretbox_cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	if (pthread_key_create(&secretbox_tls_key, secretbox_tls_free) != 0) {
		EVP_CIPHER_free(secretbox_cipher);
		secretbox_cipher = NULL;
	}
}

/* The calling thread's state, or NULL (out of memory / no provider). */
static struct secretbox_tls *secretbox_tls_get(void)
{
	struct secretbox_tls *t = secretbox_tls;

	if (t)
		return t;
	pthread_once(&secretbox_once, secretbox_init_once);
	if (!secretbox_cipher)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->ctx = EVP_CIPHER_CTX_new();
	/* The pthread key frees it when the thread exits. */
	if (!t->ctx || pthread_setspecific(secretbox_tls_key, t) != 0) {
		EVP_CIPHER_CTX_free(t->ctx);
		free(t);
		return NULL;
	}
	secretbox_tls = t;
	return t;
}

/*
 * Starts an encryption or decryption with key and nonce, re-keying only when
 * the key differs from the thread's last one. The GCM key schedule is the
 * same in both directions, so switching direction keeps it.
 */
static int secretbox_begin(struct secretbox_tls *t, int enc, const uint8_t key[32],
                           const uint8_t nonce[SECRETBOX_NONCE_LEN])
{
	bool same = t->keyed && CRYPTO_memcmp(t->key, key, SECRETBOX_KEY_LEN) == 0;
	int ok;

	/* GCM's default IV length is the 12 octets we use. */
	if (same)
		ok = EVP_CipherInit_ex2(t->ctx, NULL, NULL, nonce, enc, NULL);
	else
		ok = EVP_CipherInit_ex2(t->ctx, secretbox_cipher, key, nonce, enc, NULL);
	if (ok != 1) {
		t->keyed = false;
		return -EIO;
	}
	if (!same) {
		memcpy(t->key, key, SECRETBOX_KEY_LEN);
		t->keyed = true;
	}
	return 0;
}

int secretbox_seal(const uint8_t key[32], const void *aad, size_t aad_len, const void *pt,
                   size_t len, uint8_t *out)
{
	uint8_t *nonce = out, *ct = out + SECRETBOX_NONCE_LEN, *tag = ct + len;
	struct secretbox_tls *t;
	EVP_CIPHER_CTX *c;
	int outl, rc = -EIO;

	if (len > INT_MAX - SECRETBOX_OVERHEAD || aad_len > INT_MAX)
		return -EINVAL;
	t = secretbox_tls_get();
	if (!t)
		return -ENOMEM;
	c = t->ctx;
	if (crypto_random(nonce, SECRETBOX_NONCE_LEN) < 0)
		goto fail;
	if (secretbox_begin(t, 1, key, nonce) < 0)
		goto fail;
	if (aad_len && EVP_EncryptUpdate(c, NULL, &outl, aad, (int)aad_len) != 1)
		goto fail;
	if (len && EVP_EncryptUpdate(c, ct, &outl, pt, (int)len) != 1)
		goto fail;
	if (EVP_EncryptFinal_ex(c, ct + len, &outl) != 1)
		goto fail;
	if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, SECRETBOX_TAG_LEN, tag) != 1)
		goto fail;
	return 0;
fail:
	OPENSSL_cleanse(out, len + SECRETBOX_OVERHEAD);
	return rc;
}

int secretbox_open(const uint8_t key[32], const void *aad, size_t aad_len, const uint8_t *in,
                   size_t in_len, void *out)
{
	const uint8_t *nonce = in, *ct = in + SECRETBOX_NONCE_LEN;
	size_t len;
	struct secretbox_tls *t;
	EVP_CIPHER_CTX *c;
	uint8_t tag[SECRETBOX_TAG_LEN];
	int outl, rc = -EIO;

	if (in_len < SECRETBOX_OVERHEAD)
		return -EBADMSG;
	if (in_len > INT_MAX || aad_len > INT_MAX)
		return -EINVAL;
	len = in_len - SECRETBOX_OVERHEAD;
	t = secretbox_tls_get();
	if (!t)
		return -ENOMEM;
	c = t->ctx;
	/* The ctrl takes a non-const pointer; copy rather than cast const away. */
	memcpy(tag, ct + len, SECRETBOX_TAG_LEN);
	if (secretbox_begin(t, 0, key, nonce) < 0)
		goto fail;
	if (aad_len && EVP_DecryptUpdate(c, NULL, &outl, aad, (int)aad_len) != 1)
		goto fail;
	if (len && EVP_DecryptUpdate(c, out, &outl, ct, (int)len) != 1)
		goto fail;
	if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, SECRETBOX_TAG_LEN, tag) != 1)
		goto fail;
	/* Final is where GCM compares the tag; failure means forged or wrong key/AAD. */
	if (EVP_DecryptFinal_ex(c, (uint8_t *)out + len, &outl) != 1) {
		rc = -EBADMSG;
		goto fail;
	}
	return 0;
fail:
	OPENSSL_cleanse(out, len);
	return rc;
}
