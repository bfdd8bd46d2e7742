/* The SIP transport: UDP and TCP sockets on the workers' loops, stream
 * framing, stateless answers and the per-method hooks. See sip_server.h and
 * docs/sip-transport.md. */
#include "sip/sip_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/mailbox.h"
#include "common/net.h"
#include "common/wbuf.h"
#include "sip/sip_reply.h"
#include "version.h"

/* TCP: a header block longer than this closes the connection (the stream
 * cannot be resynchronised); a whole message longer than SIP_TCP_MAX_MSG
 * too. The receive buffer starts small and grows up to the largest message. */
#define SIP_TCP_MAX_HDR  16384
#define SIP_TCP_MAX_MSG  65536
#define SIP_TCP_BUF_INIT 4096
/* A connection that brings nothing for this long is closed (phones keep
 * theirs open with CRLF keep-alives, RFC 5626, every 2 minutes or so). */
#define SIP_TCP_IDLE_MS  600000
#define SIP_TCP_SWEEP_MS 30000
/* Local addresses that count as koryod itself when listening on 0.0.0.0. */
#define SIP_MAX_LOCAL_ADDRS 32
/* Transactions per worker: a non-INVITE server transaction over UDP lives
 * 32 s after its answer (timer J), so this bounds the request rate a worker
 * absorbs retransmissions for (about 30,000 requests/s). */
#define SIP_MAX_TXNS_DEFAULT (1u << 20)
/* The Via branch of koryod's requests: the magic cookie, 'k', the worker. */
/* UDP socket buffers asked for (the kernel caps them at net.core.rmem_max
 * and wmem_max): a burst of hundreds of INVITEs at once is a few MB, and
 * what does not fit is dropped and retransmitted 500 ms later. */
#define SIP_UDP_BUFFER    (4 << 20)
#define BRANCH_PREFIX     "z9hG4bKk"
#define BRANCH_PREFIX_LEN 8

static const char *const method_names[SIP_SERVER_METHODS] = {
    "other", "INVITE", "ACK",    "BYE",       "CANCEL", "REGISTER", "OPTIONS", "MESSAGE",
    "INFO",  "PRACK",  "UPDATE", "SUBSCRIBE", "NOTIFY", "REFER",    "PUBLISH"};

const char *sip_server_method_name(unsigned method)
{
	return method < SIP_SERVER_METHODS ? method_names[method] : "other";
}

/* Counters of one worker: written by its thread only, read by /metrics. */
struct sip_counters {
	atomic_uint_fast64_t requests[SIP_SERVER_METHODS];
	atomic_uint_fast64_t responses[6];
	atomic_uint_fast64_t bad_messages;
	atomic_uint_fast64_t stray_responses;
	atomic_uint_fast64_t send_errors;
	atomic_uint_fast64_t tcp_connections;
	atomic_uint_fast64_t transactions;
	atomic_uint_fast64_t absorbed;
	atomic_uint_fast64_t handoffs;
};

static void count(atomic_uint_fast64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

struct sip_conn {
	uv_tcp_t tcp;
	struct sip_worker *w;
	struct sip_conn *next;
	struct sockaddr_in peer;
	uint32_t slot, gen; /* its handle in the worker's connection table */
	bool closing;
	bool close_after_flush; /* answer the last message, then close */
	uv_shutdown_t shutdown;
	uint64_t last_ms; /* uv_now() of the last octet received */
	/* Output corked until the worker's check phase. */
	struct wbuf *out;
	bool dirty;
	struct sip_conn *next_dirty;
	char *rbuf;
	size_t rlen, rcap;
};

struct sip_worker {
	struct sip_server *srv;
	unsigned id;
	uv_loop_t *loop;
	uv_udp_t udp;
	bool udp_open;
	uv_tcp_t listener;
	bool listening;
	uv_check_t flush;
	bool flush_open;
	uv_timer_t sweep;
	bool sweep_open;
	struct sip_conn *conns;
	struct sip_conn *dirty;
	struct sip_counters stats;
	/* Connections by handle (slot, generation), so a flow can name one. */
	struct sip_conn **conn_tab;
	uint32_t *conn_gen;
	uint32_t conn_cap, conn_free_hint;
	/* Transactions and their timers: a binary heap of deadlines, one libuv
	 * timer armed for the earliest, and per (transaction slot, timer) the
	 * sequence number of its latest arming (0: not armed) so that an entry
	 * left by a stopped or re-armed timer is skipped. */
	struct sip_txn_table *txns;
	uint32_t max_txns;
	uv_timer_t txn_timer;
	bool txn_timer_open;
	struct timer_ent *heap;
	size_t heap_n, heap_cap;
	uint32_t *timer_seq;
	uint32_t seq;
	struct client_slot *clients; /* the TU's callback per client transaction slot */
	struct sip_request *cur;     /* the request being handed to the transaction layer */
	uint64_t branch_seq;
	/* Work posted by other threads. */
	struct mailbox inbox;
	struct sip_msg msg;            /* the message being handled (about 3 KB) */
	char udp_buf[65536];           /* one datagram */
	char reply_buf[SIP_REPLY_MAX]; /* one answer */
};

struct timer_ent {
	uint64_t due; /* uv_now() milliseconds */
	sip_txn_id id;
	uint32_t seq;
	uint8_t timer;
};

struct client_slot {
	sip_txn_id id;
	sip_response_fn cb;
	void *ctx;
};

struct sip_server {
	char host[INET_ADDRSTRLEN];
	char self[INET_ADDRSTRLEN + 8]; /* "host:port" koryod names itself by */
	struct in_addr addr;
	uint16_t port;
	char domain[256];
	struct in_addr local[SIP_MAX_LOCAL_ADDRS]; /* when addr is 0.0.0.0 */
	unsigned n_local;
	struct sip_hooks hooks;
	char server_hdr[64];     /* "koryo/VERSION" */
	char options_extra[512]; /* Allow, Accept, Supported of an OPTIONS answer */
	uint64_t tag_salt;
	unsigned n_workers;
	struct sip_worker *workers;
};

/* --- flows and connections ---------------------------------------------------- */

static uint64_t conn_handle(const struct sip_worker *w, const struct sip_conn *c)
{
	return ((uint64_t)w->id << 56) | ((uint64_t)c->gen << 24) | c->slot;
}

/* The connection a handle names, if it is this worker's and still open. */
static struct sip_conn *conn_lookup(struct sip_worker *w, uint64_t h)
{
	uint32_t slot = (uint32_t)(h & 0xffffff), gen = (uint32_t)(h >> 24);
	if ((h >> 56) != w->id || slot >= w->conn_cap || !w->conn_tab[slot] ||
	    w->conn_gen[slot] != gen)
		return NULL;
	return w->conn_tab[slot]->closing ? NULL : w->conn_tab[slot];
}

static int conn_register(struct sip_worker *w, struct sip_conn *c)
{
	uint32_t i = w->conn_free_hint;
	for (; i < w->conn_cap && w->conn_tab[i]; i++)
		;
	if (i == w->conn_cap) {
		uint32_t ncap = w->conn_cap ? w->conn_cap * 2 : 64;
		if (ncap > 0xffffff)
			return -ENOSPC;
		struct sip_conn **t = realloc(w->conn_tab, ncap * sizeof(*t));
		if (!t)
			return -ENOMEM;
		w->conn_tab = t;
		uint32_t *g = realloc(w->conn_gen, ncap * sizeof(*g));
		if (!g)
			return -ENOMEM;
		w->conn_gen = g;
		memset(t + w->conn_cap, 0, (ncap - w->conn_cap) * sizeof(*t));
		memset(g + w->conn_cap, 0, (ncap - w->conn_cap) * sizeof(*g));
		w->conn_cap = ncap;
	}
	w->conn_tab[i] = c;
	c->slot = i;
	c->gen = ++w->conn_gen[i];
	w->conn_free_hint = i + 1;
	return 0;
}

static void conn_unregister(struct sip_worker *w, struct sip_conn *c)
{
	if (c->slot < w->conn_cap && w->conn_tab[c->slot] == c) {
		w->conn_tab[c->slot] = NULL;
		if (c->slot < w->conn_free_hint)
			w->conn_free_hint = c->slot;
	}
}

static void flow_of(const struct sip_worker *w, const struct sockaddr_in *src,
                    const struct sip_conn *conn, struct sip_txn_peer *out)
{
	memset(out, 0, sizeof(*out));
	out->reliable = conn != NULL;
	out->conn = conn ? conn_handle(w, conn) : 0;
	out->addr_len = sizeof(*src);
	memcpy(out->addr, src, sizeof(*src));
}

static struct sockaddr_in flow_addr(const struct sip_txn_peer *f)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	if (f->addr_len == sizeof(a))
		memcpy(&a, f->addr, sizeof(a));
	return a;
}

void sip_flow_format(const struct sip_txn_peer *flow, char *out, size_t cap)
{
	struct sockaddr_in a = flow_addr(flow);
	char ip[INET_ADDRSTRLEN] = "0.0.0.0";
	inet_ntop(AF_INET, &a.sin_addr, ip, sizeof(ip));
	snprintf(out, cap, "%s:%s:%u", flow->reliable ? "tcp" : "udp", ip, ntohs(a.sin_port));
}

int sip_flow_parse(const char *text, struct sip_txn_peer *flow)
{
	char ip[INET_ADDRSTRLEN];
	unsigned port;
	struct sockaddr_in a = {.sin_family = AF_INET};
	memset(flow, 0, sizeof(*flow));
	if (strncmp(text, "udp:", 4) == 0)
		flow->reliable = false;
	else if (strncmp(text, "tcp:", 4) == 0)
		flow->reliable = true;
	else
		return -EINVAL;
	const char *colon = strrchr(text + 4, ':');
	if (!colon || (size_t)(colon - (text + 4)) >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, text + 4, (size_t)(colon - (text + 4)));
	ip[colon - (text + 4)] = '\0';
	if (inet_pton(AF_INET, ip, &a.sin_addr) != 1 || sscanf(colon + 1, "%u", &port) != 1 ||
	    port == 0 || port > 65535)
		return -EINVAL;
	a.sin_port = htons((uint16_t)port);
	flow->addr_len = sizeof(a);
	memcpy(flow->addr, &a, sizeof(a));
	flow->conn = flow->reliable ? UINT64_MAX : 0; /* no connection yet */
	return 0;
}

bool sip_flow_same_peer(const struct sip_txn_peer *a, const struct sip_txn_peer *b)
{
	struct sockaddr_in x = flow_addr(a), y = flow_addr(b);
	return a->reliable == b->reliable && x.sin_addr.s_addr == y.sin_addr.s_addr &&
	       x.sin_port == y.sin_port;
}

/* --- the inbox: work from other threads ------------------------------------------ */

int sip_server_post(struct sip_server *srv, unsigned index, mailbox_fn fn, void *arg)
{
	if (index >= srv->n_workers)
		return -EINVAL;
	return mailbox_post(&srv->workers[index].inbox, fn, arg);
}

unsigned sip_server_workers(const struct sip_server *srv)
{
	return srv->n_workers;
}

/* --- sending ---------------------------------------------------------------- */

static void conn_write(struct sip_conn *conn, const char *data, size_t len);

/* Logs what happened to a message, with its Call-ID (cut at 128 octets). */
static void log_call(enum log_level lvl, const struct sip_msg *m, const char *what)
{
	struct sip_str cid = {"", 0};
	const struct sip_hdr *h = sip_msg_header_first(m, SIP_HDR_CALL_ID);
	if (h)
		cid = h->value;
	log_write(lvl, "sip", "Call-ID='%.*s': %s", (int)(cid.len > 128 ? 128 : cid.len), cid.p,
	          what);
}

struct tcp_send {
	uint64_t conn;
	size_t len;
	char data[];
};

static void on_tcp_send_post(void *arg, void *owner)
{
	struct sip_worker *w = owner;
	struct tcp_send *t = arg;
	struct sip_conn *c = conn_lookup(w, t->conn);
	if (c)
		conn_write(c, t->data, t->len);
	else
		count(&w->stats.send_errors);
	free(t);
}

/* Sends octets over a flow from worker w: UDP from w's socket, TCP on the
 * connection (through its worker's inbox when another worker owns it). */
static int flow_send(struct sip_worker *w, const struct sip_txn_peer *flow, const char *buf,
                     size_t len)
{
	if (!flow->reliable) {
		struct sockaddr_in a = flow_addr(flow);
		uv_buf_t b = uv_buf_init((char *)buf, (unsigned)len);
		int rc = uv_udp_try_send(&w->udp, &b, 1, (const struct sockaddr *)&a);
		if (rc < 0) {
			count(&w->stats.send_errors);
			return rc == UV_EAGAIN ? -EAGAIN : -EIO;
		}
		return 0;
	}
	unsigned owner = (unsigned)(flow->conn >> 56);
	if (owner == w->id) {
		struct sip_conn *c = conn_lookup(w, flow->conn);
		if (!c)
			return -ENOTCONN;
		conn_write(c, buf, len);
		return 0;
	}
	if (owner >= w->srv->n_workers)
		return -ENOTCONN;
	struct tcp_send *t = malloc(sizeof(*t) + len);
	if (!t)
		return -ENOMEM;
	t->conn = flow->conn;
	t->len = len;
	memcpy(t->data, buf, len);
	int rc = sip_server_post(w->srv, owner, on_tcp_send_post, t);
	if (rc != 0)
		free(t);
	return rc;
}

/* Delivers a built answer: through the server transaction when there is
 * one, else straight back to the source. */
static int deliver(struct sip_worker *w, sip_txn_id txn, const struct sip_txn_peer *flow,
                   const char *buf, size_t len)
{
	if (txn)
		return sip_txn_server_send_response(w->txns, txn, buf, len);
	return flow_send(w, flow, buf, len);
}

static int reply(struct sip_worker *w, const struct sip_msg *m, const struct sip_txn_peer *flow,
                 sip_txn_id txn, int status, const char *reason, const char *extra)
{
	struct sip_server *srv = w->srv;
	struct sockaddr_in src = flow_addr(flow);
	struct sip_reply_opts o = {.src_addr = src.sin_addr.s_addr,
	                           .src_port = ntohs(src.sin_port),
	                           .server = srv->server_hdr,
	                           .extra = extra,
	                           .tag_salt = srv->tag_salt};
	char ip[INET_ADDRSTRLEN], what[160];
	inet_ntop(AF_INET, &src.sin_addr, ip, sizeof(ip));
	int n = sip_reply_build(m, status, reason, &o, w->reply_buf, sizeof(w->reply_buf));
	if (n < 0) {
		count(&w->stats.send_errors);
		snprintf(what, sizeof(what), "answer %d to %s:%u not built: %s", status, ip,
		         ntohs(src.sin_port), strerror(-n));
		log_call(LOG_WARN, m, what);
		return n;
	}
	int rc = deliver(w, txn, flow, w->reply_buf, (size_t)n);
	if (rc < 0 && rc != -EALREADY) {
		count(&w->stats.send_errors);
		snprintf(what, sizeof(what), "send of %d to %s:%u failed: %s", status, ip,
		         ntohs(src.sin_port), strerror(-rc));
		log_call(LOG_WARN, m, what);
		return rc;
	}
	count(&w->stats.responses[status / 100 - 1]);
	LOGD("sip", "%d to %s:%u%s", status, ip, ntohs(src.sin_port),
	     flow->reliable ? " (TCP)" : "");
	return rc;
}

int sip_request_reply(struct sip_request *rq, int status, const char *reason, const char *extra)
{
	return reply(rq->w, rq->msg, &rq->flow, rq->txn, status, reason, extra);
}

/* --- answering later ------------------------------------------------------------- */

struct sip_deferred {
	struct sip_worker *w;
	sip_txn_id txn;
	struct sip_txn_peer flow;
	bool reliable;
	int status;
	char *reason, *extra;
	size_t len;
	char buf[]; /* the request */
};

struct sip_deferred *sip_request_defer(const struct sip_request *rq)
{
	struct sip_deferred *d = malloc(sizeof(*d) + rq->msg->len);
	if (!d)
		return NULL;
	*d = (struct sip_deferred){
	    .w = rq->w, .txn = rq->txn, .flow = rq->flow, .reliable = rq->reliable};
	d->len = rq->msg->len;
	memcpy(d->buf, rq->msg->buf, d->len);
	return d;
}

int sip_deferred_msg(const struct sip_deferred *d, struct sip_msg *m)
{
	return sip_msg_parse(m, d->buf, d->len, d->reliable ? SIP_STREAM : SIP_DGRAM);
}

void sip_deferred_free(struct sip_deferred *d)
{
	free(d);
}

static void on_deferred(void *arg, void *owner)
{
	struct sip_worker *w = owner;
	struct sip_deferred *d = arg;
	struct sip_msg *m = &w->msg;
	if (sip_msg_parse(m, d->buf, d->len, d->reliable ? SIP_STREAM : SIP_DGRAM) == 0)
		reply(w, m, &d->flow, d->txn, d->status, d->reason, d->extra);
	free(d->reason);
	free(d->extra);
	free(d);
}

void sip_deferred_reply(struct sip_deferred *d, int status, const char *reason, const char *extra)
{
	d->status = status;
	d->reason = reason ? strdup(reason) : NULL;
	d->extra = extra ? strdup(extra) : NULL;
	if ((reason && !d->reason) || (extra && !d->extra) ||
	    sip_server_post(d->w->srv, d->w->id, on_deferred, d) != 0) {
		/* No answer: the client retransmits, or its transaction times out. */
		free(d->reason);
		free(d->extra);
		free(d);
	}
}

/* --- transactions: the ops the layer acts through ------------------------------ */

static void heap_swap(struct timer_ent *h, size_t a, size_t b)
{
	struct timer_ent t = h[a];
	h[a] = h[b];
	h[b] = t;
}

static void heap_push(struct sip_worker *w, struct timer_ent e)
{
	if (w->heap_n == w->heap_cap) {
		size_t ncap = w->heap_cap ? w->heap_cap * 2 : 1024;
		struct timer_ent *h = realloc(w->heap, ncap * sizeof(*h));
		if (!h) {
			LOGE("sip", "out of memory for a transaction timer");
			return;
		}
		w->heap = h;
		w->heap_cap = ncap;
	}
	size_t i = w->heap_n++;
	w->heap[i] = e;
	while (i && w->heap[(i - 1) / 2].due > w->heap[i].due) {
		heap_swap(w->heap, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void heap_pop(struct sip_worker *w)
{
	w->heap[0] = w->heap[--w->heap_n];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < w->heap_n && w->heap[l].due < w->heap[m].due)
			m = l;
		if (r < w->heap_n && w->heap[r].due < w->heap[m].due)
			m = r;
		if (m == i)
			break;
		heap_swap(w->heap, i, m);
		i = m;
	}
}

static uint32_t *timer_seq(struct sip_worker *w, sip_txn_id id, unsigned timer)
{
	return &w->timer_seq[(size_t)(uint32_t)id * SIP_TXN_TIMER__COUNT + timer];
}

static void on_txn_timer(uv_timer_t *t);

static void rearm(struct sip_worker *w)
{
	if (!w->heap_n) {
		uv_timer_stop(&w->txn_timer);
		return;
	}
	uint64_t now = uv_now(w->loop), due = w->heap[0].due;
	uv_timer_start(&w->txn_timer, on_txn_timer, due > now ? due - now : 0, 0);
}

static void on_txn_timer(uv_timer_t *t)
{
	struct sip_worker *w = t->data;
	uint64_t now = uv_now(w->loop);
	while (w->heap_n && w->heap[0].due <= now) {
		struct timer_ent e = w->heap[0];
		heap_pop(w);
		uint32_t *seq = timer_seq(w, e.id, e.timer);
		if (*seq != e.seq)
			continue; /* stopped or re-armed since */
		*seq = 0;
		sip_txn_timer_fired(w->txns, e.id, e.timer);
	}
	rearm(w);
}

static int op_send(void *user, sip_txn_id id, const struct sip_txn_peer *peer, const char *buf,
                   size_t len)
{
	(void)id;
	return flow_send(user, peer, buf, len);
}

static void op_timer_start(void *user, sip_txn_id id, enum sip_txn_timer timer, uint32_t ms)
{
	struct sip_worker *w = user;
	uint32_t seq = ++w->seq ? w->seq : ++w->seq;
	*timer_seq(w, id, timer) = seq;
	bool first = !w->heap_n || uv_now(w->loop) + ms < w->heap[0].due;
	heap_push(w,
	          (struct timer_ent){
	              .due = uv_now(w->loop) + ms, .id = id, .seq = seq, .timer = (uint8_t)timer});
	if (first)
		rearm(w);
}

static void op_timer_stop(void *user, sip_txn_id id, enum sip_txn_timer timer)
{
	*timer_seq(user, id, timer) = 0;
}

static void handle_request(struct sip_request *rq);

static void op_tu_request(void *user, sip_txn_id id, const struct sip_msg *req)
{
	struct sip_worker *w = user;
	struct sip_request *rq = w->cur;
	if (!rq || rq->msg != req)
		return;
	rq->txn = req->method_id == SIP_METHOD_ACK ? 0 : id;
	handle_request(rq);
}

static struct client_slot *client_of(struct sip_worker *w, sip_txn_id id)
{
	struct client_slot *c = &w->clients[(uint32_t)id];
	return c->id == id && c->cb ? c : NULL;
}

static void op_tu_response(void *user, sip_txn_id id, const struct sip_msg *resp)
{
	struct client_slot *c = client_of(user, id);
	if (!c)
		return;
	sip_response_fn cb = c->cb;
	void *ctx = c->ctx;
	if (resp->status >= 200 && !(resp->status < 300 && resp->cseq.method.len == 6 &&
	                             memcmp(resp->cseq.method.p, "INVITE", 6) == 0))
		c->cb = NULL; /* final: nothing more for the TU (an INVITE's 2xx may repeat) */
	cb(ctx, id, resp, resp->status);
}

static void client_failed(struct sip_worker *w, sip_txn_id id, int status)
{
	struct client_slot *c = client_of(w, id);
	if (!c)
		return;
	sip_response_fn cb = c->cb;
	c->cb = NULL;
	cb(c->ctx, id, NULL, status);
}

static void op_tu_timeout(void *user, sip_txn_id id, enum sip_txn_timer timer)
{
	(void)timer;
	client_failed(user, id, 408);
}

static void op_tu_transport_error(void *user, sip_txn_id id, int err)
{
	(void)err;
	client_failed(user, id, 503);
}

static void op_terminated(void *user, sip_txn_id id)
{
	struct sip_worker *w = user;
	struct client_slot *c = &w->clients[(uint32_t)id];
	if (c->id == id)
		memset(c, 0, sizeof(*c));
	for (unsigned t = 0; t < SIP_TXN_TIMER__COUNT; t++)
		*timer_seq(w, id, t) = 0;
	atomic_store_explicit(&w->stats.transactions, sip_txn_count(w->txns) - 1,
	                      memory_order_relaxed);
}

static const struct sip_txn_ops txn_ops = {
    .send = op_send,
    .timer_start = op_timer_start,
    .timer_stop = op_timer_stop,
    .tu_request = op_tu_request,
    .tu_response = op_tu_response,
    .tu_timeout = op_tu_timeout,
    .tu_transport_error = op_tu_transport_error,
    .terminated = op_terminated,
};

static bool top_route_is_ours(const struct sip_server *srv, const struct sip_msg *m);

/* --- the TU's side ---------------------------------------------------------------- */

int sip_worker_request(struct sip_worker *w, const char *buf, size_t len,
                       const struct sip_txn_peer *flow, sip_response_fn cb, void *ctx,
                       sip_txn_id *id)
{
	sip_txn_id tid;
	int rc = sip_txn_client_new(w->txns, buf, len, flow, &tid);
	if (rc != 0)
		return rc;
	w->clients[(uint32_t)tid] = (struct client_slot){.id = tid, .cb = cb, .ctx = ctx};
	atomic_store_explicit(&w->stats.transactions, sip_txn_count(w->txns), memory_order_relaxed);
	if (id)
		*id = tid;
	return 0;
}

void sip_worker_request_forget(struct sip_worker *w, sip_txn_id id)
{
	struct client_slot *c = client_of(w, id);
	if (c)
		c->cb = NULL;
}

int sip_worker_cancel(struct sip_worker *w, sip_txn_id id)
{
	int n = sip_txn_client_cancel_build(w->txns, id, w->reply_buf, sizeof(w->reply_buf));
	if (n < 0)
		return n;
	/* The CANCEL goes where the INVITE went: the INVITE's flow. */
	struct sip_txn_peer flow;
	if (sip_txn_peer_get(w->txns, id, &flow) != 0)
		return -ENOENT;
	sip_txn_id cancel; /* its responses end in the transaction: nobody waits for them */
	return sip_txn_client_new(w->txns, w->reply_buf, (size_t)n, &flow, &cancel);
}

int sip_worker_respond(struct sip_worker *w, sip_txn_id id, const char *buf, size_t len)
{
	return sip_txn_server_send_response(w->txns, id, buf, len);
}

int sip_worker_send(struct sip_worker *w, const char *buf, size_t len,
                    const struct sip_txn_peer *flow)
{
	return flow_send(w, flow, buf, len);
}

int sip_worker_find_invite(struct sip_worker *w, const struct sip_msg *cancel, sip_txn_id *id)
{
	return sip_txn_server_find_invite(w->txns, cancel, id);
}

int sip_worker_via(struct sip_worker *w, const struct sip_txn_peer *flow, char *out, size_t cap)
{
	int n = snprintf(out, cap,
	                 "Via: SIP/2.0/%s %s;branch=" BRANCH_PREFIX "%x.%" PRIx64 "%08x;rport\r\n",
	                 flow->reliable ? "TCP" : "UDP", w->srv->self, w->id, ++w->branch_seq,
	                 (unsigned)(w->srv->tag_salt >> 16));
	return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

bool sip_worker_route_is_self(const struct sip_worker *w, const struct sip_msg *m)
{
	return top_route_is_ours(w->srv, m);
}

const char *sip_worker_self(const struct sip_worker *w)
{
	return w->srv->self;
}

unsigned sip_worker_index(const struct sip_worker *w)
{
	return w->id;
}

uv_loop_t *sip_worker_loop(struct sip_worker *w)
{
	return w->loop;
}

struct sip_worker *sip_server_worker(struct sip_server *srv, unsigned index)
{
	return index < srv->n_workers ? &srv->workers[index] : NULL;
}

int sip_branch_worker(struct sip_str b)
{
	if (!b.p || b.len < BRANCH_PREFIX_LEN + 2 || memcmp(b.p, BRANCH_PREFIX, BRANCH_PREFIX_LEN))
		return -1;
	int v = 0;
	for (size_t i = BRANCH_PREFIX_LEN; i < b.len && b.p[i] != '.'; i++) {
		char c = b.p[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (d < 0 || v > 0xfff)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* --- requests ---------------------------------------------------------------- */

/* Is the Request-URI koryod itself or its home domain? tel: URIs are the
 * home network's numbers. An IP address names koryod when it is the listen
 * address (or, listening on 0.0.0.0, a local one) and its port, if any,
 * koryod's. */
static bool uri_is_ours(const struct sip_server *srv, const struct sip_uri *u)
{
	if (u->scheme == SIP_URI_TEL)
		return true;
	if (u->host_type == SIP_HOST_NAME)
		return sip_str_eq_ci(u->host, srv->domain);
	if (u->host_type != SIP_HOST_IPV4 || (u->has_port && u->port != srv->port))
		return false;
	char h[INET_ADDRSTRLEN];
	struct in_addr a;
	if (u->host.len >= sizeof(h))
		return false;
	memcpy(h, u->host.p, u->host.len);
	h[u->host.len] = '\0';
	if (inet_pton(AF_INET, h, &a) != 1)
		return false;
	if (srv->addr.s_addr != htonl(INADDR_ANY))
		return a.s_addr == srv->addr.s_addr;
	for (unsigned i = 0; i < srv->n_local; i++) {
		if (srv->local[i].s_addr == a.s_addr)
			return true;
	}
	return false;
}

/* 420 for a Require that names any option tag (koryod supports none that a
 * UAC may require yet): the tags go back in Unsupported (RFC 3261 8.2.2.3).
 * Returns true when it answered. */
static bool check_require(struct sip_request *rq)
{
	const struct sip_msg *m = rq->msg;
	if (m->first[SIP_HDR_REQUIRE] < 0)
		return false;
	char extra[1024];
	size_t n = (size_t)snprintf(extra, sizeof(extra), "Unsupported: ");
	struct sip_hdr_iter it;
	struct sip_str v;
	bool any = false;
	sip_hdr_iter_init(&it, m, SIP_HDR_REQUIRE);
	while (sip_hdr_iter_next(&it, &v) == 1) {
		if (n + v.len + 8 > sizeof(extra))
			break; /* the rest does not fit: the first tags are enough */
		if (any) {
			memcpy(extra + n, ", ", 2);
			n += 2;
		}
		memcpy(extra + n, v.p, v.len);
		n += v.len;
		any = true;
	}
	if (!any)
		return false;
	memcpy(extra + n, "\r\n", 3);
	sip_request_reply(rq, 420, NULL, extra);
	return true;
}

/* Does the top Route name koryod (a loose-routed request inside a dialog
 * it record-routed)? Then the Request-URI is the next hop, not a domain. */
static bool top_route_is_ours(const struct sip_server *srv, const struct sip_msg *m)
{
	struct sip_hdr_iter it;
	struct sip_str v;
	struct sip_nameaddr na;
	struct sip_uri u;
	sip_hdr_iter_init(&it, m, SIP_HDR_ROUTE);
	if (sip_hdr_iter_next(&it, &v) != 1 || sip_nameaddr_parse(v, false, &na) != 0 ||
	    sip_uri_parse(na.uri.p, na.uri.len, &u) != 0)
		return false;
	return u.scheme == SIP_URI_SIP && u.host_type == SIP_HOST_IPV4 && uri_is_ours(srv, &u);
}

/* The answers given without a transaction. Returns true when it answered
 * (or dropped) the request. */
static bool stateless_answer(struct sip_request *rq)
{
	struct sip_server *srv = rq->w->srv;
	const struct sip_msg *m = rq->msg;
	enum sip_method meth = m->method_id;

	if (meth == SIP_METHOD_ACK)
		return false; /* never answered */
	if (m->ruri.scheme == SIP_URI_OTHER) {
		sip_request_reply(rq, 416, NULL, NULL);
		return true;
	}
	bool routed = top_route_is_ours(srv, m);
	bool ours = routed || uri_is_ours(srv, &m->ruri);
	/* A request that would be relayed with no hops left (RFC 3261 16.3);
	 * OPTIONS to koryod itself is answered (ibid., item 2). */
	if (m->max_forwards == 0 && !(ours && !routed && meth == SIP_METHOD_OPTIONS)) {
		sip_request_reply(rq, 483, NULL, NULL);
		return true;
	}
	if (!ours) {
		/* Never forwarded: koryod sends nowhere a message names. */
		sip_request_reply(rq, 403, "No Trunk Configured", NULL);
		return true;
	}
	return meth != SIP_METHOD_CANCEL && check_require(rq);
}

/* A request its server transaction hands over (ACK: one that matched no
 * transaction): the method's hook, or the default answer. */
static void handle_request(struct sip_request *rq)
{
	struct sip_server *srv = rq->w->srv;
	enum sip_method meth = rq->msg->method_id;
	if (srv->hooks.method[meth]) {
		srv->hooks.method[meth](srv->hooks.ctx, rq);
		return;
	}
	switch (meth) {
	case SIP_METHOD_ACK:
		break; /* the ACK of a 2xx nobody sent: dropped */
	case SIP_METHOD_OPTIONS:
		sip_request_reply(rq, 200, NULL, srv->options_extra);
		break;
	case SIP_METHOD_CANCEL:
		/* No transaction it could cancel (RFC 3261 9.2). */
		sip_request_reply(rq, 481, NULL, NULL);
		break;
	default:
		sip_request_reply(rq, 501, NULL, NULL);
		break;
	}
}

static void handle_response(struct sip_worker *w, const struct sip_msg *m, const char *data,
                            size_t len, enum sip_transport_kind kind,
                            const struct sockaddr_in *src);

/* A request: stateless answers first, then its transaction. */
static void handle_request_in(struct sip_request *rq)
{
	struct sip_worker *w = rq->w;
	if (stateless_answer(rq))
		return;
	w->cur = rq;
	int rc = sip_txn_server_recv_request(w->txns, rq->msg, &rq->flow, NULL);
	w->cur = NULL;
	switch (rc) {
	case SIP_TXN_PASSED:
		break;
	case SIP_TXN_ABSORBED:
		count(&w->stats.absorbed);
		break;
	case SIP_TXN_NO_MATCH: /* an ACK of a 2xx: the TU routes it */
		rq->txn = 0;
		handle_request(rq);
		break;
	case -ENOSPC:
		LOGW("sip", "transaction table full (%u): answering 503", w->max_txns);
		sip_request_reply(rq, 503, NULL, "Retry-After: 5\r\n");
		break;
	case -EMSGSIZE:
		sip_request_reply(rq, 400, "Branch Too Long", NULL);
		break;
	default:
		log_call(LOG_WARN, rq->msg, "no transaction for the request");
		break;
	}
	atomic_store_explicit(&w->stats.transactions, sip_txn_count(w->txns), memory_order_relaxed);
}

/* One message from UDP (a datagram) or TCP (a framed message). */
static void handle_message(struct sip_worker *w, const char *data, size_t len,
                           enum sip_transport_kind kind, const struct sockaddr_in *src,
                           struct sip_conn *conn)
{
	struct sip_msg *m = &w->msg;
	struct sip_request rq = {
	    .msg = m, .src = *src, .reliable = conn != NULL, .w = w, .conn = conn};
	flow_of(w, src, conn, &rq.flow);
	int rc = sip_msg_parse(m, data, len, kind);
	if (rc != 0) {
		count(&w->stats.bad_messages);
		int status = sip_err_status(m, rc);
		const char *why = m->err_text ? m->err_text : sip_strerror(rc);
		char ip[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &src->sin_addr, ip, sizeof(ip));
		if (status == 0) {
			LOGD("sip", "message from %s:%u dropped: %s", ip, ntohs(src->sin_port),
			     why);
			return;
		}
		char what[160];
		snprintf(what, sizeof(what), "bad request from %s:%u: %s", ip, ntohs(src->sin_port),
		         why);
		log_call(LOG_INFO, m, what);
		sip_request_reply(&rq, status, status == 400 ? why : NULL, NULL);
		return;
	}
	if (!m->is_request) {
		handle_response(w, m, data, len, kind, src);
		return;
	}
	count(&w->stats.requests[m->method_id < SIP_SERVER_METHODS ? m->method_id : 0]);
	handle_request_in(&rq);
}

/* --- responses ---------------------------------------------------------------- */

struct handoff {
	enum sip_transport_kind kind;
	struct sockaddr_in src;
	size_t len;
	char data[];
};

static void on_handoff(void *arg, void *owner)
{
	struct sip_worker *w = owner;
	struct handoff *h = arg;
	struct sip_msg *m = &w->msg;
	if (sip_msg_parse(m, h->data, h->len, h->kind) == 0 && !m->is_request)
		handle_response(w, m, h->data, h->len, h->kind, &h->src);
	free(h);
}

static void handle_response(struct sip_worker *w, const struct sip_msg *m, const char *data,
                            size_t len, enum sip_transport_kind kind, const struct sockaddr_in *src)
{
	int owner = sip_branch_worker(m->via.branch);
	if (owner >= 0 && (unsigned)owner != w->id && (unsigned)owner < w->srv->n_workers) {
		struct handoff *h = malloc(sizeof(*h) + len);
		if (!h)
			return;
		h->kind = kind;
		h->src = *src;
		h->len = len;
		memcpy(h->data, data, len);
		if (sip_server_post(w->srv, (unsigned)owner, on_handoff, h) != 0)
			free(h);
		else
			count(&w->stats.handoffs);
		return;
	}
	int rc = sip_txn_client_recv_response(w->txns, m);
	if (rc == SIP_TXN_NO_MATCH) {
		count(&w->stats.stray_responses);
		if (w->srv->hooks.stray_response)
			w->srv->hooks.stray_response(w->srv->hooks.ctx, w, m);
	} else if (rc == SIP_TXN_ABSORBED) {
		count(&w->stats.absorbed);
	}
}

/* --- UDP --------------------------------------------------------------------- */

static void on_udp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct sip_worker *w = h->data;
	(void)suggested;
	buf->base = w->udp_buf;
	buf->len = sizeof(w->udp_buf);
}

static void on_udp_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *addr,
                        unsigned flags)
{
	struct sip_worker *w = h->data;
	if (n <= 0 || !addr || addr->sa_family != AF_INET)
		return;
	const struct sockaddr_in *src = (const struct sockaddr_in *)addr;
	size_t i = 0;
	while (i < (size_t)n && (buf->base[i] == '\r' || buf->base[i] == '\n'))
		i++;
	if (i == (size_t)n)
		return; /* a CRLF keep-alive */
	if (flags & UV_UDP_PARTIAL || src->sin_port == 0) {
		count(&w->stats.bad_messages);
		return;
	}
	handle_message(w, buf->base, (size_t)n, SIP_DGRAM, src, NULL);
}

/* --- TCP --------------------------------------------------------------------- */

/* Queues data for conn; it leaves in the worker's next check phase. */
static void conn_write(struct sip_conn *conn, const char *data, size_t len)
{
	if (conn->closing)
		return;
	if (wbuf_append(&conn->out, data, len) != 0) {
		count(&conn->w->stats.send_errors);
		LOGE("sip", "out of memory; answer to a TCP peer dropped");
		return;
	}
	if (!conn->dirty) {
		conn->dirty = true;
		conn->next_dirty = conn->w->dirty;
		conn->w->dirty = conn;
	}
}

static void on_conn_closed(uv_handle_t *h)
{
	struct sip_conn *conn = h->data;
	free(conn->out);
	free(conn->rbuf);
	free(conn);
}

static void conn_close(struct sip_conn *conn, const char *why)
{
	if (conn->closing)
		return;
	conn->closing = true;
	struct sip_worker *w = conn->w;
	char ip[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &conn->peer.sin_addr, ip, sizeof(ip));
	LOGD("sip", "TCP connection from %s:%u closed (%s)", ip, ntohs(conn->peer.sin_port), why);
	for (struct sip_conn **pp = &w->conns; *pp; pp = &(*pp)->next) {
		if (*pp == conn) {
			*pp = conn->next;
			break;
		}
	}
	atomic_fetch_sub_explicit(&w->stats.tcp_connections, 1, memory_order_relaxed);
	conn_unregister(w, conn);
	uv_close((uv_handle_t *)&conn->tcp, on_conn_closed);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
	(void)status;
	conn_close(req->data, "closed after a bad message");
}

/* The check phase: after a loop iteration's I/O, one write per connection. */
static void on_flush(uv_check_t *h)
{
	struct sip_worker *w = h->data;
	struct sip_conn *c = w->dirty;
	w->dirty = NULL;
	while (c) {
		struct sip_conn *next = c->next_dirty;
		c->dirty = false;
		c->next_dirty = NULL;
		struct wbuf *b = c->out;
		c->out = NULL;
		if (b && !c->closing) {
			wbuf_write(b, (uv_stream_t *)&c->tcp);
			if (c->close_after_flush) {
				c->shutdown.data = c;
				if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp,
				                on_shutdown) != 0)
					conn_close(c, "bad message");
			}
		} else {
			free(b);
		}
		c = next;
	}
}

static void on_tcp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct sip_conn *conn = h->data;
	(void)suggested;
	size_t max = SIP_TCP_MAX_MSG + SIP_TCP_MAX_HDR;
	if (conn->rcap - conn->rlen < 1024 && conn->rcap < max) {
		size_t ncap = conn->rcap ? conn->rcap * 2 : SIP_TCP_BUF_INIT;
		if (ncap > max)
			ncap = max;
		char *p = realloc(conn->rbuf, ncap);
		if (p) {
			conn->rbuf = p;
			conn->rcap = ncap;
		}
	}
	/* Length 0 (full, or out of memory) makes libuv report UV_ENOBUFS. */
	buf->base = conn->rbuf ? conn->rbuf + conn->rlen : NULL;
	buf->len = conn->rcap - conn->rlen;
}

/* A header block without a usable Content-Length: answer 400 if the fields
 * an answer needs are there, then close (the stream cannot be resynchronised). */
static void conn_refuse(struct sip_conn *conn, const char *data, size_t len)
{
	struct sip_worker *w = conn->w;
	struct sip_msg *m = &w->msg;
	count(&w->stats.bad_messages);
	int rc = sip_msg_parse(m, data, len, SIP_STREAM);
	int status = rc ? sip_err_status(m, rc) : 0;
	if (status == 0 && m->is_request && rc != SIP_E_NOT_SIP)
		status = sip_err_status(m, SIP_E_CONTENT_LENGTH);
	if (status == 0) {
		conn_close(conn, "bad framing");
		return;
	}
	struct sip_request rq = {
	    .msg = m, .src = conn->peer, .reliable = true, .w = w, .conn = conn};
	flow_of(w, &conn->peer, conn, &rq.flow);
	if (sip_request_reply(&rq, status, status == 400 ? "Bad Content-Length" : NULL, NULL) !=
	    0) {
		conn_close(conn, "bad framing");
		return;
	}
	conn->close_after_flush = true;
	uv_read_stop((uv_stream_t *)&conn->tcp);
}

static void on_tcp_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct sip_conn *conn = s->data;
	(void)buf;
	if (n < 0) {
		conn_close(conn, n == UV_EOF ? "closed by peer" : uv_strerror((int)n));
		return;
	}
	conn->rlen += (size_t)n;
	conn->last_ms = uv_now(conn->w->loop);
	size_t off = 0;
	while (!conn->closing && !conn->close_after_flush && off < conn->rlen) {
		const char *p = conn->rbuf + off;
		size_t avail = conn->rlen - off, skip, mlen;
		int rc = sip_stream_frame(p, avail, SIP_TCP_MAX_HDR, &skip, &mlen);
		/* RFC 5626 keep-alive: a CRLFCRLF ping gets a CRLF pong. */
		if (skip >= 4 && (rc == 1 || skip == avail)) {
			conn_write(conn, "\r\n", 2);
			off += skip;
			continue;
		}
		if (rc == 0) {
			if (skip == avail)
				off += skip;
			else if (mlen > SIP_TCP_MAX_MSG)
				conn_close(conn, "message too large");
			break;
		}
		if (rc == SIP_E_CONTENT_LENGTH) {
			conn_refuse(conn, p + skip, avail - skip);
			break;
		}
		if (rc < 0) {
			count(&conn->w->stats.bad_messages);
			conn_close(conn, sip_strerror(rc));
			break;
		}
		handle_message(conn->w, p + skip, mlen, SIP_STREAM, &conn->peer, conn);
		off += skip + mlen;
	}
	if (conn->closing)
		return;
	memmove(conn->rbuf, conn->rbuf + off, conn->rlen - off);
	conn->rlen -= off;
}

static void on_connection(uv_stream_t *listener, int status)
{
	struct sip_worker *w = listener->data;
	if (status < 0)
		return;
	struct sip_conn *conn = calloc(1, sizeof(*conn));
	if (!conn)
		return;
	uv_tcp_init(w->loop, &conn->tcp);
	conn->tcp.data = conn;
	conn->w = w;
	int len = sizeof(conn->peer);
	if (uv_accept(listener, (uv_stream_t *)&conn->tcp) != 0 ||
	    uv_tcp_getpeername(&conn->tcp, (struct sockaddr *)&conn->peer, &len) != 0 ||
	    conn->peer.sin_family != AF_INET) {
		uv_close((uv_handle_t *)&conn->tcp, on_conn_closed);
		return;
	}
	conn->last_ms = uv_now(w->loop);
	if (conn_register(w, conn) != 0) {
		uv_close((uv_handle_t *)&conn->tcp, on_conn_closed);
		return;
	}
	conn->next = w->conns;
	w->conns = conn;
	atomic_fetch_add_explicit(&w->stats.tcp_connections, 1, memory_order_relaxed);
	uv_tcp_nodelay(&conn->tcp, 1);
	uv_read_start((uv_stream_t *)&conn->tcp, on_tcp_alloc, on_tcp_read);
}

static void on_sweep(uv_timer_t *t)
{
	struct sip_worker *w = t->data;
	uint64_t now = uv_now(w->loop);
	struct sip_conn *c = w->conns;
	while (c) {
		struct sip_conn *next = c->next;
		if (now - c->last_ms > SIP_TCP_IDLE_MS)
			conn_close(c, "idle");
		c = next;
	}
}

/* --- lifecycle -------------------------------------------------------------- */

/* The server's address, for binding. */
static struct sockaddr_in server_addr(struct in_addr host, uint16_t port)
{
	return (struct sockaddr_in){
	    .sin_family = AF_INET, .sin_port = htons(port), .sin_addr = host};
}

static void local_addrs(struct sip_server *srv)
{
	struct ifaddrs *ifa, *i;
	if (getifaddrs(&ifa) != 0)
		return;
	for (i = ifa; i && srv->n_local < SIP_MAX_LOCAL_ADDRS; i = i->ifa_next) {
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET)
			srv->local[srv->n_local++] = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
	}
	freeifaddrs(ifa);
}

static void build_options_extra(struct sip_server *srv)
{
	char allow[256];
	size_t n = (size_t)snprintf(allow, sizeof(allow), "OPTIONS");
	for (unsigned i = 1; i < SIP_SERVER_METHODS; i++) {
		if (i != SIP_METHOD_OPTIONS && srv->hooks.method[i])
			n +=
			    (size_t)snprintf(allow + n, sizeof(allow) - n, ", %s", method_names[i]);
	}
	snprintf(srv->options_extra, sizeof(srv->options_extra),
	         "Allow: %s\r\nAccept: application/sdp\r\nSupported: %s\r\n", allow,
	         srv->hooks.supported ? srv->hooks.supported : "");
}

int sip_server_create(const struct sip_server_options *opt, struct sip_server **out)
{
	struct in_addr a;
	if (inet_pton(AF_INET, opt->host, &a) != 1 || !opt->port || !opt->workers || !opt->domain ||
	    strlen(opt->domain) >= 256)
		return -EINVAL;
	struct sockaddr_in sa = server_addr(a, opt->port);
	int rc = net_address_free(&sa, SOCK_DGRAM);
	const char *proto = "UDP";
	if (rc == 0) {
		rc = net_address_free(&sa, SOCK_STREAM);
		proto = "TCP";
	}
	if (rc != 0) {
		LOGE("sip", "cannot listen on %s:%u (%s): %s", opt->host, opt->port, proto,
		     strerror(-rc));
		return rc;
	}
	struct sip_server *srv = calloc(1, sizeof(*srv));
	if (!srv || !(srv->workers = calloc(opt->workers, sizeof(*srv->workers)))) {
		free(srv);
		return -ENOMEM;
	}
	snprintf(srv->host, sizeof(srv->host), "%s", opt->host);
	srv->addr = a;
	srv->port = opt->port;
	snprintf(srv->domain, sizeof(srv->domain), "%s", opt->domain);
	if (a.s_addr == htonl(INADDR_ANY))
		local_addrs(srv);
	if (opt->hooks)
		srv->hooks = *opt->hooks;
	snprintf(srv->server_hdr, sizeof(srv->server_hdr), "koryo/%s", KORYO_VERSION);
	{
		char ip[INET_ADDRSTRLEN];
		struct in_addr self = a;
		/* Listening everywhere, koryod names itself by its first non-loopback
		 * address (loopback if it has none). */
		for (unsigned i = 0; a.s_addr == htonl(INADDR_ANY) && i < srv->n_local; i++) {
			self = srv->local[i];
			if ((ntohl(self.s_addr) >> 24) != 127)
				break;
		}
		inet_ntop(AF_INET, &self, ip, sizeof(ip));
		snprintf(srv->self, sizeof(srv->self), "%s:%u", ip, opt->port);
	}
	build_options_extra(srv);
	/* The To tags' salt: unpredictable enough that tags of different
	 * requests do not collide and cannot be guessed ahead (RFC 3261 19.3). */
	uint64_t salt = (uint64_t)uv_hrtime() ^ ((uint64_t)getpid() << 32) ^ (uintptr_t)srv;
	srv->tag_salt = salt;
	srv->n_workers = opt->workers;
	for (unsigned i = 0; i < opt->workers; i++) {
		srv->workers[i].srv = srv;
		srv->workers[i].id = i;
		srv->workers[i].max_txns =
		    opt->max_transactions ? opt->max_transactions : SIP_MAX_TXNS_DEFAULT;
		mailbox_init(&srv->workers[i].inbox, &srv->workers[i]);
	}
	*out = srv;
	return 0;
}

int sip_server_worker_start(void *srv_, unsigned worker, uv_loop_t *loop)
{
	struct sip_server *srv = srv_;
	struct sip_worker *w = &srv->workers[worker];
	w->loop = loop;
	struct sip_txn_config tcfg;
	sip_txn_config_init(&tcfg);
	tcfg.max_txns = w->max_txns;
	w->timer_seq = calloc((size_t)w->max_txns * SIP_TXN_TIMER__COUNT, sizeof(*w->timer_seq));
	w->clients = calloc(w->max_txns, sizeof(*w->clients));
	if (!w->timer_seq || !w->clients || sip_txn_table_new(&w->txns, &tcfg, &txn_ops, w) != 0) {
		LOGE("sip", "out of memory for %u transactions", w->max_txns);
		return -ENOMEM;
	}
	uv_timer_init(loop, &w->txn_timer);
	w->txn_timer.data = w;
	w->txn_timer_open = true;
	if (mailbox_start(&w->inbox, loop) != 0)
		return -EIO;
	uv_check_init(loop, &w->flush);
	w->flush.data = w;
	uv_check_start(&w->flush, on_flush);
	w->flush_open = true;
	uv_timer_init(loop, &w->sweep);
	w->sweep.data = w;
	uv_timer_start(&w->sweep, on_sweep, SIP_TCP_SWEEP_MS, SIP_TCP_SWEEP_MS);
	uv_unref((uv_handle_t *)&w->sweep);
	w->sweep_open = true;

	struct sockaddr_in sa = server_addr(srv->addr, srv->port);
	int ufd = net_reuseport_socket(&sa, SOCK_DGRAM);
	if (ufd < 0) {
		LOGE("sip", "cannot listen on %s:%u (UDP): %s", srv->host, srv->port,
		     strerror(-ufd));
		return ufd;
	}
	int buf = SIP_UDP_BUFFER, got = 0;
	socklen_t gl = sizeof(got);
	setsockopt(ufd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	setsockopt(ufd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	if (worker == 0 && getsockopt(ufd, SOL_SOCKET, SO_RCVBUF, &got, &gl) == 0 && got < buf)
		LOGW("sip",
		     "UDP receive buffer is %d KB, not %d KB (net.core.rmem_max): bursts of "
		     "requests "
		     "may be dropped and retransmitted",
		     got / 2048, buf / 1024);
	uv_udp_init(loop, &w->udp);
	w->udp.data = w;
	w->udp_open = true;
	if (uv_udp_open(&w->udp, ufd) != 0) {
		close(ufd);
		LOGE("sip", "cannot listen on %s:%u (UDP)", srv->host, srv->port);
		return -EIO;
	}
	if (uv_udp_recv_start(&w->udp, on_udp_alloc, on_udp_recv) != 0) {
		LOGE("sip", "cannot listen on %s:%u (UDP)", srv->host, srv->port);
		return -EIO;
	}
	int tfd = net_reuseport_socket(&sa, SOCK_STREAM);
	if (tfd < 0) {
		LOGE("sip", "cannot listen on %s:%u (TCP): %s", srv->host, srv->port,
		     strerror(-tfd));
		return tfd;
	}
	uv_tcp_init(loop, &w->listener);
	w->listener.data = w;
	w->listening = true;
	if (uv_tcp_open(&w->listener, tfd) != 0) {
		close(tfd);
		LOGE("sip", "cannot listen on %s:%u (TCP)", srv->host, srv->port);
		return -EIO;
	}
	if (uv_listen((uv_stream_t *)&w->listener, 128, on_connection) != 0) {
		LOGE("sip", "cannot listen on %s:%u (TCP)", srv->host, srv->port);
		return -EIO;
	}
	if (worker == 0)
		LOGN("sip", "SIP listening on %s:%u (UDP and TCP), domain %s", srv->host, srv->port,
		     srv->domain);
	return 0;
}

void sip_server_worker_stop(void *srv_, unsigned worker)
{
	struct sip_server *srv = srv_;
	struct sip_worker *w = &srv->workers[worker];
	if (srv->hooks.worker_stop)
		srv->hooks.worker_stop(srv->hooks.ctx, w);
	if (w->udp_open)
		uv_close((uv_handle_t *)&w->udp, NULL);
	if (w->listening)
		uv_close((uv_handle_t *)&w->listener, NULL);
	while (w->conns)
		conn_close(w->conns, "koryod stopping");
	if (w->flush_open) {
		on_flush(&w->flush); /* unlinks the closed connections from the dirty list */
		uv_close((uv_handle_t *)&w->flush, NULL);
	}
	if (w->sweep_open)
		uv_close((uv_handle_t *)&w->sweep, NULL);
	if (w->txn_timer_open)
		uv_close((uv_handle_t *)&w->txn_timer, NULL);
	mailbox_stop(&w->inbox); /* what was posted before runs (or fails) now */
}

void sip_server_destroy(struct sip_server *srv)
{
	if (!srv)
		return;
	for (unsigned i = 0; i < srv->n_workers; i++) {
		struct sip_worker *w = &srv->workers[i];
		sip_txn_table_free(w->txns);
		free(w->timer_seq);
		free(w->clients);
		free(w->heap);
		free(w->conn_tab);
		free(w->conn_gen);
		mailbox_destroy(&w->inbox);
	}
	free(srv->workers);
	free(srv);
}

void sip_server_get_stats(struct sip_server *srv, struct sip_server_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < srv->n_workers; i++) {
		const struct sip_counters *c = &srv->workers[i].stats;
		for (unsigned m = 0; m < SIP_SERVER_METHODS; m++)
			out->requests[m] +=
			    atomic_load_explicit(&c->requests[m], memory_order_relaxed);
		for (unsigned k = 0; k < 6; k++)
			out->responses[k] +=
			    atomic_load_explicit(&c->responses[k], memory_order_relaxed);
		out->bad_messages += atomic_load_explicit(&c->bad_messages, memory_order_relaxed);
		out->stray_responses +=
		    atomic_load_explicit(&c->stray_responses, memory_order_relaxed);
		out->send_errors += atomic_load_explicit(&c->send_errors, memory_order_relaxed);
		out->tcp_connections +=
		    atomic_load_explicit(&c->tcp_connections, memory_order_relaxed);
		out->transactions += atomic_load_explicit(&c->transactions, memory_order_relaxed);
		out->retransmissions_absorbed +=
		    atomic_load_explicit(&c->absorbed, memory_order_relaxed);
		out->handoffs += atomic_load_explicit(&c->handoffs, memory_order_relaxed);
	}
}
