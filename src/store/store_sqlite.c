/* SQLite back end of the storage interface: one connection in WAL mode. */
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/histogram.h"
#include "common/log.h"
#include "store/store.h"

struct store_stmt {
	struct store *st;
	sqlite3_stmt *stmt;
	char *sql; /* the caller's text, the cache key */
	struct store_stmt *next;
	uint64_t started_ns;
};

struct store {
	sqlite3 *db;
	pthread_mutex_t lock;
	struct store_stmt *stmts;
	struct histogram stmt_latency;
	struct histogram commit_latency;
};

static int store_errno(struct store *st, int rc, const char *what)
{
	if (rc == SQLITE_CONSTRAINT && sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_UNIQUE)
		return -EEXIST;
	if (rc == SQLITE_CONSTRAINT &&
	    sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_PRIMARYKEY)
		return -EEXIST;
	LOGE("store", "%s: %s", what, sqlite3_errmsg(st->db));
	return -EIO;
}

int store_open(const char *path, const struct store_options *opt, struct store **out, char *err,
               size_t errcap)
{
	struct store *st = calloc(1, sizeof(*st));
	if (!st) {
		snprintf(err, errcap, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&st->lock, NULL);
	int rc = sqlite3_open_v2(
	    path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errcap, "%s: %s", path,
		         st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
		store_close(st);
		return -EIO;
	}
	sqlite3_busy_timeout(st->db, 5000);
	char pragmas[256];
	snprintf(pragmas, sizeof(pragmas),
	         "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL; PRAGMA synchronous=%s;"
	         " PRAGMA foreign_keys=ON;"
	         "PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;",
	         opt && !opt->sync_full ? "NORMAL" : "FULL");
	char *msg = NULL;
	if (sqlite3_exec(st->db, pragmas, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errcap, "%s: %s", path, msg ? msg : "cannot configure");
		sqlite3_free(msg);
		store_close(st);
		return -EIO;
	}
	*out = st;
	return 0;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	for (struct store_stmt *s = st->stmts, *next; s; s = next) {
		next = s->next;
		sqlite3_finalize(s->stmt);
		free(s->sql);
		free(s);
	}
	if (st->db) {
		/* Fold the WAL into the main file so a stopped store is one file. */
		sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
		sqlite3_close(st->db);
	}
	pthread_mutex_destroy(&st->lock);
	free(st);
}

void store_lock(struct store *st)
{
	pthread_mutex_lock(&st->lock);
}

void store_unlock(struct store *st)
{
	pthread_mutex_unlock(&st->lock);
}

int store_exec(struct store *st, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		int e = store_errno(st, rc, msg ? msg : "exec");
		sqlite3_free(msg);
		return e;
	}
	return 0;
}

int store_begin(struct store *st)
{
	return store_exec(st, "BEGIN IMMEDIATE");
}

int store_commit(struct store *st)
{
	uint64_t t0 = clock_mono_ns();
	int rc = store_exec(st, "COMMIT");
	histogram_observe(&st->commit_latency, clock_mono_ns() - t0);
	return rc;
}

int store_rollback(struct store *st)
{
	if (sqlite3_get_autocommit(st->db))
		return 0;
	return store_exec(st, "ROLLBACK");
}

/* Rewrites $N parameters as ?N, which SQLite numbers by N, not by appearance. */
static char *sql_to_sqlite(const char *sql)
{
	char *out = strdup(sql);
	if (!out)
		return NULL;
	for (char *p = out; *p; p++) {
		if (*p == '\'') { /* skip string literals */
			p = strchr(p + 1, '\'');
			if (!p)
				break;
		} else if (*p == '$' && p[1] >= '1' && p[1] <= '9') {
			*p = '?';
		}
	}
	return out;
}

int store_prepare(struct store *st, const char *sql, struct store_stmt **out)
{
	for (struct store_stmt *s = st->stmts; s; s = s->next) {
		if (s->sql == sql || strcmp(s->sql, sql) == 0) {
			*out = s;
			return 0;
		}
	}
	struct store_stmt *s = calloc(1, sizeof(*s));
	char *native = sql_to_sqlite(sql);
	if (!s || !native) {
		free(s);
		free(native);
		return -ENOMEM;
	}
	int rc = sqlite3_prepare_v3(st->db, native, -1, SQLITE_PREPARE_PERSISTENT, &s->stmt, NULL);
	free(native);
	if (rc != SQLITE_OK) {
		LOGE("store", "prepare '%s': %s", sql, sqlite3_errmsg(st->db));
		free(s);
		return -EIO;
	}
	s->sql = strdup(sql);
	if (!s->sql) {
		sqlite3_finalize(s->stmt);
		free(s);
		return -ENOMEM;
	}
	s->st = st;
	s->next = st->stmts;
	st->stmts = s;
	*out = s;
	return 0;
}

int store_bind_int64(struct store_stmt *s, int idx, int64_t v)
{
	return sqlite3_bind_int64(s->stmt, idx, v) == SQLITE_OK
	           ? 0
	           : store_errno(s->st, SQLITE_ERROR, "bind");
}

int store_bind_text(struct store_stmt *s, int idx, const char *text)
{
	int rc = text ? sqlite3_bind_text(s->stmt, idx, text, -1, SQLITE_TRANSIENT)
	              : sqlite3_bind_null(s->stmt, idx);
	return rc == SQLITE_OK ? 0 : store_errno(s->st, rc, "bind");
}

int store_bind_null(struct store_stmt *s, int idx)
{
	return sqlite3_bind_null(s->stmt, idx) == SQLITE_OK
	           ? 0
	           : store_errno(s->st, SQLITE_ERROR, "bind");
}

int store_step(struct store_stmt *s)
{
	if (!s->started_ns)
		s->started_ns = clock_mono_ns();
	int rc = sqlite3_step(s->stmt);
	if (rc == SQLITE_ROW)
		return STORE_ROW;
	histogram_observe(&s->st->stmt_latency, clock_mono_ns() - s->started_ns);
	s->started_ns = 0;
	if (rc == SQLITE_DONE)
		return STORE_DONE;
	return store_errno(s->st, rc, s->sql);
}

void store_reset(struct store_stmt *s)
{
	s->started_ns = 0;
	sqlite3_reset(s->stmt);
	sqlite3_clear_bindings(s->stmt);
}

int64_t store_changes(struct store *st)
{
	return sqlite3_changes64(st->db);
}

int64_t store_col_int64(struct store_stmt *s, int col)
{
	return sqlite3_column_int64(s->stmt, col);
}

const char *store_col_text(struct store_stmt *s, int col)
{
	return (const char *)sqlite3_column_text(s->stmt, col);
}

void store_col_copy(struct store_stmt *s, int col, char *dst, size_t cap)
{
	const char *t = store_col_text(s, col);
	snprintf(dst, cap, "%s", t ? t : "");
}

bool store_col_is_null(struct store_stmt *s, int col)
{
	return sqlite3_column_type(s->stmt, col) == SQLITE_NULL;
}

const struct histogram *store_statement_latency(struct store *st)
{
	return &st->stmt_latency;
}

const struct histogram *store_commit_latency(struct store *st)
{
	return &st->commit_latency;
}
