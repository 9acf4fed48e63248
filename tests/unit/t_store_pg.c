/* The PostgreSQL store on a real database (MCP_AUTHD_TEST_PG_URL, a fresh database that
 * tests/pg/unit.sh creates): the contract t_store.c checks on SQLite, then what only
 * PostgreSQL has: transactions racing on two connections, deadlocks, a copy from
 * SQLite, and connections the server ends. */
#include "config.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"
#include "tap.h"
#include "store_idp_contract.h"
#include "store_vault_contract.h"
#include "store_connections_contract.h"

/* Times of the contract: rows that must outlive every purge below expire at FAR; the
 * purge section's own rows expire around T and are purged at PURGE_NOW. */
#define T INT64_C(1000000)
#define FAR INT64_C(4000000000)
#define FAR_MS (FAR * 1000)
#define PURGE_NOW INT64_C(2000000)

static const char *url;
static PGconn *admin; /* our own libpq connection, for what the store does not do */

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static int
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* One diagnostic line (libpq's messages span several). */
static void
diag_msg(const char *what, int rc, const char *msg)
{
	char line[512];
	size_t i;

	snprintf(line, sizeof(line), "%s", msg ? msg : "");
	for (i = 0; line[i] != '\0'; i++) {
		if (line[i] == '\n' || line[i] == '\t')
			line[i] = ' ';
	}
	tap_diag("%s: %d (%s)", what, rc, line);
}

static void
quiet(void *arg, const char *message)
{
	/* NOTICEs of our own statements (DROP ... IF EXISTS) are no test output. */
}

/* ---- the admin connection ---- */

static int
admin_exec(const char *sql)
{
	PGresult *r = PQexec(admin, sql);
	int good = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;

	if (!good)
		diag_msg(sql, -1, PQerrorMessage(admin));
	PQclear(r);
	return good;
}

/* The first column of the first row as a number; -1 when there is none. */
static int64_t
admin_int(const char *sql)
{
	PGresult *r = PQexec(admin, sql);
	int64_t v = -1;

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
		v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	else if (PQresultStatus(r) != PGRES_TUPLES_OK)
		diag_msg(sql, -1, PQerrorMessage(admin));
	PQclear(r);
	return v;
}

/* url with its database name replaced by db (new string). */
static char *
url_with_db(const char *u, const char *db)
{
	const char *auth = strstr(u, "://"), *path, *rest;
	size_t n;
	char *out;

	auth = auth != NULL ? auth + 3 : u;
	path = auth + strcspn(auth, "/?");
	rest = path;
	if (*rest == '/')
		rest += 1 + strcspn(rest + 1, "?");
	n = (size_t)(path - u) + 1 + strlen(db) + strlen(rest) + 1;
	if ((out = malloc(n)) != NULL)
		snprintf(out, n, "%.*s/%s%s", (int)(path - u), u, db, rest);
	return out;
}

/* url with one more query parameter (new string). */
static char *
url_with_param(const char *u, const char *param)
{
	size_t n = strlen(u) + strlen(param) + 2;
	char *out = malloc(n);

	if (out != NULL)
		snprintf(out, n, "%s%c%s", u, strchr(u, '?') ? '&' : '?', param);
	return out;
}

/* What the store has no operation for: deleting a user (connections contract). */
static int
delete_user(int64_t id)
{
	char sql[96];

	snprintf(sql, sizeof(sql), "DELETE FROM users WHERE id = %lld", (long long)id);
	return admin_exec(sql) ? 0 : -1;
}

/* ---- visitors ---- */

static int
count_user(const struct store_user *u, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static int
count_resource(const struct store_resource *r, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static int
stop_early(const struct store_resource *r, void *arg)
{
	(*(int *)arg)++;
	return 42;
}

static int
count_edges(const char *from, const char *to, const char *scopes, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static int
count_client(const struct store_client *c, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

struct key_seen {
	int n;
	struct store_key k[8];
};

static int
keep_key(const struct store_key *k, void *arg)
{
	struct key_seen *s = arg;

	if (s->n < 8) {
		struct store_key *d = &s->k[s->n];

		memset(d, 0, sizeof(*d));
		d->id = k->id;
		d->kid = strdup(k->kid);
		d->state = strdup(k->state);
		d->alg = strdup(k->alg);
		d->activated_at = k->activated_at;
		d->retired_at = k->retired_at;
		d->delete_after = k->delete_after;
		d->private_enc_len = k->private_enc_len;
		if ((d->private_enc = malloc(k->private_enc_len + 1)) != NULL)
			memcpy(d->private_enc, k->private_enc, k->private_enc_len);
	}
	s->n++;
	return 0;
}

static void
key_seen_clear(struct key_seen *s)
{
	int i;

	for (i = 0; i < s->n && i < 8; i++)
		store_key_clear(&s->k[i]);
	s->n = 0;
}

struct audit_seen {
	int n;
	int64_t ts[8];
	char events[8][32];
};

static int
keep_audit(const struct store_audit *a, void *arg)
{
	struct audit_seen *s = arg;

	if (s->n < 8) {
		s->ts[s->n] = a->ts;
		snprintf(s->events[s->n], sizeof(s->events[0]), "%s", a->event ? a->event : "");
	}
	s->n++;
	return 0;
}

/* ---- rows ---- */

static struct store_resource
resource(const char *uri, const char *name, const char *scopes, const char *defaults, int64_t ttl)
{
	struct store_resource r;

	memset(&r, 0, sizeof(r));
	r.uri = r.uri_key = (char *)(uintptr_t)uri;
	r.name = (char *)(uintptr_t)name;
	r.scopes = (char *)(uintptr_t)scopes;
	r.default_scopes = (char *)(uintptr_t)defaults;
	r.ttl = ttl;
	r.created_at = T;
	return r;
}

static struct store_code
code(unsigned char fill, int64_t client, int64_t user, int64_t expires_at)
{
	struct store_code c;

	memset(&c, 0, sizeof(c));
	memset(c.hash, fill, sizeof(c.hash));
	c.client = client;
	c.user_id = user;
	c.redirect_uri = MUT("https://app.example/cb");
	c.redirect_uri_given = 1;
	c.code_challenge = MUT("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
	c.resources = MUT("https://a.example/mcp");
	c.scope = MUT("read");
	c.auth_time = T;
	c.created_at = T;
	c.expires_at = expires_at;
	return c;
}

static struct store_family
family(const char *id, int64_t client, int64_t user, int64_t expires_at)
{
	struct store_family f;

	memset(&f, 0, sizeof(f));
	f.family_id = (char *)(uintptr_t)id;
	f.client = client;
	f.user_id = user;
	f.resources = MUT("https://a.example/mcp");
	f.scope = MUT("read write");
	f.auth_time = T;
	f.created_at = T;
	f.expires_at = expires_at;
	return f;
}

static struct store_key
key(const char *kid, const char *alg, const char *state, const unsigned char *blob, size_t len)
{
	struct store_key k;

	memset(&k, 0, sizeof(k));
	k.kid = (char *)(uintptr_t)kid;
	k.alg = (char *)(uintptr_t)alg;
	k.state = (char *)(uintptr_t)state;
	k.public_jwk = MUT("{\"kty\":\"EC\"}");
	k.private_enc = (unsigned char *)(uintptr_t)blob;
	k.private_enc_len = len;
	k.created_at = T;
	return k;
}

/* ---- two transactions redeeming one code ---- */

struct redeemer {
	struct store *st;
	const unsigned char *hash;
	const char *family_id;
	int begin_rc, rc, commit_rc;
	char *got_family;
	int64_t returned_at;     /* when the redeem returned (ms, monotonic) */
	atomic_int returned;
};

static void *
redeem_thread(void *arg)
{
	struct redeemer *r = arg;
	struct store_code out;

	memset(&out, 0, sizeof(out));
	r->begin_rc = store_begin(r->st);
	r->rc = store_code_redeem(r->st, r->hash, T + 1, r->family_id, &out);
	r->returned_at = now_ms();
	atomic_store(&r->returned, 1);
	r->got_family = out.family_id != NULL ? strdup(out.family_id) : NULL;
	store_code_clear(&out);
	if (r->begin_rc == STORE_OK)
		r->commit_rc = store_commit(r->st);
	return NULL;
}

/* Wait until some backend of this database waits for a lock (a row lock, here): the
 * other transaction has reached the locked row. */
static int
someone_waits_for_a_lock(int ms)
{
	int64_t end = now_ms() + ms;

	while (now_ms() < end) {
		if (admin_int("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
			       "AND wait_event_type = 'Lock'") > 0)
			return 1;
		sleep_ms(10);
	}
	return 0;
}

static void
redeem_race(struct store *a, struct store *b, unsigned char fill, int64_t client, int64_t user,
    int a_commits)
{
	struct store_code c = code(fill, client, user, FAR), out;
	struct redeemer r;
	pthread_t th;
	int64_t before_end;
	int rc;
	const char *how = a_commits ? "A commits" : "A rolls back";

	memset(&r, 0, sizeof(r));
	ok(store_code_add(a, &c) == STORE_OK, "%s: a code", how);
	ok(store_begin(a) == STORE_OK, "%s: A begins", how);
	rc = store_code_redeem(a, c.hash, T + 1, "fam-A", &out);
	is_int(rc, STORE_OK, "%s: A redeems in its transaction", how);
	store_code_clear(&out);
	r.st = b;
	r.hash = c.hash;
	r.family_id = "fam-B";
	atomic_init(&r.returned, 0);
	if (pthread_create(&th, NULL, redeem_thread, &r) != 0) {
		printf("Bail out! pthread_create\n");
		exit(1);
	}
	ok(someone_waits_for_a_lock(5000), "%s: B's redeem waits on A's row lock", how);
	sleep_ms(200);
	ok(!atomic_load(&r.returned), "%s: B has not returned while A is open", how);
	before_end = now_ms();
	if (a_commits) {
		is_int(store_commit(a), STORE_OK, "%s: A's commit", how);
	} else {
		store_rollback(a);
		ok(1, "%s: A rolled back", how);
	}
	pthread_join(th, NULL);
	is_int(r.begin_rc, STORE_OK, "%s: B began", how);
	ok(r.returned_at >= before_end, "%s: B returned only after A ended", how);
	if (a_commits) {
		is_int(r.rc, STORE_CONFLICT, "%s: B's redeem is a conflict", how);
		is_str(r.got_family, "fam-A", "%s: B learns the first redemption's family", how);
	} else {
		is_int(r.rc, STORE_OK, "%s: B's redeem wins", how);
		is_str(r.got_family, "fam-B", "%s: with its own family", how);
	}
	is_int(r.commit_rc, STORE_OK, "%s: B's commit", how);
	free(r.got_family);
	/* Whoever won, a third try is a conflict naming the winner. */
	rc = store_code_redeem(a, c.hash, T + 2, "fam-C", &out);
	is_int(rc, STORE_CONFLICT, "%s: a later redeem is a conflict", how);
	is_str(out.family_id, a_commits ? "fam-A" : "fam-B", "%s: the winner stays", how);
	store_code_clear(&out);
}

/* ---- two transactions taking one refresh token ---- */

struct taker {
	struct store *st;
	const unsigned char *hash;
	int rc, commit_rc;
	int64_t revoked_at;
	atomic_int returned;
};

static void *
take_thread(void *arg)
{
	struct taker *t = arg;
	struct store_refresh out;

	if (store_begin(t->st) != STORE_OK) {
		t->rc = STORE_ERROR;
		atomic_store(&t->returned, 1);
		return NULL;
	}
	t->rc = store_refresh_take(t->st, t->hash, T + 2, &out);
	atomic_store(&t->returned, 1);
	t->revoked_at = out.family.revoked_at;
	store_refresh_clear(&out);
	t->commit_rc = store_commit(t->st);
	return NULL;
}

/* A holds the family (a take, or a revocation) in an open transaction while B takes the
 * same token: B waits, then sees what A committed, never a stale row. */
enum take_first { A_TAKES_COMMITS, A_TAKES_ROLLS_BACK, A_REVOKES };

static void
take_race(struct store *a, struct store *b, unsigned char fill, int64_t client, int64_t user,
    enum take_first what)
{
	static const char *const how_of[] = {"A takes and commits", "A takes and rolls back",
	    "A revokes the family"};
	const char *how = how_of[what];
	char fam[32];
	unsigned char h[32];
	struct store_family f;
	struct store_refresh out;
	struct taker t;
	pthread_t th;

	snprintf(fam, sizeof(fam), "fam-take-%02x", fill);
	memset(h, fill, sizeof(h));
	f = family(fam, client, user, FAR);
	ok(store_family_add(a, &f) == STORE_OK &&
	    store_refresh_add(a, h, fam, "read", T, FAR, NULL, 0) == STORE_OK,
	    "%s: a family and its token", how);
	ok(store_begin(a) == STORE_OK, "%s: A begins", how);
	if (what == A_REVOKES) {
		is_int(store_family_revoke(a, fam, T + 1, "test"), STORE_OK, "%s: A revokes", how);
		/* Writes nobody reads wait in the pipeline for the next statement: read. */
		ok(store_refresh_get(a, h, &out) == STORE_OK && out.family.revoked_at == T + 1,
		    "%s: A sees its revocation", how);
		store_refresh_clear(&out);
	} else {
		is_int(store_refresh_take(a, h, T + 1, &out), STORE_OK, "%s: A takes", how);
		store_refresh_clear(&out);
	}
	memset(&t, 0, sizeof(t));
	t.st = b;
	t.hash = h;
	atomic_init(&t.returned, 0);
	if (pthread_create(&th, NULL, take_thread, &t) != 0) {
		printf("Bail out! pthread_create\n");
		exit(1);
	}
	ok(someone_waits_for_a_lock(5000), "%s: B's take waits on the family", how);
	sleep_ms(100);
	ok(!atomic_load(&t.returned), "%s: B has not returned while A is open", how);
	if (what == A_TAKES_ROLLS_BACK)
		store_rollback(a);
	else
		is_int(store_commit(a), STORE_OK, "%s: A commits", how);
	pthread_join(th, NULL);
	switch (what) {
	case A_TAKES_COMMITS:
		is_int(t.rc, STORE_CONFLICT, "%s: B's take is a reuse", how);
		break;
	case A_TAKES_ROLLS_BACK:
		is_int(t.rc, STORE_OK, "%s: B's take wins", how);
		break;
	case A_REVOKES:
		is_int(t.rc, STORE_OK, "%s: B takes the token", how);
		ok(t.revoked_at == T + 1, "%s: and sees the revocation committed while it waited",
		    how);
		break;
	}
	is_int(t.commit_rc, STORE_OK, "%s: B commits", how);
}

/* ---- two CLIs rotating (or removing) one credential at once ---- */

struct rotator {
	struct store *st;
	const struct store_credential *c;
	int remove;              /* remove the credential instead */
	int rc;
	int64_t version;
	int64_t returned_at;
	atomic_int returned;
};

static void *
rotate_thread(void *arg)
{
	struct rotator *r = arg;

	/* Its own transaction, as `credential rotate` runs it. */
	if (r->remove)
		r->rc = store_credential_remove(r->st, r->c->name);
	else
		r->rc = store_credential_rotate(r->st, r->c, T + 100, &r->version);
	r->returned_at = now_ms();
	atomic_store(&r->returned, 1);
	return NULL;
}

enum rotate_first { A_ROTATES_COMMITS, A_ROTATES_ROLLS_BACK, B_REMOVES };

static int
count_versions(const struct store_credential *c, void *arg)
{
	if (strcmp(c->name, "race-cred") == 0)
		(*(int *)arg)++;
	return 0;
}

static void
rotate_race(struct store *a, struct store *b, enum rotate_first first)
{
	static const char *const hows[] = {"A rotates, commits", "A rotates, rolls back",
	    "A rotates, B removes"};
	unsigned char k[] = {0x0a, 0x00, 0x0b}, sa[] = {0xa0, 0x00}, sb[] = {0xb0, 0x00};
	struct store_credential ca, cb, got;
	struct rotator r;
	pthread_t th;
	int64_t before_end, v = 0;
	int n = 0;
	const char *how = hows[first];

	ca = vault_contract_row("race-cred", 1, k, sizeof(k), sa, sizeof(sa),
	    "sha256:aaaaaaaaaaaaaaaa", T);
	ok(store_credential_add(a, &ca) == STORE_OK, "%s: a credential", how);
	ca.version = 2;
	cb = vault_contract_row("race-cred", 2, k, sizeof(k), sb, sizeof(sb),
	    "sha256:bbbbbbbbbbbbbbbb", T);
	ok(store_credential_next_version(b, "race-cred", &v) == STORE_OK && v == 2,
	    "%s: B too seals for version 2", how);
	ok(store_begin(a) == STORE_OK &&
	    store_credential_rotate(a, &ca, T + 100, &v) == STORE_OK && v == 2,
	    "%s: A rotates to version 2 in its transaction", how);
	memset(&r, 0, sizeof(r));
	r.st = b;
	r.c = &cb;
	r.remove = first == B_REMOVES;
	atomic_init(&r.returned, 0);
	if (pthread_create(&th, NULL, rotate_thread, &r) != 0) {
		printf("Bail out! pthread_create\n");
		exit(1);
	}
	ok(someone_waits_for_a_lock(5000), "%s: B waits for A", how);
	sleep_ms(200);
	ok(!atomic_load(&r.returned), "%s: B has not returned while A is open", how);
	before_end = now_ms();
	if (first == A_ROTATES_ROLLS_BACK) {
		store_rollback(a);
		ok(1, "%s: A rolled back", how);
	} else {
		is_int(store_commit(a), STORE_OK, "%s: A's commit", how);
	}
	pthread_join(th, NULL);
	ok(r.returned_at >= before_end, "%s: B returned only after A ended", how);
	switch (first) {
	case A_ROTATES_COMMITS:
		is_int(r.rc, STORE_CONFLICT, "%s: B's rotation is a conflict (version 2 is taken)",
		    how);
		ok(store_credential_get(b, "race-cred", &got) == STORE_OK && got.version == 2 &&
		    vault_contract_blobs(&got, k, sizeof(k), sa, sizeof(sa)),
		    "%s: A's version 2 is current", how);
		store_credential_clear(&got);
		ok(store_credential_next_version(b, "race-cred", &v) == STORE_OK && v == 3,
		    "%s: B takes the next version again: 3", how);
		cb.version = v;
		ok(store_credential_rotate(b, &cb, T + 200, &v) == STORE_OK && v == 3,
		    "%s: and its retry succeeds", how);
		ok(store_credential_get_previous(b, "race-cred", T, &got) == STORE_OK &&
		    got.version == 2 && got.retires_at == T + 200, "%s: A's version retiring", how);
		store_credential_clear(&got);
		ok(store_credential_each(a, count_versions, &n) == STORE_OK && n == 2,
		    "%s: two versions in all", how);
		break;
	case A_ROTATES_ROLLS_BACK:
		ok(r.rc == STORE_OK && r.version == 2, "%s: B's rotation wins", how);
		ok(store_credential_get(a, "race-cred", &got) == STORE_OK && got.version == 2 &&
		    vault_contract_blobs(&got, k, sizeof(k), sb, sizeof(sb)),
		    "%s: with B's secret", how);
		store_credential_clear(&got);
		break;
	case B_REMOVES:
		is_int(r.rc, STORE_OK, "%s: B's removal", how);
		ok(store_credential_each(a, count_versions, &n) == STORE_OK && n == 0,
		    "%s: took A's new version too: nothing is left", how);
		break;
	}
	if (first != B_REMOVES)
		ok(store_credential_remove(a, "race-cred") == STORE_OK, "%s: clean up", how);
}

/* ---- two nodes refreshing (or connecting) one user's tokens at once ---- */

enum conn_op { OP_LEASE, OP_PUT, OP_ADD_CONNECTION };

struct conn_racer {
	struct store *st;
	enum conn_op op;
	const struct store_user_connection *uc;
	const struct store_connection *c;
	int rc;
	int64_t returned_at;
	atomic_int returned;
};

static void *
conn_thread(void *arg)
{
	struct conn_racer *r = arg;

	/* Its own statement, as a node runs it when the token expired. */
	if (r->op == OP_LEASE)
		r->rc = store_user_connection_lease(r->st, r->uc->connection, r->uc->user_id,
		    r->uc->generation, T, T + 60);
	else if (r->op == OP_PUT)
		r->rc = store_user_connection_put(r->st, r->uc);
	else
		r->rc = store_connection_add(r->st, r->c);
	r->returned_at = now_ms();
	atomic_store(&r->returned, 1);
	return NULL;
}

enum conn_first {
	A_LEASES_COMMITS,     /* B's lease: CONFLICT (A's runs) */
	A_LEASES_ROLLS_BACK,  /* B's lease: OK */
	A_REFRESHES,          /* A leases and writes generation 2; B's lease: CONFLICT */
	A_PUTS_B_PUTS,        /* both write generation 2; B's: CONFLICT */
	A_ADDS_CREDENTIAL,    /* B adds a connection under the name; CONFLICT */
	A_ADDS_CREDENTIAL_ROLLS_BACK, /* B's connection: OK */
};

static void
conn_race(struct store *a, struct store *b, int64_t user, enum conn_first first)
{
	static const char *const hows[] = {"A leases, commits", "A leases, rolls back",
	    "A refreshes", "A and B write generation 2", "A adds a credential",
	    "A adds a credential, rolls back"};
	unsigned char k[] = {0x0c, 0x00, 0x0d};
	struct store_connection c = connections_contract_connection("race-conn", NULL, 0, NULL, 0,
	    T);
	struct store_user_connection uc1, uc2, got;
	struct store_credential cr;
	struct conn_racer r;
	pthread_t th;
	int64_t before_end;
	const char *how = hows[first];
	int adding = first == A_ADDS_CREDENTIAL || first == A_ADDS_CREDENTIAL_ROLLS_BACK;

	uc1 = connections_contract_tokens("race-conn", user, 1, k, sizeof(k), k, sizeof(k), T);
	uc2 = connections_contract_tokens("race-conn", user, 2, k, 1, k, 2, T + 1);
	cr = vault_contract_row("race-conn", 1, k, sizeof(k), k, sizeof(k),
	    "sha256:eeeeeeeeeeeeeeee", T);
	if (!adding)
		ok(store_connection_add(a, &c) == STORE_OK &&
		    store_user_connection_put(a, &uc1) == STORE_OK,
		    "%s: a connection, a user's generation 1", how);
	ok(store_begin(a) == STORE_OK, "%s: A begins", how);
	switch (first) {
	case A_LEASES_COMMITS:
	case A_LEASES_ROLLS_BACK:
		is_int(store_user_connection_lease(a, "race-conn", user, 1, T, T + 60), STORE_OK,
		    "%s: A takes the lease in its transaction", how);
		break;
	case A_REFRESHES:
		ok(store_user_connection_lease(a, "race-conn", user, 1, T, T + 60) == STORE_OK &&
		    store_user_connection_put(a, &uc2) == STORE_OK,
		    "%s: A leases and writes generation 2", how);
		break;
	case A_PUTS_B_PUTS:
		is_int(store_user_connection_put(a, &uc2), STORE_OK, "%s: A writes generation 2",
		    how);
		break;
	case A_ADDS_CREDENTIAL:
	case A_ADDS_CREDENTIAL_ROLLS_BACK:
		is_int(store_credential_add(a, &cr), STORE_OK,
		    "%s: A adds a credential in its transaction", how);
		break;
	}
	memset(&r, 0, sizeof(r));
	r.st = b;
	r.op = adding ? OP_ADD_CONNECTION : first == A_PUTS_B_PUTS ? OP_PUT : OP_LEASE;
	r.uc = first == A_PUTS_B_PUTS ? &uc2 : &uc1;
	r.c = &c;
	atomic_init(&r.returned, 0);
	if (pthread_create(&th, NULL, conn_thread, &r) != 0) {
		printf("Bail out! pthread_create\n");
		exit(1);
	}
	ok(someone_waits_for_a_lock(5000), "%s: B waits for A", how);
	sleep_ms(200);
	ok(!atomic_load(&r.returned), "%s: B has not returned while A is open", how);
	before_end = now_ms();
	if (first == A_LEASES_ROLLS_BACK || first == A_ADDS_CREDENTIAL_ROLLS_BACK) {
		store_rollback(a);
		ok(1, "%s: A rolled back", how);
	} else {
		is_int(store_commit(a), STORE_OK, "%s: A's commit", how);
	}
	pthread_join(th, NULL);
	ok(r.returned_at >= before_end, "%s: B returned only after A ended", how);
	switch (first) {
	case A_LEASES_COMMITS:
		is_int(r.rc, STORE_CONFLICT, "%s: B's lease is a conflict (A's runs)", how);
		break;
	case A_LEASES_ROLLS_BACK:
		is_int(r.rc, STORE_OK, "%s: B's lease", how);
		ok(store_user_connection_get(a, "race-conn", user, &got) == STORE_OK &&
		    got.refreshing_until == T + 60, "%s: B holds it", how);
		store_user_connection_clear(&got);
		break;
	case A_REFRESHES:
		is_int(r.rc, STORE_CONFLICT, "%s: B's lease is a conflict (the row moved on)", how);
		ok(store_user_connection_get(b, "race-conn", user, &got) == STORE_OK &&
		    got.generation == 2 && got.refreshing_until == 0,
		    "%s: B reads generation 2, no lease", how);
		store_user_connection_clear(&got);
		break;
	case A_PUTS_B_PUTS:
		is_int(r.rc, STORE_CONFLICT, "%s: B's write is a conflict", how);
		break;
	case A_ADDS_CREDENTIAL:
		is_int(r.rc, STORE_CONFLICT, "%s: B's connection is a conflict", how);
		is_int(store_connection_get(b, "race-conn", &c), STORE_NOTFOUND,
		    "%s: no connection under the credential's name", how);
		ok(store_credential_remove(a, "race-conn") == STORE_OK, "%s: clean up", how);
		return;
	case A_ADDS_CREDENTIAL_ROLLS_BACK:
		is_int(r.rc, STORE_OK, "%s: B's connection", how);
		is_int(store_credential_get(b, "race-conn", &cr), STORE_NOTFOUND,
		    "%s: and no credential", how);
		break;
	}
	ok(store_connection_remove(a, "race-conn") == STORE_OK, "%s: clean up", how);
}

/* ---- two transactions deadlocking ---- */

struct locker {
	struct store *st;
	const char *first, *second;
	int disabled;
	pthread_barrier_t *barrier;
	int rc1, rc2, commit_rc;
};

static void *
lock_thread(void *arg)
{
	struct locker *l = arg;

	if (store_begin(l->st) != STORE_OK) {
		l->rc1 = STORE_ERROR;
		pthread_barrier_wait(l->barrier);
		return NULL;
	}
	l->rc1 = store_user_set_disabled(l->st, l->first, l->disabled);
	pthread_barrier_wait(l->barrier);
	l->rc2 = store_user_set_disabled(l->st, l->second, l->disabled);
	l->commit_rc = store_commit(l->st);
	return NULL;
}

static int
disabled(struct store *st, const char *name)
{
	struct store_user u;
	int d = -1;

	if (store_user_get_by_name(st, name, &u) == STORE_OK)
		d = u.disabled;
	store_user_clear(&u);
	return d;
}

static void
deadlock(struct store *a, struct store *b)
{
	struct locker la, lb, *loser, *winner;
	pthread_barrier_t barrier;
	pthread_t ta, tb;

	ok(store_user_add(a, "dl-one", "h", T, NULL) == STORE_OK &&
	    store_user_add(a, "dl-two", "h", T, NULL) == STORE_OK, "deadlock: two users");
	pthread_barrier_init(&barrier, NULL, 2);
	la = (struct locker){a, "dl-one", "dl-two", 1, &barrier, 0, 0, 0};
	lb = (struct locker){b, "dl-two", "dl-one", 0, &barrier, 0, 0, 0};
	pthread_create(&ta, NULL, lock_thread, &la);
	pthread_create(&tb, NULL, lock_thread, &lb);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	pthread_barrier_destroy(&barrier);
	ok(la.rc1 == STORE_OK && lb.rc1 == STORE_OK, "deadlock: each locked its first row");
	ok((la.rc2 == STORE_RETRY) != (lb.rc2 == STORE_RETRY),
	    "deadlock: exactly one transaction is chosen to lose (STORE_RETRY)");
	tap_diag("rc2: A %d, B %d; commit: A %d, B %d", la.rc2, lb.rc2, la.commit_rc, lb.commit_rc);
	loser = la.rc2 == STORE_RETRY ? &la : &lb;
	winner = loser == &la ? &lb : &la;
	is_int(loser->commit_rc, STORE_RETRY, "deadlock: the loser's commit is STORE_RETRY too");
	is_int(winner->rc2, STORE_OK, "deadlock: the winner's statement went through");
	is_int(winner->commit_rc, STORE_OK, "deadlock: the winner commits");
	is_int(disabled(a, "dl-one"), winner->disabled, "deadlock: the winner's first row");
	is_int(disabled(a, "dl-two"), winner->disabled, "deadlock: the winner's second row");
	/* Run the loser again from store_begin, as the codes say it may be. */
	ok(store_begin(loser->st) == STORE_OK &&
	    store_user_set_disabled(loser->st, loser->first, loser->disabled) == STORE_OK &&
	    store_user_set_disabled(loser->st, loser->second, loser->disabled) == STORE_OK &&
	    store_commit(loser->st) == STORE_OK, "deadlock: the loser's transaction runs again");
	ok(disabled(b, "dl-one") == loser->disabled && disabled(b, "dl-two") == loser->disabled,
	    "deadlock: its rows now");
}

/* ---- a connection the server ends ---- */

static int
terminate(const char *app)
{
	char sql[256];

	snprintf(sql, sizeof(sql),
	    "SELECT count(*) FROM (SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
	    "WHERE application_name = '%s' AND datname = current_database()) t",
	    app);
	return (int)admin_int(sql);
}

static int64_t
backends_of(const char *app)
{
	char sql[256];

	snprintf(sql, sizeof(sql),
	    "SELECT count(*) FROM pg_stat_activity WHERE application_name = '%s'", app);
	return admin_int(sql);
}

static void
terminated(void)
{
	struct store *v = NULL;
	struct store_user u;
	char *vurl = url_with_param(url, "application_name=t_store_pg_victim"), *val = NULL;
	int rc;

	ok(store_open(vurl, NULL, &v) == STORE_OK, "victim: open");
	ok(store_user_get_by_name(v, "alice", &u) == STORE_OK, "victim: a read");
	store_user_clear(&u);
	is_int(backends_of("t_store_pg_victim"), 1, "victim: one backend");

	is_int(terminate("t_store_pg_victim"), 1, "victim: backend terminated");
	is_int(backends_of("t_store_pg_victim"), 0, "victim: no backend left");
	rc = store_user_get_by_name(v, "alice", &u);
	is_int(rc, STORE_OK, "victim: the next read succeeds");
	is_str(u.name, "alice", "victim: and reads the row");
	store_user_clear(&u);
	is_int(backends_of("t_store_pg_victim"), 1, "victim: on a new connection");

	is_int(terminate("t_store_pg_victim"), 1, "victim: terminated again");
	rc = store_setting_set(v, "after_terminate", "written");
	ok(rc == STORE_OK || rc == STORE_UNKNOWN, "victim: a write outside a transaction: OK or UNKNOWN");
	diag_msg("write after terminate", rc, store_errmsg(v));
	if (rc == STORE_OK) {
		ok(store_setting_get_new(v, "after_terminate", &val) == STORE_OK &&
		    same_str(val, "written"), "victim: the write is there");
		free(val);
	} else {
		ok(store_ping(v) == STORE_OK, "victim: the database is there after UNKNOWN");
	}

	/* Inside a transaction that has reached the server: it is gone with the backend. */
	ok(store_begin(v) == STORE_OK, "victim: begin");
	ok(store_user_get_by_name(v, "alice", &u) == STORE_OK, "victim: a read in the transaction");
	store_user_clear(&u);
	is_int(terminate("t_store_pg_victim"), 1, "victim: terminated inside the transaction");
	rc = store_user_add(v, "lost-user", "h", T, NULL);
	is_int(rc, STORE_RETRY, "victim: the next statement of the transaction is STORE_RETRY");
	rc = store_user_get_by_name(v, "alice", &u);
	store_user_clear(&u);
	is_int(rc, STORE_RETRY, "victim: every later statement of it too");
	rc = store_setting_set(v, "in_terminated_tx", "lost");
	ok(rc == STORE_RETRY || rc == STORE_OK, "victim: a write queued after it fails or waits");
	is_int(store_commit(v), STORE_RETRY, "victim: and its commit is STORE_RETRY");
	is_int(store_user_get_by_name(v, "lost-user", &u), STORE_NOTFOUND,
	    "victim: nothing of it was kept");
	val = NULL;
	is_int(store_setting_get_new(v, "in_terminated_tx", &val), STORE_NOTFOUND,
	    "victim: not the queued write either");
	free(val);
	ok(store_begin(v) == STORE_OK && store_user_get_by_name(v, "alice", &u) == STORE_OK &&
	    store_user_add(v, "lost-user", "h", T, NULL) == STORE_OK && store_commit(v) == STORE_OK,
	    "victim: the transaction runs again from begin, on a new connection");
	store_user_clear(&u);
	ok(store_user_get_by_name(v, "lost-user", &u) == STORE_OK, "victim: and is kept");
	store_user_clear(&u);
	ok(store_ping(v) == STORE_OK, "victim: ping");

	/* A transaction begun on a connection that is already dead: nothing of it reached
	 * the server, so it starts on a new connection. */
	is_int(terminate("t_store_pg_victim"), 1, "victim: terminated before a begin");
	ok(store_begin(v) == STORE_OK, "victim: begin on the dead connection");
	rc = store_user_get_by_name(v, "alice", &u);
	store_user_clear(&u);
	is_int(rc, STORE_OK, "victim: its first statement runs on a new connection");
	ok(store_setting_set(v, "in_tx", "kept") == STORE_OK && store_commit(v) == STORE_OK,
	    "victim: and the transaction commits");
	val = NULL;
	ok(store_setting_get_new(v, "in_tx", &val) == STORE_OK && same_str(val, "kept"),
	    "victim: its write is there");
	free(val);

	/* The same with a transaction that only writes. */
	is_int(terminate("t_store_pg_victim"), 1, "victim: terminated before a write-only transaction");
	ok(store_begin(v) == STORE_OK, "victim: begin");
	rc = store_setting_set(v, "write_only", "w");
	if (rc == STORE_OK)
		rc = store_commit(v);
	else
		store_rollback(v);
	ok(rc == STORE_OK || rc == STORE_UNKNOWN, "victim: write-only transaction: OK or UNKNOWN");
	diag_msg("write-only transaction after terminate", rc, store_errmsg(v));
	ok(store_ping(v) == STORE_OK, "victim: the connection works after it");

	store_close(v);
	free(vurl);
}

/* ---- store copy from SQLite ---- */

static void
fill_sqlite(struct store *s)
{
	struct store_resource r;
	struct store_client c;
	struct store_code cd;
	struct store_family f;
	struct store_key k;
	struct store_audit a;
	struct store_idp p;
	struct store_credential cr;
	struct store_connection cn;
	struct store_user_connection uc;
	struct store_connect_state cs;
	unsigned char h[32], blob[] = {0x00, 0x01, 0xfe, 0xff, 0x00, 0x7f};
	char *redirects[] = {MUT("https://copy.example/cb"), MUT("https://copy.example/cb2")};
	int64_t u1 = 0, u2 = 0, r1 = 0, r2 = 0, c1 = 0, c2 = 0, n = 0;

	ok(store_setting_set(s, "issuer", "https://copied.example") == STORE_OK &&
	    store_setting_set(s, "other", "x") == STORE_OK, "sqlite: settings");
	ok(store_user_add(s, "copy-alice", "$argon2id$a", T, &u1) == STORE_OK &&
	    store_user_add(s, "copy-bob", "$argon2id$b", T, &u2) == STORE_OK, "sqlite: users");
	r = resource("https://r1.example/mcp", "R1", "read write", NULL, 0);
	ok(store_resource_add(s, &r, &r1) == STORE_OK, "sqlite: resource 1");
	r = resource("https://r2.example/mcp", "R2", "read", "read", 600);
	ok(store_resource_add(s, &r, &r2) == STORE_OK, "sqlite: resource 2");
	ok(store_edge_put(s, r1, r2, "read", T) == STORE_OK && store_edge_put(s, r2, r1, NULL, T) ==
	    STORE_OK, "sqlite: edges");
	memset(&c, 0, sizeof(c));
	c.client_id = MUT("copy-c1");
	c.name = MUT("Copied");
	c.confidential = 1;
	c.auth_method = MUT("client_secret_basic");
	c.secret_hash = MUT("$argon2id$s");
	c.grant_types = MUT("authorization_code client_credentials");
	c.acts_for = r1;
	c.redirect_uris = redirects;
	c.n_redirect_uris = 2;
	c.created_at = T;
	ok(store_client_add(s, &c, &c1) == STORE_OK, "sqlite: client 1, two redirect URIs");
	c.client_id = MUT("copy-c2");
	c.acts_for = 0;
	c.n_redirect_uris = 1;
	c.metadata = MUT("{\"client_name\":\"c2\"}");
	ok(store_client_add(s, &c, &c2) == STORE_OK, "sqlite: client 2, one redirect URI");
	c.client_id = MUT("copy-c3");
	c.auth_method = MUT("private_key_jwt");
	c.secret_hash = NULL;
	c.n_redirect_uris = 0;
	c.metadata = NULL;
	c.jwks = MUT("{\"keys\":[]}");
	ok(store_client_add(s, &c, NULL) == STORE_OK, "sqlite: client 3, private_key_jwt");
	memset(&p, 0, sizeof(p));
	p.name = MUT("copy-jag");
	p.issuer = MUT("https://jag.copy.example");
	p.client_id = MUT("");
	p.display_name = MUT("Jag");
	p.scopes = MUT("openid");
	p.claim_user = MUT("sub");
	p.claim_email = MUT("email");
	p.claim_groups = MUT("groups");
	p.jwks_uri = MUT("https://jag.copy.example/jwks");
	p.id_jag = 1;
	p.id_jag_clients = MUT("copy-c3");
	p.created_at = T;
	ok(store_idp_add(s, &p, NULL) == STORE_OK, "sqlite: an ID-JAG issuer");
	ok(store_client_resource_add(s, c1, r2) == STORE_OK, "sqlite: a client_resources row");
	cr = vault_contract_row("copy-api", 1, blob, sizeof(blob), blob + 1, sizeof(blob) - 1,
	    "sha256:0123456789abcdef", T);
	ok(store_credential_add(s, &cr) == STORE_OK, "sqlite: a credential");
	cr.version = 2;
	cr.wrapped_key = blob + 2;
	cr.wrapped_key_len = sizeof(blob) - 2;
	ok(store_credential_rotate(s, &cr, FAR, NULL) == STORE_OK,
	    "sqlite: rotated (two versions, one retiring)");
	ok(store_resource_credential_allow(s, r2, "copy-api", T) == STORE_OK &&
	    store_resource_credential_allow(s, r1, "copy-api", T) == STORE_OK,
	    "sqlite: two resource_credentials rows");
	cn = connections_contract_connection("copy-gh", blob, sizeof(blob), blob + 1,
	    sizeof(blob) - 1, T);
	cn.revoke_url = MUT("https://tp.copy.example/revoke");
	cn.allow_private = 1;
	ok(store_connection_add(s, &cn) == STORE_OK, "sqlite: a connection");
	cn = connections_contract_connection("copy-pub", NULL, 0, NULL, 0, T);
	cn.resource = MUT("https://api.tp.copy.example/");
	ok(store_connection_add(s, &cn) == STORE_OK, "sqlite: a public client's connection");
	ok(store_resource_credential_allow(s, r1, "copy-gh", T) == STORE_OK,
	    "sqlite: a resource_credentials row naming a connection");
	uc = connections_contract_tokens("copy-gh", u1, 1, blob, sizeof(blob), blob + 2,
	    sizeof(blob) - 2, T);
	ok(store_user_connection_put(s, &uc) == STORE_OK, "sqlite: a user's tokens");
	uc.generation = 2;
	uc.tokens_enc = blob + 1;
	uc.tokens_enc_len = sizeof(blob) - 1;
	uc.updated_at = T + 5;
	ok(store_user_connection_put(s, &uc) == STORE_OK &&
	    store_user_connection_lease(s, "copy-gh", u1, 2, T, FAR) == STORE_OK,
	    "sqlite: refreshed to generation 2, leased");
	uc = connections_contract_tokens("copy-gh", u2, 1, blob, sizeof(blob), blob,
	    sizeof(blob), T);
	uc.scope = NULL;
	ok(store_user_connection_put(s, &uc) == STORE_OK &&
	    store_user_connection_fail(s, "copy-gh", u2, 1) == STORE_OK,
	    "sqlite: another user's, the refresh refused");
	memset(&cs, 0, sizeof(cs));
	cs.connection = MUT("copy-pub");
	cs.user_id = u2;
	memset(cs.session_hash, 0, sizeof(cs.session_hash));
	cs.session_hash[1] = 0xff;
	cs.code_verifier = MUT("copy-verifier");
	cs.created_at = T;
	cs.expires_at = FAR;
	memset(h, 7, sizeof(h));
	ok(store_connect_state_add(s, h, &cs) == STORE_OK, "sqlite: a connect in progress");
	memset(h, 1, sizeof(h));
	ok(store_regtoken_add(s, h, sizeof(h), T, FAR) == STORE_OK, "sqlite: a registration token");
	ok(store_consent_put(s, u1, c1, "https://r1.example/mcp", "read", T, FAR) == STORE_OK &&
	    store_consent_put(s, u2, c1, "https://r1.example/mcp", "read", T, FAR) == STORE_OK,
	    "sqlite: consents");
	memset(h, 2, sizeof(h));
	ok(store_session_add(s, h, sizeof(h), u1, T, T, FAR) == STORE_OK, "sqlite: a session");
	cd = code(3, c1, u1, FAR);
	ok(store_code_add(s, &cd) == STORE_OK, "sqlite: a code");
	cd = code(4, c1, u2, FAR);
	ok(store_code_add(s, &cd) == STORE_OK, "sqlite: another code");
	f = family("copy-fam", c1, u1, FAR);
	ok(store_family_add(s, &f) == STORE_OK, "sqlite: a family");
	memset(h, 5, sizeof(h));
	ok(store_refresh_add(s, h, "copy-fam", "read", T, FAR, "copy-jti-1", FAR) == STORE_OK,
	    "sqlite: a refresh token");
	memset(h, 6, sizeof(h));
	ok(store_refresh_add(s, h, "copy-fam", "read", T, FAR, NULL, 0) == STORE_OK,
	    "sqlite: one without an access jti");
	ok(store_jti_revoke(s, "copy-jti-2", FAR, T) == STORE_OK, "sqlite: a revoked jti");
	ok(store_family_revoke(s, "copy-fam", T + 1, "copy") == STORE_OK,
	    "sqlite: the family revoked (a second revoked jti)");
	k = key("copy-k1", "ES256", "active", blob, sizeof(blob));
	k.activated_at = T;
	ok(store_key_add(s, &k, NULL) == STORE_OK, "sqlite: a key with a binary private part");
	memset(&a, 0, sizeof(a));
	a.ts = T;
	a.event = "token";
	a.outcome = "ok";
	a.client_id = "copy-c1";
	ok(store_audit_add(s, &a) == STORE_OK && store_audit_add(s, &a) == STORE_OK &&
	    store_audit_add(s, &a) == STORE_OK, "sqlite: three audit records");
	ok(store_login_failure_add(s, "user:copy-alice", FAR_MS, 0, &n) == STORE_OK,
	    "sqlite: a login failure");
	ok(store_rate_take(s, "reg:192.0.2.1", FAR, &n) == STORE_OK &&
	    store_rate_take(s, "reg:192.0.2.2", FAR, &n) == STORE_OK, "sqlite: rate limit rows");
}

static int
copied_key(const struct store_key *k, void *arg)
{
	static const unsigned char blob[] = {0x00, 0x01, 0xfe, 0xff, 0x00, 0x7f};

	if (strcmp(k->kid, "copy-k1") == 0 && k->private_enc_len == sizeof(blob) &&
	    memcmp(k->private_enc, blob, sizeof(blob)) == 0 && strcmp(k->state, "active") == 0)
		(*(int *)arg)++;
	return 0;
}

static void
copy_from_sqlite(struct store *main_st)
{
	static const int64_t want[STORE_TABLE_COUNT] = {
	    [STORE_T_SETTINGS] = 2,
	    [STORE_T_USERS] = 2,
	    [STORE_T_RESOURCES] = 2,
	    [STORE_T_EXCHANGE_EDGES] = 2,
	    [STORE_T_CLIENTS] = 3,
	    [STORE_T_CLIENT_REDIRECT_URIS] = 3,
	    [STORE_T_CLIENT_RESOURCES] = 1,
	    [STORE_T_REGISTRATION_TOKENS] = 1,
	    [STORE_T_CONSENTS] = 2,
	    [STORE_T_SESSIONS] = 1,
	    [STORE_T_AUTH_CODES] = 2,
	    [STORE_T_TOKEN_FAMILIES] = 1,
	    [STORE_T_REFRESH_TOKENS] = 2,
	    [STORE_T_REVOKED_JTIS] = 2,
	    [STORE_T_KEYS] = 1,
	    [STORE_T_AUDIT] = 3,
	    [STORE_T_LOGIN_FAILURES] = 1,
	    [STORE_T_RATE_LIMITS] = 2,
	    [STORE_T_IDPS] = 1,
	    [STORE_T_CREDENTIALS] = 2,
	    [STORE_T_RESOURCE_CREDENTIALS] = 3,
	    [STORE_T_CONNECTIONS] = 2,
	    [STORE_T_USER_CONNECTIONS] = 2,
	    [STORE_T_CONNECT_STATES] = 1,
	};
	struct store_options sopt = {.create = 1};
	static const unsigned char blob[] = {0x00, 0x01, 0xfe, 0xff, 0x00, 0x7f};
	struct store_copy_report rep;
	struct store *src = NULL, *dst = NULL;
	struct store_client cl;
	struct store_credential cr;
	struct store_connection cn;
	struct store_user_connection uc;
	struct store_connect_state cs;
	struct store_idp ip;
	struct store_user u;
	struct store_resource r;
	unsigned char h[32];
	char *mem = store_memory_path_new(), *dburl = NULL, *v = NULL, *db2 = NULL, *ident = NULL;
	char sql[512];
	int64_t uid = 0, rid = 0;
	int t, all = 1, n = 0, rc;
	PGresult *res;

	/* A second database, created for this (dropped first if a run left it behind). */
	res = PQexec(admin, "SELECT current_database() || '_copy'");
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		db2 = strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (db2 != NULL)
		ident = PQescapeIdentifier(admin, db2, strlen(db2));
	if (ident == NULL) {
		ok(0, "copy: name of a second database");
		free(db2);
		free(mem);
		return;
	}
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", ident);
	admin_exec(sql);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", ident);
	ok(admin_exec(sql), "copy: a second, empty database");
	dburl = url_with_db(url, db2);

	ok(store_open(mem, &sopt, &src) == STORE_OK && store_migrate(src, NULL) == STORE_OK,
	    "copy: a SQLite source");
	fill_sqlite(src);
	ok(store_open(dburl, NULL, &dst) == STORE_OK && store_migrate(dst, NULL) == STORE_OK,
	    "copy: the destination migrated");
	rc = store_copy(src, dst, &rep);
	is_int(rc, STORE_OK, "copy: SQLite -> PostgreSQL");
	if (rc != STORE_OK)
		diag_msg("copy", rc, store_errmsg(dst));
	for (t = 0; t < STORE_TABLE_COUNT; t++) {
		if (rep.rows[t] != want[t]) {
			tap_diag("%s: %lld rows, want %lld", store_table_name(t),
			    (long long)rep.rows[t], (long long)want[t]);
			all = 0;
		}
	}
	ok(all, "copy: every table's count as written");
	is_int(rep.rows[STORE_T_CLIENT_REDIRECT_URIS], 3, "copy: redirect URIs counted");
	is_int(rep.rows[STORE_T_REVOKED_JTIS], 2, "copy: revoked jtis counted");

	/* What arrived reads back through the PostgreSQL store. */
	ok(store_setting_get_new(dst, "issuer", &v) == STORE_OK && same_str(v, "https://copied.example"),
	    "copy: a setting");
	free(v);
	ok(store_client_get(dst, "copy-c1", &cl) == STORE_OK && cl.n_redirect_uris == 2 &&
	    same_str(cl.acts_for_uri, "https://r1.example/mcp") && cl.confidential == 1,
	    "copy: a client with its redirect URIs and acts_for");
	store_client_clear(&cl);
	ok(store_client_get(dst, "copy-c2", &cl) == STORE_OK &&
	    same_str(cl.metadata, "{\"client_name\":\"c2\"}") && cl.acts_for == 0,
	    "copy: the other client's NULLs and text");
	store_client_clear(&cl);
	ok(store_client_get(dst, "copy-c3", &cl) == STORE_OK && same_str(cl.jwks, "{\"keys\":[]}") &&
	    cl.jwks_uri == NULL && cl.secret_hash == NULL &&
	    same_str(cl.auth_method, "private_key_jwt"), "copy: a private_key_jwt client's JWKS");
	store_client_clear(&cl);
	ok(store_idp_get_id_jag(dst, "https://jag.copy.example", &ip) == STORE_OK &&
	    same_str(ip.client_id, "") && same_str(ip.jwks_uri, "https://jag.copy.example/jwks") &&
	    ip.jwks == NULL && ip.id_jag == 1 && same_str(ip.id_jag_clients, "copy-c3"),
	    "copy: an ID-JAG issuer's columns");
	store_idp_clear(&ip);
	ok(store_resource_get_by_key(dst, "https://r2.example/mcp", &r) == STORE_OK &&
	    same_str(r.default_scopes, "read") && r.ttl == 600, "copy: a resource");
	store_resource_clear(&r);
	is_int(store_jti_revoked(dst, "copy-jti-1"), STORE_OK, "copy: the family's revoked jti");
	ok(store_key_list(dst, copied_key, &n) == STORE_OK && n == 1,
	    "copy: the key's private part, byte for byte");
	ok(store_user_get_by_name(dst, "copy-bob", &u) == STORE_OK, "copy: a user");
	store_user_clear(&u);
	ok(store_credential_get(dst, "copy-api", &cr) == STORE_OK && cr.version == 2 &&
	    cr.retires_at == 0 && vault_contract_blobs(&cr, blob + 2, sizeof(blob) - 2, blob + 1,
				      sizeof(blob) - 1),
	    "copy: a credential's current version, its blobs byte for byte");
	store_credential_clear(&cr);
	ok(store_credential_get_previous(dst, "copy-api", T, &cr) == STORE_OK && cr.version == 1 &&
	    cr.retires_at == FAR && vault_contract_blobs(&cr, blob, sizeof(blob), blob + 1,
					sizeof(blob) - 1),
	    "copy: and the retiring one");
	store_credential_clear(&cr);
	ok(store_resource_get_by_key(dst, "https://r2.example/mcp", &r) == STORE_OK &&
	    store_resource_credential_allowed(dst, r.id, "copy-api") == STORE_OK,
	    "copy: the policy rows");
	store_resource_clear(&r);
	ok(store_connection_get(dst, "copy-gh", &cn) == STORE_OK && cn.allow_private == 1 &&
	    same_str(cn.revoke_url, "https://tp.copy.example/revoke") && cn.resource == NULL &&
	    connections_contract_same(cn.wrapped_key, cn.wrapped_key_len, blob, sizeof(blob)) &&
	    connections_contract_same(cn.secret_enc, cn.secret_enc_len, blob + 1,
		sizeof(blob) - 1), "copy: a connection, its blobs byte for byte");
	store_connection_clear(&cn);
	ok(store_connection_get(dst, "copy-pub", &cn) == STORE_OK && cn.wrapped_key == NULL &&
	    cn.secret_enc == NULL && cn.allow_private == 0 &&
	    same_str(cn.resource, "https://api.tp.copy.example/"),
	    "copy: a public client's connection, its NULLs");
	store_connection_clear(&cn);
	ok(store_resource_get_by_key(dst, "https://r1.example/mcp", &r) == STORE_OK &&
	    store_resource_credential_allowed(dst, r.id, "copy-gh") == STORE_OK,
	    "copy: the policy row naming a connection");
	store_resource_clear(&r);
	ok(store_user_get_by_name(dst, "copy-alice", &u) == STORE_OK &&
	    store_user_connection_get(dst, "copy-gh", u.id, &uc) == STORE_OK &&
	    uc.generation == 2 && uc.refreshing_until == FAR && uc.needs_reauth == 0 &&
	    uc.created_at == T && uc.updated_at == T + 5 && same_str(uc.scope, "repo") &&
	    connections_contract_same(uc.wrapped_key, uc.wrapped_key_len, blob, sizeof(blob)) &&
	    connections_contract_same(uc.tokens_enc, uc.tokens_enc_len, blob + 1,
		sizeof(blob) - 1), "copy: a user's tokens, generation and lease, byte for byte");
	store_user_connection_clear(&uc);
	store_user_clear(&u);
	ok(store_user_get_by_name(dst, "copy-bob", &u) == STORE_OK &&
	    store_user_connection_get(dst, "copy-gh", u.id, &uc) == STORE_OK &&
	    uc.generation == 1 && uc.needs_reauth == 1 && uc.scope == NULL,
	    "copy: another user's, needing reauth");
	store_user_connection_clear(&uc);
	store_user_clear(&u);
	memset(h, 7, sizeof(h));
	ok(store_connect_state_take(dst, h, &cs) == STORE_OK &&
	    same_str(cs.connection, "copy-pub") &&
	    same_str(cs.code_verifier, "copy-verifier") && cs.session_hash[1] == 0xff &&
	    cs.session_hash[0] == 0 && cs.expires_at == FAR, "copy: a connect in progress");
	store_connect_state_clear(&cs);
	/* Ids came along; the identity sequences must start after them. */
	ok(store_user_add(dst, "after-copy", "h", T, &uid) == STORE_OK && uid > 2,
	    "copy: a new user gets a fresh id");
	r = resource("https://after.example/mcp", "After", "x", NULL, 0);
	ok(store_resource_add(dst, &r, &rid) == STORE_OK && rid > 2,
	    "copy: a new resource gets a fresh id");
	cr = vault_contract_row("after-copy", 1, (unsigned char *)(uintptr_t)blob, sizeof(blob),
	    (unsigned char *)(uintptr_t)blob, sizeof(blob),
	    "sha256:0000000000000000", T);
	ok(store_credential_add(dst, &cr) == STORE_OK &&
	    store_credential_get(dst, "after-copy", &cr) == STORE_OK && cr.id > 2,
	    "copy: a new credential gets a fresh id");
	store_credential_clear(&cr);
	cn = connections_contract_connection("after-copy-conn", NULL, 0, NULL, 0, T);
	ok(store_connection_add(dst, &cn) == STORE_OK &&
	    store_connection_get(dst, "after-copy-conn", &cn) == STORE_OK && cn.id > 2,
	    "copy: a new connection gets a fresh id");
	store_connection_clear(&cn);

	is_int(store_copy(src, dst, &rep), STORE_CONFLICT, "copy: a second time is refused");
	is_int(store_copy(src, main_st, &rep), STORE_CONFLICT,
	    "copy: into a database in use is refused");
	ok(store_user_get_by_name(dst, "copy-alice", &u) == STORE_OK, "copy: the refusal left rows alone");
	store_user_clear(&u);

	store_close(dst);
	store_close(src);
	snprintf(sql, sizeof(sql), "DROP DATABASE %s WITH (FORCE)", ident);
	ok(admin_exec(sql), "copy: second database dropped");
	PQfreemem(ident);
	free(db2);
	free(dburl);
	free(mem);
}

int
main(void)
{
	struct store *st = NULL, *st2 = NULL, *bad = NULL;
	struct store_options quick = {.timeout_ms = 2000};
	struct store_user u;
	struct store_resource r, got;
	struct store_client c, cg;
	struct store_code cd, out;
	struct store_family f;
	struct store_refresh rf;
	struct store_key k;
	struct key_seen ks;
	struct store_audit a;
	struct audit_seen as;
	struct store_purge_counts pc;
	char *v = NULL, *uris = NULL, *badurl;
	char *redirects[] = {MUT("https://app.example/cb"), MUT("http://127.0.0.1/cb")};
	unsigned char h[32], h2[32], blob[] = {0x00, 0xff, 0x10, 0x00, 0x80};
	unsigned char blob2[] = {0xde, 0xad, 0x00, 0xbe, 0xef, 0x00, 0x01};
	int applied = -1, version = -1, n = 0, deleted = -1;
	int64_t uid, uid2, rid1, rid2, cid, kv, kv0, k1, k2, k4, cnt, until, user_id, auth_time;
	int64_t bytes = 0;

	url = getenv("MCP_AUTHD_TEST_PG_URL");
	if (url == NULL || *url == '\0') {
		printf("1..0 # SKIP MCP_AUTHD_TEST_PG_URL is not set\n");
		return 0;
	}
	admin = PQconnectdb(url);
	if (PQstatus(admin) != CONNECTION_OK) {
		printf("Bail out! cannot connect to the test database: %s\n", PQerrorMessage(admin));
		PQfinish(admin);
		return 1;
	}
	PQsetNoticeProcessor(admin, quiet, NULL);

	/* ---- connection ---- */
	badurl = url_with_db("postgresql://authd:hunter2secret@127.0.0.1:1", "nowhere");
	is_int(store_open(badurl, &quick, &bad), STORE_UNAVAILABLE, "nothing listening: UNAVAILABLE");
	ok(bad == NULL, "no store returned");
	ok(store_open_error()[0] != '\0' && strstr(store_open_error(), "hunter2secret") == NULL,
	    "why, without the password");
	diag_msg("open error", STORE_UNAVAILABLE, store_open_error());
	free(badurl);
	ok(store_open(url, NULL, &st) == STORE_OK, "open");
	is_str(store_open_error(), "", "no open error after success");
	is_str(store_backend_name(st), "postgresql", "backend name");
	ok(store_migrate(st, &applied) == STORE_OK && applied >= 4, "migrations applied");
	ok(store_schema_version(st, &version) == STORE_OK && version == applied,
	    "schema version is the last migration");
	ok(store_migrate(st, &applied) == STORE_OK && applied == 0, "migrating again applies none");
	ok(store_open(url, NULL, &st2) == STORE_OK, "a second connection");
	ok(store_migrate(st2, &applied) == STORE_OK && applied == 0,
	    "the second connection has nothing to migrate");
	ok(store_schema_version(st2, &n) == STORE_OK && n == version, "and sees the same version");
	ok(store_ping(st) == STORE_OK, "ping");
	ok(store_size(st, &bytes) == STORE_OK && bytes > 0, "size > 0");
	is_int(store_backup(st, "/tmp/t_store_pg.bak"), STORE_UNSUPPORTED, "backup is unsupported");
	ok(access("/tmp/t_store_pg.bak", F_OK) != 0, "and wrote no file");
	is_int(store_checkpoint(st, 0), 0, "checkpoint: nothing to do");

	/* ---- settings ---- */
	v = MUT("x");
	ok(store_setting_get_new(st, "issuer", &v) == STORE_NOTFOUND && v == NULL,
	    "missing setting is NOTFOUND");
	ok(store_setting_set(st, "issuer", "https://as.example") == STORE_OK, "set setting");
	ok(store_setting_set(st, "issuer", "https://as2.example") == STORE_OK, "replace setting");
	ok(store_setting_get_new(st2, "issuer", &v) == STORE_OK, "read from the other connection");
	is_str(v, "https://as2.example", "setting value");
	free(v);

	/* ---- users ---- */
	ok(store_user_add(st, "alice", "$argon2id$x", 100, &uid) == STORE_OK && uid > 0, "add user");
	is_int(store_user_add(st, "alice", "$argon2id$y", 100, NULL), STORE_CONFLICT,
	    "duplicate user is a conflict");
	ok(store_ping(st) == STORE_OK, "the connection is fine after a conflict");
	ok(store_user_add(st, "bob", "$argon2id$b", 101, &uid2) == STORE_OK && uid2 > uid,
	    "another user");
	ok(store_user_get_by_name(st, "alice", &u) == STORE_OK, "get user by name");
	ok(u.id == uid && same_str(u.name, "alice") && same_str(u.password_hash, "$argon2id$x") &&
	    u.disabled == 0 && u.created_at == 100, "user row");
	store_user_clear(&u);
	is_int(store_user_get_by_name(st, "nobody", &u), STORE_NOTFOUND, "unknown user");
	is_int(store_user_get(st, 999999, &u), STORE_NOTFOUND, "unknown user id");
	is_int(store_user_set_disabled(st, "bob", 1), STORE_OK, "disable");
	is_int(store_user_set_disabled(st, "nobody", 1), STORE_NOTFOUND, "disable unknown");
	ok(store_user_get(st2, uid2, &u) == STORE_OK && u.disabled == 1, "disabled flag stored");
	store_user_clear(&u);
	is_int(store_user_set_password(st, "alice", "$argon2id$z"), STORE_OK, "set password");
	is_int(store_user_set_password(st, "nobody", "h"), STORE_NOTFOUND, "set password unknown");
	ok(store_user_get(st, uid, &u) == STORE_OK && same_str(u.password_hash, "$argon2id$z"),
	    "new password hash");
	store_user_clear(&u);
	n = 0;
	ok(store_user_list(st, count_user, &n) == STORE_OK && n == 2, "list users");

	/* ---- resources and edges ---- */
	r = resource("https://a.example/mcp", "A", "read write", NULL, 0);
	ok(store_resource_add(st, &r, &rid1) == STORE_OK && rid1 > 0, "add resource A");
	is_int(store_resource_add(st, &r, NULL), STORE_CONFLICT, "same key is a conflict");
	r = resource("https://b.example", "B", "read write", "read", 300);
	ok(store_resource_add(st, &r, &rid2) == STORE_OK, "add resource B");
	ok(store_resource_get_by_key(st2, "https://b.example", &got) == STORE_OK, "get by key");
	ok(got.id == rid2 && same_str(got.uri, "https://b.example") && same_str(got.name, "B") &&
	    same_str(got.scopes, "read write") && same_str(got.default_scopes, "read") &&
	    got.ttl == 300 && got.created_at == T, "resource row");
	store_resource_clear(&got);
	ok(store_resource_get(st, rid1, &got) == STORE_OK && got.default_scopes == NULL &&
	    got.ttl == 0, "NULL default scopes and ttl read back as NULL/0");
	store_resource_clear(&got);
	is_int(store_resource_get(st, 999999, &got), STORE_NOTFOUND, "unknown resource id");
	is_int(store_resource_get_by_key(st, "https://nowhere", &got), STORE_NOTFOUND,
	    "unknown resource key");
	ok(store_resource_max_ttl(st, &cnt) == STORE_OK && cnt == 300, "max ttl");
	n = 0;
	ok(store_resource_list(st, count_resource, &n) == STORE_OK && n == 2, "list resources");
	n = 0;
	is_int(store_resource_list(st, stop_early, &n), 42, "visitor's non-zero stops the walk");
	is_int(n, 1, "after one row");
	ok(store_edge_put(st, rid1, rid2, "read", 5) == STORE_OK, "edge A->B");
	v = NULL;
	ok(store_edge_get(st, rid1, rid2, &v) == STORE_OK && same_str(v, "read"), "edge scopes");
	free(v);
	ok(store_edge_put(st, rid1, rid2, NULL, 6) == STORE_OK, "edge replaced");
	v = MUT("x");
	ok(store_edge_get(st, rid1, rid2, &v) == STORE_OK && v == NULL, "edge scopes NULL = all");
	is_int(store_edge_get(st, rid2, rid1, &v), STORE_NOTFOUND, "edges are directed");
	n = 0;
	ok(store_edge_list(st, count_edges, &n) == STORE_OK && n == 1, "list edges");

	/* ---- clients ---- */
	memset(&c, 0, sizeof(c));
	c.client_id = MUT("c1");
	c.name = MUT("Client");
	c.confidential = 1;
	c.auth_method = MUT("client_secret_basic");
	c.secret_hash = MUT("$argon2id$h");
	c.grant_types = MUT("authorization_code client_credentials");
	c.acts_for = rid1;
	c.default_resource = MUT("https://a.example/mcp");
	c.remote_addr = MUT("192.0.2.1");
	c.redirect_uris = redirects;
	c.n_redirect_uris = 2;
	c.created_at = 7;
	ok(store_client_add(st, &c, &cid) == STORE_OK && cid > 0, "add client with redirect URIs");
	is_int(store_client_add(st, &c, NULL), STORE_CONFLICT, "duplicate client id");
	ok(store_client_get(st2, "c1", &cg) == STORE_OK, "get client");
	is_int(cg.n_redirect_uris, 2, "two redirect URIs");
	ok(cg.n_redirect_uris == 2 && same_str(cg.redirect_uris[0], "http://127.0.0.1/cb") &&
	    same_str(cg.redirect_uris[1], "https://app.example/cb"), "redirect URIs, sorted");
	is_str(cg.acts_for_uri, "https://a.example/mcp", "acts_for URI joined");
	is_str(cg.origin, "cli", "default origin");
	ok(cg.id == cid && cg.confidential == 1 && same_str(cg.secret_hash, "$argon2id$h") &&
	    same_str(cg.remote_addr, "192.0.2.1") && cg.created_at == 7 && cg.updated_at == 7 &&
	    cg.metadata == NULL && cg.introspect_admin == 0, "client row");
	store_client_clear(&cg);
	ok(store_client_get_lite(st, "c1", &cg) == STORE_OK && cg.n_redirect_uris == 0 &&
	    cg.id == cid, "get_lite: no redirect URIs");
	store_client_clear(&cg);
	is_int(store_client_get(st, "nobody", &cg), STORE_NOTFOUND, "unknown client");
	ok(store_client_set_secret(st, "c1", "$argon2id$new", 9) == STORE_OK, "new secret");
	ok(store_client_get_lite(st, "c1", &cg) == STORE_OK && same_str(cg.secret_hash,
	    "$argon2id$new") && cg.updated_at == 9, "secret and updated_at stored");
	store_client_clear(&cg);
	is_int(store_client_set_secret(st, "nobody", "h", 9), STORE_NOTFOUND, "secret of unknown");
	is_int(store_client_resource_allowed(st, cid, rid2), STORE_NOTFOUND, "not yet allowed");
	ok(store_client_resource_add(st, cid, rid2) == STORE_OK, "allow B");
	ok(store_client_resource_add(st, cid, rid2) == STORE_OK, "allowing twice is harmless");
	is_int(store_client_resource_allowed(st2, cid, rid2), STORE_OK, "allowed");
	{
		int allowed = -1;

		ok(store_resource_for_client(st, "https://b.example", cid, &got, &allowed) ==
			STORE_OK && allowed == 1 && got.id == rid2, "resource_for_client: allowed");
		store_resource_clear(&got);
		ok(store_resource_for_client(st, "https://a.example/mcp", cid, &got, &allowed) ==
			STORE_OK && allowed == 0, "resource_for_client: not allowed");
		store_resource_clear(&got);
		is_int(store_resource_for_client(st, "https://nowhere", cid, &got, &allowed),
		    STORE_NOTFOUND, "resource_for_client: unknown");
	}
	ok(store_client_resources_new(st, cid, &uris) == STORE_OK, "resource list");
	is_str(uris, "https://b.example", "resource list text");
	free(uris);
	n = 0;
	ok(store_client_list(st, count_client, &n) == STORE_OK && n == 1, "list clients");

	/* ---- registration tokens ---- */
	memset(h, 7, sizeof(h));
	ok(store_regtoken_add(st, h, sizeof(h), 10, FAR) == STORE_OK, "registration token");
	is_int(store_regtoken_check(st, h, sizeof(h), 15), STORE_OK, "valid before expiry");
	is_int(store_regtoken_check(st, h, sizeof(h), FAR), STORE_NOTFOUND, "expired at expiry");
	h[0] = 8;
	is_int(store_regtoken_check(st, h, sizeof(h), 15), STORE_NOTFOUND, "unknown token");

	/* ---- sessions and consent ---- */
	memset(h, 9, sizeof(h));
	ok(store_session_add(st, h, sizeof(h), uid, T - 5, T, FAR) == STORE_OK, "session");
	ok(store_session_get(st2, h, sizeof(h), T + 1, &user_id, &auth_time) == STORE_OK &&
	    user_id == uid && auth_time == T - 5, "session read back");
	is_int(store_session_get(st, h, sizeof(h), FAR, &user_id, &auth_time), STORE_NOTFOUND,
	    "session expired at its expiry");
	ok(store_session_delete(st, h, sizeof(h)) == STORE_OK &&
	    store_session_get(st, h, sizeof(h), T + 1, &user_id, &auth_time) == STORE_NOTFOUND,
	    "session deleted");
	memset(h, 10, sizeof(h));
	ok(store_session_add(st, h, sizeof(h), uid2, T, T, FAR) == STORE_OK &&
	    store_session_get(st, h, sizeof(h), T + 1, &user_id, &auth_time) == STORE_NOTFOUND,
	    "a disabled user's session does not count");
	ok(store_consent_put(st, uid, cid, "https://a.example/mcp", "read", T, FAR) == STORE_OK,
	    "consent");
	ok(store_consent_put(st, uid, cid, "https://a.example/mcp", "read", T + 1, FAR) == STORE_OK,
	    "consent again (refreshed)");
	is_int(store_consent_check(st2, uid, cid, "https://a.example/mcp", "read", T + 2), STORE_OK,
	    "consent found");
	is_int(store_consent_check(st, uid, cid, "https://a.example/mcp", "read write", T + 2),
	    STORE_NOTFOUND, "other scope: no consent");
	is_int(store_consent_check(st, uid, cid, "https://a.example/mcp", "read", FAR),
	    STORE_NOTFOUND, "expired consent");

	/* ---- authorization codes ---- */
	cd = code(0x11, cid, uid, FAR);
	ok(store_code_add(st, &cd) == STORE_OK, "add code");
	is_int(store_code_add(st, &cd), STORE_CONFLICT, "same code twice is a conflict");
	is_int(store_code_redeem(st, cd.hash, T + 1, "fam-1", &out), STORE_OK, "first redemption");
	ok(out.client == cid && out.user_id == uid && same_str(out.redirect_uri,
	    "https://app.example/cb") && out.redirect_uri_given == 1 && same_str(out.scope, "read") &&
	    same_str(out.resources, "https://a.example/mcp") && same_str(out.code_challenge,
	    cd.code_challenge) && out.auth_time == T && out.expires_at == FAR &&
	    memcmp(out.hash, cd.hash, 32) == 0, "the code's row");
	ok(out.redeemed_at == T + 1 && same_str(out.family_id, "fam-1"), "marked redeemed by fam-1");
	store_code_clear(&out);
	is_int(store_code_redeem(st2, cd.hash, T + 2, "fam-2", &out), STORE_CONFLICT,
	    "second redemption is a conflict");
	is_str(out.family_id, "fam-1", "with the first redemption's family");
	is_int(out.redeemed_at, T + 1, "and its time");
	store_code_clear(&out);
	memset(h, 0x12, sizeof(h));
	is_int(store_code_redeem(st, h, T + 1, "fam-3", &out), STORE_NOTFOUND, "unknown code");
	store_code_clear(&out);

	/* ---- families, refresh tokens, revoked jtis ---- */
	f = family("fam-1", cid, uid, FAR);
	ok(store_family_add(st, &f) == STORE_OK, "family");
	is_int(store_family_add(st, &f), STORE_CONFLICT, "same family twice");
	memset(h, 0x21, sizeof(h));
	memset(h2, 0x22, sizeof(h2));
	ok(store_refresh_add(st, h, "fam-1", "read", T, FAR, "jti-a1", FAR) == STORE_OK,
	    "refresh token with its access jti");
	ok(store_refresh_get(st2, h, &rf) == STORE_OK, "refresh get");
	ok(same_str(rf.family_id, "fam-1") && same_str(rf.scope, "read") && rf.issued_at == T &&
	    rf.expires_at == FAR && rf.rotated_at == 0 && memcmp(rf.hash, h, 32) == 0,
	    "refresh row");
	ok(rf.family.client == cid && same_str(rf.family.client_id, "c1") &&
	    rf.family.user_id == uid && same_str(rf.family.user_name, "alice") &&
	    rf.family.user_disabled == 0 && same_str(rf.family.scope, "read write") &&
	    rf.family.revoked_at == 0 && rf.family.expires_at == FAR, "family joined");
	store_refresh_clear(&rf);
	is_int(store_refresh_get(st, h2, &rf), STORE_NOTFOUND, "unknown refresh token");
	is_int(store_refresh_take(st, h2, T + 10, &rf), STORE_NOTFOUND, "take an unknown token");
	ok(store_begin(st) == STORE_OK && store_refresh_take(st, h, T + 10, &rf) == STORE_OK &&
	    rf.rotated_at == 0 && same_str(rf.family.client_id, "c1"),
	    "take: the token as it was, used now");
	store_refresh_clear(&rf);
	store_rollback(st);
	ok(store_refresh_get(st, h, &rf) == STORE_OK && rf.rotated_at == 0,
	    "a rolled-back take leaves the token unused");
	store_refresh_clear(&rf);
	is_int(store_refresh_take(st, h, T + 10, &rf), STORE_OK, "take once");
	store_refresh_clear(&rf);
	ok(store_refresh_take(st2, h, T + 11, &rf) == STORE_CONFLICT &&
	    same_str(rf.family_id, "fam-1"), "take again: a reuse, naming its family");
	store_refresh_clear(&rf);
	ok(store_refresh_get(st, h, &rf) == STORE_OK && rf.rotated_at == T + 10, "rotated_at kept");
	store_refresh_clear(&rf);
	ok(store_refresh_add(st, h2, "fam-1", "read", T + 10, FAR, "jti-a2", FAR) == STORE_OK,
	    "the next refresh token");
	is_int(store_refresh_add(st, h2, "fam-1", "read", T + 10, FAR, NULL, 0), STORE_CONFLICT,
	    "same refresh token twice");
	is_int(store_jti_revoked(st, "jti-a1"), STORE_NOTFOUND, "access jti not revoked yet");
	ok(store_family_revoke(st, "fam-1", T + 20, "reuse") == STORE_OK, "revoke the family");
	is_int(store_jti_revoked(st2, "jti-a1"), STORE_OK, "its first access jti revoked");
	is_int(store_jti_revoked(st2, "jti-a2"), STORE_OK, "its second access jti revoked");
	ok(store_refresh_get(st, h2, &rf) == STORE_OK && rf.family.revoked_at == T + 20,
	    "the family shows its revocation");
	store_refresh_clear(&rf);
	ok(store_family_revoke(st, "fam-1", T + 30, "again") == STORE_OK, "revoking again is fine");
	ok(store_refresh_get(st, h2, &rf) == STORE_OK && rf.family.revoked_at == T + 20,
	    "and keeps the first time");
	store_refresh_clear(&rf);
	ok(store_jti_revoke(st, "jti-x", FAR, T) == STORE_OK, "revoke a jti");
	ok(store_jti_revoke(st, "jti-x", FAR, T) == STORE_OK, "revoking twice is fine");
	is_int(store_jti_revoked(st2, "jti-x"), STORE_OK, "jti revoked");
	is_int(store_jti_revoked(st, "jti-y"), STORE_NOTFOUND, "unknown jti");
	ok(store_user_set_disabled(st, "alice", 1) == STORE_OK &&
	    store_refresh_get(st, h2, &rf) == STORE_OK && rf.family.user_disabled == 1,
	    "the family shows its user disabled");
	store_refresh_clear(&rf);
	store_user_set_disabled(st, "alice", 0);

	/* ---- keys ---- */
	ok(store_keys_version(st, &kv0) == STORE_OK && kv0 == 0, "keys version starts at 0");
	k = key("k1", "ES256", "next", blob, sizeof(blob));
	ok(store_key_add(st, &k, &k1) == STORE_OK && k1 > 0, "add a key");
	is_int(store_key_add(st, &k, NULL), STORE_CONFLICT, "same kid twice");
	k = key("k2", "EdDSA", "next", blob2, sizeof(blob2));
	ok(store_key_add(st, &k, &k2) == STORE_OK, "another key");
	memset(&ks, 0, sizeof(ks));
	ok(store_key_list(st2, keep_key, &ks) == STORE_OK && ks.n == 2, "list keys");
	ok(ks.n == 2 && ks.k[0].id == k1 && same_str(ks.k[0].kid, "k1") &&
	    same_str(ks.k[0].state, "next") && ks.k[0].activated_at == 0 &&
	    ks.k[0].private_enc_len == sizeof(blob) &&
	    memcmp(ks.k[0].private_enc, blob, sizeof(blob)) == 0, "key row, private part byte for byte");
	key_seen_clear(&ks);
	ok(store_key_set_state(st, k1, "active", T, 0, 0) == STORE_OK, "activate k1");
	ok(store_key_set_state(st, k2, "retired", T, T + 5, T + 10) == STORE_OK, "retire k2");
	ok(store_key_list(st, keep_key, &ks) == STORE_OK && ks.n == 2 &&
	    same_str(ks.k[0].state, "active") && ks.k[0].activated_at == T &&
	    ks.k[0].retired_at == 0 && same_str(ks.k[1].state, "retired") &&
	    ks.k[1].retired_at == T + 5 && ks.k[1].delete_after == T + 10, "states stored");
	key_seen_clear(&ks);
	k = key("k3", "ES256", "active", blob, sizeof(blob));
	is_int(store_key_add(st, &k, NULL), STORE_CONFLICT, "a second active key of one alg");
	ok(store_key_set_state(st, k1, "bogus", T, 0, 0) != STORE_OK, "an unknown state is refused");
	ok(store_key_set_private(st, k1, blob2, sizeof(blob2)) == STORE_OK, "reseal k1");
	ok(store_key_list(st, keep_key, &ks) == STORE_OK && ks.n == 2 &&
	    ks.k[0].private_enc_len == sizeof(blob2) &&
	    memcmp(ks.k[0].private_enc, blob2, sizeof(blob2)) == 0, "new private part");
	key_seen_clear(&ks);
	ok(store_key_delete_expired(st, T + 9, &deleted) == STORE_OK && deleted == 0,
	    "not yet due: none deleted");
	ok(store_key_delete_expired(st, T + 10, &deleted) == STORE_OK && deleted == 1,
	    "due: the retired key deleted");
	k = key("k4", "RS256", "next", blob, sizeof(blob));
	ok(store_key_add(st, &k, &k4) == STORE_OK && store_key_delete(st, k4) == STORE_OK,
	    "add and delete a key");
	ok(store_key_list(st, keep_key, &ks) == STORE_OK && ks.n == 1 && ks.k[0].id == k1,
	    "one key left");
	key_seen_clear(&ks);
	ok(store_keys_version_bump(st) == STORE_OK && store_keys_version_bump(st) == STORE_OK,
	    "bump twice");
	ok(store_keys_version(st2, &kv) == STORE_OK && kv == 2, "other connection sees 2");
	ok(store_begin(st) == STORE_OK && store_lock(st, STORE_LOCK_KEYS) == STORE_OK &&
	    store_commit(st) == STORE_OK, "the keys lock in a transaction");

	/* ---- failed logins and rate limits ---- */
	ok(store_login_failure_add(st, "user:alice", FAR_MS, 0, &cnt) == STORE_OK && cnt == 1,
	    "first failure");
	ok(store_login_failure_add(st2, "user:alice", FAR_MS + 10, 0, &cnt) == STORE_OK && cnt == 2,
	    "second failure");
	ok(store_login_failure_add(st, "user:alice", FAR_MS + 20, FAR_MS + 15, &cnt) == STORE_OK &&
	    cnt == 1, "a failure after the forget time starts again from one");
	ok(store_login_blocked_until(st, "user:alice", &until) == STORE_OK && until == 0,
	    "not blocked");
	ok(store_login_block(st, "user:alice", FAR_MS + 5000) == STORE_OK &&
	    store_login_blocked_until(st2, "user:alice", &until) == STORE_OK &&
	    until == FAR_MS + 5000, "blocked");
	ok(store_login_block(st, "user:alice", FAR_MS + 1000) == STORE_OK &&
	    store_login_blocked_until(st, "user:alice", &until) == STORE_OK &&
	    until == FAR_MS + 5000, "a shorter block does not shorten it");
	ok(store_login_blocked_until(st, "user:nobody", &until) == STORE_OK && until == 0,
	    "unknown subject: not blocked");
	ok(store_login_failures_clear(st, "user:alice") == STORE_OK &&
	    store_login_blocked_until(st, "user:alice", &until) == STORE_OK && until == 0,
	    "cleared");
	ok(store_login_failure_add(st, "user:alice", FAR_MS + 30, 0, &cnt) == STORE_OK && cnt == 1,
	    "counting again from one after clear");
	ok(store_rate_take(st, "reg:192.0.2.1", FAR, &cnt) == STORE_OK && cnt == 1, "rate: 1");
	ok(store_rate_take(st2, "reg:192.0.2.1", FAR, &cnt) == STORE_OK && cnt == 2,
	    "rate: 2 (another connection counts along)");
	ok(store_rate_take(st, "reg:192.0.2.1", FAR, &cnt) == STORE_OK && cnt == 3, "rate: 3");
	ok(store_rate_take(st, "reg:192.0.2.1", FAR + 60, &cnt) == STORE_OK && cnt == 1,
	    "rate: a new window starts at 1");
	ok(store_rate_take(st, "reg:192.0.2.2", FAR, &cnt) == STORE_OK && cnt == 1,
	    "rate: another key counts apart");

	/* ---- audit ---- */
	memset(&a, 0, sizeof(a));
	a.outcome = "ok";
	a.client_id = "c1";
	a.detail = "{\"n\":1}";
	a.ts = 10;
	a.event = "first";
	ok(store_audit_add(st, &a) == STORE_OK, "audit 1");
	a.ts = 20;
	a.event = "second";
	ok(store_audit_add(st, &a) == STORE_OK, "audit 2");
	a.ts = 30;
	a.event = "third";
	a.reason = "because";
	ok(store_audit_add(st, &a) == STORE_OK, "audit 3");
	memset(&as, 0, sizeof(as));
	ok(store_audit_tail(st2, 2, keep_audit, &as) == STORE_OK && as.n == 2, "tail 2");
	ok(as.ts[0] == 20 && as.ts[1] == 30 && strcmp(as.events[0], "second") == 0 &&
	    strcmp(as.events[1], "third") == 0, "the last two, oldest first");
	ok(store_audit_purge(st, 25, &deleted) == STORE_OK && deleted == 2, "purge older than 25");
	memset(&as, 0, sizeof(as));
	ok(store_audit_tail(st, 10, keep_audit, &as) == STORE_OK && as.n == 1 && as.ts[0] == 30,
	    "one record left");

	/* ---- transactions ---- */
	ok(store_begin(st) == STORE_OK, "begin");
	ok(store_user_add(st, "carol", "h", 1, NULL) == STORE_OK, "insert in transaction");
	is_int(store_user_get_by_name(st2, "carol", &u), STORE_NOTFOUND,
	    "not seen by another connection before commit");
	store_rollback(st);
	is_int(store_user_get_by_name(st, "carol", &u), STORE_NOTFOUND, "rolled back");
	ok(store_begin(st) == STORE_OK && store_user_add(st, "carol", "h", 1, NULL) == STORE_OK &&
	    store_commit(st) == STORE_OK, "insert committed");
	ok(store_user_get_by_name(st2, "carol", &u) == STORE_OK, "seen after commit");
	store_user_clear(&u);
	ok(store_begin(st) == STORE_OK, "begin");
	is_int(store_user_add(st, "carol", "h", 1, NULL), STORE_CONFLICT, "a conflict in a transaction");
	is_int(store_commit(st), STORE_CONFLICT, "its commit reports the failure");
	ok(store_ping(st) == STORE_OK, "the connection works after it");

	/* ---- purge ---- */
	cd = code(0x31, cid, uid, T);
	ok(store_code_add(st, &cd) == STORE_OK, "purge: an expired code");
	f = family("fam-old", cid, uid, T);
	memset(h, 0x32, sizeof(h));
	ok(store_family_add(st, &f) == STORE_OK &&
	    store_refresh_add(st, h, "fam-old", "read", T, T, NULL, 0) == STORE_OK,
	    "purge: an expired family with an expired token");
	f = family("fam-kept", cid, uid, T);
	memset(h, 0x33, sizeof(h));
	ok(store_family_add(st, &f) == STORE_OK &&
	    store_refresh_add(st, h, "fam-kept", "read", T, FAR, NULL, 0) == STORE_OK,
	    "purge: an expired family with a live token");
	ok(store_jti_revoke(st, "jti-old", T, T) == STORE_OK, "purge: an expired revoked jti");
	memset(h, 0x34, sizeof(h));
	ok(store_session_add(st, h, sizeof(h), uid, T, T, T + 1) == STORE_OK,
	    "purge: an expired session");
	k = key("k-old", "EdDSA", "retired", blob, sizeof(blob));
	k.retired_at = T;
	k.delete_after = T + 1;
	ok(store_key_add(st, &k, NULL) == STORE_OK, "purge: a retired key due for deletion");
	memset(h, 0x35, sizeof(h));
	ok(store_regtoken_add(st, h, sizeof(h), T, T + 1) == STORE_OK,
	    "purge: an expired registration token");
	ok(store_consent_put(st, uid, cid, "https://b.example", "read", T, T + 1) == STORE_OK,
	    "purge: an expired consent");
	ok(store_login_failure_add(st, "addr:192.0.2.9", T * 1000, 0, &cnt) == STORE_OK,
	    "purge: an old login failure");
	ok(store_rate_take(st, "reg:192.0.2.9", T, &cnt) == STORE_OK, "purge: an old rate window");
	ok(store_keys_version(st, &kv0) == STORE_OK, "keys version before");
	ok(store_purge(st, PURGE_NOW, 0, &pc) == STORE_OK, "purge");
	is_int(pc.codes, 1, "purge: codes");
	is_int(pc.refresh_families, 1, "purge: families");
	is_int(pc.revoked_jtis, 1, "purge: revoked jtis");
	is_int(pc.sessions, 1, "purge: sessions");
	is_int(pc.keys, 1, "purge: keys");
	is_int(pc.registration_tokens, 1, "purge: registration tokens");
	is_int(pc.consents, 1, "purge: consents");
	is_int(pc.login_failures, 1, "purge: login failures");
	is_int(pc.rate_limits, 1, "purge: rate limits");
	is_int(pc.audit, 0, "purge: audit kept (no cut-off)");
	is_int(pc.changes, 0, "purge: the change log is recent");
	ok(store_keys_version(st, &kv) == STORE_OK && kv == kv0 + 1,
	    "purge: deleting a key bumped the keys version");
	memset(h, 0x33, sizeof(h));
	ok(store_refresh_get(st, h, &rf) == STORE_OK, "purge: the family with a live token stays");
	store_refresh_clear(&rf);
	memset(h, 0x32, sizeof(h));
	is_int(store_refresh_get(st, h, &rf), STORE_NOTFOUND, "purge: the expired one's token went");
	is_int(store_jti_revoked(st, "jti-x"), STORE_OK, "purge: a live revoked jti stays");
	ok(store_purge(st, PURGE_NOW, 0, &pc) == STORE_OK && pc.codes == 0 &&
	    pc.refresh_families == 0 && pc.keys == 0 && pc.login_failures == 0,
	    "purge again: nothing");
	ok(store_purge(st, (int64_t)time(NULL) + 2 * 86400, 31, &pc) == STORE_OK, "purge later");
	is_int(pc.audit, 1, "purge later: the audit record before the cut-off");
	ok(pc.changes > 0, "purge later: the change log a day old");

	idp_contract(st);
	vault_contract(st);
	connections_contract(st, st2, delete_user);

	/* ---- what only PostgreSQL has: two transactions at once ---- */
	redeem_race(st, st2, 0x41, cid, uid, 1);
	redeem_race(st, st2, 0x42, cid, uid, 0);
	take_race(st, st2, 0x51, cid, uid, A_TAKES_COMMITS);
	take_race(st, st2, 0x52, cid, uid, A_TAKES_ROLLS_BACK);
	take_race(st, st2, 0x53, cid, uid, A_REVOKES);
	rotate_race(st, st2, A_ROTATES_COMMITS);
	rotate_race(st, st2, A_ROTATES_ROLLS_BACK);
	rotate_race(st, st2, B_REMOVES);
	conn_race(st, st2, uid, A_LEASES_COMMITS);
	conn_race(st, st2, uid, A_LEASES_ROLLS_BACK);
	conn_race(st, st2, uid, A_REFRESHES);
	conn_race(st, st2, uid, A_PUTS_B_PUTS);
	conn_race(st, st2, uid, A_ADDS_CREDENTIAL);
	conn_race(st, st2, uid, A_ADDS_CREDENTIAL_ROLLS_BACK);
	deadlock(st, st2);
	terminated();
	copy_from_sqlite(st);

	store_close(st2);
	store_close(st);
	PQfinish(admin);
	return tap_done();
}
