#pragma once
/* A streaming RFC 4180 CSV reader: quoted fields, doubled quotes, CRLF or LF.
 * Fields point into the reader's buffer and stay valid until the next call. */

#include <stdio.h>

#define CSV_MAX_FIELDS 64

struct csv_reader {
	FILE *f;
	unsigned line; /* line number where the current record started (1-based) */
	unsigned next_line;
	char *buf;
	size_t cap;
	char *fields[CSV_MAX_FIELDS];
	unsigned n_fields;
};

void csv_init(struct csv_reader *r, FILE *f);
void csv_free(struct csv_reader *r);

/* Reads the next record into r->fields / r->n_fields. Returns 1 for a record, 0 at
 * end of file, or -1 with a reason in err (an unterminated quote, text after a
 * closing quote, too many fields). Blank lines are skipped. */
int csv_next(struct csv_reader *r, char *err, size_t errcap);
