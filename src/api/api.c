/* The API server: connection handling, authentication, routing, bodies. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api_internal.h"
#include "common/clock.h"
#include "common/hex.h"
#include "common/log.h"
#include "version.h"

enum MHD_Result api_reply_text_header(struct MHD_Connection *c, unsigned status, const char *type,
                                      char *text, size_t len, const char *name, const char *value)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (name)
		MHD_add_response_header(r, name, value);
	if (status == 401)
		MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"koryo\"");
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result api_reply_text(struct MHD_Connection *c, unsigned status, const char *type,
                               char *text, size_t len)
{
	return api_reply_text_header(c, status, type, text, len, NULL, NULL);
}

enum MHD_Result api_reply_json(struct MHD_Connection *c, unsigned status, json_t *body)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : strdup("");
	json_decref(body);
	if (!text)
		return MHD_NO;
	size_t len = strlen(text);
	/* A trailing newline makes curl output readable; JSON parsers ignore it. */
	char *nl = realloc(text, len + 2);
	if (nl) {
		text = nl;
		text[len++] = '\n';
		text[len] = '\0';
	}
	return api_reply_text(c, status, "application/json", text, len);
}

enum MHD_Result api_reply_error(struct MHD_Connection *c, unsigned status, const char *field,
                                const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_t *o = json_pack("{s:s}", "error", msg);
	if (field)
		json_object_set_new(o, "field", json_string(field));
	return api_reply_json(c, status, o);
}

json_t *api_json_time(int64_t t)
{
	char buf[32];
	if (t <= 0)
		return json_null();
	clock_format_iso(t, buf, sizeof(buf));
	return json_string(buf);
}

json_t *api_json_opt(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

json_t *api_json_time_ms(int64_t ms)
{
	char buf[40];
	if (ms <= 0)
		return json_null();
	clock_format_iso(ms / 1000, buf, sizeof(buf));
	size_t n = strlen(buf);
	if (n && buf[n - 1] == 'Z')
		snprintf(buf + n - 1, sizeof(buf) - (n - 1), ".%03dZ", (int)(ms % 1000));
	return json_string(buf);
}

json_t *api_json_digits(uint64_t v)
{
	char buf[24];
	if (!v)
		return json_null();
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return json_string(buf);
}

void api_csv_field(FILE *f, const char *s, bool untrusted)
{
	bool quote = strpbrk(s, ",\"\r\n") != NULL;
	if (quote)
		fputc('"', f);
	if (untrusted && s[0] && strchr("=+-@\t\r", s[0]))
		fputc('\'', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	if (quote)
		fputc('"', f);
}

void api_csv_record(FILE *f, json_t *o, const char *const *cols, size_t n, uint64_t untrusted)
{
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_object_get(o, cols[i]);
		char num[24];
		const char *s = "";
		if (json_is_string(v)) {
			s = json_string_value(v);
		} else if (json_is_integer(v)) {
			snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
			s = num;
		} else if (json_is_boolean(v)) {
			s = json_is_true(v) ? "true" : "false";
		}
		if (i)
			fputc(',', f);
		api_csv_field(f, s, i < 64 && (untrusted >> i & 1));
	}
	fputs("\r\n", f);
}

json_t *api_body_object(struct MHD_Connection *c, struct api_request *req, enum MHD_Result *ret)
{
	json_error_t jerr;
	if (!req->body) {
		*ret = api_reply_error(c, 400, NULL, "a JSON object body is required");
		return NULL;
	}
	json_t *o = json_loadb(req->body, req->body_len, 0, &jerr);
	if (!o) {
		*ret = api_reply_error(c, 400, NULL, "invalid JSON at line %d column %d: %s",
		                       jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		*ret = api_reply_error(c, 400, NULL, "the body must be a JSON object");
		return NULL;
	}
	return o;
}

int api_actor_of(struct MHD_Connection *c, char *out, size_t cap, enum MHD_Result *ret)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Koryo-Actor");
	if (!h) {
		snprintf(out, cap, "api");
		return 0;
	}
	size_t n = strlen(h);
	if (n < 1 || n > API_ACTOR_MAX ||
	    strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-") != n) {
		*ret = api_reply_error(c, 400, "X-Koryo-Actor",
		                       "must be 1 to %d of letters, digits, '.', '_', '@', '-'",
		                       API_ACTOR_MAX);
		return -1;
	}
	snprintf(out, cap, "api:%s", h);
	return 0;
}

int api_page_args(struct MHD_Connection *c, unsigned def, unsigned max, const char *after_is,
                  unsigned *limit, int64_t *after, enum MHD_Result *ret)
{
	const char *v;
	*limit = def;
	*after = 0;
	if ((v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit"))) {
		if (!str_is_digits(v, 1, 4) || atoi(v) < 1 || (unsigned)atoi(v) > max) {
			*ret = api_reply_error(c, 400, "limit", "must be an integer from 1 to %u",
			                       max);
			return -1;
		}
		*limit = (unsigned)atoi(v);
	}
	if ((v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "after"))) {
		if (!str_is_digits(v, 1, 18)) {
			*ret = api_reply_error(c, 400, "after", "must be %s", after_is);
			return -1;
		}
		*after = strtoll(v, NULL, 10);
	}
	return 0;
}

static enum api_route route_of(const char *url)
{
	if (strcmp(url, "/health") == 0)
		return ROUTE_HEALTH;
	if (strcmp(url, "/metrics") == 0)
		return ROUTE_METRICS;
	if (strcmp(url, "/v1/subscribers") == 0)
		return ROUTE_SUBSCRIBERS;
	if (strncmp(url, "/v1/subscribers/", 16) == 0 && url[16]) {
		const char *slash = strchr(url + 16, '/');
		if (slash && slash > url + 16 && strcmp(slash, "/registrations") == 0)
			return ROUTE_REGISTRATIONS;
		return ROUTE_SUBSCRIBER;
	}
	if (strcmp(url, "/v1/calls") == 0)
		return ROUTE_CALLS;
	if (strcmp(url, "/v1/cdrs") == 0)
		return ROUTE_CDRS;
	if (strcmp(url, "/v1/policy") == 0 || strncmp(url, "/v1/policy/", 11) == 0)
		return ROUTE_POLICY;
	if (strcmp(url, "/v1/charging") == 0 || strncmp(url, "/v1/charging/", 13) == 0)
		return ROUTE_CHARGING;
	if (strcmp(url, "/v1/sms") == 0 || strncmp(url, "/v1/sms/", 8) == 0)
		return ROUTE_SMS;
	if (strcmp(url, "/v1/import/subscribers") == 0)
		return ROUTE_IMPORT;
	if (strncmp(url, "/v1/import/progress/", 20) == 0)
		return ROUTE_IMPORT_PROGRESS;
	if (strcmp(url, "/v1/network") == 0 || strcmp(url, "/v1/classes") == 0 ||
	    strcmp(url, "/v1/cities") == 0)
		return ROUTE_PROFILE;
	return ROUTE_OTHER;
}

static bool authorized(struct api_server *srv, struct MHD_Connection *c)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return false;
	h += 7;
	size_t n = strlen(srv->token);
	return strlen(h) == n && CRYPTO_memcmp(h, srv->token, n) == 0;
}

/* Collects the body of the current request; returns true when it is complete. */
static bool collect_body(struct api_server *srv, struct api_request *req, const char *data,
                         size_t *size)
{
	if (*size == 0)
		return true;
	if (req->unauthorized) {
		*size = 0;
		return false;
	}
	if (req->route == ROUTE_IMPORT) {
		if (!req->upload && !req->failed_io) {
			int fd = open(srv->tmp_dir, O_TMPFILE | O_RDWR, 0600);
			req->upload = fd >= 0 ? fdopen(fd, "w+") : NULL;
			if (!req->upload) {
				LOGE("api", "cannot spool an upload in %s: %s", srv->tmp_dir,
				     strerror(errno));
				if (fd >= 0)
					close(fd);
				req->failed_io = true;
			}
		}
		req->body_len += *size;
		if (req->body_len > API_MAX_UPLOAD)
			req->too_large = true;
		else if (req->upload && fwrite(data, 1, *size, req->upload) != *size)
			req->failed_io = true;
		api_import_progress_bytes(srv, req->progress, req->body_len);
	} else if (!req->too_large) {
		if (req->body_len + *size > API_MAX_JSON) {
			req->too_large = true;
		} else {
			char *b = realloc(req->body, req->body_len + *size + 1);
			if (!b) {
				req->failed_io = true;
			} else {
				memcpy(b + req->body_len, data, *size);
				req->body = b;
				req->body_len += *size;
				b[req->body_len] = '\0';
			}
		}
	}
	*size = 0;
	return false;
}

static enum MHD_Result dispatch(struct api_server *srv, struct MHD_Connection *c,
                                struct api_request *req, const char *url, const char *method)
{
	if (req->route == ROUTE_HEALTH) {
		if (strcmp(method, "GET") != 0)
			return api_reply_error(c, 405, NULL, "method not allowed");
		return api_reply_json(
		    c, 200, json_pack("{s:s,s:s}", "status", "ok", "version", KORYO_VERSION));
	}
	if (!authorized(srv, c))
		return api_reply_error(c, 401, NULL, "missing or invalid bearer token");
	if (req->too_large)
		return api_reply_error(c, 413, NULL, "request body too large");
	if (req->failed_io)
		return api_reply_error(c, 500, NULL, "could not receive the request body");

	switch (req->route) {
	case ROUTE_METRICS:
		if (strcmp(method, "GET") != 0)
			return api_reply_error(c, 405, NULL, "method not allowed");
		return api_metrics_handle(srv, c);
	case ROUTE_SUBSCRIBERS:
		return api_subscr_handle(srv, c, req, method, NULL);
	case ROUTE_SUBSCRIBER:
		return api_subscr_handle(srv, c, req, method, url + 16);
	case ROUTE_REGISTRATIONS:
		if (strcmp(method, "GET") != 0)
			return api_reply_error(c, 405, NULL, "method not allowed");
		return api_sip_registrations(srv, c, url + 16);
	case ROUTE_CALLS:
		if (strcmp(method, "GET") != 0)
			return api_reply_error(c, 405, NULL, "method not allowed");
		return api_sip_calls(srv, c);
	case ROUTE_CDRS:
		if (strcmp(method, "GET") != 0)
			return api_reply_error(c, 405, NULL, "method not allowed");
		return api_sip_cdrs(srv, c);
	case ROUTE_POLICY:
		return api_policy_handle(srv, c, req, method, url + 10);
	case ROUTE_CHARGING:
		return api_charging_handle(srv, c, req, method, url + 12);
	case ROUTE_SMS:
		return api_sms_handle(srv, c, req, method, url + 7);
	case ROUTE_IMPORT:
		if (strcmp(method, "POST") != 0)
			return api_reply_error(c, 405, NULL, "method not allowed");
		return api_import_handle(srv, c, req);
	case ROUTE_PROFILE:
		if (strcmp(method, "GET") != 0)
			return api_reply_error(c, 405, NULL, "method not allowed");
		return api_profile_handle(srv, c, url + 4);
	case ROUTE_IMPORT_PROGRESS:
		if (strcmp(method, "GET") != 0)
			return api_reply_error(c, 405, NULL, "method not allowed");
		return api_import_progress_handle(srv, c, url + 20);
	default:
		return api_reply_error(c, 404, NULL, "no such path: %.100s", url);
	}
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *size, void **con_cls)
{
	struct api_server *srv = cls;
	struct api_request *req = *con_cls;
	(void)version;

	if (!req) {
		req = calloc(1, sizeof(*req));
		if (!req)
			return MHD_NO;
		req->started_ns = clock_mono_ns();
		req->route = route_of(url);
		/* Decide before the body arrives, so that no one without the token can
		 * make koryod spool an upload to disk. */
		req->unauthorized = req->route != ROUTE_HEALTH && !authorized(srv, c);
		if (req->route == ROUTE_IMPORT && !req->unauthorized &&
		    strcmp(method, "POST") == 0) {
			const char *id =
			    MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Koryo-Import-Id");
			if (id)
				req->progress = api_import_progress_start(srv, id);
		}
		*con_cls = req;
		return MHD_YES;
	}
	if (!collect_body(srv, req, data, size))
		return MHD_YES;
	return dispatch(srv, c, req, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct api_server *srv = cls;
	struct api_request *req = *con_cls;
	(void)c;
	(void)toe;
	if (!req)
		return;
	histogram_observe(&srv->latency[req->route], clock_mono_ns() - req->started_ns);
	/* Refused before the handler ran (413, a failed spool) or cut off. */
	api_import_progress_end(srv, req->progress, API_IMPORT_FAILED, 0);
	if (req->upload)
		fclose(req->upload);
	free(req->body);
	free(req);
	*con_cls = NULL;
}

/* libmicrohttpd's own complaints (bad requests, resource limits) go to our log. */
static void on_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	LOGW("api", "%s", msg);
}

int api_start(const struct api_options *opt, struct hlr_registry *reg, struct api_server **out)
{
	struct api_server *srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->reg = reg;
	srv->workers = opt->workers;
	srv->gsup = opt->gsup;
	srv->sip = opt->sip;
	srv->sip_core = opt->sip_core;
	srv->policy = opt->policy;
	srv->ocs = opt->ocs;
	srv->sms_rules = opt->sms_rules;
	srv->smsc = opt->smsc;
	srv->queue = opt->queue;
	snprintf(srv->token, sizeof(srv->token), "%s", opt->token);
	snprintf(srv->tmp_dir, sizeof(srv->tmp_dir), "%s", opt->tmp_dir);
	if (pthread_mutex_init(&srv->imports.lock, NULL) != 0) {
		free(srv);
		return -ENOMEM;
	}

	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(opt->port)};
	if (inet_pton(AF_INET, opt->host, &addr.sin_addr) != 1) {
		pthread_mutex_destroy(&srv->imports.lock);
		free(srv);
		return -EINVAL;
	}
	srv->daemon = MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG, opt->port, NULL,
	    NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_log, srv, MHD_OPTION_SOCK_ADDR,
	    (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE, opt->threads,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)0, MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1, MHD_OPTION_END);
	if (!srv->daemon) {
		LOGE("api", "cannot listen on %s:%u", opt->host, opt->port);
		OPENSSL_cleanse(srv->token, sizeof(srv->token));
		pthread_mutex_destroy(&srv->imports.lock);
		free(srv);
		return -EADDRINUSE;
	}
	LOGN("api", "listening on http://%s:%u/", opt->host, opt->port);
	*out = srv;
	return 0;
}

void api_stop(struct api_server *srv)
{
	if (!srv)
		return;
	MHD_stop_daemon(srv->daemon);
	OPENSSL_cleanse(srv->token, sizeof(srv->token));
	pthread_mutex_destroy(&srv->imports.lock);
	free(srv);
}
