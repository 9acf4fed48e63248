/* Refresh token families, refresh tokens (SHA-256 hashes) and revoked access tokens. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "store/postgresql/db.h"

int
pgsql_family_add(struct store *st, const struct store_family *f)
{
	static const char sql[] =
	    "INSERT INTO token_families(family_id, client, user_id, resources, scope, auth_time, "
	    "created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
	struct pgdb_params p = {0};

	pgdb_text(&p, f->family_id);
	pgdb_int(&p, f->client);
	pgdb_int(&p, f->user_id);
	pgdb_text(&p, f->resources);
	pgdb_text(&p, f->scope);
	pgdb_int(&p, f->auth_time);
	pgdb_int(&p, f->created_at);
	pgdb_int(&p, f->expires_at);
	return pgdb_exec(st, sql, &p, NULL);
}

int
pgsql_family_revoke(struct store *st, const char *family_id, int64_t now, const char *reason)
{
	static const char fam[] =
	    "UPDATE token_families SET revoked_at = $1, revoke_reason = $2 "
	    "WHERE family_id = $3 AND revoked_at IS NULL";
	static const char jtis[] =
	    "INSERT INTO revoked_jtis(jti, expires_at, revoked_at) "
	    "SELECT access_jti, access_expires_at, $1 FROM refresh_tokens "
	    "WHERE family_id = $2 AND access_jti IS NOT NULL AND access_expires_at > $1 "
	    "ON CONFLICT(jti) DO NOTHING";
	struct pgdb_params p = {0};
	int rc;

	pgdb_int(&p, now);
	pgdb_text(&p, reason);
	pgdb_text(&p, family_id);
	if ((rc = pgdb_exec(st, fam, &p, NULL)) != STORE_OK)
		return rc;
	memset(&p, 0, sizeof(p));
	pgdb_int(&p, now);
	pgdb_text(&p, family_id);
	return pgdb_exec(st, jtis, &p, NULL);
}

int
pgsql_refresh_add(struct store *st, const unsigned char *hash, const char *family_id,
    const char *scope, int64_t issued_at, int64_t expires_at, const char *access_jti,
    int64_t access_expires_at)
{
	static const char sql[] =
	    "INSERT INTO refresh_tokens(token_hash, family_id, scope, issued_at, expires_at, "
	    "access_jti, access_expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
	struct pgdb_params p = {0};

	pgdb_blob(&p, hash, 32);
	pgdb_text(&p, family_id);
	pgdb_text(&p, scope);
	pgdb_int(&p, issued_at);
	pgdb_int(&p, expires_at);
	pgdb_text(&p, access_jti);
	pgdb_int_or_null(&p, access_expires_at);
	return pgdb_exec(st, sql, &p, NULL);
}

static int
refresh_row(PGresult *res, int row, void *arg)
{
	struct store_refresh *r = arg;
	struct store_family *f = &r->family;
	unsigned char *h;
	size_t n = 0;
	int oom = 0;

	if ((h = pgdb_col_blob(res, row, 0, &n, &oom)) != NULL && n == sizeof(r->hash))
		memcpy(r->hash, h, sizeof(r->hash));
	free(h);
	r->family_id = pgdb_col_dup(res, row, 1, &oom);
	r->scope = pgdb_col_dup(res, row, 2, &oom);
	r->issued_at = pgdb_col_int(res, row, 3);
	r->expires_at = pgdb_col_int(res, row, 4);
	r->rotated_at = pgdb_col_int(res, row, 5);
	f->family_id = pgdb_col_dup(res, row, 1, &oom);
	f->client = pgdb_col_int(res, row, 6);
	f->client_id = pgdb_col_dup(res, row, 7, &oom);
	f->user_id = pgdb_col_int(res, row, 8);
	f->user_name = pgdb_col_dup(res, row, 9, &oom);
	f->user_disabled = (int)pgdb_col_int(res, row, 10);
	f->resources = pgdb_col_dup(res, row, 11, &oom);
	f->scope = pgdb_col_dup(res, row, 12, &oom);
	f->auth_time = pgdb_col_int(res, row, 13);
	f->created_at = pgdb_col_int(res, row, 14);
	f->expires_at = pgdb_col_int(res, row, 15);
	f->revoked_at = pgdb_col_int(res, row, 16);
	f->user_idp = pgdb_col_dup(res, row, 17, &oom);
	if (oom) {
		store_refresh_clear(r);
		return STORE_ERROR;
	}
	return STORE_OK;
}

int
pgsql_refresh_get(struct store *st, const unsigned char *hash, struct store_refresh *out)
{
	/* The family row is locked for the rest of the transaction, so that a revocation
	 * of the family (a reuse seen by another node, /revoke) and this refresh happen one
	 * after the other: a revocation never misses the token this refresh issues. */
	static const char sql[] =
	    "SELECT t.token_hash, t.family_id, t.scope, t.issued_at, t.expires_at, t.rotated_at, "
	    "f.client, c.client_id, f.user_id, u.name, u.disabled, f.resources, f.scope, "
	    "f.auth_time, f.created_at, f.expires_at, f.revoked_at, u.idp "
	    "FROM refresh_tokens t JOIN token_families f ON f.family_id = t.family_id "
	    "JOIN clients c ON c.id = f.client JOIN users u ON u.id = f.user_id "
	    "WHERE t.token_hash = $1 FOR UPDATE OF f";
	struct pgdb_params p = {0};

	memset(out, 0, sizeof(*out));
	pgdb_blob(&p, hash, 32);
	return pgdb_one(st, sql, &p, refresh_row, out);
}

struct taken {
	struct store_refresh *token;
	int used_now;
};

static int
taken_row(PGresult *res, int row, void *arg)
{
	struct taken *t = arg;

	t->used_now = (int)pgdb_col_int(res, row, 18);
	return refresh_row(res, row, t->token);
}

/* One statement, one round trip: lock the family, mark the token used if nobody has,
 * and read both. The family's columns come from the locking CTE, which sees the latest
 * committed row (a revocation committed while this waited); the token's rotated_at is
 * the statement's snapshot, so whether this call won is what the UPDATE returned. The
 * family is locked before the token row is touched, the order a revocation and the old
 * read-then-update took, so no new deadlock between them. */
int
pgsql_refresh_take(struct store *st, const unsigned char *hash, int64_t now,
    struct store_refresh *out)
{
	static const char sql[] =
	    "WITH fam AS (SELECT family_id, client, user_id, resources, scope, auth_time, "
	    "created_at, expires_at, revoked_at FROM token_families WHERE family_id = "
	    "(SELECT family_id FROM refresh_tokens WHERE token_hash = $1) FOR UPDATE), "
	    "used AS (UPDATE refresh_tokens t SET rotated_at = $2 FROM fam "
	    "WHERE t.token_hash = $1 AND t.family_id = fam.family_id AND t.rotated_at IS NULL "
	    "RETURNING t.token_hash) "
	    "SELECT t.token_hash, t.family_id, t.scope, t.issued_at, t.expires_at, t.rotated_at, "
	    "f.client, c.client_id, f.user_id, u.name, u.disabled, f.resources, f.scope, "
	    "f.auth_time, f.created_at, f.expires_at, f.revoked_at, u.idp, "
	    "EXISTS (SELECT 1 FROM used) "
	    "FROM refresh_tokens t JOIN fam f ON f.family_id = t.family_id "
	    "JOIN clients c ON c.id = f.client JOIN users u ON u.id = f.user_id "
	    "WHERE t.token_hash = $1";
	struct pgdb_params p = {0};
	struct taken t = {out, 0};
	int rc;

	memset(out, 0, sizeof(*out));
	pgdb_blob(&p, hash, 32);
	pgdb_int(&p, now);
	if ((rc = pgdb_one(st, sql, &p, taken_row, &t)) != STORE_OK)
		return rc;
	return t.used_now ? STORE_OK : STORE_CONFLICT;
}

int
pgsql_jti_revoke(struct store *st, const char *jti, int64_t expires_at, int64_t now)
{
	static const char sql[] =
	    "INSERT INTO revoked_jtis(jti, expires_at, revoked_at) VALUES ($1, $2, $3) "
	    "ON CONFLICT(jti) DO NOTHING";
	struct pgdb_params p = {0};

	pgdb_text(&p, jti);
	pgdb_int(&p, expires_at);
	pgdb_int(&p, now);
	return pgdb_exec(st, sql, &p, NULL);
}

int
pgsql_jti_revoked(struct store *st, const char *jti)
{
	static const char sql[] = "SELECT 1 FROM revoked_jtis WHERE jti = $1";
	struct pgdb_params p = {0};

	pgdb_text(&p, jti);
	return pgdb_one(st, sql, &p, pgdb_row_exists, NULL);
}
