/* libcurl wrapper: where koryod is, the bearer token, and turning transport
 * failures into one clear message and exit code 3. */
#include "cli/http.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "version.h"

#define CLI_DEFAULT_API  "http://127.0.0.1:8080"
#define CLI_SYSTEM_TOKEN "/var/lib/koryo/api.token"
#define CLI_DEMO_TOKEN   "./var/api.token"
/* A page of 1000 subscribers is well under 1 MiB; anything near this cap is
 * not koryod. */
#define CLI_REPLY_MAX (64u << 20)
#define CLI_TOKEN_MAX 4096
/* The watch GET of an upload: how often, and how long one may take before it
 * is dropped and the next one tried on a new connection. koryod answers it
 * at once, unless the connection it came on is served by the same API thread
 * as the upload (each thread keeps the connections it accepted), which is
 * then busy with the import until it answers: a new connection goes to an
 * idle thread. Its answer is a few dozen bytes. */
#define CLI_WATCH_INTERVAL_MS 250
#define CLI_WATCH_TIMEOUT_MS  1000L
#define CLI_WATCH_REPLY_MAX   4096

struct cli_http {
	CURL *curl;
	char *base;       /* API base URL, no trailing '/' */
	char *token_path; /* where the token came from, for messages */
	char *auth;       /* "Authorization: Bearer <token>", wiped on close */
	char errbuf[CURL_ERROR_SIZE];
};

struct body {
	char *p;
	size_t len, cap;
};

struct upload {
	FILE *f;
	int err; /* errno of a failed read, 0 if none */
	cli_http_progress_fn *progress;
	void *progress_arg;
	curl_off_t size;
	const struct cli_http_upload_extra *extra; /* NULL if none */
};

/* The watch GET beside an upload: one easy handle, re-added to the upload's
 * multi handle for each GET, so that it keeps its connection. */
struct watch {
	CURL *curl;
	struct curl_slist *hdrs;
	char *url;
	struct body b;
	bool busy;        /* a GET is in flight */
	uint64_t next_ms; /* when to send the next one (monotonic) */
};

void cli_reply_free(struct cli_reply *r)
{
	json_decref(r->json);
	r->json = NULL;
}

char *cli_http_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = malloc(strlen(s) * 3 + 1), *o = out;

	if (!out)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || strchr("-._~:", *p)) {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return out;
}

/* Picks the token file: --token-file, $KORYO_TOKEN_FILE, the system path if it
 * exists, the demo's ./var/api.token if that exists, else the system path (so
 * the error names where a token was expected). *searched tells the caller
 * that no explicit path was given. */
static const char *token_path(const struct cli_ctx *ctx, bool *searched)
{
	const char *env = getenv("KORYO_TOKEN_FILE");

	*searched = false;
	if (ctx->token_file)
		return ctx->token_file;
	if (env && *env)
		return env;
	*searched = true;
	if (access(CLI_SYSTEM_TOKEN, F_OK) == 0)
		return CLI_SYSTEM_TOKEN;
	if (access(CLI_DEMO_TOKEN, F_OK) == 0)
		return CLI_DEMO_TOKEN;
	return CLI_SYSTEM_TOKEN;
}

/* Reads the token (surrounding whitespace stripped) into h->auth. Returns 0
 * or CLI_EXIT_UNREACHABLE after printing why; never prints the token. */
static int token_load(struct cli_http *h, const struct cli_ctx *ctx)
{
	bool searched;
	const char *path = token_path(ctx, &searched);
	char buf[CLI_TOKEN_MAX + 1];
	size_t n = 0;
	FILE *f;
	int rc = CLI_EXIT_UNREACHABLE;

	h->token_path = strdup(path);
	if (!h->token_path) {
		fprintf(stderr, "koryo: out of memory\n");
		return rc;
	}
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "koryo: cannot read token file %s: %s%s\n", path, strerror(errno),
		        searched ? " (nor " CLI_DEMO_TOKEN
		                   "; give --token-file or set KORYO_TOKEN_FILE)"
		                 : "");
		return rc;
	}
	n = fread(buf, 1, sizeof(buf), f);
	if (ferror(f)) {
		fprintf(stderr, "koryo: cannot read token file %s: %s\n", path, strerror(errno));
		goto out;
	}
	if (n > CLI_TOKEN_MAX) {
		fprintf(stderr, "koryo: token file %s is too long to hold a token\n", path);
		goto out;
	}
	buf[n] = '\0';

	char *t = buf, *end = buf + n;
	while (t < end && isspace((unsigned char)*t))
		t++;
	while (end > t && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';
	if (t == end) {
		fprintf(stderr, "koryo: token file %s is empty\n", path);
		goto out;
	}
	/* A token goes into a header line: anything but visible ASCII could
	 * smuggle a header, and is not a token koryod made anyway. */
	for (const char *p = t; p < end; p++) {
		if (!isgraph((unsigned char)*p)) {
			fprintf(stderr, "koryo: token file %s does not hold a token\n", path);
			goto out;
		}
	}
	if (asprintf(&h->auth, "Authorization: Bearer %s", t) < 0) {
		h->auth = NULL;
		fprintf(stderr, "koryo: out of memory\n");
		goto out;
	}
	rc = 0;
out:
	explicit_bzero(buf, sizeof(buf));
	fclose(f);
	return rc;
}

/* Opens ctx->http on first use. Returns 0 or an exit code after printing why. */
static int http_open(struct cli_ctx *ctx)
{
	struct cli_http *h;
	const char *api = ctx->api;
	int rc;

	if (ctx->http)
		return 0;
	if (!api) {
		api = getenv("KORYO_API");
		if (!api || !*api)
			api = CLI_DEFAULT_API;
	}
	if (strncasecmp(api, "http://", 7) != 0 && strncasecmp(api, "https://", 8) != 0) {
		fprintf(stderr, "koryo: API URL '%s' must start with http:// or https://\n", api);
		return CLI_EXIT_USAGE;
	}
	h = calloc(1, sizeof(*h));
	if (!h || !(h->base = strdup(api)) || !(h->curl = curl_easy_init())) {
		fprintf(stderr, "koryo: out of memory\n");
		if (h)
			free(h->base);
		free(h);
		return CLI_EXIT_UNREACHABLE;
	}
	ctx->http = h;
	for (size_t n = strlen(h->base); n > 0 && h->base[n - 1] == '/'; n--)
		h->base[n - 1] = '\0';
	rc = token_load(h, ctx);
	if (rc)
		cli_http_close(ctx);
	return rc;
}

void cli_http_close(struct cli_ctx *ctx)
{
	struct cli_http *h = ctx->http;

	if (!h)
		return;
	if (h->curl)
		curl_easy_cleanup(h->curl);
	if (h->auth) {
		explicit_bzero(h->auth, strlen(h->auth));
		free(h->auth);
	}
	free(h->token_path);
	free(h->base);
	free(h);
	ctx->http = NULL;
}

static size_t body_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct body *b = arg;
	size_t n = size * nmemb;

	if (b->len + n + 1 > CLI_REPLY_MAX)
		return 0; /* CURLE_WRITE_ERROR */
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p)
			return 0;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

static size_t upload_read(char *buf, size_t size, size_t nmemb, void *arg)
{
	struct upload *u = arg;
	size_t n = fread(buf, size, nmemb, u->f);

	if (n == 0 && ferror(u->f)) {
		u->err = errno ? errno : EIO;
		return CURL_READFUNC_ABORT;
	}
	if (u->extra && u->extra->read)
		u->extra->read(u->extra->arg, buf, n * size);
	return n;
}

static int upload_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                           curl_off_t ulnow)
{
	struct upload *u = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	if (u->progress)
		u->progress(u->progress_arg, ulnow, u->size);
	return 0;
}

/* Options common to every request. */
static void setup(struct cli_http *h, const char *url, struct curl_slist *hdrs, struct body *b)
{
	CURL *c = h->curl;

	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "koryo/" KORYO_VERSION);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	/* Only the connect is bounded: a 1 M row import may legitimately keep
	 * koryod busy for minutes before it answers. Keepalive notices a peer
	 * that died meanwhile. */
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	h->errbuf[0] = '\0';
}

/* Turns the outcome of curl_easy_perform into a reply or an exit code. */
static int finish(struct cli_http *h, CURLcode cc, struct body *b, struct cli_reply *r)
{
	long status = 0;

	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
	/* koryod may answer an upload early (a bad header line) and close while
	 * curl is still sending: the answer is what matters then. */
	if (cc != CURLE_OK && !(status >= 400 && b->len > 0)) {
		long oserr = 0;
		curl_easy_getinfo(h->curl, CURLINFO_OS_ERRNO, &oserr);
		if (cc == CURLE_COULDNT_CONNECT && oserr == ECONNREFUSED)
			fprintf(stderr,
			        "koryo: cannot reach koryod at %s: connection refused"
			        " (is koryod running? see --api and KORYO_API)\n",
			        h->base);
		else if (cc == CURLE_WRITE_ERROR)
			fprintf(stderr, "koryo: the reply from %s is too large to be koryod's\n",
			        h->base);
		else
			fprintf(stderr, "koryo: cannot reach koryod at %s: %s\n", h->base,
			        h->errbuf[0] ? h->errbuf : curl_easy_strerror(cc));
		return CLI_EXIT_UNREACHABLE;
	}
	r->status = status;
	r->json = b->len ? json_loadb(b->p, b->len, 0, NULL) : NULL;
	if (status == 401) {
		json_t *e = json_object_get(r->json, "error");
		fprintf(stderr, "koryo: koryod at %s refused the token from %s (401%s%s)\n",
		        h->base, h->token_path, json_is_string(e) ? ": " : "",
		        json_is_string(e) ? json_string_value(e) : "");
		cli_reply_free(r);
		return CLI_EXIT_UNREACHABLE;
	}
	return 0;
}

int cli_http_request(struct cli_ctx *ctx, const char *method, const char *path, const json_t *body,
                     struct cli_reply *r)
{
	struct body b = {0};
	struct curl_slist *hdrs = NULL, *t;
	char *url = NULL, *json = NULL;
	int rc;

	r->status = 0;
	r->json = NULL;
	rc = http_open(ctx);
	if (rc)
		return rc;
	struct cli_http *h = ctx->http;
	rc = CLI_EXIT_UNREACHABLE;
	if (asprintf(&url, "%s%s", h->base, path) < 0) {
		url = NULL;
		goto oom;
	}
	if (!(t = curl_slist_append(hdrs, h->auth)))
		goto oom;
	hdrs = t;
	if (!(t = curl_slist_append(hdrs, "Accept: application/json")))
		goto oom;
	hdrs = t;
	if (body) {
		if (!(t = curl_slist_append(hdrs, "Content-Type: application/json")))
			goto oom;
		hdrs = t;
		if (!(json = json_dumps(body, JSON_COMPACT)))
			goto oom;
	}
	setup(h, url, hdrs, &b);
	if (json) {
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, json);
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(json));
	}
	if (strcmp(method, "GET") == 0)
		curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L);
	else if (strcmp(method, "POST") != 0 || !json)
		curl_easy_setopt(h->curl, CURLOPT_CUSTOMREQUEST, method);
	rc = finish(h, curl_easy_perform(h->curl), &b, r);
	goto out;
oom:
	fprintf(stderr, "koryo: out of memory\n");
out:
	if (json) {
		/* The body of a create holds K and OP/OPc. */
		explicit_bzero(json, strlen(json));
		free(json);
	}
	curl_slist_free_all(hdrs);
	free(url);
	free(b.p);
	return rc;
}

/* The value of one response header, for cli_http_get_text. */
struct header_want {
	const char *name;
	char *value; /* NULL until seen */
	bool oom;
};

static size_t header_seen(char *data, size_t size, size_t nmemb, void *arg)
{
	struct header_want *w = arg;
	size_t n = size * nmemb, len = strlen(w->name);

	if (n > len && data[len] == ':' && strncasecmp(data, w->name, len) == 0) {
		const char *v = data + len + 1, *end = data + n;
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		while (end > v && isspace((unsigned char)end[-1]))
			end--;
		free(w->value);
		if (!(w->value = strndup(v, (size_t)(end - v))))
			w->oom = true;
	}
	return n;
}

void cli_text_reply_free(struct cli_text_reply *r)
{
	cli_reply_free(&r->reply);
	free(r->body);
	free(r->header);
	r->body = r->header = NULL;
	r->len = 0;
}

int cli_http_get_text(struct cli_ctx *ctx, const char *path, const char *header,
                      struct cli_text_reply *r)
{
	struct body b = {0};
	struct header_want want = {.name = header};
	struct curl_slist *hdrs = NULL, *t;
	char *url = NULL;
	int rc;

	*r = (struct cli_text_reply){0};
	rc = http_open(ctx);
	if (rc)
		return rc;
	struct cli_http *h = ctx->http;
	rc = CLI_EXIT_UNREACHABLE;
	if (asprintf(&url, "%s%s", h->base, path) < 0) {
		url = NULL;
		goto oom;
	}
	if (!(t = curl_slist_append(hdrs, h->auth)))
		goto oom;
	hdrs = t;
	setup(h, url, hdrs, &b);
	curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L);
	if (header) {
		curl_easy_setopt(h->curl, CURLOPT_HEADERFUNCTION, header_seen);
		curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, &want);
	}
	rc = finish(h, curl_easy_perform(h->curl), &b, &r->reply);
	if (rc == 0 && want.oom) {
		cli_reply_free(&r->reply);
		rc = CLI_EXIT_UNREACHABLE;
		goto oom;
	}
	if (rc == 0) {
		r->body = b.p ? b.p : strdup("");
		r->len = b.len;
		r->header = want.value;
		b.p = NULL;
		want.value = NULL;
		if (!r->body) {
			cli_text_reply_free(r);
			rc = CLI_EXIT_UNREACHABLE;
			goto oom;
		}
	}
	goto out;
oom:
	fprintf(stderr, "koryo: out of memory\n");
out:
	curl_slist_free_all(hdrs);
	free(want.value);
	free(url);
	free(b.p);
	return rc;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static size_t watch_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct body *b = arg;

	if (b->len + size * nmemb >= CLI_WATCH_REPLY_MAX)
		return 0;
	return body_write(data, size, nmemb, b);
}

/* Prepares the watch GET of x. Returns false (the upload then goes without
 * it) if out of memory. */
static bool watch_open(struct watch *w, struct cli_http *h, const struct cli_http_upload_extra *x)
{
	struct curl_slist *t;

	if (asprintf(&w->url, "%s%s", h->base, x->watch_path) < 0) {
		w->url = NULL;
		return false;
	}
	if (!(t = curl_slist_append(w->hdrs, h->auth)))
		return false;
	w->hdrs = t;
	if (!(t = curl_slist_append(w->hdrs, "Accept: application/json")))
		return false;
	w->hdrs = t;
	if (!(w->curl = curl_easy_init()))
		return false;
	curl_easy_setopt(w->curl, CURLOPT_URL, w->url);
	curl_easy_setopt(w->curl, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, w->hdrs);
	curl_easy_setopt(w->curl, CURLOPT_USERAGENT, "koryo/" KORYO_VERSION);
	curl_easy_setopt(w->curl, CURLOPT_WRITEFUNCTION, watch_write);
	curl_easy_setopt(w->curl, CURLOPT_WRITEDATA, &w->b);
	curl_easy_setopt(w->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(w->curl, CURLOPT_TIMEOUT_MS, CLI_WATCH_TIMEOUT_MS);
	return true;
}

static void watch_close(struct watch *w, CURLM *m)
{
	if (w->curl) {
		if (w->busy)
			curl_multi_remove_handle(m, w->curl);
		curl_easy_cleanup(w->curl);
	}
	curl_slist_free_all(w->hdrs);
	free(w->url);
	free(w->b.p);
}

/* A watch GET ended with cc: hands a 200 JSON answer to the watcher. */
static void watch_done(struct watch *w, CURLM *m, const struct cli_http_upload_extra *x,
                       CURLcode cc)
{
	long status = 0;

	curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &status);
	curl_multi_remove_handle(m, w->curl);
	w->busy = false;
	/* After a failure (a timeout, most likely), a new connection. */
	curl_easy_setopt(w->curl, CURLOPT_FRESH_CONNECT, cc == CURLE_OK ? 0L : 1L);
	if (cc == CURLE_OK && status == 200 && w->b.len) {
		json_t *j = json_loadb(w->b.p, w->b.len, 0, NULL);
		if (j)
			x->watch(x->arg, j);
		json_decref(j);
	}
	w->b.len = 0;
}

/* Performs the upload prepared on h->curl, GETting x->watch_path meanwhile.
 * Returns the upload's outcome, as curl_easy_perform would. */
static CURLcode upload_perform(struct cli_http *h, const struct cli_http_upload_extra *x)
{
	struct watch w = {0};
	CURLcode cc = CURLE_OK;
	CURLM *m = NULL;
	bool done = false;

	if (!x || !x->watch || !x->watch_path)
		return curl_easy_perform(h->curl);
	if (!watch_open(&w, h, x) || !(m = curl_multi_init()) ||
	    curl_multi_add_handle(m, h->curl) != CURLM_OK) {
		/* Progress is a nicety: without memory for it, upload without. */
		watch_close(&w, m);
		if (m)
			curl_multi_cleanup(m);
		return curl_easy_perform(h->curl);
	}
	while (!done) {
		int running, left;
		CURLMcode mc = curl_multi_perform(m, &running);
		CURLMsg *msg;

		if (mc != CURLM_OK) {
			cc = mc == CURLM_OUT_OF_MEMORY ? CURLE_OUT_OF_MEMORY : CURLE_FAILED_INIT;
			break;
		}
		while ((msg = curl_multi_info_read(m, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			if (msg->easy_handle == h->curl) {
				cc = msg->data.result;
				done = true;
			} else {
				watch_done(&w, m, x, msg->data.result);
			}
		}
		if (done)
			break;
		uint64_t now = mono_ms();
		if (!w.busy && now >= w.next_ms && curl_multi_add_handle(m, w.curl) == CURLM_OK) {
			w.busy = true;
			w.next_ms = now + CLI_WATCH_INTERVAL_MS;
		}
		int wait_ms = CLI_WATCH_INTERVAL_MS;
		if (!w.busy && w.next_ms > now && w.next_ms - now < (uint64_t)wait_ms)
			wait_ms = (int)(w.next_ms - now);
		if (curl_multi_poll(m, NULL, 0, wait_ms, NULL) != CURLM_OK) {
			cc = CURLE_FAILED_INIT;
			break;
		}
	}
	watch_close(&w, m);
	curl_multi_remove_handle(m, h->curl);
	curl_multi_cleanup(m);
	return cc;
}

int cli_http_upload(struct cli_ctx *ctx, const char *path, const char *content_type, FILE *f,
                    const char *file_name, curl_off_t size, cli_http_progress_fn *progress,
                    void *progress_arg, const struct cli_http_upload_extra *extra,
                    struct cli_reply *r)
{
	struct body b = {0};
	struct upload u = {f, 0, progress, progress_arg, size, extra};
	struct curl_slist *hdrs = NULL, *t;
	char *url = NULL, *ctype = NULL;
	int rc;

	r->status = 0;
	r->json = NULL;
	rc = http_open(ctx);
	if (rc)
		return rc;
	struct cli_http *h = ctx->http;
	rc = CLI_EXIT_UNREACHABLE;
	if (asprintf(&url, "%s%s", h->base, path) < 0) {
		url = NULL;
		goto oom;
	}
	if (asprintf(&ctype, "Content-Type: %s", content_type) < 0) {
		ctype = NULL;
		goto oom;
	}
	if (!(t = curl_slist_append(hdrs, h->auth)))
		goto oom;
	hdrs = t;
	if (!(t = curl_slist_append(hdrs, "Accept: application/json")))
		goto oom;
	hdrs = t;
	if (!(t = curl_slist_append(hdrs, ctype)))
		goto oom;
	hdrs = t;
	if (size < 0) {
		if (!(t = curl_slist_append(hdrs, "Transfer-Encoding: chunked")))
			goto oom;
		hdrs = t;
	}
	if (extra && extra->header) {
		if (!(t = curl_slist_append(hdrs, extra->header)))
			goto oom;
		hdrs = t;
	}
	setup(h, url, hdrs, &b);
	curl_easy_setopt(h->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(h->curl, CURLOPT_READFUNCTION, upload_read);
	curl_easy_setopt(h->curl, CURLOPT_READDATA, &u);
	if (size >= 0)
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, size);
	/* Bigger reads than the 64 KiB default: fewer syscalls on a 150 MB file. */
	curl_easy_setopt(h->curl, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
	curl_easy_setopt(h->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h->curl, CURLOPT_XFERINFOFUNCTION, upload_progress);
	curl_easy_setopt(h->curl, CURLOPT_XFERINFODATA, &u);
	CURLcode cc = upload_perform(h, extra);
	if (u.err) {
		fprintf(stderr, "koryo: cannot read %s: %s\n", file_name, strerror(u.err));
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	rc = finish(h, cc, &b, r);
	goto out;
oom:
	fprintf(stderr, "koryo: out of memory\n");
out:
	curl_slist_free_all(hdrs);
	free(ctype);
	free(url);
	free(b.p);
	return rc;
}
