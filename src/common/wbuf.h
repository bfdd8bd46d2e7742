#pragma once
/* Corked output for a stream connection: answers are appended to one growing
 * buffer, and the buffer is handed to libuv once per loop iteration, so that the
 * answers to everything one read brought in leave in a single write. */

#include <stddef.h>
#include <uv.h>

struct wbuf {
	uv_write_t req;
	size_t len, cap;
	char data[];
};

/* Appends len octets to *b (allocating or growing it). Returns 0, or -ENOMEM
 * with *b unchanged. */
int wbuf_append(struct wbuf **b, const void *data, size_t len);

/* Hands b to libuv to write on s; b is freed once written (or now, if the write
 * cannot start: a broken connection shows up as a read error). */
void wbuf_write(struct wbuf *b, uv_stream_t *s);
