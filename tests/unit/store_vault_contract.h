/* The contract of the downstream credential vault (store.h, "the downstream credential
 * vault"): service credentials by version, their rotation and the policy of which MCP
 * server may fetch which. Run against each backend by t_store (SQLite) and t_store_pg:
 * included once by each, on a migrated store (times here are small, so that the rest of
 * what the store holds outlives its purges). */
#ifndef MCP_TESTS_STORE_VAULT_CONTRACT_H
#define MCP_TESTS_STORE_VAULT_CONTRACT_H

#include <stdio.h>
#include <string.h>

#include "store/store.h"
#include "tap.h"

struct vault_contract_seen {
	int n;
	char names[512];
};

/* "name:version" of each row, and whether its blobs came along. */
static int
vault_contract_version(const struct store_credential *c, void *arg)
{
	struct vault_contract_seen *s = arg;
	size_t len = strlen(s->names);

	snprintf(s->names + len, sizeof(s->names) - len, "%s%s:%lld%s", len ? "," : "", c->name,
	    (long long)c->version,
	    c->wrapped_key != NULL && c->wrapped_key_len > 0 && c->secret_enc != NULL &&
		    c->secret_enc_len > 0 ? "" : "(no blobs)");
	s->n++;
	return 0;
}

static int
vault_contract_policy(const char *resource_uri, const char *name, void *arg)
{
	struct vault_contract_seen *s = arg;
	size_t len = strlen(s->names);

	snprintf(s->names + len, sizeof(s->names) - len, "%s%s>%s", len ? "," : "", resource_uri,
	    name);
	s->n++;
	return 0;
}

static int
vault_contract_stop(const struct store_credential *c, void *arg)
{
	(*(int *)arg)++;
	return 42;
}

/* A row as the contract builds them: its blobs say which version they seal. */
static struct store_credential
vault_contract_row(const char *name, int64_t version, unsigned char *key, size_t key_len,
    unsigned char *secret, size_t secret_len, const char *fingerprint, int64_t created_at)
{
	struct store_credential c;

	memset(&c, 0, sizeof(c));
	c.name = MUT(name);
	c.version = version;
	c.wrapped_key = key;
	c.wrapped_key_len = key_len;
	c.secret_enc = secret;
	c.secret_enc_len = secret_len;
	c.fingerprint = MUT(fingerprint);
	c.created_at = created_at;
	return c;
}

static int
vault_contract_blobs(const struct store_credential *c, const unsigned char *key, size_t key_len,
    const unsigned char *secret, size_t secret_len)
{
	return c->wrapped_key != NULL && c->wrapped_key_len == key_len &&
	    memcmp(c->wrapped_key, key, key_len) == 0 && c->secret_enc != NULL &&
	    c->secret_enc_len == secret_len && memcmp(c->secret_enc, secret, secret_len) == 0;
}

/* Versions, rotation, listing, removal, rewrap. */
static void
vault_contract_credentials(struct store *st)
{
	/* NULs and high bytes inside: blobs come back byte for byte. */
	unsigned char k1[] = {0x00, 0x01, 0xff, 0x7f, 0x00, 0x80, 0x42};
	unsigned char s1[] = {0x10, 0x00, 0x00, 0xfe, 0x5c, 0x27, 0x22, 0x00};
	unsigned char k2[] = {0x02, 0x00, 0x02};
	unsigned char s2[] = {0x20, 0x00, 0x20, 0x00};
	unsigned char k3[] = {0x03, 0x33, 0x00, 0x03};
	unsigned char s3[] = {0x30, 0x00};
	unsigned char rk[] = {0xaa, 0x00, 0xbb, 0x00, 0xcc};
	struct store_credential c, got;
	struct vault_contract_seen seen;
	int64_t v = -1, id1 = 0;
	int n;

	/* add, get */
	c = vault_contract_row("vault-api", 7, k1, sizeof(k1), s1, sizeof(s1),
	    "sha256:0123456789abcdef", 1000);
	c.retires_at = 99; /* ignored */
	is_int(store_credential_add(st, &c), STORE_OK, "credential: add");
	ok(store_credential_get(st, "vault-api", &got) == STORE_OK, "credential: get the current");
	id1 = got.id;
	ok(got.id > 0 && strcmp(got.name, "vault-api") == 0 && got.version == 1 &&
	    strcmp(got.fingerprint, "sha256:0123456789abcdef") == 0 && got.created_at == 1000 &&
	    got.retires_at == 0, "credential: version 1 whatever c.version said, current (0)");
	ok(vault_contract_blobs(&got, k1, sizeof(k1), s1, sizeof(s1)),
	    "credential: both sealed blobs byte for byte (NULs included)");
	store_credential_clear(&got);
	ok(got.name == NULL && got.wrapped_key == NULL && got.secret_enc == NULL &&
	    got.wrapped_key_len == 0, "credential: clear leaves nothing behind");
	is_int(store_credential_add(st, &c), STORE_CONFLICT, "credential: a name is taken once");
	is_int(store_credential_get(st, "vault-none", &got), STORE_NOTFOUND,
	    "credential: an unknown name is NOTFOUND");
	is_int(store_credential_get_previous(st, "vault-api", 1000, &got), STORE_NOTFOUND,
	    "credential: no previous version before a rotation");

	/* next version, rotation */
	ok(store_credential_next_version(st, "vault-api", &v) == STORE_OK && v == 2,
	    "rotate: the next version is 2");
	is_int(store_credential_next_version(st, "vault-none", &v), STORE_NOTFOUND,
	    "rotate: no next version of an unknown name");
	is_int(v, 0, "rotate: and *version cleared");
	c = vault_contract_row("vault-none", 2, k2, sizeof(k2), s2, sizeof(s2),
	    "sha256:2222222222222222", 2000);
	is_int(store_credential_rotate(st, &c, 2500, &v), STORE_NOTFOUND,
	    "rotate: an unknown name is NOTFOUND");
	c.name = MUT("vault-api");
	c.version = 3;
	is_int(store_credential_rotate(st, &c, 2500, &v), STORE_CONFLICT,
	    "rotate: sealed for a version that is not the next: CONFLICT");
	c.version = 1;
	is_int(store_credential_rotate(st, &c, 2500, &v), STORE_CONFLICT,
	    "rotate: nor the current one");
	ok(store_credential_get(st, "vault-api", &got) == STORE_OK && got.version == 1 &&
	    got.retires_at == 0, "rotate: a refused rotation changed nothing");
	store_credential_clear(&got);
	c.version = 2;
	ok(store_credential_rotate(st, &c, 2500, &v) == STORE_OK && v == 2,
	    "rotate: to version 2, the first retiring at 2500");
	ok(store_credential_get(st, "vault-api", &got) == STORE_OK && got.version == 2 &&
	    got.retires_at == 0 && got.created_at == 2000 && got.id != id1 &&
	    strcmp(got.fingerprint, "sha256:2222222222222222") == 0 &&
	    vault_contract_blobs(&got, k2, sizeof(k2), s2, sizeof(s2)),
	    "rotate: version 2 is current, with its own blobs");
	store_credential_clear(&got);
	ok(store_credential_get_previous(st, "vault-api", 2000, &got) == STORE_OK &&
	    got.version == 1 && got.retires_at == 2500 && got.id == id1 &&
	    vault_contract_blobs(&got, k1, sizeof(k1), s1, sizeof(s1)),
	    "rotate: version 1 is served beside it until 2500");
	store_credential_clear(&got);
	ok(store_credential_get_previous(st, "vault-api", 2499, &got) == STORE_OK &&
	    got.version == 1, "rotate: still at 2499");
	store_credential_clear(&got);
	is_int(store_credential_get_previous(st, "vault-api", 2500, &got), STORE_NOTFOUND,
	    "rotate: no longer at 2500");
	is_int(store_credential_rotate(st, &c, 2600, &v), STORE_CONFLICT,
	    "rotate: the same version twice (a concurrent rotation): CONFLICT");
	ok(store_credential_next_version(st, "vault-api", &v) == STORE_OK && v == 3,
	    "rotate: the next version is 3");
	c = vault_contract_row("vault-api", 3, k3, sizeof(k3), s3, sizeof(s3),
	    "sha256:3333333333333333", 2100);
	ok(store_credential_rotate(st, &c, 3000, NULL) == STORE_OK,
	    "rotate: again, before version 1 retired (no *version asked for)");
	ok(store_credential_get(st, "vault-api", &got) == STORE_OK && got.version == 3 &&
	    vault_contract_blobs(&got, k3, sizeof(k3), s3, sizeof(s3)),
	    "rotate: version 3 current");
	store_credential_clear(&got);
	ok(store_credential_get_previous(st, "vault-api", 2100, &got) == STORE_OK &&
	    got.version == 2 && got.retires_at == 3000,
	    "rotate: version 2 is the one served beside it now");
	store_credential_clear(&got);
	memset(&seen, 0, sizeof(seen));
	ok(store_credential_each(st, vault_contract_version, &seen) == STORE_OK, "each");
	is_str(seen.names, "vault-api:2,vault-api:3",
	    "rotate: version 1 is deleted: at most two versions exist");

	/* a second credential; listing at a time */
	c = vault_contract_row("vault-db", 1, k1, sizeof(k1), s2, sizeof(s2),
	    "sha256:dddddddddddddddd", 2200);
	is_int(store_credential_add(st, &c), STORE_OK, "list: a second credential");
	c.version = 2;
	c.secret_enc = s3;
	c.secret_enc_len = sizeof(s3);
	ok(store_credential_rotate(st, &c, 2300, &v) == STORE_OK && v == 2,
	    "list: rotated with a short overlap (to 2300)");
	memset(&seen, 0, sizeof(seen));
	ok(store_credential_list(st, 2250, vault_contract_version, &seen) == STORE_OK,
	    "list: at 2250");
	is_str(seen.names, "vault-api:2,vault-api:3,vault-db:1,vault-db:2",
	    "list: every version served, by name then version, with its blobs");
	memset(&seen, 0, sizeof(seen));
	ok(store_credential_list(st, 2300, vault_contract_version, &seen) == STORE_OK,
	    "list: at 2300");
	is_str(seen.names, "vault-api:2,vault-api:3,vault-db:2",
	    "list: a version is not served at its retires_at");
	memset(&seen, 0, sizeof(seen));
	ok(store_credential_list(st, 5000, vault_contract_version, &seen) == STORE_OK,
	    "list: after every overlap");
	is_str(seen.names, "vault-api:3,vault-db:2", "list: the current versions only");
	n = 0;
	is_int(store_credential_list(st, 0, vault_contract_stop, &n), 42,
	    "list: a visitor's non-zero answer stops it and comes back");
	is_int(n, 1, "list: after one row");

	/* rewrap */
	memset(&seen, 0, sizeof(seen));
	ok(store_credential_each(st, vault_contract_version, &seen) == STORE_OK && seen.n == 4,
	    "each: every version, served or not");
	is_str(seen.names, "vault-api:2,vault-api:3,vault-db:1,vault-db:2",
	    "each: by id, with both blobs");
	ok(store_credential_get(st, "vault-db", &got) == STORE_OK, "set_key: the current vault-db");
	is_int(store_credential_set_key(st, got.id, rk, sizeof(rk)), STORE_OK,
	    "set_key: a new wrapped data key");
	store_credential_clear(&got);
	ok(store_credential_get(st, "vault-db", &got) == STORE_OK &&
	    vault_contract_blobs(&got, rk, sizeof(rk), s3, sizeof(s3)),
	    "set_key: the new key kept byte for byte, the secret untouched");
	store_credential_clear(&got);
	is_int(store_credential_set_key(st, 999999999, rk, sizeof(rk)), STORE_NOTFOUND,
	    "set_key: an unknown id is NOTFOUND");
	ok(store_begin(st) == STORE_OK &&
	    store_credential_get(st, "vault-api", &got) == STORE_OK &&
	    store_credential_set_key(st, got.id, rk, 3) == STORE_OK, "set_key: in a transaction");
	store_credential_clear(&got);
	store_rollback(st);
	ok(store_credential_get(st, "vault-api", &got) == STORE_OK &&
	    vault_contract_blobs(&got, k3, sizeof(k3), s3, sizeof(s3)),
	    "set_key: rolled back with it");
	store_credential_clear(&got);

	/* purge: versions past their retires_at */
	{
		struct store_purge_counts pc;

		ok(store_purge(st, 2300, 0, &pc) == STORE_OK && pc.credentials == 0,
		    "purge: nothing at a version's retires_at");
		ok(store_purge(st, 2301, 0, &pc) == STORE_OK && pc.credentials == 1,
		    "purge: vault-db version 1 just after");
		memset(&seen, 0, sizeof(seen));
		ok(store_credential_each(st, vault_contract_version, &seen) == STORE_OK,
		    "purge: each");
		is_str(seen.names, "vault-api:2,vault-api:3,vault-db:2",
		    "purge: the others stay, current versions always");
		ok(store_purge(st, 3001, 0, &pc) == STORE_OK && pc.credentials == 1,
		    "purge: after 3000, vault-api version 2");
		memset(&seen, 0, sizeof(seen));
		ok(store_credential_each(st, vault_contract_version, &seen) == STORE_OK &&
		    seen.n == 2, "purge: each");
		is_str(seen.names, "vault-api:3,vault-db:2",
		    "purge: the current versions are kept");
		ok(store_credential_next_version(st, "vault-db", &v) == STORE_OK && v == 3,
		    "purge: numbering goes on");
	}

	/* remove, in its own transaction and in the caller's */
	ok(store_credential_remove(st, "vault-api") == STORE_OK, "remove");
	is_int(store_credential_get(st, "vault-api", &got), STORE_NOTFOUND, "remove: gone");
	is_int(store_credential_next_version(st, "vault-api", &v), STORE_NOTFOUND,
	    "remove: no next version");
	is_int(store_credential_remove(st, "vault-api"), STORE_NOTFOUND, "remove: again NOTFOUND");
	ok(store_begin(st) == STORE_OK && store_credential_remove(st, "vault-db") == STORE_OK,
	    "remove: inside the caller's transaction");
	store_rollback(st);
	ok(store_credential_get(st, "vault-db", &got) == STORE_OK && got.version == 2,
	    "remove: rolled back with it");
	store_credential_clear(&got);
	c = vault_contract_row("vault-api", 1, k1, sizeof(k1), s1, sizeof(s1),
	    "sha256:0123456789abcdef", 4000);
	ok(store_credential_add(st, &c) == STORE_OK, "remove: the name can be added again");
	ok(store_credential_get(st, "vault-api", &got) == STORE_OK && got.version == 1 &&
	    got.created_at == 4000, "remove: from version 1");
	store_credential_clear(&got);
	ok(store_begin(st) == STORE_OK, "rotate: inside the caller's transaction");
	c.version = 2;
	c.created_at = 4100;
	ok(store_credential_rotate(st, &c, 4200, &v) == STORE_OK && v == 2 &&
	    store_commit(st) == STORE_OK, "rotate: committed with it");
	ok(store_credential_get(st, "vault-api", &got) == STORE_OK && got.version == 2 &&
	    got.created_at == 4100, "rotate: version 2 after the commit");
	store_credential_clear(&got);
}

/* Which MCP server may fetch which credential. */
static void
vault_contract_policy_rows(struct store *st)
{
	unsigned char k[] = {0x01, 0x00, 0x01};
	struct store_credential c;
	struct store_resource r;
	struct vault_contract_seen seen;
	int64_t ra = 0, rb = 0;

	memset(&r, 0, sizeof(r));
	r.uri = MUT("https://vault-a.example/mcp");
	r.uri_key = MUT("https://vault-a.example/mcp");
	r.name = MUT("Vault A");
	r.scopes = MUT("read");
	ok(store_resource_add(st, &r, &ra) == STORE_OK, "policy: resource A");
	r.uri = MUT("https://vault-b.example/mcp");
	r.uri_key = MUT("https://vault-b.example/mcp");
	r.name = MUT("Vault B");
	ok(store_resource_add(st, &r, &rb) == STORE_OK, "policy: resource B");
	c = vault_contract_row("vault-gh", 1, k, sizeof(k), k, sizeof(k), "sha256:1111111111111111",
	    5000);
	ok(store_credential_add(st, &c) == STORE_OK, "policy: a credential vault-gh");
	c.name = MUT("vault-jira");
	ok(store_credential_add(st, &c) == STORE_OK, "policy: and vault-jira");

	is_int(store_resource_credential_allowed(st, ra, "vault-gh"), STORE_NOTFOUND,
	    "policy: nothing allowed at first");
	is_int(store_resource_credential_allow(st, ra, "vault-gh", 5000), STORE_OK,
	    "policy: allow");
	is_int(store_resource_credential_allow(st, ra, "vault-gh", 5001), STORE_OK,
	    "policy: allow again (idempotent)");
	is_int(store_resource_credential_allowed(st, ra, "vault-gh"), STORE_OK, "policy: allowed");
	is_int(store_resource_credential_allowed(st, rb, "vault-gh"), STORE_NOTFOUND,
	    "policy: not for another resource");
	is_int(store_resource_credential_allowed(st, ra, "vault-jira"), STORE_NOTFOUND,
	    "policy: nor another credential");
	is_int(store_resource_credential_allow(st, ra, "vault-nothing", 5000), STORE_NOTFOUND,
	    "policy: a name no credential has is NOTFOUND");
	is_int(store_resource_credential_allowed(st, ra, "vault-nothing"), STORE_NOTFOUND,
	    "policy: and nothing was allowed");
	ok(store_resource_credential_allow(st, ra, "vault-jira", 5002) == STORE_OK &&
	    store_resource_credential_allow(st, rb, "vault-gh", 5003) == STORE_OK,
	    "policy: two more rows");
	memset(&seen, 0, sizeof(seen));
	ok(store_resource_credential_list(st, vault_contract_policy, &seen) == STORE_OK &&
	    seen.n == 3, "policy: list");
	is_str(seen.names,
	    "https://vault-a.example/mcp>vault-gh,https://vault-a.example/mcp>vault-jira,"
	    "https://vault-b.example/mcp>vault-gh",
	    "policy: listed by resource URI, then name");

	/* a new version keeps the policy; removing the credential drops it */
	c.name = MUT("vault-gh");
	c.version = 2;
	ok(store_credential_rotate(st, &c, 5100, NULL) == STORE_OK &&
	    store_resource_credential_allowed(st, ra, "vault-gh") == STORE_OK,
	    "policy: kept through a rotation");
	ok(store_credential_remove(st, "vault-gh") == STORE_OK, "policy: remove vault-gh");
	is_int(store_resource_credential_allowed(st, ra, "vault-gh"), STORE_NOTFOUND,
	    "policy: its rows went with it (A)");
	is_int(store_resource_credential_allowed(st, rb, "vault-gh"), STORE_NOTFOUND,
	    "policy: (B)");
	c.version = 1;
	ok(store_credential_add(st, &c) == STORE_OK &&
	    store_resource_credential_allowed(st, ra, "vault-gh") == STORE_NOTFOUND,
	    "policy: a credential added again under the name inherits nothing");
	memset(&seen, 0, sizeof(seen));
	ok(store_resource_credential_list(st, vault_contract_policy, &seen) == STORE_OK, "list");
	is_str(seen.names, "https://vault-a.example/mcp>vault-jira", "policy: the other row stays");

	/* removing the resource drops its rows (ON DELETE CASCADE) */
	ok(store_resource_credential_allow(st, rb, "vault-jira", 5200) == STORE_OK,
	    "policy: vault-jira for B too");
	ok(store_resource_remove(st, "https://vault-a.example/mcp") == STORE_OK,
	    "policy: resource A removed");
	memset(&seen, 0, sizeof(seen));
	ok(store_resource_credential_list(st, vault_contract_policy, &seen) == STORE_OK, "list");
	is_str(seen.names, "https://vault-b.example/mcp>vault-jira",
	    "policy: A's rows went with it, B's stay");
	ok(store_credential_get(st, "vault-jira", &c) == STORE_OK, "policy: the credential stays");
	store_credential_clear(&c);

	ok(store_resource_remove(st, "https://vault-b.example/mcp") == STORE_OK &&
	    store_credential_remove(st, "vault-jira") == STORE_OK &&
	    store_credential_remove(st, "vault-gh") == STORE_OK, "policy: clean up");
}

static void
vault_contract(struct store *st)
{
	vault_contract_credentials(st);
	vault_contract_policy_rows(st);
	/* What the contract leaves: vault-api (versions 1 and 2), vault-db (version 2). */
	ok(store_credential_remove(st, "vault-api") == STORE_OK &&
	    store_credential_remove(st, "vault-db") == STORE_OK, "vault: clean up");
}

#endif
