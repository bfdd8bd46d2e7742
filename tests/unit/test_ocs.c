/*
 * Online charging as an operator checks it, against a real SQLite store and
 * the Koryolink profile's plans and tariffs: a new account's initial credit and
 * first fee; calls charged by the unit with the rest given back; the allowance
 * used before money; refusals that say why; SMS; operations that count once;
 * the ledger whose sums are the balances, also after a restart; calls open at
 * a restart charged as used; top-up cards; and, with the clock moved, the
 * monthly renewal, the quarterly fee, and organisations' monthly caps.
 */
#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/clock.h"
#include "common/hex.h"
#include "hlr/registry.h"
#include "hlr/subscr_input.h"
#include "ocs/ocs.h"
#include "registry_fixture.h"
#include "store/store_queue.h"

#ifndef KORYO_PROFILE_DIR
#error "KORYO_PROFILE_DIR must name profiles/koryolink"
#endif

/* The subscribers of every test: two citizens, a foreigner, an official line. */
#define CIT1    467050000000101ULL
#define CIT2    467050000000102ULL
#define FOR1    467050000000201ULL
#define OFF1    467050000000301ULL
#define CIT1_ID "467050000000101"
#define CIT2_ID "467050000000102"
#define FOR1_ID "467050000000201"
#define OFF1_ID "467050000000301"

/* citizen_basic in profiles/koryolink/plans.csv and tariffs.csv. */
#define CITIZEN_FEE       3000 /* KPW a quarter */
#define CITIZEN_INITIAL   3000 /* KPW */
#define CITIZEN_SECONDS   (200 * 60)
#define CITIZEN_SMS       100
#define NATIONAL_KPW_MIN  100  /* KPW a minute, 60 s unit */
#define FOREIGNER_INITIAL 2000 /* EUR cents */
#define INTL_EUR_MIN      150  /* cents a minute, 30 s unit: 75 a unit */
#define INTL_EUR_SMS      25
#define OFFICIAL_FEE      1500 /* KPW a month, paid by the organisation */

struct fx {
	struct registry_fixture rf;
	struct store_queue *q;
	struct ocs *o;
};

/* --- time ------------------------------------------------------------------ */

static int64_t utc(int y, int mo, int d, int h, int mi)
{
	struct tm tm = {
	    .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
	return (int64_t)timegm(&tm);
}

/* Moves koryo's clock so that it reads t now. */
static void set_time(int64_t t)
{
	clock_set_offset(t - (int64_t)time(NULL));
}

/* --- answers ---------------------------------------------------------------- */

struct answer {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	unsigned calls;
	struct ocs_grant g;
};

static void answer_fn(void *ctx, const struct ocs_grant *g)
{
	struct answer *a = ctx;
	pthread_mutex_lock(&a->mu);
	a->g = *g;
	a->done = true;
	a->calls++;
	pthread_cond_signal(&a->cv);
	pthread_mutex_unlock(&a->mu);
}

static void answer_init(struct answer *a)
{
	memset(a, 0, sizeof(*a));
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
}

/* rc: what the ocs call returned. The answer, once it has come (exactly once). */
static struct ocs_grant answer_wait(struct answer *a, int rc)
{
	assert_int_equal(rc, 0);
	pthread_mutex_lock(&a->mu);
	while (!a->done)
		pthread_cond_wait(&a->cv, &a->mu);
	struct ocs_grant g = a->g;
	unsigned calls = a->calls;
	pthread_mutex_unlock(&a->mu);
	pthread_mutex_destroy(&a->mu);
	pthread_cond_destroy(&a->cv);
	assert_int_equal(calls, 1);
	return g;
}

static struct ocs_grant reserve(struct fx *fx, const char *session, unsigned slice, uint64_t imsi,
                                const char *dest)
{
	struct answer a;
	answer_init(&a);
	return answer_wait(&a, ocs_call_reserve(fx->o, session, slice, imsi, dest, answer_fn, &a));
}

static struct ocs_grant call_end(struct fx *fx, const char *session, uint32_t used)
{
	struct answer a;
	answer_init(&a);
	return answer_wait(&a, ocs_call_end(fx->o, session, used, answer_fn, &a));
}

static struct ocs_grant sms(struct fx *fx, const char *op_id, uint64_t imsi, const char *dest)
{
	struct answer a;
	answer_init(&a);
	return answer_wait(&a, ocs_sms_charge(fx->o, op_id, imsi, dest, 1, answer_fn, &a));
}

static struct ocs_grant adjust(struct fx *fx, const char *op_id, const char *account,
                               const char *currency, int64_t amount, int64_t seconds, int64_t nsms)
{
	struct answer a;
	answer_init(&a);
	return answer_wait(&a, ocs_adjust(fx->o, op_id, account, currency, amount, seconds, nsms,
	                                  "unit test adjustment", answer_fn, &a));
}

static struct ocs_grant topup(struct fx *fx, const char *op_id, uint64_t imsi, const char *pin)
{
	struct answer a;
	answer_init(&a);
	return answer_wait(&a, ocs_topup(fx->o, op_id, imsi, pin, answer_fn, &a));
}

static void assert_granted(struct ocs_grant g, uint32_t seconds)
{
	if (g.status != 0 || g.seconds != seconds)
		fail_msg("expected a grant of %" PRIu32 " s, got status %d, %" PRIu32 " s: %s",
		         seconds, g.status, g.seconds, g.reason);
}

static void assert_refused(const struct ocs_grant *g, int status, const char *reason)
{
	if (g->status != status || strstr(g->reason, reason) == NULL)
		fail_msg("expected refusal %d '%s', got %d '%s'", status, reason, g->status,
		         g->reason);
}

/* --- what an operator reads ------------------------------------------------------ */

static struct ocs_account_info info(struct fx *fx, const char *account)
{
	struct ocs_account_info i;
	int rc = ocs_account_info(fx->o, account, &i);
	if (rc != 0)
		fail_msg("account %s: %d", account, rc);
	return i;
}

static int64_t money(struct ocs_account_info i, const char *cur)
{
	for (unsigned k = 0; k < i.n_balances; k++)
		if (strcmp(i.balances[k].currency, cur) == 0)
			return i.balances[k].amount;
	fail_msg("account %s has no %s balance", i.account, cur);
	return 0;
}

struct row {
	char op_id[64], account[24], kind[16], currency[4], session[256], reason[160];
	char destination[40];
	int64_t seq, amount, seconds, sms, quantity, at;
};

struct rows {
	struct row *v;
	size_t n;
};

static void row_one(void *ctx, const struct ocs_ledger_row *r)
{
	struct rows *rs = ctx;
	struct row *v = realloc(rs->v, (rs->n + 1) * sizeof(*v));
	assert_non_null(v);
	rs->v = v;
	struct row *x = &v[rs->n++];
	memset(x, 0, sizeof(*x));
	snprintf(x->op_id, sizeof(x->op_id), "%s", r->op_id);
	snprintf(x->account, sizeof(x->account), "%s", r->account);
	snprintf(x->kind, sizeof(x->kind), "%s", r->kind);
	snprintf(x->currency, sizeof(x->currency), "%s", r->currency);
	snprintf(x->session, sizeof(x->session), "%s", r->session);
	snprintf(x->reason, sizeof(x->reason), "%s", r->reason);
	snprintf(x->destination, sizeof(x->destination), "%s", r->destination);
	x->seq = r->seq;
	x->amount = r->amount;
	x->seconds = r->seconds;
	x->sms = r->sms;
	x->quantity = r->quantity;
	x->at = r->at;
}

/* The ledger rows of account (NULL: all), in order. Free .v. */
static struct rows ledger(struct fx *fx, const char *account)
{
	struct rows rs = {0};
	int64_t after = 0;
	for (;;) {
		size_t before = rs.n;
		int n = ocs_ledger_list(fx->o, account, after, 1000, row_one, &rs);
		assert_true(n >= 0);
		if (n == 0)
			break;
		assert_int_equal(rs.n - before, (size_t)n);
		after = rs.v[rs.n - 1].seq;
	}
	return rs;
}

/* The number of rows of account (NULL: all) of kind, in session when it is not NULL. */
static unsigned count_rows(struct fx *fx, const char *account, const char *kind,
                           const char *session)
{
	struct rows rs = ledger(fx, account);
	unsigned n = 0;
	for (size_t i = 0; i < rs.n; i++)
		if (strcmp(rs.v[i].kind, kind) == 0 &&
		    (!session || !strcmp(rs.v[i].session, session)))
			n++;
	free(rs.v);
	return n;
}

/* The quarterly fee rows of account: period rows that took the fee. */
static unsigned fee_rows(struct fx *fx, const char *account)
{
	struct rows rs = ledger(fx, account);
	unsigned n = 0;
	for (size_t i = 0; i < rs.n; i++)
		if (strcmp(rs.v[i].kind, "period") == 0 && rs.v[i].amount == -CITIZEN_FEE &&
		    strcmp(rs.v[i].currency, "KPW") == 0)
			n++;
	free(rs.v);
	return n;
}

/* The period row of account for month ("2031-03"), which must be there once. */
static struct row period_row(struct fx *fx, const char *account, const char *month)
{
	struct rows rs = ledger(fx, account);
	struct row found = {0};
	unsigned n = 0;
	for (size_t i = 0; i < rs.n; i++)
		if (strcmp(rs.v[i].kind, "period") == 0 && strcmp(rs.v[i].session, month) == 0) {
			found = rs.v[i];
			n++;
		}
	free(rs.v);
	if (n != 1)
		fail_msg("account %s: %u period rows for %s, expected 1", account, n, month);
	return found;
}

/* The account's balances (brought up to date first) equal the sums of its
 * ledger rows, money per currency and both allowances; and koryo's own audit
 * finds no account that differs. */
static void assert_ledger_is_balance(struct fx *fx, const char *account)
{
	struct ocs_account_info i = info(fx, account);
	struct rows rs = ledger(fx, account);
	int64_t seconds = 0, nsms = 0;
	for (unsigned k = 0; k < i.n_balances; k++) {
		int64_t sum = 0;
		for (size_t r = 0; r < rs.n; r++)
			if (strcmp(rs.v[r].currency, i.balances[k].currency) == 0)
				sum += rs.v[r].amount;
		if (sum != i.balances[k].amount)
			fail_msg("account %s: %s balance %" PRId64 ", ledger sum %" PRId64, account,
			         i.balances[k].currency, i.balances[k].amount, sum);
	}
	for (size_t r = 0; r < rs.n; r++) {
		if (!rs.v[r].currency[0] && rs.v[r].amount != 0)
			fail_msg("account %s: row %" PRId64 " moves money without a currency",
			         account, rs.v[r].seq);
		seconds += rs.v[r].seconds;
		nsms += rs.v[r].sms;
	}
	free(rs.v);
	if (seconds != i.allowance_seconds || nsms != i.allowance_sms)
		fail_msg("account %s: allowance %" PRId64 " s / %" PRId64
		         " SMS, ledger sums %" PRId64 " s / %" PRId64 " SMS",
		         account, i.allowance_seconds, i.allowance_sms, seconds, nsms);
	unsigned checked = 0;
	assert_int_equal(ocs_audit(fx->o, &checked), 0);
	assert_true(checked >= 1);
}

struct cdrs {
	struct ocs_cdr last;
	char session[256];
	unsigned n;
};

static void cdr_one(void *ctx, const struct ocs_cdr *r)
{
	struct cdrs *c = ctx;
	if (strcmp(r->session, c->session) != 0)
		return;
	c->last = *r;
	c->n++;
}

/* The one rated CDR of session (its strings are not kept). */
static struct ocs_cdr cdr_of(struct fx *fx, const char *session)
{
	struct cdrs c = {.n = 0};
	snprintf(c.session, sizeof(c.session), "%s", session);
	assert_true(ocs_cdr_list(fx->o, 0, 1000, cdr_one, &c) >= 0);
	if (c.n != 1)
		fail_msg("session %s: %u CDRs, expected 1", session, c.n);
	c.last.session = c.last.account = c.last.destination = c.last.currency = NULL;
	c.last.service = NULL;
	return c.last;
}

/* --- the fixture -------------------------------------------------------------- */

static void create_sub(struct fx *fx, const char *imsi, const char *cls, const char *doc)
{
	struct hlr_subscr_fields f = {.imsi = imsi,
	                              .class_name = cls,
	                              .status = "active",
	                              .id_document = doc,
	                              .name = doc ? "Test Official" : NULL,
	                              .k = "465b5ce8b199b49faa5f0a2ee238a6bc",
	                              .opc = "cd63cb71954a9f4e48a5994e37a02baf"};
	struct hlr_subscr_new in;
	struct hlr_field_error err;
	memset(&err, 0, sizeof(err));
	int rc = hlr_subscr_input_parse(&fx->rf.profile, &f, 5, &in, &err);
	if (rc == 0)
		rc = hlr_subscr_create(fx->rf.reg, &in, NULL, &err);
	if (rc != 0)
		fail_msg("create %s: %d: %s: %s", imsi, rc, err.field, err.msg);
}

static void charging_open(struct fx *fx)
{
	assert_int_equal(store_queue_start(fx->rf.st, &fx->q), 0);
	assert_int_equal(ocs_open(fx->rf.st, fx->q, fx->rf.reg, &fx->o), 0);
}

/* As koryod stops: the queue writes what it holds, then charging closes. */
static void charging_close(struct fx *fx)
{
	store_queue_stop(fx->q);
	fx->q = NULL;
	ocs_close(fx->o);
	fx->o = NULL;
}

/* A restart: charging, the registry and the store closed and opened again. */
static void restart(struct fx *fx)
{
	charging_close(fx);
	registry_fixture_reopen(&fx->rf);
	charging_open(fx);
}

/* Every test starts on 10 February 2031, in the middle of the quarter that
 * began in January. */
static int setup(void **state)
{
	set_time(utc(2031, 2, 10, 12, 0));
	struct fx *fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	uint8_t key[32];
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)(0x40 + i);
	registry_fixture_setup(&fx->rf, "ocs", key);
	char err[512] = "";
	if (ocs_install(fx->rf.st, KORYO_PROFILE_DIR, err, sizeof(err)) != 0)
		fail_msg("ocs_install: %s", err);
	create_sub(fx, CIT1_ID, "citizen", NULL);
	create_sub(fx, CIT2_ID, "citizen", NULL);
	create_sub(fx, FOR1_ID, "foreigner", NULL);
	create_sub(fx, OFF1_ID, "official", "OFF-POLICE-0001");
	charging_open(fx);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	charging_close(fx);
	registry_fixture_teardown(&fx->rf);
	free(fx);
	clock_set_offset(0);
	return 0;
}

/* --- opening an account ------------------------------------------------------------- */

static void test_open_account(void **state)
{
	struct fx *fx = *state;
	/* A citizen: 3,000 won of initial credit, at once the first quarter's fee
	 * of 3,000 won, and the month's 200 minutes and 100 SMS until 1 March. */
	struct ocs_account_info c = info(fx, CIT1_ID);
	assert_string_equal(c.plan, "citizen_basic");
	assert_int_equal(money(c, "KPW"), CITIZEN_INITIAL - CITIZEN_FEE);
	assert_int_equal(money(c, "EUR"), 0);
	assert_int_equal(c.allowance_seconds, CITIZEN_SECONDS);
	assert_int_equal(c.allowance_sms, CITIZEN_SMS);
	assert_int_equal(c.allowance_valid_until, utc(2031, 3, 1, 0, 0));
	assert_int_equal(c.open_calls, 0);

	struct rows rs = ledger(fx, CIT1_ID);
	assert_int_equal(rs.n, 2);
	assert_string_equal(rs.v[0].kind, "initial");
	assert_string_equal(rs.v[0].currency, "KPW");
	assert_int_equal(rs.v[0].amount, CITIZEN_INITIAL);
	assert_non_null(strstr(rs.v[0].reason, "initial credit of plan citizen_basic: KPW 3,000"));
	assert_string_equal(rs.v[1].kind, "period");
	assert_string_equal(rs.v[1].session, "2031-02");
	assert_string_equal(rs.v[1].currency, "KPW");
	assert_int_equal(rs.v[1].amount, -CITIZEN_FEE);
	assert_int_equal(rs.v[1].seconds, CITIZEN_SECONDS);
	assert_int_equal(rs.v[1].sms, CITIZEN_SMS);
	assert_non_null(strstr(rs.v[1].reason, "fee KPW 3,000"));
	assert_non_null(
	    strstr(rs.v[1].reason, "200 free minutes and 100 free SMS until 2031-03-01"));
	free(rs.v);

	/* Reading it again writes nothing more. */
	c = info(fx, CIT1_ID);
	assert_int_equal(count_rows(fx, CIT1_ID, "period", NULL), 1);
	assert_int_equal(count_rows(fx, CIT1_ID, "initial", NULL), 1);

	/* A foreigner's SIM: EUR 20.00 of call credit, no fee, no allowance. */
	struct ocs_account_info f = info(fx, FOR1_ID);
	assert_string_equal(f.plan, "foreigner_sim");
	assert_int_equal(money(f, "EUR"), FOREIGNER_INITIAL);
	assert_int_equal(money(f, "KPW"), 0);
	assert_int_equal(f.allowance_seconds, 0);
	assert_int_equal(f.allowance_sms, 0);
	assert_string_equal(f.balances[1].text, "EUR 20.00");

	/* An official line: its organisation pays the monthly fee; the line has
	 * its cap of minutes and no money of its own. */
	struct ocs_account_info l = info(fx, OFF1_ID);
	assert_string_equal(l.plan, "official_line");
	assert_string_equal(l.organisation, "POLICE");
	assert_int_equal(money(l, "KPW"), 0);
	assert_int_equal(l.allowance_seconds, 300 * 60);
	struct ocs_account_info org = info(fx, "org:POLICE");
	assert_int_equal(money(org, "KPW"), -OFFICIAL_FEE);

	/* The phone's one-line balance. */
	char text[160];
	assert_int_equal(ocs_balance_text(fx->o, CIT1, text, sizeof(text)), 0);
	assert_string_equal(text, "200 free minutes and 100 free SMS until 2031-03-01");
	assert_int_equal(ocs_balance_text(fx->o, FOR1, text, sizeof(text)), 0);
	assert_string_equal(text, "EUR 20.00");
	assert_int_equal(ocs_balance_text(fx->o, 467050000000999ULL, text, sizeof(text)), -ENOENT);

	/* An IMSI nobody has is no account. */
	struct ocs_account_info none;
	assert_int_equal(ocs_account_info(fx->o, "467050000000999", &none), -ENOENT);

	assert_ledger_is_balance(fx, CIT1_ID);
	assert_ledger_is_balance(fx, FOR1_ID);
	assert_ledger_is_balance(fx, "org:POLICE");
}

/* --- calls ---------------------------------------------------------------------------- */

static void test_call_charged_by_unit(void **state)
{
	struct fx *fx = *state;
	/* International from a foreigner's SIM: EUR 1.50 a minute in units of
	 * 30 s, so EUR 0.75 a unit; a slice is 60 s. */
	assert_granted(reserve(fx, "call-a", 0, FOR1, "international"), 60);
	assert_int_equal(money(info(fx, FOR1_ID), "EUR"), FOREIGNER_INITIAL - 150);
	assert_int_equal(info(fx, FOR1_ID).open_calls, 1);
	/* 29 s used: one unit charged, the other given back. */
	struct ocs_grant g = call_end(fx, "call-a", 29);
	assert_granted(g, 30);
	struct ocs_account_info f = info(fx, FOR1_ID);
	assert_int_equal(money(f, "EUR"), FOREIGNER_INITIAL - 75);
	assert_int_equal(f.open_calls, 0);
	struct ocs_cdr r = cdr_of(fx, "call-a");
	assert_int_equal(r.seconds, 30);
	assert_int_equal(r.amount, 75);
	assert_int_equal(r.allowance_seconds, 0);
	assert_int_equal(r.digits, 2);

	/* Three slices (180 s, EUR 4.50 held), 125 s used: five units (150 s,
	 * EUR 3.75) charged, one given back. */
	for (unsigned s = 0; s < 3; s++)
		assert_granted(reserve(fx, "call-b", s, FOR1, "international"), 60);
	assert_int_equal(money(info(fx, FOR1_ID), "EUR"), FOREIGNER_INITIAL - 75 - 450);
	g = call_end(fx, "call-b", 125);
	assert_granted(g, 150);
	assert_int_equal(money(info(fx, FOR1_ID), "EUR"), FOREIGNER_INITIAL - 75 - 375);
	r = cdr_of(fx, "call-b");
	assert_int_equal(r.seconds, 150);
	assert_int_equal(r.amount, 375);

	/* Exactly five units (150 s) used is not rounded further up; 0 s is
	 * charged nothing. */
	assert_granted(reserve(fx, "call-c", 0, FOR1, "international"), 60);
	assert_granted(call_end(fx, "call-c", 60), 60);
	assert_granted(reserve(fx, "call-d", 0, FOR1, "international"), 60);
	assert_granted(call_end(fx, "call-d", 0), 0);
	assert_int_equal(cdr_of(fx, "call-d").amount, 0);
	assert_int_equal(money(info(fx, FOR1_ID), "EUR"), FOREIGNER_INITIAL - 75 - 375 - 150);

	/* Used more than reserved: only what was reserved is charged. */
	assert_granted(reserve(fx, "call-e", 0, FOR1, "international"), 60);
	assert_granted(call_end(fx, "call-e", 500), 60);
	assert_int_equal(money(info(fx, FOR1_ID), "EUR"), FOREIGNER_INITIAL - 75 - 375 - 150 - 150);

	/* A slice out of order, and the end of a call nobody reserved. */
	assert_granted(reserve(fx, "call-f", 0, FOR1, "international"), 60);
	g = reserve(fx, "call-f", 2, FOR1, "international");
	assert_refused(&g, -EINVAL, "out of order");
	g = reserve(fx, "call-g", 1, FOR1, "international");
	assert_refused(&g, -ENOENT, "No such call");
	g = call_end(fx, "call-never", 10);
	assert_refused(&g, -ENOENT, "No such call");
	assert_granted(call_end(fx, "call-f", 1), 30);

	assert_ledger_is_balance(fx, FOR1_ID);
}

static void test_allowance_before_money(void **state)
{
	struct fx *fx = *state;
	/* The citizen has 5,000 won and 200 free minutes; national calls cost
	 * 100 won a minute once the minutes are used. */
	assert_granted(adjust(fx, "money-1", CIT1_ID, "KPW", 5000, 0, 0), 0);
	assert_granted(reserve(fx, "nat-1", 0, CIT1, "national"), 60);
	struct ocs_account_info c = info(fx, CIT1_ID);
	assert_int_equal(money(c, "KPW"), 5000);
	assert_int_equal(c.allowance_seconds, CITIZEN_SECONDS - 60);
	assert_granted(call_end(fx, "nat-1", 45), 60);
	c = info(fx, CIT1_ID);
	assert_int_equal(money(c, "KPW"), 5000);
	assert_int_equal(c.allowance_seconds, CITIZEN_SECONDS - 60);
	struct ocs_cdr r = cdr_of(fx, "nat-1");
	assert_int_equal(r.allowance_seconds, 60);
	assert_int_equal(r.amount, 0);

	/* One free minute left: the first slice takes it, the second is paid. */
	assert_granted(adjust(fx, "minutes-1", CIT1_ID, NULL, 0, -(CITIZEN_SECONDS - 120), 0), 0);
	assert_int_equal(info(fx, CIT1_ID).allowance_seconds, 60);
	assert_granted(reserve(fx, "nat-2", 0, CIT1, "national"), 60);
	c = info(fx, CIT1_ID);
	assert_int_equal(c.allowance_seconds, 0);
	assert_int_equal(money(c, "KPW"), 5000);
	assert_granted(reserve(fx, "nat-2", 1, CIT1, "national"), 60);
	c = info(fx, CIT1_ID);
	assert_int_equal(c.allowance_seconds, 0);
	assert_int_equal(money(c, "KPW"), 5000 - NATIONAL_KPW_MIN);
	/* 70 s used: two minutes charged (the free one and a paid one). */
	assert_granted(call_end(fx, "nat-2", 70), 120);
	r = cdr_of(fx, "nat-2");
	assert_int_equal(r.seconds, 120);
	assert_int_equal(r.allowance_seconds, 60);
	assert_int_equal(r.amount, NATIONAL_KPW_MIN);

	/* Another call with no free minutes left: paid; 20 s used of two slices:
	 * the paid minute of the second slice goes back as money. */
	assert_granted(reserve(fx, "nat-3", 0, CIT1, "national"), 60);
	assert_granted(reserve(fx, "nat-3", 1, CIT1, "national"), 60);
	assert_int_equal(money(info(fx, CIT1_ID), "KPW"), 5000 - 3 * NATIONAL_KPW_MIN);
	assert_granted(call_end(fx, "nat-3", 20), 60);
	c = info(fx, CIT1_ID);
	assert_int_equal(money(c, "KPW"), 5000 - 2 * NATIONAL_KPW_MIN);
	assert_int_equal(c.allowance_seconds, 0);

	/* Given back last slice first, money before allowance: a call whose
	 * first slice was free and second paid, 30 s used, costs nothing. */
	assert_granted(adjust(fx, "minutes-2", CIT1_ID, NULL, 0, 60, 0), 0);
	assert_granted(reserve(fx, "nat-4", 0, CIT1, "national"), 60);
	assert_granted(reserve(fx, "nat-4", 1, CIT1, "national"), 60);
	assert_granted(call_end(fx, "nat-4", 30), 60);
	c = info(fx, CIT1_ID);
	assert_int_equal(money(c, "KPW"), 5000 - 2 * NATIONAL_KPW_MIN);
	assert_int_equal(c.allowance_seconds, 0);
	assert_int_equal(cdr_of(fx, "nat-4").amount, 0);

	/* Short codes are free and take no allowance. */
	assert_granted(adjust(fx, "minutes-3", CIT1_ID, NULL, 0, 600, 0), 0);
	assert_granted(reserve(fx, "short-1", 0, CIT1, "short_code"), 60);
	assert_granted(call_end(fx, "short-1", 59), 60);
	c = info(fx, CIT1_ID);
	assert_int_equal(c.allowance_seconds, 600);
	assert_int_equal(money(c, "KPW"), 5000 - 2 * NATIONAL_KPW_MIN);

	assert_ledger_is_balance(fx, CIT1_ID);
}

static void test_no_credit_refused(void **state)
{
	struct fx *fx = *state;
	/* The foreigner's EUR 20.00 spent by an adjustment down to EUR 0.00. */
	assert_granted(adjust(fx, "spend", FOR1_ID, "EUR", -2000, 0, 0), 0);
	struct ocs_grant g = reserve(fx, "broke-1", 0, FOR1, "international");
	assert_refused(&g, -EDQUOT,
	               "Not enough credit: calls to international cost EUR 1.50 a minute.");
	assert_int_equal(g.seconds, 0);
	assert_int_equal(count_rows(fx, FOR1_ID, "reserve", NULL), 0);
	assert_int_equal(info(fx, FOR1_ID).open_calls, 0);
	/* The refusal is not remembered: once there is credit, the same call
	 * goes through. EUR 1.00 pays one 30 s unit of a 60 s slice. */
	assert_granted(adjust(fx, "credit", FOR1_ID, "EUR", 100, 0, 0), 0);
	assert_granted(reserve(fx, "broke-1", 0, FOR1, "international"), 30);
	assert_int_equal(money(info(fx, FOR1_ID), "EUR"), 25);
	g = reserve(fx, "broke-1", 1, FOR1, "international");
	assert_refused(&g, -EDQUOT, "Not enough credit");
	assert_granted(call_end(fx, "broke-1", 30), 30);
	/* No money still allows a free short code. */
	assert_granted(reserve(fx, "broke-2", 0, FOR1, "short_code"), 60);
	assert_granted(call_end(fx, "broke-2", 5), 30);

	/* A citizen may not call abroad at all. */
	g = reserve(fx, "abroad", 0, CIT1, "international");
	assert_refused(&g, -EACCES, "Your plan does not allow calls to international numbers.");
	/* A citizen with no free minutes and no money. */
	assert_granted(adjust(fx, "no-minutes", CIT1_ID, NULL, 0, -CITIZEN_SECONDS, 0), 0);
	g = reserve(fx, "broke-3", 0, CIT1, "national");
	assert_refused(&g, -EDQUOT, "Not enough credit: calls to national cost KPW 100 a minute.");
	/* An official line whose cap is used up. */
	assert_granted(adjust(fx, "cap", OFF1_ID, NULL, 0, -300 * 60, 0), 0);
	g = reserve(fx, "capped", 0, OFF1, "national");
	assert_refused(&g, -EDQUOT, "Your monthly allowance of minutes is used up.");
	/* Nobody's IMSI. */
	g = reserve(fx, "ghost", 0, 467050000000999ULL, "national");
	assert_refused(&g, -ENOENT, "This number has no account.");

	assert_ledger_is_balance(fx, FOR1_ID);
	assert_ledger_is_balance(fx, CIT1_ID);
}

/* --- SMS ------------------------------------------------------------------------------- */

static void test_sms(void **state)
{
	struct fx *fx = *state;
	/* A citizen's SMS comes from the month's 100. */
	assert_int_equal(sms(fx, "msg-1", CIT1, "national").status, 0);
	struct ocs_account_info c = info(fx, CIT1_ID);
	assert_int_equal(c.allowance_sms, CITIZEN_SMS - 1);
	assert_int_equal(money(c, "KPW"), 0);
	struct ocs_cdr r = cdr_of(fx, "msg-1");
	assert_int_equal(r.seconds, 1);
	assert_int_equal(r.allowance_sms, 1);
	assert_int_equal(r.amount, 0);

	/* A foreigner's SMS abroad costs EUR 0.25. */
	assert_int_equal(sms(fx, "msg-2", FOR1, "international").status, 0);
	assert_int_equal(money(info(fx, FOR1_ID), "EUR"), FOREIGNER_INITIAL - INTL_EUR_SMS);
	r = cdr_of(fx, "msg-2");
	assert_int_equal(r.amount, INTL_EUR_SMS);
	assert_int_equal(r.allowance_sms, 0);

	/* Out of free SMS and money: refused with the price. */
	assert_granted(adjust(fx, "no-sms", CIT1_ID, NULL, 0, 0, -(CITIZEN_SMS - 1)), 0);
	struct ocs_grant g = sms(fx, "msg-3", CIT1, "national");
	assert_refused(&g, -EDQUOT, "Not enough credit: a message to national costs KPW 30.");
	/* With money, the SMS is paid. */
	assert_granted(adjust(fx, "some-won", CIT1_ID, "KPW", 100, 0, 0), 0);
	assert_int_equal(sms(fx, "msg-3", CIT1, "national").status, 0);
	assert_int_equal(money(info(fx, CIT1_ID), "KPW"), 70);
	/* A citizen may not text abroad. */
	g = sms(fx, "msg-4", CIT1, "international");
	assert_refused(&g, -EACCES, "Your plan does not allow messages to international numbers.");

	assert_ledger_is_balance(fx, CIT1_ID);
	assert_ledger_is_balance(fx, FOR1_ID);
}

/* --- idempotency -------------------------------------------------------------------------- */

static void assert_same_grant(const struct ocs_grant *a, const struct ocs_grant *b)
{
	assert_int_equal(a->status, b->status);
	assert_int_equal(a->seconds, b->seconds);
	assert_string_equal(a->reason, b->reason);
}

static void test_same_op_twice(void **state)
{
	struct fx *fx = *state;
	struct ocs_grant a1 = adjust(fx, "adj-7", FOR1_ID, "EUR", 500, 0, 0);
	struct ocs_grant a2 = adjust(fx, "adj-7", FOR1_ID, "EUR", 500, 0, 0);
	assert_same_grant(&a1, &a2);
	assert_int_equal(money(info(fx, FOR1_ID), "EUR"), FOREIGNER_INITIAL + 500);
	/* The same id with other terms is still the first operation. */
	struct ocs_grant a3 = adjust(fx, "adj-7", FOR1_ID, "EUR", 9999, 0, 0);
	assert_same_grant(&a1, &a3);
	assert_int_equal(money(info(fx, FOR1_ID), "EUR"), FOREIGNER_INITIAL + 500);

	struct ocs_grant s1 = sms(fx, "sms-7", FOR1, "international");
	struct ocs_grant s2 = sms(fx, "sms-7", FOR1, "international");
	assert_same_grant(&s1, &s2);
	assert_int_equal(count_rows(fx, FOR1_ID, "sms", "sms-7"), 1);

	struct ocs_grant r1 = reserve(fx, "call-7", 0, FOR1, "international");
	struct ocs_grant r2 = reserve(fx, "call-7", 0, FOR1, "international");
	assert_same_grant(&r1, &r2);
	assert_int_equal(count_rows(fx, FOR1_ID, "reserve", "call-7"), 1);
	struct ocs_grant e1 = call_end(fx, "call-7", 40);
	struct ocs_grant e2 = call_end(fx, "call-7", 40);
	assert_same_grant(&e1, &e2);
	assert_int_equal(e1.seconds, 60);
	assert_int_equal(count_rows(fx, FOR1_ID, "call_end", "call-7"), 1);

	int64_t want = FOREIGNER_INITIAL + 500 - INTL_EUR_SMS - 150;
	assert_int_equal(money(info(fx, FOR1_ID), "EUR"), want);

	/* After a restart the ids are still known: nothing moves again. */
	restart(fx);
	assert_int_equal(adjust(fx, "adj-7", FOR1_ID, "EUR", 500, 0, 0).status, 0);
	assert_int_equal(sms(fx, "sms-7", FOR1, "international").status, 0);
	assert_granted(reserve(fx, "call-7", 0, FOR1, "international"), 60);
	assert_granted(call_end(fx, "call-7", 40), 60);
	assert_int_equal(money(info(fx, FOR1_ID), "EUR"), want);
	assert_int_equal(count_rows(fx, FOR1_ID, "adjust", NULL), 1);
	assert_int_equal(count_rows(fx, FOR1_ID, "sms", NULL), 1);
	assert_int_equal(count_rows(fx, FOR1_ID, "reserve", NULL), 1);
	assert_int_equal(count_rows(fx, FOR1_ID, "call_end", NULL), 1);

	/* Beyond the two days memory keeps them, the ledger still refuses the
	 * id: answered as done before, and nothing moves. */
	set_time(utc(2031, 2, 20, 12, 0));
	assert_true(ocs_run_schedule(fx->o) >= 0);
	struct ocs_grant late = adjust(fx, "adj-7", FOR1_ID, "EUR", 500, 0, 0);
	assert_int_equal(late.status, 0);
	assert_non_null(strstr(late.reason, "carried out before"));
	assert_int_equal(money(info(fx, FOR1_ID), "EUR"), want);
	assert_int_equal(count_rows(fx, FOR1_ID, "adjust", NULL), 1);
	assert_ledger_is_balance(fx, FOR1_ID);
}

/* --- the ledger and restarts ---------------------------------------------------------------- */

static void some_of_everything(struct fx *fx)
{
	assert_granted(adjust(fx, "mix-1", CIT1_ID, "KPW", 4000, 0, 0), 0);
	assert_granted(adjust(fx, "mix-2", CIT2_ID, "EUR", 300, 0, 0), 0);
	assert_granted(reserve(fx, "mix-c1", 0, CIT1, "national"), 60);
	assert_granted(reserve(fx, "mix-c1", 1, CIT1, "national"), 60);
	assert_granted(call_end(fx, "mix-c1", 61), 120);
	assert_granted(reserve(fx, "mix-c2", 0, FOR1, "international"), 60);
	assert_granted(call_end(fx, "mix-c2", 10), 30);
	assert_granted(reserve(fx, "mix-c3", 0, FOR1, "class:foreigner"), 60);
	assert_granted(call_end(fx, "mix-c3", 31), 60);
	assert_granted(reserve(fx, "mix-c4", 0, OFF1, "class:citizen"), 60);
	assert_granted(call_end(fx, "mix-c4", 1), 60);
	assert_int_equal(sms(fx, "mix-s1", CIT1, "class:citizen").status, 0);
	assert_int_equal(sms(fx, "mix-s2", CIT2, "national").status, 0);
	assert_int_equal(sms(fx, "mix-s3", FOR1, "class:foreigner").status, 0);
	assert_int_equal(sms(fx, "mix-s4", OFF1, "national").status, 0);
	assert_granted(adjust(fx, "mix-3", FOR1_ID, "USD", 1000, 0, 0), 0);
	assert_granted(adjust(fx, "mix-4", "org:POLICE", "KPW", 1500, 0, 0), 0);
}

static void assert_same_account(const struct ocs_account_info *a, const struct ocs_account_info *b)
{
	assert_string_equal(a->account, b->account);
	assert_string_equal(a->plan, b->plan);
	assert_int_equal(a->n_balances, b->n_balances);
	for (unsigned k = 0; k < a->n_balances; k++) {
		assert_string_equal(a->balances[k].currency, b->balances[k].currency);
		assert_int_equal(a->balances[k].amount, b->balances[k].amount);
	}
	assert_int_equal(a->allowance_seconds, b->allowance_seconds);
	assert_int_equal(a->allowance_sms, b->allowance_sms);
	assert_int_equal(a->allowance_valid_until, b->allowance_valid_until);
}

static void test_ledger_is_balances(void **state)
{
	struct fx *fx = *state;
	some_of_everything(fx);
	/* Values an operator can recompute by hand. */
	struct ocs_account_info c1 = info(fx, CIT1_ID);
	assert_int_equal(money(c1, "KPW"), 4000);
	assert_int_equal(c1.allowance_seconds, CITIZEN_SECONDS - 120);
	assert_int_equal(c1.allowance_sms, CITIZEN_SMS - 1);
	struct ocs_account_info f1 = info(fx, FOR1_ID);
	/* 30 s abroad (EUR 0.75), 60 s to a foreigner (EUR 0.20), one SMS to a
	 * foreigner (EUR 0.10). */
	assert_int_equal(money(f1, "EUR"), FOREIGNER_INITIAL - 75 - 20 - 10);
	assert_int_equal(money(f1, "USD"), 1000);
	struct ocs_account_info org = info(fx, "org:POLICE");
	assert_int_equal(money(org, "KPW"), 0);

	const char *const accounts[] = {CIT1_ID, CIT2_ID, FOR1_ID, OFF1_ID, "org:POLICE"};
	for (size_t i = 0; i < sizeof(accounts) / sizeof(*accounts); i++)
		assert_ledger_is_balance(fx, accounts[i]);

	/* The whole ledger: seq strictly increasing, every op id once. */
	struct rows rs = ledger(fx, NULL);
	assert_true(rs.n > 20);
	for (size_t i = 1; i < rs.n; i++) {
		assert_true(rs.v[i].seq > rs.v[i - 1].seq);
		for (size_t j = 0; j < i; j++)
			if (strcmp(rs.v[i].op_id, rs.v[j].op_id) == 0)
				fail_msg("op id %s twice in the ledger", rs.v[i].op_id);
	}
	free(rs.v);
}

static void test_restart_restores_balances(void **state)
{
	struct fx *fx = *state;
	some_of_everything(fx);
	const char *const accounts[] = {CIT1_ID, CIT2_ID, FOR1_ID, OFF1_ID, "org:POLICE"};
	enum { N = sizeof(accounts) / sizeof(*accounts) };
	struct ocs_account_info before[N];
	for (size_t i = 0; i < N; i++)
		before[i] = info(fx, accounts[i]);
	struct rows rs0 = ledger(fx, NULL);

	restart(fx);
	/* The audit compares every account loaded from the ledger with the
	 * ledger before anything touches it. */
	unsigned checked = 0;
	assert_int_equal(ocs_audit(fx->o, &checked), 0);
	assert_int_equal(checked, N);
	for (size_t i = 0; i < N; i++) {
		struct ocs_account_info after = info(fx, accounts[i]);
		assert_same_account(&before[i], &after);
	}
	/* Opening wrote nothing: no second initial credit or period. */
	struct rows rs1 = ledger(fx, NULL);
	assert_int_equal(rs1.n, rs0.n);
	free(rs0.v);
	free(rs1.v);

	/* Charging goes on from there, with new sequence numbers. */
	assert_int_equal(sms(fx, "after-restart", CIT1, "national").status, 0);
	assert_int_equal(info(fx, CIT1_ID).allowance_sms, before[0].allowance_sms - 1);
	for (size_t i = 0; i < N; i++)
		assert_ledger_is_balance(fx, accounts[i]);
}

static void test_open_call_settled_at_restart(void **state)
{
	struct fx *fx = *state;
	assert_granted(reserve(fx, "killed-1", 0, CIT1, "national"), 60);
	assert_granted(reserve(fx, "killed-1", 1, CIT1, "national"), 60);
	assert_granted(reserve(fx, "killed-2", 0, FOR1, "international"), 60);
	assert_int_equal(info(fx, CIT1_ID).open_calls, 1);
	int64_t eur = money(info(fx, FOR1_ID), "EUR");

	restart(fx);
	/* Both calls were charged as used: all that was reserved. */
	struct ocs_account_info c = info(fx, CIT1_ID);
	assert_int_equal(c.allowance_seconds, CITIZEN_SECONDS - 120);
	assert_int_equal(c.open_calls, 0);
	assert_int_equal(money(info(fx, FOR1_ID), "EUR"), eur);
	assert_int_equal(eur, FOREIGNER_INITIAL - 150);
	assert_int_equal(count_rows(fx, CIT1_ID, "call_end", "killed-1"), 1);
	assert_int_equal(count_rows(fx, FOR1_ID, "call_end", "killed-2"), 1);
	struct rows rs = ledger(fx, CIT1_ID);
	struct row last = rs.v[rs.n - 1];
	free(rs.v);
	assert_string_equal(last.kind, "call_end");
	assert_int_equal(last.quantity, 120);
	assert_non_null(strstr(last.reason, "settled at restart"));
	struct ocs_cdr r = cdr_of(fx, "killed-1");
	assert_int_equal(r.seconds, 120);
	assert_int_equal(r.allowance_seconds, 120);
	r = cdr_of(fx, "killed-2");
	assert_int_equal(r.seconds, 60);
	assert_int_equal(r.amount, 150);

	/* An end that comes late moves nothing; nor does a second restart. */
	struct ocs_grant g = call_end(fx, "killed-1", 5);
	assert_refused(&g, -ENOENT, "No such call.");
	assert_int_equal(info(fx, CIT1_ID).allowance_seconds, CITIZEN_SECONDS - 120);
	restart(fx);
	assert_int_equal(count_rows(fx, CIT1_ID, "call_end", "killed-1"), 1);
	assert_int_equal(info(fx, CIT1_ID).allowance_seconds, CITIZEN_SECONDS - 120);
	assert_ledger_is_balance(fx, CIT1_ID);
	assert_ledger_is_balance(fx, FOR1_ID);
}

/* --- top-up cards ------------------------------------------------------------------------------
 */

#define SALT "00112233445566778899aabbccddeeff"

/* Hashes pin as `koryo voucher gen` does: PBKDF2-HMAC-SHA256 under the
 * batch's salt. */
static void pin_hash(const char *pin, unsigned iterations, char out[65])
{
	uint8_t salt[16], h[32];
	assert_int_equal(hex_decode(SALT, salt, sizeof(salt)), 0);
	assert_int_equal(PKCS5_PBKDF2_HMAC(pin, (int)strlen(pin), salt, sizeof(salt),
	                                   (int)iterations, EVP_sha256(), sizeof(h), h),
	                 1);
	hex_encode(h, sizeof(h), out);
}

static void add_batch(struct fx *fx, const char *name, const char *cur, int64_t value,
                      int64_t expires_at, const char *const *serials, const char *const *pins,
                      size_t n)
{
	struct ocs_card cards[8];
	assert_true(n <= 8);
	for (size_t i = 0; i < n; i++) {
		snprintf(cards[i].serial, sizeof(cards[i].serial), "%s", serials[i]);
		pin_hash(pins[i], 1000, cards[i].pin_hash);
	}
	struct ocs_batch_new b = {.iterations = 1000,
	                          .value = value,
	                          .expires_at = expires_at,
	                          .cards = cards,
	                          .n_cards = n};
	snprintf(b.name, sizeof(b.name), "%s", name);
	snprintf(b.salt, sizeof(b.salt), "%s", SALT);
	snprintf(b.currency, sizeof(b.currency), "%s", cur);
	struct ocs_field_error err;
	int rc = ocs_batch_add(fx->o, &b, &err);
	if (rc != 0)
		fail_msg("batch %s: %d: %s: %s", name, rc, err.field, err.msg);
}

static void test_topup_cards(void **state)
{
	struct fx *fx = *state;
	int64_t now = clock_now();
	const char *serials[] = {"KL-0001", "KL-0002", "KL-0003"};
	const char *pins[] = {"11112222333344", "55556666777788", "99990000111122"};
	add_batch(fx, "feb31", "KPW", 5000, now + 30 * 86400, serials, pins, 3);

	/* A PIN no card has. */
	struct ocs_grant g = topup(fx, "t-1", CIT1, "12345678901234");
	assert_refused(&g, -ENOENT, "No top-up card has this PIN.");
	assert_int_equal(money(info(fx, CIT1_ID), "KPW"), 0);

	/* The right PIN: credited once. */
	g = topup(fx, "t-2", CIT1, pins[0]);
	assert_int_equal(g.status, 0);
	assert_string_equal(g.reason, "Credited KPW 5,000; balance KPW 5,000");
	assert_int_equal(money(info(fx, CIT1_ID), "KPW"), 5000);
	struct rows rs = ledger(fx, CIT1_ID);
	struct row last = rs.v[rs.n - 1];
	free(rs.v);
	assert_string_equal(last.kind, "topup");
	assert_string_equal(last.session, "KL-0001");
	assert_int_equal(last.amount, 5000);

	/* The same request again: the first answer, nothing more. */
	struct ocs_grant again = topup(fx, "t-2", CIT1, pins[0]);
	assert_same_grant(&g, &again);
	/* The same card again, by anyone: refused. */
	g = topup(fx, "t-3", CIT1, pins[0]);
	assert_refused(&g, -EALREADY, "already been redeemed");
	g = topup(fx, "t-4", CIT2, pins[0]);
	assert_refused(&g, -EALREADY, "already been redeemed");
	assert_int_equal(money(info(fx, CIT1_ID), "KPW"), 5000);
	assert_int_equal(money(info(fx, CIT2_ID), "KPW"), 0);
	assert_int_equal(count_rows(fx, NULL, "topup", NULL), 1);

	/* Five wrong PINs (one not even digits), then even the right one is
	 * refused for a quarter of an hour. */
	const char *wrong[] = {"00000000", "00000001", "12ab5678", "00000003", "00000004"};
	for (size_t i = 0; i < 5; i++) {
		char op[16];
		snprintf(op, sizeof(op), "w-%zu", i);
		g = topup(fx, op, CIT2, wrong[i]);
		assert_refused(&g, -ENOENT, "No top-up card has this PIN.");
	}
	g = topup(fx, "w-right", CIT2, pins[1]);
	assert_refused(&g, -EAGAIN, "Too many wrong PINs: try again after");
	assert_int_equal(money(info(fx, CIT2_ID), "KPW"), 0);
	/* Another subscriber is not held up. */
	assert_int_equal(topup(fx, "f-1", FOR1, pins[2]).status, 0);
	assert_int_equal(money(info(fx, FOR1_ID), "KPW"), 5000);
	/* Fifteen minutes later the card goes through. */
	set_time(now + 16 * 60);
	g = topup(fx, "w-right", CIT2, pins[1]);
	assert_int_equal(g.status, 0);
	assert_int_equal(money(info(fx, CIT2_ID), "KPW"), 5000);

	/* A card of a batch that expired. */
	const char *s2[] = {"KL-0100"};
	const char *p2[] = {"31415926535897"};
	add_batch(fx, "shortlived", "EUR", 1000, clock_now() + 86400, s2, p2, 1);
	set_time(now + 2 * 86400);
	g = topup(fx, "x-1", FOR1, p2[0]);
	assert_refused(&g, -ESTALE, "This card expired on 2031-02-11.");
	assert_int_equal(money(info(fx, FOR1_ID), "EUR"), FOREIGNER_INITIAL);

	/* A batch cannot be made already expired, nor uploaded twice with other
	 * terms. */
	struct ocs_card card = {.serial = "KL-0200"};
	pin_hash("27182818284590", 1000, card.pin_hash);
	struct ocs_batch_new old = {.name = "old",
	                            .salt = SALT,
	                            .iterations = 1000,
	                            .currency = "KPW",
	                            .value = 10,
	                            .expires_at = clock_now() - 1,
	                            .cards = &card,
	                            .n_cards = 1};
	struct ocs_field_error err;
	assert_int_equal(ocs_batch_add(fx->o, &old, &err), -EINVAL);
	assert_string_equal(err.field, "expires");
	old.expires_at = clock_now() + 86400;
	snprintf(old.name, sizeof(old.name), "feb31");
	assert_int_equal(ocs_batch_add(fx->o, &old, &err), -EEXIST);

	/* After a restart a redeemed card stays redeemed. */
	restart(fx);
	g = topup(fx, "t-5", CIT2, pins[0]);
	assert_refused(&g, -EALREADY, "already been redeemed");
	assert_ledger_is_balance(fx, CIT1_ID);
	assert_ledger_is_balance(fx, CIT2_ID);
	assert_ledger_is_balance(fx, FOR1_ID);
}

/* --- the schedule ----------------------------------------------------------------------------- */

/* Uses seconds of the citizen's free minutes in one call. */
static void use_minutes(struct fx *fx, const char *session, uint64_t imsi, uint32_t seconds)
{
	unsigned slices = (seconds + 59) / 60;
	for (unsigned s = 0; s < slices; s++)
		assert_granted(reserve(fx, session, s, imsi, "national"), 60);
	assert_granted(call_end(fx, session, seconds), slices * 60);
}

static void test_month_rollover(void **state)
{
	struct fx *fx = *state;
	assert_int_equal(info(fx, OFF1_ID).allowance_seconds, 300 * 60);
	use_minutes(fx, "feb-call", CIT1, 300);
	assert_int_equal(sms(fx, "feb-sms-1", CIT1, "national").status, 0);
	assert_int_equal(sms(fx, "feb-sms-2", CIT1, "national").status, 0);
	struct ocs_account_info c = info(fx, CIT1_ID);
	assert_int_equal(c.allowance_seconds, CITIZEN_SECONDS - 300);
	assert_int_equal(c.allowance_sms, CITIZEN_SMS - 2);
	/* CIT2 used nothing in February. */
	assert_int_equal(info(fx, CIT2_ID).allowance_seconds, CITIZEN_SECONDS);

	/* 1 March: the allowance is renewed to the plan's, and what was left of
	 * February is not carried over. No fee: the quarter began in January. */
	set_time(utc(2031, 3, 1, 0, 5));
	int n = ocs_run_schedule(fx->o);
	assert_true(n >= 3); /* the two citizens and the official line at least */
	c = info(fx, CIT1_ID);
	assert_int_equal(c.allowance_seconds, CITIZEN_SECONDS);
	assert_int_equal(c.allowance_sms, CITIZEN_SMS);
	assert_int_equal(c.allowance_valid_until, utc(2031, 4, 1, 0, 0));
	assert_int_equal(money(c, "KPW"), 0);
	struct row p = period_row(fx, CIT1_ID, "2031-03");
	assert_int_equal(p.seconds, 300);
	assert_int_equal(p.sms, 2);
	assert_int_equal(p.amount, 0);
	assert_non_null(strstr(p.reason, "the rest of last month expired"));
	struct ocs_account_info c2 = info(fx, CIT2_ID);
	assert_int_equal(c2.allowance_seconds, CITIZEN_SECONDS);
	assert_int_equal(c2.allowance_sms, CITIZEN_SMS);
	assert_int_equal(period_row(fx, CIT2_ID, "2031-03").seconds, 0);
	assert_int_equal(fee_rows(fx, CIT1_ID), 1);

	/* The schedule again in the same month: nothing. */
	assert_int_equal(ocs_run_schedule(fx->o), 0);
	assert_int_equal(count_rows(fx, CIT1_ID, "period", NULL), 2);

	/* The official line's cap is renewed and its organisation pays again. */
	assert_int_equal(info(fx, OFF1_ID).allowance_seconds, 300 * 60);
	assert_int_equal(money(info(fx, "org:POLICE"), "KPW"), -2 * OFFICIAL_FEE);

	/* Free minutes reserved in March and given back in March return. */
	assert_granted(reserve(fx, "mar-call", 0, CIT1, "national"), 60);
	assert_granted(call_end(fx, "mar-call", 0), 0);
	assert_int_equal(info(fx, CIT1_ID).allowance_seconds, CITIZEN_SECONDS);
	/* A call across the month's end, renewed meanwhile: the free minute
	 * reserved in March and not used expired with March; it is not added
	 * to April's. April begins a quarter: savings pay its fee. */
	assert_granted(adjust(fx, "savings", CIT1_ID, "KPW", 10000, 0, 0), 0);
	set_time(utc(2031, 3, 31, 23, 59));
	assert_granted(reserve(fx, "late-call", 0, CIT1, "national"), 60);
	assert_int_equal(info(fx, CIT1_ID).allowance_seconds, CITIZEN_SECONDS - 60);
	set_time(utc(2031, 4, 1, 0, 0) + 30);
	assert_true(ocs_run_schedule(fx->o) > 0);
	assert_int_equal(info(fx, CIT1_ID).allowance_seconds, CITIZEN_SECONDS);
	assert_granted(call_end(fx, "late-call", 0), 0);
	c = info(fx, CIT1_ID);
	assert_int_equal(c.allowance_seconds, CITIZEN_SECONDS);
	assert_int_equal(money(c, "KPW"), 10000 - CITIZEN_FEE);

	/* A restart in the same month changes nothing. */
	struct rows before = ledger(fx, NULL);
	restart(fx);
	assert_true(ocs_run_schedule(fx->o) >= 0);
	struct rows after = ledger(fx, NULL);
	assert_int_equal(after.n, before.n);
	free(before.v);
	free(after.v);
	assert_ledger_is_balance(fx, CIT1_ID);
	assert_ledger_is_balance(fx, CIT2_ID);
	assert_ledger_is_balance(fx, OFF1_ID);
	assert_ledger_is_balance(fx, "org:POLICE");
}

static void test_quarter_rollover(void **state)
{
	struct fx *fx = *state;
	/* CIT1 can pay the next fee; CIT2 cannot. */
	assert_granted(adjust(fx, "savings", CIT1_ID, "KPW", 10000, 0, 0), 0);
	assert_int_equal(fee_rows(fx, CIT1_ID), 1);

	/* March: no fee. */
	set_time(utc(2031, 3, 15, 9, 0));
	assert_true(ocs_run_schedule(fx->o) > 0);
	assert_int_equal(fee_rows(fx, CIT1_ID), 1);
	assert_int_equal(money(info(fx, CIT1_ID), "KPW"), 10000);

	/* 1 April, a new quarter: the fee again, once, though the schedule runs
	 * twice and the account is read in between. */
	set_time(utc(2031, 4, 1, 0, 1));
	assert_true(ocs_run_schedule(fx->o) > 0);
	struct ocs_account_info c = info(fx, CIT1_ID);
	assert_int_equal(ocs_run_schedule(fx->o), 0);
	assert_int_equal(fee_rows(fx, CIT1_ID), 2);
	assert_int_equal(money(c, "KPW"), 10000 - CITIZEN_FEE);
	assert_int_equal(c.allowance_seconds, CITIZEN_SECONDS);
	struct row p = period_row(fx, CIT1_ID, "2031-04");
	assert_int_equal(p.amount, -CITIZEN_FEE);
	assert_non_null(strstr(p.reason, "citizen_basic for 2031-04: fee KPW 3,000"));

	/* CIT2 had nothing: the fee puts the account in debt, and a month in
	 * debt has no free minutes; a call is refused. */
	struct ocs_account_info c2 = info(fx, CIT2_ID);
	assert_int_equal(money(c2, "KPW"), -CITIZEN_FEE);
	assert_int_equal(c2.allowance_seconds, 0);
	assert_int_equal(c2.allowance_sms, 0);
	assert_non_null(strstr(period_row(fx, CIT2_ID, "2031-04").reason, "in debt"));
	struct ocs_grant g = reserve(fx, "debtor", 0, CIT2, "national");
	assert_refused(&g, -EDQUOT, "Not enough credit");

	/* A restart and another run later in April: still once. */
	set_time(utc(2031, 4, 20, 12, 0));
	restart(fx);
	assert_true(ocs_run_schedule(fx->o) >= 0);
	assert_int_equal(ocs_run_schedule(fx->o), 0);
	assert_int_equal(fee_rows(fx, CIT1_ID), 2);
	assert_int_equal(money(info(fx, CIT1_ID), "KPW"), 10000 - CITIZEN_FEE);

	/* May and June belong to the same quarter: renewals, no fee. */
	set_time(utc(2031, 5, 2, 8, 0));
	assert_true(ocs_run_schedule(fx->o) > 0);
	set_time(utc(2031, 6, 2, 8, 0));
	restart(fx);
	assert_true(ocs_run_schedule(fx->o) > 0);
	assert_int_equal(fee_rows(fx, CIT1_ID), 2);
	assert_int_equal(period_row(fx, CIT1_ID, "2031-06").amount, 0);

	/* July: the third quarter's fee. */
	set_time(utc(2031, 7, 1, 6, 0));
	assert_true(ocs_run_schedule(fx->o) > 0);
	assert_int_equal(ocs_run_schedule(fx->o), 0);
	assert_int_equal(fee_rows(fx, CIT1_ID), 3);
	assert_int_equal(money(info(fx, CIT1_ID), "KPW"), 10000 - 2 * CITIZEN_FEE);
	/* CIT2, still in debt, owes a second fee. */
	assert_int_equal(money(info(fx, CIT2_ID), "KPW"), -2 * CITIZEN_FEE);

	assert_ledger_is_balance(fx, CIT1_ID);
	assert_ledger_is_balance(fx, CIT2_ID);
}

/* koryod stopped from February until after April began: the quarter that
 * began on 1 April is still charged, once, when it starts again in May. */
static void test_quarter_fee_after_a_stop(void **state)
{
	struct fx *fx = *state;
	assert_granted(adjust(fx, "savings", CIT1_ID, "KPW", 10000, 0, 0), 0);
	charging_close(fx);
	registry_fixture_reopen(&fx->rf);
	set_time(utc(2031, 5, 12, 10, 0));
	charging_open(fx);
	assert_true(ocs_run_schedule(fx->o) > 0);
	assert_int_equal(fee_rows(fx, CIT1_ID), 2);
	assert_int_equal(period_row(fx, CIT1_ID, "2031-05").amount, -CITIZEN_FEE);
	assert_int_equal(count_rows(fx, CIT1_ID, "period", "2031-03"), 0);
	assert_int_equal(count_rows(fx, CIT1_ID, "period", "2031-04"), 0);
	struct ocs_account_info c = info(fx, CIT1_ID);
	assert_int_equal(money(c, "KPW"), 10000 - CITIZEN_FEE);
	assert_int_equal(c.allowance_seconds, CITIZEN_SECONDS);

	/* June: the same quarter, no fee. */
	set_time(utc(2031, 6, 1, 0, 0));
	restart(fx);
	assert_true(ocs_run_schedule(fx->o) > 0);
	assert_int_equal(fee_rows(fx, CIT1_ID), 2);
	assert_ledger_is_balance(fx, CIT1_ID);
}

/* --- organisations' caps ---------------------------------------------------------- */

/* Official lines of two organisations of profiles/koryolink/organisations.csv
 * (OFF1's POLICE has no row there and keeps the plan's 300 minutes). */
#define WPK1_ID          "467050000000302"
#define CC1_ID           "467050000000303"
#define WPK_CSV_SECONDS  (1000 * 60)
#define WPK_CSV_SMS      300
#define CC_CSV_SECONDS   (200 * 60)
#define CC_CSV_SMS       50
#define OFFICIAL_SECONDS (300 * 60)
#define OFFICIAL_SMS     100

static void assert_allowance(struct fx *fx, const char *account, int64_t seconds, int64_t nsms)
{
	struct ocs_account_info i = info(fx, account);
	if (i.allowance_seconds != seconds || i.allowance_sms != nsms)
		fail_msg("%s: expected %" PRId64 " s and %" PRId64 " SMS, got %" PRId64
		         " s and %" PRId64 " SMS",
		         account, seconds, nsms, i.allowance_seconds, i.allowance_sms);
}

static void test_organisation_caps(void **state)
{
	struct fx *fx = *state;
	create_sub(fx, WPK1_ID, "official", "OFF-WPK-0001");
	create_sub(fx, CC1_ID, "official", "OFF-CC-0001");

	/* Opening: each line gets its organisation's cap, not the plan's. */
	assert_allowance(fx, WPK1_ID, WPK_CSV_SECONDS, WPK_CSV_SMS);
	assert_allowance(fx, CC1_ID, CC_CSV_SECONDS, CC_CSV_SMS);
	assert_allowance(fx, OFF1_ID, OFFICIAL_SECONDS, OFFICIAL_SMS);
	assert_non_null(strstr(period_row(fx, WPK1_ID, "2031-02").reason, "(cap of WPK)"));
	struct ocs_org_info g;
	assert_int_equal(ocs_org_get(fx->o, "CC", &g), 0);
	assert_int_equal(g.allowance_seconds, CC_CSV_SECONDS);
	assert_int_equal(ocs_org_get(fx->o, "POLICE", &g), -ENOENT);

	/* The operator changes WPK's cap and gives POLICE one. Bad values are
	 * refused naming the field, and change nothing. */
	struct ocs_field_error err;
	assert_int_equal(ocs_org_set(fx->o, "WPK", 700, 250, "changed", &err), 0);
	assert_int_equal(ocs_org_set(fx->o, "POLICE", 50, 10, "", &err), 1);
	assert_int_equal(ocs_org_set(fx->o, "wpk", 1, 1, "", &err), -EINVAL);
	assert_string_equal(err.field, "name");
	assert_int_equal(ocs_org_set(fx->o, "CC", 1000001, 1, "", &err), -EINVAL);
	assert_string_equal(err.field, "monthly_minutes");
	assert_int_equal(ocs_org_set(fx->o, "CC", 1, -1, "", &err), -EINVAL);
	assert_string_equal(err.field, "monthly_sms");
	assert_int_equal(ocs_org_get(fx->o, "CC", &g), 0);
	assert_int_equal(g.allowance_seconds, CC_CSV_SECONDS);

	/* February's allowances stay what their period rows gave. */
	assert_allowance(fx, WPK1_ID, WPK_CSV_SECONDS, WPK_CSV_SMS);
	assert_allowance(fx, OFF1_ID, OFFICIAL_SECONDS, OFFICIAL_SMS);

	/* The caps are in the store: a restart keeps them. */
	restart(fx);
	assert_int_equal(ocs_org_get(fx->o, "WPK", &g), 0);
	assert_int_equal(g.allowance_seconds, 700 * 60);
	assert_int_equal(g.allowance_sms, 250);
	assert_string_equal(g.description, "changed");

	/* 1 March: the new caps, the unchanged one, and the new one. */
	set_time(utc(2031, 3, 1, 0, 5));
	assert_true(ocs_run_schedule(fx->o) >= 3);
	assert_allowance(fx, WPK1_ID, 700 * 60, 250);
	assert_allowance(fx, CC1_ID, CC_CSV_SECONDS, CC_CSV_SMS);
	assert_allowance(fx, OFF1_ID, 50 * 60, 10);
	struct row p = period_row(fx, WPK1_ID, "2031-03");
	assert_int_equal(p.seconds, 700 * 60 - WPK_CSV_SECONDS);
	assert_non_null(strstr(p.reason, "700 free minutes and 250 free SMS (cap of WPK)"));
	/* The organisation still pays the plan's fee for each line. */
	assert_int_equal(money(info(fx, "org:WPK"), "KPW"), -2 * OFFICIAL_FEE);
	assert_ledger_is_balance(fx, WPK1_ID);
	assert_ledger_is_balance(fx, CC1_ID);
	assert_ledger_is_balance(fx, OFF1_ID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_open_account, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_call_charged_by_unit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_allowance_before_money, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_credit_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sms, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_same_op_twice, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ledger_is_balances, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_restart_restores_balances, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_call_settled_at_restart, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_topup_cards, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_month_rollover, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_quarter_rollover, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_quarter_fee_after_a_stop, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_organisation_caps, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
