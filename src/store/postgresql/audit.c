/* Audit records: one row per token event. */
#include "config.h"

#include <string.h>

#include "store/postgresql/db.h"

int
pgsql_audit_add(struct store *st, const struct store_audit *a)
{
	static const char sql[] =
	    "INSERT INTO audit(ts, event, outcome, reason, client_id, subject, resource, act, jti, "
	    "remote_addr, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
	struct pgdb_params p = {0};

	pgdb_int(&p, a->ts);
	pgdb_text(&p, a->event);
	pgdb_text(&p, a->outcome);
	pgdb_text(&p, a->reason);
	pgdb_text(&p, a->client_id);
	pgdb_text(&p, a->subject);
	pgdb_text(&p, a->resource);
	pgdb_text(&p, a->act);
	pgdb_text(&p, a->jti);
	pgdb_text(&p, a->remote_addr);
	pgdb_text(&p, a->detail);
	return pgdb_exec(st, sql, &p, NULL);
}

struct audit_visit {
	store_audit_fn fn;
	void *arg;
};

static int
audit_visit_row(PGresult *res, int row, void *arg)
{
	struct audit_visit *v = arg;
	struct store_audit a;

	memset(&a, 0, sizeof(a));
	a.id = pgdb_col_int(res, row, 0);
	a.ts = pgdb_col_int(res, row, 1);
	a.event = pgdb_col_text(res, row, 2);
	a.outcome = pgdb_col_text(res, row, 3);
	a.reason = pgdb_col_text(res, row, 4);
	a.client_id = pgdb_col_text(res, row, 5);
	a.subject = pgdb_col_text(res, row, 6);
	a.resource = pgdb_col_text(res, row, 7);
	a.act = pgdb_col_text(res, row, 8);
	a.jti = pgdb_col_text(res, row, 9);
	a.remote_addr = pgdb_col_text(res, row, 10);
	a.detail = pgdb_col_text(res, row, 11);
	return v->fn(&a, v->arg);
}

int
pgsql_audit_tail(struct store *st, int n, store_audit_fn fn, void *arg)
{
	static const char sql[] =
	    "SELECT * FROM (SELECT id, ts, event, outcome, reason, client_id, subject, resource, "
	    "act, jti, remote_addr, detail FROM audit ORDER BY id DESC LIMIT $1) t ORDER BY id";
	struct pgdb_params p = {0};
	struct audit_visit v = {fn, arg};

	pgdb_int(&p, n);
	return pgdb_each(st, sql, &p, audit_visit_row, &v);
}

int
pgsql_audit_purge(struct store *st, int64_t older_than, int *deleted)
{
	static const char sql[] = "DELETE FROM audit WHERE ts < $1";
	struct pgdb_params p = {0};
	int64_t n = 0;
	int rc;

	pgdb_int(&p, older_than);
	rc = pgdb_exec_count(st, sql, &p, &n);
	*deleted = (int)n;
	return rc;
}
