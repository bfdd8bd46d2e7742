-- The SMS content rules engine (docs/sms-rules.md): the operator's rules,
-- the flood limit per sender, the record of every match, and the audit
-- trail of every change made after the install.
CREATE TABLE sms_rule (
	name TEXT PRIMARY KEY,
	priority BIGINT NOT NULL UNIQUE,
	sender TEXT NOT NULL,
	recipient TEXT NOT NULL,
	sender_class TEXT NOT NULL,
	text_match TEXT NOT NULL CHECK (text_match IN ('any', 'words', 'regex')),
	pattern TEXT NOT NULL,
	decision TEXT NOT NULL CHECK (decision IN ('deliver', 'hold', 'refuse')),
	reason TEXT NOT NULL
);
-- One row: at most messages per seconds from one sender; messages 0 is no limit.
CREATE TABLE sms_limit (
	id BIGINT PRIMARY KEY CHECK (id = 1),
	messages BIGINT NOT NULL,
	seconds BIGINT NOT NULL
);
INSERT INTO sms_limit (id, messages, seconds) VALUES (1, 0, 0);
-- The text of a message is kept only when it was held (for the review);
-- other matches keep NULL. ids are given in order by koryod.
CREATE TABLE sms_match (
	id BIGINT PRIMARY KEY,
	at BIGINT NOT NULL,
	rule TEXT NOT NULL,
	sender TEXT NOT NULL,
	recipient TEXT NOT NULL,
	decision TEXT NOT NULL,
	text TEXT
);
CREATE TABLE sms_audit (
	id BIGINT PRIMARY KEY,
	at BIGINT NOT NULL,
	actor TEXT NOT NULL,
	object TEXT NOT NULL,
	before TEXT NOT NULL,
	after TEXT NOT NULL
);
