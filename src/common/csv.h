#pragma once

#include <stdbool.h>
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

/* A profile's data file dir/file: its header line must be exactly header (the
 * column names joined by commas), every row has as many fields, and fn is
 * called for each row (fields in order); fn refuses a row by returning
 * non-zero with a sentence in reason. A missing file has no rows. Returns 0
 * (read or absent; *absent says which when not NULL), or -1 with
 * "FILE:LINE: reason" in err. */
typedef int (*csv_row_fn)(void *ctx, char **fields, char *reason, size_t cap);
int csv_read_file(const char *dir, const char *file, const char *header, csv_row_fn fn, void *ctx,
                  bool *absent, char *err, size_t errcap);
