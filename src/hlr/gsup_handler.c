/* GSUP procedures: what koryod does with each message a VLR or SGSN sends
 * (docs/gsup.md). Runs on the worker that owns the connection. */
#include <errno.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"
#include "common/log.h"
#include "hlr/auc.h"
#include "hlr/gsup_internal.h"
#include "hlr/registry.h"
#include "policy/policy.h"

static enum hlr_domain domain_of(const struct gsup_msg *m)
{
	/* No CN domain means PS, as osmo-hlr assumes. */
	return m->has_cn_domain && m->cn_domain == GSUP_CN_DOMAIN_CS ? HLR_DOMAIN_CS
	                                                             : HLR_DOMAIN_PS;
}

/* Looks up the subscriber of m and checks it may be served at all. Returns 0
 * with *rec filled, or the GSM cause to refuse with. */
static uint8_t subscr_servable(struct gsup_conn *conn, const struct gsup_msg *m,
                               struct hlr_subscr *rec)
{
	uint64_t imsi;
	if (hlr_imsi_parse(m->imsi, &imsi) != 0 ||
	    hlr_subscr_get_by_imsi(conn->w->srv->reg, imsi, rec) != 0)
		return GSUP_CAUSE_IMSI_UNKNOWN;
	switch (rec->status) {
	case HLR_STATUS_ACTIVE:
		return 0;
	case HLR_STATUS_TERMINATED:
		return GSUP_CAUSE_IMSI_UNKNOWN;
	default: /* pending, suspended */
		return GSUP_CAUSE_GPRS_AND_NON_GPRS_NOT_ALLOWED;
	}
}

/* --- SendAuthInfo ----------------------------------------------------------- */

/* Vectors waiting for their SQN to become durable. */
struct sai_pending {
	struct gsup_reply_to to;
	unsigned n;
	struct aka_vector v[GSUP_MAX_AUTH];
};

/* Runs once the SQN is durable (rc 0) or not: only then may the vectors leave. */
static void sai_done(void *ctx, int rc)
{
	struct sai_pending *p = ctx;
	struct gsup_msg res;
	if (rc != 0) {
		LOGE("gsup", "IMSI='%s': SQN not stored; vectors withheld", p->to.imsi);
		gsup_reply_to_msg(&p->to, GSUP_SEND_AUTH_INFO_ERR, &res);
		res.has_cause = true;
		res.cause = GSUP_CAUSE_NET_FAIL;
	} else {
		gsup_reply_to_msg(&p->to, GSUP_SEND_AUTH_INFO_RES, &res);
		res.n_auth = p->n;
		for (unsigned i = 0; i < p->n; i++) {
			struct gsup_auth_tuple *t = &res.auth[i];
			const struct aka_vector *v = &p->v[i];
			t->has_gsm = t->has_umts = true;
			memcpy(t->rand, v->rand, 16);
			memcpy(t->sres, v->sres, 4);
			memcpy(t->kc, v->kc, 8);
			memcpy(t->ik, v->ik, 16);
			memcpy(t->ck, v->ck, 16);
			memcpy(t->autn, v->autn, 16);
			memcpy(t->res, v->res, 8);
			t->res_len = 8;
		}
	}
	gsup_reply_post(&p->to, &res);
	OPENSSL_cleanse(res.auth, sizeof(res.auth));
	OPENSSL_cleanse(p, sizeof(*p));
	free(p);
}

static void rx_send_auth_info(struct gsup_conn *conn, const struct gsup_msg *m)
{
	struct hlr_subscr rec;
	uint8_t cause = subscr_servable(conn, m, &rec);
	if (cause) {
		gsup_conn_send_error(conn, m, cause);
		return;
	}
	struct sai_pending *p = malloc(sizeof(*p));
	if (!p) {
		gsup_conn_send_error(conn, m, GSUP_CAUSE_NET_FAIL);
		return;
	}
	gsup_reply_to_init(&p->to, conn, m);
	p->n = m->has_num_vectors && m->num_vectors >= 1 && m->num_vectors <= GSUP_MAX_AUTH
	           ? m->num_vectors
	           : GSUP_MAX_AUTH;
	bool resync = m->has_auts && m->has_rand;
	int rc = hlr_auc_gen_vectors_durable(conn->w->srv->reg, rec.imsi, p->n, conn->ind,
	                                     resync ? m->auts : NULL, resync ? m->rand : NULL, p->v,
	                                     sai_done, p);
	if (rc < 0) {
		free(p);
		gsup_conn_send_error(conn, m,
		                     rc == -ENOENT || rc == -EACCES ? GSUP_CAUSE_IMSI_UNKNOWN
		                                                    : GSUP_CAUSE_NET_FAIL);
	}
}

/* --- UpdateLocation --------------------------------------------------------- */

/* Fills ISD with what the subscriber's class allows in domain d. */
static void build_isd(struct gsup_server *srv, const struct hlr_subscr *rec, enum hlr_domain d,
                      struct gsup_msg *isd)
{
	const struct hlr_profile *p = hlr_registry_profile(srv->reg);
	isd->type = GSUP_INSERT_DATA_REQ;
	hlr_imsi_format(rec->imsi, isd->imsi);
	if (rec->msisdn) {
		char digits[24]; /* an MSISDN has at most 15 */
		snprintf(digits, sizeof(digits), "%" PRIu64, rec->msisdn);
		snprintf(isd->msisdn, sizeof(isd->msisdn), "%.15s", digits);
	}
	isd->has_cn_domain = true;
	isd->cn_domain = d == HLR_DOMAIN_CS ? GSUP_CN_DOMAIN_CS : GSUP_CN_DOMAIN_PS;
	if (d == HLR_DOMAIN_PS && rec->class_id < p->n_classes) {
		const struct hlr_class *c = &p->classes[rec->class_id];
		/* The complete list: the SGSN replaces what it had (an APN the class lost
		 * is withdrawn). */
		isd->pdp_info_complete = true;
		for (unsigned i = 0; i < c->n_apns && isd->n_pdp < GSUP_MAX_PDP; i++) {
			/* An APN a switch has closed is not offered (docs/policy.md). */
			if (srv->policy &&
			    !policy_apn_allowed(srv->policy, rec->class_id, c->apns[i]))
				continue;
			struct gsup_pdp_info *pdp = &isd->pdp[isd->n_pdp++];
			pdp->context_id = (uint8_t)(i + 1);
			pdp->has_pdp_type = true;
			pdp->pdp_type = 0xf121; /* IETF, IPv4 */
			snprintf(pdp->apn, sizeof(pdp->apn), "%s", c->apns[i]);
		}
	}
}

void gsup_build_isd(struct gsup_server *srv, const struct hlr_subscr *rec, int domain,
                    struct gsup_msg *isd)
{
	build_isd(srv, rec, (enum hlr_domain)domain, isd);
}

static void on_lu_timer_closed(uv_handle_t *h)
{
	free(h->data);
}

static void lu_free(struct gsup_lu *lu)
{
	struct gsup_conn *conn = lu->conn;
	for (struct gsup_lu **pp = &conn->lus; *pp; pp = &(*pp)->next) {
		if (*pp == lu) {
			*pp = lu->next;
			break;
		}
	}
	uv_timer_stop(&lu->timer);
	uv_close((uv_handle_t *)&lu->timer, on_lu_timer_closed);
}

void gsup_lu_cancel_all(struct gsup_conn *conn)
{
	while (conn->lus)
		lu_free(conn->lus);
}

static struct gsup_lu *lu_find(struct gsup_conn *conn, const char *imsi)
{
	for (struct gsup_lu *lu = conn->lus; lu; lu = lu->next) {
		if (strcmp(lu->to.imsi, imsi) == 0)
			return lu;
	}
	return NULL;
}

static void lu_fail(struct gsup_lu *lu, uint8_t cause)
{
	struct gsup_msg err;
	gsup_reply_to_msg(&lu->to, GSUP_UPDATE_LOCATION_ERR, &err);
	err.has_cause = true;
	err.cause = cause;
	atomic_fetch_add(&lu->conn->w->srv->errors_sent, 1);
	LOGI("gsup", "IMSI='%s': UpdateLocation from '%s' failed, cause 0x%02x", lu->to.imsi,
	     lu->conn->name, cause);
	gsup_conn_send(lu->conn, &err);
	lu_free(lu);
}

static void on_lu_timeout(uv_timer_t *t)
{
	struct gsup_lu *lu = t->data;
	LOGN("gsup", "IMSI='%s': no InsertSubscriberData answer from '%s'", lu->to.imsi,
	     lu->conn->name);
	lu_fail(lu, GSUP_CAUSE_GSM_NET_FAIL);
}

/* A location update waiting for the new serving node to become durable. */
struct ul_pending {
	struct gsup_reply_to to;
	uint8_t cn_domain;
	char node[64];
	uint16_t previous;
};

/* Runs once the serving node is durable (rc 0) or not: answers, then tells the
 * previous node, if another one, that the subscriber has left it. */
static void ul_done(void *ctx, int rc)
{
	struct ul_pending *p = ctx;
	struct gsup_server *srv = p->to.srv;
	struct gsup_msg res;
	if (rc != 0) {
		gsup_reply_to_msg(&p->to, GSUP_UPDATE_LOCATION_ERR, &res);
		res.has_cause = true;
		res.cause = GSUP_CAUSE_NET_FAIL;
		gsup_reply_post(&p->to, &res);
		free(p);
		return;
	}
	gsup_reply_to_msg(&p->to, GSUP_UPDATE_LOCATION_RES, &res);
	gsup_reply_post(&p->to, &res);
	LOGI("gsup", "IMSI='%s': attached %s at '%s'", p->to.imsi,
	     p->cn_domain == GSUP_CN_DOMAIN_CS ? "CS" : "PS", p->node);
	/* An attach is the MAP "MS present" alert: what waits for the
	 * subscriber goes out now, behind the UL result on the same mailbox. */
	if (p->cn_domain == GSUP_CN_DOMAIN_CS)
		gsup_sms_recipient_ready(srv, p->to.imsi);

	const char *old = hlr_registry_node_name(srv->reg, p->previous);
	if (old && strcmp(old, p->node) != 0) {
		struct gsup_msg cancel = {.type = GSUP_LOCATION_CANCEL_REQ};
		snprintf(cancel.imsi, sizeof(cancel.imsi), "%s", p->to.imsi);
		cancel.has_cn_domain = true;
		cancel.cn_domain = p->cn_domain;
		cancel.has_cancel_type = true;
		cancel.cancel_type = 0; /* update procedure */
		cancel.has_msg_class = true;
		cancel.msg_class = GSUP_CLASS_SUBSCRIBER_MGMT;
		if (gsup_send_to_peer(srv, old, &cancel) == -ENOENT)
			LOGI("gsup", "IMSI='%s': previous node '%s' not connected; no cancel sent",
			     p->to.imsi, old);
	}
	free(p);
}

/* The ISD was accepted: record the new serving node; ul_done answers. */
static void lu_complete(struct gsup_lu *lu)
{
	struct gsup_conn *conn = lu->conn;
	struct gsup_server *srv = conn->w->srv;
	enum hlr_domain d = lu->cn_domain == GSUP_CN_DOMAIN_CS ? HLR_DOMAIN_CS : HLR_DOMAIN_PS;
	uint64_t imsi;
	struct ul_pending *p = malloc(sizeof(*p));
	if (!p || hlr_imsi_parse(lu->to.imsi, &imsi) != 0) {
		free(p);
		lu_fail(lu, GSUP_CAUSE_NET_FAIL);
		return;
	}
	p->to = lu->to;
	p->cn_domain = lu->cn_domain;
	snprintf(p->node, sizeof(p->node), "%s", conn->name);
	p->previous = 0;
	lu_free(lu);
	if (hlr_subscr_set_serving_durable(srv->reg, imsi, d, p->node, NULL, &p->previous, ul_done,
	                                   p) != 0) {
		struct gsup_msg err;
		gsup_reply_to_msg(&p->to, GSUP_UPDATE_LOCATION_ERR, &err);
		err.has_cause = true;
		err.cause = GSUP_CAUSE_IMSI_UNKNOWN;
		gsup_reply_post(&p->to, &err);
		free(p);
	}
}

static void rx_update_location(struct gsup_conn *conn, const struct gsup_msg *m)
{
	struct gsup_server *srv = conn->w->srv;
	struct hlr_subscr rec;
	uint8_t cause = subscr_servable(conn, m, &rec);
	if (cause) {
		gsup_conn_send_error(conn, m, cause);
		return;
	}
	enum hlr_domain d = domain_of(m);
	const struct hlr_profile *p = hlr_registry_profile(srv->reg);
	const struct hlr_class *c = rec.class_id < p->n_classes ? &p->classes[rec.class_id] : NULL;
	if (!c || (d == HLR_DOMAIN_CS && !c->cs)) {
		gsup_conn_send_error(conn, m, GSUP_CAUSE_PLMN_NOT_ALLOWED);
		return;
	}
	if (d == HLR_DOMAIN_PS && !c->ps) {
		gsup_conn_send_error(conn, m, GSUP_CAUSE_GPRS_NOT_ALLOWED);
		return;
	}

	struct gsup_lu *lu = lu_find(conn, m->imsi);
	if (lu)
		lu_free(lu); /* a repeated request replaces the one pending */
	lu = calloc(1, sizeof(*lu));
	if (!lu) {
		gsup_conn_send_error(conn, m, GSUP_CAUSE_NET_FAIL);
		return;
	}
	lu->conn = conn;
	gsup_reply_to_init(&lu->to, conn, m);
	lu->cn_domain = d == HLR_DOMAIN_CS ? GSUP_CN_DOMAIN_CS : GSUP_CN_DOMAIN_PS;
	uv_timer_init(conn->w->loop, &lu->timer);
	lu->timer.data = lu;
	lu->next = conn->lus;
	conn->lus = lu;
	uv_timer_start(&lu->timer, on_lu_timeout, (uint64_t)srv->isd_timeout_s * 1000, 0);

	struct gsup_msg isd;
	memset(&isd, 0, sizeof(isd));
	build_isd(srv, &rec, d, &isd);
	isd.has_msg_class = m->has_msg_class;
	isd.msg_class = m->msg_class;
	if (gsup_conn_send(conn, &isd) != 0)
		lu_fail(lu, GSUP_CAUSE_NET_FAIL);
}

static void rx_insert_data_answer(struct gsup_conn *conn, const struct gsup_msg *m)
{
	struct gsup_lu *lu = lu_find(conn, m->imsi);
	if (!lu) {
		/* An answer to data pushed after a change: nothing waits for it. */
		LOGD("gsup", "IMSI='%s': %s from '%s'", m->imsi, gsup_type_name(m->type),
		     conn->name);
		return;
	}
	if (m->type == GSUP_INSERT_DATA_RES)
		lu_complete(lu);
	else
		lu_fail(lu, GSUP_CAUSE_NET_FAIL);
}

/* --- PurgeMS, CheckIMEI ----------------------------------------------------- */

/* A result that waits only for its write to become durable. */
struct write_pending {
	struct gsup_reply_to to;
	uint8_t result_type;
};

static void write_done(void *ctx, int rc)
{
	struct write_pending *p = ctx;
	struct gsup_msg res;
	if (rc != 0) {
		gsup_reply_to_msg(&p->to, GSUP_TO_ERROR(p->result_type), &res);
		res.has_cause = true;
		res.cause = GSUP_CAUSE_NET_FAIL;
	} else {
		gsup_reply_to_msg(&p->to, p->result_type, &res);
		if (p->result_type == GSUP_CHECK_IMEI_RES) {
			res.has_imei_result = true;
			res.imei_result = 0; /* ACK on the wire */
		}
	}
	gsup_reply_post(&p->to, &res);
	free(p);
}

static struct write_pending *write_pending_new(struct gsup_conn *conn, const struct gsup_msg *m,
                                               uint8_t result_type)
{
	struct write_pending *p = malloc(sizeof(*p));
	if (!p) {
		gsup_conn_send_error(conn, m, GSUP_CAUSE_NET_FAIL);
		return NULL;
	}
	gsup_reply_to_init(&p->to, conn, m);
	p->result_type = result_type;
	return p;
}

static void rx_purge_ms(struct gsup_conn *conn, const struct gsup_msg *m)
{
	uint64_t imsi;
	if (hlr_imsi_parse(m->imsi, &imsi) != 0) {
		gsup_conn_send_error(conn, m, GSUP_CAUSE_IMSI_UNKNOWN);
		return;
	}
	struct write_pending *p = write_pending_new(conn, m, GSUP_PURGE_MS_RES);
	if (!p)
		return;
	/* Only the node that serves the subscriber can purge it. */
	if (hlr_subscr_set_serving_durable(conn->w->srv->reg, imsi, domain_of(m), NULL, conn->name,
	                                   NULL, write_done, p) != 0) {
		free(p);
		gsup_conn_send_error(conn, m, GSUP_CAUSE_IMSI_UNKNOWN);
	}
}

static void rx_check_imei(struct gsup_conn *conn, const struct gsup_msg *m)
{
	uint64_t imsi;
	if (!str_is_digits(m->imei, 14, 16)) {
		gsup_conn_send_error(conn, m, GSUP_CAUSE_INV_MAND_INFO);
		return;
	}
	if (hlr_imsi_parse(m->imsi, &imsi) != 0) {
		gsup_conn_send_error(conn, m, GSUP_CAUSE_IMSI_UNKNOWN);
		return;
	}
	struct write_pending *p = write_pending_new(conn, m, GSUP_CHECK_IMEI_RES);
	if (!p)
		return;
	if (hlr_subscr_set_imei_durable(conn->w->srv->reg, imsi, m->imei, write_done, p) != 0) {
		free(p);
		gsup_conn_send_error(conn, m, GSUP_CAUSE_IMSI_UNKNOWN);
	}
}

/* --- dispatch --------------------------------------------------------------- */

void gsup_handle(struct gsup_conn *conn, struct gsup_msg *m)
{
	switch (m->type) {
	case GSUP_SEND_AUTH_INFO_REQ:
		rx_send_auth_info(conn, m);
		break;
	case GSUP_UPDATE_LOCATION_REQ:
		rx_update_location(conn, m);
		break;
	case GSUP_INSERT_DATA_RES:
	case GSUP_INSERT_DATA_ERR:
		rx_insert_data_answer(conn, m);
		break;
	case GSUP_PURGE_MS_REQ:
		rx_purge_ms(conn, m);
		break;
	case GSUP_CHECK_IMEI_REQ:
		rx_check_imei(conn, m);
		break;
	case GSUP_MO_FORWARD_SM_REQ:
		gsup_sms_rx_mo_forward(conn, m);
		break;
	case GSUP_READY_FOR_SM_REQ:
		gsup_sms_rx_ready(conn, m);
		break;
	case GSUP_MT_FORWARD_SM_RES:
	case GSUP_MT_FORWARD_SM_ERR:
		gsup_sms_rx_mt_answer(conn, m);
		break;
	case GSUP_AUTH_FAIL_REPORT:
		LOGN("gsup", "IMSI='%s': authentication failure reported by '%s'", m->imsi,
		     conn->name);
		break;
	default:
		if (GSUP_IS_REQUEST(m->type))
			gsup_conn_send_error(conn, m, GSUP_CAUSE_MSGT_NOTEXIST);
		else
			LOGD("gsup", "IMSI='%s': %s from '%s'", m->imsi, gsup_type_name(m->type),
			     conn->name);
		break;
	}
}
