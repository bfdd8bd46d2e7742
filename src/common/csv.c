#include "common/csv.h"

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
