/*
 * SIP, SIPS and tel URI parsing and comparison (RFC 3261 19.1 and 25.1,
 * RFC 3966). Everything works on slices of the caller's text; see sip_uri.h.
 *
 * The grammar is checked octet by octet against the classes of RFC 3261
 * section 25.1 (sip_ctype below), so that a URI this file accepts is one the
 * ABNF accepts: a proxy may copy it into a message it sends without
 * re-checking it.
 */
#include "sip/sip_uri.h"

#include <string.h>
#include <strings.h>

/* Generated from the character sets of RFC 3261 section 25.1; bit names in
 * sip_uri.h (SIP_C_TOKEN, SIP_C_UNRES, ...). */
const uint16_t sip_ctype[256] = {
    0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
    0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
    0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x103, 0x100, 0x000, 0x03c, 0x101, 0x01c,
    0x103, 0x102, 0x102, 0x103, 0x33d, 0x00c, 0x383, 0x383, 0x134, 0x3c3, 0x3c3, 0x3c3, 0x3c3,
    0x3c3, 0x3c3, 0x3c3, 0x3c3, 0x3c3, 0x3c3, 0x130, 0x004, 0x100, 0x00c, 0x100, 0x124, 0x000,
    0x3c3, 0x3c3, 0x3c3, 0x3c3, 0x3c3, 0x3c3, 0x383, 0x383, 0x383, 0x383, 0x383, 0x383, 0x383,
    0x383, 0x383, 0x383, 0x383, 0x383, 0x383, 0x383, 0x383, 0x383, 0x383, 0x383, 0x383, 0x383,
    0x130, 0x100, 0x130, 0x000, 0x103, 0x101, 0x3c3, 0x3c3, 0x3c3, 0x3c3, 0x3c3, 0x3c3, 0x383,
    0x383, 0x383, 0x383, 0x383, 0x383, 0x383, 0x383, 0x383, 0x383, 0x383, 0x383, 0x383, 0x383,
    0x383, 0x383, 0x383, 0x383, 0x383, 0x383, 0x100, 0x000, 0x100, 0x103, 0x000, 0x000, 0x000,
    0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
    0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
    0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
    0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
    0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
    0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
    0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
    0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
    0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
    0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
};

const char *sip_strerror(int err)
{
	switch (err) {
	case SIP_OK:
		return "ok";
	case SIP_E_NOT_SIP:
		return "not a SIP start line";
	case SIP_E_STATUS_LINE:
		return "bad status line";
	case SIP_E_REQUEST_LINE:
		return "bad request line";
	case SIP_E_VERSION:
		return "SIP version not supported";
	case SIP_E_HEADER:
		return "bad header field";
	case SIP_E_DUP_HEADER:
		return "header field repeated";
	case SIP_E_MISSING_HEADER:
		return "mandatory header field missing";
	case SIP_E_TOO_MANY_HEADERS:
		return "too many header fields";
	case SIP_E_CONTENT_LENGTH:
		return "bad or missing Content-Length";
	case SIP_E_TRUNCATED:
		return "message truncated";
	case SIP_E_CSEQ_METHOD:
		return "CSeq method does not match the request";
	case SIP_E_TOO_LARGE:
		return "header block too large";
	case SIP_E_URI:
		return "bad URI";
	case SIP_E_NOSPC:
		return "output buffer too small";
	case SIP_E_ESCAPE:
		return "bad escape";
	}
	return "unknown error";
}

bool sip_str_eq_ci(struct sip_str s, const char *c)
{
	size_t i = 0;
	if (!s.p)
		return false;
	for (; i < s.len; i++)
		if (!c[i] || sip_lc(s.p[i]) != sip_lc(c[i]))
			return false;
	return c[i] == 0;
}

const char *sip_skip_quoted(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '"')
			return p + 1;
		if (*p == '\\' && ++p == end)
			return NULL;
	}
	return NULL;
}

/* Reads one octet of escaped text at *p, decoding %HH; advances *p. */
static unsigned char esc_octet(const char **p, const char *end)
{
	const unsigned char *u = (const unsigned char *)*p;
	if (u[0] == '%' && end - *p >= 3 && sip_is(u[1], SIP_C_HEX) && sip_is(u[2], SIP_C_HEX)) {
		*p += 3;
		return (unsigned char)(sip_hexval(u[1]) << 4 | sip_hexval(u[2]));
	}
	*p += 1;
	return u[0];
}

/* Octet equality of two escaped texts after unescaping, optionally ignoring
 * ASCII case. */
static bool esc_eq(struct sip_str a, struct sip_str b, bool ci)
{
	if (!a.p || !b.p)
		return a.p == b.p;
	const char *pa = a.p, *ea = a.p + a.len, *pb = b.p, *eb = b.p + b.len;
	while (pa < ea && pb < eb) {
		unsigned char ca = esc_octet(&pa, ea), cb = esc_octet(&pb, eb);
		if (ci) {
			if (ca >= 'A' && ca <= 'Z')
				ca |= 0x20;
			if (cb >= 'A' && cb <= 'Z')
				cb |= 0x20;
		}
		if (ca != cb)
			return false;
	}
	return pa == ea && pb == eb;
}

int sip_unescape(const char *p, size_t len, char *out, size_t cap)
{
	if (!p)
		return 0;
	const char *end = p + len;
	size_t n = 0;
	while (p < end) {
		if (*p == '%') {
			if (end - p < 3 || !sip_is((unsigned char)p[1], SIP_C_HEX) ||
			    !sip_is((unsigned char)p[2], SIP_C_HEX))
				return SIP_E_ESCAPE;
		}
		if (n >= cap)
			return SIP_E_NOSPC;
		out[n++] = (char)esc_octet(&p, end);
	}
	if (n > (size_t)INT32_MAX)
		return SIP_E_NOSPC;
	return (int)n;
}

/* Checks that [p, end) is made of octets of class cls and valid %HH escapes,
 * and is not empty unless allow_empty. */
static bool check_chars(const char *p, const char *end, unsigned cls, bool allow_empty)
{
	if (p == end)
		return allow_empty;
	for (; p < end; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '%') {
			if (end - p < 3 || !sip_is((unsigned char)p[1], SIP_C_HEX) ||
			    !sip_is((unsigned char)p[2], SIP_C_HEX))
				return false;
			p += 2;
		} else if (!sip_is(c, cls)) {
			return false;
		}
	}
	return true;
}

int sip_param_next(struct sip_str *rest, bool lws, struct sip_str *name, struct sip_str *value)
{
	const char *p = rest->p, *end = rest->p ? rest->p + rest->len : NULL;
	if (!p)
		return 0;
	if (lws)
		p = sip_skip_lws(p, end);
	if (p == end) {
		rest->p = end;
		rest->len = 0;
		return 0;
	}
	if (*p != ';')
		return SIP_E_HEADER;
	p++;
	if (lws)
		p = sip_skip_lws(p, end);
	/* Header parameters are tokens; URI parameters are paramchars. */
	unsigned ncls = lws ? SIP_C_TOKEN : SIP_C_PARAM | SIP_C_UNRES | SIP_C_TOKEN;
	const char *n0 = p;
	while (p < end && sip_is((unsigned char)*p, ncls))
		p++;
	if (p == n0)
		return SIP_E_HEADER;
	name->p = n0;
	name->len = (size_t)(p - n0);
	value->p = NULL;
	value->len = 0;
	const char *q = lws ? sip_skip_lws(p, end) : p;
	if (q < end && *q == '=') {
		q++;
		if (lws)
			q = sip_skip_lws(q, end);
		const char *v0 = q;
		if (lws && q < end && *q == '"') {
			q = sip_skip_quoted(q, end);
			if (!q)
				return SIP_E_HEADER;
		} else {
			/* gen-value = token / host / quoted-string: token plus the
			 * IPv6 reference octets. */
			while (q < end && (sip_is((unsigned char)*q, ncls) || *q == ':' ||
			                   *q == '[' || *q == ']'))
				q++;
			if (q == v0)
				return SIP_E_HEADER;
		}
		value->p = v0;
		value->len = (size_t)(q - v0);
		p = q;
	}
	rest->p = p;
	rest->len = (size_t)(end - p);
	return 1;
}

int sip_param_get(struct sip_str params, bool lws, const char *name, struct sip_str *value)
{
	struct sip_str n, v;
	int rc;
	while ((rc = sip_param_next(&params, lws, &n, &v)) == 1) {
		if (sip_str_eq_ci(n, name)) {
			*value = v;
			return 1;
		}
	}
	return rc;
}

/* Whether a URI parameter name, escapes decoded, is the given lower-case
 * name ("%6C%72" is "lr"). */
static bool pname_is(struct sip_str n, const char *want)
{
	struct sip_str w = {want, strlen(want)};
	return esc_eq(n, w, true);
}

/* Checks the ";name[=value]..." of a sip or tel URI and picks out the
 * parameters a proxy needs. */
static int uri_params(struct sip_uri *u, const char *p, const char *end)
{
	u->params.p = p;
	u->params.len = (size_t)(end - p);
	struct sip_str rest = u->params, n, v;
	int rc;
	while ((rc = sip_param_next(&rest, false, &n, &v)) == 1) {
		unsigned cls = SIP_C_PARAM | SIP_C_UNRES;
		if (!check_chars(n.p, n.p + n.len, cls, false) ||
		    (v.p && !check_chars(v.p, v.p + v.len, cls, false)))
			return SIP_E_URI;
		if (pname_is(n, "transport"))
			u->transport = v;
		else if (pname_is(n, "maddr"))
			u->maddr = v;
		else if (pname_is(n, "user"))
			u->user_param = v;
		else if (pname_is(n, "method"))
			u->method = v;
		else if (pname_is(n, "ttl"))
			u->ttl = v;
		else if (pname_is(n, "lr"))
			u->lr = true;
		else if (pname_is(n, "phone-context"))
			u->phone_context = v;
	}
	return rc == 0 ? 0 : SIP_E_URI;
}

/* hname "=" hvalue *( "&" hname "=" hvalue ) */
static bool check_headers(const char *p, const char *end)
{
	for (;;) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *seg_end = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(seg_end - p));
		if (!eq || !check_chars(p, eq, SIP_C_HNV | SIP_C_UNRES, false) ||
		    !check_chars(eq + 1, seg_end, SIP_C_HNV | SIP_C_UNRES, true))
			return false;
		if (!amp)
			return true;
		p = amp + 1;
	}
}

static bool is_ipv4(const char *p, const char *end)
{
	int parts = 0;
	while (p < end) {
		unsigned v = 0;
		int digits = 0;
		while (p < end && *p >= '0' && *p <= '9' && digits < 4) {
			v = v * 10 + (unsigned)(*p++ - '0');
			digits++;
		}
		if (digits == 0 || digits > 3 || v > 255)
			return false;
		parts++;
		if (p < end) {
			if (*p != '.' || parts == 4)
				return false;
			p++;
			if (p == end)
				return false;
		}
	}
	return parts == 4;
}

/* host [":" port] at p; returns the octet after it, or NULL. */
static const char *parse_hostport(struct sip_uri *u, const char *p, const char *end)
{
	const char *h0;
	if (p < end && *p == '[') {
		h0 = ++p;
		while (p < end && (sip_is((unsigned char)*p, SIP_C_HEX) || *p == ':' || *p == '.'))
			p++;
		if (p == end || *p != ']' || p - h0 < 2 || !memchr(h0, ':', (size_t)(p - h0)))
			return NULL;
		u->host.p = h0;
		u->host.len = (size_t)(p - h0);
		u->host_type = SIP_HOST_IPV6;
		p++;
	} else {
		h0 = p;
		bool digits_dots = true;
		while (p < end && sip_is((unsigned char)*p, SIP_C_HOST)) {
			if (!(*p == '.' || (*p >= '0' && *p <= '9')))
				digits_dots = false;
			p++;
		}
		if (p == h0 || *h0 == '-' || *h0 == '.' || p[-1] == '-')
			return NULL;
		u->host.p = h0;
		u->host.len = (size_t)(p - h0);
		if (digits_dots) {
			if (!is_ipv4(h0, p))
				return NULL;
			u->host_type = SIP_HOST_IPV4;
		} else {
			u->host_type = SIP_HOST_NAME;
		}
	}
	if (p < end && *p == ':') {
		p++;
		unsigned v = 0;
		const char *d0 = p;
		while (p < end && *p >= '0' && *p <= '9' && p - d0 < 6)
			v = v * 10 + (unsigned)(*p++ - '0');
		if (p == d0 || p - d0 > 5 || v > 65535)
			return NULL;
		u->has_port = true;
		u->port = (uint16_t)v;
	}
	return p;
}

static int parse_sip(struct sip_uri *u, const char *p, const char *end)
{
	const char *at = memchr(p, '@', (size_t)(end - p));
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		const char *uend = colon ? colon : at;
		if (!check_chars(p, uend, SIP_C_UNRES | SIP_C_USER, false))
			return SIP_E_URI;
		u->user.p = p;
		u->user.len = (size_t)(uend - p);
		if (colon) {
			if (!check_chars(colon + 1, at, SIP_C_UNRES | SIP_C_PASS, true))
				return SIP_E_URI;
			u->password.p = colon + 1;
			u->password.len = (size_t)(at - colon - 1);
		}
		p = at + 1;
	}
	p = parse_hostport(u, p, end);
	if (!p || p > end)
		return SIP_E_URI;
	const char *q = memchr(p, '?', (size_t)(end - p));
	const char *pend = q ? q : end;
	if (pend > p && *p != ';')
		return SIP_E_URI;
	if (uri_params(u, p, pend) < 0)
		return SIP_E_URI;
	if (q) {
		if (!check_headers(q + 1, end))
			return SIP_E_URI;
		u->headers.p = q + 1;
		u->headers.len = (size_t)(end - q - 1);
	}
	return 0;
}

static bool is_visual(char c)
{
	return c == '-' || c == '.' || c == '(' || c == ')';
}

int sip_tel_number_normalize(const char *p, size_t len, char *out, size_t cap)
{
	if (!p)
		return SIP_E_URI;
	const char *end = p + len;
	size_t n = 0;
	bool global = p < end && *p == '+', digit = false;
	if (global) {
		if (cap < 1)
			return SIP_E_NOSPC;
		out[n++] = '+';
		p++;
	}
	for (; p < end; p++) {
		char c = *p;
		if (is_visual(c))
			continue;
		bool ok =
		    (c >= '0' && c <= '9') ||
		    (!global && (sip_is((unsigned char)c, SIP_C_HEX) || c == '*' || c == '#'));
		if (!ok)
			return SIP_E_URI;
		digit = true;
		if (n >= cap)
			return SIP_E_NOSPC;
		out[n++] = c;
	}
	if (!digit)
		return SIP_E_URI;
	return (int)n;
}

/* telephone-subscriber number: global ("+" digits) or local (hex digits,
 * '*', '#'), visual separators anywhere, at least one digit. */
static bool tel_number_ok(const char *p, const char *end)
{
	bool global = p < end && *p == '+', digit = false;
	for (p += global; p < end; p++) {
		char c = *p;
		if (is_visual(c))
			continue;
		if (!((c >= '0' && c <= '9') ||
		      (!global && (sip_is((unsigned char)c, SIP_C_HEX) || c == '*' || c == '#'))))
			return false;
		digit = true;
	}
	return digit;
}

static int parse_tel(struct sip_uri *u, const char *p, const char *end)
{
	const char *semi = memchr(p, ';', (size_t)(end - p));
	const char *nend = semi ? semi : end;
	if (!tel_number_ok(p, nend))
		return SIP_E_URI;
	u->user.p = p;
	u->user.len = (size_t)(nend - p);
	return uri_params(u, nend, end);
}

int sip_uri_parse(const char *p, size_t len, struct sip_uri *u)
{
	memset(u, 0, sizeof(*u));
	const char *end = p + len, *s = p;
	if (!p || len == 0 || !((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z'))
		return SIP_E_URI;
	while (s < end && sip_is((unsigned char)*s, SIP_C_SCHEME))
		s++;
	if (s == end || *s != ':')
		return SIP_E_URI;
	u->scheme_str.p = p;
	u->scheme_str.len = (size_t)(s - p);
	const char *rest = s + 1;
	if (rest == end)
		return SIP_E_URI;
	if (sip_str_eq_ci(u->scheme_str, "sip")) {
		u->scheme = SIP_URI_SIP;
		return parse_sip(u, rest, end);
	}
	if (sip_str_eq_ci(u->scheme_str, "sips")) {
		u->scheme = SIP_URI_SIPS;
		return parse_sip(u, rest, end);
	}
	if (sip_str_eq_ci(u->scheme_str, "tel")) {
		u->scheme = SIP_URI_TEL;
		return parse_tel(u, rest, end);
	}
	/* absoluteURI: uric octets (reserved, unreserved, escaped). */
	for (const char *q = rest; q < end; q++) {
		const char *q0 = q;
		if (*q == '%')
			q = end - q >= 3 ? q + 2 : end;
		if (*q0 != '@' && !check_chars(q0, q + 1 <= end ? q + 1 : end,
		                               SIP_C_UNRES | SIP_C_USER | SIP_C_PARAM, false))
			return SIP_E_URI;
	}
	u->scheme = SIP_URI_OTHER;
	u->opaque.p = rest;
	u->opaque.len = (size_t)(end - rest);
	return 0;
}

/* Compares the parameter lists as 19.1.4 says. */
static bool params_equal(struct sip_str pa, struct sip_str pb)
{
	static const char *const must[] = {"user", "ttl", "method", "maddr", "transport"};
	struct sip_str ra = pa, na, va;
	while (sip_param_next(&ra, false, &na, &va) == 1) {
		struct sip_str rb = pb, nb, vb;
		bool found = false, match = false;
		/* A name written twice (which RFC 3261 forbids) matches if
		 * any of its values does. */
		while (sip_param_next(&rb, false, &nb, &vb) == 1) {
			if (esc_eq(na, nb, true)) {
				found = true;
				match |= esc_eq(va, vb, true);
			}
		}
		if (found && !match)
			return false;
		if (!found) {
			for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++)
				if (pname_is(na, must[i]))
					return false;
		}
	}
	/* A special parameter only b carries. */
	struct sip_str rb = pb, nb, vb;
	while (sip_param_next(&rb, false, &nb, &vb) == 1) {
		for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++) {
			if (!pname_is(nb, must[i]))
				continue;
			struct sip_str v;
			struct sip_str ra2 = pa, n2;
			bool found = false;
			while (sip_param_next(&ra2, false, &n2, &v) == 1)
				if (esc_eq(n2, nb, true))
					found = true;
			if (!found)
				return false;
		}
	}
	return true;
}

/* Each "name=value" of a's headers is in b (names case-insensitive, values
 * case-sensitive, escapes decoded), and they have as many. */
static bool headers_subset(struct sip_str a, struct sip_str b, size_t *count)
{
	*count = 0;
	if (!a.p)
		return true;
	const char *p = a.p, *end = a.p + a.len;
	while (p && p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *se = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(se - p));
		if (!eq)
			return false;
		struct sip_str n = {p, (size_t)(eq - p)}, v = {eq + 1, (size_t)(se - eq - 1)};
		bool found = false;
		if (!b.p)
			return false;
		const char *q = b.p, *bend = b.p + b.len;
		while (q && q < bend && !found) {
			const char *bamp = memchr(q, '&', (size_t)(bend - q));
			const char *bse = bamp ? bamp : bend;
			const char *beq = memchr(q, '=', (size_t)(bse - q));
			if (beq) {
				struct sip_str bn = {q, (size_t)(beq - q)};
				struct sip_str bv = {beq + 1, (size_t)(bse - beq - 1)};
				found = esc_eq(n, bn, true) && esc_eq(v, bv, false);
			}
			q = bamp ? bamp + 1 : bend;
		}
		if (!found)
			return false;
		(*count)++;
		p = amp ? amp + 1 : end;
	}
	return true;
}

/* tel numbers equal with visual separators skipped, hex digits in any case
 * (RFC 3966 section 4). */
static bool tel_eq(struct sip_str a, struct sip_str b)
{
	const char *pa = a.p, *ea = a.p + a.len, *pb = b.p, *eb = b.p + b.len;
	for (;;) {
		while (pa < ea && is_visual(*pa))
			pa++;
		while (pb < eb && is_visual(*pb))
			pb++;
		if (pa == ea || pb == eb)
			return pa == ea && pb == eb;
		if ((*pa | 0x20) != (*pb | 0x20))
			return false;
		pa++;
		pb++;
	}
}

bool sip_uri_equal(const struct sip_uri *a, const struct sip_uri *b)
{
	if (a->scheme != b->scheme)
		return false;
	if (a->scheme == SIP_URI_OTHER)
		return esc_eq(a->scheme_str, b->scheme_str, true) &&
		       a->opaque.len == b->opaque.len &&
		       memcmp(a->opaque.p, b->opaque.p, a->opaque.len) == 0;
	if (a->scheme == SIP_URI_TEL) {
		if (!tel_eq(a->user, b->user))
			return false;
		return params_equal(a->params, b->params) && params_equal(b->params, a->params);
	}
	if (!esc_eq(a->user, b->user, false) || !esc_eq(a->password, b->password, false))
		return false;
	if (a->host.len != b->host.len || strncasecmp(a->host.p, b->host.p, a->host.len) != 0)
		return false;
	if (a->has_port != b->has_port || a->port != b->port)
		return false;
	if (!params_equal(a->params, b->params))
		return false;
	size_t ca, cb;
	if (!headers_subset(a->headers, b->headers, &ca) ||
	    !headers_subset(b->headers, a->headers, &cb) || ca != cb)
		return false;
	return true;
}
