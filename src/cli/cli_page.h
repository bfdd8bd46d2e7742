/* The paged lists of koryod's API (docs/api.md): a page is asked for with
 * ?after=CURSOR&limit=N and names the cursor of the next one (next_after in
 * JSON, the X-Koryo-Next-After header for CSV and JSON lines), none on the
 * last. Every `koryo ... --after ID --limit N --all` command walks them here:
 * one page by default (the command for the next printed on stderr), or all
 * of them, as a table, koryod's JSON or its CSV / JSON lines. */
#pragma once

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>

#include "cli/cli.h"
#include "cli/output.h"

/* The option values of --after, --limit and --all: above the range the
 * commands number their own options in (CLI_OPT_FIRST_LOCAL and up). */
enum {
	CLI_OPT_AFTER = CLI_OPT_FIRST_LOCAL + 0x100,
	CLI_OPT_LIMIT,
	CLI_OPT_ALL,
};

/* clang-format off */
#define CLI_PAGE_OPTIONS                                        \
	{"after", required_argument, NULL, CLI_OPT_AFTER},      \
	{"limit", required_argument, NULL, CLI_OPT_LIMIT},      \
	{"all", no_argument, NULL, CLI_OPT_ALL}
/* clang-format on */

/* What the options asked for; the strings point into argv. */
struct cli_page_opts {
	const char *after, *limit;
	bool all;
};

/* cli_page_opt: records option c (a value of cli_getopt, its argument in
 * optarg) when it is one of CLI_PAGE_OPTIONS. Returns true if it was. */
bool cli_page_opt(int c, struct cli_page_opts *po);

/* cli_page_check: --after and --limit must be decimal numbers (koryod judges
 * their range); *after is --after's, 0 when absent. 0, or CLI_EXIT_USAGE
 * after printing why. */
int cli_page_check(const char *cmd, const struct cli_page_opts *po, unsigned long long *after);

/* How one listing prints. Give header and row for a table streamed page by
 * page with fixed column widths, or headers, ncols and cell for a table
 * whose columns fit their widest cell (printed once every page asked for is
 * in). The rest is the walk's state: zero it before. */
struct cli_pager {
	const char *items; /* the member holding a page's items: "cdrs", "rows" */
	const char *more;  /* the command that shows the next page: "koryo cdrs" */
	void (*header)(void);
	void (*row)(json_t *item);
	const char *const *headers;
	size_t ncols;
	cli_cell_fn *cell;
	bool started, members;
	json_t *rows; /* the joined pages of a fitted table */
};

/* cli_pages: walks the pages of base ("/v1/cdrs?", or with a query begun:
 * "/v1/sms/messages?msisdn=8501&") from after, with po's --limit and --all.
 * format NULL: JSON pages, printed as pg says or, with --json, as koryod's
 * page (with --all, one document {"ITEMS": [every item], "next_after":
 * null}); "csv" or "jsonl": koryod's text as it is sent, the CSV header line
 * once. Returns an enum cli_exit. */
int cli_pages(struct cli_ctx *ctx, struct cli_pager *pg, const char *base,
              const struct cli_page_opts *po, unsigned long long after, const char *format);
