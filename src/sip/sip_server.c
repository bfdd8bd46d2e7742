/* The SIP transport: UDP and TCP sockets on the workers' loops, stream
 * framing, stateless answers and the per-method hooks. See sip_server.h and
 * docs/sip-transport.md. */
#include "sip/sip_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
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
	struct sip_msg msg;            /* the message being handled (about 3 KB) */
	char udp_buf[65536];           /* one datagram */
	char reply_buf[SIP_REPLY_MAX]; /* one answer */
};

struct sip_server {
	char host[INET_ADDRSTRLEN];
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

int sip_request_reply(struct sip_request *rq, int status, const char *reason, const char *extra)
{
	struct sip_worker *w = rq->w;
	struct sip_server *srv = w->srv;
	struct sip_reply_opts o = {.src_addr = rq->src.sin_addr.s_addr,
	                           .src_port = ntohs(rq->src.sin_port),
	                           .server = srv->server_hdr,
	                           .extra = extra,
	                           .tag_salt = srv->tag_salt};
	char ip[INET_ADDRSTRLEN], what[160];
	inet_ntop(AF_INET, &rq->src.sin_addr, ip, sizeof(ip));
	int n = sip_reply_build(rq->msg, status, reason, &o, w->reply_buf, sizeof(w->reply_buf));
	if (n < 0) {
		count(&w->stats.send_errors);
		snprintf(what, sizeof(what), "answer %d to %s:%u not built: %s", status, ip,
		         ntohs(rq->src.sin_port), strerror(-n));
		log_call(LOG_WARN, rq->msg, what);
		return n;
	}
	if (rq->conn) {
		conn_write(rq->conn, w->reply_buf, (size_t)n);
	} else {
		uv_buf_t b = uv_buf_init(w->reply_buf, (unsigned)n);
		int rc = uv_udp_try_send(&w->udp, &b, 1, (const struct sockaddr *)&rq->src);
		if (rc < 0) {
			count(&w->stats.send_errors);
			snprintf(what, sizeof(what), "send of %d to %s:%u failed: %s", status, ip,
			         ntohs(rq->src.sin_port), uv_strerror(rc));
			log_call(LOG_WARN, rq->msg, what);
			return rc == UV_EAGAIN ? -EAGAIN : rc;
		}
	}
	count(&w->stats.responses[status / 100 - 1]);
	LOGD("sip", "%d to %s:%u%s", status, ip, ntohs(rq->src.sin_port), rq->conn ? " (TCP)" : "");
	return 0;
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

/* A well-formed request: the stateless answers and the method hooks. */
static void handle_request(struct sip_request *rq)
{
	struct sip_server *srv = rq->w->srv;
	const struct sip_msg *m = rq->msg;
	enum sip_method meth = m->method_id;

	if (meth == SIP_METHOD_ACK)
		return; /* never answered; the ACK of a stateless non-2xx answer ends here */
	if (m->ruri.scheme == SIP_URI_OTHER) {
		sip_request_reply(rq, 416, NULL, NULL);
		return;
	}
	bool ours = uri_is_ours(srv, &m->ruri);
	/* A request that would be relayed with no hops left (RFC 3261 16.3);
	 * OPTIONS to koryod itself is answered (ibid., item 2). */
	if (m->max_forwards == 0 && !(ours && meth == SIP_METHOD_OPTIONS)) {
		sip_request_reply(rq, 483, NULL, NULL);
		return;
	}
	if (!ours) {
		/* Never forwarded: koryod sends nowhere a message names. */
		sip_request_reply(rq, 403, "No Trunk Configured", NULL);
		return;
	}
	if (meth != SIP_METHOD_CANCEL && check_require(rq))
		return;
	if (srv->hooks.method[meth]) {
		srv->hooks.method[meth](srv->hooks.ctx, rq);
		return;
	}
	switch (meth) {
	case SIP_METHOD_OPTIONS:
		sip_request_reply(rq, 200, NULL, srv->options_extra);
		break;
	case SIP_METHOD_CANCEL:
		/* Stateless: there is no transaction it could cancel (RFC 3261 9.2). */
		sip_request_reply(rq, 481, NULL, NULL);
		break;
	default:
		sip_request_reply(rq, 501, NULL, NULL);
		break;
	}
}

/* One message from UDP (a datagram) or TCP (a framed message). */
static void handle_message(struct sip_worker *w, const char *data, size_t len,
                           enum sip_transport_kind kind, const struct sockaddr_in *src,
                           struct sip_conn *conn)
{
	struct sip_msg *m = &w->msg;
	struct sip_request rq = {
	    .msg = m, .src = *src, .reliable = conn != NULL, .w = w, .conn = conn};
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
		/* koryod sends no requests yet: any response is a stray one. */
		count(&w->stats.stray_responses);
		return;
	}
	count(&w->stats.requests[m->method_id < SIP_SERVER_METHODS ? m->method_id : 0]);
	handle_request(&rq);
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
	build_options_extra(srv);
	/* The To tags' salt: unpredictable enough that tags of different
	 * requests do not collide and cannot be guessed ahead (RFC 3261 19.3). */
	uint64_t salt = (uint64_t)uv_hrtime() ^ ((uint64_t)getpid() << 32) ^ (uintptr_t)srv;
	srv->tag_salt = salt;
	srv->n_workers = opt->workers;
	for (unsigned i = 0; i < opt->workers; i++) {
		srv->workers[i].srv = srv;
		srv->workers[i].id = i;
	}
	*out = srv;
	return 0;
}

int sip_server_worker_start(void *srv_, unsigned worker, uv_loop_t *loop)
{
	struct sip_server *srv = srv_;
	struct sip_worker *w = &srv->workers[worker];
	w->loop = loop;
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
}

void sip_server_destroy(struct sip_server *srv)
{
	if (!srv)
		return;
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
	}
}
