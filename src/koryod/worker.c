#include "koryod/worker.h"

#include <errno.h>
#include <stdlib.h>
#include <uv.h>

#include "common/log.h"

struct worker {
	unsigned id;
	uv_thread_t thread;
	uv_loop_t loop;
	uv_async_t stop;
	int started;
};

struct worker_pool {
	unsigned n;
	struct worker *w;
};

static void on_stop(uv_async_t *a)
{
	/* Closing the last handle lets uv_run() return. */
	uv_close((uv_handle_t *)a, NULL);
}

static void worker_main(void *arg)
{
	struct worker *w = arg;
	LOGD("worker", "worker %u running", w->id);
	uv_run(&w->loop, UV_RUN_DEFAULT);
	LOGD("worker", "worker %u stopped", w->id);
}

int worker_pool_start(unsigned n, struct worker_pool **out)
{
	struct worker_pool *pool = calloc(1, sizeof(*pool));
	if (!pool || !(pool->w = calloc(n, sizeof(*pool->w)))) {
		free(pool);
		return -ENOMEM;
	}
	pool->n = n;
	for (unsigned i = 0; i < n; i++) {
		struct worker *w = &pool->w[i];
		w->id = i;
		if (uv_loop_init(&w->loop) != 0 ||
		    uv_async_init(&w->loop, &w->stop, on_stop) != 0 ||
		    uv_thread_create(&w->thread, worker_main, w) != 0) {
			LOGE("worker", "cannot start worker %u", i);
			worker_pool_stop(pool);
			return -EAGAIN;
		}
		w->started = 1;
	}
	LOGI("worker", "%u workers started", n);
	*out = pool;
	return 0;
}

void worker_pool_stop(struct worker_pool *pool)
{
	if (!pool)
		return;
	for (unsigned i = 0; i < pool->n; i++) {
		struct worker *w = &pool->w[i];
		if (!w->started)
			continue;
		uv_async_send(&w->stop);
		uv_thread_join(&w->thread);
		uv_loop_close(&w->loop);
	}
	free(pool->w);
	free(pool);
}
