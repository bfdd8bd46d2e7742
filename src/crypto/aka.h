/*
 * UMTS AKA on top of MILENAGE (3GPP TS 33.102): authentication vectors,
 * sequence numbers with IND slots (Annex C), resynchronisation from AUTS,
 * and the GSM conversion functions c2/c3 (6.8.1.2) that let a 3G subscriber
 * be served over GSM.
 */
#ifndef KORYO_CRYPTO_AKA_H
#define KORYO_CRYPTO_AKA_H

#include <stddef.h>
#include <stdint.h>

#define AKA_SQN_MAX            ((UINT64_C(1) << 48) - 1)
#define AKA_IND_BITLEN_DEFAULT 5
#define AKA_IND_BITLEN_MAX     28 /* as libosmocore: SEQ keeps at least 20 bits */
#define AKA_AUTS_LEN           14

/* A subscriber's long-term keys. Key material: scrub after use. */
struct aka_keys {
	uint8_t k[16];
	uint8_t opc[16];
	uint8_t amf[2];
};

/* One authentication vector (quintuplet plus the GSM triplet part). */
struct aka_vector {
	uint8_t rand[16], autn[16], res[8], ck[16], ik[16], sres[4], kc[8];
	uint64_t sqn; /* the SQN carried (concealed) in autn */
};

/*
 * The SQN for the next vector after sqn_last, in IND slot ind
 * (TS 33.102 Annex C.3.2; identical to libosmocore milenage_gen_vec):
 * SEQ goes up by one and IND is replaced,
 *   ((sqn_last + 2^ind_bitlen) & ~(2^ind_bitlen - 1)) + ind,
 * modulo 2^48. ind_bitlen is clamped to AKA_IND_BITLEN_MAX and ind reduced
 * modulo 2^ind_bitlen, so the result is always a valid 48-bit SQN; callers
 * validate both against the subscriber's settings first.
 */
uint64_t aka_sqn_next(uint64_t sqn_last, unsigned ind_bitlen, unsigned ind);

/*
 * Generates the vector for SQN sqn (the SQN to send, already advanced with
 * aka_sqn_next()) and RAND: AUTN = (SQN xor AK) || AMF || MAC-A, XRES, CK,
 * IK, SRES = c2(XRES), Kc = c3(CK, IK). out->rand and out->sqn are filled
 * in. Returns 0, -EINVAL if sqn does not fit in 48 bits, or the error of the
 * AES backend (-ENOMEM, -EIO); on error *out is scrubbed.
 */
int aka_vector_gen(const struct aka_keys *keys, uint64_t sqn, const uint8_t rand[16],
                   struct aka_vector *out);

/*
 * Resynchronisation (TS 33.102 6.3.5): given the RAND of the failed
 * challenge and the USIM's AUTS = (SQN_MS xor AK*) || MAC-S, recovers SQN_MS
 * with f5* and checks MAC-S = f1*(SQN_MS, RAND, AMF = 0x0000) (the dummy AMF
 * of 6.3.3). Returns 0 with *sqn_ms set, -EBADMSG if MAC-S does not verify
 * (*sqn_ms untouched), or the AES backend's error. The caller then continues
 * with aka_sqn_next(*sqn_ms, ...).
 */
int aka_resync(const struct aka_keys *keys, const uint8_t rand[16], const uint8_t auts[14],
               uint64_t *sqn_ms);

/*
 * Builds AUTS as a USIM would for SQN_MS (for tests and simulators; the AuC
 * never needs it). Returns 0, -EINVAL if sqn_ms exceeds 48 bits, or the AES
 * backend's error.
 */
int aka_auts_gen(const struct aka_keys *keys, const uint8_t rand[16], uint64_t sqn_ms,
                 uint8_t auts[14]);

/* c2 (TS 33.102 6.8.1.2): SRES = RES[0..3] xor RES[4..7]. Cannot fail. */
void gsm_c2(const uint8_t res[8], uint8_t sres[4]);

/* c3 (TS 33.102 6.8.1.2): Kc = CK1 xor CK2 xor IK1 xor IK2 (64-bit halves). */
void gsm_c3(const uint8_t ck[16], const uint8_t ik[16], uint8_t kc[8]);

/*
 * Fills buf with len bytes from OpenSSL's CSPRNG (RAND_bytes). Returns 0,
 * -EINVAL if len exceeds INT_MAX, or -EIO if the generator failed (buf is
 * then zeroed, never left partly random).
 */
int crypto_random(void *buf, size_t len);

#endif
