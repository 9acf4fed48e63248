/* Assertions used once (ID-JAGs, client assertions): the replay cache used_jtis. */
#include "config.h"

#include "store/postgresql/db.h"

int
pgsql_jti_use(struct store *st, const unsigned char key_hash[32], int64_t expires_at,
    int64_t now)
{
	/* One conditional statement. Under READ COMMITTED a second node recording the same
	 * key at once waits for the first's insert, then finds its live record and changes
	 * nothing: an assertion is accepted by one node only. An expired record is taken
	 * over. */
	static const char sql[] =
	    "INSERT INTO used_jtis(key_hash, expires_at) VALUES ($1, $2) "
	    "ON CONFLICT(key_hash) DO UPDATE SET expires_at = EXCLUDED.expires_at "
	    "WHERE used_jtis.expires_at < $3";
	struct pgdb_params p = {0};
	int64_t n = 0;
	int rc;

	pgdb_blob(&p, key_hash, 32);
	pgdb_int(&p, expires_at);
	pgdb_int(&p, now);
	if ((rc = pgdb_exec_count(st, sql, &p, &n)) != STORE_OK)
		return rc;
	return n == 0 ? STORE_CONFLICT : STORE_OK;
}
