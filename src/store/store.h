#pragma once
/* The storage interface. Services own their tables and their SQL; the store runs it.
 *
 * SQL is written once for every back end: parameters are $1, $2, ... in order of
 * first use; ids are assigned by the application (no AUTOINCREMENT/SERIAL); binary
 * data is stored as hex text; times are BIGINT seconds since the epoch.
 *
 * A struct store is one connection and is not reentrant: callers hold
 * store_lock() around every use, including a whole transaction, and keep that
 * section short. Every function returns 0 (or STORE_ROW/STORE_DONE) or a negative
 * errno: -EEXIST for a uniqueness violation, -ENOENT where documented, -EIO for a
 * failure of the database itself (the message is logged). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct store_stmt;

enum { STORE_DONE = 0, STORE_ROW = 1 };

struct store_options {
	bool sync_full; /* fsync on every commit: durable across power loss, not only kill -9 */
};

/* Opens (creating if needed) the database at path. On failure returns -EIO with a
 * reason in err. */
int store_open(const char *path, const struct store_options *opt, struct store **out, char *err,
               size_t errcap);
/* Finalizes every statement and closes the database; NULL is a no-op. */
void store_close(struct store *st);

void store_lock(struct store *st);
void store_unlock(struct store *st);

/* Schema migrations embedded from src/store/schema/NNNN_*.sql, applied in order,
 * each in its own transaction. target 0 means the latest. Returns 0, or -EIO; a
 * database newer than this binary is -EPROTO. */
int store_migrate(struct store *st, unsigned target);
unsigned store_schema_version(struct store *st);
unsigned store_schema_latest(void);

int store_begin(struct store *st);
int store_commit(struct store *st);
int store_rollback(struct store *st);

/* Runs SQL without parameters (may hold several statements). */
int store_exec(struct store *st, const char *sql);

/* Prepares sql, cached by the store: the same sql string returns the same handle,
 * so callers may prepare on every call. The handle lives until store_close(). */
int store_prepare(struct store *st, const char *sql, struct store_stmt **out);

/* Binders take 1-based parameter indexes ($1 is index 1). text NULL binds NULL. */
int store_bind_int64(struct store_stmt *s, int idx, int64_t v);
int store_bind_text(struct store_stmt *s, int idx, const char *text);
int store_bind_null(struct store_stmt *s, int idx);

/* Runs the statement: STORE_ROW while rows come, then STORE_DONE; or a negative errno. */
int store_step(struct store_stmt *s);
/* Clears bindings and results so the statement can run again. Always call it. */
void store_reset(struct store_stmt *s);
/* Rows changed by the last completed INSERT/UPDATE/DELETE. */
int64_t store_changes(struct store *st);

/* Column getters for the current row (0-based). Text is valid until the next step or reset. */
int64_t store_col_int64(struct store_stmt *s, int col);
const char *store_col_text(struct store_stmt *s, int col); /* NULL for SQL NULL */
/* Copies a text column into dst (cap octets, truncated; "" for SQL NULL). */
void store_col_copy(struct store_stmt *s, int col, char *dst, size_t cap);
bool store_col_is_null(struct store_stmt *s, int col);

/* Latency of statements and of commits, for /metrics. */
struct histogram;
const struct histogram *store_statement_latency(struct store *st);
const struct histogram *store_commit_latency(struct store *st);
