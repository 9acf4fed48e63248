/* Per-user OAuth connections to third parties: the connections, each user's tokens at
 * them (written by generation, a compare-and-set), and the connects in progress. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "store/sqlite/db.h"

#define CONNECTION_COLS                                                                          \
	"id, name, authorize_url, token_url, revoke_url, client_id, wrapped_key, secret_enc, "   \
	"scopes, resource, allow_private, created_at"
#define USER_CONNECTION_COLS                                                                     \
	"connection, user_id, generation, wrapped_key, tokens_enc, fingerprint, scope, "         \
	"expires_at, refreshing_until, needs_reauth, created_at, updated_at"

/* remove runs in the caller's transaction when one is open, else in its own. */
static int
tx_begin(struct store *st, int *own)
{
	*own = !st->in_tx;
	return *own ? sqlite_begin(st) : STORE_OK;
}

static int
tx_end(struct store *st, int own, int rc)
{
	if (!own)
		return rc;
	if (rc != STORE_OK) {
		sqlite_rollback(st);
		return rc;
	}
	return sqlite_commit(st);
}

/* A blob column into a new buffer (one byte for an empty blob, so that NULL means none). */
static unsigned char *
blob_dup(sqlite3_stmt *s, int col, size_t *len, int *oom)
{
	const void *b = sqlite3_column_blob(s, col);
	int n = sqlite3_column_bytes(s, col);
	unsigned char *d;

	*len = 0;
	if (sqlite3_column_type(s, col) == SQLITE_NULL)
		return NULL;
	if ((d = malloc(n > 0 ? (size_t)n : 1)) == NULL) {
		*oom = 1;
		return NULL;
	}
	if (n > 0)
		memcpy(d, b, (size_t)n);
	*len = (size_t)n;
	return d;
}

/* Whether the row of (connection, user_id) exists: tells NOTFOUND from CONFLICT once a
 * compare-and-set touched nothing. */
static int
user_row_missing(struct store *st, const char *connection, int64_t user_id)
{
	static const char sql[] =
	    "SELECT 1 FROM user_connections WHERE connection = ? AND user_id = ?";
	sqlite3_stmt *s = db_stmt(st, sql);
	int rc;

	if (s != NULL) {
		sqlite3_bind_text(s, 1, connection, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, user_id);
	}
	rc = db_one(s, db_row_exists, NULL);
	return rc == STORE_OK ? STORE_CONFLICT : rc;
}

/* ---- connections ---- */

int
sqlite_connection_add(struct store *st, const struct store_connection *c)
{
	/* One statement, so one transaction: the name is free among connections and
	 * credentials (credential_add checks connections the same way), and the unique key
	 * catches a race between two connections. */
	static const char sql[] =
	    "INSERT INTO connections(name, authorize_url, token_url, revoke_url, client_id, "
	    "wrapped_key, secret_enc, scopes, resource, allow_private, created_at) "
	    "SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11 "
	    "WHERE NOT EXISTS (SELECT 1 FROM connections WHERE name = ?1) "
	    "AND NOT EXISTS (SELECT 1 FROM credentials WHERE name = ?1)";
	sqlite3_stmt *s = db_stmt(st, sql);
	int rc;

	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_text(s, 1, c->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, c->authorize_url, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, c->token_url, -1, SQLITE_STATIC);
	db_bind_text(s, 4, c->revoke_url);
	sqlite3_bind_text(s, 5, c->client_id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 6, c->wrapped_key, (int)c->wrapped_key_len, SQLITE_STATIC);
	sqlite3_bind_blob(s, 7, c->secret_enc, (int)c->secret_enc_len, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, c->scopes, -1, SQLITE_STATIC);
	db_bind_text(s, 9, c->resource);
	sqlite3_bind_int(s, 10, c->allow_private ? 1 : 0);
	sqlite3_bind_int64(s, 11, c->created_at);
	rc = db_exec_stmt(s);
	if (rc == STORE_OK && sqlite3_changes(db_handle(st)) == 0)
		rc = STORE_CONFLICT;
	return rc;
}

static int
connection_row(sqlite3_stmt *s, void *arg)
{
	struct store_connection *c = arg;
	int oom = 0;

	c->id = sqlite3_column_int64(s, 0);
	c->name = db_col_dup(s, 1, &oom);
	c->authorize_url = db_col_dup(s, 2, &oom);
	c->token_url = db_col_dup(s, 3, &oom);
	c->revoke_url = db_col_dup(s, 4, &oom);
	c->client_id = db_col_dup(s, 5, &oom);
	c->wrapped_key = blob_dup(s, 6, &c->wrapped_key_len, &oom);
	c->secret_enc = blob_dup(s, 7, &c->secret_enc_len, &oom);
	c->scopes = db_col_dup(s, 8, &oom);
	c->resource = db_col_dup(s, 9, &oom);
	c->allow_private = sqlite3_column_int(s, 10) != 0;
	c->created_at = sqlite3_column_int64(s, 11);
	if (oom) {
		store_connection_clear(c);
		return STORE_ERROR;
	}
	return STORE_OK;
}

int
sqlite_connection_get(struct store *st, const char *name, struct store_connection *out)
{
	static const char sql[] = "SELECT " CONNECTION_COLS " FROM connections WHERE name = ?";
	sqlite3_stmt *s = db_stmt(st, sql);

	memset(out, 0, sizeof(*out));
	if (s != NULL)
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	return db_one(s, connection_row, out);
}

struct connection_visit {
	store_connection_fn fn;
	void *arg;
};

static int
connection_visit_row(sqlite3_stmt *s, void *arg)
{
	struct connection_visit *v = arg;
	struct store_connection c;
	int rc;

	memset(&c, 0, sizeof(c));
	if (connection_row(s, &c) != STORE_OK)
		return STORE_ERROR;
	rc = v->fn(&c, v->arg);
	store_connection_clear(&c);
	return rc;
}

int
sqlite_connection_list(struct store *st, store_connection_fn fn, void *arg)
{
	static const char sql[] = "SELECT " CONNECTION_COLS " FROM connections ORDER BY name";
	struct connection_visit v = {fn, arg};

	return db_each(db_stmt(st, sql), connection_visit_row, &v);
}

/* Run a DELETE of rows named name, adding the rows it deleted to *n. */
static int
delete_named(struct store *st, const char *sql, const char *name, int *n)
{
	sqlite3_stmt *s = db_stmt(st, sql);
	int rc;

	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if ((rc = db_exec_stmt(s)) == STORE_OK)
		*n += sqlite3_changes(db_handle(st));
	return rc;
}

static int
remove_within(struct store *st, const char *name)
{
	static const char connection[] = "DELETE FROM connections WHERE name = ?";
	static const char users[] = "DELETE FROM user_connections WHERE connection = ?";
	static const char states[] = "DELETE FROM connect_states WHERE connection = ?";
	/* Policy rows are named, and the name may be a credential's: those stay. */
	static const char policy[] =
	    "DELETE FROM resource_credentials WHERE name = ?1 "
	    "AND NOT EXISTS (SELECT 1 FROM credentials WHERE name = ?1)";
	int rc, n = 0;

	if ((rc = delete_named(st, connection, name, &n)) != STORE_OK ||
	    (rc = delete_named(st, users, name, &n)) != STORE_OK ||
	    (rc = delete_named(st, states, name, &n)) != STORE_OK ||
	    (rc = delete_named(st, policy, name, &n)) != STORE_OK)
		return rc;
	return n == 0 ? STORE_NOTFOUND : STORE_OK;
}

int
sqlite_connection_remove(struct store *st, const char *name)
{
	int rc, own;

	if ((rc = tx_begin(st, &own)) != STORE_OK)
		return rc;
	return tx_end(st, own, remove_within(st, name));
}

int
sqlite_connection_set_key(struct store *st, int64_t id, const unsigned char *wrapped, size_t len)
{
	static const char sql[] = "UPDATE connections SET wrapped_key = ? WHERE id = ?";
	sqlite3_stmt *s = db_stmt(st, sql);
	int rc;

	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_blob(s, 1, wrapped, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, id);
	rc = db_exec_stmt(s);
	if (rc == STORE_OK && sqlite3_changes(db_handle(st)) == 0)
		rc = STORE_NOTFOUND;
	return rc;
}

/* ---- a user's tokens ---- */

static int
user_connection_row(sqlite3_stmt *s, void *arg)
{
	struct store_user_connection *uc = arg;
	int oom = 0;

	uc->connection = db_col_dup(s, 0, &oom);
	uc->user_id = sqlite3_column_int64(s, 1);
	uc->generation = sqlite3_column_int64(s, 2);
	uc->wrapped_key = blob_dup(s, 3, &uc->wrapped_key_len, &oom);
	uc->tokens_enc = blob_dup(s, 4, &uc->tokens_enc_len, &oom);
	uc->fingerprint = db_col_dup(s, 5, &oom);
	uc->scope = db_col_dup(s, 6, &oom);
	uc->expires_at = sqlite3_column_int64(s, 7);
	uc->refreshing_until = sqlite3_column_int64(s, 8);
	uc->needs_reauth = sqlite3_column_int(s, 9) != 0;
	uc->created_at = sqlite3_column_int64(s, 10);
	uc->updated_at = sqlite3_column_int64(s, 11);
	if (oom) {
		store_user_connection_clear(uc);
		return STORE_ERROR;
	}
	return STORE_OK;
}

int
sqlite_user_connection_get(struct store *st, const char *connection, int64_t user_id,
    struct store_user_connection *out)
{
	static const char sql[] = "SELECT " USER_CONNECTION_COLS " FROM user_connections "
				  "WHERE connection = ? AND user_id = ?";
	sqlite3_stmt *s = db_stmt(st, sql);

	memset(out, 0, sizeof(*out));
	if (s != NULL) {
		sqlite3_bind_text(s, 1, connection, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, user_id);
	}
	return db_one(s, user_connection_row, out);
}

int
sqlite_user_connection_put(struct store *st, const struct store_user_connection *uc)
{
	/* Generation 1 is a new row; a row already there is another connect's (CONFLICT),
	 * and so is a connection removed meanwhile: no tokens are left behind for a name
	 * that may come back. */
	static const char insert[] =
	    "INSERT INTO user_connections(connection, user_id, generation, wrapped_key, "
	    "tokens_enc, fingerprint, scope, expires_at, refreshing_until, needs_reauth, "
	    "created_at, updated_at) SELECT ?1, ?2, 1, ?4, ?5, ?6, ?7, ?8, 0, 0, ?9, ?10 "
	    "WHERE EXISTS (SELECT 1 FROM connections WHERE name = ?1) "
	    "ON CONFLICT(connection, user_id) DO NOTHING";
	/* Any other replaces the generation before it, and only that one: one statement, so
	 * that of two nodes writing the same next generation one wins. */
	static const char update[] =
	    "UPDATE user_connections SET generation = ?3, wrapped_key = ?4, tokens_enc = ?5, "
	    "fingerprint = ?6, scope = ?7, expires_at = ?8, refreshing_until = 0, "
	    "needs_reauth = 0, updated_at = ?10 "
	    "WHERE connection = ?1 AND user_id = ?2 AND generation = ?11";
	sqlite3_stmt *s = db_stmt(st, uc->generation == 1 ? insert : update);
	int rc;

	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_text(s, 1, uc->connection, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, uc->user_id);
	if (uc->generation != 1) {
		sqlite3_bind_int64(s, 3, uc->generation);
		sqlite3_bind_int64(s, 11, uc->generation - 1);
	}
	sqlite3_bind_blob(s, 4, uc->wrapped_key, (int)uc->wrapped_key_len, SQLITE_STATIC);
	sqlite3_bind_blob(s, 5, uc->tokens_enc, (int)uc->tokens_enc_len, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, uc->fingerprint, -1, SQLITE_STATIC);
	db_bind_text(s, 7, uc->scope);
	sqlite3_bind_int64(s, 8, uc->expires_at);
	if (uc->generation == 1)
		sqlite3_bind_int64(s, 9, uc->created_at);
	sqlite3_bind_int64(s, 10, uc->updated_at);
	rc = db_exec_stmt(s);
	if (rc == STORE_OK && sqlite3_changes(db_handle(st)) == 0)
		rc = STORE_CONFLICT;
	return rc;
}

int
sqlite_user_connection_lease(struct store *st, const char *connection, int64_t user_id,
    int64_t generation, int64_t now, int64_t until)
{
	/* One statement: of the processes that find the token expired, one moves the lease. */
	static const char sql[] =
	    "UPDATE user_connections SET refreshing_until = ? WHERE connection = ? "
	    "AND user_id = ? AND generation = ? AND refreshing_until <= ?";
	sqlite3_stmt *s = db_stmt(st, sql);
	int rc;

	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(s, 1, until);
	sqlite3_bind_text(s, 2, connection, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, user_id);
	sqlite3_bind_int64(s, 4, generation);
	sqlite3_bind_int64(s, 5, now);
	rc = db_exec_stmt(s);
	if (rc == STORE_OK && sqlite3_changes(db_handle(st)) == 0)
		rc = user_row_missing(st, connection, user_id);
	return rc;
}

int
sqlite_user_connection_fail(struct store *st, const char *connection, int64_t user_id,
    int64_t generation)
{
	static const char sql[] =
	    "UPDATE user_connections SET needs_reauth = 1, refreshing_until = 0 "
	    "WHERE connection = ? AND user_id = ? AND generation = ?";
	sqlite3_stmt *s = db_stmt(st, sql);
	int rc;

	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_text(s, 1, connection, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, user_id);
	sqlite3_bind_int64(s, 3, generation);
	rc = db_exec_stmt(s);
	if (rc == STORE_OK && sqlite3_changes(db_handle(st)) == 0)
		rc = user_row_missing(st, connection, user_id);
	return rc;
}

int
sqlite_user_connection_remove(struct store *st, const char *connection, int64_t user_id)
{
	static const char sql[] =
	    "DELETE FROM user_connections WHERE connection = ? AND user_id = ?";
	sqlite3_stmt *s = db_stmt(st, sql);
	int rc;

	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_text(s, 1, connection, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, user_id);
	rc = db_exec_stmt(s);
	if (rc == STORE_OK && sqlite3_changes(db_handle(st)) == 0)
		rc = STORE_NOTFOUND;
	return rc;
}

struct user_connection_visit {
	store_user_connection_fn fn;
	void *arg;
};

static int
user_connection_visit_row(sqlite3_stmt *s, void *arg)
{
	struct user_connection_visit *v = arg;
	struct store_user_connection uc;
	int rc;

	memset(&uc, 0, sizeof(uc));
	if (user_connection_row(s, &uc) != STORE_OK)
		return STORE_ERROR;
	rc = v->fn(&uc, v->arg);
	store_user_connection_clear(&uc);
	return rc;
}

int
sqlite_user_connection_list_user(struct store *st, int64_t user_id,
    store_user_connection_fn fn, void *arg)
{
	static const char sql[] = "SELECT " USER_CONNECTION_COLS " FROM user_connections "
				  "WHERE user_id = ? ORDER BY connection";
	sqlite3_stmt *s = db_stmt(st, sql);
	struct user_connection_visit v = {fn, arg};

	if (s != NULL)
		sqlite3_bind_int64(s, 1, user_id);
	return db_each(s, user_connection_visit_row, &v);
}

int
sqlite_user_connection_each(struct store *st, store_user_connection_fn fn, void *arg)
{
	static const char sql[] = "SELECT " USER_CONNECTION_COLS " FROM user_connections "
				  "ORDER BY connection, user_id";
	struct user_connection_visit v = {fn, arg};

	return db_each(db_stmt(st, sql), user_connection_visit_row, &v);
}

int
sqlite_user_connection_set_key(struct store *st, const char *connection, int64_t user_id,
    int64_t generation, const unsigned char *wrapped, size_t len)
{
	static const char sql[] =
	    "UPDATE user_connections SET wrapped_key = ? "
	    "WHERE connection = ? AND user_id = ? AND generation = ?";
	sqlite3_stmt *s = db_stmt(st, sql);
	int rc;

	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_blob(s, 1, wrapped, (int)len, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, connection, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, user_id);
	sqlite3_bind_int64(s, 4, generation);
	rc = db_exec_stmt(s);
	if (rc == STORE_OK && sqlite3_changes(db_handle(st)) == 0)
		rc = STORE_NOTFOUND;
	return rc;
}

/* ---- connects in progress ---- */

int
sqlite_connect_state_add(struct store *st, const unsigned char *state_hash,
    const struct store_connect_state *cs)
{
	static const char sql[] =
	    "INSERT INTO connect_states(state_hash, connection, user_id, session_hash, "
	    "code_verifier, created_at, expires_at) VALUES (?,?,?,?,?,?,?) "
	    "ON CONFLICT(state_hash) DO NOTHING";
	sqlite3_stmt *s = db_stmt(st, sql);
	int rc;

	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_blob(s, 1, state_hash, STORE_UPSTREAM_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, cs->connection, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, cs->user_id);
	sqlite3_bind_blob(s, 4, cs->session_hash, STORE_UPSTREAM_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, cs->code_verifier, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, cs->created_at);
	sqlite3_bind_int64(s, 7, cs->expires_at);
	rc = db_exec_stmt(s);
	if (rc == STORE_OK && sqlite3_changes(db_handle(st)) == 0)
		rc = STORE_CONFLICT;
	return rc;
}

static int
connect_state_row(sqlite3_stmt *s, void *arg)
{
	struct store_connect_state *cs = arg;
	const void *b = sqlite3_column_blob(s, 2);
	int oom = 0;

	cs->connection = db_col_dup(s, 0, &oom);
	cs->user_id = sqlite3_column_int64(s, 1);
	if (b != NULL && sqlite3_column_bytes(s, 2) == STORE_UPSTREAM_HASH_LEN)
		memcpy(cs->session_hash, b, STORE_UPSTREAM_HASH_LEN);
	cs->code_verifier = db_col_dup(s, 3, &oom);
	cs->created_at = sqlite3_column_int64(s, 4);
	cs->expires_at = sqlite3_column_int64(s, 5);
	if (oom) {
		store_connect_state_clear(cs);
		return STORE_ERROR;
	}
	return STORE_OK;
}

int
sqlite_connect_state_take(struct store *st, const unsigned char *state_hash,
    struct store_connect_state *out)
{
	/* Deleted by the statement that reads it: a state is used once, whichever process the
	 * browser comes back to. */
	static const char sql[] =
	    "DELETE FROM connect_states WHERE state_hash = ? RETURNING connection, user_id, "
	    "session_hash, code_verifier, created_at, expires_at";
	sqlite3_stmt *s = db_stmt(st, sql);

	memset(out, 0, sizeof(*out));
	if (s != NULL)
		sqlite3_bind_blob(s, 1, state_hash, STORE_UPSTREAM_HASH_LEN, SQLITE_STATIC);
	return db_one(s, connect_state_row, out);
}
