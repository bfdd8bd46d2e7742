#pragma once
/* Concatenated short messages (TS 23.040 section 9.2.3.24.1 and .8):
 * splitting a UTF-8 text into the TPDUs that carry it, and reassembling the
 * segments that arrive, in any order, into the text.
 *
 * Splitting picks GSM 7-bit when every character is in the default alphabet
 * or its extension table, else UCS-2. One segment holds 160 septets or 70
 * UCS-2 characters; when more are needed each carries a concatenation
 * element and holds 153 septets (152 with a 16-bit reference) or 67 UCS-2
 * units (66). An extension character (two septets) or a surrogate pair is
 * never cut between two segments. At most 255 segments. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sms/tpdu.h"

#define SMS_SPLIT_MAX 255

/* One segment: a byte range of the UTF-8 text. */
struct sms_segment {
	size_t off, len;
};

struct sms_split {
	enum sms_alphabet alphabet;
	size_t count;
	bool concat16; /* the reference is 16-bit (IEI 0x08) */
	uint16_t ref;
};

/* Splits text into segs (cap entries; SMS_SPLIT_MAX is always enough).
 * Returns the segment count (1 for an empty text), SMS_E_UTF8, or
 * SMS_E_TOO_LONG (over 255 segments or over cap). */
int sms_split_text(const char *text, size_t len, bool concat16, uint16_t ref,
                   struct sms_segment *segs, size_t cap, struct sms_split *sp);

/* Room sms_split_fill needs in its scratch buffer. */
#define SMS_SPLIT_SCRATCH 176

/* Sets segment i's dcs (general group, no class), udhi, udh and data in t,
 * which the caller has filled with the rest (type, addr, mr, vp ...). data
 * and udh.ies point into scratch (SMS_SPLIT_SCRATCH octets), which must
 * outlive the encoding of t. Returns 0, SMS_E_INVAL or SMS_E_NOSPC. */
int sms_split_fill(const struct sms_split *sp, const struct sms_segment *segs, size_t i,
                   const char *text, struct sms_tpdu *t, uint8_t *scratch, size_t scratch_cap);

/* A reassembly table: messages keyed by sender, reference and its width.
 * It holds at most max_msgs incomplete messages and max_bytes octets of
 * their text (both visible with the accessors below for /metrics); a
 * message not complete timeout seconds after its first segment is dropped.
 * The table owns copies of the segments' text. */
struct sms_reasm;

/* Creates a table; NULL if out of memory or an argument is 0. */
struct sms_reasm *sms_reasm_new(size_t max_msgs, size_t max_bytes, long timeout);
void sms_reasm_free(struct sms_reasm *r);

/* Adds the text of segment udh->seq of udh->total from sender at time now
 * (seconds, any monotonic clock). Returns:
 *   1  the message is complete: its text, NUL-terminated, is in out and
 *      *out_len is its length; the table forgets it;
 *   0  stored (or a duplicate, which is ignored); wait for more;
 *   SMS_E_CONCAT  total differs from earlier segments of the same key, or
 *      the element is not a valid concatenation;
 *   SMS_E_FULL  storing it would exceed max_msgs or max_bytes;
 *   SMS_E_NOSPC  the complete text does not fit in cap (message dropped).
 * Messages past their timeout are dropped first. */
int sms_reasm_add(struct sms_reasm *r, const char *sender, const struct sms_udh *udh,
                  const char *text, size_t len, long now, char *out, size_t cap, size_t *out_len);

/* Drops the messages older than the timeout; returns how many. */
size_t sms_reasm_expire(struct sms_reasm *r, long now);

/* Fill levels: incomplete messages and octets of text held. */
size_t sms_reasm_pending(const struct sms_reasm *r);
size_t sms_reasm_bytes(const struct sms_reasm *r);
