/* The registrar (docs/sip-registrar.md): REGISTER authenticated by digest
 * (MD5 or SHA-256, RFC 7616) for subscribers with a password and by Digest
 * AKAv1-MD5 (RFC 3310) through the AuC for the others, then bindings
 * (RFC 3261 10.3, Path RFC 3327) kept durably before the 200 leaves. */
#include <errno.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "hlr/auc.h"
#include "hlr/registry.h"
#include "sip/sip_core_internal.h"
#include "sms/smsc.h"

#define EXTRA_MAX 6144
/* The AuC's IND slot for vectors the registrar asks for: GSUP peers take
 * 1, 2, ... (hlr_registry_peer_ind), so 0 keeps the IMS domain's SQNs apart. */
#define SIP_AKA_IND 0

/* The auth-params of one Authorization header, unquoted. */
struct creds {
	char username[128], realm[256], nonce[300], uri[256], response[80], algorithm[32], qop[16],
	    nc[16], cnonce[128], auts[64];
	bool has_algorithm, has_auts;
};

static int param(const struct sip_auth *a, const char *name, char *out, size_t cap, bool *found)
{
	struct sip_str v;
	int rc = sip_auth_param_get(a, name, &v);
	if (found)
		*found = rc == 1;
	if (rc != 1) {
		out[0] = '\0';
		return rc < 0 ? -EINVAL : 0;
	}
	int n = sip_unquote(v, out, cap - 1);
	if (n < 0)
		return -EINVAL;
	out[n] = '\0';
	return 0;
}

static int creds_parse(const struct sip_msg *m, struct creds *c)
{
	const struct sip_hdr *h = sip_msg_header_first(m, SIP_HDR_AUTHORIZATION);
	struct sip_auth a;
	memset(c, 0, sizeof(*c));
	if (!h)
		return -ENOENT;
	if (sip_auth_parse(h->value, &a) != 0 || a.scheme.len != 6 ||
	    strncasecmp(a.scheme.p, "Digest", 6) != 0)
		return -EINVAL;
	if (param(&a, "username", c->username, sizeof(c->username), NULL) ||
	    param(&a, "realm", c->realm, sizeof(c->realm), NULL) ||
	    param(&a, "nonce", c->nonce, sizeof(c->nonce), NULL) ||
	    param(&a, "uri", c->uri, sizeof(c->uri), NULL) ||
	    param(&a, "response", c->response, sizeof(c->response), NULL) ||
	    param(&a, "algorithm", c->algorithm, sizeof(c->algorithm), &c->has_algorithm) ||
	    param(&a, "qop", c->qop, sizeof(c->qop), NULL) ||
	    param(&a, "nc", c->nc, sizeof(c->nc), NULL) ||
	    param(&a, "cnonce", c->cnonce, sizeof(c->cnonce), NULL) ||
	    param(&a, "auts", c->auts, sizeof(c->auts), &c->has_auts))
		return -EINVAL;
	return 0;
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h;
}

/* --- answers ---------------------------------------------------------------- */

static void refuse_limited(struct sip_request *rq, int64_t retry_after)
{
	char extra[64];
	snprintf(extra, sizeof(extra), "Retry-After: %" PRId64 "\r\n",
	         retry_after > 0 ? retry_after : 1);
	sip_request_reply(rq, 403, "Too Many Failed Authentications", extra);
}

/* Counts a failed authentication against the source and the identity. */
static void failed(struct sip_core *core, struct sip_request *rq, uint64_t imsi, int64_t now,
                   const char *why)
{
	sip_count(&core->stats.auth_failures);
	sip_src_failed(core, rq->src.sin_addr.s_addr, now);
	struct sip_user *u = sip_loc_lock(core, imsi, true);
	if (u) {
		if (now - u->fail_window >= core->opt.auth_fail_window_s) {
			u->fail_window = now;
			u->fails = 0;
		}
		u->fails++;
		sip_loc_unlock(core, imsi);
	}
	LOGI("sip", "IMSI='%" PRIu64 "': REGISTER refused: %s", imsi, why);
}

static void challenge_digest(struct sip_core *core, struct sip_request *rq, bool stale)
{
	char nonce[DIGEST_NONCE_LEN + 1], extra[1024];
	if (digest_nonce_make(core->nonce_key, (uint64_t)clock_now(), nonce) != 0) {
		sip_request_reply(rq, 500, NULL, NULL);
		return;
	}
	/* MD5 first: SIPp and older phones take the first challenge they see;
	 * clients that know SHA-256 pick it from the second (RFC 7616 3.7).
	 * Some (baresip 1.0's libre) give up on a 401 naming any algorithm they
	 * lack: sip.digest_algorithms = MD5 serves them. */
	const char *st = stale ? ", stale=true" : "";
	size_t n = 0;
	if (core->opt.digest_md5)
		n += (size_t)snprintf(extra + n, sizeof(extra) - n,
		                      "WWW-Authenticate: Digest realm=\"%s\", nonce=\"%s\", "
		                      "algorithm=MD5, qop=\"auth\"%s\r\n",
		                      core->domain, nonce, st);
	if (core->opt.digest_sha256)
		snprintf(extra + n, sizeof(extra) - n,
		         "WWW-Authenticate: Digest realm=\"%s\", nonce=\"%s\", algorithm=SHA-256, "
		         "qop=\"auth\"%s\r\n",
		         core->domain, nonce, st);
	sip_count(&core->stats.auth_challenges);
	sip_request_reply(rq, 401, NULL, extra);
}

struct aka_job {
	struct sip_core *core;
	struct sip_deferred *d;
	uint64_t imsi;
	bool stale, resync;
	struct aka_vector vec;
};

/* The vector's SQN is durable: remember XRES, send the challenge. */
static void aka_challenge_done(void *ctx, int rc)
{
	struct aka_job *j = ctx;
	struct sip_core *core = j->core;
	if (rc != 0) {
		sip_deferred_reply(j->d, 500, "Authentication Vector Not Stored", NULL);
		goto out;
	}
	struct sip_user *u = sip_loc_lock(core, j->imsi, true);
	if (!u) {
		sip_deferred_reply(j->d, 500, NULL, NULL);
		goto out;
	}
	unsigned slot = u->aka_next++ % SIP_AKA_PENDING;
	memcpy(u->aka[slot].rand, j->vec.rand, 16);
	memcpy(u->aka[slot].xres, j->vec.res, sizeof(j->vec.res));
	u->aka[slot].xres_len = sizeof(j->vec.res);
	u->aka[slot].at = clock_now();
	sip_loc_unlock(core, j->imsi);
	if (j->resync)
		sip_count(&core->stats.aka_resyncs);
	char nonce[DIGEST_AKA_NONCE_LEN + 1], extra[512];
	digest_aka_nonce_make(j->vec.rand, j->vec.autn, nonce);
	snprintf(extra, sizeof(extra),
	         "WWW-Authenticate: Digest realm=\"%s\", nonce=\"%s\", algorithm=AKAv1-MD5, "
	         "qop=\"auth\"%s\r\n",
	         core->domain, nonce, j->stale ? ", stale=true" : "");
	sip_count(&core->stats.auth_challenges);
	sip_deferred_reply(j->d, 401, NULL, extra);
out:
	OPENSSL_cleanse(&j->vec, sizeof(j->vec));
	free(j);
}

/* Asks the AuC for a vector (resynchronising first with auts) and answers
 * 401 once its SQN is durable. */
static void challenge_aka(struct sip_core *core, struct sip_request *rq, uint64_t imsi, bool stale,
                          const uint8_t *auts, const uint8_t *auts_rand)
{
	struct aka_job *j = calloc(1, sizeof(*j));
	if (!j || !(j->d = sip_request_defer(rq))) {
		free(j);
		sip_request_reply(rq, 500, NULL, NULL);
		return;
	}
	j->core = core;
	j->imsi = imsi;
	j->stale = stale;
	j->resync = auts != NULL;
	int rc = hlr_auc_gen_vectors_durable(core->reg, imsi, 1, SIP_AKA_IND, auts, auts_rand,
	                                     &j->vec, aka_challenge_done, j);
	if (rc >= 0)
		return;
	/* done will not run: answer here. */
	if (rc == -EACCES) {
		failed(core, rq, imsi, clock_now(), "AUTS does not verify");
		sip_deferred_reply(j->d, 403, "Resynchronisation Failed", NULL);
	} else {
		LOGW("sip", "IMSI='%" PRIu64 "': no authentication vector: %s", imsi,
		     strerror(-rc));
		sip_deferred_reply(j->d, 500, "No Authentication Vector", NULL);
	}
	free(j);
}

/* --- bindings ----------------------------------------------------------------- */

struct bind_job {
	struct sip_core *core;
	struct sip_deferred *d;
	uint64_t imsi;
	char path[SIP_CONTACT_MAX];
};

/* The extra header lines of a 200: every binding with its remaining time. */
static void bindings_extra(struct sip_core *core, uint64_t imsi, const char *path, char *out,
                           size_t cap)
{
	size_t n = 0;
	int64_t now = clock_now();
	out[0] = '\0';
	struct sip_user *u = sip_loc_lock(core, imsi, false);
	if (u) {
		sip_loc_prune(core, u, now);
		for (unsigned i = 0; i < u->n && n < cap; i++)
			n += (size_t)snprintf(out + n, cap - n,
			                      "Contact: <%s>;expires=%" PRId64 "\r\n",
			                      u->b[i].contact, u->b[i].expires_at - now);
		sip_loc_unlock(core, imsi);
	}
	if (path[0] && n < cap)
		snprintf(out + n, cap - n, "Path: %s\r\nSupported: path\r\n", path);
}

static void bind_done(void *ctx, int rc)
{
	struct bind_job *j = ctx;
	if (rc != 0) {
		sip_deferred_reply(j->d, 500, "Registration Not Stored", NULL);
	} else {
		char *extra = malloc(EXTRA_MAX);
		if (extra)
			bindings_extra(j->core, j->imsi, j->path, extra, EXTRA_MAX);
		sip_count(&j->core->stats.registrations);
		sip_deferred_reply(j->d, extra ? 200 : 500, NULL, extra);
		free(extra);
		/* Messages kept for the subscriber can go now. */
		if (j->core->opt.smsc)
			smsc_recipient_ready(j->core->opt.smsc, j->imsi);
	}
	free(j);
}

struct contact_change {
	char uri[SIP_CONTACT_MAX];
	int64_t expires_at; /* 0: remove */
	bool sms_ip;
};

/* Whether a Contact's header parameters carry the feature tag of SMS over
 * IP (TS 24.341 5.3.1.2: +g.3gpp.smsip). */
static bool takes_sms_ip(struct sip_str params)
{
	struct sip_str v;
	return sip_param_get(params, true, "+g.3gpp.smsip", &v) == 1;
}

/* Applies the REGISTER's Contact headers (RFC 3261 10.3 steps 6-8). */
static void update_bindings(struct sip_core *core, struct sip_request *rq, uint64_t imsi)
{
	const struct sip_msg *m = rq->msg;
	int64_t now = clock_now();
	sip_loc_cell(core, imsi, m); /* authenticated: the cell is the phone's word */
	struct contact_change ch[SIP_MAX_BINDINGS];
	unsigned n = 0;
	bool star = false;
	struct sip_hdr_iter it;
	struct sip_str v;
	sip_hdr_iter_init(&it, m, SIP_HDR_CONTACT);
	int rc;
	while ((rc = sip_hdr_iter_next(&it, &v)) == 1) {
		struct sip_nameaddr na;
		if (sip_nameaddr_parse(v, true, &na) != 0) {
			sip_request_reply(rq, 400, "Bad Contact", NULL);
			return;
		}
		if (na.star) {
			star = true;
			continue;
		}
		if (n == SIP_MAX_BINDINGS) {
			sip_request_reply(rq, 403, "Too Many Contacts", NULL);
			return;
		}
		if (na.uri.len >= SIP_CONTACT_MAX) {
			sip_request_reply(rq, 400, "Contact Too Long", NULL);
			return;
		}
		int64_t exp = na.has_expires    ? (int64_t)na.expires
		              : m->expires >= 0 ? m->expires
		                                : (int64_t)core->opt.default_expires_s;
		if (exp > 0 && exp < core->opt.min_expires_s) {
			char extra[64];
			snprintf(extra, sizeof(extra), "Min-Expires: %u\r\n",
			         core->opt.min_expires_s);
			sip_request_reply(rq, 423, NULL, extra);
			return;
		}
		if (exp > core->opt.max_expires_s)
			exp = core->opt.max_expires_s;
		memcpy(ch[n].uri, na.uri.p, na.uri.len);
		ch[n].uri[na.uri.len] = '\0';
		ch[n].expires_at = exp ? now + exp : 0;
		ch[n].sms_ip = takes_sms_ip(na.params);
		n++;
	}
	if (rc < 0 || (star && (n || m->expires != 0))) {
		/* "*" only alone and with Expires: 0 (RFC 3261 10.3 step 6). */
		sip_request_reply(rq, 400, "Bad Contact", NULL);
		return;
	}
	struct bind_job *j = calloc(1, sizeof(*j));
	if (!j) {
		sip_request_reply(rq, 500, NULL, NULL);
		return;
	}
	j->core = core;
	j->imsi = imsi;
	size_t pl = 0;
	sip_hdr_iter_init(&it, m, SIP_HDR_PATH);
	while (sip_hdr_iter_next(&it, &v) == 1) {
		if (pl + v.len + 3 >= sizeof(j->path)) {
			free(j);
			sip_request_reply(rq, 400, "Path Too Long", NULL);
			return;
		}
		if (pl) {
			memcpy(j->path + pl, ", ", 2);
			pl += 2;
		}
		memcpy(j->path + pl, v.p, v.len);
		pl += v.len;
	}
	j->path[pl] = '\0';

	/* Memory first (the next request sees it), then the rows; the answer
	 * waits for the last row to be durable. */
	char gone[SIP_MAX_BINDINGS][SIP_CONTACT_MAX];
	unsigned n_gone = 0;
	struct sip_user *u = sip_loc_lock(core, imsi, true);
	if (!u) {
		free(j);
		sip_request_reply(rq, 500, NULL, NULL);
		return;
	}
	sip_loc_prune(core, u, now);
	if (star) {
		for (unsigned i = 0; i < u->n && n_gone < SIP_MAX_BINDINGS; i++)
			snprintf(gone[n_gone++], SIP_CONTACT_MAX, "%s", u->b[i].contact);
		sip_loc_unbind(core, u, NULL);
	}
	for (unsigned i = 0; i < n; i++) {
		if (ch[i].expires_at)
			sip_loc_bind(core, u, ch[i].uri, j->path, &rq->flow,
			             (int)sip_worker_index(rq->w), ch[i].expires_at, ch[i].sms_ip);
		else
			sip_loc_unbind(core, u, ch[i].uri);
	}
	sip_loc_unlock(core, imsi);
	if (n == 0 && n_gone == 0) {
		/* A query: nothing to store. */
		char *extra = malloc(EXTRA_MAX);
		if (extra)
			bindings_extra(core, imsi, j->path, extra, EXTRA_MAX);
		sip_request_reply(rq, extra ? 200 : 500, NULL, extra);
		free(extra);
		free(j);
		return;
	}
	if (!(j->d = sip_request_defer(rq))) {
		free(j);
		sip_request_reply(rq, 500, NULL, NULL);
		return;
	}
	unsigned total = n + n_gone, k = 0;
	int qrc = 0;
	for (unsigned i = 0; qrc == 0 && i < n_gone; i++, k++)
		qrc = sip_loc_persist(core, imsi, gone[i], NULL, NULL, 0, false,
		                      k + 1 == total ? bind_done : NULL, j);
	for (unsigned i = 0; qrc == 0 && i < n; i++, k++)
		qrc = sip_loc_persist(core, imsi, ch[i].uri, j->path, &rq->flow, ch[i].expires_at,
		                      ch[i].sms_ip, k + 1 == total ? bind_done : NULL, j);
	if (qrc != 0) {
		/* Only the last statement carries j, and it was not queued. */
		LOGW("sip", "IMSI='%" PRIu64 "': binding not queued for the store: %s", imsi,
		     strerror(-qrc));
		sip_deferred_reply(j->d, 500, "Registration Not Stored", NULL);
		free(j);
	}
}

/* --- verification --------------------------------------------------------------- */

static bool hex8(const char *s, uint32_t *out)
{
	if (strlen(s) != 8)
		return false;
	char *end;
	unsigned long v = strtoul(s, &end, 16);
	*out = (uint32_t)v;
	return *end == '\0';
}

/* Checks the nonce-count of a nonce this subscriber uses: true when fresh
 * (and records it), false for a replay or a nonce evicted from the list. */
static bool nc_fresh(struct sip_core *core, uint64_t imsi, const char *nonce, uint64_t issued,
                     uint32_t nc)
{
	uint64_t h = fnv1a(nonce);
	bool ok = false;
	struct sip_user *u = sip_loc_lock(core, imsi, true);
	if (!u)
		return false;
	for (unsigned i = 0; i < SIP_NONCE_SLOTS; i++) {
		if (u->nonces[i].hash == h) {
			ok = nc > u->nonces[i].nc;
			if (ok)
				u->nonces[i].nc = nc;
			goto out;
		}
	}
	/* Older than the newest nonce pushed out of the list: it may be that
	 * one, replayed. (One pushed out within its own second can come back
	 * once: the floor has the nonces' one-second resolution.) */
	if (issued < u->nonce_floor)
		goto out;
	unsigned slot = u->nonce_next++ % SIP_NONCE_SLOTS;
	if (u->nonces[slot].hash && u->nonces[slot].issued > u->nonce_floor)
		u->nonce_floor = u->nonces[slot].issued;
	u->nonces[slot].hash = h;
	u->nonces[slot].issued = issued;
	u->nonces[slot].nc = nc;
	ok = true;
out:
	sip_loc_unlock(core, imsi);
	return ok;
}

static bool response_matches(enum digest_alg alg, const char *ha1, const struct creds *c,
                             const struct sip_msg *m)
{
	struct digest_params p = {.nonce = c->nonce,
	                          .nonce_len = strlen(c->nonce),
	                          .nc = c->nc,
	                          .nc_len = strlen(c->nc),
	                          .cnonce = c->cnonce,
	                          .cnonce_len = strlen(c->cnonce),
	                          .qop = c->qop,
	                          .qop_len = strlen(c->qop),
	                          .method = m->method.p,
	                          .method_len = m->method.len,
	                          .uri = c->uri,
	                          .uri_len = strlen(c->uri),
	                          .body = m->body.p,
	                          .body_len = m->body.len};
	char want[DIGEST_HEX_MAX];
	if (digest_response(alg, ha1, &p, want) != 0)
		return false;
	size_t n = strlen(want);
	return strlen(c->response) == n && digest_equal(want, c->response, n);
}

static void verify_digest(struct sip_core *core, struct sip_request *rq, const struct creds *c,
                          uint64_t imsi, int64_t now)
{
	enum digest_alg alg = DIGEST_MD5;
	bool aka = false;
	bool sha;
	if ((c->has_algorithm &&
	     (digest_alg_parse(c->algorithm, strlen(c->algorithm), &alg, &aka) != 0 || aka)) ||
	    (sha = alg == DIGEST_SHA256 || alg == DIGEST_SHA256_SESS,
	     sha ? !core->opt.digest_sha256 : !core->opt.digest_md5)) {
		challenge_digest(core, rq, false);
		return;
	}
	uint64_t issued;
	int rc = digest_nonce_check(core->nonce_key, c->nonce, strlen(c->nonce), (uint64_t)now,
	                            core->opt.nonce_lifetime_s, &issued);
	if (rc == -ESTALE) {
		challenge_digest(core, rq, true);
		return;
	}
	if (rc != 0) {
		failed(core, rq, imsi, now, "nonce not issued by koryod");
		challenge_digest(core, rq, false);
		return;
	}
	char ha1[65];
	uint64_t username;
	char user[24];
	if (hlr_subscr_sip_ha1(core->reg, imsi, sha, ha1, &username) != 0) {
		challenge_digest(core, rq, false);
		return;
	}
	snprintf(user, sizeof(user), "%" PRIu64, username);
	uint32_t nc = 0;
	bool ok = strcmp(c->username, user) == 0 && strcasecmp(c->qop, "auth") == 0 &&
	          hex8(c->nc, &nc) && response_matches(alg, ha1, c, rq->msg);
	OPENSSL_cleanse(ha1, sizeof(ha1));
	if (!ok) {
		failed(core, rq, imsi, now, "wrong digest credentials");
		sip_request_reply(rq, 403, "Wrong Credentials", NULL);
		return;
	}
	if (!nc_fresh(core, imsi, c->nonce, issued, nc)) {
		/* A replayed (nonce, nc), or a nonce pushed out of the list: a new
		 * challenge; a genuine client answers it at once. */
		challenge_digest(core, rq, true);
		return;
	}
	update_bindings(core, rq, imsi);
}

/* The outstanding AKA challenge with this RAND: its slot, or -1. */
static int aka_pending(struct sip_user *u, const uint8_t rand[16])
{
	for (int i = 0; i < SIP_AKA_PENDING; i++) {
		if (u->aka[i].xres_len && memcmp(u->aka[i].rand, rand, 16) == 0)
			return i;
	}
	return -1;
}

static void verify_aka(struct sip_core *core, struct sip_request *rq, const struct creds *c,
                       uint64_t imsi, int64_t now)
{
	enum digest_alg alg;
	bool aka = false;
	uint8_t rand[16], autn[16];
	if (!c->has_algorithm ||
	    digest_alg_parse(c->algorithm, strlen(c->algorithm), &alg, &aka) != 0 || !aka ||
	    digest_aka_nonce_parse(c->nonce, strlen(c->nonce), rand, autn) != 0) {
		challenge_aka(core, rq, imsi, false, NULL, NULL);
		return;
	}
	/* The username names the IMSI, bare or as IMSI@domain. */
	char want[24];
	snprintf(want, sizeof(want), "%" PRIu64, imsi);
	size_t wl = strlen(want);
	if (strncmp(c->username, want, wl) != 0 || (c->username[wl] && c->username[wl] != '@')) {
		failed(core, rq, imsi, now, "AKA username is not the subscriber's IMSI");
		sip_request_reply(rq, 403, "Wrong Credentials", NULL);
		return;
	}
	struct sip_user *u = sip_loc_lock(core, imsi, true);
	if (!u) {
		sip_request_reply(rq, 500, NULL, NULL);
		return;
	}
	int slot = aka_pending(u, rand);
	uint8_t xres[16];
	size_t xres_len = 0;
	if (slot >= 0) {
		xres_len = u->aka[slot].xres_len;
		memcpy(xres, u->aka[slot].xres, xres_len);
		if (now - u->aka[slot].at > (int64_t)core->opt.nonce_lifetime_s)
			slot = -2; /* too old */
	}
	sip_loc_unlock(core, imsi);
	if (slot < 0) {
		/* Not a challenge koryod has outstanding (or an old one). */
		challenge_aka(core, rq, imsi, true, NULL, NULL);
		return;
	}
	if (c->has_auts) {
		uint8_t auts[DIGEST_AKA_AUTS_LEN];
		if (digest_aka_auts_parse(c->auts, strlen(c->auts), auts) != 0) {
			sip_request_reply(rq, 400, "Bad AUTS", NULL);
			return;
		}
		LOGI("sip", "IMSI='%" PRIu64 "': SIM reports an SQN out of range: resynchronising",
		     imsi);
		challenge_aka(core, rq, imsi, false, auts, rand);
		return;
	}
	char ha1[DIGEST_HEX_MAX];
	bool ok = digest_aka_ha1(c->username, strlen(c->username), c->realm, strlen(c->realm), xres,
	                         xres_len, ha1) == 0 &&
	          strcmp(c->realm, core->domain) == 0 &&
	          response_matches(DIGEST_MD5, ha1, c, rq->msg);
	OPENSSL_cleanse(ha1, sizeof(ha1));
	OPENSSL_cleanse(xres, sizeof(xres));
	if (!ok) {
		failed(core, rq, imsi, now, "wrong AKA response");
		sip_request_reply(rq, 403, "Wrong Credentials", NULL);
		return;
	}
	/* A challenge answers once. */
	u = sip_loc_lock(core, imsi, false);
	if (u) {
		int s = aka_pending(u, rand);
		if (s >= 0)
			memset(&u->aka[s], 0, sizeof(u->aka[s]));
		sip_loc_unlock(core, imsi);
	}
	update_bindings(core, rq, imsi);
}

void sip_registrar_on_register(void *ctx, struct sip_request *rq)
{
	struct sip_core *core = ctx;
	const struct sip_msg *m = rq->msg;
	int64_t now = clock_now(), retry;
	struct sip_uri to;
	struct hlr_subscr rec;
	if (sip_uri_parse(m->to.uri.p, m->to.uri.len, &to) != 0) {
		sip_request_reply(rq, 400, "Bad To", NULL);
		return;
	}
	if (sip_subscr_of_user(core, to.user, &rec) != 0) {
		sip_request_reply(rq, 404, NULL, NULL);
		return;
	}
	if (rec.status != HLR_STATUS_ACTIVE) {
		sip_request_reply(rq, 403, "Subscriber Not Active", NULL);
		return;
	}
	if (sip_src_limited(core, rq->src.sin_addr.s_addr, now, &retry)) {
		sip_count(&core->stats.auth_rate_limited);
		refuse_limited(rq, retry);
		return;
	}
	struct sip_user *u = sip_loc_lock(core, rec.imsi, false);
	if (u) {
		bool limited = now - u->fail_window < core->opt.auth_fail_window_s &&
		               u->fails >= core->opt.auth_fail_limit;
		retry = u->fail_window + core->opt.auth_fail_window_s - now;
		sip_loc_unlock(core, rec.imsi);
		if (limited) {
			sip_count(&core->stats.auth_rate_limited);
			refuse_limited(rq, retry);
			return;
		}
	}
	bool digest = hlr_subscr_has_sip_password(core->reg, rec.imsi);
	struct creds c;
	int rc = creds_parse(m, &c);
	if (rc == -EINVAL) {
		sip_request_reply(rq, 400, "Bad Authorization", NULL);
		return;
	}
	/* No credentials, or credentials for another realm (RFC 3261 22.4: an
	 * empty IMS-style response too): a challenge. */
	if (rc == -ENOENT || strcmp(c.realm, core->domain) != 0 || !c.response[0]) {
		if (digest)
			challenge_digest(core, rq, false);
		else
			challenge_aka(core, rq, rec.imsi, false, NULL, NULL);
		return;
	}
	if (digest)
		verify_digest(core, rq, &c, rec.imsi, now);
	else
		verify_aka(core, rq, &c, rec.imsi, now);
}
