-- mcp-authd schema for PostgreSQL, version 6: private_key_jwt clients, ID-JAG issuers and
-- the replay cache of their assertions (DESIGN.md §10.4); see sql/sqlite/006 for what each
-- column means.

ALTER TABLE clients ADD COLUMN jwks TEXT;
ALTER TABLE clients ADD COLUMN jwks_uri TEXT;

ALTER TABLE idps ADD COLUMN jwks_uri TEXT;
ALTER TABLE idps ADD COLUMN jwks TEXT;
ALTER TABLE idps ADD COLUMN id_jag INTEGER NOT NULL DEFAULT 0;
ALTER TABLE idps ADD COLUMN id_jag_clients TEXT;

CREATE TABLE used_jtis (
	key_hash BYTEA PRIMARY KEY,
	expires_at BIGINT NOT NULL
);
CREATE INDEX used_jtis_expires ON used_jtis(expires_at);
