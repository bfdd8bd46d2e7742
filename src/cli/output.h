/* How the CLI prints: subscribers as `field: value` lines or table rows, the
 * API's JSON, and the API's errors; and the guard that keeps secrets out of
 * all of it. */
#pragma once

#include <jansson.h>
#include <stdio.h>

#include "cli/http.h"

/* cli_secret_add: remembers a secret given on the command line (K, OP, OPc) so
 * that no message can echo it, then overwrites the argv copy so it does not
 * linger in /proc/PID/cmdline. Returns the remembered copy (owned by the
 * registry, valid until cli_secrets_free), or NULL if out of memory. */
const char *cli_secret_add(char *arg);

/* cli_secrets_free: wipes and frees the remembered secrets. */
void cli_secrets_free(void);

/* cli_print_api_error: prints the error of a failed reply as
 * "koryo: FIELD: ERROR" (or "koryo: ERROR") on stderr. Returns
 * CLI_EXIT_REFUSED. */
int cli_print_api_error(const struct cli_reply *r);

/* cli_print_error_at: prints an error about a place in an input file, as
 * compilers do: "FILE:LINE: column COLUMN: ERROR". A line <= 0 or a NULL or
 * empty column is left out. */
void cli_print_error_at(const char *file, long long line, const char *column, const char *error);

/* cli_strip_secrets: removes key material fields (k, ki, op, opc) from j at
 * any depth. */
void cli_strip_secrets(json_t *j);

/* cli_print_json: prints j, indented, on stdout, without any secret field. */
void cli_print_json(json_t *j);

/* cli_print_subscriber: prints a subscriber as aligned "field: value" lines:
 * holder's members as plain fields, auth's as auth.*, null as "-". */
void cli_print_subscriber(FILE *out, json_t *sub);

/* cli_print_sub_header / cli_print_sub_row: the table of `sub list`. Column
 * widths are fixed so pages can be printed as they arrive. */
void cli_print_sub_header(FILE *out);
void cli_print_sub_row(FILE *out, json_t *sub);

/* cli_value_text: a JSON value for a human: null or missing as "-", strings
 * as they are, numbers in decimal. Caller frees; NULL if out of memory. */
char *cli_value_text(json_t *v);

/* cli_format_duration: seconds as M:SS, or H:MM:SS from an hour. */
void cli_format_duration(long long s, char *out, size_t cap);

/* The text of column col of row (caller frees; NULL shows as "-"). */
typedef char *cli_cell_fn(json_t *row, size_t col);

/* cli_print_table: rows (a JSON array) as a table under a header row, each
 * column as wide as its widest cell, control characters shown as '?'. With
 * no rows, the header alone. */
void cli_print_table(FILE *out, const char *const *headers, size_t ncols, json_t *rows,
                     cli_cell_fn *cell);
