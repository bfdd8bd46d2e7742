/* The SMS centre (src/sms/smsc.h) as an operator checks it, against a real
 * store, a registry of subscribers and fake delivery channels whose answers
 * the test decides, on a clock the test moves: "accepted" only once the
 * message is durable; delivery through the first channel that reaches the
 * recipient; one CDR per message; refusals that say why; retries after
 * temporary failures, on the back-off; failures, timeouts and stale
 * answers; expiry at the end of validity and status reports; order and the
 * window per recipient; concatenated Korean text; what survives a restart;
 * content rules (refuse, hold, release, delete); the limit per recipient;
 * and per-segment charging.
 *
 * Asynchronous answers are waited for with a bounded wait. To know that the
 * centre's thread has done everything a step caused, the test keeps one
 * "sentinel" message waiting for a subscriber no channel reaches: asking the
 * centre to try it (smsc_recipient_ready) makes the thread offer it to the
 * first channel, which the channel counts. Two such offers in a row mean the
 * thread has handled every event posted before and run its timers once (the
 * centre does not notice smsc_set_clock by itself: this also wakes it). Then
 * a no-op write through the store queue waits for the writes it queued. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "hlr/registry.h"
#include "hlr/subscr_input.h"
#include "ocs/ocs.h"
#include "registry_fixture.h"
#include "sms/rp.h"
#include "sms/rules.h"
#include "sms/smsc.h"
#include "store/store_queue.h"

#ifndef KORYO_PROFILE_DIR
#error "KORYO_PROFILE_DIR must name profiles/koryolink"
#endif

/* Two citizens, two foreigners and the sentinel (a citizen nobody reaches). */
#define A_IMSI    467050000000101ULL
#define B_IMSI    467050000000102ULL
#define Z_IMSI    467050000000109ULL
#define F1_IMSI   467050000000201ULL
#define F2_IMSI   467050000000202ULL
#define A_MSISDN  8501912000001ULL
#define B_MSISDN  8501912000002ULL
#define Z_MSISDN  8501912000009ULL
#define F2_MSISDN 8501913000002ULL
#define B_NUMBER  "+8501912000002"

#define T0        2000000000LL /* the centre's clock at the start of every test */
#define WAIT_S    10           /* the longest any asynchronous answer may take */
#define MAX_WAITS 64

/* --- the clock ------------------------------------------------------------------- */

static _Atomic int_fast64_t fake_now;

static int64_t fake_clock(void)
{
	return (int64_t)atomic_load(&fake_now);
}

/* --- the fixture ------------------------------------------------------------------ */

enum chan_mode {
	CH_ABSENT, /* deliver() says -ENOTCONN */
	CH_HOLD,   /* the attempt is recorded; the test answers it (or never does) */
	CH_AUTO,   /* recorded and answered at once, before deliver() returns */
};

struct route {
	uint64_t imsi;
	enum chan_mode mode;
	enum smsc_delivery_result result; /* CH_AUTO's answer */
};

struct fx;

struct chan {
	struct fx *fx;
	unsigned idx;
	const char *name;
	struct route routes[128];
	unsigned n_routes;
	unsigned offers; /* deliver() calls, reached or not */
};

/* One attempt a channel took. */
struct rec {
	char channel[8];
	struct smsc_delivery d; /* d.text points to text; d.data is NULL */
	char *text;
	bool answered;
};

/* The answer to one submission. */
struct sub_wait {
	struct fx *fx;
	bool done;
	unsigned calls;
	bool row_durable; /* ACCEPTED: the message's row was in the store in the callback */
	struct smsc_result r;
};

struct fx {
	struct registry_fixture rf;
	struct store_queue *q;
	struct ocs *o;
	struct sms_rules *rules;
	struct smsc_options opt;
	struct smsc *s;
	struct chan ch[2];
	bool sentinel;
	int64_t sentinel_id;

	pthread_mutex_t mu; /* everything below, and the channels' routes and counts */
	pthread_cond_t cv;
	struct rec *log;
	size_t n_log, cap_log;
	unsigned offers_z;      /* attempts of the sentinel, first channel */
	unsigned max_in_flight; /* unanswered attempts to one recipient, at most */
	struct sub_wait waits[MAX_WAITS];
	unsigned n_waits;
	unsigned flushes; /* no-op writes of flush_queue done */
};

static void deadline_in(struct timespec *ts, int s)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += s;
}

/* Waits (fx->mu held) until cond is true; fails after WAIT_S. */
#define WAIT_UNTIL(fx, cond, what)                                                                 \
	do {                                                                                       \
		struct timespec ts_;                                                               \
		deadline_in(&ts_, WAIT_S);                                                         \
		while (!(cond)) {                                                                  \
			if (pthread_cond_timedwait(&(fx)->cv, &(fx)->mu, &ts_) != 0 && !(cond)) {  \
				pthread_mutex_unlock(&(fx)->mu);                                   \
				fail_msg("timed out waiting for %s", what);                        \
			}                                                                          \
		}                                                                                  \
	} while (0)

static struct route *route_of(struct chan *c, uint64_t imsi)
{
	for (unsigned i = 0; i < c->n_routes; i++) {
		if (c->routes[i].imsi == imsi)
			return &c->routes[i];
	}
	return NULL;
}

/* How channel idx treats imsi from now on. */
static void chan_set(struct fx *fx, unsigned idx, uint64_t imsi, enum chan_mode mode,
                     enum smsc_delivery_result result)
{
	pthread_mutex_lock(&fx->mu);
	struct chan *c = &fx->ch[idx];
	struct route *r = route_of(c, imsi);
	if (!r && c->n_routes < sizeof(c->routes) / sizeof(c->routes[0]))
		r = &c->routes[c->n_routes++];
	if (r)
		*r = (struct route){.imsi = imsi, .mode = mode, .result = result};
	pthread_mutex_unlock(&fx->mu);
	assert_non_null(r);
}

static unsigned in_flight_to(struct fx *fx, uint64_t imsi)
{
	unsigned n = 0;
	for (size_t i = 0; i < fx->n_log; i++) {
		if (fx->log[i].d.recipient_imsi == imsi && !fx->log[i].answered)
			n++;
	}
	return n;
}

/* A fake access: the test's routes decide. Runs on the centre's thread. */
static int chan_deliver(void *ctx, const struct smsc_delivery *d)
{
	struct chan *c = ctx;
	struct fx *fx = c->fx;
	pthread_mutex_lock(&fx->mu);
	c->offers++;
	if (d->recipient_imsi == Z_IMSI && c->idx == 0)
		fx->offers_z++;
	struct route *r = route_of(c, d->recipient_imsi);
	enum chan_mode mode = r ? r->mode : CH_ABSENT;
	enum smsc_delivery_result result = r ? r->result : SMSC_DELIVERED;
	if (mode == CH_ABSENT) {
		pthread_cond_broadcast(&fx->cv);
		pthread_mutex_unlock(&fx->mu);
		return -ENOTCONN;
	}
	if (fx->n_log == fx->cap_log) {
		size_t cap = fx->cap_log ? fx->cap_log * 2 : 16;
		struct rec *v = realloc(fx->log, cap * sizeof(*v));
		if (!v)
			abort(); /* not on the test's thread: cmocka cannot fail here */
		fx->log = v;
		fx->cap_log = cap;
	}
	struct rec *x = &fx->log[fx->n_log];
	memset(x, 0, sizeof(*x));
	snprintf(x->channel, sizeof(x->channel), "%s", c->name);
	x->d = *d;
	x->text = malloc(d->text_len + 1);
	if (!x->text)
		abort();
	memcpy(x->text, d->text, d->text_len);
	x->text[d->text_len] = '\0';
	x->d.text = x->text;
	x->d.data = NULL;
	x->answered = mode == CH_AUTO;
	fx->n_log++;
	unsigned inflight = in_flight_to(fx, d->recipient_imsi);
	if (inflight > fx->max_in_flight)
		fx->max_in_flight = inflight;
	pthread_cond_broadcast(&fx->cv);
	pthread_mutex_unlock(&fx->mu);
	if (mode == CH_AUTO)
		smsc_delivery_done(fx->s, d->id, d->attempt, result,
		                   result == SMSC_DELIVERED ? "" : "auto");
	return 0;
}

static int chan_cell_of(void *ctx, uint64_t imsi, char *out, size_t cap)
{
	(void)ctx;
	if (imsi != B_IMSI)
		return -ENOENT;
	snprintf(out, cap, "PY-0042");
	return 0;
}

/* Waits until the channels took n attempts; returns a copy of the n-th
 * (1-based), whose text stays owned by the log. */
static struct rec wait_delivery(struct fx *fx, size_t n)
{
	pthread_mutex_lock(&fx->mu);
	WAIT_UNTIL(fx, fx->n_log >= n, "a delivery");
	struct rec r = fx->log[n - 1];
	pthread_mutex_unlock(&fx->mu);
	return r;
}

static size_t deliveries(struct fx *fx)
{
	pthread_mutex_lock(&fx->mu);
	size_t n = fx->n_log;
	pthread_mutex_unlock(&fx->mu);
	return n;
}

/* The test's access ends attempt n (1-based in the log). */
static void answer(struct fx *fx, size_t n, enum smsc_delivery_result res, const char *detail)
{
	pthread_mutex_lock(&fx->mu);
	bool ok = n >= 1 && n <= fx->n_log;
	struct smsc_delivery d = {0};
	if (ok) {
		fx->log[n - 1].answered = true;
		d = fx->log[n - 1].d;
	}
	pthread_mutex_unlock(&fx->mu);
	assert_true(ok);
	smsc_delivery_done(fx->s, d.id, d.attempt, res, detail);
}

/* --- submissions -------------------------------------------------------------------- */

static void on_submitted(void *ctx, const struct smsc_result *r)
{
	struct sub_wait *w = ctx;
	struct fx *fx = w->fx;
	/* "Accepted" may only be said of a message whose row is in the store. */
	bool durable = false;
	if (r->outcome == SMSC_ACCEPTED) {
		struct smsc_message_info mi;
		durable = smsc_message_get(fx->s, r->id, &mi) == 0;
	}
	pthread_mutex_lock(&fx->mu);
	w->r = *r;
	w->row_durable = durable;
	w->calls++;
	w->done = true;
	pthread_cond_broadcast(&fx->cv);
	pthread_mutex_unlock(&fx->mu);
}

static struct smsc_submission msg(const char *key, uint64_t sender, const char *to,
                                  const char *text)
{
	return (struct smsc_submission){.origin = "sip",
	                                .key = key,
	                                .sender_imsi = sender,
	                                .recipient = to,
	                                .text = text,
	                                .text_len = text ? strlen(text) : 0,
	                                .validity_s = -1,
	                                .cell = "PY-0001"};
}

/* Submits m; the answer comes into the returned slot (see await). */
static struct sub_wait *submit_start(struct fx *fx, const struct smsc_submission *m)
{
	assert_true(fx->n_waits < MAX_WAITS);
	pthread_mutex_lock(&fx->mu);
	struct sub_wait *w = &fx->waits[fx->n_waits++];
	w->fx = fx;
	pthread_mutex_unlock(&fx->mu);
	assert_int_equal(smsc_submit(fx->s, m, on_submitted, w), 0);
	return w;
}

static struct smsc_result await(struct fx *fx, struct sub_wait *w)
{
	pthread_mutex_lock(&fx->mu);
	WAIT_UNTIL(fx, w->done, "the answer to a submission");
	struct smsc_result r = w->r;
	unsigned calls = w->calls;
	pthread_mutex_unlock(&fx->mu);
	assert_int_equal(calls, 1);
	return r;
}

static struct smsc_result submit(struct fx *fx, const struct smsc_submission *m)
{
	return await(fx, submit_start(fx, m));
}

/* Submits and checks the answer is a durable "accepted"; the message's id. */
static int64_t submit_ok(struct fx *fx, const struct smsc_submission *m)
{
	struct sub_wait *w = submit_start(fx, m);
	struct smsc_result r = await(fx, w);
	if (r.outcome != SMSC_ACCEPTED)
		fail_msg("%s: expected accepted, got %d %d: %s", m->key, r.outcome, r.sip_status,
		         r.reason);
	assert_int_equal(r.sip_status, 202);
	assert_true(r.id > 0);
	assert_false(r.held);
	assert_true(w->row_durable);
	return r.id;
}

/* --- settling ---------------------------------------------------------------------- */

static void flush_done(void *ctx, int rc)
{
	struct fx *fx = ctx;
	(void)rc;
	pthread_mutex_lock(&fx->mu);
	fx->flushes++;
	pthread_cond_broadcast(&fx->cv);
	pthread_mutex_unlock(&fx->mu);
}

/* Waits until everything queued for the store before this is written. */
static void flush_queue(struct fx *fx)
{
	struct store_param p[1] = {{.type = STORE_PARAM_INT, .i = 0}};
	pthread_mutex_lock(&fx->mu);
	unsigned before = fx->flushes;
	pthread_mutex_unlock(&fx->mu);
	assert_int_equal(
	    store_queue_submit(fx->q, "DELETE FROM sms_part WHERE ref < $1", p, 1, flush_done, fx),
	    0);
	pthread_mutex_lock(&fx->mu);
	WAIT_UNTIL(fx, fx->flushes > before, "the store queue");
	pthread_mutex_unlock(&fx->mu);
}

/* One more offer of the sentinel: the centre handled what was posted before. */
static void centre_barrier(struct fx *fx)
{
	pthread_mutex_lock(&fx->mu);
	unsigned before = fx->offers_z;
	pthread_mutex_unlock(&fx->mu);
	smsc_recipient_ready(fx->s, Z_IMSI);
	pthread_mutex_lock(&fx->mu);
	WAIT_UNTIL(fx, fx->offers_z > before, "the centre's thread");
	pthread_mutex_unlock(&fx->mu);
}

/* Waits until the centre did all that follows from what the test did (and
 * from the time it reads now), and wrote it. */
static void settle(struct fx *fx)
{
	if (!fx->sentinel) {
		struct smsc_submission m = msg("sentinel", Z_IMSI, "+8501912000009", "sentinel");
		fx->sentinel_id = submit_ok(fx, &m);
		fx->sentinel = true;
		pthread_mutex_lock(&fx->mu);
		WAIT_UNTIL(fx, fx->offers_z >= 1, "the sentinel's first offer");
		pthread_mutex_unlock(&fx->mu);
	}
	/* An event the thread posts while handling batch k (a channel's answer
	 * given inside deliver()) is handled in batch k+1: each barrier more
	 * covers one such link of a chain (an answer, then a status report
	 * delivered and answered). */
	for (int i = 0; i < 4; i++)
		centre_barrier(fx);
	flush_queue(fx);
}

/* Moves the centre's clock on by s seconds and lets it act. */
static void advance(struct fx *fx, int64_t s)
{
	atomic_fetch_add(&fake_now, s);
	settle(fx);
}

/* --- what the operator reads --------------------------------------------------------- */

struct cdr_list {
	struct smsc_cdr *v;
	size_t n;
};

static void cdr_one(void *ctx, const struct smsc_cdr *c)
{
	struct cdr_list *l = ctx;
	struct smsc_cdr *v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v)
		abort();
	l->v = v;
	l->v[l->n++] = *c;
}

/* Every CDR. Free .v. */
static struct cdr_list cdrs(struct fx *fx)
{
	struct cdr_list l = {0};
	int n = smsc_cdrs(fx->s, 0, 100000, cdr_one, &l);
	assert_true(n >= 0);
	assert_int_equal((size_t)n, l.n);
	for (size_t i = 1; i < l.n; i++)
		assert_true(l.v[i].seq > l.v[i - 1].seq);
	return l;
}

/* How many CDRs message id has; the last in *out. */
static unsigned cdr_of(struct fx *fx, int64_t id, struct smsc_cdr *out)
{
	struct cdr_list l = cdrs(fx);
	unsigned n = 0;
	for (size_t i = 0; i < l.n; i++) {
		if (l.v[i].id == id) {
			if (out)
				*out = l.v[i];
			n++;
		}
	}
	free(l.v);
	return n;
}

/* The one CDR of message id. */
static struct smsc_cdr the_cdr(struct fx *fx, int64_t id)
{
	struct smsc_cdr c;
	unsigned n = cdr_of(fx, id, &c);
	if (n != 1)
		fail_msg("message %" PRId64 ": %u CDRs, expected 1", id, n);
	return c;
}

/* CDRs that are status reports. */
static unsigned report_cdrs(struct fx *fx, struct smsc_cdr *last)
{
	struct cdr_list l = cdrs(fx);
	unsigned n = 0;
	for (size_t i = 0; i < l.n; i++) {
		if (l.v[i].is_report) {
			*last = l.v[i];
			n++;
		}
	}
	free(l.v);
	return n;
}

struct msg_list {
	struct smsc_message_info v[32];
	unsigned n;
};

static void msg_one(void *ctx, const struct smsc_message_info *m)
{
	struct msg_list *l = ctx;
	if (l->n < 32)
		l->v[l->n] = *m;
	l->n++;
}

/* The messages stored and not final for msisdn. */
static struct msg_list waiting_for(struct fx *fx, uint64_t msisdn)
{
	struct msg_list l = {.n = 0};
	int n = smsc_messages(fx->s, 0, 1000, msisdn, msg_one, &l);
	assert_int_equal(n, (int)l.n);
	return l;
}

static bool stored(struct fx *fx, int64_t id)
{
	struct smsc_message_info mi;
	return smsc_message_get(fx->s, id, &mi) == 0;
}

static struct smsc_message_info info(struct fx *fx, int64_t id)
{
	struct smsc_message_info mi;
	if (smsc_message_get(fx->s, id, &mi) != 0)
		fail_msg("message %" PRId64 " is not stored", id);
	return mi;
}

static struct smsc_stats stats(struct fx *fx)
{
	struct smsc_stats st;
	smsc_get_stats(fx->s, &st);
	return st;
}

/* --- the centre's life ---------------------------------------------------------------- */

static void create_sub(struct fx *fx, const char *imsi, const char *msisdn, const char *cls)
{
	struct hlr_subscr_fields f = {.imsi = imsi,
	                              .msisdn = msisdn,
	                              .class_name = cls,
	                              .status = "active",
	                              .k = "465b5ce8b199b49faa5f0a2ee238a6bc",
	                              .opc = "cd63cb71954a9f4e48a5994e37a02baf"};
	struct hlr_subscr_new in;
	struct hlr_field_error err;
	memset(&err, 0, sizeof(err));
	int rc = hlr_subscr_input_parse(&fx->rf.profile, &f, 5, &in, &err);
	if (rc == 0)
		rc = hlr_subscr_create(fx->rf.reg, &in, NULL, &err);
	if (rc != 0)
		fail_msg("create %s: %d: %s: %s", imsi, rc, err.field, err.msg);
}

/* Opens the centre with fx->opt on the fixture's store and queue, with the
 * channels "sip" (which knows cells) and "gsup", and starts it. */
static void centre_open(struct fx *fx)
{
	assert_int_equal(smsc_open(&fx->opt, fx->rf.reg, fx->rf.st, fx->q, &fx->s), 0);
	smsc_set_clock(fx->s, fake_clock);
	for (unsigned i = 0; i < 2; i++) {
		struct smsc_channel c = {.name = fx->ch[i].name,
		                         .deliver = chan_deliver,
		                         .cell_of = i == 0 ? chan_cell_of : NULL,
		                         .ctx = &fx->ch[i]};
		assert_int_equal(smsc_add_channel(fx->s, &c), 0);
	}
	assert_int_equal(smsc_start(fx->s), 0);
}

/* As koryod stops: the centre's thread, then the queue writes what it holds,
 * then the centre is freed. */
static void centre_close(struct fx *fx)
{
	smsc_stop(fx->s);
	store_queue_stop(fx->q);
	fx->q = NULL;
	smsc_close(fx->s);
	fx->s = NULL;
}

/* A restart of the centre on the same store. */
static void centre_restart(struct fx *fx)
{
	centre_close(fx);
	assert_int_equal(store_queue_start(fx->rf.st, &fx->q), 0);
	centre_open(fx);
}

static int setup_with(void **state, bool charging)
{
	atomic_store(&fake_now, T0);
	struct fx *fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	pthread_mutex_init(&fx->mu, NULL);
	pthread_cond_init(&fx->cv, NULL);
	uint8_t key[32];
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)(0x60 + i);
	registry_fixture_setup(&fx->rf, "smsc", key);
	if (charging) {
		char err[512] = "";
		if (ocs_install(fx->rf.st, KORYO_PROFILE_DIR, err, sizeof(err)) != 0)
			fail_msg("ocs_install: %s", err);
	}
	create_sub(fx, "467050000000101", "+8501912000001", "citizen");
	create_sub(fx, "467050000000102", "+8501912000002", "citizen");
	create_sub(fx, "467050000000109", "+8501912000009", "citizen");
	create_sub(fx, "467050000000201", "+8501913000001", "foreigner");
	create_sub(fx, "467050000000202", "+8501913000002", "foreigner");
	assert_int_equal(store_queue_start(fx->rf.st, &fx->q), 0);
	if (charging)
		assert_int_equal(ocs_open(fx->rf.st, fx->q, fx->rf.reg, &fx->o), 0);
	smsc_options_init(&fx->opt);
	snprintf(fx->opt.address, sizeof(fx->opt.address), "+8501900000");
	fx->opt.ocs = fx->o;
	const char *names[2] = {"sip", "gsup"};
	for (unsigned i = 0; i < 2; i++)
		fx->ch[i] = (struct chan){.fx = fx, .idx = i, .name = names[i]};
	*state = fx;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, false);
}

static int setup_charging(void **state)
{
	return setup_with(state, true);
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	if (fx->s)
		centre_close(fx);
	else
		store_queue_stop(fx->q);
	ocs_close(fx->o);
	sms_rules_close(fx->rules);
	registry_fixture_teardown(&fx->rf);
	/* Every submission was answered once, also those the test did not wait for. */
	for (unsigned i = 0; i < fx->n_waits; i++)
		assert_int_equal(fx->waits[i].calls, 1);
	for (size_t i = 0; i < fx->n_log; i++)
		free(fx->log[i].text);
	free(fx->log);
	pthread_mutex_destroy(&fx->mu);
	pthread_cond_destroy(&fx->cv);
	free(fx);
	return 0;
}

/* --- Korean text ------------------------------------------------------------------- */

static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* words repeated, then end, to exactly chars characters. */
static void korean(char *out, size_t cap, const char *words, const char *end, size_t chars)
{
	out[0] = '\0';
	while (utf8_chars(out) + utf8_chars(words) + utf8_chars(end) <= chars)
		strncat(out, words, cap - strlen(out) - 1);
	strncat(out, end, cap - strlen(out) - 1);
	assert_int_equal(utf8_chars(out), chars);
}

/* Three parts of 67 UCS-2 characters each: the whole takes three segments. */
struct three_parts {
	char p[3][512];
	char whole[1536];
};

static void three_parts(struct three_parts *t)
{
	korean(t->p[0], sizeof(t->p[0]), "안녕하세요 ", "!", 67);
	korean(t->p[1], sizeof(t->p[1]), "반갑습니다 ", "?", 67);
	korean(t->p[2], sizeof(t->p[2]), "감사합니다 ", ".", 67);
	snprintf(t->whole, sizeof(t->whole), "%s%s%s", t->p[0], t->p[1], t->p[2]);
}

static struct smsc_submission segment(const char *key, const struct three_parts *t, uint8_t seq)
{
	struct smsc_submission m = msg(key, A_IMSI, B_NUMBER, t->p[seq - 1]);
	m.origin = "gsup";
	m.concat = true;
	m.ref = 0x42;
	m.total = 3;
	m.seq = seq;
	return m;
}

/* --- the life of a message ----------------------------------------------------------- */

static void test_submit_deliver_cdr(void **state)
{
	struct fx *fx = *state;
	/* B is reached through gsup, not sip. */
	chan_set(fx, 1, B_IMSI, CH_HOLD, SMSC_DELIVERED);
	centre_open(fx);
	const char *text = "Hello from Pyongyang";
	struct smsc_submission m = msg("sip:call-1:1", A_IMSI, B_NUMBER, text);
	int64_t id = submit_ok(fx, &m); /* its row was in the store when "accepted" came */

	struct rec d = wait_delivery(fx, 1);
	assert_string_equal(d.channel, "gsup");
	assert_int_equal(d.d.id, id);
	assert_int_equal(d.d.attempt, 1);
	assert_int_equal(d.d.recipient_imsi, B_IMSI);
	assert_int_equal(d.d.recipient_msisdn, B_MSISDN);
	assert_int_equal(d.d.sender_msisdn, A_MSISDN);
	assert_int_equal(d.d.submitted_at, T0);
	assert_false(d.d.is_report);
	assert_false(d.d.binary);
	assert_false(d.d.report_requested);
	assert_false(d.d.more);
	assert_string_equal(d.text, text);
	assert_int_equal(d.d.text_len, strlen(text));
	/* sip was asked first and could not reach B. */
	pthread_mutex_lock(&fx->mu);
	assert_true(fx->ch[0].offers >= 1);
	pthread_mutex_unlock(&fx->mu);

	/* While the attempt runs the message is stored, waiting. */
	settle(fx);
	struct msg_list l = waiting_for(fx, B_MSISDN);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].id, id);
	assert_int_equal(l.v[0].state, SMSC_STATE_WAITING);
	assert_string_equal(l.v[0].origin, "sip");
	assert_int_equal(l.v[0].sender_msisdn, A_MSISDN);
	assert_int_equal(l.v[0].segments, 1);
	assert_int_equal(l.v[0].size, strlen(text));
	assert_int_equal(l.v[0].submitted_at, T0);
	assert_int_equal(l.v[0].expires_at, T0 + 2 * 86400);
	assert_int_equal(stats(fx).in_flight, 1);
	assert_int_equal(cdr_of(fx, id, NULL), 0);

	atomic_fetch_add(&fake_now, 5);
	answer(fx, 1, SMSC_DELIVERED, "");
	settle(fx);
	struct smsc_cdr c = the_cdr(fx, id);
	assert_string_equal(smsc_state_name(c.outcome), "delivered");
	assert_string_equal(c.channel, "gsup");
	assert_string_equal(c.origin, "sip");
	assert_false(c.is_report);
	assert_int_equal(c.sender_imsi, A_IMSI);
	assert_int_equal(c.sender_msisdn, A_MSISDN);
	assert_int_equal(c.recipient_imsi, B_IMSI);
	assert_int_equal(c.recipient_msisdn, B_MSISDN);
	assert_string_equal(c.sender_cell, "PY-0001");
	assert_string_equal(c.recipient_cell, "PY-0042");
	assert_int_equal(c.segments, 1);
	assert_int_equal(c.size, strlen(text));
	assert_int_equal(c.attempts, 1);
	assert_int_equal(c.submitted_ms, T0 * 1000);
	assert_true(c.final_ms >= (T0 + 5) * 1000 && c.final_ms < (T0 + 6) * 1000);
	/* The row is gone with the CDR, and nothing more is tried. */
	assert_false(stored(fx, id));
	assert_int_equal(waiting_for(fx, B_MSISDN).n, 0);
	struct smsc_stats st = stats(fx);
	assert_int_equal(st.delivered, 1);
	assert_int_equal(st.in_flight, 0);
	assert_int_equal(st.attempts, 1); /* the sentinel was never taken */
	assert_int_equal(st.waiting, 1);  /* the sentinel */
	assert_int_equal(deliveries(fx), 1);
}

static void test_refusals(void **state)
{
	struct fx *fx = *state;
	chan_set(fx, 0, B_IMSI, CH_AUTO, SMSC_DELIVERED);
	centre_open(fx);
	/* No subscriber has the number. */
	struct smsc_submission m = msg("k-unknown", A_IMSI, "+8501999999999", "hi");
	struct smsc_result r = submit(fx, &m);
	assert_int_equal(r.outcome, SMSC_UNKNOWN_RECIPIENT);
	assert_int_equal(r.sip_status, 404);
	assert_int_equal(r.rp_cause, SMS_RP_CAUSE_UNASSIGNED_NUMBER);
	assert_int_equal(r.id, 0);
	assert_true(r.reason[0] != '\0');
	/* A key that is empty, absent or not printable. */
	m = msg("", A_IMSI, B_NUMBER, "hi");
	r = submit(fx, &m);
	assert_int_equal(r.outcome, SMSC_INVALID);
	assert_int_equal(r.sip_status, 400);
	assert_non_null(strstr(r.reason, "key"));
	m.key = NULL;
	assert_int_equal(submit(fx, &m).outcome, SMSC_INVALID);
	m.key = "bad\nkey";
	assert_int_equal(submit(fx, &m).outcome, SMSC_INVALID);
	/* No recipient. */
	m = msg("k-empty", A_IMSI, "", "hi");
	r = submit(fx, &m);
	assert_int_equal(r.outcome, SMSC_INVALID);
	assert_int_equal(r.sip_status, 400);
	assert_non_null(strstr(r.reason, "recipient"));
	m.recipient = NULL;
	assert_int_equal(submit(fx, &m).outcome, SMSC_INVALID);
	/* A segment numbered past its total. */
	m = msg("k-seg", A_IMSI, B_NUMBER, "x");
	m.concat = true;
	m.total = 2;
	m.seq = 3;
	assert_int_equal(submit(fx, &m).outcome, SMSC_INVALID);
	/* A sender who is no subscriber. */
	m = msg("k-nobody", 467050000000999ULL, B_NUMBER, "hi");
	assert_int_equal(submit(fx, &m).outcome, SMSC_INVALID);

	/* None of them was stored, charged, delivered or counted as accepted. */
	settle(fx);
	assert_int_equal(waiting_for(fx, B_MSISDN).n, 0);
	assert_int_equal(deliveries(fx), 0);
	assert_int_equal(cdr_of(fx, 0, NULL), 0);
	assert_int_equal(stats(fx).submitted, 1); /* the sentinel */
	/* The national form of B's number reaches B. */
	m = msg("k-national", A_IMSI, "01912000002", "hi");
	int64_t id = submit_ok(fx, &m);
	assert_int_equal(wait_delivery(fx, 1).d.recipient_imsi, B_IMSI);
	settle(fx);
	assert_string_equal(smsc_state_name(the_cdr(fx, id).outcome), "delivered");
}

static void test_same_key_twice(void **state)
{
	struct fx *fx = *state;
	chan_set(fx, 0, B_IMSI, CH_HOLD, SMSC_DELIVERED);
	centre_open(fx);
	struct smsc_submission m = msg("sip:dup:1", A_IMSI, B_NUMBER, "once");
	int64_t id = submit_ok(fx, &m);
	wait_delivery(fx, 1);
	/* The repeat (e.g. a retransmission) gets the first answer. */
	struct smsc_result r = submit(fx, &m);
	assert_int_equal(r.outcome, SMSC_ACCEPTED);
	assert_int_equal(r.sip_status, 202);
	assert_int_equal(r.id, id);
	/* And both at once, before either is stored. */
	struct smsc_submission m2 = msg("sip:dup:2", A_IMSI, B_NUMBER, "twice at once");
	struct sub_wait *w1 = submit_start(fx, &m2);
	struct sub_wait *w2 = submit_start(fx, &m2);
	struct smsc_result r1 = await(fx, w1), r2 = await(fx, w2);
	assert_int_equal(r1.outcome, SMSC_ACCEPTED);
	assert_int_equal(r2.outcome, SMSC_ACCEPTED);
	assert_int_equal(r1.id, r2.id);
	assert_true(r1.id != id);
	settle(fx);
	/* One row each, one attempt each (the window lets both go). */
	assert_int_equal(waiting_for(fx, B_MSISDN).n, 2);
	assert_int_equal(deliveries(fx), 2);
	answer(fx, 1, SMSC_DELIVERED, "");
	answer(fx, 2, SMSC_DELIVERED, "");
	settle(fx);
	assert_int_equal(cdr_of(fx, id, NULL), 1);
	assert_int_equal(cdr_of(fx, r1.id, NULL), 1);
	assert_int_equal(deliveries(fx), 2);
	assert_int_equal(stats(fx).delivered, 2);
	assert_int_equal(waiting_for(fx, B_MSISDN).n, 0);
}

/* The contract: "a repeat with the same key gets the first answer and stores
 * nothing more", also once the first was delivered (a GSUP MO-Forward-SM or
 * SIP MESSAGE repeated because the answer was lost). */
static void test_same_key_after_delivery_not_delivered_again(void **state)
{
	struct fx *fx = *state;
	chan_set(fx, 0, B_IMSI, CH_AUTO, SMSC_DELIVERED);
	centre_open(fx);
	struct smsc_submission m = msg("gsup:mo:77", A_IMSI, B_NUMBER, "only once, please");
	int64_t id = submit_ok(fx, &m);
	wait_delivery(fx, 1);
	settle(fx);
	assert_int_equal(cdr_of(fx, id, NULL), 1);
	struct smsc_result r = submit(fx, &m);
	settle(fx);
	assert_int_equal(r.outcome, SMSC_ACCEPTED);
	if (deliveries(fx) != 1 || r.id != id)
		fail_msg(
		    "the repeat of a delivered submission was delivered again (%zu deliveries; "
		    "answered id %" PRId64 ", first id %" PRId64 ")",
		    deliveries(fx), r.id, id);
}

static void test_unreachable_then_ready(void **state)
{
	struct fx *fx = *state;
	centre_open(fx); /* no channel reaches B */
	struct smsc_submission m = msg("k-away", A_IMSI, B_NUMBER, "where are you?");
	int64_t id = submit_ok(fx, &m);
	settle(fx);
	assert_int_equal(deliveries(fx), 0);
	struct msg_list l = waiting_for(fx, B_MSISDN);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].id, id);
	assert_string_equal(smsc_state_name(l.v[0].state), "waiting");
	assert_int_equal(l.v[0].attempts, 0);
	/* Time alone does not make it go while B is away... */
	advance(fx, 600);
	assert_int_equal(deliveries(fx), 0);
	/* ...B registering does. */
	chan_set(fx, 1, B_IMSI, CH_AUTO, SMSC_DELIVERED);
	smsc_recipient_ready(fx->s, B_IMSI);
	struct rec d = wait_delivery(fx, 1);
	assert_int_equal(d.d.id, id);
	assert_int_equal(d.d.attempt, 1);
	settle(fx);
	struct smsc_cdr c = the_cdr(fx, id);
	assert_string_equal(smsc_state_name(c.outcome), "delivered");
	assert_string_equal(c.channel, "gsup");
	assert_int_equal(c.attempts, 1);
	assert_false(stored(fx, id));
}

static void test_unreachable_answer_waits_for_ready(void **state)
{
	struct fx *fx = *state;
	chan_set(fx, 0, B_IMSI, CH_HOLD, SMSC_DELIVERED);
	centre_open(fx);
	struct smsc_submission m = msg("k-absent", A_IMSI, B_NUMBER, "are you there?");
	int64_t id = submit_ok(fx, &m);
	wait_delivery(fx, 1);
	/* The access learns B has gone (e.g. paging failed). */
	answer(fx, 1, SMSC_UNREACHABLE, "absent subscriber");
	settle(fx);
	struct smsc_message_info mi = info(fx, id);
	assert_int_equal(mi.attempts, 1);
	assert_string_equal(mi.last_error, "absent subscriber");
	advance(fx, 3600);
	assert_int_equal(deliveries(fx), 1);
	smsc_recipient_ready(fx->s, B_IMSI);
	struct rec d = wait_delivery(fx, 2);
	assert_int_equal(d.d.attempt, 2);
	answer(fx, 2, SMSC_DELIVERED, "");
	settle(fx);
	assert_int_equal(the_cdr(fx, id).attempts, 2);
}

static void test_try_later_backoff(void **state)
{
	struct fx *fx = *state;
	chan_set(fx, 0, B_IMSI, CH_HOLD, SMSC_DELIVERED);
	centre_open(fx);
	struct smsc_submission m = msg("k-busy", A_IMSI, B_NUMBER, "busy?");
	int64_t id = submit_ok(fx, &m);
	wait_delivery(fx, 1);
	answer(fx, 1, SMSC_TRY_LATER, "480");
	settle(fx);
	struct smsc_message_info mi = info(fx, id);
	assert_int_equal(mi.attempts, 1);
	assert_string_equal(mi.last_error, "480");
	assert_int_equal(stats(fx).retries, 1);
	/* The first retry 30 s later, not before. */
	advance(fx, 29);
	assert_int_equal(deliveries(fx), 1);
	advance(fx, 1);
	struct rec d = wait_delivery(fx, 2);
	assert_int_equal(d.d.id, id);
	assert_int_equal(d.d.attempt, 2);
	answer(fx, 2, SMSC_TRY_LATER, "RP cause 42");
	settle(fx);
	assert_int_equal(info(fx, id).attempts, 2);
	assert_string_equal(info(fx, id).last_error, "RP cause 42");
	/* The second 60 s later. */
	advance(fx, 59);
	assert_int_equal(deliveries(fx), 2);
	advance(fx, 1);
	d = wait_delivery(fx, 3);
	assert_int_equal(d.d.attempt, 3);
	answer(fx, 3, SMSC_TRY_LATER, "480");
	settle(fx);
	/* The third 120 s later. */
	advance(fx, 119);
	assert_int_equal(deliveries(fx), 3);
	advance(fx, 1);
	d = wait_delivery(fx, 4);
	assert_int_equal(d.d.attempt, 4);
	answer(fx, 4, SMSC_DELIVERED, "");
	settle(fx);
	struct smsc_cdr c = the_cdr(fx, id);
	assert_string_equal(smsc_state_name(c.outcome), "delivered");
	assert_int_equal(c.attempts, 4);
	struct smsc_stats st = stats(fx);
	assert_int_equal(st.retries, 3);
	assert_int_equal(st.delivered, 1);
	assert_false(stored(fx, id));
}

static void test_failed_is_final(void **state)
{
	struct fx *fx = *state;
	chan_set(fx, 0, B_IMSI, CH_HOLD, SMSC_DELIVERED);
	centre_open(fx);
	struct smsc_submission m = msg("k-fail", A_IMSI, B_NUMBER, "refuse me");
	int64_t id = submit_ok(fx, &m);
	wait_delivery(fx, 1);
	answer(fx, 1, SMSC_FAILED, "RP cause 21");
	settle(fx);
	struct smsc_cdr c = the_cdr(fx, id);
	assert_string_equal(smsc_state_name(c.outcome), "failed");
	assert_string_equal(c.channel, "");
	assert_int_equal(c.attempts, 1);
	assert_false(stored(fx, id));
	/* Never tried again, also when B comes back. */
	advance(fx, 1800);
	smsc_recipient_ready(fx->s, B_IMSI);
	settle(fx);
	assert_int_equal(deliveries(fx), 1);
	assert_int_equal(stats(fx).failed, 1);
	assert_int_equal(stats(fx).delivered, 0);
}

static void test_no_answer_times_out_and_stale_answer_ignored(void **state)
{
	struct fx *fx = *state;
	fx->opt.delivery_timeout_s = 60;
	chan_set(fx, 0, B_IMSI, CH_HOLD, SMSC_DELIVERED);
	centre_open(fx);
	struct smsc_submission m = msg("k-silent", A_IMSI, B_NUMBER, "hello?");
	int64_t id = submit_ok(fx, &m);
	wait_delivery(fx, 1);
	advance(fx, 59);
	assert_int_equal(stats(fx).in_flight, 1);
	assert_int_equal(stats(fx).retries, 0);
	/* At the timeout the attempt counts as a temporary failure. */
	advance(fx, 1);
	struct smsc_stats st = stats(fx);
	assert_int_equal(st.in_flight, 0);
	assert_int_equal(st.retries, 1);
	assert_int_equal(info(fx, id).attempts, 1);
	assert_string_equal(info(fx, id).last_error, "no answer");
	assert_int_equal(deliveries(fx), 1);
	/* Tried again after the back-off. */
	advance(fx, 30);
	struct rec d = wait_delivery(fx, 2);
	assert_int_equal(d.d.attempt, 2);
	/* The first attempt's late answer changes nothing. */
	answer(fx, 1, SMSC_DELIVERED, "late");
	settle(fx);
	assert_true(stored(fx, id));
	assert_int_equal(cdr_of(fx, id, NULL), 0);
	assert_int_equal(stats(fx).in_flight, 1);
	answer(fx, 1, SMSC_FAILED, "late");
	settle(fx);
	assert_true(stored(fx, id));
	/* The second's does. */
	answer(fx, 2, SMSC_DELIVERED, "");
	settle(fx);
	struct smsc_cdr c = the_cdr(fx, id);
	assert_string_equal(smsc_state_name(c.outcome), "delivered");
	assert_int_equal(c.attempts, 2);
	/* And a repeat of it is ignored too. */
	answer(fx, 2, SMSC_DELIVERED, "");
	settle(fx);
	assert_int_equal(cdr_of(fx, id, NULL), 1);
	assert_int_equal(stats(fx).delivered, 1);
}

/* --- validity and status reports ------------------------------------------------------ */

static void test_expiry_with_report(void **state)
{
	struct fx *fx = *state;
	chan_set(fx, 0, A_IMSI, CH_AUTO, SMSC_DELIVERED); /* the sender is reachable */
	centre_open(fx);
	struct smsc_submission m = msg("k-expire", A_IMSI, B_NUMBER, "you will not get this");
	m.report = true;
	m.mr = 0x17;
	m.validity_s = 3600;
	int64_t id = submit_ok(fx, &m);
	settle(fx);
	assert_int_equal(info(fx, id).expires_at, T0 + 3600);
	assert_true(info(fx, id).report);
	advance(fx, 3599);
	assert_true(stored(fx, id));
	assert_int_equal(deliveries(fx), 0);
	advance(fx, 1);
	assert_false(stored(fx, id));
	struct smsc_cdr c = the_cdr(fx, id);
	assert_string_equal(smsc_state_name(c.outcome), "expired");
	assert_string_equal(c.channel, "");
	assert_int_equal(c.attempts, 0);
	assert_int_equal(stats(fx).expired, 1);
	/* The sender hears of it: a status report from B's number, for its MR. */
	struct rec d = wait_delivery(fx, 1);
	assert_true(d.d.is_report);
	assert_int_equal(d.d.recipient_imsi, A_IMSI);
	assert_int_equal(d.d.recipient_msisdn, A_MSISDN);
	assert_int_equal(d.d.sender_msisdn, B_MSISDN);
	assert_int_equal(d.d.mr, 0x17);
	assert_int_equal(d.d.st, 0x46);
	assert_int_equal(d.d.submitted_at, T0);
	assert_int_equal(d.d.discharged_at, T0 + 3600);
	settle(fx);
	struct smsc_cdr rc;
	assert_int_equal(report_cdrs(fx, &rc), 1);
	assert_string_equal(smsc_state_name(rc.outcome), "delivered");
	assert_int_equal(rc.recipient_imsi, A_IMSI);
	assert_true(rc.id != id);
	assert_int_equal(stats(fx).reports_sent, 1);
	assert_int_equal(waiting_for(fx, A_MSISDN).n, 0);
}

/* A recipient that comes back after the validity ended, before the centre's
 * timer noticed: the message is not delivered (it expired), and its CDR
 * and report say expired only of a message nobody received. */
static void test_message_past_validity_not_delivered_when_recipient_returns(void **state)
{
	struct fx *fx = *state;
	chan_set(fx, 0, A_IMSI, CH_AUTO, SMSC_DELIVERED);
	centre_open(fx);
	struct smsc_submission m = msg("k-late", A_IMSI, B_NUMBER, "stale news");
	m.validity_s = 60;
	m.report = true;
	int64_t id = submit_ok(fx, &m);
	settle(fx);
	/* The clock passes the validity; B registers at once. */
	atomic_fetch_add(&fake_now, 120);
	chan_set(fx, 0, B_IMSI, CH_AUTO, SMSC_DELIVERED);
	smsc_recipient_ready(fx->s, B_IMSI);
	settle(fx);
	assert_false(stored(fx, id));
	struct smsc_cdr c = the_cdr(fx, id);
	size_t to_b = 0;
	pthread_mutex_lock(&fx->mu);
	for (size_t i = 0; i < fx->n_log; i++)
		to_b += fx->log[i].d.recipient_imsi == B_IMSI;
	pthread_mutex_unlock(&fx->mu);
	if (to_b != 0 || c.outcome != SMSC_STATE_EXPIRED || c.attempts != 0)
		fail_msg("a message %d s past its validity was offered %zu time(s); its CDR says "
		         "%s after %u attempt(s)",
		         60, to_b, smsc_state_name(c.outcome), c.attempts);
	struct smsc_cdr rc;
	assert_int_equal(report_cdrs(fx, &rc), 1);
}

static void test_delivered_report_and_validity_cap(void **state)
{
	struct fx *fx = *state;
	chan_set(fx, 0, A_IMSI, CH_AUTO, SMSC_DELIVERED);
	chan_set(fx, 1, B_IMSI, CH_HOLD, SMSC_DELIVERED);
	centre_open(fx);
	struct smsc_submission m = msg("k-report", A_IMSI, B_NUMBER, "tell me when");
	m.report = true;
	m.mr = 0xa5;
	m.validity_s = 30 * 86400; /* more than the centre keeps anything */
	int64_t id = submit_ok(fx, &m);
	struct rec d = wait_delivery(fx, 1);
	assert_true(d.d.report_requested);
	assert_false(d.d.is_report);
	settle(fx);
	assert_int_equal(info(fx, id).expires_at, T0 + 7 * 86400);
	atomic_fetch_add(&fake_now, 10);
	answer(fx, 1, SMSC_DELIVERED, "");
	d = wait_delivery(fx, 2);
	assert_true(d.d.is_report);
	assert_int_equal(d.d.recipient_imsi, A_IMSI);
	assert_int_equal(d.d.sender_msisdn, B_MSISDN);
	assert_int_equal(d.d.mr, 0xa5);
	assert_int_equal(d.d.st, 0x00);
	assert_int_equal(d.d.discharged_at, T0 + 10);
	settle(fx);
	assert_string_equal(smsc_state_name(the_cdr(fx, id).outcome), "delivered");
	struct smsc_cdr rc;
	assert_int_equal(report_cdrs(fx, &rc), 1);
	assert_string_equal(smsc_state_name(rc.outcome), "delivered");
	assert_string_equal(rc.channel, "sip");
	/* A message without report asks for none. */
	struct smsc_submission n = msg("k-noreport", A_IMSI, B_NUMBER, "no report");
	int64_t id2 = submit_ok(fx, &n);
	d = wait_delivery(fx, 3);
	assert_false(d.d.report_requested);
	answer(fx, 3, SMSC_DELIVERED, "");
	settle(fx);
	assert_int_equal(the_cdr(fx, id2).attempts, 1);
	assert_int_equal(report_cdrs(fx, &rc), 1);
	assert_int_equal(deliveries(fx), 3);
}

/* --- order and window ------------------------------------------------------------------ */

static void test_order_and_window(void **state)
{
	struct fx *fx = *state;
	fx->opt.window = 2;
	centre_open(fx);
	int64_t ids[5];
	for (int i = 0; i < 5; i++) {
		char key[16], text[16];
		snprintf(key, sizeof(key), "k-order-%d", i);
		snprintf(text, sizeof(text), "message %d", i + 1);
		struct smsc_submission m = msg(key, A_IMSI, B_NUMBER, text);
		ids[i] = submit_ok(fx, &m);
		if (i)
			assert_true(ids[i] > ids[i - 1]);
	}
	settle(fx);
	assert_int_equal(waiting_for(fx, B_MSISDN).n, 5);
	/* B comes: the first two go, saying more follow. */
	chan_set(fx, 0, B_IMSI, CH_HOLD, SMSC_DELIVERED);
	smsc_recipient_ready(fx->s, B_IMSI);
	wait_delivery(fx, 2);
	settle(fx);
	assert_int_equal(deliveries(fx), 2);
	for (size_t i = 1; i <= 2; i++) {
		struct rec d = wait_delivery(fx, i);
		assert_int_equal(d.d.id, ids[i - 1]);
		assert_true(d.d.more);
	}
	/* Each answer lets the next one go, in order. */
	for (size_t n = 1; n <= 5; n++) {
		answer(fx, n, SMSC_DELIVERED, "");
		if (n + 2 <= 5) {
			struct rec d = wait_delivery(fx, n + 2);
			assert_int_equal(d.d.id, ids[n + 1]);
			char want[16];
			snprintf(want, sizeof(want), "message %zu", n + 2);
			assert_string_equal(d.text, want);
		}
		settle(fx);
		assert_true(stats(fx).in_flight <= 2);
	}
	assert_int_equal(deliveries(fx), 5);
	assert_false(wait_delivery(fx, 5).d.more);
	pthread_mutex_lock(&fx->mu);
	assert_int_equal(fx->max_in_flight, 2);
	pthread_mutex_unlock(&fx->mu);
	struct cdr_list l = cdrs(fx);
	unsigned k = 0;
	for (size_t i = 0; i < l.n; i++) {
		if (l.v[i].recipient_imsi == B_IMSI) {
			assert_int_equal(l.v[i].id, ids[k]);
			k++;
		}
	}
	free(l.v);
	assert_int_equal(k, 5);
}

static void test_retry_keeps_order(void **state)
{
	struct fx *fx = *state;
	fx->opt.window = 1;
	chan_set(fx, 0, B_IMSI, CH_HOLD, SMSC_DELIVERED);
	centre_open(fx);
	struct smsc_submission m1 = msg("k-first", A_IMSI, B_NUMBER, "first");
	struct smsc_submission m2 = msg("k-second", A_IMSI, B_NUMBER, "second");
	int64_t id1 = submit_ok(fx, &m1);
	int64_t id2 = submit_ok(fx, &m2);
	assert_int_equal(wait_delivery(fx, 1).d.id, id1);
	answer(fx, 1, SMSC_TRY_LATER, "busy");
	settle(fx);
	/* The second does not overtake the first while it waits for its retry. */
	assert_int_equal(deliveries(fx), 1);
	advance(fx, 30);
	struct rec d = wait_delivery(fx, 2);
	assert_int_equal(d.d.id, id1);
	assert_int_equal(d.d.attempt, 2);
	answer(fx, 2, SMSC_DELIVERED, "");
	d = wait_delivery(fx, 3);
	assert_int_equal(d.d.id, id2);
	answer(fx, 3, SMSC_DELIVERED, "");
	settle(fx);
	assert_int_equal(the_cdr(fx, id1).attempts, 2);
	assert_int_equal(the_cdr(fx, id2).attempts, 1);
}

/* --- concatenated text --------------------------------------------------------------------- */

static void test_concatenated_korean(void **state)
{
	struct fx *fx = *state;
	chan_set(fx, 0, B_IMSI, CH_HOLD, SMSC_DELIVERED);
	centre_open(fx);
	struct three_parts t;
	three_parts(&t);
	/* In any order; a repeated segment changes nothing. */
	struct smsc_submission s2 = segment("gsup:seg:2", &t, 2);
	struct smsc_result r = submit(fx, &s2);
	assert_int_equal(r.outcome, SMSC_SEGMENT_STORED);
	assert_int_equal(r.sip_status, 202);
	assert_int_equal(r.id, 0);
	assert_int_equal(submit(fx, &s2).outcome, SMSC_SEGMENT_STORED);
	struct smsc_submission s3 = segment("gsup:seg:3", &t, 3);
	assert_int_equal(submit(fx, &s3).outcome, SMSC_SEGMENT_STORED);
	struct smsc_submission s2b = segment("gsup:seg:2-again", &t, 2);
	assert_int_equal(submit(fx, &s2b).outcome, SMSC_SEGMENT_STORED);
	settle(fx);
	assert_int_equal(deliveries(fx), 0);
	assert_int_equal(waiting_for(fx, B_MSISDN).n, 0);
	assert_int_equal(stats(fx).segments_waiting, 1);
	struct smsc_submission s1 = segment("gsup:seg:1", &t, 1);
	int64_t id = submit_ok(fx, &s1);
	struct rec d = wait_delivery(fx, 1);
	assert_int_equal(d.d.id, id);
	assert_string_equal(d.text, t.whole);
	assert_int_equal(d.d.text_len, strlen(t.whole));
	assert_int_equal(d.d.sender_msisdn, A_MSISDN);
	settle(fx);
	struct msg_list l = waiting_for(fx, B_MSISDN);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].segments, 3);
	assert_int_equal(l.v[0].size, strlen(t.whole));
	assert_string_equal(l.v[0].origin, "gsup");
	assert_int_equal(stats(fx).segments_waiting, 0);
	answer(fx, 1, SMSC_DELIVERED, "");
	settle(fx);
	struct smsc_cdr c = the_cdr(fx, id);
	assert_int_equal(c.segments, 3);
	assert_int_equal(c.size, strlen(t.whole));
	assert_string_equal(smsc_state_name(c.outcome), "delivered");
	/* One message: one delivery, one CDR for the recipient. */
	assert_int_equal(deliveries(fx), 1);
	assert_int_equal(stats(fx).delivered, 1);
	assert_int_equal(stats(fx).submitted, 2); /* with the sentinel */
}

/* A repeat of the segment that completed the message (its answer was lost)
 * gets the first answer and leaves nothing behind. */
static void test_repeat_of_completing_segment_gets_first_answer(void **state)
{
	struct fx *fx = *state;
	chan_set(fx, 0, B_IMSI, CH_AUTO, SMSC_DELIVERED);
	centre_open(fx);
	struct three_parts t;
	three_parts(&t);
	struct smsc_submission s[3];
	for (uint8_t i = 1; i <= 3; i++) {
		char key[24];
		snprintf(key, sizeof(key), "gsup:rep:%u", i);
		s[i - 1] = segment(strdup(key), &t, i);
	}
	assert_int_equal(submit(fx, &s[0]).outcome, SMSC_SEGMENT_STORED);
	assert_int_equal(submit(fx, &s[1]).outcome, SMSC_SEGMENT_STORED);
	int64_t id = submit_ok(fx, &s[2]);
	wait_delivery(fx, 1);
	settle(fx);
	struct smsc_result r = submit(fx, &s[2]);
	settle(fx);
	struct smsc_stats st = stats(fx);
	for (int i = 0; i < 3; i++)
		free((char *)s[i].key);
	assert_int_equal(deliveries(fx), 1);
	if (r.outcome != SMSC_ACCEPTED || r.id != id || st.segments_waiting != 0)
		fail_msg("repeat of the completing segment: outcome %d id %" PRId64
		         " (first %" PRId64 "), %" PRIu64 " segment(s) left waiting",
		         r.outcome, r.id, id, st.segments_waiting);
}

/* --- restart ------------------------------------------------------------------------------- */

static void test_restart_delivers_waiting(void **state)
{
	struct fx *fx = *state;
	centre_open(fx);
	struct smsc_submission m = msg("k-restart", A_IMSI, B_NUMBER, "after the restart");
	m.report = true;
	m.mr = 9;
	int64_t id = submit_ok(fx, &m);
	settle(fx);
	assert_int_equal(deliveries(fx), 0);
	centre_restart(fx);
	assert_int_equal(stats(fx).waiting, 2); /* with the sentinel */
	settle(fx);
	struct msg_list l = waiting_for(fx, B_MSISDN);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].id, id);
	/* B is there now: the message goes, with everything it had. */
	chan_set(fx, 1, B_IMSI, CH_AUTO, SMSC_DELIVERED);
	chan_set(fx, 0, A_IMSI, CH_AUTO, SMSC_DELIVERED);
	centre_restart(fx); /* B is tried when the centre starts */
	struct rec d = wait_delivery(fx, 1);
	assert_int_equal(d.d.id, id);
	assert_string_equal(d.text, "after the restart");
	assert_int_equal(d.d.sender_msisdn, A_MSISDN);
	assert_int_equal(d.d.submitted_at, T0);
	assert_true(d.d.report_requested);
	d = wait_delivery(fx, 2);
	assert_true(d.d.is_report);
	assert_int_equal(d.d.mr, 9);
	settle(fx);
	struct smsc_cdr c = the_cdr(fx, id);
	assert_string_equal(smsc_state_name(c.outcome), "delivered");
	assert_string_equal(c.origin, "sip");
	assert_string_equal(c.sender_cell, "PY-0001");
	assert_false(stored(fx, id));
	/* New messages after a restart get new ids and CDRs new seqs. */
	struct smsc_submission n = msg("k-after", A_IMSI, B_NUMBER, "new");
	int64_t id2 = submit_ok(fx, &n);
	assert_true(id2 > id);
	wait_delivery(fx, 3);
	settle(fx);
	assert_int_equal(the_cdr(fx, id2).attempts, 1);
}

static void test_restart_expires_past_validity(void **state)
{
	struct fx *fx = *state;
	centre_open(fx);
	struct smsc_submission m = msg("k-old", A_IMSI, B_NUMBER, "too late");
	m.validity_s = 60;
	int64_t id = submit_ok(fx, &m);
	settle(fx);
	centre_close(fx);
	atomic_fetch_add(&fake_now, 120); /* the centre was down past its validity */
	assert_int_equal(store_queue_start(fx->rf.st, &fx->q), 0);
	chan_set(fx, 0, B_IMSI, CH_AUTO, SMSC_DELIVERED);
	centre_open(fx);
	settle(fx);
	assert_int_equal(deliveries(fx), 0);
	assert_false(stored(fx, id));
	assert_string_equal(smsc_state_name(the_cdr(fx, id).outcome), "expired");
}

static void test_restart_completes_segments(void **state)
{
	struct fx *fx = *state;
	chan_set(fx, 0, B_IMSI, CH_AUTO, SMSC_DELIVERED);
	centre_open(fx);
	struct three_parts t;
	three_parts(&t);
	struct smsc_submission s1 = segment("gsup:r:1", &t, 1);
	struct smsc_submission s3 = segment("gsup:r:3", &t, 3);
	assert_int_equal(submit(fx, &s3).outcome, SMSC_SEGMENT_STORED);
	assert_int_equal(submit(fx, &s1).outcome, SMSC_SEGMENT_STORED);
	centre_restart(fx);
	assert_int_equal(stats(fx).segments_waiting, 1);
	/* A repeat of a segment stored before the restart is still a repeat. */
	assert_int_equal(submit(fx, &s1).outcome, SMSC_SEGMENT_STORED);
	struct smsc_submission s2 = segment("gsup:r:2", &t, 2);
	int64_t id = submit_ok(fx, &s2);
	struct rec d = wait_delivery(fx, 1);
	assert_int_equal(d.d.id, id);
	assert_string_equal(d.text, t.whole);
	settle(fx);
	assert_int_equal(deliveries(fx), 1);
	assert_int_equal(the_cdr(fx, id).segments, 3);
	assert_int_equal(stats(fx).segments_waiting, 0);
	/* The segments' rows went with the whole message: nothing to reload. */
	centre_restart(fx);
	settle(fx);
	assert_int_equal(stats(fx).segments_waiting, 0);
	assert_int_equal(deliveries(fx), 1);
}

/* Many recipients waiting at a restart, all reachable: each is tried, each
 * message delivered once (smsc_start walks its recipients while the thread
 * already delivers and frees them). */
static void test_restart_many_recipients(void **state)
{
	struct fx *fx = *state;
	enum { N = 60 };
	const uint64_t base = 467050000001000ULL;
	for (int i = 0; i < N; i++) {
		char imsi[24], msisdn[24];
		snprintf(imsi, sizeof(imsi), "%" PRIu64, base + (uint64_t)i);
		snprintf(msisdn, sizeof(msisdn), "+85019140000%02d", i);
		create_sub(fx, imsi, msisdn, "citizen");
	}
	centre_open(fx);
	for (int i = 0; i < N; i++) {
		char key[24], to[24];
		snprintf(key, sizeof(key), "k-many-%d", i);
		snprintf(to, sizeof(to), "+85019140000%02d", i);
		struct smsc_submission m = msg(key, A_IMSI, to, "hello all");
		m.report = true; /* each delivery stores a report for A: more recipients */
		submit_ok(fx, &m);
	}
	settle(fx);
	for (int i = 0; i < N; i++) {
		for (unsigned c = 0; c < 2; c++)
			chan_set(fx, c, base + (uint64_t)i, CH_AUTO, SMSC_DELIVERED);
	}
	chan_set(fx, 0, A_IMSI, CH_AUTO, SMSC_DELIVERED);
	centre_restart(fx);
	wait_delivery(fx, 2 * N);
	settle(fx);
	assert_int_equal(deliveries(fx), 2 * N);
	assert_int_equal(stats(fx).delivered, N);
	assert_int_equal(stats(fx).reports_sent, N);
}

/* --- content rules ---------------------------------------------------------------------- */

static void put_rule(struct fx *fx, const char *name, int64_t prio, enum sms_text_match match,
                     const char *text, enum sms_action action, const char *reason)
{
	struct sms_rule r;
	memset(&r, 0, sizeof(r));
	snprintf(r.name, sizeof(r.name), "%s", name);
	r.priority = prio;
	snprintf(r.sender, sizeof(r.sender), "*");
	snprintf(r.recipient, sizeof(r.recipient), "*");
	snprintf(r.sender_class, sizeof(r.sender_class), "*");
	r.match = match;
	snprintf(r.text, sizeof(r.text), "%s", text);
	r.action = action;
	snprintf(r.reason, sizeof(r.reason), "%s", reason);
	struct sms_rules_error e;
	int rc = sms_rules_put(fx->rules, &r, "test", &e);
	if (rc != 0 && rc != 1)
		fail_msg("rule %s: %d %s: %s", name, rc, e.field, e.msg);
}

static void test_content_rules(void **state)
{
	struct fx *fx = *state;
	assert_int_equal(sms_rules_open(fx->rf.st, NULL, &fx->rf.profile, &fx->rules), 0);
	put_rule(fx, "no-pins", 100, SMS_TEXT_REGEX, "send (me )?your pin", SMS_ACTION_REFUSE,
	         "asks for a PIN");
	put_rule(fx, "prize-scam", 200, SMS_TEXT_WORDS, "you have won", SMS_ACTION_HOLD,
	         "looks like a prize scam");
	fx->opt.rules = fx->rules;
	chan_set(fx, 0, B_IMSI, CH_AUTO, SMSC_DELIVERED);
	centre_open(fx);

	/* Refused: why, and by which rule; nothing kept. */
	struct smsc_submission m = msg("k-pin", A_IMSI, B_NUMBER, "Please send me your PIN");
	struct smsc_result r = submit(fx, &m);
	assert_int_equal(r.outcome, SMSC_REFUSED);
	assert_int_equal(r.sip_status, 403);
	assert_int_equal(r.rp_cause, SMS_RP_CAUSE_SM_REJECTED);
	assert_string_equal(r.reason, "asks for a PIN");
	assert_string_equal(r.rule, "no-pins");
	assert_int_equal(r.id, 0);
	assert_int_equal(stats(fx).refused, 1);

	/* Held: accepted, stored with state held, not delivered. */
	struct smsc_submission h = msg("k-prize", A_IMSI, B_NUMBER, "You have won a bicycle!");
	struct sub_wait *w = submit_start(fx, &h);
	r = await(fx, w);
	assert_int_equal(r.outcome, SMSC_ACCEPTED);
	assert_int_equal(r.sip_status, 202);
	assert_true(r.held);
	assert_true(w->row_durable);
	int64_t held = r.id;
	struct smsc_submission h2 = msg("k-prize2", A_IMSI, B_NUMBER, "you have won again");
	r = submit(fx, &h2);
	assert_true(r.held);
	int64_t held2 = r.id;
	settle(fx);
	assert_int_equal(deliveries(fx), 0);
	struct msg_list l = waiting_for(fx, B_MSISDN);
	assert_int_equal(l.n, 2);
	assert_string_equal(smsc_state_name(l.v[0].state), "held");
	assert_int_equal(info(fx, held2).state, SMSC_STATE_HELD);
	struct smsc_stats st = stats(fx);
	assert_int_equal(st.held, 2);
	assert_int_equal(st.waiting, 3); /* with the sentinel */
	/* Time does not release it. */
	advance(fx, 600);
	assert_int_equal(deliveries(fx), 0);

	/* Released by the operator: delivered. */
	assert_int_equal(smsc_release(fx->s, held, "operator"), 0);
	struct rec d = wait_delivery(fx, 1);
	assert_int_equal(d.d.id, held);
	assert_string_equal(d.text, "You have won a bicycle!");
	settle(fx);
	assert_string_equal(smsc_state_name(the_cdr(fx, held).outcome), "delivered");
	assert_int_equal(smsc_release(fx->s, held, "operator"), -ENOENT);

	/* Deleted by the operator: never delivered, its CDR says so. */
	assert_int_equal(smsc_delete(fx->s, held2, "operator"), 0);
	settle(fx);
	assert_false(stored(fx, held2));
	struct smsc_cdr c = the_cdr(fx, held2);
	assert_string_equal(smsc_state_name(c.outcome), "deleted");
	assert_int_equal(c.sender_msisdn, A_MSISDN);
	assert_int_equal(c.recipient_msisdn, B_MSISDN);
	assert_int_equal(smsc_delete(fx->s, held2, "operator"), -ENOENT);
	assert_int_equal(smsc_release(fx->s, held2, "operator"), -ENOENT);
	assert_int_equal(deliveries(fx), 1);
	st = stats(fx);
	assert_int_equal(st.held, 0);
	assert_int_equal(st.waiting, 1);
	/* A message that is not held cannot be released or deleted. */
	assert_int_equal(smsc_delete(fx->s, fx->sentinel_id, "operator"), -ENOENT);
	assert_int_equal(smsc_release(fx->s, fx->sentinel_id, "operator"), -ENOENT);
	/* Other text passes. */
	struct smsc_submission ok = msg("k-fine", A_IMSI, B_NUMBER, "see you at five");
	int64_t id = submit_ok(fx, &ok);
	wait_delivery(fx, 2);
	settle(fx);
	assert_string_equal(smsc_state_name(the_cdr(fx, id).outcome), "delivered");
}

/* The content rules hold every message with the word "review". */
static void hold_for_review(struct fx *fx)
{
	assert_int_equal(sms_rules_open(fx->rf.st, NULL, &fx->rf.profile, &fx->rules), 0);
	put_rule(fx, "hold-all", 100, SMS_TEXT_WORDS, "review", SMS_ACTION_HOLD, "to review");
	fx->opt.rules = fx->rules;
}

static void test_held_survives_restart(void **state)
{
	struct fx *fx = *state;
	hold_for_review(fx);
	chan_set(fx, 0, B_IMSI, CH_AUTO, SMSC_DELIVERED);
	centre_open(fx);
	struct smsc_submission h = msg("k-review", A_IMSI, B_NUMBER, "please review this");
	struct smsc_result r = submit(fx, &h);
	assert_true(r.held);
	centre_restart(fx);
	settle(fx);
	assert_int_equal(deliveries(fx), 0);
	assert_int_equal(stats(fx).held, 1);
	assert_int_equal(info(fx, r.id).state, SMSC_STATE_HELD);
	assert_int_equal(smsc_release(fx->s, r.id, "operator"), 0);
	wait_delivery(fx, 1);
	settle(fx);
	assert_int_equal(the_cdr(fx, r.id).attempts, 1);
	assert_int_equal(stats(fx).held, 0);
}

/* A held message nobody reviewed ends at its validity (within a sweep): as
 * expired, with its CDR and the status report its sender asked for. */
static void test_held_expires_unreviewed(void **state)
{
	struct fx *fx = *state;
	hold_for_review(fx);
	chan_set(fx, 0, A_IMSI, CH_AUTO, SMSC_DELIVERED);
	chan_set(fx, 0, B_IMSI, CH_AUTO, SMSC_DELIVERED);
	centre_open(fx);
	struct smsc_submission h = msg("k-unreviewed", A_IMSI, B_NUMBER, "please review this");
	h.report = true;
	h.mr = 0x21;
	h.validity_s = 3600;
	struct smsc_result r = submit(fx, &h);
	assert_true(r.held);
	settle(fx);
	advance(fx, 3599);
	assert_true(stored(fx, r.id));
	assert_int_equal(info(fx, r.id).state, SMSC_STATE_HELD);
	assert_int_equal(stats(fx).held, 1);
	advance(fx, 61); /* past the validity and the next sweep */
	assert_false(stored(fx, r.id));
	struct smsc_cdr c = the_cdr(fx, r.id);
	assert_string_equal(smsc_state_name(c.outcome), "expired");
	assert_int_equal(c.attempts, 0);
	assert_int_equal(stats(fx).held, 0);
	assert_int_equal(stats(fx).expired, 1);
	/* B never got it; A hears it expired. */
	struct rec d = wait_delivery(fx, 1);
	assert_true(d.d.is_report);
	assert_int_equal(d.d.recipient_imsi, A_IMSI);
	assert_int_equal(d.d.mr, 0x21);
	assert_int_equal(d.d.st, 0x46);
	settle(fx);
	assert_int_equal(deliveries(fx), 1);
	assert_int_equal(smsc_release(fx->s, r.id, "operator"), -ENOENT);
}

/* --- limits ---------------------------------------------------------------------------- */

static void test_limit_per_recipient(void **state)
{
	struct fx *fx = *state;
	fx->opt.max_per_recipient = 2;
	centre_open(fx);
	struct smsc_submission m1 = msg("k-l1", A_IMSI, B_NUMBER, "one");
	struct smsc_submission m2 = msg("k-l2", A_IMSI, B_NUMBER, "two");
	struct smsc_submission m3 = msg("k-l3", A_IMSI, B_NUMBER, "three");
	submit_ok(fx, &m1);
	submit_ok(fx, &m2);
	struct smsc_result r = submit(fx, &m3);
	assert_int_equal(r.outcome, SMSC_FULL);
	assert_int_equal(r.sip_status, 480);
	assert_int_equal(r.rp_cause, SMS_RP_CAUSE_MEMORY_EXCEEDED);
	assert_true(r.reason[0] != '\0');
	/* Another recipient is not concerned. */
	struct smsc_submission f = msg("k-l4", A_IMSI, "+8501913000002", "other");
	submit_ok(fx, &f);
	settle(fx);
	assert_int_equal(waiting_for(fx, B_MSISDN).n, 2);
	/* Once B took them there is room again, under the same key. */
	chan_set(fx, 0, B_IMSI, CH_AUTO, SMSC_DELIVERED);
	smsc_recipient_ready(fx->s, B_IMSI);
	wait_delivery(fx, 2);
	settle(fx);
	assert_int_equal(waiting_for(fx, B_MSISDN).n, 0);
	submit_ok(fx, &m3);
	wait_delivery(fx, 3);
}

static void test_limit_total(void **state)
{
	struct fx *fx = *state;
	fx->opt.max_stored = 3;
	centre_open(fx);
	settle(fx); /* the sentinel is one of the 3 */
	struct smsc_submission m1 = msg("k-t1", A_IMSI, B_NUMBER, "one");
	struct smsc_submission m2 = msg("k-t2", A_IMSI, "+8501913000002", "two");
	struct smsc_submission m3 = msg("k-t3", A_IMSI, "+8501913000001", "three");
	submit_ok(fx, &m1);
	submit_ok(fx, &m2);
	struct smsc_result r = submit(fx, &m3);
	assert_int_equal(r.outcome, SMSC_FULL);
	assert_int_equal(r.sip_status, 503);
	assert_int_equal(r.rp_cause, SMS_RP_CAUSE_CONGESTION);
	assert_int_equal(stats(fx).waiting, 3);
}

static void test_limit_counts_restart(void **state)
{
	struct fx *fx = *state;
	fx->opt.max_per_recipient = 1;
	centre_open(fx);
	struct smsc_submission m1 = msg("k-c1", A_IMSI, B_NUMBER, "one");
	submit_ok(fx, &m1);
	centre_restart(fx);
	struct smsc_submission m2 = msg("k-c2", A_IMSI, B_NUMBER, "two");
	assert_int_equal(submit(fx, &m2).outcome, SMSC_FULL);
}

/* --- charging ---------------------------------------------------------------------------- */

static void grant_done(void *ctx, const struct ocs_grant *g)
{
	struct sub_wait *w = ctx;
	struct fx *fx = w->fx;
	pthread_mutex_lock(&fx->mu);
	w->r.outcome = g->status == 0 ? SMSC_ACCEPTED : SMSC_NO_CREDIT;
	w->calls++;
	w->done = true;
	pthread_cond_broadcast(&fx->cv);
	pthread_mutex_unlock(&fx->mu);
}

static int64_t balance(struct fx *fx, const char *account, const char *cur, int64_t *sms)
{
	struct ocs_account_info i;
	assert_int_equal(ocs_account_info(fx->o, account, &i), 0);
	if (sms)
		*sms = i.allowance_sms;
	for (unsigned k = 0; k < i.n_balances; k++) {
		if (strcmp(i.balances[k].currency, cur) == 0)
			return i.balances[k].amount;
	}
	fail_msg("%s has no %s balance", account, cur);
	return 0;
}

static void test_charging_per_segment(void **state)
{
	struct fx *fx = *state;
	chan_set(fx, 0, B_IMSI, CH_AUTO, SMSC_DELIVERED);
	chan_set(fx, 0, F2_IMSI, CH_HOLD, SMSC_DELIVERED);
	centre_open(fx);
	settle(fx); /* the sentinel, charged to its own line */
	int64_t sms_a0 = 0;
	balance(fx, "467050000000101", "KPW", &sms_a0);
	assert_true(sms_a0 >= 3);

	/* A citizen's three segments: three of the month's free SMS. */
	struct three_parts t;
	three_parts(&t);
	struct smsc_submission s1 = segment("gsup:c:1", &t, 1);
	struct smsc_submission s2 = segment("gsup:c:2", &t, 2);
	struct smsc_submission s3 = segment("gsup:c:3", &t, 3);
	assert_int_equal(submit(fx, &s1).outcome, SMSC_SEGMENT_STORED);
	assert_int_equal(submit(fx, &s2).outcome, SMSC_SEGMENT_STORED);
	int64_t id = submit_ok(fx, &s3);
	wait_delivery(fx, 1);
	settle(fx);
	int64_t sms_a1 = 0;
	balance(fx, "467050000000101", "KPW", &sms_a1);
	assert_int_equal(sms_a1, sms_a0 - 3);
	assert_int_equal(the_cdr(fx, id).segments, 3);

	/* A foreigner pays 3 x EUR 0.10 for the same text to another foreigner. */
	int64_t eur0 = balance(fx, "467050000000201", "EUR", NULL);
	struct smsc_submission f = msg("sip:f:1", F1_IMSI, "+8501913000002", t.whole);
	int64_t fid = submit_ok(fx, &f);
	wait_delivery(fx, 2);
	settle(fx);
	assert_int_equal(balance(fx, "467050000000201", "EUR", NULL), eur0 - 3 * 10);
	/* A repeat while it waits is not charged again. */
	struct smsc_result r = submit(fx, &f);
	assert_int_equal(r.outcome, SMSC_ACCEPTED);
	assert_int_equal(r.id, fid);
	settle(fx);
	assert_int_equal(balance(fx, "467050000000201", "EUR", NULL), eur0 - 3 * 10);
	answer(fx, 2, SMSC_DELIVERED, "");
	settle(fx);
	assert_int_equal(the_cdr(fx, fid).segments, 3);

	/* With no credit left: refused with the charging's words, nothing kept. */
	struct sub_wait *g = &fx->waits[fx->n_waits++];
	g->fx = fx;
	assert_int_equal(ocs_adjust(fx->o, "drain", "467050000000201", "EUR", -(eur0 - 3 * 10), 0,
	                            0, "test: no money", grant_done, g),
	                 0);
	assert_int_equal(await(fx, g).outcome, SMSC_ACCEPTED);
	assert_int_equal(balance(fx, "467050000000201", "EUR", NULL), 0);
	struct smsc_submission poor = msg("sip:f:2", F1_IMSI, "+8501913000002", "short");
	struct smsc_result nr = submit(fx, &poor);
	assert_int_equal(nr.outcome, SMSC_NO_CREDIT);
	assert_int_equal(nr.id, 0);
	assert_true(nr.reason[0] != '\0');
	assert_int_equal(nr.rp_cause, SMS_RP_CAUSE_CALL_BARRED);
	settle(fx);
	assert_int_equal(waiting_for(fx, F2_MSISDN).n, 0);
	assert_int_equal(deliveries(fx), 2);
	struct smsc_stats st = stats(fx);
	assert_int_equal(st.no_credit, 1);
	assert_int_equal(st.waiting, 1); /* the sentinel */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_submit_deliver_cdr, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_same_key_twice, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_same_key_after_delivery_not_delivered_again, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_unreachable_then_ready, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unreachable_answer_waits_for_ready, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_try_later_backoff, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failed_is_final, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_answer_times_out_and_stale_answer_ignored,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_expiry_with_report, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_message_past_validity_not_delivered_when_recipient_returns, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_delivered_report_and_validity_cap, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_order_and_window, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_retry_keeps_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concatenated_korean, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_repeat_of_completing_segment_gets_first_answer,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_restart_delivers_waiting, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_restart_expires_past_validity, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_restart_completes_segments, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_restart_many_recipients, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_content_rules, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_held_survives_restart, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_held_expires_unreviewed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_limit_per_recipient, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_limit_total, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_limit_counts_restart, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_charging_per_segment, setup_charging, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
