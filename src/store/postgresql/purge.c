/* Housekeeping: drop expired rows in one transaction. */
#include "config.h"

#include <string.h>

#include "store/postgresql/db.h"

static int
purge_one(struct store *st, const char *sql, int64_t t, int *count)
{
	struct pgdb_params p = {0};
	int64_t n = 0;
	int rc;

	pgdb_int(&p, t);
	rc = pgdb_exec_count(st, sql, &p, &n);
	*count = (int)n;
	return rc;
}

int
pgsql_purge(struct store *st, int64_t now, int64_t audit_before, struct store_purge_counts *out)
{
	static const char codes[] = "DELETE FROM auth_codes WHERE expires_at < $1";
	/* A family goes when every token in it has expired; its refresh tokens go with it
	 * (ON DELETE CASCADE). */
	static const char families[] =
	    "DELETE FROM token_families f WHERE f.expires_at < $1 AND NOT EXISTS "
	    "(SELECT 1 FROM refresh_tokens r WHERE r.family_id = f.family_id "
	    "AND r.expires_at >= $1)";
	static const char jtis[] = "DELETE FROM revoked_jtis WHERE expires_at < $1";
	static const char sessions[] = "DELETE FROM sessions WHERE expires_at < $1";
	static const char keys[] =
	    "DELETE FROM keys WHERE state = 'retired' AND delete_after IS NOT NULL "
	    "AND delete_after <= $1";
	static const char audit[] = "DELETE FROM audit WHERE ts < $1";
	static const char regtokens[] = "DELETE FROM registration_tokens WHERE expires_at < $1";
	static const char consents[] = "DELETE FROM consents WHERE expires_at < $1";
	_Static_assert(STORE_LOGIN_RETENTION == 86400, "keep the statement below in step");
	static const char logins[] =
	    "DELETE FROM login_failures WHERE blocked_until < $1::bigint * 1000 "
	    "AND last_failure < ($1::bigint - 86400) * 1000";
	static const char upstream[] = "DELETE FROM upstream_logins WHERE expires_at < $1";
	static const char used[] = "DELETE FROM used_jtis WHERE expires_at < $1";
	/* A connect's state is refused from its expires_at on: it goes then. */
	static const char states[] = "DELETE FROM connect_states WHERE expires_at <= $1";
	/* A credential's current version has no retires_at: only versions rotated out go. */
	static const char credentials[] =
	    "DELETE FROM credentials WHERE retires_at IS NOT NULL AND retires_at < $1";
	static const char rates[] = "DELETE FROM rate_limits WHERE window_start < $1::bigint - 3600";
	static const char changes[] = "DELETE FROM registry_changes WHERE at < $1::bigint - 86400";
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = pgsql_begin(st)) != STORE_OK)
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
	if (out->keys > 0 && (rc = pgsql_keys_version_bump(st)) != STORE_OK)
		goto fail;
	return pgsql_commit(st);
fail:
	pgsql_rollback(st);
	return rc;
}
