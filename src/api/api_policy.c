/* /v1/policy (docs/api.md, "Policy"): the rules as data (switches, rights,
 * dialling rules, APN switches), their changes with the audit trail, and a
 * check that explains what the engine decides for a subscriber and a number. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "common/clock.h"
#include "common/hex.h"
#include "hlr/registry.h"
#include "policy/policy.h"

#define AUDIT_PAGE_DEFAULT 100
#define AUDIT_PAGE_MAX     1000

/* --- JSON of the rules ---------------------------------------------------------- */

static json_t *switch_json(const struct policy_switch *s)
{
	return json_pack("{s:s,s:b,s:s,s:o}", "name", s->name, "enabled", s->enabled, "description",
	                 s->description, "updated_at", api_json_time(s->updated_at));
}

static json_t *right_json(const struct policy_right *r)
{
	return json_pack("{s:s,s:I,s:s,s:s,s:s,s:s,s:s,s:o,s:s}", "name", r->name, "priority",
	                 (json_int_t)r->priority, "class", r->caller_class, "service", r->service,
	                 "destination", r->destination, "callee_class", r->callee_class, "verdict",
	                 r->allow ? "allow" : "deny", "switch",
	                 r->switch_name[0] ? json_string(r->switch_name) : json_null(), "reason",
	                 r->reason);
}

static json_t *numbering_json(const struct policy_numbering_rule *r)
{
	bool prefix_only = strcmp(r->kind, "international_prefix") == 0;
	return json_pack(
	    "{s:s,s:s,s:s,s:o,s:o,s:o,s:s}", "name", r->name, "kind", r->kind, "prefix", r->prefix,
	    "min_length", prefix_only ? json_null() : json_integer(r->min_length), "max_length",
	    prefix_only ? json_null() : json_integer(r->max_length), "group",
	    r->group[0] ? json_string(r->group) : json_null(), "description", r->description);
}

static json_t *gate_json(const struct policy_apn_switch *g)
{
	return json_pack("{s:s,s:s,s:s}", "class", g->class_name, "apn", g->apn, "switch",
	                 g->switch_name);
}

/* The lists, each as a JSON array; NULL if out of memory. */
static json_t *switches_array(struct policy *p)
{
	struct policy_switch *v;
	size_t n;
	if (policy_switches_list(p, &v, &n) != 0)
		return NULL;
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, switch_json(&v[i]));
	free(v);
	return a;
}

static json_t *rights_array(struct policy *p)
{
	struct policy_right *v;
	size_t n;
	if (policy_rights_list(p, &v, &n) != 0)
		return NULL;
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, right_json(&v[i]));
	free(v);
	return a;
}

static json_t *numbering_array(struct policy *p)
{
	struct policy_numbering_rule *v;
	size_t n;
	if (policy_numbering_list(p, &v, &n) != 0)
		return NULL;
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, numbering_json(&v[i]));
	free(v);
	return a;
}

static json_t *gates_array(struct policy *p)
{
	struct policy_apn_switch *v;
	size_t n;
	if (policy_apn_switches_list(p, &v, &n) != 0)
		return NULL;
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, gate_json(&v[i]));
	free(v);
	return a;
}

static enum MHD_Result reply_list(struct MHD_Connection *c, const char *member, json_t *a)
{
	if (!a)
		return api_reply_error(c, 500, NULL, "out of memory");
	return api_reply_json(c, 200, json_pack("{s:o}", member, a));
}

/* --- switches ---------------------------------------------------------------------- */

static enum MHD_Result switch_patch(struct api_server *srv, struct MHD_Connection *c,
                                    struct api_request *req, const char *name)
{
	struct policy_switch s;
	enum MHD_Result ret;
	char actor[POLICY_ACTOR_MAX];
	if (policy_switch_get(srv->policy, name, &s) != 0)
		return api_reply_error(c, 404, NULL, "no such switch");
	if (api_actor_of(c, actor, sizeof(actor), &ret) != 0)
		return ret;
	json_t *o = api_body_object(c, req, &ret);
	if (!o)
		return ret;
	const char *key;
	json_t *v, *enabled = NULL;
	json_object_foreach(o, key, v)
	{
		if (strcmp(key, "enabled") != 0) {
			ret = api_reply_error(c, 400, key, "unknown field (only enabled changes)");
			goto out;
		}
		enabled = v;
	}
	if (!enabled || !json_is_boolean(enabled)) {
		ret = api_reply_error(c, 400, "enabled", "must be true or false");
		goto out;
	}
	int rc = policy_switch_set(srv->policy, name, json_is_true(enabled), actor);
	if (rc != 0 || policy_switch_get(srv->policy, name, &s) != 0) {
		ret = api_reply_error(c, 500, NULL, "the store failed; nothing was changed");
		goto out;
	}
	ret = api_reply_json(c, 200, switch_json(&s));
out:
	json_decref(o);
	return ret;
}

static enum MHD_Result switches_handle(struct api_server *srv, struct MHD_Connection *c,
                                       struct api_request *req, const char *method,
                                       const char *name)
{
	if (!*name) {
		if (strcmp(method, "GET") != 0)
			return api_reply_error(c, 405, NULL, "method not allowed");
		return reply_list(c, "switches", switches_array(srv->policy));
	}
	if (strcmp(method, "PATCH") == 0)
		return switch_patch(srv, c, req, name);
	if (strcmp(method, "GET") != 0)
		return api_reply_error(c, 405, NULL, "method not allowed");
	struct policy_switch s;
	if (policy_switch_get(srv->policy, name, &s) != 0)
		return api_reply_error(c, 404, NULL, "no such switch");
	return api_reply_json(c, 200, switch_json(&s));
}

/* --- rights ---------------------------------------------------------------------------- */

/* A string member into dst (of cap); absent is def (NULL: required), null
 * is "" where empty_ok. 0, or -1 with a 400 queued. */
static int member_str(struct MHD_Connection *c, json_t *o, const char *key, char *dst, size_t cap,
                      const char *def, bool null_ok, enum MHD_Result *ret)
{
	json_t *v = json_object_get(o, key);
	if (!v && def) {
		snprintf(dst, cap, "%s", def);
		return 0;
	}
	if (json_is_null(v) && null_ok) {
		dst[0] = '\0';
		return 0;
	}
	if (!json_is_string(v)) {
		*ret = api_reply_error(c, 400, key, v ? "must be a string" : "is required");
		return -1;
	}
	if (json_string_length(v) >= cap) {
		*ret = api_reply_error(c, 400, key, "longer than %zu characters", cap - 1);
		return -1;
	}
	snprintf(dst, cap, "%s", json_string_value(v));
	return 0;
}

static enum MHD_Result right_put(struct api_server *srv, struct MHD_Connection *c,
                                 struct api_request *req, const char *name)
{
	static const char *const known[] = {"name",    "priority",    "class",
	                                    "service", "destination", "callee_class",
	                                    "verdict", "switch",      "reason"};
	struct policy_right r;
	enum MHD_Result ret;
	char actor[POLICY_ACTOR_MAX], verdict[8];
	if (api_actor_of(c, actor, sizeof(actor), &ret) != 0)
		return ret;
	json_t *o = api_body_object(c, req, &ret);
	if (!o)
		return ret;
	memset(&r, 0, sizeof(r));
	const char *key;
	json_t *v;
	json_object_foreach(o, key, v)
	{
		size_t i;
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
			if (strcmp(key, known[i]) == 0)
				break;
		}
		if (i == sizeof(known) / sizeof(known[0])) {
			ret = api_reply_error(c, 400, key, "unknown field");
			goto out;
		}
	}
	if (strlen(name) >= sizeof(r.name)) {
		ret = api_reply_error(c, 400, "name", "longer than %zu characters",
		                      sizeof(r.name) - 1);
		goto out;
	}
	snprintf(r.name, sizeof(r.name), "%s", name);
	v = json_object_get(o, "name");
	if (v && (!json_is_string(v) || strcmp(json_string_value(v), name) != 0)) {
		ret = api_reply_error(c, 400, "name", "must be the name in the path, if given");
		goto out;
	}
	v = json_object_get(o, "priority");
	if (!json_is_integer(v)) {
		ret =
		    api_reply_error(c, 400, "priority",
		                    v ? "must be an integer from 0 to 1000000000" : "is required");
		goto out;
	}
	r.priority = json_integer_value(v);
	if (member_str(c, o, "class", r.caller_class, sizeof(r.caller_class), NULL, false, &ret) ||
	    member_str(c, o, "service", r.service, sizeof(r.service), "*", false, &ret) ||
	    member_str(c, o, "destination", r.destination, sizeof(r.destination), "*", false,
	               &ret) ||
	    member_str(c, o, "callee_class", r.callee_class, sizeof(r.callee_class), "*", false,
	               &ret) ||
	    member_str(c, o, "verdict", verdict, sizeof(verdict), NULL, false, &ret) ||
	    member_str(c, o, "switch", r.switch_name, sizeof(r.switch_name), "", true, &ret) ||
	    member_str(c, o, "reason", r.reason, sizeof(r.reason), NULL, false, &ret))
		goto out;
	if (strcmp(verdict, "allow") != 0 && strcmp(verdict, "deny") != 0) {
		ret = api_reply_error(c, 400, "verdict", "must be allow or deny");
		goto out;
	}
	r.allow = strcmp(verdict, "allow") == 0;

	struct policy_error err;
	int rc = policy_right_put(srv->policy, &r, actor, &err);
	if (rc == -EINVAL || rc == -EEXIST)
		ret = api_reply_error(c, rc == -EEXIST ? 409 : 400, err.field, "%s", err.msg);
	else if (rc < 0 || policy_right_get(srv->policy, name, &r) != 0)
		ret = api_reply_error(c, 500, NULL, "the store failed; nothing was changed");
	else
		ret = api_reply_json(c, rc == 0 ? 201 : 200, right_json(&r));
out:
	json_decref(o);
	return ret;
}

static enum MHD_Result rights_handle(struct api_server *srv, struct MHD_Connection *c,
                                     struct api_request *req, const char *method, const char *name)
{
	enum MHD_Result ret;
	char actor[POLICY_ACTOR_MAX];
	if (!*name) {
		if (strcmp(method, "GET") != 0)
			return api_reply_error(c, 405, NULL, "method not allowed");
		return reply_list(c, "rights", rights_array(srv->policy));
	}
	if (strcmp(method, "PUT") == 0)
		return right_put(srv, c, req, name);
	struct policy_right r;
	if (strcmp(method, "DELETE") == 0) {
		if (api_actor_of(c, actor, sizeof(actor), &ret) != 0)
			return ret;
		int rc = policy_right_delete(srv->policy, name, actor);
		if (rc == -ENOENT)
			return api_reply_error(c, 404, NULL, "no such right");
		if (rc != 0)
			return api_reply_error(c, 500, NULL,
			                       "the store failed; nothing was changed");
		return api_reply_json(c, 204, NULL);
	}
	if (strcmp(method, "GET") != 0)
		return api_reply_error(c, 405, NULL, "method not allowed");
	if (policy_right_get(srv->policy, name, &r) != 0)
		return api_reply_error(c, 404, NULL, "no such right");
	return api_reply_json(c, 200, right_json(&r));
}

/* --- audit ------------------------------------------------------------------------------- */

struct audit_ctx {
	json_t *items;
	unsigned limit, shown;
	int64_t last;
};

/* One more record than the page is read, to know whether another follows. */
static void audit_one(void *ctx_, const struct store_audit_record *a)
{
	struct audit_ctx *ctx = ctx_;
	if (ctx->shown == ctx->limit)
		return;
	json_array_append_new(
	    ctx->items, json_pack("{s:I,s:o,s:s,s:s,s:o,s:o}", "id", (json_int_t)a->id, "at",
	                          api_json_time(a->at), "actor", a->actor, "object", a->object,
	                          "before", a->before[0] ? json_string(a->before) : json_null(),
	                          "after", a->after[0] ? json_string(a->after) : json_null()));
	ctx->shown++;
	ctx->last = a->id;
}

static enum MHD_Result audit_handle(struct api_server *srv, struct MHD_Connection *c)
{
	struct audit_ctx ctx;
	int64_t after;
	enum MHD_Result ret;
	memset(&ctx, 0, sizeof(ctx));
	if (api_page_args(c, AUDIT_PAGE_DEFAULT, AUDIT_PAGE_MAX,
	                  "an audit record id (a non-negative integer)", &ctx.limit, &after,
	                  &ret) != 0)
		return ret;
	if (!(ctx.items = json_array()))
		return api_reply_error(c, 500, NULL, "out of memory");
	int n = policy_audit_list(srv->policy, after, ctx.limit + 1, audit_one, &ctx);
	if (n < 0) {
		json_decref(ctx.items);
		return api_reply_error(c, 500, NULL, "the store failed");
	}
	bool more = (unsigned)n > ctx.limit;
	return api_reply_json(c, 200,
	                      json_pack("{s:o,s:o}", "audit", ctx.items, "next_after",
	                                more ? json_integer((json_int_t)ctx.last) : json_null()));
}

/* --- check ---------------------------------------------------------------------------------- */

/* The subscriber named by key: an IMSI, an MSISDN (with or without "+" or
 * "msisdn:"), or iccid:N. 0 or -ENOENT. */
static int find_subscriber(struct api_server *srv, const char *key, struct hlr_subscr *out)
{
	uint64_t imsi, msisdn;
	if (api_resolve_key(srv->reg, key, &imsi) == 0)
		return hlr_subscr_get_by_imsi(srv->reg, imsi, out);
	if (hlr_msisdn_parse(key, &msisdn) == 0)
		return hlr_subscr_get_by_msisdn(srv->reg, msisdn, out);
	return -ENOENT;
}

static json_t *party_json(struct api_server *srv, const struct hlr_subscr *s)
{
	char imsi[24], msisdn[24];
	hlr_imsi_format(s->imsi, imsi);
	snprintf(msisdn, sizeof(msisdn), "%" PRIu64, s->msisdn);
	const char *cls = hlr_profile_class_name(hlr_registry_profile(srv->reg), s->class_id);
	return json_pack("{s:s,s:o,s:o}", "imsi", imsi, "msisdn",
	                 s->msisdn ? json_string(msisdn) : json_null(), "class",
	                 cls ? json_string(cls) : json_null());
}

static enum MHD_Result check_handle(struct api_server *srv, struct MHD_Connection *c,
                                    struct api_request *req)
{
	enum MHD_Result ret;
	json_t *o = api_body_object(c, req, &ret);
	if (!o)
		return ret;
	const char *key;
	json_t *v;
	json_object_foreach(o, key, v)
	{
		if (strcmp(key, "caller") != 0 && strcmp(key, "number") != 0 &&
		    strcmp(key, "service") != 0 && strcmp(key, "apn") != 0) {
			ret = api_reply_error(c, 400, key, "unknown field");
			goto out;
		}
		if (!json_is_string(v)) {
			ret = api_reply_error(c, 400, key, "must be a string");
			goto out;
		}
	}
	const char *caller = json_string_value(json_object_get(o, "caller"));
	const char *number = json_string_value(json_object_get(o, "number"));
	const char *service = json_string_value(json_object_get(o, "service"));
	const char *apn = json_string_value(json_object_get(o, "apn"));
	enum policy_service svc = POLICY_VOICE;
	bool data = false;
	if (!service || strcmp(service, "voice") == 0)
		svc = POLICY_VOICE;
	else if (strcmp(service, "sms") == 0)
		svc = POLICY_SMS;
	else if (strcmp(service, "data") == 0)
		data = true;
	else {
		ret = api_reply_error(c, 400, "service", "must be voice, sms or data");
		goto out;
	}
	if (!caller) {
		ret = api_reply_error(c, 400, "caller", "is required (an IMSI or an MSISDN)");
		goto out;
	}
	if (data ? !apn : !number) {
		ret = api_reply_error(c, 400, data ? "apn" : "number",
		                      data ? "is required for data" : "is required");
		goto out;
	}
	if (data ? number != NULL : apn != NULL) {
		ret = api_reply_error(c, 400, data ? "number" : "apn",
		                      data ? "not for data (give apn)" : "only for service data");
		goto out;
	}
	struct hlr_subscr from, to;
	if (find_subscriber(srv, caller, &from) != 0) {
		ret = api_reply_error(c, 404, "caller", "no subscriber with this IMSI or MSISDN");
		goto out;
	}
	struct policy_verdict verdict;
	json_t *r = json_object();
	json_object_set_new(r, "caller", party_json(srv, &from));
	if (data) {
		policy_apn_check(srv->policy, from.class_id, apn, &verdict);
		json_object_set_new(r, "service", json_string("data"));
		json_object_set_new(r, "apn", json_string(apn));
	} else {
		struct policy_dest d;
		uint64_t m;
		bool on_net = false;
		policy_analyse(srv->policy, number, &d);
		if (d.e164[0] && hlr_msisdn_parse(d.e164, &m) == 0 &&
		    hlr_subscr_get_by_msisdn(srv->reg, m, &to) == 0)
			on_net = true;
		policy_check(srv->policy, from.class_id, svc, &d, on_net ? to.class_id : -1,
		             &verdict);
		json_object_set_new(r, "service", json_string(policy_service_name(svc)));
		json_object_set_new(
		    r, "destination",
		    json_pack("{s:s,s:s,s:o,s:o,s:o}", "dialled", number, "kind",
		              policy_dest_kind_name(d.kind), "e164",
		              d.e164[0] ? json_string(d.e164) : json_null(), "range",
		              d.range[0] ? json_string(d.range) : json_null(), "code",
		              d.code[0] ? json_string(d.code) : json_null()));
		json_object_set_new(r, "callee", on_net ? party_json(srv, &to) : json_null());
	}
	json_object_set_new(r, "allowed", json_boolean(verdict.allowed));
	json_object_set_new(r, "rule", json_string(verdict.rule));
	json_object_set_new(r, "reason", json_string(verdict.reason));
	ret = api_reply_json(c, 200, r);
out:
	json_decref(o);
	return ret;
}

/* --- routing -----------------------------------------------------------------------------------
 */

/* rest is "" or "/what[/name]". */
enum MHD_Result api_policy_handle(struct api_server *srv, struct MHD_Connection *c,
                                  struct api_request *req, const char *method, const char *rest)
{
	if (!srv->policy)
		return api_reply_error(c, 404, NULL, "the policy engine is off");
	if (!*rest || strcmp(rest, "/") == 0) {
		if (strcmp(method, "GET") != 0)
			return api_reply_error(c, 405, NULL, "method not allowed");
		json_t *s = switches_array(srv->policy), *r = rights_array(srv->policy),
		       *n = numbering_array(srv->policy), *g = gates_array(srv->policy);
		if (!s || !r || !n || !g) {
			json_decref(s);
			json_decref(r);
			json_decref(n);
			json_decref(g);
			return api_reply_error(c, 500, NULL, "out of memory");
		}
		return api_reply_json(c, 200,
		                      json_pack("{s:o,s:o,s:o,s:o}", "switches", s, "rights", r,
		                                "numbering", n, "apn_switches", g));
	}
	const char *what = rest + 1;
	size_t wn = strcspn(what, "/");
	const char *name = what[wn] == '/' ? what + wn + 1 : "";
	if (strchr(name, '/'))
		return api_reply_error(c, 404, NULL, "no such path: /v1/policy%.100s", rest);
#define IS(s) (wn == strlen(s) && strncmp(what, s, wn) == 0)
	if (IS("switches"))
		return switches_handle(srv, c, req, method, name);
	if (IS("rights"))
		return rights_handle(srv, c, req, method, name);
	if (!*name && (IS("numbering") || IS("apn-switches") || IS("audit") || IS("check"))) {
		bool post = IS("check");
		if (strcmp(method, post ? "POST" : "GET") != 0)
			return api_reply_error(c, 405, NULL, "method not allowed");
		if (IS("numbering"))
			return reply_list(c, "numbering", numbering_array(srv->policy));
		if (IS("apn-switches"))
			return reply_list(c, "apn_switches", gates_array(srv->policy));
		if (IS("audit"))
			return audit_handle(srv, c);
		return check_handle(srv, c, req);
	}
#undef IS
	return api_reply_error(c, 404, NULL, "no such path: /v1/policy%.100s", rest);
}
