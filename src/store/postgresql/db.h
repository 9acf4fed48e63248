/* The PostgreSQL backend of store.h: its operations (pgsql_NAME for every operation of
 * store/backend.h) and the private helpers its files share. Every statement is prepared
 * once per connection and runs with a deadline (store_options.timeout_ms), so that a
 * database that stops answering costs a request that long, never a hang. */
#ifndef MCP_STORE_POSTGRESQL_DB_H
#define MCP_STORE_POSTGRESQL_DB_H

#include <libpq-fe.h>

#include "store/backend.h"

void pgsql_close(struct store *st);
int pgsql_begin(struct store *st);
int pgsql_commit(struct store *st);
void pgsql_rollback(struct store *st);
const char *pgsql_errmsg(struct store *st);
#define PGSQL_OP_DECLARE(name, params, args) int pgsql_##name params;
STORE_ALL_OPS(PGSQL_OP_DECLARE)
#undef PGSQL_OP_DECLARE

#define PGDB_MAX_PARAMS 20

/* The parameters of one statement, in order ($1, $2, ...). Text and blobs are borrowed
 * and must outlive the statement's execution. */
struct pgdb_params {
	int n;
	const char *values[PGDB_MAX_PARAMS];
	int lengths[PGDB_MAX_PARAMS];
	int formats[PGDB_MAX_PARAMS];     /* 1 for binary (bytea) */
	char nums[PGDB_MAX_PARAMS][24];   /* the text of integer parameters */
};

void pgdb_text(struct pgdb_params *p, const char *s);     /* NULL: SQL NULL */
void pgdb_int(struct pgdb_params *p, int64_t v);
void pgdb_int_or_null(struct pgdb_params *p, int64_t v);  /* 0: SQL NULL */
void pgdb_blob(struct pgdb_params *p, const void *b, size_t len);

/* Run the prepared statement for sql (a string literal or static array: statements are
 * cached by its address) with p (may be NULL). *res (may be NULL) receives the result,
 * which the caller frees with PQclear. STORE_OK, or the STORE_* code of the failure. */
int pgdb_exec(struct store *st, const char *sql, const struct pgdb_params *p, PGresult **res);

/* Run a write; *count (may be NULL) receives how many rows it touched. */
int pgdb_exec_count(struct store *st, const char *sql, const struct pgdb_params *p,
    int64_t *count);

/* Run a write that must touch a row: STORE_NOTFOUND when it touched none. */
int pgdb_exec_found(struct store *st, const char *sql, const struct pgdb_params *p);

/* Row visitors over the result of sql: pgdb_one hands the first row to fn
 * (STORE_NOTFOUND when there is none); pgdb_each hands every row, stopping when fn
 * returns non-zero and passing that value on. */
typedef int (*pgdb_row_fn)(PGresult *res, int row, void *arg);
int pgdb_one(struct store *st, const char *sql, const struct pgdb_params *p, pgdb_row_fn fn,
    void *arg);
int pgdb_each(struct store *st, const char *sql, const struct pgdb_params *p, pgdb_row_fn fn,
    void *arg);

/* Column readers (text results): NULL reads as 0 or NULL. */
int64_t pgdb_col_int(PGresult *res, int row, int col);
const char *pgdb_col_text(PGresult *res, int row, int col);
char *pgdb_col_dup(PGresult *res, int row, int col, int *oom);
/* A bytea column decoded into a new buffer (free()); NULL for SQL NULL. */
unsigned char *pgdb_col_blob(PGresult *res, int row, int col, size_t *len, int *oom);

/* Row functions: column 0 as int64 into *(int64_t *)arg; existence; column 0 as a new
 * string into *(char **)arg. */
int pgdb_row_int64(PGresult *res, int row, void *arg);
int pgdb_row_exists(PGresult *res, int row, void *arg);
int pgdb_row_text(PGresult *res, int row, void *arg);

#endif
