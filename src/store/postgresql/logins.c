/* Failed logins per account and per source address (login_failures), and the rate
 * limits every node counts together (rate_limits). */
#include "config.h"

#include <string.h>

#include "store/postgresql/db.h"

int
pgsql_login_failure_add(struct store *st, const char *subject, int64_t now_ms,
    int64_t forget_before_ms, int64_t *failures)
{
	/* One statement, so that concurrent failures of one subject, on any node, each
	 * count. */
	static const char sql[] =
	    "INSERT INTO login_failures(subject, failures, last_failure, blocked_until) "
	    "VALUES ($1, 1, $2, 0) ON CONFLICT(subject) DO UPDATE SET "
	    "failures = CASE WHEN login_failures.last_failure < $3 THEN 1 "
	    "ELSE login_failures.failures + 1 END, last_failure = $2 RETURNING failures";
	struct pgdb_params p = {0};

	*failures = 0;
	pgdb_text(&p, subject);
	pgdb_int(&p, now_ms);
	pgdb_int(&p, forget_before_ms);
	return pgdb_one(st, sql, &p, pgdb_row_int64, failures);
}

int
pgsql_login_block(struct store *st, const char *subject, int64_t until_ms)
{
	static const char sql[] =
	    "UPDATE login_failures SET blocked_until = greatest(blocked_until, $2) "
	    "WHERE subject = $1";
	struct pgdb_params p = {0};

	pgdb_text(&p, subject);
	pgdb_int(&p, until_ms);
	return pgdb_exec(st, sql, &p, NULL);
}

int
pgsql_login_blocked_until(struct store *st, const char *subject, int64_t *until_ms)
{
	static const char sql[] = "SELECT blocked_until FROM login_failures WHERE subject = $1";
	struct pgdb_params p = {0};
	int rc;

	*until_ms = 0;
	pgdb_text(&p, subject);
	rc = pgdb_one(st, sql, &p, pgdb_row_int64, until_ms);
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

int
pgsql_login_failures_clear(struct store *st, const char *subject)
{
	static const char sql[] = "DELETE FROM login_failures WHERE subject = $1";
	struct pgdb_params p = {0};

	pgdb_text(&p, subject);
	return pgdb_exec(st, sql, &p, NULL);
}

int
pgsql_rate_take(struct store *st, const char *key, int64_t window_start, int64_t *count)
{
	static const char sql[] =
	    "INSERT INTO rate_limits(key, window_start, count) VALUES ($1, $2, 1) "
	    "ON CONFLICT(key, window_start) DO UPDATE SET count = rate_limits.count + 1 "
	    "RETURNING count";
	struct pgdb_params p = {0};

	*count = 0;
	pgdb_text(&p, key);
	pgdb_int(&p, window_start);
	return pgdb_one(st, sql, &p, pgdb_row_int64, count);
}
