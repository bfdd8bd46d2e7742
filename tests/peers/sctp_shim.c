/*
 * sctp_shim: an LD_PRELOAD library that lets osmo-msc start on kernels
 * without SCTP. Test aid only; never linked into koryo.
 *
 * Why: osmo-msc 1.9 opens SCTP sockets at start-up for its SGs server and
 * its M3UA (SIGTRAN) client. Where the kernel has no SCTP (no sctp module,
 * as on the CI machines) socket(..., IPPROTO_SCTP) fails with
 * EPROTONOSUPPORT and osmo-msc exits ("Starting SGs server failed", exit 9)
 * before it ever connects to its HLR, which is all the integration tests need
 * from it.
 *
 * What: every SCTP socket becomes a TCP stream socket, so binding, listening
 * and connecting keep working on loopback. SCTP-level socket options
 * (level IPPROTO_SCTP == SOL_SCTP) are accepted and ignored, and reads of them
 * return zeroes. libosmocore binds and connects SCTP sockets through libsctp's
 * sctp_bindx()/sctp_connectx(), which libsctp implements with SCTP socket
 * options; those two are replaced here by bind()/connect() to the first
 * address, so that a socket is really bound where the configuration says
 * (answering the option "harmlessly" would leave it bound to an ephemeral
 * port on every interface at listen()).
 *
 * Nothing else changes: no SCTP peer ever talks to osmo-msc in the tests, so
 * message boundaries and SCTP notifications are not emulated.
 *
 * Set SCTP_SHIM_VERBOSE=1 to have each substitution reported on stderr.
 */
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#ifndef IPPROTO_SCTP
#define IPPROTO_SCTP 132
#endif
/* SOL_SCTP is the same number as IPPROTO_SCTP (linux/socket.h). */
#define SHIM_SOL_SCTP 132

/* Socket type flags that may be or-ed into the type argument. */
#define SHIM_TYPE_FLAGS (SOCK_NONBLOCK | SOCK_CLOEXEC)

typedef int (*socket_fn)(int, int, int);
typedef int (*setsockopt_fn)(int, int, int, const void *, socklen_t);
typedef int (*getsockopt_fn)(int, int, int, void *, socklen_t *);

static void shim_note(const char *what, int fd)
{
	const char *v = getenv("SCTP_SHIM_VERBOSE");

	if (v && *v && *v != '0')
		fprintf(stderr, "sctp_shim: %s (fd %d)\n", what, fd);
}

/* The next definition of SYM after this library (libc's); NULL if missing. */
static void *shim_next(const char *sym)
{
	return dlsym(RTLD_NEXT, sym);
}

/*
 * socket(): an SCTP socket (SOCK_STREAM one-to-one or SOCK_SEQPACKET
 * one-to-many) becomes a TCP stream socket with the same flags.
 */
int socket(int domain, int type, int protocol)
{
	static socket_fn real;

	if (!real)
		real = (socket_fn)shim_next("socket");
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	if (protocol == IPPROTO_SCTP && (domain == AF_INET || domain == AF_INET6)) {
		int fd = real(domain, SOCK_STREAM | (type & SHIM_TYPE_FLAGS), IPPROTO_TCP);

		shim_note("SCTP socket replaced by TCP", fd);
		return fd;
	}
	return real(domain, type, protocol);
}

/* setsockopt(): SCTP options (events, init parameters, ...) are ignored. */
int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	static setsockopt_fn real;

	if (level == SHIM_SOL_SCTP)
		return 0;
	if (!real)
		real = (setsockopt_fn)shim_next("setsockopt");
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	return real(fd, level, name, val, len);
}

/* getsockopt(): SCTP options read as all zeroes (e.g. SCTP_STATUS). */
int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	static getsockopt_fn real;

	if (level == SHIM_SOL_SCTP) {
		if (val && len)
			memset(val, 0, *len);
		return 0;
	}
	if (!real)
		real = (getsockopt_fn)shim_next("getsockopt");
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	return real(fd, level, name, val, len);
}

/* Length of one packed address as libsctp expects them, 0 if unknown family. */
static socklen_t shim_addr_len(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return sizeof(struct sockaddr_in);
	if (sa->sa_family == AF_INET6)
		return sizeof(struct sockaddr_in6);
	return 0;
}

/*
 * libsctp: int sctp_bindx(int sd, struct sockaddr *addrs, int addrcnt,
 * int flags). Binds to the first address of the packed list; removing
 * addresses (SCTP_BINDX_REM_ADDR) is accepted and does nothing.
 */
int sctp_bindx(int sd, struct sockaddr *addrs, int addrcnt, int flags);
int sctp_bindx(int sd, struct sockaddr *addrs, int addrcnt, int flags)
{
	const int add = 0x01; /* SCTP_BINDX_ADD_ADDR */
	socklen_t len;

	if (!addrs || addrcnt < 1 || !(len = shim_addr_len(addrs))) {
		errno = EINVAL;
		return -1;
	}
	if (!(flags & add))
		return 0;
	shim_note("sctp_bindx -> bind to the first address", sd);
	return bind(sd, addrs, len);
}

/*
 * libsctp: int sctp_connectx(int sd, struct sockaddr *addrs, int addrcnt,
 * sctp_assoc_t *id). Connects to the first address; the association id is
 * reported as 0. Non-blocking sockets return EINPROGRESS as with SCTP.
 */
int sctp_connectx(int sd, struct sockaddr *addrs, int addrcnt, int32_t *id);
int sctp_connectx(int sd, struct sockaddr *addrs, int addrcnt, int32_t *id)
{
	socklen_t len;

	if (!addrs || addrcnt < 1 || !(len = shim_addr_len(addrs))) {
		errno = EINVAL;
		return -1;
	}
	if (id)
		*id = 0;
	shim_note("sctp_connectx -> connect to the first address", sd);
	return connect(sd, addrs, len);
}
