/* Online charging as the operator sees it (docs/api.md, "Charging"): plans
 * and tariffs, organisations' monthly caps, accounts with top-ups and
 * adjustments, the ledger, rated CDRs, card batches, and credit control for
 * switches and tests. A top-up's PIN is read from the request and never
 * written to a response or a log. */
#include <errno.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_internal.h"
#include "common/clock.h"
#include "common/hex.h"
#include "hlr/registry.h"
#include "ocs/ocs.h"

#define PAGE_DEFAULT 100
#define PAGE_MAX     1000
/* A request body is at most API_MAX_JSON: a batch goes up in parts. */
#define BATCH_PART_MAX 400

/* --- helpers ------------------------------------------------------------------------ */

/* Minor units as a decimal string ("12.50"), for people; amounts stay integers. */
static json_t *json_decimal(int64_t v, int digits)
{
	char buf[64];
	uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, scale = 1;
	for (int i = 0; i < digits; i++)
		scale *= 10;
	if (digits > 0 && digits <= 3)
		snprintf(buf, sizeof(buf), "%s%" PRIu64 ".%0*" PRIu64, v < 0 ? "-" : "", a / scale,
		         digits, a % scale);
	else
		snprintf(buf, sizeof(buf), "%" PRId64, v);
	return json_string(buf);
}

static enum MHD_Result status_reply(struct MHD_Connection *c, const struct ocs_grant *g, json_t *ok)
{
	unsigned code;
	switch (g->status) {
	case 0:
		return api_reply_json(c, 200, ok);
	case -EDQUOT:
		code = 402;
		break;
	case -ENOENT:
		code = 404;
		break;
	case -EACCES:
		code = 403;
		break;
	case -EALREADY:
		code = 409;
		break;
	case -ESTALE:
		code = 410;
		break;
	case -EAGAIN:
		code = 429;
		break;
	case -EINVAL:
		code = 400;
		break;
	default:
		code = 503;
	}
	json_decref(ok);
	return api_reply_error(c, code, NULL, "%s", g->reason);
}

/* The answer of an asynchronous ocs call, waited for on the API's thread. */
struct wait {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	struct ocs_grant g;
};

static void wait_done(void *ctx, const struct ocs_grant *g)
{
	struct wait *w = ctx;
	pthread_mutex_lock(&w->mu);
	w->g = *g;
	w->done = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

static void wait_init(struct wait *w)
{
	memset(w, 0, sizeof(*w));
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
}

/* rc is what the ocs call returned: on 0, done will come. */
static void wait_end(struct wait *w, int rc)
{
	if (rc != 0) {
		w->g.status = -EIO;
		snprintf(w->g.reason, sizeof(w->g.reason), "out of memory");
	} else {
		pthread_mutex_lock(&w->mu);
		while (!w->done)
			pthread_cond_wait(&w->cv, &w->mu);
		pthread_mutex_unlock(&w->mu);
	}
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
}

/* Member key of o as a string of 1..max characters, or NULL after a 400. */
static const char *member_str(struct MHD_Connection *c, json_t *o, const char *key, size_t max,
                              bool required, enum MHD_Result *ret)
{
	json_t *v = json_object_get(o, key);
	if (!v && !required)
		return "";
	if (!json_is_string(v) || json_string_length(v) < 1 || json_string_length(v) > max) {
		*ret = api_reply_error(c, 400, key, "must be a string of 1 to %zu characters", max);
		return NULL;
	}
	return json_string_value(v);
}

static int member_int(struct MHD_Connection *c, json_t *o, const char *key, int64_t min,
                      int64_t max, int64_t *out, enum MHD_Result *ret)
{
	json_t *v = json_object_get(o, key);
	if (!v) {
		*out = 0;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		*ret = api_reply_error(c, 400, key,
		                       "must be an integer from %" PRId64 " to %" PRId64, min, max);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

static enum MHD_Result unknown_members(struct MHD_Connection *c, json_t *o,
                                       const char *const *known, bool *bad)
{
	const char *key;
	json_t *v;
	json_object_foreach(o, key, v)
	{
		bool ok = false;
		for (const char *const *k = known; *k; k++)
			ok = ok || strcmp(*k, key) == 0;
		if (!ok) {
			*bad = true;
			return api_reply_error(c, 400, key, "unknown field");
		}
	}
	*bad = false;
	return MHD_YES;
}

/* The account id of a path's {key}: a subscriber key (IMSI, msisdn:, iccid:)
 * or org:NAME. 0, or -ENOENT. */
static int account_id(struct api_server *srv, const char *key, char out[24])
{
	if (strncmp(key, "org:", 4) == 0) {
		if (strlen(key) >= 24)
			return -ENOENT;
		snprintf(out, 24, "%s", key);
		return 0;
	}
	uint64_t imsi;
	if (api_resolve_key(srv->reg, key, &imsi) != 0)
		return -ENOENT;
	hlr_imsi_format(imsi, out);
	return 0;
}

/* --- plans and tariffs ---------------------------------------------------------------- */

static void plan_one(void *ctx, const struct ocs_plan_info *p)
{
	json_array_append_new(
	    ctx,
	    json_pack("{s:s,s:o,s:s,s:s,s:o,s:I,s:i,s:I,s:I,s:I}", "name", p->name, "class",
	              api_json_opt(p->class_name), "description", p->description, "payer", p->payer,
	              "currency", api_json_opt(p->currency), "fee", (json_int_t)p->fee,
	              "fee_months", p->fee_months, "initial_credit", (json_int_t)p->initial_credit,
	              "allowance_minutes", (json_int_t)(p->allowance_seconds / 60), "allowance_sms",
	              (json_int_t)p->allowance_sms));
}

static void tariff_one(void *ctx, const struct ocs_tariff_info *t)
{
	json_array_append_new(
	    ctx, json_pack("{s:s,s:s,s:o,s:I,s:i,s:I,s:b}", "plan", t->plan, "destination",
	                   t->destination, "currency", api_json_opt(t->currency), "per_minute",
	                   (json_int_t)t->per_minute, "unit_seconds", (int)t->unit_seconds,
	                   "per_sms", (json_int_t)t->per_sms, "allowance", t->allowance));
}

/* --- accounts ----------------------------------------------------------------------------- */

static enum MHD_Result account_get(struct api_server *srv, struct MHD_Connection *c, const char *id)
{
	struct ocs_account_info info;
	if (ocs_account_info(srv->ocs, id, &info) != 0)
		return api_reply_error(c, 404, NULL, "no such account");
	json_t *bal = json_array();
	for (unsigned i = 0; i < info.n_balances; i++) {
		const struct ocs_balance *b = &info.balances[i];
		json_array_append_new(bal, json_pack("{s:s,s:I,s:o,s:s}", "currency", b->currency,
		                                     "amount", (json_int_t)b->amount, "decimal",
		                                     json_decimal(b->amount, b->digits), "text",
		                                     b->text));
	}
	json_t *allow = json_pack("{s:I,s:I,s:o}", "seconds", (json_int_t)info.allowance_seconds,
	                          "sms", (json_int_t)info.allowance_sms, "valid_until",
	                          api_json_time(info.allowance_valid_until));
	return api_reply_json(c, 200,
	                      json_pack("{s:s,s:o,s:o,s:o,s:o,s:i}", "account", info.account,
	                                "plan", api_json_opt(info.plan), "organisation",
	                                api_json_opt(info.organisation), "balances", bal,
	                                "allowance", allow, "open_calls", (int)info.open_calls));
}

static enum MHD_Result account_topup(struct api_server *srv, struct MHD_Connection *c,
                                     struct api_request *req, const char *id)
{
	enum MHD_Result ret;
	json_t *o = api_body_object(c, req, &ret);
	if (!o)
		return ret;
	static const char *const known[] = {"op_id", "pin", NULL};
	bool bad;
	const char *op_id, *pin;
	if (strncmp(id, "org:", 4) == 0) {
		ret = api_reply_error(c, 400, NULL, "an organisation's account takes no cards");
		goto out;
	}
	if ((ret = unknown_members(c, o, known, &bad)), bad)
		goto out;
	if (!(op_id = member_str(c, o, "op_id", 63, true, &ret)) ||
	    !(pin = member_str(c, o, "pin", 32, true, &ret)))
		goto out;
	struct wait w;
	wait_init(&w);
	wait_end(&w, ocs_topup(srv->ocs, op_id, strtoull(id, NULL, 10), pin, wait_done, &w));
	ret = status_reply(c, &w.g, json_pack("{s:s,s:s}", "account", id, "message", w.g.reason));
out:
	/* The PIN is a secret: jansson's copy is wiped before it is freed. */
	json_t *p = json_object_get(o, "pin");
	if (json_is_string(p))
		OPENSSL_cleanse((char *)json_string_value(p), json_string_length(p));
	OPENSSL_cleanse(req->body, req->body_len);
	json_decref(o);
	return ret;
}

static enum MHD_Result account_adjust(struct api_server *srv, struct MHD_Connection *c,
                                      struct api_request *req, const char *id)
{
	enum MHD_Result ret;
	json_t *o = api_body_object(c, req, &ret);
	if (!o)
		return ret;
	static const char *const known[] = {"op_id", "currency", "amount", "seconds",
	                                    "sms",   "reason",   NULL};
	bool bad;
	const char *op_id, *cur, *reason;
	int64_t amount, seconds, sms;
	const int64_t lim = 1000000000000LL;
	if ((ret = unknown_members(c, o, known, &bad)), bad)
		goto out;
	if (!(op_id = member_str(c, o, "op_id", 63, true, &ret)) ||
	    !(cur = member_str(c, o, "currency", 3, false, &ret)) ||
	    !(reason = member_str(c, o, "reason", 159, true, &ret)) ||
	    member_int(c, o, "amount", -lim, lim, &amount, &ret) ||
	    member_int(c, o, "seconds", -lim, lim, &seconds, &ret) ||
	    member_int(c, o, "sms", -lim, lim, &sms, &ret))
		goto out;
	if (amount && ocs_currency_digits(srv->ocs, cur) < 0) {
		ret = api_reply_error(c, 400, "currency", "not a currency of this network");
		goto out;
	}
	if (!amount && !seconds && !sms) {
		ret = api_reply_error(c, 400, "amount", "give amount, seconds or sms (non-zero)");
		goto out;
	}
	struct wait w;
	wait_init(&w);
	wait_end(&w, ocs_adjust(srv->ocs, op_id, id, *cur ? cur : NULL, amount, seconds, sms,
	                        reason, wait_done, &w));
	ret = status_reply(c, &w.g, json_pack("{s:s,s:s}", "account", id, "message", w.g.reason));
out:
	json_decref(o);
	return ret;
}

/* --- the ledger and rated CDRs --------------------------------------------------------------- */

struct page {
	json_t *items;
	FILE *f; /* CSV or JSON lines */
	bool csv;
	int64_t last;
};

static void ledger_one(void *ctx, const struct ocs_ledger_row *r)
{
	struct page *p = ctx;
	json_array_append_new(
	    p->items,
	    json_pack("{s:I,s:s,s:s,s:s,s:o,s:I,s:o,s:I,s:I,s:I,s:o,s:o,s:s,s:o}", "seq",
	              (json_int_t)r->seq, "op_id", r->op_id, "account", r->account, "kind", r->kind,
	              "currency", api_json_opt(r->currency), "amount", (json_int_t)r->amount,
	              "decimal", r->currency[0] ? json_decimal(r->amount, r->digits) : json_null(),
	              "seconds", (json_int_t)r->seconds, "sms", (json_int_t)r->sms, "quantity",
	              (json_int_t)r->quantity, "destination", api_json_opt(r->destination),
	              "session", api_json_opt(r->session), "reason", r->reason, "at",
	              api_json_time(r->at)));
	p->last = r->seq;
}

static enum MHD_Result ledger_get(struct api_server *srv, struct MHD_Connection *c,
                                  const char *account)
{
	enum MHD_Result ret;
	unsigned limit;
	int64_t after;
	if (api_page_args(c, PAGE_DEFAULT, PAGE_MAX, "a sequence number", &limit, &after, &ret) !=
	    0)
		return ret;
	struct page p = {.items = json_array()};
	int n = ocs_ledger_list(srv->ocs, account, after, limit, ledger_one, &p);
	if (n < 0) {
		json_decref(p.items);
		return api_reply_error(c, 500, NULL, "the store failed");
	}
	return api_reply_json(c, 200,
	                      json_pack("{s:o,s:o}", "rows", p.items, "next_after",
	                                (unsigned)n == limit ? json_integer(p.last) : json_null()));
}

static const char *const cdr_columns[] = {
    "id",         "service",  "session", "account",           "destination",
    "started_at", "ended_at", "seconds", "allowance_seconds", "allowance_sms",
    "currency",   "amount",   "decimal",
};
#define CDR_COLUMNS (sizeof(cdr_columns) / sizeof(cdr_columns[0]))

static json_t *cdr_json(const struct ocs_cdr *r)
{
	json_t *v[CDR_COLUMNS] = {
	    json_integer(r->id),
	    json_string(r->service),
	    json_string(r->session),
	    json_string(r->account),
	    api_json_opt(r->destination),
	    api_json_time(r->started_at),
	    api_json_time(r->ended_at),
	    json_integer(r->seconds),
	    json_integer(r->allowance_seconds),
	    json_integer(r->allowance_sms),
	    api_json_opt(r->currency),
	    json_integer(r->amount),
	    r->currency[0] ? json_decimal(r->amount, r->digits) : json_null(),
	};
	json_t *o = json_object();
	for (size_t i = 0; i < CDR_COLUMNS; i++)
		json_object_set_new(o, cdr_columns[i], v[i]);
	return o;
}

static void cdr_one(void *ctx, const struct ocs_cdr *r)
{
	struct page *p = ctx;
	json_t *o = cdr_json(r);
	p->last = r->id;
	if (!p->f) {
		json_array_append_new(p->items, o);
		return;
	}
	if (!p->csv) {
		char *s = json_dumps(o, JSON_COMPACT);
		if (s)
			fprintf(p->f, "%s\n", s);
		free(s);
		json_decref(o);
		return;
	}
	for (size_t i = 0; i < CDR_COLUMNS; i++) {
		json_t *v = json_object_get(o, cdr_columns[i]);
		char num[24];
		const char *s = "";
		if (json_is_string(v))
			s = json_string_value(v);
		else if (json_is_integer(v)) {
			snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
			s = num;
		}
		if (i)
			fputc(',', p->f);
		api_csv_field(p->f, s, i == 2);
	}
	fputs("\r\n", p->f);
	json_decref(o);
}

static enum MHD_Result cdrs_get(struct api_server *srv, struct MHD_Connection *c)
{
	enum MHD_Result ret;
	unsigned limit;
	int64_t after;
	if (api_page_args(c, PAGE_DEFAULT, PAGE_MAX, "a sequence number", &limit, &after, &ret) !=
	    0)
		return ret;
	const char *fmt = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "format");
	if (fmt && strcmp(fmt, "json") != 0 && strcmp(fmt, "jsonl") != 0 && strcmp(fmt, "csv") != 0)
		return api_reply_error(c, 400, "format", "must be json, jsonl or csv");
	struct page p = {0};
	char *text = NULL;
	size_t len = 0;
	if (fmt && strcmp(fmt, "json") != 0) {
		p.csv = strcmp(fmt, "csv") == 0;
		if (!(p.f = open_memstream(&text, &len)))
			return api_reply_error(c, 500, NULL, "out of memory");
		if (p.csv) {
			for (size_t i = 0; i < CDR_COLUMNS; i++)
				fprintf(p.f, "%s%s", i ? "," : "", cdr_columns[i]);
			fputs("\r\n", p.f);
		}
	} else {
		p.items = json_array();
	}
	int n = ocs_cdr_list(srv->ocs, after, limit, cdr_one, &p);
	bool more = n > 0 && (unsigned)n == limit;
	if (p.f) {
		bool failed = fclose(p.f) != 0;
		if (n < 0 || failed) {
			free(text);
			return api_reply_error(c, 500, NULL, "the store failed");
		}
		char next[24];
		snprintf(next, sizeof(next), "%" PRId64, p.last);
		return api_reply_text_header(
		    c, 200, p.csv ? "text/csv; charset=utf-8; header=present" : "application/jsonl",
		    text, len, more ? "X-Koryo-Next-After" : NULL, next);
	}
	if (n < 0) {
		json_decref(p.items);
		return api_reply_error(c, 500, NULL, "the store failed");
	}
	return api_reply_json(c, 200,
	                      json_pack("{s:o,s:o}", "cdrs", p.items, "next_after",
	                                more ? json_integer(p.last) : json_null()));
}

/* --- card batches ------------------------------------------------------------------------ */

static void batch_one(void *ctx, const struct ocs_batch_info *b)
{
	json_array_append_new(
	    ctx, json_pack("{s:s,s:s,s:I,s:o,s:o,s:o,s:I,s:I,s:i}", "batch", b->name, "currency",
	                   b->currency, "value", (json_int_t)b->value, "decimal",
	                   json_decimal(b->value, b->digits < 0 ? 0 : b->digits), "expires",
	                   api_json_time(b->expires_at), "uploaded_at",
	                   api_json_time(b->uploaded_at), "cards", (json_int_t)b->cards, "redeemed",
	                   (json_int_t)b->redeemed, "iterations", (int)b->iterations));
}

/* "2027-01-01" (the end of that day's eve: cards are good through the day
 * before) or an ISO time. */
static int parse_date(const char *s, int64_t *out)
{
	struct tm tm = {0};
	char *end = strptime(s, "%Y-%m-%d", &tm);
	if (!end)
		return -1;
	if (*end == 'T') {
		end = strptime(end, "T%H:%M:%SZ", &tm);
		if (!end)
			return -1;
	}
	if (*end)
		return -1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

static enum MHD_Result batch_post(struct api_server *srv, struct MHD_Connection *c,
                                  struct api_request *req)
{
	enum MHD_Result ret;
	json_t *o = api_body_object(c, req, &ret);
	if (!o)
		return ret;
	static const char *const known[] = {"batch", "salt",    "iterations", "kdf", "currency",
	                                    "value", "expires", "cards",      NULL};
	bool bad;
	const char *name, *salt, *cur, *expires, *kdf;
	int64_t iterations, value, exp_at;
	struct ocs_card *cards = NULL;
	if ((ret = unknown_members(c, o, known, &bad)), bad)
		goto out;
	if (!(name = member_str(c, o, "batch", 32, true, &ret)) ||
	    !(salt = member_str(c, o, "salt", 64, true, &ret)) ||
	    !(kdf = member_str(c, o, "kdf", 32, true, &ret)) ||
	    !(cur = member_str(c, o, "currency", 3, true, &ret)) ||
	    !(expires = member_str(c, o, "expires", 32, true, &ret)) ||
	    member_int(c, o, "iterations", 1000, 10000000, &iterations, &ret) ||
	    member_int(c, o, "value", 1, 1000000000000LL, &value, &ret))
		goto out;
	if (strcmp(kdf, "pbkdf2-sha256") != 0) {
		ret = api_reply_error(c, 400, "kdf", "must be pbkdf2-sha256");
		goto out;
	}
	if (parse_date(expires, &exp_at) != 0) {
		ret = api_reply_error(c, 400, "expires", "must be a date YYYY-MM-DD");
		goto out;
	}
	json_t *arr = json_object_get(o, "cards");
	if (!json_is_array(arr) || json_array_size(arr) < 1 ||
	    json_array_size(arr) > BATCH_PART_MAX) {
		ret = api_reply_error(c, 400, "cards", "must be an array of 1 to %d cards",
		                      BATCH_PART_MAX);
		goto out;
	}
	size_t n = json_array_size(arr);
	cards = calloc(n, sizeof(*cards));
	if (!cards) {
		ret = api_reply_error(c, 500, NULL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(arr, i);
		json_t *s = json_object_get(e, "serial"), *h = json_object_get(e, "pin_hash");
		if (!json_is_object(e) || json_object_size(e) != 2 || !json_is_string(s) ||
		    !json_is_string(h) || json_string_length(s) >= sizeof(cards[i].serial) ||
		    json_string_length(h) >= sizeof(cards[i].pin_hash)) {
			ret = api_reply_error(
			    c, 400, "cards",
			    "card %zu: expected {\"serial\": ..., \"pin_hash\": ...}", i);
			goto out;
		}
		snprintf(cards[i].serial, sizeof(cards[i].serial), "%s", json_string_value(s));
		snprintf(cards[i].pin_hash, sizeof(cards[i].pin_hash), "%s", json_string_value(h));
	}
	struct ocs_batch_new b = {.iterations = (unsigned)iterations,
	                          .value = value,
	                          .expires_at = exp_at,
	                          .cards = cards,
	                          .n_cards = n};
	snprintf(b.name, sizeof(b.name), "%s", name);
	snprintf(b.salt, sizeof(b.salt), "%s", salt);
	snprintf(b.currency, sizeof(b.currency), "%s", cur);
	struct ocs_field_error err;
	int rc = ocs_batch_add(srv->ocs, &b, &err);
	if (rc == -EINVAL)
		ret = api_reply_error(c, 400, err.field, "%s", err.msg);
	else if (rc == -EEXIST)
		ret = api_reply_error(c, 409, err.field, "%s", err.msg);
	else if (rc != 0)
		ret = api_reply_error(c, 500, NULL, "the store failed");
	else
		ret = api_reply_json(c, 201,
		                     json_pack("{s:s,s:I}", "batch", name, "cards", (json_int_t)n));
out:
	free(cards);
	json_decref(o);
	return ret;
}

/* --- organisations' caps ------------------------------------------------------------------ */

static json_t *org_json(const struct ocs_org_info *g)
{
	return json_pack("{s:s,s:I,s:I,s:s,s:o}", "name", g->name, "monthly_minutes",
	                 (json_int_t)(g->allowance_seconds / 60), "monthly_sms",
	                 (json_int_t)g->allowance_sms, "description", g->description, "updated_at",
	                 api_json_time(g->updated_at));
}

static void org_one(void *ctx, const struct ocs_org_info *g)
{
	json_array_append_new(ctx, org_json(g));
}

/* PUT replaces the whole cap: both numbers are required, so that a body
 * missing one never sets it to 0 by accident. */
static enum MHD_Result org_put(struct api_server *srv, struct MHD_Connection *c,
                               struct api_request *req, const char *name)
{
	enum MHD_Result ret;
	json_t *o = api_body_object(c, req, &ret);
	if (!o)
		return ret;
	static const char *const known[] = {"monthly_minutes", "monthly_sms", "description", NULL};
	bool bad;
	int64_t minutes, sms;
	const char *desc = "";
	if ((ret = unknown_members(c, o, known, &bad)), bad)
		goto out;
	static const char *const required[] = {"monthly_minutes", "monthly_sms", NULL};
	for (const char *const *k = required; *k; k++)
		if (!json_object_get(o, *k)) {
			ret = api_reply_error(c, 400, *k,
			                      "is required (an integer from 0 to 1000000)");
			goto out;
		}
	if (member_int(c, o, "monthly_minutes", 0, 1000000, &minutes, &ret) ||
	    member_int(c, o, "monthly_sms", 0, 1000000, &sms, &ret))
		goto out;
	json_t *d = json_object_get(o, "description");
	if (d && (!json_is_string(d) || json_string_length(d) > 159)) {
		ret = api_reply_error(c, 400, "description",
		                      "must be a string of 0 to 159 characters");
		goto out;
	}
	if (d)
		desc = json_string_value(d);
	struct ocs_field_error err;
	int rc = ocs_org_set(srv->ocs, name, minutes, sms, desc, &err);
	struct ocs_org_info g;
	if (rc == -EINVAL)
		ret = api_reply_error(c, 400, err.field, "%s", err.msg);
	else if (rc < 0)
		ret = api_reply_error(c, 500, NULL, "the store failed; nothing was changed");
	else if (ocs_org_get(srv->ocs, name, &g) != 0)
		ret = api_reply_error(c, 500, NULL, "the cap was written but cannot be read back");
	else
		ret = api_reply_json(c, rc == 1 ? 201 : 200, org_json(&g));
out:
	json_decref(o);
	return ret;
}

static enum MHD_Result orgs_handle(struct api_server *srv, struct MHD_Connection *c,
                                   struct api_request *req, const char *method, const char *name)
{
	bool get = strcmp(method, "GET") == 0;
	if (!*name) {
		if (!get)
			return api_reply_error(c, 405, NULL, "method not allowed");
		json_t *a = json_array();
		ocs_org_list(srv->ocs, org_one, a);
		return api_reply_json(c, 200, json_pack("{s:o}", "organisations", a));
	}
	if (strchr(name, '/'))
		return api_reply_error(c, 404, NULL, "no such path");
	if (strcmp(method, "PUT") == 0)
		return org_put(srv, c, req, name);
	if (!get)
		return api_reply_error(c, 405, NULL, "method not allowed");
	struct ocs_org_info g;
	if (ocs_org_get(srv->ocs, name, &g) != 0)
		return api_reply_error(c, 404, NULL,
		                       "organisation %.20s has no cap: its lines have their plan's "
		                       "allowance",
		                       name);
	return api_reply_json(c, 200, org_json(&g));
}

/* --- credit control over the API ------------------------------------------------------------- */

static enum MHD_Result session_post(struct api_server *srv, struct MHD_Connection *c,
                                    struct api_request *req, const char *rest)
{
	enum MHD_Result ret;
	char session[256];
	const char *slash = strrchr(rest, '/');
	if (!slash || slash == rest || (size_t)(slash - rest) >= sizeof(session))
		return api_reply_error(c, 404, NULL, "no such path");
	snprintf(session, sizeof(session), "%.*s", (int)(slash - rest), rest);
	const char *what = slash + 1;
	json_t *o = api_body_object(c, req, &ret);
	if (!o)
		return ret;
	struct wait w;
	wait_init(&w);
	if (strcmp(what, "reserve") == 0) {
		static const char *const known[] = {"subscriber", "slice", "destination", NULL};
		bool bad;
		const char *key, *dest;
		int64_t slice;
		uint64_t imsi;
		if ((ret = unknown_members(c, o, known, &bad)), bad)
			goto out;
		if (!(key = member_str(c, o, "subscriber", 40, true, &ret)) ||
		    !(dest = member_str(c, o, "destination", 39, true, &ret)) ||
		    member_int(c, o, "slice", 0, 100000, &slice, &ret))
			goto out;
		if (api_resolve_key(srv->reg, key, &imsi) != 0) {
			ret = api_reply_error(c, 404, "subscriber", "subscriber not found");
			goto out;
		}
		wait_end(&w, ocs_call_reserve(srv->ocs, session, (unsigned)slice, imsi, dest,
		                              wait_done, &w));
		ret = status_reply(c, &w.g,
		                   json_pack("{s:s,s:i,s:s}", "session", session, "granted_seconds",
		                             (int)w.g.seconds, "message", w.g.reason));
		goto done;
	}
	if (strcmp(what, "end") == 0) {
		static const char *const known[] = {"used_seconds", NULL};
		bool bad;
		int64_t used;
		if ((ret = unknown_members(c, o, known, &bad)), bad)
			goto out;
		if (member_int(c, o, "used_seconds", 0, 100000000, &used, &ret))
			goto out;
		wait_end(&w, ocs_call_end(srv->ocs, session, (uint32_t)used, wait_done, &w));
		ret = status_reply(c, &w.g,
		                   json_pack("{s:s,s:i,s:s}", "session", session, "charged_seconds",
		                             (int)w.g.seconds, "message", w.g.reason));
		goto done;
	}
	ret = api_reply_error(c, 404, NULL, "no such path");
out:
	wait_end(&w, -1);
done:
	json_decref(o);
	return ret;
}

static enum MHD_Result sms_post(struct api_server *srv, struct MHD_Connection *c,
                                struct api_request *req)
{
	enum MHD_Result ret;
	json_t *o = api_body_object(c, req, &ret);
	if (!o)
		return ret;
	static const char *const known[] = {"op_id", "subscriber", "destination", NULL};
	bool bad;
	const char *op_id, *key, *dest;
	uint64_t imsi;
	if ((ret = unknown_members(c, o, known, &bad)), bad)
		goto out;
	if (!(op_id = member_str(c, o, "op_id", 255, true, &ret)) ||
	    !(key = member_str(c, o, "subscriber", 40, true, &ret)) ||
	    !(dest = member_str(c, o, "destination", 39, true, &ret)))
		goto out;
	if (api_resolve_key(srv->reg, key, &imsi) != 0) {
		ret = api_reply_error(c, 404, "subscriber", "subscriber not found");
		goto out;
	}
	struct wait w;
	wait_init(&w);
	wait_end(&w, ocs_sms_charge(srv->ocs, op_id, imsi, dest, 1, wait_done, &w));
	ret = status_reply(c, &w.g, json_pack("{s:s,s:s}", "op_id", op_id, "message", w.g.reason));
out:
	json_decref(o);
	return ret;
}

/* --- routing ------------------------------------------------------------------------------ */

enum MHD_Result api_charging_handle(struct api_server *srv, struct MHD_Connection *c,
                                    struct api_request *req, const char *method, const char *rest)
{
	if (!srv->ocs)
		return api_reply_error(c, 404, NULL, "charging is off");
	bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
	if (strcmp(rest, "/plans") == 0 || strcmp(rest, "/tariffs") == 0) {
		if (!get)
			return api_reply_error(c, 405, NULL, "method not allowed");
		json_t *a = json_array();
		if (rest[1] == 'p')
			ocs_plan_list(srv->ocs, plan_one, a);
		else
			ocs_tariff_list(srv->ocs, tariff_one, a);
		return api_reply_json(c, 200, json_pack("{s:o}", rest + 1, a));
	}
	if (strcmp(rest, "/ledger") == 0) {
		if (!get)
			return api_reply_error(c, 405, NULL, "method not allowed");
		return ledger_get(srv, c, NULL);
	}
	if (strcmp(rest, "/cdrs") == 0) {
		if (!get)
			return api_reply_error(c, 405, NULL, "method not allowed");
		return cdrs_get(srv, c);
	}
	if (strcmp(rest, "/audit") == 0) {
		if (!get)
			return api_reply_error(c, 405, NULL, "method not allowed");
		unsigned checked = 0;
		int differ = ocs_audit(srv->ocs, &checked);
		if (differ < 0)
			return api_reply_error(c, 500, NULL, "the store failed");
		return api_reply_json(
		    c, 200, json_pack("{s:i,s:i}", "accounts", (int)checked, "differ", differ));
	}
	if (strcmp(rest, "/voucher-batches") == 0) {
		if (get) {
			json_t *a = json_array();
			if (ocs_batch_list(srv->ocs, batch_one, a) < 0) {
				json_decref(a);
				return api_reply_error(c, 500, NULL, "the store failed");
			}
			return api_reply_json(c, 200, json_pack("{s:o}", "batches", a));
		}
		if (!post)
			return api_reply_error(c, 405, NULL, "method not allowed");
		return batch_post(srv, c, req);
	}
	if (strcmp(rest, "/organisations") == 0)
		return orgs_handle(srv, c, req, method, "");
	if (strncmp(rest, "/organisations/", 15) == 0)
		return orgs_handle(srv, c, req, method, rest + 15);
	if (strcmp(rest, "/sms") == 0) {
		if (!post)
			return api_reply_error(c, 405, NULL, "method not allowed");
		return sms_post(srv, c, req);
	}
	if (strncmp(rest, "/sessions/", 10) == 0) {
		if (!post)
			return api_reply_error(c, 405, NULL, "method not allowed");
		return session_post(srv, c, req, rest + 10);
	}
	if (strncmp(rest, "/accounts/", 10) == 0) {
		char key[64], id[24];
		const char *k = rest + 10;
		size_t n = strcspn(k, "/");
		if (n == 0 || n >= sizeof(key))
			return api_reply_error(c, 404, NULL, "no such account");
		memcpy(key, k, n);
		key[n] = '\0';
		const char *sub = k + n;
		if (account_id(srv, key, id) != 0)
			return api_reply_error(c, 404, NULL, "no such account");
		if (!*sub) {
			if (!get)
				return api_reply_error(c, 405, NULL, "method not allowed");
			return account_get(srv, c, id);
		}
		if (strcmp(sub, "/ledger") == 0) {
			if (!get)
				return api_reply_error(c, 405, NULL, "method not allowed");
			return ledger_get(srv, c, id);
		}
		if (strcmp(sub, "/topup") == 0 || strcmp(sub, "/adjustments") == 0) {
			if (!post)
				return api_reply_error(c, 405, NULL, "method not allowed");
			return sub[1] == 't' ? account_topup(srv, c, req, id)
			                     : account_adjust(srv, c, req, id);
		}
	}
	return api_reply_error(c, 404, NULL, "no such path: /v1/charging%.100s", rest);
}
