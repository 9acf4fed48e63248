/* Upstream identity providers and the mapping of their groups to resources. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "store/postgresql/db.h"

#define IDP_COLS                                                                                 \
	"id, name, issuer, client_id, client_secret_enc, display_name, scopes, claim_user, "     \
	"claim_email, claim_groups, allowed_groups, jit, link_verified_email, allow_private, "   \
	"created_at, jwks_uri, jwks, id_jag, id_jag_clients"

int
pgsql_idp_add(struct store *st, const struct store_idp *p, int64_t *id)
{
	static const char sql[] =
	    "INSERT INTO idps(name, issuer, client_id, client_secret_enc, display_name, scopes, "
	    "claim_user, claim_email, claim_groups, allowed_groups, jit, link_verified_email, "
	    "allow_private, created_at, jwks_uri, jwks, id_jag, id_jag_clients) VALUES ($1, $2, "
	    "$3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING id";
	struct pgdb_params q = {0};
	int64_t new_id = 0;
	int rc;

	if (id != NULL)
		*id = 0;
	pgdb_text(&q, p->name);
	pgdb_text(&q, p->issuer);
	pgdb_text(&q, p->client_id);
	if (p->client_secret_enc != NULL)
		pgdb_blob(&q, p->client_secret_enc, p->client_secret_enc_len);
	else
		pgdb_text(&q, NULL);
	pgdb_text(&q, p->display_name);
	pgdb_text(&q, p->scopes);
	pgdb_text(&q, p->claim_user);
	pgdb_text(&q, p->claim_email);
	pgdb_text(&q, p->claim_groups);
	pgdb_text(&q, p->allowed_groups);
	pgdb_int(&q, p->jit ? 1 : 0);
	pgdb_int(&q, p->link_verified_email ? 1 : 0);
	pgdb_int(&q, p->allow_private ? 1 : 0);
	pgdb_int(&q, p->created_at);
	pgdb_text(&q, p->jwks_uri);
	pgdb_text(&q, p->jwks);
	pgdb_int(&q, p->id_jag ? 1 : 0);
	pgdb_text(&q, p->id_jag_clients);
	rc = pgdb_one(st, sql, &q, pgdb_row_int64, &new_id);
	if (rc == STORE_OK && id != NULL)
		*id = new_id;
	return rc;
}

static int
idp_row(PGresult *res, int row, void *arg)
{
	struct store_idp *p = arg;
	int oom = 0;

	p->id = pgdb_col_int(res, row, 0);
	p->name = pgdb_col_dup(res, row, 1, &oom);
	p->issuer = pgdb_col_dup(res, row, 2, &oom);
	p->client_id = pgdb_col_dup(res, row, 3, &oom);
	p->client_secret_enc = pgdb_col_blob(res, row, 4, &p->client_secret_enc_len, &oom);
	p->display_name = pgdb_col_dup(res, row, 5, &oom);
	p->scopes = pgdb_col_dup(res, row, 6, &oom);
	p->claim_user = pgdb_col_dup(res, row, 7, &oom);
	p->claim_email = pgdb_col_dup(res, row, 8, &oom);
	p->claim_groups = pgdb_col_dup(res, row, 9, &oom);
	p->allowed_groups = pgdb_col_dup(res, row, 10, &oom);
	p->jit = (int)pgdb_col_int(res, row, 11);
	p->link_verified_email = (int)pgdb_col_int(res, row, 12);
	p->allow_private = (int)pgdb_col_int(res, row, 13);
	p->created_at = pgdb_col_int(res, row, 14);
	p->jwks_uri = pgdb_col_dup(res, row, 15, &oom);
	p->jwks = pgdb_col_dup(res, row, 16, &oom);
	p->id_jag = (int)pgdb_col_int(res, row, 17);
	p->id_jag_clients = pgdb_col_dup(res, row, 18, &oom);
	if (oom) {
		store_idp_clear(p);
		return STORE_ERROR;
	}
	return STORE_OK;
}

int
pgsql_idp_get(struct store *st, const char *name, struct store_idp *out)
{
	static const char sql[] = "SELECT " IDP_COLS " FROM idps WHERE name = $1";
	struct pgdb_params p = {0};

	memset(out, 0, sizeof(*out));
	pgdb_text(&p, name);
	return pgdb_one(st, sql, &p, idp_row, out);
}

int
pgsql_idp_get_id_jag(struct store *st, const char *issuer, struct store_idp *out)
{
	static const char sql[] =
	    "SELECT " IDP_COLS " FROM idps WHERE id_jag <> 0 AND issuer = $1 ORDER BY id LIMIT 1";
	struct pgdb_params p = {0};

	memset(out, 0, sizeof(*out));
	pgdb_text(&p, issuer);
	return pgdb_one(st, sql, &p, idp_row, out);
}

struct idp_visit {
	store_idp_fn fn;
	void *arg;
};

static int
idp_visit_row(PGresult *res, int row, void *arg)
{
	struct idp_visit *v = arg;
	struct store_idp p;
	int rc;

	memset(&p, 0, sizeof(p));
	if (idp_row(res, row, &p) != STORE_OK)
		return STORE_ERROR;
	rc = v->fn(&p, v->arg);
	store_idp_clear(&p);
	return rc;
}

int
pgsql_idp_list(struct store *st, store_idp_fn fn, void *arg)
{
	static const char sql[] = "SELECT " IDP_COLS " FROM idps ORDER BY name";
	struct idp_visit v = {fn, arg};

	return pgdb_each(st, sql, NULL, idp_visit_row, &v);
}

int
pgsql_idp_remove(struct store *st, const char *name, int64_t now)
{
	/* As on SQLite: the provider and its mappings go, its users' live access tokens
	 * join the denylist and their families end. */
	static const char del[] = "DELETE FROM idps WHERE name = $1";
	static const char jtis[] =
	    "INSERT INTO revoked_jtis(jti, expires_at, revoked_at) "
	    "SELECT t.access_jti, t.access_expires_at, $1 FROM refresh_tokens t "
	    "JOIN token_families f ON f.family_id = t.family_id "
	    "JOIN users u ON u.id = f.user_id "
	    "WHERE u.idp = $2 AND f.revoked_at IS NULL AND t.access_jti IS NOT NULL "
	    "AND t.access_expires_at > $1 ON CONFLICT(jti) DO NOTHING";
	static const char fams[] =
	    "UPDATE token_families SET revoked_at = $1, "
	    "revoke_reason = 'identity provider removed' "
	    "WHERE revoked_at IS NULL AND user_id IN (SELECT id FROM users WHERE idp = $2)";
	struct pgdb_params p = {0};
	int rc;

	pgdb_text(&p, name);
	if ((rc = pgdb_exec_found(st, del, &p)) != STORE_OK)
		return rc;
	memset(&p, 0, sizeof(p));
	pgdb_int(&p, now);
	pgdb_text(&p, name);
	if ((rc = pgdb_exec(st, jtis, &p, NULL)) != STORE_OK)
		return rc;
	return pgdb_exec(st, fams, &p, NULL);
}

int
pgsql_idp_set_secret(struct store *st, int64_t id, const unsigned char *enc, size_t len)
{
	static const char sql[] = "UPDATE idps SET client_secret_enc = $1 WHERE id = $2";
	struct pgdb_params p = {0};

	pgdb_blob(&p, enc, len);
	pgdb_int(&p, id);
	return pgdb_exec_found(st, sql, &p);
}

int
pgsql_idp_map_put(struct store *st, int64_t idp, const char *group, int64_t resource,
    const char *scopes, int64_t now)
{
	static const char sql[] =
	    "INSERT INTO idp_group_maps(idp, group_name, resource, scopes, created_at) "
	    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT(idp, group_name, resource) "
	    "DO UPDATE SET scopes = excluded.scopes";
	struct pgdb_params p = {0};

	pgdb_int(&p, idp);
	pgdb_text(&p, group);
	pgdb_int(&p, resource);
	pgdb_text(&p, scopes);
	pgdb_int(&p, now);
	return pgdb_exec(st, sql, &p, NULL);
}

int
pgsql_idp_map_remove(struct store *st, int64_t idp, const char *group, int64_t resource)
{
	static const char sql[] =
	    "DELETE FROM idp_group_maps WHERE idp = $1 AND group_name = $2 AND resource = $3";
	struct pgdb_params p = {0};

	pgdb_int(&p, idp);
	pgdb_text(&p, group);
	pgdb_int(&p, resource);
	return pgdb_exec_found(st, sql, &p);
}

struct map_visit {
	store_idp_map_fn fn;
	void *arg;
};

static int
map_visit_row(PGresult *res, int row, void *arg)
{
	struct map_visit *v = arg;

	return v->fn(pgdb_col_text(res, row, 0), pgdb_col_text(res, row, 1),
	    pgdb_col_text(res, row, 2), pgdb_col_text(res, row, 3), v->arg);
}

int
pgsql_idp_map_list(struct store *st, int64_t idp, store_idp_map_fn fn, void *arg)
{
	static const char sql[] =
	    "SELECT p.name, m.group_name, r.uri, m.scopes FROM idp_group_maps m "
	    "JOIN idps p ON p.id = m.idp JOIN resources r ON r.id = m.resource "
	    "WHERE $1::bigint = 0 OR m.idp = $1::bigint ORDER BY p.name, m.group_name, r.uri";
	struct pgdb_params p = {0};
	struct map_visit v = {fn, arg};

	pgdb_int(&p, idp);
	return pgdb_each(st, sql, &p, map_visit_row, &v);
}

/* ---- sign-ins in progress ---- */

int
pgsql_upstream_login_add(struct store *st, const unsigned char *state_hash,
    const struct store_upstream_login *l)
{
	static const char sql[] =
	    "INSERT INTO upstream_logins(state_hash, idp, browser_hash, nonce, code_verifier, "
	    "authorize_query, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
	struct pgdb_params p = {0};

	pgdb_blob(&p, state_hash, STORE_UPSTREAM_HASH_LEN);
	pgdb_text(&p, l->idp);
	pgdb_blob(&p, l->browser_hash, STORE_UPSTREAM_HASH_LEN);
	pgdb_text(&p, l->nonce);
	pgdb_text(&p, l->code_verifier);
	pgdb_text(&p, l->authorize_query);
	pgdb_int(&p, l->created_at);
	pgdb_int(&p, l->expires_at);
	return pgdb_exec(st, sql, &p, NULL);
}

static int
upstream_login_row(PGresult *res, int row, void *arg)
{
	struct store_upstream_login *l = arg;
	unsigned char *b;
	size_t n = 0;
	int oom = 0;

	l->idp = pgdb_col_dup(res, row, 0, &oom);
	if ((b = pgdb_col_blob(res, row, 1, &n, &oom)) != NULL && n == STORE_UPSTREAM_HASH_LEN)
		memcpy(l->browser_hash, b, STORE_UPSTREAM_HASH_LEN);
	free(b);
	l->nonce = pgdb_col_dup(res, row, 2, &oom);
	l->code_verifier = pgdb_col_dup(res, row, 3, &oom);
	l->authorize_query = pgdb_col_dup(res, row, 4, &oom);
	l->created_at = pgdb_col_int(res, row, 5);
	l->expires_at = pgdb_col_int(res, row, 6);
	if (oom) {
		store_upstream_login_clear(l);
		return STORE_ERROR;
	}
	return STORE_OK;
}

int
pgsql_upstream_login_take(struct store *st, const unsigned char *state_hash,
    struct store_upstream_login *out)
{
	/* One statement: of two nodes taking the same state at once, the second waits for
	 * the first's row lock and then deletes nothing. */
	static const char sql[] =
	    "DELETE FROM upstream_logins WHERE state_hash = $1 RETURNING idp, browser_hash, nonce, "
	    "code_verifier, authorize_query, created_at, expires_at";
	struct pgdb_params p = {0};

	memset(out, 0, sizeof(*out));
	pgdb_blob(&p, state_hash, STORE_UPSTREAM_HASH_LEN);
	return pgdb_one(st, sql, &p, upstream_login_row, out);
}
