#pragma once
/* Protocol workers: one thread and one libuv event loop per worker. The GSUP and
 * SIP front ends attach their sockets to these loops (SO_REUSEPORT, one socket per
 * worker) so that every core serves traffic without a global lock. */

struct worker_pool;

/* Starts n workers. Returns 0, or -ENOMEM / -EAGAIN. */
int worker_pool_start(unsigned n, struct worker_pool **out);
/* Stops every loop, joins the threads and frees the pool. NULL is a no-op. */
void worker_pool_stop(struct worker_pool *pool);
