#pragma once
/* SIP message parser (RFC 3261 section 7 and 25, tested with the RFC 4475
 * torture messages). Zero-copy: a struct sip_msg holds slices of the
 * caller's receive buffer, which must outlive it and not move. Nothing is
 * allocated; the header array has a fixed capacity (SIP_MSG_MAX_HDRS) and a
 * message with more header fields is refused with SIP_E_TOO_MANY_HEADERS.
 *
 * sip_msg_parse() checks the start line, splits every header field (folded
 * lines, compact names, any case) and parses the fields every element needs:
 * the top Via, From, To, Call-ID, CSeq, Max-Forwards, Expires,
 * Content-Length, and every Contact value. Lists (Via, Contact, Route,
 * Record-Route, Path, ...) and the authentication headers are parsed when
 * asked for, with the functions below.
 *
 * What to do with a failure: sip_err_status() says whether to answer (400,
 * 505) or drop. docs/sip-parser.md has the details. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sip/sip_uri.h"

#define SIP_MSG_MAX_HDRS 64

/* Header fields koryo knows by name. SIP_HDR_OTHER is any other field. */
enum sip_hdr_type {
	SIP_HDR_OTHER = 0,
	SIP_HDR_VIA,
	SIP_HDR_FROM,
	SIP_HDR_TO,
	SIP_HDR_CALL_ID,
	SIP_HDR_CSEQ,
	SIP_HDR_CONTACT,
	SIP_HDR_MAX_FORWARDS,
	SIP_HDR_EXPIRES,
	SIP_HDR_MIN_EXPIRES,
	SIP_HDR_CONTENT_LENGTH,
	SIP_HDR_CONTENT_TYPE,
	SIP_HDR_CONTENT_ENCODING,
	SIP_HDR_CONTENT_DISPOSITION,
	SIP_HDR_ROUTE,
	SIP_HDR_RECORD_ROUTE,
	SIP_HDR_PATH,
	SIP_HDR_SERVICE_ROUTE,
	SIP_HDR_AUTHORIZATION,
	SIP_HDR_PROXY_AUTHORIZATION,
	SIP_HDR_WWW_AUTHENTICATE,
	SIP_HDR_PROXY_AUTHENTICATE,
	SIP_HDR_AUTHENTICATION_INFO,
	SIP_HDR_SUPPORTED,
	SIP_HDR_REQUIRE,
	SIP_HDR_PROXY_REQUIRE,
	SIP_HDR_UNSUPPORTED,
	SIP_HDR_ALLOW,
	SIP_HDR_ACCEPT,
	SIP_HDR_ACCEPT_ENCODING,
	SIP_HDR_ACCEPT_LANGUAGE,
	SIP_HDR_SUBJECT,
	SIP_HDR_REFER_TO,
	SIP_HDR_REFERRED_BY,
	SIP_HDR_EVENT,
	SIP_HDR_ALLOW_EVENTS,
	SIP_HDR_SESSION_EXPIRES,
	SIP_HDR_ACCEPT_CONTACT,
	SIP_HDR_REJECT_CONTACT,
	SIP_HDR_REQUEST_DISPOSITION,
	SIP_HDR_IDENTITY,
	SIP_HDR_IDENTITY_INFO,
	SIP_HDR_USER_AGENT,
	SIP_HDR_SERVER,
	SIP_HDR_WARNING,
	SIP_HDR_RETRY_AFTER,
	SIP_HDR_P_ACCESS_NETWORK_INFO,
	SIP_HDR_P_ASSERTED_IDENTITY,
	SIP_HDR_P_PREFERRED_IDENTITY,
	SIP_HDR_P_ASSOCIATED_URI,
	SIP_HDR_P_VISITED_NETWORK_ID,
	SIP_HDR_P_CHARGING_VECTOR,
	SIP_HDR__COUNT,
};

/* The canonical name of a header type ("Via", "Call-ID", ...); "" for OTHER. */
const char *sip_hdr_name(enum sip_hdr_type t);

/* The type of a header field name as written (full or compact form, any
 * case); SIP_HDR_OTHER when koryo does not know it. */
enum sip_hdr_type sip_hdr_lookup(const char *name, size_t len);

struct sip_hdr {
	struct sip_str name;  /* as written ("v", "ViA") */
	struct sip_str value; /* without the LWS around it; folds (CRLF SP) kept */
	uint8_t type;         /* enum sip_hdr_type */
	int8_t next;          /* index of the next field of the same type, or -1 */
};

enum sip_method {
	SIP_METHOD_OTHER = 0,
	SIP_METHOD_INVITE,
	SIP_METHOD_ACK,
	SIP_METHOD_BYE,
	SIP_METHOD_CANCEL,
	SIP_METHOD_REGISTER,
	SIP_METHOD_OPTIONS,
	SIP_METHOD_MESSAGE,
	SIP_METHOD_INFO,
	SIP_METHOD_PRACK,
	SIP_METHOD_UPDATE,
	SIP_METHOD_SUBSCRIBE,
	SIP_METHOD_NOTIFY,
	SIP_METHOD_REFER,
	SIP_METHOD_PUBLISH,
};

/* Via value (RFC 3261 20.42, RFC 3581 rport). */
struct sip_via {
	struct sip_str proto_name;    /* "SIP" */
	struct sip_str proto_version; /* "2.0" */
	struct sip_str transport;     /* "UDP", "TCP", "TLS", "SCTP", or any token */
	struct sip_str host;          /* IPv6 without brackets */
	bool has_port;
	uint16_t port;
	struct sip_str params; /* ";branch=...;rport" raw, for sip_param_get(.., true, ..) */
	struct sip_str branch; /* p NULL when absent */
	struct sip_str received;
	struct sip_str maddr;
	bool has_rport;       /* ";rport" present, with or without a value */
	bool rport_has_value; /* ";rport=5060" */
	uint16_t rport;
};

/* name-addr / addr-spec with its header parameters: From, To, Contact,
 * Route, Record-Route, Path, P-Asserted-Identity, Refer-To. */
struct sip_nameaddr {
	struct sip_str display; /* quotes removed, quoted-pairs kept; p NULL when none */
	bool display_quoted;
	struct sip_str uri;    /* the URI text, without < > */
	struct sip_str params; /* header parameters after the URI, from the first ';' */
	struct sip_str tag;    /* ;tag= (From/To) */
	bool star;             /* Contact: * */
	/* Contact: ;expires= and ;q= */
	bool has_expires;
	uint32_t expires;
	struct sip_str q;
};

struct sip_cseq {
	uint32_t number; /* < 2**31 */
	struct sip_str method;
};

/* Authorization, Proxy-Authorization, WWW-Authenticate, Proxy-Authenticate:
 * the scheme ("Digest") and its comma-separated auth-params. */
struct sip_auth {
	struct sip_str scheme;
	struct sip_str params; /* walk with sip_auth_param_next() */
};

enum sip_transport_kind {
	SIP_DGRAM,  /* UDP: no Content-Length means "the rest of the datagram" */
	SIP_STREAM, /* TCP/TLS: Content-Length required; the buffer is one framed message */
};

struct sip_msg {
	const char *buf; /* the message: start line to the end of the body */
	size_t len;      /* octets used; a datagram's trailing octets are not counted */
	bool is_request;
	/* request line */
	struct sip_str method;
	enum sip_method method_id;
	struct sip_str ruri_str;
	struct sip_uri ruri;
	/* status line */
	int status;
	struct sip_str reason; /* may be empty */

	struct sip_hdr hdrs[SIP_MSG_MAX_HDRS];
	unsigned n_hdrs;
	int8_t first[SIP_HDR__COUNT]; /* first field of each type, -1 if none */
	int8_t last[SIP_HDR__COUNT];

	/* Parsed on every successful parse (absent: p NULL / -1). */
	struct sip_via via; /* the top Via value */
	struct sip_nameaddr from, to;
	struct sip_str call_id;
	struct sip_cseq cseq;
	int max_forwards;       /* -1 when absent */
	int64_t expires;        /* -1 when absent */
	int64_t content_length; /* -1 when absent */
	struct sip_str body;

	/* On failure: the header field that failed (-1 if none) and a fixed text
	 * for logs and for a 400's reason phrase. */
	int err_hdr;
	const char *err_text;
};

/* Parses one message from buf (len octets): a UDP datagram (SIP_DGRAM) or a
 * message framed by sip_stream_frame() (SIP_STREAM). Leading CRLFs are
 * skipped. On 0 the message is valid as far as this parser checks. On
 * failure returns a negative enum sip_err; *m then holds what was parsed
 * (start line, header fields up to the failure) with err_hdr and err_text
 * set, so that a 400 can copy Via, From, To, Call-ID and CSeq. */
int sip_msg_parse(struct sip_msg *m, const char *buf, size_t len, enum sip_transport_kind kind);

/* What to do with a message sip_msg_parse() refused with err: the status
 * code to answer (400, or 505 for a version koryo does not speak), or 0 to
 * drop it silently (not SIP, a response, or a request without the header
 * fields a response needs). */
int sip_err_status(const struct sip_msg *m, int err);

/* Stream framing. Looks at the start of a TCP receive buffer and says how
 * much of it the next message takes: returns 1 and sets *skip (leading
 * CRLF keep-alives to discard) and *msg_len (the message after them) when
 * the whole message is in the buffer; 0 when more octets are needed (with
 * *msg_len the total if already known, else 0); SIP_E_CONTENT_LENGTH when
 * the header block has no usable Content-Length; SIP_E_TOO_LARGE when no
 * header block ends within max_hdr octets. */
int sip_stream_frame(const char *buf, size_t len, size_t max_hdr, size_t *skip, size_t *msg_len);

/* The first field of a type, or NULL. */
const struct sip_hdr *sip_msg_header_first(const struct sip_msg *m, enum sip_hdr_type t);
/* The next field of the same type after h, or NULL. */
const struct sip_hdr *sip_msg_header_next(const struct sip_msg *m, const struct sip_hdr *h);
/* Count of fields of a type. */
unsigned sip_msg_header_count(const struct sip_msg *m, enum sip_hdr_type t);
/* First field whose name matches (case-insensitive; for unknown headers). */
const struct sip_hdr *sip_msg_header_by_name(const struct sip_msg *m, const char *name);

/* Iterates the values of a header type over all its fields: for list
 * headers (Via, Contact, Route, Record-Route, Path, Supported, Allow, ...)
 * each comma-separated value (commas inside quotes and <> do not split),
 * for the others each field's whole value. */
struct sip_hdr_iter {
	const struct sip_msg *m;
	int idx;
	const char *pos, *end;
	bool list;
};
void sip_hdr_iter_init(struct sip_hdr_iter *it, const struct sip_msg *m, enum sip_hdr_type t);
/* Returns 1 with the next value (LWS trimmed) in *v, 0 at the end,
 * SIP_E_HEADER if a list value is empty (",,") or a quote or < is left open. */
int sip_hdr_iter_next(struct sip_hdr_iter *it, struct sip_str *v);

/* Parsers of single values, as the iterator returns them. Each returns 0 or
 * SIP_E_HEADER (the value is malformed). */
int sip_via_parse(struct sip_str v, struct sip_via *via);
/* Contact allows '*'; Route and the others do not. An addr-spec without <>
 * may not carry ',', '?' or ';' in its URI (RFC 3261 20.10). */
int sip_nameaddr_parse(struct sip_str v, bool allow_star, struct sip_nameaddr *na);
int sip_cseq_parse(struct sip_str v, struct sip_cseq *c);
int sip_auth_parse(struct sip_str v, struct sip_auth *a);

/* Walks the comma-separated auth-params: 1 with *name and *value (quotes
 * kept on a quoted value), 0 at the end, SIP_E_HEADER if malformed. */
int sip_auth_param_next(struct sip_str *rest, struct sip_str *name, struct sip_str *value);
/* Looks one up by name: 1 found, 0 not there, SIP_E_HEADER malformed. */
int sip_auth_param_get(const struct sip_auth *a, const char *name, struct sip_str *value);

/* A quoted-string's content (with or without its quotes) with quoted-pairs
 * resolved, into out. Returns the length, SIP_E_NOSPC if cap is too small,
 * SIP_E_HEADER if the quotes are unbalanced. Unquoted text is copied as is. */
int sip_unquote(struct sip_str v, char *out, size_t cap);

/* The method of a name ("INVITE" -> SIP_METHOD_INVITE); case-sensitive. */
enum sip_method sip_method_lookup(const char *p, size_t len);
