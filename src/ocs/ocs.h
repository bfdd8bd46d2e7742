#pragma once
/* Online charging (docs/charging.md): accounts with money buckets per
 * currency and allowance buckets, plans and tariffs as data, recurring fees
 * and renewals on a schedule, top-up cards, real-time credit control for
 * calls and SMS, and an append-only ledger whose sums are the balances.
 * It knows no protocol: the SIP proxy asks it.
 *
 * Every operation that moves money carries an operation id (op_id, at most
 * 63 printable characters) and is idempotent: the same id again returns the
 * first outcome and moves nothing. Acknowledged means durable: a done
 * callback reports an operation only once its ledger rows are committed. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store_queue.h"

struct store;
struct hlr_registry;
struct ocs;

/* Installs plans.csv and tariffs.csv of a profile directory
 * (docs/charging.md). 0, or -1 with "FILE:LINE: reason" in err and nothing
 * written. The caller holds no store lock. */
int ocs_install(struct store *st, const char *dir, char *err, size_t errcap);

/* Opens charging over the store; writes go through the group commit q.
 * reg gives each subscriber's class (its default plan). 0, -ENOMEM, -EIO. */
int ocs_open(struct store *st, struct store_queue *q, struct hlr_registry *reg, struct ocs **out);
void ocs_close(struct ocs *o);

/* Runs the schedule (recurring fees, monthly renewals) up to now
 * (clock_now()). koryod calls it at start and every minute. Returns the
 * number of accounts charged or renewed, or -EIO. */
int ocs_run_schedule(struct ocs *o);

/* --- credit control (the SIP proxy) --------------------------------------- */

enum ocs_service {
	OCS_VOICE,
	OCS_SMS,
};

/* The outcome of a credit request. */
struct ocs_grant {
	int status;       /* 0 granted; -EDQUOT no credit; -ENOENT no account/plan;
	                     -EACCES the plan does not rate this destination; -EIO */
	uint32_t seconds; /* voice: seconds granted (a multiple of the charging unit) */
	char reason[128]; /* for a refusal: a sentence the caller can be told */
};
typedef void (*ocs_grant_fn)(void *ctx, const struct ocs_grant *g);

/* Reserves credit for the next slice (slice 0, 1, 2...) of call session
 * (its Call-ID) by subscriber imsi towards a destination kind ("national",
 * "international", "short_code", or "class:NAME" for an on-net number of
 * class NAME; docs/charging.md says which the tariffs use). Allowance is used
 * before money. done(ctx, grant) runs once the reservation is durable (on
 * the group-commit thread, or before this returns). Returns 0 (done will be
 * called) or -ENOMEM. */
int ocs_call_reserve(struct ocs *o, const char *session, unsigned slice, uint64_t imsi,
                     const char *dest_kind, ocs_grant_fn done, void *ctx);

/* Ends call session: of what was reserved, used_seconds were used (rounded
 * up to the charging unit); the rest goes back. The rated call is recorded
 * (rated CDR). done as above (its grant's seconds = seconds charged).
 * Idempotent per session. Returns 0 or -ENOMEM. */
int ocs_call_end(struct ocs *o, const char *session, uint32_t used_seconds, ocs_grant_fn done,
                 void *ctx);

/* Charges an SMS of segments segments (1-255; each is one message of the
 * tariff and of the allowance) when it is accepted (op_id: e.g. the
 * message's id). All or nothing: when the allowance covers only some
 * segments, the rest is paid from the credit. */
int ocs_sms_charge(struct ocs *o, const char *op_id, uint64_t imsi, const char *dest_kind,
                   unsigned segments, ocs_grant_fn done, void *ctx);

/* A top-up card redeemed by its subscriber (from the phone or the API): the
 * PIN is checked against the stored hash; wrong PINs are limited per
 * subscriber. done's grant: status 0, -ENOENT (no such PIN), -EALREADY
 * (redeemed before), -ESTALE (expired), -EAGAIN (too many wrong PINs: wait);
 * reason is a sentence for the subscriber ("Credited EUR 10.00; balance EUR
 * 12.50"). */
int ocs_topup(struct ocs *o, const char *op_id, uint64_t imsi, const char *pin, ocs_grant_fn done,
              void *ctx);

/* The subscriber's balances as one line for a phone ("KPW 2,400; EUR 12.50;
 * 143 free minutes until 2026-12-01"). 0 or -ENOENT. */
int ocs_balance_text(struct ocs *o, uint64_t imsi, char *out, size_t cap);

/* --- the operator's view (the API) ---------------------------------------- *
 * Added beside the credit-control interface above; each returns 0 or a
 * negative errno as documented, and copies out what it reports. */

/* An operator's adjustment of account (IMSI digits or "org:NAME"): amount
 * minor units of currency (may be NULL when amount is 0), seconds and sms of
 * allowance, each signed. reason (1-159 characters) goes into the ledger.
 * Idempotent by op_id. done's grant: 0, -ENOENT (no account), -EINVAL (reason
 * says which field). Returns 0 or -ENOMEM. */
int ocs_adjust(struct ocs *o, const char *op_id, const char *account, const char *currency,
               int64_t amount, int64_t seconds, int64_t sms, const char *reason, ocs_grant_fn done,
               void *ctx);

#define OCS_INFO_CURRENCIES 8
struct ocs_balance {
	char currency[4];
	int64_t amount; /* minor units */
	int digits;     /* minor digits of the currency */
	char text[32];  /* "EUR 12.50" */
};
struct ocs_account_info {
	char account[24];
	char plan[32];         /* "" for an organisation's account */
	char organisation[16]; /* the payer of an official line, else "" */
	struct ocs_balance balances[OCS_INFO_CURRENCIES];
	unsigned n_balances; /* every currency, zero or not */
	int64_t allowance_seconds, allowance_sms;
	int64_t allowance_valid_until; /* 0: no allowance */
	unsigned open_calls;
};
/* account: IMSI digits or "org:NAME". 0, -ENOENT. A subscriber's account is
 * brought up to date (initial credit, the month's renewal) first. */
int ocs_account_info(struct ocs *o, const char *account, struct ocs_account_info *out);

struct ocs_plan_info {
	const char *name, *class_name, *description, *payer, *currency;
	int64_t fee, initial_credit, allowance_seconds, allowance_sms;
	int fee_months;
};
struct ocs_tariff_info {
	const char *plan, *destination, *currency; /* currency NULL: allowance only */
	int64_t per_minute, per_sms;
	unsigned unit_seconds;
	bool allowance;
};
void ocs_plan_list(struct ocs *o, void (*fn)(void *ctx, const struct ocs_plan_info *p), void *ctx);
void ocs_tariff_list(struct ocs *o, void (*fn)(void *ctx, const struct ocs_tariff_info *t),
                     void *ctx);
/* Minor digits of currency code, or -1 for one the profile does not have. */
int ocs_currency_digits(struct ocs *o, const char *code);

/* A ledger row as stored. */
struct ocs_ledger_row {
	int64_t seq;
	const char *op_id, *account, *kind, *currency, *destination, *session, *reason;
	int64_t amount, seconds, sms, quantity, at;
	int digits; /* of currency, 0 when none */
};
/* Rows after seq `after` (account NULL: all accounts), at most limit, in
 * order. Returns the number listed, or -EIO. */
int ocs_ledger_list(struct ocs *o, const char *account, int64_t after, unsigned limit,
                    void (*fn)(void *ctx, const struct ocs_ledger_row *r), void *ctx);

/* A rated CDR: one per call (its call_end row) and per SMS. */
struct ocs_cdr {
	int64_t id; /* the seq of its closing row */
	const char *service, *session, *account, *destination, *currency;
	int64_t started_at, ended_at;
	int64_t seconds;           /* charged (rounded to the unit); 1 for an SMS */
	int64_t allowance_seconds; /* of it, from the allowance */
	int64_t allowance_sms;
	int64_t amount; /* money charged, minor units */
	int digits;
};
int ocs_cdr_list(struct ocs *o, int64_t after, unsigned limit,
                 void (*fn)(void *ctx, const struct ocs_cdr *r), void *ctx);

/* A batch of top-up cards made by `koryo voucher gen`: the PINs never reach
 * koryod, only their PBKDF2-HMAC-SHA256 under the batch's salt. */
struct ocs_card {
	char serial[33];
	char pin_hash[65]; /* hex */
};
struct ocs_batch_new {
	char name[33];
	char salt[65]; /* hex, 16-32 bytes */
	unsigned iterations;
	char currency[4];
	int64_t value;
	int64_t expires_at;
	const struct ocs_card *cards;
	size_t n_cards;
};
struct ocs_field_error {
	char field[32];
	char msg[160];
};
/* The monthly cap of an organisation's official lines (docs/charging.md,
 * "Organisations and caps"): it replaces their plan's allowance at each
 * renewal and at opening. A change applies from the next renewal. */
#define OCS_ORG_NAME_MAX 14
struct ocs_org_info {
	char name[OCS_ORG_NAME_MAX + 1];
	int64_t allowance_seconds, allowance_sms; /* per calendar month */
	char description[160];
	int64_t updated_at;
};
/* Every organisation with a cap, by name. */
void ocs_org_list(struct ocs *o, void (*fn)(void *ctx, const struct ocs_org_info *g), void *ctx);
/* 0 with *out, or -ENOENT (no cap: its lines keep their plan's allowance). */
int ocs_org_get(struct ocs *o, const char *name, struct ocs_org_info *out);
/* Sets organisation name's cap: minutes and sms 0-1000000 each, description
 * 0-159 characters. Written to the store before it returns. 1 created,
 * 0 replaced, -EINVAL (err names the field), -EIO. */
int ocs_org_set(struct ocs *o, const char *name, int64_t minutes, int64_t sms,
                const char *description, struct ocs_field_error *err);

/* 0; -EINVAL (err names the field); -EEXIST (the batch or a serial exists:
 * err says which); -EIO. All or nothing. */
int ocs_batch_add(struct ocs *o, const struct ocs_batch_new *b, struct ocs_field_error *err);
struct ocs_batch_info {
	const char *name, *currency;
	int64_t value, expires_at, uploaded_at, cards, redeemed;
	unsigned iterations;
	int digits;
};
int ocs_batch_list(struct ocs *o, void (*fn)(void *ctx, const struct ocs_batch_info *b), void *ctx);

/* Compares every account's balances in memory with its ledger sums in the
 * store. Returns the number of accounts that differ (each logged), or -EIO. */
int ocs_audit(struct ocs *o, unsigned *accounts_checked);
