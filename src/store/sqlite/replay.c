/* Assertions used once (ID-JAGs, client assertions): the replay cache used_jtis. */
#include "config.h"

#include "store/sqlite/db.h"

int
sqlite_jti_use(struct store *st, const unsigned char key_hash[32], int64_t expires_at,
    int64_t now)
{
	/* One conditional statement: a new key is inserted, an expired record is taken over,
	 * a live one is left alone and changes no row. */
	static const char sql[] =
	    "INSERT INTO used_jtis(key_hash, expires_at) VALUES (?1, ?2) "
	    "ON CONFLICT(key_hash) DO UPDATE SET expires_at = excluded.expires_at "
	    "WHERE used_jtis.expires_at < ?3";
	sqlite3_stmt *s = db_stmt(st, sql);
	int rc;

	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_blob(s, 1, key_hash, 32, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, expires_at);
	sqlite3_bind_int64(s, 3, now);
	rc = db_exec_stmt(s);
	if (rc == STORE_OK && sqlite3_changes(db_handle(st)) == 0)
		rc = STORE_CONFLICT;
	return rc;
}
