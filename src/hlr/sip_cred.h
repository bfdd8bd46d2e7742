#pragma once
/* SIP digest credentials of the registry (internal to src/hlr): a sparse map
 * IMSI -> HA1s, only for subscribers that have a password, and the store rows
 * behind it. The public functions are in registry.h. */

#include <stdbool.h>
#include <stdint.h>

struct store;
struct hlr_sip_creds;

struct hlr_sip_cred {
	uint64_t imsi;
	uint64_t username; /* the MSISDN the HA1s were made with */
	char ha1_md5[33];
	char ha1_sha256[65];
};

int hlr_sip_creds_new(struct hlr_sip_creds **out);
void hlr_sip_creds_free(struct hlr_sip_creds *c);

/* Loads every stored credential of realm; counts the others in *dropped (they
 * stay in the store until their password is set again). Caller holds the
 * store lock. 0, -EIO, -ENOMEM. */
int hlr_sip_creds_load(struct hlr_sip_creds *c, struct store *st, const char *realm,
                       uint64_t *dropped);

/* Memory only (after the store committed). put: 0 or -ENOMEM. */
int hlr_sip_creds_put(struct hlr_sip_creds *c, const struct hlr_sip_cred *cred);
void hlr_sip_creds_del(struct hlr_sip_creds *c, uint64_t imsi);
/* 0 with a copy, or -ENOENT. */
int hlr_sip_creds_get(struct hlr_sip_creds *c, uint64_t imsi, struct hlr_sip_cred *out);

/* Makes both HA1s of password for username (an MSISDN) in realm. 0 or -EIO. */
int hlr_sip_cred_make(uint64_t imsi, uint64_t username, const char *realm, const char *password,
                      struct hlr_sip_cred *out);
/* Checks a password: 8 to 128 printable ASCII characters. */
bool hlr_sip_password_valid(const char *password);

/* Store rows; the caller holds the store lock (inside a transaction or not).
 * 0 or -EIO. */
int hlr_sip_cred_row_put(struct store *st, const struct hlr_sip_cred *cred, const char *realm,
                         int64_t now);
int hlr_sip_cred_row_del(struct store *st, uint64_t imsi);
