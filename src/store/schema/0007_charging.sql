-- Online charging (docs/charging.md). Plans, tariffs and currencies are the
-- operator's data (profiles/<name>/plans.csv, tariffs.csv, currencies.csv).
-- The ledger is the record of money and allowances: append-only, one row per
-- operation, and every balance koryod holds in memory is the sum of its rows.
CREATE TABLE ocs_currency (
	code TEXT PRIMARY KEY,
	minor_digits BIGINT NOT NULL,
	name TEXT NOT NULL
);
CREATE TABLE ocs_plan (
	name TEXT PRIMARY KEY,
	class TEXT,
	description TEXT NOT NULL,
	payer TEXT NOT NULL CHECK (payer IN ('subscriber', 'organisation')),
	currency TEXT,
	fee BIGINT NOT NULL,
	fee_months BIGINT NOT NULL,
	initial_credit BIGINT NOT NULL,
	allowance_seconds BIGINT NOT NULL,
	allowance_sms BIGINT NOT NULL
);
CREATE TABLE ocs_tariff (
	plan TEXT NOT NULL,
	destination TEXT NOT NULL,
	currency TEXT NOT NULL,
	rank BIGINT NOT NULL,
	per_minute BIGINT NOT NULL,
	unit_seconds BIGINT NOT NULL,
	per_sms BIGINT NOT NULL,
	allowance BIGINT NOT NULL,
	PRIMARY KEY (plan, destination, currency)
);
-- kind: initial, period, org_fee, topup, adjust, reserve, call_end, sms.
-- currency is '' when no money moved. amount (money, minor units), seconds
-- and sms (allowances) are deltas: credits positive, debits negative.
-- quantity is the service the row is for (seconds of a call slice or call,
-- 1 for an SMS). session: the call's Call-ID, the SMS's id, the card serial
-- of a top-up, or the period (YYYY-MM) of a fee.
CREATE TABLE ocs_ledger (
	seq BIGINT PRIMARY KEY,
	op_id TEXT NOT NULL UNIQUE,
	account TEXT NOT NULL,
	kind TEXT NOT NULL,
	currency TEXT NOT NULL,
	amount BIGINT NOT NULL,
	seconds BIGINT NOT NULL,
	sms BIGINT NOT NULL,
	quantity BIGINT NOT NULL,
	destination TEXT NOT NULL,
	session TEXT NOT NULL,
	reason TEXT NOT NULL,
	at BIGINT NOT NULL
);
CREATE INDEX ocs_ledger_account ON ocs_ledger (account, seq);
CREATE INDEX ocs_ledger_session ON ocs_ledger (session);
CREATE INDEX ocs_ledger_at ON ocs_ledger (at);
-- A card is redeemed once: its serial is the session of at most one top-up.
CREATE UNIQUE INDEX ocs_ledger_card ON ocs_ledger (session) WHERE kind = 'topup';
-- Top-up cards. The PIN is never stored: pin_hash is PBKDF2-HMAC-SHA256 of
-- the PIN under the batch's salt (docs/charging.md says why per batch).
CREATE TABLE ocs_voucher_batch (
	name TEXT PRIMARY KEY,
	salt TEXT NOT NULL,
	iterations BIGINT NOT NULL,
	currency TEXT NOT NULL,
	value BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	cards BIGINT NOT NULL,
	uploaded_at BIGINT NOT NULL
);
CREATE TABLE ocs_voucher (
	serial TEXT PRIMARY KEY,
	batch TEXT NOT NULL,
	pin_hash TEXT NOT NULL,
	UNIQUE (batch, pin_hash)
);
