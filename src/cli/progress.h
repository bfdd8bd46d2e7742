/* The progress bar of `koryo import`, drawn on stderr: the upload, then
 * koryod checking and writing the rows. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <curl/curl.h>

struct cli_progress {
	bool on;             /* drawing at all (stderr is a terminal) */
	bool drawn;          /* a line is on screen and must be cleared */
	bool waiting;        /* upload done, waiting for koryod's answer */
	double start;        /* when the upload started (monotonic seconds) */
	double sent_at;      /* when the last byte went */
	double last;         /* when the line was last drawn */
	const char *phase;   /* "checking" or "writing" once koryod said so, else NULL */
	uint64_t rows;       /* rows checked or written */
	uint64_t total_rows; /* data rows of the file, 0 if not known */
};

/* cli_progress_init: prepares p; on says whether to draw. */
void cli_progress_init(struct cli_progress *p, bool on);

/* cli_progress_update: a cli_http_progress_fn. Redraws at most 5 times a
 * second: percent, bytes, rate, ETA while sending (bytes and rate only when
 * the total is unknown, -1), then "importing…" with the time waited. */
void cli_progress_update(void *arg, curl_off_t sent, curl_off_t total);

/* cli_progress_rows: koryod reported phase ("checking" or "writing"; any
 * other phase is ignored) at rows of total_rows (0 if not known). From then
 * on the line shows that phase: a bar and percent of total_rows, or the rows
 * alone, and the time waited. Redraws at most 5 times a second. */
void cli_progress_rows(struct cli_progress *p, const char *phase, uint64_t rows,
                       uint64_t total_rows);

/* cli_progress_end: clears the line so the result is printed on a clean one. */
void cli_progress_end(struct cli_progress *p);
