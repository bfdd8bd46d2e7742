#pragma once
/* Protocol workers: one thread and one libuv event loop per worker. Protocol
 * front ends (GSUP now, SIP later) attach to every loop through a service: its
 * start runs on each worker's thread before the loop runs (to open that worker's
 * SO_REUSEPORT socket), its stop on the same thread when the pool stops (to close
 * its handles), so that no libuv handle is ever touched from another thread. */

#include <uv.h>

struct worker_pool;

struct worker_service {
	const char *name;
	/* Returns 0, or a negative errno: the pool then fails to start. */
	int (*start)(void *ctx, unsigned worker, uv_loop_t *loop);
	void (*stop)(void *ctx, unsigned worker);
	void *ctx;
};

/* Starts n workers running the given services. Returns 0, or -ENOMEM / -EAGAIN,
 * or the first service's error (logged). */
int worker_pool_start(unsigned n, const struct worker_service *services, unsigned n_services,
                      struct worker_pool **out);
/* Stops every service and loop, joins the threads and frees the pool. NULL is a no-op. */
void worker_pool_stop(struct worker_pool *pool);
