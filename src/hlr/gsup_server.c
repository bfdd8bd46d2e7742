/* GSUP server I/O: listeners, connections, IPA framing and CCM, the peer table,
 * and the mailboxes that carry frames to a connection from other threads. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/net.h"
#include "common/wbuf.h"
#include "hlr/gsup_internal.h"
#include "hlr/registry.h"
#include "policy/policy.h"

/* --- peers ------------------------------------------------------------------ */

/* Registers conn under its name. 0, or -EEXIST if another connection has it. */
static int peer_add(struct gsup_server *srv, struct gsup_conn *conn)
{
	int rc = 0;
	pthread_mutex_lock(&srv->peers_lock);
	for (unsigned i = 0; i < srv->n_peers; i++) {
		if (strcmp(srv->peers[i].name, conn->name) == 0) {
			rc = -EEXIST;
			goto out;
		}
	}
	if (srv->n_peers == srv->cap_peers) {
		unsigned cap = srv->cap_peers ? srv->cap_peers * 2 : 16;
		struct gsup_peer_entry *p = realloc(srv->peers, cap * sizeof(*p));
		if (!p) {
			rc = -ENOMEM;
			goto out;
		}
		srv->peers = p;
		srv->cap_peers = cap;
	}
	struct gsup_peer_entry *e = &srv->peers[srv->n_peers++];
	snprintf(e->name, sizeof(e->name), "%s", conn->name);
	e->worker = conn->w->id;
	e->conn_id = conn->id;
out:
	pthread_mutex_unlock(&srv->peers_lock);
	return rc;
}

static void peer_remove(struct gsup_server *srv, struct gsup_conn *conn)
{
	pthread_mutex_lock(&srv->peers_lock);
	for (unsigned i = 0; i < srv->n_peers; i++) {
		if (srv->peers[i].conn_id == conn->id) {
			srv->peers[i] = srv->peers[--srv->n_peers];
			break;
		}
	}
	pthread_mutex_unlock(&srv->peers_lock);
}

/* --- writing ---------------------------------------------------------------- */

/* Queues data for conn; it leaves in the worker's next check phase. */
static void conn_write_raw(struct gsup_conn *conn, const uint8_t *data, size_t len)
{
	if (conn->closing)
		return;
	if (wbuf_append(&conn->out, data, len) != 0) {
		LOGE("gsup", "peer '%s': out of memory; frame dropped", conn->name);
		return;
	}
	if (!conn->dirty) {
		conn->dirty = true;
		conn->next_dirty = conn->w->dirty;
		conn->w->dirty = conn;
	}
}

/* The check phase: after a loop iteration's I/O, one write per connection. */
static void on_flush(uv_check_t *h)
{
	struct gsup_worker *w = h->data;
	struct gsup_conn *c = w->dirty;
	w->dirty = NULL;
	while (c) {
		struct gsup_conn *next = c->next_dirty;
		c->dirty = false;
		c->next_dirty = NULL;
		struct wbuf *b = c->out;
		c->out = NULL;
		if (b && !c->closing)
			wbuf_write(b, (uv_stream_t *)&c->tcp);
		else
			free(b);
		c = next;
	}
}

/* Builds the IPA frame of a GSUP message into out (IPA_MAX_FRAME). Returns the
 * frame length, or a negative errno (logged: a message koryod cannot encode is
 * its own bug, not the peer's). */
static int gsup_frame(const struct gsup_msg *m, uint8_t *out)
{
	int n = gsup_encode(m, out + 4, IPA_MAX_FRAME - 4);
	int h = n < 0 ? n : ipa_header_write(out, IPA_PROTO_OSMO, IPA_EXT_GSUP, (size_t)n);
	if (h < 0) {
		LOGE("gsup", "IMSI='%s': cannot encode %s: %s", m->imsi, gsup_type_name(m->type),
		     strerror(-h));
		return h;
	}
	return h + n;
}

int gsup_conn_send(struct gsup_conn *conn, const struct gsup_msg *m)
{
	uint8_t frame[IPA_MAX_FRAME];
	int n = gsup_frame(m, frame);
	if (n < 0)
		return n;
	LOGD("gsup", "IMSI='%s': %s to '%s'", m->imsi, gsup_type_name(m->type), conn->name);
	conn_write_raw(conn, frame, (size_t)n);
	return 0;
}

void gsup_conn_send_error(struct gsup_conn *conn, const struct gsup_msg *req, uint8_t cause)
{
	struct gsup_msg err;
	gsup_make_response(req, GSUP_TO_ERROR(req->type), &err);
	err.has_cause = true;
	err.cause = cause;
	if (gsup_sms_is_sms_type(req->type)) {
		/* osmo-msc takes an SMS error without SM-RP-Cause as malformed
		 * and has nothing to put into the RP-ERROR for the phone. */
		err.has_sm_rp_cause = true;
		err.sm_rp_cause = gsup_sms_rp_cause_of(cause);
	}
	atomic_fetch_add(&conn->w->srv->errors_sent, 1);
	LOGI("gsup", "IMSI='%s': %s from '%s' refused, cause 0x%02x", req->imsi,
	     gsup_type_name(req->type), conn->name, cause);
	gsup_conn_send(conn, &err);
}

/* --- mailboxes -------------------------------------------------------------- */

struct gsup_conn *gsup_conn_find(struct gsup_worker *w, uint32_t id)
{
	for (struct gsup_conn *c = w->conns; c; c = c->next) {
		if (c->id == id)
			return c;
	}
	return NULL;
}

/* A frame posted for one of this worker's connections: written (corked: a
 * drain's frames for one connection leave in one write), or dropped if the
 * connection has gone. */
static void deliver_frame(void *arg, void *owner)
{
	struct gsup_post *p = arg;
	struct gsup_conn *c = gsup_conn_find(owner, p->conn_id);
	if (c)
		conn_write_raw(c, p->data, p->len);
	free(p);
}

/* Queues a frame for connection conn_id of a worker and wakes that worker. */
static int post_frame(struct gsup_server *srv, unsigned worker, uint32_t conn_id,
                      const uint8_t *frame, size_t n)
{
	struct gsup_worker *w = &srv->workers[worker];
	struct gsup_post *p = malloc(sizeof(*p) + n);
	if (!p)
		return -ENOMEM;
	p->conn_id = conn_id;
	p->len = n;
	memcpy(p->data, frame, n);
	int rc = mailbox_post(&w->mailbox, deliver_frame, p);
	if (rc != 0) {
		free(p);
		return rc;
	}
	return 0;
}

void gsup_reply_to_init(struct gsup_reply_to *to, struct gsup_conn *conn,
                        const struct gsup_msg *req)
{
	memset(to, 0, sizeof(*to));
	to->srv = conn->w->srv;
	to->worker = conn->w->id;
	to->conn_id = conn->id;
	snprintf(to->imsi, sizeof(to->imsi), "%s", req->imsi);
	to->has_msg_class = req->has_msg_class;
	to->msg_class = req->msg_class;
	to->has_session = req->has_session;
	to->session_id = req->session_id;
	if (req->source_name && req->source_name_len <= sizeof(to->dest_name)) {
		memcpy(to->dest_name, req->source_name, req->source_name_len);
		to->dest_name_len = req->source_name_len;
	}
}

void gsup_reply_to_msg(const struct gsup_reply_to *to, uint8_t type, struct gsup_msg *out)
{
	memset(out, 0, sizeof(*out));
	out->type = type;
	snprintf(out->imsi, sizeof(out->imsi), "%s", to->imsi);
	out->has_msg_class = to->has_msg_class;
	out->msg_class = to->msg_class;
	if (to->has_session) {
		out->has_session = true;
		out->session_id = to->session_id;
		out->session_state = 3; /* END */
	}
	if (to->dest_name_len) {
		out->destination_name = to->dest_name;
		out->destination_name_len = to->dest_name_len;
	}
}

int gsup_reply_post(const struct gsup_reply_to *to, const struct gsup_msg *m)
{
	uint8_t frame[IPA_MAX_FRAME];
	int n = gsup_frame(m, frame);
	if (n < 0)
		return n;
	if ((m->type & 3) == 1) /* an error answer */
		atomic_fetch_add(&to->srv->errors_sent, 1);
	return post_frame(to->srv, to->worker, to->conn_id, frame, (size_t)n);
}

int gsup_peer_lookup(struct gsup_server *srv, const char *name, unsigned *worker, uint32_t *conn_id)
{
	int rc = -ENOENT;
	pthread_mutex_lock(&srv->peers_lock);
	for (unsigned i = 0; i < srv->n_peers; i++) {
		if (strcmp(srv->peers[i].name, name) == 0) {
			*worker = srv->peers[i].worker;
			*conn_id = srv->peers[i].conn_id;
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&srv->peers_lock);
	return rc;
}

int gsup_send_to_peer(struct gsup_server *srv, const char *name, const struct gsup_msg *m)
{
	uint8_t frame[IPA_MAX_FRAME];
	int n = gsup_frame(m, frame);
	if (n < 0)
		return n;

	unsigned worker = 0;
	uint32_t conn_id = 0;
	if (gsup_peer_lookup(srv, name, &worker, &conn_id) != 0)
		return -ENOENT;
	int rc = post_frame(srv, worker, conn_id, frame, (size_t)n);
	if (rc == 0)
		LOGI("gsup", "IMSI='%s': %s to '%s'", m->imsi, gsup_type_name(m->type), name);
	return rc;
}

/* --- connections ------------------------------------------------------------ */

static void on_conn_closed(uv_handle_t *h)
{
	struct gsup_conn *conn = h->data;
	/* Still corked output of a closed connection is dropped. The flush, which
	 * runs before close callbacks, has unlinked it from the dirty list. */
	free(conn->out);
	free(conn);
}

static void conn_close(struct gsup_conn *conn, const char *why)
{
	if (conn->closing)
		return;
	conn->closing = true;
	struct gsup_worker *w = conn->w;
	if (conn->name[0]) {
		peer_remove(w->srv, conn);
		LOGN("gsup", "GSUP peer '%s' disconnected (%s)", conn->name, why);
	} else {
		LOGI("gsup", "GSUP connection closed before identification (%s)", why);
	}
	for (struct gsup_conn **pp = &w->conns; *pp; pp = &(*pp)->next) {
		if (*pp == conn) {
			*pp = conn->next;
			break;
		}
	}
	gsup_lu_cancel_all(conn);
	gsup_sms_conn_closed(conn);
	atomic_fetch_sub(&w->srv->n_conns, 1);
	uv_close((uv_handle_t *)&conn->tcp, on_conn_closed);
}

static void handle_ccm(struct gsup_conn *conn, const struct ipa_frame *f)
{
	uint8_t out[8];
	if (f->payload_len < 1)
		return;
	switch (f->payload[0]) {
	case IPA_CCM_PING:
		conn_write_raw(conn, out, ipa_ccm_simple(out, IPA_CCM_PONG));
		break;
	case IPA_CCM_ID_ACK:
		conn_write_raw(conn, out, ipa_ccm_simple(out, IPA_CCM_ID_ACK));
		break;
	case IPA_CCM_ID_RESP: {
		struct ipa_id_resp id;
		if (conn->name[0])
			return; /* identified already; a repeat changes nothing */
		if (ipa_ccm_id_resp_parse(f->payload, f->payload_len, &id) != 0 || !id.has_serno ||
		    !id.serno[0]) {
			conn_close(conn, "ID_RESP without a serial number");
			return;
		}
		snprintf(conn->name, sizeof(conn->name), "%s", id.serno);
		if (peer_add(conn->w->srv, conn) != 0) {
			LOGW("gsup", "GSUP peer '%s' is already connected; refusing a second one",
			     id.serno);
			conn->name[0] = '\0';
			conn_close(conn, "duplicate name");
			return;
		}
		if (hlr_registry_peer_ind(conn->w->srv->reg, conn->name, &conn->ind) != 0)
			conn->ind = 0;
		LOGN("gsup", "GSUP peer '%s' connected (unit '%s', IND %u)", conn->name,
		     id.unit_name, conn->ind);
		break;
	}
	default:
		break; /* PONG, ID_GET, NACK: nothing to do */
	}
}

static void handle_frame(struct gsup_conn *conn, const struct ipa_frame *f)
{
	struct gsup_server *srv = conn->w->srv;
	if (f->proto == IPA_PROTO_CCM) {
		handle_ccm(conn, f);
		return;
	}
	if (f->proto != IPA_PROTO_OSMO) {
		/* Not a stream a GSUP client speaks: this is not a GSUP client. */
		atomic_fetch_add(&srv->frames_bad, 1);
		conn_close(conn, "unknown IPA stream");
		return;
	}
	if (f->ext != IPA_EXT_GSUP) {
		/* OAP and other Osmocom extensions: accepted and ignored, as osmo-hlr. */
		LOGI("gsup", "peer '%s': frame of stream 0x%02x/0x%02x ignored", conn->name,
		     f->proto, f->ext);
		return;
	}
	struct gsup_msg m;
	uint8_t cause = 0;
	memset(&m, 0, sizeof(m));
	int rc = gsup_decode(f->payload, f->payload_len, &m, &cause);
	if (rc != 0) {
		atomic_fetch_add(&srv->frames_bad, 1);
		if (m.imsi[0] && GSUP_IS_REQUEST(m.type))
			gsup_conn_send_error(conn, &m, cause ? cause : GSUP_CAUSE_INV_MAND_INFO);
		else if (m.imsi[0])
			LOGI("gsup", "peer '%s': undecodable %s dropped", conn->name,
			     gsup_type_name(m.type));
		else
			/* Without an IMSI no answer can be addressed: the peer is broken. */
			conn_close(conn, "GSUP message without a readable IMSI");
		return;
	}
	atomic_fetch_add(&srv->requests[(m.type >> 2) & 63], 1);
	if (!conn->name[0]) {
		/* Nothing can be routed back to a peer without a name (as osmo-hlr). */
		if (GSUP_IS_REQUEST(m.type))
			gsup_conn_send_error(conn, &m, GSUP_CAUSE_NET_FAIL);
		return;
	}
	gsup_handle(conn, &m);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct gsup_conn *conn = h->data;
	(void)suggested;
	buf->base = (char *)conn->rbuf + conn->rlen;
	buf->len = sizeof(conn->rbuf) - conn->rlen;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct gsup_conn *conn = s->data;
	(void)buf;
	if (n < 0) {
		conn_close(conn, n == UV_EOF ? "closed by peer" : uv_strerror((int)n));
		return;
	}
	conn->rlen += (size_t)n;
	size_t off = 0;
	while (!conn->closing) {
		struct ipa_frame f;
		int rc = ipa_frame_parse(conn->rbuf + off, conn->rlen - off, &f);
		if (rc == 0)
			break;
		if (rc < 0) {
			atomic_fetch_add(&conn->w->srv->frames_bad, 1);
			conn_close(conn, "bad IPA frame");
			return;
		}
		handle_frame(conn, &f);
		off += f.frame_len;
	}
	if (conn->closing)
		return;
	memmove(conn->rbuf, conn->rbuf + off, conn->rlen - off);
	conn->rlen -= off;
}

static void on_connection(uv_stream_t *listener, int status)
{
	struct gsup_worker *w = listener->data;
	if (status < 0)
		return;
	struct gsup_conn *conn = calloc(1, sizeof(*conn));
	if (!conn)
		return;
	uv_tcp_init(w->loop, &conn->tcp);
	conn->tcp.data = conn;
	conn->w = w;
	if (uv_accept(listener, (uv_stream_t *)&conn->tcp) != 0) {
		uv_close((uv_handle_t *)&conn->tcp, on_conn_closed);
		return;
	}
	conn->id = atomic_fetch_add(&w->srv->next_conn_id, 1);
	conn->next = w->conns;
	w->conns = conn;
	atomic_fetch_add(&w->srv->n_conns, 1);
	uv_tcp_nodelay(&conn->tcp, 1);
	uint8_t idget[32];
	conn_write_raw(conn, idget, ipa_ccm_id_get(idget));
	uv_read_start((uv_stream_t *)&conn->tcp, on_alloc, on_read);
}

/* --- lifecycle -------------------------------------------------------------- */

int gsup_server_create(const struct gsup_server_options *opt, struct hlr_registry *reg,
                       struct gsup_server **out)
{
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(opt->port)};
	if (inet_pton(AF_INET, opt->host, &addr.sin_addr) != 1)
		return -EINVAL;
	int rc = net_address_free(&addr, SOCK_STREAM);
	if (rc != 0) {
		LOGE("gsup", "cannot listen on %s:%u: %s", opt->host, opt->port, strerror(-rc));
		return rc;
	}
	struct gsup_server *srv = calloc(1, sizeof(*srv));
	if (!srv || !(srv->workers = calloc(opt->workers, sizeof(*srv->workers)))) {
		free(srv);
		return -ENOMEM;
	}
	srv->reg = reg;
	srv->addr = addr;
	snprintf(srv->host, sizeof(srv->host), "%s", opt->host);
	srv->port = opt->port;
	srv->isd_timeout_s = opt->isd_timeout_s;
	srv->policy = opt->policy;
	srv->n_workers = opt->workers;
	srv->next_conn_id = 1;
	pthread_mutex_init(&srv->peers_lock, NULL);
	for (unsigned i = 0; i < opt->workers; i++) {
		srv->workers[i].srv = srv;
		srv->workers[i].id = i;
		mailbox_init(&srv->workers[i].mailbox, &srv->workers[i]);
	}
	/* Before the policy's and the registry's notifications: nothing to undo
	 * if it fails. */
	rc = gsup_sms_init(srv, opt);
	if (rc != 0) {
		for (unsigned i = 0; i < opt->workers; i++)
			mailbox_destroy(&srv->workers[i].mailbox);
		pthread_mutex_destroy(&srv->peers_lock);
		free(srv->workers);
		free(srv);
		return rc;
	}
	if (srv->policy && policy_subscribe(srv->policy, gsup_push_on_policy, srv) != 0)
		LOGW("gsup", "cannot follow policy changes: APN switches reach attached "
		             "subscribers only at their next attach");
	hlr_registry_on_change(reg, gsup_push_on_change, srv);
	*out = srv;
	return 0;
}

int gsup_server_worker_start(void *srv_, unsigned worker, uv_loop_t *loop)
{
	struct gsup_server *srv = srv_;
	struct gsup_worker *w = &srv->workers[worker];
	w->loop = loop;
	if (mailbox_start(&w->mailbox, loop) != 0)
		return -EIO;
	uv_check_init(loop, &w->flush);
	w->flush.data = w;
	uv_check_start(&w->flush, on_flush);
	w->flush_open = true;

	int fd = net_reuseport_socket(&srv->addr, SOCK_STREAM);
	if (fd < 0) {
		LOGE("gsup", "cannot listen on %s:%u: %s", srv->host, srv->port, strerror(-fd));
		return fd;
	}
	uv_tcp_init(loop, &w->listener);
	w->listener.data = w;
	w->listening = true;
	if (uv_tcp_open(&w->listener, fd) != 0 ||
	    uv_listen((uv_stream_t *)&w->listener, 128, on_connection) != 0) {
		LOGE("gsup", "cannot listen on %s:%u", srv->host, srv->port);
		return -EIO;
	}
	if (worker == 0)
		LOGN("gsup", "GSUP listening on %s:%u", srv->host, srv->port);
	return 0;
}

void gsup_server_worker_stop(void *srv_, unsigned worker)
{
	struct gsup_server *srv = srv_;
	struct gsup_worker *w = &srv->workers[worker];
	if (w->listening)
		uv_close((uv_handle_t *)&w->listener, NULL);
	while (w->conns)
		conn_close(w->conns, "koryod stopping");
	if (w->flush_open) {
		on_flush(&w->flush); /* unlinks the closed connections from the dirty list */
		uv_close((uv_handle_t *)&w->flush, NULL);
	}
	if (w->loop)
		mailbox_stop(&w->mailbox); /* frames for the closed connections are dropped */
}

void gsup_server_destroy(struct gsup_server *srv)
{
	if (!srv)
		return;
	hlr_registry_on_change(srv->reg, NULL, NULL);
	for (unsigned i = 0; i < srv->n_workers; i++)
		mailbox_destroy(&srv->workers[i].mailbox);
	pthread_mutex_destroy(&srv->peers_lock);
	free(srv->peers);
	free(srv->workers);
	free(srv);
}

void gsup_server_get_stats(struct gsup_server *srv, struct gsup_server_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->connections = atomic_load(&srv->n_conns);
	pthread_mutex_lock(&srv->peers_lock);
	out->peers = srv->n_peers;
	pthread_mutex_unlock(&srv->peers_lock);
	for (unsigned i = 0; i < 64; i++)
		out->requests[i] = atomic_load(&srv->requests[i]);
	out->errors_sent = atomic_load(&srv->errors_sent);
	out->frames_bad = atomic_load(&srv->frames_bad);
	out->sms_mo = atomic_load(&srv->sms_mo);
	out->sms_mt_sent = atomic_load(&srv->sms_mt_sent);
	out->sms_mt_in_flight = atomic_load(&srv->sms_mt_in_flight);
}
