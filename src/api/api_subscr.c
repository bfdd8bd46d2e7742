/* /v1/subscribers: create, read, update, delete, list; and the bulk import
 * with its progress (/v1/import/...). */
#include <errno.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "common/clock.h"
#include "common/hex.h"
#include "common/log.h"
#include "hlr/registry.h"

/* The subscriber as the API shows it: never K, OP or OPc. */
static json_t *subscr_json(const struct hlr_profile *p, const struct hlr_subscr_info *info)
{
	const struct hlr_subscr *r = &info->rec;
	char imsi[24], msisdn[24] = "", iccid[24], amf[5];
	hlr_imsi_format(r->imsi, imsi);
	if (r->msisdn)
		snprintf(msisdn, sizeof(msisdn), "%" PRIu64, r->msisdn);
	hlr_iccid_format(&r->iccid, iccid);
	hex_encode(r->amf, 2, amf);
	json_t *o = json_object();
	json_object_set_new(o, "imsi", json_string(imsi));
	json_object_set_new(o, "msisdn", api_json_opt(msisdn));
	json_object_set_new(o, "iccid", api_json_opt(iccid));
	json_object_set_new(o, "class", api_json_opt(hlr_profile_class_name(p, r->class_id)));
	json_object_set_new(o, "status", json_string(hlr_status_name(r->status)));
	json_object_set_new(o, "holder",
	                    json_pack("{s:o,s:o,s:o}", "name", api_json_opt(info->holder.name),
	                              "id_document", api_json_opt(info->holder.id_document),
	                              "nationality", api_json_opt(info->holder.nationality)));
	json_object_set_new(o, "city", api_json_opt(hlr_profile_city_name(p, r->city_id)));
	json_object_set_new(o, "created_at", api_json_time(info->created_at));
	json_object_set_new(o, "activated_at", api_json_time(info->activated_at));
	json_object_set_new(o, "serving",
	                    json_pack("{s:o,s:o,s:o,s:o}", "vlr", api_json_opt(info->vlr_name),
	                              "vlr_updated_at", api_json_time(info->vlr_updated_at), "sgsn",
	                              api_json_opt(info->sgsn_name), "sgsn_updated_at",
	                              api_json_time(info->sgsn_updated_at)));
	json_object_set_new(o, "imei", api_json_opt(info->imei));
	json_object_set_new(o, "imei_updated_at", api_json_time(info->imei_updated_at));
	json_object_set_new(o, "auth",
	                    json_pack("{s:s,s:s,s:s,s:I,s:i}", "algorithm", "milenage", "op_kind",
	                              r->op_is_opc ? "opc" : "op", "amf", amf, "sqn",
	                              (json_int_t)r->sqn, "ind_bitlen", r->ind_bitlen));
	return o;
}

/* subscr_json with sip_password_set, which the registry answers apart: not
 * for use where the store is locked (hlr_subscr_list's callback). */
static json_t *subscr_json_full(struct hlr_registry *reg, const struct hlr_subscr_info *info)
{
	json_t *o = subscr_json(hlr_registry_profile(reg), info);
	json_object_set_new(o, "sip_password_set",
	                    json_boolean(hlr_subscr_has_sip_password(reg, info->rec.imsi)));
	return o;
}

/* Wipes the secret members of a request body (K, OP, OPc, the SIP password)
 * in jansson's copy, which json_decref frees without wiping. */
static void wipe_secrets(json_t *o)
{
	static const char *const secret[] = {"k", "op", "opc", "sip_password"};
	for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++) {
		json_t *v = json_object_get(o, secret[i]);
		if (json_is_string(v))
			OPENSSL_cleanse((char *)json_string_value(v), json_string_length(v));
	}
}

/* Parses the request body as one JSON object, or queues a 400 and returns NULL. */
int api_resolve_key(struct hlr_registry *reg, const char *key, uint64_t *imsi)
{
	struct hlr_subscr rec;
	int rc;
	if (strncmp(key, "msisdn:", 7) == 0) {
		uint64_t m;
		rc = hlr_msisdn_parse(key + 7, &m) == 0 ? hlr_subscr_get_by_msisdn(reg, m, &rec)
		                                        : -ENOENT;
	} else if (strncmp(key, "iccid:", 6) == 0) {
		struct hlr_iccid i;
		rc = hlr_iccid_parse(key + 6, &i) == 0 ? hlr_subscr_get_by_iccid(reg, &i, &rec)
		                                       : -ENOENT;
	} else {
		uint64_t i;
		rc = hlr_imsi_parse(key, &i) == 0 ? hlr_subscr_get_by_imsi(reg, i, &rec) : -ENOENT;
	}
	if (rc == 0)
		*imsi = rec.imsi;
	return rc;
}

/* Text of a JSON member for the shared validator: strings as they are, integers
 * in decimal (into numbuf), null as absent. Returns -1 for another type. */
static int member_text(json_t *v, char *numbuf, size_t cap, const char **out)
{
	if (json_is_string(v))
		*out = json_string_value(v);
	else if (json_is_integer(v) && json_integer_value(v) >= 0) {
		snprintf(numbuf, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		*out = numbuf;
	} else if (json_is_null(v))
		*out = NULL;
	else
		return -1;
	return 0;
}

static enum MHD_Result subscr_create(struct api_server *srv, struct MHD_Connection *c,
                                     struct api_request *req)
{
	enum MHD_Result ret;
	json_t *o = api_body_object(c, req, &ret);
	if (!o)
		return ret;

	struct hlr_subscr_fields f = {0};
	char nums[2][24];
	unsigned numi = 0;
	const char *key;
	json_t *v;
	json_object_foreach(o, key, v)
	{
		if (strcmp(key, "holder") == 0) {
			if (!json_is_object(v) && !json_is_null(v)) {
				ret = api_reply_error(c, 400, "holder", "must be an object");
				goto out;
			}
			const char *hk;
			json_t *hv;
			json_object_foreach(v, hk, hv)
			{
				const char **slot = NULL;
				if (strcmp(hk, "name") == 0)
					slot = &f.name;
				else if (strcmp(hk, "id_document") == 0)
					slot = &f.id_document;
				else if (strcmp(hk, "nationality") == 0)
					slot = &f.nationality;
				char field[48];
				snprintf(field, sizeof(field), "holder.%s", hk);
				if (!slot) {
					ret = api_reply_error(c, 400, field, "unknown field");
					goto out;
				}
				if (!json_is_string(hv) && !json_is_null(hv)) {
					ret = api_reply_error(c, 400, field, "must be a string");
					goto out;
				}
				*slot = json_is_string(hv) ? json_string_value(hv) : NULL;
			}
			continue;
		}
		if (strcmp(key, "name") == 0 || strcmp(key, "id_document") == 0 ||
		    strcmp(key, "nationality") == 0) {
			ret = api_reply_error(c, 400, key,
			                      "unknown field (holder fields go in "
			                      "\"holder\")");
			goto out;
		}
		const char **slot = hlr_subscr_fields_slot(&f, key);
		if (!slot) {
			ret = api_reply_error(c, 400, key, "unknown field");
			goto out;
		}
		bool numeric = strcmp(key, "sqn") == 0 || strcmp(key, "ind_bitlen") == 0;
		if (numeric ? (member_text(v, nums[numi], sizeof(nums[0]), slot) != 0 ||
		               json_is_string(v))
		            : (!json_is_string(v) && !json_is_null(v))) {
			ret = api_reply_error(c, 400, key,
			                      numeric ? "must be a non-negative integer"
			                              : "must be a string");
			goto out;
		}
		if (numeric)
			numi++;
		else
			*slot = json_is_string(v) ? json_string_value(v) : NULL;
	}

	struct hlr_subscr_new in;
	struct hlr_field_error err;
	struct hlr_subscr_info info;
	const struct hlr_profile *p = hlr_registry_profile(srv->reg);
	if (hlr_subscr_input_parse(p, &f, hlr_registry_default_ind_bitlen(srv->reg), &in, &err) !=
	    0) {
		OPENSSL_cleanse(&in, sizeof(in));
		/* Holder members arrive inside "holder": name them as the client wrote them. */
		bool in_holder = strcmp(err.field, "name") == 0 ||
		                 strcmp(err.field, "id_document") == 0 ||
		                 strcmp(err.field, "nationality") == 0;
		char field[48];
		snprintf(field, sizeof(field), "%s%s", in_holder ? "holder." : "", err.field);
		ret = api_reply_error(c, 400, field, "%s", err.msg);
		goto out;
	}
	int rc = hlr_subscr_create(srv->reg, &in, &info, &err);
	if (rc == -EEXIST)
		ret = api_reply_error(c, 409, err.field, "%s", err.msg);
	else if (rc == -EINVAL)
		ret = api_reply_error(c, 400, err.field, "%s", err.msg);
	else if (rc != 0)
		ret = api_reply_error(c, 500, NULL, "the store failed; nothing was changed");
	else
		ret = api_reply_json(c, 201, subscr_json_full(srv->reg, &info));
out:
	/* The body held K and OP: wipe it and jansson's copy. */
	wipe_secrets(o);
	json_decref(o);
	OPENSSL_cleanse(req->body, req->body_len);
	return ret;
}

/* What hlr_subscr_set_sip_password() would refuse (the rules of registry.h),
 * checked before any write of a PATCH: 8 to 128 printable ASCII characters,
 * and an MSISDN after the PATCH, as it is the digest username. 0, or -1 with
 * err set. */
static int sip_password_check(struct hlr_registry *reg, uint64_t imsi, const char *pw,
                              const struct hlr_subscr_change *chg, struct hlr_field_error *err)
{
	size_t n = strlen(pw);
	bool printable = true;
	for (size_t i = 0; i < n; i++)
		printable = printable && pw[i] >= 0x20 && pw[i] <= 0x7e;
	if (n < 8 || n > 128 || !printable) {
		hlr_field_error_set(err, "sip_password",
		                    "must be 8 to 128 printable ASCII characters");
		return -1;
	}
	struct hlr_subscr rec;
	uint64_t msisdn = 0;
	if (chg->set_msisdn)
		msisdn = chg->msisdn;
	else if (hlr_subscr_get_by_imsi(reg, imsi, &rec) == 0)
		msisdn = rec.msisdn;
	else
		return 0; /* gone meanwhile: the update answers 404 */
	if (!msisdn) {
		hlr_field_error_set(err, "sip_password",
		                    "the subscriber needs an MSISDN (the digest username)");
		return -1;
	}
	return 0;
}

static enum MHD_Result subscr_update(struct api_server *srv, struct MHD_Connection *c,
                                     struct api_request *req, uint64_t imsi)
{
	enum MHD_Result ret;
	json_t *o = api_body_object(c, req, &ret);
	if (!o)
		return ret;
	const struct hlr_profile *p = hlr_registry_profile(srv->reg);
	struct hlr_subscr_change chg = {0};
	struct hlr_field_error err = {0};
	const char *key, *sip_password = NULL;
	bool set_sip = false;
	json_t *v;
	int bad = 0;
	json_object_foreach(o, key, v)
	{
		const char *s = json_string_value(v);
		if (strcmp(key, "holder") == 0) {
			if (!json_is_object(v)) {
				hlr_field_error_set(&err, "holder", "must be an object");
				bad = 1;
				break;
			}
			const char *hk;
			json_t *hv;
			json_object_foreach(v, hk, hv)
			{
				char field[48];
				snprintf(field, sizeof(field), "holder.%s", hk);
				const char *hs = json_is_null(hv) ? "" : json_string_value(hv);
				if (!hs) {
					hlr_field_error_set(&err, field, "must be a string");
					bad = 1;
				} else if (strcmp(hk, "name") == 0) {
					chg.set_name = true;
					bad = hlr_field_holder("name", hs, chg.holder.name,
					                       sizeof(chg.holder.name), &err);
				} else if (strcmp(hk, "id_document") == 0) {
					chg.set_id_document = true;
					bad = hlr_field_holder(
					    "id_document", hs, chg.holder.id_document,
					    sizeof(chg.holder.id_document), &err);
				} else if (strcmp(hk, "nationality") == 0) {
					chg.set_nationality = true;
					bad = hlr_field_holder(
					    "nationality", hs, chg.holder.nationality,
					    sizeof(chg.holder.nationality), &err);
				} else {
					hlr_field_error_set(&err, field, "unknown field");
					bad = 1;
				}
				if (bad) {
					if (strncmp(err.field, "holder.", 7) != 0) {
						char base[sizeof(err.field)];
						memcpy(base, err.field, sizeof(base));
						snprintf(err.field, sizeof(err.field),
						         "holder.%.24s", base);
					}
					break;
				}
			}
			if (bad)
				break;
			continue;
		}
		if (strcmp(key, "status") == 0) {
			chg.set_status = true;
			bad = hlr_field_status(s, &chg.status, &err);
		} else if (strcmp(key, "class") == 0) {
			chg.set_class = true;
			bad = hlr_field_class(p, s, &chg.class_id, &err);
		} else if (strcmp(key, "msisdn") == 0) {
			chg.set_msisdn = true;
			if (!json_is_null(v))
				bad = s ? hlr_field_msisdn(p, s, &chg.msisdn, &err) : -1;
		} else if (strcmp(key, "city") == 0) {
			chg.set_city = true;
			if (!json_is_null(v))
				bad = s ? hlr_field_city(p, s, &chg.city_id, &err) : -1;
		} else if (strcmp(key, "sip_password") == 0) {
			set_sip = true;
			sip_password = s;
			if (!s && !json_is_null(v)) {
				hlr_field_error_set(&err, key,
				                    "must be a string, or null to clear it");
				bad = 1;
			}
		} else {
			hlr_field_error_set(&err, key,
			                    "unknown or read-only field (can change: status, "
			                    "class, msisdn, city, holder, sip_password)");
			bad = 1;
		}
		if (bad && !err.msg[0])
			hlr_field_error_set(&err, key, "must be a string");
		if (bad)
			break;
	}
	bool other = chg.set_status || chg.set_class || chg.set_msisdn || chg.set_city ||
	             chg.set_name || chg.set_id_document || chg.set_nationality;
	/* The password is set apart from the other changes (it is no member of
	 * hlr_subscr_change), after them, since its digest username is the MSISDN
	 * this PATCH may change. Whatever could refuse it is checked before either
	 * write, so that a refused PATCH changes nothing. */
	if (!bad && set_sip && sip_password)
		bad = sip_password_check(srv->reg, imsi, sip_password, &chg, &err);
	if (bad) {
		ret = api_reply_error(c, 400, err.field, "%s", err.msg);
		goto out;
	}

	struct hlr_subscr_info info;
	int rc = 0;
	if (other || !set_sip) {
		rc = hlr_subscr_update(srv->reg, imsi, &chg, &info, &err);
		if (rc == -ENOENT)
			ret = api_reply_error(c, 404, NULL, "subscriber not found");
		else if (rc == -EEXIST)
			ret = api_reply_error(c, 409, err.field, "%s", err.msg);
		else if (rc == -EINVAL)
			ret = api_reply_error(c, 400, err.field, "%s", err.msg);
		else if (rc != 0)
			ret =
			    api_reply_error(c, 500, NULL, "the store failed; nothing was changed");
		if (rc != 0)
			goto out;
	}
	if (set_sip) {
		rc = hlr_subscr_set_sip_password(srv->reg, imsi, sip_password, &err);
		if (rc == -ENOENT)
			ret = api_reply_error(c, 404, NULL, "subscriber not found");
		else if (rc == -EINVAL)
			ret = api_reply_error(c, 400, err.field, "%s%s", err.msg,
			                      other ? " (the other changes were made)" : "");
		else if (rc != 0)
			ret = api_reply_error(c, 500, NULL, "the store failed; %s",
			                      other ? "the other changes were made, the SIP "
			                              "password was not changed"
			                            : "nothing was changed");
		if (rc != 0)
			goto out;
		rc = hlr_subscr_info_get(srv->reg, imsi, &info);
		if (rc != 0) {
			ret = api_reply_error(c, rc == -ENOENT ? 404 : 500, NULL, "%s",
			                      rc == -ENOENT ? "subscriber not found"
			                                    : "the store failed");
			goto out;
		}
	}
	ret = api_reply_json(c, 200, subscr_json_full(srv->reg, &info));
out:
	/* The password must not outlive the request: wipe jansson's copy and the
	 * body it was parsed from. */
	wipe_secrets(o);
	json_decref(o);
	OPENSSL_cleanse(req->body, req->body_len);
	return ret;
}

struct list_ctx {
	const struct hlr_profile *p;
	json_t *items;
	unsigned limit, shown;
	uint64_t last;
	uint64_t *imsis; /* of the items, for sip_password_set once the store is unlocked */
};

/* The list asks for one row more than the page holds, to know if another page
 * follows; that row is not shown. */
static void list_one(void *ctx_, const struct hlr_subscr_info *info)
{
	struct list_ctx *ctx = ctx_;
	if (ctx->shown == ctx->limit)
		return;
	json_array_append_new(ctx->items, subscr_json(ctx->p, info));
	ctx->imsis[ctx->shown] = info->rec.imsi;
	ctx->shown++;
	ctx->last = info->rec.imsi;
}

static enum MHD_Result subscr_list(struct api_server *srv, struct MHD_Connection *c)
{
	const struct hlr_profile *p = hlr_registry_profile(srv->reg);
	struct hlr_subscr_filter filter = {-1, -1, -1};
	struct hlr_field_error err;
	const char *v;
	unsigned limit = 100;
	uint64_t after = 0;

	if ((v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "class"))) {
		uint8_t id;
		if (hlr_field_class(p, v, &id, &err) != 0)
			return api_reply_error(c, 400, "class", "%s", err.msg);
		filter.class_id = id;
	}
	if ((v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "status"))) {
		uint8_t st;
		if (hlr_field_status(v, &st, &err) != 0)
			return api_reply_error(c, 400, "status", "%s", err.msg);
		filter.status = st;
	}
	if ((v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "city"))) {
		uint16_t id;
		if (hlr_field_city(p, v, &id, &err) != 0)
			return api_reply_error(c, 400, "city", "%s", err.msg);
		filter.city_id = id;
	}
	if ((v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit"))) {
		if (!str_is_digits(v, 1, 4) || atoi(v) < 1 || atoi(v) > 1000)
			return api_reply_error(c, 400, "limit",
			                       "must be an integer from 1 to 1000");
		limit = (unsigned)atoi(v);
	}
	if ((v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "after"))) {
		if (hlr_imsi_parse(v, &after) != 0)
			return api_reply_error(c, 400, "after", "must be an IMSI");
	}
	struct list_ctx ctx = {.p = p,
	                       .items = json_array(),
	                       .limit = limit,
	                       .imsis = calloc(limit, sizeof(uint64_t))};
	if (!ctx.items || !ctx.imsis) {
		json_decref(ctx.items);
		free(ctx.imsis);
		return api_reply_error(c, 500, NULL, "out of memory");
	}
	int n = hlr_subscr_list(srv->reg, &filter, after, limit + 1, list_one, &ctx);
	if (n < 0) {
		json_decref(ctx.items);
		free(ctx.imsis);
		return api_reply_error(c, 500, NULL, "the store failed");
	}
	for (unsigned i = 0; i < ctx.shown; i++)
		json_object_set_new(
		    json_array_get(ctx.items, i), "sip_password_set",
		    json_boolean(hlr_subscr_has_sip_password(srv->reg, ctx.imsis[i])));
	free(ctx.imsis);
	char next[24];
	hlr_imsi_format(ctx.last, next);
	return api_reply_json(c, 200,
	                      json_pack("{s:o,s:o}", "items", ctx.items, "next",
	                                (unsigned)n > limit ? json_string(next) : json_null()));
}

enum MHD_Result api_subscr_handle(struct api_server *srv, struct MHD_Connection *c,
                                  struct api_request *req, const char *method, const char *key)
{
	if (!key) {
		if (strcmp(method, "GET") == 0)
			return subscr_list(srv, c);
		if (strcmp(method, "POST") == 0)
			return subscr_create(srv, c, req);
		return api_reply_error(c, 405, NULL, "method not allowed");
	}
	uint64_t imsi;
	if (strcmp(method, "GET") != 0 && strcmp(method, "PATCH") != 0 &&
	    strcmp(method, "DELETE") != 0)
		return api_reply_error(c, 405, NULL, "method not allowed");
	if (api_resolve_key(srv->reg, key, &imsi) != 0)
		return api_reply_error(c, 404, NULL, "subscriber not found");
	if (strcmp(method, "PATCH") == 0)
		return subscr_update(srv, c, req, imsi);
	if (strcmp(method, "DELETE") == 0) {
		int rc = hlr_subscr_delete(srv->reg, imsi);
		if (rc == -ENOENT)
			return api_reply_error(c, 404, NULL, "subscriber not found");
		if (rc != 0)
			return api_reply_error(c, 500, NULL,
			                       "the store failed; nothing was changed");
		return api_reply_text(c, 204, "application/json", strdup(""), 0);
	}
	struct hlr_subscr_info info;
	int rc = hlr_subscr_info_get(srv->reg, imsi, &info);
	if (rc == -ENOENT)
		return api_reply_error(c, 404, NULL, "subscriber not found");
	if (rc != 0)
		return api_reply_error(c, 500, NULL, "the store failed");
	return api_reply_json(c, 200, subscr_json_full(srv->reg, &info));
}

/* --- import progress -------------------------------------------------------- */

static const char *const import_phase_names[] = {
    [API_IMPORT_RECEIVING] = "receiving", [API_IMPORT_CHECKING] = "checking",
    [API_IMPORT_WRITING] = "writing",     [API_IMPORT_DONE] = "done",
    [API_IMPORT_FAILED] = "failed",
};

static bool import_id_valid(const char *id)
{
	size_t n = strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");
	return id[n] == '\0' && n >= API_IMPORT_ID_MIN && n <= API_IMPORT_ID_MAX;
}

/* Frees the slots of imports that ended more than API_IMPORT_KEEP_NS ago; and
 * returns the slot named id, or NULL. Called with the lock held. */
static struct api_import_progress *import_slot_find(struct api_import_table *t, const char *id)
{
	uint64_t now = clock_mono_ns();
	struct api_import_progress *found = NULL;
	for (unsigned i = 0; i < API_IMPORT_SLOTS; i++) {
		struct api_import_progress *p = &t->slot[i];
		if (p->id[0] && p->ended_ns && now - p->ended_ns > API_IMPORT_KEEP_NS)
			p->id[0] = '\0';
		if (p->id[0] && strcmp(p->id, id) == 0)
			found = p;
	}
	return found;
}

struct api_import_progress *api_import_progress_start(struct api_server *srv, const char *id)
{
	struct api_import_table *t = &srv->imports;
	struct api_import_progress *p;

	if (!import_id_valid(id)) {
		LOGN("api", "import id ignored: not 16-64 of [A-Za-z0-9_-]");
		return NULL;
	}
	pthread_mutex_lock(&t->lock);
	p = import_slot_find(t, id);
	if (p && !p->ended_ns) {
		pthread_mutex_unlock(&t->lock);
		LOGN("api", "import %s: an import of that id is running; no progress for this one",
		     id);
		return NULL;
	}
	for (unsigned i = 0; !p && i < API_IMPORT_SLOTS; i++) {
		if (!t->slot[i].id[0])
			p = &t->slot[i];
	}
	if (p) {
		*p = (struct api_import_progress){.phase = API_IMPORT_RECEIVING};
		snprintf(p->id, sizeof(p->id), "%s", id);
	}
	pthread_mutex_unlock(&t->lock);
	if (!p)
		LOGW("api", "import %s: all %u progress slots in use; no progress for this one", id,
		     API_IMPORT_SLOTS);
	return p;
}

void api_import_progress_bytes(struct api_server *srv, struct api_import_progress *p,
                               uint64_t bytes)
{
	if (!p)
		return;
	pthread_mutex_lock(&srv->imports.lock);
	p->bytes = bytes;
	pthread_mutex_unlock(&srv->imports.lock);
}

static void import_progress_set(struct api_server *srv, struct api_import_progress *p,
                                enum api_import_phase phase, uint64_t rows)
{
	if (!p)
		return;
	pthread_mutex_lock(&srv->imports.lock);
	p->phase = phase;
	if (phase != API_IMPORT_FAILED) /* a failure keeps the rows it reached */
		p->rows = rows;
	if (phase == API_IMPORT_DONE || phase == API_IMPORT_FAILED)
		p->ended_ns = clock_mono_ns() | 1; /* never 0, which means running */
	pthread_mutex_unlock(&srv->imports.lock);
}

void api_import_progress_end(struct api_server *srv, struct api_import_progress *p,
                             enum api_import_phase phase, uint64_t rows)
{
	import_progress_set(srv, p, phase, rows);
}

enum MHD_Result api_import_progress_handle(struct api_server *srv, struct MHD_Connection *c,
                                           const char *id)
{
	struct api_import_progress copy;
	bool found = false;

	if (import_id_valid(id)) {
		pthread_mutex_lock(&srv->imports.lock);
		struct api_import_progress *p = import_slot_find(&srv->imports, id);
		if (p) {
			copy = *p;
			found = true;
		}
		pthread_mutex_unlock(&srv->imports.lock);
	}
	if (!found)
		return api_reply_error(c, 404, NULL,
		                       "no such import (or it ended over a minute ago)");
	return api_reply_json(c, 200,
	                      json_pack("{s:s,s:s,s:I,s:I}", "id", copy.id, "phase",
	                                import_phase_names[copy.phase], "rows",
	                                (json_int_t)copy.rows, "bytes", (json_int_t)copy.bytes));
}

struct import_ctx {
	struct api_server *srv;
	struct api_import_progress *progress;
};

/* The registry's hlr_import_progress_fn: "check" or "write", every 10,000 rows. */
static void import_progress(void *arg, const char *phase, uint64_t rows)
{
	struct import_ctx *ic = arg;
	import_progress_set(ic->srv, ic->progress,
	                    strcmp(phase, "write") == 0 ? API_IMPORT_WRITING : API_IMPORT_CHECKING,
	                    rows);
}

enum MHD_Result api_import_handle(struct api_server *srv, struct MHD_Connection *c,
                                  struct api_request *req)
{
	struct import_ctx ic = {srv, req->progress};
	/* From here this handler ends the progress, whatever the outcome. */
	req->progress = NULL;
	if (!req->upload) {
		api_import_progress_end(srv, ic.progress, API_IMPORT_FAILED, 0);
		return api_reply_error(c, 400, NULL, "a CSV body is required");
	}
	if (fflush(req->upload) != 0 || fseek(req->upload, 0, SEEK_SET) != 0) {
		api_import_progress_end(srv, ic.progress, API_IMPORT_FAILED, 0);
		return api_reply_error(c, 500, NULL, "could not read back the upload");
	}
	uint64_t n = 0;
	struct hlr_import_error err;
	import_progress_set(srv, ic.progress, API_IMPORT_CHECKING, 0);
	int rc = hlr_subscr_import_csv(srv->reg, req->upload, &n, &err,
	                               ic.progress ? import_progress : NULL, &ic);
	api_import_progress_end(srv, ic.progress, rc == 0 ? API_IMPORT_DONE : API_IMPORT_FAILED, n);
	if (rc == 0)
		return api_reply_json(c, 200, json_pack("{s:I}", "imported", (json_int_t)n));
	if (rc == -EINVAL || rc == -EEXIST) {
		LOGN("api", "import refused: line %u, column %s: %s", err.line, err.column,
		     err.msg);
		json_t *o = json_pack("{s:s,s:i,s:s}", "error", err.msg, "line", err.line, "column",
		                      err.column);
		return api_reply_json(c, rc == -EINVAL ? 400 : 409, o);
	}
	return api_reply_error(c, rc == -ENOMEM ? 507 : 500, NULL,
	                       "the import failed; nothing was imported");
}

enum MHD_Result api_profile_handle(struct api_server *srv, struct MHD_Connection *c,
                                   const char *what)
{
	const struct hlr_profile *p = hlr_registry_profile(srv->reg);
	if (strcmp(what, "network") == 0)
		return api_reply_json(c, 200,
		                      json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "name", p->name,
		                                "operator", p->operator_name, "mcc", p->mcc, "mnc",
		                                p->mnc, "country_code", p->country_code,
		                                "national_prefix", p->national_prefix,
		                                "international_prefix", p->international_prefix));
	json_t *items = json_array();
	if (strcmp(what, "classes") == 0) {
		for (unsigned i = 0; i < p->n_classes; i++) {
			const struct hlr_class *c = &p->classes[i];
			json_t *domains = json_array(), *apns = json_array();
			if (c->cs)
				json_array_append_new(domains, json_string("cs"));
			if (c->ps)
				json_array_append_new(domains, json_string("ps"));
			for (unsigned a = 0; a < c->n_apns; a++)
				json_array_append_new(apns, json_string(c->apns[a]));
			json_array_append_new(items, json_pack("{s:s,s:s,s:o,s:o}", "name", c->name,
			                                       "description", c->description,
			                                       "domains", domains, "apns", apns));
		}
	} else {
		for (unsigned i = 0; i < p->n_cities; i++)
			json_array_append_new(items, json_pack("{s:s,s:s,s:I,s:s}", "name",
			                                       p->cities[i].name, "province",
			                                       p->cities[i].province, "population",
			                                       (json_int_t)p->cities[i].population,
			                                       "kind", p->cities[i].kind));
	}
	return api_reply_json(c, 200, json_pack("{s:o}", "items", items));
}
