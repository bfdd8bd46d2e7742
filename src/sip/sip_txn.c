/* SIP transactions: RFC 3261 section 17 (and RFC 6026 for the server INVITE
 * transaction's Accepted state). See sip_txn.h and docs/sip-transactions.md.
 *
 * Layout: the table (slots, free list, hash), the matching keys, the message
 * builders (ACK, CANCEL, 100 Trying), the common actions (send, arm a timer,
 * fail, terminate), then one state machine per transaction kind, each with
 * its transition table in the comment above it and one switch on the state,
 * then the public entry points that dispatch to the machines.
 *
 * Re-entrancy. The tu_* and terminated callbacks may call back into the
 * table, and may make the transaction that called them terminate (a TU
 * answering a request at once over TCP ends a non-INVITE transaction before
 * tu_request returns). So after every such callback the code looks the
 * transaction up again by id (txn_get) and stops if it is gone; it never
 * keeps using a pointer across a TU callback. A slot is only reused after
 * its terminated callback has returned, and its generation changes then. */
#include "sip/sip_txn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC_COOKIE     "z9hG4bK"
#define MAGIC_COOKIE_LEN 7
#define KEY_MAX          2048 /* longest matching key; longer requests get -EMSGSIZE */
#define MAX_TXNS_LIMIT   (1u << 24)

struct txn {
	uint32_t gen; /* generation; never 0, changes when the slot is freed */
	bool in_use;
	uint8_t kind;        /* enum sip_txn_kind */
	uint8_t state;       /* enum sip_txn_state */
	bool trying_pending; /* server INVITE: 100 built, waiting for TIMER_TRYING */
	uint16_t armed;      /* bit per enum sip_txn_timer */
	int32_t next;        /* hash chain, or free list when not in use */
	uint32_t hash;
	uint32_t rt_ms; /* current retransmission interval (A, E or G) */
	struct sip_txn_peer peer;
	char *key; /* matching key (see the keys below) */
	uint32_t key_len;
	char *req; /* client: the request, to retransmit and to build ACK/CANCEL */
	uint32_t req_len;
	char *out; /* client INVITE: the ACK; server: the last response (or the 100) */
	uint32_t out_len;
};

struct sip_txn_table {
	struct sip_txn_config cfg;
	const struct sip_txn_ops *ops;
	void *user;
	struct txn *slots; /* cfg.max_txns of them */
	int32_t *buckets;  /* slot index or -1 */
	uint32_t bucket_mask;
	int32_t free_head;
	uint32_t count;
	char key[KEY_MAX];      /* scratch for the key being matched */
	struct sip_msg scratch; /* scratch for parsing stored or TU-built messages */
};

/* ------------------------------------------------------------------ */
/* names */

const char *sip_txn_state_name(int state)
{
	static const char *const names[] = {"Calling",   "Trying",   "Proceeding", "Completed",
	                                    "Confirmed", "Accepted", "Terminated"};
	if (state < 0 || (size_t)state >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[state];
}

const char *sip_txn_timer_name(int timer)
{
	static const char *const names[] = {"A", "B", "D", "E", "F", "K",
	                                    "G", "H", "I", "J", "L", "Trying"};
	if (timer < 0 || timer >= SIP_TXN_TIMER__COUNT)
		return "?";
	return names[timer];
}

const char *sip_txn_kind_name(int kind)
{
	static const char *const names[] = {"client INVITE", "client non-INVITE", "server INVITE",
	                                    "server non-INVITE"};
	if (kind < 0 || (size_t)kind >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[kind];
}

/* ------------------------------------------------------------------ */
/* table */

void sip_txn_config_init(struct sip_txn_config *cfg)
{
	cfg->t1_ms = 500;
	cfg->t2_ms = 4000;
	cfg->t4_ms = 5000;
	cfg->timer_d_ms = 32000;
	cfg->trying_ms = 0;
	cfg->max_txns = 32768;
}

int sip_txn_table_new(struct sip_txn_table **out, const struct sip_txn_config *cfg,
                      const struct sip_txn_ops *ops, void *user)
{
	*out = NULL;
	/* T1 is capped so that 64*T1 fits a uint32_t of milliseconds. */
	if (!cfg || cfg->t1_ms == 0 || cfg->t1_ms > 60000 || cfg->t2_ms < cfg->t1_ms ||
	    cfg->t4_ms == 0 || cfg->max_txns == 0 || cfg->max_txns > MAX_TXNS_LIMIT)
		return -EINVAL;
	if (!ops || !ops->send || !ops->timer_start || !ops->timer_stop)
		return -EINVAL;
	struct sip_txn_table *tab = calloc(1, sizeof(*tab));
	if (!tab)
		return -ENOMEM;
	tab->cfg = *cfg;
	tab->ops = ops;
	tab->user = user;
	uint32_t nb = 1;
	while (nb < cfg->max_txns)
		nb <<= 1;
	tab->bucket_mask = nb - 1;
	tab->slots = calloc(cfg->max_txns, sizeof(*tab->slots));
	tab->buckets = malloc((size_t)nb * sizeof(*tab->buckets));
	if (!tab->slots || !tab->buckets) {
		sip_txn_table_free(tab);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < nb; i++)
		tab->buckets[i] = -1;
	for (uint32_t i = 0; i < cfg->max_txns; i++) {
		tab->slots[i].gen = 1;
		tab->slots[i].next = i + 1 < cfg->max_txns ? (int32_t)(i + 1) : -1;
	}
	tab->free_head = 0;
	*out = tab;
	return 0;
}

static void txn_free_bufs(struct txn *t)
{
	free(t->key);
	free(t->req);
	free(t->out);
	t->key = t->req = t->out = NULL;
	t->key_len = t->req_len = t->out_len = 0;
}

void sip_txn_table_free(struct sip_txn_table *tab)
{
	if (!tab)
		return;
	if (tab->slots) {
		for (uint32_t i = 0; i < tab->cfg.max_txns; i++)
			txn_free_bufs(&tab->slots[i]);
	}
	free(tab->slots);
	free(tab->buckets);
	free(tab);
}

uint32_t sip_txn_count(const struct sip_txn_table *tab)
{
	return tab->count;
}

uint32_t sip_txn_capacity(const struct sip_txn_table *tab)
{
	return tab->cfg.max_txns;
}

static sip_txn_id txn_id(const struct sip_txn_table *tab, const struct txn *t)
{
	return ((uint64_t)t->gen << 32) | (uint64_t)(t - tab->slots);
}

/* The slot of id if it holds that generation, Terminated included. */
static struct txn *txn_slot(const struct sip_txn_table *tab, sip_txn_id id)
{
	uint64_t idx = id & 0xffffffffu;
	uint32_t gen = (uint32_t)(id >> 32);
	if (gen == 0 || idx >= tab->cfg.max_txns)
		return NULL;
	struct txn *t = &tab->slots[idx];
	if (!t->in_use || t->gen != gen)
		return NULL;
	return t;
}

/* A live transaction (not Terminated), or NULL. */
static struct txn *txn_get(const struct sip_txn_table *tab, sip_txn_id id)
{
	struct txn *t = txn_slot(tab, id);
	return t && t->state != SIP_TXN_TERMINATED ? t : NULL;
}

static uint32_t hash_key(const char *k, size_t n)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)k[i];
		h *= 16777619u;
	}
	return h;
}

static struct txn *txn_lookup(const struct sip_txn_table *tab, const char *key, size_t len)
{
	uint32_t h = hash_key(key, len);
	for (int32_t i = tab->buckets[h & tab->bucket_mask]; i >= 0; i = tab->slots[i].next) {
		struct txn *t = &tab->slots[i];
		if (t->hash == h && t->key_len == len && memcmp(t->key, key, len) == 0 &&
		    t->state != SIP_TXN_TERMINATED)
			return t;
	}
	return NULL;
}

/* Takes a free slot, with a copy of the key, linked into the hash. NULL with
 * *err -ENOSPC (full) or -ENOMEM. */
static struct txn *txn_alloc(struct sip_txn_table *tab, const char *key, size_t key_len,
                             enum sip_txn_kind kind, const struct sip_txn_peer *peer, int *err)
{
	if (tab->free_head < 0) {
		*err = -ENOSPC;
		return NULL;
	}
	char *k = malloc(key_len);
	if (!k) {
		*err = -ENOMEM;
		return NULL;
	}
	memcpy(k, key, key_len);
	struct txn *t = &tab->slots[tab->free_head];
	tab->free_head = t->next;
	uint32_t gen = t->gen;
	memset(t, 0, sizeof(*t));
	t->gen = gen;
	t->in_use = true;
	t->kind = (uint8_t)kind;
	t->peer = *peer;
	t->key = k;
	t->key_len = (uint32_t)key_len;
	t->hash = hash_key(key, key_len);
	t->rt_ms = tab->cfg.t1_ms;
	uint32_t b = t->hash & tab->bucket_mask;
	t->next = tab->buckets[b];
	tab->buckets[b] = (int32_t)(t - tab->slots);
	tab->count++;
	return t;
}

/* Unlinks and frees the slot; the id goes stale. No callback. */
static void txn_release(struct sip_txn_table *tab, struct txn *t)
{
	int32_t idx = (int32_t)(t - tab->slots);
	int32_t *pp = &tab->buckets[t->hash & tab->bucket_mask];
	while (*pp >= 0 && *pp != idx)
		pp = &tab->slots[*pp].next;
	if (*pp == idx)
		*pp = t->next;
	txn_free_bufs(t);
	t->in_use = false;
	t->gen = t->gen + 1 ? t->gen + 1 : 1;
	t->next = tab->free_head;
	tab->free_head = idx;
	tab->count--;
}

/* ------------------------------------------------------------------ */
/* matching keys
 *
 * A key is a byte string compared exactly:
 *   client:            'C' method NUL branch
 *   server (RFC 3261): 'S' method NUL branch NUL sent-by-host(lower) ':' port
 *   server (RFC 2543): 's' method NUL Request-URI NUL From-tag NUL Call-ID NUL
 *                      CSeq-number NUL sent-by-host(lower) ':' port NUL branch
 * where method is the request's (CSeq's for a response), with ACK taken as
 * INVITE so that the ACK of a non-2xx finds its INVITE transaction. A
 * CANCEL keeps its own method and so its own transaction;
 * sip_txn_server_find_invite() builds the CANCEL's key with INVITE. */

struct kbuf {
	char *p;
	size_t len, cap;
	bool over;
};

static void kb_put(struct kbuf *kb, const char *s, size_t n)
{
	if (kb->over || n > kb->cap - kb->len) {
		kb->over = true;
		return;
	}
	memcpy(kb->p + kb->len, s, n);
	kb->len += n;
}

static void kb_putc(struct kbuf *kb, char c)
{
	kb_put(kb, &c, 1);
}

static void kb_puts(struct kbuf *kb, struct sip_str s)
{
	if (s.p)
		kb_put(kb, s.p, s.len);
}

static void kb_sent_by(struct kbuf *kb, const struct sip_via *via)
{
	for (size_t i = 0; i < via->host.len; i++)
		kb_putc(kb, (char)sip_lc(via->host.p[i]));
	unsigned port = via->has_port                          ? via->port
	                : sip_str_eq_ci(via->transport, "TLS") ? 5061
	                                                       : 5060;
	char num[8];
	int n = snprintf(num, sizeof(num), ":%u", port);
	kb_put(kb, num, (size_t)n);
}

static bool has_cookie(struct sip_str branch)
{
	return branch.p && branch.len >= MAGIC_COOKIE_LEN &&
	       memcmp(branch.p, MAGIC_COOKIE, MAGIC_COOKIE_LEN) == 0;
}

/* Server key of request m with the given method (NULL: the request's, ACK
 * as INVITE) into tab->key. Returns its length or -EMSGSIZE. */
static int server_key(struct sip_txn_table *tab, const struct sip_msg *m, const char *method)
{
	struct kbuf kb = {tab->key, 0, sizeof(tab->key), false};
	struct sip_str meth = m->method;
	if (method) {
		meth.p = method;
		meth.len = strlen(method);
	} else if (m->method_id == SIP_METHOD_ACK) {
		meth.p = "INVITE";
		meth.len = 6;
	}
	if (has_cookie(m->via.branch)) {
		kb_putc(&kb, 'S');
		kb_puts(&kb, meth);
		kb_putc(&kb, '\0');
		kb_puts(&kb, m->via.branch);
		kb_putc(&kb, '\0');
		kb_sent_by(&kb, &m->via);
	} else {
		char num[16];
		int n = snprintf(num, sizeof(num), "%u", (unsigned)m->cseq.number);
		kb_putc(&kb, 's');
		kb_puts(&kb, meth);
		kb_putc(&kb, '\0');
		kb_puts(&kb, m->ruri_str);
		kb_putc(&kb, '\0');
		kb_puts(&kb, m->from.tag);
		kb_putc(&kb, '\0');
		kb_puts(&kb, m->call_id);
		kb_putc(&kb, '\0');
		kb_put(&kb, num, (size_t)n);
		kb_putc(&kb, '\0');
		kb_sent_by(&kb, &m->via);
		kb_putc(&kb, '\0');
		kb_puts(&kb, m->via.branch);
	}
	return kb.over ? -EMSGSIZE : (int)kb.len;
}

static int client_key(struct sip_txn_table *tab, struct sip_str method, struct sip_str branch)
{
	struct kbuf kb = {tab->key, 0, sizeof(tab->key), false};
	kb_putc(&kb, 'C');
	kb_puts(&kb, method);
	kb_putc(&kb, '\0');
	kb_puts(&kb, branch);
	return kb.over ? -EMSGSIZE : (int)kb.len;
}

/* ------------------------------------------------------------------ */
/* message builders */

static void kb_field(struct kbuf *kb, const char *name, struct sip_str value)
{
	kb_put(kb, name, strlen(name));
	kb_put(kb, ": ", 2);
	kb_puts(kb, value);
	kb_put(kb, "\r\n", 2);
}

static struct sip_str field_value(const struct sip_msg *m, enum sip_hdr_type t)
{
	const struct sip_hdr *h = sip_msg_header_first(m, t);
	return h ? h->value : (struct sip_str){NULL, 0};
}

/* The ACK of a non-2xx (17.1.1.3) or the CANCEL (9.1) of request req: its
 * Request-URI, top Via value, Route fields, From, Call-ID and CSeq number,
 * with the To given (the response's for an ACK, the request's for a CANCEL).
 * Returns the length or -ENOSPC. */
static int build_ack_or_cancel(const struct sip_msg *req, struct sip_str to, const char *method,
                               char *out, size_t cap)
{
	struct kbuf kb = {out, 0, cap, false};
	struct sip_hdr_iter it;
	struct sip_str top_via = {NULL, 0};
	sip_hdr_iter_init(&it, req, SIP_HDR_VIA);
	if (sip_hdr_iter_next(&it, &top_via) != 1)
		return -EINVAL;
	char cseq[32];
	int n = snprintf(cseq, sizeof(cseq), "%u %s", (unsigned)req->cseq.number, method);

	kb_put(&kb, method, strlen(method));
	kb_putc(&kb, ' ');
	kb_puts(&kb, req->ruri_str);
	kb_put(&kb, " SIP/2.0\r\n", 10);
	kb_field(&kb, "Via", top_via);
	for (const struct sip_hdr *h = sip_msg_header_first(req, SIP_HDR_ROUTE); h;
	     h = sip_msg_header_next(req, h))
		kb_field(&kb, "Route", h->value);
	kb_field(&kb, "From", field_value(req, SIP_HDR_FROM));
	kb_field(&kb, "To", to);
	kb_field(&kb, "Call-ID", req->call_id);
	kb_field(&kb, "CSeq", (struct sip_str){cseq, (size_t)n});
	kb_field(&kb, "Max-Forwards", (struct sip_str){"70", 2});
	kb_field(&kb, "Content-Length", (struct sip_str){"0", 1});
	kb_put(&kb, "\r\n", 2);
	return kb.over ? -ENOSPC : (int)kb.len;
}

/* 100 Trying for request m (8.2.6): every Via field, From, To, Call-ID,
 * CSeq and Timestamp copied. Returns the length or -ENOSPC. */
static int build_trying(const struct sip_msg *m, char *out, size_t cap)
{
	struct kbuf kb = {out, 0, cap, false};
	kb_put(&kb, "SIP/2.0 100 Trying\r\n", 20);
	for (const struct sip_hdr *h = sip_msg_header_first(m, SIP_HDR_VIA); h;
	     h = sip_msg_header_next(m, h))
		kb_field(&kb, "Via", h->value);
	kb_field(&kb, "From", field_value(m, SIP_HDR_FROM));
	kb_field(&kb, "To", field_value(m, SIP_HDR_TO));
	kb_field(&kb, "Call-ID", m->call_id);
	kb_field(&kb, "CSeq", field_value(m, SIP_HDR_CSEQ));
	const struct sip_hdr *ts = sip_msg_header_by_name(m, "Timestamp");
	if (ts)
		kb_field(&kb, "Timestamp", ts->value);
	kb_field(&kb, "Content-Length", (struct sip_str){"0", 1});
	kb_put(&kb, "\r\n", 2);
	return kb.over ? -ENOSPC : (int)kb.len;
}

/* Replaces t->out with a copy of buf. 0 or -ENOMEM (t->out unchanged). */
static int txn_set_out(struct txn *t, const char *buf, size_t len)
{
	char *p = malloc(len ? len : 1);
	if (!p)
		return -ENOMEM;
	memcpy(p, buf, len);
	free(t->out);
	t->out = p;
	t->out_len = (uint32_t)len;
	return 0;
}

/* ------------------------------------------------------------------ */
/* common actions */

static void timer_arm(struct sip_txn_table *tab, struct txn *t, enum sip_txn_timer timer,
                      uint32_t ms)
{
	t->armed |= (uint16_t)(1u << timer);
	tab->ops->timer_start(tab->user, txn_id(tab, t), timer, ms);
}

static void timer_disarm(struct sip_txn_table *tab, struct txn *t, enum sip_txn_timer timer)
{
	if (t->armed & (1u << timer)) {
		t->armed &= (uint16_t) ~(1u << timer);
		tab->ops->timer_stop(tab->user, txn_id(tab, t), timer);
	}
}

static void timer_disarm_all(struct sip_txn_table *tab, struct txn *t)
{
	for (int i = 0; i < SIP_TXN_TIMER__COUNT; i++)
		timer_disarm(tab, t, (enum sip_txn_timer)i);
}

/* Terminated: timers stopped, out of the matching table, the terminated
 * callback, then the slot freed (the id goes stale). */
static void txn_terminate(struct sip_txn_table *tab, struct txn *t)
{
	if (t->state == SIP_TXN_TERMINATED)
		return;
	timer_disarm_all(tab, t);
	t->state = SIP_TXN_TERMINATED;
	if (tab->ops->terminated)
		tab->ops->terminated(tab->user, txn_id(tab, t));
	txn_release(tab, t);
}

/* Enters a waiting state (Completed, Confirmed, Accepted) whose timer ends
 * the transaction; a duration of 0 (reliable transports) ends it now. */
static void txn_wait(struct sip_txn_table *tab, struct txn *t, enum sip_txn_state state,
                     enum sip_txn_timer timer, uint32_t ms)
{
	t->state = (uint8_t)state;
	if (ms == 0)
		txn_terminate(tab, t);
	else
		timer_arm(tab, t, timer, ms);
}

/* Terminates transaction id after a TU callback, unless the callback
 * already made it terminate. */
static void txn_terminate_id(struct sip_txn_table *tab, sip_txn_id id)
{
	struct txn *t = txn_get(tab, id);
	if (t)
		txn_terminate(tab, t);
}

/* The transaction failed on the transport: tell the TU, then terminate. */
static void txn_fail_transport(struct sip_txn_table *tab, struct txn *t, int err)
{
	sip_txn_id id = txn_id(tab, t);
	timer_disarm_all(tab, t);
	if (tab->ops->tu_transport_error)
		tab->ops->tu_transport_error(tab->user, id, err);
	txn_terminate_id(tab, id);
}

/* Timer B, F or H: tell the TU, then terminate. */
static void txn_fail_timeout(struct sip_txn_table *tab, struct txn *t, enum sip_txn_timer timer)
{
	sip_txn_id id = txn_id(tab, t);
	timer_disarm_all(tab, t);
	if (tab->ops->tu_timeout)
		tab->ops->tu_timeout(tab->user, id, timer);
	txn_terminate_id(tab, id);
}

/* Sends buf to the peer. 0, or the send's error after the transaction
 * failed (t is then gone). */
static int txn_send(struct sip_txn_table *tab, struct txn *t, const char *buf, size_t len)
{
	int r = tab->ops->send(tab->user, txn_id(tab, t), &t->peer, buf, len);
	if (r < 0) {
		txn_fail_transport(tab, t, r);
		return r;
	}
	return 0;
}

/* Timer A, E or G fired: sends buf again and re-arms the timer with the
 * next retransmission interval ms. Nothing more if the send failed (the
 * transaction is then gone). */
static void txn_retransmit(struct sip_txn_table *tab, struct txn *t, enum sip_txn_timer timer,
                           const char *buf, size_t len, uint32_t ms)
{
	if (txn_send(tab, t, buf, len) < 0)
		return;
	t->rt_ms = ms;
	timer_arm(tab, t, timer, ms);
}

/* The retransmission interval doubled, at most T2 (timers E and G). */
static uint32_t rt_double_max_t2(const struct sip_txn_table *tab, const struct txn *t)
{
	return 2 * t->rt_ms < tab->cfg.t2_ms ? 2 * t->rt_ms : tab->cfg.t2_ms;
}

/* Server: keeps a copy of the TU's response as the one to resend, then
 * sends it. 0, -ENOMEM, or the send's error (t is then gone). */
static int txn_send_response(struct sip_txn_table *tab, struct txn *t, const char *buf, size_t len)
{
	int r = txn_set_out(t, buf, len);
	if (r < 0)
		return r;
	return txn_send(tab, t, t->out, t->out_len);
}

/* Server INVITE: the 100 Trying waiting for timer Trying is not to be sent
 * on that timer any more (it goes now, or a response replaces it). */
static void trying_cancel(struct sip_txn_table *tab, struct txn *t)
{
	if (t->trying_pending) {
		t->trying_pending = false;
		timer_disarm(tab, t, SIP_TXN_TIMER_TRYING);
	}
}

/* Gives a response to the TU. Returns t again, or NULL if the transaction
 * terminated during the callback. */
static struct txn *tu_response(struct sip_txn_table *tab, struct txn *t, const struct sip_msg *m)
{
	sip_txn_id id = txn_id(tab, t);
	if (tab->ops->tu_response)
		tab->ops->tu_response(tab->user, id, m);
	return txn_get(tab, id);
}

static uint32_t t64(const struct sip_txn_table *tab)
{
	return 64 * tab->cfg.t1_ms;
}

/* ------------------------------------------------------------------ */
/* Client INVITE transaction (RFC 3261 17.1.1, figure 5).
 *
 *  state       event              action                         next
 *  (created)   TU request         send; A=T1 (unreliable); B     Calling
 *  Calling     timer A            resend; A doubles              Calling
 *  Calling     timer B            tu_timeout                     Terminated
 *  Calling     1xx                stop A, B; to TU               Proceeding
 *  Proceeding  1xx                to TU                          Proceeding
 *  Calling,
 *  Proceeding  2xx                to TU                          Terminated
 *  Calling,
 *  Proceeding  300-699            to TU; send ACK; D             Completed
 *  Completed   300-699            resend ACK (absorbed)          Completed
 *  Completed   timer D            -                              Terminated
 *  any         transport error    tu_transport_error             Terminated
 *
 * D is timer_d_ms on unreliable transports and 0 (at once) on reliable
 * ones. A 2xx ends the transaction (RFC 3261; the TU, not the transaction,
 * ACKs a 2xx and sees its retransmissions as SIP_TXN_NO_MATCH). */

static int cinv_response(struct sip_txn_table *tab, struct txn *t, const struct sip_msg *m)
{
	int st = m->status;
	switch (t->state) {
	case SIP_TXN_CALLING:
	case SIP_TXN_PROCEEDING: {
		timer_disarm(tab, t, SIP_TXN_TIMER_A);
		timer_disarm(tab, t, SIP_TXN_TIMER_B);
		if (st < 200) {
			t->state = SIP_TXN_PROCEEDING;
			tu_response(tab, t, m);
			return SIP_TXN_PASSED;
		}
		if (st < 300) {
			t = tu_response(tab, t, m);
			if (t)
				txn_terminate(tab, t);
			return SIP_TXN_PASSED;
		}
		/* Build the ACK before the TU sees the response: it needs the
		 * response's To, which lives in the caller's buffer. */
		int r = sip_msg_parse(&tab->scratch, t->req, t->req_len, SIP_DGRAM);
		struct sip_str to = field_value(m, SIP_HDR_TO);
		size_t cap = t->req_len + to.len + 512; /* the ACK is a subset of both */
		char *ack = r == 0 ? malloc(cap) : NULL;
		int n = ack ? build_ack_or_cancel(&tab->scratch, to, "ACK", ack, cap) : -ENOMEM;
		if (n >= 0) {
			free(t->out);
			t->out = ack;
			t->out_len = (uint32_t)n;
		} else {
			free(ack);
		}
		t->state = SIP_TXN_COMPLETED;
		sip_txn_id id = txn_id(tab, t);
		t = tu_response(tab, t, m);
		if (!t)
			return SIP_TXN_PASSED;
		if (n < 0) {
			/* Cannot ACK (out of memory): the server retransmits
			 * until its timer H; the TU has the answer. */
			txn_fail_transport(tab, t, n);
			return SIP_TXN_PASSED;
		}
		if (txn_send(tab, t, t->out, t->out_len) < 0)
			return SIP_TXN_PASSED;
		t = txn_get(tab, id);
		if (t)
			txn_wait(tab, t, SIP_TXN_COMPLETED, SIP_TXN_TIMER_D,
			         t->peer.reliable ? 0 : tab->cfg.timer_d_ms);
		return SIP_TXN_PASSED;
	}
	case SIP_TXN_COMPLETED:
		if (st >= 300 && t->out)
			txn_send(tab, t, t->out, t->out_len);
		return SIP_TXN_ABSORBED;
	default:
		return SIP_TXN_ABSORBED;
	}
}

static void cinv_timer(struct sip_txn_table *tab, struct txn *t, enum sip_txn_timer timer)
{
	switch (t->state) {
	case SIP_TXN_CALLING:
		if (timer == SIP_TXN_TIMER_A)
			txn_retransmit(tab, t, SIP_TXN_TIMER_A, t->req, t->req_len,
			               t->rt_ms > t64(tab) ? t64(tab) : 2 * t->rt_ms);
		else if (timer == SIP_TXN_TIMER_B)
			txn_fail_timeout(tab, t, timer);
		break;
	case SIP_TXN_COMPLETED:
		if (timer == SIP_TXN_TIMER_D)
			txn_terminate(tab, t);
		break;
	default:
		break;
	}
}

/* ------------------------------------------------------------------ */
/* Client non-INVITE transaction (RFC 3261 17.1.2, figure 6).
 *
 *  state       event              action                         next
 *  (created)   TU request         send; E=T1 (unreliable); F     Trying
 *  Trying      timer E            resend; E=min(2E, T2)          Trying
 *  Proceeding  timer E            resend; E=T2                   Proceeding
 *  Trying,
 *  Proceeding  timer F            tu_timeout                     Terminated
 *  Trying,
 *  Proceeding  1xx                to TU                          Proceeding
 *  Trying,
 *  Proceeding  200-699            stop E, F; to TU; K            Completed
 *  Completed   any response       (absorbed)                     Completed
 *  Completed   timer K            -                              Terminated
 *  any         transport error    tu_transport_error             Terminated
 *
 * K is T4 on unreliable transports and 0 on reliable ones. */

static int cnon_response(struct sip_txn_table *tab, struct txn *t, const struct sip_msg *m)
{
	switch (t->state) {
	case SIP_TXN_TRYING:
	case SIP_TXN_PROCEEDING: {
		if (m->status < 200) {
			t->state = SIP_TXN_PROCEEDING;
			tu_response(tab, t, m);
			return SIP_TXN_PASSED;
		}
		timer_disarm(tab, t, SIP_TXN_TIMER_E);
		timer_disarm(tab, t, SIP_TXN_TIMER_F);
		t->state = SIP_TXN_COMPLETED;
		t = tu_response(tab, t, m);
		if (t)
			txn_wait(tab, t, SIP_TXN_COMPLETED, SIP_TXN_TIMER_K,
			         t->peer.reliable ? 0 : tab->cfg.t4_ms);
		return SIP_TXN_PASSED;
	}
	default:
		return SIP_TXN_ABSORBED;
	}
}

static void cnon_timer(struct sip_txn_table *tab, struct txn *t, enum sip_txn_timer timer)
{
	switch (t->state) {
	case SIP_TXN_TRYING:
	case SIP_TXN_PROCEEDING:
		if (timer == SIP_TXN_TIMER_E)
			txn_retransmit(tab, t, SIP_TXN_TIMER_E, t->req, t->req_len,
			               t->state == SIP_TXN_PROCEEDING ? tab->cfg.t2_ms
			                                              : rt_double_max_t2(tab, t));
		else if (timer == SIP_TXN_TIMER_F)
			txn_fail_timeout(tab, t, timer);
		break;
	case SIP_TXN_COMPLETED:
		if (timer == SIP_TXN_TIMER_K)
			txn_terminate(tab, t);
		break;
	default:
		break;
	}
}

/* ------------------------------------------------------------------ */
/* Server INVITE transaction (RFC 3261 17.2.1, figure 7, with RFC 6026's
 * Accepted state).
 *
 *  state       event              action                         next
 *  (created)   INVITE             100 Trying (now, or on timer
 *                                 Trying if trying_ms); to TU    Proceeding
 *  Proceeding  timer Trying       send 100                       Proceeding
 *  Proceeding  INVITE again       resend last provisional        Proceeding
 *  Proceeding  TU 1xx             send                           Proceeding
 *  Proceeding  TU 2xx             send; L=64*T1                  Accepted
 *  Proceeding  TU 300-699         send; G=T1 (unreliable);
 *                                 H=64*T1                        Completed
 *  Completed   INVITE again       resend final                   Completed
 *  Completed   timer G            resend; G=min(2G, T2)          Completed
 *  Completed   timer H            tu_timeout                     Terminated
 *  Completed   ACK                stop G, H; I                   Confirmed
 *  Confirmed   ACK, INVITE again  (absorbed)                     Confirmed
 *  Confirmed   timer I            -                              Terminated
 *  Accepted    INVITE again       (absorbed)                     Accepted
 *  Accepted    TU 2xx             send (the TU's retransmission) Accepted
 *  Accepted    ACK                to TU                          Accepted
 *  Accepted    timer L            -                              Terminated
 *  any         transport error    tu_transport_error             Terminated
 *
 * I is T4 on unreliable transports and 0 on reliable ones. */

static int sinv_request(struct sip_txn_table *tab, struct txn *t, const struct sip_msg *m)
{
	bool ack = m->method_id == SIP_METHOD_ACK;
	switch (t->state) {
	case SIP_TXN_PROCEEDING:
		if (ack)
			return SIP_TXN_ABSORBED;
		trying_cancel(tab, t);
		if (t->out)
			txn_send(tab, t, t->out, t->out_len);
		return SIP_TXN_ABSORBED;
	case SIP_TXN_COMPLETED:
		if (!ack) {
			txn_send(tab, t, t->out, t->out_len);
			return SIP_TXN_ABSORBED;
		}
		timer_disarm(tab, t, SIP_TXN_TIMER_G);
		timer_disarm(tab, t, SIP_TXN_TIMER_H);
		txn_wait(tab, t, SIP_TXN_CONFIRMED, SIP_TXN_TIMER_I,
		         t->peer.reliable ? 0 : tab->cfg.t4_ms);
		return SIP_TXN_ABSORBED;
	case SIP_TXN_ACCEPTED:
		if (ack) {
			if (tab->ops->tu_request)
				tab->ops->tu_request(tab->user, txn_id(tab, t), m);
			return SIP_TXN_PASSED;
		}
		return SIP_TXN_ABSORBED;
	default: /* Confirmed */
		return SIP_TXN_ABSORBED;
	}
}

static int sinv_send(struct sip_txn_table *tab, struct txn *t, int st, const char *buf, size_t len)
{
	switch (t->state) {
	case SIP_TXN_PROCEEDING: {
		trying_cancel(tab, t);
		int r = txn_send_response(tab, t, buf, len);
		if (r < 0)
			return r;
		if (st < 200)
			return 0;
		if (st < 300) {
			txn_wait(tab, t, SIP_TXN_ACCEPTED, SIP_TXN_TIMER_L, t64(tab));
			return 0;
		}
		t->state = SIP_TXN_COMPLETED;
		if (!t->peer.reliable)
			timer_arm(tab, t, SIP_TXN_TIMER_G, t->rt_ms = tab->cfg.t1_ms);
		timer_arm(tab, t, SIP_TXN_TIMER_H, t64(tab));
		return 0;
	}
	case SIP_TXN_ACCEPTED:
		if (st < 200 || st >= 300)
			return -EALREADY;
		return txn_send(tab, t, buf, len);
	default: /* Completed, Confirmed */
		return -EALREADY;
	}
}

static void sinv_timer(struct sip_txn_table *tab, struct txn *t, enum sip_txn_timer timer)
{
	switch (t->state) {
	case SIP_TXN_PROCEEDING:
		if (timer == SIP_TXN_TIMER_TRYING && t->trying_pending) {
			t->trying_pending = false;
			txn_send(tab, t, t->out, t->out_len);
		}
		break;
	case SIP_TXN_COMPLETED:
		if (timer == SIP_TXN_TIMER_G)
			txn_retransmit(tab, t, SIP_TXN_TIMER_G, t->out, t->out_len,
			               rt_double_max_t2(tab, t));
		else if (timer == SIP_TXN_TIMER_H)
			txn_fail_timeout(tab, t, timer);
		break;
	case SIP_TXN_CONFIRMED:
		if (timer == SIP_TXN_TIMER_I)
			txn_terminate(tab, t);
		break;
	case SIP_TXN_ACCEPTED:
		if (timer == SIP_TXN_TIMER_L)
			txn_terminate(tab, t);
		break;
	default:
		break;
	}
}

/* ------------------------------------------------------------------ */
/* Server non-INVITE transaction (RFC 3261 17.2.2, figure 8).
 *
 *  state       event              action                         next
 *  (created)   request            to TU                          Trying
 *  Trying      request again      (absorbed, nothing to send)    Trying
 *  Trying,
 *  Proceeding  TU 1xx             send                           Proceeding
 *  Proceeding  request again      resend last provisional        Proceeding
 *  Trying,
 *  Proceeding  TU 200-699         send; J                        Completed
 *  Completed   request again      resend final                   Completed
 *  Completed   TU response        refused (-EALREADY)            Completed
 *  Completed   timer J            -                              Terminated
 *  any         transport error    tu_transport_error             Terminated
 *
 * J is 64*T1 on unreliable transports and 0 on reliable ones. */

static int snon_request(struct sip_txn_table *tab, struct txn *t)
{
	switch (t->state) {
	case SIP_TXN_PROCEEDING:
	case SIP_TXN_COMPLETED:
		txn_send(tab, t, t->out, t->out_len);
		return SIP_TXN_ABSORBED;
	default: /* Trying */
		return SIP_TXN_ABSORBED;
	}
}

static int snon_send(struct sip_txn_table *tab, struct txn *t, int st, const char *buf, size_t len)
{
	switch (t->state) {
	case SIP_TXN_TRYING:
	case SIP_TXN_PROCEEDING: {
		int r = txn_send_response(tab, t, buf, len);
		if (r < 0)
			return r;
		if (st < 200)
			t->state = SIP_TXN_PROCEEDING;
		else
			txn_wait(tab, t, SIP_TXN_COMPLETED, SIP_TXN_TIMER_J,
			         t->peer.reliable ? 0 : t64(tab));
		return 0;
	}
	default: /* Completed */
		return -EALREADY;
	}
}

static void snon_timer(struct sip_txn_table *tab, struct txn *t, enum sip_txn_timer timer)
{
	if (t->state == SIP_TXN_COMPLETED && timer == SIP_TXN_TIMER_J)
		txn_terminate(tab, t);
}

/* ------------------------------------------------------------------ */
/* entry points */

int sip_txn_client_new(struct sip_txn_table *tab, const char *buf, size_t len,
                       const struct sip_txn_peer *peer, sip_txn_id *id)
{
	struct sip_msg *m = &tab->scratch;
	if (len > UINT32_MAX || sip_msg_parse(m, buf, len, SIP_DGRAM) != 0 || !m->is_request ||
	    m->method_id == SIP_METHOD_ACK || !has_cookie(m->via.branch))
		return -EINVAL;
	int klen = client_key(tab, m->method, m->via.branch);
	if (klen < 0)
		return klen;
	if (txn_lookup(tab, tab->key, (size_t)klen))
		return -EEXIST;
	bool invite = m->method_id == SIP_METHOD_INVITE;
	int err;
	struct txn *t =
	    txn_alloc(tab, tab->key, (size_t)klen,
	              invite ? SIP_TXN_CLIENT_INVITE : SIP_TXN_CLIENT_NON_INVITE, peer, &err);
	if (!t)
		return err;
	t->req = malloc(len ? len : 1);
	if (!t->req) {
		txn_release(tab, t);
		return -ENOMEM;
	}
	memcpy(t->req, buf, len);
	t->req_len = (uint32_t)len;
	t->state = invite ? SIP_TXN_CALLING : SIP_TXN_TRYING;
	int r = tab->ops->send(tab->user, txn_id(tab, t), &t->peer, t->req, t->req_len);
	if (r < 0) {
		txn_release(tab, t);
		return r;
	}
	if (!peer->reliable)
		timer_arm(tab, t, invite ? SIP_TXN_TIMER_A : SIP_TXN_TIMER_E, tab->cfg.t1_ms);
	timer_arm(tab, t, invite ? SIP_TXN_TIMER_B : SIP_TXN_TIMER_F, t64(tab));
	*id = txn_id(tab, t);
	return 0;
}

int sip_txn_client_recv_response(struct sip_txn_table *tab, const struct sip_msg *m)
{
	if (m->is_request || m->status < 100)
		return -EINVAL;
	int klen = client_key(tab, m->cseq.method, m->via.branch);
	if (klen < 0)
		return SIP_TXN_NO_MATCH; /* longer than any key we made */
	struct txn *t = txn_lookup(tab, tab->key, (size_t)klen);
	if (!t)
		return SIP_TXN_NO_MATCH;
	if (t->kind == SIP_TXN_CLIENT_INVITE)
		return cinv_response(tab, t, m);
	return cnon_response(tab, t, m);
}

int sip_txn_client_cancel_build(struct sip_txn_table *tab, sip_txn_id id, char *out, size_t cap)
{
	struct txn *t = txn_get(tab, id);
	if (!t || t->kind != SIP_TXN_CLIENT_INVITE)
		return -ENOENT;
	struct sip_msg *m = &tab->scratch;
	if (sip_msg_parse(m, t->req, t->req_len, SIP_DGRAM) != 0)
		return -EINVAL; /* cannot happen: it parsed when the transaction was made */
	return build_ack_or_cancel(m, field_value(m, SIP_HDR_TO), "CANCEL", out, cap);
}

int sip_txn_server_recv_request(struct sip_txn_table *tab, const struct sip_msg *m,
                                const struct sip_txn_peer *peer, sip_txn_id *id)
{
	if (!m->is_request || !m->via.host.p)
		return -EINVAL;
	int klen = server_key(tab, m, NULL);
	if (klen < 0)
		return klen;
	struct txn *t = txn_lookup(tab, tab->key, (size_t)klen);
	if (t) {
		if (id)
			*id = txn_id(tab, t);
		if (t->kind == SIP_TXN_SERVER_INVITE)
			return sinv_request(tab, t, m);
		return snon_request(tab, t);
	}
	if (m->method_id == SIP_METHOD_ACK)
		return SIP_TXN_NO_MATCH;

	bool invite = m->method_id == SIP_METHOD_INVITE;
	int err;
	t = txn_alloc(tab, tab->key, (size_t)klen,
	              invite ? SIP_TXN_SERVER_INVITE : SIP_TXN_SERVER_NON_INVITE, peer, &err);
	if (!t)
		return err;
	t->state = invite ? SIP_TXN_PROCEEDING : SIP_TXN_TRYING;
	if (invite) {
		size_t cap = m->len + 256;
		char *trying = malloc(cap);
		int n = trying ? build_trying(m, trying, cap) : -ENOMEM;
		if (n < 0) {
			free(trying);
			txn_release(tab, t);
			return n == -ENOSPC ? -EMSGSIZE : n;
		}
		t->out = trying;
		t->out_len = (uint32_t)n;
		if (tab->cfg.trying_ms == 0) {
			int r =
			    tab->ops->send(tab->user, txn_id(tab, t), &t->peer, t->out, t->out_len);
			if (r < 0) {
				txn_release(tab, t);
				return r;
			}
		} else {
			t->trying_pending = true;
			timer_arm(tab, t, SIP_TXN_TIMER_TRYING, tab->cfg.trying_ms);
		}
	}
	sip_txn_id tid = txn_id(tab, t);
	if (id)
		*id = tid;
	if (tab->ops->tu_request)
		tab->ops->tu_request(tab->user, tid, m);
	return SIP_TXN_PASSED;
}

int sip_txn_server_send_response(struct sip_txn_table *tab, sip_txn_id id, const char *buf,
                                 size_t len)
{
	struct txn *t = txn_get(tab, id);
	if (!t || (t->kind != SIP_TXN_SERVER_INVITE && t->kind != SIP_TXN_SERVER_NON_INVITE))
		return -ENOENT;
	struct sip_msg *m = &tab->scratch;
	if (len > UINT32_MAX || sip_msg_parse(m, buf, len, SIP_DGRAM) != 0 || m->is_request)
		return -EINVAL;
	if (t->kind == SIP_TXN_SERVER_INVITE)
		return sinv_send(tab, t, m->status, buf, len);
	return snon_send(tab, t, m->status, buf, len);
}

int sip_txn_server_find_invite(struct sip_txn_table *tab, const struct sip_msg *m, sip_txn_id *id)
{
	if (!m->is_request || m->method_id != SIP_METHOD_CANCEL || !m->via.host.p)
		return -EINVAL;
	int klen = server_key(tab, m, "INVITE");
	if (klen < 0)
		return klen;
	struct txn *t = txn_lookup(tab, tab->key, (size_t)klen);
	if (!t || t->kind != SIP_TXN_SERVER_INVITE)
		return -ENOENT;
	*id = txn_id(tab, t);
	return 0;
}

int sip_txn_timer_fired(struct sip_txn_table *tab, sip_txn_id id, enum sip_txn_timer timer)
{
	struct txn *t = txn_get(tab, id);
	if (!t || (unsigned)timer >= SIP_TXN_TIMER__COUNT || !(t->armed & (1u << timer)))
		return -ENOENT;
	t->armed &= (uint16_t) ~(1u << timer);
	switch (t->kind) {
	case SIP_TXN_CLIENT_INVITE:
		cinv_timer(tab, t, timer);
		break;
	case SIP_TXN_CLIENT_NON_INVITE:
		cnon_timer(tab, t, timer);
		break;
	case SIP_TXN_SERVER_INVITE:
		sinv_timer(tab, t, timer);
		break;
	default:
		snon_timer(tab, t, timer);
		break;
	}
	return 0;
}

int sip_txn_transport_failed(struct sip_txn_table *tab, sip_txn_id id, int err)
{
	struct txn *t = txn_get(tab, id);
	if (!t)
		return -ENOENT;
	txn_fail_transport(tab, t, err);
	return 0;
}

int sip_txn_state_get(const struct sip_txn_table *tab, sip_txn_id id)
{
	const struct txn *t = txn_slot(tab, id);
	return t ? t->state : -ENOENT;
}

int sip_txn_kind_get(const struct sip_txn_table *tab, sip_txn_id id)
{
	const struct txn *t = txn_slot(tab, id);
	return t ? t->kind : -ENOENT;
}

int sip_txn_peer_get(const struct sip_txn_table *tab, sip_txn_id id, struct sip_txn_peer *out)
{
	const struct txn *t = txn_slot(tab, id);
	if (!t)
		return -ENOENT;
	*out = t->peer;
	return 0;
}
