/* The stateful proxy (docs/sip-proxy.md): calls and messages between
 * subscribers routed by MSISDN to every registered contact (forking),
 * INVITEs record-routed, in-dialog requests routed by the dialog's own
 * flows (never by a host a message names), the routing hook, dialogs and
 * one CDR per call attempt. Everything here runs on the worker that owns
 * the server transaction; the dialog table is shared. */
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
#include "policy/policy.h"
#include "sip/sip_core_internal.h"
#include "sip/sip_reply.h"
#include "store/store.h"
#include "store/store_queue.h"

#define FWD_MAX (SIP_REPLY_MAX + 2048)

struct target {
	char contact[SIP_CONTACT_MAX];
	char path[SIP_CONTACT_MAX];
	struct sip_txn_peer flow;
};

struct branch {
	sip_txn_id id;
	int final; /* 0 until a final response (or failure) */
	struct sip_txn_peer flow;
};

/* One proxied request: its server transaction and its branches. */
struct pctx {
	struct pctx *next, *prev;
	struct sip_core *core;
	struct sip_worker *w;
	sip_txn_id server;
	enum sip_method method;
	bool initial_invite, answered, final_sent, cancelled;
	char call_id[128];
	unsigned n, pending;
	struct branch br[SIP_MAX_BINDINGS];
	int best;
	char *best_resp;
	size_t best_len;
	struct sip_deferred *req; /* the request, for an answer of koryod's own */
	/* While credit is asked for: where the request will go. */
	struct target *targets;
	unsigned n_targets;
	bool awaiting_credit;
	uint32_t granted_s; /* the call's first slice */
};

static _Thread_local char fwd[FWD_MAX];

/* --- message building ------------------------------------------------------------ */

static size_t put(char *out, size_t n, size_t cap, const char *p, size_t len)
{
	if (n + len < cap)
		memcpy(out + n, p, len);
	return n + len;
}

static size_t put_s(char *out, size_t n, size_t cap, const char *s)
{
	return put(out, n, cap, s, strlen(s));
}

/* The first value of a list header field and what follows it ("" if none). */
static bool first_value_rest(const struct sip_msg *m, enum sip_hdr_type t, struct sip_str *first,
                             struct sip_str *rest)
{
	struct sip_hdr_iter it;
	sip_hdr_iter_init(&it, m, t);
	if (sip_hdr_iter_next(&it, first) != 1)
		return false;
	const struct sip_hdr *h = sip_msg_header_first(m, t);
	const char *end = h->value.p + h->value.len, *p = first->p + first->len;
	while (p < end && (*p == ' ' || *p == '\t' || *p == ',' || *p == '\r' || *p == '\n'))
		p++;
	*rest = (struct sip_str){p, (size_t)(end - p)};
	return true;
}

/* Copies the header fields of m except those skip says, with
 * Max-Forwards decremented and Content-Length recomputed. skip_first_of:
 * the type whose first value is dropped (Via of a response, our Route). */
enum part {
	PART_ALL,  /* every field, then the body */
	PART_VIAS, /* the Via fields only */
	PART_REST, /* every field but Via, then the body */
};

static size_t copy_headers(const struct sip_msg *m, int skip_first_of, enum part part, char *out,
                           size_t n, size_t cap)
{
	char line[64];
	struct sip_str first = {NULL, 0}, rest = {NULL, 0};
	bool have_rest = skip_first_of >= 0 &&
	                 first_value_rest(m, (enum sip_hdr_type)skip_first_of, &first, &rest);
	for (unsigned i = 0; i < m->n_hdrs; i++) {
		const struct sip_hdr *h = &m->hdrs[i];
		if ((part == PART_VIAS && h->type != SIP_HDR_VIA) ||
		    (part == PART_REST && h->type == SIP_HDR_VIA))
			continue;
		if ((int)i == (skip_first_of >= 0 ? m->first[skip_first_of] : -1)) {
			if (have_rest && rest.len) {
				n = put_s(out, n, cap, sip_hdr_name(h->type));
				n = put(out, n, cap, ": ", 2);
				n = put(out, n, cap, rest.p, rest.len);
				n = put(out, n, cap, "\r\n", 2);
			}
			continue;
		}
		if (h->type == SIP_HDR_MAX_FORWARDS) {
			snprintf(line, sizeof(line), "Max-Forwards: %d\r\n",
			         m->max_forwards > 0 ? m->max_forwards - 1 : 0);
			n = put_s(out, n, cap, line);
			continue;
		}
		if (h->type == SIP_HDR_CONTENT_LENGTH)
			continue;
		n = put(out, n, cap, h->name.p, h->name.len);
		n = put(out, n, cap, ": ", 2);
		n = put(out, n, cap, h->value.p, h->value.len);
		n = put(out, n, cap, "\r\n", 2);
	}
	if (part == PART_VIAS)
		return n;
	if (m->is_request && m->max_forwards < 0)
		n = put_s(out, n, cap, "Max-Forwards: 70\r\n");
	snprintf(line, sizeof(line), "Content-Length: %zu\r\n\r\n", m->body.len);
	n = put_s(out, n, cap, line);
	return put(out, n, cap, m->body.p, m->body.len);
}

/* The request to send on: new Request-URI (NULL: kept), koryod's Via,
 * Record-Route and Route (a binding's Path) when given, our Route popped. */
static int build_request(struct sip_worker *w, const struct sip_msg *m, const char *ruri,
                         const struct sip_txn_peer *flow, bool record_route, const char *path,
                         bool pop_route)
{
	size_t n = 0;
	n = put(fwd, n, FWD_MAX, m->method.p, m->method.len);
	n = put(fwd, n, FWD_MAX, " ", 1);
	if (ruri)
		n = put_s(fwd, n, FWD_MAX, ruri);
	else
		n = put(fwd, n, FWD_MAX, m->ruri_str.p, m->ruri_str.len);
	n = put_s(fwd, n, FWD_MAX, " SIP/2.0\r\n");
	char via[256];
	int vl = sip_worker_via(w, flow, via, sizeof(via));
	if (vl < 0)
		return -ENOSPC;
	n = put(fwd, n, FWD_MAX, via, (size_t)vl);
	n = copy_headers(m, -1, PART_VIAS, fwd, n, FWD_MAX);
	if (record_route) {
		n = put_s(fwd, n, FWD_MAX, "Record-Route: <sip:");
		n = put_s(fwd, n, FWD_MAX, sip_worker_self(w));
		n = put_s(fwd, n, FWD_MAX, ";lr>\r\n");
	}
	if (path && path[0]) {
		n = put_s(fwd, n, FWD_MAX, "Route: ");
		n = put_s(fwd, n, FWD_MAX, path);
		n = put_s(fwd, n, FWD_MAX, "\r\n");
	}
	n = copy_headers(m, pop_route ? SIP_HDR_ROUTE : -1, PART_REST, fwd, n, FWD_MAX);
	return n < FWD_MAX ? (int)n : -ENOSPC;
}

/* A response without its top Via (ours), to send upstream. */
static int build_response(const struct sip_msg *r)
{
	const char *eol = memchr(r->buf, '\n', r->len);
	if (!eol)
		return -EINVAL;
	size_t n = put(fwd, 0, FWD_MAX, r->buf, (size_t)(eol - r->buf) + 1);
	n = copy_headers(r, SIP_HDR_VIA, PART_ALL, fwd, n, FWD_MAX);
	return n < FWD_MAX ? (int)n : -ENOSPC;
}

/* --- proxy contexts ---------------------------------------------------------------- */

static struct pctx *pctx_new(struct sip_core *core, struct sip_request *rq)
{
	struct pctx *p = calloc(1, sizeof(*p));
	if (!p || !(p->req = sip_request_defer(rq))) {
		free(p);
		return NULL;
	}
	p->core = core;
	p->w = rq->w;
	p->server = rq->txn;
	p->method = rq->msg->method_id;
	sip_copy_str(p->call_id, sizeof(p->call_id), rq->msg->call_id);
	struct sip_proxy_worker *pw = &core->pw[sip_worker_index(rq->w)];
	p->next = pw->head;
	if (pw->head)
		pw->head->prev = p;
	pw->head = p;
	return p;
}

static void pctx_free(struct pctx *p)
{
	struct sip_proxy_worker *pw = &p->core->pw[sip_worker_index(p->w)];
	if (p->prev)
		p->prev->next = p->next;
	else
		pw->head = p->next;
	if (p->next)
		p->next->prev = p->prev;
	for (unsigned i = 0; i < p->n; i++)
		sip_worker_request_forget(p->w, p->br[i].id); /* an INVITE's 2xx may repeat */
	free(p->best_resp);
	free(p->targets);
	sip_deferred_free(p->req);
	free(p);
}

static void maybe_free(struct pctx *p)
{
	if (p->final_sent && p->pending == 0 && !p->awaiting_credit)
		pctx_free(p);
}

/* RFC 3261 16.7 step 6, simplified: a 6xx beats the rest, else the lowest code. */
static bool better(int a, int than)
{
	if (!than)
		return true;
	if (than >= 600)
		return false;
	return a >= 600 || a < than;
}

static void send_up(struct pctx *p, const struct sip_msg *r, int status)
{
	int n = r ? build_response(r) : -EINVAL;
	if (n > 0)
		sip_worker_respond(p->w, p->server, fwd, (size_t)n);
	(void)status;
}

/* Every branch has answered with a failure: the best one goes upstream. */
static void send_best(struct pctx *p)
{
	p->final_sent = true;
	if (p->best_resp) {
		sip_worker_respond(p->w, p->server, p->best_resp, p->best_len);
	} else if (p->req) {
		/* Timeouts only: answer 408 ourselves (no response to copy). */
		sip_deferred_reply(p->req, p->best ? p->best : 408, NULL, NULL);
		p->req = NULL;
	}
	if (p->initial_invite)
		sip_dlg_end(p->core, p->call_id, p->best ? p->best : 408, NULL);
}

static void on_branch(void *ctx, sip_txn_id id, const struct sip_msg *r, int status)
{
	struct pctx *p = ctx;
	struct branch *b = NULL;
	for (unsigned i = 0; i < p->n; i++) {
		if (p->br[i].id == id)
			b = &p->br[i];
	}
	if (!b)
		return;
	if (status < 200) {
		if (status > 100 && !p->final_sent)
			send_up(p, r, status);
		return;
	}
	bool first_final = !b->final;
	if (first_final) {
		b->final = status;
		p->pending--;
	}
	struct sip_core *core = p->core;
	if (status < 300) {
		/* A 2xx goes up at once (also a second one from another branch),
		 * the dialog marked answered first so the API never lags it. */
		if (p->initial_invite && !p->answered) {
			struct sip_dlg_shard *sh = sip_dlg_shard_of(core, p->call_id);
			pthread_mutex_lock(&sh->lock);
			struct sip_dialog *d = *sip_dlg_find(core, p->call_id);
			bool charged = false;
			if (d && r) {
				d->answered = true;
				d->answer_ms = sip_now_ms();
				d->callee_flow = b->flow;
				sip_copy_str(d->callee_tag, sizeof(d->callee_tag), r->to.tag);
				const struct sip_hdr *th = sip_msg_header_first(r, SIP_HDR_TO);
				if (th)
					sip_copy_str(d->callee_to, sizeof(d->callee_to), th->value);
				struct sip_hdr_iter it;
				struct sip_str cv;
				struct sip_nameaddr na;
				sip_hdr_iter_init(&it, r, SIP_HDR_CONTACT);
				if (sip_hdr_iter_next(&it, &cv) == 1 &&
				    sip_nameaddr_parse(cv, false, &na) == 0)
					sip_copy_str(d->callee_contact, sizeof(d->callee_contact),
					             na.uri);
				charged = d->charged;
			}
			pthread_mutex_unlock(&sh->lock);
			sip_count(&core->stats.calls_answered);
			if (charged)
				sip_dlg_credit_start(core, p->w, p->call_id, p->granted_s);
		}
		send_up(p, r, status);
		if (p->method == SIP_METHOD_MESSAGE && !p->answered)
			sip_count(&core->stats.messages_relayed);
		if (p->method == SIP_METHOD_BYE && !p->answered)
			sip_dlg_end(core, p->call_id, 200, "normal");
		p->answered = true;
		p->final_sent = true;
		for (unsigned i = 0; i < p->n; i++) {
			if (!p->br[i].final && p->method == SIP_METHOD_INVITE)
				sip_worker_cancel(p->w, p->br[i].id);
		}
	} else if (first_final && !p->final_sent) {
		if (better(status, p->best)) {
			int n = r ? build_response(r) : -EINVAL;
			char *copy = n > 0 ? malloc((size_t)n) : NULL;
			p->best = status;
			if (copy) {
				memcpy(copy, fwd, (size_t)n);
				free(p->best_resp);
				p->best_resp = copy;
				p->best_len = (size_t)n;
			}
		}
		if (p->pending == 0) {
			if (p->method == SIP_METHOD_BYE)
				sip_dlg_end(core, p->call_id, 200, "normal");
			send_best(p);
		}
	}
	maybe_free(p);
}

/* --- initial requests ---------------------------------------------------------------- */

/* The caller: the From user, registered from the request's source. */
static int identify_caller(struct sip_core *core, struct sip_request *rq, struct hlr_subscr *out)
{
	struct sip_uri from;
	const struct sip_msg *m = rq->msg;
	if (sip_uri_parse(m->from.uri.p, m->from.uri.len, &from) != 0 ||
	    sip_subscr_of_user(core, from.user, out) != 0)
		return -ENOENT;
	bool ok = false;
	int64_t now = clock_now();
	struct sip_user *u = sip_loc_lock(core, out->imsi, false);
	if (u) {
		sip_loc_prune(core, u, now);
		for (unsigned i = 0; i < u->n && !ok; i++)
			ok = sip_flow_same_peer(&u->b[i].flow, &rq->flow);
		sip_loc_unlock(core, out->imsi);
	}
	return ok ? 0 : -EPERM;
}

static unsigned targets_of(struct sip_core *core, uint64_t imsi, struct target *t)
{
	unsigned n = 0;
	struct sip_user *u = sip_loc_lock(core, imsi, false);
	if (!u)
		return 0;
	sip_loc_prune(core, u, clock_now());
	for (unsigned i = 0; i < u->n; i++) {
		if (u->b[i].flow.reliable && u->b[i].flow.conn == UINT64_MAX)
			continue; /* a TCP binding from before a restart: no connection yet */
		snprintf(t[n].contact, sizeof(t[n].contact), "%s", u->b[i].contact);
		snprintf(t[n].path, sizeof(t[n].path), "%s", u->b[i].path);
		t[n].flow = u->b[i].flow;
		n++;
	}
	sip_loc_unlock(core, imsi);
	return n;
}

static void refuse(struct sip_request *rq, int status, const char *reason)
{
	char extra[512], phrase[128];
	sip_refusal(status, "", reason, phrase, sizeof(phrase), extra, sizeof(extra));
	sip_request_reply(rq, status, phrase, extra);
}

/* Sends the request to every target (forking); p holds the server side. */
static void fork_out(struct pctx *p, const struct sip_msg *m, const struct target *t, unsigned n)
{
	bool invite = m->method_id == SIP_METHOD_INVITE;
	for (unsigned i = 0; i < n && p->n < SIP_MAX_BINDINGS; i++) {
		int len =
		    build_request(p->w, m, t[i].contact, &t[i].flow, invite, t[i].path, false);
		struct branch *b = &p->br[p->n];
		if (len < 0 || sip_worker_request(p->w, fwd, (size_t)len, &t[i].flow, on_branch, p,
		                                  &b->id) != 0)
			continue;
		b->flow = t[i].flow;
		p->n++;
		p->pending++;
	}
	if (p->n == 0) {
		p->best = 480;
		send_best(p);
		maybe_free(p);
	}
}

void sip_header_text(char *out, size_t cap, const char *in)
{
	snprintf(out, cap, "%s", in);
	for (char *c = out; *c; c++) {
		if (*c == '\r' || *c == '\n' || *c == '"')
			*c = ' ';
	}
}

void sip_refusal(int status, const char *rule, const char *reason, char *phrase, size_t phrase_cap,
                 char *extra, size_t extra_cap)
{
	char r[128];
	sip_header_text(phrase, phrase_cap, reason);
	sip_header_text(r, sizeof(r), rule);
	int n = snprintf(extra, extra_cap, "Warning: 399 koryo \"%s\"\r\n", phrase);
	if (r[0] && n > 0 && (size_t)n < extra_cap)
		snprintf(extra + n, extra_cap - (size_t)n, "Reason: SIP;cause=%d;text=\"%s\"\r\n",
		         status, r);
}

/* Refuses with status and reason, naming the rule (docs/policy.md). */
static void refuse_rule(struct sip_request *rq, int status, const char *rule, const char *reason)
{
	char extra[512], phrase[128];
	sip_refusal(status, rule, reason, phrase, sizeof(phrase), extra, sizeof(extra));
	sip_request_reply(rq, status, phrase, extra);
}

struct credit_job {
	struct sip_core *core;
	struct pctx *p;
	unsigned worker;
	struct ocs_grant g;
};

/* The credit answer on the request's worker: fork, or refuse. */
static void on_credit_worker(void *arg, void *owner)
{
	struct sip_worker *w = owner;
	struct credit_job *j = arg;
	struct pctx *p = j->p;
	struct sip_core *core = j->core;
	static _Thread_local struct sip_msg m;
	(void)w;
	p->awaiting_credit = false;
	if (j->g.status != 0 || p->cancelled || sip_deferred_msg(p->req, &m) != 0) {
		if (j->g.status != 0)
			sip_count(&core->stats.refused_no_credit);
		int status = p->cancelled ? 487 : 403;
		const char *why = p->cancelled ? "Request Terminated" : j->g.reason;
		char extra[256];
		snprintf(extra, sizeof(extra), "Warning: 399 koryo \"%s\"\r\n", why);
		sip_deferred_reply(p->req, status, why, p->cancelled ? NULL : extra);
		p->req = NULL;
		p->final_sent = true;
		if (p->initial_invite) {
			/* Refused: nothing was reserved, nothing to settle. */
			if (j->g.status != 0) {
				struct sip_dlg_shard *sh = sip_dlg_shard_of(core, p->call_id);
				pthread_mutex_lock(&sh->lock);
				struct sip_dialog *d = *sip_dlg_find(core, p->call_id);
				if (d)
					d->charged = false;
				pthread_mutex_unlock(&sh->lock);
			}
			sip_dlg_end(core, p->call_id, status,
			            p->cancelled ? "cancelled" : "no-credit");
		}
		LOGI("sip", "Call-ID='%s': %s", p->call_id,
		     p->cancelled ? "cancelled while credit was asked for" : why);
	} else {
		if (p->initial_invite) {
			struct sip_dlg_shard *sh = sip_dlg_shard_of(core, p->call_id);
			pthread_mutex_lock(&sh->lock);
			struct sip_dialog *d = *sip_dlg_find(core, p->call_id);
			if (d)
				p->granted_s = j->g.seconds;
			pthread_mutex_unlock(&sh->lock);
		}
		fork_out(p, &m, p->targets, p->n_targets);
	}
	free(p->targets);
	p->targets = NULL;
	free(j);
	maybe_free(p);
}

static void on_credit(void *ctx, const struct ocs_grant *g)
{
	struct credit_job *j = ctx;
	j->g = *g;
	if (sip_server_post(j->core->srv, j->worker, on_credit_worker, j) != 0)
		free(j); /* stopping: the context goes with the proxy */
}

/* The tariff's name for where a call goes. */
static void dest_kind(struct sip_core *core, bool on_net, const struct hlr_subscr *callee,
                      const struct policy_dest *dest, char *out, size_t cap)
{
	const struct hlr_profile *prof = hlr_registry_profile(core->reg);
	if (on_net && callee->class_id < prof->n_classes) {
		snprintf(out, cap, "class:%s", prof->classes[callee->class_id].name);
		return;
	}
	static const char *const kinds[] = {"national", "international", "short_code", "reserved",
	                                    "invalid"};
	snprintf(out, cap, "%s", dest ? kinds[dest->kind] : "national");
}

static void route_initial(struct sip_core *core, struct sip_request *rq)
{
	const struct sip_msg *m = rq->msg;
	bool invite = m->method_id == SIP_METHOD_INVITE;
	struct hlr_subscr caller, callee;
	int rc = identify_caller(core, rq, &caller);
	if (rc != 0) {
		sip_request_reply(rq, 403, "Caller Not Registered", NULL);
		return;
	}
	sip_loc_cell(core, caller.imsi, m);

	/* Who is called: an on-net subscriber in any form of its number, and
	 * what the number is (national, international, a service code...). */
	char dialled[128];
	int dl = sip_unescape(m->ruri.user.p, m->ruri.user.len, dialled, sizeof(dialled) - 1);
	dialled[dl > 0 ? dl : 0] = '\0';
	bool on_net = sip_subscr_of_user(core, m->ruri.user, &callee) == 0;
	struct policy_dest dest;
	struct policy *pol = core->opt.policy;
	if (pol) {
		char num[32];
		if (on_net && callee.msisdn)
			snprintf(num, sizeof(num), "+%" PRIu64, callee.msisdn);
		policy_analyse(pol, on_net && callee.msisdn ? num : dialled, &dest);
		struct policy_verdict v;
		policy_check(pol, caller.class_id, invite ? POLICY_VOICE : POLICY_SMS, &dest,
		             on_net ? (int)callee.class_id : -1, &v);
		if (!v.allowed) {
			LOGI("sip", "Call-ID='%.*s': %s to %s refused by rule %s",
			     (int)m->call_id.len, m->call_id.p, invite ? "call" : "message",
			     dialled, v.rule);
			refuse_rule(rq, 403, v.rule, v.reason);
			sip_count(&core->stats.refused_by_policy);
			if (invite)
				sip_cdr_refused(core, m, caller.imsi, caller.msisdn,
				                on_net ? callee.imsi : 0,
				                on_net ? callee.msisdn : 0, 403, "refused");
			else
				sip_count(&core->stats.calls_refused);
			return;
		}
		if (dest.kind == POLICY_DEST_SHORT_CODE && !on_net &&
		    sip_service_request(core, rq, &caller, dialled))
			return;
	}
	if (!on_net) {
		sip_request_reply(rq, 404, NULL, NULL);
		if (invite)
			sip_cdr_refused(core, m, caller.imsi, caller.msisdn, 0, 0, 404, NULL);
		return;
	}
	char cell[SIP_CELL_MAX] = "";
	struct sip_user *u = sip_loc_lock(core, caller.imsi, false);
	if (u) {
		memcpy(cell, u->cell, sizeof(cell));
		sip_loc_unlock(core, caller.imsi);
	}
	if (core->opt.route_hook) {
		struct sip_route_query q = {.method = m->method_id,
		                            .caller_imsi = caller.imsi,
		                            .caller_msisdn = caller.msisdn,
		                            .callee_imsi = callee.imsi,
		                            .callee_msisdn = callee.msisdn,
		                            .caller_cell = cell};
		char reason[128] = "Refused by Policy";
		int status =
		    core->opt.route_hook(core->opt.route_hook_ctx, &q, reason, sizeof(reason));
		if (status) {
			LOGI("sip", "Call-ID='%.*s': %s refused: %s", (int)m->call_id.len,
			     m->call_id.p, invite ? "call" : "message", reason);
			refuse(rq, status >= 300 && status < 700 ? status : 403, reason);
			if (invite)
				sip_cdr_refused(core, m, caller.imsi, caller.msisdn, callee.imsi,
				                callee.msisdn, 403, NULL);
			return;
		}
	}
	struct target t[SIP_MAX_BINDINGS];
	unsigned n = targets_of(core, callee.imsi, t);
	if (n == 0) {
		sip_request_reply(rq, 480, NULL, NULL);
		if (invite)
			sip_cdr_refused(core, m, caller.imsi, caller.msisdn, callee.imsi,
			                callee.msisdn, 480, NULL);
		return;
	}
	struct pctx *p = pctx_new(core, rq);
	if (!p) {
		sip_request_reply(rq, 500, NULL, NULL);
		return;
	}
	p->initial_invite = invite;
	char kind[48];
	dest_kind(core, true, &callee, pol ? &dest : NULL, kind, sizeof(kind));
	if (invite) {
		struct sip_dialog *d = calloc(1, sizeof(*d));
		if (d) {
			memcpy(d->call_id, p->call_id, sizeof(d->call_id));
			sip_copy_str(d->caller_tag, sizeof(d->caller_tag), m->from.tag);
			d->caller_imsi = caller.imsi;
			d->caller_msisdn = caller.msisdn;
			d->callee_imsi = callee.imsi;
			d->callee_msisdn = callee.msisdn;
			d->caller_class = caller.class_id;
			d->callee_class = callee.class_id;
			if (pol) {
				d->dest = dest;
				d->has_dest = true;
			}
			snprintf(d->dest_kind, sizeof(d->dest_kind), "%s", kind);
			memcpy(d->caller_cell, cell, sizeof(cell));
			struct sip_user *cu = sip_loc_lock(core, callee.imsi, false);
			if (cu) {
				memcpy(d->callee_cell, cu->cell, sizeof(d->callee_cell));
				sip_loc_unlock(core, callee.imsi);
			}
			d->caller_flow = rq->flow;
			const struct sip_hdr *fh = sip_msg_header_first(m, SIP_HDR_FROM);
			if (fh)
				sip_copy_str(d->caller_from, sizeof(d->caller_from), fh->value);
			struct sip_hdr_iter it;
			struct sip_str cv;
			struct sip_nameaddr na;
			sip_hdr_iter_init(&it, m, SIP_HDR_CONTACT);
			if (sip_hdr_iter_next(&it, &cv) == 1 &&
			    sip_nameaddr_parse(cv, false, &na) == 0)
				sip_copy_str(d->caller_contact, sizeof(d->caller_contact), na.uri);
			d->invite_cseq = m->cseq.number;
			d->worker = sip_worker_index(rq->w);
			d->charged = core->opt.ocs != NULL;
			d->start_ms = sip_now_ms();
			if (sip_dlg_add(core, d) != 0)
				free(d);
		}
	}
	if (!core->opt.ocs) {
		fork_out(p, m, t, n);
		return;
	}
	/* Credit first (durable), then the call or the message goes out. */
	struct credit_job *j = calloc(1, sizeof(*j));
	p->targets = malloc(n * sizeof(*t));
	if (!j || !p->targets) {
		free(j);
		free(p->targets);
		p->targets = NULL;
		p->best = 500;
		send_best(p);
		maybe_free(p);
		return;
	}
	memcpy(p->targets, t, n * sizeof(*t));
	p->n_targets = n;
	p->awaiting_credit = true;
	*j = (struct credit_job){.core = core, .p = p, .worker = sip_worker_index(rq->w)};
	if (invite) {
		rc =
		    ocs_call_reserve(core->opt.ocs, p->call_id, 0, caller.imsi, kind, on_credit, j);
	} else {
		char op[160];
		snprintf(op, sizeof(op), "sms:%s:%" PRIu32, p->call_id, m->cseq.number);
		rc = ocs_sms_charge(core->opt.ocs, op, caller.imsi, kind, 1, on_credit, j);
	}
	if (rc != 0) {
		free(j);
		free(p->targets);
		p->targets = NULL;
		p->awaiting_credit = false;
		p->best = 500;
		send_best(p);
		maybe_free(p);
	}
}

void sip_proxy_on_invite(void *ctx, struct sip_request *rq)
{
	if (rq->msg->to.tag.p) {
		sip_proxy_on_in_dialog(ctx, rq);
		return;
	}
	route_initial(ctx, rq);
}

void sip_proxy_on_message(void *ctx, struct sip_request *rq)
{
	struct sip_core *core = ctx;
	if (rq->msg->to.tag.p) {
		sip_proxy_on_in_dialog(ctx, rq);
		return;
	}
	if (core->opt.smsc) {
		/* Short messages are stored and forwarded by the SMS centre. */
		struct hlr_subscr snd;
		if (identify_caller(core, rq, &snd) != 0) {
			sip_request_reply(rq, 403, "Caller Not Registered", NULL);
			return;
		}
		sip_loc_cell(core, snd.imsi, rq->msg);
		if (sip_sms_on_message(core, rq, &snd))
			return;
	}
	route_initial(ctx, rq);
}

void sip_proxy_on_cancel(void *ctx, struct sip_request *rq)
{
	struct sip_core *core = ctx;
	sip_txn_id inv;
	struct pctx *p = NULL;
	if (sip_worker_find_invite(rq->w, rq->msg, &inv) == 0) {
		for (p = core->pw[sip_worker_index(rq->w)].head; p && p->server != inv; p = p->next)
			;
	}
	if (!p) {
		sip_request_reply(rq, 481, NULL, NULL);
		return;
	}
	sip_request_reply(rq, 200, NULL, NULL);
	if (p->final_sent)
		return;
	p->cancelled = true;
	if (p->awaiting_credit)
		return; /* answered 487 when the credit answer comes */
	for (unsigned i = 0; i < p->n; i++) {
		if (!p->br[i].final)
			sip_worker_cancel(p->w, p->br[i].id);
	}
}

/* --- inside a dialog ------------------------------------------------------------------ */

/* Where a request inside the dialog of m goes: the other party's flow. */
static int dialog_target(struct sip_core *core, const struct sip_msg *m, struct sip_txn_peer *out)
{
	char cid[128], tag[128];
	sip_copy_str(cid, sizeof(cid), m->call_id);
	sip_copy_str(tag, sizeof(tag), m->from.tag);
	int rc = -ENOENT;
	struct sip_dlg_shard *sh = sip_dlg_shard_of(core, cid);
	pthread_mutex_lock(&sh->lock);
	struct sip_dialog *d = *sip_dlg_find(core, cid);
	if (d && (d->answered || m->method_id == SIP_METHOD_ACK)) {
		*out = strcmp(tag, d->caller_tag) == 0 ? d->callee_flow : d->caller_flow;
		rc = out->addr_len ? 0 : -ENOENT;
	}
	pthread_mutex_unlock(&sh->lock);
	return rc;
}

void sip_proxy_on_ack(void *ctx, struct sip_request *rq)
{
	struct sip_txn_peer to;
	if (dialog_target(ctx, rq->msg, &to) != 0)
		return; /* an ACK for nothing koryod knows: dropped */
	int n = build_request(rq->w, rq->msg, NULL, &to, false, NULL,
	                      sip_worker_route_is_self(rq->w, rq->msg));
	if (n > 0)
		sip_worker_send(rq->w, fwd, (size_t)n, &to);
}

void sip_proxy_on_in_dialog(void *ctx, struct sip_request *rq)
{
	struct sip_core *core = ctx;
	struct sip_txn_peer to;
	if (dialog_target(core, rq->msg, &to) != 0) {
		sip_request_reply(rq, 481, NULL, NULL);
		return;
	}
	struct pctx *p = pctx_new(core, rq);
	int n = p ? build_request(rq->w, rq->msg, NULL, &to, false, NULL,
	                          sip_worker_route_is_self(rq->w, rq->msg))
	          : -ENOMEM;
	if (n < 0 ||
	    sip_worker_request(rq->w, fwd, (size_t)n, &to, on_branch, p, &p->br[0].id) != 0) {
		if (p)
			pctx_free(p);
		sip_request_reply(rq, 500, NULL, NULL);
		return;
	}
	p->br[0].flow = to;
	p->n = p->pending = 1;
}

void sip_proxy_on_stray_response(void *ctx, struct sip_worker *w, const struct sip_msg *m)
{
	/* A 2xx to an INVITE retransmitted after its transaction ended: the
	 * caller's ACK was lost. Relay it to the caller (RFC 3261 16.7). */
	struct sip_core *core = ctx;
	if (m->status < 200 || m->status >= 300 || sip_branch_worker(m->via.branch) < 0)
		return;
	char cid[128];
	sip_copy_str(cid, sizeof(cid), m->call_id);
	struct sip_txn_peer to = {0};
	struct sip_dlg_shard *sh = sip_dlg_shard_of(core, cid);
	pthread_mutex_lock(&sh->lock);
	struct sip_dialog *d = *sip_dlg_find(core, cid);
	if (d)
		to = d->caller_flow;
	pthread_mutex_unlock(&sh->lock);
	int n = d ? build_response(m) : -ENOENT;
	if (n > 0)
		sip_worker_send(w, fwd, (size_t)n, &to);
}

/* --- setup and queries -------------------------------------------------------------------- */

int sip_proxy_init(struct sip_core *core, unsigned workers)
{
	core->pw = calloc(workers ? workers : 1, sizeof(*core->pw));
	if (!core->pw)
		return -ENOMEM;
	core->n_pw = workers;
	for (unsigned i = 0; i < SIP_DLG_SHARDS; i++)
		pthread_mutex_init(&core->dlg[i].lock, NULL);
	/* CDR ids continue after the largest stored one. */
	struct store_stmt *s;
	int64_t next = 1;
	store_lock(core->st);
	if (store_prepare(core->st, "SELECT MAX(id) FROM sip_cdr", &s) == 0) {
		if (store_step(s) == STORE_ROW)
			next = store_col_int64(s, 0) + 1;
		store_reset(s);
	}
	store_unlock(core->st);
	atomic_store(&core->next_cdr_id, next);
	return 0;
}

void sip_proxy_free(struct sip_core *core)
{
	for (unsigned i = 0; i < core->n_pw; i++) {
		while (core->pw[i].head)
			pctx_free(core->pw[i].head);
	}
	free(core->pw);
	for (unsigned i = 0; i < SIP_DLG_SHARDS; i++) {
		struct sip_dialog *d = core->dlg[i].head;
		while (d) {
			struct sip_dialog *next = d->next;
			free(d);
			d = next;
		}
		pthread_mutex_destroy(&core->dlg[i].lock);
	}
}
