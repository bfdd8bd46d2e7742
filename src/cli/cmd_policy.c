/* koryo policy: the policy engine's rules through /v1/policy (docs/api.md):
 * switches, rights, dialling rules, the audit trail, and a check that says
 * what koryod decides for a subscriber and a number. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_page.h"
#include "cli/http.h"
#include "cli/output.h"

static const char usage_policy[] =
    "Usage: koryo policy COMMAND [OPTIONS]\n"
    "\n"
    "Read and change the policy: who may call and text where, and use which\n"
    "data network (docs/policy.md).\n"
    "\n"
    "Commands:\n"
    "  switches                 list the network-wide switches\n"
    "  switch NAME on|off       turn a switch on or off\n"
    "  rights                   list the rights in the order they are tried\n"
    "  right set NAME OPTIONS   create or replace a right\n"
    "  right del NAME           delete a right\n"
    "  numbering                list the dialling rules\n"
    "  check CALLER NUMBER      may CALLER call (or --sms text) NUMBER, and why\n"
    "  check CALLER --apn APN   may CALLER use this data network now, and why\n"
    "  audit                    list the changes made: who, when, before, after\n"
    "\n"
    "Run 'koryo policy COMMAND --help' for a command's options.\n";

static const char usage_switch[] =
    "Usage: koryo policy switch NAME on|off\n"
    "\n"
    "Turn the network-wide switch NAME on or off. koryod stores the change and\n"
    "its audit record before it answers, and it takes effect at once: sessions\n"
    "it no longer allows are ended. Setting the state a switch already has\n"
    "changes nothing. Prints the switch as it now is.\n"
    "\n"
    "Exit status: 0 done, 1 no such switch (or koryod refused), 2 usage error,\n"
    "3 koryod unreachable or the token refused.\n"
    "\n"
    "Example:\n"
    "  koryo policy switch foreigner_internet off\n";

static const char usage_right_set[] =
    "Usage: koryo policy right set NAME --priority N --class CLASS --verdict allow|deny\n"
    "                              --reason TEXT [--service voice|sms|*]\n"
    "                              [--destination D] [--callee-class C] [--switch S]\n"
    "\n"
    "Create the right NAME, or replace it whole. Rights are tried from the lowest\n"
    "priority up; the first that matches decides.\n"
    "\n"
    "  --priority N         0 to 1000000000, unique among the rights\n"
    "  --class CLASS        the caller's class, or '*'\n"
    "  --verdict V          allow or deny\n"
    "  --reason TEXT        the sentence a refusal gives (SIP Warning, API)\n"
    "  --service S          voice, sms or '*' (default)\n"
    "  --destination D      national, international, short_code, reserved, the\n"
    "                       name of a dialling rule, or '*' (default)\n"
    "  --callee-class C     the class of the subscriber called, 'none' (not a\n"
    "                       subscriber of this network) or '*' (default)\n"
    "  --switch S           the right applies only while switch S is on\n"
    "\n"
    "Exit status: 0 done, 1 koryod refused (the error names the field), 2 usage\n"
    "error, 3 koryod unreachable or the token refused.\n"
    "\n"
    "Example:\n"
    "  koryo policy right set citizen-sms-abroad --priority 105 --class citizen \\\n"
    "      --service sms --destination international --verdict allow \\\n"
    "      --reason 'citizens may text abroad'\n";

static const char usage_check[] =
    "Usage: koryo policy check CALLER NUMBER [--sms]\n"
    "       koryo policy check CALLER --apn APN\n"
    "\n"
    "Ask koryod's policy engine what it decides, as the SIP proxy and the HLR\n"
    "would: CALLER is an IMSI or an MSISDN, NUMBER as dialled (+850..., 00...,\n"
    "0191..., 123, *123#). Prints 'allowed' or 'refused', the rule that decided\n"
    "and its reason, then how the number was read.\n"
    "\n"
    "Options:\n"
    "  --sms                a text message instead of a call\n"
    "  --apn APN            a data network instead of a number\n"
    "  --json               print koryod's JSON instead\n"
    "\n"
    "Exit status: 0 allowed, 1 refused (or no such subscriber), 2 usage error,\n"
    "3 koryod unreachable or the token refused.\n"
    "\n"
    "Examples:\n"
    "  koryo policy check 85019120000001 0086105551234\n"
    "  koryo policy check 467051000000001 --apn internet\n";

static const char usage_audit[] =
    "Usage: koryo policy audit [--after ID] [--limit N] [--all]\n"
    "\n"
    "List the changes made to switches and rights, oldest first: ID, AT (UTC),\n"
    "ACTOR (api, or api:NAME from the X-Koryo-Actor header), OBJECT, BEFORE and\n"
    "AFTER ('-' when the object did not exist or was deleted). Without --all one\n"
    "page is shown and the command for the next is printed on stderr.\n"
    "\n"
    "Options:\n"
    "  --after ID           start after the record with this ID\n"
    "  --limit N            page size, 1 to 1000 (koryod's default: 100)\n"
    "  --all                follow the pages to the end\n"
    "  --json               print koryod's JSON page instead; with --all, one\n"
    "                       object {\"audit\": [every record], \"next_after\": null}\n"
    "\n"
    "Exit status: 0 listed, 1 koryod refused an option, 2 usage error,\n"
    "3 koryod unreachable or the token refused.\n";

static const char usage_list[] =
    "Usage: koryo policy switches|rights|numbering [--json]\n"
    "\n"
    "List the switches (NAME, ENABLED, UPDATED, DESCRIPTION), the rights in the\n"
    "order they are tried (PRIORITY, NAME, CLASS, SERVICE, DESTINATION, CALLEE,\n"
    "VERDICT, SWITCH, REASON) or the dialling rules (NAME, KIND, PREFIX, LENGTH,\n"
    "GROUP, DESCRIPTION).\n"
    "\n"
    "Exit status: 0 listed, 2 usage error, 3 koryod unreachable or the token\n"
    "refused.\n";

enum {
	O_PRIORITY = CLI_OPT_FIRST_LOCAL,
	O_CLASS,
	O_SERVICE,
	O_DESTINATION,
	O_CALLEE,
	O_VERDICT,
	O_SWITCH,
	O_REASON,
	O_SMS,
	O_APN,
};

static int oom(void)
{
	fprintf(stderr, "koryo: out of memory\n");
	return CLI_EXIT_UNREACHABLE;
}

/* Options of a command that takes only the global ones; the positional
 * arguments are then argv[optind..]. Returns -1 to go on, or an exit code. */
static int plain_options(struct cli_ctx *ctx, int argc, char **argv, const char *cmd,
                         const char *usage)
{
	static const struct option opts[] = {CLI_GLOBAL_OPTIONS, {NULL, 0, NULL, 0}};
	int c;
	optind = 0;
	while ((c = cli_getopt(ctx, argc, argv, opts, cmd)) != -1) {
		if (c == CLI_OPT_HELP) {
			fputs(usage, stdout);
			return CLI_EXIT_OK;
		}
		return CLI_EXIT_USAGE;
	}
	return -1;
}

/* GETs path and prints member (an array) as a table, or the JSON. */
static int list(struct cli_ctx *ctx, const char *path, const char *member,
                const char *const *headers, size_t ncols, cli_cell_fn *cell)
{
	struct cli_reply r;
	int rc;
	if ((rc = cli_http_request(ctx, "GET", path, NULL, &r)))
		return rc;
	json_t *rows = json_object_get(r.json, member);
	if (r.status != 200) {
		rc = cli_print_api_error(&r);
	} else if (!json_is_array(rows)) {
		fprintf(stderr, "koryo: koryod answered 200 without a list of %s\n", member);
		rc = CLI_EXIT_REFUSED;
	} else if (ctx->json) {
		cli_print_json(r.json);
	} else {
		cli_print_table(stdout, headers, ncols, rows, cell);
	}
	cli_reply_free(&r);
	return rc;
}

static char *member_cell(json_t *row, const char *const *members, size_t col)
{
	json_t *v = json_object_get(row, members[col]);
	if (json_is_boolean(v))
		return strdup(json_is_true(v) ? "on" : "off");
	return cli_value_text(v);
}

static char *switch_cell(json_t *row, size_t col)
{
	static const char *const m[] = {"name", "enabled", "updated_at", "description"};
	return member_cell(row, m, col);
}

static char *right_cell(json_t *row, size_t col)
{
	static const char *const m[] = {"priority", "name",        "class",
	                                "service",  "destination", "callee_class",
	                                "verdict",  "switch",      "reason"};
	return member_cell(row, m, col);
}

static char *numbering_cell(json_t *row, size_t col)
{
	static const char *const m[] = {"name", "kind", "prefix", NULL, "group", "description"};
	if (col == 3) {
		json_t *lo = json_object_get(row, "min_length"),
		       *hi = json_object_get(row, "max_length");
		char buf[32];
		if (!json_is_integer(lo) || !json_is_integer(hi))
			return NULL;
		if (json_integer_value(lo) == json_integer_value(hi))
			snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(lo));
		else
			snprintf(buf, sizeof(buf), "%lld-%lld", (long long)json_integer_value(lo),
			         (long long)json_integer_value(hi));
		return strdup(buf);
	}
	return member_cell(row, m, col);
}

static int cmd_list(struct cli_ctx *ctx, int argc, char **argv)
{
	static const char *const sw_h[] = {"NAME", "ENABLED", "UPDATED", "DESCRIPTION"};
	static const char *const r_h[] = {"PRIORITY", "NAME",    "CLASS",  "SERVICE", "DESTINATION",
	                                  "CALLEE",   "VERDICT", "SWITCH", "REASON"};
	static const char *const n_h[] = {"NAME",   "KIND",  "PREFIX",
	                                  "LENGTH", "GROUP", "DESCRIPTION"};
	int rc = plain_options(ctx, argc, argv, argv[0], usage_list);
	if (rc >= 0)
		return rc;
	if (optind < argc)
		return cli_usage_error(argv[0], "unexpected argument '%s'", argv[optind]);
	if (strcmp(argv[0], "switches") == 0)
		return list(ctx, "/v1/policy/switches", "switches", sw_h, 4, switch_cell);
	if (strcmp(argv[0], "rights") == 0)
		return list(ctx, "/v1/policy/rights", "rights", r_h, 9, right_cell);
	return list(ctx, "/v1/policy/numbering", "numbering", n_h, 6, numbering_cell);
}

/* Sends a change and prints the object koryod answers with. */
static int send_change(struct cli_ctx *ctx, const char *method, const char *path, json_t *body,
                       void (*print)(json_t *o))
{
	struct cli_reply r;
	int rc = cli_http_request(ctx, method, path, body, &r);
	if (rc)
		return rc;
	if (r.status >= 300)
		rc = cli_print_api_error(&r);
	else if (ctx->json && r.json)
		cli_print_json(r.json);
	else if (print && r.json)
		print(r.json);
	cli_reply_free(&r);
	return rc;
}

static void print_switch(json_t *o)
{
	char *v = switch_cell(o, 1);
	printf("%s: %s\n", json_string_value(json_object_get(o, "name")), v ? v : "-");
	free(v);
}

static int cmd_switch(struct cli_ctx *ctx, int argc, char **argv)
{
	int rc = plain_options(ctx, argc, argv, "policy switch", usage_switch);
	if (rc >= 0)
		return rc;
	if (argc - optind != 2)
		return cli_usage_error("policy switch", "expected NAME and on or off");
	const char *name = argv[optind], *state = argv[optind + 1];
	if (strcmp(state, "on") != 0 && strcmp(state, "off") != 0)
		return cli_usage_error("policy switch", "expected on or off, not '%s'", state);
	char *esc = cli_http_escape(name), *path = NULL;
	json_t *body = json_pack("{s:b}", "enabled", strcmp(state, "on") == 0);
	if (!esc || !body || asprintf(&path, "/v1/policy/switches/%s", esc) < 0) {
		free(esc);
		json_decref(body);
		return oom();
	}
	rc = send_change(ctx, "PATCH", path, body, print_switch);
	free(esc);
	free(path);
	json_decref(body);
	return rc;
}

static void print_right(json_t *o)
{
	static const char *const m[] = {"name",    "priority",    "class",
	                                "service", "destination", "callee_class",
	                                "verdict", "switch",      "reason"};
	for (size_t i = 0; i < 9; i++) {
		char *v = cli_value_text(json_object_get(o, m[i]));
		printf("%-13s %s\n", m[i], v ? v : "-");
		free(v);
	}
}

static int cmd_right(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"priority", required_argument, NULL, O_PRIORITY},
	    {"class", required_argument, NULL, O_CLASS},
	    {"service", required_argument, NULL, O_SERVICE},
	    {"destination", required_argument, NULL, O_DESTINATION},
	    {"callee-class", required_argument, NULL, O_CALLEE},
	    {"verdict", required_argument, NULL, O_VERDICT},
	    {"switch", required_argument, NULL, O_SWITCH},
	    {"reason", required_argument, NULL, O_REASON},
	    CLI_GLOBAL_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	const char *cmd = "policy right";
	if (argc < 2 || (strcmp(argv[1], "set") != 0 && strcmp(argv[1], "del") != 0)) {
		if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
			fputs(usage_right_set, stdout);
			return CLI_EXIT_OK;
		}
		return cli_usage_error(cmd, "expected set or del");
	}
	bool del = strcmp(argv[1], "del") == 0;
	json_t *body = json_object();
	int c, rc = CLI_EXIT_OK;
	if (!body)
		return oom();
	argc--;
	argv++;
	optind = 0;
	while ((c = cli_getopt(ctx, argc, argv, opts, cmd)) != -1) {
		const char *member = NULL;
		switch (c) {
		case CLI_OPT_HELP:
			fputs(usage_right_set, stdout);
			json_decref(body);
			return CLI_EXIT_OK;
		case O_PRIORITY: {
			unsigned long long v;
			if ((rc = cli_parse_u64(cmd, "--priority", optarg, &v))) {
				json_decref(body);
				return rc;
			}
			json_object_set_new(body, "priority", json_integer((json_int_t)v));
			continue;
		}
		case O_CLASS:
			member = "class";
			break;
		case O_SERVICE:
			member = "service";
			break;
		case O_DESTINATION:
			member = "destination";
			break;
		case O_CALLEE:
			member = "callee_class";
			break;
		case O_VERDICT:
			member = "verdict";
			break;
		case O_SWITCH:
			member = "switch";
			break;
		case O_REASON:
			member = "reason";
			break;
		default:
			json_decref(body);
			return CLI_EXIT_USAGE;
		}
		json_object_set_new(body, member, json_string(optarg));
	}
	if (argc - optind != 1) {
		json_decref(body);
		return cli_usage_error(cmd, "expected one right NAME");
	}
	if (del && json_object_size(body) > 0) {
		json_decref(body);
		return cli_usage_error(cmd, "del takes only the NAME");
	}
	char *esc = cli_http_escape(argv[optind]), *path = NULL;
	if (!esc || asprintf(&path, "/v1/policy/rights/%s", esc) < 0) {
		free(esc);
		json_decref(body);
		return oom();
	}
	rc = send_change(ctx, del ? "DELETE" : "PUT", path, del ? NULL : body, print_right);
	free(esc);
	free(path);
	json_decref(body);
	return rc;
}

static int cmd_check(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"sms", no_argument, NULL, O_SMS},
	    {"apn", required_argument, NULL, O_APN},
	    CLI_GLOBAL_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	const char *cmd = "policy check", *apn = NULL;
	bool sms = false;
	int c, rc;
	optind = 0;
	while ((c = cli_getopt(ctx, argc, argv, opts, cmd)) != -1) {
		if (c == CLI_OPT_HELP) {
			fputs(usage_check, stdout);
			return CLI_EXIT_OK;
		} else if (c == O_SMS) {
			sms = true;
		} else if (c == O_APN) {
			apn = optarg;
		} else {
			return CLI_EXIT_USAGE;
		}
	}
	int want = apn ? 1 : 2;
	if (argc - optind != want)
		return cli_usage_error(cmd, apn ? "expected CALLER (and --apn, no NUMBER)"
		                                : "expected CALLER and NUMBER");
	if (apn && sms)
		return cli_usage_error(cmd, "give --sms or --apn, not both");
	json_t *body =
	    apn ? json_pack("{s:s,s:s,s:s}", "caller", argv[optind], "service", "data", "apn", apn)
	        : json_pack("{s:s,s:s,s:s}", "caller", argv[optind], "number", argv[optind + 1],
	                    "service", sms ? "sms" : "voice");
	struct cli_reply r;
	if (!body)
		return oom();
	rc = cli_http_request(ctx, "POST", "/v1/policy/check", body, &r);
	json_decref(body);
	if (rc)
		return rc;
	json_t *allowed = json_object_get(r.json, "allowed");
	if (r.status != 200) {
		rc = cli_print_api_error(&r);
	} else if (!json_is_boolean(allowed)) {
		fprintf(stderr, "koryo: koryod answered 200 without a verdict\n");
		rc = CLI_EXIT_REFUSED;
	} else {
		if (ctx->json) {
			cli_print_json(r.json);
		} else {
			char *rule = cli_value_text(json_object_get(r.json, "rule"));
			char *reason = cli_value_text(json_object_get(r.json, "reason"));
			printf("%s by %s: %s\n", json_is_true(allowed) ? "allowed" : "refused",
			       rule ? rule : "-", reason ? reason : "-");
			free(rule);
			free(reason);
			json_t *d = json_object_get(r.json, "destination");
			if (json_is_object(d)) {
				static const char *const m[] = {"kind", "e164", "range", "code"};
				for (size_t i = 0; i < 4; i++) {
					char *v = cli_value_text(json_object_get(d, m[i]));
					printf("%-6s %s\n", m[i], v ? v : "-");
					free(v);
				}
			}
		}
		rc = json_is_true(allowed) ? CLI_EXIT_OK : CLI_EXIT_REFUSED;
	}
	cli_reply_free(&r);
	return rc;
}

static char *audit_cell(json_t *row, size_t col)
{
	static const char *const m[] = {"id", "at", "actor", "object", "before", "after"};
	return member_cell(row, m, col);
}

static int cmd_audit(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    CLI_PAGE_OPTIONS,
	    CLI_GLOBAL_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	static const char *const headers[] = {"ID", "AT", "ACTOR", "OBJECT", "BEFORE", "AFTER"};
	const char *cmd = "policy audit";
	struct cli_page_opts po = {0};
	unsigned long long after;
	int c, rc;
	optind = 0;
	while ((c = cli_getopt(ctx, argc, argv, opts, cmd)) != -1) {
		if (c == CLI_OPT_HELP) {
			fputs(usage_audit, stdout);
			return CLI_EXIT_OK;
		}
		if (!cli_page_opt(c, &po))
			return CLI_EXIT_USAGE;
	}
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if ((rc = cli_page_check(cmd, &po, &after)))
		return rc;
	/* The pages are joined into one table before printing, so that the
	 * columns line up across them. */
	struct cli_pager pg = {.items = "audit",
	                       .more = "koryo policy audit",
	                       .headers = headers,
	                       .ncols = 6,
	                       .cell = audit_cell};
	return cli_pages(ctx, &pg, "/v1/policy/audit?", &po, after, NULL);
}

int cli_cmd_policy(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {CLI_GLOBAL_OPTIONS, {NULL, 0, NULL, 0}};
	int c;
	optind = 0;
	while ((c = cli_getopt_head(ctx, argc, argv, opts, "policy")) != -1) {
		if (c == CLI_OPT_HELP) {
			fputs(usage_policy, stdout);
			return CLI_EXIT_OK;
		}
		return CLI_EXIT_USAGE;
	}
	if (optind >= argc)
		return cli_usage_error("policy",
		                       "missing command (switches, switch, rights, right, "
		                       "numbering, check, audit)");
	argc -= optind;
	argv += optind;
	const char *sub = argv[0];
	if (strcmp(sub, "switches") == 0 || strcmp(sub, "rights") == 0 ||
	    strcmp(sub, "numbering") == 0)
		return cmd_list(ctx, argc, argv);
	if (strcmp(sub, "switch") == 0)
		return cmd_switch(ctx, argc, argv);
	if (strcmp(sub, "right") == 0)
		return cmd_right(ctx, argc, argv);
	if (strcmp(sub, "check") == 0)
		return cmd_check(ctx, argc, argv);
	if (strcmp(sub, "audit") == 0)
		return cmd_audit(ctx, argc, argv);
	return cli_usage_error("policy",
	                       "unknown command '%s' (switches, switch, rights, right, "
	                       "numbering, check, audit)",
	                       sub);
}
