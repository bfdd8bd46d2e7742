/* sms_phone: the SMS side of a 3GPP phone for the SMS centre's tests, doing
 * what SIPp cannot: build and read the binary bodies of
 * application/vnd.3gpp.sms (TS 24.341), and answer an RP-DATA with an
 * RP-ACK carrying its message reference. UDP on 127.0.0.0/8 only.
 *
 *   sms_phone submit --da NUMBER --text TEXT --out PREFIX [--mr N] [--srr]
 *            [--ref N] [--vp SECONDS]
 *       writes the RP-DATA (SMS-SUBMIT) of each segment of TEXT to
 *       PREFIX.1, PREFIX.2, ... (a concatenation element when more than
 *       one) and prints how many. SIPp sends them with [file name=...].
 *   sms_phone trace FILE
 *       prints the RP messages SIPp received, from its -trace_msg file:
 *       "rp-ack mr=N", "rp-error mr=N cause=C", "rp-data mr=N ...".
 *   sms_phone listen --port P --server 127.0.0.1:PORT --user MSISDN
 *            --count N [--timeout MS] [--domain D] [--error CAUSE]
 *       receives MESSAGEs on 127.0.0.1:P (the port the phone registered
 *       from), answers each 202 and, for an RP-DATA, sends the RP-ACK (or
 *       RP-ERROR CAUSE) to the server; prints one line per short message
 *       (segments reassembled): "text from=F body=B" (text/plain),
 *       "deliver from=OA mr=TP-MR srr=0|1 segments=N text=T" or
 *       "report mr=N st=HEX ra=RA". Exits 0 after N, 3 on timeout. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "sms/rp.h"
#include "sms/segment.h"
#include "sms/sms_err.h"
#include "sms/tpdu.h"

static int usage(void)
{
	fputs("usage: sms_phone submit|trace|listen [options] (see tests/sip/sms_phone.c)\n",
	      stderr);
	return 2;
}

/* --- submit --------------------------------------------------------------------------- */

static int cmd_submit(const char *da, const char *text, const char *out, unsigned mr, bool srr,
                      unsigned ref, long vp)
{
	static struct sms_segment segs[SMS_SPLIT_MAX];
	struct sms_split sp;
	int n = sms_split_text(text, strlen(text), false, (uint16_t)ref, segs, SMS_SPLIT_MAX, &sp);
	if (n < 0) {
		fprintf(stderr, "sms_phone: %s\n", sms_strerror(n));
		return 2;
	}
	for (int i = 0; i < n; i++) {
		struct sms_tpdu t = {
		    .type = SMS_SUBMIT, .mr = (uint8_t)(mr + (unsigned)i), .status_report = srr};
		if (vp > 0) {
			t.vp.format = SMS_VP_RELATIVE;
			t.vp.relative = sms_vp_relative_from_seconds(vp);
		}
		uint8_t scratch[SMS_SPLIT_SCRATCH], tpdu[200], rp[256];
		if (sms_addr_set(&t.addr, da) != 0 ||
		    sms_split_fill(&sp, segs, (size_t)i, text, &t, scratch, sizeof(scratch)) != 0) {
			fprintf(stderr, "sms_phone: bad recipient or text\n");
			return 2;
		}
		int tl = sms_tpdu_encode(&t, tpdu, sizeof(tpdu));
		struct sms_rp r = {.type = SMS_RP_DATA_MO,
		                   .mr = (uint8_t)(mr + (unsigned)i),
		                   .user_data = tpdu,
		                   .user_data_len = tl > 0 ? (size_t)tl : 0};
		sms_addr_set(&r.da, "+8500");
		int rl = tl > 0 ? sms_rp_encode(&r, rp, sizeof(rp)) : tl;
		if (rl < 0) {
			fprintf(stderr, "sms_phone: encoding: %s\n", sms_strerror(rl));
			return 2;
		}
		char path[512];
		snprintf(path, sizeof(path), "%s.%d", out, i + 1);
		FILE *f = fopen(path, "wb");
		if (!f || fwrite(rp, 1, (size_t)rl, f) != (size_t)rl || fclose(f) != 0) {
			perror(path);
			return 2;
		}
	}
	printf("%d\n", n);
	return 0;
}

/* --- reading RP messages -------------------------------------------------------------- */

static struct sms_reasm *reasm;

/* Prints what an RP message says; an RP-DATA's TPDU is decoded (segments
 * joined). Returns the RP-MR, or -1 when it is not an RP message. */
static int print_rp(const uint8_t *b, size_t len, const char *prefix, bool *is_data, bool *printed)
{
	struct sms_rp rp;
	*is_data = false;
	*printed = false;
	if (sms_rp_decode(b, len, &rp) != 0) {
		printf("%sbad-rp len=%zu\n", prefix, len);
		*printed = true;
		return -1;
	}
	switch (rp.type) {
	case SMS_RP_ACK_MT:
	case SMS_RP_ACK_MO:
		printf("%srp-ack mr=%u\n", prefix, rp.mr);
		*printed = true;
		return rp.mr;
	case SMS_RP_ERROR_MT:
	case SMS_RP_ERROR_MO:
		printf("%srp-error mr=%u cause=%u\n", prefix, rp.mr, rp.cause);
		*printed = true;
		return rp.mr;
	case SMS_RP_DATA_MT:
		break;
	default:
		printf("%srp type=%d mr=%u\n", prefix, rp.type, rp.mr);
		*printed = true;
		return rp.mr;
	}
	*is_data = true;
	struct sms_tpdu t;
	int rc = sms_tpdu_decode(rp.user_data, rp.user_data_len, SMS_DIR_MT, &t);
	if (rc != 0) {
		printf("%sbad-tpdu %s\n", prefix, sms_strerror(rc));
		*printed = true;
		return rp.mr;
	}
	if (t.type == SMS_STATUS_REPORT) {
		printf("%sreport mr=%u st=%02x ra=%s\n", prefix, t.mr, t.st, t.addr.value);
		*printed = true;
		return rp.mr;
	}
	static char text[8192], whole[65536];
	int n = sms_tpdu_text(&t, text, sizeof(text));
	if (n < 0) {
		printf("%sdeliver from=%s binary\n", prefix, t.addr.value);
		*printed = true;
		return rp.mr;
	}
	if (t.udhi && t.udh.has_concat && t.udh.total > 1) {
		size_t wl;
		int r = sms_reasm_add(reasm, t.addr.value, &t.udh, text, (size_t)n, 0, whole,
		                      sizeof(whole), &wl);
		if (r == 1) {
			printf("%sdeliver from=%s srr=%d segments=%u text=%s\n", prefix,
			       t.addr.value, t.status_report, t.udh.total, whole);
			*printed = true;
		}
		return rp.mr;
	}
	printf("%sdeliver from=%s srr=%d segments=1 text=%s\n", prefix, t.addr.value,
	       t.status_report, text);
	*printed = true;
	return rp.mr;
}

/* The body of a SIP message, if its Content-Type is type. */
static bool body_of(const char *msg, size_t len, const char *type, const char **body, size_t *blen)
{
	const char *end = memmem(msg, len, "\r\n\r\n", 4);
	if (!end)
		return false;
	bool match = false;
	long cl = -1;
	for (const char *p = msg; p < end;) {
		const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		if (!eol)
			eol = end;
		if (strncasecmp(p, "Content-Type:", 13) == 0) {
			const char *v = p + 13;
			while (*v == ' ')
				v++;
			match = strncasecmp(v, type, strlen(type)) == 0;
		} else if (strncasecmp(p, "Content-Length:", 15) == 0) {
			cl = strtol(p + 15, NULL, 10);
		}
		p = eol + 2;
	}
	*body = end + 4;
	*blen = cl >= 0 && (size_t)cl <= len - (size_t)(*body - msg) ? (size_t)cl
	                                                             : len - (size_t)(*body - msg);
	return match;
}

static int cmd_trace(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return 2;
	}
	static char buf[1 << 22];
	size_t len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	const char *mark = "message received [";
	for (char *p = buf; (p = memmem(p, len - (size_t)(p - buf), mark, strlen(mark)));) {
		p += strlen(mark);
		size_t n = strtoul(p, &p, 10);
		char *start = memmem(p, len - (size_t)(p - buf), " :\n\n", 4);
		if (!start)
			break;
		start += 4;
		if (n > len - (size_t)(start - buf))
			break;
		const char *body;
		size_t blen;
		bool d, pr;
		if (memcmp(start, "MESSAGE ", 8) == 0 &&
		    body_of(start, n, "application/vnd.3gpp.sms", &body, &blen))
			print_rp((const uint8_t *)body, blen, "", &d, &pr);
		p = start + n;
	}
	return 0;
}

/* --- listen --------------------------------------------------------------------------- */

/* Copies header lines named name (all of them) from msg into out. */
static size_t copy_hdr(const char *msg, const char *end, const char *name, char *out, size_t cap)
{
	size_t n = 0, nl = strlen(name);
	for (const char *p = msg; p < end;) {
		const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		if (!eol)
			break;
		if (strncasecmp(p, name, nl) == 0 && n + (size_t)(eol - p) + 2 < cap) {
			memcpy(out + n, p, (size_t)(eol - p) + 2);
			n += (size_t)(eol - p) + 2;
		}
		p = eol + 2;
	}
	out[n] = '\0';
	return n;
}

static int cmd_listen(unsigned port, const char *server, const char *user, unsigned count,
                      long timeout_ms, const char *domain, int error_cause)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, "127.0.0.1", &me.sin_addr);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof(me)) != 0) {
		perror("sms_phone: bind");
		return 2;
	}
	char host[64];
	unsigned sport;
	if (sscanf(server, "%63[^:]:%u", host, &sport) != 2 || strncmp(host, "127.", 4) != 0) {
		fprintf(stderr, "sms_phone: --server must be 127.x.y.z:PORT\n");
		return 2;
	}
	struct sockaddr_in srv = {.sin_family = AF_INET, .sin_port = htons((uint16_t)sport)};
	inet_pton(AF_INET, host, &srv.sin_addr);
	uint64_t deadline = clock_mono_ns() + (uint64_t)timeout_ms * 1000000u;
	unsigned got = 0, seq = 0;
	static char buf[65536], out[70000];
	while (got < count) {
		uint64_t now = clock_mono_ns();
		if (now >= deadline) {
			fprintf(stderr, "sms_phone: timeout after %u message(s)\n", got);
			return 3;
		}
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (poll(&pfd, 1, (int)((deadline - now) / 1000000u) + 1) <= 0)
			continue;
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n <= 0 || memcmp(buf, "MESSAGE ", 8) != 0)
			continue; /* responses to our RP answers, or anything else */
		buf[n] = '\0';
		const char *end = memmem(buf, (size_t)n, "\r\n\r\n", 4);
		if (!end)
			continue;
		char hdrs[4096];
		size_t hl = copy_hdr(buf, end + 2, "Via:", hdrs, sizeof(hdrs));
		hl += copy_hdr(buf, end + 2, "From:", hdrs + hl, sizeof(hdrs) - hl);
		char to[512];
		copy_hdr(buf, end + 2, "To:", to, sizeof(to));
		if (strlen(to) > 2)
			to[strlen(to) - 2] = '\0';
		hl +=
		    (size_t)snprintf(hdrs + hl, sizeof(hdrs) - hl, "%s;tag=phone%u\r\n", to, ++seq);
		hl += copy_hdr(buf, end + 2, "Call-ID:", hdrs + hl, sizeof(hdrs) - hl);
		copy_hdr(buf, end + 2, "CSeq:", hdrs + hl, sizeof(hdrs) - hl);
		int ol = snprintf(out, sizeof(out),
		                  "SIP/2.0 202 Accepted\r\n%sContent-Length: 0\r\n\r\n", hdrs);
		sendto(fd, out, (size_t)ol, 0, (struct sockaddr *)&srv, sizeof(srv));
		const char *body;
		size_t blen;
		if (body_of(buf, (size_t)n, "text/plain", &body, &blen)) {
			char from[256] = "";
			copy_hdr(buf, end + 2, "From:", from, sizeof(from));
			char *lt = strchr(from, '<'), *gt = lt ? strchr(lt, '>') : NULL;
			if (lt && gt)
				*gt = '\0';
			printf("text from=%s body=%.*s\n", lt ? lt + 1 : from, (int)blen, body);
			fflush(stdout);
			got++;
			continue;
		}
		if (!body_of(buf, (size_t)n, "application/vnd.3gpp.sms", &body, &blen))
			continue;
		bool is_data, printed;
		int mr = print_rp((const uint8_t *)body, blen, "", &is_data, &printed);
		fflush(stdout);
		if (printed)
			got++;
		if (!is_data || mr < 0)
			continue;
		struct sms_rp ans = {.type = error_cause ? SMS_RP_ERROR_MO : SMS_RP_ACK_MO,
		                     .mr = (uint8_t)mr,
		                     .cause = (uint8_t)error_cause};
		uint8_t rp[16];
		int rl = sms_rp_encode(&ans, rp, sizeof(rp));
		ol =
		    snprintf(out, sizeof(out),
		             "MESSAGE sip:+8500@%s SIP/2.0\r\n"
		             "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKphone%ld.%u;rport\r\n"
		             "Max-Forwards: 70\r\nFrom: <sip:%s@%s>;tag=ph%u\r\n"
		             "To: <sip:+8500@%s>\r\nCall-ID: phone-%u-%ld-%u@127.0.0.1\r\n"
		             "CSeq: 1 MESSAGE\r\n"
		             "Content-Type: application/vnd.3gpp.sms\r\nContent-Length: %d\r\n\r\n",
		             domain, port, (long)getpid(), seq, user, domain, seq, domain, port,
		             (long)getpid(), seq, rl);
		memcpy(out + ol, rp, (size_t)rl);
		sendto(fd, out, (size_t)(ol + rl), 0, (struct sockaddr *)&srv, sizeof(srv));
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	const char *cmd = argv[1];
	const char *da = NULL, *text = NULL, *out = NULL, *server = NULL, *user = NULL;
	const char *domain = "koryo.local";
	unsigned mr = 0, ref = 1, port = 0, count = 1;
	long timeout = 10000, vp = 0;
	int err = 0;
	bool srr = false;
	static const struct option opts[] = {{"da", required_argument, 0, 'd'},
	                                     {"text", required_argument, 0, 't'},
	                                     {"out", required_argument, 0, 'o'},
	                                     {"mr", required_argument, 0, 'm'},
	                                     {"srr", no_argument, 0, 's'},
	                                     {"ref", required_argument, 0, 'r'},
	                                     {"vp", required_argument, 0, 'v'},
	                                     {"port", required_argument, 0, 'p'},
	                                     {"server", required_argument, 0, 'S'},
	                                     {"user", required_argument, 0, 'u'},
	                                     {"count", required_argument, 0, 'c'},
	                                     {"timeout", required_argument, 0, 'T'},
	                                     {"domain", required_argument, 0, 'D'},
	                                     {"error", required_argument, 0, 'e'},
	                                     {0, 0, 0, 0}};
	optind = 2;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			da = optarg;
			break;
		case 't':
			text = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'm':
			mr = (unsigned)atoi(optarg);
			break;
		case 's':
			srr = true;
			break;
		case 'r':
			ref = (unsigned)atoi(optarg);
			break;
		case 'v':
			vp = atol(optarg);
			break;
		case 'p':
			port = (unsigned)atoi(optarg);
			break;
		case 'S':
			server = optarg;
			break;
		case 'u':
			user = optarg;
			break;
		case 'c':
			count = (unsigned)atoi(optarg);
			break;
		case 'T':
			timeout = atol(optarg);
			break;
		case 'D':
			domain = optarg;
			break;
		case 'e':
			err = atoi(optarg);
			break;
		default:
			return usage();
		}
	}
	reasm = sms_reasm_new(64, 1 << 20, 3600);
	int rc;
	if (strcmp(cmd, "submit") == 0 && da && text && out)
		rc = cmd_submit(da, text, out, mr, srr, ref, vp);
	else if (strcmp(cmd, "trace") == 0 && optind < argc)
		rc = cmd_trace(argv[optind]);
	else if (strcmp(cmd, "listen") == 0 && port && server && user)
		rc = cmd_listen(port, server, user, count, timeout, domain, err);
	else
		rc = usage();
	sms_reasm_free(reasm);
	return rc;
}
