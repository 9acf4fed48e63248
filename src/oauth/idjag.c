/* ID-JAGs: the checks on top of the shared assertion checks, and the jwt-bearer grant
 * that trades one for an access token. */
#include "config.h"

#include "oauth/idjag.h"

#include <stdio.h>
#include <string.h>

#include "oauth/fedusers.h"
#include "oauth/grants.h"
#include "oauth/registry.h"
#include "oauth/scope.h"

void
idjag_clear(struct idjag *g)
{
	json_decref(g->claims);
	memset(g, 0, sizeof(*g));
}

/* The resource claim: a string, or an array of exactly one (one token, one audience). */
static int
resource_claim(const json_t *claims, const char **out)
{
	const json_t *v = json_object_get(claims, "resource");

	*out = NULL;
	if (v == NULL)
		return 0;
	if (json_is_array(v) && json_array_size(v) == 1)
		v = json_array_get(v, 0);
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 2048)
		return -1;
	*out = json_string_value(v);
	return 0;
}

enum assertion_refusal
idjag_check(const char *token, const json_t *jwks, const char *trusted_issuer,
    const char *our_issuer, const char *client_id, int64_t now, struct idjag *out, char *err,
    size_t errlen)
{
	struct assertion_expect e;
	enum assertion_refusal r;
	json_t *header = NULL, *claims = NULL, *v;
	int64_t exp = 0;

	memset(out, 0, sizeof(*out));
	if ((r = assertion_verify(token, jwks, "the ID-JAG", &header, &claims, err, errlen)) !=
	    ASSERTION_OK)
		return r;
	memset(&e, 0, sizeof(e));
	e.what = "the ID-JAG";
	e.typ = IDJAG_TYP;
	e.issuer = trusted_issuer;
	e.audience = our_issuer;
	e.audience_single = 1;
	e.client_id = client_id;
	e.iat_required = 1;
	e.now = now;
	if ((r = assertion_claims_check(header, claims, &e, err, errlen)) != ASSERTION_OK)
		goto out;
	if (resource_claim(claims, &out->resource) != 0) {
		snprintf(err, errlen, "the ID-JAG's resource is not one resource identifier");
		r = ASSERTION_RESOURCE;
		goto out;
	}
	v = json_object_get(claims, "scope");
	if (v != NULL && (!json_is_string(v) || !scope_valid(json_string_value(v)))) {
		snprintf(err, errlen, "the ID-JAG's scope is not a list of scopes");
		r = ASSERTION_SCOPE;
		goto out;
	}
	assertion_numeric_date(claims, "exp", &exp);
	out->scope = json_string_value(v);
	out->subject = json_string_value(json_object_get(claims, "sub"));
	out->jti = json_string_value(json_object_get(claims, "jti"));
	out->email = json_string_value(json_object_get(claims, "email"));
	out->exp = exp;
	out->claims = claims;
	claims = NULL;
out:
	if (r != ASSERTION_OK)
		out->resource = NULL;
	json_decref(claims);
	json_decref(header);
	return r;
}

int
idjag_client_allowed(const char *allowed, const char *client_id)
{
	return allowed == NULL || scope_has(allowed, client_id);
}

/* ---- the grant ---- */

/* The resource an ID-JAG's token is for: the ID-JAG's, which the request may repeat but
 * not change; else the request's; else the client's default. */
static int
id_jag_resource(const struct grant_env *env, const struct store_client *client,
    const struct idjag *g, const char *requested, struct store_resource *r,
    struct token_response *out)
{
	struct store_resource asked;
	const char *want = g->resource != NULL ? g->resource : requested;
	int same;

	if (want == NULL || want[0] == '\0')
		want = client->default_resource;
	if (want == NULL)
		return grant_refuse(env, out, OAUTH_INVALID_GRANT, client->client_id, g->subject,
		    NULL, "neither the ID-JAG nor the request names a resource");
	if (registry_resource_find(env->st, want, env->auto_register, env->now, r) != OAUTH_OK)
		return grant_refuse(env, out, OAUTH_INVALID_GRANT, client->client_id, g->subject,
		    NULL, "the resource (of the ID-JAG or the request) is not registered here");
	if (g->resource == NULL || requested == NULL)
		return 0;
	memset(&asked, 0, sizeof(asked));
	same = registry_resource_find(env->st, requested, 0, env->now, &asked) == OAUTH_OK &&
	    asked.id == r->id;
	store_resource_clear(&asked);
	if (!same)
		return grant_refuse(env, out, OAUTH_INVALID_GRANT, client->client_id, g->subject,
		    r->uri, "the requested resource is not the ID-JAG's");
	return 0;
}

int
grant_id_jag(const struct grant_env *env, const struct store_client *client,
    const struct store_idp *issuer, const json_t *jwks, const char *assertion,
    const char *resource, const char *scope, struct token_response *out)
{
	struct idjag g;
	struct store_resource r;
	struct store_user u;
	unsigned char replay[32];
	char why[200], *wanted = NULL, *granted = NULL;
	enum assertion_refusal refusal;
	enum fed_user found;
	int rc = -1, src;

	memset(out, 0, sizeof(*out));
	memset(&g, 0, sizeof(g));
	memset(&r, 0, sizeof(r));
	memset(&u, 0, sizeof(u));
	if (assertion == NULL || assertion[0] == '\0')
		return grant_refuse(env, out, OAUTH_INVALID_REQUEST, client->client_id, NULL, NULL,
		    "assertion is required");
	if (scope != NULL && !scope_valid(scope))
		return grant_refuse(env, out, OAUTH_INVALID_SCOPE, client->client_id, NULL, NULL,
		    "scope is malformed");
	if (issuer == NULL) {
		/* Say what is wrong with a token that has no issuer to look up (a JWE, alg none,
		 * a broken payload) rather than blame its issuer. */
		if (assertion_shape(assertion, "the ID-JAG", why, sizeof(why)) != ASSERTION_OK)
			return grant_refuse(env, out, OAUTH_INVALID_GRANT, client->client_id, NULL,
			    NULL, why);
		return grant_refuse(env, out, OAUTH_INVALID_GRANT, client->client_id, NULL, NULL,
		    "the ID-JAG's issuer is not trusted here (idp add --id-jag)");
	}
	if (!idjag_client_allowed(issuer->id_jag_clients, client->client_id))
		return grant_refuse(env, out, OAUTH_INVALID_GRANT, client->client_id, NULL, NULL,
		    "this client may not present ID-JAGs of that issuer (--id-jag-clients)");
	if (jwks == NULL)
		return grant_refuse(env, out, OAUTH_INVALID_GRANT, client->client_id, NULL, NULL,
		    "the ID-JAG issuer's keys are unavailable");
	refusal = idjag_check(assertion, jwks, issuer->issuer, env->issuer, client->client_id,
	    env->now, &g, why, sizeof(why));
	if (refusal != ASSERTION_OK)
		return grant_refuse(env, out, OAUTH_INVALID_GRANT, client->client_id, NULL, NULL,
		    why);
	if (id_jag_resource(env, client, &g, resource, &r, out) != 0)
		goto out;
	/* requested ∩ asserted ∩ the resource's: the IdP's decision bounds the token. An
	 * ID-JAG without scope grants none. */
	wanted = scope != NULL ? scope_intersect_new(scope, g.scope ? g.scope : "")
			       : strdup(g.scope ? g.scope : "");
	if (wanted == NULL || (granted = registry_scope_for(&r, wanted)) == NULL) {
		rc = grant_refuse_db(out, STORE_ERROR);
		goto out;
	}
	/* One use per ID-JAG on every node, remembered until it expires. */
	if (assertion_replay_key("id-jag", issuer->issuer, g.jti, replay) != 0) {
		rc = grant_refuse_db(out, STORE_ERROR);
		goto out;
	}
	if ((src = store_jti_use(env->st, replay, g.exp + ASSERTION_SKEW, env->now)) != STORE_OK) {
		if (src == STORE_CONFLICT)
			grant_refuse(env, out, OAUTH_INVALID_GRANT, client->client_id, g.subject,
			    r.uri, "the ID-JAG was used before (jti)");
		else
			grant_refuse_db(out, src);
		goto out;
	}
	found = fed_user_find(env->st, issuer, g.subject, NULL, 0, env->now, &u);
	if (found == FED_STORE_ERROR) {
		grant_refuse_db(out, STORE_ERROR);
		goto out;
	}
	if (found == FED_BAD_SUBJECT) {
		grant_refuse(env, out, OAUTH_INVALID_GRANT, client->client_id, NULL, r.uri,
		    "the ID-JAG's sub is not 1-255 printable ASCII characters");
		goto out;
	}
	if (found != FED_FOUND && found != FED_CREATED) {
		grant_refuse(env, out, OAUTH_INVALID_GRANT, client->client_id, g.subject, r.uri,
		    "the ID-JAG's subject is no user here (idp add --jit, or user add --idp --sub)");
		goto out;
	}
	if (u.disabled) {
		grant_refuse(env, out, OAUTH_INVALID_GRANT, client->client_id, u.name, r.uri,
		    "the user is disabled");
		goto out;
	}
	/* An access token only: the IdP is asked again when it expires. */
	if (grant_issue_access(env, client->client_id, u.name, env->now, &r, granted, out) != 0)
		goto out;
	grant_audit(env, "token.issued", "ok",
	    found == FED_CREATED ? "id-jag (user created)" : "id-jag", client->client_id, u.name,
	    r.uri, out->jti);
	rc = 0;
out:
	free(wanted);
	free(granted);
	store_user_clear(&u);
	store_resource_clear(&r);
	idjag_clear(&g);
	return rc;
}
