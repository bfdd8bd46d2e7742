/*
 * gsup_test_client: drives koryod's GSUP server (docs/gsup.md) the way osmo-msc
 * and osmo-sgsn do, through Osmocom's own libosmo-gsup-client and libosmogsm
 * codec, so that what passes here is what the real peers accept. Every vector
 * is recomputed from the subscriber's K and OP with koryo_crypto.
 *
 *   gsup_test_client HOST PORT NAME
 *       The scripted run (needs KORYO_API and KORYO_TOKEN_FILE, as lib.sh sets
 *       them, and the Koryolink demo profile). Peers are NAME (a VLR),
 *       NAME-SGSN and NAME-2 (a second VLR).
 *   gsup_test_client --isd-timeout HOST PORT NAME IMSI
 *       UpdateLocation CS whose InsertSubscriberData is never answered: expects
 *       UpdateLocation error 0x26 (koryod must run with gsup.isd_timeout = 1).
 *   gsup_test_client --probe HOST PORT NAME IMSI [SECONDS]
 *       A well-behaved VLR: SendAuthInfo once, or every 250 ms for SECONDS;
 *       each must be answered with 5 vectors within 5 s.
 *   gsup_test_client --sms HOST PORT NAME
 *       SMS over GSUP (koryod with its SMS centre): MO-Forward-SM from a
 *       subscriber, MT-Forward-SM at the recipient's MSC (peers NAME and
 *       NAME-2) read back byte by byte, UCS-2, concatenation, resubmission,
 *       a message kept for an absent subscriber until it attaches, memory
 *       full then ReadyForSM, and refused MO messages with their causes.
 *   gsup_test_client --raw HOST PORT HEX...
 *       Plain TCP: sends each HEX argument as one write, then prints every IPA
 *       frame that comes back within 2 s ("RX <hex>"), and "EOF" if koryod
 *       closed the connection or "OPEN" if it did not.
 *
 * One line per check ("ok" or "FAIL", with what was expected and what came),
 * then "N passed, N failed". Exit status 1 on any failure. Every wait is at
 * most 5 s and the whole run is cut at 60 s (SIGALRM).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include <osmocom/core/application.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/msgb.h>
#include <osmocom/core/select.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/timer.h>
#include <osmocom/crypt/auth.h>
#include <osmocom/gsm/apn.h>
#include <osmocom/gsm/gsm48_ie.h>
#include <osmocom/gsm/gsm_utils.h>
#include <osmocom/gsm/gsup.h>
#include <osmocom/gsupclient/gsup_client.h>

#include "crypto/aka.h"
#include "crypto/milenage.h"

#define WAIT_MS     5000 /* the longest any single wait may take */
#define RUN_LIMIT_S 60
#define RXQ_LEN     32
#define IND_BITLEN  5
#define DEMO_OP     "koryolink-op-467"

static void *g_ctx;
static unsigned g_passed, g_failed;

/* ---- checks ---------------------------------------------------------------- */

/* Prints one check line; on failure the detail (expected / got) follows. */
static bool check(bool ok, const char *what, const char *fmt, ...)
{
	if (ok) {
		g_passed++;
		printf("ok   %s\n", what);
	} else {
		va_list ap;
		g_failed++;
		printf("FAIL %s: ", what);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
	fflush(stdout);
	return ok;
}

static void skip(const char *what, const char *why)
{
	printf("SKIP %s: %s\n", what, why);
	fflush(stdout);
}

static void on_alarm(int sig)
{
	static const char m[] = "FAIL whole run: exceeded 60 s\n";
	(void)sig;
	if (write(STDOUT_FILENO, m, sizeof(m) - 1) < 0) {
		/* nothing left to do */
	}
	_exit(1);
}

/* ---- event loop with a deadline ------------------------------------------- */

static void deadline_cb(void *data)
{
	*(bool *)data = true;
}

/* Runs the Osmocom select loop until cond(arg) holds or ms have passed. */
static bool wait_for(bool (*cond)(void *), void *arg, int ms)
{
	bool expired = false;
	struct osmo_timer_list t = {0};

	osmo_timer_setup(&t, deadline_cb, &expired);
	osmo_timer_schedule(&t, ms / 1000, (ms % 1000) * 1000);
	while (!cond(arg) && !expired)
		osmo_select_main(0);
	osmo_timer_del(&t);
	return cond(arg);
}

/* ---- peers (a VLR or an SGSN) --------------------------------------------- */

struct peer {
	char *name;
	bool sgsn; /* speaks like osmo-sgsn (CN domain PS, no class) */
	struct osmo_gsup_client *gsupc;
	struct msgb *rxq[RXQ_LEN]; /* GSUP messages not yet consumed, oldest first */
	unsigned rx_n;
	unsigned dropped;
	unsigned downs; /* link lost after it was up */
	bool was_up;
};

/* One received message: the msgb stays alive while g points into it. */
struct rx {
	struct msgb *msg;
	struct osmo_gsup_message g;
};

static void rx_free(struct rx *rx)
{
	msgb_free(rx->msg);
	rx->msg = NULL;
}

static int peer_read_cb(struct osmo_gsup_client *gsupc, struct msgb *msg)
{
	struct peer *p = gsupc->data;

	if (p->rx_n == RXQ_LEN) {
		p->dropped++;
		msgb_free(msg);
		return 0;
	}
	p->rxq[p->rx_n++] = msg;
	return 0;
}

static bool peer_updown_cb(struct osmo_gsup_client *gsupc, bool up)
{
	struct peer *p = gsupc->data;

	if (up)
		p->was_up = true;
	else if (p->was_up)
		p->downs++;
	return true;
}

/* The identity exchange is done once the PONG to our first PING came back:
 * koryod sends ID_GET on accept, before it reads our PING, and the library
 * answers the ID_GET (ID_RESP) before it sees the PONG. */
static bool peer_ready(void *arg)
{
	struct peer *p = arg;
	return p->gsupc && p->gsupc->is_connected && p->gsupc->got_ipa_pong;
}

static bool peer_has_rx(void *arg)
{
	return ((struct peer *)arg)->rx_n > 0;
}

static struct peer *peer_new(const char *host, int port, const char *name, bool sgsn)
{
	struct peer *p = talloc_zero(g_ctx, struct peer);
	struct ipaccess_unit *dev = talloc_zero(p, struct ipaccess_unit);

	p->name = talloc_strdup(p, name);
	p->sgsn = sgsn;
	dev->unit_name = talloc_strdup(dev, sgsn ? "SGSN" : "MSC");
	dev->serno = talloc_strdup(dev, name);
	struct osmo_gsup_client_config cfg = {
	    .ipa_dev = dev,
	    .ip_addr = host,
	    .tcp_port = port,
	    .read_cb = peer_read_cb,
	    .up_down_cb = peer_updown_cb,
	    .data = p,
	};
	p->gsupc = osmo_gsup_client_create3(p, &cfg);
	bool ok = p->gsupc && wait_for(peer_ready, p, WAIT_MS);
	char what[128];
	snprintf(what, sizeof(what), "%s: connected and identified", name);
	check(ok, what, "no PONG from %s:%d within 5 s", host, port);
	return p;
}

static void peer_free(struct peer *p)
{
	while (p->rx_n)
		msgb_free(p->rxq[--p->rx_n]);
	if (p->gsupc)
		osmo_gsup_client_destroy(p->gsupc);
	talloc_free(p);
}

/* Describes a received message for a failure line. */
static void rx_desc(const struct rx *rx, char *buf, size_t n)
{
	const struct osmo_gsup_message *g = &rx->g;
	int len = snprintf(buf, n, "%s (0x%02x) IMSI %s",
	                   osmo_gsup_message_type_name(g->message_type), g->message_type, g->imsi);
	if (len > 0 && (size_t)len < n && OSMO_GSUP_IS_MSGT_ERROR(g->message_type))
		snprintf(buf + len, n - len, " cause 0x%02x", g->cause);
}

/* Waits for the next message on p (at most ms). Returns 0 with *rx filled
 * (the caller frees it), -ETIMEDOUT, or -EBADMSG (undecodable; rx freed).
 * got describes what came, for failure lines. */
static int peer_next_ms(struct peer *p, int ms, struct rx *rx, char *got, size_t gotlen)
{
	memset(rx, 0, sizeof(*rx));
	if (!wait_for(peer_has_rx, p, ms)) {
		snprintf(got, gotlen, "nothing within %d ms on %s", ms, p->name);
		return -ETIMEDOUT;
	}
	rx->msg = p->rxq[0];
	memmove(p->rxq, p->rxq + 1, (p->rx_n - 1) * sizeof(p->rxq[0]));
	p->rx_n--;
	int rc = osmo_gsup_decode(msgb_l2(rx->msg), msgb_l2len(rx->msg), &rx->g);
	if (rc < 0) {
		snprintf(got, gotlen, "undecodable GSUP (%d): %s", rc,
		         osmo_hexdump_nospc(msgb_l2(rx->msg), msgb_l2len(rx->msg)));
		rx_free(rx);
		return -EBADMSG;
	}
	rx_desc(rx, got, gotlen);
	return 0;
}

static int peer_next(struct peer *p, struct rx *rx, char *got, size_t gotlen)
{
	return peer_next_ms(p, WAIT_MS, rx, got, gotlen);
}

/* Reports (as a failure) anything still queued on p. */
static void peer_expect_quiet(struct peer *p, int ms, const char *what)
{
	struct rx rx;
	char got[256];

	if (peer_next_ms(p, ms, &rx, got, sizeof(got)) == -ETIMEDOUT) {
		check(true, what, "");
		return;
	}
	check(false, what, "expected no message, got %s", got);
	if (rx.msg)
		rx_free(&rx);
}

static void peer_send(struct peer *p, struct osmo_gsup_message *g)
{
	if (!p->sgsn && !g->message_class)
		g->message_class = OSMO_GSUP_MESSAGE_CLASS_SUBSCRIBER_MANAGEMENT;
	if (p->sgsn && !g->cn_domain)
		g->cn_domain = OSMO_GSUP_CN_DOMAIN_PS;
	int rc = osmo_gsup_client_enc_send(p->gsupc, g);
	if (rc < 0)
		check(false, "send", "%s could not send %s: %d", p->name,
		      osmo_gsup_message_type_name(g->message_type), rc);
}

/* Answers a request from koryod (ISD, LocationCancel) with its result, or with
 * an error carrying cause when cause is non-zero. */
static void peer_answer(struct peer *p, const struct rx *req, uint8_t cause)
{
	struct osmo_gsup_message g = {0};

	OSMO_STRLCPY_ARRAY(g.imsi, req->g.imsi);
	g.message_type = cause ? OSMO_GSUP_TO_MSGT_ERROR(req->g.message_type)
	                       : OSMO_GSUP_TO_MSGT_RESULT(req->g.message_type);
	g.cause = cause;
	g.message_class = req->g.message_class;
	peer_send(p, &g);
}

/* ---- subscriber keys and vectors ------------------------------------------ */

struct keyset {
	struct aka_keys keys;
	struct milenage_ctx mctx;
};

/* Demo keys: K = ASCII "k" + IMSI, OP = ASCII "koryolink-op-467". */
static int keyset_init(struct keyset *ks, const char *imsi)
{
	uint8_t op[16];
	char k[17];

	memset(ks, 0, sizeof(*ks));
	if (snprintf(k, sizeof(k), "k%s", imsi) != 16)
		return -EINVAL;
	memcpy(ks->keys.k, k, 16);
	memcpy(op, DEMO_OP, 16);
	if (milenage_opc_gen(ks->keys.k, op, ks->keys.opc) != 0)
		return -EIO;
	return milenage_ctx_init(&ks->mctx, ks->keys.k, ks->keys.opc);
}

static void keyset_cleanup(struct keyset *ks)
{
	milenage_ctx_cleanup(&ks->mctx);
	memset(&ks->keys, 0, sizeof(ks->keys));
}

/* Recomputes one vector from K/OPc, its RAND and the SQN concealed in its
 * AUTN. Returns true with *sqn set if AUTN, RES, CK, IK, SRES and Kc all
 * match; else false with why filled. */
static bool vec_verify(const struct keyset *ks, const struct osmo_auth_vector *v, uint64_t *sqn,
                       char *why, size_t n)
{
	uint8_t ak[6];
	struct aka_vector e;

	*sqn = 0;
	if (milenage_f2345(&ks->mctx, v->rand, NULL, NULL, NULL, ak) != 0) {
		snprintf(why, n, "f5 failed");
		return false;
	}
	for (int i = 0; i < 6; i++)
		*sqn = (*sqn << 8) | (uint8_t)(v->autn[i] ^ ak[i]);
	if (aka_vector_gen(&ks->keys, *sqn, v->rand, &e) != 0) {
		snprintf(why, n, "aka_vector_gen failed");
		return false;
	}
	const char *bad = NULL;
	if (!(v->auth_types & OSMO_AUTH_TYPE_UMTS))
		bad = "no UMTS part";
	else if (!(v->auth_types & OSMO_AUTH_TYPE_GSM))
		bad = "no GSM part";
	else if (memcmp(v->autn, e.autn, 16) != 0)
		bad = "AUTN";
	else if (v->res_len != 8 || memcmp(v->res, e.res, 8) != 0)
		bad = "RES";
	else if (memcmp(v->ck, e.ck, 16) != 0)
		bad = "CK";
	else if (memcmp(v->ik, e.ik, 16) != 0)
		bad = "IK";
	else if (memcmp(v->sres, e.sres, 4) != 0)
		bad = "SRES";
	else if (memcmp(v->kc, e.kc, 8) != 0)
		bad = "Kc";
	memset(&e, 0, sizeof(e));
	if (!bad && *sqn >= (1u << IND_BITLEN)) {
		/* Again with libosmocore's MILENAGE, an implementation koryod does not
		 * share, from OP rather than OPc. It advances the SQN it is given to
		 * ((sqn + 2^IND_BITLEN) & ~(2^IND_BITLEN - 1)) + IND, so pass one step less. */
		struct osmo_sub_auth_data aud = {
		    .type = OSMO_AUTH_TYPE_UMTS,
		    .algo = OSMO_AUTH_ALG_MILENAGE,
		};
		struct osmo_auth_vector o;
		memcpy(aud.u.umts.k, ks->keys.k, 16);
		memcpy(aud.u.umts.opc, DEMO_OP, 16);
		aud.u.umts.opc_is_op = 1;
		memcpy(aud.u.umts.amf, ks->keys.amf, 2);
		aud.u.umts.ind_bitlen = IND_BITLEN;
		aud.u.umts.ind = *sqn & ((1u << IND_BITLEN) - 1);
		aud.u.umts.sqn = *sqn - (1u << IND_BITLEN);
		int orc = osmo_auth_gen_vec(&o, &aud, v->rand);
		if (orc != 0)
			bad = "libosmocore osmo_auth_gen_vec failed";
		else if (memcmp(o.autn, v->autn, 16) != 0 || memcmp(o.res, v->res, 8) != 0 ||
		         memcmp(o.ck, v->ck, 16) != 0 || memcmp(o.ik, v->ik, 16) != 0 ||
		         memcmp(o.sres, v->sres, 4) != 0 || memcmp(o.kc, v->kc, 8) != 0)
			bad = "libosmocore's MILENAGE disagrees";
		memset(&o, 0, sizeof(o));
		memset(&aud, 0, sizeof(aud));
	}
	if (bad) {
		snprintf(why, n, "%s differs from the recomputation (RAND %s, SQN %llu)", bad,
		         osmo_hexdump_nospc(v->rand, 16), (unsigned long long)*sqn);
		return false;
	}
	return true;
}

/* ---- the operator API (libcurl + jansson) --------------------------------- */

static char g_token[256];
static const char *g_api;

struct buf {
	char *p;
	size_t len;
};

static size_t buf_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct buf *b = arg;
	size_t n = size * nmemb;
	if (b->len + n > (1 << 20))
		return 0;
	char *np = realloc(b->p, b->len + n + 1);
	if (!np)
		return 0;
	b->p = np;
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = 0;
	return n;
}

static int api_init(void)
{
	const char *tf = getenv("KORYO_TOKEN_FILE");
	g_api = getenv("KORYO_API");
	if (!g_api || !tf)
		return -EINVAL;
	FILE *f = fopen(tf, "r");
	if (!f)
		return -errno;
	size_t n = fread(g_token, 1, sizeof(g_token) - 1, f);
	fclose(f);
	g_token[n] = 0;
	while (n && (g_token[n - 1] == '\n' || g_token[n - 1] == '\r'))
		g_token[--n] = 0;
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
}

/* One API call (5 s at most). Returns the parsed body (caller decrefs; NULL if
 * none or not JSON) and the HTTP status in *status (0 if the call failed). */
static json_t *api(const char *method, const char *path, const char *body, long *status)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	struct buf b = {0};
	char url[512], auth[300];
	json_t *j = NULL;

	*status = 0;
	if (!c)
		return NULL;
	snprintf(url, sizeof(url), "%s%s", g_api, path);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", g_token);
	h = curl_slist_append(h, auth);
	h = curl_slist_append(h, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)WAIT_MS);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, buf_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	if (b.p)
		j = json_loads(b.p, 0, NULL);
	free(b.p);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return j;
}

static json_t *api_sub(const char *imsi)
{
	char path[64];
	long st;
	snprintf(path, sizeof(path), "/v1/subscribers/%s", imsi);
	json_t *j = api("GET", path, NULL, &st);
	if (st != 200) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* PATCH /v1/subscribers/IMSI with body; a check line of its own. */
static bool api_patch(const char *imsi, const char *body)
{
	char path[64], what[160];
	long st;
	snprintf(path, sizeof(path), "/v1/subscribers/%s", imsi);
	json_t *j = api("PATCH", path, body, &st);
	char *dump = j ? json_dumps(j, JSON_COMPACT) : NULL;
	snprintf(what, sizeof(what), "API PATCH %s %s", imsi, body);
	bool ok = check(st == 200, what, "expected HTTP 200, got %ld %s", st, dump ? dump : "");
	free(dump);
	json_decref(j);
	return ok;
}

static const char *jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The "serving" member of a subscriber, as compact JSON for failure lines. */
static void serving_desc(json_t *sub, char *buf, size_t n)
{
	json_t *s = sub ? json_object_get(sub, "serving") : NULL;
	char *d = s ? json_dumps(s, JSON_COMPACT) : NULL;
	snprintf(buf, n, "%s", !sub ? "(GET failed)" : d ? d : "(no \"serving\" member)");
	free(d);
}

/* An RFC 3339 UTC time ("2026-11-22T11:00:00Z", fraction allowed) within 30 s
 * of now. */
static bool time_recent(const char *s)
{
	struct tm tm = {0};
	if (!s)
		return false;
	const char *e = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!e)
		return false;
	time_t t = timegm(&tm);
	double d = difftime(time(NULL), t);
	return d > -30 && d < 30;
}

/* Checks serving.<node> (vlr or sgsn) of imsi: want a name, or NULL for
 * cleared (null or absent); with a name, <node>_updated_at must be recent. */
static void check_serving(const char *imsi, const char *node, const char *want, const char *what)
{
	json_t *sub = api_sub(imsi);
	json_t *s = sub ? json_object_get(sub, "serving") : NULL;
	const char *have = s ? jstr(s, node) : NULL;
	char desc[512], key[32];

	serving_desc(sub, desc, sizeof(desc));
	if (want) {
		check(sub && have && strcmp(have, want) == 0, what,
		      "expected serving.%s \"%s\", got %s", node, want, desc);
		snprintf(key, sizeof(key), "%s_updated_at", node);
		char w2[256];
		snprintf(w2, sizeof(w2), "%s: serving.%s recent", what, key);
		check(s && time_recent(jstr(s, key)), w2,
		      "expected a time within 30 s of now, got %s", desc);
	} else {
		check(sub && !have, what, "expected serving.%s cleared, got %s", node, desc);
	}
	json_decref(sub);
}

/* ---- procedures ------------------------------------------------------------ */

struct sqn_track {
	bool have;
	uint64_t last;         /* highest SQN seen for the subscriber */
	uint8_t last_rand[16]; /* RAND of the last vector */
};

/* Sends SAI (nreq 0: no IE 0x52; auts/rand for resync) and waits for the
 * answer. Returns 0 with *rx filled, or -ETIMEDOUT / -EBADMSG. */
static int sai_send_wait(struct peer *p, const char *imsi, int nreq, const uint8_t *auts,
                         const uint8_t *rand, struct rx *rx, char *got, size_t gotlen)
{
	struct osmo_gsup_message g = {0};

	g.message_type = OSMO_GSUP_MSGT_SEND_AUTH_INFO_REQUEST;
	OSMO_STRLCPY_ARRAY(g.imsi, imsi);
	g.cn_domain = p->sgsn ? OSMO_GSUP_CN_DOMAIN_PS : OSMO_GSUP_CN_DOMAIN_CS;
	/* libosmogsm encodes IE 0x52 only when non-zero. */
	g.num_auth_vectors = nreq;
	g.auts = auts;
	g.rand = rand;
	peer_send(p, &g);
	return peer_next(p, rx, got, gotlen);
}

/* SAI for a demo subscriber with every vector checked. *ind is the peer's IND
 * (-1: not yet known, set here). Returns the first vector's SQN (or -1). */
static int64_t sai_check(struct peer *p, const char *imsi, const struct keyset *ks, int nreq,
                         unsigned nexp, struct sqn_track *t, int *ind, const uint8_t *auts,
                         const uint8_t *rand, const char *label)
{
	struct rx rx;
	char got[256], what[256], why[256] = "";
	int64_t first = -1;

	int rc = sai_send_wait(p, imsi, nreq, auts, rand, &rx, got, sizeof(got));
	snprintf(what, sizeof(what), "%s: SAI result", label);
	if (!check(rc == 0 && rx.g.message_type == OSMO_GSUP_MSGT_SEND_AUTH_INFO_RESULT &&
	               strcmp(rx.g.imsi, imsi) == 0,
	           what, "expected SendAuthInfo result for %s, got %s", imsi, got)) {
		if (rc == 0)
			rx_free(&rx);
		return -1;
	}
	snprintf(what, sizeof(what), "%s: %u vectors", label, nexp);
	check(rx.g.num_auth_vectors == nexp, what, "got %zu", rx.g.num_auth_vectors);

	bool all_ok = true, incr = true, ind_same = true;
	uint64_t prev = t->have ? t->last : 0;
	bool have_prev = t->have;
	char incr_why[160] = "", ind_why[160] = "";
	for (size_t i = 0; i < rx.g.num_auth_vectors; i++) {
		uint64_t sqn;
		const struct osmo_auth_vector *v = &rx.g.auth_vectors[i];
		if (!vec_verify(ks, v, &sqn, why, sizeof(why))) {
			if (all_ok)
				snprintf(why + strlen(why), sizeof(why) - strlen(why),
				         " in vector %zu", i + 1);
			all_ok = false;
			continue;
		}
		if (i == 0)
			first = (int64_t)sqn;
		if (have_prev && sqn <= prev && incr) {
			incr = false;
			snprintf(incr_why, sizeof(incr_why), "vector %zu has SQN %llu after %llu",
			         i + 1, (unsigned long long)sqn, (unsigned long long)prev);
		}
		int vind = (int)(sqn & ((1u << IND_BITLEN) - 1));
		if (*ind < 0)
			*ind = vind;
		else if (vind != *ind && ind_same) {
			ind_same = false;
			snprintf(ind_why, sizeof(ind_why), "vector %zu has IND %d, expected %d",
			         i + 1, vind, *ind);
		}
		prev = sqn;
		have_prev = true;
		memcpy(t->last_rand, v->rand, 16);
	}
	snprintf(
	    what, sizeof(what),
	    "%s: every vector recomputes (AUTN RES CK IK SRES Kc; koryo_crypto and libosmocore)",
	    label);
	check(all_ok, what, "%s", why);
	snprintf(what, sizeof(what), "%s: SQN strictly increasing across vectors and requests",
	         label);
	check(incr, what, "%s", incr_why);
	snprintf(what, sizeof(what), "%s: IND the same for every vector of %s", label, p->name);
	check(ind_same, what, "%s", ind_why);
	if (have_prev) {
		t->have = true;
		t->last = prev;
	}
	rx_free(&rx);
	return first;
}

/* What an InsertSubscriberData carried. */
struct isd_data {
	bool got;
	char msisdn[32];
	int cn_domain;
	bool pdp_complete;
	unsigned n_apn;
	char apn[OSMO_GSUP_MAX_NUM_PDP_INFO][128];
};

static void isd_extract(const struct osmo_gsup_message *g, struct isd_data *d)
{
	memset(d, 0, sizeof(*d));
	d->got = true;
	if (g->msisdn_enc && gsm48_decode_bcd_number2(d->msisdn, sizeof(d->msisdn), g->msisdn_enc,
	                                              g->msisdn_enc_len, 0) != 0)
		snprintf(d->msisdn, sizeof(d->msisdn), "(undecodable)");
	d->cn_domain = g->cn_domain;
	d->pdp_complete = g->pdp_info_compl;
	for (size_t i = 0; i < g->num_pdp_infos && i < OSMO_GSUP_MAX_NUM_PDP_INFO; i++) {
		const struct osmo_gsup_pdp_info *pi = &g->pdp_infos[i];
		if (pi->apn_enc && pi->apn_enc_len < sizeof(d->apn[0]))
			osmo_apn_to_str(d->apn[d->n_apn], pi->apn_enc, pi->apn_enc_len);
		else
			snprintf(d->apn[d->n_apn], sizeof(d->apn[0]), "(none)");
		d->n_apn++;
	}
}

/* The APN list as "a,b" (sorted as received) for messages and comparisons. */
static void apn_list(const struct isd_data *d, char *buf, size_t n)
{
	buf[0] = 0;
	for (unsigned i = 0; i < d->n_apn; i++)
		snprintf(buf + strlen(buf), n - strlen(buf), "%s%s", i ? "," : "", d->apn[i]);
}

static bool apn_set_is(const struct isd_data *d, const char *const *want, unsigned n)
{
	if (d->n_apn != n)
		return false;
	for (unsigned i = 0; i < n; i++) {
		bool found = false;
		for (unsigned j = 0; j < d->n_apn; j++)
			found = found || strcmp(d->apn[j], want[i]) == 0;
		if (!found)
			return false;
	}
	return true;
}

enum isd_reply { ISD_RESULT, ISD_ERROR, ISD_SILENT };

/* UpdateLocation from p (domain 0: no CN domain IE). An ISD that comes is
 * recorded in *isd and answered as reply says. Returns 0 with the final
 * answer (UL result or error) in *fin, or a negative errno; got describes the
 * final answer or what came instead. */
static int ul_run(struct peer *p, const char *imsi, enum osmo_gsup_cn_domain dom,
                  enum isd_reply reply, struct isd_data *isd, struct rx *fin, char *got,
                  size_t gotlen)
{
	struct osmo_gsup_message g = {0};
	struct rx rx;

	memset(isd, 0, sizeof(*isd));
	g.message_type = OSMO_GSUP_MSGT_UPDATE_LOCATION_REQUEST;
	OSMO_STRLCPY_ARRAY(g.imsi, imsi);
	g.cn_domain = dom;
	if (p->sgsn && dom == 0) {
		/* peer_send would add PS; send the IE-less form by hand. */
		int rc = osmo_gsup_client_enc_send(p->gsupc, &g);
		if (rc < 0)
			return rc;
	} else {
		peer_send(p, &g);
	}
	int rc = peer_next(p, &rx, got, gotlen);
	if (rc < 0)
		return rc;
	if (rx.g.message_type == OSMO_GSUP_MSGT_INSERT_DATA_REQUEST &&
	    strcmp(rx.g.imsi, imsi) == 0) {
		isd_extract(&rx.g, isd);
		if (reply != ISD_SILENT)
			peer_answer(p, &rx, reply == ISD_ERROR ? GMM_CAUSE_NET_FAIL : 0);
		rx_free(&rx);
		rc = peer_next(p, &rx, got, gotlen);
		if (rc < 0)
			return rc;
	}
	*fin = rx;
	return 0;
}

/* UL whose every step must succeed: ISD with the given domain, UL result. */
static bool ul_ok(struct peer *p, const char *imsi, enum osmo_gsup_cn_domain dom,
                  struct isd_data *isd, const char *label)
{
	struct rx fin;
	char got[256], what[256];

	int rc = ul_run(p, imsi, dom, ISD_RESULT, isd, &fin, got, sizeof(got));
	snprintf(what, sizeof(what), "%s: InsertSubscriberData to %s", label, p->name);
	check(isd->got, what, "expected an ISD request for %s first, got %s", imsi,
	      rc == 0 || !isd->got ? got : "(nothing)");
	snprintf(what, sizeof(what), "%s: UpdateLocation result", label);
	bool ok = check(rc == 0 && fin.g.message_type == OSMO_GSUP_MSGT_UPDATE_LOCATION_RESULT &&
	                    strcmp(fin.g.imsi, imsi) == 0,
	                what, "expected UpdateLocation result for %s, got %s", imsi, got);
	if (rc == 0)
		rx_free(&fin);
	return ok && isd->got;
}

/* A request that must be refused: the error of its procedure with cause. */
static void expect_error(struct peer *p, uint8_t req_type, const char *imsi, uint8_t cause,
                         const char *what)
{
	struct rx rx;
	char got[256];
	int rc = peer_next(p, &rx, got, sizeof(got));
	check(rc == 0 && rx.g.message_type == OSMO_GSUP_TO_MSGT_ERROR(req_type) &&
	          rx.g.cause == cause && strcmp(rx.g.imsi, imsi) == 0,
	      what, "expected %s cause 0x%02x for %s, got %s",
	      osmo_gsup_message_type_name(OSMO_GSUP_TO_MSGT_ERROR(req_type)), cause, imsi, got);
	if (rc == 0)
		rx_free(&rx);
}

static void send_simple(struct peer *p, uint8_t type, const char *imsi,
                        enum osmo_gsup_cn_domain dom)
{
	struct osmo_gsup_message g = {0};
	g.message_type = type;
	OSMO_STRLCPY_ARRAY(g.imsi, imsi);
	g.cn_domain = dom;
	peer_send(p, &g);
}

/* The UL of a refused subscriber: the error with cause and no ISD before it. */
static void ul_refused(struct peer *p, const char *imsi, enum osmo_gsup_cn_domain dom,
                       uint8_t cause, const char *what)
{
	struct isd_data isd;
	struct rx fin;
	char got[256];
	int rc = ul_run(p, imsi, dom, ISD_RESULT, &isd, &fin, got, sizeof(got));
	check(rc == 0 && !isd.got && fin.g.message_type == OSMO_GSUP_MSGT_UPDATE_LOCATION_ERROR &&
	          fin.g.cause == cause,
	      what, "expected UpdateLocation error cause 0x%02x (no ISD), got %s%s", cause,
	      isd.got ? "an ISD, then " : "", got);
	if (rc == 0)
		rx_free(&fin);
}

/* Waits for a LocationCancel of the given type for imsi on p and answers it. */
static void expect_cancel(struct peer *p, const char *imsi, enum osmo_gsup_cancel_type type,
                          const char *what)
{
	struct rx rx;
	char got[256];
	int rc = peer_next(p, &rx, got, sizeof(got));
	bool is_cancel = rc == 0 && rx.g.message_type == OSMO_GSUP_MSGT_LOCATION_CANCEL_REQUEST &&
	                 strcmp(rx.g.imsi, imsi) == 0;
	const char *have = !is_cancel                                           ? ""
	                   : rx.g.cancel_type == OSMO_GSUP_CANCEL_TYPE_UPDATE   ? " type update"
	                   : rx.g.cancel_type == OSMO_GSUP_CANCEL_TYPE_WITHDRAW ? " type withdrawn"
	                                                                        : " without a type";
	check(is_cancel && rx.g.cancel_type == type, what,
	      "expected LocationCancel request for %s with cancellation type %s, got %s%s", imsi,
	      type == OSMO_GSUP_CANCEL_TYPE_UPDATE ? "update procedure" : "subscription withdrawn",
	      got, have);
	if (is_cancel)
		peer_answer(p, &rx, 0);
	if (rc == 0)
		rx_free(&rx);
}

/* Waits for an ISD push (no UL) on p, answers it, and returns its content. */
static bool expect_isd_push(struct peer *p, const char *imsi, struct isd_data *isd,
                            const char *what)
{
	struct rx rx;
	char got[256];
	memset(isd, 0, sizeof(*isd));
	int rc = peer_next(p, &rx, got, sizeof(got));
	bool ok = rc == 0 && rx.g.message_type == OSMO_GSUP_MSGT_INSERT_DATA_REQUEST &&
	          strcmp(rx.g.imsi, imsi) == 0;
	check(ok, what, "expected InsertSubscriberData request for %s, got %s", imsi, got);
	if (ok) {
		isd_extract(&rx.g, isd);
		peer_answer(p, &rx, 0);
	}
	if (rc == 0)
		rx_free(&rx);
	return ok;
}

/* ---- the scripted run ------------------------------------------------------ */

#define C_SAI      "467050000000001" /* SAI, resync, CheckIMEI */
#define C_UL       "467050000000002" /* UL CS, CancelLocation, PurgeMS */
#define C_PS       "467050000000003"
#define F_PS       "467051000000003"
#define O_PS       "467052000000003"
#define O_NODOM    "467052000000004"
#define C_ISDERR   "467050000000005"
#define C_SUSP     "467050000000006"
#define C_TERM     "467050000000007"
#define C_PUSHSTAT "467050000000008"
#define F_PUSHCLS  "467051000000008"
#define C_PUSHMSI  "467050000000009"
#define C_PENDING  "467050000000017" /* pending in the demo data */
#define F_SWITCH   "467051000000010" /* foreigner_internet off and on */
#define IMSI_NONE  "467059999999999" /* home prefix, not provisioned */
#define TEST_IMEI  "35696833065340"

/* GMM causes as docs/gsup.md names them. */
#define CAUSE_NOT_ALLOWED GMM_CAUSE_GPRS_OTHER_NOTALLOWED /* 0x08, pending/suspended */
#define CAUSE_ISD_TIMEOUT 0x26                            /* GSM 04.08 network failure */

static void run_sai(struct peer *a, struct peer *b)
{
	struct keyset ks;
	struct sqn_track t = {0};
	int ind_a = -1, ind_b = -1;
	char what[256];

	if (keyset_init(&ks, C_SAI) != 0) {
		check(false, "keys for " C_SAI, "keyset_init failed");
		return;
	}
	sai_check(a, C_SAI, &ks, 0, 5, &t, &ind_a, NULL, NULL, "SAI " C_SAI " default count");
	sai_check(a, C_SAI, &ks, 2, 2, &t, &ind_a, NULL, NULL, "SAI " C_SAI " IE 0x52 = 2");
	sai_check(b, C_SAI, &ks, 1, 1, &t, &ind_b, NULL, NULL, "SAI " C_SAI " from the SGSN");
	check(ind_a >= 0 && ind_b >= 0 && ind_a != ind_b,
	      "SAI: the VLR and the SGSN have distinct IND slots", "VLR IND %d, SGSN IND %d", ind_a,
	      ind_b);

	/* The SQN is durable and shown by the API. */
	json_t *sub = api_sub(C_SAI);
	json_t *auth = sub ? json_object_get(sub, "auth") : NULL;
	json_t *jsqn = auth ? json_object_get(auth, "sqn") : NULL;
	check(json_is_integer(jsqn) && (uint64_t)json_integer_value(jsqn) == t.last,
	      "SAI: API auth.sqn is the last SQN sent", "expected %llu, got %lld",
	      (unsigned long long)t.last,
	      json_is_integer(jsqn) ? (long long)json_integer_value(jsqn) : -1LL);
	json_decref(sub);

	/* Resynchronisation with an SQN_MS well above the HLR's. */
	uint8_t auts[AKA_AUTS_LEN], rand[16];
	uint64_t sqn_ms = t.last + (UINT64_C(1000) << IND_BITLEN) + 7;
	memcpy(rand, t.last_rand, 16);
	if (aka_auts_gen(&ks.keys, rand, sqn_ms, auts) != 0) {
		check(false, "resync: AUTS", "aka_auts_gen failed");
	} else {
		int64_t first =
		    sai_check(a, C_SAI, &ks, 0, 5, &t, &ind_a, auts, rand, "SAI " C_SAI " resync");
		uint64_t want = aka_sqn_next(sqn_ms, IND_BITLEN, ind_a < 0 ? 0 : ind_a);
		snprintf(what, sizeof(what),
		         "resync: first SQN is aka_sqn_next(SQN_MS %llu, 5, IND %d)",
		         (unsigned long long)sqn_ms, ind_a);
		check(first >= 0 && (uint64_t)first == want, what, "expected %llu, got %lld",
		      (unsigned long long)want, (long long)first);
		sai_check(a, C_SAI, &ks, 1, 1, &t, &ind_a, NULL, NULL,
		          "SAI " C_SAI " after resync");

		/* Corrupted MAC-S. */
		uint8_t bad[AKA_AUTS_LEN];
		aka_auts_gen(&ks.keys, rand, sqn_ms + 64, bad);
		bad[AKA_AUTS_LEN - 1] ^= 0x01;
		struct rx rx;
		char got[256];
		int rc = sai_send_wait(a, C_SAI, 0, bad, rand, &rx, got, sizeof(got));
		check(rc == 0 && rx.g.message_type == OSMO_GSUP_MSGT_SEND_AUTH_INFO_ERROR &&
		          rx.g.cause == GMM_CAUSE_IMSI_UNKNOWN,
		      "resync: corrupted AUTS refused with cause 0x02",
		      "expected SendAuthInfo error cause 0x02, got %s", got);
		if (rc == 0)
			rx_free(&rx);
	}
	keyset_cleanup(&ks);

	/* Echoes: Message Class, Source Name -> Destination Name. */
	struct osmo_gsup_message g = {0};
	static const uint8_t src[] = "SRC-NAME";
	g.message_type = OSMO_GSUP_MSGT_SEND_AUTH_INFO_REQUEST;
	OSMO_STRLCPY_ARRAY(g.imsi, C_SAI);
	g.num_auth_vectors = 1;
	g.message_class = OSMO_GSUP_MESSAGE_CLASS_SUBSCRIBER_MANAGEMENT;
	g.source_name = src;
	g.source_name_len = sizeof(src);
	peer_send(a, &g);
	struct rx rx;
	char got[256];
	if (peer_next(a, &rx, got, sizeof(got)) == 0) {
		check(rx.g.message_class == OSMO_GSUP_MESSAGE_CLASS_SUBSCRIBER_MANAGEMENT,
		      "SAI answer echoes Message Class 1", "got class %d", rx.g.message_class);
		check(rx.g.destination_name_len == sizeof(src) &&
		          memcmp(rx.g.destination_name, src, sizeof(src)) == 0,
		      "SAI answer copies Source Name to Destination Name", "destination name %s",
		      rx.g.destination_name
		          ? osmo_hexdump_nospc(rx.g.destination_name, rx.g.destination_name_len)
		          : "absent");
		rx_free(&rx);
	} else {
		check(false, "SAI with Source Name answered", "%s", got);
	}
}

static void run_ul(struct peer *a, struct peer *b, struct peer *c)
{
	struct isd_data isd;

	/* UL CS. */
	json_t *sub = api_sub(C_UL);
	const char *msisdn = sub ? jstr(sub, "msisdn") : NULL;
	if (ul_ok(a, C_UL, OSMO_GSUP_CN_DOMAIN_CS, &isd, "UL CS " C_UL)) {
		check(msisdn && strcmp(isd.msisdn, msisdn) == 0,
		      "UL CS: ISD MSISDN is the subscriber's", "expected %s, got %s",
		      msisdn ? msisdn : "(API GET failed)", isd.msisdn);
		check(isd.cn_domain == OSMO_GSUP_CN_DOMAIN_CS, "UL CS: ISD CN domain CS", "got %d",
		      isd.cn_domain);
		check(isd.n_apn == 0, "UL CS: ISD has no PDP info", "got %u", isd.n_apn);
	}
	json_decref(sub);
	check_serving(C_UL, "vlr", a->name, "UL CS: API serving.vlr is the client's ipa-name");

	/* UL PS per class. */
	static const char *const intranet[] = {"intranet"};
	static const char *const internet[] = {"internet"};
	static const char *const both[] = {"intranet", "internet"};
	struct {
		const char *imsi, *label;
		const char *const *apns;
		unsigned n;
		enum osmo_gsup_cn_domain dom;
	} ps[] = {
	    {C_PS, "UL PS citizen " C_PS, intranet, 1, OSMO_GSUP_CN_DOMAIN_PS},
	    {F_PS, "UL PS foreigner " F_PS, internet, 1, OSMO_GSUP_CN_DOMAIN_PS},
	    {O_PS, "UL PS official " O_PS, both, 2, OSMO_GSUP_CN_DOMAIN_PS},
	    {O_NODOM, "UL without CN domain (= PS) official " O_NODOM, both, 2, 0},
	};
	for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
		char what[256], list[300];
		if (!ul_ok(b, ps[i].imsi, ps[i].dom, &isd, ps[i].label))
			continue;
		apn_list(&isd, list, sizeof(list));
		snprintf(what, sizeof(what), "%s: ISD APNs exactly {%s%s%s}", ps[i].label,
		         ps[i].apns[0], ps[i].n > 1 ? "," : "", ps[i].n > 1 ? ps[i].apns[1] : "");
		check(apn_set_is(&isd, ps[i].apns, ps[i].n), what, "got {%s}", list);
		snprintf(what, sizeof(what), "%s: ISD has PDP info complete and CN domain PS",
		         ps[i].label);
		check(isd.pdp_complete && isd.cn_domain == OSMO_GSUP_CN_DOMAIN_PS, what,
		      "PDP info complete %s, CN domain %d", isd.pdp_complete ? "present" : "absent",
		      isd.cn_domain);
		snprintf(what, sizeof(what), "%s: API serving.sgsn", ps[i].label);
		check_serving(ps[i].imsi, "sgsn", b->name, what);
	}

	/* CancelLocation: C takes C_UL over from A. */
	ul_ok(c, C_UL, OSMO_GSUP_CN_DOMAIN_CS, &isd, "UL CS " C_UL " from a second VLR");
	expect_cancel(a, C_UL, OSMO_GSUP_CANCEL_TYPE_UPDATE,
	              "UL from a second VLR: the first gets LocationCancel (update procedure)");
	check_serving(C_UL, "vlr", c->name, "after the move: API serving.vlr is the second VLR");
	peer_expect_quiet(c, 300, "the new VLR gets no LocationCancel");

	/* ISD answered with an error. */
	struct rx fin;
	char got[256];
	int rc =
	    ul_run(a, C_ISDERR, OSMO_GSUP_CN_DOMAIN_CS, ISD_ERROR, &isd, &fin, got, sizeof(got));
	check(rc == 0 && isd.got && fin.g.message_type == OSMO_GSUP_MSGT_UPDATE_LOCATION_ERROR &&
	          fin.g.cause == GMM_CAUSE_NET_FAIL,
	      "ISD answered with an error: UpdateLocation error 0x11",
	      "expected ISD then UpdateLocation error cause 0x11, got %s%s",
	      isd.got ? "ISD, " : "no ISD, ", got);
	if (rc == 0)
		rx_free(&fin);

	/* PurgeMS by the serving VLR. */
	send_simple(c, OSMO_GSUP_MSGT_PURGE_MS_REQUEST, C_UL, OSMO_GSUP_CN_DOMAIN_CS);
	struct rx rx;
	rc = peer_next(c, &rx, got, sizeof(got));
	check(rc == 0 && rx.g.message_type == OSMO_GSUP_MSGT_PURGE_MS_RESULT, "PurgeMS: result",
	      "expected PurgeMS result, got %s", got);
	if (rc == 0)
		rx_free(&rx);
	check_serving(C_UL, "vlr", NULL, "PurgeMS: API serving.vlr cleared");

	/* CheckIMEI. */
	struct osmo_gsup_message g = {0};
	uint8_t imei_enc[10];
	g.message_type = OSMO_GSUP_MSGT_CHECK_IMEI_REQUEST;
	OSMO_STRLCPY_ARRAY(g.imsi, C_SAI);
	int len = gsm48_encode_bcd_number(imei_enc, sizeof(imei_enc), 0, TEST_IMEI);
	g.imei_enc = imei_enc;
	g.imei_enc_len = len;
	peer_send(a, &g);
	rc = peer_next(a, &rx, got, sizeof(got));
	check(rc == 0 && rx.g.message_type == OSMO_GSUP_MSGT_CHECK_IMEI_RESULT &&
	          rx.g.imei_result == OSMO_GSUP_IMEI_RESULT_ACK,
	      "CheckIMEI 14 digits: result with IMEI result ACK (wire 0)",
	      "expected CheckIMEI result ACK, got %s, IMEI result enum %d", got,
	      rc == 0 ? (int)rx.g.imei_result : -1);
	if (rc == 0)
		rx_free(&rx);
	sub = api_sub(C_SAI);
	const char *imei = sub ? jstr(sub, "imei") : NULL;
	check(imei && strcmp(imei, TEST_IMEI) == 0, "CheckIMEI: API shows the IMEI",
	      "expected imei \"%s\", got %s", TEST_IMEI, imei ? imei : "(absent)");
	json_decref(sub);
	memset(&g, 0, sizeof(g));
	g.message_type = OSMO_GSUP_MSGT_CHECK_IMEI_REQUEST;
	OSMO_STRLCPY_ARRAY(g.imsi, C_SAI);
	len = gsm48_encode_bcd_number(imei_enc, sizeof(imei_enc), 0, "3569683306534");
	g.imei_enc = imei_enc;
	g.imei_enc_len = len;
	peer_send(a, &g);
	expect_error(a, OSMO_GSUP_MSGT_CHECK_IMEI_REQUEST, C_SAI, GMM_CAUSE_INV_MAND_INFO,
	             "CheckIMEI with 13 digits: error 0x60");
	send_simple(a, OSMO_GSUP_MSGT_CHECK_IMEI_REQUEST, C_SAI, 0);
	expect_error(a, OSMO_GSUP_MSGT_CHECK_IMEI_REQUEST, C_SAI, GMM_CAUSE_INV_MAND_INFO,
	             "CheckIMEI without IMEI: error 0x60");
}

static void run_errors(struct peer *a, struct peer *b)
{
	send_simple(a, OSMO_GSUP_MSGT_SEND_AUTH_INFO_REQUEST, IMSI_NONE, OSMO_GSUP_CN_DOMAIN_CS);
	expect_error(a, OSMO_GSUP_MSGT_SEND_AUTH_INFO_REQUEST, IMSI_NONE, GMM_CAUSE_IMSI_UNKNOWN,
	             "unknown IMSI: SAI error 0x02");
	ul_refused(a, IMSI_NONE, OSMO_GSUP_CN_DOMAIN_CS, GMM_CAUSE_IMSI_UNKNOWN,
	           "unknown IMSI: UL error 0x02");
	send_simple(a, OSMO_GSUP_MSGT_PURGE_MS_REQUEST, IMSI_NONE, OSMO_GSUP_CN_DOMAIN_CS);
	expect_error(a, OSMO_GSUP_MSGT_PURGE_MS_REQUEST, IMSI_NONE, GMM_CAUSE_IMSI_UNKNOWN,
	             "unknown IMSI: PurgeMS error 0x02");

	if (api_patch(C_SUSP, "{\"status\":\"suspended\"}")) {
		send_simple(a, OSMO_GSUP_MSGT_SEND_AUTH_INFO_REQUEST, C_SUSP,
		            OSMO_GSUP_CN_DOMAIN_CS);
		expect_error(a, OSMO_GSUP_MSGT_SEND_AUTH_INFO_REQUEST, C_SUSP, CAUSE_NOT_ALLOWED,
		             "suspended: SAI error 0x08");
		ul_refused(a, C_SUSP, OSMO_GSUP_CN_DOMAIN_CS, CAUSE_NOT_ALLOWED,
		           "suspended: UL CS error 0x08");
		ul_refused(b, C_SUSP, OSMO_GSUP_CN_DOMAIN_PS, CAUSE_NOT_ALLOWED,
		           "suspended: UL PS error 0x08");
	}
	if (api_patch(C_TERM, "{\"status\":\"terminated\"}")) {
		send_simple(a, OSMO_GSUP_MSGT_SEND_AUTH_INFO_REQUEST, C_TERM,
		            OSMO_GSUP_CN_DOMAIN_CS);
		expect_error(a, OSMO_GSUP_MSGT_SEND_AUTH_INFO_REQUEST, C_TERM,
		             GMM_CAUSE_IMSI_UNKNOWN, "terminated: SAI error 0x02");
		ul_refused(a, C_TERM, OSMO_GSUP_CN_DOMAIN_CS, GMM_CAUSE_IMSI_UNKNOWN,
		           "terminated: UL error 0x02");
	}
	send_simple(a, OSMO_GSUP_MSGT_SEND_AUTH_INFO_REQUEST, C_PENDING, OSMO_GSUP_CN_DOMAIN_CS);
	expect_error(a, OSMO_GSUP_MSGT_SEND_AUTH_INFO_REQUEST, C_PENDING, CAUSE_NOT_ALLOWED,
	             "pending: SAI error 0x08");

	/* A class without PS (or without CS): only if the profile has one. */
	long st;
	json_t *cl = api("GET", "/v1/classes", NULL, &st);
	json_t *items = cl ? json_object_get(cl, "items") : NULL;
	const char *no_ps = NULL, *no_cs = NULL;
	bool have_domains = false;
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it)
	{
		json_t *d = json_object_get(it, "domains");
		char *s = d ? json_dumps(d, JSON_ENCODE_ANY) : NULL;
		if (s) {
			have_domains = true;
			if (!strstr(s, "ps") && !no_ps)
				no_ps = jstr(it, "name");
			if (!strstr(s, "cs") && !no_cs)
				no_cs = jstr(it, "name");
		}
		free(s);
	}
	if (!have_domains)
		printf("note: GET /v1/classes shows no \"domains\" member\n");
	if (no_ps || no_cs) {
		const char *cls = no_ps ? no_ps : no_cs;
		char body[512];
		snprintf(body, sizeof(body),
		         "{\"imsi\":\"467050000099001\",\"class\":\"%s\",\"status\":\"active\","
		         "\"k\":\"00112233445566778899aabbccddeeff\","
		         "\"op\":\"00112233445566778899aabbccddeeff\"}",
		         cls);
		json_t *r = api("POST", "/v1/subscribers", body, &st);
		json_decref(r);
		if (check(st == 201, "API POST a subscriber of a class lacking a domain",
		          "HTTP %ld", st)) {
			if (no_ps)
				ul_refused(b, "467050000099001", OSMO_GSUP_CN_DOMAIN_PS,
				           GMM_CAUSE_GPRS_NOTALLOWED,
				           "class without PS: UL PS error 0x07");
			else
				ul_refused(a, "467050000099001", OSMO_GSUP_CN_DOMAIN_CS,
				           GMM_CAUSE_PLMN_NOTALLOWED,
				           "class without CS: UL CS error 0x0b");
		}
	} else {
		skip("class without PS: UL PS error 0x07",
		     "every class of the profile allows CS and PS; classes cannot be created "
		     "through the API");
	}
	json_decref(cl);

	/* AuthenticationFailureReport: no answer. */
	send_simple(a, OSMO_GSUP_MSGT_AUTH_FAIL_REPORT, C_SAI, OSMO_GSUP_CN_DOMAIN_CS);
	peer_expect_quiet(a, 1000, "AuthenticationFailureReport: no answer");

	/* A request koryod does not serve: error 0x61, Session ID echoed. */
	struct osmo_gsup_message g = {0};
	static uint8_t ss[] = {0xa1, 0x00};
	g.message_type = OSMO_GSUP_MSGT_PROC_SS_REQUEST;
	OSMO_STRLCPY_ARRAY(g.imsi, C_SAI);
	g.message_class = OSMO_GSUP_MESSAGE_CLASS_USSD;
	g.session_state = OSMO_GSUP_SESSION_STATE_BEGIN;
	g.session_id = 0x01020304;
	g.ss_info = ss;
	g.ss_info_len = sizeof(ss);
	peer_send(a, &g);
	struct rx rx;
	char got[256];
	int rc = peer_next(a, &rx, got, sizeof(got));
	check(rc == 0 && rx.g.message_type == OSMO_GSUP_MSGT_PROC_SS_ERROR &&
	          rx.g.cause == GMM_CAUSE_MSGT_NOTEXIST_NOTIMPL,
	      "ProcessSS request: error 0x61", "expected ProcessSS error cause 0x61, got %s", got);
	if (rc == 0) {
		check(rx.g.session_id == 0x01020304 &&
		          rx.g.message_class == OSMO_GSUP_MESSAGE_CLASS_USSD,
		      "ProcessSS error echoes Session ID and Message Class",
		      "session id 0x%08x state %d class %d", rx.g.session_id, rx.g.session_state,
		      rx.g.message_class);
		rx_free(&rx);
	}
}

static void run_push(struct peer *a, struct peer *b)
{
	struct isd_data isd;
	char list[300];

	/* Status suspended while attached on CS and PS. */
	bool cs = ul_ok(a, C_PUSHSTAT, OSMO_GSUP_CN_DOMAIN_CS, &isd, "push: UL CS " C_PUSHSTAT);
	bool ps = ul_ok(b, C_PUSHSTAT, OSMO_GSUP_CN_DOMAIN_PS, &isd, "push: UL PS " C_PUSHSTAT);
	if (cs && ps && api_patch(C_PUSHSTAT, "{\"status\":\"suspended\"}")) {
		expect_cancel(a, C_PUSHSTAT, OSMO_GSUP_CANCEL_TYPE_WITHDRAW,
		              "push suspended: VLR gets LocationCancel (subscription withdrawn)");
		expect_cancel(b, C_PUSHSTAT, OSMO_GSUP_CANCEL_TYPE_WITHDRAW,
		              "push suspended: SGSN gets LocationCancel (subscription withdrawn)");
		check_serving(C_PUSHSTAT, "vlr", NULL, "push suspended: API serving.vlr cleared");
		check_serving(C_PUSHSTAT, "sgsn", NULL, "push suspended: API serving.sgsn cleared");
	}

	/* Class foreigner -> citizen while attached on PS. */
	if (ul_ok(b, F_PUSHCLS, OSMO_GSUP_CN_DOMAIN_PS, &isd, "push: UL PS foreigner " F_PUSHCLS) &&
	    api_patch(F_PUSHCLS, "{\"class\":\"citizen\"}") &&
	    expect_isd_push(b, F_PUSHCLS, &isd,
	                    "push class citizen: SGSN gets InsertSubscriberData")) {
		static const char *const intranet[] = {"intranet"};
		apn_list(&isd, list, sizeof(list));
		check(isd.pdp_complete && apn_set_is(&isd, intranet, 1),
		      "push class citizen: PDP info complete, APN intranet only",
		      "PDP info complete %s, APNs {%s}", isd.pdp_complete ? "present" : "absent",
		      list);
	}
	peer_expect_quiet(a, 300, "push class: the VLR (not serving) gets nothing");

	/* MSISDN change while attached on CS and PS. */
	static const char new_msisdn[] = "85019129990009";
	cs = ul_ok(a, C_PUSHMSI, OSMO_GSUP_CN_DOMAIN_CS, &isd, "push: UL CS " C_PUSHMSI);
	ps = ul_ok(b, C_PUSHMSI, OSMO_GSUP_CN_DOMAIN_PS, &isd, "push: UL PS " C_PUSHMSI);
	if (cs && ps && api_patch(C_PUSHMSI, "{\"msisdn\":\"85019129990009\"}")) {
		if (expect_isd_push(a, C_PUSHMSI, &isd,
		                    "push MSISDN: VLR gets InsertSubscriberData"))
			check(strcmp(isd.msisdn, new_msisdn) == 0,
			      "push MSISDN: VLR's ISD has the new MSISDN", "expected %s, got %s",
			      new_msisdn, isd.msisdn);
		if (expect_isd_push(b, C_PUSHMSI, &isd,
		                    "push MSISDN: SGSN gets InsertSubscriberData"))
			check(strcmp(isd.msisdn, new_msisdn) == 0,
			      "push MSISDN: SGSN's ISD has the new MSISDN", "expected %s, got %s",
			      new_msisdn, isd.msisdn);
	}
}

/* PATCH /v1/policy/switches/NAME; a check line of its own. */
static bool api_switch(const char *name, bool on)
{
	char path[96], body[32], what[160];
	long st;
	snprintf(path, sizeof(path), "/v1/policy/switches/%s", name);
	snprintf(body, sizeof(body), "{\"enabled\":%s}", on ? "true" : "false");
	json_t *j = api("PATCH", path, body, &st);
	snprintf(what, sizeof(what), "API switch %s %s", name, on ? "on" : "off");
	bool ok = check(st == 200, what, "expected HTTP 200, got %ld", st);
	json_decref(j);
	return ok;
}

/* The pushes a switch causes: one InsertSubscriberData for each of the
 * attached foreigners (F_PS from the UL checks, and F_SWITCH), in any order.
 * Returns the number of pushes whose APN set was want (n_want APNs). */
static unsigned switch_pushes(struct peer *b, const char *const *want, unsigned n_want,
                              const char *label)
{
	static const char *const attached[] = {F_PS, F_SWITCH};
	unsigned right = 0;
	for (unsigned i = 0; i < 2; i++) {
		struct rx rx;
		char got[256], what[160], list[300];
		snprintf(what, sizeof(what), "%s: SGSN gets InsertSubscriberData (%u of 2)", label,
		         i + 1);
		int rc = peer_next(b, &rx, got, sizeof(got));
		bool ok =
		    rc == 0 && rx.g.message_type == OSMO_GSUP_MSGT_INSERT_DATA_REQUEST &&
		    (strcmp(rx.g.imsi, attached[0]) == 0 || strcmp(rx.g.imsi, attached[1]) == 0);
		check(ok, what, "expected InsertSubscriberData for %s or %s, got %s", attached[0],
		      attached[1], got);
		if (ok) {
			struct isd_data isd;
			isd_extract(&rx.g, &isd);
			peer_answer(b, &rx, 0);
			apn_list(&isd, list, sizeof(list));
			snprintf(what, sizeof(what), "%s: %s has a complete PDP list of %u APN(s)",
			         label, rx.g.imsi, n_want);
			if (check(isd.pdp_complete && apn_set_is(&isd, want, n_want), what,
			          "PDP info complete %s, APNs {%s}",
			          isd.pdp_complete ? "present" : "absent", list))
				right++;
		}
		if (rc == 0)
			rx_free(&rx);
	}
	return right;
}

/* A network-wide switch reaches attached subscribers at once (docs/policy.md):
 * foreigner_internet off withdraws the internet APN from the foreigners on
 * the SGSN (a complete PDP list without it), on gives it back. */
static void run_policy(struct peer *b)
{
	struct isd_data isd;
	char list[300];
	static const char *const internet[] = {"internet"};
	if (!ul_ok(b, F_SWITCH, OSMO_GSUP_CN_DOMAIN_PS, &isd, "switch: UL PS foreigner " F_SWITCH))
		return;
	apn_list(&isd, list, sizeof(list));
	check(apn_set_is(&isd, internet, 1), "switch on at attach: APN internet", "APNs {%s}",
	      list);
	if (api_switch("foreigner_internet", false))
		switch_pushes(b, NULL, 0, "switch off: the internet APN withdrawn");
	if (api_switch("foreigner_internet", true))
		switch_pushes(b, internet, 1, "switch on: the internet APN back");
}

static int run_full(const char *host, int port, const char *name)
{
	char nb[128], nc[128];

	if (api_init() != 0) {
		check(false, "API", "KORYO_API and a readable KORYO_TOKEN_FILE are needed");
		return 1;
	}
	snprintf(nb, sizeof(nb), "%s-SGSN", name);
	snprintf(nc, sizeof(nc), "%s-2", name);
	struct peer *a = peer_new(host, port, name, false);
	struct peer *b = peer_new(host, port, nb, true);
	struct peer *c = peer_new(host, port, nc, false);
	if (g_failed == 0) {
		run_sai(a, b);
		run_ul(a, b, c);
		run_errors(a, b);
		run_push(a, b);
		run_policy(b);
	}
	struct peer *all[] = {a, b, c};
	for (int i = 0; i < 3; i++) {
		char what[160];
		snprintf(what, sizeof(what), "%s: nothing left unanswered or unexpected",
		         all[i]->name);
		peer_expect_quiet(all[i], 200, what);
		snprintf(what, sizeof(what), "%s: connection never dropped", all[i]->name);
		check(all[i]->downs == 0 && all[i]->dropped == 0, what,
		      "%u drops, %u messages lost", all[i]->downs, all[i]->dropped);
		peer_free(all[i]);
	}
	curl_global_cleanup();
	return 0;
}

/* ---- SMS over GSUP (docs/gsup.md) ----------------------------------------- */

/* Citizens of the Koryolink demo profile: A sends, B and C receive. */
#define SMS_A_IMSI   "467050000000001"
#define SMS_A_MSISDN "85019120000001"
#define SMS_B_IMSI   "467050000000002"
#define SMS_B_MSISDN "85019120000002"
#define SMS_C_IMSI   "467050000000003"
#define SMS_C_MSISDN "85019120000003"
/* What an MS puts into RP-DA: koryod is the only SMSC and ignores it. */
static const uint8_t sms_rp_da_smsc[] = {0x91, 0x58, 0x10, 0x09, 0x00, 0x00};

/* UTF-8 to UCS-2 big endian (BMP only: the test's texts). Returns octets. */
static size_t utf8_to_ucs2(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	const unsigned char *p = (const unsigned char *)s;
	while (*p && n + 2 <= cap) {
		unsigned cp;
		if (*p < 0x80) {
			cp = *p++;
		} else if ((*p & 0xe0) == 0xc0) {
			cp = (unsigned)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
			p += 2;
		} else {
			cp = (unsigned)(p[0] & 0x0f) << 12 | (unsigned)(p[1] & 0x3f) << 6 |
			     (p[2] & 0x3f);
			p += 3;
		}
		out[n++] = (uint8_t)(cp >> 8);
		out[n++] = (uint8_t)cp;
	}
	return n;
}

/* UCS-2 big endian (with surrogate pairs) to UTF-8. */
static void ucs2_to_utf8(const uint8_t *u, size_t len, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i + 1 < len && o + 5 < cap; i += 2) {
		unsigned cp = (unsigned)u[i] << 8 | u[i + 1];
		if (cp >= 0xd800 && cp < 0xdc00 && i + 3 < len) {
			unsigned lo = (unsigned)u[i + 2] << 8 | u[i + 3];
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			i += 2;
		}
		if (cp < 0x80) {
			out[o++] = (char)cp;
		} else if (cp < 0x800) {
			out[o++] = (char)(0xc0 | cp >> 6);
			out[o++] = (char)(0x80 | (cp & 0x3f));
		} else if (cp < 0x10000) {
			out[o++] = (char)(0xe0 | cp >> 12);
			out[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
			out[o++] = (char)(0x80 | (cp & 0x3f));
		} else {
			out[o++] = (char)(0xf0 | cp >> 18);
			out[o++] = (char)(0x80 | ((cp >> 12) & 0x3f));
			out[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
			out[o++] = (char)(0x80 | (cp & 0x3f));
		}
	}
	out[o] = 0;
}

/* Semi-octet digits (TS 23.040 9.1.2.3): low nibble first, F filler. */
static size_t bcd_put(const char *digits, uint8_t *out)
{
	size_t nd = strlen(digits);
	for (size_t i = 0; i < nd; i++) {
		uint8_t d = (uint8_t)(digits[i] - '0');
		if (i % 2 == 0)
			out[i / 2] = 0xf0 | d;
		else
			out[i / 2] = (uint8_t)((out[i / 2] & 0x0f) | d << 4);
	}
	return (nd + 1) / 2;
}

/* An SMS-SUBMIT (TS 23.040 9.2.2.2) to +to, written here byte by byte (so
 * that koryo's codec is checked, not reused): no validity period, GSM 7-bit
 * (libosmocore's packer) or UCS-2. rd sets TP-RD (a resubmission). */
static size_t submit_build(uint8_t *out, uint8_t mr, bool rd, const char *to, bool ucs2,
                           const char *text)
{
	size_t n = 0;
	out[n++] = 0x01 | (rd ? 0x04 : 0);
	out[n++] = mr;
	out[n++] = (uint8_t)strlen(to);
	out[n++] = 0x91;
	n += bcd_put(to, out + n);
	out[n++] = 0x00;               /* TP-PID */
	out[n++] = ucs2 ? 0x08 : 0x00; /* TP-DCS */
	if (ucs2) {
		size_t u = utf8_to_ucs2(text, out + n + 1, 140);
		out[n++] = (uint8_t)u;
		n += u;
	} else {
		int octets = 0;
		int septets = gsm_7bit_encode_n(out + n + 1, 140, text, &octets);
		out[n++] = (uint8_t)septets;
		n += (size_t)octets;
	}
	return n;
}

/* A segment of a concatenated GSM 7-bit SMS-SUBMIT: UDH with the 8-bit
 * concatenation element (6 octets, so one fill bit before the text). */
static size_t submit_concat_build(uint8_t *out, uint8_t mr, const char *to, uint8_t ref,
                                  uint8_t total, uint8_t seq, const char *text)
{
	size_t n = 0;
	out[n++] = 0x41; /* SUBMIT, TP-UDHI */
	out[n++] = mr;
	out[n++] = (uint8_t)strlen(to);
	out[n++] = 0x91;
	n += bcd_put(to, out + n);
	out[n++] = 0x00;
	out[n++] = 0x00;
	uint8_t packed[160];
	int oct = 0;
	int septets = gsm_7bit_encode_n(packed, sizeof(packed), text, &oct);
	uint8_t *ud = out + n + 1;
	const uint8_t udh[] = {0x05, 0x00, 0x03, ref, total, seq};
	memcpy(ud, udh, sizeof(udh));
	size_t k = sizeof(udh);
	unsigned carry = 0;
	for (int j = 0; j < oct; j++) {
		ud[k++] = (uint8_t)(packed[j] << 1 | carry);
		carry = packed[j] >> 7;
	}
	if (1 + 7 * septets > 8 * oct) /* the fill bit pushed a last bit over */
		ud[k++] = (uint8_t)carry;
	out[n++] = (uint8_t)(7 + septets); /* TP-UDL in septets, header included */
	return n + k;
}

/* An SMS-DELIVER (TS 23.040 9.2.2.1) as read here, independently of koryo. */
struct deliver {
	bool more; /* TP-MMS clear: more messages follow */
	char oa[32];
	uint8_t oa_toa, dcs;
	bool concat;
	unsigned ref, total, seq;
	char text[1024];
};

/* Reads an SMS-DELIVER. Returns NULL, or what is wrong with it. */
static const char *deliver_parse(const uint8_t *p, size_t len, struct deliver *d)
{
	size_t i = 0;
	memset(d, 0, sizeof(*d));
	if (len < 2 || (p[0] & 3) != 0)
		return "not an SMS-DELIVER";
	bool udhi = p[0] & 0x40;
	d->more = !(p[0] & 0x04);
	size_t nd = p[1];
	i = 2;
	if (i + 1 + (nd + 1) / 2 > len || nd >= sizeof(d->oa))
		return "TP-OA past the end";
	d->oa_toa = p[i++];
	for (size_t k = 0; k < nd; k++) {
		uint8_t b = p[i + k / 2];
		uint8_t nib = k % 2 ? b >> 4 : b & 0x0f;
		d->oa[k] = nib < 10 ? (char)('0' + nib) : '?';
	}
	i += (nd + 1) / 2;
	if (i + 2 + 7 + 1 > len)
		return "too short for PID, DCS, SCTS, UDL";
	d->dcs = p[i + 1];
	i += 2 + 7;
	uint8_t udl = p[i++];
	const uint8_t *ud = p + i;
	size_t ud_len = len - i;
	size_t hdr = 0;
	if (udhi) {
		if (ud_len < 1 || ud[0] + 1u > ud_len)
			return "UDH past the end";
		hdr = 1u + ud[0];
		for (size_t k = 1; k + 1 < hdr;) {
			uint8_t iei = ud[k], l = ud[k + 1];
			if (k + 2 + l > hdr)
				return "UDH element past the end";
			if (iei == 0x00 && l == 3) {
				d->concat = true;
				d->ref = ud[k + 2], d->total = ud[k + 3], d->seq = ud[k + 4];
			} else if (iei == 0x08 && l == 4) {
				d->concat = true;
				d->ref = (unsigned)ud[k + 2] << 8 | ud[k + 3];
				d->total = ud[k + 4], d->seq = ud[k + 5];
			}
			k += 2u + l;
		}
	}
	if ((d->dcs & 0x0c) == 0x08) {
		if (udl > ud_len || udl < hdr)
			return "UCS-2 user data past the end";
		ucs2_to_utf8(ud + hdr, udl - hdr, d->text, sizeof(d->text));
	} else if ((d->dcs & 0x0c) == 0x00) {
		if ((udl * 7u + 7) / 8 > ud_len)
			return "GSM 7-bit user data past the end";
		gsm_7bit_decode_n_hdr(d->text, sizeof(d->text), ud, udl, udhi);
	} else {
		return "neither GSM 7-bit nor UCS-2";
	}
	return NULL;
}

/* Sends MO-Forward-SM from imsi as osmo-msc does (gsm_04_11_gsup.c): class
 * SMS, SM-RP-MR, SM-RP-DA = SMSC address, SM-RP-OA = MSISDN, SM-RP-UI. */
static void mo_send(struct peer *p, const char *imsi, const char *msisdn, uint8_t rp_mr,
                    const uint8_t *ui, size_t ui_len)
{
	struct osmo_gsup_message g = {0};
	uint8_t oa[12];
	g.message_type = OSMO_GSUP_MSGT_MO_FORWARD_SM_REQUEST;
	OSMO_STRLCPY_ARRAY(g.imsi, imsi);
	g.message_class = OSMO_GSUP_MESSAGE_CLASS_SMS;
	g.sm_rp_mr = &rp_mr;
	g.sm_rp_da_type = OSMO_GSUP_SMS_SM_RP_ODA_SMSC_ADDR;
	g.sm_rp_da = sms_rp_da_smsc;
	g.sm_rp_da_len = sizeof(sms_rp_da_smsc);
	oa[0] = 0x91;
	g.sm_rp_oa_type = OSMO_GSUP_SMS_SM_RP_ODA_MSISDN;
	g.sm_rp_oa = oa;
	g.sm_rp_oa_len = 1 + bcd_put(msisdn, oa + 1);
	g.sm_rp_ui = ui;
	g.sm_rp_ui_len = ui_len;
	peer_send(p, &g);
}

/* Waits for the MO-Forward-SM answer with SM-RP-MR rp_mr: a result when
 * want_cause is 0, else an error with SM-RP-Cause want_cause (-1: any). */
static bool mo_expect(struct peer *p, const char *imsi, uint8_t rp_mr, int want_cause,
                      const char *what)
{
	struct rx rx;
	char got[256];
	int rc = peer_next(p, &rx, got, sizeof(got));
	uint8_t want_type =
	    want_cause ? OSMO_GSUP_MSGT_MO_FORWARD_SM_ERROR : OSMO_GSUP_MSGT_MO_FORWARD_SM_RESULT;
	bool ok = rc == 0 && rx.g.message_type == want_type && strcmp(rx.g.imsi, imsi) == 0 &&
	          rx.g.sm_rp_mr && *rx.g.sm_rp_mr == rp_mr &&
	          rx.g.message_class == OSMO_GSUP_MESSAGE_CLASS_SMS;
	int cause = rc == 0 && rx.g.sm_rp_cause ? *rx.g.sm_rp_cause : -2;
	if (ok && want_cause)
		ok = want_cause < 0 ? cause >= 0 : cause == want_cause;
	if (rc == 0 && cause >= 0)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), " SM-RP-Cause %d", cause);
	check(ok, what, "expected %s (SM-RP-MR %u, class SMS%s) for %s, got %s",
	      osmo_gsup_message_type_name(want_type), rp_mr,
	      want_cause > 0   ? ", a given SM-RP-Cause"
	      : want_cause < 0 ? ", an SM-RP-Cause"
	                       : "",
	      imsi, got);
	if (rc == 0)
		rx_free(&rx);
	return ok;
}

/* Waits for an MT-Forward-SM to imsi and checks it is shaped as osmo-msc
 * needs it (gsm411_gsup_mt_handler): SM-RP-MR, SM-RP-OA of type SMSC
 * address, SM-RP-DA the IMSI, SM-RP-UI an SMS-DELIVER. Returns true with
 * *rx (freed by the caller) and *d. */
static bool mt_expect(struct peer *p, const char *imsi, struct rx *rx, struct deliver *d,
                      const char *what)
{
	char got[256], want_da[16];
	int rc = peer_next(p, rx, got, sizeof(got));
	if (rc != 0 || rx->g.message_type != OSMO_GSUP_MSGT_MT_FORWARD_SM_REQUEST ||
	    strcmp(rx->g.imsi, imsi) != 0) {
		check(false, what, "expected MT-Forward-SM for %s, got %s", imsi, got);
		if (rc == 0)
			rx_free(rx);
		return false;
	}
	const struct osmo_gsup_message *g = &rx->g;
	const char *bad = NULL;
	uint8_t da[9];
	size_t dn = bcd_put(imsi, da);
	snprintf(want_da, sizeof(want_da), "%s", imsi);
	if (!g->sm_rp_mr)
		bad = "no SM-RP-MR";
	else if (g->message_class != OSMO_GSUP_MESSAGE_CLASS_SMS)
		bad = "message class not SMS";
	else if (g->sm_rp_oa_type != OSMO_GSUP_SMS_SM_RP_ODA_SMSC_ADDR || g->sm_rp_oa_len < 2)
		bad = "SM-RP-OA not an SMSC address";
	else if (g->sm_rp_da_type != OSMO_GSUP_SMS_SM_RP_ODA_IMSI || g->sm_rp_da_len != dn ||
	         memcmp(g->sm_rp_da, da, dn) != 0)
		bad = "SM-RP-DA not the recipient's IMSI";
	else if (!g->sm_rp_ui)
		bad = "no SM-RP-UI";
	else
		bad = deliver_parse(g->sm_rp_ui, g->sm_rp_ui_len, d);
	if (bad) {
		check(false, what, "MT-Forward-SM for %s: %s (%s)", imsi, bad,
		      g->sm_rp_ui ? osmo_hexdump_nospc(g->sm_rp_ui, g->sm_rp_ui_len) : "");
		rx_free(rx);
		return false;
	}
	return true;
}

/* Answers an MT-Forward-SM as osmo-msc does: with the RP-MR it chose for
 * the radio side (not the one received), class SMS, and for an error the
 * RP cause (rp_cause > 0) or a GSUP cause (gsup_cause > 0). */
static void mt_answer(struct peer *p, const struct rx *req, int rp_cause, int gsup_cause)
{
	struct osmo_gsup_message g = {0};
	uint8_t mr = (uint8_t)(*req->g.sm_rp_mr + 100), rc8 = (uint8_t)rp_cause;
	OSMO_STRLCPY_ARRAY(g.imsi, req->g.imsi);
	bool err = rp_cause > 0 || gsup_cause > 0;
	g.message_type =
	    err ? OSMO_GSUP_MSGT_MT_FORWARD_SM_ERROR : OSMO_GSUP_MSGT_MT_FORWARD_SM_RESULT;
	g.message_class = OSMO_GSUP_MESSAGE_CLASS_SMS;
	g.sm_rp_mr = &mr;
	if (rp_cause > 0)
		g.sm_rp_cause = &rc8;
	if (gsup_cause > 0)
		g.cause = gsup_cause;
	g.destination_name = req->g.source_name;
	g.destination_name_len = req->g.source_name_len;
	peer_send(p, &g);
}

/* A message from A to `to` delivered to the recipient on q: MO result,
 * then one MT-Forward-SM per segment with the text and A's number. */
static bool sms_roundtrip(struct peer *pa, struct peer *q, const char *to_imsi,
                          const char *to_msisdn, uint8_t tp_mr, bool ucs2, const char *text,
                          const char *label)
{
	uint8_t ui[200];
	char what[200];
	size_t n = submit_build(ui, tp_mr, false, to_msisdn, ucs2, text);
	mo_send(pa, SMS_A_IMSI, SMS_A_MSISDN, tp_mr, ui, n);
	snprintf(what, sizeof(what), "%s: MO-Forward-SM result", label);
	if (!mo_expect(pa, SMS_A_IMSI, tp_mr, 0, what))
		return false;
	struct rx rx;
	struct deliver d;
	snprintf(what, sizeof(what), "%s: MT-Forward-SM to %s", label, to_imsi);
	if (!mt_expect(q, to_imsi, &rx, &d, what))
		return false;
	bool ok =
	    check(strcmp(d.oa, SMS_A_MSISDN) == 0 && d.oa_toa == 0x91, what,
	          "TP-OA %s (TOA 0x%02x), expected international %s", d.oa, d.oa_toa, SMS_A_MSISDN);
	snprintf(what, sizeof(what), "%s: the text arrives unchanged", label);
	ok = check(strcmp(d.text, text) == 0 && (((d.dcs & 0x0c) == 0x08) == ucs2), what,
	           "got '%s' (DCS 0x%02x), sent '%s' (%s)", d.text, d.dcs, text,
	           ucs2 ? "UCS-2" : "GSM 7-bit") &&
	     ok;
	mt_answer(q, &rx, 0, 0);
	rx_free(&rx);
	return ok;
}

static int run_sms(const char *host, int port, const char *name)
{
	char n2[128], what[200];
	struct isd_data isd;
	struct rx rx;
	struct deliver d;
	uint8_t ui[200];
	size_t n;

	snprintf(n2, sizeof(n2), "%s-2", name);
	struct peer *pa = peer_new(host, port, name, false);
	struct peer *pb = peer_new(host, port, n2, false);
	if (g_failed)
		goto out;
	/* A at the first MSC, B at the second; C not attached. */
	ul_ok(pa, SMS_A_IMSI, OSMO_GSUP_CN_DOMAIN_CS, &isd, "SMS: A attaches (CS)");
	ul_ok(pb, SMS_B_IMSI, OSMO_GSUP_CN_DOMAIN_CS, &isd, "SMS: B attaches (CS)");

	/* (1), (2): A to B, MO result, MT at B's MSC, answered like osmo-msc. */
	sms_roundtrip(pa, pb, SMS_B_IMSI, SMS_B_MSISDN, 1, false, "Hello B, from A", "SMS A->B");
	peer_expect_quiet(pb, 1500, "SMS A->B: delivered once, not sent again");

	/* (5): Korean text in UCS-2. */
	sms_roundtrip(pa, pb, SMS_B_IMSI, SMS_B_MSISDN, 2, true, "안녕하세요! 평양에서 보냅니다.",
	              "SMS A->B Korean UCS-2");

	/* A concatenated message: two SMS-SUBMIT segments from the phone,
	 * reassembled by the centre and split again for B: two MT-Forward-SM,
	 * one after the other, SM-RP-MMS and TP-MMS saying "more" on the first. */
	char longtext[200];
	for (int i = 0; i < 190; i++)
		longtext[i] = (char)('a' + i % 26);
	longtext[190] = 0;
	for (int seg = 1; seg <= 2; seg++) {
		char part[100];
		snprintf(part, sizeof(part), "%.95s", longtext + (seg - 1) * 95);
		n = submit_concat_build(ui, (uint8_t)(10 + seg), SMS_B_MSISDN, 0x42, 2,
		                        (uint8_t)seg, part);
		mo_send(pa, SMS_A_IMSI, SMS_A_MSISDN, (uint8_t)(10 + seg), ui, n);
		snprintf(what, sizeof(what), "SMS A->B concatenated: segment %d accepted", seg);
		mo_expect(pa, SMS_A_IMSI, (uint8_t)(10 + seg), 0, what);
	}
	char joined[400] = "";
	for (int seg = 1; seg <= 2; seg++) {
		snprintf(what, sizeof(what), "SMS A->B concatenated: MT-Forward-SM %d of 2", seg);
		if (!mt_expect(pb, SMS_B_IMSI, &rx, &d, what))
			break;
		bool mms = rx.g.sm_rp_mms && *rx.g.sm_rp_mms;
		check(d.concat && d.total == 2 && d.seq == (unsigned)seg && mms == (seg == 1) &&
		          d.more == (seg == 1),
		      what,
		      "segment %u of %u (concatenated: %d), SM-RP-MMS %d, TP-MMS more %d; expected "
		      "segment %d of 2 with more-to-send only on the first",
		      d.seq, d.total, d.concat, mms, d.more, seg);
		size_t jl = strlen(joined), tl = strlen(d.text);
		if (jl + tl < sizeof(joined))
			memcpy(joined + jl, d.text, tl + 1);
		mt_answer(pb, &rx, 0, 0);
		rx_free(&rx);
	}
	check(strcmp(joined, longtext) == 0, "SMS A->B concatenated: the text reassembles",
	      "got '%s'", joined);

	/* (3): to C, not attached: kept; C attaches at B's MSC and gets it. */
	n = submit_build(ui, 4, false, SMS_C_MSISDN, false, "For C, when back");
	mo_send(pa, SMS_A_IMSI, SMS_A_MSISDN, 4, ui, n);
	mo_expect(pa, SMS_A_IMSI, 4, 0, "SMS A->C (absent): MO-Forward-SM result");
	/* The phone's resubmission (same TP-MR, TP-RD set, new RP-MR) while the
	 * message waits: answered, not stored twice (delivered once below). */
	n = submit_build(ui, 4, true, SMS_C_MSISDN, false, "For C, when back");
	mo_send(pa, SMS_A_IMSI, SMS_A_MSISDN, 78, ui, n);
	mo_expect(pa, SMS_A_IMSI, 78, 0, "SMS A->C resubmitted: MO-Forward-SM result");
	peer_expect_quiet(pb, 1500, "SMS A->C: nothing sent while C is not attached");
	{
		struct rx fin;
		char got[256];
		int rc = ul_run(pb, SMS_C_IMSI, OSMO_GSUP_CN_DOMAIN_CS, ISD_RESULT, &isd, &fin, got,
		                sizeof(got));
		check(rc == 0 && fin.g.message_type == OSMO_GSUP_MSGT_UPDATE_LOCATION_RESULT,
		      "SMS: C attaches (CS)", "expected UpdateLocation result, got %s", got);
		if (rc == 0)
			rx_free(&fin);
	}
	if (mt_expect(pb, SMS_C_IMSI, &rx, &d, "SMS A->C: delivered after C's attach")) {
		check(strcmp(d.text, "For C, when back") == 0, "SMS A->C: text", "got '%s'",
		      d.text);
		/* C's memory is full: RP-ERROR cause 22 (memory capacity exceeded). */
		mt_answer(pb, &rx, 22, 0);
		rx_free(&rx);
	}
	peer_expect_quiet(pb, 1500, "SMS A->C: memory full, kept, not retried at once");
	{
		/* ReadyForSM (RP-SMMA): answered, and the message comes again. */
		struct osmo_gsup_message g = {0};
		uint8_t mr = 9;
		g.message_type = OSMO_GSUP_MSGT_READY_FOR_SM_REQUEST;
		OSMO_STRLCPY_ARRAY(g.imsi, SMS_C_IMSI);
		g.message_class = OSMO_GSUP_MESSAGE_CLASS_SMS;
		g.sm_rp_mr = &mr;
		g.sm_alert_rsn = OSMO_GSUP_SMS_SM_ALERT_RSN_MEM_AVAIL;
		peer_send(pb, &g);
		char got[256];
		int rc = peer_next(pb, &rx, got, sizeof(got));
		check(rc == 0 && rx.g.message_type == OSMO_GSUP_MSGT_READY_FOR_SM_RESULT &&
		          rx.g.sm_rp_mr && *rx.g.sm_rp_mr == 9 &&
		          rx.g.message_class == OSMO_GSUP_MESSAGE_CLASS_SMS,
		      "SMS: ReadyForSM from C answered",
		      "expected ReadyForSM result (SM-RP-MR 9, class SMS), got %s", got);
		if (rc == 0)
			rx_free(&rx);
	}
	if (mt_expect(pb, SMS_C_IMSI, &rx, &d, "SMS A->C: delivered again after ReadyForSM")) {
		check(strcmp(d.text, "For C, when back") == 0, "SMS A->C: same text", "got '%s'",
		      d.text);
		mt_answer(pb, &rx, 0, 0);
		rx_free(&rx);
	}
	peer_expect_quiet(pb, 1500, "SMS A->C: delivered once");

	/* (4): bad MO-Forward-SM: each gets an error with an SM-RP-Cause. */
	mo_send(pa, SMS_A_IMSI, SMS_A_MSISDN, 30, NULL, 0);
	mo_expect(pa, SMS_A_IMSI, 30, 96, "SMS bad: no SM-RP-UI -> error, RP cause 96");
	const uint8_t garbage[] = {0xff, 0xff, 0xff};
	mo_send(pa, SMS_A_IMSI, SMS_A_MSISDN, 31, garbage, sizeof(garbage));
	mo_expect(pa, SMS_A_IMSI, 31, -1, "SMS bad: garbage TPDU -> error with a cause");
	const uint8_t truncated[] = {0x01, 0x05, 0x0e, 0x91, 0x58};
	mo_send(pa, SMS_A_IMSI, SMS_A_MSISDN, 32, truncated, sizeof(truncated));
	mo_expect(pa, SMS_A_IMSI, 32, -1, "SMS bad: truncated SMS-SUBMIT -> error with a cause");
	n = submit_build(ui, 5, false, "99999", false, "nobody");
	mo_send(pa, SMS_A_IMSI, SMS_A_MSISDN, 33, ui, n);
	mo_expect(pa, SMS_A_IMSI, 33, -1, "SMS bad: unknown recipient -> error with a cause");
	/* And the server still works for the same peer. */
	sms_roundtrip(pa, pb, SMS_B_IMSI, SMS_B_MSISDN, 6, false, "still here?",
	              "SMS after the bad ones");

out:;
	struct peer *all[] = {pa, pb};
	for (int i = 0; i < 2; i++) {
		snprintf(what, sizeof(what), "%s: nothing left unanswered or unexpected",
		         all[i]->name);
		peer_expect_quiet(all[i], 300, what);
		snprintf(what, sizeof(what), "%s: connection never dropped", all[i]->name);
		check(all[i]->downs == 0 && all[i]->dropped == 0, what,
		      "%u drops, %u messages lost", all[i]->downs, all[i]->dropped);
		peer_free(all[i]);
	}
	return 0;
}

/* ---- other modes ----------------------------------------------------------- */

static int run_isd_timeout(const char *host, int port, const char *name, const char *imsi)
{
	struct peer *p = peer_new(host, port, name, false);
	struct isd_data isd;
	struct rx fin;
	char got[256];

	int rc = ul_run(p, imsi, OSMO_GSUP_CN_DOMAIN_CS, ISD_SILENT, &isd, &fin, got, sizeof(got));
	check(isd.got, "ISD timeout: ISD sent", "got %s", got);
	check(rc == 0 && fin.g.message_type == OSMO_GSUP_MSGT_UPDATE_LOCATION_ERROR &&
	          fin.g.cause == CAUSE_ISD_TIMEOUT,
	      "ISD not answered: UpdateLocation error 0x26",
	      "expected UpdateLocation error cause 0x26 within 5 s, got %s", got);
	if (rc == 0)
		rx_free(&fin);
	peer_free(p);
	return 0;
}

static int run_probe(const char *host, int port, const char *name, const char *imsi, int seconds)
{
	struct peer *p = peer_new(host, port, name, false);
	unsigned ok = 0, bad = 0;
	time_t end = time(NULL) + seconds;
	char first_bad[300] = "";

	do {
		struct rx rx;
		char got[256];
		int rc = sai_send_wait(p, imsi, 0, NULL, NULL, &rx, got, sizeof(got));
		if (rc == 0 && rx.g.message_type == OSMO_GSUP_MSGT_SEND_AUTH_INFO_RESULT &&
		    rx.g.num_auth_vectors == 5) {
			ok++;
		} else {
			if (!bad)
				snprintf(first_bad, sizeof(first_bad), "%s", got);
			bad++;
		}
		if (rc == 0)
			rx_free(&rx);
		if (seconds > 0) {
			struct timespec ts = {0, 250 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
	} while (seconds > 0 && time(NULL) < end);
	char what[160];
	snprintf(what, sizeof(what), "%s: %u SAI answered with 5 vectors", name, ok);
	check(bad == 0 && ok > 0 && p->downs == 0, what, "%u not (first: %s), %u drops", bad,
	      first_bad, p->downs);
	peer_free(p);
	return 0;
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* --raw: not a check run; prints what koryod answered. Exit 2 on usage or
 * connect errors. */
static int run_raw(const char *host, int port, int n, char **hex)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	uint8_t out[8192];

	if (fd < 0 || inet_pton(AF_INET, host, &sa.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		perror("connect");
		return 2;
	}
	for (int i = 0; i < n; i++) {
		size_t len = strlen(hex[i]);
		if (len % 2 || len / 2 > sizeof(out)) {
			fprintf(stderr, "bad hex: %s\n", hex[i]);
			return 2;
		}
		for (size_t j = 0; j < len / 2; j++) {
			int hi = hexval(hex[i][2 * j]), lo = hexval(hex[i][2 * j + 1]);
			if (hi < 0 || lo < 0) {
				fprintf(stderr, "bad hex: %s\n", hex[i]);
				return 2;
			}
			out[j] = hi << 4 | lo;
		}
		if (send(fd, out, len / 2, MSG_NOSIGNAL) != (ssize_t)(len / 2))
			printf("SEND-FAILED %d\n", i + 1);
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}

	/* Read for 2 s or until EOF; print whole IPA frames. */
	uint8_t in[65536 + 4];
	size_t have = 0;
	bool eof = false;
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		long left =
		    2000 - ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0)
			break;
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (poll(&pfd, 1, (int)left) <= 0)
			break;
		ssize_t r = recv(fd, in + have, sizeof(in) - have, 0);
		if (r <= 0) {
			eof = true;
			break;
		}
		have += r;
		while (have >= 3) {
			size_t flen = 3 + ((size_t)in[0] << 8 | in[1]);
			if (have < flen)
				break;
			printf("RX %s\n", osmo_hexdump_nospc(in, flen));
			memmove(in, in + flen, have - flen);
			have -= flen;
		}
		if (have == sizeof(in))
			break;
	}
	if (have)
		printf("RX-PARTIAL %s\n", osmo_hexdump_nospc(in, have));
	printf("%s\n", eof ? "EOF" : "OPEN");
	close(fd);
	return 0;
}

static const struct log_info log_info = {0};

int main(int argc, char **argv)
{
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGALRM, on_alarm);
	alarm(RUN_LIMIT_S);
	if (argc >= 4 && strcmp(argv[1], "--raw") == 0)
		return run_raw(argv[2], atoi(argv[3]), argc - 4, argv + 4);

	g_ctx = talloc_named_const(NULL, 0, "gsup_test_client");
	msgb_talloc_ctx_init(g_ctx, 0);
	osmo_init_logging2(g_ctx, &log_info);
	log_set_log_level(osmo_stderr_target, LOGL_ERROR);
	log_set_print_category(osmo_stderr_target, 0);

	if (argc == 4 && argv[1][0] != '-') {
		rc = run_full(argv[1], atoi(argv[2]), argv[3]);
	} else if (argc == 6 && strcmp(argv[1], "--isd-timeout") == 0) {
		rc = run_isd_timeout(argv[2], atoi(argv[3]), argv[4], argv[5]);
	} else if (argc == 5 && strcmp(argv[1], "--sms") == 0) {
		rc = run_sms(argv[2], atoi(argv[3]), argv[4]);
	} else if ((argc == 6 || argc == 7) && strcmp(argv[1], "--probe") == 0) {
		rc = run_probe(argv[2], atoi(argv[3]), argv[4], argv[5],
		               argc == 7 ? atoi(argv[6]) : 0);
	} else {
		fprintf(stderr,
		        "usage: %s HOST PORT NAME\n"
		        "       %s --isd-timeout HOST PORT NAME IMSI\n"
		        "       %s --probe HOST PORT NAME IMSI [SECONDS]\n"
		        "       %s --sms HOST PORT NAME\n"
		        "       %s --raw HOST PORT HEX...\n",
		        argv[0], argv[0], argv[0], argv[0], argv[0]);
		return 2;
	}
	printf("%u passed, %u failed\n", g_passed, g_failed);
	log_fini();
	talloc_free(g_ctx);
	return rc || g_failed ? 1 : 0;
}
