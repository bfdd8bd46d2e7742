/* The SMS content rules engine (docs/sms-rules.md): compiling a rule once
 * (a regex is compiled when the rule is put, never per message), the check
 * under a shared lock, the flood limit, the record of matches, the
 * operator's changes (durable and audited before they are visible) and the
 * profile's files. */
#include "sms/rules.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "common/clock.h"
#include "common/csv.h"
#include "common/hex.h"
#include "common/log.h"
#include "hlr/profile.h"
#include "store/store.h"
#include "store/store_queue.h"

#define PRIORITY_MAX 1000000000LL
#define MAX_WORDS    32

/* The flood limit's buckets: a fixed table, sized for the busy senders of a
 * window rather than for every subscriber, since an idle sender's bucket is
 * full and needs no slot. A sender is looked for in PROBE slots from its
 * hash; when all are busy the least recently used is taken over, so a
 * table too small makes the limit lenient (never refuses wrongly). */
#define FLOOD_SLOTS 65536
#define FLOOD_PROBE 8

struct crule {
	struct sms_rule r;
	size_t sender_len, recipient_len; /* 0 for "*" */
	bool any_class;
	regex_t re; /* SMS_TEXT_REGEX only */
	/* SMS_TEXT_WORDS: the words in lower case, each NUL-terminated. */
	char words[SMS_RULE_TEXT_MAX];
	const char *word[MAX_WORDS];
	size_t word_len[MAX_WORDS];
	unsigned n_words;
};

struct flood_slot {
	char sender[SMS_RULE_PREFIX_MAX]; /* "" when free */
	uint64_t last_ns;
	uint64_t credit_ns; /* a token bucket measured in time: see flood_take */
};

struct sms_rules {
	struct store *st;
	struct store_queue *queue;
	const struct hlr_profile *profile;

	/* Readers hold lock shared for a whole check; a change builds the new
	 * array first, swaps it in under the exclusive lock, and frees what it
	 * replaced after, so no reader waits on the store. */
	pthread_rwlock_t lock;
	struct crule **rules; /* sorted by priority */
	size_t n_rules;

	/* Serialises changes and guards next_audit_id. */
	pthread_mutex_t change_lock;
	int64_t next_audit_id;
	atomic_int_least64_t next_match_id;

	/* The flood limit and its buckets. */
	pthread_mutex_t flood_lock;
	struct sms_limits limits;
	struct flood_slot *slots;
	uint64_t (*now_ns)(void);
};

/* --- names ------------------------------------------------------------------- */

static const char *const action_names[] = {"deliver", "hold", "refuse"};
static const char *const match_names[] = {"any", "words", "regex"};

const char *sms_action_name(enum sms_action a)
{
	return (unsigned)a < 3 ? action_names[a] : "?";
}

int sms_action_parse(const char *s, enum sms_action *out)
{
	for (unsigned i = 0; i < 3; i++) {
		if (strcmp(s, action_names[i]) == 0) {
			*out = (enum sms_action)i;
			return 0;
		}
	}
	return -1;
}

const char *sms_text_match_name(enum sms_text_match m)
{
	return (unsigned)m < 3 ? match_names[m] : "?";
}

int sms_text_match_parse(const char *s, enum sms_text_match *out)
{
	for (unsigned i = 0; i < 3; i++) {
		if (strcmp(s, match_names[i]) == 0) {
			*out = (enum sms_text_match)i;
			return 0;
		}
	}
	return -1;
}

/* --- compiling a rule ---------------------------------------------------------- */

/* Fills err with the field and the message; returns -1. */
__attribute__((format(printf, 3, 4))) static int fail(struct sms_rules_error *err,
                                                      const char *field, const char *fmt, ...)
{
	va_list ap;
	snprintf(err->field, sizeof(err->field), "%s", field);
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static bool name_valid(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n >= SMS_RULE_NAME_MAX || !(s[0] >= 'a' && s[0] <= 'z'))
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

static bool prefix_valid(const char *s)
{
	return strcmp(s, "*") == 0 || str_is_digits(s, 1, SMS_RULE_PREFIX_MAX - 1);
}

/* Splits the ';'-separated words into c (lower case, trimmed). 0 or -1. */
static int words_compile(struct crule *c, struct sms_rules_error *err)
{
	const char *s = c->r.text;
	char *o = c->words;
	c->n_words = 0;
	while (*s) {
		const char *end = strchr(s, ';');
		size_t n = end ? (size_t)(end - s) : strlen(s);
		while (n && isspace((unsigned char)*s)) {
			s++;
			n--;
		}
		while (n && isspace((unsigned char)s[n - 1]))
			n--;
		if (n == 0)
			return fail(err, "words", "an empty word");
		if (c->n_words == MAX_WORDS)
			return fail(err, "words", "more than %d words", MAX_WORDS);
		for (size_t i = 0; i < n; i++) {
			if ((unsigned char)s[i] < 0x20)
				return fail(err, "words", "a control character");
		}
		c->word[c->n_words] = o;
		c->word_len[c->n_words++] = n;
		for (size_t i = 0; i < n; i++)
			*o++ = (char)tolower((unsigned char)s[i]);
		*o++ = '\0';
		s = end ? end + 1 : s + n;
		if (!end)
			break;
	}
	if (c->n_words == 0)
		return fail(err, "words", "at least one word is needed");
	return 0;
}

/* Checks r and compiles it into c (which the caller frees with
 * crule_free only when this returned 0). */
static int crule_compile(const struct hlr_profile *prof, const struct sms_rule *r, struct crule *c,
                         struct sms_rules_error *err)
{
	memset(c, 0, sizeof(*c));
	memset(err, 0, sizeof(*err));
	c->r = *r;
	if (!name_valid(r->name))
		return fail(err, "name",
		            "'%.40s' is not a name (1 to 31 of a-z, 0-9, '_', '-', starting with "
		            "a letter)",
		            r->name);
	if (strcmp(r->name, SMS_RULE_FLOOD) == 0 || strcmp(r->name, SMS_RULE_DEFAULT) == 0)
		return fail(err, "name", "'%s' is reserved for the engine's own decisions",
		            r->name);
	if (r->priority < 0 || r->priority > PRIORITY_MAX)
		return fail(err, "priority", "must be an integer from 0 to %lld", PRIORITY_MAX);
	if (!prefix_valid(r->sender))
		return fail(err, "sender",
		            "'%.20s' is not an MSISDN prefix (1 to 15 digits) or '*'", r->sender);
	if (!prefix_valid(r->recipient))
		return fail(err, "recipient",
		            "'%.20s' is not an MSISDN prefix (1 to 15 digits) or '*'",
		            r->recipient);
	c->sender_len = strcmp(r->sender, "*") == 0 ? 0 : strlen(r->sender);
	c->recipient_len = strcmp(r->recipient, "*") == 0 ? 0 : strlen(r->recipient);
	c->any_class = strcmp(r->sender_class, "*") == 0;
	if (!c->any_class && (!prof || hlr_profile_class_find(prof, r->sender_class) < 0))
		return fail(err, "class", "no class '%.31s' in the profile (or '*')",
		            r->sender_class);
	if ((unsigned)r->action > SMS_ACTION_REFUSE)
		return fail(err, "action", "must be deliver, hold or refuse");
	if (!r->reason[0])
		return fail(err, "reason", "is required");
	if (memchr(r->text, '\0', sizeof(r->text)) == NULL)
		return fail(err, r->match == SMS_TEXT_REGEX ? "regex" : "words",
		            "longer than %d bytes", SMS_RULE_TEXT_MAX - 1);
	switch (r->match) {
	case SMS_TEXT_ANY:
		if (r->text[0])
			return fail(err, "match",
			            "a rule matching any text has no words or pattern");
		return 0;
	case SMS_TEXT_WORDS:
		return words_compile(c, err);
	case SMS_TEXT_REGEX: {
		if (!r->text[0])
			return fail(err, "regex", "an empty pattern");
		/* REG_NOSUB: the engine asks only whether it matches, which lets
		 * regexec skip the work of recording submatches. */
		int e = regcomp(&c->re, r->text, REG_EXTENDED | REG_ICASE | REG_NOSUB);
		if (e != 0) {
			char why[120];
			regerror(e, &c->re, why, sizeof(why));
			return fail(err, "regex", "not a POSIX extended regular expression: %s",
			            why);
		}
		return 0;
	}
	}
	return fail(err, "match", "must be any, words or regex");
}

static void crule_free(struct crule *c)
{
	if (!c)
		return;
	if (c->r.match == SMS_TEXT_REGEX)
		regfree(&c->re);
	free(c);
}

/* A rule as its sms_rules.csv line, for the audit: fields with a comma, a
 * quote or a line break are quoted as RFC 4180 wants. */
static void csv_field(char *out, size_t cap, size_t *at, const char *f, bool last)
{
	bool q = strpbrk(f, ",\"\r\n") != NULL;
	size_t n = *at;
	if (q && n + 1 < cap)
		out[n++] = '"';
	for (; *f && n + 2 < cap; f++) {
		if (*f == '"' && q)
			out[n++] = '"';
		out[n++] = *f;
	}
	if (q && n + 1 < cap)
		out[n++] = '"';
	if (!last && n + 1 < cap)
		out[n++] = ',';
	out[n < cap ? n : cap - 1] = '\0';
	*at = n < cap ? n : cap - 1;
}

static void rule_format(const struct sms_rule *r, char *out, size_t cap)
{
	char prio[24];
	size_t at = 0;
	snprintf(prio, sizeof(prio), "%lld", (long long)r->priority);
	const char *f[] = {r->name,         prio,
	                   r->sender,       r->recipient,
	                   r->sender_class, sms_text_match_name(r->match),
	                   r->text,         sms_action_name(r->action),
	                   r->reason};
	out[0] = '\0';
	for (size_t i = 0; i < 9; i++)
		csv_field(out, cap, &at, f[i], i == 8);
}

static int prio_cmp(const void *a, const void *b)
{
	const struct crule *x = *(struct crule *const *)a, *y = *(struct crule *const *)b;
	return x->r.priority < y->r.priority ? -1 : x->r.priority > y->r.priority;
}

int sms_rule_validate(const struct sms_rules *r, const struct sms_rule *rule,
                      struct sms_rules_error *err)
{
	struct crule *c = malloc(sizeof(*c));
	if (!c) {
		memset(err, 0, sizeof(*err));
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return -ENOMEM;
	}
	int rc = crule_compile(r->profile, rule, c, err);
	if (rc == 0)
		crule_free(c);
	else
		free(c);
	return rc == 0 ? 0 : -EINVAL;
}

/* --- checking --------------------------------------------------------------------- */

/* Letters, digits and every byte of a multi-byte UTF-8 character are part of
 * a word, so "rate" is not found in "rates" nor in a longer Korean word. */
static bool word_byte(unsigned char c)
{
	return isalnum(c) || c == '_' || c >= 0x80;
}

/* Whether the lower-case word w occurs whole in text (ASCII letters compared
 * without case). */
static bool word_in(const char *text, size_t tlen, const char *w, size_t wlen)
{
	for (size_t i = 0; i + wlen <= tlen; i++) {
		size_t k = 0;
		while (k < wlen && tolower((unsigned char)text[i + k]) == (unsigned char)w[k])
			k++;
		if (k < wlen)
			continue;
		if (i > 0 && word_byte((unsigned char)text[i - 1]) &&
		    word_byte((unsigned char)w[0]))
			continue;
		if (i + wlen < tlen && word_byte((unsigned char)text[i + wlen]) &&
		    word_byte((unsigned char)w[wlen - 1]))
			continue;
		return true;
	}
	return false;
}

static bool crule_matches(const struct crule *c, const char *sender, const char *cls,
                          const char *recipient, const char *text, size_t tlen)
{
	if (c->sender_len && strncmp(sender, c->r.sender, c->sender_len) != 0)
		return false;
	if (c->recipient_len && strncmp(recipient, c->r.recipient, c->recipient_len) != 0)
		return false;
	if (!c->any_class && strcmp(cls, c->r.sender_class) != 0)
		return false;
	switch (c->r.match) {
	case SMS_TEXT_ANY:
		return true;
	case SMS_TEXT_WORDS:
		for (unsigned i = 0; i < c->n_words; i++) {
			if (word_in(text, tlen, c->word[i], c->word_len[i]))
				return true;
		}
		return false;
	case SMS_TEXT_REGEX:
		return regexec(&c->re, text, 0, NULL, 0) == 0;
	}
	return false;
}

static const char *msisdn_digits(const char *s)
{
	return s ? (*s == '+' ? s + 1 : s) : "";
}

/* The rules' decision, under the shared lock. */
static void evaluate(struct sms_rules *r, const char *sender, const char *cls,
                     const char *recipient, const char *text, struct sms_verdict *v)
{
	size_t tlen = strlen(text);
	pthread_rwlock_rdlock(&r->lock);
	for (size_t i = 0; i < r->n_rules; i++) {
		const struct crule *c = r->rules[i];
		if (crule_matches(c, sender, cls, recipient, text, tlen)) {
			v->action = c->r.action;
			snprintf(v->rule, sizeof(v->rule), "%s", c->r.name);
			snprintf(v->reason, sizeof(v->reason), "%s", c->r.reason);
			pthread_rwlock_unlock(&r->lock);
			return;
		}
	}
	pthread_rwlock_unlock(&r->lock);
	v->action = SMS_ACTION_DELIVER;
	snprintf(v->rule, sizeof(v->rule), "%s", SMS_RULE_DEFAULT);
	snprintf(v->reason, sizeof(v->reason), "no rule matched");
}

int sms_rules_explain(struct sms_rules *r, const char *sender_msisdn, const char *sender_class,
                      const char *recipient_msisdn, const char *text_utf8, struct sms_verdict *v)
{
	evaluate(r, msisdn_digits(sender_msisdn), sender_class ? sender_class : "",
	         msisdn_digits(recipient_msisdn), text_utf8 ? text_utf8 : "", v);
	return 0;
}

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* Takes one message from sender's bucket: true if it may go. The bucket is
 * kept as time (GCRA): it holds at most window = seconds of credit, gains
 * credit as time passes, and each message costs window / messages. So a
 * full bucket lets `messages` through at once, then one per cost. */
static bool flood_take(struct sms_rules *r, const char *sender)
{
	pthread_mutex_lock(&r->flood_lock);
	if (r->limits.messages == 0 || !sender[0]) {
		pthread_mutex_unlock(&r->flood_lock);
		return true;
	}
	uint64_t window = (uint64_t)r->limits.seconds * 1000000000ULL;
	uint64_t cost = window / r->limits.messages;
	uint64_t now = r->now_ns();
	uint32_t h = hash(sender);
	struct flood_slot *s = NULL, *free_slot = NULL, *oldest = NULL;
	for (unsigned i = 0; i < FLOOD_PROBE; i++) {
		struct flood_slot *t = &r->slots[(h + i) % FLOOD_SLOTS];
		if (t->sender[0] && strcmp(t->sender, sender) == 0) {
			s = t;
			break;
		}
		/* A bucket idle for a whole window is full: as good as free. */
		if (!free_slot && (!t->sender[0] || now - t->last_ns >= window))
			free_slot = t;
		if (!oldest || t->last_ns < oldest->last_ns)
			oldest = t;
	}
	if (!s) {
		s = free_slot ? free_slot : oldest;
		snprintf(s->sender, sizeof(s->sender), "%s", sender);
		s->credit_ns = window;
		s->last_ns = now;
	}
	uint64_t credit = s->credit_ns + (now - s->last_ns);
	s->credit_ns = credit > window ? window : credit;
	s->last_ns = now;
	bool ok = s->credit_ns >= cost;
	if (ok)
		s->credit_ns -= cost;
	pthread_mutex_unlock(&r->flood_lock);
	return ok;
}

/* Binds p[0..n) to s. */
static void bind_params(struct store_stmt *s, const struct store_param *p, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (p[i].type == STORE_PARAM_INT)
			store_bind_int64(s, (int)i + 1, p[i].i);
		else if (p[i].type == STORE_PARAM_TEXT)
			store_bind_text(s, (int)i + 1, p[i].text);
		else
			store_bind_null(s, (int)i + 1);
	}
}

static const char match_sql[] = "INSERT INTO sms_match (id, at, rule, sender, recipient, decision, "
                                "text) VALUES ($1, $2, $3, $4, $5, $6, $7)";

/* Records a match. A held message's text (which may be longer than the
 * group commit's parameters) is written at once; the others go through the
 * queue when there is one. 0 or -EIO. */
static int record(struct sms_rules *r, const struct sms_verdict *v, const char *sender,
                  const char *recipient, const char *text)
{
	struct store_param p[6];
	memset(p, 0, sizeof(p));
	p[0].type = p[1].type = STORE_PARAM_INT;
	p[0].i = atomic_fetch_add(&r->next_match_id, 1);
	p[1].i = clock_now();
	p[2].type = p[3].type = p[4].type = p[5].type = STORE_PARAM_TEXT;
	snprintf(p[2].text, sizeof(p[2].text), "%s", v->rule);
	snprintf(p[3].text, sizeof(p[3].text), "%s", sender);
	snprintf(p[4].text, sizeof(p[4].text), "%s", recipient);
	snprintf(p[5].text, sizeof(p[5].text), "%s", sms_action_name(v->action));
	if (r->queue && v->action != SMS_ACTION_HOLD) {
		struct store_param all[7];
		memcpy(all, p, sizeof(p));
		all[6].type = STORE_PARAM_NULL;
		return store_queue_submit(r->queue, match_sql, all, 7, NULL, NULL) == 0 ? 0 : -EIO;
	}
	struct store_stmt *s;
	int rc = -EIO;
	store_lock(r->st);
	if (store_prepare(r->st, match_sql, &s) == 0) {
		bind_params(s, p, 6);
		if (v->action == SMS_ACTION_HOLD)
			store_bind_text(s, 7, text);
		else
			store_bind_null(s, 7);
		rc = store_step(s) == STORE_DONE ? 0 : -EIO;
		store_reset(s);
	}
	store_unlock(r->st);
	return rc;
}

int sms_rules_check(struct sms_rules *r, const char *sender_msisdn, const char *sender_class,
                    const char *recipient_msisdn, const char *text_utf8, struct sms_verdict *v)
{
	const char *sender = msisdn_digits(sender_msisdn);
	const char *recipient = msisdn_digits(recipient_msisdn);
	const char *text = text_utf8 ? text_utf8 : "";
	if (!flood_take(r, sender)) {
		struct sms_limits l;
		sms_rules_limits_get(r, &l);
		v->action = SMS_ACTION_REFUSE;
		snprintf(v->rule, sizeof(v->rule), "%s", SMS_RULE_FLOOD);
		snprintf(v->reason, sizeof(v->reason), "more than %u messages in %u seconds",
		         l.messages, l.seconds);
	} else {
		evaluate(r, sender, sender_class ? sender_class : "", recipient, text, v);
		if (strcmp(v->rule, SMS_RULE_DEFAULT) == 0)
			return 0;
	}
	int rc = record(r, v, sender, recipient, text);
	if (rc != 0)
		LOGE("sms", "MSISDN='%s': the match of rule %s could not be recorded", sender,
		     v->rule);
	return rc;
}

/* --- opening --------------------------------------------------------------------- */

/* max(id) + 1 of table (a literal). Store locked. */
static int next_id(struct store *st, const char *sql, int64_t *out)
{
	struct store_stmt *s;
	if (store_prepare(st, sql, &s) != 0)
		return -EIO;
	int rc = store_step(s) == STORE_ROW ? 0 : -EIO;
	if (rc == 0)
		*out = store_col_int64(s, 0) + 1;
	store_reset(s);
	return rc;
}

/* Reads one sms_rule row (columns as in the SELECT of load_rules). */
static int rule_read(struct store_stmt *s, struct sms_rule *r)
{
	char m[16], a[16];
	memset(r, 0, sizeof(*r));
	store_col_copy(s, 0, r->name, sizeof(r->name));
	r->priority = store_col_int64(s, 1);
	store_col_copy(s, 2, r->sender, sizeof(r->sender));
	store_col_copy(s, 3, r->recipient, sizeof(r->recipient));
	store_col_copy(s, 4, r->sender_class, sizeof(r->sender_class));
	store_col_copy(s, 5, m, sizeof(m));
	store_col_copy(s, 6, r->text, sizeof(r->text));
	store_col_copy(s, 7, a, sizeof(a));
	store_col_copy(s, 8, r->reason, sizeof(r->reason));
	return sms_text_match_parse(m, &r->match) == 0 && sms_action_parse(a, &r->action) == 0 ? 0
	                                                                                       : -1;
}

static int load_rules(struct sms_rules *r)
{
	struct store_stmt *s;
	size_t cap = 0;
	int step, rc = 0;
	if (store_prepare(r->st,
	                  "SELECT name, priority, sender, recipient, sender_class, text_match, "
	                  "pattern, decision, reason FROM sms_rule",
	                  &s) != 0)
		return -EIO;
	while ((step = store_step(s)) == STORE_ROW) {
		struct sms_rule rule;
		struct sms_rules_error e = {"store", "an unknown match or action"};
		if (r->n_rules == cap) {
			size_t c = cap ? cap * 2 : 16;
			struct crule **nv = realloc(r->rules, c * sizeof(*nv));
			if (!nv) {
				rc = -ENOMEM;
				break;
			}
			r->rules = nv;
			cap = c;
		}
		struct crule *c = malloc(sizeof(*c));
		if (!c) {
			rc = -ENOMEM;
			break;
		}
		if (rule_read(s, &rule) != 0 || crule_compile(r->profile, &rule, c, &e) != 0) {
			LOGE("sms", "rule '%s' in the store: %s: %s", rule.name, e.field, e.msg);
			free(c);
			rc = -EIO;
			break;
		}
		r->rules[r->n_rules++] = c;
	}
	store_reset(s);
	if (rc == 0 && step < 0)
		rc = -EIO;
	if (rc != 0)
		return rc;
	if (store_prepare(r->st, "SELECT messages, seconds FROM sms_limit WHERE id = 1", &s) != 0)
		return -EIO;
	step = store_step(s);
	if (step == STORE_ROW) {
		r->limits.messages = (unsigned)store_col_int64(s, 0);
		r->limits.seconds = (unsigned)store_col_int64(s, 1);
	}
	store_reset(s);
	return step < 0 ? -EIO : 0;
}

int sms_rules_open(struct store *st, struct store_queue *queue, const struct hlr_profile *profile,
                   struct sms_rules **out)
{
	struct sms_rules *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->st = st;
	r->queue = queue;
	r->profile = profile;
	r->now_ns = clock_mono_ns;
	pthread_rwlock_init(&r->lock, NULL);
	pthread_mutex_init(&r->change_lock, NULL);
	pthread_mutex_init(&r->flood_lock, NULL);
	r->slots = calloc(FLOOD_SLOTS, sizeof(*r->slots));
	if (!r->slots) {
		sms_rules_close(r);
		return -ENOMEM;
	}
	int64_t match_id = 1;
	store_lock(st);
	int rc = load_rules(r);
	if (rc == 0)
		rc = next_id(st, "SELECT coalesce(max(id), 0) FROM sms_audit", &r->next_audit_id);
	if (rc == 0)
		rc = next_id(st, "SELECT coalesce(max(id), 0) FROM sms_match", &match_id);
	store_unlock(st);
	if (rc != 0) {
		sms_rules_close(r);
		return rc;
	}
	atomic_store(&r->next_match_id, match_id);
	if (r->n_rules > 1)
		qsort(r->rules, r->n_rules, sizeof(*r->rules), prio_cmp);
	LOGI("sms", "%zu content rules, flood limit %u messages in %u s", r->n_rules,
	     r->limits.messages, r->limits.seconds);
	*out = r;
	return 0;
}

void sms_rules_close(struct sms_rules *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_rules; i++)
		crule_free(r->rules[i]);
	free(r->rules);
	free(r->slots);
	pthread_rwlock_destroy(&r->lock);
	pthread_mutex_destroy(&r->change_lock);
	pthread_mutex_destroy(&r->flood_lock);
	free(r);
}

void sms_rules_set_clock(struct sms_rules *r, uint64_t (*now_ns)(void))
{
	pthread_mutex_lock(&r->flood_lock);
	r->now_ns = now_ns ? now_ns : clock_mono_ns;
	pthread_mutex_unlock(&r->flood_lock);
}

/* --- reading ------------------------------------------------------------------------- */

int sms_rules_list(struct sms_rules *r, struct sms_rule **out, size_t *n)
{
	pthread_rwlock_rdlock(&r->lock);
	size_t k = r->n_rules;
	struct sms_rule *v = k ? malloc(k * sizeof(*v)) : NULL;
	if (k && !v) {
		pthread_rwlock_unlock(&r->lock);
		return -ENOMEM;
	}
	for (size_t i = 0; i < k; i++)
		v[i] = r->rules[i]->r;
	pthread_rwlock_unlock(&r->lock);
	*out = v;
	*n = k;
	return 0;
}

static ssize_t rule_index(const struct sms_rules *r, const char *name)
{
	for (size_t i = 0; i < r->n_rules; i++) {
		if (strcmp(r->rules[i]->r.name, name) == 0)
			return (ssize_t)i;
	}
	return -1;
}

int sms_rules_get(struct sms_rules *r, const char *name, struct sms_rule *out)
{
	pthread_rwlock_rdlock(&r->lock);
	ssize_t i = rule_index(r, name);
	if (i >= 0)
		*out = r->rules[i]->r;
	pthread_rwlock_unlock(&r->lock);
	return i >= 0 ? 0 : -ENOENT;
}

void sms_rules_limits_get(struct sms_rules *r, struct sms_limits *out)
{
	pthread_mutex_lock(&r->flood_lock);
	*out = r->limits;
	pthread_mutex_unlock(&r->flood_lock);
}

int sms_rules_matches(struct sms_rules *r, int64_t after, unsigned limit, sms_match_fn fn,
                      void *ctx)
{
	struct store_stmt *s;
	int n = 0, step = STORE_DONE;
	store_lock(r->st);
	if (store_prepare(r->st,
	                  "SELECT id, at, rule, sender, recipient, decision, text FROM sms_match "
	                  "WHERE id > $1 ORDER BY id LIMIT $2",
	                  &s) != 0) {
		store_unlock(r->st);
		return -EIO;
	}
	store_bind_int64(s, 1, after);
	store_bind_int64(s, 2, limit);
	while ((unsigned)n < limit && (step = store_step(s)) == STORE_ROW) {
		struct sms_match m;
		const char *a = store_col_text(s, 5);
		memset(&m, 0, sizeof(m));
		m.id = store_col_int64(s, 0);
		m.at = store_col_int64(s, 1);
		store_col_copy(s, 2, m.rule, sizeof(m.rule));
		store_col_copy(s, 3, m.sender, sizeof(m.sender));
		store_col_copy(s, 4, m.recipient, sizeof(m.recipient));
		if (!a || sms_action_parse(a, &m.action) != 0)
			m.action = SMS_ACTION_DELIVER;
		m.text = store_col_text(s, 6);
		if (!m.text)
			m.text = "";
		fn(ctx, &m);
		n++;
	}
	store_reset(s);
	store_unlock(r->st);
	return step < 0 ? -EIO : n;
}

int sms_rules_audit(struct sms_rules *r, int64_t after, unsigned limit, sms_audit_fn fn, void *ctx)
{
	return store_audit_list(r->st,
	                        "SELECT id, at, actor, object, before, after FROM sms_audit "
	                        "WHERE id > $1 ORDER BY id LIMIT $2",
	                        after, limit, fn, ctx);
}

/* --- changes --------------------------------------------------------------------------- */

/* Runs one statement with text parameters. Store locked. 0 or -1. */
static int exec(struct store *st, const char *sql, const char *const *v, unsigned n)
{
	struct store_stmt *s;
	if (store_prepare(st, sql, &s) != 0)
		return -1;
	for (unsigned i = 0; i < n; i++)
		store_bind_text(s, (int)i + 1, v[i]);
	int rc = store_step(s);
	store_reset(s);
	return rc == STORE_DONE ? 0 : -1;
}

static const char rule_insert_sql[] =
    "INSERT INTO sms_rule (name, priority, sender, recipient, sender_class, text_match, "
    "pattern, decision, reason) VALUES ($1, CAST($2 AS BIGINT), $3, $4, $5, $6, $7, $8, $9)";

static int rule_insert(struct store *st, const struct sms_rule *r)
{
	char prio[24];
	snprintf(prio, sizeof(prio), "%lld", (long long)r->priority);
	const char *v[] = {r->name,         prio,
	                   r->sender,       r->recipient,
	                   r->sender_class, sms_text_match_name(r->match),
	                   r->text,         sms_action_name(r->action),
	                   r->reason};
	return exec(st, rule_insert_sql, v, 9);
}

/* Runs write() and the audit record in one transaction; takes the audit id
 * only once it committed. change_lock held. 0 or -EIO. */
static int durable(struct sms_rules *r, int (*write)(struct sms_rules *r, const void *arg),
                   const void *arg, const char *actor, const char *object, const char *before,
                   const char *after)
{
	char id[24], at[24];
	snprintf(id, sizeof(id), "%lld", (long long)r->next_audit_id);
	snprintf(at, sizeof(at), "%lld", (long long)clock_now());
	const char *v[] = {id, at, actor, object, before, after};
	store_lock(r->st);
	int rc = store_begin(r->st);
	if (rc == 0)
		rc = write(r, arg);
	if (rc == 0)
		rc = exec(r->st,
		          "INSERT INTO sms_audit (id, at, actor, object, before, after) VALUES "
		          "(CAST($1 AS BIGINT), CAST($2 AS BIGINT), $3, $4, $5, $6)",
		          v, 6);
	if (rc == 0 && store_commit(r->st) == 0) {
		r->next_audit_id++;
		store_unlock(r->st);
		return 0;
	}
	store_rollback(r->st);
	store_unlock(r->st);
	return -EIO;
}

struct rule_change {
	const char *name;
	const struct sms_rule *rule; /* NULL: delete */
};

static int rule_write(struct sms_rules *r, const void *arg)
{
	const struct rule_change *c = arg;
	const char *n[] = {c->name};
	if (exec(r->st, "DELETE FROM sms_rule WHERE name = $1", n, 1) != 0)
		return -1;
	return c->rule ? rule_insert(r->st, c->rule) : 0;
}

/* Replaces the rule at `at` (n_rules: appends) by nc, or removes it (nc
 * NULL), durably first. change_lock held. 0, -ENOMEM or -EIO; on success
 * the engine owns nc. */
static int rules_swap(struct sms_rules *r, ssize_t at, struct crule *nc, const char *name,
                      const char *actor)
{
	size_t n = r->n_rules, k = 0;
	struct crule **v = malloc((n + 1) * sizeof(*v));
	char before[SMS_AUDIT_MAX] = "", after[SMS_AUDIT_MAX] = "", object[64];
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if ((ssize_t)i != at)
			v[k++] = r->rules[i];
	}
	if (nc)
		v[k++] = nc;
	qsort(v, k, sizeof(*v), prio_cmp);
	struct crule *old = at < (ssize_t)n ? r->rules[at] : NULL;
	if (old)
		rule_format(&old->r, before, sizeof(before));
	if (nc)
		rule_format(&nc->r, after, sizeof(after));
	snprintf(object, sizeof(object), "rule %s", name);
	struct rule_change chg = {name, nc ? &nc->r : NULL};
	if (durable(r, rule_write, &chg, actor, object, before, after) != 0) {
		free(v);
		return -EIO;
	}
	pthread_rwlock_wrlock(&r->lock);
	struct crule **old_v = r->rules;
	r->rules = v;
	r->n_rules = k;
	pthread_rwlock_unlock(&r->lock);
	/* No reader can hold the replaced rule now: it was reachable only
	 * through the old array, under the shared lock. */
	free(old_v);
	crule_free(old);
	return 0;
}

int sms_rules_put(struct sms_rules *r, const struct sms_rule *rule, const char *actor,
                  struct sms_rules_error *err)
{
	struct crule *c = malloc(sizeof(*c));
	if (!c)
		return -EIO;
	if (crule_compile(r->profile, rule, c, err) != 0) {
		free(c);
		return -EINVAL;
	}
	pthread_mutex_lock(&r->change_lock);
	ssize_t at = rule_index(r, rule->name);
	for (size_t i = 0; i < r->n_rules; i++) {
		if (r->rules[i]->r.priority == rule->priority && (ssize_t)i != at) {
			snprintf(err->field, sizeof(err->field), "priority");
			snprintf(err->msg, sizeof(err->msg),
			         "%lld is already the priority of rule %s",
			         (long long)rule->priority, r->rules[i]->r.name);
			pthread_mutex_unlock(&r->change_lock);
			crule_free(c);
			return -EEXIST;
		}
	}
	int rc = rules_swap(r, at >= 0 ? at : (ssize_t)r->n_rules, c, rule->name, actor);
	pthread_mutex_unlock(&r->change_lock);
	if (rc != 0) {
		crule_free(c);
		return -EIO;
	}
	LOGN("sms", "rule %s %s (by %s)", rule->name, at >= 0 ? "replaced" : "added", actor);
	return at >= 0 ? 1 : 0;
}

int sms_rules_delete(struct sms_rules *r, const char *name, const char *actor)
{
	pthread_mutex_lock(&r->change_lock);
	ssize_t at = rule_index(r, name);
	int rc = at < 0 ? -ENOENT : rules_swap(r, at, NULL, name, actor);
	pthread_mutex_unlock(&r->change_lock);
	if (rc == 0)
		LOGN("sms", "rule %s deleted (by %s)", name, actor);
	return rc == 0 || rc == -ENOENT ? rc : -EIO;
}

static int limits_check(const struct sms_limits *l, struct sms_rules_error *err)
{
	memset(err, 0, sizeof(*err));
	if (l->messages > 1000000)
		return fail(err, "messages", "must be from 0 (no limit) to %d", 1000000);
	if (l->messages && (l->seconds < 1 || l->seconds > 86400))
		return fail(err, "seconds", "must be from 1 to %d", 86400);
	if (!l->messages && l->seconds)
		return fail(err, "seconds", "must be 0 when messages is 0 (no limit)");
	return 0;
}

static int limits_write(struct sms_rules *r, const void *arg)
{
	const struct sms_limits *l = arg;
	char m[16], s[16];
	snprintf(m, sizeof(m), "%u", l->messages);
	snprintf(s, sizeof(s), "%u", l->seconds);
	const char *v[] = {m, s};
	return exec(r->st,
	            "UPDATE sms_limit SET messages = CAST($1 AS BIGINT), seconds = CAST($2 AS "
	            "BIGINT) WHERE id = 1",
	            v, 2);
}

int sms_rules_limits_set(struct sms_rules *r, const struct sms_limits *l, const char *actor,
                         struct sms_rules_error *err)
{
	if (limits_check(l, err) != 0)
		return -EINVAL;
	struct sms_limits old;
	char before[64], after[64];
	pthread_mutex_lock(&r->change_lock);
	sms_rules_limits_get(r, &old);
	snprintf(before, sizeof(before), "%u,%u", old.messages, old.seconds);
	snprintf(after, sizeof(after), "%u,%u", l->messages, l->seconds);
	int rc = durable(r, limits_write, l, actor, "limits", before, after);
	if (rc == 0) {
		pthread_mutex_lock(&r->flood_lock);
		r->limits = *l;
		memset(r->slots, 0, FLOOD_SLOTS * sizeof(*r->slots));
		pthread_mutex_unlock(&r->flood_lock);
		LOGN("sms", "flood limit %u messages in %u s (by %s)", l->messages, l->seconds,
		     actor);
	}
	pthread_mutex_unlock(&r->change_lock);
	return rc;
}

/* --- the profile's files --------------------------------------------------------------- */

struct install {
	const struct hlr_profile *profile;
	struct sms_rule *rules;
	size_t n, cap;
	struct sms_limits limits;
	bool have_limits;
};

static int rule_row(void *ctx, char **f, char *reason, size_t cap)
{
	struct install *in = ctx;
	struct sms_rule r;
	struct sms_rules_error e = {{0}, {0}};
	memset(&r, 0, sizeof(r));
	if (strlen(f[0]) >= sizeof(r.name) || strlen(f[2]) >= sizeof(r.sender) ||
	    strlen(f[3]) >= sizeof(r.recipient) || strlen(f[4]) >= sizeof(r.sender_class) ||
	    strlen(f[6]) >= sizeof(r.text) || strlen(f[8]) >= sizeof(r.reason)) {
		snprintf(reason, cap,
		         "a field is too long (name 31, prefixes 15, class 31, "
		         "text 255, reason 127 bytes)");
		return -1;
	}
	snprintf(r.name, sizeof(r.name), "%s", f[0]);
	if (!str_is_digits(f[1], 1, 10)) {
		snprintf(reason, cap, "priority: '%.20s' is not an integer from 0 to 1000000000",
		         f[1]);
		return -1;
	}
	r.priority = strtoll(f[1], NULL, 10);
	snprintf(r.sender, sizeof(r.sender), "%s", f[2]);
	snprintf(r.recipient, sizeof(r.recipient), "%s", f[3]);
	snprintf(r.sender_class, sizeof(r.sender_class), "%s", f[4]);
	if (sms_text_match_parse(f[5], &r.match) != 0) {
		snprintf(reason, cap, "match: expected any, words or regex, got '%.20s'", f[5]);
		return -1;
	}
	snprintf(r.text, sizeof(r.text), "%s", f[6]);
	if (sms_action_parse(f[7], &r.action) != 0) {
		snprintf(reason, cap, "action: expected deliver, hold or refuse, got '%.20s'",
		         f[7]);
		return -1;
	}
	snprintf(r.reason, sizeof(r.reason), "%s", f[8]);
	struct crule *c = malloc(sizeof(*c));
	if (!c) {
		snprintf(reason, cap, "out of memory");
		return -1;
	}
	int rc = crule_compile(in->profile, &r, c, &e);
	if (rc == 0)
		crule_free(c);
	else
		free(c);
	if (rc != 0) {
		snprintf(reason, cap, "%s: %s", e.field, e.msg);
		return -1;
	}
	for (size_t i = 0; i < in->n; i++) {
		if (strcmp(in->rules[i].name, r.name) == 0 || in->rules[i].priority == r.priority) {
			snprintf(reason, cap, "%s",
			         strcmp(in->rules[i].name, r.name) == 0
			             ? "name: given twice"
			             : "priority: the same as an earlier rule's");
			return -1;
		}
	}
	if (in->n == in->cap) {
		size_t nc = in->cap ? in->cap * 2 : 16;
		struct sms_rule *nv = realloc(in->rules, nc * sizeof(*nv));
		if (!nv) {
			snprintf(reason, cap, "out of memory");
			return -1;
		}
		in->rules = nv;
		in->cap = nc;
	}
	in->rules[in->n++] = r;
	return 0;
}

static int limits_row(void *ctx, char **f, char *reason, size_t cap)
{
	struct install *in = ctx;
	struct sms_rules_error e;
	if (in->have_limits) {
		snprintf(reason, cap, "only one row: messages,seconds");
		return -1;
	}
	if (!str_is_digits(f[0], 1, 7) || !str_is_digits(f[1], 1, 5)) {
		snprintf(reason, cap, "messages and seconds must be non-negative integers");
		return -1;
	}
	in->limits.messages = (unsigned)strtoul(f[0], NULL, 10);
	in->limits.seconds = (unsigned)strtoul(f[1], NULL, 10);
	if (limits_check(&in->limits, &e) != 0) {
		snprintf(reason, cap, "%s: %s", e.field, e.msg);
		return -1;
	}
	in->have_limits = true;
	return 0;
}

int sms_rules_install(struct store *st, const struct hlr_profile *profile, const char *dir,
                      char *err, size_t errcap)
{
	struct install in = {.profile = profile};
	int rc = -1;
	if (csv_read_file(dir, "sms_rules.csv",
	                  "name,priority,sender,recipient,class,match,text,action,reason", rule_row,
	                  &in, NULL, err, errcap) != 0 ||
	    csv_read_file(dir, "sms_limits.csv", "messages,seconds", limits_row, &in, NULL, err,
	                  errcap) != 0)
		goto out;
	store_lock(st);
	bool ok = store_begin(st) == 0;
	for (size_t i = 0; ok && i < in.n; i++)
		ok = rule_insert(st, &in.rules[i]) == 0;
	if (ok && in.have_limits) {
		struct sms_rules tmp = {.st = st};
		ok = limits_write(&tmp, &in.limits) == 0;
	}
	if (ok && store_commit(st) == 0) {
		rc = 0;
	} else {
		store_rollback(st);
		snprintf(err, errcap, "%s: store failure writing the SMS rules", dir);
	}
	store_unlock(st);
	if (rc == 0)
		LOGN("sms", "%zu content rules installed from %s", in.n, dir);
out:
	free(in.rules);
	return rc;
}
