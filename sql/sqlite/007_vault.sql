-- mcp-authd schema, version 7: the downstream credential vault, its service credentials
-- and which MCP servers may fetch them (DESIGN.md §10.5).

-- A service credential (an API key an MCP server uses as itself), by version. The secret
-- is sealed with its own data key (AES-256-GCM); the data key is sealed under the master
-- key; both bound to "credential NAME vVERSION" as associated data, so that rows cannot
-- be swapped. Rotation keeps at most two versions served: the current one and the one
-- before it until its retires_at; purge drops versions past it.
CREATE TABLE credentials (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL,                   -- [a-z0-9-], 1..32
	version INTEGER NOT NULL,             -- 1, 2, ...
	wrapped_key BLOB NOT NULL,            -- the data key, sealed under the master key
	secret_enc BLOB NOT NULL,             -- the secret, sealed under the data key
	fingerprint TEXT NOT NULL,            -- "sha256:" and 16 hex digits of the secret:
	                                      -- audit and listings, never the secret
	created_at INTEGER NOT NULL,
	retires_at INTEGER,                   -- NULL: the current version; else still served
	                                      -- until then
	UNIQUE (name, version)
);
-- At most one current version per name: of two rotations at once, one wins.
CREATE UNIQUE INDEX credentials_current ON credentials(name) WHERE retires_at IS NULL;

-- Which MCP server (resource) may fetch which credential (resource allow-credential).
-- Named, not referenced: a credential is several rows, one per version; removing the
-- credential removes its rows here.
CREATE TABLE resource_credentials (
	resource INTEGER NOT NULL REFERENCES resources(id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (resource, name)
) WITHOUT ROWID;
