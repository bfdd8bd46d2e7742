-- The subscriber registry: one row per SIM, with its authentication data.
-- K and OP/OPc are sealed (AES-256-GCM under the master key, the IMSI as
-- associated data) and stored as hex; they are never kept in clear.
CREATE TABLE subscriber (
	id BIGINT PRIMARY KEY,
	imsi TEXT NOT NULL UNIQUE,
	msisdn TEXT UNIQUE,
	iccid TEXT UNIQUE,
	class TEXT NOT NULL,
	status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'suspended', 'terminated')),
	holder_name TEXT,
	holder_id_document TEXT,
	holder_nationality TEXT,
	city TEXT,
	created_at BIGINT NOT NULL,
	activated_at BIGINT,
	updated_at BIGINT NOT NULL,
	auth_algorithm TEXT NOT NULL DEFAULT 'milenage',
	op_kind TEXT NOT NULL CHECK (op_kind IN ('op', 'opc')),
	keys_sealed TEXT NOT NULL,
	amf TEXT NOT NULL DEFAULT '0000',
	sqn BIGINT NOT NULL DEFAULT 0,
	ind_bitlen BIGINT NOT NULL DEFAULT 5
);
CREATE INDEX subscriber_class_status ON subscriber (class, status);
CREATE INDEX subscriber_city ON subscriber (city);
