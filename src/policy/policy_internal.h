#pragma once
/* Shared between the policy engine's files: the engine's state, the rules in
 * their compiled form (names resolved to indexes once, so that a check
 * compares integers and allocates nothing), and the parsers that both the
 * installer (CSV) and the API's changes use, so that a rule is validated in
 * one place. */

#include <pthread.h>

#include "hlr/profile.h"
#include "policy/policy.h"

#define POLICY_MAX_SUBSCRIBERS 8

/* Kinds of numbering rule; the first four are enum policy_dest_kind. */
enum num_kind {
	NUM_NATIONAL = POLICY_DEST_NATIONAL,
	NUM_INTERNATIONAL = POLICY_DEST_INTERNATIONAL,
	NUM_SHORT_CODE = POLICY_DEST_SHORT_CODE,
	NUM_RESERVED = POLICY_DEST_RESERVED,
	NUM_INTL_PREFIX, /* a dialled prefix that introduces an international number */
};

struct num_rule {
	struct policy_numbering_rule r;
	enum num_kind kind;
	int group;         /* reserved: class id of the group, else -1 */
	size_t prefix_len; /* strlen(r.prefix) */
};

/* Wildcards of a compiled right. */
#define RIGHT_ANY  (-2) /* "*" */
#define RIGHT_NONE (-1) /* callee "none": off-net or unknown */

struct right_rule {
	struct policy_right r;
	int caller;    /* class id or RIGHT_ANY */
	unsigned svcs; /* bit per enum policy_service */
	int dest_kind; /* enum policy_dest_kind, RIGHT_ANY, or RIGHT_NONE: by range name */
	int callee;    /* class id, RIGHT_ANY or RIGHT_NONE */
	int sw;        /* index into the switches, or -1 */
};

struct apn_gate {
	struct policy_apn_switch r;
	int class_id;
	int sw;
};

struct policy_sub {
	policy_change_fn fn;
	void *ctx;
};

struct policy {
	struct store *st;
	const struct hlr_profile *profile;

	/* The rules. Readers hold lock shared for a whole check; a change
	 * builds its new arrays first and swaps them in under the exclusive
	 * lock, so no reader waits on the store. */
	pthread_rwlock_t lock;
	struct num_rule *num;
	size_t n_num;
	struct right_rule *rights; /* sorted by priority */
	size_t n_rights;
	struct policy_switch *sw; /* sorted by name; the set is fixed after open */
	size_t n_sw;
	struct apn_gate *gates;
	size_t n_gates;

	/* Serialises changes (and guards subs and the audit id). */
	pthread_mutex_t change_lock;
	struct policy_sub subs[POLICY_MAX_SUBSCRIBERS];
	unsigned n_subs;
	int64_t next_audit_id;
};

/* numbering.c */
/* Checks and compiles one numbering row (the CSV's fields as text; lengths
 * "" for prefixes). 0, or -1 with reason. */
int policy_num_compile(const struct hlr_profile *prof, const char *const f[7], struct num_rule *out,
                       char *reason, size_t cap);
/* Orders rules for matching: longest prefix first. */
void policy_num_sort(struct num_rule *v, size_t n);
/* The numbering rule called name, or NULL. */
const struct num_rule *policy_num_find(const struct policy *p, const char *name);
/* The kind's name and its parse ("international_prefix" included): 0 or -1. */
int policy_num_kind_parse(const char *s, enum num_kind *out);
const char *policy_num_kind_name(enum num_kind k);

/* rights.c */
/* Checks and compiles a right against the profile's classes, the switches
 * and the numbering rules of p (whose arrays the caller keeps stable).
 * 0, or -1 with err's field and msg. */
int policy_right_compile(const struct policy *p, const struct policy_right *r,
                         struct right_rule *out, struct policy_error *err);
/* A right as its rights.csv line (without the newline), for the audit. */
void policy_right_format(const struct policy_right *r, char *out, size_t cap);
/* Sorts by priority. */
void policy_rights_sort(struct right_rule *v, size_t n);
/* Index of the switch called name, or -1. */
int policy_switch_index(const struct policy *p, const char *name);
/* Checks an APN gate row and compiles it: 0, or -1 with reason. */
int policy_gate_compile(const struct policy *p, const char *class_name, const char *apn,
                        const char *switch_name, struct apn_gate *out, char *reason, size_t cap);

/* Whether s is a rule or switch name: 1 to 31 of [a-z0-9_-], starting with
 * a letter. */
bool policy_name_valid(const char *s);
