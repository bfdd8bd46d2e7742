/*
 * The subscriber registry as an operator uses it: create and look up by IMSI,
 * MSISDN and ICCID; refusals that name the field; updates, deletes and listing;
 * what survives a restart; keys sealed at rest under the master key; and the
 * all-or-nothing CSV import with its line and column in every error.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/clock.h"
#include "common/hex.h"
#include "hlr/profile.h"
#include "hlr/registry.h"
#include "hlr/subscr.h"
#include "hlr/subscr_input.h"
#include "registry_fixture.h"
#include "store/store.h"

/* Distinctive keys, so that a leak of either is easy to spot. */
#define K1   "465b5ce8b199b49faa5f0a2ee238a6bc"
#define OPC1 "cd63cb71954a9f4e48a5994e37a02baf"
#define OP1  "cdc202d5123e20f62b6d676ac72cb318"

static int setup(void **state)
{
	struct registry_fixture *fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	uint8_t master_key[32];
	for (int i = 0; i < 32; i++)
		master_key[i] = (uint8_t)(0xa0 + i);
	registry_fixture_setup(fx, "registry", master_key);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct registry_fixture *fx = *state;
	clock_set_offset(0);
	registry_fixture_teardown(fx);
	free(fx);
	return 0;
}

/* --- helpers -------------------------------------------------------------- */

static uint64_t imsi_of(const char *s)
{
	uint64_t v;
	assert_int_equal(hlr_imsi_parse(s, &v), 0);
	return v;
}

static uint64_t msisdn_of(const char *s)
{
	uint64_t v;
	assert_int_equal(hlr_msisdn_parse(s, &v), 0);
	return v;
}

static struct hlr_iccid iccid_of(const char *s)
{
	struct hlr_iccid v;
	assert_int_equal(hlr_iccid_parse(s, &v), 0);
	return v;
}

/* Asserts that msisdn finds the subscriber with this IMSI. */
static void assert_msisdn_finds(struct registry_fixture *fx, const char *msisdn, uint64_t imsi)
{
	struct hlr_subscr r;
	int rc = hlr_subscr_get_by_msisdn(fx->reg, msisdn_of(msisdn), &r);
	if (rc != 0 || r.imsi != imsi)
		fail_msg("msisdn %s: rc %d, imsi %" PRIu64 "; want rc 0, imsi %" PRIu64, msisdn, rc,
		         rc == 0 ? r.imsi : 0, imsi);
}

/* Parses and creates; returns the first error, err naming the field. */
static int create(struct registry_fixture *fx, const struct hlr_subscr_fields *f,
                  struct hlr_subscr_info *out, struct hlr_field_error *err)
{
	struct hlr_subscr_new in;
	memset(err, 0, sizeof(*err));
	int rc = hlr_subscr_input_parse(&fx->profile, f, 5, &in, err);
	if (rc != 0)
		return rc;
	return hlr_subscr_create(fx->reg, &in, out, err);
}

/* Creates, failing the test on any error; out may be NULL. */
static void create_ok_info(struct registry_fixture *fx, const struct hlr_subscr_fields *f,
                           struct hlr_subscr_info *out)
{
	struct hlr_field_error err;
	int rc = create(fx, f, out, &err);
	if (rc != 0)
		fail_msg("create %s: %d: %s: %s", f->imsi, rc, err.field, err.msg);
}

static void create_ok(struct registry_fixture *fx, const struct hlr_subscr_fields *f)
{
	create_ok_info(fx, f, NULL);
}

/* A minimal valid subscriber with this IMSI. */
static struct hlr_subscr_fields minimal(const char *imsi)
{
	return (struct hlr_subscr_fields){
	    .imsi = imsi, .class_name = "citizen", .k = K1, .opc = OPC1};
}

/* The same with an MSISDN and an ICCID (either may be NULL). */
static struct hlr_subscr_fields with_numbers(const char *imsi, const char *msisdn,
                                             const char *iccid)
{
	struct hlr_subscr_fields f = minimal(imsi);
	f.msisdn = msisdn;
	f.iccid = iccid;
	return f;
}

static void create_min(struct registry_fixture *fx, const char *imsi)
{
	struct hlr_subscr_fields f = minimal(imsi);
	create_ok(fx, &f);
}

/* Creates a minimal subscriber and returns what the registry answered. */
static struct hlr_subscr_info create_min_info(struct registry_fixture *fx, const char *imsi)
{
	struct hlr_subscr_fields f = minimal(imsi);
	struct hlr_subscr_info info;
	create_ok_info(fx, &f, &info);
	return info;
}

static void create_numbered(struct registry_fixture *fx, const char *imsi, const char *msisdn,
                            const char *iccid)
{
	struct hlr_subscr_fields f = with_numbers(imsi, msisdn, iccid);
	create_ok(fx, &f);
}

static int class_id(struct registry_fixture *fx, const char *name)
{
	int id = hlr_profile_class_find(&fx->profile, name);
	assert_true(id >= 0);
	return id;
}

static unsigned city_id(struct registry_fixture *fx, const char *name)
{
	unsigned id = hlr_profile_city_find(&fx->profile, name);
	assert_true(id > 0);
	return id;
}

static int64_t store_count(struct registry_fixture *fx, const char *where)
{
	char sql[256];
	struct store_stmt *s;
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM subscriber%s%s", where ? " WHERE " : "",
	         where ? where : "");
	store_lock(fx->st);
	assert_int_equal(store_prepare(fx->st, sql, &s), 0);
	assert_int_equal(store_step(s), STORE_ROW);
	int64_t n = store_col_int64(s, 0);
	store_reset(s);
	store_unlock(fx->st);
	return n;
}

static void assert_same_rec(const struct hlr_subscr *a, const struct hlr_subscr *b)
{
	assert_int_equal(a->id, b->id);
	assert_int_equal(a->imsi, b->imsi);
	assert_int_equal(a->msisdn, b->msisdn);
	assert_true(hlr_iccid_eq(&a->iccid, &b->iccid));
	assert_int_equal(a->sqn, b->sqn);
	assert_memory_equal(a->amf, b->amf, 2);
	assert_int_equal(a->class_id, b->class_id);
	assert_int_equal(a->status, b->status);
	assert_int_equal(a->ind_bitlen, b->ind_bitlen);
	assert_int_equal(a->op_is_opc, b->op_is_opc);
	assert_int_equal(a->city_id, b->city_id);
}

/* --- create and look up ------------------------------------------------------ */

static void test_create_and_lookup(void **state)
{
	struct registry_fixture *fx = *state;
	struct hlr_subscr_fields f = {
	    .imsi = "467050000000001",
	    .msisdn = "+8501912000001",
	    .iccid = "8985005000000000011",
	    .class_name = "official",
	    .status = "active",
	    .name = "Kim, Chol",
	    .id_document = "P1234567",
	    .nationality = "PRK",
	    .city = "Hamhung",
	    .k = K1,
	    .opc = OPC1,
	    .amf = "b9b9",
	    .sqn = "1000",
	    .ind_bitlen = "4",
	};
	struct hlr_subscr_info info;
	struct hlr_field_error err;
	int64_t t0 = clock_now();
	assert_int_equal(hlr_registry_count(fx->reg), 0);
	assert_int_equal(create(fx, &f, &info, &err), 0);
	assert_int_equal(hlr_registry_count(fx->reg), 1);

	assert_int_equal(info.rec.imsi, UINT64_C(467050000000001));
	assert_int_equal(info.rec.msisdn, UINT64_C(8501912000001));
	assert_int_equal(info.rec.class_id, class_id(fx, "official"));
	assert_int_equal(info.rec.status, HLR_STATUS_ACTIVE);
	assert_int_equal(info.rec.city_id, city_id(fx, "Hamhung"));
	assert_int_equal(info.rec.sqn, 1000);
	assert_int_equal(info.rec.ind_bitlen, 4);
	assert_true(info.rec.op_is_opc);
	assert_string_equal(info.holder.name, "Kim, Chol");
	assert_true(info.created_at >= t0);
	assert_int_equal(info.activated_at, info.created_at);
	/* No secret in what the operator sees. */
	uint8_t zero[HLR_KEYS_SEALED_LEN] = {0};
	assert_memory_equal(info.rec.keys_sealed, zero, sizeof(zero));

	struct hlr_subscr a, b, c;
	assert_int_equal(hlr_subscr_get_by_imsi(fx->reg, imsi_of("467050000000001"), &a), 0);
	assert_int_equal(hlr_subscr_get_by_msisdn(fx->reg, msisdn_of("8501912000001"), &b), 0);
	struct hlr_iccid iccid = iccid_of("8985005000000000011");
	assert_int_equal(hlr_subscr_get_by_iccid(fx->reg, &iccid, &c), 0);
	assert_same_rec(&a, &b);
	assert_same_rec(&a, &c);
	assert_int_equal(a.id, info.rec.id);
	assert_int_equal(a.status, HLR_STATUS_ACTIVE);
	assert_int_equal(a.sqn, 1000);
	uint8_t amf[2] = {0xb9, 0xb9};
	assert_memory_equal(a.amf, amf, 2);
	char iccid_s[24];
	hlr_iccid_format(&a.iccid, iccid_s);
	assert_string_equal(iccid_s, "8985005000000000011");

	/* The keys open to what was given. */
	uint8_t k[16], op[16], want_k[16], want_op[16];
	assert_int_equal(hex_decode(K1, want_k, 16), 0);
	assert_int_equal(hex_decode(OPC1, want_op, 16), 0);
	assert_int_equal(hlr_subscr_keys_open(fx->reg, &a, k, op), 0);
	assert_memory_equal(k, want_k, 16);
	assert_memory_equal(op, want_op, 16);

	/* The full record comes from the store. */
	struct hlr_subscr_info full;
	assert_int_equal(hlr_subscr_info_get(fx->reg, a.imsi, &full), 0);
	assert_same_rec(&full.rec, &a);
	assert_string_equal(full.holder.name, "Kim, Chol");
	assert_string_equal(full.holder.id_document, "P1234567");
	assert_string_equal(full.holder.nationality, "PRK");
	assert_int_equal(full.created_at, info.created_at);
	assert_int_equal(full.activated_at, info.activated_at);

	/* Unknown identities are -ENOENT. */
	assert_int_equal(hlr_subscr_get_by_imsi(fx->reg, imsi_of("467050000000002"), &a), -ENOENT);
	assert_int_equal(hlr_subscr_get_by_msisdn(fx->reg, msisdn_of("8501912000002"), &a),
	                 -ENOENT);
	iccid = iccid_of("8985005000000000012");
	assert_int_equal(hlr_subscr_get_by_iccid(fx->reg, &iccid, &a), -ENOENT);
	assert_int_equal(hlr_subscr_info_get(fx->reg, imsi_of("467050000000002"), &full), -ENOENT);

	/* Defaults: pending, no MSISDN, AMF 0000, SQN 0, the default IND bit length. */
	info = create_min_info(fx, "46705000000003");
	assert_int_equal(info.rec.status, HLR_STATUS_PENDING);
	assert_int_equal(info.activated_at, 0);
	assert_int_equal(info.rec.msisdn, 0);
	assert_int_equal(info.rec.city_id, 0);
	assert_int_equal(info.rec.sqn, 0);
	assert_int_equal(info.rec.ind_bitlen, 5);
	assert_int_equal(info.rec.amf[0] | info.rec.amf[1], 0);
	assert_int_equal(hlr_registry_count(fx->reg), 2);
	assert_int_equal(store_count(fx, NULL), 2);
}

static void test_duplicates(void **state)
{
	struct registry_fixture *fx = *state;
	create_numbered(fx, "467050000000001", "8501912000001", "8985005000000000011");

	static const struct {
		const char *imsi, *msisdn, *iccid, *field;
	} cases[] = {
	    {"467050000000001", NULL, NULL, "imsi"},
	    {"467050000000002", "+8501912000001", NULL, "msisdn"},
	    {"467050000000003", NULL, "8985005000000000011", "iccid"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hlr_field_error err;
		struct hlr_subscr_fields f =
		    with_numbers(cases[i].imsi, cases[i].msisdn, cases[i].iccid);
		assert_int_equal(create(fx, &f, NULL, &err), -EEXIST);
		assert_string_equal(err.field, cases[i].field);
		assert_int_equal(hlr_registry_count(fx->reg), 1);
		assert_int_equal(store_count(fx, NULL), 1);
	}
	struct hlr_subscr r;
	assert_int_equal(hlr_subscr_get_by_imsi(fx->reg, imsi_of("467050000000002"), &r), -ENOENT);
	assert_int_equal(hlr_subscr_get_by_imsi(fx->reg, imsi_of("467050000000003"), &r), -ENOENT);
}

/* Where a member of struct hlr_subscr_fields lies, for tables that change one. */
#define FIELD(m) offsetof(struct hlr_subscr_fields, m)

static const char **field_at(struct hlr_subscr_fields *f, size_t offset)
{
	return (const char **)((char *)f + offset);
}

static void test_validation_names_field(void **state)
{
	struct registry_fixture *fx = *state;
	/* Each case is minimal("467050000000001") with one field set to value (NULL:
	 * left out), and the refusal it must get. */
	static const struct {
		size_t member;
		const char *value;
		const char *field, *msg;
	} cases[] = {
	    {FIELD(imsi), NULL, "imsi", "is required"},
	    {FIELD(imsi), "4670500000001", "imsi", "must be 14 or 15 digits"},
	    {FIELD(imsi), "4670500000000012", "imsi", "must be 14 or 15 digits"},
	    {FIELD(imsi), "46705000000001x", "imsi", "must be 14 or 15 digits"},
	    {FIELD(imsi), "467060000000001", "imsi", "must start with the network's MCC+MNC 46705"},
	    {FIELD(imsi), "310050000000001", "imsi", "must start with the network's MCC+MNC 46705"},
	    {FIELD(k), NULL, "k", "is required"},
	    {FIELD(k), "465b5ce8b199b49faa5f0a2ee238a6bz", "k", "must be 32 hex digits"},
	    {FIELD(k), "465b5ce8b199b49faa5f0a2ee238a6", "k", "must be 32 hex digits"},
	    {FIELD(op), OP1, "opc", "exactly one of op and opc is required"},
	    {FIELD(opc), NULL, "op", "exactly one of op and opc is required"},
	    {FIELD(opc), "cd63", "opc", "must be 32 hex digits"},
	    {FIELD(class_name), "tourist", "class", "must be one of: citizen, foreigner, official"},
	    {FIELD(class_name), NULL, "class", "is required"},
	    {FIELD(city), "Atlantis", "city", "unknown city 'Atlantis'"},
	    {FIELD(nationality), "KP", "nationality",
	     "must be an ISO 3166 alpha-3 code such as PRK"},
	    {FIELD(nationality), "prk", "nationality",
	     "must be an ISO 3166 alpha-3 code such as PRK"},
	    {FIELD(status), "asleep", "status",
	     "must be one of: pending, active, suspended, terminated"},
	    {FIELD(msisdn), "0191", "msisdn",
	     "must be an E.164 number: 5 to 15 digits, optional leading +"},
	    {FIELD(iccid), "89850", "iccid", "must be 18 to 22 digits"},
	    {FIELD(amf), "b9", "amf", "must be 4 hex digits"},
	    {FIELD(sqn), "281474976710656" /* 2^48 */, "sqn",
	     "must be an integer from 0 to 2^48-1"},
	    {FIELD(ind_bitlen), "11", "ind_bitlen", "must be an integer from 0 to 10"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hlr_subscr_fields f = minimal("467050000000001");
		*field_at(&f, cases[i].member) = cases[i].value;
		struct hlr_subscr_new in;
		struct hlr_field_error err;
		memset(&err, 0, sizeof(err));
		int rc = hlr_subscr_input_parse(&fx->profile, &f, 5, &in, &err);
		if (rc != -EINVAL || strcmp(err.field, cases[i].field) != 0 ||
		    strcmp(err.msg, cases[i].msg) != 0)
			fail_msg("case %zu: rc %d, field '%s', msg '%s'; want field '%s', msg '%s'",
			         i, rc, err.field, err.msg, cases[i].field, cases[i].msg);
	}
	assert_int_equal(hlr_registry_count(fx->reg), 0);
	assert_int_equal(store_count(fx, NULL), 0);
}

/* --- update and delete ------------------------------------------------------ */

static void test_update(void **state)
{
	struct registry_fixture *fx = *state;
	create_numbered(fx, "467050000000001", "8501912000001", NULL);
	create_numbered(fx, "467050000000002", "8501912000002", NULL);
	uint64_t imsi = imsi_of("467050000000001");
	struct hlr_subscr_info info;
	struct hlr_field_error err;
	struct hlr_subscr r;

	/* First activation sets activated_at. */
	int64_t t_act = clock_now();
	struct hlr_subscr_change chg = {.set_status = true, .status = HLR_STATUS_ACTIVE};
	assert_int_equal(hlr_subscr_update(fx->reg, imsi, &chg, &info, &err), 0);
	assert_int_equal(info.rec.status, HLR_STATUS_ACTIVE);
	assert_true(info.activated_at >= t_act);
	int64_t activated_at = info.activated_at;
	assert_int_equal(hlr_subscr_get_by_imsi(fx->reg, imsi, &r), 0);
	assert_int_equal(r.status, HLR_STATUS_ACTIVE);

	/* Later: suspend and reactivate; the first activation time stays. */
	clock_set_offset(3600);
	chg = (struct hlr_subscr_change){.set_status = true, .status = HLR_STATUS_SUSPENDED};
	assert_int_equal(hlr_subscr_update(fx->reg, imsi, &chg, &info, &err), 0);
	chg.status = HLR_STATUS_ACTIVE;
	assert_int_equal(hlr_subscr_update(fx->reg, imsi, &chg, &info, &err), 0);
	assert_int_equal(info.activated_at, activated_at);
	assert_int_equal(hlr_subscr_info_get(fx->reg, imsi, &info), 0);
	assert_int_equal(info.activated_at, activated_at);
	assert_int_equal(info.rec.status, HLR_STATUS_ACTIVE);

	/* Class and city. */
	chg = (struct hlr_subscr_change){.set_class = true,
	                                 .class_id = (uint8_t)class_id(fx, "foreigner"),
	                                 .set_city = true,
	                                 .city_id = (uint16_t)city_id(fx, "Kaesong")};
	assert_int_equal(hlr_subscr_update(fx->reg, imsi, &chg, &info, &err), 0);
	assert_int_equal(hlr_subscr_get_by_imsi(fx->reg, imsi, &r), 0);
	assert_int_equal(r.class_id, class_id(fx, "foreigner"));
	assert_int_equal(r.city_id, city_id(fx, "Kaesong"));
	assert_int_equal(r.status, HLR_STATUS_ACTIVE); /* untouched */
	assert_int_equal(store_count(fx, "class = 'foreigner' AND city = 'Kaesong'"), 1);

	/* A new MSISDN: the old one no longer finds the subscriber, the new one does. */
	chg = (struct hlr_subscr_change){.set_msisdn = true, .msisdn = msisdn_of("8501912000099")};
	assert_int_equal(hlr_subscr_update(fx->reg, imsi, &chg, &info, &err), 0);
	assert_int_equal(hlr_subscr_get_by_msisdn(fx->reg, msisdn_of("8501912000001"), &r),
	                 -ENOENT);
	assert_msisdn_finds(fx, "8501912000099", imsi);
	/* The freed number can go to someone else. */
	chg.msisdn = msisdn_of("8501912000001");
	assert_int_equal(hlr_subscr_update(fx->reg, imsi_of("467050000000002"), &chg, &info, &err),
	                 0);
	assert_msisdn_finds(fx, "8501912000001", imsi_of("467050000000002"));

	/* A number in use is refused, naming the field, and nothing changes. */
	memset(&err, 0, sizeof(err));
	assert_int_equal(hlr_subscr_update(fx->reg, imsi, &chg, &info, &err), -EEXIST);
	assert_string_equal(err.field, "msisdn");
	assert_msisdn_finds(fx, "8501912000099", imsi);
	assert_msisdn_finds(fx, "8501912000001", imsi_of("467050000000002"));
	assert_int_equal(store_count(fx, "msisdn = '8501912000099' AND imsi = '467050000000001'"),
	                 1);

	/* Setting the subscriber's own number again is not a clash. */
	chg.msisdn = msisdn_of("8501912000099");
	assert_int_equal(hlr_subscr_update(fx->reg, imsi, &chg, &info, &err), 0);

	/* Clearing the MSISDN. */
	chg.msisdn = 0;
	assert_int_equal(hlr_subscr_update(fx->reg, imsi, &chg, &info, &err), 0);
	assert_int_equal(hlr_subscr_get_by_msisdn(fx->reg, msisdn_of("8501912000099"), &r),
	                 -ENOENT);
	assert_int_equal(store_count(fx, "msisdn IS NULL"), 1);

	/* Holder fields. */
	chg = (struct hlr_subscr_change){.set_name = true, .set_nationality = true};
	snprintf(chg.holder.name, sizeof(chg.holder.name), "Ri Sol");
	snprintf(chg.holder.nationality, sizeof(chg.holder.nationality), "CHN");
	assert_int_equal(hlr_subscr_update(fx->reg, imsi, &chg, &info, &err), 0);
	assert_int_equal(hlr_subscr_info_get(fx->reg, imsi, &info), 0);
	assert_string_equal(info.holder.name, "Ri Sol");
	assert_string_equal(info.holder.nationality, "CHN");

	/* Unknown IMSI. */
	assert_int_equal(hlr_subscr_update(fx->reg, imsi_of("467050000000009"), &chg, &info, &err),
	                 -ENOENT);
}

static void test_delete(void **state)
{
	struct registry_fixture *fx = *state;
	struct hlr_subscr_fields f =
	    with_numbers("467050000000001", "8501912000001", "8985005000000000011");
	create_ok(fx, &f);
	create_numbered(fx, "467050000000002", "8501912000002", NULL);
	uint64_t imsi = imsi_of("467050000000001");
	struct hlr_subscr r;
	struct hlr_iccid iccid = iccid_of("8985005000000000011");

	assert_int_equal(hlr_subscr_delete(fx->reg, imsi), 0);
	assert_int_equal(hlr_registry_count(fx->reg), 1);
	assert_int_equal(store_count(fx, NULL), 1);
	assert_int_equal(hlr_subscr_get_by_imsi(fx->reg, imsi, &r), -ENOENT);
	assert_int_equal(hlr_subscr_get_by_msisdn(fx->reg, msisdn_of("8501912000001"), &r),
	                 -ENOENT);
	assert_int_equal(hlr_subscr_get_by_iccid(fx->reg, &iccid, &r), -ENOENT);
	assert_int_equal(hlr_subscr_delete(fx->reg, imsi), -ENOENT);
	/* The other subscriber is untouched. */
	assert_msisdn_finds(fx, "8501912000002", imsi_of("467050000000002"));

	/* The IMSI, MSISDN and ICCID are free again. */
	create_ok(fx, &f);
	assert_int_equal(hlr_subscr_get_by_imsi(fx->reg, imsi, &r), 0);
	assert_int_equal(hlr_subscr_get_by_msisdn(fx->reg, msisdn_of("8501912000001"), &r), 0);
	assert_int_equal(hlr_subscr_get_by_iccid(fx->reg, &iccid, &r), 0);
	assert_int_equal(hlr_registry_count(fx->reg), 2);

	/* And after a restart the deleted record does not come back. */
	assert_int_equal(hlr_subscr_delete(fx->reg, imsi_of("467050000000002")), 0);
	registry_fixture_reopen(fx);
	assert_int_equal(hlr_registry_count(fx->reg), 1);
	assert_int_equal(hlr_subscr_get_by_imsi(fx->reg, imsi_of("467050000000002"), &r), -ENOENT);
	assert_int_equal(hlr_subscr_get_by_imsi(fx->reg, imsi, &r), 0);
}

/* --- listing ---------------------------------------------------------------- */

struct listing {
	uint64_t imsi[32];
	unsigned n;
};

static void collect(void *ctx, const struct hlr_subscr_info *info)
{
	struct listing *l = ctx;
	assert_true(l->n < 32);
	l->imsi[l->n++] = info->rec.imsi;
}

static struct listing list(struct registry_fixture *fx, int cls, int status, int city,
                           uint64_t after, unsigned limit)
{
	struct listing l = {.n = 0};
	struct hlr_subscr_filter filter = {.class_id = cls, .status = status, .city_id = city};
	int n = hlr_subscr_list(fx->reg, &filter, after, limit, collect, &l);
	assert_int_equal(n, (int)l.n);
	return l;
}

static void test_list(void **state)
{
	struct registry_fixture *fx = *state;
	/* Created out of order; 14-digit IMSIs are smaller numbers than 15-digit ones
	 * even when their text sorts after. */
	static const struct {
		const char *imsi, *cls, *status, *city;
	} subs[] = {
	    {"467059000000000", "citizen", "active", "Pyongyang"},
	    {"46705999999999", "official", "active", "Hamhung"},
	    {"467050000000001", "citizen", "pending", NULL},
	    {"46705000000002", "foreigner", "active", "Pyongyang"},
	    {"467051000000000", "official", "suspended", "Pyongyang"},
	    {"46705100000000", "citizen", "active", "Pyongyang"},
	};
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		create_ok(fx, &(struct hlr_subscr_fields){.imsi = subs[i].imsi,
		                                          .class_name = subs[i].cls,
		                                          .status = subs[i].status,
		                                          .city = subs[i].city,
		                                          .k = K1,
		                                          .opc = OPC1});
	static const char *const order[] = {"46705000000002",  "46705100000000",
	                                    "46705999999999",  "467050000000001",
	                                    "467051000000000", "467059000000000"};

	struct listing l = list(fx, -1, -1, -1, 0, 100);
	assert_int_equal(l.n, 6);
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(l.imsi[i], imsi_of(order[i]));

	/* Paging with `after`: pages of 2 cover everything once, in order. */
	uint64_t after = 0;
	unsigned seen = 0;
	for (int page = 0; page < 10; page++) {
		l = list(fx, -1, -1, -1, after, 2);
		if (l.n == 0)
			break;
		assert_true(l.n <= 2);
		for (unsigned i = 0; i < l.n; i++)
			assert_int_equal(l.imsi[i], imsi_of(order[seen++]));
		after = l.imsi[l.n - 1];
	}
	assert_int_equal(seen, 6);
	/* after a 14-digit IMSI come the larger 14-digit ones, then the 15-digit ones. */
	l = list(fx, -1, -1, -1, imsi_of("46705999999999"), 100);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.imsi[0], imsi_of("467050000000001"));

	/* Filters. */
	l = list(fx, class_id(fx, "citizen"), -1, -1, 0, 100);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.imsi[0], imsi_of("46705100000000"));
	assert_int_equal(l.imsi[1], imsi_of("467050000000001"));
	assert_int_equal(l.imsi[2], imsi_of("467059000000000"));
	l = list(fx, -1, HLR_STATUS_ACTIVE, -1, 0, 100);
	assert_int_equal(l.n, 4);
	l = list(fx, -1, -1, (int)city_id(fx, "Pyongyang"), 0, 100);
	assert_int_equal(l.n, 4);
	l = list(fx, class_id(fx, "official"), HLR_STATUS_ACTIVE, -1, 0, 100);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.imsi[0], imsi_of("46705999999999"));
	l = list(fx, class_id(fx, "citizen"), HLR_STATUS_ACTIVE, (int)city_id(fx, "Pyongyang"),
	         imsi_of("46705100000000"), 100);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.imsi[0], imsi_of("467059000000000"));
	l = list(fx, class_id(fx, "foreigner"), HLR_STATUS_SUSPENDED, -1, 0, 100);
	assert_int_equal(l.n, 0);
	l = list(fx, -1, -1, -1, 0, 0);
	assert_int_equal(l.n, 0);
}

/* --- persistence and secrets ------------------------------------------------ */

static void test_persistence(void **state)
{
	struct registry_fixture *fx = *state;
	static const char *const imsis[] = {"467050000000001", "46705000000002", "467050000000003"};
	create_ok(fx, &(struct hlr_subscr_fields){.imsi = imsis[0],
	                                          .msisdn = "8501912000001",
	                                          .iccid = "8985005000000000011",
	                                          .class_name = "official",
	                                          .status = "active",
	                                          .name = "Kim Chol",
	                                          .id_document = "P1",
	                                          .nationality = "PRK",
	                                          .city = "Pyongyang",
	                                          .k = K1,
	                                          .opc = OPC1,
	                                          .amf = "8000",
	                                          .ind_bitlen = "3"});
	create_ok(fx, &(struct hlr_subscr_fields){.imsi = imsis[1],
	                                          .iccid = "8985005000000000000022",
	                                          .class_name = "foreigner",
	                                          .k = K1,
	                                          .op = OP1,
	                                          .sqn = "77"});
	create_min(fx, imsis[2]);

	/* Move the SQNs as the AuC does. */
	struct hlr_subscr r;
	assert_int_equal(hlr_subscr_sqn_begin(fx->reg, imsi_of(imsis[0]), &r), 0);
	assert_int_equal(hlr_subscr_sqn_end(fx->reg, &r, 0x123456789aULL), 0);
	assert_int_equal(hlr_subscr_sqn_begin(fx->reg, imsi_of(imsis[1]), &r), 0);
	assert_int_equal(hlr_subscr_sqn_end(fx->reg, &r, 99), 0);
	assert_int_equal(hlr_subscr_sqn_begin(fx->reg, imsi_of("467050000000009"), &r), -ENOENT);

	struct hlr_subscr before[3];
	struct hlr_subscr_info before_info[3];
	for (int i = 0; i < 3; i++) {
		assert_int_equal(hlr_subscr_get_by_imsi(fx->reg, imsi_of(imsis[i]), &before[i]), 0);
		assert_int_equal(hlr_subscr_info_get(fx->reg, imsi_of(imsis[i]), &before_info[i]),
		                 0);
	}
	assert_int_equal(before[0].sqn, 0x123456789aULL);
	assert_int_equal(before[1].sqn, 99);

	registry_fixture_reopen(fx);

	assert_int_equal(hlr_registry_count(fx->reg), 3);
	for (int i = 0; i < 3; i++) {
		struct hlr_subscr after;
		struct hlr_subscr_info after_info;
		assert_int_equal(hlr_subscr_get_by_imsi(fx->reg, imsi_of(imsis[i]), &after), 0);
		assert_same_rec(&after, &before[i]);
		assert_memory_equal(after.keys_sealed, before[i].keys_sealed, HLR_KEYS_SEALED_LEN);
		assert_int_equal(hlr_subscr_info_get(fx->reg, imsi_of(imsis[i]), &after_info), 0);
		assert_same_rec(&after_info.rec, &before_info[i].rec);
		assert_string_equal(after_info.holder.name, before_info[i].holder.name);
		assert_string_equal(after_info.holder.id_document,
		                    before_info[i].holder.id_document);
		assert_string_equal(after_info.holder.nationality,
		                    before_info[i].holder.nationality);
		assert_int_equal(after_info.created_at, before_info[i].created_at);
		assert_int_equal(after_info.activated_at, before_info[i].activated_at);
	}
	struct hlr_subscr a;
	assert_msisdn_finds(fx, "8501912000001", imsi_of(imsis[0]));
	struct hlr_iccid iccid = iccid_of("8985005000000000000022");
	assert_int_equal(hlr_subscr_get_by_iccid(fx->reg, &iccid, &a), 0);
	assert_int_equal(a.imsi, imsi_of(imsis[1]));
	assert_false(a.op_is_opc);

	/* The keys still open, and a new subscriber gets a fresh id. */
	uint8_t k[16], op[16], want[16];
	assert_int_equal(hlr_subscr_keys_open(fx->reg, &a, k, op), 0);
	assert_int_equal(hex_decode(OP1, want, 16), 0);
	assert_memory_equal(op, want, 16);
	struct hlr_subscr_info info = create_min_info(fx, "467050000000004");
	for (int i = 0; i < 3; i++)
		assert_int_not_equal(info.rec.id, before[i].id);
}

static void test_keys_sealed_at_rest(void **state)
{
	struct registry_fixture *fx = *state;
	create_min(fx, "467050000000001");
	create_ok(fx, &(struct hlr_subscr_fields){
	                  .imsi = "467050000000002", .class_name = "citizen", .k = K1, .op = OP1});

	struct store_stmt *s;
	char sealed[2][2 * HLR_KEYS_SEALED_LEN + 1];
	store_lock(fx->st);
	assert_int_equal(
	    store_prepare(fx->st, "SELECT keys_sealed, op_kind FROM subscriber ORDER BY imsi", &s),
	    0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(store_step(s), STORE_ROW);
		const char *t = store_col_text(s, 0);
		assert_non_null(t);
		assert_int_equal(strlen(t), 2 * HLR_KEYS_SEALED_LEN);
		snprintf(sealed[i], sizeof(sealed[i]), "%s", t);
		assert_string_equal(store_col_text(s, 1), i == 0 ? "opc" : "op");
	}
	assert_int_equal(store_step(s), STORE_DONE);
	store_reset(s);
	store_unlock(fx->st);

	/* Neither K nor OP/OPc appears, in either case, nor any 8-byte piece of them. */
	static const char *const secrets[] = {K1, OPC1, OP1};
	for (int i = 0; i < 2; i++) {
		for (int j = 0; j < 3; j++) {
			for (size_t off = 0; off + 16 <= 32; off += 8) {
				char piece[17], upper[17];
				memcpy(piece, secrets[j] + off, 16);
				piece[16] = '\0';
				for (int c = 0; c < 17; c++)
					upper[c] = (char)(piece[c] >= 'a' && piece[c] <= 'f'
					                      ? piece[c] - 32
					                      : piece[c]);
				assert_null(strstr(sealed[i], piece));
				assert_null(strstr(sealed[i], upper));
			}
		}
	}
	/* The same K under two IMSIs seals differently. */
	assert_string_not_equal(sealed[0], sealed[1]);
}

static void test_other_master_key(void **state)
{
	struct registry_fixture *fx = *state;
	create_min(fx, "467050000000001");
	uint8_t other[32];
	memcpy(other, fx->master_key, 32);
	other[31] ^= 1;
	registry_fixture_reopen_registry(fx, other);

	struct hlr_subscr r;
	assert_int_equal(hlr_subscr_get_by_imsi(fx->reg, imsi_of("467050000000001"), &r), 0);
	uint8_t k[16], op[16];
	assert_int_equal(hlr_subscr_keys_open(fx->reg, &r, k, op), -EBADMSG);

	/* A sealed box moved to another subscriber does not open either. */
	registry_fixture_reopen_registry(fx, fx->master_key);
	assert_int_equal(hlr_subscr_get_by_imsi(fx->reg, imsi_of("467050000000001"), &r), 0);
	assert_int_equal(hlr_subscr_keys_open(fx->reg, &r, k, op), 0);
	r.imsi = imsi_of("467050000000002");
	assert_int_equal(hlr_subscr_keys_open(fx->reg, &r, k, op), -EBADMSG);
}

/* --- CSV import ------------------------------------------------------------- */

static int import_text(struct registry_fixture *fx, const char *name, const char *text, uint64_t *n,
                       struct hlr_import_error *err)
{
	char path[256];
	registry_fixture_write_file(fx, name, text);
	snprintf(path, sizeof(path), "%s/%s", fx->dir, name);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	memset(err, 0, sizeof(*err));
	*n = 12345;
	int rc = hlr_subscr_import_csv(fx->reg, f, n, err, NULL, NULL);
	fclose(f);
	return rc;
}

static void assert_import_refused(struct registry_fixture *fx, const char *text, int rc,
                                  unsigned line, const char *column, const char *first_imsi)
{
	uint64_t n;
	struct hlr_import_error err;
	size_t count = hlr_registry_count(fx->reg);
	int64_t rows = store_count(fx, NULL);
	int got = import_text(fx, "bad.csv", text, &n, &err);
	if (got != rc || err.line != line || strcmp(err.column, column) != 0)
		fail_msg("import: rc %d line %u column '%s' (%s); want rc %d line %u column '%s'",
		         got, err.line, err.column, err.msg, rc, line, column);
	assert_true(err.msg[0] != '\0');
	/* Nothing imported: neither in memory nor in the store. */
	assert_int_equal(hlr_registry_count(fx->reg), count);
	assert_int_equal(store_count(fx, NULL), rows);
	struct hlr_subscr r;
	if (first_imsi)
		assert_int_equal(hlr_subscr_get_by_imsi(fx->reg, imsi_of(first_imsi), &r), -ENOENT);
}

static void test_import_good(void **state)
{
	struct registry_fixture *fx = *state;
	create_min(fx, "467050000000100");
	uint64_t n;
	struct hlr_import_error err;
	int rc = import_text(
	    fx, "good.csv",
	    "msisdn,imsi,class,k,opc,op,name,city,status,iccid,nationality,amf,sqn,ind_bitlen\r\n"
	    "8501912000001,467050000000001,citizen," K1 "," OPC1 ",,\"Kim, Chol\",Pyongyang,active,"
	    "8985005000000000011,PRK,8000,100,\r\n"
	    "+8501912000002,46705000000002,official," K1 ",," OP1 ",\"Ri \"\"Sol\"\"\",,,,,,,4\r\n"
	    "\r\n"
	    ",467050000000003,foreigner," K1 "," OPC1 ",,,,,,,,,\r\n"
	    "8501912000004,467050000000004,citizen," K1 "," OPC1 ",,,Hamhung,suspended,,,,,",
	    &n, &err);
	if (rc != 0)
		fail_msg("import: %d line %u column %s: %s", rc, err.line, err.column, err.msg);
	assert_int_equal(n, 4);
	assert_int_equal(hlr_registry_count(fx->reg), 5);
	assert_int_equal(store_count(fx, NULL), 5);

	struct hlr_subscr r;
	struct hlr_subscr_info info;
	assert_int_equal(hlr_subscr_get_by_msisdn(fx->reg, msisdn_of("8501912000001"), &r), 0);
	assert_int_equal(r.imsi, imsi_of("467050000000001"));
	assert_int_equal(r.status, HLR_STATUS_ACTIVE);
	assert_int_equal(r.sqn, 100);
	assert_int_equal(r.ind_bitlen, 5);
	assert_int_equal(r.amf[0], 0x80);
	struct hlr_iccid iccid = iccid_of("8985005000000000011");
	assert_int_equal(hlr_subscr_get_by_iccid(fx->reg, &iccid, &r), 0);
	assert_int_equal(hlr_subscr_info_get(fx->reg, r.imsi, &info), 0);
	assert_string_equal(info.holder.name, "Kim, Chol");
	assert_string_equal(info.holder.nationality, "PRK");
	assert_int_equal(info.rec.city_id, city_id(fx, "Pyongyang"));
	assert_true(info.activated_at > 0);

	assert_int_equal(hlr_subscr_get_by_msisdn(fx->reg, msisdn_of("8501912000002"), &r), 0);
	assert_int_equal(r.imsi, imsi_of("46705000000002"));
	assert_false(r.op_is_opc);
	assert_int_equal(r.ind_bitlen, 4);
	assert_int_equal(r.class_id, class_id(fx, "official"));
	uint8_t k[16], op[16], want[16];
	assert_int_equal(hlr_subscr_keys_open(fx->reg, &r, k, op), 0);
	assert_int_equal(hex_decode(OP1, want, 16), 0);
	assert_memory_equal(op, want, 16);
	assert_int_equal(hlr_subscr_info_get(fx->reg, r.imsi, &info), 0);
	assert_string_equal(info.holder.name, "Ri \"Sol\"");

	assert_int_equal(hlr_subscr_get_by_imsi(fx->reg, imsi_of("467050000000003"), &r), 0);
	assert_int_equal(r.msisdn, 0);
	assert_int_equal(r.status, HLR_STATUS_PENDING);
	assert_int_equal(hlr_subscr_get_by_imsi(fx->reg, imsi_of("467050000000004"), &r), 0);
	assert_int_equal(r.status, HLR_STATUS_SUSPENDED);

	/* Every imported subscriber has its own id, distinct from the existing one. */
	uint64_t ids[5];
	static const char *const all[] = {"467050000000100", "467050000000001", "46705000000002",
	                                  "467050000000003", "467050000000004"};
	for (int i = 0; i < 5; i++) {
		assert_int_equal(hlr_subscr_get_by_imsi(fx->reg, imsi_of(all[i]), &r), 0);
		ids[i] = r.id;
		for (int j = 0; j < i; j++)
			assert_int_not_equal(ids[i], ids[j]);
	}

	/* And all of it survives a restart. */
	registry_fixture_reopen(fx);
	assert_int_equal(hlr_registry_count(fx->reg), 5);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(hlr_subscr_get_by_imsi(fx->reg, imsi_of(all[i]), &r), 0);
		assert_int_equal(r.id, ids[i]);
	}
	/* A subscriber created after the import does not reuse an id. */
	info = create_min_info(fx, "467050000000200");
	for (int i = 0; i < 5; i++)
		assert_int_not_equal(info.rec.id, ids[i]);

	/* A header-only file imports nothing. */
	assert_int_equal(import_text(fx, "empty.csv", "imsi,class,k,opc\n", &n, &err), 0);
	assert_int_equal(n, 0);
}

static void test_import_create_after_import_in_same_run(void **state)
{
	struct registry_fixture *fx = *state;
	uint64_t n;
	struct hlr_import_error err;
	assert_int_equal(import_text(fx, "a.csv",
	                             "imsi,class,k,opc\n"
	                             "467050000000001,citizen," K1 "," OPC1 "\n"
	                             "467050000000002,citizen," K1 "," OPC1 "\n",
	                             &n, &err),
	                 0);
	assert_int_equal(n, 2);
	struct hlr_subscr_info info = create_min_info(fx, "467050000000003");
	struct hlr_subscr a, b;
	assert_int_equal(hlr_subscr_get_by_imsi(fx->reg, imsi_of("467050000000001"), &a), 0);
	assert_int_equal(hlr_subscr_get_by_imsi(fx->reg, imsi_of("467050000000002"), &b), 0);
	assert_int_not_equal(info.rec.id, a.id);
	assert_int_not_equal(info.rec.id, b.id);
	assert_int_equal(store_count(fx, NULL), 3);
}

static void test_import_bad_row(void **state)
{
	struct registry_fixture *fx = *state;
	create_min(fx, "467050000000100");
	/* Line 4 has a K of 31 digits. */
	assert_import_refused(fx,
	                      "imsi,class,k,opc\n"
	                      "467050000000001,citizen," K1 "," OPC1 "\n"
	                      "467050000000002,citizen," K1 "," OPC1 "\n"
	                      "467050000000003,citizen,465b5ce8b199b49faa5f0a2ee238a6b," OPC1 "\n"
	                      "467050000000004,citizen," K1 "," OPC1 "\n",
	                      -EINVAL, 4, "k", "467050000000001");
	/* A bad class in the record on line 4 of a CRLF file with a quoted name. */
	assert_import_refused(fx,
	                      "imsi,name,class,k,opc\r\n"
	                      "467050000000001,\"Kim, Chol\",citizen," K1 "," OPC1 "\r\n"
	                      "\r\n"
	                      "467050000000002,x,tourist," K1 "," OPC1 "\r\n",
	                      -EINVAL, 4, "class", "467050000000001");
	/* A name cannot hold a line break (a quoted field may, but not this one). */
	assert_import_refused(fx,
	                      "imsi,name,class,k,opc\n"
	                      "467050000000001,\"two\nlines\",citizen," K1 "," OPC1 "\n",
	                      -EINVAL, 2, "name", "467050000000001");
	/* The wrong network. */
	assert_import_refused(fx,
	                      "imsi,class,k,opc\n"
	                      "467050000000001,citizen," K1 "," OPC1 "\n"
	                      "\n"
	                      "467060000000002,citizen," K1 "," OPC1 "\n",
	                      -EINVAL, 4, "imsi", "467050000000001");
	/* Unknown city, bad nationality, op and opc both. */
	assert_import_refused(fx,
	                      "imsi,class,k,opc,city\n"
	                      "467050000000001,citizen," K1 "," OPC1 ",Atlantis\n",
	                      -EINVAL, 2, "city", "467050000000001");
	assert_import_refused(fx,
	                      "imsi,class,k,opc,nationality\n"
	                      "467050000000001,citizen," K1 "," OPC1 ",Korea\n",
	                      -EINVAL, 2, "nationality", "467050000000001");
	assert_import_refused(fx,
	                      "imsi,class,k,opc,op\n"
	                      "467050000000001,citizen," K1 "," OPC1 "," OP1 "\n",
	                      -EINVAL, 2, "opc", "467050000000001");
	/* Broken quoting. */
	assert_import_refused(fx,
	                      "imsi,class,k,opc\n"
	                      "467050000000001,citizen," K1 "," OPC1 "\n"
	                      "467050000000002,\"citizen\"x," K1 "," OPC1 "\n",
	                      -EINVAL, 3, "", "467050000000001");
}

static void test_import_header_errors(void **state)
{
	struct registry_fixture *fx = *state;
	assert_import_refused(fx,
	                      "imsi,class,k,opc,colour\n"
	                      "467050000000001,citizen," K1 "," OPC1 ",blue\n",
	                      -EINVAL, 1, "colour", "467050000000001");
	assert_import_refused(fx,
	                      "imsi,class,opc\n"
	                      "467050000000001,citizen," OPC1 "\n",
	                      -EINVAL, 1, "k", "467050000000001");
	assert_import_refused(fx,
	                      "imsi,class,k,opc,imsi\n"
	                      "467050000000001,citizen," K1 "," OPC1 ",467050000000001\n",
	                      -EINVAL, 1, "imsi", "467050000000001");
	assert_import_refused(fx, "", -EINVAL, 1, "", NULL);
}

static void test_import_field_count(void **state)
{
	struct registry_fixture *fx = *state;
	uint64_t n;
	struct hlr_import_error err;
	assert_import_refused(fx,
	                      "imsi,class,k,opc\n"
	                      "467050000000001,citizen," K1 "," OPC1 "\n"
	                      "467050000000002,citizen," K1 "\n",
	                      -EINVAL, 3, "opc", "467050000000001");
	assert_int_equal(import_text(fx, "bad.csv",
	                             "imsi,class,k,opc\n"
	                             "467050000000002,citizen," K1 "\n",
	                             &n, &err),
	                 -EINVAL);
	assert_string_equal(err.msg, "expected 4 fields, got 3");
	assert_int_equal(import_text(fx, "bad.csv",
	                             "imsi,class,k,opc\n"
	                             "467050000000002,citizen," K1 "," OPC1 ",extra\n",
	                             &n, &err),
	                 -EINVAL);
	assert_int_equal(err.line, 2);
	assert_string_equal(err.msg, "expected 4 fields, got 5");
	assert_int_equal(hlr_registry_count(fx->reg), 0);
}

static void test_import_duplicates(void **state)
{
	struct registry_fixture *fx = *state;
	create_numbered(fx, "467050000000100", "8501912000100", "8985005000000000100");

	/* Within the file: the error is on the second occurrence. */
	assert_import_refused(fx,
	                      "imsi,class,k,opc\n"
	                      "467050000000001,citizen," K1 "," OPC1 "\n"
	                      "467050000000002,citizen," K1 "," OPC1 "\n"
	                      "467050000000003,citizen," K1 "," OPC1 "\n"
	                      "467050000000002,citizen," K1 "," OPC1 "\n",
	                      -EEXIST, 5, "imsi", "467050000000001");
	assert_import_refused(fx,
	                      "imsi,msisdn,class,k,opc\n"
	                      "467050000000001,8501912000001,citizen," K1 "," OPC1 "\n"
	                      "467050000000002,8501912000002,citizen," K1 "," OPC1 "\n"
	                      "467050000000003,+8501912000001,citizen," K1 "," OPC1 "\n",
	                      -EEXIST, 4, "msisdn", "467050000000001");
	assert_import_refused(fx,
	                      "imsi,iccid,class,k,opc\n"
	                      "467050000000001,8985005000000000001,citizen," K1 "," OPC1 "\n"
	                      "467050000000002,8985005000000000001,citizen," K1 "," OPC1 "\n",
	                      -EEXIST, 3, "iccid", "467050000000001");

	/* Against the store. */
	assert_import_refused(fx,
	                      "imsi,class,k,opc\n"
	                      "467050000000001,citizen," K1 "," OPC1 "\n"
	                      "467050000000100,citizen," K1 "," OPC1 "\n",
	                      -EEXIST, 3, "imsi", "467050000000001");
	assert_import_refused(fx,
	                      "imsi,msisdn,class,k,opc\n"
	                      "467050000000001,8501912000100,citizen," K1 "," OPC1 "\n",
	                      -EEXIST, 2, "msisdn", "467050000000001");
	assert_import_refused(fx,
	                      "imsi,iccid,class,k,opc\n"
	                      "467050000000001,,citizen," K1 "," OPC1 "\n"
	                      "467050000000002,8985005000000000100,citizen," K1 "," OPC1 "\n",
	                      -EEXIST, 3, "iccid", "467050000000001");

	/* After all those refusals the same rows import cleanly once fixed. */
	uint64_t n;
	struct hlr_import_error err;
	assert_int_equal(import_text(fx, "fixed.csv",
	                             "imsi,msisdn,class,k,opc\n"
	                             "467050000000001,8501912000001,citizen," K1 "," OPC1 "\n"
	                             "467050000000002,8501912000002,citizen," K1 "," OPC1 "\n",
	                             &n, &err),
	                 0);
	assert_int_equal(n, 2);
	assert_int_equal(hlr_registry_count(fx->reg), 3);
	assert_msisdn_finds(fx, "8501912000002", imsi_of("467050000000002"));
	assert_msisdn_finds(fx, "8501912000100", imsi_of("467050000000100"));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_create_and_lookup),
	    T(test_duplicates),
	    T(test_validation_names_field),
	    T(test_update),
	    T(test_delete),
	    T(test_list),
	    T(test_persistence),
	    T(test_keys_sealed_at_rest),
	    T(test_other_master_key),
	    T(test_import_good),
	    T(test_import_create_after_import_in_same_run),
	    T(test_import_bad_row),
	    T(test_import_header_errors),
	    T(test_import_field_count),
	    T(test_import_duplicates),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
