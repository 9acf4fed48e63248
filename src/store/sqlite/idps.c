/* Upstream identity providers and the mapping of their groups to resources. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "store/sqlite/db.h"

#define IDP_COLS                                                                                 \
	"id, name, issuer, client_id, client_secret_enc, display_name, scopes, claim_user, "     \
	"claim_email, claim_groups, allowed_groups, jit, link_verified_email, allow_private, "   \
	"created_at, jwks_uri, jwks, id_jag, id_jag_clients"

int
sqlite_idp_add(struct store *st, const struct store_idp *p, int64_t *id)
{
	static const char sql[] =
	    "INSERT INTO idps(name, issuer, client_id, client_secret_enc, display_name, scopes, "
	    "claim_user, claim_email, claim_groups, allowed_groups, jit, link_verified_email, "
	    "allow_private, created_at, jwks_uri, jwks, id_jag, id_jag_clients) "
	    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
	sqlite3_stmt *s = db_stmt(st, sql);
	int rc;

	if (id != NULL)
		*id = 0;
	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_text(s, 1, p->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, p->issuer, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, p->client_id, -1, SQLITE_STATIC);
	if (p->client_secret_enc != NULL)
		sqlite3_bind_blob(s, 4, p->client_secret_enc, (int)p->client_secret_enc_len,
		    SQLITE_STATIC);
	sqlite3_bind_text(s, 5, p->display_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, p->scopes, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, p->claim_user, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, p->claim_email, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 9, p->claim_groups, -1, SQLITE_STATIC);
	db_bind_text(s, 10, p->allowed_groups);
	sqlite3_bind_int(s, 11, p->jit ? 1 : 0);
	sqlite3_bind_int(s, 12, p->link_verified_email ? 1 : 0);
	sqlite3_bind_int(s, 13, p->allow_private ? 1 : 0);
	sqlite3_bind_int64(s, 14, p->created_at);
	db_bind_text(s, 15, p->jwks_uri);
	db_bind_text(s, 16, p->jwks);
	sqlite3_bind_int(s, 17, p->id_jag ? 1 : 0);
	db_bind_text(s, 18, p->id_jag_clients);
	rc = db_exec_stmt(s);
	if (rc == STORE_OK && id != NULL)
		*id = sqlite3_last_insert_rowid(db_handle(st));
	return rc;
}

static int
idp_row(sqlite3_stmt *s, void *arg)
{
	struct store_idp *p = arg;
	const void *blob;
	int oom = 0, n;

	p->id = sqlite3_column_int64(s, 0);
	p->name = db_col_dup(s, 1, &oom);
	p->issuer = db_col_dup(s, 2, &oom);
	p->client_id = db_col_dup(s, 3, &oom);
	blob = sqlite3_column_blob(s, 4);
	n = sqlite3_column_bytes(s, 4);
	if (blob != NULL && n > 0) {
		if ((p->client_secret_enc = malloc((size_t)n)) == NULL)
			oom = 1;
		else {
			memcpy(p->client_secret_enc, blob, (size_t)n);
			p->client_secret_enc_len = (size_t)n;
		}
	}
	p->display_name = db_col_dup(s, 5, &oom);
	p->scopes = db_col_dup(s, 6, &oom);
	p->claim_user = db_col_dup(s, 7, &oom);
	p->claim_email = db_col_dup(s, 8, &oom);
	p->claim_groups = db_col_dup(s, 9, &oom);
	p->allowed_groups = db_col_dup(s, 10, &oom);
	p->jit = sqlite3_column_int(s, 11);
	p->link_verified_email = sqlite3_column_int(s, 12);
	p->allow_private = sqlite3_column_int(s, 13);
	p->created_at = sqlite3_column_int64(s, 14);
	p->jwks_uri = db_col_dup(s, 15, &oom);
	p->jwks = db_col_dup(s, 16, &oom);
	p->id_jag = sqlite3_column_int(s, 17);
	p->id_jag_clients = db_col_dup(s, 18, &oom);
	if (oom) {
		store_idp_clear(p);
		return STORE_ERROR;
	}
	return STORE_OK;
}

int
sqlite_idp_get(struct store *st, const char *name, struct store_idp *out)
{
	static const char sql[] = "SELECT " IDP_COLS " FROM idps WHERE name = ?";
	sqlite3_stmt *s = db_stmt(st, sql);

	memset(out, 0, sizeof(*out));
	if (s != NULL)
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	return db_one(s, idp_row, out);
}

int
sqlite_idp_get_id_jag(struct store *st, const char *issuer, struct store_idp *out)
{
	static const char sql[] =
	    "SELECT " IDP_COLS " FROM idps WHERE id_jag <> 0 AND issuer = ? ORDER BY id LIMIT 1";
	sqlite3_stmt *s = db_stmt(st, sql);

	memset(out, 0, sizeof(*out));
	if (s != NULL)
		sqlite3_bind_text(s, 1, issuer, -1, SQLITE_STATIC);
	return db_one(s, idp_row, out);
}

struct idp_visit {
	store_idp_fn fn;
	void *arg;
};

static int
idp_visit_row(sqlite3_stmt *s, void *arg)
{
	struct idp_visit *v = arg;
	struct store_idp p;
	int rc;

	memset(&p, 0, sizeof(p));
	if (idp_row(s, &p) != STORE_OK)
		return STORE_ERROR;
	rc = v->fn(&p, v->arg);
	store_idp_clear(&p);
	return rc;
}

int
sqlite_idp_list(struct store *st, store_idp_fn fn, void *arg)
{
	static const char sql[] = "SELECT " IDP_COLS " FROM idps ORDER BY name";
	struct idp_visit v = {fn, arg};

	return db_each(db_stmt(st, sql), idp_visit_row, &v);
}

int
sqlite_idp_remove(struct store *st, const char *name, int64_t now)
{
	/* The users' live access tokens join the denylist, their families end, then the
	 * provider and (by cascade) its mappings go. */
	static const char jtis[] =
	    "INSERT INTO revoked_jtis(jti, expires_at, revoked_at) "
	    "SELECT t.access_jti, t.access_expires_at, ? FROM refresh_tokens t "
	    "JOIN token_families f ON f.family_id = t.family_id "
	    "JOIN users u ON u.id = f.user_id "
	    "WHERE u.idp = ? AND f.revoked_at IS NULL AND t.access_jti IS NOT NULL "
	    "AND t.access_expires_at > ? ON CONFLICT(jti) DO NOTHING";
	static const char fams[] =
	    "UPDATE token_families SET revoked_at = ?, revoke_reason = 'identity provider removed' "
	    "WHERE revoked_at IS NULL AND user_id IN (SELECT id FROM users WHERE idp = ?)";
	static const char del[] = "DELETE FROM idps WHERE name = ?";
	sqlite3_stmt *s;
	int rc;

	if ((s = db_stmt(st, del)) == NULL)
		return STORE_ERROR;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if ((rc = db_exec_stmt(s)) != STORE_OK)
		return rc;
	if (sqlite3_changes(db_handle(st)) == 0)
		return STORE_NOTFOUND;
	if ((s = db_stmt(st, jtis)) == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now);
	if ((rc = db_exec_stmt(s)) != STORE_OK)
		return rc;
	if ((s = db_stmt(st, fams)) == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	return db_exec_stmt(s);
}

int
sqlite_idp_set_secret(struct store *st, int64_t id, const unsigned char *enc, size_t len)
{
	static const char sql[] = "UPDATE idps SET client_secret_enc = ? WHERE id = ?";
	sqlite3_stmt *s = db_stmt(st, sql);
	int rc;

	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_blob(s, 1, enc, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, id);
	rc = db_exec_stmt(s);
	if (rc == STORE_OK && sqlite3_changes(db_handle(st)) == 0)
		rc = STORE_NOTFOUND;
	return rc;
}

int
sqlite_idp_map_put(struct store *st, int64_t idp, const char *group, int64_t resource,
    const char *scopes, int64_t now)
{
	static const char sql[] =
	    "INSERT INTO idp_group_maps(idp, group_name, resource, scopes, created_at) "
	    "VALUES (?,?,?,?,?) ON CONFLICT(idp, group_name, resource) "
	    "DO UPDATE SET scopes = excluded.scopes";
	sqlite3_stmt *s = db_stmt(st, sql);

	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(s, 1, idp);
	sqlite3_bind_text(s, 2, group, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, resource);
	db_bind_text(s, 4, scopes);
	sqlite3_bind_int64(s, 5, now);
	return db_exec_stmt(s);
}

int
sqlite_idp_map_remove(struct store *st, int64_t idp, const char *group, int64_t resource)
{
	static const char sql[] =
	    "DELETE FROM idp_group_maps WHERE idp = ? AND group_name = ? AND resource = ?";
	sqlite3_stmt *s = db_stmt(st, sql);
	int rc;

	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(s, 1, idp);
	sqlite3_bind_text(s, 2, group, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, resource);
	rc = db_exec_stmt(s);
	if (rc == STORE_OK && sqlite3_changes(db_handle(st)) == 0)
		rc = STORE_NOTFOUND;
	return rc;
}

struct map_visit {
	store_idp_map_fn fn;
	void *arg;
};

static int
map_visit_row(sqlite3_stmt *s, void *arg)
{
	struct map_visit *v = arg;

	return v->fn((const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1),
	    (const char *)sqlite3_column_text(s, 2), (const char *)sqlite3_column_text(s, 3), v->arg);
}

int
sqlite_idp_map_list(struct store *st, int64_t idp, store_idp_map_fn fn, void *arg)
{
	static const char sql[] =
	    "SELECT p.name, m.group_name, r.uri, m.scopes FROM idp_group_maps m "
	    "JOIN idps p ON p.id = m.idp JOIN resources r ON r.id = m.resource "
	    "WHERE ? = 0 OR m.idp = ? ORDER BY p.name, m.group_name, r.uri";
	sqlite3_stmt *s = db_stmt(st, sql);
	struct map_visit v = {fn, arg};

	if (s != NULL) {
		sqlite3_bind_int64(s, 1, idp);
		sqlite3_bind_int64(s, 2, idp);
	}
	return db_each(s, map_visit_row, &v);
}

/* ---- sign-ins in progress ---- */

int
sqlite_upstream_login_add(struct store *st, const unsigned char *state_hash,
    const struct store_upstream_login *l)
{
	static const char sql[] =
	    "INSERT INTO upstream_logins(state_hash, idp, browser_hash, nonce, code_verifier, "
	    "authorize_query, created_at, expires_at) VALUES (?,?,?,?,?,?,?,?)";
	sqlite3_stmt *s = db_stmt(st, sql);

	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_blob(s, 1, state_hash, STORE_UPSTREAM_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, l->idp, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 3, l->browser_hash, STORE_UPSTREAM_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, l->nonce, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, l->code_verifier, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, l->authorize_query, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 7, l->created_at);
	sqlite3_bind_int64(s, 8, l->expires_at);
	return db_exec_stmt(s);
}

static int
upstream_login_row(sqlite3_stmt *s, void *arg)
{
	struct store_upstream_login *l = arg;
	const void *b = sqlite3_column_blob(s, 1);
	int oom = 0;

	l->idp = db_col_dup(s, 0, &oom);
	if (b != NULL && sqlite3_column_bytes(s, 1) == STORE_UPSTREAM_HASH_LEN)
		memcpy(l->browser_hash, b, STORE_UPSTREAM_HASH_LEN);
	l->nonce = db_col_dup(s, 2, &oom);
	l->code_verifier = db_col_dup(s, 3, &oom);
	l->authorize_query = db_col_dup(s, 4, &oom);
	l->created_at = sqlite3_column_int64(s, 5);
	l->expires_at = sqlite3_column_int64(s, 6);
	if (oom) {
		store_upstream_login_clear(l);
		return STORE_ERROR;
	}
	return STORE_OK;
}

int
sqlite_upstream_login_take(struct store *st, const unsigned char *state_hash,
    struct store_upstream_login *out)
{
	static const char sql[] =
	    "DELETE FROM upstream_logins WHERE state_hash = ? RETURNING idp, browser_hash, nonce, "
	    "code_verifier, authorize_query, created_at, expires_at";
	sqlite3_stmt *s = db_stmt(st, sql);

	memset(out, 0, sizeof(*out));
	if (s != NULL)
		sqlite3_bind_blob(s, 1, state_hash, STORE_UPSTREAM_HASH_LEN, SQLITE_STATIC);
	return db_one(s, upstream_login_row, out);
}
