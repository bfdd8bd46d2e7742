#pragma once
/* Audit tables: who changed what, before and after, in order. The policy
 * and the SMS content rules each keep one (policy_audit, sms_audit) with
 * the same columns: id, at, actor, object, before, after. */

#include <stdint.h>

#include "store/store.h"

#define STORE_AUDIT_ACTOR_MAX 80  /* "api" or "api:" and an X-Koryo-Actor value */
#define STORE_AUDIT_MAX       512 /* before/after of a record */

struct store_audit_record {
	int64_t id; /* increasing: the key of keyset paging */
	int64_t at; /* seconds since the epoch */
	char actor[STORE_AUDIT_ACTOR_MAX];
	char object[64];              /* "switch foreigner_internet", "rule no-pins" */
	char before[STORE_AUDIT_MAX]; /* "" when the object did not exist */
	char after[STORE_AUDIT_MAX];  /* "" when it was deleted */
};

typedef void (*store_audit_fn)(void *ctx, const struct store_audit_record *rec);

/* Calls fn for up to limit records with an id above after, in id order.
 * sql selects id, at, actor, object, before, after from one audit table
 * WHERE id > $1 ORDER BY id LIMIT $2. Takes the store lock; fn runs without
 * it. Returns the count, or -EIO. */
int store_audit_list(struct store *st, const char *sql, int64_t after, unsigned limit,
                     store_audit_fn fn, void *ctx);
