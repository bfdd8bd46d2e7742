-- The policy engine (docs/policy.md): network-wide switches, dialling rules,
-- rights per subscriber class, the APNs that a switch opens and closes, and
-- the audit trail of every change made to them after the install.
CREATE TABLE policy_switch (
	name TEXT PRIMARY KEY,
	enabled BIGINT NOT NULL CHECK (enabled IN (0, 1)),
	description TEXT NOT NULL DEFAULT '',
	updated_at BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE policy_numbering (
	name TEXT PRIMARY KEY,
	kind TEXT NOT NULL,
	prefix TEXT NOT NULL,
	min_length BIGINT NOT NULL,
	max_length BIGINT NOT NULL,
	group_class TEXT NOT NULL DEFAULT '',
	description TEXT NOT NULL DEFAULT ''
);
CREATE TABLE policy_right (
	name TEXT PRIMARY KEY,
	priority BIGINT NOT NULL UNIQUE,
	caller_class TEXT NOT NULL,
	service TEXT NOT NULL,
	destination TEXT NOT NULL,
	callee_class TEXT NOT NULL,
	verdict TEXT NOT NULL CHECK (verdict IN ('allow', 'deny')),
	switch TEXT NOT NULL DEFAULT '',
	reason TEXT NOT NULL
);
CREATE TABLE policy_apn_switch (
	class TEXT NOT NULL,
	apn TEXT NOT NULL,
	switch TEXT NOT NULL,
	PRIMARY KEY (class, apn)
);
-- before and after are the object as its CSV line ('' when it did not exist
-- or was deleted); ids are given in order by koryod, for keyset paging.
CREATE TABLE policy_audit (
	id BIGINT PRIMARY KEY,
	at BIGINT NOT NULL,
	actor TEXT NOT NULL,
	object TEXT NOT NULL,
	before TEXT NOT NULL,
	after TEXT NOT NULL
);
