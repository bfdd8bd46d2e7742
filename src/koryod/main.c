/* koryod: the koryo mobile core daemon. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/hex.h"
#include "common/log.h"
#include "crypto/keyfile.h"
#include "hlr/gsup_server.h"
#include "hlr/profile.h"
#include "hlr/registry.h"
#include "koryod/worker.h"
#include "ocs/ocs.h"
#include "policy/policy.h"
#include "sip/sip_core.h"
#include "sip/sip_server.h"
#include "sms/rules.h"
#include "sms/smsc.h"
#include "store/store.h"
#include "store/store_queue.h"
#include "version.h"

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "Usage: koryod [-c FILE] [--profile DIR] [-l LEVEL]\n"
	    "\n"
	    "The koryo mobile core: subscriber registry and authentication centre, with\n"
	    "the operator API. Runs in the foreground; SIGINT or SIGTERM stop it cleanly.\n"
	    "\n"
	    "Options:\n"
	    "  -c, --config FILE   read settings from FILE (see etc/koryod.conf.example);\n"
	    "                      without it, the defaults apply\n"
	    "  -p, --profile DIR   install the operator profile in DIR (profile.conf,\n"
	    "                      classes.csv, cities.csv, optional subscribers.csv) if the\n"
	    "                      store has none yet; overrides 'profile' in the config\n"
	    "  -l, --log-level L   debug, info, notice, warn or error (overrides log.level)\n"
	    "  -h, --help          show this help and exit\n"
	    "  -V, --version       show the version and exit\n"
	    "\n"
	    "Files (under data_dir, default /var/lib/koryo):\n"
	    "  koryo.db     the SQLite store\n"
	    "  master.key   the key that seals K and OP/OPc at rest (made on first start, 0600)\n"
	    "  api.token    the API bearer token (made on first start, 0600)\n"
	    "\n"
	    "Exit status: 0 after a clean stop, 1 if it cannot start, 2 for a usage or\n"
	    "configuration error.\n");
}

/* The registry's number check: the policy's reserved ranges. */
static int number_check(void *ctx, unsigned class_id, uint64_t msisdn, char *reason, size_t cap)
{
	char e164[24];
	struct policy_verdict v;
	snprintf(e164, sizeof(e164), "%" PRIu64, msisdn);
	if (policy_number_assignable(ctx, class_id, e164, &v) != 0 || v.allowed)
		return 0;
	snprintf(reason, cap, "%s (rule %s)", v.reason, v.rule);
	return -EPERM;
}

/* Installs the profile (and its demo subscribers) into an empty store. */
static int install_profile(struct store *st, const char *dir, struct hlr_registry **reg,
                           struct hlr_profile *profile, const uint8_t key[32], unsigned ind_bitlen)
{
	char err[512];
	if (hlr_profile_install(st, dir, err, sizeof(err)) != 0) {
		fprintf(stderr, "koryod: %s\n", err);
		return -1;
	}
	if (hlr_profile_load(st, profile) != 0)
		return -1;
	if (policy_install(st, profile, dir, err, sizeof(err)) != 0 ||
	    sms_rules_install(st, profile, dir, err, sizeof(err)) != 0 ||
	    ocs_install(st, dir, err, sizeof(err)) != 0) {
		fprintf(stderr, "koryod: %s\n", err);
		return -1;
	}
	LOGN("main", "profile installed from %s", dir);
	if (hlr_registry_open(st, profile, key, reg) != 0)
		return -1;
	hlr_registry_set_default_ind_bitlen(*reg, ind_bitlen);

	char path[4200];
	snprintf(path, sizeof(path), "%s/subscribers.csv", dir);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	uint64_t n = 0;
	struct hlr_import_error ie;
	int rc = hlr_subscr_import_csv(*reg, f, &n, &ie, NULL, NULL);
	fclose(f);
	if (rc == -EINVAL || rc == -EEXIST) {
		fprintf(stderr, "koryod: %s:%u: column %s: %s\n", path, ie.line, ie.column, ie.msg);
		return -1;
	}
	if (rc != 0) {
		fprintf(stderr, "koryod: %s: import failed (%s); nothing was imported\n", path,
		        strerror(-rc));
		return -1;
	}
	LOGN("main", "profile: %llu subscribers imported from %s", (unsigned long long)n, path);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},    {"profile", required_argument, NULL, 'p'},
	    {"log-level", required_argument, NULL, 'l'}, {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},         {NULL, 0, NULL, 0}};
	const char *config_path = NULL, *profile_dir = NULL, *level = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "c:p:l:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case 'p':
			profile_dir = optarg;
			break;
		case 'l':
			level = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("koryod %s\n", KORYO_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "koryod: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}

	struct koryo_config cfg;
	char err[1024];
	koryo_config_defaults(&cfg);
	if (config_path && koryo_config_load(&cfg, config_path, err, sizeof(err)) != 0) {
		fprintf(stderr, "koryod: %s\n", err);
		return 2;
	}
	if (level && log_level_parse(level, &cfg.log_level) != 0) {
		fprintf(stderr,
		        "koryod: --log-level: expected debug, info, notice, warn or error\n");
		return 2;
	}
	if (profile_dir)
		snprintf(cfg.profile_dir, sizeof(cfg.profile_dir), "%s", profile_dir);
	koryo_config_finish(&cfg);
	log_set_level(cfg.log_level);

	/* Signals are taken synchronously by the main thread; every thread started
	 * from here on inherits the mask. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (cfg.clock_offset) {
		clock_set_offset(cfg.clock_offset);
		LOGW("main", "clock.offset = %lld s: koryod's clock is not the wall clock",
		     cfg.clock_offset);
	}
	/* The store holds holder data and sealed keys: nothing koryod creates is for
	 * other users. */
	umask(077);

	int status = 1;
	struct store *st = NULL;
	struct hlr_registry *reg = NULL;
	struct hlr_profile profile = {0};
	struct worker_pool *workers = NULL;
	struct gsup_server *gsup = NULL;
	struct sip_server *sip = NULL;
	struct sip_core *sip_core = NULL;
	struct policy *policy = NULL;
	struct sms_rules *sms_rules = NULL;
	struct smsc *smsc = NULL;
	struct ocs *ocs = NULL;
	struct store_queue *queue = NULL;
	struct api_server *api = NULL;
	uint8_t master_key[32], token_bytes[32];
	char token[65];
	bool created;

	if (mkdir(cfg.data_dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "koryod: data_dir %s: %s\n", cfg.data_dir, strerror(errno));
		return 1;
	}
	int rc = keyfile_load_or_create(cfg.master_key_path, 32, master_key, &created);
	if (rc != 0) {
		fprintf(stderr, "koryod: master key %s: %s\n", cfg.master_key_path,
		        rc == -EPERM ? "readable by group or others; chmod 600 it" : strerror(-rc));
		return 1;
	}
	if (created)
		LOGN("main",
		     "created the master key %s: back it up, the store's keys are "
		     "sealed under it",
		     cfg.master_key_path);
	rc = keyfile_load_or_create(cfg.api_token_path, 32, token_bytes, &created);
	if (rc != 0) {
		fprintf(stderr, "koryod: API token %s: %s\n", cfg.api_token_path,
		        rc == -EPERM ? "readable by group or others; chmod 600 it" : strerror(-rc));
		goto out;
	}
	hex_encode(token_bytes, sizeof(token_bytes), token);
	OPENSSL_cleanse(token_bytes, sizeof(token_bytes));
	if (created)
		LOGN("main", "created the API token file %s", cfg.api_token_path);

	struct store_options sopt = {.sync_full = cfg.store_sync_full};
	if (store_open(cfg.store_path, &sopt, &st, err, sizeof(err)) != 0) {
		fprintf(stderr, "koryod: store: %s\n", err);
		goto out;
	}
	store_lock(st);
	rc = store_migrate(st, 0);
	store_unlock(st);
	if (rc != 0) {
		fprintf(stderr, "koryod: store %s: %s\n", cfg.store_path,
		        rc == -EPROTO ? "made by a newer koryod; refusing to touch it"
		                      : "schema migration failed");
		goto out;
	}

	if (!hlr_profile_installed(st)) {
		if (!cfg.profile_dir[0]) {
			fprintf(stderr, "koryod: the store has no operator profile yet: start with "
			                "--profile DIR (e.g. profiles/koryolink)\n");
			goto out;
		}
		if (install_profile(st, cfg.profile_dir, &reg, &profile, master_key,
		                    cfg.auc_ind_bitlen) != 0) {
			/* The store was empty: leave none behind, so that the next start
			 * installs the corrected profile whole (each part of a profile
			 * commits on its own). */
			hlr_registry_close(reg);
			reg = NULL;
			store_close(st);
			st = NULL;
			char path[sizeof(cfg.store_path) + 8];
			const char *suffix[] = {"", "-wal", "-shm"};
			for (int i = 0; i < 3; i++) {
				snprintf(path, sizeof(path), "%s%s", cfg.store_path, suffix[i]);
				unlink(path);
			}
			fprintf(stderr, "koryod: nothing was installed\n");
			goto out;
		}
	} else {
		if (cfg.profile_dir[0])
			LOGI("main", "the store already holds a profile; %s not installed",
			     cfg.profile_dir);
		if (hlr_profile_load(st, &profile) != 0 ||
		    hlr_registry_open(st, &profile, master_key, &reg) != 0) {
			fprintf(stderr, "koryod: cannot load the registry from %s\n",
			        cfg.store_path);
			goto out;
		}
		hlr_registry_set_default_ind_bitlen(reg, cfg.auc_ind_bitlen);
	}
	if (hlr_registry_check_master_key(reg) != 0) {
		fprintf(stderr, "koryod: %s does not open the keys in %s: wrong master key file?\n",
		        cfg.master_key_path, cfg.store_path);
		goto out;
	}
	LOGN("main", "network %s (MCC %s MNC %s), %zu subscribers", profile.name, profile.mcc,
	     profile.mnc,
	     hlr_registry_count(
	         reg)); /* The message path's writes are group-committed: one fsync per batch. */
	if (hlr_registry_set_sip_realm(reg, cfg.sip_domain) != 0) {
		fprintf(stderr, "koryod: cannot load the SIP credentials from %s\n",
		        cfg.store_path);
		goto out;
	}
	if (store_queue_start(st, &queue) != 0)
		goto out;
	hlr_registry_set_queue(reg, queue);
	if (policy_open(st, &profile, &policy) != 0 || ocs_open(st, queue, reg, &ocs) != 0) {
		fprintf(stderr, "koryod: cannot load the policy and charging data from %s\n",
		        cfg.store_path);
		goto out;
	}
	hlr_registry_set_number_check(reg, number_check, policy);
	/* Matches of the SMS firewall go through the group commit, like the
	 * other writes of the message path. */
	if (sms_rules_open(st, queue, &profile, &sms_rules) != 0) {
		fprintf(stderr, "koryod: cannot load the SMS content rules from %s\n",
		        cfg.store_path);
		goto out;
	}

	/* The SMS centre: its channels (SIP, GSUP) join it below; it starts
	 * once they are there. */
	struct smsc_options mopt;
	smsc_options_init(&mopt);
	if (cfg.sms_address[0])
		snprintf(mopt.address, sizeof(mopt.address), "%s", cfg.sms_address);
	else
		snprintf(mopt.address, sizeof(mopt.address), "+%s0", profile.country_code);
	mopt.validity_s = cfg.sms_validity;
	mopt.max_validity_s = cfg.sms_max_validity;
	mopt.max_stored = cfg.sms_max_stored;
	mopt.max_per_recipient = cfg.sms_max_per_recipient;
	mopt.window = cfg.sms_window;
	mopt.reassembly_timeout_s = cfg.sms_reassembly_timeout;
	mopt.delivery_timeout_s = cfg.sms_delivery_timeout;
	mopt.policy = policy;
	mopt.ocs = cfg.charging ? ocs : NULL;
	mopt.rules = sms_rules;
	if (smsc_open(&mopt, reg, st, queue, &smsc) != 0)
		goto out;

	unsigned n_workers = koryo_config_worker_count(&cfg);
	struct worker_service services[2];
	unsigned n_services = 0;
	if (cfg.gsup_port) {
		struct gsup_server_options gopt = {.host = cfg.gsup_host,
		                                   .port = cfg.gsup_port,
		                                   .isd_timeout_s = cfg.gsup_isd_timeout,
		                                   .policy = policy,
		                                   .smsc = smsc,
		                                   .smsc_address = mopt.address,
		                                   .workers = n_workers};
		if (gsup_server_create(&gopt, reg, &gsup) != 0) {
			fprintf(stderr, "koryod: cannot listen for GSUP on %s:%u (in use?)\n",
			        cfg.gsup_host, cfg.gsup_port);
			goto out;
		}
		services[n_services++] = (struct worker_service){.name = "gsup",
		                                                 .start = gsup_server_worker_start,
		                                                 .stop = gsup_server_worker_stop,
		                                                 .ctx = gsup};
	}
	if (cfg.sip_port) {
		struct sip_core_options copt;
		sip_core_options_init(&copt);
		copt.domain = cfg.sip_domain;
		copt.policy = policy;
		copt.ocs = cfg.charging ? ocs : NULL;
		copt.smsc = smsc;
		snprintf(copt.sms_address, sizeof(copt.sms_address), "%s", mopt.address);
		copt.digest_md5 = cfg.sip_digest_algs & KORYO_DIGEST_MD5;
		copt.digest_sha256 = cfg.sip_digest_algs & KORYO_DIGEST_SHA256;
		copt.min_expires_s = cfg.sip_min_expires;
		copt.max_expires_s = cfg.sip_max_expires;
		copt.nonce_lifetime_s = cfg.sip_nonce_lifetime;
		copt.auth_fail_limit = cfg.sip_auth_fail_limit;
		copt.auth_fail_window_s = cfg.sip_auth_fail_window;
		if (copt.default_expires_s > copt.max_expires_s)
			copt.default_expires_s = copt.max_expires_s;
		if (copt.default_expires_s < copt.min_expires_s)
			copt.default_expires_s = copt.min_expires_s;
		if (sip_core_create(&copt, reg, st, queue, &sip_core) != 0) {
			fprintf(stderr,
			        "koryod: cannot start the SIP service core (sip.min_expires "
			        "above sip.max_expires, or the store failed)\n");
			goto out;
		}
		struct sip_hooks hooks;
		sip_core_hooks(sip_core, &hooks);
		struct sip_server_options sopt = {.host = cfg.sip_host,
		                                  .port = cfg.sip_port,
		                                  .domain = cfg.sip_domain,
		                                  .workers = n_workers,
		                                  .hooks = &hooks};
		if (sip_server_create(&sopt, &sip) != 0) {
			fprintf(stderr, "koryod: cannot listen for SIP on %s:%u (in use?)\n",
			        cfg.sip_host, cfg.sip_port);
			goto out;
		}
		if (sip_core_attach(sip_core, sip) != 0)
			goto out;
		services[n_services++] = (struct worker_service){.name = "sip",
		                                                 .start = sip_server_worker_start,
		                                                 .stop = sip_server_worker_stop,
		                                                 .ctx = sip};
	}
	if (smsc_start(smsc) != 0) {
		fprintf(stderr, "koryod: cannot load the SMS centre's messages from %s\n",
		        cfg.store_path);
		goto out;
	}
	if (worker_pool_start(n_workers, services, n_services, &workers) != 0) {
		fprintf(stderr, "koryod: cannot start the protocol workers (see the log above)\n");
		goto out;
	}
	struct api_options aopt = {.host = cfg.api_host,
	                           .port = cfg.api_port,
	                           .threads = cfg.api_threads,
	                           .token = token,
	                           .tmp_dir = cfg.data_dir,
	                           .workers = n_workers,
	                           .gsup = gsup,
	                           .sip = sip,
	                           .sip_core = sip_core,
	                           .policy = policy,
	                           .ocs = ocs,
	                           .sms_rules = sms_rules,
	                           .smsc = smsc,
	                           .queue = queue};
	if (api_start(&aopt, reg, &api) != 0) {
		fprintf(stderr, "koryod: cannot listen on %s:%u\n", cfg.api_host, cfg.api_port);
		goto out;
	}
	LOGN("main", "koryod %s ready", KORYO_VERSION);

	/* The charging schedule (fees, renewals) runs at start and every minute
	 * until a signal stops koryod. */
	int sig;
	for (;;) {
		if (ocs_run_schedule(ocs) < 0)
			LOGE("main", "the charging schedule failed; retrying in a minute");
		struct timespec minute = {.tv_sec = 60};
		sig = sigtimedwait(&sigs, NULL, &minute);
		if (sig > 0)
			break;
	}
	LOGN("main", "%s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
	status = 0;
out:
	api_stop(api);
	/* The centre stops delivering before the channels' servers go. */
	smsc_stop(smsc);
	worker_pool_stop(workers);
	/* Everything the workers queued is written before the store closes (answers
	 * for connections already gone are dropped by the mailboxes). */
	store_queue_stop(queue);
	if (reg)
		hlr_registry_set_queue(reg, NULL);
	gsup_server_destroy(gsup);
	/* The core first: its proxy contexts still name the server's workers. */
	sip_core_destroy(sip_core);
	sip_server_destroy(sip);
	smsc_close(smsc);
	ocs_close(ocs);
	sms_rules_close(sms_rules);
	policy_close(policy);
	hlr_registry_close(reg);
	hlr_profile_free(&profile);
	store_close(st);
	OPENSSL_cleanse(master_key, sizeof(master_key));
	OPENSSL_cleanse(token, sizeof(token));
	if (status == 0)
		LOGN("main", "stopped cleanly");
	return status;
}
