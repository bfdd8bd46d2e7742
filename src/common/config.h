#pragma once
/* koryod's configuration: defaults, then the file given with -c. See
 * etc/koryod.conf.example and docs/configuration.md for every key. */

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/log.h"

#define KORYO_DIGEST_MD5    1u
#define KORYO_DIGEST_SHA256 2u

struct koryo_config {
	char data_dir[PATH_MAX];
	char store_path[PATH_MAX];      /* default <data_dir>/koryo.db */
	char master_key_path[PATH_MAX]; /* default <data_dir>/master.key */
	char api_token_path[PATH_MAX];  /* default <data_dir>/api.token */
	char api_host[64];
	uint16_t api_port;
	unsigned api_threads;
	unsigned workers; /* 0 = auto: one per core */
	enum log_level log_level;
	char profile_dir[PATH_MAX]; /* empty: none */
	unsigned auc_ind_bitlen;
	char gsup_host[64];
	uint16_t gsup_port;        /* 0: GSUP disabled */
	unsigned gsup_isd_timeout; /* seconds */
	bool store_sync_full;      /* fsync the WAL on every commit (power-loss safe) */
	char sip_host[64];
	uint16_t sip_port;        /* 0: SIP disabled */
	char sip_domain[256];     /* the home domain */
	unsigned sip_digest_algs; /* KORYO_DIGEST_* bits offered to softphones */
	unsigned sip_min_expires, sip_max_expires, sip_nonce_lifetime;
	unsigned sip_auth_fail_limit, sip_auth_fail_window;
	long long clock_offset; /* seconds added to the wall clock (tests, simulations) */
	bool charging;          /* calls and messages go through credit control */
	/* The SMS centre (docs/sms-centre.md). */
	char sms_address[24]; /* its E.164 number, "+" and digits; "" = +<country code>0 */
	unsigned sms_validity, sms_max_validity; /* seconds */
	unsigned sms_max_stored, sms_max_per_recipient, sms_window;
	unsigned sms_reassembly_timeout, sms_delivery_timeout; /* seconds */
};

/* Fills cfg with the defaults. */
void koryo_config_defaults(struct koryo_config *cfg);

/* Reads path over the current values. Returns 0, or -1 with "PATH:LINE: reason"
 * in err; cfg may then be partly changed and should not be used. */
int koryo_config_load(struct koryo_config *cfg, const char *path, char *err, size_t errcap);

/* Derives the paths left empty from data_dir. Call after loading. */
void koryo_config_finish(struct koryo_config *cfg);

/* The number of workers to start: cfg->workers, or the number of online CPUs. */
unsigned koryo_config_worker_count(const struct koryo_config *cfg);
