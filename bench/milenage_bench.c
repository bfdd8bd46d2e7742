/*
 * koryo-bench-milenage: full AKA vectors per second on one core.
 *
 * Measures what the AuC does per vector:
 *   vector      aka_vector_gen() (K expansion, f1..f5, AUTN, c2/c3)
 *   sealed      secretbox_open() of the subscriber's K||OPc box (AAD = IMSI)
 *               followed by aka_vector_gen(), as the AuC does per request
 *   ctx-reuse   milenage_compute() with a context kept across vectors
 *   open        secretbox_open() alone
 * for each AES backend available. RAND comes from a cheap PRNG, not
 * crypto_random(): the RNG cost is the caller's choice of batching.
 *
 * usage: koryo-bench-milenage [seconds per case, default 2]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/aka.h"
#include "crypto/milenage.h"
#include "crypto/secretbox.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t xs = 0x9e3779b97f4a7c15u;
static void next_rand(uint8_t rand[16])
{
	for (int i = 0; i < 2; i++) {
		xs ^= xs << 13, xs ^= xs >> 7, xs ^= xs << 17;
		memcpy(rand + 8 * i, &xs, 8);
	}
}

enum bench_case { CASE_VECTOR, CASE_SEALED, CASE_CTX_REUSE, CASE_OPEN };
static const char *case_names[] = {"vector", "sealed+vector", "ctx-reuse", "open"};

static volatile uint8_t sink;

/* Runs one case for `seconds`; returns operations per second, or -1 on error. */
static double run(enum bench_case c, double seconds)
{
	static const char imsi[] = "001010123456789";
	uint8_t master[32], kopc[32], box[32 + SECRETBOX_OVERHEAD];
	struct aka_keys keys = {.amf = {0x80, 0x00}};
	struct aka_vector v;
	struct milenage_ctx ctx;
	struct milenage_out mo;
	uint64_t sqn = 32, n = 0;
	uint8_t rand[16], sqnb[6] = {0};
	double t0, t;

	for (int i = 0; i < 32; i++) {
		master[i] = (uint8_t)(i * 3 + 1);
		kopc[i] = (uint8_t)(i * 5 + 2);
	}
	memcpy(keys.k, kopc, 16);
	memcpy(keys.opc, kopc + 16, 16);
	if (secretbox_seal(master, imsi, strlen(imsi), kopc, 32, box) != 0)
		return -1;
	if (milenage_ctx_init(&ctx, keys.k, keys.opc) != 0)
		return -1;

	t0 = now();
	do {
		/* Check the clock every 4096 operations to keep its cost out. */
		for (int i = 0; i < 4096; i++) {
			next_rand(rand);
			switch (c) {
			case CASE_VECTOR:
				if (aka_vector_gen(&keys, sqn, rand, &v) != 0)
					return -1;
				sink ^= v.autn[15];
				break;
			case CASE_SEALED: {
				struct aka_keys k2;
				uint8_t plain[32];
				if (secretbox_open(master, imsi, strlen(imsi), box, sizeof(box),
				                   plain) != 0)
					return -1;
				memcpy(k2.k, plain, 16);
				memcpy(k2.opc, plain + 16, 16);
				memcpy(k2.amf, keys.amf, 2);
				if (aka_vector_gen(&k2, sqn, rand, &v) != 0)
					return -1;
				sink ^= v.autn[15];
				break;
			}
			case CASE_CTX_REUSE:
				sqnb[5] = (uint8_t)sqn;
				if (milenage_compute(&ctx, rand, sqnb, keys.amf, &mo) != 0)
					return -1;
				sink ^= mo.mac_a[7];
				break;
			case CASE_OPEN: {
				uint8_t plain[32];
				if (secretbox_open(master, imsi, strlen(imsi), box, sizeof(box),
				                   plain) != 0)
					return -1;
				sink ^= plain[0];
				break;
			}
			}
			sqn = aka_sqn_next(sqn, 5, 1);
			n++;
		}
		t = now() - t0;
	} while (t < seconds);
	milenage_ctx_cleanup(&ctx);
	return (double)n / t;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 2.0;
	static const enum milenage_backend backends[] = {MILENAGE_BACKEND_AESNI,
	                                                 MILENAGE_BACKEND_EVP};

	if (seconds <= 0) {
		fprintf(stderr, "usage: koryo-bench-milenage [seconds per case]\n");
		return 2;
	}
	printf("# koryo-bench-milenage: single thread, %.1f s per case\n", seconds);
	printf("%-8s %-14s %14s %10s\n", "backend", "case", "ops/s", "ns/op");
	for (size_t b = 0; b < sizeof(backends) / sizeof(backends[0]); b++) {
		if (milenage_backend_select(backends[b]) != 0)
			continue;
		for (int c = CASE_VECTOR; c <= CASE_OPEN; c++) {
			if (c == CASE_OPEN && b > 0)
				continue; /* independent of the MILENAGE backend */
			double r = run((enum bench_case)c, seconds);
			if (r < 0) {
				fprintf(stderr, "%s: failed\n", case_names[c]);
				return 1;
			}
			printf("%-8s %-14s %14.0f %10.1f\n", milenage_backend_name(), case_names[c],
			       r, 1e9 / r);
		}
	}
	return 0;
}
