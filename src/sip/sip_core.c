/* The SIP service core: creation, the transport's hooks, the queries of
 * the API and /metrics. The work is in sip_registrar.c, sip_proxy.c and
 * sip_location.c. */
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "crypto/aka.h"
#include "sip/sip_core_internal.h"

void sip_core_options_init(struct sip_core_options *opt)
{
	*opt = (struct sip_core_options){.nonce_lifetime_s = 300,
	                                 .min_expires_s = 60,
	                                 .max_expires_s = 7200,
	                                 .default_expires_s = 3600,
	                                 .auth_fail_limit = 10,
	                                 .auth_fail_window_s = 60,
	                                 .digest_md5 = true,
	                                 .digest_sha256 = true};
}

int sip_core_create(const struct sip_core_options *opt, struct hlr_registry *reg, struct store *st,
                    struct store_queue *q, struct sip_core **out)
{
	if (!opt->domain || strlen(opt->domain) >= 256 || !opt->auth_fail_window_s ||
	    opt->min_expires_s > opt->max_expires_s || !(opt->digest_md5 || opt->digest_sha256))
		return -EINVAL;
	struct sip_core *core = calloc(1, sizeof(*core));
	if (!core)
		return -ENOMEM;
	core->opt = *opt;
	snprintf(core->domain, sizeof(core->domain), "%s", opt->domain);
	core->opt.domain = core->domain;
	core->reg = reg;
	core->st = st;
	core->q = q;
	/* Nonces need only outlive their lifetime: a key per process is enough
	 * (after a restart, clients get stale=true and answer a new challenge). */
	int rc = crypto_random(core->nonce_key, sizeof(core->nonce_key));
	if (rc == 0)
		rc = sip_loc_init(core);
	if (rc == 0)
		rc = sip_proxy_init(core, 256); /* the most workers koryod runs */
	if (rc == 0)
		rc = sip_loc_load(core);
	if (rc == 0)
		rc = sip_sms_init(core);
	if (rc == 0 && opt->policy &&
	    policy_subscribe(opt->policy, sip_dlg_policy_changed, core) != 0)
		rc = -ENOSPC;
	if (rc != 0) {
		sip_core_destroy(core);
		return rc < 0 ? rc : -EIO;
	}
	*out = core;
	return 0;
}

void sip_core_hooks(struct sip_core *core, struct sip_hooks *out)
{
	memset(out, 0, sizeof(*out));
	out->ctx = core;
	out->supported = "path";
	out->method[SIP_METHOD_REGISTER] = sip_registrar_on_register;
	out->method[SIP_METHOD_INVITE] = sip_proxy_on_invite;
	out->method[SIP_METHOD_MESSAGE] = sip_proxy_on_message;
	out->method[SIP_METHOD_CANCEL] = sip_proxy_on_cancel;
	out->method[SIP_METHOD_ACK] = sip_proxy_on_ack;
	out->method[SIP_METHOD_BYE] = sip_proxy_on_in_dialog;
	out->method[SIP_METHOD_UPDATE] = sip_proxy_on_in_dialog;
	out->method[SIP_METHOD_INFO] = sip_proxy_on_in_dialog;
	out->method[SIP_METHOD_PRACK] = sip_proxy_on_in_dialog;
	out->stray_response = sip_proxy_on_stray_response;
	out->worker_stop = sip_dlg_worker_stop;
}

int sip_core_attach(struct sip_core *core, struct sip_server *srv)
{
	core->srv = srv;
	return sip_sms_attach(core);
}

void sip_core_destroy(struct sip_core *core)
{
	if (!core)
		return;
	if (core->pw)
		sip_proxy_free(core);
	sip_sms_free(core);
	sip_loc_free(core);
	OPENSSL_cleanse(core->nonce_key, sizeof(core->nonce_key));
	free(core);
}

int sip_core_registrations(struct sip_core *core, uint64_t imsi, struct sip_registration_info *out)
{
	memset(out, 0, sizeof(*out));
	struct sip_user *u = sip_loc_lock(core, imsi, false);
	if (!u)
		return 0;
	sip_loc_prune(core, u, clock_now());
	for (unsigned i = 0; i < u->n; i++) {
		struct sip_binding_info *b = &out->bindings[out->n_bindings++];
		snprintf(b->contact, sizeof(b->contact), "%s", u->b[i].contact);
		snprintf(b->path, sizeof(b->path), "%s", u->b[i].path);
		sip_flow_format(&u->b[i].flow, b->source, sizeof(b->source));
		b->expires_at = u->b[i].expires_at;
	}
	memcpy(out->cell, u->cell, sizeof(out->cell));
	out->cell_at = u->cell_at;
	sip_loc_unlock(core, imsi);
	return 0;
}

void sip_core_get_stats(struct sip_core *core, struct sip_core_stats *out)
{
#define LOAD(f) out->f = atomic_load_explicit(&core->stats.f, memory_order_relaxed)
	LOAD(bindings);
	LOAD(registered_users);
	LOAD(registrations);
	LOAD(auth_challenges);
	LOAD(auth_failures);
	LOAD(auth_rate_limited);
	LOAD(aka_resyncs);
	LOAD(unknown_cells);
	LOAD(calls_active);
	LOAD(calls_answered);
	LOAD(calls_failed);
	LOAD(calls_cancelled);
	LOAD(calls_refused);
	LOAD(messages_relayed);
	LOAD(cdrs_written);
	LOAD(cdr_write_errors);
	LOAD(refused_by_policy);
	LOAD(refused_no_credit);
	LOAD(ended_no_credit);
	LOAD(ended_by_policy);
	LOAD(service_requests);
#undef LOAD
}
