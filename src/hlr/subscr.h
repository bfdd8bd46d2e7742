#pragma once
/* Subscribers: the in-memory record the message path reads, the full record the
 * operator sees, and the validated input that creates one. */

#include <stdbool.h>
#include <stdint.h>

#include "crypto/secretbox.h"

enum hlr_subscr_status {
	HLR_STATUS_PENDING,
	HLR_STATUS_ACTIVE,
	HLR_STATUS_SUSPENDED,
	HLR_STATUS_TERMINATED,
	HLR_STATUS_COUNT
};

const char *hlr_status_name(enum hlr_subscr_status s);
/* Returns 0, or -EINVAL for an unknown name. */
int hlr_status_parse(const char *name, enum hlr_subscr_status *out);

/* An ICCID of up to 22 digits: hi * 10^18 + lo, with its digit count so that
 * leading zeros (if any) survive. All zero means none. */
struct hlr_iccid {
	uint64_t hi, lo;
	uint8_t len;
};

#define HLR_KEYS_LEN        32 /* K || OP-or-OPc */
#define HLR_KEYS_SEALED_LEN (HLR_KEYS_LEN + SECRETBOX_OVERHEAD)

/* The in-memory record: what the message path needs and nothing more (about 128
 * bytes, so that 5 M subscribers fit in well under a gigabyte). Holder data and
 * times live in the store only. */
struct hlr_subscr {
	uint64_t id;
	uint64_t imsi;
	uint64_t msisdn; /* 0: none */
	struct hlr_iccid iccid;
	uint64_t sqn; /* last SQN used */
	uint8_t keys_sealed[HLR_KEYS_SEALED_LEN];
	uint8_t amf[2];
	uint8_t class_id; /* index into the profile's classes */
	uint8_t status;   /* enum hlr_subscr_status */
	uint8_t ind_bitlen;
	uint8_t op_is_opc;
	uint16_t city_id; /* 0: none, else 1 + index into the profile's cities */
	uint16_t vlr_id;  /* serving VLR (CS): 0 none, else a registry node id */
	uint16_t sgsn_id; /* serving SGSN (PS): likewise */
};

enum hlr_domain { HLR_DOMAIN_CS, HLR_DOMAIN_PS };

/* Holder and bookkeeping fields kept in the store only. */
struct hlr_subscr_holder {
	char name[129];
	char id_document[65];
	char nationality[4];
};

/* A subscriber as the operator sees it (no secrets). */
struct hlr_subscr_info {
	struct hlr_subscr rec; /* keys_sealed is zeroed */
	struct hlr_subscr_holder holder;
	int64_t created_at;
	int64_t activated_at; /* 0: never */
	char vlr_name[64];    /* "" when not attached */
	int64_t vlr_updated_at;
	char sgsn_name[64];
	int64_t sgsn_updated_at;
	char imei[17];
	int64_t imei_updated_at;
};

/* Validated input for a new subscriber (secrets in clear: wipe after use). */
struct hlr_subscr_new {
	struct hlr_subscr rec; /* keys_sealed unused: filled by the registry */
	struct hlr_subscr_holder holder;
	uint8_t k[16];
	uint8_t op[16];         /* OP or OPc, as rec.op_is_opc says */
	char sip_password[129]; /* "" for none; the registry keeps only its HA1s */
};

/* Which field of an input was wrong, and why. */
struct hlr_field_error {
	char field[32];
	char msg[160];
};

/* Formatting of the numeric identities back to digit strings (out >= 24 bytes). */
void hlr_imsi_format(uint64_t imsi, char *out);
void hlr_iccid_format(const struct hlr_iccid *iccid, char *out);
/* Parsing: 0, or -EINVAL. */
int hlr_imsi_parse(const char *s, uint64_t *out);
int hlr_msisdn_parse(const char *s, uint64_t *out); /* optional leading '+' */
int hlr_iccid_parse(const char *s, struct hlr_iccid *out);
bool hlr_iccid_eq(const struct hlr_iccid *a, const struct hlr_iccid *b);
