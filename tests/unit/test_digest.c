/*
 * HTTP digest for SIP: the RFC 7616 3.9.1 and RFC 2617 3.5 examples, the
 * -sess, auth-int, rspauth and RFC 2069 forms, registrar nonces (known answer,
 * round trip, forgery, expiry), and Digest AKAv1-MD5 with TS 35.208 set 1.
 * Values not printed in an RFC were computed independently with
 * `openssl dgst` / `openssl dgst -mac HMAC` (the commands are in
 * docs/sip-auth.md).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/digest.h"

#define S(lit) lit, sizeof(lit) - 1

static void unhex(const char *s, uint8_t *out, size_t n)
{
	assert_int_equal(strlen(s), 2 * n);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

/* Fills p with slices of NUL-terminated strings (the test's convenience only). */
static struct digest_params params(const char *nonce, const char *nc, const char *cnonce,
                                   const char *qop, const char *method, const char *uri)
{
	struct digest_params p = {
	    .nonce = nonce,
	    .nonce_len = strlen(nonce),
	    .nc = nc,
	    .nc_len = strlen(nc),
	    .cnonce = cnonce,
	    .cnonce_len = strlen(cnonce),
	    .qop = qop,
	    .qop_len = strlen(qop),
	    .method = method,
	    .method_len = strlen(method),
	    .uri = uri,
	    .uri_len = strlen(uri),
	};
	return p;
}

static const char RFC7616_NONCE[] = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
static const char RFC7616_CNONCE[] = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";

/* RFC 7616 3.9.1: the same request with MD5 and with SHA-256. */
static void test_rfc7616_example(void **state)
{
	(void)state;
	struct digest_params p =
	    params(RFC7616_NONCE, "00000001", RFC7616_CNONCE, "auth", "GET", "/dir/index.html");
	char ha1[DIGEST_HEX_MAX], resp[DIGEST_HEX_MAX];

	assert_int_equal(digest_ha1(DIGEST_MD5, S("Mufasa"), S("http-auth@example.org"),
	                            S("Circle of Life"), ha1),
	                 0);
	assert_string_equal(ha1, "3d78807defe7de2157e2b0b6573a855f");
	assert_int_equal(digest_response(DIGEST_MD5, ha1, &p, resp), 0);
	assert_string_equal(resp, "8ca523f5e9506fed4657c9700eebdbec");

	assert_int_equal(digest_ha1(DIGEST_SHA256, S("Mufasa"), S("http-auth@example.org"),
	                            S("Circle of Life"), ha1),
	                 0);
	assert_string_equal(ha1,
	                    "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232");
	assert_int_equal(digest_response(DIGEST_SHA256, ha1, &p, resp), 0);
	assert_string_equal(resp,
	                    "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
	assert_int_equal(strlen(resp), digest_hex_len(DIGEST_SHA256));
}

/* RFC 2617 3.5, and the same credentials in the RFC 2069 (no qop) form. */
static void test_rfc2617_example(void **state)
{
	(void)state;
	struct digest_params p = params("dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001",
	                                "0a4f113b", "auth", "GET", "/dir/index.html");
	char ha1[DIGEST_HEX_MAX], resp[DIGEST_HEX_MAX];

	assert_int_equal(
	    digest_ha1(DIGEST_MD5, S("Mufasa"), S("testrealm@host.com"), S("Circle Of Life"), ha1),
	    0);
	assert_int_equal(digest_response(DIGEST_MD5, ha1, &p, resp), 0);
	assert_string_equal(resp, "6629fae49393a05397450978507c4ef1");

	/* No qop: nc and cnonce are ignored, even when present. */
	p.qop_len = 0;
	assert_int_equal(digest_response(DIGEST_MD5, ha1, &p, resp), 0);
	assert_string_equal(resp, "670fd8c2df070c60b045671b8b24ff02");
	p.nc_len = p.cnonce_len = 0;
	assert_int_equal(digest_response(DIGEST_MD5, ha1, &p, resp), 0);
	assert_string_equal(resp, "670fd8c2df070c60b045671b8b24ff02");
}

/* Inputs are slices: bytes after the length never count. */
static void test_slices(void **state)
{
	(void)state;
	const char msg[] = "Mufasa,http-auth@example.org;Circle of Life!";
	char a[DIGEST_HEX_MAX], b[DIGEST_HEX_MAX];

	assert_int_equal(digest_ha1(DIGEST_MD5, msg, 6, msg + 7, 21, msg + 29, 14, a), 0);
	assert_string_equal(a, "3d78807defe7de2157e2b0b6573a855f");
	/* Empty user and realm with NULL pointers are legal. */
	assert_int_equal(digest_ha1(DIGEST_MD5, NULL, 0, NULL, 0, S("x"), a), 0);
	assert_int_equal(digest_ha1(DIGEST_MD5, S(""), S(""), S("x"), b), 0);
	assert_string_equal(a, b);
}

/* -sess, auth-int and rspauth, against openssl dgst. */
static void test_variants(void **state)
{
	(void)state;
	struct digest_params p =
	    params(RFC7616_NONCE, "00000001", RFC7616_CNONCE, "auth", "GET", "/dir/index.html");
	char md5[DIGEST_HEX_MAX], sha[DIGEST_HEX_MAX], resp[DIGEST_HEX_MAX];

	/* The stored HA1 is the same for the -sess variants. */
	assert_int_equal(digest_ha1(DIGEST_MD5_SESS, S("Mufasa"), S("http-auth@example.org"),
	                            S("Circle of Life"), md5),
	                 0);
	assert_string_equal(md5, "3d78807defe7de2157e2b0b6573a855f");
	assert_int_equal(digest_ha1(DIGEST_SHA256_SESS, S("Mufasa"), S("http-auth@example.org"),
	                            S("Circle of Life"), sha),
	                 0);

	assert_int_equal(digest_response(DIGEST_MD5_SESS, md5, &p, resp), 0);
	assert_string_equal(resp, "e783283f46242139c486a698fec7211d");
	assert_int_equal(digest_response(DIGEST_SHA256_SESS, sha, &p, resp), 0);
	assert_string_equal(resp,
	                    "2fd51b3a77ad75bad6afad6003e818d767133c46d9e2749e7f5232ae1ea3efd7");

	/* qop=auth-int hashes the body into A2. */
	p.qop = "auth-int";
	p.qop_len = 8;
	p.body = "hello body";
	p.body_len = 10;
	assert_int_equal(digest_response(DIGEST_MD5, md5, &p, resp), 0);
	assert_string_equal(resp, "2ac87308cc2858088fd7f87446ffc6c3");
	assert_int_equal(digest_response(DIGEST_SHA256, sha, &p, resp), 0);
	assert_string_equal(resp,
	                    "df27de8b595f7b210e37b481d386bffee1ea940d51f5a70746127b2563efba1b");

	/* rspauth of Authentication-Info: empty method. qop is matched case-insensitively
	 * but hashed as sent. */
	p = params(RFC7616_NONCE, "00000001", RFC7616_CNONCE, "auth", "", "/dir/index.html");
	assert_int_equal(digest_response(DIGEST_MD5, md5, &p, resp), 0);
	assert_string_equal(resp, "9b712497bc9f91499fbcca1dfc5f09a5");
	assert_int_equal(digest_response(DIGEST_SHA256, sha, &p, resp), 0);
	assert_string_equal(resp,
	                    "86d3b25618d41854ca5039a5d7e53ff6355d5134a9b1fb088a78ac3c462195a0");
}

static void test_rejects(void **state)
{
	(void)state;
	struct digest_params p =
	    params(RFC7616_NONCE, "00000001", RFC7616_CNONCE, "auth", "GET", "/dir/index.html");
	const char md5[] = "3d78807defe7de2157e2b0b6573a855f";
	char resp[DIGEST_HEX_MAX];

	/* An MD5 HA1 given for SHA-256, a short, upper-case or non-hex HA1. */
	assert_int_equal(digest_response(DIGEST_SHA256, md5, &p, resp), -EINVAL);
	assert_string_equal(resp, "");
	assert_int_equal(digest_response(DIGEST_MD5, "3d78807d", &p, resp), -EINVAL);
	assert_int_equal(digest_response(DIGEST_MD5, "3D78807DEFE7DE2157E2B0B6573A855F", &p, resp),
	                 -EINVAL);
	assert_int_equal(digest_response(DIGEST_MD5, "3d78807defe7de2157e2b0b6573a855g", &p, resp),
	                 -EINVAL);
	assert_int_equal(digest_response(DIGEST_MD5, "3d78807defe7de2157e2b0b6573a855f0", &p, resp),
	                 -EINVAL);
	/* Unknown qop; -sess without qop. */
	p.qop = "auth-conf";
	p.qop_len = 9;
	assert_int_equal(digest_response(DIGEST_MD5, md5, &p, resp), -EINVAL);
	p.qop = "AUTH";
	p.qop_len = 4;
	assert_int_equal(digest_response(DIGEST_MD5, md5, &p, resp), 0);
	p.qop_len = 0;
	assert_int_equal(digest_response(DIGEST_MD5_SESS, md5, &p, resp), -EINVAL);
}

static void test_alg_parse_and_equal(void **state)
{
	(void)state;
	enum digest_alg alg;
	bool aka = true;

	assert_int_equal(digest_alg_parse(S("MD5"), &alg, &aka), 0);
	assert_int_equal(alg, DIGEST_MD5);
	assert_false(aka);
	assert_int_equal(digest_alg_parse(S("sha-256"), &alg, &aka), 0);
	assert_int_equal(alg, DIGEST_SHA256);
	assert_int_equal(digest_alg_parse(S("SHA-256-sess"), &alg, NULL), 0);
	assert_int_equal(alg, DIGEST_SHA256_SESS);
	assert_int_equal(digest_alg_parse(S("MD5-sess"), &alg, NULL), 0);
	assert_int_equal(alg, DIGEST_MD5_SESS);
	assert_int_equal(digest_alg_parse(S("akav1-md5"), &alg, &aka), 0);
	assert_int_equal(alg, DIGEST_MD5);
	assert_true(aka);
	assert_int_equal(digest_alg_parse(S("SHA-512-256"), &alg, &aka), -ENOTSUP);
	assert_int_equal(digest_alg_parse(S("AKAv2-MD5"), &alg, &aka), -ENOTSUP);
	assert_int_equal(digest_alg_parse("MD5-sess", 3, &alg, &aka), 0); /* a slice: "MD5" */
	assert_int_equal(digest_alg_parse(S("MD"), &alg, &aka), -ENOTSUP);
	assert_int_equal(digest_alg_parse(S(""), &alg, &aka), -ENOTSUP);

	assert_true(digest_equal("abcdef", "abcdef", 6));
	assert_false(digest_equal("abcdef", "abcdeF", 6));
	assert_true(digest_equal("", "x", 0));
}

/* --- nonces --------------------------------------------------------------- */

static void key_fill(uint8_t key[DIGEST_NONCE_KEY_LEN], uint8_t base)
{
	for (int i = 0; i < DIGEST_NONCE_KEY_LEN; i++)
		key[i] = (uint8_t)(base + i);
}

/*
 * Known answer: key 00..1f, time 1700000000, random a0..ab. Independently:
 *   printf 000000006553f100a0a1a2a3a4a5a6a7a8a9aaab | xxd -r -p |
 *     openssl dgst -sha256 -mac HMAC -macopt hexkey:000102...1f   (first 16 octets)
 * then base64url of the 36 octets without padding.
 */
static void test_nonce_known_answer(void **state)
{
	(void)state;
	uint8_t key[DIGEST_NONCE_KEY_LEN], rnd[12];
	char nonce[DIGEST_NONCE_LEN + 1];
	uint64_t issued = 0;

	key_fill(key, 0);
	for (int i = 0; i < 12; i++)
		rnd[i] = (uint8_t)(0xa0 + i);
	assert_int_equal(digest_nonce_make_with(key, 1700000000, rnd, nonce), 0);
	assert_string_equal(nonce, "AAAAAGVT8QCgoaKjpKWmp6ipqqtdaim5JvswZZsvkRVxkxch");
	assert_int_equal(digest_nonce_check(key, nonce, strlen(nonce), 1700000010, 30, &issued), 0);
	assert_int_equal(issued, 1700000000);
	/* Twice in a row on the same thread (the MAC context is reused). */
	assert_int_equal(digest_nonce_make_with(key, 1700000000, rnd, nonce), 0);
	assert_string_equal(nonce, "AAAAAGVT8QCgoaKjpKWmp6ipqqtdaim5JvswZZsvkRVxkxch");
}

static void test_nonce_round_trip(void **state)
{
	(void)state;
	uint8_t key[DIGEST_NONCE_KEY_LEN], key2[DIGEST_NONCE_KEY_LEN];
	char a[DIGEST_NONCE_LEN + 1], b[DIGEST_NONCE_LEN + 1];
	const uint64_t now = 1750000000;
	uint64_t issued = 0;

	key_fill(key, 1);
	key_fill(key2, 2);
	assert_int_equal(digest_nonce_make(key, now, a), 0);
	assert_int_equal(strlen(a), DIGEST_NONCE_LEN);
	assert_int_equal(
	    strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
	    DIGEST_NONCE_LEN);
	assert_int_equal(digest_nonce_make(key, now, b), 0);
	assert_string_not_equal(a, b); /* fresh random part every time */

	assert_int_equal(digest_nonce_check(key, a, strlen(a), now, 300, &issued), 0);
	assert_int_equal(issued, now);
	assert_int_equal(digest_nonce_check(key, b, strlen(b), now + 300, 300, NULL), 0);
	/* Expired but genuine: stale. One second past the lifetime. */
	assert_int_equal(digest_nonce_check(key, a, strlen(a), now + 301, 300, &issued), -ESTALE);
	assert_int_equal(digest_nonce_check(key, a, strlen(a), UINT64_MAX, 300, NULL), -ESTALE);
	/* Issued in the future (clock stepped back): stale, not forged. */
	assert_int_equal(digest_nonce_check(key, a, strlen(a), now - 1, 300, NULL), -ESTALE);
	/* Made with another key: forged. Alternating keys re-keys the thread's MAC. */
	assert_int_equal(digest_nonce_check(key2, a, strlen(a), now, 300, NULL), -EBADMSG);
	assert_int_equal(digest_nonce_check(key, a, strlen(a), now, 300, NULL), 0);
}

static void test_nonce_tampered(void **state)
{
	(void)state;
	uint8_t key[DIGEST_NONCE_KEY_LEN];
	char nonce[DIGEST_NONCE_LEN + 1], bad[DIGEST_NONCE_LEN + 2];
	const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const uint64_t now = 1750000000;

	key_fill(key, 3);
	assert_int_equal(digest_nonce_make(key, now, nonce), 0);

	/* Every position changed to every other character is refused. Changing a
	 * timestamp character in particular cannot extend a nonce's life. */
	for (size_t i = 0; i < DIGEST_NONCE_LEN; i++) {
		for (size_t c = 0; c < 64; c++) {
			if (alphabet[c] == nonce[i])
				continue;
			memcpy(bad, nonce, sizeof(nonce));
			bad[i] = alphabet[c];
			assert_int_equal(
			    digest_nonce_check(key, bad, DIGEST_NONCE_LEN, now, 300, NULL),
			    -EBADMSG);
		}
	}
	/* Truncated, extended, padded, standard alphabet, empty. */
	assert_int_equal(digest_nonce_check(key, nonce, DIGEST_NONCE_LEN - 1, now, 300, NULL),
	                 -EBADMSG);
	memcpy(bad, nonce, DIGEST_NONCE_LEN);
	bad[DIGEST_NONCE_LEN] = 'A';
	assert_int_equal(digest_nonce_check(key, bad, DIGEST_NONCE_LEN + 1, now, 300, NULL),
	                 -EBADMSG);
	memcpy(bad, nonce, sizeof(nonce));
	bad[DIGEST_NONCE_LEN - 1] = '=';
	assert_int_equal(digest_nonce_check(key, bad, DIGEST_NONCE_LEN, now, 300, NULL), -EBADMSG);
	bad[DIGEST_NONCE_LEN - 1] = '+';
	assert_int_equal(digest_nonce_check(key, bad, DIGEST_NONCE_LEN, now, 300, NULL), -EBADMSG);
	bad[DIGEST_NONCE_LEN - 1] = '\0';
	assert_int_equal(digest_nonce_check(key, bad, DIGEST_NONCE_LEN, now, 300, NULL), -EBADMSG);
	assert_int_equal(digest_nonce_check(key, "", 0, now, 300, NULL), -EBADMSG);
	assert_int_equal(digest_nonce_check(key, NULL, 0, now, 300, NULL), -EBADMSG);
	/* An RFC 7616 style nonce from someone else. */
	assert_int_equal(
	    digest_nonce_check(key, RFC7616_NONCE, strlen(RFC7616_NONCE), now, 300, NULL),
	    -EBADMSG);
}

/* Several threads, each with its own contexts, agree with the main thread. */
static void *nonce_thread(void *arg)
{
	uint8_t key[DIGEST_NONCE_KEY_LEN], rnd[12] = {0};
	char nonce[DIGEST_NONCE_LEN + 1], ha1[DIGEST_HEX_MAX];

	key_fill(key, 0);
	for (int i = 0; i < 12; i++)
		rnd[i] = (uint8_t)(0xa0 + i);
	for (int i = 0; i < 200; i++) {
		if (digest_nonce_make_with(key, 1700000000, rnd, nonce) != 0 ||
		    strcmp(nonce, "AAAAAGVT8QCgoaKjpKWmp6ipqqtdaim5JvswZZsvkRVxkxch") != 0)
			return arg;
		if (digest_ha1(DIGEST_MD5, S("Mufasa"), S("http-auth@example.org"),
		               S("Circle of Life"), ha1) != 0 ||
		    strcmp(ha1, "3d78807defe7de2157e2b0b6573a855f") != 0)
			return arg;
	}
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	pthread_t th[4];
	int id[4];
	void *ret;

	for (int i = 0; i < 4; i++) {
		id[i] = i;
		assert_int_equal(pthread_create(&th[i], NULL, nonce_thread, &id[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], &ret), 0);
		assert_null(ret);
	}
}

/* --- Digest AKAv1-MD5 ------------------------------------------------------ */

/* TS 35.208 set 1: RAND, AUTN (with AMF b9b9, SQN ff9bb4d0b607) and RES. */
static const char SET1_RAND[] = "23553cbe9637a89d218ae64dae47bf35";
static const char SET1_AUTN[] = "55f328b43577b9b94a9ffac354dfafb3";
static const char SET1_RES[] = "a54211d5e3ba50bf";
/* printf 23553cbe...bf3555f328b4...afb3 | xxd -r -p | base64 */
static const char SET1_NONCE[] = "I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M=";

static const char IMPU[] = "001010000000001@ims.mnc001.mcc001.3gppnetwork.org";
static const char REALM[] = "ims.mnc001.mcc001.3gppnetwork.org";

static void test_aka_nonce(void **state)
{
	(void)state;
	uint8_t rand[16], autn[16], r2[16], a2[16], big[48];
	char nonce[DIGEST_AKA_NONCE_LEN + 1], longer[80];

	unhex(SET1_RAND, rand, 16);
	unhex(SET1_AUTN, autn, 16);
	digest_aka_nonce_make(rand, autn, nonce);
	assert_string_equal(nonce, SET1_NONCE);
	assert_int_equal(digest_aka_nonce_parse(nonce, strlen(nonce), r2, a2), 0);
	assert_memory_equal(r2, rand, 16);
	assert_memory_equal(a2, autn, 16);

	/* RFC 3310: server data may follow AUTN; it is ignored. 48 octets = 64 chars. */
	memcpy(big, rand, 16);
	memcpy(big + 16, autn, 16);
	memset(big + 32, 0x5a, 16);
	/* printf ...|xxd -r -p|base64 of RAND||AUTN||5a*16 */
	strcpy(longer, "I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7NaWlpaWlpaWlpaWlpaWlpa");
	assert_int_equal(digest_aka_nonce_parse(longer, strlen(longer), r2, a2), 0);
	assert_memory_equal(r2, rand, 16);
	assert_memory_equal(a2, autn, 16);

	/* Refused: too short, unpadded, url alphabet, a stray character, non-canonical
	 * trailing bits, whitespace, far too long. */
	assert_int_equal(digest_aka_nonce_parse(S("I1U8vpY3qJ0hiuZNrke/NQ=="), r2, a2), -EBADMSG);
	assert_int_equal(digest_aka_nonce_parse(SET1_NONCE, 43, r2, a2), -EBADMSG);
	assert_int_equal(
	    digest_aka_nonce_parse(S("I1U8vpY3qJ0hiuZNrke_NVXzKLQ1d7m5Sp_6w1Tfr7M="), r2, a2),
	    -EBADMSG);
	assert_int_equal(
	    digest_aka_nonce_parse(S("I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7N="), r2, a2),
	    -EBADMSG);
	assert_int_equal(
	    digest_aka_nonce_parse(S("I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M=    "), r2, a2),
	    -EBADMSG);
	assert_int_equal(
	    digest_aka_nonce_parse(S("I1U8vpY3qJ0h uZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M="), r2, a2),
	    -EBADMSG);
	assert_int_equal(digest_aka_nonce_parse(S("===="), r2, a2), -EBADMSG);
	assert_int_equal(digest_aka_nonce_parse(NULL, 0, r2, a2), -EBADMSG);
	{
		char huge[300];
		memset(huge, 'A', sizeof(huge));
		assert_int_equal(digest_aka_nonce_parse(huge, 260, r2, a2), -EBADMSG);
		assert_int_equal(digest_aka_nonce_parse(huge, 256, r2, a2), 0);
	}
}

static void test_aka_auts(void **state)
{
	(void)state;
	uint8_t auts[DIGEST_AKA_AUTS_LEN], want[DIGEST_AKA_AUTS_LEN];

	/* printf 0102030405060708090a0b0c0d0e | xxd -r -p | base64 */
	unhex("0102030405060708090a0b0c0d0e", want, 14);
	assert_int_equal(digest_aka_auts_parse(S("AQIDBAUGBwgJCgsMDQ4="), auts), 0);
	assert_memory_equal(auts, want, 14);
	memset(auts, 0, sizeof(auts));
	assert_int_equal(digest_aka_auts_parse(S("AQIDBAUGBwgJCgsMDQ4"), auts), 0);
	assert_memory_equal(auts, want, 14);

	assert_int_equal(digest_aka_auts_parse(S("AQIDBAUGBwgJCgsMDQ=="), auts), -EBADMSG);
	assert_int_equal(digest_aka_auts_parse(S("AQIDBAUGBwgJCgsMDQ4PEA=="), auts), -EBADMSG);
	assert_int_equal(digest_aka_auts_parse(S("AQIDBAUGBwgJCgsMDQ5="), auts), -EBADMSG);
	assert_int_equal(digest_aka_auts_parse(S("0102030405060708090a0b0c0d0e"), auts), -EBADMSG);
	assert_int_equal(digest_aka_auts_parse(S("AQIDBAUGBwgJCgsMDQ4=="), auts), -EBADMSG);
	assert_int_equal(digest_aka_auts_parse(S(""), auts), -EBADMSG);
}

/*
 * The AKA response with RES as the password, against openssl:
 *   HA1=$( { printf '%s' "$IMPU:$REALM:"; printf a54211d5e3ba50bf | xxd -r -p; } |
 *          openssl dgst -md5 -r | cut -d' ' -f1)
 *   HA2=$(printf '%s' "REGISTER:sip:127.0.0.1:5060" | openssl dgst -md5 -r | cut -d' ' -f1)
 *   printf '%s' "$HA1:$NONCE:00000001:0a4f113b:auth:$HA2" | openssl dgst -md5
 */
static void test_aka_response(void **state)
{
	(void)state;
	uint8_t res[16];
	char ha1[DIGEST_HEX_MAX], resp[DIGEST_HEX_MAX];
	struct digest_params p =
	    params(SET1_NONCE, "00000001", "0a4f113b", "auth", "REGISTER", "sip:127.0.0.1:5060");

	unhex(SET1_RES, res, 8);
	assert_int_equal(digest_aka_ha1(IMPU, strlen(IMPU), REALM, strlen(REALM), res, 8, ha1), 0);
	assert_string_equal(ha1, "da00069eb0de6587da7e09ef503c29db");
	assert_int_equal(digest_response(DIGEST_MD5, ha1, &p, resp), 0);
	assert_string_equal(resp, "56c67a7635e4a2e78684dc902a4fb54e");

	/*
	 * A RES with a zero octet: the server hashes all 8 octets. SIPp 3.6.1
	 * stops at the zero (it hashes "a542"), so its response is the second
	 * value and must be refused.
	 */
	unhex("a54200d5e3ba50bf", res, 8);
	assert_int_equal(digest_aka_ha1(IMPU, strlen(IMPU), REALM, strlen(REALM), res, 8, ha1), 0);
	assert_string_equal(ha1, "6f60dd6770943ac9489c0a698fd78666");
	assert_int_equal(digest_response(DIGEST_MD5, ha1, &p, resp), 0);
	assert_string_equal(resp, "c5b68a9494ea408b473faa0d0adaccb4");
	assert_false(digest_equal(resp, "4561c75c5b457fa465dc2b96012d26a2", 32));

	/* The empty password of a resynchronisation request. */
	assert_int_equal(digest_aka_ha1(IMPU, strlen(IMPU), REALM, strlen(REALM), NULL, 0, ha1), 0);
	assert_string_equal(ha1, "6580ce225d6806500bf0e45504f9a545");
	assert_int_equal(digest_response(DIGEST_MD5, ha1, &p, resp), 0);
	assert_string_equal(resp, "ce783da02d62a52765201c451d48db11");

	/* RES lengths allowed by TS 33.102: 4..16 octets. */
	memset(res, 0x11, sizeof(res));
	assert_int_equal(digest_aka_ha1(S("u"), S("r"), res, 4, ha1), 0);
	assert_int_equal(digest_aka_ha1(S("u"), S("r"), res, 16, ha1), 0);
	assert_int_equal(digest_aka_ha1(S("u"), S("r"), res, 3, ha1), -EINVAL);
	assert_string_equal(ha1, "");
	assert_int_equal(digest_aka_ha1(S("u"), S("r"), res, 17, ha1), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc7616_example),
	    cmocka_unit_test(test_rfc2617_example),
	    cmocka_unit_test(test_slices),
	    cmocka_unit_test(test_variants),
	    cmocka_unit_test(test_rejects),
	    cmocka_unit_test(test_alg_parse_and_equal),
	    cmocka_unit_test(test_nonce_known_answer),
	    cmocka_unit_test(test_nonce_round_trip),
	    cmocka_unit_test(test_nonce_tampered),
	    cmocka_unit_test(test_threads),
	    cmocka_unit_test(test_aka_nonce),
	    cmocka_unit_test(test_aka_auts),
	    cmocka_unit_test(test_aka_response),
	};
	return cmocka_run_group_tests_name("digest", tests, NULL, NULL);
}
