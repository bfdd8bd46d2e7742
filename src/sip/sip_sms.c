/* SMS over SIP (docs/sms-centre.md): the SIP access of the SMS centre.
 *
 * Mobile-originated: a MESSAGE outside a dialog is a submission, in either
 * form phones use: text/plain (softphones: the Request-URI names the
 * recipient, the body is the text) or application/vnd.3gpp.sms (TS 24.341:
 * an RP-DATA carrying an SMS-SUBMIT; answered 202, then an RP-ACK or
 * RP-ERROR in a MESSAGE of koryod's own once the centre has decided).
 * RP-ACK / RP-ERROR / RP-SMMA from a phone end a delivery or say it has
 * room again.
 *
 * Mobile-terminated: the centre's "sip" channel. A recipient registered
 * with the SMS-over-IP feature tag gets each segment as an RP-DATA with an
 * SMS-DELIVER (or an SMS-STATUS-REPORT), acknowledged by its RP-ACK;
 * others get one text/plain MESSAGE with the whole text, acknowledged by
 * the 2xx. The forms convert into each other through the centre, which
 * holds text. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/clock.h"
#include "common/hex.h"
#include "common/log.h"
#include "crypto/aka.h"
#include "sip/sip_core_internal.h"
#include "sip/sip_reply.h"
#include "sms/rp.h"
#include "sms/sms_err.h"
#include "sms/smsc.h"
#include "sms/smsc_tpdu.h"

#define CT_3GPP  "application/vnd.3gpp.sms"
#define CT_TEXT  "text/plain"
#define MT_SLOTS 1024

/* A segment sent as RP-DATA, waiting for the phone's RP-ACK. */
struct mt_wait {
	struct mt_wait *next;
	uint64_t imsi;
	uint8_t mr;
	int64_t sent_at; /* a wait unanswered for long is dropped */
	struct mt_attempt *a;
};

/* One delivery attempt through SIP. Lives until every segment is answered
 * (or one fails); the centre's deadline covers a phone that never does. */
struct mt_attempt {
	struct sip_core *core;
	int64_t id;
	uint32_t attempt;
	uint64_t imsi;
	unsigned pending; /* segments not yet acknowledged */
	bool ended;
	unsigned refs; /* mt_wait entries and SIP transactions holding it */
};

struct mt_txn;

struct sip_sms {
	pthread_mutex_t lock;
	struct mt_wait *wait[MT_SLOTS];
	struct mt_txn *txns; /* MESSAGEs sent and not answered: freed at the stop */
	uint8_t next_mr;
	uint16_t next_ref;
};

/* --- sending a MESSAGE of koryod's own ------------------------------------------------- */

int sip_send_message(struct sip_worker *w, struct sip_core *core, const struct sip_out_message *o,
                     sip_response_fn cb, void *ctx)
{
	char via[256];
	if (sip_worker_via(w, &o->flow, via, sizeof(via)) < 0)
		return -EIO;
	static _Thread_local char buf[SIP_REPLY_MAX + 1024];
	/* Tags and Call-IDs from a per-thread xorshift seeded at random: rand()
	 * takes a lock all the workers would share. */
	static _Thread_local uint64_t state;
	if (!state && (crypto_random(&state, sizeof(state)) != 0 || !state))
		state = clock_mono_ns() | 1;
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	uint64_t tag = state * 0x2545f4914f6cdd1dull;
	char route[SIP_CONTACT_MAX + 16] = "";
	if (o->path && o->path[0])
		snprintf(route, sizeof(route), "Route: %s\r\n", o->path);
	int n = snprintf(buf, sizeof(buf),
	                 "MESSAGE %s SIP/2.0\r\n%s%sMax-Forwards: 70\r\n"
	                 "From: <sip:%s@%s>;tag=%" PRIx64 "\r\nTo: <sip:%s@%s>\r\n"
	                 "Call-ID: %s-%" PRIx64 "@%s\r\nCSeq: 1 MESSAGE\r\n%s"
	                 "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n",
	                 o->contact, via, route, o->from_user, core->domain, tag, o->to_user,
	                 core->domain, o->call_id_prefix, tag, core->domain,
	                 o->extra ? o->extra : "", o->content_type, o->body_len);
	if (n < 0 || (size_t)n + o->body_len >= sizeof(buf))
		return -EMSGSIZE;
	memcpy(buf + n, o->body, o->body_len);
	sip_txn_id id;
	return sip_worker_request(w, buf, (size_t)n + o->body_len, &o->flow, cb, ctx, &id);
}

/* The binding a message to imsi goes to: the one registered last. */
static bool binding_of(struct sip_core *core, uint64_t imsi, struct sip_binding *out, char *contact,
                       char *path)
{
	bool found = false;
	struct sip_user *u = sip_loc_lock(core, imsi, false);
	if (!u)
		return false;
	sip_loc_prune(core, u, clock_now());
	for (unsigned i = 0; i < u->n; i++) {
		if (!found || u->b[i].expires_at > out->expires_at) {
			*out = u->b[i];
			found = true;
		}
	}
	if (found) {
		snprintf(contact, SIP_CONTACT_MAX, "%s", out->contact);
		snprintf(path, SIP_CONTACT_MAX, "%s", out->path);
	}
	sip_loc_unlock(core, imsi);
	return found;
}

/* --- mobile-originated ------------------------------------------------------------------- */

enum mo_form { MO_TEXT, MO_3GPP };

struct mo_job {
	struct sip_core *core;
	struct sip_deferred *d;
	enum mo_form form;
	unsigned worker;
	uint64_t imsi;
	struct sip_txn_peer flow;
	uint64_t msisdn;
	char contact[SIP_CONTACT_MAX], path[SIP_CONTACT_MAX];
	char call_id[128]; /* of the request answered: In-Reply-To */
	uint8_t rp_mr;
	struct smsc_result r;
};

/* The RP-ACK or RP-ERROR of a submission, to the phone (on its worker). */
static void send_rp_answer(void *arg, void *owner)
{
	struct mo_job *j = arg;
	struct sip_core *core = j->core;
	bool ok = j->r.outcome == SMSC_ACCEPTED || j->r.outcome == SMSC_SEGMENT_STORED;
	struct sms_rp rp = {.type = ok ? SMS_RP_ACK_MT : SMS_RP_ERROR_MT,
	                    .mr = j->rp_mr,
	                    .cause = j->r.rp_cause ? j->r.rp_cause : SMS_RP_CAUSE_PROTOCOL_ERROR};
	uint8_t body[16];
	int n = sms_rp_encode(&rp, body, sizeof(body));
	/* TS 24.341 5.3.2.4: the answer names the MESSAGE it answers. */
	char extra[512];
	int el = snprintf(extra, sizeof(extra), "In-Reply-To: %s\r\n", j->call_id);
	if (!ok && j->r.reason[0] && el > 0 && (size_t)el < sizeof(extra)) {
		/* The reason, for people reading traces; the phone reads the cause. */
		char phrase[SMSC_REASON_MAX];
		sip_header_text(phrase, sizeof(phrase), j->r.reason);
		snprintf(extra + el, sizeof(extra) - (size_t)el, "Subject: %s\r\n", phrase);
	}
	char to[24];
	snprintf(to, sizeof(to), "+%" PRIu64, j->msisdn);
	struct sip_out_message o = {.flow = j->flow,
	                            .contact = j->contact,
	                            .path = j->path,
	                            .from_user = core->opt.sms_address,
	                            .to_user = to,
	                            .call_id_prefix = "rp",
	                            .content_type = CT_3GPP,
	                            .extra = extra,
	                            .body = (const char *)body,
	                            .body_len = n > 0 ? (size_t)n : 0};
	if (n < 0 || sip_send_message(owner, core, &o, NULL, NULL) != 0)
		LOGW("sip", "IMSI='%" PRIu64 "': the RP answer could not be sent", j->imsi);
	free(j);
}

/* A refusal names its reason (status phrase and Warning) and, when a rule
 * decided, the rule (Reason), as the proxy's refusals do. */
static void mo_reply(struct mo_job *j, int status, const struct smsc_result *r)
{
	if (status < 300 || !r->reason[0]) {
		sip_deferred_reply(j->d, status, NULL, NULL);
		return;
	}
	char extra[512], phrase[SMSC_REASON_MAX];
	sip_refusal(status, r->rule, r->reason, phrase, sizeof(phrase), extra, sizeof(extra));
	sip_deferred_reply(j->d, status, phrase, extra);
}

static void on_submitted(void *ctx, const struct smsc_result *r)
{
	struct mo_job *j = ctx;
	j->r = *r;
	bool ok = r->outcome == SMSC_ACCEPTED || r->outcome == SMSC_SEGMENT_STORED;
	/* The SIP counters see the centre's refusals as the proxy's. */
	if (r->outcome == SMSC_REFUSED)
		sip_count(&j->core->stats.refused_by_policy);
	else if (r->outcome == SMSC_NO_CREDIT)
		sip_count(&j->core->stats.refused_no_credit);
	if (j->form == MO_TEXT) {
		mo_reply(j, ok ? 202 : r->sip_status, r);
		free(j);
		return;
	}
	/* 3GPP: the SIP answer says the RP message arrived; the RP answer says
	 * what became of the short message. */
	sip_deferred_reply(j->d, 202, NULL, NULL);
	j->d = NULL;
	if (sip_server_post(j->core->srv, j->worker, send_rp_answer, j) != 0)
		free(j);
}

/* The submission key: the transaction's identity, so that a request
 * repeated after a restart is recognised. */
static void key_of(const struct sip_msg *m, const char *kind, char *out, size_t cap)
{
	snprintf(out, cap, "%s:%.*s:%" PRIu32, kind,
	         (int)(m->call_id.len > 120 ? 120 : m->call_id.len), m->call_id.p, m->cseq.number);
}

static bool content_type_is(const struct sip_msg *m, const char *type)
{
	const struct sip_hdr *h = sip_msg_header_first(m, SIP_HDR_CONTENT_TYPE);
	if (!h)
		return false;
	size_t n = strlen(type);
	struct sip_str v = h->value;
	while (v.len && (*v.p == ' ' || *v.p == '\t')) {
		v.p++;
		v.len--;
	}
	return v.len >= n && strncasecmp(v.p, type, n) == 0 &&
	       (v.len == n || v.p[n] == ';' || v.p[n] == ' ' || v.p[n] == '\t');
}

static struct mo_job *mo_job_new(struct sip_core *core, struct sip_request *rq,
                                 const struct hlr_subscr *snd, enum mo_form form)
{
	struct mo_job *j = calloc(1, sizeof(*j));
	if (!j)
		return NULL;
	if (!(j->d = sip_request_defer(rq))) {
		free(j);
		return NULL;
	}
	j->core = core;
	j->form = form;
	j->worker = sip_worker_index(rq->w);
	j->imsi = snd->imsi;
	j->msisdn = snd->msisdn;
	j->flow = rq->flow;
	sip_copy_str(j->call_id, sizeof(j->call_id), rq->msg->call_id);
	/* The RP answer goes back to the binding the request came from. */
	if (!sip_loc_contact_of(core, snd->imsi, &rq->flow, j->contact, j->path))
		snprintf(j->contact, sizeof(j->contact), "sip:%" PRIu64 "@%.200s", snd->msisdn,
		         core->domain);
	return j;
}

/* The cell the caller is in now, "" when unknown. */
static void cell_of_user(struct sip_core *core, uint64_t imsi, char *out, size_t cap)
{
	out[0] = '\0';
	struct sip_user *u = sip_loc_lock(core, imsi, false);
	if (u) {
		snprintf(out, cap, "%s", u->cell);
		sip_loc_unlock(core, imsi);
	}
}

static void mo_text(struct sip_core *core, struct sip_request *rq, const struct hlr_subscr *snd)
{
	const struct sip_msg *m = rq->msg;
	char rcpt[48], key[SMSC_KEY_MAX], cell[SIP_CELL_MAX];
	int dl = sip_unescape(m->ruri.user.p, m->ruri.user.len, rcpt, sizeof(rcpt) - 1);
	if (dl <= 0) {
		sip_request_reply(rq, 404, NULL, NULL);
		return;
	}
	rcpt[dl] = '\0';
	/* (The centre checks that the text is UTF-8 and not too long.) */
	key_of(m, "sip", key, sizeof(key));
	cell_of_user(core, snd->imsi, cell, sizeof(cell));
	const struct sip_hdr *dn = sip_msg_header_by_name(m, "Disposition-Notification");
	bool report = dn && memmem(dn->value.p, dn->value.len, "positive-delivery", 17);
	struct smsc_submission sub = {.origin = "sip",
	                              .key = key,
	                              .sender_imsi = snd->imsi,
	                              .recipient = rcpt,
	                              .text = m->body.p ? m->body.p : "",
	                              .text_len = m->body.len,
	                              .report = report,
	                              .validity_s = -1,
	                              .cell = cell};
	struct mo_job *j = mo_job_new(core, rq, snd, MO_TEXT);
	if (!j || smsc_submit(core->opt.smsc, &sub, on_submitted, j) != 0) {
		if (j) {
			sip_deferred_reply(j->d, 500, NULL, NULL);
			free(j);
		} else {
			sip_request_reply(rq, 500, NULL, NULL);
		}
	}
}

/* An RP-ACK or RP-ERROR from a phone: the answer to one of our segments. */
static void mt_answered(struct sip_core *core, uint64_t imsi, const struct sms_rp *rp);

static void mo_3gpp(struct sip_core *core, struct sip_request *rq, const struct hlr_subscr *snd)
{
	const struct sip_msg *m = rq->msg;
	struct sms_rp rp;
	int rc = sms_rp_decode((const uint8_t *)m->body.p, m->body.len, &rp);
	if (rc != 0) {
		sip_request_reply(rq, 400, "Bad RP Message", NULL);
		return;
	}
	switch (rp.type) {
	case SMS_RP_ACK_MO:
	case SMS_RP_ERROR_MO:
		mt_answered(core, snd->imsi, &rp);
		sip_request_reply(rq, 202, NULL, NULL);
		return;
	case SMS_RP_SMMA: {
		sip_request_reply(rq, 202, NULL, NULL);
		smsc_recipient_ready(core->opt.smsc, snd->imsi);
		struct mo_job *j = calloc(1, sizeof(*j));
		if (!j)
			return;
		j->core = core;
		j->imsi = snd->imsi;
		j->msisdn = snd->msisdn;
		j->flow = rq->flow;
		sip_copy_str(j->call_id, sizeof(j->call_id), rq->msg->call_id);
		j->rp_mr = rp.mr;
		j->r.outcome = SMSC_ACCEPTED;
		if (!sip_loc_contact_of(core, snd->imsi, &rq->flow, j->contact, j->path)) {
			free(j);
			return;
		}
		send_rp_answer(j, rq->w);
		return;
	}
	case SMS_RP_DATA_MO:
		break;
	default:
		sip_request_reply(rq, 400, "Unexpected RP Message", NULL);
		return;
	}
	struct mo_job *j = mo_job_new(core, rq, snd, MO_3GPP);
	if (!j) {
		sip_request_reply(rq, 500, NULL, NULL);
		return;
	}
	j->rp_mr = rp.mr;
	struct sms_tpdu t;
	static _Thread_local char text[SMS_SPLIT_SCRATCH * 4];
	char rcpt[SMS_ADDR_MAX], key[SMSC_KEY_MAX], cell[SIP_CELL_MAX];
	struct smsc_submission sub;
	rc = sms_tpdu_decode(rp.user_data, rp.user_data_len, SMS_DIR_MO, &t);
	if (rc == 0)
		rc = smsc_submission_from_tpdu(&t, text, sizeof(text), rcpt, sizeof(rcpt), &sub);
	if (rc != 0) {
		LOGI("sip", "IMSI='%" PRIu64 "': an SMS-SUBMIT refused: %s", snd->imsi,
		     sms_strerror(rc));
		struct smsc_result r = {.outcome = SMSC_INVALID,
		                        .sip_status = 400,
		                        .rp_cause = rc == SMS_E_TYPE
		                                        ? SMS_RP_CAUSE_PROTOCOL_ERROR
		                                        : SMS_RP_CAUSE_SEMANTICALLY_INCORRECT};
		snprintf(r.reason, sizeof(r.reason), "%s", sms_strerror(rc));
		on_submitted(j, &r);
		return;
	}
	key_of(m, "sip3", key, sizeof(key));
	cell_of_user(core, snd->imsi, cell, sizeof(cell));
	sub.origin = "sip-3gpp";
	sub.key = key;
	sub.sender_imsi = snd->imsi;
	sub.cell = cell;
	if (smsc_submit(core->opt.smsc, &sub, on_submitted, j) != 0) {
		sip_deferred_reply(j->d, 500, NULL, NULL);
		free(j);
	}
}

bool sip_sms_on_message(struct sip_core *core, struct sip_request *rq, const struct hlr_subscr *snd)
{
	if (!core->opt.smsc)
		return false;
	const struct sip_msg *m = rq->msg;
	if (content_type_is(m, CT_3GPP)) {
		mo_3gpp(core, rq, snd);
		return true;
	}
	/* A service code ("*123#") is the proxy's business. */
	if (m->ruri.user.len && m->ruri.user.p[0] == '*')
		return false;
	if (!content_type_is(m, CT_TEXT)) {
		sip_request_reply(rq, 415, NULL, "Accept: text/plain, " CT_3GPP "\r\n");
		return true;
	}
	mo_text(core, rq, snd);
	return true;
}

/* --- mobile-terminated: the centre's "sip" channel --------------------------------------- */

static size_t slot_of(uint64_t imsi, uint8_t mr)
{
	return (size_t)((imsi * 0x9e3779b97f4a7c15ull) >> 40 ^ mr) & (MT_SLOTS - 1);
}

/* Drops a reference (under the lock); the last frees a. */
static void attempt_put(struct mt_attempt *a)
{
	if (--a->refs == 0)
		free(a);
}

/* Ends the attempt once (under the lock): its result to the centre. */
static void attempt_end(struct mt_attempt *a, enum smsc_delivery_result r, const char *detail)
{
	if (a->ended)
		return;
	a->ended = true;
	if (r == SMSC_DELIVERED)
		sip_count(&a->core->stats.messages_relayed);
	smsc_delivery_done(a->core->opt.smsc, a->id, a->attempt, r, detail);
}

/* Drops the waits of a slot no phone answered for long (the centre ended
 * their attempts at its deadline long ago). Under the lock. */
static void wait_prune(struct mt_wait **p, int64_t now)
{
	while (*p) {
		struct mt_wait *w = *p;
		if (now - w->sent_at > 600) {
			*p = w->next;
			attempt_put(w->a);
			free(w);
		} else {
			p = &w->next;
		}
	}
}

/* What a final SIP status of a MESSAGE means for its delivery. */
static enum smsc_delivery_result result_of_status(int status)
{
	if (status >= 200 && status < 300)
		return SMSC_DELIVERED;
	switch (status) {
	case 403:
	case 404:
	case 410:
	case 415:
	case 484:
	case 488:
	case 603:
	case 606:
		return SMSC_FAILED;
	default:
		return SMSC_TRY_LATER; /* 408 (no answer), 480, 486, 5xx... */
	}
}

/* A response to a MESSAGE koryod sent (on the worker). text/plain: the 2xx
 * is the delivery; 3GPP: the 2xx only says the RP-DATA arrived. */
struct mt_txn {
	struct mt_txn *next, *prev;
	struct mt_attempt *a;
	bool text;
};

/* Under the lock. */
static void txn_unlink(struct sip_sms *ss, struct mt_txn *t)
{
	if (t->prev)
		t->prev->next = t->next;
	else
		ss->txns = t->next;
	if (t->next)
		t->next->prev = t->prev;
}

static void on_mt_response(void *ctx, sip_txn_id id, const struct sip_msg *resp, int status)
{
	(void)id;
	(void)resp;
	struct mt_txn *t = ctx;
	if (status < 200)
		return;
	struct sip_sms *ss = t->a->core->sms;
	pthread_mutex_lock(&ss->lock);
	char detail[16];
	snprintf(detail, sizeof(detail), "SIP %d", status);
	enum smsc_delivery_result r = result_of_status(status);
	if (t->text || r != SMSC_DELIVERED)
		attempt_end(t->a, r, detail);
	attempt_put(t->a);
	txn_unlink(ss, t);
	pthread_mutex_unlock(&ss->lock);
	free(t);
}

static void mt_answered(struct sip_core *core, uint64_t imsi, const struct sms_rp *rp)
{
	struct sip_sms *ss = core->sms;
	pthread_mutex_lock(&ss->lock);
	struct mt_wait **p = &ss->wait[slot_of(imsi, rp->mr)], *w;
	while ((w = *p) && !(w->imsi == imsi && w->mr == rp->mr))
		p = &w->next;
	if (!w) {
		pthread_mutex_unlock(&ss->lock);
		LOGD("sip", "IMSI='%" PRIu64 "': an RP answer for nothing sent (MR %u)", imsi,
		     rp->mr);
		return;
	}
	*p = w->next;
	struct mt_attempt *a = w->a;
	free(w);
	if (rp->type == SMS_RP_ACK_MO) {
		if (--a->pending == 0)
			attempt_end(a, SMSC_DELIVERED, "");
	} else {
		char detail[32];
		snprintf(detail, sizeof(detail), "RP cause %u", rp->cause);
		/* Memory full: the phone sends RP-SMMA when it has room. */
		attempt_end(a,
		            rp->cause == SMS_RP_CAUSE_MEMORY_EXCEEDED ? SMSC_UNREACHABLE
		            : rp->cause == SMS_RP_CAUSE_CONGESTION ||
		                    rp->cause == SMS_RP_CAUSE_NETWORK_OUT_OF_ORDER
		                ? SMSC_TRY_LATER
		                : SMSC_FAILED,
		            detail);
	}
	attempt_put(a);
	pthread_mutex_unlock(&ss->lock);
}

/* What the worker sends for one attempt: the bodies, ready. */
struct mt_job {
	struct sip_core *core;
	struct mt_attempt *a;
	bool text;
	struct sip_txn_peer flow;
	char contact[SIP_CONTACT_MAX], path[SIP_CONTACT_MAX];
	char from[24], to[24];
	unsigned n; /* parts made so far */
	struct mt_part {
		size_t len;
		char *body;
	} part[]; /* one per segment (one for text/plain) */
};

static void mt_job_free(struct mt_job *j)
{
	for (unsigned i = 0; i < j->n; i++)
		free(j->part[i].body);
	free(j);
}

static void send_mt(void *arg, void *owner)
{
	struct mt_job *j = arg;
	struct sip_sms *ss = j->core->sms;
	for (unsigned i = 0; i < j->n; i++) {
		struct mt_txn *t = malloc(sizeof(*t));
		struct sip_out_message o = {.flow = j->flow,
		                            .contact = j->contact,
		                            .path = j->path,
		                            .from_user = j->from,
		                            .to_user = j->to,
		                            .call_id_prefix = "sms",
		                            .content_type =
		                                j->text ? CT_TEXT ";charset=UTF-8" : CT_3GPP,
		                            .body = j->part[i].body,
		                            .body_len = j->part[i].len};
		pthread_mutex_lock(&ss->lock);
		j->a->refs++;
		if (t) {
			*t = (struct mt_txn){.next = ss->txns, .a = j->a, .text = j->text};
			if (ss->txns)
				ss->txns->prev = t;
			ss->txns = t;
		}
		pthread_mutex_unlock(&ss->lock);
		if (!t || sip_send_message(owner, j->core, &o, on_mt_response, t) != 0) {
			pthread_mutex_lock(&ss->lock);
			if (t)
				txn_unlink(ss, t);
			attempt_end(j->a, SMSC_TRY_LATER, "not sent");
			attempt_put(j->a);
			pthread_mutex_unlock(&ss->lock);
			free(t);
		}
	}
	pthread_mutex_lock(&ss->lock);
	attempt_put(j->a); /* the job's own reference */
	pthread_mutex_unlock(&ss->lock);
	mt_job_free(j);
}

/* The text a text/plain phone gets for a status report. */
static int report_text(const struct smsc_delivery *d, char *out, size_t cap)
{
	char when[32];
	time_t t = (time_t)d->discharged_at;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
	const char *what = d->st == 0x00   ? "was delivered"
	                   : d->st == 0x46 ? "expired undelivered"
	                   : d->st == 0x48 ? "was deleted by the operator"
	                                   : "could not be delivered";
	return snprintf(out, cap, "Your message to +%" PRIu64 " %s (%s).", d->sender_msisdn, what,
	                when);
}

/* The worker that hears the phone (the one its registration came in on):
 * the phone's answers then reach the transaction without a hand-off. */
static unsigned worker_for(struct sip_core *core, const struct sip_binding *b, uint64_t imsi)
{
	unsigned n = sip_server_workers(core->srv);
	return b->worker >= 0 && (unsigned)b->worker < n ? (unsigned)b->worker
	                                                 : (unsigned)(imsi % n);
}

/* The text/plain body of a delivery (8-bit data cannot be text: a phone
 * without SMS over IP gets it as the hex of its octets). 0 or -ENOMEM. */
static int text_part(struct sip_core *core, const struct smsc_delivery *d, struct mt_job *j)
{
	if (d->is_report)
		snprintf(j->from, sizeof(j->from), "%s", core->opt.sms_address);
	else
		snprintf(j->from, sizeof(j->from), "+%" PRIu64, d->sender_msisdn);
	size_t cap = d->binary ? 2 * d->data_len + 1 : d->text_len + 256;
	struct mt_part *p = &j->part[0];
	if (!(p->body = malloc(cap)))
		return -ENOMEM;
	j->n = 1;
	if (d->is_report) {
		p->len = (size_t)report_text(d, p->body, cap);
	} else if (d->binary) {
		hex_encode(d->data, d->data_len, p->body);
		p->len = 2 * d->data_len;
	} else {
		memcpy(p->body, d->text, p->len = d->text_len);
	}
	return 0;
}

/* One RP-DATA per TPDU of tp, each waiting for its RP-ACK. 0, -ENOMEM or
 * -EINVAL; the waits already listed hold their references to j->a. */
static int rp_parts(struct sip_core *core, const struct smsc_delivery *d,
                    const struct smsc_tpdus *tp, unsigned n, struct mt_job *j)
{
	struct sip_sms *ss = core->sms;
	snprintf(j->from, sizeof(j->from), "%s", core->opt.sms_address);
	struct sms_addr sc;
	sms_addr_set(&sc, core->opt.sms_address);
	for (unsigned i = 0; i < n; i++) {
		struct mt_wait *w = calloc(1, sizeof(*w));
		char *body = malloc(SMSC_TPDU_MAX + 32);
		if (!w || !body) {
			free(w);
			free(body);
			return -ENOMEM;
		}
		j->part[j->n++].body = body;
		pthread_mutex_lock(&ss->lock);
		struct sms_rp rp = {.type = SMS_RP_DATA_MT,
		                    .mr = ss->next_mr++,
		                    .oa = sc,
		                    .user_data = tp->pdu[i],
		                    .user_data_len = tp->len[i]};
		int len = sms_rp_encode(&rp, (uint8_t *)body, SMSC_TPDU_MAX + 32);
		if (len > 0) {
			*w = (struct mt_wait){.imsi = d->recipient_imsi,
			                      .mr = rp.mr,
			                      .sent_at = clock_now(),
			                      .a = j->a};
			size_t s = slot_of(w->imsi, w->mr);
			wait_prune(&ss->wait[s], w->sent_at);
			w->next = ss->wait[s];
			ss->wait[s] = w;
			j->a->refs++;
			j->a->pending++;
			j->part[i].len = (size_t)len;
		}
		pthread_mutex_unlock(&ss->lock);
		if (len <= 0) {
			free(w);
			return -EINVAL;
		}
	}
	return 0;
}

static int sip_deliver(void *ctx, const struct smsc_delivery *d)
{
	struct sip_core *core = ctx;
	struct sip_sms *ss = core->sms;
	struct sip_binding b;
	char contact[SIP_CONTACT_MAX], path[SIP_CONTACT_MAX];
	if (!binding_of(core, d->recipient_imsi, &b, contact, path))
		return -ENOTCONN;
	bool text = !b.sms_ip || d->binary;
	struct smsc_tpdus *tp = NULL;
	int n = 1;
	if (!text) {
		tp = malloc(sizeof(*tp));
		pthread_mutex_lock(&ss->lock);
		uint16_t ref = ss->next_ref++;
		pthread_mutex_unlock(&ss->lock);
		n = tp ? smsc_tpdus_build(d, ref, tp) : -ENOMEM;
		if (n < 0) {
			LOGW("sip", "message %" PRId64 ": no TPDU for it: %s", d->id,
			     n == -ENOMEM ? "out of memory" : sms_strerror(n));
			free(tp);
			smsc_delivery_done(core->opt.smsc, d->id, d->attempt, SMSC_FAILED,
			                   "no TPDU");
			return 0;
		}
	}
	struct mt_job *j = calloc(1, sizeof(*j) + (size_t)n * sizeof(j->part[0]));
	struct mt_attempt *a = calloc(1, sizeof(*a));
	if (!j || !a) {
		free(tp);
		free(j);
		free(a);
		return -ENOMEM;
	}
	*a = (struct mt_attempt){
	    .core = core, .id = d->id, .attempt = d->attempt, .imsi = d->recipient_imsi, .refs = 1};
	*j = (struct mt_job){.core = core, .a = a, .text = text, .flow = b.flow};
	memcpy(j->contact, contact, sizeof(contact));
	memcpy(j->path, path, sizeof(path));
	snprintf(j->to, sizeof(j->to), "+%" PRIu64, d->recipient_msisdn);
	int rc = text ? text_part(core, d, j) : rp_parts(core, d, tp, (unsigned)n, j);
	free(tp);
	if (rc != 0) {
		/* Waits already listed keep their references until an RP answer
		 * or the shutdown frees them. */
		pthread_mutex_lock(&ss->lock);
		attempt_end(a, SMSC_TRY_LATER, "out of memory");
		attempt_put(a);
		pthread_mutex_unlock(&ss->lock);
		mt_job_free(j);
		return 0;
	}
	if (sip_server_post(core->srv, worker_for(core, &b, d->recipient_imsi), send_mt, j) != 0) {
		pthread_mutex_lock(&ss->lock);
		attempt_end(a, SMSC_TRY_LATER, "stopping");
		attempt_put(a);
		pthread_mutex_unlock(&ss->lock);
		mt_job_free(j);
	}
	return 0;
}

static int sip_cell_of(void *ctx, uint64_t imsi, char *out, size_t cap)
{
	cell_of_user(ctx, imsi, out, cap);
	return out[0] ? 0 : -ENOENT;
}

/* --- setup ------------------------------------------------------------------------------- */

int sip_sms_init(struct sip_core *core)
{
	if (!core->opt.smsc)
		return 0;
	struct sip_sms *ss = calloc(1, sizeof(*ss));
	if (!ss)
		return -ENOMEM;
	pthread_mutex_init(&ss->lock, NULL);
	ss->next_ref = (uint16_t)time(NULL);
	core->sms = ss;
	return 0;
}

int sip_sms_attach(struct sip_core *core)
{
	if (!core->sms)
		return 0;
	struct smsc_channel ch = {
	    .name = "sip", .deliver = sip_deliver, .cell_of = sip_cell_of, .ctx = core};
	return smsc_add_channel(core->opt.smsc, &ch);
}

void sip_sms_free(struct sip_core *core)
{
	struct sip_sms *ss = core->sms;
	if (!ss)
		return;
	/* Transactions the stop cut short never call back. */
	while (ss->txns) {
		struct mt_txn *t = ss->txns;
		ss->txns = t->next;
		attempt_put(t->a);
		free(t);
	}
	for (size_t i = 0; i < MT_SLOTS; i++) {
		struct mt_wait *w = ss->wait[i];
		while (w) {
			struct mt_wait *next = w->next;
			attempt_put(w->a);
			free(w);
			w = next;
		}
	}
	pthread_mutex_destroy(&ss->lock);
	free(ss);
	core->sms = NULL;
}
