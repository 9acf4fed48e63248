/* What a storage backend implements (store/sqlite/, store/postgresql/): one table of
 * operations, named once here and filled by each backend, and the head that every
 * backend's connection starts with. Private to store/: nothing above it includes this. */
#ifndef MCP_STORE_BACKEND_H
#define MCP_STORE_BACKEND_H

#include "store/store.h"

struct store_cache;

/* Operations whose public store_NAME() only forwards to the backend.
 * X(name, parameters, arguments). */
#define STORE_PLAIN_OPS(X)                                                                       \
	X(migrate, (struct store * st, int *applied), (st, applied))                            \
	X(schema_version, (struct store * st, int *version), (st, version))                     \
	X(setting_get_new, (struct store * st, const char *key, char **value), (st, key, value)) \
	X(setting_set, (struct store * st, const char *key, const char *value), (st, key, value)) \
	X(backup, (struct store * st, const char *dest_path), (st, dest_path))                  \
	X(checkpoint, (struct store * st, int min_frames), (st, min_frames))                    \
	X(size, (struct store * st, int64_t *bytes), (st, bytes))                               \
	X(ping, (struct store * st), (st))                                                      \
	X(user_add,                                                                             \
	    (struct store * st, const char *name, const char *password_hash, int64_t now,       \
		int64_t *id),                                                                   \
	    (st, name, password_hash, now, id))                                                 \
	X(user_get_by_name, (struct store * st, const char *name, struct store_user *out),      \
	    (st, name, out))                                                                    \
	X(user_get, (struct store * st, int64_t id, struct store_user *out), (st, id, out))     \
	X(user_set_disabled, (struct store * st, const char *name, int disabled),               \
	    (st, name, disabled))                                                               \
	X(user_set_password, (struct store * st, const char *name, const char *password_hash),  \
	    (st, name, password_hash))                                                          \
	X(user_list, (struct store * st, store_user_fn fn, void *arg), (st, fn, arg))           \
	X(user_add_federated,                                                                   \
	    (struct store * st, const char *name, const char *idp, const char *sub, int64_t now, \
		int64_t *id),                                                                   \
	    (st, name, idp, sub, now, id))                                                      \
	X(user_get_by_idp,                                                                      \
	    (struct store * st, const char *idp, const char *sub, struct store_user *out),      \
	    (st, idp, sub, out))                                                                \
	X(user_link_idp, (struct store * st, int64_t id, const char *idp, const char *sub),     \
	    (st, id, idp, sub))                                                                 \
	X(user_set_idp_claims,                                                                  \
	    (struct store * st, int64_t id, const char *email, const char *groups),             \
	    (st, id, email, groups))                                                            \
	X(idp_add, (struct store * st, const struct store_idp *p, int64_t *id), (st, p, id))    \
	X(idp_get, (struct store * st, const char *name, struct store_idp *out), (st, name, out)) \
	X(idp_get_id_jag, (struct store * st, const char *issuer, struct store_idp *out),       \
	    (st, issuer, out))                                                                  \
	X(idp_list, (struct store * st, store_idp_fn fn, void *arg), (st, fn, arg))             \
	X(idp_remove, (struct store * st, const char *name, int64_t now), (st, name, now))      \
	X(idp_set_secret,                                                                       \
	    (struct store * st, int64_t id, const unsigned char *enc, size_t len),              \
	    (st, id, enc, len))                                                                 \
	X(idp_map_put,                                                                          \
	    (struct store * st, int64_t idp, const char *group, int64_t resource,               \
		const char *scopes, int64_t now),                                               \
	    (st, idp, group, resource, scopes, now))                                            \
	X(idp_map_remove,                                                                       \
	    (struct store * st, int64_t idp, const char *group, int64_t resource),              \
	    (st, idp, group, resource))                                                         \
	X(idp_map_list, (struct store * st, int64_t idp, store_idp_map_fn fn, void *arg),       \
	    (st, idp, fn, arg))                                                                 \
	X(upstream_login_add,                                                                   \
	    (struct store * st, const unsigned char *state_hash,                                \
		const struct store_upstream_login *l),                                          \
	    (st, state_hash, l))                                                                \
	X(upstream_login_take,                                                                  \
	    (struct store * st, const unsigned char *state_hash, struct store_upstream_login *out), \
	    (st, state_hash, out))                                                              \
	X(resource_list, (struct store * st, store_resource_fn fn, void *arg), (st, fn, arg))   \
	X(resource_max_ttl, (struct store * st, int64_t *ttl), (st, ttl))                       \
	X(edge_list, (struct store * st, store_edge_fn fn, void *arg), (st, fn, arg))           \
	X(client_resources_new, (struct store * st, int64_t client, char **uris),               \
	    (st, client, uris))                                                                 \
	X(client_list, (struct store * st, store_client_fn fn, void *arg), (st, fn, arg))       \
	X(regtoken_add,                                                                         \
	    (struct store * st, const unsigned char *hash, size_t len, int64_t now,             \
		int64_t expires_at),                                                            \
	    (st, hash, len, now, expires_at))                                                   \
	X(regtoken_check,                                                                       \
	    (struct store * st, const unsigned char *hash, size_t len, int64_t now),            \
	    (st, hash, len, now))                                                               \
	X(session_add,                                                                          \
	    (struct store * st, const unsigned char *hash, size_t len, int64_t user_id,         \
		int64_t auth_time, int64_t now, int64_t expires_at),                            \
	    (st, hash, len, user_id, auth_time, now, expires_at))                               \
	X(session_get,                                                                          \
	    (struct store * st, const unsigned char *hash, size_t len, int64_t now,             \
		int64_t *user_id, int64_t *auth_time),                                          \
	    (st, hash, len, now, user_id, auth_time))                                           \
	X(session_delete, (struct store * st, const unsigned char *hash, size_t len),           \
	    (st, hash, len))                                                                    \
	X(consent_check,                                                                        \
	    (struct store * st, int64_t user_id, int64_t client, const char *resources,         \
		const char *scope, int64_t now),                                                \
	    (st, user_id, client, resources, scope, now))                                       \
	X(consent_put,                                                                          \
	    (struct store * st, int64_t user_id, int64_t client, const char *resources,         \
		const char *scope, int64_t now, int64_t expires_at),                            \
	    (st, user_id, client, resources, scope, now, expires_at))                           \
	X(code_add, (struct store * st, const struct store_code *c), (st, c))                   \
	X(code_redeem,                                                                          \
	    (struct store * st, const unsigned char *hash, int64_t now, const char *family_id,  \
		struct store_code *out),                                                        \
	    (st, hash, now, family_id, out))                                                    \
	X(family_add, (struct store * st, const struct store_family *f), (st, f))               \
	X(refresh_add,                                                                          \
	    (struct store * st, const unsigned char *hash, const char *family_id,               \
		const char *scope, int64_t issued_at, int64_t expires_at, const char *access_jti, \
		int64_t access_expires_at),                                                     \
	    (st, hash, family_id, scope, issued_at, expires_at, access_jti, access_expires_at)) \
	X(refresh_get, (struct store * st, const unsigned char *hash, struct store_refresh *out), \
	    (st, hash, out))                                                                    \
	X(refresh_take,                                                                         \
	    (struct store * st, const unsigned char *hash, int64_t now, struct store_refresh *out), \
	    (st, hash, now, out))                                                               \
	X(jti_use,                                                                              \
	    (struct store * st, const unsigned char key_hash[32], int64_t expires_at,           \
		int64_t now),                                                                   \
	    (st, key_hash, expires_at, now))                                                    \
	X(credential_add, (struct store * st, const struct store_credential *c), (st, c))        \
	X(credential_next_version, (struct store * st, const char *name, int64_t *version),    \
	    (st, name, version))                                                                \
	X(credential_rotate,                                                                    \
	    (struct store * st, const struct store_credential *c, int64_t retires_at,           \
		int64_t *version),                                                              \
	    (st, c, retires_at, version))                                                       \
	X(credential_get,                                                                       \
	    (struct store * st, const char *name, struct store_credential *out),                \
	    (st, name, out))                                                                    \
	X(credential_get_previous,                                                              \
	    (struct store * st, const char *name, int64_t now, struct store_credential *out),   \
	    (st, name, now, out))                                                               \
	X(credential_list, (struct store * st, int64_t now, store_credential_fn fn, void *arg), \
	    (st, now, fn, arg))                                                                 \
	X(credential_remove, (struct store * st, const char *name), (st, name))                 \
	X(credential_set_key,                                                                   \
	    (struct store * st, int64_t id, const unsigned char *wrapped, size_t len),          \
	    (st, id, wrapped, len))                                                             \
	X(credential_each, (struct store * st, store_credential_fn fn, void *arg), (st, fn, arg)) \
	X(resource_credential_allow,                                                            \
	    (struct store * st, int64_t resource, const char *name, int64_t now),               \
	    (st, resource, name, now))                                                          \
	X(resource_credential_allowed, (struct store * st, int64_t resource, const char *name), \
	    (st, resource, name))                                                               \
	X(resource_credential_list,                                                             \
	    (struct store * st, store_resource_credential_fn fn, void *arg), (st, fn, arg))     \
	X(connection_add, (struct store * st, const struct store_connection *c), (st, c))       \
	X(connection_get,                                                                       \
	    (struct store * st, const char *name, struct store_connection *out),                \
	    (st, name, out))                                                                    \
	X(connection_list, (struct store * st, store_connection_fn fn, void *arg),              \
	    (st, fn, arg))                                                                      \
	X(connection_remove, (struct store * st, const char *name), (st, name))                 \
	X(connection_set_key,                                                                   \
	    (struct store * st, int64_t id, const unsigned char *wrapped, size_t len),          \
	    (st, id, wrapped, len))                                                             \
	X(user_connection_get,                                                                  \
	    (struct store * st, const char *connection, int64_t user_id,                        \
		struct store_user_connection *out),                                             \
	    (st, connection, user_id, out))                                                     \
	X(user_connection_put, (struct store * st, const struct store_user_connection *uc),     \
	    (st, uc))                                                                           \
	X(user_connection_lease,                                                                \
	    (struct store * st, const char *connection, int64_t user_id, int64_t generation,    \
		int64_t now, int64_t until),                                                    \
	    (st, connection, user_id, generation, now, until))                                  \
	X(user_connection_fail,                                                                 \
	    (struct store * st, const char *connection, int64_t user_id, int64_t generation),   \
	    (st, connection, user_id, generation))                                              \
	X(user_connection_remove, (struct store * st, const char *connection, int64_t user_id), \
	    (st, connection, user_id))                                                          \
	X(user_connection_list_user,                                                            \
	    (struct store * st, int64_t user_id, store_user_connection_fn fn, void *arg),       \
	    (st, user_id, fn, arg))                                                             \
	X(user_connection_each, (struct store * st, store_user_connection_fn fn, void *arg),    \
	    (st, fn, arg))                                                                      \
	X(user_connection_set_key,                                                              \
	    (struct store * st, const char *connection, int64_t user_id, int64_t generation,    \
		const unsigned char *wrapped, size_t len),                                      \
	    (st, connection, user_id, generation, wrapped, len))                                \
	X(connect_state_add,                                                                    \
	    (struct store * st, const unsigned char *state_hash,                                \
		const struct store_connect_state *s),                                           \
	    (st, state_hash, s))                                                                \
	X(connect_state_take,                                                                   \
	    (struct store * st, const unsigned char *state_hash,                                \
		struct store_connect_state *out),                                               \
	    (st, state_hash, out))                                                              \
	X(key_add, (struct store * st, const struct store_key *k, int64_t *id), (st, k, id))    \
	X(key_list, (struct store * st, store_key_fn fn, void *arg), (st, fn, arg))             \
	X(key_set_state,                                                                        \
	    (struct store * st, int64_t id, const char *state, int64_t activated_at,            \
		int64_t retired_at, int64_t delete_after),                                      \
	    (st, id, state, activated_at, retired_at, delete_after))                            \
	X(key_set_private,                                                                      \
	    (struct store * st, int64_t id, const unsigned char *blob, size_t len),             \
	    (st, id, blob, len))                                                                \
	X(key_delete, (struct store * st, int64_t id), (st, id))                                \
	X(key_delete_expired, (struct store * st, int64_t now, int *deleted), (st, now, deleted)) \
	X(keys_version, (struct store * st, int64_t *version), (st, version))                   \
	X(keys_version_bump, (struct store * st), (st))                                         \
	X(lock, (struct store * st, enum store_lock what), (st, what))                          \
	X(login_failure_add,                                                                    \
	    (struct store * st, const char *subject, int64_t now_ms, int64_t forget_before_ms,  \
		int64_t *failures),                                                             \
	    (st, subject, now_ms, forget_before_ms, failures))                                  \
	X(login_block, (struct store * st, const char *subject, int64_t until_ms),              \
	    (st, subject, until_ms))                                                            \
	X(login_blocked_until, (struct store * st, const char *subject, int64_t *until_ms),     \
	    (st, subject, until_ms))                                                            \
	X(login_failures_clear, (struct store * st, const char *subject), (st, subject))        \
	X(rate_take,                                                                            \
	    (struct store * st, const char *key, int64_t window_start, int64_t *count),         \
	    (st, key, window_start, count))                                                     \
	X(audit_add, (struct store * st, const struct store_audit *a), (st, a))                 \
	X(audit_tail, (struct store * st, int n, store_audit_fn fn, void *arg),                 \
	    (st, n, fn, arg))                                                                   \
	X(audit_purge, (struct store * st, int64_t older_than, int *deleted),                   \
	    (st, older_than, deleted))                                                          \
	X(purge,                                                                                \
	    (struct store * st, int64_t now, int64_t audit_before,                              \
		struct store_purge_counts *out),                                                \
	    (st, now, audit_before, out))


/* Operations that change what the registry cache holds: the public wrapper forwards,
 * then brings this process's cache up to date (at once, or at the commit of the
 * transaction in progress). */
#define STORE_REGISTRY_WRITE_OPS(X)                                                              \
	X(resource_add, (struct store * st, const struct store_resource *r, int64_t *id),         \
	    (st, r, id))                                                                         \
	X(resource_remove, (struct store * st, const char *uri_key), (st, uri_key))               \
	X(edge_put,                                                                              \
	    (struct store * st, int64_t from_id, int64_t to_id, const char *scopes, int64_t now), \
	    (st, from_id, to_id, scopes, now))                                                   \
	X(client_add, (struct store * st, const struct store_client *c, int64_t *id), (st, c, id)) \
	X(client_remove, (struct store * st, const char *client_id), (st, client_id))             \
	X(client_set_secret,                                                                     \
	    (struct store * st, const char *client_id, const char *secret_hash, int64_t now),     \
	    (st, client_id, secret_hash, now))                                                   \
	X(client_put_cimd, (struct store * st, const struct store_client *c), (st, c))            \
	X(client_resource_add, (struct store * st, int64_t client, int64_t resource),             \
	    (st, client, resource))                                                              \
	X(family_revoke,                                                                         \
	    (struct store * st, const char *family_id, int64_t now, const char *reason),          \
	    (st, family_id, now, reason))                                                        \
	X(jti_revoke, (struct store * st, const char *jti, int64_t expires_at, int64_t now),      \
	    (st, jti, expires_at, now))

/* Reads the registry cache answers when one is attached; their public wrappers live in
 * store/cache_reads.c and fall back to the backend. */
#define STORE_CACHED_OPS(X)                                                                      \
	X(resource_get_by_key,                                                                   \
	    (struct store * st, const char *uri_key, struct store_resource *out),                 \
	    (st, uri_key, out))                                                                  \
	X(resource_get, (struct store * st, int64_t id, struct store_resource *out), (st, id, out)) \
	X(resource_for_client,                                                                   \
	    (struct store * st, const char *uri_key, int64_t client, struct store_resource *out, \
		int *allowed),                                                                   \
	    (st, uri_key, client, out, allowed))                                                 \
	X(edge_get,                                                                              \
	    (struct store * st, int64_t from_id, int64_t to_id, char **scopes),                   \
	    (st, from_id, to_id, scopes))                                                        \
	X(client_get, (struct store * st, const char *client_id, struct store_client *out),       \
	    (st, client_id, out))                                                                \
	X(client_get_lite, (struct store * st, const char *client_id, struct store_client *out),  \
	    (st, client_id, out))                                                                \
	X(client_resource_allowed, (struct store * st, int64_t client, int64_t resource),         \
	    (st, client, resource))                                                              \
	X(jti_revoked, (struct store * st, const char *jti), (st, jti))

/* What only store/ itself calls: the cache and the copy between databases. */
struct store_change {
	int64_t seq;
	const char *kind;        /* "client", "registry" or "jti" */
	const char *key;         /* client_id or jti; NULL for "registry" */
	int64_t expires_at;      /* jti: when the revoked token would have expired */
};
typedef int (*store_change_fn)(const struct store_change *c, void *arg);
typedef int (*store_pair_fn)(int64_t a, int64_t b, const char *text, void *arg);
typedef int (*store_jti_fn)(const char *jti, int64_t expires_at, void *arg);

#define STORE_INTERNAL_OPS(X)                                                                    \
	X(changes_since, (struct store * st, int64_t after, store_change_fn fn, void *arg),       \
	    (st, after, fn, arg))                                                                \
	X(changes_last, (struct store * st, int64_t *seq, int64_t *oldest), (st, seq, oldest))    \
	X(edge_each, (struct store * st, store_pair_fn fn, void *arg), (st, fn, arg))             \
	X(client_resource_each, (struct store * st, store_pair_fn fn, void *arg), (st, fn, arg))  \
	X(jti_each_live, (struct store * st, int64_t now, store_jti_fn fn, void *arg),            \
	    (st, now, fn, arg))                                                                  \
	X(wait_change, (struct store * st, int timeout_ms), (st, timeout_ms))                      \
	X(copy_rows, (struct store * st, const char *select_sql, store_copy_row_fn fn, void *arg), \
	    (st, select_sql, fn, arg))                                                           \
	X(paste_row, (struct store * st, const char *insert_sql, const struct store_copy_row *row), \
	    (st, insert_sql, row))                                                               \
	X(paste_done, (struct store * st), (st))                                                 \
	X(count_rows, (struct store * st, const char *count_sql, int64_t *n), (st, count_sql, n))

#define STORE_ALL_OPS(X)                                                                         \
	STORE_PLAIN_OPS(X)                                                                       \
	STORE_REGISTRY_WRITE_OPS(X)                                                              \
	STORE_CACHED_OPS(X)                                                                      \
	STORE_INTERNAL_OPS(X)

struct store_backend {
	const char *name;
	void (*close)(struct store *st);
	int (*begin)(struct store *st);
	int (*commit)(struct store *st);
	void (*rollback)(struct store *st);
	const char *(*errmsg)(struct store *st);
#define STORE_OP_SLOT(name, params, args) int(*name) params;
	STORE_ALL_OPS(STORE_OP_SLOT)
#undef STORE_OP_SLOT
};

/* The head of every backend's connection (its first member). */
struct store {
	const struct store_backend *be;
	struct store_cache *cache; /* NULL: every read goes to the database */
	int in_tx;                 /* between store_begin and its commit or rollback */
	int registry_dirty;        /* this transaction changed what the cache holds */
};

/* The backends and their constructors. */
extern const struct store_backend store_sqlite_backend;
extern const struct store_backend store_postgresql_backend;
int sqlite_open(const char *path, const struct store_options *opt, struct store **out);
char *sqlite_memory_path_new(void);
int pgsql_open(const char *url, const struct store_options *opt, struct store **out);

/* Replace every appearance of location's password (as written, and percent-decoded) in
 * text (a NUL-terminated buffer of size cap) by "****": libpq's error messages may quote
 * the URI. */
void store_scrub_password(const char *location, char *text, size_t cap);

/* The number a migration file's name starts with ("007_vault.sql": 7), -1 when it has
 * none: both backends apply their embedded files in this order. */
int store_migration_number(const char *name);

/* Record why an open failed (store_open_error). */
void store_set_open_error(const char *why);

/* Bring this process's cache up to date after a change made through st (store.c). */
void store_registry_touched(struct store *st);

#endif
