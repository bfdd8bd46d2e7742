/* Installing a profile's policy files (docs/policy.md, "Files"): every file
 * is read and every row checked into memory first, against the profile and
 * the files before it; only then is anything written, in one transaction. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/csv.h"
#include "common/hex.h"
#include "common/log.h"
#include "policy/policy_internal.h"
#include "store/store.h"

struct install {
	struct policy p; /* the rules read so far (lock and subscribers unused) */
	size_t cap_num, cap_rights, cap_sw, cap_gates;
};

/* Grows *v (of *cap elements of size sz) to hold n + 1. 0 or -1. */
static int grow(void **v, size_t *cap, size_t n, size_t sz)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 16;
	void *nv = realloc(*v, c * sz);
	if (!nv)
		return -1;
	*v = nv;
	*cap = c;
	return 0;
}

/* One of the engine's files: csv_read_file(), and a line in the log when the
 * profile has none (an empty set of that kind). */
static int read_file(struct install *in, const char *dir, const char *file, const char *header,
                     csv_row_fn fn, char *err, size_t errcap)
{
	bool absent;
	int rc = csv_read_file(dir, file, header, fn, in, &absent, err, errcap);
	if (rc == 0 && absent)
		LOGN("policy", "%s/%s: no such file: no rows of this kind", dir, file);
	return rc;
}

static int switch_row(void *ctx, char **f, char *reason, size_t cap)
{
	struct install *in = ctx;
	struct policy *p = &in->p;
	if (!policy_name_valid(f[0])) {
		snprintf(reason, cap,
		         "name: '%.40s' is not a name (1 to 31 of a-z, 0-9, '_', '-', starting "
		         "with a letter)",
		         f[0]);
		return -1;
	}
	if (policy_switch_index(p, f[0]) >= 0) {
		snprintf(reason, cap, "switch '%s' given twice", f[0]);
		return -1;
	}
	if (strcmp(f[1], "on") != 0 && strcmp(f[1], "off") != 0) {
		snprintf(reason, cap, "enabled: expected on or off, got '%.40s'", f[1]);
		return -1;
	}
	if (strlen(f[2]) >= POLICY_REASON_MAX) {
		snprintf(reason, cap, "description: longer than %d characters",
		         POLICY_REASON_MAX - 1);
		return -1;
	}
	if (grow((void **)&p->sw, &in->cap_sw, p->n_sw, sizeof(*p->sw)) != 0) {
		snprintf(reason, cap, "out of memory");
		return -1;
	}
	struct policy_switch *s = &p->sw[p->n_sw++];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", f[0]);
	s->enabled = strcmp(f[1], "on") == 0;
	snprintf(s->description, sizeof(s->description), "%s", f[2]);
	return 0;
}

static int numbering_row(void *ctx, char **f, char *reason, size_t cap)
{
	struct install *in = ctx;
	struct policy *p = &in->p;
	struct num_rule r;
	if (policy_num_compile(p->profile, (const char *const *)f, &r, reason, cap) != 0)
		return -1;
	for (size_t i = 0; i < p->n_num; i++) {
		if (strcmp(p->num[i].r.name, r.r.name) == 0) {
			snprintf(reason, cap, "rule '%s' given twice", r.r.name);
			return -1;
		}
	}
	if (grow((void **)&p->num, &in->cap_num, p->n_num, sizeof(*p->num)) != 0) {
		snprintf(reason, cap, "out of memory");
		return -1;
	}
	p->num[p->n_num++] = r;
	return 0;
}

/* The text fields of a right into r; 0, or -1 with reason. */
static int right_fields(char **f, struct policy_right *r, char *reason, size_t cap)
{
	static const char *const names[] = {"name",    "priority",    "class",
	                                    "service", "destination", "callee_class",
	                                    "verdict", "switch",      "reason"};
	size_t sizes[] = {sizeof(r->name),
	                  0,
	                  sizeof(r->caller_class),
	                  sizeof(r->service),
	                  sizeof(r->destination),
	                  sizeof(r->callee_class),
	                  0,
	                  sizeof(r->switch_name),
	                  sizeof(r->reason)};
	memset(r, 0, sizeof(*r));
	for (unsigned i = 0; i < 9; i++) {
		if (sizes[i] && strlen(f[i]) >= sizes[i]) {
			snprintf(reason, cap, "%s: longer than %zu characters", names[i],
			         sizes[i] - 1);
			return -1;
		}
	}
	if (!str_is_digits(f[1], 1, 10)) {
		snprintf(reason, cap,
		         "priority: expected an integer from 0 to 1000000000, got '%.40s'", f[1]);
		return -1;
	}
	if (strcmp(f[6], "allow") != 0 && strcmp(f[6], "deny") != 0) {
		snprintf(reason, cap, "verdict: expected allow or deny, got '%.40s'", f[6]);
		return -1;
	}
	snprintf(r->name, sizeof(r->name), "%s", f[0]);
	r->priority = strtoll(f[1], NULL, 10);
	snprintf(r->caller_class, sizeof(r->caller_class), "%s", f[2]);
	snprintf(r->service, sizeof(r->service), "%s", f[3]);
	snprintf(r->destination, sizeof(r->destination), "%s", f[4]);
	snprintf(r->callee_class, sizeof(r->callee_class), "%s", f[5]);
	r->allow = strcmp(f[6], "allow") == 0;
	snprintf(r->switch_name, sizeof(r->switch_name), "%s", f[7]);
	snprintf(r->reason, sizeof(r->reason), "%s", f[8]);
	return 0;
}

static int right_row(void *ctx, char **f, char *reason, size_t cap)
{
	struct install *in = ctx;
	struct policy *p = &in->p;
	struct policy_right r;
	struct right_rule c;
	struct policy_error e;
	if (right_fields(f, &r, reason, cap) != 0)
		return -1;
	if (policy_right_compile(p, &r, &c, &e) != 0) {
		snprintf(reason, cap, "%s: %s", e.field, e.msg);
		return -1;
	}
	for (size_t i = 0; i < p->n_rights; i++) {
		if (strcmp(p->rights[i].r.name, r.name) == 0) {
			snprintf(reason, cap, "right '%s' given twice", r.name);
			return -1;
		}
		if (p->rights[i].r.priority == r.priority) {
			snprintf(reason, cap, "priority: %lld is already right '%s''s",
			         (long long)r.priority, p->rights[i].r.name);
			return -1;
		}
	}
	if (grow((void **)&p->rights, &in->cap_rights, p->n_rights, sizeof(*p->rights)) != 0) {
		snprintf(reason, cap, "out of memory");
		return -1;
	}
	p->rights[p->n_rights++] = c;
	return 0;
}

static int gate_row(void *ctx, char **f, char *reason, size_t cap)
{
	struct install *in = ctx;
	struct policy *p = &in->p;
	struct apn_gate g;
	if (policy_gate_compile(p, f[0], f[1], f[2], &g, reason, cap) != 0)
		return -1;
	for (size_t i = 0; i < p->n_gates; i++) {
		if (p->gates[i].class_id == g.class_id && strcmp(p->gates[i].r.apn, g.r.apn) == 0) {
			snprintf(reason, cap, "class %s, APN %s given twice", f[0], g.r.apn);
			return -1;
		}
	}
	if (grow((void **)&p->gates, &in->cap_gates, p->n_gates, sizeof(*p->gates)) != 0) {
		snprintf(reason, cap, "out of memory");
		return -1;
	}
	p->gates[p->n_gates++] = g;
	return 0;
}

/* One INSERT per row, bound from text. 0 or -1. */
static int insert(struct store *st, const char *sql, const char *const *v, unsigned n)
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

static int write_all(struct store *st, const struct policy *p)
{
	char a[24], b[24];
	for (size_t i = 0; i < p->n_sw; i++) {
		const struct policy_switch *s = &p->sw[i];
		const char *v[] = {s->name, s->enabled ? "1" : "0", s->description};
		if (insert(st,
		           "INSERT INTO policy_switch (name, enabled, description, updated_at) "
		           "VALUES ($1, CAST($2 AS BIGINT), $3, 0)",
		           v, 3) != 0)
			return -1;
	}
	for (size_t i = 0; i < p->n_num; i++) {
		const struct policy_numbering_rule *r = &p->num[i].r;
		snprintf(a, sizeof(a), "%u", r->min_length);
		snprintf(b, sizeof(b), "%u", r->max_length);
		const char *v[] = {r->name, r->kind, r->prefix, a, b, r->group, r->description};
		if (insert(st,
		           "INSERT INTO policy_numbering (name, kind, prefix, min_length, "
		           "max_length, group_class, description) VALUES ($1, $2, $3, CAST($4 AS "
		           "BIGINT), CAST($5 AS BIGINT), $6, $7)",
		           v, 7) != 0)
			return -1;
	}
	for (size_t i = 0; i < p->n_rights; i++) {
		const struct policy_right *r = &p->rights[i].r;
		snprintf(a, sizeof(a), "%lld", (long long)r->priority);
		const char *v[] = {r->name,
		                   a,
		                   r->caller_class,
		                   r->service,
		                   r->destination,
		                   r->callee_class,
		                   r->allow ? "allow" : "deny",
		                   r->switch_name,
		                   r->reason};
		if (insert(st,
		           "INSERT INTO policy_right (name, priority, caller_class, service, "
		           "destination, callee_class, verdict, switch, reason) VALUES ($1, "
		           "CAST($2 AS BIGINT), $3, $4, $5, $6, $7, $8, $9)",
		           v, 9) != 0)
			return -1;
	}
	for (size_t i = 0; i < p->n_gates; i++) {
		const struct policy_apn_switch *g = &p->gates[i].r;
		const char *v[] = {g->class_name, g->apn, g->switch_name};
		if (insert(st,
		           "INSERT INTO policy_apn_switch (class, apn, switch) VALUES ($1, $2, $3)",
		           v, 3) != 0)
			return -1;
	}
	return 0;
}

int policy_install(struct store *st, const struct hlr_profile *profile, const char *dir, char *err,
                   size_t errcap)
{
	struct install in = {.p = {.profile = profile}};
	int rc = -1;

	/* Switches and numbering first: rights and APN gates refer to them. */
	if (read_file(&in, dir, "switches.csv", "name,enabled,description", switch_row, err,
	              errcap) != 0 ||
	    read_file(&in, dir, "numbering.csv",
	              "name,kind,prefix,min_length,max_length,group,description", numbering_row,
	              err, errcap) != 0 ||
	    read_file(&in, dir, "rights.csv",
	              "name,priority,class,service,destination,callee_class,verdict,switch,reason",
	              right_row, err, errcap) != 0 ||
	    read_file(&in, dir, "apn_switches.csv", "class,apn,switch", gate_row, err, errcap) != 0)
		goto out;

	store_lock(st);
	if (store_begin(st) != 0) {
		store_unlock(st);
		snprintf(err, errcap, "store failure");
		goto out;
	}
	if (write_all(st, &in.p) != 0 || store_commit(st) != 0) {
		store_rollback(st);
		store_unlock(st);
		snprintf(err, errcap, "%s: store failure writing the policy", dir);
		goto out;
	}
	store_unlock(st);
	rc = 0;
out:
	free(in.p.sw);
	free(in.p.num);
	free(in.p.rights);
	free(in.p.gates);
	return rc;
}
