#pragma once
/* The subscriber registry: every subscriber in memory, indexed by IMSI, MSISDN and
 * ICCID, backed by the store. Writes go to the store first and reach memory only
 * once committed, so what the registry answers is always durable.
 *
 * Locking: lookups take a shared lock for the copy only; writers (create, update,
 * delete, import) are serialised among themselves and take the exclusive lock only
 * to publish. Records are handed out as copies, never as pointers. */

#include <stdint.h>
#include <stdio.h>

#include "hlr/profile.h"
#include "hlr/subscr.h"
#include "hlr/subscr_input.h"
#include "store/store_queue.h"

struct store;
struct hlr_registry;

/* Loads every subscriber from the store. profile must outlive the registry;
 * master_key is copied. Returns 0, -ENOMEM, -EIO. */
int hlr_registry_open(struct store *st, const struct hlr_profile *profile,
                      const uint8_t master_key[32], struct hlr_registry **out);
void hlr_registry_close(struct hlr_registry *reg);

/* The IND bit length given to imported subscribers whose row names none. */
void hlr_registry_set_default_ind_bitlen(struct hlr_registry *reg, unsigned bits);
unsigned hlr_registry_default_ind_bitlen(const struct hlr_registry *reg);

const struct hlr_profile *hlr_registry_profile(const struct hlr_registry *reg);
struct store *hlr_registry_store(const struct hlr_registry *reg);
size_t hlr_registry_count(struct hlr_registry *reg);
/* counts[class_id][status] for every class of the profile (HLR_MAX_CLASSES rows). */
void hlr_registry_count_by_class_status(struct hlr_registry *reg,
                                        uint64_t counts[HLR_MAX_CLASSES][HLR_STATUS_COUNT]);

/* Lookups: 0 with a copy in *out, or -ENOENT. */
int hlr_subscr_get_by_imsi(struct hlr_registry *reg, uint64_t imsi, struct hlr_subscr *out);
int hlr_subscr_get_by_msisdn(struct hlr_registry *reg, uint64_t msisdn, struct hlr_subscr *out);
int hlr_subscr_get_by_iccid(struct hlr_registry *reg, const struct hlr_iccid *iccid,
                            struct hlr_subscr *out);
/* The subscriber a number names in any form the profile's dialling plan
 * allows: international ("+850191..." or with the international prefix),
 * national (with the trunk prefix), as stored, or (without '+', 14 digits
 * or more, of the home PLMN) an IMSI. Visual separators "-.()" are skipped.
 * len counts the octets of number. 0 and *out, or -ENOENT. */
int hlr_subscr_get_by_number(struct hlr_registry *reg, const char *number, size_t len,
                             struct hlr_subscr *out);

/* The full record (holder, times) of the subscriber with this IMSI, from the store.
 * 0, -ENOENT, -EIO. */
int hlr_subscr_info_get(struct hlr_registry *reg, uint64_t imsi, struct hlr_subscr_info *out);

/* Creates a subscriber from validated input (its secrets are wiped). 0 with the new
 * record in *out (may be NULL); -EEXIST with err naming imsi, msisdn or iccid; -EIO. */
int hlr_subscr_create(struct hlr_registry *reg, struct hlr_subscr_new *in,
                      struct hlr_subscr_info *out, struct hlr_field_error *err);

/* A partial update: only the members whose set_ flag is true change. */
struct hlr_subscr_change {
	bool set_status, set_class, set_msisdn, set_city, set_name, set_id_document,
	    set_nationality;
	uint8_t status, class_id;
	uint64_t msisdn;  /* 0 clears */
	uint16_t city_id; /* 0 clears */
	struct hlr_subscr_holder holder;
};

/* 0 with the updated record in *out (may be NULL); -ENOENT; -EEXIST (msisdn in use,
 * err set); -EIO. */
int hlr_subscr_update(struct hlr_registry *reg, uint64_t imsi, const struct hlr_subscr_change *chg,
                      struct hlr_subscr_info *out, struct hlr_field_error *err);

/* 0, -ENOENT, -EIO. */
int hlr_subscr_delete(struct hlr_registry *reg, uint64_t imsi);

/* Lists subscribers in IMSI order after `after` (0: from the start), at most limit,
 * filtered by class/status/city when the filter's value is >= 0. Calls fn for each;
 * returns the number listed, or -EIO. */
struct hlr_subscr_filter {
	int class_id, status, city_id;
};
typedef void (*hlr_subscr_list_fn)(void *ctx, const struct hlr_subscr_info *info);
int hlr_subscr_list(struct hlr_registry *reg, const struct hlr_subscr_filter *filter,
                    uint64_t after, unsigned limit, hlr_subscr_list_fn fn, void *ctx);

/* Where an import failed: line 1 is the header; column names the CSV column. */
struct hlr_import_error {
	unsigned line;
	char column[32];
	char msg[160];
};
/* Progress callback for long imports: rows checked so far, phase "check" or "write". */
typedef void (*hlr_import_progress_fn)(void *ctx, const char *phase, uint64_t rows);

/* Imports the CSV in f (format: docs/import.md), all or nothing. Reads f twice (it
 * must be seekable). 0 with *imported set; -EINVAL (bad row: err set, nothing
 * written); -EEXIST (duplicate: err set, nothing written); -EIO; -ENOMEM. */
int hlr_subscr_import_csv(struct hlr_registry *reg, FILE *f, uint64_t *imported,
                          struct hlr_import_error *err, hlr_import_progress_fn progress,
                          void *progress_ctx);

/* Opens the sealed K and OP/OPc of rec. Returns 0 with *k and *op filled (the caller
 * wipes them), or -EBADMSG if the seal does not open under the master key. */
int hlr_subscr_keys_open(struct hlr_registry *reg, const struct hlr_subscr *rec, uint8_t k[16],
                         uint8_t op[16]);

/* --- GSUP: serving nodes, IMEI, peers ------------------------------------ */

/* The node (VLR/SGSN IPA name) with registry node id `id`, or NULL. Node ids are
 * small numbers given to names as they appear; the string lives as long as the
 * registry. */
const char *hlr_registry_node_name(struct hlr_registry *reg, uint16_t id);

/* The persistent SQN IND slot of a GSUP peer name (TS 33.102 Annex C): 1 for the
 * first name ever seen, 2 for the next... (as osmo-hlr). 0 with *ind, or -EIO. */
int hlr_registry_peer_ind(struct hlr_registry *reg, const char *name, unsigned *ind);

/* Records that `node` (NULL: nobody) serves the subscriber in domain d since now,
 * durably. If only_if_node is not NULL, changes nothing unless the current node
 * is that one (for PurgeMS). 0, -ENOENT, -EIO. *previous (may be NULL) receives
 * the node id that served before. */
int hlr_subscr_set_serving(struct hlr_registry *reg, uint64_t imsi, enum hlr_domain d,
                           const char *node, const char *only_if_node, uint16_t *previous);

/* Stores the IMEI (14 to 16 digits) last seen for the subscriber through the
 * group commit; done(ctx, rc) once durable (see hlr_subscr_set_serving_durable).
 * Returns 0 (done will be called), or -ENOENT (it won't). */
int hlr_subscr_set_imei_durable(struct hlr_registry *reg, uint64_t imsi, const char *imei,
                                store_done_fn done, void *ctx);

/* Group commit for the message path's writes (SQN advances, location updates).
 * Without a queue those writes are synchronous. Set before traffic starts. */
void hlr_registry_set_queue(struct hlr_registry *reg, struct store_queue *q);

/* As hlr_subscr_set_serving() (only_if_node likewise: if another node serves,
 * nothing changes and done reports 0), but for the message path: memory changes now, the
 * store write joins the group commit, and done(ctx, rc) is called once it is
 * durable (or failed), on the queue's thread, or before this returns if the
 * registry has no queue. Returns 0 (done will be called), or -ENOENT (it won't). */
int hlr_subscr_set_serving_durable(struct hlr_registry *reg, uint64_t imsi, enum hlr_domain d,
                                   const char *node, const char *only_if_node, uint16_t *previous,
                                   store_done_fn done, void *ctx);

/* Calls fn (outside the registry's locks) with a copy of every subscriber
 * served in domain d (a VLR or SGSN is recorded), of class class_id (-1: any).
 * Returns the number of calls. For pushes after a policy change. */
typedef void (*hlr_subscr_fn)(void *ctx, const struct hlr_subscr *rec);
size_t hlr_registry_foreach_served(struct hlr_registry *reg, enum hlr_domain d, int class_id,
                                   hlr_subscr_fn fn, void *ctx);

/* A rule on which numbers a class may hold (the policy's reserved ranges):
 * returns 0 to allow, or -EPERM with a sentence in reason. Asked by create,
 * update (a new MSISDN or class) and import for every subscriber with an
 * MSISDN. One check; registering again replaces it. Set before traffic. */
typedef int (*hlr_number_check_fn)(void *ctx, unsigned class_id, uint64_t msisdn, char *reason,
                                   size_t cap);
void hlr_registry_set_number_check(struct hlr_registry *reg, hlr_number_check_fn fn, void *ctx);

/* Called after every change the operator makes to a subscriber (class, status,
 * MSISDN, deletion), outside the registry's locks, on the API's thread. after is
 * NULL for a deletion. One callback; registering again replaces it. */
typedef void (*hlr_change_fn)(void *ctx, const struct hlr_subscr *before,
                              const struct hlr_subscr *after);
void hlr_registry_on_change(struct hlr_registry *reg, hlr_change_fn fn, void *ctx);

/* Checks that the master key opens the sealed keys of a stored subscriber (any
 * one), so that a wrong key file is noticed at start and not at the first
 * authentication. 0 (also for an empty registry), or -EBADMSG. */
int hlr_registry_check_master_key(struct hlr_registry *reg);

/* SQN updates for the AuC: the subscriber's SQN is locked between begin and end so
 * that concurrent requests for one subscriber advance it one after the other.
 * begin: 0 with a copy of the record, or -ENOENT (nothing locked). end: persists
 * new_sqn (durably) when it differs and unlocks; 0 or -EIO (memory then keeps the
 * old SQN). */
int hlr_subscr_sqn_begin(struct hlr_registry *reg, uint64_t imsi, struct hlr_subscr *rec);
int hlr_subscr_sqn_end(struct hlr_registry *reg, const struct hlr_subscr *rec, uint64_t new_sqn);

/* As hlr_subscr_sqn_end(), but memory takes new_sqn at once (so the next request
 * continues from it), the store write joins the group commit, and done(ctx, rc)
 * is called once it is durable (see hlr_subscr_set_serving_durable). Vectors
 * must not leave before done reports 0. Returns 0, or -ENOMEM (nothing changed,
 * unlocked, done not called). */
int hlr_subscr_sqn_end_durable(struct hlr_registry *reg, const struct hlr_subscr *rec,
                               uint64_t new_sqn, store_done_fn done, void *ctx);

/* --- SIP digest credentials (docs/sip-auth.md) ------------------------------ */

/* The digest realm (sip.domain) the HA1s are made for. Set before traffic and
 * before any password is set; stored HA1s of another realm are dropped at
 * load (logged: their passwords must be set again). */
int hlr_registry_set_sip_realm(struct hlr_registry *reg, const char *realm);

/* Sets (password: 8 to 128 printable ASCII characters) or clears (NULL) the
 * subscriber's SIP password. The store keeps only HA1 = H(MSISDN:realm:password)
 * for MD5 and SHA-256: the digest username is the subscriber's MSISDN at the
 * time the password is set (a new MSISDN needs a new password). Returns 0,
 * -ENOENT, -EINVAL (err names sip_password: bad password, or no MSISDN), -EIO. */
int hlr_subscr_set_sip_password(struct hlr_registry *reg, uint64_t imsi, const char *password,
                                struct hlr_field_error *err);

/* Whether the subscriber has a SIP password. */
bool hlr_subscr_has_sip_password(struct hlr_registry *reg, uint64_t imsi);

/* The stored HA1 (lowercase hex: 32 digits for MD5, 64 for SHA-256) and the
 * digest username (an MSISDN) it was made for. 0, or -ENOENT (no password). */
int hlr_subscr_sip_ha1(struct hlr_registry *reg, uint64_t imsi, bool sha256, char out[65],
                       uint64_t *username);
