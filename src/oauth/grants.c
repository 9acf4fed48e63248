/* Authorization code and refresh token grants: one write transaction each. */
#include "config.h"

#include "oauth/grants.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "oauth/pkce.h"
#include "oauth/vault.h"
#include "oauth/registry.h"
#include "oauth/scope.h"
#include "oauth/secret.h"

void
token_response_clear(struct token_response *r)
{
	/* A vault fetch leaves a third party's token here. */
	if (r->access_token != NULL)
		OPENSSL_clear_free(r->access_token, strlen(r->access_token));
	if (r->refresh_token != NULL)
		OPENSSL_clear_free(r->refresh_token, strlen(r->refresh_token));
	free(r->scope);
	free(r->resource);
	free(r->connect_uri);
	if (r->pending != NULL) {
		free(r->pending->connection);
		free(r->pending->sub);
		free(r->pending->client_id);
		free(r->pending->resource);
		free(r->pending);
	}
	memset(r, 0, sizeof(*r));
}

static int __attribute__((format(printf, 3, 4)))
refuse(struct token_response *out, enum oauth_error e, const char *fmt, ...)
{
	va_list ap;

	out->error = e;
	va_start(ap, fmt);
	vsnprintf(out->error_description, sizeof(out->error_description), fmt, ap);
	va_end(ap);
	return -1;
}

/* The database failed the grant: 503 when it may pass on a retry, else 500. */
static int
refuse_db(struct token_response *out, int store_rc)
{
	out->store_rc = store_rc;
	if (store_rc_transient(store_rc))
		return refuse(out, OAUTH_TEMPORARILY_UNAVAILABLE, "database unavailable, retry");
	return refuse(out, OAUTH_SERVER_ERROR, "database error");
}

static void
audit_record(const struct grant_env *env, int batched, const char *event, const char *outcome,
    const char *reason, const char *client_id, const char *sub, const char *resource,
    const char *jti, const char *act)
{
	struct store_audit a;

	memset(&a, 0, sizeof(a));
	a.ts = env->now;
	a.event = event;
	a.outcome = outcome;
	a.reason = reason;
	a.client_id = client_id;
	a.subject = sub;
	a.resource = resource;
	a.jti = jti;
	a.act = act;
	a.remote_addr = env->remote_addr;
	if (batched)
		audit_submit(env->audit, env->st, &a);
	else
		audit_write(env->st, env->audit, &a);
}

/* Stateful grants write their record in their own transaction. */
static void
audit(const struct grant_env *env, const char *event, const char *outcome, const char *reason,
    const char *client_id, const char *sub, const char *resource, const char *jti)
{
	audit_record(env, 0, event, outcome, reason, client_id, sub, resource, jti, NULL);
}

/* Is uri (any spelling) one of the space-separated registered URIs in `granted`?
 * Returns the resource found through the registry. */
static enum oauth_error
pick_resource(const struct grant_env *env, const char *granted, const char *requested,
    struct store_resource *out)
{
	const char *p;
	size_t n;
	char *only = NULL;
	enum oauth_error e;

	memset(out, 0, sizeof(*out));
	if (requested == NULL || requested[0] == '\0') {
		/* One audience per token: with several granted, the client must choose. */
		if (strchr(granted, ' ') != NULL)
			return OAUTH_INVALID_TARGET;
		if ((only = strdup(granted)) == NULL)
			return OAUTH_SERVER_ERROR;
		e = registry_resource_find(env->st, only, 0, env->now, out);
		free(only);
		return e;
	}
	if ((e = registry_resource_find(env->st, requested, 0, env->now, out)) != OAUTH_OK)
		return e;
	n = strlen(out->uri);
	for (p = granted; (p = strstr(p, out->uri)) != NULL; p += n) {
		if ((p == granted || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
			return OAUTH_OK;
	}
	store_resource_clear(out);
	return OAUTH_INVALID_TARGET;
}

/* The access token and, with family_id, a new refresh token in that family (stored
 * now; the access token's signature then waits for the commit: see mint_deferred).
 * max_ttl (0: none) caps the lifetime; act is the actor chain or NULL; the refresh token
 * lives refresh_ttl, or until family_until when that comes first (0: no bound). */
static int
issue_token(const struct grant_env *env, const char *client_id, const char *sub,
    int64_t auth_time, const struct store_resource *r, const char *scope, const json_t *act,
    int64_t max_ttl, const char *family_id, const char *family_scope, int64_t family_until,
    struct token_response *out)
{
	int64_t refresh_until = env->now + env->refresh_ttl;
	struct access_claims *c = &out->claims;
	unsigned char hash[SECRET_HASH_LEN];
	int64_t ttl = r->ttl > 0 ? r->ttl : env->access_ttl;
	int src;

	if (max_ttl > 0 && ttl > max_ttl)
		ttl = max_ttl;
	memset(c, 0, sizeof(*c));
	c->act = act;
	c->iss = env->issuer;
	c->sub = sub;
	c->aud = r->uri;
	c->client_id = client_id;
	c->scope = scope;
	c->iat = env->now;
	c->exp = env->now + ttl;
	c->auth_time = auth_time;
	if (jti_new(out->jti) != 0)
		return refuse(out, OAUTH_SERVER_ERROR, "no randomness");
	c->jti = out->jti;
	out->expires_in = ttl;
	if ((out->scope = strdup(scope)) == NULL || (out->resource = strdup(r->uri)) == NULL)
		return refuse(out, OAUTH_SERVER_ERROR, "out of memory");
	if (family_id == NULL) {
		if (access_token_mint(env->keys, c, &out->access_token, out->jti) != 0)
			return refuse(out, OAUTH_SERVER_ERROR, "cannot sign");
		return 0;
	}
	if ((out->refresh_token = secret_random_new(32)) == NULL)
		return refuse(out, OAUTH_SERVER_ERROR, "no randomness");
	secret_hash(out->refresh_token, hash);
	if (family_until > 0 && family_until < refresh_until)
		refresh_until = family_until;
	if ((src = store_refresh_add(env->st, hash, family_id, family_scope, env->now,
		 refresh_until, out->jti, c->exp)) != STORE_OK)
		return refuse_db(out, src);
	out->deferred = 1;
	return 0;
}

/* Sign a stateful grant's access token once its transaction has committed. */
static int
mint_deferred(const struct grant_env *env, struct token_response *out, int rc)
{
	if (rc != 0 || !out->deferred)
		return rc;
	out->deferred = 0;
	if (access_token_mint(env->keys, &out->claims, &out->access_token, out->jti) != 0) {
		token_response_clear(out);
		return refuse(out, OAUTH_SERVER_ERROR, "cannot sign");
	}
	return 0;
}

static int
issue(const struct grant_env *env, const char *client_id, const char *sub, int64_t auth_time,
    const struct store_resource *r, const char *scope, const char *family_id,
    const char *family_scope, int64_t family_until, struct token_response *out)
{
	return issue_token(env, client_id, sub, auth_time, r, scope, NULL, 0, family_id,
	    family_scope, family_until, out);
}

/* When a federated user's refresh family ends: idp_session_ttl after the upstream sign-in,
 * so that someone the enterprise removes loses access within that bound. 0 for a local
 * user (the family lives as long as its refresh tokens keep rotating). */
static int64_t
family_until(const struct grant_env *env, const char *user_idp, int64_t auth_time)
{
	if (user_idp == NULL || env->idp_session_ttl <= 0)
		return 0;
	return auth_time + env->idp_session_ttl;
}

int
grant_code_issue(const struct grant_env *env, const struct store_client *client,
    int64_t user_id, int64_t auth_time, const char *redirect_uri, int redirect_uri_given,
    const char *code_challenge, const char *resources, const char *scope, char **code_out)
{
	struct store_code c;
	char *code;

	*code_out = NULL;
	if ((code = secret_random_new(32)) == NULL)
		return -1;
	memset(&c, 0, sizeof(c));
	secret_hash(code, c.hash);
	c.client = client->id;
	c.user_id = user_id;
	c.redirect_uri = (char *)(uintptr_t)redirect_uri;
	c.redirect_uri_given = redirect_uri_given;
	c.code_challenge = (char *)(uintptr_t)code_challenge;
	c.resources = (char *)(uintptr_t)resources;
	c.scope = (char *)(uintptr_t)scope;
	c.auth_time = auth_time;
	c.created_at = env->now;
	c.expires_at = env->now + CODE_TTL;
	if (store_code_add(env->st, &c) != STORE_OK) {
		OPENSSL_clear_free(code, strlen(code));
		return -1;
	}
	*code_out = code;
	return 0;
}

/* Commit, turning a failed commit into 503 (the database, not the request, failed). */
static int
finish(const struct grant_env *env, struct token_response *out, int rc)
{
	int src = store_commit(env->st);

	if (src != STORE_OK) {
		token_response_clear(out);
		out->store_rc = src;
		/* Failing closed: the grant may have taken effect (a rotation, a redemption), in
		 * which case presenting the same credential again ends its family. Say so. */
		if (src == STORE_UNKNOWN)
			return refuse(out, OAUTH_TEMPORARILY_UNAVAILABLE,
			    "the database did not confirm the commit: if this grant is refused when "
			    "retried, it was used; start again");
		return refuse(out, OAUTH_TEMPORARILY_UNAVAILABLE, "database busy, retry");
	}
	return rc;
}

/* A failed statement inside the transaction: roll back and say why. */
static int
abandon(const struct grant_env *env, struct token_response *out, int store_rc)
{
	int keep = out->store_rc;

	store_rollback(env->st);
	token_response_clear(out);
	if (store_rc == STORE_OK)
		store_rc = keep;
	if (store_rc != STORE_OK)
		return refuse_db(out, store_rc);
	return refuse(out, OAUTH_SERVER_ERROR, "cannot issue the tokens");
}

static int
code_attempt(const struct grant_env *env, const struct store_client *client,
    const char *code, const char *verifier, const char *redirect_uri, const char *resource,
    struct token_response *out);
static int
refresh_attempt(const struct grant_env *env, const struct store_client *client,
    const char *refresh_token, const char *resource, const char *scope,
    struct token_response *out);

/* A stateful grant whose transaction lost a conflict to another node (or whose
 * connection went before COMMIT was sent) runs again; one whose COMMIT had an unknown
 * outcome does not (STORE_UNKNOWN: fail closed). */
static int
retry_wanted(struct token_response *out, int rc, int attempt)
{
	if (rc == 0 || out->store_rc != STORE_RETRY || attempt + 1 >= GRANT_ATTEMPTS)
		return 0;
	token_response_clear(out);
	return 1;
}

int
grant_authorization_code(const struct grant_env *env, const struct store_client *client,
    const char *code, const char *verifier, const char *redirect_uri, const char *resource,
    struct token_response *out)
{
	int rc, attempt = 0;

	do
		rc = code_attempt(env, client, code, verifier, redirect_uri, resource, out);
	while (retry_wanted(out, rc, attempt++));
	return rc;
}

int
grant_refresh(const struct grant_env *env, const struct store_client *client,
    const char *refresh_token, const char *resource, const char *scope,
    struct token_response *out)
{
	int rc, attempt = 0;

	do
		rc = refresh_attempt(env, client, refresh_token, resource, scope, out);
	while (retry_wanted(out, rc, attempt++));
	return rc;
}

static int
code_attempt(const struct grant_env *env, const struct store_client *client,
    const char *code, const char *verifier, const char *redirect_uri, const char *resource,
    struct token_response *out)
{
	unsigned char hash[SECRET_HASH_LEN];
	struct store_code c;
	struct store_user user;
	struct store_family fam;
	struct store_resource r;
	char *family_id = NULL, *scope = NULL;
	enum oauth_error e;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	memset(&user, 0, sizeof(user));
	memset(&r, 0, sizeof(r));
	if (code == NULL || code[0] == '\0')
		return refuse(out, OAUTH_INVALID_REQUEST, "code is required");
	if (verifier == NULL)
		return refuse(out, OAUTH_INVALID_REQUEST, "code_verifier is required (PKCE)");
	if ((family_id = secret_random_new(16)) == NULL)
		return refuse(out, OAUTH_SERVER_ERROR, "no randomness");
	secret_hash(code, hash);
	if ((rc = store_begin(env->st)) != STORE_OK) {
		free(family_id);
		return refuse_db(out, rc);
	}
	rc = store_code_redeem(env->st, hash, env->now, family_id, &c);
	if (rc == STORE_NOTFOUND) {
		refuse(out, OAUTH_INVALID_GRANT, "unknown authorization code");
		audit(env, "token.refused", "refused", "unknown code", client->client_id, NULL, NULL,
		    NULL);
		rc = finish(env, out, -1);
		goto out;
	}
	if (rc == STORE_CONFLICT) {
		/* A replay: whatever the first redemption issued is no longer trusted. */
		if (c.family_id != NULL)
			store_family_revoke(env->st, c.family_id, env->now, "authorization code replay");
		refuse(out, OAUTH_INVALID_GRANT, "authorization code already used");
		audit(env, "code.replayed", "refused", "code replay: tokens of the first redemption revoked",
		    client->client_id, NULL, NULL, NULL);
		rc = finish(env, out, -1);
		goto out;
	}
	if (rc != STORE_OK) {
		rc = abandon(env, out, rc);
		goto out;
	}
	/* From here the code is spent whatever happens: a failed attempt still uses it. */
	e = OAUTH_INVALID_GRANT;
	if (c.client != client->id)
		refuse(out, e, "the code was issued to another client");
	else if (c.expires_at <= env->now)
		refuse(out, e, "authorization code expired");
	else if ((redirect_uri != NULL || c.redirect_uri_given) &&
	    (redirect_uri == NULL || strcmp(redirect_uri, c.redirect_uri) != 0))
		refuse(out, e, "redirect_uri does not match the authorization request");
	else if (!pkce_verifier_valid(verifier))
		refuse(out, e, "malformed code_verifier");
	else if (!pkce_s256_matches(verifier, c.code_challenge))
		refuse(out, e, "code_verifier does not match the code_challenge");
	else if ((e = pick_resource(env, c.resources, resource, &r)) != OAUTH_OK)
		refuse(out, e, resource ? "resource was not granted by this code"
					: "several resources were granted: name one with resource");
	else if (store_user_get(env->st, c.user_id, &user) != STORE_OK || user.disabled)
		refuse(out, e = OAUTH_INVALID_GRANT, "the user is no longer active");
	if (e != OAUTH_OK) {
		audit(env, "token.refused", "refused", out->error_description, client->client_id,
		    user.name, NULL, NULL);
		rc = finish(env, out, -1);
		goto out;
	}
	memset(&fam, 0, sizeof(fam));
	fam.family_id = family_id;
	fam.client = client->id;
	fam.user_id = c.user_id;
	fam.resources = c.resources;
	fam.scope = c.scope;
	fam.auth_time = c.auth_time;
	fam.created_at = env->now;
	fam.expires_at = env->now + env->refresh_ttl;
	if (family_until(env, user.idp, c.auth_time) > 0)
		fam.expires_at = family_until(env, user.idp, c.auth_time);
	if ((scope = registry_scope_for(&r, c.scope)) == NULL) {
		rc = abandon(env, out, STORE_OK);
		goto out;
	}
	if ((rc = store_family_add(env->st, &fam)) != STORE_OK) {
		rc = abandon(env, out, rc);
		goto out;
	}
	if (issue(env, client->client_id, user.name, c.auth_time, &r, scope, family_id, c.scope,
		family_until(env, user.idp, c.auth_time), out) != 0) {
		rc = abandon(env, out, STORE_OK);
		goto out;
	}
	audit(env, "token.issued", "ok", "authorization_code", client->client_id, user.name, r.uri,
	    out->jti);
	rc = mint_deferred(env, out, finish(env, out, 0));
out:
	free(family_id);
	free(scope);
	store_code_clear(&c);
	store_user_clear(&user);
	store_resource_clear(&r);
	return rc;
}

static int
refresh_attempt(const struct grant_env *env, const struct store_client *client,
    const char *refresh_token, const char *resource, const char *scope,
    struct token_response *out)
{
	unsigned char hash[SECRET_HASH_LEN];
	struct store_refresh rt;
	struct store_resource r;
	char *token_scope = NULL;
	const char *reason = NULL;
	enum oauth_error e;
	int rc, reused;

	memset(out, 0, sizeof(*out));
	memset(&r, 0, sizeof(r));
	if (refresh_token == NULL || refresh_token[0] == '\0')
		return refuse(out, OAUTH_INVALID_REQUEST, "refresh_token is required");
	if (scope != NULL && !scope_valid(scope))
		return refuse(out, OAUTH_INVALID_SCOPE, "malformed scope");
	secret_hash(refresh_token, hash);
	if ((rc = store_begin(env->st)) != STORE_OK)
		return refuse_db(out, rc);
	/* Taken (marked used) in the same step as it is read: one round trip on PostgreSQL.
	 * Every refusal below rolls back, which leaves the token as it was. */
	rc = store_refresh_take(env->st, hash, env->now, &rt);
	if (rc == STORE_NOTFOUND) {
		refuse(out, OAUTH_INVALID_GRANT, "unknown refresh token");
		audit(env, "token.refused", "refused", "unknown refresh token", client->client_id, NULL,
		    NULL, NULL);
		return finish(env, out, -1);
	}
	if (rc != STORE_OK && rc != STORE_CONFLICT)
		return abandon(env, out, rc);
	reused = rc == STORE_CONFLICT;
	if (rt.family.client != client->id)
		reason = "the refresh token was issued to another client";
	else if (rt.family.revoked_at != 0)
		reason = "refresh token revoked";
	else if (family_until(env, rt.family.user_idp, rt.family.auth_time) > 0 &&
	    family_until(env, rt.family.user_idp, rt.family.auth_time) <= env->now)
		reason = "the sign-in at the identity provider has expired: sign in again";
	else if (rt.expires_at <= env->now)
		reason = "refresh token expired";
	else if (rt.family.user_disabled)
		reason = "the user is no longer active";
	if (reason != NULL) {
		refuse(out, OAUTH_INVALID_GRANT, "%s", reason);
		goto refused;
	}
	/* What the request asks for is checked before the token counts as spent. */
	if ((e = pick_resource(env, rt.family.resources, resource, &r)) != OAUTH_OK) {
		refuse(out, e, resource ? "resource was not granted to this refresh token"
					: "several resources were granted: name one with resource");
		goto refused;
	}
	if (scope != NULL && !scope_subset(scope, rt.family.scope)) {
		refuse(out, OAUTH_INVALID_SCOPE, "scope wider than the grant");
		goto refused;
	}
	if (reused) {
		/* A rotated token came back: someone holds a copy. End the whole family. */
		store_family_revoke(env->st, rt.family_id, env->now, "refresh token reuse");
		refuse(out, OAUTH_INVALID_GRANT, "refresh token already used");
		audit(env, "refresh.reused", "refused", "refresh token reuse: family revoked",
		    client->client_id, rt.family.user_name, NULL, NULL);
		rc = finish(env, out, -1);
		goto out;
	}
	if ((token_scope = registry_scope_for(&r, scope ? scope : rt.family.scope)) == NULL ||
	    issue(env, client->client_id, rt.family.user_name, rt.family.auth_time, &r, token_scope,
		rt.family_id, rt.family.scope,
		family_until(env, rt.family.user_idp, rt.family.auth_time), out) != 0) {
		rc = abandon(env, out, STORE_OK);
		goto out;
	}
	audit(env, "token.issued", "ok", "refresh_token", client->client_id, rt.family.user_name,
	    r.uri, out->jti);
	rc = mint_deferred(env, out, finish(env, out, 0));
	goto out;
refused:
	store_rollback(env->st); /* the token stays unused; the record is written on its own */
	audit(env, "token.refused", "refused", out->error_description, client->client_id,
	    rt.family.user_name, NULL, NULL);
	rc = -1;
out:
	free(token_scope);
	store_refresh_clear(&rt);
	store_resource_clear(&r);
	return rc;
}

/* Refusals of stateless grants are audited through the batch writer too. */
static int
refuse_stateless(const struct grant_env *env, struct token_response *out, enum oauth_error e,
    const char *client_id, const char *sub, const char *resource, const char *why)
{
	refuse(out, e, "%s", why);
	audit_record(env, 1, "token.refused", "refused", why, client_id, sub, resource, NULL, NULL);
	return -1;
}

int
grant_client_credentials(const struct grant_env *env, const struct store_client *client,
    const char *resource, const char *scope, struct token_response *out)
{
	struct store_resource r;
	const char *want = resource, *granted;
	enum oauth_error e;
	int allowed = 0, rc = -1;

	memset(out, 0, sizeof(*out));
	memset(&r, 0, sizeof(r));
	if (want == NULL || want[0] == '\0')
		want = client->default_resource;
	if (want == NULL)
		return refuse_stateless(env, out, OAUTH_INVALID_TARGET, client->client_id, NULL, NULL,
		    "resource is required (RFC 8707)");
	/* One lookup for the resource and the client's right to it (the hot path). */
	if ((e = registry_resource_for_client(env->st, want, client->id, env->auto_register,
		 env->now, &r, &allowed)) != OAUTH_OK)
		return refuse_stateless(env, out, e, client->client_id, NULL, NULL,
		    "unknown or malformed resource");
	/* The mock issuer's seeded client may ask for any resource; others only for theirs. */
	if (strcmp(client->origin ? client->origin : "", "dev") != 0 && !allowed) {
		rc = refuse_stateless(env, out, OAUTH_INVALID_TARGET, client->client_id, NULL, r.uri,
		    "this client may not get tokens for that resource");
		goto out;
	}
	if (scope != NULL && (!scope_valid(scope) || !registry_scope_allowed(&r, scope))) {
		rc = refuse_stateless(env, out, OAUTH_INVALID_SCOPE, client->client_id, NULL, r.uri,
		    "scope not allowed by the resource");
		goto out;
	}
	granted = scope != NULL ? scope : registry_default_scopes(&r);
	if (issue_token(env, client->client_id, client->client_id, 0, &r, granted, NULL, 0, NULL,
		NULL, 0, out) != 0)
		goto out;
	audit_record(env, 1, "token.issued", "ok",
	    resource == NULL ? "client_credentials (default resource)" : "client_credentials",
	    client->client_id, client->client_id, r.uri, out->jti, NULL);
	rc = 0;
out:
	store_resource_clear(&r);
	return rc;
}

/* How many actors an act claim nests (0 for none). */
static int64_t
act_depth(const json_t *act)
{
	int64_t n = 0;

	for (; json_is_object(act) && n < 1000; act = json_object_get(act, "act"))
		n++;
	return n;
}

int
grant_token_exchange(const struct grant_env *env, const struct store_client *client,
    const struct exchange_request *x, struct token_response *out)
{
	struct store_resource b;
	json_t *claims = NULL, *act = NULL;
	const json_t *prior;
	const char *aud, *sub, *subject_scope;
	char *edge_scopes = NULL, *allowed = NULL, *allowed_b = NULL, *act_text = NULL;
	char detail[160];
	enum token_refusal why;
	enum oauth_error e;
	int64_t remaining;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	memset(&b, 0, sizeof(b));
	out->exchanged = 1;
	if (client->acts_for == 0 || client->acts_for_uri == NULL)
		return refuse_stateless(env, out, OAUTH_UNAUTHORIZED_CLIENT, client->client_id, NULL,
		    NULL, "this client acts for no resource (client add --acts-for)");
	/* audience names a credential of the vault; downstream MCP servers are resources. */
	if (x->audience != NULL)
		return vault_fetch(env, client, x, out);
	if (x->subject_token == NULL || x->subject_token_type == NULL)
		return refuse_stateless(env, out, OAUTH_INVALID_REQUEST, client->client_id, NULL, NULL,
		    "subject_token and subject_token_type are required");
	if (strcmp(x->subject_token_type, TOKEN_TYPE_ACCESS) != 0)
		return refuse_stateless(env, out, OAUTH_INVALID_REQUEST, client->client_id, NULL, NULL,
		    "subject_token_type must be an access token");
	if (x->actor_token != NULL)
		return refuse_stateless(env, out, OAUTH_INVALID_REQUEST, client->client_id, NULL, NULL,
		    "actor_token is not supported: the authenticated client is the actor");
	if (x->requested_token_type != NULL && strcmp(x->requested_token_type, TOKEN_TYPE_ACCESS) != 0)
		return refuse_stateless(env, out, OAUTH_INVALID_REQUEST, client->client_id, NULL, NULL,
		    "only access tokens can be requested");
	if (x->resource == NULL)
		return refuse_stateless(env, out, OAUTH_INVALID_TARGET, client->client_id, NULL, NULL,
		    "resource is required: the downstream MCP server");

	/* The subject token: ours, intact, current, not revoked, and meant for the party
	 * presenting it. Anything else is the confused deputy at the door. */
	why = access_token_verify(env->keys, x->subject_token, strlen(x->subject_token),
	    env->issuer, env->now, 0, &claims);
	if (why != TOKEN_OK) {
		rc = refuse_stateless(env, out, OAUTH_INVALID_REQUEST, client->client_id, NULL, NULL,
		    why == TOKEN_WRONG_ISSUER ? "subject_token: not issued here"
					      : token_refusal_name(why));
		goto out;
	}
	aud = json_string_value(json_object_get(claims, "aud"));
	sub = json_string_value(json_object_get(claims, "sub"));
	if (store_jti_revoked(env->st, json_string_value(json_object_get(claims, "jti"))) ==
	    STORE_OK) {
		rc = refuse_stateless(env, out, OAUTH_INVALID_REQUEST, client->client_id, sub, NULL,
		    "subject_token: revoked");
		goto out;
	}
	if (strcmp(aud, client->acts_for_uri) != 0) {
		rc = refuse_stateless(env, out, OAUTH_INVALID_REQUEST, client->client_id, sub, aud,
		    "subject_token: its audience is not the resource this client acts for");
		goto out;
	}
	if ((e = registry_resource_find(env->st, x->resource, 0, env->now, &b)) != OAUTH_OK) {
		rc = refuse_stateless(env, out, e, client->client_id, sub, NULL,
		    "unknown or malformed resource");
		goto out;
	}
	if (store_edge_get(env->st, client->acts_for, b.id, &edge_scopes) != STORE_OK) {
		rc = refuse_stateless(env, out, OAUTH_INVALID_TARGET, client->client_id, sub, b.uri,
		    "no exchange is allowed from this resource to that one");
		goto out;
	}
	/* At most the subject's scopes, the edge's and the target's. */
	subject_scope = json_string_value(json_object_get(claims, "scope"));
	allowed = scope_intersect_new(subject_scope ? subject_scope : "",
	    edge_scopes ? edge_scopes : b.scopes);
	allowed_b = allowed ? registry_scope_for(&b, allowed) : NULL;
	if (allowed_b == NULL)
		goto out;
	if (x->scope != NULL && (!scope_valid(x->scope) || !scope_subset(x->scope, allowed_b))) {
		rc = refuse_stateless(env, out, OAUTH_INVALID_SCOPE, client->client_id, sub, b.uri,
		    "scope wider than the subject token, the exchange edge or the target allow");
		goto out;
	}
	/* RFC 8693 §4.1: the current actor outermost, earlier actors nested inside. A chain
	 * has a bound: with edges both ways (A -> B, B -> A) a token could otherwise be
	 * exchanged back and forth for ever, growing with every hop. */
	prior = json_object_get(claims, "act");
	if (act_depth(prior) + 1 > env->max_delegation_depth) {
		rc = refuse_stateless(env, out, OAUTH_INVALID_REQUEST, client->client_id, sub, b.uri,
		    "the delegation chain would be deeper than max_delegation_depth");
		goto out;
	}
	act = json_pack("{s:s}", "sub", client->client_id);
	if (act == NULL || (prior != NULL && json_object_set(act, "act", (json_t *)(uintptr_t)prior) != 0))
		goto out;
	remaining = json_integer_value(json_object_get(claims, "exp")) - env->now;
	if (issue_token(env, client->client_id, sub,
		json_integer_value(json_object_get(claims, "auth_time")), &b,
		x->scope ? x->scope : allowed_b, act, remaining, NULL, NULL, 0, out) != 0)
		goto out;
	act_text = json_dumps(act, JSON_COMPACT);
	snprintf(detail, sizeof(detail), "subject jti %s, aud %s",
	    json_string_value(json_object_get(claims, "jti")), aud);
	{
		struct store_audit a;

		memset(&a, 0, sizeof(a));
		a.ts = env->now;
		a.event = "token.exchanged";
		a.outcome = "ok";
		a.reason = "token exchange";
		a.client_id = client->client_id;
		a.subject = sub;
		a.resource = b.uri;
		a.act = act_text;
		a.jti = out->jti;
		a.remote_addr = env->remote_addr;
		a.detail = detail;
		audit_submit(env->audit, env->st, &a);
	}
	rc = 0;
out:
	if (rc != 0 && out->error == OAUTH_OK)
		refuse(out, OAUTH_SERVER_ERROR, "cannot issue the token");
	json_decref(claims);
	json_decref(act);
	free(edge_scopes);
	free(allowed);
	free(allowed_b);
	free(act_text);
	store_resource_clear(&b);
	return rc;
}

int
grant_refuse(const struct grant_env *env, struct token_response *out, enum oauth_error e,
    const char *client_id, const char *sub, const char *resource, const char *why)
{
	return refuse_stateless(env, out, e, client_id, sub, resource, why);
}

int
grant_refuse_db(struct token_response *out, int store_rc)
{
	return refuse_db(out, store_rc);
}

int
grant_issue_access(const struct grant_env *env, const char *client_id, const char *sub,
    int64_t auth_time, const struct store_resource *r, const char *scope,
    struct token_response *out)
{
	return issue_token(env, client_id, sub, auth_time, r, scope, NULL, 0, NULL, NULL, 0, out);
}

void
grant_audit(const struct grant_env *env, const char *event, const char *outcome,
    const char *reason, const char *client_id, const char *sub, const char *resource,
    const char *jti)
{
	audit_record(env, 1, event, outcome, reason, client_id, sub, resource, jti, NULL);
}
