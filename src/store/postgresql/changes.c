/* The change log the registry cache follows (registry_changes, written by triggers under
 * one counter row, so that its numbers are dense and in commit order) and the
 * whole-table reads it reloads from. */
#include "config.h"

#include <string.h>

#include "store/postgresql/db.h"

struct change_visit {
	store_change_fn fn;
	void *arg;
};

static int
change_row(PGresult *res, int row, void *arg)
{
	struct change_visit *v = arg;
	struct store_change c;

	c.seq = pgdb_col_int(res, row, 0);
	c.kind = pgdb_col_text(res, row, 1);
	c.key = pgdb_col_text(res, row, 2);
	c.expires_at = pgdb_col_int(res, row, 3);
	if (c.kind == NULL)
		return STORE_ERROR;
	return v->fn(&c, v->arg);
}

int
pgsql_changes_since(struct store *st, int64_t after, store_change_fn fn, void *arg)
{
	static const char sql[] =
	    "SELECT seq, kind, key, expires_at FROM registry_changes WHERE seq > $1 ORDER BY seq";
	struct pgdb_params p = {0};
	struct change_visit v = {fn, arg};

	pgdb_int(&p, after);
	return pgdb_each(st, sql, &p, change_row, &v);
}

struct seq_pair {
	int64_t *last, *oldest;
};

static int
seq_row(PGresult *res, int row, void *arg)
{
	struct seq_pair *s = arg;

	*s->last = pgdb_col_int(res, row, 0);
	*s->oldest = pgdb_col_int(res, row, 1);
	return STORE_OK;
}

int
pgsql_changes_last(struct store *st, int64_t *seq, int64_t *oldest)
{
	static const char sql[] =
	    "SELECT (SELECT last FROM registry_seq), "
	    "coalesce((SELECT min(seq) FROM registry_changes), 0)";
	struct seq_pair s = {seq, oldest};

	*seq = 0;
	*oldest = 0;
	return pgdb_one(st, sql, NULL, seq_row, &s);
}

struct pair_visit {
	store_pair_fn fn;
	void *arg;
};

static int
pair_row(PGresult *res, int row, void *arg)
{
	struct pair_visit *v = arg;

	return v->fn(pgdb_col_int(res, row, 0), pgdb_col_int(res, row, 1),
	    pgdb_col_text(res, row, 2), v->arg);
}

int
pgsql_edge_each(struct store *st, store_pair_fn fn, void *arg)
{
	static const char sql[] = "SELECT from_id, to_id, scopes FROM exchange_edges";
	struct pair_visit v = {fn, arg};

	return pgdb_each(st, sql, NULL, pair_row, &v);
}

int
pgsql_client_resource_each(struct store *st, store_pair_fn fn, void *arg)
{
	static const char sql[] = "SELECT client, resource, NULL FROM client_resources";
	struct pair_visit v = {fn, arg};

	return pgdb_each(st, sql, NULL, pair_row, &v);
}

struct jti_visit {
	store_jti_fn fn;
	void *arg;
};

static int
jti_row(PGresult *res, int row, void *arg)
{
	struct jti_visit *v = arg;
	const char *jti = pgdb_col_text(res, row, 0);

	return jti != NULL ? v->fn(jti, pgdb_col_int(res, row, 1), v->arg) : STORE_OK;
}

int
pgsql_jti_each_live(struct store *st, int64_t now, store_jti_fn fn, void *arg)
{
	static const char sql[] = "SELECT jti, expires_at FROM revoked_jtis WHERE expires_at >= $1";
	struct pgdb_params p = {0};
	struct jti_visit v = {fn, arg};

	pgdb_int(&p, now);
	return pgdb_each(st, sql, &p, jti_row, &v);
}
