/* koryo voucher gen and koryo voucher upload (docs/charging.md, "Top-up
 * cards").
 *
 * A batch's PINs exist in one place: the card file that gen writes for the
 * card printer. koryod receives only PBKDF2-HMAC-SHA256 of each PIN under the
 * batch's salt, computed here by upload, so that neither its store nor its
 * log can give a PIN away. gen draws the salt and the file keeps it with the
 * batch's terms: an upload cut short can then be run again, since koryod adds
 * a part to an existing batch only when every term, the salt included, is
 * the same, and the count of cards it has says where to go on. */
#include "cli/voucher.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/http.h"
#include "cli/output.h"
#include "cli/progress.h"
#include "crypto/aka.h"

/* The card file's header; upload refuses any other. */
static const char file_header[] = "serial,pin,batch,currency,value,expires,salt,iterations";
#define FILE_COLUMNS 8

/* koryod takes at most this many cards per request (its body limit). */
#define PART_CARDS 400
/* What koryod accepts (src/ocs/vouchers.c). */
#define MAX_CARDS      1000000
#define MIN_ITERATIONS 1000
#define MAX_ITERATIONS 10000000
#define MIN_PIN_DIGITS 8
#define MAX_PIN_DIGITS 32
/* 16 digits is 53 bits: with the per-batch salt a stolen store still costs
 * about 10^16 / cards guesses per card found, each DEFAULT_ITERATIONS
 * HMACs, while a redemption costs koryod one PBKDF2 per batch. */
#define DEFAULT_PIN_DIGITS 16
#define DEFAULT_ITERATIONS 10000
#define SALT_BYTES         16
/* Serials: 16 characters of Crockford's base32 (80 bits, no I, L, O, U to
 * misread), grouped by 4 to be read out over the phone. Unique in the
 * network, since they are the store's key, without asking koryod. */
#define SERIAL_CHARS     16
#define MAX_HASH_THREADS 8

struct card {
	char serial[33];
	char pin[MAX_PIN_DIGITS + 1];
	char hash[65];
	long long line; /* in the file, for upload's messages */
};

static const char usage_gen[] =
    "Usage: koryo voucher gen --count N --value V --currency C --expires YYYY-MM-DD\n"
    "                         --batch NAME --out FILE [--pin-digits N] [--iterations N]\n"
    "\n"
    "Make a batch of top-up cards locally: draw a serial and a PIN for each card\n"
    "from the system's cryptographic random generator and write them, with the\n"
    "batch's terms, to FILE for the card printer. Nothing is sent to koryod and\n"
    "no PIN is printed; 'koryo voucher upload FILE' sends koryod the PINs' hashes.\n"
    "\n"
    "Required:\n"
    "  --count N            cards in the batch, 1 to 1000000\n"
    "  --value V            each card's value in minor units of the currency\n"
    "                       (1000 = EUR 10.00; KPW has no minor unit: 5000 = KPW 5,000)\n"
    "  --currency C         a currency of the network (ISO 4217: EUR, USD, CNY, KPW)\n"
    "  --expires DATE       YYYY-MM-DD: koryod refuses the cards from 00:00 UTC on\n"
    "                       that day (they are good through the day before)\n"
    "  --batch NAME         the batch's name, 1 to 32 of A-Z a-z 0-9 - _\n"
    "  --out FILE           the card file to write; created with mode 0600 and\n"
    "                       never overwritten\n"
    "\n"
    "Optional:\n"
    "  --pin-digits N       PIN length, 8 to 32 (default 16)\n"
    "  --iterations N       PBKDF2 iterations, 1000 to 10000000 (default 10000):\n"
    "                       more slows an attack on a stolen store, and also\n"
    "                       upload and every redemption (one hash per batch)\n"
    "\n"
    "The file is CSV with a header line:\n"
    "  serial,pin,batch,currency,value,expires,salt,iterations\n"
    "one line per card. It holds the PINs: keep it only until the cards are\n"
    "printed and uploaded, then destroy it.\n"
    "\n"
    "Exit status: 0 written, 1 the file could not be written (nothing is left),\n"
    "2 usage error (FILE exists, a bad value).\n"
    "\n"
    "Example:\n"
    "  koryo voucher gen --count 5000 --value 1000 --currency EUR \\\n"
    "      --expires 2028-01-01 --batch EUR10-2026-11 --out eur10.csv\n";

static const char usage_upload[] =
    "Usage: koryo voucher upload [--no-progress] FILE\n"
    "\n"
    "Send koryod a batch of top-up cards from a file made by 'koryo voucher gen':\n"
    "each PIN is hashed here (PBKDF2-HMAC-SHA256 under the batch's salt) and only\n"
    "serials and hashes are sent, in parts of at most 400 cards\n"
    "(POST /v1/charging/voucher-batches). No PIN is printed or sent.\n"
    "\n"
    "Each part is stored whole or not at all. If an upload stops half way (koryod\n"
    "refused a part, or could not be reached), run the same command again: it\n"
    "asks koryod how many cards of the batch it has and sends the rest.\n"
    "\n"
    "Options:\n"
    "  --no-progress        no progress bar (it is drawn on stderr only when that\n"
    "                       is a terminal)\n"
    "\n"
    "Exit status: 0 every card is in koryod, 1 koryod refused a part (the error\n"
    "names the file's line when it is about one card), 2 usage error or a bad\n"
    "FILE (FILE:LINE: column: error), 3 koryod unreachable or the token refused.\n"
    "\n"
    "Example:\n"
    "  koryo voucher upload eur10.csv\n";

enum {
	O_COUNT = CLI_OPT_FIRST_LOCAL,
	O_VALUE,
	O_CURRENCY,
	O_EXPIRES,
	O_BATCH,
	O_OUT,
	O_PIN_DIGITS,
	O_ITERATIONS,
	O_NO_PROGRESS,
};

static int oom(void)
{
	fprintf(stderr, "koryo: out of memory\n");
	return CLI_EXIT_UNREACHABLE;
}

static bool all_of(const char *s, const char *set, size_t min, size_t max)
{
	size_t n = strlen(s);
	return n >= min && n <= max && strspn(s, set) == n;
}

#define NAME_SET "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

/* A calendar day "YYYY-MM-DD" as its first second (UTC). 0, or -1 for
 * anything else, an impossible day (2027-02-30) included. */
static int parse_day(const char *s, int64_t *out)
{
	struct tm tm = {0};
	char back[16];
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	const char *end = strptime(s, "%Y-%m-%d", &tm);
	if (!end || *end)
		return -1;
	time_t t = timegm(&tm);
	struct tm check;
	if (!gmtime_r(&t, &check) || strftime(back, sizeof(back), "%Y-%m-%d", &check) != 10 ||
	    strcmp(back, s) != 0)
		return -1;
	*out = (int64_t)t;
	return 0;
}

/* --- random --------------------------------------------------------------------- */

/* Bytes of the CSPRNG, drawn a block at a time. */
struct rng {
	uint8_t buf[512];
	size_t pos, len;
	bool failed;
};

static uint8_t rng_byte(struct rng *r)
{
	if (r->pos == r->len) {
		if (crypto_random(r->buf, sizeof(r->buf)) != 0)
			r->failed = true;
		r->pos = 0;
		r->len = sizeof(r->buf);
	}
	return r->buf[r->pos++];
}

/* n uniform decimal digits: bytes from 250 up are drawn again, so that
 * no digit is likelier than another. */
static void draw_pin(struct rng *r, char *out, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint8_t b;
		while ((b = rng_byte(r)) >= 250)
			;
		out[i] = (char)('0' + b % 10);
	}
	out[n] = '\0';
}

static void draw_serial(struct rng *r, char *out)
{
	static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	size_t j = 0;
	for (unsigned i = 0; i < SERIAL_CHARS; i++) {
		if (i && i % 4 == 0)
			out[j++] = '-';
		out[j++] = alphabet[rng_byte(r) & 31];
	}
	out[j] = '\0';
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Draws again every value (serial or PIN, at offset `field` of a card) equal
 * to an earlier one, until all differ: koryod refuses a batch where two
 * cards share a PIN, and serials are its key. Returns how many were drawn
 * again, or -1 when out of memory. */
static long redraw_duplicates(struct card *cards, size_t n, size_t field, struct rng *r,
                              unsigned pin_digits)
{
	char **v = malloc(n * sizeof(*v));
	long again = 0;
	if (!v)
		return -1;
	for (;;) {
		for (size_t i = 0; i < n; i++)
			v[i] = (char *)&cards[i] + field;
		qsort(v, n, sizeof(*v), cmp_str);
		long dups = 0;
		for (size_t i = 1; i < n; i++) {
			if (strcmp(v[i - 1], v[i]) != 0)
				continue;
			if (field == offsetof(struct card, pin))
				draw_pin(r, v[i], pin_digits);
			else
				draw_serial(r, v[i]);
			dups++;
		}
		if (!dups)
			break;
		again += dups;
	}
	free(v);
	return again;
}

/* --- gen ---------------------------------------------------------------------------- */

struct gen_opts {
	const char *count, *value, *currency, *expires, *batch, *out, *pin_digits, *iterations;
};

/* Writes the cards to a new file; on any failure nothing is left. */
static int write_file(const char *path, const struct gen_opts *g, const char *salt,
                      unsigned long long iterations, const struct card *cards, size_t n)
{
	/* O_EXCL: a card file is never overwritten, and a symlink planted at
	 * the path is not followed. */
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			return cli_usage_error("voucher gen",
			                       "%s exists: a card file is never overwritten", path);
		fprintf(stderr, "koryo: cannot create %s: %s\n", path, strerror(errno));
		return CLI_EXIT_USAGE;
	}
	FILE *f = fdopen(fd, "w");
	bool ok = f != NULL;
	if (ok)
		ok = fprintf(f, "%s\n", file_header) > 0;
	for (size_t i = 0; ok && i < n; i++)
		ok = fprintf(f, "%s,%s,%s,%s,%s,%s,%s,%llu\n", cards[i].serial, cards[i].pin,
		             g->batch, g->currency, g->value, g->expires, salt, iterations) > 0;
	int err = errno;
	if (ok && fflush(f) != 0)
		ok = false, err = errno;
	if (ok && fsync(fileno(f)) != 0)
		ok = false, err = errno;
	if (f ? fclose(f) != 0 : close(fd) != 0) {
		if (ok)
			err = errno;
		ok = false;
	}
	if (!ok) {
		unlink(path);
		fprintf(stderr, "koryo: cannot write %s: %s (nothing was left)\n", path,
		        strerror(err));
		return CLI_EXIT_REFUSED;
	}
	return CLI_EXIT_OK;
}

static int gen_check(const struct gen_opts *g, unsigned long long *count,
                     unsigned long long *iterations, unsigned long long *digits)
{
	const char *cmd = "voucher gen";
	unsigned long long value;
	int64_t expires;
	int rc;
	static const char *const names[] = {"--count",   "--value", "--currency",
	                                    "--expires", "--batch", "--out"};
	const char *const given[] = {g->count, g->value, g->currency, g->expires, g->batch, g->out};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!given[i])
			return cli_usage_error(cmd, "missing %s", names[i]);
	if ((rc = cli_parse_u64(cmd, "--count", g->count, count)))
		return rc;
	if (*count < 1 || *count > MAX_CARDS)
		return cli_usage_error(cmd, "--count must be 1 to %d", MAX_CARDS);
	if ((rc = cli_parse_u64(cmd, "--value", g->value, &value)))
		return rc;
	/* The value goes to the file as given: no leading zeros, so that upload
	 * sends what gen meant. */
	if (value < 1 || value > 1000000000000ULL || g->value[0] == '0')
		return cli_usage_error(cmd, "--value must be 1 to 1000000000000 minor units");
	if (!all_of(g->currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ", 3, 3))
		return cli_usage_error(cmd, "--currency must be an ISO 4217 code (EUR)");
	if (parse_day(g->expires, &expires) != 0)
		return cli_usage_error(cmd, "--expires must be a date YYYY-MM-DD");
	if (expires <= (int64_t)time(NULL))
		return cli_usage_error(cmd, "--expires must be in the future");
	if (!all_of(g->batch, NAME_SET, 1, 32))
		return cli_usage_error(cmd, "--batch must be 1 to 32 of A-Z a-z 0-9 - _");
	*digits = DEFAULT_PIN_DIGITS;
	if (g->pin_digits && (rc = cli_parse_u64(cmd, "--pin-digits", g->pin_digits, digits)))
		return rc;
	if (*digits < MIN_PIN_DIGITS || *digits > MAX_PIN_DIGITS)
		return cli_usage_error(cmd, "--pin-digits must be %d to %d", MIN_PIN_DIGITS,
		                       MAX_PIN_DIGITS);
	*iterations = DEFAULT_ITERATIONS;
	if (g->iterations && (rc = cli_parse_u64(cmd, "--iterations", g->iterations, iterations)))
		return rc;
	if (*iterations < MIN_ITERATIONS || *iterations > MAX_ITERATIONS)
		return cli_usage_error(cmd, "--iterations must be %d to %d", MIN_ITERATIONS,
		                       MAX_ITERATIONS);
	return 0;
}

int cli_voucher_gen(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"count", required_argument, NULL, O_COUNT},
	    {"value", required_argument, NULL, O_VALUE},
	    {"currency", required_argument, NULL, O_CURRENCY},
	    {"expires", required_argument, NULL, O_EXPIRES},
	    {"batch", required_argument, NULL, O_BATCH},
	    {"out", required_argument, NULL, O_OUT},
	    {"pin-digits", required_argument, NULL, O_PIN_DIGITS},
	    {"iterations", required_argument, NULL, O_ITERATIONS},
	    CLI_GLOBAL_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	const char *cmd = "voucher gen";
	struct gen_opts g = {0};
	unsigned long long count, iterations, digits;
	int c, rc;

	optind = 0;
	while ((c = cli_getopt(ctx, argc, argv, opts, cmd)) != -1) {
		switch (c) {
		case CLI_OPT_HELP:
			fputs(usage_gen, stdout);
			return CLI_EXIT_OK;
		case O_COUNT:
			g.count = optarg;
			break;
		case O_VALUE:
			g.value = optarg;
			break;
		case O_CURRENCY:
			g.currency = optarg;
			break;
		case O_EXPIRES:
			g.expires = optarg;
			break;
		case O_BATCH:
			g.batch = optarg;
			break;
		case O_OUT:
			g.out = optarg;
			break;
		case O_PIN_DIGITS:
			g.pin_digits = optarg;
			break;
		case O_ITERATIONS:
			g.iterations = optarg;
			break;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if ((rc = gen_check(&g, &count, &iterations, &digits)))
		return rc;

	struct card *cards = calloc(count, sizeof(*cards));
	if (!cards)
		return oom();
	struct rng r = {0};
	uint8_t salt_bytes[SALT_BYTES];
	char salt[2 * SALT_BYTES + 1];
	for (size_t i = 0; i < sizeof(salt_bytes); i++)
		salt_bytes[i] = rng_byte(&r);
	for (size_t i = 0; i < sizeof(salt_bytes); i++)
		snprintf(salt + 2 * i, 3, "%02x", salt_bytes[i]);
	for (size_t i = 0; i < count; i++) {
		draw_serial(&r, cards[i].serial);
		draw_pin(&r, cards[i].pin, (unsigned)digits);
	}
	long again =
	    redraw_duplicates(cards, count, offsetof(struct card, pin), &r, (unsigned)digits);
	if (again >= 0)
		again = redraw_duplicates(cards, count, offsetof(struct card, serial), &r,
		                          (unsigned)digits);
	if (again < 0) {
		rc = oom();
	} else if (r.failed) {
		fprintf(stderr, "koryo: the random generator failed: no card was made\n");
		rc = CLI_EXIT_REFUSED;
	} else {
		rc = write_file(g.out, &g, salt, iterations, cards, count);
	}
	OPENSSL_cleanse(cards, count * sizeof(*cards));
	OPENSSL_cleanse(&r, sizeof(r));
	free(cards);
	if (rc == CLI_EXIT_OK)
		printf("batch %s: %llu cards of %s %s (minor units), refused from %s, written "
		       "to %s\nnext: koryo voucher upload %s\n",
		       g.batch, count, g.currency, g.value, g.expires, g.out, g.out);
	return rc;
}

/* --- upload: the file ------------------------------------------------------------------ */

/* The batch's terms, the same on every line. */
struct batch_terms {
	char batch[33], currency[4], value[16], expires[11], salt[65], iterations[9];
};

/* Splits line into FILE_COLUMNS fields at commas (the file holds no quoted
 * field: every value is from a set without commas or quotes). */
static bool split(char *line, char **f)
{
	unsigned n = 0;
	f[n++] = line;
	for (char *p = line; *p; p++) {
		if (*p != ',')
			continue;
		if (n == FILE_COLUMNS)
			return false;
		*p = '\0';
		f[n++] = p + 1;
	}
	return n == FILE_COLUMNS;
}

/* The terms of the first card line; a message naming the column otherwise. */
static const char *terms_check(char **f, const char **column)
{
	int64_t t;
	unsigned long long v;
	static const char *const cols[] = {"batch",   "currency", "value",
	                                   "expires", "salt",     "iterations"};
	const char *why[] = {
	    all_of(f[2], NAME_SET, 1, 32) ? NULL : "must be 1 to 32 of A-Z a-z 0-9 - _",
	    all_of(f[3], "ABCDEFGHIJKLMNOPQRSTUVWXYZ", 3, 3) ? NULL : "must be an ISO 4217 code",
	    all_of(f[4], "0123456789", 1, 13) && f[4][0] != '0' ? NULL
	                                                        : "must be minor units (1 or more)",
	    parse_day(f[5], &t) == 0 ? NULL : "must be a date YYYY-MM-DD",
	    all_of(f[6], "0123456789abcdef", 32, 64) && strlen(f[6]) % 2 == 0
	        ? NULL
	        : "must be 16 to 32 bytes in lower-case hex",
	    all_of(f[7], "0123456789", 1, 8) && (v = strtoull(f[7], NULL, 10)) >= MIN_ITERATIONS &&
	            v <= MAX_ITERATIONS
	        ? NULL
	        : "must be 1000 to 10000000",
	};
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
		if (why[i]) {
			*column = cols[i];
			return why[i];
		}
	}
	return NULL;
}

/* Reads the card file. Returns 0 with the cards (caller wipes and frees), or
 * an exit code after printing FILE:LINE: why. No message quotes a PIN. */
static int read_cards(const char *path, struct batch_terms *terms, struct card **out, size_t *n)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, len = 0, have = 0;
	struct card *cards = NULL;
	long long lineno = 0;
	ssize_t got;
	int rc = CLI_EXIT_OK;

	if (!f) {
		fprintf(stderr, "koryo: cannot read %s: %s\n", path, strerror(errno));
		return CLI_EXIT_USAGE;
	}
	while ((got = getline(&line, &cap, f)) >= 0) {
		char *fld[FILE_COLUMNS];
		const char *column = NULL, *why = NULL;
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (lineno == 1) {
			if (strcmp(line, file_header) != 0)
				why = "not a card file of koryo voucher gen (its header is "
				      "serial,pin,batch,currency,value,expires,salt,iterations)";
		} else if (!line[0]) {
			continue;
		} else if (!split(line, fld)) {
			why = "expected 8 fields";
		} else if (!all_of(fld[0], NAME_SET, 1, 32)) {
			column = "serial", why = "must be 1 to 32 of A-Z a-z 0-9 - _";
		} else if (!all_of(fld[1], "0123456789", MIN_PIN_DIGITS, MAX_PIN_DIGITS)) {
			column = "pin", why = "must be 8 to 32 digits";
		} else if (len == 0 && (why = terms_check(fld, &column)) == NULL) {
			snprintf(terms->batch, sizeof(terms->batch), "%s", fld[2]);
			snprintf(terms->currency, sizeof(terms->currency), "%s", fld[3]);
			snprintf(terms->value, sizeof(terms->value), "%s", fld[4]);
			snprintf(terms->expires, sizeof(terms->expires), "%s", fld[5]);
			snprintf(terms->salt, sizeof(terms->salt), "%s", fld[6]);
			snprintf(terms->iterations, sizeof(terms->iterations), "%s", fld[7]);
		} else if (len > 0) {
			const char *const mine[] = {terms->batch, terms->currency,
			                            terms->value, terms->expires,
			                            terms->salt,  terms->iterations};
			static const char *const cols[] = {"batch",   "currency", "value",
			                                   "expires", "salt",     "iterations"};
			for (size_t i = 0; i < 6 && !why; i++)
				if (strcmp(fld[2 + i], mine[i]) != 0)
					column = cols[i], why =
					                      "differs from the first card's: one "
					                      "file is one batch";
		}
		if (why) {
			cli_print_error_at(path, lineno, column, why);
			rc = CLI_EXIT_USAGE;
			break;
		}
		if (lineno == 1)
			continue;
		if (len == MAX_CARDS) {
			cli_print_error_at(path, lineno, NULL, "more than 1000000 cards");
			rc = CLI_EXIT_USAGE;
			break;
		}
		if (len == have) {
			size_t more = have ? have * 2 : 1024;
			struct card *v = calloc(more, sizeof(*v));
			if (!v) {
				rc = oom();
				break;
			}
			if (cards) {
				memcpy(v, cards, len * sizeof(*v));
				OPENSSL_cleanse(cards, have * sizeof(*cards));
				free(cards);
			}
			cards = v;
			have = more;
		}
		snprintf(cards[len].serial, sizeof(cards[len].serial), "%s", fld[0]);
		snprintf(cards[len].pin, sizeof(cards[len].pin), "%s", fld[1]);
		cards[len].line = lineno;
		len++;
	}
	if (rc == CLI_EXIT_OK && ferror(f)) {
		fprintf(stderr, "koryo: cannot read %s: %s\n", path, strerror(errno));
		rc = CLI_EXIT_USAGE;
	}
	if (rc == CLI_EXIT_OK && len == 0) {
		cli_print_error_at(path, lineno, NULL, "no cards");
		rc = CLI_EXIT_USAGE;
	}
	if (line)
		OPENSSL_cleanse(line, cap);
	free(line);
	fclose(f);
	if (rc != CLI_EXIT_OK) {
		if (cards)
			OPENSSL_cleanse(cards, have * sizeof(*cards));
		free(cards);
		return rc;
	}
	*out = cards;
	*n = len;
	return CLI_EXIT_OK;
}

/* --- upload: hashing ------------------------------------------------------------------ */

struct hash_job {
	struct card *cards;
	size_t from, to, step;
	const uint8_t *salt;
	size_t salt_len;
	int iterations;
	bool failed;
};

/* PBKDF2-HMAC-SHA256(PIN, salt, iterations), 32 bytes in lower-case hex:
 * exactly what koryod computes of the PIN a subscriber types. */
static void *hash_run(void *arg)
{
	struct hash_job *j = arg;
	for (size_t i = j->from; i < j->to; i += j->step) {
		uint8_t h[32];
		struct card *c = &j->cards[i];
		if (PKCS5_PBKDF2_HMAC(c->pin, (int)strlen(c->pin), j->salt, (int)j->salt_len,
		                      j->iterations, EVP_sha256(), sizeof(h), h) != 1) {
			j->failed = true;
			return NULL;
		}
		for (size_t k = 0; k < sizeof(h); k++)
			snprintf(c->hash + 2 * k, 3, "%02x", h[k]);
		OPENSSL_cleanse(h, sizeof(h));
	}
	return NULL;
}

/* Hashes cards [from, to) on the machine's cores. 0, or -1. */
static int hash_cards(struct card *cards, size_t from, size_t to, const uint8_t *salt,
                      size_t salt_len, int iterations)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t n = cpus < 1 ? 1 : cpus > MAX_HASH_THREADS ? MAX_HASH_THREADS : (size_t)cpus;
	struct hash_job jobs[MAX_HASH_THREADS];
	pthread_t th[MAX_HASH_THREADS];
	bool started[MAX_HASH_THREADS] = {false};
	int rc = 0;
	if (n > to - from)
		n = to - from;
	for (size_t t = 0; t < n; t++) {
		jobs[t] = (struct hash_job){.cards = cards,
		                            .from = from + t,
		                            .to = to,
		                            .step = n,
		                            .salt = salt,
		                            .salt_len = salt_len,
		                            .iterations = iterations};
		/* The first share runs here; the others on threads. */
		if (t > 0)
			started[t] = pthread_create(&th[t], NULL, hash_run, &jobs[t]) == 0;
	}
	hash_run(&jobs[0]);
	for (size_t t = 1; t < n; t++) {
		if (started[t])
			pthread_join(th[t], NULL);
		else
			hash_run(&jobs[t]); /* no thread: done here, slower */
	}
	for (size_t t = 0; t < n; t++)
		if (jobs[t].failed)
			rc = -1;
	return rc;
}

/* --- upload: koryod --------------------------------------------------------------------- */

/* How many cards of the batch koryod has (0: no such batch). Returns an exit
 * code; a batch of that name with other terms is refused here, before any
 * hashing. */
static int batch_cards(struct cli_ctx *ctx, const struct batch_terms *t, long long *have)
{
	struct cli_reply r;
	size_t i;
	json_t *b;
	int rc;

	*have = 0;
	if ((rc = cli_http_request(ctx, "GET", "/v1/charging/voucher-batches", NULL, &r)))
		return rc;
	json_t *all = json_object_get(r.json, "batches");
	if (r.status != 200) {
		rc = cli_print_api_error(&r);
		cli_reply_free(&r);
		return rc;
	}
	if (!json_is_array(all)) {
		fprintf(stderr, "koryo: koryod answered 200 without a list of batches\n");
		cli_reply_free(&r);
		return CLI_EXIT_REFUSED;
	}
	json_array_foreach(all, i, b)
	{
		const char *name = json_string_value(json_object_get(b, "batch"));
		if (!name || strcmp(name, t->batch) != 0)
			continue;
		const char *cur = json_string_value(json_object_get(b, "currency"));
		const char *exp = json_string_value(json_object_get(b, "expires"));
		json_int_t value = json_integer_value(json_object_get(b, "value"));
		char want_exp[32];
		snprintf(want_exp, sizeof(want_exp), "%sT00:00:00Z", t->expires);
		if (!cur || strcmp(cur, t->currency) != 0 || !exp || strcmp(exp, want_exp) != 0 ||
		    value != strtoll(t->value, NULL, 10)) {
			fprintf(stderr,
			        "koryo: koryod has a batch %s with other terms (%s "
			        "%" JSON_INTEGER_FORMAT
			        ", expiring %s): give this one another name\n",
			        t->batch, cur ? cur : "?", value, exp ? exp : "?");
			rc = CLI_EXIT_REFUSED;
		}
		*have = json_integer_value(json_object_get(b, "cards"));
	}
	cli_reply_free(&r);
	return rc;
}

/* An error about card i of a part ("cards[3]" or "cards[3].serial") is shown
 * at its line of the file. */
static int part_error(const char *path, const struct cli_reply *r, const struct card *part,
                      size_t n)
{
	const char *field = json_string_value(json_object_get(r->json, "field"));
	const char *error = json_string_value(json_object_get(r->json, "error"));
	size_t i;
	int used = 0;
	if (field && error && sscanf(field, "cards[%zu]%n", &i, &used) == 1 && used > 0 && i < n) {
		const char *col = field[used] == '.' ? field + used + 1 : NULL;
		cli_print_error_at(path, part[i].line, col, error);
		return CLI_EXIT_REFUSED;
	}
	return cli_print_api_error(r);
}

static json_t *part_body(const struct batch_terms *t, const struct card *c, size_t n)
{
	json_t *cards = json_array();
	for (size_t i = 0; cards && i < n; i++) {
		if (json_array_append_new(cards, json_pack("{s:s,s:s}", "serial", c[i].serial,
		                                           "pin_hash", c[i].hash)) != 0) {
			json_decref(cards);
			return NULL;
		}
	}
	if (!cards)
		return NULL;
	return json_pack("{s:s,s:s,s:s,s:I,s:s,s:s,s:I,s:o}", "batch", t->batch, "kdf",
	                 "pbkdf2-sha256", "salt", t->salt, "iterations",
	                 (json_int_t)strtoll(t->iterations, NULL, 10), "currency", t->currency,
	                 "expires", t->expires, "value", (json_int_t)strtoll(t->value, NULL, 10),
	                 "cards", cards);
}

static int upload(struct cli_ctx *ctx, const char *path, bool progress_on, struct card *cards,
                  size_t n, const struct batch_terms *t)
{
	long long have;
	uint8_t salt[32];
	size_t salt_len = strlen(t->salt) / 2;
	int rc;

	if ((rc = batch_cards(ctx, t, &have)))
		return rc;
	if (have > (long long)n) {
		fprintf(stderr,
		        "koryo: koryod's batch %s has %lld cards, more than the %zu of %s: "
		        "not this file's batch\n",
		        t->batch, have, n, path);
		return CLI_EXIT_REFUSED;
	}
	if (have == (long long)n) {
		printf("batch %s: all %zu cards are in koryod already\n", t->batch, n);
		return CLI_EXIT_OK;
	}
	for (size_t i = 0; i < salt_len; i++) {
		unsigned v;
		sscanf(t->salt + 2 * i, "%2x", &v);
		salt[i] = (uint8_t)v;
	}
	struct cli_progress p;
	cli_progress_init(&p, progress_on);
	size_t done = (size_t)have, sent = 0;
	/* Parts go in file order, so koryod's count of cards is where a rerun
	 * goes on. */
	while (done < n && rc == CLI_EXIT_OK) {
		cli_progress_rows(&p, "writing", done, n);
		size_t m = n - done < PART_CARDS ? n - done : PART_CARDS;
		if (hash_cards(cards, done, done + m, salt, salt_len,
		               (int)strtol(t->iterations, NULL, 10)) != 0) {
			cli_progress_end(&p);
			fprintf(stderr, "koryo: PBKDF2 failed in OpenSSL\n");
			rc = CLI_EXIT_REFUSED;
			break;
		}
		json_t *body = part_body(t, cards + done, m);
		struct cli_reply r;
		if (!body) {
			cli_progress_end(&p);
			rc = oom();
			break;
		}
		rc = cli_http_request(ctx, "POST", "/v1/charging/voucher-batches", body, &r);
		json_decref(body);
		if (rc) {
			cli_progress_end(&p);
			break;
		}
		if (r.status != 201) {
			cli_progress_end(&p);
			rc = part_error(path, &r, cards + done, m);
		} else {
			done += m;
			sent += m;
		}
		cli_reply_free(&r);
	}
	cli_progress_rows(&p, "writing", done, n);
	cli_progress_end(&p);
	OPENSSL_cleanse(salt, sizeof(salt));
	if (rc == CLI_EXIT_OK) {
		printf("batch %s: %zu cards in koryod (%zu sent now)\n", t->batch, n, sent);
	} else if (done > 0) {
		fprintf(stderr,
		        "koryo: %zu of the %zu cards are in koryod; run the same command again "
		        "to send the rest\n",
		        done, n);
	}
	return rc;
}

int cli_voucher_upload(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"no-progress", no_argument, NULL, O_NO_PROGRESS},
	    CLI_GLOBAL_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	const char *cmd = "voucher upload";
	bool progress = true;
	struct batch_terms t;
	struct card *cards = NULL;
	size_t n = 0;
	int c, rc;

	optind = 0;
	while ((c = cli_getopt(ctx, argc, argv, opts, cmd)) != -1) {
		switch (c) {
		case CLI_OPT_HELP:
			fputs(usage_upload, stdout);
			return CLI_EXIT_OK;
		case O_NO_PROGRESS:
			progress = false;
			break;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return cli_usage_error(cmd, "missing FILE (made by koryo voucher gen)");
	if (optind + 1 < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
	const char *path = argv[optind];
	memset(&t, 0, sizeof(t));
	if ((rc = read_cards(path, &t, &cards, &n)))
		return rc;
	rc = upload(ctx, path, progress && isatty(STDERR_FILENO), cards, n, &t);
	OPENSSL_cleanse(cards, n * sizeof(*cards));
	free(cards);
	return rc;
}
