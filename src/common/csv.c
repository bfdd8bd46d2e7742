#include "common/csv.h"

#include <stdio.h>

#include <errno.h>

#include <stdlib.h>
#include <string.h>

void csv_init(struct csv_reader *r, FILE *f)
{
	memset(r, 0, sizeof(*r));
	r->f = f;
	r->next_line = 1;
}

void csv_free(struct csv_reader *r)
{
	free(r->buf);
	r->buf = NULL;
}

static int grow(struct csv_reader *r, size_t need)
{
	if (need <= r->cap)
		return 0;
	size_t cap = r->cap ? r->cap * 2 : 4096;
	while (cap < need)
		cap *= 2;
	char *b = realloc(r->buf, cap);
	if (!b)
		return -1;
	/* Fields are offsets until the record is complete; see csv_next(). */
	r->buf = b;
	r->cap = cap;
	return 0;
}

int csv_next(struct csv_reader *r, char *err, size_t errcap)
{
	size_t offs[CSV_MAX_FIELDS];
	size_t len = 0;
	unsigned n;
	int c;

again:
	n = 0;
	len = 0;
	r->line = r->next_line;
	c = getc_unlocked(r->f);
	if (c == EOF)
		return 0;
	if (c == '\n' || c == '\r') {
		if (c == '\r' && (c = getc_unlocked(r->f)) != '\n' && c != EOF)
			ungetc(c, r->f);
		r->next_line++;
		goto again;
	}
	ungetc(c, r->f);

	for (;;) { /* one field per iteration */
		if (n == CSV_MAX_FIELDS) {
			snprintf(err, errcap, "more than %d fields", CSV_MAX_FIELDS);
			return -1;
		}
		offs[n++] = len;
		c = getc_unlocked(r->f);
		if (c == '"') {
			for (;;) {
				c = getc_unlocked(r->f);
				if (c == EOF) {
					snprintf(err, errcap, "unterminated quoted field");
					return -1;
				}
				if (c == '"') {
					c = getc_unlocked(r->f);
					if (c != '"')
						break;
				}
				if (c == '\n')
					r->next_line++;
				if (grow(r, len + 2) != 0)
					goto oom;
				r->buf[len++] = (char)c;
			}
			if (c != ',' && c != '\n' && c != '\r' && c != EOF) {
				snprintf(err, errcap, "text after a closing quote");
				return -1;
			}
		} else {
			while (c != ',' && c != '\n' && c != '\r' && c != EOF) {
				if (grow(r, len + 2) != 0)
					goto oom;
				r->buf[len++] = (char)c;
				c = getc_unlocked(r->f);
			}
		}
		if (grow(r, len + 1) != 0)
			goto oom;
		r->buf[len++] = '\0';
		if (c == ',')
			continue;
		if (c == '\r') {
			c = getc_unlocked(r->f);
			if (c != '\n' && c != EOF)
				ungetc(c, r->f);
		}
		r->next_line++;
		break;
	}
	for (unsigned i = 0; i < n; i++)
		r->fields[i] = r->buf + offs[i];
	r->n_fields = n;
	return 1;
oom:
	snprintf(err, errcap, "out of memory");
	return -1;
}

int csv_read_file(const char *dir, const char *file, const char *header, csv_row_fn fn, void *ctx,
                  bool *absent, char *err, size_t errcap)
{
	char path[4096], reason[320], got_header[320];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (absent)
		*absent = false;
	FILE *f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT) {
			if (absent)
				*absent = true;
			return 0;
		}
		snprintf(err, errcap, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	struct csv_reader r;
	int rc = -1, got;
	csv_init(&r, f);
	got = csv_next(&r, reason, sizeof(reason));
	if (got <= 0) {
		snprintf(err, errcap, "%s:%u: %s", path, r.line,
		         got == 0 ? "empty file, expected a header" : reason);
		goto out;
	}
	got_header[0] = '\0';
	for (unsigned i = 0; i < r.n_fields; i++)
		snprintf(got_header + strlen(got_header), sizeof(got_header) - strlen(got_header),
		         "%s%s", i ? "," : "", r.fields[i]);
	if (strcmp(got_header, header) != 0) {
		snprintf(err, errcap, "%s:%u: expected header '%s'", path, r.line, header);
		goto out;
	}
	unsigned cols = r.n_fields;
	while ((got = csv_next(&r, reason, sizeof(reason))) == 1) {
		if (r.n_fields != cols) {
			snprintf(err, errcap, "%s:%u: expected %u fields, got %u", path, r.line,
			         cols, r.n_fields);
			goto out;
		}
		if (fn(ctx, r.fields, reason, sizeof(reason)) != 0) {
			snprintf(err, errcap, "%s:%u: %s", path, r.line, reason);
			goto out;
		}
	}
	if (got < 0) {
		snprintf(err, errcap, "%s:%u: %s", path, r.line, reason);
		goto out;
	}
	rc = 0;
out:
	csv_free(&r);
	fclose(f);
	return rc;
}
