/* Authorization codes: stored as SHA-256 hashes, redeemed once. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "store/postgresql/db.h"

#define CODE_COLS                                                                           \
	"code_hash, client, user_id, redirect_uri, redirect_uri_given, code_challenge, "   \
	"resources, scope, auth_time, created_at, expires_at, redeemed_at, family_id"

int
pgsql_code_add(struct store *st, const struct store_code *c)
{
	static const char sql[] =
	    "INSERT INTO auth_codes(code_hash, client, user_id, redirect_uri, redirect_uri_given, "
	    "code_challenge, resources, scope, auth_time, created_at, expires_at) "
	    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
	struct pgdb_params p = {0};

	pgdb_blob(&p, c->hash, sizeof(c->hash));
	pgdb_int(&p, c->client);
	pgdb_int(&p, c->user_id);
	pgdb_text(&p, c->redirect_uri);
	pgdb_int(&p, c->redirect_uri_given ? 1 : 0);
	pgdb_text(&p, c->code_challenge);
	pgdb_text(&p, c->resources);
	pgdb_text(&p, c->scope);
	pgdb_int(&p, c->auth_time);
	pgdb_int(&p, c->created_at);
	pgdb_int(&p, c->expires_at);
	return pgdb_exec(st, sql, &p, NULL);
}

static int
code_row(PGresult *res, int row, void *arg)
{
	struct store_code *c = arg;
	unsigned char *h;
	size_t n = 0;
	int oom = 0;

	if ((h = pgdb_col_blob(res, row, 0, &n, &oom)) != NULL && n == sizeof(c->hash))
		memcpy(c->hash, h, sizeof(c->hash));
	free(h);
	c->client = pgdb_col_int(res, row, 1);
	c->user_id = pgdb_col_int(res, row, 2);
	c->redirect_uri = pgdb_col_dup(res, row, 3, &oom);
	c->redirect_uri_given = (int)pgdb_col_int(res, row, 4);
	c->code_challenge = pgdb_col_dup(res, row, 5, &oom);
	c->resources = pgdb_col_dup(res, row, 6, &oom);
	c->scope = pgdb_col_dup(res, row, 7, &oom);
	c->auth_time = pgdb_col_int(res, row, 8);
	c->created_at = pgdb_col_int(res, row, 9);
	c->expires_at = pgdb_col_int(res, row, 10);
	c->redeemed_at = pgdb_col_int(res, row, 11);
	c->family_id = pgdb_col_dup(res, row, 12, &oom);
	if (oom) {
		store_code_clear(c);
		return STORE_ERROR;
	}
	return STORE_OK;
}

int
pgsql_code_redeem(struct store *st, const unsigned char *hash, int64_t now,
    const char *family_id, struct store_code *out)
{
	/* The redemption is this one conditional statement. Under READ COMMITTED a second
	 * node running it at once waits for the first's row lock, then finds redeemed_at
	 * set and updates nothing: two nodes never both win. */
	static const char mark[] =
	    "UPDATE auth_codes SET redeemed_at = $1, family_id = $2 "
	    "WHERE code_hash = $3 AND redeemed_at IS NULL RETURNING " CODE_COLS;
	static const char get[] = "SELECT " CODE_COLS " FROM auth_codes WHERE code_hash = $1";
	struct pgdb_params p = {0};
	int rc;

	memset(out, 0, sizeof(*out));
	pgdb_int(&p, now);
	pgdb_text(&p, family_id);
	pgdb_blob(&p, hash, 32);
	if ((rc = pgdb_one(st, mark, &p, code_row, out)) != STORE_NOTFOUND)
		return rc;
	/* Not redeemed now: unknown, or redeemed before (then say by which family). */
	memset(&p, 0, sizeof(p));
	pgdb_blob(&p, hash, 32);
	if ((rc = pgdb_one(st, get, &p, code_row, out)) != STORE_OK)
		return rc;
	return STORE_CONFLICT;
}
