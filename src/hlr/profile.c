#include "hlr/profile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/csv.h"
#include "common/hex.h"
#include "common/kvfile.h"
#include "common/log.h"
#include "store/store.h"

int hlr_profile_installed(struct store *st)
{
	struct store_stmt *s;
	int found = 0;
	store_lock(st);
	if (store_prepare(st, "SELECT count(*) FROM network", &s) == 0) {
		if (store_step(s) == STORE_ROW)
			found = store_col_int64(s, 0) > 0;
		store_reset(s);
	}
	store_unlock(st);
	return found;
}

/* --- installing from files ------------------------------------------------ */

static const char *const network_keys[] = {
    "name", "operator", "mcc", "mnc", "country_code", "national_prefix", "international_prefix",
    NULL};

struct install_ctx {
	struct store *st;
	unsigned seen; /* bit per network_keys entry */
};

static int network_set(void *ctx_, const char *key, const char *value, char *err, size_t errcap)
{
	struct install_ctx *ctx = ctx_;
	unsigned i;
	for (i = 0; network_keys[i]; i++) {
		if (strcmp(network_keys[i], key) == 0)
			break;
	}
	if (!network_keys[i]) {
		snprintf(err, errcap, "unknown key '%s'", key);
		return -1;
	}
	if ((strcmp(key, "mcc") == 0 && !str_is_digits(value, 3, 3)) ||
	    (strcmp(key, "mnc") == 0 && !str_is_digits(value, 2, 3)) ||
	    (strcmp(key, "country_code") == 0 && !str_is_digits(value, 1, 3))) {
		snprintf(err, errcap, "%s: '%s' is not a valid value", key, value);
		return -1;
	}
	struct store_stmt *s;
	if (store_prepare(ctx->st, "INSERT INTO network (key, value) VALUES ($1, $2)", &s) != 0)
		goto fail;
	store_bind_text(s, 1, key);
	store_bind_text(s, 2, value);
	int rc = store_step(s);
	store_reset(s);
	if (rc == -EEXIST) {
		snprintf(err, errcap, "%s given twice", key);
		return -1;
	}
	if (rc != STORE_DONE)
		goto fail;
	ctx->seen |= 1u << i;
	return 0;
fail:
	snprintf(err, errcap, "store failure");
	return -1;
}

/* Reads a profile CSV whose header must be exactly `header` (comma separated) and
 * inserts each row with insert_sql, binding the columns as $1..$n (integer columns
 * are marked in int_cols). */
typedef int (*row_check_fn)(char **fields, char *reason, size_t cap);

static int class_check(char **fields, char *reason, size_t cap);

static int install_csv(struct store *st, const char *dir, const char *file, const char *header,
                       const char *insert_sql, unsigned int_cols, row_check_fn check, char *err,
                       size_t errcap)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errcap, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	struct csv_reader r;
	csv_init(&r, f);
	char reason[160];
	int rc = -1;
	unsigned n_cols = 0;
	int got = csv_next(&r, reason, sizeof(reason));
	if (got <= 0) {
		snprintf(err, errcap, "%s:%u: %s", path, r.line,
		         got == 0 ? "empty file, expected a header" : reason);
		goto out;
	}
	char want[256];
	snprintf(want, sizeof(want), "%s", header);
	char *save, *tok = strtok_r(want, ",", &save);
	for (; tok; tok = strtok_r(NULL, ",", &save), n_cols++) {
		if (n_cols >= r.n_fields || strcmp(r.fields[n_cols], tok) != 0) {
			snprintf(err, errcap, "%s:1: expected header '%s'", path, header);
			goto out;
		}
	}
	if (r.n_fields != n_cols) {
		snprintf(err, errcap, "%s:1: expected header '%s'", path, header);
		goto out;
	}
	struct store_stmt *s;
	if (store_prepare(st, insert_sql, &s) != 0) {
		snprintf(err, errcap, "%s: store failure", path);
		goto out;
	}
	while ((got = csv_next(&r, reason, sizeof(reason))) == 1) {
		if (r.n_fields != n_cols) {
			snprintf(err, errcap, "%s:%u: expected %u fields, got %u", path, r.line,
			         n_cols, r.n_fields);
			goto out;
		}
		if (r.fields[0][0] == '\0') {
			snprintf(err, errcap, "%s:%u: column %s: must not be empty", path, r.line,
			         strtok_r(strcpy(want, header), ",", &save));
			goto out;
		}
		if (check && check(r.fields, reason, sizeof(reason)) != 0) {
			snprintf(err, errcap, "%s:%u: %s", path, r.line, reason);
			goto out;
		}
		for (unsigned i = 0; i < n_cols; i++) {
			if (int_cols & (1u << i)) {
				char *end;
				long long v = strtoll(r.fields[i], &end, 10);
				if (end == r.fields[i] || *end || v < 0) {
					snprintf(err, errcap, "%s:%u: field %u: expected a number",
					         path, r.line, i + 1);
					goto out;
				}
				store_bind_int64(s, (int)i + 1, v);
			} else {
				store_bind_text(s, (int)i + 1, r.fields[i]);
			}
		}
		int src = store_step(s);
		store_reset(s);
		if (src == -EEXIST) {
			snprintf(err, errcap, "%s:%u: '%s' given twice", path, r.line, r.fields[0]);
			goto out;
		}
		if (src != STORE_DONE) {
			snprintf(err, errcap, "%s:%u: store failure", path, r.line);
			goto out;
		}
	}
	if (got < 0) {
		snprintf(err, errcap, "%s:%u: %s", path, r.line, reason);
		goto out;
	}
	rc = 0;
out:
	csv_free(&r);
	fclose(f);
	return rc;
}

/* Splits a space-separated list into words; calls fn for each. 0, or -1. */
static int for_each_word(const char *list, int (*fn)(void *ctx, const char *w, size_t n), void *ctx)
{
	const char *p = list;
	while (*p) {
		while (*p == ' ')
			p++;
		size_t n = strcspn(p, " ");
		if (n && fn(ctx, p, n) != 0)
			return -1;
		p += n;
	}
	return 0;
}

static int domain_word(void *ctx, const char *w, size_t n)
{
	(void)ctx;
	return (n == 2 && (strncmp(w, "cs", 2) == 0 || strncmp(w, "ps", 2) == 0)) ? 0 : -1;
}

/* APN network identifiers (TS 23.003 9.1): labels of letters, digits and '-',
 * separated by dots, each at most 63 octets. */
static int apn_word(void *ctx, const char *w, size_t n)
{
	unsigned *count = ctx;
	size_t label = 0;
	if (n > 63 || ++*count > HLR_MAX_APNS)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = w[i];
		if (c == '.') {
			if (label == 0)
				return -1;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		           (c >= '0' && c <= '9') || c == '-') {
			label++;
		} else {
			return -1;
		}
	}
	return label ? 0 : -1;
}

static int class_check(char **fields, char *reason, size_t cap)
{
	unsigned n_apns = 0;
	if (for_each_word(fields[2], domain_word, NULL) != 0) {
		snprintf(reason, cap, "domains: expected words 'cs' and/or 'ps', got '%.60s'",
		         fields[2]);
		return -1;
	}
	if (for_each_word(fields[3], apn_word, &n_apns) != 0) {
		snprintf(reason, cap,
		         "apns: expected up to %d APN names (letters, digits, '-', '.'), got "
		         "'%.60s'",
		         HLR_MAX_APNS, fields[3]);
		return -1;
	}
	return 0;
}

static int class_domain(void *ctx, const char *w, size_t n)
{
	struct hlr_class *c = ctx;
	(void)n;
	if (strncmp(w, "cs", 2) == 0)
		c->cs = true;
	else
		c->ps = true;
	return 0;
}

static int class_apn(void *ctx, const char *w, size_t n)
{
	struct hlr_class *c = ctx;
	if (c->n_apns == HLR_MAX_APNS || n >= sizeof(c->apns[0]))
		return -1;
	memcpy(c->apns[c->n_apns], w, n);
	c->apns[c->n_apns++][n] = '\0';
	return 0;
}

int hlr_profile_install(struct store *st, const char *dir, char *err, size_t errcap)
{
	char path[4096];
	struct install_ctx ctx = {.st = st};
	int rc;

	store_lock(st);
	if (store_begin(st) != 0) {
		store_unlock(st);
		snprintf(err, errcap, "store failure");
		return -1;
	}
	snprintf(path, sizeof(path), "%s/profile.conf", dir);
	rc = kvfile_parse(path, network_set, &ctx, err, errcap);
	if (rc == 0) {
		for (unsigned i = 0; network_keys[i]; i++) {
			if (!(ctx.seen & (1u << i))) {
				snprintf(err, errcap, "%s: missing key '%s'", path,
				         network_keys[i]);
				rc = -1;
				break;
			}
		}
	}
	if (rc == 0)
		rc = install_csv(st, dir, "classes.csv", "name,description,domains,apns",
		                 "INSERT INTO subscriber_class (name, description, domains, apns) "
		                 "VALUES ($1, $2, $3, $4)",
		                 0, class_check, err, errcap);
	if (rc == 0)
		rc = install_csv(st, dir, "cities.csv", "name,province,population,kind",
		                 "INSERT INTO city (name, province, population, kind) VALUES ($1, "
		                 "$2, $3, $4)",
		                 1u << 2, NULL, err, errcap);
	if (rc == 0 && store_commit(st) != 0) {
		snprintf(err, errcap, "store failure on commit");
		rc = -1;
	}
	if (rc != 0)
		store_rollback(st);
	store_unlock(st);
	return rc;
}

/* --- reading from the store ----------------------------------------------- */

static int city_cmp(const void *a, const void *b)
{
	return strcmp(((const struct hlr_city *)a)->name, ((const struct hlr_city *)b)->name);
}

int hlr_profile_load(struct store *st, struct hlr_profile *p)
{
	struct store_stmt *s;
	int rc = 0, step;
	unsigned keys = 0;

	memset(p, 0, sizeof(*p));
	store_lock(st);
	if (store_prepare(st, "SELECT key, value FROM network", &s) != 0) {
		rc = -EIO;
		goto out;
	}
	while ((step = store_step(s)) == STORE_ROW) {
		const char *k = store_col_text(s, 0);
		keys++;
		if (strcmp(k, "name") == 0)
			store_col_copy(s, 1, p->name, sizeof(p->name));
		else if (strcmp(k, "operator") == 0)
			store_col_copy(s, 1, p->operator_name, sizeof(p->operator_name));
		else if (strcmp(k, "mcc") == 0)
			store_col_copy(s, 1, p->mcc, sizeof(p->mcc));
		else if (strcmp(k, "mnc") == 0)
			store_col_copy(s, 1, p->mnc, sizeof(p->mnc));
		else if (strcmp(k, "country_code") == 0)
			store_col_copy(s, 1, p->country_code, sizeof(p->country_code));
		else if (strcmp(k, "national_prefix") == 0)
			store_col_copy(s, 1, p->national_prefix, sizeof(p->national_prefix));
		else if (strcmp(k, "international_prefix") == 0)
			store_col_copy(s, 1, p->international_prefix,
			               sizeof(p->international_prefix));
	}
	store_reset(s);
	if (step < 0) {
		rc = -EIO;
		goto out;
	}
	if (keys == 0) {
		rc = -ENOENT;
		goto out;
	}

	if (store_prepare(
	        st, "SELECT name, description, domains, apns FROM subscriber_class ORDER BY name",
	        &s) != 0) {
		rc = -EIO;
		goto out;
	}
	while ((step = store_step(s)) == STORE_ROW && p->n_classes < HLR_MAX_CLASSES) {
		struct hlr_class *c = &p->classes[p->n_classes++];
		store_col_copy(s, 0, c->name, sizeof(c->name));
		store_col_copy(s, 1, c->description, sizeof(c->description));
		const char *domains = store_col_text(s, 2), *apns = store_col_text(s, 3);
		for_each_word(domains ? domains : "", class_domain, c);
		for_each_word(apns ? apns : "", class_apn, c);
	}
	store_reset(s);
	if (step < 0) {
		rc = -EIO;
		goto out;
	}

	if (store_prepare(st, "SELECT name, province, population, kind FROM city", &s) != 0) {
		rc = -EIO;
		goto out;
	}
	unsigned cap = 0;
	while ((step = store_step(s)) == STORE_ROW) {
		if (p->n_cities == cap) {
			cap = cap ? cap * 2 : 128;
			struct hlr_city *c = realloc(p->cities, cap * sizeof(*c));
			if (!c) {
				rc = -ENOMEM;
				break;
			}
			p->cities = c;
		}
		struct hlr_city *c = &p->cities[p->n_cities++];
		store_col_copy(s, 0, c->name, sizeof(c->name));
		store_col_copy(s, 1, c->province, sizeof(c->province));
		c->population = store_col_int64(s, 2);
		store_col_copy(s, 3, c->kind, sizeof(c->kind));
	}
	store_reset(s);
	if (step < 0)
		rc = -EIO;
	if (p->n_cities)
		qsort(p->cities, p->n_cities, sizeof(*p->cities), city_cmp);
out:
	store_unlock(st);
	if (rc != 0)
		hlr_profile_free(p);
	return rc;
}

void hlr_profile_free(struct hlr_profile *p)
{
	free(p->cities);
	p->cities = NULL;
	p->n_cities = 0;
}

int hlr_profile_class_find(const struct hlr_profile *p, const char *name)
{
	for (unsigned i = 0; i < p->n_classes; i++) {
		if (strcmp(p->classes[i].name, name) == 0)
			return (int)i;
	}
	return -1;
}

unsigned hlr_profile_city_find(const struct hlr_profile *p, const char *name)
{
	struct hlr_city key;
	if (strlen(name) >= sizeof(key.name))
		return 0;
	strcpy(key.name, name);
	const struct hlr_city *c =
	    bsearch(&key, p->cities, p->n_cities, sizeof(*p->cities), city_cmp);
	return c ? (unsigned)(c - p->cities) + 1 : 0;
}

const char *hlr_profile_class_name(const struct hlr_profile *p, unsigned class_id)
{
	return class_id < p->n_classes ? p->classes[class_id].name : NULL;
}

const char *hlr_profile_city_name(const struct hlr_profile *p, unsigned city_id)
{
	return city_id >= 1 && city_id <= p->n_cities ? p->cities[city_id - 1].name : NULL;
}
