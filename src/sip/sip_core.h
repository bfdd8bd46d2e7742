#pragma once
/* The SIP service core: the registrar (docs/sip-registrar.md), the location
 * service (bindings, cells), the stateful proxy with its dialogs and call
 * detail records (docs/sip-proxy.md). It plugs into the transport
 * (sip_server.h) as its method hooks and owns everything above the
 * transaction layer.
 *
 * Threads: the hooks run on the transport's workers; the query functions
 * below (for the API and /metrics) may be called from any thread. */

#include <stdbool.h>
#include <stdint.h>

#include "sip/sip_msg.h"

struct hlr_registry;
struct store;
struct store_queue;
struct sip_server;
struct sip_core;
struct policy;
struct ocs;
struct smsc;

/* Most contacts one subscriber may register at once. */
#define SIP_MAX_BINDINGS 8
#define SIP_CONTACT_MAX  256 /* a Contact URI, with its NUL */
#define SIP_CELL_MAX     48  /* a cell id as P-Access-Network-Info gives it */

/* The routing hook (filled by the policy and charging engine): asked once
 * per new call or message, before anything is forwarded. Returns 0 to
 * allow; or a SIP status (403 usually) with reason (a short phrase for the
 * status line and a Warning header, e.g. the rule that refused). */
struct sip_route_query {
	enum sip_method method; /* INVITE or MESSAGE */
	uint64_t caller_imsi, caller_msisdn;
	uint64_t callee_imsi, callee_msisdn;
	const char *caller_cell; /* "" when unknown */
};
typedef int (*sip_route_hook_fn)(void *ctx, const struct sip_route_query *q, char *reason,
                                 size_t reason_cap);

struct sip_core_options {
	const char *domain;             /* the home domain and digest realm */
	uint32_t nonce_lifetime_s;      /* digest nonces; 300 */
	uint32_t min_expires_s;         /* shorter registrations get 423; 60 */
	uint32_t max_expires_s;         /* longer ones are cut to this; 7200 */
	uint32_t default_expires_s;     /* when the REGISTER names none; 3600 */
	uint32_t auth_fail_limit;       /* failed authentications per source and per identity... */
	uint32_t auth_fail_window_s;    /* ...within this window before 403; 10 per 60 s */
	bool digest_md5, digest_sha256; /* the digest algorithms offered; both by default */
	struct policy *policy;          /* rights and dialling rules (NULL: everything allowed) */
	struct ocs *ocs;                /* credit control (NULL: nothing charged) */
	sip_route_hook_fn route_hook;   /* asked after the policy; NULL: allow */
	void *route_hook_ctx;
	struct smsc *smsc;    /* the SMS centre: MESSAGEs go through it (NULL: relayed) */
	char sms_address[24]; /* the centre's number: From of its own MESSAGEs */
};

/* Defaults of the options above (domain left NULL). */
void sip_core_options_init(struct sip_core_options *opt);

/* Creates the core, loads the bindings stored before a restart (dropping
 * expired ones), and gives the transport its hooks: call before
 * sip_server_create() with the hooks from sip_core_hooks(). reg, st and q
 * must outlive the core. Returns 0, -ENOMEM or -EIO. */
int sip_core_create(const struct sip_core_options *opt, struct hlr_registry *reg, struct store *st,
                    struct store_queue *q, struct sip_core **out);
struct sip_hooks;
void sip_core_hooks(struct sip_core *core, struct sip_hooks *out);
/* The transport it sends through (set once the server exists); with an SMS
 * centre, also adds the centre's "sip" delivery channel. 0 or -ENOSPC. */
int sip_core_attach(struct sip_core *core, struct sip_server *srv);
void sip_core_destroy(struct sip_core *core);

/* --- queries (API, metrics) ---------------------------------------------- */

struct sip_binding_info {
	char contact[SIP_CONTACT_MAX]; /* the Contact URI as registered */
	char source[64];               /* "udp:127.0.0.1:5070": where koryod sends */
	int64_t expires_at;            /* unix seconds */
	char path[SIP_CONTACT_MAX];    /* the Path header values, "" for none */
};

struct sip_registration_info {
	unsigned n_bindings;
	struct sip_binding_info bindings[SIP_MAX_BINDINGS];
	char cell[SIP_CELL_MAX]; /* the last cell seen, "" if none */
	int64_t cell_at;         /* unix seconds, 0 if none */
};

/* The bindings and cell of a subscriber. 0 (n_bindings may be 0). */
int sip_core_registrations(struct sip_core *core, uint64_t imsi, struct sip_registration_info *out);

struct sip_call_info {
	char call_id[128];
	uint64_t caller_msisdn, callee_msisdn;
	uint64_t caller_imsi, callee_imsi;
	char caller_cell[SIP_CELL_MAX], callee_cell[SIP_CELL_MAX];
	bool answered;       /* confirmed (2xx seen), else early/ringing */
	int64_t started_ms;  /* unix milliseconds of the INVITE */
	int64_t answered_ms; /* 0 while not answered */
};
typedef void (*sip_call_fn)(void *ctx, const struct sip_call_info *c);
/* Calls fn for every call up or being set up (under a lock: fn must not
 * call into the core). Returns the number listed. */
unsigned sip_core_calls(struct sip_core *core, sip_call_fn fn, void *ctx);

/* A call detail record, one per call attempt (docs/sip-proxy.md). */
struct sip_cdr {
	int64_t id; /* increasing */
	char call_id[128];
	uint64_t caller_msisdn, callee_msisdn;
	uint64_t caller_imsi, callee_imsi;
	char caller_cell[SIP_CELL_MAX], callee_cell[SIP_CELL_MAX];
	int64_t start_ms, answer_ms, end_ms; /* unix ms; answer_ms 0: never answered */
	int status;                          /* final status of the INVITE (200, 486, 487...) */
	char cause[32]; /* "normal" (BYE), "cancelled", "busy", "no-answer", "failed", "refused" */
};
typedef void (*sip_cdr_fn)(void *ctx, const struct sip_cdr *c);
/* Lists stored CDRs with id > after, oldest first, at most limit. Returns
 * the number listed or -EIO. */
int sip_cdr_list(struct store *st, int64_t after, unsigned limit, sip_cdr_fn fn, void *ctx);

struct sip_core_stats {
	uint64_t bindings;          /* now */
	uint64_t registered_users;  /* subscribers with at least one binding now */
	uint64_t registrations;     /* REGISTERs answered 200 */
	uint64_t auth_challenges;   /* 401 sent */
	uint64_t auth_failures;     /* wrong credentials */
	uint64_t auth_rate_limited; /* refused for too many failures */
	uint64_t aka_resyncs;       /* AUTS accepted */
	uint64_t unknown_cells;     /* P-Access-Network-Info naming no cell of the home PLMN */
	uint64_t calls_active;      /* dialogs now */
	uint64_t calls_answered, calls_failed, calls_cancelled, calls_refused;
	uint64_t messages_relayed; /* MESSAGE answered 2xx by the callee */
	uint64_t cdrs_written, cdr_write_errors;
	uint64_t refused_by_policy; /* calls and messages the policy refused */
	uint64_t refused_no_credit; /* calls and messages refused for credit */
	uint64_t ended_no_credit;   /* answered calls koryod ended: credit exhausted */
	uint64_t ended_by_policy;   /* answered calls koryod ended: a policy change */
	uint64_t service_requests;  /* service codes (top-up, balance) served */
};
void sip_core_get_stats(struct sip_core *core, struct sip_core_stats *out);
