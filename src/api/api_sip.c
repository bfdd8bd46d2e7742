/* The SIP service core as the operator sees it (docs/api.md): a subscriber's
 * registrations, the calls up now, and the call detail records, in JSON or,
 * for the records, CSV. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_internal.h"
#include "common/clock.h"
#include "common/hex.h"
#include "hlr/registry.h"
#include "sip/sip_core.h"

#define CDR_PAGE_DEFAULT 100
#define CDR_PAGE_MAX     1000

static enum MHD_Result sip_off(struct MHD_Connection *c)
{
	return api_reply_error(c, 404, NULL, "SIP is off (sip.listen = off)");
}

/* Unix milliseconds on koryod's clock (clock_now(), which tests may move). */
static int64_t now_ms(void)
{
	struct timespec ts, again;
	int64_t offset_s;
	/* clock_now() reads the second between the two: the same one if they agree. */
	do {
		clock_gettime(CLOCK_REALTIME, &ts);
		offset_s = clock_now() - (int64_t)ts.tv_sec;
		clock_gettime(CLOCK_REALTIME, &again);
	} while (again.tv_sec != ts.tv_sec);
	return ((int64_t)ts.tv_sec + offset_s) * 1000 + ts.tv_nsec / 1000000;
}

/* "2026-11-22T11:00:00.123Z"; 0 (never) as "". */
static void format_ms(int64_t ms, char *out, size_t cap)
{
	out[0] = '\0';
	if (ms <= 0)
		return;
	clock_format_iso(ms / 1000, out, cap);
	size_t n = strlen(out);
	if (n && out[n - 1] == 'Z')
		snprintf(out + n - 1, cap - (n - 1), ".%03dZ", (int)(ms % 1000));
}

static json_t *json_time_ms(int64_t ms)
{
	char buf[40];
	format_ms(ms, buf, sizeof(buf));
	return buf[0] ? json_string(buf) : json_null();
}

/* IMSIs and MSISDNs are strings, as in the subscriber's JSON; 0 is none. */
static json_t *json_number_id(uint64_t v)
{
	char buf[24];
	if (!v)
		return json_null();
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return json_string(buf);
}

/* --- registrations ---------------------------------------------------------- */

enum MHD_Result api_sip_registrations(struct api_server *srv, struct MHD_Connection *c,
                                      const char *path)
{
	if (!srv->sip_core)
		return sip_off(c);
	/* A key is at most "iccid:" and 22 digits: a longer one names no one. */
	char key[64];
	size_t n = strcspn(path, "/");
	uint64_t imsi;
	if (n >= sizeof(key))
		return api_reply_error(c, 404, NULL, "subscriber not found");
	memcpy(key, path, n);
	key[n] = '\0';
	if (api_resolve_key(srv->reg, key, &imsi) != 0)
		return api_reply_error(c, 404, NULL, "subscriber not found");

	struct sip_registration_info *ri = calloc(1, sizeof(*ri));
	if (!ri)
		return api_reply_error(c, 500, NULL, "out of memory");
	if (sip_core_registrations(srv->sip_core, imsi, ri) != 0) {
		free(ri);
		return api_reply_error(c, 500, NULL, "the SIP core could not list the bindings");
	}
	int64_t now = clock_now();
	json_t *bindings = json_array();
	for (unsigned i = 0; i < ri->n_bindings && i < SIP_MAX_BINDINGS; i++) {
		const struct sip_binding_info *b = &ri->bindings[i];
		/* Bound to their arrays by the core, but never trusted to be. */
		char contact[SIP_CONTACT_MAX], source[sizeof(b->source)], p[SIP_CONTACT_MAX];
		snprintf(contact, sizeof(contact), "%.*s", (int)sizeof(b->contact) - 1, b->contact);
		snprintf(source, sizeof(source), "%.*s", (int)sizeof(b->source) - 1, b->source);
		snprintf(p, sizeof(p), "%.*s", (int)sizeof(b->path) - 1, b->path);
		json_array_append_new(
		    bindings,
		    json_pack("{s:s,s:s,s:o,s:I,s:o}", "contact", contact, "source", source,
		              "expires_at", api_json_time(b->expires_at), "expires_in",
		              (json_int_t)(b->expires_at > now ? b->expires_at - now : 0), "path",
		              api_json_opt(p)));
	}
	char imsi_s[24], cell[SIP_CELL_MAX];
	hlr_imsi_format(imsi, imsi_s);
	snprintf(cell, sizeof(cell), "%.*s", (int)sizeof(ri->cell) - 1, ri->cell);
	json_t *o = json_pack("{s:s,s:o,s:o,s:o}", "imsi", imsi_s, "cell", api_json_opt(cell),
	                      "cell_at", api_json_time(ri->cell_at), "bindings", bindings);
	free(ri);
	if (!o)
		return api_reply_error(c, 500, NULL, "out of memory");
	return api_reply_json(c, 200, o);
}

/* --- calls ------------------------------------------------------------------ */

/* Copied out under the core's lock, turned into JSON after it. */
struct calls_ctx {
	struct sip_call_info *v;
	size_t n, cap;
	bool oom;
};

static void call_one(void *ctx_, const struct sip_call_info *ci)
{
	struct calls_ctx *ctx = ctx_;
	if (ctx->oom)
		return;
	if (ctx->n == ctx->cap) {
		size_t cap = ctx->cap ? ctx->cap * 2 : 64;
		struct sip_call_info *v = realloc(ctx->v, cap * sizeof(*v));
		if (!v) {
			ctx->oom = true;
			return;
		}
		ctx->v = v;
		ctx->cap = cap;
	}
	ctx->v[ctx->n++] = *ci;
}

static int call_cmp(const void *a_, const void *b_)
{
	const struct sip_call_info *a = a_, *b = b_;
	if (a->started_ms != b->started_ms)
		return a->started_ms < b->started_ms ? -1 : 1;
	return strncmp(a->call_id, b->call_id, sizeof(a->call_id));
}

/* The strings of a call or CDR, terminated within their arrays. */
#define FIXED(field) "%.*s", (int)sizeof(field) - 1, field

static json_t *call_json(const struct sip_call_info *ci, int64_t now)
{
	char call_id[sizeof(ci->call_id)], caller_cell[SIP_CELL_MAX], callee_cell[SIP_CELL_MAX];
	snprintf(call_id, sizeof(call_id), FIXED(ci->call_id));
	snprintf(caller_cell, sizeof(caller_cell), FIXED(ci->caller_cell));
	snprintf(callee_cell, sizeof(callee_cell), FIXED(ci->callee_cell));
	int64_t talk = ci->answered && ci->answered_ms && now > ci->answered_ms
	                   ? (now - ci->answered_ms) / 1000
	                   : 0;
	json_t *o = json_object();
	json_object_set_new(o, "call_id", json_string(call_id));
	json_object_set_new(o, "state", json_string(ci->answered ? "answered" : "ringing"));
	json_object_set_new(o, "caller_msisdn", json_number_id(ci->caller_msisdn));
	json_object_set_new(o, "caller_imsi", json_number_id(ci->caller_imsi));
	json_object_set_new(o, "caller_cell", api_json_opt(caller_cell));
	json_object_set_new(o, "callee_msisdn", json_number_id(ci->callee_msisdn));
	json_object_set_new(o, "callee_imsi", json_number_id(ci->callee_imsi));
	json_object_set_new(o, "callee_cell", api_json_opt(callee_cell));
	json_object_set_new(o, "started_at", json_time_ms(ci->started_ms));
	json_object_set_new(o, "answered_at", json_time_ms(ci->answered ? ci->answered_ms : 0));
	json_object_set_new(o, "duration_s", json_integer((json_int_t)talk));
	return o;
}

enum MHD_Result api_sip_calls(struct api_server *srv, struct MHD_Connection *c)
{
	if (!srv->sip_core)
		return sip_off(c);
	struct calls_ctx ctx = {0};
	sip_core_calls(srv->sip_core, call_one, &ctx);
	if (ctx.oom) {
		free(ctx.v);
		return api_reply_error(c, 500, NULL, "out of memory");
	}
	if (ctx.n > 1)
		qsort(ctx.v, ctx.n, sizeof(*ctx.v), call_cmp);
	int64_t now = now_ms();
	json_t *calls = json_array();
	for (size_t i = 0; i < ctx.n; i++)
		json_array_append_new(calls, call_json(&ctx.v[i], now));
	free(ctx.v);
	return api_reply_json(c, 200, json_pack("{s:o}", "calls", calls));
}

/* --- call detail records ---------------------------------------------------- */

/* The members of a CDR, in the order of the JSON and of the CSV columns. */
static const char *const cdr_columns[] = {
    "id",          "call_id",     "caller_msisdn", "caller_imsi", "caller_cell", "callee_msisdn",
    "callee_imsi", "callee_cell", "started_at",    "answered_at", "ended_at",    "duration_s",
    "duration_ms", "status",      "cause",
};
#define CDR_COLUMNS (sizeof(cdr_columns) / sizeof(cdr_columns[0]))

/* Time talked: from the answer to the end; 0 for a call never answered. */
static int64_t cdr_duration_ms(const struct sip_cdr *r)
{
	return r->answer_ms > 0 && r->end_ms > r->answer_ms ? r->end_ms - r->answer_ms : 0;
}

static json_t *cdr_json(const struct sip_cdr *r)
{
	char call_id[sizeof(r->call_id)], caller_cell[SIP_CELL_MAX], callee_cell[SIP_CELL_MAX];
	char cause[sizeof(r->cause)];
	snprintf(call_id, sizeof(call_id), FIXED(r->call_id));
	snprintf(caller_cell, sizeof(caller_cell), FIXED(r->caller_cell));
	snprintf(callee_cell, sizeof(callee_cell), FIXED(r->callee_cell));
	snprintf(cause, sizeof(cause), FIXED(r->cause));
	int64_t talk = cdr_duration_ms(r);
	json_t *v[CDR_COLUMNS] = {
	    json_integer((json_int_t)r->id),
	    json_string(call_id),
	    json_number_id(r->caller_msisdn),
	    json_number_id(r->caller_imsi),
	    api_json_opt(caller_cell),
	    json_number_id(r->callee_msisdn),
	    json_number_id(r->callee_imsi),
	    api_json_opt(callee_cell),
	    json_time_ms(r->start_ms),
	    json_time_ms(r->answer_ms),
	    json_time_ms(r->end_ms),
	    json_integer((json_int_t)(talk / 1000)),
	    json_integer((json_int_t)talk),
	    json_integer(r->status),
	    json_string(cause),
	};
	json_t *o = json_object();
	for (size_t i = 0; i < CDR_COLUMNS; i++)
		json_object_set_new(o, cdr_columns[i], v[i]);
	return o;
}

/* A CDR as a CSV record: the JSON's members in the same order, null empty. */
static void cdr_csv(FILE *f, const struct sip_cdr *r)
{
	json_t *o = cdr_json(r);
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
			fputc(',', f);
		api_csv_field(f, s,
		              strcmp(cdr_columns[i], "call_id") == 0 ||
		                  strstr(cdr_columns[i], "_cell") != NULL);
	}
	fputs("\r\n", f);
	json_decref(o);
}

struct cdrs_ctx {
	unsigned limit, shown;
	int64_t last;
	json_t *items; /* JSON, or */
	FILE *csv;     /* CSV */
};

/* As for subscribers, one record more than the page is asked for, to know
 * whether another page follows; it is not shown. */
static void cdr_one(void *ctx_, const struct sip_cdr *r)
{
	struct cdrs_ctx *ctx = ctx_;
	if (ctx->shown == ctx->limit)
		return;
	if (ctx->csv)
		cdr_csv(ctx->csv, r);
	else
		json_array_append_new(ctx->items, cdr_json(r));
	ctx->shown++;
	ctx->last = r->id;
}

/* The CDRs are read from the store, not from the core: they stay readable
 * when SIP has been turned off. */
enum MHD_Result api_sip_cdrs(struct api_server *srv, struct MHD_Connection *c)
{
	const char *v;
	unsigned limit;
	int64_t after;
	bool csv = false;
	enum MHD_Result ret;
	if (api_page_args(c, CDR_PAGE_DEFAULT, CDR_PAGE_MAX, "a CDR id (a non-negative integer)",
	                  &limit, &after, &ret) != 0)
		return ret;
	if ((v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "format"))) {
		if (strcmp(v, "csv") == 0)
			csv = true;
		else if (strcmp(v, "json") != 0)
			return api_reply_error(c, 400, "format", "must be json or csv");
	}

	struct cdrs_ctx ctx = {.limit = limit};
	char *text = NULL;
	size_t len = 0;
	if (csv) {
		if (!(ctx.csv = open_memstream(&text, &len)))
			return api_reply_error(c, 500, NULL, "out of memory");
		for (size_t i = 0; i < CDR_COLUMNS; i++)
			fprintf(ctx.csv, "%s%s", i ? "," : "", cdr_columns[i]);
		fputs("\r\n", ctx.csv);
	} else if (!(ctx.items = json_array())) {
		return api_reply_error(c, 500, NULL, "out of memory");
	}
	int n = sip_cdr_list(hlr_registry_store(srv->reg), after, limit + 1, cdr_one, &ctx);
	bool more = n > 0 && (unsigned)n > limit;
	if (csv) {
		bool failed = fclose(ctx.csv) != 0;
		if (n < 0 || failed) {
			free(text);
			return api_reply_error(c, 500, NULL,
			                       n < 0 ? "the store failed" : "out of memory");
		}
		/* The cursor of the next page, where a CSV body has no room for it. */
		char next[24];
		snprintf(next, sizeof(next), "%" PRId64, ctx.last);
		return api_reply_text_header(c, 200, "text/csv; charset=utf-8; header=present",
		                             text, len, more ? "X-Koryo-Next-After" : NULL, next);
	}
	if (n < 0) {
		json_decref(ctx.items);
		return api_reply_error(c, 500, NULL, "the store failed");
	}
	return api_reply_json(c, 200,
	                      json_pack("{s:o,s:o}", "cdrs", ctx.items, "next_after",
	                                more ? json_integer((json_int_t)ctx.last) : json_null()));
}
