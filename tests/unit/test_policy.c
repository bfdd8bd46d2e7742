/* The policy engine with the Koryolink demo data (profiles/koryolink): number
 * analysis of every dialled form, the rights of each class with the rule that
 * refused, reserved ranges, APN gating by a switch, changes (durable, audited,
 * announced) and the installer's refusals of bad files. */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hlr/profile.h"
#include "policy/policy.h"
#include "store/store.h"

struct fx {
	char dir[64];
	char db[128];
	char profile_dir[4096];
	struct store *st;
	struct hlr_profile prof;
	struct policy *p;
	unsigned citizen, foreigner, official;
};

static void fx_open(struct fx *f)
{
	char err[512] = "";
	assert_int_equal(store_open(f->db, NULL, &f->st, err, sizeof(err)), 0);
	assert_int_equal(store_migrate(f->st, 0), 0);
	if (!hlr_profile_installed(f->st)) {
		if (hlr_profile_install(f->st, f->profile_dir, err, sizeof(err)) != 0)
			fail_msg("profile: %s", err);
		assert_int_equal(hlr_profile_load(f->st, &f->prof), 0);
		if (policy_install(f->st, &f->prof, f->profile_dir, err, sizeof(err)) != 0)
			fail_msg("policy: %s", err);
	} else {
		assert_int_equal(hlr_profile_load(f->st, &f->prof), 0);
	}
	assert_int_equal(policy_open(f->st, &f->prof, &f->p), 0);
	f->citizen = (unsigned)hlr_profile_class_find(&f->prof, "citizen");
	f->foreigner = (unsigned)hlr_profile_class_find(&f->prof, "foreigner");
	f->official = (unsigned)hlr_profile_class_find(&f->prof, "official");
}

static void fx_close(struct fx *f)
{
	policy_close(f->p);
	f->p = NULL;
	hlr_profile_free(&f->prof);
	store_close(f->st);
	f->st = NULL;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *src = getenv("KORYO_SRC");
	assert_non_null(src);
	snprintf(f->profile_dir, sizeof(f->profile_dir), "%s/profiles/koryolink", src);
	snprintf(f->dir, sizeof(f->dir), "/tmp/koryo-test-policy.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/koryo.db", f->dir);
	fx_open(f);
	*state = f;
	return 0;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	fx_close(f);
	nftw(f->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* --- number analysis ---------------------------------------------------------- */

static void expect_dest(struct fx *f, const char *dialled, enum policy_dest_kind kind,
                        const char *e164, const char *range, const char *code)
{
	struct policy_dest d;
	assert_int_equal(policy_analyse(f->p, dialled, &d), 0);
	if (d.kind != kind || strcmp(d.e164, e164) != 0 || strcmp(d.range, range) != 0 ||
	    strcmp(d.code, code) != 0)
		fail_msg("'%s': expected %s %s %s %s, got %s '%s' '%s' '%s'", dialled,
		         policy_dest_kind_name(kind), e164, range, code,
		         policy_dest_kind_name(d.kind), d.e164, d.range, d.code);
}

static void test_analyse_forms(void **state)
{
	struct fx *f = *state;
	const char *citizen = "85019120000001";
	/* One citizen's number in every form a phone may send it. */
	expect_dest(f, "+85019120000001", POLICY_DEST_NATIONAL, citizen, "koryolink-citizens", "");
	expect_dest(f, "0085019120000001", POLICY_DEST_NATIONAL, citizen, "koryolink-citizens", "");
	expect_dest(f, "9985019120000001", POLICY_DEST_NATIONAL, citizen, "koryolink-citizens", "");
	expect_dest(f, "019120000001", POLICY_DEST_NATIONAL, citizen, "koryolink-citizens", "");
	expect_dest(f, "0191 2000-0001", POLICY_DEST_NATIONAL, citizen, "koryolink-citizens", "");
	expect_dest(f, "85019120000001", POLICY_DEST_NATIONAL, citizen, "koryolink-citizens", "");
	expect_dest(f, "+850 (1912) 000.0001", POLICY_DEST_NATIONAL, citizen, "koryolink-citizens",
	            "");
	/* Other national ranges. */
	expect_dest(f, "019130000001", POLICY_DEST_NATIONAL, "85019130000001",
	            "koryolink-foreigners", "");
	expect_dest(f, "01951234567", POLICY_DEST_NATIONAL, "8501951234567", "kangsong", "");
	expect_dest(f, "023811234", POLICY_DEST_NATIONAL, "85023811234", "national-other", "");
	/* Abroad: both international prefixes and '+'. */
	expect_dest(f, "0086105551234", POLICY_DEST_INTERNATIONAL, "86105551234", "world", "");
	expect_dest(f, "9986105551234", POLICY_DEST_INTERNATIONAL, "86105551234", "world", "");
	expect_dest(f, "+7 495 555 1234", POLICY_DEST_INTERNATIONAL, "74955551234", "world", "");
	/* The reserved range wins over the wider Koryolink range around it. */
	expect_dest(f, "019190000001", POLICY_DEST_RESERVED, "85019190000001", "koryolink-reserved",
	            "");
	/* Short codes, plain and as service codes. */
	expect_dest(f, "123", POLICY_DEST_SHORT_CODE, "", "balance", "123");
	expect_dest(f, "*123#", POLICY_DEST_SHORT_CODE, "", "balance", "123");
	expect_dest(f, "*123*1234#", POLICY_DEST_SHORT_CODE, "", "balance", "123");
	expect_dest(f, "*123*1234567890123456#", POLICY_DEST_SHORT_CODE, "", "balance", "123");
	expect_dest(f, "112", POLICY_DEST_SHORT_CODE, "", "emergency", "112");
	/* Not numbers. */
	expect_dest(f, "", POLICY_DEST_INVALID, "", "", "");
	expect_dest(f, "alice", POLICY_DEST_INVALID, "", "", "");
	expect_dest(f, "+", POLICY_DEST_INVALID, "", "", "");
	expect_dest(f, "1234", POLICY_DEST_INVALID, "", "", "");    /* no rule: too short */
	expect_dest(f, "*999#", POLICY_DEST_INVALID, "", "", "");   /* no such service */
	expect_dest(f, "*123*12", POLICY_DEST_INVALID, "", "", ""); /* no closing '#' */
	expect_dest(f, "+*123#", POLICY_DEST_INVALID, "", "", "");
	expect_dest(f, "0085019120000001999", POLICY_DEST_INVALID, "", "", ""); /* 17 digits */
	expect_dest(f, "+8501912000", POLICY_DEST_NATIONAL, "8501912000", "national-other", "");
	expect_dest(f, "+850123", POLICY_DEST_INVALID, "", "", ""); /* too short for any rule */
}

/* --- rights ------------------------------------------------------------------------ */

static struct policy_verdict check(struct fx *f, unsigned caller, enum policy_service svc,
                                   const char *dialled, int callee_class)
{
	struct policy_dest d;
	struct policy_verdict v;
	assert_int_equal(policy_analyse(f->p, dialled, &d), 0);
	assert_int_equal(policy_check(f->p, caller, svc, &d, callee_class, &v), 0);
	return v;
}

#define expect_verdict(v, allow, rule_)                                                            \
	do {                                                                                       \
		struct policy_verdict v_ = (v);                                                    \
		if (v_.allowed != (allow) || strcmp(v_.rule, rule_) != 0)                          \
			fail_msg("expected %s by '%s', got %s by '%s' (%s)",                       \
			         (allow) ? "allowed" : "refused", rule_,                           \
			         v_.allowed ? "allowed" : "refused", v_.rule, v_.reason);          \
	} while (0)

static void test_rights_of_each_class(void **state)
{
	struct fx *f = *state;
	int cit = (int)f->citizen, fo = (int)f->foreigner, off = (int)f->official;

	/* Citizens: national yes, abroad no. */
	expect_verdict(check(f, f->citizen, POLICY_VOICE, "019120000002", cit), true,
	               "citizen-national");
	expect_verdict(check(f, f->citizen, POLICY_SMS, "+85019130000001", fo), true,
	               "citizen-national");
	struct policy_verdict v = check(f, f->citizen, POLICY_VOICE, "0086105551234", -1);
	expect_verdict(v, false, "citizen-international");
	assert_string_equal(v.reason, "citizens may not call or text international numbers");
	expect_verdict(check(f, f->citizen, POLICY_SMS, "+74955551234", -1), false,
	               "citizen-international");

	/* Foreigners: abroad yes, citizens' numbers no (on Koryolink by the
	 * callee's class, on Kangsong Net by the range), other foreigners yes. */
	expect_verdict(check(f, f->foreigner, POLICY_VOICE, "0086105551234", -1), true,
	               "foreigner-international");
	v = check(f, f->foreigner, POLICY_VOICE, "85019120000001", cit);
	expect_verdict(v, false, "foreigner-citizens");
	assert_string_equal(v.reason, "foreigners may not call or text citizens' numbers");
	expect_verdict(check(f, f->foreigner, POLICY_SMS, "019120000001", cit), false,
	               "foreigner-citizens");
	expect_verdict(check(f, f->foreigner, POLICY_VOICE, "01951234567", -1), false,
	               "foreigner-kangsong");
	expect_verdict(check(f, f->foreigner, POLICY_VOICE, "019130000002", fo), true,
	               "foreigner-national");
	expect_verdict(check(f, f->foreigner, POLICY_VOICE, "019110000002", off), true,
	               "foreigner-national");

	/* Officials: both. */
	expect_verdict(check(f, f->official, POLICY_VOICE, "0086105551234", -1), true,
	               "official-international");
	expect_verdict(check(f, f->official, POLICY_SMS, "019120000001", cit), true,
	               "official-national");

	/* Short codes for everyone; emergency numbers for voice. */
	expect_verdict(check(f, f->citizen, POLICY_VOICE, "123", -1), true, "service-codes");
	expect_verdict(check(f, f->foreigner, POLICY_SMS, "*123*1234#", -1), true, "service-codes");
	expect_verdict(check(f, f->citizen, POLICY_VOICE, "112", -1), true, "emergency");

	/* What is not a number is refused by numbering, before any right. */
	expect_verdict(check(f, f->official, POLICY_VOICE, "alice", -1), false, "numbering");
}

static void test_reserved_range(void **state)
{
	struct fx *f = *state;
	struct policy_verdict v = check(f, f->citizen, POLICY_VOICE, "019190000001", -1);
	expect_verdict(v, false, "koryolink-reserved");
	assert_string_equal(v.reason,
	                    "reserved numbers are reachable only from their group (official)");
	expect_verdict(check(f, f->foreigner, POLICY_SMS, "+85019190000001", -1), false,
	               "koryolink-reserved");
	expect_verdict(check(f, f->official, POLICY_VOICE, "019190000001", -1), true,
	               "official-reserved");

	/* Never sold outside the group either. */
	assert_int_equal(policy_number_assignable(f->p, f->citizen, "85019190000001", &v), 0);
	expect_verdict(v, false, "koryolink-reserved");
	assert_int_equal(policy_number_assignable(f->p, f->official, "85019190000001", &v), 0);
	assert_true(v.allowed);
	assert_int_equal(policy_number_assignable(f->p, f->citizen, "85019120000099", &v), 0);
	assert_true(v.allowed);
}

/* --- changes ------------------------------------------------------------------------ */

struct seen {
	unsigned calls;
	struct policy_change last;
};

static void on_change(void *ctx, const struct policy_change *chg)
{
	struct seen *s = ctx;
	s->calls++;
	s->last = *chg;
}

struct audit_rows {
	unsigned n;
	struct store_audit_record rec[16];
};

static void audit_one(void *ctx, const struct store_audit_record *rec)
{
	struct audit_rows *a = ctx;
	if (a->n < 16)
		a->rec[a->n++] = *rec;
}

static void test_apn_switch(void **state)
{
	struct fx *f = *state;
	struct seen seen = {0};
	struct policy_verdict v;
	assert_int_equal(policy_subscribe(f->p, on_change, &seen), 0);

	assert_true(policy_apn_allowed(f->p, f->foreigner, "internet"));
	assert_true(policy_apn_allowed(f->p, f->foreigner, "INTERNET")); /* APNs ignore case */
	assert_false(policy_apn_allowed(f->p, f->foreigner, "intranet"));
	assert_true(policy_apn_allowed(f->p, f->citizen, "intranet"));
	assert_false(policy_apn_allowed(f->p, f->citizen, "internet"));

	assert_int_equal(policy_switch_set(f->p, "foreigner_internet", false, "api:test"), 0);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.last.class_id, (int)f->foreigner);
	assert_true(seen.last.apns);
	assert_false(seen.last.rights);
	assert_false(policy_apn_allowed(f->p, f->foreigner, "internet"));
	assert_int_equal(policy_apn_check(f->p, f->foreigner, "internet", &v), 0);
	expect_verdict(v, false, "switch foreigner_internet");
	/* Officials' internet is not behind the switch. */
	assert_true(policy_apn_allowed(f->p, f->official, "internet"));

	/* Setting what is already set changes and announces nothing. */
	assert_int_equal(policy_switch_set(f->p, "foreigner_internet", false, "api"), 0);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(policy_switch_set(f->p, "no_such_switch", true, "api"), -ENOENT);

	assert_int_equal(policy_switch_set(f->p, "foreigner_internet", true, "api"), 0);
	assert_int_equal(seen.calls, 2);
	assert_true(policy_apn_allowed(f->p, f->foreigner, "internet"));

	/* The audit trail has both changes, in order, with who and what. */
	struct audit_rows a = {0};
	assert_int_equal(policy_audit_list(f->p, 0, 10, audit_one, &a), 2);
	assert_string_equal(a.rec[0].actor, "api:test");
	assert_string_equal(a.rec[0].object, "switch foreigner_internet");
	assert_string_equal(a.rec[0].before, "on");
	assert_string_equal(a.rec[0].after, "off");
	assert_string_equal(a.rec[1].actor, "api");
	assert_string_equal(a.rec[1].after, "on");
	assert_true(a.rec[1].id > a.rec[0].id);
	assert_true(a.rec[0].at > 0);
	/* Keyset paging: after the first, only the second. */
	struct audit_rows b = {0};
	assert_int_equal(policy_audit_list(f->p, a.rec[0].id, 10, audit_one, &b), 1);
	assert_int_equal(b.rec[0].id, a.rec[1].id);
}

static void test_switch_gates_rights_and_survives_restart(void **state)
{
	struct fx *f = *state;
	struct seen seen = {0};
	assert_int_equal(policy_subscribe(f->p, on_change, &seen), 0);
	assert_int_equal(policy_switch_set(f->p, "international_calls", false, "api:night"), 0);
	assert_int_equal(seen.calls, 1);
	assert_true(seen.last.rights);
	assert_int_equal(seen.last.class_id, -1); /* foreigners' and officials' rights */
	struct policy_verdict v = check(f, f->foreigner, POLICY_VOICE, "0086105551234", -1);
	expect_verdict(v, false, "switch international_calls");
	assert_string_equal(v.reason,
	                    "switch international_calls is off (right foreigner-international)");
	/* A right that refuses anyway still names itself. */
	expect_verdict(check(f, f->citizen, POLICY_VOICE, "0086105551234", -1), false,
	               "citizen-international");

	/* Durable: a restart keeps the switch off and the audit record. */
	fx_close(f);
	fx_open(f);
	struct policy_switch sw;
	assert_int_equal(policy_switch_get(f->p, "international_calls", &sw), 0);
	assert_false(sw.enabled);
	assert_true(sw.updated_at > 0);
	expect_verdict(check(f, f->official, POLICY_VOICE, "+74955551234", -1), false,
	               "switch international_calls");
	struct audit_rows a = {0};
	assert_int_equal(policy_audit_list(f->p, 0, 10, audit_one, &a), 1);
	assert_string_equal(a.rec[0].actor, "api:night");
	/* The next record continues the ids after a restart. */
	assert_int_equal(policy_switch_set(f->p, "international_calls", true, "api"), 0);
	struct audit_rows b = {0};
	assert_int_equal(policy_audit_list(f->p, a.rec[0].id, 10, audit_one, &b), 1);
	assert_true(b.rec[0].id > a.rec[0].id);
}

static void test_right_changes(void **state)
{
	struct fx *f = *state;
	struct seen seen = {0};
	struct policy_error err;
	assert_int_equal(policy_subscribe(f->p, on_change, &seen), 0);

	/* Let citizens text one friendly country: a rule before their refusal. */
	struct policy_right r = {.name = "citizen-sms-china",
	                         .priority = 105,
	                         .caller_class = "citizen",
	                         .service = "sms",
	                         .destination = "world",
	                         .callee_class = "none",
	                         .allow = true,
	                         .reason = "citizens may text abroad"};
	assert_int_equal(policy_right_put(f->p, &r, "api:ops", &err), 0);
	assert_int_equal(seen.calls, 1);
	assert_true(seen.last.rights);
	assert_int_equal(seen.last.class_id, (int)f->citizen);
	expect_verdict(check(f, f->citizen, POLICY_SMS, "0086105551234", -1), true,
	               "citizen-sms-china");
	expect_verdict(check(f, f->citizen, POLICY_VOICE, "0086105551234", -1), false,
	               "citizen-international");

	/* Replacing it: now a refusal. */
	r.allow = false;
	snprintf(r.reason, sizeof(r.reason), "no texts abroad");
	assert_int_equal(policy_right_put(f->p, &r, "api:ops", &err), 1);
	expect_verdict(check(f, f->citizen, POLICY_SMS, "0086105551234", -1), false,
	               "citizen-sms-china");

	/* Refused changes name the field and change nothing. */
	struct policy_right bad = r;
	snprintf(bad.caller_class, sizeof(bad.caller_class), "soldier");
	assert_int_equal(policy_right_put(f->p, &bad, "api", &err), -EINVAL);
	assert_string_equal(err.field, "class");
	bad = r;
	snprintf(bad.destination, sizeof(bad.destination), "mars");
	assert_int_equal(policy_right_put(f->p, &bad, "api", &err), -EINVAL);
	assert_string_equal(err.field, "destination");
	bad = r;
	snprintf(bad.switch_name, sizeof(bad.switch_name), "no_switch");
	assert_int_equal(policy_right_put(f->p, &bad, "api", &err), -EINVAL);
	assert_string_equal(err.field, "switch");
	bad = r;
	bad.priority = 100; /* citizen-national's */
	assert_int_equal(policy_right_put(f->p, &bad, "api", &err), -EEXIST);
	assert_string_equal(err.field, "priority");
	assert_int_equal(seen.calls, 2);
	expect_verdict(check(f, f->citizen, POLICY_SMS, "0086105551234", -1), false,
	               "citizen-sms-china");

	assert_int_equal(policy_right_delete(f->p, "citizen-sms-china", "api:ops"), 0);
	assert_int_equal(policy_right_delete(f->p, "citizen-sms-china", "api:ops"), -ENOENT);
	assert_int_equal(seen.calls, 3);
	expect_verdict(check(f, f->citizen, POLICY_SMS, "0086105551234", -1), false,
	               "citizen-international");

	struct audit_rows a = {0};
	assert_int_equal(policy_audit_list(f->p, 0, 10, audit_one, &a), 3);
	assert_string_equal(a.rec[0].object, "right citizen-sms-china");
	assert_string_equal(a.rec[0].before, "");
	assert_string_equal(a.rec[0].after, "citizen-sms-china,105,citizen,sms,world,none,allow,,"
	                                    "\"citizens may text abroad\"");
	assert_string_equal(a.rec[2].after, "");
	assert_string_equal(a.rec[2].before, a.rec[1].after);

	/* Deleting every right leaves the default: deny. */
	struct policy_right *all;
	size_t n;
	assert_int_equal(policy_rights_list(f->p, &all, &n), 0);
	assert_int_equal(n, 11);
	for (size_t i = 1; i < n; i++)
		assert_true(all[i - 1].priority < all[i].priority);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(policy_right_delete(f->p, all[i].name, "api"), 0);
	free(all);
	expect_verdict(check(f, f->citizen, POLICY_VOICE, "019120000002", (int)f->citizen), false,
	               "default");
}

/* --- installing ------------------------------------------------------------------------ */

static void copy_file(const char *from_dir, const char *to_dir, const char *name)
{
	char a[4200], b[200], buf[4096];
	snprintf(a, sizeof(a), "%s/%s", from_dir, name);
	snprintf(b, sizeof(b), "%s/%s", to_dir, name);
	FILE *in = fopen(a, "r"), *out = fopen(b, "w");
	assert_non_null(in);
	assert_non_null(out);
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	assert_int_equal(fclose(out), 0);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[200];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *out = fopen(path, "w");
	assert_non_null(out);
	fputs(text, out);
	assert_int_equal(fclose(out), 0);
}

/* Installs the demo with one file replaced by text: the error (or "" on
 * success) into err, and how many rights and switches the store then has. */
static int install_with(struct fx *f, const char *file, const char *text, char *err, size_t cap,
                        size_t *rights, size_t *switches)
{
	char dir[64], db[128];
	snprintf(dir, sizeof(dir), "/tmp/koryo-test-policy-inst.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/koryo.db", dir);
	const char *files[] = {"profile.conf",  "classes.csv", "cities.csv",      "switches.csv",
	                       "numbering.csv", "rights.csv",  "apn_switches.csv"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		copy_file(f->profile_dir, dir, files[i]);
	if (text)
		write_file(dir, file, text);
	else if (file) {
		char path[200];
		snprintf(path, sizeof(path), "%s/%s", dir, file);
		unlink(path);
	}

	struct store *st;
	struct hlr_profile prof;
	struct policy *p;
	char e[512] = "";
	assert_int_equal(store_open(db, NULL, &st, e, sizeof(e)), 0);
	assert_int_equal(store_migrate(st, 0), 0);
	assert_int_equal(hlr_profile_install(st, dir, e, sizeof(e)), 0);
	assert_int_equal(hlr_profile_load(st, &prof), 0);
	int rc = policy_install(st, &prof, dir, err, cap);
	if (rc == 0)
		err[0] = '\0';
	/* The error names the file in dir: show it relative to it. */
	size_t dl = strlen(dir);
	if (strncmp(err, dir, dl) == 0)
		memmove(err, err + dl + 1, strlen(err + dl + 1) + 1);
	assert_int_equal(policy_open(st, &prof, &p), 0);
	struct policy_right *r;
	struct policy_switch *s;
	assert_int_equal(policy_rights_list(p, &r, rights), 0);
	assert_int_equal(policy_switches_list(p, &s, switches), 0);
	free(r);
	free(s);
	policy_close(p);
	hlr_profile_free(&prof);
	store_close(st);
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	return rc;
}

static void test_install_errors(void **state)
{
	struct fx *f = *state;
	char err[512];
	size_t nr, ns;
	static const char hdr[] =
	    "name,priority,class,service,destination,callee_class,verdict,switch,reason\n";
	struct {
		const char *file, *text, *err;
	} cases[] = {
	    {"rights.csv", "name,priority,class\n", "rights.csv:1: expected header '"},
	    {"rights.csv", "", "rights.csv:1: empty file, expected a header"},
	    {"switches.csv", "name,enabled,description\nforeigner_internet,yes,x\n",
	     "switches.csv:2: enabled: expected on or off, got 'yes'"},
	    {"switches.csv", "name,enabled,description\na,on,x\na,off,y\n",
	     "switches.csv:3: switch 'a' given twice"},
	    {"numbering.csv",
	     "name,kind,prefix,min_length,max_length,group,description\nx,reserved,8501919,14,14,"
	     "soldier,d\n",
	     "numbering.csv:2: group: a reserved range needs the class that may reach it "
	     "(classes.csv), got 'soldier'"},
	    {"numbering.csv",
	     "name,kind,prefix,min_length,max_length,group,description\nx,national,85a,14,14,,d\n",
	     "numbering.csv:2: prefix: expected 1 to 15 digits, got '85a'"},
	    {"rights.csv", NULL, NULL},
	};
	(void)hdr;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]) - 1; i++) {
		assert_int_equal(
		    install_with(f, cases[i].file, cases[i].text, err, sizeof(err), &nr, &ns), -1);
		if (strncmp(err, cases[i].err, strlen(cases[i].err)) != 0)
			fail_msg("case %zu: expected '%s', got '%s'", i, cases[i].err, err);
		/* Nothing written: not even the files before the bad one. */
		assert_int_equal(nr, 0);
		assert_int_equal(ns, 0);
	}

	/* A right naming what does not exist, on its line. */
	char text[1024];
	snprintf(text, sizeof(text),
	         "%sok,1,*,*,*,*,allow,,fine\nbad,2,citizen,fax,*,*,allow,,no\n", hdr);
	assert_int_equal(install_with(f, "rights.csv", text, err, sizeof(err), &nr, &ns), -1);
	assert_string_equal(err, "rights.csv:3: service: must be voice, sms or '*', not 'fax'");
	snprintf(text, sizeof(text), "%sa,1,*,*,*,*,allow,,x\nb,1,*,*,*,*,deny,,y\n", hdr);
	assert_int_equal(install_with(f, "rights.csv", text, err, sizeof(err), &nr, &ns), -1);
	assert_string_equal(err, "rights.csv:3: priority: 1 is already right 'a''s");
	snprintf(text, sizeof(text), "%sa,1,*,*,*,*,allow,nope,x\n", hdr);
	assert_int_equal(install_with(f, "rights.csv", text, err, sizeof(err), &nr, &ns), -1);
	assert_string_equal(
	    err, "rights.csv:2: switch: must be the name of a switch, or empty, not 'nope'");
	assert_int_equal(install_with(f, "apn_switches.csv",
	                              "class,apn,switch\ncitizen,internet,foreigner_internet\n",
	                              err, sizeof(err), &nr, &ns),
	                 -1);
	assert_string_equal(err, "apn_switches.csv:2: apn: class citizen has no APN 'internet' "
	                         "(classes.csv)");

	/* The demo as it is; and without a rights file, a policy that refuses all. */
	assert_int_equal(install_with(f, NULL, NULL, err, sizeof(err), &nr, &ns), 0);
	assert_int_equal(nr, 11);
	assert_int_equal(ns, 2);
	assert_int_equal(install_with(f, "rights.csv", NULL, err, sizeof(err), &nr, &ns), 0);
	assert_int_equal(nr, 0);
	assert_int_equal(ns, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_analyse_forms, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rights_of_each_class, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reserved_range, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_apn_switch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_switch_gates_rights_and_survives_restart, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_right_changes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_install_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
