#pragma once
/* What the parts of the SIP service core share (internal to src/sip):
 * sip_location.c (subscribers' SIP state: bindings, cell, authentication
 * state), sip_registrar.c, sip_proxy.c (with dialogs and CDRs) and
 * sip_core.c (creation, hooks, queries). */

#include <pthread.h>
#include <stdatomic.h>

#include "crypto/digest.h"
#include "hlr/subscr.h"
#include "policy/policy.h"
#include "sip/sip_core.h"
#include "sip/sip_server.h"
#include "store/store_queue.h"

#define SIP_LOC_SHARDS  64
#define SIP_NONCE_SLOTS 4 /* digest nonces tracked per subscriber (nonce-count) */
#define SIP_AKA_PENDING 2 /* AKA challenges outstanding per subscriber */
#define SIP_SRC_BUCKETS 4096
#define SIP_DLG_SHARDS  16

struct sip_binding {
	struct sip_txn_peer flow;
	int64_t expires_at;
	bool sms_ip;   /* the phone takes SMS over IP (Contact +g.3gpp.smsip) */
	int worker;    /* the transport worker the registration came in on, -1 unknown */
	char *contact; /* owned */
	char *path;    /* owned, "" when none */
};

/* One subscriber's SIP state. Guarded by its shard's lock. */
struct sip_user {
	uint64_t imsi;
	struct sip_binding *b;
	uint8_t n;
	char cell[SIP_CELL_MAX];
	int64_t cell_at;
	/* Nonce-count tracking: the nonces this subscriber used lately and the
	 * highest nc of each; a nonce issued at or before floor that is not in
	 * the list was evicted from it and is refused as stale. */
	struct {
		uint64_t hash;
		uint64_t issued;
		uint32_t nc;
	} nonces[SIP_NONCE_SLOTS];
	uint8_t nonce_next;
	uint64_t nonce_floor;
	struct {
		uint8_t rand[16];
		uint8_t xres[16];
		uint8_t xres_len;
		int64_t at;
	} aka[SIP_AKA_PENDING];
	uint8_t aka_next;
	/* Failed authentications in the current window. */
	uint32_t fails;
	int64_t fail_window;
};

struct sip_loc_shard {
	pthread_mutex_t lock;
	struct sip_user **cells; /* open addressing by IMSI */
	size_t cap, used;
};

struct sip_src_bucket {
	uint32_t fails;
	int64_t window;
};

/* A call from its INVITE to its end (sip_dialog.c). Guarded by its shard's
 * lock; what koryod needs to route inside it, to end it (BYE both ways), to
 * charge it and to check it again when the policy changes. */
struct sip_dialog {
	struct sip_dialog *next;
	char call_id[128];
	char caller_tag[128], callee_tag[128];
	uint64_t caller_imsi, caller_msisdn, callee_imsi, callee_msisdn;
	unsigned caller_class;
	int callee_class;
	struct policy_dest dest; /* the number dialled, analysed (when has_dest) */
	char dest_kind[48];      /* the tariff's destination: "class:citizen", "international" */
	char caller_cell[SIP_CELL_MAX], callee_cell[SIP_CELL_MAX];
	struct sip_txn_peer caller_flow, callee_flow;
	/* From of the INVITE and To of the 2xx (with their tags), and both
	 * Contacts: the BYEs koryod sends when it ends a call. */
	char caller_from[SIP_CONTACT_MAX], callee_to[SIP_CONTACT_MAX];
	char caller_contact[SIP_CONTACT_MAX], callee_contact[SIP_CONTACT_MAX];
	uint32_t invite_cseq;
	unsigned worker; /* the worker that proxied the INVITE: its credit timer */
	bool answered, charged, has_dest;
	int64_t start_ms, answer_ms;
};

struct credit_timer;
struct pctx;
/* The proxy's state on one worker (its thread only). */
struct sip_proxy_worker {
	struct pctx *head;
	struct credit_timer *timers;
};

struct sip_dlg_shard {
	pthread_mutex_t lock;
	struct sip_dialog *head;
};

struct sip_sms;

struct sip_core {
	struct sip_core_options opt;
	struct sip_sms *sms; /* sip_sms.c's state; NULL without an SMS centre */
	char domain[256];
	struct hlr_registry *reg;
	struct store *st;
	struct store_queue *q;
	struct sip_server *srv;
	uint8_t nonce_key[DIGEST_NONCE_KEY_LEN];

	struct sip_loc_shard loc[SIP_LOC_SHARDS];
	pthread_mutex_t src_lock;
	struct sip_src_bucket src[SIP_SRC_BUCKETS];

	struct sip_dlg_shard dlg[SIP_DLG_SHARDS];
	atomic_int_fast64_t next_cdr_id;
	struct sip_proxy_worker *pw; /* one per transport worker */
	unsigned n_pw;

	struct {
		atomic_uint_fast64_t bindings, registered_users, registrations, auth_challenges,
		    auth_failures, auth_rate_limited, aka_resyncs, unknown_cells, calls_active,
		    calls_answered, calls_failed, calls_cancelled, calls_refused, messages_relayed,
		    cdrs_written, cdr_write_errors, refused_by_policy, refused_no_credit,
		    ended_no_credit, ended_by_policy, service_requests;
	} stats;
};

static inline void sip_count(atomic_uint_fast64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

/* --- sip_location.c --- */
int sip_loc_init(struct sip_core *core);
void sip_loc_free(struct sip_core *core);
/* Loads the stored bindings, deleting expired ones. 0 or -EIO. */
int sip_loc_load(struct sip_core *core);
/* Finds (create: makes) the subscriber's state and locks its shard; NULL if
 * absent (or out of memory). Unlock with sip_loc_unlock(). */
struct sip_user *sip_loc_lock(struct sip_core *core, uint64_t imsi, bool create);
void sip_loc_unlock(struct sip_core *core, uint64_t imsi);
/* Drops bindings expired at now (memory only; their rows go at the next
 * load or overwrite). Caller holds the lock. */
void sip_loc_prune(struct sip_core *core, struct sip_user *u, int64_t now);
/* Sets a binding in memory (caller holds the lock); worker: the one the
 * registration came in on, -1 unknown. 0, -ENOMEM. */
int sip_loc_bind(struct sip_core *core, struct sip_user *u, const char *contact, const char *path,
                 const struct sip_txn_peer *flow, int worker, int64_t expires_at, bool sms_ip);
/* Removes one (contact) or all (NULL) bindings in memory. */
void sip_loc_unbind(struct sip_core *core, struct sip_user *u, const char *contact);
/* Queues the store write of a binding (expires_at 0: delete); the last one
 * of a request carries done. 0 or the queue's error. */
int sip_loc_persist(struct sip_core *core, uint64_t imsi, const char *contact, const char *path,
                    const struct sip_txn_peer *flow, int64_t expires_at, bool sms_ip,
                    store_done_fn done, void *ctx);
/* The Contact and Path (SIP_CONTACT_MAX each) of imsi's binding on flow:
 * where an answer of koryod's own to a request from that flow goes. */
bool sip_loc_contact_of(struct sip_core *core, uint64_t imsi, const struct sip_txn_peer *flow,
                        char *contact, char *path);
/* Records the cell a P-Access-Network-Info header names (counts unknown ones). */
void sip_loc_cell(struct sip_core *core, uint64_t imsi, const struct sip_msg *m);
/* Failed-authentication limiter per source address. */
bool sip_src_limited(struct sip_core *core, uint32_t addr, int64_t now, int64_t *retry_after);
void sip_src_failed(struct sip_core *core, uint32_t addr, int64_t now);

/* Subscriber of a URI's user part in any form (IMSI, E.164 with or without
 * '+', national with the trunk prefix); 0 and *out, or -ENOENT. */
int sip_subscr_of_user(struct sip_core *core, struct sip_str user, struct hlr_subscr *out);

/* --- sip_registrar.c --- */
void sip_registrar_on_register(void *ctx, struct sip_request *rq);

/* --- sip_dialog.c --- */
int64_t sip_now_ms(void);
void sip_copy_str(char *out, size_t cap, struct sip_str s);
struct sip_dlg_shard *sip_dlg_shard_of(struct sip_core *core, const char *call_id);
/* The dialog's link (*result NULL if none); the caller holds its shard's lock. */
struct sip_dialog **sip_dlg_find(struct sip_core *core, const char *call_id);
/* Adds d (owned by the table from then on). 0, or -EEXIST (d not taken). */
int sip_dlg_add(struct sip_core *core, struct sip_dialog *d);
/* Ends the dialog of call_id: removed, its credit settled, its CDR written. */
void sip_dlg_end(struct sip_core *core, const char *call_id, int status, const char *cause);
/* A CDR for an attempt refused before any dialog existed. */
void sip_cdr_refused(struct sip_core *core, const struct sip_msg *m, uint64_t caller_imsi,
                     uint64_t caller_msisdn, uint64_t callee_imsi, uint64_t callee_msisdn,
                     int status, const char *cause);
/* Answered and charged: follows the credit of call_id in slices on worker w
 * (its thread), cutting the call off when no more is granted. */
void sip_dlg_credit_start(struct sip_core *core, struct sip_worker *w, const char *call_id,
                          uint32_t granted_s);
/* Ends an answered call from koryod: BYE to both parties (with reason), then
 * sip_dlg_end(). On any worker's thread. */
void sip_dlg_cut(struct sip_core *core, struct sip_worker *w, const char *call_id,
                 const char *cause, const char *reason);
/* The policy changed: calls it no longer allows are cut (policy_subscribe). */
void sip_dlg_policy_changed(void *ctx, const struct policy_change *chg);
/* Closes worker w's credit timers (it is stopping). */
void sip_dlg_worker_stop(void *ctx, struct sip_worker *w);

/* --- sip_proxy.c --- */
int sip_proxy_init(struct sip_core *core, unsigned workers);
void sip_proxy_free(struct sip_core *core);
void sip_proxy_on_invite(void *ctx, struct sip_request *rq);
void sip_proxy_on_message(void *ctx, struct sip_request *rq);
void sip_proxy_on_cancel(void *ctx, struct sip_request *rq);
void sip_proxy_on_ack(void *ctx, struct sip_request *rq);
void sip_proxy_on_in_dialog(void *ctx, struct sip_request *rq);
void sip_proxy_on_stray_response(void *ctx, struct sip_worker *w, const struct sip_msg *m);

/* --- sip_sms.c --- */
int sip_sms_init(struct sip_core *core);
/* Adds the "sip" delivery channel to the centre (the server exists). */
int sip_sms_attach(struct sip_core *core);
void sip_sms_free(struct sip_core *core);
/* A MESSAGE outside a dialog from a registered subscriber: true when the
 * SMS centre took it (answered or answering), false when it is the
 * proxy's (no centre, a service code). */
bool sip_sms_on_message(struct sip_core *core, struct sip_request *rq,
                        const struct hlr_subscr *snd);
/* A MESSAGE of koryod's own (a service answer, an RP answer, a delivery). */
struct sip_out_message {
	struct sip_txn_peer flow;
	const char *contact;             /* Request-URI */
	const char *path;                /* Route (the binding's Path), NULL or "" for none */
	const char *from_user, *to_user; /* user parts at the home domain */
	const char *call_id_prefix;
	const char *content_type;
	const char *extra; /* more header fields (CRLF-terminated), or NULL */
	const char *body;
	size_t body_len;
};
/* Sends o from worker w as a new client transaction (cb may be NULL).
 * 0, -EMSGSIZE, or the transport's error. */
int sip_send_message(struct sip_worker *w, struct sip_core *core, const struct sip_out_message *o,
                     sip_response_fn cb, void *ctx);

/* Copies in as a header value or reason phrase: CR, LF and '"' become
 * spaces (sip_proxy.c). */
void sip_header_text(char *out, size_t cap, const char *in);
/* A refusal's phrase and header fields: Warning with the reason and, when
 * rule is not "", Reason naming the rule (docs/policy.md). */
void sip_refusal(int status, const char *rule, const char *reason, char *phrase, size_t phrase_cap,
                 char *extra, size_t extra_cap);

/* --- sip_service.c --- */
/* A call or MESSAGE to a service code (dialled: "*123*PIN#", "*123#"):
 * answered here, the result sent to the phone as a MESSAGE. false when
 * dialled is no service request koryod knows (the caller answers 404). */
bool sip_service_request(struct sip_core *core, struct sip_request *rq,
                         const struct hlr_subscr *caller, const char *dialled);
