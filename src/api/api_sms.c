/* /v1/sms (docs/api.md, "SMS content rules" and "SMS centre"): the SMS
 * firewall's rules and flood limit as data, their changes with the audit
 * trail, the record of matches, and a check that explains what the engine
 * decides for a message; and the SMS centre's messages waiting or held
 * (never their text), the release or deletion of held ones, its CDRs and
 * its counters. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "common/hex.h"
#include "hlr/profile.h"
#include "hlr/registry.h"
#include "sms/rules.h"
#include "sms/smsc.h"

#define PAGE_DEFAULT 100
#define PAGE_MAX     1000

/* --- rules ------------------------------------------------------------------------ */

static json_t *words_json(const char *text)
{
	json_t *a = json_array();
	const char *s = text;
	while (a && *s) {
		size_t n = strcspn(s, ";");
		json_array_append_new(a, json_stringn(s, n));
		s += n;
		if (*s == ';')
			s++;
	}
	return a;
}

static json_t *rule_json(const struct sms_rule *r)
{
	return json_pack("{s:s,s:I,s:s,s:s,s:s,s:s,s:o,s:o,s:s,s:s}", "name", r->name, "priority",
	                 (json_int_t)r->priority, "sender", r->sender, "recipient", r->recipient,
	                 "class", r->sender_class, "match", sms_text_match_name(r->match), "words",
	                 r->match == SMS_TEXT_WORDS ? words_json(r->text) : json_null(), "regex",
	                 r->match == SMS_TEXT_REGEX ? json_string(r->text) : json_null(), "action",
	                 sms_action_name(r->action), "reason", r->reason);
}

static json_t *rules_array(struct sms_rules *sr)
{
	struct sms_rule *v;
	size_t n;
	if (sms_rules_list(sr, &v, &n) != 0)
		return NULL;
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, rule_json(&v[i]));
	free(v);
	return a;
}

static json_t *limits_json(const struct sms_limits *l)
{
	return json_pack("{s:i,s:i}", "messages", (int)l->messages, "seconds", (int)l->seconds);
}

/* A string member into dst (of cap); absent is def (NULL: required). 0, or
 * -1 with a 400 queued. */
static int member_str(struct MHD_Connection *c, json_t *o, const char *key, char *dst, size_t cap,
                      const char *def, enum MHD_Result *ret)
{
	json_t *v = json_object_get(o, key);
	if (!v && def) {
		snprintf(dst, cap, "%s", def);
		return 0;
	}
	if (!json_is_string(v)) {
		*ret = api_reply_error(c, 400, key, v ? "must be a string" : "is required");
		return -1;
	}
	if (json_string_length(v) >= cap) {
		*ret = api_reply_error(c, 400, key, "longer than %zu characters", cap - 1);
		return -1;
	}
	snprintf(dst, cap, "%s", json_string_value(v));
	return 0;
}

/* Any member of o not in known: its name, else NULL. */
static const char *unknown_member(json_t *o, const char *const *known, size_t n)
{
	const char *key;
	json_t *v;
	json_object_foreach(o, key, v)
	{
		size_t i;
		for (i = 0; i < n && strcmp(key, known[i]) != 0; i++)
			;
		if (i == n)
			return key;
	}
	return NULL;
}

/* The words member (an array of strings) joined with ';' into r->text. */
static int words_member(struct MHD_Connection *c, json_t *a, struct sms_rule *r,
                        enum MHD_Result *ret)
{
	size_t i, at = 0;
	json_t *w;
	if (!json_is_array(a) || json_array_size(a) == 0) {
		*ret = api_reply_error(c, 400, "words", "must be a non-empty array of strings");
		return -1;
	}
	json_array_foreach(a, i, w)
	{
		const char *s = json_string_value(w);
		size_t n = s ? strlen(s) : 0;
		if (!s || n == 0 || strchr(s, ';')) {
			*ret = api_reply_error(
			    c, 400, "words", "word %zu must be a non-empty string without ';'", i);
			return -1;
		}
		if (at + n + 1 >= sizeof(r->text)) {
			*ret = api_reply_error(c, 400, "words", "longer than %zu bytes together",
			                       sizeof(r->text) - 1);
			return -1;
		}
		if (at)
			r->text[at++] = ';';
		memcpy(r->text + at, s, n);
		at += n;
		r->text[at] = '\0';
	}
	return 0;
}

static enum MHD_Result rule_put(struct api_server *srv, struct MHD_Connection *c,
                                struct api_request *req, const char *name)
{
	static const char *const known[] = {"name",  "priority", "sender", "recipient", "class",
	                                    "words", "regex",    "action", "reason"};
	struct sms_rule r;
	enum MHD_Result ret;
	char actor[SMS_RULE_ACTOR_MAX], action[16];
	if (api_actor_of(c, actor, sizeof(actor), &ret) != 0)
		return ret;
	json_t *o = api_body_object(c, req, &ret);
	if (!o)
		return ret;
	memset(&r, 0, sizeof(r));
	const char *bad = unknown_member(o, known, sizeof(known) / sizeof(known[0]));
	if (bad) {
		ret = api_reply_error(c, 400, bad, "unknown field");
		goto out;
	}
	if (strlen(name) >= sizeof(r.name)) {
		ret = api_reply_error(c, 400, "name", "longer than %zu characters",
		                      sizeof(r.name) - 1);
		goto out;
	}
	snprintf(r.name, sizeof(r.name), "%s", name);
	json_t *v = json_object_get(o, "name");
	if (v && (!json_is_string(v) || strcmp(json_string_value(v), name) != 0)) {
		ret = api_reply_error(c, 400, "name", "must be the name in the path, if given");
		goto out;
	}
	v = json_object_get(o, "priority");
	if (!json_is_integer(v)) {
		ret =
		    api_reply_error(c, 400, "priority",
		                    v ? "must be an integer from 0 to 1000000000" : "is required");
		goto out;
	}
	r.priority = json_integer_value(v);
	if (member_str(c, o, "sender", r.sender, sizeof(r.sender), "*", &ret) ||
	    member_str(c, o, "recipient", r.recipient, sizeof(r.recipient), "*", &ret) ||
	    member_str(c, o, "class", r.sender_class, sizeof(r.sender_class), "*", &ret) ||
	    member_str(c, o, "action", action, sizeof(action), NULL, &ret) ||
	    member_str(c, o, "reason", r.reason, sizeof(r.reason), NULL, &ret))
		goto out;
	if (sms_action_parse(action, &r.action) != 0) {
		ret = api_reply_error(c, 400, "action", "must be deliver, hold or refuse");
		goto out;
	}
	json_t *words = json_object_get(o, "words"), *regex = json_object_get(o, "regex");
	if (words && !json_is_null(words) && regex && !json_is_null(regex)) {
		ret = api_reply_error(c, 400, "regex", "give words or regex, not both");
		goto out;
	}
	r.match = SMS_TEXT_ANY;
	if (words && !json_is_null(words)) {
		r.match = SMS_TEXT_WORDS;
		if (words_member(c, words, &r, &ret) != 0)
			goto out;
	} else if (regex && !json_is_null(regex)) {
		r.match = SMS_TEXT_REGEX;
		if (member_str(c, o, "regex", r.text, sizeof(r.text), NULL, &ret))
			goto out;
	}
	struct sms_rules_error err;
	int rc = sms_rules_put(srv->sms_rules, &r, actor, &err);
	if (rc == -EINVAL || rc == -EEXIST)
		ret = api_reply_error(c, rc == -EEXIST ? 409 : 400, err.field, "%s", err.msg);
	else if (rc < 0 || sms_rules_get(srv->sms_rules, name, &r) != 0)
		ret = api_reply_error(c, 500, NULL, "the store failed; nothing was changed");
	else
		ret = api_reply_json(c, rc == 0 ? 201 : 200, rule_json(&r));
out:
	json_decref(o);
	return ret;
}

static enum MHD_Result rules_handle(struct api_server *srv, struct MHD_Connection *c,
                                    struct api_request *req, const char *method, const char *name)
{
	enum MHD_Result ret;
	char actor[SMS_RULE_ACTOR_MAX];
	if (!*name) {
		if (strcmp(method, "GET") != 0)
			return api_reply_error(c, 405, NULL, "method not allowed");
		json_t *a = rules_array(srv->sms_rules);
		if (!a)
			return api_reply_error(c, 500, NULL, "out of memory");
		return api_reply_json(c, 200, json_pack("{s:o}", "rules", a));
	}
	if (strcmp(method, "PUT") == 0)
		return rule_put(srv, c, req, name);
	if (strcmp(method, "DELETE") == 0) {
		if (api_actor_of(c, actor, sizeof(actor), &ret) != 0)
			return ret;
		int rc = sms_rules_delete(srv->sms_rules, name, actor);
		if (rc == -ENOENT)
			return api_reply_error(c, 404, NULL, "no such rule");
		if (rc != 0)
			return api_reply_error(c, 500, NULL,
			                       "the store failed; nothing was changed");
		return api_reply_json(c, 204, NULL);
	}
	if (strcmp(method, "GET") != 0)
		return api_reply_error(c, 405, NULL, "method not allowed");
	struct sms_rule r;
	if (sms_rules_get(srv->sms_rules, name, &r) != 0)
		return api_reply_error(c, 404, NULL, "no such rule");
	return api_reply_json(c, 200, rule_json(&r));
}

/* --- limits ----------------------------------------------------------------------- */

static enum MHD_Result limits_handle(struct api_server *srv, struct MHD_Connection *c,
                                     struct api_request *req, const char *method)
{
	static const char *const known[] = {"messages", "seconds"};
	struct sms_limits l;
	enum MHD_Result ret;
	char actor[SMS_RULE_ACTOR_MAX];
	if (strcmp(method, "GET") == 0) {
		sms_rules_limits_get(srv->sms_rules, &l);
		return api_reply_json(c, 200, limits_json(&l));
	}
	if (strcmp(method, "PUT") != 0)
		return api_reply_error(c, 405, NULL, "method not allowed");
	if (api_actor_of(c, actor, sizeof(actor), &ret) != 0)
		return ret;
	json_t *o = api_body_object(c, req, &ret);
	if (!o)
		return ret;
	const char *bad = unknown_member(o, known, 2);
	if (bad) {
		ret = api_reply_error(c, 400, bad, "unknown field");
		goto out;
	}
	for (size_t i = 0; i < 2; i++) {
		json_t *v = json_object_get(o, known[i]);
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 1000000) {
			ret = api_reply_error(c, 400, known[i],
			                      v ? "must be a non-negative integer" : "is required");
			goto out;
		}
	}
	l.messages = (unsigned)json_integer_value(json_object_get(o, "messages"));
	l.seconds = (unsigned)json_integer_value(json_object_get(o, "seconds"));
	struct sms_rules_error err;
	int rc = sms_rules_limits_set(srv->sms_rules, &l, actor, &err);
	if (rc == -EINVAL)
		ret = api_reply_error(c, 400, err.field, "%s", err.msg);
	else if (rc != 0)
		ret = api_reply_error(c, 500, NULL, "the store failed; nothing was changed");
	else
		ret = api_reply_json(c, 200, limits_json(&l));
out:
	json_decref(o);
	return ret;
}

/* --- matches and audit ---------------------------------------------------------------- */

struct page {
	json_t *items;
	unsigned limit, shown;
	int64_t last;
};

/* One more record than the page is read, to know whether another follows. */
static void match_one(void *ctx_, const struct sms_match *m)
{
	struct page *p = ctx_;
	if (p->shown == p->limit)
		return;
	json_array_append_new(
	    p->items,
	    json_pack("{s:I,s:o,s:s,s:s,s:s,s:s,s:o}", "id", (json_int_t)m->id, "at",
	              api_json_time(m->at), "rule", m->rule, "sender", m->sender, "recipient",
	              m->recipient, "action", sms_action_name(m->action), "text",
	              m->action == SMS_ACTION_HOLD ? json_string(m->text) : json_null()));
	p->shown++;
	p->last = m->id;
}

static void audit_one(void *ctx_, const struct store_audit_record *a)
{
	struct page *p = ctx_;
	if (p->shown == p->limit)
		return;
	json_array_append_new(
	    p->items, json_pack("{s:I,s:o,s:s,s:s,s:o,s:o}", "id", (json_int_t)a->id, "at",
	                        api_json_time(a->at), "actor", a->actor, "object", a->object,
	                        "before", a->before[0] ? json_string(a->before) : json_null(),
	                        "after", a->after[0] ? json_string(a->after) : json_null()));
	p->shown++;
	p->last = a->id;
}

static enum MHD_Result page_handle(struct api_server *srv, struct MHD_Connection *c, bool matches)
{
	enum MHD_Result ret;
	struct page p = {0};
	int64_t after;
	if (api_page_args(c, PAGE_DEFAULT, PAGE_MAX, "a record id (a non-negative integer)",
	                  &p.limit, &after, &ret) != 0)
		return ret;
	if (!(p.items = json_array()))
		return api_reply_error(c, 500, NULL, "out of memory");
	int n = matches ? sms_rules_matches(srv->sms_rules, after, p.limit + 1, match_one, &p)
	                : sms_rules_audit(srv->sms_rules, after, p.limit + 1, audit_one, &p);
	if (n < 0) {
		json_decref(p.items);
		return api_reply_error(c, 500, NULL, "the store failed");
	}
	bool more = (unsigned)n > p.limit;
	return api_reply_json(c, 200,
	                      json_pack("{s:o,s:o}", matches ? "matches" : "audit", p.items,
	                                "next_after",
	                                more ? json_integer((json_int_t)p.last) : json_null()));
}

/* --- check ------------------------------------------------------------------------------ */

/* An MSISDN as the engine takes it: an optional '+' and 1 to 15 digits
 * (short codes such as 123 included). */
static bool msisdn_ok(const char *s)
{
	return str_is_digits(*s == '+' ? s + 1 : s, 1, 15);
}

static enum MHD_Result check_handle(struct api_server *srv, struct MHD_Connection *c,
                                    struct api_request *req)
{
	static const char *const known[] = {"sender", "recipient", "text", "class"};
	enum MHD_Result ret;
	json_t *o = api_body_object(c, req, &ret);
	if (!o)
		return ret;
	const char *bad = unknown_member(o, known, 4);
	if (bad) {
		ret = api_reply_error(c, 400, bad, "unknown field");
		goto out;
	}
	for (size_t i = 0; i < 4; i++) {
		json_t *v = json_object_get(o, known[i]);
		if (i < 3 && !v) {
			ret = api_reply_error(c, 400, known[i], "is required");
			goto out;
		}
		if (v && !json_is_string(v)) {
			ret = api_reply_error(c, 400, known[i], "must be a string");
			goto out;
		}
	}
	const char *sender = json_string_value(json_object_get(o, "sender"));
	const char *recipient = json_string_value(json_object_get(o, "recipient"));
	const char *text = json_string_value(json_object_get(o, "text"));
	const char *cls = json_string_value(json_object_get(o, "class"));
	if (!msisdn_ok(sender) || !msisdn_ok(recipient)) {
		ret = api_reply_error(c, 400, msisdn_ok(sender) ? "recipient" : "sender",
		                      "must be an MSISDN: an optional '+' and 1 to 15 digits");
		goto out;
	}
	const struct hlr_profile *prof = hlr_registry_profile(srv->reg);
	if (cls && hlr_profile_class_find(prof, cls) < 0) {
		ret = api_reply_error(c, 400, "class", "no such class in the profile");
		goto out;
	}
	/* The sender's class is the subscriber's own unless the caller asks
	 * about another (a what-if); an off-net sender has none. */
	struct hlr_subscr s;
	uint64_t m;
	if (!cls && hlr_msisdn_parse(sender, &m) == 0 &&
	    hlr_subscr_get_by_msisdn(srv->reg, m, &s) == 0)
		cls = hlr_profile_class_name(prof, s.class_id);
	struct sms_verdict v;
	sms_rules_explain(srv->sms_rules, sender, cls, recipient, text, &v);
	ret = api_reply_json(c, 200,
	                     json_pack("{s:s,s:o,s:s,s:s,s:s,s:s}", "sender", sender, "class",
	                               cls ? json_string(cls) : json_null(), "recipient", recipient,
	                               "action", sms_action_name(v.action), "rule", v.rule,
	                               "reason", v.reason));
out:
	json_decref(o);
	return ret;
}

/* --- the SMS centre ----------------------------------------------------------------------- */

static json_t *message_json(const struct smsc_message_info *m)
{
	char origin[sizeof(m->origin)], err[sizeof(m->last_error)];
	/* Terminated within their arrays by the centre, but never trusted to be. */
	snprintf(origin, sizeof(origin), "%.*s", (int)sizeof(m->origin) - 1, m->origin);
	snprintf(err, sizeof(err), "%.*s", (int)sizeof(m->last_error) - 1, m->last_error);
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer((json_int_t)m->id));
	json_object_set_new(o, "state", json_string(smsc_state_name(m->state)));
	json_object_set_new(o, "kind", json_string(m->is_report ? "report" : "message"));
	json_object_set_new(o, "origin", json_string(origin));
	json_object_set_new(o, "sender_msisdn", api_json_digits(m->sender_msisdn));
	json_object_set_new(o, "recipient_msisdn", api_json_digits(m->recipient_msisdn));
	json_object_set_new(o, "segments", json_integer((json_int_t)m->segments));
	json_object_set_new(o, "size", json_integer((json_int_t)m->size));
	json_object_set_new(o, "report_requested", json_boolean(m->report));
	json_object_set_new(o, "submitted_at", api_json_time(m->submitted_at));
	json_object_set_new(o, "expires_at", api_json_time(m->expires_at));
	json_object_set_new(o, "attempts", json_integer((json_int_t)m->attempts));
	json_object_set_new(o, "last_error", api_json_opt(err));
	return o;
}

static void message_one(void *ctx_, const struct smsc_message_info *m)
{
	struct page *p = ctx_;
	if (p->shown == p->limit)
		return;
	json_array_append_new(p->items, message_json(m));
	p->shown++;
	p->last = m->id;
}

static enum MHD_Result messages_list(struct api_server *srv, struct MHD_Connection *c)
{
	enum MHD_Result ret;
	struct page p = {0};
	int64_t after;
	uint64_t msisdn = 0;
	if (api_page_args(c, PAGE_DEFAULT, PAGE_MAX, "a message id (a non-negative integer)",
	                  &p.limit, &after, &ret) != 0)
		return ret;
	const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "msisdn");
	if (v && (!msisdn_ok(v) || hlr_msisdn_parse(v, &msisdn) != 0 || !msisdn))
		return api_reply_error(c, 400, "msisdn",
		                       "must be an MSISDN: an optional '+' and 1 to 15 digits");
	if (!(p.items = json_array()))
		return api_reply_error(c, 500, NULL, "out of memory");
	int n = smsc_messages(srv->smsc, after, p.limit + 1, msisdn, message_one, &p);
	if (n < 0) {
		json_decref(p.items);
		return api_reply_error(c, 500, NULL, "the store failed");
	}
	bool more = (unsigned)n > p.limit;
	return api_reply_json(c, 200,
	                      json_pack("{s:o,s:o}", "messages", p.items, "next_after",
	                                more ? json_integer((json_int_t)p.last) : json_null()));
}

/* A message id in a path: 1 to 18 digits, not 0; else it names none. */
static int message_id(const char *s, size_t n, int64_t *id)
{
	char buf[20];
	if (n == 0 || n >= sizeof(buf))
		return -ENOENT;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (!str_is_digits(buf, 1, 18) || (*id = strtoll(buf, NULL, 10)) <= 0)
		return -ENOENT;
	return 0;
}

/* rest is "{id}" or "{id}/release". */
static enum MHD_Result message_handle(struct api_server *srv, struct MHD_Connection *c,
                                      const char *method, const char *rest)
{
	enum MHD_Result ret;
	char actor[API_ACTOR_MAX + 8];
	size_t n = strcspn(rest, "/");
	const char *action = rest[n] == '/' ? rest + n + 1 : NULL;
	int64_t id;
	if (action && strcmp(action, "release") != 0)
		return api_reply_error(c, 404, NULL, "no such path: /v1/sms/messages/%.100s", rest);
	if (message_id(rest, n, &id) != 0)
		return api_reply_error(c, 404, NULL, "no such message");
	if (action || strcmp(method, "DELETE") == 0) {
		if (strcmp(method, action ? "POST" : "DELETE") != 0)
			return api_reply_error(c, 405, NULL, "method not allowed");
		if (api_actor_of(c, actor, sizeof(actor), &ret) != 0)
			return ret;
		int rc =
		    action ? smsc_release(srv->smsc, id, actor) : smsc_delete(srv->smsc, id, actor);
		if (rc == -ENOENT)
			return api_reply_error(c, 404, NULL, "no such held message");
		if (rc != 0)
			return api_reply_error(c, 500, NULL,
			                       "the store failed; nothing was changed");
		return api_reply_json(c, 204, NULL);
	}
	if (strcmp(method, "GET") != 0)
		return api_reply_error(c, 405, NULL, "method not allowed");
	struct smsc_message_info m;
	if (smsc_message_get(srv->smsc, id, &m) != 0)
		return api_reply_error(c, 404, NULL, "no such message");
	return api_reply_json(c, 200, message_json(&m));
}

/* The members of a CDR, in the order of the JSON and of the CSV columns. */
static const char *const cdr_columns[] = {
    "seq",
    "id",
    "kind",
    "origin",
    "sender_msisdn",
    "sender_imsi",
    "sender_cell",
    "recipient_msisdn",
    "recipient_imsi",
    "recipient_cell",
    "segments",
    "size",
    "submitted_at",
    "final_at",
    "attempts",
    "outcome",
    "channel",
};
#define CDR_COLUMNS (sizeof(cdr_columns) / sizeof(cdr_columns[0]))
/* The cells are what the phones sent (bits of cdr_columns). */
#define CDR_UNTRUSTED ((1u << 6) | (1u << 9))

static json_t *cdr_json(const struct smsc_cdr *r)
{
	char origin[sizeof(r->origin)], channel[sizeof(r->channel)];
	char scell[sizeof(r->sender_cell)], rcell[sizeof(r->recipient_cell)];
	snprintf(origin, sizeof(origin), "%.*s", (int)sizeof(r->origin) - 1, r->origin);
	snprintf(channel, sizeof(channel), "%.*s", (int)sizeof(r->channel) - 1, r->channel);
	snprintf(scell, sizeof(scell), "%.*s", (int)sizeof(r->sender_cell) - 1, r->sender_cell);
	snprintf(rcell, sizeof(rcell), "%.*s", (int)sizeof(r->recipient_cell) - 1,
	         r->recipient_cell);
	json_t *v[CDR_COLUMNS] = {
	    json_integer((json_int_t)r->seq),
	    json_integer((json_int_t)r->id),
	    json_string(r->is_report ? "report" : "message"),
	    json_string(origin),
	    api_json_digits(r->sender_msisdn),
	    api_json_digits(r->sender_imsi),
	    api_json_opt(scell),
	    api_json_digits(r->recipient_msisdn),
	    api_json_digits(r->recipient_imsi),
	    api_json_opt(rcell),
	    json_integer((json_int_t)r->segments),
	    json_integer((json_int_t)r->size),
	    api_json_time_ms(r->submitted_ms),
	    api_json_time_ms(r->final_ms),
	    json_integer((json_int_t)r->attempts),
	    json_string(smsc_state_name(r->outcome)),
	    api_json_opt(channel),
	};
	json_t *o = json_object();
	for (size_t i = 0; i < CDR_COLUMNS; i++)
		json_object_set_new(o, cdr_columns[i], v[i]);
	return o;
}

struct cdr_page {
	unsigned limit, shown;
	int64_t last;
	json_t *items; /* JSON, or */
	FILE *f;       /* CSV or JSON lines */
	bool csv;
};

/* One record more than the page is read, to know whether another follows;
 * it is not shown. Runs with the store locked: only memory is touched. */
static void cdr_one(void *ctx_, const struct smsc_cdr *r)
{
	struct cdr_page *p = ctx_;
	if (p->shown == p->limit)
		return;
	json_t *o = cdr_json(r);
	p->shown++;
	p->last = r->seq;
	if (!p->f) {
		json_array_append_new(p->items, o);
		return;
	}
	if (p->csv) {
		api_csv_record(p->f, o, cdr_columns, CDR_COLUMNS, CDR_UNTRUSTED);
	} else {
		char *s = json_dumps(o, JSON_COMPACT);
		if (s)
			fprintf(p->f, "%s\n", s);
		free(s);
	}
	json_decref(o);
}

static enum MHD_Result cdrs_get(struct api_server *srv, struct MHD_Connection *c)
{
	enum MHD_Result ret;
	struct cdr_page p = {0};
	int64_t after;
	if (api_page_args(c, PAGE_DEFAULT, PAGE_MAX, "a CDR seq (a non-negative integer)", &p.limit,
	                  &after, &ret) != 0)
		return ret;
	const char *fmt = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "format");
	if (fmt && strcmp(fmt, "json") != 0 && strcmp(fmt, "jsonl") != 0 && strcmp(fmt, "csv") != 0)
		return api_reply_error(c, 400, "format", "must be json, jsonl or csv");
	char *text = NULL;
	size_t len = 0;
	if (fmt && strcmp(fmt, "json") != 0) {
		p.csv = strcmp(fmt, "csv") == 0;
		if (!(p.f = open_memstream(&text, &len)))
			return api_reply_error(c, 500, NULL, "out of memory");
		for (size_t i = 0; p.csv && i < CDR_COLUMNS; i++)
			fprintf(p.f, "%s%s", i ? "," : "", cdr_columns[i]);
		if (p.csv)
			fputs("\r\n", p.f);
	} else if (!(p.items = json_array())) {
		return api_reply_error(c, 500, NULL, "out of memory");
	}
	int n = smsc_cdrs(srv->smsc, after, p.limit + 1, cdr_one, &p);
	bool more = n > 0 && (unsigned)n > p.limit;
	if (p.f) {
		bool failed = fclose(p.f) != 0;
		if (n < 0 || failed) {
			free(text);
			return api_reply_error(c, 500, NULL,
			                       n < 0 ? "the store failed" : "out of memory");
		}
		/* The cursor of the next page, where the body has no room for it. */
		char next[24];
		snprintf(next, sizeof(next), "%" PRId64, p.last);
		return api_reply_text_header(
		    c, 200, p.csv ? "text/csv; charset=utf-8; header=present" : "application/jsonl",
		    text, len, more ? "X-Koryo-Next-After" : NULL, next);
	}
	if (n < 0) {
		json_decref(p.items);
		return api_reply_error(c, 500, NULL, "the store failed");
	}
	return api_reply_json(c, 200,
	                      json_pack("{s:o,s:o}", "cdrs", p.items, "next_after",
	                                more ? json_integer((json_int_t)p.last) : json_null()));
}

static enum MHD_Result centre_get(struct api_server *srv, struct MHD_Connection *c)
{
	struct smsc_stats st;
	smsc_get_stats(srv->smsc, &st);
	json_t *o = json_object();
#define STAT(name) json_object_set_new(o, #name, json_integer((json_int_t)st.name))
	STAT(submitted);
	STAT(refused);
	STAT(no_credit);
	STAT(delivered);
	STAT(expired);
	STAT(failed);
	STAT(attempts);
	STAT(retries);
	STAT(reports_sent);
	STAT(waiting);
	STAT(held);
	STAT(in_flight);
	STAT(segments_waiting);
	STAT(incomplete_dropped);
#undef STAT
	return api_reply_json(c, 200, o);
}

/* The centre's paths: what is "messages", "cdrs" or "centre" (wn long),
 * name what follows it after a '/' ("" when nothing). */
static enum MHD_Result centre_handle(struct api_server *srv, struct MHD_Connection *c,
                                     const char *method, const char *what, size_t wn,
                                     const char *name)
{
	if (!srv->smsc)
		return api_reply_error(c, 404, NULL, "the SMS centre is off");
	if (wn == 8 && strncmp(what, "messages", 8) == 0 && *name)
		return message_handle(srv, c, method, name);
	if (strcmp(method, "GET") != 0)
		return api_reply_error(c, 405, NULL, "method not allowed");
	if (wn == 8 && strncmp(what, "messages", 8) == 0)
		return messages_list(srv, c);
	if (*name)
		return api_reply_error(c, 404, NULL, "no such path: /v1/sms/%.100s", what);
	if (wn == 4)
		return cdrs_get(srv, c);
	return centre_get(srv, c);
}

/* --- routing -------------------------------------------------------------------------------- */

/* rest is "" or "/what[/name]". */
enum MHD_Result api_sms_handle(struct api_server *srv, struct MHD_Connection *c,
                               struct api_request *req, const char *method, const char *rest)
{
	const char *what = *rest ? rest + 1 : rest;
	size_t wn = strcspn(what, "/");
	const char *name = what[wn] == '/' ? what + wn + 1 : "";
#define IS(s) (wn == strlen(s) && strncmp(what, s, wn) == 0)
	/* The centre and the content rules are separate parts: either may run
	 * without the other. */
	if (IS("messages") || IS("cdrs") || IS("centre"))
		return centre_handle(srv, c, method, what, wn, name);
	if (!srv->sms_rules)
		return api_reply_error(c, 404, NULL, "the SMS content rules engine is off");
	if (!*rest || strcmp(rest, "/") == 0) {
		if (strcmp(method, "GET") != 0)
			return api_reply_error(c, 405, NULL, "method not allowed");
		struct sms_limits l;
		json_t *a = rules_array(srv->sms_rules);
		if (!a)
			return api_reply_error(c, 500, NULL, "out of memory");
		sms_rules_limits_get(srv->sms_rules, &l);
		return api_reply_json(
		    c, 200, json_pack("{s:o,s:o}", "rules", a, "limits", limits_json(&l)));
	}
	if (strchr(name, '/'))
		return api_reply_error(c, 404, NULL, "no such path: /v1/sms%.100s", rest);
	if (IS("rules"))
		return rules_handle(srv, c, req, method, name);
	if (!*name && IS("limits"))
		return limits_handle(srv, c, req, method);
	if (!*name && (IS("matches") || IS("audit") || IS("check"))) {
		bool post = IS("check");
		if (strcmp(method, post ? "POST" : "GET") != 0)
			return api_reply_error(c, 405, NULL, "method not allowed");
		if (post)
			return check_handle(srv, c, req);
		return page_handle(srv, c, IS("matches"));
	}
#undef IS
	return api_reply_error(c, 404, NULL, "no such path: /v1/sms%.100s", rest);
}
