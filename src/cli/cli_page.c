/* The walk over koryod's paged lists, shared by every listing command
 * (cli_page.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_page.h"
#include "cli/http.h"

bool cli_page_opt(int c, struct cli_page_opts *po)
{
	switch (c) {
	case CLI_OPT_AFTER:
		po->after = optarg;
		return true;
	case CLI_OPT_LIMIT:
		po->limit = optarg;
		return true;
	case CLI_OPT_ALL:
		po->all = true;
		return true;
	default:
		return false;
	}
}

int cli_page_check(const char *cmd, const struct cli_page_opts *po, unsigned long long *after)
{
	unsigned long long limit;
	int rc;

	*after = 0;
	if (po->after && (rc = cli_parse_u64(cmd, "--after", po->after, after)))
		return rc;
	if (po->limit && (rc = cli_parse_u64(cmd, "--limit", po->limit, &limit)))
		return rc;
	return 0;
}

/* One JSON page: printed (or, for a fitted table, kept), and the next
 * page's cursor in *next (0: none). */
static int page_json(struct cli_ctx *ctx, struct cli_pager *pg, const char *path, bool all,
                     long long *next)
{
	struct cli_reply r;
	json_t *items, *n, *item;
	size_t i;
	int rc;

	*next = 0;
	if ((rc = cli_http_request(ctx, "GET", path, NULL, &r)))
		return rc;
	if (r.status != 200) {
		rc = cli_print_api_error(&r);
		cli_reply_free(&r);
		return rc;
	}
	items = json_object_get(r.json, pg->items);
	n = json_object_get(r.json, "next_after");
	if (!json_is_array(items) || (n && !json_is_null(n) && !json_is_integer(n))) {
		fprintf(stderr, "koryo: koryod answered 200 without a page of %s\n", pg->items);
		cli_reply_free(&r);
		return CLI_EXIT_REFUSED;
	}
	if (ctx->json && !all) {
		cli_print_json(r.json);
	} else if (!ctx->json && pg->cell) {
		if (json_array_extend(pg->rows, items) != 0)
			rc = CLI_EXIT_UNREACHABLE;
	} else {
		/* Printed as they arrive, so that --all over a million records
		 * needs no more memory than one page. */
		if (!pg->started && ctx->json)
			printf("{\n  \"%s\": [", pg->items);
		else if (!pg->started)
			pg->header();
		pg->started = true;
		json_array_foreach(items, i, item)
		{
			if (ctx->json) {
				char *s = json_dumps(item, JSON_COMPACT);
				if (s)
					printf("%s\n    %s", pg->members ? "," : "", s);
				free(s);
				pg->members = true;
			} else {
				pg->row(item);
			}
		}
	}
	*next = json_is_integer(n) ? json_integer_value(n) : 0;
	cli_reply_free(&r);
	return rc;
}

/* One CSV or JSON-lines page as koryod sent it, less the CSV header after
 * the first page; the cursor comes in a header. */
static int page_text(struct cli_ctx *ctx, struct cli_pager *pg, const char *path, bool csv,
                     long long *next)
{
	struct cli_text_reply r;
	const char *body;
	int rc;

	*next = 0;
	if ((rc = cli_http_get_text(ctx, path, "X-Koryo-Next-After", &r)))
		return rc;
	if (r.reply.status != 200) {
		rc = cli_print_api_error(&r.reply);
		cli_text_reply_free(&r);
		return rc;
	}
	body = r.body;
	if (csv && pg->started) {
		const char *nl = strchr(body, '\n');
		body = nl ? nl + 1 : body + strlen(body);
	}
	pg->started = true;
	fwrite(body, 1, r.len - (size_t)(body - r.body), stdout);
	if (r.header) {
		char *end;
		*next = strtoll(r.header, &end, 10);
		if (*end || *next <= 0) {
			fprintf(stderr, "koryo: koryod's next page (%s) is no id\n", r.header);
			rc = CLI_EXIT_REFUSED;
		}
	}
	cli_text_reply_free(&r);
	return rc;
}

int cli_pages(struct cli_ctx *ctx, struct cli_pager *pg, const char *base,
              const struct cli_page_opts *po, unsigned long long after, const char *format)
{
	bool fitted = !format && !ctx->json && pg->cell;
	int rc = CLI_EXIT_OK;

	if (fitted && !pg->rows && !(pg->rows = json_array())) {
		fprintf(stderr, "koryo: out of memory\n");
		return CLI_EXIT_UNREACHABLE;
	}
	for (;;) {
		char *path = NULL;
		long long next;
		/* The limit goes as given, for koryod to judge (1 to 1000). */
		if (asprintf(&path, "%safter=%llu%s%s%s%s", base, after, po->limit ? "&limit=" : "",
		             po->limit ? po->limit : "", format ? "&format=" : "",
		             format ? format : "") < 0) {
			rc = CLI_EXIT_UNREACHABLE;
			fprintf(stderr, "koryo: out of memory\n");
			break;
		}
		rc = format ? page_text(ctx, pg, path, strcmp(format, "csv") == 0, &next)
		            : page_json(ctx, pg, path, po->all, &next);
		free(path);
		if (rc || !next)
			break;
		/* A next that does not move would page forever. */
		if ((unsigned long long)next <= after) {
			fprintf(stderr, "koryo: koryod's next page (%lld) does not follow %llu\n",
			        next, after);
			rc = CLI_EXIT_REFUSED;
			break;
		}
		after = (unsigned long long)next;
		if (!po->all) {
			if (!ctx->json && !format)
				fprintf(stderr, "(more: %s --after %llu, or --all)\n", pg->more,
				        after);
			break;
		}
	}
	if (fitted) {
		/* The columns are as wide as the widest cell of every page. */
		if (rc == CLI_EXIT_OK)
			cli_print_table(stdout, pg->headers, pg->ncols, pg->rows, pg->cell);
		json_decref(pg->rows);
		pg->rows = NULL;
	} else if (ctx->json && po->all && !format && rc == CLI_EXIT_OK) {
		if (!pg->started)
			printf("{\n  \"%s\": [", pg->items);
		fputs("\n  ],\n  \"next_after\": null\n}\n", stdout);
	}
	return rc;
}
