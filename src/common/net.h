#pragma once
/* Listening sockets for the protocol workers: each worker binds its own socket to
 * the shared address with SO_REUSEPORT, and the kernel spreads traffic over them.
 * The kernel would also let another process join that way and silently take part
 * of the traffic, so the address is checked with a plain bind first. */

#include <netinet/in.h>

/* Fails with -EADDRINUSE (or another -errno) if anything already has addr for
 * this socket type (SOCK_DGRAM or SOCK_STREAM). Returns 0 if it is free. */
int net_address_free(const struct sockaddr_in *addr, int type);

/* A socket of type bound to addr with SO_REUSEPORT (not yet listening). Returns
 * the descriptor (close-on-exec), or a negative errno. */
int net_reuseport_socket(const struct sockaddr_in *addr, int type);
