/* The policy engine's state: loading it from the store, the operator's
 * changes (durable and audited before they are visible, announced after),
 * and the copies the API lists. Number analysis is numbering.c, the checks
 * rights.c, the profile's files install.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "common/clock.h"
#include "common/log.h"
#include "policy/policy_internal.h"
#include "store/store.h"

/* --- loading ---------------------------------------------------------------- */

/* Reads every row of sql, growing *v; row() fills one element. Caller holds
 * the store lock. 0, -ENOMEM, -EIO. */
static int load_rows(struct store *st, const char *sql, void **v, size_t *n, size_t sz,
                     int (*row)(struct policy *p, struct store_stmt *s, void *elem),
                     struct policy *p)
{
	struct store_stmt *s;
	size_t cap = 0;
	int step, rc = 0;
	if (store_prepare(st, sql, &s) != 0)
		return -EIO;
	while ((step = store_step(s)) == STORE_ROW) {
		if (*n == cap) {
			size_t c = cap ? cap * 2 : 16;
			void *nv = realloc(*v, c * sz);
			if (!nv) {
				rc = -ENOMEM;
				break;
			}
			*v = nv;
			cap = c;
		}
		if (row(p, s, (char *)*v + *n * sz) != 0) {
			rc = -EIO;
			break;
		}
		(*n)++;
	}
	store_reset(s);
	return rc ? rc : step < 0 ? -EIO : 0;
}

static int switch_load(struct policy *p, struct store_stmt *s, void *elem)
{
	struct policy_switch *w = elem;
	(void)p;
	memset(w, 0, sizeof(*w));
	store_col_copy(s, 0, w->name, sizeof(w->name));
	w->enabled = store_col_int64(s, 1) != 0;
	store_col_copy(s, 2, w->description, sizeof(w->description));
	w->updated_at = store_col_int64(s, 3);
	return 0;
}

static int num_load(struct policy *p, struct store_stmt *s, void *elem)
{
	char f[7][POLICY_REASON_MAX], reason[200];
	const char *fp[7];
	for (int i = 0; i < 7; i++) {
		store_col_copy(s, i, f[i], sizeof(f[i]));
		fp[i] = f[i];
	}
	/* Prefix rules keep their lengths as 0, which the rule reads as absent. */
	if (strcmp(f[3], "0") == 0)
		f[3][0] = '\0';
	if (strcmp(f[4], "0") == 0)
		f[4][0] = '\0';
	if (policy_num_compile(p->profile, fp, elem, reason, sizeof(reason)) != 0) {
		LOGE("policy", "numbering rule '%s' in the store: %s", f[0], reason);
		return -1;
	}
	return 0;
}

static int right_load(struct policy *p, struct store_stmt *s, void *elem)
{
	struct policy_right r;
	struct policy_error e;
	memset(&r, 0, sizeof(r));
	store_col_copy(s, 0, r.name, sizeof(r.name));
	r.priority = store_col_int64(s, 1);
	store_col_copy(s, 2, r.caller_class, sizeof(r.caller_class));
	store_col_copy(s, 3, r.service, sizeof(r.service));
	store_col_copy(s, 4, r.destination, sizeof(r.destination));
	store_col_copy(s, 5, r.callee_class, sizeof(r.callee_class));
	const char *verdict = store_col_text(s, 6);
	r.allow = verdict && strcmp(verdict, "allow") == 0;
	store_col_copy(s, 7, r.switch_name, sizeof(r.switch_name));
	store_col_copy(s, 8, r.reason, sizeof(r.reason));
	if (policy_right_compile(p, &r, elem, &e) != 0) {
		LOGE("policy", "right '%s' in the store: %s: %s", r.name, e.field, e.msg);
		return -1;
	}
	return 0;
}

static int gate_load(struct policy *p, struct store_stmt *s, void *elem)
{
	char c[POLICY_NAME_MAX], apn[64], sw[POLICY_NAME_MAX], reason[200];
	store_col_copy(s, 0, c, sizeof(c));
	store_col_copy(s, 1, apn, sizeof(apn));
	store_col_copy(s, 2, sw, sizeof(sw));
	if (policy_gate_compile(p, c, apn, sw, elem, reason, sizeof(reason)) != 0) {
		LOGE("policy", "APN switch of class '%s' in the store: %s", c, reason);
		return -1;
	}
	return 0;
}

int policy_open(struct store *st, const struct hlr_profile *profile, struct policy **out)
{
	struct policy *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->st = st;
	p->profile = profile;
	pthread_rwlock_init(&p->lock, NULL);
	pthread_mutex_init(&p->change_lock, NULL);

	store_lock(st);
	/* Switches and numbering first: the rights and gates refer to them. */
	int rc = load_rows(st,
	                   "SELECT name, enabled, description, updated_at FROM policy_switch "
	                   "ORDER BY name",
	                   (void **)&p->sw, &p->n_sw, sizeof(*p->sw), switch_load, p);
	if (rc == 0)
		rc = load_rows(st,
		               "SELECT name, kind, prefix, min_length, max_length, group_class, "
		               "description FROM policy_numbering",
		               (void **)&p->num, &p->n_num, sizeof(*p->num), num_load, p);
	if (rc == 0)
		rc =
		    load_rows(st,
		              "SELECT name, priority, caller_class, service, destination, "
		              "callee_class, verdict, switch, reason FROM policy_right",
		              (void **)&p->rights, &p->n_rights, sizeof(*p->rights), right_load, p);
	if (rc == 0)
		rc = load_rows(st, "SELECT class, apn, switch FROM policy_apn_switch",
		               (void **)&p->gates, &p->n_gates, sizeof(*p->gates), gate_load, p);
	if (rc == 0) {
		struct store_stmt *s;
		if (store_prepare(st, "SELECT max(id) FROM policy_audit", &s) != 0) {
			rc = -EIO;
		} else {
			if (store_step(s) == STORE_ROW)
				p->next_audit_id = store_col_int64(s, 0) + 1;
			else
				rc = -EIO;
			store_reset(s);
		}
	}
	store_unlock(st);
	if (rc != 0) {
		policy_close(p);
		return rc;
	}
	policy_num_sort(p->num, p->n_num);
	policy_rights_sort(p->rights, p->n_rights);
	LOGI("policy", "%zu switches, %zu dialling rules, %zu rights, %zu APN switches", p->n_sw,
	     p->n_num, p->n_rights, p->n_gates);
	*out = p;
	return 0;
}

void policy_close(struct policy *p)
{
	if (!p)
		return;
	pthread_rwlock_destroy(&p->lock);
	pthread_mutex_destroy(&p->change_lock);
	free(p->sw);
	free(p->num);
	free(p->rights);
	free(p->gates);
	free(p);
}

int policy_subscribe(struct policy *p, policy_change_fn fn, void *ctx)
{
	int rc = -ENOSPC;
	pthread_mutex_lock(&p->change_lock);
	if (p->n_subs < POLICY_MAX_SUBSCRIBERS) {
		p->subs[p->n_subs++] = (struct policy_sub){fn, ctx};
		rc = 0;
	}
	pthread_mutex_unlock(&p->change_lock);
	return rc;
}

/* --- copies for the operator ------------------------------------------------ */

/* Copies n elements of sz from src (each stride bytes apart: the public part
 * leads each compiled rule) under the shared lock. */
static int copy_out(struct policy *p, const void *const *src, const size_t *count, size_t stride,
                    size_t sz, void **out, size_t *n)
{
	pthread_rwlock_rdlock(&p->lock);
	size_t k = *count;
	char *v = k ? malloc(k * sz) : NULL;
	if (k && !v) {
		pthread_rwlock_unlock(&p->lock);
		return -ENOMEM;
	}
	for (size_t i = 0; i < k; i++)
		memcpy(v + i * sz, (const char *)*src + i * stride, sz);
	pthread_rwlock_unlock(&p->lock);
	*out = v;
	*n = k;
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct policy_numbering_rule *)a)->name,
	              ((const struct policy_numbering_rule *)b)->name);
}

int policy_numbering_list(struct policy *p, struct policy_numbering_rule **out, size_t *n)
{
	int rc = copy_out(p, (const void *const *)&p->num, &p->n_num, sizeof(*p->num),
	                  sizeof(**out), (void **)out, n);
	if (rc == 0 && *n > 1)
		qsort(*out, *n, sizeof(**out), name_cmp);
	return rc;
}

int policy_rights_list(struct policy *p, struct policy_right **out, size_t *n)
{
	return copy_out(p, (const void *const *)&p->rights, &p->n_rights, sizeof(*p->rights),
	                sizeof(**out), (void **)out, n);
}

int policy_switches_list(struct policy *p, struct policy_switch **out, size_t *n)
{
	return copy_out(p, (const void *const *)&p->sw, &p->n_sw, sizeof(*p->sw), sizeof(**out),
	                (void **)out, n);
}

int policy_apn_switches_list(struct policy *p, struct policy_apn_switch **out, size_t *n)
{
	return copy_out(p, (const void *const *)&p->gates, &p->n_gates, sizeof(*p->gates),
	                sizeof(**out), (void **)out, n);
}

int policy_switch_get(struct policy *p, const char *name, struct policy_switch *out)
{
	pthread_rwlock_rdlock(&p->lock);
	int i = policy_switch_index(p, name);
	if (i >= 0)
		*out = p->sw[i];
	pthread_rwlock_unlock(&p->lock);
	return i >= 0 ? 0 : -ENOENT;
}

static ssize_t right_index(const struct policy *p, const char *name)
{
	for (size_t i = 0; i < p->n_rights; i++) {
		if (strcmp(p->rights[i].r.name, name) == 0)
			return (ssize_t)i;
	}
	return -1;
}

int policy_right_get(struct policy *p, const char *name, struct policy_right *out)
{
	pthread_rwlock_rdlock(&p->lock);
	ssize_t i = right_index(p, name);
	if (i >= 0)
		*out = p->rights[i].r;
	pthread_rwlock_unlock(&p->lock);
	return i >= 0 ? 0 : -ENOENT;
}

/* --- changes ------------------------------------------------------------------ */

/* Runs one statement with text parameters (NULL binds NULL). Store locked. */
static int exec(struct store *st, const char *sql, const char *const *v, unsigned n)
{
	struct store_stmt *s;
	if (store_prepare(st, sql, &s) != 0)
		return -1;
	for (unsigned i = 0; i < n; i++)
		store_bind_text(s, (int)i + 1, v[i]);
	int rc = store_step(s);
	store_reset(s);
	return rc == STORE_DONE ? 0 : -1;
}

/* Appends the audit record inside the caller's transaction. Store locked,
 * change_lock held (the id is taken only once the commit succeeds). */
static int audit(struct policy *p, int64_t now, const char *actor, const char *object,
                 const char *before, const char *after)
{
	char id[24], at[24];
	snprintf(id, sizeof(id), "%lld", (long long)p->next_audit_id);
	snprintf(at, sizeof(at), "%lld", (long long)now);
	const char *v[] = {id, at, actor, object, before, after};
	return exec(p->st,
	            "INSERT INTO policy_audit (id, at, actor, object, before, after) VALUES "
	            "(CAST($1 AS BIGINT), CAST($2 AS BIGINT), $3, $4, $5, $6)",
	            v, 6);
}

/* Commits the transaction the caller began, or rolls it back. Store locked. */
static int finish(struct policy *p, int rc)
{
	if (rc == 0 && store_commit(p->st) == 0) {
		p->next_audit_id++;
		return 0;
	}
	store_rollback(p->st);
	return -EIO;
}

/* Tells every subscriber, outside the engine's locks. */
static void announce(struct policy *p, const struct policy_change *chg)
{
	struct policy_sub subs[POLICY_MAX_SUBSCRIBERS];
	unsigned n;
	pthread_mutex_lock(&p->change_lock);
	n = p->n_subs;
	memcpy(subs, p->subs, n * sizeof(*subs));
	pthread_mutex_unlock(&p->change_lock);
	LOGN("policy", "%s", chg->what);
	for (unsigned i = 0; i < n; i++)
		subs[i].fn(subs[i].ctx, chg);
}

/* Widens chg->class_id to cover class c (-1: every class). */
static void affect(struct policy_change *chg, bool *any, int c)
{
	if (!*any)
		chg->class_id = c;
	else if (chg->class_id != c)
		chg->class_id = -1;
	*any = true;
}

int policy_switch_set(struct policy *p, const char *name, bool enabled, const char *actor)
{
	struct policy_change chg = {.class_id = -1};
	bool any = false;
	int64_t now = clock_now();

	pthread_mutex_lock(&p->change_lock);
	int i = policy_switch_index(p, name);
	if (i < 0) {
		pthread_mutex_unlock(&p->change_lock);
		return -ENOENT;
	}
	if (p->sw[i].enabled == enabled) {
		pthread_mutex_unlock(&p->change_lock);
		return 0;
	}
	char at[24], object[64];
	snprintf(at, sizeof(at), "%lld", (long long)now);
	snprintf(object, sizeof(object), "switch %s", name);
	const char *v[] = {enabled ? "1" : "0", at, name};
	store_lock(p->st);
	int rc = store_begin(p->st);
	if (rc == 0)
		rc = exec(p->st,
		          "UPDATE policy_switch SET enabled = CAST($1 AS BIGINT), updated_at = "
		          "CAST($2 AS BIGINT) WHERE name = $3",
		          v, 3);
	if (rc == 0)
		rc = audit(p, now, actor, object, enabled ? "off" : "on", enabled ? "on" : "off");
	rc = finish(p, rc);
	store_unlock(p->st);
	if (rc == 0) {
		pthread_rwlock_wrlock(&p->lock);
		p->sw[i].enabled = enabled;
		p->sw[i].updated_at = now;
		pthread_rwlock_unlock(&p->lock);
		/* Who must look again: the classes whose rights or APNs the
		 * switch gates. The arrays cannot change: change_lock is held. */
		for (size_t k = 0; k < p->n_rights; k++) {
			if (p->rights[k].sw == i) {
				chg.rights = true;
				affect(&chg, &any,
				       p->rights[k].caller == RIGHT_ANY ? -1 : p->rights[k].caller);
			}
		}
		for (size_t k = 0; k < p->n_gates; k++) {
			if (p->gates[k].sw == i) {
				chg.apns = true;
				affect(&chg, &any, p->gates[k].class_id);
			}
		}
		snprintf(chg.what, sizeof(chg.what), "switch %.31s %s (by %.40s)", name,
		         enabled ? "on" : "off", actor);
	}
	pthread_mutex_unlock(&p->change_lock);
	if (rc == 0 && any)
		announce(p, &chg);
	else if (rc == 0)
		LOGN("policy", "switch %s %s (by %s): no right or APN uses it", name,
		     enabled ? "on" : "off", actor);
	return rc;
}

/* Writes the right (or deletes it: r NULL) named name, with its audit
 * record. Store locked. 0 or -1. */
static int right_write(struct policy *p, const char *name, const struct policy_right *r,
                       const char *before, const char *after, const char *actor, int64_t now)
{
	char object[64];
	const char *n[] = {name};
	snprintf(object, sizeof(object), "right %s", name);
	if (exec(p->st, "DELETE FROM policy_right WHERE name = $1", n, 1) != 0)
		return -1;
	if (r) {
		char prio[24];
		snprintf(prio, sizeof(prio), "%lld", (long long)r->priority);
		const char *v[] = {r->name,
		                   prio,
		                   r->caller_class,
		                   r->service,
		                   r->destination,
		                   r->callee_class,
		                   r->allow ? "allow" : "deny",
		                   r->switch_name,
		                   r->reason};
		if (exec(p->st,
		         "INSERT INTO policy_right (name, priority, caller_class, service, "
		         "destination, callee_class, verdict, switch, reason) VALUES ($1, CAST($2 "
		         "AS "
		         "BIGINT), $3, $4, $5, $6, $7, $8, $9)",
		         v, 9) != 0)
			return -1;
	}
	return audit(p, now, actor, object, before, after);
}

/* Replaces the rights array by one with element `at` replaced by *nr (at ==
 * n: appended), or removed (nr NULL); writes it durably first. change_lock
 * held. 0 or -EIO/-ENOMEM. */
static int rights_swap(struct policy *p, ssize_t at, const struct right_rule *nr, const char *name,
                       const char *actor)
{
	size_t n = p->n_rights;
	size_t nn = nr ? (at < (ssize_t)n ? n : n + 1) : n - 1;
	struct right_rule *v = malloc((nn ? nn : 1) * sizeof(*v));
	char before[POLICY_AUDIT_MAX] = "", after[POLICY_AUDIT_MAX] = "";
	int64_t now = clock_now();
	if (!v)
		return -ENOMEM;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if ((ssize_t)i == at)
			continue;
		v[k++] = p->rights[i];
	}
	if (nr)
		v[k++] = *nr;
	policy_rights_sort(v, k);
	if (at < (ssize_t)n)
		policy_right_format(&p->rights[at].r, before, sizeof(before));
	if (nr)
		policy_right_format(&nr->r, after, sizeof(after));

	store_lock(p->st);
	int rc = store_begin(p->st);
	if (rc == 0)
		rc = right_write(p, name, nr ? &nr->r : NULL, before, after, actor, now);
	rc = finish(p, rc);
	store_unlock(p->st);
	if (rc != 0) {
		free(v);
		return rc;
	}
	pthread_rwlock_wrlock(&p->lock);
	struct right_rule *old = p->rights;
	p->rights = v;
	p->n_rights = k;
	pthread_rwlock_unlock(&p->lock);
	free(old);
	return 0;
}

int policy_right_put(struct policy *p, const struct policy_right *r, const char *actor,
                     struct policy_error *err)
{
	struct right_rule nr;
	struct policy_change chg = {.rights = true};
	memset(err, 0, sizeof(*err));

	pthread_mutex_lock(&p->change_lock);
	if (policy_right_compile(p, r, &nr, err) != 0) {
		pthread_mutex_unlock(&p->change_lock);
		return -EINVAL;
	}
	ssize_t at = right_index(p, r->name);
	for (size_t i = 0; i < p->n_rights; i++) {
		if (p->rights[i].r.priority == r->priority && (ssize_t)i != at) {
			snprintf(err->field, sizeof(err->field), "priority");
			snprintf(err->msg, sizeof(err->msg),
			         "%lld is already the priority of right %.31s",
			         (long long)r->priority, p->rights[i].r.name);
			pthread_mutex_unlock(&p->change_lock);
			return -EEXIST;
		}
	}
	bool replaced = at >= 0;
	chg.class_id = nr.caller == RIGHT_ANY ? -1 : nr.caller;
	if (replaced && p->rights[at].caller != nr.caller)
		chg.class_id = -1;
	int rc = rights_swap(p, replaced ? at : (ssize_t)p->n_rights, &nr, r->name, actor);
	pthread_mutex_unlock(&p->change_lock);
	if (rc != 0)
		return rc == -ENOMEM ? -EIO : rc;
	snprintf(chg.what, sizeof(chg.what), "right %.31s %s (by %.40s)", r->name,
	         replaced ? "replaced" : "added", actor);
	announce(p, &chg);
	return replaced ? 1 : 0;
}

int policy_right_delete(struct policy *p, const char *name, const char *actor)
{
	struct policy_change chg = {.rights = true};
	pthread_mutex_lock(&p->change_lock);
	ssize_t at = right_index(p, name);
	if (at < 0) {
		pthread_mutex_unlock(&p->change_lock);
		return -ENOENT;
	}
	chg.class_id = p->rights[at].caller == RIGHT_ANY ? -1 : p->rights[at].caller;
	int rc = rights_swap(p, at, NULL, name, actor);
	pthread_mutex_unlock(&p->change_lock);
	if (rc != 0)
		return -EIO;
	snprintf(chg.what, sizeof(chg.what), "right %.31s deleted (by %.40s)", name, actor);
	announce(p, &chg);
	return 0;
}

int policy_audit_list(struct policy *p, int64_t after, unsigned limit, policy_audit_fn fn,
                      void *ctx)
{
	return store_audit_list(p->st,
	                        "SELECT id, at, actor, object, before, after FROM policy_audit "
	                        "WHERE id > $1 ORDER BY id LIMIT $2",
	                        after, limit, fn, ctx);
}
