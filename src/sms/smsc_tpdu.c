/* Submissions from SMS-SUBMIT TPDUs and the TPDUs of deliveries
 * (smsc_tpdu.h), one place for every access that speaks TPDUs. */
#include "sms/smsc_tpdu.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sms/sms_err.h"

int smsc_submission_from_tpdu(const struct sms_tpdu *t, char *buf, size_t cap, char *rcpt,
                              size_t rcap, struct smsc_submission *out)
{
	if (t->type != SMS_SUBMIT)
		return SMS_E_TYPE;
	if (!t->addr.value[0])
		return SMS_E_ADDRESS;
	if (t->dcs_info.compressed)
		return SMS_E_DCS;
	if (snprintf(rcpt, rcap, "%s", t->addr.value) >= (int)rcap)
		return SMS_E_NOSPC;
	memset(out, 0, sizeof(*out));
	out->recipient = rcpt;
	if (t->dcs_info.alphabet == SMS_ALPHABET_8BIT) {
		out->binary = true;
		out->data = t->payload;
		out->data_len = t->payload_len;
		out->dcs = t->dcs;
		out->text = "";
	} else {
		int n = sms_tpdu_text(t, buf, cap);
		if (n < 0)
			return n;
		out->text = buf;
		out->text_len = (size_t)n;
	}
	if (t->udhi && t->udh.has_concat && t->udh.total > 1) {
		out->concat = true;
		out->ref = t->udh.ref;
		out->total = t->udh.total;
		out->seq = t->udh.seq;
	}
	out->report = t->status_report;
	out->mr = t->mr;
	out->validity_s = sms_vp_seconds(&t->vp);
	return 0;
}

/* A unix time as the TPDU's timestamp, in UTC. */
static void ts_of(int64_t at, struct sms_ts *ts)
{
	time_t tt = (time_t)at;
	struct tm tm;
	gmtime_r(&tt, &tm);
	*ts = (struct sms_ts){.year = (uint8_t)(tm.tm_year % 100),
	                      .month = (uint8_t)(tm.tm_mon + 1),
	                      .day = (uint8_t)tm.tm_mday,
	                      .hour = (uint8_t)tm.tm_hour,
	                      .minute = (uint8_t)tm.tm_min,
	                      .second = (uint8_t)tm.tm_sec};
}

static void addr_of(uint64_t msisdn, struct sms_addr *a)
{
	char num[24];
	snprintf(num, sizeof(num), "+%llu", (unsigned long long)msisdn);
	sms_addr_set(a, num);
}

static int put(struct smsc_tpdus *out, const struct sms_tpdu *t)
{
	int n = sms_tpdu_encode(t, out->pdu[out->n], SMSC_TPDU_MAX);
	if (n < 0)
		return n;
	out->len[out->n++] = (size_t)n;
	return 0;
}

int smsc_tpdus_build(const struct smsc_delivery *d, uint16_t ref, struct smsc_tpdus *out)
{
	out->n = 0;
	struct sms_tpdu t = {0};
	addr_of(d->sender_msisdn, &t.addr);
	ts_of(d->submitted_at, &t.scts);
	if (d->is_report) {
		t.type = SMS_STATUS_REPORT;
		t.mr = d->mr;
		t.st = d->st;
		ts_of(d->discharged_at, &t.dt);
		t.more_messages = d->more;
		int rc = put(out, &t);
		return rc < 0 ? rc : (int)out->n;
	}
	t.type = SMS_DELIVER;
	t.status_report = d->report_requested;
	if (d->binary) {
		if (d->data_len > 140)
			return SMS_E_TOO_LONG;
		t.dcs = d->dcs;
		sms_dcs_decode(t.dcs, &t.dcs_info);
		t.data = d->data;
		t.data_len = d->data_len;
		t.more_messages = d->more;
		int rc = put(out, &t);
		return rc < 0 ? rc : (int)out->n;
	}
	static _Thread_local struct sms_segment segs[SMS_SPLIT_MAX];
	struct sms_split sp;
	int n = sms_split_text(d->text, d->text_len, false, ref, segs, SMS_SPLIT_MAX, &sp);
	if (n < 0)
		return n;
	uint8_t scratch[SMS_SPLIT_SCRATCH];
	for (size_t i = 0; i < sp.count; i++) {
		int rc = sms_split_fill(&sp, segs, i, d->text, &t, scratch, sizeof(scratch));
		if (rc < 0)
			return rc;
		t.more_messages = i + 1 < sp.count || d->more;
		if ((rc = put(out, &t)) < 0)
			return rc;
	}
	return (int)out->n;
}

int smsc_segments_of(const char *text, size_t len, bool binary, size_t data_len)
{
	if (binary)
		return data_len <= 140 ? 1 : (int)((data_len + 133) / 134);
	static _Thread_local struct sms_segment segs[SMS_SPLIT_MAX];
	struct sms_split sp;
	return sms_split_text(text, len, false, 0, segs, SMS_SPLIT_MAX, &sp);
}
