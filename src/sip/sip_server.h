#pragma once
/* The SIP transport (docs/sip-transport.md): UDP and TCP on sip.listen, one
 * SO_REUSEPORT socket of each per protocol worker, every worker owning the
 * datagrams it receives and the connections it accepts, and one RFC 3261
 * transaction table (sip_txn.h) per worker driven by its loop's timers.
 *
 * Routing rule: an answer goes back where its request came from (the
 * datagram's source address and port, or the connection it arrived on),
 * never to a host named in the message; koryod resolves no names. Requests
 * koryod originates go to a flow (struct sip_txn_peer) the TU took from a
 * request it received: a registered contact's source, never a URI's host.
 *
 * Stateless answers come first (400/505 for what the parser refuses, 416,
 * 483, 403 for other domains, 420); every other request but ACK gets a
 * server transaction (retransmissions absorbed there) and goes to its
 * method's hook (struct sip_hooks); a method without a hook gets OPTIONS
 * 200, CANCEL 481 or 501.
 *
 * Responses to koryod's client transactions carry the worker that owns the
 * transaction in their Via branch; one that arrives at another worker (the
 * kernel spreads datagrams by source) is handed to the owner's inbox. */

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "common/mailbox.h"
#include "sip/sip_msg.h"
#include "sip/sip_txn.h"

/* Methods indexed by enum sip_method (SIP_METHOD_OTHER is 0). */
#define SIP_SERVER_METHODS (SIP_METHOD_PUBLISH + 1)

struct sip_server;
struct sip_worker;
struct sip_conn;

/* One request being handled. Valid only during the hook's call: a hook that
 * answers later takes a struct sip_deferred (sip_request_defer()). */
struct sip_request {
	const struct sip_msg *msg;
	struct sockaddr_in src;   /* where the request came from: where answers go */
	bool reliable;            /* arrived over TCP */
	struct sip_txn_peer flow; /* the way back to the source, for later requests */
	sip_txn_id txn;           /* its server transaction; 0 for ACK */
	struct sip_worker *w;     /* the worker handling it */
	/* private to sip_server.c */
	struct sip_conn *conn; /* NULL for UDP */
};

/* A method's handler: runs on the worker's thread; answers with
 * sip_request_reply() (or not at all, for a request that must be dropped). */
typedef void (*sip_request_fn)(void *ctx, struct sip_request *rq);

/* A response that matched no client transaction (a 2xx retransmitted after
 * the INVITE transaction ended): the proxy forwards it or drops it. */
typedef void (*sip_stray_response_fn)(void *ctx, struct sip_worker *w, const struct sip_msg *m);

struct sip_hooks {
	sip_request_fn method[SIP_SERVER_METHODS]; /* NULL: the default answer */
	sip_stray_response_fn stray_response;      /* NULL: dropped */
	/* A worker is stopping: close the handles the TU made on its loop. */
	void (*worker_stop)(void *ctx, struct sip_worker *w);
	void *ctx;
	const char *supported; /* the option tags koryod supports ("path"), or NULL */
};

struct sip_server_options {
	const char *host; /* numeric IPv4 (0.0.0.0 for every local address) */
	uint16_t port;
	const char *domain; /* the home domain (sip.domain) */
	unsigned workers;
	const struct sip_hooks *hooks; /* copied; NULL: every method answered 501 */
	uint32_t max_transactions;     /* per worker; 0: 1048576 */
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

/* --- answering later ----------------------------------------------------------- */

struct sip_deferred;
/* Keeps what answering rq needs (a copy of the message, its flow and
 * transaction) so that the answer can come from another thread, e.g. a
 * store callback. NULL when out of memory (answer 500 at once then). */
struct sip_deferred *sip_request_defer(const struct sip_request *rq);
/* Answers like sip_request_reply(), from any thread (the answer is built and
 * sent on the request's worker), and frees d. */
void sip_deferred_reply(struct sip_deferred *d, int status, const char *reason, const char *extra);
/* Parses d's copy of the request into m (valid while d lives). 0 or a parse
 * error (it parsed when it arrived: never in practice). */
int sip_deferred_msg(const struct sip_deferred *d, struct sip_msg *m);
/* Frees d without answering. NULL is a no-op. */
void sip_deferred_free(struct sip_deferred *d);

/* --- the TU's side of a worker (on that worker's thread only) --------------- */

/* Client transaction callback: resp is a response of transaction id (valid
 * during the call; 1xx may come several times before one final), or NULL
 * with status 408 (timer B/F) or 503 (the flow failed) when none will come. */
typedef void (*sip_response_fn)(void *ctx, sip_txn_id id, const struct sip_msg *resp, int status);

/* Sends the request in buf (a complete message whose top Via the TU made
 * with sip_worker_via()) to flow as a new client transaction; cb gets its
 * responses. Returns 0 and *id, or the errors of sip_txn_client_new(). */
int sip_worker_request(struct sip_worker *w, const char *buf, size_t len,
                       const struct sip_txn_peer *flow, sip_response_fn cb, void *ctx,
                       sip_txn_id *id);
/* Detaches cb from client transaction id (the TU's context is going away);
 * the transaction runs on and its responses are dropped. */
void sip_worker_request_forget(struct sip_worker *w, sip_txn_id id);
/* Cancels client INVITE transaction id (RFC 3261 9.1): its CANCEL is sent as
 * its own transaction. 0, -ENOENT, or a send error. */
int sip_worker_cancel(struct sip_worker *w, sip_txn_id id);
/* Sends a response through server transaction id (retransmitted by it over
 * UDP). 0, or the errors of sip_txn_server_send_response(). */
int sip_worker_respond(struct sip_worker *w, sip_txn_id id, const char *buf, size_t len);
/* Sends buf statelessly to flow (an ACK of a 2xx). 0 or a send error. */
int sip_worker_send(struct sip_worker *w, const char *buf, size_t len,
                    const struct sip_txn_peer *flow);
/* The server INVITE transaction a CANCEL names: 0 and *id, or -ENOENT. */
int sip_worker_find_invite(struct sip_worker *w, const struct sip_msg *cancel, sip_txn_id *id);
/* Writes a Via header line for a request koryod sends over flow:
 * "Via: SIP/2.0/UDP host:port;branch=z9hG4bKk<worker>...;rport\r\n". Returns its
 * length, or -ENOSPC. */
int sip_worker_via(struct sip_worker *w, const struct sip_txn_peer *flow, char *out, size_t cap);
/* Whether m's top Route names koryod (a request it record-routed). */
bool sip_worker_route_is_self(const struct sip_worker *w, const struct sip_msg *m);
/* koryod's own SIP URI host part ("127.0.0.1:5060"), for Record-Route. */
const char *sip_worker_self(const struct sip_worker *w);
/* Reads the branch's worker back: the index, or -1 if the branch is not one
 * of koryod's. */
int sip_branch_worker(struct sip_str branch);
unsigned sip_worker_index(const struct sip_worker *w);
/* The worker's event loop, for the TU's own timers (on that thread only). */
uv_loop_t *sip_worker_loop(struct sip_worker *w);
/* Worker index's handle (for posting), or NULL. */
struct sip_worker *sip_server_worker(struct sip_server *srv, unsigned index);
/* The flow as text ("udp:127.0.0.1:5070"), for logs and the API. */
void sip_flow_format(const struct sip_txn_peer *flow, char *out, size_t cap);
/* Parses sip_flow_format()'s text back (a TCP flow comes back with no
 * connection: unusable until the peer connects again). 0 or -EINVAL. */
int sip_flow_parse(const char *text, struct sip_txn_peer *flow);
/* Whether two flows reach the same peer address and port. */
bool sip_flow_same_peer(const struct sip_txn_peer *a, const struct sip_txn_peer *b);

/* Runs fn(arg, worker) on worker index's thread soon. 0, -ENOMEM, or -ESHUTDOWN
 * (fn will not run: the caller frees arg). */
int sip_server_post(struct sip_server *srv, unsigned index, mailbox_fn fn, void *arg);
unsigned sip_server_workers(const struct sip_server *srv);

/* Counters for /metrics, summed over the workers. */
struct sip_server_stats {
	uint64_t requests[SIP_SERVER_METHODS]; /* well-formed requests received, by method */
	uint64_t responses[6];                 /* responses sent, by class: [0] 1xx .. [5] 6xx */
	uint64_t bad_messages;             /* refused by the parser (answered 400/505 or dropped) */
	uint64_t stray_responses;          /* responses that matched no client transaction */
	uint64_t transactions;             /* alive now */
	uint64_t retransmissions_absorbed; /* requests and ACKs absorbed by a transaction */
	uint64_t handoffs;        /* responses handed to the worker owning their transaction */
	uint64_t send_errors;     /* answers that could not be sent or built */
	uint64_t tcp_connections; /* open now */
};
void sip_server_get_stats(struct sip_server *srv, struct sip_server_stats *out);

/* A method's name for metrics labels ("INVITE", "other" for SIP_METHOD_OTHER). */
const char *sip_server_method_name(unsigned method);
