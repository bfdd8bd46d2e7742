#pragma once
#include <stddef.h>
#include <stdint.h>

/* Wall-clock time in seconds since the epoch. Tests and simulations may move it
 * with clock_set_offset(); every service reads time through here. */
int64_t clock_now(void);
void clock_set_offset(int64_t seconds);

/* Monotonic time in nanoseconds, for measuring latencies. */
uint64_t clock_mono_ns(void);

/* Formats t as ISO 8601 UTC ("2026-11-22T11:00:00Z") into out (>= 21 bytes). */
void clock_format_iso(int64_t t, char *out, size_t cap);
