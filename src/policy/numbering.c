/* Number analysis (docs/policy.md, "Number analysis"): what a dialled string
 * means, from the profile's prefixes (country code, national and
 * international prefix) and the dialling rules of numbering.csv. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"
#include "policy/policy_internal.h"

static const char *const kind_names[] = {
    [NUM_NATIONAL] = "national",
    [NUM_INTERNATIONAL] = "international",
    [NUM_SHORT_CODE] = "short_code",
    [NUM_RESERVED] = "reserved",
    [NUM_INTL_PREFIX] = "international_prefix",
};

const char *policy_num_kind_name(enum num_kind k)
{
	return (unsigned)k <= NUM_INTL_PREFIX ? kind_names[k] : "?";
}

int policy_num_kind_parse(const char *s, enum num_kind *out)
{
	for (unsigned k = 0; k <= NUM_INTL_PREFIX; k++) {
		if (strcmp(s, kind_names[k]) == 0) {
			*out = (enum num_kind)k;
			return 0;
		}
	}
	return -1;
}

const char *policy_dest_kind_name(enum policy_dest_kind kind)
{
	return kind == POLICY_DEST_INVALID ? "invalid" : policy_num_kind_name((enum num_kind)kind);
}

bool policy_name_valid(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n >= POLICY_NAME_MAX || s[0] < 'a' || s[0] > 'z')
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

/* A length column: "" (absent) or 1 to 15. */
static int parse_len(const char *s, unsigned *out)
{
	if (!*s) {
		*out = 0;
		return 0;
	}
	if (!str_is_digits(s, 1, 2) || atoi(s) < 1 || atoi(s) > 15)
		return -1;
	*out = (unsigned)atoi(s);
	return 0;
}

int policy_num_compile(const struct hlr_profile *prof, const char *const f[7], struct num_rule *out,
                       char *reason, size_t cap)
{
	/* f: name, kind, prefix, min_length, max_length, group, description */
	memset(out, 0, sizeof(*out));
	out->group = -1;
	if (!policy_name_valid(f[0])) {
		snprintf(reason, cap,
		         "name: '%.40s' is not a name (1 to 31 of a-z, 0-9, '_', '-', "
		         "starting with a letter)",
		         f[0]);
		return -1;
	}
	if (policy_num_kind_parse(f[1], &out->kind) != 0) {
		snprintf(reason, cap,
		         "kind: expected national, international, reserved, short_code or "
		         "international_prefix, got '%.40s'",
		         f[1]);
		return -1;
	}
	/* Only international rules may have no prefix: they are the rest of
	 * the world, whatever the country code. */
	size_t plen = strlen(f[2]);
	if (plen >= sizeof(out->r.prefix) ||
	    (plen ? !str_is_digits(f[2], 1, sizeof(out->r.prefix) - 1)
	          : out->kind != NUM_INTERNATIONAL)) {
		snprintf(reason, cap, "prefix: expected 1 to 15 digits, got '%.40s'", f[2]);
		return -1;
	}
	unsigned lo, hi;
	if (parse_len(f[3], &lo) != 0 || parse_len(f[4], &hi) != 0) {
		snprintf(reason, cap, "min_length and max_length: expected 1 to 15, or empty");
		return -1;
	}
	if (out->kind == NUM_INTL_PREFIX) {
		if (lo || hi) {
			snprintf(reason, cap,
			         "min_length and max_length: must be empty for an "
			         "international_prefix");
			return -1;
		}
	} else if (!lo || !hi || lo > hi || hi < plen) {
		snprintf(reason, cap,
		         "min_length and max_length: expected 1 <= min_length <= max_length, "
		         "and max_length at least the prefix's length");
		return -1;
	}
	if (out->kind == NUM_RESERVED) {
		out->group = hlr_profile_class_find(prof, f[5]);
		if (out->group < 0) {
			snprintf(reason, cap,
			         "group: a reserved range needs the class that may reach it "
			         "(classes.csv), got '%.40s'",
			         f[5]);
			return -1;
		}
	} else if (*f[5]) {
		snprintf(reason, cap, "group: only a reserved range has a group");
		return -1;
	}
	if (strlen(f[6]) >= sizeof(out->r.description)) {
		snprintf(reason, cap, "description: longer than %zu characters",
		         sizeof(out->r.description) - 1);
		return -1;
	}
	snprintf(out->r.name, sizeof(out->r.name), "%s", f[0]);
	snprintf(out->r.kind, sizeof(out->r.kind), "%s", f[1]);
	snprintf(out->r.prefix, sizeof(out->r.prefix), "%s", f[2]);
	out->r.min_length = lo;
	out->r.max_length = hi;
	snprintf(out->r.group, sizeof(out->r.group), "%s", f[5]);
	snprintf(out->r.description, sizeof(out->r.description), "%s", f[6]);
	out->prefix_len = plen;
	return 0;
}

static int num_cmp(const void *a_, const void *b_)
{
	const struct num_rule *a = a_, *b = b_;
	if (a->prefix_len != b->prefix_len)
		return a->prefix_len > b->prefix_len ? -1 : 1;
	return strcmp(a->r.name, b->r.name);
}

void policy_num_sort(struct num_rule *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), num_cmp);
}

const struct num_rule *policy_num_find(const struct policy *p, const char *name)
{
	for (size_t i = 0; i < p->n_num; i++) {
		if (strcmp(p->num[i].r.name, name) == 0)
			return &p->num[i];
	}
	return NULL;
}

/* --- analysis ------------------------------------------------------------- */

/* The first rule of kind k whose prefix starts digits and whose lengths take
 * them (rules are sorted longest prefix first). */
static const struct num_rule *match(const struct policy *p, enum num_kind k, const char *digits,
                                    size_t n)
{
	for (size_t i = 0; i < p->n_num; i++) {
		const struct num_rule *r = &p->num[i];
		if (r->kind == k && n >= r->r.min_length && n <= r->r.max_length &&
		    strncmp(digits, r->r.prefix, r->prefix_len) == 0)
			return r;
	}
	return NULL;
}

static bool is_short_code(const struct policy *p, const char *digits, size_t n,
                          struct policy_dest *out)
{
	const struct num_rule *r = match(p, NUM_SHORT_CODE, digits, n);
	if (!r || n >= sizeof(out->code))
		return false;
	out->kind = POLICY_DEST_SHORT_CODE;
	memcpy(out->code, digits, n + 1);
	snprintf(out->range, sizeof(out->range), "%s", r->r.name);
	return true;
}

/* A service code as phones send it (TS 22.030 style): a run of '*' and '#',
 * the code, then optional '*'-separated digit groups, ending with '#':
 * "*123#", "*123*1234#", "#123#". Its code is what policy applies to. */
static bool service_code(const struct policy *p, const char *s, struct policy_dest *out)
{
	const char *q = s + strspn(s, "*#");
	size_t n = strspn(q, "0123456789");
	char code[16];
	if (q == s || n == 0 || n >= sizeof(code))
		return false;
	size_t len = strlen(s);
	if (s[len - 1] != '#' || strspn(q + n, "0123456789*#") != strlen(q + n))
		return false;
	memcpy(code, q, n);
	code[n] = '\0';
	return is_short_code(p, code, n, out);
}

/* Caller holds p->lock (shared or exclusive). */
static int analyse_locked(const struct policy *p, const char *dialled, struct policy_dest *out)
{
	const struct hlr_profile *prof = p->profile;
	char buf[40];
	size_t n = 0;
	bool plus = false, service = false;

	memset(out, 0, sizeof(*out));
	out->kind = POLICY_DEST_INVALID;
	/* Visual separators (RFC 3966) are dropped; anything else but digits,
	 * a leading '+' and the '*' and '#' of service codes makes the string
	 * no number. */
	for (const char *c = dialled; *c; c++) {
		if (strchr(" -.()", *c))
			continue;
		if (*c == '+' && n == 0 && !plus) {
			plus = true;
			continue;
		}
		if (!((*c >= '0' && *c <= '9') || *c == '*' || *c == '#'))
			return 0;
		if (*c == '*' || *c == '#')
			service = true;
		if (n + 1 >= sizeof(buf))
			return 0;
		buf[n++] = *c;
	}
	buf[n] = '\0';
	if (n == 0)
		return 0;
	if (service) {
		if (!plus)
			service_code(p, buf, out);
		return 0;
	}

	const char *e = NULL;  /* the E.164 digits, after the country code if cc */
	const char *cc = NULL; /* the country code to put in front, or NULL */
	if (plus) {
		e = buf;
	} else if (is_short_code(p, buf, n, out)) {
		return 0;
	} else {
		/* International prefixes first: "00" also starts with the national "0". */
		size_t best = 0;
		size_t ip = strlen(prof->international_prefix);
		if (ip && strncmp(buf, prof->international_prefix, ip) == 0)
			best = ip;
		for (size_t i = 0; i < p->n_num; i++) {
			const struct num_rule *r = &p->num[i];
			if (r->kind == NUM_INTL_PREFIX && r->prefix_len > best &&
			    strncmp(buf, r->r.prefix, r->prefix_len) == 0)
				best = r->prefix_len;
		}
		size_t np = strlen(prof->national_prefix);
		if (best) {
			e = buf + best;
		} else if (np && strncmp(buf, prof->national_prefix, np) == 0) {
			e = buf + np;
			cc = prof->country_code;
		} else {
			/* No prefix: the number as the registry keeps MSISDNs, E.164
			 * without the '+' (how the network's SIP phones send them). */
			e = buf;
		}
	}
	int len = snprintf(out->e164, sizeof(out->e164), "%s%s", cc ? cc : "", e);
	size_t ccn = strlen(prof->country_code);
	if (len < 1 || len > 15 || !str_is_digits(out->e164, 1, 15)) {
		out->e164[0] = '\0';
		return 0;
	}
	/* The home country code is never abroad, whatever the rules say. */
	bool home = ccn && strncmp(out->e164, prof->country_code, ccn) == 0;
	const struct num_rule *best = NULL;
	for (size_t i = 0; i < p->n_num && !best; i++) {
		const struct num_rule *r = &p->num[i];
		if ((r->kind == NUM_NATIONAL || r->kind == NUM_RESERVED ||
		     (r->kind == NUM_INTERNATIONAL && !home)) &&
		    (size_t)len >= r->r.min_length && (size_t)len <= r->r.max_length &&
		    strncmp(out->e164, r->r.prefix, r->prefix_len) == 0)
			best = r;
	}
	if (best) {
		out->kind = (enum policy_dest_kind)best->kind;
		snprintf(out->range, sizeof(out->range), "%s", best->r.name);
	} else {
		out->e164[0] = '\0'; /* no dialling rule knows it: not a number */
	}
	return 0;
}

int policy_analyse(struct policy *p, const char *dialled, struct policy_dest *out)
{
	pthread_rwlock_rdlock(&p->lock);
	int rc = analyse_locked(p, dialled ? dialled : "", out);
	pthread_rwlock_unlock(&p->lock);
	return rc;
}

int policy_number_assignable(struct policy *p, unsigned class_id, const char *e164,
                             struct policy_verdict *v)
{
	struct policy_dest d;
	char plus[24];
	memset(v, 0, sizeof(*v));
	/* The '+' makes analysis read it as E.164 whatever the prefixes. */
	snprintf(plus, sizeof(plus), "+%.20s", e164 ? e164 : "");
	pthread_rwlock_rdlock(&p->lock);
	analyse_locked(p, plus, &d);
	const struct num_rule *r =
	    d.kind == POLICY_DEST_RESERVED ? policy_num_find(p, d.range) : NULL;
	v->allowed = !r || r->group == (int)class_id;
	if (r) {
		snprintf(v->rule, sizeof(v->rule), "%s", r->r.name);
		snprintf(v->reason, sizeof(v->reason), "numbers of %.31s are reserved for %.31s",
		         r->r.name, r->r.group);
	}
	pthread_rwlock_unlock(&p->lock);
	return 0;
}
