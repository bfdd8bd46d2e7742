/* Rights (docs/policy.md, "Evaluation"): may this class use this service
 * towards this destination, and this APN? The rules are compiled once, so a
 * check walks a short array comparing integers, under the shared lock, and
 * allocates nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/policy_internal.h"

const char *policy_service_name(enum policy_service svc)
{
	return svc == POLICY_SMS ? "sms" : "voice";
}

int policy_switch_index(const struct policy *p, const char *name)
{
	for (size_t i = 0; i < p->n_sw; i++) {
		if (strcmp(p->sw[i].name, name) == 0)
			return (int)i;
	}
	return -1;
}

static void fail(struct policy_error *err, const char *field, const char *fmt, const char *arg)
{
	snprintf(err->field, sizeof(err->field), "%s", field);
	snprintf(err->msg, sizeof(err->msg), fmt, arg);
}

int policy_right_compile(const struct policy *p, const struct policy_right *r,
                         struct right_rule *out, struct policy_error *err)
{
	const struct hlr_profile *prof = p->profile;
	memset(out, 0, sizeof(*out));
	out->r = *r;
	if (!policy_name_valid(r->name)) {
		fail(err, "name", "must be 1 to 31 of a-z, 0-9, '_', '-', starting with a letter%s",
		     "");
		return -1;
	}
	if (r->priority < 0 || r->priority > 1000000000) {
		fail(err, "priority", "must be an integer from 0 to 1000000000%s", "");
		return -1;
	}
	if (strcmp(r->caller_class, "*") == 0) {
		out->caller = RIGHT_ANY;
	} else if ((out->caller = hlr_profile_class_find(prof, r->caller_class)) < 0) {
		fail(err, "class", "must be a subscriber class of the profile or '*', not '%.40s'",
		     r->caller_class);
		return -1;
	}
	if (strcmp(r->service, "*") == 0)
		out->svcs = 1u << POLICY_VOICE | 1u << POLICY_SMS;
	else if (strcmp(r->service, "voice") == 0)
		out->svcs = 1u << POLICY_VOICE;
	else if (strcmp(r->service, "sms") == 0)
		out->svcs = 1u << POLICY_SMS;
	else {
		fail(err, "service", "must be voice, sms or '*', not '%.40s'", r->service);
		return -1;
	}
	enum num_kind k;
	if (strcmp(r->destination, "*") == 0)
		out->dest_kind = RIGHT_ANY;
	else if (policy_num_kind_parse(r->destination, &k) == 0 && k != NUM_INTL_PREFIX)
		out->dest_kind = (int)k;
	else if (policy_num_find(p, r->destination) &&
	         policy_num_find(p, r->destination)->kind != NUM_INTL_PREFIX)
		out->dest_kind = RIGHT_NONE;
	else {
		fail(err, "destination",
		     "must be national, international, short_code, reserved, the name of a "
		     "numbering rule, or '*', not '%.40s'",
		     r->destination);
		return -1;
	}
	if (strcmp(r->callee_class, "*") == 0)
		out->callee = RIGHT_ANY;
	else if (strcmp(r->callee_class, "none") == 0)
		out->callee = RIGHT_NONE;
	else if ((out->callee = hlr_profile_class_find(prof, r->callee_class)) < 0) {
		fail(err, "callee_class",
		     "must be a subscriber class of the profile, 'none' or '*', not '%.40s'",
		     r->callee_class);
		return -1;
	}
	out->sw = -1;
	if (r->switch_name[0] && (out->sw = policy_switch_index(p, r->switch_name)) < 0) {
		fail(err, "switch", "must be the name of a switch, or empty, not '%.40s'",
		     r->switch_name);
		return -1;
	}
	if (!r->reason[0] || strpbrk(r->reason, "\r\n\"\\")) {
		fail(err, "reason",
		     "must be a sentence of 1 to 127 characters without line breaks, quotes or "
		     "backslashes%s",
		     "");
		return -1;
	}
	return 0;
}

void policy_right_format(const struct policy_right *r, char *out, size_t cap)
{
	/* The reason has no quote (compile refuses one), so quoting it is enough. */
	snprintf(out, cap, "%s,%lld,%s,%s,%s,%s,%s,%s,\"%s\"", r->name, (long long)r->priority,
	         r->caller_class, r->service, r->destination, r->callee_class,
	         r->allow ? "allow" : "deny", r->switch_name, r->reason);
}

static int right_cmp(const void *a_, const void *b_)
{
	const struct right_rule *a = a_, *b = b_;
	if (a->r.priority != b->r.priority)
		return a->r.priority < b->r.priority ? -1 : 1;
	return strcmp(a->r.name, b->r.name);
}

void policy_rights_sort(struct right_rule *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), right_cmp);
}

int policy_gate_compile(const struct policy *p, const char *class_name, const char *apn,
                        const char *switch_name, struct apn_gate *out, char *reason, size_t cap)
{
	memset(out, 0, sizeof(*out));
	out->class_id = hlr_profile_class_find(p->profile, class_name);
	if (out->class_id < 0) {
		snprintf(reason, cap, "class: '%.40s' is not a class of classes.csv", class_name);
		return -1;
	}
	const struct hlr_class *c = &p->profile->classes[out->class_id];
	unsigned i;
	for (i = 0; i < c->n_apns; i++) {
		if (strcasecmp(c->apns[i], apn) == 0)
			break;
	}
	if (i == c->n_apns) {
		snprintf(reason, cap, "apn: class %.31s has no APN '%.63s' (classes.csv)",
		         class_name, apn);
		return -1;
	}
	out->sw = policy_switch_index(p, switch_name);
	if (out->sw < 0) {
		snprintf(reason, cap, "switch: '%.40s' is not a switch of switches.csv",
		         switch_name);
		return -1;
	}
	snprintf(out->r.class_name, sizeof(out->r.class_name), "%s", class_name);
	snprintf(out->r.apn, sizeof(out->r.apn), "%s", c->apns[i]);
	snprintf(out->r.switch_name, sizeof(out->r.switch_name), "%s", switch_name);
	return 0;
}

/* --- checks ----------------------------------------------------------------- */

static void verdict(struct policy_verdict *v, bool allowed, const char *rule, const char *reason)
{
	v->allowed = allowed;
	snprintf(v->rule, sizeof(v->rule), "%s", rule);
	snprintf(v->reason, sizeof(v->reason), "%s", reason);
}

int policy_check(struct policy *p, unsigned caller_class, enum policy_service svc,
                 const struct policy_dest *dest, int callee_class, struct policy_verdict *v)
{
	pthread_rwlock_rdlock(&p->lock);
	if (dest->kind == POLICY_DEST_INVALID) {
		verdict(v, false, "numbering", "the number dialled is not a valid number");
		goto out;
	}
	/* A reserved range is closed to everyone outside its group before any
	 * right is asked: no right can open it to others. */
	if (dest->kind == POLICY_DEST_RESERVED) {
		const struct num_rule *nr = policy_num_find(p, dest->range);
		if (!nr || nr->group != (int)caller_class) {
			v->allowed = false;
			snprintf(v->rule, sizeof(v->rule), "%s", dest->range);
			snprintf(v->reason, sizeof(v->reason),
			         "reserved numbers are reachable only from their group (%.31s)",
			         nr ? nr->r.group : "?");
			goto out;
		}
	}
	const struct right_rule *skipped = NULL;
	for (size_t i = 0; i < p->n_rights; i++) {
		const struct right_rule *r = &p->rights[i];
		if (r->caller != RIGHT_ANY && r->caller != (int)caller_class)
			continue;
		if (!(r->svcs & (1u << svc)))
			continue;
		if (r->dest_kind == RIGHT_NONE
		        ? strcmp(r->r.destination, dest->range) != 0
		        : r->dest_kind != RIGHT_ANY && r->dest_kind != (int)dest->kind)
			continue;
		if (r->callee != RIGHT_ANY &&
		    r->callee != (callee_class < 0 ? RIGHT_NONE : callee_class))
			continue;
		if (r->sw >= 0 && !p->sw[r->sw].enabled) {
			/* A right that applies only while its switch is on is not
			 * there while it is off; if nothing else decides, the
			 * refusal names the switch, which is what the operator
			 * changed. */
			if (!skipped && r->r.allow)
				skipped = r;
			continue;
		}
		verdict(v, r->r.allow, r->r.name, r->r.reason);
		goto out;
	}
	if (skipped) {
		v->allowed = false;
		snprintf(v->rule, sizeof(v->rule), "switch %.31s", skipped->r.switch_name);
		snprintf(v->reason, sizeof(v->reason), "switch %.31s is off (right %.31s)",
		         skipped->r.switch_name, skipped->r.name);
	} else {
		verdict(v, false, "default", "no right allows it");
	}
out:
	pthread_rwlock_unlock(&p->lock);
	return 0;
}

int policy_apn_check(struct policy *p, unsigned class_id, const char *apn, struct policy_verdict *v)
{
	pthread_rwlock_rdlock(&p->lock);
	const struct hlr_profile *prof = p->profile;
	bool has = false;
	if (class_id < prof->n_classes && apn) {
		const struct hlr_class *c = &prof->classes[class_id];
		for (unsigned i = 0; i < c->n_apns && !has; i++)
			has = strcasecmp(c->apns[i], apn) == 0;
	}
	if (!has) {
		verdict(v, false, "classes", "the subscriber's class has no such APN");
		goto out;
	}
	for (size_t i = 0; i < p->n_gates; i++) {
		const struct apn_gate *g = &p->gates[i];
		if (g->class_id == (int)class_id && strcasecmp(g->r.apn, apn) == 0 &&
		    !p->sw[g->sw].enabled) {
			v->allowed = false;
			snprintf(v->rule, sizeof(v->rule), "switch %.31s", g->r.switch_name);
			snprintf(v->reason, sizeof(v->reason),
			         "APN %.40s is closed: switch %.31s is off", g->r.apn,
			         g->r.switch_name);
			goto out;
		}
	}
	verdict(v, true, "classes", "the class has this APN");
out:
	pthread_rwlock_unlock(&p->lock);
	return 0;
}

bool policy_apn_allowed(struct policy *p, unsigned class_id, const char *apn)
{
	struct policy_verdict v;
	policy_apn_check(p, class_id, apn, &v);
	return v.allowed;
}
