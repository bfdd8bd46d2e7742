/* Pushing an operator's change to the nodes that serve the subscriber: new
 * subscriber data (InsertSubscriberData), or CancelLocation when the subscriber
 * may no longer be served there. Runs on the thread that made the change. */
#include <inttypes.h>
#include <string.h>

#include "common/log.h"
#include "hlr/gsup_internal.h"
#include "hlr/registry.h"
#include "policy/policy.h"

static void send_cancel(struct gsup_server *srv, const struct hlr_subscr *rec, enum hlr_domain d,
                        const char *node)
{
	struct gsup_msg cancel = {.type = GSUP_LOCATION_CANCEL_REQ};
	hlr_imsi_format(rec->imsi, cancel.imsi);
	cancel.has_cn_domain = true;
	cancel.cn_domain = d == HLR_DOMAIN_CS ? GSUP_CN_DOMAIN_CS : GSUP_CN_DOMAIN_PS;
	cancel.has_cancel_type = true;
	cancel.cancel_type = 1; /* subscription withdrawn */
	cancel.has_msg_class = true;
	cancel.msg_class = GSUP_CLASS_SUBSCRIBER_MGMT;
	if (gsup_send_to_peer(srv, node, &cancel) != 0)
		LOGI("gsup", "IMSI='%s': '%s' not connected; cancel not sent", cancel.imsi, node);
	/* The subscriber is no longer served there, whether or not the node heard it. */
	hlr_subscr_set_serving(srv->reg, rec->imsi, d, NULL, node, NULL);
}

static void send_data(struct gsup_server *srv, const struct hlr_subscr *rec, enum hlr_domain d,
                      const char *node)
{
	struct gsup_msg isd;
	memset(&isd, 0, sizeof(isd));
	gsup_build_isd(srv, rec, d, &isd);
	isd.has_msg_class = true;
	isd.msg_class = GSUP_CLASS_SUBSCRIBER_MGMT;
	if (gsup_send_to_peer(srv, node, &isd) != 0)
		LOGI("gsup", "IMSI='%s': '%s' not connected; new data not sent", isd.imsi, node);
}

static void push_domain(struct gsup_server *srv, const struct hlr_subscr *before,
                        const struct hlr_subscr *after, enum hlr_domain d)
{
	uint16_t node_id = d == HLR_DOMAIN_CS ? before->vlr_id : before->sgsn_id;
	const char *node = hlr_registry_node_name(srv->reg, node_id);
	if (!node)
		return;
	if (!after || after->status != HLR_STATUS_ACTIVE) {
		send_cancel(srv, before, d, node);
		return;
	}
	const struct hlr_profile *p = hlr_registry_profile(srv->reg);
	const struct hlr_class *c =
	    after->class_id < p->n_classes ? &p->classes[after->class_id] : NULL;
	if (!c || (d == HLR_DOMAIN_CS ? !c->cs : !c->ps)) {
		send_cancel(srv, after, d, node);
		return;
	}
	if (after->class_id != before->class_id || after->msisdn != before->msisdn)
		send_data(srv, after, d, node);
}

static void push_data_ps(void *srv_, const struct hlr_subscr *rec)
{
	struct gsup_server *srv = srv_;
	const char *node = hlr_registry_node_name(srv->reg, rec->sgsn_id);
	if (node && rec->status == HLR_STATUS_ACTIVE)
		send_data(srv, rec, HLR_DOMAIN_PS, node);
}

void gsup_push_on_policy(void *srv_, const struct policy_change *chg)
{
	struct gsup_server *srv = srv_;
	if (!chg->apns)
		return;
	/* The complete APN list again to every SGSN serving the class: an APN a
	 * switch closed is withdrawn, one it opened is offered. */
	size_t n =
	    hlr_registry_foreach_served(srv->reg, HLR_DOMAIN_PS, chg->class_id, push_data_ps, srv);
	LOGN("gsup", "%s: new subscriber data pushed for %zu attached subscribers", chg->what, n);
}

void gsup_push_on_change(void *srv_, const struct hlr_subscr *before,
                         const struct hlr_subscr *after)
{
	struct gsup_server *srv = srv_;
	push_domain(srv, before, after, HLR_DOMAIN_CS);
	push_domain(srv, before, after, HLR_DOMAIN_PS);
}
