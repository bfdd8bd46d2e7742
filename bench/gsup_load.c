/* gsup_load: a GSUP load client for benchmarking HLRs (koryod, osmo-hlr).
 *
 * One thread, one epoll loop, C TCP connections on loopback. Each connection
 * does the IPA CCM identity exchange the way osmo-msc does (answers ID_GET with
 * ID_RESP carrying unit name and serial number, then ID_ACK; answers PING with
 * PONG), then the run keeps a window of W requests in flight in total (spread
 * over the connections) across N subscribers whose IMSIs are FIRST..FIRST+N-1.
 * An IMSI is never in flight twice at once (osmo-hlr matches an ISD result to
 * its UpdateLocation by IMSI only), and subscriber i always goes over
 * connection i mod C, whose serial number (the peer's IPA name, NAME-k) stays
 * the same from run to run: every subscriber keeps one serving "VLR", so an
 * UpdateLocation never moves it (no CancelLocation; if one comes it is
 * answered and counted).
 *
 *   sai    SendAuthInfo (CN domain CS, message class 1, V vectors requested;
 *          -v 0 leaves the IE out so the server sends its default, 5)
 *   ul-cs  UpdateLocation CS; the InsertSubscriberData that follows is
 *          answered with an ISD result; the UpdateLocation result completes it
 *
 * After a warm-up, completions are counted for a fixed duration: ops/s, latency
 * percentiles (send of the request to receipt of the final answer), errors by
 * cause, and, with -P, the server's CPU seconds (utime+stime of /proc/PID/stat,
 * all threads) over the same interval. The run is bounded in time: connect and
 * handshake must finish within -T seconds, and answers still missing 2 s after
 * the measurement are counted as unanswered.
 *
 * GSUP encoding and decoding use libosmogsm (osmo_gsup_encode/decode): the same
 * independent codec for both servers. The IPA framing is written here.
 *
 * The last line of output is machine-readable (key=value), for gsup_bench.sh. */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <osmocom/core/msgb.h>
#include <osmocom/gsm/gsup.h>

#define RBUF_SIZE     (256 * 1024)
#define IPA_MAX_FRAME 1200

enum mode { MODE_SAI, MODE_UL_CS };

struct conn {
	int fd;
	int idx;
	bool connected; /* TCP up */
	bool id_sent;   /* ID_RESP sent */
	bool ready;     /* handshake finished: may send GSUP */
	bool want_out;  /* EPOLLOUT armed */
	unsigned quota; /* its share of the window */
	unsigned inflight;
	uint64_t nsubs;    /* subscribers it owns: idx, idx+C, idx+2C, ... */
	uint64_t next_sub; /* counter over its own subscribers */
	uint8_t *rbuf;
	size_t rlen;
	uint8_t *wbuf;
	size_t wlen, wcap;
};

struct sub {
	uint64_t t0; /* ns, when the request left */
	int16_t conn;
	bool busy;
	bool isd_seen;
};

static struct {
	enum mode mode;
	const char *host;
	int port;
	unsigned nconn, window, nsub, vectors;
	uint64_t first_imsi;
	int imsi_digits;
	double duration, warmup, timeout;
	int server_pid;
	const char *name;
	bool quiet;
} opt = {
    .mode = MODE_SAI,
    .host = "127.0.0.1",
    .port = 4222,
    .nconn = 4,
    .window = 32,
    .nsub = 10000,
    .vectors = 1,
    .first_imsi = 467059900000000ULL,
    .imsi_digits = 15,
    .duration = 10,
    .warmup = 2,
    .timeout = 5,
    .server_pid = 0,
    .name = "gsup-load",
};

enum phase { PH_CONNECT, PH_WARMUP, PH_MEASURE, PH_DRAIN, PH_DONE };

static struct conn *conns;
static struct sub *subs;
static int epfd;
static enum phase phase = PH_CONNECT;
static struct msgb *encbuf;

/* counters of the measurement interval */
static uint64_t n_ok, n_err, n_unexpected, n_total_ok, n_total_err, n_cancel;
static uint64_t err_by_cause[256];
static uint32_t *lat;
static size_t nlat, latcap;
static uint64_t t_meas0, t_meas1;

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "gsup_load: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(2);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* utime+stime of a process, all threads, in seconds; -1 if unreadable */
static double proc_cpu_s(int pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	char *p = strrchr(buf, ')'); /* comm may contain spaces */
	if (!p)
		return -1;
	unsigned long ut = 0, st = 0;
	/* after ") ": state(3) ppid pgrp session tty tpgid flags minflt cminflt
	 * majflt cmajflt utime(14) stime(15) */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double self_cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static void arm(struct conn *c, bool out)
{
	struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c};
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
		die("epoll_ctl: %s", strerror(errno));
	c->want_out = out;
}

static void conn_fail(struct conn *c, const char *why)
{
	fprintf(stderr, "gsup_load: connection %d to %s:%d: %s\n", c->idx, opt.host, opt.port, why);
	exit(1);
}

static void out_append(struct conn *c, const uint8_t *d, size_t n)
{
	if (c->wlen + n > c->wcap) {
		size_t cap = c->wcap ? c->wcap * 2 : 65536;
		while (cap < c->wlen + n)
			cap *= 2;
		c->wbuf = realloc(c->wbuf, cap);
		if (!c->wbuf)
			die("%s", "out of memory");
		c->wcap = cap;
	}
	memcpy(c->wbuf + c->wlen, d, n);
	c->wlen += n;
}

static void flush(struct conn *c)
{
	size_t off = 0;
	while (off < c->wlen) {
		ssize_t r = send(c->fd, c->wbuf + off, c->wlen - off, MSG_NOSIGNAL);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			conn_fail(c, strerror(errno));
		}
		off += (size_t)r;
	}
	memmove(c->wbuf, c->wbuf + off, c->wlen - off);
	c->wlen -= off;
	if ((c->wlen > 0) != c->want_out)
		arm(c, c->wlen > 0);
}

static void send_ccm(struct conn *c, uint8_t type)
{
	uint8_t f[4] = {0, 1, 0xfe, type};
	out_append(c, f, 4);
}

static void send_id_resp(struct conn *c)
{
	char serno[64];
	snprintf(serno, sizeof(serno), "%s-%d", opt.name, c->idx);
	struct {
		uint8_t tag;
		const char *val;
	} ies[] = {{0x08, "0/0/0"}, {0x01, opt.name}, {0x00, serno}};
	uint8_t f[256];
	size_t n = 3;
	f[n++] = 0x05; /* ID_RESP */
	for (size_t i = 0; i < sizeof(ies) / sizeof(ies[0]); i++) {
		size_t l = strlen(ies[i].val) + 1; /* NUL counted */
		f[n++] = (uint8_t)((l + 1) >> 8);
		f[n++] = (uint8_t)(l + 1);
		f[n++] = ies[i].tag;
		memcpy(f + n, ies[i].val, l);
		n += l;
	}
	f[0] = (uint8_t)((n - 3) >> 8);
	f[1] = (uint8_t)(n - 3);
	f[2] = 0xfe;
	out_append(c, f, n);
}

static void send_gsup(struct conn *c, const struct osmo_gsup_message *m)
{
	msgb_reset(encbuf);
	if (osmo_gsup_encode(encbuf, m) < 0)
		die("%s", "osmo_gsup_encode failed");
	size_t len = msgb_length(encbuf);
	if (len + 4 > IPA_MAX_FRAME)
		die("%s", "GSUP message too long");
	uint8_t h[4] = {(uint8_t)((len + 1) >> 8), (uint8_t)(len + 1), 0xee, 0x05};
	out_append(c, h, 4);
	out_append(c, msgb_data(encbuf), len);
}

/* answers a subscriber management request from the server for imsi with a
 * bare message of type (its result) */
static void send_sm_answer(struct conn *c, const char imsi[OSMO_IMSI_BUF_SIZE],
                           enum osmo_gsup_message_type type)
{
	static struct osmo_gsup_message r;
	memset(&r, 0, sizeof(r));
	r.message_type = type;
	memcpy(r.imsi, imsi, sizeof(r.imsi));
	r.message_class = OSMO_GSUP_MESSAGE_CLASS_SUBSCRIBER_MANAGEMENT;
	send_gsup(c, &r);
}

static void imsi_str(uint64_t idx, char *out)
{
	snprintf(out, OSMO_IMSI_BUF_SIZE, "%0*" PRIu64, opt.imsi_digits, opt.first_imsi + idx);
}

/* sends one request on c for the next free subscriber; false if none free */
static bool issue(struct conn *c)
{
	uint64_t i = 0, tries;
	for (tries = 0; tries < c->nsubs; tries++) {
		i = (uint64_t)c->idx + opt.nconn * (c->next_sub++ % c->nsubs);
		if (!subs[i].busy)
			break;
	}
	if (tries == c->nsubs)
		return false;
	static struct osmo_gsup_message m;
	memset(&m, 0, sizeof(m));
	imsi_str(i, m.imsi);
	m.cn_domain = OSMO_GSUP_CN_DOMAIN_CS;
	m.message_class = OSMO_GSUP_MESSAGE_CLASS_SUBSCRIBER_MANAGEMENT;
	if (opt.mode == MODE_SAI) {
		m.message_type = OSMO_GSUP_MSGT_SEND_AUTH_INFO_REQUEST;
		m.num_auth_vectors = opt.vectors; /* 0: IE left out */
	} else {
		m.message_type = OSMO_GSUP_MSGT_UPDATE_LOCATION_REQUEST;
	}
	send_gsup(c, &m);
	subs[i].busy = true;
	subs[i].isd_seen = false;
	subs[i].conn = (int16_t)c->idx;
	subs[i].t0 = now_ns();
	c->inflight++;
	return true;
}

static void fill_window(struct conn *c)
{
	if (!c->ready || phase >= PH_DRAIN)
		return;
	while (c->inflight < c->quota && issue(c))
		;
}

static void complete(struct conn *c, uint64_t i, bool ok, uint8_t cause)
{
	uint64_t t = now_ns();
	subs[i].busy = false;
	c->inflight--;
	if (ok)
		n_total_ok++;
	else
		n_total_err++;
	if (phase == PH_MEASURE) {
		if (ok) {
			n_ok++;
			if (nlat == latcap) {
				latcap = latcap ? latcap * 2 : 1 << 20;
				lat = realloc(lat, latcap * sizeof(*lat));
				if (!lat)
					die("%s", "out of memory");
			}
			uint64_t us = (t - subs[i].t0) / 1000;
			lat[nlat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
		} else {
			n_err++;
			err_by_cause[cause]++;
		}
	}
	fill_window(c);
}

static void handle_gsup(struct conn *c, const uint8_t *p, size_t len)
{
	static struct osmo_gsup_message m;
	if (osmo_gsup_decode(p, len, &m) < 0) {
		n_unexpected++;
		return;
	}
	char *end;
	uint64_t v = strtoull(m.imsi, &end, 10);
	if (*end || v < opt.first_imsi || v - opt.first_imsi >= opt.nsub) {
		n_unexpected++;
		return;
	}
	uint64_t i = v - opt.first_imsi;
	struct sub *s = &subs[i];
	if (m.message_type == OSMO_GSUP_MSGT_LOCATION_CANCEL_REQUEST) {
		/* the server moved the subscriber away from another of our
		 * names; answer as osmo-msc does and count it */
		send_sm_answer(c, m.imsi, OSMO_GSUP_MSGT_LOCATION_CANCEL_RESULT);
		n_cancel++;
		return;
	}
	if (!s->busy || s->conn != c->idx) {
		n_unexpected++;
		return;
	}
	switch (m.message_type) {
	case OSMO_GSUP_MSGT_SEND_AUTH_INFO_RESULT:
		if (opt.mode != MODE_SAI)
			goto unexpected;
		complete(c, i, m.num_auth_vectors > 0, 0);
		break;
	case OSMO_GSUP_MSGT_SEND_AUTH_INFO_ERROR:
		if (opt.mode != MODE_SAI)
			goto unexpected;
		complete(c, i, false, (uint8_t)m.cause);
		break;
	case OSMO_GSUP_MSGT_INSERT_DATA_REQUEST: {
		if (opt.mode != MODE_UL_CS || s->isd_seen)
			goto unexpected;
		s->isd_seen = true;
		send_sm_answer(c, m.imsi, OSMO_GSUP_MSGT_INSERT_DATA_RESULT);
		break;
	}
	case OSMO_GSUP_MSGT_UPDATE_LOCATION_RESULT:
		if (opt.mode != MODE_UL_CS)
			goto unexpected;
		/* a result without the ISD before it is still a result; count
		 * it, the server's choice (GSUP allows data in the result) */
		complete(c, i, true, 0);
		break;
	case OSMO_GSUP_MSGT_UPDATE_LOCATION_ERROR:
		if (opt.mode != MODE_UL_CS)
			goto unexpected;
		complete(c, i, false, (uint8_t)m.cause);
		break;
	default:
	unexpected:
		n_unexpected++;
		if (!opt.quiet && n_unexpected <= 5)
			fprintf(stderr, "gsup_load: unexpected %s for %s\n",
			        osmo_gsup_message_type_name(m.message_type), m.imsi);
	}
}

static void handle_ccm(struct conn *c, const uint8_t *p, size_t len)
{
	if (len < 1)
		return;
	switch (p[0]) {
	case 0x00: /* PING */
		send_ccm(c, 0x01);
		break;
	case 0x04: /* ID_GET */
		if (!c->id_sent) {
			send_id_resp(c);
			send_ccm(c, 0x06); /* ID_ACK, as libosmo-abis' client does */
			send_ccm(c, 0x00); /* PING: its PONG tells us the ID_RESP was read */
			c->id_sent = true;
		}
		break;
	case 0x01: /* PONG */
	case 0x06: /* ID_ACK */
		if (c->id_sent && !c->ready) {
			c->ready = true;
			fill_window(c);
		}
		break;
	default:
		break;
	}
}

static void on_readable(struct conn *c)
{
	for (;;) {
		ssize_t r = recv(c->fd, c->rbuf + c->rlen, RBUF_SIZE - c->rlen, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			conn_fail(c, strerror(errno));
		}
		if (r == 0)
			conn_fail(c, "closed by the server");
		c->rlen += (size_t)r;
		size_t off = 0;
		while (c->rlen - off >= 3) {
			const uint8_t *f = c->rbuf + off;
			size_t plen = ((size_t)f[0] << 8) | f[1];
			if (plen + 3 > IPA_MAX_FRAME)
				conn_fail(c, "frame over 1200 octets");
			if (c->rlen - off < plen + 3)
				break;
			if (f[2] == 0xfe)
				handle_ccm(c, f + 3, plen);
			else if (f[2] == 0xee && plen >= 1 && f[3] == 0x05)
				handle_gsup(c, f + 4, plen - 1);
			else
				n_unexpected++;
			off += plen + 3;
		}
		memmove(c->rbuf, c->rbuf + off, c->rlen - off);
		c->rlen -= off;
		if ((size_t)r < RBUF_SIZE / 2)
			break; /* drained for now; epoll is level-triggered */
	}
	flush(c);
}

static void on_writable(struct conn *c)
{
	if (!c->connected) {
		int err = 0;
		socklen_t l = sizeof(err);
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
		if (err)
			conn_fail(c, strerror(err));
		c->connected = true;
	}
	flush(c);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static uint32_t pct(double p)
{
	if (!nlat)
		return 0;
	size_t k = (size_t)(p * (double)(nlat - 1) + 0.5);
	return lat[k];
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: gsup_load [options]\n"
	        "  -s ADDR:PORT  server (default 127.0.0.1:4222)\n"
	        "  -m MODE       sai | ul-cs (default sai)\n"
	        "  -c C          connections (default 4)\n"
	        "  -w W          requests in flight in total (default 32)\n"
	        "  -n N          subscribers (default 10000)\n"
	        "  -i IMSI       first IMSI (default 467059900000000)\n"
	        "  -v V          vectors requested in SAI, 1-5; 0 = IE left out (default 1)\n"
	        "  -d SECONDS    measured duration (default 10)\n"
	        "  -W SECONDS    warm-up before measuring (default 2)\n"
	        "  -T SECONDS    connect/handshake timeout (default 5)\n"
	        "  -P PID        server process whose CPU time to read\n"
	        "  -N NAME       IPA unit name, prefix of the serial numbers (default gsup-load)\n"
	        "  -q            no progress lines\n");
	exit(2);
}

static double parse_d(const char *s)
{
	char *e;
	double d = strtod(s, &e);
	if (*e || d < 0)
		usage();
	return d;
}

int main(int argc, char **argv)
{
	int ch;
	while ((ch = getopt(argc, argv, "s:m:c:w:n:i:v:d:W:T:P:N:qh")) != -1) {
		switch (ch) {
		case 's': {
			char *colon = strrchr(optarg, ':');
			if (!colon)
				usage();
			*colon = 0;
			opt.host = optarg;
			opt.port = atoi(colon + 1);
			break;
		}
		case 'm':
			if (!strcmp(optarg, "sai"))
				opt.mode = MODE_SAI;
			else if (!strcmp(optarg, "ul-cs"))
				opt.mode = MODE_UL_CS;
			else
				usage();
			break;
		case 'c':
			opt.nconn = (unsigned)atoi(optarg);
			break;
		case 'w':
			opt.window = (unsigned)atoi(optarg);
			break;
		case 'n':
			opt.nsub = (unsigned)atoi(optarg);
			break;
		case 'i':
			opt.first_imsi = strtoull(optarg, NULL, 10);
			opt.imsi_digits = (int)strlen(optarg);
			if (opt.imsi_digits < 6 || opt.imsi_digits > 15)
				usage();
			break;
		case 'v':
			opt.vectors = (unsigned)atoi(optarg);
			break;
		case 'd':
			opt.duration = parse_d(optarg);
			break;
		case 'W':
			opt.warmup = parse_d(optarg);
			break;
		case 'T':
			opt.timeout = parse_d(optarg);
			break;
		case 'P':
			opt.server_pid = atoi(optarg);
			break;
		case 'N':
			opt.name = optarg;
			break;
		case 'q':
			opt.quiet = true;
			break;
		default:
			usage();
		}
	}
	if (opt.nconn < 1 || opt.nconn > 1000 || opt.window < opt.nconn || opt.nsub < opt.window ||
	    opt.nsub < opt.window + opt.nconn || opt.vectors > 5 || opt.duration <= 0 ||
	    opt.port <= 0 || opt.port > 65535)
		usage();
	if (opt.first_imsi + opt.nsub - 1 >= 1000000000000000ULL)
		usage();

	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port)};
	if (inet_pton(AF_INET, opt.host, &sa.sin_addr) != 1)
		die("bad address %s", opt.host);

	subs = calloc(opt.nsub, sizeof(*subs));
	conns = calloc(opt.nconn, sizeof(*conns));
	encbuf = msgb_alloc(2048, "gsup_load");
	epfd = epoll_create1(0);
	if (!subs || !conns || !encbuf || epfd < 0)
		die("%s", "setup failed");

	for (unsigned k = 0; k < opt.nconn; k++) {
		struct conn *c = &conns[k];
		c->idx = (int)k;
		c->quota = opt.window / opt.nconn + (k < opt.window % opt.nconn);
		c->nsubs = (opt.nsub - k + opt.nconn - 1) / opt.nconn;
		c->rbuf = malloc(RBUF_SIZE);
		c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (c->fd < 0 || !c->rbuf)
			die("socket: %s", strerror(errno));
		int one = 1;
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS)
			conn_fail(c, strerror(errno));
		struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
		c->want_out = true;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0)
			die("epoll_ctl: %s", strerror(errno));
	}

	uint64_t t_start = now_ns(), t_warm = 0, t_drain_end = 0;
	double cpu0 = -1, cpu1 = -1, self0 = 0, self1 = 0;
	uint64_t ok_at_warm = 0;
	struct epoll_event evs[64];

	while (phase != PH_DONE) {
		int n = epoll_wait(epfd, evs, 64, 5);
		if (n < 0 && errno != EINTR)
			die("epoll_wait: %s", strerror(errno));
		for (int k = 0; k < n; k++) {
			struct conn *c = evs[k].data.ptr;
			if (evs[k].events & (EPOLLERR | EPOLLHUP)) {
				int err = 0;
				socklen_t l = sizeof(err);
				getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
				conn_fail(c, err ? strerror(err) : "hang-up");
			}
			if (evs[k].events & EPOLLOUT)
				on_writable(c);
			if (evs[k].events & EPOLLIN)
				on_readable(c);
		}
		uint64_t t = now_ns();
		switch (phase) {
		case PH_CONNECT: {
			unsigned ready = 0;
			for (unsigned k = 0; k < opt.nconn; k++)
				ready += conns[k].ready;
			if (ready == opt.nconn) {
				phase = PH_WARMUP;
				t_warm = t;
			} else if (t - t_start > (uint64_t)(opt.timeout * 1e9)) {
				fprintf(stderr,
				        "gsup_load: only %u of %u connections finished the IPA "
				        "handshake within %.0f s\n",
				        ready, opt.nconn, opt.timeout);
				return 1;
			}
			break;
		}
		case PH_WARMUP:
			if (t - t_warm >= (uint64_t)(opt.warmup * 1e9)) {
				ok_at_warm = n_total_ok;
				if (!opt.quiet)
					fprintf(stderr,
					        "gsup_load: warm-up done (%" PRIu64 " ok, %" PRIu64
					        " errors)\n",
					        n_total_ok, n_total_err);
				phase = PH_MEASURE;
				t_meas0 = now_ns();
				cpu0 = opt.server_pid ? proc_cpu_s(opt.server_pid) : -1;
				self0 = self_cpu_s();
			}
			break;
		case PH_MEASURE:
			if (t - t_meas0 >= (uint64_t)(opt.duration * 1e9)) {
				t_meas1 = now_ns();
				cpu1 = opt.server_pid ? proc_cpu_s(opt.server_pid) : -1;
				self1 = self_cpu_s();
				phase = PH_DRAIN;
				t_drain_end = t_meas1 + 2000000000ULL;
			}
			break;
		case PH_DRAIN: {
			unsigned inflight = 0;
			for (unsigned k = 0; k < opt.nconn; k++)
				inflight += conns[k].inflight;
			if (!inflight || t >= t_drain_end)
				phase = PH_DONE;
			break;
		}
		default:
			break;
		}
		(void)ok_at_warm;
	}

	unsigned unanswered = 0;
	for (unsigned k = 0; k < opt.nconn; k++) {
		unanswered += conns[k].inflight;
		close(conns[k].fd);
	}
	double secs = (double)(t_meas1 - t_meas0) / 1e9;
	qsort(lat, nlat, sizeof(*lat), cmp_u32);
	double rate = (double)n_ok / secs;
	double scpu = (cpu0 >= 0 && cpu1 >= 0) ? cpu1 - cpu0 : -1;
	const char *mname = opt.mode == MODE_SAI ? "sai" : "ul-cs";

	printf("gsup_load: %s against %s:%d, %u connections, window %u, %u subscribers", mname,
	       opt.host, opt.port, opt.nconn, opt.window, opt.nsub);
	if (opt.mode == MODE_SAI)
		printf(opt.vectors ? ", %u vector(s) per SAI" : ", server's default vector count",
		       opt.vectors);
	printf("\n  %.2f s measured after %.1f s warm-up: %" PRIu64 " ok, %.0f ops/s\n", secs,
	       opt.warmup, n_ok, rate);
	printf("  latency us: p50 %u  p90 %u  p99 %u  max %u\n", pct(0.50), pct(0.90), pct(0.99),
	       nlat ? lat[nlat - 1] : 0);
	printf("  errors %" PRIu64 ", unexpected messages %" PRIu64 ", unanswered at end %u, "
	       "CancelLocation received %" PRIu64 "\n",
	       n_err, n_unexpected, unanswered, n_cancel);
	for (int k = 0; k < 256; k++)
		if (err_by_cause[k])
			printf("    cause 0x%02x: %" PRIu64 "\n", k, err_by_cause[k]);
	if (scpu >= 0)
		printf(
		    "  server pid %d CPU %.2f s (%.0f %% of one core): %.0f ops per CPU-second\n",
		    opt.server_pid, scpu, 100 * scpu / secs, scpu > 0 ? (double)n_ok / scpu : 0);
	printf("  client CPU %.2f s (%.0f %% of one core)\n", self1 - self0,
	       100 * (self1 - self0) / secs);
	printf("RESULT mode=%s ops=%" PRIu64
	       " secs=%.3f ops_s=%.0f p50_us=%u p99_us=%u errors=%" PRIu64 " unexpected=%" PRIu64
	       " unanswered=%u server_cpu_s=%.2f ops_per_cpu_s=%.0f client_cpu_s=%.2f\n",
	       mname, n_ok, secs, rate, pct(0.50), pct(0.99), n_err, n_unexpected, unanswered, scpu,
	       scpu > 0 ? (double)n_ok / scpu : 0, self1 - self0);
	return (n_ok > 0 && n_err == 0 && n_unexpected == 0 && unanswered == 0) ? 0 : 1;
}
