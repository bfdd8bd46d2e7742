#pragma once
/* A worker's mailbox: any thread posts a function and its argument; the
 * worker runs them on its libuv loop, in the order they were posted. Every
 * posted function runs exactly once: closing the mailbox runs what is still
 * in it (so no argument is ever leaked) and refuses later posts. Used by the
 * GSUP and SIP servers to hand work to the worker that owns a connection or
 * a transaction. */

#include <pthread.h>
#include <stdbool.h>
#include <uv.h>

/* arg is what was posted; owner what the mailbox was made for (a worker). */
typedef void (*mailbox_fn)(void *arg, void *owner);

struct mailbox_item;

struct mailbox {
	pthread_mutex_t lock;
	uv_async_t async;
	bool open;
	void *owner;
	struct mailbox_item *head, *tail;
};

/* Before any thread may post (posts fail with -ESHUTDOWN until started). */
void mailbox_init(struct mailbox *mb, void *owner);
/* On the loop's thread: posts are accepted from now on. 0 or -EIO. */
int mailbox_start(struct mailbox *mb, uv_loop_t *loop);
/* From any thread: fn(arg, owner) will run on the loop. 0, -ENOMEM, or
 * -ESHUTDOWN (not started, or closed: fn will not run; the caller keeps arg). */
int mailbox_post(struct mailbox *mb, mailbox_fn fn, void *arg);
/* On the loop's thread: refuses later posts, runs what is left, closes the
 * handle. Harmless if never started. */
void mailbox_stop(struct mailbox *mb);
/* After the loop has closed the handle. */
void mailbox_destroy(struct mailbox *mb);
