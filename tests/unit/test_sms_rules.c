/* The SMS content rules engine with the Koryolink demo rules: words against
 * regular expressions, priorities, each action, class and prefix matching,
 * the flood limit on a clock the test drives, refused rules naming the
 * field, the record of matches, changes that survive a reopen, and the
 * installer's "FILE:LINE: reason". */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "hlr/profile.h"
#include "sms/rules.h"
#include "store/store.h"
#include "store/store_queue.h"

#define CITIZEN  "85019120000001"
#define CITIZEN2 "85019120000002"

struct fx {
	char dir[64];
	char db[128];
	char profile_dir[4096];
	struct store *st;
	struct hlr_profile prof;
	struct sms_rules *r;
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
		if (sms_rules_install(f->st, &f->prof, f->profile_dir, err, sizeof(err)) != 0)
			fail_msg("sms rules: %s", err);
	} else {
		assert_int_equal(hlr_profile_load(f->st, &f->prof), 0);
	}
	assert_int_equal(sms_rules_open(f->st, NULL, &f->prof, &f->r), 0);
}

static void fx_close(struct fx *f)
{
	sms_rules_close(f->r);
	f->r = NULL;
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
	snprintf(f->dir, sizeof(f->dir), "/tmp/koryo-test-sms-rules.XXXXXX");
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

/* Checks (recording) and compares the action and the deciding rule. */
static void expect(struct fx *f, const char *from, const char *cls, const char *to,
                   const char *text, enum sms_action action, const char *rule)
{
	struct sms_verdict v;
	assert_int_equal(sms_rules_check(f->r, from, cls, to, text, &v), 0);
	if (v.action != action || strcmp(v.rule, rule) != 0)
		fail_msg("'%s' from %s (%s) to %s: expected %s by %s, got %s by %s (%s)", text,
		         from, cls, to, sms_action_name(action), rule, sms_action_name(v.action),
		         v.rule, v.reason);
}

static struct sms_rule rule(const char *name, int64_t prio, enum sms_text_match m, const char *text,
                            enum sms_action a)
{
	struct sms_rule r;
	memset(&r, 0, sizeof(r));
	snprintf(r.name, sizeof(r.name), "%s", name);
	r.priority = prio;
	snprintf(r.sender, sizeof(r.sender), "*");
	snprintf(r.recipient, sizeof(r.recipient), "*");
	snprintf(r.sender_class, sizeof(r.sender_class), "*");
	r.match = m;
	snprintf(r.text, sizeof(r.text), "%s", text);
	r.action = a;
	snprintf(r.reason, sizeof(r.reason), "test rule %s", name);
	return r;
}

static void put_ok(struct fx *f, const struct sms_rule *r)
{
	struct sms_rules_error e;
	int rc = sms_rules_put(f->r, r, "test", &e);
	if (rc != 0 && rc != 1)
		fail_msg("put %s: %d %s: %s", r->name, rc, e.field, e.msg);
}

static void put_refused(struct fx *f, const struct sms_rule *r, int want, const char *field)
{
	struct sms_rules_error e;
	assert_int_equal(sms_rules_put(f->r, r, "test", &e), want);
	assert_string_equal(e.field, field);
	assert_true(e.msg[0] != '\0');
}

/* --- the demo rules: words and regular expressions ----------------------------- */

static void test_demo_words_and_regex(void **state)
{
	struct fx *f = *state;
	/* Words: whole words, any case, any of the list. */
	expect(f, CITIZEN, "citizen", CITIZEN2, "YOU HAVE WON a bicycle!", SMS_ACTION_HOLD,
	       "prize-scam");
	expect(f, CITIZEN, "citizen", CITIZEN2, "lottery winner: call me", SMS_ACTION_HOLD,
	       "prize-scam");
	/* ...but not inside a longer word. */
	expect(f, CITIZEN, "citizen", CITIZEN2, "you have wonderful news", SMS_ACTION_DELIVER,
	       "default");
	expect(f, CITIZEN, "citizen", CITIZEN2, "lottery winners", SMS_ACTION_DELIVER, "default");
	expect(f, CITIZEN, "citizen", CITIZEN2, "reclaim your prize", SMS_ACTION_DELIVER,
	       "default");
	expect(f, CITIZEN, "citizen", CITIZEN2, "(claim your prize)", SMS_ACTION_HOLD,
	       "prize-scam");
	/* A regular expression, case-insensitive. */
	expect(f, CITIZEN, "citizen", CITIZEN2, "Please SEND me your PIN now", SMS_ACTION_REFUSE,
	       "voucher-pin-phishing");
	expect(f, CITIZEN, "citizen", CITIZEN2, "tell the voucher code", SMS_ACTION_REFUSE,
	       "voucher-pin-phishing");
	expect(f, CITIZEN, "citizen", CITIZEN2, "my pin is safe", SMS_ACTION_DELIVER, "default");
	/* The operator's service number comes first and is never filtered. */
	expect(f, "123", "", CITIZEN2, "you have won 100 free minutes", SMS_ACTION_DELIVER,
	       "operator-notices");
	/* An empty or absent text matches only rules on any text. */
	expect(f, CITIZEN, "citizen", CITIZEN2, NULL, SMS_ACTION_DELIVER, "default");
	/* A '+' before an MSISDN is the same number. */
	expect(f, "+123", "", CITIZEN2, "x", SMS_ACTION_DELIVER, "operator-notices");
}

static void test_priorities(void **state)
{
	struct fx *f = *state;
	struct sms_rule a = rule("deliver-tea", 50, SMS_TEXT_WORDS, "tea", SMS_ACTION_DELIVER);
	struct sms_rule b = rule("refuse-tea", 60, SMS_TEXT_REGEX, "t[e]a", SMS_ACTION_REFUSE);
	put_ok(f, &b);
	expect(f, CITIZEN, "citizen", CITIZEN2, "tea at five", SMS_ACTION_REFUSE, "refuse-tea");
	put_ok(f, &a);
	expect(f, CITIZEN, "citizen", CITIZEN2, "tea at five", SMS_ACTION_DELIVER, "deliver-tea");
	/* Replacing a rule moves it: now the refusal is tried first. */
	a.priority = 70;
	struct sms_rules_error e;
	assert_int_equal(sms_rules_put(f->r, &a, "test", &e), 1);
	expect(f, CITIZEN, "citizen", CITIZEN2, "tea at five", SMS_ACTION_REFUSE, "refuse-tea");
	/* Two rules may not share a priority. */
	struct sms_rule c = rule("other", 60, SMS_TEXT_ANY, "", SMS_ACTION_DELIVER);
	put_refused(f, &c, -EEXIST, "priority");
	/* The list is in the order the rules are tried. */
	struct sms_rule *v;
	size_t n;
	assert_int_equal(sms_rules_list(f->r, &v, &n), 0);
	for (size_t i = 1; i < n; i++)
		assert_true(v[i - 1].priority < v[i].priority);
	free(v);
	assert_int_equal(sms_rules_delete(f->r, "refuse-tea", "test"), 0);
	assert_int_equal(sms_rules_delete(f->r, "refuse-tea", "test"), -ENOENT);
	expect(f, CITIZEN, "citizen", CITIZEN2, "tea at five", SMS_ACTION_DELIVER, "deliver-tea");
}

static void test_class_and_prefixes(void **state)
{
	struct fx *f = *state;
	struct sms_rule r = rule("official-hold", 40, SMS_TEXT_ANY, "", SMS_ACTION_HOLD);
	snprintf(r.sender_class, sizeof(r.sender_class), "official");
	put_ok(f, &r);
	expect(f, CITIZEN, "official", CITIZEN2, "hello", SMS_ACTION_HOLD, "official-hold");
	expect(f, CITIZEN, "citizen", CITIZEN2, "hello", SMS_ACTION_DELIVER, "default");

	r = rule("to-8502", 41, SMS_TEXT_ANY, "", SMS_ACTION_REFUSE);
	snprintf(r.recipient, sizeof(r.recipient), "8502");
	put_ok(f, &r);
	expect(f, CITIZEN, "citizen", "85021234567", "hello", SMS_ACTION_REFUSE, "to-8502");
	expect(f, CITIZEN, "citizen", "+85021234567", "hello", SMS_ACTION_REFUSE, "to-8502");
	expect(f, CITIZEN, "citizen", "85012021234", "hello", SMS_ACTION_DELIVER, "default");

	r = rule("from-86", 42, SMS_TEXT_ANY, "", SMS_ACTION_REFUSE);
	snprintf(r.sender, sizeof(r.sender), "86");
	put_ok(f, &r);
	expect(f, "8613800000000", "", CITIZEN2, "hello", SMS_ACTION_REFUSE, "from-86");
	expect(f, "8501386", "citizen", CITIZEN2, "hello", SMS_ACTION_DELIVER, "default");
}

static void test_bad_rules_refused(void **state)
{
	struct fx *f = *state;
	struct sms_rule r = rule("bad-regex", 500, SMS_TEXT_REGEX, "(unclosed", SMS_ACTION_REFUSE);
	put_refused(f, &r, -EINVAL, "regex");
	r = rule("bad-words", 500, SMS_TEXT_WORDS, "one;;two", SMS_ACTION_REFUSE);
	put_refused(f, &r, -EINVAL, "words");
	r = rule("bad-class", 500, SMS_TEXT_ANY, "", SMS_ACTION_REFUSE);
	snprintf(r.sender_class, sizeof(r.sender_class), "soldier");
	put_refused(f, &r, -EINVAL, "class");
	r = rule("bad-prefix", 500, SMS_TEXT_ANY, "", SMS_ACTION_REFUSE);
	snprintf(r.sender, sizeof(r.sender), "85x");
	put_refused(f, &r, -EINVAL, "sender");
	r = rule("Bad Name", 500, SMS_TEXT_ANY, "", SMS_ACTION_REFUSE);
	put_refused(f, &r, -EINVAL, "name");
	r = rule("flood", 500, SMS_TEXT_ANY, "", SMS_ACTION_REFUSE);
	put_refused(f, &r, -EINVAL, "name");
	r = rule("no-reason", 500, SMS_TEXT_ANY, "", SMS_ACTION_REFUSE);
	r.reason[0] = '\0';
	put_refused(f, &r, -EINVAL, "reason");
	/* A pattern that fills the whole field has no room for its end. */
	r = rule("too-long", 500, SMS_TEXT_REGEX, "a", SMS_ACTION_REFUSE);
	memset(r.text, 'a', sizeof(r.text));
	put_refused(f, &r, -EINVAL, "regex");
	/* Nothing of it was kept. */
	struct sms_rule got;
	assert_int_equal(sms_rules_get(f->r, "bad-regex", &got), -ENOENT);
	expect(f, CITIZEN, "citizen", CITIZEN2, "unclosed", SMS_ACTION_DELIVER, "default");
}

/* --- the flood limit -------------------------------------------------------------- */

static uint64_t fake_ns;
static uint64_t fake_clock(void)
{
	return fake_ns;
}

static void test_flood(void **state)
{
	struct fx *f = *state;
	struct sms_limits l;
	struct sms_rules_error e;
	/* The demo limit: 30 a minute. */
	sms_rules_limits_get(f->r, &l);
	assert_int_equal(l.messages, 30);
	assert_int_equal(l.seconds, 60);

	fake_ns = 1000000000000ULL;
	sms_rules_set_clock(f->r, fake_clock);
	l = (struct sms_limits){.messages = 3, .seconds = 60};
	assert_int_equal(sms_rules_limits_set(f->r, &l, "test", &e), 0);
	for (int i = 0; i < 3; i++)
		expect(f, CITIZEN, "citizen", CITIZEN2, "hi", SMS_ACTION_DELIVER, "default");
	expect(f, CITIZEN, "citizen", CITIZEN2, "hi", SMS_ACTION_REFUSE, "flood");
	/* The limit is per sender. */
	expect(f, CITIZEN2, "citizen", CITIZEN, "hi", SMS_ACTION_DELIVER, "default");
	/* A third of the window earns one message back, not more. */
	fake_ns += 20ULL * 1000000000ULL;
	expect(f, CITIZEN, "citizen", CITIZEN2, "hi", SMS_ACTION_DELIVER, "default");
	expect(f, CITIZEN, "citizen", CITIZEN2, "hi", SMS_ACTION_REFUSE, "flood");
	/* The flood limit comes before the rules: even the operator's rule. */
	fake_ns += 3600ULL * 1000000000ULL;
	for (int i = 0; i < 3; i++)
		expect(f, "123", "", CITIZEN2, "x", SMS_ACTION_DELIVER, "operator-notices");
	expect(f, "123", "", CITIZEN2, "x", SMS_ACTION_REFUSE, "flood");

	/* Bad limits name their field; 0 turns the limit off. */
	l = (struct sms_limits){.messages = 5, .seconds = 0};
	assert_int_equal(sms_rules_limits_set(f->r, &l, "test", &e), -EINVAL);
	assert_string_equal(e.field, "seconds");
	l = (struct sms_limits){.messages = 0, .seconds = 0};
	assert_int_equal(sms_rules_limits_set(f->r, &l, "test", &e), 0);
	for (int i = 0; i < 10; i++)
		expect(f, CITIZEN, "citizen", CITIZEN2, "hi", SMS_ACTION_DELIVER, "default");
}

/* --- the record of matches ------------------------------------------------------ */

struct seen {
	int n;
	struct {
		char rule[SMS_RULE_NAME_MAX];
		enum sms_action action;
		char text[128];
		char sender[SMS_RULE_PREFIX_MAX];
		int64_t id;
	} m[16];
};

static void collect(void *ctx, const struct sms_match *m)
{
	struct seen *s = ctx;
	if (s->n == 16)
		return;
	snprintf(s->m[s->n].rule, sizeof(s->m[s->n].rule), "%s", m->rule);
	snprintf(s->m[s->n].text, sizeof(s->m[s->n].text), "%s", m->text);
	snprintf(s->m[s->n].sender, sizeof(s->m[s->n].sender), "%s", m->sender);
	s->m[s->n].action = m->action;
	s->m[s->n].id = m->id;
	s->n++;
}

static void test_matches_recorded(void **state)
{
	struct fx *f = *state;
	struct seen s = {0};
	expect(f, CITIZEN, "citizen", CITIZEN2, "good morning", SMS_ACTION_DELIVER, "default");
	expect(f, CITIZEN, "citizen", CITIZEN2, "You have won a prize", SMS_ACTION_HOLD,
	       "prize-scam");
	expect(f, "+" CITIZEN, "citizen", CITIZEN2, "send me your pin", SMS_ACTION_REFUSE,
	       "voucher-pin-phishing");
	/* An explanation neither records nor takes from the flood limit. */
	struct sms_verdict v;
	assert_int_equal(sms_rules_explain(f->r, CITIZEN, "citizen", CITIZEN2, "you have won", &v),
	                 0);
	assert_int_equal(v.action, SMS_ACTION_HOLD);

	assert_int_equal(sms_rules_matches(f->r, 0, 10, collect, &s), 2);
	/* No rule matched "good morning": nothing recorded for it. */
	assert_string_equal(s.m[0].rule, "prize-scam");
	assert_int_equal(s.m[0].action, SMS_ACTION_HOLD);
	/* The text is kept only for review: held messages. */
	assert_string_equal(s.m[0].text, "You have won a prize");
	assert_string_equal(s.m[1].rule, "voucher-pin-phishing");
	assert_int_equal(s.m[1].action, SMS_ACTION_REFUSE);
	assert_string_equal(s.m[1].text, "");
	assert_string_equal(s.m[1].sender, CITIZEN);
	assert_true(s.m[1].id > s.m[0].id);
	/* Keyset paging. */
	struct seen t = {0};
	assert_int_equal(sms_rules_matches(f->r, s.m[0].id, 10, collect, &t), 1);
	assert_string_equal(t.m[0].rule, "voucher-pin-phishing");
}

/* With koryod's group commit, refusals are queued and a hold is written at
 * once; both are in the record once the queue has been flushed. */
static void test_matches_through_the_queue(void **state)
{
	struct fx *f = *state;
	struct store_queue *q;
	sms_rules_close(f->r);
	assert_int_equal(store_queue_start(f->st, &q), 0);
	assert_int_equal(sms_rules_open(f->st, q, &f->prof, &f->r), 0);
	expect(f, CITIZEN, "citizen", CITIZEN2, "send me your pin", SMS_ACTION_REFUSE,
	       "voucher-pin-phishing");
	expect(f, CITIZEN, "citizen", CITIZEN2, "lottery winner!", SMS_ACTION_HOLD, "prize-scam");
	store_queue_stop(q);
	struct seen s = {0};
	assert_int_equal(sms_rules_matches(f->r, 0, 10, collect, &s), 2);
	assert_string_equal(s.m[0].rule, "voucher-pin-phishing");
	assert_string_equal(s.m[0].text, "");
	assert_string_equal(s.m[1].text, "lottery winner!");
	/* The engine must not outlive its queue in use: reopen without it. */
	sms_rules_close(f->r);
	assert_int_equal(sms_rules_open(f->st, NULL, &f->prof, &f->r), 0);
}

/* --- durability ---------------------------------------------------------------------- */

struct audit_seen {
	int n;
	char last_object[64];
	char last_before[SMS_AUDIT_MAX];
};

static void audit_collect(void *ctx, const struct store_audit_record *a)
{
	struct audit_seen *s = ctx;
	s->n++;
	snprintf(s->last_object, sizeof(s->last_object), "%s", a->object);
	snprintf(s->last_before, sizeof(s->last_before), "%s", a->before);
}

static void test_changes_survive_reopen(void **state)
{
	struct fx *f = *state;
	struct sms_rules_error e;
	struct sms_rule r = rule("rates", 150, SMS_TEXT_WORDS, "spam, eggs;ham", SMS_ACTION_HOLD);
	put_ok(f, &r);
	struct sms_limits l = {.messages = 7, .seconds = 10};
	assert_int_equal(sms_rules_limits_set(f->r, &l, "api:tester", &e), 0);
	assert_int_equal(sms_rules_delete(f->r, "chain-letters", "test"), 0);
	expect(f, CITIZEN, "citizen", CITIZEN2, "ham", SMS_ACTION_HOLD, "rates");

	fx_close(f);
	fx_open(f);
	struct sms_rule got;
	assert_int_equal(sms_rules_get(f->r, "rates", &got), 0);
	assert_int_equal(got.priority, 150);
	assert_int_equal(got.match, SMS_TEXT_WORDS);
	assert_string_equal(got.text, "spam, eggs;ham");
	assert_int_equal(sms_rules_get(f->r, "chain-letters", &got), -ENOENT);
	sms_rules_limits_get(f->r, &l);
	assert_int_equal(l.messages, 7);
	assert_int_equal(l.seconds, 10);
	/* Compiled again on load: the words still match, the earlier match
	 * is still recorded, and new ids follow it. */
	expect(f, CITIZEN, "citizen", CITIZEN2, "Spam, Eggs please", SMS_ACTION_HOLD, "rates");
	struct seen s = {0};
	assert_int_equal(sms_rules_matches(f->r, 0, 10, collect, &s), 2);
	assert_true(s.m[1].id > s.m[0].id);
	/* Each change was audited, the delete with the rule as its CSV line. */
	struct audit_seen a = {0};
	assert_int_equal(sms_rules_audit(f->r, 0, 100, audit_collect, &a), 3);
	assert_string_equal(a.last_object, "rule chain-letters");
	assert_non_null(strstr(a.last_before, "chain-letters,300,*,*,*,words,"));
}

/* --- the installer -------------------------------------------------------------------- */

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void expect_install_error(struct fx *f, const char *rules, const char *limits,
                                 const char *want)
{
	char dir[128], err[512] = "";
	snprintf(dir, sizeof(dir), "%s/bad", f->dir);
	mkdir(dir, 0700);
	write_file(dir, "sms_rules.csv", rules);
	write_file(dir, "sms_limits.csv", limits);
	assert_int_equal(sms_rules_install(f->st, &f->prof, dir, err, sizeof(err)), -1);
	if (!strstr(err, want))
		fail_msg("expected '%s' in '%s'", want, err);
}

static void test_install_errors(void **state)
{
	struct fx *f = *state;
	const char *h = "name,priority,sender,recipient,class,match,text,action,reason\n";
	const char *lim = "messages,seconds\n10,60\n";
	char buf[512];
	snprintf(buf, sizeof(buf), "%sa,1,*,*,*,regex,(x,refuse,r\n", h);
	expect_install_error(f, buf, lim, "sms_rules.csv:2: regex: not a POSIX extended");
	snprintf(buf, sizeof(buf), "%sa,1,*,*,*,any,,refuse,r\nb,1,*,*,*,any,,hold,r\n", h);
	expect_install_error(f, buf, lim, "sms_rules.csv:3: priority:");
	snprintf(buf, sizeof(buf), "%sa,1,*,*,*,any,,block,r\n", h);
	expect_install_error(f, buf, lim, "sms_rules.csv:2: action:");
	expect_install_error(f, "name,priority\n", lim, "sms_rules.csv:1: expected header");
	expect_install_error(f, h, "messages,seconds\n10,0\n", "sms_limits.csv:2: seconds:");
	/* Nothing was written by the refused installs. */
	struct sms_rules *again;
	assert_int_equal(sms_rules_open(f->st, NULL, &f->prof, &again), 0);
	struct sms_rule got;
	assert_int_equal(sms_rules_get(again, "a", &got), -ENOENT);
	sms_rules_close(again);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_demo_words_and_regex, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_priorities, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_class_and_prefixes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_rules_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flood, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_matches_recorded, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_matches_through_the_queue, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_changes_survive_reopen, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_install_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
