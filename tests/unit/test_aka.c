/*
 * AKA on MILENAGE: GSM conversion (c2/c3) against the TS 55.205 sets, AUTN of
 * TS 35.208 set 1, SQN arithmetic with IND (TS 33.102 Annex C, as osmo-hlr),
 * resynchronisation from AUTS, and the 48-bit wrap.
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

#include "crypto/aka.h"
#include "crypto/milenage.h"

static void unhex(const char *s, uint8_t *out, size_t n)
{
	assert_int_equal(strlen(s), 2 * n);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

/* TS 35.208 set 1. */
static const char SET1_K[] = "465b5ce8b199b49faa5f0a2ee238a6bc";
static const char SET1_OPC[] = "cd63cb71954a9f4e48a5994e37a02baf";
static const char SET1_RAND[] = "23553cbe9637a89d218ae64dae47bf35";
static const uint64_t SET1_SQN = UINT64_C(0xff9bb4d0b607);

static void set1_keys(struct aka_keys *keys, uint8_t rand[16])
{
	unhex(SET1_K, keys->k, 16);
	unhex(SET1_OPC, keys->opc, 16);
	unhex("b9b9", keys->amf, 2);
	unhex(SET1_RAND, rand, 16);
}

static void test_c2_c3_ts55205(void **state)
{
	(void)state;
	const char *dir = getenv("KORYO_TESTDATA");
	char path[4096], line[1024];
	int rows = 0;
	FILE *f;

	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/milenage/ts55205_sets1-6.tsv", dir);
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s", path);
	assert_non_null(fgets(line, sizeof(line), f)); /* header */
	while (fgets(line, sizeof(line), f)) {
		char *col[12], *save = NULL;
		int n = 0;
		line[strcspn(line, "\r\n")] = '\0';
		if (!*line)
			continue;
		for (char *t = strtok_r(line, "\t", &save); t && n < 12;
		     t = strtok_r(NULL, "\t", &save))
			col[n++] = t;
		assert_int_equal(n, 12);

		struct aka_keys keys;
		struct aka_vector v;
		uint8_t rand[16], op[16], opc[16], res[8], ck[16], ik[16], sres1[4], kc[8];
		uint8_t sres[4], kc_out[8];
		unhex(col[1], keys.k, 16);
		unhex(col[2], rand, 16);
		unhex(col[3], op, 16);
		unhex(col[4], opc, 16);
		unhex(col[5], res, 8);
		unhex(col[6], ck, 16);
		unhex(col[7], ik, 16);
		unhex(col[8], sres1, 4);
		unhex(col[10], kc, 8);
		print_message("ts55205 set %s\n", col[0]);

		gsm_c2(res, sres);
		assert_memory_equal(sres, sres1, 4);
		gsm_c3(ck, ik, kc_out);
		assert_memory_equal(kc_out, kc, 8);

		/* The whole chain from K/OP gives the same triplet. */
		assert_int_equal(milenage_opc_gen(keys.k, op, keys.opc), 0);
		assert_memory_equal(keys.opc, opc, 16);
		memset(keys.amf, 0, 2);
		assert_int_equal(aka_vector_gen(&keys, 1, rand, &v), 0);
		assert_memory_equal(v.res, res, 8);
		assert_memory_equal(v.ck, ck, 16);
		assert_memory_equal(v.ik, ik, 16);
		assert_memory_equal(v.sres, sres1, 4);
		assert_memory_equal(v.kc, kc, 8);
		rows++;
	}
	fclose(f);
	assert_int_equal(rows, 6);
}

static void test_autn_set1(void **state)
{
	(void)state;
	struct aka_keys keys;
	struct aka_vector v;
	uint8_t rand[16], autn[16], res[8], ck[16], ik[16];

	set1_keys(&keys, rand);
	unhex("55f328b43577b9b94a9ffac354dfafb3", autn, 16);
	unhex("a54211d5e3ba50bf", res, 8);
	unhex("b40ba9a3c58b2a05bbf0d987b21bf8cb", ck, 16);
	unhex("f769bcd751044604127672711c6d3441", ik, 16);

	assert_int_equal(aka_vector_gen(&keys, SET1_SQN, rand, &v), 0);
	assert_memory_equal(v.autn, autn, 16);
	assert_memory_equal(v.rand, rand, 16);
	assert_memory_equal(v.res, res, 8);
	assert_memory_equal(v.ck, ck, 16);
	assert_memory_equal(v.ik, ik, 16);
	assert_true(v.sqn == SET1_SQN);

	/* RAND may be the output's own field. */
	struct aka_vector v2;
	memset(&v2, 0, sizeof(v2)); /* padding, for the memcmp below */
	memset(&v, 0, sizeof(v));
	assert_int_equal(aka_vector_gen(&keys, SET1_SQN, rand, &v), 0);
	memcpy(v2.rand, rand, 16);
	assert_int_equal(aka_vector_gen(&keys, SET1_SQN, v2.rand, &v2), 0);
	assert_memory_equal(&v2, &v, sizeof(v));

	/* osmo-auc-gen -s 0 (measured): AUTN = AK || AMF || MAC-A with SQN 0. */
	unhex("aa689c648370b9b9cf0a0ab33e78137c", autn, 16);
	assert_int_equal(aka_vector_gen(&keys, 0, rand, &v), 0);
	assert_memory_equal(v.autn, autn, 16);
	/* ... and with SQN 2^48-1 (osmo-auc-gen -s 281474976710655). */
	unhex("5597639b7c8fb9b9c18606e57f0a73f3", autn, 16);
	assert_int_equal(aka_vector_gen(&keys, AKA_SQN_MAX, rand, &v), 0);
	assert_memory_equal(v.autn, autn, 16);

	/* SQN beyond 48 bits is refused, not truncated. */
	assert_int_equal(aka_vector_gen(&keys, AKA_SQN_MAX + 1, rand, &v), -EINVAL);
}

static void test_sqn_next(void **state)
{
	(void)state;
	/* GSUP_NOTES 5.3, observed on osmo-hlr: SQN_MS ff9bb4d135e1, IND 1. */
	assert_true(aka_sqn_next(UINT64_C(0xff9bb4d135e1), 5, 1) == UINT64_C(0xff9bb4d13601));
	assert_true(aka_sqn_next(UINT64_C(0xff9bb4d135e1), 5, 0) == UINT64_C(0xff9bb4d13600));
	/* SEQ advances by one, IND replaced; a fresh subscriber starts at 32 + IND. */
	assert_true(aka_sqn_next(0, 5, 0) == 32);
	assert_true(aka_sqn_next(0, 5, 7) == 39);
	assert_true(aka_sqn_next(39, 5, 2) == 66);
	assert_true(aka_sqn_next(63, 5, 31) == 95);
	/* No IND bits: plain increment. */
	assert_true(aka_sqn_next(41, 0, 0) == 42);
	/* osmo-auc-gen -A with -l 3 -i 7 from SQN_MS ...457 (measured). */
	assert_true(aka_sqn_next(UINT64_C(281044218623457), 3, 7) == UINT64_C(281044218623471));
	/* IND out of range is reduced into its slot, never spills into SEQ. */
	assert_true(aka_sqn_next(0, 5, 33) == 33);
	/* Oversized bit lengths are clamped to AKA_IND_BITLEN_MAX. */
	assert_true(aka_sqn_next(0, 60, 0) == (UINT64_C(1) << AKA_IND_BITLEN_MAX));
}

static void test_sqn_wrap_48bit(void **state)
{
	(void)state;
	/* SEQ wraps modulo 2^48 (TS 33.102 C.3.2 leaves wrap to the operator). */
	assert_true(aka_sqn_next(AKA_SQN_MAX, 5, 0) == 0);
	assert_true(aka_sqn_next(AKA_SQN_MAX, 5, 3) == 3);
	assert_true(aka_sqn_next(AKA_SQN_MAX - 32, 5, 4) == AKA_SQN_MAX - 31 + 4);
	assert_true(aka_sqn_next(AKA_SQN_MAX, 0, 0) == 0);
	/* Bits above 48 in the input never reach the output. */
	assert_true(aka_sqn_next(UINT64_MAX, 5, 1) == 1);
	assert_true(aka_sqn_next(UINT64_C(1) << 50, 5, 1) == 33);
}

static void test_resync_round_trip(void **state)
{
	(void)state;
	struct aka_keys keys;
	uint8_t rand[16], auts[14];
	uint64_t sqn_ms = 0;
	static const uint64_t cases[] = {
	    UINT64_C(0xff9bb4d135e1), 0, 1, 31, 32, AKA_SQN_MAX, UINT64_C(0x123456789abc),
	};

	set1_keys(&keys, rand);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(aka_auts_gen(&keys, rand, cases[i], auts), 0);
		sqn_ms = ~UINT64_C(0);
		assert_int_equal(aka_resync(&keys, rand, auts, &sqn_ms), 0);
		assert_true(sqn_ms == cases[i]);
	}
	assert_int_equal(aka_auts_gen(&keys, rand, AKA_SQN_MAX + 1, auts), -EINVAL);

	/* The USIM uses AMF 0x0000 for MAC-S whatever the subscriber's AMF is. */
	struct aka_keys other_amf = keys;
	other_amf.amf[0] = 0x80;
	assert_int_equal(aka_auts_gen(&other_amf, rand, 12345, auts), 0);
	assert_int_equal(aka_resync(&keys, rand, auts, &sqn_ms), 0);
	assert_true(sqn_ms == 12345);

	/* AUTS verified by osmo-auc-gen 1.7: SQN_MS ff9bb4d135e1 over set 1. */
	uint8_t known[14];
	unhex("ba853f3d91da4c64d626f3877753", known, 14);
	assert_int_equal(aka_auts_gen(&keys, rand, UINT64_C(0xff9bb4d135e1), auts), 0);
	assert_memory_equal(auts, known, 14);
}

static void test_resync_rejects_tampering(void **state)
{
	(void)state;
	struct aka_keys keys;
	uint8_t rand[16], auts[14], bad[14];
	uint64_t sqn_ms = 777;

	set1_keys(&keys, rand);
	assert_int_equal(aka_auts_gen(&keys, rand, UINT64_C(0xff9bb4d135e1), auts), 0);
	/* Every single-bit flip, in the concealed SQN or in MAC-S, is caught. */
	for (int bit = 0; bit < 14 * 8; bit++) {
		memcpy(bad, auts, 14);
		bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(aka_resync(&keys, rand, bad, &sqn_ms), -EBADMSG);
		assert_true(sqn_ms == 777); /* untouched on failure */
	}
	/* Another RAND or another K also fails. */
	uint8_t rand2[16];
	memcpy(rand2, rand, 16);
	rand2[0] ^= 1;
	assert_int_equal(aka_resync(&keys, rand2, auts, &sqn_ms), -EBADMSG);
	keys.k[15] ^= 0x80;
	assert_int_equal(aka_resync(&keys, rand, auts, &sqn_ms), -EBADMSG);
}

static void test_crypto_random(void **state)
{
	(void)state;
	uint8_t a[32], b[32];

	assert_int_equal(crypto_random(a, sizeof(a)), 0);
	assert_int_equal(crypto_random(b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(crypto_random(a, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_c2_c3_ts55205),
	    cmocka_unit_test(test_autn_set1),
	    cmocka_unit_test(test_sqn_next),
	    cmocka_unit_test(test_sqn_wrap_48bit),
	    cmocka_unit_test(test_resync_round_trip),
	    cmocka_unit_test(test_resync_rejects_tampering),
	    cmocka_unit_test(test_crypto_random),
	};
	return cmocka_run_group_tests_name("aka", tests, NULL, NULL);
}
