/* Clients, their redirect URIs and client_credentials resources; registration tokens. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "store/sqlite/db.h"
#include "util/buf.h"

#define CLIENT_COLS                                                                            \
	"c.id, c.client_id, c.name, c.confidential, c.auth_method, c.secret_hash, c.grant_types, " \
	"c.acts_for, r.uri, c.default_resource, c.introspect_admin, c.origin, c.metadata, "        \
	"c.remote_addr, c.created_at, c.updated_at, c.metadata_expires_at, c.jwks, c.jwks_uri"
#define CLIENT_FROM " FROM clients c LEFT JOIN resources r ON r.id = c.acts_for"


static int
redirect_add(struct store *st, int64_t client, const char *uri)
{
	static const char sql[] = "INSERT OR IGNORE INTO client_redirect_uris(client, uri) VALUES (?, ?)";
	sqlite3_stmt *s = db_stmt(st, sql);

	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(s, 1, client);
	sqlite3_bind_text(s, 2, uri, -1, SQLITE_STATIC);
	return db_exec_stmt(s);
}

int
sqlite_client_add(struct store *st, const struct store_client *c, int64_t *id)
{
	static const char sql[] =
	    "INSERT INTO clients(client_id, name, confidential, auth_method, secret_hash, "
	    "grant_types, acts_for, default_resource, introspect_admin, origin, metadata, "
	    "remote_addr, created_at, updated_at, jwks, jwks_uri) "
	    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
	sqlite3_stmt *s = db_stmt(st, sql);
	int64_t rowid;
	size_t i;
	int rc;

	if (id != NULL)
		*id = 0;
	if (s == NULL)
		return STORE_ERROR;
	db_bind_text(s, 1, c->client_id);
	db_bind_text(s, 2, c->name);
	sqlite3_bind_int(s, 3, c->confidential ? 1 : 0);
	db_bind_text(s, 4, c->auth_method);
	db_bind_text(s, 5, c->secret_hash);
	db_bind_text(s, 6, c->grant_types ? c->grant_types : "");
	db_bind_int_or_null(s, 7, c->acts_for);
	db_bind_text(s, 8, c->default_resource);
	sqlite3_bind_int(s, 9, c->introspect_admin ? 1 : 0);
	db_bind_text(s, 10, c->origin ? c->origin : "cli");
	db_bind_text(s, 11, c->metadata);
	db_bind_text(s, 12, c->remote_addr);
	sqlite3_bind_int64(s, 13, c->created_at);
	sqlite3_bind_int64(s, 14, c->created_at);
	db_bind_text(s, 15, c->jwks);
	db_bind_text(s, 16, c->jwks_uri);
	if ((rc = db_exec_stmt(s)) != STORE_OK)
		return rc;
	rowid = sqlite3_last_insert_rowid(db_handle(st));
	for (i = 0; i < c->n_redirect_uris; i++) {
		if ((rc = redirect_add(st, rowid, c->redirect_uris[i])) != STORE_OK)
			return rc;
	}
	if (id != NULL)
		*id = rowid;
	return STORE_OK;
}

static int
client_row(sqlite3_stmt *s, void *arg)
{
	struct store_client *c = arg;
	int oom = 0;

	c->id = sqlite3_column_int64(s, 0);
	c->client_id = db_col_dup(s, 1, &oom);
	c->name = db_col_dup(s, 2, &oom);
	c->confidential = sqlite3_column_int(s, 3);
	c->auth_method = db_col_dup(s, 4, &oom);
	c->secret_hash = db_col_dup(s, 5, &oom);
	c->grant_types = db_col_dup(s, 6, &oom);
	c->acts_for = sqlite3_column_int64(s, 7);
	c->acts_for_uri = db_col_dup(s, 8, &oom);
	c->default_resource = db_col_dup(s, 9, &oom);
	c->introspect_admin = sqlite3_column_int(s, 10);
	c->origin = db_col_dup(s, 11, &oom);
	c->metadata = db_col_dup(s, 12, &oom);
	c->remote_addr = db_col_dup(s, 13, &oom);
	c->created_at = sqlite3_column_int64(s, 14);
	c->updated_at = sqlite3_column_int64(s, 15);
	c->metadata_expires_at = sqlite3_column_int64(s, 16);
	c->jwks = db_col_dup(s, 17, &oom);
	c->jwks_uri = db_col_dup(s, 18, &oom);
	if (oom) {
		store_client_clear(c);
		return STORE_ERROR;
	}
	return STORE_OK;
}

static int
redirect_row(sqlite3_stmt *s, void *arg)
{
	struct store_client *c = arg;
	char **grown;
	int oom = 0;

	grown = realloc(c->redirect_uris, (c->n_redirect_uris + 1) * sizeof(*grown));
	if (grown == NULL)
		return STORE_ERROR;
	c->redirect_uris = grown;
	c->redirect_uris[c->n_redirect_uris] = db_col_dup(s, 0, &oom);
	if (oom)
		return STORE_ERROR;
	c->n_redirect_uris++;
	return STORE_OK;
}

static int
redirects_load(struct store *st, struct store_client *c)
{
	static const char sql[] = "SELECT uri FROM client_redirect_uris WHERE client = ? ORDER BY uri";
	sqlite3_stmt *s = db_stmt(st, sql);

	if (s != NULL)
		sqlite3_bind_int64(s, 1, c->id);
	return db_each(s, redirect_row, c);
}

int
sqlite_client_get(struct store *st, const char *client_id, struct store_client *out)
{
	static const char sql[] = "SELECT " CLIENT_COLS CLIENT_FROM " WHERE c.client_id = ?";
	sqlite3_stmt *s = db_stmt(st, sql);
	int rc;

	memset(out, 0, sizeof(*out));
	if (s != NULL)
		sqlite3_bind_text(s, 1, client_id, -1, SQLITE_STATIC);
	if ((rc = db_one(s, client_row, out)) != STORE_OK)
		return rc;
	if ((rc = redirects_load(st, out)) != STORE_OK)
		store_client_clear(out);
	return rc;
}

int
sqlite_client_get_lite(struct store *st, const char *client_id, struct store_client *out)
{
	static const char sql[] = "SELECT " CLIENT_COLS CLIENT_FROM " WHERE c.client_id = ?";
	sqlite3_stmt *s = db_stmt(st, sql);

	memset(out, 0, sizeof(*out));
	if (s != NULL)
		sqlite3_bind_text(s, 1, client_id, -1, SQLITE_STATIC);
	return db_one(s, client_row, out);
}

int
sqlite_client_remove(struct store *st, const char *client_id)
{
	static const char sql[] = "DELETE FROM clients WHERE client_id = ?";
	sqlite3_stmt *s = db_stmt(st, sql);
	int rc;

	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_text(s, 1, client_id, -1, SQLITE_STATIC);
	rc = db_exec_stmt(s);
	if (rc == STORE_OK && sqlite3_changes(db_handle(st)) == 0)
		rc = STORE_NOTFOUND;
	return rc;
}

int
sqlite_client_put_cimd(struct store *st, const struct store_client *c)
{
	static const char find[] = "SELECT id, origin FROM clients WHERE client_id = ?";
	static const char update[] =
	    "UPDATE clients SET name = ?, metadata = ?, updated_at = ?, metadata_expires_at = ? "
	    "WHERE id = ?";
	static const char clear_uris[] = "DELETE FROM client_redirect_uris WHERE client = ?";
	sqlite3_stmt *s;
	int64_t id = 0;
	size_t i;
	int rc, found, cimd = 0;

	if ((rc = sqlite_begin(st)) != STORE_OK)
		return rc;
	if ((s = db_stmt(st, find)) == NULL)
		goto fail;
	sqlite3_bind_text(s, 1, c->client_id, -1, SQLITE_STATIC);
	found = sqlite3_step(s) == SQLITE_ROW;
	if (found) {
		id = sqlite3_column_int64(s, 0);
		cimd = strcmp((const char *)sqlite3_column_text(s, 1), "cimd") == 0;
	}
	db_reset(s);
	if (found && !cimd) {
		sqlite_rollback(st);
		return STORE_CONFLICT;
	}
	if (!found) {
		if ((rc = sqlite_client_add(st, c, &id)) != STORE_OK)
			goto fail;
		if ((s = db_stmt(st, update)) == NULL)
			goto fail;
	} else {
		if ((s = db_stmt(st, clear_uris)) == NULL)
			goto fail;
		sqlite3_bind_int64(s, 1, id);
		if ((rc = db_exec_stmt(s)) != STORE_OK)
			goto fail;
		for (i = 0; i < c->n_redirect_uris; i++) {
			if ((rc = redirect_add(st, id, c->redirect_uris[i])) != STORE_OK)
				goto fail;
		}
		if ((s = db_stmt(st, update)) == NULL)
			goto fail;
	}
	db_bind_text(s, 1, c->name);
	db_bind_text(s, 2, c->metadata);
	sqlite3_bind_int64(s, 3, c->updated_at);
	sqlite3_bind_int64(s, 4, c->metadata_expires_at);
	sqlite3_bind_int64(s, 5, id);
	if ((rc = db_exec_stmt(s)) != STORE_OK)
		goto fail;
	return sqlite_commit(st);
fail:
	sqlite_rollback(st);
	return rc == STORE_OK ? STORE_ERROR : rc;
}

int
sqlite_client_set_secret(struct store *st, const char *client_id, const char *secret_hash,
    int64_t now)
{
	static const char sql[] =
	    "UPDATE clients SET secret_hash = ?, updated_at = ? WHERE client_id = ?";
	sqlite3_stmt *s = db_stmt(st, sql);
	int rc;

	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_text(s, 1, secret_hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_text(s, 3, client_id, -1, SQLITE_STATIC);
	rc = db_exec_stmt(s);
	if (rc == STORE_OK && sqlite3_changes(db_handle(st)) == 0)
		rc = STORE_NOTFOUND;
	return rc;
}

int
sqlite_client_resource_add(struct store *st, int64_t client, int64_t resource)
{
	static const char sql[] =
	    "INSERT OR IGNORE INTO client_resources(client, resource) VALUES (?, ?)";
	sqlite3_stmt *s = db_stmt(st, sql);

	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(s, 1, client);
	sqlite3_bind_int64(s, 2, resource);
	return db_exec_stmt(s);
}

int
sqlite_client_resource_allowed(struct store *st, int64_t client, int64_t resource)
{
	static const char sql[] =
	    "SELECT 1 FROM client_resources WHERE client = ? AND resource = ?";
	sqlite3_stmt *s = db_stmt(st, sql);

	if (s != NULL) {
		sqlite3_bind_int64(s, 1, client);
		sqlite3_bind_int64(s, 2, resource);
	}
	return db_one(s, db_row_exists, NULL);
}

static int
uri_join_row(sqlite3_stmt *s, void *arg)
{
	struct buf *b = arg;
	const char *uri = (const char *)sqlite3_column_text(s, 0);

	if (b->len > 0 && buf_putc(b, ' ') != BUF_OK)
		return STORE_ERROR;
	return buf_puts(b, uri ? uri : "") == BUF_OK ? STORE_OK : STORE_ERROR;
}

int
sqlite_client_resources_new(struct store *st, int64_t client, char **uris)
{
	static const char sql[] =
	    "SELECT r.uri FROM client_resources cr JOIN resources r ON r.id = cr.resource "
	    "WHERE cr.client = ? ORDER BY r.uri";
	sqlite3_stmt *s = db_stmt(st, sql);
	struct buf b;
	int rc;

	*uris = NULL;
	buf_init(&b, 0);
	if (s != NULL)
		sqlite3_bind_int64(s, 1, client);
	if ((rc = db_each(s, uri_join_row, &b)) == STORE_OK && (*uris = buf_take(&b)) == NULL)
		rc = STORE_ERROR;
	buf_free(&b);
	return rc;
}

struct client_visit {
	store_client_fn fn;
	void *arg;
};

static int
client_visit_row(sqlite3_stmt *s, void *arg)
{
	struct client_visit *v = arg;
	struct store_client c;
	int rc;

	memset(&c, 0, sizeof(c));
	if (client_row(s, &c) != STORE_OK)
		return STORE_ERROR;
	rc = v->fn(&c, v->arg);
	store_client_clear(&c);
	return rc;
}

int
sqlite_client_list(struct store *st, store_client_fn fn, void *arg)
{
	static const char sql[] = "SELECT " CLIENT_COLS CLIENT_FROM " ORDER BY c.created_at, c.id";
	struct client_visit v = {fn, arg};

	return db_each(db_stmt(st, sql), client_visit_row, &v);
}

int
sqlite_regtoken_add(struct store *st, const unsigned char *hash, size_t len, int64_t now,
    int64_t expires_at)
{
	static const char sql[] =
	    "INSERT INTO registration_tokens(token_hash, created_at, expires_at) VALUES (?, ?, ?)";
	sqlite3_stmt *s = db_stmt(st, sql);

	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_blob(s, 1, hash, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_int64(s, 3, expires_at);
	return db_exec_stmt(s);
}

int
sqlite_regtoken_check(struct store *st, const unsigned char *hash, size_t len, int64_t now)
{
	static const char sql[] =
	    "SELECT 1 FROM registration_tokens WHERE token_hash = ? AND expires_at > ?";
	sqlite3_stmt *s = db_stmt(st, sql);

	if (s != NULL) {
		sqlite3_bind_blob(s, 1, hash, (int)len, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, now);
	}
	return db_one(s, db_row_exists, NULL);
}
