-- mcp-authd schema, version 8: per-user OAuth connections to third parties
-- (DESIGN.md §10.5, issue 16). A user connects an account at a third-party authorization
-- server once; the MCP servers the policy names then fetch that user's third-party
-- access token through token exchange, refreshed here when it expires.

-- A third-party authorization server users connect accounts at. Its name shares the
-- vault's namespace with service credentials: it is the audience an MCP server asks for,
-- and resource_credentials names it like a credential. The client secret is sealed like a
-- credential's (its own data key, bound to "connection NAME client-secret"); NULL for a
-- public client.
CREATE TABLE connections (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,            -- [a-z0-9-], 1..32
	authorize_url TEXT NOT NULL,
	token_url TEXT NOT NULL,
	revoke_url TEXT,                      -- RFC 7009; NULL: disconnect only forgets
	client_id TEXT NOT NULL,
	wrapped_key BLOB,                     -- the client secret's data key, sealed
	secret_enc BLOB,                      -- the client secret, sealed under it
	scopes TEXT NOT NULL,                 -- asked for upstream, space-separated
	resource TEXT,                        -- RFC 8707 resource sent upstream; NULL: none
	allow_private INTEGER NOT NULL,       -- the third party may live on a private address
	created_at INTEGER NOT NULL
);

-- A user's tokens at a connection. Both tokens are sealed together (a JSON object) with
-- their own data key, bound to "connection NAME user ID gGENERATION": every write makes a
-- new generation, so a row cannot be swapped with another user's nor with an older one of
-- its own. generation is also the compare-and-set of a refresh: of the nodes that find
-- the access token expired, the one that moves refreshing_until (a lease) from the past
-- refreshes upstream; the others wait for the generation to change.
CREATE TABLE user_connections (
	connection TEXT NOT NULL,             -- named: removing the connection removes these
	user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	generation INTEGER NOT NULL,          -- 1, 2, ... one per write of the tokens
	wrapped_key BLOB NOT NULL,
	tokens_enc BLOB NOT NULL,             -- {"access_token", "refresh_token"} sealed
	fingerprint TEXT NOT NULL,            -- of the access token: audit and listings
	scope TEXT,                           -- as granted upstream; NULL: not said
	expires_at INTEGER NOT NULL,          -- of the access token; 0: not said
	refreshing_until INTEGER NOT NULL,    -- a refresh lease held until then; 0: none
	needs_reauth INTEGER NOT NULL,        -- the third party refused the refresh token
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (connection, user_id)
) WITHOUT ROWID;
CREATE INDEX user_connections_user ON user_connections(user_id);

-- A connect in progress, from the redirect to the third party to the callback: found by
-- the SHA-256 of the state sent there and taken once. It belongs to the user and to the
-- session that started it (the SHA-256 of the session cookie): whoever finishes must be
-- the one who started.
CREATE TABLE connect_states (
	state_hash BLOB PRIMARY KEY,
	connection TEXT NOT NULL,
	user_id INTEGER NOT NULL,
	session_hash BLOB NOT NULL,
	code_verifier TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) WITHOUT ROWID;
