/* sip_probe: sends one SIP message from a file to koryod and prints the answer
 * it gets back on the same socket. For the SIP transport test
 * (tests/integration/sip_transport.sh): raw messages (the RFC 4475 torture
 * set) that SIPp cannot send as they are.
 *
 *   sip_probe udp|tcp IP PORT FILE [TIMEOUT_MS [CHUNK]]
 *
 * udp: one datagram from an ephemeral port; the answer must come back to that
 * socket from IP:PORT. tcp: one connection, the file written in CHUNK-octet
 * pieces (default: at once), then one answer read (headers and
 * Content-Length body). Prints the answer on stdout and "local PORT" on
 * stderr. Exit 0 with an answer, 3 when none came within TIMEOUT_MS (default
 * 1000), 1 on an error. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static char msg[262144], ans[262144];

static int wait_readable(int fd, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int rc = poll(&p, 1, timeout_ms);
	return rc > 0 ? 0 : -1;
}

/* Length of the answer in ans[0..n) once complete, 0 if not yet. */
static size_t complete(size_t n)
{
	ans[n] = '\0';
	char *e = strstr(ans, "\r\n\r\n");
	if (!e)
		return 0;
	size_t hdr = (size_t)(e + 4 - ans), cl = 0;
	for (char *l = ans; l < e; l = strstr(l, "\r\n") + 2) {
		if (strncasecmp(l, "Content-Length:", 15) == 0)
			cl = strtoul(l + 15, NULL, 10);
	}
	return n >= hdr + cl ? hdr + cl : 0;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: sip_probe udp|tcp IP PORT FILE [TIMEOUT_MS [CHUNK]]\n");
		return 1;
	}
	int tcp = strcmp(argv[1], "tcp") == 0;
	int timeout = argc > 5 ? atoi(argv[5]) : 1000;
	size_t chunk = argc > 6 ? strtoul(argv[6], NULL, 10) : 0;
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3]))};
	if (inet_pton(AF_INET, argv[2], &to.sin_addr) != 1) {
		fprintf(stderr, "sip_probe: bad IP %s\n", argv[2]);
		return 1;
	}
	FILE *f = fopen(argv[4], "rb");
	if (!f) {
		perror(argv[4]);
		return 1;
	}
	size_t len = fread(msg, 1, sizeof(msg), f);
	fclose(f);

	int fd = socket(AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0) {
		/* UDP too is connected: only datagrams from IP:PORT are received. */
		perror("sip_probe: connect");
		return 1;
	}
	struct sockaddr_in me;
	socklen_t ml = sizeof(me);
	getsockname(fd, (struct sockaddr *)&me, &ml);
	fprintf(stderr, "local %u\n", ntohs(me.sin_port));

	if (!tcp) {
		if (send(fd, msg, len, 0) != (ssize_t)len) {
			perror("sip_probe: send");
			return 1;
		}
		if (wait_readable(fd, timeout) != 0)
			return 3;
		ssize_t n = recv(fd, ans, sizeof(ans) - 1, 0);
		if (n <= 0) {
			perror("sip_probe: recv");
			return 1;
		}
		fwrite(ans, 1, (size_t)n, stdout);
		return 0;
	}
	for (size_t off = 0; off < len;) {
		size_t n = chunk && chunk < len - off ? chunk : len - off;
		ssize_t w = send(fd, msg + off, n, MSG_NOSIGNAL);
		if (w <= 0) {
			perror("sip_probe: send");
			return 1;
		}
		off += (size_t)w;
		if (chunk)
			usleep(2000);
	}
	size_t have = 0, done;
	while (!(done = complete(have))) {
		if (wait_readable(fd, timeout) != 0)
			return 3;
		ssize_t n = recv(fd, ans + have, sizeof(ans) - 1 - have, 0);
		if (n <= 0)
			return 3; /* closed without a (whole) answer */
		have += (size_t)n;
	}
	fwrite(ans, 1, done, stdout);
	return 0;
}
