/* See mailbox.h. */
#include "common/mailbox.h"

#include <errno.h>
#include <stdlib.h>

struct mailbox_item {
	struct mailbox_item *next;
	mailbox_fn fn;
	void *arg;
};

void mailbox_init(struct mailbox *mb, void *owner)
{
	pthread_mutex_init(&mb->lock, NULL);
	mb->open = false;
	mb->owner = owner;
	mb->head = mb->tail = NULL;
}

/* Runs everything posted so far, in order. */
static void drain(struct mailbox *mb)
{
	pthread_mutex_lock(&mb->lock);
	struct mailbox_item *it = mb->head;
	mb->head = mb->tail = NULL;
	pthread_mutex_unlock(&mb->lock);
	while (it) {
		struct mailbox_item *next = it->next;
		it->fn(it->arg, mb->owner);
		free(it);
		it = next;
	}
}

static void on_async(uv_async_t *a)
{
	drain(a->data);
}

int mailbox_start(struct mailbox *mb, uv_loop_t *loop)
{
	mb->async.data = mb;
	if (uv_async_init(loop, &mb->async, on_async) != 0)
		return -EIO;
	pthread_mutex_lock(&mb->lock);
	mb->open = true;
	pthread_mutex_unlock(&mb->lock);
	return 0;
}

int mailbox_post(struct mailbox *mb, mailbox_fn fn, void *arg)
{
	struct mailbox_item *it = malloc(sizeof(*it));
	if (!it)
		return -ENOMEM;
	*it = (struct mailbox_item){.fn = fn, .arg = arg};
	pthread_mutex_lock(&mb->lock);
	if (!mb->open) {
		pthread_mutex_unlock(&mb->lock);
		free(it);
		return -ESHUTDOWN;
	}
	if (mb->tail)
		mb->tail->next = it;
	else
		mb->head = it;
	mb->tail = it;
	uv_async_send(&mb->async);
	pthread_mutex_unlock(&mb->lock);
	return 0;
}

void mailbox_stop(struct mailbox *mb)
{
	pthread_mutex_lock(&mb->lock);
	bool was_open = mb->open;
	mb->open = false;
	pthread_mutex_unlock(&mb->lock);
	if (!was_open)
		return;
	drain(mb);
	uv_close((uv_handle_t *)&mb->async, NULL);
}

void mailbox_destroy(struct mailbox *mb)
{
	pthread_mutex_destroy(&mb->lock);
}
