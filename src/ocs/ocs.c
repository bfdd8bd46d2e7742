/* Online charging: the context, its maps, the operation table, time and money
 * helpers, and opening and closing (docs/charging.md). */
#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/log.h"
#include "ocs/ocs_internal.h"
#include "store/store.h"

/* --- map ------------------------------------------------------------------------ */

static size_t map_hash(const char *s)
{
	size_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

void *ocs_map_get(struct ocs_map *m, const char *key)
{
	if (!m->nb)
		return NULL;
	for (struct ocs_map_entry *e = m->b[map_hash(key) & (m->nb - 1)]; e; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e->val;
	return NULL;
}

static int map_grow(struct ocs_map *m)
{
	size_t nb = m->nb ? m->nb * 2 : 1024;
	struct ocs_map_entry **b = calloc(nb, sizeof(*b));
	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < m->nb; i++) {
		struct ocs_map_entry *e = m->b[i], *next;
		for (; e; e = next) {
			next = e->next;
			size_t h = map_hash(e->key) & (nb - 1);
			e->next = b[h];
			b[h] = e;
		}
	}
	free(m->b);
	m->b = b;
	m->nb = nb;
	return 0;
}

int ocs_map_put(struct ocs_map *m, const char *key, void *val)
{
	if ((m->n + 1 > m->nb * 2 || !m->nb) && map_grow(m) != 0)
		return -ENOMEM;
	struct ocs_map_entry *e = malloc(sizeof(*e));
	char *k = strdup(key);
	if (!e || !k) {
		free(e);
		free(k);
		return -ENOMEM;
	}
	size_t h = map_hash(key) & (m->nb - 1);
	e->key = k;
	e->val = val;
	e->next = m->b[h];
	m->b[h] = e;
	m->n++;
	return 0;
}

void *ocs_map_del(struct ocs_map *m, const char *key)
{
	if (!m->nb)
		return NULL;
	for (struct ocs_map_entry **pe = &m->b[map_hash(key) & (m->nb - 1)]; *pe;
	     pe = &(*pe)->next) {
		struct ocs_map_entry *e = *pe;
		if (strcmp(e->key, key) == 0) {
			void *v = e->val;
			*pe = e->next;
			free(e->key);
			free(e);
			m->n--;
			return v;
		}
	}
	return NULL;
}

void ocs_map_each(struct ocs_map *m, void (*fn)(void *ctx, void *val), void *ctx)
{
	for (size_t i = 0; i < m->nb; i++)
		for (struct ocs_map_entry *e = m->b[i]; e; e = e->next)
			fn(ctx, e->val);
}

void ocs_map_free(struct ocs_map *m, void (*free_val)(void *val))
{
	for (size_t i = 0; i < m->nb; i++) {
		struct ocs_map_entry *e = m->b[i], *next;
		for (; e; e = next) {
			next = e->next;
			if (free_val)
				free_val(e->val);
			free(e->key);
			free(e);
		}
	}
	free(m->b);
	memset(m, 0, sizeof(*m));
}

/* --- time and money ----------------------------------------------------------------- */

int32_t ocs_month_of(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	return (int32_t)((tm.tm_year + 1900) * 12 + tm.tm_mon);
}

int64_t ocs_month_start(int32_t m)
{
	struct tm tm = {.tm_year = m / 12 - 1900, .tm_mon = m % 12, .tm_mday = 1};
	return (int64_t)timegm(&tm);
}

void ocs_month_name(int32_t m, char out[8])
{
	unsigned y = (unsigned)(m / 12) % 10000u, mo = (unsigned)(m % 12) % 12u + 1u;
	snprintf(out, 8, "%04u-%02u", y, mo);
}

int ocs_month_parse(const char *s, int32_t *m)
{
	int y, mo;
	char tail;
	if (sscanf(s, "%4d-%2d%c", &y, &mo, &tail) != 2 || mo < 1 || mo > 12 || y < 1970)
		return -EINVAL;
	*m = y * 12 + mo - 1;
	return 0;
}

int ocs_currency_find(const struct ocs *o, const char *code)
{
	for (unsigned i = 0; i < o->n_cur; i++)
		if (strcmp(o->cur[i].code, code) == 0)
			return (int)i;
	return -1;
}

int ocs_currency_digits(struct ocs *o, const char *code)
{
	int c = ocs_currency_find(o, code);
	return c < 0 ? -1 : o->cur[c].digits;
}

void ocs_money_format(const struct ocs *o, int cur, int64_t amount, char *out, size_t cap)
{
	if (cur < 0) {
		snprintf(out, cap, "%" PRId64, amount);
		return;
	}
	int digits = o->cur[cur].digits;
	uint64_t a = amount < 0 ? (uint64_t)0 - (uint64_t)amount : (uint64_t)amount;
	uint64_t scale = 1;
	for (int i = 0; i < digits; i++)
		scale *= 10;
	uint64_t major = a / scale, minor = a % scale;
	/* Thousands separated, as prices are printed ("KPW 3,000"). */
	char grp[40], raw[24];
	snprintf(raw, sizeof(raw), "%" PRIu64, major);
	size_t n = strlen(raw), j = 0;
	for (size_t i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			grp[j++] = ',';
		grp[j++] = raw[i];
	}
	grp[j] = '\0';
	if (digits)
		snprintf(out, cap, "%s %s%s.%0*" PRIu64, o->cur[cur].code, amount < 0 ? "-" : "",
		         grp, digits, minor);
	else
		snprintf(out, cap, "%s %s%s", o->cur[cur].code, amount < 0 ? "-" : "", grp);
}

/* --- operations ---------------------------------------------------------------------- */

void ocs_grant_set(struct ocs_grant *g, int status, uint32_t seconds, const char *fmt, ...)
{
	g->status = status;
	g->seconds = seconds;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(g->reason, sizeof(g->reason), fmt, ap);
	va_end(ap);
}

void ocs_op_id(char out[OCS_OP_MAX + 1], const char *prefix, const char *id, const char *suffix)
{
	int n = snprintf(out, OCS_OP_MAX + 1, "%s%s%s", prefix, id, suffix);
	if (n >= 0 && n <= OCS_OP_MAX)
		return;
	/* Too long (a long Call-ID): a digest names it as surely. */
	unsigned char md[32];
	unsigned len = 0;
	EVP_Digest(id, strlen(id), md, &len, EVP_sha256(), NULL);
	char hex[41];
	for (int i = 0; i < 20; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	snprintf(out, OCS_OP_MAX + 1, "%s#%s%s", prefix, hex, suffix);
}

int ocs_op_begin(struct ocs *o, const char *op_id, ocs_grant_fn done, void *ctx,
                 struct ocs_op **out)
{
	pthread_mutex_lock(&o->mu);
	struct ocs_op *op = ocs_map_get(&o->ops, op_id);
	if (op && op->done) {
		struct ocs_grant g = op->grant;
		pthread_mutex_unlock(&o->mu);
		done(ctx, &g);
		return OCS_OP_ANSWERED;
	}
	if (op) {
		struct ocs_waiter *w = malloc(sizeof(*w));
		if (!w) {
			pthread_mutex_unlock(&o->mu);
			return -ENOMEM;
		}
		w->fn = done;
		w->ctx = ctx;
		w->next = op->waiters;
		op->waiters = w;
		pthread_mutex_unlock(&o->mu);
		return OCS_OP_WAIT;
	}
	op = calloc(1, sizeof(*op));
	struct ocs_waiter *w = malloc(sizeof(*w));
	if (!op || !w || ocs_map_put(&o->ops, op_id, op) != 0) {
		pthread_mutex_unlock(&o->mu);
		free(op);
		free(w);
		return -ENOMEM;
	}
	snprintf(op->id, sizeof(op->id), "%s", op_id);
	w->fn = done;
	w->ctx = ctx;
	w->next = NULL;
	op->waiters = w;
	pthread_mutex_unlock(&o->mu);
	*out = op;
	return OCS_OP_NEW;
}

void ocs_op_finish(struct ocs *o, struct ocs_op *op, const struct ocs_grant *g, bool keep)
{
	pthread_mutex_lock(&o->mu);
	struct ocs_waiter *w = op->waiters;
	op->waiters = NULL;
	if (keep) {
		op->done = true;
		op->grant = *g;
		op->at = clock_now();
	} else {
		ocs_map_del(&o->ops, op->id);
	}
	pthread_mutex_unlock(&o->mu);
	/* Answered outside the lock: a callback may ask again at once. */
	while (w) {
		struct ocs_waiter *next = w->next;
		w->fn(w->ctx, g);
		free(w);
		w = next;
	}
	if (!keep)
		free(op);
}

/* Forgets operations older than the window (their rows stay in the ledger). */
struct prune_ctx {
	int64_t before;
	char **ids;
	size_t n, cap;
};

static void prune_one(void *ctx_, void *val)
{
	struct prune_ctx *ctx = ctx_;
	struct ocs_op *op = val;
	if (!op->done || op->at >= ctx->before)
		return;
	if (ctx->n == ctx->cap) {
		size_t cap = ctx->cap ? ctx->cap * 2 : 256;
		char **v = realloc(ctx->ids, cap * sizeof(*v));
		if (!v)
			return;
		ctx->ids = v;
		ctx->cap = cap;
	}
	ctx->ids[ctx->n++] = op->id;
}

void ocs_ops_prune(struct ocs *o, int64_t now)
{
	struct prune_ctx ctx = {.before = now - OCS_OP_WINDOW};
	pthread_mutex_lock(&o->mu);
	ocs_map_each(&o->ops, prune_one, &ctx);
	for (size_t i = 0; i < ctx.n; i++)
		free(ocs_map_del(&o->ops, ctx.ids[i]));
	pthread_mutex_unlock(&o->mu);
	free(ctx.ids);
}

/* The recent operations' outcomes, from the ledger, so that a retry after a
 * restart is answered as the first time. */
static int ops_load(struct ocs *o)
{
	struct store_stmt *s;
	int rc = 0, step;
	store_lock(o->st);
	if (store_prepare(o->st,
	                  "SELECT op_id, quantity, reason, at FROM ocs_ledger WHERE at >= $1",
	                  &s) != 0) {
		store_unlock(o->st);
		return -EIO;
	}
	store_bind_int64(s, 1, clock_now() - OCS_OP_WINDOW);
	while ((step = store_step(s)) == STORE_ROW) {
		struct ocs_op *op = calloc(1, sizeof(*op));
		if (!op) {
			rc = -ENOMEM;
			break;
		}
		snprintf(op->id, sizeof(op->id), "%s", store_col_text(s, 0));
		op->done = true;
		op->grant.seconds = (uint32_t)store_col_int64(s, 1);
		snprintf(op->grant.reason, sizeof(op->grant.reason), "%s", store_col_text(s, 2));
		op->at = store_col_int64(s, 3);
		if (ocs_map_put(&o->ops, op->id, op) != 0) {
			free(op);
			rc = -ENOMEM;
			break;
		}
	}
	if (step < 0)
		rc = -EIO;
	store_reset(s);
	store_unlock(o->st);
	return rc;
}

/* --- open and close ----------------------------------------------------------------- */

static void free_account(void *v)
{
	struct ocs_account *a = v;
	pthread_mutex_destroy(&a->mu);
	free(a);
}

static void free_session(void *v)
{
	struct ocs_session *s = v;
	free(s->slices);
	free(s);
}

static void free_op(void *v)
{
	struct ocs_op *op = v;
	/* Waiters left at close were answered by the stopped queue already;
	 * none can remain, but their memory must not leak if one did. */
	while (op->waiters) {
		struct ocs_waiter *n = op->waiters->next;
		free(op->waiters);
		op->waiters = n;
	}
	free(op);
}

int ocs_open(struct store *st, struct store_queue *q, struct hlr_registry *reg, struct ocs **out)
{
	struct ocs *o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->st = st;
	o->q = q;
	o->reg = reg;
	o->schedule_month = -1;
	pthread_mutex_init(&o->mu, NULL);
	pthread_mutex_init(&o->submit_mu, NULL);
	pthread_cond_init(&o->vcv, NULL);
	int rc = ocs_plans_load(o);
	if (rc == 0)
		rc = ocs_orgs_load(o);
	if (rc == 0)
		rc = ocs_ledger_load_seq(o);
	if (rc == 0)
		rc = ocs_accounts_load(o);
	if (rc == 0)
		rc = ops_load(o);
	if (rc == 0)
		rc = ocs_vouchers_load(o);
	if (rc == 0)
		rc = ocs_sessions_settle(o);
	if (rc == 0)
		rc = ocs_vouchers_start(o);
	if (rc != 0) {
		LOGE("ocs", "cannot load the charging data: %s", strerror(-rc));
		ocs_close(o);
		return rc == -ENOMEM ? -ENOMEM : -EIO;
	}
	LOGN("ocs", "charging: %u plans, %u tariffs, %zu accounts, %u card batches", o->n_plans,
	     o->n_tariffs, o->accounts.n, o->n_batches);
	*out = o;
	return 0;
}

void ocs_close(struct ocs *o)
{
	if (!o)
		return;
	ocs_vouchers_stop(o);
	ocs_map_free(&o->accounts, free_account);
	ocs_map_free(&o->ops, free_op);
	ocs_map_free(&o->sessions, free_session);
	ocs_map_free(&o->pins, free);
	ocs_map_free(&o->redeeming, NULL);
	free(o->plans);
	free(o->tariffs);
	free(o->orgs);
	free(o->batches);
	pthread_mutex_destroy(&o->mu);
	pthread_mutex_destroy(&o->submit_mu);
	pthread_cond_destroy(&o->vcv);
	free(o);
}
