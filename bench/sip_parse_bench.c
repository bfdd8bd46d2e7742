/*
 * koryo-bench-sip-parse: SIP messages parsed per second on one core, for a
 * typical REGISTER with AKA credentials, a typical INVITE with SDP, and the
 * valid RFC 4475 torture messages in turn. Each parse is sip_msg_parse() as
 * koryod calls it on a datagram (start line, all header fields, top Via,
 * From, To, Call-ID, CSeq, Max-Forwards, Expires, Content-Length, Contact);
 * the "+uri" figure adds what a registrar does next (the Request-URI and To
 * URI, the Authorization params).
 *
 * Usage: koryo-bench-sip-parse [seconds per case, default 1]
 * The torture messages are read from $KORYO_TESTDATA/sip/rfc4475 (default:
 * the build's ../shared/testdata); without them that case is skipped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sip/sip_msg.h"

#ifndef KORYO_TESTDATA_DEFAULT
#define KORYO_TESTDATA_DEFAULT "../shared/testdata"
#endif

static const char REGISTER[] =
    "REGISTER sip:ims.koryo.example SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 10.45.0.7:5060;branch=z9hG4bK-524287-1---a8b1f5e3c2d4;rport\r\n"
    "Max-Forwards: 70\r\n"
    "Contact: <sip:001010000000001@10.45.0.7:5060;transport=udp>;expires=600;"
    "+sip.instance=\"<urn:gsma:imei:35209900-176148-0>\";+g.3gpp.smsip\r\n"
    "To: <sip:001010000000001@ims.koryo.example>\r\n"
    "From: <sip:001010000000001@ims.koryo.example>;tag=4fa3b2c1\r\n"
    "Call-ID: 7b1c9e2a-4d5f-11ee-be56-0242ac120002@10.45.0.7\r\n"
    "CSeq: 2 REGISTER\r\n"
    "Expires: 600\r\n"
    "Allow: INVITE, ACK, CANCEL, BYE, MESSAGE, OPTIONS, NOTIFY, PRACK, UPDATE, REFER\r\n"
    "Supported: path, gruu, sec-agree\r\n"
    "User-Agent: Koryo-UE/1.0\r\n"
    "Authorization: Digest username=\"001010000000001@ims.koryo.example\", "
    "realm=\"ims.koryo.example\", nonce=\"3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\", "
    "uri=\"sip:ims.koryo.example\", response=\"6629fae49393a05397450978507c4ef1\", "
    "algorithm=AKAv1-MD5, cnonce=\"0a4f113b\", qop=auth, nc=00000001\r\n"
    "P-Access-Network-Info: 3GPP-UTRAN-FDD; utran-cell-id-3gpp=4670500010001\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

static const char INVITE[] =
    "INVITE sip:+850191234568@ims.koryo.example;user=phone SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 10.45.0.7:5060;branch=z9hG4bK-524287-1---77e0a4b1;rport\r\n"
    "Max-Forwards: 70\r\n"
    "Record-Route: <sip:10.45.0.1;lr>\r\n"
    "Route: <sip:ims.koryo.example;lr>\r\n"
    "Contact: <sip:001010000000001@10.45.0.7:5060>\r\n"
    "To: <sip:+850191234568@ims.koryo.example;user=phone>\r\n"
    "From: \"Kim\" <sip:+850191234567@ims.koryo.example;user=phone>;tag=9fa1c3\r\n"
    "Call-ID: 1f7a9b2c-4d5f-11ee-be56-0242ac120002@10.45.0.7\r\n"
    "CSeq: 1 INVITE\r\n"
    "Allow: INVITE, ACK, CANCEL, BYE, MESSAGE, OPTIONS, NOTIFY, PRACK, UPDATE, REFER\r\n"
    "Supported: 100rel, timer\r\n"
    "P-Access-Network-Info: 3GPP-UTRAN-FDD; utran-cell-id-3gpp=4670500010001\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 142\r\n"
    "\r\n"
    "v=0\r\n"
    "o=- 3912 3912 IN IP4 10.45.0.7\r\n"
    "s=-\r\n"
    "c=IN IP4 10.45.0.7\r\n"
    "t=0 0\r\n"
    "m=audio 4000 RTP/AVP 0 8 101\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=sendrecv\r\n";

struct case_msg {
	char *buf;
	size_t len;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct sip_msg msg;
static volatile size_t sink;

/* What a registrar looks at after the parse. */
static void use_uri(void)
{
	struct sip_uri u;
	struct sip_auth a;
	struct sip_str v;
	if (sip_uri_parse(msg.to.uri.p, msg.to.uri.len, &u) == 0)
		sink += u.host.len;
	const struct sip_hdr *h = sip_msg_header_first(&msg, SIP_HDR_AUTHORIZATION);
	if (h && sip_auth_parse(h->value, &a) == 0 && sip_auth_param_get(&a, "response", &v) == 1)
		sink += v.len;
}

static void run(const char *name, struct case_msg *msgs, size_t n, double secs, bool uri)
{
	size_t count = 0, octets = 0;
	double t0 = now(), t;
	do {
		for (int rep = 0; rep < 1000; rep++) {
			struct case_msg *c = &msgs[count % n];
			if (sip_msg_parse(&msg, c->buf, c->len, SIP_DGRAM) != 0) {
				fprintf(stderr, "%s: message %zu does not parse: %s\n", name,
				        count % n, msg.err_text);
				exit(1);
			}
			sink += msg.via.branch.len;
			if (uri)
				use_uri();
			octets += c->len;
			count++;
		}
		t = now() - t0;
	} while (t < secs);
	printf("%-22s %10.0f msg/s  %7.1f MB/s  %6.0f ns/msg\n", name, (double)count / t,
	       (double)octets / t / 1e6, t / (double)count * 1e9);
}

static size_t load_torture(struct case_msg *out, size_t cap)
{
	const char *dir = getenv("KORYO_TESTDATA");
	if (!dir)
		dir = KORYO_TESTDATA_DEFAULT;
	char path[1024];
	snprintf(path, sizeof(path), "%s/sip/rfc4475/INDEX.tsv", dir);
	FILE *idx = fopen(path, "r");
	if (!idx)
		return 0;
	char line[1024];
	size_t n = 0;
	while (n < cap && fgets(line, sizeof(line), idx)) {
		char file[128], section[32], expected[32];
		if (sscanf(line, "%127[^\t]\t%31[^\t]\t%31[^\t]", file, section, expected) != 3 ||
		    strcmp(expected, "invalid") == 0 || strcmp(file, "file") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/sip/rfc4475/%s", dir, file);
		FILE *f = fopen(path, "rb");
		if (!f)
			continue;
		fseek(f, 0, SEEK_END);
		long len = ftell(f);
		fseek(f, 0, SEEK_SET);
		out[n].buf = malloc(len > 0 ? (size_t)len : 1);
		if (out[n].buf && fread(out[n].buf, 1, (size_t)len, f) == (size_t)len) {
			out[n].len = (size_t)len;
			n++;
		}
		fclose(f);
	}
	fclose(idx);
	return n;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0;
	if (secs <= 0)
		secs = 1.0;
	struct case_msg reg = {(char *)REGISTER, sizeof(REGISTER) - 1};
	struct case_msg inv = {(char *)INVITE, sizeof(INVITE) - 1};
	struct case_msg torture[64];
	size_t nt = load_torture(torture, 64);

	printf("SIP parser, one core, %.1f s per case\n", secs);
	run("REGISTER", &reg, 1, secs, false);
	run("REGISTER +uri +auth", &reg, 1, secs, true);
	run("INVITE", &inv, 1, secs, false);
	if (nt > 0)
		run("RFC 4475 valid (mix)", torture, nt, secs, false);
	else
		printf("RFC 4475 messages not found (set KORYO_TESTDATA)\n");
	for (size_t i = 0; i < nt; i++)
		free(torture[i].buf);
	return 0;
}
