#pragma once
/* SIP, SIPS and tel URIs (RFC 3261 section 19.1 and 25.1, RFC 3966), parsed
 * in place: every field is a slice of the caller's text, nothing is copied
 * and nothing is allocated. Escapes (%HH) are left as written; the caller
 * unescapes into its own buffer with sip_unescape() when it needs the octets.
 *
 * Also the few helpers the message parser shares with the URI parser: slices,
 * the character classes of RFC 3261 section 25.1 and the ";name=value"
 * parameter walker. No I/O, no logging, no global state. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A slice of the caller's buffer: not NUL-terminated, may contain NUL octets.
 * p is NULL (and len 0) for an absent field; an empty but present field has a
 * non-NULL p and len 0. */
struct sip_str {
	const char *p;
	size_t len;
};

/* Outcomes of the SIP parser functions, all negative; 0 is success. The
 * message parser's codes say what koryod does with the message: see
 * sip_err_status() in sip_msg.h. */
enum sip_err {
	SIP_OK = 0,
	SIP_E_NOT_SIP = -1,          /* start line is neither a request nor a status line: drop */
	SIP_E_STATUS_LINE = -2,      /* "SIP/2.0 ..." but the code or version is bad: drop */
	SIP_E_REQUEST_LINE = -3,     /* request line found, but its URI or spacing is bad: 400 */
	SIP_E_VERSION = -4,          /* request with a SIP version other than 2.0: 505 */
	SIP_E_HEADER = -5,           /* a header line or a header value is malformed: 400 */
	SIP_E_DUP_HEADER = -6,       /* a single-value header appears twice: 400 */
	SIP_E_MISSING_HEADER = -7,   /* Via, From, To, Call-ID or CSeq is missing: 400 */
	SIP_E_TOO_MANY_HEADERS = -8, /* more header fields than SIP_MSG_MAX_HDRS: 400 */
	SIP_E_CONTENT_LENGTH = -9,   /* Content-Length not a number, or absent on a stream: 400 */
	SIP_E_TRUNCATED = -10,       /* body shorter than Content-Length, or no empty line: 400 */
	SIP_E_CSEQ_METHOD = -11,     /* CSeq method differs from the request method: 400 */
	SIP_E_TOO_LARGE = -12,       /* stream: header block longer than allowed: close */
	SIP_E_URI = -13,             /* a URI is malformed */
	SIP_E_NOSPC = -14,           /* the caller's output buffer is too small */
	SIP_E_ESCAPE = -15,          /* a % not followed by two hex digits */
};

/* A short fixed text for logs ("bad Via", ...); never NULL. */
const char *sip_strerror(int err);

enum sip_uri_scheme {
	SIP_URI_SIP,
	SIP_URI_SIPS,
	SIP_URI_TEL,
	SIP_URI_OTHER, /* syntactically a URI (scheme ":" anything); only scheme and opaque set */
};

enum sip_host_type {
	SIP_HOST_NONE, /* tel: and other schemes */
	SIP_HOST_NAME,
	SIP_HOST_IPV4,
	SIP_HOST_IPV6, /* host holds the address without its brackets */
};

struct sip_uri {
	enum sip_uri_scheme scheme;
	struct sip_str scheme_str; /* as written, e.g. "SIP" */
	/* sip/sips: the user part, escapes kept (may contain ';' '?' and '%00').
	 * tel: the telephone-subscriber number, visual separators kept. */
	struct sip_str user;
	struct sip_str password;
	struct sip_str host;
	enum sip_host_type host_type;
	bool has_port;
	uint16_t port;
	/* Everything after the host[:port] (sip) or number (tel) up to '?' or the
	 * end, starting at the first ';' (so it is empty or begins with ';'). Walk
	 * it with sip_param_next(). */
	struct sip_str params;
	/* After '?' (sip/sips only), without the '?': "hname=hvalue&...". */
	struct sip_str headers;
	/* SIP_URI_OTHER: everything after "scheme:". */
	struct sip_str opaque;
	/* The URI parameters a proxy looks at, picked out of params (escapes
	 * kept). lr and user=phone are common enough to be flags. */
	struct sip_str transport, maddr, user_param, method, ttl;
	struct sip_str phone_context; /* tel: ;phone-context= */
	bool lr;
};

/* Parses the URI text [p, p+len) into *uri (all fields slices of p).
 * Returns 0, or SIP_E_URI if the text is not a URI: an empty or bad scheme,
 * a bad character in the user, password, host, port (> 65535), parameters or
 * headers, a bad escape, or anything after the URI. A scheme koryo does not
 * know parses as SIP_URI_OTHER with only scheme and opaque set. */
int sip_uri_parse(const char *p, size_t len, struct sip_uri *uri);

/* Compares two parsed URIs as RFC 3261 section 19.1.4 says: scheme, user and
 * password octet by octet after unescaping, host case-insensitively, port
 * present in both or neither, the user, ttl, method, maddr and transport
 * parameters present in both or neither, other parameters only where both
 * carry them (case-insensitively after unescaping), headers all equal.
 * tel: numbers compare with their visual separators removed, parameters as
 * for sip. SIP_URI_OTHER compares the whole text case-sensitively.
 * Returns true when they are equivalent. */
bool sip_uri_equal(const struct sip_uri *a, const struct sip_uri *b);

/* Copies [p, p+len) into out with every %HH replaced by its octet (%00
 * included: out is not a C string). Returns the number of octets written,
 * SIP_E_ESCAPE for a % without two hex digits, SIP_E_NOSPC if cap is too
 * small. Never writes past out[cap-1]. */
int sip_unescape(const char *p, size_t len, char *out, size_t cap);

/* tel: numbers and sip user parts with user=phone: copies the digits (and a
 * leading '+', and '*' '#' and hex digits for a local number) without the
 * visual separators "-.()" into out. Returns the length, SIP_E_URI if the
 * number has anything else or no digit, SIP_E_NOSPC if cap is too small. */
int sip_tel_number_normalize(const char *p, size_t len, char *out, size_t cap);

/* Walks a ";name[=value];name..." list as a URI or header field carries it.
 * *rest is the list still to read (empty, or starting at ';', LWS allowed
 * around ';' and '=' when lws is true). On 1 a parameter was read into *name
 * and *value (value.p NULL when there is no '=', quotes kept on a quoted
 * value) and *rest advanced past it; 0 means the list is done; SIP_E_HEADER
 * means a parameter is malformed (empty name, ";;", bad character). */
int sip_param_next(struct sip_str *rest, bool lws, struct sip_str *name, struct sip_str *value);

/* Looks up a parameter by name (case-insensitive) in such a list. Returns 1
 * and *value when found (value.p NULL for a parameter without '='), 0 when it
 * is not there, SIP_E_HEADER if the list is malformed before it is found. */
int sip_param_get(struct sip_str params, bool lws, const char *name, struct sip_str *value);

/* Case-insensitive comparison of a slice with a C string. */
bool sip_str_eq_ci(struct sip_str s, const char *c);

/* ---- internal to the parser (shared by sip_uri.c and sip_msg.c) ---- */

enum {
	SIP_C_TOKEN = 0x001,  /* token, RFC 3261 25.1 */
	SIP_C_UNRES = 0x002,  /* unreserved */
	SIP_C_USER = 0x004,   /* user-unreserved */
	SIP_C_PASS = 0x008,   /* password extras */
	SIP_C_PARAM = 0x010,  /* param-unreserved */
	SIP_C_HNV = 0x020,    /* hnv-unreserved */
	SIP_C_HEX = 0x040,    /* HEXDIG */
	SIP_C_HOST = 0x080,   /* alphanum - . */
	SIP_C_WORD = 0x100,   /* word (Call-ID) */
	SIP_C_SCHEME = 0x200, /* alphanum + - . */
};
extern const uint16_t sip_ctype[256];

static inline bool sip_is(unsigned char c, unsigned cls)
{
	return (sip_ctype[c] & cls) != 0;
}

/* Skips LWS (SP, HT, and a line end followed by SP or HT) from p towards end;
 * returns the first octet that is not LWS. */
static inline const char *sip_skip_lws(const char *p, const char *end)
{
	while (p < end) {
		if (*p == ' ' || *p == '\t') {
			p++;
		} else if (*p == '\r' && end - p >= 3 && p[1] == '\n' &&
		           (p[2] == ' ' || p[2] == '\t')) {
			p += 3;
		} else if (*p == '\n' && end - p >= 2 && (p[1] == ' ' || p[1] == '\t')) {
			p += 2;
		} else {
			break;
		}
	}
	return p;
}

/* Same backwards: the end of [start, end) with trailing LWS removed. */
static inline const char *sip_trim_lws_end(const char *start, const char *end)
{
	while (end > start &&
	       (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
		end--;
	return end;
}

/* p points at '"': returns the octet after the closing quote, or NULL if the
 * quoted string does not end before end. A backslash quotes the next octet. */
const char *sip_skip_quoted(const char *p, const char *end);

/* The value of a hex digit (the caller checked SIP_C_HEX). */
static inline int sip_hexval(unsigned char c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* ASCII case-insensitive equality of n octets (no locale, no library call:
 * the parser's hottest comparison). */
static inline unsigned char sip_lc(char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c | 0x20) : (unsigned char)c;
}

static inline bool sip_ci_eq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (sip_lc(a[i]) != sip_lc(b[i]))
			return false;
	return true;
}
