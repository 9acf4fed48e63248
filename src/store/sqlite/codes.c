/* Authorization codes: stored as SHA-256 hashes, redeemed once. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "store/sqlite/db.h"


int
sqlite_code_add(struct store *st, const struct store_code *c)
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

#define CODE_COLS                                                                           \
	"code_hash, client, user_id, redirect_uri, redirect_uri_given, code_challenge, "   \
	"resources, scope, auth_time, created_at, expires_at, redeemed_at, family_id"

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
sqlite_code_redeem(struct store *st, const unsigned char *hash, int64_t now,
    const char *family_id, struct store_code *out)
{
	/* The redemption is this one conditional statement: whoever runs it first wins,
	 * whatever else runs at the same time. */
	static const char mark[] =
	    "UPDATE auth_codes SET redeemed_at = ?1, family_id = ?2 "
	    "WHERE code_hash = ?3 AND redeemed_at IS NULL RETURNING " CODE_COLS;
	static const char get[] = "SELECT " CODE_COLS " FROM auth_codes WHERE code_hash = ?";
	sqlite3_stmt *s = db_stmt(st, mark);
	int rc;

	memset(out, 0, sizeof(*out));
	if (s != NULL) {
		sqlite3_bind_int64(s, 1, now);
		sqlite3_bind_text(s, 2, family_id, -1, SQLITE_STATIC);
		sqlite3_bind_blob(s, 3, hash, 32, SQLITE_STATIC);
	}
	if ((rc = db_one(s, code_row, out)) != STORE_NOTFOUND)
		return rc;
	/* Not redeemed now: unknown, or redeemed before (then say by which family). */
	if ((s = db_stmt(st, get)) != NULL)
		sqlite3_bind_blob(s, 1, hash, 32, SQLITE_STATIC);
	if ((rc = db_one(s, code_row, out)) != STORE_OK)
		return rc;
	return STORE_CONFLICT;
}
