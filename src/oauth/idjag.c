/* ID-JAG checks on top of the shared assertion checks. */
#include "config.h"

#include "oauth/idjag.h"

#include <stdio.h>
#include <string.h>

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
