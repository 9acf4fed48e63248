/* Upstream identity providers: what a registration may hold, and client secrets sealed
 * under the master key (bound to the provider, moved by a rewrap). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/hmac.h>

#include "jose/b64url.h"
#include "jose/jwk.h"
#include "jose/jws.h"
#include "oauth/upstream.h"
#include "tap.h"

#define NOW 1800000000
#define IDP "https://idp.example/tenant"

static void
names(void)
{
	ok(upstream_name_ok("corp") && upstream_name_ok("entra-id") && upstream_name_ok("0kta"),
	    "lower-case letters, digits and '-'");
	ok(upstream_name_ok("abcdefghijabcdefghijabcdefghij12"), "32 characters");
	ok(!upstream_name_ok("abcdefghijabcdefghijabcdefghij123"), "33 are too many");
	ok(!upstream_name_ok(""), "empty refused");
	ok(!upstream_name_ok("-corp"), "a leading '-' refused");
	ok(!upstream_name_ok("Corp") && !upstream_name_ok("co rp") && !upstream_name_ok("co/rp") &&
	    !upstream_name_ok("co.rp") && !upstream_name_ok("c%2f"),
	    "upper case, spaces, slashes, dots and escapes refused (the name is a path segment)");
	ok(upstream_claim_name_ok("groups") && upstream_claim_name_ok("https://example.com/roles"),
	    "claim names: plain and namespaced");
	ok(!upstream_claim_name_ok("") && !upstream_claim_name_ok("two words") &&
	    !upstream_claim_name_ok("t\xc3\xa9"), "claim names: empty, spaces, non-ASCII refused");
}

static void
secrets(void)
{
	struct master_key mk, mk2;
	unsigned char *blob = NULL, *other = NULL;
	size_t len = 0, olen = 0;
	char *secret = NULL;

	ok(master_key_ephemeral(&mk) == 0 && master_key_ephemeral(&mk2) == 0, "two master keys");
	ok(upstream_secret_seal(&mk, "corp", "s3cr3t value", &blob, &len) == 0 && len > 12,
	    "seal");
	ok(memmem(blob, len, "s3cr3t", 6) == NULL, "the blob does not hold the secret");
	ok(upstream_secret_open(&mk, "corp", blob, len, &secret) == 0, "open");
	is_str(secret, "s3cr3t value", "the secret comes back");
	OPENSSL_clear_free(secret, strlen(secret));
	secret = NULL;
	ok(upstream_secret_open(&mk, "other", blob, len, &secret) != 0 && secret == NULL,
	    "a blob moved to another provider does not open");
	ok(upstream_secret_open(&mk2, "corp", blob, len, &secret) != 0,
	    "another master key does not open it");
	blob[len - 1] ^= 1;
	ok(upstream_secret_open(&mk, "corp", blob, len, &secret) != 0, "a flipped bit: refused");
	blob[len - 1] ^= 1;
	ok(upstream_secret_open(&mk, "corp", blob, 10, &secret) != 0, "a cut blob: refused");
	ok(upstream_secret_seal(&mk, "corp", "s3cr3t value", &other, &olen) == 0 && olen == len &&
	    memcmp(blob, other, len) != 0, "sealing twice gives two blobs (a fresh nonce)");
	free(other);
	other = NULL;
	ok(upstream_secret_seal(&mk, "corp", "", &other, &olen) != 0 || (free(other), 0),
	    "an empty secret is not sealed");
	free(blob);
	master_key_wipe(&mk);
	master_key_wipe(&mk2);
}

/* A rewrap moves every provider's secret to the new key, in the caller's transaction. */
static void
rewrap(void)
{
	struct store_options opt = {.synchronous = "NORMAL", .create = 1};
	struct master_key mk, mk2;
	struct store *st = NULL;
	struct store_idp p, got;
	char *path = store_memory_path_new(), *secret = NULL;
	int count = -1;

	ok(master_key_ephemeral(&mk) == 0 && master_key_ephemeral(&mk2) == 0, "rewrap: two keys");
	ok(store_open(path, &opt, &st) == STORE_OK && store_migrate(st, NULL) == STORE_OK,
	    "rewrap: a store");
	memset(&p, 0, sizeof(p));
	p.issuer = MUT("https://idp.example");
	p.client_id = MUT("authd");
	p.display_name = MUT("IdP");
	p.scopes = MUT("openid");
	p.claim_user = MUT("sub");
	p.claim_email = MUT("email");
	p.claim_groups = MUT("groups");
	p.name = MUT("with-secret");
	ok(upstream_secret_seal(&mk, "with-secret", "top secret", &p.client_secret_enc,
	    &p.client_secret_enc_len) == 0 && store_idp_add(st, &p, NULL) == STORE_OK,
	    "rewrap: a provider with a sealed secret");
	free(p.client_secret_enc);
	p.client_secret_enc = NULL;
	p.client_secret_enc_len = 0;
	p.name = MUT("without");
	ok(store_idp_add(st, &p, NULL) == STORE_OK, "rewrap: and one without");
	ok(store_begin(st) == STORE_OK, "rewrap: begin");
	ok(upstream_secret_rewrap_within(st, &mk2, &mk, &count) != 0,
	    "rewrap: the wrong current key fails");
	store_rollback(st);
	ok(store_begin(st) == STORE_OK &&
	    upstream_secret_rewrap_within(st, &mk, &mk2, &count) == 0 && count == 1 &&
	    store_commit(st) == STORE_OK, "rewrap: one secret re-sealed");
	ok(store_idp_get(st, "with-secret", &got) == STORE_OK, "rewrap: read back");
	ok(upstream_secret_open(&mk, got.name, got.client_secret_enc, got.client_secret_enc_len,
	    &secret) != 0, "rewrap: the old key no longer opens it");
	ok(upstream_secret_open(&mk2, got.name, got.client_secret_enc, got.client_secret_enc_len,
	    &secret) == 0, "rewrap: the new one does");
	is_str(secret, "top secret", "rewrap: the same secret");
	if (secret != NULL)
		OPENSSL_clear_free(secret, strlen(secret));
	store_idp_clear(&got);
	store_close(st);
	free(path);
	master_key_wipe(&mk);
	master_key_wipe(&mk2);
}


/* ---- ID tokens ---- */

static EVP_PKEY *rsa, *ec, *ed, *rogue;

static char *
mint(EVP_PKEY *key, const char *kid, const char *payload)
{
	char *out = NULL;

	if (jws_sign_new(key, kid, "JWT", payload, strlen(payload), &out) != 0)
		return NULL;
	return out;
}

/* Claims of a good ID token, with one member replaced or dropped ("name": null). */
static char *
claims_with(const char *member, json_t *value)
{
	json_t *c = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s}", "iss", IDP, "sub", "00u1",
	    "aud", "authd", "exp", (json_int_t)NOW + 300, "iat", (json_int_t)NOW - 5, "nonce",
	    "n-0S6_WzA2Mj", "email", "carol@corp.example");
	char *text;

	if (member != NULL) {
		if (value == NULL)
			json_object_del(c, member);
		else
			json_object_set_new(c, member, value);
	}
	text = json_dumps(c, JSON_COMPACT);
	json_decref(c);
	return text;
}

static json_t *
jwks_of(EVP_PKEY *a, const char *kid_a, EVP_PKEY *b, const char *kid_b, const char *use_b)
{
	json_t *keys = json_array(), *k;

	if (a != NULL && jwk_public_to_json(a, &k) == 0) {
		if (kid_a != NULL)
			json_object_set_new(k, "kid", json_string(kid_a));
		json_array_append_new(keys, k);
	}
	if (b != NULL && jwk_public_to_json(b, &k) == 0) {
		if (kid_b != NULL)
			json_object_set_new(k, "kid", json_string(kid_b));
		if (use_b != NULL)
			json_object_set_new(k, "use", json_string(use_b));
		json_array_append_new(keys, k);
	}
	return json_pack("{s:o}", "keys", keys);
}

static const struct upstream_expect expect = {
    .issuer = IDP, .client_id = "authd", .nonce = "n-0S6_WzA2Mj", .now = NOW, .skew = 60,
    .max_age = 600};

/* The refusal for a token minted by key (kid) over payload, checked against jwks. */
static enum upstream_refusal
check(EVP_PKEY *key, const char *kid, char *payload, const json_t *jwks)
{
	char *token = mint(key, kid, payload), err[256] = "";
	json_t *claims = NULL;
	enum upstream_refusal r;

	r = upstream_id_token_check(token, jwks, &expect, &claims, err, sizeof(err));
	if (r != UPSTREAM_OK && err[0] == '\0')
		r = (enum upstream_refusal)-1; /* a refusal must say why */
	if ((r == UPSTREAM_OK) != (claims != NULL))
		r = (enum upstream_refusal)-2; /* claims exactly on success */
	json_decref(claims);
	free(token);
	free(payload);
	return r;
}

static void
id_tokens(void)
{
	json_t *jwks = jwks_of(rsa, "r1", ec, "e1", NULL), *ed_jwks = jwks_of(ed, "d1", NULL, NULL, NULL);
	json_t *claims = NULL, *one = jwks_of(ec, NULL, NULL, NULL, NULL), *enc;
	char err[256], *token, *hdr, *pl, *forged, sig[64];
	unsigned char mac[32];
	unsigned int maclen = 0;
	char *pub;

	is_int(check(rsa, "r1", claims_with(NULL, NULL), jwks), UPSTREAM_OK, "RS256: accepted");
	is_int(check(ec, "e1", claims_with(NULL, NULL), jwks), UPSTREAM_OK, "ES256: accepted");
	is_int(check(ed, "d1", claims_with(NULL, NULL), ed_jwks), UPSTREAM_OK, "EdDSA: accepted");
	pl = claims_with(NULL, NULL);
	token = mint(rsa, "r1", pl);
	free(pl);
	ok(upstream_id_token_check(token, jwks, &expect, &claims, err, sizeof(err)) == UPSTREAM_OK &&
	    strcmp(json_string_value(json_object_get(claims, "sub")), "00u1") == 0 &&
	    strcmp(json_string_value(json_object_get(claims, "email")), "carol@corp.example") == 0,
	    "the claims come back");
	json_decref(claims);
	/* Tampering: a payload swapped under the same signature. */
	pl = claims_with("sub", json_string("admin"));
	hdr = b64url_encode_new(pl, strlen(pl));
	forged = malloc(strlen(token) + strlen(hdr) + 2);
	sprintf(forged, "%.*s.%s%s", (int)(strchr(token, '.') - token), token, hdr,
	    strrchr(token, '.'));
	is_int(upstream_id_token_check(forged, jwks, &expect, &claims, err, sizeof(err)),
	    UPSTREAM_SIGNATURE, "a payload swapped under the signature: signature");
	free(forged);
	free(hdr);
	free(pl);
	free(token);

	/* Algorithms. */
	pl = claims_with(NULL, NULL);
	hdr = b64url_encode_new("{\"alg\":\"none\",\"kid\":\"r1\"}", 25);
	token = b64url_encode_new(pl, strlen(pl));
	forged = malloc(strlen(hdr) + strlen(token) + 8);
	sprintf(forged, "%s.%s.AAAA", hdr, token);
	is_int(upstream_id_token_check(forged, jwks, &expect, &claims, err, sizeof(err)), UPSTREAM_ALG,
	    "alg none: refused");
	ok(strstr(err, "alg none") != NULL, "saying which alg (%s)", err);
	free(hdr);
	/* HS256 keyed with the provider's public key, the classic confusion. */
	if (jwk_public_to_json(rsa, &enc) == 0) {
		json_object_set_new(enc, "kid", json_string("r1"));
		pub = json_dumps(enc, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(enc);
	} else
		pub = strdup("x");
	hdr = b64url_encode_new("{\"alg\":\"HS256\",\"kid\":\"r1\"}", 26);
	sprintf(forged, "%s.%s", hdr, token);
	HMAC(EVP_sha256(), pub, (int)strlen(pub), (unsigned char *)forged, strlen(forged), mac,
	    &maclen);
	b64url_encode(mac, maclen, sig);
	free(forged);
	forged = malloc(strlen(hdr) + strlen(token) + strlen(sig) + 3);
	sprintf(forged, "%s.%s.%s", hdr, token, sig);
	is_int(upstream_id_token_check(forged, jwks, &expect, &claims, err, sizeof(err)), UPSTREAM_ALG,
	    "HS256 signed with the public key: refused");
	free(forged);
	free(hdr);
	free(token);
	free(pl);
	free(pub);

	/* Keys. */
	is_int(check(rsa, "r9", claims_with(NULL, NULL), jwks), UPSTREAM_UNKNOWN_KID,
	    "an unknown kid: unknown_kid (the caller refetches the JWKS)");
	is_int(check(rogue, "r1", claims_with(NULL, NULL), jwks), UPSTREAM_SIGNATURE,
	    "another key under a known kid: signature");
	is_int(check(ec, "r1", claims_with(NULL, NULL), jwks), UPSTREAM_UNKNOWN_KID,
	    "an ES256 token naming the RSA key's kid: no key fits");
	is_int(check(ec, NULL, claims_with(NULL, NULL), one), UPSTREAM_OK,
	    "no kid, one key that fits: accepted");
	is_int(check(rsa, NULL, claims_with(NULL, NULL), jwks), UPSTREAM_OK,
	    "no kid, one key of the token's alg among others: accepted");
	enc = jwks_of(ec, "e1", ec, "e2", NULL);
	is_int(check(ec, NULL, claims_with(NULL, NULL), enc), UPSTREAM_UNKNOWN_KID,
	    "no kid and two keys that fit: refused, not guessed");
	json_decref(enc);
	enc = jwks_of(NULL, NULL, rsa, "r1", "enc");
	is_int(check(rsa, "r1", claims_with(NULL, NULL), enc), UPSTREAM_UNKNOWN_KID,
	    "a key published for encryption never verifies");
	json_decref(enc);
	enc = json_pack("{s:s}", "keys", "none");
	is_int(check(rsa, "r1", claims_with(NULL, NULL), enc), UPSTREAM_UNKNOWN_KID,
	    "a JWKS without a key list");
	json_decref(enc);

	/* Claims. */
	is_int(check(rsa, "r1", claims_with("iss", json_string(IDP "/")), jwks), UPSTREAM_ISSUER,
	    "iss with a trailing slash: iss (exact match)");
	is_int(check(rsa, "r1", claims_with("iss", NULL), jwks), UPSTREAM_ISSUER, "no iss: iss");
	is_int(check(rsa, "r1", claims_with("aud", json_string("someone-else")), jwks),
	    UPSTREAM_AUDIENCE, "aud of another client: aud");
	is_int(check(rsa, "r1", claims_with("aud", json_pack("[s,s]", "other", "authd")), jwks),
	    UPSTREAM_AUDIENCE, "several audiences and no azp: aud");
	pl = claims_with("aud", json_pack("[s,s]", "other", "authd"));
	{
		json_t *c = json_loads(pl, 0, NULL);

		json_object_set_new(c, "azp", json_string("authd"));
		free(pl);
		pl = json_dumps(c, JSON_COMPACT);
		json_decref(c);
	}
	is_int(check(rsa, "r1", pl, jwks), UPSTREAM_OK, "several audiences with azp = this client: accepted");
	is_int(check(rsa, "r1", claims_with("azp", json_string("other")), jwks), UPSTREAM_AUDIENCE,
	    "azp of another party: aud");
	is_int(check(rsa, "r1", claims_with("exp", json_integer(NOW - 61)), jwks), UPSTREAM_EXPIRED,
	    "expired beyond the skew: exp");
	is_int(check(rsa, "r1", claims_with("exp", json_integer(NOW - 30)), jwks), UPSTREAM_OK,
	    "expired within the skew: accepted");
	is_int(check(rsa, "r1", claims_with("exp", json_string("tomorrow")), jwks), UPSTREAM_EXPIRED,
	    "exp not a number: exp");
	is_int(check(rsa, "r1", claims_with("iat", json_integer(NOW + 120)), jwks), UPSTREAM_IAT,
	    "issued in the future: iat");
	is_int(check(rsa, "r1", claims_with("iat", json_integer(NOW - 3600)), jwks), UPSTREAM_IAT,
	    "issued an hour ago: iat");
	is_int(check(rsa, "r1", claims_with("nonce", json_string("replayed")), jwks), UPSTREAM_NONCE,
	    "another nonce: nonce");
	is_int(check(rsa, "r1", claims_with("nonce", NULL), jwks), UPSTREAM_NONCE, "no nonce: nonce");
	is_int(check(rsa, "r1", claims_with("sub", NULL), jwks), UPSTREAM_SUBJECT, "no sub: sub");
	is_int(check(rsa, "r1", claims_with("sub", json_string("")), jwks), UPSTREAM_SUBJECT,
	    "an empty sub: sub");
	is_int(check(rsa, "r1", claims_with("sub", json_integer(7)), jwks), UPSTREAM_SUBJECT,
	    "a numeric sub: sub");
	is_int(check(rsa, "r1", strdup("[1,2]"), jwks), UPSTREAM_MALFORMED,
	    "a payload that is not an object: malformed");
	is_int(check(rsa, "r1", strdup("{\"sub\":\"a\",\"sub\":\"b\"}"), jwks), UPSTREAM_MALFORMED,
	    "duplicate claims: malformed");
	is_int(upstream_id_token_check("not.a.jwt", jwks, &expect, &claims, err, sizeof(err)),
	    UPSTREAM_MALFORMED, "garbage: malformed");
	is_int(upstream_id_token_check(NULL, jwks, &expect, &claims, err, sizeof(err)),
	    UPSTREAM_MALFORMED, "no token: malformed");
	is_str(upstream_refusal_name(UPSTREAM_NONCE), "nonce", "refusals have audit names");
	json_decref(jwks);
	json_decref(ed_jwks);
	json_decref(one);
}

/* ---- discovery ---- */

static int
parse_with(const char *member, json_t *value, int allow_http, struct upstream_metadata *m,
    char *err, size_t errlen)
{
	json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:[s], s:[s,s], s:[s,s]}", "issuer", IDP,
	    "authorization_endpoint", IDP "/authorize", "token_endpoint", IDP "/token", "jwks_uri",
	    IDP "/keys", "userinfo_endpoint", IDP "/userinfo", "code_challenge_methods_supported",
	    "S256", "id_token_signing_alg_values_supported", "RS256", "ES256",
	    "token_endpoint_auth_methods_supported", "client_secret_basic", "client_secret_post");
	int rc;

	if (member != NULL) {
		if (value == NULL)
			json_object_del(doc, member);
		else
			json_object_set_new(doc, member, value);
	}
	rc = upstream_metadata_parse(doc, IDP, allow_http, m, err, errlen);
	json_decref(doc);
	return rc;
}

static void
discovery(void)
{
	struct upstream_metadata m;
	char err[256];

	ok(parse_with(NULL, NULL, 0, &m, err, sizeof(err)) == 0, "a good document");
	ok(strcmp(m.token_endpoint, IDP "/token") == 0 && strcmp(m.jwks_uri, IDP "/keys") == 0 &&
	    strcmp(m.userinfo_endpoint, IDP "/userinfo") == 0 && m.auth_post == 0,
	    "its endpoints; client_secret_basic preferred");
	upstream_metadata_clear(&m);
	ok(parse_with("issuer", json_string(IDP "/"), 0, &m, err, sizeof(err)) != 0 &&
	    strstr(err, "another issuer") != NULL, "an issuer with a trailing slash: refused (%s)", err);
	ok(parse_with("issuer", json_string("https://evil.example"), 0, &m, err, sizeof(err)) != 0,
	    "another issuer: refused (mix-up)");
	ok(parse_with("token_endpoint", NULL, 0, &m, err, sizeof(err)) != 0 &&
	    strstr(err, "token_endpoint") != NULL, "no token endpoint: refused, named");
	ok(parse_with("jwks_uri", json_string("http://idp.example/keys"), 0, &m, err, sizeof(err)) != 0,
	    "an http JWKS: refused");
	ok(parse_with("jwks_uri", json_string("http://idp.example/keys"), 1, &m, err, sizeof(err)) == 0,
	    "accepted with allow_http (allow_insecure_issuer)");
	upstream_metadata_clear(&m);
	ok(parse_with("authorization_endpoint", json_string("https://u:p@idp.example/a"), 0, &m, err,
	    sizeof(err)) != 0, "an endpoint with userinfo: refused");
	ok(parse_with("userinfo_endpoint", NULL, 0, &m, err, sizeof(err)) == 0 &&
	    m.userinfo_endpoint == NULL, "no userinfo endpoint: fine");
	upstream_metadata_clear(&m);
	ok(parse_with("code_challenge_methods_supported", json_pack("[s]", "plain"), 0, &m, err,
	    sizeof(err)) != 0 && strstr(err, "S256") != NULL, "PKCE without S256: refused");
	ok(parse_with("code_challenge_methods_supported", NULL, 0, &m, err, sizeof(err)) == 0,
	    "PKCE methods not listed: PKCE is sent anyway");
	upstream_metadata_clear(&m);
	ok(parse_with("id_token_signing_alg_values_supported", json_pack("[s,s]", "HS256", "none"), 0,
	    &m, err, sizeof(err)) != 0, "only HS256 and none: refused");
	ok(parse_with("token_endpoint_auth_methods_supported", json_pack("[s]", "client_secret_post"),
	    0, &m, err, sizeof(err)) == 0 && m.auth_post == 1, "only client_secret_post: used");
	upstream_metadata_clear(&m);
	ok(parse_with("token_endpoint_auth_methods_supported", json_pack("[s]", "private_key_jwt"), 0,
	    &m, err, sizeof(err)) != 0, "only private_key_jwt: refused");
	ok(upstream_metadata_parse(json_null(), IDP, 0, &m, err, sizeof(err)) != 0,
	    "not an object: refused");
}

/* ---- identity and reach ---- */

static void
identity(void)
{
	struct store_idp p;
	struct upstream_identity id;
	json_t *c, *info;
	char err[256];

	memset(&p, 0, sizeof(p));
	p.claim_user = MUT("sub");
	p.claim_email = MUT("email");
	p.claim_groups = MUT("groups");
	c = json_pack("{s:s, s:s, s:b, s:[s,s]}", "sub", "00u1", "email", "carol@corp.example",
	    "email_verified", 1, "groups", "eng", "ops");
	ok(!upstream_identity_wants_userinfo(&p, c), "every mapped claim in the ID token: no userinfo");
	ok(upstream_identity_read(&p, c, NULL, &id, err, sizeof(err)) == 0 &&
	    strcmp(id.subject, "00u1") == 0 && strcmp(id.email, "carol@corp.example") == 0 &&
	    id.email_verified && json_array_size(id.groups) == 2, "read from the ID token");
	ok(upstream_groups_allowed("ops admins", id.groups), "--allowed-groups: ops is in");
	ok(!upstream_groups_allowed("admins", id.groups), "--allowed-groups: none of them");
	ok(upstream_groups_allowed(NULL, id.groups), "no --allowed-groups: everyone");
	upstream_identity_clear(&id);
	json_object_set_new(c, "email_verified", json_string("true"));
	ok(upstream_identity_read(&p, c, NULL, &id, err, sizeof(err)) == 0 && !id.email_verified,
	    "email_verified as the string \"true\" is not verified");
	upstream_identity_clear(&id);
	json_object_del(c, "groups");
	json_object_del(c, "email_verified");
	ok(upstream_identity_wants_userinfo(&p, c), "no groups in the ID token: ask userinfo");
	info = json_pack("{s:s, s:s, s:b}", "sub", "00u1", "groups", "eng", "email_verified", 0);
	ok(upstream_identity_read(&p, c, info, &id, err, sizeof(err)) == 0 &&
	    json_array_size(id.groups) == 1 && !id.email_verified,
	    "groups from userinfo (one string: one group)");
	upstream_identity_clear(&id);
	json_object_set_new(info, "sub", json_string("00u2"));
	ok(upstream_identity_read(&p, c, info, &id, err, sizeof(err)) != 0 &&
	    strstr(err, "another subject") != NULL, "userinfo about another subject: refused");
	json_decref(info);
	ok(upstream_identity_read(&p, c, NULL, &id, err, sizeof(err)) == 0 &&
	    json_array_size(id.groups) == 0, "no groups anywhere: none");
	upstream_identity_clear(&id);
	json_object_set_new(c, "groups", json_pack("[s,i]", "eng", 7));
	ok(upstream_identity_read(&p, c, NULL, &id, err, sizeof(err)) != 0,
	    "a group that is not a string: refused");
	json_object_set_new(c, "groups", json_object());
	ok(upstream_identity_read(&p, c, NULL, &id, err, sizeof(err)) != 0,
	    "groups as an object: refused");
	{
		json_t *many = json_array();
		int i;

		for (i = 0; i <= UPSTREAM_MAX_GROUPS; i++)
			json_array_append_new(many, json_sprintf("g%d", i));
		json_object_set_new(c, "groups", many);
		ok(upstream_identity_read(&p, c, NULL, &id, err, sizeof(err)) != 0,
		    "257 groups: refused, not cut short");
	}
	json_object_del(c, "groups");
	p.claim_user = MUT("preferred_username");
	ok(upstream_identity_read(&p, c, NULL, &id, err, sizeof(err)) != 0 &&
	    strstr(err, "preferred_username") != NULL, "the user claim missing: refused, named");
	json_object_set_new(c, "preferred_username", json_integer(42));
	ok(upstream_identity_read(&p, c, NULL, &id, err, sizeof(err)) != 0,
	    "a numeric user claim: refused");
	json_decref(c);
}

static void
reach(void)
{
	const struct upstream_map maps[] = {
	    {"eng", "https://files.example/mcp", "read"},
	    {"ops", "https://files.example/mcp", "write"},
	    {"ops", "https://cal.example/mcp", NULL},
	};
	json_t *eng = json_pack("[s]", "eng"), *both = json_pack("[s,s]", "eng", "ops");
	json_t *none = json_pack("[s]", "sales");
	char *r;
	int reachable;

	r = upstream_reach_new(maps, 3, eng, "https://files.example/mcp", "read write admin",
	    &reachable);
	ok(reachable && r != NULL && strcmp(r, "read") == 0, "eng reaches files with read");
	free(r);
	r = upstream_reach_new(maps, 3, both, "https://files.example/mcp", "read write admin",
	    &reachable);
	ok(reachable && r != NULL && strcmp(r, "read write") == 0,
	    "eng and ops: the union, in the resource's order, never admin");
	free(r);
	r = upstream_reach_new(maps, 3, eng, "https://cal.example/mcp", "cal:read", &reachable);
	ok(!reachable && r == NULL, "eng does not reach cal");
	r = upstream_reach_new(maps, 3, both, "https://cal.example/mcp", "cal:read cal:write",
	    &reachable);
	ok(reachable && r != NULL && strcmp(r, "cal:read cal:write") == 0,
	    "ops reaches every scope of cal (no --scopes)");
	free(r);
	r = upstream_reach_new(maps, 3, none, "https://files.example/mcp", "read", &reachable);
	ok(!reachable && r == NULL, "a group without mappings reaches nothing");
	r = upstream_reach_new(maps, 0, none, "https://files.example/mcp", "read write", &reachable);
	ok(reachable && r != NULL && strcmp(r, "read write") == 0,
	    "a provider without mappings does not restrict");
	free(r);
	json_decref(eng);
	json_decref(both);
	json_decref(none);
}

int
main(void)
{
	names();
	secrets();
	rewrap();
	discovery();
	identity();
	reach();
	if (jwk_generate(JWS_ALG_RS256, &rsa) != 0 || jwk_generate(JWS_ALG_ES256, &ec) != 0 ||
	    jwk_generate(JWS_ALG_EDDSA, &ed) != 0 || jwk_generate(JWS_ALG_RS256, &rogue) != 0) {
		printf("Bail out! cannot generate keys\n");
		return 1;
	}
	id_tokens();
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(ed);
	EVP_PKEY_free(rogue);
	return tap_done();
}
