/* The SMS centre (smsc.h, docs/sms-centre.md).
 *
 * A submission goes: checks (recipient, policy, content rules, room) on the
 * caller's thread; the row written (group commit); the charge (its own
 * durable ledger row, idempotent by the message's id); then "accepted" and
 * the message joins the centre's thread, which owns every message waiting
 * in memory: one FIFO per recipient, a heap of the times something must
 * happen (a retry, the end of an attempt, the expiry). Other threads talk to
 * it through a locked list of events. A message's row goes, and its CDR is
 * written (and a status report stored), in one transaction when it is
 * final. */
#include "sms/smsc.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "common/clock.h"
#include "common/hex.h"
#include "common/log.h"
#include "hlr/registry.h"
#include "ocs/ocs.h"
#include "policy/policy.h"
#include "sms/rp.h"
#include "sms/rules.h"
#include "sms/segment.h"
#include "sms/sms_err.h"
#include "sms/smsc_tpdu.h"
#include "store/store.h"
#include "store/store_queue.h"

#define MAX_CHANNELS 4
#define SWEEP_S      60
/* Back-off after temporary failures: 30 s, 1, 2, 5, 10, 30 min, then 30 min. */
static const long backoff_s[] = {30, 60, 120, 300, 600, 1800};

/* --- a small intrusive hash by 64-bit key ------------------------------------------- */

struct hnode {
	struct hnode *next;
	uint64_t key;
};

struct htab {
	struct hnode **b;
	size_t cap, n;
};

static size_t hslot(const struct htab *t, uint64_t key)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 20) & (t->cap - 1);
}

static struct hnode *hfind(const struct htab *t, uint64_t key)
{
	if (!t->cap)
		return NULL;
	for (struct hnode *n = t->b[hslot(t, key)]; n; n = n->next) {
		if (n->key == key)
			return n;
	}
	return NULL;
}

static int hadd(struct htab *t, struct hnode *n)
{
	if (t->n + 1 > t->cap / 2) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		struct hnode **b = calloc(cap, sizeof(*b));
		if (!b)
			return -ENOMEM;
		struct htab nt = {b, cap, t->n};
		for (size_t i = 0; i < t->cap; i++) {
			for (struct hnode *x = t->b[i], *next; x; x = next) {
				next = x->next;
				size_t s = hslot(&nt, x->key);
				x->next = b[s];
				b[s] = x;
			}
		}
		free(t->b);
		*t = nt;
	}
	size_t s = hslot(t, n->key);
	n->next = t->b[s];
	t->b[s] = n;
	t->n++;
	return 0;
}

static void hdel(struct htab *t, struct hnode *n)
{
	for (struct hnode **p = &t->b[hslot(t, n->key)]; *p; p = &(*p)->next) {
		if (*p == n) {
			*p = n->next;
			t->n--;
			return;
		}
	}
}

/* --- state ---------------------------------------------------------------------------- */

struct rcpt;

/* A message waiting in memory (the centre's thread only). */
struct msg {
	struct hnode node; /* by id */
	struct msg *next;  /* in its recipient's FIFO */
	struct rcpt *r;
	size_t heap_idx; /* 0: not in the heap */
	int64_t due;     /* the heap's key */
	int64_t id;
	uint64_t sender_imsi, sender_msisdn, recipient_imsi, recipient_msisdn;
	int64_t submitted_at, expires_at, discharged_at;
	int64_t retry_at; /* 0: try when the recipient is there */
	int64_t deadline; /* of the attempt in flight */
	uint32_t attempts, failures;
	bool in_flight, report, is_report, binary;
	bool held; /* loaded held but not yet charged: charged, then kept held */
	uint8_t dcs, mr, st;
	unsigned segments;
	int channel; /* of the attempt in flight or the last one */
	char origin[16];
	char sender_cell[SMSC_CELL_MAX];
	size_t len;
	char body[]; /* text (NUL-terminated) or data */
};

/* A recipient with messages waiting. */
struct rcpt {
	struct hnode node; /* by IMSI */
	struct msg *head, *tail;
	unsigned in_flight;
	bool absent; /* no channel reached it: wait for smsc_recipient_ready */
};

/* Messages stored per recipient, for the limit (under s->mu). */
struct count {
	struct hnode node;
	unsigned n;
};

enum ev_type { EV_NEW, EV_RESULT, EV_READY };

struct ev {
	struct ev *next;
	enum ev_type type;
	struct msg *m;
	int64_t id;
	uint32_t attempt;
	enum smsc_delivery_result result;
	uint64_t imsi;
	char detail[64];
};

struct smsc {
	struct smsc_options opt;
	struct hlr_registry *reg;
	struct store *st;
	struct store_queue *q;
	struct smsc_channel ch[MAX_CHANNELS];
	unsigned n_ch;
	int64_t (*now)(void);

	pthread_mutex_t mu; /* events, counts, reassembly */
	pthread_cond_t cv;
	pthread_t thread;
	bool started, stopping;
	struct ev *ev_head, *ev_tail;
	struct htab counts;
	struct sms_reasm *reasm;
	uint64_t stored; /* messages stored and not final */

	/* The centre's thread only. */
	struct htab by_id, rcpts;
	struct msg **heap; /* 1-based */
	size_t heap_n, heap_cap;
	int64_t next_sweep;

	atomic_int_fast64_t next_id, next_seq;
	struct {
		atomic_uint_fast64_t submitted, refused, no_credit, delivered, expired, failed,
		    attempts, retries, reports_sent, held, in_flight, incomplete_dropped, waiting;
	} stats;
};

static void count_add(atomic_uint_fast64_t *c, int64_t d)
{
	atomic_fetch_add_explicit(c, (uint_fast64_t)d, memory_order_relaxed);
}

static int64_t now_s(const struct smsc *s)
{
	return s->now ? s->now() : clock_now();
}

static int64_t now_ms(const struct smsc *s)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return now_s(s) * 1000 + tv.tv_usec / 1000;
}

const char *smsc_state_name(enum smsc_state st)
{
	static const char *const names[] = {"waiting", "held",   "delivered",
	                                    "expired", "failed", "deleted"};
	return (unsigned)st < sizeof(names) / sizeof(names[0]) ? names[st] : "unknown";
}

static int state_parse(const char *s, enum smsc_state *out)
{
	for (int i = 0; i <= SMSC_STATE_DELETED; i++) {
		if (strcmp(s, smsc_state_name((enum smsc_state)i)) == 0) {
			*out = (enum smsc_state)i;
			return 0;
		}
	}
	return -1;
}

void smsc_options_init(struct smsc_options *opt)
{
	*opt = (struct smsc_options){.validity_s = 2 * 86400,
	                             .max_validity_s = 7 * 86400,
	                             .max_stored = 1000000,
	                             .max_per_recipient = 200,
	                             .window = 8,
	                             .reassembly_timeout_s = 3600,
	                             .delivery_timeout_s = 60};
}

/* --- events -------------------------------------------------------------------------- */

static void post(struct smsc *s, struct ev *e)
{
	pthread_mutex_lock(&s->mu);
	if (s->ev_tail)
		s->ev_tail->next = e;
	else
		s->ev_head = e;
	s->ev_tail = e;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/* Per-recipient stored counts (under s->mu). */
static unsigned stored_for(struct smsc *s, uint64_t imsi)
{
	struct count *c = (struct count *)hfind(&s->counts, imsi);
	return c ? c->n : 0;
}

static void stored_change(struct smsc *s, uint64_t imsi, int d)
{
	pthread_mutex_lock(&s->mu);
	struct count *c = (struct count *)hfind(&s->counts, imsi);
	if (!c && d > 0 && (c = calloc(1, sizeof(*c)))) {
		c->node.key = imsi;
		if (hadd(&s->counts, &c->node) != 0) {
			free(c);
			c = NULL;
		}
	}
	if (c) {
		c->n = d < 0 && c->n < (unsigned)-d ? 0 : c->n + (unsigned)d;
		if (!c->n) {
			hdel(&s->counts, &c->node);
			free(c);
		}
	}
	s->stored = d < 0 && s->stored < (uint64_t)-d ? 0 : s->stored + (uint64_t)(int64_t)d;
	pthread_mutex_unlock(&s->mu);
	count_add(&s->stats.waiting, d);
}

/* --- the heap of due times (the centre's thread) ------------------------------------ */

static void heap_swap(struct smsc *s, size_t a, size_t b)
{
	struct msg *t = s->heap[a];
	s->heap[a] = s->heap[b];
	s->heap[b] = t;
	s->heap[a]->heap_idx = a;
	s->heap[b]->heap_idx = b;
}

static void heap_fix(struct smsc *s, size_t i)
{
	while (i > 1 && s->heap[i]->due < s->heap[i / 2]->due) {
		heap_swap(s, i, i / 2);
		i /= 2;
	}
	for (;;) {
		size_t l = 2 * i, m = i;
		if (l <= s->heap_n && s->heap[l]->due < s->heap[m]->due)
			m = l;
		if (l + 1 <= s->heap_n && s->heap[l + 1]->due < s->heap[m]->due)
			m = l + 1;
		if (m == i)
			return;
		heap_swap(s, i, m);
		i = m;
	}
}

static void heap_remove(struct smsc *s, struct msg *m)
{
	size_t i = m->heap_idx;
	if (!i)
		return;
	heap_swap(s, i, s->heap_n);
	s->heap_n--;
	m->heap_idx = 0;
	if (i <= s->heap_n)
		heap_fix(s, i);
}

/* Sets m's due time: the first of its expiry, its attempt's deadline and
 * its retry. */
static int schedule(struct smsc *s, struct msg *m)
{
	/* An attempt in flight is decided by its result or its deadline, even
	 * past the validity: what the recipient got is delivered. */
	int64_t due = m->expires_at;
	if (m->in_flight)
		due = m->deadline;
	else if (m->retry_at && m->retry_at < due)
		due = m->retry_at;
	m->due = due;
	if (m->heap_idx) {
		heap_fix(s, m->heap_idx);
		return 0;
	}
	if (s->heap_n + 1 >= s->heap_cap) {
		size_t cap = s->heap_cap ? s->heap_cap * 2 : 1024;
		struct msg **h = realloc(s->heap, cap * sizeof(*h));
		if (!h)
			return -ENOMEM;
		s->heap = h;
		s->heap_cap = cap;
	}
	s->heap[++s->heap_n] = m;
	m->heap_idx = s->heap_n;
	heap_fix(s, s->heap_n);
	return 0;
}

/* --- storage ------------------------------------------------------------------------- */

static void p_int(struct store_param *p, int64_t v)
{
	p->type = STORE_PARAM_INT;
	p->i = v;
}

static void p_text(struct store_param *p, const char *t)
{
	p->type = STORE_PARAM_TEXT;
	snprintf(p->text, sizeof(p->text), "%s", t ? t : "");
}

static void p_long(struct store_param *p, const char *t)
{
	p->type = STORE_PARAM_LONG_TEXT;
	p->long_text = t;
}

static void write_done(void *ctx, int rc)
{
	if (rc)
		LOGE("sms", "a write of the SMS centre failed (%d): %s", rc, (const char *)ctx);
}

static const char SQL_INSERT_MSG[] =
    "INSERT INTO sms_message (id, skey, state, charged, is_report, report, origin, "
    "sender_imsi, sender_msisdn, recipient_imsi, recipient_msisdn, sender_cell, body, dcs, mr, "
    "st, segments, size, submitted_at, expires_at, discharged_at) VALUES ($1, $2, $3, $4, $5, $6, "
    "$7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)";

/* The row of a message: what it is, and its body (text or hex of data),
 * which the caller keeps alive until submitted. */
struct msg_row {
	int64_t id;
	const char *skey, *state, *origin, *sender_cell, *body;
	bool charged, is_report, report;
	uint64_t sender_imsi, sender_msisdn, recipient_imsi, recipient_msisdn;
	int dcs; /* -1: text */
	uint8_t mr, st;
	unsigned segments;
	size_t size;
	int64_t submitted_at, expires_at, discharged_at;
};

static unsigned msg_row_params(const struct msg_row *r, struct store_param *p)
{
	p_int(&p[0], r->id);
	p_text(&p[1], r->skey);
	p_text(&p[2], r->state);
	p_int(&p[3], r->charged);
	p_int(&p[4], r->is_report);
	p_int(&p[5], r->report);
	p_text(&p[6], r->origin);
	p_int(&p[7], (int64_t)r->sender_imsi);
	p_int(&p[8], (int64_t)r->sender_msisdn);
	p_int(&p[9], (int64_t)r->recipient_imsi);
	p_int(&p[10], (int64_t)r->recipient_msisdn);
	p_text(&p[11], r->sender_cell);
	p_long(&p[12], r->body);
	p_int(&p[13], r->dcs);
	p_int(&p[14], r->mr);
	p_int(&p[15], r->st);
	p_int(&p[16], r->segments);
	p_int(&p[17], (int64_t)r->size);
	p_int(&p[18], r->submitted_at);
	p_int(&p[19], r->expires_at);
	p_int(&p[20], r->discharged_at);
	return 21;
}

/* --- the centre's thread: delivery ---------------------------------------------------- */

static struct rcpt *rcpt_get(struct smsc *s, uint64_t imsi, bool create)
{
	struct rcpt *r = (struct rcpt *)hfind(&s->rcpts, imsi);
	if (r || !create)
		return r;
	if (!(r = calloc(1, sizeof(*r))))
		return NULL;
	r->node.key = imsi;
	if (hadd(&s->rcpts, &r->node) != 0) {
		free(r);
		return NULL;
	}
	return r;
}

static void rcpt_unlink(struct smsc *s, struct msg *m)
{
	struct rcpt *r = m->r;
	struct msg **p = &r->head, *prev = NULL;
	while (*p && *p != m) {
		prev = *p;
		p = &(*p)->next;
	}
	if (*p)
		*p = m->next;
	if (r->tail == m)
		r->tail = prev;
	if (m->in_flight && r->in_flight)
		r->in_flight--;
	if (!r->head) {
		hdel(&s->rcpts, &r->node);
		free(r);
	}
}

/* The TP-ST of a final outcome (TS 23.040 9.2.3.15). */
static uint8_t status_of(enum smsc_state outcome)
{
	switch (outcome) {
	case SMSC_STATE_DELIVERED:
		return 0x00; /* received by the SME */
	case SMSC_STATE_EXPIRED:
		return 0x46; /* validity period expired */
	case SMSC_STATE_DELETED:
		return 0x48; /* deleted by the SC administration */
	default:
		return 0x41; /* incompatible destination: the recipient refused it */
	}
}

static void add_to_memory(struct smsc *s, struct msg *m);

/* m reached a final state: its row goes, its CDR is written and, when its
 * sender asked, a status report is stored for the sender, in one
 * transaction. m is freed. */
static void finalize(struct smsc *s, struct msg *m, enum smsc_state outcome)
{
	int64_t t = now_s(s);
	char rcell[SMSC_CELL_MAX] = "";
	for (unsigned i = 0; i < s->n_ch && !rcell[0]; i++) {
		if (s->ch[i].cell_of)
			s->ch[i].cell_of(s->ch[i].ctx, m->recipient_imsi, rcell, sizeof(rcell));
	}
	struct store_param del[1], cdr[17], rep[21];
	p_int(&del[0], m->id);
	p_int(&cdr[0], atomic_fetch_add(&s->next_seq, 1));
	p_int(&cdr[1], m->id);
	p_text(&cdr[2], m->origin);
	p_int(&cdr[3], m->is_report);
	p_int(&cdr[4], (int64_t)m->sender_imsi);
	p_int(&cdr[5], (int64_t)m->sender_msisdn);
	p_int(&cdr[6], (int64_t)m->recipient_imsi);
	p_int(&cdr[7], (int64_t)m->recipient_msisdn);
	p_text(&cdr[8], m->sender_cell);
	p_text(&cdr[9], rcell);
	p_int(&cdr[10], m->segments);
	p_int(&cdr[11], (int64_t)m->len);
	p_int(&cdr[12], m->submitted_at * 1000);
	p_int(&cdr[13], now_ms(s));
	p_int(&cdr[14], m->attempts);
	p_text(&cdr[15], smsc_state_name(outcome));
	p_text(&cdr[16],
	       outcome == SMSC_STATE_DELIVERED && m->channel >= 0 ? s->ch[m->channel].name : "");
	struct store_queue_stmt stmts[3] = {
	    {"DELETE FROM sms_message WHERE id = $1", del, 1},
	    {"INSERT INTO sms_cdr (seq, id, origin, is_report, sender_imsi, sender_msisdn, "
	     "recipient_imsi, recipient_msisdn, sender_cell, recipient_cell, segments, size, "
	     "submitted_ms, final_ms, attempts, outcome, channel) VALUES ($1, $2, $3, $4, $5, $6, "
	     "$7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
	     cdr, 17},
	};
	unsigned n = 2;
	struct msg *report = NULL;
	if (m->report && !m->is_report) {
		/* The report travels as a message of its own, to the sender. */
		report = calloc(1, sizeof(*report) + 1);
		if (report) {
			*report = (struct msg){.id = atomic_fetch_add(&s->next_id, 1),
			                       .sender_imsi = m->recipient_imsi,
			                       .sender_msisdn = m->recipient_msisdn,
			                       .recipient_imsi = m->sender_imsi,
			                       .recipient_msisdn = m->sender_msisdn,
			                       .submitted_at = m->submitted_at,
			                       .discharged_at = t,
			                       .expires_at = t + s->opt.validity_s,
			                       .is_report = true,
			                       .mr = m->mr,
			                       .st = status_of(outcome),
			                       .segments = 1,
			                       .channel = -1};
			snprintf(report->origin, sizeof(report->origin), "report");
			char key[48];
			snprintf(key, sizeof(key), "report:%" PRId64, m->id);
			struct msg_row row = {.id = report->id,
			                      .skey = key,
			                      .state = "waiting",
			                      .origin = report->origin,
			                      .sender_cell = "",
			                      .body = "",
			                      .charged = true,
			                      .is_report = true,
			                      .sender_imsi = report->sender_imsi,
			                      .sender_msisdn = report->sender_msisdn,
			                      .recipient_imsi = report->recipient_imsi,
			                      .recipient_msisdn = report->recipient_msisdn,
			                      .dcs = -1,
			                      .mr = report->mr,
			                      .st = report->st,
			                      .segments = 1,
			                      .submitted_at = report->submitted_at,
			                      .expires_at = report->expires_at,
			                      .discharged_at = t};
			stmts[n++] = (struct store_queue_stmt){SQL_INSERT_MSG, rep,
			                                       msg_row_params(&row, rep)};
		}
	}
	if (store_queue_submit_all(s->q, stmts, n, write_done, "a final state") != 0)
		LOGE("sms", "message %" PRId64 ": its CDR could not be queued", m->id);
	LOGI("sms", "message %" PRId64 " %s after %" PRIu32 " attempt(s)", m->id,
	     smsc_state_name(outcome), m->attempts);
	switch (outcome) {
	case SMSC_STATE_DELIVERED:
		count_add(m->is_report ? &s->stats.reports_sent : &s->stats.delivered, 1);
		break;
	case SMSC_STATE_EXPIRED:
		count_add(&s->stats.expired, 1);
		break;
	default:
		count_add(&s->stats.failed, 1);
		break;
	}
	if (m->in_flight)
		count_add(&s->stats.in_flight, -1);
	heap_remove(s, m);
	hdel(&s->by_id, &m->node);
	rcpt_unlink(s, m);
	stored_change(s, m->recipient_imsi, -1);
	free(m);
	if (report) {
		stored_change(s, report->recipient_imsi, 1);
		add_to_memory(s, report);
	}
}

static bool recipient_has_more(const struct msg *m)
{
	for (const struct msg *x = m->r->head; x; x = x->next) {
		if (x != m && !x->in_flight)
			return true;
	}
	return false;
}

/* Hands m to the first channel that reaches its recipient. false: none. */
static bool attempt(struct smsc *s, struct msg *m)
{
	struct smsc_delivery d = {.id = m->id,
	                          .attempt = m->attempts + 1,
	                          .recipient_imsi = m->recipient_imsi,
	                          .recipient_msisdn = m->recipient_msisdn,
	                          .sender_msisdn = m->sender_msisdn,
	                          .submitted_at = m->submitted_at,
	                          .more = recipient_has_more(m),
	                          .is_report = m->is_report,
	                          .mr = m->mr,
	                          .st = m->st,
	                          .discharged_at = m->discharged_at,
	                          .text = m->binary ? "" : m->body,
	                          .text_len = m->binary ? 0 : m->len,
	                          .binary = m->binary,
	                          .data = (const uint8_t *)m->body,
	                          .data_len = m->binary ? m->len : 0,
	                          .dcs = m->dcs,
	                          .report_requested = m->report};
	/* Marked in flight first: a channel may end the attempt before it
	 * returns (the result is an event, handled after this). */
	m->attempts++;
	m->in_flight = true;
	m->deadline = now_s(s) + s->opt.delivery_timeout_s;
	for (unsigned i = 0; i < s->n_ch; i++) {
		if (s->ch[i].deliver(s->ch[i].ctx, &d) == 0) {
			m->channel = (int)i;
			m->r->in_flight++;
			count_add(&s->stats.attempts, 1);
			count_add(&s->stats.in_flight, 1);
			schedule(s, m);
			return true;
		}
	}
	m->attempts--;
	m->in_flight = false;
	return false;
}

/* Starts what may start for r: in order, up to the window, stopping at a
 * message waiting for its retry (so that messages keep their order). */
static void pump(struct smsc *s, struct rcpt *r)
{
	int64_t t = now_s(s);
	for (struct msg *m = r->head; m && !r->absent && r->in_flight < s->opt.window;
	     m = m->next) {
		if (m->in_flight)
			continue;
		if (m->expires_at <= t)
			continue; /* due in the heap: on_due() expires it */
		if (m->retry_at > t)
			break;
		m->retry_at = 0;
		if (!attempt(s, m)) {
			r->absent = true;
			break;
		}
	}
}

/* Puts m in the tables: by id, at the end of its recipient's FIFO, in the
 * heap. 0 or -ENOMEM (m not taken). */
static int enqueue(struct smsc *s, struct msg *m)
{
	m->node.key = (uint64_t)m->id;
	struct rcpt *r = rcpt_get(s, m->recipient_imsi, true);
	if (!r || hadd(&s->by_id, &m->node) != 0)
		return -ENOMEM;
	m->r = r;
	if (r->tail)
		r->tail->next = m;
	else
		r->head = m;
	r->tail = m;
	schedule(s, m);
	return 0;
}

static void add_to_memory(struct smsc *s, struct msg *m)
{
	if (enqueue(s, m) != 0) {
		LOGE("sms",
		     "message %" PRId64 ": out of memory; it stays stored for the next start",
		     m->id);
		stored_change(s, m->recipient_imsi, -1);
		free(m);
		return;
	}
	pump(s, m->r);
}

static void note_error(struct smsc *s, struct msg *m, const char *detail)
{
	struct store_param p[3];
	p_int(&p[0], m->attempts);
	p_text(&p[1], detail ? detail : "");
	p_int(&p[2], m->id);
	store_queue_submit(s->q,
	                   "UPDATE sms_message SET attempts = $1, last_error = $2 WHERE id = $3", p,
	                   3, NULL, NULL);
}

static void on_result(struct smsc *s, const struct ev *e)
{
	struct msg *m = (struct msg *)hfind(&s->by_id, (uint64_t)e->id);
	if (!m || !m->in_flight || m->attempts != e->attempt)
		return; /* stale: the attempt timed out, or the message is final */
	m->in_flight = false;
	m->r->in_flight--;
	count_add(&s->stats.in_flight, -1);
	struct rcpt *r = m->r;
	uint64_t imsi = m->recipient_imsi;
	switch (e->result) {
	case SMSC_DELIVERED:
		finalize(s, m, SMSC_STATE_DELIVERED);
		break;
	case SMSC_FAILED:
		LOGI("sms", "message %" PRId64 ": refused by the recipient (%s)", e->id, e->detail);
		finalize(s, m, SMSC_STATE_FAILED);
		break;
	case SMSC_UNREACHABLE:
		m->retry_at = 0;
		r->absent = true;
		note_error(s, m, e->detail);
		schedule(s, m);
		return;
	case SMSC_TRY_LATER:
	default: {
		size_t n = sizeof(backoff_s) / sizeof(backoff_s[0]);
		m->retry_at = now_s(s) + backoff_s[m->failures < n ? m->failures : n - 1];
		m->failures++;
		count_add(&s->stats.retries, 1);
		note_error(s, m, e->detail);
		schedule(s, m);
		break;
	}
	}
	/* r is freed when finalize took its last message. */
	r = rcpt_get(s, imsi, false);
	if (r)
		pump(s, r);
}

static void on_due(struct smsc *s, int64_t t)
{
	while (s->heap_n && s->heap[1]->due <= t) {
		struct msg *m = s->heap[1];
		if (!m->in_flight && m->expires_at <= t) {
			finalize(s, m, SMSC_STATE_EXPIRED);
			continue;
		}
		if (m->in_flight) {
			/* The channel never answered: as a temporary failure. */
			struct ev e = {
			    .id = m->id, .attempt = m->attempts, .result = SMSC_TRY_LATER};
			snprintf(e.detail, sizeof(e.detail), "no answer");
			on_result(s, &e);
			continue;
		}
		m->retry_at = 0;
		schedule(s, m);
		m->r->absent = false; /* a retry asks the channels again */
		pump(s, m->r);
	}
}

static int unhold(struct smsc *s, int64_t id);

/* Held messages whose validity ended while they waited for review go into
 * the queue, where on_due() ends them as expired (CDR, status report). */
static void expire_held(struct smsc *s, int64_t t)
{
	enum { BATCH = 256 };
	int64_t ids[BATCH];
	size_t n = 0;
	struct store_stmt *st;
	store_lock(s->st);
	if (store_prepare(s->st,
	                  "SELECT id FROM sms_message WHERE state = 'held' AND expires_at <= $1 "
	                  "ORDER BY id LIMIT 256",
	                  &st) == 0) {
		store_bind_int64(st, 1, t);
		while (n < BATCH && store_step(st) == STORE_ROW)
			ids[n++] = store_col_int64(st, 0);
		store_reset(st);
	}
	store_unlock(s->st);
	for (size_t i = 0; i < n; i++) {
		if (unhold(s, ids[i]) == 0)
			LOGN("sms", "held message %" PRId64 " expired before review", ids[i]);
	}
}

/* Drops the segments of messages that never became complete; ends held
 * messages past their validity. */
static void sweep(struct smsc *s, int64_t t)
{
	expire_held(s, t);
	pthread_mutex_lock(&s->mu);
	size_t n = sms_reasm_expire(s->reasm, t);
	pthread_mutex_unlock(&s->mu);
	if (n) {
		LOGW("sms", "%zu incomplete concatenated message(s) dropped after %ld s", n,
		     s->opt.reassembly_timeout_s);
		count_add(&s->stats.incomplete_dropped, (int64_t)n);
	}
	struct store_param p[1];
	p_int(&p[0], t - s->opt.reassembly_timeout_s);
	store_queue_submit(s->q, "DELETE FROM sms_part WHERE received_at < $1", p, 1, NULL, NULL);
	/* A repeat comes within a message's life, not after. */
	p_int(&p[0], t - s->opt.max_validity_s - s->opt.reassembly_timeout_s);
	store_queue_submit(s->q, "DELETE FROM sms_key WHERE at < $1", p, 1, NULL, NULL);
}

static void *centre(void *arg)
{
	struct smsc *s = arg;
	pthread_mutex_lock(&s->mu);
	while (!s->stopping) {
		struct ev *e = s->ev_head;
		s->ev_head = s->ev_tail = NULL;
		pthread_mutex_unlock(&s->mu);
		while (e) {
			struct ev *next = e->next;
			if (e->type == EV_NEW) {
				add_to_memory(s, e->m);
			} else if (e->type == EV_RESULT) {
				on_result(s, e);
			} else {
				struct rcpt *r = rcpt_get(s, e->imsi, false);
				if (r) {
					r->absent = false;
					for (struct msg *m = r->head; m; m = m->next) {
						if (!m->in_flight && m->retry_at) {
							m->retry_at = 0;
							schedule(s, m);
						}
					}
					pump(s, r);
				}
			}
			free(e);
			e = next;
		}
		int64_t t = now_s(s);
		on_due(s, t);
		if (t >= s->next_sweep) {
			sweep(s, t);
			s->next_sweep = t + SWEEP_S;
		}
		int64_t wake = s->next_sweep;
		if (s->heap_n && s->heap[1]->due < wake)
			wake = s->heap[1]->due;
		pthread_mutex_lock(&s->mu);
		if (!s->ev_head && !s->stopping) {
			/* Due times are in koryod's clock (which may be offset): wait
			 * the difference on the real one. */
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			int64_t wait = wake - now_s(s);
			ts.tv_sec += wait < 1 ? 1 : wait > SWEEP_S ? SWEEP_S : wait;
			pthread_cond_timedwait(&s->cv, &s->mu, &ts);
		}
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* --- the channels' calls ------------------------------------------------------------- */

int smsc_add_channel(struct smsc *s, const struct smsc_channel *ch)
{
	if (s->n_ch >= MAX_CHANNELS || !ch->deliver)
		return -ENOSPC;
	s->ch[s->n_ch++] = *ch;
	return 0;
}

void smsc_delivery_done(struct smsc *s, int64_t id, uint32_t attempt,
                        enum smsc_delivery_result result, const char *detail)
{
	struct ev *e = calloc(1, sizeof(*e));
	if (!e)
		return; /* the attempt's deadline ends it */
	e->type = EV_RESULT;
	e->id = id;
	e->attempt = attempt;
	e->result = result;
	snprintf(e->detail, sizeof(e->detail), "%s", detail ? detail : "");
	post(s, e);
}

void smsc_recipient_ready(struct smsc *s, uint64_t imsi)
{
	struct ev *e = calloc(1, sizeof(*e));
	if (!e)
		return;
	e->type = EV_READY;
	e->imsi = imsi;
	post(s, e);
}

/* --- submission ---------------------------------------------------------------------- */

struct sub_job {
	struct smsc *s;
	smsc_submit_fn done;
	void *ctx;
	struct msg *m; /* the message, made before it is stored */
	bool held;
	char skey[SMSC_KEY_MAX];
	char dest_kind[48];
	/* A segment: where it belongs and what makes the whole message. */
	bool part;
	char part_key[SMSC_KEY_MAX]; /* the segment that completed the message */
	struct smsc_submission sub;
	char recipient[48], origin[16], cell[SMSC_CELL_MAX];
	char *part_text;
};

static void answer(smsc_submit_fn done, void *ctx, enum smsc_outcome o, int sip, uint8_t rp,
                   int64_t id, const char *reason)
{
	struct smsc_result r = {.outcome = o, .id = id, .sip_status = sip, .rp_cause = rp};
	snprintf(r.reason, sizeof(r.reason), "%s", reason ? reason : "");
	if (done)
		done(ctx, &r);
}

static void job_free(struct sub_job *j)
{
	free(j->m);
	free(j->part_text);
	free(j);
}

static void job_answer(struct sub_job *j, enum smsc_outcome o, int sip, uint8_t rp, int64_t id,
                       const char *reason)
{
	answer(j->done, j->ctx, o, sip, rp, id, reason);
	job_free(j);
}

/* Refused by the policy or a content rule: the rule is named. */
static void job_refuse(struct sub_job *j, uint8_t rp, const char *rule, const char *reason)
{
	count_add(&j->s->stats.refused, 1);
	struct smsc_result r = {.outcome = SMSC_REFUSED, .sip_status = 403, .rp_cause = rp};
	snprintf(r.reason, sizeof(r.reason), "%s", reason);
	snprintf(r.rule, sizeof(r.rule), "%s", rule);
	if (j->done)
		j->done(j->ctx, &r);
	job_free(j);
}

/* Reserves room for one more message to imsi: 0, or the refusal. */
static int reserve(struct smsc *s, uint64_t imsi)
{
	pthread_mutex_lock(&s->mu);
	int rc = s->stored >= s->opt.max_stored                    ? -ENOSPC
	         : stored_for(s, imsi) >= s->opt.max_per_recipient ? -EDQUOT
	                                                           : 0;
	pthread_mutex_unlock(&s->mu);
	if (rc == 0)
		stored_change(s, imsi, 1);
	return rc;
}

static void accept_job(struct sub_job *j)
{
	struct smsc *s = j->s;
	int64_t id = j->m->id;
	count_add(&s->stats.submitted, 1);
	if (j->held) {
		count_add(&s->stats.held, 1);
		struct smsc_result r = {
		    .outcome = SMSC_ACCEPTED, .id = id, .held = true, .sip_status = 202};
		if (j->done)
			j->done(j->ctx, &r);
		job_free(j);
		return;
	}
	struct ev *e = calloc(1, sizeof(*e));
	if (e) {
		e->type = EV_NEW;
		e->m = j->m;
		j->m = NULL;
		post(s, e);
	} else {
		LOGE("sms",
		     "message %" PRId64 ": out of memory; it stays stored for the next start", id);
	}
	job_answer(j, SMSC_ACCEPTED, 202, 0, id, NULL);
}

static void drop_row(struct smsc *s, int64_t id)
{
	struct store_param p[1];
	p_int(&p[0], id);
	store_queue_submit(s->q, "DELETE FROM sms_message WHERE id = $1", p, 1, write_done,
	                   "a refused message's row");
}

static void on_charged(void *ctx, const struct ocs_grant *g)
{
	struct sub_job *j = ctx;
	struct smsc *s = j->s;
	if (g->status == 0) {
		struct store_param p[1];
		p_int(&p[0], j->m->id);
		store_queue_submit(s->q, "UPDATE sms_message SET charged = 1 WHERE id = $1", p, 1,
		                   write_done, "a message's charge");
		accept_job(j);
		return;
	}
	drop_row(s, j->m->id);
	stored_change(s, j->m->recipient_imsi, -1);
	if (g->status == -EIO) {
		job_answer(j, SMSC_ERROR, 500, SMS_RP_CAUSE_NETWORK_OUT_OF_ORDER, 0, g->reason);
		return;
	}
	count_add(&s->stats.no_credit, 1);
	LOGI("sms", "message %" PRId64 " not charged: %s", j->m->id, g->reason);
	job_answer(j, SMSC_NO_CREDIT, 403, SMS_RP_CAUSE_CALL_BARRED, 0, g->reason);
}

static void charge(struct sub_job *j)
{
	char op[48];
	snprintf(op, sizeof(op), "sms:%" PRId64, j->m->id);
	if (ocs_sms_charge(j->s->opt.ocs, op, j->m->sender_imsi, j->dest_kind, j->m->segments,
	                   on_charged, j) != 0) {
		struct ocs_grant g = {.status = -EIO};
		snprintf(g.reason, sizeof(g.reason), "Charging is not available now; try again.");
		on_charged(j, &g);
	}
}

/* The id of the message submitted under key, 0 if none (or a segment that
 * did not complete its message). */
static int64_t id_of_key(struct smsc *s, const char *key)
{
	int64_t id = 0;
	struct store_stmt *st;
	store_lock(s->st);
	if (store_prepare(s->st, "SELECT id FROM sms_key WHERE skey = $1", &st) == 0) {
		store_bind_text(st, 1, key);
		if (store_step(st) == STORE_ROW)
			id = store_col_int64(st, 0);
		store_reset(st);
	}
	store_unlock(s->st);
	return id;
}

static void on_stored(void *ctx, int rc)
{
	struct sub_job *j = ctx;
	struct smsc *s = j->s;
	if (rc == -EEXIST) {
		/* A repeat of a submission already stored: the same answer. */
		stored_change(s, j->m->recipient_imsi, -1);
		job_answer(j, SMSC_ACCEPTED, 202, 0, id_of_key(s, j->skey), NULL);
		return;
	}
	if (rc != 0) {
		stored_change(s, j->m->recipient_imsi, -1);
		job_answer(j, SMSC_ERROR, 500, SMS_RP_CAUSE_NETWORK_OUT_OF_ORDER, 0,
		           "The message could not be stored; try again.");
		return;
	}
	if (s->opt.ocs)
		charge(j);
	else
		accept_job(j);
}

/* The tariff's name for an on-net recipient (as the proxy names it). */
static void dest_kind_of(struct smsc *s, const struct hlr_subscr *rcp, char *out, size_t cap)
{
	const struct hlr_profile *prof = hlr_registry_profile(s->reg);
	if (rcp->class_id < prof->n_classes)
		snprintf(out, cap, "class:%s", prof->classes[rcp->class_id].name);
	else
		snprintf(out, cap, "national");
}

/* A complete message: content rules, room, the row (and the removal of
 * its segments' rows), then the charge. Takes j. */
static void submit_whole(struct sub_job *j, const struct hlr_subscr *snd,
                         const struct hlr_subscr *rcp, const char *text, size_t text_len)
{
	struct smsc *s = j->s;
	const struct smsc_submission *sub = &j->sub;
	const struct hlr_profile *prof = hlr_registry_profile(s->reg);
	int rc = reserve(s, rcp->imsi);
	if (rc != 0) {
		job_answer(j, SMSC_FULL, rc == -ENOSPC ? 503 : 480,
		           rc == -ENOSPC ? SMS_RP_CAUSE_CONGESTION : SMS_RP_CAUSE_MEMORY_EXCEEDED,
		           0,
		           rc == -ENOSPC ? "The message centre is full; try again later."
		                         : "Too many messages wait for this recipient.");
		return;
	}
	size_t len = sub->binary ? sub->data_len : text_len;
	struct msg *m = calloc(1, sizeof(*m) + len + 1);
	char *hexbody = sub->binary ? malloc(2 * len + 1) : NULL;
	if (!m || (sub->binary && !hexbody)) {
		free(m);
		free(hexbody);
		stored_change(s, rcp->imsi, -1);
		job_answer(j, SMSC_ERROR, 500, SMS_RP_CAUSE_CONGESTION, 0, "Out of memory.");
		return;
	}
	int64_t t = now_s(s);
	long validity = sub->validity_s > 0 ? sub->validity_s : s->opt.validity_s;
	if (validity > s->opt.max_validity_s)
		validity = s->opt.max_validity_s;
	*m = (struct msg){.id = atomic_fetch_add(&s->next_id, 1),
	                  .sender_imsi = snd->imsi,
	                  .sender_msisdn = snd->msisdn,
	                  .recipient_imsi = rcp->imsi,
	                  .recipient_msisdn = rcp->msisdn,
	                  .submitted_at = t,
	                  .expires_at = t + validity,
	                  .report = sub->report,
	                  .binary = sub->binary,
	                  .dcs = sub->dcs,
	                  .mr = sub->mr,
	                  .channel = -1,
	                  .len = len};
	memcpy(m->body, sub->binary ? (const char *)sub->data : text, len);
	m->body[len] = '\0';
	int segments = smsc_segments_of(m->body, len, m->binary, len);
	if (segments < 0) {
		free(m);
		free(hexbody);
		stored_change(s, rcp->imsi, -1);
		job_answer(j, SMSC_INVALID, segments == SMS_E_UTF8 ? 400 : 413,
		           SMS_RP_CAUSE_SEMANTICALLY_INCORRECT, 0,
		           segments == SMS_E_UTF8 ? "The text is not UTF-8."
		                                  : "The text needs more than 255 segments.");
		return;
	}
	m->segments = (unsigned)segments;
	snprintf(m->origin, sizeof(m->origin), "%s", sub->origin ? sub->origin : "");
	snprintf(m->sender_cell, sizeof(m->sender_cell), "%s", sub->cell ? sub->cell : "");
	if (hexbody)
		hex_encode(sub->data, len, hexbody);
	j->m = m;
	/* The content rules read the text as stored (NUL-terminated). */
	if (s->opt.rules) {
		char from[24], to[24];
		snprintf(from, sizeof(from), "%" PRIu64, snd->msisdn);
		snprintf(to, sizeof(to), "%" PRIu64, rcp->msisdn);
		struct sms_verdict v;
		const char *cls =
		    snd->class_id < prof->n_classes ? prof->classes[snd->class_id].name : "";
		sms_rules_check(s->opt.rules, from, cls, to, m->binary ? "" : m->body, &v);
		if (v.action == SMS_ACTION_REFUSE) {
			LOGI("sms", "a message from %s to %s refused by rule %s", from, to, v.rule);
			free(hexbody);
			stored_change(s, rcp->imsi, -1);
			job_refuse(j, SMS_RP_CAUSE_SM_REJECTED, v.rule,
			           v.reason[0] ? v.reason : "Refused by the operator's rules");
			return;
		}
		j->held = v.action == SMS_ACTION_HOLD;
	}
	dest_kind_of(s, rcp, j->dest_kind, sizeof(j->dest_kind));
	struct msg_row row = {.id = m->id,
	                      .skey = j->skey,
	                      .state = j->held ? "held" : "waiting",
	                      .origin = m->origin,
	                      .sender_cell = m->sender_cell,
	                      .body = hexbody ? hexbody : m->body,
	                      .charged = !s->opt.ocs,
	                      .report = m->report,
	                      .sender_imsi = m->sender_imsi,
	                      .sender_msisdn = m->sender_msisdn,
	                      .recipient_imsi = m->recipient_imsi,
	                      .recipient_msisdn = m->recipient_msisdn,
	                      .dcs = m->binary ? m->dcs : -1,
	                      .mr = m->mr,
	                      .segments = m->segments,
	                      .size = len,
	                      .submitted_at = m->submitted_at,
	                      .expires_at = m->expires_at};
	struct store_param p[21], pk[3], pp[2], pu[2];
	p_text(&pk[0], j->skey);
	p_int(&pk[1], m->id);
	p_int(&pk[2], m->submitted_at);
	struct store_queue_stmt stmts[4] = {
	    {"INSERT INTO sms_key (skey, id, at) VALUES ($1, $2, $3)", pk, 3},
	    {SQL_INSERT_MSG, p, msg_row_params(&row, p)}};
	unsigned n = 2;
	if (j->part) {
		/* The segments' rows go with the whole message's row; a repeat of
		 * the segment that completed it will get the message's id. */
		p_int(&pp[0], (int64_t)snd->imsi);
		p_int(&pp[1], sub->ref);
		stmts[n++] = (struct store_queue_stmt){
		    "DELETE FROM sms_part WHERE sender_imsi = $1 AND ref = $2", pp, 2};
		p_int(&pu[0], m->id);
		p_text(&pu[1], j->part_key);
		stmts[n++] =
		    (struct store_queue_stmt){"UPDATE sms_key SET id = $1 WHERE skey = $2", pu, 2};
	}
	rc = store_queue_submit_all(s->q, stmts, n, on_stored, j);
	free(hexbody);
	if (rc != 0) {
		stored_change(s, rcp->imsi, -1);
		job_answer(j, SMSC_ERROR, 500, SMS_RP_CAUSE_NETWORK_OUT_OF_ORDER, 0,
		           "The message could not be stored; try again.");
	}
}

/* Sender and recipient of sub, and whether the policy lets one text the
 * other: 0, or the answer given (j freed). */
static int resolve(struct sub_job *j, struct hlr_subscr *snd, struct hlr_subscr *rcp)
{
	struct smsc *s = j->s;
	const struct smsc_submission *sub = &j->sub;
	if (hlr_subscr_get_by_imsi(s->reg, sub->sender_imsi, snd) != 0 || !snd->msisdn) {
		job_answer(j, SMSC_INVALID, 403, SMS_RP_CAUSE_UNIDENTIFIED_SUBSCRIBER, 0,
		           "The sender is not a subscriber with a number.");
		return -1;
	}
	bool on_net =
	    hlr_subscr_get_by_number(s->reg, sub->recipient, strlen(sub->recipient), rcp) == 0 &&
	    rcp->msisdn;
	if (s->opt.policy) {
		struct policy_dest dest;
		char num[24];
		snprintf(num, sizeof(num), "+%" PRIu64, on_net ? rcp->msisdn : 0);
		policy_analyse(s->opt.policy, on_net ? num : sub->recipient, &dest);
		struct policy_verdict v;
		policy_check(s->opt.policy, snd->class_id, POLICY_SMS, &dest,
		             on_net ? (int)rcp->class_id : -1, &v);
		if (!v.allowed) {
			LOGI("sms", "a message to %s refused by rule %s", sub->recipient, v.rule);
			job_refuse(j, SMS_RP_CAUSE_CALL_BARRED, v.rule, v.reason);
			return -1;
		}
	}
	if (!on_net) {
		job_answer(j, SMSC_UNKNOWN_RECIPIENT, 404, SMS_RP_CAUSE_UNASSIGNED_NUMBER, 0,
		           "No subscriber has this number.");
		return -1;
	}
	return 0;
}

static void drop_parts(struct smsc *s, uint64_t imsi, uint16_t ref)
{
	struct store_param p[2];
	p_int(&p[0], (int64_t)imsi);
	p_int(&p[1], ref);
	store_queue_submit(s->q, "DELETE FROM sms_part WHERE sender_imsi = $1 AND ref = $2", p, 2,
	                   write_done, "segments");
}

/* A stored segment meets the others (under s->mu): the whole text when it
 * completes a message. 1 complete (*text, *len malloc'd), 0 waiting, or
 * an sms_err. */
static int reassemble(struct smsc *s, uint64_t imsi, uint16_t ref, uint8_t total, uint8_t seq,
                      const char *text, size_t len, int64_t at, char **out, size_t *out_len)
{
	char key[24];
	snprintf(key, sizeof(key), "%" PRIu64, imsi);
	struct sms_udh u = {
	    .has_concat = true, .concat16 = true, .ref = ref, .total = total, .seq = seq};
	char *buf = malloc(SMSC_TEXT_MAX + 1);
	if (!buf)
		return SMS_E_NOSPC;
	pthread_mutex_lock(&s->mu);
	int rc = sms_reasm_add(s->reasm, key, &u, text, len, at, buf, SMSC_TEXT_MAX + 1, out_len);
	pthread_mutex_unlock(&s->mu);
	if (rc == 1)
		*out = buf;
	else
		free(buf);
	return rc;
}

static void on_part_stored(void *ctx, int rc)
{
	struct sub_job *j = ctx;
	struct smsc *s = j->s;
	if (rc == -EEXIST) {
		/* A repeat: of the segment that completed a message, the message's
		 * answer; of another, stored. */
		int64_t id = id_of_key(s, j->skey);
		job_answer(j, id ? SMSC_ACCEPTED : SMSC_SEGMENT_STORED, 202, 0, id, NULL);
		return;
	}
	if (rc != 0) {
		job_answer(j, SMSC_ERROR, 500, SMS_RP_CAUSE_NETWORK_OUT_OF_ORDER, 0,
		           "The message could not be stored; try again.");
		return;
	}
	char *whole = NULL;
	size_t len = 0;
	rc = reassemble(s, j->sub.sender_imsi, j->sub.ref, j->sub.total, j->sub.seq, j->part_text,
	                j->sub.text_len, now_s(s), &whole, &len);
	if (rc == 0) {
		job_answer(j, SMSC_SEGMENT_STORED, 202, 0, 0, NULL);
		return;
	}
	if (rc < 0) {
		drop_parts(s, j->sub.sender_imsi, j->sub.ref);
		job_answer(j, rc == SMS_E_FULL ? SMSC_FULL : SMSC_INVALID,
		           rc == SMS_E_FULL ? 503 : 400,
		           rc == SMS_E_FULL ? SMS_RP_CAUSE_CONGESTION
		                            : SMS_RP_CAUSE_SEMANTICALLY_INCORRECT,
		           0,
		           rc == SMS_E_FULL ? "Too many incomplete messages; try again later."
		                            : "The segments of this message do not agree.");
		return;
	}
	/* Complete: submitted whole, under a key of its own. */
	struct hlr_subscr snd, rcp;
	memcpy(j->part_key, j->skey, sizeof(j->part_key));
	size_t kl = strlen(j->skey);
	snprintf(j->skey + (kl > SMSC_KEY_MAX - 7 ? SMSC_KEY_MAX - 7 : kl), 7, ":whole");
	uint64_t imsi = j->sub.sender_imsi;
	uint16_t ref = j->sub.ref;
	if (resolve(j, &snd, &rcp) != 0) {
		drop_parts(s, imsi, ref);
		free(whole);
		return;
	}
	submit_whole(j, &snd, &rcp, whole, len);
	free(whole);
}

static void submit_part(struct sub_job *j)
{
	struct smsc *s = j->s;
	const struct smsc_submission *sub = &j->sub;
	struct store_param p[13];
	p_int(&p[0], (int64_t)sub->sender_imsi);
	p_int(&p[1], sub->ref);
	p_int(&p[2], sub->total);
	p_int(&p[3], sub->seq);
	p_text(&p[4], j->skey);
	p_text(&p[5], sub->recipient);
	p_long(&p[6], j->part_text);
	p_int(&p[7], sub->report);
	p_int(&p[8], sub->mr);
	p_int(&p[9], sub->validity_s);
	p_text(&p[10], sub->origin);
	p_text(&p[11], sub->cell);
	p_int(&p[12], now_s(s));
	struct store_param pk[3];
	p_text(&pk[0], j->skey);
	p_int(&pk[1], 0);
	p_int(&pk[2], now_s(s));
	struct store_queue_stmt stmts[2] = {
	    {"INSERT INTO sms_key (skey, id, at) VALUES ($1, $2, $3)", pk, 3},
	    {"INSERT INTO sms_part (sender_imsi, ref, total, seq, skey, recipient, body, report, "
	     "mr, validity, origin, sender_cell, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, "
	     "$8, $9, $10, $11, $12, $13)",
	     p, 13}};
	int rc = store_queue_submit_all(s->q, stmts, 2, on_part_stored, j);
	if (rc != 0)
		job_answer(j, SMSC_ERROR, 500, SMS_RP_CAUSE_NETWORK_OUT_OF_ORDER, 0,
		           "The message could not be stored; try again.");
}

static bool printable(const char *s, size_t max)
{
	size_t n = 0;
	for (; s[n]; n++) {
		if (n >= max || (unsigned char)s[n] < 0x20 || s[n] == 0x7f)
			return false;
	}
	return n > 0;
}

/* Copies what the job keeps of m (its pointers may not outlive the call). */
static int job_copy(struct sub_job *j, const struct smsc_submission *m)
{
	j->sub = *m;
	snprintf(j->skey, sizeof(j->skey), "%s", m->key);
	snprintf(j->recipient, sizeof(j->recipient), "%s", m->recipient);
	snprintf(j->origin, sizeof(j->origin), "%s", m->origin ? m->origin : "");
	snprintf(j->cell, sizeof(j->cell), "%s", m->cell ? m->cell : "");
	j->sub.recipient = j->recipient;
	j->sub.origin = j->origin;
	j->sub.cell = j->cell;
	j->sub.key = j->skey;
	if (m->concat) {
		if (!(j->part_text = malloc(m->text_len + 1)))
			return -ENOMEM;
		memcpy(j->part_text, m->text, m->text_len);
		j->part_text[m->text_len] = '\0';
		j->sub.text = j->part_text;
	}
	return 0;
}

int smsc_submit(struct smsc *s, const struct smsc_submission *m, smsc_submit_fn done, void *ctx)
{
	const char *bad = !m->key || !printable(m->key, SMSC_KEY_MAX - 8) ? "a submission key"
	                  : !m->recipient || !m->recipient[0] || strlen(m->recipient) >= 48
	                      ? "a recipient"
	                  : m->binary ? (m->data_len > SMSC_DATA_MAX ? "8-bit data too long" : NULL)
	                  : !m->text || m->text_len > SMSC_TEXT_MAX ? "text too long"
	                  : m->concat && (m->binary || !m->total || !m->seq || m->seq > m->total)
	                      ? "a valid concatenation of text"
	                      : NULL;
	if (bad) {
		char r[96];
		snprintf(r, sizeof(r), "The message needs %s.", bad);
		answer(done, ctx, SMSC_INVALID, 400, SMS_RP_CAUSE_SEMANTICALLY_INCORRECT, 0, r);
		return 0;
	}
	struct sub_job *j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->s = s;
	j->done = done;
	j->ctx = ctx;
	if (job_copy(j, m) != 0) {
		free(j);
		return -ENOMEM;
	}
	struct hlr_subscr snd, rcp;
	if (resolve(j, &snd, &rcp) != 0)
		return 0;
	if (m->concat && m->total > 1) {
		j->part = true;
		submit_part(j);
		return 0;
	}
	submit_whole(j, &snd, &rcp, m->text, m->text_len);
	return 0;
}

/* --- start and stop -------------------------------------------------------------------- */

/* The columns msg_of_row reads. */
#define MSG_COLS                                                                                   \
	"SELECT id, state, is_report, report, origin, sender_imsi, sender_msisdn, "                \
	"recipient_imsi, "                                                                         \
	"recipient_msisdn, sender_cell, charged, body, dcs, mr, st, segments, submitted_at, "      \
	"expires_at, discharged_at, attempts "

/* A message of a stored row (MSG_COLS). */
static struct msg *msg_of_row(struct store_stmt *st)
{
	const char *body = store_col_text(st, 11);
	int64_t dcs = store_col_int64(st, 12);
	size_t blen = body ? strlen(body) : 0;
	bool binary = dcs >= 0;
	size_t len = binary ? blen / 2 : blen;
	struct msg *m = calloc(1, sizeof(*m) + len + 1);
	if (!m)
		return NULL;
	*m = (struct msg){.id = store_col_int64(st, 0),
	                  .is_report = store_col_int64(st, 2) != 0,
	                  .report = store_col_int64(st, 3) != 0,
	                  .sender_imsi = (uint64_t)store_col_int64(st, 5),
	                  .sender_msisdn = (uint64_t)store_col_int64(st, 6),
	                  .recipient_imsi = (uint64_t)store_col_int64(st, 7),
	                  .recipient_msisdn = (uint64_t)store_col_int64(st, 8),
	                  .binary = binary,
	                  .dcs = (uint8_t)(binary ? dcs : 0),
	                  .mr = (uint8_t)store_col_int64(st, 13),
	                  .st = (uint8_t)store_col_int64(st, 14),
	                  .segments = (unsigned)store_col_int64(st, 15),
	                  .submitted_at = store_col_int64(st, 16),
	                  .expires_at = store_col_int64(st, 17),
	                  .discharged_at = store_col_int64(st, 18),
	                  .attempts = (uint32_t)store_col_int64(st, 19),
	                  .channel = -1,
	                  .len = len};
	snprintf(m->origin, sizeof(m->origin), "%s", store_col_text(st, 4));
	snprintf(m->sender_cell, sizeof(m->sender_cell), "%s", store_col_text(st, 9));
	if (binary) {
		if (hex_decode(body, (uint8_t *)m->body, len) != 0)
			m->len = 0;
	} else if (len) {
		memcpy(m->body, body, len);
	}
	return m;
}

/* Messages stored before the stop: held ones are counted, the others
 * return to memory; those whose charge never answered are charged again
 * (the same operation: charged once). */
static int load_messages(struct smsc *s, struct msg ***charge_again, size_t *n_again)
{
	struct store_stmt *st;
	int rc = 0;
	size_t cap = 0;
	store_lock(s->st);
	if (store_prepare(s->st, MSG_COLS "FROM sms_message ORDER BY id", &st) != 0) {
		store_unlock(s->st);
		return -EIO;
	}
	int step;
	while ((step = store_step(st)) == STORE_ROW) {
		uint64_t rimsi = (uint64_t)store_col_int64(st, 7);
		stored_change(s, rimsi, 1);
		bool held = strcmp(store_col_text(st, 1), "held") == 0;
		bool uncharged = store_col_int64(st, 10) == 0 && s->opt.ocs;
		if (held && !uncharged) {
			count_add(&s->stats.held, 1);
			continue;
		}
		struct msg *m = msg_of_row(st);
		if (!m) {
			rc = -ENOMEM;
			break;
		}
		m->held = held;
		if (uncharged) {
			if (*n_again == cap) {
				cap = cap ? cap * 2 : 64;
				struct msg **a = realloc(*charge_again, cap * sizeof(*a));
				if (!a) {
					free(m);
					rc = -ENOMEM;
					break;
				}
				*charge_again = a;
			}
			(*charge_again)[(*n_again)++] = m;
			continue;
		}
		if (enqueue(s, m) != 0) {
			free(m);
			rc = -ENOMEM;
			break;
		}
	}
	if (step < 0)
		rc = -EIO;
	store_reset(st);
	store_unlock(s->st);
	return rc;
}

/* Charges again a message whose charge's answer was lost in a stop. */
static void charge_again(struct smsc *s, struct msg *m)
{
	struct sub_job *j = calloc(1, sizeof(*j));
	struct hlr_subscr rcp;
	if (!j || hlr_subscr_get_by_imsi(s->reg, m->recipient_imsi, &rcp) != 0) {
		free(j);
		LOGW("sms", "message %" PRId64 ": its recipient is gone; dropped", m->id);
		drop_row(s, m->id);
		stored_change(s, m->recipient_imsi, -1);
		free(m);
		return;
	}
	j->s = s;
	j->m = m;
	j->held = m->held;
	dest_kind_of(s, &rcp, j->dest_kind, sizeof(j->dest_kind));
	charge(j);
}

/* Segments stored before the stop go back into the reassembly table; a
 * message they complete (the stop came before it was made) is submitted. */
static int load_parts(struct smsc *s)
{
	struct store_stmt *st;
	store_lock(s->st);
	if (store_prepare(s->st,
	                  "SELECT sender_imsi, ref, total, seq, skey, recipient, body, report, mr, "
	                  "validity, origin, sender_cell, received_at FROM sms_part "
	                  "ORDER BY received_at, seq",
	                  &st) != 0) {
		store_unlock(s->st);
		return -EIO;
	}
	struct sub_job *whole[16];
	char *texts[16];
	size_t lens[16], n = 0;
	int step;
	while ((step = store_step(st)) == STORE_ROW) {
		const char *body = store_col_text(st, 6);
		char *text = NULL;
		size_t len = 0;
		int rc = reassemble(
		    s, (uint64_t)store_col_int64(st, 0), (uint16_t)store_col_int64(st, 1),
		    (uint8_t)store_col_int64(st, 2), (uint8_t)store_col_int64(st, 3), body,
		    strlen(body), store_col_int64(st, 12), &text, &len);
		if (rc != 1)
			continue;
		struct sub_job *j = n < 16 ? calloc(1, sizeof(*j)) : NULL;
		if (!j) {
			free(text);
			continue; /* its segments' rows stay: the sweep drops them */
		}
		struct smsc_submission sub = {.origin = store_col_text(st, 10),
		                              .key = store_col_text(st, 4),
		                              .sender_imsi = (uint64_t)store_col_int64(st, 0),
		                              .recipient = store_col_text(st, 5),
		                              .text = text,
		                              .text_len = len,
		                              .ref = (uint16_t)store_col_int64(st, 1),
		                              .report = store_col_int64(st, 7) != 0,
		                              .mr = (uint8_t)store_col_int64(st, 8),
		                              .validity_s = store_col_int64(st, 9),
		                              .cell = store_col_text(st, 11)};
		j->s = s;
		j->part = true;
		job_copy(j, &sub);
		memcpy(j->part_key, j->skey, sizeof(j->part_key));
		size_t kl = strlen(j->skey);
		snprintf(j->skey + (kl > SMSC_KEY_MAX - 7 ? SMSC_KEY_MAX - 7 : kl), 7, ":whole");
		whole[n] = j;
		texts[n] = text;
		lens[n++] = len;
	}
	store_reset(st);
	store_unlock(s->st);
	for (size_t i = 0; i < n; i++) {
		struct hlr_subscr snd, rcp;
		uint64_t imsi = whole[i]->sub.sender_imsi;
		uint16_t ref = whole[i]->sub.ref;
		if (resolve(whole[i], &snd, &rcp) == 0)
			submit_whole(whole[i], &snd, &rcp, texts[i], lens[i]);
		else
			drop_parts(s, imsi, ref);
		free(texts[i]);
	}
	return step < 0 ? -EIO : 0;
}

static int64_t max_of(struct store *st, const char *sql)
{
	struct store_stmt *s;
	int64_t v = 0;
	if (store_prepare(st, sql, &s) == 0) {
		if (store_step(s) == STORE_ROW)
			v = store_col_int64(s, 0);
		store_reset(s);
	}
	return v;
}

int smsc_open(const struct smsc_options *opt, struct hlr_registry *reg, struct store *st,
              struct store_queue *q, struct smsc **out)
{
	struct smsc *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->opt = *opt;
	if (!s->opt.window)
		s->opt.window = 1;
	s->reg = reg;
	s->st = st;
	s->q = q;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->reasm = sms_reasm_new(100000, 64u << 20,
	                         opt->reassembly_timeout_s > 0 ? opt->reassembly_timeout_s : 3600);
	if (!s->reasm) {
		smsc_close(s);
		return -ENOMEM;
	}
	store_lock(st);
	int64_t a = max_of(st, "SELECT MAX(id) FROM sms_message");
	int64_t b = max_of(st, "SELECT MAX(id) FROM sms_cdr");
	atomic_store(&s->next_id, (a > b ? a : b) + 1);
	atomic_store(&s->next_seq, max_of(st, "SELECT MAX(seq) FROM sms_cdr") + 1);
	store_unlock(st);
	*out = s;
	return 0;
}

static void msgs_free(struct smsc *s)
{
	for (size_t i = 1; i <= s->heap_n; i++)
		free(s->heap[i]);
	s->heap_n = 0;
	for (size_t i = 0; i < s->rcpts.cap; i++) {
		for (struct hnode *n = s->rcpts.b[i], *next; n; n = next) {
			next = n->next;
			free(n);
		}
	}
	for (size_t i = 0; i < s->counts.cap; i++) {
		for (struct hnode *n = s->counts.b[i], *next; n; n = next) {
			next = n->next;
			free(n);
		}
	}
	free(s->heap);
	free(s->by_id.b);
	free(s->rcpts.b);
	free(s->counts.b);
}

int smsc_start(struct smsc *s)
{
	struct msg **again = NULL;
	size_t n_again = 0;
	int rc = load_messages(s, &again, &n_again);
	if (rc == 0)
		rc = load_parts(s);
	/* What was loaded is tried first: events for its recipients, posted
	 * while the tables are still this thread's. */
	for (size_t i = 0; rc == 0 && i < s->rcpts.cap; i++) {
		for (struct hnode *n = s->rcpts.b[i]; n; n = n->next)
			smsc_recipient_ready(s, n->key);
	}
	if (rc == 0 && pthread_create(&s->thread, NULL, centre, s) != 0)
		rc = -EAGAIN;
	if (rc == 0) {
		s->started = true;
		LOGI("sms", "SMS centre: %" PRIu64 " message(s) waiting",
		     (uint64_t)atomic_load(&s->stats.waiting));
	}
	for (size_t i = 0; i < n_again; i++) {
		if (rc == 0)
			charge_again(s, again[i]);
		else
			free(again[i]);
	}
	free(again);
	return rc;
}

void smsc_stop(struct smsc *s)
{
	if (!s || !s->started)
		return;
	pthread_mutex_lock(&s->mu);
	s->stopping = true;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	s->started = false;
}

void smsc_close(struct smsc *s)
{
	if (!s)
		return;
	smsc_stop(s);
	while (s->ev_head) {
		struct ev *e = s->ev_head;
		s->ev_head = e->next;
		if (e->type == EV_NEW)
			free(e->m);
		free(e);
	}
	msgs_free(s);
	sms_reasm_free(s->reasm);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}

void smsc_set_clock(struct smsc *s, int64_t (*now)(void))
{
	s->now = now;
}

void smsc_get_stats(struct smsc *s, struct smsc_stats *out)
{
	*out = (struct smsc_stats){
	    .submitted = atomic_load(&s->stats.submitted),
	    .refused = atomic_load(&s->stats.refused),
	    .no_credit = atomic_load(&s->stats.no_credit),
	    .delivered = atomic_load(&s->stats.delivered),
	    .expired = atomic_load(&s->stats.expired),
	    .failed = atomic_load(&s->stats.failed),
	    .attempts = atomic_load(&s->stats.attempts),
	    .retries = atomic_load(&s->stats.retries),
	    .reports_sent = atomic_load(&s->stats.reports_sent),
	    .waiting = atomic_load(&s->stats.waiting),
	    .held = atomic_load(&s->stats.held),
	    .in_flight = atomic_load(&s->stats.in_flight),
	    .incomplete_dropped = atomic_load(&s->stats.incomplete_dropped),
	};
	pthread_mutex_lock(&s->mu);
	out->segments_waiting = sms_reasm_pending(s->reasm);
	pthread_mutex_unlock(&s->mu);
}

/* --- the operator's view ------------------------------------------------------------------ */

#define INFO_COLS                                                                                  \
	"id, state, origin, sender_msisdn, recipient_msisdn, segments, size, report, is_report, "  \
	"submitted_at, expires_at, attempts, last_error"

static void info_of_row(struct store_stmt *st, struct smsc_message_info *m)
{
	memset(m, 0, sizeof(*m));
	m->id = store_col_int64(st, 0);
	if (state_parse(store_col_text(st, 1), &m->state) != 0)
		m->state = SMSC_STATE_WAITING;
	snprintf(m->origin, sizeof(m->origin), "%s", store_col_text(st, 2));
	m->sender_msisdn = (uint64_t)store_col_int64(st, 3);
	m->recipient_msisdn = (uint64_t)store_col_int64(st, 4);
	m->segments = (unsigned)store_col_int64(st, 5);
	m->size = (size_t)store_col_int64(st, 6);
	m->report = store_col_int64(st, 7) != 0;
	m->is_report = store_col_int64(st, 8) != 0;
	m->submitted_at = store_col_int64(st, 9);
	m->expires_at = store_col_int64(st, 10);
	m->attempts = (uint32_t)store_col_int64(st, 11);
	snprintf(m->last_error, sizeof(m->last_error), "%s", store_col_text(st, 12));
}

int smsc_messages(struct smsc *s, int64_t after, unsigned limit, uint64_t msisdn,
                  smsc_message_fn fn, void *ctx)
{
	struct store_stmt *st;
	const char *sql = msisdn ? "SELECT " INFO_COLS
	                           " FROM sms_message WHERE id > $1 AND recipient_msisdn = $3 "
	                           "ORDER BY id LIMIT $2"
	                         : "SELECT " INFO_COLS
	                           " FROM sms_message WHERE id > $1 ORDER BY id LIMIT $2";
	int n = 0, step;
	store_lock(s->st);
	if (store_prepare(s->st, sql, &st) != 0) {
		store_unlock(s->st);
		return -EIO;
	}
	store_bind_int64(st, 1, after);
	store_bind_int64(st, 2, limit);
	if (msisdn)
		store_bind_int64(st, 3, (int64_t)msisdn);
	while ((step = store_step(st)) == STORE_ROW) {
		struct smsc_message_info m;
		info_of_row(st, &m);
		fn(ctx, &m);
		n++;
	}
	store_reset(st);
	store_unlock(s->st);
	return step < 0 ? -EIO : n;
}

int smsc_message_get(struct smsc *s, int64_t id, struct smsc_message_info *out)
{
	struct store_stmt *st;
	int rc = -ENOENT;
	store_lock(s->st);
	if (store_prepare(s->st, "SELECT " INFO_COLS " FROM sms_message WHERE id = $1", &st) == 0) {
		store_bind_int64(st, 1, id);
		if (store_step(st) == STORE_ROW) {
			info_of_row(st, out);
			rc = 0;
		}
		store_reset(st);
	}
	store_unlock(s->st);
	return rc;
}

/* Moves a held message into the queue. 0, -ENOENT (not held) or -EIO. */
static int unhold(struct smsc *s, int64_t id)
{
	struct store_stmt *st;
	struct msg *m = NULL;
	int rc = -EIO;
	store_lock(s->st);
	if (store_prepare(
	        s->st, "UPDATE sms_message SET state = 'waiting' WHERE id = $1 AND state = 'held'",
	        &st) == 0) {
		store_bind_int64(st, 1, id);
		int step = store_step(st);
		store_reset(st);
		rc = step < 0 ? -EIO : store_changes(s->st) == 1 ? 0 : -ENOENT;
	}
	if (rc == 0 && store_prepare(s->st, MSG_COLS "FROM sms_message WHERE id = $1", &st) == 0) {
		store_bind_int64(st, 1, id);
		if (store_step(st) == STORE_ROW)
			m = msg_of_row(st);
		store_reset(st);
	}
	store_unlock(s->st);
	if (rc != 0)
		return rc;
	count_add(&s->stats.held, -1);
	struct ev *e = m ? calloc(1, sizeof(*e)) : NULL;
	if (!e) {
		free(m);
		LOGE("sms", "message %" PRId64 ": out of memory; it is delivered after a restart",
		     id);
		return 0;
	}
	e->type = EV_NEW;
	e->m = m;
	post(s, e);
	return 0;
}

int smsc_release(struct smsc *s, int64_t id, const char *actor)
{
	int rc = unhold(s, id);
	if (rc == 0)
		LOGN("sms", "message %" PRId64 " released by %s", id, actor ? actor : "api");
	return rc;
}

int smsc_delete(struct smsc *s, int64_t id, const char *actor)
{
	struct store_stmt *st;
	int rc = -EIO;
	uint64_t rimsi = 0;
	store_lock(s->st);
	if (store_begin(s->st) != 0) {
		store_unlock(s->st);
		return -EIO;
	}
	if (store_prepare(
	        s->st,
	        "INSERT INTO sms_cdr (seq, id, origin, is_report, sender_imsi, "
	        "sender_msisdn, recipient_imsi, recipient_msisdn, sender_cell, "
	        "recipient_cell, segments, size, submitted_ms, final_ms, attempts, outcome, "
	        "channel) SELECT $2, id, origin, is_report, sender_imsi, sender_msisdn, "
	        "recipient_imsi, recipient_msisdn, sender_cell, '', segments, size, "
	        "submitted_at * 1000, $3, attempts, 'deleted', '' FROM sms_message "
	        "WHERE id = $1 AND state = 'held'",
	        &st) == 0) {
		store_bind_int64(st, 1, id);
		store_bind_int64(st, 2, atomic_fetch_add(&s->next_seq, 1));
		store_bind_int64(st, 3, now_ms(s));
		int step = store_step(st);
		store_reset(st);
		rc = step < 0 ? -EIO : store_changes(s->st) == 1 ? 0 : -ENOENT;
	}
	if (rc == 0 && store_prepare(s->st, "SELECT recipient_imsi FROM sms_message WHERE id = $1",
	                             &st) == 0) {
		store_bind_int64(st, 1, id);
		if (store_step(st) == STORE_ROW)
			rimsi = (uint64_t)store_col_int64(st, 0);
		store_reset(st);
	}
	if (rc == 0 && store_prepare(s->st, "DELETE FROM sms_message WHERE id = $1", &st) == 0) {
		store_bind_int64(st, 1, id);
		rc = store_step(st) < 0 ? -EIO : 0;
		store_reset(st);
	}
	if (rc == 0)
		rc = store_commit(s->st) == 0 ? 0 : -EIO;
	if (rc != 0)
		store_rollback(s->st);
	store_unlock(s->st);
	if (rc != 0)
		return rc;
	count_add(&s->stats.held, -1);
	stored_change(s, rimsi, -1);
	LOGN("sms", "held message %" PRId64 " deleted by %s", id, actor ? actor : "api");
	return 0;
}

int smsc_cdrs(struct smsc *s, int64_t after, unsigned limit, smsc_cdr_fn fn, void *ctx)
{
	struct store_stmt *st;
	int n = 0, step;
	store_lock(s->st);
	if (store_prepare(
	        s->st,
	        "SELECT seq, id, origin, is_report, sender_imsi, sender_msisdn, "
	        "recipient_imsi, recipient_msisdn, sender_cell, recipient_cell, segments, "
	        "size, submitted_ms, final_ms, attempts, outcome, channel FROM sms_cdr "
	        "WHERE seq > $1 ORDER BY seq LIMIT $2",
	        &st) != 0) {
		store_unlock(s->st);
		return -EIO;
	}
	store_bind_int64(st, 1, after);
	store_bind_int64(st, 2, limit);
	while ((step = store_step(st)) == STORE_ROW) {
		struct smsc_cdr c = {.seq = store_col_int64(st, 0),
		                     .id = store_col_int64(st, 1),
		                     .is_report = store_col_int64(st, 3) != 0,
		                     .sender_imsi = (uint64_t)store_col_int64(st, 4),
		                     .sender_msisdn = (uint64_t)store_col_int64(st, 5),
		                     .recipient_imsi = (uint64_t)store_col_int64(st, 6),
		                     .recipient_msisdn = (uint64_t)store_col_int64(st, 7),
		                     .segments = (unsigned)store_col_int64(st, 10),
		                     .size = (size_t)store_col_int64(st, 11),
		                     .submitted_ms = store_col_int64(st, 12),
		                     .final_ms = store_col_int64(st, 13),
		                     .attempts = (uint32_t)store_col_int64(st, 14)};
		snprintf(c.origin, sizeof(c.origin), "%s", store_col_text(st, 2));
		snprintf(c.sender_cell, sizeof(c.sender_cell), "%s", store_col_text(st, 8));
		snprintf(c.recipient_cell, sizeof(c.recipient_cell), "%s", store_col_text(st, 9));
		if (state_parse(store_col_text(st, 15), &c.outcome) != 0)
			c.outcome = SMSC_STATE_FAILED;
		snprintf(c.channel, sizeof(c.channel), "%s", store_col_text(st, 16));
		fn(ctx, &c);
		n++;
	}
	store_reset(st);
	store_unlock(s->st);
	return step < 0 ? -EIO : n;
}
