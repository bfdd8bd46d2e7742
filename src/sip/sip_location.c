/* The location service: each subscriber's SIP state (bindings, cell,
 * authentication state) in a sharded table, the bindings' rows in the store,
 * the cell a phone reports, and the per-source failure limiter. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "hlr/registry.h"
#include "sip/sip_core_internal.h"
#include "store/store.h"
#include "store/store_queue.h"

static unsigned shard_of(uint64_t imsi)
{
	return (unsigned)((imsi * 0x9e3779b97f4a7c15ull) >> 58) % SIP_LOC_SHARDS;
}

static size_t cell_of(uint64_t imsi, size_t cap)
{
	return (size_t)((imsi * 0xff51afd7ed558ccdull) >> 20) & (cap - 1);
}

int sip_loc_init(struct sip_core *core)
{
	for (unsigned i = 0; i < SIP_LOC_SHARDS; i++)
		pthread_mutex_init(&core->loc[i].lock, NULL);
	pthread_mutex_init(&core->src_lock, NULL);
	return 0;
}

static void user_free(struct sip_user *u)
{
	for (unsigned i = 0; i < u->n; i++) {
		free(u->b[i].contact);
		free(u->b[i].path);
	}
	free(u->b);
	free(u);
}

void sip_loc_free(struct sip_core *core)
{
	for (unsigned i = 0; i < SIP_LOC_SHARDS; i++) {
		struct sip_loc_shard *sh = &core->loc[i];
		for (size_t j = 0; j < sh->cap; j++) {
			if (sh->cells[j])
				user_free(sh->cells[j]);
		}
		free(sh->cells);
		pthread_mutex_destroy(&sh->lock);
	}
	pthread_mutex_destroy(&core->src_lock);
}

static struct sip_user **find(struct sip_loc_shard *sh, uint64_t imsi)
{
	for (size_t i = cell_of(imsi, sh->cap);; i = (i + 1) & (sh->cap - 1)) {
		if (!sh->cells[i] || sh->cells[i]->imsi == imsi)
			return &sh->cells[i];
	}
}

static int grow(struct sip_loc_shard *sh)
{
	size_t ncap = sh->cap ? sh->cap * 2 : 64;
	struct sip_user **n = calloc(ncap, sizeof(*n));
	if (!n)
		return -ENOMEM;
	struct sip_loc_shard tmp = {.cells = n, .cap = ncap};
	for (size_t i = 0; i < sh->cap; i++) {
		if (sh->cells[i])
			*find(&tmp, sh->cells[i]->imsi) = sh->cells[i];
	}
	free(sh->cells);
	sh->cells = n;
	sh->cap = ncap;
	return 0;
}

/* Users are never removed from the table (a subscriber that registered once
 * keeps its small state): deletion from an open-addressing table would need
 * tombstones, and the state is what the next registration needs anyway. */
struct sip_user *sip_loc_lock(struct sip_core *core, uint64_t imsi, bool create)
{
	struct sip_loc_shard *sh = &core->loc[shard_of(imsi)];
	pthread_mutex_lock(&sh->lock);
	if (sh->cap) {
		struct sip_user *u = *find(sh, imsi);
		if (u)
			return u;
	}
	if (create && (sh->used + 1) * 2 > sh->cap && grow(sh) != 0)
		create = false;
	struct sip_user *u = create ? calloc(1, sizeof(*u)) : NULL;
	if (!u) {
		pthread_mutex_unlock(&sh->lock);
		return NULL;
	}
	u->imsi = imsi;
	*find(sh, imsi) = u;
	sh->used++;
	return u;
}

void sip_loc_unlock(struct sip_core *core, uint64_t imsi)
{
	pthread_mutex_unlock(&core->loc[shard_of(imsi)].lock);
}

static void drop(struct sip_core *core, struct sip_user *u, unsigned i)
{
	free(u->b[i].contact);
	free(u->b[i].path);
	u->b[i] = u->b[--u->n];
	atomic_fetch_sub_explicit(&core->stats.bindings, 1, memory_order_relaxed);
	if (u->n == 0)
		atomic_fetch_sub_explicit(&core->stats.registered_users, 1, memory_order_relaxed);
}

void sip_loc_prune(struct sip_core *core, struct sip_user *u, int64_t now)
{
	for (unsigned i = 0; i < u->n;) {
		if (u->b[i].expires_at <= now)
			drop(core, u, i);
		else
			i++;
	}
}

void sip_loc_unbind(struct sip_core *core, struct sip_user *u, const char *contact)
{
	for (unsigned i = 0; i < u->n;) {
		if (!contact || strcmp(u->b[i].contact, contact) == 0)
			drop(core, u, i);
		else
			i++;
	}
}

int sip_loc_bind(struct sip_core *core, struct sip_user *u, const char *contact, const char *path,
                 const struct sip_txn_peer *flow, int worker, int64_t expires_at, bool sms_ip)
{
	char *c = strdup(contact), *p = strdup(path ? path : "");
	if (!c || !p) {
		free(c);
		free(p);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < u->n; i++) {
		if (strcmp(u->b[i].contact, contact) == 0) {
			free(u->b[i].contact);
			free(u->b[i].path);
			u->b[i] = (struct sip_binding){.flow = *flow,
			                               .expires_at = expires_at,
			                               .sms_ip = sms_ip,
			                               .worker = worker,
			                               .contact = c,
			                               .path = p};
			return 0;
		}
	}
	if (u->n == SIP_MAX_BINDINGS) {
		/* Full: the binding that would expire first gives way. */
		unsigned oldest = 0;
		for (unsigned i = 1; i < u->n; i++) {
			if (u->b[i].expires_at < u->b[oldest].expires_at)
				oldest = i;
		}
		drop(core, u, oldest);
	}
	if (u->n == 0 || !u->b) {
		struct sip_binding *nb = realloc(u->b, SIP_MAX_BINDINGS * sizeof(*nb));
		if (!nb) {
			free(c);
			free(p);
			return -ENOMEM;
		}
		u->b = nb;
	}
	if (u->n == 0)
		sip_count(&core->stats.registered_users);
	u->b[u->n++] = (struct sip_binding){.flow = *flow,
	                                    .expires_at = expires_at,
	                                    .sms_ip = sms_ip,
	                                    .worker = worker,
	                                    .contact = c,
	                                    .path = p};
	sip_count(&core->stats.bindings);
	return 0;
}

static struct store_param text_param(const char *s)
{
	struct store_param p = {.type = STORE_PARAM_TEXT};
	snprintf(p.text, sizeof(p.text), "%s", s);
	return p;
}

static struct store_param int_param(int64_t v)
{
	return (struct store_param){.type = STORE_PARAM_INT, .i = v};
}

int sip_loc_persist(struct sip_core *core, uint64_t imsi, const char *contact, const char *path,
                    const struct sip_txn_peer *flow, int64_t expires_at, bool sms_ip,
                    store_done_fn done, void *ctx)
{
	if (expires_at == 0) {
		struct store_param p[2] = {int_param((int64_t)imsi), text_param(contact)};
		return store_queue_submit(
		    core->q, "DELETE FROM sip_binding WHERE imsi_num = $1 AND contact = $2", p, 2,
		    done, ctx);
	}
	char src[64];
	sip_flow_format(flow, src, sizeof(src));
	struct store_param p[6] = {
	    int_param((int64_t)imsi), text_param(contact),          text_param(src),
	    int_param(expires_at),    text_param(path ? path : ""), int_param(sms_ip)};
	return store_queue_submit(
	    core->q,
	    "INSERT INTO sip_binding (imsi_num, contact, source, expires_at, "
	    "path, sms_ip) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (imsi_num, contact) "
	    "DO UPDATE SET source = $3, expires_at = $4, path = $5, sms_ip = $6",
	    p, 6, done, ctx);
}

int sip_loc_load(struct sip_core *core)
{
	int64_t now = clock_now();
	struct store_stmt *s;
	int rc;
	uint64_t n = 0;
	store_lock(core->st);
	rc = store_prepare(core->st, "DELETE FROM sip_binding WHERE expires_at <= $1", &s);
	if (rc == 0) {
		store_bind_int64(s, 1, now);
		rc = store_step(s) == STORE_DONE ? 0 : -EIO;
		store_reset(s);
	}
	if (rc == 0)
		rc = store_prepare(
		    core->st,
		    "SELECT imsi_num, contact, source, expires_at, path, sms_ip FROM sip_binding",
		    &s);
	while (rc == 0 && (rc = store_step(s)) == STORE_ROW) {
		rc = 0;
		uint64_t imsi = (uint64_t)store_col_int64(s, 0);
		const char *contact = store_col_text(s, 1), *src = store_col_text(s, 2),
		           *path = store_col_text(s, 4);
		struct sip_txn_peer flow;
		if (!contact || !src || sip_flow_parse(src, &flow) != 0)
			continue;
		struct sip_user *u = sip_loc_lock(core, imsi, true);
		if (!u) {
			rc = -ENOMEM;
			break;
		}
		if (sip_loc_bind(core, u, contact, path, &flow, -1, store_col_int64(s, 3),
		                 store_col_int64(s, 5) != 0) == 0)
			n++;
		sip_loc_unlock(core, imsi);
	}
	if (rc == STORE_DONE)
		rc = 0;
	store_reset(s);
	if (rc == 0)
		rc = store_prepare(core->st, "SELECT imsi_num, cell, seen_at FROM sip_cell", &s);
	while (rc == 0 && (rc = store_step(s)) == STORE_ROW) {
		rc = 0;
		uint64_t imsi = (uint64_t)store_col_int64(s, 0);
		const char *cell = store_col_text(s, 1);
		struct sip_user *u = cell ? sip_loc_lock(core, imsi, true) : NULL;
		if (!u)
			continue;
		snprintf(u->cell, sizeof(u->cell), "%s", cell);
		u->cell_at = store_col_int64(s, 2);
		sip_loc_unlock(core, imsi);
	}
	if (rc == STORE_DONE)
		rc = 0;
	store_reset(s);
	store_unlock(core->st);
	if (rc == 0 && n)
		LOGN("sip", "%" PRIu64 " registrations restored from the store", n);
	return rc;
}

/* P-Access-Network-Info (RFC 7315, TS 24.229 7.2A.4):
 * "3GPP-UTRAN-FDD; utran-cell-id-3gpp=46705" + LAC (4 hex) + UC-Id (7 hex). */
void sip_loc_cell(struct sip_core *core, uint64_t imsi, const struct sip_msg *m)
{
	const struct sip_hdr *h = sip_msg_header_first(m, SIP_HDR_P_ACCESS_NETWORK_INFO);
	if (!h)
		return;
	static const char key[] = "utran-cell-id-3gpp=";
	const char *v = h->value.p, *end = v + h->value.len, *p = NULL;
	for (const char *i = v; i + sizeof(key) - 1 <= end; i++) {
		if (strncasecmp(i, key, sizeof(key) - 1) == 0) {
			p = i + sizeof(key) - 1;
			break;
		}
	}
	char cell[SIP_CELL_MAX];
	size_t n = 0;
	if (p) {
		if (p < end && *p == '"')
			p++;
		while (p < end && *p != ';' && *p != '"' && *p != ',' && *p != ' ' &&
		       n + 1 < sizeof(cell))
			cell[n++] = *p++;
	}
	cell[n] = '\0';
	const struct hlr_profile *prof = hlr_registry_profile(core->reg);
	char plmn[8];
	snprintf(plmn, sizeof(plmn), "%s%s", prof->mcc, prof->mnc);
	size_t pl = strlen(plmn);
	bool known = n == pl + 11 && strncmp(cell, plmn, pl) == 0;
	for (size_t i = pl; known && i < n; i++)
		known = (cell[i] >= '0' && cell[i] <= '9') || (cell[i] >= 'a' && cell[i] <= 'f') ||
		        (cell[i] >= 'A' && cell[i] <= 'F');
	if (!known) {
		sip_count(&core->stats.unknown_cells);
		return;
	}
	struct sip_user *u = sip_loc_lock(core, imsi, true);
	if (!u)
		return;
	bool moved = strcmp(u->cell, cell) != 0;
	int64_t now = clock_now();
	memcpy(u->cell, cell, n + 1);
	u->cell_at = now;
	sip_loc_unlock(core, imsi);
	if (moved) {
		/* Kept across restarts; written only when the phone moves. */
		struct store_param p[3] = {int_param((int64_t)imsi), text_param(cell),
		                           int_param(now)};
		store_queue_submit(
		    core->q,
		    "INSERT INTO sip_cell (imsi_num, cell, seen_at) VALUES ($1, $2, $3) "
		    "ON CONFLICT (imsi_num) DO UPDATE SET cell = $2, seen_at = $3",
		    p, 3, NULL, NULL);
	}
}

/* A coarse limiter: addresses hash into a fixed array of buckets, so two
 * sources may share one (a legitimate client then waits out a window with a
 * misbehaving neighbour); memory stays fixed whatever the attack. */
/* Every bit of the address counts (host order, the product's high bits). */
static unsigned src_bucket(uint32_t addr)
{
	return (unsigned)(((uint64_t)ntohl(addr) * 0x9e3779b97f4a7c15ull) >> 52) % SIP_SRC_BUCKETS;
}

bool sip_src_limited(struct sip_core *core, uint32_t addr, int64_t now, int64_t *retry_after)
{
	struct sip_src_bucket *b = &core->src[src_bucket(addr)];
	bool limited = false;
	pthread_mutex_lock(&core->src_lock);
	if (now - b->window >= core->opt.auth_fail_window_s) {
		b->window = now;
		b->fails = 0;
	}
	if (b->fails >= core->opt.auth_fail_limit) {
		limited = true;
		*retry_after = b->window + core->opt.auth_fail_window_s - now;
	}
	pthread_mutex_unlock(&core->src_lock);
	return limited;
}

void sip_src_failed(struct sip_core *core, uint32_t addr, int64_t now)
{
	struct sip_src_bucket *b = &core->src[src_bucket(addr)];
	pthread_mutex_lock(&core->src_lock);
	if (now - b->window >= core->opt.auth_fail_window_s) {
		b->window = now;
		b->fails = 0;
	}
	b->fails++;
	pthread_mutex_unlock(&core->src_lock);
}

bool sip_loc_contact_of(struct sip_core *core, uint64_t imsi, const struct sip_txn_peer *flow,
                        char *contact, char *path)
{
	bool found = false;
	struct sip_user *u = sip_loc_lock(core, imsi, false);
	if (!u)
		return false;
	for (unsigned i = 0; i < u->n && !found; i++) {
		if (sip_flow_same_peer(&u->b[i].flow, flow)) {
			snprintf(contact, SIP_CONTACT_MAX, "%s", u->b[i].contact);
			snprintf(path, SIP_CONTACT_MAX, "%s", u->b[i].path);
			found = true;
		}
	}
	sip_loc_unlock(core, imsi);
	return found;
}

int sip_subscr_of_user(struct sip_core *core, struct sip_str user, struct hlr_subscr *out)
{
	return hlr_subscr_get_by_number(core->reg, user.p, user.len, out);
}
