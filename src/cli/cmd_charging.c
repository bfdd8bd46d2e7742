/* koryo account and koryo voucher: balances, the ledger, top-ups, operators'
 * adjustments, rated CDRs and organisations' caps through /v1/charging, and
 * top-up card batches (docs/charging.md, docs/api.md). gen and upload are in voucher_gen.c. */
#include <errno.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_page.h"
#include "cli/http.h"
#include "cli/output.h"
#include "cli/voucher.h"
#include "crypto/aka.h"

static const char usage_account[] =
    "Usage: koryo account COMMAND [OPTIONS]\n"
    "\n"
    "Prepaid accounts: a subscriber's (KEY: IMSI, msisdn:N or iccid:N) or a paying\n"
    "organisation's (org:NAME).\n"
    "\n"
    "Commands:\n"
    "  show     balances per currency and the month's allowances\n"
    "  ledger   the account's ledger rows, a page or all of them\n"
    "  topup    redeem a top-up card for a subscriber\n"
    "  adjust   credit or debit an account, with a reason\n"
    "  cdrs     the rated CDRs of every account (calls and SMS)\n"
    "  org      the monthly caps of official lines per organisation (list, set)\n"
    "\n"
    "Run 'koryo account COMMAND --help' for a command's options.\n";

static const char usage_org[] =
    "Usage: koryo account org list\n"
    "       koryo account org set NAME --minutes N --sms N [--description TEXT]\n"
    "\n"
    "The monthly caps of official lines, per paying organisation (NAME of the\n"
    "holder's document OFF-NAME-nnnn). A cap replaces the plan's free minutes and\n"
    "SMS of the organisation's lines; an organisation without one keeps the\n"
    "plan's. A changed cap applies from the next monthly renewal (the 1st, UTC):\n"
    "this month's allowance stays as it was given.\n"
    "\n"
    "Commands:\n"
    "  list     every cap: NAME, MINUTES, SMS, UPDATED (UTC), DESCRIPTION\n"
    "  set      create or replace the cap of NAME (both --minutes and --sms)\n"
    "\n"
    "Options:\n"
    "  --minutes N          free minutes a month, 0 to 1000000\n"
    "  --sms N              free SMS a month, 0 to 1000000\n"
    "  --description TEXT   up to 159 characters (set replaces it; default empty)\n"
    "  --json               print koryod's JSON instead\n"
    "\n"
    "Exit status: 0 listed or set, 1 refused (the error names the field) or\n"
    "charging is off, 2 usage error, 3 koryod unreachable or the token refused.\n"
    "\n"
    "Examples:\n"
    "  koryo account org list\n"
    "  koryo account org set WPK --minutes 1200 --sms 300 --description \"Party\"\n";

static const char usage_show[] =
    "Usage: koryo account show KEY\n"
    "\n"
    "Show an account: its plan, its paying organisation (official lines), the\n"
    "calls open now, then a table of its buckets: one per currency of the\n"
    "network with the balance in major units (EUR 12.50 shows as 12.50; KPW has\n"
    "no minor unit), and the month's free minutes and SMS with the time they\n"
    "lapse (VALID_UNTIL, UTC). Money does not lapse ('-').\n"
    "\n"
    "KEY is an IMSI, msisdn:N, iccid:N or org:NAME.\n"
    "\n"
    "Options:\n"
    "  --json               print koryod's JSON instead (amounts in minor units)\n"
    "\n"
    "Exit status: 0 shown, 1 no such account or charging is off, 2 usage error,\n"
    "3 koryod unreachable or the token refused.\n"
    "\n"
    "Examples:\n"
    "  koryo account show msisdn:85019130000001\n"
    "  koryo account show org:WPK\n";

static const char usage_ledger[] =
    "Usage: koryo account ledger [KEY] [--after SEQ] [--limit N] [--all]\n"
    "\n"
    "List ledger rows oldest first: those of account KEY, or of every account\n"
    "without KEY. Columns: SEQ, AT (UTC), ACCOUNT, KIND (initial, period,\n"
    "org_fee, topup, adjust, reserve, call_end, sms), AMOUNT (money moved, with\n"
    "its currency; '-' for none), SECONDS and SMS (allowance moved), SESSION\n"
    "(the call, message, card serial or month the row belongs to) and REASON.\n"
    "Credits are positive, debits negative; an account's balances are the sums\n"
    "of its rows. koryod answers a page at a time; without --all one page is\n"
    "shown and, if there is more, the command for the next is printed on stderr.\n"
    "\n"
    "Options:\n"
    "  --after SEQ          start after this row (a previous page's last)\n"
    "  --limit N            page size, 1 to 1000 (koryod's default: 100)\n"
    "  --all                follow the pages to the end\n"
    "  --json               print koryod's JSON page; with --all, one object\n"
    "                       {\"rows\": [every row], \"next_after\": null}\n"
    "\n"
    "Exit status: 0 listed (even none), 1 no such account or koryod refused an\n"
    "option, 2 usage error, 3 koryod unreachable or the token refused.\n"
    "\n"
    "Examples:\n"
    "  koryo account ledger 467051000000001\n"
    "  koryo account ledger --all --after 41200\n";

static const char usage_topup[] =
    "Usage: koryo account topup KEY --pin - [--op-id ID]\n"
    "       koryo account topup KEY --pin PIN [--op-id ID]\n"
    "\n"
    "Redeem a top-up card for subscriber KEY (IMSI, msisdn:N or iccid:N), as the\n"
    "subscriber would by dialling *123*PIN#, and print koryod's answer\n"
    "('Credited EUR 10.00; balance EUR 12.50'). A card is redeemed once; five\n"
    "wrong PINs in 15 minutes block the subscriber's top-ups for the rest of\n"
    "those 15 minutes.\n"
    "\n"
    "Options:\n"
    "  --pin -              read the PIN from standard input (one line; without\n"
    "                       echo when that is a terminal): it is then on no\n"
    "                       command line and in no shell history\n"
    "  --pin PIN            the PIN itself: visible to other local users (ps)\n"
    "                       until koryo blanks it, and kept in the shell history\n"
    "  --op-id ID           the operation's id, 1 to 63 characters (default: a\n"
    "                       random one); the same id again is answered as the\n"
    "                       first time and credits nothing more\n"
    "\n"
    "Exit status: 0 credited, 1 refused (no card has this PIN, already redeemed,\n"
    "expired, too many wrong PINs, no such subscriber), 2 usage error, 3 koryod\n"
    "unreachable or the token refused.\n"
    "\n"
    "Example:\n"
    "  koryo account topup msisdn:85019130000001 --pin - < pin.txt\n";

static const char usage_adjust[] =
    "Usage: koryo account adjust KEY --reason TEXT [--amount N --currency C]\n"
    "                            [--seconds N] [--sms N] [--op-id ID]\n"
    "\n"
    "Credit (positive) or debit (negative) an account by hand: money, free\n"
    "seconds or free SMS, with the reason written into the ledger. Prints\n"
    "koryod's answer ('Adjusted by EUR 2.50.').\n"
    "\n"
    "KEY is an IMSI, msisdn:N, iccid:N or org:NAME.\n"
    "\n"
    "Options:\n"
    "  --reason TEXT        why, 1 to 159 characters (required)\n"
    "  --amount N           money in minor units of --currency, signed\n"
    "                       (-250 takes EUR 2.50; KPW has no minor unit)\n"
    "  --currency C         the currency of --amount (EUR, USD, CNY, KPW)\n"
    "  --seconds N          free seconds of the month's allowance, signed\n"
    "  --sms N              free SMS of the month's allowance, signed\n"
    "  --op-id ID           the operation's id, 1 to 63 characters (default: a\n"
    "                       random one, printed if koryod's answer is lost): the\n"
    "                       same id again moves nothing more, so a script that\n"
    "                       retries must pass one\n"
    "\n"
    "At least one of --amount, --seconds, --sms is needed.\n"
    "\n"
    "Exit status: 0 adjusted, 1 refused (the error names the field), 2 usage\n"
    "error, 3 koryod unreachable or the token refused.\n"
    "\n"
    "Example:\n"
    "  koryo account adjust 467051000000001 --amount 500 --currency EUR \\\n"
    "      --reason 'goodwill: dropped calls 2026-11-20' --op-id ticket-8812\n";

static const char usage_cdrs[] =
    "Usage: koryo account cdrs [--after ID] [--limit N] [--all]\n"
    "                          [--format table|json|jsonl|csv]\n"
    "\n"
    "List the rated CDRs of every account, oldest first: one per call (when it\n"
    "ends) and per SMS. Columns: ID, SERVICE (voice or sms), ACCOUNT,\n"
    "DESTINATION (national, international, short_code, class:NAME), ENDED\n"
    "(UTC), SECONDS (charged, rounded up to the tariff's unit), ALLOWANCE (of\n"
    "it, from the free minutes or SMS), CHARGED (money) and SESSION (the call's\n"
    "or message's id). Not the SIP proxy's records: see 'koryo cdrs'.\n"
    "\n"
    "Options:\n"
    "  --after ID           start after this CDR (a previous page's last)\n"
    "  --limit N            page size, 1 to 1000 (koryod's default: 100)\n"
    "  --all                follow the pages to the end\n"
    "  --format F           table (default), json (koryod's page; same as --json),\n"
    "                       jsonl (one JSON object a line) or csv (RFC 4180 with a\n"
    "                       header line, once with --all)\n"
    "\n"
    "Exit status: 0 listed (even none), 1 koryod refused an option or charging\n"
    "is off, 2 usage error, 3 koryod unreachable or the token refused.\n"
    "\n"
    "Examples:\n"
    "  koryo account cdrs --all --format csv > rated.csv\n"
    "  koryo account cdrs --all --format jsonl --after 41200 >> rated.jsonl\n";

static const char usage_voucher[] =
    "Usage: koryo voucher COMMAND [OPTIONS]\n"
    "\n"
    "Top-up cards: a serial and a PIN each, made in batches.\n"
    "\n"
    "Commands:\n"
    "  gen      make a batch locally and write its card file (no koryod needed)\n"
    "  upload   send koryod the PIN hashes of a card file\n"
    "  list     the batches koryod has, with how many cards are redeemed\n"
    "\n"
    "Run 'koryo voucher COMMAND --help' for a command's options.\n";

static const char usage_list[] =
    "Usage: koryo voucher list\n"
    "\n"
    "List the card batches koryod has, oldest upload first: BATCH, CURRENCY,\n"
    "VALUE (of each card, major units), CARDS, REDEEMED, EXPIRES (the cards are\n"
    "refused from then on, UTC), UPLOADED and ITERATIONS (of PBKDF2). No PIN or\n"
    "hash is shown.\n"
    "\n"
    "Options:\n"
    "  --json               print koryod's JSON instead\n"
    "\n"
    "Exit status: 0 listed (even none), 1 charging is off, 2 usage error,\n"
    "3 koryod unreachable or the token refused.\n";

enum {
	O_FORMAT = CLI_OPT_FIRST_LOCAL,
	O_PIN,
	O_OP_ID,
	O_AMOUNT,
	O_CURRENCY,
	O_SECONDS,
	O_SMS,
	O_REASON,
	O_MINUTES,
	O_DESCRIPTION,
};

static int oom(void)
{
	fprintf(stderr, "koryo: out of memory\n");
	return CLI_EXIT_UNREACHABLE;
}

/* A signed decimal number for option opt. 0, or CLI_EXIT_USAGE after
 * printing why. */
static int parse_i64(const char *cmd, const char *opt, const char *s, long long *out)
{
	char *end;
	const char *d = s[0] == '-' ? s + 1 : s;

	if (*d < '0' || *d > '9')
		return cli_usage_error(cmd, "%s must be a decimal number", opt);
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end)
		return cli_usage_error(cmd, "%s must be a decimal number", opt);
	*out = v;
	return 0;
}

/* The escaped API path of account key, with suffix appended. Returns 0 or an
 * exit code. */
static int account_path(const char *cmd, const char *key, const char *suffix, char **path)
{
	char *esc;

	if (!key[0])
		return cli_usage_error(cmd, "the account's key is empty");
	if (!(esc = cli_http_escape(key)))
		return oom();
	int n = asprintf(path, "/v1/charging/accounts/%s%s", esc, suffix);
	free(esc);
	return n < 0 ? oom() : 0;
}

/* The one KEY of a command, or a usage error. */
static int one_key(const char *cmd, int argc, char **argv, const char **key)
{
	if (optind >= argc)
		return cli_usage_error(cmd, "which account? give an IMSI, msisdn:N, iccid:N or "
		                            "org:NAME");
	if (optind + 1 < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
	*key = argv[optind];
	return 0;
}

/* "cli-" and 16 random hex digits: unique enough that two operators never
 * share one, so that only a retry of this very command repeats it. */
static int random_op_id(char out[24])
{
	uint8_t b[8];

	if (crypto_random(b, sizeof(b)) != 0) {
		fprintf(stderr, "koryo: the random generator failed\n");
		return CLI_EXIT_REFUSED;
	}
	snprintf(out, 24, "cli-");
	for (size_t i = 0; i < sizeof(b); i++)
		snprintf(out + 4 + 2 * i, 3, "%02x", b[i]);
	return 0;
}

static const char *str_or(json_t *v, const char *def)
{
	return json_is_string(v) ? json_string_value(v) : def;
}

/* "EUR -0.25", or "-" when no currency is named. Caller frees. */
static char *money_text(json_t *row, const char *amount_member)
{
	json_t *cur = json_object_get(row, "currency"), *dec = json_object_get(row, "decimal");
	char *s = NULL;

	if (!json_is_string(cur) || !json_string_length(cur))
		return strdup("-");
	if (json_is_string(dec)) {
		if (asprintf(&s, "%s %s", json_string_value(cur), json_string_value(dec)) < 0)
			return NULL;
		return s;
	}
	if (asprintf(&s, "%s %" JSON_INTEGER_FORMAT, json_string_value(cur),
	             json_integer_value(json_object_get(row, amount_member))) < 0)
		return NULL;
	return s;
}

/* Replaces control characters (a Call-ID from a phone) before printing. */
static void make_safe(char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

/* --- account show ------------------------------------------------------------------------ */

/* Free seconds as minutes: "200 min", "199 min 30 s", "-30 s". */
static void minutes_text(long long s, char *out, size_t cap)
{
	if (s < 0 || (s > 0 && s < 60))
		snprintf(out, cap, "%lld s", s);
	else if (s % 60)
		snprintf(out, cap, "%lld min %lld s", s / 60, s % 60);
	else
		snprintf(out, cap, "%lld min", s / 60);
}

static char *bucket_cell(json_t *row, size_t col)
{
	return strdup(str_or(json_array_get(row, col), "-"));
}

static int print_account(json_t *a)
{
	static const char *const headers[] = {"BUCKET", "BALANCE", "VALID_UNTIL"};
	json_t *bal = json_object_get(a, "balances"), *allow = json_object_get(a, "allowance");
	json_t *rows = json_array(), *b;
	char buf[64];
	size_t i;

	if (!rows)
		return oom();
	printf("account:      %s\n", str_or(json_object_get(a, "account"), "-"));
	printf("plan:         %s\n", str_or(json_object_get(a, "plan"), "-"));
	printf("organisation: %s\n", str_or(json_object_get(a, "organisation"), "-"));
	printf("open_calls:   %" JSON_INTEGER_FORMAT "\n\n",
	       json_integer_value(json_object_get(a, "open_calls")));
	json_array_foreach(bal, i, b)
	{
		json_array_append_new(
		    rows, json_pack("[s,s,s]", str_or(json_object_get(b, "currency"), "?"),
		                    str_or(json_object_get(b, "decimal"), "?"), "-"));
	}
	const char *until = str_or(json_object_get(allow, "valid_until"), "-");
	minutes_text(json_integer_value(json_object_get(allow, "seconds")), buf, sizeof(buf));
	json_array_append_new(rows, json_pack("[s,s,s]", "minutes", buf, until));
	snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
	         json_integer_value(json_object_get(allow, "sms")));
	json_array_append_new(rows, json_pack("[s,s,s]", "SMS", buf, until));
	cli_print_table(stdout, headers, 3, rows, bucket_cell);
	json_decref(rows);
	return CLI_EXIT_OK;
}

static int account_show(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {CLI_GLOBAL_OPTIONS, {NULL, 0, NULL, 0}};
	const char *cmd = "account show", *key = NULL;
	struct cli_reply r;
	char *path = NULL;
	int c, rc;

	optind = 0;
	while ((c = cli_getopt(ctx, argc, argv, opts, cmd)) != -1) {
		if (c == CLI_OPT_HELP) {
			fputs(usage_show, stdout);
			return CLI_EXIT_OK;
		}
		return CLI_EXIT_USAGE;
	}
	if ((rc = one_key(cmd, argc, argv, &key)) || (rc = account_path(cmd, key, "", &path)))
		return rc;
	rc = cli_http_request(ctx, "GET", path, NULL, &r);
	free(path);
	if (rc)
		return rc;
	if (r.status != 200)
		rc = cli_print_api_error(&r);
	else if (!json_is_array(json_object_get(r.json, "balances"))) {
		fprintf(stderr, "koryo: koryod answered 200 without an account\n");
		rc = CLI_EXIT_REFUSED;
	} else if (ctx->json)
		cli_print_json(r.json);
	else
		rc = print_account(r.json);
	cli_reply_free(&r);
	return rc;
}

/* --- paged lists: ledger and rated CDRs ------------------------------------------------------ */

/* Fixed widths, since pages are printed as they arrive: a seq of 8 digits, a
 * time, an IMSI or org:NAME, the longest kind, an amount with its currency,
 * allowance deltas, a session (longer ones shift their row). */
#define LEDGER_FMT "%-8s %-20s %-15s %-8s %-14s %-7s %-5s %-24s %s\n"

static void ledger_header(void)
{
	printf(LEDGER_FMT, "SEQ", "AT", "ACCOUNT", "KIND", "AMOUNT", "SECONDS", "SMS", "SESSION",
	       "REASON");
}

static void ledger_row(json_t *row)
{
	static const char *const members[] = {"seq",     "at",  "account", "kind",  NULL,
	                                      "seconds", "sms", "session", "reason"};
	char *v[9];

	for (int i = 0; i < 9; i++) {
		v[i] = members[i] ? cli_value_text(json_object_get(row, members[i]))
		                  : money_text(row, "amount");
		make_safe(v[i]);
	}
	if (v[0] && v[1] && v[2] && v[3] && v[4] && v[5] && v[6] && v[7] && v[8])
		printf(LEDGER_FMT, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8]);
	for (int i = 0; i < 9; i++)
		free(v[i]);
}

#define CDR_FMT "%-10s %-7s %-15s %-16s %-20s %-7s %-9s %-14s %s\n"

static void cdr_header(void)
{
	printf(CDR_FMT, "ID", "SERVICE", "ACCOUNT", "DESTINATION", "ENDED", "SECONDS", "ALLOWANCE",
	       "CHARGED", "SESSION");
}

static void cdr_row(json_t *row)
{
	bool sms = strcmp(str_or(json_object_get(row, "service"), ""), "sms") == 0;
	char *v[9] = {0};
	char buf[48];

	v[0] = cli_value_text(json_object_get(row, "id"));
	v[1] = cli_value_text(json_object_get(row, "service"));
	v[2] = cli_value_text(json_object_get(row, "account"));
	v[3] = cli_value_text(json_object_get(row, "destination"));
	v[4] = cli_value_text(json_object_get(row, "ended_at"));
	v[5] = sms ? strdup("-") : cli_value_text(json_object_get(row, "seconds"));
	if (sms)
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT " SMS",
		         json_integer_value(json_object_get(row, "allowance_sms")));
	else
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT " s",
		         json_integer_value(json_object_get(row, "allowance_seconds")));
	v[6] = strdup(buf);
	v[7] = money_text(row, "amount");
	v[8] = cli_value_text(json_object_get(row, "session"));
	for (int i = 0; i < 9; i++)
		make_safe(v[i]);
	if (v[0] && v[1] && v[2] && v[3] && v[4] && v[5] && v[6] && v[7] && v[8])
		printf(CDR_FMT, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8]);
	for (int i = 0; i < 9; i++)
		free(v[i]);
}

static int account_ledger(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    CLI_PAGE_OPTIONS, CLI_GLOBAL_OPTIONS, {NULL, 0, NULL, 0}};
	const char *cmd = "account ledger";
	struct cli_page_opts po = {0};
	unsigned long long after;
	char *base = NULL, *more = NULL;
	int c, rc;

	optind = 0;
	while ((c = cli_getopt(ctx, argc, argv, opts, cmd)) != -1) {
		if (c == CLI_OPT_HELP) {
			fputs(usage_ledger, stdout);
			return CLI_EXIT_OK;
		}
		if (!cli_page_opt(c, &po))
			return CLI_EXIT_USAGE;
	}
	if (optind + 1 < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
	if ((rc = cli_page_check(cmd, &po, &after)))
		return rc;
	if (optind < argc) {
		if ((rc = account_path(cmd, argv[optind], "/ledger?", &base)))
			return rc;
		if (asprintf(&more, "koryo account ledger %s", argv[optind]) < 0) {
			free(base);
			return oom();
		}
	} else if (!(base = strdup("/v1/charging/ledger?")) ||
	           !(more = strdup("koryo account ledger"))) {
		free(base);
		return oom();
	}
	struct cli_pager pg = {
	    .items = "rows", .header = ledger_header, .row = ledger_row, .more = more};
	rc = cli_pages(ctx, &pg, base, &po, after, NULL);
	free(base);
	free(more);
	return rc;
}

static int account_cdrs(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    CLI_PAGE_OPTIONS,
	    {"format", required_argument, NULL, O_FORMAT},
	    CLI_GLOBAL_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	const char *cmd = "account cdrs", *format = NULL;
	struct cli_page_opts po = {0};
	unsigned long long after;
	int c, rc;

	optind = 0;
	while ((c = cli_getopt(ctx, argc, argv, opts, cmd)) != -1) {
		if (c == CLI_OPT_HELP) {
			fputs(usage_cdrs, stdout);
			return CLI_EXIT_OK;
		}
		if (c == O_FORMAT)
			format = optarg;
		else if (!cli_page_opt(c, &po))
			return CLI_EXIT_USAGE;
	}
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (format && strcmp(format, "table") != 0 && strcmp(format, "json") != 0 &&
	    strcmp(format, "jsonl") != 0 && strcmp(format, "csv") != 0)
		return cli_usage_error(cmd, "--format must be table, json, jsonl or csv");
	if (format && ctx->json && strcmp(format, "json") != 0)
		return cli_usage_error(cmd, "give --json or --format %s, not both", format);
	if (format && strcmp(format, "json") == 0)
		ctx->json = true;
	if (format && (strcmp(format, "table") == 0 || strcmp(format, "json") == 0))
		format = NULL;
	if ((rc = cli_page_check(cmd, &po, &after)))
		return rc;
	struct cli_pager pg = {
	    .items = "cdrs", .header = cdr_header, .row = cdr_row, .more = "koryo account cdrs"};
	return cli_pages(ctx, &pg, "/v1/charging/cdrs?", &po, after, format);
}

/* --- top-ups and adjustments ------------------------------------------------------------- */

/* The longest line --pin - reads; a longer PIN is sent whole for koryod to
 * refuse. */
#define PIN_LINE 256

/* Reads the PIN from standard input: the first line, blanks around it
 * dropped. On a terminal it prompts on stderr and turns echo off. Returns
 * the remembered secret (cli_secret_add) in *out, or an exit code. */
static int pin_stdin(const char *cmd, const char **out)
{
	char buf[PIN_LINE + 2];
	struct termios saved, quiet;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	bool got;

	if (tty) {
		fputs("PIN: ", stderr);
		fflush(stderr);
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	got = fgets(buf, sizeof(buf), stdin) != NULL;
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
		fputc('\n', stderr);
	}
	char *p = buf + strspn(buf, " \t");
	p[strcspn(p, " \t\r\n")] = '\0';
	if (!got || !*p) {
		OPENSSL_cleanse(buf, sizeof(buf));
		return cli_usage_error(cmd, "--pin -: no PIN on standard input");
	}
	*out = cli_secret_add(p);
	OPENSSL_cleanse(buf, sizeof(buf));
	return *out ? 0 : oom();
}

/* Sends an operation that moves money and prints koryod's message. When the
 * op id was made here and the outcome is unknown (no answer, or koryod
 * failed), says how to retry without doing it twice. */
static int send_operation(struct cli_ctx *ctx, const char *path, json_t *body, const char *op_id,
                          bool op_id_made)
{
	struct cli_reply r;
	int rc = cli_http_request(ctx, "POST", path, body, &r);
	bool unknown = rc == CLI_EXIT_UNREACHABLE;

	if (!rc) {
		unknown = r.status >= 500;
		if (r.status != 200) {
			rc = cli_print_api_error(&r);
		} else if (ctx->json) {
			cli_print_json(r.json);
		} else {
			char *m = strdup(str_or(json_object_get(r.json, "message"), "done"));
			make_safe(m);
			printf("%s\n", m ? m : "done");
			free(m);
		}
		cli_reply_free(&r);
	}
	if (unknown && op_id_made)
		fprintf(stderr,
		        "koryo: if it is not done, run the command again with --op-id %s: an "
		        "operation is done once\n",
		        op_id);
	return rc;
}

static int account_topup(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"pin", required_argument, NULL, O_PIN},
	    {"op-id", required_argument, NULL, O_OP_ID},
	    CLI_GLOBAL_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	const char *cmd = "account topup", *key, *pin = NULL, *op_id = NULL;
	char made[24];
	char *path = NULL;
	int c, rc;

	optind = 0;
	while ((c = cli_getopt(ctx, argc, argv, opts, cmd)) != -1) {
		switch (c) {
		case CLI_OPT_HELP:
			fputs(usage_topup, stdout);
			return CLI_EXIT_OK;
		case O_PIN:
			if (pin)
				return cli_usage_error(cmd, "--pin given twice");
			/* A PIN on the command line is copied and blanked at once. */
			if (strcmp(optarg, "-") == 0)
				rc = pin_stdin(cmd, &pin);
			else
				rc = (pin = cli_secret_add(optarg)) ? 0 : oom();
			if (rc)
				return rc;
			break;
		case O_OP_ID:
			op_id = optarg;
			break;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	/* A stray word may be a PIN typed without --pin: not echoed. */
	if (optind + 1 < argc)
		return cli_usage_error(cmd, "unexpected argument (the PIN goes with --pin)");
	if (optind >= argc)
		return cli_usage_error(cmd, "which subscriber? give an IMSI, msisdn:N or iccid:N");
	key = argv[optind];
	if (!pin)
		return cli_usage_error(cmd, "missing --pin (--pin - reads it from standard input)");
	if (!op_id) {
		if ((rc = random_op_id(made)))
			return rc;
		op_id = made;
	}
	if ((rc = account_path(cmd, key, "/topup", &path)))
		return rc;
	json_t *body = json_pack("{s:s,s:s}", "op_id", op_id, "pin", pin);
	if (!body) {
		free(path);
		return oom();
	}
	rc = send_operation(ctx, path, body, op_id, op_id == made);
	/* The body's copy of the PIN is wiped before it is freed. */
	json_t *p = json_object_get(body, "pin");
	OPENSSL_cleanse((char *)json_string_value(p), json_string_length(p));
	json_decref(body);
	free(path);
	return rc;
}

static int account_adjust(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"amount", required_argument, NULL, O_AMOUNT},
	    {"currency", required_argument, NULL, O_CURRENCY},
	    {"seconds", required_argument, NULL, O_SECONDS},
	    {"sms", required_argument, NULL, O_SMS},
	    {"reason", required_argument, NULL, O_REASON},
	    {"op-id", required_argument, NULL, O_OP_ID},
	    CLI_GLOBAL_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	const char *cmd = "account adjust", *key = NULL;
	const char *amount = NULL, *currency = NULL, *seconds = NULL, *sms = NULL, *reason = NULL;
	const char *op_id = NULL;
	long long amount_v = 0, seconds_v = 0, sms_v = 0;
	char made[24];
	char *path = NULL;
	int c, rc;

	optind = 0;
	while ((c = cli_getopt(ctx, argc, argv, opts, cmd)) != -1) {
		switch (c) {
		case CLI_OPT_HELP:
			fputs(usage_adjust, stdout);
			return CLI_EXIT_OK;
		case O_AMOUNT:
			amount = optarg;
			break;
		case O_CURRENCY:
			currency = optarg;
			break;
		case O_SECONDS:
			seconds = optarg;
			break;
		case O_SMS:
			sms = optarg;
			break;
		case O_REASON:
			reason = optarg;
			break;
		case O_OP_ID:
			op_id = optarg;
			break;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if ((rc = one_key(cmd, argc, argv, &key)))
		return rc;
	if (!reason)
		return cli_usage_error(cmd, "missing --reason");
	if (!amount && !seconds && !sms)
		return cli_usage_error(cmd, "nothing to adjust: give --amount, --seconds or --sms");
	if (amount && !currency)
		return cli_usage_error(cmd, "--amount needs --currency");
	if ((amount && (rc = parse_i64(cmd, "--amount", amount, &amount_v))) ||
	    (seconds && (rc = parse_i64(cmd, "--seconds", seconds, &seconds_v))) ||
	    (sms && (rc = parse_i64(cmd, "--sms", sms, &sms_v))))
		return rc;
	if (!op_id) {
		if ((rc = random_op_id(made)))
			return rc;
		op_id = made;
	}
	if ((rc = account_path(cmd, key, "/adjustments", &path)))
		return rc;
	json_t *body = json_pack("{s:s,s:s}", "op_id", op_id, "reason", reason);
	if (!body || (currency && json_object_set_new(body, "currency", json_string(currency))) ||
	    (amount && json_object_set_new(body, "amount", json_integer(amount_v))) ||
	    (seconds && json_object_set_new(body, "seconds", json_integer(seconds_v))) ||
	    (sms && json_object_set_new(body, "sms", json_integer(sms_v)))) {
		json_decref(body);
		free(path);
		return oom();
	}
	rc = send_operation(ctx, path, body, op_id, op_id == made);
	json_decref(body);
	free(path);
	return rc;
}

/* --- account org -------------------------------------------------------------------------- */

static char *org_cell(json_t *g, size_t col)
{
	static const char *const members[] = {"name", "monthly_minutes", "monthly_sms",
	                                      "updated_at", "description"};
	return cli_value_text(json_object_get(g, members[col]));
}

static int org_list(struct cli_ctx *ctx)
{
	static const char *const headers[] = {"NAME", "MINUTES", "SMS", "UPDATED", "DESCRIPTION"};
	struct cli_reply r;
	int rc;

	if ((rc = cli_http_request(ctx, "GET", "/v1/charging/organisations", NULL, &r)))
		return rc;
	json_t *orgs = json_object_get(r.json, "organisations");
	if (r.status != 200)
		rc = cli_print_api_error(&r);
	else if (!json_is_array(orgs)) {
		fprintf(stderr, "koryo: koryod answered 200 without a list of organisations\n");
		rc = CLI_EXIT_REFUSED;
	} else if (ctx->json)
		cli_print_json(r.json);
	else
		cli_print_table(stdout, headers, 5, orgs, org_cell);
	cli_reply_free(&r);
	return rc;
}

static int org_set(struct cli_ctx *ctx, const char *cmd, const char *name, const char *minutes,
                   const char *sms, const char *description)
{
	long long minutes_v = 0, sms_v = 0;
	struct cli_reply r;
	char *esc, *path;
	int rc;

	if (!minutes || !sms)
		return cli_usage_error(cmd, "give both --minutes and --sms (set replaces the cap)");
	if ((rc = parse_i64(cmd, "--minutes", minutes, &minutes_v)) ||
	    (rc = parse_i64(cmd, "--sms", sms, &sms_v)))
		return rc;
	if (!name[0])
		return cli_usage_error(cmd, "the organisation's name is empty");
	if (!(esc = cli_http_escape(name)))
		return oom();
	int n = asprintf(&path, "/v1/charging/organisations/%s", esc);
	free(esc);
	if (n < 0)
		return oom();
	json_t *body = json_pack("{s:I,s:I}", "monthly_minutes", (json_int_t)minutes_v,
	                         "monthly_sms", (json_int_t)sms_v);
	if (!body ||
	    (description && json_object_set_new(body, "description", json_string(description)))) {
		json_decref(body);
		free(path);
		return oom();
	}
	rc = cli_http_request(ctx, "PUT", path, body, &r);
	json_decref(body);
	free(path);
	if (rc)
		return rc;
	if (r.status != 200 && r.status != 201)
		rc = cli_print_api_error(&r);
	else if (ctx->json)
		cli_print_json(r.json);
	else
		printf("%s %s: %lld free minutes and %lld free SMS a month from the next renewal\n",
		       r.status == 201 ? "Created" : "Replaced", name, minutes_v, sms_v);
	cli_reply_free(&r);
	return rc;
}

static int account_org(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"minutes", required_argument, NULL, O_MINUTES},
	    {"sms", required_argument, NULL, O_SMS},
	    {"description", required_argument, NULL, O_DESCRIPTION},
	    CLI_GLOBAL_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	const char *cmd = "account org", *minutes = NULL, *sms = NULL, *description = NULL;
	int c;

	optind = 0;
	while ((c = cli_getopt(ctx, argc, argv, opts, cmd)) != -1) {
		switch (c) {
		case CLI_OPT_HELP:
			fputs(usage_org, stdout);
			return CLI_EXIT_OK;
		case O_MINUTES:
			minutes = optarg;
			break;
		case O_SMS:
			sms = optarg;
			break;
		case O_DESCRIPTION:
			description = optarg;
			break;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return cli_usage_error(cmd, "missing command (list, set)");
	const char *sub = argv[optind];
	if (strcmp(sub, "list") == 0) {
		if (optind + 1 < argc)
			return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
		if (minutes || sms || description)
			return cli_usage_error(cmd,
			                       "list takes no --minutes, --sms or --description");
		return org_list(ctx);
	}
	if (strcmp(sub, "set") == 0) {
		if (optind + 1 >= argc)
			return cli_usage_error(cmd,
			                       "which organisation? give its NAME (OFF-NAME-nnnn)");
		if (optind + 2 < argc)
			return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 2]);
		return org_set(ctx, "account org set", argv[optind + 1], minutes, sms, description);
	}
	return cli_usage_error(cmd, "unknown command '%s' (list, set)", sub);
}

/* --- voucher list -------------------------------------------------------------------------- */

static char *batch_cell(json_t *b, size_t col)
{
	static const char *const members[] = {"batch",    "currency", "decimal",     "cards",
	                                      "redeemed", "expires",  "uploaded_at", "iterations"};
	return cli_value_text(json_object_get(b, members[col]));
}

static int voucher_list(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {CLI_GLOBAL_OPTIONS, {NULL, 0, NULL, 0}};
	static const char *const headers[] = {"BATCH",    "CURRENCY", "VALUE",    "CARDS",
	                                      "REDEEMED", "EXPIRES",  "UPLOADED", "ITERATIONS"};
	struct cli_reply r;
	int c, rc;

	optind = 0;
	while ((c = cli_getopt(ctx, argc, argv, opts, "voucher list")) != -1) {
		if (c == CLI_OPT_HELP) {
			fputs(usage_list, stdout);
			return CLI_EXIT_OK;
		}
		return CLI_EXIT_USAGE;
	}
	if (optind < argc)
		return cli_usage_error("voucher list", "unexpected argument '%s'", argv[optind]);
	if ((rc = cli_http_request(ctx, "GET", "/v1/charging/voucher-batches", NULL, &r)))
		return rc;
	json_t *batches = json_object_get(r.json, "batches");
	if (r.status != 200)
		rc = cli_print_api_error(&r);
	else if (!json_is_array(batches)) {
		fprintf(stderr, "koryo: koryod answered 200 without a list of batches\n");
		rc = CLI_EXIT_REFUSED;
	} else if (ctx->json)
		cli_print_json(r.json);
	else
		cli_print_table(stdout, headers, 8, batches, batch_cell);
	cli_reply_free(&r);
	return rc;
}

/* --- dispatch ------------------------------------------------------------------------------ */

int cli_cmd_charging(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {CLI_GLOBAL_OPTIONS, {NULL, 0, NULL, 0}};
	bool account = strcmp(argv[0], "account") == 0;
	const char *cmd = account ? "account" : "voucher";
	const char *list = account ? "show, ledger, topup, adjust, cdrs, org" : "gen, upload, list";
	int c;

	optind = 0;
	while ((c = cli_getopt_head(ctx, argc, argv, opts, cmd)) != -1) {
		if (c == CLI_OPT_HELP) {
			fputs(account ? usage_account : usage_voucher, stdout);
			return CLI_EXIT_OK;
		}
		return CLI_EXIT_USAGE;
	}
	if (optind >= argc)
		return cli_usage_error(cmd, "missing command (%s)", list);
	const char *sub = argv[optind];
	argc -= optind;
	argv += optind;
	if (account && strcmp(sub, "show") == 0)
		return account_show(ctx, argc, argv);
	if (account && strcmp(sub, "ledger") == 0)
		return account_ledger(ctx, argc, argv);
	if (account && strcmp(sub, "topup") == 0)
		return account_topup(ctx, argc, argv);
	if (account && strcmp(sub, "adjust") == 0)
		return account_adjust(ctx, argc, argv);
	if (account && strcmp(sub, "cdrs") == 0)
		return account_cdrs(ctx, argc, argv);
	if (account && strcmp(sub, "org") == 0)
		return account_org(ctx, argc, argv);
	if (!account && strcmp(sub, "gen") == 0)
		return cli_voucher_gen(ctx, argc, argv);
	if (!account && strcmp(sub, "upload") == 0)
		return cli_voucher_upload(ctx, argc, argv);
	if (!account && strcmp(sub, "list") == 0)
		return voucher_list(ctx, argc, argv);
	return cli_usage_error(cmd, "unknown command '%s' (%s)", sub, list);
}
