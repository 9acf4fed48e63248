/* Users: name, argon2id password hash (or none, for a federated user), disabled flag,
 * and for a federated user the provider, its subject and the last claims it asserted. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "store/sqlite/db.h"

#define USER_COLS \
	"id, name, password_hash, disabled, created_at, idp, idp_sub, email, idp_groups"


/* Every user is added here: a local one with a password hash, a federated one with
 * STORE_NO_PASSWORD and its (idp, sub). */
static int
user_insert(struct store *st, const char *name, const char *password_hash, int64_t now,
    const char *idp, const char *sub, int64_t *id)
{
	static const char sql[] =
	    "INSERT INTO users(name, password_hash, created_at, idp, idp_sub) VALUES (?, ?, ?, ?, ?)";
	sqlite3_stmt *s = db_stmt(st, sql);
	int rc;

	if (id != NULL)
		*id = 0;
	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, password_hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now);
	db_bind_text(s, 4, idp);
	db_bind_text(s, 5, sub);
	rc = db_exec_stmt(s);
	if (rc == STORE_OK && id != NULL)
		*id = sqlite3_last_insert_rowid(db_handle(st));
	return rc;
}

int
sqlite_user_add(struct store *st, const char *name, const char *password_hash, int64_t now,
    int64_t *id)
{
	return user_insert(st, name, password_hash, now, NULL, NULL, id);
}

static int
user_row(sqlite3_stmt *s, void *arg)
{
	struct store_user *u = arg;
	int oom = 0;

	u->id = sqlite3_column_int64(s, 0);
	u->name = db_col_dup(s, 1, &oom);
	u->password_hash = db_col_dup(s, 2, &oom);
	u->disabled = sqlite3_column_int(s, 3);
	u->created_at = sqlite3_column_int64(s, 4);
	u->idp = db_col_dup(s, 5, &oom);
	u->idp_sub = db_col_dup(s, 6, &oom);
	u->email = db_col_dup(s, 7, &oom);
	u->idp_groups = db_col_dup(s, 8, &oom);
	if (oom) {
		store_user_clear(u);
		return STORE_ERROR;
	}
	return STORE_OK;
}

int
sqlite_user_get_by_name(struct store *st, const char *name, struct store_user *out)
{
	static const char sql[] = "SELECT " USER_COLS " FROM users WHERE name = ?";
	sqlite3_stmt *s = db_stmt(st, sql);

	memset(out, 0, sizeof(*out));
	if (s != NULL)
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	return db_one(s, user_row, out);
}

int
sqlite_user_get(struct store *st, int64_t id, struct store_user *out)
{
	static const char sql[] = "SELECT " USER_COLS " FROM users WHERE id = ?";
	sqlite3_stmt *s = db_stmt(st, sql);

	memset(out, 0, sizeof(*out));
	if (s != NULL)
		sqlite3_bind_int64(s, 1, id);
	return db_one(s, user_row, out);
}

int
sqlite_user_set_disabled(struct store *st, const char *name, int disabled)
{
	static const char sql[] = "UPDATE users SET disabled = ? WHERE name = ?";
	sqlite3_stmt *s = db_stmt(st, sql);
	int rc;

	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_int(s, 1, disabled ? 1 : 0);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	rc = db_exec_stmt(s);
	if (rc == STORE_OK && sqlite3_changes(db_handle(st)) == 0)
		rc = STORE_NOTFOUND;
	return rc;
}

int
sqlite_user_set_password(struct store *st, const char *name, const char *password_hash)
{
	static const char sql[] = "UPDATE users SET password_hash = ? WHERE name = ?";
	sqlite3_stmt *s = db_stmt(st, sql);
	int rc;

	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_text(s, 1, password_hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	rc = db_exec_stmt(s);
	if (rc == STORE_OK && sqlite3_changes(db_handle(st)) == 0)
		rc = STORE_NOTFOUND;
	return rc;
}

struct user_visit {
	store_user_fn fn;
	void *arg;
};

static int
user_visit_row(sqlite3_stmt *s, void *arg)
{
	struct user_visit *v = arg;
	struct store_user u;
	int rc;

	memset(&u, 0, sizeof(u));
	if (user_row(s, &u) != STORE_OK)
		return STORE_ERROR;
	rc = v->fn(&u, v->arg);
	store_user_clear(&u);
	return rc;
}

int
sqlite_user_list(struct store *st, store_user_fn fn, void *arg)
{
	static const char sql[] = "SELECT " USER_COLS " FROM users ORDER BY name";
	struct user_visit v = {fn, arg};

	return db_each(db_stmt(st, sql), user_visit_row, &v);
}

int
sqlite_user_add_federated(struct store *st, const char *name, const char *idp, const char *sub,
    int64_t now, int64_t *id)
{
	return user_insert(st, name, STORE_NO_PASSWORD, now, idp, sub, id);
}

int
sqlite_user_get_by_idp(struct store *st, const char *idp, const char *sub, struct store_user *out)
{
	static const char sql[] = "SELECT " USER_COLS " FROM users WHERE idp = ? AND idp_sub = ?";
	sqlite3_stmt *s = db_stmt(st, sql);

	memset(out, 0, sizeof(*out));
	if (s != NULL) {
		sqlite3_bind_text(s, 1, idp, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, sub, -1, SQLITE_STATIC);
	}
	return db_one(s, user_row, out);
}

int
sqlite_user_set_idp_claims(struct store *st, int64_t id, const char *email, const char *groups)
{
	static const char sql[] = "UPDATE users SET email = ?, idp_groups = ? WHERE id = ?";
	sqlite3_stmt *s = db_stmt(st, sql);
	int rc;

	if (s == NULL)
		return STORE_ERROR;
	db_bind_text(s, 1, email);
	db_bind_text(s, 2, groups);
	sqlite3_bind_int64(s, 3, id);
	rc = db_exec_stmt(s);
	if (rc == STORE_OK && sqlite3_changes(db_handle(st)) == 0)
		rc = STORE_NOTFOUND;
	return rc;
}

int
sqlite_user_link_idp(struct store *st, int64_t id, const char *idp, const char *sub)
{
	static const char sql[] =
	    "UPDATE users SET idp = ?, idp_sub = ? WHERE id = ? AND idp IS NULL";
	sqlite3_stmt *s = db_stmt(st, sql);
	int rc;

	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_text(s, 1, idp, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, sub, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, id);
	rc = db_exec_stmt(s);
	if (rc == STORE_OK && sqlite3_changes(db_handle(st)) == 0)
		rc = STORE_NOTFOUND;
	return rc;
}
