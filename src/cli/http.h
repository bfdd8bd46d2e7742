/* The CLI's HTTP client: a libcurl easy handle bound to one koryod API. */
#pragma once

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>

#include "cli/cli.h"

/* A reply from koryod. json is the parsed body, NULL when the body is empty
 * (204) or not JSON. Owned by the caller: release with cli_reply_free. */
struct cli_reply {
	long status;
	json_t *json;
};

void cli_reply_free(struct cli_reply *r);

/* cli_http_request: sends METHOD base+path with body (NULL for none) as
 * application/json. path must already be escaped (cli_http_escape). Opens the
 * connection first if needed (resolving --api and reading the token).
 * Returns 0 when koryod answered with anything but 401 (status in r->status),
 * or CLI_EXIT_UNREACHABLE / CLI_EXIT_USAGE after printing why: koryod cannot be
 * reached, the token file is unreadable, the token was refused (401), or
 * --api is not an http(s) URL. */
int cli_http_request(struct cli_ctx *ctx, const char *method, const char *path, const json_t *body,
                     struct cli_reply *r);

/* A reply kept as text (koryod's CSV), with the value of one response header
 * (NULL if koryod sent none). reply.json is the body parsed when it is JSON,
 * as koryod's errors are. Release with cli_text_reply_free. */
struct cli_text_reply {
	struct cli_reply reply;
	char *body; /* NUL-terminated, len bytes */
	size_t len;
	char *header;
};

void cli_text_reply_free(struct cli_text_reply *r);

/* cli_http_get_text: GETs base+path (escaped) keeping the body as text and
 * the value of response header `header` (may be NULL). Returns like
 * cli_http_request. */
int cli_http_get_text(struct cli_ctx *ctx, const char *path, const char *header,
                      struct cli_text_reply *r);

/* Called with the bytes sent so far and the total (-1 when unknown), and
 * again with sent == total while waiting for the answer. */
typedef void cli_http_progress_fn(void *arg, curl_off_t sent, curl_off_t total);

/* Sees each block read from the file being uploaded, as it is read (n is 0
 * at the end of a stream). */
typedef void cli_http_read_fn(void *arg, const char *buf, size_t n);

/* Gets each JSON answer (status 200) to the watch GET. */
typedef void cli_http_watch_fn(void *arg, const json_t *answer);

/* What an upload may do besides sending the file; any member may be NULL. */
struct cli_http_upload_extra {
	const char *header;       /* one more request header, "Name: value" */
	cli_http_read_fn *read;   /* sees the file as it is read */
	const char *watch_path;   /* escaped path to GET while the upload is pending */
	cli_http_watch_fn *watch; /* gets the answers to those GETs */
	void *arg;                /* for read and watch */
};

/* cli_http_upload: POSTs the open file f (size bytes from its current position,
 * or -1 for a stream of unknown size sent chunked) as content_type, reading it
 * as it goes: the file is never held in memory. No timeout bounds the
 * transfer or the wait for the answer, so a long import is never cut short.
 * progress and extra may be NULL. With extra->watch, base+watch_path is
 * fetched on a second connection about 4 times a second until the POST is
 * answered; these GETs are best effort: one that fails or is not answered
 * with 200 is skipped, and none changes the outcome of the upload. Returns like cli_http_request,
 * and CLI_EXIT_USAGE (after printing why) if reading the file fails; file_name is for that message.
 */
int cli_http_upload(struct cli_ctx *ctx, const char *path, const char *content_type, FILE *f,
                    const char *file_name, curl_off_t size, cli_http_progress_fn *progress,
                    void *progress_arg, const struct cli_http_upload_extra *extra,
                    struct cli_reply *r);

/* cli_http_escape: returns s percent-encoded for use as one path segment or
 * query value (unreserved characters and ':' kept, so "msisdn:850..." reads
 * plainly in logs). Caller frees. NULL if out of memory. */
char *cli_http_escape(const char *s);

/* cli_http_close: frees the connection and wipes the token. Safe if never
 * opened. */
void cli_http_close(struct cli_ctx *ctx);
