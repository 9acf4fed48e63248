/* Grant decisions with a real store and keys, at chosen times: expiry, replay, reuse. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "jose/b64url.h"
#include "oauth/grants.h"
#include "oauth/secret.h"
#include "tap.h"

#define RES "https://files.example/mcp"
#define VERIFIER "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

static struct store *st;
static struct keyset *ks;
static struct store_client app, other;
static int64_t alice, fed;

static void
env_at(struct grant_env *env, int64_t now)
{
	memset(env, 0, sizeof(*env));
	env->st = st;
	env->keys = ks;
	env->issuer = "https://as.example";
	env->now = now;
	env->access_ttl = 600;
	env->refresh_ttl = 100;
	env->idp_session_ttl = 250;
	env->remote_addr = "127.0.0.1";
}

static char *
code_at(int64_t now, const char *resources, const char *scope)
{
	struct grant_env env;
	char *code = NULL;

	env_at(&env, now);
	grant_code_issue(&env, &app, alice, now, "http://127.0.0.1/cb", 1, CHALLENGE, resources,
	    scope, &code);
	return code;
}

static int
redeem(int64_t now, const struct store_client *c, const char *code, const char *verifier,
    const char *resource, struct token_response *t)
{
	struct grant_env env;

	env_at(&env, now);
	return grant_authorization_code(&env, c, code, verifier, "http://127.0.0.1/cb", resource, t);
}

static int
refresh(int64_t now, const char *rt, const char *resource, const char *scope,
    struct token_response *t)
{
	struct grant_env env;

	env_at(&env, now);
	return grant_refresh(&env, &app, rt, resource, scope, t);
}

static int
jti_revoked(const char *jti)
{
	return store_jti_revoked(st, jti) == STORE_OK;
}

static void
setup(void)
{
	struct store_options opt = {.synchronous = "NORMAL", .create = 1};
	struct master_key mk;
	struct store_resource r;
	char *path = store_memory_path_new();

	master_key_ephemeral(&mk);
	store_open(path, &opt, &st);
	store_migrate(st, NULL);
	keystore_ensure(st, &mk, JWS_ALG_ES256, 1);
	keyset_load(st, &mk, &ks);
	memset(&r, 0, sizeof(r));
	r.uri = r.uri_key = MUT(RES);
	r.name = MUT("Files");
	r.scopes = MUT("read write");
	store_resource_add(st, &r, NULL);
	r.uri = r.uri_key = MUT("https://cal.example");
	r.name = MUT("Cal");
	r.scopes = MUT("cal");
	store_resource_add(st, &r, NULL);
	store_user_add(st, "alice", "$argon2id$x", 1, &alice);
	store_user_add_federated(st, "fed", "corp", "00u1", 1, &fed);
	memset(&app, 0, sizeof(app));
	app.client_id = MUT("app");
	app.name = MUT("App");
	app.auth_method = MUT("none");
	app.grant_types = MUT("authorization_code refresh_token");
	store_client_add(st, &app, &app.id);
	other = app;
	other.client_id = MUT("other");
	store_client_add(st, &other, &other.id);
	free(path);
}

int
main(void)
{
	struct token_response t, t2;
	char *code, rt[64], jti1[JTI_LEN + 1], jti2[JTI_LEN + 1];

	setup();

	/* Codes live 60 seconds. */
	code = code_at(1000, RES, "read");
	ok(code != NULL && strlen(code) == 43, "a 256-bit code");
	is_int(redeem(1060, &app, code, VERIFIER, NULL, &t), -1, "expired at 60 s");
	is_int(t.error, OAUTH_INVALID_GRANT, "invalid_grant");
	ok(strstr(t.error_description, "expired") != NULL, "says expired");
	token_response_clear(&t);
	free(code);

	code = code_at(1000, RES, "read");
	is_int(redeem(1059, &app, code, VERIFIER, NULL, &t), 0, "redeemed at 59 s");
	is_str(t.resource, RES, "aud is the resource");
	is_str(t.scope, "read", "scope");
	is_int(t.expires_in, 600, "expires_in");
	ok(t.refresh_token != NULL, "refresh token issued");
	snprintf(rt, sizeof(rt), "%s", t.refresh_token);
	snprintf(jti1, sizeof(jti1), "%s", t.jti);
	token_response_clear(&t);
	ok(!jti_revoked(jti1), "its access token is not revoked");
	is_int(redeem(1059, &app, code, VERIFIER, NULL, &t), -1, "second redemption refused");
	is_int(t.error, OAUTH_INVALID_GRANT, "invalid_grant");
	token_response_clear(&t);
	ok(jti_revoked(jti1), "the replay revoked the access token of the first redemption");
	is_int(refresh(1060, rt, NULL, NULL, &t), -1, "and its refresh token");
	token_response_clear(&t);
	free(code);

	code = code_at(2000, RES, "read");
	is_int(redeem(2001, &other, code, VERIFIER, NULL, &t), -1, "another client's code refused");
	token_response_clear(&t);
	is_int(redeem(2001, &app, code, VERIFIER, NULL, &t), -1, "and then it is spent");
	token_response_clear(&t);
	free(code);

	code = code_at(2000, RES, "read");
	is_int(redeem(2001, &app, code, "short", NULL, &t), -1, "malformed verifier");
	is_int(t.error, OAUTH_INVALID_GRANT, "invalid_grant");
	token_response_clear(&t);
	free(code);
	code = code_at(2000, RES, "read");
	is_int(redeem(2001, &app, code, NULL, NULL, &t), -1, "no verifier");
	is_int(t.error, OAUTH_INVALID_REQUEST, "invalid_request");
	token_response_clear(&t);
	is_int(redeem(2001, &app, code, VERIFIER, NULL, &t), 0, "a missing verifier spends nothing");
	token_response_clear(&t);
	free(code);
	is_int(redeem(2001, &app, "nope", VERIFIER, NULL, &t), -1, "unknown code");
	is_int(t.error, OAUTH_INVALID_GRANT, "invalid_grant");
	token_response_clear(&t);

	/* Two resources: pick one per token. */
	code = code_at(3000, "https://cal.example " RES, "cal read");
	is_int(redeem(3001, &app, code, VERIFIER, NULL, &t), -1, "two granted, none named");
	is_int(t.error, OAUTH_INVALID_TARGET, "invalid_target");
	token_response_clear(&t);
	free(code);
	code = code_at(3000, "https://cal.example " RES, "cal read");
	is_int(redeem(3001, &app, code, VERIFIER, "https://CAL.example/", &t), 0,
	    "naming one (any spelling) works");
	is_str(t.resource, "https://cal.example", "aud is that one");
	is_str(t.scope, "cal", "with only its scopes");
	snprintf(rt, sizeof(rt), "%s", t.refresh_token);
	token_response_clear(&t);
	free(code);

	/* Refresh: narrower scope fine, wider refused, rotation, expiry. */
	is_int(refresh(3002, rt, RES, "read write", &t), -1, "wider than granted");
	is_int(t.error, OAUTH_INVALID_SCOPE, "invalid_scope");
	token_response_clear(&t);
	is_int(refresh(3002, rt, "https://other.example", NULL, &t), -1, "ungranted resource");
	is_int(t.error, OAUTH_INVALID_TARGET, "invalid_target");
	token_response_clear(&t);
	is_int(refresh(3002, rt, RES, "read", &t), 0, "narrow refresh for the other resource");
	is_str(t.resource, RES, "aud switched");
	snprintf(jti1, sizeof(jti1), "%s", t.jti);
	ok(strcmp(t.refresh_token, rt) != 0, "rotated");
	{
		char rt2[64];

		snprintf(rt2, sizeof(rt2), "%s", t.refresh_token);
		token_response_clear(&t);
		is_int(refresh(3102, rt2, RES, NULL, &t), -1, "expired after refresh_token_ttl");
		ok(strstr(t.error_description, "expired") != NULL, "says expired");
		token_response_clear(&t);
		is_int(refresh(3050, rt2, RES, NULL, &t), 0, "fine before");
		snprintf(jti2, sizeof(jti2), "%s", t.jti);
		token_response_clear(&t);
		is_int(refresh(3051, rt, RES, NULL, &t2), -1, "reuse of a rotated token");
		is_int(t2.error, OAUTH_INVALID_GRANT, "invalid_grant");
		token_response_clear(&t2);
		ok(jti_revoked(jti1) && jti_revoked(jti2), "reuse revoked every access token of the family");
		is_int(refresh(3052, rt2, RES, NULL, &t), -1, "and every refresh token");
		token_response_clear(&t);
	}

	/* A disabled user's code yields nothing. */
	code = code_at(4000, RES, "read");
	store_user_set_disabled(st, "alice", 1);
	is_int(redeem(4001, &app, code, VERIFIER, NULL, &t), -1, "disabled user");
	is_int(t.error, OAUTH_INVALID_GRANT, "invalid_grant");
	token_response_clear(&t);
	free(code);

	/* A federated user's refresh tokens end idp_session_ttl (250 s here) after the
	 * upstream sign-in, however often they rotate; a local user's keep sliding. */
	{
		struct grant_env env;
		char rt_fed[64], rt_local[64];

		env_at(&env, 5000);
		code = NULL;
		grant_code_issue(&env, &app, fed, 5000, "http://127.0.0.1/cb", 1, CHALLENGE, RES,
		    "read", &code);
		is_int(redeem(5001, &app, code, VERIFIER, NULL, &t), 0, "federated: code redeemed");
		snprintf(rt_fed, sizeof(rt_fed), "%s", t.refresh_token);
		token_response_clear(&t);
		free(code);
		store_user_set_disabled(st, "alice", 0);
		code = code_at(5000, RES, "read");
		is_int(redeem(5001, &app, code, VERIFIER, NULL, &t), 0, "local: code redeemed");
		snprintf(rt_local, sizeof(rt_local), "%s", t.refresh_token);
		token_response_clear(&t);
		free(code);
		is_int(refresh(5090, rt_fed, RES, NULL, &t), 0, "federated: refreshed at +90 s");
		snprintf(rt_fed, sizeof(rt_fed), "%s", t.refresh_token);
		token_response_clear(&t);
		is_int(refresh(5180, rt_fed, RES, NULL, &t), 0, "federated: refreshed at +180 s");
		snprintf(rt_fed, sizeof(rt_fed), "%s", t.refresh_token);
		token_response_clear(&t);
		is_int(refresh(5249, rt_fed, RES, NULL, &t), 0,
		    "federated: refreshed at +249 s, the last second of the sign-in");
		snprintf(rt_fed, sizeof(rt_fed), "%s", t.refresh_token);
		token_response_clear(&t);
		is_int(refresh(5250, rt_fed, RES, NULL, &t), -1,
		    "federated: refused at +250 s (idp_session_ttl), though the token itself is young");
		is_int(t.error, OAUTH_INVALID_GRANT, "invalid_grant");
		ok(strstr(t.error_description, "sign in again") != NULL, "saying to sign in again");
		token_response_clear(&t);
		is_int(refresh(5090, rt_local, RES, NULL, &t), 0, "local: refreshed at +90 s");
		snprintf(rt_local, sizeof(rt_local), "%s", t.refresh_token);
		token_response_clear(&t);
		is_int(refresh(5180, rt_local, RES, NULL, &t), 0, "local: +180 s");
		snprintf(rt_local, sizeof(rt_local), "%s", t.refresh_token);
		token_response_clear(&t);
		is_int(refresh(5270, rt_local, RES, NULL, &t), 0, "local: +270 s, still sliding");
		token_response_clear(&t);
	}

	keyset_unref(ks);
	store_close(st);
	return tap_done();
}
