/* The change log the registry cache follows (registry_changes, written by triggers) and
 * the whole-table reads it reloads from. */
#include "config.h"

#include <string.h>
#include <time.h>

#include "store/sqlite/db.h"

struct change_visit {
	store_change_fn fn;
	void *arg;
};

static int
change_row(sqlite3_stmt *s, void *arg)
{
	struct change_visit *v = arg;
	struct store_change c;

	c.seq = sqlite3_column_int64(s, 0);
	c.kind = (const char *)sqlite3_column_text(s, 1);
	c.key = (const char *)sqlite3_column_text(s, 2);
	c.expires_at = sqlite3_column_int64(s, 3);
	if (c.kind == NULL)
		return STORE_ERROR;
	return v->fn(&c, v->arg);
}

int
sqlite_changes_since(struct store *st, int64_t after, store_change_fn fn, void *arg)
{
	static const char sql[] =
	    "SELECT seq, kind, key, expires_at FROM registry_changes WHERE seq > ? ORDER BY seq";
	sqlite3_stmt *s = db_stmt(st, sql);
	struct change_visit v = {fn, arg};

	if (s != NULL)
		sqlite3_bind_int64(s, 1, after);
	return db_each(s, change_row, &v);
}

struct seq_pair {
	int64_t *last, *oldest;
};

static int
seq_row(sqlite3_stmt *s, void *arg)
{
	struct seq_pair *p = arg;

	*p->last = sqlite3_column_int64(s, 0);
	*p->oldest = sqlite3_column_int64(s, 1);
	return STORE_OK;
}

int
sqlite_changes_last(struct store *st, int64_t *seq, int64_t *oldest)
{
	/* sqlite_sequence keeps the last number even when purge has emptied the log. */
	static const char sql[] =
	    "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'registry_changes'), 0), "
	    "coalesce((SELECT min(seq) FROM registry_changes), 0)";
	struct seq_pair p = {seq, oldest};

	*seq = 0;
	*oldest = 0;
	return db_one(db_stmt(st, sql), seq_row, &p);
}

struct pair_visit {
	store_pair_fn fn;
	void *arg;
};

static int
pair_row(sqlite3_stmt *s, void *arg)
{
	struct pair_visit *v = arg;

	return v->fn(sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1),
	    (const char *)sqlite3_column_text(s, 2), v->arg);
}

int
sqlite_edge_each(struct store *st, store_pair_fn fn, void *arg)
{
	static const char sql[] = "SELECT from_id, to_id, scopes FROM exchange_edges";
	struct pair_visit v = {fn, arg};

	return db_each(db_stmt(st, sql), pair_row, &v);
}

int
sqlite_client_resource_each(struct store *st, store_pair_fn fn, void *arg)
{
	static const char sql[] = "SELECT client, resource, NULL FROM client_resources";
	struct pair_visit v = {fn, arg};

	return db_each(db_stmt(st, sql), pair_row, &v);
}

struct jti_visit {
	store_jti_fn fn;
	void *arg;
};

static int
jti_row(sqlite3_stmt *s, void *arg)
{
	struct jti_visit *v = arg;
	const char *jti = (const char *)sqlite3_column_text(s, 0);

	return jti != NULL ? v->fn(jti, sqlite3_column_int64(s, 1), v->arg) : STORE_OK;
}

int
sqlite_jti_each_live(struct store *st, int64_t now, store_jti_fn fn, void *arg)
{
	static const char sql[] = "SELECT jti, expires_at FROM revoked_jtis WHERE expires_at >= ?";
	sqlite3_stmt *s = db_stmt(st, sql);
	struct jti_visit v = {fn, arg};

	if (s != NULL)
		sqlite3_bind_int64(s, 1, now);
	return db_each(s, jti_row, &v);
}

int
sqlite_wait_change(struct store *st, int timeout_ms)
{
	/* No notifications in SQLite: the poll is the wait. */
	struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
	return STORE_OK;
}
