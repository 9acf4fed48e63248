/* RFC 7662 introspection for the token's own resource server; RFC 7009 revocation. */
#include "config.h"

#include "oauth/inspect.h"

#include <string.h>

#include "oauth/secret.h"

static int
may_see(const struct store_client *caller, const char *aud)
{
	return caller->introspect_admin ||
	    (caller->acts_for_uri != NULL && strcmp(caller->acts_for_uri, aud) == 0);
}

json_t *
token_introspect(const struct grant_env *env, const struct store_client *caller,
    const char *token)
{
	json_t *claims = NULL, *out;
	const char *aud;

	if (token == NULL ||
	    access_token_verify(env->keys, token, strlen(token), env->issuer, env->now, 0,
		&claims) != TOKEN_OK)
		return json_pack("{s:b}", "active", 0);
	aud = json_string_value(json_object_get(claims, "aud"));
	/* To anyone but the token's own resource server, a token is just inactive: no
	 * hint that it exists (DESIGN.md §1). */
	if (!may_see(caller, aud) ||
	    store_jti_revoked(env->st, json_string_value(json_object_get(claims, "jti"))) ==
		STORE_OK) {
		json_decref(claims);
		return json_pack("{s:b}", "active", 0);
	}
	out = json_pack("{s:b, s:s}", "active", 1, "token_type", "Bearer");
	if (out != NULL)
		json_object_update(out, claims);
	json_decref(claims);
	return out;
}

static void
audit_revoke(const struct grant_env *env, const struct store_client *caller, const char *sub,
    const char *resource, const char *jti, const char *what)
{
	struct store_audit a;

	memset(&a, 0, sizeof(a));
	a.ts = env->now;
	a.event = "token.revoked";
	a.outcome = "ok";
	a.reason = what;
	a.client_id = caller->client_id;
	a.subject = sub;
	a.resource = resource;
	a.jti = jti;
	a.remote_addr = env->remote_addr;
	audit_write(env->st, env->audit, &a);
}

static int
revoke_refresh(const struct grant_env *env, const struct store_client *caller,
    const char *token, int *found)
{
	unsigned char hash[SECRET_HASH_LEN];
	struct store_refresh rt;
	int rc;

	*found = 0;
	secret_hash(token, hash);
	if (store_begin(env->st) != STORE_OK)
		return -1;
	rc = store_refresh_get(env->st, hash, &rt);
	if (rc == STORE_NOTFOUND) {
		store_rollback(env->st);
		return 0;
	}
	*found = 1;
	if (rc == STORE_OK && rt.family.client == caller->id && rt.family.revoked_at == 0) {
		rc = store_family_revoke(env->st, rt.family_id, env->now, "revoked by the client");
		if (rc == STORE_OK)
			audit_revoke(env, caller, rt.family.user_name, rt.family.resources, NULL,
			    "refresh token family revoked");
	}
	store_refresh_clear(&rt);
	if (rc != STORE_OK) {
		store_rollback(env->st);
		return -1;
	}
	return store_commit(env->st) == STORE_OK ? 0 : -1;
}

int
token_revoke(const struct grant_env *env, const struct store_client *caller, const char *token)
{
	json_t *claims = NULL;
	const char *jti, *client_id;
	int found, rc = 0;

	if (token == NULL || token[0] == '\0')
		return 0;
	/* Opaque tokens are refresh tokens; JWTs are access tokens. */
	if (strchr(token, '.') == NULL)
		return revoke_refresh(env, caller, token, &found);
	if (access_token_verify(env->keys, token, strlen(token), env->issuer, env->now, 0,
		&claims) != TOKEN_OK)
		return 0; /* not ours, or already expired: nothing to do */
	jti = json_string_value(json_object_get(claims, "jti"));
	client_id = json_string_value(json_object_get(claims, "client_id"));
	if (strcmp(client_id, caller->client_id) == 0 || caller->introspect_admin) {
		if (store_jti_revoke(env->st, jti, json_integer_value(json_object_get(claims, "exp")),
			env->now) != STORE_OK)
			rc = -1;
		else
			audit_revoke(env, caller, json_string_value(json_object_get(claims, "sub")),
			    json_string_value(json_object_get(claims, "aud")), jti,
			    "access token revoked");
	}
	json_decref(claims);
	return rc;
}
