/* The registry cache on SQLite: a "server" connection that reads through the cache and a
 * "CLI" connection that does not, on one file database. What the cache answers must be
 * what the database holds; a change made elsewhere must arrive within the poll interval
 * and never before its commit; the server's own changes must show at once; a hole in the
 * change log must bring a full reload. */
#include "config.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"
#include "tap.h"

#define POLL_MS 100
/* How long a change made elsewhere may take to arrive: the poll interval and a margin
 * for a loaded machine (valgrind). */
#define ARRIVE_MS 1000
/* How long to keep looking before calling it lost. */
#define GIVE_UP_MS 5000

static struct store *srv; /* reads through the cache */
static struct store *cli; /* goes to the database every time */
static struct store_cache *cache;

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

static int
same_resource(const struct store_resource *a, const struct store_resource *b)
{
	return a->id == b->id && same_str(a->uri, b->uri) && same_str(a->uri_key, b->uri_key) &&
	    same_str(a->name, b->name) && same_str(a->scopes, b->scopes) &&
	    same_str(a->default_scopes, b->default_scopes) && a->ttl == b->ttl &&
	    a->created_at == b->created_at;
}

static int
same_client(const struct store_client *a, const struct store_client *b, int with_uris)
{
	size_t i;

	if (!(a->id == b->id && same_str(a->client_id, b->client_id) && same_str(a->name, b->name) &&
		a->confidential == b->confidential && same_str(a->auth_method, b->auth_method) &&
		same_str(a->secret_hash, b->secret_hash) && same_str(a->grant_types, b->grant_types) &&
		a->acts_for == b->acts_for && same_str(a->acts_for_uri, b->acts_for_uri) &&
		same_str(a->default_resource, b->default_resource) &&
		a->introspect_admin == b->introspect_admin && same_str(a->origin, b->origin) &&
		same_str(a->metadata, b->metadata) && same_str(a->remote_addr, b->remote_addr) &&
		a->created_at == b->created_at && a->updated_at == b->updated_at &&
		a->metadata_expires_at == b->metadata_expires_at))
		return 0;
	if (!with_uris)
		return 1;
	if (a->n_redirect_uris != b->n_redirect_uris)
		return 0;
	for (i = 0; i < a->n_redirect_uris; i++) {
		if (!same_str(a->redirect_uris[i], b->redirect_uris[i]))
			return 0;
	}
	return 1;
}

/* ---- conditions polled until they hold ---- */

struct probe {
	const char *key;        /* client_id, uri_key or jti */
	const char *text;       /* expected text (secret hash, name, scopes) */
	int64_t a, b;           /* ids */
};

typedef int (*cond_fn)(const struct probe *p);

static int
client_gone(const struct probe *p)
{
	struct store_client c;
	int rc = store_client_get(srv, p->key, &c);

	store_client_clear(&c);
	return rc == STORE_NOTFOUND;
}

static int
client_secret_is(const struct probe *p)
{
	struct store_client c;
	int hit = store_client_get(srv, p->key, &c) == STORE_OK && same_str(c.secret_hash, p->text);

	store_client_clear(&c);
	return hit;
}

static int
client_acts_for_none(const struct probe *p)
{
	struct store_client c;
	int hit = store_client_get(srv, p->key, &c) == STORE_OK && c.acts_for == 0 &&
	    c.acts_for_uri == NULL;

	store_client_clear(&c);
	return hit;
}

static int
resource_present(const struct probe *p)
{
	struct store_resource r;
	int rc = store_resource_get_by_key(srv, p->key, &r);

	store_resource_clear(&r);
	return rc == STORE_OK;
}

static int
resource_gone(const struct probe *p)
{
	struct store_resource r;
	int rc = store_resource_get_by_key(srv, p->key, &r);

	store_resource_clear(&r);
	return rc == STORE_NOTFOUND;
}

static int
resource_named(const struct probe *p)
{
	struct store_resource r;
	int hit = store_resource_get_by_key(srv, p->key, &r) == STORE_OK && same_str(r.name, p->text);

	store_resource_clear(&r);
	return hit;
}

static int
edge_is(const struct probe *p)
{
	char *scopes = NULL;
	int hit = store_edge_get(srv, p->a, p->b, &scopes) == STORE_OK && same_str(scopes, p->text);

	free(scopes);
	return hit;
}

static int
allowed_for(const struct probe *p)
{
	struct store_resource r;
	int allowed = 0, rc = store_resource_for_client(srv, p->key, p->a, &r, &allowed);

	store_resource_clear(&r);
	return rc == STORE_OK && allowed == 1 &&
	    store_client_resource_allowed(srv, p->a, p->b) == STORE_OK;
}

static int
jti_in(const struct probe *p)
{
	return store_jti_revoked(srv, p->key) == STORE_OK;
}

static int
reloaded_after(const struct probe *p)
{
	struct store_cache_stats s;

	store_cache_stats(cache, &s);
	return s.reloads > p->a;
}

/* Milliseconds until cond held (polled every 2 ms), or -1 when it did not within
 * GIVE_UP_MS. */
static int64_t
wait_for(cond_fn cond, const struct probe *p)
{
	int64_t start = now_ms(), t;

	for (;;) {
		if (cond(p))
			return now_ms() - start;
		if ((t = now_ms() - start) > GIVE_UP_MS)
			return -1;
		sleep_ms(2);
	}
}

/* A change made on the CLI's connection reaches the server within ARRIVE_MS. */
#define arrives(cond, p, what)                                                              \
	do {                                                                                \
		int64_t ms_ = wait_for(cond, p);                                            \
		ok(ms_ >= 0 && ms_ < ARRIVE_MS, "%s: seen by the server within %d ms", what,  \
		    ARRIVE_MS);                                                             \
		tap_diag("%s: %lld ms", what, (long long)ms_);                              \
	} while (0)

/* cond stays false for `ms` (checked every 5 ms): nothing leaks before a commit. */
static int
stays_false(cond_fn cond, const struct probe *p, int ms)
{
	int64_t end = now_ms() + ms;

	while (now_ms() < end) {
		if (cond(p))
			return 0;
		sleep_ms(5);
	}
	return 1;
}

static void
stats(struct store_cache_stats *s)
{
	store_cache_stats(cache, s);
}

/* The highest seq of the change log and its row count, read with SQLite itself. */
static int64_t
raw_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int64_t v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static struct store_resource
resource(const char *uri, const char *name, const char *scopes, const char *defaults, int64_t ttl)
{
	struct store_resource r;

	memset(&r, 0, sizeof(r));
	r.uri = r.uri_key = MUT(uri);
	r.name = MUT(name);
	r.scopes = MUT(scopes);
	r.default_scopes = MUT(defaults);
	r.ttl = ttl;
	r.created_at = 1000;
	return r;
}

int
main(void)
{
	struct store_options opt = {.create = 1};
	struct store_options srv_opt = {0};
	struct store_cache_stats s0, s1;
	struct store_resource r, rs, rc_;
	struct store_client c, cs, cc;
	struct probe p;
	char dbpath[] = "/tmp/t_cache_XXXXXX", side[64];
	char *redirects[] = {MUT("https://app.example/cb"), MUT("http://127.0.0.1:8123/cb")};
	char *scopes;
	int64_t ra, rb, rx, rgone, cid, cid2, uid, seq, t0;
	int fd, allowed, rc;
	sqlite3 *raw = NULL;
	int64_t far = (int64_t)time(NULL) + 86400 * 30;

	fd = mkstemp(dbpath);
	close(fd);
	unlink(dbpath);
	if (store_open(dbpath, &opt, &cli) != STORE_OK || store_migrate(cli, NULL) != STORE_OK) {
		printf("Bail out! cannot create %s\n", dbpath);
		return 1;
	}

	/* ---- a cache over an empty registry (a fresh install: no resources, no edges, no
	 * grants) ---- */
	ok(store_cache_start(dbpath, &opt, POLL_MS, &cache) == STORE_OK && cache != NULL,
	    "cache started over an empty registry");
	srv_opt.cache = cache;
	ok(store_open(dbpath, &srv_opt, &srv) == STORE_OK, "a connection with it");
	stats(&s0);
	is_int(s0.reloads, 1, "loaded once");
	is_int(s0.applied_seq, 0, "nothing logged yet");
	is_int(store_resource_get_by_key(srv, "https://a.example/mcp", &rc_), STORE_NOTFOUND,
	    "empty registry: no resource by key");
	is_int(store_resource_get(srv, 1, &rc_), STORE_NOTFOUND, "empty registry: none by id");
	scopes = MUT("sentinel");
	ok(store_edge_get(srv, 1, 2, &scopes) == STORE_NOTFOUND && scopes == NULL,
	    "empty registry: no edge");
	is_int(store_client_resource_allowed(srv, 1, 1), STORE_NOTFOUND, "empty registry: no grant");
	is_int(store_jti_revoked(srv, "jti"), STORE_NOTFOUND, "empty registry: no revoked jti");
	r = resource("https://first.example/mcp", "First", "read", NULL, 0);
	ok(store_resource_add(srv, &r, NULL) == STORE_OK &&
	    store_resource_get_by_key(srv, "https://first.example/mcp", &rc_) == STORE_OK,
	    "a first resource, still no edges or grants: reloaded and found");
	store_resource_clear(&rc_);
	ok(store_resource_remove(srv, "https://first.example/mcp") == STORE_OK &&
	    store_resource_get_by_key(srv, "https://first.example/mcp", &rc_) == STORE_NOTFOUND,
	    "and removed again");
	store_close(srv);
	store_cache_stop(cache);
	srv = NULL;
	cache = NULL;

	/* ---- what is there before the cache starts ---- */
	r = resource("https://a.example/mcp", "A", "read write", NULL, 0);
	ok(store_resource_add(cli, &r, &ra) == STORE_OK, "resource A");
	r = resource("https://b.example/mcp", "B", "read write admin", "read", 300);
	ok(store_resource_add(cli, &r, &rb) == STORE_OK, "resource B (default scopes, ttl)");
	r = resource("https://gone.example/mcp", "Gone", "read", NULL, 0);
	ok(store_resource_add(cli, &r, &rgone) == STORE_OK, "resource Gone (a client acts for it)");
	ok(store_edge_put(cli, ra, rb, "read", 5) == STORE_OK, "edge A->B limited to read");
	ok(store_edge_put(cli, rb, ra, NULL, 5) == STORE_OK, "edge B->A with every scope");
	memset(&c, 0, sizeof(c));
	c.client_id = MUT("c1");
	c.name = MUT("Client one");
	c.confidential = 1;
	c.auth_method = MUT("client_secret_basic");
	c.secret_hash = MUT("$argon2id$one");
	c.grant_types = MUT("authorization_code client_credentials refresh_token");
	c.acts_for = ra;
	c.default_resource = MUT("https://a.example/mcp");
	c.introspect_admin = 1;
	c.metadata = MUT("{\"x\":1}");
	c.remote_addr = MUT("192.0.2.7");
	c.redirect_uris = redirects;
	c.n_redirect_uris = 2;
	c.created_at = 10;
	c.updated_at = 11;
	ok(store_client_add(cli, &c, &cid) == STORE_OK, "client c1 with two redirect URIs");
	c.client_id = MUT("c2");
	c.name = MUT("Client two");
	c.acts_for = rgone;
	c.introspect_admin = 0;
	c.metadata = NULL;
	c.n_redirect_uris = 1;
	ok(store_client_add(cli, &c, &cid2) == STORE_OK, "client c2 acting for Gone");
	ok(store_client_resource_add(cli, cid, rb) == STORE_OK, "c1 may get tokens for B");
	ok(store_jti_revoke(cli, "jti-before", far, 1) == STORE_OK, "a jti revoked before start");
	ok(store_jti_revoke(cli, "jti-expired", 1, 1) == STORE_OK, "an expired revoked jti");

	/* ---- start ---- */
	ok(store_cache_start(dbpath, &opt, POLL_MS, &cache) == STORE_OK && cache != NULL,
	    "cache started");
	srv_opt.cache = cache;
	ok(store_open(dbpath, &srv_opt, &srv) == STORE_OK, "server connection with the cache");
	is_int(store_cache_healthy(cache), STORE_OK, "healthy on SQLite");
	if (sqlite3_open_v2(dbpath, &raw, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		printf("Bail out! cannot open %s with SQLite\n", dbpath);
		return 1;
	}
	sqlite3_busy_timeout(raw, 5000);
	stats(&s0);
	is_int(s0.reloads, 1, "one full load at start");
	is_int(s0.hits, 0, "no hits yet");
	is_int(s0.misses, 0, "no misses yet");
	is_int(s0.applied_seq, raw_int(raw, "SELECT max(seq) FROM registry_changes"),
	    "positioned at the last change");
	is_int(s0.revoked_jtis, 1, "the live revoked jti loaded, not the expired one");

	/* ---- the cache answers what the database holds ---- */
	rc = store_resource_get_by_key(srv, "https://b.example/mcp", &rc_);
	ok(rc == STORE_OK && store_resource_get_by_key(cli, "https://b.example/mcp", &rs) == STORE_OK &&
	    same_resource(&rc_, &rs), "resource by key: the same row as the database");
	is_str(rc_.default_scopes, "read", "cached default scopes");
	is_int(rc_.ttl, 300, "cached ttl");
	store_resource_clear(&rc_);
	store_resource_clear(&rs);
	rc = store_resource_get(srv, ra, &rc_);
	ok(rc == STORE_OK && store_resource_get(cli, ra, &rs) == STORE_OK && same_resource(&rc_, &rs),
	    "resource by id: the same row as the database");
	ok(rc_.default_scopes == NULL && rc_.ttl == 0, "NULL default scopes and no ttl cached as such");
	store_resource_clear(&rc_);
	store_resource_clear(&rs);
	is_int(store_resource_get_by_key(srv, "https://nowhere.example", &rc_), STORE_NOTFOUND,
	    "unknown key: NOTFOUND");
	is_int(store_resource_get(srv, 999999, &rc_), STORE_NOTFOUND, "unknown id: NOTFOUND");
	stats(&s1);
	is_int(s1.hits - s0.hits, 4, "four resource reads, four hits");
	is_int(s1.misses - s0.misses, 0, "resource reads never miss");

	allowed = -1;
	ok(store_resource_for_client(srv, "https://b.example/mcp", cid, &rc_, &allowed) == STORE_OK &&
	    allowed == 1 && rc_.id == rb, "resource_for_client: B allowed for c1");
	store_resource_clear(&rc_);
	{
		int allowed_db = -1;

		ok(store_resource_for_client(cli, "https://b.example/mcp", cid, &rs, &allowed_db) ==
			STORE_OK && allowed_db == 1, "the database agrees");
		store_resource_clear(&rs);
	}
	allowed = -1;
	ok(store_resource_for_client(srv, "https://a.example/mcp", cid, &rc_, &allowed) == STORE_OK &&
	    allowed == 0 && rc_.id == ra, "resource_for_client: A found, not allowed");
	store_resource_clear(&rc_);
	allowed = -1;
	ok(store_resource_for_client(srv, "https://b.example/mcp", cid2, &rc_, &allowed) ==
		STORE_OK && allowed == 0, "B not allowed for c2");
	store_resource_clear(&rc_);
	allowed = -1;
	ok(store_resource_for_client(srv, "https://nowhere.example", cid, &rc_, &allowed) ==
		STORE_NOTFOUND && allowed == 0, "resource_for_client of an unknown key");
	is_int(store_client_resource_allowed(srv, cid, rb), STORE_OK, "client_resource_allowed");
	is_int(store_client_resource_allowed(srv, cid, ra), STORE_NOTFOUND, "not allowed");

	scopes = NULL;
	ok(store_edge_get(srv, ra, rb, &scopes) == STORE_OK && same_str(scopes, "read"),
	    "edge A->B: its scopes");
	free(scopes);
	scopes = MUT("sentinel");
	ok(store_edge_get(srv, rb, ra, &scopes) == STORE_OK && scopes == NULL,
	    "edge B->A: NULL for every scope");
	scopes = MUT("sentinel");
	ok(store_edge_get(srv, ra, ra, &scopes) == STORE_NOTFOUND && scopes == NULL,
	    "no edge A->A: NOTFOUND");
	scopes = MUT("sentinel");
	ok(store_edge_get(cli, rb, ra, &scopes) == STORE_OK && scopes == NULL,
	    "the database agrees on NULL scopes");

	is_int(store_jti_revoked(srv, "jti-before"), STORE_OK, "jti revoked before start");
	is_int(store_jti_revoked(srv, "jti-never"), STORE_NOTFOUND, "unknown jti");
	is_int(store_jti_revoked(srv, NULL), STORE_NOTFOUND, "NULL jti");

	stats(&s0);
	ok(store_client_get(srv, "c1", &cc) == STORE_OK && store_client_get(cli, "c1", &cs) == STORE_OK &&
	    same_client(&cc, &cs, 1), "client c1 through the cache: the same row, redirect URIs too");
	is_int(cc.n_redirect_uris, 2, "two redirect URIs");
	is_str(cc.acts_for_uri, "https://a.example/mcp", "acts_for URI");
	store_client_clear(&cc);
	stats(&s1);
	is_int(s1.misses - s0.misses, 1, "the first read of a client misses");
	is_int(s1.hits - s0.hits, 0, "and is no hit");
	ok(store_client_get(srv, "c1", &cc) == STORE_OK && same_client(&cc, &cs, 1),
	    "the second read: the same row again");
	store_client_clear(&cc);
	ok(store_client_get_lite(srv, "c1", &cc) == STORE_OK && same_client(&cc, &cs, 0),
	    "client_get_lite from the cache: the same row");
	store_client_clear(&cc);
	store_client_clear(&cs);
	stats(&s0);
	is_int(s0.hits - s1.hits, 2, "both later reads hit");
	is_int(s0.misses - s1.misses, 0, "and none missed");
	is_int(store_client_get(srv, "nobody", &cc), STORE_NOTFOUND, "unknown client: NOTFOUND");
	is_int(store_client_get(srv, "nobody", &cc), STORE_NOTFOUND, "still NOTFOUND");
	stats(&s1);
	is_int(s1.misses - s0.misses, 2, "an unknown client is not cached: each read misses");
	ok(store_client_get(srv, "c2", &cc) == STORE_OK, "c2 into the cache");
	store_client_clear(&cc);

	/* ---- changes made on the CLI's connection reach the server within the poll ---- */
	ok(store_client_set_secret(cli, "c1", "$argon2id$two", 20) == STORE_OK, "CLI: new secret");
	p = (struct probe){.key = "c1", .text = "$argon2id$two"};
	arrives(client_secret_is, &p, "new client secret");
	ok(store_client_remove(cli, "c2") == STORE_OK, "CLI: remove c2");
	p = (struct probe){.key = "c2"};
	arrives(client_gone, &p, "client removed");
	r = resource("https://x.example/mcp", "X", "x1 x2", NULL, 0);
	ok(store_resource_add(cli, &r, &rx) == STORE_OK, "CLI: add resource X");
	p = (struct probe){.key = "https://x.example/mcp"};
	arrives(resource_present, &p, "resource added");
	ok(store_resource_get(srv, rx, &rc_) == STORE_OK && same_str(rc_.name, "X"),
	    "X by id too");
	store_resource_clear(&rc_);
	ok(store_edge_put(cli, ra, rx, "x1", 30) == STORE_OK, "CLI: edge A->X");
	p = (struct probe){.a = ra, .b = rx, .text = "x1"};
	arrives(edge_is, &p, "edge added");
	ok(store_edge_put(cli, ra, rx, NULL, 31) == STORE_OK, "CLI: edge A->X now every scope");
	p = (struct probe){.a = ra, .b = rx, .text = NULL};
	arrives(edge_is, &p, "edge replaced (scopes now NULL)");
	ok(store_client_resource_add(cli, cid, rx) == STORE_OK, "CLI: c1 may get tokens for X");
	p = (struct probe){.key = "https://x.example/mcp", .a = cid, .b = rx};
	arrives(allowed_for, &p, "client_resources grant");
	ok(store_jti_revoke(cli, "jti-cli", far, 40) == STORE_OK, "CLI: revoke a jti");
	p = (struct probe){.key = "jti-cli"};
	arrives(jti_in, &p, "jti revoked");
	{
		struct store_family f;
		unsigned char h[32];

		memset(&f, 0, sizeof(f));
		memset(h, 0x5a, sizeof(h));
		f.family_id = MUT("fam-1");
		f.client = cid;
		f.resources = MUT("https://b.example/mcp");
		f.scope = MUT("read");
		f.auth_time = f.created_at = 50;
		f.expires_at = far;
		ok(store_user_add(cli, "alice", "$argon2id$pw", 50, &uid) == STORE_OK, "a user");
		f.user_id = uid;
		ok(store_family_add(cli, &f) == STORE_OK &&
		    store_refresh_add(cli, h, "fam-1", "read", 50, far, "jti-fam", far) == STORE_OK,
		    "a family with a refresh token beside access token jti-fam");
	}
	is_int(store_jti_revoked(srv, "jti-fam"), STORE_NOTFOUND, "jti-fam not revoked yet");
	ok(store_family_revoke(cli, "fam-1", 60, "test") == STORE_OK, "CLI: revoke the family");
	p = (struct probe){.key = "jti-fam"};
	arrives(jti_in, &p, "family revocation's access jti");
	ok(store_resource_remove(cli, "https://gone.example/mcp") == STORE_OK,
	    "CLI: remove resource Gone");
	p = (struct probe){.key = "https://gone.example/mcp"};
	arrives(resource_gone, &p, "resource removed");
	ok(store_resource_remove(cli, "https://b.example/mcp") == STORE_OK, "CLI: remove B");
	p = (struct probe){.key = "https://b.example/mcp"};
	arrives(resource_gone, &p, "second resource removed");
	is_int(store_resource_get(srv, rb, &rc_), STORE_NOTFOUND, "B gone by id too");
	is_int(store_client_resource_allowed(srv, cid, rb), STORE_NOTFOUND,
	    "its grant went with it");
	is_int(store_edge_get(srv, ra, rb, &scopes), STORE_NOTFOUND, "and its edges");
	is_int(store_edge_get(srv, rb, ra, &scopes), STORE_NOTFOUND, "in both directions");
	/* c1 acted for A all along; a client acting for a removed resource shows none. */
	c.client_id = MUT("c3");
	c.acts_for = rx;
	ok(store_client_add(cli, &c, NULL) == STORE_OK, "CLI: client c3 acting for X");
	p = (struct probe){.key = "c3", .text = "$argon2id$one"};
	arrives(client_secret_is, &p, "client added");
	ok(store_client_get(srv, "c3", &cc) == STORE_OK && same_str(cc.acts_for_uri,
	    "https://x.example/mcp"), "c3 cached with its acts_for URI");
	store_client_clear(&cc);
	stats(&s0);
	ok(store_client_get(srv, "c3", &cc) == STORE_OK, "c3 read again");
	store_client_clear(&cc);
	stats(&s1);
	is_int(s1.hits - s0.hits, 1, "c3 now from the cache");
	ok(store_resource_remove(cli, "https://x.example/mcp") == STORE_OK, "CLI: remove X");
	p = (struct probe){.key = "c3"};
	arrives(client_acts_for_none, &p, "a cached client's acts_for after its resource went");
	ok(store_client_get(srv, "c3", &cc) == STORE_OK && store_client_get(cli, "c3", &cs) ==
	    STORE_OK && same_client(&cc, &cs, 1), "c3: cache and database agree again");
	store_client_clear(&cc);
	store_client_clear(&cs);

	/* ---- nothing before the commit ---- */
	ok(store_client_get(srv, "c3", &cc) == STORE_OK, "c3 cached");
	store_client_clear(&cc);
	ok(store_begin(cli) == STORE_OK, "CLI: begin");
	r = resource("https://tx.example/mcp", "TX", "t", NULL, 0);
	ok(store_resource_add(cli, &r, NULL) == STORE_OK &&
	    store_jti_revoke(cli, "jti-tx", far, 70) == STORE_OK &&
	    store_client_remove(cli, "c3") == STORE_OK &&
	    store_client_set_secret(cli, "c1", "$argon2id$three", 70) == STORE_OK,
	    "CLI, in the transaction: add a resource, revoke a jti, remove c3, change c1");
	p = (struct probe){.key = "https://tx.example/mcp"};
	ok(stays_false(resource_present, &p, 3 * POLL_MS), "uncommitted resource: not seen");
	p = (struct probe){.key = "jti-tx"};
	ok(stays_false(jti_in, &p, POLL_MS), "uncommitted revocation: not seen");
	p = (struct probe){.key = "c3"};
	ok(stays_false(client_gone, &p, POLL_MS), "uncommitted removal: c3 still there");
	p = (struct probe){.key = "c1", .text = "$argon2id$three"};
	ok(stays_false(client_secret_is, &p, POLL_MS), "uncommitted secret: the old one still");
	ok(store_commit(cli) == STORE_OK, "CLI: commit");
	p = (struct probe){.key = "https://tx.example/mcp"};
	arrives(resource_present, &p, "committed resource");
	p = (struct probe){.key = "jti-tx"};
	arrives(jti_in, &p, "committed revocation");
	p = (struct probe){.key = "c3"};
	arrives(client_gone, &p, "committed client removal");
	p = (struct probe){.key = "c1", .text = "$argon2id$three"};
	arrives(client_secret_is, &p, "committed secret");
	ok(store_begin(cli) == STORE_OK && store_jti_revoke(cli, "jti-rolled-back", far, 71) ==
	    STORE_OK, "CLI: a revocation in a transaction");
	store_rollback(cli);
	p = (struct probe){.key = "jti-rolled-back"};
	ok(stays_false(jti_in, &p, 2 * POLL_MS), "rolled back: never seen");

	/* ---- the server's own changes: at once after their commit ---- */
	ok(store_jti_revoke(srv, "jti-own", far, 80) == STORE_OK, "server: revoke a jti");
	is_int(store_jti_revoked(srv, "jti-own"), STORE_OK, "its own revocation, at once");
	r = resource("https://own.example/mcp", "Own", "o", NULL, 0);
	ok(store_resource_add(srv, &r, NULL) == STORE_OK, "server: add a resource");
	stats(&s0);
	is_int(store_resource_get_by_key(srv, "https://own.example/mcp", &rc_), STORE_OK,
	    "its own resource, at once");
	store_resource_clear(&rc_);
	stats(&s1);
	is_int(s1.hits - s0.hits, 1, "answered by the cache");
	ok(store_client_get(srv, "c1", &cc) == STORE_OK, "c1 read");
	store_client_clear(&cc);
	stats(&s0);
	ok(store_client_get(srv, "c1", &cc) == STORE_OK, "c1 read again");
	store_client_clear(&cc);
	stats(&s1);
	is_int(s1.hits - s0.hits, 1, "c1 is cached");
	ok(store_client_remove(srv, "c1") == STORE_OK, "server: remove c1");
	p = (struct probe){.key = "c1"};
	ok(client_gone(&p), "its own removal, at once");

	ok(store_begin(srv) == STORE_OK, "server: begin");
	stats(&s0);
	is_int(store_resource_get_by_key(srv, "https://a.example/mcp", &rc_), STORE_OK,
	    "before any registry write, a read in the transaction...");
	store_resource_clear(&rc_);
	stats(&s1);
	is_int(s1.hits - s0.hits, 1, "...comes from the cache");
	r = resource("https://intx.example/mcp", "InTx", "i", NULL, 0);
	ok(store_resource_add(srv, &r, &rx) == STORE_OK, "server, in the transaction: add a resource");
	ok(store_edge_put(srv, ra, rx, "i", 90) == STORE_OK &&
	    store_jti_revoke(srv, "jti-own-tx", far, 90) == STORE_OK,
	    "and an edge and a revocation");
	stats(&s0);
	is_int(store_resource_get_by_key(srv, "https://intx.example/mcp", &rc_), STORE_OK,
	    "the transaction reads its own resource");
	store_resource_clear(&rc_);
	is_int(store_resource_get(srv, rx, &rc_), STORE_OK, "by id too");
	store_resource_clear(&rc_);
	scopes = NULL;
	ok(store_edge_get(srv, ra, rx, &scopes) == STORE_OK && same_str(scopes, "i"),
	    "and its own edge");
	free(scopes);
	is_int(store_jti_revoked(srv, "jti-own-tx"), STORE_OK, "and its own revocation");
	stats(&s1);
	ok(s1.hits == s0.hits && s1.misses == s0.misses,
	    "after a registry write, reads in the transaction bypass the cache");
	ok(store_commit(srv) == STORE_OK, "server: commit");
	/* Read at once: a poll would have to fall in the microseconds between the commit
	 * and these reads to bring them instead of the commit's own catch-up. */
	p = (struct probe){.key = "https://intx.example/mcp"};
	ok(resource_present(&p), "after the commit, the resource is in the cache at once");
	p = (struct probe){.a = ra, .b = rx, .text = "i"};
	ok(edge_is(&p), "and the edge");
	p = (struct probe){.key = "jti-own-tx"};
	ok(jti_in(&p), "and the revocation");
	stats(&s0);
	is_int(s0.hits - s1.hits, 3, "all three from the cache");

	ok(store_begin(srv) == STORE_OK, "server: begin again");
	r = resource("https://rolled.example/mcp", "Rolled", "r", NULL, 0);
	ok(store_resource_add(srv, &r, NULL) == STORE_OK &&
	    store_resource_get_by_key(srv, "https://rolled.example/mcp", &rc_) == STORE_OK,
	    "a resource added and read in the transaction");
	store_resource_clear(&rc_);
	store_rollback(srv);
	stats(&s0);
	is_int(store_resource_get_by_key(srv, "https://rolled.example/mcp", &rc_), STORE_NOTFOUND,
	    "rolled back: not there");
	stats(&s1);
	is_int(s1.hits - s0.hits, 1, "and the cache serves reads again after the rollback");

	/* ---- a hole in the change log: a full reload ---- */
	sleep_ms(2 * POLL_MS); /* the poller has seen everything so far */
	stats(&s0);
	seq = raw_int(raw, "SELECT max(seq) FROM registry_changes");
	is_int(s0.applied_seq, seq, "caught up with the log");
	/* A change whose log row goes before any cache sees it (as a purge of old rows
	 * would do to a cache that fell far behind). */
	ok(sqlite3_exec(raw,
	       "BEGIN IMMEDIATE;"
	       "UPDATE resources SET name = 'A renamed' WHERE uri_key = 'https://a.example/mcp';"
	       "DELETE FROM registry_changes;"
	       "COMMIT",
	       NULL, NULL, NULL) == SQLITE_OK, "rename A and delete the change log behind it");
	is_int(raw_int(raw, "SELECT count(*) FROM registry_changes"), 0, "the log is empty");
	ok(store_jti_revoke(cli, "jti-after-hole", far, 100) == STORE_OK,
	    "CLI: the next change, one number past the hole");
	is_int(raw_int(raw, "SELECT min(seq) FROM registry_changes"), seq + 2, "its seq");
	p = (struct probe){.a = s0.reloads};
	arrives(reloaded_after, &p, "the hole");
	stats(&s1);
	is_int(s1.reloads, s0.reloads + 1, "exactly one full reload");
	is_int(s1.applied_seq, seq + 2, "positioned after the new change");
	p = (struct probe){.key = "https://a.example/mcp", .text = "A renamed"};
	ok(resource_named(&p), "the reload brought the change whose log row was lost");
	p = (struct probe){.key = "jti-after-hole"};
	ok(jti_in(&p), "and the change after the hole");
	is_int(store_jti_revoked(srv, "jti-own-tx"), STORE_OK, "revocations survive the reload");
	/* jti-before, jti-cli, jti-fam, jti-tx, jti-own, jti-own-tx, jti-after-hole */
	is_int(s1.revoked_jtis, 7, "the denylist after the reload");

	/* The same through the server's own commit. */
	sleep_ms(2 * POLL_MS);
	ok(sqlite3_exec(raw,
	       "BEGIN IMMEDIATE;"
	       "UPDATE resources SET name = 'A again' WHERE uri_key = 'https://a.example/mcp';"
	       "DELETE FROM registry_changes;"
	       "COMMIT",
	       NULL, NULL, NULL) == SQLITE_OK, "another lost change");
	stats(&s0);
	ok(store_jti_revoke(srv, "jti-own-hole", far, 110) == STORE_OK,
	    "server: a change past the hole");
	stats(&s1);
	is_int(s1.reloads, s0.reloads + 1, "its own catch-up found the hole and reloaded at once");
	p = (struct probe){.key = "https://a.example/mcp", .text = "A again"};
	ok(resource_named(&p), "with the lost change");

	/* ---- stop ---- */
	sqlite3_close(raw);
	store_close(srv);
	store_close(cli);
	t0 = now_ms();
	store_cache_stop(cache);
	ok(now_ms() - t0 < 3 * POLL_MS + ARRIVE_MS, "stopped within a poll");
	store_cache_stop(NULL);
	ok(1, "stopping NULL is harmless");
	store_cache_stats(NULL, &s0);
	ok(s0.hits == 0 && s0.misses == 0 && s0.reloads == 0, "stats of no cache are zero");

	snprintf(side, sizeof(side), "%s-wal", dbpath);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", dbpath);
	unlink(side);
	unlink(dbpath);
	return tap_done();
}
