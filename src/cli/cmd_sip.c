/* koryo calls and koryo cdrs: the calls koryod's SIP proxy has up now
 * (GET /v1/calls) and its call detail records (GET /v1/cdrs), see
 * docs/api.md. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_page.h"
#include "cli/http.h"
#include "cli/output.h"

static const char usage_calls[] =
    "Usage: koryo calls\n"
    "\n"
    "List the calls koryod's SIP proxy has up or is setting up now, oldest\n"
    "first, as a table: STATE (ringing or answered), CALLER and CALLEE (their\n"
    "MSISDNs), CALLER_CELL and CALLEE_CELL (the cells their phones last named,\n"
    "'-' if none), STARTED (the INVITE, UTC), TALK (M:SS or H:MM:SS since the\n"
    "answer) and CALL_ID. No call: the header row alone.\n"
    "\n"
    "Options:\n"
    "  --json               print koryod's JSON instead (with the IMSIs)\n"
    "\n"
    "Exit status: 0 listed (even none), 1 SIP is off in koryod, 2 usage error,\n"
    "3 koryod unreachable or the token refused.\n"
    "\n"
    "Example:\n"
    "  watch -n 2 koryo calls\n";

static const char usage_cdrs[] =
    "Usage: koryo cdrs [--after ID] [--limit N] [--all] [--csv]\n"
    "\n"
    "List the call detail records koryod wrote, one per call attempt, oldest\n"
    "first, as a table: ID, STARTED (UTC), CALLER, CALLEE, TALK (M:SS or\n"
    "H:MM:SS from the answer to the end), STATUS (the final SIP status of the\n"
    "INVITE), CAUSE (normal, cancelled, busy, no-answer, failed, refused) and\n"
    "CALL_ID. koryod answers a page at a time; without --all one page is shown\n"
    "and, if there is more, the command to see the next page is printed on\n"
    "stderr.\n"
    "\n"
    "Options:\n"
    "  --after ID           start after the record with this ID (a previous\n"
    "                       page's last; 0, the default, is the beginning)\n"
    "  --limit N            page size, 1 to 1000 (koryod's default: 100)\n"
    "  --all                follow the pages to the end\n"
    "  --csv                print koryod's CSV (RFC 4180, a header line, every\n"
    "                       field of the record) instead of the table; with\n"
    "                       --all, one header line for all the pages\n"
    "  --json               print koryod's JSON page instead; with --all, one\n"
    "                       object {\"cdrs\": [every record], \"next_after\": null}\n"
    "\n"
    "Records are never changed once written, so a later --after of the last ID\n"
    "seen gets exactly the new ones.\n"
    "\n"
    "Exit status: 0 listed (even none), 1 koryod refused an option, 2 usage\n"
    "error, 3 koryod unreachable or the token refused.\n"
    "\n"
    "Examples:\n"
    "  koryo cdrs --limit 20\n"
    "  koryo cdrs --all --csv > cdrs.csv\n"
    "  koryo cdrs --after 41200 --csv --all | tail -n +2 >> cdrs.csv\n";

enum {
	O_CSV = CLI_OPT_FIRST_LOCAL,
};

static char *duration_text(json_t *row, const char *member)
{
	json_t *v = json_object_get(row, member);
	char buf[32];

	if (!json_is_integer(v))
		return NULL;
	cli_format_duration(json_integer_value(v), buf, sizeof(buf));
	return strdup(buf);
}

static char *call_cell(json_t *call, size_t col)
{
	static const char *const members[] = {"state",       "caller_msisdn", "callee_msisdn",
	                                      "caller_cell", "callee_cell",   "started_at",
	                                      "duration_s",  "call_id"};

	if (col == 6) {
		json_t *state = json_object_get(call, "state");
		if (!json_is_string(state) || strcmp(json_string_value(state), "answered") != 0)
			return NULL; /* no talk time while it rings */
		return duration_text(call, members[col]);
	}
	return cli_value_text(json_object_get(call, members[col]));
}

int cli_cmd_calls(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {CLI_GLOBAL_OPTIONS, {NULL, 0, NULL, 0}};
	static const char *const headers[] = {"STATE",       "CALLER",  "CALLEE", "CALLER_CELL",
	                                      "CALLEE_CELL", "STARTED", "TALK",   "CALL_ID"};
	struct cli_reply r;
	json_t *calls;
	int c, rc;

	optind = 0;
	while ((c = cli_getopt(ctx, argc, argv, opts, "calls")) != -1) {
		if (c == CLI_OPT_HELP) {
			fputs(usage_calls, stdout);
			return CLI_EXIT_OK;
		}
		return CLI_EXIT_USAGE;
	}
	if (optind < argc)
		return cli_usage_error("calls", "unexpected argument '%s'", argv[optind]);
	if ((rc = cli_http_request(ctx, "GET", "/v1/calls", NULL, &r)))
		return rc;
	calls = json_object_get(r.json, "calls");
	if (r.status != 200) {
		rc = cli_print_api_error(&r);
	} else if (!json_is_array(calls)) {
		fprintf(stderr, "koryo: koryod answered 200 without a list of calls\n");
		rc = CLI_EXIT_REFUSED;
	} else if (ctx->json) {
		cli_print_json(r.json);
	} else {
		cli_print_table(stdout, headers, 8, calls, call_cell);
	}
	cli_reply_free(&r);
	return rc;
}

/* --- cdrs ------------------------------------------------------------------------ */

/* Fixed widths, since pages are printed as they arrive: an id of 10 digits,
 * a time with milliseconds (24), MSISDNs (15), a talk time up to 99:59:59,
 * a SIP status, and the longest cause ("no-answer", "cancelled"). */
#define CDR_ROW_FMT "%-10s %-24s %-15s %-15s %-8s %-6s %-9s %s\n"

static void cdr_header(void)
{
	printf(CDR_ROW_FMT, "ID", "STARTED", "CALLER", "CALLEE", "TALK", "STATUS", "CAUSE",
	       "CALL_ID");
}

static void cdr_row(json_t *cdr)
{
	static const char *const members[] = {"id", "started_at", "caller_msisdn", "callee_msisdn",
	                                      NULL, "status",     "cause",         "call_id"};
	char *v[8];

	for (int i = 0; i < 8; i++) {
		if (members[i])
			v[i] = cli_value_text(json_object_get(cdr, members[i]));
		else if (json_is_string(json_object_get(cdr, "answered_at")))
			v[i] = duration_text(cdr, "duration_s");
		else
			v[i] = NULL; /* never answered: no talk, not a talk of 0:00 */
		if (!v[i])
			v[i] = strdup("-");
		/* Call-IDs come from the phones: control characters are not obeyed. */
		for (char *p = v[i]; p && *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
	}
	if (v[0] && v[1] && v[2] && v[3] && v[4] && v[5] && v[6] && v[7])
		printf(CDR_ROW_FMT, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]);
	for (int i = 0; i < 8; i++)
		free(v[i]);
}

int cli_cmd_cdrs(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    CLI_PAGE_OPTIONS,
	    {"csv", no_argument, NULL, O_CSV},
	    CLI_GLOBAL_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	const char *cmd = "cdrs";
	struct cli_page_opts po = {0};
	unsigned long long after;
	bool csv = false;
	int c, rc;

	optind = 0;
	while ((c = cli_getopt(ctx, argc, argv, opts, cmd)) != -1) {
		if (c == CLI_OPT_HELP) {
			fputs(usage_cdrs, stdout);
			return CLI_EXIT_OK;
		}
		if (c == O_CSV)
			csv = true;
		else if (!cli_page_opt(c, &po))
			return CLI_EXIT_USAGE;
	}
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (csv && ctx->json)
		return cli_usage_error(cmd, "give --csv or --json, not both");
	if ((rc = cli_page_check(cmd, &po, &after)))
		return rc;
	struct cli_pager pg = {
	    .items = "cdrs", .header = cdr_header, .row = cdr_row, .more = "koryo cdrs"};
	return cli_pages(ctx, &pg, "/v1/cdrs?", &po, after, csv ? "csv" : NULL);
}
