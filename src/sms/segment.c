#include "sms/segment.h"

#include <stdlib.h>
#include <string.h>

#include "sms/gsm7.h"
#include "sms/sms_err.h"
#include "sms/ucs2.h"

/* Units (septets or UTF-16 code units) a segment holds: single, or with a
 * concatenation element of 5 (8-bit ref) or 6 (16-bit) octets plus UDHL. */
static size_t seg_units(enum sms_alphabet a, bool multi, bool concat16)
{
	size_t h = multi ? (concat16 ? 7 : 6) : 0;
	if (a == SMS_ALPHABET_GSM7)
		return 160 - (h ? gsm7_header_septets(h) : 0);
	return (140 - h) / 2;
}

static int char_units(enum sms_alphabet a, uint32_t cp)
{
	if (a == SMS_ALPHABET_GSM7)
		return gsm7_char_septets(cp);
	return cp >= 0x10000 ? 2 : 1;
}

int sms_split_text(const char *text, size_t len, bool concat16, uint16_t ref,
                   struct sms_segment *segs, size_t cap, struct sms_split *sp)
{
	size_t i = 0, total = 0;
	uint32_t cp;
	int rc;
	memset(sp, 0, sizeof(*sp));
	sp->concat16 = concat16;
	sp->ref = concat16 ? ref : (uint8_t)ref;
	/* One pass to validate and choose the alphabet and count units. */
	sp->alphabet = SMS_ALPHABET_GSM7;
	while (i < len) {
		if ((rc = sms_utf8_next(text, len, &i, &cp)) < 0)
			return rc;
		if (gsm7_char_septets(cp) == 0)
			sp->alphabet = SMS_ALPHABET_UCS2;
	}
	for (i = 0; i < len;) {
		(void)sms_utf8_next(text, len, &i, &cp);
		total += (size_t)char_units(sp->alphabet, cp);
	}
	if (cap < 1)
		return SMS_E_TOO_LONG;
	if (total <= seg_units(sp->alphabet, false, concat16)) {
		segs[0].off = 0;
		segs[0].len = len;
		sp->count = 1;
		return 1;
	}
	size_t room = seg_units(sp->alphabet, true, concat16), used = 0, n = 0;
	segs[0].off = 0;
	for (i = 0; i < len;) {
		size_t at = i;
		(void)sms_utf8_next(text, len, &i, &cp);
		size_t u = (size_t)char_units(sp->alphabet, cp);
		if (used + u > room) {
			segs[n].len = at - segs[n].off;
			if (++n >= cap || n >= SMS_SPLIT_MAX)
				return SMS_E_TOO_LONG;
			segs[n].off = at;
			used = 0;
		}
		used += u;
	}
	segs[n].len = len - segs[n].off;
	sp->count = n + 1;
	return (int)sp->count;
}

int sms_split_fill(const struct sms_split *sp, const struct sms_segment *segs, size_t i,
                   const char *text, struct sms_tpdu *t, uint8_t *scratch, size_t scratch_cap)
{
	if (i >= sp->count || sp->count > SMS_SPLIT_MAX)
		return SMS_E_INVAL;
	if (scratch_cap < SMS_SPLIT_SCRATCH)
		return SMS_E_NOSPC;
	const char *s = text + segs[i].off;
	size_t len = segs[i].len;
	t->dcs = sms_dcs_make(sp->alphabet, -1);
	sms_dcs_decode(t->dcs, &t->dcs_info);
	memset(&t->udh, 0, sizeof(t->udh));
	t->udhi = sp->count > 1;
	if (t->udhi) {
		struct sms_udh u = {.has_concat = true,
		                    .concat16 = sp->concat16,
		                    .ref = sp->ref,
		                    .total = (uint8_t)sp->count,
		                    .seq = (uint8_t)(i + 1)};
		int n = sms_udh_build(&u, scratch, 8);
		if (n < 0)
			return n;
		t->udh = u;
		t->udh.ies = scratch;
		t->udh.len = (size_t)n;
	}
	uint8_t *data = scratch + 8;
	int n = sp->alphabet == SMS_ALPHABET_GSM7 ? gsm7_from_utf8(s, len, data, scratch_cap - 8)
	                                          : ucs2_from_utf8(s, len, data, scratch_cap - 8);
	if (n < 0)
		return n;
	t->data = data;
	t->data_len = (size_t)n;
	return 0;
}

struct reasm_msg {
	struct reasm_msg *next;
	char sender[SMS_ADDR_MAX];
	bool concat16;
	uint16_t ref;
	uint8_t total, have;
	long first_seen;
	size_t bytes;
	char *part[SMS_SPLIT_MAX];
	uint16_t part_len[SMS_SPLIT_MAX];
};

struct sms_reasm {
	struct reasm_msg *msgs;
	size_t n_msgs, max_msgs, bytes, max_bytes;
	long timeout;
};

struct sms_reasm *sms_reasm_new(size_t max_msgs, size_t max_bytes, long timeout)
{
	if (max_msgs == 0 || max_bytes == 0 || timeout <= 0)
		return NULL;
	struct sms_reasm *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->max_msgs = max_msgs;
	r->max_bytes = max_bytes;
	r->timeout = timeout;
	return r;
}

static void msg_free(struct sms_reasm *r, struct reasm_msg *m)
{
	for (unsigned i = 0; i < SMS_SPLIT_MAX; i++)
		free(m->part[i]);
	r->bytes -= m->bytes;
	r->n_msgs--;
	free(m);
}

/* Unlinks and frees *pp (the link that points at the message). */
static void msg_drop(struct sms_reasm *r, struct reasm_msg **pp)
{
	struct reasm_msg *m = *pp;
	*pp = m->next;
	msg_free(r, m);
}

void sms_reasm_free(struct sms_reasm *r)
{
	if (!r)
		return;
	while (r->msgs)
		msg_drop(r, &r->msgs);
	free(r);
}

size_t sms_reasm_expire(struct sms_reasm *r, long now)
{
	size_t n = 0;
	struct reasm_msg **pp = &r->msgs;
	while (*pp) {
		if (now - (*pp)->first_seen >= r->timeout) {
			msg_drop(r, pp);
			n++;
		} else {
			pp = &(*pp)->next;
		}
	}
	return n;
}

size_t sms_reasm_pending(const struct sms_reasm *r)
{
	return r->n_msgs;
}

size_t sms_reasm_bytes(const struct sms_reasm *r)
{
	return r->bytes;
}

/* Concatenates the parts of m into out. */
static int msg_join(const struct reasm_msg *m, char *out, size_t cap, size_t *out_len)
{
	size_t n = 0;
	for (unsigned i = 0; i < m->total; i++) {
		if (cap == 0 || m->part_len[i] > cap - 1 - n)
			return SMS_E_NOSPC;
		memcpy(out + n, m->part[i], m->part_len[i]);
		n += m->part_len[i];
	}
	if (cap == 0)
		return SMS_E_NOSPC;
	out[n] = '\0';
	*out_len = n;
	return 1;
}

int sms_reasm_add(struct sms_reasm *r, const char *sender, const struct sms_udh *udh,
                  const char *text, size_t len, long now, char *out, size_t cap, size_t *out_len)
{
	if (!udh->has_concat || udh->seq == 0 || udh->seq > udh->total || len > UINT16_MAX)
		return SMS_E_CONCAT;
	sms_reasm_expire(r, now);
	if (udh->total == 1) {
		if (cap == 0 || len > cap - 1)
			return SMS_E_NOSPC;
		memcpy(out, text, len);
		out[len] = '\0';
		*out_len = len;
		return 1;
	}
	struct reasm_msg **pp = &r->msgs, *m = NULL;
	for (; *pp; pp = &(*pp)->next) {
		m = *pp;
		if (m->concat16 == udh->concat16 && m->ref == udh->ref &&
		    strncmp(m->sender, sender, sizeof(m->sender)) == 0)
			break;
		m = NULL;
	}
	if (m && m->total != udh->total)
		return SMS_E_CONCAT;
	if (m && m->part[udh->seq - 1])
		return 0; /* a retransmission: the first copy stands */
	if (r->bytes > r->max_bytes || len + 1 > r->max_bytes - r->bytes)
		return SMS_E_FULL;
	if (!m) {
		if (r->n_msgs >= r->max_msgs)
			return SMS_E_FULL;
		m = calloc(1, sizeof(*m));
		if (!m)
			return SMS_E_FULL;
		strncpy(m->sender, sender, sizeof(m->sender) - 1);
		m->concat16 = udh->concat16;
		m->ref = udh->ref;
		m->total = udh->total;
		m->first_seen = now;
		m->next = r->msgs;
		r->msgs = m;
		r->n_msgs++;
		pp = &r->msgs;
	}
	char *copy = malloc(len + 1);
	if (!copy)
		return SMS_E_FULL;
	memcpy(copy, text, len);
	copy[len] = '\0';
	m->part[udh->seq - 1] = copy;
	m->part_len[udh->seq - 1] = (uint16_t)len;
	m->bytes += len + 1;
	r->bytes += len + 1;
	if (++m->have < m->total)
		return 0;
	int rc = msg_join(m, out, cap, out_len);
	msg_drop(r, pp);
	return rc;
}
