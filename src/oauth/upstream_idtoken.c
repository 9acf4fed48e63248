/* Upstream providers: the checks every ID token passes (OpenID Connect Core §3.1.3.7). */
#include "config.h"

#include "oauth/upstream.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "oauth/assertion.h"

const char *
upstream_refusal_name(enum upstream_refusal r)
{
	switch (r) {
	case UPSTREAM_OK:
		return "ok";
	case UPSTREAM_MALFORMED:
		return "malformed";
	case UPSTREAM_ALG:
		return "alg";
	case UPSTREAM_UNKNOWN_KID:
		return "unknown_kid";
	case UPSTREAM_SIGNATURE:
		return "signature";
	case UPSTREAM_ISSUER:
		return "iss";
	case UPSTREAM_AUDIENCE:
		return "aud";
	case UPSTREAM_EXPIRED:
		return "exp";
	case UPSTREAM_IAT:
		return "iat";
	case UPSTREAM_NONCE:
		return "nonce";
	case UPSTREAM_SUBJECT:
		return "sub";
	}
	return "?";
}

static enum upstream_refusal
refuse(enum upstream_refusal r, char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "%s", why);
	return r;
}

static enum upstream_refusal
audience_check(const json_t *claims, const char *client_id, char *err, size_t errlen)
{
	const json_t *aud = json_object_get(claims, "aud"), *a;
	const char *azp = json_string_value(json_object_get(claims, "azp"));
	int found = 0;
	size_t i, n = 0;

	if (json_is_string(aud)) {
		found = strcmp(json_string_value(aud), client_id) == 0;
		n = 1;
	} else if (json_is_array(aud)) {
		json_array_foreach(aud, i, a) {
			if (!json_is_string(a))
				return refuse(UPSTREAM_AUDIENCE, err, errlen, "aud holds a non-string");
			if (strcmp(json_string_value(a), client_id) == 0)
				found = 1;
			n++;
		}
	}
	if (!found)
		return refuse(UPSTREAM_AUDIENCE, err, errlen, "the ID token is not for this client (aud)");
	if (json_object_get(claims, "azp") != NULL && (azp == NULL || strcmp(azp, client_id) != 0))
		return refuse(UPSTREAM_AUDIENCE, err, errlen,
		    "the ID token was issued to another party (azp)");
	if (n > 1 && azp == NULL)
		return refuse(UPSTREAM_AUDIENCE, err, errlen,
		    "the ID token has several audiences and no azp");
	return UPSTREAM_OK;
}

static enum upstream_refusal
claims_check(const json_t *claims, const struct upstream_expect *e, char *err, size_t errlen)
{
	const char *iss = json_string_value(json_object_get(claims, "iss"));
	const char *nonce = json_string_value(json_object_get(claims, "nonce"));
	const char *sub = json_string_value(json_object_get(claims, "sub"));
	enum upstream_refusal r;
	int64_t exp, iat;

	if (iss == NULL || strcmp(iss, e->issuer) != 0)
		return refuse(UPSTREAM_ISSUER, err, errlen, "the ID token's iss is not the provider's");
	if ((r = audience_check(claims, e->client_id, err, errlen)) != UPSTREAM_OK)
		return r;
	if (assertion_numeric_date(claims, "exp", &exp) != 0)
		return refuse(UPSTREAM_EXPIRED, err, errlen, "the ID token has no exp");
	if (exp + e->skew <= e->now)
		return refuse(UPSTREAM_EXPIRED, err, errlen, "the ID token has expired");
	if (assertion_numeric_date(claims, "iat", &iat) != 0)
		return refuse(UPSTREAM_IAT, err, errlen, "the ID token has no iat");
	if (iat > e->now + e->skew)
		return refuse(UPSTREAM_IAT, err, errlen, "the ID token was issued in the future");
	if (iat + e->max_age + e->skew < e->now)
		return refuse(UPSTREAM_IAT, err, errlen, "the ID token was issued too long ago");
	if (nonce == NULL || e->nonce == NULL || strcmp(nonce, e->nonce) != 0)
		return refuse(UPSTREAM_NONCE, err, errlen,
		    "the ID token's nonce is not the one this login sent");
	if (sub == NULL || sub[0] == '\0' || strlen(sub) > 255)
		return refuse(UPSTREAM_SUBJECT, err, errlen, "the ID token has no usable sub");
	return UPSTREAM_OK;
}

enum upstream_refusal
upstream_id_token_check(const char *token, const json_t *jwks, const struct upstream_expect *e,
    json_t **claims, char *err, size_t errlen)
{
	enum upstream_refusal r;
	json_t *header = NULL, *payload = NULL;

	*claims = NULL;
	switch (assertion_verify(token, jwks, "the ID token", &header, &payload, err, errlen)) {
	case ASSERTION_OK:
		break;
	case ASSERTION_ALG:
		return UPSTREAM_ALG;
	case ASSERTION_UNKNOWN_KID:
		return UPSTREAM_UNKNOWN_KID;
	case ASSERTION_SIGNATURE:
		return UPSTREAM_SIGNATURE;
	default:
		return UPSTREAM_MALFORMED;
	}
	json_decref(header);
	if ((r = claims_check(payload, e, err, errlen)) != UPSTREAM_OK) {
		json_decref(payload);
		return r;
	}
	*claims = payload;
	return UPSTREAM_OK;
}
