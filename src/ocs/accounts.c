/* Accounts: one per subscriber (its IMSI) and one per paying organisation
 * ("org:NAME"), with money per currency and the month's allowances. Memory
 * holds them; the ledger is their record (docs/charging.md, "Accounts"). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "hlr/registry.h"
#include "ocs/ocs_internal.h"
#include "store/store.h"

static struct ocs_account *account_new(const char *id, uint64_t imsi)
{
	struct ocs_account *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	snprintf(a->id, sizeof(a->id), "%s", id);
	a->imsi = imsi;
	a->allow_month = -1;
	a->period_month = -1;
	pthread_mutex_init(&a->mu, NULL);
	return a;
}

struct ocs_account *ocs_account_get(struct ocs *o, const char *id, bool create)
{
	pthread_mutex_lock(&o->mu);
	struct ocs_account *a = ocs_map_get(&o->accounts, id);
	if (!a && create) {
		uint64_t imsi = 0;
		if (strncmp(id, "org:", 4) != 0)
			imsi = strtoull(id, NULL, 10);
		a = account_new(id, imsi);
		if (a && ocs_map_put(&o->accounts, id, a) != 0) {
			pthread_mutex_destroy(&a->mu);
			free(a);
			a = NULL;
		}
	}
	pthread_mutex_unlock(&o->mu);
	return a;
}

int ocs_account_of_imsi(struct ocs *o, uint64_t imsi, struct ocs_account **out)
{
	struct hlr_subscr rec;
	if (!o->reg || hlr_subscr_get_by_imsi(o->reg, imsi, &rec) != 0)
		return -ENOENT;
	char id[24];
	hlr_imsi_format(imsi, id);
	struct ocs_account *a = ocs_account_get(o, id, true);
	if (!a)
		return -ENOMEM;
	*out = a;
	return 0;
}

int ocs_account_plan(struct ocs *o, const struct ocs_account *a)
{
	struct hlr_subscr rec;
	if (!a->imsi || !o->reg || hlr_subscr_get_by_imsi(o->reg, a->imsi, &rec) != 0)
		return -1;
	const char *cls = hlr_profile_class_name(hlr_registry_profile(o->reg), rec.class_id);
	if (!cls)
		return -1;
	for (unsigned i = 0; i < o->n_plans; i++)
		if (strcmp(o->plans[i].class_name, cls) == 0)
			return (int)i;
	return -1;
}

/* The organisation of an official line: NAME of the holder's identity document
 * "OFF-NAME-nnnn" (docs/profile.md); "" when it has none. Read from the store
 * once per account (the holder is not in the in-memory record). */
static void account_org(struct ocs *o, struct ocs_account *a)
{
	if (a->org[0])
		return;
	struct hlr_subscr_info *info = calloc(1, sizeof(*info));
	if (!info)
		return;
	if (hlr_subscr_info_get(o->reg, a->imsi, info) == 0) {
		const char *d = info->holder.id_document;
		const char *dash = strncmp(d, "OFF-", 4) == 0 ? strchr(d + 4, '-') : NULL;
		if (dash && dash - (d + 4) > 0 && dash - (d + 4) < (long)sizeof(a->org) - 1)
			snprintf(a->org, sizeof(a->org), "%.*s", (int)(dash - (d + 4)), d + 4);
		else
			snprintf(a->org, sizeof(a->org), "unknown");
	}
	free(info);
}

static int submit_wait(struct ocs *o, struct ocs_account *a, const struct ocs_entry *e,
                       struct ocs_batch_wait *w)
{
	struct ocs_pending *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->wait = w;
	return ocs_ledger_submit(o, a, e, p);
}

int ocs_account_touch(struct ocs *o, struct ocs_account *a, int64_t now, struct ocs_batch_wait *w)
{
	if (!a->imsi)
		return 0;
	int plan = ocs_account_plan(o, a);
	if (plan < 0)
		return 0;
	const struct ocs_plan *p = &o->plans[plan];
	int rows = 0, rc;
	struct ocs_entry e;

	if (!a->opened) {
		if (p->initial_credit && p->cur >= 0) {
			memset(&e, 0, sizeof(e));
			e.kind = "initial";
			ocs_op_id(e.op_id, "init:", a->id, "");
			snprintf(e.account, sizeof(e.account), "%s", a->id);
			e.cur = p->cur;
			e.amount = p->initial_credit;
			e.at = now;
			char m[32];
			ocs_money_format(o, p->cur, p->initial_credit, m, sizeof(m));
			snprintf(e.reason, sizeof(e.reason), "initial credit of plan %s: %s",
			         p->name, m);
			if ((rc = submit_wait(o, a, &e, w)) != 0)
				return rc;
			rows++;
		}
		a->opened = true;
	}

	int32_t month = ocs_month_of(now);
	if (a->period_month >= month)
		return rows;
	char mname[8], until[24];
	ocs_month_name(month, mname);
	clock_format_iso(ocs_month_start(month + 1), until, sizeof(until));
	until[10] = '\0';
	/* A fee is due at the account's first period, then once in each fee
	 * period (calendar months, quarters...): at its first month, or later in
	 * it if koryod was stopped when it began. */
	bool fee_due = p->fee && p->cur >= 0 && p->fee_months &&
	               (a->period_month < 0 || a->period_month < month - month % p->fee_months);
	int64_t fee = 0;
	char feetext[96] = "";
	if (fee_due && p->org_pays) {
		account_org(o, a);
		char org_id[OCS_ACCOUNT_MAX];
		snprintf(org_id, sizeof(org_id), "org:%s", a->org[0] ? a->org : "unknown");
		struct ocs_account *org = ocs_account_get(o, org_id, true);
		if (!org)
			return -ENOMEM;
		memset(&e, 0, sizeof(e));
		e.kind = "org_fee";
		char suffix[40];
		snprintf(suffix, sizeof(suffix), ":%s", mname);
		ocs_op_id(e.op_id, "orgfee:", a->id, suffix);
		snprintf(e.account, sizeof(e.account), "%s", org_id);
		e.cur = p->cur;
		e.amount = -p->fee;
		snprintf(e.session, sizeof(e.session), "%s", mname);
		e.at = now;
		char m[32];
		ocs_money_format(o, p->cur, p->fee, m, sizeof(m));
		snprintf(e.reason, sizeof(e.reason), "fee of line %s (plan %s) for %s: %s", a->id,
		         p->name, mname, m);
		pthread_mutex_lock(&org->mu);
		rc = submit_wait(o, org, &e, w);
		pthread_mutex_unlock(&org->mu);
		if (rc != 0)
			return rc;
		rows++;
		snprintf(feetext, sizeof(feetext), "fee %s paid by %s; ", m, org_id);
	} else if (fee_due) {
		fee = p->fee;
		char m[32];
		ocs_money_format(o, p->cur, fee, m, sizeof(m));
		snprintf(feetext, sizeof(feetext), "fee %s; ", m);
	}
	/* The allowance is renewed, not carried over; none for a month whose
	 * account is in debt in its fee's currency (an unpaid fee). An official
	 * line's organisation may have a cap of its own that replaces the plan's;
	 * it is read here, at the renewal, so that a changed cap applies from the
	 * next month and the month's allowance stays what its period row says. */
	int64_t allow_s = p->allow_seconds, allow_sms = p->allow_sms;
	char captext[48] = "";
	if (p->org_pays) {
		account_org(o, a);
		struct ocs_org cap;
		if (a->org[0] && ocs_org_cap(o, a->org, &cap)) {
			allow_s = cap.allow_seconds;
			allow_sms = cap.allow_sms;
			snprintf(captext, sizeof(captext), " (cap of %s)", cap.name);
		}
	}
	bool debt = !p->org_pays && p->cur >= 0 && a->money[p->cur] - fee < 0;
	int64_t give_s = debt ? 0 : allow_s, give_sms = debt ? 0 : allow_sms;
	memset(&e, 0, sizeof(e));
	e.kind = "period";
	char suffix[40];
	snprintf(suffix, sizeof(suffix), ":%s", mname);
	ocs_op_id(e.op_id, "period:", a->id, suffix);
	snprintf(e.account, sizeof(e.account), "%s", a->id);
	e.cur = fee ? p->cur : -1;
	e.amount = -fee;
	e.seconds = give_s - (a->allow_seconds > 0 ? a->allow_seconds : 0);
	e.sms = give_sms - (a->allow_sms > 0 ? a->allow_sms : 0);
	snprintf(e.session, sizeof(e.session), "%s", mname);
	e.at = now;
	/* A reason longer than the column is cut, not refused. */
	if (snprintf(
	        e.reason, sizeof(e.reason),
	        "%s for %s: %s%" PRId64 " free minutes and %" PRId64 " free SMS%s until %s%s%s",
	        p->name, mname, feetext, give_s / 60, give_sms, captext, until,
	        a->allow_seconds > 0 || a->allow_sms > 0 ? "; the rest of last month expired" : "",
	        debt ? "; none: the account is in debt" : "") < 0)
		e.reason[0] = '\0';
	if ((rc = submit_wait(o, a, &e, w)) != 0)
		return rc;
	a->allow_month = month;
	a->period_month = month;
	return rows + 1;
}

/* Balances are the ledger's sums; the period state is its latest period row. */
int ocs_accounts_load(struct ocs *o)
{
	struct store_stmt *s;
	int step, rc = 0;
	store_lock(o->st);
	if (store_prepare(o->st,
	                  "SELECT account, currency, sum(amount), sum(seconds), sum(sms) FROM "
	                  "ocs_ledger GROUP BY account, currency",
	                  &s) != 0) {
		store_unlock(o->st);
		return -EIO;
	}
	while ((step = store_step(s)) == STORE_ROW) {
		const char *id = store_col_text(s, 0);
		struct ocs_account *a = ocs_map_get(&o->accounts, id);
		if (!a) {
			a = account_new(id, strncmp(id, "org:", 4) ? strtoull(id, NULL, 10) : 0);
			if (!a || ocs_map_put(&o->accounts, id, a) != 0) {
				free(a);
				rc = -ENOMEM;
				break;
			}
		}
		int c = ocs_currency_find(o, store_col_text(s, 1));
		if (c >= 0)
			a->money[c] += store_col_int64(s, 2);
		a->allow_seconds += store_col_int64(s, 3);
		a->allow_sms += store_col_int64(s, 4);
	}
	store_reset(s);
	if (rc == 0 && step < 0)
		rc = -EIO;
	if (rc == 0 && store_prepare(o->st,
	                             "SELECT account, max(session) FROM ocs_ledger WHERE kind = "
	                             "'period' GROUP BY account",
	                             &s) == 0) {
		while ((step = store_step(s)) == STORE_ROW) {
			struct ocs_account *a = ocs_map_get(&o->accounts, store_col_text(s, 0));
			int32_t m;
			if (a && ocs_month_parse(store_col_text(s, 1), &m) == 0) {
				a->period_month = a->allow_month = m;
				a->opened = true;
			}
		}
		store_reset(s);
	}
	if (rc == 0 && store_prepare(o->st, "SELECT account FROM ocs_ledger WHERE kind = 'initial'",
	                             &s) == 0) {
		while ((step = store_step(s)) == STORE_ROW) {
			struct ocs_account *a = ocs_map_get(&o->accounts, store_col_text(s, 0));
			if (a)
				a->opened = true;
		}
		store_reset(s);
	}
	store_unlock(o->st);
	return rc;
}

/* --- reports --------------------------------------------------------------------------- */

static unsigned count_calls(struct ocs *o, const char *acct)
{
	unsigned n = 0;
	struct ocs_map *m = &o->sessions;
	for (size_t i = 0; i < m->nb; i++)
		for (struct ocs_map_entry *e = m->b[i]; e; e = e->next)
			if (strcmp(((struct ocs_session *)e->val)->acct, acct) == 0)
				n++;
	return n;
}

static int account_resolve(struct ocs *o, const char *id, struct ocs_account **out)
{
	if (strncmp(id, "org:", 4) == 0) {
		*out = ocs_account_get(o, id, false);
		return *out ? 0 : -ENOENT;
	}
	uint64_t imsi;
	if (hlr_imsi_parse(id, &imsi) != 0)
		return -ENOENT;
	return ocs_account_of_imsi(o, imsi, out);
}

int ocs_account_info(struct ocs *o, const char *account, struct ocs_account_info *out)
{
	struct ocs_account *a;
	int rc = account_resolve(o, account, &a);
	if (rc != 0)
		return rc;
	memset(out, 0, sizeof(*out));
	int plan = ocs_account_plan(o, a);
	struct ocs_batch_wait w;
	ocs_batch_wait_init(&w);
	pthread_mutex_lock(&a->mu);
	ocs_account_touch(o, a, clock_now(), &w);
	pthread_mutex_unlock(&a->mu);
	/* What is shown has been written. */
	ocs_batch_wait_end(&w);

	pthread_mutex_lock(&a->mu);
	snprintf(out->account, sizeof(out->account), "%s", a->id);
	if (plan >= 0)
		snprintf(out->plan, sizeof(out->plan), "%s", o->plans[plan].name);
	if (plan >= 0 && o->plans[plan].org_pays)
		snprintf(out->organisation, sizeof(out->organisation), "%s", a->org);
	for (unsigned i = 0; i < o->n_cur && i < OCS_INFO_CURRENCIES; i++) {
		struct ocs_balance *b = &out->balances[out->n_balances++];
		snprintf(b->currency, sizeof(b->currency), "%s", o->cur[i].code);
		b->amount = a->money[i];
		b->digits = o->cur[i].digits;
		ocs_money_format(o, (int)i, a->money[i], b->text, sizeof(b->text));
	}
	out->allowance_seconds = a->allow_seconds;
	out->allowance_sms = a->allow_sms;
	out->allowance_valid_until = a->allow_month >= 0 ? ocs_month_start(a->allow_month + 1) : 0;
	pthread_mutex_unlock(&a->mu);
	pthread_mutex_lock(&o->mu);
	out->open_calls = count_calls(o, a->id);
	pthread_mutex_unlock(&o->mu);
	return 0;
}

int ocs_balance_text(struct ocs *o, uint64_t imsi, char *out, size_t cap)
{
	struct ocs_account *a;
	if (ocs_account_of_imsi(o, imsi, &a) != 0)
		return -ENOENT;
	size_t n = 0;
	out[0] = '\0';
	pthread_mutex_lock(&a->mu);
	/* Brought up to date without waiting: the phone's caller may be an event
	 * loop, and the rows it queues are in memory already. */
	ocs_account_touch(o, a, clock_now(), NULL);
	for (unsigned i = 0; i < o->n_cur && n < cap; i++) {
		if (!a->money[i])
			continue;
		char m[32];
		ocs_money_format(o, (int)i, a->money[i], m, sizeof(m));
		n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? "; " : "", m);
	}
	if (a->allow_month >= 0 && n < cap && (a->allow_seconds >= 60 || a->allow_sms > 0)) {
		char until[24];
		clock_format_iso(ocs_month_start(a->allow_month + 1), until, sizeof(until));
		until[10] = '\0';
		if (a->allow_seconds >= 60)
			n += (size_t)snprintf(out + n, cap - n, "%s%" PRId64 " free minutes",
			                      n ? "; " : "", a->allow_seconds / 60);
		if (a->allow_sms > 0 && n < cap)
			n += (size_t)snprintf(out + n, cap - n, "%s%" PRId64 " free SMS",
			                      n ? (a->allow_seconds >= 60 ? " and " : "; ") : "",
			                      a->allow_sms);
		if (n < cap)
			n += (size_t)snprintf(out + n, cap - n, " until %s", until);
	}
	pthread_mutex_unlock(&a->mu);
	if (!out[0])
		snprintf(out, cap, "No credit");
	return 0;
}
