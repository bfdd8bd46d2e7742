/* Schema migrations: the embedded src/store/schema/NNNN_*.sql files, in order.
 * The version lives in table schema_version so every back end can read it. */
#include <errno.h>

#include "common/log.h"
#include "store/store.h"

struct store_migration {
	const char *name;
	const char *sql;
};
extern const struct store_migration store_schema_migrations[];
extern const size_t store_schema_migration_count;

unsigned store_schema_latest(void)
{
	return (unsigned)store_schema_migration_count;
}

unsigned store_schema_version(struct store *st)
{
	struct store_stmt *s;
	/* A database without the table is version 0: nothing applied yet. */
	if (store_exec(st, "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)") !=
	    0)
		return 0;
	if (store_prepare(st, "SELECT max(version) FROM schema_version", &s) != 0)
		return 0;
	unsigned v = 0;
	if (store_step(s) == STORE_ROW && !store_col_is_null(s, 0))
		v = (unsigned)store_col_int64(s, 0);
	store_reset(s);
	return v;
}

int store_migrate(struct store *st, unsigned target)
{
	unsigned latest = store_schema_latest();
	if (target == 0 || target > latest)
		target = latest;
	unsigned have = store_schema_version(st);
	if (have > latest) {
		LOGE("store", "database schema version %u is newer than this koryod (%u)", have,
		     latest);
		return -EPROTO;
	}
	for (unsigned v = have + 1; v <= target; v++) {
		const struct store_migration *m = &store_schema_migrations[v - 1];
		struct store_stmt *s;
		int rc = store_begin(st);
		if (rc == 0)
			rc = store_exec(st, m->sql);
		if (rc == 0)
			rc = store_prepare(st, "INSERT INTO schema_version (version) VALUES ($1)",
			                   &s);
		if (rc == 0) {
			store_bind_int64(s, 1, v);
			rc = store_step(s) == STORE_DONE ? 0 : -EIO;
			store_reset(s);
		}
		if (rc == 0)
			rc = store_commit(st);
		if (rc != 0) {
			store_rollback(st);
			LOGE("store", "migration %s failed; schema stays at version %u", m->name,
			     v - 1);
			return -EIO;
		}
		LOGN("store", "schema upgraded to version %u (%s)", v, m->name);
	}
	return 0;
}
