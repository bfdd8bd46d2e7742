#pragma once
/* SIP transactions (RFC 3261 section 17, with RFC 6026's Accepted state for
 * the server INVITE transaction): four explicit state machines, a table that
 * matches messages to them (17.1.3, 17.2.3), and nothing else.
 *
 * No I/O, no clock, no logging inside. The layer is driven by calls (a
 * message arrived, the TU answers, a timer fired) and acts through the
 * callbacks of struct sip_txn_ops (send these octets to the peer, start or
 * stop a timer, hand a message to the TU, report a failure, a transaction
 * ended). The transport plugs libuv in behind the ops; the tests drive time
 * by hand. docs/sip-transactions.md has the machines, timers and rules.
 *
 * Transactions are named by a generation-checked handle (sip_txn_id): once a
 * transaction has terminated its id is refused (-ENOENT) by every call, even
 * after its slot holds a new transaction, so a timer or a TU that outlives
 * a transaction cannot touch the wrong one.
 *
 * One table per worker thread; a table is not thread-safe. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sip/sip_msg.h"

/* Handle of a transaction: slot index (low 32 bits) and generation (high 32
 * bits, never 0). 0 is never a valid id. */
typedef uint64_t sip_txn_id;

enum sip_txn_kind {
	SIP_TXN_CLIENT_INVITE,
	SIP_TXN_CLIENT_NON_INVITE,
	SIP_TXN_SERVER_INVITE,
	SIP_TXN_SERVER_NON_INVITE,
};

enum sip_txn_state {
	SIP_TXN_CALLING,    /* client INVITE */
	SIP_TXN_TRYING,     /* client and server non-INVITE */
	SIP_TXN_PROCEEDING, /* all four */
	SIP_TXN_COMPLETED,  /* all four */
	SIP_TXN_CONFIRMED,  /* server INVITE, after the ACK of a 300-699 */
	SIP_TXN_ACCEPTED,   /* server INVITE, after a 2xx (RFC 6026) */
	SIP_TXN_TERMINATED, /* only seen from inside the terminated callback */
};

/* The timers of RFC 3261 table 4 (and L of RFC 6026), plus the 100 Trying
 * delay of a server INVITE transaction (when configured). */
enum sip_txn_timer {
	SIP_TXN_TIMER_A,      /* client INVITE request retransmission (unreliable) */
	SIP_TXN_TIMER_B,      /* client INVITE timeout */
	SIP_TXN_TIMER_D,      /* client INVITE: wait for response retransmissions */
	SIP_TXN_TIMER_E,      /* client non-INVITE request retransmission (unreliable) */
	SIP_TXN_TIMER_F,      /* client non-INVITE timeout */
	SIP_TXN_TIMER_K,      /* client non-INVITE: wait for response retransmissions */
	SIP_TXN_TIMER_G,      /* server INVITE final response retransmission (unreliable) */
	SIP_TXN_TIMER_H,      /* server INVITE: wait for the ACK */
	SIP_TXN_TIMER_I,      /* server INVITE: absorb ACK retransmissions */
	SIP_TXN_TIMER_J,      /* server non-INVITE: absorb request retransmissions */
	SIP_TXN_TIMER_L,      /* server INVITE: absorb INVITE retransmissions after a 2xx */
	SIP_TXN_TIMER_TRYING, /* server INVITE: send 100 Trying if the TU is silent */
	SIP_TXN_TIMER__COUNT,
};

/* What the recv functions did with a message (negative errno on failure). */
enum sip_txn_outcome {
	SIP_TXN_PASSED = 0,   /* handed to the TU (new server transaction, response, ACK) */
	SIP_TXN_ABSORBED = 1, /* a retransmission (or the ACK of a non-2xx) handled here */
	SIP_TXN_NO_MATCH = 2, /* no transaction matches: the caller decides (ACK of a 2xx,
	                         stray or retransmitted 2xx response) */
};

/* Where a transaction's messages go. Opaque to this layer except reliable:
 * the transport fills it when it hands a request in (or when the TU creates
 * a client transaction) and gets it back, copied, in every send. */
struct sip_txn_peer {
	bool reliable;    /* TCP/TLS/SCTP: no retransmissions, D, I, J, K are 0 */
	uint64_t conn;    /* the transport's connection or socket handle */
	uint8_t addr_len; /* octets used in addr */
	uint8_t addr[28]; /* a struct sockaddr_in / sockaddr_in6, as the transport wrote it */
};

struct sip_txn_config {
	uint32_t t1_ms;      /* RTT estimate; 500 */
	uint32_t t2_ms;      /* cap of non-INVITE and G retransmission intervals; 4000 */
	uint32_t t4_ms;      /* how long a message stays in the network; 5000 */
	uint32_t timer_d_ms; /* timer D on unreliable transports; 32000 (RFC: > 32 s) */
	/* 100 Trying for a server INVITE: 0 sends it as the INVITE arrives
	 * (default); otherwise it is sent this long after, if the TU has sent
	 * no response by then (RFC 3261 17.2.1: within 200 ms). */
	uint32_t trying_ms;
	uint32_t max_txns; /* table capacity; 32768. Over it creation fails with -ENOSPC */
};

/* Callbacks. user is the pointer given to sip_txn_table_new(). send,
 * timer_start and timer_stop must not call into the table; the tu_* and
 * terminated callbacks may (answer a request at once, create or look up
 * other transactions). Any of them may be NULL except send, timer_start and
 * timer_stop. */
struct sip_txn_ops {
	/* Sends len octets to the transaction's peer. Returns 0, or a negative
	 * errno: the transaction then fails (tu_transport_error, terminated). */
	int (*send)(void *user, sip_txn_id id, const struct sip_txn_peer *peer, const char *buf,
	            size_t len);
	/* Arms (or re-arms, replacing) timer of transaction id to fire once in
	 * ms milliseconds, by calling sip_txn_timer_fired(). ms is never 0. */
	void (*timer_start)(void *user, sip_txn_id id, enum sip_txn_timer timer, uint32_t ms);
	/* Disarms it. A timer that fires anyway after this is ignored. */
	void (*timer_stop)(void *user, sip_txn_id id, enum sip_txn_timer timer);
	/* A request for the TU: a new server transaction (id), or an ACK that
	 * matched a server INVITE transaction in Accepted. req is valid only
	 * during the call (it is the caller's message). */
	void (*tu_request)(void *user, sip_txn_id id, const struct sip_msg *req);
	/* A response of client transaction id for the TU (valid during the call). */
	void (*tu_response)(void *user, sip_txn_id id, const struct sip_msg *resp);
	/* Timer B, F or H fired: the transaction failed with a timeout
	 * (a client TU acts as if it had received a 408). */
	void (*tu_timeout)(void *user, sip_txn_id id, enum sip_txn_timer timer);
	/* A send failed with err (negative errno): the transaction failed. */
	void (*tu_transport_error)(void *user, sip_txn_id id, int err);
	/* Transaction id has reached Terminated; once this returns the id is
	 * stale. Called exactly once per transaction that was created. */
	void (*terminated)(void *user, sip_txn_id id);
};

struct sip_txn_table;

/* Fills *cfg with the defaults above. */
void sip_txn_config_init(struct sip_txn_config *cfg);

/* Creates a table. Returns 0 and *out (owned by the caller, freed with
 * sip_txn_table_free()), -EINVAL for a bad config (T1 0, T2 < T1, T4 0,
 * max_txns 0 or over 2^24) or missing ops, -ENOMEM. ops and user are kept
 * by pointer and must outlive the table. */
int sip_txn_table_new(struct sip_txn_table **out, const struct sip_txn_config *cfg,
                      const struct sip_txn_ops *ops, void *user);

/* Frees the table and every transaction in it without calling any callback
 * (armed timers are the caller's to drop). NULL is fine. */
void sip_txn_table_free(struct sip_txn_table *tab);

/* Transactions alive, and the capacity (for /metrics). */
uint32_t sip_txn_count(const struct sip_txn_table *tab);
uint32_t sip_txn_capacity(const struct sip_txn_table *tab);

/* ---- client side ---- */

/* Creates a client transaction for the request in buf (len octets, a
 * complete message the TU built; copied) and sends it to peer. The top Via
 * must carry a branch that starts with the magic cookie z9hG4bK; INVITE
 * makes a client INVITE transaction, any other method but ACK a non-INVITE
 * one. Returns 0 and *id; -EINVAL if buf is not a parseable request, is an
 * ACK, or has no RFC 3261 branch; -EEXIST if a client transaction with the
 * same branch and method exists; -ENOSPC when the table is full; -ENOMEM;
 * -EMSGSIZE if the branch is absurdly long; or the error of the first send.
 * On any error nothing was created and no callback was called. */
int sip_txn_client_new(struct sip_txn_table *tab, const char *buf, size_t len,
                       const struct sip_txn_peer *peer, sip_txn_id *id);

/* A response arrived. Matches it (top Via branch and CSeq method) to a
 * client transaction and runs its machine. Returns SIP_TXN_PASSED (given to
 * the TU with tu_response), SIP_TXN_ABSORBED (a retransmission, answered
 * with the ACK again where one is due), SIP_TXN_NO_MATCH (no transaction:
 * a 2xx retransmission after the client INVITE transaction ended goes to
 * the TU or proxy core this way), or -EINVAL if m is not a response. */
int sip_txn_client_recv_response(struct sip_txn_table *tab, const struct sip_msg *m);

/* Builds the CANCEL of client INVITE transaction id (RFC 3261 9.1: the
 * Request-URI, top Via, From, To, Call-ID, CSeq number and Route of the
 * INVITE) into out. Returns its length, -ENOENT for a stale id or one that
 * is not a client INVITE transaction, -ENOSPC if cap is too small. Send it
 * with sip_txn_client_new() (a CANCEL is its own transaction). */
int sip_txn_client_cancel_build(struct sip_txn_table *tab, sip_txn_id id, char *out, size_t cap);

/* ---- server side ---- */

/* A request arrived from peer. A retransmission of a request a server
 * transaction holds is absorbed there (the last response is sent again) and
 * not given to the TU again; an ACK is absorbed by the INVITE transaction it
 * acknowledges. Otherwise a new server transaction is created (an INVITE
 * transaction sends 100 Trying, see trying_ms) and the request is given to
 * the TU with tu_request. Returns SIP_TXN_PASSED with *id (id may be NULL),
 * SIP_TXN_ABSORBED, SIP_TXN_NO_MATCH for an ACK matching nothing (the ACK
 * of a 2xx: the caller routes it), or -EINVAL (m is not a request),
 * -ENOSPC (the table is full: answer 503 statelessly), -ENOMEM, -EMSGSIZE
 * (matching key too long: answer 400), or the error of the 100 Trying's
 * send (nothing created). */
int sip_txn_server_recv_request(struct sip_txn_table *tab, const struct sip_msg *m,
                                const struct sip_txn_peer *peer, sip_txn_id *id);

/* The TU answers server transaction id with the response in buf (len
 * octets, a complete message; copied as the one to retransmit) and it is
 * sent. Returns 0 (the transaction may already have terminated: J, I are 0
 * on reliable transports); -ENOENT for a stale id; -EINVAL if buf is not a
 * parseable response; -EALREADY if a final response was sent already (an
 * INVITE transaction in Accepted still takes 2xx retransmissions); -ENOMEM;
 * or the send's error (the transaction then failed as well:
 * tu_transport_error and terminated were called). */
int sip_txn_server_send_response(struct sip_txn_table *tab, sip_txn_id id, const char *buf,
                                 size_t len);

/* The INVITE server transaction a CANCEL (m) cancels (17.2.3: the CANCEL's
 * match with the method taken as INVITE). Returns 0 and *id, -ENOENT if
 * none is alive, -EINVAL if m is not a CANCEL, -EMSGSIZE. */
int sip_txn_server_find_invite(struct sip_txn_table *tab, const struct sip_msg *m, sip_txn_id *id);

/* ---- both ---- */

/* Timer of transaction id fired (the one timer_start armed). Returns 0, or
 * -ENOENT for a stale id or a timer not armed (stopped or re-armed since):
 * ignore it. */
int sip_txn_timer_fired(struct sip_txn_table *tab, sip_txn_id id, enum sip_txn_timer timer);

/* The transport lost the way to the peer (a TCP connection closed, ICMP
 * unreachable): transaction id fails as if a send had returned err
 * (tu_transport_error, terminated). Returns 0 or -ENOENT. */
int sip_txn_transport_failed(struct sip_txn_table *tab, sip_txn_id id, int err);

/* The peer a live transaction talks to: 0 with *out, or -ENOENT. */
int sip_txn_peer_get(const struct sip_txn_table *tab, sip_txn_id id, struct sip_txn_peer *out);

/* State and kind of a live transaction, or -ENOENT. */
int sip_txn_state_get(const struct sip_txn_table *tab, sip_txn_id id);
int sip_txn_kind_get(const struct sip_txn_table *tab, sip_txn_id id);

/* Names for logs ("Calling", "A", "client INVITE"); never NULL. */
const char *sip_txn_state_name(int state);
const char *sip_txn_timer_name(int timer);
const char *sip_txn_kind_name(int kind);
