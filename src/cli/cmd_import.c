/* koryo import subscribers: stream a CSV file (docs/import.md) to
 * POST /v1/import/subscribers and report the answer the way a compiler
 * reports an error, so editors can jump to the bad line. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/http.h"
#include "cli/output.h"
#include "cli/progress.h"

static const char usage_import[] =
    "Usage: koryo import subscribers FILE.csv\n"
    "\n"
    "Bulk-load data into koryod.\n"
    "\n"
    "Commands:\n"
    "  subscribers   import subscribers (and their keys) from a CSV file\n"
    "\n"
    "Run 'koryo import subscribers --help' for the details.\n";

static const char usage_subscribers[] =
    "Usage: koryo import subscribers [--no-progress] FILE.csv\n"
    "\n"
    "Import the subscribers in FILE.csv (the format is in docs/import.md: a\n"
    "header row naming the columns imsi, class, k, op or opc, and optionally\n"
    "msisdn, iccid, status, name, id_document, nationality, city, amf, sqn,\n"
    "ind_bitlen). The file is streamed to koryod, never read whole into\n"
    "memory, so a file of millions of rows is fine; no timeout cuts a long\n"
    "import short. FILE.csv may be '-' for standard input.\n"
    "\n"
    "The import is all or nothing: koryod checks every row (values, duplicates\n"
    "within the file and against the subscribers it has) before it writes any.\n"
    "On success koryo prints 'imported N subscribers'. On the first bad row it\n"
    "prints\n"
    "\n"
    "    FILE.csv:LINE: column COLUMN: ERROR\n"
    "\n"
    "(the header is line 1), nothing is imported, and the exit status is 1.\n"
    "The keys in the file are never printed.\n"
    "\n"
    "When stderr is a terminal a progress bar shows the upload (percent, bytes,\n"
    "rate, time left), then the rows koryod has checked and written (percent\n"
    "of the data lines of the file), or 'importing…' and the time waited when\n"
    "koryod gives no such count.\n"
    "\n"
    "Options:\n"
    "  --no-progress        no progress bar, even on a terminal\n"
    "  --json               print koryod's JSON answer instead\n"
    "\n"
    "Exit status: 0 imported, 1 koryod refused the file (nothing imported),\n"
    "2 usage error or FILE.csv unreadable, 3 koryod unreachable or the token\n"
    "refused.\n"
    "\n"
    "Example:\n"
    "  koryo import subscribers sims-2026-11.csv\n";

enum { O_NO_PROGRESS = CLI_OPT_FIRST_LOCAL };

/* What the progress of one import needs: the bar, and the data lines of the
 * file, counted as it is sent (koryod only checks once it has every byte, so
 * the count is complete by then). */
struct import_watch {
	struct cli_progress bar;
	curl_off_t size;   /* bytes to send, -1 for a stream */
	uint64_t bytes;    /* read so far */
	uint64_t newlines; /* '\n' read so far */
	bool eof;          /* the stream ended */
	char last;         /* the last byte read */
	char header[96];   /* "X-Koryo-Import-Id: ID" */
	char path[96];     /* "/v1/import/progress/ID" */
};

/* A cli_http_read_fn: counts lines. */
static void import_count(void *arg, const char *buf, size_t n)
{
	struct import_watch *w = arg;

	if (n == 0) {
		w->eof = true;
		return;
	}
	w->bytes += n;
	w->last = buf[n - 1];
	for (const char *p = buf, *end = buf + n; (p = memchr(p, '\n', (size_t)(end - p))); p++)
		w->newlines++;
}

/* The data lines of the file (the header not counted), or 0 while the file
 * has not been read to the end. A quoted value may span lines, so this may
 * be a little more than the rows: the bar then stops short of 100%. */
static uint64_t import_data_lines(const struct import_watch *w)
{
	uint64_t lines = w->newlines + (w->bytes && w->last != '\n');

	if (!w->eof && (w->size < 0 || w->bytes < (uint64_t)w->size))
		return 0;
	return lines > 1 ? lines - 1 : 0;
}

/* A cli_http_watch_fn: GET /v1/import/progress/ID answered. */
static void import_watched(void *arg, const json_t *answer)
{
	struct import_watch *w = arg;
	json_t *phase = json_object_get(answer, "phase");
	json_t *rows = json_object_get(answer, "rows");

	if (json_is_string(phase) && json_is_integer(rows) && json_integer_value(rows) >= 0)
		cli_progress_rows(&w->bar, json_string_value(phase),
		                  (uint64_t)json_integer_value(rows), import_data_lines(w));
}

/* Names the import with a random id for GET /v1/import/progress/ID. Returns
 * false if no random bytes could be had (the import then shows no rows). */
static bool import_name(struct import_watch *w)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[16];
	char id[2 * sizeof(rnd) + 1];

	if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
		return false;
	for (size_t i = 0; i < sizeof(rnd); i++) {
		id[2 * i] = hex[rnd[i] >> 4];
		id[2 * i + 1] = hex[rnd[i] & 15];
	}
	id[sizeof(id) - 1] = '\0';
	snprintf(w->header, sizeof(w->header), "X-Koryo-Import-Id: %s", id);
	snprintf(w->path, sizeof(w->path), "/v1/import/progress/%s", id);
	return true;
}

/* Prints the answer to an import; returns the exit code. */
static int import_result(struct cli_ctx *ctx, const char *file, struct cli_reply *r)
{
	json_t *line = json_object_get(r->json, "line");
	json_t *column = json_object_get(r->json, "column");
	json_t *error = json_object_get(r->json, "error");
	json_t *imported = json_object_get(r->json, "imported");

	if (r->status >= 200 && r->status <= 299) {
		if (ctx->json)
			cli_print_json(r->json);
		else if (json_is_integer(imported))
			printf("imported %" JSON_INTEGER_FORMAT " subscribers\n",
			       json_integer_value(imported));
		else
			printf("imported\n");
		return CLI_EXIT_OK;
	}
	if (!json_is_integer(line) || !json_is_string(error))
		return cli_print_api_error(r);
	if (ctx->json)
		cli_print_json(r->json);
	cli_print_error_at(file, json_integer_value(line),
	                   json_is_string(column) ? json_string_value(column) : NULL,
	                   json_string_value(error));
	return CLI_EXIT_REFUSED;
}

static int import_subscribers(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"no-progress", no_argument, NULL, O_NO_PROGRESS},
	    CLI_GLOBAL_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	const char *cmd = "import subscribers";
	bool progress = true;
	struct import_watch w = {.size = -1};
	struct cli_http_upload_extra extra = {0};
	struct cli_reply r;
	struct stat st;
	curl_off_t size = -1;
	const char *file;
	FILE *f;
	int c, rc;

	optind = 0;
	while ((c = cli_getopt(ctx, argc, argv, opts, cmd)) != -1) {
		switch (c) {
		case CLI_OPT_HELP:
			fputs(usage_subscribers, stdout);
			return CLI_EXIT_OK;
		case O_NO_PROGRESS:
			progress = false;
			break;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return cli_usage_error(cmd, "missing FILE.csv");
	if (optind + 1 < argc)
		return cli_usage_error(cmd, "one file at a time");
	file = argv[optind];
	if (strcmp(file, "-") == 0) {
		f = stdin;
	} else if (!(f = fopen(file, "rb"))) {
		fprintf(stderr, "koryo: cannot open %s: %s\n", file, strerror(errno));
		return CLI_EXIT_USAGE;
	}
	if (fstat(fileno(f), &st) != 0 || S_ISDIR(st.st_mode)) {
		fprintf(stderr, "koryo: cannot read %s: %s\n", file,
		        S_ISDIR(st.st_mode) ? "is a directory" : strerror(errno));
		if (f != stdin)
			fclose(f);
		return CLI_EXIT_USAGE;
	}
	/* A regular file goes with its length; a pipe goes chunked. */
	if (S_ISREG(st.st_mode))
		size = (curl_off_t)st.st_size - (curl_off_t)ftello(f);

	w.size = size;
	cli_progress_init(&w.bar, progress && isatty(STDERR_FILENO));
	if (w.bar.on && import_name(&w))
		extra = (struct cli_http_upload_extra){.header = w.header,
		                                       .read = import_count,
		                                       .watch_path = w.path,
		                                       .watch = import_watched,
		                                       .arg = &w};
	rc = cli_http_upload(ctx, "/v1/import/subscribers", "text/csv", f, file, size,
	                     cli_progress_update, &w.bar, &extra, &r);
	cli_progress_end(&w.bar);
	if (f != stdin)
		fclose(f);
	if (rc)
		return rc;
	rc = import_result(ctx, file, &r);
	cli_reply_free(&r);
	return rc;
}

int cli_cmd_import(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {CLI_GLOBAL_OPTIONS, {NULL, 0, NULL, 0}};
	int c;

	optind = 0;
	while ((c = cli_getopt_head(ctx, argc, argv, opts, "import")) != -1) {
		if (c == CLI_OPT_HELP) {
			fputs(usage_import, stdout);
			return CLI_EXIT_OK;
		}
		return CLI_EXIT_USAGE;
	}
	if (optind >= argc)
		return cli_usage_error("import", "missing what to import (subscribers)");
	if (strcmp(argv[optind], "subscribers") == 0)
		return import_subscribers(ctx, argc - optind, argv + optind);
	return cli_usage_error("import", "cannot import '%s' (only subscribers)", argv[optind]);
}
