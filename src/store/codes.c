/* Authorization codes: stored as SHA-256 hashes, redeemed once. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "store/db.h"

void
store_code_clear(struct store_code *c)
{
	if (c == NULL)
		return;
	free(c->redirect_uri);
	free(c->code_challenge);
	free(c->resources);
	free(c->scope);
	free(c->family_id);
	memset(c, 0, sizeof(*c));
}

int
store_code_add(struct store *st, const struct store_code *c)
{
	static const char sql[] =
	    "INSERT INTO auth_codes(code_hash, client, user_id, redirect_uri, redirect_uri_given, "
	    "code_challenge, resources, scope, auth_time, created_at, expires_at) "
	    "VALUES (?,?,?,?,?,?,?,?,?,?,?)";
	sqlite3_stmt *s = db_stmt(st, sql);

	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_blob(s, 1, c->hash, sizeof(c->hash), SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, c->client);
	sqlite3_bind_int64(s, 3, c->user_id);
	db_bind_text(s, 4, c->redirect_uri);
	sqlite3_bind_int(s, 5, c->redirect_uri_given ? 1 : 0);
	db_bind_text(s, 6, c->code_challenge);
	db_bind_text(s, 7, c->resources);
	db_bind_text(s, 8, c->scope);
	sqlite3_bind_int64(s, 9, c->auth_time);
	sqlite3_bind_int64(s, 10, c->created_at);
	sqlite3_bind_int64(s, 11, c->expires_at);
	return db_exec_stmt(s);
}

static int
code_row(sqlite3_stmt *s, void *arg)
{
	struct store_code *c = arg;
	const void *h = sqlite3_column_blob(s, 0);
	int oom = 0;

	if (h != NULL && sqlite3_column_bytes(s, 0) == (int)sizeof(c->hash))
		memcpy(c->hash, h, sizeof(c->hash));
	c->client = sqlite3_column_int64(s, 1);
	c->user_id = sqlite3_column_int64(s, 2);
	c->redirect_uri = db_col_dup(s, 3, &oom);
	c->redirect_uri_given = sqlite3_column_int(s, 4);
	c->code_challenge = db_col_dup(s, 5, &oom);
	c->resources = db_col_dup(s, 6, &oom);
	c->scope = db_col_dup(s, 7, &oom);
	c->auth_time = sqlite3_column_int64(s, 8);
	c->created_at = sqlite3_column_int64(s, 9);
	c->expires_at = sqlite3_column_int64(s, 10);
	c->redeemed_at = sqlite3_column_int64(s, 11);
	c->family_id = db_col_dup(s, 12, &oom);
	if (oom) {
		store_code_clear(c);
		return STORE_ERROR;
	}
	return STORE_OK;
}

int
store_code_redeem(struct store *st, const unsigned char *hash, int64_t now,
    const char *family_id, struct store_code *out)
{
	static const char get[] =
	    "SELECT code_hash, client, user_id, redirect_uri, redirect_uri_given, code_challenge, "
	    "resources, scope, auth_time, created_at, expires_at, redeemed_at, family_id "
	    "FROM auth_codes WHERE code_hash = ?";
	static const char mark[] =
	    "UPDATE auth_codes SET redeemed_at = ?, family_id = ? "
	    "WHERE code_hash = ? AND redeemed_at IS NULL";
	sqlite3_stmt *s = db_stmt(st, get);
	int rc;

	memset(out, 0, sizeof(*out));
	if (s != NULL)
		sqlite3_bind_blob(s, 1, hash, 32, SQLITE_STATIC);
	if ((rc = db_one(s, code_row, out)) != STORE_OK)
		return rc;
	if (out->redeemed_at != 0)
		return STORE_CONFLICT;
	if ((s = db_stmt(st, mark)) == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_text(s, 2, family_id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 3, hash, 32, SQLITE_STATIC);
	if ((rc = db_exec_stmt(s)) != STORE_OK)
		return rc;
	/* The caller holds the write lock, so nobody redeemed it in between. */
	return sqlite3_changes(db_handle(st)) == 1 ? STORE_OK : STORE_CONFLICT;
}
