#pragma once
/* The GSUP server: koryod as the HLR of osmo-msc and osmo-sgsn (docs/gsup.md).
 * It runs on the protocol workers: each worker listens on gsup.listen with its own
 * SO_REUSEPORT socket and owns the connections it accepts. */

#include <stdint.h>
#include <uv.h>

struct hlr_registry;
struct gsup_server;
struct policy;
struct smsc;

struct gsup_server_options {
	const char *host; /* numeric IPv4 */
	uint16_t port;
	unsigned isd_timeout_s;
	unsigned workers;
	struct policy *policy; /* gates APNs (docs/policy.md); NULL: the class's APNs */
	/* SMS over GSUP (docs/gsup.md): the SMS centre that takes MO-Forward-SM
	 * and ReadyForSM, and that the server registers its delivery channel
	 * "gsup" with (MT-Forward-SM). NULL: SMS over GSUP is refused
	 * (error, cause 0x61; SM-RP-Cause 69). The centre must outlive the
	 * server's workers: stop the workers, then close the centre, then
	 * destroy the server. */
	struct smsc *smsc;
	/* The centre's E.164 address ("+8501900000"), sent as SM-RP-OA of
	 * every MT-Forward-SM. */
	const char *smsc_address;
	/* Seconds an MT-Forward-SM may stay unanswered before the attempt ends
	 * as "try later"; 0: 30. */
	unsigned sms_timeout_s;
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
	uint64_t sms_mo;           /* MO-Forward-SM received */
	uint64_t sms_mt_sent;      /* MT-Forward-SM requests sent */
	uint64_t sms_mt_in_flight; /* deliveries on the way to an MSC now */
};
void gsup_server_get_stats(struct gsup_server *srv, struct gsup_server_stats *out);
