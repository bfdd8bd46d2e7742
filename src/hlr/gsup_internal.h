#pragma once
/* Shared by the GSUP server's files: server (I/O), handler (procedures), push. */

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <uv.h>

#include "common/mailbox.h"
#include "common/wbuf.h"

#include "hlr/gsup.h"
#include "hlr/gsup_server.h"
#include "hlr/ipa.h"

struct gsup_conn;

/* Where and how to answer a request later, possibly from another thread: the
 * connection by (worker, id), never by pointer, and what the answer must echo. */
struct gsup_reply_to {
	struct gsup_server *srv;
	unsigned worker;
	uint32_t conn_id;
	char imsi[16];
	bool has_msg_class;
	uint8_t msg_class;
	bool has_session;
	uint32_t session_id;
	uint8_t dest_name[64]; /* the request's Source Name, answered as Destination Name */
	size_t dest_name_len;
};

/* An UpdateLocation waiting for the InsertSubscriberData answer. */
struct gsup_lu {
	struct gsup_lu *next;
	struct gsup_conn *conn;
	uv_timer_t timer;
	uint8_t cn_domain;
	struct gsup_reply_to to;
};

struct gsup_conn {
	uv_tcp_t tcp;
	struct gsup_worker *w;
	struct gsup_conn *next;
	uint32_t id;
	char name[64]; /* the peer's IPA name (serial number); "" until ID_RESP */
	unsigned ind;  /* its SQN IND slot */
	bool closing;
	struct gsup_lu *lus;
	/* Output corked until the worker's check phase: the answers to everything
	 * one read brought in leave in one write. */
	struct wbuf *out;
	bool dirty;
	struct gsup_conn *next_dirty;
	size_t rlen;
	uint8_t rbuf[2 * IPA_MAX_FRAME];
};

/* A frame for a connection, posted from another thread. */
struct gsup_post {
	uint32_t conn_id;
	size_t len;
	uint8_t data[];
};

struct gsup_worker {
	struct gsup_server *srv;
	unsigned id;
	uv_loop_t *loop;
	uv_tcp_t listener;
	bool listening;
	uv_check_t flush;
	bool flush_open;
	struct gsup_conn *dirty;
	struct gsup_conn *conns;
	struct mailbox mailbox; /* frames for its connections from other threads */
};

struct gsup_peer_entry {
	char name[64];
	unsigned worker;
	uint32_t conn_id;
};

struct gsup_server {
	struct hlr_registry *reg;
	struct policy *policy;
	char host[64];
	uint16_t port;
	struct sockaddr_in addr;
	unsigned isd_timeout_s;
	unsigned n_workers;
	struct gsup_worker *workers;
	_Atomic uint32_t next_conn_id;

	pthread_mutex_t peers_lock;
	struct gsup_peer_entry *peers;
	unsigned n_peers, cap_peers;

	_Atomic uint64_t n_conns;
	_Atomic uint64_t requests[64];
	_Atomic uint64_t errors_sent;
	_Atomic uint64_t frames_bad;
};

/* gsup_server.c */
/* Records how to answer req, received on conn. */
void gsup_reply_to_init(struct gsup_reply_to *to, struct gsup_conn *conn,
                        const struct gsup_msg *req);
/* Starts an answer of the given type (zeroing out). */
void gsup_reply_to_msg(const struct gsup_reply_to *to, uint8_t type, struct gsup_msg *out);
/* Sends m on the connection `to` names, from any thread (through the worker's
 * mailbox). 0, or a negative errno (the connection may be gone: then nothing). */
int gsup_reply_post(const struct gsup_reply_to *to, const struct gsup_msg *m);
/* Encodes m and sends it on conn (same thread). 0, or a negative errno (logged). */
int gsup_conn_send(struct gsup_conn *conn, const struct gsup_msg *m);
/* Sends m to the peer called name, on whichever worker owns it (any thread).
 * 0, -ENOENT if no such peer is connected, or an encoding error. */
int gsup_send_to_peer(struct gsup_server *srv, const char *name, const struct gsup_msg *m);
/* Answers req on conn with an error of the matching type and this cause. */
void gsup_conn_send_error(struct gsup_conn *conn, const struct gsup_msg *req, uint8_t cause);

/* gsup_handler.c */
/* Acts on one decoded GSUP message from conn. */
void gsup_handle(struct gsup_conn *conn, struct gsup_msg *m);
/* Fills isd (zeroed by the caller) with the subscriber data for domain d: MSISDN,
 * CN domain, and for PS the class's APNs with "PDP info complete". */
struct hlr_subscr;
void gsup_build_isd(struct gsup_server *srv, const struct hlr_subscr *rec, int domain,
                    struct gsup_msg *isd);
/* Frees conn's pending UpdateLocations (closing their timers). */
void gsup_lu_cancel_all(struct gsup_conn *conn);

/* gsup_push.c */
/* The registry's change notification: tells the serving nodes. */
/* A policy change: new subscriber data to the attached subscribers it affects. */
struct policy_change;
void gsup_push_on_policy(void *srv, const struct policy_change *chg);
void gsup_push_on_change(void *srv, const struct hlr_subscr *before,
                         const struct hlr_subscr *after);
