/* See store_audit.h. */
#include "store/store_audit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int store_audit_list(struct store *st, const char *sql, int64_t after, unsigned limit,
                     store_audit_fn fn, void *ctx)
{
	struct store_stmt *s;
	struct store_audit_record *v = calloc(limit ? limit : 1, sizeof(*v));
	int n = 0, step = STORE_DONE;
	if (!v)
		return -EIO;
	store_lock(st);
	if (store_prepare(st, sql, &s) != 0) {
		store_unlock(st);
		free(v);
		return -EIO;
	}
	store_bind_int64(s, 1, after);
	store_bind_int64(s, 2, limit);
	while ((unsigned)n < limit && (step = store_step(s)) == STORE_ROW) {
		struct store_audit_record *a = &v[n++];
		a->id = store_col_int64(s, 0);
		a->at = store_col_int64(s, 1);
		store_col_copy(s, 2, a->actor, sizeof(a->actor));
		store_col_copy(s, 3, a->object, sizeof(a->object));
		store_col_copy(s, 4, a->before, sizeof(a->before));
		store_col_copy(s, 5, a->after, sizeof(a->after));
	}
	store_reset(s);
	store_unlock(st);
	if (step < 0) {
		free(v);
		return -EIO;
	}
	for (int i = 0; i < n; i++)
		fn(ctx, &v[i]);
	free(v);
	return n;
}
