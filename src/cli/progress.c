/* Progress bar for long uploads. A 150 MB import takes long enough that an
 * operator needs to see it moving, and then needs to know that the silence
 * after the last byte is koryod checking the file, not a hang. */
#include "cli/progress.h"

#include <stdio.h>
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
		fmt_time(eta, sizeof(eta), t - p->sent_at);
		fprintf(stderr, "\rimporting… %s\033[K", eta);
		fflush(stderr);
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
	int filled = (int)((double)sent * CLI_BAR_WIDTH / (double)total);
	char bar[CLI_BAR_WIDTH + 1];
	for (int i = 0; i < CLI_BAR_WIDTH; i++)
		bar[i] = i < filled ? '#' : '.';
	bar[CLI_BAR_WIDTH] = '\0';
	fmt_bytes(all, sizeof(all), (double)total);
	if (bps > 0)
		fmt_time(eta, sizeof(eta), (double)(total - sent) / bps);
	else
		snprintf(eta, sizeof(eta), "-:--");
	fprintf(stderr, "\r[%s] %3d%%  %s / %s  %s/s  ETA %s\033[K", bar,
	        (int)((double)sent * 100 / (double)total), done, all, rate, eta);
	fflush(stderr);
}

void cli_progress_end(struct cli_progress *p)
{
	if (p->drawn)
		fputs("\r\033[K", stderr);
	p->drawn = false;
}
