/*
 * koryod's configuration: the defaults an operator gets without a file, a good
 * file, and for every kind of mistake the exact "PATH:LINE: reason" koryod
 * prints, so that the operator can go straight to the line.
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

#include "common/config.h"

struct fixture {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/koryo-test-config.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/koryod.conf", fx->dir);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	unlink(fx->path);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* Loads text over the defaults; returns the result, the message in err. */
static int load_text(struct fixture *fx, const char *text, struct koryo_config *cfg, char *err,
                     size_t errcap)
{
	write_file(fx->path, text);
	koryo_config_defaults(cfg);
	err[0] = '\0';
	return koryo_config_load(cfg, fx->path, err, errcap);
}

/* Asserts that text is refused with exactly "PATH:line: reason". */
static void assert_refused(struct fixture *fx, const char *text, unsigned line, const char *reason)
{
	struct koryo_config cfg;
	char err[512], want[512];
	if (load_text(fx, text, &cfg, err, sizeof(err)) != -1)
		fail_msg("accepted: %s", text);
	snprintf(want, sizeof(want), "%s:%u: %s", fx->path, line, reason);
	assert_string_equal(err, want);
}

static void test_defaults(void **state)
{
	(void)state;
	struct koryo_config cfg;
	koryo_config_defaults(&cfg);
	assert_string_equal(cfg.api_host, "127.0.0.1");
	assert_int_equal(cfg.api_port, 8080);
	assert_int_equal(cfg.workers, 0); /* auto */
	assert_true(koryo_config_worker_count(&cfg) >= 1);
	assert_int_equal(koryo_config_worker_count(&cfg), (unsigned)sysconf(_SC_NPROCESSORS_ONLN));
	assert_string_equal(cfg.data_dir, "/var/lib/koryo");
	assert_int_equal(cfg.log_level, LOG_INFO);
	assert_string_equal(cfg.profile_dir, "");
	assert_int_equal(cfg.auc_ind_bitlen, 5);
	assert_true(cfg.store_sync_full);

	/* The paths derive from data_dir only after finish. */
	assert_string_equal(cfg.store_path, "");
	koryo_config_finish(&cfg);
	assert_string_equal(cfg.store_path, "/var/lib/koryo/koryo.db");
	assert_string_equal(cfg.master_key_path, "/var/lib/koryo/master.key");
	assert_string_equal(cfg.api_token_path, "/var/lib/koryo/api.token");
}

static void test_good_file(void **state)
{
	struct fixture *fx = *state;
	struct koryo_config cfg;
	char err[512];
	assert_int_equal(load_text(fx,
	                           "# koryod test configuration\n"
	                           "\n"
	                           "data_dir = /srv/koryo\n"
	                           "  api.listen=10.1.2.3:9443  \n"
	                           "api.threads = 8\n"
	                           "workers = 3\n"
	                           "log.level = debug\n"
	                           "\t# an indented comment\n"
	                           "profile = /etc/koryo/profiles/koryolink\n"
	                           "auc.ind_bitlen = 0\n"
	                           "store.sync = normal\n"
	                           "api.token_file = /run/koryo/token\n",
	                           &cfg, err, sizeof(err)),
	                 0);
	assert_string_equal(err, "");
	koryo_config_finish(&cfg);
	assert_string_equal(cfg.data_dir, "/srv/koryo");
	assert_string_equal(cfg.api_host, "10.1.2.3");
	assert_int_equal(cfg.api_port, 9443);
	assert_int_equal(cfg.api_threads, 8);
	assert_int_equal(cfg.workers, 3);
	assert_int_equal(koryo_config_worker_count(&cfg), 3);
	assert_int_equal(cfg.log_level, LOG_DEBUG);
	assert_string_equal(cfg.profile_dir, "/etc/koryo/profiles/koryolink");
	assert_int_equal(cfg.auc_ind_bitlen, 0);
	assert_false(cfg.store_sync_full);
	/* Derived from the configured data_dir; an explicit path is kept. */
	assert_string_equal(cfg.store_path, "/srv/koryo/koryo.db");
	assert_string_equal(cfg.master_key_path, "/srv/koryo/master.key");
	assert_string_equal(cfg.api_token_path, "/run/koryo/token");

	/* workers = auto goes back to one per core; the last setting wins. */
	assert_int_equal(load_text(fx, "workers = 7\nworkers = auto\nstore.path = /x/y.db\n", &cfg,
	                           err, sizeof(err)),
	                 0);
	koryo_config_finish(&cfg);
	assert_int_equal(cfg.workers, 0);
	assert_string_equal(cfg.store_path, "/x/y.db");
	assert_string_equal(cfg.master_key_path, "/var/lib/koryo/master.key");
}

static void test_quoted_values(void **state)
{
	struct fixture *fx = *state;
	struct koryo_config cfg;
	char err[512];
	assert_int_equal(load_text(fx,
	                           "data_dir = \"  /srv/with space  \"\n"
	                           "log.level = \"warn\"\n"
	                           "api.listen = \"0.0.0.0:80\"\n",
	                           &cfg, err, sizeof(err)),
	                 0);
	/* The quotes keep the leading and trailing spaces and are not part of the value. */
	assert_string_equal(cfg.data_dir, "  /srv/with space  ");
	assert_int_equal(cfg.log_level, LOG_WARN);
	assert_string_equal(cfg.api_host, "0.0.0.0");
	assert_int_equal(cfg.api_port, 80);
}

static void test_unknown_key(void **state)
{
	struct fixture *fx = *state;
	/* The line number counts the comments and blank lines before it. */
	assert_refused(fx,
	               "# comment\n"
	               "\n"
	               "   \n"
	               "# another comment\n"
	               "workers = 2\n"
	               "api.lisen = 127.0.0.1:8080\n"
	               "log.level = info\n",
	               6, "unknown key 'api.lisen'");
	assert_refused(fx, "colour = blue\n", 1, "unknown key 'colour'");
}

static void test_bad_listen(void **state)
{
	struct fixture *fx = *state;
	static const char *const bad[] = {
	    "localhost:8080", /* koryod never resolves names */
	    "127.0.0.1:0",    "127.0.0.1:70000", "127.0.0.1",    "127.0.0.1:",    ":8080",
	    "256.0.0.1:80",   "1.2.3:80",        "1.2.3.4.5:80", "127.0.0.1:80x", "127.0.0.1:-1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[128], reason[256];
		snprintf(text, sizeof(text), "workers = 1\napi.listen = %s\n", bad[i]);
		snprintf(reason, sizeof(reason),
		         "api.listen: expected IPV4:PORT (e.g. 127.0.0.1:8080), got '%s'", bad[i]);
		assert_refused(fx, text, 2, reason);
	}
}

/* The host must be exactly what koryod can bind (inet_pton), or koryod accepts the
 * file, creates its data directory, key and store, and only then fails to listen. */
static void test_listen_host_as_bound(void **state)
{
	struct fixture *fx = *state;
	static const char *const bad[] = {"01.2.3.4:80", "1.2.3. 4:80", "+1.2.3.4:80",
	                                  "1.2.3.04:80"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[128], reason[256];
		snprintf(text, sizeof(text), "api.listen = %s\n", bad[i]);
		snprintf(reason, sizeof(reason),
		         "api.listen: expected IPV4:PORT (e.g. 127.0.0.1:8080), got '%s'", bad[i]);
		assert_refused(fx, text, 1, reason);
	}
}

static void test_data_dir_length(void **state)
{
	struct fixture *fx = *state;
	struct koryo_config cfg;
	char err[512];
	/* The longest data_dir accepted still leaves room for the derived file names. */
	size_t max = sizeof(cfg.data_dir) - 32 - 1;
	char *text = malloc(max + 64), *dir = malloc(max + 2);
	assert_non_null(text);
	assert_non_null(dir);
	dir[0] = '/';
	memset(dir + 1, 'd', max - 1);
	dir[max] = '\0';
	snprintf(text, max + 64, "data_dir = %s\n", dir);
	assert_int_equal(load_text(fx, text, &cfg, err, sizeof(err)), 0);
	koryo_config_finish(&cfg);
	assert_int_equal(strlen(cfg.store_path), max + strlen("/koryo.db"));
	assert_memory_equal(cfg.store_path, dir, max);
	assert_string_equal(cfg.store_path + max, "/koryo.db");
	assert_string_equal(cfg.master_key_path + max, "/master.key");
	assert_string_equal(cfg.api_token_path + max, "/api.token");
	/* One more is refused on its line. */
	dir[max] = 'd';
	dir[max + 1] = '\0';
	snprintf(text, max + 64, "\ndata_dir = %s\n", dir);
	assert_refused(fx, text, 2, "path too long");
	free(text);
	free(dir);
}

static void test_bad_workers(void **state)
{
	struct fixture *fx = *state;
	static const char *const bad[] = {"0", "257", "-1", "two", "2x", "AUTO"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[128], reason[256];
		snprintf(text, sizeof(text), "workers = %s\n", bad[i]);
		snprintf(reason, sizeof(reason), "workers: expected 'auto' or 1..256, got '%s'",
		         bad[i]);
		assert_refused(fx, text, 1, reason);
	}
}

static void test_bad_log_level(void **state)
{
	struct fixture *fx = *state;
	assert_refused(fx, "\nlog.level = loud\n", 2,
	               "log.level: expected debug, info, notice, warn or error, got 'loud'");
	assert_refused(fx, "log.level =\n", 1,
	               "log.level: expected debug, info, notice, warn or error, got ''");
}

static void test_other_bad_values(void **state)
{
	struct fixture *fx = *state;
	assert_refused(fx, "store.sync = sometimes\n", 1,
	               "store.sync: expected 'full' or 'normal', got 'sometimes'");
	assert_refused(fx, "api.threads = 0\n", 1, "api.threads: expected 1..64, got '0'");
	assert_refused(fx, "auc.ind_bitlen = 11\n", 1, "auc.ind_bitlen: expected 0..10, got '11'");
	assert_refused(fx, "data_dir =\n", 1, "must not be empty");
}

static void test_line_without_equals(void **state)
{
	struct fixture *fx = *state;
	assert_refused(fx, "workers = 2\n# fine\nlog.level debug\n", 3, "expected 'key = value'");
	assert_refused(fx, "= 2\n", 1, "missing key before '='");
}

static void test_missing_file(void **state)
{
	struct fixture *fx = *state;
	struct koryo_config cfg;
	char err[512], want[512], path[160];
	/* There is no line to name: the message is "PATH: cannot open: reason". */
	snprintf(path, sizeof(path), "%s/nonexistent.conf", fx->dir);
	koryo_config_defaults(&cfg);
	assert_int_equal(koryo_config_load(&cfg, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: cannot open: %s", path, strerror(ENOENT));
	assert_string_equal(err, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test_setup_teardown(test_good_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_quoted_values, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_key, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_listen, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_listen_host_as_bound, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_data_dir_length, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_workers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_log_level, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_other_bad_values, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_line_without_equals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
