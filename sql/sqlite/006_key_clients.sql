-- mcp-authd schema, version 6: clients that authenticate with a key (private_key_jwt),
-- identity providers whose ID-JAGs the token endpoint accepts, and the replay cache of
-- the assertions both present (DESIGN.md §10.4).

-- A private_key_jwt client (RFC 7523) has auth_method 'private_key_jwt', confidential 1,
-- no secret_hash, and exactly one of: the JWKS given at registration, or where to fetch it.
ALTER TABLE clients ADD COLUMN jwks TEXT;             -- a JWKS JSON document
ALTER TABLE clients ADD COLUMN jwks_uri TEXT;

-- A provider's keys: from its discovery document (both NULL), from jwks_uri, or given
-- inline (--jwks-file). id_jag: the token endpoint accepts ID-JAGs it issues, presented
-- by the clients named in id_jag_clients (NULL: any confidential client). A provider used
-- only as an ID-JAG issuer has client_id '' and is not offered for sign-in.
ALTER TABLE idps ADD COLUMN jwks_uri TEXT;
ALTER TABLE idps ADD COLUMN jwks TEXT;                -- a JWKS JSON document
ALTER TABLE idps ADD COLUMN id_jag INTEGER NOT NULL DEFAULT 0;
ALTER TABLE idps ADD COLUMN id_jag_clients TEXT;      -- space-separated client_ids

-- Assertions used once: the SHA-256 of what names one (issuer and jti), kept until the
-- assertion expires, so that it is accepted once on whichever node sees it first. A row
-- past its expiry counts as unused; purge drops them.
CREATE TABLE used_jtis (
	key_hash BLOB PRIMARY KEY,
	expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX used_jtis_expires ON used_jtis(expires_at);
