/*
 * `koryo auc-gen`: one AKA vector, computed offline.
 *
 * The meaning of --sqn, --ind and --auts copies osmo-auc-gen 1.7 (measured,
 * see docs/auc.md), so operators can check one tool against the other:
 *   without --auts  AUTN carries exactly --sqn;
 *   with --auts     SQN_MS is taken from the AUTS and AUTN carries the next
 *                   SQN after it, in IND slot --ind (or the IND bits of
 *                   --sqn when that is given instead), as the AuC would.
 */
#include "cli/auc_gen.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "crypto/aka.h"
#include "crypto/milenage.h"

#define AUC_GEN_EXIT_USAGE 2
#define AUC_GEN_EXIT_FAIL  1

enum auc_gen_opt {
	OPT_K = 256,
	OPT_OP,
	OPT_OPC,
	OPT_AMF,
	OPT_SQN,
	OPT_RAND,
	OPT_AUTS,
	OPT_IND,
	OPT_IND_LEN,
	OPT_HELP,
};

static const struct option auc_gen_options[] = {
    {"k", required_argument, NULL, OPT_K},
    {"op", required_argument, NULL, OPT_OP},
    {"opc", required_argument, NULL, OPT_OPC},
    {"amf", required_argument, NULL, OPT_AMF},
    {"sqn", required_argument, NULL, OPT_SQN},
    {"rand", required_argument, NULL, OPT_RAND},
    {"auts", required_argument, NULL, OPT_AUTS},
    {"ind", required_argument, NULL, OPT_IND},
    {"ind-len", required_argument, NULL, OPT_IND_LEN},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static void auc_gen_usage(FILE *f)
{
	fputs("usage: koryo auc-gen --k HEX (--opc HEX | --op HEX) --amf HEX --sqn N\n"
	      "                     [--rand HEX] [--auts HEX [--ind N]] [--ind-len N]\n"
	      "\n"
	      "Computes one UMTS AKA vector with MILENAGE (and the GSM triplet by c2/c3),\n"
	      "as the AuC would; results equal osmo-auc-gen -3 -a milenage.\n"
	      "\n"
	      "  --k HEX        subscriber key K, 32 hex digits\n"
	      "  --opc HEX      operator variant OPc, 32 hex digits\n"
	      "  --op HEX       operator variant OP, 32 hex digits (OPc is derived)\n"
	      "  --amf HEX      AMF, 4 hex digits\n"
	      "  --sqn N        decimal, 0 .. 2^48-1. Without --auts: the SQN that AUTN\n"
	      "                 carries, used as given. With --auts: optional; only its\n"
	      "                 IND bits (N mod 2^ind-len) matter, as the IND slot\n"
	      "  --rand HEX     RAND, 32 hex digits (default: random; required with --auts)\n"
	      "  --auts HEX     AUTS from the USIM, 28 hex digits, made over this RAND:\n"
	      "                 verify MAC-S, recover SQN_MS, and generate the vector for\n"
	      "                 the next SQN after SQN_MS:\n"
	      "                   ((SQN_MS + 2^ind-len) & ~(2^ind-len - 1)) + IND\n"
	      "  --ind N        IND slot for that next SQN (default 0); not with --sqn\n"
	      "  --ind-len N    IND bit length, 0 .. 28 (default 5)\n"
	      "  --help         this text\n"
	      "\n"
	      "Prints RAND, AUTN, RES, CK, IK, SRES and Kc in lowercase hex, and with\n"
	      "--auts also SQN_MS (decimal). K, OP and OPc are never printed.\n"
	      "Exit status: 0 done, 1 AUTS does not verify, 2 bad usage.\n",
	      f);
}

/* Prints "koryo auc-gen: <message>" and the hint, as the other koryo commands do. */
__attribute__((format(printf, 1, 2))) static int auc_gen_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("koryo auc-gen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'koryo auc-gen --help'.\n", stderr);
	return AUC_GEN_EXIT_USAGE;
}

/*
 * Parses exactly n octets of hex. Returns 0, or prints an error naming opt
 * (never the value: it may be a key) and returns AUC_GEN_EXIT_USAGE.
 */
static int auc_gen_parse_hex(const char *opt, const char *s, uint8_t *out, size_t n)
{
	size_t len = strlen(s);

	if (len != 2 * n)
		return auc_gen_usage_error("%s: expected %zu hex digits (%zu octets), got %zu "
		                           "characters",
		                           opt, 2 * n, n, len);
	for (size_t i = 0; i < 2 * n; i++) {
		char c = s[i];
		int v;
		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else
			return auc_gen_usage_error("%s: not hex (expected %zu hex digits)", opt,
			                           2 * n);
		if (i % 2 == 0)
			out[i / 2] = (uint8_t)(v << 4);
		else
			out[i / 2] |= (uint8_t)v;
	}
	return 0;
}

/* Parses a decimal number 0..max. Returns 0 or AUC_GEN_EXIT_USAGE. */
static int auc_gen_parse_uint(const char *opt, const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return auc_gen_usage_error("%s: expected a decimal number 0 .. %" PRIu64, opt, max);
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return auc_gen_usage_error("%s: expected a decimal number 0 .. %" PRIu64,
			                           opt, max);
		unsigned d = (unsigned)(*p - '0');
		if (v > (max - d) / 10)
			return auc_gen_usage_error("%s: out of range, expected 0 .. %" PRIu64, opt,
			                           max);
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static void auc_gen_print_hex(const char *label, const uint8_t *b, size_t n)
{
	printf("%s: ", label);
	for (size_t i = 0; i < n; i++)
		printf("%02x", b[i]);
	putchar('\n');
}

struct auc_gen_args {
	struct aka_keys keys;
	uint8_t op[16], rand[16], auts[14];
	uint64_t sqn, ind, ind_len;
	bool have_k, have_op, have_opc, have_amf, have_sqn, have_rand, have_auts, have_ind;
};

static const char *auc_gen_opt_name(int val)
{
	for (const struct option *o = auc_gen_options; o->name; o++)
		if (o->val == val)
			return o->name;
	return "?";
}

/* Marks an option as seen; each may be given once. */
static int auc_gen_once(bool *seen, int val)
{
	if (*seen)
		return auc_gen_usage_error("--%s: given more than once", auc_gen_opt_name(val));
	*seen = true;
	return 0;
}

static int auc_gen_parse(int argc, char **argv, struct auc_gen_args *a, bool *help)
{
	bool seen_ind_len = false;
	int c, rc;

	/* ':' first: report a missing argument as ':' rather than '?'. */
	opterr = 0;
	optind = 0; /* GNU: full re-initialisation, we may not be the first user */
	while ((c = getopt_long(argc, argv, ":h", auc_gen_options, NULL)) != -1) {
		rc = 0;
		/* "--k --opc X" is a forgotten value, not a key spelled "--opc". */
		if (c >= OPT_K && c < OPT_HELP && optarg && strncmp(optarg, "--", 2) == 0)
			return auc_gen_usage_error("--%s: needs a value", auc_gen_opt_name(c));
		switch (c) {
		case OPT_K:
			rc = auc_gen_once(&a->have_k, c);
			if (!rc)
				rc = auc_gen_parse_hex("--k", optarg, a->keys.k, 16);
			break;
		case OPT_OP:
			rc = auc_gen_once(&a->have_op, c);
			if (!rc)
				rc = auc_gen_parse_hex("--op", optarg, a->op, 16);
			break;
		case OPT_OPC:
			rc = auc_gen_once(&a->have_opc, c);
			if (!rc)
				rc = auc_gen_parse_hex("--opc", optarg, a->keys.opc, 16);
			break;
		case OPT_AMF:
			rc = auc_gen_once(&a->have_amf, c);
			if (!rc)
				rc = auc_gen_parse_hex("--amf", optarg, a->keys.amf, 2);
			break;
		case OPT_SQN:
			rc = auc_gen_once(&a->have_sqn, c);
			if (!rc)
				rc = auc_gen_parse_uint("--sqn", optarg, AKA_SQN_MAX, &a->sqn);
			break;
		case OPT_RAND:
			rc = auc_gen_once(&a->have_rand, c);
			if (!rc)
				rc = auc_gen_parse_hex("--rand", optarg, a->rand, 16);
			break;
		case OPT_AUTS:
			rc = auc_gen_once(&a->have_auts, c);
			if (!rc)
				rc = auc_gen_parse_hex("--auts", optarg, a->auts, AKA_AUTS_LEN);
			break;
		case OPT_IND:
			rc = auc_gen_once(&a->have_ind, c);
			if (!rc)
				rc = auc_gen_parse_uint("--ind", optarg, UINT32_MAX, &a->ind);
			break;
		case OPT_IND_LEN:
			rc = auc_gen_once(&seen_ind_len, c);
			if (!rc)
				rc = auc_gen_parse_uint("--ind-len", optarg, AKA_IND_BITLEN_MAX,
				                        &a->ind_len);
			break;
		case 'h':
		case OPT_HELP:
			*help = true;
			return 0;
		case ':':
			return auc_gen_usage_error("--%s: needs a value", auc_gen_opt_name(optopt));
		default: {
			/* Show the option's name only: "--k=..." would carry a key. */
			char name[40];
			const char *arg = argv[optind - 1];
			size_t n = strcspn(arg, "=");
			snprintf(name, sizeof(name), "%.*s", (int)(n < 32 ? n : 32), arg);
			return auc_gen_usage_error("%s: unknown option", name);
		}
		}
		if (rc)
			return rc;
	}
	if (optind < argc)
		/* Not echoed: a stray word here is often a key that lost its option. */
		return auc_gen_usage_error("unexpected argument at position %d (auc-gen takes "
		                           "options only)",
		                           optind);

	if (!a->have_k)
		return auc_gen_usage_error("--k: missing (the subscriber key K)");
	if (a->have_op && a->have_opc)
		return auc_gen_usage_error("--op/--opc: give either --op or --opc, not both");
	if (!a->have_op && !a->have_opc)
		return auc_gen_usage_error("--op/--opc: missing (one of them is required)");
	if (!a->have_amf)
		return auc_gen_usage_error("--amf: missing");
	if (!a->have_sqn && !a->have_auts)
		return auc_gen_usage_error("--sqn: missing (required unless --auts is given)");
	if (a->have_auts && !a->have_rand)
		return auc_gen_usage_error("--auts: needs --rand, the RAND the AUTS was computed "
		                           "over");
	if (a->have_ind && !a->have_auts)
		return auc_gen_usage_error("--ind: only applies with --auts (without it, AUTN "
		                           "carries --sqn as given)");
	/* osmo-auc-gen refuses the same: --sqn already implies the IND slot. */
	if (a->have_ind && a->have_sqn)
		return auc_gen_usage_error("--ind: --sqn already implies IND = SQN mod "
		                           "2^ind-len; give --sqn or --ind, not both");
	if (a->have_ind && a->ind >= (UINT64_C(1) << a->ind_len))
		return auc_gen_usage_error("--ind: too large for --ind-len %" PRIu64
		                           ", at most %" PRIu64,
		                           a->ind_len, (UINT64_C(1) << a->ind_len) - 1);
	return 0;
}

int cli_auc_gen(int argc, char **argv)
{
	struct auc_gen_args a;
	struct aka_vector v;
	uint64_t sqn, sqn_ms = 0;
	bool help = false;
	int rc;

	memset(&a, 0, sizeof(a));
	a.ind_len = AKA_IND_BITLEN_DEFAULT;
	memset(&v, 0, sizeof(v));

	rc = auc_gen_parse(argc, argv, &a, &help);
	if (rc)
		goto out;
	if (help) {
		auc_gen_usage(stdout);
		goto out;
	}

	rc = AUC_GEN_EXIT_FAIL;
	if (a.have_op && milenage_opc_gen(a.keys.k, a.op, a.keys.opc) < 0) {
		fputs("koryo auc-gen: AES failed\n", stderr);
		goto out;
	}
	if (!a.have_rand && crypto_random(a.rand, sizeof(a.rand)) < 0) {
		fputs("koryo auc-gen: no random numbers for RAND\n", stderr);
		goto out;
	}

	sqn = a.sqn;
	if (a.have_auts) {
		int r = aka_resync(&a.keys, a.rand, a.auts, &sqn_ms);
		if (r == -EBADMSG) {
			fputs("koryo auc-gen: --auts: MAC-S does not verify (wrong AUTS, RAND or "
			      "keys); no vector generated\n",
			      stderr);
			goto out;
		}
		if (r < 0) {
			fputs("koryo auc-gen: resynchronisation failed\n", stderr);
			goto out;
		}
		/* IND slot: --ind, else the IND bits of --sqn, else 0 (osmo-auc-gen). */
		unsigned ind =
		    (unsigned)(a.have_ind ? a.ind : a.sqn & ((UINT64_C(1) << a.ind_len) - 1));
		sqn = aka_sqn_next(sqn_ms, (unsigned)a.ind_len, ind);
	}
	if (aka_vector_gen(&a.keys, sqn, a.rand, &v) < 0) {
		fputs("koryo auc-gen: vector generation failed\n", stderr);
		goto out;
	}

	auc_gen_print_hex("RAND", v.rand, sizeof(v.rand));
	auc_gen_print_hex("AUTN", v.autn, sizeof(v.autn));
	auc_gen_print_hex("RES", v.res, sizeof(v.res));
	auc_gen_print_hex("CK", v.ck, sizeof(v.ck));
	auc_gen_print_hex("IK", v.ik, sizeof(v.ik));
	auc_gen_print_hex("SRES", v.sres, sizeof(v.sres));
	auc_gen_print_hex("Kc", v.kc, sizeof(v.kc));
	if (a.have_auts)
		printf("SQN_MS: %" PRIu64 "\n", sqn_ms);
	rc = fflush(stdout) == 0 ? 0 : AUC_GEN_EXIT_FAIL;
out:
	OPENSSL_cleanse(&a, sizeof(a));
	OPENSSL_cleanse(&v, sizeof(v));
	return rc;
}
