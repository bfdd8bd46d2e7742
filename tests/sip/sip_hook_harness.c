/* The SIP service core with a routing hook that refuses, for
 * tests/integration/sip_route_hook.sh: the same pieces koryod wires (store,
 * registry, group commit, sip_core, transport on a worker), with a hook in
 * place of the policy engine that refuses calls and messages to one MSISDN.
 *
 * usage: sip_hook_harness DIR PROFILE PORT DENY_MSISDN PASSWORD IMSI...
 *   sets PASSWORD as the SIP password of each IMSI, prints "ready" and
 *   serves SIP on 127.0.0.1:PORT until SIGTERM. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "hlr/profile.h"
#include "hlr/registry.h"
#include "koryod/worker.h"
#include "sip/sip_core.h"
#include "sip/sip_server.h"
#include "store/store.h"
#include "store/store_queue.h"

static uint64_t deny;

static int refuse_one(void *ctx, const struct sip_route_query *q, char *reason, size_t cap)
{
	(void)ctx;
	if (q->callee_msisdn != deny)
		return 0;
	snprintf(reason, cap, "Test Rule %" PRIu64, deny);
	return 403;
}

static int die(const char *what)
{
	fprintf(stderr, "sip_hook_harness: %s\n", what);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 6)
		return die("usage: sip_hook_harness DIR PROFILE PORT DENY_MSISDN PASSWORD IMSI...");
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	deny = strtoull(argv[4], NULL, 10);

	char path[4096], err[512];
	snprintf(path, sizeof(path), "%s/harness.db", argv[1]);
	struct store *st;
	struct store_options so = {.sync_full = false};
	if (store_open(path, &so, &st, err, sizeof(err)) != 0)
		return die(err);
	store_lock(st);
	int rc = store_migrate(st, 0);
	store_unlock(st);
	if (rc != 0 || hlr_profile_install(st, argv[2], err, sizeof(err)) != 0)
		return die("cannot install the profile");
	struct hlr_profile profile = {0};
	struct hlr_registry *reg;
	uint8_t key[32] = {1};
	if (hlr_profile_load(st, &profile) != 0 || hlr_registry_open(st, &profile, key, &reg) != 0)
		return die("cannot open the registry");
	snprintf(path, sizeof(path), "%s/subscribers.csv", argv[2]);
	FILE *f = fopen(path, "r");
	uint64_t n;
	struct hlr_import_error ie;
	if (!f || hlr_subscr_import_csv(reg, f, &n, &ie, NULL, NULL) != 0)
		return die("cannot import the subscribers");
	fclose(f);
	if (hlr_registry_set_sip_realm(reg, "koryo.local") != 0)
		return die("cannot set the realm");
	for (int i = 6; i < argc; i++) {
		struct hlr_field_error fe;
		if (hlr_subscr_set_sip_password(reg, strtoull(argv[i], NULL, 10), argv[5], &fe) !=
		    0)
			return die("cannot set a password");
	}
	struct store_queue *q;
	if (store_queue_start(st, &q) != 0)
		return die("cannot start the group commit");
	hlr_registry_set_queue(reg, q);

	struct sip_core_options copt;
	sip_core_options_init(&copt);
	copt.domain = "koryo.local";
	copt.route_hook = refuse_one;
	struct sip_core *core;
	if (sip_core_create(&copt, reg, st, q, &core) != 0)
		return die("cannot create the SIP core");
	struct sip_hooks hooks;
	sip_core_hooks(core, &hooks);
	struct sip_server_options sopt = {.host = "127.0.0.1",
	                                  .port = (uint16_t)atoi(argv[3]),
	                                  .domain = "koryo.local",
	                                  .workers = 1,
	                                  .hooks = &hooks,
	                                  .max_transactions = 4096};
	struct sip_server *srv;
	if (sip_server_create(&sopt, &srv) != 0)
		return die("cannot listen");
	sip_core_attach(core, srv);
	struct worker_service svc = {.name = "sip",
	                             .start = sip_server_worker_start,
	                             .stop = sip_server_worker_stop,
	                             .ctx = srv};
	struct worker_pool *pool;
	if (worker_pool_start(1, &svc, 1, &pool) != 0)
		return die("cannot start the worker");
	printf("ready\n");
	fflush(stdout);
	int sig;
	sigwait(&sigs, &sig);
	worker_pool_stop(pool);
	store_queue_stop(q);
	hlr_registry_set_queue(reg, NULL);
	sip_core_destroy(core);
	sip_server_destroy(srv);
	hlr_registry_close(reg);
	hlr_profile_free(&profile);
	store_close(st);
	return 0;
}
