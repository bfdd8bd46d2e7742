/*
 * The authentication centre on a registry subscriber (TS 35.208 set 1 keys):
 * vectors that a USIM with the same keys would accept, SQN advanced per
 * TS 33.102 Annex C and durable across a restart, resynchronisation from AUTS,
 * refusals that change nothing, OP and OPc giving the same vectors, and
 * concurrent requests never handing out the same SQN twice.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/hex.h"
#include "crypto/aka.h"
#include "crypto/milenage.h"
#include "hlr/auc.h"
#include "hlr/profile.h"
#include "hlr/registry.h"
#include "hlr/subscr_input.h"
#include "registry_fixture.h"
#include "store/store.h"

/* TS 35.208 test set 1. */
#define SET1_K   "465b5ce8b199b49faa5f0a2ee238a6bc"
#define SET1_OP  "cdc202d5123e20f62b6d676ac72cb318"
#define SET1_OPC "cd63cb71954a9f4e48a5994e37a02baf"
#define SET1_AMF "b9b9"

#define IMSI_OPC "467050000000001"
#define IMSI_OP  "467050000000002"

struct fixture {
	struct registry_fixture rf;
	struct aka_keys keys; /* set 1, as the USIM holds them */
};

static void create(struct fixture *fx, const struct hlr_subscr_fields *f)
{
	struct hlr_subscr_new in;
	struct hlr_field_error err;
	if (hlr_subscr_input_parse(&fx->rf.profile, f, 5, &in, &err) != 0 ||
	    hlr_subscr_create(fx->rf.reg, &in, NULL, &err) != 0)
		fail_msg("create %s: %s: %s", f->imsi, err.field, err.msg);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	uint8_t master_key[32];
	for (int i = 0; i < 32; i++)
		master_key[i] = (uint8_t)(0x11 * i);
	assert_int_equal(hex_decode(SET1_K, fx->keys.k, 16), 0);
	assert_int_equal(hex_decode(SET1_OPC, fx->keys.opc, 16), 0);
	assert_int_equal(hex_decode(SET1_AMF, fx->keys.amf, 2), 0);
	registry_fixture_setup(&fx->rf, "auc", master_key);
	/* Two subscribers with the set 1 keys: one given OPc, the other OP. */
	struct hlr_subscr_fields f = {.imsi = IMSI_OPC,
	                              .class_name = "citizen",
	                              .status = "active",
	                              .k = SET1_K,
	                              .opc = SET1_OPC,
	                              .amf = SET1_AMF};
	create(fx, &f);
	f.imsi = IMSI_OP;
	f.opc = NULL;
	f.op = SET1_OP;
	create(fx, &f);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	registry_fixture_teardown(&fx->rf);
	free(fx);
	return 0;
}

static uint64_t imsi_of(const char *s)
{
	uint64_t v;
	assert_int_equal(hlr_imsi_parse(s, &v), 0);
	return v;
}

/* The SQN the registry holds in memory, and the one in the store's row. */
static uint64_t sqn_mem(struct fixture *fx, const char *imsi)
{
	struct hlr_subscr r;
	assert_int_equal(hlr_subscr_get_by_imsi(fx->rf.reg, imsi_of(imsi), &r), 0);
	return r.sqn;
}

static uint64_t sqn_stored(struct fixture *fx, const char *imsi)
{
	struct store_stmt *s;
	store_lock(fx->rf.st);
	assert_int_equal(store_prepare(fx->rf.st, "SELECT sqn FROM subscriber WHERE imsi = $1", &s),
	                 0);
	assert_int_equal(store_bind_text(s, 1, imsi), 0);
	assert_int_equal(store_step(s), STORE_ROW);
	uint64_t v = (uint64_t)store_col_int64(s, 0);
	store_reset(s);
	store_unlock(fx->rf.st);
	return v;
}

/* Asserts that v is what a USIM with keys computes for v->rand at SQN sqn. */
static void assert_vector(const struct aka_keys *keys, const struct aka_vector *v, uint64_t sqn)
{
	struct aka_vector want;
	assert_int_equal(v->sqn, sqn);
	assert_int_equal(aka_vector_gen(keys, sqn, v->rand, &want), 0);
	assert_memory_equal(v->res, want.res, sizeof(want.res));
	assert_memory_equal(v->ck, want.ck, sizeof(want.ck));
	assert_memory_equal(v->ik, want.ik, sizeof(want.ik));
	assert_memory_equal(v->autn, want.autn, sizeof(want.autn));
	assert_memory_equal(v->sres, want.sres, sizeof(want.sres));
	assert_memory_equal(v->kc, want.kc, sizeof(want.kc));
	/* The AUTN carries the subscriber's AMF in clear. */
	assert_memory_equal(v->autn + 6, keys->amf, 2);
}

static void test_vectors_and_sqn(void **state)
{
	struct fixture *fx = *state;
	struct aka_vector v[HLR_AUC_MAX_VECTORS];
	uint64_t imsi = imsi_of(IMSI_OPC);

	assert_int_equal(sqn_mem(fx, IMSI_OPC), 0);
	assert_int_equal(hlr_auc_gen_vectors(fx->rf.reg, imsi, 3, 1, NULL, NULL, v), 3);
	/* IND 1 in a 5-bit IND field from SQN 0: SEQ 1, 2, 3 -> 33, 65, 97. */
	assert_int_equal(aka_sqn_next(0, 5, 1), 33);
	assert_vector(&fx->keys, &v[0], 33);
	assert_vector(&fx->keys, &v[1], 65);
	assert_vector(&fx->keys, &v[2], 97);
	assert_memory_not_equal(v[0].rand, v[1].rand, 16);
	assert_memory_not_equal(v[1].rand, v[2].rand, 16);
	/* Durable before it returned. */
	assert_int_equal(sqn_mem(fx, IMSI_OPC), 97);
	assert_int_equal(sqn_stored(fx, IMSI_OPC), 97);

	/* Another IND slot: the SEQ still goes up, the IND is replaced. */
	assert_int_equal(hlr_auc_gen_vectors(fx->rf.reg, imsi, 1, 7, NULL, NULL, v), 1);
	assert_vector(&fx->keys, &v[0], aka_sqn_next(97, 5, 7));
	assert_int_equal(v[0].sqn, 128 + 7);
	/* IND is taken modulo 2^ind_bitlen. */
	assert_int_equal(hlr_auc_gen_vectors(fx->rf.reg, imsi, 1, 32 + 7, NULL, NULL, v), 1);
	assert_vector(&fx->keys, &v[0], 160 + 7);
	uint64_t last = v[0].sqn;

	/* The maximum batch. */
	assert_int_equal(
	    hlr_auc_gen_vectors(fx->rf.reg, imsi, HLR_AUC_MAX_VECTORS, 0, NULL, NULL, v),
	    HLR_AUC_MAX_VECTORS);
	for (int i = 0; i < HLR_AUC_MAX_VECTORS; i++) {
		last = aka_sqn_next(last, 5, 0);
		assert_vector(&fx->keys, &v[i], last);
	}
	assert_int_equal(sqn_stored(fx, IMSI_OPC), last);

	/* The other subscriber's SQN did not move. */
	assert_int_equal(sqn_mem(fx, IMSI_OP), 0);
	assert_int_equal(sqn_stored(fx, IMSI_OP), 0);
}

static void test_sqn_survives_restart(void **state)
{
	struct fixture *fx = *state;
	struct aka_vector v[HLR_AUC_MAX_VECTORS];
	assert_int_equal(hlr_auc_gen_vectors(fx->rf.reg, imsi_of(IMSI_OPC), 2, 1, NULL, NULL, v),
	                 2);
	uint64_t last = v[1].sqn;
	assert_int_equal(last, 65);

	registry_fixture_reopen(&fx->rf);
	assert_int_equal(sqn_mem(fx, IMSI_OPC), last);
	assert_int_equal(hlr_auc_gen_vectors(fx->rf.reg, imsi_of(IMSI_OPC), 1, 1, NULL, NULL, v),
	                 1);
	assert_vector(&fx->keys, &v[0], aka_sqn_next(last, 5, 1));
	assert_int_equal(v[0].sqn, 97);
}

static void test_resync(void **state)
{
	struct fixture *fx = *state;
	struct aka_vector v[HLR_AUC_MAX_VECTORS];
	uint64_t imsi = imsi_of(IMSI_OPC);
	assert_int_equal(hlr_auc_gen_vectors(fx->rf.reg, imsi, 1, 1, NULL, NULL, v), 1);

	/* The USIM rejects the challenge: it has seen SQN 0x12345 + IND 3 already. */
	uint64_t sqn_ms = (UINT64_C(0x12345) << 5) | 3;
	uint8_t auts[AKA_AUTS_LEN];
	assert_int_equal(aka_auts_gen(&fx->keys, v[0].rand, sqn_ms, auts), 0);
	assert_int_equal(hlr_auc_gen_vectors(fx->rf.reg, imsi, 2, 1, auts, v[0].rand, v), 2);
	uint64_t first = aka_sqn_next(sqn_ms, 5, 1);
	assert_vector(&fx->keys, &v[0], first);
	assert_vector(&fx->keys, &v[1], aka_sqn_next(first, 5, 1));
	assert_int_equal(sqn_mem(fx, IMSI_OPC), v[1].sqn);
	assert_int_equal(sqn_stored(fx, IMSI_OPC), v[1].sqn);

	/* The USIM accepts the new vectors: resynchronising again from their SQN
	 * continues past it. */
	assert_int_equal(aka_auts_gen(&fx->keys, v[1].rand, v[1].sqn, auts), 0);
	uint64_t prev = v[1].sqn;
	assert_int_equal(hlr_auc_gen_vectors(fx->rf.reg, imsi, 1, 2, auts, v[1].rand, v), 1);
	assert_vector(&fx->keys, &v[0], aka_sqn_next(prev, 5, 2));
}

static void test_resync_corrupt_auts(void **state)
{
	struct fixture *fx = *state;
	struct aka_vector v[HLR_AUC_MAX_VECTORS];
	uint64_t imsi = imsi_of(IMSI_OPC);
	assert_int_equal(hlr_auc_gen_vectors(fx->rf.reg, imsi, 2, 1, NULL, NULL, v), 2);
	uint64_t before = sqn_mem(fx, IMSI_OPC);
	assert_int_equal(before, 65);

	uint8_t rand[16], auts[AKA_AUTS_LEN];
	memcpy(rand, v[1].rand, 16);
	assert_int_equal(aka_auts_gen(&fx->keys, rand, 1000 << 5, auts), 0);
	/* A flipped bit in MAC-S, in the concealed SQN, or the wrong RAND. */
	for (int which = 0; which < 3; which++) {
		uint8_t bad[AKA_AUTS_LEN], bad_rand[16];
		memcpy(bad, auts, sizeof(bad));
		memcpy(bad_rand, rand, sizeof(bad_rand));
		if (which == 0)
			bad[AKA_AUTS_LEN - 1] ^= 0x01;
		else if (which == 1)
			bad[2] ^= 0x80;
		else
			bad_rand[0] ^= 0x01;
		assert_int_equal(hlr_auc_gen_vectors(fx->rf.reg, imsi, 1, 1, bad, bad_rand, v),
		                 -EACCES);
		assert_int_equal(sqn_mem(fx, IMSI_OPC), before);
		assert_int_equal(sqn_stored(fx, IMSI_OPC), before);
	}
	/* AUTS made with another subscriber's K. */
	struct aka_keys other = fx->keys;
	other.k[0] ^= 0xff;
	assert_int_equal(aka_auts_gen(&other, rand, 1000 << 5, auts), 0);
	assert_int_equal(hlr_auc_gen_vectors(fx->rf.reg, imsi, 1, 1, auts, rand, v), -EACCES);
	assert_int_equal(sqn_stored(fx, IMSI_OPC), before);

	/* The good AUTS still works afterwards. */
	assert_int_equal(aka_auts_gen(&fx->keys, rand, 1000 << 5, auts), 0);
	assert_int_equal(hlr_auc_gen_vectors(fx->rf.reg, imsi, 1, 1, auts, rand, v), 1);
	assert_vector(&fx->keys, &v[0], aka_sqn_next(1000 << 5, 5, 1));
}

static void test_refusals(void **state)
{
	struct fixture *fx = *state;
	struct aka_vector v[HLR_AUC_MAX_VECTORS + 1];
	uint64_t imsi = imsi_of(IMSI_OPC);
	assert_int_equal(
	    hlr_auc_gen_vectors(fx->rf.reg, imsi_of("467050000000009"), 1, 0, NULL, NULL, v),
	    -ENOENT);
	assert_int_equal(hlr_auc_gen_vectors(fx->rf.reg, imsi, 0, 0, NULL, NULL, v), -EINVAL);
	assert_int_equal(
	    hlr_auc_gen_vectors(fx->rf.reg, imsi, HLR_AUC_MAX_VECTORS + 1, 0, NULL, NULL, v),
	    -EINVAL);
	assert_int_equal(sqn_mem(fx, IMSI_OPC), 0);
	assert_int_equal(sqn_stored(fx, IMSI_OPC), 0);

	/* After a delete, the subscriber is unknown to the AuC too. */
	assert_int_equal(hlr_subscr_delete(fx->rf.reg, imsi_of(IMSI_OP)), 0);
	assert_int_equal(hlr_auc_gen_vectors(fx->rf.reg, imsi_of(IMSI_OP), 1, 0, NULL, NULL, v),
	                 -ENOENT);
}

static void test_wrong_master_key(void **state)
{
	struct fixture *fx = *state;
	struct aka_vector v[HLR_AUC_MAX_VECTORS];
	uint8_t other[32];
	memcpy(other, fx->rf.master_key, 32);
	other[0] ^= 0x80;
	registry_fixture_reopen_registry(&fx->rf, other);
	assert_int_equal(hlr_auc_gen_vectors(fx->rf.reg, imsi_of(IMSI_OPC), 1, 0, NULL, NULL, v),
	                 -EBADMSG);
	assert_int_equal(sqn_mem(fx, IMSI_OPC), 0);
	assert_int_equal(sqn_stored(fx, IMSI_OPC), 0);
}

static void test_op_equals_opc(void **state)
{
	struct fixture *fx = *state;
	struct aka_vector v[HLR_AUC_MAX_VECTORS], w[HLR_AUC_MAX_VECTORS];
	uint8_t k[16], op[16], opc[16];
	assert_int_equal(hex_decode(SET1_K, k, 16), 0);
	assert_int_equal(hex_decode(SET1_OP, op, 16), 0);
	assert_int_equal(milenage_opc_gen(k, op, opc), 0);
	assert_memory_equal(opc, fx->keys.opc, 16); /* TS 35.208 set 1: OP gives this OPc */

	/* The OP subscriber's vectors check out against OPc... */
	assert_int_equal(hlr_auc_gen_vectors(fx->rf.reg, imsi_of(IMSI_OP), 3, 1, NULL, NULL, v), 3);
	assert_int_equal(hlr_auc_gen_vectors(fx->rf.reg, imsi_of(IMSI_OPC), 3, 1, NULL, NULL, w),
	                 3);
	for (int i = 0; i < 3; i++) {
		assert_vector(&fx->keys, &v[i], aka_sqn_next(32 * (uint64_t)i, 5, 1));
		assert_vector(&fx->keys, &w[i], v[i].sqn);
	}
	/* ...and a resync from the OP subscriber's USIM verifies. */
	uint8_t auts[AKA_AUTS_LEN];
	assert_int_equal(aka_auts_gen(&fx->keys, v[2].rand, 5000, auts), 0);
	assert_int_equal(
	    hlr_auc_gen_vectors(fx->rf.reg, imsi_of(IMSI_OP), 1, 1, auts, v[2].rand, v), 1);
	assert_vector(&fx->keys, &v[0], aka_sqn_next(5000, 5, 1));
}

static void test_ind_bitlen_per_subscriber(void **state)
{
	struct fixture *fx = *state;
	struct aka_vector v[HLR_AUC_MAX_VECTORS];
	create(fx, &(struct hlr_subscr_fields){.imsi = "467050000000003",
	                                       .class_name = "citizen",
	                                       .k = SET1_K,
	                                       .opc = SET1_OPC,
	                                       .amf = "8000",
	                                       .sqn = "1000",
	                                       .ind_bitlen = "0"});
	struct aka_keys keys = fx->keys;
	keys.amf[0] = 0x80;
	keys.amf[1] = 0x00;
	/* No IND bits: the SQN simply counts up from the imported last SQN. */
	assert_int_equal(
	    hlr_auc_gen_vectors(fx->rf.reg, imsi_of("467050000000003"), 3, 9, NULL, NULL, v), 3);
	assert_vector(&keys, &v[0], 1001);
	assert_vector(&keys, &v[1], 1002);
	assert_vector(&keys, &v[2], 1003);
	assert_int_equal(sqn_stored(fx, "467050000000003"), 1003);
}

/* --- concurrency ------------------------------------------------------------ */

#define THREADS 4
#define CALLS   25

struct worker {
	struct fixture *fx;
	uint64_t imsi;
	unsigned ind;
	uint64_t sqns[CALLS * 2];
	int failures;
};

/* No cmocka assertions in here: they are not thread-safe. */
static void *worker_run(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < CALLS; i++) {
		struct aka_vector v[2];
		if (hlr_auc_gen_vectors(w->fx->rf.reg, w->imsi, 2, w->ind, NULL, NULL, v) != 2) {
			w->failures++;
			continue;
		}
		w->sqns[2 * i] = v[0].sqn;
		w->sqns[2 * i + 1] = v[1].sqn;
	}
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void test_concurrent_requests(void **state)
{
	struct fixture *fx = *state;
	struct worker w[THREADS];
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].fx = fx;
		w[i].imsi = imsi_of(IMSI_OPC);
		w[i].ind = (unsigned)i;
		assert_int_equal(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
	}
	static uint64_t all[THREADS * CALLS * 2];
	size_t n = 0;
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(w[i].failures, 0);
		for (int j = 0; j < CALLS * 2; j++) {
			assert_int_equal(w[i].sqns[j] & 31, (uint64_t)i); /* its IND slot */
			if (j)
				assert_true(w[i].sqns[j] > w[i].sqns[j - 1]);
			all[n++] = w[i].sqns[j];
		}
	}
	/* No SQN handed out twice, and every request advanced the SEQ by one. */
	qsort(all, n, sizeof(all[0]), cmp_u64);
	for (size_t i = 1; i < n; i++)
		assert_true(all[i] > all[i - 1]);
	assert_int_equal(all[n - 1] >> 5, THREADS * CALLS * 2);
	assert_int_equal(sqn_stored(fx, IMSI_OPC), all[n - 1]);
	assert_int_equal(sqn_mem(fx, IMSI_OPC), all[n - 1]);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_vectors_and_sqn),
	    T(test_sqn_survives_restart),
	    T(test_resync),
	    T(test_resync_corrupt_auts),
	    T(test_refusals),
	    T(test_wrong_master_key),
	    T(test_op_equals_opc),
	    T(test_ind_bitlen_per_subscriber),
	    T(test_concurrent_requests),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
