#include "hlr/auc.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <string.h>

#include "common/log.h"
#include "crypto/milenage.h"
#include "hlr/registry.h"

/* Generates n vectors for rec (whose SQN stripe the caller holds) into out and
 * sets *sqn to the last SQN used. Returns 0, -EACCES (AUTS does not verify),
 * -EBADMSG (keys do not open), or a crypto error. */
static int auc_generate(struct hlr_registry *reg, const struct hlr_subscr *rec, unsigned n,
                        unsigned ind, const uint8_t *auts, const uint8_t *auts_rand,
                        struct aka_vector *out, uint64_t *sqn_out)
{
	struct aka_keys keys;
	uint8_t op[16];
	uint64_t sqn = rec->sqn;
	int rc = hlr_subscr_keys_open(reg, rec, keys.k, op);
	if (rc != 0) {
		LOGE("auc", "IMSI='%" PRIu64 "': keys do not open under the master key", rec->imsi);
		rc = -EBADMSG;
		goto out;
	}
	if (rec->op_is_opc)
		memcpy(keys.opc, op, 16);
	else if ((rc = milenage_opc_gen(keys.k, op, keys.opc)) != 0)
		goto out;
	memcpy(keys.amf, rec->amf, 2);

	if (auts && auts_rand) {
		uint64_t sqn_ms;
		if (aka_resync(&keys, auts_rand, auts, &sqn_ms) != 0) {
			LOGN("auc", "IMSI='%" PRIu64 "': AUTS does not verify; SQN unchanged",
			     rec->imsi);
			rc = -EACCES;
			goto out;
		}
		LOGI("auc", "IMSI='%" PRIu64 "': resynchronised SQN %" PRIu64 " -> %" PRIu64,
		     rec->imsi, sqn, sqn_ms);
		sqn = sqn_ms;
	}

	unsigned ind_mask = (1u << rec->ind_bitlen) - 1;
	for (unsigned i = 0; i < n; i++) {
		sqn = aka_sqn_next(sqn, rec->ind_bitlen, ind & ind_mask);
		if ((rc = crypto_random(out[i].rand, sizeof(out[i].rand))) != 0 ||
		    (rc = aka_vector_gen(&keys, sqn, out[i].rand, &out[i])) != 0)
			goto out;
	}
	*sqn_out = sqn;
	rc = 0;
out:
	OPENSSL_cleanse(&keys, sizeof(keys));
	OPENSSL_cleanse(op, sizeof(op));
	if (rc != 0)
		OPENSSL_cleanse(out, sizeof(*out) * n);
	return rc;
}

/* Locks the subscriber's SQN and generates the vectors. 0 with the stripe held
 * (the caller ends it), or a negative errno with nothing held. */
static int auc_begin(struct hlr_registry *reg, uint64_t imsi, unsigned n, unsigned ind,
                     const uint8_t *auts, const uint8_t *auts_rand, struct aka_vector *out,
                     struct hlr_subscr *rec, uint64_t *sqn)
{
	if (n < 1 || n > HLR_AUC_MAX_VECTORS)
		return -EINVAL;
	if (hlr_subscr_sqn_begin(reg, imsi, rec) != 0)
		return -ENOENT;
	int rc = auc_generate(reg, rec, n, ind, auts, auts_rand, out, sqn);
	if (rc != 0)
		hlr_subscr_sqn_end(reg, rec, rec->sqn); /* unlocks; nothing to write */
	return rc;
}

int hlr_auc_gen_vectors(struct hlr_registry *reg, uint64_t imsi, unsigned n, unsigned ind,
                        const uint8_t *auts, const uint8_t *auts_rand, struct aka_vector *out)
{
	struct hlr_subscr rec;
	uint64_t sqn = 0;
	int rc = auc_begin(reg, imsi, n, ind, auts, auts_rand, out, &rec, &sqn);
	if (rc != 0)
		return rc;
	/* The new SQN must be durable before any vector leaves: a vector whose SQN is
	 * handed out twice would let a replayed challenge pass. */
	int end = hlr_subscr_sqn_end(reg, &rec, sqn);
	if (end != 0) {
		LOGE("auc", "IMSI='%" PRIu64 "': SQN not stored; vectors withheld", imsi);
		OPENSSL_cleanse(out, sizeof(*out) * n);
		rc = -EIO;
	}
	return rc == 0 ? (int)n : rc;
}

int hlr_auc_gen_vectors_durable(struct hlr_registry *reg, uint64_t imsi, unsigned n, unsigned ind,
                                const uint8_t *auts, const uint8_t *auts_rand,
                                struct aka_vector *out, store_done_fn done, void *ctx)
{
	struct hlr_subscr rec;
	uint64_t sqn = 0;
	int rc = auc_begin(reg, imsi, n, ind, auts, auts_rand, out, &rec, &sqn);
	if (rc != 0)
		return rc;
	rc = hlr_subscr_sqn_end_durable(reg, &rec, sqn, done, ctx);
	if (rc != 0) {
		OPENSSL_cleanse(out, sizeof(*out) * n);
		return -EIO;
	}
	return (int)n;
}
