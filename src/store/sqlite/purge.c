/* Housekeeping: drop expired rows in one transaction. */
#include "config.h"

#include <string.h>

#include "store/sqlite/db.h"

static int
purge_one(struct store *st, const char *sql, int64_t t, int *count)
{
	sqlite3_stmt *s = db_stmt(st, sql);
	int rc;

	*count = 0;
	if (s == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(s, 1, t);
	if ((rc = db_exec_stmt(s)) == STORE_OK)
		*count = sqlite3_changes(db_handle(st));
	return rc;
}

int
sqlite_purge(struct store *st, int64_t now, int64_t audit_before, struct store_purge_counts *out)
{
	static const char codes[] = "DELETE FROM auth_codes WHERE expires_at < ?";
	/* A family goes when every token in it has expired (refreshing does not touch the
	 * family row, to keep a refresh to one page less); its refresh tokens go with it
	 * (ON DELETE CASCADE). */
	static const char families[] =
	    "DELETE FROM token_families WHERE expires_at < ?1 AND NOT EXISTS "
	    "(SELECT 1 FROM refresh_tokens r WHERE r.family_id = token_families.family_id "
	    "AND r.expires_at >= ?1)";
	static const char jtis[] = "DELETE FROM revoked_jtis WHERE expires_at < ?";
	static const char sessions[] = "DELETE FROM sessions WHERE expires_at < ?";
	static const char keys[] =
	    "DELETE FROM keys WHERE state = 'retired' AND delete_after IS NOT NULL "
	    "AND delete_after <= ?";
	/* Rows are appended in time order: everything before the first recent row. */
	static const char audit[] =
	    "DELETE FROM audit WHERE id < coalesce((SELECT id FROM audit WHERE ts >= ?1 "
	    "ORDER BY id LIMIT 1), (SELECT max(id) + 1 FROM audit))";
	static const char regtokens[] = "DELETE FROM registration_tokens WHERE expires_at < ?";
	static const char consents[] = "DELETE FROM consents WHERE expires_at < ?";
	_Static_assert(STORE_LOGIN_RETENTION == 86400, "keep the statement below in step");
	static const char logins[] =
	    "DELETE FROM login_failures WHERE blocked_until < ?1 * 1000 "
	    "AND last_failure < (?1 - 86400) * 1000";
	/* Rate windows are a minute; an hour is ample. */
	static const char upstream[] = "DELETE FROM upstream_logins WHERE expires_at < ?";
	static const char used[] = "DELETE FROM used_jtis WHERE expires_at < ?";
	/* A connect's state is refused from its expires_at on: it goes then. */
	static const char states[] = "DELETE FROM connect_states WHERE expires_at <= ?";
	/* A credential's current version has no retires_at: only versions rotated out go. */
	static const char credentials[] =
	    "DELETE FROM credentials WHERE retires_at IS NOT NULL AND retires_at < ?";
	static const char rates[] = "DELETE FROM rate_limits WHERE window_start < ?1 - 3600";
	/* A node that has not read the change log for a day reloads everything anyway. */
	static const char changes[] =
	    "DELETE FROM registry_changes WHERE at < ?1 - 86400 "
	    "AND seq < (SELECT max(seq) FROM registry_changes)";
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = sqlite_begin(st)) != STORE_OK)
		return rc;
	if ((rc = purge_one(st, codes, now, &out->codes)) != STORE_OK ||
	    (rc = purge_one(st, families, now, &out->refresh_families)) != STORE_OK ||
	    (rc = purge_one(st, jtis, now, &out->revoked_jtis)) != STORE_OK ||
	    (rc = purge_one(st, sessions, now, &out->sessions)) != STORE_OK ||
	    (rc = purge_one(st, keys, now, &out->keys)) != STORE_OK ||
	    (rc = purge_one(st, regtokens, now, &out->registration_tokens)) != STORE_OK ||
	    (rc = purge_one(st, consents, now, &out->consents)) != STORE_OK ||
	    (rc = purge_one(st, logins, now, &out->login_failures)) != STORE_OK ||
	    (rc = purge_one(st, rates, now, &out->rate_limits)) != STORE_OK ||
	    (rc = purge_one(st, changes, now, &out->changes)) != STORE_OK ||
	    (rc = purge_one(st, upstream, now, &out->upstream_logins)) != STORE_OK ||
	    (rc = purge_one(st, used, now, &out->used_jtis)) != STORE_OK ||
	    (rc = purge_one(st, credentials, now, &out->credentials)) != STORE_OK ||
	    (rc = purge_one(st, states, now, &out->connect_states)) != STORE_OK ||
	    (audit_before > 0 && (rc = purge_one(st, audit, audit_before, &out->audit)) != STORE_OK))
		goto fail;
	if (out->keys > 0 && (rc = sqlite_keys_version_bump(st)) != STORE_OK)
		goto fail;
	return sqlite_commit(st);
fail:
	sqlite_rollback(st);
	return rc;
}
