-- The SIP service core: digest credentials (HA1 only, never a password), the
-- registrar's bindings and each subscriber's last cell (so that they survive a
-- restart), and one call detail
-- record per call attempt.
CREATE TABLE subscriber_sip (
	imsi_num BIGINT PRIMARY KEY,
	username TEXT NOT NULL,
	realm TEXT NOT NULL,
	ha1_md5 TEXT NOT NULL,
	ha1_sha256 TEXT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE TABLE sip_binding (
	imsi_num BIGINT NOT NULL,
	contact TEXT NOT NULL,
	source TEXT NOT NULL,
	expires_at BIGINT NOT NULL,
	path TEXT NOT NULL,
	PRIMARY KEY (imsi_num, contact)
);
CREATE TABLE sip_cdr (
	id BIGINT PRIMARY KEY,
	call_id TEXT NOT NULL,
	caller_imsi BIGINT NOT NULL,
	caller_msisdn BIGINT NOT NULL,
	callee_imsi BIGINT NOT NULL,
	callee_msisdn BIGINT NOT NULL,
	caller_cell TEXT NOT NULL,
	callee_cell TEXT NOT NULL,
	start_ms BIGINT NOT NULL,
	answer_ms BIGINT NOT NULL,
	end_ms BIGINT NOT NULL,
	status BIGINT NOT NULL,
	cause TEXT NOT NULL
);
CREATE TABLE sip_cell (
	imsi_num BIGINT PRIMARY KEY,
	cell TEXT NOT NULL,
	seen_at BIGINT NOT NULL
);
