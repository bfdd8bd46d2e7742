/* koryo sms: the SMS content rules through /v1/sms (docs/api.md): the rules,
 * the flood limit, the record of matches, and a check that says what koryod
 * decides for a message; and the SMS centre: the messages waiting or held
 * (never their text), the release or deletion of held ones, its CDRs and its
 * counters. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_page.h"
#include "cli/http.h"
#include "cli/output.h"

static const char usage_sms[] =
    "Usage: koryo sms COMMAND [OPTIONS]\n"
    "\n"
    "Read and change the SMS content rules (the SMS firewall): which messages\n"
    "are delivered, held for review or refused, and the flood limit per sender\n"
    "(docs/sms-rules.md); see and act on what the SMS centre stores.\n"
    "\n"
    "Content rules:\n"
    "  rules                    list the rules in the order they are tried\n"
    "  rule set NAME OPTIONS    create or replace a rule\n"
    "  rule del NAME            delete a rule\n"
    "  limits [OPTIONS]         show or set the flood limit per sender\n"
    "  matches                  list the recorded matches, oldest first\n"
    "  check SENDER RECIPIENT TEXT\n"
    "                           what koryod decides for this message, and why\n"
    "\n"
    "SMS centre:\n"
    "  messages                 list the messages waiting or held, oldest first\n"
    "  message ID               show one of them\n"
    "  release ID               deliver a held message\n"
    "  delete ID                drop a held message\n"
    "  cdrs                     list the SMS CDRs, oldest first\n"
    "  centre                   the centre's counters\n"
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
    "  --json               print koryod's JSON page instead; with --all, one\n"
    "                       object {\"matches\": [every match], \"next_after\": null}\n"
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

static const char usage_messages[] =
    "Usage: koryo sms messages [--msisdn N] [--after ID] [--limit N] [--all]\n"
    "\n"
    "List the messages the SMS centre stores and has not finished with, oldest\n"
    "first: ID, STATE (waiting, or held for review by a content rule), KIND\n"
    "(message, or a status report), SENDER and RECIPIENT (MSISDNs), SEGMENTS,\n"
    "SIZE (octets of text or data), SUBMITTED and EXPIRES (UTC), ATTEMPTS (of\n"
    "delivery) and LAST_ERROR. Never the text. Without --all one page is shown\n"
    "and the command for the next is printed on stderr.\n"
    "\n"
    "Options:\n"
    "  --msisdn N           only the messages to this MSISDN (international\n"
    "                       digits, an optional '+')\n"
    "  --after ID           start after the message with this ID\n"
    "  --limit N            page size, 1 to 1000 (koryod's default: 100)\n"
    "  --all                follow the pages to the end\n"
    "  --json               print koryod's JSON page instead; with --all, one\n"
    "                       object {\"messages\": [every message], \"next_after\": null}\n"
    "\n"
    "Exit status: 0 listed (even none), 1 koryod refused an option or the\n"
    "centre is off, 2 usage error, 3 koryod unreachable or the token refused.\n"
    "\n"
    "Examples:\n"
    "  koryo sms messages --msisdn 85019120000002\n"
    "  koryo sms messages --all | awk '$2 == \"held\"'\n";

static const char usage_message[] =
    "Usage: koryo sms message ID\n"
    "\n"
    "Show one message the SMS centre stores and has not finished with, as\n"
    "'field value' lines (the members of GET /v1/sms/messages/ID; never the\n"
    "text). A message delivered, expired, failed or deleted is no longer\n"
    "there: its CDR tells how it ended (koryo sms cdrs).\n"
    "\n"
    "Options:\n"
    "  --json               print koryod's JSON instead\n"
    "\n"
    "Exit status: 0 shown, 1 no such message (or the centre is off), 2 usage\n"
    "error, 3 koryod unreachable or the token refused.\n";

static const char usage_release[] =
    "Usage: koryo sms release ID\n"
    "       koryo sms delete ID\n"
    "\n"
    "Act on a message a content rule held for review (its text is in the\n"
    "record of matches: koryo sms matches). release delivers it as if no rule\n"
    "had held it; delete drops it, and its CDR says \"deleted\". The change is\n"
    "stored before koryod answers and is recorded with the actor \"api\".\n"
    "\n"
    "Exit status: 0 done, 1 no such held message (or the centre is off),\n"
    "2 usage error, 3 koryod unreachable or the token refused.\n"
    "\n"
    "Example:\n"
    "  koryo sms messages | awk '$2 == \"held\" {print $1}' | xargs -n1 koryo sms delete\n";

static const char usage_cdrs[] =
    "Usage: koryo sms cdrs [--after SEQ] [--limit N] [--all] [--csv | --jsonl]\n"
    "\n"
    "List the SMS centre's CDRs, one per message accepted (and per status\n"
    "report), written when it ends, oldest first: SEQ (the key of paging), ID\n"
    "(the message's), KIND, SENDER, RECIPIENT, SEGMENTS, SIZE, SUBMITTED and\n"
    "FINAL (UTC), ATTEMPTS, OUTCOME (delivered, expired, failed, deleted) and\n"
    "CHANNEL (the access that delivered it). koryod answers a page at a time;\n"
    "without --all one page is shown and, if there is more, the command to see\n"
    "the next page is printed on stderr.\n"
    "\n"
    "Options:\n"
    "  --after SEQ          start after this CDR (a previous page's last SEQ;\n"
    "                       0, the default, is the beginning)\n"
    "  --limit N            page size, 1 to 1000 (koryod's default: 100)\n"
    "  --all                follow the pages to the end\n"
    "  --csv                print koryod's CSV (RFC 4180, a header line, every\n"
    "                       field of the record) instead of the table; with\n"
    "                       --all, one header line for all the pages\n"
    "  --jsonl              print koryod's JSON lines (one record a line)\n"
    "  --json               print koryod's JSON page instead; with --all, one\n"
    "                       object {\"cdrs\": [every record], \"next_after\": null}\n"
    "\n"
    "CDRs are never changed once written, so a later --after of the last SEQ\n"
    "seen gets exactly the new ones.\n"
    "\n"
    "Exit status: 0 listed (even none), 1 koryod refused an option or the\n"
    "centre is off, 2 usage error, 3 koryod unreachable or the token refused.\n"
    "\n"
    "Examples:\n"
    "  koryo sms cdrs --all --csv > sms-cdrs.csv\n"
    "  koryo sms cdrs --after 41200 --csv --all | tail -n +2 >> sms-cdrs.csv\n";

static const char usage_centre[] =
    "Usage: koryo sms centre\n"
    "\n"
    "Show the SMS centre's counters since koryod started (submitted, refused,\n"
    "no_credit, delivered, expired, failed, attempts, retries, reports_sent,\n"
    "incomplete_dropped) and what it holds now (waiting, held, in_flight,\n"
    "segments_waiting), one 'name value' a line. /metrics has the same as\n"
    "koryo_sms_* (docs/metrics.md).\n"
    "\n"
    "Options:\n"
    "  --json               print koryod's JSON instead\n"
    "\n"
    "Exit status: 0 shown, 1 the centre is off, 2 usage error, 3 koryod\n"
    "unreachable or the token refused.\n";

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
	O_MSISDN,
	O_CSV,
	O_JSONL,
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
		int w = 10;
		for (size_t i = 0; i < n; i++)
			if ((int)strlen(members[i]) > w)
				w = (int)strlen(members[i]);
		for (size_t i = 0; i < n; i++) {
			char *v = strcmp(members[i], "text") == 0
			              ? text_of(r.json)
			              : cli_value_text(json_object_get(r.json, members[i]));
			printf("%-*s %s\n", w, members[i], v ? v : "-");
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
	    CLI_PAGE_OPTIONS,
	    CLI_GLOBAL_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	static const char *const headers[] = {"ID",        "AT",     "RULE", "SENDER",
	                                      "RECIPIENT", "ACTION", "TEXT"};
	const char *cmd = "sms matches";
	struct cli_page_opts po = {0};
	unsigned long long after;
	int c, rc;
	optind = 0;
	while ((c = cli_getopt(ctx, argc, argv, opts, cmd)) != -1) {
		if (c == CLI_OPT_HELP) {
			fputs(usage_matches, stdout);
			return CLI_EXIT_OK;
		}
		if (!cli_page_opt(c, &po))
			return CLI_EXIT_USAGE;
	}
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if ((rc = cli_page_check(cmd, &po, &after)))
		return rc;
	/* The pages are joined before printing so that the columns line up. */
	struct cli_pager pg = {.items = "matches",
	                       .more = "koryo sms matches",
	                       .headers = headers,
	                       .ncols = 7,
	                       .cell = match_cell};
	return cli_pages(ctx, &pg, "/v1/sms/matches?", &po, after, NULL);
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

/* --- the SMS centre ------------------------------------------------------------------ */

static char *message_cell(json_t *row, size_t col)
{
	static const char *const m[] = {
	    "id",   "state",        "kind",       "sender_msisdn", "recipient_msisdn", "segments",
	    "size", "submitted_at", "expires_at", "attempts",      "last_error"};
	return member_cell(row, m, col);
}

static int cmd_messages(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    CLI_PAGE_OPTIONS,
	    {"msisdn", required_argument, NULL, O_MSISDN},
	    CLI_GLOBAL_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	static const char *const headers[] = {"ID",        "STATE",    "KIND",      "SENDER",
	                                      "RECIPIENT", "SEGMENTS", "SIZE",      "SUBMITTED",
	                                      "EXPIRES",   "ATTEMPTS", "LAST_ERROR"};
	const char *cmd = "sms messages", *msisdn = NULL;
	struct cli_page_opts po = {0};
	unsigned long long after;
	int c, rc;
	optind = 0;
	while ((c = cli_getopt(ctx, argc, argv, opts, cmd)) != -1) {
		if (c == CLI_OPT_HELP) {
			fputs(usage_messages, stdout);
			return CLI_EXIT_OK;
		}
		if (c == O_MSISDN)
			msisdn = optarg;
		else if (!cli_page_opt(c, &po))
			return CLI_EXIT_USAGE;
	}
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if ((rc = cli_page_check(cmd, &po, &after)))
		return rc;
	char *esc = msisdn ? cli_http_escape(msisdn) : NULL, *base, *more;
	if (msisdn && !esc)
		return oom();
	if (asprintf(&base, "/v1/sms/messages?%s%s%s", esc ? "msisdn=" : "", esc ? esc : "",
	             esc ? "&" : "") < 0) {
		free(esc);
		return oom();
	}
	if (asprintf(&more, "koryo sms messages%s%s", msisdn ? " --msisdn " : "",
	             msisdn ? msisdn : "") < 0) {
		free(esc);
		free(base);
		return oom();
	}
	/* The pages are joined before printing so that the columns line up. */
	struct cli_pager pg = {.items = "messages",
	                       .more = more,
	                       .headers = headers,
	                       .ncols = 11,
	                       .cell = message_cell};
	rc = cli_pages(ctx, &pg, base, &po, after, NULL);
	free(esc);
	free(base);
	free(more);
	return rc;
}

/* The ID of `sms message|release|delete ID`: a positive decimal number, in
 * *path as "/v1/sms/messages/ID" and the suffix. */
static int message_path(const char *cmd, int argc, char **argv, const char *suffix, char **path)
{
	unsigned long long id;
	int rc;
	if (argc - optind != 1)
		return cli_usage_error(cmd, "expected one message ID");
	if ((rc = cli_parse_u64(cmd, "ID", argv[optind], &id)))
		return rc;
	if (asprintf(path, "/v1/sms/messages/%llu%s", id, suffix) < 0)
		return oom();
	return 0;
}

static int cmd_message(struct cli_ctx *ctx, int argc, char **argv)
{
	static const char *const shown[] = {"id",           "state",         "kind",
	                                    "origin",       "sender_msisdn", "recipient_msisdn",
	                                    "segments",     "size",          "report_requested",
	                                    "submitted_at", "expires_at",    "attempts",
	                                    "last_error"};
	char *path = NULL;
	int rc = plain_options(ctx, argc, argv, "sms message", usage_message);
	if (rc >= 0)
		return rc;
	if ((rc = message_path("sms message", argc, argv, "", &path)))
		return rc;
	rc = send_change(ctx, "GET", path, NULL, shown, sizeof(shown) / sizeof(shown[0]));
	free(path);
	return rc;
}

/* release and delete: argv[0] says which. */
static int cmd_release(struct cli_ctx *ctx, int argc, char **argv)
{
	bool del = strcmp(argv[0], "delete") == 0;
	const char *cmd = del ? "sms delete" : "sms release";
	struct cli_reply r;
	char *path = NULL;
	int rc = plain_options(ctx, argc, argv, cmd, usage_release);
	if (rc >= 0)
		return rc;
	if ((rc = message_path(cmd, argc, argv, del ? "" : "/release", &path)))
		return rc;
	rc = cli_http_request(ctx, del ? "DELETE" : "POST", path, NULL, &r);
	free(path);
	if (rc)
		return rc;
	if (r.status >= 300)
		rc = cli_print_api_error(&r);
	else if (!ctx->json)
		printf("message %s %s\n", argv[optind], del ? "deleted" : "released");
	cli_reply_free(&r);
	return rc;
}

static char *cdr_text(json_t *row, const char *member)
{
	char *v = cli_value_text(json_object_get(row, member));
	/* The cells come from the phones: control characters are not obeyed. */
	for (char *p = v; p && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return v;
}

/* Fixed widths, since pages are printed as they arrive: a seq and an id of
 * 10 digits, the kind, MSISDNs (15), segments (up to 255), a size, times
 * with milliseconds (24), attempts and the longest outcome ("delivered"). */
#define CDR_ROW_FMT "%-10s %-10s %-7s %-15s %-15s %-4s %-6s %-24s %-24s %-4s %-9s %s\n"

static void cdr_header(void)
{
	printf(CDR_ROW_FMT, "SEQ", "ID", "KIND", "SENDER", "RECIPIENT", "SEGS", "SIZE", "SUBMITTED",
	       "FINAL", "ATT", "OUTCOME", "CHANNEL");
}

static void cdr_row(json_t *cdr)
{
	static const char *const m[] = {
	    "seq",  "id",           "kind",     "sender_msisdn", "recipient_msisdn", "segments",
	    "size", "submitted_at", "final_at", "attempts",      "outcome",          "channel"};
	char *v[12];
	bool ok = true;
	for (int i = 0; i < 12; i++) {
		v[i] = cdr_text(cdr, m[i]);
		ok = ok && v[i];
	}
	if (ok)
		printf(CDR_ROW_FMT, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9],
		       v[10], v[11]);
	for (int i = 0; i < 12; i++)
		free(v[i]);
}

static int cmd_cdrs(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    CLI_PAGE_OPTIONS,
	    {"csv", no_argument, NULL, O_CSV},
	    {"jsonl", no_argument, NULL, O_JSONL},
	    CLI_GLOBAL_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	const char *cmd = "sms cdrs", *format = NULL;
	struct cli_page_opts po = {0};
	unsigned long long after;
	int c, rc;
	optind = 0;
	while ((c = cli_getopt(ctx, argc, argv, opts, cmd)) != -1) {
		if (c == CLI_OPT_HELP) {
			fputs(usage_cdrs, stdout);
			return CLI_EXIT_OK;
		}
		if (c == O_CSV || c == O_JSONL) {
			const char *f = c == O_CSV ? "csv" : "jsonl";
			if (format && strcmp(format, f) != 0)
				return cli_usage_error(cmd, "give --csv or --jsonl, not both");
			format = f;
		} else if (!cli_page_opt(c, &po)) {
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (format && ctx->json)
		return cli_usage_error(cmd, "give --%s or --json, not both", format);
	if ((rc = cli_page_check(cmd, &po, &after)))
		return rc;
	struct cli_pager pg = {
	    .items = "cdrs", .header = cdr_header, .row = cdr_row, .more = "koryo sms cdrs"};
	return cli_pages(ctx, &pg, "/v1/sms/cdrs?", &po, after, format);
}

static int cmd_centre(struct cli_ctx *ctx, int argc, char **argv)
{
	static const char *const shown[] = {
	    "submitted", "refused",  "no_credit", "delivered",       "expired",
	    "failed",    "attempts", "retries",   "reports_sent",    "incomplete_dropped",
	    "waiting",   "held",     "in_flight", "segments_waiting"};
	int rc = plain_options(ctx, argc, argv, "sms centre", usage_centre);
	if (rc >= 0)
		return rc;
	if (optind < argc)
		return cli_usage_error("sms centre", "unexpected argument '%s'", argv[optind]);
	return send_change(ctx, "GET", "/v1/sms/centre", NULL, shown,
	                   sizeof(shown) / sizeof(shown[0]));
}

/* The commands, as the usage errors list them. */
#define SMS_COMMANDS                                                                               \
	"rules, rule, limits, matches, check, messages, message, release, delete, cdrs, centre"

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
		return cli_usage_error("sms", "missing command (" SMS_COMMANDS ")");
	argc -= optind;
	argv += optind;
	static const struct {
		const char *name;
		int (*fn)(struct cli_ctx *ctx, int argc, char **argv);
	} cmds[] = {
	    {"rules", cmd_rules},     {"rule", cmd_rule},       {"limits", cmd_limits},
	    {"matches", cmd_matches}, {"check", cmd_check},     {"messages", cmd_messages},
	    {"message", cmd_message}, {"release", cmd_release}, {"delete", cmd_release},
	    {"cdrs", cmd_cdrs},       {"centre", cmd_centre},
	};
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[0], cmds[i].name) == 0)
			return cmds[i].fn(ctx, argc, argv);
	return cli_usage_error("sms", "unknown command '%s' (" SMS_COMMANDS ")", argv[0]);
}
