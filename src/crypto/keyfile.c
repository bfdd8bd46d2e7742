/*
 * Key files: one line of hex, mode 0600, created atomically.
 */
#include "crypto/keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "crypto/aka.h"

static int keyfile_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int keyfile_hex_encode(const uint8_t *in, size_t n, char *hex_out, size_t cap)
{
	static const char digits[] = "0123456789abcdef";

	if (cap < 2 * n + 1)
		return -ENOSPC;
	for (size_t i = 0; i < n; i++) {
		hex_out[2 * i] = digits[in[i] >> 4];
		hex_out[2 * i + 1] = digits[in[i] & 15];
	}
	hex_out[2 * n] = '\0';
	return 0;
}

static int keyfile_check_size(size_t nbytes)
{
	return (nbytes == 0 || nbytes > KEYFILE_MAX_BYTES) ? -EINVAL : 0;
}

/* Reads the whole of a small file into buf; returns its length or -errno. */
static ssize_t keyfile_read_all(int fd, char *buf, size_t cap)
{
	size_t got = 0;

	while (got < cap) {
		ssize_t r = read(fd, buf + got, cap - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int keyfile_load(const char *path, size_t nbytes, uint8_t *out)
{
	/* Room for the hex, a newline, and one more octet to detect excess. */
	char buf[2 * KEYFILE_MAX_BYTES + 2];
	struct stat st;
	ssize_t len;
	int fd, rc;

	rc = keyfile_check_size(nbytes);
	if (rc < 0)
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	/*
	 * Refuse before reading: a key others could read (or replace) is not a
	 * secret any more, and the operator must fix the mode, not us.
	 */
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		close(fd);
		return -EPERM;
	}
	len = keyfile_read_all(fd, buf, 2 * nbytes + 2);
	close(fd);
	if (len < 0) {
		rc = (int)len;
		goto out;
	}
	if ((size_t)len == 2 * nbytes + 1 && buf[2 * nbytes] == '\n')
		len--;
	if ((size_t)len != 2 * nbytes) {
		rc = -EINVAL;
		goto out;
	}
	for (size_t i = 0; i < nbytes; i++) {
		int hi = keyfile_hexval(buf[2 * i]), lo = keyfile_hexval(buf[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			rc = -EINVAL;
			break;
		}
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	if (rc < 0)
		OPENSSL_cleanse(out, nbytes);
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	return rc;
}

int keyfile_load_hex(const char *path, size_t nbytes, char *hex_out, size_t cap)
{
	uint8_t key[KEYFILE_MAX_BYTES];
	int rc;

	rc = keyfile_check_size(nbytes);
	if (rc < 0)
		return rc;
	if (cap < 2 * nbytes + 1)
		return -ENOSPC;
	rc = keyfile_load(path, nbytes, key);
	if (rc == 0)
		rc = keyfile_hex_encode(key, nbytes, hex_out, cap);
	OPENSSL_cleanse(key, nbytes);
	return rc;
}

static int keyfile_write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t w = write(fd, buf, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/* fsync the directory holding path, so the new name survives a crash. */
static int keyfile_sync_dir(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, rc = 0;

	if (!slash) {
		strcpy(dir, ".");
	} else if (slash == path) {
		strcpy(dir, "/");
	} else {
		size_t n = (size_t)(slash - path);
		if (n >= sizeof(dir))
			return -ENAMETOOLONG;
		memcpy(dir, path, n);
		dir[n] = '\0';
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/*
 * Writes a new key to a temporary file and links it to path. Returns 0 (key
 * in out), -EEXIST if path appeared meanwhile (someone else won the race), or
 * -errno.
 */
static int keyfile_create(const char *path, size_t nbytes, uint8_t *out)
{
	char tmp[PATH_MAX], hex[2 * KEYFILE_MAX_BYTES + 2];
	int fd, rc;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	rc = crypto_random(out, nbytes);
	if (rc < 0)
		return rc;
	keyfile_hex_encode(out, nbytes, hex, sizeof(hex));
	hex[2 * nbytes] = '\n';

	/* mkostemp opens with O_CREAT|O_EXCL and mode 0600 regardless of umask. */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	if (fchmod(fd, S_IRUSR | S_IWUSR) < 0)
		rc = -errno;
	if (rc == 0)
		rc = keyfile_write_all(fd, hex, 2 * nbytes + 1);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	/* link() never replaces: exactly one creator wins, the others load its key. */
	if (rc == 0 && link(tmp, path) < 0)
		rc = -errno;
	unlink(tmp);
	if (rc == 0)
		rc = keyfile_sync_dir(path);
out:
	OPENSSL_cleanse(hex, sizeof(hex));
	if (rc < 0)
		OPENSSL_cleanse(out, nbytes);
	return rc;
}

int keyfile_load_or_create(const char *path, size_t nbytes, uint8_t *out, bool *created)
{
	int rc;

	if (created)
		*created = false;
	rc = keyfile_load(path, nbytes, out);
	if (rc != -ENOENT)
		return rc;
	rc = keyfile_create(path, nbytes, out);
	if (rc == -EEXIST)
		return keyfile_load(path, nbytes, out);
	if (rc == 0 && created)
		*created = true;
	return rc;
}
