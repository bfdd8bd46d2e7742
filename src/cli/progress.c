/* Progress bar for long imports. A 150 MB import takes long enough that an
 * operator needs to see it moving, and then needs to know that the silence
 * after the last byte is koryod checking the file, not a hang: koryod's own
 * count of rows checked and written, when it gives one, else the time
 * waited. */
#include "cli/progress.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define CLI_BAR_WIDTH 24
#define CLI_REDRAW_S  0.2

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Writes seconds as m:ss or h:mm:ss. */
static void fmt_time(char *buf, size_t len, double s)
{
	long t = s < 0 ? 0 : (long)(s + 0.5);

	if (t >= 3600)
		snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

/* Writes a byte count with a decimal unit (file sizes as ls -h --si shows). */
static void fmt_bytes(char *buf, size_t len, double b)
{
	if (b >= 1e9)
		snprintf(buf, len, "%.1f GB", b / 1e9);
	else if (b >= 1e6)
		snprintf(buf, len, "%.1f MB", b / 1e6);
	else if (b >= 1e3)
		snprintf(buf, len, "%.1f kB", b / 1e3);
	else
		snprintf(buf, len, "%.0f B", b);
}

/* Draws "[####....]" for done of all into bar (CLI_BAR_WIDTH + 1 bytes). */
static void fmt_bar(char *bar, double done, double all)
{
	int filled = all > 0 ? (int)(done * CLI_BAR_WIDTH / all) : 0;

	for (int i = 0; i < CLI_BAR_WIDTH; i++)
		bar[i] = i < filled ? '#' : '.';
	bar[CLI_BAR_WIDTH] = '\0';
}

/* The line while koryod works: its phase and rows, or the time waited. */
static void draw_waiting(struct cli_progress *p, double t)
{
	char waited[32], bar[CLI_BAR_WIDTH + 1];

	fmt_time(waited, sizeof(waited), t - p->sent_at);
	if (!p->phase) {
		fprintf(stderr, "\rimporting… %s\033[K", waited);
	} else if (p->total_rows) {
		uint64_t rows = p->rows < p->total_rows ? p->rows : p->total_rows;
		fmt_bar(bar, (double)rows, (double)p->total_rows);
		fprintf(stderr, "\r%-8s [%s] %3d%%  %" PRIu64 " / %" PRIu64 " rows  %s\033[K",
		        p->phase, bar, (int)((double)rows * 100 / (double)p->total_rows), rows,
		        p->total_rows, waited);
	} else {
		fprintf(stderr, "\r%-8s %" PRIu64 " rows  %s\033[K", p->phase, p->rows, waited);
	}
	fflush(stderr);
}

void cli_progress_init(struct cli_progress *p, bool on)
{
	*p = (struct cli_progress){.on = on, .start = now()};
}

void cli_progress_update(void *arg, curl_off_t sent, curl_off_t total)
{
	struct cli_progress *p = arg;
	double t = now();
	char done[32], all[32], rate[32], eta[32];

	if (!p->on)
		return;
	if (total > 0 && sent >= total && !p->waiting) {
		/* The last byte just went: switch to waiting at once. */
		p->waiting = true;
		p->sent_at = t;
	} else if (t - p->last < CLI_REDRAW_S) {
		return;
	}
	p->last = t;
	p->drawn = true;
	if (p->waiting) {
		draw_waiting(p, t);
		return;
	}
	double elapsed = t - p->start;
	double bps = elapsed > 0 ? (double)sent / elapsed : 0;
	fmt_bytes(done, sizeof(done), (double)sent);
	fmt_bytes(rate, sizeof(rate), bps);
	if (total <= 0) {
		fprintf(stderr, "\r%s sent  %s/s\033[K", done, rate);
		fflush(stderr);
		return;
	}
	char bar[CLI_BAR_WIDTH + 1];
	fmt_bar(bar, (double)sent, (double)total);
	fmt_bytes(all, sizeof(all), (double)total);
	if (bps > 0)
		fmt_time(eta, sizeof(eta), (double)(total - sent) / bps);
	else
		snprintf(eta, sizeof(eta), "-:--");
	fprintf(stderr, "\r[%s] %3d%%  %s / %s  %s/s  ETA %s\033[K", bar,
	        (int)((double)sent * 100 / (double)total), done, all, rate, eta);
	fflush(stderr);
}

void cli_progress_rows(struct cli_progress *p, const char *phase, uint64_t rows,
                       uint64_t total_rows)
{
	double t = now();
	const char *name = strcmp(phase, "checking") == 0  ? "checking"
	                   : strcmp(phase, "writing") == 0 ? "writing"
	                                                   : NULL;
	bool changed;

	if (!p->on || !name)
		return;
	changed = name != p->phase;
	if (!p->waiting) {
		/* koryod has the whole body: the upload is over, even one of
		 * unknown size. */
		p->waiting = true;
		p->sent_at = t;
	}
	p->phase = name;
	p->rows = rows;
	p->total_rows = total_rows;
	if (!changed && t - p->last < CLI_REDRAW_S)
		return;
	p->last = t;
	p->drawn = true;
	draw_waiting(p, t);
}

void cli_progress_end(struct cli_progress *p)
{
	if (p->drawn)
		fputs("\r\033[K", stderr);
	p->drawn = false;
}
