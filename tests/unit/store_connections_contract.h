/* The contract of per-user OAuth connections (store.h, "per-user OAuth connections to
 * third parties"): the connections and their shared namespace with credentials, each
 * user's tokens written by generation (a compare-and-set) with a refresh lease, and the
 * connects in progress. Run against each backend by t_store (SQLite) and t_store_pg:
 * included once by each, on a migrated store, after the vault's contract (its times are
 * as small, so that the rest of what the store holds outlives its purges). */
#ifndef MCP_TESTS_STORE_CONNECTIONS_CONTRACT_H
#define MCP_TESTS_STORE_CONNECTIONS_CONTRACT_H

#include <stdio.h>
#include <string.h>

#include "store/store.h"
#include "tap.h"

/* Deletes a user row as an operator would (the store has no operation for it), so that
 * the contract sees what the schema does with the user's rows. */
typedef int (*connections_contract_delete_user_fn)(int64_t user_id);

struct connections_contract_seen {
	int n;
	char names[512];
};

static int
connections_contract_name(const struct store_connection *c, void *arg)
{
	struct connections_contract_seen *s = arg;
	size_t len = strlen(s->names);

	snprintf(s->names + len, sizeof(s->names) - len, "%s%s%s", len ? "," : "", c->name,
	    c->wrapped_key != NULL && c->secret_enc != NULL ? "" : "(public)");
	s->n++;
	return 0;
}

/* "connection/user:generation" of each row, and whether its blobs came along. */
static int
connections_contract_user_row(const struct store_user_connection *uc, void *arg)
{
	struct connections_contract_seen *s = arg;
	size_t len = strlen(s->names);

	snprintf(s->names + len, sizeof(s->names) - len, "%s%s/%lld:%lld%s", len ? "," : "",
	    uc->connection, (long long)uc->user_id, (long long)uc->generation,
	    uc->wrapped_key != NULL && uc->wrapped_key_len > 0 && uc->tokens_enc != NULL &&
		    uc->tokens_enc_len > 0 ? "" : "(no blobs)");
	s->n++;
	return 0;
}

static int
connections_contract_stop(const struct store_user_connection *uc, void *arg)
{
	(*(int *)arg)++;
	return 42;
}

static int
connections_contract_stop_connection(const struct store_connection *c, void *arg)
{
	(*(int *)arg)++;
	return 43;
}

static int
connections_contract_same(const unsigned char *got, size_t got_len, const unsigned char *want,
    size_t want_len)
{
	return got != NULL && got_len == want_len && memcmp(got, want, want_len) == 0;
}

static struct store_connection
connections_contract_connection(const char *name, unsigned char *key, size_t key_len,
    unsigned char *secret, size_t secret_len, int64_t created_at)
{
	struct store_connection c;

	memset(&c, 0, sizeof(c));
	c.name = MUT(name);
	c.authorize_url = MUT("https://tp.example/authorize");
	c.token_url = MUT("https://tp.example/token");
	c.client_id = MUT("mcp-authd");
	c.wrapped_key = key;
	c.wrapped_key_len = key_len;
	c.secret_enc = secret;
	c.secret_enc_len = secret_len;
	c.scopes = MUT("repo read:user");
	c.created_at = created_at;
	return c;
}

/* A user's row as the contract writes them: its blobs say which generation they seal. */
static struct store_user_connection
connections_contract_tokens(const char *connection, int64_t user_id, int64_t generation,
    unsigned char *key, size_t key_len, unsigned char *tokens, size_t tokens_len, int64_t at)
{
	struct store_user_connection uc;

	memset(&uc, 0, sizeof(uc));
	uc.connection = MUT(connection);
	uc.user_id = user_id;
	uc.generation = generation;
	uc.wrapped_key = key;
	uc.wrapped_key_len = key_len;
	uc.tokens_enc = tokens;
	uc.tokens_enc_len = tokens_len;
	uc.fingerprint = MUT("sha256:feedfacefeedface");
	uc.scope = MUT("repo");
	uc.expires_at = at + 3600;
	uc.refreshing_until = 77; /* ignored: a write ends any lease */
	uc.needs_reauth = 1;      /* ignored: a write clears it */
	uc.created_at = at;
	uc.updated_at = at;
	return uc;
}

/* The connections themselves, and the namespace they share with credentials. */
static void
connections_contract_connections(struct store *st, int64_t *resource)
{
	unsigned char k1[] = {0x00, 0x01, 0xff, 0x7f, 0x00, 0x80, 0x42};
	unsigned char s1[] = {0x10, 0x00, 0x00, 0xfe, 0x5c, 0x27, 0x22, 0x00};
	unsigned char rk[] = {0xaa, 0x00, 0xbb, 0x00, 0xcc};
	struct store_connection c, got;
	struct store_credential cr;
	struct store_resource r;
	struct connections_contract_seen seen;
	int n;

	c = connections_contract_connection("conn-gh", k1, sizeof(k1), s1, sizeof(s1), 1000);
	c.id = 99; /* ignored */
	c.revoke_url = MUT("https://tp.example/revoke");
	c.resource = MUT("https://api.tp.example/");
	c.allow_private = 1;
	is_int(store_connection_add(st, &c), STORE_OK, "connection: add");
	ok(store_connection_get(st, "conn-gh", &got) == STORE_OK, "connection: get");
	ok(got.id > 0 && got.id != 99 && strcmp(got.name, "conn-gh") == 0 &&
	    strcmp(got.authorize_url, "https://tp.example/authorize") == 0 &&
	    strcmp(got.token_url, "https://tp.example/token") == 0 && got.revoke_url != NULL &&
	    strcmp(got.revoke_url, "https://tp.example/revoke") == 0 &&
	    strcmp(got.client_id, "mcp-authd") == 0 && strcmp(got.scopes, "repo read:user") == 0 &&
	    got.resource != NULL && strcmp(got.resource, "https://api.tp.example/") == 0 &&
	    got.allow_private == 1 && got.created_at == 1000, "connection: every column");
	ok(connections_contract_same(got.wrapped_key, got.wrapped_key_len, k1, sizeof(k1)) &&
	    connections_contract_same(got.secret_enc, got.secret_enc_len, s1, sizeof(s1)),
	    "connection: both sealed blobs byte for byte (NULs included)");
	store_connection_clear(&got);
	ok(got.name == NULL && got.wrapped_key == NULL && got.secret_enc == NULL &&
	    got.wrapped_key_len == 0 && got.secret_enc_len == 0,
	    "connection: clear leaves nothing behind");
	is_int(store_connection_add(st, &c), STORE_CONFLICT, "connection: a name is taken once");
	is_int(store_connection_get(st, "conn-none", &got), STORE_NOTFOUND,
	    "connection: an unknown name is NOTFOUND");

	c = connections_contract_connection("conn-pub", NULL, 0, NULL, 0, 1100);
	is_int(store_connection_add(st, &c), STORE_OK, "connection: a public client's");
	ok(store_connection_get(st, "conn-pub", &got) == STORE_OK && got.wrapped_key == NULL &&
	    got.secret_enc == NULL && got.wrapped_key_len == 0 && got.secret_enc_len == 0 &&
	    got.revoke_url == NULL && got.resource == NULL && got.allow_private == 0,
	    "connection: no secret, no revoke URL, no resource read back as NULL");
	store_connection_clear(&got);
	memset(&seen, 0, sizeof(seen));
	ok(store_connection_list(st, connections_contract_name, &seen) == STORE_OK && seen.n == 2,
	    "connection: list");
	is_str(seen.names, "conn-gh,conn-pub(public)", "connection: by name, with their blobs");
	n = 0;
	is_int(store_connection_list(st, connections_contract_stop_connection, &n), 43,
	    "connection: a visitor's non-zero answer stops the list and comes back");
	is_int(n, 1, "connection: after one row");

	/* rewrap */
	ok(store_connection_get(st, "conn-gh", &got) == STORE_OK &&
	    store_connection_set_key(st, got.id, rk, sizeof(rk)) == STORE_OK,
	    "set_key: a new wrapped data key");
	store_connection_clear(&got);
	ok(store_connection_get(st, "conn-gh", &got) == STORE_OK &&
	    connections_contract_same(got.wrapped_key, got.wrapped_key_len, rk, sizeof(rk)) &&
	    connections_contract_same(got.secret_enc, got.secret_enc_len, s1, sizeof(s1)),
	    "set_key: the new key byte for byte, the secret untouched");
	is_int(store_connection_set_key(st, 999999999, rk, sizeof(rk)), STORE_NOTFOUND,
	    "set_key: an unknown id is NOTFOUND");
	ok(store_begin(st) == STORE_OK && store_connection_set_key(st, got.id, k1, 2) == STORE_OK,
	    "set_key: in a transaction");
	store_rollback(st);
	store_connection_clear(&got);
	ok(store_connection_get(st, "conn-gh", &got) == STORE_OK &&
	    connections_contract_same(got.wrapped_key, got.wrapped_key_len, rk, sizeof(rk)),
	    "set_key: rolled back with it");
	store_connection_clear(&got);

	/* one namespace with credentials, both ways */
	memset(&cr, 0, sizeof(cr));
	cr.name = MUT("conn-cred");
	cr.wrapped_key = k1;
	cr.wrapped_key_len = sizeof(k1);
	cr.secret_enc = s1;
	cr.secret_enc_len = sizeof(s1);
	cr.fingerprint = MUT("sha256:cccccccccccccccc");
	cr.created_at = 1200;
	is_int(store_credential_add(st, &cr), STORE_OK, "namespace: a credential conn-cred");
	c = connections_contract_connection("conn-cred", NULL, 0, NULL, 0, 1200);
	is_int(store_connection_add(st, &c), STORE_CONFLICT,
	    "namespace: no connection under a credential's name");
	is_int(store_connection_get(st, "conn-cred", &got), STORE_NOTFOUND,
	    "namespace: and none was added");
	cr.name = MUT("conn-gh");
	is_int(store_credential_add(st, &cr), STORE_CONFLICT,
	    "namespace: no credential under a connection's name");
	is_int(store_credential_get(st, "conn-gh", &cr), STORE_NOTFOUND,
	    "namespace: and none was added");
	is_int(store_connection_remove(st, "conn-cred"), STORE_NOTFOUND,
	    "namespace: a credential is no connection to remove");
	is_int(store_credential_remove(st, "conn-gh"), STORE_NOTFOUND,
	    "namespace: nor a connection a credential");
	ok(store_connection_get(st, "conn-gh", &got) == STORE_OK, "namespace: conn-gh stays");
	store_connection_clear(&got);

	/* the policy names either */
	memset(&r, 0, sizeof(r));
	r.uri = MUT("https://conn-a.example/mcp");
	r.uri_key = MUT("https://conn-a.example/mcp");
	r.name = MUT("Conn A");
	r.scopes = MUT("read");
	ok(store_resource_add(st, &r, resource) == STORE_OK, "policy: a resource");
	is_int(store_resource_credential_allow(st, *resource, "conn-gh", 1300), STORE_OK,
	    "policy: allow a connection's name");
	is_int(store_resource_credential_allow(st, *resource, "conn-gh", 1301), STORE_OK,
	    "policy: again (idempotent)");
	is_int(store_resource_credential_allowed(st, *resource, "conn-gh"), STORE_OK,
	    "policy: allowed");
	is_int(store_resource_credential_allow(st, *resource, "conn-cred", 1300), STORE_OK,
	    "policy: a credential's still");
	is_int(store_resource_credential_allow(st, *resource, "conn-none", 1300), STORE_NOTFOUND,
	    "policy: a name neither has is NOTFOUND");
}

/* A user's tokens: the compare-and-set of generations, the refresh lease, a refused
 * refresh, listing and rewrap. */
static void
connections_contract_tokens_rows(struct store *st, struct store *st2, int64_t alice,
    int64_t bob)
{
	unsigned char k1[] = {0x01, 0x00, 0x01, 0xff};
	unsigned char t1[] = {0x7b, 0x00, 0x22, 0x00, 0x00, 0x7d};
	unsigned char k2[] = {0x02, 0x00};
	unsigned char t2[] = {0x00, 0x20, 0x00, 0x20, 0xfe};
	unsigned char k3[] = {0x00, 0x03, 0x00};
	unsigned char t3[] = {0x30, 0x00, 0x33};
	unsigned char rk[] = {0xaa, 0x00, 0xbb, 0x00};
	struct store_user_connection uc, got;
	struct connections_contract_seen seen;
	int n;

	/* no tokens for a connection that does not exist (one removed during a connect) */
	uc = connections_contract_tokens("conn-gone", alice, 1, k1, sizeof(k1), t1, sizeof(t1), 2000);
	is_int(store_user_connection_put(st, &uc), STORE_CONFLICT,
	    "tokens: generation 1 of an unknown connection is refused");
	is_int(store_user_connection_get(st, "conn-gone", alice, &got), STORE_NOTFOUND,
	    "tokens: and nothing is left behind");
	/* generation 1: a new row */
	uc = connections_contract_tokens("conn-gh", alice, 1, k1, sizeof(k1), t1, sizeof(t1), 2000);
	is_int(store_user_connection_put(st, &uc), STORE_OK, "tokens: generation 1");
	ok(store_user_connection_get(st, "conn-gh", alice, &got) == STORE_OK, "tokens: get");
	ok(strcmp(got.connection, "conn-gh") == 0 && got.user_id == alice && got.generation == 1 &&
	    strcmp(got.fingerprint, "sha256:feedfacefeedface") == 0 && got.scope != NULL &&
	    strcmp(got.scope, "repo") == 0 && got.expires_at == 5600 &&
	    got.refreshing_until == 0 && got.needs_reauth == 0 && got.created_at == 2000 &&
	    got.updated_at == 2000, "tokens: every column; no lease, no reauth whatever uc said");
	ok(connections_contract_same(got.wrapped_key, got.wrapped_key_len, k1, sizeof(k1)) &&
	    connections_contract_same(got.tokens_enc, got.tokens_enc_len, t1, sizeof(t1)),
	    "tokens: both sealed blobs byte for byte (NULs included)");
	store_user_connection_clear(&got);
	ok(got.connection == NULL && got.wrapped_key == NULL && got.tokens_enc == NULL &&
	    got.tokens_enc_len == 0, "tokens: clear leaves nothing behind");
	is_int(store_user_connection_get(st, "conn-gh", bob, &got), STORE_NOTFOUND,
	    "tokens: a user not connected is NOTFOUND");
	is_int(store_user_connection_get(st, "conn-pub", alice, &got), STORE_NOTFOUND,
	    "tokens: nor at another connection");
	is_int(store_user_connection_put(st2, &uc), STORE_CONFLICT,
	    "tokens: generation 1 again (another connect came first): CONFLICT");

	/* generation 2 replaces 1, and only 1 */
	uc = connections_contract_tokens("conn-gh", alice, 2, k2, sizeof(k2), t2, sizeof(t2), 2100);
	uc.scope = NULL;
	uc.expires_at = 0;
	is_int(store_user_connection_put(st, &uc), STORE_OK, "tokens: generation 2");
	ok(store_user_connection_get(st2, "conn-gh", alice, &got) == STORE_OK &&
	    got.generation == 2 && got.scope == NULL && got.expires_at == 0 &&
	    got.created_at == 2000 && got.updated_at == 2100 &&
	    connections_contract_same(got.wrapped_key, got.wrapped_key_len, k2, sizeof(k2)) &&
	    connections_contract_same(got.tokens_enc, got.tokens_enc_len, t2, sizeof(t2)),
	    "tokens: generation 2 with its blobs, created_at kept, no scope nor expiry said");
	store_user_connection_clear(&got);
	is_int(store_user_connection_put(st2, &uc), STORE_CONFLICT,
	    "tokens: generation 2 again (another refresh came first): CONFLICT");
	uc.generation = 4;
	is_int(store_user_connection_put(st, &uc), STORE_CONFLICT,
	    "tokens: generation 4 skips one: CONFLICT");
	uc.generation = 2;
	uc.user_id = bob;
	is_int(store_user_connection_put(st, &uc), STORE_CONFLICT,
	    "tokens: generation 2 of no row: CONFLICT");
	ok(store_user_connection_get(st, "conn-gh", alice, &got) == STORE_OK &&
	    got.generation == 2 &&
	    connections_contract_same(got.tokens_enc, got.tokens_enc_len, t2, sizeof(t2)),
	    "tokens: refused writes changed nothing");
	store_user_connection_clear(&got);

	/* the refresh lease */
	is_int(store_user_connection_lease(st, "conn-gh", alice, 2, 3000, 3060), STORE_OK,
	    "lease: taken at 3000 until 3060");
	ok(store_user_connection_get(st, "conn-gh", alice, &got) == STORE_OK &&
	    got.refreshing_until == 3060 && got.generation == 2, "lease: refreshing_until 3060");
	store_user_connection_clear(&got);
	is_int(store_user_connection_lease(st2, "conn-gh", alice, 2, 3000, 3060), STORE_CONFLICT,
	    "lease: a second one at the same time (another node): CONFLICT");
	is_int(store_user_connection_lease(st2, "conn-gh", alice, 2, 3059, 3119), STORE_CONFLICT,
	    "lease: still running at 3059");
	is_int(store_user_connection_lease(st2, "conn-gh", alice, 2, 3060, 3120), STORE_OK,
	    "lease: taken over once it ran out (3060)");
	ok(store_user_connection_get(st, "conn-gh", alice, &got) == STORE_OK &&
	    got.refreshing_until == 3120, "lease: refreshing_until 3120");
	store_user_connection_clear(&got);
	is_int(store_user_connection_lease(st, "conn-gh", alice, 1, 9000, 9060), STORE_CONFLICT,
	    "lease: of an old generation (someone refreshed): CONFLICT");
	is_int(store_user_connection_lease(st, "conn-gh", alice, 3, 9000, 9060), STORE_CONFLICT,
	    "lease: of a generation not written yet: CONFLICT");
	is_int(store_user_connection_lease(st, "conn-gh", bob, 1, 3000, 3060), STORE_NOTFOUND,
	    "lease: no row is NOTFOUND");
	is_int(store_user_connection_lease(st, "conn-none", alice, 1, 3000, 3060), STORE_NOTFOUND,
	    "lease: nor at an unknown connection");
	uc = connections_contract_tokens("conn-gh", alice, 3, k3, sizeof(k3), t3, sizeof(t3), 3010);
	is_int(store_user_connection_put(st, &uc), STORE_OK,
	    "lease: the refresh writes generation 3");
	ok(store_user_connection_get(st, "conn-gh", alice, &got) == STORE_OK &&
	    got.generation == 3 && got.refreshing_until == 0 && got.needs_reauth == 0 &&
	    got.created_at == 2000 && got.updated_at == 3010, "lease: the write ended it");
	store_user_connection_clear(&got);
	is_int(store_user_connection_lease(st, "conn-gh", alice, 3, 3011, 3071), STORE_OK,
	    "lease: generation 3's, at once");

	/* the third party refused the refresh */
	is_int(store_user_connection_fail(st, "conn-gh", alice, 2), STORE_CONFLICT,
	    "fail: of an old generation: CONFLICT");
	is_int(store_user_connection_fail(st, "conn-gh", bob, 1), STORE_NOTFOUND,
	    "fail: no row is NOTFOUND");
	ok(store_user_connection_get(st, "conn-gh", alice, &got) == STORE_OK &&
	    got.needs_reauth == 0 && got.refreshing_until == 3071,
	    "fail: refused ones changed nothing");
	store_user_connection_clear(&got);
	is_int(store_user_connection_fail(st, "conn-gh", alice, 3), STORE_OK, "fail: generation 3");
	ok(store_user_connection_get(st, "conn-gh", alice, &got) == STORE_OK &&
	    got.needs_reauth == 1 && got.refreshing_until == 0 && got.generation == 3 &&
	    connections_contract_same(got.tokens_enc, got.tokens_enc_len, t3, sizeof(t3)),
	    "fail: needs_reauth set, the lease ended, the tokens kept");
	store_user_connection_clear(&got);
	uc = connections_contract_tokens("conn-gh", alice, 4, k1, sizeof(k1), t1, sizeof(t1), 3200);
	is_int(store_user_connection_put(st, &uc), STORE_OK, "fail: connected again: generation 4");
	ok(store_user_connection_get(st, "conn-gh", alice, &got) == STORE_OK &&
	    got.needs_reauth == 0 && got.generation == 4, "fail: the write cleared needs_reauth");
	store_user_connection_clear(&got);

	/* listing */
	uc = connections_contract_tokens("conn-pub", alice, 1, k2, sizeof(k2), t2, sizeof(t2),
	    3300);
	ok(store_user_connection_put(st, &uc) == STORE_OK, "list: alice at conn-pub too");
	uc = connections_contract_tokens("conn-gh", bob, 1, k3, sizeof(k3), t3, sizeof(t3), 3300);
	ok(store_user_connection_put(st, &uc) == STORE_OK, "list: bob at conn-gh");
	memset(&seen, 0, sizeof(seen));
	ok(store_user_connection_list_user(st, alice, connections_contract_user_row, &seen) ==
		STORE_OK && seen.n == 2, "list: alice's");
	{
		char want[128];

		snprintf(want, sizeof(want), "conn-gh/%lld:4,conn-pub/%lld:1", (long long)alice,
		    (long long)alice);
		is_str(seen.names, want, "list: alice's only, by connection, with their blobs");
		memset(&seen, 0, sizeof(seen));
		ok(store_user_connection_each(st, connections_contract_user_row, &seen) ==
			STORE_OK && seen.n == 3, "each");
		snprintf(want, sizeof(want), "conn-gh/%lld:4,conn-gh/%lld:1,conn-pub/%lld:1",
		    (long long)alice, (long long)bob, (long long)alice);
		is_str(seen.names, want, "each: every row, by connection then user, with blobs");
	}
	n = 0;
	is_int(store_user_connection_each(st, connections_contract_stop, &n), 42,
	    "each: a visitor's non-zero answer stops it and comes back");
	is_int(n, 1, "each: after one row");
	n = 0;
	is_int(store_user_connection_list_user(st, alice, connections_contract_stop, &n), 42,
	    "list: so does the user's");
	memset(&seen, 0, sizeof(seen));
	ok(store_user_connection_list_user(st, 999999999, connections_contract_user_row, &seen) ==
		STORE_OK && seen.n == 0, "list: a user with none lists none");

	/* rewrap */
	is_int(store_user_connection_set_key(st, "conn-gh", alice, 4, rk, sizeof(rk)), STORE_OK,
	    "set_key: generation 4's");
	ok(store_user_connection_get(st, "conn-gh", alice, &got) == STORE_OK &&
	    got.generation == 4 &&
	    connections_contract_same(got.wrapped_key, got.wrapped_key_len, rk, sizeof(rk)) &&
	    connections_contract_same(got.tokens_enc, got.tokens_enc_len, t1, sizeof(t1)),
	    "set_key: the new key byte for byte, the tokens untouched, the generation kept");
	store_user_connection_clear(&got);
	is_int(store_user_connection_set_key(st, "conn-gh", alice, 3, k1, sizeof(k1)),
	    STORE_NOTFOUND, "set_key: a generation no longer there is NOTFOUND");
	is_int(store_user_connection_set_key(st, "conn-gh", 999999999, 1, k1, sizeof(k1)),
	    STORE_NOTFOUND, "set_key: no row is NOTFOUND");
	ok(store_begin(st) == STORE_OK &&
	    store_user_connection_set_key(st, "conn-gh", alice, 4, k1, 1) == STORE_OK,
	    "set_key: in a transaction");
	store_rollback(st);
	ok(store_user_connection_get(st, "conn-gh", alice, &got) == STORE_OK &&
	    connections_contract_same(got.wrapped_key, got.wrapped_key_len, rk, sizeof(rk)),
	    "set_key: rolled back with it");
	store_user_connection_clear(&got);

	/* disconnect */
	is_int(store_user_connection_remove(st, "conn-pub", alice), STORE_OK, "remove: alice's");
	is_int(store_user_connection_get(st, "conn-pub", alice, &got), STORE_NOTFOUND,
	    "remove: gone");
	is_int(store_user_connection_remove(st, "conn-pub", alice), STORE_NOTFOUND,
	    "remove: again NOTFOUND");
	ok(store_user_connection_get(st, "conn-gh", alice, &got) == STORE_OK,
	    "remove: her other connection stays");
	store_user_connection_clear(&got);
	uc = connections_contract_tokens("conn-pub", alice, 1, k2, sizeof(k2), t2, sizeof(t2),
	    3400);
	ok(store_user_connection_put(st, &uc) == STORE_OK &&
	    store_user_connection_get(st, "conn-pub", alice, &got) == STORE_OK &&
	    got.generation == 1 && got.created_at == 3400,
	    "remove: connected again from generation 1");
	store_user_connection_clear(&got);
}

/* Connects in progress, taken once. */
static void
connections_contract_states(struct store *st, struct store *st2, int64_t alice)
{
	unsigned char h1[STORE_UPSTREAM_HASH_LEN], h2[STORE_UPSTREAM_HASH_LEN];
	unsigned char h3[STORE_UPSTREAM_HASH_LEN], h4[STORE_UPSTREAM_HASH_LEN];
	struct store_connect_state s, got;
	struct store_purge_counts pc;

	memset(h1, 0xc1, sizeof(h1));
	h1[0] = 0x00; /* NULs in the key too */
	memset(h2, 0xc2, sizeof(h2));
	memset(h3, 0xc3, sizeof(h3));
	memset(h4, 0xc4, sizeof(h4));
	memset(&s, 0, sizeof(s));
	s.connection = MUT("conn-gh");
	s.user_id = alice;
	memset(s.session_hash, 0x5e, sizeof(s.session_hash));
	s.session_hash[3] = 0x00;
	s.code_verifier = MUT("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
	s.created_at = 2000;
	s.expires_at = 2600;
	is_int(store_connect_state_add(st, h1, &s), STORE_OK, "state: add");
	is_int(store_connect_state_add(st2, h1, &s), STORE_CONFLICT,
	    "state: the same state twice: CONFLICT");
	ok(store_connect_state_take(st2, h1, &got) == STORE_OK, "state: taken");
	ok(got.connection != NULL && strcmp(got.connection, "conn-gh") == 0 &&
	    got.user_id == alice &&
	    memcmp(got.session_hash, s.session_hash, sizeof(s.session_hash)) == 0 &&
	    got.code_verifier != NULL && strcmp(got.code_verifier, s.code_verifier) == 0 &&
	    got.created_at == 2000 && got.expires_at == 2600,
	    "state: every column, the session's hash byte for byte");
	store_connect_state_clear(&got);
	ok(got.connection == NULL && got.code_verifier == NULL, "state: clear leaves nothing");
	is_int(store_connect_state_take(st, h1, &got), STORE_NOTFOUND, "state: taken once");
	is_int(store_connect_state_take(st, h2, &got), STORE_NOTFOUND, "state: unknown: NOTFOUND");
	ok(got.connection == NULL && got.code_verifier == NULL, "state: and out cleared");

	/* expired ones are returned (the caller refuses them), and purged */
	s.expires_at = 100;
	ok(store_connect_state_add(st, h2, &s) == STORE_OK &&
	    store_connect_state_take(st, h2, &got) == STORE_OK && got.expires_at == 100,
	    "state: an expired one is still returned");
	store_connect_state_clear(&got);
	s.expires_at = 2600;
	ok(store_connect_state_add(st, h2, &s) == STORE_OK, "purge: a state expiring at 2600");
	s.expires_at = 2700;
	ok(store_connect_state_add(st, h3, &s) == STORE_OK, "purge: one at 2700");
	s.connection = MUT("conn-pub");
	ok(store_connect_state_add(st, h4, &s) == STORE_OK, "purge: one of conn-pub at 2700");
	ok(store_purge(st, 2599, 0, &pc) == STORE_OK && pc.connect_states == 0,
	    "purge: none before 2600");
	ok(store_purge(st, 2600, 0, &pc) == STORE_OK && pc.connect_states == 1,
	    "purge: one at its expires_at");
	is_int(store_connect_state_take(st, h2, &got), STORE_NOTFOUND, "purge: it is gone");
	ok(store_connect_state_take(st, h3, &got) == STORE_OK && got.expires_at == 2700,
	    "purge: the later one stays");
	store_connect_state_clear(&got);
	s.connection = MUT("conn-gh");
	ok(store_connect_state_add(st, h3, &s) == STORE_OK,
	    "state: a taken state's hash can be kept again");
}

/* Removing a connection takes everything named after it. */
static void
connections_contract_remove(struct store *st, int64_t resource, int64_t alice, int64_t bob)
{
	unsigned char h3[STORE_UPSTREAM_HASH_LEN], h4[STORE_UPSTREAM_HASH_LEN];
	unsigned char k[] = {0x01, 0x00};
	struct store_connection c, got;
	struct store_user_connection uc, ugot;
	struct store_connect_state sgot;
	struct connections_contract_seen seen;

	memset(h3, 0xc3, sizeof(h3));
	memset(h4, 0xc4, sizeof(h4));
	ok(store_begin(st) == STORE_OK && store_connection_remove(st, "conn-gh") == STORE_OK,
	    "remove: inside the caller's transaction");
	store_rollback(st);
	ok(store_connection_get(st, "conn-gh", &got) == STORE_OK &&
	    store_user_connection_get(st, "conn-gh", alice, &ugot) == STORE_OK,
	    "remove: rolled back with it, every row");
	store_connection_clear(&got);
	store_user_connection_clear(&ugot);

	is_int(store_connection_remove(st, "conn-gh"), STORE_OK, "remove: conn-gh");
	is_int(store_connection_get(st, "conn-gh", &got), STORE_NOTFOUND, "remove: gone");
	is_int(store_user_connection_get(st, "conn-gh", alice, &ugot), STORE_NOTFOUND,
	    "remove: alice's tokens at it went with it");
	is_int(store_user_connection_get(st, "conn-gh", bob, &ugot), STORE_NOTFOUND,
	    "remove: and bob's");
	is_int(store_connect_state_take(st, h3, &sgot), STORE_NOTFOUND,
	    "remove: its connects in progress too");
	is_int(store_resource_credential_allowed(st, resource, "conn-gh"), STORE_NOTFOUND,
	    "remove: and its policy rows");
	is_int(store_resource_credential_allowed(st, resource, "conn-cred"), STORE_OK,
	    "remove: a credential's policy row stays");
	ok(store_user_connection_get(st, "conn-pub", alice, &ugot) == STORE_OK,
	    "remove: another connection's tokens stay");
	store_user_connection_clear(&ugot);
	ok(store_connect_state_take(st, h4, &sgot) == STORE_OK,
	    "remove: and its connects in progress");
	store_connect_state_clear(&sgot);
	is_int(store_connection_remove(st, "conn-gh"), STORE_NOTFOUND, "remove: again NOTFOUND");
	memset(&seen, 0, sizeof(seen));
	ok(store_connection_list(st, connections_contract_name, &seen) == STORE_OK, "list");
	is_str(seen.names, "conn-pub(public)", "remove: the other connection stays");

	c = connections_contract_connection("conn-gh", k, sizeof(k), k, sizeof(k), 4000);
	ok(store_connection_add(st, &c) == STORE_OK, "remove: the name can be added again");
	ok(store_user_connection_get(st, "conn-gh", alice, &ugot) == STORE_NOTFOUND &&
	    store_resource_credential_allowed(st, resource, "conn-gh") == STORE_NOTFOUND,
	    "remove: a connection added again under the name inherits nothing");
	uc = connections_contract_tokens("conn-gh", alice, 1, k, sizeof(k), k, sizeof(k), 4000);
	ok(store_user_connection_put(st, &uc) == STORE_OK, "remove: alice connects to it again");
	is_int(store_connection_remove(st, "conn-gh"), STORE_OK,
	    "remove: in its own transaction once more");
	is_int(store_credential_remove(st, "conn-cred"), STORE_OK, "remove: the credential");
	is_int(store_resource_credential_allowed(st, resource, "conn-cred"), STORE_NOTFOUND,
	    "remove: took its policy row");
}

static void
connections_contract(struct store *st, struct store *st2,
    connections_contract_delete_user_fn delete_user)
{
	struct store_user_connection uc, got;
	struct connections_contract_seen seen;
	unsigned char k[] = {0x00, 0x09};
	int64_t alice = 0, bob = 0, resource = 0;

	ok(store_user_add(st, "conn-alice", "h", 1000, &alice) == STORE_OK &&
	    store_user_add(st, "conn-bob", "h", 1000, &bob) == STORE_OK && alice < bob,
	    "connections: two users");
	connections_contract_connections(st, &resource);
	connections_contract_tokens_rows(st, st2, alice, bob);
	connections_contract_states(st, st2, alice);
	connections_contract_remove(st, resource, alice, bob);

	/* Deleting a user takes their tokens (ON DELETE CASCADE). */
	uc = connections_contract_tokens("conn-pub", bob, 1, k, sizeof(k), k, sizeof(k), 5000);
	ok(store_user_connection_put(st, &uc) == STORE_OK, "user deleted: bob at conn-pub");
	ok(delete_user(bob) == 0, "user deleted: bob");
	is_int(store_user_connection_get(st, "conn-pub", bob, &got), STORE_NOTFOUND,
	    "user deleted: his tokens went with him");
	memset(&seen, 0, sizeof(seen));
	ok(store_user_connection_list_user(st, bob, connections_contract_user_row, &seen) ==
		STORE_OK && seen.n == 0, "user deleted: none listed");
	ok(store_user_connection_get(st, "conn-pub", alice, &got) == STORE_OK,
	    "user deleted: another user's stay");
	store_user_connection_clear(&got);

	ok(store_connection_remove(st, "conn-pub") == STORE_OK &&
	    store_resource_remove(st, "https://conn-a.example/mcp") == STORE_OK &&
	    delete_user(alice) == 0, "connections: clean up");
	memset(&seen, 0, sizeof(seen));
	ok(store_user_connection_each(st, connections_contract_user_row, &seen) == STORE_OK &&
	    seen.n == 0, "connections: nothing left");
}

#endif
