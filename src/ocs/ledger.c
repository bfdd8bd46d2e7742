/* The ledger: every movement of money or allowance is one row, written
 * through the group commit; memory holds the sums. A row's deltas reach memory
 * when it is queued (so that the next request sees them) and leave it again if
 * the row is not written, so that memory is always the sum of the rows. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "ocs/ocs_internal.h"
#include "store/store.h"

static const char insert_sql[] =
    "INSERT INTO ocs_ledger (seq, op_id, account, kind, currency, amount, seconds, sms, "
    "quantity, destination, session, reason, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
    "$10, $11, $12, $13)";

void ocs_batch_wait_init(struct ocs_batch_wait *w)
{
	memset(w, 0, sizeof(*w));
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
}

void ocs_batch_wait_add(struct ocs_batch_wait *w)
{
	pthread_mutex_lock(&w->mu);
	w->pending++;
	pthread_mutex_unlock(&w->mu);
}

static void batch_wait_done(struct ocs_batch_wait *w, int rc)
{
	pthread_mutex_lock(&w->mu);
	if (rc && !w->failed)
		w->failed = rc;
	if (--w->pending == 0)
		pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

int ocs_batch_wait_end(struct ocs_batch_wait *w)
{
	pthread_mutex_lock(&w->mu);
	while (w->pending)
		pthread_cond_wait(&w->cv, &w->mu);
	int rc = w->failed;
	pthread_mutex_unlock(&w->mu);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	return rc;
}

static void apply(struct ocs_account *a, int cur, int64_t amount, int64_t seconds, int64_t sms)
{
	if (cur >= 0)
		a->money[cur] += amount;
	a->allow_seconds += seconds;
	a->allow_sms += sms;
}

/* On the group commit's thread. */
static void on_written(void *ctx, int rc)
{
	struct ocs_pending *p = ctx;
	struct ocs *o = p->o;
	if (rc != 0) {
		pthread_mutex_lock(&p->acct->mu);
		apply(p->acct, p->cur, -p->amount, -p->seconds, -p->sms);
		pthread_mutex_unlock(&p->acct->mu);
		LOGE("ocs", "account '%s': a ledger row was not written (%d): nothing charged",
		     p->acct->id, rc);
	}
	if (p->serial[0]) {
		pthread_mutex_lock(&o->mu);
		ocs_map_del(&o->redeeming, p->serial);
		pthread_mutex_unlock(&o->mu);
	}
	if (p->session[0] && rc == 0) {
		pthread_mutex_lock(&o->mu);
		struct ocs_session *s = ocs_map_del(&o->sessions, p->session);
		pthread_mutex_unlock(&o->mu);
		if (s) {
			free(s->slices);
			free(s);
		}
	} else if (p->session[0]) {
		/* The end was not written: the call may be ended again. */
		pthread_mutex_lock(&p->acct->mu);
		pthread_mutex_lock(&o->mu);
		struct ocs_session *s = ocs_map_get(&o->sessions, p->session);
		pthread_mutex_unlock(&o->mu);
		if (s)
			s->ending = false;
		pthread_mutex_unlock(&p->acct->mu);
	}
	if (p->op) {
		struct ocs_grant g = p->grant;
		if (rc == -EEXIST) {
			/* Written before, beyond the window memory keeps: done once. */
			ocs_grant_set(&g, p->serial[0] ? -EALREADY : 0, 0,
			              "This operation was carried out before.");
		} else if (rc != 0) {
			ocs_grant_set(&g, -EIO, 0, "Charging is not available now; try again.");
		}
		ocs_op_finish(o, p->op, &g, rc == 0);
	}
	if (p->wait)
		batch_wait_done(p->wait, rc == -EEXIST ? 0 : rc);
	free(p);
}

static void param_text(struct store_param *p, const char *s)
{
	p->type = STORE_PARAM_TEXT;
	snprintf(p->text, sizeof(p->text), "%s", s);
}

static void param_int(struct store_param *p, int64_t v)
{
	p->type = STORE_PARAM_INT;
	p->i = v;
}

int ocs_ledger_submit(struct ocs *o, struct ocs_account *acct, const struct ocs_entry *e,
                      struct ocs_pending *p)
{
	if (!p && !(p = calloc(1, sizeof(*p))))
		return -ENOMEM;
	p->o = o;
	p->acct = acct;
	p->cur = e->cur;
	p->amount = e->amount;
	p->seconds = e->seconds;
	p->sms = e->sms;
	if (p->wait)
		ocs_batch_wait_add(p->wait);

	struct store_param v[13];
	memset(v, 0, sizeof(v));
	param_text(&v[1], e->op_id);
	param_text(&v[2], e->account);
	param_text(&v[3], e->kind);
	param_text(&v[4], e->cur >= 0 ? o->cur[e->cur].code : "");
	param_int(&v[5], e->amount);
	param_int(&v[6], e->seconds);
	param_int(&v[7], e->sms);
	param_int(&v[8], e->quantity);
	param_text(&v[9], e->dest);
	param_text(&v[10], e->session);
	param_text(&v[11], e->reason);
	param_int(&v[12], e->at);

	apply(acct, e->cur, e->amount, e->seconds, e->sms);
	/* The sequence follows the queue's order: a reader paging by seq never
	 * finds a gap filled in later. */
	pthread_mutex_lock(&o->submit_mu);
	param_int(&v[0], o->next_seq);
	int rc = store_queue_submit(o->q, insert_sql, v, 13, on_written, p);
	if (rc == 0)
		o->next_seq++;
	pthread_mutex_unlock(&o->submit_mu);
	if (rc != 0) {
		apply(acct, e->cur, -e->amount, -e->seconds, -e->sms);
		if (p->wait)
			batch_wait_done(p->wait, rc);
		free(p);
	}
	return rc;
}

int ocs_ledger_load_seq(struct ocs *o)
{
	struct store_stmt *s;
	store_lock(o->st);
	int rc = store_prepare(o->st, "SELECT max(seq) FROM ocs_ledger", &s);
	if (rc == 0) {
		rc = store_step(s);
		o->next_seq =
		    rc == STORE_ROW && !store_col_is_null(s, 0) ? store_col_int64(s, 0) + 1 : 1;
		rc = rc < 0 ? -EIO : 0;
		store_reset(s);
	}
	store_unlock(o->st);
	return rc;
}

/* --- reading ------------------------------------------------------------------------- */

static const char *col(struct store_stmt *s, int i)
{
	const char *t = store_col_text(s, i);
	return t ? t : "";
}

int ocs_ledger_list(struct ocs *o, const char *account, int64_t after, unsigned limit,
                    void (*fn)(void *ctx, const struct ocs_ledger_row *r), void *ctx)
{
	static const char all_sql[] =
	    "SELECT seq, op_id, account, kind, currency, amount, seconds, sms, quantity, "
	    "destination, session, reason, at FROM ocs_ledger WHERE seq > $1 ORDER BY seq LIMIT $2";
	static const char one_sql[] =
	    "SELECT seq, op_id, account, kind, currency, amount, seconds, sms, quantity, "
	    "destination, session, reason, at FROM ocs_ledger WHERE account = $3 AND seq > $1 "
	    "ORDER BY seq LIMIT $2";
	struct store_stmt *s;
	int n = 0, step;
	store_lock(o->st);
	if (store_prepare(o->st, account ? one_sql : all_sql, &s) != 0) {
		store_unlock(o->st);
		return -EIO;
	}
	store_bind_int64(s, 1, after);
	store_bind_int64(s, 2, limit);
	if (account)
		store_bind_text(s, 3, account);
	while ((step = store_step(s)) == STORE_ROW) {
		struct ocs_ledger_row r = {
		    .seq = store_col_int64(s, 0),
		    .op_id = col(s, 1),
		    .account = col(s, 2),
		    .kind = col(s, 3),
		    .currency = col(s, 4),
		    .amount = store_col_int64(s, 5),
		    .seconds = store_col_int64(s, 6),
		    .sms = store_col_int64(s, 7),
		    .quantity = store_col_int64(s, 8),
		    .destination = col(s, 9),
		    .session = col(s, 10),
		    .reason = col(s, 11),
		    .at = store_col_int64(s, 12),
		};
		int c = ocs_currency_find(o, r.currency);
		r.digits = c >= 0 ? o->cur[c].digits : 0;
		fn(ctx, &r);
		n++;
	}
	store_reset(s);
	store_unlock(o->st);
	return step < 0 ? -EIO : n;
}

int ocs_cdr_list(struct ocs *o, int64_t after, unsigned limit,
                 void (*fn)(void *ctx, const struct ocs_cdr *r), void *ctx)
{
	/* A call's charge is the sum of its rows (slices reserved, the rest
	 * given back at the end); an SMS is its one row. */
	static const char sql[] =
	    "SELECT e.seq, e.kind, e.session, e.account, e.destination, e.currency, e.at, "
	    "e.quantity, "
	    "(SELECT min(r.at) FROM ocs_ledger r WHERE r.session = e.session AND r.account = "
	    "e.account), "
	    "(SELECT sum(r.amount) FROM ocs_ledger r WHERE r.session = e.session AND r.account = "
	    "e.account AND r.kind IN ('reserve', 'call_end', 'sms')), "
	    "(SELECT sum(r.seconds) FROM ocs_ledger r WHERE r.session = e.session AND r.account = "
	    "e.account AND r.kind IN ('reserve', 'call_end')), "
	    "e.sms FROM ocs_ledger e WHERE e.kind IN ('call_end', 'sms') AND e.seq > $1 ORDER BY "
	    "e.seq LIMIT $2";
	struct store_stmt *s;
	int n = 0, step;
	store_lock(o->st);
	if (store_prepare(o->st, sql, &s) != 0) {
		store_unlock(o->st);
		return -EIO;
	}
	store_bind_int64(s, 1, after);
	store_bind_int64(s, 2, limit);
	while ((step = store_step(s)) == STORE_ROW) {
		bool sms = strcmp(col(s, 1), "sms") == 0;
		struct ocs_cdr r = {
		    .id = store_col_int64(s, 0),
		    .service = sms ? "sms" : "voice",
		    .session = col(s, 2),
		    .account = col(s, 3),
		    .destination = col(s, 4),
		    .currency = col(s, 5),
		    .ended_at = store_col_int64(s, 6),
		    .seconds = store_col_int64(s, 7),
		    .started_at = store_col_int64(s, 8),
		    .amount = -store_col_int64(s, 9),
		    .allowance_seconds = sms ? 0 : -store_col_int64(s, 10),
		    .allowance_sms = -store_col_int64(s, 11),
		};
		/* A call's currency: the first of its rows that named one. */
		int c = ocs_currency_find(o, r.currency);
		r.digits = c >= 0 ? o->cur[c].digits : 0;
		fn(ctx, &r);
		n++;
	}
	store_reset(s);
	store_unlock(o->st);
	return step < 0 ? -EIO : n;
}

/* --- audit -------------------------------------------------------------------------- */

struct audit_ctx {
	struct ocs *o;
	int differ;
	unsigned checked;
	bool failed;
	struct ocs_account **v;
	size_t n, cap;
};

static void audit_collect(void *ctx_, void *val)
{
	struct audit_ctx *ctx = ctx_;
	if (ctx->n < ctx->cap)
		ctx->v[ctx->n++] = val;
}

static void audit_one(struct audit_ctx *ctx, struct ocs_account *a)
{
	struct ocs *o = ctx->o;
	struct store_stmt *s;
	int64_t money[OCS_MAX_CURRENCIES] = {0}, seconds = 0, sms = 0;
	store_lock(o->st);
	if (store_prepare(o->st,
	                  "SELECT currency, sum(amount), sum(seconds), sum(sms) FROM ocs_ledger "
	                  "WHERE account = $1 GROUP BY currency",
	                  &s) != 0) {
		store_unlock(o->st);
		ctx->failed = true;
		return;
	}
	store_bind_text(s, 1, a->id);
	int step;
	while ((step = store_step(s)) == STORE_ROW) {
		int c = ocs_currency_find(o, col(s, 0));
		if (c >= 0)
			money[c] += store_col_int64(s, 1);
		seconds += store_col_int64(s, 2);
		sms += store_col_int64(s, 3);
	}
	store_reset(s);
	store_unlock(o->st);
	if (step < 0) {
		ctx->failed = true;
		return;
	}
	pthread_mutex_lock(&a->mu);
	bool same = a->allow_seconds == seconds && a->allow_sms == sms;
	for (unsigned i = 0; i < o->n_cur; i++)
		same = same && a->money[i] == money[i];
	pthread_mutex_unlock(&a->mu);
	ctx->checked++;
	if (!same) {
		ctx->differ++;
		LOGE("ocs", "account '%s': balances in memory differ from the ledger", a->id);
	}
}

int ocs_audit(struct ocs *o, unsigned *accounts_checked)
{
	struct audit_ctx ctx = {.o = o};
	/* Rows in flight count in memory before they are in the store: the
	 * audit is meant for a quiet koryod (tests, maintenance). Accounts live
	 * until ocs_close, so the pointers stay good after the map's lock. */
	pthread_mutex_lock(&o->mu);
	ctx.cap = o->accounts.n;
	ctx.v = calloc(ctx.cap ? ctx.cap : 1, sizeof(*ctx.v));
	if (ctx.v)
		ocs_map_each(&o->accounts, audit_collect, &ctx);
	pthread_mutex_unlock(&o->mu);
	if (!ctx.v)
		return -ENOMEM;
	for (size_t i = 0; i < ctx.n; i++)
		audit_one(&ctx, ctx.v[i]);
	free(ctx.v);
	if (accounts_checked)
		*accounts_checked = ctx.checked;
	return ctx.failed ? -EIO : ctx.differ;
}
