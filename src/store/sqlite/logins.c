/* Failed logins per account and per source address (login_failures), and the rate
 * limits every node counts together (rate_limits). */
#include "config.h"

#include <string.h>

#include "store/sqlite/db.h"

int
sqlite_login_failure_add(struct store *st, const char *subject, int64_t now_ms,
    int64_t forget_before_ms, int64_t *failures)
{
	/* One statement, so that concurrent failures of one subject each count. */
	static const char sql[] =
	    "INSERT INTO login_failures(subject, failures, last_failure, blocked_until) "
	    "VALUES (?1, 1, ?2, 0) ON CONFLICT(subject) DO UPDATE SET "
	    "failures = CASE WHEN last_failure < ?3 THEN 1 ELSE failures + 1 END, "
	    "last_failure = ?2 RETURNING failures";
	sqlite3_stmt *s = db_stmt(st, sql);

	*failures = 0;
	if (s != NULL) {
		db_bind_text(s, 1, subject);
		sqlite3_bind_int64(s, 2, now_ms);
		sqlite3_bind_int64(s, 3, forget_before_ms);
	}
	return db_one(s, db_row_int64, failures);
}

int
sqlite_login_block(struct store *st, const char *subject, int64_t until_ms)
{
	static const char sql[] =
	    "UPDATE login_failures SET blocked_until = max(blocked_until, ?2) WHERE subject = ?1";
	sqlite3_stmt *s = db_stmt(st, sql);

	if (s == NULL)
		return STORE_ERROR;
	db_bind_text(s, 1, subject);
	sqlite3_bind_int64(s, 2, until_ms);
	return db_exec_stmt(s);
}

int
sqlite_login_blocked_until(struct store *st, const char *subject, int64_t *until_ms)
{
	static const char sql[] = "SELECT blocked_until FROM login_failures WHERE subject = ?";
	sqlite3_stmt *s = db_stmt(st, sql);
	int rc;

	*until_ms = 0;
	if (s != NULL)
		db_bind_text(s, 1, subject);
	rc = db_one(s, db_row_int64, until_ms);
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

int
sqlite_login_failures_clear(struct store *st, const char *subject)
{
	static const char sql[] = "DELETE FROM login_failures WHERE subject = ?";
	sqlite3_stmt *s = db_stmt(st, sql);

	if (s == NULL)
		return STORE_ERROR;
	db_bind_text(s, 1, subject);
	return db_exec_stmt(s);
}

int
sqlite_rate_take(struct store *st, const char *key, int64_t window_start, int64_t *count)
{
	/* One statement, so that concurrent events each count. */
	static const char sql[] =
	    "INSERT INTO rate_limits(key, window_start, count) VALUES (?1, ?2, 1) "
	    "ON CONFLICT(key, window_start) DO UPDATE SET count = count + 1 RETURNING count";
	sqlite3_stmt *s = db_stmt(st, sql);

	*count = 0;
	if (s != NULL) {
		db_bind_text(s, 1, key);
		sqlite3_bind_int64(s, 2, window_start);
	}
	return db_one(s, db_row_int64, count);
}
