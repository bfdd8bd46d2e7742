#pragma once
/* The policy engine (docs/policy.md): who may call and text whom and use
 * which data network, as data: number analysis (dialling rules), rights per
 * subscriber class, network-wide switches, an audit trail of every change.
 * It knows no protocol: the SIP proxy and the GSUP server ask it, and
 * subscribe to its changes to end what a change no longer allows.
 *
 * Thread-safe: lookups take a shared lock; changes are serialised, durable
 * (and audited) before they are visible, then announced to subscribers
 * outside the locks. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store_audit.h"

struct store;
struct hlr_profile;
struct policy;

/* Installs the policy files of a profile directory (numbering.csv,
 * rights.csv, switches.csv, apn_switches.csv; docs/policy.md) into an empty
 * policy. Returns 0, or -1 with "FILE:LINE: reason" in err and nothing
 * written. A directory without them installs an empty policy (which refuses
 * every call: the default is deny). The caller holds no store lock. */
int policy_install(struct store *st, const struct hlr_profile *profile, const char *dir, char *err,
                   size_t errcap);

/* Loads the policy from the store. profile must outlive it. 0, -ENOMEM, -EIO. */
int policy_open(struct store *st, const struct hlr_profile *profile, struct policy **out);
void policy_close(struct policy *p);

enum policy_service {
	POLICY_VOICE,
	POLICY_SMS,
};

/* What number analysis made of a dialled number. */
enum policy_dest_kind {
	POLICY_DEST_NATIONAL,      /* a number of the home country */
	POLICY_DEST_INTERNATIONAL, /* another country */
	POLICY_DEST_SHORT_CODE,    /* a service code of the network (e.g. 123) */
	POLICY_DEST_RESERVED,      /* a reserved range: only its own group reaches it */
	POLICY_DEST_INVALID,       /* not a number */
};

struct policy_dest {
	enum policy_dest_kind kind;
	char e164[20];  /* international form without '+', "" for short codes */
	char range[32]; /* the numbering rule that matched (numbering.csv name) */
	char code[16];  /* short codes: the code ("123" for "*123*1234#"), else "" */
};

/* Number analysis of a dialled string (a Request-URI user: "+850...",
 * "00850...", "0191...", "123", visual separators allowed). Returns 0. */
int policy_analyse(struct policy *p, const char *dialled, struct policy_dest *out);

struct policy_verdict {
	bool allowed;
	char rule[64];    /* the rule that decided (rights.csv row, switch, default) */
	char reason[128]; /* a short sentence for the refusal ("citizens may not call
	                     international numbers"), also used as a SIP reason */
};

/* May a subscriber of caller_class use svc towards dest? callee_class is the
 * class of the on-net subscriber the number belongs to, or -1 (off-net or
 * unknown). Fills v; returns 0. */
int policy_check(struct policy *p, unsigned caller_class, enum policy_service svc,
                 const struct policy_dest *dest, int callee_class, struct policy_verdict *v);

/* May subscribers of class_id use this APN now (the class's APNs, gated by
 * the switches of apn_switches.csv)? */
bool policy_apn_allowed(struct policy *p, unsigned class_id, const char *apn);

/* A change that took effect: who must look again. class_id -1: every class. */
struct policy_change {
	int class_id;
	bool rights;   /* calls/SMS rights may have changed: re-check sessions */
	bool apns;     /* APN availability may have changed: re-send subscriber data */
	char what[96]; /* "switch foreigner_internet off", for logs */
};
typedef void (*policy_change_fn)(void *ctx, const struct policy_change *chg);

/* Adds a subscriber to changes (at most 8; called on the changing thread,
 * outside the engine's locks). 0 or -ENOSPC. */
int policy_subscribe(struct policy *p, policy_change_fn fn, void *ctx);

/* --- added for the operator (API and CLI): reading and changing the policy --- */

#define POLICY_NAME_MAX   32  /* rule, switch and class names, with the NUL */
#define POLICY_REASON_MAX 128 /* a refusal's sentence, with the NUL */
#define POLICY_ACTOR_MAX  STORE_AUDIT_ACTOR_MAX
#define POLICY_AUDIT_MAX  STORE_AUDIT_MAX

/* A dialling rule (numbering.csv). kind: national, international,
 * reserved, short_code or international_prefix. */
struct policy_numbering_rule {
	char name[POLICY_NAME_MAX];
	char kind[24];
	char prefix[16];     /* E.164 digits; for short_code the code's digits;
	                        for international_prefix the dialled prefix */
	unsigned min_length; /* digits of the whole number (0 for prefixes) */
	unsigned max_length;
	char group[POLICY_NAME_MAX]; /* reserved: the class that may reach it */
	char description[POLICY_REASON_MAX];
};

/* A right (rights.csv): rules are tried in priority order, the first that
 * matches decides; none matching is a refusal by rule "default". */
struct policy_right {
	char name[POLICY_NAME_MAX];
	int64_t priority;                   /* unique; lower is tried first */
	char caller_class[POLICY_NAME_MAX]; /* a class or "*" */
	char service[8];                    /* voice, sms or "*" */
	char destination[POLICY_NAME_MAX];  /* a kind (national, international,
	                                       short_code, reserved), a numbering
	                                       rule's name, or "*" */
	char callee_class[POLICY_NAME_MAX]; /* a class, "none" (off-net, unknown) or "*" */
	bool allow;
	char switch_name[POLICY_NAME_MAX]; /* "": always; else only while that switch is on */
	char reason[POLICY_REASON_MAX];
};

struct policy_switch {
	char name[POLICY_NAME_MAX];
	bool enabled;
	char description[POLICY_REASON_MAX];
	int64_t updated_at; /* seconds since the epoch; 0: as installed */
};

/* An APN of a class that is usable only while a switch is on (apn_switches.csv). */
struct policy_apn_switch {
	char class_name[POLICY_NAME_MAX];
	char apn[64];
	char switch_name[POLICY_NAME_MAX];
};

/* Copies of the current rules, in evaluation order (rights by priority,
 * the others by name). 0 with a malloc'd array in *out (the caller frees;
 * NULL when *n is 0), or -ENOMEM. */
int policy_numbering_list(struct policy *p, struct policy_numbering_rule **out, size_t *n);
int policy_rights_list(struct policy *p, struct policy_right **out, size_t *n);
int policy_switches_list(struct policy *p, struct policy_switch **out, size_t *n);
int policy_apn_switches_list(struct policy *p, struct policy_apn_switch **out, size_t *n);

/* One switch or right by name: 0, or -ENOENT. */
int policy_switch_get(struct policy *p, const char *name, struct policy_switch *out);
int policy_right_get(struct policy *p, const char *name, struct policy_right *out);

/* A refused change says which field and why. */
struct policy_error {
	char field[32];
	char msg[160];
};

/* Turns a switch on or off, durably and audited (actor: who asked), then
 * tells the subscribers. Setting the state it already has changes nothing
 * and writes no audit record. 0, -ENOENT (no such switch), -EIO. */
int policy_switch_set(struct policy *p, const char *name, bool enabled, const char *actor);

/* Creates or replaces the right r->name, durably and audited, then tells the
 * subscribers. 0 created, 1 replaced, -EINVAL (err names the field: an
 * unknown class, switch, destination...), -EEXIST (another right has that
 * priority; err names priority), -EIO. Nothing changes unless it returns
 * 0 or 1. */
int policy_right_put(struct policy *p, const struct policy_right *r, const char *actor,
                     struct policy_error *err);
/* 0, -ENOENT, -EIO. */
int policy_right_delete(struct policy *p, const char *name, const char *actor);

/* Audit records with id > after, oldest first, at most limit. Calls fn for
 * each (outside every lock but the store's: fn must not use the store);
 * returns how many, or -EIO. */
typedef store_audit_fn policy_audit_fn;
int policy_audit_list(struct policy *p, int64_t after, unsigned limit, policy_audit_fn fn,
                      void *ctx);

/* policy_apn_allowed with the reason: v->rule names the switch or "classes"
 * (the class has no such APN). Returns 0. */
int policy_apn_check(struct policy *p, unsigned class_id, const char *apn,
                     struct policy_verdict *v);

/* May a subscriber of class_id be given the number e164 (a number of a
 * reserved range only to its group)? Fills v; returns 0. */
int policy_number_assignable(struct policy *p, unsigned class_id, const char *e164,
                             struct policy_verdict *v);

/* Names for the enums ("voice", "national"...). */
const char *policy_service_name(enum policy_service svc);
const char *policy_dest_kind_name(enum policy_dest_kind kind);
