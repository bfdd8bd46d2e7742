/*
 * MILENAGE (3GPP TS 35.206), with two AES-128 backends.
 *
 * Every output is OUTi = E_K(rot(TEMP xor OPc, ri) xor ci) xor OPc with
 * TEMP = E_K(RAND xor OPc); OUT1 additionally mixes in SQN||AMF||SQN||AMF.
 * The rotations are 0, 32, 64 and 96 bits, i.e. whole 32-bit words, so on
 * AES-NI a rotation is one shuffle and the five output blocks go through the
 * AES rounds interleaved (the aesenc latency hides behind the other blocks).
 * A full vector therefore costs two dependent AES passes: TEMP, then five
 * blocks in parallel.
 *
 * The portable backend runs the same computation on byte arrays through one
 * OpenSSL EVP AES-128-ECB context per milenage_ctx (allocated at init, so the
 * per-vector path does not allocate either).
 */
#include "crypto/milenage.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#if defined(__x86_64__) || defined(__i386__)
#define MILENAGE_HAVE_AESNI 1
#include <immintrin.h>
#define AESNI_FN __attribute__((target("aes,sse2")))
#else
#define MILENAGE_HAVE_AESNI 0
#endif

/* Set by milenage_backend_select() before threads start; read at ctx init. */
static enum milenage_backend milenage_forced = MILENAGE_BACKEND_AUTO;

static int milenage_cpu_has_aesni(void)
{
#if MILENAGE_HAVE_AESNI
	return __builtin_cpu_supports("aes") && __builtin_cpu_supports("sse2");
#else
	return 0;
#endif
}

static enum milenage_backend milenage_effective_backend(void)
{
	if (milenage_forced != MILENAGE_BACKEND_AUTO)
		return milenage_forced;
	return milenage_cpu_has_aesni() ? MILENAGE_BACKEND_AESNI : MILENAGE_BACKEND_EVP;
}

int milenage_backend_select(enum milenage_backend backend)
{
	if (backend == MILENAGE_BACKEND_AESNI && !milenage_cpu_has_aesni())
		return -ENOTSUP;
	if (backend != MILENAGE_BACKEND_AUTO && backend != MILENAGE_BACKEND_AESNI &&
	    backend != MILENAGE_BACKEND_EVP)
		return -EINVAL;
	milenage_forced = backend;
	return 0;
}

const char *milenage_backend_name(void)
{
	return milenage_effective_backend() == MILENAGE_BACKEND_AESNI ? "aesni" : "evp";
}

/* ---- AES-NI backend ---------------------------------------------------- */
#if MILENAGE_HAVE_AESNI

AESNI_FN static inline __m128i aesni_expand_step(__m128i key, __m128i assist)
{
	assist = _mm_shuffle_epi32(assist, 0xff);
	key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
	key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
	key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
	return _mm_xor_si128(key, assist);
}

/* aeskeygenassist needs its round constant as an immediate, hence the macro. */
#define AESNI_ROUND_KEY(i, rcon)                                                                   \
	rk[i] = aesni_expand_step(rk[(i)-1], _mm_aeskeygenassist_si128(rk[(i)-1], (rcon)))

AESNI_FN static void aesni_expand_key(const uint8_t k[16], uint8_t out[11][16])
{
	__m128i rk[11];

	rk[0] = _mm_loadu_si128((const __m128i *)k);
	AESNI_ROUND_KEY(1, 0x01);
	AESNI_ROUND_KEY(2, 0x02);
	AESNI_ROUND_KEY(3, 0x04);
	AESNI_ROUND_KEY(4, 0x08);
	AESNI_ROUND_KEY(5, 0x10);
	AESNI_ROUND_KEY(6, 0x20);
	AESNI_ROUND_KEY(7, 0x40);
	AESNI_ROUND_KEY(8, 0x80);
	AESNI_ROUND_KEY(9, 0x1b);
	AESNI_ROUND_KEY(10, 0x36);
	for (int i = 0; i < 11; i++)
		_mm_store_si128((__m128i *)out[i], rk[i]);
}

AESNI_FN static inline __m128i aesni_enc1(const uint8_t rkb[11][16], __m128i b)
{
	const __m128i *rk = (const __m128i *)rkb;

	b = _mm_xor_si128(b, _mm_load_si128(&rk[0]));
	for (int r = 1; r < 10; r++)
		b = _mm_aesenc_si128(b, _mm_load_si128(&rk[r]));
	return _mm_aesenclast_si128(b, _mm_load_si128(&rk[10]));
}

/* Five independent blocks through the rounds side by side. */
AESNI_FN static inline void aesni_enc5(const uint8_t rkb[11][16], __m128i b[5])
{
	const __m128i *rk = (const __m128i *)rkb;
	__m128i k = _mm_load_si128(&rk[0]);

	for (int i = 0; i < 5; i++)
		b[i] = _mm_xor_si128(b[i], k);
	for (int r = 1; r < 10; r++) {
		k = _mm_load_si128(&rk[r]);
		for (int i = 0; i < 5; i++)
			b[i] = _mm_aesenc_si128(b[i], k);
	}
	k = _mm_load_si128(&rk[10]);
	for (int i = 0; i < 5; i++)
		b[i] = _mm_aesenclast_si128(b[i], k);
}

AESNI_FN static void aesni_compute(const struct milenage_ctx *ctx, const uint8_t rand[16],
                                   const uint8_t sqn[6], const uint8_t amf[2],
                                   struct milenage_out *out)
{
	const __m128i opc = _mm_loadu_si128((const __m128i *)ctx->opc);
	uint8_t in1b[16], o[5][16];
	__m128i temp, x, b[5];

	temp = aesni_enc1(ctx->rk, _mm_xor_si128(_mm_loadu_si128((const __m128i *)rand), opc));

	/* OUT1: TEMP xor rot(IN1 xor OPc, 64) xor c1 (c1 = 0). */
	memcpy(in1b, sqn, 6);
	memcpy(in1b + 6, amf, 2);
	memcpy(in1b + 8, in1b, 8);
	x = _mm_xor_si128(_mm_loadu_si128((const __m128i *)in1b), opc);
	b[0] = _mm_xor_si128(temp, _mm_shuffle_epi32(x, 0x4e));

	/*
	 * OUT2..OUT5: rot(TEMP xor OPc, r) xor c with r = 0, 32, 64, 96 bits and
	 * c = 1, 2, 4, 8 in the last octet. A left rotation by one 32-bit word
	 * takes word i+1 into word i: _MM_SHUFFLE(0,3,2,1) = 0x39, and so on.
	 */
	x = _mm_xor_si128(temp, opc);
	b[1] = _mm_xor_si128(x, _mm_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1));
	b[2] = _mm_xor_si128(_mm_shuffle_epi32(x, 0x39),
	                     _mm_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2));
	b[3] = _mm_xor_si128(_mm_shuffle_epi32(x, 0x4e),
	                     _mm_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4));
	b[4] = _mm_xor_si128(_mm_shuffle_epi32(x, 0x93),
	                     _mm_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8));

	aesni_enc5(ctx->rk, b);
	for (int i = 0; i < 5; i++)
		_mm_storeu_si128((__m128i *)o[i], _mm_xor_si128(b[i], opc));

	memcpy(out->mac_a, o[0], 8);
	memcpy(out->mac_s, o[0] + 8, 8);
	memcpy(out->ak, o[1], 6);
	memcpy(out->res, o[1] + 8, 8);
	memcpy(out->ck, o[2], 16);
	memcpy(out->ik, o[3], 16);
	memcpy(out->ak_star, o[4], 6);

	/* The spilled blocks are key-derived; registers are left to be overwritten. */
	OPENSSL_cleanse(o, sizeof(o));
}

#endif /* MILENAGE_HAVE_AESNI */

/* ---- portable (EVP) backend -------------------------------------------- */

/*
 * OpenSSL 3 looks the algorithm up on every EVP_EncryptInit_ex(EVP_aes_128_ecb())
 * (an "implicit fetch"); fetching once per process saves most of the cost of a
 * context init, which the AuC pays per subscriber request.
 */
static pthread_once_t milenage_evp_once = PTHREAD_ONCE_INIT;
static EVP_CIPHER *milenage_evp_cipher; /* lives for the process */

static void milenage_evp_fetch(void)
{
	milenage_evp_cipher = EVP_CIPHER_fetch(NULL, "AES-128-ECB", NULL);
}

/* ECB over n whole blocks; the context has padding off, so no state carries. */
static int evp_enc_blocks(const struct milenage_ctx *ctx, const uint8_t *in, uint8_t *out, int n)
{
	int outl = 0;

	if (EVP_EncryptUpdate((EVP_CIPHER_CTX *)ctx->evp, out, &outl, in, 16 * n) != 1 ||
	    outl != 16 * n)
		return -EIO;
	return 0;
}

static int evp_compute(const struct milenage_ctx *ctx, const uint8_t rand[16], const uint8_t sqn[6],
                       const uint8_t amf[2], struct milenage_out *out)
{
	/* Rotations of OUT2..OUT5 in octets, and their constants c2..c5. */
	static const int rot[5] = {8, 0, 4, 8, 12};
	static const uint8_t cst[5] = {0, 1, 2, 4, 8};
	uint8_t temp[16], in1[16], x[16], blk[5][16], o[5][16];
	int rc;

	for (int i = 0; i < 16; i++)
		x[i] = rand[i] ^ ctx->opc[i];
	rc = evp_enc_blocks(ctx, x, temp, 1);
	if (rc < 0)
		goto out;

	memcpy(in1, sqn, 6);
	memcpy(in1 + 6, amf, 2);
	memcpy(in1 + 8, in1, 8);
	for (int b = 0; b < 5; b++) {
		/* OUT1 rotates IN1 xor OPc and adds TEMP; the others rotate TEMP xor OPc. */
		for (int i = 0; i < 16; i++)
			x[i] = (b == 0 ? in1[i] : temp[i]) ^ ctx->opc[i];
		for (int i = 0; i < 16; i++)
			blk[b][i] = x[(i + rot[b]) % 16];
		if (b == 0)
			for (int i = 0; i < 16; i++)
				blk[b][i] ^= temp[i];
		blk[b][15] ^= cst[b];
	}
	rc = evp_enc_blocks(ctx, &blk[0][0], &o[0][0], 5);
	if (rc < 0)
		goto out;
	for (int b = 0; b < 5; b++)
		for (int i = 0; i < 16; i++)
			o[b][i] ^= ctx->opc[i];

	memcpy(out->mac_a, o[0], 8);
	memcpy(out->mac_s, o[0] + 8, 8);
	memcpy(out->ak, o[1], 6);
	memcpy(out->res, o[1] + 8, 8);
	memcpy(out->ck, o[2], 16);
	memcpy(out->ik, o[3], 16);
	memcpy(out->ak_star, o[4], 6);
out:
	OPENSSL_cleanse(temp, sizeof(temp));
	OPENSSL_cleanse(x, sizeof(x));
	OPENSSL_cleanse(blk, sizeof(blk));
	OPENSSL_cleanse(o, sizeof(o));
	return rc;
}

/* ---- public API --------------------------------------------------------- */

int milenage_ctx_init(struct milenage_ctx *ctx, const uint8_t k[16], const uint8_t opc[16])
{
	memset(ctx, 0, sizeof(*ctx));
	memcpy(ctx->opc, opc, 16);
	ctx->backend = milenage_effective_backend();

#if MILENAGE_HAVE_AESNI
	if (ctx->backend == MILENAGE_BACKEND_AESNI) {
		aesni_expand_key(k, ctx->rk);
		return 0;
	}
#endif
	ctx->backend = MILENAGE_BACKEND_EVP;
	pthread_once(&milenage_evp_once, milenage_evp_fetch);
	if (!milenage_evp_cipher) {
		OPENSSL_cleanse(ctx, sizeof(*ctx));
		return -EIO;
	}
	EVP_CIPHER_CTX *evp = EVP_CIPHER_CTX_new();
	if (!evp) {
		OPENSSL_cleanse(ctx, sizeof(*ctx));
		return -ENOMEM;
	}
	if (EVP_EncryptInit_ex2(evp, milenage_evp_cipher, k, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(evp, 0) != 1) {
		EVP_CIPHER_CTX_free(evp);
		OPENSSL_cleanse(ctx, sizeof(*ctx));
		return -EIO;
	}
	ctx->evp = evp;
	return 0;
}

void milenage_ctx_cleanup(struct milenage_ctx *ctx)
{
	if (!ctx)
		return;
	/* EVP_CIPHER_CTX_free() scrubs its own key schedule. */
	EVP_CIPHER_CTX_free(ctx->evp);
	OPENSSL_cleanse(ctx, sizeof(*ctx));
}

int milenage_compute(const struct milenage_ctx *ctx, const uint8_t rand[16], const uint8_t sqn[6],
                     const uint8_t amf[2], struct milenage_out *out)
{
#if MILENAGE_HAVE_AESNI
	if (ctx->backend == MILENAGE_BACKEND_AESNI) {
		aesni_compute(ctx, rand, sqn, amf, out);
		return 0;
	}
#endif
	int rc = evp_compute(ctx, rand, sqn, amf, out);
	if (rc < 0)
		OPENSSL_cleanse(out, sizeof(*out));
	return rc;
}

int milenage_opc_gen(const uint8_t k[16], const uint8_t op[16], uint8_t opc[16])
{
	static const uint8_t zero[16];
	struct milenage_ctx ctx;
	int rc;

	/* With OPc = 0, TEMP would be E_K(RAND); we need plain E_K(OP). */
	rc = milenage_ctx_init(&ctx, k, zero);
	if (rc < 0)
		return rc;
#if MILENAGE_HAVE_AESNI
	if (ctx.backend == MILENAGE_BACKEND_AESNI) {
		__m128i v = _mm_loadu_si128((const __m128i *)op);
		_mm_storeu_si128((__m128i *)opc, _mm_xor_si128(aesni_enc1(ctx.rk, v), v));
		milenage_ctx_cleanup(&ctx);
		return 0;
	}
#endif
	uint8_t e[16];
	rc = evp_enc_blocks(&ctx, op, e, 1);
	if (rc == 0)
		for (int i = 0; i < 16; i++)
			opc[i] = e[i] ^ op[i];
	OPENSSL_cleanse(e, sizeof(e));
	milenage_ctx_cleanup(&ctx);
	return rc;
}

int milenage_f1(const struct milenage_ctx *ctx, const uint8_t rand[16], const uint8_t sqn[6],
                const uint8_t amf[2], uint8_t mac_a[8], uint8_t mac_s[8])
{
	struct milenage_out o;
	int rc = milenage_compute(ctx, rand, sqn, amf, &o);

	if (rc == 0) {
		if (mac_a)
			memcpy(mac_a, o.mac_a, 8);
		if (mac_s)
			memcpy(mac_s, o.mac_s, 8);
	}
	OPENSSL_cleanse(&o, sizeof(o));
	return rc;
}

int milenage_f2345(const struct milenage_ctx *ctx, const uint8_t rand[16], uint8_t res[8],
                   uint8_t ck[16], uint8_t ik[16], uint8_t ak[6])
{
	static const uint8_t sqn0[6], amf0[2];
	struct milenage_out o;
	int rc = milenage_compute(ctx, rand, sqn0, amf0, &o);

	if (rc == 0) {
		if (res)
			memcpy(res, o.res, 8);
		if (ck)
			memcpy(ck, o.ck, 16);
		if (ik)
			memcpy(ik, o.ik, 16);
		if (ak)
			memcpy(ak, o.ak, 6);
	}
	OPENSSL_cleanse(&o, sizeof(o));
	return rc;
}

int milenage_f5star(const struct milenage_ctx *ctx, const uint8_t rand[16], uint8_t ak_star[6])
{
	static const uint8_t sqn0[6], amf0[2];
	struct milenage_out o;
	int rc = milenage_compute(ctx, rand, sqn0, amf0, &o);

	if (rc == 0)
		memcpy(ak_star, o.ak_star, 6);
	OPENSSL_cleanse(&o, sizeof(o));
	return rc;
}
