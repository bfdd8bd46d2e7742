#include "common/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/kvfile.h"

void koryo_config_defaults(struct koryo_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->data_dir, sizeof(cfg->data_dir), "/var/lib/koryo");
	snprintf(cfg->api_host, sizeof(cfg->api_host), "127.0.0.1");
	cfg->api_port = 8080;
	cfg->api_threads = 4;
	cfg->workers = 0;
	cfg->log_level = LOG_INFO;
	cfg->auc_ind_bitlen = 5;
	cfg->store_sync_full = true;
	snprintf(cfg->gsup_host, sizeof(cfg->gsup_host), "127.0.0.1");
	cfg->gsup_port = 4222;
	cfg->gsup_isd_timeout = 30;
	snprintf(cfg->sip_host, sizeof(cfg->sip_host), "127.0.0.1");
	cfg->sip_port = 5060;
	snprintf(cfg->sip_domain, sizeof(cfg->sip_domain), "koryo.local");
	cfg->sip_digest_algs = KORYO_DIGEST_MD5 | KORYO_DIGEST_SHA256;
	cfg->sip_min_expires = 60;
	cfg->sip_max_expires = 7200;
	cfg->sip_nonce_lifetime = 300;
	cfg->sip_auth_fail_limit = 10;
	cfg->sip_auth_fail_window = 60;
	cfg->charging = true;
	cfg->sms_validity = 2 * 86400;
	cfg->sms_max_validity = 7 * 86400;
	cfg->sms_max_stored = 1000000;
	cfg->sms_max_per_recipient = 200;
	cfg->sms_window = 8;
	cfg->sms_reassembly_timeout = 3600;
	cfg->sms_delivery_timeout = 60;
}

/* A host name as a SIP URI carries it (RFC 3261 25.1 hostname): labels of
 * letters, digits and '-', separated by dots; an optional final dot. */
static int parse_domain(const char *v, char *out, size_t cap)
{
	size_t n = strlen(v), label = 0;
	if (n == 0 || n >= cap || n > 253)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = v[i];
		if (c == '.') {
			if (label == 0 || v[i - 1] == '-')
				return -1;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		           (c >= '0' && c <= '9') || (c == '-' && label > 0)) {
			if (++label > 63)
				return -1;
		} else {
			return -1;
		}
	}
	if (v[n - 1] == '-')
		return -1;
	memcpy(out, v, n + 1);
	return 0;
}

static int parse_uint(const char *v, unsigned min, unsigned max, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long n = strtoul(v, &end, 10);
	if (errno || end == v || *end || v[0] == '-' || n < min || n > max)
		return -1;
	*out = (unsigned)n;
	return 0;
}

static int set_path(char *dst, size_t cap, const char *v, char *err, size_t errcap)
{
	if (*v == '\0') {
		snprintf(err, errcap, "must not be empty");
		return -1;
	}
	if (strlen(v) >= cap) {
		snprintf(err, errcap, "path too long");
		return -1;
	}
	strcpy(dst, v);
	return 0;
}

/* "HOST:PORT" with HOST a numeric IPv4 address: koryod never resolves names. */
static int parse_listen(const char *v, char *host, size_t hostcap, uint16_t *port)
{
	const char *colon = strrchr(v, ':');
	if (!colon || colon == v || (size_t)(colon - v) >= hostcap)
		return -1;
	unsigned p;
	if (parse_uint(colon + 1, 1, 65535, &p) != 0)
		return -1;
	char h[64];
	memcpy(h, v, (size_t)(colon - v));
	h[colon - v] = '\0';
	struct in_addr a;
	if (inet_pton(AF_INET, h, &a) != 1)
		return -1;
	strcpy(host, h);
	*port = (uint16_t)p;
	return 0;
}

static int config_set(void *ctx, const char *key, const char *v, char *err, size_t errcap)
{
	struct koryo_config *cfg = ctx;

	if (strcmp(key, "data_dir") == 0)
		return set_path(cfg->data_dir, sizeof(cfg->data_dir) - 32, v, err, errcap);
	if (strcmp(key, "store.path") == 0)
		return set_path(cfg->store_path, sizeof(cfg->store_path), v, err, errcap);
	if (strcmp(key, "store.sync") == 0) {
		if (strcmp(v, "full") == 0)
			cfg->store_sync_full = true;
		else if (strcmp(v, "normal") == 0)
			cfg->store_sync_full = false;
		else {
			snprintf(err, errcap, "store.sync: expected 'full' or 'normal', got '%s'",
			         v);
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "master_key") == 0)
		return set_path(cfg->master_key_path, sizeof(cfg->master_key_path), v, err, errcap);
	if (strcmp(key, "api.token_file") == 0)
		return set_path(cfg->api_token_path, sizeof(cfg->api_token_path), v, err, errcap);
	if (strcmp(key, "api.listen") == 0) {
		if (parse_listen(v, cfg->api_host, sizeof(cfg->api_host), &cfg->api_port) != 0) {
			snprintf(err, errcap,
			         "api.listen: expected IPV4:PORT (e.g. 127.0.0.1:8080), got '%s'",
			         v);
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "gsup.listen") == 0) {
		if (strcmp(v, "off") == 0) {
			cfg->gsup_port = 0;
			return 0;
		}
		if (parse_listen(v, cfg->gsup_host, sizeof(cfg->gsup_host), &cfg->gsup_port) != 0) {
			snprintf(err, errcap,
			         "gsup.listen: expected IPV4:PORT (e.g. 127.0.0.1:4222) or off, "
			         "got '%s'",
			         v);
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "sip.listen") == 0) {
		if (strcmp(v, "off") == 0) {
			cfg->sip_port = 0;
			return 0;
		}
		if (parse_listen(v, cfg->sip_host, sizeof(cfg->sip_host), &cfg->sip_port) != 0) {
			snprintf(
			    err, errcap,
			    "sip.listen: expected IPV4:PORT (e.g. 127.0.0.1:5060) or off, got '%s'",
			    v);
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "sip.domain") == 0) {
		if (parse_domain(v, cfg->sip_domain, sizeof(cfg->sip_domain)) != 0) {
			snprintf(
			    err, errcap,
			    "sip.domain: expected a host name (e.g. ims.example.net), got '%s'", v);
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "charging") == 0) {
		if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0) {
			snprintf(err, errcap, "charging: expected on or off, got '%s'", v);
			return -1;
		}
		cfg->charging = strcmp(v, "on") == 0;
		return 0;
	}
	if (strcmp(key, "clock.offset") == 0) {
		char *end;
		errno = 0;
		long long o = strtoll(v, &end, 10);
		/* A century either way: enough for any test, far from overflow. */
		if (errno || end == v || *end || o > 3155760000LL || o < -3155760000LL) {
			snprintf(
			    err, errcap,
			    "clock.offset: expected seconds (e.g. 2678400 for 31 days), got '%s'",
			    v);
			return -1;
		}
		cfg->clock_offset = o;
		return 0;
	}
	if (strcmp(key, "sip.digest_algorithms") == 0) {
		unsigned algs = 0;
		char buf[64];
		snprintf(buf, sizeof(buf), "%s", v);
		for (char *save, *t = strtok_r(buf, " ,", &save); t;
		     t = strtok_r(NULL, " ,", &save)) {
			if (strcasecmp(t, "MD5") == 0)
				algs |= KORYO_DIGEST_MD5;
			else if (strcasecmp(t, "SHA-256") == 0)
				algs |= KORYO_DIGEST_SHA256;
			else
				algs = 0, t = NULL;
			if (!t)
				break;
		}
		if (!algs) {
			snprintf(err, errcap,
			         "sip.digest_algorithms: expected MD5, SHA-256 or both (\"MD5 "
			         "SHA-256\"), got '%s'",
			         v);
			return -1;
		}
		cfg->sip_digest_algs = algs;
		return 0;
	}
	struct {
		const char *key;
		unsigned *out, min, max;
	} nums[] = {
	    {"sip.min_expires", &cfg->sip_min_expires, 1, 86400},
	    {"sip.max_expires", &cfg->sip_max_expires, 1, 604800},
	    {"sip.nonce_lifetime", &cfg->sip_nonce_lifetime, 10, 86400},
	    {"sip.auth_fail_limit", &cfg->sip_auth_fail_limit, 1, 1000000},
	    {"sip.auth_fail_window", &cfg->sip_auth_fail_window, 1, 86400},
	    {"sms.validity", &cfg->sms_validity, 60, 63 * 7 * 86400},
	    {"sms.max_validity", &cfg->sms_max_validity, 60, 63 * 7 * 86400},
	    {"sms.max_stored", &cfg->sms_max_stored, 1, 100000000},
	    {"sms.max_per_recipient", &cfg->sms_max_per_recipient, 1, 100000},
	    {"sms.window", &cfg->sms_window, 1, 64},
	    {"sms.reassembly_timeout", &cfg->sms_reassembly_timeout, 10, 7 * 86400},
	    {"sms.delivery_timeout", &cfg->sms_delivery_timeout, 5, 3600},
	};
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		if (strcmp(key, nums[i].key) != 0)
			continue;
		if (parse_uint(v, nums[i].min, nums[i].max, nums[i].out) != 0) {
			snprintf(err, errcap, "%s: expected %u..%u, got '%s'", key, nums[i].min,
			         nums[i].max, v);
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "sms.centre_address") == 0) {
		size_t n = strlen(v);
		bool ok = n >= 2 && n < sizeof(cfg->sms_address) && n <= 16 && v[0] == '+';
		for (size_t i = 1; ok && i < n; i++)
			ok = v[i] >= '0' && v[i] <= '9';
		if (!ok) {
			snprintf(err, errcap,
			         "sms.centre_address: expected '+' and 1 to 15 digits, got '%s'",
			         v);
			return -1;
		}
		snprintf(cfg->sms_address, sizeof(cfg->sms_address), "%s", v);
		return 0;
	}
	if (strcmp(key, "gsup.isd_timeout") == 0) {
		if (parse_uint(v, 1, 3600, &cfg->gsup_isd_timeout) != 0) {
			snprintf(err, errcap,
			         "gsup.isd_timeout: expected 1..3600 seconds, got '%s'", v);
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "api.threads") == 0) {
		if (parse_uint(v, 1, 64, &cfg->api_threads) != 0) {
			snprintf(err, errcap, "api.threads: expected 1..64, got '%s'", v);
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "workers") == 0) {
		if (strcmp(v, "auto") == 0) {
			cfg->workers = 0;
			return 0;
		}
		if (parse_uint(v, 1, 256, &cfg->workers) != 0) {
			snprintf(err, errcap, "workers: expected 'auto' or 1..256, got '%s'", v);
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "log.level") == 0) {
		if (log_level_parse(v, &cfg->log_level) != 0) {
			snprintf(err, errcap,
			         "log.level: expected debug, info, notice, warn or error, got '%s'",
			         v);
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "profile") == 0)
		return set_path(cfg->profile_dir, sizeof(cfg->profile_dir), v, err, errcap);
	if (strcmp(key, "auc.ind_bitlen") == 0) {
		if (parse_uint(v, 0, 10, &cfg->auc_ind_bitlen) != 0) {
			snprintf(err, errcap, "auc.ind_bitlen: expected 0..10, got '%s'", v);
			return -1;
		}
		return 0;
	}
	snprintf(err, errcap, "unknown key '%s'", key);
	return -1;
}

int koryo_config_load(struct koryo_config *cfg, const char *path, char *err, size_t errcap)
{
	return kvfile_parse(path, config_set, cfg, err, errcap);
}

/* data_dir is at most PATH_MAX - 32 long (see config_set), so the name fits. */
static void default_path(char *dst, size_t cap, const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	if (dst[0] != '\0' || a + b + 2 > cap)
		return;
	memcpy(dst, dir, a);
	dst[a] = '/';
	memcpy(dst + a + 1, name, b + 1);
}

void koryo_config_finish(struct koryo_config *cfg)
{
	default_path(cfg->store_path, sizeof(cfg->store_path), cfg->data_dir, "koryo.db");
	default_path(cfg->master_key_path, sizeof(cfg->master_key_path), cfg->data_dir,
	             "master.key");
	default_path(cfg->api_token_path, sizeof(cfg->api_token_path), cfg->data_dir, "api.token");
}

unsigned koryo_config_worker_count(const struct koryo_config *cfg)
{
	if (cfg->workers)
		return cfg->workers;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}
