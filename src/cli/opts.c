/* Option parsing shared by all commands: getopt_long plus koryo's error
 * messages and the global options. */
#include "cli/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "koryo%s%s: ", cmd[0] ? " " : "", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'koryo%s%s --help'.\n", cmd[0] ? " " : "", cmd);
	return CLI_EXIT_USAGE;
}

static const char *long_name(const struct option *longopts, int val)
{
	for (const struct option *o = longopts; o->name; o++)
		if (o->val == val)
			return o->name;
	return "?";
}

static bool takes_argument(const struct option *longopts, int val)
{
	for (const struct option *o = longopts; o->name; o++)
		if (o->val == val)
			return o->has_arg != no_argument;
	return false;
}

static int getopt_any(struct cli_ctx *ctx, int argc, char **argv, const struct option *longopts,
                      const char *cmd, const char *optstring)
{
	for (;;) {
		/* Leading ':' tells a missing value (':') from an unknown option ('?');
		 * opterr = 0 because getopt's own messages do not say which command. */
		opterr = 0;
		int c = getopt_long(argc, argv, optstring, longopts, NULL);

		if (c == '?') {
			const char *bad = argv[optind - 1];
			/* Print the option's name only: after '=' may be a secret
			 * (a mistyped --kk=K must not echo K). */
			int len = (int)strcspn(bad, "=");
			if (optopt && optopt < 0x100 && bad[0] == '-' && bad[1] != '-')
				return cli_usage_error(cmd, "unknown option -%c", optopt);
			return cli_usage_error(cmd, "unknown option %.*s", len, bad);
		}
		if (c == ':')
			return cli_usage_error(cmd, "option --%s needs a value",
			                       long_name(longopts, optopt));
		if (c != -1 && takes_argument(longopts, c) && strncmp(optarg, "--", 2) == 0 &&
		    optarg[2] != '\0')
			/* "--k --opc X": getopt would take "--opc" as the K and leave X,
			 * possibly a secret, to be echoed as a stray argument. */
			return cli_usage_error(cmd, "option --%s needs a value",
			                       long_name(longopts, c));
		switch (c) {
		case CLI_OPT_API:
			ctx->api = optarg;
			continue;
		case CLI_OPT_TOKEN_FILE:
			ctx->token_file = optarg;
			continue;
		case CLI_OPT_JSON:
			ctx->json = true;
			continue;
		default:
			return c;
		}
	}
}

int cli_getopt(struct cli_ctx *ctx, int argc, char **argv, const struct option *longopts,
               const char *cmd)
{
	return getopt_any(ctx, argc, argv, longopts, cmd, ":h");
}

int cli_getopt_head(struct cli_ctx *ctx, int argc, char **argv, const struct option *longopts,
                    const char *cmd)
{
	/* '+' stops at the first word: what follows belongs to the subcommand. */
	return getopt_any(ctx, argc, argv, longopts, cmd, "+:h");
}

int cli_parse_u64(const char *cmd, const char *opt, const char *s, unsigned long long *out)
{
	char *end;

	errno = 0;
	if (s[0] < '0' || s[0] > '9')
		return cli_usage_error(cmd, "%s must be a decimal number", opt);
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return cli_usage_error(cmd, "%s must be a decimal number", opt);
	*out = v;
	return 0;
}
