/*
 * The store: migrations (new database, upgrade in place of an old one, refusal
 * of a newer one), and the SQL interface every service relies on: uniqueness as
 * -EEXIST, $N parameters bound by number, transactions and the statement cache;
 * the queue's groups (all of their statements or none) and its copies of texts.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/store.h"
#include "store/store_queue.h"

struct fixture {
	char dir[64];
	char path[128];
	struct store *st;
};

static void remove_db_files(struct fixture *fx)
{
	static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		char p[160];
		snprintf(p, sizeof(p), "%s%s", fx->path, suffix[i]);
		unlink(p);
	}
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/koryo-test-store.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/koryo.db", fx->dir);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	store_close(fx->st);
	remove_db_files(fx);
	assert_int_equal(rmdir(fx->dir), 0);
	free(fx);
	return 0;
}

static void open_store(struct fixture *fx)
{
	char err[256] = "";
	struct store_options opt = {.sync_full = false};
	assert_null(fx->st);
	assert_int_equal(store_open(fx->path, &opt, &fx->st, err, sizeof(err)), 0);
	assert_non_null(fx->st);
}

static void close_store(struct fixture *fx)
{
	store_close(fx->st);
	fx->st = NULL;
}

/* Runs a query returning one integer. */
static int64_t query_int(struct store *st, const char *sql)
{
	struct store_stmt *s;
	assert_int_equal(store_prepare(st, sql, &s), 0);
	assert_int_equal(store_step(s), STORE_ROW);
	int64_t v = store_col_int64(s, 0);
	assert_int_equal(store_step(s), STORE_DONE);
	store_reset(s);
	return v;
}

/* True if table exists, asked in SQL every back end runs. */
static bool table_exists(struct store *st, const char *table)
{
	char sql[128];
	struct store_stmt *s;
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	if (store_prepare(st, sql, &s) != 0)
		return false;
	int rc = store_step(s);
	store_reset(s);
	return rc == STORE_ROW;
}

/* A subscriber row as migration 0001 defines it. */
static const char ROW_0001[] =
    "INSERT INTO subscriber (id, imsi, msisdn, class, status, created_at, updated_at, "
    "op_kind, keys_sealed, sqn) VALUES (7, '467050000000007', '8501000007', 'citizen', "
    "'active', 1700000000, 1700000000, 'opc', 'abcdef', 42)";

static void test_new_database(void **state)
{
	struct fixture *fx = *state;
	assert_true(store_schema_latest() >= 2);
	open_store(fx);
	assert_int_equal(store_schema_version(fx->st), 0);
	assert_int_equal(store_migrate(fx->st, 0), 0);
	assert_int_equal(store_schema_version(fx->st), store_schema_latest());
	assert_true(table_exists(fx->st, "subscriber"));
	assert_true(table_exists(fx->st, "network"));
	assert_true(table_exists(fx->st, "subscriber_class"));
	assert_true(table_exists(fx->st, "city"));
	/* Migrating again is a no-op. */
	assert_int_equal(store_migrate(fx->st, 0), 0);
	assert_int_equal(store_schema_version(fx->st), store_schema_latest());

	/* And the version survives a restart. */
	close_store(fx);
	open_store(fx);
	assert_int_equal(store_schema_version(fx->st), store_schema_latest());
}

static void test_upgrade_in_place(void **state)
{
	struct fixture *fx = *state;
	open_store(fx);
	assert_int_equal(store_migrate(fx->st, 1), 0);
	assert_int_equal(store_schema_version(fx->st), 1);
	assert_true(table_exists(fx->st, "subscriber"));
	assert_false(table_exists(fx->st, "network"));
	assert_int_equal(store_exec(fx->st, ROW_0001), 0);
	close_store(fx);

	/* A newer koryod opens the version-1 database and upgrades it. */
	open_store(fx);
	assert_int_equal(store_schema_version(fx->st), 1);
	assert_int_equal(store_migrate(fx->st, 0), 0);
	assert_int_equal(store_schema_version(fx->st), store_schema_latest());
	assert_true(table_exists(fx->st, "network"));
	assert_true(table_exists(fx->st, "subscriber_class"));
	assert_true(table_exists(fx->st, "city"));

	struct store_stmt *s;
	assert_int_equal(store_prepare(fx->st,
	                               "SELECT imsi, msisdn, class, status, sqn, amf, ind_bitlen "
	                               "FROM subscriber WHERE id = 7",
	                               &s),
	                 0);
	assert_int_equal(store_step(s), STORE_ROW);
	assert_string_equal(store_col_text(s, 0), "467050000000007");
	assert_string_equal(store_col_text(s, 1), "8501000007");
	assert_string_equal(store_col_text(s, 2), "citizen");
	assert_string_equal(store_col_text(s, 3), "active");
	assert_int_equal(store_col_int64(s, 4), 42);
	assert_string_equal(store_col_text(s, 5), "0000"); /* the 0001 defaults */
	assert_int_equal(store_col_int64(s, 6), 5);
	assert_int_equal(store_step(s), STORE_DONE);
	store_reset(s);
	assert_int_equal(query_int(fx->st, "SELECT count(*) FROM subscriber"), 1);
}

static void test_newer_database_refused(void **state)
{
	struct fixture *fx = *state;
	char sql[128];
	unsigned future = store_schema_latest() + 1;
	open_store(fx);
	assert_int_equal(store_migrate(fx->st, 0), 0);
	assert_int_equal(store_exec(fx->st, ROW_0001), 0);
	snprintf(sql, sizeof(sql), "INSERT INTO schema_version (version) VALUES (%u)", future);
	assert_int_equal(store_exec(fx->st, sql), 0);
	close_store(fx);

	/* Read the file as it was left. */
	FILE *f = fopen(fx->path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long size = ftell(f);
	assert_true(size > 0);
	rewind(f);
	char *before = malloc((size_t)size);
	assert_non_null(before);
	assert_int_equal(fread(before, 1, (size_t)size, f), (size_t)size);
	fclose(f);

	open_store(fx);
	assert_int_equal(store_schema_version(fx->st), future);
	assert_int_equal(store_migrate(fx->st, 0), -EPROTO);
	assert_int_equal(store_migrate(fx->st, 1), -EPROTO);
	assert_int_equal(store_schema_version(fx->st), future);
	assert_int_equal(query_int(fx->st, "SELECT count(*) FROM schema_version"),
	                 store_schema_latest() + 1);
	assert_int_equal(query_int(fx->st, "SELECT count(*) FROM subscriber"), 1);
	close_store(fx);

	/* Not a byte of the database changed. */
	f = fopen(fx->path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	assert_int_equal(ftell(f), size);
	rewind(f);
	char *after = malloc((size_t)size);
	assert_non_null(after);
	assert_int_equal(fread(after, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	assert_memory_equal(before, after, (size_t)size);
	free(before);
	free(after);
}

static void test_unique_is_eexist(void **state)
{
	struct fixture *fx = *state;
	open_store(fx);
	assert_int_equal(store_migrate(fx->st, 0), 0);
	assert_int_equal(store_exec(fx->st, ROW_0001), 0);

	/* The same IMSI under another id: a UNIQUE column. */
	struct store_stmt *s;
	assert_int_equal(
	    store_prepare(fx->st,
	                  "INSERT INTO subscriber (id, imsi, class, status, created_at, "
	                  "updated_at, op_kind, keys_sealed) VALUES ($1, $2, 'citizen', "
	                  "'pending', 0, 0, 'op', '00')",
	                  &s),
	    0);
	assert_int_equal(store_bind_int64(s, 1, 8), 0);
	assert_int_equal(store_bind_text(s, 2, "467050000000007"), 0);
	assert_int_equal(store_step(s), -EEXIST);
	store_reset(s);
	/* The same id: the primary key. */
	assert_int_equal(store_bind_int64(s, 1, 7), 0);
	assert_int_equal(store_bind_text(s, 2, "467050000000008"), 0);
	assert_int_equal(store_step(s), -EEXIST);
	store_reset(s);
	/* The statement is usable again after the error. */
	assert_int_equal(store_bind_int64(s, 1, 8), 0);
	assert_int_equal(store_bind_text(s, 2, "467050000000008"), 0);
	assert_int_equal(store_step(s), STORE_DONE);
	assert_int_equal(store_changes(fx->st), 1);
	store_reset(s);
	/* store_exec reports it the same way. */
	assert_int_equal(store_exec(fx->st, ROW_0001), -EEXIST);
	/* A CHECK violation is not a duplicate. */
	assert_int_equal(store_exec(fx->st, "UPDATE subscriber SET status = 'bogus' WHERE id = 8"),
	                 -EIO);
	assert_int_equal(query_int(fx->st, "SELECT count(*) FROM subscriber"), 2);
}

static void test_parameters_by_number(void **state)
{
	struct fixture *fx = *state;
	struct store_stmt *s;
	open_store(fx);
	assert_int_equal(store_migrate(fx->st, 0), 0);

	/* $2 is used before $1: binding goes by number, not by position. */
	assert_int_equal(
	    store_prepare(fx->st, "INSERT INTO network (key, value) VALUES ($2, $1)", &s), 0);
	assert_int_equal(store_bind_text(s, 1, "the value"), 0);
	assert_int_equal(store_bind_text(s, 2, "the key"), 0);
	assert_int_equal(store_step(s), STORE_DONE);
	store_reset(s);

	assert_int_equal(store_prepare(fx->st, "SELECT value FROM network WHERE key = $1", &s), 0);
	assert_int_equal(store_bind_text(s, 1, "the key"), 0);
	assert_int_equal(store_step(s), STORE_ROW);
	assert_string_equal(store_col_text(s, 0), "the value");
	assert_int_equal(store_step(s), STORE_DONE);
	store_reset(s);

	/* One parameter used twice; '$1' inside a string literal is text; NULL binds. */
	assert_int_equal(
	    store_prepare(fx->st, "SELECT $2 || '/' || $1 || '/' || $2, '$1', $3, $10 + 1", &s), 0);
	assert_int_equal(store_bind_text(s, 1, "a"), 0);
	assert_int_equal(store_bind_text(s, 2, "b"), 0);
	assert_int_equal(store_bind_text(s, 3, NULL), 0);
	assert_int_equal(store_bind_int64(s, 10, 41), 0);
	assert_int_equal(store_step(s), STORE_ROW);
	assert_string_equal(store_col_text(s, 0), "b/a/b");
	assert_string_equal(store_col_text(s, 1), "$1");
	assert_true(store_col_is_null(s, 2));
	assert_null(store_col_text(s, 2));
	assert_int_equal(store_col_int64(s, 3), 42);
	store_reset(s);

	/* Reset clears the bindings. */
	assert_int_equal(store_step(s), STORE_ROW);
	assert_true(store_col_is_null(s, 0));
	store_reset(s);
}

static void test_transactions(void **state)
{
	struct fixture *fx = *state;
	open_store(fx);
	assert_int_equal(store_migrate(fx->st, 0), 0);

	assert_int_equal(store_begin(fx->st), 0);
	assert_int_equal(store_exec(fx->st, "INSERT INTO network (key, value) VALUES ('a', '1')"),
	                 0);
	assert_int_equal(query_int(fx->st, "SELECT count(*) FROM network"), 1);
	assert_int_equal(store_rollback(fx->st), 0);
	assert_int_equal(query_int(fx->st, "SELECT count(*) FROM network"), 0);
	/* Rollback outside a transaction is harmless. */
	assert_int_equal(store_rollback(fx->st), 0);

	assert_int_equal(store_begin(fx->st), 0);
	assert_int_equal(store_exec(fx->st, "INSERT INTO network (key, value) VALUES ('b', '2')"),
	                 0);
	assert_int_equal(store_commit(fx->st), 0);
	close_store(fx);
	open_store(fx);
	assert_int_equal(query_int(fx->st, "SELECT count(*) FROM network WHERE key = 'b'"), 1);
	assert_int_equal(query_int(fx->st, "SELECT count(*) FROM network"), 1);
}

static void test_statement_cache(void **state)
{
	struct fixture *fx = *state;
	struct store_stmt *a, *b, *c;
	open_store(fx);
	assert_int_equal(store_migrate(fx->st, 0), 0);
	char sql[] = "SELECT count(*) FROM network WHERE key = $1";
	char copy[sizeof(sql)];
	memcpy(copy, sql, sizeof(sql));
	assert_int_equal(store_prepare(fx->st, sql, &a), 0);
	assert_int_equal(store_prepare(fx->st, sql, &b), 0);
	assert_ptr_equal(a, b);
	/* The cache is keyed on the text, not on the pointer. */
	assert_int_equal(store_prepare(fx->st, copy, &b), 0);
	assert_ptr_equal(a, b);
	assert_int_equal(store_prepare(fx->st, "SELECT count(*) FROM city", &c), 0);
	assert_ptr_not_equal(a, c);
	/* A statement that does not compile is an error, not a cached handle. */
	assert_int_equal(store_prepare(fx->st, "SELEKT nonsense", &c), -EIO);
	assert_int_equal(store_prepare(fx->st, "SELECT * FROM no_such_table", &c), -EIO);
}

static void record_rc(void *ctx, int rc)
{
	*(int *)ctx = rc;
}

static struct store_param int_p(int64_t v)
{
	return (struct store_param){.type = STORE_PARAM_INT, .i = v};
}

static struct store_param text_p(const char *t)
{
	struct store_param p = {.type = STORE_PARAM_TEXT};
	snprintf(p.text, sizeof(p.text), "%s", t);
	return p;
}

static void test_queue_groups(void **state)
{
	struct fixture *fx = *state;
	open_store(fx);
	assert_int_equal(
	    store_exec(fx->st, "CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT, n INTEGER)"), 0);
	struct store_queue *q;
	assert_int_equal(store_queue_start(fx->st, &q), 0);
	static const char ins[] = "INSERT INTO t (k, v, n) VALUES ($1, $2, $3)";

	/* A group whose statements all succeed: a long text (copied by the
	 * submit: the caller's buffer is gone before the write), a NULL. */
	char *long_text = malloc(5001);
	assert_non_null(long_text);
	memset(long_text, 'x', 5000);
	long_text[5000] = '\0';
	struct store_param a[3] = {
	    text_p("a"), {.type = STORE_PARAM_LONG_TEXT, .long_text = long_text}, int_p(1)};
	struct store_param b[3] = {text_p("b"), text_p("short"), {.type = STORE_PARAM_NULL}};
	struct store_queue_stmt ok[] = {{ins, a, 3}, {ins, b, 3}};
	int rc_ok = 1, rc_bad = 1, rc_single = 1;
	assert_int_equal(store_queue_submit_all(q, ok, 2, record_rc, &rc_ok), 0);
	memset(long_text, 'y', 5000);
	free(long_text);

	/* A group whose second statement fails (the key "a" again): its first
	 * statement is not kept either. */
	struct store_param c[3] = {text_p("c"), text_p("lost"), int_p(3)};
	struct store_param dup[3] = {text_p("a"), text_p("again"), int_p(9)};
	struct store_queue_stmt bad[] = {{ins, c, 3}, {ins, dup, 3}};
	assert_int_equal(store_queue_submit_all(q, bad, 2, record_rc, &rc_bad), 0);

	/* A statement after the failed group still commits. */
	struct store_param d[3] = {text_p("d"), text_p("kept"), int_p(4)};
	assert_int_equal(store_queue_submit(q, ins, d, 3, record_rc, &rc_single), 0);
	store_queue_stop(q); /* writes everything queued first */

	assert_int_equal(rc_ok, 0);
	assert_int_equal(rc_bad, -EEXIST);
	assert_int_equal(rc_single, 0);
	assert_int_equal(query_int(fx->st, "SELECT count(*) FROM t"), 3);
	assert_int_equal(query_int(fx->st, "SELECT count(*) FROM t WHERE k = 'c'"), 0);
	assert_int_equal(query_int(fx->st, "SELECT n FROM t WHERE k = 'a'"), 1);
	assert_int_equal(query_int(fx->st, "SELECT length(v) FROM t WHERE k = 'a'"), 5000);
	assert_int_equal(
	    query_int(fx->st,
	              "SELECT count(*) FROM t WHERE k = 'a' AND v GLOB 'x*' AND v NOT GLOB '*y*'"),
	    1);
	assert_int_equal(
	    query_int(fx->st, "SELECT count(*) FROM t WHERE k = 'b' AND v = 'short' AND n IS NULL"),
	    1);
	assert_int_equal(query_int(fx->st, "SELECT n FROM t WHERE k = 'd'"), 4);
}

static void test_open_failure(void **state)
{
	struct fixture *fx = *state;
	char path[160], err[256] = "";
	struct store *st = NULL;
	snprintf(path, sizeof(path), "%s/missing-dir/koryo.db", fx->dir);
	assert_int_equal(store_open(path, NULL, &st, err, sizeof(err)), -EIO);
	assert_null(st);
	assert_non_null(strstr(err, path));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_new_database, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_upgrade_in_place, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_newer_database_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unique_is_eexist, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parameters_by_number, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_statement_cache, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_queue_groups, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_failure, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
