/* Clients, their redirect URIs and client_credentials resources; registration tokens. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "store/postgresql/db.h"
#include "util/buf.h"

#define CLIENT_COLS                                                                            \
	"c.id, c.client_id, c.name, c.confidential, c.auth_method, c.secret_hash, c.grant_types, " \
	"c.acts_for, r.uri, c.default_resource, c.introspect_admin, c.origin, c.metadata, "        \
	"c.remote_addr, c.created_at, c.updated_at, c.metadata_expires_at, c.jwks, c.jwks_uri"
#define CLIENT_FROM " FROM clients c LEFT JOIN resources r ON r.id = c.acts_for"

static int
redirect_add(struct store *st, int64_t client, const char *uri)
{
	static const char sql[] =
	    "INSERT INTO client_redirect_uris(client, uri) VALUES ($1, $2) ON CONFLICT DO NOTHING";
	struct pgdb_params p = {0};

	pgdb_int(&p, client);
	pgdb_text(&p, uri);
	return pgdb_exec(st, sql, &p, NULL);
}

int
pgsql_client_add(struct store *st, const struct store_client *c, int64_t *id)
{
	static const char sql[] =
	    "INSERT INTO clients(client_id, name, confidential, auth_method, secret_hash, "
	    "grant_types, acts_for, default_resource, introspect_admin, origin, metadata, "
	    "remote_addr, created_at, updated_at, jwks, jwks_uri) "
	    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14, $15) "
	    "RETURNING id";
	struct pgdb_params p = {0};
	int64_t new_id = 0;
	size_t i;
	int rc;

	if (id != NULL)
		*id = 0;
	pgdb_text(&p, c->client_id);
	pgdb_text(&p, c->name);
	pgdb_int(&p, c->confidential ? 1 : 0);
	pgdb_text(&p, c->auth_method);
	pgdb_text(&p, c->secret_hash);
	pgdb_text(&p, c->grant_types ? c->grant_types : "");
	pgdb_int_or_null(&p, c->acts_for);
	pgdb_text(&p, c->default_resource);
	pgdb_int(&p, c->introspect_admin ? 1 : 0);
	pgdb_text(&p, c->origin ? c->origin : "cli");
	pgdb_text(&p, c->metadata);
	pgdb_text(&p, c->remote_addr);
	pgdb_int(&p, c->created_at);
	pgdb_text(&p, c->jwks);
	pgdb_text(&p, c->jwks_uri);
	if ((rc = pgdb_one(st, sql, &p, pgdb_row_int64, &new_id)) != STORE_OK)
		return rc;
	for (i = 0; i < c->n_redirect_uris; i++) {
		if ((rc = redirect_add(st, new_id, c->redirect_uris[i])) != STORE_OK)
			return rc;
	}
	if (id != NULL)
		*id = new_id;
	return STORE_OK;
}

static int
client_row(PGresult *res, int row, void *arg)
{
	struct store_client *c = arg;
	int oom = 0;

	c->id = pgdb_col_int(res, row, 0);
	c->client_id = pgdb_col_dup(res, row, 1, &oom);
	c->name = pgdb_col_dup(res, row, 2, &oom);
	c->confidential = (int)pgdb_col_int(res, row, 3);
	c->auth_method = pgdb_col_dup(res, row, 4, &oom);
	c->secret_hash = pgdb_col_dup(res, row, 5, &oom);
	c->grant_types = pgdb_col_dup(res, row, 6, &oom);
	c->acts_for = pgdb_col_int(res, row, 7);
	c->acts_for_uri = pgdb_col_dup(res, row, 8, &oom);
	c->default_resource = pgdb_col_dup(res, row, 9, &oom);
	c->introspect_admin = (int)pgdb_col_int(res, row, 10);
	c->origin = pgdb_col_dup(res, row, 11, &oom);
	c->metadata = pgdb_col_dup(res, row, 12, &oom);
	c->remote_addr = pgdb_col_dup(res, row, 13, &oom);
	c->created_at = pgdb_col_int(res, row, 14);
	c->updated_at = pgdb_col_int(res, row, 15);
	c->metadata_expires_at = pgdb_col_int(res, row, 16);
	c->jwks = pgdb_col_dup(res, row, 17, &oom);
	c->jwks_uri = pgdb_col_dup(res, row, 18, &oom);
	if (oom) {
		store_client_clear(c);
		return STORE_ERROR;
	}
	return STORE_OK;
}

static int
redirect_row(PGresult *res, int row, void *arg)
{
	struct store_client *c = arg;
	char **grown;
	int oom = 0;

	grown = realloc(c->redirect_uris, (c->n_redirect_uris + 1) * sizeof(*grown));
	if (grown == NULL)
		return STORE_ERROR;
	c->redirect_uris = grown;
	c->redirect_uris[c->n_redirect_uris] = pgdb_col_dup(res, row, 0, &oom);
	if (oom)
		return STORE_ERROR;
	c->n_redirect_uris++;
	return STORE_OK;
}

int
pgsql_client_get(struct store *st, const char *client_id, struct store_client *out)
{
	static const char uris[] =
	    "SELECT uri FROM client_redirect_uris WHERE client = $1 ORDER BY uri";
	struct pgdb_params p = {0};
	int rc;

	if ((rc = pgsql_client_get_lite(st, client_id, out)) != STORE_OK)
		return rc;
	pgdb_int(&p, out->id);
	if ((rc = pgdb_each(st, uris, &p, redirect_row, out)) != STORE_OK)
		store_client_clear(out);
	return rc;
}

int
pgsql_client_get_lite(struct store *st, const char *client_id, struct store_client *out)
{
	static const char sql[] = "SELECT " CLIENT_COLS CLIENT_FROM " WHERE c.client_id = $1";
	struct pgdb_params p = {0};

	memset(out, 0, sizeof(*out));
	pgdb_text(&p, client_id);
	return pgdb_one(st, sql, &p, client_row, out);
}

int
pgsql_client_remove(struct store *st, const char *client_id)
{
	static const char sql[] = "DELETE FROM clients WHERE client_id = $1";
	struct pgdb_params p = {0};

	pgdb_text(&p, client_id);
	return pgdb_exec_found(st, sql, &p);
}

struct found_client {
	int64_t id;
	int cimd;
};

static int
found_row(PGresult *res, int row, void *arg)
{
	struct found_client *f = arg;
	const char *origin = pgdb_col_text(res, row, 1);

	f->id = pgdb_col_int(res, row, 0);
	f->cimd = origin != NULL && strcmp(origin, "cimd") == 0;
	return STORE_OK;
}

/* One attempt at the insert-or-refresh; STORE_RETRY when another node inserted the same
 * client at the same moment (then the next attempt finds it). */
static int
put_cimd_once(struct store *st, const struct store_client *c)
{
	static const char find[] =
	    "SELECT id, origin FROM clients WHERE client_id = $1 FOR UPDATE";
	static const char update[] =
	    "UPDATE clients SET name = $1, metadata = $2, updated_at = $3, metadata_expires_at = $4 "
	    "WHERE id = $5";
	static const char clear_uris[] = "DELETE FROM client_redirect_uris WHERE client = $1";
	struct pgdb_params p = {0};
	struct found_client f = {0, 0};
	size_t i;
	int rc, found;

	if ((rc = pgsql_begin(st)) != STORE_OK)
		return rc;
	pgdb_text(&p, c->client_id);
	rc = pgdb_one(st, find, &p, found_row, &f);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		goto fail;
	found = rc == STORE_OK;
	if (found && !f.cimd) {
		pgsql_rollback(st);
		return STORE_CONFLICT;
	}
	if (!found) {
		if ((rc = pgsql_client_add(st, c, &f.id)) != STORE_OK) {
			if (rc == STORE_CONFLICT)
				rc = STORE_RETRY;
			goto fail;
		}
	} else {
		memset(&p, 0, sizeof(p));
		pgdb_int(&p, f.id);
		if ((rc = pgdb_exec(st, clear_uris, &p, NULL)) != STORE_OK)
			goto fail;
		for (i = 0; i < c->n_redirect_uris; i++) {
			if ((rc = redirect_add(st, f.id, c->redirect_uris[i])) != STORE_OK)
				goto fail;
		}
	}
	memset(&p, 0, sizeof(p));
	pgdb_text(&p, c->name);
	pgdb_text(&p, c->metadata);
	pgdb_int(&p, c->updated_at);
	pgdb_int(&p, c->metadata_expires_at);
	pgdb_int(&p, f.id);
	if ((rc = pgdb_exec(st, update, &p, NULL)) != STORE_OK)
		goto fail;
	return pgsql_commit(st);
fail:
	pgsql_rollback(st);
	return rc == STORE_OK ? STORE_ERROR : rc;
}

int
pgsql_client_put_cimd(struct store *st, const struct store_client *c)
{
	int rc, attempt;

	for (attempt = 0; attempt < 3; attempt++) {
		if ((rc = put_cimd_once(st, c)) != STORE_RETRY)
			break;
	}
	return rc;
}

int
pgsql_client_set_secret(struct store *st, const char *client_id, const char *secret_hash,
    int64_t now)
{
	static const char sql[] =
	    "UPDATE clients SET secret_hash = $1, updated_at = $2 WHERE client_id = $3";
	struct pgdb_params p = {0};

	pgdb_text(&p, secret_hash);
	pgdb_int(&p, now);
	pgdb_text(&p, client_id);
	return pgdb_exec_found(st, sql, &p);
}

int
pgsql_client_resource_add(struct store *st, int64_t client, int64_t resource)
{
	static const char sql[] =
	    "INSERT INTO client_resources(client, resource) VALUES ($1, $2) ON CONFLICT DO NOTHING";
	struct pgdb_params p = {0};

	pgdb_int(&p, client);
	pgdb_int(&p, resource);
	return pgdb_exec(st, sql, &p, NULL);
}

int
pgsql_client_resource_allowed(struct store *st, int64_t client, int64_t resource)
{
	static const char sql[] =
	    "SELECT 1 FROM client_resources WHERE client = $1 AND resource = $2";
	struct pgdb_params p = {0};

	pgdb_int(&p, client);
	pgdb_int(&p, resource);
	return pgdb_one(st, sql, &p, pgdb_row_exists, NULL);
}

static int
uri_join_row(PGresult *res, int row, void *arg)
{
	struct buf *b = arg;
	const char *uri = pgdb_col_text(res, row, 0);

	if (b->len > 0 && buf_putc(b, ' ') != BUF_OK)
		return STORE_ERROR;
	return buf_puts(b, uri ? uri : "") == BUF_OK ? STORE_OK : STORE_ERROR;
}

int
pgsql_client_resources_new(struct store *st, int64_t client, char **uris)
{
	static const char sql[] =
	    "SELECT r.uri FROM client_resources cr JOIN resources r ON r.id = cr.resource "
	    "WHERE cr.client = $1 ORDER BY r.uri";
	struct pgdb_params p = {0};
	struct buf b;
	int rc;

	*uris = NULL;
	buf_init(&b, 0);
	pgdb_int(&p, client);
	if ((rc = pgdb_each(st, sql, &p, uri_join_row, &b)) == STORE_OK &&
	    (*uris = buf_take(&b)) == NULL)
		rc = STORE_ERROR;
	buf_free(&b);
	return rc;
}

struct client_visit {
	store_client_fn fn;
	void *arg;
};

static int
client_visit_row(PGresult *res, int row, void *arg)
{
	struct client_visit *v = arg;
	struct store_client c;
	int rc;

	memset(&c, 0, sizeof(c));
	if (client_row(res, row, &c) != STORE_OK)
		return STORE_ERROR;
	rc = v->fn(&c, v->arg);
	store_client_clear(&c);
	return rc;
}

int
pgsql_client_list(struct store *st, store_client_fn fn, void *arg)
{
	static const char sql[] = "SELECT " CLIENT_COLS CLIENT_FROM " ORDER BY c.created_at, c.id";
	struct client_visit v = {fn, arg};

	return pgdb_each(st, sql, NULL, client_visit_row, &v);
}

int
pgsql_regtoken_add(struct store *st, const unsigned char *hash, size_t len, int64_t now,
    int64_t expires_at)
{
	static const char sql[] =
	    "INSERT INTO registration_tokens(token_hash, created_at, expires_at) VALUES ($1, $2, $3)";
	struct pgdb_params p = {0};

	pgdb_blob(&p, hash, len);
	pgdb_int(&p, now);
	pgdb_int(&p, expires_at);
	return pgdb_exec(st, sql, &p, NULL);
}

int
pgsql_regtoken_check(struct store *st, const unsigned char *hash, size_t len, int64_t now)
{
	static const char sql[] =
	    "SELECT 1 FROM registration_tokens WHERE token_hash = $1 AND expires_at > $2";
	struct pgdb_params p = {0};

	pgdb_blob(&p, hash, len);
	pgdb_int(&p, now);
	return pgdb_one(st, sql, &p, pgdb_row_exists, NULL);
}
