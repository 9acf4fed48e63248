/* PostgreSQL statement helpers: parameters, and readers of results, rows and columns. */
#include "config.h"

#include "store/postgresql/db.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- parameters ---- */

static int
param_slot(struct pgdb_params *p)
{
	return p->n < PGDB_MAX_PARAMS ? p->n++ : PGDB_MAX_PARAMS - 1;
}

void
pgdb_text(struct pgdb_params *p, const char *s)
{
	int i = param_slot(p);

	p->values[i] = s;
	p->lengths[i] = 0;
	p->formats[i] = 0;
}

void
pgdb_int(struct pgdb_params *p, int64_t v)
{
	int i = param_slot(p);

	snprintf(p->nums[i], sizeof(p->nums[i]), "%" PRId64, v);
	p->values[i] = p->nums[i];
	p->lengths[i] = 0;
	p->formats[i] = 0;
}

void
pgdb_int_or_null(struct pgdb_params *p, int64_t v)
{
	if (v == 0)
		pgdb_text(p, NULL);
	else
		pgdb_int(p, v);
}

void
pgdb_blob(struct pgdb_params *p, const void *b, size_t len)
{
	int i = param_slot(p);

	p->values[i] = b;
	p->lengths[i] = (int)len;
	p->formats[i] = 1;
}

/* ---- results ---- */

int
pgdb_one(struct store *st, const char *sql, const struct pgdb_params *p, pgdb_row_fn fn,
    void *arg)
{
	PGresult *res;
	int rc;

	if ((rc = pgdb_exec(st, sql, p, &res)) != STORE_OK)
		return rc;
	rc = PQntuples(res) > 0 ? fn(res, 0, arg) : STORE_NOTFOUND;
	PQclear(res);
	return rc;
}

int
pgdb_each(struct store *st, const char *sql, const struct pgdb_params *p, pgdb_row_fn fn,
    void *arg)
{
	PGresult *res;
	int i, n, rc;

	if ((rc = pgdb_exec(st, sql, p, &res)) != STORE_OK)
		return rc;
	n = PQntuples(res);
	for (i = 0; i < n && rc == STORE_OK; i++)
		rc = fn(res, i, arg);
	PQclear(res);
	return rc;
}

int64_t
pgdb_col_int(PGresult *res, int row, int col)
{
	const char *v;

	if (PQgetisnull(res, row, col))
		return 0;
	v = PQgetvalue(res, row, col);
	if (v[0] == 't' && v[1] == '\0')
		return 1; /* a boolean */
	return strtoll(v, NULL, 10);
}

const char *
pgdb_col_text(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

char *
pgdb_col_dup(PGresult *res, int row, int col, int *oom)
{
	char *d;

	if (PQgetisnull(res, row, col))
		return NULL;
	if ((d = strdup(PQgetvalue(res, row, col))) == NULL)
		*oom = 1;
	return d;
}

unsigned char *
pgdb_col_blob(PGresult *res, int row, int col, size_t *len, int *oom)
{
	unsigned char *raw, *d;
	size_t n = 0;

	*len = 0;
	if (PQgetisnull(res, row, col))
		return NULL;
	if ((raw = PQunescapeBytea((const unsigned char *)PQgetvalue(res, row, col), &n)) == NULL) {
		*oom = 1;
		return NULL;
	}
	if ((d = malloc(n > 0 ? n : 1)) == NULL)
		*oom = 1;
	else
		memcpy(d, raw, n);
	PQfreemem(raw);
	*len = d ? n : 0;
	return d;
}

int
pgdb_row_int64(PGresult *res, int row, void *arg)
{
	*(int64_t *)arg = pgdb_col_int(res, row, 0);
	return STORE_OK;
}

int
pgdb_row_exists(PGresult *res, int row, void *arg)
{
	return STORE_OK;
}

int
pgdb_row_text(PGresult *res, int row, void *arg)
{
	int oom = 0;

	*(char **)arg = pgdb_col_dup(res, row, 0, &oom);
	return oom ? STORE_ERROR : STORE_OK;
}
