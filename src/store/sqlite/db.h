/* The SQLite backend of store.h: its operations (sqlite_NAME for every operation of
 * store/backend.h) and the private helpers its files share. */
#ifndef MCP_STORE_SQLITE_DB_H
#define MCP_STORE_SQLITE_DB_H

#include <sqlite3.h>

#include "store/backend.h"

void sqlite_close(struct store *st);
int sqlite_begin(struct store *st);
int sqlite_commit(struct store *st);
void sqlite_rollback(struct store *st);
const char *sqlite_errmsg(struct store *st);
#define SQLITE_OP_DECLARE(name, params, args) int sqlite_##name params;
STORE_ALL_OPS(SQLITE_OP_DECLARE)
#undef SQLITE_OP_DECLARE

/* The prepared statement for sql, compiled once per connection and cached by the
 * address of the string (pass string literals or static arrays only). It comes
 * back reset with no bindings; NULL on error. The statement belongs to the
 * cache: release it with db_reset() when done, never finalize it. */
sqlite3_stmt *db_stmt(struct store *st, const char *sql);

/* Reset a cached statement after use (keeps the compiled form). */
void db_reset(sqlite3_stmt *stmt);

/* Map an SQLite result code to a STORE_* code. */
int db_map(int sqlite_rc);

/* Step a statement that returns no rows, reset it, and map the result. */
int db_exec_stmt(sqlite3_stmt *stmt);

/* Bind helpers that treat NULL text as SQL NULL and 0 as NULL where asked. */
int db_bind_text(sqlite3_stmt *stmt, int idx, const char *text);
int db_bind_int_or_null(sqlite3_stmt *stmt, int idx, int64_t v);

/* Copy of a text column (NULL for SQL NULL); sets *oom on allocation failure. */
char *db_col_dup(sqlite3_stmt *stmt, int col, int *oom);

sqlite3 *db_handle(struct store *st);

/* Row visitors: db_one steps once and hands the row to fn (STORE_NOTFOUND when
 * there is none); db_each hands every row to fn and stops early when fn returns
 * non-zero, passing that value on. Both reset the statement. */
typedef int (*db_row_fn)(sqlite3_stmt *s, void *arg);
int db_one(sqlite3_stmt *s, db_row_fn fn, void *arg);
int db_each(sqlite3_stmt *s, db_row_fn fn, void *arg);

/* A db_row_fn that reads column 0 into *(int64_t *)arg. */
int db_row_int64(sqlite3_stmt *s, void *arg);

/* A db_row_fn for existence checks: any row means STORE_OK. */
int db_row_exists(sqlite3_stmt *s, void *arg);

/* A db_row_fn that copies column 0 (text or NULL) into *(char **)arg. */
int db_row_text(sqlite3_stmt *s, void *arg);

#endif
