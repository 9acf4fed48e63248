/* The storage interface: everything the server keeps, behind one small API with two
 * backends, SQLite (store/sqlite/, the embedded default) and PostgreSQL
 * (store/postgresql/, for fleets of nodes sharing one database). The backend is picked
 * when the store opens, from the location: a postgresql:// or postgres:// URI selects
 * PostgreSQL, anything else is a SQLite path. Nothing above store/ knows which runs. The
 * store knows no protocol: it keeps and finds rows.
 *
 * Conventions: functions return STORE_OK (0) or a negative STORE_* code; results go
 * through out-parameters cleared on entry; structs filled by a getter own their
 * strings and are released with their _clear function. One struct store is one
 * connection and must be used by one thread at a time. */
#ifndef MCP_STORE_STORE_H
#define MCP_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct store_cache;

enum {
	STORE_OK = 0,
	STORE_ERROR = -1,
	STORE_NOTFOUND = -2,
	STORE_CONFLICT = -3,    /* a unique key already exists */
	STORE_BUSY = -4,        /* the database stayed locked past the timeout */
	STORE_UNAVAILABLE = -5, /* the database cannot be reached (or timed out) */
	STORE_RETRY = -6,       /* the transaction lost a conflict (serialization failure,
				 * deadlock, a connection lost before COMMIT): it was rolled
				 * back and may be run again from store_begin */
	STORE_UNKNOWN = -7,     /* the connection went while COMMIT was in flight: the
				 * outcome is unknown; fail closed, never retry */
	STORE_UNSUPPORTED = -8, /* this backend does not do that (backup on PostgreSQL) */
};

/* STORE_UNAVAILABLE, STORE_RETRY, STORE_UNKNOWN and STORE_BUSY: the database, not the
 * request, is at fault (answer 503 temporarily_unavailable). */
int store_rc_transient(int rc);

/* ---- locations (store.c) ---- */

/* 1 when location names PostgreSQL (a postgresql:// or postgres:// URI). */
int store_location_is_url(const char *location);

/* The location fit to print: the password of a URI (user:PASSWORD@ or a password=
 * parameter) replaced by "****". New string; NULL on allocation failure. */
char *store_location_masked_new(const char *location);

/* ---- connection, schema, transactions (store.c, then each backend's db.c) ---- */

struct store_options {
	const char *synchronous; /* SQLite: "NORMAL" (default) or "FULL" */
	int create;              /* SQLite: create the file when missing */
	int readonly;
	int manual_checkpoint;   /* SQLite: leave WAL checkpoints to store_checkpoint */
	int timeout_ms;          /* longest wait for the database (0: 5000) */
	struct store_cache *cache; /* connections of a server share its registry cache */
};

/* A path for a process-private in-memory database that several connections (one
 * per thread) can share; the database lives while one connection is open. The
 * returned string is owned by the caller. */
char *store_memory_path_new(void);

/* Open a connection to location (a SQLite path or a PostgreSQL URI): SQLite in WAL
 * mode with foreign keys on; PostgreSQL with the statement cache of this connection.
 * STORE_UNAVAILABLE when PostgreSQL cannot be reached within the timeout. */
int store_open(const char *location, const struct store_options *opt, struct store **out);

/* Why the last store_open of this thread failed, for one line of log or CLI output
 * (never a password); "" when it did not. */
const char *store_open_error(void);

/* Finalize cached statements and close; accepts NULL. */
void store_close(struct store *st);

/* "sqlite" or "postgresql". */
const char *store_backend_name(const struct store *st);

/* Apply the embedded migrations of this backend newer than the recorded schema version,
 * each in its own transaction (on PostgreSQL under an advisory lock, so that nodes and
 * the CLI starting together never race). *applied (may be NULL) receives how many ran. */
int store_migrate(struct store *st, int *applied);

/* Highest applied migration (0 for an empty database). */
int store_schema_version(struct store *st, int *version);

/* Write transactions take the write lock at once (SQLite: BEGIN IMMEDIATE, so that two
 * writers never deadlock upgrading a read lock; PostgreSQL: READ COMMITTED, where every
 * single-use rule is one conditional statement). */
int store_begin(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);

/* Serialize with every other process on what (inside a transaction, until it ends):
 * scheduled key rotation runs once across the nodes of a fleet. */
enum store_lock {
	STORE_LOCK_KEYS = 1,
};
int store_lock(struct store *st, enum store_lock what);

/* Settings: small named values kept in the database (issuer, keys version). */
int store_setting_get_new(struct store *st, const char *key, char **value);
int store_setting_set(struct store *st, const char *key, const char *value);

/* Online backup to a new file, safe while other connections write (SQLite only:
 * STORE_UNSUPPORTED on PostgreSQL, whose own tools do it). */
int store_backup(struct store *st, const char *dest_path);

/* A passive WAL checkpoint when the WAL has grown past min_frames since the last one,
 * run by one background thread so that no request's commit pays for copying the WAL
 * back into the database. 1 when one ran, 0 when not needed (always 0 on PostgreSQL). */
int store_checkpoint(struct store *st, int min_frames);

/* The database's size in bytes. */
int store_size(struct store *st, int64_t *bytes);

/* Cheap liveness check of the connection (SELECT 1). */
int store_ping(struct store *st);

/* Last database error text, for logs (never shown to clients). */
const char *store_errmsg(struct store *st);

/* ---- users (users.c) ---- */

struct store_user {
	int64_t id;
	char *name;
	char *password_hash;     /* STORE_NO_PASSWORD for a federated user */
	int disabled;
	int64_t created_at;
	char *idp;               /* federated: the provider's name; NULL for a local user */
	char *idp_sub;           /* federated: the subject the provider knows them by */
	char *email;             /* as the provider last asserted it, or NULL */
	char *idp_groups;        /* space-separated groups of the last upstream login */
};

/* The password hash of a user who has none (a federated user): no password verifies. */
#define STORE_NO_PASSWORD "!"

void store_user_clear(struct store_user *u);
int store_user_add(struct store *st, const char *name, const char *password_hash, int64_t now,
    int64_t *id);
int store_user_get_by_name(struct store *st, const char *name, struct store_user *out);
int store_user_get(struct store *st, int64_t id, struct store_user *out);
int store_user_set_disabled(struct store *st, const char *name, int disabled);
int store_user_set_password(struct store *st, const char *name, const char *password_hash);
typedef int (*store_user_fn)(const struct store_user *u, void *arg);
int store_user_list(struct store *st, store_user_fn fn, void *arg);
/* A federated user, known by (idp, sub): no password. CONFLICT when the name or the
 * (idp, sub) pair is taken. */
int store_user_add_federated(struct store *st, const char *name, const char *idp,
    const char *sub, int64_t now, int64_t *id);
int store_user_get_by_idp(struct store *st, const char *idp, const char *sub,
    struct store_user *out);
/* Link a local user to (idp, sub): the first sign-in through a provider that vouches for
 * the user's email. NOTFOUND when the user is unknown or already linked. */
int store_user_link_idp(struct store *st, int64_t id, const char *idp, const char *sub);
/* What the provider asserted at the user's last upstream login (email may be NULL). */
int store_user_set_idp_claims(struct store *st, int64_t id, const char *email,
    const char *groups);

/* ---- upstream identity providers (idps.c) ---- */

struct store_idp {
	int64_t id;
	char *name;
	char *issuer;
	char *client_id;         /* "": an ID-JAG issuer only, not offered for sign-in */
	unsigned char *client_secret_enc; /* sealed under the master key; NULL: none */
	size_t client_secret_enc_len;
	char *display_name;
	char *scopes;            /* space-separated */
	char *claim_user;
	char *claim_email;
	char *claim_groups;
	char *allowed_groups;    /* space-separated; NULL: everyone */
	int jit;
	int link_verified_email;
	int allow_private;
	int64_t created_at;
	char *jwks_uri;          /* where its keys are; NULL: from discovery, or jwks */
	char *jwks;              /* its keys as a JWKS document (--jwks-file), or NULL */
	int id_jag;              /* the token endpoint accepts ID-JAGs it issues */
	char *id_jag_clients;    /* space-separated client_ids that may present them;
				  * NULL: any confidential client */
};

void store_idp_clear(struct store_idp *p);
/* CONFLICT when the name is taken. */
int store_idp_add(struct store *st, const struct store_idp *p, int64_t *id);
int store_idp_get(struct store *st, const char *name, struct store_idp *out);
/* The provider with id_jag set whose issuer is exactly issuer (of several, the one added
 * first); NOTFOUND when there is none. */
int store_idp_get_id_jag(struct store *st, const char *issuer, struct store_idp *out);
typedef int (*store_idp_fn)(const struct store_idp *p, void *arg);
int store_idp_list(struct store *st, store_idp_fn fn, void *arg);
/* Remove a provider and its group mappings, and end the refresh families of its users
 * (they can no longer sign in; their tokens stop being renewed). NOTFOUND when unknown. */
int store_idp_remove(struct store *st, const char *name, int64_t now);
/* Replace the sealed client secret (master key rewrap). */
int store_idp_set_secret(struct store *st, int64_t id, const unsigned char *enc, size_t len);

/* Group mappings: members of group at idp may reach resource with scopes (NULL: every
 * scope of the resource). put adds or replaces. */
int store_idp_map_put(struct store *st, int64_t idp, const char *group, int64_t resource,
    const char *scopes, int64_t now);
/* NOTFOUND when there is no such mapping. */
int store_idp_map_remove(struct store *st, int64_t idp, const char *group, int64_t resource);
typedef int (*store_idp_map_fn)(const char *idp, const char *group, const char *resource_uri,
    const char *scopes, void *arg);
/* The mappings of one provider (idp > 0) or of all, by provider, group and resource. */
int store_idp_map_list(struct store *st, int64_t idp, store_idp_map_fn fn, void *arg);

/* ---- resources and exchange edges (resources.c) ---- */

struct store_resource {
	int64_t id;
	char *uri;             /* as registered; the aud of its tokens */
	char *uri_key;         /* canonical match key (oauth/resource.h) */
	char *name;
	char *scopes;          /* space-separated */
	char *default_scopes;  /* NULL: all of scopes */
	int64_t ttl;           /* 0: server default */
	int64_t created_at;
};

void store_resource_clear(struct store_resource *r);
int store_resource_add(struct store *st, const struct store_resource *r, int64_t *id);
/* Lookups and removal take the canonical match key. */
int store_resource_get_by_key(struct store *st, const char *uri_key, struct store_resource *out);
int store_resource_get(struct store *st, int64_t id, struct store_resource *out);
int store_resource_remove(struct store *st, const char *uri_key);
typedef int (*store_resource_fn)(const struct store_resource *r, void *arg);
int store_resource_list(struct store *st, store_resource_fn fn, void *arg);

/* The longest access_token_ttl of any resource (0 when none sets one). */
int store_resource_max_ttl(struct store *st, int64_t *ttl);

/* Add or replace the edge from -> to; scopes NULL means every scope of `to`. */
int store_edge_put(struct store *st, int64_t from_id, int64_t to_id, const char *scopes,
    int64_t now);
/* *scopes is NULL for "every scope"; NOTFOUND when there is no edge. */
int store_edge_get(struct store *st, int64_t from_id, int64_t to_id, char **scopes);
typedef int (*store_edge_fn)(const char *from_uri, const char *to_uri, const char *scopes,
    void *arg);
int store_edge_list(struct store *st, store_edge_fn fn, void *arg);

/* ---- clients (clients.c) ---- */

struct store_client {
	int64_t id;
	char *client_id;
	char *name;
	int confidential;
	char *auth_method;
	char *secret_hash;
	char *grant_types;       /* space-separated */
	int64_t acts_for;        /* resource id, 0 for none */
	char *acts_for_uri;      /* filled by getters */
	char *default_resource;
	int introspect_admin;
	char *origin;            /* cli | dcr | cimd | dev */
	char *metadata;          /* JSON or NULL */
	char *remote_addr;
	int64_t created_at;
	int64_t updated_at;
	int64_t metadata_expires_at; /* CIMD: when the fetched metadata goes stale */
	char *jwks;              /* private_key_jwt: its keys as a JWKS document, or NULL */
	char *jwks_uri;          /* private_key_jwt: where its keys are, or NULL */
	char **redirect_uris;    /* filled by store_client_get */
	size_t n_redirect_uris;
};

void store_client_clear(struct store_client *c);
/* Insert the client row and its redirect URIs. */
int store_client_add(struct store *st, const struct store_client *c, int64_t *id);
int store_client_get(struct store *st, const char *client_id, struct store_client *out);
/* The same without the redirect URIs (the token endpoint never needs them). */
int store_client_get_lite(struct store *st, const char *client_id, struct store_client *out);
int store_client_remove(struct store *st, const char *client_id);
int store_client_set_secret(struct store *st, const char *client_id, const char *secret_hash,
    int64_t now);
/* Insert or refresh a client known by its metadata document (origin cimd): name,
 * redirect URIs, metadata and freshness replaced in one transaction. A client_id
 * that exists with another origin is a STORE_CONFLICT. */
int store_client_put_cimd(struct store *st, const struct store_client *c);
int store_client_resource_add(struct store *st, int64_t client, int64_t resource);
/* STORE_OK when the client may get client_credentials tokens for resource. */
int store_client_resource_allowed(struct store *st, int64_t client, int64_t resource);
/* The resource with this match key and, in the same lookup, whether the client may get
 * client_credentials tokens for it (*allowed). */
int store_resource_for_client(struct store *st, const char *uri_key, int64_t client,
    struct store_resource *out, int *allowed);
/* Space-separated URIs of the client's client_credentials resources (new string). */
int store_client_resources_new(struct store *st, int64_t client, char **uris);
typedef int (*store_client_fn)(const struct store_client *c, void *arg);
int store_client_list(struct store *st, store_client_fn fn, void *arg);

int store_regtoken_add(struct store *st, const unsigned char *hash, size_t len, int64_t now,
    int64_t expires_at);
/* STORE_OK when an unexpired registration token with this hash exists. */
int store_regtoken_check(struct store *st, const unsigned char *hash, size_t len, int64_t now);

/* ---- browser sessions and remembered consent (sessions.c) ---- */

int store_session_add(struct store *st, const unsigned char *hash, size_t len, int64_t user_id,
    int64_t auth_time, int64_t now, int64_t expires_at);
/* The user and auth_time of an unexpired session; NOTFOUND otherwise. */
int store_session_get(struct store *st, const unsigned char *hash, size_t len, int64_t now,
    int64_t *user_id, int64_t *auth_time);
int store_session_delete(struct store *st, const unsigned char *hash, size_t len);

/* resources and scope are the sorted, space-separated sets (oauth/scope.h). */
int store_consent_check(struct store *st, int64_t user_id, int64_t client, const char *resources,
    const char *scope, int64_t now);
int store_consent_put(struct store *st, int64_t user_id, int64_t client, const char *resources,
    const char *scope, int64_t now, int64_t expires_at);

/* ---- authorization codes (codes.c) ---- */

struct store_code {
	unsigned char hash[32];
	int64_t client;          /* clients.id */
	int64_t user_id;
	char *redirect_uri;
	int redirect_uri_given;
	char *code_challenge;
	char *resources;         /* space-separated registered URIs */
	char *scope;
	int64_t auth_time;
	int64_t created_at;
	int64_t expires_at;
	int64_t redeemed_at;
	char *family_id;         /* set at redemption */
};

void store_code_clear(struct store_code *c);
int store_code_add(struct store *st, const struct store_code *c);
/* Inside the caller's transaction: mark the code redeemed by family_id. STORE_OK on
 * the first redemption (out filled); STORE_CONFLICT when it was redeemed before
 * (out filled, out->family_id is the first redemption's); NOTFOUND when unknown. */
int store_code_redeem(struct store *st, const unsigned char *hash, int64_t now,
    const char *family_id, struct store_code *out);

/* ---- refresh token families, refresh tokens, revoked access tokens (tokens.c) ---- */

struct store_family {
	char *family_id;
	int64_t client;
	char *client_id;         /* joined */
	int64_t user_id;
	char *user_name;         /* joined */
	int user_disabled;       /* joined */
	char *user_idp;          /* joined: the user's identity provider, NULL for a local user */
	char *resources;
	char *scope;
	int64_t auth_time;
	int64_t created_at;
	int64_t expires_at;
	int64_t revoked_at;
};

struct store_refresh {
	unsigned char hash[32];
	char *family_id;
	char *scope;
	int64_t issued_at;
	int64_t expires_at;
	int64_t rotated_at;
	struct store_family family;
};

void store_family_clear(struct store_family *f);
void store_refresh_clear(struct store_refresh *r);
int store_family_add(struct store *st, const struct store_family *f);
/* Revoke a family: its refresh tokens stop working and the access tokens issued
 * beside them are added to the revoked jtis. */
int store_family_revoke(struct store *st, const char *family_id, int64_t now, const char *reason);
int store_refresh_add(struct store *st, const unsigned char *hash, const char *family_id,
    const char *scope, int64_t issued_at, int64_t expires_at, const char *access_jti,
    int64_t access_expires_at);
int store_refresh_get(struct store *st, const unsigned char *hash, struct store_refresh *out);
/* Take a refresh token to rotate it: the token and its family as store_refresh_get reads
 * them, and the token marked used at now in the same step. STORE_OK: this call used it
 * (roll the transaction back to leave it unused); STORE_CONFLICT: it was used before, a
 * reuse (out is filled); STORE_NOTFOUND. The family stays locked until the transaction
 * ends, so that its revocation and this rotation happen one after the other. */
int store_refresh_take(struct store *st, const unsigned char *hash, int64_t now,
    struct store_refresh *out);

int store_jti_revoke(struct store *st, const char *jti, int64_t expires_at, int64_t now);
/* STORE_OK when the jti is revoked, NOTFOUND when not. */
int store_jti_revoked(struct store *st, const char *jti);

/* ---- assertions used once: ID-JAGs, client assertions (replay.c) ---- */

/* Record one use of the assertion that key_hash names (the SHA-256 of what identifies
 * it, such as its issuer and jti), kept until expires_at: STORE_OK the first time;
 * STORE_CONFLICT when it was recorded before and that record has not expired by now (a
 * replay). An expired record counts as unused and is replaced. One statement, so that of
 * two nodes recording the same key at once exactly one gets STORE_OK. */
int store_jti_use(struct store *st, const unsigned char key_hash[32], int64_t expires_at,
    int64_t now);

/* ---- signing keys (keys.c) ---- */

struct store_key {
	int64_t id;
	char *kid;
	char *alg;
	char *state;             /* next | active | retired */
	char *public_jwk;
	unsigned char *private_enc;
	size_t private_enc_len;
	int64_t created_at;
	int64_t activated_at;    /* 0 when never */
	int64_t retired_at;
	int64_t delete_after;
};

void store_key_clear(struct store_key *k);
int store_key_add(struct store *st, const struct store_key *k, int64_t *id);
/* Every key row, oldest first. */
typedef int (*store_key_fn)(const struct store_key *k, void *arg);
int store_key_list(struct store *st, store_key_fn fn, void *arg);
int store_key_set_state(struct store *st, int64_t id, const char *state, int64_t activated_at,
    int64_t retired_at, int64_t delete_after);
int store_key_set_private(struct store *st, int64_t id, const unsigned char *blob, size_t len);
int store_key_delete(struct store *st, int64_t id);
/* Retired keys whose deletion is due. *deleted receives how many went. */
int store_key_delete_expired(struct store *st, int64_t now, int *deleted);
/* A counter bumped by every change to the keys, so that running servers can
 * notice a rotation made elsewhere with one cheap read. */
int store_keys_version(struct store *st, int64_t *version);
int store_keys_version_bump(struct store *st);

/* ---- the downstream credential vault (vault.c) ---- */

/* A service credential (an API key an MCP server uses as itself, DESIGN.md §10.5), one row
 * per version. The secret is sealed with its own data key and the data key under the
 * master key, both bound to "credential NAME vVERSION"; the store keeps the blobs as they
 * are. A credential has one current version (retires_at 0) and, after a rotation, at most
 * one more, served until its retires_at. */
struct store_credential {
	int64_t id;
	char *name;                   /* [a-z0-9-], 1..32 */
	int64_t version;              /* 1, 2, ... */
	unsigned char *wrapped_key;   /* the data key, sealed under the master key */
	size_t wrapped_key_len;
	unsigned char *secret_enc;    /* the secret, sealed under the data key */
	size_t secret_enc_len;
	char *fingerprint;            /* "sha256:" and 16 hex digits: audit and listings */
	int64_t created_at;
	int64_t retires_at;           /* 0: the current version; else served until then */
};

/* Wipes both blobs before freeing them. */
void store_credential_clear(struct store_credential *c);
/* Version 1 of a new credential (c->version and c->retires_at are ignored). CONFLICT when
 * the name is taken. */
int store_credential_add(struct store *st, const struct store_credential *c);
/* The version a rotation of name assigns (the current one + 1): seal for it, then rotate.
 * NOTFOUND when no credential has that name. */
int store_credential_next_version(struct store *st, const char *name, int64_t *version);
/* In one transaction (its own, or the caller's when one is open): the current version of
 * c->name retires at retires_at, a version that was retiring already is deleted (at most
 * two versions are ever served), and c becomes the current version, numbered c->version,
 * which *version (may be NULL) receives. NOTFOUND when no credential has that name;
 * CONFLICT when c->version is not the current version + 1: another rotation came first
 * (take the next version again, seal for it, retry). */
int store_credential_rotate(struct store *st, const struct store_credential *c,
    int64_t retires_at, int64_t *version);
/* The current version. NOTFOUND when none. */
int store_credential_get(struct store *st, const char *name, struct store_credential *out);
/* The retiring version still served at now (retires_at > now), the newest such; NOTFOUND
 * when none. */
int store_credential_get_previous(struct store *st, const char *name, int64_t now,
    struct store_credential *out);
/* Rows are borrowed for the callback only. */
typedef int (*store_credential_fn)(const struct store_credential *c, void *arg);
/* Every version served at now (the current ones and those retiring after now), by name
 * then version. */
int store_credential_list(struct store *st, int64_t now, store_credential_fn fn, void *arg);
/* Every version and every policy row of name, in one transaction (its own, or the
 * caller's when one is open). NOTFOUND when there was none. */
int store_credential_remove(struct store *st, const char *name);
/* Replace a version's sealed data key (keys rewrap, inside the caller's transaction).
 * NOTFOUND when no version has that id. */
int store_credential_set_key(struct store *st, int64_t id, const unsigned char *wrapped,
    size_t len);
/* Every version, served or not, by id, with both blobs: for rewrap (collect the rows, then
 * set their keys). */
int store_credential_each(struct store *st, store_credential_fn fn, void *arg);

/* Policy: which MCP server (resource) may fetch which credential. allow is idempotent (a
 * row already there is kept); NOTFOUND when no credential has that name. */
int store_resource_credential_allow(struct store *st, int64_t resource, const char *name,
    int64_t now);
/* STORE_OK when the resource may fetch the credential, NOTFOUND otherwise. */
int store_resource_credential_allowed(struct store *st, int64_t resource, const char *name);
typedef int (*store_resource_credential_fn)(const char *resource_uri, const char *name,
    void *arg);
/* Every policy row, by resource URI then credential name. */
int store_resource_credential_list(struct store *st, store_resource_credential_fn fn,
    void *arg);

/* ---- per-user OAuth connections to third parties (connections.c) ---- */

#define STORE_UPSTREAM_HASH_LEN 32 /* SHA-256 of a state, a browser or a session cookie */

/* A third-party authorization server users connect accounts at (connection add). Its
 * name shares the vault's namespace with credentials: store_resource_credential_allow
 * accepts either. The client secret is sealed like a credential's (both blobs NULL: a
 * public client). */
struct store_connection {
	int64_t id;
	char *name;                   /* [a-z0-9-], 1..32 */
	char *authorize_url;
	char *token_url;
	char *revoke_url;             /* NULL: none */
	char *client_id;
	unsigned char *wrapped_key;   /* the client secret's data key, sealed; NULL: none */
	size_t wrapped_key_len;
	unsigned char *secret_enc;    /* the client secret, sealed under it; NULL: none */
	size_t secret_enc_len;
	char *scopes;                 /* space-separated */
	char *resource;               /* RFC 8707 resource sent upstream; NULL: none */
	int allow_private;
	int64_t created_at;
};

/* Wipes both blobs before freeing them. */
void store_connection_clear(struct store_connection *c);
/* CONFLICT when a connection or a credential already has the name. */
int store_connection_add(struct store *st, const struct store_connection *c);
/* NOTFOUND when none has that name. */
int store_connection_get(struct store *st, const char *name, struct store_connection *out);
/* Rows are borrowed for the callback only. */
typedef int (*store_connection_fn)(const struct store_connection *c, void *arg);
/* Every connection, by name. */
int store_connection_list(struct store *st, store_connection_fn fn, void *arg);
/* The connection, every user's tokens at it, its connects in progress and its policy
 * rows, in one transaction (its own, or the caller's when one is open). NOTFOUND when
 * none has that name. */
int store_connection_remove(struct store *st, const char *name);
/* Replace the client secret's sealed data key (keys rewrap, in the caller's transaction).
 * NOTFOUND when no connection has that id. */
int store_connection_set_key(struct store *st, int64_t id, const unsigned char *wrapped,
    size_t len);

/* A user's tokens at a connection: one sealed JSON object {"access_token",
 * "refresh_token"} bound to "connection NAME user ID gGENERATION". */
struct store_user_connection {
	char *connection;
	int64_t user_id;
	int64_t generation;           /* 1, 2, ...: one per write of the tokens */
	unsigned char *wrapped_key;
	size_t wrapped_key_len;
	unsigned char *tokens_enc;
	size_t tokens_enc_len;
	char *fingerprint;            /* of the access token */
	char *scope;                  /* as granted upstream; NULL: not said */
	int64_t expires_at;           /* of the access token; 0: not said */
	int64_t refreshing_until;     /* a refresh lease runs until then; 0: none */
	int needs_reauth;             /* the third party refused the refresh token */
	int64_t created_at;
	int64_t updated_at;
};

/* Wipes both blobs before freeing them. */
void store_user_connection_clear(struct store_user_connection *uc);
/* NOTFOUND when the user has not connected that connection. */
int store_user_connection_get(struct store *st, const char *connection, int64_t user_id,
    struct store_user_connection *out);
/* Write uc, sealed for generation uc->generation, in place of generation
 * uc->generation - 1 (a new row when uc->generation is 1): a compare-and-set. The write
 * ends any lease and clears needs_reauth; created_at is kept from the row it replaces.
 * CONFLICT when the row is not at uc->generation - 1 any more (another write came
 * first; for generation 1: the row exists, or no connection has that name). */
int store_user_connection_put(struct store *st, const struct store_user_connection *uc);
/* Take the refresh lease of the row at generation: STORE_OK when the row is still at
 * generation and no lease runs at now (refreshing_until <= now); refreshing_until becomes
 * until. CONFLICT otherwise (someone else refreshes, or did). NOTFOUND when no row. */
int store_user_connection_lease(struct store *st, const char *connection, int64_t user_id,
    int64_t generation, int64_t now, int64_t until);
/* The third party refused the refresh of generation: needs_reauth set, the lease ended.
 * CONFLICT when the row moved on meanwhile. */
int store_user_connection_fail(struct store *st, const char *connection, int64_t user_id,
    int64_t generation);
/* Forget the user's tokens at connection. NOTFOUND when there were none. */
int store_user_connection_remove(struct store *st, const char *connection, int64_t user_id);
typedef int (*store_user_connection_fn)(const struct store_user_connection *uc, void *arg);
/* The user's connections, by connection name, with their blobs. */
int store_user_connection_list_user(struct store *st, int64_t user_id,
    store_user_connection_fn fn, void *arg);
/* Every row, with its blobs (keys rewrap: collect, then set_key). */
int store_user_connection_each(struct store *st, store_user_connection_fn fn, void *arg);
/* Replace the sealed data key of the row at generation (keys rewrap, in the caller's
 * transaction). NOTFOUND when no row is at that generation. */
int store_user_connection_set_key(struct store *st, const char *connection,
    int64_t user_id, int64_t generation, const unsigned char *wrapped, size_t len);

/* A connect in progress (from the redirect to the third party to its callback). */
struct store_connect_state {
	char *connection;
	int64_t user_id;
	unsigned char session_hash[STORE_UPSTREAM_HASH_LEN]; /* of the session cookie */
	char *code_verifier;
	int64_t created_at;
	int64_t expires_at;
};

void store_connect_state_clear(struct store_connect_state *s);
/* Keep a connect under the SHA-256 of its state. CONFLICT when the state is taken. */
int store_connect_state_add(struct store *st, const unsigned char *state_hash,
    const struct store_connect_state *s);
/* Take it: deleted in the same statement, so that a state is used once. NOTFOUND when
 * unknown or taken; an expired one is returned (the caller refuses it). */
int store_connect_state_take(struct store *st, const unsigned char *state_hash,
    struct store_connect_state *out);

/* ---- failed logins (logins.c) ---- */

/* Rows of login_failures are kept per subject ("user:NAME", "addr:IP"), with times in
 * milliseconds since the epoch (delays of a second must not round to nothing); purge
 * drops a row a day after its last failure once its block has ended
 * (STORE_LOGIN_RETENTION, seconds). */
#define STORE_LOGIN_RETENTION 86400

/* Count one failed login of subject at now_ms. A row whose last failure is older than
 * forget_before_ms starts again from one. *failures gets the new count. */
int store_login_failure_add(struct store *st, const char *subject, int64_t now_ms,
    int64_t forget_before_ms, int64_t *failures);

/* Block subject until until_ms; never shortens a longer block already set. */
int store_login_block(struct store *st, const char *subject, int64_t until_ms);

/* When subject's block ends (ms): *until_ms 0 when it has none or the subject is
 * unknown. */
int store_login_blocked_until(struct store *st, const char *subject, int64_t *until_ms);

/* Forget subject's failures (after a successful login). */
int store_login_failures_clear(struct store *st, const char *subject);

/* ---- rate limits shared by every node (logins.c) ---- */

/* Count one event for key in the fixed window that starts at window_start (seconds);
 * *count gets the events of that window so far, this one included. */
int store_rate_take(struct store *st, const char *key, int64_t window_start, int64_t *count);

/* ---- audit (audit.c) ---- */

struct store_audit {
	int64_t id;
	int64_t ts;
	const char *event;
	const char *outcome;
	const char *reason;
	const char *client_id;
	const char *subject;
	const char *resource;
	const char *act;
	const char *jti;
	const char *remote_addr;
	const char *detail;
};

int store_audit_add(struct store *st, const struct store_audit *a);
/* The last n records, oldest first. Strings are borrowed for the callback only. */
typedef int (*store_audit_fn)(const struct store_audit *a, void *arg);
int store_audit_tail(struct store *st, int n, store_audit_fn fn, void *arg);
int store_audit_purge(struct store *st, int64_t older_than, int *deleted);

/* ---- housekeeping (purge.c) ---- */

struct store_purge_counts {
	int codes;
	int refresh_families;
	int revoked_jtis;
	int sessions;
	int keys;
	int audit;
	int registration_tokens;
	int consents;
	int login_failures;
	int rate_limits;
	int changes;
	int upstream_logins;
	int used_jtis;
	int credentials;
	int connect_states;
};

/* Delete what has expired by now, and audit records older than audit_before
 * (0 keeps them all), in one transaction. */
int store_purge(struct store *st, int64_t now, int64_t audit_before,
    struct store_purge_counts *out);

/* ---- sign-ins in progress at an upstream provider (idps.c) ---- */


struct store_upstream_login {
	char *idp;
	unsigned char browser_hash[STORE_UPSTREAM_HASH_LEN];
	char *nonce;
	char *code_verifier;
	char *authorize_query;   /* the /authorize request to resume */
	int64_t created_at;
	int64_t expires_at;
};

void store_upstream_login_clear(struct store_upstream_login *l);
/* Keep a sign-in under the hash of its state. CONFLICT when the state is taken. */
int store_upstream_login_add(struct store *st, const unsigned char *state_hash,
    const struct store_upstream_login *l);
/* Take the sign-in of state_hash: it is deleted in the same statement, so that a state
 * is used once, on whichever node the browser comes back to. NOTFOUND when unknown or
 * already taken; an expired one is returned (the caller refuses it). */
int store_upstream_login_take(struct store *st, const unsigned char *state_hash,
    struct store_upstream_login *out);

/* ---- moving a deployment between databases (copy.c) ---- */

/* The tables, in an order where every row's references come before it. */
enum store_table {
	STORE_T_SETTINGS,
	STORE_T_USERS,
	STORE_T_RESOURCES,
	STORE_T_EXCHANGE_EDGES,
	STORE_T_CLIENTS,
	STORE_T_CLIENT_REDIRECT_URIS,
	STORE_T_CLIENT_RESOURCES,
	STORE_T_REGISTRATION_TOKENS,
	STORE_T_CONSENTS,
	STORE_T_SESSIONS,
	STORE_T_AUTH_CODES,
	STORE_T_TOKEN_FAMILIES,
	STORE_T_REFRESH_TOKENS,
	STORE_T_REVOKED_JTIS,
	STORE_T_KEYS,
	STORE_T_AUDIT,
	STORE_T_LOGIN_FAILURES,
	STORE_T_RATE_LIMITS,
	STORE_T_IDPS,
	STORE_T_IDP_GROUP_MAPS,
	STORE_T_UPSTREAM_LOGINS,
	STORE_T_CREDENTIALS,
	STORE_T_RESOURCE_CREDENTIALS,
	STORE_T_CONNECTIONS,
	STORE_T_USER_CONNECTIONS,
	STORE_T_CONNECT_STATES,
	STORE_TABLE_COUNT
};

/* The table's name ("auth_codes"). */
const char *store_table_name(enum store_table t);

enum store_value_kind { STORE_V_NULL, STORE_V_INT, STORE_V_TEXT, STORE_V_BLOB };

struct store_value {
	enum store_value_kind kind;
	int64_t i;
	const void *p;          /* text (NUL-terminated) or blob; borrowed */
	size_t len;
};

#define STORE_COPY_MAX_COLS 20

/* One row of a table, every column in the table's fixed order. */
struct store_copy_row {
	size_t n;
	struct store_value v[STORE_COPY_MAX_COLS];
};
typedef int (*store_copy_row_fn)(const struct store_copy_row *row, void *arg);

struct store_copy_report {
	int64_t rows[STORE_TABLE_COUNT];   /* copied, then counted again in the destination */
	int failed_table;                  /* the table a failure happened in, or -1 */
};

/* Copy every row of every table from src into dst, which must hold a migrated but empty
 * schema (STORE_CONFLICT when it holds any row), in one transaction of dst, then count
 * each table on both sides: STORE_ERROR unless every count matches. Keys stay sealed
 * under the same master key. */
int store_copy(struct store *src, struct store *dst, struct store_copy_report *out);

/* ---- registry cache (cache.c) ---- */

/* A per-process cache of clients, resources, exchange edges and revoked jtis, so that
 * client_credentials and token exchange read nothing from the database. A background
 * thread, on its own connection, applies every change recorded in the database's change
 * log (written by triggers, so changes made by other nodes and the CLI count) within
 * poll_ms, woken at once by LISTEN/NOTIFY on PostgreSQL; after a lost connection it
 * reloads everything. Changes made through this process's own connections apply at
 * their commit. Connections opened with store_options.cache use it. */
int store_cache_start(const char *location, const struct store_options *opt, int poll_ms,
    struct store_cache **out);
void store_cache_stop(struct store_cache *c);

/* 0 while the background thread reaches the database, or it has failed for less than
 * timeout_ms; STORE_UNAVAILABLE after that, and at once after any connection of this
 * process found the database unreachable, until a poll succeeds again. */
int store_cache_healthy(struct store_cache *c);

struct store_cache_stats {
	int64_t hits;
	int64_t misses;
	int64_t reloads;        /* full reloads (start, reconnects, a gap in the log) */
	int64_t applied_seq;    /* last change applied */
	int64_t revoked_jtis;   /* in the denylist now */
};
void store_cache_stats(struct store_cache *c, struct store_cache_stats *out);

#endif
