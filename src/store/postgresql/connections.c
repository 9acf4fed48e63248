/* Per-user OAuth connections to third parties: the connections, each user's tokens at
 * them (written by generation, a compare-and-set), and the connects in progress. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "store/postgresql/db.h"

#define CONNECTION_COLS                                                                          \
	"id, name, authorize_url, token_url, revoke_url, client_id, wrapped_key, secret_enc, "   \
	"scopes, resource, allow_private, created_at"
#define USER_CONNECTION_COLS                                                                     \
	"connection, user_id, generation, wrapped_key, tokens_enc, fingerprint, scope, "         \
	"expires_at, refreshing_until, needs_reauth, created_at, updated_at"

/* The class of vault.c's advisory locks on a credential's name: a connection's name is in
 * the same namespace, so adds and removals of either take the same lock. */
#define LOCK_CREDENTIAL 0x6d637076

/* add and remove run in the caller's transaction when one is open, else in their own. */
static int
tx_begin(struct store *st, int *own)
{
	*own = !st->in_tx;
	return *own ? pgsql_begin(st) : STORE_OK;
}

static int
tx_end(struct store *st, int own, int rc)
{
	if (!own)
		return rc;
	if (rc != STORE_OK) {
		pgsql_rollback(st);
		return rc;
	}
	return pgsql_commit(st);
}

/* Until the transaction ends, every other add or removal of name waits; its next
 * statement then sees what this one committed (READ COMMITTED). */
static int
lock_name(struct store *st, const char *name)
{
	static const char sql[] = "SELECT pg_advisory_xact_lock($1, hashtext($2))";
	struct pgdb_params p = {0};

	pgdb_int(&p, LOCK_CREDENTIAL);
	pgdb_text(&p, name);
	return pgdb_exec(st, sql, &p, NULL);
}

/* Whether the row of (connection, user_id) exists: tells NOTFOUND from CONFLICT once a
 * compare-and-set touched nothing. */
static int
user_row_missing(struct store *st, const char *connection, int64_t user_id)
{
	static const char sql[] =
	    "SELECT 1 FROM user_connections WHERE connection = $1 AND user_id = $2";
	struct pgdb_params p = {0};
	int rc;

	pgdb_text(&p, connection);
	pgdb_int(&p, user_id);
	rc = pgdb_one(st, sql, &p, pgdb_row_exists, NULL);
	return rc == STORE_OK ? STORE_CONFLICT : rc;
}

/* ---- connections ---- */

static int
add_within(struct store *st, const struct store_connection *c)
{
	/* The name is free among connections and credentials (credential_add checks
	 * connections the same way, under the same lock). */
	static const char sql[] =
	    "INSERT INTO connections(name, authorize_url, token_url, revoke_url, client_id, "
	    "wrapped_key, secret_enc, scopes, resource, allow_private, created_at) "
	    "SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 "
	    "WHERE NOT EXISTS (SELECT 1 FROM connections WHERE name = $1) "
	    "AND NOT EXISTS (SELECT 1 FROM credentials WHERE name = $1)";
	struct pgdb_params p = {0};
	int64_t n = 0;
	int rc;

	if ((rc = lock_name(st, c->name)) != STORE_OK)
		return rc;
	pgdb_text(&p, c->name);
	pgdb_text(&p, c->authorize_url);
	pgdb_text(&p, c->token_url);
	pgdb_text(&p, c->revoke_url);
	pgdb_text(&p, c->client_id);
	pgdb_blob(&p, c->wrapped_key, c->wrapped_key_len);
	pgdb_blob(&p, c->secret_enc, c->secret_enc_len);
	pgdb_text(&p, c->scopes);
	pgdb_text(&p, c->resource);
	pgdb_int(&p, c->allow_private ? 1 : 0);
	pgdb_int(&p, c->created_at);
	if ((rc = pgdb_exec_count(st, sql, &p, &n)) != STORE_OK)
		return rc;
	return n == 0 ? STORE_CONFLICT : STORE_OK;
}

int
pgsql_connection_add(struct store *st, const struct store_connection *c)
{
	int rc, own;

	if ((rc = tx_begin(st, &own)) != STORE_OK)
		return rc;
	return tx_end(st, own, add_within(st, c));
}

static int
connection_row(PGresult *res, int row, void *arg)
{
	struct store_connection *c = arg;
	int oom = 0;

	c->id = pgdb_col_int(res, row, 0);
	c->name = pgdb_col_dup(res, row, 1, &oom);
	c->authorize_url = pgdb_col_dup(res, row, 2, &oom);
	c->token_url = pgdb_col_dup(res, row, 3, &oom);
	c->revoke_url = pgdb_col_dup(res, row, 4, &oom);
	c->client_id = pgdb_col_dup(res, row, 5, &oom);
	c->wrapped_key = pgdb_col_blob(res, row, 6, &c->wrapped_key_len, &oom);
	c->secret_enc = pgdb_col_blob(res, row, 7, &c->secret_enc_len, &oom);
	c->scopes = pgdb_col_dup(res, row, 8, &oom);
	c->resource = pgdb_col_dup(res, row, 9, &oom);
	c->allow_private = pgdb_col_int(res, row, 10) != 0;
	c->created_at = pgdb_col_int(res, row, 11);
	if (oom) {
		store_connection_clear(c);
		return STORE_ERROR;
	}
	return STORE_OK;
}

int
pgsql_connection_get(struct store *st, const char *name, struct store_connection *out)
{
	static const char sql[] = "SELECT " CONNECTION_COLS " FROM connections WHERE name = $1";
	struct pgdb_params p = {0};

	memset(out, 0, sizeof(*out));
	pgdb_text(&p, name);
	return pgdb_one(st, sql, &p, connection_row, out);
}

struct connection_visit {
	store_connection_fn fn;
	void *arg;
};

static int
connection_visit_row(PGresult *res, int row, void *arg)
{
	struct connection_visit *v = arg;
	struct store_connection c;
	int rc;

	memset(&c, 0, sizeof(c));
	if (connection_row(res, row, &c) != STORE_OK)
		return STORE_ERROR;
	rc = v->fn(&c, v->arg);
	store_connection_clear(&c);
	return rc;
}

int
pgsql_connection_list(struct store *st, store_connection_fn fn, void *arg)
{
	static const char sql[] = "SELECT " CONNECTION_COLS " FROM connections ORDER BY name";
	struct connection_visit v = {fn, arg};

	return pgdb_each(st, sql, NULL, connection_visit_row, &v);
}

static int
remove_within(struct store *st, const char *name)
{
	static const char connection[] = "DELETE FROM connections WHERE name = $1";
	static const char users[] = "DELETE FROM user_connections WHERE connection = $1";
	static const char states[] = "DELETE FROM connect_states WHERE connection = $1";
	/* Policy rows are named, and the name may be a credential's: those stay. */
	static const char policy[] =
	    "DELETE FROM resource_credentials WHERE name = $1 "
	    "AND NOT EXISTS (SELECT 1 FROM credentials WHERE name = $1)";
	struct pgdb_params p = {0};
	int64_t n1 = 0, n2 = 0, n3 = 0, n4 = 0;
	int rc;

	if ((rc = lock_name(st, name)) != STORE_OK)
		return rc;
	pgdb_text(&p, name);
	if ((rc = pgdb_exec_count(st, connection, &p, &n1)) != STORE_OK ||
	    (rc = pgdb_exec_count(st, users, &p, &n2)) != STORE_OK ||
	    (rc = pgdb_exec_count(st, states, &p, &n3)) != STORE_OK ||
	    (rc = pgdb_exec_count(st, policy, &p, &n4)) != STORE_OK)
		return rc;
	return n1 + n2 + n3 + n4 == 0 ? STORE_NOTFOUND : STORE_OK;
}

int
pgsql_connection_remove(struct store *st, const char *name)
{
	int rc, own;

	if ((rc = tx_begin(st, &own)) != STORE_OK)
		return rc;
	return tx_end(st, own, remove_within(st, name));
}

int
pgsql_connection_set_key(struct store *st, int64_t id, const unsigned char *wrapped, size_t len)
{
	static const char sql[] = "UPDATE connections SET wrapped_key = $1 WHERE id = $2";
	struct pgdb_params p = {0};

	pgdb_blob(&p, wrapped, len);
	pgdb_int(&p, id);
	return pgdb_exec_found(st, sql, &p);
}

/* ---- a user's tokens ---- */

static int
user_connection_row(PGresult *res, int row, void *arg)
{
	struct store_user_connection *uc = arg;
	int oom = 0;

	uc->connection = pgdb_col_dup(res, row, 0, &oom);
	uc->user_id = pgdb_col_int(res, row, 1);
	uc->generation = pgdb_col_int(res, row, 2);
	uc->wrapped_key = pgdb_col_blob(res, row, 3, &uc->wrapped_key_len, &oom);
	uc->tokens_enc = pgdb_col_blob(res, row, 4, &uc->tokens_enc_len, &oom);
	uc->fingerprint = pgdb_col_dup(res, row, 5, &oom);
	uc->scope = pgdb_col_dup(res, row, 6, &oom);
	uc->expires_at = pgdb_col_int(res, row, 7);
	uc->refreshing_until = pgdb_col_int(res, row, 8);
	uc->needs_reauth = pgdb_col_int(res, row, 9) != 0;
	uc->created_at = pgdb_col_int(res, row, 10);
	uc->updated_at = pgdb_col_int(res, row, 11);
	if (oom) {
		store_user_connection_clear(uc);
		return STORE_ERROR;
	}
	return STORE_OK;
}

int
pgsql_user_connection_get(struct store *st, const char *connection, int64_t user_id,
    struct store_user_connection *out)
{
	static const char sql[] = "SELECT " USER_CONNECTION_COLS " FROM user_connections "
				  "WHERE connection = $1 AND user_id = $2";
	struct pgdb_params p = {0};

	memset(out, 0, sizeof(*out));
	pgdb_text(&p, connection);
	pgdb_int(&p, user_id);
	return pgdb_one(st, sql, &p, user_connection_row, out);
}

int
pgsql_user_connection_put(struct store *st, const struct store_user_connection *uc)
{
	/* Generation 1 is a new row; a row already there is another connect's (CONFLICT,
	 * without the error that would end the caller's transaction), and so is a connection
	 * removed meanwhile: no tokens are left behind for a name that may come back. */
	static const char insert[] =
	    "INSERT INTO user_connections(connection, user_id, generation, wrapped_key, "
	    "tokens_enc, fingerprint, scope, expires_at, refreshing_until, needs_reauth, "
	    "created_at, updated_at) SELECT $1::text, $2::bigint, 1, $3::bytea, $4::bytea, "
	    "$5::text, $6::text, $7::bigint, 0, 0, $8::bigint, $9::bigint "
	    "WHERE EXISTS (SELECT 1 FROM connections WHERE name = $1::text) "
	    "ON CONFLICT(connection, user_id) DO NOTHING";
	/* Any other replaces the generation before it, and only that one: of two nodes
	 * writing the same next generation, the second waits for the first's row lock, then
	 * finds the row moved on and updates nothing. */
	static const char update[] =
	    "UPDATE user_connections SET generation = $9, wrapped_key = $3, tokens_enc = $4, "
	    "fingerprint = $5, scope = $6, expires_at = $7, refreshing_until = 0, "
	    "needs_reauth = 0, updated_at = $8 "
	    "WHERE connection = $1 AND user_id = $2 AND generation = $10";
	struct pgdb_params p = {0};
	int64_t n = 0;
	int rc;

	pgdb_text(&p, uc->connection);
	pgdb_int(&p, uc->user_id);
	pgdb_blob(&p, uc->wrapped_key, uc->wrapped_key_len);
	pgdb_blob(&p, uc->tokens_enc, uc->tokens_enc_len);
	pgdb_text(&p, uc->fingerprint);
	pgdb_text(&p, uc->scope);
	pgdb_int(&p, uc->expires_at);
	if (uc->generation == 1) {
		pgdb_int(&p, uc->created_at);
		pgdb_int(&p, uc->updated_at);
	} else {
		pgdb_int(&p, uc->updated_at);
		pgdb_int(&p, uc->generation);
		pgdb_int(&p, uc->generation - 1);
	}
	if ((rc = pgdb_exec_count(st, uc->generation == 1 ? insert : update, &p, &n)) != STORE_OK)
		return rc;
	return n == 0 ? STORE_CONFLICT : STORE_OK;
}

int
pgsql_user_connection_lease(struct store *st, const char *connection, int64_t user_id,
    int64_t generation, int64_t now, int64_t until)
{
	/* One statement: of the nodes that find the token expired, the first moves the lease;
	 * the others wait for its row lock, then find the lease running. */
	static const char sql[] =
	    "UPDATE user_connections SET refreshing_until = $1 WHERE connection = $2 "
	    "AND user_id = $3 AND generation = $4 AND refreshing_until <= $5";
	struct pgdb_params p = {0};
	int64_t n = 0;
	int rc;

	pgdb_int(&p, until);
	pgdb_text(&p, connection);
	pgdb_int(&p, user_id);
	pgdb_int(&p, generation);
	pgdb_int(&p, now);
	if ((rc = pgdb_exec_count(st, sql, &p, &n)) != STORE_OK)
		return rc;
	return n == 0 ? user_row_missing(st, connection, user_id) : STORE_OK;
}

int
pgsql_user_connection_fail(struct store *st, const char *connection, int64_t user_id,
    int64_t generation)
{
	static const char sql[] =
	    "UPDATE user_connections SET needs_reauth = 1, refreshing_until = 0 "
	    "WHERE connection = $1 AND user_id = $2 AND generation = $3";
	struct pgdb_params p = {0};
	int64_t n = 0;
	int rc;

	pgdb_text(&p, connection);
	pgdb_int(&p, user_id);
	pgdb_int(&p, generation);
	if ((rc = pgdb_exec_count(st, sql, &p, &n)) != STORE_OK)
		return rc;
	return n == 0 ? user_row_missing(st, connection, user_id) : STORE_OK;
}

int
pgsql_user_connection_remove(struct store *st, const char *connection, int64_t user_id)
{
	static const char sql[] =
	    "DELETE FROM user_connections WHERE connection = $1 AND user_id = $2";
	struct pgdb_params p = {0};

	pgdb_text(&p, connection);
	pgdb_int(&p, user_id);
	return pgdb_exec_found(st, sql, &p);
}

struct user_connection_visit {
	store_user_connection_fn fn;
	void *arg;
};

static int
user_connection_visit_row(PGresult *res, int row, void *arg)
{
	struct user_connection_visit *v = arg;
	struct store_user_connection uc;
	int rc;

	memset(&uc, 0, sizeof(uc));
	if (user_connection_row(res, row, &uc) != STORE_OK)
		return STORE_ERROR;
	rc = v->fn(&uc, v->arg);
	store_user_connection_clear(&uc);
	return rc;
}

int
pgsql_user_connection_list_user(struct store *st, int64_t user_id,
    store_user_connection_fn fn, void *arg)
{
	static const char sql[] = "SELECT " USER_CONNECTION_COLS " FROM user_connections "
				  "WHERE user_id = $1 ORDER BY connection";
	struct pgdb_params p = {0};
	struct user_connection_visit v = {fn, arg};

	pgdb_int(&p, user_id);
	return pgdb_each(st, sql, &p, user_connection_visit_row, &v);
}

int
pgsql_user_connection_each(struct store *st, store_user_connection_fn fn, void *arg)
{
	static const char sql[] = "SELECT " USER_CONNECTION_COLS " FROM user_connections "
				  "ORDER BY connection, user_id";
	struct user_connection_visit v = {fn, arg};

	return pgdb_each(st, sql, NULL, user_connection_visit_row, &v);
}

int
pgsql_user_connection_set_key(struct store *st, const char *connection, int64_t user_id,
    int64_t generation, const unsigned char *wrapped, size_t len)
{
	static const char sql[] =
	    "UPDATE user_connections SET wrapped_key = $1 "
	    "WHERE connection = $2 AND user_id = $3 AND generation = $4";
	struct pgdb_params p = {0};

	pgdb_blob(&p, wrapped, len);
	pgdb_text(&p, connection);
	pgdb_int(&p, user_id);
	pgdb_int(&p, generation);
	return pgdb_exec_found(st, sql, &p);
}

/* ---- connects in progress ---- */

int
pgsql_connect_state_add(struct store *st, const unsigned char *state_hash,
    const struct store_connect_state *cs)
{
	/* A state taken is CONFLICT without the error that would end the caller's
	 * transaction. */
	static const char sql[] =
	    "INSERT INTO connect_states(state_hash, connection, user_id, session_hash, "
	    "code_verifier, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7) "
	    "ON CONFLICT(state_hash) DO NOTHING";
	struct pgdb_params p = {0};
	int64_t n = 0;
	int rc;

	pgdb_blob(&p, state_hash, STORE_UPSTREAM_HASH_LEN);
	pgdb_text(&p, cs->connection);
	pgdb_int(&p, cs->user_id);
	pgdb_blob(&p, cs->session_hash, STORE_UPSTREAM_HASH_LEN);
	pgdb_text(&p, cs->code_verifier);
	pgdb_int(&p, cs->created_at);
	pgdb_int(&p, cs->expires_at);
	if ((rc = pgdb_exec_count(st, sql, &p, &n)) != STORE_OK)
		return rc;
	return n == 0 ? STORE_CONFLICT : STORE_OK;
}

static int
connect_state_row(PGresult *res, int row, void *arg)
{
	struct store_connect_state *cs = arg;
	unsigned char *b;
	size_t n = 0;
	int oom = 0;

	cs->connection = pgdb_col_dup(res, row, 0, &oom);
	cs->user_id = pgdb_col_int(res, row, 1);
	if ((b = pgdb_col_blob(res, row, 2, &n, &oom)) != NULL && n == STORE_UPSTREAM_HASH_LEN)
		memcpy(cs->session_hash, b, STORE_UPSTREAM_HASH_LEN);
	free(b);
	cs->code_verifier = pgdb_col_dup(res, row, 3, &oom);
	cs->created_at = pgdb_col_int(res, row, 4);
	cs->expires_at = pgdb_col_int(res, row, 5);
	if (oom) {
		store_connect_state_clear(cs);
		return STORE_ERROR;
	}
	return STORE_OK;
}

int
pgsql_connect_state_take(struct store *st, const unsigned char *state_hash,
    struct store_connect_state *out)
{
	/* One statement: of two nodes taking the same state at once, the second waits for
	 * the first's row lock and then deletes nothing. */
	static const char sql[] =
	    "DELETE FROM connect_states WHERE state_hash = $1 RETURNING connection, user_id, "
	    "session_hash, code_verifier, created_at, expires_at";
	struct pgdb_params p = {0};

	memset(out, 0, sizeof(*out));
	pgdb_blob(&p, state_hash, STORE_UPSTREAM_HASH_LEN);
	return pgdb_one(st, sql, &p, connect_state_row, out);
}
