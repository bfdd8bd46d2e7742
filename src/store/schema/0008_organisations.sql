-- Monthly caps of official lines per paying organisation (docs/charging.md,
-- "Organisations and caps"). Installed from profiles/<name>/organisations.csv,
-- then changed by the operator (PUT /v1/charging/organisations/NAME). An
-- organisation without a row keeps its lines on their plan's allowance.
CREATE TABLE ocs_organisation (
	name TEXT PRIMARY KEY,
	allowance_seconds BIGINT NOT NULL,
	allowance_sms BIGINT NOT NULL,
	description TEXT NOT NULL,
	updated_at BIGINT NOT NULL
);
