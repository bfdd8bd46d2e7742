#include "hlr/registry.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/csv.h"
#include "common/hex.h"
#include "common/log.h"
#include "crypto/secretbox.h"
#include "hlr/sip_cred.h"
#include "store/store.h"

#define CHUNK_SHIFT 16
#define CHUNK_SIZE  (1u << CHUNK_SHIFT)
#define SQN_STRIPES 256

enum index_kind { IDX_IMSI, IDX_MSISDN, IDX_ICCID, IDX_COUNT };

/* Open addressing with linear probing; a cell holds slot+1 (0 = empty). The key
 * is read from the record itself, so a cell costs four bytes. */
struct index {
	uint32_t *cells;
	size_t cap; /* a power of two */
	size_t used;
};

struct hlr_registry {
	struct store *st;
	const struct hlr_profile *profile;
	uint8_t master_key[32];

	pthread_rwlock_t lock;       /* records' identity fields and the indexes */
	pthread_mutex_t write_mutex; /* one writer at a time */
	pthread_mutex_t sqn_locks[SQN_STRIPES];

	struct hlr_subscr **chunks;
	size_t n_chunks;
	uint32_t n_slots; /* slots ever used */
	uint32_t *free_slots;
	size_t n_free, cap_free;
	size_t count;
	uint64_t next_id;
	unsigned default_ind_bitlen;
	struct index idx[IDX_COUNT];

	/* Serving node names (VLR/SGSN IPA names), interned: id = index + 1. */
	pthread_mutex_t node_mutex;
	char **nodes;
	unsigned n_nodes;
	hlr_change_fn on_change;
	void *on_change_ctx;
	struct store_queue *queue;
	/* SIP digest credentials (sip_cred.c) and the realm they are made for. */
	struct hlr_sip_creds *creds;
	char sip_realm[256];
	hlr_number_check_fn number_check;
	void *number_check_ctx;
};

#define MAX_NODES 65535

/* --- slots ---------------------------------------------------------------- */

static struct hlr_subscr *slot_rec(const struct hlr_registry *reg, uint32_t slot)
{
	return &reg->chunks[slot >> CHUNK_SHIFT][slot & (CHUNK_SIZE - 1)];
}

/* Takes a free slot (the record is zeroed). Caller holds write_mutex; the slot is
 * invisible to readers until indexed. Returns 0 or -ENOMEM. */
static int slot_alloc(struct hlr_registry *reg, uint32_t *out)
{
	if (reg->n_free) {
		*out = reg->free_slots[--reg->n_free];
		return 0;
	}
	if (reg->n_slots == UINT32_MAX - 1)
		return -ENOMEM;
	uint32_t slot = reg->n_slots;
	size_t chunk = slot >> CHUNK_SHIFT;
	if (chunk == reg->n_chunks) {
		struct hlr_subscr *c = calloc(CHUNK_SIZE, sizeof(*c));
		if (!c)
			return -ENOMEM;
		pthread_rwlock_wrlock(&reg->lock);
		struct hlr_subscr **cs = realloc(reg->chunks, (chunk + 1) * sizeof(*cs));
		if (cs) {
			cs[chunk] = c;
			reg->chunks = cs;
			reg->n_chunks++;
		}
		pthread_rwlock_unlock(&reg->lock);
		if (!cs) {
			free(c);
			return -ENOMEM;
		}
	}
	reg->n_slots++;
	*out = slot;
	return 0;
}

static int slot_free(struct hlr_registry *reg, uint32_t slot)
{
	if (reg->n_free == reg->cap_free) {
		size_t cap = reg->cap_free ? reg->cap_free * 2 : 1024;
		uint32_t *f = realloc(reg->free_slots, cap * sizeof(*f));
		if (!f)
			return -ENOMEM;
		reg->free_slots = f;
		reg->cap_free = cap;
	}
	memset(slot_rec(reg, slot), 0, sizeof(struct hlr_subscr));
	reg->free_slots[reg->n_free++] = slot;
	return 0;
}

/* --- indexes -------------------------------------------------------------- */

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

struct key {
	uint64_t a, b;
	uint8_t len;
};

static struct key rec_key(const struct hlr_subscr *r, enum index_kind kind)
{
	switch (kind) {
	case IDX_IMSI:
		return (struct key){r->imsi, 0, 0};
	case IDX_MSISDN:
		return (struct key){r->msisdn, 0, 0};
	default:
		return (struct key){r->iccid.hi, r->iccid.lo, r->iccid.len};
	}
}

static bool key_empty(const struct key *k, enum index_kind kind)
{
	return kind == IDX_ICCID ? k->len == 0 : k->a == 0;
}

static uint64_t key_hash(const struct key *k)
{
	return mix64(k->a ^ mix64(k->b + k->len));
}

static bool key_eq(const struct key *x, const struct key *y)
{
	return x->a == y->a && x->b == y->b && x->len == y->len;
}

/* Slot of the record with key k, or UINT32_MAX. Caller holds lock (any mode). */
static uint32_t ix_find(const struct hlr_registry *reg, const struct index *ix,
                        enum index_kind kind, const struct key *k)
{
	if (!ix->cap)
		return UINT32_MAX;
	size_t mask = ix->cap - 1;
	for (size_t i = key_hash(k) & mask;; i = (i + 1) & mask) {
		uint32_t c = ix->cells[i];
		if (!c)
			return UINT32_MAX;
		struct key rk = rec_key(slot_rec(reg, c - 1), kind);
		if (key_eq(&rk, k))
			return c - 1;
	}
}

static void ix_put_nogrow(struct hlr_registry *reg, struct index *ix, enum index_kind kind,
                          uint32_t slot)
{
	struct key k = rec_key(slot_rec(reg, slot), kind);
	size_t mask = ix->cap - 1, i = key_hash(&k) & mask;
	while (ix->cells[i])
		i = (i + 1) & mask;
	ix->cells[i] = slot + 1;
	ix->used++;
}

/* Makes room for n more entries (load factor at most 3/4). Caller holds the
 * exclusive lock. Returns 0 or -ENOMEM. */
static int ix_reserve(struct hlr_registry *reg, struct index *ix, enum index_kind kind, size_t n)
{
	if ((ix->used + n) * 4 <= ix->cap * 3)
		return 0;
	size_t cap = ix->cap ? ix->cap : 1024;
	while ((ix->used + n) * 4 > cap * 3)
		cap *= 2;
	uint32_t *cells = calloc(cap, sizeof(*cells));
	if (!cells)
		return -ENOMEM;
	uint32_t *old = ix->cells;
	size_t old_cap = ix->cap;
	ix->cells = cells;
	ix->cap = cap;
	ix->used = 0;
	for (size_t i = 0; i < old_cap; i++) {
		if (old[i])
			ix_put_nogrow(reg, ix, kind, old[i] - 1);
	}
	free(old);
	return 0;
}

static uint32_t index_find(const struct hlr_registry *reg, enum index_kind kind,
                           const struct key *k)
{
	return ix_find(reg, &reg->idx[kind], kind, k);
}

static void index_put_nogrow(struct hlr_registry *reg, enum index_kind kind, uint32_t slot)
{
	ix_put_nogrow(reg, &reg->idx[kind], kind, slot);
}

static int index_reserve(struct hlr_registry *reg, enum index_kind kind, size_t n)
{
	return ix_reserve(reg, &reg->idx[kind], kind, n);
}

/* Removes slot from the index (backward-shift deletion keeps probes short). */
static void index_del(struct hlr_registry *reg, enum index_kind kind, uint32_t slot)
{
	struct index *ix = &reg->idx[kind];
	struct key k = rec_key(slot_rec(reg, slot), kind);
	if (key_empty(&k, kind) || !ix->cap)
		return;
	size_t mask = ix->cap - 1, i = key_hash(&k) & mask;
	while (ix->cells[i] && ix->cells[i] != slot + 1)
		i = (i + 1) & mask;
	if (!ix->cells[i])
		return;
	ix->cells[i] = 0;
	ix->used--;
	for (size_t j = (i + 1) & mask; ix->cells[j]; j = (j + 1) & mask) {
		struct key jk = rec_key(slot_rec(reg, ix->cells[j] - 1), kind);
		size_t home = key_hash(&jk) & mask;
		/* Move j back into the hole at i unless its home lies in (i, j]. */
		bool between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (!between) {
			ix->cells[i] = ix->cells[j];
			ix->cells[j] = 0;
			i = j;
		}
	}
}

/* Adds every non-empty key of slot. Caller holds the exclusive lock and has
 * reserved room. */
static void index_add_all(struct hlr_registry *reg, uint32_t slot)
{
	for (int kind = 0; kind < IDX_COUNT; kind++) {
		struct key k = rec_key(slot_rec(reg, slot), kind);
		if (!key_empty(&k, kind))
			index_put_nogrow(reg, kind, slot);
	}
}

static int index_reserve_all(struct hlr_registry *reg, size_t n)
{
	for (int kind = 0; kind < IDX_COUNT; kind++) {
		if (index_reserve(reg, kind, n) != 0)
			return -ENOMEM;
	}
	return 0;
}

/* Which field of rec collides with a record already indexed, or NULL. */
static const char *find_conflict(const struct hlr_registry *reg, const struct hlr_subscr *rec,
                                 uint32_t ignore_slot)
{
	static const char *const names[IDX_COUNT] = {"imsi", "msisdn", "iccid"};
	for (int kind = 0; kind < IDX_COUNT; kind++) {
		struct key k = rec_key(rec, kind);
		if (key_empty(&k, kind))
			continue;
		uint32_t s = index_find(reg, kind, &k);
		if (s != UINT32_MAX && s != ignore_slot)
			return names[kind];
	}
	return NULL;
}

/* --- sealing -------------------------------------------------------------- */

static int keys_seal(const struct hlr_registry *reg, uint64_t imsi, const uint8_t k[16],
                     const uint8_t op[16], uint8_t out[HLR_KEYS_SEALED_LEN])
{
	char aad[24];
	uint8_t pt[HLR_KEYS_LEN];
	hlr_imsi_format(imsi, aad);
	memcpy(pt, k, 16);
	memcpy(pt + 16, op, 16);
	int rc = secretbox_seal(reg->master_key, aad, strlen(aad), pt, sizeof(pt), out);
	OPENSSL_cleanse(pt, sizeof(pt));
	return rc;
}

int hlr_subscr_keys_open(struct hlr_registry *reg, const struct hlr_subscr *rec, uint8_t k[16],
                         uint8_t op[16])
{
	char aad[24];
	uint8_t pt[HLR_KEYS_LEN];
	hlr_imsi_format(rec->imsi, aad);
	int rc = secretbox_open(reg->master_key, aad, strlen(aad), rec->keys_sealed,
	                        HLR_KEYS_SEALED_LEN, pt);
	if (rc == 0) {
		memcpy(k, pt, 16);
		memcpy(op, pt + 16, 16);
	}
	OPENSSL_cleanse(pt, sizeof(pt));
	return rc;
}

int hlr_registry_check_master_key(struct hlr_registry *reg)
{
	struct hlr_subscr rec;
	bool found = false;
	pthread_rwlock_rdlock(&reg->lock);
	for (uint32_t slot = 0; slot < reg->n_slots && !found; slot++) {
		if (slot_rec(reg, slot)->id) {
			rec = *slot_rec(reg, slot);
			found = true;
		}
	}
	pthread_rwlock_unlock(&reg->lock);
	if (!found)
		return 0;
	uint8_t k[16], op[16];
	int rc = hlr_subscr_keys_open(reg, &rec, k, op);
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(op, sizeof(op));
	return rc == 0 ? 0 : -EBADMSG;
}

/* --- store rows ----------------------------------------------------------- */

/* The columns the in-memory record needs, then the ones only the operator sees. */
#define SUBSCR_LOAD_COLS                                                                           \
	"id, imsi, msisdn, iccid, class, status, city, op_kind, keys_sealed, amf, sqn, "           \
	"ind_bitlen, vlr_name, sgsn_name"
#define SUBSCR_COLS                                                                                \
	SUBSCR_LOAD_COLS ", holder_name, holder_id_document, holder_nationality, created_at, "     \
	                 "activated_at, vlr_updated_at, sgsn_updated_at, imei, imei_updated_at"

static void copy_text(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

/* The node id of name, adding it if new; 0 for NULL or "" (or if the table is full). */
static uint16_t node_intern(struct hlr_registry *reg, const char *name)
{
	if (!name || !*name)
		return 0;
	uint16_t id = 0;
	pthread_mutex_lock(&reg->node_mutex);
	for (unsigned i = 0; i < reg->n_nodes; i++) {
		if (strcmp(reg->nodes[i], name) == 0) {
			id = (uint16_t)(i + 1);
			break;
		}
	}
	if (!id && reg->n_nodes < MAX_NODES) {
		char **n = realloc(reg->nodes, (reg->n_nodes + 1) * sizeof(*n));
		char *copy = strdup(name);
		if (n)
			reg->nodes = n;
		if (n && copy) {
			reg->nodes[reg->n_nodes++] = copy;
			id = (uint16_t)reg->n_nodes;
		} else {
			free(copy);
		}
	}
	pthread_mutex_unlock(&reg->node_mutex);
	return id;
}

const char *hlr_registry_node_name(struct hlr_registry *reg, uint16_t id)
{
	const char *name = NULL;
	pthread_mutex_lock(&reg->node_mutex);
	if (id >= 1 && id <= reg->n_nodes)
		name = reg->nodes[id - 1];
	pthread_mutex_unlock(&reg->node_mutex);
	return name;
}

/* Fills rec (and info, if not NULL) from the current row selected with SUBSCR_COLS.
 * Returns 0, or -EINVAL for a row that does not parse (it is logged and skipped). */
static int row_to_rec(struct hlr_registry *reg, struct store_stmt *s, struct hlr_subscr *rec,
                      struct hlr_subscr_info *info)
{
	memset(rec, 0, sizeof(*rec));
	rec->id = (uint64_t)store_col_int64(s, 0);
	const char *imsi = store_col_text(s, 1), *msisdn = store_col_text(s, 2),
	           *iccid = store_col_text(s, 3), *cls = store_col_text(s, 4),
	           *status = store_col_text(s, 5), *city = store_col_text(s, 6),
	           *op_kind = store_col_text(s, 7), *sealed = store_col_text(s, 8),
	           *amf = store_col_text(s, 9);
	enum hlr_subscr_status st;
	int class_id = cls ? hlr_profile_class_find(reg->profile, cls) : -1;
	if (!imsi || hlr_imsi_parse(imsi, &rec->imsi) != 0 ||
	    (msisdn && hlr_msisdn_parse(msisdn, &rec->msisdn) != 0) ||
	    (iccid && hlr_iccid_parse(iccid, &rec->iccid) != 0) || class_id < 0 || !status ||
	    hlr_status_parse(status, &st) != 0 || !sealed ||
	    hex_decode(sealed, rec->keys_sealed, HLR_KEYS_SEALED_LEN) != 0 || !amf ||
	    hex_decode(amf, rec->amf, 2) != 0) {
		LOGE("hlr", "subscriber row id=%" PRIu64 " IMSI='%s' does not parse; skipped",
		     rec->id, imsi ? imsi : "");
		return -EINVAL;
	}
	rec->class_id = (uint8_t)class_id;
	rec->status = (uint8_t)st;
	rec->city_id = city ? (uint16_t)hlr_profile_city_find(reg->profile, city) : 0;
	rec->op_is_opc = op_kind && strcmp(op_kind, "opc") == 0;
	rec->sqn = (uint64_t)store_col_int64(s, 10);
	rec->ind_bitlen = (uint8_t)store_col_int64(s, 11);
	rec->vlr_id = node_intern(reg, store_col_text(s, 12));
	rec->sgsn_id = node_intern(reg, store_col_text(s, 13));
	if (info) {
		struct hlr_subscr copy = *rec; /* rec may be &info->rec */
		memset(info, 0, sizeof(*info));
		info->rec = copy;
		memset(info->rec.keys_sealed, 0, sizeof(info->rec.keys_sealed));
		copy_text(info->holder.name, sizeof(info->holder.name), store_col_text(s, 14));
		copy_text(info->holder.id_document, sizeof(info->holder.id_document),
		          store_col_text(s, 15));
		copy_text(info->holder.nationality, sizeof(info->holder.nationality),
		          store_col_text(s, 16));
		info->created_at = store_col_int64(s, 17);
		info->activated_at = store_col_int64(s, 18);
		copy_text(info->vlr_name, sizeof(info->vlr_name), store_col_text(s, 12));
		copy_text(info->sgsn_name, sizeof(info->sgsn_name), store_col_text(s, 13));
		info->vlr_updated_at = store_col_int64(s, 19);
		info->sgsn_updated_at = store_col_int64(s, 20);
		copy_text(info->imei, sizeof(info->imei), store_col_text(s, 21));
		info->imei_updated_at = store_col_int64(s, 22);
	}
	return 0;
}

static int load_all(struct hlr_registry *reg)
{
	struct store_stmt *s;
	int rc = 0, step;
	uint64_t t0 = clock_mono_ns();

	store_lock(reg->st);
	if (store_prepare(reg->st, "SELECT count(*), max(id) FROM subscriber", &s) != 0) {
		store_unlock(reg->st);
		return -EIO;
	}
	size_t n = 0;
	if (store_step(s) == STORE_ROW) {
		n = (size_t)store_col_int64(s, 0);
		reg->next_id = (uint64_t)store_col_int64(s, 1) + 1;
	}
	store_reset(s);
	if (index_reserve_all(reg, n) != 0) {
		store_unlock(reg->st);
		return -ENOMEM;
	}
	if (store_prepare(reg->st, "SELECT " SUBSCR_LOAD_COLS " FROM subscriber", &s) != 0) {
		store_unlock(reg->st);
		return -EIO;
	}
	while ((step = store_step(s)) == STORE_ROW) {
		struct hlr_subscr rec;
		uint32_t slot;
		/* The store's UNIQUE constraints already keep identities apart. */
		if (row_to_rec(reg, s, &rec, NULL) != 0)
			continue;
		if (slot_alloc(reg, &slot) != 0) {
			rc = -ENOMEM;
			break;
		}
		*slot_rec(reg, slot) = rec;
		if (index_reserve_all(reg, 1) != 0) {
			rc = -ENOMEM;
			break;
		}
		index_add_all(reg, slot);
		reg->count++;
	}
	store_reset(s);
	store_unlock(reg->st);
	if (step < 0)
		rc = -EIO;
	if (rc == 0)
		LOGN("hlr", "registry loaded: %zu subscribers in %.3f s", reg->count,
		     (double)(clock_mono_ns() - t0) / 1e9);
	return rc;
}

/* --- lifecycle ------------------------------------------------------------ */

int hlr_registry_open(struct store *st, const struct hlr_profile *profile,
                      const uint8_t master_key[32], struct hlr_registry **out)
{
	struct hlr_registry *reg = calloc(1, sizeof(*reg));
	if (!reg)
		return -ENOMEM;
	reg->st = st;
	reg->profile = profile;
	reg->next_id = 1;
	if (hlr_sip_creds_new(&reg->creds) != 0) {
		free(reg);
		return -ENOMEM;
	}
	reg->default_ind_bitlen = 5;
	memcpy(reg->master_key, master_key, 32);
	pthread_rwlock_init(&reg->lock, NULL);
	pthread_mutex_init(&reg->write_mutex, NULL);
	pthread_mutex_init(&reg->node_mutex, NULL);
	for (int i = 0; i < SQN_STRIPES; i++)
		pthread_mutex_init(&reg->sqn_locks[i], NULL);
	int rc = load_all(reg);
	if (rc != 0) {
		hlr_registry_close(reg);
		return rc;
	}
	*out = reg;
	return 0;
}

void hlr_registry_close(struct hlr_registry *reg)
{
	if (!reg)
		return;
	for (size_t i = 0; i < reg->n_chunks; i++) {
		OPENSSL_cleanse(reg->chunks[i], CHUNK_SIZE * sizeof(struct hlr_subscr));
		free(reg->chunks[i]);
	}
	free(reg->chunks);
	free(reg->free_slots);
	for (int kind = 0; kind < IDX_COUNT; kind++)
		free(reg->idx[kind].cells);
	OPENSSL_cleanse(reg->master_key, sizeof(reg->master_key));
	pthread_rwlock_destroy(&reg->lock);
	pthread_mutex_destroy(&reg->write_mutex);
	pthread_mutex_destroy(&reg->node_mutex);
	for (unsigned i = 0; i < reg->n_nodes; i++)
		free(reg->nodes[i]);
	free(reg->nodes);
	for (int i = 0; i < SQN_STRIPES; i++)
		pthread_mutex_destroy(&reg->sqn_locks[i]);
	hlr_sip_creds_free(reg->creds);
	free(reg);
}

void hlr_registry_set_default_ind_bitlen(struct hlr_registry *reg, unsigned bits)
{
	reg->default_ind_bitlen = bits;
}

unsigned hlr_registry_default_ind_bitlen(const struct hlr_registry *reg)
{
	return reg->default_ind_bitlen;
}

const struct hlr_profile *hlr_registry_profile(const struct hlr_registry *reg)
{
	return reg->profile;
}

struct store *hlr_registry_store(const struct hlr_registry *reg)
{
	return reg->st;
}

size_t hlr_registry_count(struct hlr_registry *reg)
{
	pthread_rwlock_rdlock(&reg->lock);
	size_t n = reg->count;
	pthread_rwlock_unlock(&reg->lock);
	return n;
}

void hlr_registry_count_by_class_status(struct hlr_registry *reg,
                                        uint64_t counts[HLR_MAX_CLASSES][HLR_STATUS_COUNT])
{
	memset(counts, 0, sizeof(uint64_t) * HLR_MAX_CLASSES * HLR_STATUS_COUNT);
	pthread_rwlock_rdlock(&reg->lock);
	for (uint32_t slot = 0; slot < reg->n_slots; slot++) {
		const struct hlr_subscr *r = slot_rec(reg, slot);
		if (r->id && r->class_id < HLR_MAX_CLASSES && r->status < HLR_STATUS_COUNT)
			counts[r->class_id][r->status]++;
	}
	pthread_rwlock_unlock(&reg->lock);
}

/* --- lookups -------------------------------------------------------------- */

static int get_by(struct hlr_registry *reg, enum index_kind kind, const struct key *k,
                  struct hlr_subscr *out)
{
	int rc = -ENOENT;
	pthread_rwlock_rdlock(&reg->lock);
	uint32_t slot = index_find(reg, kind, k);
	if (slot != UINT32_MAX) {
		const struct hlr_subscr *r = slot_rec(reg, slot);
		*out = *r;
		out->sqn = __atomic_load_n(&r->sqn, __ATOMIC_RELAXED);
		rc = 0;
	}
	pthread_rwlock_unlock(&reg->lock);
	return rc;
}

int hlr_subscr_get_by_imsi(struct hlr_registry *reg, uint64_t imsi, struct hlr_subscr *out)
{
	struct key k = {imsi, 0, 0};
	return imsi ? get_by(reg, IDX_IMSI, &k, out) : -ENOENT;
}

int hlr_subscr_get_by_msisdn(struct hlr_registry *reg, uint64_t msisdn, struct hlr_subscr *out)
{
	struct key k = {msisdn, 0, 0};
	return msisdn ? get_by(reg, IDX_MSISDN, &k, out) : -ENOENT;
}

int hlr_subscr_get_by_iccid(struct hlr_registry *reg, const struct hlr_iccid *iccid,
                            struct hlr_subscr *out)
{
	struct key k = {iccid->hi, iccid->lo, iccid->len};
	return iccid->len ? get_by(reg, IDX_ICCID, &k, out) : -ENOENT;
}

int hlr_subscr_get_by_number(struct hlr_registry *reg, const char *number, size_t len,
                             struct hlr_subscr *out)
{
	char d[24];
	size_t n = 0, i = 0;
	bool plus = false;
	if (len && number[0] == '+') {
		plus = true;
		i = 1;
	}
	for (; i < len; i++) {
		char c = number[i];
		if (c == '-' || c == '.' || c == '(' || c == ')')
			continue; /* visual separators of tel: numbers */
		if (c < '0' || c > '9' || n + 1 >= sizeof(d))
			return -ENOENT;
		d[n++] = c;
	}
	d[n] = '\0';
	if (n == 0)
		return -ENOENT;
	const struct hlr_profile *prof = reg->profile;
	char plmn[8];
	snprintf(plmn, sizeof(plmn), "%s%s", prof->mcc, prof->mnc);
	if (!plus && n >= 14 && strncmp(d, plmn, strlen(plmn)) == 0 &&
	    hlr_subscr_get_by_imsi(reg, strtoull(d, NULL, 10), out) == 0)
		return 0;
	char e164[32];
	size_t np = strlen(prof->national_prefix), ip = strlen(prof->international_prefix);
	if (plus)
		snprintf(e164, sizeof(e164), "%s", d);
	else if (ip && strncmp(d, prof->international_prefix, ip) == 0)
		snprintf(e164, sizeof(e164), "%s", d + ip);
	else if (np && strncmp(d, prof->national_prefix, np) == 0)
		snprintf(e164, sizeof(e164), "%s%s", prof->country_code, d + np);
	else
		snprintf(e164, sizeof(e164), "%s", d);
	if (strlen(e164) > 15)
		return -ENOENT;
	return hlr_subscr_get_by_msisdn(reg, strtoull(e164, NULL, 10), out);
}

/* Caller holds the store lock. */
static int info_read(struct hlr_registry *reg, uint64_t id, struct hlr_subscr_info *out)
{
	struct store_stmt *s;
	if (store_prepare(reg->st, "SELECT " SUBSCR_COLS " FROM subscriber WHERE id = $1", &s) != 0)
		return -EIO;
	store_bind_int64(s, 1, (int64_t)id);
	int step = store_step(s), rc;
	if (step == STORE_ROW)
		rc = row_to_rec(reg, s, &out->rec, out) == 0 ? 0 : -EIO;
	else
		rc = step == STORE_DONE ? -ENOENT : -EIO;
	store_reset(s);
	return rc;
}

int hlr_subscr_info_get(struct hlr_registry *reg, uint64_t imsi, struct hlr_subscr_info *out)
{
	struct hlr_subscr rec;
	if (hlr_subscr_get_by_imsi(reg, imsi, &rec) != 0)
		return -ENOENT;
	store_lock(reg->st);
	int rc = info_read(reg, rec.id, out);
	store_unlock(reg->st);
	if (rc == 0)
		out->rec.sqn = rec.sqn; /* memory may be ahead of a row read mid-update */
	return rc;
}

/* --- writes --------------------------------------------------------------- */

static void bind_opt_u64(struct store_stmt *s, int idx, uint64_t v)
{
	char buf[24];
	if (v) {
		sprintf(buf, "%" PRIu64, v);
		store_bind_text(s, idx, buf);
	} else {
		store_bind_null(s, idx);
	}
}

static void bind_opt_text(struct store_stmt *s, int idx, const char *v)
{
	store_bind_text(s, idx, v && *v ? v : NULL);
}

/* May class_id hold msisdn (the number check's answer)? 0, or -EINVAL with
 * err naming msisdn. */
static int number_allowed(struct hlr_registry *reg, unsigned class_id, uint64_t msisdn,
                          struct hlr_field_error *err)
{
	char reason[160];
	if (!reg->number_check || !msisdn ||
	    reg->number_check(reg->number_check_ctx, class_id, msisdn, reason, sizeof(reason)) == 0)
		return 0;
	hlr_field_error_set(err, "msisdn", "%s", reason);
	return -EINVAL;
}

void hlr_registry_set_number_check(struct hlr_registry *reg, hlr_number_check_fn fn, void *ctx)
{
	reg->number_check = fn;
	reg->number_check_ctx = ctx;
}

/* The SIP credential an input's sip_password asks for (cred->imsi 0: none). */
static int sip_cred_of_input(struct hlr_registry *reg, const struct hlr_subscr_new *in,
                             struct hlr_sip_cred *cred, struct hlr_field_error *err)
{
	memset(cred, 0, sizeof(*cred));
	if (!in->sip_password[0])
		return 0;
	if (!reg->sip_realm[0]) {
		hlr_field_error_set(err, "sip_password", "SIP is not configured (no sip.domain)");
		return -EINVAL;
	}
	return hlr_sip_cred_make(in->rec.imsi, in->rec.msisdn, reg->sip_realm, in->sip_password,
	                         cred) == 0
	           ? 0
	           : -EIO;
}

/* Inserts one subscriber row. Caller holds the store lock inside a transaction. */
static int row_insert(struct hlr_registry *reg, const struct hlr_subscr *r,
                      const struct hlr_subscr_holder *h, int64_t now)
{
	static const char sql[] =
	    "INSERT INTO subscriber (id, imsi, msisdn, iccid, class, status, holder_name, "
	    "holder_id_document, holder_nationality, city, created_at, activated_at, updated_at, "
	    "op_kind, keys_sealed, amf, sqn, ind_bitlen, imsi_num) VALUES ($1, $2, $3, $4, $5, $6, "
	    "$7, $8, $9, $10, $11, $12, $11, $13, $14, $15, $16, $17, $18)";
	struct store_stmt *s;
	char imsi[24], iccid[24], sealed[2 * HLR_KEYS_SEALED_LEN + 1], amf[5];
	if (store_prepare(reg->st, sql, &s) != 0)
		return -EIO;
	hlr_imsi_format(r->imsi, imsi);
	hlr_iccid_format(&r->iccid, iccid);
	hex_encode(r->keys_sealed, HLR_KEYS_SEALED_LEN, sealed);
	hex_encode(r->amf, 2, amf);
	store_bind_int64(s, 1, (int64_t)r->id);
	store_bind_text(s, 2, imsi);
	bind_opt_u64(s, 3, r->msisdn);
	bind_opt_text(s, 4, iccid);
	store_bind_text(s, 5, hlr_profile_class_name(reg->profile, r->class_id));
	store_bind_text(s, 6, hlr_status_name(r->status));
	bind_opt_text(s, 7, h->name);
	bind_opt_text(s, 8, h->id_document);
	bind_opt_text(s, 9, h->nationality);
	bind_opt_text(s, 10, hlr_profile_city_name(reg->profile, r->city_id));
	store_bind_int64(s, 11, now);
	if (r->status == HLR_STATUS_ACTIVE)
		store_bind_int64(s, 12, now);
	else
		store_bind_null(s, 12);
	store_bind_text(s, 13, r->op_is_opc ? "opc" : "op");
	store_bind_text(s, 14, sealed);
	store_bind_text(s, 15, amf);
	store_bind_int64(s, 16, (int64_t)r->sqn);
	store_bind_int64(s, 17, r->ind_bitlen);
	store_bind_int64(s, 18, (int64_t)r->imsi);
	int rc = store_step(s);
	store_reset(s);
	return rc == STORE_DONE ? 0 : rc;
}

int hlr_subscr_create(struct hlr_registry *reg, struct hlr_subscr_new *in,
                      struct hlr_subscr_info *out, struct hlr_field_error *err)
{
	int rc;
	struct hlr_sip_cred cred = {0};
	uint32_t slot;
	int64_t now = clock_now();

	pthread_mutex_lock(&reg->write_mutex);
	rc = number_allowed(reg, in->rec.class_id, in->rec.msisdn, err);
	if (rc != 0)
		goto out;
	pthread_rwlock_rdlock(&reg->lock);
	const char *conflict = find_conflict(reg, &in->rec, UINT32_MAX);
	pthread_rwlock_unlock(&reg->lock);
	if (conflict) {
		hlr_field_error_set(err, conflict, "already in use by another subscriber");
		rc = -EEXIST;
		goto out;
	}
	in->rec.id = reg->next_id;
	rc = keys_seal(reg, in->rec.imsi, in->k, in->op, in->rec.keys_sealed);
	if (rc != 0)
		goto out;

	store_lock(reg->st);
	rc = sip_cred_of_input(reg, in, &cred, err);
	if (rc != 0)
		goto out;
	rc = store_begin(reg->st);
	if (rc == 0)
		rc = row_insert(reg, &in->rec, &in->holder, now);
	if (rc == 0 && cred.imsi)
		rc = hlr_sip_cred_row_put(reg->st, &cred, reg->sip_realm, now);
	if (rc == 0)
		rc = store_commit(reg->st);
	if (rc != 0)
		store_rollback(reg->st);
	store_unlock(reg->st);
	if (rc == -EEXIST) {
		hlr_field_error_set(err, "imsi", "already in use by another subscriber");
		goto out;
	}
	if (rc != 0)
		goto out;

	/* Durable now: publish. A failure to find memory here would leave the store
	 * ahead of memory until restart, so it is logged loudly. */
	reg->next_id++;
	if (slot_alloc(reg, &slot) != 0) {
		LOGE("hlr", "IMSI='%" PRIu64 "': stored but out of memory to index it",
		     in->rec.imsi);
		rc = -ENOMEM;
		goto out;
	}
	pthread_rwlock_wrlock(&reg->lock);
	if (index_reserve_all(reg, 1) != 0) {
		pthread_rwlock_unlock(&reg->lock);
		slot_free(reg, slot);
		LOGE("hlr", "IMSI='%" PRIu64 "': stored but out of memory to index it",
		     in->rec.imsi);
		rc = -ENOMEM;
		goto out;
	}
	*slot_rec(reg, slot) = in->rec;
	index_add_all(reg, slot);
	reg->count++;
	pthread_rwlock_unlock(&reg->lock);
	if (cred.imsi && hlr_sip_creds_put(reg->creds, &cred) != 0)
		LOGE("hlr", "IMSI='%" PRIu64 "': SIP password stored but out of memory to use it",
		     in->rec.imsi);
	LOGI("hlr", "IMSI='%" PRIu64 "': created", in->rec.imsi);

	if (out) {
		memset(out, 0, sizeof(*out));
		out->rec = in->rec;
		memset(out->rec.keys_sealed, 0, sizeof(out->rec.keys_sealed));
		out->holder = in->holder;
		out->created_at = now;
		out->activated_at = in->rec.status == HLR_STATUS_ACTIVE ? now : 0;
	}
out:
	pthread_mutex_unlock(&reg->write_mutex);
	OPENSSL_cleanse(in->k, sizeof(in->k));
	OPENSSL_cleanse(in->op, sizeof(in->op));
	OPENSSL_cleanse(in->sip_password, sizeof(in->sip_password));
	OPENSSL_cleanse(&cred, sizeof(cred));
	return rc;
}

int hlr_subscr_update(struct hlr_registry *reg, uint64_t imsi, const struct hlr_subscr_change *chg,
                      struct hlr_subscr_info *out, struct hlr_field_error *err)
{
	struct hlr_subscr_info cur;
	struct hlr_subscr before, after;
	hlr_change_fn notify = NULL;
	void *notify_ctx = NULL;
	int rc;
	int64_t now = clock_now();

	pthread_mutex_lock(&reg->write_mutex);
	pthread_rwlock_rdlock(&reg->lock);
	struct key ik = {imsi, 0, 0};
	uint32_t slot = index_find(reg, IDX_IMSI, &ik);
	if (slot != UINT32_MAX && chg->set_msisdn && chg->msisdn) {
		struct key mk = {chg->msisdn, 0, 0};
		uint32_t other = index_find(reg, IDX_MSISDN, &mk);
		if (other != UINT32_MAX && other != slot) {
			pthread_rwlock_unlock(&reg->lock);
			hlr_field_error_set(err, "msisdn", "already in use by another subscriber");
			rc = -EEXIST;
			goto out;
		}
	}
	uint64_t id = slot != UINT32_MAX ? slot_rec(reg, slot)->id : 0;
	unsigned new_class = slot == UINT32_MAX ? 0
	                     : chg->set_class   ? chg->class_id
	                                        : slot_rec(reg, slot)->class_id;
	uint64_t new_msisdn = slot == UINT32_MAX ? 0
	                      : chg->set_msisdn  ? chg->msisdn
	                                         : slot_rec(reg, slot)->msisdn;
	pthread_rwlock_unlock(&reg->lock);
	if (slot == UINT32_MAX) {
		rc = -ENOENT;
		goto out;
	}
	if ((chg->set_class || chg->set_msisdn) &&
	    (rc = number_allowed(reg, new_class, new_msisdn, err)) != 0)
		goto out;

	store_lock(reg->st);
	rc = store_begin(reg->st);
	if (rc == 0)
		rc = info_read(reg, id, &cur);
	struct hlr_subscr next = cur.rec;
	struct hlr_subscr_holder holder = cur.holder;
	int64_t activated_at = cur.activated_at;
	if (rc == 0) {
		if (chg->set_status)
			next.status = chg->status;
		if (chg->set_class)
			next.class_id = chg->class_id;
		if (chg->set_msisdn)
			next.msisdn = chg->msisdn;
		if (chg->set_city)
			next.city_id = chg->city_id;
		if (chg->set_name)
			memcpy(holder.name, chg->holder.name, sizeof(holder.name));
		if (chg->set_id_document)
			memcpy(holder.id_document, chg->holder.id_document,
			       sizeof(holder.id_document));
		if (chg->set_nationality)
			memcpy(holder.nationality, chg->holder.nationality,
			       sizeof(holder.nationality));
		if (next.status == HLR_STATUS_ACTIVE && !activated_at)
			activated_at = now;

		struct store_stmt *s;
		rc = store_prepare(reg->st,
		                   "UPDATE subscriber SET status = $2, class = $3, msisdn = $4, "
		                   "city = $5, holder_name = $6, holder_id_document = $7, "
		                   "holder_nationality = $8, activated_at = $9, updated_at = $10 "
		                   "WHERE id = $1",
		                   &s);
		if (rc == 0) {
			store_bind_int64(s, 1, (int64_t)id);
			store_bind_text(s, 2, hlr_status_name(next.status));
			store_bind_text(s, 3, hlr_profile_class_name(reg->profile, next.class_id));
			bind_opt_u64(s, 4, next.msisdn);
			bind_opt_text(s, 5, hlr_profile_city_name(reg->profile, next.city_id));
			bind_opt_text(s, 6, holder.name);
			bind_opt_text(s, 7, holder.id_document);
			bind_opt_text(s, 8, holder.nationality);
			if (activated_at)
				store_bind_int64(s, 9, activated_at);
			else
				store_bind_null(s, 9);
			store_bind_int64(s, 10, now);
			rc = store_step(s);
			store_reset(s);
			rc = rc == STORE_DONE ? 0 : rc;
		}
	}
	if (rc == 0)
		rc = store_commit(reg->st);
	if (rc != 0)
		store_rollback(reg->st);
	store_unlock(reg->st);
	if (rc == -EEXIST) {
		hlr_field_error_set(err, "msisdn", "already in use by another subscriber");
		goto out;
	}
	if (rc != 0)
		goto out;
	pthread_rwlock_wrlock(&reg->lock);
	struct hlr_subscr *r = slot_rec(reg, slot);
	before = *r;
	if (r->msisdn != next.msisdn) {
		index_del(reg, IDX_MSISDN, slot);
		r->msisdn = next.msisdn;
		if (r->msisdn && index_reserve(reg, IDX_MSISDN, 1) == 0)
			index_put_nogrow(reg, IDX_MSISDN, slot);
	}
	r->status = next.status;
	r->class_id = next.class_id;
	r->city_id = next.city_id;
	after = *r;
	pthread_rwlock_unlock(&reg->lock);
	notify = reg->on_change;
	notify_ctx = reg->on_change_ctx;
	LOGI("hlr", "IMSI='%" PRIu64 "': updated (status %s, class %s)", imsi,
	     hlr_status_name(next.status), hlr_profile_class_name(reg->profile, next.class_id));

	if (out) {
		memset(out, 0, sizeof(*out));
		out->rec = next;
		memset(out->rec.keys_sealed, 0, sizeof(out->rec.keys_sealed));
		out->rec.sqn = __atomic_load_n(&r->sqn, __ATOMIC_RELAXED);
		out->holder = holder;
		out->created_at = cur.created_at;
		out->activated_at = activated_at;
	}
out:
	pthread_mutex_unlock(&reg->write_mutex);
	if (notify)
		notify(notify_ctx, &before, &after);
	return rc;
}

int hlr_subscr_delete(struct hlr_registry *reg, uint64_t imsi)
{
	int rc;
	struct hlr_subscr before;
	hlr_change_fn notify = NULL;
	void *notify_ctx = NULL;
	pthread_mutex_lock(&reg->write_mutex);
	pthread_rwlock_rdlock(&reg->lock);
	struct key ik = {imsi, 0, 0};
	uint32_t slot = index_find(reg, IDX_IMSI, &ik);
	uint64_t id = slot != UINT32_MAX ? slot_rec(reg, slot)->id : 0;
	pthread_rwlock_unlock(&reg->lock);
	if (slot == UINT32_MAX) {
		rc = -ENOENT;
		goto out;
	}
	struct store_stmt *s;
	store_lock(reg->st);
	rc = store_begin(reg->st);
	if (rc == 0)
		rc = store_prepare(reg->st, "DELETE FROM subscriber WHERE id = $1", &s);
	if (rc == 0) {
		store_bind_int64(s, 1, (int64_t)id);
		rc = store_step(s) == STORE_DONE ? 0 : -EIO;
		store_reset(s);
	}
	if (rc == 0)
		rc = hlr_sip_cred_row_del(reg->st, imsi);
	if (rc == 0)
		rc = store_commit(reg->st);
	if (rc != 0)
		store_rollback(reg->st);
	store_unlock(reg->st);
	if (rc == 0)
		hlr_sip_creds_del(reg->creds, imsi);
	if (rc != 0)
		goto out;

	/* The SQN stripe keeps an AuC request from holding a copy across the delete. */
	pthread_mutex_t *sqn_lock = &reg->sqn_locks[imsi % SQN_STRIPES];
	pthread_mutex_lock(sqn_lock);
	pthread_rwlock_wrlock(&reg->lock);
	before = *slot_rec(reg, slot);
	notify = reg->on_change;
	notify_ctx = reg->on_change_ctx;
	for (int kind = 0; kind < IDX_COUNT; kind++)
		index_del(reg, kind, slot);
	slot_free(reg, slot);
	reg->count--;
	pthread_rwlock_unlock(&reg->lock);
	pthread_mutex_unlock(sqn_lock);
	LOGI("hlr", "IMSI='%" PRIu64 "': deleted", imsi);
out:
	pthread_mutex_unlock(&reg->write_mutex);
	if (notify)
		notify(notify_ctx, &before, NULL);
	return rc;
}

int hlr_subscr_list(struct hlr_registry *reg, const struct hlr_subscr_filter *filter,
                    uint64_t after, unsigned limit, hlr_subscr_list_fn fn, void *ctx)
{
	/* Keyset paging on the numeric IMSI (indexed, see 0003_imsi_order.sql). */
	char sql[512];
	int n = snprintf(sql, sizeof(sql),
	                 "SELECT " SUBSCR_COLS " FROM subscriber WHERE imsi_num > $1");
	if (filter->class_id >= 0)
		n += snprintf(sql + n, sizeof(sql) - (size_t)n, " AND class = $2");
	if (filter->status >= 0)
		n += snprintf(sql + n, sizeof(sql) - (size_t)n, " AND status = $3");
	if (filter->city_id >= 0)
		n += snprintf(sql + n, sizeof(sql) - (size_t)n, " AND city = $4");
	snprintf(sql + n, sizeof(sql) - (size_t)n, " ORDER BY imsi_num LIMIT $5");

	struct store_stmt *s;
	int listed = 0, step;
	store_lock(reg->st);
	if (store_prepare(reg->st, sql, &s) != 0) {
		store_unlock(reg->st);
		return -EIO;
	}
	store_bind_int64(s, 1, (int64_t)after);
	if (filter->class_id >= 0)
		store_bind_text(s, 2,
		                hlr_profile_class_name(reg->profile, (unsigned)filter->class_id));
	if (filter->status >= 0)
		store_bind_text(s, 3, hlr_status_name(filter->status));
	if (filter->city_id >= 0)
		store_bind_text(s, 4,
		                hlr_profile_city_name(reg->profile, (unsigned)filter->city_id));
	store_bind_int64(s, 5, limit);
	while ((step = store_step(s)) == STORE_ROW) {
		struct hlr_subscr_info info;
		if (row_to_rec(reg, s, &info.rec, &info) != 0)
			continue;
		fn(ctx, &info);
		listed++;
	}
	store_reset(s);
	store_unlock(reg->st);
	return step < 0 ? -EIO : listed;
}

/* --- SQN for the AuC ------------------------------------------------------ */

int hlr_subscr_sqn_begin(struct hlr_registry *reg, uint64_t imsi, struct hlr_subscr *rec)
{
	pthread_mutex_t *m = &reg->sqn_locks[imsi % SQN_STRIPES];
	pthread_mutex_lock(m);
	if (hlr_subscr_get_by_imsi(reg, imsi, rec) != 0) {
		pthread_mutex_unlock(m);
		return -ENOENT;
	}
	return 0;
}

int hlr_subscr_sqn_end(struct hlr_registry *reg, const struct hlr_subscr *rec, uint64_t new_sqn)
{
	pthread_mutex_t *m = &reg->sqn_locks[rec->imsi % SQN_STRIPES];
	int rc = 0;
	if (new_sqn != rec->sqn) {
		struct store_stmt *s;
		store_lock(reg->st);
		rc = store_prepare(reg->st, "UPDATE subscriber SET sqn = $2 WHERE id = $1", &s);
		if (rc == 0) {
			store_bind_int64(s, 1, (int64_t)rec->id);
			store_bind_int64(s, 2, (int64_t)new_sqn);
			rc = store_step(s) == STORE_DONE ? 0 : -EIO;
			store_reset(s);
		}
		store_unlock(reg->st);
		if (rc == 0) {
			pthread_rwlock_rdlock(&reg->lock);
			struct key ik = {rec->imsi, 0, 0};
			uint32_t slot = index_find(reg, IDX_IMSI, &ik);
			if (slot != UINT32_MAX)
				__atomic_store_n(&slot_rec(reg, slot)->sqn, new_sqn,
				                 __ATOMIC_RELAXED);
			pthread_rwlock_unlock(&reg->lock);
		}
	}
	pthread_mutex_unlock(m);
	return rc;
}

/* --- bulk import ---------------------------------------------------------- */

struct import_cols {
	int slot_of[CSV_MAX_FIELDS]; /* column -> index into hlr_subscr_field_names */
	unsigned n;
};

static void import_error(struct hlr_import_error *err, unsigned line, const char *column,
                         const char *msg)
{
	err->line = line;
	snprintf(err->column, sizeof(err->column), "%s", column);
	snprintf(err->msg, sizeof(err->msg), "%s", msg);
}

static int import_header(struct csv_reader *r, struct import_cols *cols,
                         struct hlr_import_error *err)
{
	char reason[160];
	int got = csv_next(r, reason, sizeof(reason));
	if (got <= 0) {
		import_error(err, 1, "", got == 0 ? "empty file: expected a header line" : reason);
		return -EINVAL;
	}
	struct hlr_subscr_fields probe;
	cols->n = r->n_fields;
	unsigned seen = 0;
	for (unsigned i = 0; i < r->n_fields; i++) {
		const char *name = r->fields[i];
		const char **slot = hlr_subscr_fields_slot(&probe, name);
		if (!slot) {
			import_error(err, 1, name, "unknown column");
			return -EINVAL;
		}
		int idx = (int)(slot - &probe.imsi);
		if (seen & (1u << idx)) {
			import_error(err, 1, name, "column given twice");
			return -EINVAL;
		}
		seen |= 1u << idx;
		cols->slot_of[i] = idx;
	}
	static const char *const required[] = {"imsi", "class", "k"};
	for (unsigned i = 0; i < 3; i++) {
		int idx = (int)(hlr_subscr_fields_slot(&probe, required[i]) - &probe.imsi);
		if (!(seen & (1u << idx))) {
			import_error(err, 1, required[i], "required column missing");
			return -EINVAL;
		}
	}
	return 0;
}

/* Parses the current CSV record into *out. 0, or -EINVAL with err set. */
static int import_row(struct hlr_registry *reg, struct csv_reader *r,
                      const struct import_cols *cols, struct hlr_subscr_new *out,
                      struct hlr_import_error *err)
{
	if (r->n_fields != cols->n) {
		char msg[96];
		snprintf(msg, sizeof(msg), "expected %u fields, got %u", cols->n, r->n_fields);
		import_error(
		    err, r->line,
		    hlr_subscr_field_names[cols->slot_of[r->n_fields < cols->n ? r->n_fields
		                                                               : cols->n - 1]],
		    msg);
		return -EINVAL;
	}
	struct hlr_subscr_fields f = {0};
	const char **slots = &f.imsi;
	for (unsigned i = 0; i < cols->n; i++)
		slots[cols->slot_of[i]] = r->fields[i];
	struct hlr_field_error ferr;
	if (hlr_subscr_input_parse(reg->profile, &f, reg->default_ind_bitlen, out, &ferr) != 0 ||
	    number_allowed(reg, out->rec.class_id, out->rec.msisdn, &ferr) != 0) {
		import_error(err, r->line, ferr.field, ferr.msg);
		return -EINVAL;
	}
	return 0;
}

static void import_release(struct hlr_registry *reg, uint32_t *slots, size_t n)
{
	for (size_t i = 0; i < n; i++)
		slot_free(reg, slots[i]);
	free(slots);
}

int hlr_subscr_import_csv(struct hlr_registry *reg, FILE *f, uint64_t *imported,
                          struct hlr_import_error *err, hlr_import_progress_fn progress,
                          void *progress_ctx)
{
	struct csv_reader r;
	struct import_cols cols;
	struct index seen[IDX_COUNT] = {{0}};
	uint32_t *slots = NULL;
	size_t n = 0, cap = 0;
	char reason[160];
	int rc, got;
	int64_t now = clock_now();

	memset(err, 0, sizeof(*err));
	pthread_mutex_lock(&reg->write_mutex);
	csv_init(&r, f);

	/* Pass 1: check every row and stage it in slots no reader can see yet. */
	rc = import_header(&r, &cols, err);
	while (rc == 0 && (got = csv_next(&r, reason, sizeof(reason))) == 1) {
		struct hlr_subscr_new in;
		uint32_t slot;
		rc = import_row(reg, &r, &cols, &in, err);
		if (rc != 0)
			break;
		in.rec.id = reg->next_id + n;
		rc = keys_seal(reg, in.rec.imsi, in.k, in.op, in.rec.keys_sealed);
		OPENSSL_cleanse(in.k, sizeof(in.k));
		OPENSSL_cleanse(in.op, sizeof(in.op));
		if (rc != 0)
			break;

		pthread_rwlock_rdlock(&reg->lock);
		const char *clash = find_conflict(reg, &in.rec, UINT32_MAX);
		pthread_rwlock_unlock(&reg->lock);
		if (clash) {
			char msg[96];
			snprintf(msg, sizeof(msg), "%s already in use by a subscriber in the store",
			         clash);
			import_error(err, r.line, clash, msg);
			rc = -EEXIST;
			break;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			uint32_t *s = realloc(slots, cap * sizeof(*s));
			if (!s) {
				rc = -ENOMEM;
				break;
			}
			slots = s;
		}
		if ((rc = slot_alloc(reg, &slot)) != 0)
			break;
		slots[n++] = slot;
		*slot_rec(reg, slot) = in.rec;
		for (int kind = 0; kind < IDX_COUNT && rc == 0; kind++) {
			struct key k = rec_key(&in.rec, kind);
			if (key_empty(&k, kind))
				continue;
			if (ix_find(reg, &seen[kind], kind, &k) != UINT32_MAX) {
				static const char *const names[] = {"imsi", "msisdn", "iccid"};
				char msg[96];
				snprintf(msg, sizeof(msg), "%s repeated within the file",
				         names[kind]);
				import_error(err, r.line, names[kind], msg);
				rc = -EEXIST;
			} else if (ix_reserve(reg, &seen[kind], kind, 1) != 0) {
				rc = -ENOMEM;
			} else {
				ix_put_nogrow(reg, &seen[kind], kind, slot);
			}
		}
		if (progress && n % 10000 == 0)
			progress(progress_ctx, "check", n);
	}
	if (rc == 0 && got < 0) {
		import_error(err, r.line, "", reason);
		rc = -EINVAL;
	}
	for (int kind = 0; kind < IDX_COUNT; kind++)
		free(seen[kind].cells);
	csv_free(&r);

	/* Pass 2: write every staged row in one transaction. */
	if (rc == 0 && n) {
		if (fseek(f, 0, SEEK_SET) != 0) {
			rc = -EIO;
		} else {
			csv_init(&r, f);
			csv_next(&r, reason, sizeof(reason)); /* header, checked above */
			store_lock(reg->st);
			rc = store_begin(reg->st);
			for (size_t i = 0; rc == 0 && i < n; i++) {
				struct hlr_subscr_new in;
				if (csv_next(&r, reason, sizeof(reason)) != 1 ||
				    import_row(reg, &r, &cols, &in, err) != 0) {
					import_error(err, r.line, "",
					             "file changed during the import");
					rc = -EIO;
					break;
				}
				OPENSSL_cleanse(in.k, sizeof(in.k));
				OPENSSL_cleanse(in.op, sizeof(in.op));
				rc = row_insert(reg, slot_rec(reg, slots[i]), &in.holder, now);
				if (rc == 0 && in.sip_password[0]) {
					struct hlr_sip_cred cred;
					struct hlr_field_error ferr;
					in.rec.msisdn = slot_rec(reg, slots[i])->msisdn;
					rc = sip_cred_of_input(reg, &in, &cred, &ferr);
					if (rc == -EINVAL)
						import_error(err, r.line, ferr.field, ferr.msg);
					if (rc == 0)
						rc = hlr_sip_cred_row_put(reg->st, &cred,
						                          reg->sip_realm, now);
					if (rc == 0 && hlr_sip_creds_put(reg->creds, &cred) != 0)
						rc = -ENOMEM;
					OPENSSL_cleanse(&cred, sizeof(cred));
				}
				OPENSSL_cleanse(in.sip_password, sizeof(in.sip_password));
				if (progress && (i + 1) % 10000 == 0)
					progress(progress_ctx, "write", i + 1);
			}
			if (rc == 0)
				rc = store_commit(reg->st);
			if (rc != 0) {
				store_rollback(reg->st);
				if (rc == -EEXIST)
					import_error(err, 0, "imsi", "already in the store");
			}
			store_unlock(reg->st);
			csv_free(&r);
		}
	}

	if (rc == 0 && n) {
		pthread_rwlock_wrlock(&reg->lock);
		rc = index_reserve_all(reg, n);
		if (rc == 0) {
			for (size_t i = 0; i < n; i++)
				index_add_all(reg, slots[i]);
			reg->count += n;
			reg->next_id += n;
		}
		pthread_rwlock_unlock(&reg->lock);
		if (rc != 0)
			LOGE("hlr", "import stored %zu subscribers but could not index them", n);
	}
	if (rc == 0) {
		free(slots);
		*imported = n;
		LOGN("hlr", "imported %zu subscribers", n);
	} else {
		import_release(reg, slots, n);
	}
	pthread_mutex_unlock(&reg->write_mutex);
	return rc;
}

/* --- GSUP: serving nodes, IMEI, peers -------------------------------------- */

int hlr_registry_peer_ind(struct hlr_registry *reg, const char *name, unsigned *ind)
{
	struct store_stmt *s;
	int rc, step;
	store_lock(reg->st);
	rc = store_prepare(reg->st, "SELECT ind FROM gsup_peer WHERE name = $1", &s);
	if (rc == 0) {
		store_bind_text(s, 1, name);
		step = store_step(s);
		if (step == STORE_ROW)
			*ind = (unsigned)store_col_int64(s, 0);
		store_reset(s);
		if (step == STORE_ROW)
			goto out;
		rc = step == STORE_DONE ? 0 : -EIO;
	}
	/* A new name takes the next slot: 1 for the first, as osmo-hlr does. */
	if (rc == 0)
		rc = store_prepare(reg->st,
		                   "INSERT INTO gsup_peer (name, ind, first_seen) SELECT $1, "
		                   "coalesce(max(ind), 0) + 1, $2 FROM gsup_peer RETURNING ind",
		                   &s);
	if (rc == 0) {
		store_bind_text(s, 1, name);
		store_bind_int64(s, 2, clock_now());
		step = store_step(s);
		if (step == STORE_ROW)
			*ind = (unsigned)store_col_int64(s, 0);
		else
			rc = -EIO;
		while (step == STORE_ROW)
			step = store_step(s);
		store_reset(s);
	}
out:
	store_unlock(reg->st);
	return rc;
}

int hlr_subscr_set_serving(struct hlr_registry *reg, uint64_t imsi, enum hlr_domain d,
                           const char *node, const char *only_if_node, uint16_t *previous)
{
	struct hlr_subscr rec;
	if (hlr_subscr_get_by_imsi(reg, imsi, &rec) != 0)
		return -ENOENT;
	uint16_t before = d == HLR_DOMAIN_CS ? rec.vlr_id : rec.sgsn_id;
	if (previous)
		*previous = before;
	if (only_if_node && before != node_intern(reg, only_if_node))
		return 0;
	uint16_t after = node_intern(reg, node);

	struct store_stmt *s;
	int rc;
	store_lock(reg->st);
	rc = store_prepare(
	    reg->st,
	    d == HLR_DOMAIN_CS
	        ? "UPDATE subscriber SET vlr_name = $2, vlr_updated_at = $3 WHERE id = $1"
	        : "UPDATE subscriber SET sgsn_name = $2, sgsn_updated_at = $3 WHERE id = $1",
	    &s);
	if (rc == 0) {
		store_bind_int64(s, 1, (int64_t)rec.id);
		store_bind_text(s, 2, node && *node ? node : NULL);
		store_bind_int64(s, 3, clock_now());
		rc = store_step(s) == STORE_DONE ? 0 : -EIO;
		store_reset(s);
	}
	store_unlock(reg->st);
	if (rc != 0)
		return rc;

	pthread_rwlock_wrlock(&reg->lock);
	struct key ik = {imsi, 0, 0};
	uint32_t slot = index_find(reg, IDX_IMSI, &ik);
	if (slot != UINT32_MAX) {
		if (d == HLR_DOMAIN_CS)
			slot_rec(reg, slot)->vlr_id = after;
		else
			slot_rec(reg, slot)->sgsn_id = after;
	}
	pthread_rwlock_unlock(&reg->lock);
	return 0;
}

void hlr_registry_on_change(struct hlr_registry *reg, hlr_change_fn fn, void *ctx)
{
	pthread_mutex_lock(&reg->write_mutex);
	reg->on_change = fn;
	reg->on_change_ctx = ctx;
	pthread_mutex_unlock(&reg->write_mutex);
}

void hlr_registry_set_queue(struct hlr_registry *reg, struct store_queue *q)
{
	reg->queue = q;
}

/* One statement, synchronously. Returns 0 or a negative errno. */
static int write_now(struct hlr_registry *reg, const char *sql, const struct store_param *p,
                     unsigned n)
{
	struct store_stmt *s;
	store_lock(reg->st);
	int rc = store_prepare(reg->st, sql, &s);
	for (unsigned i = 0; rc == 0 && i < n; i++) {
		if (p[i].type == STORE_PARAM_INT)
			store_bind_int64(s, (int)i + 1, p[i].i);
		else if (p[i].type == STORE_PARAM_TEXT)
			store_bind_text(s, (int)i + 1, p[i].text);
		else
			store_bind_null(s, (int)i + 1);
	}
	if (rc == 0) {
		rc = store_step(s) == STORE_DONE ? 0 : -EIO;
		store_reset(s);
	}
	store_unlock(reg->st);
	return rc;
}

/* Writes through the group commit, or synchronously when there is none; done is
 * called either way (also when the queue refuses the write). */
static void durable_write(struct hlr_registry *reg, const char *sql, const struct store_param *p,
                          unsigned n, store_done_fn done, void *ctx)
{
	int rc = reg->queue ? store_queue_submit(reg->queue, sql, p, n, done, ctx)
	                    : write_now(reg, sql, p, n);
	if ((!reg->queue || rc != 0) && done)
		done(ctx, rc);
}

int hlr_subscr_set_serving_durable(struct hlr_registry *reg, uint64_t imsi, enum hlr_domain d,
                                   const char *node, const char *only_if_node, uint16_t *previous,
                                   store_done_fn done, void *ctx)
{
	uint16_t after = node_intern(reg, node);
	uint16_t expected = only_if_node ? node_intern(reg, only_if_node) : 0;
	uint64_t id = 0;
	uint16_t before = 0;
	bool changed = true;
	/* The message path takes only the shared lock: the serving node is one
	 * atomic field of the record. */
	pthread_rwlock_rdlock(&reg->lock);
	struct key ik = {imsi, 0, 0};
	uint32_t slot = index_find(reg, IDX_IMSI, &ik);
	if (slot != UINT32_MAX) {
		struct hlr_subscr *r = slot_rec(reg, slot);
		id = r->id;
		uint16_t *field = d == HLR_DOMAIN_CS ? &r->vlr_id : &r->sgsn_id;
		if (only_if_node) {
			before = expected;
			changed = __atomic_compare_exchange_n(field, &before, after, false,
			                                      __ATOMIC_RELAXED, __ATOMIC_RELAXED);
		} else {
			before = __atomic_exchange_n(field, after, __ATOMIC_RELAXED);
		}
	}
	pthread_rwlock_unlock(&reg->lock);
	if (slot == UINT32_MAX)
		return -ENOENT;
	if (previous)
		*previous = before;
	if (!changed) {
		if (done)
			done(ctx, 0); /* another node serves: nothing to write */
		return 0;
	}
	struct store_param p[3] = {{.type = STORE_PARAM_INT, .i = (int64_t)id},
	                           {.type = node && *node ? STORE_PARAM_TEXT : STORE_PARAM_NULL},
	                           {.type = STORE_PARAM_INT, .i = clock_now()}};
	if (node)
		snprintf(p[1].text, sizeof(p[1].text), "%s", node);
	durable_write(
	    reg,
	    d == HLR_DOMAIN_CS
	        ? "UPDATE subscriber SET vlr_name = $2, vlr_updated_at = $3 WHERE id = $1"
	        : "UPDATE subscriber SET sgsn_name = $2, sgsn_updated_at = $3 WHERE id = $1",
	    p, 3, done, ctx);
	return 0;
}

int hlr_subscr_sqn_end_durable(struct hlr_registry *reg, const struct hlr_subscr *rec,
                               uint64_t new_sqn, store_done_fn done, void *ctx)
{
	pthread_mutex_t *m = &reg->sqn_locks[rec->imsi % SQN_STRIPES];
	pthread_rwlock_rdlock(&reg->lock);
	struct key ik = {rec->imsi, 0, 0};
	uint32_t slot = index_find(reg, IDX_IMSI, &ik);
	if (slot != UINT32_MAX)
		__atomic_store_n(&slot_rec(reg, slot)->sqn, new_sqn, __ATOMIC_RELAXED);
	pthread_rwlock_unlock(&reg->lock);
	/* Written or queued while the stripe is held: the writes for one subscriber
	 * reach the store in the order their SQNs were taken. */
	struct store_param p[2] = {{.type = STORE_PARAM_INT, .i = (int64_t)rec->id},
	                           {.type = STORE_PARAM_INT, .i = (int64_t)new_sqn}};
	static const char sql[] = "UPDATE subscriber SET sqn = $2 WHERE id = $1";
	int rc = reg->queue ? store_queue_submit(reg->queue, sql, p, 2, done, ctx)
	                    : write_now(reg, sql, p, 2);
	if (reg->queue && rc != 0 && slot != UINT32_MAX) {
		/* Nothing queued: memory goes back to the SQN the store has, before
		 * anyone else may take the next one. */
		pthread_rwlock_rdlock(&reg->lock);
		slot = index_find(reg, IDX_IMSI, &ik);
		if (slot != UINT32_MAX)
			__atomic_store_n(&slot_rec(reg, slot)->sqn, rec->sqn, __ATOMIC_RELAXED);
		pthread_rwlock_unlock(&reg->lock);
	}
	pthread_mutex_unlock(m);
	if (!reg->queue) {
		/* A failed write leaves memory ahead of the store, which is safe: the
		 * caller withholds the vectors, and a higher SQN only skips numbers. */
		if (done)
			done(ctx, rc);
		return 0;
	}
	return rc;
}

int hlr_subscr_set_imei_durable(struct hlr_registry *reg, uint64_t imsi, const char *imei,
                                store_done_fn done, void *ctx)
{
	struct hlr_subscr rec;
	if (hlr_subscr_get_by_imsi(reg, imsi, &rec) != 0)
		return -ENOENT;
	struct store_param p[3] = {{.type = STORE_PARAM_INT, .i = (int64_t)rec.id},
	                           {.type = STORE_PARAM_TEXT},
	                           {.type = STORE_PARAM_INT, .i = clock_now()}};
	snprintf(p[1].text, sizeof(p[1].text), "%s", imei);
	durable_write(reg, "UPDATE subscriber SET imei = $2, imei_updated_at = $3 WHERE id = $1", p,
	              3, done, ctx);
	return 0;
}

/* --- SIP digest credentials ------------------------------------------------- */

int hlr_registry_set_sip_realm(struct hlr_registry *reg, const char *realm)
{
	if (strlen(realm) >= sizeof(reg->sip_realm))
		return -EINVAL;
	snprintf(reg->sip_realm, sizeof(reg->sip_realm), "%s", realm);
	uint64_t dropped = 0;
	store_lock(reg->st);
	int rc = hlr_sip_creds_load(reg->creds, reg->st, realm, &dropped);
	store_unlock(reg->st);
	if (dropped)
		LOGW("hlr",
		     "%" PRIu64 " SIP passwords were set for another realm than %s (sip.domain "
		     "changed?): those subscribers need a new password",
		     dropped, realm);
	return rc;
}

int hlr_subscr_set_sip_password(struct hlr_registry *reg, uint64_t imsi, const char *password,
                                struct hlr_field_error *err)
{
	struct hlr_subscr rec;
	if (hlr_subscr_get_by_imsi(reg, imsi, &rec) != 0)
		return -ENOENT;
	struct hlr_sip_cred cred = {0};
	if (password) {
		if (!hlr_sip_password_valid(password)) {
			hlr_field_error_set(err, "sip_password",
			                    "must be 8 to 128 printable ASCII characters");
			return -EINVAL;
		}
		if (!rec.msisdn) {
			hlr_field_error_set(err, "sip_password",
			                    "the subscriber needs an MSISDN (the digest username)");
			return -EINVAL;
		}
		if (!reg->sip_realm[0]) {
			hlr_field_error_set(err, "sip_password",
			                    "SIP is not configured (no sip.domain)");
			return -EINVAL;
		}
		if (hlr_sip_cred_make(imsi, rec.msisdn, reg->sip_realm, password, &cred) != 0)
			return -EIO;
	}
	pthread_mutex_lock(&reg->write_mutex);
	store_lock(reg->st);
	int rc = password ? hlr_sip_cred_row_put(reg->st, &cred, reg->sip_realm, clock_now())
	                  : hlr_sip_cred_row_del(reg->st, imsi);
	store_unlock(reg->st);
	if (rc == 0) {
		if (password)
			rc = hlr_sip_creds_put(reg->creds, &cred);
		else
			hlr_sip_creds_del(reg->creds, imsi);
	}
	pthread_mutex_unlock(&reg->write_mutex);
	OPENSSL_cleanse(&cred, sizeof(cred));
	if (rc == 0)
		LOGI("hlr", "IMSI='%" PRIu64 "': SIP password %s", imsi,
		     password ? "set" : "cleared");
	return rc;
}

bool hlr_subscr_has_sip_password(struct hlr_registry *reg, uint64_t imsi)
{
	struct hlr_sip_cred cred;
	bool has = hlr_sip_creds_get(reg->creds, imsi, &cred) == 0;
	OPENSSL_cleanse(&cred, sizeof(cred));
	return has;
}

int hlr_subscr_sip_ha1(struct hlr_registry *reg, uint64_t imsi, bool sha256, char out[65],
                       uint64_t *username)
{
	struct hlr_sip_cred cred;
	if (hlr_sip_creds_get(reg->creds, imsi, &cred) != 0)
		return -ENOENT;
	if (sha256)
		memcpy(out, cred.ha1_sha256, 65);
	else
		memcpy(out, cred.ha1_md5, 33);
	if (username)
		*username = cred.username;
	OPENSSL_cleanse(&cred, sizeof(cred));
	return 0;
}

size_t hlr_registry_foreach_served(struct hlr_registry *reg, enum hlr_domain d, int class_id,
                                   hlr_subscr_fn fn, void *ctx)
{
	/* Copies a chunk's matches under the read lock, then calls out without it. */
	struct hlr_subscr batch[256];
	size_t total = 0;
	for (uint32_t start = 0;; start += 256) {
		size_t n = 0;
		pthread_rwlock_rdlock(&reg->lock);
		uint32_t end = reg->n_slots;
		for (uint32_t s = start; s < end && s < start + 256; s++) {
			const struct hlr_subscr *r = slot_rec(reg, s);
			uint16_t node = d == HLR_DOMAIN_CS ? r->vlr_id : r->sgsn_id;
			if (r->imsi && node && (class_id < 0 || r->class_id == class_id))
				batch[n++] = *r;
		}
		pthread_rwlock_unlock(&reg->lock);
		for (size_t i = 0; i < n; i++) {
			memset(batch[i].keys_sealed, 0, sizeof(batch[i].keys_sealed));
			fn(ctx, &batch[i]);
		}
		total += n;
		if (start + 256 >= end)
			break;
	}
	return total;
}
