/* The contract of the upstream identity provider rows (store.h, "upstream identity
 * providers"), with what came with ID-JAG issuers: clients that authenticate with a key
 * and the replay cache of assertions. Run against each backend by t_store (SQLite) and
 * t_store_pg: included once by each, on a migrated, otherwise empty store. */
#ifndef MCP_TESTS_STORE_IDP_CONTRACT_H
#define MCP_TESTS_STORE_IDP_CONTRACT_H

#include <string.h>

#include "store/store.h"
#include "tap.h"

struct idp_contract_seen {
	int n;
	char names[256];
};

static int
idp_contract_name(const struct store_idp *p, void *arg)
{
	struct idp_contract_seen *s = arg;
	size_t len = strlen(s->names);

	snprintf(s->names + len, sizeof(s->names) - len, "%s%s", len ? "," : "", p->name);
	s->n++;
	return 0;
}

static int
idp_contract_map(const char *idp, const char *group, const char *resource_uri,
    const char *scopes, void *arg)
{
	struct idp_contract_seen *s = arg;
	size_t len = strlen(s->names);

	snprintf(s->names + len, sizeof(s->names) - len, "%s%s/%s>%s[%s]", len ? "," : "", idp,
	    group, resource_uri, scopes ? scopes : "*");
	s->n++;
	return 0;
}

/* Every column of the ID-JAG issuer "jag" as idp_contract_jag adds it. */
static int
idp_contract_is_jag(const struct store_idp *p)
{
	return strcmp(p->name, "jag") == 0 && strcmp(p->issuer, "https://jag.example") == 0 &&
	    strcmp(p->client_id, "") == 0 && p->client_secret_enc == NULL &&
	    p->jwks_uri != NULL && strcmp(p->jwks_uri, "https://jag.example/jwks") == 0 &&
	    p->jwks != NULL && strcmp(p->jwks, "{\"keys\":[]}") == 0 && p->id_jag == 1 &&
	    p->id_jag_clients != NULL && strcmp(p->id_jag_clients, "app1 app2") == 0 &&
	    p->created_at == 2000;
}

static int
idp_contract_jag_listed(const struct store_idp *p, void *arg)
{
	struct idp_contract_seen *s = arg;

	if (idp_contract_is_jag(p))
		s->n++;
	else if (strcmp(p->name, "jag") == 0)
		s->n = -1000; /* listed, but a column differs */
	return 0;
}

/* ID-JAG issuers: the columns of version 6, and the lookup by issuer. */
static void
idp_contract_jag(struct store *st)
{
	struct store_idp p, got;
	struct idp_contract_seen seen;
	int64_t id, id2, id3;

	memset(&p, 0, sizeof(p));
	p.name = MUT("jag");
	p.issuer = MUT("https://jag.example");
	p.client_id = MUT(""); /* an ID-JAG issuer only: not offered for sign-in */
	p.display_name = MUT("Jag");
	p.scopes = MUT("openid");
	p.claim_user = MUT("sub");
	p.claim_email = MUT("email");
	p.claim_groups = MUT("groups");
	p.jwks_uri = MUT("https://jag.example/jwks");
	p.jwks = MUT("{\"keys\":[]}");
	p.id_jag = 1;
	p.id_jag_clients = MUT("app1 app2");
	p.created_at = 2000;
	ok(store_idp_add(st, &p, &id) == STORE_OK && id > 0, "id-jag: an issuer");
	ok(store_idp_get(st, "jag", &got) == STORE_OK && got.id == id && idp_contract_is_jag(&got),
	    "id-jag: every new column read back, client_id \"\" kept");
	store_idp_clear(&got);
	memset(&seen, 0, sizeof(seen));
	ok(store_idp_list(st, idp_contract_jag_listed, &seen) == STORE_OK && seen.n == 1,
	    "id-jag: listed with every column");
	p.name = MUT("jag-later");
	p.jwks_uri = NULL;
	p.jwks = NULL;
	p.id_jag_clients = NULL;
	ok(store_idp_add(st, &p, &id2) == STORE_OK, "id-jag: a second one for the same issuer");
	p.name = MUT("signin-only");
	p.issuer = MUT("https://signin.example");
	p.client_id = MUT("authd");
	p.id_jag = 0;
	ok(store_idp_add(st, &p, &id3) == STORE_OK, "id-jag: a provider without id_jag");
	ok(store_idp_get(st, "signin-only", &got) == STORE_OK && got.id_jag == 0 &&
	    got.jwks_uri == NULL && got.jwks == NULL && got.id_jag_clients == NULL,
	    "id-jag: unset columns read back as 0 and NULL");
	store_idp_clear(&got);
	ok(store_idp_get_id_jag(st, "https://jag.example", &got) == STORE_OK && got.id == id &&
	    idp_contract_is_jag(&got), "id-jag: found by its issuer, the one added first");
	store_idp_clear(&got);
	is_int(store_idp_get_id_jag(st, "https://jag.example/", &got), STORE_NOTFOUND,
	    "id-jag: the issuer must match exactly");
	is_int(store_idp_get_id_jag(st, "https://other.example", &got), STORE_NOTFOUND,
	    "id-jag: another issuer is NOTFOUND");
	is_int(store_idp_get_id_jag(st, "https://signin.example", &got), STORE_NOTFOUND,
	    "id-jag: a provider without id_jag is not an ID-JAG issuer");
	ok(store_idp_remove(st, "jag", 2100) == STORE_OK, "id-jag: remove the first");
	ok(store_idp_get_id_jag(st, "https://jag.example", &got) == STORE_OK && got.id == id2 &&
	    strcmp(got.name, "jag-later") == 0 && got.jwks_uri == NULL &&
	    got.id_jag_clients == NULL, "id-jag: then the second is found (NULL: any client)");
	store_idp_clear(&got);
	ok(store_idp_remove(st, "jag-later", 2100) == STORE_OK &&
	    store_idp_remove(st, "signin-only", 2100) == STORE_OK, "id-jag: remove the others");
}

/* Clients that authenticate with a key (private_key_jwt): a JWKS or where to fetch one. */
static void
idp_contract_key_clients(struct store *st)
{
	static const char jwks[] = "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
				   "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}]}";
	struct store_client c, got;
	int64_t cid, cid2;

	memset(&c, 0, sizeof(c));
	c.client_id = MUT("pkj-inline");
	c.name = MUT("Key client");
	c.confidential = 1;
	c.auth_method = MUT("private_key_jwt");
	c.grant_types = MUT("client_credentials");
	c.jwks = MUT(jwks);
	c.created_at = 3000;
	ok(store_client_add(st, &c, &cid) == STORE_OK, "key client: with a JWKS");
	c.client_id = MUT("pkj-uri");
	c.jwks = NULL;
	c.jwks_uri = MUT("https://keys.app.example/jwks.json");
	ok(store_client_add(st, &c, &cid2) == STORE_OK, "key client: with a jwks_uri");
	ok(store_client_get(st, "pkj-inline", &got) == STORE_OK && got.id == cid &&
	    got.confidential == 1 && strcmp(got.auth_method, "private_key_jwt") == 0 &&
	    got.secret_hash == NULL && got.jwks != NULL && strcmp(got.jwks, jwks) == 0 &&
	    got.jwks_uri == NULL, "key client: get reads the JWKS back, no secret");
	store_client_clear(&got);
	ok(store_client_get_lite(st, "pkj-inline", &got) == STORE_OK && got.jwks != NULL &&
	    strcmp(got.jwks, jwks) == 0 && got.jwks_uri == NULL, "key client: so does get_lite");
	store_client_clear(&got);
	ok(store_client_get(st, "pkj-uri", &got) == STORE_OK && got.id == cid2 &&
	    got.jwks == NULL && got.jwks_uri != NULL &&
	    strcmp(got.jwks_uri, "https://keys.app.example/jwks.json") == 0,
	    "key client: get reads the jwks_uri back");
	store_client_clear(&got);
	ok(store_client_get_lite(st, "pkj-uri", &got) == STORE_OK && got.jwks == NULL &&
	    got.jwks_uri != NULL && strcmp(got.jwks_uri, "https://keys.app.example/jwks.json") == 0,
	    "key client: so does get_lite");
	store_client_clear(&got);
	ok(store_client_remove(st, "pkj-inline") == STORE_OK &&
	    store_client_remove(st, "pkj-uri") == STORE_OK, "key client: removed");
}

/* The replay cache: an assertion is used once until it expires. */
static void
idp_contract_jti_use(struct store *st)
{
	unsigned char a[32], b[32];
	struct store_purge_counts pc;

	memset(a, 0x61, sizeof(a));
	memset(b, 0x62, sizeof(b));
	is_int(store_jti_use(st, a, 1500, 1000), STORE_OK, "jti use: the first time");
	is_int(store_jti_use(st, a, 1500, 1000), STORE_CONFLICT, "jti use: the second is a replay");
	is_int(store_jti_use(st, a, 1600, 1500), STORE_CONFLICT,
	    "jti use: still a replay at its expiry");
	is_int(store_jti_use(st, b, 1500, 1000), STORE_OK, "jti use: another key");
	is_int(store_jti_use(st, a, 2500, 1501), STORE_OK,
	    "jti use: an expired record counts as unused");
	is_int(store_jti_use(st, a, 2500, 1501), STORE_CONFLICT,
	    "jti use: and the new record holds");
	is_int(store_jti_use(st, a, 2500, 2400), STORE_CONFLICT,
	    "jti use: until the new expiry");
	ok(store_purge(st, 1600, 0, &pc) == STORE_OK && pc.used_jtis == 1,
	    "jti use: purge drops the expired record");
	is_int(store_jti_use(st, a, 2500, 1600), STORE_CONFLICT, "jti use: and keeps the live one");
	is_int(store_jti_use(st, b, 3000, 1600), STORE_OK,
	    "jti use: the purged key is used again with a fresh expiry");
	is_int(store_jti_use(st, b, 3000, 1600), STORE_CONFLICT, "jti use: once");
}

static void
idp_contract(struct store *st)
{
	unsigned char sealed[] = {0x01, 0x00, 0xff, 0x7f, 0x00, 0x42};
	unsigned char resealed[] = {0x02, 0x00, 0x01};
	unsigned char h[32], h2[32];
	struct store_idp p, got;
	struct store_user u;
	struct store_resource r;
	struct store_client c;
	struct store_family f;
	struct store_refresh rf;
	struct idp_contract_seen seen;
	int64_t id, id2, rid, cid, uid, uid2, local;

	/* providers */
	memset(&p, 0, sizeof(p));
	p.name = MUT("corp");
	p.issuer = MUT("https://idp.corp.example");
	p.client_id = MUT("authd");
	p.client_secret_enc = sealed;
	p.client_secret_enc_len = sizeof(sealed);
	p.display_name = MUT("Corp SSO");
	p.scopes = MUT("openid email profile");
	p.claim_user = MUT("sub");
	p.claim_email = MUT("email");
	p.claim_groups = MUT("groups");
	p.allowed_groups = MUT("eng ops");
	p.jit = 1;
	p.link_verified_email = 1;
	p.allow_private = 0;
	p.created_at = 1000;
	ok(store_idp_add(st, &p, &id) == STORE_OK && id > 0, "idp: add");
	is_int(store_idp_add(st, &p, NULL), STORE_CONFLICT, "idp: a name is taken once");
	p.name = MUT("other");
	p.client_secret_enc = NULL;
	p.client_secret_enc_len = 0;
	p.allowed_groups = NULL;
	p.jit = 0;
	ok(store_idp_add(st, &p, &id2) == STORE_OK && id2 != id, "idp: a second one, no secret");
	ok(store_idp_get(st, "corp", &got) == STORE_OK, "idp: get");
	ok(got.id == id && strcmp(got.issuer, "https://idp.corp.example") == 0 &&
	    strcmp(got.display_name, "Corp SSO") == 0 && strcmp(got.allowed_groups, "eng ops") == 0 &&
	    got.jit == 1 && got.link_verified_email == 1 && got.allow_private == 0 &&
	    got.created_at == 1000 && got.id_jag == 0 && got.jwks_uri == NULL && got.jwks == NULL &&
	    got.id_jag_clients == NULL, "idp: every column read back");
	ok(got.client_secret_enc_len == sizeof(sealed) &&
	    memcmp(got.client_secret_enc, sealed, sizeof(sealed)) == 0,
	    "idp: the sealed secret comes back byte for byte (NULs included)");
	store_idp_clear(&got);
	ok(store_idp_get(st, "other", &got) == STORE_OK && got.client_secret_enc == NULL &&
	    got.allowed_groups == NULL, "idp: no secret and no group filter read as NULL");
	store_idp_clear(&got);
	is_int(store_idp_get(st, "nobody", &got), STORE_NOTFOUND, "idp: unknown is NOTFOUND");
	memset(&seen, 0, sizeof(seen));
	ok(store_idp_list(st, idp_contract_name, &seen) == STORE_OK, "idp: list");
	is_str(seen.names, "corp,other", "idp: listed by name");
	ok(store_idp_set_secret(st, id, resealed, sizeof(resealed)) == STORE_OK,
	    "idp: replace the sealed secret");
	ok(store_idp_get(st, "corp", &got) == STORE_OK && got.client_secret_enc_len == 3 &&
	    memcmp(got.client_secret_enc, resealed, 3) == 0, "idp: the new one is kept");
	store_idp_clear(&got);
	is_int(store_idp_set_secret(st, 999999, resealed, 3), STORE_NOTFOUND,
	    "idp: replacing the secret of an unknown provider is NOTFOUND");

	/* group mappings */
	memset(&r, 0, sizeof(r));
	r.uri = MUT("https://idp-contract.example/mcp");
	r.uri_key = MUT("https://idp-contract.example/mcp");
	r.name = MUT("Contract");
	r.scopes = MUT("a b");
	ok(store_resource_add(st, &r, &rid) == STORE_OK, "idp: a resource to map to");
	ok(store_idp_map_put(st, id, "eng", rid, "a", 5) == STORE_OK, "map: add");
	ok(store_idp_map_put(st, id, "eng", rid, NULL, 6) == STORE_OK, "map: put again replaces");
	ok(store_idp_map_put(st, id, "ops", rid, "b", 7) == STORE_OK, "map: another group");
	ok(store_idp_map_put(st, id2, "eng", rid, "a", 8) == STORE_OK, "map: another provider");
	memset(&seen, 0, sizeof(seen));
	ok(store_idp_map_list(st, id, idp_contract_map, &seen) == STORE_OK && seen.n == 2,
	    "map: one provider's");
	is_str(seen.names, "corp/eng>https://idp-contract.example/mcp[*],"
			   "corp/ops>https://idp-contract.example/mcp[b]",
	    "map: by group, NULL scopes for every scope");
	memset(&seen, 0, sizeof(seen));
	ok(store_idp_map_list(st, 0, idp_contract_map, &seen) == STORE_OK && seen.n == 3,
	    "map: every provider's");
	ok(store_idp_map_remove(st, id, "ops", rid) == STORE_OK, "map: remove");
	is_int(store_idp_map_remove(st, id, "ops", rid), STORE_NOTFOUND, "map: remove again");

	/* federated users */
	ok(store_user_add_federated(st, "erin", "corp", "00u1", 50, &uid) == STORE_OK && uid > 0,
	    "user: a federated user");
	is_int(store_user_add_federated(st, "erin2", "corp", "00u1", 50, NULL), STORE_CONFLICT,
	    "user: one user per (provider, subject)");
	ok(store_user_add_federated(st, "erin3", "other", "00u1", 50, &uid2) == STORE_OK,
	    "user: the same subject at another provider is another user");
	is_int(store_user_add_federated(st, "erin", "other", "x", 50, NULL), STORE_CONFLICT,
	    "user: names stay unique");
	ok(store_user_add(st, "frank", "$argon2id$local", 50, &local) == STORE_OK,
	    "user: a local one beside them");
	ok(store_user_get_by_idp(st, "corp", "00u1", &u) == STORE_OK && u.id == uid &&
	    strcmp(u.name, "erin") == 0 && strcmp(u.password_hash, STORE_NO_PASSWORD) == 0 &&
	    strcmp(u.idp, "corp") == 0 && strcmp(u.idp_sub, "00u1") == 0 && u.email == NULL,
	    "user: found by (provider, subject), with no password");
	store_user_clear(&u);
	is_int(store_user_get_by_idp(st, "corp", "00u2", &u), STORE_NOTFOUND,
	    "user: an unknown subject is NOTFOUND");
	ok(store_user_set_idp_claims(st, uid, "erin@corp.example", "eng ops") == STORE_OK,
	    "user: record the last login's claims");
	ok(store_user_get(st, uid, &u) == STORE_OK && strcmp(u.email, "erin@corp.example") == 0 &&
	    strcmp(u.idp_groups, "eng ops") == 0, "user: read back");
	store_user_clear(&u);
	ok(store_user_get(st, local, &u) == STORE_OK && u.idp == NULL && u.idp_sub == NULL,
	    "user: a local user has no provider");
	store_user_clear(&u);

	/* removing a provider ends its users' refresh families */
	memset(&c, 0, sizeof(c));
	c.client_id = MUT("idp-contract-client");
	c.name = MUT("Contract client");
	c.auth_method = MUT("none");
	c.grant_types = MUT("authorization_code refresh_token");
	c.created_at = 1;
	ok(store_client_add(st, &c, &cid) == STORE_OK, "remove: a client");
	memset(&f, 0, sizeof(f));
	f.family_id = MUT("fam-erin");
	f.client = cid;
	f.user_id = uid;
	f.resources = MUT("https://idp-contract.example/mcp");
	f.scope = MUT("a");
	f.auth_time = 100;
	f.created_at = 100;
	f.expires_at = 100000;
	ok(store_family_add(st, &f) == STORE_OK, "remove: erin's family");
	f.family_id = MUT("fam-frank");
	f.user_id = local;
	ok(store_family_add(st, &f) == STORE_OK, "remove: frank's family");
	memset(h, 0x5a, sizeof(h));
	ok(store_refresh_add(st, h, "fam-erin", "a", 100, 100000, "jti-erin", 5000) == STORE_OK,
	    "remove: erin's refresh token and access token");
	memset(h2, 0xa5, sizeof(h2));
	ok(store_refresh_add(st, h2, "fam-frank", "a", 100, 100000, "jti-frank", 5000) == STORE_OK,
	    "remove: frank's");
	is_int(store_idp_remove(st, "nobody", 200), STORE_NOTFOUND, "remove: unknown provider");
	ok(store_begin(st) == STORE_OK && store_idp_remove(st, "corp", 200) == STORE_OK &&
	    store_commit(st) == STORE_OK, "remove: corp");
	is_int(store_idp_get(st, "corp", &got), STORE_NOTFOUND, "remove: it is gone");
	memset(&seen, 0, sizeof(seen));
	ok(store_idp_map_list(st, 0, idp_contract_map, &seen) == STORE_OK && seen.n == 1,
	    "remove: its mappings went with it, the other provider's stay");
	ok(store_refresh_get(st, h, &rf) == STORE_OK && rf.family.revoked_at == 200,
	    "remove: erin's family is revoked");
	store_refresh_clear(&rf);
	is_int(store_jti_revoked(st, "jti-erin"), STORE_OK,
	    "remove: her live access token is denied");
	ok(store_user_get_by_idp(st, "corp", "00u1", &u) == STORE_OK,
	    "remove: the user stays (adding the provider again finds her)");
	store_user_clear(&u);
	ok(store_refresh_get(st, h2, &rf) == STORE_OK && rf.family.revoked_at == 0,
	    "remove: a local user's family is untouched");
	store_refresh_clear(&rf);
	is_int(store_jti_revoked(st, "jti-frank"), STORE_NOTFOUND, "remove: and so is his token");
	ok(store_idp_remove(st, "other", 300) == STORE_OK, "remove: the other provider");

	/* sign-ins in progress: taken once, on whichever connection */
	{
		struct store_upstream_login l, got_l;
		struct store_purge_counts pc;
		unsigned char state[32], state2[32];

		memset(&l, 0, sizeof(l));
		memset(state, 0x11, sizeof(state));
		memset(state2, 0x22, sizeof(state2));
		memset(l.browser_hash, 0x33, sizeof(l.browser_hash));
		l.idp = MUT("corp");
		l.nonce = MUT("n0nce");
		l.code_verifier = MUT("verifier-43-characters-long-abcdefghijklmno");
		l.authorize_query = MUT("response_type=code&client_id=app&state=xyz");
		l.created_at = 1000;
		l.expires_at = 1600;
		ok(store_upstream_login_add(st, state, &l) == STORE_OK, "sign-in: kept");
		is_int(store_upstream_login_add(st, state, &l), STORE_CONFLICT,
		    "sign-in: a state is kept once");
		l.expires_at = 900;
		ok(store_upstream_login_add(st, state2, &l) == STORE_OK, "sign-in: an expired one");
		ok(store_upstream_login_take(st, state, &got_l) == STORE_OK &&
		    strcmp(got_l.idp, "corp") == 0 && strcmp(got_l.nonce, "n0nce") == 0 &&
		    strcmp(got_l.code_verifier, l.code_verifier) == 0 &&
		    strcmp(got_l.authorize_query, l.authorize_query) == 0 &&
		    memcmp(got_l.browser_hash, l.browser_hash, 32) == 0 && got_l.created_at == 1000 &&
		    got_l.expires_at == 1600, "sign-in: taken, every column back");
		store_upstream_login_clear(&got_l);
		is_int(store_upstream_login_take(st, state, &got_l), STORE_NOTFOUND,
		    "sign-in: a state taken once is gone (no replay)");
		ok(store_purge(st, 1000, 0, &pc) == STORE_OK && pc.upstream_logins == 1,
		    "sign-in: purge drops the expired one");
		is_int(store_upstream_login_take(st, state2, &got_l), STORE_NOTFOUND,
		    "sign-in: and it is gone");
	}

	idp_contract_jag(st);
	idp_contract_key_clients(st);
	idp_contract_jti_use(st);
}

#endif
