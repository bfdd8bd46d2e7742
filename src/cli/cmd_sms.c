/* koryo sms: the SMS content rules through /v1/sms (docs/api.md): the rules,
 * the flood limit, the record of matches, and a check that says what koryod
 * decides for a message. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/http.h"
#include "cli/output.h"

static const char usage_sms[] =
    "Usage: koryo sms COMMAND [OPTIONS]\n"
    "\n"
    "Read and change the SMS content rules (the SMS firewall): which messages\n"
    "are delivered, held for review or refused, and the flood limit per sender\n"
    "(docs/sms-rules.md).\n"
    "\n"
    "Commands:\n"
    "  rules                    list the rules in the order they are tried\n"
    "  rule set NAME OPTIONS    create or replace a rule\n"
    "  rule del NAME            delete a rule\n"
    "  limits [OPTIONS]         show or set the flood limit per sender\n"
    "  matches                  list the recorded matches, oldest first\n"
    "  check SENDER RECIPIENT TEXT\n"
    "                           what koryod decides for this message, and why\n"
    "\n"
    "Run 'koryo sms COMMAND --help' for a command's options.\n";

static const char usage_rules[] =
    "Usage: koryo sms rules [--json]\n"
    "\n"
    "List the rules in the order they are tried: PRIORITY, NAME, SENDER,\n"
    "RECIPIENT, CLASS, MATCH, TEXT (the words, joined by ';', or the regular\n"
    "expression), ACTION, REASON.\n"
    "\n"
    "Exit status: 0 listed, 2 usage error, 3 koryod unreachable or the token\n"
    "refused.\n";

static const char usage_rule_set[] =
    "Usage: koryo sms rule set NAME --priority N --action deliver|hold|refuse\n"
    "                           --reason TEXT [--sender P] [--recipient P]\n"
    "                           [--class C] [--words 'W1;W2' | --regex RE]\n"
    "       koryo sms rule del NAME\n"
    "\n"
    "Create the rule NAME, or replace it whole; or delete it. Rules are tried\n"
    "from the lowest priority up; the first that matches decides, and a message\n"
    "no rule matches is delivered.\n"
    "\n"
    "  --priority N         0 to 1000000000, unique among the rules\n"
    "  --action A           deliver, hold (kept with its text for review) or\n"
    "                       refuse\n"
    "  --reason TEXT        why, as the record of matches and a refusal say it\n"
    "  --sender P           the sender's MSISDN prefix, or '*' (default)\n"
    "  --recipient P        the recipient's MSISDN prefix, or '*' (default)\n"
    "  --class C            the sender's class, or '*' (default)\n"
    "  --words LIST         words or phrases separated by ';', matched whole and\n"
    "                       without regard to case\n"
    "  --regex RE           a POSIX extended regular expression (no case)\n"
    "  Without --words or --regex the rule matches any text.\n"
    "\n"
    "Exit status: 0 done, 1 koryod refused (the error names the field), 2 usage\n"
    "error, 3 koryod unreachable or the token refused.\n"
    "\n"
    "Example:\n"
    "  koryo sms rule set prize-scam --priority 200 --action hold \\\n"
    "      --words 'you have won;claim your prize' --reason 'looks like a scam'\n";

static const char usage_limits[] =
    "Usage: koryo sms limits [--messages N --seconds S]\n"
    "\n"
    "Show the flood limit, or set it: at most N messages per S seconds from one\n"
    "sender (a burst of N, then one every S/N seconds). --messages 0 --seconds 0\n"
    "turns the limit off. A message over the limit is refused by rule 'flood'.\n"
    "\n"
    "Exit status: 0 done, 1 koryod refused (the error names the field), 2 usage\n"
    "error, 3 koryod unreachable or the token refused.\n";

static const char usage_matches[] =
    "Usage: koryo sms matches [--after ID] [--limit N] [--all]\n"
    "\n"
    "List the recorded matches, oldest first: ID, AT (UTC), RULE, SENDER,\n"
    "RECIPIENT, ACTION, TEXT (kept only when the message was held, else '-').\n"
    "Without --all one page is shown and the command for the next is printed\n"
    "on stderr.\n"
    "\n"
    "Options:\n"
    "  --after ID           start after the match with this ID\n"
    "  --limit N            page size, 1 to 1000 (koryod's default: 100)\n"
    "  --all                follow the pages to the end\n"
    "  --json               print koryod's JSON instead\n"
    "\n"
    "Exit status: 0 listed, 1 koryod refused an option, 2 usage error,\n"
    "3 koryod unreachable or the token refused.\n";

static const char usage_check[] =
    "Usage: koryo sms check SENDER RECIPIENT TEXT [--class C]\n"
    "\n"
    "Ask koryod's SMS content rules what they decide for a message from SENDER\n"
    "to RECIPIENT (MSISDNs, an optional '+') with TEXT. The sender's class is\n"
    "its subscriber's, or C with --class. Prints the action, the rule that\n"
    "decided and its reason. Nothing is recorded and the flood limit is not\n"
    "consulted.\n"
    "\n"
    "Exit status: 0 deliver, 1 hold or refuse (or koryod refused the request),\n"
    "2 usage error, 3 koryod unreachable or the token refused.\n"
    "\n"
    "Example:\n"
    "  koryo sms check 85019120000001 85019120000002 'you have won a prize'\n";

enum {
	O_PRIORITY = CLI_OPT_FIRST_LOCAL,
	O_ACTION,
	O_REASON,
	O_SENDER,
	O_RECIPIENT,
	O_CLASS,
	O_WORDS,
	O_REGEX,
	O_MESSAGES,
	O_SECONDS,
	O_AFTER,
	O_LIMIT,
	O_ALL,
};

static int oom(void)
{
	fprintf(stderr, "koryo: out of memory\n");
	return CLI_EXIT_UNREACHABLE;
}

static char *member_cell(json_t *row, const char *const *members, size_t col)
{
	return cli_value_text(json_object_get(row, members[col]));
}

/* The words of a rule joined by ';', or its pattern. */
static char *text_of(json_t *row)
{
	json_t *w = json_object_get(row, "words");
	if (!json_is_array(w))
		return cli_value_text(json_object_get(row, "regex"));
	size_t cap = 1, i;
	json_t *v;
	json_array_foreach(w, i, v) cap += json_string_length(v) + 1;
	char *s = calloc(1, cap);
	if (!s)
		return NULL;
	json_array_foreach(w, i, v)
	{
		if (i)
			strcat(s, ";");
		strcat(s, json_string_value(v) ? json_string_value(v) : "");
	}
	return s;
}

static char *rule_cell(json_t *row, size_t col)
{
	static const char *const m[] = {"priority", "name",  "sender", "recipient", "class",
	                                "match",    "words", "action", "reason"};
	return col == 6 ? text_of(row) : member_cell(row, m, col);
}

static char *match_cell(json_t *row, size_t col)
{
	static const char *const m[] = {"id",        "at",     "rule", "sender",
	                                "recipient", "action", "text"};
	return member_cell(row, m, col);
}

/* Parses the global options of a command that has no other; -1 to go on,
 * or an exit code. */
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

static int cmd_rules(struct cli_ctx *ctx, int argc, char **argv)
{
	static const char *const h[] = {"PRIORITY", "NAME", "SENDER", "RECIPIENT", "CLASS",
	                                "MATCH",    "TEXT", "ACTION", "REASON"};
	struct cli_reply r;
	int rc = plain_options(ctx, argc, argv, "sms rules", usage_rules);
	if (rc >= 0)
		return rc;
	if (optind < argc)
		return cli_usage_error("sms rules", "unexpected argument '%s'", argv[optind]);
	if ((rc = cli_http_request(ctx, "GET", "/v1/sms/rules", NULL, &r)))
		return rc;
	json_t *rows = json_object_get(r.json, "rules");
	if (r.status != 200) {
		rc = cli_print_api_error(&r);
	} else if (!json_is_array(rows)) {
		fprintf(stderr, "koryo: koryod answered 200 without a list of rules\n");
		rc = CLI_EXIT_REFUSED;
	} else if (ctx->json) {
		cli_print_json(r.json);
	} else {
		cli_print_table(stdout, h, 9, rows, rule_cell);
	}
	cli_reply_free(&r);
	return rc;
}

/* Sends a change; prints what koryod answers, one member a line. */
static int send_change(struct cli_ctx *ctx, const char *method, const char *path, json_t *body,
                       const char *const *members, size_t n)
{
	struct cli_reply r;
	int rc = cli_http_request(ctx, method, path, body, &r);
	if (rc)
		return rc;
	if (r.status >= 300) {
		rc = cli_print_api_error(&r);
	} else if (ctx->json && r.json) {
		cli_print_json(r.json);
	} else if (r.json) {
		for (size_t i = 0; i < n; i++) {
			char *v = strcmp(members[i], "text") == 0
			              ? text_of(r.json)
			              : cli_value_text(json_object_get(r.json, members[i]));
			printf("%-10s %s\n", members[i], v ? v : "-");
			free(v);
		}
	}
	cli_reply_free(&r);
	return rc;
}

/* --words 'a;b' as the JSON array the API takes. */
static json_t *words_array(const char *list)
{
	json_t *a = json_array();
	const char *s = list;
	while (a) {
		size_t n = strcspn(s, ";");
		json_array_append_new(a, json_stringn(s, n));
		if (!s[n])
			break;
		s += n + 1;
	}
	return a;
}

static int cmd_rule(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"priority", required_argument, NULL, O_PRIORITY},
	    {"action", required_argument, NULL, O_ACTION},
	    {"reason", required_argument, NULL, O_REASON},
	    {"sender", required_argument, NULL, O_SENDER},
	    {"recipient", required_argument, NULL, O_RECIPIENT},
	    {"class", required_argument, NULL, O_CLASS},
	    {"words", required_argument, NULL, O_WORDS},
	    {"regex", required_argument, NULL, O_REGEX},
	    CLI_GLOBAL_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	static const char *const shown[] = {"name",  "priority", "sender", "recipient", "class",
	                                    "match", "text",     "action", "reason"};
	const char *cmd = "sms rule";
	if (argc < 2 || (strcmp(argv[1], "set") != 0 && strcmp(argv[1], "del") != 0)) {
		if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
			fputs(usage_rule_set, stdout);
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
			fputs(usage_rule_set, stdout);
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
		case O_WORDS:
			json_object_set_new(body, "words", words_array(optarg));
			continue;
		case O_ACTION:
			member = "action";
			break;
		case O_REASON:
			member = "reason";
			break;
		case O_SENDER:
			member = "sender";
			break;
		case O_RECIPIENT:
			member = "recipient";
			break;
		case O_CLASS:
			member = "class";
			break;
		case O_REGEX:
			member = "regex";
			break;
		default:
			json_decref(body);
			return CLI_EXIT_USAGE;
		}
		json_object_set_new(body, member, json_string(optarg));
	}
	if (argc - optind != 1) {
		json_decref(body);
		return cli_usage_error(cmd, "expected one rule NAME");
	}
	if (del && json_object_size(body) > 0) {
		json_decref(body);
		return cli_usage_error(cmd, "del takes only the NAME");
	}
	if (json_object_get(body, "words") && json_object_get(body, "regex")) {
		json_decref(body);
		return cli_usage_error(cmd, "give --words or --regex, not both");
	}
	char *esc = cli_http_escape(argv[optind]), *path = NULL;
	if (!esc || asprintf(&path, "/v1/sms/rules/%s", esc) < 0) {
		free(esc);
		json_decref(body);
		return oom();
	}
	rc = send_change(ctx, del ? "DELETE" : "PUT", path, del ? NULL : body, shown, 9);
	free(esc);
	free(path);
	json_decref(body);
	return rc;
}

static int cmd_limits(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"messages", required_argument, NULL, O_MESSAGES},
	    {"seconds", required_argument, NULL, O_SECONDS},
	    CLI_GLOBAL_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	static const char *const shown[] = {"messages", "seconds"};
	const char *cmd = "sms limits";
	unsigned long long m = 0, s = 0;
	bool have_m = false, have_s = false;
	int c, rc;
	optind = 0;
	while ((c = cli_getopt(ctx, argc, argv, opts, cmd)) != -1) {
		if (c == CLI_OPT_HELP) {
			fputs(usage_limits, stdout);
			return CLI_EXIT_OK;
		} else if (c == O_MESSAGES) {
			if ((rc = cli_parse_u64(cmd, "--messages", optarg, &m)))
				return rc;
			have_m = true;
		} else if (c == O_SECONDS) {
			if ((rc = cli_parse_u64(cmd, "--seconds", optarg, &s)))
				return rc;
			have_s = true;
		} else {
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (have_m != have_s)
		return cli_usage_error(cmd, "give both --messages and --seconds");
	if (!have_m)
		return send_change(ctx, "GET", "/v1/sms/limits", NULL, shown, 2);
	json_t *body = json_pack("{s:I,s:I}", "messages", (json_int_t)m, "seconds", (json_int_t)s);
	if (!body)
		return oom();
	rc = send_change(ctx, "PUT", "/v1/sms/limits", body, shown, 2);
	json_decref(body);
	return rc;
}

static int cmd_matches(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"after", required_argument, NULL, O_AFTER},
	    {"limit", required_argument, NULL, O_LIMIT},
	    {"all", no_argument, NULL, O_ALL},
	    CLI_GLOBAL_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	static const char *const headers[] = {"ID",        "AT",     "RULE", "SENDER",
	                                      "RECIPIENT", "ACTION", "TEXT"};
	const char *cmd = "sms matches", *limit_s = NULL;
	unsigned long long after = 0, limit = 0;
	bool all = false;
	int c, rc;
	optind = 0;
	while ((c = cli_getopt(ctx, argc, argv, opts, cmd)) != -1) {
		switch (c) {
		case CLI_OPT_HELP:
			fputs(usage_matches, stdout);
			return CLI_EXIT_OK;
		case O_AFTER:
			if ((rc = cli_parse_u64(cmd, "--after", optarg, &after)))
				return rc;
			break;
		case O_LIMIT:
			if ((rc = cli_parse_u64(cmd, "--limit", optarg, &limit)))
				return rc;
			limit_s = optarg;
			break;
		case O_ALL:
			all = true;
			break;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	/* The pages are joined before printing so that the columns line up. */
	json_t *rows = json_array();
	if (!rows)
		return oom();
	for (;;) {
		char *path = NULL;
		struct cli_reply r;
		if (asprintf(&path, "/v1/sms/matches?after=%llu%s%s", after,
		             limit_s ? "&limit=" : "", limit_s ? limit_s : "") < 0) {
			json_decref(rows);
			return oom();
		}
		rc = cli_http_request(ctx, "GET", path, NULL, &r);
		free(path);
		if (rc)
			break;
		json_t *page = json_object_get(r.json, "matches"),
		       *next = json_object_get(r.json, "next_after");
		if (r.status != 200) {
			rc = cli_print_api_error(&r);
			cli_reply_free(&r);
			break;
		}
		if (!json_is_array(page)) {
			fprintf(stderr, "koryo: koryod answered 200 without a page of matches\n");
			cli_reply_free(&r);
			rc = CLI_EXIT_REFUSED;
			break;
		}
		json_array_extend(rows, page);
		long long n = json_is_integer(next) ? json_integer_value(next) : 0;
		cli_reply_free(&r);
		if (n <= 0)
			break;
		if ((unsigned long long)n <= after) {
			fprintf(stderr, "koryo: koryod's next page (%lld) does not follow %llu\n",
			        n, after);
			rc = CLI_EXIT_REFUSED;
			break;
		}
		after = (unsigned long long)n;
		if (!all) {
			fprintf(stderr, "(more: koryo sms matches --after %llu, or --all)\n",
			        after);
			break;
		}
	}
	if (rc == CLI_EXIT_OK) {
		if (ctx->json) {
			json_t *o = json_pack("{s:O,s:n}", "matches", rows, "next_after");
			cli_print_json(o);
			json_decref(o);
		} else {
			cli_print_table(stdout, headers, 7, rows, match_cell);
		}
	}
	json_decref(rows);
	return rc;
}

static int cmd_check(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"class", required_argument, NULL, O_CLASS},
	    CLI_GLOBAL_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	const char *cmd = "sms check", *cls = NULL;
	int c, rc;
	optind = 0;
	while ((c = cli_getopt(ctx, argc, argv, opts, cmd)) != -1) {
		if (c == CLI_OPT_HELP) {
			fputs(usage_check, stdout);
			return CLI_EXIT_OK;
		} else if (c == O_CLASS) {
			cls = optarg;
		} else {
			return CLI_EXIT_USAGE;
		}
	}
	if (argc - optind != 3)
		return cli_usage_error(cmd, "expected SENDER, RECIPIENT and TEXT");
	json_t *body = json_pack("{s:s,s:s,s:s}", "sender", argv[optind], "recipient",
	                         argv[optind + 1], "text", argv[optind + 2]);
	if (!body)
		return oom();
	if (cls)
		json_object_set_new(body, "class", json_string(cls));
	struct cli_reply r;
	rc = cli_http_request(ctx, "POST", "/v1/sms/check", body, &r);
	json_decref(body);
	if (rc)
		return rc;
	const char *action = json_string_value(json_object_get(r.json, "action"));
	if (r.status != 200) {
		rc = cli_print_api_error(&r);
	} else if (!action) {
		fprintf(stderr, "koryo: koryod answered 200 without an action\n");
		rc = CLI_EXIT_REFUSED;
	} else {
		if (ctx->json) {
			cli_print_json(r.json);
		} else {
			char *rule = cli_value_text(json_object_get(r.json, "rule"));
			char *reason = cli_value_text(json_object_get(r.json, "reason"));
			printf("%s by %s: %s\n", action, rule ? rule : "-", reason ? reason : "-");
			free(rule);
			free(reason);
		}
		rc = strcmp(action, "deliver") == 0 ? CLI_EXIT_OK : CLI_EXIT_REFUSED;
	}
	cli_reply_free(&r);
	return rc;
}

int cli_cmd_sms(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {CLI_GLOBAL_OPTIONS, {NULL, 0, NULL, 0}};
	int c;
	optind = 0;
	while ((c = cli_getopt_head(ctx, argc, argv, opts, "sms")) != -1) {
		if (c == CLI_OPT_HELP) {
			fputs(usage_sms, stdout);
			return CLI_EXIT_OK;
		}
		return CLI_EXIT_USAGE;
	}
	if (optind >= argc)
		return cli_usage_error("sms",
		                       "missing command (rules, rule, limits, matches, check)");
	argc -= optind;
	argv += optind;
	const char *sub = argv[0];
	if (strcmp(sub, "rules") == 0)
		return cmd_rules(ctx, argc, argv);
	if (strcmp(sub, "rule") == 0)
		return cmd_rule(ctx, argc, argv);
	if (strcmp(sub, "limits") == 0)
		return cmd_limits(ctx, argc, argv);
	if (strcmp(sub, "matches") == 0)
		return cmd_matches(ctx, argc, argv);
	if (strcmp(sub, "check") == 0)
		return cmd_check(ctx, argc, argv);
	return cli_usage_error("sms", "unknown command '%s' (rules, rule, limits, matches, check)",
	                       sub);
}
