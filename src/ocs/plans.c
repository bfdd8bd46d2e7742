/* Plans, tariffs, currencies and organisations' caps: installed from a
 * profile's CSV files, loaded from the store, listed for the API
 * (docs/charging.md, "Files"). Caps are also set by the operator. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/csv.h"
#include "ocs/ocs_internal.h"
#include "store/store.h"

/* --- install ----------------------------------------------------------------------- */

struct install {
	struct store *st;
	char path[4096];
	unsigned line;
	char *err;
	size_t errcap;
};

static int bad(struct install *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct install *in, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(in->err, in->errcap, "%s:%u: %s", in->path, in->line, msg);
	return -1;
}

/* A non-negative integer of at most 15 digits; "" is def when def >= 0. */
static int parse_int(const char *s, long long def, long long *out)
{
	if (!*s && def >= 0) {
		*out = def;
		return 0;
	}
	if (!*s || strlen(s) > 15 || strspn(s, "0123456789") != strlen(s))
		return -1;
	*out = strtoll(s, NULL, 10);
	return 0;
}

static bool is_name(const char *s, size_t max)
{
	size_t n = strlen(s);
	return n >= 1 && n <= max && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

static int exists(struct store *st, const char *sql, const char *v)
{
	struct store_stmt *s;
	if (store_prepare(st, sql, &s) != 0)
		return -EIO;
	store_bind_text(s, 1, v);
	int rc = store_step(s);
	store_reset(s);
	return rc == STORE_ROW ? 1 : rc == STORE_DONE ? 0 : -EIO;
}

static int exec_row(struct install *in, const char *sql, const char *const *text,
                    const long long *ints, const char *types)
{
	struct store_stmt *s;
	if (store_prepare(in->st, sql, &s) != 0)
		return bad(in, "store failure");
	unsigned ti = 0, ii = 0;
	for (unsigned i = 0; types[i]; i++) {
		if (types[i] == 't')
			store_bind_text(s, (int)i + 1, text[ti++]);
		else if (types[i] == 'n')
			store_bind_null(s, (int)i + 1);
		else
			store_bind_int64(s, (int)i + 1, ints[ii++]);
	}
	int rc = store_step(s);
	store_reset(s);
	if (rc == -EEXIST)
		return bad(in, "'%s' given twice", text[0]);
	return rc == STORE_DONE ? 0 : bad(in, "store failure");
}

typedef int (*row_fn)(struct install *in, char **f);

/* Reads dir/file (header exactly as given) and runs fn per record. A missing
 * file is 1 when optional. */
static int read_csv(struct install *in, const char *dir, const char *file, const char *header,
                    unsigned ncols, row_fn fn, bool optional)
{
	snprintf(in->path, sizeof(in->path), "%s/%s", dir, file);
	in->line = 0;
	FILE *f = fopen(in->path, "r");
	if (!f) {
		if (optional && errno == ENOENT)
			return 1;
		snprintf(in->err, in->errcap, "%s: cannot open: %s", in->path, strerror(errno));
		return -1;
	}
	struct csv_reader r;
	csv_init(&r, f);
	char reason[160], got_header[512] = "";
	int rc = -1, got = csv_next(&r, reason, sizeof(reason));
	in->line = r.line ? r.line : 1;
	if (got == 1) {
		size_t n = 0;
		for (unsigned i = 0; i < r.n_fields && n < sizeof(got_header); i++)
			n += (size_t)snprintf(got_header + n, sizeof(got_header) - n, "%s%s",
			                      i ? "," : "", r.fields[i]);
	}
	if (got != 1 || strcmp(got_header, header) != 0) {
		bad(in, "expected header '%s'", header);
		goto out;
	}
	while ((got = csv_next(&r, reason, sizeof(reason))) == 1) {
		in->line = r.line;
		if (r.n_fields != ncols) {
			bad(in, "expected %u fields, got %u", ncols, r.n_fields);
			goto out;
		}
		if (fn(in, r.fields) != 0)
			goto out;
	}
	if (got < 0) {
		in->line = r.line;
		bad(in, "%s", reason);
		goto out;
	}
	rc = 0;
out:
	csv_free(&r);
	fclose(f);
	return rc;
}

static int currency_row(struct install *in, char **f)
{
	long long digits;
	if (strlen(f[0]) != 3 || strspn(f[0], "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 3)
		return bad(in, "column code: expected an ISO 4217 code (3 capital letters)");
	if (parse_int(f[1], -1, &digits) != 0 || digits > 3)
		return bad(in, "column minor_digits: expected 0 to 3");
	if (!*f[2] || strlen(f[2]) > 47)
		return bad(in, "column name: expected 1 to 47 characters");
	const char *t[] = {f[0], f[2]};
	return exec_row(in,
	                "INSERT INTO ocs_currency (code, minor_digits, name) VALUES ($1, $2, $3)",
	                (const char *const[]){t[0], t[1]}, &digits, "tit");
}

static int plan_row(struct install *in, char **f)
{
	/* name,class,description,payer,currency,fee,fee_months,initial_credit,
	 * allowance_minutes,allowance_sms */
	long long fee, months, initial, minutes, sms;
	if (!is_name(f[0], 31))
		return bad(in, "column name: expected 1 to 31 of a-z, 0-9, _");
	if (*f[1]) {
		int e = exists(in->st, "SELECT 1 FROM subscriber_class WHERE name = $1", f[1]);
		if (e < 0)
			return bad(in, "store failure");
		if (!e)
			return bad(in, "column class: no class '%s' in classes.csv", f[1]);
		e = exists(in->st, "SELECT 1 FROM ocs_plan WHERE class = $1", f[1]);
		if (e != 0)
			return bad(in, "column class: class '%s' has a plan already", f[1]);
	}
	if (!*f[2] || strlen(f[2]) > 159)
		return bad(in, "column description: expected 1 to 159 characters");
	if (strcmp(f[3], "subscriber") != 0 && strcmp(f[3], "organisation") != 0)
		return bad(in, "column payer: expected subscriber or organisation");
	if (parse_int(f[5], 0, &fee) != 0)
		return bad(in, "column fee: expected minor units (a non-negative integer)");
	if (parse_int(f[6], 0, &months) != 0 || (months && 12 % months != 0))
		return bad(in, "column fee_months: expected 0, 1, 2, 3, 4, 6 or 12");
	if (parse_int(f[7], 0, &initial) != 0)
		return bad(in, "column initial_credit: expected minor units");
	if (parse_int(f[8], 0, &minutes) != 0 || minutes > 1000000)
		return bad(in, "column allowance_minutes: expected 0 to 1000000");
	if (parse_int(f[9], 0, &sms) != 0 || sms > 1000000)
		return bad(in, "column allowance_sms: expected 0 to 1000000");
	if (*f[4]) {
		int e = exists(in->st, "SELECT 1 FROM ocs_currency WHERE code = $1", f[4]);
		if (e <= 0)
			return bad(in, "column currency: no currency '%s' in currencies.csv", f[4]);
	} else if (fee || initial) {
		return bad(in, "column currency: a fee or an initial credit needs a currency");
	}
	if (fee && !months)
		return bad(in, "column fee_months: a fee needs its period");
	long long ints[] = {fee, months, initial, minutes * 60, sms};
	struct store_stmt *s;
	if (store_prepare(in->st,
	                  "INSERT INTO ocs_plan (name, class, description, payer, currency, fee, "
	                  "fee_months, initial_credit, allowance_seconds, allowance_sms) VALUES "
	                  "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
	                  &s) != 0)
		return bad(in, "store failure");
	store_bind_text(s, 1, f[0]);
	if (*f[1])
		store_bind_text(s, 2, f[1]);
	else
		store_bind_null(s, 2);
	store_bind_text(s, 3, f[2]);
	store_bind_text(s, 4, f[3]);
	if (*f[4])
		store_bind_text(s, 5, f[4]);
	else
		store_bind_null(s, 5);
	for (int i = 0; i < 5; i++)
		store_bind_int64(s, 6 + i, ints[i]);
	int rc = store_step(s);
	store_reset(s);
	if (rc == -EEXIST)
		return bad(in, "plan '%s' given twice", f[0]);
	return rc == STORE_DONE ? 0 : bad(in, "store failure");
}

static int tariff_rank;

static int tariff_row(struct install *in, char **f)
{
	/* plan,destination,currency,per_minute,unit_seconds,per_sms,allowance */
	long long per_minute, unit, per_sms;
	int e = exists(in->st, "SELECT 1 FROM ocs_plan WHERE name = $1", f[0]);
	if (e < 0)
		return bad(in, "store failure");
	if (!e)
		return bad(in, "column plan: no plan '%s' in plans.csv", f[0]);
	const char *d = f[1];
	if (strncmp(d, "class:", 6) == 0) {
		e = exists(in->st, "SELECT 1 FROM subscriber_class WHERE name = $1", d + 6);
		if (e <= 0)
			return bad(in, "column destination: no class '%s'", d + 6);
	} else if (strcmp(d, "national") != 0 && strcmp(d, "international") != 0 &&
	           strcmp(d, "short_code") != 0) {
		return bad(in, "column destination: expected national, international, short_code "
		               "or class:NAME");
	}
	if (strlen(d) >= OCS_DEST_MAX)
		return bad(in, "column destination: too long");
	bool allowance;
	if (strcmp(f[6], "yes") == 0)
		allowance = true;
	else if (strcmp(f[6], "no") == 0)
		allowance = false;
	else
		return bad(in, "column allowance: expected yes or no");
	if (parse_int(f[4], -1, &unit) != 0 || unit < 1 || unit > 3600)
		return bad(in, "column unit_seconds: expected 1 to 3600");
	if (*f[2]) {
		e = exists(in->st, "SELECT 1 FROM ocs_currency WHERE code = $1", f[2]);
		if (e <= 0)
			return bad(in, "column currency: no currency '%s' in currencies.csv", f[2]);
		if (parse_int(f[3], -1, &per_minute) != 0)
			return bad(in, "column per_minute: expected minor units");
		if (parse_int(f[5], -1, &per_sms) != 0)
			return bad(in, "column per_sms: expected minor units");
		/* Each charging unit costs whole minor units. */
		if ((per_minute * unit) % 60 != 0)
			return bad(in,
			           "column per_minute: %lld a minute is no whole number of minor "
			           "units per %lld s unit",
			           per_minute, unit);
	} else {
		if (*f[3] || *f[5] || !allowance)
			return bad(in,
			           "column currency: a row without a currency is covered by the "
			           "allowance only (per_minute and per_sms empty, allowance yes)");
		per_minute = per_sms = 0;
	}
	/* One unit and one allowance rule per plan and destination. */
	struct store_stmt *s;
	if (store_prepare(in->st,
	                  "SELECT unit_seconds, allowance FROM ocs_tariff WHERE plan = $1 AND "
	                  "destination = $2",
	                  &s) != 0)
		return bad(in, "store failure");
	store_bind_text(s, 1, f[0]);
	store_bind_text(s, 2, d);
	int rc = 0;
	if (store_step(s) == STORE_ROW &&
	    (store_col_int64(s, 0) != unit || (store_col_int64(s, 1) != 0) != allowance))
		rc = -1;
	store_reset(s);
	if (rc)
		return bad(in,
		           "unit_seconds and allowance must be the same in every row of plan "
		           "'%s' to '%s'",
		           f[0], d);
	long long ints[] = {tariff_rank++, per_minute, unit, per_sms, allowance};
	rc = exec_row(in,
	              "INSERT INTO ocs_tariff (plan, destination, currency, rank, per_minute, "
	              "unit_seconds, per_sms, allowance) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
	              (const char *const[]){f[0], d, f[2]}, ints, "tttiiiii");
	if (rc != 0 && strstr(in->err, "given twice"))
		return bad(in, "plan '%s' to '%s' in '%s' given twice", f[0], d,
		           *f[2] ? f[2] : "allowance");
	return rc;
}

/* NAME of an identity document OFF-NAME-nnnn: what account_org reads. */
static bool is_org_name(const char *s)
{
	size_t n = strlen(s);
	return n >= 1 && n <= OCS_ORG_NAME_MAX &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == n;
}

static const char org_name_rule[] = "expected 1 to 14 of A-Z, 0-9, _ (NAME of OFF-NAME-nnnn)";

static int org_row(struct install *in, char **f)
{
	/* name,monthly_minutes,monthly_sms,description */
	long long minutes, sms;
	if (!is_org_name(f[0]))
		return bad(in, "column name: %s", org_name_rule);
	if (parse_int(f[1], -1, &minutes) != 0 || minutes > 1000000)
		return bad(in, "column monthly_minutes: expected 0 to 1000000");
	if (parse_int(f[2], -1, &sms) != 0 || sms > 1000000)
		return bad(in, "column monthly_sms: expected 0 to 1000000");
	if (strlen(f[3]) > 159)
		return bad(in, "column description: expected at most 159 characters");
	long long ints[] = {minutes * 60, sms, clock_now()};
	int rc = exec_row(in,
	                  "INSERT INTO ocs_organisation (name, allowance_seconds, allowance_sms, "
	                  "description, updated_at) VALUES ($1, $2, $3, $4, $5)",
	                  (const char *const[]){f[0], f[3]}, ints, "tiiti");
	if (rc != 0 && strstr(in->err, "given twice"))
		return bad(in, "organisation '%s' given twice", f[0]);
	return rc;
}

int ocs_install(struct store *st, const char *dir, char *err, size_t errcap)
{
	struct install in = {.st = st, .err = err, .errcap = errcap};
	tariff_rank = 0;
	store_lock(st);
	int rc = store_begin(st) == 0 ? 0 : -1;
	if (rc == 0) {
		rc = read_csv(&in, dir, "plans.csv", "", 0, NULL, true) == 1 ? 1 : 0;
		if (rc == 1) {
			/* A profile without plans: nothing is charged. */
			rc = 0;
			goto commit;
		}
	}
	if (rc == 0)
		rc = read_csv(&in, dir, "currencies.csv", "code,minor_digits,name", 3, currency_row,
		              false);
	if (rc == 0)
		rc = read_csv(&in, dir, "plans.csv",
		              "name,class,description,payer,currency,fee,fee_months,"
		              "initial_credit,allowance_minutes,allowance_sms",
		              10, plan_row, false);
	if (rc == 0)
		rc = read_csv(&in, dir, "tariffs.csv",
		              "plan,destination,currency,per_minute,unit_seconds,per_sms,allowance",
		              7, tariff_row, false);
	/* Optional: without it every official line has its plan's allowance. */
	if (rc == 0)
		rc = read_csv(&in, dir, "organisations.csv",
		              "name,monthly_minutes,monthly_sms,description", 4, org_row, true) < 0
		         ? -1
		         : 0;
commit:
	if (rc == 0 && store_commit(st) != 0) {
		snprintf(err, errcap, "%s: store failure", dir);
		rc = -1;
	}
	if (rc != 0)
		store_rollback(st);
	store_unlock(st);
	return rc == 0 ? 0 : -1;
}

/* --- load -------------------------------------------------------------------------- */

static int tariff_cmp(const void *a_, const void *b_)
{
	const struct ocs_tariff *a = a_, *b = b_;
	if (a->plan != b->plan)
		return a->plan - b->plan;
	int c = strcmp(a->dest, b->dest);
	return c ? c : a->rank - b->rank;
}

static const char *col(struct store_stmt *s, int i)
{
	const char *t = store_col_text(s, i);
	return t ? t : "";
}

int ocs_plans_load(struct ocs *o)
{
	struct store_stmt *s;
	int step, rc = 0;
	store_lock(o->st);
	if (store_prepare(o->st, "SELECT code, minor_digits, name FROM ocs_currency ORDER BY code",
	                  &s) != 0)
		goto fail;
	while ((step = store_step(s)) == STORE_ROW && o->n_cur < OCS_MAX_CURRENCIES) {
		struct ocs_currency *c = &o->cur[o->n_cur++];
		snprintf(c->code, sizeof(c->code), "%s", col(s, 0));
		c->digits = (int)store_col_int64(s, 1);
		snprintf(c->name, sizeof(c->name), "%s", col(s, 2));
	}
	store_reset(s);
	if (store_prepare(o->st,
	                  "SELECT name, class, description, payer, currency, fee, fee_months, "
	                  "initial_credit, allowance_seconds, allowance_sms FROM ocs_plan ORDER BY "
	                  "name",
	                  &s) != 0)
		goto fail;
	while ((step = store_step(s)) == STORE_ROW) {
		struct ocs_plan *v = realloc(o->plans, (o->n_plans + 1) * sizeof(*v));
		if (!v) {
			rc = -ENOMEM;
			break;
		}
		o->plans = v;
		struct ocs_plan *p = &v[o->n_plans++];
		memset(p, 0, sizeof(*p));
		snprintf(p->name, sizeof(p->name), "%s", col(s, 0));
		snprintf(p->class_name, sizeof(p->class_name), "%s", col(s, 1));
		snprintf(p->description, sizeof(p->description), "%s", col(s, 2));
		p->org_pays = strcmp(col(s, 3), "organisation") == 0;
		p->cur = ocs_currency_find(o, col(s, 4));
		p->fee = store_col_int64(s, 5);
		p->fee_months = (int)store_col_int64(s, 6);
		p->initial_credit = store_col_int64(s, 7);
		p->allow_seconds = store_col_int64(s, 8);
		p->allow_sms = store_col_int64(s, 9);
	}
	store_reset(s);
	if (rc || step < 0)
		goto fail;
	if (store_prepare(o->st,
	                  "SELECT plan, destination, currency, rank, per_minute, unit_seconds, "
	                  "per_sms, allowance FROM ocs_tariff",
	                  &s) != 0)
		goto fail;
	while ((step = store_step(s)) == STORE_ROW) {
		struct ocs_tariff *v = realloc(o->tariffs, (o->n_tariffs + 1) * sizeof(*v));
		if (!v) {
			rc = -ENOMEM;
			break;
		}
		o->tariffs = v;
		struct ocs_tariff *t = &v[o->n_tariffs];
		memset(t, 0, sizeof(*t));
		t->plan = ocs_plan_find(o, col(s, 0));
		if (t->plan < 0)
			continue;
		snprintf(t->dest, sizeof(t->dest), "%s", col(s, 1));
		t->cur = ocs_currency_find(o, col(s, 2));
		t->rank = (int)store_col_int64(s, 3);
		t->per_minute = store_col_int64(s, 4);
		t->unit = (uint32_t)store_col_int64(s, 5);
		t->per_sms = store_col_int64(s, 6);
		t->allowance = store_col_int64(s, 7) != 0;
		o->n_tariffs++;
	}
	store_reset(s);
	store_unlock(o->st);
	if (rc || step < 0)
		return rc ? rc : -EIO;
	if (o->n_tariffs > 1)
		qsort(o->tariffs, o->n_tariffs, sizeof(*o->tariffs), tariff_cmp);
	return 0;
fail:
	store_unlock(o->st);
	return rc ? rc : -EIO;
}

int ocs_plan_find(const struct ocs *o, const char *name)
{
	for (unsigned i = 0; i < o->n_plans; i++)
		if (strcmp(o->plans[i].name, name) == 0)
			return (int)i;
	return -1;
}

const struct ocs_tariff *ocs_tariffs_for(const struct ocs *o, int plan, const char *dest,
                                         unsigned *n)
{
	for (unsigned i = 0; i < o->n_tariffs; i++) {
		const struct ocs_tariff *t = &o->tariffs[i];
		if (t->plan != plan || strcmp(t->dest, dest) != 0)
			continue;
		unsigned j = i;
		while (j < o->n_tariffs && o->tariffs[j].plan == plan &&
		       strcmp(o->tariffs[j].dest, dest) == 0)
			j++;
		*n = j - i;
		return t;
	}
	*n = 0;
	return NULL;
}

/* --- lists for the API ---------------------------------------------------------------- */

void ocs_plan_list(struct ocs *o, void (*fn)(void *ctx, const struct ocs_plan_info *p), void *ctx)
{
	for (unsigned i = 0; i < o->n_plans; i++) {
		const struct ocs_plan *p = &o->plans[i];
		struct ocs_plan_info pi = {
		    .name = p->name,
		    .class_name = p->class_name[0] ? p->class_name : NULL,
		    .description = p->description,
		    .payer = p->org_pays ? "organisation" : "subscriber",
		    .currency = p->cur >= 0 ? o->cur[p->cur].code : NULL,
		    .fee = p->fee,
		    .initial_credit = p->initial_credit,
		    .allowance_seconds = p->allow_seconds,
		    .allowance_sms = p->allow_sms,
		    .fee_months = p->fee_months,
		};
		fn(ctx, &pi);
	}
}

void ocs_tariff_list(struct ocs *o, void (*fn)(void *ctx, const struct ocs_tariff_info *t),
                     void *ctx)
{
	for (unsigned i = 0; i < o->n_tariffs; i++) {
		const struct ocs_tariff *t = &o->tariffs[i];
		struct ocs_tariff_info ti = {
		    .plan = o->plans[t->plan].name,
		    .destination = t->dest,
		    .currency = t->cur >= 0 ? o->cur[t->cur].code : NULL,
		    .per_minute = t->per_minute,
		    .per_sms = t->per_sms,
		    .unit_seconds = t->unit,
		    .allowance = t->allowance,
		};
		fn(ctx, &ti);
	}
}

/* --- organisations' caps --------------------------------------------------------------- */

static int org_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ocs_org *)a)->name, ((const struct ocs_org *)b)->name);
}

int ocs_orgs_load(struct ocs *o)
{
	struct store_stmt *s;
	int step, rc = 0;
	store_lock(o->st);
	if (store_prepare(o->st,
	                  "SELECT name, allowance_seconds, allowance_sms, description, updated_at "
	                  "FROM ocs_organisation ORDER BY name",
	                  &s) != 0) {
		store_unlock(o->st);
		return -EIO;
	}
	while ((step = store_step(s)) == STORE_ROW) {
		struct ocs_org *v = realloc(o->orgs, (o->n_orgs + 1) * sizeof(*v));
		if (!v) {
			rc = -ENOMEM;
			break;
		}
		o->orgs = v;
		struct ocs_org *g = &v[o->n_orgs++];
		memset(g, 0, sizeof(*g));
		snprintf(g->name, sizeof(g->name), "%s", col(s, 0));
		g->allow_seconds = store_col_int64(s, 1);
		g->allow_sms = store_col_int64(s, 2);
		snprintf(g->description, sizeof(g->description), "%s", col(s, 3));
		g->updated_at = store_col_int64(s, 4);
	}
	store_reset(s);
	store_unlock(o->st);
	return rc ? rc : step < 0 ? -EIO : 0;
}

/* Index of name in the sorted o->orgs, or -1. Under o->mu. */
static int org_find(const struct ocs *o, const char *name)
{
	for (unsigned i = 0; i < o->n_orgs; i++)
		if (strcmp(o->orgs[i].name, name) == 0)
			return (int)i;
	return -1;
}

bool ocs_org_cap(struct ocs *o, const char *name, struct ocs_org *out)
{
	pthread_mutex_lock(&o->mu);
	int i = org_find(o, name);
	if (i >= 0)
		*out = o->orgs[i];
	pthread_mutex_unlock(&o->mu);
	return i >= 0;
}

static void org_info(const struct ocs_org *g, struct ocs_org_info *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", g->name);
	out->allowance_seconds = g->allow_seconds;
	out->allowance_sms = g->allow_sms;
	snprintf(out->description, sizeof(out->description), "%s", g->description);
	out->updated_at = g->updated_at;
}

void ocs_org_list(struct ocs *o, void (*fn)(void *ctx, const struct ocs_org_info *g), void *ctx)
{
	/* A copy, so that fn (building JSON) runs without o->mu. */
	pthread_mutex_lock(&o->mu);
	unsigned n = o->n_orgs;
	struct ocs_org *v = n ? malloc(n * sizeof(*v)) : NULL;
	if (v)
		memcpy(v, o->orgs, n * sizeof(*v));
	pthread_mutex_unlock(&o->mu);
	for (unsigned i = 0; v && i < n; i++) {
		struct ocs_org_info gi;
		org_info(&v[i], &gi);
		fn(ctx, &gi);
	}
	free(v);
}

int ocs_org_get(struct ocs *o, const char *name, struct ocs_org_info *out)
{
	struct ocs_org g;
	if (!ocs_org_cap(o, name, &g))
		return -ENOENT;
	org_info(&g, out);
	return 0;
}

static int org_err(struct ocs_field_error *err, const char *field, const char *msg)
{
	snprintf(err->field, sizeof(err->field), "%s", field);
	snprintf(err->msg, sizeof(err->msg), "%s", msg);
	return -EINVAL;
}

int ocs_org_set(struct ocs *o, const char *name, int64_t minutes, int64_t sms,
                const char *description, struct ocs_field_error *err)
{
	if (!is_org_name(name))
		return org_err(err, "name", org_name_rule);
	if (minutes < 0 || minutes > 1000000)
		return org_err(err, "monthly_minutes", "expected 0 to 1000000");
	if (sms < 0 || sms > 1000000)
		return org_err(err, "monthly_sms", "expected 0 to 1000000");
	if (strlen(description) > 159)
		return org_err(err, "description", "expected at most 159 characters");
	int64_t now = clock_now();
	struct store_stmt *s;
	int rc = 0, existed = 0;
	/* The store first: the operator is answered only once the cap is durable,
	 * and memory never holds a cap the store does not. Set calls are
	 * serialised by the store's lock, so memory follows the store's order. */
	store_lock(o->st);
	if (store_begin(o->st) != 0) {
		store_unlock(o->st);
		return -EIO;
	}
	existed = exists(o->st, "SELECT 1 FROM ocs_organisation WHERE name = $1", name);
	if (existed < 0)
		rc = -EIO;
	if (rc == 0 && store_prepare(o->st,
	                             "INSERT INTO ocs_organisation (name, allowance_seconds, "
	                             "allowance_sms, description, updated_at) VALUES ($1, $2, $3, "
	                             "$4, $5) ON CONFLICT (name) DO UPDATE SET allowance_seconds = "
	                             "excluded.allowance_seconds, allowance_sms = "
	                             "excluded.allowance_sms, description = excluded.description, "
	                             "updated_at = excluded.updated_at",
	                             &s) != 0)
		rc = -EIO;
	if (rc == 0) {
		store_bind_text(s, 1, name);
		store_bind_int64(s, 2, minutes * 60);
		store_bind_int64(s, 3, sms);
		store_bind_text(s, 4, description);
		store_bind_int64(s, 5, now);
		rc = store_step(s) == STORE_DONE ? 0 : -EIO;
		store_reset(s);
	}
	if (rc == 0)
		rc = store_commit(o->st) == 0 ? 0 : -EIO;
	if (rc != 0) {
		store_rollback(o->st);
		store_unlock(o->st);
		return rc;
	}

	struct ocs_org g = {.allow_seconds = minutes * 60, .allow_sms = sms, .updated_at = now};
	snprintf(g.name, sizeof(g.name), "%s", name);
	snprintf(g.description, sizeof(g.description), "%s", description);
	pthread_mutex_lock(&o->mu);
	int i = org_find(o, name);
	if (i >= 0) {
		o->orgs[i] = g;
	} else {
		struct ocs_org *v = realloc(o->orgs, (o->n_orgs + 1) * sizeof(*v));
		if (v) {
			o->orgs = v;
			v[o->n_orgs++] = g;
			qsort(v, o->n_orgs, sizeof(*v), org_cmp);
		} else {
			/* Written but not in memory: it applies from the next start. */
			rc = -ENOMEM;
		}
	}
	pthread_mutex_unlock(&o->mu);
	store_unlock(o->st);
	if (rc != 0)
		return rc;
	return existed ? 0 : 1;
}
