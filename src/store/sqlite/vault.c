/* The downstream credential vault: service credentials by version, and which MCP servers
 * may fetch them. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "store/sqlite/db.h"

#define CREDENTIAL_COLS                                                                          \
	"id, name, version, wrapped_key, secret_enc, fingerprint, created_at, retires_at"

/* rotate and remove run in the caller's transaction when one is open, else in their own. */
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

int
sqlite_credential_add(struct store *st, const struct store_credential *c)
{
	/* A name is taken while any version of it is left (the unique keys catch a race), or
	 * while a connection has it: they share the namespace. One statement, so one
	 * transaction (connection_add checks credentials the same way). */
	static const char sql[] =
	    "INSERT INTO credentials(name, version, wrapped_key, secret_enc, fingerprint, "
	    "created_at, retires_at) SELECT ?1, 1, ?2, ?3, ?4, ?5, NULL "
	    "WHERE NOT EXISTS (SELECT 1 FROM credentials WHERE name = ?1) "
	    "AND NOT EXISTS (SELECT 1 FROM connections WHERE name = ?1)";
	sqlite3_stmt *s = db_stmt(st, sql);
	int rc;

	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_text(s, 1, c->name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, c->wrapped_key, (int)c->wrapped_key_len, SQLITE_STATIC);
	sqlite3_bind_blob(s, 3, c->secret_enc, (int)c->secret_enc_len, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, c->fingerprint, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, c->created_at);
	rc = db_exec_stmt(s);
	if (rc == STORE_OK && sqlite3_changes(db_handle(st)) == 0)
		rc = STORE_CONFLICT;
	return rc;
}

int
sqlite_credential_next_version(struct store *st, const char *name, int64_t *version)
{
	static const char sql[] =
	    "SELECT version + 1 FROM credentials WHERE name = ? AND retires_at IS NULL";
	sqlite3_stmt *s = db_stmt(st, sql);

	*version = 0;
	if (s != NULL)
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	return db_one(s, db_row_int64, version);
}

struct current {
	int64_t id;
	int64_t version;
};

static int
current_row(sqlite3_stmt *s, void *arg)
{
	struct current *cur = arg;

	cur->id = sqlite3_column_int64(s, 0);
	cur->version = sqlite3_column_int64(s, 1);
	return STORE_OK;
}

/* The statements of a rotation, once the current version is known to be c->version - 1
 * (BEGIN IMMEDIATE holds every other writer off until the end). */
static int
rotate_within(struct store *st, const struct store_credential *c, int64_t retires_at)
{
	static const char find[] =
	    "SELECT id, version FROM credentials WHERE name = ? AND retires_at IS NULL";
	static const char drop_retiring[] =
	    "DELETE FROM credentials WHERE name = ? AND retires_at IS NOT NULL";
	static const char retire[] = "UPDATE credentials SET retires_at = ? WHERE id = ?";
	static const char insert[] =
	    "INSERT INTO credentials(name, version, wrapped_key, secret_enc, fingerprint, "
	    "created_at, retires_at) VALUES (?,?,?,?,?,?,NULL)";
	struct current cur = {0, 0};
	sqlite3_stmt *s;
	int rc;

	if ((s = db_stmt(st, find)) != NULL)
		sqlite3_bind_text(s, 1, c->name, -1, SQLITE_STATIC);
	if ((rc = db_one(s, current_row, &cur)) != STORE_OK)
		return rc;
	if (cur.version + 1 != c->version)
		return STORE_CONFLICT;
	if ((s = db_stmt(st, drop_retiring)) == NULL)
		return STORE_ERROR;
	sqlite3_bind_text(s, 1, c->name, -1, SQLITE_STATIC);
	if ((rc = db_exec_stmt(s)) != STORE_OK)
		return rc;
	if ((s = db_stmt(st, retire)) == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(s, 1, retires_at);
	sqlite3_bind_int64(s, 2, cur.id);
	if ((rc = db_exec_stmt(s)) != STORE_OK)
		return rc;
	if ((s = db_stmt(st, insert)) == NULL)
		return STORE_ERROR;
	sqlite3_bind_text(s, 1, c->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, c->version);
	sqlite3_bind_blob(s, 3, c->wrapped_key, (int)c->wrapped_key_len, SQLITE_STATIC);
	sqlite3_bind_blob(s, 4, c->secret_enc, (int)c->secret_enc_len, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, c->fingerprint, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, c->created_at);
	return db_exec_stmt(s);
}

int
sqlite_credential_rotate(struct store *st, const struct store_credential *c, int64_t retires_at,
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

static int
credential_row(sqlite3_stmt *s, void *arg)
{
	struct store_credential *c = arg;
	int oom = 0;

	c->id = sqlite3_column_int64(s, 0);
	c->name = db_col_dup(s, 1, &oom);
	c->version = sqlite3_column_int64(s, 2);
	c->wrapped_key = blob_dup(s, 3, &c->wrapped_key_len, &oom);
	c->secret_enc = blob_dup(s, 4, &c->secret_enc_len, &oom);
	c->fingerprint = db_col_dup(s, 5, &oom);
	c->created_at = sqlite3_column_int64(s, 6);
	c->retires_at = sqlite3_column_int64(s, 7);
	if (oom) {
		store_credential_clear(c);
		return STORE_ERROR;
	}
	return STORE_OK;
}

int
sqlite_credential_get(struct store *st, const char *name, struct store_credential *out)
{
	static const char sql[] =
	    "SELECT " CREDENTIAL_COLS " FROM credentials WHERE name = ? AND retires_at IS NULL";
	sqlite3_stmt *s = db_stmt(st, sql);

	memset(out, 0, sizeof(*out));
	if (s != NULL)
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	return db_one(s, credential_row, out);
}

int
sqlite_credential_get_previous(struct store *st, const char *name, int64_t now,
    struct store_credential *out)
{
	static const char sql[] =
	    "SELECT " CREDENTIAL_COLS " FROM credentials "
	    "WHERE name = ? AND retires_at IS NOT NULL AND retires_at > ? "
	    "ORDER BY version DESC LIMIT 1";
	sqlite3_stmt *s = db_stmt(st, sql);

	memset(out, 0, sizeof(*out));
	if (s != NULL) {
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, now);
	}
	return db_one(s, credential_row, out);
}

struct credential_visit {
	store_credential_fn fn;
	void *arg;
};

static int
credential_visit_row(sqlite3_stmt *s, void *arg)
{
	struct credential_visit *v = arg;
	struct store_credential c;
	int rc;

	memset(&c, 0, sizeof(c));
	if (credential_row(s, &c) != STORE_OK)
		return STORE_ERROR;
	rc = v->fn(&c, v->arg);
	store_credential_clear(&c);
	return rc;
}

int
sqlite_credential_list(struct store *st, int64_t now, store_credential_fn fn, void *arg)
{
	static const char sql[] =
	    "SELECT " CREDENTIAL_COLS " FROM credentials "
	    "WHERE retires_at IS NULL OR retires_at > ? ORDER BY name, version";
	sqlite3_stmt *s = db_stmt(st, sql);
	struct credential_visit v = {fn, arg};

	if (s != NULL)
		sqlite3_bind_int64(s, 1, now);
	return db_each(s, credential_visit_row, &v);
}

int
sqlite_credential_each(struct store *st, store_credential_fn fn, void *arg)
{
	static const char sql[] = "SELECT " CREDENTIAL_COLS " FROM credentials ORDER BY id";
	struct credential_visit v = {fn, arg};

	return db_each(db_stmt(st, sql), credential_visit_row, &v);
}

static int
remove_within(struct store *st, const char *name)
{
	/* Policy rows are named, and the name may be a connection's: those stay. */
	static const char policy[] =
	    "DELETE FROM resource_credentials WHERE name = ?1 "
	    "AND NOT EXISTS (SELECT 1 FROM connections WHERE name = ?1)";
	static const char versions[] = "DELETE FROM credentials WHERE name = ?";
	sqlite3_stmt *s;
	int rc, n;

	if ((s = db_stmt(st, policy)) == NULL)
		return STORE_ERROR;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if ((rc = db_exec_stmt(s)) != STORE_OK)
		return rc;
	n = sqlite3_changes(db_handle(st));
	if ((s = db_stmt(st, versions)) == NULL)
		return STORE_ERROR;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if ((rc = db_exec_stmt(s)) != STORE_OK)
		return rc;
	n += sqlite3_changes(db_handle(st));
	return n == 0 ? STORE_NOTFOUND : STORE_OK;
}

int
sqlite_credential_remove(struct store *st, const char *name)
{
	int rc, own;

	if ((rc = tx_begin(st, &own)) != STORE_OK)
		return rc;
	return tx_end(st, own, remove_within(st, name));
}

int
sqlite_credential_set_key(struct store *st, int64_t id, const unsigned char *wrapped, size_t len)
{
	static const char sql[] = "UPDATE credentials SET wrapped_key = ? WHERE id = ?";
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

/* ---- policy ---- */

int
sqlite_resource_credential_allow(struct store *st, int64_t resource, const char *name,
    int64_t now)
{
	/* A row already there is "updated" to itself, so that a change counts both an insert
	 * and a row kept; none means no credential nor connection has that name. */
	static const char sql[] =
	    "INSERT INTO resource_credentials(resource, name, created_at) SELECT ?1, ?2, ?3 "
	    "WHERE EXISTS (SELECT 1 FROM credentials WHERE name = ?2) "
	    "OR EXISTS (SELECT 1 FROM connections WHERE name = ?2) "
	    "ON CONFLICT(resource, name) "
	    "DO UPDATE SET created_at = resource_credentials.created_at";
	sqlite3_stmt *s = db_stmt(st, sql);
	int rc;

	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(s, 1, resource);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now);
	rc = db_exec_stmt(s);
	if (rc == STORE_OK && sqlite3_changes(db_handle(st)) == 0)
		rc = STORE_NOTFOUND;
	return rc;
}

int
sqlite_resource_credential_allowed(struct store *st, int64_t resource, const char *name)
{
	static const char sql[] =
	    "SELECT 1 FROM resource_credentials WHERE resource = ? AND name = ?";
	sqlite3_stmt *s = db_stmt(st, sql);

	if (s != NULL) {
		sqlite3_bind_int64(s, 1, resource);
		sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	}
	return db_one(s, db_row_exists, NULL);
}

struct policy_visit {
	store_resource_credential_fn fn;
	void *arg;
};

static int
policy_visit_row(sqlite3_stmt *s, void *arg)
{
	struct policy_visit *v = arg;

	return v->fn((const char *)sqlite3_column_text(s, 0),
	    (const char *)sqlite3_column_text(s, 1), v->arg);
}

int
sqlite_resource_credential_list(struct store *st, store_resource_credential_fn fn, void *arg)
{
	static const char sql[] =
	    "SELECT r.uri, p.name FROM resource_credentials p "
	    "JOIN resources r ON r.id = p.resource ORDER BY r.uri, p.name";
	struct policy_visit v = {fn, arg};

	return db_each(db_stmt(st, sql), policy_visit_row, &v);
}
