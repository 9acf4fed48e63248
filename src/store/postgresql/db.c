/* PostgreSQL connection management: connect with a deadline, statements prepared once per
 * connection, every round trip bounded in time, SQLSTATEs mapped to STORE_* codes, a lost
 * connection reopened, migrations under an advisory lock. */
#include "config.h"

#include "store/postgresql/db.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/embedded.h"

#define STMT_CACHE_SIZE 256
#define DEFAULT_TIMEOUT_MS 5000
/* The advisory lock keys of this program ("mcp-authd" in ASCII, then a number). */
#define LOCK_MIGRATE INT64_C(0x6d63702d61757401)
#define LOCK_KEYS INT64_C(0x6d63702d61757402)
#define CHANGES_CHANNEL "mcp_authd_changes"

struct stmt_slot {
	const char *sql;
	char name[16];
};

/* A write queued inside a transaction: its result is not needed until the commit, so it
 * travels with the next statement that needs one (or with COMMIT) in one pipeline. The
 * parameters are copies. */
struct pending {
	const char *sql;
	int n;
	char *values[PGDB_MAX_PARAMS];
	int lengths[PGDB_MAX_PARAMS];
	int formats[PGDB_MAX_PARAMS];
};

#define MAX_PENDING 64

struct pg_store {
	struct store base;      /* first: a struct store * is a struct pg_store * */
	PGconn *conn;
	char *url;
	int timeout_ms;
	int in_tx;              /* between pgsql_begin and the end of the transaction */
	int begin_pending;      /* BEGIN not sent yet: it goes with the first statement */
	int tx_flushed;         /* something of this transaction reached the server */
	int tx_rc;              /* the first failure inside the transaction (STORE_OK if none) */
	struct pending pending[MAX_PENDING];
	int npending;
	int listening;
	int lost;               /* enum lost: how the last round trip failed */
	int nstmts;
	char err[256];
	struct stmt_slot cache[STMT_CACHE_SIZE];
};

static struct pg_store *
pg(struct store *st)
{
	return (struct pg_store *)st;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One line for logs, never the password of the URI (libpq may quote it). */
static void
set_err(struct pg_store *p, const char *what, const char *detail)
{
	size_t n, i;

	snprintf(p->err, sizeof(p->err), "%s%s%s", what, detail && *detail ? ": " : "",
	    detail ? detail : "");
	store_scrub_password(p->url, p->err, sizeof(p->err));
	n = strlen(p->err);
	while (n > 0 && (p->err[n - 1] == '\n' || p->err[n - 1] == ' '))
		p->err[--n] = '\0';
	for (i = 0; i < n; i++) {
		if (p->err[i] == '\n' || p->err[i] == '\t')
			p->err[i] = ' ';
	}
}

static void
drop_connection(struct pg_store *p)
{
	if (p->conn != NULL)
		PQfinish(p->conn);
	p->conn = NULL;
	p->listening = 0;
	memset(p->cache, 0, sizeof(p->cache));
	p->nstmts = 0;
}

static void
ignore_notice(void *arg, const char *message)
{
	/* Notices (an existing LISTEN, a skipped IF NOT EXISTS) are not errors. */
}

/* How many hosts the URI lists (h1:5432,h2:5433): each gets a share of the deadline. */
static int
count_hosts(const char *url)
{
	const char *a = strstr(url, "://"), *end, *at, *q;
	int n = 1;

	if (a == NULL)
		return 1;
	a += 3;
	end = a + strcspn(a, "/?#");
	at = NULL;
	for (q = a; q < end; q++) {
		if (*q == '@')
			at = q;
	}
	for (q = at ? at + 1 : a; q < end; q++)
		n += *q == ',';
	return n;
}

static int
connect_now(struct pg_store *p)
{
	char timeout[16];
	const char *keys[] = {"connect_timeout", "dbname", "fallback_application_name", NULL};
	const char *vals[] = {timeout, p->url, "mcp-authd", NULL};
	int per_host = p->timeout_ms / 1000 / count_hosts(p->url);

	drop_connection(p);
	/* libpq waits at least 2 s per host; a URI that sets connect_timeout wins (it
	 * comes later, inside dbname). */
	snprintf(timeout, sizeof(timeout), "%d", per_host < 2 ? 2 : per_host);
	p->conn = PQconnectdbParams(keys, vals, 1);
	if (p->conn == NULL || PQstatus(p->conn) != CONNECTION_OK) {
		set_err(p, "cannot connect", p->conn ? PQerrorMessage(p->conn) : "out of memory");
		drop_connection(p);
		return STORE_UNAVAILABLE;
	}
	PQsetNoticeProcessor(p->conn, ignore_notice, NULL);
	if (PQsetnonblocking(p->conn, 1) != 0) {
		set_err(p, "cannot connect", "non-blocking mode refused");
		drop_connection(p);
		return STORE_UNAVAILABLE;
	}
	return STORE_OK;
}

/* Wait until the socket is readable (or, with out, writable) or the deadline passes. */
static int
wait_socket(struct pg_store *p, int out, int64_t deadline)
{
	struct pollfd pfd;
	int64_t left = deadline - now_ms();
	int r;

	if (left <= 0)
		return -1;
	pfd.fd = PQsocket(p->conn);
	pfd.events = POLLIN | (out ? POLLOUT : 0);
	pfd.revents = 0;
	do
		r = poll(&pfd, 1, (int)(left > 60000 ? 60000 : left));
	while (r < 0 && errno == EINTR);
	return r > 0 ? 0 : -1;
}

/* Send what libpq has buffered and read until a whole result is there; NULL on timeout
 * or a lost connection (then *lost says which). */
static PGresult *
await_result(struct pg_store *p, int64_t deadline, int *timed_out)
{
	PGresult *res = NULL, *extra;
	int f;

	*timed_out = 0;
	while ((f = PQflush(p->conn)) == 1) {
		if (wait_socket(p, 1, deadline) != 0) {
			*timed_out = 1;
			return NULL;
		}
		if (PQconsumeInput(p->conn) == 0)
			return NULL;
	}
	if (f < 0)
		return NULL;
	while (PQisBusy(p->conn)) {
		if (wait_socket(p, 0, deadline) != 0) {
			*timed_out = 1;
			return NULL;
		}
		if (PQconsumeInput(p->conn) == 0)
			return NULL;
	}
	res = PQgetResult(p->conn);
	/* Drain to the end of this command (one result per statement here). */
	while (res != NULL) {
		while (PQisBusy(p->conn)) {
			if (wait_socket(p, 0, deadline) != 0) {
				*timed_out = 1;
				PQclear(res);
				return NULL;
			}
			if (PQconsumeInput(p->conn) == 0) {
				PQclear(res);
				return NULL;
			}
		}
		if ((extra = PQgetResult(p->conn)) == NULL)
			break;
		/* A script: keep the first failure, else the last result. */
		if (PQresultStatus(res) == PGRES_FATAL_ERROR) {
			PQclear(extra);
		} else {
			PQclear(res);
			res = extra;
		}
	}
	return res;
}

/* SQLSTATE -> STORE_*. */
static int
map_sqlstate(const char *state)
{
	if (state == NULL)
		return STORE_ERROR;
	if (strncmp(state, "23", 2) == 0)
		return STORE_CONFLICT;                  /* integrity constraint violation */
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
		return STORE_RETRY;                     /* serialization failure, deadlock */
	if (strcmp(state, "55P03") == 0 || strcmp(state, "57014") == 0)
		return STORE_BUSY;                      /* lock not available, canceled */
	if (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
	    strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0 ||
	    strcmp(state, "25006") == 0)
		return STORE_UNAVAILABLE;               /* connection gone, shutdown, read-only */
	return STORE_ERROR;
}

/* How a round trip failed, for the caller's decision to run it again. */
enum lost {
	LOST_NOTHING = 0,   /* the server answered with an error: nothing else to know */
	LOST_UNSENT,        /* the statement never ran: the server refused the connection
			     * first (it was shutting down) or nothing left this process */
	LOST_UNKNOWN,       /* the connection went while the statement was in flight */
	LOST_TIMEOUT,       /* no answer within the deadline */
};

/* What a failed round trip means. The connection is dropped unless the server answered
 * with an ordinary error. */
static int
fail_round_trip(struct pg_store *p, PGresult *res, int timed_out, int commit)
{
	int rc;

	if (res != NULL) {
		rc = map_sqlstate(PQresultErrorField(res, PG_DIAG_SQLSTATE));
		set_err(p, "database error", PQresultErrorMessage(res));
		PQclear(res);
		/* A server that says it is going away (57P0x, 08xxx) ran nothing of ours. */
		p->lost = rc == STORE_UNAVAILABLE ? LOST_UNSENT : LOST_NOTHING;
		if (rc == STORE_UNAVAILABLE)
			drop_connection(p);
	} else {
		set_err(p, timed_out ? "database timed out" : "database connection lost",
		    p->conn ? PQerrorMessage(p->conn) : NULL);
		drop_connection(p);
		p->lost = timed_out ? LOST_TIMEOUT : LOST_UNKNOWN;
		rc = STORE_UNAVAILABLE;
	}
	if (commit && p->lost >= LOST_UNKNOWN)
		return STORE_UNKNOWN; /* COMMIT went out; whether it happened, nobody knows */
	if (p->in_tx) {
		/* Inside a transaction every later statement fails too: remember why. A
		 * transaction whose connection went before COMMIT can run again from BEGIN;
		 * one that timed out cannot usefully (the database is not answering, and
		 * db_timeout bounds the whole request). */
		if (rc == STORE_UNAVAILABLE && p->lost != LOST_TIMEOUT)
			rc = STORE_RETRY;
		if (p->tx_rc == STORE_OK)
			p->tx_rc = rc;
	}
	return rc;
}

/* After a connection dropped mid-statement (not a timeout): is the database there?
 * A stale connection (the server restarted, a failover) is the usual cause, and the
 * answer decides between "the database is unreachable" and "this one statement's
 * outcome is unknown". */
static int
reachable_again(struct pg_store *p)
{
	return p->lost == LOST_UNKNOWN && connect_now(p) == STORE_OK;
}

/* Is the connection still there? A server that went away (restart, failover, a
 * terminated backend) has usually said so already: its last words wait in our socket,
 * and reading them costs one non-blocking read, far less than a request lost on a dead
 * connection. */
static int
connection_alive(struct pg_store *p)
{
	return p->conn != NULL && PQstatus(p->conn) == CONNECTION_OK &&
	    PQconsumeInput(p->conn) != 0 && PQstatus(p->conn) == CONNECTION_OK;
}

static int
ensure_connected(struct pg_store *p)
{
	if (connection_alive(p))
		return STORE_OK;
	if (p->in_tx) {
		/* The transaction went with the connection; it must start again. */
		if (p->tx_rc == STORE_OK)
			p->tx_rc = STORE_RETRY;
		return STORE_RETRY;
	}
	return connect_now(p);
}

static struct stmt_slot *
stmt_slot(struct pg_store *p, const char *sql, int *prepared)
{
	size_t h = ((uintptr_t)sql >> 3) % STMT_CACHE_SIZE, i;

	for (i = 0; i < STMT_CACHE_SIZE; i++) {
		struct stmt_slot *s = &p->cache[(h + i) % STMT_CACHE_SIZE];

		if (s->sql == sql) {
			*prepared = 1;
			return s;
		}
		if (s->sql == NULL) {
			*prepared = 0;
			return s;
		}
	}
	return NULL;
}

/* libpq refused to send: nothing left this process. */
static int
fail_unsent(struct pg_store *p)
{
	int rc = fail_round_trip(p, NULL, 0, 0);

	p->lost = LOST_UNSENT;
	return rc;
}

/* One prepared statement, one round trip (two the first time on a connection). */
static int
exec_once(struct pg_store *p, const char *sql, const struct pgdb_params *params, PGresult **out)
{
	struct stmt_slot *slot;
	PGresult *res;
	int64_t deadline = now_ms() + p->timeout_ms;
	int prepared, timed_out, n = params ? params->n : 0, rc;

	if ((rc = ensure_connected(p)) != STORE_OK)
		return rc;
	if (p->in_tx && p->tx_rc != STORE_OK)
		return p->tx_rc;
	if ((slot = stmt_slot(p, sql, &prepared)) == NULL) {
		set_err(p, "statement cache full", NULL);
		return STORE_ERROR;
	}
	if (!prepared) {
		char name[16];

		snprintf(name, sizeof(name), "s%d", p->nstmts);
		if (!PQsendPrepare(p->conn, name, sql, n, NULL))
			return fail_unsent(p);
		res = await_result(p, deadline, &timed_out);
		if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK)
			return fail_round_trip(p, res, timed_out, 0);
		PQclear(res);
		slot->sql = sql;
		memcpy(slot->name, name, sizeof(name));
		p->nstmts++;
	}
	if (!PQsendQueryPrepared(p->conn, slot->name, n, params ? params->values : NULL,
		params ? params->lengths : NULL, params ? params->formats : NULL, 0))
		return fail_unsent(p);
	res = await_result(p, deadline, &timed_out);
	if (res == NULL || (PQresultStatus(res) != PGRES_COMMAND_OK &&
			       PQresultStatus(res) != PGRES_TUPLES_OK))
		return fail_round_trip(p, res, timed_out, 0);
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
	if ((slot = stmt_slot(p, sql, &prepared)) == NULL)
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
		if (wait_socket(p, 1, deadline) != 0) {
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
		if (wait_socket(p, 0, deadline) != 0) {
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
	int64_t deadline = now_ms() + p->timeout_ms;
	int nitems = 0, i, failed = 0, timed_out = 0;

	if (p->conn == NULL || !PQenterPipelineMode(p->conn))
		return fail_unsent(p);
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
		return fail_round_trip(p, NULL, timed_out, commit);
	}
	PQexitPipelineMode(p->conn);
	p->begin_pending = 0;
	if (bad != NULL) {
		PQclear(final);
		return fail_round_trip(p, bad, 0, 0);
	}
	if (out != NULL)
		*out = final;
	else
		PQclear(final);
	return STORE_OK;
unsent:
	return fail_unsent(p);
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
	if (first ? !connection_alive(p) : (p->conn == NULL || PQstatus(p->conn) != CONNECTION_OK)) {
		if (!first) {
			rc = p->tx_rc = STORE_RETRY;
			goto out;
		}
		if ((rc = connect_now(p)) != STORE_OK)
			goto out;
	}
	rc = pipe_once(p, sql, params, out, commit);
	if (rc != STORE_OK && first &&
	    (p->lost == LOST_UNSENT || (p->lost == LOST_UNKNOWN && !commit)) &&
	    connect_now(p) == STORE_OK) {
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
	return reachable_again(p) ? STORE_UNKNOWN : rc;
}

/* A simple-protocol command (a migration script, LISTEN): no parameters; inside a
 * transaction, what is pending goes first. */
static int
exec_simple(struct pg_store *p, const char *sql, int commit)
{
	PGresult *res;
	int64_t deadline;
	int timed_out, rc;

	if (p->in_tx && (p->begin_pending || p->npending > 0) &&
	    (rc = pipe_flush(p, NULL, NULL, NULL, 0)) != STORE_OK)
		return rc;
	if (p->conn == NULL || !PQsendQuery(p->conn, sql))
		return fail_unsent(p);
	deadline = now_ms() + p->timeout_ms;
	res = await_result(p, deadline, &timed_out);
	if (res == NULL || (PQresultStatus(res) != PGRES_COMMAND_OK &&
			       PQresultStatus(res) != PGRES_TUPLES_OK))
		return fail_round_trip(p, res, timed_out, commit);
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

/* ---- connection ---- */

int
pgsql_open(const char *url, const struct store_options *opt, struct store **out)
{
	struct pg_store *p;
	int rc;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return STORE_ERROR;
	p->base.be = &store_postgresql_backend;
	p->timeout_ms = opt && opt->timeout_ms > 0 ? opt->timeout_ms : DEFAULT_TIMEOUT_MS;
	if ((p->url = strdup(url)) == NULL) {
		free(p);
		return STORE_ERROR;
	}
	if ((rc = connect_now(p)) != STORE_OK) {
		store_set_open_error(p->err);
		pgsql_close(&p->base);
		return rc;
	}
	*out = &p->base;
	return STORE_OK;
}

void
pgsql_close(struct store *st)
{
	struct pg_store *p = pg(st);

	if (p == NULL)
		return;
	drop_connection(p);
	free(p->url);
	free(p);
}

const char *
pgsql_errmsg(struct store *st)
{
	struct pg_store *p = pg(st);

	return p->err[0] ? p->err : "no error";
}

int
pgsql_begin(struct store *st)
{
	struct pg_store *p = pg(st);
	int rc;

	if (p->in_tx)
		return STORE_ERROR;
	/* A database that is gone is better known now than at the first statement. */
	if ((rc = ensure_connected(p)) != STORE_OK)
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
		reachable_again(p);
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
		if (exec_simple(p, "ROLLBACK", 0) != STORE_OK)
			drop_connection(p);
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

int
pgsql_ping(struct store *st)
{
	static const char sql[] = "SELECT 1";

	return pgdb_exec(st, sql, NULL, NULL);
}

int
pgsql_size(struct store *st, int64_t *bytes)
{
	static const char sql[] = "SELECT pg_database_size(current_database())";

	*bytes = 0;
	return pgdb_one(st, sql, NULL, pgdb_row_int64, bytes);
}

int
pgsql_checkpoint(struct store *st, int min_frames)
{
	return 0; /* the server checkpoints */
}

int
pgsql_backup(struct store *st, const char *dest_path)
{
	set_err(pg(st), "use pg_dump or pg_basebackup", NULL);
	return STORE_UNSUPPORTED;
}

/* ---- schema ---- */

/* "001_init.sql" -> 1; -1 when the name does not start with digits and '_'. */
static int
migration_number(const char *name)
{
	int n = 0, digits = 0;

	while (*name >= '0' && *name <= '9') {
		n = n * 10 + (*name++ - '0');
		digits++;
	}
	return (digits > 0 && *name == '_') ? n : -1;
}

int
pgsql_schema_version(struct store *st, int *version)
{
	static const char exists[] = "SELECT to_regclass('schema_version') IS NOT NULL";
	static const char sql[] = "SELECT coalesce(max(version), 0) FROM schema_version";
	int64_t v = 0, present = 0;
	int rc;

	*version = 0;
	if ((rc = pgdb_one(st, exists, NULL, pgdb_row_int64, &present)) != STORE_OK)
		return rc;
	if (!present)
		return STORE_OK; /* an empty database */
	if ((rc = pgdb_one(st, sql, NULL, pgdb_row_int64, &v)) == STORE_OK)
		*version = (int)v;
	return rc;
}

static int
advisory(struct pg_store *p, int take)
{
	static const char lock[] = "SELECT pg_advisory_lock($1)";
	static const char unlock[] = "SELECT pg_advisory_unlock($1)";
	struct pgdb_params prm = {0};

	pgdb_int(&prm, LOCK_MIGRATE);
	return pgdb_exec(&p->base, take ? lock : unlock, &prm, NULL);
}

int
pgsql_migrate(struct store *st, int *applied)
{
	static const char table[] =
	    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
	    "name TEXT NOT NULL, applied_at BIGINT NOT NULL)";
	static const char record[] =
	    "INSERT INTO schema_version(version, name, applied_at) "
	    "VALUES ($1, $2, extract(epoch FROM now())::bigint)";
	struct pg_store *p = pg(st);
	const struct embedded_file *f;
	int current, n = 0, rc;

	if (applied != NULL)
		*applied = 0;
	/* Nodes starting together, or a node and the CLI, take turns here; the version is
	 * read under the lock so that each migration runs exactly once. */
	if ((rc = ensure_connected(p)) != STORE_OK || (rc = advisory(p, 1)) != STORE_OK)
		return rc;
	if ((rc = exec_simple(p, table, 0)) != STORE_OK)
		goto out;
	for (f = embedded_sql_postgresql; f->name != NULL; f++) {
		int num = migration_number(f->name);
		struct pgdb_params prm = {0};

		if (num < 0)
			continue;
		if ((rc = pgsql_schema_version(st, &current)) != STORE_OK)
			goto out;
		if (num <= current)
			continue;
		if ((rc = pgsql_begin(st)) != STORE_OK)
			goto out;
		pgdb_int(&prm, num);
		pgdb_text(&prm, f->name);
		if ((rc = exec_simple(p, f->data, 0)) != STORE_OK ||
		    (rc = pgdb_exec(st, record, &prm, NULL)) != STORE_OK) {
			pgsql_rollback(st);
			goto out;
		}
		if ((rc = pgsql_commit(st)) != STORE_OK)
			goto out;
		n++;
	}
	if (applied != NULL)
		*applied = n;
	rc = STORE_OK;
out:
	if (p->conn != NULL)
		advisory(p, 0);
	return rc;
}

int
pgsql_setting_get_new(struct store *st, const char *key, char **value)
{
	static const char sql[] = "SELECT value FROM settings WHERE key = $1";
	struct pgdb_params prm = {0};

	*value = NULL;
	pgdb_text(&prm, key);
	return pgdb_one(st, sql, &prm, pgdb_row_text, value);
}

int
pgsql_setting_set(struct store *st, const char *key, const char *value)
{
	static const char sql[] =
	    "INSERT INTO settings(key, value) VALUES ($1, $2) "
	    "ON CONFLICT(key) DO UPDATE SET value = excluded.value";
	struct pgdb_params prm = {0};

	pgdb_text(&prm, key);
	pgdb_text(&prm, value);
	return pgdb_exec(st, sql, &prm, NULL);
}

/* ---- notifications (the registry cache's wait) ---- */

static int
drain_notifies(struct pg_store *p)
{
	PGnotify *n;
	int got = 0;

	while ((n = PQnotifies(p->conn)) != NULL) {
		got = 1;
		PQfreemem(n);
	}
	return got;
}

int
pgsql_wait_change(struct store *st, int timeout_ms)
{
	static const char listen[] = "LISTEN " CHANGES_CHANNEL;
	struct pg_store *p = pg(st);
	int rc;

	if ((rc = ensure_connected(p)) != STORE_OK)
		return rc;
	if (!p->listening) {
		if ((rc = exec_simple(p, listen, 0)) != STORE_OK)
			return rc;
		p->listening = 1;
	}
	if (drain_notifies(p))
		return STORE_OK;
	/* Nothing yet: sleep on the socket until a notification or the poll interval. */
	wait_socket(p, 0, now_ms() + timeout_ms);
	if (PQconsumeInput(p->conn) == 0) {
		set_err(p, "database connection lost", PQerrorMessage(p->conn));
		drop_connection(p);
		return STORE_UNAVAILABLE;
	}
	drain_notifies(p);
	return STORE_OK;
}

const struct store_backend store_postgresql_backend = {
	.name = "postgresql",
	.close = pgsql_close,
	.begin = pgsql_begin,
	.commit = pgsql_commit,
	.rollback = pgsql_rollback,
	.errmsg = pgsql_errmsg,
#define PGSQL_OP_SLOT(name, params, args) .name = pgsql_##name,
	STORE_ALL_OPS(PGSQL_OP_SLOT)
#undef PGSQL_OP_SLOT
};
