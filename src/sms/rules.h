#pragma once
/* The SMS content rules engine, an SMS firewall (docs/sms-rules.md): the
 * operator's rules as data, each matching on sender, recipient, the sender's
 * class and the text (words or a regular expression) and deciding deliver,
 * hold (for review) or refuse; a flood limit per sender; a durable record of
 * every match; and an audited change API.
 *
 * Thread-safe: a check takes the rules' shared lock and allocates nothing
 * of its own; changes are serialised, durable and audited before they are
 * visible. It knows no protocol: the SMS centre asks it. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store_audit.h"

struct store;
struct store_queue;
struct hlr_profile;
struct sms_rules;

#define SMS_RULE_NAME_MAX   32  /* with the NUL; [a-z0-9_-], starting with a letter */
#define SMS_RULE_PREFIX_MAX 16  /* an MSISDN prefix (1 to 15 digits) or "*" */
#define SMS_RULE_CLASS_MAX  32  /* a class of the profile or "*" */
#define SMS_RULE_TEXT_MAX   256 /* words or a pattern, with the NUL */
#define SMS_RULE_REASON_MAX 128
#define SMS_RULE_ACTOR_MAX  STORE_AUDIT_ACTOR_MAX
#define SMS_AUDIT_MAX       STORE_AUDIT_MAX

/* The rule of a flood refusal, and of a check no rule matched. */
#define SMS_RULE_FLOOD   "flood"
#define SMS_RULE_DEFAULT "default"

enum sms_action {
	SMS_ACTION_DELIVER,
	SMS_ACTION_HOLD, /* kept, with its text, for an operator to review */
	SMS_ACTION_REFUSE,
};

enum sms_text_match {
	SMS_TEXT_ANY,   /* every text */
	SMS_TEXT_WORDS, /* any of the words or phrases, whole, case-insensitive */
	SMS_TEXT_REGEX, /* a POSIX extended regular expression, case-insensitive */
};

struct sms_rule {
	char name[SMS_RULE_NAME_MAX];
	int64_t priority; /* unique, 0 to 1000000000; lower is tried first */
	char sender[SMS_RULE_PREFIX_MAX];
	char recipient[SMS_RULE_PREFIX_MAX];
	char sender_class[SMS_RULE_CLASS_MAX];
	enum sms_text_match match;
	/* words: separated by ';' ("exchange rate;dollar"); regex: the pattern;
	 * any: "". */
	char text[SMS_RULE_TEXT_MAX];
	enum sms_action action;
	char reason[SMS_RULE_REASON_MAX];
};

/* The flood limit: at most messages per seconds from one sender (a token
 * bucket: messages may come in a burst, then one each seconds/messages).
 * messages 0: no limit. */
struct sms_limits {
	unsigned messages;
	unsigned seconds;
};

struct sms_verdict {
	enum sms_action action;
	char rule[SMS_RULE_NAME_MAX]; /* the rule that decided, "flood" or "default" */
	char reason[SMS_RULE_REASON_MAX];
};

/* A refused change names the field and says why. */
struct sms_rules_error {
	char field[32];
	char msg[160];
};

/* A recorded match. text is "" unless the action is hold. */
struct sms_match {
	int64_t id; /* increasing: the key of keyset paging */
	int64_t at; /* seconds since the epoch */
	char rule[SMS_RULE_NAME_MAX];
	char sender[SMS_RULE_PREFIX_MAX];
	char recipient[SMS_RULE_PREFIX_MAX];
	enum sms_action action;
	const char *text; /* "" unless held; valid during the callback only */
};

/* Installs dir/sms_rules.csv and dir/sms_limits.csv (docs/sms-rules.md) into
 * an empty engine. Missing files install no rules and no limit. Returns 0,
 * or -1 with "FILE:LINE: reason" in err and nothing written. profile checks
 * the class names. The caller holds no store lock. */
int sms_rules_install(struct store *st, const struct hlr_profile *profile, const char *dir,
                      char *err, size_t errcap);

/* Loads the engine from the store. profile (which must outlive it) checks
 * class names of changes; queue, if not NULL, writes the matches of
 * deliver and refuse in group commits (a hold is written at once, so that
 * the held text is durable before the check returns). 0, -ENOMEM, -EIO. */
int sms_rules_open(struct store *st, struct store_queue *queue, const struct hlr_profile *profile,
                   struct sms_rules **out);
void sms_rules_close(struct sms_rules *r);

/* Decides one message: first the flood limit of sender (taking one token),
 * then the rules in priority order (the first that matches decides), else
 * deliver by rule "default". Records a match of a rule or of the flood
 * limit. sender and recipient are MSISDNs (digits, an optional '+'),
 * sender_class a class name, text UTF-8. Fills v; returns 0, or -EIO when
 * the match could not be recorded (v is still the decision). */
int sms_rules_check(struct sms_rules *r, const char *sender_msisdn, const char *sender_class,
                    const char *recipient_msisdn, const char *text_utf8, struct sms_verdict *v);

/* What the rules decide, without the flood limit and without a record: the
 * explanation the API gives. Returns 0. */
int sms_rules_explain(struct sms_rules *r, const char *sender_msisdn, const char *sender_class,
                      const char *recipient_msisdn, const char *text_utf8, struct sms_verdict *v);

/* Copies of the rules in priority order: 0 with a malloc'd array (the caller
 * frees; NULL when *n is 0), or -ENOMEM. */
int sms_rules_list(struct sms_rules *r, struct sms_rule **out, size_t *n);
/* 0, or -ENOENT. */
int sms_rules_get(struct sms_rules *r, const char *name, struct sms_rule *out);

/* Checks a rule (field and why in err): 0 or -EINVAL. A regex is compiled. */
int sms_rule_validate(const struct sms_rules *r, const struct sms_rule *rule,
                      struct sms_rules_error *err);

/* Creates or replaces rule->name, durably and audited. 0 created, 1
 * replaced, -EINVAL (err names the field), -EEXIST (another rule has the
 * priority), -EIO. Nothing changes unless it returns 0 or 1. */
int sms_rules_put(struct sms_rules *r, const struct sms_rule *rule, const char *actor,
                  struct sms_rules_error *err);
/* 0, -ENOENT, -EIO. */
int sms_rules_delete(struct sms_rules *r, const char *name, const char *actor);

void sms_rules_limits_get(struct sms_rules *r, struct sms_limits *out);
/* Sets the flood limit durably and audited; buckets start full again.
 * 0, -EINVAL (err names the field), -EIO. */
int sms_rules_limits_set(struct sms_rules *r, const struct sms_limits *l, const char *actor,
                         struct sms_rules_error *err);

/* Matches with id > after, oldest first, at most limit; fn is called with
 * the store locked (it must not use the store). Returns how many, or -EIO. */
typedef void (*sms_match_fn)(void *ctx, const struct sms_match *m);
int sms_rules_matches(struct sms_rules *r, int64_t after, unsigned limit, sms_match_fn fn,
                      void *ctx);

/* Audit records with id > after, oldest first, at most limit. */
typedef store_audit_fn sms_audit_fn;
int sms_rules_audit(struct sms_rules *r, int64_t after, unsigned limit, sms_audit_fn fn, void *ctx);

/* Tests only: the monotonic clock of the flood limit (NULL: the real one). */
void sms_rules_set_clock(struct sms_rules *r, uint64_t (*now_ns)(void));

/* Names and their parses (0 or -1). */
const char *sms_action_name(enum sms_action a);
int sms_action_parse(const char *s, enum sms_action *out);
const char *sms_text_match_name(enum sms_text_match m);
int sms_text_match_parse(const char *s, enum sms_text_match *out);
