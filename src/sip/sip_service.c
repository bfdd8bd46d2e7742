/* Service codes (docs/charging.md): a subscriber dials or texts *CODE*PIN#
 * to top up with a card, *CODE# for the balance. The request is answered at
 * once (MESSAGE 200; INVITE 603, there is nobody to talk to) and the result
 * comes back as a MESSAGE from CODE to the phone. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "ocs/ocs.h"
#include "sip/sip_core_internal.h"

struct service_job {
	struct sip_core *core;
	unsigned worker;
	struct sip_txn_peer flow;
	char contact[SIP_CONTACT_MAX], path[SIP_CONTACT_MAX];
	char code[16];
	uint64_t msisdn;
	char text[256];
};

/* The answer goes to the phone as a text message. */
static void send_result(struct sip_worker *w, struct service_job *j)
{
	char to[24];
	snprintf(to, sizeof(to), "%" PRIu64, j->msisdn);
	struct sip_out_message o = {.flow = j->flow,
	                            .contact = j->contact,
	                            .path = j->path,
	                            .from_user = j->code,
	                            .to_user = to,
	                            .call_id_prefix = "svc",
	                            .content_type = "text/plain;charset=UTF-8",
	                            .body = j->text,
	                            .body_len = strlen(j->text)};
	if (sip_send_message(w, j->core, &o, NULL, NULL) != 0)
		LOGW("sip", "%" PRIu64 ": the service answer could not be sent", j->msisdn);
}

static void on_result_worker(void *arg, void *owner)
{
	struct sip_worker *w = owner;
	struct service_job *j = arg;
	send_result(w, j);
	free(j);
}

static void on_topup(void *ctx, const struct ocs_grant *g)
{
	struct service_job *j = ctx;
	snprintf(j->text, sizeof(j->text), "%s", g->reason);
	if (sip_server_post(j->core->srv, j->worker, on_result_worker, j) != 0)
		free(j);
}

bool sip_service_request(struct sip_core *core, struct sip_request *rq,
                         const struct hlr_subscr *caller, const char *dialled)
{
	/* *CODE*PIN# or *CODE#: digits only between the marks. */
	if (!core->opt.ocs || dialled[0] != '*')
		return false;
	const char *code = dialled + 1, *end = code;
	while (*end >= '0' && *end <= '9')
		end++;
	size_t code_len = (size_t)(end - code);
	if (!code_len || code_len >= 16 || (*end != '*' && *end != '#'))
		return false;
	char pin[64] = "";
	if (*end == '*') {
		const char *p = end + 1, *q = p;
		while (*q >= '0' && *q <= '9')
			q++;
		if (q == p || *q != '#' || q[1] || (size_t)(q - p) >= sizeof(pin))
			return false;
		memcpy(pin, p, (size_t)(q - p));
		pin[q - p] = '\0';
	} else if (end[1]) {
		return false;
	}
	struct service_job *j = calloc(1, sizeof(*j));
	if (!j)
		return false;
	j->core = core;
	j->worker = sip_worker_index(rq->w);
	j->flow = rq->flow;
	j->msisdn = caller->msisdn;
	memcpy(j->code, code, code_len);
	if (!sip_loc_contact_of(core, caller->imsi, &rq->flow, j->contact, j->path)) {
		free(j);
		return false;
	}
	sip_count(&core->stats.service_requests);
	/* Answered now; the result follows as a MESSAGE. */
	if (rq->msg->method_id == SIP_METHOD_INVITE)
		sip_request_reply(rq, 603, "Service Request Taken", NULL);
	else
		sip_request_reply(rq, 200, NULL, NULL);
	if (!pin[0]) {
		if (ocs_balance_text(core->opt.ocs, caller->imsi, j->text, sizeof(j->text)) != 0)
			snprintf(j->text, sizeof(j->text), "No account.");
		send_result(rq->w, j);
		free(j);
		return true;
	}
	char op[200];
	snprintf(op, sizeof(op), "topup:%.*s",
	         (int)(rq->msg->call_id.len > 150 ? 150 : rq->msg->call_id.len),
	         rq->msg->call_id.p);
	LOGI("sip", "%" PRIu64 ": top-up by service code %s", caller->msisdn, j->code);
	if (ocs_topup(core->opt.ocs, op, caller->imsi, pin, on_topup, j) != 0) {
		snprintf(j->text, sizeof(j->text), "The top-up could not be made; try again.");
		send_result(rq->w, j);
		free(j);
	}
	return true;
}
