#include "common/histogram.h"

#include <math.h>

const double histogram_bounds_s[HISTOGRAM_BUCKETS] = {0.00001, 0.00005, 0.0001, 0.00025, 0.0005,
                                                      0.001,   0.0025,  0.005,  0.01,    0.05,
                                                      0.1,     0.5,     10,     INFINITY};

void histogram_observe(struct histogram *h, uint64_t ns)
{
	double s = (double)ns / 1e9;
	unsigned i = 0;
	while (i < HISTOGRAM_BUCKETS - 1 && s > histogram_bounds_s[i])
		i++;
	atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_ns, ns, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
}

void histogram_render(const struct histogram *h, const char *name, const char *labels,
                      histogram_append_fn append, void *ctx)
{
	const char *sep = labels[0] ? "," : "";
	uint64_t cum = 0;
	for (unsigned i = 0; i < HISTOGRAM_BUCKETS; i++) {
		cum += atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
		if (i == HISTOGRAM_BUCKETS - 1)
			append(ctx, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep,
			       (unsigned long long)cum);
		else
			append(ctx, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep,
			       histogram_bounds_s[i], (unsigned long long)cum);
	}
	const char *open = labels[0] ? "{" : "", *close = labels[0] ? "}" : "";
	append(ctx, "%s_sum%s%s%s %.9f\n", name, open, labels, close,
	       (double)atomic_load(&h->sum_ns) / 1e9);
	append(ctx, "%s_count%s%s%s %llu\n", name, open, labels, close,
	       (unsigned long long)atomic_load(&h->count));
}
