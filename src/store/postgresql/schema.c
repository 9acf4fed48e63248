/* PostgreSQL schema: migrations under an advisory lock, the schema version, settings. */
#include "config.h"

#include "store/postgresql/db.h"

#include "store/postgresql/conn.h"
#include "util/embedded.h"

int
pgsql_schema_version(struct store *st, int *version)
{
	static const char exists[] = "SELECT to_regclass('schema_version') IS NOT NULL";
	static const char sql[] = "SELECT coalesce(max(version), 0) FROM schema_version";
	int64_t v = 0, present = 0;
	int rc;

	*version = 0;
	if ((rc = pgdb_one(st, exists, NULL, pgdb_row_int64, &present)) != STORE_OK)
		return rc;
	if (!present)
		return STORE_OK; /* an empty database */
	if ((rc = pgdb_one(st, sql, NULL, pgdb_row_int64, &v)) == STORE_OK)
		*version = (int)v;
	return rc;
}

static int
advisory(struct pg_store *p, int take)
{
	static const char lock[] = "SELECT pg_advisory_lock($1)";
	static const char unlock[] = "SELECT pg_advisory_unlock($1)";
	struct pgdb_params prm = {0};

	pgdb_int(&prm, LOCK_MIGRATE);
	return pgdb_exec(&p->base, take ? lock : unlock, &prm, NULL);
}

int
pgsql_migrate(struct store *st, int *applied)
{
	static const char table[] =
	    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
	    "name TEXT NOT NULL, applied_at BIGINT NOT NULL)";
	static const char record[] =
	    "INSERT INTO schema_version(version, name, applied_at) "
	    "VALUES ($1, $2, extract(epoch FROM now())::bigint)";
	struct pg_store *p = pg(st);
	const struct embedded_file *f;
	int current, n = 0, rc;

	if (applied != NULL)
		*applied = 0;
	/* Nodes starting together, or a node and the CLI, take turns here; the version is
	 * read under the lock so that each migration runs exactly once. */
	if ((rc = pgconn_ensure(p)) != STORE_OK || (rc = advisory(p, 1)) != STORE_OK)
		return rc;
	if ((rc = pgconn_exec_simple(p, table, 0)) != STORE_OK)
		goto out;
	for (f = embedded_sql_postgresql; f->name != NULL; f++) {
		int num = store_migration_number(f->name);
		struct pgdb_params prm = {0};

		if (num < 0)
			continue;
		if ((rc = pgsql_schema_version(st, &current)) != STORE_OK)
			goto out;
		if (num <= current)
			continue;
		if ((rc = pgsql_begin(st)) != STORE_OK)
			goto out;
		pgdb_int(&prm, num);
		pgdb_text(&prm, f->name);
		if ((rc = pgconn_exec_simple(p, f->data, 0)) != STORE_OK ||
		    (rc = pgdb_exec(st, record, &prm, NULL)) != STORE_OK) {
			pgsql_rollback(st);
			goto out;
		}
		if ((rc = pgsql_commit(st)) != STORE_OK)
			goto out;
		n++;
	}
	if (applied != NULL)
		*applied = n;
	rc = STORE_OK;
out:
	if (p->conn != NULL)
		advisory(p, 0);
	return rc;
}

int
pgsql_setting_get_new(struct store *st, const char *key, char **value)
{
	static const char sql[] = "SELECT value FROM settings WHERE key = $1";
	struct pgdb_params prm = {0};

	*value = NULL;
	pgdb_text(&prm, key);
	return pgdb_one(st, sql, &prm, pgdb_row_text, value);
}

int
pgsql_setting_set(struct store *st, const char *key, const char *value)
{
	static const char sql[] =
	    "INSERT INTO settings(key, value) VALUES ($1, $2) "
	    "ON CONFLICT(key) DO UPDATE SET value = excluded.value";
	struct pgdb_params prm = {0};

	pgdb_text(&prm, key);
	pgdb_text(&prm, value);
	return pgdb_exec(st, sql, &prm, NULL);
}
