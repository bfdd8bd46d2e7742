#include "store/store_queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "store/store.h"

/* A parameter as the job keeps it: texts are copied after the parameters,
 * as long as they are (a store_param carries a fixed-size buffer). */
struct job_param {
	int type; /* STORE_PARAM_* */
	int64_t i;
	const char *text;
};

struct job {
	struct job *next;
	const char *sql;
	unsigned n;
	store_done_fn done;
	void *ctx;
	int rc;
	/* A statement of a group (store_queue_submit_all): the first of the
	 * group keeps the group's result, the last reports it. */
	struct job *group_first;
	struct job_param params[]; /* n of them, then their texts */
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
		const struct job_param *p = &j->params[i];
		if (p->type == STORE_PARAM_INT)
			store_bind_int64(s, (int)i + 1, p->i);
		else if (p->text)
			store_bind_text(s, (int)i + 1, p->text);
		else
			store_bind_null(s, (int)i + 1);
	}
	rc = store_step(s);
	store_reset(s);
	return rc == STORE_DONE ? 0 : (rc < 0 ? rc : -EIO);
}

/* A statement without parameters, prepared once: the savepoints of every
 * group (sqlite3_exec would parse them each time). */
static int step_sql(struct store *st, const char *sql)
{
	struct store_stmt *s;
	int rc = store_prepare(st, sql, &s);
	if (rc != 0)
		return rc;
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
	for (struct job *j = batch; j; j = j->next) {
		if (rc != 0) {
			j->rc = rc;
			continue;
		}
		if (j->group_first != j) {
			j->rc = run_job(st, j);
			continue;
		}
		/* A group is all or nothing: a savepoint around its statements. */
		int grc = step_sql(st, "SAVEPOINT koryo_group");
		struct job *g = j;
		for (;; g = g->next) {
			g->rc = grc == 0 ? run_job(st, g) : grc;
			if (g->rc && !grc)
				grc = g->rc;
			if (!g->next || g->next->group_first != j)
				break;
		}
		if (grc)
			step_sql(st, "ROLLBACK TO koryo_group");
		step_sql(st, "RELEASE koryo_group");
		j = g;
	}
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
		/* A group fails as one: its first job carries the first failure. */
		for (struct job *j = batch; j; j = j->next) {
			if (j->group_first && j->rc && !j->group_first->rc)
				j->group_first->rc = j->rc;
		}
		uint64_t failed = 0;
		for (struct job *j = batch; j; j = j->next) {
			int rc = j->group_first ? j->group_first->rc : j->rc;
			if (rc)
				failed++;
			if (j->done)
				j->done(j->ctx, rc);
		}
		while (batch) {
			struct job *next = batch->next;
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

static const char *param_text(const struct store_param *p, size_t *len)
{
	const char *t = p->type == STORE_PARAM_LONG_TEXT ? (p->long_text ? p->long_text : "")
	                : p->type == STORE_PARAM_TEXT    ? p->text
	                                                 : NULL;
	*len = !t                                 ? 0
	       : p->type == STORE_PARAM_LONG_TEXT ? strlen(t)
	                                          : strnlen(t, sizeof(p->text) - 1);
	return t;
}

/* A job holding copies of its parameters, texts included. */
static struct job *job_new(const char *sql, const struct store_param *params, unsigned n)
{
	if (n > STORE_QUEUE_MAX_PARAMS)
		return NULL;
	size_t extra = 0, len;
	for (unsigned i = 0; i < n; i++) {
		if (param_text(&params[i], &len))
			extra += len + 1;
	}
	struct job *j = malloc(sizeof(*j) + n * sizeof(j->params[0]) + extra);
	if (!j)
		return NULL;
	*j = (struct job){.sql = sql, .n = n};
	char *copy = (char *)(j->params + n);
	for (unsigned i = 0; i < n; i++) {
		const char *t = param_text(&params[i], &len);
		j->params[i] =
		    (struct job_param){.type = params[i].type,
		                       .i = params[i].type == STORE_PARAM_INT ? params[i].i : 0};
		if (!t)
			continue;
		memcpy(copy, t, len);
		copy[len] = '\0';
		j->params[i].text = copy;
		copy += len + 1;
	}
	return j;
}

/* Appends the chain first..last (count jobs) unless the queue is stopping. */
static int enqueue(struct store_queue *q, struct job *first, struct job *last, unsigned count)
{
	pthread_mutex_lock(&q->mu);
	if (q->stopping) {
		pthread_mutex_unlock(&q->mu);
		return -ESHUTDOWN;
	}
	if (q->tail)
		q->tail->next = first;
	else
		q->head = first;
	q->tail = last;
	q->depth += count;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	return 0;
}

static void free_chain(struct job *j)
{
	while (j) {
		struct job *next = j->next;
		free(j);
		j = next;
	}
}

int store_queue_submit(struct store_queue *q, const char *sql, const struct store_param *params,
                       unsigned n, store_done_fn done, void *ctx)
{
	if (n > STORE_QUEUE_MAX_PARAMS)
		return -EINVAL;
	struct job *j = job_new(sql, params, n);
	if (!j)
		return -ENOMEM;
	j->done = done;
	j->ctx = ctx;
	int rc = enqueue(q, j, j, 1);
	if (rc != 0)
		free(j);
	return rc;
}

int store_queue_submit_all(struct store_queue *q, const struct store_queue_stmt *stmts, unsigned n,
                           store_done_fn done, void *ctx)
{
	if (n == 0)
		return -EINVAL;
	struct job *first = NULL, *last = NULL;
	for (unsigned i = 0; i < n; i++) {
		if (stmts[i].n > STORE_QUEUE_MAX_PARAMS) {
			free_chain(first);
			return -EINVAL;
		}
		struct job *j = job_new(stmts[i].sql, stmts[i].params, stmts[i].n);
		if (!j) {
			free_chain(first);
			return -ENOMEM;
		}
		if (last)
			last->next = j;
		else
			first = j;
		last = j;
	}
	for (struct job *j = first; j; j = j->next)
		j->group_first = first;
	last->done = done;
	last->ctx = ctx;
	int rc = enqueue(q, first, last, n);
	if (rc != 0)
		free_chain(first);
	return rc;
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
