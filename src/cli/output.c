/* Printing for the CLI. Everything a human reads passes through here, which is
 * where the secrets are kept out: secret fields are dropped from what koryod
 * sends (it should never send them; this is the second lock), and secrets
 * given on the command line are masked in any message that might echo them. */
#include "cli/output.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

/* The secrets of this invocation: a handful at most (--k, --op, --opc, each
 * perhaps given twice), kept until exit. */
static char **secrets;
static int n_secrets;

/* Field names that hold key material or a SIP credential, at any depth. */
static bool is_secret_field(const char *name)
{
	return strcmp(name, "k") == 0 || strcmp(name, "ki") == 0 || strcmp(name, "op") == 0 ||
	       strcmp(name, "opc") == 0 || strcmp(name, "sip_password") == 0 ||
	       strncmp(name, "ha1", 3) == 0;
}

const char *cli_secret_add(char *arg)
{
	char *copy, **grown;

	if (!(grown = realloc(secrets, (size_t)(n_secrets + 1) * sizeof(*secrets))))
		return NULL;
	secrets = grown;
	if (!(copy = strdup(arg)))
		return NULL;
	secrets[n_secrets++] = copy;
	explicit_bzero(arg, strlen(arg));
	return copy;
}

void cli_secrets_free(void)
{
	for (int i = 0; i < n_secrets; i++) {
		explicit_bzero(secrets[i], strlen(secrets[i]));
		free(secrets[i]);
	}
	free(secrets);
	secrets = NULL;
	n_secrets = 0;
}

/* Masks key material in a message: every occurrence of a secret given on
 * the command line (any letter case, as hex may come back upper or lower
 * case; 8 characters or more), and any run of 24 or more hex digits, which is no IMSI, MSISDN or
 * ICCID (15, 15 and 22 digits at most) but may be a K or OPc from an import
 * file that an error message quotes. */
static void scrub(char *s)
{
	size_t run = 0;

	for (char *p = s;; p++) {
		if (isxdigit((unsigned char)*p)) {
			run++;
			continue;
		}
		if (run >= 24)
			memset(p - run, '*', run);
		run = 0;
		if (!*p)
			break;
	}
	for (int i = 0; i < n_secrets; i++) {
		size_t n = strlen(secrets[i]);
		char *p = s;
		/* A value this short is no key, and masking it would garble the
		 * message (every "a" of it for --k a). */
		if (n < 8)
			continue;
		while ((p = strcasestr(p, secrets[i])) != NULL) {
			memset(p, '*', n);
			p += n;
		}
	}
}

void cli_strip_secrets(json_t *j)
{
	const char *key;
	json_t *v;
	void *tmp;
	size_t i;

	if (json_is_object(j)) {
		json_object_foreach_safe(j, tmp, key, v)
		{
			if (is_secret_field(key))
				json_object_del(j, key);
			else
				cli_strip_secrets(v);
		}
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
		{
			cli_strip_secrets(v);
		}
	}
}

/* Prints s for a terminal: control characters from the data (a name with an
 * escape sequence in it) are shown as '?', not obeyed. */
static void put_safe(FILE *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, out);
}

/* Formats a JSON value for a human: null or missing as "-". Caller frees. */
static char *value_text(json_t *v)
{
	char *s = NULL;

	if (!v || json_is_null(v))
		return strdup("-");
	if (json_is_string(v))
		return strdup(json_string_value(v));
	if (json_is_integer(v)) {
		if (asprintf(&s, "%" JSON_INTEGER_FORMAT, json_integer_value(v)) < 0)
			return NULL;
		return s;
	}
	if (json_is_real(v)) {
		if (asprintf(&s, "%g", json_real_value(v)) < 0)
			return NULL;
		return s;
	}
	if (json_is_true(v))
		return strdup("true");
	if (json_is_false(v))
		return strdup("false");
	cli_strip_secrets(v);
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

int cli_print_api_error(const struct cli_reply *r)
{
	json_t *e = json_object_get(r->json, "error");
	json_t *f = json_object_get(r->json, "field");
	char *msg = NULL;
	int n;

	if (json_is_string(e) && json_is_string(f))
		n = asprintf(&msg, "%s: %s", json_string_value(f), json_string_value(e));
	else if (json_is_string(e))
		n = asprintf(&msg, "%s", json_string_value(e));
	else
		n = asprintf(&msg, "koryod answered HTTP %ld%s", r->status,
		             r->status == 404 ? " (not found)" : "");
	if (n < 0) {
		fprintf(stderr, "koryo: out of memory\n");
		return CLI_EXIT_REFUSED;
	}
	scrub(msg);
	fputs("koryo: ", stderr);
	put_safe(stderr, msg);
	fputc('\n', stderr);
	free(msg);
	return CLI_EXIT_REFUSED;
}

void cli_print_error_at(const char *file, long long line, const char *column, const char *error)
{
	char *msg = NULL, where[32] = "";
	int n;

	/* koryod names no line (0) for a failure found only when writing, and no
	 * column ("") for a row that is broken as a whole. */
	if (line > 0)
		snprintf(where, sizeof(where), ":%lld", line);
	if (column && *column)
		n = asprintf(&msg, "%s%s: column %s: %s", file, where, column, error);
	else
		n = asprintf(&msg, "%s%s: %s", file, where, error);
	if (n < 0) {
		fprintf(stderr, "koryo: out of memory\n");
		return;
	}
	scrub(msg);
	put_safe(stderr, msg);
	fputc('\n', stderr);
	free(msg);
}

void cli_print_json(json_t *j)
{
	char *s;

	cli_strip_secrets(j);
	s = json_dumps(j, JSON_INDENT(2) | JSON_ENCODE_ANY);
	if (!s) {
		fprintf(stderr, "koryo: out of memory\n");
		return;
	}
	scrub(s);
	puts(s);
	free(s);
}

struct line {
	char *label;
	char *value;
};

struct lines {
	struct line *v;
	size_t n, cap;
};

static void lines_add(struct lines *l, const char *prefix, const char *name, json_t *value)
{
	char *label = NULL, *text;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		struct line *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return;
		l->v = v;
		l->cap = cap;
	}
	if (asprintf(&label, "%s%s:", prefix, name) < 0)
		return;
	if (!(text = value_text(value))) {
		free(label);
		return;
	}
	l->v[l->n++] = (struct line){label, text};
}

static bool in_list(const char *name, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(name, *list) == 0)
			return true;
	return false;
}

/* The fields in the order an operator reads them (docs/api.md); anything
 * else koryod sends is shown after them, so a newer koryod's fields are not
 * hidden by an older CLI. */
static const char *const top_fields[] = {"imsi", "msisdn",     "iccid",        "class", "status",
                                         "city", "created_at", "activated_at", NULL};
static const char *const holder_fields[] = {"name", "id_document", "nationality", NULL};
static const char *const auth_fields[] = {"algorithm", "op_kind", "amf", "sqn", "ind_bitlen", NULL};

/* Adds every member of obj not in known (and not secret), nested objects
 * flattened with dotted names. */
static void lines_add_rest(struct lines *l, const char *prefix, json_t *obj,
                           const char *const *known)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v)
	{
		if (is_secret_field(key) || (known && in_list(key, known)))
			continue;
		if (json_is_object(v)) {
			char *p = NULL;
			if (asprintf(&p, "%s%s.", prefix, key) < 0)
				continue;
			lines_add_rest(l, p, v, NULL);
			free(p);
		} else {
			lines_add(l, prefix, key, v);
		}
	}
}

void cli_print_subscriber(FILE *out, json_t *sub)
{
	static const char *const top_known[] = {
	    "imsi",   "msisdn",     "iccid",        "class", "status",           "city",
	    "holder", "created_at", "activated_at", "auth",  "sip_password_set", NULL};
	json_t *holder = json_object_get(sub, "holder");
	json_t *auth = json_object_get(sub, "auth");
	json_t *sip = json_object_get(sub, "sip_password_set");
	struct lines l = {0};
	size_t width = 0;

	for (int i = 0; i < 5; i++)
		lines_add(&l, "", top_fields[i], json_object_get(sub, top_fields[i]));
	for (int i = 0; holder_fields[i]; i++)
		lines_add(&l, "", holder_fields[i], json_object_get(holder, holder_fields[i]));
	lines_add_rest(&l, "holder.", holder, holder_fields);
	for (int i = 5; top_fields[i]; i++)
		lines_add(&l, "", top_fields[i], json_object_get(sub, top_fields[i]));
	for (int i = 0; auth_fields[i]; i++)
		lines_add(&l, "auth.", auth_fields[i], json_object_get(auth, auth_fields[i]));
	lines_add_rest(&l, "auth.", auth, auth_fields);
	/* Whether a password is set is all anyone learns of it; a koryod from
	 * before SIP sends nothing, and nothing is shown. */
	if (json_is_boolean(sip)) {
		json_t *v = json_string(json_is_true(sip) ? "set" : "not set");
		lines_add(&l, "", "sip_password", v);
		json_decref(v);
	}
	lines_add_rest(&l, "", sub, top_known);

	for (size_t i = 0; i < l.n; i++)
		if (strlen(l.v[i].label) > width)
			width = strlen(l.v[i].label);
	for (size_t i = 0; i < l.n; i++) {
		fprintf(out, "%-*s ", (int)width, l.v[i].label);
		put_safe(out, l.v[i].value);
		fputc('\n', out);
		free(l.v[i].label);
		free(l.v[i].value);
	}
	free(l.v);
}

/* Widths fit the longest valid value of each bounded column (IMSI 15,
 * MSISDN 15, ICCID 22, status "terminated"); a longer class or city only
 * shifts its row. */
#define CLI_ROW_FMT "%-15s %-15s %-22s %-10s %-10s %-16s "

void cli_print_sub_header(FILE *out)
{
	fprintf(out, CLI_ROW_FMT "%s\n", "IMSI", "MSISDN", "ICCID", "STATUS", "CLASS", "CITY",
	        "NAME");
}

void cli_print_sub_row(FILE *out, json_t *sub)
{
	static const char *const cols[] = {"imsi", "msisdn", "iccid", "status", "class", "city"};
	char *v[7] = {0};

	for (int i = 0; i < 6; i++)
		v[i] = value_text(json_object_get(sub, cols[i]));
	v[6] = value_text(json_object_get(json_object_get(sub, "holder"), "name"));
	for (int i = 0; i < 7; i++) {
		if (!v[i])
			goto out;
		for (char *p = v[i]; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
	}
	fprintf(out, CLI_ROW_FMT "%s\n", v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
out:
	for (int i = 0; i < 7; i++)
		free(v[i]);
}

/* --- tables of the SIP commands -------------------------------------------------- */

void cli_format_duration(long long s, char *out, size_t cap)
{
	if (s < 0)
		s = 0;
	if (s >= 3600)
		snprintf(out, cap, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(out, cap, "%lld:%02lld", s / 60, s % 60);
}

/* Replaces control characters in place, as put_safe prints them. */
static void make_safe(char *s)
{
	for (char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

void cli_print_table(FILE *out, const char *const *headers, size_t ncols, json_t *rows,
                     cli_cell_fn *cell)
{
	size_t nrows = json_array_size(rows), *width;
	char **text;

	width = calloc(ncols, sizeof(*width));
	text = calloc(nrows * ncols + 1, sizeof(*text));
	if (!width || !text) {
		fprintf(stderr, "koryo: out of memory\n");
		goto out;
	}
	for (size_t c = 0; c < ncols; c++)
		width[c] = strlen(headers[c]);
	for (size_t r = 0; r < nrows; r++) {
		for (size_t c = 0; c < ncols; c++) {
			char *t = cell(json_array_get(rows, r), c);
			if (!t && !(t = strdup("-"))) {
				fprintf(stderr, "koryo: out of memory\n");
				goto out;
			}
			make_safe(t);
			text[r * ncols + c] = t;
			if (strlen(t) > width[c])
				width[c] = strlen(t);
		}
	}
	for (size_t r = 0; r <= nrows; r++) {
		for (size_t c = 0; c < ncols; c++) {
			const char *t = r ? text[(r - 1) * ncols + c] : headers[c];
			/* The last column is not padded: no trailing blanks. */
			if (c + 1 < ncols)
				fprintf(out, "%-*s ", (int)width[c], t);
			else
				fprintf(out, "%s\n", t);
		}
	}
out:
	if (text)
		for (size_t i = 0; i < nrows * ncols; i++)
			free(text[i]);
	free(text);
	free(width);
}

char *cli_value_text(json_t *v)
{
	return value_text(v);
}
