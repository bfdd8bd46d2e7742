/* sip_clock_shim: LD_PRELOAD library for SIPp in bench/sip_bench.sh.
 *
 * SIPp 3.6.1 takes its clock from CLOCK_MONOTONIC_COARSE, which advances in
 * 4 ms steps on these machines (the kernel tick), so every response time it
 * measures is a multiple of about 4 ms: a 0.3 ms answer reads as 0 or 4 ms and
 * percentiles are meaningless. The shim answers CLOCK_MONOTONIC_COARSE with
 * CLOCK_MONOTONIC (vDSO, about 20 ns a call, microsecond resolution); every
 * other clock goes to the C library unchanged.
 *
 *   LD_PRELOAD=/path/to/libkoryo-sip-clock-shim.so sipp ...
 *
 * Only for the benchmark's client: nothing in koryod uses it. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* RTLD_NEXT */
#endif
#include <dlfcn.h>
#include <errno.h>
#include <time.h>

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);

static clock_gettime_fn real_clock_gettime;

/* Resolved before main (SIPp starts no thread before that), so the hot path
 * reads a pointer that never changes afterwards. */
__attribute__((constructor)) static void shim_init(void)
{
	real_clock_gettime = (clock_gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
}

int clock_gettime(clockid_t clk, struct timespec *ts)
{
	if (real_clock_gettime == NULL) {
		/* Called by another constructor that ran before ours. */
		shim_init();
		if (real_clock_gettime == NULL) {
			errno = ENOSYS;
			return -1;
		}
	}
	if (clk == CLOCK_MONOTONIC_COARSE)
		clk = CLOCK_MONOTONIC;
	return real_clock_gettime(clk, ts);
}
