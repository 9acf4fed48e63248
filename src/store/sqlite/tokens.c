/* Refresh token families, refresh tokens (SHA-256 hashes) and revoked access tokens. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "store/sqlite/db.h"



int
sqlite_family_add(struct store *st, const struct store_family *f)
{
	static const char sql[] =
	    "INSERT INTO token_families(family_id, client, user_id, resources, scope, auth_time, "
	    "created_at, expires_at) VALUES (?,?,?,?,?,?,?,?)";
	sqlite3_stmt *s = db_stmt(st, sql);

	if (s == NULL)
		return STORE_ERROR;
	db_bind_text(s, 1, f->family_id);
	sqlite3_bind_int64(s, 2, f->client);
	sqlite3_bind_int64(s, 3, f->user_id);
	db_bind_text(s, 4, f->resources);
	db_bind_text(s, 5, f->scope);
	sqlite3_bind_int64(s, 6, f->auth_time);
	sqlite3_bind_int64(s, 7, f->created_at);
	sqlite3_bind_int64(s, 8, f->expires_at);
	return db_exec_stmt(s);
}

int
sqlite_family_revoke(struct store *st, const char *family_id, int64_t now, const char *reason)
{
	static const char fam[] =
	    "UPDATE token_families SET revoked_at = ?, revoke_reason = ? "
	    "WHERE family_id = ? AND revoked_at IS NULL";
	static const char jtis[] =
	    "INSERT INTO revoked_jtis(jti, expires_at, revoked_at) "
	    "SELECT access_jti, access_expires_at, ? FROM refresh_tokens "
	    "WHERE family_id = ? AND access_jti IS NOT NULL AND access_expires_at > ? "
	    "ON CONFLICT(jti) DO NOTHING";
	sqlite3_stmt *s = db_stmt(st, fam);
	int rc;

	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(s, 1, now);
	db_bind_text(s, 2, reason);
	sqlite3_bind_text(s, 3, family_id, -1, SQLITE_STATIC);
	if ((rc = db_exec_stmt(s)) != STORE_OK)
		return rc;
	if ((s = db_stmt(st, jtis)) == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_text(s, 2, family_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now);
	return db_exec_stmt(s);
}

int
sqlite_refresh_add(struct store *st, const unsigned char *hash, const char *family_id,
    const char *scope, int64_t issued_at, int64_t expires_at, const char *access_jti,
    int64_t access_expires_at)
{
	static const char sql[] =
	    "INSERT INTO refresh_tokens(token_hash, family_id, scope, issued_at, expires_at, "
	    "access_jti, access_expires_at) VALUES (?,?,?,?,?,?,?)";
	sqlite3_stmt *s = db_stmt(st, sql);

	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_blob(s, 1, hash, 32, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, family_id, -1, SQLITE_STATIC);
	db_bind_text(s, 3, scope);
	sqlite3_bind_int64(s, 4, issued_at);
	sqlite3_bind_int64(s, 5, expires_at);
	db_bind_text(s, 6, access_jti);
	db_bind_int_or_null(s, 7, access_expires_at);
	return db_exec_stmt(s);
}

static int
refresh_row(sqlite3_stmt *s, void *arg)
{
	struct store_refresh *r = arg;
	struct store_family *f = &r->family;
	const void *h = sqlite3_column_blob(s, 0);
	int oom = 0;

	if (h != NULL && sqlite3_column_bytes(s, 0) == (int)sizeof(r->hash))
		memcpy(r->hash, h, sizeof(r->hash));
	r->family_id = db_col_dup(s, 1, &oom);
	r->scope = db_col_dup(s, 2, &oom);
	r->issued_at = sqlite3_column_int64(s, 3);
	r->expires_at = sqlite3_column_int64(s, 4);
	r->rotated_at = sqlite3_column_int64(s, 5);
	f->family_id = db_col_dup(s, 1, &oom);
	f->client = sqlite3_column_int64(s, 6);
	f->client_id = db_col_dup(s, 7, &oom);
	f->user_id = sqlite3_column_int64(s, 8);
	f->user_name = db_col_dup(s, 9, &oom);
	f->user_disabled = sqlite3_column_int(s, 10);
	f->resources = db_col_dup(s, 11, &oom);
	f->scope = db_col_dup(s, 12, &oom);
	f->auth_time = sqlite3_column_int64(s, 13);
	f->created_at = sqlite3_column_int64(s, 14);
	f->expires_at = sqlite3_column_int64(s, 15);
	f->revoked_at = sqlite3_column_int64(s, 16);
	f->user_idp = db_col_dup(s, 17, &oom);
	if (oom) {
		store_refresh_clear(r);
		return STORE_ERROR;
	}
	return STORE_OK;
}

int
sqlite_refresh_get(struct store *st, const unsigned char *hash, struct store_refresh *out)
{
	static const char sql[] =
	    "SELECT t.token_hash, t.family_id, t.scope, t.issued_at, t.expires_at, t.rotated_at, "
	    "f.client, c.client_id, f.user_id, u.name, u.disabled, f.resources, f.scope, "
	    "f.auth_time, f.created_at, f.expires_at, f.revoked_at, u.idp "
	    "FROM refresh_tokens t JOIN token_families f ON f.family_id = t.family_id "
	    "JOIN clients c ON c.id = f.client JOIN users u ON u.id = f.user_id "
	    "WHERE t.token_hash = ?";
	sqlite3_stmt *s = db_stmt(st, sql);

	memset(out, 0, sizeof(*out));
	if (s != NULL)
		sqlite3_bind_blob(s, 1, hash, 32, SQLITE_STATIC);
	return db_one(s, refresh_row, out);
}

/* The write transaction is SQLite's only writer: reading, then marking, cannot race. */
int
sqlite_refresh_take(struct store *st, const unsigned char *hash, int64_t now,
    struct store_refresh *out)
{
	static const char sql[] =
	    "UPDATE refresh_tokens SET rotated_at = ? WHERE token_hash = ? AND rotated_at IS NULL";
	sqlite3_stmt *s;
	int rc;

	if ((rc = sqlite_refresh_get(st, hash, out)) != STORE_OK)
		return rc;
	if (out->rotated_at != 0)
		return STORE_CONFLICT;
	if ((s = db_stmt(st, sql)) == NULL)
		rc = STORE_ERROR;
	else {
		sqlite3_bind_int64(s, 1, now);
		sqlite3_bind_blob(s, 2, hash, 32, SQLITE_STATIC);
		rc = db_exec_stmt(s);
	}
	if (rc == STORE_OK && sqlite3_changes(db_handle(st)) != 1)
		rc = STORE_CONFLICT;
	if (rc != STORE_OK && rc != STORE_CONFLICT)
		store_refresh_clear(out);
	return rc;
}

int
sqlite_jti_revoke(struct store *st, const char *jti, int64_t expires_at, int64_t now)
{
	static const char sql[] =
	    "INSERT INTO revoked_jtis(jti, expires_at, revoked_at) VALUES (?, ?, ?) "
	    "ON CONFLICT(jti) DO NOTHING";
	sqlite3_stmt *s = db_stmt(st, sql);

	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_text(s, 1, jti, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, expires_at);
	sqlite3_bind_int64(s, 3, now);
	return db_exec_stmt(s);
}

int
sqlite_jti_revoked(struct store *st, const char *jti)
{
	static const char sql[] = "SELECT 1 FROM revoked_jtis WHERE jti = ?";
	sqlite3_stmt *s = db_stmt(st, sql);

	if (s != NULL)
		sqlite3_bind_text(s, 1, jti, -1, SQLITE_STATIC);
	return db_one(s, db_row_exists, NULL);
}
