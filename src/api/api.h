#pragma once
/* The operator REST API (docs/api.md) on libmicrohttpd, with its own thread pool:
 * API calls never run on the protocol workers' loops. */

#include <stdint.h>

struct hlr_registry;
struct gsup_server;
struct sip_server;
struct sip_core;
struct policy;
struct sms_rules;
struct smsc;
struct ocs;
struct store_queue;
struct api_server;

struct api_options {
	const char *host; /* numeric IPv4 */
	uint16_t port;
	unsigned threads;
	const char *token;           /* the bearer token, hex */
	const char *tmp_dir;         /* where uploads are spooled (the data directory) */
	unsigned workers;            /* shown in /metrics */
	struct gsup_server *gsup;    /* NULL when GSUP is off; its counters go to /metrics */
	struct sip_server *sip;      /* NULL when SIP is off; likewise */
	struct sip_core *sip_core;   /* NULL when SIP is off: registrations, calls, metrics */
	struct policy *policy;       /* the policy engine (/v1/policy) */
	struct ocs *ocs;             /* online charging (/v1/charging) */
	struct sms_rules *sms_rules; /* the SMS content rules (/v1/sms); NULL: off */
	struct smsc *smsc;           /* the SMS centre (/v1/sms/messages...); NULL: off */
	struct store_queue *queue;   /* the group commit, for /metrics */
};

/* Starts serving. Returns 0, or -EADDRINUSE / -EIO (logged). */
int api_start(const struct api_options *opt, struct hlr_registry *reg, struct api_server **out);
/* Stops accepting, waits for requests in progress, frees everything. NULL is a no-op. */
void api_stop(struct api_server *srv);
