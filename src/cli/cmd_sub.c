/* koryo sub: add, show, list, set and delete subscribers through
 * /v1/subscribers, and show their SIP registrations (docs/api.md). */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/http.h"
#include "cli/output.h"

static const char usage_sub[] =
    "Usage: koryo sub COMMAND [OPTIONS]\n"
    "\n"
    "Manage subscribers.\n"
    "\n"
    "Commands:\n"
    "  add    create a subscriber\n"
    "  show   show one subscriber\n"
    "  list   list subscribers, a page or all of them\n"
    "  set    change a subscriber's status, class, MSISDN, city, holder or\n"
    "         SIP password\n"
    "  del    delete a subscriber and its keys\n"
    "  registrations\n"
    "         show where a subscriber's phones are registered for SIP\n"
    "\n"
    "Run 'koryo sub COMMAND --help' for a command's options.\n";

static const char usage_add[] =
    "Usage: koryo sub add --imsi IMSI --class CLASS --k HEX (--op HEX | --opc HEX)\n"
    "                     [--msisdn N] [--iccid N] [--status STATUS] [--city CITY]\n"
    "                     [--name NAME] [--id-document DOC] [--nationality CCC]\n"
    "                     [--amf HEX] [--sqn N] [--ind-bitlen N]\n"
    "                     [--sip-password PASSWORD | --sip-password -]\n"
    "\n"
    "Create a subscriber and print it as koryod stored it. The keys and the SIP\n"
    "password are sent to koryod and never printed: the output shows only\n"
    "auth.op_kind and whether a SIP password is set.\n"
    "\n"
    "Required:\n"
    "  --imsi IMSI          14 or 15 digits, starting with the network's MCC+MNC\n"
    "  --class CLASS        a subscriber class of the loaded profile\n"
    "                       (citizen, foreigner, official in the Koryolink profile)\n"
    "  --k HEX              the subscriber key K, 32 hex digits\n"
    "  --op HEX             the operator key OP, 32 hex digits, or\n"
    "  --opc HEX            the derived OPc, 32 hex digits (exactly one of the two)\n"
    "\n"
    "Optional:\n"
    "  --msisdn N           E.164 number, 5-15 digits (a leading + is dropped)\n"
    "  --iccid N            SIM serial, 18-22 digits\n"
    "  --status STATUS      pending (default), active, suspended or terminated\n"
    "  --city CITY          a city of the loaded profile\n"
    "  --name NAME          the holder's name (up to 128 characters)\n"
    "  --id-document DOC    the holder's identity document number (up to 64)\n"
    "  --nationality CCC    the holder's nationality, ISO 3166 alpha-3 (PRK)\n"
    "  --amf HEX            authentication management field, 4 hex digits (0000)\n"
    "  --sqn N              the last sequence number used, 0 to 2^48-1 (0)\n"
    "  --ind-bitlen N       IND bit length, 0 to 10 (koryod's auc.ind_bitlen)\n"
    "  --sip-password PW    the password of SIP digest authentication (softphones):\n"
    "                       8 to 128 printable ASCII characters; the digest\n"
    "                       username is the MSISDN, so --msisdn is needed too.\n"
    "                       '-' reads it from standard input (one line; without\n"
    "                       echo when that is a terminal), out of the command line\n"
    "\n"
    "Command lines are visible to other local users while the command runs;\n"
    "koryo blanks the key arguments as soon as it starts, but for many SIMs\n"
    "prefer 'koryo import subscribers' with a file only you can read.\n"
    "\n"
    "Global options (--api, --token-file, --json) may be given here too.\n"
    "Exit status: 0 created, 1 koryod refused (the error names the field),\n"
    "2 usage error, 3 koryod unreachable or the token refused.\n"
    "\n"
    "Example:\n"
    "  koryo sub add --imsi 467050000000001 --class citizen --msisdn 8501912000001 \\\n"
    "      --k 000102030405060708090a0b0c0d0e0f --opc cd63cb71954a9f4e48a5994e37a02baf\n";

static const char usage_show[] =
    "Usage: koryo sub show KEY\n"
    "       koryo sub show --msisdn N | --iccid N | --imsi IMSI\n"
    "\n"
    "Show one subscriber as 'field: value' lines: the holder's fields, the city,\n"
    "the times, auth.* (algorithm, op_kind, amf, sqn, ind_bitlen) and\n"
    "sip_password (set or not set). An empty field shows as '-'. The keys K, OP\n"
    "and OPc and the SIP password are never shown.\n"
    "\n"
    "KEY is an IMSI, msisdn:N or iccid:N.\n"
    "\n"
    "Options:\n"
    "  --msisdn N           the subscriber with this MSISDN (same as msisdn:N)\n"
    "  --iccid N            the subscriber with this ICCID (same as iccid:N)\n"
    "  --imsi IMSI          the subscriber with this IMSI\n"
    "  --json               print koryod's JSON instead\n"
    "\n"
    "Exit status: 0 found, 1 no such subscriber, 2 usage error,\n"
    "3 koryod unreachable or the token refused.\n"
    "\n"
    "Examples:\n"
    "  koryo sub show 467050000000001\n"
    "  koryo sub show msisdn:8501912000001\n";

static const char usage_list[] =
    "Usage: koryo sub list [--class CLASS] [--status STATUS] [--city CITY]\n"
    "                      [--limit N] [--after IMSI] [--all]\n"
    "\n"
    "List subscribers in IMSI order as a table (IMSI, MSISDN, ICCID, STATUS,\n"
    "CLASS, CITY, NAME) under a header row. koryod answers a page at a time;\n"
    "without --all one page is shown and, if there is more, the command to see\n"
    "the next page is printed on stderr.\n"
    "\n"
    "Options:\n"
    "  --class CLASS        only subscribers of this class\n"
    "  --status STATUS      only subscribers with this status\n"
    "  --city CITY          only subscribers in this city\n"
    "  --limit N            page size, 1 to 1000 (koryod's default: 100)\n"
    "  --after IMSI         start after this IMSI (a previous page's last)\n"
    "  --all                follow the pages to the end\n"
    "  --json               print koryod's JSON page instead; with --all, one\n"
    "                       object {\"items\": [every subscriber], \"next\": null}\n"
    "\n"
    "Filters combine. Exit status: 0 listed (even if none matched), 1 koryod\n"
    "refused a filter, 2 usage error, 3 koryod unreachable or the token refused.\n"
    "\n"
    "Examples:\n"
    "  koryo sub list --class foreigner --status active\n"
    "  koryo sub list --all --limit 1000 | tail -n +2 | wc -l\n";

static const char usage_set[] =
    "Usage: koryo sub set KEY [--status STATUS] [--class CLASS]\n"
    "                     [--msisdn N | --no-msisdn] [--city CITY | --no-city]\n"
    "                     [--name NAME] [--id-document DOC] [--nationality CCC]\n"
    "                     [--sip-password PASSWORD | --sip-password - |\n"
    "                      --clear-sip-password]\n"
    "\n"
    "Change a subscriber and print it as changed. Only the options given are\n"
    "changed; the holder's other fields are kept. KEY is an IMSI, msisdn:N or\n"
    "iccid:N. Keys and the IMSI cannot be changed: delete and add again.\n"
    "\n"
    "Options:\n"
    "  --status STATUS      pending, active, suspended or terminated\n"
    "                       (the first change to active sets activated_at)\n"
    "  --class CLASS        a subscriber class of the loaded profile\n"
    "  --msisdn N           a new MSISDN\n"
    "  --no-msisdn          take the MSISDN away\n"
    "  --city CITY          a city of the loaded profile\n"
    "  --no-city            clear the city\n"
    "  --name NAME          the holder's name\n"
    "  --id-document DOC    the holder's identity document number\n"
    "  --nationality CCC    the holder's nationality, ISO 3166 alpha-3\n"
    "  --sip-password PW    set the SIP digest password: 8 to 128 printable ASCII\n"
    "                       characters, made for the subscriber's MSISDN (the\n"
    "                       digest username: after a new MSISDN, set it again)\n"
    "  --sip-password -     the same, read from standard input (one line; without\n"
    "                       echo when that is a terminal), so that it is in no\n"
    "                       shell history and no process list\n"
    "  --clear-sip-password remove the SIP password: password logins then fail\n"
    "\n"
    "Exit status: 0 changed, 1 koryod refused (nothing was changed), 2 usage\n"
    "error, 3 koryod unreachable or the token refused.\n"
    "\n"
    "Examples:\n"
    "  koryo sub set 467050000000001 --status suspended\n"
    "  koryo sub set 467050000000001 --sip-password - < password-file\n";

static const char usage_registrations[] =
    "Usage: koryo sub registrations KEY\n"
    "       koryo sub registrations --msisdn N | --iccid N | --imsi IMSI\n"
    "\n"
    "Show where a subscriber's phones are registered with koryod's SIP\n"
    "registrar: the cell last seen (cell, and cell_at when), then a table of its\n"
    "bindings: CONTACT (the phone's Contact URI), SOURCE (the transport, address\n"
    "and port koryod sends to), EXPIRES_IN (M:SS or H:MM:SS until the binding\n"
    "lapses unless renewed) and PATH (the proxies on the way, '-' for none).\n"
    "A subscriber registered nowhere gets the header row alone.\n"
    "\n"
    "KEY is an IMSI, msisdn:N or iccid:N.\n"
    "\n"
    "Options:\n"
    "  --msisdn N           the subscriber with this MSISDN (same as msisdn:N)\n"
    "  --iccid N            the subscriber with this ICCID (same as iccid:N)\n"
    "  --imsi IMSI          the subscriber with this IMSI\n"
    "  --json               print koryod's JSON instead\n"
    "\n"
    "Exit status: 0 shown (registered or not), 1 no such subscriber or SIP is\n"
    "off in koryod, 2 usage error, 3 koryod unreachable or the token refused.\n"
    "\n"
    "Example:\n"
    "  koryo sub registrations msisdn:8501912000001\n";

static const char usage_del[] =
    "Usage: koryo sub del KEY\n"
    "       koryo sub del --msisdn N | --iccid N | --imsi IMSI\n"
    "\n"
    "Delete a subscriber: it and its keys are gone from koryod's memory and\n"
    "store. KEY is an IMSI, msisdn:N or iccid:N. There is no undo.\n"
    "\n"
    "Exit status: 0 deleted, 1 no such subscriber, 2 usage error,\n"
    "3 koryod unreachable or the token refused.\n"
    "\n"
    "Example:\n"
    "  koryo sub del 467050000000001\n";

enum {
	O_IMSI = CLI_OPT_FIRST_LOCAL,
	O_CLASS,
	O_K,
	O_OP,
	O_OPC,
	O_MSISDN,
	O_NO_MSISDN,
	O_ICCID,
	O_STATUS,
	O_NAME,
	O_ID_DOCUMENT,
	O_NATIONALITY,
	O_CITY,
	O_NO_CITY,
	O_AMF,
	O_SQN,
	O_IND_BITLEN,
	O_LIMIT,
	O_AFTER,
	O_ALL,
	O_SIP_PASSWORD,
	O_CLEAR_SIP_PASSWORD,
};

/* json_object_set_new, reporting a failure (out of memory) as -1. */
static int put(json_t *obj, const char *key, json_t *v)
{
	return v && json_object_set_new(obj, key, v) == 0 ? 0 : -1;
}

static int put_str(json_t *obj, const char *key, const char *s)
{
	return s ? put(obj, key, json_string(s)) : 0;
}

/* The holder's fields, as sub add and sub set take them: HOLDER_OPTIONS in
 * the option table, holder_opt in the option loop, put_holder in the body. */
/* clang-format off */
#define HOLDER_OPTIONS                                                  \
	{"name", required_argument, NULL, O_NAME},                      \
	{"id-document", required_argument, NULL, O_ID_DOCUMENT},        \
	{"nationality", required_argument, NULL, O_NATIONALITY}
/* clang-format on */

struct holder {
	const char *name, *id_document, *nationality;
};

/* Takes option C (from cli_getopt, argument in optarg) into *h if it is a
 * holder option; false if it is not one. */
static bool holder_opt(int c, struct holder *h)
{
	switch (c) {
	case O_NAME:
		h->name = optarg;
		return true;
	case O_ID_DOCUMENT:
		h->id_document = optarg;
		return true;
	case O_NATIONALITY:
		h->nationality = optarg;
		return true;
	default:
		return false;
	}
}

static bool holder_given(const struct holder *h)
{
	return h->name || h->id_document || h->nationality;
}

/* Adds a holder object with the members given, if any. */
static int put_holder(json_t *obj, const struct holder *h)
{
	json_t *holder;

	if (!holder_given(h))
		return 0;
	if (!(holder = json_object()))
		return -1;
	if (put_str(holder, "name", h->name) || put_str(holder, "id_document", h->id_document) ||
	    put_str(holder, "nationality", h->nationality)) {
		json_decref(holder);
		return -1;
	}
	return put(obj, "holder", holder);
}

/* Out of memory: nothing sensible is left to try, like an unusable koryod. */
static int oom(void)
{
	fprintf(stderr, "koryo: out of memory\n");
	return CLI_EXIT_UNREACHABLE;
}

/* The longest line --sip-password - reads: a password has 128 characters at
 * most; a longer line is sent whole, for koryod to refuse. */
#define SIP_PASSWORD_LINE 1024

/* Reads the SIP password from standard input: the first line, without its
 * line end. On a terminal it prompts on stderr and turns echo off. Returns
 * the remembered secret (see cli_secret_add) in *out, or an exit code after
 * printing why. */
static int sip_password_stdin(const char *cmd, const char **out)
{
	char buf[SIP_PASSWORD_LINE + 2];
	struct termios saved, quiet;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	bool got;

	if (tty) {
		fputs("SIP password: ", stderr);
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
	if (!got) {
		OPENSSL_cleanse(buf, sizeof(buf));
		return cli_usage_error(cmd, "--sip-password -: no password on standard input");
	}
	buf[strcspn(buf, "\r\n")] = '\0';
	*out = cli_secret_add(buf);
	OPENSSL_cleanse(buf, sizeof(buf));
	if (!*out) {
		fprintf(stderr, "koryo: out of memory\n");
		return CLI_EXIT_UNREACHABLE;
	}
	return 0;
}

/* Takes the value of --sip-password: '-' for standard input, else the
 * password itself, copied and blanked in argv at once like the keys. */
static int sip_password_opt(const char *cmd, char *arg, const char **out)
{
	if (*out)
		return cli_usage_error(cmd, "--sip-password given twice");
	if (strcmp(arg, "-") == 0)
		return sip_password_stdin(cmd, out);
	if (!(*out = cli_secret_add(arg))) {
		fprintf(stderr, "koryo: out of memory\n");
		return CLI_EXIT_UNREACHABLE;
	}
	return 0;
}

/* The subscriber a command names: the one positional KEY, or --imsi,
 * --msisdn, --iccid. Returns the escaped API path in *path (caller frees), or
 * an exit code after printing why. */
static int key_path(const char *cmd, int argc, char **argv, const char *imsi, const char *msisdn,
                    const char *iccid, char **path)
{
	const char *key = NULL;
	char *k = NULL, *esc;
	int given = (imsi != NULL) + (msisdn != NULL) + (iccid != NULL) + (argc - optind);

	if (given == 0)
		return cli_usage_error(cmd, "which subscriber? give an IMSI, msisdn:N or iccid:N");
	if (given > 1)
		return cli_usage_error(cmd, "give one subscriber, not %d", given);
	if (optind < argc)
		key = argv[optind];
	else
		key = imsi;
	if (key && asprintf(&k, "%s", key) < 0)
		return oom();
	if (msisdn && asprintf(&k, "msisdn:%s", msisdn) < 0)
		return oom();
	if (iccid && asprintf(&k, "iccid:%s", iccid) < 0)
		return oom();
	if (!*k || strcmp(k, "msisdn:") == 0 || strcmp(k, "iccid:") == 0) {
		free(k);
		return cli_usage_error(cmd, "the subscriber's key is empty");
	}
	esc = cli_http_escape(k);
	free(k);
	if (!esc || asprintf(path, "/v1/subscribers/%s", esc) < 0) {
		free(esc);
		return oom();
	}
	free(esc);
	return 0;
}

/* Prints a reply that carries one subscriber, or its error. */
static int print_sub_reply(struct cli_ctx *ctx, struct cli_reply *r)
{
	if (r->status < 200 || r->status > 299)
		return cli_print_api_error(r);
	if (!json_is_object(r->json)) {
		fprintf(stderr, "koryo: koryod answered %ld without a subscriber\n", r->status);
		return CLI_EXIT_REFUSED;
	}
	if (ctx->json)
		cli_print_json(r->json);
	else
		cli_print_subscriber(stdout, r->json);
	return CLI_EXIT_OK;
}

static int sub_add(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"imsi", required_argument, NULL, O_IMSI},
	    {"class", required_argument, NULL, O_CLASS},
	    {"k", required_argument, NULL, O_K},
	    {"op", required_argument, NULL, O_OP},
	    {"opc", required_argument, NULL, O_OPC},
	    {"msisdn", required_argument, NULL, O_MSISDN},
	    {"iccid", required_argument, NULL, O_ICCID},
	    {"status", required_argument, NULL, O_STATUS},
	    HOLDER_OPTIONS,
	    {"city", required_argument, NULL, O_CITY},
	    {"amf", required_argument, NULL, O_AMF},
	    {"sqn", required_argument, NULL, O_SQN},
	    {"ind-bitlen", required_argument, NULL, O_IND_BITLEN},
	    {"sip-password", required_argument, NULL, O_SIP_PASSWORD},
	    CLI_GLOBAL_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	const char *cmd = "sub add";
	const char *imsi = NULL, *class = NULL, *k = NULL, *op = NULL, *opc = NULL;
	const char *msisdn = NULL, *iccid = NULL, *status = NULL, *city = NULL, *amf = NULL;
	const char *sqn = NULL, *ind_bitlen = NULL, *sip_password = NULL;
	struct holder holder = {0};
	unsigned long long sqn_v = 0, ind_v = 0;
	struct cli_reply r;
	json_t *body;
	int c, rc;

	optind = 0;
	while ((c = cli_getopt(ctx, argc, argv, opts, cmd)) != -1) {
		switch (c) {
		case CLI_OPT_HELP:
			fputs(usage_add, stdout);
			return CLI_EXIT_OK;
		case O_IMSI:
			imsi = optarg;
			break;
		case O_CLASS:
			class = optarg;
			break;
		/* Secrets are copied out of argv and blanked there at once. */
		case O_K:
			if (!(k = cli_secret_add(optarg)))
				return oom();
			break;
		case O_OP:
			if (!(op = cli_secret_add(optarg)))
				return oom();
			break;
		case O_OPC:
			if (!(opc = cli_secret_add(optarg)))
				return oom();
			break;
		case O_MSISDN:
			msisdn = optarg;
			break;
		case O_ICCID:
			iccid = optarg;
			break;
		case O_STATUS:
			status = optarg;
			break;
		case O_CITY:
			city = optarg;
			break;
		case O_AMF:
			amf = optarg;
			break;
		case O_SQN:
			sqn = optarg;
			break;
		case O_IND_BITLEN:
			ind_bitlen = optarg;
			break;
		case O_SIP_PASSWORD:
			if ((rc = sip_password_opt(cmd, optarg, &sip_password)))
				return rc;
			break;
		default:
			if (!holder_opt(c, &holder))
				return CLI_EXIT_USAGE;
			break;
		}
	}
	/* A stray word here may be a key typed without its option: say so, but
	 * do not echo it. */
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument (sub add takes only options)");
	if (!imsi)
		return cli_usage_error(cmd, "missing --imsi");
	if (!class)
		return cli_usage_error(cmd, "missing --class");
	if (!k)
		return cli_usage_error(cmd, "missing --k");
	if (op && opc)
		return cli_usage_error(cmd, "give --op or --opc, not both");
	if (!op && !opc)
		return cli_usage_error(cmd, "missing --op or --opc");
	if (sqn && (rc = cli_parse_u64(cmd, "--sqn", sqn, &sqn_v)))
		return rc;
	if (ind_bitlen && (rc = cli_parse_u64(cmd, "--ind-bitlen", ind_bitlen, &ind_v)))
		return rc;

	if (!(body = json_object()))
		return oom();
	if (put_str(body, "imsi", imsi) || put_str(body, "class", class) || put_str(body, "k", k) ||
	    put_str(body, "op", op) || put_str(body, "opc", opc) ||
	    put_str(body, "msisdn", msisdn) || put_str(body, "iccid", iccid) ||
	    put_str(body, "status", status) || put_holder(body, &holder) ||
	    put_str(body, "city", city) || put_str(body, "amf", amf) ||
	    put_str(body, "sip_password", sip_password) ||
	    (sqn && put(body, "sqn", json_integer((json_int_t)sqn_v))) ||
	    (ind_bitlen && put(body, "ind_bitlen", json_integer((json_int_t)ind_v)))) {
		json_decref(body);
		return oom();
	}
	rc = cli_http_request(ctx, "POST", "/v1/subscribers", body, &r);
	json_decref(body);
	if (rc)
		return rc;
	rc = print_sub_reply(ctx, &r);
	cli_reply_free(&r);
	return rc;
}

/* Column col of a binding, for the table of sub registrations. */
static char *binding_cell(json_t *b, size_t col)
{
	static const char *const members[] = {"contact", "source", NULL, "path"};
	char buf[32];

	if (members[col])
		return cli_value_text(json_object_get(b, members[col]));
	json_t *in = json_object_get(b, "expires_in");
	if (!json_is_integer(in))
		return NULL;
	cli_format_duration(json_integer_value(in), buf, sizeof(buf));
	return strdup(buf);
}

static int print_registrations(struct cli_ctx *ctx, struct cli_reply *r)
{
	static const char *const headers[] = {"CONTACT", "SOURCE", "EXPIRES_IN", "PATH"};
	json_t *bindings = json_object_get(r->json, "bindings");
	char *cell, *cell_at;

	if (r->status != 200)
		return cli_print_api_error(r);
	if (!json_is_array(bindings)) {
		fprintf(stderr, "koryo: koryod answered 200 without registrations\n");
		return CLI_EXIT_REFUSED;
	}
	if (ctx->json) {
		cli_print_json(r->json);
		return CLI_EXIT_OK;
	}
	cell = cli_value_text(json_object_get(r->json, "cell"));
	cell_at = cli_value_text(json_object_get(r->json, "cell_at"));
	if (!cell || !cell_at) {
		free(cell);
		free(cell_at);
		return oom();
	}
	/* The cell comes from the phone's P-Access-Network-Info: not obeyed. */
	for (char *p = cell; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	printf("cell:    %s\ncell_at: %s\n", cell, cell_at);
	free(cell);
	free(cell_at);
	cli_print_table(stdout, headers, 4, bindings, binding_cell);
	return CLI_EXIT_OK;
}

/* show, del and registrations: one subscriber by key, no other options. */
static int sub_by_key(struct cli_ctx *ctx, int argc, char **argv, const char *cmd,
                      const char *usage, const char *method)
{
	static const struct option opts[] = {
	    {"imsi", required_argument, NULL, O_IMSI},
	    {"msisdn", required_argument, NULL, O_MSISDN},
	    {"iccid", required_argument, NULL, O_ICCID},
	    CLI_GLOBAL_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	const char *imsi = NULL, *msisdn = NULL, *iccid = NULL;
	struct cli_reply r;
	char *path = NULL;
	int c, rc;

	optind = 0;
	while ((c = cli_getopt(ctx, argc, argv, opts, cmd)) != -1) {
		switch (c) {
		case CLI_OPT_HELP:
			fputs(usage, stdout);
			return CLI_EXIT_OK;
		case O_IMSI:
			imsi = optarg;
			break;
		case O_MSISDN:
			msisdn = optarg;
			break;
		case O_ICCID:
			iccid = optarg;
			break;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if ((rc = key_path(cmd, argc, argv, imsi, msisdn, iccid, &path)))
		return rc;
	if (usage == usage_registrations) {
		char *p = path;
		path = NULL;
		if (asprintf(&path, "%s/registrations", p) < 0) {
			free(p);
			return oom();
		}
		free(p);
	}
	rc = cli_http_request(ctx, method, path, NULL, &r);
	if (rc)
		goto out;
	if (usage == usage_registrations) {
		rc = print_registrations(ctx, &r);
	} else if (strcmp(method, "DELETE") != 0) {
		rc = print_sub_reply(ctx, &r);
	} else if (r.status < 200 || r.status > 299) {
		rc = cli_print_api_error(&r);
	} else {
		if (!ctx->json)
			printf("deleted %s\n", optind < argc ? argv[optind]
			                       : imsi        ? imsi
			                       : msisdn      ? msisdn
			                                     : iccid);
		rc = CLI_EXIT_OK;
	}
	cli_reply_free(&r);
out:
	free(path);
	return rc;
}

static int sub_set(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"imsi", required_argument, NULL, O_IMSI},
	    {"status", required_argument, NULL, O_STATUS},
	    {"class", required_argument, NULL, O_CLASS},
	    {"msisdn", required_argument, NULL, O_MSISDN},
	    {"no-msisdn", no_argument, NULL, O_NO_MSISDN},
	    {"city", required_argument, NULL, O_CITY},
	    {"no-city", no_argument, NULL, O_NO_CITY},
	    HOLDER_OPTIONS,
	    {"sip-password", required_argument, NULL, O_SIP_PASSWORD},
	    {"clear-sip-password", no_argument, NULL, O_CLEAR_SIP_PASSWORD},
	    CLI_GLOBAL_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	const char *cmd = "sub set";
	const char *imsi = NULL, *status = NULL, *class = NULL, *msisdn = NULL, *city = NULL;
	const char *sip_password = NULL;
	struct holder holder = {0};
	bool no_msisdn = false, no_city = false, clear_sip = false;
	struct cli_reply r;
	char *path = NULL;
	json_t *body;
	int c, rc;

	optind = 0;
	while ((c = cli_getopt(ctx, argc, argv, opts, cmd)) != -1) {
		switch (c) {
		case CLI_OPT_HELP:
			fputs(usage_set, stdout);
			return CLI_EXIT_OK;
		case O_IMSI:
			imsi = optarg;
			break;
		case O_STATUS:
			status = optarg;
			break;
		case O_CLASS:
			class = optarg;
			break;
		case O_MSISDN:
			msisdn = optarg;
			break;
		case O_NO_MSISDN:
			no_msisdn = true;
			break;
		case O_CITY:
			city = optarg;
			break;
		case O_NO_CITY:
			no_city = true;
			break;
		case O_SIP_PASSWORD:
			if ((rc = sip_password_opt(cmd, optarg, &sip_password)))
				return rc;
			break;
		case O_CLEAR_SIP_PASSWORD:
			clear_sip = true;
			break;
		default:
			if (!holder_opt(c, &holder))
				return CLI_EXIT_USAGE;
			break;
		}
	}
	if (msisdn && no_msisdn)
		return cli_usage_error(cmd, "give --msisdn or --no-msisdn, not both");
	if (city && no_city)
		return cli_usage_error(cmd, "give --city or --no-city, not both");
	if (sip_password && clear_sip)
		return cli_usage_error(cmd,
		                       "give --sip-password or --clear-sip-password, not both");
	if (!status && !class && !msisdn && !no_msisdn && !city && !no_city &&
	    !holder_given(&holder) && !sip_password && !clear_sip)
		return cli_usage_error(cmd, "nothing to change");
	/* --msisdn here is the new number, so the subscriber is named by KEY or
	 * --imsi only. */
	if ((rc = key_path(cmd, argc, argv, imsi, NULL, NULL, &path)))
		return rc;
	if (!(body = json_object())) {
		free(path);
		return oom();
	}
	if (put_str(body, "status", status) || put_str(body, "class", class) ||
	    put_str(body, "msisdn", msisdn) || (no_msisdn && put(body, "msisdn", json_null())) ||
	    put_str(body, "city", city) || (no_city && put(body, "city", json_null())) ||
	    put_holder(body, &holder) || put_str(body, "sip_password", sip_password) ||
	    (clear_sip && put(body, "sip_password", json_null()))) {
		json_decref(body);
		free(path);
		return oom();
	}
	rc = cli_http_request(ctx, "PATCH", path, body, &r);
	json_decref(body);
	free(path);
	if (rc)
		return rc;
	rc = print_sub_reply(ctx, &r);
	cli_reply_free(&r);
	return rc;
}

/* Appends "&name=value" (escaped) to *q when value is set. */
static int query_add(char **q, const char *name, const char *value)
{
	char *esc, *n;

	if (!value)
		return 0;
	if (!(esc = cli_http_escape(value)))
		return -1;
	if (asprintf(&n, "%s%s%s=%s", *q, **q ? "&" : "?", name, esc) < 0) {
		free(esc);
		return -1;
	}
	free(esc);
	free(*q);
	*q = n;
	return 0;
}

/* Prints the items of one page: table rows, or JSON array members when
 * streaming --all --json. *first tracks the comma between members. */
static void list_print_items(struct cli_ctx *ctx, json_t *items, bool all, bool *first)
{
	size_t i;
	json_t *sub;

	json_array_foreach(items, i, sub)
	{
		if (ctx->json && all) {
			char *s;
			cli_strip_secrets(sub);
			if (!(s = json_dumps(sub, JSON_COMPACT)))
				continue;
			printf("%s\n    %s", *first ? "" : ",", s);
			free(s);
		} else {
			cli_print_sub_row(stdout, sub);
		}
		*first = false;
	}
}

static int sub_list(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"class", required_argument, NULL, O_CLASS},
	    {"status", required_argument, NULL, O_STATUS},
	    {"city", required_argument, NULL, O_CITY},
	    {"limit", required_argument, NULL, O_LIMIT},
	    {"after", required_argument, NULL, O_AFTER},
	    {"all", no_argument, NULL, O_ALL},
	    CLI_GLOBAL_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	const char *cmd = "sub list";
	const char *class = NULL, *status = NULL, *city = NULL, *limit = NULL;
	char *after = NULL, *filters = NULL;
	unsigned long long limit_v;
	bool all = false, first = true;
	int c, rc = CLI_EXIT_OK;

	optind = 0;
	while ((c = cli_getopt(ctx, argc, argv, opts, cmd)) != -1) {
		switch (c) {
		case CLI_OPT_HELP:
			fputs(usage_list, stdout);
			return CLI_EXIT_OK;
		case O_CLASS:
			class = optarg;
			break;
		case O_STATUS:
			status = optarg;
			break;
		case O_CITY:
			city = optarg;
			break;
		case O_LIMIT:
			limit = optarg;
			break;
		case O_AFTER:
			free(after);
			if (!(after = strdup(optarg)))
				return oom();
			break;
		case O_ALL:
			all = true;
			break;
		default:
			free(after);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		free(after);
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	}
	if (limit && (rc = cli_parse_u64(cmd, "--limit", limit, &limit_v))) {
		free(after);
		return rc;
	}
	if (!(filters = strdup("")) || query_add(&filters, "limit", limit) ||
	    query_add(&filters, "class", class) || query_add(&filters, "status", status) ||
	    query_add(&filters, "city", city)) {
		free(filters);
		free(after);
		return oom();
	}

	for (int page = 0;; page++) {
		struct cli_reply r;
		char *q = NULL, *path = NULL;
		json_t *items, *next;

		if (!(q = strdup(filters)) || query_add(&q, "after", after) ||
		    asprintf(&path, "/v1/subscribers%s", q) < 0) {
			free(q);
			rc = oom();
			break;
		}
		free(q);
		rc = cli_http_request(ctx, "GET", path, NULL, &r);
		free(path);
		if (rc)
			break;
		if (r.status != 200) {
			rc = cli_print_api_error(&r);
			cli_reply_free(&r);
			break;
		}
		items = json_object_get(r.json, "items");
		next = json_object_get(r.json, "next");
		if (!json_is_array(items) ||
		    (next && !json_is_null(next) && !json_is_string(next))) {
			fprintf(stderr,
			        "koryo: koryod answered 200 without a page of subscribers\n");
			cli_reply_free(&r);
			rc = CLI_EXIT_REFUSED;
			break;
		}
		if (ctx->json && !all) {
			cli_print_json(r.json);
		} else {
			if (page == 0 && ctx->json)
				fputs("{\n  \"items\": [", stdout);
			else if (page == 0)
				cli_print_sub_header(stdout);
			list_print_items(ctx, items, all, &first);
		}
		if (!json_is_string(next)) {
			cli_reply_free(&r);
			break;
		}
		/* A next that does not move would page forever. */
		if (after && strcmp(json_string_value(next), after) == 0) {
			fprintf(stderr, "koryo: koryod's next page (%s) does not follow %s\n",
			        json_string_value(next), after);
			cli_reply_free(&r);
			rc = CLI_EXIT_REFUSED;
			break;
		}
		free(after);
		after = strdup(json_string_value(next));
		cli_reply_free(&r);
		if (!after) {
			rc = oom();
			break;
		}
		if (!all) {
			if (!ctx->json)
				fprintf(stderr, "(more: koryo sub list --after %s, or --all)\n",
				        after);
			break;
		}
	}
	if (ctx->json && all && rc == CLI_EXIT_OK)
		fputs("\n  ],\n  \"next\": null\n}\n", stdout);
	free(filters);
	free(after);
	return rc;
}

int cli_cmd_sub(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {CLI_GLOBAL_OPTIONS, {NULL, 0, NULL, 0}};
	const char *sub;
	int c;

	optind = 0;
	while ((c = cli_getopt_head(ctx, argc, argv, opts, "sub")) != -1) {
		if (c == CLI_OPT_HELP) {
			fputs(usage_sub, stdout);
			return CLI_EXIT_OK;
		}
		return CLI_EXIT_USAGE;
	}
	if (optind >= argc)
		return cli_usage_error(
		    "sub", "missing command (add, show, list, set, del, registrations)");
	sub = argv[optind];
	argc -= optind;
	argv += optind;
	if (strcmp(sub, "add") == 0)
		return sub_add(ctx, argc, argv);
	if (strcmp(sub, "show") == 0)
		return sub_by_key(ctx, argc, argv, "sub show", usage_show, "GET");
	if (strcmp(sub, "list") == 0 || strcmp(sub, "ls") == 0)
		return sub_list(ctx, argc, argv);
	if (strcmp(sub, "set") == 0)
		return sub_set(ctx, argc, argv);
	if (strcmp(sub, "del") == 0 || strcmp(sub, "delete") == 0)
		return sub_by_key(ctx, argc, argv, "sub del", usage_del, "DELETE");
	if (strcmp(sub, "registrations") == 0 || strcmp(sub, "regs") == 0)
		return sub_by_key(ctx, argc, argv, "sub registrations", usage_registrations, "GET");
	return cli_usage_error(
	    "sub", "unknown command '%s' (add, show, list, set, del, registrations)", sub);
}
