/* koryo CLI: state shared by the commands, exit codes, option helpers.
 *
 * The CLI is a thin client of koryod's REST API (docs/api.md): it turns
 * options into JSON, sends it, and prints what comes back. It validates only
 * what it must to build a request (numbers, exclusive options); every rule
 * about values (IMSI prefix, classes, cities) lives in koryod, so it is
 * written once. */
#pragma once

#include <getopt.h>
#include <stdbool.h>

/* Exit codes, documented in docs/cli.md. */
enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_REFUSED = 1,    /* koryod answered, and said no */
	CLI_EXIT_USAGE = 2,      /* bad command line, unreadable input file */
	CLI_EXIT_UNREACHABLE = 3 /* no koryod at the URL, no token, or token refused */
};

struct cli_http;

/* One invocation of the CLI. The strings point into argv or the environment
 * and live as long as the process. */
struct cli_ctx {
	const char *api;        /* --api, or NULL for $KORYO_API or the default */
	const char *token_file; /* --token-file, or NULL for the default search */
	bool json;              /* --json: print the API's JSON, not tables */
	struct cli_http *http;  /* opened by the first request, closed in main */
};

/* Values returned by cli_getopt besides the long options' own values. */
enum {
	CLI_OPT_HELP = 'h',
	CLI_OPT_ERROR = 0x7000, /* a usage error was printed */
	CLI_OPT_API,
	CLI_OPT_TOKEN_FILE,
	CLI_OPT_JSON,
	CLI_OPT_FIRST_LOCAL /* commands number their options from here */
};

/* Every command accepts the global options too, so they may come anywhere on
 * the line: `koryo sub list --json` works as well as `koryo --json sub list`. */
/* (clang-format cannot lay out initialisers in a macro.) */
/* clang-format off */
#define CLI_GLOBAL_OPTIONS                                              \
	{"api", required_argument, NULL, CLI_OPT_API},                  \
	{"token-file", required_argument, NULL, CLI_OPT_TOKEN_FILE},    \
	{"json", no_argument, NULL, CLI_OPT_JSON},                      \
	{"help", no_argument, NULL, CLI_OPT_HELP}
/* clang-format on */

/* cli_getopt: getopt_long over argv (argv[0] being the command's name) with
 * koryo's conventions. Global options are stored in ctx and skipped. Returns
 * the next local option's value (its argument in optarg), CLI_OPT_HELP, -1 at
 * the end (positional arguments are then argv[optind..argc-1]), or
 * CLI_OPT_ERROR after printing a usage error for command cmd. Reset optind to
 * 0 before the first call for a new argv. An option value that looks like an
 * option ("--k --opc X") is a usage error rather than a silent misparse. */
int cli_getopt(struct cli_ctx *ctx, int argc, char **argv, const struct option *longopts,
               const char *cmd);

/* cli_getopt_head: like cli_getopt, but stops at the first word that is not
 * an option, for commands that dispatch to subcommands ("koryo --json sub ..."). */
int cli_getopt_head(struct cli_ctx *ctx, int argc, char **argv, const struct option *longopts,
                    const char *cmd);

/* cli_usage_error: prints "koryo CMD: MESSAGE" and a hint to --help on stderr,
 * returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* cli_parse_u64: parses a decimal number for option opt of command cmd.
 * Returns 0, or CLI_EXIT_USAGE after printing why. */
int cli_parse_u64(const char *cmd, const char *opt, const char *s, unsigned long long *out);

/* The commands. argv[0] is the command's own name ("sub", "import"). Each
 * returns an enum cli_exit. */
int cli_cmd_sub(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_import(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_calls(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_policy(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_sms(struct cli_ctx *ctx, int argc, char **argv);
/* account, voucher: argv[0] says which. */
int cli_cmd_charging(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_cdrs(struct cli_ctx *ctx, int argc, char **argv);
