#pragma once
/* The authentication centre: UMTS AKA vectors (with GSM triplets derived by c2/c3)
 * for a subscriber of the registry, advancing its SQN per TS 33.102 Annex C. */

#include <stdint.h>

#include "crypto/aka.h"
#include "store/store_queue.h"

struct hlr_registry;

#define HLR_AUC_MAX_VECTORS 5

/* Generates n (1..HLR_AUC_MAX_VECTORS) vectors for the subscriber with this IMSI,
 * using IND slot ind (taken modulo 2^ind_bitlen). With auts (14 bytes) and
 * auts_rand (the RAND of the failed challenge) it first resynchronises to the
 * USIM's SQN. The new SQN is durable in the store before this returns.
 * Returns n with out[0..n-1] filled, or:
 *   -ENOENT   unknown IMSI;
 *   -EACCES   the AUTS does not verify (MAC-S wrong): nothing changed;
 *   -EBADMSG  the subscriber's keys do not open under the master key;
 *   -EINVAL   n out of range;
 *   -EIO      the store failed: no vector is handed out, the SQN is unchanged. */
int hlr_auc_gen_vectors(struct hlr_registry *reg, uint64_t imsi, unsigned n, unsigned ind,
                        const uint8_t *auts, const uint8_t *auts_rand, struct aka_vector *out);

/* As hlr_auc_gen_vectors(), for the message path: the vectors are in out when
 * this returns n, but may be handed out only once done(ctx, 0) has been called
 * (the new SQN is then durable; done(ctx, rc < 0) means it is not, and the
 * vectors must be dropped). done runs on the group-commit thread, or before this
 * returns when the registry has none; ctx and out must stay valid until then.
 * Returns n, or the errors of hlr_auc_gen_vectors() (done is then not called). */
int hlr_auc_gen_vectors_durable(struct hlr_registry *reg, uint64_t imsi, unsigned n, unsigned ind,
                                const uint8_t *auts, const uint8_t *auts_rand,
                                struct aka_vector *out, store_done_fn done, void *ctx);
