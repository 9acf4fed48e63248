/* Signing key rows (private parts sealed by the keystore) and the keys version. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "store/postgresql/db.h"

#define KEY_COLS                                                                          \
	"id, kid, alg, state, public_jwk, private_enc, created_at, activated_at, retired_at, " \
	"delete_after"

int
pgsql_key_add(struct store *st, const struct store_key *k, int64_t *id)
{
	static const char sql[] =
	    "INSERT INTO keys(kid, alg, state, public_jwk, private_enc, created_at, activated_at, "
	    "retired_at, delete_after) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id";
	struct pgdb_params p = {0};
	int64_t new_id = 0;
	int rc;

	if (id != NULL)
		*id = 0;
	pgdb_text(&p, k->kid);
	pgdb_text(&p, k->alg);
	pgdb_text(&p, k->state);
	pgdb_text(&p, k->public_jwk);
	pgdb_blob(&p, k->private_enc, k->private_enc_len);
	pgdb_int(&p, k->created_at);
	pgdb_int_or_null(&p, k->activated_at);
	pgdb_int_or_null(&p, k->retired_at);
	pgdb_int_or_null(&p, k->delete_after);
	rc = pgdb_one(st, sql, &p, pgdb_row_int64, &new_id);
	if (rc == STORE_OK && id != NULL)
		*id = new_id;
	return rc;
}

static int
key_row(PGresult *res, int row, struct store_key *k)
{
	int oom = 0;

	k->id = pgdb_col_int(res, row, 0);
	k->kid = pgdb_col_dup(res, row, 1, &oom);
	k->alg = pgdb_col_dup(res, row, 2, &oom);
	k->state = pgdb_col_dup(res, row, 3, &oom);
	k->public_jwk = pgdb_col_dup(res, row, 4, &oom);
	k->private_enc = pgdb_col_blob(res, row, 5, &k->private_enc_len, &oom);
	k->created_at = pgdb_col_int(res, row, 6);
	k->activated_at = pgdb_col_int(res, row, 7);
	k->retired_at = pgdb_col_int(res, row, 8);
	k->delete_after = pgdb_col_int(res, row, 9);
	if (oom) {
		store_key_clear(k);
		return STORE_ERROR;
	}
	return STORE_OK;
}

struct key_visit {
	store_key_fn fn;
	void *arg;
};

static int
key_visit_row(PGresult *res, int row, void *arg)
{
	struct key_visit *v = arg;
	struct store_key k;
	int rc;

	memset(&k, 0, sizeof(k));
	if (key_row(res, row, &k) != STORE_OK)
		return STORE_ERROR;
	rc = v->fn(&k, v->arg);
	store_key_clear(&k);
	return rc;
}

int
pgsql_key_list(struct store *st, store_key_fn fn, void *arg)
{
	static const char sql[] = "SELECT " KEY_COLS " FROM keys ORDER BY created_at, id";
	struct key_visit v = {fn, arg};

	return pgdb_each(st, sql, NULL, key_visit_row, &v);
}

int
pgsql_key_set_state(struct store *st, int64_t id, const char *state, int64_t activated_at,
    int64_t retired_at, int64_t delete_after)
{
	static const char sql[] =
	    "UPDATE keys SET state = $1, activated_at = $2, retired_at = $3, delete_after = $4 "
	    "WHERE id = $5";
	struct pgdb_params p = {0};

	pgdb_text(&p, state);
	pgdb_int_or_null(&p, activated_at);
	pgdb_int_or_null(&p, retired_at);
	pgdb_int_or_null(&p, delete_after);
	pgdb_int(&p, id);
	return pgdb_exec(st, sql, &p, NULL);
}

int
pgsql_key_set_private(struct store *st, int64_t id, const unsigned char *blob, size_t len)
{
	static const char sql[] = "UPDATE keys SET private_enc = $1 WHERE id = $2";
	struct pgdb_params p = {0};

	pgdb_blob(&p, blob, len);
	pgdb_int(&p, id);
	return pgdb_exec(st, sql, &p, NULL);
}

int
pgsql_key_delete(struct store *st, int64_t id)
{
	static const char sql[] = "DELETE FROM keys WHERE id = $1";
	struct pgdb_params p = {0};

	pgdb_int(&p, id);
	return pgdb_exec(st, sql, &p, NULL);
}

int
pgsql_key_delete_expired(struct store *st, int64_t now, int *deleted)
{
	static const char sql[] =
	    "DELETE FROM keys WHERE state = 'retired' AND delete_after IS NOT NULL "
	    "AND delete_after <= $1";
	struct pgdb_params p = {0};
	int64_t n = 0;
	int rc;

	pgdb_int(&p, now);
	rc = pgdb_exec_count(st, sql, &p, &n);
	*deleted = (int)n;
	return rc;
}

int
pgsql_keys_version(struct store *st, int64_t *version)
{
	static const char sql[] =
	    "SELECT CAST(value AS BIGINT) FROM settings WHERE key = 'keys_version'";
	int rc;

	*version = 0;
	rc = pgdb_one(st, sql, NULL, pgdb_row_int64, version);
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

int
pgsql_keys_version_bump(struct store *st)
{
	static const char sql[] =
	    "INSERT INTO settings(key, value) VALUES ('keys_version', '1') "
	    "ON CONFLICT(key) DO UPDATE SET value = (CAST(settings.value AS BIGINT) + 1)::text";

	return pgdb_exec(st, sql, NULL, NULL);
}
