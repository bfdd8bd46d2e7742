/* koryo import subscribers: stream a CSV file (docs/import.md) to
 * POST /v1/import/subscribers and report the answer the way a compiler
 * reports an error, so editors can jump to the bad line. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
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
    "rate, time left), then 'importing…' while koryod checks and writes.\n"
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
	struct cli_progress bar;
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

	cli_progress_init(&bar, progress && isatty(STDERR_FILENO));
	rc = cli_http_upload(ctx, "/v1/import/subscribers", "text/csv", f, file, size,
	                     cli_progress_update, &bar, &r);
	cli_progress_end(&bar);
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
