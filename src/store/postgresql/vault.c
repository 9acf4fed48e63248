/* The downstream credential vault: service credentials by version, and which MCP servers
 * may fetch them. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "store/postgresql/db.h"

#define CREDENTIAL_COLS                                                                          \
	"id, name, version, wrapped_key, secret_enc, fingerprint, created_at, retires_at"

/* The class of the advisory locks on one credential's name ("mcpv"; two int4 keys, a key
 * space apart from the bigint keys of db.c). connections.c takes the same locks: the names
 * of connections share the namespace. */
#define LOCK_CREDENTIAL 0x6d637076

/* add, rotate and remove run in the caller's transaction when one is open, else in their
 * own. */
static int
tx_begin(struct store *st, int *own)
{
	*own = !st->in_tx;
	return *own ? pgsql_begin(st) : STORE_OK;
}

/* Adds, rotations and removals of one name, from any node or CLI, one after the other
 * until the transaction ends: each then reads what the one before it committed (READ
 * COMMITTED gives every later statement a new snapshot), so that none leaves a version
 * behind, numbers one twice, or adds a name a connection took meanwhile. */
static int
lock_name(struct store *st, const char *name)
{
	static const char sql[] = "SELECT pg_advisory_xact_lock($1, hashtext($2))";
	struct pgdb_params p = {0};

	pgdb_int(&p, LOCK_CREDENTIAL);
	pgdb_text(&p, name);
	return pgdb_exec(st, sql, &p, NULL);
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

/* Under the lock of the name, which connection_add takes too: a credential and a
 * connection added under one name at once would each find the other's table without it
 * (no unique key spans both), so the second waits, then its statement's snapshot sees
 * the first's row. */
static int
add_within(struct store *st, const struct store_credential *c)
{
	/* A name is taken while any version of it is left, or while a connection has it. */
	static const char sql[] =
	    "INSERT INTO credentials(name, version, wrapped_key, secret_enc, fingerprint, "
	    "created_at, retires_at) SELECT $1, 1, $2, $3, $4, $5, NULL "
	    "WHERE NOT EXISTS (SELECT 1 FROM credentials WHERE name = $1) "
	    "AND NOT EXISTS (SELECT 1 FROM connections WHERE name = $1)";
	struct pgdb_params p = {0};
	int64_t n = 0;
	int rc;

	if ((rc = lock_name(st, c->name)) != STORE_OK)
		return rc;
	pgdb_text(&p, c->name);
	pgdb_blob(&p, c->wrapped_key, c->wrapped_key_len);
	pgdb_blob(&p, c->secret_enc, c->secret_enc_len);
	pgdb_text(&p, c->fingerprint);
	pgdb_int(&p, c->created_at);
	if ((rc = pgdb_exec_count(st, sql, &p, &n)) != STORE_OK)
		return rc;
	return n == 0 ? STORE_CONFLICT : STORE_OK;
}

int
pgsql_credential_add(struct store *st, const struct store_credential *c)
{
	int rc, own;

	if ((rc = tx_begin(st, &own)) != STORE_OK)
		return rc;
	return tx_end(st, own, add_within(st, c));
}

int
pgsql_credential_next_version(struct store *st, const char *name, int64_t *version)
{
	static const char sql[] =
	    "SELECT version + 1 FROM credentials WHERE name = $1 AND retires_at IS NULL";
	struct pgdb_params p = {0};

	*version = 0;
	pgdb_text(&p, name);
	return pgdb_one(st, sql, &p, pgdb_row_int64, version);
}

struct current {
	int64_t id;
	int64_t version;
};

static int
current_row(PGresult *res, int row, void *arg)
{
	struct current *cur = arg;

	cur->id = pgdb_col_int(res, row, 0);
	cur->version = pgdb_col_int(res, row, 1);
	return STORE_OK;
}

/* The statements of a rotation, under the lock of the name. The current version's row is
 * locked as well: should a writer ever skip the name's lock, the second of two rotations
 * waits for the first, then finds that row retiring and no current one it can see (the
 * first's new row is newer than its statement): the name exists, so the version it would
 * assign is taken. */
static int
rotate_within(struct store *st, const struct store_credential *c, int64_t retires_at)
{
	static const char find[] =
	    "SELECT id, version FROM credentials WHERE name = $1 AND retires_at IS NULL FOR UPDATE";
	static const char exists[] = "SELECT 1 FROM credentials WHERE name = $1 LIMIT 1";
	static const char drop_retiring[] =
	    "DELETE FROM credentials WHERE name = $1 AND retires_at IS NOT NULL";
	static const char retire[] = "UPDATE credentials SET retires_at = $1 WHERE id = $2";
	static const char insert[] =
	    "INSERT INTO credentials(name, version, wrapped_key, secret_enc, fingerprint, "
	    "created_at, retires_at) VALUES ($1, $2, $3, $4, $5, $6, NULL)";
	struct current cur = {0, 0};
	struct pgdb_params p = {0};
	int rc;

	if ((rc = lock_name(st, c->name)) != STORE_OK)
		return rc;
	pgdb_text(&p, c->name);
	rc = pgdb_one(st, find, &p, current_row, &cur);
	if (rc == STORE_NOTFOUND) {
		rc = pgdb_one(st, exists, &p, pgdb_row_exists, NULL);
		return rc == STORE_OK ? STORE_CONFLICT : rc;
	}
	if (rc != STORE_OK)
		return rc;
	if (cur.version + 1 != c->version)
		return STORE_CONFLICT;
	if ((rc = pgdb_exec(st, drop_retiring, &p, NULL)) != STORE_OK)
		return rc;
	memset(&p, 0, sizeof(p));
	pgdb_int(&p, retires_at);
	pgdb_int(&p, cur.id);
	if ((rc = pgdb_exec(st, retire, &p, NULL)) != STORE_OK)
		return rc;
	memset(&p, 0, sizeof(p));
	pgdb_text(&p, c->name);
	pgdb_int(&p, c->version);
	pgdb_blob(&p, c->wrapped_key, c->wrapped_key_len);
	pgdb_blob(&p, c->secret_enc, c->secret_enc_len);
	pgdb_text(&p, c->fingerprint);
	pgdb_int(&p, c->created_at);
	return pgdb_exec(st, insert, &p, NULL);
}

int
pgsql_credential_rotate(struct store *st, const struct store_credential *c, int64_t retires_at,
    int64_t *version)
{
	int rc, own;

	if (version != NULL)
		*version = 0;
	if ((rc = tx_begin(st, &own)) != STORE_OK)
		return rc;
	rc = tx_end(st, own, rotate_within(st, c, retires_at));
	if (rc == STORE_OK && version != NULL)
		*version = c->version;
	return rc;
}

static int
credential_row(PGresult *res, int row, void *arg)
{
	struct store_credential *c = arg;
	int oom = 0;

	c->id = pgdb_col_int(res, row, 0);
	c->name = pgdb_col_dup(res, row, 1, &oom);
	c->version = pgdb_col_int(res, row, 2);
	c->wrapped_key = pgdb_col_blob(res, row, 3, &c->wrapped_key_len, &oom);
	c->secret_enc = pgdb_col_blob(res, row, 4, &c->secret_enc_len, &oom);
	c->fingerprint = pgdb_col_dup(res, row, 5, &oom);
	c->created_at = pgdb_col_int(res, row, 6);
	c->retires_at = pgdb_col_int(res, row, 7);
	if (oom) {
		store_credential_clear(c);
		return STORE_ERROR;
	}
	return STORE_OK;
}

int
pgsql_credential_get(struct store *st, const char *name, struct store_credential *out)
{
	static const char sql[] =
	    "SELECT " CREDENTIAL_COLS " FROM credentials WHERE name = $1 AND retires_at IS NULL";
	struct pgdb_params p = {0};

	memset(out, 0, sizeof(*out));
	pgdb_text(&p, name);
	return pgdb_one(st, sql, &p, credential_row, out);
}

int
pgsql_credential_get_previous(struct store *st, const char *name, int64_t now,
    struct store_credential *out)
{
	static const char sql[] =
	    "SELECT " CREDENTIAL_COLS " FROM credentials "
	    "WHERE name = $1 AND retires_at IS NOT NULL AND retires_at > $2 "
	    "ORDER BY version DESC LIMIT 1";
	struct pgdb_params p = {0};

	memset(out, 0, sizeof(*out));
	pgdb_text(&p, name);
	pgdb_int(&p, now);
	return pgdb_one(st, sql, &p, credential_row, out);
}

struct credential_visit {
	store_credential_fn fn;
	void *arg;
};

static int
credential_visit_row(PGresult *res, int row, void *arg)
{
	struct credential_visit *v = arg;
	struct store_credential c;
	int rc;

	memset(&c, 0, sizeof(c));
	if (credential_row(res, row, &c) != STORE_OK)
		return STORE_ERROR;
	rc = v->fn(&c, v->arg);
	store_credential_clear(&c);
	return rc;
}

int
pgsql_credential_list(struct store *st, int64_t now, store_credential_fn fn, void *arg)
{
	static const char sql[] =
	    "SELECT " CREDENTIAL_COLS " FROM credentials "
	    "WHERE retires_at IS NULL OR retires_at > $1 ORDER BY name, version";
	struct pgdb_params p = {0};
	struct credential_visit v = {fn, arg};

	pgdb_int(&p, now);
	return pgdb_each(st, sql, &p, credential_visit_row, &v);
}

int
pgsql_credential_each(struct store *st, store_credential_fn fn, void *arg)
{
	static const char sql[] = "SELECT " CREDENTIAL_COLS " FROM credentials ORDER BY id";
	struct credential_visit v = {fn, arg};

	return pgdb_each(st, sql, NULL, credential_visit_row, &v);
}

static int
remove_within(struct store *st, const char *name)
{
	/* Policy rows are named, and the name may be a connection's: those stay. */
	static const char policy[] =
	    "DELETE FROM resource_credentials WHERE name = $1 "
	    "AND NOT EXISTS (SELECT 1 FROM connections WHERE name = $1)";
	static const char versions[] = "DELETE FROM credentials WHERE name = $1";
	struct pgdb_params p = {0};
	int64_t n1 = 0, n2 = 0;
	int rc;

	if ((rc = lock_name(st, name)) != STORE_OK)
		return rc;
	pgdb_text(&p, name);
	if ((rc = pgdb_exec_count(st, policy, &p, &n1)) != STORE_OK ||
	    (rc = pgdb_exec_count(st, versions, &p, &n2)) != STORE_OK)
		return rc;
	return n1 + n2 == 0 ? STORE_NOTFOUND : STORE_OK;
}

int
pgsql_credential_remove(struct store *st, const char *name)
{
	int rc, own;

	if ((rc = tx_begin(st, &own)) != STORE_OK)
		return rc;
	return tx_end(st, own, remove_within(st, name));
}

int
pgsql_credential_set_key(struct store *st, int64_t id, const unsigned char *wrapped, size_t len)
{
	static const char sql[] = "UPDATE credentials SET wrapped_key = $1 WHERE id = $2";
	struct pgdb_params p = {0};

	pgdb_blob(&p, wrapped, len);
	pgdb_int(&p, id);
	return pgdb_exec_found(st, sql, &p);
}

/* ---- policy ---- */

int
pgsql_resource_credential_allow(struct store *st, int64_t resource, const char *name,
    int64_t now)
{
	/* As on SQLite: a row already there is "updated" to itself, so that the count is 1
	 * whether it was added or kept, and 0 only when no credential nor connection has
	 * that name. */
	static const char sql[] =
	    "INSERT INTO resource_credentials(resource, name, created_at) SELECT $1, $2, $3 "
	    "WHERE EXISTS (SELECT 1 FROM credentials WHERE name = $2) "
	    "OR EXISTS (SELECT 1 FROM connections WHERE name = $2) "
	    "ON CONFLICT(resource, name) "
	    "DO UPDATE SET created_at = resource_credentials.created_at";
	struct pgdb_params p = {0};
	int64_t n = 0;
	int rc;

	pgdb_int(&p, resource);
	pgdb_text(&p, name);
	pgdb_int(&p, now);
	if ((rc = pgdb_exec_count(st, sql, &p, &n)) != STORE_OK)
		return rc;
	return n == 0 ? STORE_NOTFOUND : STORE_OK;
}

int
pgsql_resource_credential_allowed(struct store *st, int64_t resource, const char *name)
{
	static const char sql[] =
	    "SELECT 1 FROM resource_credentials WHERE resource = $1 AND name = $2";
	struct pgdb_params p = {0};

	pgdb_int(&p, resource);
	pgdb_text(&p, name);
	return pgdb_one(st, sql, &p, pgdb_row_exists, NULL);
}

struct policy_visit {
	store_resource_credential_fn fn;
	void *arg;
};

static int
policy_visit_row(PGresult *res, int row, void *arg)
{
	struct policy_visit *v = arg;

	return v->fn(pgdb_col_text(res, row, 0), pgdb_col_text(res, row, 1), v->arg);
}

int
pgsql_resource_credential_list(struct store *st, store_resource_credential_fn fn, void *arg)
{
	static const char sql[] =
	    "SELECT r.uri, p.name FROM resource_credentials p "
	    "JOIN resources r ON r.id = p.resource ORDER BY r.uri, p.name";
	struct policy_visit v = {fn, arg};

	return pgdb_each(st, sql, NULL, policy_visit_row, &v);
}
