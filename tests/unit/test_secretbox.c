/*
 * Secret boxes (AES-256-GCM with AAD) and key files (0600, hex, atomic create).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "crypto/keyfile.h"
#include "crypto/secretbox.h"

static const char IMSI[] = "001010000000001";

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + 7 * i);
}

static void test_round_trip(void **state)
{
	(void)state;
	uint8_t key[32], pt[32], box[32 + SECRETBOX_OVERHEAD], box2[sizeof(box)], out[32];

	fill(key, 32, 1);
	fill(pt, 32, 2);
	assert_int_equal(secretbox_seal(key, IMSI, strlen(IMSI), pt, 32, box), 0);
	assert_memory_not_equal(box + SECRETBOX_NONCE_LEN, pt, 32);
	assert_int_equal(secretbox_open(key, IMSI, strlen(IMSI), box, sizeof(box), out), 0);
	assert_memory_equal(out, pt, 32);

	/* A fresh nonce per seal: the same secret never seals to the same box. */
	assert_int_equal(secretbox_seal(key, IMSI, strlen(IMSI), pt, 32, box2), 0);
	assert_memory_not_equal(box, box2, sizeof(box));

	/* No AAD, and an empty secret, work too. */
	assert_int_equal(secretbox_seal(key, NULL, 0, pt, 32, box), 0);
	assert_int_equal(secretbox_open(key, NULL, 0, box, sizeof(box), out), 0);
	assert_memory_equal(out, pt, 32);
	assert_int_equal(secretbox_seal(key, IMSI, strlen(IMSI), pt, 0, box), 0);
	assert_int_equal(secretbox_open(key, IMSI, strlen(IMSI), box, SECRETBOX_OVERHEAD, out), 0);
}

/* Known answer: the GCM of OpenSSL with a fixed nonce must be standard GCM. */
static void test_layout(void **state)
{
	(void)state;
	/* NIST GCM test case 13 (zero key, zero IV, empty text): tag 530f8afb... */
	uint8_t key[32] = {0}, box[SECRETBOX_OVERHEAD] = {0}, out[1];
	static const uint8_t tag[16] = {0x53, 0x0f, 0x8a, 0xfb, 0xc7, 0x45, 0x36, 0xb9,
	                                0xa9, 0x63, 0xb4, 0xf1, 0xc4, 0xcb, 0x73, 0x8b};
	memcpy(box + SECRETBOX_NONCE_LEN, tag, 16);
	assert_int_equal(secretbox_open(key, NULL, 0, box, sizeof(box), out), 0);
	box[SECRETBOX_OVERHEAD - 1] ^= 1;
	assert_int_equal(secretbox_open(key, NULL, 0, box, sizeof(box), out), -EBADMSG);
}

static void test_rejects(void **state)
{
	(void)state;
	uint8_t key[32], key2[32], pt[32], box[32 + SECRETBOX_OVERHEAD], bad[sizeof(box)];
	uint8_t out[32];

	fill(key, 32, 1);
	memcpy(key2, key, 32);
	key2[31] ^= 1;
	fill(pt, 32, 2);
	assert_int_equal(secretbox_seal(key, IMSI, strlen(IMSI), pt, 32, box), 0);

	/* Wrong key: refused, and no unauthenticated plaintext is left behind. */
	memset(out, 0xaa, sizeof(out));
	assert_int_equal(secretbox_open(key2, IMSI, strlen(IMSI), box, sizeof(box), out), -EBADMSG);
	static const uint8_t zero[32];
	assert_memory_equal(out, zero, 32);

	/* Another subscriber's AAD (a box moved to another row). */
	assert_int_equal(secretbox_open(key, "001010000000002", 15, box, sizeof(box), out),
	                 -EBADMSG);
	assert_int_equal(secretbox_open(key, NULL, 0, box, sizeof(box), out), -EBADMSG);

	/* Any altered octet: nonce, ciphertext or tag. */
	for (size_t i = 0; i < sizeof(box); i++) {
		memcpy(bad, box, sizeof(box));
		bad[i] ^= 0x01;
		assert_int_equal(secretbox_open(key, IMSI, strlen(IMSI), bad, sizeof(bad), out),
		                 -EBADMSG);
	}
	/* Failures leave the thread's cipher state usable. */
	assert_int_equal(secretbox_open(key, IMSI, strlen(IMSI), box, sizeof(box), out), 0);
	assert_memory_equal(out, pt, 32);
	assert_int_equal(secretbox_open(key2, IMSI, strlen(IMSI), box, sizeof(box), out), -EBADMSG);
	assert_int_equal(secretbox_open(key, IMSI, strlen(IMSI), box, sizeof(box), out), 0);

	/* Truncated. */
	assert_int_equal(secretbox_open(key, IMSI, strlen(IMSI), box, sizeof(box) - 1, out),
	                 -EBADMSG);
	assert_int_equal(secretbox_open(key, IMSI, strlen(IMSI), box, SECRETBOX_OVERHEAD - 1, out),
	                 -EBADMSG);
}

static void *thread_seal_open(void *arg)
{
	uint8_t key[32], pt[32], box[32 + SECRETBOX_OVERHEAD], out[32];
	intptr_t bad = 0;

	for (int i = 0; i < 2000; i++) {
		/* Mostly one key, sometimes another: exercises the re-key path. */
		fill(key, 32, (uint8_t)((uintptr_t)arg + (i % 7 == 0 ? 100 : 0)));
		fill(pt, 32, (uint8_t)i);
		if (secretbox_seal(key, IMSI, strlen(IMSI), pt, 32, box) != 0 ||
		    secretbox_open(key, IMSI, strlen(IMSI), box, sizeof(box), out) != 0 ||
		    memcmp(out, pt, 32) != 0)
			bad++;
	}
	return (void *)bad;
}

/* Per-thread contexts: threads with different keys do not disturb each other. */
static void test_threads(void **state)
{
	(void)state;
	pthread_t t[4];
	for (uintptr_t i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, thread_seal_open, (void *)i), 0);
	for (int i = 0; i < 4; i++) {
		void *r;
		assert_int_equal(pthread_join(t[i], &r), 0);
		assert_null(r);
	}
}

/* ---- key files ---- */

static char tmpdir[256];

static int setup_dir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/koryo-keyfile.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void test_keyfile_create_and_reload(void **state)
{
	(void)state;
	char path[512], hex[65], text[128];
	uint8_t key[32], again[32];
	bool created = false;
	struct stat st;

	snprintf(path, sizeof(path), "%s/master.key", tmpdir);
	/* A permissive umask must not leak into the file's mode. */
	mode_t old = umask(0);
	assert_int_equal(keyfile_load_or_create(path, 32, key, &created), 0);
	umask(old);
	assert_true(created);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, 65);

	/* The file is the key in lowercase hex plus newline. */
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(text, sizeof(text), f));
	fclose(f);
	assert_int_equal(keyfile_hex_encode(key, 32, hex, sizeof(hex)), 0);
	assert_int_equal(strlen(text), 65);
	assert_memory_equal(text, hex, 64);
	assert_int_equal(text[64], '\n');

	assert_int_equal(keyfile_load_or_create(path, 32, again, &created), 0);
	assert_false(created);
	assert_memory_equal(key, again, 32);
	assert_int_equal(keyfile_load(path, 32, again), 0);
	assert_memory_equal(key, again, 32);

	/* As a bearer token: the hex text itself. */
	char tok[65];
	assert_int_equal(keyfile_load_hex(path, 32, tok, sizeof(tok)), 0);
	assert_string_equal(tok, hex);
	assert_int_equal(keyfile_load_hex(path, 32, tok, 64), -ENOSPC);

	/* No temporary files are left next to it. */
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) -eq 1", tmpdir);
	assert_int_equal(system(cmd), 0);

	/* Wrong expected size for an existing file is malformed, not overwritten. */
	assert_int_equal(keyfile_load_or_create(path, 16, again, &created), -EINVAL);
	assert_int_equal(keyfile_load(path, 32, again), 0);
	assert_memory_equal(key, again, 32);
}

static void test_keyfile_refuses_open_modes(void **state)
{
	(void)state;
	char path[512];
	uint8_t key[32];
	bool created = true;
	static const char hex[] =
	    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";

	snprintf(path, sizeof(path), "%s/open.key", tmpdir);
	write_file(path, hex, 0640);
	assert_int_equal(keyfile_load_or_create(path, 32, key, &created), -EPERM);
	assert_false(created);
	write_file(path, hex, 0604);
	assert_int_equal(keyfile_load(path, 32, key), -EPERM);
	write_file(path, hex, 0620);
	assert_int_equal(keyfile_load(path, 32, key), -EPERM);
	write_file(path, hex, 0600);
	assert_int_equal(keyfile_load(path, 32, key), 0);
	assert_int_equal(key[0], 0x00);
	assert_int_equal(key[31], 0x1f);
	write_file(path, hex, 0400);
	assert_int_equal(keyfile_load(path, 32, key), 0);
}

static void test_keyfile_refuses_malformed(void **state)
{
	(void)state;
	char path[512];
	uint8_t key[32];
	static const char *bad[] = {
	    "",
	    "\n",
	    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e\n",     /* short */
	    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f00\n", /* long */
	    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g\n",   /* non-hex */
	    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n\n",
	    " 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\r\n",
	};

	snprintf(path, sizeof(path), "%s/bad.key", tmpdir);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(path, bad[i], 0600);
		print_message("malformed case %zu\n", i);
		assert_int_equal(keyfile_load(path, 32, key), -EINVAL);
		bool created = true;
		assert_int_equal(keyfile_load_or_create(path, 32, key, &created), -EINVAL);
		assert_false(created);
	}
	/* Without the trailing newline is accepted (e.g. written by printf). */
	write_file(path, "000102030405060708090A0B0C0D0E0F101112131415161718191a1b1c1d1e1f", 0600);
	assert_int_equal(keyfile_load(path, 32, key), 0);
	assert_int_equal(key[10], 0x0a);
	char tok[65];
	assert_int_equal(keyfile_load_hex(path, 32, tok, sizeof(tok)), 0);
	assert_string_equal(tok,
	                    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");

	/* A directory is not a key file; nor is a size of zero. */
	assert_int_equal(keyfile_load(tmpdir, 32, key), -EINVAL);
	assert_int_equal(keyfile_load(path, 0, key), -EINVAL);
}

static void test_keyfile_missing_dir(void **state)
{
	(void)state;
	char path[512];
	uint8_t key[32];
	bool created = true;

	snprintf(path, sizeof(path), "%s/no/such/dir/master.key", tmpdir);
	assert_int_equal(keyfile_load_or_create(path, 32, key, &created), -ENOENT);
	assert_false(created);
	snprintf(path, sizeof(path), "%s/absent.key", tmpdir);
	assert_int_equal(keyfile_load(path, 32, key), -ENOENT);
	assert_int_equal(access(path, F_OK), -1); /* load never creates */
}

struct race_arg {
	const char *path;
	uint8_t key[32];
	int rc;
	bool created;
};

static void *race_thread(void *p)
{
	struct race_arg *a = p;
	a->rc = keyfile_load_or_create(a->path, 32, a->key, &a->created);
	return NULL;
}

/* Several creators at once agree on one key; exactly one of them created it. */
static void test_keyfile_create_race(void **state)
{
	(void)state;
	char path[512];
	struct race_arg a[8];
	pthread_t t[8];
	int creators = 0;

	snprintf(path, sizeof(path), "%s/race.key", tmpdir);
	for (int i = 0; i < 8; i++) {
		a[i].path = path;
		assert_int_equal(pthread_create(&t[i], NULL, race_thread, &a[i]), 0);
	}
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(a[i].rc, 0);
		assert_memory_equal(a[i].key, a[0].key, 32);
		creators += a[i].created;
	}
	assert_int_equal(creators, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_layout),
	    cmocka_unit_test(test_rejects),
	    cmocka_unit_test(test_threads),
	    cmocka_unit_test(test_keyfile_create_and_reload),
	    cmocka_unit_test(test_keyfile_refuses_open_modes),
	    cmocka_unit_test(test_keyfile_refuses_malformed),
	    cmocka_unit_test(test_keyfile_missing_dir),
	    cmocka_unit_test(test_keyfile_create_race),
	};
	return cmocka_run_group_tests_name("secretbox", tests, setup_dir, teardown_dir);
}
