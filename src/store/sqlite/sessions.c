/* Browser login sessions and remembered consent. */
#include "config.h"

#include <string.h>

#include "store/sqlite/db.h"

int
sqlite_session_add(struct store *st, const unsigned char *hash, size_t len, int64_t user_id,
    int64_t auth_time, int64_t now, int64_t expires_at)
{
	static const char sql[] =
	    "INSERT INTO sessions(id_hash, user_id, auth_time, created_at, expires_at) "
	    "VALUES (?, ?, ?, ?, ?)";
	sqlite3_stmt *s = db_stmt(st, sql);

	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_blob(s, 1, hash, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, user_id);
	sqlite3_bind_int64(s, 3, auth_time);
	sqlite3_bind_int64(s, 4, now);
	sqlite3_bind_int64(s, 5, expires_at);
	return db_exec_stmt(s);
}

struct session_row {
	int64_t *user_id, *auth_time;
};

static int
session_row(sqlite3_stmt *s, void *arg)
{
	struct session_row *r = arg;

	*r->user_id = sqlite3_column_int64(s, 0);
	*r->auth_time = sqlite3_column_int64(s, 1);
	return STORE_OK;
}

int
sqlite_session_get(struct store *st, const unsigned char *hash, size_t len, int64_t now,
    int64_t *user_id, int64_t *auth_time)
{
	static const char sql[] =
	    "SELECT s.user_id, s.auth_time FROM sessions s JOIN users u ON u.id = s.user_id "
	    "WHERE s.id_hash = ? AND s.expires_at > ? AND u.disabled = 0";
	sqlite3_stmt *s = db_stmt(st, sql);
	struct session_row r = {user_id, auth_time};

	*user_id = 0;
	*auth_time = 0;
	if (s != NULL) {
		sqlite3_bind_blob(s, 1, hash, (int)len, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, now);
	}
	return db_one(s, session_row, &r);
}

int
sqlite_session_delete(struct store *st, const unsigned char *hash, size_t len)
{
	static const char sql[] = "DELETE FROM sessions WHERE id_hash = ?";
	sqlite3_stmt *s = db_stmt(st, sql);

	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_blob(s, 1, hash, (int)len, SQLITE_STATIC);
	return db_exec_stmt(s);
}

int
sqlite_consent_check(struct store *st, int64_t user_id, int64_t client, const char *resources,
    const char *scope, int64_t now)
{
	static const char sql[] =
	    "SELECT 1 FROM consents WHERE user_id = ? AND client = ? AND resources = ? "
	    "AND scope = ? AND expires_at > ?";
	sqlite3_stmt *s = db_stmt(st, sql);

	if (s != NULL) {
		sqlite3_bind_int64(s, 1, user_id);
		sqlite3_bind_int64(s, 2, client);
		sqlite3_bind_text(s, 3, resources, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, scope, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 5, now);
	}
	return db_one(s, db_row_exists, NULL);
}

int
sqlite_consent_put(struct store *st, int64_t user_id, int64_t client, const char *resources,
    const char *scope, int64_t now, int64_t expires_at)
{
	static const char sql[] =
	    "INSERT INTO consents(user_id, client, resources, scope, created_at, expires_at) "
	    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(user_id, client, resources, scope) "
	    "DO UPDATE SET created_at = excluded.created_at, expires_at = excluded.expires_at";
	sqlite3_stmt *s = db_stmt(st, sql);

	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(s, 1, user_id);
	sqlite3_bind_int64(s, 2, client);
	sqlite3_bind_text(s, 3, resources, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, scope, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, now);
	sqlite3_bind_int64(s, 6, expires_at);
	return db_exec_stmt(s);
}
