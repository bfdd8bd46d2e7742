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

/* One SMS delivery attempt on its way to an MSC (gsup_sms.c): its TPDUs,
 * sent one MT-Forward-SM at a time, on the worker that owns the MSC's
 * connection. Owned by that worker's list from the mailbox hand-over until
 * the attempt ends (smsc_delivery_done) and its timer has closed. */
struct gsup_mt {
	struct gsup_mt *next;
	struct gsup_worker *w;
	uint32_t conn_id;
	int64_t id; /* with attempt, the centre's token */
	uint32_t attempt;
	char imsi[16];
	bool more;        /* more messages wait for the recipient after this one */
	bool outstanding; /* a request is out and unanswered */
	bool ended;
	uint8_t mr;      /* SM-RP-MR of the request out */
	size_t next_seg; /* the segment to send next */
	size_t n;        /* segments */
	uv_timer_t timer;
	size_t *off, *len; /* each segment's octets in pdu */
	uint8_t *pdu;
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
	struct gsup_mt *mts;    /* SMS deliveries to its connections, oldest first */
	uint8_t next_mr;        /* SM-RP-MR of its next MT-Forward-SM */
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

	/* SMS over GSUP (gsup_sms.c); smsc NULL: refused. */
	struct smsc *smsc;
	uint8_t smsc_oa[16]; /* SM-RP-OA of every MT-Forward-SM */
	size_t smsc_oa_len;
	unsigned sms_timeout_s;
	_Atomic uint64_t sms_mo, sms_mt_sent, sms_mt_in_flight;

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
/* The connection conn_id of worker w (its thread only), or NULL if gone. */
struct gsup_conn *gsup_conn_find(struct gsup_worker *w, uint32_t conn_id);
/* Where the peer called name is connected (any thread). 0 or -ENOENT. */
int gsup_peer_lookup(struct gsup_server *srv, const char *name, unsigned *worker,
                     uint32_t *conn_id);
/* Answers req on conn with an error of the matching type and this cause
 * (for an SMS procedure also with the matching SM-RP-Cause). */
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

/* gsup_sms.c */
/* Sets up SMS over GSUP from the options: the SMSC address and the delivery
 * channel registered with the centre. 0, -EINVAL (an unusable address),
 * -ENOSPC (the centre has no room for another channel). */
int gsup_sms_init(struct gsup_server *srv, const struct gsup_server_options *opt);
/* MO-Forward-SM and ReadyForSM requests; MT-Forward-SM results and errors. */
void gsup_sms_rx_mo_forward(struct gsup_conn *conn, const struct gsup_msg *m);
void gsup_sms_rx_ready(struct gsup_conn *conn, const struct gsup_msg *m);
void gsup_sms_rx_mt_answer(struct gsup_conn *conn, const struct gsup_msg *m);
/* conn is closing: its deliveries end as "try later". */
void gsup_sms_conn_closed(struct gsup_conn *conn);
/* The SM-RP-Cause an SMS error answer carries along with the GSUP cause
 * (osmo-msc treats an SMS error without one as malformed). */
uint8_t gsup_sms_rp_cause_of(uint8_t gsup_cause);
/* MO-/MT-Forward-SM and ReadyForSM, of any category. */
bool gsup_sms_is_sms_type(uint8_t type);
/* A CS attach (or ReadyForSM): what waits for the subscriber is tried now. */
void gsup_sms_recipient_ready(struct gsup_server *srv, const char *imsi);

/* gsup_push.c */
/* The registry's change notification: tells the serving nodes. */
/* A policy change: new subscriber data to the attached subscribers it affects. */
struct policy_change;
void gsup_push_on_policy(void *srv, const struct policy_change *chg);
void gsup_push_on_change(void *srv, const struct hlr_subscr *before,
                         const struct hlr_subscr *after);
