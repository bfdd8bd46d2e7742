/* Real-time credit control: call slices reserved before they are used and
 * settled at the end, SMS charged when accepted, operators' adjustments, and
 * the settling of calls koryod was killed during (docs/charging.md, "Credit
 * control"). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "ocs/ocs_internal.h"
#include "store/store.h"

static bool printable(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

static void refuse(struct ocs *o, struct ocs_op *op, int status, const char *reason)
{
	struct ocs_grant g;
	ocs_grant_set(&g, status, 0, "%s", reason);
	ocs_op_finish(o, op, &g, false);
}

/* The subscriber account, up to date, locked; or a refusal answered. */
static struct ocs_account *account_locked(struct ocs *o, struct ocs_op *op, uint64_t imsi,
                                          int *plan)
{
	struct ocs_account *a;
	int rc = ocs_account_of_imsi(o, imsi, &a);
	if (rc != 0) {
		refuse(o, op, rc == -ENOMEM ? -EIO : -ENOENT,
		       rc == -ENOMEM ? "Charging is not available now; try again."
		                     : "This number has no account.");
		return NULL;
	}
	*plan = ocs_account_plan(o, a);
	if (*plan < 0) {
		refuse(o, op, -ENOENT, "This number has no charging plan.");
		return NULL;
	}
	pthread_mutex_lock(&a->mu);
	ocs_account_touch(o, a, clock_now(), NULL);
	return a;
}

static const char *dest_text(const char *dest)
{
	return strncmp(dest, "class:", 6) == 0 ? dest + 6 : dest;
}

static int64_t unit_price(const struct ocs_tariff *t)
{
	return t->per_minute * t->unit / 60;
}

/* --- calls ------------------------------------------------------------------------- */

int ocs_call_reserve(struct ocs *o, const char *session, unsigned slice, uint64_t imsi,
                     const char *dest_kind, ocs_grant_fn done, void *ctx)
{
	char op_id[OCS_OP_MAX + 1], suffix[16];
	snprintf(suffix, sizeof(suffix), "/%u", slice);
	ocs_op_id(op_id, "c:", session ? session : "", suffix);
	struct ocs_op *op;
	int b = ocs_op_begin(o, op_id, done, ctx, &op);
	if (b != OCS_OP_NEW)
		return b < 0 ? b : 0;
	if (!session || !printable(session, OCS_SESSION_MAX) || !dest_kind ||
	    strlen(dest_kind) >= OCS_DEST_MAX) {
		refuse(o, op, -EINVAL, "Bad request: a session and a destination are needed.");
		return 0;
	}
	int plan;
	struct ocs_account *a = account_locked(o, op, imsi, &plan);
	if (!a)
		return 0;
	unsigned nt;
	const struct ocs_tariff *t = ocs_tariffs_for(o, plan, dest_kind, &nt);
	if (!t) {
		pthread_mutex_unlock(&a->mu);
		char r[128];
		snprintf(r, sizeof(r), "Your plan does not allow calls to %s numbers.",
		         dest_text(dest_kind));
		refuse(o, op, -EACCES, r);
		return 0;
	}

	pthread_mutex_lock(&o->mu);
	struct ocs_session *s = ocs_map_get(&o->sessions, session);
	pthread_mutex_unlock(&o->mu);
	bool fresh = false;
	if (!s && slice != 0) {
		pthread_mutex_unlock(&a->mu);
		refuse(o, op, -ENOENT, "No such call.");
		return 0;
	}
	if (s && (s->ending || strcmp(s->acct, a->id) != 0 || slice != s->n_slices)) {
		pthread_mutex_unlock(&a->mu);
		refuse(o, op, -EINVAL, "This call is ending, or the slice is out of order.");
		return 0;
	}
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s) {
			pthread_mutex_unlock(&a->mu);
			refuse(o, op, -EIO, "Charging is not available now; try again.");
			return 0;
		}
		snprintf(s->id, sizeof(s->id), "%s", session);
		snprintf(s->acct, sizeof(s->acct), "%s", a->id);
		snprintf(s->dest, sizeof(s->dest), "%s", dest_kind);
		s->unit = t->unit;
		s->cur = -1;
		fresh = true;
	}
	uint32_t unit = s->unit;
	uint32_t want = (OCS_SLICE_SECONDS + unit - 1) / unit; /* units in a slice */
	uint32_t a_units = 0, m_units = 0;
	if (t->allowance && a->allow_seconds > 0)
		a_units =
		    (uint32_t)(a->allow_seconds / unit < want ? a->allow_seconds / unit : want);
	int cur = s->cur;
	int64_t price = s->price_unit;
	if (a_units < want && cur < 0) {
		/* The first currency, in the tariff's order, that pays a unit. */
		for (unsigned i = 0; i < nt; i++) {
			if (t[i].cur < 0)
				continue;
			int64_t pu = unit_price(&t[i]);
			if (pu == 0 || a->money[t[i].cur] >= pu) {
				cur = t[i].cur;
				price = pu;
				break;
			}
		}
	}
	if (a_units < want && cur >= 0) {
		int64_t can = price ? a->money[cur] / price : want - a_units;
		if (can < 0)
			can = 0;
		m_units = (uint32_t)(can < (int64_t)(want - a_units) ? can : want - a_units);
	}
	uint32_t granted = (a_units + m_units) * unit;
	if (!granted) {
		char r[128];
		if (t[0].cur < 0)
			snprintf(r, sizeof(r), "Your monthly allowance of minutes is used up.");
		else {
			char m[32];
			ocs_money_format(o, t[0].cur, t[0].per_minute, m, sizeof(m));
			snprintf(r, sizeof(r), "Not enough credit: calls to %s cost %s a minute.",
			         dest_text(dest_kind), m);
		}
		pthread_mutex_unlock(&a->mu);
		if (fresh)
			free(s);
		refuse(o, op, -EDQUOT, r);
		return 0;
	}
	struct ocs_slice *v = realloc(s->slices, (s->n_slices + 1) * sizeof(*v));
	if (!v || (fresh && (pthread_mutex_lock(&o->mu), b = ocs_map_put(&o->sessions, session, s),
	                     pthread_mutex_unlock(&o->mu), b != 0))) {
		pthread_mutex_unlock(&a->mu);
		if (fresh) {
			free(v ? v : s->slices);
			free(s);
		} else if (v) {
			s->slices = v;
		}
		refuse(o, op, -EIO, "Charging is not available now; try again.");
		return 0;
	}
	s->slices = v;
	if (m_units) {
		s->cur = cur;
		s->price_unit = price;
	}
	v[s->n_slices++] = (struct ocs_slice){a_units, m_units, a->allow_month};

	struct ocs_entry e = {.kind = "reserve", .cur = m_units ? cur : -1};
	snprintf(e.op_id, sizeof(e.op_id), "%s", op_id);
	snprintf(e.account, sizeof(e.account), "%s", a->id);
	e.amount = -(int64_t)m_units * price;
	e.seconds = -(int64_t)a_units * unit;
	e.quantity = granted;
	snprintf(e.dest, sizeof(e.dest), "%s", dest_kind);
	snprintf(e.session, sizeof(e.session), "%s", session);
	e.at = clock_now();
	snprintf(e.reason, sizeof(e.reason),
	         "call slice %u: %" PRIu32 " s (%" PRIu32 " s allowance)", slice, granted,
	         a_units * unit);
	struct ocs_pending *p = calloc(1, sizeof(*p));
	if (p) {
		p->op = op;
		ocs_grant_set(&p->grant, 0, granted, "Granted %" PRIu32 " s.", granted);
	}
	int rc = p ? ocs_ledger_submit(o, a, &e, p) : -ENOMEM;
	if (rc != 0)
		s->n_slices--;
	pthread_mutex_unlock(&a->mu);
	if (rc != 0)
		refuse(o, op, -EIO, "Charging is not available now; try again.");
	return 0;
}

int ocs_call_end(struct ocs *o, const char *session, uint32_t used_seconds, ocs_grant_fn done,
                 void *ctx)
{
	char op_id[OCS_OP_MAX + 1];
	ocs_op_id(op_id, "c:", session ? session : "", "/end");
	struct ocs_op *op;
	int b = ocs_op_begin(o, op_id, done, ctx, &op);
	if (b != OCS_OP_NEW)
		return b < 0 ? b : 0;
	pthread_mutex_lock(&o->mu);
	struct ocs_session *s = session ? ocs_map_get(&o->sessions, session) : NULL;
	struct ocs_account *a = s ? ocs_map_get(&o->accounts, s->acct) : NULL;
	pthread_mutex_unlock(&o->mu);
	if (!s || !a) {
		refuse(o, op, -ENOENT, "No such call.");
		return 0;
	}
	pthread_mutex_lock(&a->mu);
	if (s->ending) {
		pthread_mutex_unlock(&a->mu);
		refuse(o, op, -EINVAL, "This call is ending.");
		return 0;
	}
	uint32_t unit = s->unit, total = 0;
	for (unsigned i = 0; i < s->n_slices; i++)
		total += s->slices[i].a_units + s->slices[i].m_units;
	uint32_t used = (used_seconds + unit - 1) / unit;
	if (used > total)
		used = total;
	/* What was not used goes back, last slice first, money before allowance;
	 * allowance of a month since renewed is not given back (it expired). */
	uint32_t back = total - used, m_back = 0, a_back = 0;
	for (unsigned i = s->n_slices; i-- > 0 && back;) {
		struct ocs_slice *sl = &s->slices[i];
		uint32_t m = sl->m_units < back ? sl->m_units : back;
		m_back += m;
		back -= m;
		uint32_t x = sl->a_units < back ? sl->a_units : back;
		if (sl->allow_month == a->allow_month)
			a_back += x;
		back -= x;
	}
	struct ocs_entry e = {.kind = "call_end", .cur = s->cur};
	snprintf(e.op_id, sizeof(e.op_id), "%s", op_id);
	snprintf(e.account, sizeof(e.account), "%s", a->id);
	e.amount = (int64_t)m_back * s->price_unit;
	e.seconds = (int64_t)a_back * unit;
	e.quantity = (int64_t)used * unit;
	snprintf(e.dest, sizeof(e.dest), "%s", s->dest);
	snprintf(e.session, sizeof(e.session), "%s", s->id);
	e.at = clock_now();
	snprintf(e.reason, sizeof(e.reason),
	         "call ended: %" PRIu32 " s used, %" PRIu32 " s charged", used_seconds,
	         used * unit);
	struct ocs_pending *p = calloc(1, sizeof(*p));
	if (p) {
		p->op = op;
		snprintf(p->session, sizeof(p->session), "%s", s->id);
		ocs_grant_set(&p->grant, 0, used * unit, "Charged %" PRIu32 " s.", used * unit);
	}
	s->ending = true;
	int rc = p ? ocs_ledger_submit(o, a, &e, p) : -ENOMEM;
	if (rc != 0)
		s->ending = false;
	pthread_mutex_unlock(&a->mu);
	if (rc != 0)
		refuse(o, op, -EIO, "Charging is not available now; try again.");
	return 0;
}

/* --- SMS ------------------------------------------------------------------------------ */

int ocs_sms_charge(struct ocs *o, const char *op_id_in, uint64_t imsi, const char *dest_kind,
                   unsigned segments, ocs_grant_fn done, void *ctx)
{
	char op_id[OCS_OP_MAX + 1];
	ocs_op_id(op_id, "s:", op_id_in ? op_id_in : "", "");
	struct ocs_op *op;
	int b = ocs_op_begin(o, op_id, done, ctx, &op);
	if (b != OCS_OP_NEW)
		return b < 0 ? b : 0;
	if (!op_id_in || !printable(op_id_in, OCS_SESSION_MAX) || !dest_kind ||
	    strlen(dest_kind) >= OCS_DEST_MAX || segments < 1 || segments > 255) {
		refuse(o, op, -EINVAL,
		       "Bad request: an id, a destination and 1 to 255 segments are needed.");
		return 0;
	}
	int plan;
	struct ocs_account *a = account_locked(o, op, imsi, &plan);
	if (!a)
		return 0;
	unsigned nt;
	const struct ocs_tariff *t = ocs_tariffs_for(o, plan, dest_kind, &nt);
	if (!t) {
		pthread_mutex_unlock(&a->mu);
		char r[128];
		snprintf(r, sizeof(r), "Your plan does not allow messages to %s numbers.",
		         dest_text(dest_kind));
		refuse(o, op, -EACCES, r);
		return 0;
	}
	/* The allowance covers what it can; the credit pays for the rest. */
	struct ocs_entry e = {.kind = "sms", .cur = -1, .quantity = segments};
	int64_t covered = 0;
	if (t->allowance && a->allow_sms > 0)
		covered = a->allow_sms < (int64_t)segments ? a->allow_sms : (int64_t)segments;
	int64_t paid = (int64_t)segments - covered;
	e.sms = -covered;
	if (paid > 0) {
		for (unsigned i = 0; i < nt; i++) {
			if (t[i].cur >= 0 && a->money[t[i].cur] >= t[i].per_sms * paid) {
				e.cur = t[i].cur;
				e.amount = -t[i].per_sms * paid;
				break;
			}
		}
		if (e.cur < 0) {
			pthread_mutex_unlock(&a->mu);
			char r[128] = "Your monthly allowance of messages is used up.";
			if (t[0].cur >= 0) {
				char m[32];
				ocs_money_format(o, t[0].cur, t[0].per_sms * paid, m, sizeof(m));
				if (segments == 1)
					snprintf(r, sizeof(r),
					         "Not enough credit: a message to %s costs %s.",
					         dest_text(dest_kind), m);
				else
					snprintf(r, sizeof(r),
					         "Not enough credit: %u message segments to %s "
					         "cost %s.",
					         segments, dest_text(dest_kind), m);
			}
			refuse(o, op, -EDQUOT, r);
			return 0;
		}
	}
	snprintf(e.op_id, sizeof(e.op_id), "%s", op_id);
	snprintf(e.account, sizeof(e.account), "%s", a->id);
	snprintf(e.dest, sizeof(e.dest), "%s", dest_kind);
	snprintf(e.session, sizeof(e.session), "%s", op_id_in);
	e.at = clock_now();
	if (segments == 1)
		snprintf(e.reason, sizeof(e.reason), "SMS to %s%s", dest_text(dest_kind),
		         e.sms ? " (allowance)" : "");
	else
		snprintf(e.reason, sizeof(e.reason), "SMS of %u segments to %s%s", segments,
		         dest_text(dest_kind),
		         !e.sms     ? ""
		         : e.amount ? " (allowance in part)"
		                    : " (allowance)");
	struct ocs_pending *p = calloc(1, sizeof(*p));
	if (p) {
		p->op = op;
		ocs_grant_set(&p->grant, 0, 0, "Message charged.");
	}
	int rc = p ? ocs_ledger_submit(o, a, &e, p) : -ENOMEM;
	pthread_mutex_unlock(&a->mu);
	if (rc != 0)
		refuse(o, op, -EIO, "Charging is not available now; try again.");
	return 0;
}

/* --- adjustments ----------------------------------------------------------------------- */

int ocs_adjust(struct ocs *o, const char *op_id_in, const char *account, const char *currency,
               int64_t amount, int64_t seconds, int64_t sms, const char *reason, ocs_grant_fn done,
               void *ctx)
{
	char op_id[OCS_OP_MAX + 1];
	ocs_op_id(op_id, "a:", op_id_in ? op_id_in : "", "");
	struct ocs_op *op;
	int b = ocs_op_begin(o, op_id, done, ctx, &op);
	if (b != OCS_OP_NEW)
		return b < 0 ? b : 0;
	int cur = currency ? ocs_currency_find(o, currency) : -1;
	if (!op_id_in || !printable(op_id_in, OCS_SESSION_MAX)) {
		refuse(o, op, -EINVAL, "op_id: 1 to 255 printable characters");
		return 0;
	}
	if (amount && cur < 0) {
		refuse(o, op, -EINVAL, "currency: not a currency of this network");
		return 0;
	}
	if (!reason || !*reason || strlen(reason) >= OCS_REASON_MAX) {
		refuse(o, op, -EINVAL, "reason: 1 to 159 characters");
		return 0;
	}
	if (!amount && !seconds && !sms) {
		refuse(o, op, -EINVAL, "amount: nothing to adjust");
		return 0;
	}
	struct ocs_account *a = NULL;
	if (strncmp(account, "org:", 4) == 0) {
		a = ocs_account_get(o, account, strlen(account) > 4 && strlen(account) < 20);
	} else {
		uint64_t imsi = strtoull(account, NULL, 10);
		if (ocs_account_of_imsi(o, imsi, &a) != 0)
			a = NULL;
	}
	if (!a) {
		refuse(o, op, -ENOENT, "no such account");
		return 0;
	}
	pthread_mutex_lock(&a->mu);
	ocs_account_touch(o, a, clock_now(), NULL);
	struct ocs_entry e = {.kind = "adjust", .cur = amount ? cur : -1};
	snprintf(e.op_id, sizeof(e.op_id), "%s", op_id);
	snprintf(e.account, sizeof(e.account), "%s", a->id);
	e.amount = amount;
	e.seconds = seconds;
	e.sms = sms;
	snprintf(e.session, sizeof(e.session), "%s", op_id_in);
	e.at = clock_now();
	snprintf(e.reason, sizeof(e.reason), "%s", reason);
	struct ocs_pending *p = calloc(1, sizeof(*p));
	if (p) {
		p->op = op;
		char m[32] = "";
		if (amount)
			ocs_money_format(o, cur, amount, m, sizeof(m));
		ocs_grant_set(&p->grant, 0, 0, "Adjusted%s%s.", m[0] ? " by " : "", m);
	}
	int rc = p ? ocs_ledger_submit(o, a, &e, p) : -ENOMEM;
	pthread_mutex_unlock(&a->mu);
	if (rc != 0)
		refuse(o, op, -EIO, "Charging is not available now; try again.");
	return 0;
}

/* --- calls open at a restart ----------------------------------------------------------- */

/* A call whose end was never written (koryod was killed or stopped while it
 * lasted) is settled at open as used: every slice reserved is charged, since
 * the call may have gone on to the end of its last slice and nobody can say
 * otherwise. Its call_end row gives nothing back and closes its CDR. */
int ocs_sessions_settle(struct ocs *o)
{
	struct store_stmt *s;
	int step, rc = 0;
	struct open {
		char session[OCS_SESSION_MAX + 1], account[OCS_ACCOUNT_MAX], dest[OCS_DEST_MAX];
		char cur[4];
		int64_t seconds;
	} *v = NULL;
	size_t n = 0;
	store_lock(o->st);
	if (store_prepare(o->st,
	                  "SELECT session, account, min(destination), max(currency), "
	                  "sum(quantity) FROM ocs_ledger WHERE kind IN ('reserve', 'call_end') "
	                  "GROUP BY session, account HAVING sum(CASE WHEN kind = 'call_end' THEN "
	                  "1 ELSE 0 END) = 0",
	                  &s) != 0) {
		store_unlock(o->st);
		return -EIO;
	}
	while ((step = store_step(s)) == STORE_ROW) {
		struct open *w = realloc(v, (n + 1) * sizeof(*v));
		if (!w) {
			rc = -ENOMEM;
			break;
		}
		v = w;
		snprintf(v[n].session, sizeof(v[n].session), "%s", store_col_text(s, 0));
		snprintf(v[n].account, sizeof(v[n].account), "%s", store_col_text(s, 1));
		snprintf(v[n].dest, sizeof(v[n].dest), "%s", store_col_text(s, 2));
		snprintf(v[n].cur, sizeof(v[n].cur), "%s",
		         store_col_text(s, 3) ? store_col_text(s, 3) : "");
		v[n].seconds = store_col_int64(s, 4);
		n++;
	}
	store_reset(s);
	if (rc == 0 && step < 0)
		rc = -EIO;
	if (rc == 0 && n) {
		rc = store_begin(o->st);
		for (size_t i = 0; i < n && rc == 0; i++) {
			char op_id[OCS_OP_MAX + 1], reason[OCS_REASON_MAX];
			ocs_op_id(op_id, "c:", v[i].session, "/end");
			snprintf(
			    reason, sizeof(reason),
			    "call settled at restart: koryod stopped during the call; the %" PRId64
			    " s reserved are charged",
			    v[i].seconds);
			if (store_prepare(
			        o->st,
			        "INSERT INTO ocs_ledger (seq, op_id, account, kind, currency, "
			        "amount, seconds, sms, quantity, destination, session, reason, "
			        "at) VALUES ($1, $2, $3, 'call_end', $4, 0, 0, 0, $5, $6, $7, "
			        "$8, $9)",
			        &s) != 0) {
				rc = -EIO;
				break;
			}
			store_bind_int64(s, 1, o->next_seq++);
			store_bind_text(s, 2, op_id);
			store_bind_text(s, 3, v[i].account);
			store_bind_text(s, 4, v[i].cur);
			store_bind_int64(s, 5, v[i].seconds);
			store_bind_text(s, 6, v[i].dest);
			store_bind_text(s, 7, v[i].session);
			store_bind_text(s, 8, reason);
			store_bind_int64(s, 9, clock_now());
			rc = store_step(s) == STORE_DONE ? 0 : -EIO;
			store_reset(s);
		}
		if (rc == 0)
			rc = store_commit(o->st) == 0 ? 0 : -EIO;
		if (rc != 0)
			store_rollback(o->st);
		else
			LOGN("ocs", "%zu calls open at the last stop settled as used", n);
	}
	store_unlock(o->st);
	free(v);
	return rc;
}
