/*
 * SIP, SIPS and tel URIs: the parts, escapes, what is refused, and the
 * equivalence examples of RFC 3261 section 19.1.4.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sip/sip_uri.h"

static bool eq(struct sip_str s, const char *c)
{
	return s.p && s.len == strlen(c) && memcmp(s.p, c, s.len) == 0;
}

#define assert_str(s, c) assert_true(eq((s), (c)))

static int P(const char *s, struct sip_uri *u)
{
	return sip_uri_parse(s, strlen(s), u);
}

static void test_sip_parts(void **state)
{
	(void)state;
	struct sip_uri u;
	assert_int_equal(
	    P("sips:alice:secret@Atlanta.example:5061;transport=tcp;lr;maddr=239.255.255.1;"
	      "user=phone;method=INVITE;ttl=15?subject=project%20x&priority=urgent",
	      &u),
	    0);
	assert_int_equal(u.scheme, SIP_URI_SIPS);
	assert_str(u.user, "alice");
	assert_str(u.password, "secret");
	assert_str(u.host, "Atlanta.example");
	assert_int_equal(u.host_type, SIP_HOST_NAME);
	assert_true(u.has_port);
	assert_int_equal(u.port, 5061);
	assert_str(u.transport, "tcp");
	assert_str(u.maddr, "239.255.255.1");
	assert_str(u.user_param, "phone");
	assert_str(u.method, "INVITE");
	assert_str(u.ttl, "15");
	assert_true(u.lr);
	assert_str(u.headers, "subject=project%20x&priority=urgent");

	assert_int_equal(P("sip:[2001:db8::10]:5060", &u), 0);
	assert_int_equal(u.host_type, SIP_HOST_IPV6);
	assert_str(u.host, "2001:db8::10");
	assert_int_equal(u.port, 5060);
	assert_null(u.user.p);

	assert_int_equal(P("SIP:10.0.0.1", &u), 0);
	assert_int_equal(u.scheme, SIP_URI_SIP);
	assert_int_equal(u.host_type, SIP_HOST_IPV4);
	assert_false(u.has_port);

	assert_int_equal(P("sip:+850191234567@ims.koryo.example;user=phone", &u), 0);
	assert_str(u.user, "+850191234567");
	char num[32];
	assert_int_equal(sip_tel_number_normalize(u.user.p, u.user.len, num, sizeof(num)), 13);

	struct sip_str n, v;
	struct sip_str rest = {";a=1;b;c=x%20y", 14};
	assert_int_equal(sip_param_next(&rest, false, &n, &v), 1);
	assert_str(n, "a");
	assert_str(v, "1");
	assert_int_equal(sip_param_next(&rest, false, &n, &v), 1);
	assert_str(n, "b");
	assert_null(v.p);
	assert_int_equal(sip_param_next(&rest, false, &n, &v), 1);
	assert_str(v, "x%20y");
	assert_int_equal(sip_param_next(&rest, false, &n, &v), 0);
}

static void test_refused(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "",
	    ":x",
	    "sip:",
	    "sip:@host",
	    "sip:user@",
	    "sip:host:99999",
	    "sip:host:",
	    "sip:ho st",
	    "sip:host;;a",
	    "sip:host;=a",
	    "sip:host;a=",
	    "sip:us%4ger@host",
	    "sip:user@host?noequals",
	    "sip:[::1",
	    "sip:[zz]",
	    "sip:1.2.3.256",
	    "sip:1.2.3",
	    "sip:-host",
	    "sip:host junk",
	    "tel:",
	    "tel:+",
	    "tel:+12a4",
	    "tel:--",
	    "<sip:a@b>",
	    "1sip:a@b",
	    "x:a b",
	};
	struct sip_uri u;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (P(bad[i], &u) != SIP_E_URI)
			fail_msg("accepted '%s'", bad[i]);
}

static void test_tel(void **state)
{
	(void)state;
	struct sip_uri u;
	char out[32];
	assert_int_equal(P("tel:+850-(19)-123.4567;phone-context=koryo.example;ext=12", &u), 0);
	assert_int_equal(u.scheme, SIP_URI_TEL);
	assert_str(u.user, "+850-(19)-123.4567");
	assert_str(u.phone_context, "koryo.example");
	int n = sip_tel_number_normalize(u.user.p, u.user.len, out, sizeof(out));
	assert_int_equal(n, 13);
	assert_memory_equal(out, "+850191234567", 13);
	assert_int_equal(sip_tel_number_normalize(u.user.p, u.user.len, out, 5), SIP_E_NOSPC);
	assert_int_equal(P("tel:7042;phone-context=+850", &u), 0);
	assert_int_equal(P("tel:*31#", &u), 0);
	struct sip_uri a, b;
	assert_int_equal(P("tel:+850-19-1234567", &a), 0);
	assert_int_equal(P("tel:+850191234567", &b), 0);
	assert_true(sip_uri_equal(&a, &b));
	assert_int_equal(P("tel:+850191234568", &b), 0);
	assert_false(sip_uri_equal(&a, &b));
}

static void test_unescape(void **state)
{
	(void)state;
	char out[16];
	assert_int_equal(sip_unescape("a%41%00b", 8, out, sizeof(out)), 4);
	assert_memory_equal(out, "aA\0b", 4);
	assert_int_equal(sip_unescape("%4", 2, out, sizeof(out)), SIP_E_ESCAPE);
	assert_int_equal(sip_unescape("%zz", 3, out, sizeof(out)), SIP_E_ESCAPE);
	assert_int_equal(sip_unescape("abc", 3, out, 2), SIP_E_NOSPC);
	assert_int_equal(sip_unescape("", 0, out, 0), 0);
	assert_string_equal(sip_strerror(SIP_E_URI), "bad URI");
}

static void test_rfc3261_equivalence(void **state)
{
	(void)state;
	static const char *const same[][2] = {
	    {"sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"},
	    {"sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"},
	    {"sip:carol@chicago.com", "sip:carol@chicago.com;security=on"},
	    {"sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on"},
	    {"sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
	     "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"},
	    {"sip:alice@atlanta.com?subject=project%20x&priority=urgent",
	     "sip:alice@atlanta.com?priority=urgent&subject=project%20x"},
	};
	static const char *const differ[][2] = {
	    {"SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"},
	    {"sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"},
	    {"sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"},
	    {"sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"},
	    {"sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"},
	    {"sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"},
	    {"sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off"},
	    {"sip:a@b", "sips:a@b"},
	    {"sip:a@b", "tel:+1"},
	};
	struct sip_uri a, b;
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		assert_int_equal(P(same[i][0], &a), 0);
		assert_int_equal(P(same[i][1], &b), 0);
		if (!sip_uri_equal(&a, &b) || !sip_uri_equal(&b, &a))
			fail_msg("not equal: %s %s", same[i][0], same[i][1]);
	}
	for (size_t i = 0; i < sizeof(differ) / sizeof(differ[0]); i++) {
		assert_int_equal(P(differ[i][0], &a), 0);
		assert_int_equal(P(differ[i][1], &b), 0);
		if (sip_uri_equal(&a, &b) || sip_uri_equal(&b, &a))
			fail_msg("equal: %s %s", differ[i][0], differ[i][1]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sip_parts),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_tel),
	    cmocka_unit_test(test_unescape),
	    cmocka_unit_test(test_rfc3261_equivalence),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
