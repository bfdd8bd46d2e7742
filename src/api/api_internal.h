#pragma once
/* Shared between the API's files: the server, a request, and response helpers. */

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stdio.h>

#include "api/api.h"
#include "common/histogram.h"

enum api_route {
	ROUTE_HEALTH,
	ROUTE_METRICS,
	ROUTE_SUBSCRIBERS,
	ROUTE_SUBSCRIBER,
	ROUTE_IMPORT,
	ROUTE_PROFILE,
	ROUTE_OTHER,
	ROUTE_COUNT
};

struct api_server {
	struct MHD_Daemon *daemon;
	struct hlr_registry *reg;
	char token[128];
	char tmp_dir[4096];
	unsigned workers;
	struct gsup_server *gsup;
	struct store_queue *queue;
	struct histogram latency[ROUTE_COUNT];
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
};

#define API_MAX_JSON   (64 * 1024)
#define API_MAX_UPLOAD (8ULL * 1024 * 1024 * 1024)

/* Queue a response; each returns the MHD result to hand back to MHD. */
enum MHD_Result api_reply_json(struct MHD_Connection *c, unsigned status, json_t *body);
enum MHD_Result api_reply_error(struct MHD_Connection *c, unsigned status, const char *field,
                                const char *fmt, ...) __attribute__((format(printf, 4, 5)));
enum MHD_Result api_reply_text(struct MHD_Connection *c, unsigned status, const char *type,
                               char *text, size_t len); /* takes ownership of text */

/* Handlers by area. method is the HTTP method, rest is the path after the prefix. */
enum MHD_Result api_subscr_handle(struct api_server *srv, struct MHD_Connection *c,
                                  struct api_request *req, const char *method, const char *key);
enum MHD_Result api_import_handle(struct api_server *srv, struct MHD_Connection *c,
                                  struct api_request *req);
enum MHD_Result api_profile_handle(struct api_server *srv, struct MHD_Connection *c,
                                   const char *what);
enum MHD_Result api_metrics_handle(struct api_server *srv, struct MHD_Connection *c);
