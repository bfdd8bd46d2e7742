#include "common/net.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

int net_address_free(const struct sockaddr_in *addr, int type)
{
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* For TCP, SO_REUSEADDR lets the probe pass over connections left in
	 * TIME_WAIT by an earlier process, while a listener still refuses it. For UDP
	 * it would let the probe share a bound port, so UDP goes without. */
	int one = 1;
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	int rc = bind(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0 ? 0 : -errno;
	close(fd);
	return rc;
}

int net_reuseport_socket(const struct sockaddr_in *addr, int type)
{
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
	    bind(fd, (const struct sockaddr *)addr, sizeof(*addr)) != 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}
