#pragma once
/* The TPDUs of the SMS centre's submissions and deliveries, shared by the
 * accesses that carry TPDUs (SIP application/vnd.3gpp.sms in RP messages,
 * GSUP MO-/MT-Forward-SM): an SMS-SUBMIT read into a submission, and a
 * delivery written as the SMS-DELIVER segments (or the SMS-STATUS-REPORT)
 * that carry it. */
#include <stddef.h>
#include <stdint.h>

#include "sms/segment.h"
#include "sms/smsc.h"
#include "sms/tpdu.h"

/* Reads SMS-SUBMIT t into out: the recipient (TP-DA as text, into rcpt),
 * the text (decoded into buf; or the 8-bit data and DCS), the
 * concatenation element, TP-SRR, TP-MR and TP-VP. origin, key, sender_imsi
 * and cell are left for the caller. Returns 0, or an sms_err: SMS_E_TYPE
 * (not a SUBMIT), SMS_E_DCS (compressed), SMS_E_ADDRESS (no recipient),
 * SMS_E_NOSPC. */
int smsc_submission_from_tpdu(const struct sms_tpdu *t, char *buf, size_t cap, char *rcpt,
                              size_t rcap, struct smsc_submission *out);

#define SMSC_TPDU_MAX 176 /* the longest TPDU koryo writes */

struct smsc_tpdus {
	size_t n;
	uint8_t pdu[SMS_SPLIT_MAX][SMSC_TPDU_MAX];
	size_t len[SMS_SPLIT_MAX];
};

/* Writes the TPDUs that carry d to its recipient into out (about 45 KB:
 * allocate it): one SMS-STATUS-REPORT for a report, else the SMS-DELIVER
 * segments of the text (a concatenation element with reference ref when
 * more than one; TP-MMS set on all but the last, and on the last too when
 * d->more) or of the 8-bit data. Returns the count or an sms_err. */
int smsc_tpdus_build(const struct smsc_delivery *d, uint16_t ref, struct smsc_tpdus *out);

/* The segments a submission will be charged for: of its text (split as
 * smsc_tpdus_build would) or data; at least 1. Or SMS_E_UTF8 (the text is
 * not UTF-8), SMS_E_TOO_LONG (over 255 segments). */
int smsc_segments_of(const char *text, size_t len, bool binary, size_t data_len);
