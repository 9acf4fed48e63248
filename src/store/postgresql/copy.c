/* Rows of any table as generic values, for store copy (store/copy.c owns the SQL). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "store/postgresql/db.h"

/* Type OIDs of the columns this schema uses (pg_type.h is not part of libpq-dev). */
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_BOOL 16

struct copy_visit {
	store_copy_row_fn fn;
	void *arg;
};

static int
copy_row(PGresult *res, int row, void *arg)
{
	struct copy_visit *v = arg;
	struct store_copy_row r;
	unsigned char *blobs[STORE_COPY_MAX_COLS];
	int i, n = PQnfields(res), rc = STORE_OK, oom = 0;

	if (n > STORE_COPY_MAX_COLS)
		return STORE_ERROR;
	memset(&r, 0, sizeof(r));
	memset(blobs, 0, sizeof(blobs));
	r.n = (size_t)n;
	for (i = 0; i < n; i++) {
		struct store_value *x = &r.v[i];
		Oid type = PQftype(res, i);

		if (PQgetisnull(res, row, i)) {
			x->kind = STORE_V_NULL;
		} else if (type == OID_INT8 || type == OID_INT4 || type == OID_INT2 ||
		    type == OID_BOOL) {
			x->kind = STORE_V_INT;
			x->i = pgdb_col_int(res, row, i);
		} else if (type == OID_BYTEA) {
			x->kind = STORE_V_BLOB;
			x->p = blobs[i] = pgdb_col_blob(res, row, i, &x->len, &oom);
		} else {
			x->kind = STORE_V_TEXT;
			x->p = PQgetvalue(res, row, i);
			x->len = (size_t)PQgetlength(res, row, i);
		}
	}
	if (!oom)
		rc = v->fn(&r, v->arg);
	for (i = 0; i < n; i++)
		free(blobs[i]);
	return oom ? STORE_ERROR : rc;
}

int
pgsql_copy_rows(struct store *st, const char *select_sql, store_copy_row_fn fn, void *arg)
{
	struct copy_visit v = {fn, arg};

	return pgdb_each(st, select_sql, NULL, copy_row, &v);
}

int
pgsql_paste_row(struct store *st, const char *insert_sql, const struct store_copy_row *row)
{
	struct pgdb_params p = {0};
	size_t i;

	if (row->n > PGDB_MAX_PARAMS)
		return STORE_ERROR;
	for (i = 0; i < row->n; i++) {
		const struct store_value *x = &row->v[i];

		if (x->kind == STORE_V_NULL)
			pgdb_text(&p, NULL);
		else if (x->kind == STORE_V_INT)
			pgdb_int(&p, x->i);
		else if (x->kind == STORE_V_BLOB)
			pgdb_blob(&p, x->p, x->len);
		else
			pgdb_text(&p, x->p);
	}
	return pgdb_exec(st, insert_sql, &p, NULL);
}

int
pgsql_paste_done(struct store *st)
{
	/* Rows came with their ids: the identity sequences start after them. */
	static const char *const sqls[] = {
	    "SELECT setval(pg_get_serial_sequence('users', 'id'), "
	    "coalesce((SELECT max(id) FROM users), 0) + 1, false)",
	    "SELECT setval(pg_get_serial_sequence('resources', 'id'), "
	    "coalesce((SELECT max(id) FROM resources), 0) + 1, false)",
	    "SELECT setval(pg_get_serial_sequence('clients', 'id'), "
	    "coalesce((SELECT max(id) FROM clients), 0) + 1, false)",
	    "SELECT setval(pg_get_serial_sequence('keys', 'id'), "
	    "coalesce((SELECT max(id) FROM keys), 0) + 1, false)",
	    "SELECT setval(pg_get_serial_sequence('audit', 'id'), "
	    "coalesce((SELECT max(id) FROM audit), 0) + 1, false)",
	    "SELECT setval(pg_get_serial_sequence('idps', 'id'), "
	    "coalesce((SELECT max(id) FROM idps), 0) + 1, false)",
	    "SELECT setval(pg_get_serial_sequence('credentials', 'id'), "
	    "coalesce((SELECT max(id) FROM credentials), 0) + 1, false)",
	    "SELECT setval(pg_get_serial_sequence('connections', 'id'), "
	    "coalesce((SELECT max(id) FROM connections), 0) + 1, false)",
	};
	size_t i;
	int rc;

	for (i = 0; i < sizeof(sqls) / sizeof(sqls[0]); i++) {
		if ((rc = pgdb_exec(st, sqls[i], NULL, NULL)) != STORE_OK)
			return rc;
	}
	return STORE_OK;
}

int
pgsql_count_rows(struct store *st, const char *count_sql, int64_t *n)
{
	*n = 0;
	return pgdb_one(st, count_sql, NULL, pgdb_row_int64, n);
}
