/* Dialogs (docs/sip-proxy.md): the table of calls up or being set up, the
 * call detail record written when each ends, the credit of charged calls
 * followed in slices, and calls ended by koryod itself (no credit left, or a
 * policy change): BYE to both parties, as each would have sent it. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "common/clock.h"
#include "common/log.h"
#include "hlr/registry.h"
#include "ocs/ocs.h"
#include "sip/sip_core_internal.h"
#include "store/store.h"

/* The next slice is asked for this long before the granted time ends (or
 * halfway through a shorter slice), so that the answer is back in time. */
#define CREDIT_MARGIN_MS 10000

int64_t sip_now_ms(void)
{
	/* koryod's clock (clock_now() moves with clock.offset), in milliseconds. */
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (clock_now() - tv.tv_sec) * 1000 + (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

void sip_copy_str(char *out, size_t cap, struct sip_str s)
{
	size_t n = s.len < cap - 1 ? s.len : cap - 1;
	if (n)
		memcpy(out, s.p, n);
	out[n] = '\0';
}

/* --- the table ---------------------------------------------------------------- */

struct sip_dlg_shard *sip_dlg_shard_of(struct sip_core *core, const char *call_id)
{
	uint32_t h = 2166136261u;
	for (; *call_id; call_id++)
		h = (h ^ (uint8_t)*call_id) * 16777619u;
	return &core->dlg[h % SIP_DLG_SHARDS];
}

struct sip_dialog **sip_dlg_find(struct sip_core *core, const char *call_id)
{
	struct sip_dialog **pp = &sip_dlg_shard_of(core, call_id)->head;
	for (; *pp; pp = &(*pp)->next) {
		if (strcmp((*pp)->call_id, call_id) == 0)
			break;
	}
	return pp;
}

int sip_dlg_add(struct sip_core *core, struct sip_dialog *d)
{
	struct sip_dlg_shard *sh = sip_dlg_shard_of(core, d->call_id);
	int rc = 0;
	pthread_mutex_lock(&sh->lock);
	struct sip_dialog **pp = sip_dlg_find(core, d->call_id);
	if (*pp) {
		rc = -EEXIST; /* the same Call-ID again (a forked INVITE reaching us twice) */
	} else {
		*pp = d;
		sip_count(&core->stats.calls_active);
	}
	pthread_mutex_unlock(&sh->lock);
	return rc;
}

/* --- CDRs ------------------------------------------------------------------------- */

static void cdr_done(void *ctx, int rc)
{
	struct sip_core *core = ctx;
	sip_count(rc == 0 ? &core->stats.cdrs_written : &core->stats.cdr_write_errors);
	if (rc != 0)
		LOGE("sip", "a call detail record was not stored");
}

static struct store_param ip(int64_t v)
{
	return (struct store_param){.type = STORE_PARAM_INT, .i = v};
}

static struct store_param tp(const char *s)
{
	struct store_param p = {.type = STORE_PARAM_TEXT};
	snprintf(p.text, sizeof(p.text), "%s", s);
	return p;
}

static void cdr_write(struct sip_core *core, const struct sip_dialog *d, int status,
                      const char *cause)
{
	struct store_param p[13] = {ip(atomic_fetch_add(&core->next_cdr_id, 1)),
	                            tp(d->call_id),
	                            ip((int64_t)d->caller_imsi),
	                            ip((int64_t)d->caller_msisdn),
	                            ip((int64_t)d->callee_imsi),
	                            ip((int64_t)d->callee_msisdn),
	                            tp(d->caller_cell),
	                            tp(d->callee_cell),
	                            ip(d->start_ms),
	                            ip(d->answer_ms),
	                            ip(sip_now_ms()),
	                            ip(status),
	                            tp(cause)};
	if (store_queue_submit(core->q,
	                       "INSERT INTO sip_cdr (id, call_id, caller_imsi, caller_msisdn, "
	                       "callee_imsi, callee_msisdn, caller_cell, callee_cell, start_ms, "
	                       "answer_ms, end_ms, status, cause) VALUES ($1, $2, $3, $4, $5, $6, "
	                       "$7, $8, $9, $10, $11, $12, $13)",
	                       p, 13, cdr_done, core) != 0) {
		sip_count(&core->stats.cdr_write_errors);
		LOGE("sip", "Call-ID='%s': call detail record not queued", d->call_id);
	}
}

static const char *cause_of(int status)
{
	switch (status) {
	case 487:
		return "cancelled";
	case 486:
	case 600:
		return "busy";
	case 408:
	case 480:
		return "no-answer";
	case 403:
		return "refused";
	case 404:
		return "unknown-number";
	default:
		return status < 300 ? "normal" : "failed";
	}
}

static void settled(void *ctx, const struct ocs_grant *g)
{
	char *call_id = ctx;
	if (g->status != 0)
		LOGE("sip", "Call-ID='%s': the call's charge was not settled: %s", call_id,
		     g->reason);
	free(call_id);
}

void sip_dlg_end(struct sip_core *core, const char *call_id, int status, const char *cause)
{
	struct sip_dlg_shard *sh = sip_dlg_shard_of(core, call_id);
	pthread_mutex_lock(&sh->lock);
	struct sip_dialog **pp = sip_dlg_find(core, call_id), *d = *pp;
	if (d)
		*pp = d->next;
	pthread_mutex_unlock(&sh->lock);
	if (!d)
		return;
	atomic_fetch_sub_explicit(&core->stats.calls_active, 1, memory_order_relaxed);
	if (!d->answered) {
		if (status == 487)
			sip_count(&core->stats.calls_cancelled);
		else
			sip_count(&core->stats.calls_failed);
	}
	if (d->charged && core->opt.ocs) {
		/* What was used (to the second, the tariff rounds it to its unit);
		 * the rest of the reservation goes back. */
		int64_t used_ms = d->answered ? sip_now_ms() - d->answer_ms : 0;
		uint32_t used = used_ms > 0 ? (uint32_t)((used_ms + 999) / 1000) : 0;
		char *cid = strdup(d->call_id);
		if (!cid || ocs_call_end(core->opt.ocs, d->call_id, used, settled, cid) != 0) {
			free(cid);
			LOGE("sip", "Call-ID='%s': the call's charge was not settled", d->call_id);
		}
	}
	cdr_write(core, d, d->answered ? 200 : status, cause ? cause : cause_of(status));
	free(d);
}

void sip_cdr_refused(struct sip_core *core, const struct sip_msg *m, uint64_t caller_imsi,
                     uint64_t caller_msisdn, uint64_t callee_imsi, uint64_t callee_msisdn,
                     int status, const char *cause)
{
	struct sip_dialog *d = calloc(1, sizeof(*d));
	if (!d)
		return;
	*d = (struct sip_dialog){.caller_imsi = caller_imsi,
	                         .caller_msisdn = caller_msisdn,
	                         .callee_imsi = callee_imsi,
	                         .callee_msisdn = callee_msisdn,
	                         .start_ms = sip_now_ms()};
	sip_copy_str(d->call_id, sizeof(d->call_id), m->call_id);
	struct sip_user *u = sip_loc_lock(core, caller_imsi, false);
	if (u) {
		memcpy(d->caller_cell, u->cell, sizeof(d->caller_cell));
		sip_loc_unlock(core, caller_imsi);
	}
	sip_count(status == 403 ? &core->stats.calls_refused : &core->stats.calls_failed);
	cdr_write(core, d, status, cause ? cause : cause_of(status));
	free(d);
}

/* --- koryod ends a call ----------------------------------------------------------- */

/* Sends a BYE inside the dialog to one party, as the other would have. */
static void send_bye(struct sip_worker *w, const char *ruri, const char *from, const char *to,
                     const char *call_id, uint32_t cseq, const struct sip_txn_peer *flow,
                     const char *reason)
{
	char via[256], buf[4096];
	if (!ruri[0] || sip_worker_via(w, flow, via, sizeof(via)) < 0)
		return;
	int n = snprintf(buf, sizeof(buf),
	                 "BYE %s SIP/2.0\r\n%sMax-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\n"
	                 "Call-ID: %s\r\nCSeq: %" PRIu32 " BYE\r\n"
	                 "Reason: SIP;cause=403;text=\"%s\"\r\nContent-Length: 0\r\n\r\n",
	                 ruri, via, from, to, call_id, cseq, reason);
	sip_txn_id id;
	if (n > 0 && (size_t)n < sizeof(buf))
		sip_worker_request(w, buf, (size_t)n, flow, NULL, NULL, &id);
}

void sip_dlg_cut(struct sip_core *core, struct sip_worker *w, const char *call_id,
                 const char *cause, const char *reason)
{
	struct sip_dlg_shard *sh = sip_dlg_shard_of(core, call_id);
	pthread_mutex_lock(&sh->lock);
	struct sip_dialog *d = *sip_dlg_find(core, call_id), copy;
	if (d)
		copy = *d;
	pthread_mutex_unlock(&sh->lock);
	if (!d || !copy.answered)
		return;
	LOGI("sip", "Call-ID='%s': ended by koryod: %s", call_id, reason);
	sip_count(strcmp(cause, "policy") == 0 ? &core->stats.ended_by_policy
	                                       : &core->stats.ended_no_credit);
	/* CSeq numbers far above what either party used in its own space. */
	send_bye(w, copy.caller_contact, copy.callee_to, copy.caller_from, copy.call_id,
	         copy.invite_cseq + 100000, &copy.caller_flow, reason);
	send_bye(w, copy.callee_contact, copy.caller_from, copy.callee_to, copy.call_id,
	         copy.invite_cseq + 100000, &copy.callee_flow, reason);
	sip_dlg_end(core, call_id, 200, cause);
}

/* --- credit in slices ------------------------------------------------------------- */

struct credit_timer {
	uv_timer_t t;
	struct credit_timer *next, *prev;
	struct sip_core *core;
	struct sip_worker *w;
	char call_id[128];
	int64_t end_ms; /* the granted time ends (koryod's clock) */
	unsigned slice; /* the last slice asked for */
	bool last;      /* no more credit: cut at end_ms */
	bool asking;    /* a reservation is on its way */
	bool closing;
};

static void timer_closed(uv_handle_t *h)
{
	free(h->data);
}

static void timer_free(struct credit_timer *ct)
{
	if (ct->closing)
		return;
	ct->closing = true;
	struct sip_proxy_worker *pw = &ct->core->pw[sip_worker_index(ct->w)];
	if (ct->prev)
		ct->prev->next = ct->next;
	else
		pw->timers = ct->next;
	if (ct->next)
		ct->next->prev = ct->prev;
	uv_close((uv_handle_t *)&ct->t, timer_closed);
}

static void on_credit_timer(uv_timer_t *t);

static void arm(struct credit_timer *ct)
{
	int64_t now = sip_now_ms(), at = ct->end_ms;
	if (!ct->last) {
		int64_t left = ct->end_ms - now;
		at = ct->end_ms - (left > 2 * CREDIT_MARGIN_MS ? CREDIT_MARGIN_MS : left / 2);
	}
	uv_timer_start(&ct->t, on_credit_timer, at > now ? (uint64_t)(at - now) : 0, 0);
}

/* Whether the call is still up, and its subscriber and destination. */
static bool call_of(struct sip_core *core, const char *call_id, uint64_t *imsi, char *kind,
                    size_t cap)
{
	struct sip_dlg_shard *sh = sip_dlg_shard_of(core, call_id);
	pthread_mutex_lock(&sh->lock);
	struct sip_dialog *d = *sip_dlg_find(core, call_id);
	if (d) {
		*imsi = d->caller_imsi;
		snprintf(kind, cap, "%s", d->dest_kind);
	}
	pthread_mutex_unlock(&sh->lock);
	return d != NULL;
}

struct slice_job {
	struct credit_timer *ct;
	struct sip_core *core;
	unsigned worker;
	struct ocs_grant g;
};

static void on_slice_worker(void *arg, void *owner)
{
	struct sip_worker *w = owner;
	struct slice_job *j = arg;
	struct credit_timer *ct = j->ct;
	(void)w;
	ct->asking = false;
	uint64_t imsi;
	char kind[48];
	if (!call_of(ct->core, ct->call_id, &imsi, kind, sizeof(kind))) {
		timer_free(ct);
	} else {
		if (j->g.status == 0 && j->g.seconds)
			ct->end_ms += (int64_t)j->g.seconds * 1000;
		else
			ct->last = true;
		arm(ct);
	}
	free(j);
}

static void on_slice(void *ctx, const struct ocs_grant *g)
{
	struct slice_job *j = ctx;
	j->g = *g;
	if (sip_server_post(j->core->srv, j->worker, on_slice_worker, j) != 0)
		free(j); /* koryod is stopping: the timer goes with the worker */
}

static void on_credit_timer(uv_timer_t *t)
{
	struct credit_timer *ct = t->data;
	uint64_t imsi;
	char kind[48];
	if (!call_of(ct->core, ct->call_id, &imsi, kind, sizeof(kind))) {
		timer_free(ct);
		return;
	}
	if (ct->last) {
		sip_dlg_cut(ct->core, ct->w, ct->call_id, "credit-exhausted", "Credit Exhausted");
		timer_free(ct);
		return;
	}
	struct slice_job *j = calloc(1, sizeof(*j));
	if (!j) {
		ct->last = true;
		arm(ct);
		return;
	}
	*j = (struct slice_job){.ct = ct, .core = ct->core, .worker = sip_worker_index(ct->w)};
	ct->asking = true;
	if (ocs_call_reserve(ct->core->opt.ocs, ct->call_id, ++ct->slice, imsi, kind, on_slice,
	                     j) != 0) {
		free(j);
		ct->asking = false;
		ct->last = true;
		arm(ct);
	}
}

void sip_dlg_credit_start(struct sip_core *core, struct sip_worker *w, const char *call_id,
                          uint32_t granted_s)
{
	struct credit_timer *ct = calloc(1, sizeof(*ct));
	if (!ct) {
		LOGE("sip", "Call-ID='%s': out of memory to follow the call's credit", call_id);
		return;
	}
	ct->core = core;
	ct->w = w;
	snprintf(ct->call_id, sizeof(ct->call_id), "%s", call_id);
	ct->end_ms = sip_now_ms() + (int64_t)granted_s * 1000;
	uv_timer_init(sip_worker_loop(w), &ct->t);
	ct->t.data = ct;
	struct sip_proxy_worker *pw = &core->pw[sip_worker_index(w)];
	ct->next = pw->timers;
	if (pw->timers)
		pw->timers->prev = ct;
	pw->timers = ct;
	arm(ct);
}

void sip_dlg_worker_stop(void *ctx, struct sip_worker *w)
{
	struct sip_core *core = ctx;
	struct sip_proxy_worker *pw = &core->pw[sip_worker_index(w)];
	while (pw->timers)
		timer_free(pw->timers);
}

/* --- policy changes ------------------------------------------------------------------ */

struct cut_job {
	struct sip_core *core;
	char call_id[128];
	char reason[128];
};

static void on_cut_worker(void *arg, void *owner)
{
	struct sip_worker *w = owner;
	struct cut_job *j = arg;
	sip_dlg_cut(j->core, w, j->call_id, "policy", j->reason);
	free(j);
}

void sip_dlg_policy_changed(void *ctx, const struct policy_change *chg)
{
	struct sip_core *core = ctx;
	if (!chg->rights || !core->srv)
		return;
	unsigned cut = 0;
	for (unsigned i = 0; i < SIP_DLG_SHARDS; i++) {
		pthread_mutex_lock(&core->dlg[i].lock);
		for (struct sip_dialog *d = core->dlg[i].head; d; d = d->next) {
			if (!d->answered || !d->has_dest ||
			    (chg->class_id >= 0 && (int)d->caller_class != chg->class_id))
				continue;
			struct policy_verdict v;
			policy_check(core->opt.policy, d->caller_class, POLICY_VOICE, &d->dest,
			             d->callee_class, &v);
			if (v.allowed)
				continue;
			struct cut_job *j = calloc(1, sizeof(*j));
			if (!j)
				continue;
			j->core = core;
			snprintf(j->call_id, sizeof(j->call_id), "%s", d->call_id);
			snprintf(j->reason, sizeof(j->reason), "%s", v.rule);
			if (sip_server_post(core->srv, d->worker, on_cut_worker, j) != 0)
				free(j);
			else
				cut++;
		}
		pthread_mutex_unlock(&core->dlg[i].lock);
	}
	if (cut)
		LOGN("sip", "%s: %u calls it no longer allows are being ended", chg->what, cut);
}

/* --- queries -------------------------------------------------------------------------- */

unsigned sip_core_calls(struct sip_core *core, sip_call_fn fn, void *ctx)
{
	unsigned n = 0;
	for (unsigned i = 0; i < SIP_DLG_SHARDS; i++) {
		pthread_mutex_lock(&core->dlg[i].lock);
		for (struct sip_dialog *d = core->dlg[i].head; d; d = d->next, n++) {
			struct sip_call_info c = {.caller_msisdn = d->caller_msisdn,
			                          .callee_msisdn = d->callee_msisdn,
			                          .caller_imsi = d->caller_imsi,
			                          .callee_imsi = d->callee_imsi,
			                          .answered = d->answered,
			                          .started_ms = d->start_ms,
			                          .answered_ms = d->answer_ms};
			memcpy(c.call_id, d->call_id, sizeof(c.call_id));
			memcpy(c.caller_cell, d->caller_cell, sizeof(c.caller_cell));
			memcpy(c.callee_cell, d->callee_cell, sizeof(c.callee_cell));
			fn(ctx, &c);
		}
		pthread_mutex_unlock(&core->dlg[i].lock);
	}
	return n;
}

int sip_cdr_list(struct store *st, int64_t after, unsigned limit, sip_cdr_fn fn, void *ctx)
{
	struct store_stmt *s;
	int n = 0, rc;
	store_lock(st);
	if (store_prepare(st,
	                  "SELECT id, call_id, caller_imsi, caller_msisdn, callee_imsi, "
	                  "callee_msisdn, caller_cell, callee_cell, start_ms, answer_ms, end_ms, "
	                  "status, cause FROM sip_cdr WHERE id > $1 ORDER BY id LIMIT $2",
	                  &s) != 0) {
		store_unlock(st);
		return -EIO;
	}
	store_bind_int64(s, 1, after);
	store_bind_int64(s, 2, limit);
	while ((rc = store_step(s)) == STORE_ROW) {
		struct sip_cdr c = {.id = store_col_int64(s, 0),
		                    .caller_imsi = (uint64_t)store_col_int64(s, 2),
		                    .caller_msisdn = (uint64_t)store_col_int64(s, 3),
		                    .callee_imsi = (uint64_t)store_col_int64(s, 4),
		                    .callee_msisdn = (uint64_t)store_col_int64(s, 5),
		                    .start_ms = store_col_int64(s, 8),
		                    .answer_ms = store_col_int64(s, 9),
		                    .end_ms = store_col_int64(s, 10),
		                    .status = (int)store_col_int64(s, 11)};
		const char *t;
		if ((t = store_col_text(s, 1)))
			snprintf(c.call_id, sizeof(c.call_id), "%s", t);
		if ((t = store_col_text(s, 6)))
			snprintf(c.caller_cell, sizeof(c.caller_cell), "%s", t);
		if ((t = store_col_text(s, 7)))
			snprintf(c.callee_cell, sizeof(c.callee_cell), "%s", t);
		if ((t = store_col_text(s, 12)))
			snprintf(c.cause, sizeof(c.cause), "%s", t);
		fn(ctx, &c);
		n++;
	}
	store_reset(s);
	store_unlock(st);
	return rc == STORE_DONE ? n : -EIO;
}
