/*
 * libFuzzer target for the SIP parser (src/sip): the input is parsed as a
 * UDP datagram and as a TCP byte stream cut by sip_stream_frame(); of every
 * message that parses (and of those that fail, as far as they got) every
 * header value is walked with the iterator and handed to its parser, every
 * URI found is parsed, unescaped and compared with itself, and auth params
 * and quoted strings are unquoted. Each message is copied into a buffer of
 * exactly its size so that ASan sees any read past it.
 *
 * Built by tests/integration/fuzz_sip.sh:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I src \
 *         tests/fuzz/fuzz_sip.c src/sip/sip_msg.c src/sip/sip_uri.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sip/sip_msg.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			__builtin_trap();                                                          \
	} while (0)

static struct sip_msg msg;
static char scratch[4096];

static void in_buf(struct sip_str s, const char *buf, size_t len)
{
	if (s.p)
		CHECK(s.p >= buf && s.p + s.len <= buf + len);
}

static void walk_uri(struct sip_str s, const char *buf, size_t len)
{
	struct sip_uri u;
	if (!s.p)
		return;
	if (sip_uri_parse(s.p, s.len, &u) != 0)
		return;
	in_buf(u.user, buf, len);
	in_buf(u.host, buf, len);
	in_buf(u.params, buf, len);
	in_buf(u.headers, buf, len);
	CHECK(sip_uri_equal(&u, &u));
	int n = sip_unescape(u.user.p, u.user.len, scratch, sizeof(scratch));
	CHECK(n >= 0 || n == SIP_E_NOSPC);
	(void)sip_tel_number_normalize(u.user.p, u.user.len, scratch, sizeof(scratch));
	struct sip_str rest = u.params, pn, pv;
	while (sip_param_next(&rest, false, &pn, &pv) == 1)
		in_buf(pv, buf, len);
}

static void walk_nameaddr(struct sip_str v, bool star, const char *buf, size_t len)
{
	struct sip_nameaddr na;
	if (sip_nameaddr_parse(v, star, &na) != 0)
		return;
	in_buf(na.uri, buf, len);
	in_buf(na.display, buf, len);
	if (na.display.p && na.display_quoted)
		(void)sip_unquote((struct sip_str){na.display.p - 1, na.display.len + 2}, scratch,
		                  sizeof(scratch));
	walk_uri(na.uri, buf, len);
}

static void walk(int rc, const char *buf, size_t len)
{
	int st = sip_err_status(&msg, rc);
	CHECK(st == 0 || st == 400 || st == 505);
	CHECK(msg.n_hdrs <= SIP_MSG_MAX_HDRS);
	if (rc == SIP_E_NOT_SIP || rc == SIP_E_STATUS_LINE)
		return;
	if (rc == 0) {
		CHECK(msg.len <= len);
		in_buf(msg.body, buf, len);
		CHECK(msg.first[SIP_HDR_VIA] >= 0 && msg.cseq.number < 0x80000000u);
		if (msg.is_request)
			walk_uri(msg.ruri_str, buf, len);
		else
			CHECK(msg.status >= 100 && msg.status <= 699);
	}
	for (int t = 0; t < SIP_HDR__COUNT; t++) {
		const struct sip_hdr *h = sip_msg_header_first(&msg, (enum sip_hdr_type)t);
		for (; h; h = sip_msg_header_next(&msg, h)) {
			CHECK(h->type == t);
			in_buf(h->value, buf, len);
		}
		struct sip_hdr_iter it;
		struct sip_str v;
		sip_hdr_iter_init(&it, &msg, (enum sip_hdr_type)t);
		while (sip_hdr_iter_next(&it, &v) == 1) {
			in_buf(v, buf, len);
			switch (t) {
			case SIP_HDR_VIA: {
				struct sip_via via;
				if (sip_via_parse(v, &via) == 0)
					in_buf(via.branch, buf, len);
				break;
			}
			case SIP_HDR_FROM:
			case SIP_HDR_TO:
			case SIP_HDR_CONTACT:
			case SIP_HDR_ROUTE:
			case SIP_HDR_RECORD_ROUTE:
			case SIP_HDR_PATH:
			case SIP_HDR_SERVICE_ROUTE:
			case SIP_HDR_P_ASSERTED_IDENTITY:
			case SIP_HDR_REFER_TO:
				walk_nameaddr(v, t == SIP_HDR_CONTACT, buf, len);
				break;
			case SIP_HDR_CSEQ: {
				struct sip_cseq c;
				(void)sip_cseq_parse(v, &c);
				break;
			}
			case SIP_HDR_AUTHORIZATION:
			case SIP_HDR_PROXY_AUTHORIZATION:
			case SIP_HDR_WWW_AUTHENTICATE:
			case SIP_HDR_PROXY_AUTHENTICATE: {
				struct sip_auth a;
				struct sip_str rest, n, pv;
				if (sip_auth_parse(v, &a) != 0)
					break;
				rest = a.params;
				while (sip_auth_param_next(&rest, &n, &pv) == 1) {
					in_buf(pv, buf, len);
					int k = sip_unquote(pv, scratch, sizeof(scratch));
					CHECK(k >= 0 || k == SIP_E_NOSPC || k == SIP_E_HEADER);
				}
				break;
			}
			default: {
				struct sip_str rest = v, n, pv;
				while (sip_param_next(&rest, true, &n, &pv) == 1)
					in_buf(pv, buf, len);
			}
			}
		}
	}
}

static void one(const uint8_t *data, size_t size, enum sip_transport_kind kind)
{
	char *buf = malloc(size ? size : 1);
	CHECK(buf);
	memcpy(buf, data, size);
	int rc = sip_msg_parse(&msg, buf, size, kind);
	CHECK(rc <= 0);
	walk(rc, buf, size);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one(data, size, SIP_DGRAM);
	/* The same octets as a TCP stream. */
	size_t off = 0;
	for (int guard = 0; guard < 64 && off < size; guard++) {
		size_t skip, need;
		int rc = sip_stream_frame((const char *)data + off, size - off, 8192, &skip, &need);
		CHECK(rc <= 1);
		if (rc != 1)
			break;
		CHECK(skip + need <= size - off && need > 0);
		one(data + off + skip, need, SIP_STREAM);
		off += skip + need;
	}
	return 0;
}
