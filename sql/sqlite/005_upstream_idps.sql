-- mcp-authd schema, version 5: upstream OpenID Connect identity providers
-- (DESIGN.md §10.3).

-- An enterprise identity provider users sign in through. The client secret is sealed
-- under the master key (AES-256-GCM, the provider's name as associated data), like a
-- signing key; NULL for a provider that authenticates this server another way.
CREATE TABLE idps (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,            -- [a-z0-9-], in the callback URI
	issuer TEXT NOT NULL,
	client_id TEXT NOT NULL,
	client_secret_enc BLOB,
	display_name TEXT NOT NULL,
	scopes TEXT NOT NULL,                 -- space-separated, with openid
	claim_user TEXT NOT NULL,             -- the claim that names the user upstream
	claim_email TEXT NOT NULL,
	claim_groups TEXT NOT NULL,
	allowed_groups TEXT,                  -- space-separated; NULL: every user of the provider
	jit INTEGER NOT NULL,                 -- the first login creates the user
	link_verified_email INTEGER NOT NULL, -- a verified email may claim a local user
	allow_private INTEGER NOT NULL,       -- the provider may live on a private address
	created_at INTEGER NOT NULL
);

-- Groups decide reach: a federated user gets tokens only for what one of the groups
-- asserted at their last upstream login maps to. scopes NULL: every scope of the resource.
CREATE TABLE idp_group_maps (
	idp INTEGER NOT NULL REFERENCES idps(id) ON DELETE CASCADE,
	group_name TEXT NOT NULL,
	resource INTEGER NOT NULL REFERENCES resources(id) ON DELETE CASCADE,
	scopes TEXT,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (idp, group_name, resource)
) WITHOUT ROWID;

-- A federated user is keyed by (provider name, upstream subject), never by email. Such a
-- user has no password: password_hash holds '!', which no password verifies against.
-- The provider is named, not referenced, so that removing and adding it again finds its
-- users; idp_groups are the groups asserted at the last upstream login.
ALTER TABLE users ADD COLUMN idp TEXT;
ALTER TABLE users ADD COLUMN idp_sub TEXT;
ALTER TABLE users ADD COLUMN email TEXT;
ALTER TABLE users ADD COLUMN idp_groups TEXT;
CREATE UNIQUE INDEX users_idp_sub ON users(idp, idp_sub) WHERE idp IS NOT NULL;

-- A sign-in in progress at a provider, from the redirect there to the callback: found by
-- the state sent upstream (its SHA-256) and taken once. It belongs to the browser that
-- started it (the SHA-256 of a cookie set then), carries the nonce the ID token must
-- echo and the PKCE verifier for the upstream code, and the /authorize request to resume.
CREATE TABLE upstream_logins (
	state_hash BLOB PRIMARY KEY,
	idp TEXT NOT NULL,
	browser_hash BLOB NOT NULL,
	nonce TEXT NOT NULL,
	code_verifier TEXT NOT NULL,
	authorize_query TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) WITHOUT ROWID;
