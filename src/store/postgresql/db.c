/* PostgreSQL connection management: connect with a deadline, every round trip bounded in
 * time, SQLSTATEs mapped to STORE_* codes, a lost connection noticed and reopened.
 *
 * Statements, pipelines and transactions are in exec.c, parameters and result readers in
 * stmt.c, migrations and settings in schema.c. */
#include "config.h"

#include "store/postgresql/db.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/postgresql/conn.h"

#define DEFAULT_TIMEOUT_MS 5000
#define CHANGES_CHANNEL "mcp_authd_changes"

int64_t
pgconn_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One line for logs, never the password of the URI (libpq may quote it). */
void
pgconn_set_err(struct pg_store *p, const char *what, const char *detail)
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

void
pgconn_drop(struct pg_store *p)
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

int
pgconn_connect(struct pg_store *p)
{
	char timeout[16];
	const char *keys[] = {"connect_timeout", "dbname", "fallback_application_name", NULL};
	const char *vals[] = {timeout, p->url, "mcp-authd", NULL};
	int per_host = p->timeout_ms / 1000 / count_hosts(p->url);

	pgconn_drop(p);
	/* libpq waits at least 2 s per host; a URI that sets connect_timeout wins (it
	 * comes later, inside dbname). */
	snprintf(timeout, sizeof(timeout), "%d", per_host < 2 ? 2 : per_host);
	p->conn = PQconnectdbParams(keys, vals, 1);
	if (p->conn == NULL || PQstatus(p->conn) != CONNECTION_OK) {
		pgconn_set_err(p, "cannot connect",
		    p->conn ? PQerrorMessage(p->conn) : "out of memory");
		pgconn_drop(p);
		return STORE_UNAVAILABLE;
	}
	PQsetNoticeProcessor(p->conn, ignore_notice, NULL);
	if (PQsetnonblocking(p->conn, 1) != 0) {
		pgconn_set_err(p, "cannot connect", "non-blocking mode refused");
		pgconn_drop(p);
		return STORE_UNAVAILABLE;
	}
	return STORE_OK;
}

/* Wait until the socket is readable (or, with out, writable) or the deadline passes. */
int
pgconn_wait_socket(struct pg_store *p, int out, int64_t deadline)
{
	struct pollfd pfd;
	int64_t left = deadline - pgconn_now_ms();
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
PGresult *
pgconn_await_result(struct pg_store *p, int64_t deadline, int *timed_out)
{
	PGresult *res = NULL, *extra;
	int f;

	*timed_out = 0;
	while ((f = PQflush(p->conn)) == 1) {
		if (pgconn_wait_socket(p, 1, deadline) != 0) {
			*timed_out = 1;
			return NULL;
		}
		if (PQconsumeInput(p->conn) == 0)
			return NULL;
	}
	if (f < 0)
		return NULL;
	while (PQisBusy(p->conn)) {
		if (pgconn_wait_socket(p, 0, deadline) != 0) {
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
			if (pgconn_wait_socket(p, 0, deadline) != 0) {
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

/* What a failed round trip means. The connection is dropped unless the server answered
 * with an ordinary error. */
int
pgconn_fail_round_trip(struct pg_store *p, PGresult *res, int timed_out, int commit)
{
	int rc;

	if (res != NULL) {
		rc = map_sqlstate(PQresultErrorField(res, PG_DIAG_SQLSTATE));
		pgconn_set_err(p, "database error", PQresultErrorMessage(res));
		PQclear(res);
		/* A server that says it is going away (57P0x, 08xxx) ran nothing of ours. */
		p->lost = rc == STORE_UNAVAILABLE ? LOST_UNSENT : LOST_NOTHING;
		if (rc == STORE_UNAVAILABLE)
			pgconn_drop(p);
	} else {
		pgconn_set_err(p, timed_out ? "database timed out" : "database connection lost",
		    p->conn ? PQerrorMessage(p->conn) : NULL);
		pgconn_drop(p);
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
int
pgconn_reachable_again(struct pg_store *p)
{
	return p->lost == LOST_UNKNOWN && pgconn_connect(p) == STORE_OK;
}

/* Is the connection still there? A server that went away (restart, failover, a
 * terminated backend) has usually said so already: its last words wait in our socket,
 * and reading them costs one non-blocking read, far less than a request lost on a dead
 * connection. */
int
pgconn_alive(struct pg_store *p)
{
	return p->conn != NULL && PQstatus(p->conn) == CONNECTION_OK &&
	    PQconsumeInput(p->conn) != 0 && PQstatus(p->conn) == CONNECTION_OK;
}

int
pgconn_ensure(struct pg_store *p)
{
	if (pgconn_alive(p))
		return STORE_OK;
	if (p->in_tx) {
		/* The transaction went with the connection; it must start again. */
		if (p->tx_rc == STORE_OK)
			p->tx_rc = STORE_RETRY;
		return STORE_RETRY;
	}
	return pgconn_connect(p);
}

struct stmt_slot *
pgconn_stmt_slot(struct pg_store *p, const char *sql, int *prepared)
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
int
pgconn_fail_unsent(struct pg_store *p)
{
	int rc = pgconn_fail_round_trip(p, NULL, 0, 0);

	p->lost = LOST_UNSENT;
	return rc;
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
	if ((rc = pgconn_connect(p)) != STORE_OK) {
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
	pgconn_drop(p);
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
	pgconn_set_err(pg(st), "use pg_dump or pg_basebackup", NULL);
	return STORE_UNSUPPORTED;
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

	if ((rc = pgconn_ensure(p)) != STORE_OK)
		return rc;
	if (!p->listening) {
		if ((rc = pgconn_exec_simple(p, listen, 0)) != STORE_OK)
			return rc;
		p->listening = 1;
	}
	if (drain_notifies(p))
		return STORE_OK;
	/* Nothing yet: sleep on the socket until a notification or the poll interval. */
	pgconn_wait_socket(p, 0, pgconn_now_ms() + timeout_ms);
	if (PQconsumeInput(p->conn) == 0) {
		pgconn_set_err(p, "database connection lost", PQerrorMessage(p->conn));
		pgconn_drop(p);
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
