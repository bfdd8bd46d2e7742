/* GET /metrics: Prometheus text format 0.0.4. */
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "hlr/gsup.h"
#include "hlr/gsup_server.h"
#include "hlr/registry.h"
#include "sip/sip_core.h"
#include "sip/sip_server.h"
#include "sms/smsc.h"
#include "store/store.h"
#include "store/store_queue.h"

struct textbuf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void tb_append(void *ctx, const char *fmt, ...)
{
	struct textbuf *tb = ctx;
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = tb->oom ? 0 : vsnprintf(tb->s + tb->len, tb->cap - tb->len, fmt, ap);
		va_end(ap);
		if (tb->oom || n < 0)
			return;
		if ((size_t)n < tb->cap - tb->len) {
			tb->len += (size_t)n;
			return;
		}
		size_t cap = tb->cap * 2 + (size_t)n;
		char *s = realloc(tb->s, cap);
		if (!s) {
			tb->oom = true;
			return;
		}
		tb->s = s;
		tb->cap = cap;
	}
}

static const char *const route_names[ROUTE_COUNT] = {"/health",
                                                     "/metrics",
                                                     "/v1/subscribers",
                                                     "/v1/subscribers/{key}",
                                                     "/v1/import/subscribers",
                                                     "/v1/import/progress/{id}",
                                                     "/v1/profile",
                                                     "/v1/subscribers/{key}/registrations",
                                                     "/v1/calls",
                                                     "/v1/cdrs",
                                                     "/v1/policy",
                                                     "/v1/charging",
                                                     "/v1/sms",
                                                     "other"};
_Static_assert(ROUTE_OTHER == 13 && ROUTE_COUNT == 14,
               "route_names lists every route of enum api_route, in order");

enum MHD_Result api_metrics_handle(struct api_server *srv, struct MHD_Connection *c)
{
	struct textbuf tb = {.s = malloc(16384), .cap = 16384};
	if (!tb.s)
		return MHD_NO;
	tb.s[0] = '\0';
	const struct hlr_profile *p = hlr_registry_profile(srv->reg);

	static uint64_t counts[HLR_MAX_CLASSES][HLR_STATUS_COUNT];
	static pthread_mutex_t counts_lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_lock(&counts_lock);
	hlr_registry_count_by_class_status(srv->reg, counts);
	tb_append(&tb, "# HELP koryo_subscribers Subscribers in the registry.\n"
	               "# TYPE koryo_subscribers gauge\n");
	for (unsigned cl = 0; cl < p->n_classes; cl++) {
		for (unsigned st = 0; st < HLR_STATUS_COUNT; st++)
			tb_append(&tb, "koryo_subscribers{class=\"%s\",status=\"%s\"} %llu\n",
			          p->classes[cl].name, hlr_status_name(st),
			          (unsigned long long)counts[cl][st]);
	}
	pthread_mutex_unlock(&counts_lock);

	tb_append(&tb, "# HELP koryo_api_request_duration_seconds API request latency.\n"
	               "# TYPE koryo_api_request_duration_seconds histogram\n");
	for (unsigned r = 0; r < ROUTE_COUNT; r++) {
		char labels[64];
		snprintf(labels, sizeof(labels), "route=\"%s\"", route_names[r]);
		histogram_render(&srv->latency[r], "koryo_api_request_duration_seconds", labels,
		                 tb_append, &tb);
	}
	struct store *st = hlr_registry_store(srv->reg);
	tb_append(&tb, "# HELP koryo_store_statement_duration_seconds Store statement latency.\n"
	               "# TYPE koryo_store_statement_duration_seconds histogram\n");
	histogram_render(store_statement_latency(st), "koryo_store_statement_duration_seconds", "",
	                 tb_append, &tb);
	tb_append(&tb, "# HELP koryo_store_commit_duration_seconds Store commit latency.\n"
	               "# TYPE koryo_store_commit_duration_seconds histogram\n");
	histogram_render(store_commit_latency(st), "koryo_store_commit_duration_seconds", "",
	                 tb_append, &tb);
	tb_append(&tb,
	          "# HELP koryo_workers Protocol worker threads (one event loop each).\n"
	          "# TYPE koryo_workers gauge\nkoryo_workers %u\n",
	          srv->workers);
	if (srv->queue) {
		struct store_queue_stats qs;
		store_queue_get_stats(srv->queue, &qs);
		tb_append(&tb,
		          "# HELP koryo_store_queue_depth Writes waiting for the group commit.\n"
		          "# TYPE koryo_store_queue_depth gauge\nkoryo_store_queue_depth %llu\n"
		          "# HELP koryo_store_queue_batches_total Group commits (one fsync each).\n"
		          "# TYPE koryo_store_queue_batches_total counter\n"
		          "koryo_store_queue_batches_total %llu\n"
		          "# HELP koryo_store_queue_statements_total Writes made durable by group "
		          "commit.\n"
		          "# TYPE koryo_store_queue_statements_total counter\n"
		          "koryo_store_queue_statements_total %llu\n"
		          "# HELP koryo_store_queue_failures_total Writes whose commit failed.\n"
		          "# TYPE koryo_store_queue_failures_total counter\n"
		          "koryo_store_queue_failures_total %llu\n",
		          (unsigned long long)qs.depth, (unsigned long long)qs.batches,
		          (unsigned long long)qs.statements, (unsigned long long)qs.failures);
	}
	if (srv->gsup) {
		struct gsup_server_stats gs;
		gsup_server_get_stats(srv->gsup, &gs);
		tb_append(&tb,
		          "# HELP koryo_gsup_connections Open GSUP (IPA) connections.\n"
		          "# TYPE koryo_gsup_connections gauge\nkoryo_gsup_connections %llu\n"
		          "# HELP koryo_gsup_peers Identified GSUP peers (VLRs, SGSNs).\n"
		          "# TYPE koryo_gsup_peers gauge\nkoryo_gsup_peers %llu\n"
		          "# HELP koryo_gsup_errors_sent_total GSUP error answers sent.\n"
		          "# TYPE koryo_gsup_errors_sent_total counter\n"
		          "koryo_gsup_errors_sent_total %llu\n"
		          "# HELP koryo_gsup_bad_frames_total Undecodable IPA frames and GSUP "
		          "messages received.\n"
		          "# TYPE koryo_gsup_bad_frames_total counter\n"
		          "koryo_gsup_bad_frames_total %llu\n"
		          "# HELP koryo_gsup_messages_total GSUP messages received, by type.\n"
		          "# TYPE koryo_gsup_messages_total counter\n",
		          (unsigned long long)gs.connections, (unsigned long long)gs.peers,
		          (unsigned long long)gs.errors_sent,
		          (unsigned long long)gs.frames_bad); /* Counted per procedure (type >> 2),
		                                                 named after its request. */
		for (unsigned t = 0; t < 64; t++) {
			if (gs.requests[t])
				tb_append(&tb, "koryo_gsup_messages_total{procedure=\"%s\"} %llu\n",
				          gsup_type_name((uint8_t)(t << 2)),
				          (unsigned long long)gs.requests[t]);
		}
	}
	if (srv->sip) {
		static const char *const classes[6] = {"1xx", "2xx", "3xx", "4xx", "5xx", "6xx"};
		struct sip_server_stats ss;
		sip_server_get_stats(srv->sip, &ss);
		tb_append(
		    &tb,
		    "# HELP koryo_sip_tcp_connections Open SIP TCP connections.\n"
		    "# TYPE koryo_sip_tcp_connections gauge\nkoryo_sip_tcp_connections %llu\n"
		    "# HELP koryo_sip_bad_messages_total SIP messages the parser refused "
		    "(answered 400/505 or dropped).\n"
		    "# TYPE koryo_sip_bad_messages_total counter\n"
		    "koryo_sip_bad_messages_total %llu\n"
		    "# HELP koryo_sip_stray_responses_total SIP responses that matched no "
		    "transaction (a late 2xx is relayed to the caller, others dropped).\n"
		    "# TYPE koryo_sip_stray_responses_total counter\n"
		    "koryo_sip_stray_responses_total %llu\n"
		    "# HELP koryo_sip_send_errors_total SIP answers not built or not sent.\n"
		    "# TYPE koryo_sip_send_errors_total counter\n"
		    "koryo_sip_send_errors_total %llu\n"
		    "# HELP koryo_sip_requests_total SIP requests received, by method.\n"
		    "# TYPE koryo_sip_requests_total counter\n",
		    (unsigned long long)ss.tcp_connections, (unsigned long long)ss.bad_messages,
		    (unsigned long long)ss.stray_responses, (unsigned long long)ss.send_errors);
		for (unsigned m = 0; m < SIP_SERVER_METHODS; m++)
			tb_append(&tb, "koryo_sip_requests_total{method=\"%s\"} %llu\n",
			          sip_server_method_name(m), (unsigned long long)ss.requests[m]);
		tb_append(&tb, "# HELP koryo_sip_responses_total SIP responses sent, by class.\n"
		               "# TYPE koryo_sip_responses_total counter\n");
		for (unsigned k = 0; k < 6; k++)
			tb_append(&tb, "koryo_sip_responses_total{class=\"%s\"} %llu\n", classes[k],
			          (unsigned long long)ss.responses[k]);
		tb_append(
		    &tb,
		    "# HELP koryo_sip_transactions SIP transactions alive now (all workers).\n"
		    "# TYPE koryo_sip_transactions gauge\nkoryo_sip_transactions %llu\n"
		    "# HELP koryo_sip_retransmissions_absorbed_total Retransmitted requests "
		    "and ACKs a transaction absorbed.\n"
		    "# TYPE koryo_sip_retransmissions_absorbed_total counter\n"
		    "koryo_sip_retransmissions_absorbed_total %llu\n"
		    "# HELP koryo_sip_handoffs_total Responses handed to the worker owning "
		    "their transaction.\n"
		    "# TYPE koryo_sip_handoffs_total counter\nkoryo_sip_handoffs_total %llu\n",
		    (unsigned long long)ss.transactions,
		    (unsigned long long)ss.retransmissions_absorbed,
		    (unsigned long long)ss.handoffs);
	}
	if (srv->sip_core) {
		struct sip_core_stats cs;
		sip_core_get_stats(srv->sip_core, &cs);
		tb_append(
		    &tb,
		    "# HELP koryo_sip_bindings SIP contacts registered now.\n"
		    "# TYPE koryo_sip_bindings gauge\nkoryo_sip_bindings %llu\n"
		    "# HELP koryo_sip_registered_subscribers Subscribers with at least one SIP "
		    "contact registered now.\n"
		    "# TYPE koryo_sip_registered_subscribers gauge\n"
		    "koryo_sip_registered_subscribers %llu\n"
		    "# HELP koryo_sip_registrations_total REGISTERs accepted (answered 200).\n"
		    "# TYPE koryo_sip_registrations_total counter\n"
		    "koryo_sip_registrations_total %llu\n"
		    "# HELP koryo_sip_auth_challenges_total Digest challenges sent (401).\n"
		    "# TYPE koryo_sip_auth_challenges_total counter\n"
		    "koryo_sip_auth_challenges_total %llu\n"
		    "# HELP koryo_sip_auth_failures_total Authentications with wrong "
		    "credentials.\n"
		    "# TYPE koryo_sip_auth_failures_total counter\n"
		    "koryo_sip_auth_failures_total %llu\n"
		    "# HELP koryo_sip_auth_rate_limited_total Requests refused for too many "
		    "failed authentications.\n"
		    "# TYPE koryo_sip_auth_rate_limited_total counter\n"
		    "koryo_sip_auth_rate_limited_total %llu\n"
		    "# HELP koryo_sip_aka_resyncs_total AKA sequence resynchronisations (AUTS "
		    "accepted).\n"
		    "# TYPE koryo_sip_aka_resyncs_total counter\n"
		    "koryo_sip_aka_resyncs_total %llu\n"
		    "# HELP koryo_sip_unknown_cells_total P-Access-Network-Info headers naming no "
		    "cell of the home network.\n"
		    "# TYPE koryo_sip_unknown_cells_total counter\n"
		    "koryo_sip_unknown_cells_total %llu\n"
		    "# HELP koryo_sip_calls_active Calls up or being set up now.\n"
		    "# TYPE koryo_sip_calls_active gauge\nkoryo_sip_calls_active %llu\n"
		    "# HELP koryo_sip_calls_total Call attempts ended, by outcome.\n"
		    "# TYPE koryo_sip_calls_total counter\n"
		    "koryo_sip_calls_total{outcome=\"answered\"} %llu\n"
		    "koryo_sip_calls_total{outcome=\"failed\"} %llu\n"
		    "koryo_sip_calls_total{outcome=\"cancelled\"} %llu\n"
		    "koryo_sip_calls_total{outcome=\"refused\"} %llu\n"
		    "# HELP koryo_sip_messages_relayed_total MESSAGEs delivered (answered 2xx by "
		    "the callee).\n"
		    "# TYPE koryo_sip_messages_relayed_total counter\n"
		    "koryo_sip_messages_relayed_total %llu\n"
		    "# HELP koryo_sip_cdrs_written_total Call detail records stored.\n"
		    "# TYPE koryo_sip_cdrs_written_total counter\n"
		    "koryo_sip_cdrs_written_total %llu\n"
		    "# HELP koryo_sip_cdr_write_errors_total Call detail records the store "
		    "failed to write.\n"
		    "# TYPE koryo_sip_cdr_write_errors_total counter\n"
		    "koryo_sip_cdr_write_errors_total %llu\n",
		    (unsigned long long)cs.bindings, (unsigned long long)cs.registered_users,
		    (unsigned long long)cs.registrations, (unsigned long long)cs.auth_challenges,
		    (unsigned long long)cs.auth_failures, (unsigned long long)cs.auth_rate_limited,
		    (unsigned long long)cs.aka_resyncs, (unsigned long long)cs.unknown_cells,
		    (unsigned long long)cs.calls_active, (unsigned long long)cs.calls_answered,
		    (unsigned long long)cs.calls_failed, (unsigned long long)cs.calls_cancelled,
		    (unsigned long long)cs.calls_refused, (unsigned long long)cs.messages_relayed,
		    (unsigned long long)cs.cdrs_written, (unsigned long long)cs.cdr_write_errors);
		tb_append(
		    &tb,
		    "# HELP koryo_sip_refused_total Calls and messages refused before they "
		    "rang, by why.\n"
		    "# TYPE koryo_sip_refused_total counter\n"
		    "koryo_sip_refused_total{reason=\"policy\"} %llu\n"
		    "koryo_sip_refused_total{reason=\"no-credit\"} %llu\n"
		    "# HELP koryo_sip_calls_ended_by_koryod_total Answered calls koryod "
		    "ended, by why.\n"
		    "# TYPE koryo_sip_calls_ended_by_koryod_total counter\n"
		    "koryo_sip_calls_ended_by_koryod_total{reason=\"credit-exhausted\"} %llu\n"
		    "koryo_sip_calls_ended_by_koryod_total{reason=\"policy\"} %llu\n"
		    "# HELP koryo_sip_service_requests_total Service codes served (top-up, "
		    "balance).\n"
		    "# TYPE koryo_sip_service_requests_total counter\n"
		    "koryo_sip_service_requests_total %llu\n",
		    (unsigned long long)cs.refused_by_policy,
		    (unsigned long long)cs.refused_no_credit,
		    (unsigned long long)cs.ended_no_credit, (unsigned long long)cs.ended_by_policy,
		    (unsigned long long)cs.service_requests);
	}
	if (srv->smsc) {
		struct smsc_stats ms;
		smsc_get_stats(srv->smsc, &ms);
		tb_append(
		    &tb,
		    "# HELP koryo_sms_submitted_total SMS submissions accepted (stored and "
		    "charged; held ones included).\n"
		    "# TYPE koryo_sms_submitted_total counter\nkoryo_sms_submitted_total %llu\n"
		    "# HELP koryo_sms_refused_total SMS submissions refused by the policy or a "
		    "content rule.\n"
		    "# TYPE koryo_sms_refused_total counter\nkoryo_sms_refused_total %llu\n"
		    "# HELP koryo_sms_no_credit_total SMS submissions refused by charging.\n"
		    "# TYPE koryo_sms_no_credit_total counter\nkoryo_sms_no_credit_total %llu\n"
		    "# HELP koryo_sms_delivered_total Messages and status reports delivered.\n"
		    "# TYPE koryo_sms_delivered_total counter\nkoryo_sms_delivered_total %llu\n"
		    "# HELP koryo_sms_expired_total Messages given up at the end of their "
		    "validity period.\n"
		    "# TYPE koryo_sms_expired_total counter\nkoryo_sms_expired_total %llu\n"
		    "# HELP koryo_sms_failed_total Messages given up after a permanent "
		    "failure.\n"
		    "# TYPE koryo_sms_failed_total counter\nkoryo_sms_failed_total %llu\n"
		    "# HELP koryo_sms_delivery_attempts_total Delivery attempts started.\n"
		    "# TYPE koryo_sms_delivery_attempts_total counter\n"
		    "koryo_sms_delivery_attempts_total %llu\n"
		    "# HELP koryo_sms_delivery_retries_total Delivery attempts after a "
		    "temporary failure.\n"
		    "# TYPE koryo_sms_delivery_retries_total counter\n"
		    "koryo_sms_delivery_retries_total %llu\n"
		    "# HELP koryo_sms_status_reports_sent_total Status reports sent to "
		    "senders.\n"
		    "# TYPE koryo_sms_status_reports_sent_total counter\n"
		    "koryo_sms_status_reports_sent_total %llu\n"
		    "# HELP koryo_sms_incomplete_dropped_total Concatenated messages dropped "
		    "because segments never came.\n"
		    "# TYPE koryo_sms_incomplete_dropped_total counter\n"
		    "koryo_sms_incomplete_dropped_total %llu\n"
		    "# HELP koryo_sms_waiting Messages stored and not final now (held "
		    "included).\n"
		    "# TYPE koryo_sms_waiting gauge\nkoryo_sms_waiting %llu\n"
		    "# HELP koryo_sms_held Messages held for review by a content rule now.\n"
		    "# TYPE koryo_sms_held gauge\nkoryo_sms_held %llu\n"
		    "# HELP koryo_sms_deliveries_in_flight Delivery attempts not yet ended.\n"
		    "# TYPE koryo_sms_deliveries_in_flight gauge\n"
		    "koryo_sms_deliveries_in_flight %llu\n"
		    "# HELP koryo_sms_segments_waiting Segments of concatenated messages "
		    "waiting for the others.\n"
		    "# TYPE koryo_sms_segments_waiting gauge\nkoryo_sms_segments_waiting %llu\n",
		    (unsigned long long)ms.submitted, (unsigned long long)ms.refused,
		    (unsigned long long)ms.no_credit, (unsigned long long)ms.delivered,
		    (unsigned long long)ms.expired, (unsigned long long)ms.failed,
		    (unsigned long long)ms.attempts, (unsigned long long)ms.retries,
		    (unsigned long long)ms.reports_sent, (unsigned long long)ms.incomplete_dropped,
		    (unsigned long long)ms.waiting, (unsigned long long)ms.held,
		    (unsigned long long)ms.in_flight, (unsigned long long)ms.segments_waiting);
	}
	if (tb.oom) {
		free(tb.s);
		return api_reply_error(c, 500, NULL, "out of memory");
	}
	return api_reply_text(c, 200, "text/plain; version=0.0.4", tb.s, tb.len);
}
