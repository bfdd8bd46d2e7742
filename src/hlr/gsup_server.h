#pragma once
/* The GSUP server: koryod as the HLR of osmo-msc and osmo-sgsn (docs/gsup.md).
 * It runs on the protocol workers: each worker listens on gsup.listen with its own
 * SO_REUSEPORT socket and owns the connections it accepts. */

#include <stdint.h>
#include <uv.h>

struct hlr_registry;
struct gsup_server;

struct gsup_server_options {
	const char *host; /* numeric IPv4 */
	uint16_t port;
	unsigned isd_timeout_s;
	unsigned workers;
	struct policy *policy; /* gates APNs (docs/policy.md); NULL: the class's APNs */
};

/* Creates the server (nothing listens yet) after checking that nothing else
 * listens on the address. Registers for the registry's change notifications.
 * Returns 0, -EADDRINUSE (or another bind error), or -ENOMEM. */
int gsup_server_create(const struct gsup_server_options *opt, struct hlr_registry *reg,
                       struct gsup_server **out);

/* Worker service hooks (see koryod/worker.h): start listening on this worker's
 * loop; close everything this worker owns. */
int gsup_server_worker_start(void *srv, unsigned worker, uv_loop_t *loop);
void gsup_server_worker_stop(void *srv, unsigned worker);

/* Frees the server; call after every worker has stopped. NULL is a no-op. */
void gsup_server_destroy(struct gsup_server *srv);

/* Counters for /metrics. */
struct gsup_server_stats {
	uint64_t connections;  /* open now */
	uint64_t peers;        /* identified now */
	uint64_t requests[64]; /* by message type >> 2 */
	uint64_t errors_sent;
	uint64_t frames_bad;
};
void gsup_server_get_stats(struct gsup_server *srv, struct gsup_server_stats *out);
