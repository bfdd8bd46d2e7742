#include "koryod/worker.h"

#include <errno.h>
#include <stdlib.h>

#include "common/log.h"

struct worker {
	unsigned id;
	struct worker_pool *pool;
	uv_thread_t thread;
	uv_loop_t loop;
	uv_async_t stop;
	uv_sem_t ready;
	int start_rc;
	int started;
};

struct worker_pool {
	unsigned n;
	struct worker *w;
	const struct worker_service *services;
	unsigned n_services;
};

static void on_stop(uv_async_t *a)
{
	struct worker *w = a->data;
	for (unsigned i = 0; i < w->pool->n_services; i++) {
		const struct worker_service *s = &w->pool->services[i];
		if (s->stop)
			s->stop(s->ctx, w->id);
	}
	/* With every service's handles closing, closing this one lets uv_run() return. */
	uv_close((uv_handle_t *)a, NULL);
}

static void worker_main(void *arg)
{
	struct worker *w = arg;
	w->start_rc = 0;
	for (unsigned i = 0; i < w->pool->n_services && w->start_rc == 0; i++) {
		const struct worker_service *s = &w->pool->services[i];
		w->start_rc = s->start(s->ctx, w->id, &w->loop);
		if (w->start_rc != 0)
			LOGE("worker", "worker %u: %s failed to start", w->id, s->name);
	}
	uv_sem_post(&w->ready);
	/* On a failed start the loop still runs, so that stop can close what started. */
	uv_run(&w->loop, UV_RUN_DEFAULT);
	LOGD("worker", "worker %u stopped", w->id);
}

int worker_pool_start(unsigned n, const struct worker_service *services, unsigned n_services,
                      struct worker_pool **out)
{
	struct worker_pool *pool = calloc(1, sizeof(*pool));
	if (!pool || !(pool->w = calloc(n, sizeof(*pool->w)))) {
		free(pool);
		return -ENOMEM;
	}
	pool->n = n;
	pool->services = services;
	pool->n_services = n_services;
	int rc = 0;
	for (unsigned i = 0; i < n && rc == 0; i++) {
		struct worker *w = &pool->w[i];
		w->id = i;
		w->pool = pool;
		w->stop.data = w;
		if (uv_loop_init(&w->loop) != 0 ||
		    uv_async_init(&w->loop, &w->stop, on_stop) != 0 ||
		    uv_sem_init(&w->ready, 0) != 0) {
			rc = -EAGAIN;
			break;
		}
		if (uv_thread_create(&w->thread, worker_main, w) != 0) {
			uv_sem_destroy(&w->ready);
			rc = -EAGAIN;
			break;
		}
		w->started = 1;
		uv_sem_wait(&w->ready);
		rc = w->start_rc;
	}
	if (rc != 0) {
		LOGE("worker", "cannot start the workers");
		worker_pool_stop(pool);
		return rc;
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
		uv_sem_destroy(&w->ready);
	}
	free(pool->w);
	free(pool);
}
