/*
 * HTTP digest for SIP: HA1/response (RFC 7616, RFC 2617), registrar nonces
 * (HMAC-SHA256), and the RFC 3310 AKA nonce and auts codecs.
 *
 * Cost: a REGISTER with digest costs one nonce check (one HMAC) and three or
 * four hash runs over short strings; the 401 before it costs one HMAC. As in
 * secretbox.c, the expensive parts of OpenSSL 3 are the implicit algorithm
 * fetch and the context allocation, so the algorithms are fetched once per
 * process and each thread keeps one digest and one MAC context (freed by a
 * thread-exit destructor); the MAC context is re-keyed only when the key
 * changes. Hash inputs are fed in parts, so no message is ever copied.
 */
#include "crypto/digest.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "crypto/aka.h"

#define DIGEST_RAW_MAX 32 /* SHA-256 */
#define NONCE_TS_LEN   8
#define NONCE_RND_LEN  12
#define NONCE_TAG_LEN  16 /* HMAC-SHA256 truncated (RFC 2104 section 5) */
#define NONCE_RAW_LEN  (NONCE_TS_LEN + NONCE_RND_LEN + NONCE_TAG_LEN)
#define AKA_NONCE_MAX  256 /* characters; RAND || AUTN needs 44 */

_Static_assert(DIGEST_NONCE_LEN == NONCE_RAW_LEN / 3 * 4, "36 octets are 48 base64 characters");

static pthread_once_t digest_once = PTHREAD_ONCE_INIT;
static pthread_key_t digest_tls_key;
/* Fetched once, live for the process. */
static EVP_MD *digest_md5, *digest_sha256;
static EVP_MAC *digest_hmac;

struct digest_tls {
	EVP_MD_CTX *md;
	EVP_MAC_CTX *mac;
	uint8_t key[DIGEST_NONCE_KEY_LEN]; /* the key mac is initialised with */
	bool keyed;
};
static _Thread_local struct digest_tls *digest_tls;

static void digest_tls_free(void *p)
{
	struct digest_tls *t = p;

	EVP_MD_CTX_free(t->md);
	EVP_MAC_CTX_free(t->mac);
	OPENSSL_cleanse(t, sizeof(*t));
	free(t);
}

static void digest_init_once(void)
{
	digest_md5 = EVP_MD_fetch(NULL, "MD5", NULL);
	digest_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	digest_hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!digest_md5 || !digest_sha256 || !digest_hmac ||
	    pthread_key_create(&digest_tls_key, digest_tls_free) != 0) {
		EVP_MD_free(digest_md5);
		EVP_MD_free(digest_sha256);
		EVP_MAC_free(digest_hmac);
		digest_md5 = digest_sha256 = NULL;
		digest_hmac = NULL;
	}
}

/* The calling thread's contexts, or NULL (out of memory / no provider). */
static struct digest_tls *digest_tls_get(void)
{
	struct digest_tls *t = digest_tls;

	if (t)
		return t;
	pthread_once(&digest_once, digest_init_once);
	if (!digest_hmac)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->md = EVP_MD_CTX_new();
	t->mac = EVP_MAC_CTX_new(digest_hmac);
	/* The pthread key frees it when the thread exits. */
	if (!t->md || !t->mac || pthread_setspecific(digest_tls_key, t) != 0) {
		EVP_MD_CTX_free(t->md);
		EVP_MAC_CTX_free(t->mac);
		free(t);
		return NULL;
	}
	digest_tls = t;
	return t;
}

static bool alg_is_sha256(enum digest_alg alg)
{
	return alg == DIGEST_SHA256 || alg == DIGEST_SHA256_SESS;
}

static bool alg_is_sess(enum digest_alg alg)
{
	return alg == DIGEST_MD5_SESS || alg == DIGEST_SHA256_SESS;
}

size_t digest_hex_len(enum digest_alg alg)
{
	return alg_is_sha256(alg) ? 64 : 32;
}

int digest_alg_parse(const char *s, size_t len, enum digest_alg *alg, bool *aka)
{
	static const struct {
		const char *name;
		enum digest_alg alg;
		bool aka;
	} names[] = {
	    {"MD5", DIGEST_MD5, false},        {"MD5-sess", DIGEST_MD5_SESS, false},
	    {"SHA-256", DIGEST_SHA256, false}, {"SHA-256-sess", DIGEST_SHA256_SESS, false},
	    {"AKAv1-MD5", DIGEST_MD5, true},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strlen(names[i].name) == len && strncasecmp(names[i].name, s, len) == 0) {
			*alg = names[i].alg;
			if (aka)
				*aka = names[i].aka;
			return 0;
		}
	}
	return -ENOTSUP;
}

/* One piece of a hash input; p may be NULL when len is 0. */
struct part {
	const void *p;
	size_t len;
};

#define COLON ((struct part){":", 1})

static void hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/*
 * out = hex(H(parts[0] || ... || parts[n-1])). Returns 0, -ENOMEM or -EIO;
 * out is an empty string on error.
 */
static int hash_hex(enum digest_alg alg, const struct part *parts, size_t n, char *out)
{
	struct digest_tls *t = digest_tls_get();
	uint8_t raw[DIGEST_RAW_MAX];
	unsigned int rawlen = 0;

	out[0] = '\0';
	if (!t)
		return -ENOMEM;
	if (EVP_DigestInit_ex2(t->md, alg_is_sha256(alg) ? digest_sha256 : digest_md5, NULL) != 1)
		return -EIO;
	for (size_t i = 0; i < n; i++)
		if (parts[i].len && EVP_DigestUpdate(t->md, parts[i].p, parts[i].len) != 1)
			return -EIO;
	if (EVP_DigestFinal_ex(t->md, raw, &rawlen) != 1 || rawlen != digest_hex_len(alg) / 2)
		return -EIO;
	hex_encode(raw, rawlen, out);
	return 0;
}

int digest_ha1(enum digest_alg alg, const char *user, size_t ulen, const char *realm, size_t rlen,
               const char *pass, size_t plen, char out[DIGEST_HEX_MAX])
{
	const struct part a1[] = {{user, ulen}, COLON, {realm, rlen}, COLON, {pass, plen}};

	return hash_hex(alg, a1, 5, out);
}

static bool slice_eq(const char *s, size_t len, const char *lit)
{
	return strlen(lit) == len && strncasecmp(s, lit, len) == 0;
}

static bool is_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int digest_response(enum digest_alg alg, const char *ha1_hex, const struct digest_params *p,
                    char out[DIGEST_HEX_MAX])
{
	size_t hl = digest_hex_len(alg);
	char ha1s[DIGEST_HEX_MAX], ha2[DIGEST_HEX_MAX], hbody[DIGEST_HEX_MAX];
	const char *ha1 = ha1_hex;
	bool int_qop = false;
	int rc;

	out[0] = '\0';
	/* Stored data, but a wrong-length HA1 (MD5's given for SHA-256) must not pass. */
	if (strnlen(ha1_hex, hl + 1) != hl || !is_lower_hex(ha1_hex, hl))
		return -EINVAL;
	if (p->qop_len) {
		if (slice_eq(p->qop, p->qop_len, "auth-int"))
			int_qop = true;
		else if (!slice_eq(p->qop, p->qop_len, "auth"))
			return -EINVAL;
	} else if (alg_is_sess(alg)) {
		return -EINVAL;
	}

	if (alg_is_sess(alg)) {
		/* RFC 7616 3.4.2: A1 = H(user:realm:pass):nonce:cnonce. */
		const struct part a1[] = {{ha1_hex, hl},
		                          COLON,
		                          {p->nonce, p->nonce_len},
		                          COLON,
		                          {p->cnonce, p->cnonce_len}};
		if ((rc = hash_hex(alg, a1, 5, ha1s)) < 0)
			return rc;
		ha1 = ha1s;
	}

	/* RFC 7616 3.4.3: A2 = method:uri, or method:uri:H(body) for auth-int. */
	if (int_qop) {
		const struct part body[] = {{p->body, p->body_len}};
		if ((rc = hash_hex(alg, body, 1, hbody)) < 0)
			return rc;
	}
	const struct part a2[] = {
	    {p->method, p->method_len}, COLON, {p->uri, p->uri_len}, COLON, {hbody, hl}};
	if ((rc = hash_hex(alg, a2, int_qop ? 5 : 3, ha2)) < 0)
		return rc;

	if (p->qop_len) {
		const struct part r[] = {{ha1, hl},
		                         COLON,
		                         {p->nonce, p->nonce_len},
		                         COLON,
		                         {p->nc, p->nc_len},
		                         COLON,
		                         {p->cnonce, p->cnonce_len},
		                         COLON,
		                         {p->qop, p->qop_len},
		                         COLON,
		                         {ha2, hl}};
		rc = hash_hex(alg, r, 11, out);
	} else {
		/* RFC 2069 compatibility (RFC 2617 3.2.2.1). */
		const struct part r[] = {
		    {ha1, hl}, COLON, {p->nonce, p->nonce_len}, COLON, {ha2, hl}};
		rc = hash_hex(alg, r, 5, out);
	}
	OPENSSL_cleanse(ha1s, sizeof(ha1s));
	return rc;
}

bool digest_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

/* --- base64 (RFC 4648) --------------------------------------------------- */

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Encodes n octets; pads with '=' when pad. Returns the characters written (NUL added). */
static size_t b64_encode(const char *alphabet, bool pad, const uint8_t *in, size_t n, char *out)
{
	size_t o = 0, i = 0;

	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
		out[o++] = alphabet[v & 63];
	}
	if (n - i) {
		uint32_t v = (uint32_t)in[i] << 16 | (n - i == 2 ? (uint32_t)in[i + 1] << 8 : 0);
		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		if (n - i == 2)
			out[o++] = alphabet[(v >> 6) & 63];
		else if (pad)
			out[o++] = '=';
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

static int b64_value(const char *alphabet, char c)
{
	const char *hit;

	if (c == '\0' || c == '=')
		return -1;
	hit = memchr(alphabet, c, 64);
	return hit ? (int)(hit - alphabet) : -1;
}

/*
 * Decodes canonical base64 into out (cap octets). pad: 1 requires padding to
 * a multiple of 4, 0 forbids it, -1 accepts either. Rejects characters
 * outside the alphabet and non-zero bits after the last octet, so each value
 * has one spelling. Returns the octets decoded, or -1.
 */
static long b64_decode(const char *alphabet, int pad, const char *in, size_t len, uint8_t *out,
                       size_t cap)
{
	size_t o = 0, n = len, tail;
	uint32_t acc = 0;

	if (len % 4 == 0 && len && in[len - 1] == '=') {
		if (pad == 0)
			return -1;
		n = len - 1 - (in[len - 2] == '=');
	} else if (pad == 1 && len % 4) {
		return -1;
	}
	tail = n % 4;
	if (tail == 1)
		return -1;
	if (n / 4 * 3 + (tail ? tail - 1 : 0) > cap)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int v = b64_value(alphabet, in[i]);
		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		if (i % 4 == 3) {
			out[o++] = (uint8_t)(acc >> 16);
			out[o++] = (uint8_t)(acc >> 8);
			out[o++] = (uint8_t)acc;
			acc = 0;
		}
	}
	if (tail == 2) {
		if (acc & 0xf)
			return -1;
		out[o++] = (uint8_t)(acc >> 4);
	} else if (tail == 3) {
		if (acc & 0x3)
			return -1;
		out[o++] = (uint8_t)(acc >> 10);
		out[o++] = (uint8_t)(acc >> 2);
	}
	return (long)o;
}

/* --- registrar nonces ---------------------------------------------------- */

/* tag = HMAC-SHA256(key, msg)[0..15]. Returns 0, -ENOMEM or -EIO. */
static int nonce_tag(const uint8_t key[DIGEST_NONCE_KEY_LEN], const uint8_t *msg, size_t len,
                     uint8_t tag[NONCE_TAG_LEN])
{
	struct digest_tls *t = digest_tls_get();
	uint8_t full[DIGEST_RAW_MAX];
	size_t outl = 0;
	int ok;

	if (!t)
		return -ENOMEM;
	if (t->keyed && CRYPTO_memcmp(t->key, key, DIGEST_NONCE_KEY_LEN) == 0) {
		/* Same key: restart without redoing the key schedule. */
		ok = EVP_MAC_init(t->mac, NULL, 0, NULL);
	} else {
		OSSL_PARAM params[] = {
		    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
		    OSSL_PARAM_construct_end()};
		t->keyed = false;
		ok = EVP_MAC_init(t->mac, key, DIGEST_NONCE_KEY_LEN, params);
		if (ok == 1) {
			memcpy(t->key, key, DIGEST_NONCE_KEY_LEN);
			t->keyed = true;
		}
	}
	if (ok != 1 || EVP_MAC_update(t->mac, msg, len) != 1 ||
	    EVP_MAC_final(t->mac, full, &outl, sizeof(full)) != 1 || outl != sizeof(full)) {
		t->keyed = false;
		return -EIO;
	}
	memcpy(tag, full, NONCE_TAG_LEN);
	OPENSSL_cleanse(full, sizeof(full));
	return 0;
}

int digest_nonce_make_with(const uint8_t key[DIGEST_NONCE_KEY_LEN], uint64_t now,
                           const uint8_t rnd[NONCE_RND_LEN], char out[DIGEST_NONCE_LEN + 1])
{
	uint8_t raw[NONCE_RAW_LEN];
	int rc;

	out[0] = '\0';
	for (int i = 0; i < NONCE_TS_LEN; i++)
		raw[i] = (uint8_t)(now >> (56 - 8 * i));
	memcpy(raw + NONCE_TS_LEN, rnd, NONCE_RND_LEN);
	rc = nonce_tag(key, raw, NONCE_TS_LEN + NONCE_RND_LEN, raw + NONCE_TS_LEN + NONCE_RND_LEN);
	if (rc < 0)
		return rc;
	b64_encode(b64_url, false, raw, sizeof(raw), out);
	return 0;
}

int digest_nonce_make(const uint8_t key[DIGEST_NONCE_KEY_LEN], uint64_t now,
                      char out[DIGEST_NONCE_LEN + 1])
{
	uint8_t rnd[NONCE_RND_LEN];

	out[0] = '\0';
	if (crypto_random(rnd, sizeof(rnd)) < 0)
		return -EIO;
	return digest_nonce_make_with(key, now, rnd, out);
}

int digest_nonce_check(const uint8_t key[DIGEST_NONCE_KEY_LEN], const char *nonce, size_t len,
                       uint64_t now, uint64_t lifetime, uint64_t *issued)
{
	uint8_t raw[NONCE_RAW_LEN], tag[NONCE_TAG_LEN];
	uint64_t ts = 0;
	int rc;

	if (len != DIGEST_NONCE_LEN ||
	    b64_decode(b64_url, 0, nonce, len, raw, sizeof(raw)) != NONCE_RAW_LEN)
		return -EBADMSG;
	rc = nonce_tag(key, raw, NONCE_TS_LEN + NONCE_RND_LEN, tag);
	if (rc < 0)
		return rc;
	/* Authenticate first: an unauthenticated timestamp means nothing. */
	if (CRYPTO_memcmp(tag, raw + NONCE_TS_LEN + NONCE_RND_LEN, NONCE_TAG_LEN) != 0)
		return -EBADMSG;
	for (int i = 0; i < NONCE_TS_LEN; i++)
		ts = ts << 8 | raw[i];
	if (ts > now || now - ts > lifetime)
		return -ESTALE;
	if (issued)
		*issued = ts;
	return 0;
}

/* --- Digest AKAv1-MD5 (RFC 3310) ---------------------------------------- */

void digest_aka_nonce_make(const uint8_t rand[16], const uint8_t autn[16],
                           char out[DIGEST_AKA_NONCE_LEN + 1])
{
	uint8_t raw[32];

	memcpy(raw, rand, 16);
	memcpy(raw + 16, autn, 16);
	b64_encode(b64_std, true, raw, sizeof(raw), out);
}

int digest_aka_nonce_parse(const char *nonce, size_t len, uint8_t rand[16], uint8_t autn[16])
{
	uint8_t raw[AKA_NONCE_MAX / 4 * 3];
	long n;

	if (len > AKA_NONCE_MAX)
		return -EBADMSG;
	n = b64_decode(b64_std, 1, nonce, len, raw, sizeof(raw));
	if (n < 32)
		return -EBADMSG;
	memcpy(rand, raw, 16);
	memcpy(autn, raw + 16, 16);
	return 0;
}

int digest_aka_auts_parse(const char *auts, size_t len, uint8_t out[DIGEST_AKA_AUTS_LEN])
{
	uint8_t raw[DIGEST_AKA_AUTS_LEN];

	/* 20 characters with padding, 19 without. */
	if (len > 20 || b64_decode(b64_std, -1, auts, len, raw, sizeof(raw)) != DIGEST_AKA_AUTS_LEN)
		return -EBADMSG;
	memcpy(out, raw, DIGEST_AKA_AUTS_LEN);
	return 0;
}

int digest_aka_ha1(const char *user, size_t ulen, const char *realm, size_t rlen,
                   const uint8_t *res, size_t res_len, char out[DIGEST_HEX_MAX])
{
	out[0] = '\0';
	if (res_len != 0 && (res_len < DIGEST_AKA_RES_MIN || res_len > DIGEST_AKA_RES_MAX))
		return -EINVAL;
	/* RES is the password as raw octets, every one of them (zeros included). */
	return digest_ha1(DIGEST_MD5, user, ulen, realm, rlen, (const char *)res, res_len, out);
}
