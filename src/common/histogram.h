#pragma once
/* Latency histograms with fixed buckets (Prometheus style), safe to update from
 * any thread without locks. */

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define HISTOGRAM_BUCKETS 14

struct histogram {
	_Atomic uint64_t count;
	_Atomic uint64_t sum_ns;
	_Atomic uint64_t buckets[HISTOGRAM_BUCKETS]; /* non-cumulative */
};

/* Upper bounds of the buckets in seconds, from 10 µs to 10 s; the last is +Inf. */
extern const double histogram_bounds_s[HISTOGRAM_BUCKETS];

void histogram_observe(struct histogram *h, uint64_t ns);

/* Appends the Prometheus text of h (name_bucket, name_sum, name_count) with the
 * given label set (e.g. "method=\"GET\"" or "" for none) to buf via append(). */
typedef void (*histogram_append_fn)(void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void histogram_render(const struct histogram *h, const char *name, const char *labels,
                      histogram_append_fn append, void *ctx);
