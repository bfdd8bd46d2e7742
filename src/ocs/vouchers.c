/* Top-up cards (docs/charging.md, "Top-up cards").
 *
 * koryod never sees a card's PIN until a subscriber redeems it: `koryo
 * voucher gen` makes the PINs offline and uploads only PBKDF2-HMAC-SHA256 of
 * each under a salt drawn per batch. The salt is per batch, not per card,
 * because a subscriber types the PIN alone: with a salt per card, finding the
 * card would take one slow hash per card in the network; with one per batch it
 * takes one per batch, and the hash is then an index. The hashing runs on a
 * thread of its own so that no SIP worker's loop waits for it. */
#include <errno.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/hex.h"
#include "common/log.h"
#include "ocs/ocs_internal.h"
#include "store/store.h"

struct ocs_vjob {
	struct ocs_vjob *next;
	struct ocs_op *op;
	uint64_t imsi;
	char pin[33];
};

struct ocs_pin_tries {
	int64_t since;
	unsigned wrong;
};

static const char *col(struct store_stmt *s, int i)
{
	const char *t = store_col_text(s, i);
	return t ? t : "";
}

int ocs_vouchers_load(struct ocs *o)
{
	struct store_stmt *s;
	int step, rc = 0;
	store_lock(o->st);
	if (store_prepare(o->st,
	                  "SELECT name, salt, iterations, currency, value, expires_at, cards, "
	                  "uploaded_at FROM ocs_voucher_batch ORDER BY uploaded_at, name",
	                  &s) != 0) {
		store_unlock(o->st);
		return -EIO;
	}
	while ((step = store_step(s)) == STORE_ROW) {
		struct ocs_batch *v = realloc(o->batches, (o->n_batches + 1) * sizeof(*v));
		if (!v) {
			rc = -ENOMEM;
			break;
		}
		o->batches = v;
		struct ocs_batch *b = &v[o->n_batches];
		memset(b, 0, sizeof(*b));
		snprintf(b->name, sizeof(b->name), "%s", col(s, 0));
		size_t sl = strlen(col(s, 1)) / 2;
		if (sl > sizeof(b->salt) || hex_decode(col(s, 1), b->salt, sl) != 0)
			continue;
		b->salt_len = (unsigned)sl;
		b->iterations = (unsigned)store_col_int64(s, 2);
		b->cur = ocs_currency_find(o, col(s, 3));
		b->value = store_col_int64(s, 4);
		b->expires_at = store_col_int64(s, 5);
		b->cards = store_col_int64(s, 6);
		b->uploaded_at = store_col_int64(s, 7);
		if (b->cur >= 0)
			o->n_batches++;
	}
	store_reset(s);
	store_unlock(o->st);
	return rc ? rc : step < 0 ? -EIO : 0;
}

/* --- redemption ------------------------------------------------------------------- */

/* 0 and *until when the subscriber may try a PIN now; -EAGAIN otherwise. */
static int tries_check(struct ocs *o, const char *imsi, int64_t now, int64_t *until)
{
	pthread_mutex_lock(&o->mu);
	struct ocs_pin_tries *t = ocs_map_get(&o->pins, imsi);
	int rc = 0;
	if (t && now - t->since >= OCS_PIN_WINDOW) {
		t->since = now;
		t->wrong = 0;
	}
	if (t && t->wrong >= OCS_PIN_TRIES) {
		*until = t->since + OCS_PIN_WINDOW;
		rc = -EAGAIN;
	}
	pthread_mutex_unlock(&o->mu);
	return rc;
}

static void tries_wrong(struct ocs *o, const char *imsi, int64_t now)
{
	pthread_mutex_lock(&o->mu);
	struct ocs_pin_tries *t = ocs_map_get(&o->pins, imsi);
	if (!t && (t = calloc(1, sizeof(*t))) && ocs_map_put(&o->pins, imsi, t) != 0) {
		free(t);
		t = NULL;
	}
	if (t) {
		if (!t->wrong)
			t->since = now;
		t->wrong++;
	}
	pthread_mutex_unlock(&o->mu);
}

static void refuse(struct ocs *o, struct ocs_op *op, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void refuse(struct ocs *o, struct ocs_op *op, int status, const char *fmt, ...)
{
	struct ocs_grant g = {.status = status};
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(g.reason, sizeof(g.reason), fmt, ap);
	va_end(ap);
	ocs_op_finish(o, op, &g, false);
}

struct found {
	char serial[40];
	struct ocs_batch batch;
};

/* The card whose PIN this is: one PBKDF2 per batch, then an indexed look-up.
 * 1 found, 0 none, -EIO. */
static int card_find_in(struct ocs *o, const struct ocs_batch *b, const char *pin, struct found *f)
{
	uint8_t h[32];
	char hex[65];
	if (PKCS5_PBKDF2_HMAC(pin, (int)strlen(pin), b->salt, (int)b->salt_len, (int)b->iterations,
	                      EVP_sha256(), sizeof(h), h) != 1)
		return -EIO;
	hex_encode(h, sizeof(h), hex);
	struct store_stmt *s;
	store_lock(o->st);
	if (store_prepare(o->st,
	                  "SELECT serial FROM ocs_voucher WHERE batch = $1 AND pin_hash = $2",
	                  &s) != 0) {
		store_unlock(o->st);
		return -EIO;
	}
	store_bind_text(s, 1, b->name);
	store_bind_text(s, 2, hex);
	int step = store_step(s);
	if (step == STORE_ROW) {
		snprintf(f->serial, sizeof(f->serial), "%s", col(s, 0));
		f->batch = *b;
	}
	store_reset(s);
	store_unlock(o->st);
	OPENSSL_cleanse(h, sizeof(h));
	return step == STORE_ROW ? 1 : step < 0 ? -EIO : 0;
}

static int card_find(struct ocs *o, const char *pin, struct found *f)
{
	/* A copy of the batches: an upload may replace the array meanwhile. */
	pthread_mutex_lock(&o->mu);
	unsigned nb = o->n_batches;
	struct ocs_batch *all = malloc((nb ? nb : 1) * sizeof(*all));
	if (all && nb)
		memcpy(all, o->batches, nb * sizeof(*all));
	pthread_mutex_unlock(&o->mu);
	if (!all)
		return -EIO;
	int rc = 0;
	for (unsigned i = 0; i < nb && rc == 0; i++)
		rc = card_find_in(o, &all[i], pin, f);
	free(all);
	return rc;
}

static int card_redeemed(struct ocs *o, const char *serial)
{
	struct store_stmt *s;
	store_lock(o->st);
	if (store_prepare(o->st, "SELECT 1 FROM ocs_ledger WHERE kind = 'topup' AND session = $1",
	                  &s) != 0) {
		store_unlock(o->st);
		return -EIO;
	}
	store_bind_text(s, 1, serial);
	int step = store_step(s);
	store_reset(s);
	store_unlock(o->st);
	return step == STORE_ROW ? 1 : step == STORE_DONE ? 0 : -EIO;
}

static void redeem(struct ocs *o, struct ocs_vjob *j)
{
	int64_t now = clock_now();
	char imsi[24];
	snprintf(imsi, sizeof(imsi), "%" PRIu64, j->imsi);
	struct found f;
	int rc = card_find(o, j->pin, &f);
	OPENSSL_cleanse(j->pin, sizeof(j->pin));
	if (rc < 0) {
		refuse(o, j->op, -EIO, "Top-up is not available now; try again.");
		return;
	}
	if (rc == 0) {
		tries_wrong(o, imsi, now);
		LOGI("ocs", "IMSI='%s': top-up refused: no card has this PIN", imsi);
		refuse(o, j->op, -ENOENT, "No top-up card has this PIN.");
		return;
	}
	const struct ocs_batch *b = &f.batch;
	if (b->expires_at <= now) {
		char d[24];
		clock_format_iso(b->expires_at, d, sizeof(d));
		d[10] = '\0';
		refuse(o, j->op, -ESTALE, "This card expired on %s.", d);
		return;
	}
	pthread_mutex_lock(&o->mu);
	bool busy = ocs_map_get(&o->redeeming, f.serial) != NULL;
	if (!busy && ocs_map_put(&o->redeeming, f.serial, (void *)1) != 0)
		busy = true;
	pthread_mutex_unlock(&o->mu);
	if (busy) {
		refuse(o, j->op, -EALREADY, "This card is being redeemed.");
		return;
	}
	rc = card_redeemed(o, f.serial);
	struct ocs_account *a = NULL;
	if (rc == 0 && ocs_account_of_imsi(o, j->imsi, &a) != 0)
		rc = -EIO;
	if (rc != 0) {
		pthread_mutex_lock(&o->mu);
		ocs_map_del(&o->redeeming, f.serial);
		pthread_mutex_unlock(&o->mu);
		if (rc > 0) {
			LOGI("ocs", "IMSI='%s': top-up refused: card %s was redeemed before", imsi,
			     f.serial);
			refuse(o, j->op, -EALREADY, "This card has already been redeemed.");
		} else {
			refuse(o, j->op, -EIO, "Top-up is not available now; try again.");
		}
		return;
	}
	pthread_mutex_lock(&a->mu);
	ocs_account_touch(o, a, now, NULL);
	struct ocs_entry e = {.kind = "topup", .cur = b->cur, .amount = b->value, .at = now};
	snprintf(e.op_id, sizeof(e.op_id), "%s", j->op->id);
	snprintf(e.account, sizeof(e.account), "%s", a->id);
	snprintf(e.session, sizeof(e.session), "%s", f.serial);
	char m[32], bal[32];
	ocs_money_format(o, b->cur, b->value, m, sizeof(m));
	ocs_money_format(o, b->cur, a->money[b->cur] + b->value, bal, sizeof(bal));
	snprintf(e.reason, sizeof(e.reason), "top-up card %s (batch %s): %s", f.serial, b->name, m);
	struct ocs_pending *p = calloc(1, sizeof(*p));
	if (p) {
		p->op = j->op;
		snprintf(p->serial, sizeof(p->serial), "%s", f.serial);
		ocs_grant_set(&p->grant, 0, 0, "Credited %s; balance %s", m, bal);
	}
	rc = p ? ocs_ledger_submit(o, a, &e, p) : -ENOMEM;
	pthread_mutex_unlock(&a->mu);
	if (rc != 0) {
		pthread_mutex_lock(&o->mu);
		ocs_map_del(&o->redeeming, f.serial);
		pthread_mutex_unlock(&o->mu);
		refuse(o, j->op, -EIO, "Top-up is not available now; try again.");
		return;
	}
	LOGI("ocs", "IMSI='%s': card %s redeemed for %s", imsi, f.serial, m);
}

static void *vthread(void *arg)
{
	struct ocs *o = arg;
	pthread_mutex_lock(&o->mu);
	for (;;) {
		while (!o->vhead && !o->vstop)
			pthread_cond_wait(&o->vcv, &o->mu);
		struct ocs_vjob *j = o->vhead;
		if (!j)
			break;
		o->vhead = j->next;
		if (!o->vhead)
			o->vtail = NULL;
		pthread_mutex_unlock(&o->mu);
		redeem(o, j);
		free(j);
		pthread_mutex_lock(&o->mu);
	}
	pthread_mutex_unlock(&o->mu);
	return NULL;
}

int ocs_vouchers_start(struct ocs *o)
{
	if (pthread_create(&o->vthread, NULL, vthread, o) != 0)
		return -EAGAIN;
	o->vthread_started = true;
	return 0;
}

void ocs_vouchers_stop(struct ocs *o)
{
	if (!o->vthread_started)
		return;
	pthread_mutex_lock(&o->mu);
	o->vstop = true;
	pthread_cond_signal(&o->vcv);
	pthread_mutex_unlock(&o->mu);
	/* The jobs queued before the stop are still answered. */
	pthread_join(o->vthread, NULL);
	o->vthread_started = false;
}

int ocs_topup(struct ocs *o, const char *op_id_in, uint64_t imsi, const char *pin,
              ocs_grant_fn done, void *ctx)
{
	char op_id[OCS_OP_MAX + 1];
	ocs_op_id(op_id, "t:", op_id_in ? op_id_in : "", "");
	struct ocs_op *op;
	int b = ocs_op_begin(o, op_id, done, ctx, &op);
	if (b != OCS_OP_NEW)
		return b < 0 ? b : 0;
	char id[24];
	snprintf(id, sizeof(id), "%" PRIu64, imsi);
	int64_t now = clock_now(), until;
	if (!op_id_in || !*op_id_in) {
		refuse(o, op, -EINVAL, "An operation id is needed.");
		return 0;
	}
	struct ocs_account *a;
	if (ocs_account_of_imsi(o, imsi, &a) != 0) {
		refuse(o, op, -ENOENT, "This number has no account.");
		return 0;
	}
	if (tries_check(o, id, now, &until) != 0) {
		char t[24];
		clock_format_iso(until, t, sizeof(t));
		refuse(o, op, -EAGAIN, "Too many wrong PINs: try again after %.5s UTC.", t + 11);
		return 0;
	}
	size_t n = pin ? strlen(pin) : 0;
	if (n < 8 || n > 32 || strspn(pin, "0123456789") != n) {
		tries_wrong(o, id, now);
		refuse(o, op, -ENOENT, "No top-up card has this PIN.");
		return 0;
	}
	struct ocs_vjob *j = calloc(1, sizeof(*j));
	if (!j) {
		refuse(o, op, -EIO, "Top-up is not available now; try again.");
		return 0;
	}
	j->op = op;
	j->imsi = imsi;
	memcpy(j->pin, pin, n + 1);
	pthread_mutex_lock(&o->mu);
	if (o->vtail)
		o->vtail->next = j;
	else
		o->vhead = j;
	o->vtail = j;
	pthread_cond_signal(&o->vcv);
	pthread_mutex_unlock(&o->mu);
	return 0;
}

/* --- batches ------------------------------------------------------------------------- */

static int field_err(struct ocs_field_error *err, const char *field, const char *msg)
{
	snprintf(err->field, sizeof(err->field), "%.31s", field);
	snprintf(err->msg, sizeof(err->msg), "%s", msg);
	return -EINVAL;
}

static bool hex_ok(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s);
	return n >= min && n <= max && n % 2 == 0 && strspn(s, "0123456789abcdef") == n;
}

static bool serial_ok(const char *s)
{
	size_t n = strlen(s);
	return n >= 1 && n <= 32 &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == n;
}

int ocs_batch_add(struct ocs *o, const struct ocs_batch_new *b, struct ocs_field_error *err)
{
	memset(err, 0, sizeof(*err));
	if (!serial_ok(b->name))
		return field_err(err, "batch", "1 to 32 of A-Z a-z 0-9 - _");
	if (!hex_ok(b->salt, 32, 64))
		return field_err(err, "salt", "16 to 32 bytes in lower-case hex");
	if (b->iterations < 1000 || b->iterations > 10000000)
		return field_err(err, "iterations", "1000 to 10000000");
	int cur = ocs_currency_find(o, b->currency);
	if (cur < 0)
		return field_err(err, "currency", "not a currency of this network");
	if (b->value <= 0 || b->value > 1000000000000LL)
		return field_err(err, "value", "a positive amount in minor units");
	if (b->expires_at <= clock_now())
		return field_err(err, "expires", "must be in the future");
	if (b->n_cards < 1 || b->n_cards > 1000000)
		return field_err(err, "cards", "1 to 1000000 cards");
	for (size_t i = 0; i < b->n_cards; i++) {
		char f[48];
		snprintf(f, sizeof(f), "cards[%zu].serial", i);
		if (!serial_ok(b->cards[i].serial))
			return field_err(err, f, "1 to 32 of A-Z a-z 0-9 - _");
		snprintf(f, sizeof(f), "cards[%zu].pin_hash", i);
		if (!hex_ok(b->cards[i].pin_hash, 64, 64))
			return field_err(err, f, "64 lower-case hex digits");
	}
	struct store_stmt *s;
	int rc = 0;
	int64_t now = clock_now();
	store_lock(o->st);
	if (store_begin(o->st) != 0) {
		store_unlock(o->st);
		return -EIO;
	}
	/* A batch larger than one request goes up in parts: a part that names
	 * an existing batch with the same terms adds its cards to it. */
	bool append = false;
	if (store_prepare(o->st,
	                  "SELECT salt, iterations, currency, value, expires_at FROM "
	                  "ocs_voucher_batch WHERE name = $1",
	                  &s) != 0)
		rc = -EIO;
	if (rc == 0) {
		store_bind_text(s, 1, b->name);
		int step = store_step(s);
		if (step == STORE_ROW) {
			append = strcmp(col(s, 0), b->salt) == 0 &&
			         store_col_int64(s, 1) == b->iterations &&
			         strcmp(col(s, 2), b->currency) == 0 &&
			         store_col_int64(s, 3) == b->value &&
			         store_col_int64(s, 4) == b->expires_at;
			if (!append) {
				field_err(err, "batch",
				          "a batch of this name exists with other terms");
				rc = -EEXIST;
			}
		} else if (step < 0) {
			rc = -EIO;
		}
		store_reset(s);
	}
	if (rc == 0 && append) {
		if (store_prepare(o->st,
		                  "UPDATE ocs_voucher_batch SET cards = cards + $2 WHERE name = $1",
		                  &s) != 0)
			rc = -EIO;
		if (rc == 0) {
			store_bind_text(s, 1, b->name);
			store_bind_int64(s, 2, (int64_t)b->n_cards);
			rc = store_step(s) == STORE_DONE ? 0 : -EIO;
			store_reset(s);
		}
	} else if (rc == 0) {
		if (store_prepare(
		        o->st,
		        "INSERT INTO ocs_voucher_batch (name, salt, iterations, currency, "
		        "value, expires_at, cards, uploaded_at) VALUES ($1, $2, $3, $4, $5, "
		        "$6, $7, $8)",
		        &s) != 0)
			rc = -EIO;
		if (rc == 0) {
			store_bind_text(s, 1, b->name);
			store_bind_text(s, 2, b->salt);
			store_bind_int64(s, 3, b->iterations);
			store_bind_text(s, 4, b->currency);
			store_bind_int64(s, 5, b->value);
			store_bind_int64(s, 6, b->expires_at);
			store_bind_int64(s, 7, (int64_t)b->n_cards);
			store_bind_int64(s, 8, now);
			rc = store_step(s) == STORE_DONE ? 0 : -EIO;
			store_reset(s);
		}
	}
	if (rc == 0 &&
	    store_prepare(o->st,
	                  "INSERT INTO ocs_voucher (serial, batch, pin_hash) VALUES ($1, $2, $3)",
	                  &s) != 0)
		rc = -EIO;
	for (size_t i = 0; rc == 0 && i < b->n_cards; i++) {
		store_bind_text(s, 1, b->cards[i].serial);
		store_bind_text(s, 2, b->name);
		store_bind_text(s, 3, b->cards[i].pin_hash);
		int step = store_step(s);
		store_reset(s);
		if (step == -EEXIST) {
			char f[48];
			snprintf(f, sizeof(f), "cards[%zu]", i);
			field_err(err, f, "this serial exists, or two cards have one PIN");
			rc = -EEXIST;
		} else if (step != STORE_DONE) {
			rc = -EIO;
		}
	}
	if (rc == 0)
		rc = store_commit(o->st) == 0 ? 0 : -EIO;
	if (rc != 0)
		store_rollback(o->st);
	store_unlock(o->st);
	if (rc != 0)
		return rc;

	struct ocs_batch nb = {.iterations = b->iterations,
	                       .cur = cur,
	                       .value = b->value,
	                       .expires_at = b->expires_at,
	                       .cards = (int64_t)b->n_cards,
	                       .uploaded_at = now};
	snprintf(nb.name, sizeof(nb.name), "%s", b->name);
	nb.salt_len = (unsigned)strlen(b->salt) / 2;
	hex_decode(b->salt, nb.salt, nb.salt_len);
	/* The voucher thread copies the array under the lock (card_find). */
	pthread_mutex_lock(&o->mu);
	if (append) {
		for (unsigned i = 0; i < o->n_batches; i++)
			if (strcmp(o->batches[i].name, b->name) == 0)
				o->batches[i].cards += (int64_t)b->n_cards;
		pthread_mutex_unlock(&o->mu);
		LOGN("ocs", "card batch %s: %zu more cards uploaded", b->name, b->n_cards);
		return 0;
	}
	struct ocs_batch *v = realloc(o->batches, (o->n_batches + 1) * sizeof(*v));
	if (v) {
		v[o->n_batches] = nb;
		o->batches = v;
		o->n_batches++;
	}
	pthread_mutex_unlock(&o->mu);
	LOGN("ocs", "card batch %s: %zu cards uploaded", b->name, b->n_cards);
	return v ? 0 : -ENOMEM;
}

int ocs_batch_list(struct ocs *o, void (*fn)(void *ctx, const struct ocs_batch_info *b), void *ctx)
{
	struct store_stmt *s;
	int n = 0, step;
	store_lock(o->st);
	if (store_prepare(o->st,
	                  "SELECT b.name, b.currency, b.value, b.expires_at, b.uploaded_at, "
	                  "b.cards, b.iterations, (SELECT count(*) FROM ocs_voucher v JOIN "
	                  "ocs_ledger l ON l.kind = 'topup' AND l.session = v.serial WHERE "
	                  "v.batch = b.name) FROM ocs_voucher_batch b ORDER BY b.uploaded_at, "
	                  "b.name",
	                  &s) != 0) {
		store_unlock(o->st);
		return -EIO;
	}
	while ((step = store_step(s)) == STORE_ROW) {
		struct ocs_batch_info bi = {
		    .name = col(s, 0),
		    .currency = col(s, 1),
		    .value = store_col_int64(s, 2),
		    .expires_at = store_col_int64(s, 3),
		    .uploaded_at = store_col_int64(s, 4),
		    .cards = store_col_int64(s, 5),
		    .iterations = (unsigned)store_col_int64(s, 6),
		    .redeemed = store_col_int64(s, 7),
		};
		bi.digits = ocs_currency_digits(o, bi.currency);
		fn(ctx, &bi);
		n++;
	}
	store_reset(s);
	store_unlock(o->st);
	return step < 0 ? -EIO : n;
}
