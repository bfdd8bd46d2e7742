/*
 * HTTP digest computations for the SIP registrar (RFC 7616, RFC 2617
 * compatible, RFC 3310 Digest AKAv1-MD5), stateless registrar nonces, and
 * the base64 forms the AKA challenge uses. docs/sip-auth.md has the why.
 *
 * Every string input is a slice of a received message: a pointer and a
 * length, never assumed NUL-terminated; a pointer may be NULL when its length
 * is 0. Hex output is lowercase and NUL-terminated in a caller's buffer of
 * DIGEST_HEX_MAX octets. Nothing here allocates except each thread's first
 * call (one digest and one MAC context, freed when the thread exits).
 *
 * Passwords are never stored: the registrar keeps HA1 = H(user:realm:pass)
 * per realm and per hash (one for MD5, one for SHA-256), made once with
 * digest_ha1() when the password is set, and verifies with digest_response().
 */
#ifndef KORYO_CRYPTO_DIGEST_H
#define KORYO_CRYPTO_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DIGEST_HEX_MAX 65 /* 64 hex digits of SHA-256 and a NUL */

enum digest_alg {
	DIGEST_MD5,         /* "MD5", also the default when algorithm= is absent */
	DIGEST_MD5_SESS,    /* "MD5-sess" */
	DIGEST_SHA256,      /* "SHA-256" */
	DIGEST_SHA256_SESS, /* "SHA-256-sess" */
};

/* Hex digits of the algorithm's hash: 32 (MD5) or 64 (SHA-256). */
size_t digest_hex_len(enum digest_alg alg);

/*
 * Parses an algorithm= token (case-insensitive, unquoted): MD5, MD5-sess,
 * SHA-256, SHA-256-sess, or AKAv1-MD5, which is MD5 with the AKA password
 * (*aka is then true; aka may be NULL). Returns 0, or -ENOTSUP for any other
 * token (the registrar answers with a fresh challenge). A missing algorithm=
 * means MD5: the caller does not call this.
 */
int digest_alg_parse(const char *s, size_t len, enum digest_alg *alg, bool *aka);

/*
 * HA1 = H(user ":" realm ":" pass) in hex: what the registrar stores. A -sess
 * alg gives the same value as its base hash (digest_response() derives the
 * session HA1 from it). Returns 0, -ENOMEM or -EIO (out is then an empty
 * string).
 */
int digest_ha1(enum digest_alg alg, const char *user, size_t ulen, const char *realm, size_t rlen,
               const char *pass, size_t plen, char out[DIGEST_HEX_MAX]);

/*
 * The parameters of one Authorization header, as sent (slices of it).
 * qop empty selects the RFC 2069 form response = H(HA1:nonce:HA2), where nc
 * and cnonce are not used. uri is the digest uri= parameter, not the
 * Request-URI (SIPp puts the server's address there). body is hashed only for
 * qop=auth-int. For the rspauth of an Authentication-Info header, pass an
 * empty method (RFC 7616 3.5: A2 = ":" uri).
 */
struct digest_params {
	const char *nonce;
	size_t nonce_len;
	const char *nc; /* 8 hex digits, hashed as sent */
	size_t nc_len;
	const char *cnonce;
	size_t cnonce_len;
	const char *qop; /* "auth", "auth-int" or empty */
	size_t qop_len;
	const char *method;
	size_t method_len;
	const char *uri;
	size_t uri_len;
	const char *body; /* qop=auth-int only */
	size_t body_len;
};

/*
 * The expected response for stored ha1_hex (digest_ha1() or digest_aka_ha1()
 * of the same hash): for a -sess alg HA1' = H(ha1_hex:nonce:cnonce) first,
 * then H(HA1':nonce:nc:cnonce:qop:HA2), or H(HA1':nonce:HA2) without qop.
 * Returns 0; -EINVAL if ha1_hex is not digest_hex_len(alg) hex digits, if qop
 * is neither empty, "auth" nor "auth-int" (case-insensitive), or if alg is
 * -sess without qop (RFC 7616 requires it); -ENOMEM or -EIO. On error out is
 * an empty string. Compare with the peer's response using digest_equal().
 */
int digest_response(enum digest_alg alg, const char *ha1_hex, const struct digest_params *p,
                    char out[DIGEST_HEX_MAX]);

/*
 * Constant-time comparison of n octets: true when equal. The caller checks
 * that the peer's response has the expected length first (the length is not
 * secret).
 */
bool digest_equal(const void *a, const void *b, size_t n);

/*
 * Registrar nonces: stateless and unforgeable.
 *   nonce = base64url, unpadded, of
 *           timestamp (8 octets, big-endian seconds) || random (12 octets)
 *           || HMAC-SHA256(key, timestamp || random) truncated to 16 octets
 * which is 48 characters. Only the server can make one; any worker or restart
 * sharing the key can check one without a table.
 */
#define DIGEST_NONCE_KEY_LEN 32
#define DIGEST_NONCE_LEN     48

/*
 * Makes a nonce issued at now (seconds; CLOCK_REALTIME if nonces must outlive
 * a restart). Returns 0, or -EIO if the RNG or the MAC failed, -ENOMEM (out
 * is then an empty string).
 */
int digest_nonce_make(const uint8_t key[DIGEST_NONCE_KEY_LEN], uint64_t now,
                      char out[DIGEST_NONCE_LEN + 1]);

/* As digest_nonce_make() with a given random part; for tests. */
int digest_nonce_make_with(const uint8_t key[DIGEST_NONCE_KEY_LEN], uint64_t now,
                           const uint8_t rnd[12], char out[DIGEST_NONCE_LEN + 1]);

/*
 * Checks a nonce a peer sent back at time now. Returns
 *   0        genuine and issued within lifetime seconds (*issued set),
 *   -ESTALE  genuine but older than lifetime, or issued after now (the clock
 *            went back): answer 401 with a fresh nonce and stale=true,
 *   -EBADMSG not a nonce made with this key (forged, altered, truncated,
 *            another server's or another key's): answer 401 without stale,
 *   -ENOMEM or -EIO: the MAC could not be computed (not the peer's fault).
 * issued may be NULL. The nonce must be exactly as made (canonical base64url)
 * so one nonce has one spelling, which nonce-count tracking relies on.
 */
int digest_nonce_check(const uint8_t key[DIGEST_NONCE_KEY_LEN], const char *nonce, size_t len,
                       uint64_t now, uint64_t lifetime, uint64_t *issued);

/*
 * Digest AKAv1-MD5 (RFC 3310): nonce = base64(RAND || AUTN), standard
 * alphabet with padding (44 characters), as SIPp and phones decode it.
 */
#define DIGEST_AKA_NONCE_LEN 44
#define DIGEST_AKA_RES_MIN   4
#define DIGEST_AKA_RES_MAX   16
#define DIGEST_AKA_AUTS_LEN  14

/* Builds the AKA nonce from an AuC vector's RAND and AUTN. Cannot fail. */
void digest_aka_nonce_make(const uint8_t rand[16], const uint8_t autn[16],
                           char out[DIGEST_AKA_NONCE_LEN + 1]);

/*
 * Decodes an AKA nonce back to RAND and AUTN. RFC 3310 allows server data
 * after AUTN; it is ignored. Returns 0, or -EBADMSG if the nonce is not
 * canonical padded base64 of at least 32 octets (at most 256 characters).
 */
int digest_aka_nonce_parse(const char *nonce, size_t len, uint8_t rand[16], uint8_t autn[16]);

/*
 * Decodes the auts= parameter (base64 of the 14-octet AUTS, padding
 * optional) for aka_resync(). Returns 0, or -EBADMSG if it is not base64 of
 * exactly 14 octets.
 */
int digest_aka_auts_parse(const char *auts, size_t len, uint8_t out[DIGEST_AKA_AUTS_LEN]);

/*
 * HA1 for AKAv1-MD5: MD5(user ":" realm ":" RES), RES as raw octets (all
 * res_len of them, zero octets included; SIPp 3.6.1 stops at the first zero,
 * see docs/sip-auth.md). res_len is 4..16, or 0 for the empty password a
 * client uses in the request that carries auts=. Verify with
 * digest_response(DIGEST_MD5, ...). Returns 0, -EINVAL for another res_len,
 * -ENOMEM or -EIO (out is then an empty string).
 */
int digest_aka_ha1(const char *user, size_t ulen, const char *realm, size_t rlen,
                   const uint8_t *res, size_t res_len, char out[DIGEST_HEX_MAX]);

#endif
