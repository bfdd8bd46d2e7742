-- The SMS centre (docs/sms-centre.md): the messages stored and not yet
-- final, the segments of concatenated messages not yet complete, and one
-- CDR per accepted message once it is final. A message's row goes when its
-- CDR is written (in the same transaction).
CREATE TABLE sms_message (
	id BIGINT PRIMARY KEY,
	skey TEXT NOT NULL,              -- the submission's key (unique in sms_key)
	state TEXT NOT NULL CHECK (state IN ('waiting', 'held')),
	charged BIGINT NOT NULL,         -- 0 until the charging answered
	is_report BIGINT NOT NULL,       -- an SMS-STATUS-REPORT to the sender of another
	report BIGINT NOT NULL,          -- the sender asked for a status report
	origin TEXT NOT NULL,
	sender_imsi BIGINT NOT NULL,
	sender_msisdn BIGINT NOT NULL,
	recipient_imsi BIGINT NOT NULL,
	recipient_msisdn BIGINT NOT NULL,
	sender_cell TEXT NOT NULL,
	body TEXT NOT NULL,              -- UTF-8 text, or hex of 8-bit data
	dcs BIGINT NOT NULL,             -- -1 for text; the TP-DCS of data
	mr BIGINT NOT NULL,              -- the sender's TP-MR (of the original, for a report)
	st BIGINT NOT NULL,              -- a report's TP-ST
	segments BIGINT NOT NULL,
	size BIGINT NOT NULL,            -- octets of text or data
	submitted_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	discharged_at BIGINT NOT NULL,   -- a report's TP-DT
	attempts BIGINT NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT ''
);
-- No index beside the id: every row is written once and deleted once, on
-- the message path; the operator's listing by recipient reads the rows
-- waiting, which are few.
-- Every submission's key (a message's, a segment's), kept after the
-- message is final, so that a submission repeated later gets the first
-- answer (id 0: a segment that did not complete its message).
CREATE TABLE sms_key (
	skey TEXT PRIMARY KEY,
	id BIGINT NOT NULL,
	at BIGINT NOT NULL
);
CREATE TABLE sms_part (
	sender_imsi BIGINT NOT NULL,
	ref BIGINT NOT NULL,
	total BIGINT NOT NULL,
	seq BIGINT NOT NULL,
	skey TEXT NOT NULL,              -- the segment's own submission key
	recipient TEXT NOT NULL,
	body TEXT NOT NULL,
	report BIGINT NOT NULL,
	mr BIGINT NOT NULL,
	validity BIGINT NOT NULL,
	origin TEXT NOT NULL,
	sender_cell TEXT NOT NULL,
	received_at BIGINT NOT NULL,
	PRIMARY KEY (sender_imsi, ref, seq)
);
CREATE TABLE sms_cdr (
	seq BIGINT PRIMARY KEY,
	id BIGINT NOT NULL,
	origin TEXT NOT NULL,
	is_report BIGINT NOT NULL,
	sender_imsi BIGINT NOT NULL,
	sender_msisdn BIGINT NOT NULL,
	recipient_imsi BIGINT NOT NULL,
	recipient_msisdn BIGINT NOT NULL,
	sender_cell TEXT NOT NULL,
	recipient_cell TEXT NOT NULL,
	segments BIGINT NOT NULL,
	size BIGINT NOT NULL,
	submitted_ms BIGINT NOT NULL,
	final_ms BIGINT NOT NULL,
	attempts BIGINT NOT NULL,
	outcome TEXT NOT NULL,
	channel TEXT NOT NULL
);
-- Phones that take SMS over IP (TS 24.341: Contact feature tag
-- +g.3gpp.smsip) get application/vnd.3gpp.sms; others text/plain.
ALTER TABLE sip_binding ADD COLUMN sms_ip BIGINT NOT NULL DEFAULT 0;
