/* Users: name, argon2id password hash (or none, for a federated user), disabled flag,
 * and for a federated user the provider, its subject and the last claims it asserted. */
#include "config.h"

#include <string.h>

#include "store/postgresql/db.h"

#define USER_COLS \
	"id, name, password_hash, disabled, created_at, idp, idp_sub, email, idp_groups"

/* Every user is added here: a local one with a password hash, a federated one with
 * STORE_NO_PASSWORD and its (idp, sub). */
static int
user_insert(struct store *st, const char *name, const char *password_hash, int64_t now,
    const char *idp, const char *sub, int64_t *id)
{
	static const char sql[] = "INSERT INTO users(name, password_hash, created_at, idp, idp_sub) "
				  "VALUES ($1, $2, $3, $4, $5) RETURNING id";
	struct pgdb_params p = {0};
	int64_t new_id = 0;
	int rc;

	if (id != NULL)
		*id = 0;
	pgdb_text(&p, name);
	pgdb_text(&p, password_hash);
	pgdb_int(&p, now);
	pgdb_text(&p, idp);
	pgdb_text(&p, sub);
	rc = pgdb_one(st, sql, &p, pgdb_row_int64, &new_id);
	if (rc == STORE_OK && id != NULL)
		*id = new_id;
	return rc;
}

int
pgsql_user_add(struct store *st, const char *name, const char *password_hash, int64_t now,
    int64_t *id)
{
	return user_insert(st, name, password_hash, now, NULL, NULL, id);
}

static int
user_row(PGresult *res, int row, void *arg)
{
	struct store_user *u = arg;
	int oom = 0;

	u->id = pgdb_col_int(res, row, 0);
	u->name = pgdb_col_dup(res, row, 1, &oom);
	u->password_hash = pgdb_col_dup(res, row, 2, &oom);
	u->disabled = (int)pgdb_col_int(res, row, 3);
	u->created_at = pgdb_col_int(res, row, 4);
	u->idp = pgdb_col_dup(res, row, 5, &oom);
	u->idp_sub = pgdb_col_dup(res, row, 6, &oom);
	u->email = pgdb_col_dup(res, row, 7, &oom);
	u->idp_groups = pgdb_col_dup(res, row, 8, &oom);
	if (oom) {
		store_user_clear(u);
		return STORE_ERROR;
	}
	return STORE_OK;
}

int
pgsql_user_get_by_name(struct store *st, const char *name, struct store_user *out)
{
	static const char sql[] = "SELECT " USER_COLS " FROM users WHERE name = $1";
	struct pgdb_params p = {0};

	memset(out, 0, sizeof(*out));
	pgdb_text(&p, name);
	return pgdb_one(st, sql, &p, user_row, out);
}

int
pgsql_user_get(struct store *st, int64_t id, struct store_user *out)
{
	static const char sql[] = "SELECT " USER_COLS " FROM users WHERE id = $1";
	struct pgdb_params p = {0};

	memset(out, 0, sizeof(*out));
	pgdb_int(&p, id);
	return pgdb_one(st, sql, &p, user_row, out);
}

int
pgsql_user_set_disabled(struct store *st, const char *name, int disabled)
{
	static const char sql[] = "UPDATE users SET disabled = $1 WHERE name = $2";
	struct pgdb_params p = {0};

	pgdb_int(&p, disabled ? 1 : 0);
	pgdb_text(&p, name);
	return pgdb_exec_found(st, sql, &p);
}

int
pgsql_user_set_password(struct store *st, const char *name, const char *password_hash)
{
	static const char sql[] = "UPDATE users SET password_hash = $1 WHERE name = $2";
	struct pgdb_params p = {0};

	pgdb_text(&p, password_hash);
	pgdb_text(&p, name);
	return pgdb_exec_found(st, sql, &p);
}

struct user_visit {
	store_user_fn fn;
	void *arg;
};

static int
user_visit_row(PGresult *res, int row, void *arg)
{
	struct user_visit *v = arg;
	struct store_user u;
	int rc;

	memset(&u, 0, sizeof(u));
	if (user_row(res, row, &u) != STORE_OK)
		return STORE_ERROR;
	rc = v->fn(&u, v->arg);
	store_user_clear(&u);
	return rc;
}

int
pgsql_user_list(struct store *st, store_user_fn fn, void *arg)
{
	static const char sql[] = "SELECT " USER_COLS " FROM users ORDER BY name";
	struct user_visit v = {fn, arg};

	return pgdb_each(st, sql, NULL, user_visit_row, &v);
}

int
pgsql_user_add_federated(struct store *st, const char *name, const char *idp, const char *sub,
    int64_t now, int64_t *id)
{
	return user_insert(st, name, STORE_NO_PASSWORD, now, idp, sub, id);
}

int
pgsql_user_get_by_idp(struct store *st, const char *idp, const char *sub, struct store_user *out)
{
	static const char sql[] = "SELECT " USER_COLS " FROM users WHERE idp = $1 AND idp_sub = $2";
	struct pgdb_params p = {0};

	memset(out, 0, sizeof(*out));
	pgdb_text(&p, idp);
	pgdb_text(&p, sub);
	return pgdb_one(st, sql, &p, user_row, out);
}

int
pgsql_user_set_idp_claims(struct store *st, int64_t id, const char *email, const char *groups)
{
	static const char sql[] = "UPDATE users SET email = $1, idp_groups = $2 WHERE id = $3";
	struct pgdb_params p = {0};

	pgdb_text(&p, email);
	pgdb_text(&p, groups);
	pgdb_int(&p, id);
	return pgdb_exec_found(st, sql, &p);
}

int
pgsql_user_link_idp(struct store *st, int64_t id, const char *idp, const char *sub)
{
	static const char sql[] =
	    "UPDATE users SET idp = $1, idp_sub = $2 WHERE id = $3 AND idp IS NULL";
	struct pgdb_params p = {0};

	pgdb_text(&p, idp);
	pgdb_text(&p, sub);
	pgdb_int(&p, id);
	return pgdb_exec_found(st, sql, &p);
}
