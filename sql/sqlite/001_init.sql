-- mcp-authd schema, version 1: the whole data model of DESIGN.md §4, §5, §7.
-- Released migrations are never edited; changes go into new numbered files.

CREATE TABLE settings (
	key TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE users (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	password_hash TEXT NOT NULL,       -- argon2id, PHC string
	disabled INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL
);

-- An MCP server (RFC 8707 resource). uri is the URI as registered (scheme and host
-- lower-cased, default port dropped) and is what tokens carry in aud; uri_key is
-- the canonical form requests are matched on (one trailing slash ignored).
CREATE TABLE resources (
	id INTEGER PRIMARY KEY,
	uri TEXT NOT NULL,
	uri_key TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	scopes TEXT NOT NULL DEFAULT '',   -- space-separated allowed scopes
	default_scopes TEXT,               -- NULL: all allowed scopes
	access_token_ttl INTEGER,          -- NULL: server default
	created_at INTEGER NOT NULL
);

-- Token exchange policy: a client acting for from_id may obtain tokens for to_id.
CREATE TABLE exchange_edges (
	from_id INTEGER NOT NULL REFERENCES resources(id) ON DELETE CASCADE,
	to_id INTEGER NOT NULL REFERENCES resources(id) ON DELETE CASCADE,
	scopes TEXT,                       -- NULL: every scope of to_id
	created_at INTEGER NOT NULL,
	PRIMARY KEY (from_id, to_id)
) WITHOUT ROWID;

CREATE TABLE clients (
	id INTEGER PRIMARY KEY,
	client_id TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	confidential INTEGER NOT NULL,
	auth_method TEXT NOT NULL,         -- none | client_secret_basic | client_secret_post
	secret_hash TEXT,                  -- argon2id, confidential clients only
	grant_types TEXT NOT NULL,         -- space-separated
	acts_for INTEGER REFERENCES resources(id) ON DELETE SET NULL,
	default_resource TEXT,
	introspect_admin INTEGER NOT NULL DEFAULT 0,
	origin TEXT NOT NULL DEFAULT 'cli', -- cli | dcr | cimd | dev
	metadata TEXT,                     -- registered metadata (JSON), DCR and CIMD
	remote_addr TEXT,                  -- registering address, DCR
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);

CREATE TABLE client_redirect_uris (
	client INTEGER NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
	uri TEXT NOT NULL,
	PRIMARY KEY (client, uri)
) WITHOUT ROWID;

-- Resources a client may get client_credentials tokens for.
CREATE TABLE client_resources (
	client INTEGER NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
	resource INTEGER NOT NULL REFERENCES resources(id) ON DELETE CASCADE,
	PRIMARY KEY (client, resource)
) WITHOUT ROWID;

-- Initial access tokens for dynamic client registration (SHA-256 hashes).
CREATE TABLE registration_tokens (
	token_hash BLOB PRIMARY KEY,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Remembered consent per (user, client, resource set, scope).
CREATE TABLE consents (
	user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	client INTEGER NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
	resources TEXT NOT NULL,           -- sorted, space-separated canonical URIs
	scope TEXT NOT NULL,               -- sorted, space-separated
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	PRIMARY KEY (user_id, client, resources, scope)
) WITHOUT ROWID;

-- Browser login sessions (cookie value stored as SHA-256 hash).
CREATE TABLE sessions (
	id_hash BLOB PRIMARY KEY,
	user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	auth_time INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Authorization codes (SHA-256 hashes); family_id is set on redemption so that
-- a replay can find and revoke what the first redemption issued.
CREATE TABLE auth_codes (
	code_hash BLOB PRIMARY KEY,
	client INTEGER NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
	user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	redirect_uri TEXT NOT NULL,
	redirect_uri_given INTEGER NOT NULL,  -- was redirect_uri in the request?
	code_challenge TEXT NOT NULL,
	resources TEXT NOT NULL,
	scope TEXT NOT NULL,
	auth_time INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	redeemed_at INTEGER,
	family_id TEXT
) WITHOUT ROWID;
CREATE INDEX auth_codes_expires ON auth_codes(expires_at);

-- Refresh token families: one per code redemption; revoking a family revokes
-- every refresh token in it and the access tokens issued beside them.
CREATE TABLE token_families (
	family_id TEXT PRIMARY KEY,
	client INTEGER NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
	user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	resources TEXT NOT NULL,
	scope TEXT NOT NULL,
	auth_time INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	revoked_at INTEGER,
	revoke_reason TEXT
) WITHOUT ROWID;

-- Refresh tokens (SHA-256 hashes). Each row also records the access token issued
-- with it (jti, expiry) so that revoking the family revokes that token too.
CREATE TABLE refresh_tokens (
	token_hash BLOB PRIMARY KEY,
	family_id TEXT NOT NULL REFERENCES token_families(family_id) ON DELETE CASCADE,
	scope TEXT NOT NULL,
	issued_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	rotated_at INTEGER,
	access_jti TEXT,
	access_expires_at INTEGER
) WITHOUT ROWID;
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);
CREATE INDEX refresh_tokens_expires ON refresh_tokens(expires_at);

-- Revoked access tokens by jti, kept until they would have expired anyway.
CREATE TABLE revoked_jtis (
	jti TEXT PRIMARY KEY,
	expires_at INTEGER NOT NULL,
	revoked_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX revoked_jtis_expires ON revoked_jtis(expires_at);

-- Signing keys: next (published, not signing) -> active -> retired -> deleted.
CREATE TABLE keys (
	id INTEGER PRIMARY KEY,
	kid TEXT NOT NULL UNIQUE,
	alg TEXT NOT NULL CHECK (alg IN ('ES256', 'EdDSA', 'RS256')),
	state TEXT NOT NULL CHECK (state IN ('next', 'active', 'retired')),
	public_jwk TEXT NOT NULL,
	private_enc BLOB NOT NULL,         -- AES-256-GCM(master key): nonce || ciphertext || tag
	created_at INTEGER NOT NULL,
	activated_at INTEGER,
	retired_at INTEGER,
	delete_after INTEGER
);
CREATE UNIQUE INDEX keys_one_active_per_alg ON keys(alg) WHERE state = 'active';

-- Audit trail: one row per token event; never a token, code or secret.
CREATE TABLE audit (
	id INTEGER PRIMARY KEY,
	ts INTEGER NOT NULL,
	event TEXT NOT NULL,
	outcome TEXT NOT NULL,             -- ok | refused
	reason TEXT,
	client_id TEXT,
	subject TEXT,
	resource TEXT,
	act TEXT,                          -- JSON act chain
	jti TEXT,
	remote_addr TEXT,
	detail TEXT
);
CREATE INDEX audit_ts ON audit(ts);

-- Failed logins for throttling (per account and per source address).
CREATE TABLE login_failures (
	subject TEXT PRIMARY KEY,          -- "user:NAME" or "addr:IP"
	failures INTEGER NOT NULL,
	last_failure INTEGER NOT NULL,
	blocked_until INTEGER NOT NULL
) WITHOUT ROWID;
