/* koryo: the operator's command line for koryod. Parses the global options,
 * dispatches to a command, and owns the process-wide setup (libcurl) and
 * teardown (the connection, the token, remembered secrets). */
#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli/auc_gen.h"
#include "cli/cli.h"
#include "cli/http.h"
#include "cli/output.h"
#include "version.h"

static const char usage_main[] =
    "Usage: koryo [--api URL] [--token-file PATH] [--json] COMMAND [ARGS...]\n"
    "       koryo --help | --version\n"
    "\n"
    "Operate a koryo mobile core through koryod's REST API.\n"
    "\n"
    "Commands:\n"
    "  sub add              create a subscriber\n"
    "  sub show             show one subscriber\n"
    "  sub list             list subscribers\n"
    "  sub set              change a subscriber\n"
    "  sub del              delete a subscriber\n"
    "  sub registrations    show a subscriber's SIP registrations\n"
    "  calls                list the SIP calls up now\n"
    "  cdrs                 list the call detail records\n"
    "  import subscribers   import subscribers from a CSV file\n"
    "  policy               rights, dialling rules, network-wide switches, audit\n"
    "  sms                  SMS content rules (the SMS firewall); the SMS centre's\n"
    "                       messages, held ones, CDRs\n"
    "  account              balances, top-ups and the ledger of an account\n"
    "  voucher              top-up card batches\n"
    "  auc-gen              authentication centre tool (runs locally)\n"
    "\n"
    "Global options (also accepted after the command):\n"
    "  --api URL            koryod's API (default: $KORYO_API, else\n"
    "                       http://127.0.0.1:8080)\n"
    "  --token-file PATH    the API token file (default: $KORYO_TOKEN_FILE, else\n"
    "                       /var/lib/koryo/api.token, else ./var/api.token)\n"
    "  --json               print koryod's JSON instead of tables\n"
    "  --help               this help; 'koryo COMMAND --help' for a command's\n"
    "  --version            print koryo's version\n"
    "\n"
    "Exit status:\n"
    "  0  success\n"
    "  1  koryod refused the request (its error is printed, with the field)\n"
    "  2  usage error\n"
    "  3  koryod cannot be reached, the token file cannot be read, or koryod\n"
    "     refused the token (401)\n"
    "\n"
    "See docs/cli.md for the full reference.\n";

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    CLI_GLOBAL_OPTIONS,
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct cli_ctx ctx = {0};
	const char *cmd;
	int c, rc;

	optind = 0;
	while ((c = cli_getopt_head(&ctx, argc, argv, opts, "")) != -1) {
		switch (c) {
		case CLI_OPT_HELP:
			fputs(usage_main, stdout);
			return CLI_EXIT_OK;
		case 'V':
			printf("koryo %s\n", KORYO_VERSION);
			return CLI_EXIT_OK;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return cli_usage_error("",
		                       "missing command (sub, calls, cdrs, import, policy, sms, "
		                       "account, voucher, auc-gen)");
	cmd = argv[optind];
	argc -= optind;
	argv += optind;

	/* auc-gen computes locally and needs neither koryod nor libcurl. */
	if (strcmp(cmd, "auc-gen") == 0)
		return cli_auc_gen(argc, argv);
	if (strcmp(cmd, "help") == 0) {
		fputs(usage_main, stdout);
		return CLI_EXIT_OK;
	}
	bool charging = strcmp(cmd, "account") == 0 || strcmp(cmd, "voucher") == 0;
	if (strcmp(cmd, "sub") != 0 && strcmp(cmd, "import") != 0 && strcmp(cmd, "calls") != 0 &&
	    strcmp(cmd, "cdrs") != 0 && strcmp(cmd, "policy") != 0 && strcmp(cmd, "sms") != 0 &&
	    !charging)
		return cli_usage_error(
		    "",
		    "unknown command '%s' (sub, calls, cdrs, import, policy, sms, "
		    "account, voucher, auc-gen)",
		    cmd);

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		fprintf(stderr, "koryo: cannot initialise libcurl\n");
		return CLI_EXIT_UNREACHABLE;
	}
	if (strcmp(cmd, "sub") == 0)
		rc = cli_cmd_sub(&ctx, argc, argv);
	else if (strcmp(cmd, "calls") == 0)
		rc = cli_cmd_calls(&ctx, argc, argv);
	else if (strcmp(cmd, "cdrs") == 0)
		rc = cli_cmd_cdrs(&ctx, argc, argv);
	else if (strcmp(cmd, "policy") == 0)
		rc = cli_cmd_policy(&ctx, argc, argv);
	else if (strcmp(cmd, "sms") == 0)
		rc = cli_cmd_sms(&ctx, argc, argv);
	else if (charging)
		rc = cli_cmd_charging(&ctx, argc, argv);
	else
		rc = cli_cmd_import(&ctx, argc, argv);
	cli_http_close(&ctx);
	cli_secrets_free();
	curl_global_cleanup();
	return rc;
}
