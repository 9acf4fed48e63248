/* Rows of any table as generic values, for store copy (store/copy.c owns the SQL). */
#include "config.h"

#include <string.h>

#include "store/sqlite/db.h"

struct copy_visit {
	store_copy_row_fn fn;
	void *arg;
};

static int
copy_row(sqlite3_stmt *s, void *arg)
{
	struct copy_visit *v = arg;
	struct store_copy_row row;
	int i, n = sqlite3_column_count(s);

	if (n > STORE_COPY_MAX_COLS)
		return STORE_ERROR;
	memset(&row, 0, sizeof(row));
	row.n = (size_t)n;
	for (i = 0; i < n; i++) {
		struct store_value *x = &row.v[i];

		switch (sqlite3_column_type(s, i)) {
		case SQLITE_NULL:
			x->kind = STORE_V_NULL;
			break;
		case SQLITE_INTEGER:
			x->kind = STORE_V_INT;
			x->i = sqlite3_column_int64(s, i);
			break;
		case SQLITE_BLOB:
			x->kind = STORE_V_BLOB;
			x->p = sqlite3_column_blob(s, i);
			x->len = (size_t)sqlite3_column_bytes(s, i);
			break;
		default:
			x->kind = STORE_V_TEXT;
			x->p = sqlite3_column_text(s, i);
			x->len = (size_t)sqlite3_column_bytes(s, i);
			break;
		}
	}
	return v->fn(&row, v->arg);
}

int
sqlite_copy_rows(struct store *st, const char *select_sql, store_copy_row_fn fn, void *arg)
{
	struct copy_visit v = {fn, arg};

	return db_each(db_stmt(st, select_sql), copy_row, &v);
}

int
sqlite_paste_row(struct store *st, const char *insert_sql, const struct store_copy_row *row)
{
	sqlite3_stmt *s = db_stmt(st, insert_sql);
	size_t i;

	if (s == NULL)
		return STORE_ERROR;
	for (i = 0; i < row->n; i++) {
		const struct store_value *x = &row->v[i];
		int idx = (int)i + 1;

		if (x->kind == STORE_V_NULL)
			sqlite3_bind_null(s, idx);
		else if (x->kind == STORE_V_INT)
			sqlite3_bind_int64(s, idx, x->i);
		else if (x->kind == STORE_V_BLOB)
			sqlite3_bind_blob(s, idx, x->p, (int)x->len, SQLITE_STATIC);
		else
			sqlite3_bind_text(s, idx, x->p, (int)x->len, SQLITE_STATIC);
	}
	return db_exec_stmt(s);
}

int
sqlite_paste_done(struct store *st)
{
	return STORE_OK;
}

int
sqlite_count_rows(struct store *st, const char *count_sql, int64_t *n)
{
	*n = 0;
	return db_one(db_stmt(st, count_sql), db_row_int64, n);
}
