#pragma once
/* The SIP transport (docs/sip-transport.md): UDP and TCP on sip.listen, one
 * SO_REUSEPORT socket of each per protocol worker, every worker owning the
 * datagrams it receives and the connections it accepts.
 *
 * Routing rule: an answer goes back where its request came from (the
 * datagram's source address and port, or the connection it arrived on),
 * never to a host named in the message; koryod resolves no names.
 *
 * For now every request is answered statelessly (no transaction layer yet):
 * OPTIONS to koryod is answered 200, requests for other domains 403 (no
 * trunk), malformed ones 400 (or dropped where no answer is possible), and
 * each method goes through a hook (struct sip_hooks) that the registrar and
 * the proxy will fill; a method without a hook is answered 501. */

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "sip/sip_msg.h"

/* Methods indexed by enum sip_method (SIP_METHOD_OTHER is 0). */
#define SIP_SERVER_METHODS (SIP_METHOD_PUBLISH + 1)

struct sip_server;
struct sip_worker;
struct sip_conn;

/* One request being handled. Valid only during the hook's call: a hook that
 * answers later must copy what it needs (the transaction layer will). */
struct sip_request {
	const struct sip_msg *msg;
	struct sockaddr_in src; /* where the request came from: where answers go */
	bool reliable;          /* arrived over TCP */
	/* private to sip_server.c */
	struct sip_worker *w;
	struct sip_conn *conn; /* NULL for UDP */
};

/* A method's handler: runs on the worker's thread; answers with
 * sip_request_reply() (or not at all, for a request that must be dropped). */
typedef void (*sip_request_fn)(void *ctx, struct sip_request *rq);

struct sip_hooks {
	sip_request_fn method[SIP_SERVER_METHODS]; /* NULL: the default answer */
	void *ctx;
	const char *supported; /* the option tags koryod supports ("path"), or NULL */
};

struct sip_server_options {
	const char *host; /* numeric IPv4 (0.0.0.0 for every local address) */
	uint16_t port;
	const char *domain; /* the home domain (sip.domain) */
	unsigned workers;
	const struct sip_hooks *hooks; /* copied; NULL: every method answered 501 */
};

/* Creates the server (nothing listens yet) after checking that nothing else
 * has the address, over UDP or TCP: the workers share it with SO_REUSEPORT,
 * which would also let a second koryod join and split the traffic. Returns
 * 0, -EADDRINUSE (or another bind error, logged), -EINVAL, or -ENOMEM. */
int sip_server_create(const struct sip_server_options *opt, struct sip_server **out);

/* Worker service hooks (see koryod/worker.h): open this worker's UDP socket
 * and TCP listener on its loop; close everything this worker owns. */
int sip_server_worker_start(void *srv, unsigned worker, uv_loop_t *loop);
void sip_server_worker_stop(void *srv, unsigned worker);

/* Frees the server; call after every worker has stopped. NULL is a no-op. */
void sip_server_destroy(struct sip_server *srv);

/* Answers rq with status and reason (NULL: the standard phrase) and extra
 * header lines (each ending in CRLF, or NULL), to the request's source.
 * Returns 0, -EINVAL (bad status or reason), -ENOSPC (the answer does not
 * fit SIP_REPLY_MAX), or a send error (-EAGAIN: the socket's buffer is full
 * and the datagram was dropped; the client retransmits). Logged and
 * counted. */
int sip_request_reply(struct sip_request *rq, int status, const char *reason, const char *extra);

/* Counters for /metrics, summed over the workers. */
struct sip_server_stats {
	uint64_t requests[SIP_SERVER_METHODS]; /* well-formed requests received, by method */
	uint64_t responses[6];                 /* responses sent, by class: [0] 1xx .. [5] 6xx */
	uint64_t bad_messages;    /* refused by the parser (answered 400/505 or dropped) */
	uint64_t stray_responses; /* responses received (dropped: no client yet) */
	uint64_t send_errors;     /* answers that could not be sent or built */
	uint64_t tcp_connections; /* open now */
};
void sip_server_get_stats(struct sip_server *srv, struct sip_server_stats *out);

/* A method's name for metrics labels ("INVITE", "other" for SIP_METHOD_OTHER). */
const char *sip_server_method_name(unsigned method);
