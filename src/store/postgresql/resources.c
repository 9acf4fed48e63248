/* Resources (MCP servers) and the exchange edges between them. */
#include "config.h"

#include <string.h>

#include "store/postgresql/db.h"

#define RESOURCE_COLS "id, uri, uri_key, name, scopes, default_scopes, access_token_ttl, created_at"

int
pgsql_resource_add(struct store *st, const struct store_resource *r, int64_t *id)
{
	static const char sql[] =
	    "INSERT INTO resources(uri, uri_key, name, scopes, default_scopes, access_token_ttl, "
	    "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
	struct pgdb_params p = {0};
	int64_t new_id = 0;
	int rc;

	if (id != NULL)
		*id = 0;
	pgdb_text(&p, r->uri);
	pgdb_text(&p, r->uri_key);
	pgdb_text(&p, r->name);
	pgdb_text(&p, r->scopes ? r->scopes : "");
	pgdb_text(&p, r->default_scopes);
	pgdb_int_or_null(&p, r->ttl);
	pgdb_int(&p, r->created_at);
	rc = pgdb_one(st, sql, &p, pgdb_row_int64, &new_id);
	if (rc == STORE_OK && id != NULL)
		*id = new_id;
	return rc;
}

static int
resource_row(PGresult *res, int row, void *arg)
{
	struct store_resource *r = arg;
	int oom = 0;

	r->id = pgdb_col_int(res, row, 0);
	r->uri = pgdb_col_dup(res, row, 1, &oom);
	r->uri_key = pgdb_col_dup(res, row, 2, &oom);
	r->name = pgdb_col_dup(res, row, 3, &oom);
	r->scopes = pgdb_col_dup(res, row, 4, &oom);
	r->default_scopes = pgdb_col_dup(res, row, 5, &oom);
	r->ttl = pgdb_col_int(res, row, 6);
	r->created_at = pgdb_col_int(res, row, 7);
	if (oom) {
		store_resource_clear(r);
		return STORE_ERROR;
	}
	return STORE_OK;
}

int
pgsql_resource_get_by_key(struct store *st, const char *uri_key, struct store_resource *out)
{
	static const char sql[] = "SELECT " RESOURCE_COLS " FROM resources WHERE uri_key = $1";
	struct pgdb_params p = {0};

	memset(out, 0, sizeof(*out));
	pgdb_text(&p, uri_key);
	return pgdb_one(st, sql, &p, resource_row, out);
}

int
pgsql_resource_get(struct store *st, int64_t id, struct store_resource *out)
{
	static const char sql[] = "SELECT " RESOURCE_COLS " FROM resources WHERE id = $1";
	struct pgdb_params p = {0};

	memset(out, 0, sizeof(*out));
	pgdb_int(&p, id);
	return pgdb_one(st, sql, &p, resource_row, out);
}

struct resource_allowed {
	struct store_resource *r;
	int *allowed;
};

static int
resource_allowed_row(PGresult *res, int row, void *arg)
{
	struct resource_allowed *ra = arg;

	*ra->allowed = (int)pgdb_col_int(res, row, 8);
	return resource_row(res, row, ra->r);
}

int
pgsql_resource_for_client(struct store *st, const char *uri_key, int64_t client,
    struct store_resource *out, int *allowed)
{
	static const char sql[] =
	    "SELECT " RESOURCE_COLS ", EXISTS(SELECT 1 FROM client_resources cr "
	    "WHERE cr.client = $2 AND cr.resource = resources.id) FROM resources WHERE uri_key = $1";
	struct pgdb_params p = {0};
	struct resource_allowed ra = {out, allowed};

	memset(out, 0, sizeof(*out));
	*allowed = 0;
	pgdb_text(&p, uri_key);
	pgdb_int(&p, client);
	return pgdb_one(st, sql, &p, resource_allowed_row, &ra);
}

int
pgsql_resource_remove(struct store *st, const char *uri_key)
{
	static const char sql[] = "DELETE FROM resources WHERE uri_key = $1";
	struct pgdb_params p = {0};

	pgdb_text(&p, uri_key);
	return pgdb_exec_found(st, sql, &p);
}

struct resource_visit {
	store_resource_fn fn;
	void *arg;
};

static int
resource_visit_row(PGresult *res, int row, void *arg)
{
	struct resource_visit *v = arg;
	struct store_resource r;
	int rc;

	memset(&r, 0, sizeof(r));
	if (resource_row(res, row, &r) != STORE_OK)
		return STORE_ERROR;
	rc = v->fn(&r, v->arg);
	store_resource_clear(&r);
	return rc;
}

int
pgsql_resource_list(struct store *st, store_resource_fn fn, void *arg)
{
	static const char sql[] = "SELECT " RESOURCE_COLS " FROM resources ORDER BY uri";
	struct resource_visit v = {fn, arg};

	return pgdb_each(st, sql, NULL, resource_visit_row, &v);
}

int
pgsql_resource_max_ttl(struct store *st, int64_t *ttl)
{
	static const char sql[] = "SELECT coalesce(max(access_token_ttl), 0) FROM resources";

	*ttl = 0;
	return pgdb_one(st, sql, NULL, pgdb_row_int64, ttl);
}

int
pgsql_edge_put(struct store *st, int64_t from_id, int64_t to_id, const char *scopes, int64_t now)
{
	static const char sql[] =
	    "INSERT INTO exchange_edges(from_id, to_id, scopes, created_at) VALUES ($1, $2, $3, $4) "
	    "ON CONFLICT(from_id, to_id) DO UPDATE SET scopes = excluded.scopes";
	struct pgdb_params p = {0};

	pgdb_int(&p, from_id);
	pgdb_int(&p, to_id);
	pgdb_text(&p, scopes);
	pgdb_int(&p, now);
	return pgdb_exec(st, sql, &p, NULL);
}

int
pgsql_edge_get(struct store *st, int64_t from_id, int64_t to_id, char **scopes)
{
	static const char sql[] =
	    "SELECT scopes FROM exchange_edges WHERE from_id = $1 AND to_id = $2";
	struct pgdb_params p = {0};

	*scopes = NULL;
	pgdb_int(&p, from_id);
	pgdb_int(&p, to_id);
	return pgdb_one(st, sql, &p, pgdb_row_text, scopes);
}

struct edge_visit {
	store_edge_fn fn;
	void *arg;
};

static int
edge_visit_row(PGresult *res, int row, void *arg)
{
	struct edge_visit *v = arg;

	return v->fn(pgdb_col_text(res, row, 0), pgdb_col_text(res, row, 1),
	    pgdb_col_text(res, row, 2), v->arg);
}

int
pgsql_edge_list(struct store *st, store_edge_fn fn, void *arg)
{
	static const char sql[] =
	    "SELECT f.uri, t.uri, e.scopes FROM exchange_edges e "
	    "JOIN resources f ON f.id = e.from_id JOIN resources t ON t.id = e.to_id "
	    "ORDER BY f.uri, t.uri";
	struct edge_visit v = {fn, arg};

	return pgdb_each(st, sql, NULL, edge_visit_row, &v);
}
