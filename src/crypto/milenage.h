/*
 * MILENAGE authentication and key generation functions (3GPP TS 35.206).
 *
 * The AuC computes one full vector (f1, f2, f3, f4, f5) per RAND, millions of
 * times a second, so the AES key schedule for K lives in a small context that
 * the caller keeps on its stack: milenage_ctx_init() expands K once, and every
 * f-function after it runs without allocation (AES-NI when the CPU has it,
 * OpenSSL EVP otherwise).
 *
 * Byte strings are in the order of the specification (network order);
 * SQN is 48 bits (6 octets), AMF 16 bits, MACs and RES 64 bits, AK 48 bits.
 */
#ifndef KORYO_CRYPTO_MILENAGE_H
#define KORYO_CRYPTO_MILENAGE_H

#include <stdint.h>

#define MILENAGE_KEY_LEN  16
#define MILENAGE_RAND_LEN 16
#define MILENAGE_SQN_LEN  6
#define MILENAGE_AMF_LEN  2
#define MILENAGE_MAC_LEN  8
#define MILENAGE_RES_LEN  8
#define MILENAGE_AK_LEN   6

/*
 * State for one subscriber key: the expanded AES-128 key schedule of K and
 * OPc. Owned by the caller (stack or subscriber cache); holds key material, so
 * release it with milenage_ctx_cleanup(), which also scrubs it. One thread at
 * a time: the EVP backend's cipher context is not safe for concurrent use.
 */
struct milenage_ctx {
	_Alignas(16) uint8_t rk[11][16]; /* AES-NI round keys (AES-NI backend) */
	uint8_t opc[16];
	void *evp;   /* EVP_CIPHER_CTX * (portable backend), else NULL */
	int backend; /* enum milenage_backend */
};

/* The two AES-128 implementations; the choice is made per context at init. */
enum milenage_backend {
	MILENAGE_BACKEND_AUTO = 0, /* AES-NI if the CPU has it, else EVP */
	MILENAGE_BACKEND_AESNI = 1,
	MILENAGE_BACKEND_EVP = 2,
};

/*
 * Selects the backend that later milenage_ctx_init() calls use. For tests and
 * benchmarks, which run the conformance vectors through both; call it before
 * any other thread uses this module. Returns 0, or -ENOTSUP if AES-NI is
 * requested on a CPU (or build) without it.
 */
int milenage_backend_select(enum milenage_backend backend);

/* Name of the backend a context initialised now would use ("aesni", "evp"). */
const char *milenage_backend_name(void);

/*
 * Derives OPc = E_K(OP) xor OP (TS 35.206 4.1). Returns 0, or -EIO if the
 * AES backend failed.
 */
int milenage_opc_gen(const uint8_t k[16], const uint8_t op[16], uint8_t opc[16]);

/*
 * Expands K and stores OPc in ctx. Returns 0, -ENOMEM (portable backend could
 * not allocate its cipher context) or -EIO. On error ctx needs no cleanup.
 */
int milenage_ctx_init(struct milenage_ctx *ctx, const uint8_t k[16], const uint8_t opc[16]);

/* Frees what milenage_ctx_init() allocated and scrubs the key schedule. */
void milenage_ctx_cleanup(struct milenage_ctx *ctx);

/*
 * All outputs of MILENAGE for one RAND, SQN and AMF. Computing them together
 * shares TEMP = E_K(RAND xor OPc) and lets the five output encryptions run in
 * parallel, which is what makes a full vector cost about six AES blocks.
 */
struct milenage_out {
	uint8_t mac_a[8];   /* f1 */
	uint8_t mac_s[8];   /* f1* (same SQN and AMF as f1) */
	uint8_t res[8];     /* f2 */
	uint8_t ck[16];     /* f3 */
	uint8_t ik[16];     /* f4 */
	uint8_t ak[6];      /* f5 */
	uint8_t ak_star[6]; /* f5* */
};

/*
 * Computes f1, f1*, f2, f3, f4, f5 and f5* at once. Returns 0, or -EIO if the
 * AES backend failed (out is then scrubbed).
 */
int milenage_compute(const struct milenage_ctx *ctx, const uint8_t rand[16], const uint8_t sqn[6],
                     const uint8_t amf[2], struct milenage_out *out);

/*
 * f1 and f1*: network and resynchronisation authentication codes over SQN,
 * AMF and RAND. Either output may be NULL. Returns 0 or -EIO.
 */
int milenage_f1(const struct milenage_ctx *ctx, const uint8_t rand[16], const uint8_t sqn[6],
                const uint8_t amf[2], uint8_t mac_a[8], uint8_t mac_s[8]);

/*
 * f2 (RES), f3 (CK), f4 (IK) and f5 (AK) for RAND. Any output may be NULL.
 * Returns 0 or -EIO.
 */
int milenage_f2345(const struct milenage_ctx *ctx, const uint8_t rand[16], uint8_t res[8],
                   uint8_t ck[16], uint8_t ik[16], uint8_t ak[6]);

/* f5*: the anonymity key for resynchronisation (AUTS). Returns 0 or -EIO. */
int milenage_f5star(const struct milenage_ctx *ctx, const uint8_t rand[16], uint8_t ak_star[6]);

#endif
