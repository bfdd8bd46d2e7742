/*
 * UMTS AKA vectors, SQN arithmetic and resynchronisation (TS 33.102).
 */
#include "crypto/aka.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "crypto/milenage.h"

static void aka_sqn_store(uint64_t sqn, uint8_t out[6])
{
	for (int i = 5; i >= 0; i--) {
		out[i] = (uint8_t)sqn;
		sqn >>= 8;
	}
}

static uint64_t aka_sqn_load(const uint8_t in[6])
{
	uint64_t v = 0;

	for (int i = 0; i < 6; i++)
		v = (v << 8) | in[i];
	return v;
}

uint64_t aka_sqn_next(uint64_t sqn_last, unsigned ind_bitlen, unsigned ind)
{
	if (ind_bitlen > AKA_IND_BITLEN_MAX)
		ind_bitlen = AKA_IND_BITLEN_MAX;
	uint64_t seq_1 = UINT64_C(1) << ind_bitlen;
	uint64_t ind_mask = seq_1 - 1;

	/* Unsigned wrap modulo 2^64 is also correct modulo 2^48. */
	return (((sqn_last + seq_1) & ~ind_mask) + (ind & ind_mask)) & AKA_SQN_MAX;
}

void gsm_c2(const uint8_t res[8], uint8_t sres[4])
{
	for (int i = 0; i < 4; i++)
		sres[i] = res[i] ^ res[i + 4];
}

void gsm_c3(const uint8_t ck[16], const uint8_t ik[16], uint8_t kc[8])
{
	for (int i = 0; i < 8; i++)
		kc[i] = ck[i] ^ ck[i + 8] ^ ik[i] ^ ik[i + 8];
}

int aka_vector_gen(const struct aka_keys *keys, uint64_t sqn, const uint8_t rand[16],
                   struct aka_vector *out)
{
	struct milenage_ctx ctx;
	struct milenage_out mo;
	uint8_t sqnb[6];
	int rc;

	if (sqn > AKA_SQN_MAX) {
		OPENSSL_cleanse(out, sizeof(*out));
		return -EINVAL;
	}
	rc = milenage_ctx_init(&ctx, keys->k, keys->opc);
	if (rc < 0) {
		OPENSSL_cleanse(out, sizeof(*out));
		return rc;
	}
	aka_sqn_store(sqn, sqnb);
	rc = milenage_compute(&ctx, rand, sqnb, keys->amf, &mo);
	milenage_ctx_cleanup(&ctx);
	if (rc < 0) {
		OPENSSL_cleanse(out, sizeof(*out));
		return rc;
	}

	/* rand may alias out->rand; memmove keeps that legal. */
	memmove(out->rand, rand, 16);
	for (int i = 0; i < 6; i++)
		out->autn[i] = sqnb[i] ^ mo.ak[i];
	memcpy(out->autn + 6, keys->amf, 2);
	memcpy(out->autn + 8, mo.mac_a, 8);
	memcpy(out->res, mo.res, 8);
	memcpy(out->ck, mo.ck, 16);
	memcpy(out->ik, mo.ik, 16);
	gsm_c2(out->res, out->sres);
	gsm_c3(out->ck, out->ik, out->kc);
	out->sqn = sqn;
	OPENSSL_cleanse(&mo, sizeof(mo));
	return 0;
}

/* TS 33.102 6.3.3: MAC-S is computed with a dummy AMF of all zeros. */
static const uint8_t aka_resync_amf[2] = {0, 0};

int aka_resync(const struct aka_keys *keys, const uint8_t rand[16], const uint8_t auts[14],
               uint64_t *sqn_ms)
{
	struct milenage_ctx ctx;
	uint8_t ak_star[6], sqnb[6], mac_s[8];
	int rc;

	rc = milenage_ctx_init(&ctx, keys->k, keys->opc);
	if (rc < 0)
		return rc;
	rc = milenage_f5star(&ctx, rand, ak_star);
	if (rc < 0)
		goto out;
	for (int i = 0; i < 6; i++)
		sqnb[i] = auts[i] ^ ak_star[i];
	rc = milenage_f1(&ctx, rand, sqnb, aka_resync_amf, NULL, mac_s);
	if (rc < 0)
		goto out;
	/* Constant time: a forger learns nothing from how long the check took. */
	if (CRYPTO_memcmp(mac_s, auts + 6, 8) != 0) {
		rc = -EBADMSG;
		goto out;
	}
	*sqn_ms = aka_sqn_load(sqnb);
out:
	milenage_ctx_cleanup(&ctx);
	OPENSSL_cleanse(ak_star, sizeof(ak_star));
	OPENSSL_cleanse(mac_s, sizeof(mac_s));
	return rc;
}

int aka_auts_gen(const struct aka_keys *keys, const uint8_t rand[16], uint64_t sqn_ms,
                 uint8_t auts[14])
{
	struct milenage_ctx ctx;
	struct milenage_out mo;
	uint8_t sqnb[6];
	int rc;

	if (sqn_ms > AKA_SQN_MAX)
		return -EINVAL;
	rc = milenage_ctx_init(&ctx, keys->k, keys->opc);
	if (rc < 0)
		return rc;
	aka_sqn_store(sqn_ms, sqnb);
	rc = milenage_compute(&ctx, rand, sqnb, aka_resync_amf, &mo);
	milenage_ctx_cleanup(&ctx);
	if (rc < 0)
		return rc;
	for (int i = 0; i < 6; i++)
		auts[i] = sqnb[i] ^ mo.ak_star[i];
	memcpy(auts + 6, mo.mac_s, 8);
	OPENSSL_cleanse(&mo, sizeof(mo));
	return 0;
}

int crypto_random(void *buf, size_t len)
{
	if (len > INT_MAX)
		return -EINVAL;
	if (len == 0)
		return 0;
	if (RAND_bytes(buf, (int)len) != 1) {
		memset(buf, 0, len);
		return -EIO;
	}
	return 0;
}
