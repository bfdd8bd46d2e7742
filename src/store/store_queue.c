#include "store/store_queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "store/store.h"

struct job {
	struct job *next;
	const char *sql;
	unsigned n;
	store_done_fn done;
	void *ctx;
	int rc;
	struct store_param params[]; /* n of them: a job is as large as its statement */
};

struct store_queue {
	struct store *st;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *head, *tail;
	uint64_t depth, batches, statements, failures;
	bool stopping;
};

static int run_job(struct store *st, struct job *j)
{
	struct store_stmt *s;
	int rc = store_prepare(st, j->sql, &s);
	if (rc != 0)
		return rc;
	for (unsigned i = 0; i < j->n; i++) {
		const struct store_param *p = &j->params[i];
		if (p->type == STORE_PARAM_INT)
			store_bind_int64(s, (int)i + 1, p->i);
		else if (p->type == STORE_PARAM_TEXT)
			store_bind_text(s, (int)i + 1, p->text);
		else
			store_bind_null(s, (int)i + 1);
	}
	rc = store_step(s);
	store_reset(s);
	return rc == STORE_DONE ? 0 : (rc < 0 ? rc : -EIO);
}

/* Writes one batch in one transaction. A statement that fails is reported to its
 * own caller; the others still commit. A failed commit fails them all. */
static void write_batch(struct store_queue *q, struct job *batch)
{
	struct store *st = q->st;
	store_lock(st);
	int rc = store_begin(st);
	for (struct job *j = batch; j; j = j->next)
		j->rc = rc == 0 ? run_job(st, j) : rc;
	if (rc == 0 && (rc = store_commit(st)) != 0) {
		store_rollback(st);
		for (struct job *j = batch; j; j = j->next)
			j->rc = rc;
	}
	store_unlock(st);
	if (rc != 0)
		LOGE("store", "group commit failed: %d", rc);
}

static void *committer(void *arg)
{
	struct store_queue *q = arg;
	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (!q->head && !q->stopping)
			pthread_cond_wait(&q->cv, &q->mu);
		if (!q->head)
			break; /* stopping, and all written */
		struct job *batch = q->head;
		uint64_t n = q->depth;
		q->head = q->tail = NULL;
		q->depth = 0;
		pthread_mutex_unlock(&q->mu);

		write_batch(q, batch);
		uint64_t failed = 0;
		while (batch) {
			struct job *next = batch->next;
			if (batch->rc)
				failed++;
			if (batch->done)
				batch->done(batch->ctx, batch->rc);
			free(batch);
			batch = next;
		}

		pthread_mutex_lock(&q->mu);
		q->batches++;
		q->statements += n;
		q->failures += failed;
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

int store_queue_start(struct store *st, struct store_queue **out)
{
	struct store_queue *q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->st = st;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	if (pthread_create(&q->thread, NULL, committer, q) != 0) {
		pthread_mutex_destroy(&q->mu);
		pthread_cond_destroy(&q->cv);
		free(q);
		return -EAGAIN;
	}
	*out = q;
	return 0;
}

void store_queue_stop(struct store_queue *q)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->mu);
	q->stopping = true;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->thread, NULL);
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
	free(q);
}

int store_queue_submit(struct store_queue *q, const char *sql, const struct store_param *params,
                       unsigned n, store_done_fn done, void *ctx)
{
	if (n > STORE_QUEUE_MAX_PARAMS)
		return -EINVAL;
	struct job *j = calloc(1, sizeof(*j) + n * sizeof(*params));
	if (!j)
		return -ENOMEM;
	j->sql = sql;
	j->n = n;
	memcpy(j->params, params, n * sizeof(*params));
	j->done = done;
	j->ctx = ctx;
	pthread_mutex_lock(&q->mu);
	if (q->stopping) {
		pthread_mutex_unlock(&q->mu);
		free(j);
		return -ESHUTDOWN;
	}
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	q->depth++;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	return 0;
}

void store_queue_get_stats(struct store_queue *q, struct store_queue_stats *out)
{
	pthread_mutex_lock(&q->mu);
	out->depth = q->depth;
	out->batches = q->batches;
	out->statements = q->statements;
	out->failures = q->failures;
	pthread_mutex_unlock(&q->mu);
}
