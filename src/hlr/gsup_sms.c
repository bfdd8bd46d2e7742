/*
 * SMS over GSUP (docs/gsup.md, "SMS over GSUP"): koryod as the SMSC of an
 * osmo-msc configured with `sms-over-gsup`.
 *
 * MO: MO-Forward-SM carries the phone's SMS-SUBMIT (SM-RP-UI); it becomes a
 * submission to the SMS centre, and the centre's verdict goes back as
 * MO-Forward-SM result or error (SM-RP-Cause), which osmo-msc turns into
 * RP-ACK or RP-ERROR. ReadyForSM (the phone has memory again, RP-SMMA) and a
 * CS attach tell the centre to try what waits for the subscriber.
 *
 * MT: the centre hands a delivery to the channel "gsup"; if the recipient is
 * attached in CS at an MSC that is connected now, its TPDUs go out as
 * MT-Forward-SM requests on the worker that owns that MSC's connection, one
 * at a time, and the attempt ends when every segment got a result, at the
 * first error, after sms_timeout_s without an answer, or when the connection
 * drops.
 *
 * Why one request at a time per subscriber and connection: osmo-msc answers
 * an MT-Forward-SM with the RP message reference it chose for the radio side,
 * not with the SM-RP-MR it received (gsm_04_11.c allocates its own), so an
 * answer can only be matched by IMSI. With one request out per IMSI the
 * match is unambiguous; the SM-RP-MR is still checked first, for an MSC that
 * does echo it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "hlr/gsup_internal.h"
#include "hlr/registry.h"
#include "sms/rp.h"
#include "sms/sms_err.h"
#include "sms/smsc.h"
#include "sms/smsc_tpdu.h"
#include "sms/tpdu.h"

#define SMS_TIMEOUT_DEFAULT_S 30
/* A resubmission of the same SMS-SUBMIT within this window is the same
 * message (see mo_key). */
#define MO_KEY_WINDOW_S 600
#define MO_TEXT_MAX     1024 /* one TPDU: 160 septets, 3 octets of UTF-8 at most each */

bool gsup_sms_is_sms_type(uint8_t type)
{
	uint8_t proc = type & (uint8_t)~3;
	return proc == GSUP_MO_FORWARD_SM_REQ || proc == GSUP_MT_FORWARD_SM_REQ ||
	       proc == GSUP_READY_FOR_SM_REQ;
}

uint8_t gsup_sms_rp_cause_of(uint8_t gsup_cause)
{
	switch (gsup_cause) {
	case GSUP_CAUSE_IMSI_UNKNOWN:
		return SMS_RP_CAUSE_UNKNOWN_SUBSCRIBER;
	case GSUP_CAUSE_GPRS_AND_NON_GPRS_NOT_ALLOWED:
	case GSUP_CAUSE_PLMN_NOT_ALLOWED:
		return SMS_RP_CAUSE_FACILITY_REJECTED;
	case GSUP_CAUSE_NET_FAIL:
	case GSUP_CAUSE_GSM_NET_FAIL:
		return SMS_RP_CAUSE_NETWORK_OUT_OF_ORDER;
	case GSUP_CAUSE_CONGESTION:
		return SMS_RP_CAUSE_CONGESTION;
	case GSUP_CAUSE_INV_MAND_INFO:
		return SMS_RP_CAUSE_INVALID_MANDATORY_INFO;
	case GSUP_CAUSE_MSGT_NOTEXIST:
		return SMS_RP_CAUSE_FACILITY_NOT_IMPLEMENTED;
	case GSUP_CAUSE_MSGT_INCOMP_STATE:
		return SMS_RP_CAUSE_MSG_TYPE_INCOMPATIBLE;
	default:
		return SMS_RP_CAUSE_PROTOCOL_ERROR;
	}
}

/* An SMS answer refused for what the TPDU says: only SM-RP-Cause, since the
 * GSUP message itself was fine (no GMM cause applies). */
static void sms_refuse(struct gsup_conn *conn, const struct gsup_msg *req, uint8_t rp_cause,
                       const char *why)
{
	struct gsup_msg err;
	gsup_make_response(req, GSUP_TO_ERROR(req->type), &err);
	err.has_sm_rp_cause = true;
	err.sm_rp_cause = rp_cause;
	atomic_fetch_add(&conn->w->srv->errors_sent, 1);
	LOGI("gsup", "IMSI='%s': %s from '%s' refused, RP cause %u (%s)", req->imsi,
	     gsup_type_name(req->type), conn->name, rp_cause, why);
	gsup_conn_send(conn, &err);
}

void gsup_sms_recipient_ready(struct gsup_server *srv, const char *imsi)
{
	uint64_t v;
	if (srv->smsc && hlr_imsi_parse(imsi, &v) == 0)
		smsc_recipient_ready(srv->smsc, v);
}

/* --- MO-Forward-SM ----------------------------------------------------------- */

struct mo_pending {
	struct gsup_reply_to to;
	uint8_t mr;
};

/* The centre's verdict (any thread): result, or error with its RP cause. */
static void mo_done(void *ctx, const struct smsc_result *r)
{
	struct mo_pending *p = ctx;
	struct gsup_msg res;
	bool ok = r->outcome == SMSC_ACCEPTED || r->outcome == SMSC_SEGMENT_STORED;
	gsup_reply_to_msg(&p->to, ok ? GSUP_MO_FORWARD_SM_RES : GSUP_MO_FORWARD_SM_ERR, &res);
	res.has_sm_rp_mr = true;
	res.sm_rp_mr = p->mr;
	if (ok) {
		LOGI("gsup", "IMSI='%s': MO SMS accepted (message %" PRId64 "%s)", p->to.imsi,
		     r->id, r->outcome == SMSC_SEGMENT_STORED ? ", a segment" : "");
	} else {
		res.has_sm_rp_cause = true;
		/* A centre that gives no cause failed in a way worth retrying. */
		res.sm_rp_cause = r->rp_cause ? r->rp_cause : SMS_RP_CAUSE_TEMP_FAILURE;
		LOGI("gsup", "IMSI='%s': MO SMS refused, RP cause %u (%s)", p->to.imsi,
		     res.sm_rp_cause, r->reason);
	}
	gsup_reply_post(&p->to, &res);
	free(p);
}

/* 64-bit FNV-1a: spreads the TPDU's octets over the key. */
static uint64_t fnv1a(const uint8_t *p, size_t n, uint64_t h)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* The idempotency key of an MO message. A phone that got no RP-ACK sends
 * the same SMS-SUBMIT again with the same TP-MR and TP-RD set (TS 23.040
 * 9.2.3.25), in a new RP-DATA with a new RP-MR: so the key is the IMSI,
 * TP-MR and a hash of the TPDU without TP-RD, within a 10-minute window. The
 * window keeps a new message that happens to repeat an old one (same text,
 * TP-MR wrapped around) from being taken for a resubmission; a resubmission
 * that straddles a window boundary is stored twice, which loses nothing. */
static void mo_key(const char *imsi, const struct sms_tpdu *t, const uint8_t *ui, size_t len,
                   char *key, size_t cap)
{
	uint8_t first = ui[0] & (uint8_t)~0x04; /* TP-RD */
	uint64_t h = fnv1a(&first, 1, 0xcbf29ce484222325ull);
	h = fnv1a(ui + 1, len - 1, h);
	snprintf(key, cap, "gsup:%s:%u:%016" PRIx64 ":%" PRId64, imsi, t->mr, h,
	         clock_now() / MO_KEY_WINDOW_S);
}

/* What an SMS-SUBMIT koryod cannot take is answered with (osmo-msc cannot
 * carry an SMS-SUBMIT-REPORT in the error, so the RP cause says it all). */
static uint8_t rp_cause_of_tpdu_error(int err)
{
	switch (err) {
	case SMS_E_TYPE: /* SMS-COMMAND */
	case SMS_E_DCS:  /* compressed text */
		return SMS_RP_CAUSE_FACILITY_NOT_IMPLEMENTED;
	default:
		return SMS_RP_CAUSE_INVALID_MANDATORY_INFO;
	}
}

void gsup_sms_rx_mo_forward(struct gsup_conn *conn, const struct gsup_msg *m)
{
	struct gsup_server *srv = conn->w->srv;
	atomic_fetch_add(&srv->sms_mo, 1);
	if (!srv->smsc) {
		gsup_conn_send_error(conn, m, GSUP_CAUSE_MSGT_NOTEXIST);
		return;
	}
	if (!m->has_sm_rp_mr || !m->sm_rp_ui || m->sm_rp_ui_len == 0) {
		gsup_conn_send_error(conn, m, GSUP_CAUSE_INV_MAND_INFO);
		return;
	}
	uint64_t imsi;
	if (hlr_imsi_parse(m->imsi, &imsi) != 0) {
		gsup_conn_send_error(conn, m, GSUP_CAUSE_IMSI_UNKNOWN);
		return;
	}

	struct sms_tpdu t;
	struct smsc_submission sub;
	char text[MO_TEXT_MAX], rcpt[SMS_ADDR_MAX + 8];
	memset(&sub, 0, sizeof(sub));
	int rc = sms_tpdu_decode(m->sm_rp_ui, m->sm_rp_ui_len, SMS_DIR_MO, &t);
	if (rc == 0)
		rc = smsc_submission_from_tpdu(&t, text, sizeof(text), rcpt, sizeof(rcpt), &sub);
	if (rc != 0) {
		sms_refuse(conn, m, rp_cause_of_tpdu_error(rc), sms_strerror(rc));
		return;
	}
	char key[SMSC_KEY_MAX];
	mo_key(m->imsi, &t, m->sm_rp_ui, m->sm_rp_ui_len, key, sizeof(key));
	sub.origin = "gsup";
	sub.key = key;
	sub.sender_imsi = imsi;
	sub.cell = NULL; /* GSUP does not say where the phone is */

	struct mo_pending *p = malloc(sizeof(*p));
	if (!p) {
		sms_refuse(conn, m, SMS_RP_CAUSE_RESOURCES_UNAVAILABLE, "out of memory");
		return;
	}
	gsup_reply_to_init(&p->to, conn, m);
	p->mr = m->sm_rp_mr;
	if (smsc_submit(srv->smsc, &sub, mo_done, p) != 0) {
		free(p);
		sms_refuse(conn, m, SMS_RP_CAUSE_RESOURCES_UNAVAILABLE, "out of memory");
	}
}

/* --- ReadyForSM -------------------------------------------------------------- */

void gsup_sms_rx_ready(struct gsup_conn *conn, const struct gsup_msg *m)
{
	struct gsup_server *srv = conn->w->srv;
	struct hlr_subscr rec;
	uint64_t imsi;
	if (!srv->smsc) {
		gsup_conn_send_error(conn, m, GSUP_CAUSE_MSGT_NOTEXIST);
		return;
	}
	if (hlr_imsi_parse(m->imsi, &imsi) != 0 ||
	    hlr_subscr_get_by_imsi(srv->reg, imsi, &rec) != 0) {
		gsup_conn_send_error(conn, m, GSUP_CAUSE_IMSI_UNKNOWN);
		return;
	}
	struct gsup_msg res;
	gsup_make_response(m, GSUP_READY_FOR_SM_RES, &res);
	gsup_conn_send(conn, &res);
	LOGI("gsup", "IMSI='%s': ready for SMS (%s) at '%s'", m->imsi,
	     m->has_sm_alert_reason && m->sm_alert_reason == GSUP_SM_ALERT_MEMORY_AVAILABLE
	         ? "memory available"
	         : "present",
	     conn->name);
	smsc_recipient_ready(srv->smsc, imsi);
}

/* --- MT-Forward-SM: the delivery channel ----------------------------------- */

static void on_mt_timer_closed(uv_handle_t *h)
{
	free(h->data);
}

static void mt_unlink(struct gsup_mt *mt)
{
	for (struct gsup_mt **pp = &mt->w->mts; *pp; pp = &(*pp)->next) {
		if (*pp == mt) {
			*pp = mt->next;
			return;
		}
	}
}

static const char *result_name(enum smsc_delivery_result r)
{
	switch (r) {
	case SMSC_DELIVERED:
		return "delivered";
	case SMSC_TRY_LATER:
		return "try later";
	case SMSC_UNREACHABLE:
		return "unreachable";
	default:
		return "failed";
	}
}

/* Ends the attempt: tells the centre and frees mt once its timer is closed
 * (mt stays readable until the loop's next close phase). */
static void mt_end(struct gsup_mt *mt, enum smsc_delivery_result r, const char *detail)
{
	struct gsup_server *srv = mt->w->srv;
	mt->ended = true;
	mt_unlink(mt);
	uv_timer_stop(&mt->timer);
	atomic_fetch_sub(&srv->sms_mt_in_flight, 1);
	LOGI("gsup", "IMSI='%s': message %" PRId64 " attempt %u: %s%s%s", mt->imsi, mt->id,
	     mt->attempt, result_name(r), detail ? ", " : "", detail ? detail : "");
	smsc_delivery_done(srv->smsc, mt->id, mt->attempt, r, detail);
	uv_close((uv_handle_t *)&mt->timer, on_mt_timer_closed);
}

static void on_mt_timeout(uv_timer_t *t);

/* (Re)starts mt's clock: each request gets sms_timeout_s for its answer. */
static void mt_arm(struct gsup_mt *mt)
{
	unsigned s = mt->w->srv->sms_timeout_s;
	uv_timer_start(&mt->timer, on_mt_timeout, (uint64_t)s * 1000, 0);
}

/* Sends mt's next segment on conn. 0, or a negative errno (mt ended). */
static int mt_send_next(struct gsup_mt *mt, struct gsup_conn *conn)
{
	struct gsup_server *srv = conn->w->srv;
	struct gsup_msg req;
	uint8_t da[16];
	memset(&req, 0, sizeof(req));
	req.type = GSUP_MT_FORWARD_SM_REQ;
	memcpy(req.imsi, mt->imsi, sizeof(req.imsi));
	req.has_msg_class = true;
	req.msg_class = GSUP_CLASS_SMS;
	req.has_sm_rp_mr = true;
	req.sm_rp_mr = mt->mr = conn->w->next_mr++;
	int n = gsup_sm_rp_id_build(GSUP_SM_RP_ID_IMSI, 0, mt->imsi, da, sizeof(da));
	if (n > 0) {
		req.sm_rp_da = da;
		req.sm_rp_da_len = (size_t)n;
	}
	req.sm_rp_oa = srv->smsc_oa;
	req.sm_rp_oa_len = srv->smsc_oa_len;
	req.sm_rp_ui = mt->pdu + mt->off[mt->next_seg];
	req.sm_rp_ui_len = mt->len[mt->next_seg];
	/* osmo-msc keeps the radio connection up while more follow (TP-MMS of
	 * the TPDU says the same to the phone). */
	if (mt->next_seg + 1 < mt->n || mt->more) {
		req.has_sm_rp_mms = true;
		req.sm_rp_mms = 1;
	}
	int rc = n > 0 ? gsup_conn_send(conn, &req) : n;
	if (rc != 0) {
		/* Only a bug of ours can make this fail: trying again would too. */
		mt_end(mt, SMSC_FAILED, "MT-Forward-SM not encodable");
		return rc;
	}
	mt->outstanding = true;
	atomic_fetch_add(&srv->sms_mt_sent, 1);
	mt_arm(mt);
	return 0;
}

/* Sends the next request for (conn, imsi) unless one is out: the oldest
 * delivery first, all its segments before the next delivery's. */
static void mt_pump(struct gsup_worker *w, uint32_t conn_id, const char *imsi)
{
	for (;;) {
		struct gsup_mt *first = NULL;
		for (struct gsup_mt *mt = w->mts; mt; mt = mt->next) {
			if (mt->conn_id != conn_id || strcmp(mt->imsi, imsi) != 0)
				continue;
			if (mt->outstanding)
				return;
			if (!first)
				first = mt;
		}
		if (!first)
			return;
		struct gsup_conn *conn = gsup_conn_find(w, conn_id);
		if (!conn) {
			mt_end(first, SMSC_TRY_LATER, "connection to the MSC lost");
			continue;
		}
		/* On failure first has ended: the next one gets its turn. */
		if (mt_send_next(first, conn) == 0)
			return;
	}
}

static void on_mt_timeout(uv_timer_t *t)
{
	struct gsup_mt *mt = t->data;
	char detail[64], imsi[16];
	uint32_t conn_id = mt->conn_id;
	struct gsup_worker *w = mt->w;
	snprintf(detail, sizeof(detail), "no answer from the MSC within %u s",
	         w->srv->sms_timeout_s);
	memcpy(imsi, mt->imsi, sizeof(imsi));
	mt_end(mt, SMSC_TRY_LATER, detail);
	mt_pump(w, conn_id, imsi);
}

/* On the worker: takes over a delivery posted by channel_deliver. */
static void mt_start(void *arg, void *owner)
{
	struct gsup_mt *mt = arg;
	struct gsup_worker *w = owner;
	struct gsup_server *srv = w->srv;
	mt->w = w;
	struct gsup_conn *conn = gsup_conn_find(w, mt->conn_id);
	if (!conn) {
		/* Gone between the look-up and now (or koryod is stopping). */
		smsc_delivery_done(srv->smsc, mt->id, mt->attempt, SMSC_TRY_LATER,
		                   "connection to the MSC lost");
		free(mt);
		return;
	}
	uv_timer_init(w->loop, &mt->timer);
	mt->timer.data = mt;
	struct gsup_mt **pp = &w->mts;
	while (*pp)
		pp = &(*pp)->next;
	*pp = mt;
	atomic_fetch_add(&srv->sms_mt_in_flight, 1);
	/* The whole wait counts, also behind another delivery to the same
	 * subscriber. */
	mt_arm(mt);
	mt_pump(w, mt->conn_id, mt->imsi);
}

/* Finds the peer that serves imsi in CS: its worker and connection. 0 or
 * -ENOTCONN. */
static int serving_msc(struct gsup_server *srv, uint64_t imsi, unsigned *worker, uint32_t *conn_id)
{
	struct hlr_subscr rec;
	if (hlr_subscr_get_by_imsi(srv->reg, imsi, &rec) != 0 || rec.status != HLR_STATUS_ACTIVE)
		return -ENOTCONN;
	const char *node = hlr_registry_node_name(srv->reg, rec.vlr_id);
	if (!node || gsup_peer_lookup(srv, node, worker, conn_id) != 0)
		return -ENOTCONN;
	return 0;
}

/* The channel's deliver(), on the centre's thread: look-ups and encoding
 * here, the sending on the worker that owns the MSC's connection. */
static int channel_deliver(void *ctx, const struct smsc_delivery *d)
{
	struct gsup_server *srv = ctx;
	unsigned worker;
	uint32_t conn_id;
	if (serving_msc(srv, d->recipient_imsi, &worker, &conn_id) != 0)
		return -ENOTCONN;

	struct smsc_tpdus *t = malloc(sizeof(*t));
	if (!t) {
		smsc_delivery_done(srv->smsc, d->id, d->attempt, SMSC_TRY_LATER, "out of memory");
		return 0;
	}
	/* The concatenation reference comes from the message id, so that a
	 * later attempt's segments join the ones a phone kept from an earlier. */
	int n = smsc_tpdus_build(d, (uint16_t)d->id, t);
	if (n <= 0) {
		free(t);
		smsc_delivery_done(srv->smsc, d->id, d->attempt, SMSC_FAILED,
		                   n < 0 ? sms_strerror(n) : "nothing to send");
		return 0;
	}
	size_t total = 0;
	for (int i = 0; i < n; i++)
		total += t->len[i];
	/* One block: the delivery, its segment table and the TPDUs. */
	struct gsup_mt *mt = calloc(1, sizeof(*mt) + 2 * (size_t)n * sizeof(size_t) + total);
	if (!mt) {
		free(t);
		smsc_delivery_done(srv->smsc, d->id, d->attempt, SMSC_TRY_LATER, "out of memory");
		return 0;
	}
	mt->off = (size_t *)(mt + 1);
	mt->len = mt->off + n;
	mt->pdu = (uint8_t *)(mt->len + n);
	size_t o = 0;
	for (int i = 0; i < n; i++) {
		mt->off[i] = o;
		mt->len[i] = t->len[i];
		memcpy(mt->pdu + o, t->pdu[i], t->len[i]);
		o += t->len[i];
	}
	free(t);
	mt->n = (size_t)n;
	mt->conn_id = conn_id;
	mt->id = d->id;
	mt->attempt = d->attempt;
	mt->more = d->more;
	hlr_imsi_format(d->recipient_imsi, mt->imsi);
	if (mailbox_post(&srv->workers[worker].mailbox, mt_start, mt) != 0) {
		free(mt); /* the worker is stopping: as if not connected */
		return -ENOTCONN;
	}
	return 0;
}

/* The delivery result an MT-Forward-SM error stands for. An RP cause is
 * what the phone (or the MSC for it) answered, TS 24.011 8.2.5.4 with the
 * TS 29.002 reading of MAP's errors: memory full and destination out of
 * order are an absent subscriber (kept until it is ready again: ReadyForSM
 * or an attach); network, congestion and resource causes are temporary;
 * everything else (unknown subscriber, a protocol error of the phone) is
 * permanent. Without an RP cause, the GSUP cause of osmo-msc's generic
 * error: IMSI unknown means its VLR no longer has the subscriber (absent
 * subscriber); any other (no sms-over-gsup, a failed send) is temporary,
 * since the MSC's configuration or state may change. */
static enum smsc_delivery_result mt_error_result(const struct gsup_msg *m, char *detail, size_t cap)
{
	if (m->has_sm_rp_cause) {
		snprintf(detail, cap, "RP cause %u", m->sm_rp_cause);
		switch (m->sm_rp_cause) {
		case SMS_RP_CAUSE_MEMORY_EXCEEDED:
		case SMS_RP_CAUSE_DEST_OUT_OF_ORDER:
			return SMSC_UNREACHABLE;
		case SMS_RP_CAUSE_NETWORK_OUT_OF_ORDER:
		case SMS_RP_CAUSE_TEMP_FAILURE:
		case SMS_RP_CAUSE_CONGESTION:
		case SMS_RP_CAUSE_RESOURCES_UNAVAILABLE:
			return SMSC_TRY_LATER;
		default:
			return SMSC_FAILED;
		}
	}
	if (m->has_cause) {
		snprintf(detail, cap, "GSUP cause 0x%02x", m->cause);
		return m->cause == GSUP_CAUSE_IMSI_UNKNOWN ? SMSC_UNREACHABLE : SMSC_TRY_LATER;
	}
	snprintf(detail, cap, "error without a cause");
	return SMSC_TRY_LATER;
}

void gsup_sms_rx_mt_answer(struct gsup_conn *conn, const struct gsup_msg *m)
{
	struct gsup_worker *w = conn->w;
	struct gsup_mt *match = NULL;
	for (struct gsup_mt *mt = w->mts; mt; mt = mt->next) {
		if (mt->conn_id != conn->id || !mt->outstanding || strcmp(mt->imsi, m->imsi) != 0)
			continue;
		if (!match || (m->has_sm_rp_mr && m->sm_rp_mr == mt->mr))
			match = mt;
	}
	if (!match) {
		LOGI("gsup", "IMSI='%s': %s from '%s' matches no delivery (late?)", m->imsi,
		     gsup_type_name(m->type), conn->name);
		return;
	}
	char imsi[16];
	memcpy(imsi, match->imsi, sizeof(imsi));
	match->outstanding = false;
	if (m->type == GSUP_MT_FORWARD_SM_RES) {
		if (++match->next_seg == match->n)
			mt_end(match, SMSC_DELIVERED, NULL);
	} else {
		char detail[64];
		enum smsc_delivery_result r = mt_error_result(m, detail, sizeof(detail));
		mt_end(match, r, detail);
	}
	mt_pump(w, conn->id, imsi);
}

void gsup_sms_conn_closed(struct gsup_conn *conn)
{
	struct gsup_mt *mt = conn->w->mts;
	while (mt) {
		struct gsup_mt *next = mt->next;
		if (mt->conn_id == conn->id)
			mt_end(mt, SMSC_TRY_LATER, "connection to the MSC lost");
		mt = next;
	}
}

/* --- set-up ------------------------------------------------------------------ */

int gsup_sms_init(struct gsup_server *srv, const struct gsup_server_options *opt)
{
	srv->smsc = opt->smsc;
	srv->sms_timeout_s = opt->sms_timeout_s ? opt->sms_timeout_s : SMS_TIMEOUT_DEFAULT_S;
	if (!srv->smsc)
		return 0;
	/* SM-RP-OA: the centre's address, international when written with '+'
	 * (TON/NPI 0x91: international, ISDN; else 0x81: unknown, ISDN). */
	const char *a = opt->smsc_address ? opt->smsc_address : "";
	uint8_t ton_npi = 0x81;
	if (a[0] == '+') {
		ton_npi = 0x91;
		a++;
	}
	int n =
	    gsup_sm_rp_id_build(GSUP_SM_RP_ID_SMSC, ton_npi, a, srv->smsc_oa, sizeof(srv->smsc_oa));
	if (n < 0) {
		LOGE("gsup", "SMS over GSUP: the SMSC address '%s' is not a number",
		     opt->smsc_address ? opt->smsc_address : "");
		return -EINVAL;
	}
	srv->smsc_oa_len = (size_t)n;
	struct smsc_channel ch = {.name = "gsup", .deliver = channel_deliver, .ctx = srv};
	int rc = smsc_add_channel(srv->smsc, &ch);
	if (rc != 0) {
		LOGE("gsup", "SMS over GSUP: the SMS centre takes no more channels");
		return rc;
	}
	LOGI("gsup", "SMS over GSUP: SMSC address %s", opt->smsc_address);
	return 0;
}
