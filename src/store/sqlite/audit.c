/* Audit records: one row per token event. */
#include "config.h"

#include <string.h>

#include "store/sqlite/db.h"

int
sqlite_audit_add(struct store *st, const struct store_audit *a)
{
	static const char sql[] =
	    "INSERT INTO audit(ts, event, outcome, reason, client_id, subject, resource, act, jti, "
	    "remote_addr, detail) VALUES (?,?,?,?,?,?,?,?,?,?,?)";
	sqlite3_stmt *s = db_stmt(st, sql);

	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(s, 1, a->ts);
	db_bind_text(s, 2, a->event);
	db_bind_text(s, 3, a->outcome);
	db_bind_text(s, 4, a->reason);
	db_bind_text(s, 5, a->client_id);
	db_bind_text(s, 6, a->subject);
	db_bind_text(s, 7, a->resource);
	db_bind_text(s, 8, a->act);
	db_bind_text(s, 9, a->jti);
	db_bind_text(s, 10, a->remote_addr);
	db_bind_text(s, 11, a->detail);
	return db_exec_stmt(s);
}

struct audit_visit {
	store_audit_fn fn;
	void *arg;
};

static int
audit_visit_row(sqlite3_stmt *s, void *arg)
{
	struct audit_visit *v = arg;
	struct store_audit a;

#define COL(i) ((const char *)sqlite3_column_text(s, (i)))
	memset(&a, 0, sizeof(a));
	a.id = sqlite3_column_int64(s, 0);
	a.ts = sqlite3_column_int64(s, 1);
	a.event = COL(2);
	a.outcome = COL(3);
	a.reason = COL(4);
	a.client_id = COL(5);
	a.subject = COL(6);
	a.resource = COL(7);
	a.act = COL(8);
	a.jti = COL(9);
	a.remote_addr = COL(10);
	a.detail = COL(11);
#undef COL
	return v->fn(&a, v->arg);
}

int
sqlite_audit_tail(struct store *st, int n, store_audit_fn fn, void *arg)
{
	static const char sql[] =
	    "SELECT * FROM (SELECT id, ts, event, outcome, reason, client_id, subject, resource, "
	    "act, jti, remote_addr, detail FROM audit ORDER BY id DESC LIMIT ?) ORDER BY id";
	sqlite3_stmt *s = db_stmt(st, sql);
	struct audit_visit v = {fn, arg};

	if (s != NULL)
		sqlite3_bind_int(s, 1, n);
	return db_each(s, audit_visit_row, &v);
}

int
sqlite_audit_purge(struct store *st, int64_t older_than, int *deleted)
{
	static const char sql[] =
	    "DELETE FROM audit WHERE id < coalesce((SELECT id FROM audit WHERE ts >= ?1 "
	    "ORDER BY id LIMIT 1), (SELECT max(id) + 1 FROM audit))";
	sqlite3_stmt *s = db_stmt(st, sql);
	int rc;

	*deleted = 0;
	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(s, 1, older_than);
	if ((rc = db_exec_stmt(s)) == STORE_OK)
		*deleted = sqlite3_changes(db_handle(st));
	return rc;
}
