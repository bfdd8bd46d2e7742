/*
 * SIP message parser: every RFC 4475 torture message of
 * $KORYO_TESTDATA/sip/rfc4475 (INDEX.tsv says which are valid) parsed as a
 * UDP datagram, with the fields the RFC calls out checked for the valid ones
 * and the outcome (400 or drop) for the invalid ones; then focused tests of
 * folding, compact forms, lists, Content-Length over UDP and TCP framing,
 * the header capacity and the parsed header forms.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sip/sip_msg.h"

static bool eq(struct sip_str s, const char *c)
{
	return s.p && s.len == strlen(c) && memcmp(s.p, c, s.len) == 0;
}

#define assert_str(s, c)                                                                           \
	do {                                                                                       \
		struct sip_str s_ = (s);                                                           \
		if (!eq(s_, c))                                                                    \
			fail_msg("%s: got '%.*s', want '%s'", #s, s_.p ? (int)s_.len : 6,          \
			         s_.p ? s_.p : "(null)", c);                                       \
	} while (0)

/* Reads a torture message into a buffer of exactly its size. */
static char *load(const char *name, size_t *len)
{
	const char *dir = getenv("KORYO_TESTDATA");
	if (!dir)
		fail_msg("KORYO_TESTDATA is not set");
	char path[1024];
	snprintf(path, sizeof(path), "%s/sip/rfc4475/%s", dir, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc(n > 0 ? (size_t)n : 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static struct sip_msg msg; /* large: keep it off the stack */

static int values(enum sip_hdr_type t, struct sip_str *out, int cap)
{
	struct sip_hdr_iter it;
	struct sip_str v;
	int n = 0, rc;
	sip_hdr_iter_init(&it, &msg, t);
	while ((rc = sip_hdr_iter_next(&it, &v)) == 1) {
		if (n < cap)
			out[n] = v;
		n++;
	}
	assert_int_equal(rc, 0);
	return n;
}

static struct sip_uri uri_of(struct sip_str s)
{
	struct sip_uri u;
	if (sip_uri_parse(s.p, s.len, &u) != 0)
		fail_msg("URI does not parse: '%.*s'", (int)s.len, s.p);
	return u;
}

static int unesc(struct sip_str s, char *out, size_t cap)
{
	int n = sip_unescape(s.p, s.len, out, cap);
	assert_true(n >= 0);
	return n;
}

/* Everything a valid message offers must parse: all Via and Contact values,
 * the URIs of the Request-URI, From, To, Contact, Route, Record-Route. */
static void walk_valid(void)
{
	struct sip_str v[64];
	int n = values(SIP_HDR_VIA, v, 64);
	assert_true(n >= 1);
	for (int i = 0; i < n && i < 64; i++) {
		struct sip_via via;
		assert_int_equal(sip_via_parse(v[i], &via), 0);
	}
	static const enum sip_hdr_type lists[] = {SIP_HDR_CONTACT, SIP_HDR_ROUTE,
	                                          SIP_HDR_RECORD_ROUTE};
	for (size_t k = 0; k < 3; k++) {
		n = values(lists[k], v, 64);
		for (int i = 0; i < n && i < 64; i++) {
			struct sip_nameaddr na;
			assert_int_equal(sip_nameaddr_parse(v[i], k == 0, &na), 0);
			if (!na.star)
				uri_of(na.uri);
		}
	}
	uri_of(msg.from.uri);
	uri_of(msg.to.uri);
}

static void check_valid(const char *name, const char *buf, size_t len)
{
	struct sip_str v[64];
	char out[512];
	int n;
	walk_valid();
	if (!strcmp(name, "wsinv.dat")) {
		assert_int_equal(msg.method_id, SIP_METHOD_INVITE);
		assert_str(msg.ruri.user, "vivekg");
		assert_str(msg.ruri.host, "chair-dnrc.example.com");
		assert_int_equal(values(SIP_HDR_VIA, v, 64), 3);
		struct sip_via via[3];
		for (int i = 0; i < 3; i++)
			assert_int_equal(sip_via_parse(v[i], &via[i]), 0);
		assert_str(via[0].branch, "390skdjuw");
		assert_str(via[0].transport, "UDP");
		assert_str(via[1].branch, "z9hG4bK9ikj8");
		assert_str(via[1].transport, "TCP");
		assert_str(via[1].host, "spindle.example.com");
		assert_str(via[2].branch, "z9hG4bK30239");
		assert_str(via[2].host, "192.168.255.111");
		assert_str(msg.via.branch, "390skdjuw");
		assert_null(msg.to.display.p);
		assert_str(msg.to.tag, "1918181833n");
		assert_str(msg.to.uri, "sip:vivekg@chair-dnrc.example.com");
		assert_str(msg.from.display, "J Rosenberg \\\\\\\"");
		n = sip_unquote((struct sip_str){msg.from.display.p - 1, msg.from.display.len + 2},
		                out, sizeof(out));
		assert_int_equal(n, 14);
		assert_memory_equal(out, "J Rosenberg \\\"", 14);
		assert_str(msg.from.tag, "98asjd8");
		assert_int_equal(msg.max_forwards, 68);
		assert_int_equal(msg.cseq.number, 9);
		assert_str(msg.cseq.method, "INVITE");
		assert_str(sip_msg_header_first(&msg, SIP_HDR_SUBJECT)->value, "");
		assert_str(sip_msg_header_by_name(&msg, "UnknownHeaderWithUnusualValue")->value,
		           ";;,,;;,;");
		assert_int_equal(values(SIP_HDR_CONTACT, v, 64), 1);
		struct sip_nameaddr c;
		assert_int_equal(sip_nameaddr_parse(v[0], true, &c), 0);
		assert_str(c.display, "Quoted string \\\"\\\"");
		assert_str(c.q, "0.33");
		struct sip_str np;
		assert_int_equal(sip_param_get(c.params, true, "newparam", &np), 1);
		assert_str(np, "newvalue");
		assert_int_equal(values(SIP_HDR_ROUTE, v, 64), 1);
		assert_int_equal(sip_nameaddr_parse(v[0], false, &c), 0);
		struct sip_uri ru = uri_of(c.uri);
		assert_true(ru.lr);
		assert_int_equal(msg.body.len, 150);
		assert_int_equal(msg.content_length, 150);
	} else if (!strcmp(name, "intmeth.dat")) {
		assert_int_equal(msg.method_id, SIP_METHOD_OTHER);
		assert_str(msg.method, "!interesting-Method0123456789_*+`.%indeed'~");
		assert_str(msg.cseq.method, "!interesting-Method0123456789_*+`.%indeed'~");
		assert_str(msg.ruri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
		assert_str(msg.ruri.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
		assert_str(msg.ruri.host, "example.com");
		n = sip_unquote((struct sip_str){msg.to.display.p - 1, msg.to.display.len + 2}, out,
		                sizeof(out));
		assert_int_equal(n, 17);
		assert_memory_equal(out, "BEL:\x07 NUL:\0 DEL:\x7f", 17);
		assert_str(msg.from.display, "token1~` token2'+_ token3*%!.-");
		assert_str(msg.from.tag, "_token~1'+`*%!-.");
		assert_str(msg.call_id, "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
		assert_str(msg.via.branch, "z9hG4bK-.!%66*_+`'~");
		assert_non_null(sip_msg_header_by_name(&msg, "extensionHeader-!.%*+_`'~"));
	} else if (!strcmp(name, "esc01.dat")) {
		assert_str(msg.ruri.user, "sips%3Auser%40example.com");
		n = unesc(msg.ruri.user, out, sizeof(out));
		assert_int_equal(n, 21);
		assert_memory_equal(out, "sips:user@example.com", 21);
		struct sip_uri to = uri_of(msg.to.uri), plain;
		assert_int_equal(sip_uri_parse("sip:user@example.com", 20, &plain), 0);
		assert_true(sip_uri_equal(&to, &plain));
		struct sip_uri from = uri_of(msg.from.uri);
		n = unesc(from.user, out, sizeof(out));
		assert_int_equal(n, 13);
		assert_memory_equal(out, "I have spaces", 13);
		assert_int_equal(values(SIP_HDR_CONTACT, v, 64), 1);
		struct sip_nameaddr c;
		assert_int_equal(sip_nameaddr_parse(v[0], true, &c), 0);
		struct sip_uri cu = uri_of(c.uri), cu2;
		assert_true(cu.lr); /* ;%6C%72 */
		const char *want = "sip:caller@host5.example.net;lr;name=value%2541";
		assert_int_equal(sip_uri_parse(want, strlen(want), &cu2), 0);
		assert_true(sip_uri_equal(&cu, &cu2));
		assert_int_equal(msg.first[SIP_HDR_CONTENT_TYPE] >= 0, 1); /* "C:" */
		assert_int_equal(msg.first[SIP_HDR_CALL_ID] >= 0, 1);      /* "i:" */
	} else if (!strcmp(name, "escnull.dat")) {
		struct sip_uri to = uri_of(msg.to.uri);
		n = unesc(to.user, out, sizeof(out));
		assert_int_equal(n, 11);
		assert_memory_equal(out, "null-\0-null", 11);
		assert_int_equal(values(SIP_HDR_CONTACT, v, 64), 2);
		struct sip_nameaddr c0, c1;
		assert_int_equal(sip_nameaddr_parse(v[0], true, &c0), 0);
		assert_int_equal(sip_nameaddr_parse(v[1], true, &c1), 0);
		struct sip_uri u0 = uri_of(c0.uri), u1 = uri_of(c1.uri);
		assert_int_equal(unesc(u0.user, out, sizeof(out)), 1);
		assert_int_equal(out[0], 0);
		assert_int_equal(unesc(u1.user, out, sizeof(out)), 2);
		assert_false(sip_uri_equal(&u0, &u1));
		assert_int_equal(msg.content_length, 0); /* "L:0" */
	} else if (!strcmp(name, "esc02.dat")) {
		assert_int_equal(msg.method_id, SIP_METHOD_OTHER);
		assert_str(msg.method, "RE%47IST%45R");
		assert_str(msg.to.display, "%Z%45");
		assert_str(msg.via.branch, "z9hG4bK209%fzsnel234");
		assert_int_equal(values(SIP_HDR_CONTACT, v, 64), 2);
		assert_non_null(sip_msg_header_by_name(&msg, "C%6Fntact"));
		assert_int_equal(sip_msg_header_by_name(&msg, "C%6Fntact")->type, SIP_HDR_OTHER);
	} else if (!strcmp(name, "lwsdisp.dat")) {
		assert_str(msg.from.display, "caller");
		assert_false(msg.from.display_quoted);
		assert_str(msg.from.uri, "sip:caller@example.com");
		assert_str(msg.from.tag, "323");
	} else if (!strcmp(name, "longreq.dat")) {
		assert_int_equal(values(SIP_HDR_VIA, v, 64), 34);
		assert_true(msg.to.display.len > 90);
		assert_memory_equal(msg.to.display.p, "I have a user name of extreme", 29);
		struct sip_uri to = uri_of(msg.to.uri);
		struct sip_str pv;
		struct sip_str rest = to.params, pn;
		bool found = false;
		while (sip_param_next(&rest, false, &pn, &pv) == 1)
			if (pn.len > 100 && !memcmp(pn.p, "longparamname", 13) &&
			    eq(pv, "shortvalue"))
				found = true;
		assert_true(found);
		assert_int_equal(to.port, 6000);
		assert_true(msg.call_id.len > 100);
		struct sip_uri from = uri_of(msg.from.uri);
		assert_true(from.user.len > 100);
		assert_int_equal(msg.first[SIP_HDR_FROM] >= 0, 1); /* "F:" */
		assert_int_equal(msg.body.len, (size_t)msg.content_length);
	} else if (!strcmp(name, "dblreq.dat")) {
		assert_int_equal(msg.method_id, SIP_METHOD_REGISTER);
		assert_int_equal(msg.body.len, 0);
		assert_true(msg.len + 400 < len); /* the trailing INVITE is not ours */
		assert_null(memmem(msg.buf, msg.len, "INVITE", 6));
		(void)buf;
	} else if (!strcmp(name, "semiuri.dat")) {
		assert_str(msg.ruri.user, "user;par=u%40example.net");
		n = unesc(msg.ruri.user, out, sizeof(out));
		assert_int_equal(n, 22);
		assert_memory_equal(out, "user;par=u@example.net", 22);
		assert_str(msg.ruri.host, "example.com");
		assert_int_equal(msg.ruri.params.len, 0);
		assert_int_equal(values(SIP_HDR_ACCEPT, v, 64), 6);
		assert_str(v[5], "message/sipfrag");
	} else if (!strcmp(name, "transports.dat")) {
		static const char *const t[] = {"UDP", "SCTP", "TLS", "UNKNOWN", "TCP"};
		assert_int_equal(values(SIP_HDR_VIA, v, 64), 5);
		for (int i = 0; i < 5; i++) {
			struct sip_via via;
			assert_int_equal(sip_via_parse(v[i], &via), 0);
			assert_str(via.transport, t[i]);
		}
	} else if (!strcmp(name, "mpart01.dat")) {
		assert_int_equal(msg.content_length, 553);
		assert_int_equal(msg.body.len, 553);
		assert_int_equal(msg.body.p + 553, buf + len);
	} else if (!strcmp(name, "unreason.dat")) {
		assert_false(msg.is_request);
		assert_int_equal(msg.status, 200);
		assert_memory_equal(msg.reason.p, "= 2**3 * 5**2 ", 14);
	} else if (!strcmp(name, "noreason.dat")) {
		assert_int_equal(msg.status, 100);
		assert_non_null(msg.reason.p);
		assert_int_equal(msg.reason.len, 0);
	} else if (!strcmp(name, "badbranch.dat")) {
		assert_str(msg.via.branch, "z9hG4bK");
	} else if (!strcmp(name, "unkscm.dat")) {
		assert_int_equal(msg.ruri.scheme, SIP_URI_OTHER);
		assert_str(msg.ruri.scheme_str, "nobodyKnowsThisScheme");
	} else if (!strcmp(name, "novelsc.dat")) {
		assert_int_equal(msg.ruri.scheme, SIP_URI_OTHER);
		assert_str(msg.ruri.opaque, "//192.0.2.103:3002");
	} else if (!strcmp(name, "unksm2.dat")) {
		assert_str(msg.to.uri, "isbn:2983792873");
		assert_int_equal(uri_of(msg.to.uri).scheme, SIP_URI_OTHER);
		assert_str(msg.from.uri, "http://www.example.com");
	} else if (!strcmp(name, "bext01.dat")) {
		assert_true(values(SIP_HDR_REQUIRE, v, 64) >= 1);
		assert_true(values(SIP_HDR_PROXY_REQUIRE, v, 64) >= 1);
	} else if (!strcmp(name, "regaut01.dat")) {
		struct sip_auth a;
		struct sip_str pv;
		const struct sip_hdr *h = sip_msg_header_first(&msg, SIP_HDR_AUTHORIZATION);
		assert_non_null(h);
		assert_int_equal(sip_auth_parse(h->value, &a), 0);
		assert_str(a.scheme, "NoOneKnowsThisScheme");
		assert_int_equal(sip_auth_param_get(&a, "opaque-data", &pv), 1);
		assert_str(pv, "here");
	} else if (!strcmp(name, "bcast.dat")) {
		assert_int_equal(values(SIP_HDR_VIA, v, 64), 2);
		struct sip_via via;
		assert_int_equal(sip_via_parse(v[1], &via), 0);
		assert_str(via.host, "255.255.255.255");
	} else if (!strcmp(name, "zeromf.dat")) {
		assert_int_equal(msg.max_forwards, 0);
	} else if (!strcmp(name, "cparam01.dat") || !strcmp(name, "cparam02.dat")) {
		struct sip_nameaddr c;
		struct sip_str pv;
		assert_int_equal(values(SIP_HDR_CONTACT, v, 64), 1);
		assert_int_equal(sip_nameaddr_parse(v[0], true, &c), 0);
		struct sip_uri u = uri_of(c.uri);
		bool in_uri = sip_param_get(u.params, false, "unknownparam", &pv) == 1;
		bool in_hdr = sip_param_get(c.params, true, "unknownparam", &pv) == 1;
		assert_int_equal(in_uri, name[7] == '2');
		assert_int_equal(in_hdr, name[7] == '1');
		assert_str(u.user, "+19725552222");
	} else if (!strcmp(name, "regescrt.dat")) {
		struct sip_nameaddr c;
		assert_int_equal(values(SIP_HDR_CONTACT, v, 64), 1); /* "M:" */
		assert_int_equal(sip_nameaddr_parse(v[0], true, &c), 0);
		assert_str(uri_of(c.uri).headers, "Route=%3Csip:sip.example.com%3E");
	} else if (!strcmp(name, "inv2543.dat")) {
		assert_null(msg.via.branch.p);
		assert_null(msg.from.tag.p);
		assert_int_equal(msg.max_forwards, -1);
		assert_int_equal(msg.content_length, -1);
		assert_int_equal(msg.body.p + msg.body.len, buf + len);
		assert_true(msg.body.len > 0);
		assert_str(uri_of(msg.from.uri).user_param, "phone");
		/* Without <>, ";user=phone" belongs to the To header field. */
		assert_null(uri_of(msg.to.uri).user_param.p);
		struct sip_str up;
		assert_int_equal(sip_param_get(msg.to.params, true, "user", &up), 1);
		assert_int_equal(values(SIP_HDR_RECORD_ROUTE, v, 64), 1);
		struct sip_nameaddr rr;
		assert_int_equal(sip_nameaddr_parse(v[0], false, &rr), 0);
		assert_str(uri_of(rr.uri).maddr, "ss1.example.com");
	}
}

/* The failure each invalid message must give, and the outcome. */
static void check_invalid(const char *name, int rc)
{
	static const struct {
		const char *name;
		int err;
		int status;
		const char *text;
	} want[] = {
	    {"badinv01.dat", SIP_E_HEADER, 400, "bad Via"},
	    {"ncl.dat", SIP_E_CONTENT_LENGTH, 400, NULL},
	    {"scalarlg.dat", SIP_E_HEADER, 0, "bad CSeq"},
	    {"ltgtruri.dat", SIP_E_REQUEST_LINE, 400, NULL},
	    {"lwsstart.dat", SIP_E_REQUEST_LINE, 400, NULL},
	    {"escruri.dat", SIP_E_REQUEST_LINE, 400, "headers in the Request-URI"},
	    {"regbadct.dat", SIP_E_HEADER, 400, "bad Contact"},
	    {"baddn.dat", SIP_E_HEADER, 400, "bad From"},
	    {"mismatch01.dat", SIP_E_CSEQ_METHOD, 400, NULL},
	    {"bigcode.dat", SIP_E_STATUS_LINE, 0, NULL},
	    {"multi01.dat", SIP_E_DUP_HEADER, 400, NULL},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (strcmp(want[i].name, name) != 0)
			continue;
		if (rc != want[i].err)
			fail_msg("%s: got %d (%s), want %d", name, rc, msg.err_text, want[i].err);
		assert_int_equal(sip_err_status(&msg, rc), want[i].status);
		if (want[i].text)
			assert_string_equal(msg.err_text, want[i].text);
		return;
	}
	fail_msg("%s: invalid message without an expectation", name);
}

static void test_rfc4475(void **state)
{
	(void)state;
	size_t ilen;
	char *index = load("INDEX.tsv", &ilen);
	char *idx = realloc(index, ilen + 1);
	assert_non_null(idx);
	idx[ilen] = 0;
	int count = 0, valid = 0;
	char *save = NULL;
	for (char *line = strtok_r(idx, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char file[64], section[32], expected[32];
		if (sscanf(line, "%63[^\t]\t%31[^\t]\t%31[^\t]", file, section, expected) != 3 ||
		    !strcmp(file, "file"))
			continue;
		size_t len;
		char *buf = load(file, &len);
		int rc = sip_msg_parse(&msg, buf, len, SIP_DGRAM);
		if (!strcmp(expected, "invalid")) {
			check_invalid(file, rc);
		} else {
			if (rc != 0)
				fail_msg("%s (%s): %d %s", file, section, rc, msg.err_text);
			check_valid(file, buf, len);
			valid++;
		}
		count++;
		free(buf);
	}
	free(idx);
	assert_int_equal(count, 38);
	print_message("%d torture messages, %d valid\n", count, valid);
}

/* ---- focused tests ---- */

static int parse(const char *s, enum sip_transport_kind k)
{
	return sip_msg_parse(&msg, s, strlen(s), k);
}

#define REQ_HEAD                                                                                   \
	"REGISTER sip:koryo.example SIP/2.0\r\n"                                                   \
	"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport\r\n"                                 \
	"From: <sip:+850191234567@koryo.example>;tag=a\r\n"                                        \
	"To: <sip:+850191234567@koryo.example>\r\n"                                                \
	"Call-ID: c1@10.0.0.1\r\n"                                                                 \
	"CSeq: 1 REGISTER\r\n"

static void test_folding_and_compact(void **state)
{
	(void)state;
	const char *s = "INVITE sip:b@koryo.example SIP/2.0\r\n"
	                "v: SIP/2.0/UDP 10.0.0.1\r\n"
	                "  ;branch=z9hG4bKx ;received=10.9.9.9\r\n"
	                "f: \"A\" <sip:a@koryo.example>\r\n\t;tag=1\r\n"
	                "t: sip:b@koryo.example\r\n"
	                "i: x\r\n"
	                "CSEQ: 2\r\n INVITE\r\n"
	                "k: 100rel, path\r\n"
	                "s: hello\r\n"
	                "r: <sip:c@koryo.example>\r\n"
	                "e: gzip\r\n"
	                "c: text/plain\r\n"
	                "l: 2\r\n"
	                "\r\nhi";
	assert_int_equal(parse(s, SIP_STREAM), 0);
	assert_str(msg.via.branch, "z9hG4bKx");
	assert_str(msg.via.received, "10.9.9.9");
	assert_str(msg.from.tag, "1");
	assert_str(msg.from.display, "A");
	assert_str(msg.call_id, "x");
	assert_int_equal(msg.cseq.number, 2);
	assert_str(msg.cseq.method, "INVITE");
	assert_str(sip_msg_header_first(&msg, SIP_HDR_SUBJECT)->value, "hello");
	assert_non_null(sip_msg_header_first(&msg, SIP_HDR_REFER_TO));
	assert_non_null(sip_msg_header_first(&msg, SIP_HDR_CONTENT_ENCODING));
	assert_str(sip_msg_header_first(&msg, SIP_HDR_CONTENT_TYPE)->value, "text/plain");
	struct sip_str v[4];
	assert_int_equal(values(SIP_HDR_SUPPORTED, v, 4), 2);
	assert_str(v[1], "path");
	assert_str(msg.body, "hi");
	assert_int_equal(sip_hdr_lookup("V", 1), SIP_HDR_VIA);
	assert_int_equal(sip_hdr_lookup("call-id", 7), SIP_HDR_CALL_ID);
	assert_int_equal(sip_hdr_lookup("P-ACCESS-NETWORK-INFO", 21),
	                 SIP_HDR_P_ACCESS_NETWORK_INFO);
	assert_int_equal(sip_hdr_lookup("z", 1), SIP_HDR_OTHER);
	assert_int_equal(sip_hdr_lookup("X-Via", 5), SIP_HDR_OTHER);
	assert_string_equal(sip_hdr_name(SIP_HDR_CALL_ID), "Call-ID");
}

static void test_lists(void **state)
{
	(void)state;
	const char *s = REQ_HEAD "Contact: \"x, y\" <sip:a@1.2.3.4;a=b,c>;expires=60, "
	                         "<sip:b@5.6.7.8>;q=0.5\r\n"
	                         "Contact: sip:c@9.9.9.9;expires=0\r\n"
	                         "Path: <sip:p1@pcscf.example;lr>, <sip:p2@pcscf.example;lr>\r\n"
	                         "Route: <sip:r1@x;lr>\r\nRoute: <sip:r2@x;lr>,<sip:r3@x;lr>\r\n"
	                         "Via: SIP/2.0/TCP [2001:db8::1]:5061;branch=z9hG4bK2;rport=4000,"
	                         "SIP/2.0/UDP h;branch=z9hG4bK3\r\n"
	                         "P-Access-Network-Info: 3GPP-UTRAN-FDD; "
	                         "utran-cell-id-3gpp=4670500010001\r\n"
	                         "Expires: 3600\r\n"
	                         "Content-Length: 0\r\n\r\n";
	assert_int_equal(parse(s, SIP_DGRAM), 0);
	struct sip_str v[8];
	assert_int_equal(values(SIP_HDR_CONTACT, v, 8), 3);
	struct sip_nameaddr c;
	assert_int_equal(sip_nameaddr_parse(v[0], true, &c), 0);
	assert_str(c.display, "x, y");
	assert_str(c.uri, "sip:a@1.2.3.4;a=b,c");
	assert_true(c.has_expires);
	assert_int_equal(c.expires, 60);
	assert_int_equal(sip_nameaddr_parse(v[1], true, &c), 0);
	assert_str(c.q, "0.5");
	assert_false(c.has_expires);
	assert_int_equal(sip_nameaddr_parse(v[2], true, &c), 0);
	assert_true(c.has_expires);
	assert_int_equal(c.expires, 0);
	assert_int_equal(values(SIP_HDR_PATH, v, 8), 2);
	assert_str(v[1], "<sip:p2@pcscf.example;lr>");
	assert_int_equal(values(SIP_HDR_ROUTE, v, 8), 3);
	assert_str(v[2], "<sip:r3@x;lr>");
	assert_int_equal(sip_msg_header_count(&msg, SIP_HDR_ROUTE), 2);
	assert_int_equal(values(SIP_HDR_VIA, v, 8), 3);
	struct sip_via via;
	assert_int_equal(sip_via_parse(v[1], &via), 0);
	assert_str(via.host, "2001:db8::1");
	assert_int_equal(via.port, 5061);
	assert_true(via.has_rport && via.rport_has_value);
	assert_int_equal(via.rport, 4000);
	assert_true(msg.via.has_rport);
	assert_false(msg.via.rport_has_value);
	assert_int_equal(msg.via.port, 5060);
	assert_str(sip_msg_header_first(&msg, SIP_HDR_P_ACCESS_NETWORK_INFO)->value,
	           "3GPP-UTRAN-FDD; utran-cell-id-3gpp=4670500010001");
	assert_int_equal(msg.expires, 3600);

	/* Contact: * alone only. */
	assert_int_equal(parse(REQ_HEAD "Contact: *\r\nExpires: 0\r\n\r\n", SIP_DGRAM), 0);
	assert_int_equal(values(SIP_HDR_CONTACT, v, 8), 1);
	assert_int_equal(sip_nameaddr_parse(v[0], true, &c), 0);
	assert_true(c.star);
	assert_int_equal(parse(REQ_HEAD "Contact: *, <sip:a@b>\r\n\r\n", SIP_DGRAM), SIP_E_HEADER);
	/* Empty list elements. */
	assert_int_equal(parse(REQ_HEAD "Contact: <sip:a@b>,,<sip:c@d>\r\n\r\n", SIP_DGRAM),
	                 SIP_E_HEADER);
	assert_int_equal(parse(REQ_HEAD "Contact: <sip:a@b>,\r\n\r\n", SIP_DGRAM), SIP_E_HEADER);
}

static void test_auth(void **state)
{
	(void)state;
	const char *s =
	    REQ_HEAD "Authorization: Digest username=\"001010000000001@ims.example\",\r\n"
	             "  realm=\"ims.example\", nonce=\"q2v+Pw==\", uri=\"sip:ims.example\",\r\n"
	             "  response=\"0123abcd\", algorithm=AKAv1-MD5, qop=auth, nc=00000001,\r\n"
	             "  cnonce=\"a\\\"b\"\r\n"
	             "Content-Length: 0\r\n\r\n";
	assert_int_equal(parse(s, SIP_DGRAM), 0);
	struct sip_auth a;
	struct sip_str v;
	char out[64];
	assert_int_equal(
	    sip_auth_parse(sip_msg_header_first(&msg, SIP_HDR_AUTHORIZATION)->value, &a), 0);
	assert_str(a.scheme, "Digest");
	assert_int_equal(sip_auth_param_get(&a, "ALGORITHM", &v), 1);
	assert_str(v, "AKAv1-MD5");
	assert_int_equal(sip_auth_param_get(&a, "nc", &v), 1);
	assert_str(v, "00000001");
	assert_int_equal(sip_auth_param_get(&a, "nonce", &v), 1);
	assert_int_equal(sip_unquote(v, out, sizeof(out)), 8);
	assert_memory_equal(out, "q2v+Pw==", 8);
	assert_int_equal(sip_auth_param_get(&a, "cnonce", &v), 1);
	assert_int_equal(sip_unquote(v, out, sizeof(out)), 3);
	assert_memory_equal(out, "a\"b", 3);
	assert_int_equal(sip_unquote(v, out, 2), SIP_E_NOSPC);
	assert_int_equal(sip_auth_param_get(&a, "opaque", &v), 0);
	struct sip_str rest = a.params, n;
	int count = 0;
	while (sip_auth_param_next(&rest, &n, &v) == 1)
		count++;
	assert_int_equal(count, 9);
	/* WWW-Authenticate in a response. */
	const char *r = "SIP/2.0 401 Unauthorized\r\n"
	                "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\n"
	                "From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>;tag=2\r\nCall-ID: x\r\n"
	                "CSeq: 1 REGISTER\r\n"
	                "WWW-Authenticate: Digest realm=\"r\", nonce=\"n\", algorithm=SHA-256, "
	                "qop=\"auth\", stale=true\r\n"
	                "Content-Length: 0\r\n\r\n";
	assert_int_equal(parse(r, SIP_DGRAM), 0);
	assert_int_equal(
	    sip_auth_parse(sip_msg_header_first(&msg, SIP_HDR_WWW_AUTHENTICATE)->value, &a), 0);
	assert_int_equal(sip_auth_param_get(&a, "stale", &v), 1);
	assert_str(v, "true");
	/* Malformed: a parameter without '='. */
	struct sip_str bad = {"Digest realm", 12};
	assert_int_equal(sip_auth_parse(bad, &a), 0);
	assert_int_equal(sip_auth_param_get(&a, "realm", &v), SIP_E_HEADER);
}

static void test_content_length_udp(void **state)
{
	(void)state;
	/* No Content-Length over UDP: the rest of the datagram. */
	assert_int_equal(parse(REQ_HEAD "\r\nbody!", SIP_DGRAM), 0);
	assert_str(msg.body, "body!");
	/* Content-Length shorter than the datagram: the rest is ignored. */
	assert_int_equal(parse(REQ_HEAD "Content-Length: 2\r\n\r\nbody!", SIP_DGRAM), 0);
	assert_str(msg.body, "bo");
	/* Longer: a request gets 400, a response is dropped. */
	assert_int_equal(parse(REQ_HEAD "Content-Length: 9\r\n\r\nbody!", SIP_DGRAM),
	                 SIP_E_TRUNCATED);
	assert_int_equal(sip_err_status(&msg, SIP_E_TRUNCATED), 400);
	/* Not a number, or too large. */
	assert_int_equal(parse(REQ_HEAD "Content-Length: 1x\r\n\r\n", SIP_DGRAM),
	                 SIP_E_CONTENT_LENGTH);
	assert_int_equal(parse(REQ_HEAD "Content-Length: 99999999999\r\n\r\n", SIP_DGRAM),
	                 SIP_E_CONTENT_LENGTH);
	/* A stream message must carry it. */
	assert_int_equal(parse(REQ_HEAD "\r\n", SIP_STREAM), SIP_E_CONTENT_LENGTH);
	assert_int_equal(sip_err_status(&msg, SIP_E_CONTENT_LENGTH), 400);
	/* No empty line after the header fields. */
	assert_int_equal(parse(REQ_HEAD, SIP_DGRAM), SIP_E_TRUNCATED);
}

static void test_tcp_framing(void **state)
{
	(void)state;
	const char *m1 = REQ_HEAD "Content-Length: 5\r\n\r\nhello";
	const char *m2 = REQ_HEAD "l:\r\n 0\r\n\r\n";
	char stream[1024];
	size_t l1 = strlen(m1), l2 = strlen(m2);
	memcpy(stream, "\r\n\r\n", 4);
	memcpy(stream + 4, m1, l1);
	memcpy(stream + 4 + l1, m2, l2);
	size_t total = 4 + l1 + l2, skip, need;
	/* Every prefix of the first message says "more", the full one says 1. */
	for (size_t cut = 0; cut < 4 + l1; cut++) {
		int rc = sip_stream_frame(stream, cut, 8192, &skip, &need);
		assert_int_equal(rc, 0);
		assert_true(need == 0 || need == l1);
	}
	assert_int_equal(sip_stream_frame(stream, 4 + l1, 8192, &skip, &need), 1);
	assert_int_equal(skip, 4);
	assert_int_equal(need, l1);
	assert_int_equal(sip_msg_parse(&msg, stream + skip, need, SIP_STREAM), 0);
	assert_str(msg.body, "hello");
	/* The second one, with a folded compact Content-Length. */
	const char *s2 = stream + 4 + l1;
	for (size_t cut = 0; cut < l2; cut++)
		assert_int_equal(sip_stream_frame(s2, cut, 8192, &skip, &need), 0);
	assert_int_equal(sip_stream_frame(s2, total - 4 - l1, 8192, &skip, &need), 1);
	assert_int_equal(need, l2);
	assert_int_equal(sip_msg_parse(&msg, s2, need, SIP_STREAM), 0);
	assert_int_equal(msg.content_length, 0);
	/* No Content-Length, a bad one, two of them, a header block too long. */
	const char *nocl = REQ_HEAD "\r\n";
	assert_int_equal(sip_stream_frame(nocl, strlen(nocl), 8192, &skip, &need),
	                 SIP_E_CONTENT_LENGTH);
	const char *badcl = REQ_HEAD "Content-Length: -1\r\n\r\n";
	assert_int_equal(sip_stream_frame(badcl, strlen(badcl), 8192, &skip, &need),
	                 SIP_E_CONTENT_LENGTH);
	const char *twocl = REQ_HEAD "l: 1\r\nl: 1\r\n\r\nxx";
	assert_int_equal(sip_stream_frame(twocl, strlen(twocl), 8192, &skip, &need),
	                 SIP_E_CONTENT_LENGTH);
	assert_int_equal(sip_stream_frame(m1, l1, 64, &skip, &need), SIP_E_TOO_LARGE);
	/* A large body announced: the length is known before it arrives. */
	const char *big = REQ_HEAD "Content-Length: 100000\r\n\r\nabc";
	assert_int_equal(sip_stream_frame(big, strlen(big), 8192, &skip, &need), 0);
	assert_int_equal(need, strlen(big) - 3 + 100000);
}

static void test_capacity(void **state)
{
	(void)state;
	static char buf[16384];
	size_t n = (size_t)snprintf(buf, sizeof(buf), "%s", REQ_HEAD);
	/* REQ_HEAD has 5 fields; 59 more make 64, which fit. */
	for (int i = 0; i < 58; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "X-H%d: %d\r\n", i, i);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "Content-Length: 0\r\n\r\n");
	assert_int_equal(sip_msg_parse(&msg, buf, n, SIP_DGRAM), 0);
	assert_int_equal(msg.n_hdrs, SIP_MSG_MAX_HDRS);
	/* One more is refused with a clear error, and the fields a 400 needs
	 * are still there. */
	n -= 4;
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\r\nX-Last: 1\r\n\r\n");
	int rc = sip_msg_parse(&msg, buf, n, SIP_DGRAM);
	assert_int_equal(rc, SIP_E_TOO_MANY_HEADERS);
	assert_string_equal(msg.err_text, "too many header fields");
	assert_int_equal(sip_err_status(&msg, rc), 400);
	assert_int_equal(msg.n_hdrs, SIP_MSG_MAX_HDRS);
	assert_str(msg.call_id, "c1@10.0.0.1");
}

static void test_start_lines(void **state)
{
	(void)state;
	assert_int_equal(parse("", SIP_DGRAM), SIP_E_NOT_SIP);
	assert_int_equal(parse("\r\n\r\n", SIP_DGRAM), SIP_E_NOT_SIP);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\n\r\n", SIP_DGRAM), SIP_E_NOT_SIP);
	assert_int_equal(sip_err_status(&msg, SIP_E_NOT_SIP), 0);
	assert_int_equal(parse("SIP/2.0 99 Low\r\n\r\n", SIP_DGRAM), SIP_E_STATUS_LINE);
	assert_int_equal(parse("SIP/2.0 700 High\r\n\r\n", SIP_DGRAM), SIP_E_STATUS_LINE);
	assert_int_equal(parse("SIP/3.0 200 OK\r\n\r\n", SIP_DGRAM), SIP_E_STATUS_LINE);
	int rc = parse("INVITE sip:a@b SIP/3.0\r\nVia: SIP/3.0/UDP h\r\nFrom: <sip:a@b>;tag=1\r\n"
	               "To: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\r\n",
	               SIP_DGRAM);
	assert_int_equal(rc, SIP_E_VERSION);
	assert_int_equal(sip_err_status(&msg, rc), 505);
	/* Bad request line but no Via: nothing to answer to. */
	rc = parse("INVITE  sip:a@b SIP/2.0\r\nFrom: <sip:a@b>;tag=1\r\n\r\n", SIP_DGRAM);
	assert_int_equal(rc, SIP_E_REQUEST_LINE);
	assert_int_equal(sip_err_status(&msg, rc), 0);
	/* Responses: any error is a drop. */
	rc = parse("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h\r\n\r\n", SIP_DGRAM);
	assert_int_equal(rc, SIP_E_MISSING_HEADER);
	assert_int_equal(sip_err_status(&msg, rc), 0);
	/* A header line without a colon. */
	assert_int_equal(parse(REQ_HEAD "Bogus\r\n\r\n", SIP_DGRAM), SIP_E_HEADER);
	assert_int_equal(parse(REQ_HEAD "Max-Forwards: 256\r\n\r\n", SIP_DGRAM), SIP_E_HEADER);
	assert_int_equal(parse(REQ_HEAD "Max-Forwards: 70\r\n\r\n", SIP_DGRAM), 0);
	assert_int_equal(msg.max_forwards, 70);
	assert_int_equal(msg.method_id, SIP_METHOD_REGISTER);
	assert_int_equal(msg.ruri.scheme, SIP_URI_SIP);
	/* Bare LF line ends are tolerated. */
	assert_int_equal(parse("OPTIONS sip:a@b SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bKq\n"
	                       "From: <sip:a@b>;tag=1\nTo: <sip:a@b>\nCall-ID: x\nCSeq: 1 OPTIONS\n"
	                       "l: 0\n\n",
	                       SIP_DGRAM),
	                 0);
	assert_str(msg.via.branch, "z9hG4bKq");
	/* tel: Request-URI. */
	assert_int_equal(
	    parse("MESSAGE tel:+850-19-123-4567;phone-context=+850 SIP/2.0\r\n"
	          "Via: SIP/2.0/UDP h\r\nFrom: <sip:a@b>;tag=1\r\nTo: <tel:+850191234567>\r\n"
	          "Call-ID: x\r\nCSeq: 1 MESSAGE\r\nl: 0\r\n\r\n",
	          SIP_DGRAM),
	    0);
	assert_int_equal(msg.ruri.scheme, SIP_URI_TEL);
	assert_str(msg.ruri.user, "+850-19-123-4567");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc4475),
	    cmocka_unit_test(test_folding_and_compact),
	    cmocka_unit_test(test_lists),
	    cmocka_unit_test(test_auth),
	    cmocka_unit_test(test_content_length_udp),
	    cmocka_unit_test(test_tcp_framing),
	    cmocka_unit_test(test_capacity),
	    cmocka_unit_test(test_start_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
