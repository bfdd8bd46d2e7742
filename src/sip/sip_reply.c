/* Stateless responses from a parsed request: see sip_reply.h. */
#include "sip/sip_reply.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>

const char *sip_reason_phrase(int status)
{
	switch (status) {
	case 100:
		return "Trying";
	case 180:
		return "Ringing";
	case 183:
		return "Session Progress";
	case 200:
		return "OK";
	case 202:
		return "Accepted";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 413:
		return "Request Entity Too Large";
	case 415:
		return "Unsupported Media Type";
	case 416:
		return "Unsupported URI Scheme";
	case 420:
		return "Bad Extension";
	case 423:
		return "Interval Too Brief";
	case 480:
		return "Temporarily Unavailable";
	case 481:
		return "Call/Transaction Does Not Exist";
	case 482:
		return "Loop Detected";
	case 483:
		return "Too Many Hops";
	case 486:
		return "Busy Here";
	case 487:
		return "Request Terminated";
	case 500:
		return "Server Internal Error";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	case 505:
		return "Version Not Supported";
	case 513:
		return "Message Too Large";
	case 603:
		return "Decline";
	default:
		return "";
	}
}

/* An output cursor over the caller's buffer; once full, it stays full. */
struct out {
	char *p;
	size_t len, cap;
	bool full;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->full || n > o->cap - o->len) {
		o->full = true;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_str(struct out *o, struct sip_str s)
{
	put(o, s.p, s.len);
}

static void put_uint(struct out *o, unsigned long v)
{
	char d[24];
	size_t n = sizeof(d);
	do {
		d[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(o, d + n, sizeof(d) - n);
}

/* The first field of a type, as written; p NULL when absent. */
static struct sip_str first_value(const struct sip_msg *m, enum sip_hdr_type t)
{
	const struct sip_hdr *h = sip_msg_header_first(m, t);
	return h ? h->value : (struct sip_str){NULL, 0};
}

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

void sip_reply_to_tag(const struct sip_msg *req, uint64_t salt, char out[17])
{
	uint64_t h = fnv1a(0xcbf29ce484222325ULL, &salt, sizeof(salt));
	struct sip_str v = first_value(req, SIP_HDR_CALL_ID);
	h = fnv1a(h, v.p, v.len);
	h = fnv1a(h, "\0", 1);
	h = fnv1a(h, req->from.tag.p, req->from.tag.len);
	h = fnv1a(h, "\0", 1);
	h = fnv1a(h, req->via.branch.p, req->via.branch.len);
	h = fnv1a(h, "\0", 1);
	v = first_value(req, SIP_HDR_CSEQ);
	h = fnv1a(h, v.p, v.len);
	/* One more round so that the salt reaches every output bit. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < 16; i++)
		out[i] = hex[(h >> (60 - 4 * i)) & 15];
	out[16] = '\0';
}

/* Writes the top Via value v with received= and rport= set for the source
 * (RFC 3261 18.2.1, RFC 3581 4) when v asks for rport or its sent-by is not
 * the source; otherwise, or when v does not parse, as written. */
static void put_top_via(struct out *o, struct sip_str v, const struct sip_reply_opts *opt)
{
	struct sip_via via;
	if (sip_via_parse(v, &via) != 0) {
		put_str(o, v);
		return;
	}
	char ip[INET_ADDRSTRLEN];
	struct in_addr a = {.s_addr = opt->src_addr};
	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	uint16_t sent_port = via.has_port                          ? via.port
	                     : sip_str_eq_ci(via.transport, "TLS") ? 5061
	                                                           : 5060;
	bool same = sip_str_eq_ci(via.host, ip) && sent_port == opt->src_port;
	if (!via.has_rport && same) {
		put_str(o, v);
		return;
	}
	/* sent-protocol and sent-by rewritten without the LWS and folds the
	 * request may have had in them, then the parameters without the old
	 * received and rport, then the new ones. */
	const char *pe = via.params.p ? via.params.p : v.p + v.len;
	put_str(o, via.proto_name);
	put(o, "/", 1);
	put_str(o, via.proto_version);
	put(o, "/", 1);
	put_str(o, via.transport);
	put(o, " ", 1);
	bool v6 = memchr(via.host.p, ':', via.host.len) != NULL;
	if (v6)
		put(o, "[", 1);
	put_str(o, via.host);
	if (v6)
		put(o, "]", 1);
	if (via.has_port) {
		put(o, ":", 1);
		put_uint(o, via.port);
	}
	size_t mark = o->len;
	struct sip_str rest = via.params, name, value;
	int rc;
	while ((rc = sip_param_next(&rest, true, &name, &value)) == 1) {
		if (sip_str_eq_ci(name, "received") || sip_str_eq_ci(name, "rport"))
			continue;
		put(o, ";", 1);
		put_str(o, name);
		if (value.p) {
			put(o, "=", 1);
			put_str(o, value);
		}
	}
	if (rc < 0 && !o->full) {
		/* sip_via_parse() accepted these parameters, so this is not
		 * expected; keep them as written rather than half of them. */
		o->len = mark;
		put(o, pe, (size_t)(v.p + v.len - pe));
	}
	puts_(o, ";received=");
	puts_(o, ip);
	puts_(o, ";rport=");
	put_uint(o, opt->src_port);
}

static bool has_crlf(const char *s)
{
	return strpbrk(s, "\r\n") != NULL;
}

int sip_reply_build(const struct sip_msg *req, int status, const char *reason,
                    const struct sip_reply_opts *opt, char *out, size_t cap)
{
	if (status < 100 || status > 699)
		return -EINVAL;
	if (!reason)
		reason = sip_reason_phrase(status);
	if (has_crlf(reason) || (opt->server && has_crlf(opt->server)))
		return -EINVAL;
	const struct sip_hdr *via = sip_msg_header_first(req, SIP_HDR_VIA);
	struct sip_str from = first_value(req, SIP_HDR_FROM), to = first_value(req, SIP_HDR_TO),
	               call_id = first_value(req, SIP_HDR_CALL_ID),
	               cseq = first_value(req, SIP_HDR_CSEQ);
	if (!via || !from.p || !to.p || !call_id.p || !cseq.p)
		return -EINVAL;

	struct out o = {.p = out, .cap = cap > INT_MAX ? INT_MAX : cap};
	puts_(&o, "SIP/2.0 ");
	put_uint(&o, (unsigned long)status);
	puts_(&o, " ");
	puts_(&o, reason);
	puts_(&o, "\r\n");

	/* Via: the top value rewritten, the rest of its field and every other
	 * field as written. */
	struct sip_hdr_iter it;
	struct sip_str top;
	sip_hdr_iter_init(&it, req, SIP_HDR_VIA);
	bool have_top = sip_hdr_iter_next(&it, &top) == 1 && top.p >= via->value.p &&
	                top.p + top.len <= via->value.p + via->value.len;
	puts_(&o, "Via: ");
	if (have_top) {
		put(&o, via->value.p, (size_t)(top.p - via->value.p));
		put_top_via(&o, top, opt);
		put(&o, top.p + top.len,
		    (size_t)(via->value.p + via->value.len - (top.p + top.len)));
	} else {
		put_str(&o, via->value);
	}
	puts_(&o, "\r\n");
	for (const struct sip_hdr *h = sip_msg_header_next(req, via); h;
	     h = sip_msg_header_next(req, h)) {
		puts_(&o, "Via: ");
		put_str(&o, h->value);
		puts_(&o, "\r\n");
	}

	puts_(&o, "From: ");
	put_str(&o, from);
	puts_(&o, "\r\nTo: ");
	put_str(&o, to);
	struct sip_nameaddr na;
	if (status > 100 && sip_nameaddr_parse(to, false, &na) == 0 && !na.tag.p) {
		char tag[17];
		sip_reply_to_tag(req, opt->tag_salt, tag);
		puts_(&o, ";tag=");
		puts_(&o, tag);
	}
	puts_(&o, "\r\nCall-ID: ");
	put_str(&o, call_id);
	puts_(&o, "\r\nCSeq: ");
	put_str(&o, cseq);
	puts_(&o, "\r\n");
	if (opt->extra)
		puts_(&o, opt->extra);
	if (opt->server) {
		puts_(&o, "Server: ");
		puts_(&o, opt->server);
		puts_(&o, "\r\n");
	}
	puts_(&o, "Content-Length: 0\r\n\r\n");
	return o.full ? -ENOSPC : (int)o.len;
}
