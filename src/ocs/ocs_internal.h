#pragma once
/* Shared between the files of online charging: the context, accounts, the
 * operation table, the ledger writer. See docs/charging.md for the model.
 *
 * Locking. o->mu guards the maps (accounts, operations, sessions, wrong-PIN
 * counters) for lookups and inserts only. Each account has its own mutex that
 * guards its balances and its call sessions' slices; a credit decision is made
 * and its ledger row queued under it, so that two requests of one subscriber
 * never both spend the same money. o->submit_mu makes the ledger's sequence
 * numbers follow the order of the group commit. Order: account, then submit_mu;
 * o->mu is never held while another lock is taken. */

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "ocs/ocs.h"

#define OCS_MAX_CURRENCIES 8
#define OCS_OP_MAX         63
#define OCS_SESSION_MAX    255
#define OCS_ACCOUNT_MAX    24
#define OCS_DEST_MAX       40
#define OCS_REASON_MAX     160
/* Operations are remembered this long for idempotency (the store's unique
 * index still refuses an older duplicate). */
#define OCS_OP_WINDOW (2 * 86400)
/* Wrong PINs: at most OCS_PIN_TRIES per subscriber in OCS_PIN_WINDOW seconds. */
#define OCS_PIN_TRIES  5
#define OCS_PIN_WINDOW 900
/* A call slice lasts at least this long (rounded up to the charging unit). */
#define OCS_SLICE_SECONDS 60

struct ocs_currency {
	char code[4];
	int digits; /* minor units per major: 10^digits */
	char name[48];
};

struct ocs_plan {
	char name[32];
	char class_name[32]; /* "" when no class has it by default */
	char description[160];
	bool org_pays;
	int cur; /* the fee's currency (index), -1 none */
	int64_t fee;
	int fee_months; /* 0 none, else months per fee period (calendar aligned) */
	int64_t initial_credit;
	int64_t allow_seconds, allow_sms; /* per calendar month */
};

struct ocs_tariff {
	int plan;
	char dest[OCS_DEST_MAX];
	int cur; /* -1: covered by the allowance only */
	int rank;
	int64_t per_minute;
	uint32_t unit;
	int64_t per_sms;
	bool allowance;
};

struct ocs_slice {
	uint32_t a_units, m_units; /* charging units from the allowance, from money */
	int32_t allow_month;       /* the allowance month the units came from */
};

struct ocs_session {
	char id[OCS_SESSION_MAX + 1];
	char acct[OCS_ACCOUNT_MAX];
	char dest[OCS_DEST_MAX];
	uint32_t unit;
	int cur; /* money currency of the call, -1 until money is used */
	int64_t price_unit;
	struct ocs_slice *slices;
	unsigned n_slices;
	bool ending;
};

struct ocs_account {
	char id[OCS_ACCOUNT_MAX]; /* IMSI digits, or "org:NAME" */
	uint64_t imsi;            /* 0 for an organisation */
	pthread_mutex_t mu;
	int64_t money[OCS_MAX_CURRENCIES];
	int64_t allow_seconds, allow_sms;
	int32_t allow_month;  /* month index of the allowance, -1 none */
	int32_t period_month; /* the last month whose period row was written, -1 none */
	bool opened;          /* its initial credit (if any) is written */
	char org[16];         /* the organisation that pays (official lines) */
};

struct ocs_waiter {
	struct ocs_waiter *next;
	ocs_grant_fn fn;
	void *ctx;
};

struct ocs_op {
	char id[OCS_OP_MAX + 1];
	bool done;
	int64_t at;
	struct ocs_grant grant;
	struct ocs_waiter *waiters;
};

/* A string-keyed hash map (chained, grows by doubling). */
struct ocs_map_entry {
	struct ocs_map_entry *next;
	char *key;
	void *val;
};
struct ocs_map {
	struct ocs_map_entry **b;
	size_t nb, n;
};
void *ocs_map_get(struct ocs_map *m, const char *key);
int ocs_map_put(struct ocs_map *m, const char *key, void *val); /* 0 or -ENOMEM */
void *ocs_map_del(struct ocs_map *m, const char *key);
/* Calls fn for every value; fn may not change the map. */
void ocs_map_each(struct ocs_map *m, void (*fn)(void *ctx, void *val), void *ctx);
void ocs_map_free(struct ocs_map *m, void (*free_val)(void *val));

struct ocs_batch {
	char name[33];
	uint8_t salt[32];
	unsigned salt_len;
	unsigned iterations;
	int cur;
	int64_t value;
	int64_t expires_at;
	int64_t cards;
	int64_t uploaded_at;
};

/* An organisation's monthly cap (ocs_organisation). */
struct ocs_org {
	char name[OCS_ORG_NAME_MAX + 1];
	int64_t allow_seconds, allow_sms;
	char description[160];
	int64_t updated_at;
};

struct ocs_vjob;

struct ocs {
	struct store *st;
	struct store_queue *q;
	struct hlr_registry *reg;

	struct ocs_currency cur[OCS_MAX_CURRENCIES];
	unsigned n_cur;
	struct ocs_plan *plans;
	unsigned n_plans;
	struct ocs_tariff *tariffs; /* sorted by plan, destination, rank */
	unsigned n_tariffs;
	/* Caps per organisation, sorted by name; changed by the operator at any
	 * time, so read and written under mu. */
	struct ocs_org *orgs;
	unsigned n_orgs;

	pthread_mutex_t mu;
	struct ocs_map accounts;  /* id -> struct ocs_account */
	struct ocs_map ops;       /* op id -> struct ocs_op */
	struct ocs_map sessions;  /* session -> struct ocs_session */
	struct ocs_map pins;      /* IMSI -> struct ocs_pin_tries */
	struct ocs_map redeeming; /* card serial -> (void *)1 while its top-up is in flight */
	struct ocs_batch *batches;
	unsigned n_batches;
	int32_t schedule_month; /* the month of the last full schedule pass */

	pthread_mutex_t submit_mu;
	int64_t next_seq;

	/* The voucher thread: PIN hashing is slow by design and must not run on a
	 * SIP worker's event loop. */
	pthread_t vthread;
	bool vthread_started, vstop;
	pthread_cond_t vcv;
	struct ocs_vjob *vhead, *vtail;
};

/* --- time ------------------------------------------------------------------ */
/* Month index (year * 12 + month - 1) of time t (UTC), and the first second of
 * month m. */
int32_t ocs_month_of(int64_t t);
int64_t ocs_month_start(int32_t m);
void ocs_month_name(int32_t m, char out[8]); /* "2026-05" */
int ocs_month_parse(const char *s, int32_t *m);

/* --- money ----------------------------------------------------------------- */
int ocs_currency_find(const struct ocs *o, const char *code); /* index or -1 */
/* "EUR 12.50", "KPW 2,400", "EUR -0.05". */
void ocs_money_format(const struct ocs *o, int cur, int64_t amount, char *out, size_t cap);

/* --- plans (plans.c) --------------------------------------------------------- */
int ocs_plans_load(struct ocs *o);
int ocs_plan_find(const struct ocs *o, const char *name);
int ocs_orgs_load(struct ocs *o);
/* The cap of organisation name into *out under o->mu: true, or false when it
 * has none. */
bool ocs_org_cap(struct ocs *o, const char *name, struct ocs_org *out);
/* The tariff rows of plan towards dest (*n of them, ranked), or NULL. */
const struct ocs_tariff *ocs_tariffs_for(const struct ocs *o, int plan, const char *dest,
                                         unsigned *n);

/* --- accounts (accounts.c) --------------------------------------------------- */
/* The account of subscriber imsi (created in memory on first use). 0 with
 * *out, -ENOENT (no such subscriber), -ENOMEM. */
int ocs_account_of_imsi(struct ocs *o, uint64_t imsi, struct ocs_account **out);
/* Any account by id ("467...", "org:NAME"); create makes an organisation's. */
struct ocs_account *ocs_account_get(struct ocs *o, const char *id, bool create);
/* The plan of a subscriber account (its class's), or -1. */
int ocs_account_plan(struct ocs *o, const struct ocs_account *a);
/* Brings the account up to date at now: its initial credit, and the period
 * row (fee, allowance renewal) of the current month. Called with a->mu held.
 * Returns the number of rows queued (0: nothing due) or -ENOMEM/-EIO. The
 * rows' done callbacks count into *pending when it is not NULL. */
struct ocs_batch_wait;
int ocs_account_touch(struct ocs *o, struct ocs_account *a, int64_t now, struct ocs_batch_wait *w);
int ocs_accounts_load(struct ocs *o);

/* --- the ledger (ledger.c) --------------------------------------------------- */
struct ocs_entry {
	const char *kind;
	char op_id[OCS_OP_MAX + 1];
	char account[OCS_ACCOUNT_MAX];
	int cur; /* -1: none */
	int64_t amount, seconds, sms, quantity;
	char dest[OCS_DEST_MAX];
	char session[OCS_SESSION_MAX + 1];
	char reason[OCS_REASON_MAX];
	int64_t at;
};

/* What a queued row does once the group commit answers. Applied deltas are
 * undone if the row is not written; then op (if any) is answered. */
struct ocs_pending {
	struct ocs *o;
	struct ocs_account *acct;
	struct ocs_op *op;
	int cur;
	int64_t amount, seconds, sms;
	struct ocs_grant grant;            /* the answer once durable */
	char session[OCS_SESSION_MAX + 1]; /* a call session to forget once ended */
	char serial[40];                   /* a card no longer being redeemed */
	struct ocs_batch_wait *wait;
};

/* Synchronous callers (the schedule, open) wait for their rows here. */
struct ocs_batch_wait {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned pending;
	int failed;
};
void ocs_batch_wait_init(struct ocs_batch_wait *w);
void ocs_batch_wait_add(struct ocs_batch_wait *w);
int ocs_batch_wait_end(struct ocs_batch_wait *w); /* 0, or the first failure */

/* Applies e's deltas to acct (held locked by the caller), queues e. p (owned
 * by the ledger from now on, may be NULL: then one is made) says what to do
 * when it is durable. 0, or -ENOMEM/-ESHUTDOWN with the deltas undone and p
 * freed (its op not answered). */
int ocs_ledger_submit(struct ocs *o, struct ocs_account *acct, const struct ocs_entry *e,
                      struct ocs_pending *p);
int ocs_ledger_load_seq(struct ocs *o);

/* --- operations (ocs.c) ------------------------------------------------------ */
enum ocs_op_begin { OCS_OP_NEW, OCS_OP_WAIT, OCS_OP_ANSWERED };
/* Looks op_id up: a new one is entered pending (*op set: the caller must
 * answer it with ocs_op_finish or submit a row carrying it); one in flight gets
 * done as a waiter; one done is answered now. Negative: -ENOMEM. */
int ocs_op_begin(struct ocs *o, const char *op_id, ocs_grant_fn done, void *ctx,
                 struct ocs_op **op);
/* Answers op and its waiters with g. keep: remember the outcome (a row was
 * written); otherwise the op is forgotten (a refusal moved nothing). */
void ocs_op_finish(struct ocs *o, struct ocs_op *op, const struct ocs_grant *g, bool keep);
/* op ids of at most OCS_OP_MAX: the id itself when it fits, else a hash. */
void ocs_op_id(char out[OCS_OP_MAX + 1], const char *prefix, const char *id, const char *suffix);
/* Forgets done operations older than OCS_OP_WINDOW. */
void ocs_ops_prune(struct ocs *o, int64_t now);
void ocs_grant_set(struct ocs_grant *g, int status, uint32_t seconds, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* --- vouchers (vouchers.c) ----------------------------------------------------- */
int ocs_vouchers_load(struct ocs *o);
int ocs_vouchers_start(struct ocs *o);
void ocs_vouchers_stop(struct ocs *o);

/* --- credit (credit.c) ----------------------------------------------------------- */
int ocs_sessions_settle(struct ocs *o);
