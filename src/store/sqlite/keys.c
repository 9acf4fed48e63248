/* Signing key rows (private parts sealed by the keystore) and the keys version. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/db.h"

#define KEY_COLS                                                                          \
	"id, kid, alg, state, public_jwk, private_enc, created_at, activated_at, retired_at, " \
	"delete_after"


int
sqlite_key_add(struct store *st, const struct store_key *k, int64_t *id)
{
	static const char sql[] =
	    "INSERT INTO keys(kid, alg, state, public_jwk, private_enc, created_at, activated_at, "
	    "retired_at, delete_after) VALUES (?,?,?,?,?,?,?,?,?)";
	sqlite3_stmt *s = db_stmt(st, sql);
	int rc;

	if (id != NULL)
		*id = 0;
	if (s == NULL)
		return STORE_ERROR;
	db_bind_text(s, 1, k->kid);
	db_bind_text(s, 2, k->alg);
	db_bind_text(s, 3, k->state);
	db_bind_text(s, 4, k->public_jwk);
	sqlite3_bind_blob(s, 5, k->private_enc, (int)k->private_enc_len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, k->created_at);
	db_bind_int_or_null(s, 7, k->activated_at);
	db_bind_int_or_null(s, 8, k->retired_at);
	db_bind_int_or_null(s, 9, k->delete_after);
	rc = db_exec_stmt(s);
	if (rc == STORE_OK && id != NULL)
		*id = sqlite3_last_insert_rowid(db_handle(st));
	return rc;
}

static int
key_row(sqlite3_stmt *s, struct store_key *k)
{
	const void *blob;
	int oom = 0, n;

	k->id = sqlite3_column_int64(s, 0);
	k->kid = db_col_dup(s, 1, &oom);
	k->alg = db_col_dup(s, 2, &oom);
	k->state = db_col_dup(s, 3, &oom);
	k->public_jwk = db_col_dup(s, 4, &oom);
	blob = sqlite3_column_blob(s, 5);
	n = sqlite3_column_bytes(s, 5);
	if (blob != NULL && n > 0) {
		if ((k->private_enc = malloc((size_t)n)) == NULL)
			oom = 1;
		else {
			memcpy(k->private_enc, blob, (size_t)n);
			k->private_enc_len = (size_t)n;
		}
	}
	k->created_at = sqlite3_column_int64(s, 6);
	k->activated_at = sqlite3_column_int64(s, 7);
	k->retired_at = sqlite3_column_int64(s, 8);
	k->delete_after = sqlite3_column_int64(s, 9);
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
key_visit_row(sqlite3_stmt *s, void *arg)
{
	struct key_visit *v = arg;
	struct store_key k;
	int rc;

	memset(&k, 0, sizeof(k));
	if (key_row(s, &k) != STORE_OK)
		return STORE_ERROR;
	rc = v->fn(&k, v->arg);
	store_key_clear(&k);
	return rc;
}

int
sqlite_key_list(struct store *st, store_key_fn fn, void *arg)
{
	static const char sql[] = "SELECT " KEY_COLS " FROM keys ORDER BY created_at, id";
	struct key_visit v = {fn, arg};

	return db_each(db_stmt(st, sql), key_visit_row, &v);
}

int
sqlite_key_set_state(struct store *st, int64_t id, const char *state, int64_t activated_at,
    int64_t retired_at, int64_t delete_after)
{
	static const char sql[] =
	    "UPDATE keys SET state = ?, activated_at = ?, retired_at = ?, delete_after = ? "
	    "WHERE id = ?";
	sqlite3_stmt *s = db_stmt(st, sql);

	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_text(s, 1, state, -1, SQLITE_STATIC);
	db_bind_int_or_null(s, 2, activated_at);
	db_bind_int_or_null(s, 3, retired_at);
	db_bind_int_or_null(s, 4, delete_after);
	sqlite3_bind_int64(s, 5, id);
	return db_exec_stmt(s);
}

int
sqlite_key_set_private(struct store *st, int64_t id, const unsigned char *blob, size_t len)
{
	static const char sql[] = "UPDATE keys SET private_enc = ? WHERE id = ?";
	sqlite3_stmt *s = db_stmt(st, sql);

	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_blob(s, 1, blob, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, id);
	return db_exec_stmt(s);
}

int
sqlite_key_delete(struct store *st, int64_t id)
{
	static const char sql[] = "DELETE FROM keys WHERE id = ?";
	sqlite3_stmt *s = db_stmt(st, sql);

	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(s, 1, id);
	return db_exec_stmt(s);
}

int
sqlite_key_delete_expired(struct store *st, int64_t now, int *deleted)
{
	static const char sql[] =
	    "DELETE FROM keys WHERE state = 'retired' AND delete_after IS NOT NULL "
	    "AND delete_after <= ?";
	sqlite3_stmt *s = db_stmt(st, sql);
	int rc;

	*deleted = 0;
	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(s, 1, now);
	if ((rc = db_exec_stmt(s)) == STORE_OK)
		*deleted = sqlite3_changes(db_handle(st));
	return rc;
}

int
sqlite_keys_version(struct store *st, int64_t *version)
{
	static const char sql[] =
	    "SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'keys_version'";
	int rc;

	*version = 0;
	rc = db_one(db_stmt(st, sql), db_row_int64, version);
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

int
sqlite_keys_version_bump(struct store *st)
{
	static const char sql[] =
	    "INSERT INTO settings(key, value) VALUES ('keys_version', '1') "
	    "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1";

	return db_exec_stmt(db_stmt(st, sql));
}
