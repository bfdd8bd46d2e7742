#pragma once
/* The SMS centre (docs/sms-centre.md): store and forward for the messages
 * of every access (SIP text/plain, SIP application/vnd.3gpp.sms, GSUP).
 *
 * A submission is checked (the policy, the content rules), stored durably
 * and charged per segment before the sender hears "accepted"; then it is
 * delivered through the channels the accesses register (SIP, GSUP), at
 * once when the recipient is reachable, else when it comes back (it
 * registers, ReadyForSM, RP-SMMA), with retries after temporary failures,
 * until its validity period ends. A sender that asked gets a status report
 * (delivered, expired, failed). Every accepted message ends in one CDR.
 *
 * The centre knows no protocol: it holds messages as UTF-8 text (or octets
 * with their DCS) and leaves the wire forms, and the splitting into
 * segments, to the channels.
 *
 * Threads: every function may be called from any thread; callbacks come
 * from the centre's thread or the store's committer thread and must not
 * block. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct store_queue;
struct hlr_registry;
struct policy;
struct ocs;
struct sms_rules;
struct smsc;

#define SMSC_KEY_MAX    160             /* a submission's idempotency key, with the NUL */
#define SMSC_TEXT_MAX   (255 * 160 * 4) /* octets of UTF-8 one message may hold */
#define SMSC_DATA_MAX   (255 * 140)     /* octets of 8-bit data */
#define SMSC_CELL_MAX   48
#define SMSC_REASON_MAX 160

struct smsc_options {
	char address[24];           /* the centre's E.164 number ("+8501900000"): RP-OA of MT */
	long validity_s;            /* kept this long when the sender names none; 2 days */
	long max_validity_s;        /* never kept longer; 7 days */
	unsigned max_stored;        /* messages waiting, all recipients; 1000000 */
	unsigned max_per_recipient; /* messages waiting for one recipient; 200 */
	unsigned window;            /* deliveries in flight to one recipient; 8 */
	long reassembly_timeout_s;  /* segments of an incomplete message are dropped after; 3600 */
	long delivery_timeout_s;    /* a channel's attempt that has not ended is a failure; 60 */
	struct policy *policy;      /* NULL: every destination allowed */
	struct ocs *ocs;            /* NULL: nothing charged */
	struct sms_rules *rules;    /* NULL: no content rules */
};

void smsc_options_init(struct smsc_options *opt);

/* Creates the centre. reg, st and q must outlive it. 0, -ENOMEM. Then add
 * the channels (smsc_add_channel) and call smsc_start. */
int smsc_open(const struct smsc_options *opt, struct hlr_registry *reg, struct store *st,
              struct store_queue *q, struct smsc **out);
/* Loads the messages waiting in the store (those past their validity
 * expire at once), the segments of incomplete messages, charges again
 * messages whose charge never answered, and starts the centre's thread.
 * 0, -ENOMEM, -EIO, -EAGAIN. */
int smsc_start(struct smsc *s);
/* Stops the thread; attempts in flight are abandoned (their messages stay
 * stored and are tried again at the next start). Submissions still
 * answered (from the store's thread) are kept in memory until
 * smsc_close. NULL is a no-op. */
void smsc_stop(struct smsc *s);
/* Stops (if need be) and frees; after the store queue has stopped. NULL is
 * a no-op. */
void smsc_close(struct smsc *s);

/* --- submission ----------------------------------------------------------------------- */

struct smsc_submission {
	const char *origin; /* the access: "sip", "sip-3gpp", "gsup" (CDRs, API) */
	/* Unique per submission (e.g. "sip:CALL-ID:CSEQ"; printable, under
	 * SMSC_KEY_MAX): a repeat with the same key gets the first answer and
	 * stores nothing more. */
	const char *key;
	uint64_t sender_imsi;  /* a subscriber of the registry */
	const char *recipient; /* as the sender wrote it: "+85019...", "0191...", "191..." */
	/* The content: UTF-8 text, or with binary the octets of 8-bit data and
	 * their TP-DCS. */
	const char *text;
	size_t text_len;
	bool binary;
	const uint8_t *data;
	size_t data_len;
	uint8_t dcs;
	/* A segment of a concatenated message (the UDH's element): kept until
	 * all total segments of (sender, ref) came, then submitted as one. */
	bool concat;
	uint16_t ref;
	uint8_t total, seq;
	bool report;      /* the sender asked for a status report */
	uint8_t mr;       /* the sender's TP-MR: its report names it */
	long validity_s;  /* -1: the default */
	const char *cell; /* the sender's cell; NULL or "" when unknown */
};

enum smsc_outcome {
	SMSC_ACCEPTED,          /* stored; delivery follows (held: after review) */
	SMSC_SEGMENT_STORED,    /* a segment stored; the message waits for the others */
	SMSC_REFUSED,           /* by the policy or a content rule (reason says which) */
	SMSC_NO_CREDIT,         /* charging refused (reason is the charging's text) */
	SMSC_UNKNOWN_RECIPIENT, /* not a subscriber of this network */
	SMSC_FULL,              /* too many messages waiting (for the recipient or all) */
	SMSC_INVALID,           /* the submission itself is wrong (reason says) */
	SMSC_ERROR,             /* the store failed: nothing kept; try again */
};

struct smsc_result {
	enum smsc_outcome outcome;
	int64_t id; /* the message (ACCEPTED), else 0 */
	bool held;  /* ACCEPTED but held for review by a content rule */
	char reason[SMSC_REASON_MAX];
	char rule[64];    /* REFUSED: the policy's or content rule's name */
	int sip_status;   /* what a SIP access answers: 202, 400, 403, 404, 413, 480, 500, 503 */
	uint8_t rp_cause; /* what an RP-ERROR / GSUP error carries (TS 24.011 8.2.5.4) */
};

typedef void (*smsc_submit_fn)(void *ctx, const struct smsc_result *r);

/* Submits a message. done is called once, possibly before this returns.
 * Returns 0, or -ENOMEM (done not called). */
int smsc_submit(struct smsc *s, const struct smsc_submission *m, smsc_submit_fn done, void *ctx);

/* --- delivery channels ----------------------------------------------------------------- */

/* One delivery attempt, given to a channel. Pointers are valid during the
 * channel's deliver() only. */
struct smsc_delivery {
	int64_t id; /* with attempt, the token of smsc_delivery_done() */
	uint32_t attempt;
	uint64_t recipient_imsi, recipient_msisdn;
	uint64_t sender_msisdn; /* the originator (for a report: the original's recipient) */
	int64_t submitted_at;   /* unix seconds: TP-SCTS */
	bool more;              /* more messages wait for this recipient: !TP-MMS */
	/* A status report (SMS-STATUS-REPORT) for message mr the recipient
	 * sent to sender_msisdn: st is TP-ST, discharged_at TP-DT. */
	bool is_report;
	uint8_t mr, st;
	int64_t discharged_at;
	/* A message: text (UTF-8), or binary data with dcs. */
	const char *text;
	size_t text_len;
	bool binary;
	const uint8_t *data;
	size_t data_len;
	uint8_t dcs;
	bool report_requested; /* TP-SRI: the sender will get a status report */
};

enum smsc_delivery_result {
	SMSC_DELIVERED,
	SMSC_TRY_LATER,   /* a temporary failure: retried with back-off */
	SMSC_UNREACHABLE, /* the recipient is not there now: kept until it comes back */
	SMSC_FAILED,      /* permanent (the recipient refused it): given up */
};

struct smsc_channel {
	const char *name; /* "sip", "gsup" */
	/* Starts delivering d. Returns 0: smsc_delivery_done() follows (from
	 * any thread, possibly before this returns); or -ENOTCONN: the
	 * recipient cannot be reached through this channel now (the next
	 * channel is tried). Called on the centre's thread; must not block. */
	int (*deliver)(void *ctx, const struct smsc_delivery *d);
	/* Optional: the recipient's cell as this access last saw it (for the
	 * CDR); 0, or -ENOENT. */
	int (*cell_of)(void *ctx, uint64_t imsi, char *out, size_t cap);
	void *ctx;
};

/* Adds a channel (tried in the order added). At most 4. 0 or -ENOSPC. */
int smsc_add_channel(struct smsc *s, const struct smsc_channel *ch);

/* The end of an attempt; detail (e.g. "480", "RP cause 22") goes into the
 * message's last error. Results of attempts that timed out or are stale are
 * ignored. */
void smsc_delivery_done(struct smsc *s, int64_t id, uint32_t attempt,
                        enum smsc_delivery_result result, const char *detail);

/* The subscriber can take messages again (it registered, ReadyForSM,
 * RP-SMMA): what waits for it is tried now. */
void smsc_recipient_ready(struct smsc *s, uint64_t imsi);

/* --- operator's view -------------------------------------------------------------------- */

enum smsc_state {
	SMSC_STATE_WAITING,   /* stored, not yet delivered */
	SMSC_STATE_HELD,      /* held by a content rule for review */
	SMSC_STATE_DELIVERED, /* final states: */
	SMSC_STATE_EXPIRED,
	SMSC_STATE_FAILED,
	SMSC_STATE_DELETED, /* by the operator (a held message dropped) */
};
const char *smsc_state_name(enum smsc_state st);

/* A message waiting or held (never its text). */
struct smsc_message_info {
	int64_t id;
	enum smsc_state state;
	char origin[16];
	uint64_t sender_msisdn, recipient_msisdn;
	unsigned segments;
	size_t size; /* octets of text or data */
	bool report;
	bool is_report;
	int64_t submitted_at, expires_at; /* unix seconds */
	uint32_t attempts;
	char last_error[64];
};
typedef void (*smsc_message_fn)(void *ctx, const struct smsc_message_info *m);
/* The messages stored and not final, id > after, oldest first, at most
 * limit; msisdn non-zero: only those to it. Returns how many. */
int smsc_messages(struct smsc *s, int64_t after, unsigned limit, uint64_t msisdn,
                  smsc_message_fn fn, void *ctx);
/* One message: 0 or -ENOENT. */
int smsc_message_get(struct smsc *s, int64_t id, struct smsc_message_info *out);

/* A held message released for delivery, or deleted (its CDR says
 * "deleted"), by actor. 0, -ENOENT (no such held message), -EIO. */
int smsc_release(struct smsc *s, int64_t id, const char *actor);
int smsc_delete(struct smsc *s, int64_t id, const char *actor);

/* A CDR: one per accepted message (and per status report), written when it
 * reaches a final state. */
struct smsc_cdr {
	int64_t seq; /* increasing in the order written: the key of paging */
	int64_t id;  /* the message's */
	char origin[16];
	bool is_report;
	uint64_t sender_msisdn, recipient_msisdn;
	uint64_t sender_imsi, recipient_imsi;
	char sender_cell[SMSC_CELL_MAX], recipient_cell[SMSC_CELL_MAX];
	unsigned segments;
	size_t size;
	int64_t submitted_ms, final_ms; /* unix milliseconds */
	uint32_t attempts;
	enum smsc_state outcome; /* delivered, expired, failed, deleted */
	char channel[8];         /* the channel that delivered it, "" when none */
};
typedef void (*smsc_cdr_fn)(void *ctx, const struct smsc_cdr *c);
/* CDRs with seq > after (in the order written), at most limit. Returns how
 * many or -EIO. fn runs with the store locked and must not use it. */
int smsc_cdrs(struct smsc *s, int64_t after, unsigned limit, smsc_cdr_fn fn, void *ctx);

struct smsc_stats {
	uint64_t submitted; /* submissions answered accepted */
	uint64_t refused;   /* by the policy or content rules */
	uint64_t no_credit;
	uint64_t delivered, expired, failed;
	uint64_t attempts, retries;
	uint64_t reports_sent;
	uint64_t waiting;          /* stored now, not final (held included) */
	uint64_t held;             /* of them, held */
	uint64_t in_flight;        /* attempts not yet ended */
	uint64_t segments_waiting; /* segments of incomplete messages */
	uint64_t incomplete_dropped;
};
void smsc_get_stats(struct smsc *s, struct smsc_stats *out);

/* Tests only: the time the centre reads (unix seconds; NULL: clock_now). */
void smsc_set_clock(struct smsc *s, int64_t (*now)(void));
