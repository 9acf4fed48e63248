/* Resources (MCP servers) and the exchange edges between them. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "store/sqlite/db.h"

#define RESOURCE_COLS "id, uri, uri_key, name, scopes, default_scopes, access_token_ttl, created_at"


int
sqlite_resource_add(struct store *st, const struct store_resource *r, int64_t *id)
{
	static const char sql[] =
	    "INSERT INTO resources(uri, uri_key, name, scopes, default_scopes, access_token_ttl, "
	    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *s = db_stmt(st, sql);
	int rc;

	if (id != NULL)
		*id = 0;
	if (s == NULL)
		return STORE_ERROR;
	db_bind_text(s, 1, r->uri);
	db_bind_text(s, 2, r->uri_key);
	db_bind_text(s, 3, r->name);
	db_bind_text(s, 4, r->scopes ? r->scopes : "");
	db_bind_text(s, 5, r->default_scopes);
	db_bind_int_or_null(s, 6, r->ttl);
	sqlite3_bind_int64(s, 7, r->created_at);
	rc = db_exec_stmt(s);
	if (rc == STORE_OK && id != NULL)
		*id = sqlite3_last_insert_rowid(db_handle(st));
	return rc;
}

static int
resource_row(sqlite3_stmt *s, void *arg)
{
	struct store_resource *r = arg;
	int oom = 0;

	r->id = sqlite3_column_int64(s, 0);
	r->uri = db_col_dup(s, 1, &oom);
	r->uri_key = db_col_dup(s, 2, &oom);
	r->name = db_col_dup(s, 3, &oom);
	r->scopes = db_col_dup(s, 4, &oom);
	r->default_scopes = db_col_dup(s, 5, &oom);
	r->ttl = sqlite3_column_int64(s, 6);
	r->created_at = sqlite3_column_int64(s, 7);
	if (oom) {
		store_resource_clear(r);
		return STORE_ERROR;
	}
	return STORE_OK;
}

int
sqlite_resource_get_by_key(struct store *st, const char *uri_key, struct store_resource *out)
{
	static const char sql[] = "SELECT " RESOURCE_COLS " FROM resources WHERE uri_key = ?";
	sqlite3_stmt *s = db_stmt(st, sql);

	memset(out, 0, sizeof(*out));
	if (s != NULL)
		sqlite3_bind_text(s, 1, uri_key, -1, SQLITE_STATIC);
	return db_one(s, resource_row, out);
}

int
sqlite_resource_get(struct store *st, int64_t id, struct store_resource *out)
{
	static const char sql[] = "SELECT " RESOURCE_COLS " FROM resources WHERE id = ?";
	sqlite3_stmt *s = db_stmt(st, sql);

	memset(out, 0, sizeof(*out));
	if (s != NULL)
		sqlite3_bind_int64(s, 1, id);
	return db_one(s, resource_row, out);
}

struct resource_allowed {
	struct store_resource *r;
	int *allowed;
};

static int
resource_allowed_row(sqlite3_stmt *s, void *arg)
{
	struct resource_allowed *ra = arg;

	*ra->allowed = sqlite3_column_int(s, 8);
	return resource_row(s, ra->r);
}

int
sqlite_resource_for_client(struct store *st, const char *uri_key, int64_t client,
    struct store_resource *out, int *allowed)
{
	static const char sql[] =
	    "SELECT " RESOURCE_COLS ", EXISTS(SELECT 1 FROM client_resources cr "
	    "WHERE cr.client = ?2 AND cr.resource = resources.id) FROM resources WHERE uri_key = ?1";
	sqlite3_stmt *s = db_stmt(st, sql);
	struct resource_allowed ra = {out, allowed};

	memset(out, 0, sizeof(*out));
	*allowed = 0;
	if (s != NULL) {
		sqlite3_bind_text(s, 1, uri_key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, client);
	}
	return db_one(s, resource_allowed_row, &ra);
}

int
sqlite_resource_remove(struct store *st, const char *uri_key)
{
	static const char sql[] = "DELETE FROM resources WHERE uri_key = ?";
	sqlite3_stmt *s = db_stmt(st, sql);
	int rc;

	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_text(s, 1, uri_key, -1, SQLITE_STATIC);
	rc = db_exec_stmt(s);
	if (rc == STORE_OK && sqlite3_changes(db_handle(st)) == 0)
		rc = STORE_NOTFOUND;
	return rc;
}

struct resource_visit {
	store_resource_fn fn;
	void *arg;
};

static int
resource_visit_row(sqlite3_stmt *s, void *arg)
{
	struct resource_visit *v = arg;
	struct store_resource r;
	int rc;

	memset(&r, 0, sizeof(r));
	if (resource_row(s, &r) != STORE_OK)
		return STORE_ERROR;
	rc = v->fn(&r, v->arg);
	store_resource_clear(&r);
	return rc;
}

int
sqlite_resource_list(struct store *st, store_resource_fn fn, void *arg)
{
	static const char sql[] = "SELECT " RESOURCE_COLS " FROM resources ORDER BY uri";
	struct resource_visit v = {fn, arg};

	return db_each(db_stmt(st, sql), resource_visit_row, &v);
}

int
sqlite_resource_max_ttl(struct store *st, int64_t *ttl)
{
	static const char sql[] = "SELECT coalesce(max(access_token_ttl), 0) FROM resources";

	*ttl = 0;
	return db_one(db_stmt(st, sql), db_row_int64, ttl);
}

int
sqlite_edge_put(struct store *st, int64_t from_id, int64_t to_id, const char *scopes, int64_t now)
{
	static const char sql[] =
	    "INSERT INTO exchange_edges(from_id, to_id, scopes, created_at) VALUES (?, ?, ?, ?) "
	    "ON CONFLICT(from_id, to_id) DO UPDATE SET scopes = excluded.scopes";
	sqlite3_stmt *s = db_stmt(st, sql);

	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(s, 1, from_id);
	sqlite3_bind_int64(s, 2, to_id);
	db_bind_text(s, 3, scopes);
	sqlite3_bind_int64(s, 4, now);
	return db_exec_stmt(s);
}


int
sqlite_edge_get(struct store *st, int64_t from_id, int64_t to_id, char **scopes)
{
	static const char sql[] =
	    "SELECT scopes FROM exchange_edges WHERE from_id = ? AND to_id = ?";
	sqlite3_stmt *s = db_stmt(st, sql);

	*scopes = NULL;
	if (s != NULL) {
		sqlite3_bind_int64(s, 1, from_id);
		sqlite3_bind_int64(s, 2, to_id);
	}
	return db_one(s, db_row_text, scopes);
}

struct edge_visit {
	store_edge_fn fn;
	void *arg;
};

static int
edge_visit_row(sqlite3_stmt *s, void *arg)
{
	struct edge_visit *v = arg;

	return v->fn((const char *)sqlite3_column_text(s, 0),
	    (const char *)sqlite3_column_text(s, 1), (const char *)sqlite3_column_text(s, 2),
	    v->arg);
}

int
sqlite_edge_list(struct store *st, store_edge_fn fn, void *arg)
{
	static const char sql[] =
	    "SELECT f.uri, t.uri, e.scopes FROM exchange_edges e "
	    "JOIN resources f ON f.id = e.from_id JOIN resources t ON t.id = e.to_id "
	    "ORDER BY f.uri, t.uri";
	struct edge_visit v = {fn, arg};

	return db_each(db_stmt(st, sql), edge_visit_row, &v);
}
