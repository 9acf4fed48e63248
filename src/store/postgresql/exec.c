/* PostgreSQL statements: one round trip outside a transaction; inside one, BEGIN and the
 * writes whose results wait travel together in a pipeline; COMMIT and ROLLBACK. */
#include "config.h"

#include "store/postgresql/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgresql/conn.h"

/* ---- outside a transaction ---- */

/* One prepared statement, one round trip (two the first time on a connection). */
static int
exec_once(struct pg_store *p, const char *sql, const struct pgdb_params *params, PGresult **out)
{
	struct stmt_slot *slot;
	PGresult *res;
	int64_t deadline = pgconn_now_ms() + p->timeout_ms;
	int prepared, timed_out, n = params ? params->n : 0, rc;

	if ((rc = pgconn_ensure(p)) != STORE_OK)
		return rc;
	if (p->in_tx && p->tx_rc != STORE_OK)
		return p->tx_rc;
	if ((slot = pgconn_stmt_slot(p, sql, &prepared)) == NULL) {
		pgconn_set_err(p, "statement cache full", NULL);
		return STORE_ERROR;
	}
	if (!prepared) {
		char name[16];

		snprintf(name, sizeof(name), "s%d", p->nstmts);
		if (!PQsendPrepare(p->conn, name, sql, n, NULL))
			return pgconn_fail_unsent(p);
		res = pgconn_await_result(p, deadline, &timed_out);
		if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK)
			return pgconn_fail_round_trip(p, res, timed_out, 0);
		PQclear(res);
		slot->sql = sql;
		memcpy(slot->name, name, sizeof(name));
		p->nstmts++;
	}
	if (!PQsendQueryPrepared(p->conn, slot->name, n, params ? params->values : NULL,
		params ? params->lengths : NULL, params ? params->formats : NULL, 0))
		return pgconn_fail_unsent(p);
	res = pgconn_await_result(p, deadline, &timed_out);
	if (res == NULL || (PQresultStatus(res) != PGRES_COMMAND_OK &&
			       PQresultStatus(res) != PGRES_TUPLES_OK))
		return pgconn_fail_round_trip(p, res, timed_out, 0);
	if (out != NULL)
		*out = res;
	else
		PQclear(res);
	return STORE_OK;
}

/* ---- transactions in pipelines: BEGIN and the writes whose results wait ---- */

static void
pending_clear(struct pg_store *p)
{
	int i, j;

	for (i = 0; i < p->npending; i++) {
		for (j = 0; j < p->pending[i].n; j++)
			free(p->pending[i].values[j]);
	}
	memset(p->pending, 0, sizeof(p->pending));
	p->npending = 0;
}

static int
pending_add(struct pg_store *p, const char *sql, const struct pgdb_params *params)
{
	struct pending *q = &p->pending[p->npending];
	int i, n = params ? params->n : 0;

	memset(q, 0, sizeof(*q));
	q->sql = sql;
	for (i = 0; i < n; i++) {
		const char *v = params->values[i];
		size_t len = params->formats[i] ? (size_t)params->lengths[i] : (v ? strlen(v) + 1 : 0);

		q->lengths[i] = params->lengths[i];
		q->formats[i] = params->formats[i];
		if (v != NULL) {
			if ((q->values[i] = malloc(len > 0 ? len : 1)) == NULL) {
				q->n = i;
				p->npending++;
				return STORE_ERROR;
			}
			memcpy(q->values[i], v, len);
		}
	}
	q->n = n;
	p->npending++;
	return STORE_OK;
}

/* Put one statement into the pipeline: PARSE the first time on this connection (the
 * slot is taken at once, so that the same statement twice in one pipeline is parsed
 * once; *parsed_slot lets the caller give it back if the PARSE fails), then
 * BIND/EXECUTE. */
static int
pipe_statement(struct pg_store *p, const char *sql, int n, const char *const *values,
    const int *lengths, const int *formats, struct stmt_slot **parsed_slot)
{
	struct stmt_slot *slot;
	int prepared;

	*parsed_slot = NULL;
	if ((slot = pgconn_stmt_slot(p, sql, &prepared)) == NULL)
		return -1;
	if (!prepared) {
		snprintf(slot->name, sizeof(slot->name), "s%d", p->nstmts++);
		if (!PQsendPrepare(p->conn, slot->name, sql, n, NULL))
			return -1;
		slot->sql = sql;
		*parsed_slot = slot;
	}
	return PQsendQueryPrepared(p->conn, slot->name, n, values, lengths, formats, 0) ? 0 : -1;
}

/* The next result of the pipeline (NULL marks the end of one statement's results). */
static PGresult *
pipe_result(struct pg_store *p, int64_t deadline, int *failed, int *timed_out)
{
	int f;

	while ((f = PQflush(p->conn)) == 1) {
		if (pgconn_wait_socket(p, 1, deadline) != 0) {
			*timed_out = *failed = 1;
			return NULL;
		}
		if (PQconsumeInput(p->conn) == 0) {
			*failed = 1;
			return NULL;
		}
	}
	if (f < 0) {
		*failed = 1;
		return NULL;
	}
	while (PQisBusy(p->conn)) {
		if (pgconn_wait_socket(p, 0, deadline) != 0) {
			*timed_out = *failed = 1;
			return NULL;
		}
		if (PQconsumeInput(p->conn) == 0) {
			*failed = 1;
			return NULL;
		}
	}
	return PQgetResult(p->conn);
}

enum item { ITEM_BEGIN, ITEM_PREPARE, ITEM_STATEMENT, ITEM_FINAL, ITEM_COMMIT };

/* One round trip for what the transaction has waiting: BEGIN if not sent, the queued
 * writes, then sql (its result to *out) or COMMIT. On failure the first error decides. */
static int
pipe_once(struct pg_store *p, const char *sql, const struct pgdb_params *params,
    PGresult **out, int commit)
{
	enum item items[2 * MAX_PENDING + 4];
	struct stmt_slot *slots[2 * MAX_PENDING + 4];
	PGresult *res, *bad = NULL, *final = NULL;
	int64_t deadline = pgconn_now_ms() + p->timeout_ms;
	int nitems = 0, i, failed = 0, timed_out = 0;

	if (p->conn == NULL || !PQenterPipelineMode(p->conn))
		return pgconn_fail_unsent(p);
	if (p->begin_pending) {
		if (!PQsendQueryParams(p->conn, "BEGIN", 0, NULL, NULL, NULL, NULL, 0))
			goto unsent;
		items[nitems++] = ITEM_BEGIN;
	}
	for (i = 0; i <= p->npending; i++) {
		struct stmt_slot *slot;
		const struct pending *q = i < p->npending ? &p->pending[i] : NULL;

		if (q == NULL && sql == NULL)
			break;
		if (q != NULL ? pipe_statement(p, q->sql, q->n, (const char *const *)q->values,
				    q->lengths, q->formats, &slot)
			      : pipe_statement(p, sql, params ? params->n : 0,
				    params ? params->values : NULL, params ? params->lengths : NULL,
				    params ? params->formats : NULL, &slot))
			goto unsent;
		if (slot != NULL) {
			slots[nitems] = slot;
			items[nitems++] = ITEM_PREPARE;
		}
		items[nitems++] = q != NULL ? ITEM_STATEMENT : ITEM_FINAL;
	}
	if (commit) {
		if (!PQsendQueryParams(p->conn, "COMMIT", 0, NULL, NULL, NULL, NULL, 0))
			goto unsent;
		items[nitems++] = ITEM_COMMIT;
	}
	if (!PQpipelineSync(p->conn))
		goto unsent;
	p->tx_flushed = 1;
	for (i = 0; i < nitems && !failed; i++) {
		ExecStatusType status;

		if ((res = pipe_result(p, deadline, &failed, &timed_out)) == NULL)
			break;
		status = PQresultStatus(res);
		/* A PARSE that did not happen (an earlier failure aborted the pipeline) gives
		 * its slot back, to be parsed again next time. */
		if (items[i] == ITEM_PREPARE && status != PGRES_COMMAND_OK)
			slots[i]->sql = NULL;
		if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
			if (items[i] == ITEM_FINAL && final == NULL)
				final = res;
			else
				PQclear(res);
		} else if (status == PGRES_PIPELINE_ABORTED) {
			PQclear(res);
		} else if (bad == NULL) {
			bad = res;
		} else {
			PQclear(res);
		}
		/* The end of this statement's results. */
		if ((res = pipe_result(p, deadline, &failed, &timed_out)) != NULL) {
			PQclear(res);
			failed = 1; /* more than one result: not ours */
		}
	}
	/* Then the sync point. */
	while (!failed && (res = pipe_result(p, deadline, &failed, &timed_out)) != NULL) {
		int sync = PQresultStatus(res) == PGRES_PIPELINE_SYNC;

		PQclear(res);
		if (sync)
			break;
	}
	if (failed || i < nitems) {
		PQclear(final);
		PQclear(bad);
		return pgconn_fail_round_trip(p, NULL, timed_out, commit);
	}
	PQexitPipelineMode(p->conn);
	p->begin_pending = 0;
	if (bad != NULL) {
		PQclear(final);
		return pgconn_fail_round_trip(p, bad, 0, 0);
	}
	if (out != NULL)
		*out = final;
	else
		PQclear(final);
	return STORE_OK;
unsent:
	return pgconn_fail_unsent(p);
}

/* Reads outside a transaction are safe to repeat. */
static int
is_read(const char *sql)
{
	return strncmp(sql, "SELECT", 6) == 0 && strstr(sql, "FOR UPDATE") == NULL;
}

/* The transaction's pending work and sql (or COMMIT) in one round trip. Nothing of a
 * transaction has reached the server before its first flush, so a first flush lost with
 * a stale connection (a restarted server, a failover) runs again on a new connection,
 * unless it carried COMMIT and may have happened. */
static int
pipe_flush(struct pg_store *p, const char *sql, const struct pgdb_params *params, PGresult **out,
    int commit)
{
	int first = !p->tx_flushed, rc;

	if (p->tx_rc != STORE_OK) {
		rc = p->tx_rc;
		goto out;
	}
	if (first ? !pgconn_alive(p) : (p->conn == NULL || PQstatus(p->conn) != CONNECTION_OK)) {
		if (!first) {
			rc = p->tx_rc = STORE_RETRY;
			goto out;
		}
		if ((rc = pgconn_connect(p)) != STORE_OK)
			goto out;
	}
	rc = pipe_once(p, sql, params, out, commit);
	if (rc != STORE_OK && first &&
	    (p->lost == LOST_UNSENT || (p->lost == LOST_UNKNOWN && !commit)) &&
	    pgconn_connect(p) == STORE_OK) {
		p->tx_rc = STORE_OK;
		p->begin_pending = 1;
		p->tx_flushed = 0;
		rc = pipe_once(p, sql, params, out, commit);
	}
out:
	pending_clear(p);
	return rc;
}

int
pgdb_exec(struct store *st, const char *sql, const struct pgdb_params *params, PGresult **out)
{
	struct pg_store *p = pg(st);
	int rc;

	if (out != NULL)
		*out = NULL;
	if (p->in_tx) {
		if (p->tx_rc != STORE_OK)
			return p->tx_rc;
		/* A write whose result nobody reads waits for the next round trip. */
		if (out == NULL && p->npending < MAX_PENDING)
			return pending_add(p, sql, params);
		return pipe_flush(p, sql, params, out, 0);
	}
	rc = exec_once(p, sql, params, out);
	if (rc != STORE_UNAVAILABLE)
		return rc;
	/* Outside a transaction, a statement that never ran runs again on a new connection,
	 * and so does a read; a write lost in flight on a stale connection to a database
	 * that is back is of unknown outcome, not a sign the database is gone. */
	if (p->lost == LOST_UNSENT || is_read(sql))
		return exec_once(p, sql, params, out);
	return pgconn_reachable_again(p) ? STORE_UNKNOWN : rc;
}

/* A simple-protocol command (a migration script, LISTEN): no parameters; inside a
 * transaction, what is pending goes first. */
int
pgconn_exec_simple(struct pg_store *p, const char *sql, int commit)
{
	PGresult *res;
	int64_t deadline;
	int timed_out, rc;

	if (p->in_tx && (p->begin_pending || p->npending > 0) &&
	    (rc = pipe_flush(p, NULL, NULL, NULL, 0)) != STORE_OK)
		return rc;
	if (p->conn == NULL || !PQsendQuery(p->conn, sql))
		return pgconn_fail_unsent(p);
	deadline = pgconn_now_ms() + p->timeout_ms;
	res = pgconn_await_result(p, deadline, &timed_out);
	if (res == NULL || (PQresultStatus(res) != PGRES_COMMAND_OK &&
			       PQresultStatus(res) != PGRES_TUPLES_OK))
		return pgconn_fail_round_trip(p, res, timed_out, commit);
	PQclear(res);
	return STORE_OK;
}

int
pgdb_exec_count(struct store *st, const char *sql, const struct pgdb_params *p, int64_t *count)
{
	PGresult *res;
	const char *n;
	int rc;

	if (count != NULL)
		*count = 0;
	if ((rc = pgdb_exec(st, sql, p, &res)) != STORE_OK)
		return rc;
	n = PQcmdTuples(res);
	if (count != NULL && n != NULL && *n)
		*count = strtoll(n, NULL, 10);
	PQclear(res);
	return STORE_OK;
}

int
pgdb_exec_found(struct store *st, const char *sql, const struct pgdb_params *p)
{
	int64_t n;
	int rc = pgdb_exec_count(st, sql, p, &n);

	return rc == STORE_OK && n == 0 ? STORE_NOTFOUND : rc;
}

/* ---- BEGIN, COMMIT, ROLLBACK ---- */

int
pgsql_begin(struct store *st)
{
	struct pg_store *p = pg(st);
	int rc;

	if (p->in_tx)
		return STORE_ERROR;
	/* A database that is gone is better known now than at the first statement. */
	if ((rc = pgconn_ensure(p)) != STORE_OK)
		return rc;
	/* BEGIN travels with the transaction's first statement. */
	p->in_tx = 1;
	p->begin_pending = 1;
	p->tx_flushed = 0;
	p->tx_rc = STORE_OK;
	return STORE_OK;
}

static void
tx_end(struct pg_store *p)
{
	pending_clear(p);
	p->in_tx = 0;
	p->begin_pending = 0;
	p->tx_flushed = 0;
	p->tx_rc = STORE_OK;
}

int
pgsql_commit(struct store *st)
{
	struct pg_store *p = pg(st);
	int rc;

	if (!p->in_tx)
		return STORE_ERROR;
	if (p->tx_rc != STORE_OK) {
		/* The server rolled the transaction back already; COMMIT was never sent. */
		rc = p->tx_rc;
		pgsql_rollback(st);
		return rc;
	}
	if (!p->tx_flushed && p->npending == 0) {
		/* Nothing was written: nothing to commit. */
		tx_end(p);
		return STORE_OK;
	}
	rc = pipe_flush(p, NULL, NULL, NULL, 1);
	/* A stale connection that failed the COMMIT itself: the outcome is unknown (fail
	 * closed), but the database may well be there, which the cache should know. */
	if (rc == STORE_UNKNOWN && p->lost == LOST_UNKNOWN)
		pgconn_reachable_again(p);
	/* A statement that failed with the COMMIT left the transaction open, aborted. */
	if (rc != STORE_OK && rc != STORE_UNKNOWN)
		pgsql_rollback(st);
	tx_end(p);
	return rc;
}

void
pgsql_rollback(struct store *st)
{
	struct pg_store *p = pg(st);

	/* Only what reached the server needs a ROLLBACK there. */
	if (p->in_tx && p->tx_flushed && p->conn != NULL) {
		p->in_tx = 0; /* ROLLBACK itself is no part of the transaction */
		if (pgconn_exec_simple(p, "ROLLBACK", 0) != STORE_OK)
			pgconn_drop(p);
	}
	tx_end(p);
}

int
pgsql_lock(struct store *st, enum store_lock what)
{
	static const char sql[] = "SELECT pg_advisory_xact_lock($1)";
	struct pgdb_params prm = {0};

	pgdb_int(&prm, what == STORE_LOCK_KEYS ? LOCK_KEYS : LOCK_KEYS + what);
	return pgdb_exec(st, sql, &prm, NULL);
}
