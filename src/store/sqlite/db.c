/* SQLite connection management: open, pragmas, migrations, statement cache. */
#include "config.h"

#include "store/sqlite/db.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/embedded.h"

#define STMT_CACHE_SIZE 256
#define BUSY_TIMEOUT_MS 5000

struct stmt_slot {
	const char *sql;
	sqlite3_stmt *stmt;
};

struct sqlite_store {
	struct store base;      /* first: a struct store * is a struct sqlite_store * */
	sqlite3 *db;
	int holds_write_lock;
	int busy_timeout_ms;
	struct stmt_slot cache[STMT_CACHE_SIZE];
};

static struct sqlite_store *
sq(struct store *st)
{
	return (struct sqlite_store *)st;
}

/* Frames in the WAL as the last commit of any connection left it. */
static atomic_int wal_frames;

static int
on_wal_commit(void *arg, sqlite3 *db, const char *name, int frames)
{
	atomic_store(&wal_frames, frames);
	return SQLITE_OK;
}

/* Writers of this process take turns here before asking SQLite for its write lock. When
 * two threads race for it, SQLite's busy handler makes the loser sleep for whole
 * milliseconds; queueing on a mutex costs microseconds. Other processes (the CLI,
 * another server) still meet the busy handler below. */
static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;

/* Busy handler for other processes' locks: short sleeps that grow to 5 ms, up to the
 * connection's timeout in all, instead of SQLite's default steps of up to 100 ms. */
static int
on_busy(void *arg, int count)
{
	const struct sqlite_store *s = arg;
	long us = count < 10 ? 100L * (count + 1) : 5000L;
	struct timespec ts = {0, us * 1000};

	if (count > 10 + s->busy_timeout_ms / 5)
		return 0;
	nanosleep(&ts, NULL);
	return 1;
}

sqlite3 *
db_handle(struct store *st)
{
	return sq(st)->db;
}

int
db_map(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return STORE_OK;
	case SQLITE_CONSTRAINT:
		return STORE_CONFLICT;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return STORE_BUSY;
	default:
		return STORE_ERROR;
	}
}

static void
release_write_lock(struct sqlite_store *st)
{
	if (st->holds_write_lock) {
		st->holds_write_lock = 0;
		pthread_mutex_unlock(&write_lock);
	}
}

char *
sqlite_memory_path_new(void)
{
	static atomic_uint counter;
	char *p = malloc(96);

	/* The memdb VFS shares a database between connections of one process when
	 * its name starts with '/'. */
	if (p != NULL)
		snprintf(p, 96, "file:/mcp-authd-%ld-%u?vfs=memdb", (long)getpid(),
		    atomic_fetch_add(&counter, 1));
	return p;
}

static int
exec_simple(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? STORE_OK : STORE_ERROR;
}

int
sqlite_open(const char *path, const struct store_options *opt, struct store **out)
{
	struct sqlite_store *st = NULL;
	int flags, memdb, rc = STORE_ERROR;
	const char *sync = (opt && opt->synchronous) ? opt->synchronous : "NORMAL";

	*out = NULL;
	memdb = strncmp(path, "file:", 5) == 0 && strstr(path, "vfs=memdb") != NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return STORE_ERROR;
	st->base.be = &store_sqlite_backend;
	st->busy_timeout_ms = opt && opt->timeout_ms > 0 ? opt->timeout_ms : BUSY_TIMEOUT_MS;
	flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
	if (opt && opt->readonly)
		flags |= SQLITE_OPEN_READONLY;
	else
		flags |= SQLITE_OPEN_READWRITE | ((memdb || (opt && opt->create)) ? SQLITE_OPEN_CREATE : 0);
	if (sqlite3_open_v2(path, &st->db, flags, NULL) != SQLITE_OK)
		goto out;
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_handler(st->db, on_busy, st);
	if (exec_simple(st->db, "PRAGMA foreign_keys = ON") != STORE_OK)
		goto out;
	if (!memdb && !(opt && opt->readonly)) {
		char pragma[64];

		if (exec_simple(st->db, "PRAGMA journal_mode = WAL") != STORE_OK)
			goto out;
		snprintf(pragma, sizeof(pragma), "PRAGMA synchronous = %s",
		    strcmp(sync, "FULL") == 0 ? "FULL" : "NORMAL");
		if (exec_simple(st->db, pragma) != STORE_OK)
			goto out;
		if (opt != NULL && opt->manual_checkpoint) {
			sqlite3_wal_autocheckpoint(st->db, 0);
			sqlite3_wal_hook(st->db, on_wal_commit, NULL);
		}
	}
	*out = &st->base;
	st = NULL;
	rc = STORE_OK;
out:
	sqlite_close(st ? &st->base : NULL);
	return rc;
}

void
sqlite_close(struct store *base)
{
	struct sqlite_store *st = sq(base);
	size_t i;

	if (st == NULL)
		return;
	release_write_lock(st);
	for (i = 0; i < STMT_CACHE_SIZE; i++)
		sqlite3_finalize(st->cache[i].stmt);
	sqlite3_close_v2(st->db);
	free(st);
}

const char *
sqlite_errmsg(struct store *base)
{
	struct sqlite_store *st = sq(base);

	return st && st->db ? sqlite3_errmsg(st->db) : "no database";
}

sqlite3_stmt *
db_stmt(struct store *base, const char *sql)
{
	struct sqlite_store *st = sq(base);
	size_t h = ((uintptr_t)sql >> 3) % STMT_CACHE_SIZE, i;

	for (i = 0; i < STMT_CACHE_SIZE; i++) {
		struct stmt_slot *s = &st->cache[(h + i) % STMT_CACHE_SIZE];

		if (s->sql == sql)
			return s->stmt;
		if (s->sql == NULL) {
			if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->stmt,
				NULL) != SQLITE_OK)
				return NULL;
			s->sql = sql;
			return s->stmt;
		}
	}
	return NULL;
}

void
db_reset(sqlite3_stmt *stmt)
{
	if (stmt != NULL) {
		sqlite3_reset(stmt);
		sqlite3_clear_bindings(stmt);
	}
}

int
db_exec_stmt(sqlite3_stmt *stmt)
{
	int rc = sqlite3_step(stmt);

	db_reset(stmt);
	return rc == SQLITE_DONE ? STORE_OK : db_map(rc);
}

int
db_bind_text(sqlite3_stmt *stmt, int idx, const char *text)
{
	if (text == NULL)
		return sqlite3_bind_null(stmt, idx);
	return sqlite3_bind_text(stmt, idx, text, -1, SQLITE_STATIC);
}

int
db_bind_int_or_null(sqlite3_stmt *stmt, int idx, int64_t v)
{
	if (v == 0)
		return sqlite3_bind_null(stmt, idx);
	return sqlite3_bind_int64(stmt, idx, v);
}

char *
db_col_dup(sqlite3_stmt *stmt, int col, int *oom)
{
	const unsigned char *t = sqlite3_column_text(stmt, col);
	char *d;

	if (t == NULL)
		return NULL;
	if ((d = strdup((const char *)t)) == NULL)
		*oom = 1;
	return d;
}

int
sqlite_begin(struct store *base)
{
	struct sqlite_store *st = sq(base);
	int rc;

	pthread_mutex_lock(&write_lock);
	st->holds_write_lock = 1;
	rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		release_write_lock(st);
	return db_map(rc);
}

int
sqlite_commit(struct store *base)
{
	struct sqlite_store *st = sq(base);
	int rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);

	if (rc != SQLITE_OK) {
		sqlite_rollback(base);
		return db_map(rc) == STORE_OK ? STORE_ERROR : db_map(rc);
	}
	release_write_lock(st);
	return STORE_OK;
}

void
sqlite_rollback(struct store *base)
{
	struct sqlite_store *st = sq(base);

	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	release_write_lock(st);
}

int
sqlite_checkpoint(struct store *base, int min_frames)
{
	struct sqlite_store *st = sq(base);
	int log = 0, done = 0;

	if (atomic_load(&wal_frames) < min_frames)
		return 0;
	if (sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done) !=
	    SQLITE_OK)
		return 0;
	/* A later commit will report the WAL's new length (it restarts once fully
	 * checkpointed); until then count what is left. */
	atomic_store(&wal_frames, log - done);
	return 1;
}

int
sqlite_size(struct store *st, int64_t *bytes)
{
	static const char sql[] =
	    "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()";

	*bytes = 0;
	return db_one(db_stmt(st, sql), db_row_int64, bytes);
}

int
sqlite_ping(struct store *st)
{
	static const char sql[] = "SELECT 1";
	sqlite3_stmt *s = db_stmt(st, sql);
	int rc;

	if (s == NULL)
		return STORE_ERROR;
	rc = sqlite3_step(s);
	db_reset(s);
	return rc == SQLITE_ROW ? STORE_OK : db_map(rc);
}

int
sqlite_schema_version(struct store *base, int *version)
{
	struct sqlite_store *st = sq(base);
	sqlite3_stmt *s = NULL;
	int rc;

	*version = 0;
	rc = sqlite3_prepare_v2(st->db,
	    "SELECT coalesce(max(version), 0) FROM schema_version", -1, &s, NULL);
	if (rc != SQLITE_OK) {
		/* No table yet: an empty database. */
		sqlite3_finalize(s);
		return STORE_OK;
	}
	if (sqlite3_step(s) == SQLITE_ROW)
		*version = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return STORE_OK;
}

int
sqlite_migrate(struct store *base, int *applied)
{
	struct sqlite_store *st = sq(base);
	const struct embedded_file *f;
	int current, n = 0, rc = STORE_ERROR;

	if (applied != NULL)
		*applied = 0;
	if (exec_simple(st->db,
		"CREATE TABLE IF NOT EXISTS schema_version ("
		"version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)") !=
	    STORE_OK)
		return STORE_ERROR;
	for (f = embedded_sql_sqlite; f->name != NULL; f++) {
		int num = store_migration_number(f->name);
		sqlite3_stmt *s = NULL;

		if (num < 0)
			continue;
		if ((rc = sqlite_begin(base)) != STORE_OK)
			return rc;
		/* Read the version inside the write lock so that two processes running
		 * init at once apply each migration exactly once. */
		sqlite_schema_version(base, &current);
		if (num <= current) {
			sqlite_rollback(base);
			continue;
		}
		if (sqlite3_exec(st->db, f->data, NULL, NULL, NULL) != SQLITE_OK)
			goto fail;
		if (sqlite3_prepare_v2(st->db,
			"INSERT INTO schema_version(version, name, applied_at) "
			"VALUES (?, ?, strftime('%s','now'))",
			-1, &s, NULL) != SQLITE_OK)
			goto fail;
		sqlite3_bind_int(s, 1, num);
		sqlite3_bind_text(s, 2, f->name, -1, SQLITE_STATIC);
		rc = sqlite3_step(s);
		sqlite3_finalize(s);
		if (rc != SQLITE_DONE)
			goto fail;
		if ((rc = sqlite_commit(base)) != STORE_OK)
			return rc;
		n++;
	}
	if (applied != NULL)
		*applied = n;
	return STORE_OK;
fail:
	sqlite_rollback(base);
	return STORE_ERROR;
}

int
sqlite_setting_get_new(struct store *st, const char *key, char **value)
{
	static const char sql[] = "SELECT value FROM settings WHERE key = ?";
	sqlite3_stmt *s = db_stmt(st, sql);

	*value = NULL;
	if (s != NULL)
		sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	return db_one(s, db_row_text, value);
}

int
sqlite_setting_set(struct store *st, const char *key, const char *value)
{
	static const char sql[] =
	    "INSERT INTO settings(key, value) VALUES (?, ?) "
	    "ON CONFLICT(key) DO UPDATE SET value = excluded.value";
	sqlite3_stmt *s = db_stmt(st, sql);

	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
	return db_exec_stmt(s);
}

int
sqlite_backup(struct store *base, const char *dest_path)
{
	struct sqlite_store *st = sq(base);
	sqlite3 *dest = NULL;
	sqlite3_backup *bk;
	int rc = STORE_ERROR, step;

	if (sqlite3_open_v2(dest_path, &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK)
		goto out;
	if ((bk = sqlite3_backup_init(dest, "main", st->db, "main")) == NULL)
		goto out;
	/* Copy in slices so that writers get the lock between them. */
	do {
		step = sqlite3_backup_step(bk, 256);
		if (step == SQLITE_BUSY || step == SQLITE_LOCKED)
			sqlite3_sleep(20);
	} while (step == SQLITE_OK || step == SQLITE_BUSY || step == SQLITE_LOCKED);
	if (sqlite3_backup_finish(bk) == SQLITE_OK && step == SQLITE_DONE)
		rc = STORE_OK;
out:
	sqlite3_close_v2(dest);
	return rc;
}

int
db_one(sqlite3_stmt *s, db_row_fn fn, void *arg)
{
	int rc;

	if (s == NULL)
		return STORE_ERROR;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		rc = fn(s, arg);
	else
		rc = rc == SQLITE_DONE ? STORE_NOTFOUND : db_map(rc);
	db_reset(s);
	return rc;
}

int
db_each(sqlite3_stmt *s, db_row_fn fn, void *arg)
{
	int rc;

	if (s == NULL)
		return STORE_ERROR;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((rc = fn(s, arg)) != 0) {
			db_reset(s);
			return rc;
		}
	}
	db_reset(s);
	return rc == SQLITE_DONE ? STORE_OK : db_map(rc);
}

int
db_row_text(sqlite3_stmt *s, void *arg)
{
	char **out = arg;
	int oom = 0;

	*out = db_col_dup(s, 0, &oom);
	return oom ? STORE_ERROR : STORE_OK;
}

int
db_row_exists(sqlite3_stmt *s, void *arg)
{
	return STORE_OK;
}

int
db_row_int64(sqlite3_stmt *s, void *arg)
{
	*(int64_t *)arg = sqlite3_column_int64(s, 0);
	return STORE_OK;
}

int
sqlite_lock(struct store *st, enum store_lock what)
{
	/* BEGIN IMMEDIATE already made this transaction the only writer. */
	return STORE_OK;
}

const struct store_backend store_sqlite_backend = {
	.name = "sqlite",
	.close = sqlite_close,
	.begin = sqlite_begin,
	.commit = sqlite_commit,
	.rollback = sqlite_rollback,
	.errmsg = sqlite_errmsg,
#define SQLITE_OP_SLOT(name, params, args) .name = sqlite_##name,
	STORE_ALL_OPS(SQLITE_OP_SLOT)
#undef SQLITE_OP_SLOT
};
