/*
 * MILENAGE against the 3GPP TS 35.208 conformance sets 1-6, every column,
 * through both AES backends (AES-NI and OpenSSL EVP).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/milenage.h"

#define MAX_SETS 16

struct ts35208_set {
	char name[8];
	uint8_t k[16], rand[16], sqn[6], amf[2], op[16], opc[16];
	uint8_t f1[8], f1star[8], f2[8], f3[16], f4[16], f5[6], f5star[6];
};

static struct ts35208_set sets[MAX_SETS];
static int nsets;

static void unhex(const char *s, uint8_t *out, size_t n)
{
	assert_int_equal(strlen(s), 2 * n);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

/* Loads the TSV once; a missing file fails the test rather than skipping it. */
static int load_sets(void **state)
{
	(void)state;
	const char *dir = getenv("KORYO_TESTDATA");
	char path[4096], line[1024];
	FILE *f;

	if (!dir) {
		fprintf(stderr, "KORYO_TESTDATA is not set\n");
		return -1;
	}
	snprintf(path, sizeof(path), "%s/milenage/ts35208_sets1-6.tsv", dir);
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "cannot open %s\n", path);
		return -1;
	}
	nsets = 0;
	if (!fgets(line, sizeof(line), f)) { /* header */
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f) && nsets < MAX_SETS) {
		char *col[14], *save = NULL;
		int n = 0;
		line[strcspn(line, "\r\n")] = '\0';
		if (!*line)
			continue;
		for (char *t = strtok_r(line, "\t", &save); t && n < 14;
		     t = strtok_r(NULL, "\t", &save))
			col[n++] = t;
		if (n != 14) {
			fprintf(stderr, "%s: bad row with %d columns\n", path, n);
			fclose(f);
			return -1;
		}
		struct ts35208_set *s = &sets[nsets++];
		snprintf(s->name, sizeof(s->name), "%s", col[0]);
		unhex(col[1], s->k, 16);
		unhex(col[2], s->rand, 16);
		unhex(col[3], s->sqn, 6);
		unhex(col[4], s->amf, 2);
		unhex(col[5], s->op, 16);
		unhex(col[6], s->opc, 16);
		unhex(col[7], s->f1, 8);
		unhex(col[8], s->f1star, 8);
		unhex(col[9], s->f2, 8);
		unhex(col[10], s->f3, 16);
		unhex(col[11], s->f4, 16);
		unhex(col[12], s->f5, 6);
		unhex(col[13], s->f5star, 6);
	}
	fclose(f);
	if (nsets != 6) {
		fprintf(stderr, "%s: expected 6 sets, found %d\n", path, nsets);
		return -1;
	}
	return 0;
}

static void check_all_sets(void)
{
	for (int i = 0; i < nsets; i++) {
		const struct ts35208_set *s = &sets[i];
		struct milenage_ctx ctx;
		struct milenage_out o;
		uint8_t opc[16], mac_a[8], mac_s[8], res[8], ck[16], ik[16], ak[6], aks[6];

		print_message("set %s (%s)\n", s->name, milenage_backend_name());
		assert_int_equal(milenage_opc_gen(s->k, s->op, opc), 0);
		assert_memory_equal(opc, s->opc, 16);

		assert_int_equal(milenage_ctx_init(&ctx, s->k, opc), 0);
		assert_int_equal(milenage_compute(&ctx, s->rand, s->sqn, s->amf, &o), 0);
		assert_memory_equal(o.mac_a, s->f1, 8);
		assert_memory_equal(o.mac_s, s->f1star, 8);
		assert_memory_equal(o.res, s->f2, 8);
		assert_memory_equal(o.ck, s->f3, 16);
		assert_memory_equal(o.ik, s->f4, 16);
		assert_memory_equal(o.ak, s->f5, 6);
		assert_memory_equal(o.ak_star, s->f5star, 6);

		/* The single-function wrappers agree with the combined call. */
		assert_int_equal(milenage_f1(&ctx, s->rand, s->sqn, s->amf, mac_a, mac_s), 0);
		assert_memory_equal(mac_a, s->f1, 8);
		assert_memory_equal(mac_s, s->f1star, 8);
		assert_int_equal(milenage_f1(&ctx, s->rand, s->sqn, s->amf, NULL, mac_s), 0);
		assert_int_equal(milenage_f2345(&ctx, s->rand, res, ck, ik, ak), 0);
		assert_memory_equal(res, s->f2, 8);
		assert_memory_equal(ck, s->f3, 16);
		assert_memory_equal(ik, s->f4, 16);
		assert_memory_equal(ak, s->f5, 6);
		assert_int_equal(milenage_f2345(&ctx, s->rand, NULL, NULL, NULL, ak), 0);
		assert_memory_equal(ak, s->f5, 6);
		assert_int_equal(milenage_f5star(&ctx, s->rand, aks), 0);
		assert_memory_equal(aks, s->f5star, 6);

		milenage_ctx_cleanup(&ctx);
		/* Cleanup scrubs the key schedule and OPc. */
		static const struct milenage_ctx zero;
		assert_memory_equal(&ctx, &zero, sizeof(ctx));
	}
}

static void test_sets_evp(void **state)
{
	(void)state;
	assert_int_equal(milenage_backend_select(MILENAGE_BACKEND_EVP), 0);
	assert_string_equal(milenage_backend_name(), "evp");
	check_all_sets();
	milenage_backend_select(MILENAGE_BACKEND_AUTO);
}

static void test_sets_aesni(void **state)
{
	(void)state;
	if (milenage_backend_select(MILENAGE_BACKEND_AESNI) == -ENOTSUP) {
		print_message("no AES-NI on this CPU\n");
		skip();
	}
	assert_string_equal(milenage_backend_name(), "aesni");
	check_all_sets();
	milenage_backend_select(MILENAGE_BACKEND_AUTO);
}

/* Both backends give the same outputs on inputs beyond the published sets. */
static void test_backends_agree(void **state)
{
	(void)state;
	if (milenage_backend_select(MILENAGE_BACKEND_AESNI) == -ENOTSUP)
		skip();
	uint8_t k[16], opc[16], rand[16], sqn[6], amf[2];
	uint32_t x = 0x12345678;
	for (int iter = 0; iter < 200; iter++) {
		uint8_t *bufs[] = {k, opc, rand, sqn, amf};
		size_t lens[] = {16, 16, 16, 6, 2};
		for (int b = 0; b < 5; b++)
			for (size_t i = 0; i < lens[b]; i++) {
				x ^= x << 13, x ^= x >> 17, x ^= x << 5;
				bufs[b][i] = (uint8_t)x;
			}
		struct milenage_ctx c1, c2;
		struct milenage_out o1, o2;
		assert_int_equal(milenage_backend_select(MILENAGE_BACKEND_AESNI), 0);
		assert_int_equal(milenage_ctx_init(&c1, k, opc), 0);
		assert_int_equal(milenage_backend_select(MILENAGE_BACKEND_EVP), 0);
		assert_int_equal(milenage_ctx_init(&c2, k, opc), 0);
		assert_int_equal(milenage_compute(&c1, rand, sqn, amf, &o1), 0);
		assert_int_equal(milenage_compute(&c2, rand, sqn, amf, &o2), 0);
		assert_memory_equal(&o1, &o2, sizeof(o1));
		milenage_ctx_cleanup(&c1);
		milenage_ctx_cleanup(&c2);
	}
	milenage_backend_select(MILENAGE_BACKEND_AUTO);
}

static void test_backend_select_rejects_unknown(void **state)
{
	(void)state;
	assert_int_equal(milenage_backend_select((enum milenage_backend)42), -EINVAL);
	milenage_ctx_cleanup(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sets_evp),
	    cmocka_unit_test(test_sets_aesni),
	    cmocka_unit_test(test_backends_agree),
	    cmocka_unit_test(test_backend_select_rejects_unknown),
	};
	return cmocka_run_group_tests_name("milenage", tests, load_sets, NULL);
}
