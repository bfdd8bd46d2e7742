-- The HLR over GSUP: where each subscriber is served, the IMEI it last showed,
-- the SQN IND slot of each VLR/SGSN, and what each class may use.
ALTER TABLE subscriber ADD COLUMN vlr_name TEXT;
ALTER TABLE subscriber ADD COLUMN vlr_updated_at BIGINT;
ALTER TABLE subscriber ADD COLUMN sgsn_name TEXT;
ALTER TABLE subscriber ADD COLUMN sgsn_updated_at BIGINT;
ALTER TABLE subscriber ADD COLUMN imei TEXT;
ALTER TABLE subscriber ADD COLUMN imei_updated_at BIGINT;
CREATE TABLE gsup_peer (
	name TEXT PRIMARY KEY,
	ind BIGINT NOT NULL UNIQUE,
	first_seen BIGINT NOT NULL
);
ALTER TABLE subscriber_class ADD COLUMN domains TEXT NOT NULL DEFAULT 'cs ps';
ALTER TABLE subscriber_class ADD COLUMN apns TEXT NOT NULL DEFAULT '';
