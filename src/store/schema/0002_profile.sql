-- The operator profile: network identity, subscriber classes and cities. Loaded
-- from a profile directory (profiles/koryolink) into an empty store.
CREATE TABLE network (
	key TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
CREATE TABLE subscriber_class (
	name TEXT PRIMARY KEY,
	description TEXT NOT NULL DEFAULT ''
);
CREATE TABLE city (
	name TEXT PRIMARY KEY,
	province TEXT NOT NULL DEFAULT '',
	population BIGINT NOT NULL DEFAULT 0,
	kind TEXT NOT NULL DEFAULT 'small'
);
