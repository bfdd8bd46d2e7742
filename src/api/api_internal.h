#pragma once
/* Shared between the API's files: the server, a request, and response helpers. */

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "api/api.h"
#include "common/histogram.h"

enum api_route {
	ROUTE_HEALTH,
	ROUTE_METRICS,
	ROUTE_SUBSCRIBERS,
	ROUTE_SUBSCRIBER,
	ROUTE_IMPORT,
	ROUTE_IMPORT_PROGRESS,
	ROUTE_PROFILE,
	ROUTE_REGISTRATIONS,
	ROUTE_CALLS,
	ROUTE_CDRS,
	ROUTE_POLICY,   /* /v1/policy/... (api_policy.c) */
	ROUTE_CHARGING, /* /v1/charging/... (api_charging.c) */
	ROUTE_SMS,      /* /v1/sms/... (api_sms.c) */
	ROUTE_OTHER,
	ROUTE_COUNT
};

/* The progress of the imports that named themselves (X-Koryo-Import-Id), so
 * that a client can show it while POST /v1/import/subscribers is pending
 * (GET /v1/import/progress/{id}). The table is small and fixed: a client
 * that finds it full simply gets no progress, the import itself is never
 * refused for it. A slot belongs to its request until the import ends (only
 * that request writes it, under the lock); an ended slot is kept for
 * API_IMPORT_KEEP_NS, then freed by the next start or lookup. */
#define API_IMPORT_SLOTS   64
#define API_IMPORT_KEEP_NS (60ULL * 1000000000ULL)
#define API_IMPORT_ID_MIN  16
#define API_IMPORT_ID_MAX  64

enum api_import_phase {
	API_IMPORT_RECEIVING, /* the body is being spooled */
	API_IMPORT_CHECKING,  /* rows = rows checked */
	API_IMPORT_WRITING,   /* rows = rows written */
	API_IMPORT_DONE,      /* rows = rows imported */
	API_IMPORT_FAILED     /* refused or failed; nothing imported */
};

struct api_import_progress {
	char id[API_IMPORT_ID_MAX + 1]; /* "" when the slot is free */
	enum api_import_phase phase;
	uint64_t rows;
	uint64_t bytes;    /* of the body received */
	uint64_t ended_ns; /* clock_mono_ns() when it ended, 0 while it runs */
};

struct api_import_table {
	pthread_mutex_t lock;
	struct api_import_progress slot[API_IMPORT_SLOTS];
};

struct api_server {
	struct MHD_Daemon *daemon;
	struct hlr_registry *reg;
	char token[128];
	char tmp_dir[4096];
	unsigned workers;
	struct gsup_server *gsup;
	struct sip_server *sip;
	struct sip_core *sip_core;
	struct policy *policy;       /* NULL: the policy endpoints answer 404 */
	struct ocs *ocs;             /* NULL: the charging endpoints answer 404 */
	struct sms_rules *sms_rules; /* NULL: the SMS rules endpoints answer 404 */
	struct smsc *smsc;           /* NULL: the SMS centre endpoints answer 404 */
	struct store_queue *queue;
	struct histogram latency[ROUTE_COUNT];
	struct api_import_table imports;
};

/* One request's state, from its first callback to its completion. */
struct api_request {
	uint64_t started_ns;
	enum api_route route;
	char *body; /* JSON bodies: at most API_MAX_JSON bytes */
	size_t body_len;
	FILE *upload; /* import bodies: spooled to an unlinked file */
	bool too_large;
	bool unauthorized; /* known from the headers: the body is discarded unread */
	bool failed_io;
	struct api_import_progress *progress; /* its slot while the import runs, or NULL */
};

#define API_MAX_JSON   (64 * 1024)
#define API_MAX_UPLOAD (8ULL * 1024 * 1024 * 1024)

/* Queue a response; each returns the MHD result to hand back to MHD. */
enum MHD_Result api_reply_json(struct MHD_Connection *c, unsigned status, json_t *body);
enum MHD_Result api_reply_error(struct MHD_Connection *c, unsigned status, const char *field,
                                const char *fmt, ...) __attribute__((format(printf, 4, 5)));
enum MHD_Result api_reply_text(struct MHD_Connection *c, unsigned status, const char *type,
                               char *text, size_t len); /* takes ownership of text */
/* As api_reply_text, with one more header when name is not NULL. */
enum MHD_Result api_reply_text_header(struct MHD_Connection *c, unsigned status, const char *type,
                                      char *text, size_t len, const char *name, const char *value);

/* JSON helpers shared by the handlers: a time (unix seconds) as ISO 8601
 * UTC or null when not set (<= 0); a string or null when NULL or empty; the
 * request's body as a JSON object, or NULL with a 400 queued in *ret. */
json_t *api_json_time(int64_t t);
json_t *api_json_opt(const char *s);
/* A time in unix milliseconds as ISO 8601 UTC with milliseconds
 * ("2026-11-22T11:00:00.123Z"), or null when not set (<= 0). */
json_t *api_json_time_ms(int64_t ms);
/* An IMSI or MSISDN as a string of digits (as the subscriber's JSON shows
 * them: they overflow a JSON number's safe range), or null for 0 (none). */
json_t *api_json_digits(uint64_t v);
json_t *api_body_object(struct MHD_Connection *c, struct api_request *req, enum MHD_Result *ret);

/* One CSV field (RFC 4180 quoting); a field from a phone (untrusted) that a
 * spreadsheet would run as a formula gets a leading '. */
void api_csv_field(FILE *f, const char *s, bool untrusted);
/* One record of a CSV export (RFC 4180, CRLF): the members cols[0..n) of o
 * in that order, strings as they are, integers in decimal, null and others
 * empty. Fields holding a comma, a quote or a line break are quoted, their
 * quotes doubled. A column whose bit is set in untrusted holds what a phone
 * sent: starting with = + - @ tab or CR it gets a leading ', so that a
 * spreadsheet shows it instead of running it as a formula. */
void api_csv_record(FILE *f, json_t *o, const char *const *cols, size_t n, uint64_t untrusted);

/* A paged list's ?limit= (1..max, default def) and ?after= (an id, 0 when
 * absent; after_is says what it is for the error: "a sequence number").
 * 0, or -1 with a 400 naming the field queued in *ret. */
int api_page_args(struct MHD_Connection *c, unsigned def, unsigned max, const char *after_is,
                  unsigned *limit, int64_t *after, enum MHD_Result *ret);

/* Who an audited change names: "api", or "api:" and the X-Koryo-Actor
 * header (1 to API_ACTOR_MAX letters, digits, '.', '_', '@', '-': it goes
 * into logs and the store). 0, or -1 with a 400 queued in *ret. */
#define API_ACTOR_MAX 64
int api_actor_of(struct MHD_Connection *c, char *out, size_t cap, enum MHD_Result *ret);

/* Resolves a subscriber {key}: an IMSI, msisdn:<digits> or iccid:<digits>.
 * 0 with the IMSI, or -ENOENT. */
struct hlr_registry;
int api_resolve_key(struct hlr_registry *reg, const char *key, uint64_t *imsi);

/* Handlers by area. method is the HTTP method, rest is the path after the prefix. */
enum MHD_Result api_subscr_handle(struct api_server *srv, struct MHD_Connection *c,
                                  struct api_request *req, const char *method, const char *key);
enum MHD_Result api_import_handle(struct api_server *srv, struct MHD_Connection *c,
                                  struct api_request *req);

/* api_import_progress_start: takes a slot for the import named id (the value of
 * X-Koryo-Import-Id), phase receiving. Returns the slot, owned by the caller
 * until api_import_progress_end; NULL (the import runs without progress) when
 * id is not 16-64 of [A-Za-z0-9_-], an import of that id is running, or every
 * slot is taken. */
struct api_import_progress *api_import_progress_start(struct api_server *srv, const char *id);
/* api_import_progress_bytes: the body received so far. p may be NULL. */
void api_import_progress_bytes(struct api_server *srv, struct api_import_progress *p,
                               uint64_t bytes);
/* api_import_progress_end: the import ended: phase done with the rows imported,
 * or failed (rows stays what was reached; the rows argument is ignored);
 * the slot is kept a minute for late readers, then reused. p may be NULL. */
void api_import_progress_end(struct api_server *srv, struct api_import_progress *p,
                             enum api_import_phase phase, uint64_t rows);
/* GET /v1/import/progress/{id}. */
enum MHD_Result api_import_progress_handle(struct api_server *srv, struct MHD_Connection *c,
                                           const char *id);
enum MHD_Result api_profile_handle(struct api_server *srv, struct MHD_Connection *c,
                                   const char *what);
enum MHD_Result api_metrics_handle(struct api_server *srv, struct MHD_Connection *c);

/* The SIP service core (api_sip.c): GET /v1/subscribers/{key}/registrations
 * (path is "{key}/registrations"), /v1/calls and /v1/cdrs. */
enum MHD_Result api_sip_registrations(struct api_server *srv, struct MHD_Connection *c,
                                      const char *path);
enum MHD_Result api_sip_calls(struct api_server *srv, struct MHD_Connection *c);
enum MHD_Result api_sip_cdrs(struct api_server *srv, struct MHD_Connection *c);

/* The policy engine (api_policy.c): every path under /v1/policy; rest is the
 * path after "/v1/policy" ("" or "/..."). */
enum MHD_Result api_policy_handle(struct api_server *srv, struct MHD_Connection *c,
                                  struct api_request *req, const char *method, const char *rest);
/* Online charging (api_charging.c): every path under /v1/charging. */
enum MHD_Result api_charging_handle(struct api_server *srv, struct MHD_Connection *c,
                                    struct api_request *req, const char *method, const char *rest);
/* The SMS content rules and the SMS centre (api_sms.c): every path under
 * /v1/sms; rest is the path after "/v1/sms" ("" or "/..."). */
enum MHD_Result api_sms_handle(struct api_server *srv, struct MHD_Connection *c,
                               struct api_request *req, const char *method, const char *rest);
