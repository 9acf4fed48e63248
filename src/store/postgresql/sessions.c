/* Browser login sessions and remembered consent. */
#include "config.h"

#include <string.h>

#include "store/postgresql/db.h"

int
pgsql_session_add(struct store *st, const unsigned char *hash, size_t len, int64_t user_id,
    int64_t auth_time, int64_t now, int64_t expires_at)
{
	static const char sql[] =
	    "INSERT INTO sessions(id_hash, user_id, auth_time, created_at, expires_at) "
	    "VALUES ($1, $2, $3, $4, $5)";
	struct pgdb_params p = {0};

	pgdb_blob(&p, hash, len);
	pgdb_int(&p, user_id);
	pgdb_int(&p, auth_time);
	pgdb_int(&p, now);
	pgdb_int(&p, expires_at);
	return pgdb_exec(st, sql, &p, NULL);
}

struct session_row {
	int64_t *user_id, *auth_time;
};

static int
session_row(PGresult *res, int row, void *arg)
{
	struct session_row *r = arg;

	*r->user_id = pgdb_col_int(res, row, 0);
	*r->auth_time = pgdb_col_int(res, row, 1);
	return STORE_OK;
}

int
pgsql_session_get(struct store *st, const unsigned char *hash, size_t len, int64_t now,
    int64_t *user_id, int64_t *auth_time)
{
	static const char sql[] =
	    "SELECT s.user_id, s.auth_time FROM sessions s JOIN users u ON u.id = s.user_id "
	    "WHERE s.id_hash = $1 AND s.expires_at > $2 AND u.disabled = 0";
	struct pgdb_params p = {0};
	struct session_row r = {user_id, auth_time};

	*user_id = 0;
	*auth_time = 0;
	pgdb_blob(&p, hash, len);
	pgdb_int(&p, now);
	return pgdb_one(st, sql, &p, session_row, &r);
}

int
pgsql_session_delete(struct store *st, const unsigned char *hash, size_t len)
{
	static const char sql[] = "DELETE FROM sessions WHERE id_hash = $1";
	struct pgdb_params p = {0};

	pgdb_blob(&p, hash, len);
	return pgdb_exec(st, sql, &p, NULL);
}

int
pgsql_consent_check(struct store *st, int64_t user_id, int64_t client, const char *resources,
    const char *scope, int64_t now)
{
	static const char sql[] =
	    "SELECT 1 FROM consents WHERE user_id = $1 AND client = $2 AND resources = $3 "
	    "AND scope = $4 AND expires_at > $5";
	struct pgdb_params p = {0};

	pgdb_int(&p, user_id);
	pgdb_int(&p, client);
	pgdb_text(&p, resources);
	pgdb_text(&p, scope);
	pgdb_int(&p, now);
	return pgdb_one(st, sql, &p, pgdb_row_exists, NULL);
}

int
pgsql_consent_put(struct store *st, int64_t user_id, int64_t client, const char *resources,
    const char *scope, int64_t now, int64_t expires_at)
{
	static const char sql[] =
	    "INSERT INTO consents(user_id, client, resources, scope, created_at, expires_at) "
	    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT(user_id, client, resources, scope) "
	    "DO UPDATE SET created_at = excluded.created_at, expires_at = excluded.expires_at";
	struct pgdb_params p = {0};

	pgdb_int(&p, user_id);
	pgdb_int(&p, client);
	pgdb_text(&p, resources);
	pgdb_text(&p, scope);
	pgdb_int(&p, now);
	pgdb_int(&p, expires_at);
	return pgdb_exec(st, sql, &p, NULL);
}
