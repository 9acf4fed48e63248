/* The SQLite store on a real database: migrations, rows, conflicts, visitors. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store.h"
#include "tap.h"
#include "store_idp_contract.h"
#include "store_vault_contract.h"
#include "store_connections_contract.h"

static const char *memory_path; /* the in-memory database main() opens */

/* What the store has no operation for: deleting a user, through a connection of our own
 * (foreign keys on, as the store sets them). */
static int
delete_user(int64_t id)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int rc = -1;

	if (sqlite3_open_v2(memory_path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_URI, NULL) !=
		SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "DELETE FROM users WHERE id = ?", -1, &s, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_DONE && sqlite3_changes(db) == 1)
		rc = 0;
out:
	sqlite3_finalize(s);
	sqlite3_close(db);
	return rc;
}

static int
count_user(const struct store_user *u, void *arg)
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

int
main(void)
{
	struct store_options opt = {.synchronous = "NORMAL", .create = 1};
	struct store *st = NULL, *st2 = NULL;
	struct store_user u;
	struct store_resource r, got;
	struct store_client c, cg;
	char *path = store_memory_path_new(), *v = NULL, *uris = NULL;
	int applied = -1, version = -1, n = 0;
	int64_t uid, rid1, rid2, cid, kv;
	char *redirects[] = {MUT("https://app.example/cb"), MUT("http://127.0.0.1/cb")};
	char filepath[] = "/tmp/t_store_XXXXXX";
	int fd;

	ok(store_open(path, &opt, &st) == STORE_OK, "open in-memory database");
	ok(store_migrate(st, &applied) == STORE_OK && applied >= 1, "migrations applied");
	ok(store_schema_version(st, &version) == STORE_OK && version >= 1, "schema version set");
	ok(store_migrate(st, &applied) == STORE_OK && applied == 0, "migrating again applies none");
	ok(store_open(path, &opt, &st2) == STORE_OK, "second connection to the same memory db");
	ok(store_schema_version(st2, &version) == STORE_OK && version >= 1,
	    "second connection sees the schema");

	/* settings */
	ok(store_setting_get_new(st, "issuer", &v) == STORE_NOTFOUND && v == NULL,
	    "missing setting is NOTFOUND");
	ok(store_setting_set(st, "issuer", "https://as.example") == STORE_OK, "set setting");
	ok(store_setting_set(st, "issuer", "https://as2.example") == STORE_OK, "replace setting");
	ok(store_setting_get_new(st2, "issuer", &v) == STORE_OK, "read from the other connection");
	is_str(v, "https://as2.example", "setting value");
	free(v);

	/* users */
	ok(store_user_add(st, "alice", "$argon2id$x", 100, &uid) == STORE_OK && uid > 0, "add user");
	is_int(store_user_add(st, "alice", "$argon2id$y", 100, NULL), STORE_CONFLICT,
	    "duplicate user is a conflict");
	ok(store_user_get_by_name(st, "alice", &u) == STORE_OK, "get user by name");
	is_str(u.name, "alice", "user name");
	is_int(u.disabled, 0, "enabled");
	store_user_clear(&u);
	is_int(store_user_get_by_name(st, "nobody", &u), STORE_NOTFOUND, "unknown user");
	is_int(store_user_set_disabled(st, "alice", 1), STORE_OK, "disable");
	is_int(store_user_set_disabled(st, "nobody", 1), STORE_NOTFOUND, "disable unknown");
	ok(store_user_get(st, uid, &u) == STORE_OK && u.disabled == 1, "disabled flag stored");
	store_user_clear(&u);
	ok(store_user_list(st, count_user, &n) == STORE_OK && n == 1, "list users");

	/* resources and edges */
	memset(&r, 0, sizeof(r));
	r.uri = MUT("https://a.example/mcp");
	r.uri_key = MUT("https://a.example/mcp");
	r.name = MUT("A");
	r.scopes = MUT("read write");
	r.created_at = 1;
	ok(store_resource_add(st, &r, &rid1) == STORE_OK, "add resource A");
	is_int(store_resource_add(st, &r, NULL), STORE_CONFLICT, "same key is a conflict");
	r.uri = r.uri_key = MUT("https://b.example");
	r.name = MUT("B");
	r.default_scopes = MUT("read");
	r.ttl = 300;
	ok(store_resource_add(st, &r, &rid2) == STORE_OK, "add resource B");
	ok(store_resource_get_by_key(st, "https://b.example", &got) == STORE_OK, "get by key");
	is_str(got.default_scopes, "read", "default scopes");
	is_int(got.ttl, 300, "ttl");
	store_resource_clear(&got);
	ok(store_resource_get(st, rid1, &got) == STORE_OK && got.default_scopes == NULL &&
	    got.ttl == 0, "NULL default scopes and ttl read back as NULL/0");
	store_resource_clear(&got);
	n = 0;
	is_int(store_resource_list(st, stop_early, &n), 42, "visitor's non-zero stops the walk");
	is_int(n, 1, "after one row");
	ok(store_edge_put(st, rid1, rid2, "read", 5) == STORE_OK, "edge A->B");
	ok(store_edge_put(st, rid1, rid2, NULL, 6) == STORE_OK, "edge replaced");
	v = MUT("x");
	ok(store_edge_get(st, rid1, rid2, &v) == STORE_OK && v == NULL, "edge scopes NULL = all");
	is_int(store_edge_get(st, rid2, rid1, &v), STORE_NOTFOUND, "edges are directed");
	n = 0;
	ok(store_edge_list(st, count_edges, &n) == STORE_OK && n == 1, "list edges");

	/* clients */
	memset(&c, 0, sizeof(c));
	c.client_id = MUT("c1");
	c.name = MUT("Client");
	c.confidential = 1;
	c.auth_method = MUT("client_secret_basic");
	c.secret_hash = MUT("$argon2id$h");
	c.grant_types = MUT("authorization_code client_credentials");
	c.acts_for = rid1;
	c.redirect_uris = redirects;
	c.n_redirect_uris = 2;
	c.created_at = 7;
	ok(store_client_add(st, &c, &cid) == STORE_OK, "add client with redirect URIs");
	is_int(store_client_add(st, &c, NULL), STORE_CONFLICT, "duplicate client id");
	ok(store_client_get(st, "c1", &cg) == STORE_OK, "get client");
	is_int(cg.n_redirect_uris, 2, "two redirect URIs");
	is_str(cg.acts_for_uri, "https://a.example/mcp", "acts_for URI joined");
	is_str(cg.origin, "cli", "default origin");
	store_client_clear(&cg);
	is_int(store_client_resource_allowed(st, cid, rid2), STORE_NOTFOUND, "not yet allowed");
	ok(store_client_resource_add(st, cid, rid2) == STORE_OK, "allow B");
	ok(store_client_resource_add(st, cid, rid2) == STORE_OK, "allowing twice is harmless");
	is_int(store_client_resource_allowed(st, cid, rid2), STORE_OK, "allowed");
	ok(store_client_resources_new(st, cid, &uris) == STORE_OK, "resource list");
	is_str(uris, "https://b.example", "resource list text");
	free(uris);
	/* Removing the resource drops its edges and grants (foreign keys on). */
	ok(store_resource_remove(st, "https://b.example") == STORE_OK, "remove B");
	is_int(store_client_resource_allowed(st, cid, rid2), STORE_NOTFOUND, "grant cascaded");
	is_int(store_edge_get(st, rid1, rid2, &v), STORE_NOTFOUND, "edge cascaded");
	is_int(store_resource_remove(st, "https://b.example"), STORE_NOTFOUND, "remove twice");
	ok(store_resource_remove(st, "https://a.example/mcp") == STORE_OK, "remove A");
	ok(store_client_get(st, "c1", &cg) == STORE_OK && cg.acts_for == 0 && cg.acts_for_uri == NULL,
	    "acts_for set NULL when its resource goes");
	store_client_clear(&cg);
	ok(store_client_remove(st, "c1") == STORE_OK, "remove client");
	is_int(store_client_remove(st, "c1"), STORE_NOTFOUND, "remove unknown client");

	/* registration tokens */
	{
		unsigned char h[32];

		memset(h, 7, sizeof(h));
		ok(store_regtoken_add(st, h, sizeof(h), 10, 20) == STORE_OK, "registration token");
		is_int(store_regtoken_check(st, h, sizeof(h), 15), STORE_OK, "valid before expiry");
		is_int(store_regtoken_check(st, h, sizeof(h), 20), STORE_NOTFOUND, "expired at expiry");
		h[0] = 8;
		is_int(store_regtoken_check(st, h, sizeof(h), 15), STORE_NOTFOUND, "unknown token");
	}

	/* keys version counter */
	ok(store_keys_version(st, &kv) == STORE_OK && kv == 0, "keys version starts at 0");
	ok(store_keys_version_bump(st) == STORE_OK && store_keys_version_bump(st) == STORE_OK,
	    "bump twice");
	ok(store_keys_version(st2, &kv) == STORE_OK && kv == 2, "other connection sees 2");

	idp_contract(st);
	vault_contract(st);
	memory_path = path;
	connections_contract(st, st2, delete_user);

	/* transactions */
	ok(store_begin(st) == STORE_OK, "begin");
	ok(store_user_add(st, "bob", "h", 1, NULL) == STORE_OK, "insert in transaction");
	store_rollback(st);
	is_int(store_user_get_by_name(st, "bob", &u), STORE_NOTFOUND, "rolled back");
	ok(store_ping(st) == STORE_OK, "ping");

	store_close(st2);
	store_close(st);
	free(path);

	/* A file database: WAL mode and an online backup that opens. */
	fd = mkstemp(filepath);
	close(fd);
	unlink(filepath);
	ok(store_open(filepath, &opt, &st) == STORE_OK && store_migrate(st, NULL) == STORE_OK,
	    "file database created");
	ok(store_user_add(st, "carol", "h", 1, NULL) == STORE_OK, "row written");
	{
		char bpath[64];

		snprintf(bpath, sizeof(bpath), "%s.bak", filepath);
		ok(store_backup(st, bpath) == STORE_OK, "online backup");
		ok(store_open(bpath, &opt, &st2) == STORE_OK &&
		    store_user_get_by_name(st2, "carol", &u) == STORE_OK, "backup holds the row");
		store_user_clear(&u);
		store_close(st2);
		unlink(bpath);
	}
	store_close(st);
	{
		char wal[64], shm[64];

		snprintf(wal, sizeof(wal), "%s-wal", filepath);
		snprintf(shm, sizeof(shm), "%s-shm", filepath);
		unlink(wal);
		unlink(shm);
	}
	unlink(filepath);
	return tap_done();
}
