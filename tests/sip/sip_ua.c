/* sip_ua: a small SIP user agent for the registrar tests, doing what SIPp
 * 3.6.1 cannot: answer a SHA-256 digest challenge, and act as a SIM that
 * checks the freshness of the SQN in AUTN and, when it is stale, answers with
 * auts= (RFC 3310 3.4) and then the fresh challenge. UDP on 127.0.0.0/8 only.
 *
 *   sip_ua register --server 127.0.0.1:PORT --user USER [--aor USER]
 *          (--password PW [--alg MD5|SHA-256] | --k K --op OP|--opc OPC
 *           [--amf HEX] [--sqn-ms N])
 *          [--domain D] [--expires N] [--contact C]... [--header 'N: v']...
 *          [--local-ip 127.X.Y.Z] [--local-port P] [--call-id ID] [--cseq N]
 *          [--timeout MS] [--max-auth N] [--bad-response] [--bad-auts]
 *   sip_ua sim --k K --op OP|--opc OPC --nonce NONCE [--sqn-ms N] [--amf HEX]
 *   sip_ua auts --k K --op OP|--opc OPC --rand HEX --sqn-ms N [--resync-amf HEX]
 *   sip_ua nonce --k K --op OP|--opc OPC --rand HEX --sqn N [--amf HEX]
 *   sip_ua resync --k K --op OP|--opc OPC --rand HEX --auts BASE64
 *
 * K, OP and OPc are 32 hex digits or 16 characters taken as octets (as SIPp
 * takes aka_K and aka_OP). SQN values are decimal, or hex with 0x.
 *
 * register prints one line per step ("send", "recv", "challenge", "sim",
 * "auth", "contact", "path", "retry-after", ..., then "result CODE") so a
 * shell test can assert on them, and exits with
 *   0 the final answer was 2xx      1 the final answer was another status
 *   2 usage or system error         3 no answer within --timeout
 *   4 the SIM refused AUTN (MAC or AMF wrong)
 *   5 the answer could not be used (unparseable, no challenge we can answer)
 * sim prints what a SIM makes of an AKA nonce (SQN, MAC check, RES and
 * whether RES has a zero octet, which SIPp 3.6.1 mishandles); auts prints the
 * AUTS a SIM sends for SQN_MS (with --resync-amf the published f1* vectors,
 * which use the test set's AMF, can be checked). nonce and resync are the
 * network's side, for a fake registrar: the AKA nonce for an SQN, and the
 * SQN_MS that koryo_crypto's aka_resync() recovers from an AUTS. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "crypto/aka.h"
#include "crypto/digest.h"
#include "crypto/milenage.h"
#include "sip/sip_msg.h"

#define EXIT_OK      0
#define EXIT_STATUS  1
#define EXIT_USAGE   2
#define EXIT_TIMEOUT 3
#define EXIT_SIM     4
#define EXIT_PROTO   5

#define MAX_LIST 16
#define T1_MS    500

struct sim {
	bool set;
	uint8_t k[16], opc[16], amf[2];
	bool amf_set;
	uint64_t sqn_ms; /* the highest SQN accepted: only a higher one is fresh */
};

struct opts {
	const char *server, *domain, *user, *aor, *password, *alg, *nonce, *call_id, *auts,
	    *local_ip;
	const char *contacts[MAX_LIST], *headers[MAX_LIST];
	int n_contacts, n_headers;
	long expires;
	int local_port, timeout_ms, max_auth;
	uint32_t cseq;
	bool bad_response, bad_auts;
	struct sim sim;
	uint8_t op[16];
	bool op_set, opc_set;
	uint8_t rand[16];
	bool rand_set;
	uint8_t resync_amf[2];
	bool sqn_set;
};

static void die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void die(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("sip_ua: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(code);
}

static void hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
	out[2 * n] = '\0';
}

static int unhex(const char *s, uint8_t *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = sip_hexval((unsigned char)s[2 * i]),
		    lo = sip_hexval((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* 32 hex digits, or 16 characters used as they are: the demo SIMs' K and OP
 * are ASCII strings, and that is how SIPp's aka_K and aka_OP take them. */
static void parse_key(const char *what, const char *s, uint8_t out[16])
{
	if (strlen(s) == 16)
		memcpy(out, s, 16);
	else if (unhex(s, out, 16) < 0)
		die(EXIT_USAGE, "%s: expected 32 hex digits or 16 characters, got '%s'", what, s);
}

static uint64_t parse_sqn(const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-' || v > AKA_SQN_MAX)
		die(EXIT_USAGE, "--sqn-ms: expected a 48-bit number, got '%s'", s);
	return v;
}

static long parse_long(const char *what, const char *s, long min, long max)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		die(EXIT_USAGE, "%s: expected a number from %ld to %ld, got '%s'", what, min, max,
		    s);
	return v;
}

static uint64_t sqn_load(const uint8_t b[6])
{
	uint64_t v = 0;
	for (int i = 0; i < 6; i++)
		v = v << 8 | b[i];
	return v;
}

static void sqn_store(uint64_t v, uint8_t b[6])
{
	for (int i = 5; i >= 0; i--, v >>= 8)
		b[i] = (uint8_t)v;
}

static void random_hex(char *out, size_t octets)
{
	uint8_t b[32];
	if (octets > sizeof(b) || crypto_random(b, octets) < 0)
		die(EXIT_USAGE, "no random numbers");
	hex(b, octets, out);
}

/* ---- the SIM ---------------------------------------------------------------------- */

struct sim_result {
	uint64_t sqn;
	uint8_t amf[2];
	bool mac_ok, amf_ok, fresh;
	uint8_t res[8];
	uint8_t auts[14]; /* set when !fresh */
};

/* MAC-S over SQN_MS with the given AMF and AK* (TS 33.102 6.3.3): AUTS is
 * (SQN_MS xor AK*) || MAC-S. The SIM uses the dummy AMF 0000; other values
 * only serve to check against the published f1* of TS 35.208. */
static int auts_make(const struct milenage_ctx *ctx, const uint8_t rand[16], uint64_t sqn_ms,
                     const uint8_t amf[2], uint8_t auts[14])
{
	uint8_t sqnb[6], ak_star[6], mac_s[8];
	sqn_store(sqn_ms, sqnb);
	if (milenage_f1(ctx, rand, sqnb, amf, NULL, mac_s) < 0 ||
	    milenage_f5star(ctx, rand, ak_star) < 0)
		return -1;
	for (int i = 0; i < 6; i++)
		auts[i] = sqnb[i] ^ ak_star[i];
	memcpy(auts + 6, mac_s, 8);
	return 0;
}

/* What a USIM does with RAND and AUTN (TS 33.102 6.3.3): recover SQN with AK,
 * check MAC-A, then the freshness of SQN; the simple rule here is "higher
 * than any SQN accepted before", which is what makes an AuC that is behind
 * the SIM send a stale one. */
static void sim_run(const struct sim *s, const uint8_t rand[16], const uint8_t autn[16],
                    struct sim_result *r)
{
	struct milenage_ctx ctx;
	uint8_t ak[6], sqnb[6], mac_a[8];
	static const uint8_t dummy_amf[2] = {0, 0};

	memset(r, 0, sizeof(*r));
	if (milenage_ctx_init(&ctx, s->k, s->opc) < 0)
		die(EXIT_USAGE, "MILENAGE: cannot initialise");
	if (milenage_f2345(&ctx, rand, r->res, NULL, NULL, ak) < 0)
		die(EXIT_USAGE, "MILENAGE f2-f5 failed");
	for (int i = 0; i < 6; i++)
		sqnb[i] = autn[i] ^ ak[i];
	r->sqn = sqn_load(sqnb);
	memcpy(r->amf, autn + 6, 2);
	if (milenage_f1(&ctx, rand, sqnb, r->amf, mac_a, NULL) < 0)
		die(EXIT_USAGE, "MILENAGE f1 failed");
	r->mac_ok = memcmp(mac_a, autn + 8, 8) == 0;
	r->amf_ok = !s->amf_set || memcmp(r->amf, s->amf, 2) == 0;
	r->fresh = r->sqn > s->sqn_ms;
	if (!r->fresh && auts_make(&ctx, rand, s->sqn_ms, dummy_amf, r->auts) < 0)
		die(EXIT_USAGE, "MILENAGE f1*/f5* failed");
	milenage_ctx_cleanup(&ctx);
}

static bool has_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i] == 0)
			return true;
	return false;
}

static void b64(const uint8_t *b, size_t n, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, b, (int)n);
}

/* ---- UDP -------------------------------------------------------------------------- */

static void loopback_addr(const char *what, const char *s, struct in_addr *a)
{
	if (inet_pton(AF_INET, s, a) != 1 || (ntohl(a->s_addr) >> 24) != 127)
		die(EXIT_USAGE, "%s: only 127.0.0.0/8 is allowed, got '%s'", what, s);
}

static int udp_open(const char *server, const char *local_ip, int local_port, uint16_t *bound)
{
	char host[64];
	const char *colon = strrchr(server, ':');
	if (!colon || (size_t)(colon - server) >= sizeof(host))
		die(EXIT_USAGE, "--server: expected 127.0.0.1:PORT, got '%s'", server);
	memcpy(host, server, (size_t)(colon - server));
	host[colon - server] = '\0';
	struct sockaddr_in to = {.sin_family = AF_INET};
	/* Loopback only: this tool must never send anywhere else. */
	loopback_addr("--server", host, &to.sin_addr);
	to.sin_port = htons((uint16_t)parse_long("--server port", colon + 1, 1, 65535));

	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die(EXIT_USAGE, "socket: %s", strerror(errno));
	struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons((uint16_t)local_port)};
	/* Another loopback address is another source for koryod's per-source
	 * limits, without leaving the machine. */
	loopback_addr("--local-ip", local_ip, &me.sin_addr);
	if (bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0)
		die(EXIT_USAGE, "bind %s:%d: %s", local_ip, local_port, strerror(errno));
	/* connect() makes the kernel drop datagrams from anyone but the server. */
	if (connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0)
		die(EXIT_USAGE, "connect %s: %s", server, strerror(errno));
	socklen_t sl = sizeof(me);
	if (getsockname(fd, (struct sockaddr *)&me, &sl) < 0)
		die(EXIT_USAGE, "getsockname: %s", strerror(errno));
	*bound = ntohs(me.sin_port);
	return fd;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the REGISTER transaction --------------------------------------------------------- */

struct challenge {
	char realm[128], nonce[512], opaque[256], qop[16];
	char alg_text[32];
	enum digest_alg alg;
	bool aka, stale;
};

/* An auth-param's value without quotes into out; "" when absent. */
static void param(const struct sip_auth *a, const char *name, char *out, size_t cap)
{
	struct sip_str v;
	out[0] = '\0';
	if (sip_auth_param_get(a, name, &v) != 1)
		return;
	int n = sip_unquote(v, out, cap);
	out[n < 0 ? 0 : n] = '\0';
}

/* qop="auth,auth-int": auth when offered, else auth-int (with an empty body:
 * a REGISTER has none), else none (the RFC 2069 form). */
static void pick_qop(const char *offer, char *out)
{
	char list[128];
	snprintf(list, sizeof(list), "%s", offer);
	out[0] = '\0';
	for (char *save = NULL, *t = strtok_r(list, ", \t", &save); t;
	     t = strtok_r(NULL, ", \t", &save)) {
		if (strcmp(t, "auth") == 0) {
			strcpy(out, "auth");
			return;
		}
		if (strcmp(t, "auth-int") == 0)
			strcpy(out, "auth-int");
	}
}

static int parse_challenges(const struct sip_msg *m, struct challenge *c, int cap)
{
	int n = 0;
	for (const struct sip_hdr *h = sip_msg_header_first(m, SIP_HDR_WWW_AUTHENTICATE); h;
	     h = sip_msg_header_next(m, h)) {
		struct sip_auth a;
		if (sip_auth_parse(h->value, &a) < 0 || !sip_str_eq_ci(a.scheme, "Digest")) {
			printf("challenge unusable %.*s\n", (int)h->value.len, h->value.p);
			continue;
		}
		if (n == cap)
			break;
		struct challenge *ch = &c[n];
		char qop[128], stale[16];
		memset(ch, 0, sizeof(*ch));
		param(&a, "realm", ch->realm, sizeof(ch->realm));
		param(&a, "nonce", ch->nonce, sizeof(ch->nonce));
		param(&a, "opaque", ch->opaque, sizeof(ch->opaque));
		param(&a, "algorithm", ch->alg_text, sizeof(ch->alg_text));
		param(&a, "qop", qop, sizeof(qop));
		param(&a, "stale", stale, sizeof(stale));
		ch->stale = strcasecmp(stale, "true") == 0;
		pick_qop(qop, ch->qop);
		if (!ch->alg_text[0])
			strcpy(ch->alg_text, "MD5");
		bool ok =
		    digest_alg_parse(ch->alg_text, strlen(ch->alg_text), &ch->alg, &ch->aka) == 0;
		printf("challenge algorithm=%s realm=%s qop=%s stale=%s nonce=%s\n", ch->alg_text,
		       ch->realm, qop[0] ? qop : "-", ch->stale ? "true" : "false", ch->nonce);
		if (ok && ch->nonce[0])
			n++;
	}
	return n;
}

struct ua {
	const struct opts *o;
	int fd;
	uint16_t lport;
	char call_id[96], from_tag[24], aor_user[128];
	uint32_t cseq;
	char branch[40];
	char msg[8192];
	size_t msg_len;
	char rbuf[65536];
	struct sim sim; /* sqn_ms advances as challenges are accepted */
};

static void build(struct ua *u, const char *authorization)
{
	const struct opts *o = u->o;
	char *p = u->msg, *end = u->msg + sizeof(u->msg);
	char tmp[24];

	random_hex(tmp, 8);
	snprintf(u->branch, sizeof(u->branch), "z9hG4bK%s", tmp);
#define ADD(...)                                                                                   \
	do {                                                                                       \
		int n_ = snprintf(p, (size_t)(end - p), __VA_ARGS__);                              \
		if (n_ < 0 || n_ >= end - p)                                                       \
			die(EXIT_USAGE, "REGISTER too large");                                     \
		p += n_;                                                                           \
	} while (0)
	ADD("REGISTER sip:%s SIP/2.0\r\n", o->domain);
	ADD("Via: SIP/2.0/UDP %s:%u;rport;branch=%s\r\n", o->local_ip, u->lport, u->branch);
	ADD("Max-Forwards: 70\r\n");
	ADD("From: <sip:%s@%s>;tag=%s\r\n", u->aor_user, o->domain, u->from_tag);
	ADD("To: <sip:%s@%s>\r\n", u->aor_user, o->domain);
	ADD("Call-ID: %s\r\n", u->call_id);
	ADD("CSeq: %" PRIu32 " REGISTER\r\n", u->cseq);
	if (o->n_contacts == 0)
		ADD("Contact: <sip:%s@%s:%u>\r\n", u->aor_user, o->local_ip, u->lport);
	for (int i = 0; i < o->n_contacts; i++)
		ADD("Contact: %s\r\n", o->contacts[i]);
	if (o->expires >= 0)
		ADD("Expires: %ld\r\n", o->expires);
	if (authorization)
		ADD("Authorization: %s\r\n", authorization);
	for (int i = 0; i < o->n_headers; i++)
		ADD("%s\r\n", o->headers[i]);
	ADD("User-Agent: koryo-sip_ua\r\n");
	ADD("Content-Length: 0\r\n\r\n");
#undef ADD
	u->msg_len = (size_t)(p - u->msg);
}

static void send_msg(struct ua *u)
{
	if (send(u->fd, u->msg, u->msg_len, 0) != (ssize_t)u->msg_len)
		die(EXIT_USAGE, "send: %s", strerror(errno));
}

/* Sends the REGISTER and waits for its final answer, retransmitting as RFC
 * 3261 17.1.2.2 says (every retransmission is printed: a test can insist on
 * none). Answers to other transactions are ignored. Returns 0 with the
 * answer parsed into *m, or EXIT_TIMEOUT. */
static int transaction(struct ua *u, struct sip_msg *m)
{
	int64_t start = now_ms(), deadline = start + u->o->timeout_ms;
	int64_t next = start + T1_MS, interval = T1_MS;
	bool provisional = false;

	send_msg(u);
	for (;;) {
		int64_t now = now_ms();
		if (now >= deadline)
			return EXIT_TIMEOUT;
		int wait =
		    (int)((provisional ? deadline : (next < deadline ? next : deadline)) - now);
		struct pollfd pfd = {.fd = u->fd, .events = POLLIN};
		int rc = poll(&pfd, 1, wait);
		if (rc < 0 && errno != EINTR)
			die(EXIT_USAGE, "poll: %s", strerror(errno));
		if (rc <= 0) {
			if (!provisional && now_ms() >= next) {
				printf("retransmit REGISTER cseq=%" PRIu32 "\n", u->cseq);
				send_msg(u);
				interval = interval * 2 > 4000 ? 4000 : interval * 2;
				next = now_ms() + interval;
			}
			continue;
		}
		ssize_t n = recv(u->fd, u->rbuf, sizeof(u->rbuf), 0);
		if (n < 0) {
			/* ICMP port unreachable: nobody listens on the server's port. */
			if (errno == ECONNREFUSED) {
				printf("error connection refused\n");
				usleep(100 * 1000);
				continue;
			}
			die(EXIT_USAGE, "recv: %s", strerror(errno));
		}
		int prc = sip_msg_parse(m, u->rbuf, (size_t)n, SIP_DGRAM);
		if (prc < 0 || m->is_request) {
			printf("ignore %s\n", prc < 0 ? sip_strerror(prc) : "a request");
			continue;
		}
		if (!sip_str_eq_ci(m->via.branch, u->branch) || m->cseq.number != u->cseq) {
			printf("ignore %d for another transaction\n", m->status);
			continue;
		}
		printf("recv %d %.*s\n", m->status, (int)m->reason.len, m->reason.p);
		if (m->status >= 200)
			return 0;
		provisional = true; /* a 1xx stops retransmission of a non-INVITE (17.1.2.2) */
	}
}

/* The lines a test asserts on: the bindings and what else the answer says. */
static void print_answer(const struct sip_msg *m)
{
	static const struct {
		enum sip_hdr_type t;
		const char *label;
	} show[] = {
	    {SIP_HDR_CONTACT, "contact"},
	    {SIP_HDR_PATH, "path"},
	    {SIP_HDR_SERVICE_ROUTE, "service-route"},
	    {SIP_HDR_RETRY_AFTER, "retry-after"},
	    {SIP_HDR_MIN_EXPIRES, "min-expires"},
	    {SIP_HDR_EXPIRES, "expires"},
	    {SIP_HDR_WARNING, "warning"},
	    {SIP_HDR_P_ASSOCIATED_URI, "p-associated-uri"},
	};
	for (size_t i = 0; i < sizeof(show) / sizeof(show[0]); i++) {
		struct sip_hdr_iter it;
		struct sip_str v;
		int rc;
		sip_hdr_iter_init(&it, m, show[i].t);
		while ((rc = sip_hdr_iter_next(&it, &v)) == 1)
			printf("%s %.*s\n", show[i].label, (int)v.len, v.p);
		if (rc < 0)
			printf("%s malformed\n", show[i].label);
	}
}

static const struct challenge *choose(const struct challenge *c, int n, const struct opts *o)
{
	for (int i = 0; i < n; i++) {
		if (o->sim.set ? c[i].aka : (!c[i].aka && strcasecmp(c[i].alg_text, o->alg) == 0))
			return &c[i];
	}
	return NULL;
}

/* Answers one challenge: the Authorization value into out. Returns 0, or an
 * exit code when the SIM refuses the network. */
static int answer(struct ua *u, const struct challenge *ch, char *out, size_t cap)
{
	const struct opts *o = u->o;
	char ha1[DIGEST_HEX_MAX], resp[DIGEST_HEX_MAX], cnonce[17], uri[300], auts_param[64] = "";
	const char *user = o->user;

	if (ch->aka) {
		uint8_t rand[16], autn[16];
		struct sim_result r;
		char res_hex[17];
		if (digest_aka_nonce_parse(ch->nonce, strlen(ch->nonce), rand, autn) < 0) {
			printf("sim nonce not base64 of RAND and AUTN\n");
			return EXIT_PROTO;
		}
		sim_run(&u->sim, rand, autn, &r);
		hex(r.res, 8, res_hex);
		printf("sim sqn=%" PRIu64 " sqn_ms=%" PRIu64 " amf=%02x%02x%s mac=%s fresh=%s\n",
		       r.sqn, u->sim.sqn_ms, r.amf[0], r.amf[1], r.amf_ok ? "" : "(unexpected)",
		       r.mac_ok ? "ok" : "bad", r.fresh ? "yes" : "no");
		if (!r.mac_ok || !r.amf_ok) {
			printf("sim refuses AUTN: %s\n", r.mac_ok ? "AMF differs" : "MAC-A wrong");
			return EXIT_SIM;
		}
		if (r.fresh) {
			u->sim.sqn_ms = r.sqn;
			printf("sim accepted res=%s res_zero=%s\n", res_hex,
			       has_zero(r.res, 8) ? "yes" : "no");
			if (digest_aka_ha1(user, strlen(user), ch->realm, strlen(ch->realm), r.res,
			                   8, ha1) < 0)
				die(EXIT_USAGE, "digest_aka_ha1 failed");
		} else {
			char a[32];
			if (o->bad_auts)
				r.auts[13] ^= 1; /* MAC-S no longer verifies */
			b64(r.auts, 14, a);
			snprintf(auts_param, sizeof(auts_param), ", auts=\"%s\"", a);
			printf("sim sync-failure auts=%s\n", a);
			/* RES is not known to be right here; RFC 3310 3.4 says to
			 * answer with an empty password. */
			if (digest_aka_ha1(user, strlen(user), ch->realm, strlen(ch->realm), NULL,
			                   0, ha1) < 0)
				die(EXIT_USAGE, "digest_aka_ha1 failed");
		}
	} else if (digest_ha1(ch->alg, user, strlen(user), ch->realm, strlen(ch->realm),
	                      o->password, strlen(o->password), ha1) < 0) {
		die(EXIT_USAGE, "digest_ha1 failed");
	}

	random_hex(cnonce, 8);
	snprintf(uri, sizeof(uri), "sip:%s", o->domain);
	struct digest_params p = {
	    .nonce = ch->nonce,
	    .nonce_len = strlen(ch->nonce),
	    .nc = "00000001",
	    .nc_len = 8,
	    .cnonce = cnonce,
	    .cnonce_len = strlen(cnonce),
	    .qop = ch->qop,
	    .qop_len = strlen(ch->qop),
	    .method = "REGISTER",
	    .method_len = 8,
	    .uri = uri,
	    .uri_len = strlen(uri),
	};
	if (digest_response(ch->alg, ha1, &p, resp) < 0)
		die(EXIT_USAGE, "digest_response failed");
	if (o->bad_response)
		resp[0] = resp[0] == '0' ? '1' : '0';

	int n = snprintf(out, cap,
	                 "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", "
	                 "response=\"%s\", algorithm=%s",
	                 user, ch->realm, ch->nonce, uri, resp, ch->alg_text);
	if (ch->qop[0])
		n += snprintf(out + n, cap - (size_t)n, ", cnonce=\"%s\", qop=%s, nc=00000001",
		              cnonce, ch->qop);
	if (ch->opaque[0])
		n += snprintf(out + n, cap - (size_t)n, ", opaque=\"%s\"", ch->opaque);
	n += snprintf(out + n, cap - (size_t)n, "%s", auts_param);
	if (n >= (int)cap)
		die(EXIT_USAGE, "Authorization too large");
	printf("auth algorithm=%s username=%s qop=%s%s%s\n", ch->alg_text, user,
	       ch->qop[0] ? ch->qop : "-", auts_param[0] ? " auts" : "",
	       o->bad_response ? " bad-response" : "");
	return 0;
}

static int cmd_register(const struct opts *o)
{
	static struct ua u;
	struct sip_msg m;
	char authz[2048];

	if (!o->server || !o->user)
		die(EXIT_USAGE, "register needs --server and --user");
	if (!o->password == !o->sim.set)
		die(EXIT_USAGE, "register needs either --password or --k with --op/--opc");
	u.o = o;
	u.sim = o->sim;
	u.fd = udp_open(o->server, o->local_ip, o->local_port, &u.lport);
	snprintf(u.aor_user, sizeof(u.aor_user), "%s", o->aor ? o->aor : o->user);
	u.aor_user[strcspn(u.aor_user, "@")] = '\0';
	if (o->call_id) {
		snprintf(u.call_id, sizeof(u.call_id), "%s", o->call_id);
	} else {
		random_hex(u.call_id, 12);
		strcat(u.call_id, "@koryo-sip-ua");
	}
	random_hex(u.from_tag, 8);
	u.cseq = o->cseq;
	printf("local %s:%u\n", o->local_ip, u.lport);

	build(&u, NULL);
	for (int answered = 0;; answered++) {
		printf("send REGISTER cseq=%" PRIu32 "\n", u.cseq);
		if (transaction(&u, &m) != 0) {
			printf("result timeout\n");
			return EXIT_TIMEOUT;
		}
		print_answer(&m);
		if (m.status != 401)
			break;
		struct challenge ch[8];
		int n = parse_challenges(&m, ch, 8);
		if (answered == o->max_auth)
			break;
		const struct challenge *c = choose(ch, n, o);
		if (!c) {
			printf("result no-usable-challenge (want %s)\n",
			       o->sim.set ? "AKAv1-MD5" : o->alg);
			return EXIT_PROTO;
		}
		int rc = answer(&u, c, authz, sizeof(authz));
		if (rc) {
			printf("result sim-refused\n");
			return rc;
		}
		u.cseq++;
		build(&u, authz);
	}
	if (o->sim.set)
		printf("sqn_ms %" PRIu64 "\n", u.sim.sqn_ms);
	printf("result %d\n", m.status);
	close(u.fd);
	return m.status >= 200 && m.status < 300 ? EXIT_OK : EXIT_STATUS;
}

/* What a SIM makes of a nonce: lets a test predict SIPp's outcome per
 * challenge (SIPp 3.6.1 gets the response wrong when RES has a zero octet). */
static int cmd_sim(const struct opts *o)
{
	uint8_t rand[16], autn[16];
	struct sim_result r;
	char res_hex[17];

	if (!o->sim.set || !o->nonce)
		die(EXIT_USAGE, "sim needs --k, --op or --opc, and --nonce");
	if (digest_aka_nonce_parse(o->nonce, strlen(o->nonce), rand, autn) < 0)
		die(EXIT_PROTO, "--nonce: not base64 of RAND and AUTN");
	sim_run(&o->sim, rand, autn, &r);
	hex(r.res, 8, res_hex);
	printf("sqn=%" PRIu64 " amf=%02x%02x%s mac=%s fresh=%s res=%s res_zero=%s\n", r.sqn,
	       r.amf[0], r.amf[1], r.amf_ok ? "" : "(unexpected)", r.mac_ok ? "ok" : "bad",
	       r.fresh ? "yes" : "no", res_hex, has_zero(r.res, 8) ? "yes" : "no");
	return r.mac_ok && r.amf_ok ? EXIT_OK : EXIT_SIM;
}

static int cmd_auts(const struct opts *o)
{
	struct milenage_ctx ctx;
	uint8_t auts[14];
	char a[32], h[29];

	if (!o->sim.set || !o->rand_set || !o->sqn_set)
		die(EXIT_USAGE, "auts needs --k, --op or --opc, --rand and --sqn-ms");
	if (milenage_ctx_init(&ctx, o->sim.k, o->sim.opc) < 0 ||
	    auts_make(&ctx, o->rand, o->sim.sqn_ms, o->resync_amf, auts) < 0)
		die(EXIT_USAGE, "MILENAGE failed");
	milenage_ctx_cleanup(&ctx);
	b64(auts, 14, a);
	hex(auts, 14, h);
	printf("auts=%s hex=%s\n", a, h);
	return EXIT_OK;
}

static int cmd_nonce(const struct opts *o)
{
	struct aka_keys keys;
	struct aka_vector v;
	char nonce[DIGEST_AKA_NONCE_LEN + 1], res_hex[17];

	if (!o->sim.set || !o->rand_set || !o->sqn_set)
		die(EXIT_USAGE, "nonce needs --k, --op or --opc, --rand and --sqn");
	memcpy(keys.k, o->sim.k, 16);
	memcpy(keys.opc, o->sim.opc, 16);
	memcpy(keys.amf, o->sim.amf, 2);
	if (aka_vector_gen(&keys, o->sim.sqn_ms, o->rand, &v) < 0)
		die(EXIT_USAGE, "aka_vector_gen failed");
	digest_aka_nonce_make(v.rand, v.autn, nonce);
	hex(v.res, 8, res_hex);
	printf("nonce=%s res=%s res_zero=%s\n", nonce, res_hex, has_zero(v.res, 8) ? "yes" : "no");
	return EXIT_OK;
}

static int cmd_resync(const struct opts *o)
{
	struct aka_keys keys;
	uint8_t auts[DIGEST_AKA_AUTS_LEN];
	uint64_t sqn_ms;

	if (!o->sim.set || !o->rand_set || !o->auts)
		die(EXIT_USAGE, "resync needs --k, --op or --opc, --rand and --auts");
	if (digest_aka_auts_parse(o->auts, strlen(o->auts), auts) < 0)
		die(EXIT_PROTO, "--auts: not base64 of 14 octets");
	memcpy(keys.k, o->sim.k, 16);
	memcpy(keys.opc, o->sim.opc, 16);
	memset(keys.amf, 0, 2);
	int rc = aka_resync(&keys, o->rand, auts, &sqn_ms);
	if (rc == -EBADMSG) {
		printf("mac_s=bad\n");
		return EXIT_SIM;
	}
	if (rc < 0)
		die(EXIT_USAGE, "aka_resync failed");
	printf("mac_s=ok sqn_ms=%" PRIu64 "\n", sqn_ms);
	return EXIT_OK;
}

static void usage(void)
{
	fputs("usage: sip_ua register|sim|auts [options] (see tests/sip/sip_ua.c)\n", stderr);
	exit(EXIT_USAGE);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"server", required_argument, NULL, 's'},
	    {"domain", required_argument, NULL, 'd'},
	    {"user", required_argument, NULL, 'u'},
	    {"aor", required_argument, NULL, 'A'},
	    {"password", required_argument, NULL, 'w'},
	    {"alg", required_argument, NULL, 'a'},
	    {"k", required_argument, NULL, 'K'},
	    {"op", required_argument, NULL, 'O'},
	    {"opc", required_argument, NULL, 'C'},
	    {"amf", required_argument, NULL, 'M'},
	    {"sqn-ms", required_argument, NULL, 'q'},
	    {"expires", required_argument, NULL, 'e'},
	    {"contact", required_argument, NULL, 'c'},
	    {"header", required_argument, NULL, 'H'},
	    {"local-port", required_argument, NULL, 'l'},
	    {"call-id", required_argument, NULL, 'i'},
	    {"cseq", required_argument, NULL, 'S'},
	    {"timeout", required_argument, NULL, 't'},
	    {"max-auth", required_argument, NULL, 'x'},
	    {"bad-response", no_argument, NULL, 'b'},
	    {"nonce", required_argument, NULL, 'n'},
	    {"rand", required_argument, NULL, 'r'},
	    {"resync-amf", required_argument, NULL, 'R'},
	    {"sqn", required_argument, NULL, 'q'},
	    {"auts", required_argument, NULL, 'T'},
	    {"local-ip", required_argument, NULL, 'L'},
	    {"bad-auts", no_argument, NULL, 'B'},
	    {NULL, 0, NULL, 0},
	};
	static struct opts o = {
	    .domain = "koryo.local",
	    .alg = "SHA-256",
	    .expires = 600,
	    .timeout_ms = 4000,
	    .max_auth = 3,
	    .cseq = 1,
	    .local_ip = "127.0.0.1",
	};
	uint8_t k[16];
	bool k_set = false;
	int c;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		usage();
	const char *cmd = argv[1];
	argv++;
	argc--;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			o.server = optarg;
			break;
		case 'd':
			o.domain = optarg;
			break;
		case 'u':
			o.user = optarg;
			break;
		case 'A':
			o.aor = optarg;
			break;
		case 'w':
			o.password = optarg;
			break;
		case 'a':
			if (strcmp(optarg, "MD5") && strcmp(optarg, "SHA-256"))
				die(EXIT_USAGE, "--alg: MD5 or SHA-256");
			o.alg = optarg;
			break;
		case 'K':
			parse_key("--k", optarg, k), k_set = true;
			break;
		case 'O':
			parse_key("--op", optarg, o.op), o.op_set = true;
			break;
		case 'C':
			parse_key("--opc", optarg, o.sim.opc), o.opc_set = true;
			break;
		case 'M':
			if (unhex(optarg, o.sim.amf, 2) < 0)
				die(EXIT_USAGE, "--amf: 4 hex digits");
			o.sim.amf_set = true;
			break;
		case 'q':
			o.sim.sqn_ms = parse_sqn(optarg), o.sqn_set = true;
			break;
		case 'e':
			o.expires = parse_long("--expires", optarg, -1, 0xffffffffL);
			break;
		case 'c':
			if (o.n_contacts == MAX_LIST)
				die(EXIT_USAGE, "too many --contact");
			o.contacts[o.n_contacts++] = optarg;
			break;
		case 'H':
			if (o.n_headers == MAX_LIST)
				die(EXIT_USAGE, "too many --header");
			o.headers[o.n_headers++] = optarg;
			break;
		case 'l':
			o.local_port = (int)parse_long("--local-port", optarg, 0, 65535);
			break;
		case 'i':
			o.call_id = optarg;
			break;
		case 'S':
			o.cseq = (uint32_t)parse_long("--cseq", optarg, 1, 0x7fffffff);
			break;
		case 't':
			o.timeout_ms = (int)parse_long("--timeout", optarg, 100, 60000);
			break;
		case 'x':
			o.max_auth = (int)parse_long("--max-auth", optarg, 0, 10);
			break;
		case 'b':
			o.bad_response = true;
			break;
		case 'n':
			o.nonce = optarg;
			break;
		case 'T':
			o.auts = optarg;
			break;
		case 'L':
			o.local_ip = optarg;
			break;
		case 'B':
			o.bad_auts = true;
			break;
		case 'r':
			if (unhex(optarg, o.rand, 16) < 0)
				die(EXIT_USAGE, "--rand: 32 hex digits");
			o.rand_set = true;
			break;
		case 'R':
			if (unhex(optarg, o.resync_amf, 2) < 0)
				die(EXIT_USAGE, "--resync-amf: 4 hex digits");
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (k_set || o.op_set || o.opc_set) {
		if (!k_set || o.op_set == o.opc_set)
			die(EXIT_USAGE, "a SIM needs --k and one of --op, --opc");
		memcpy(o.sim.k, k, 16);
		if (o.op_set && milenage_opc_gen(k, o.op, o.sim.opc) < 0)
			die(EXIT_USAGE, "OPc derivation failed");
		o.sim.set = true;
	}
	if (strcmp(cmd, "register") == 0)
		return cmd_register(&o);
	if (strcmp(cmd, "sim") == 0)
		return cmd_sim(&o);
	if (strcmp(cmd, "auts") == 0)
		return cmd_auts(&o);
	if (strcmp(cmd, "nonce") == 0)
		return cmd_nonce(&o);
	if (strcmp(cmd, "resync") == 0)
		return cmd_resync(&o);
	usage();
}
