/*
 * SIP transactions (RFC 3261 section 17): each of the four state machines
 * driven through its paths with a fake clock, the messages it sends
 * captured and parsed back, over UDP and TCP; matching (RFC 3261 branch,
 * RFC 2543 fallback, ACK, CANCEL); the table's limit; stale handles; send
 * failures; a TU that answers from inside its callback.
 *
 * Inputs are real SIP messages written as text and parsed with
 * sip_msg_parse(). Time is the test's: timer_start records a deadline and
 * advance() fires due timers in order.
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
#include "sip/sip_txn.h"

/* ---- fake world: clock, timers, wire, TU ---- */

#define MAX_SENT   128
#define MAX_TIMERS 256
#define MAX_EVENTS 64

struct sent {
	int64_t at;
	sip_txn_id id;
	bool reliable;
	char buf[2048];
	size_t len;
};

struct timer {
	sip_txn_id id;
	enum sip_txn_timer timer;
	int64_t due;
	uint64_t seq;
	bool on;
};

enum ev_kind { EV_REQUEST, EV_RESPONSE, EV_TIMEOUT, EV_TRANSPORT, EV_TERMINATED };

struct event {
	enum ev_kind kind;
	int64_t at;
	sip_txn_id id;
	int status;        /* response */
	int method;        /* request */
	int timer;         /* timeout */
	int err;           /* transport */
	int state_in_term; /* state seen from inside terminated */
};

static struct world {
	int64_t now;
	uint64_t seq;
	struct sent sent[MAX_SENT];
	int n_sent;
	struct timer timers[MAX_TIMERS];
	int n_timers;
	struct event ev[MAX_EVENTS];
	int n_ev;
	int send_err; /* what send returns */
	/* TU behaviour: answer every new request with this text at once */
	const char *auto_answer;
	int auto_answer_rc;
	struct sip_txn_table *tab;
} w;

static int fake_send(void *user, sip_txn_id id, const struct sip_txn_peer *peer, const char *buf,
                     size_t len)
{
	(void)user;
	if (w.send_err)
		return w.send_err;
	assert_true(w.n_sent < MAX_SENT);
	assert_true(len < sizeof(w.sent[0].buf));
	struct sent *s = &w.sent[w.n_sent++];
	s->at = w.now;
	s->id = id;
	s->reliable = peer->reliable;
	memcpy(s->buf, buf, len);
	s->buf[len] = '\0';
	s->len = len;
	return 0;
}

static void fake_timer_start(void *user, sip_txn_id id, enum sip_txn_timer timer, uint32_t ms)
{
	(void)user;
	assert_true(ms > 0);
	for (int i = 0; i < w.n_timers; i++) {
		if (w.timers[i].on && w.timers[i].id == id && w.timers[i].timer == timer) {
			w.timers[i].due = w.now + ms;
			w.timers[i].seq = w.seq++;
			return;
		}
	}
	assert_true(w.n_timers < MAX_TIMERS);
	w.timers[w.n_timers++] = (struct timer){id, timer, w.now + ms, w.seq++, true};
}

static void fake_timer_stop(void *user, sip_txn_id id, enum sip_txn_timer timer)
{
	(void)user;
	for (int i = 0; i < w.n_timers; i++)
		if (w.timers[i].on && w.timers[i].id == id && w.timers[i].timer == timer)
			w.timers[i].on = false;
}

static struct event *ev_add(enum ev_kind k, sip_txn_id id)
{
	assert_true(w.n_ev < MAX_EVENTS);
	struct event *e = &w.ev[w.n_ev++];
	memset(e, 0, sizeof(*e));
	e->kind = k;
	e->at = w.now;
	e->id = id;
	return e;
}

static void fake_tu_request(void *user, sip_txn_id id, const struct sip_msg *req)
{
	(void)user;
	ev_add(EV_REQUEST, id)->method = req->method_id;
	if (w.auto_answer && req->method_id != SIP_METHOD_ACK)
		w.auto_answer_rc =
		    sip_txn_server_send_response(w.tab, id, w.auto_answer, strlen(w.auto_answer));
}

static void fake_tu_response(void *user, sip_txn_id id, const struct sip_msg *resp)
{
	(void)user;
	ev_add(EV_RESPONSE, id)->status = resp->status;
}

static void fake_tu_timeout(void *user, sip_txn_id id, enum sip_txn_timer timer)
{
	(void)user;
	ev_add(EV_TIMEOUT, id)->timer = timer;
}

static void fake_tu_transport_error(void *user, sip_txn_id id, int err)
{
	(void)user;
	ev_add(EV_TRANSPORT, id)->err = err;
}

static void fake_terminated(void *user, sip_txn_id id)
{
	(void)user;
	ev_add(EV_TERMINATED, id)->state_in_term = sip_txn_state_get(w.tab, id);
	/* From here on the transaction takes no more calls. */
	assert_int_equal(sip_txn_transport_failed(w.tab, id, -EIO), -ENOENT);
	assert_int_equal(sip_txn_server_send_response(w.tab, id, "x", 1), -ENOENT);
	/* Every timer of the transaction was stopped before this. */
	for (int i = 0; i < w.n_timers; i++)
		if (w.timers[i].on && w.timers[i].id == id)
			fail_msg("timer %s still armed at termination",
			         sip_txn_timer_name(w.timers[i].timer));
}

static const struct sip_txn_ops ops = {
    .send = fake_send,
    .timer_start = fake_timer_start,
    .timer_stop = fake_timer_stop,
    .tu_request = fake_tu_request,
    .tu_response = fake_tu_response,
    .tu_timeout = fake_tu_timeout,
    .tu_transport_error = fake_tu_transport_error,
    .terminated = fake_terminated,
};

/* Moves the clock by ms, firing due timers in deadline order. */
static void advance(int64_t ms)
{
	int64_t end = w.now + ms;
	for (;;) {
		struct timer *next = NULL;
		for (int i = 0; i < w.n_timers; i++) {
			struct timer *t = &w.timers[i];
			if (t->on && t->due <= end &&
			    (!next || t->due < next->due ||
			     (t->due == next->due && t->seq < next->seq)))
				next = t;
		}
		if (!next)
			break;
		w.now = next->due;
		next->on = false;
		assert_int_equal(sip_txn_timer_fired(w.tab, next->id, next->timer), 0);
	}
	w.now = end;
}

static bool timer_on(sip_txn_id id, enum sip_txn_timer timer)
{
	for (int i = 0; i < w.n_timers; i++)
		if (w.timers[i].on && w.timers[i].id == id && w.timers[i].timer == timer)
			return true;
	return false;
}

static int count_ev(enum ev_kind k)
{
	int n = 0;
	for (int i = 0; i < w.n_ev; i++)
		n += w.ev[i].kind == k;
	return n;
}

static const struct event *last_ev(enum ev_kind k)
{
	for (int i = w.n_ev - 1; i >= 0; i--)
		if (w.ev[i].kind == k)
			return &w.ev[i];
	return NULL;
}

static struct sip_txn_config cfg;

static int setup(void **state)
{
	(void)state;
	memset(&w, 0, sizeof(w));
	sip_txn_config_init(&cfg);
	assert_int_equal(sip_txn_table_new(&w.tab, &cfg, &ops, NULL), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sip_txn_table_free(w.tab);
	w.tab = NULL;
	return 0;
}

/* Remakes the table with cfg as changed by a test. */
static void reconfigure(void)
{
	sip_txn_table_free(w.tab);
	assert_int_equal(sip_txn_table_new(&w.tab, &cfg, &ops, NULL), 0);
}

static const struct sip_txn_peer udp = {.reliable = false, .conn = 1};
static const struct sip_txn_peer tcp = {.reliable = true, .conn = 2};

/* ---- messages ---- */

static char text[8][2048]; /* several messages alive at once */
static struct sip_msg msgs[8];

/* A request as text: method, transport in Via, branch, CSeq number. */
static const char *req_text(int slot, const char *method, const char *transport, const char *branch,
                            unsigned cseq)
{
	snprintf(text[slot], sizeof(text[slot]),
	         "%s sip:bob@example.com SIP/2.0\r\n"
	         "Via: SIP/2.0/%s 10.0.0.1:5060;branch=%s\r\n"
	         "Via: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK-lower\r\n"
	         "Max-Forwards: 70\r\n"
	         "Route: <sip:p1.example.com;lr>\r\n"
	         "Route: <sip:p2.example.com;lr>\r\n"
	         "From: Alice <sip:alice@example.com>;tag=a1\r\n"
	         "To: Bob <sip:bob@example.com>\r\n"
	         "Call-ID: call-1@10.0.0.1\r\n"
	         "CSeq: %u %s\r\n"
	         "Timestamp: 54\r\n"
	         "Contact: <sip:alice@10.0.0.1>\r\n"
	         "Content-Length: 0\r\n"
	         "\r\n",
	         method, transport, branch, cseq, method);
	return text[slot];
}

static const char *resp_text(int slot, int status, const char *method, const char *branch,
                             unsigned cseq)
{
	snprintf(text[slot], sizeof(text[slot]),
	         "SIP/2.0 %d Whatever\r\n"
	         "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=%s\r\n"
	         "Via: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK-lower\r\n"
	         "From: Alice <sip:alice@example.com>;tag=a1\r\n"
	         "To: Bob <sip:bob@example.com>%s\r\n"
	         "Call-ID: call-1@10.0.0.1\r\n"
	         "CSeq: %u %s\r\n"
	         "Content-Length: 0\r\n"
	         "\r\n",
	         status, branch, status == 100 ? "" : ";tag=b2", cseq, method);
	return text[slot];
}

static const struct sip_msg *parse(int slot, const char *t)
{
	if (t != text[slot])
		snprintf(text[slot], sizeof(text[slot]), "%s", t);
	int r = sip_msg_parse(&msgs[slot], text[slot], strlen(text[slot]), SIP_DGRAM);
	if (r != 0)
		fail_msg("test message does not parse: %s\n%s", sip_strerror(r), text[slot]);
	return &msgs[slot];
}

static const struct sip_msg *parse_sent(int i)
{
	assert_true(i < w.n_sent);
	return parse(7, w.sent[i].buf);
}

static bool str_is(struct sip_str s, const char *c)
{
	return s.p && s.len == strlen(c) && memcmp(s.p, c, s.len) == 0;
}

static sip_txn_id client_new(const char *method, const struct sip_txn_peer *peer,
                             const char *branch)
{
	const char *r = req_text(0, method, peer->reliable ? "TCP" : "UDP", branch, 1);
	sip_txn_id id = 0;
	assert_int_equal(sip_txn_client_new(w.tab, r, strlen(r), peer, &id), 0);
	assert_true(id != 0);
	return id;
}

static int recv_resp(int status, const char *method, const char *branch)
{
	return sip_txn_client_recv_response(w.tab,
	                                    parse(1, resp_text(1, status, method, branch, 1)));
}

static int recv_req(const char *method, const struct sip_txn_peer *peer, const char *branch,
                    sip_txn_id *id)
{
	const char *r = req_text(2, method, peer->reliable ? "TCP" : "UDP", branch, 1);
	return sip_txn_server_recv_request(w.tab, parse(2, r), peer, id);
}

static int answer(sip_txn_id id, int status, const char *method, const char *branch)
{
	const char *r = resp_text(3, status, method, branch, 1);
	return sip_txn_server_send_response(w.tab, id, r, strlen(r));
}

static void assert_sent_at(const int64_t *at, int n)
{
	if (w.n_sent != n) {
		for (int i = 0; i < w.n_sent; i++)
			print_message("sent[%d] at %lld\n", i, (long long)w.sent[i].at);
		fail_msg("sent %d messages, want %d", w.n_sent, n);
	}
	for (int i = 0; i < n; i++)
		if (w.sent[i].at != at[i])
			fail_msg("send %d at %lld ms, want %lld", i, (long long)w.sent[i].at,
			         (long long)at[i]);
}

#define B1 "z9hG4bK-c1"
#define B2 "z9hG4bK-c2"

/* ---- client INVITE ---- */

/* No answer over UDP: the INVITE at 0 and on timer A at 0.5, 1.5, 3.5, 7.5,
 * 15.5, 31.5 s; timer B at 32 s reports a timeout and ends it. */
static void test_cinv_udp_no_answer(void **state)
{
	(void)state;
	sip_txn_id id = client_new("INVITE", &udp, B1);
	assert_int_equal(sip_txn_state_get(w.tab, id), SIP_TXN_CALLING);
	assert_int_equal(sip_txn_kind_get(w.tab, id), SIP_TXN_CLIENT_INVITE);
	advance(40000);
	static const int64_t at[] = {0, 500, 1500, 3500, 7500, 15500, 31500};
	assert_sent_at(at, 7);
	for (int i = 0; i < 7; i++)
		assert_string_equal(w.sent[i].buf, w.sent[0].buf);
	assert_int_equal(count_ev(EV_TIMEOUT), 1);
	assert_int_equal(last_ev(EV_TIMEOUT)->timer, SIP_TXN_TIMER_B);
	assert_int_equal(last_ev(EV_TIMEOUT)->at, 32000);
	assert_int_equal(last_ev(EV_TERMINATED)->at, 32000);
	assert_int_equal(last_ev(EV_TERMINATED)->state_in_term, SIP_TXN_TERMINATED);
	assert_int_equal(sip_txn_state_get(w.tab, id), -ENOENT);
	assert_int_equal(sip_txn_count(w.tab), 0);
}

/* Over TCP: no timer A, only B. */
static void test_cinv_tcp_no_answer(void **state)
{
	(void)state;
	sip_txn_id id = client_new("INVITE", &tcp, B1);
	assert_false(timer_on(id, SIP_TXN_TIMER_A));
	assert_true(timer_on(id, SIP_TXN_TIMER_B));
	advance(40000);
	static const int64_t at[] = {0};
	assert_sent_at(at, 1);
	assert_int_equal(last_ev(EV_TIMEOUT)->at, 32000);
	assert_int_equal(sip_txn_state_get(w.tab, id), -ENOENT);
}

/* A provisional stops retransmission; 1xx are delivered; a 2xx is delivered
 * and ends the transaction; its retransmission matches nothing. */
static void test_cinv_provisional_then_2xx(void **state)
{
	(void)state;
	sip_txn_id id = client_new("INVITE", &udp, B1);
	advance(600); /* one retransmission at 500 */
	assert_int_equal(recv_resp(100, "INVITE", B1), SIP_TXN_PASSED);
	assert_int_equal(sip_txn_state_get(w.tab, id), SIP_TXN_PROCEEDING);
	assert_false(timer_on(id, SIP_TXN_TIMER_A));
	assert_false(timer_on(id, SIP_TXN_TIMER_B));
	assert_int_equal(recv_resp(180, "INVITE", B1), SIP_TXN_PASSED);
	assert_int_equal(recv_resp(180, "INVITE", B1), SIP_TXN_PASSED);
	advance(60000); /* nothing more, no timeout in Proceeding */
	static const int64_t at[] = {0, 500};
	assert_sent_at(at, 2);
	assert_int_equal(count_ev(EV_RESPONSE), 3);
	assert_int_equal(count_ev(EV_TIMEOUT), 0);

	assert_int_equal(recv_resp(200, "INVITE", B1), SIP_TXN_PASSED);
	assert_int_equal(last_ev(EV_RESPONSE)->status, 200);
	assert_int_equal(count_ev(EV_TERMINATED), 1);
	assert_int_equal(sip_txn_state_get(w.tab, id), -ENOENT);
	/* The 2xx retransmission is for the TU core, not absorbed. */
	assert_int_equal(recv_resp(200, "INVITE", B1), SIP_TXN_NO_MATCH);
	assert_int_equal(w.n_sent, 2); /* the transaction never ACKs a 2xx */
}

/* A 2xx straight from Calling also ends it. */
static void test_cinv_2xx_in_calling(void **state)
{
	(void)state;
	sip_txn_id id = client_new("INVITE", &udp, B1);
	assert_int_equal(recv_resp(200, "INVITE", B1), SIP_TXN_PASSED);
	assert_int_equal(sip_txn_state_get(w.tab, id), -ENOENT);
	advance(40000);
	assert_int_equal(w.n_sent, 1);
	assert_int_equal(count_ev(EV_TIMEOUT), 0);
}

/* 486 over UDP: the ACK is built as 17.1.1.3 says and sent, the 486 is
 * delivered once, its retransmissions are answered with the ACK again and
 * absorbed until D (32 s). */
static void test_cinv_udp_486(void **state)
{
	(void)state;
	sip_txn_id id = client_new("INVITE", &udp, B1);
	assert_int_equal(recv_resp(180, "INVITE", B1), SIP_TXN_PASSED);
	advance(1000);
	assert_int_equal(recv_resp(486, "INVITE", B1), SIP_TXN_PASSED);
	assert_int_equal(sip_txn_state_get(w.tab, id), SIP_TXN_COMPLETED);
	assert_int_equal(last_ev(EV_RESPONSE)->status, 486);
	assert_int_equal(w.n_sent, 2);

	const struct sip_msg *ack = parse_sent(1);
	assert_true(ack->is_request);
	assert_int_equal(ack->method_id, SIP_METHOD_ACK);
	assert_true(str_is(ack->ruri_str, "sip:bob@example.com"));
	assert_int_equal(sip_msg_header_count(ack, SIP_HDR_VIA), 1); /* only the top Via */
	assert_true(str_is(ack->via.branch, B1));
	assert_true(str_is(ack->from.tag, "a1"));
	assert_true(str_is(ack->to.tag, "b2")); /* the response's To */
	assert_true(str_is(ack->call_id, "call-1@10.0.0.1"));
	assert_int_equal(ack->cseq.number, 1);
	assert_true(str_is(ack->cseq.method, "ACK"));
	assert_int_equal(sip_msg_header_count(ack, SIP_HDR_ROUTE), 2);
	assert_true(
	    str_is(sip_msg_header_first(ack, SIP_HDR_ROUTE)->value, "<sip:p1.example.com;lr>"));
	assert_int_equal(ack->max_forwards, 70);
	assert_int_equal(ack->content_length, 0);

	advance(10000);
	assert_int_equal(recv_resp(486, "INVITE", B1), SIP_TXN_ABSORBED);
	assert_int_equal(recv_resp(486, "INVITE", B1), SIP_TXN_ABSORBED);
	assert_int_equal(w.n_sent, 4);
	assert_string_equal(w.sent[2].buf, w.sent[1].buf);
	assert_string_equal(w.sent[3].buf, w.sent[1].buf);
	assert_int_equal(count_ev(EV_RESPONSE), 2); /* 180 and one 486 */
	assert_int_equal(count_ev(EV_TERMINATED), 0);
	advance(22000 - 1);
	assert_int_equal(count_ev(EV_TERMINATED), 0);
	advance(1);
	assert_int_equal(last_ev(EV_TERMINATED)->at, 1000 + 32000);
	assert_int_equal(recv_resp(486, "INVITE", B1), SIP_TXN_NO_MATCH);
	assert_int_equal(count_ev(EV_TIMEOUT), 0);
}

/* 486 over TCP: ACK sent, D is 0, the transaction ends at once. */
static void test_cinv_tcp_486(void **state)
{
	(void)state;
	sip_txn_id id = client_new("INVITE", &tcp, B1);
	assert_int_equal(recv_resp(486, "INVITE", B1), SIP_TXN_PASSED);
	assert_int_equal(w.n_sent, 2);
	assert_int_equal(parse_sent(1)->method_id, SIP_METHOD_ACK);
	assert_int_equal(sip_txn_state_get(w.tab, id), -ENOENT);
	assert_int_equal(count_ev(EV_TERMINATED), 1);
	assert_false(timer_on(id, SIP_TXN_TIMER_D));
}

/* The CANCEL of a client INVITE is built from the INVITE and is its own
 * client transaction (same branch, method CANCEL). */
static void test_cinv_cancel(void **state)
{
	(void)state;
	sip_txn_id inv = client_new("INVITE", &udp, B1);
	assert_int_equal(recv_resp(180, "INVITE", B1), SIP_TXN_PASSED);
	char buf[1024];
	int n = sip_txn_client_cancel_build(w.tab, inv, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(sip_txn_client_cancel_build(w.tab, inv, buf, 20), -ENOSPC);
	n = sip_txn_client_cancel_build(w.tab, inv, buf, sizeof(buf));
	const struct sip_msg *c = parse(4, (buf[n] = '\0', buf));
	assert_int_equal(c->method_id, SIP_METHOD_CANCEL);
	assert_true(str_is(c->via.branch, B1));
	assert_true(c->to.tag.p == NULL);
	assert_true(str_is(c->cseq.method, "CANCEL"));
	assert_int_equal(c->cseq.number, 1);
	sip_txn_id can = 0;
	assert_int_equal(sip_txn_client_new(w.tab, buf, (size_t)n, &udp, &can), 0);
	assert_int_equal(sip_txn_kind_get(w.tab, can), SIP_TXN_CLIENT_NON_INVITE);
	assert_int_equal(sip_txn_count(w.tab), 2);
	/* 200 for the CANCEL goes to the CANCEL, 487 to the INVITE. */
	assert_int_equal(recv_resp(200, "CANCEL", B1), SIP_TXN_PASSED);
	assert_int_equal(last_ev(EV_RESPONSE)->id, can);
	assert_int_equal(recv_resp(487, "INVITE", B1), SIP_TXN_PASSED);
	assert_int_equal(last_ev(EV_RESPONSE)->id, inv);
	assert_int_equal(sip_txn_state_get(w.tab, inv), SIP_TXN_COMPLETED);
	assert_int_equal(sip_txn_state_get(w.tab, can), SIP_TXN_COMPLETED);
	/* Not for a non-INVITE transaction. */
	assert_int_equal(sip_txn_client_cancel_build(w.tab, can, buf, sizeof(buf)), -ENOENT);
}

/* ---- client non-INVITE ---- */

/* No answer over UDP: E at 0.5, 1.5, 3.5, 7.5, then every T2 (4 s); F at
 * 32 s. */
static void test_cnon_udp_no_answer(void **state)
{
	(void)state;
	sip_txn_id id = client_new("MESSAGE", &udp, B1);
	assert_int_equal(sip_txn_state_get(w.tab, id), SIP_TXN_TRYING);
	advance(40000);
	static const int64_t at[] = {0,     500,   1500,  3500,  7500, 11500,
	                             15500, 19500, 23500, 27500, 31500};
	assert_sent_at(at, 11);
	assert_int_equal(last_ev(EV_TIMEOUT)->timer, SIP_TXN_TIMER_F);
	assert_int_equal(last_ev(EV_TIMEOUT)->at, 32000);
	assert_int_equal(sip_txn_state_get(w.tab, id), -ENOENT);
}

/* A provisional: E continues at T2; a final: delivered, K (T4) absorbs
 * retransmissions. */
static void test_cnon_udp_provisional_final(void **state)
{
	(void)state;
	sip_txn_id id = client_new("REGISTER", &udp, B1);
	advance(600); /* E at 500, next at 1500 */
	assert_int_equal(recv_resp(100, "REGISTER", B1), SIP_TXN_PASSED);
	assert_int_equal(sip_txn_state_get(w.tab, id), SIP_TXN_PROCEEDING);
	advance(10000); /* E at 1500, then T2: 5500, 9500 */
	static const int64_t at[] = {0, 500, 1500, 5500, 9500};
	assert_sent_at(at, 5);
	assert_int_equal(recv_resp(401, "REGISTER", B1), SIP_TXN_PASSED);
	assert_int_equal(sip_txn_state_get(w.tab, id), SIP_TXN_COMPLETED);
	assert_false(timer_on(id, SIP_TXN_TIMER_E));
	assert_false(timer_on(id, SIP_TXN_TIMER_F));
	assert_int_equal(recv_resp(401, "REGISTER", B1), SIP_TXN_ABSORBED);
	assert_int_equal(recv_resp(100, "REGISTER", B1), SIP_TXN_ABSORBED);
	assert_int_equal(count_ev(EV_RESPONSE), 2);
	assert_int_equal(w.n_sent, 5);
	advance(4999);
	assert_int_equal(count_ev(EV_TERMINATED), 0);
	advance(1);
	assert_int_equal(last_ev(EV_TERMINATED)->at, 10600 + 5000);
	assert_int_equal(count_ev(EV_TIMEOUT), 0);
}

/* Over TCP: no E, and K is 0. */
static void test_cnon_tcp(void **state)
{
	(void)state;
	sip_txn_id id = client_new("OPTIONS", &tcp, B1);
	assert_false(timer_on(id, SIP_TXN_TIMER_E));
	advance(10000);
	assert_int_equal(w.n_sent, 1);
	assert_int_equal(recv_resp(200, "OPTIONS", B1), SIP_TXN_PASSED);
	assert_int_equal(sip_txn_state_get(w.tab, id), -ENOENT);
	assert_int_equal(count_ev(EV_TERMINATED), 1);
}

/* Matching: method counts, branch counts; refused requests. */
static void test_client_matching_and_refusals(void **state)
{
	(void)state;
	sip_txn_id id = client_new("MESSAGE", &udp, B1);
	assert_int_equal(recv_resp(200, "OPTIONS", B1), SIP_TXN_NO_MATCH);
	assert_int_equal(recv_resp(200, "MESSAGE", B2), SIP_TXN_NO_MATCH);
	assert_int_equal(sip_txn_state_get(w.tab, id), SIP_TXN_TRYING);
	const char *r = req_text(0, "MESSAGE", "UDP", B1, 2);
	sip_txn_id id2 = 0;
	assert_int_equal(sip_txn_client_new(w.tab, r, strlen(r), &udp, &id2), -EEXIST);
	r = req_text(0, "ACK", "UDP", B2, 1);
	assert_int_equal(sip_txn_client_new(w.tab, r, strlen(r), &udp, &id2), -EINVAL);
	r = req_text(0, "MESSAGE", "UDP", "old-2543-branch", 1);
	assert_int_equal(sip_txn_client_new(w.tab, r, strlen(r), &udp, &id2), -EINVAL);
	assert_int_equal(sip_txn_client_new(w.tab, "garbage", 7, &udp, &id2), -EINVAL);
	r = resp_text(0, 200, "MESSAGE", B2, 1);
	assert_int_equal(sip_txn_client_new(w.tab, r, strlen(r), &udp, &id2), -EINVAL);
	assert_int_equal(
	    sip_txn_client_recv_response(w.tab, parse(2, req_text(2, "MESSAGE", "UDP", B1, 1))),
	    -EINVAL);
	assert_int_equal(sip_txn_count(w.tab), 1);
}

/* ---- server INVITE ---- */

/* 100 Trying at once (default policy); a retransmitted INVITE gets the 100
 * again and is not delivered again; a 486 is retransmitted on G (0.5, 1.5,
 * 3.5, 7.5, then every T2) until the ACK (Confirmed, I = T4). */
static void test_sinv_udp_486_acked(void **state)
{
	(void)state;
	sip_txn_id id = 0;
	assert_int_equal(recv_req("INVITE", &udp, B1, &id), SIP_TXN_PASSED);
	assert_int_equal(count_ev(EV_REQUEST), 1);
	assert_int_equal(sip_txn_state_get(w.tab, id), SIP_TXN_PROCEEDING);
	assert_int_equal(w.n_sent, 1);
	const struct sip_msg *t = parse_sent(0);
	assert_int_equal(t->status, 100);
	assert_int_equal(sip_msg_header_count(t, SIP_HDR_VIA), 2);
	assert_true(str_is(t->via.branch, B1));
	assert_true(t->to.tag.p == NULL);
	assert_true(str_is(t->cseq.method, "INVITE"));
	assert_non_null(sip_msg_header_by_name(t, "Timestamp"));
	assert_int_equal(sip_msg_header_count(t, SIP_HDR_ROUTE), 0);

	sip_txn_id again = 0;
	assert_int_equal(recv_req("INVITE", &udp, B1, &again), SIP_TXN_ABSORBED);
	assert_int_equal(again, id);
	assert_int_equal(count_ev(EV_REQUEST), 1);
	assert_int_equal(w.n_sent, 2);
	assert_int_equal(parse_sent(1)->status, 100);

	assert_int_equal(answer(id, 486, "INVITE", B1), 0);
	assert_int_equal(sip_txn_state_get(w.tab, id), SIP_TXN_COMPLETED);
	assert_int_equal(parse_sent(2)->status, 486);
	advance(9000); /* G at 500, 1500, 3500, 7500 */
	assert_int_equal(w.n_sent, 7);
	/* The INVITE again in Completed: the 486 again. */
	assert_int_equal(recv_req("INVITE", &udp, B1, NULL), SIP_TXN_ABSORBED);
	assert_int_equal(w.n_sent, 8);
	assert_int_equal(parse_sent(7)->status, 486);
	assert_int_equal(answer(id, 500, "INVITE", B1), -EALREADY);

	assert_int_equal(recv_req("ACK", &udp, B1, NULL), SIP_TXN_ABSORBED);
	assert_int_equal(sip_txn_state_get(w.tab, id), SIP_TXN_CONFIRMED);
	assert_int_equal(recv_req("ACK", &udp, B1, NULL), SIP_TXN_ABSORBED);
	assert_int_equal(recv_req("INVITE", &udp, B1, NULL), SIP_TXN_ABSORBED);
	assert_int_equal(count_ev(EV_REQUEST), 1); /* the ACK is not the TU's */
	advance(4999);
	assert_int_equal(w.n_sent, 8);
	assert_int_equal(count_ev(EV_TERMINATED), 0);
	advance(1);
	assert_int_equal(last_ev(EV_TERMINATED)->at, 9000 + 5000);
	assert_int_equal(count_ev(EV_TIMEOUT), 0);
	static const int64_t at[] = {0, 0, 0, 500, 1500, 3500, 7500, 9000};
	assert_sent_at(at, 8);
}

/* No ACK: G retransmits (capped at T2) until H (64*T1) reports a timeout. */
static void test_sinv_udp_no_ack(void **state)
{
	(void)state;
	sip_txn_id id = 0;
	assert_int_equal(recv_req("INVITE", &udp, B1, &id), SIP_TXN_PASSED);
	assert_int_equal(answer(id, 404, "INVITE", B1), 0);
	advance(40000);
	static const int64_t at[] = {0,     0,     500,   1500,  3500,  7500,
	                             11500, 15500, 19500, 23500, 27500, 31500};
	assert_sent_at(at, 12);
	assert_int_equal(last_ev(EV_TIMEOUT)->timer, SIP_TXN_TIMER_H);
	assert_int_equal(last_ev(EV_TIMEOUT)->at, 32000);
	assert_int_equal(sip_txn_state_get(w.tab, id), -ENOENT);
	/* The ACK after the end matches nothing. */
	assert_int_equal(recv_req("ACK", &udp, B1, NULL), SIP_TXN_NO_MATCH);
}

/* Over TCP: no G; the ACK ends it at once (I = 0). */
static void test_sinv_tcp_486(void **state)
{
	(void)state;
	sip_txn_id id = 0;
	assert_int_equal(recv_req("INVITE", &tcp, B1, &id), SIP_TXN_PASSED);
	assert_int_equal(answer(id, 486, "INVITE", B1), 0);
	assert_false(timer_on(id, SIP_TXN_TIMER_G));
	assert_true(timer_on(id, SIP_TXN_TIMER_H));
	advance(10000);
	assert_int_equal(w.n_sent, 2);
	assert_int_equal(recv_req("ACK", &tcp, B1, NULL), SIP_TXN_ABSORBED);
	assert_int_equal(sip_txn_state_get(w.tab, id), -ENOENT);
	assert_int_equal(count_ev(EV_TIMEOUT), 0);
}

/* 2xx (RFC 6026): Accepted; INVITE retransmissions absorbed without a
 * send; the TU's own 2xx retransmissions go out; a matching ACK goes to
 * the TU; L ends it after 64*T1. */
static void test_sinv_2xx_accepted(void **state)
{
	(void)state;
	sip_txn_id id = 0;
	assert_int_equal(recv_req("INVITE", &udp, B1, &id), SIP_TXN_PASSED);
	assert_int_equal(answer(id, 180, "INVITE", B1), 0);
	assert_int_equal(recv_req("INVITE", &udp, B1, NULL), SIP_TXN_ABSORBED);
	assert_int_equal(parse_sent(2)->status, 180); /* the last provisional */
	assert_int_equal(answer(id, 200, "INVITE", B1), 0);
	assert_int_equal(sip_txn_state_get(w.tab, id), SIP_TXN_ACCEPTED);
	assert_int_equal(w.n_sent, 4);
	assert_int_equal(recv_req("INVITE", &udp, B1, NULL), SIP_TXN_ABSORBED);
	assert_int_equal(w.n_sent, 4);
	advance(500);
	assert_int_equal(answer(id, 200, "INVITE", B1), 0);
	assert_int_equal(w.n_sent, 5);
	assert_int_equal(answer(id, 486, "INVITE", B1), -EALREADY);
	assert_int_equal(answer(id, 180, "INVITE", B1), -EALREADY);
	assert_int_equal(recv_req("ACK", &udp, B1, NULL), SIP_TXN_PASSED);
	assert_int_equal(last_ev(EV_REQUEST)->method, SIP_METHOD_ACK);
	assert_int_equal(last_ev(EV_REQUEST)->id, id);
	advance(31499);
	assert_int_equal(count_ev(EV_TERMINATED), 0);
	advance(1);
	assert_int_equal(last_ev(EV_TERMINATED)->at, 32000);
	assert_int_equal(count_ev(EV_TIMEOUT), 0);
	/* L is 64*T1 on TCP too. */
	assert_int_equal(recv_req("INVITE", &tcp, B2, &id), SIP_TXN_PASSED);
	assert_int_equal(answer(id, 200, "INVITE", B2), 0);
	assert_true(timer_on(id, SIP_TXN_TIMER_L));
}

/* trying_ms = 200: the 100 goes out at 200 ms if the TU is silent, not at
 * all if the TU answers first; a retransmission brings it forward. */
static void test_sinv_trying_delay(void **state)
{
	(void)state;
	cfg.trying_ms = 200;
	reconfigure();
	sip_txn_id a = 0, b = 0, c = 0;
	assert_int_equal(recv_req("INVITE", &udp, B1, &a), SIP_TXN_PASSED);
	assert_int_equal(w.n_sent, 0);
	advance(100);
	assert_int_equal(recv_req("INVITE", &udp, B2, &b), SIP_TXN_PASSED);
	assert_int_equal(answer(b, 180, "INVITE", B2), 0); /* at 100 */
	advance(150);                                      /* a's 100 at 200 */
	assert_int_equal(w.n_sent, 2);
	assert_int_equal(parse_sent(0)->status, 180);
	assert_int_equal(w.sent[1].at, 200);
	assert_int_equal(parse_sent(1)->status, 100);
	assert_int_equal(w.sent[1].id, a);
	advance(1000);
	assert_int_equal(w.n_sent, 2); /* b never sent a 100 */
	assert_int_equal(recv_req("INVITE", &udp, "z9hG4bK-c3", &c), SIP_TXN_PASSED);
	advance(50);
	assert_int_equal(recv_req("INVITE", &udp, "z9hG4bK-c3", NULL), SIP_TXN_ABSORBED);
	assert_int_equal(w.n_sent, 3);
	assert_int_equal(parse_sent(2)->status, 100);
	assert_false(timer_on(c, SIP_TXN_TIMER_TRYING));
	advance(1000);
	assert_int_equal(w.n_sent, 3);
}

/* CANCEL is its own transaction; find_invite names the INVITE it cancels;
 * an ACK matching nothing is the caller's. */
static void test_sinv_cancel_and_stray_ack(void **state)
{
	(void)state;
	sip_txn_id inv = 0, can = 0, found = 0;
	assert_int_equal(recv_req("INVITE", &udp, B1, &inv), SIP_TXN_PASSED);
	assert_int_equal(recv_req("CANCEL", &udp, B1, &can), SIP_TXN_PASSED);
	assert_true(can != inv);
	assert_int_equal(sip_txn_kind_get(w.tab, can), SIP_TXN_SERVER_NON_INVITE);
	const struct sip_msg *cm = parse(4, req_text(4, "CANCEL", "UDP", B1, 1));
	assert_int_equal(sip_txn_server_find_invite(w.tab, cm, &found), 0);
	assert_int_equal(found, inv);
	cm = parse(4, req_text(4, "CANCEL", "UDP", B2, 1));
	assert_int_equal(sip_txn_server_find_invite(w.tab, cm, &found), -ENOENT);
	assert_int_equal(
	    sip_txn_server_find_invite(w.tab, parse(5, req_text(5, "BYE", "UDP", B1, 1)), &found),
	    -EINVAL);
	/* Another sent-by is another transaction. */
	char other[2048];
	snprintf(other, sizeof(other), "%s", req_text(5, "INVITE", "UDP", B1, 1));
	char *p = strstr(other, "10.0.0.1:5060");
	memcpy(p, "10.0.0.2", 8);
	sip_txn_id inv2 = 0;
	assert_int_equal(sip_txn_server_recv_request(w.tab, parse(5, other), &udp, &inv2),
	                 SIP_TXN_PASSED);
	assert_true(inv2 != inv);
	assert_int_equal(recv_req("ACK", &udp, B2, NULL), SIP_TXN_NO_MATCH);
	assert_int_equal(count_ev(EV_REQUEST), 3);
}

/* RFC 2543 peers (no z9hG4bK branch): INVITE retransmission and the ACK
 * match on Request-URI, From tag, Call-ID, CSeq number and top Via. */
static void test_sinv_rfc2543(void **state)
{
	(void)state;
	sip_txn_id id = 0;
	assert_int_equal(recv_req("INVITE", &udp, "old1", &id), SIP_TXN_PASSED);
	assert_int_equal(recv_req("INVITE", &udp, "old1", NULL), SIP_TXN_ABSORBED);
	assert_int_equal(answer(id, 603, "INVITE", "old1"), 0);
	const char *r = req_text(2, "INVITE", "UDP", "old1", 2); /* CSeq 2: a new one */
	sip_txn_id id2 = 0;
	assert_int_equal(sip_txn_server_recv_request(w.tab, parse(2, r), &udp, &id2),
	                 SIP_TXN_PASSED);
	assert_true(id2 != id);
	assert_int_equal(recv_req("ACK", &udp, "old1", NULL), SIP_TXN_ABSORBED);
	assert_int_equal(sip_txn_state_get(w.tab, id), SIP_TXN_CONFIRMED);
	assert_int_equal(count_ev(EV_REQUEST), 2);
}

/* ---- server non-INVITE ---- */

/* Retransmissions absorbed in Trying (nothing to send), answered with the
 * last provisional in Proceeding and with the final in Completed; J ends
 * it after 64*T1; a second final is refused. */
static void test_snon_udp(void **state)
{
	(void)state;
	sip_txn_id id = 0;
	assert_int_equal(recv_req("REGISTER", &udp, B1, &id), SIP_TXN_PASSED);
	assert_int_equal(sip_txn_state_get(w.tab, id), SIP_TXN_TRYING);
	assert_int_equal(w.n_sent, 0); /* no 100 for non-INVITE */
	assert_int_equal(recv_req("REGISTER", &udp, B1, NULL), SIP_TXN_ABSORBED);
	assert_int_equal(w.n_sent, 0);
	assert_int_equal(answer(id, 100, "REGISTER", B1), 0);
	assert_int_equal(sip_txn_state_get(w.tab, id), SIP_TXN_PROCEEDING);
	assert_int_equal(recv_req("REGISTER", &udp, B1, NULL), SIP_TXN_ABSORBED);
	assert_int_equal(w.n_sent, 2);
	assert_int_equal(parse_sent(1)->status, 100);
	advance(100);
	assert_int_equal(answer(id, 200, "REGISTER", B1), 0);
	assert_int_equal(sip_txn_state_get(w.tab, id), SIP_TXN_COMPLETED);
	assert_int_equal(answer(id, 500, "REGISTER", B1), -EALREADY);
	assert_int_equal(answer(id, 180, "REGISTER", B1), -EALREADY);
	advance(20000);
	assert_int_equal(recv_req("REGISTER", &udp, B1, NULL), SIP_TXN_ABSORBED);
	assert_int_equal(w.n_sent, 4);
	assert_int_equal(parse_sent(3)->status, 200);
	assert_int_equal(count_ev(EV_REQUEST), 1);
	advance(32000 - 20000 - 1);
	assert_int_equal(count_ev(EV_TERMINATED), 0);
	advance(1);
	assert_int_equal(last_ev(EV_TERMINATED)->at, 100 + 32000);
	/* Now the same request is a new transaction. */
	assert_int_equal(recv_req("REGISTER", &udp, B1, NULL), SIP_TXN_PASSED);
	assert_int_equal(count_ev(EV_REQUEST), 2);
}

/* Over TCP: J is 0, a final response ends the transaction at once. */
static void test_snon_tcp(void **state)
{
	(void)state;
	sip_txn_id id = 0;
	assert_int_equal(recv_req("MESSAGE", &tcp, B1, &id), SIP_TXN_PASSED);
	assert_int_equal(answer(id, 202, "MESSAGE", B1), 0);
	assert_int_equal(sip_txn_state_get(w.tab, id), -ENOENT);
	assert_int_equal(count_ev(EV_TERMINATED), 1);
	assert_int_equal(w.n_sent, 1);
}

/* The TU answers from inside tu_request; over TCP that ends the
 * transaction before recv_request returns. */
static void test_snon_answer_inside_callback(void **state)
{
	(void)state;
	w.auto_answer = resp_text(6, 200, "OPTIONS", B1, 1);
	sip_txn_id id = 0;
	assert_int_equal(recv_req("OPTIONS", &tcp, B1, &id), SIP_TXN_PASSED);
	assert_int_equal(w.auto_answer_rc, 0);
	assert_int_equal(w.n_sent, 1);
	assert_int_equal(sip_txn_state_get(w.tab, id), -ENOENT);
	assert_int_equal(sip_txn_count(w.tab), 0);
	/* Over UDP it stays in Completed and absorbs. */
	assert_int_equal(recv_req("OPTIONS", &udp, B1, &id), SIP_TXN_PASSED);
	assert_int_equal(sip_txn_state_get(w.tab, id), SIP_TXN_COMPLETED);
	assert_int_equal(recv_req("OPTIONS", &udp, B1, NULL), SIP_TXN_ABSORBED);
	assert_int_equal(count_ev(EV_REQUEST), 2);
	assert_int_equal(w.n_sent, 3);
}

/* ---- table ---- */

/* Past max_txns creation fails with -ENOSPC (the caller answers 503); room
 * comes back when one terminates. */
static void test_limit(void **state)
{
	(void)state;
	cfg.max_txns = 3;
	reconfigure();
	assert_int_equal(sip_txn_capacity(w.tab), 3);
	sip_txn_id a = 0, b = 0, x = 0;
	assert_int_equal(recv_req("INVITE", &udp, "z9hG4bK-1", &a), SIP_TXN_PASSED);
	assert_int_equal(recv_req("REGISTER", &udp, "z9hG4bK-2", &b), SIP_TXN_PASSED);
	client_new("OPTIONS", &udp, "z9hG4bK-3");
	assert_int_equal(sip_txn_count(w.tab), 3);
	int sent = w.n_sent;
	assert_int_equal(recv_req("REGISTER", &udp, "z9hG4bK-4", &x), -ENOSPC);
	const char *r = req_text(0, "OPTIONS", "UDP", "z9hG4bK-5", 1);
	assert_int_equal(sip_txn_client_new(w.tab, r, strlen(r), &udp, &x), -ENOSPC);
	assert_int_equal(w.n_sent, sent); /* nothing sent for refused ones */
	assert_int_equal(count_ev(EV_REQUEST), 2);
	/* Retransmissions of existing ones are still absorbed when full. */
	assert_int_equal(recv_req("REGISTER", &udp, "z9hG4bK-2", NULL), SIP_TXN_ABSORBED);
	assert_int_equal(sip_txn_transport_failed(w.tab, b, -ECONNRESET), 0);
	assert_int_equal(last_ev(EV_TRANSPORT)->err, -ECONNRESET);
	assert_int_equal(sip_txn_count(w.tab), 2);
	assert_int_equal(recv_req("REGISTER", &udp, "z9hG4bK-4", &x), SIP_TXN_PASSED);
	assert_int_equal(sip_txn_count(w.tab), 3);

	struct sip_txn_table *bad = NULL;
	struct sip_txn_config c2 = cfg;
	c2.max_txns = 0;
	assert_int_equal(sip_txn_table_new(&bad, &c2, &ops, NULL), -EINVAL);
	c2 = cfg;
	c2.t2_ms = c2.t1_ms - 1;
	assert_int_equal(sip_txn_table_new(&bad, &c2, &ops, NULL), -EINVAL);
	assert_null(bad);
}

/* After termination every call refuses the id, even once the slot holds a
 * new transaction; a timer that fires late or after a stop is ignored. */
static void test_stale_handles(void **state)
{
	(void)state;
	cfg.max_txns = 1;
	reconfigure();
	sip_txn_id old = 0, fresh = 0;
	assert_int_equal(recv_req("MESSAGE", &tcp, B1, &old), SIP_TXN_PASSED);
	assert_int_equal(answer(old, 200, "MESSAGE", B1), 0); /* J = 0: gone */
	assert_int_equal(recv_req("MESSAGE", &udp, B2, &fresh), SIP_TXN_PASSED);
	assert_true(fresh != old);
	assert_int_equal(fresh & 0xffffffffu, old & 0xffffffffu); /* same slot */
	assert_int_equal(answer(old, 200, "MESSAGE", B1), -ENOENT);
	assert_int_equal(sip_txn_timer_fired(w.tab, old, SIP_TXN_TIMER_J), -ENOENT);
	assert_int_equal(sip_txn_transport_failed(w.tab, old, -EPIPE), -ENOENT);
	assert_int_equal(sip_txn_state_get(w.tab, old), -ENOENT);
	assert_int_equal(sip_txn_kind_get(w.tab, old), -ENOENT);
	assert_int_equal(sip_txn_state_get(w.tab, 0), -ENOENT);
	assert_int_equal(sip_txn_state_get(w.tab, ((uint64_t)1 << 32) | 7), -ENOENT);
	char buf[256];
	assert_int_equal(sip_txn_client_cancel_build(w.tab, old, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(sip_txn_state_get(w.tab, fresh), SIP_TXN_TRYING);
	/* A timer not armed (or stopped) firing is ignored. */
	assert_int_equal(sip_txn_timer_fired(w.tab, fresh, SIP_TXN_TIMER_J), -ENOENT);
	assert_int_equal(sip_txn_timer_fired(w.tab, fresh, (enum sip_txn_timer)99), -ENOENT);
	assert_int_equal(answer(fresh, 200, "MESSAGE", B2), 0);
	advance(32000); /* J fires */
	assert_int_equal(sip_txn_state_get(w.tab, fresh), -ENOENT);
	assert_int_equal(sip_txn_timer_fired(w.tab, fresh, SIP_TXN_TIMER_J), -ENOENT);
	assert_int_equal(count_ev(EV_TERMINATED), 2);
}

/* A failed send ends the transaction with a transport error: on a timer
 * retransmission, on a TU's response; a failed first send creates nothing. */
static void test_send_failures(void **state)
{
	(void)state;
	sip_txn_id id = client_new("INVITE", &udp, B1);
	w.send_err = -EHOSTUNREACH;
	advance(500); /* timer A's resend fails */
	assert_int_equal(last_ev(EV_TRANSPORT)->err, -EHOSTUNREACH);
	assert_int_equal(last_ev(EV_TRANSPORT)->id, id);
	assert_int_equal(sip_txn_state_get(w.tab, id), -ENOENT);
	assert_int_equal(count_ev(EV_TERMINATED), 1);

	const char *r = req_text(0, "OPTIONS", "UDP", B2, 1);
	sip_txn_id x = 0;
	assert_int_equal(sip_txn_client_new(w.tab, r, strlen(r), &udp, &x), -EHOSTUNREACH);
	assert_int_equal(recv_req("INVITE", &udp, B2, &x), -EHOSTUNREACH); /* the 100 */
	assert_int_equal(sip_txn_count(w.tab), 0);
	assert_int_equal(count_ev(EV_TERMINATED), 1);

	w.send_err = 0;
	assert_int_equal(recv_req("BYE", &udp, B2, &x), SIP_TXN_PASSED);
	w.send_err = -ENOBUFS;
	assert_int_equal(answer(x, 200, "BYE", B2), -ENOBUFS);
	assert_int_equal(sip_txn_state_get(w.tab, x), -ENOENT);
	assert_int_equal(count_ev(EV_TRANSPORT), 2);
	assert_int_equal(count_ev(EV_TERMINATED), 2);
	assert_int_equal(answer(x, 200, "BYE", B2), -ENOENT);
	assert_int_equal(sip_txn_server_send_response(w.tab, x, "junk", 4), -ENOENT);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(sip_txn_state_name(SIP_TXN_ACCEPTED), "Accepted");
	assert_string_equal(sip_txn_state_name(42), "?");
	assert_string_equal(sip_txn_timer_name(SIP_TXN_TIMER_L), "L");
	assert_string_equal(sip_txn_timer_name(SIP_TXN_TIMER_TRYING), "Trying");
	assert_string_equal(sip_txn_kind_name(SIP_TXN_SERVER_NON_INVITE), "server non-INVITE");
	/* A response that does not parse is refused. */
	sip_txn_id id = 0;
	assert_int_equal(recv_req("MESSAGE", &udp, B1, &id), SIP_TXN_PASSED);
	assert_int_equal(sip_txn_server_send_response(w.tab, id, "junk", 4), -EINVAL);
	const char *r = req_text(0, "MESSAGE", "UDP", B1, 1);
	assert_int_equal(sip_txn_server_send_response(w.tab, id, r, strlen(r)), -EINVAL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_cinv_udp_no_answer),
	    T(test_cinv_tcp_no_answer),
	    T(test_cinv_provisional_then_2xx),
	    T(test_cinv_2xx_in_calling),
	    T(test_cinv_udp_486),
	    T(test_cinv_tcp_486),
	    T(test_cinv_cancel),
	    T(test_cnon_udp_no_answer),
	    T(test_cnon_udp_provisional_final),
	    T(test_cnon_tcp),
	    T(test_client_matching_and_refusals),
	    T(test_sinv_udp_486_acked),
	    T(test_sinv_udp_no_ack),
	    T(test_sinv_tcp_486),
	    T(test_sinv_2xx_accepted),
	    T(test_sinv_trying_delay),
	    T(test_sinv_cancel_and_stray_ack),
	    T(test_sinv_rfc2543),
	    T(test_snon_udp),
	    T(test_snon_tcp),
	    T(test_snon_answer_inside_callback),
	    T(test_limit),
	    T(test_stale_handles),
	    T(test_send_failures),
	    T(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
