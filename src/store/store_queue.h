#pragma once
/* Group commit: statements from many requests written in one transaction, so
 * that one fsync makes a whole batch durable. A caller that must not answer
 * before its write is durable (an SQN advance, a location update) submits the
 * statement with a callback and answers from the callback. */

#include <stdint.h>

struct store;
struct store_queue;

#define STORE_QUEUE_MAX_PARAMS 24
#define STORE_QUEUE_TEXT_MAX   256

struct store_param {
	enum { STORE_PARAM_NULL, STORE_PARAM_INT, STORE_PARAM_TEXT, STORE_PARAM_LONG_TEXT } type;
	int64_t i;
	char text[STORE_QUEUE_TEXT_MAX];
	/* STORE_PARAM_LONG_TEXT: text of any length, copied by the submit (a
	 * message body); the pointer need live only during the call. */
	const char *long_text;
};

/* Called on the queue's thread once the statement's transaction has committed
 * (rc 0) or failed (rc < 0: nothing of the batch was kept). Must not block long. */
typedef void (*store_done_fn)(void *ctx, int rc);

/* Starts the committer thread writing through st (taking store_lock per batch).
 * Returns 0, -ENOMEM or -EAGAIN. */
int store_queue_start(struct store *st, struct store_queue **out);

/* Stops the thread after writing everything submitted. NULL is a no-op. */
void store_queue_stop(struct store_queue *q);

/* Queues sql (a string that outlives the queue, e.g. a literal) with params
 * $1..$n. done may be NULL. Returns 0, -EINVAL (too many params, text too long),
 * -ENOMEM, or -ESHUTDOWN after stop began. */
int store_queue_submit(struct store_queue *q, const char *sql, const struct store_param *params,
                       unsigned n, store_done_fn done, void *ctx);

/* Queues several statements that are written in the same transaction (the
 * batch is taken whole), in order: e.g. a row moved from one table to
 * another. done (may be NULL) is called once, with the first failure of
 * them or 0. Returns as store_queue_submit; on error nothing is queued. */
struct store_queue_stmt {
	const char *sql;
	const struct store_param *params;
	unsigned n;
};
int store_queue_submit_all(struct store_queue *q, const struct store_queue_stmt *stmts, unsigned n,
                           store_done_fn done, void *ctx);

struct store_queue_stats {
	uint64_t depth;   /* statements waiting now */
	uint64_t batches; /* transactions committed */
	uint64_t statements;
	uint64_t failures; /* statements whose batch failed */
};
void store_queue_get_stats(struct store_queue *q, struct store_queue_stats *out);
