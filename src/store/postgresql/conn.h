/* The PostgreSQL backend's connection, private to the files that drive it: db.c (connect,
 * round trips and their failures), exec.c (statements, pipelines, transactions) and
 * schema.c (migrations). The table-family files see only db.h. */
#ifndef MCP_STORE_POSTGRESQL_CONN_H
#define MCP_STORE_POSTGRESQL_CONN_H

#include <stdint.h>

#include <libpq-fe.h>

#include "store/postgresql/db.h"

#define STMT_CACHE_SIZE 256
/* The advisory lock keys of this program ("mcp-authd" in ASCII, then a number). */
#define LOCK_MIGRATE INT64_C(0x6d63702d61757401)
#define LOCK_KEYS INT64_C(0x6d63702d61757402)

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

/* How a round trip failed, for the caller's decision to run it again. */
enum lost {
	LOST_NOTHING = 0,   /* the server answered with an error: nothing else to know */
	LOST_UNSENT,        /* the statement never ran: the server refused the connection
			     * first (it was shutting down) or nothing left this process */
	LOST_UNKNOWN,       /* the connection went while the statement was in flight */
	LOST_TIMEOUT,       /* no answer within the deadline */
};

static inline struct pg_store *
pg(struct store *st)
{
	return (struct pg_store *)st;
}

/* ---- db.c ---- */

/* Milliseconds of the monotonic clock (deadlines). */
int64_t pgconn_now_ms(void);

/* Set p's error message: what, then detail (may be NULL), on one line. */
void pgconn_set_err(struct pg_store *p, const char *what, const char *detail);

/* Close p's connection (if any) and forget its prepared statements. */
void pgconn_drop(struct pg_store *p);

/* Open p's connection again: STORE_OK, or STORE_UNAVAILABLE with the error set. */
int pgconn_connect(struct pg_store *p);

/* Is p's connection still there (one non-blocking read)? */
int pgconn_alive(struct pg_store *p);

/* A live connection: STORE_OK; reopened when lost outside a transaction; STORE_RETRY
 * (and the transaction's failure) when lost inside one. */
int pgconn_ensure(struct pg_store *p);

/* Wait until the socket is readable (or, with out, writable): 0, or -1 at the deadline. */
int pgconn_wait_socket(struct pg_store *p, int out, int64_t deadline);

/* Send what libpq has buffered and read one command's whole result; NULL on timeout
 * (*timed_out set) or a lost connection. */
PGresult *pgconn_await_result(struct pg_store *p, int64_t deadline, int *timed_out);

/* The STORE_* code of a failed round trip (res, freed here, is the server's answer;
 * NULL when there was none); sets p->lost, drops the connection unless the server
 * answered with an ordinary error, and records a transaction's first failure. */
int pgconn_fail_round_trip(struct pg_store *p, PGresult *res, int timed_out, int commit);

/* A failed round trip in which libpq sent nothing. */
int pgconn_fail_unsent(struct pg_store *p);

/* After a connection lost mid-statement (not a timeout): 1 when a new one opens. */
int pgconn_reachable_again(struct pg_store *p);

/* The statement cache slot of sql: *prepared 1 when it holds sql, 0 when it is free
 * for it; NULL when the cache is full. */
struct stmt_slot *pgconn_stmt_slot(struct pg_store *p, const char *sql, int *prepared);

/* ---- exec.c ---- */

/* A simple-protocol command (a migration script, LISTEN, ROLLBACK): no parameters;
 * inside a transaction, what is pending goes first. */
int pgconn_exec_simple(struct pg_store *p, const char *sql, int commit);

#endif
