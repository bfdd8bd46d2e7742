/* SIP digest credentials: an open-addressing map IMSI -> HA1s under a
 * read-write lock, and the subscriber_sip rows. See sip_cred.h. */
#include "hlr/sip_cred.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/digest.h"
#include "store/store.h"

struct hlr_sip_creds {
	pthread_rwlock_t lock;
	struct hlr_sip_cred *cells; /* imsi 0: empty */
	size_t cap, used;           /* cap is a power of two */
};

static size_t slot_of(uint64_t imsi, size_t cap)
{
	uint64_t h = imsi * 0x9e3779b97f4a7c15ull;
	return (size_t)(h >> 17) & (cap - 1);
}

int hlr_sip_creds_new(struct hlr_sip_creds **out)
{
	struct hlr_sip_creds *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	pthread_rwlock_init(&c->lock, NULL);
	*out = c;
	return 0;
}

void hlr_sip_creds_free(struct hlr_sip_creds *c)
{
	if (!c)
		return;
	if (c->cells)
		OPENSSL_cleanse(c->cells, c->cap * sizeof(*c->cells));
	free(c->cells);
	pthread_rwlock_destroy(&c->lock);
	free(c);
}

/* Finds imsi's cell or the empty one where it would go. */
static struct hlr_sip_cred *find(struct hlr_sip_cred *cells, size_t cap, uint64_t imsi)
{
	for (size_t i = slot_of(imsi, cap);; i = (i + 1) & (cap - 1)) {
		if (cells[i].imsi == imsi || cells[i].imsi == 0)
			return &cells[i];
	}
}

static int grow(struct hlr_sip_creds *c)
{
	size_t ncap = c->cap ? c->cap * 2 : 64;
	struct hlr_sip_cred *n = calloc(ncap, sizeof(*n));
	if (!n)
		return -ENOMEM;
	for (size_t i = 0; i < c->cap; i++) {
		if (c->cells[i].imsi)
			*find(n, ncap, c->cells[i].imsi) = c->cells[i];
	}
	if (c->cells)
		OPENSSL_cleanse(c->cells, c->cap * sizeof(*c->cells));
	free(c->cells);
	c->cells = n;
	c->cap = ncap;
	return 0;
}

static int put_locked(struct hlr_sip_creds *c, const struct hlr_sip_cred *cred)
{
	if ((c->used + 1) * 2 > c->cap && grow(c) != 0)
		return -ENOMEM;
	struct hlr_sip_cred *cell = find(c->cells, c->cap, cred->imsi);
	if (cell->imsi == 0)
		c->used++;
	*cell = *cred;
	return 0;
}

int hlr_sip_creds_put(struct hlr_sip_creds *c, const struct hlr_sip_cred *cred)
{
	pthread_rwlock_wrlock(&c->lock);
	int rc = put_locked(c, cred);
	pthread_rwlock_unlock(&c->lock);
	return rc;
}

void hlr_sip_creds_del(struct hlr_sip_creds *c, uint64_t imsi)
{
	pthread_rwlock_wrlock(&c->lock);
	if (c->cap) {
		struct hlr_sip_cred *cell = find(c->cells, c->cap, imsi);
		if (cell->imsi == imsi) {
			/* Backward-shift deletion keeps every probe chain unbroken. */
			size_t i = (size_t)(cell - c->cells);
			OPENSSL_cleanse(cell, sizeof(*cell));
			for (size_t j = (i + 1) & (c->cap - 1); c->cells[j].imsi;
			     j = (j + 1) & (c->cap - 1)) {
				size_t home = slot_of(c->cells[j].imsi, c->cap);
				bool movable =
				    i <= j ? (home <= i || home > j) : (home <= i && home > j);
				if (movable) {
					c->cells[i] = c->cells[j];
					OPENSSL_cleanse(&c->cells[j], sizeof(c->cells[j]));
					i = j;
				}
			}
			c->used--;
		}
	}
	pthread_rwlock_unlock(&c->lock);
}

int hlr_sip_creds_get(struct hlr_sip_creds *c, uint64_t imsi, struct hlr_sip_cred *out)
{
	int rc = -ENOENT;
	pthread_rwlock_rdlock(&c->lock);
	if (c->cap && imsi) {
		const struct hlr_sip_cred *cell = find(c->cells, c->cap, imsi);
		if (cell->imsi == imsi) {
			*out = *cell;
			rc = 0;
		}
	}
	pthread_rwlock_unlock(&c->lock);
	return rc;
}

bool hlr_sip_password_valid(const char *pw)
{
	size_t n = strlen(pw);
	if (n < 8 || n > 128)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (pw[i] < 0x20 || pw[i] > 0x7e)
			return false;
	}
	return true;
}

int hlr_sip_cred_make(uint64_t imsi, uint64_t username, const char *realm, const char *password,
                      struct hlr_sip_cred *out)
{
	char user[24];
	snprintf(user, sizeof(user), "%" PRIu64, username);
	memset(out, 0, sizeof(*out));
	out->imsi = imsi;
	out->username = username;
	char md5[DIGEST_HEX_MAX], sha[DIGEST_HEX_MAX];
	if (digest_ha1(DIGEST_MD5, user, strlen(user), realm, strlen(realm), password,
	               strlen(password), md5) != 0 ||
	    digest_ha1(DIGEST_SHA256, user, strlen(user), realm, strlen(realm), password,
	               strlen(password), sha) != 0)
		return -EIO;
	memcpy(out->ha1_md5, md5, sizeof(out->ha1_md5));
	memcpy(out->ha1_sha256, sha, sizeof(out->ha1_sha256));
	OPENSSL_cleanse(md5, sizeof(md5));
	OPENSSL_cleanse(sha, sizeof(sha));
	return 0;
}

static bool hex_of_len(const char *s, size_t n)
{
	if (!s || strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return true;
}

int hlr_sip_creds_load(struct hlr_sip_creds *c, struct store *st, const char *realm,
                       uint64_t *dropped)
{
	struct store_stmt *s;
	*dropped = 0;
	if (store_prepare(
	        st, "SELECT imsi_num, username, realm, ha1_md5, ha1_sha256 FROM subscriber_sip",
	        &s) != 0)
		return -EIO;
	int rc;
	pthread_rwlock_wrlock(&c->lock);
	while ((rc = store_step(s)) == STORE_ROW) {
		const char *r = store_col_text(s, 2);
		struct hlr_sip_cred cred = {.imsi = (uint64_t)store_col_int64(s, 0)};
		const char *user = store_col_text(s, 1), *md5 = store_col_text(s, 3),
		           *sha = store_col_text(s, 4);
		if (!r || strcmp(r, realm) != 0 || !user || !hex_of_len(md5, 32) ||
		    !hex_of_len(sha, 64)) {
			(*dropped)++;
			continue;
		}
		cred.username = strtoull(user, NULL, 10);
		memcpy(cred.ha1_md5, md5, 33);
		memcpy(cred.ha1_sha256, sha, 65);
		if (put_locked(c, &cred) != 0) {
			rc = -ENOMEM;
			break;
		}
	}
	pthread_rwlock_unlock(&c->lock);
	store_reset(s);
	return rc == STORE_DONE ? 0 : rc < 0 ? rc : -EIO;
}

int hlr_sip_cred_row_put(struct store *st, const struct hlr_sip_cred *cred, const char *realm,
                         int64_t now)
{
	struct store_stmt *s;
	char user[24];
	snprintf(user, sizeof(user), "%" PRIu64, cred->username);
	if (store_prepare(st,
	                  "INSERT INTO subscriber_sip (imsi_num, username, realm, ha1_md5, "
	                  "ha1_sha256, updated_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT "
	                  "(imsi_num) DO UPDATE SET username = $2, realm = $3, ha1_md5 = $4, "
	                  "ha1_sha256 = $5, updated_at = $6",
	                  &s) != 0)
		return -EIO;
	store_bind_int64(s, 1, (int64_t)cred->imsi);
	store_bind_text(s, 2, user);
	store_bind_text(s, 3, realm);
	store_bind_text(s, 4, cred->ha1_md5);
	store_bind_text(s, 5, cred->ha1_sha256);
	store_bind_int64(s, 6, now);
	int rc = store_step(s);
	store_reset(s);
	return rc == STORE_DONE ? 0 : -EIO;
}

int hlr_sip_cred_row_del(struct store *st, uint64_t imsi)
{
	struct store_stmt *s;
	if (store_prepare(st, "DELETE FROM subscriber_sip WHERE imsi_num = $1", &s) != 0)
		return -EIO;
	store_bind_int64(s, 1, (int64_t)imsi);
	int rc = store_step(s);
	store_reset(s);
	return rc == STORE_DONE ? 0 : -EIO;
}
