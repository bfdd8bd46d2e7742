#include "common/wbuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int wbuf_append(struct wbuf **b, const void *data, size_t len)
{
	size_t have = *b ? (*b)->len : 0, cap = *b ? (*b)->cap : 0;
	if (have + len > cap) {
		size_t ncap = cap ? cap * 2 : 4096;
		while (ncap < have + len)
			ncap *= 2;
		struct wbuf *n = realloc(*b, sizeof(*n) + ncap);
		if (!n)
			return -ENOMEM;
		n->len = have;
		n->cap = ncap;
		*b = n;
	}
	memcpy((*b)->data + (*b)->len, data, len);
	(*b)->len += len;
	return 0;
}

static void on_written(uv_write_t *req, int status)
{
	(void)status;
	free(req); /* req is the first member of its wbuf */
}

void wbuf_write(struct wbuf *b, uv_stream_t *s)
{
	uv_buf_t buf = uv_buf_init(b->data, (unsigned)b->len);
	if (uv_write(&b->req, s, &buf, 1, on_written) != 0)
		free(b);
}
