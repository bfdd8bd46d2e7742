/*
 * SIP message parser: start line, header fields, the fields every element
 * needs, and stream framing. See sip_msg.h for the contract and
 * docs/sip-parser.md for what is accepted and refused.
 *
 * One pass over the header block: each line is found with memchr, its name
 * classified, its value trimmed and stored as a slice; folded lines stay
 * inside the value (the value parsers treat CRLF SP as LWS), so nothing is
 * copied. Only then are the few fields every message needs parsed.
 */
#include "sip/sip_msg.h"

#include <string.h>
#include <strings.h>

enum {
	HF_LIST = 1,   /* comma-separated values (RFC 3261 7.3.1) */
	HF_SINGLE = 2, /* may appear once; a second field is a 400 */
};

struct hdr_def {
	const char *name;
	uint8_t len;
	char compact; /* 0 when there is none */
	uint8_t flags;
};

#define H(t, n, c, f) [t] = {n, sizeof(n) - 1, c, f}
static const struct hdr_def hdr_defs[SIP_HDR__COUNT] = {
    H(SIP_HDR_OTHER, "", 0, 0),
    H(SIP_HDR_VIA, "Via", 'v', HF_LIST),
    H(SIP_HDR_FROM, "From", 'f', HF_SINGLE),
    H(SIP_HDR_TO, "To", 't', HF_SINGLE),
    H(SIP_HDR_CALL_ID, "Call-ID", 'i', HF_SINGLE),
    H(SIP_HDR_CSEQ, "CSeq", 0, HF_SINGLE),
    H(SIP_HDR_CONTACT, "Contact", 'm', HF_LIST),
    H(SIP_HDR_MAX_FORWARDS, "Max-Forwards", 0, HF_SINGLE),
    H(SIP_HDR_EXPIRES, "Expires", 0, HF_SINGLE),
    H(SIP_HDR_MIN_EXPIRES, "Min-Expires", 0, HF_SINGLE),
    H(SIP_HDR_CONTENT_LENGTH, "Content-Length", 'l', HF_SINGLE),
    H(SIP_HDR_CONTENT_TYPE, "Content-Type", 'c', HF_SINGLE),
    H(SIP_HDR_CONTENT_ENCODING, "Content-Encoding", 'e', HF_LIST),
    H(SIP_HDR_CONTENT_DISPOSITION, "Content-Disposition", 0, 0),
    H(SIP_HDR_ROUTE, "Route", 0, HF_LIST),
    H(SIP_HDR_RECORD_ROUTE, "Record-Route", 0, HF_LIST),
    H(SIP_HDR_PATH, "Path", 0, HF_LIST),
    H(SIP_HDR_SERVICE_ROUTE, "Service-Route", 0, HF_LIST),
    H(SIP_HDR_AUTHORIZATION, "Authorization", 0, 0),
    H(SIP_HDR_PROXY_AUTHORIZATION, "Proxy-Authorization", 0, 0),
    H(SIP_HDR_WWW_AUTHENTICATE, "WWW-Authenticate", 0, 0),
    H(SIP_HDR_PROXY_AUTHENTICATE, "Proxy-Authenticate", 0, 0),
    H(SIP_HDR_AUTHENTICATION_INFO, "Authentication-Info", 0, 0),
    H(SIP_HDR_SUPPORTED, "Supported", 'k', HF_LIST),
    H(SIP_HDR_REQUIRE, "Require", 0, HF_LIST),
    H(SIP_HDR_PROXY_REQUIRE, "Proxy-Require", 0, HF_LIST),
    H(SIP_HDR_UNSUPPORTED, "Unsupported", 0, HF_LIST),
    H(SIP_HDR_ALLOW, "Allow", 0, HF_LIST),
    H(SIP_HDR_ACCEPT, "Accept", 0, HF_LIST),
    H(SIP_HDR_ACCEPT_ENCODING, "Accept-Encoding", 0, HF_LIST),
    H(SIP_HDR_ACCEPT_LANGUAGE, "Accept-Language", 0, HF_LIST),
    H(SIP_HDR_SUBJECT, "Subject", 's', 0),
    H(SIP_HDR_REFER_TO, "Refer-To", 'r', 0),
    H(SIP_HDR_REFERRED_BY, "Referred-By", 'b', 0),
    H(SIP_HDR_EVENT, "Event", 'o', 0),
    H(SIP_HDR_ALLOW_EVENTS, "Allow-Events", 'u', HF_LIST),
    H(SIP_HDR_SESSION_EXPIRES, "Session-Expires", 'x', 0),
    H(SIP_HDR_ACCEPT_CONTACT, "Accept-Contact", 'a', HF_LIST),
    H(SIP_HDR_REJECT_CONTACT, "Reject-Contact", 'j', HF_LIST),
    H(SIP_HDR_REQUEST_DISPOSITION, "Request-Disposition", 'd', HF_LIST),
    H(SIP_HDR_IDENTITY, "Identity", 'y', 0),
    H(SIP_HDR_IDENTITY_INFO, "Identity-Info", 'n', 0),
    H(SIP_HDR_USER_AGENT, "User-Agent", 0, 0),
    H(SIP_HDR_SERVER, "Server", 0, 0),
    H(SIP_HDR_WARNING, "Warning", 0, HF_LIST),
    H(SIP_HDR_RETRY_AFTER, "Retry-After", 0, 0),
    H(SIP_HDR_P_ACCESS_NETWORK_INFO, "P-Access-Network-Info", 0, 0),
    H(SIP_HDR_P_ASSERTED_IDENTITY, "P-Asserted-Identity", 0, HF_LIST),
    H(SIP_HDR_P_PREFERRED_IDENTITY, "P-Preferred-Identity", 0, HF_LIST),
    H(SIP_HDR_P_ASSOCIATED_URI, "P-Associated-URI", 0, HF_LIST),
    H(SIP_HDR_P_VISITED_NETWORK_ID, "P-Visited-Network-ID", 0, 0),
    H(SIP_HDR_P_CHARGING_VECTOR, "P-Charging-Vector", 0, 0),
};
#undef H

const char *sip_hdr_name(enum sip_hdr_type t)
{
	return (unsigned)t < SIP_HDR__COUNT ? hdr_defs[t].name : "";
}

/* Compact forms, by lower-case letter. */
static uint8_t compact_type[26];
/* Full names, chained by (length, lower-case first letter) so that a lookup
 * compares against one or two candidates. Built before main() by a
 * constructor, so worker threads only ever read it; the entry points still
 * check hindex_ready for programs that parse from another constructor. */
#define HBUCKETS 64
static uint8_t hbucket[HBUCKETS];
static uint8_t hchain[SIP_HDR__COUNT];
static int hindex_ready;

static unsigned hbucket_of(size_t len, char c0)
{
	return ((unsigned)len * 7u + (unsigned)(c0 | 0x20)) & (HBUCKETS - 1);
}

__attribute__((constructor)) static void hdr_index_init(void)
{
	if (hindex_ready)
		return;
	uint8_t b[HBUCKETS] = {0}, ch[SIP_HDR__COUNT] = {0}, ct[26] = {0};
	for (unsigned t = SIP_HDR__COUNT - 1; t > 0; t--) {
		unsigned k = hbucket_of(hdr_defs[t].len, hdr_defs[t].name[0]);
		ch[t] = b[k];
		b[k] = (uint8_t)t;
		if (hdr_defs[t].compact)
			ct[hdr_defs[t].compact - 'a'] = (uint8_t)t;
	}
	memcpy(hbucket, b, sizeof(b));
	memcpy(hchain, ch, sizeof(ch));
	memcpy(compact_type, ct, sizeof(ct));
	hindex_ready = 1;
}

enum sip_hdr_type sip_hdr_lookup(const char *name, size_t len)
{
	hdr_index_init();
	if (len == 1) {
		unsigned c = (unsigned char)name[0] | 0x20;
		return c >= 'a' && c <= 'z' ? (enum sip_hdr_type)compact_type[c - 'a']
		                            : SIP_HDR_OTHER;
	}
	if (len == 0 || len > 255)
		return SIP_HDR_OTHER;
	for (unsigned t = hbucket[hbucket_of(len, name[0])]; t; t = hchain[t])
		if (hdr_defs[t].len == len && sip_ci_eq(hdr_defs[t].name, name, len))
			return (enum sip_hdr_type)t;
	return SIP_HDR_OTHER;
}

enum sip_method sip_method_lookup(const char *p, size_t len)
{
	static const struct {
		const char *name;
		size_t len;
		enum sip_method m;
	} tab[] = {
	    {"INVITE", 6, SIP_METHOD_INVITE},
	    {"ACK", 3, SIP_METHOD_ACK},
	    {"BYE", 3, SIP_METHOD_BYE},
	    {"CANCEL", 6, SIP_METHOD_CANCEL},
	    {"REGISTER", 8, SIP_METHOD_REGISTER},
	    {"OPTIONS", 7, SIP_METHOD_OPTIONS},
	    {"MESSAGE", 7, SIP_METHOD_MESSAGE},
	    {"INFO", 4, SIP_METHOD_INFO},
	    {"PRACK", 5, SIP_METHOD_PRACK},
	    {"UPDATE", 6, SIP_METHOD_UPDATE},
	    {"SUBSCRIBE", 9, SIP_METHOD_SUBSCRIBE},
	    {"NOTIFY", 6, SIP_METHOD_NOTIFY},
	    {"REFER", 5, SIP_METHOD_REFER},
	    {"PUBLISH", 7, SIP_METHOD_PUBLISH},
	};
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (tab[i].len == len && memcmp(tab[i].name, p, len) == 0)
			return tab[i].m;
	return SIP_METHOD_OTHER;
}

/* Parses 1*DIGIT (leading zeros allowed) up to max; false if not digits or
 * larger than max. */
static bool parse_uint(struct sip_str v, uint64_t max, uint64_t *out)
{
	if (!v.p || v.len == 0)
		return false;
	uint64_t n = 0;
	for (size_t i = 0; i < v.len; i++) {
		unsigned char c = (unsigned char)v.p[i];
		if (c < '0' || c > '9')
			return false;
		n = n * 10 + (c - '0');
		if (n > max)
			return false;
	}
	*out = n;
	return true;
}

/* ---- values ---- */

static const char *skip_token(const char *p, const char *end)
{
	while (p < end && sip_is((unsigned char)*p, SIP_C_TOKEN))
		p++;
	return p;
}

/* host (name, IPv4 or [IPv6]) [SWS ":" SWS port] of a Via sent-by. */
static const char *via_sent_by(const char *p, const char *end, struct sip_via *via)
{
	const char *h0 = p;
	if (p < end && *p == '[') {
		const char *rb = memchr(p, ']', (size_t)(end - p));
		if (!rb || rb - p < 3)
			return NULL;
		for (const char *q = p + 1; q < rb; q++)
			if (!(sip_is((unsigned char)*q, SIP_C_HEX) || *q == ':' || *q == '.'))
				return NULL;
		via->host.p = p + 1;
		via->host.len = (size_t)(rb - p - 1);
		p = rb + 1;
	} else {
		while (p < end && sip_is((unsigned char)*p, SIP_C_HOST))
			p++;
		if (p == h0)
			return NULL;
		via->host.p = h0;
		via->host.len = (size_t)(p - h0);
	}
	const char *q = sip_skip_lws(p, end);
	if (q < end && *q == ':') {
		q = sip_skip_lws(q + 1, end);
		const char *d0 = q;
		while (q < end && *q >= '0' && *q <= '9')
			q++;
		uint64_t port;
		struct sip_str ds = {d0, (size_t)(q - d0)};
		if (!parse_uint(ds, 65535, &port))
			return NULL;
		via->has_port = true;
		via->port = (uint16_t)port;
		p = q;
	}
	return p;
}

int sip_via_parse(struct sip_str v, struct sip_via *via)
{
	memset(via, 0, sizeof(*via));
	const char *p = v.p, *end = v.p ? v.p + v.len : NULL, *t;
	if (!p)
		return SIP_E_HEADER;
	struct sip_str *parts[3] = {&via->proto_name, &via->proto_version, &via->transport};
	for (int i = 0; i < 3; i++) {
		p = sip_skip_lws(p, end);
		if (i > 0) {
			if (p == end || *p != '/')
				return SIP_E_HEADER;
			p = sip_skip_lws(p + 1, end);
		}
		t = skip_token(p, end);
		if (t == p)
			return SIP_E_HEADER;
		parts[i]->p = p;
		parts[i]->len = (size_t)(t - p);
		p = t;
	}
	const char *q = sip_skip_lws(p, end);
	if (q == p)
		return SIP_E_HEADER; /* LWS before sent-by is required */
	p = via_sent_by(q, end, via);
	if (!p)
		return SIP_E_HEADER;
	via->params.p = p;
	via->params.len = (size_t)(end - p);
	struct sip_str rest = via->params, n, val;
	int rc;
	while ((rc = sip_param_next(&rest, true, &n, &val)) == 1) {
		if (sip_str_eq_ci(n, "branch")) {
			if (!val.p)
				return SIP_E_HEADER;
			via->branch = val;
		} else if (sip_str_eq_ci(n, "received")) {
			if (!val.p)
				return SIP_E_HEADER;
			via->received = val;
		} else if (sip_str_eq_ci(n, "maddr")) {
			via->maddr = val;
		} else if (sip_str_eq_ci(n, "rport")) {
			via->has_rport = true;
			if (val.p) {
				uint64_t port;
				if (!parse_uint(val, 65535, &port))
					return SIP_E_HEADER;
				via->rport_has_value = true;
				via->rport = (uint16_t)port;
			}
		}
	}
	return rc == 0 ? 0 : SIP_E_HEADER;
}

int sip_nameaddr_parse(struct sip_str v, bool allow_star, struct sip_nameaddr *na)
{
	memset(na, 0, sizeof(*na));
	const char *p = v.p, *end = v.p ? v.p + v.len : NULL;
	if (!p)
		return SIP_E_HEADER;
	p = sip_skip_lws(p, end);
	if (p == end)
		return SIP_E_HEADER;
	if (*p == '*') {
		if (!allow_star || sip_skip_lws(p + 1, end) != end)
			return SIP_E_HEADER;
		na->star = true;
		return 0;
	}
	bool angle = false;
	if (*p == '"') {
		const char *q = sip_skip_quoted(p, end);
		if (!q)
			return SIP_E_HEADER;
		na->display.p = p + 1;
		na->display.len = (size_t)(q - p - 2);
		na->display_quoted = true;
		p = sip_skip_lws(q, end);
		if (p == end || *p != '<')
			return SIP_E_HEADER;
		angle = true;
	} else {
		/* *(token LWS) "<" is a display name; otherwise an addr-spec. */
		const char *q = p, *last = p;
		for (;;) {
			const char *t = skip_token(q, end);
			if (t == q)
				break;
			last = t;
			q = sip_skip_lws(t, end);
		}
		if (q < end && *q == '<') {
			if (last > p) {
				na->display.p = p;
				na->display.len = (size_t)(last - p);
			}
			p = q;
			angle = true;
		}
	}
	if (angle) {
		const char *gt = memchr(p, '>', (size_t)(end - p));
		if (!gt || gt == p + 1)
			return SIP_E_HEADER;
		na->uri.p = p + 1;
		na->uri.len = (size_t)(gt - p - 1);
		p = gt + 1;
	} else {
		const char *u0 = p;
		while (p < end && *p != ';' && *p != ' ' && *p != '\t' && *p != '\r' &&
		       *p != '\n') {
			/* RFC 3261 20.10: a URI with ',', '?' or ';' must be in <>. */
			if (*p == ',' || *p == '?' || *p == '<' || *p == '>' || *p == '"')
				return SIP_E_HEADER;
			p++;
		}
		na->uri.p = u0;
		na->uri.len = (size_t)(p - u0);
	}
	/* The URI needs at least scheme ":" something. */
	const char *s = na->uri.p, *ue = na->uri.p + na->uri.len;
	if (s == ue || !(((*s | 0x20) >= 'a') && ((*s | 0x20) <= 'z')))
		return SIP_E_HEADER;
	while (s < ue && sip_is((unsigned char)*s, SIP_C_SCHEME))
		s++;
	if (s == ue || *s != ':' || s + 1 == ue)
		return SIP_E_HEADER;

	p = sip_skip_lws(p, end);
	na->params.p = p;
	na->params.len = (size_t)(end - p);
	struct sip_str rest = na->params, n, val;
	int rc;
	while ((rc = sip_param_next(&rest, true, &n, &val)) == 1) {
		if (sip_str_eq_ci(n, "tag")) {
			if (!val.p || *val.p == '"')
				return SIP_E_HEADER;
			na->tag = val;
		} else if (sip_str_eq_ci(n, "expires")) {
			uint64_t e;
			if (!parse_uint(val, UINT64_MAX / 10, &e))
				return SIP_E_HEADER;
			na->has_expires = true;
			na->expires = e > UINT32_MAX ? UINT32_MAX : (uint32_t)e;
		} else if (sip_str_eq_ci(n, "q")) {
			if (!val.p)
				return SIP_E_HEADER;
			na->q = val;
		}
	}
	return rc == 0 ? 0 : SIP_E_HEADER;
}

int sip_cseq_parse(struct sip_str v, struct sip_cseq *c)
{
	memset(c, 0, sizeof(*c));
	const char *p = v.p, *end = v.p ? v.p + v.len : NULL;
	if (!p)
		return SIP_E_HEADER;
	const char *d0 = p;
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	uint64_t n;
	struct sip_str ds = {d0, (size_t)(p - d0)};
	/* RFC 3261 8.1.1.5: less than 2**31. */
	if (!parse_uint(ds, 0x7fffffff, &n))
		return SIP_E_HEADER;
	const char *q = sip_skip_lws(p, end);
	if (q == p)
		return SIP_E_HEADER;
	const char *t = skip_token(q, end);
	if (t == q || t != end)
		return SIP_E_HEADER;
	c->number = (uint32_t)n;
	c->method.p = q;
	c->method.len = (size_t)(t - q);
	return 0;
}

int sip_auth_parse(struct sip_str v, struct sip_auth *a)
{
	memset(a, 0, sizeof(*a));
	const char *p = v.p, *end = v.p ? v.p + v.len : NULL;
	if (!p)
		return SIP_E_HEADER;
	p = sip_skip_lws(p, end);
	const char *t = skip_token(p, end);
	if (t == p)
		return SIP_E_HEADER;
	a->scheme.p = p;
	a->scheme.len = (size_t)(t - p);
	const char *q = sip_skip_lws(t, end);
	if (q < end && q == t)
		return SIP_E_HEADER; /* scheme and params are separated by LWS */
	a->params.p = q;
	a->params.len = (size_t)(end - q);
	return 0;
}

int sip_auth_param_next(struct sip_str *rest, struct sip_str *name, struct sip_str *value)
{
	const char *p = rest->p, *end = rest->p ? rest->p + rest->len : NULL;
	if (!p)
		return 0;
	p = sip_skip_lws(p, end);
	if (p == end) {
		rest->p = end;
		rest->len = 0;
		return 0;
	}
	if (*p == ',')
		p = sip_skip_lws(p + 1, end);
	const char *t = skip_token(p, end);
	if (t == p)
		return SIP_E_HEADER;
	name->p = p;
	name->len = (size_t)(t - p);
	p = sip_skip_lws(t, end);
	if (p == end || *p != '=')
		return SIP_E_HEADER;
	p = sip_skip_lws(p + 1, end);
	const char *v0 = p;
	if (p < end && *p == '"') {
		p = sip_skip_quoted(p, end);
		if (!p)
			return SIP_E_HEADER;
	} else {
		/* token, or the few non-token octets servers put in nonces. */
		while (p < end && (sip_is((unsigned char)*p, SIP_C_TOKEN) || *p == '/' ||
		                   *p == '=' || *p == ':'))
			p++;
		if (p == v0)
			return SIP_E_HEADER;
	}
	value->p = v0;
	value->len = (size_t)(p - v0);
	p = sip_skip_lws(p, end);
	if (p < end && *p != ',')
		return SIP_E_HEADER;
	rest->p = p;
	rest->len = (size_t)(end - p);
	return 1;
}

int sip_auth_param_get(const struct sip_auth *a, const char *name, struct sip_str *value)
{
	struct sip_str rest = a->params, n, v;
	int rc;
	while ((rc = sip_auth_param_next(&rest, &n, &v)) == 1) {
		if (sip_str_eq_ci(n, name)) {
			*value = v;
			return 1;
		}
	}
	return rc;
}

int sip_unquote(struct sip_str v, char *out, size_t cap)
{
	const char *p = v.p, *end = v.p ? v.p + v.len : NULL;
	size_t n = 0;
	if (!p)
		return 0;
	bool quoted = v.len >= 1 && *p == '"';
	if (quoted) {
		if (v.len < 2 || end[-1] != '"' || sip_skip_quoted(p, end) != end)
			return SIP_E_HEADER;
		p++;
		end--;
	}
	for (; p < end; p++) {
		if (quoted && *p == '\\')
			p++; /* sip_skip_quoted() made sure an octet follows */
		if (n >= cap)
			return SIP_E_NOSPC;
		out[n++] = *p;
	}
	return (int)n;
}

/* ---- iteration ---- */

const struct sip_hdr *sip_msg_header_first(const struct sip_msg *m, enum sip_hdr_type t)
{
	if ((unsigned)t >= SIP_HDR__COUNT || m->first[t] < 0)
		return NULL;
	return &m->hdrs[m->first[t]];
}

const struct sip_hdr *sip_msg_header_next(const struct sip_msg *m, const struct sip_hdr *h)
{
	return h->next < 0 ? NULL : &m->hdrs[h->next];
}

unsigned sip_msg_header_count(const struct sip_msg *m, enum sip_hdr_type t)
{
	unsigned n = 0;
	for (const struct sip_hdr *h = sip_msg_header_first(m, t); h; h = sip_msg_header_next(m, h))
		n++;
	return n;
}

const struct sip_hdr *sip_msg_header_by_name(const struct sip_msg *m, const char *name)
{
	size_t len = strlen(name);
	for (unsigned i = 0; i < m->n_hdrs; i++)
		if (m->hdrs[i].name.len == len && strncasecmp(m->hdrs[i].name.p, name, len) == 0)
			return &m->hdrs[i];
	return NULL;
}

void sip_hdr_iter_init(struct sip_hdr_iter *it, const struct sip_msg *m, enum sip_hdr_type t)
{
	it->m = m;
	it->idx = (unsigned)t < SIP_HDR__COUNT ? m->first[t] : -1;
	it->pos = it->end = NULL;
	it->list = (unsigned)t < SIP_HDR__COUNT && (hdr_defs[t].flags & HF_LIST);
}

int sip_hdr_iter_next(struct sip_hdr_iter *it, struct sip_str *v)
{
	while (!it->pos) {
		if (it->idx < 0)
			return 0;
		const struct sip_hdr *h = &it->m->hdrs[it->idx];
		it->idx = h->next;
		if (!it->list) {
			*v = h->value;
			return 1;
		}
		if (h->value.len == 0)
			continue; /* "Supported:" with no option tag */
		it->pos = h->value.p;
		it->end = h->value.p + h->value.len;
	}
	const char *p = it->pos, *end = it->end;
	int angle = 0;
	while (p < end) {
		if (*p == '"') {
			const char *q = sip_skip_quoted(p, end);
			if (!q)
				return SIP_E_HEADER;
			p = q;
			continue;
		}
		if (*p == '<')
			angle = 1;
		else if (*p == '>')
			angle = 0;
		else if (*p == ',' && !angle)
			break;
		p++;
	}
	if (angle)
		return SIP_E_HEADER;
	const char *s = sip_skip_lws(it->pos, p), *e = sip_trim_lws_end(s, p);
	if (s == e)
		return SIP_E_HEADER; /* empty list element */
	v->p = s;
	v->len = (size_t)(e - s);
	it->pos = p < end ? p + 1 : NULL;
	return 1;
}

/* ---- the message ---- */

/* Records the first failure only. */
static void fail(struct sip_msg *m, int *err, int code, int hdr, const char *text)
{
	if (*err)
		return;
	*err = code;
	m->err_hdr = hdr;
	m->err_text = text;
}

/* Finds the end of the logical line starting at p (folded continuation
 * lines included). *next is where the following line starts. Returns the
 * end of the content, before CRLF. */
static const char *line_end(const char *p, const char *end, const char **next)
{
	for (;;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl) {
			*next = end;
			return end;
		}
		if (nl + 1 < end && (nl[1] == ' ' || nl[1] == '\t')) {
			p = nl + 1;
			continue;
		}
		*next = nl + 1;
		return nl > p && nl[-1] == '\r' ? nl - 1 : nl;
	}
}

static int parse_start_line(struct sip_msg *m, const char *p, const char *le, int *err)
{
	if (le - p >= 4 && strncasecmp(p, "SIP/", 4) == 0) {
		m->is_request = false;
		/* "SIP/2.0" SP 3DIGIT SP reason (the reason may be empty). */
		if (le - p < 11 || strncasecmp(p, "SIP/2.0 ", 8) != 0)
			return SIP_E_STATUS_LINE;
		const char *c = p + 8;
		if (!(c[0] >= '1' && c[0] <= '6' && c[1] >= '0' && c[1] <= '9' && c[2] >= '0' &&
		      c[2] <= '9'))
			return SIP_E_STATUS_LINE;
		m->status = (c[0] - '0') * 100 + (c[1] - '0') * 10 + (c[2] - '0');
		c += 3;
		if (c < le && *c != ' ')
			return SIP_E_STATUS_LINE; /* 4294967301 */
		if (c < le)
			c++;
		m->reason.p = c;
		m->reason.len = (size_t)(le - c);
		return 0;
	}
	/* Method SP Request-URI SP SIP-Version */
	const char *t = skip_token(p, le);
	if (t == p || t == le || *t != ' ')
		return SIP_E_NOT_SIP;
	const char *sp = le;
	while (sp > t && sp[-1] != ' ')
		sp--;
	const char *ver = sp;
	if (le - ver < 4 || strncasecmp(ver, "SIP/", 4) != 0)
		return SIP_E_NOT_SIP;
	m->is_request = true;
	m->method.p = p;
	m->method.len = (size_t)(t - p);
	m->method_id = sip_method_lookup(p, m->method.len);
	const char *u0 = t + 1, *u1 = sp - 1;
	m->ruri_str.p = u0;
	m->ruri_str.len = u1 > u0 ? (size_t)(u1 - u0) : 0;
	if (u1 <= u0 || memchr(u0, ' ', (size_t)(u1 - u0)) || memchr(u0, '\t', (size_t)(u1 - u0))) {
		fail(m, err, SIP_E_REQUEST_LINE, -1, "bad spacing in the request line");
		return 0;
	}
	if (le - ver != 7 || strncasecmp(ver, "SIP/2.0", 7) != 0) {
		fail(m, err, SIP_E_VERSION, -1, "SIP version not supported");
		return 0;
	}
	if (sip_uri_parse(u0, (size_t)(u1 - u0), &m->ruri) < 0) {
		fail(m, err, SIP_E_REQUEST_LINE, -1, "bad Request-URI");
		return 0;
	}
	/* RFC 3261 19.1.1: headers are not allowed in a Request-URI (RFC 4475
	 * 3.1.2.11 escruri). */
	if (m->ruri.headers.p) {
		fail(m, err, SIP_E_REQUEST_LINE, -1, "headers in the Request-URI");
		return 0;
	}
	return 0;
}

static bool call_id_ok(struct sip_str v)
{
	const char *p = v.p, *end = v.p ? v.p + v.len : NULL;
	const char *at = memchr(p, '@', v.len);
	const char *we = at ? at : end;
	if (we == p)
		return false;
	for (; p < we; p++)
		if (!sip_is((unsigned char)*p, SIP_C_WORD))
			return false;
	if (at) {
		if (at + 1 == end)
			return false;
		for (p = at + 1; p < end; p++)
			if (!sip_is((unsigned char)*p, SIP_C_WORD))
				return false;
	}
	return true;
}

/* Parses the header fields every message needs; records the first error. */
static void parse_known(struct sip_msg *m, int *err)
{
	int i;
	if ((i = m->first[SIP_HDR_VIA]) >= 0) {
		struct sip_hdr_iter it;
		struct sip_str v;
		sip_hdr_iter_init(&it, m, SIP_HDR_VIA);
		if (sip_hdr_iter_next(&it, &v) != 1 || sip_via_parse(v, &m->via) < 0)
			fail(m, err, SIP_E_HEADER, i, "bad Via");
	}
	if ((i = m->first[SIP_HDR_FROM]) >= 0 &&
	    sip_nameaddr_parse(m->hdrs[i].value, false, &m->from) < 0)
		fail(m, err, SIP_E_HEADER, i, "bad From");
	if ((i = m->first[SIP_HDR_TO]) >= 0 &&
	    sip_nameaddr_parse(m->hdrs[i].value, false, &m->to) < 0)
		fail(m, err, SIP_E_HEADER, i, "bad To");
	if ((i = m->first[SIP_HDR_CALL_ID]) >= 0) {
		m->call_id = m->hdrs[i].value;
		if (!call_id_ok(m->call_id))
			fail(m, err, SIP_E_HEADER, i, "bad Call-ID");
	}
	if ((i = m->first[SIP_HDR_CSEQ]) >= 0) {
		if (sip_cseq_parse(m->hdrs[i].value, &m->cseq) < 0)
			fail(m, err, SIP_E_HEADER, i, "bad CSeq");
		else if (m->is_request &&
		         (m->cseq.method.len != m->method.len ||
		          memcmp(m->cseq.method.p, m->method.p, m->method.len) != 0))
			fail(m, err, SIP_E_CSEQ_METHOD, i, "CSeq method does not match");
	}
	uint64_t n;
	if ((i = m->first[SIP_HDR_MAX_FORWARDS]) >= 0) {
		if (!parse_uint(m->hdrs[i].value, 255, &n))
			fail(m, err, SIP_E_HEADER, i, "bad Max-Forwards");
		else
			m->max_forwards = (int)n;
	}
	if ((i = m->first[SIP_HDR_EXPIRES]) >= 0) {
		/* delta-seconds: RFC 3261 says treat a larger value as 2**32-1. */
		if (!parse_uint(m->hdrs[i].value, UINT64_MAX / 10, &n))
			fail(m, err, SIP_E_HEADER, i, "bad Expires");
		else
			m->expires = n > UINT32_MAX ? UINT32_MAX : (int64_t)n;
	}
	if ((i = m->first[SIP_HDR_CONTENT_LENGTH]) >= 0) {
		if (!parse_uint(m->hdrs[i].value, INT32_MAX, &n))
			fail(m, err, SIP_E_CONTENT_LENGTH, i, "bad Content-Length");
		else
			m->content_length = (int64_t)n;
	}
	if (m->first[SIP_HDR_CONTACT] >= 0) {
		struct sip_hdr_iter it;
		struct sip_str v;
		struct sip_nameaddr na;
		int rc, count = 0;
		bool star = false;
		sip_hdr_iter_init(&it, m, SIP_HDR_CONTACT);
		while ((rc = sip_hdr_iter_next(&it, &v)) == 1) {
			count++;
			if (sip_nameaddr_parse(v, true, &na) < 0) {
				rc = -1;
				break;
			}
			star |= na.star;
		}
		/* '*' only alone (RFC 3261 10.2.2). */
		if (rc < 0 || (star && count > 1))
			fail(m, err, SIP_E_HEADER, m->first[SIP_HDR_CONTACT], "bad Contact");
	}
}

int sip_msg_parse(struct sip_msg *m, const char *buf, size_t len, enum sip_transport_kind kind)
{
	hdr_index_init();
	m->buf = buf;
	m->len = 0;
	m->is_request = false;
	m->method.p = m->ruri_str.p = m->reason.p = NULL;
	m->method.len = m->ruri_str.len = m->reason.len = 0;
	m->method_id = SIP_METHOD_OTHER;
	memset(&m->ruri, 0, sizeof(m->ruri));
	m->status = 0;
	m->n_hdrs = 0;
	memset(m->first, -1, sizeof(m->first));
	memset(m->last, -1, sizeof(m->last));
	memset(&m->via, 0, sizeof(m->via));
	memset(&m->from, 0, sizeof(m->from));
	memset(&m->to, 0, sizeof(m->to));
	m->call_id.p = NULL;
	m->call_id.len = 0;
	memset(&m->cseq, 0, sizeof(m->cseq));
	m->max_forwards = -1;
	m->expires = -1;
	m->content_length = -1;
	m->body.p = NULL;
	m->body.len = 0;
	m->err_hdr = -1;
	m->err_text = NULL;
	int err = 0;

	if (!buf) {
		m->err_text = "empty";
		return SIP_E_NOT_SIP;
	}
	const char *p = buf, *end = buf + len;
	while (p < end && (*p == '\r' || *p == '\n'))
		p++;
	m->buf = p;
	const char *next;
	const char *le = memchr(p, '\n', (size_t)(end - p));
	if (!le) {
		m->err_text = "no start line";
		return SIP_E_NOT_SIP;
	}
	next = le + 1;
	if (le > p && le[-1] == '\r')
		le--;
	int rc = parse_start_line(m, p, le, &err);
	if (rc < 0) {
		m->err_text = sip_strerror(rc);
		return rc;
	}

	/* Header fields, up to the empty line. */
	p = next;
	bool terminated = false;
	while (p < end) {
		if (*p == '\n') {
			p++;
			terminated = true;
			break;
		}
		if (*p == '\r' && p + 1 < end && p[1] == '\n') {
			p += 2;
			terminated = true;
			break;
		}
		const char *n0 = p, *n1 = skip_token(p, end), *c = n1;
		while (c < end && (*c == ' ' || *c == '\t'))
			c++;
		const char *ve = line_end(p, end, &next);
		if (n1 == n0 || c >= ve || *c != ':') {
			fail(m, &err, SIP_E_HEADER, (int)m->n_hdrs,
			     "header line without a name and colon");
			p = next;
			continue;
		}
		if (m->n_hdrs == SIP_MSG_MAX_HDRS) {
			fail(m, &err, SIP_E_TOO_MANY_HEADERS, -1, "too many header fields");
			p = next;
			continue;
		}
		const char *vs = sip_skip_lws(c + 1, ve);
		ve = sip_trim_lws_end(vs, ve);
		unsigned idx = m->n_hdrs++;
		struct sip_hdr *h = &m->hdrs[idx];
		h->name.p = n0;
		h->name.len = (size_t)(n1 - n0);
		h->value.p = vs;
		h->value.len = (size_t)(ve - vs);
		enum sip_hdr_type t = sip_hdr_lookup(n0, h->name.len);
		h->type = (uint8_t)t;
		h->next = -1;
		if (m->first[t] < 0) {
			m->first[t] = (int8_t)idx;
		} else {
			if (hdr_defs[t].flags & HF_SINGLE)
				fail(m, &err, SIP_E_DUP_HEADER, (int)idx,
				     "single-value header repeated");
			m->hdrs[m->last[t]].next = (int8_t)idx;
		}
		m->last[t] = (int8_t)idx;
		p = next;
	}
	const char *body = p;

	parse_known(m, &err);
	static const uint8_t mandatory[] = {SIP_HDR_VIA, SIP_HDR_FROM, SIP_HDR_TO, SIP_HDR_CALL_ID,
	                                    SIP_HDR_CSEQ};
	for (size_t k = 0; k < sizeof(mandatory); k++)
		if (m->first[mandatory[k]] < 0)
			fail(m, &err, SIP_E_MISSING_HEADER, -1, "mandatory header field missing");
	if (!terminated)
		fail(m, &err, SIP_E_TRUNCATED, -1, "no empty line after the header fields");

	size_t avail = (size_t)(end - body);
	if (m->content_length >= 0) {
		if ((uint64_t)m->content_length > avail) {
			fail(m, &err, SIP_E_TRUNCATED, m->first[SIP_HDR_CONTENT_LENGTH],
			     "body shorter than Content-Length");
			m->body.p = body;
			m->body.len = avail;
		} else {
			m->body.p = body;
			m->body.len = (size_t)m->content_length;
		}
	} else if (kind == SIP_STREAM) {
		fail(m, &err, SIP_E_CONTENT_LENGTH, -1, "Content-Length required on a stream");
		m->body.p = body;
		m->body.len = 0;
	} else {
		m->body.p = body;
		m->body.len = avail;
	}
	m->len = (size_t)(m->body.p + m->body.len - m->buf);
	if (err && !m->err_text)
		m->err_text = sip_strerror(err);
	return err;
}

int sip_err_status(const struct sip_msg *m, int err)
{
	if (err == 0 || !m->is_request)
		return 0;
	switch (err) {
	case SIP_E_NOT_SIP:
	case SIP_E_STATUS_LINE:
	case SIP_E_TOO_LARGE:
		return 0;
	default:
		break;
	}
	/* A response needs these copied from the request (RFC 3261 8.2.6.2). */
	if (m->first[SIP_HDR_VIA] < 0 || m->first[SIP_HDR_FROM] < 0 || m->first[SIP_HDR_TO] < 0 ||
	    m->first[SIP_HDR_CALL_ID] < 0 || m->first[SIP_HDR_CSEQ] < 0)
		return 0;
	return err == SIP_E_VERSION ? 505 : 400;
}

int sip_stream_frame(const char *buf, size_t len, size_t max_hdr, size_t *skip, size_t *msg_len)
{
	hdr_index_init();
	size_t s = 0;
	while (s < len && (buf[s] == '\r' || buf[s] == '\n'))
		s++;
	*skip = s;
	*msg_len = 0;
	const char *p = buf + s, *end = buf + len;
	/* The start line first: it is no header field. */
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	if (!nl)
		return (size_t)(end - p) > max_hdr ? SIP_E_TOO_LARGE : 0;
	const char *q = nl + 1;
	int64_t cl = -1;
	for (;;) {
		if ((size_t)(q - p) > max_hdr)
			return SIP_E_TOO_LARGE;
		if (q < end && *q == '\n') {
			q++;
			break;
		}
		if (q + 1 < end && q[0] == '\r' && q[1] == '\n') {
			q += 2;
			break;
		}
		nl = memchr(q, '\n', (size_t)(end - q));
		/* A line is complete once the octet after its LF is known (a
		 * folded continuation starts with SP or HT). */
		if (!nl || nl + 1 >= end)
			return (size_t)(end - p) > max_hdr ? SIP_E_TOO_LARGE : 0;
		const char *next, *n1 = skip_token(q, end), *c = n1;
		const char *ve = line_end(q, end, &next);
		if (next == end && ve == end)
			return 0; /* continuation lines still arriving */
		while (c < ve && (*c == ' ' || *c == '\t'))
			c++;
		if (c < ve && *c == ':' &&
		    sip_hdr_lookup(q, (size_t)(n1 - q)) == SIP_HDR_CONTENT_LENGTH) {
			const char *vs = sip_skip_lws(c + 1, ve);
			struct sip_str v = {vs, (size_t)(sip_trim_lws_end(vs, ve) - vs)};
			uint64_t n;
			if (cl >= 0 || !parse_uint(v, INT32_MAX, &n))
				return SIP_E_CONTENT_LENGTH;
			cl = (int64_t)n;
		}
		q = next;
	}
	if (cl < 0)
		return SIP_E_CONTENT_LENGTH;
	*msg_len = (size_t)(q - p) + (size_t)cl;
	return (size_t)(end - p) >= *msg_len ? 1 : 0;
}
