/*
 * Stateless responses (src/sip/sip_reply.c): the top Via marked with
 * received/rport (RFC 3581) only when it must be, the other Vias copied in
 * order, a To tag added to final answers and kept stable across
 * retransmissions, a 400 built from a request the parser refused, and the
 * refusals (-ENOSPC, -EINVAL).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sip/sip_msg.h"
#include "sip/sip_reply.h"

static struct sip_msg m;
static char out[SIP_REPLY_MAX + 1];

/* Parses text (LF turned into CRLF) into m; returns the parser's result. */
static int parse(const char *text)
{
	static char buf[8192];
	size_t n = 0;
	for (const char *p = text; *p && n < sizeof(buf) - 2; p++) {
		if (*p == '\n')
			buf[n++] = '\r';
		buf[n++] = *p;
	}
	return sip_msg_parse(&m, buf, n, SIP_DGRAM);
}

static int build(int status, const char *reason, const char *src, uint16_t port)
{
	struct sip_reply_opts o = {.src_port = port, .server = "koryo/test", .tag_salt = 42};
	inet_pton(AF_INET, src, &o.src_addr);
	int n = sip_reply_build(&m, status, reason, &o, out, SIP_REPLY_MAX);
	if (n >= 0)
		out[n] = '\0';
	return n;
}

static const char *REQ = "OPTIONS sip:koryo.local SIP/2.0\n"
                         "Via: SIP/2.0/UDP 192.0.2.7:5062;rport;branch=z9hG4bK1;received=1.2.3.4, "
                         "SIP/2.0/TCP 192.0.2.9\n"
                         "v: SIP/2.0/UDP 192.0.2.8;branch=z9hG4bK2\n"
                         "From: <sip:a@koryo.local>;tag=f1\n"
                         "To: <sip:koryo.local>\n"
                         "Call-ID: c1@x\n"
                         "CSeq: 5 OPTIONS\n"
                         "Max-Forwards: 70\n"
                         "Content-Length: 0\n\n";

static void test_rport_and_vias(void **state)
{
	(void)state;
	assert_int_equal(parse(REQ), 0);
	int n = build(200, NULL, "127.0.0.1", 40000);
	assert_true(n > 0);
	assert_non_null(strstr(out, "SIP/2.0 200 OK\r\n"));
	/* Old received and rport gone, new ones at the end; the rest of the
	 * field and the other field as written, in order. */
	assert_non_null(strstr(out, "Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK1;"
	                            "received=127.0.0.1;rport=40000, SIP/2.0/TCP 192.0.2.9\r\n"
	                            "Via: SIP/2.0/UDP 192.0.2.8;branch=z9hG4bK2\r\n"
	                            "From: <sip:a@koryo.local>;tag=f1\r\n"
	                            "To: <sip:koryo.local>;tag="));
	assert_non_null(strstr(out, "\r\nCall-ID: c1@x\r\nCSeq: 5 OPTIONS\r\n"
	                            "Server: koryo/test\r\nContent-Length: 0\r\n\r\n"));
	/* Parses back as a response to the same transaction. */
	char copy[sizeof(out)];
	memcpy(copy, out, (size_t)n);
	assert_int_equal(sip_msg_parse(&m, copy, (size_t)n, SIP_DGRAM), 0);
	assert_false(m.is_request);
	assert_int_equal(m.status, 200);
	assert_int_equal(m.via.port, 5062);
	assert_int_equal(m.via.rport, 40000);
	assert_int_equal(m.to.tag.len, 16);
}

static void test_same_source_as_written(void **state)
{
	(void)state;
	assert_int_equal(parse("OPTIONS sip:koryo.local SIP/2.0\n"
	                       "Via: SIP/2.0/UDP 127.0.0.1:5070 ;branch=z9hG4bK1\n"
	                       "From: <sip:a@koryo.local>;tag=f1\n"
	                       "To: <sip:b@koryo.local>;tag=t9\n"
	                       "Call-ID: c1@x\nCSeq: 5 OPTIONS\nContent-Length: 0\n\n"),
	                 0);
	assert_true(build(501, NULL, "127.0.0.1", 5070) > 0);
	assert_non_null(strstr(out, "SIP/2.0 501 Not Implemented\r\n"
	                            "Via: SIP/2.0/UDP 127.0.0.1:5070 ;branch=z9hG4bK1\r\n"));
	assert_non_null(strstr(out, "To: <sip:b@koryo.local>;tag=t9\r\n")); /* no second tag */
	/* Another port than sent-by (default 5060): marked. */
	assert_true(build(501, NULL, "127.0.0.1", 5071) > 0);
	assert_non_null(strstr(out, ";branch=z9hG4bK1;received=127.0.0.1;rport=5071\r\n"));
}

static void test_folded_via_rewritten(void **state)
{
	(void)state;
	assert_int_equal(parse("OPTIONS sip:koryo.local SIP/2.0\n"
	                       "Via  : SIP  /   2.0\n /UDP\n    192.0.2.2;branch=z9hG4bK390skdjuw\n"
	                       "From: <sip:a@koryo.local>;tag=f1\nTo: sip:b@koryo.local\n"
	                       "Call-ID: c1@x\nCSeq: 5 OPTIONS\nContent-Length: 0\n\n"),
	                 0);
	assert_true(build(200, NULL, "127.0.0.1", 5060) > 0);
	assert_non_null(strstr(out, "Via: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK390skdjuw;"
	                            "received=127.0.0.1;rport=5060\r\n"));
	/* An addr-spec To gets its tag as a header parameter. */
	assert_non_null(strstr(out, "To: sip:b@koryo.local;tag="));
}

static void test_tag_stable(void **state)
{
	(void)state;
	char t1[17], t2[17], t3[17];
	assert_int_equal(parse(REQ), 0);
	sip_reply_to_tag(&m, 42, t1);
	assert_int_equal(parse(REQ), 0);
	sip_reply_to_tag(&m, 42, t2);
	sip_reply_to_tag(&m, 43, t3);
	assert_string_equal(t1, t2);
	assert_string_not_equal(t1, t3);
	/* No tag on a 100. */
	assert_true(build(100, NULL, "127.0.0.1", 1) > 0);
	assert_non_null(strstr(out, "To: <sip:koryo.local>\r\n"));
}

static void test_400_from_refused(void **state)
{
	(void)state;
	int rc = parse("INVITE sip:u@koryo.local SIP/2.0\n"
	               "Via: SIP/2.0/UDP 192.0.2.15;;,;,,\n"
	               "From: <sip:a@koryo.local>;tag=f1\nTo: <sip:u@koryo.local>\n"
	               "Call-ID: bad\nCSeq: 1 INVITE\nContent-Length: 0\n\n");
	assert_true(rc < 0);
	assert_int_equal(sip_err_status(&m, rc), 400);
	assert_true(build(400, m.err_text, "127.0.0.1", 5060) > 0);
	/* The bad Via is copied as written, not "fixed". */
	assert_non_null(
	    strstr(out, "SIP/2.0 400 bad Via\r\nVia: SIP/2.0/UDP 192.0.2.15;;,;,,\r\n"));
}

static void test_refusals(void **state)
{
	(void)state;
	struct sip_reply_opts o = {.src_port = 1};
	assert_int_equal(parse(REQ), 0);
	int full = sip_reply_build(&m, 200, NULL, &o, out, SIP_REPLY_MAX);
	assert_true(full > 0);
	assert_int_equal(sip_reply_build(&m, 200, NULL, &o, out, (size_t)full - 1), -ENOSPC);
	assert_int_equal(sip_reply_build(&m, 200, NULL, &o, out, (size_t)full), full);
	assert_int_equal(sip_reply_build(&m, 99, NULL, &o, out, SIP_REPLY_MAX), -EINVAL);
	assert_int_equal(sip_reply_build(&m, 700, NULL, &o, out, SIP_REPLY_MAX), -EINVAL);
	assert_int_equal(sip_reply_build(&m, 400, "a\r\nX: y", &o, out, SIP_REPLY_MAX), -EINVAL);
	/* Without a Call-ID nothing can be answered. */
	int rc = parse("OPTIONS sip:koryo.local SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\n"
	               "From: <sip:a@b>;tag=1\nTo: <sip:c@d>\nCSeq: 1 OPTIONS\n\n");
	assert_true(rc < 0);
	assert_int_equal(sip_reply_build(&m, 400, NULL, &o, out, SIP_REPLY_MAX), -EINVAL);
	assert_string_equal(sip_reason_phrase(481), "Call/Transaction Does Not Exist");
	assert_string_equal(sip_reason_phrase(299), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rport_and_vias),
	    cmocka_unit_test(test_same_source_as_written),
	    cmocka_unit_test(test_folded_via_rewritten),
	    cmocka_unit_test(test_tag_stable),
	    cmocka_unit_test(test_400_from_refused),
	    cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
