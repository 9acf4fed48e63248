/* JWT access tokens per RFC 9068, signed by the active key. */
#include "config.h"

#include "oauth/claims.h"

#include <stdlib.h>
#include <string.h>

#include "jose/b64url.h"
#include "jose/jws.h"
#include "util/rand.h"

static const char *const refusal_names[] = {
    [TOKEN_OK] = "ok",
    [TOKEN_MALFORMED] = "malformed token",
    [TOKEN_UNKNOWN_KEY] = "unknown signing key",
    [TOKEN_BAD_SIGNATURE] = "bad signature",
    [TOKEN_WRONG_TYPE] = "not an access token (typ)",
    [TOKEN_WRONG_ISSUER] = "foreign issuer",
    [TOKEN_EXPIRED] = "expired",
    [TOKEN_NOT_YET_VALID] = "not yet valid",
    [TOKEN_BAD_CLAIMS] = "missing or malformed claims",
};

const char *
token_refusal_name(enum token_refusal r)
{
	if ((size_t)r >= sizeof(refusal_names) / sizeof(refusal_names[0]))
		return "refused";
	return refusal_names[r];
}

int
access_token_mint(const struct keyset *ks, const struct access_claims *c, char **jwt_out,
    char jti_out[JTI_LEN + 1])
{
	unsigned char raw[16];
	EVP_PKEY *key;
	const char *kid;
	json_t *payload = NULL;
	char *text = NULL;
	int rc = -1;

	*jwt_out = NULL;
	jti_out[0] = '\0';
	if (keyset_signer(ks, &key, &kid) != 0)
		goto out;
	if (rand_bytes(raw, sizeof(raw)) != 0)
		goto out;
	b64url_encode(raw, sizeof(raw), jti_out);
	payload = json_object();
	if (payload == NULL)
		goto out;
	if (c->extra != NULL && json_object_update(payload, (json_t *)(uintptr_t)c->extra) != 0)
		goto out;
	/* The registered claims are set last so that extra claims cannot replace them. */
	if (json_object_set_new(payload, "iss", json_string(c->iss)) != 0 ||
	    json_object_set_new(payload, "sub", json_string(c->sub)) != 0 ||
	    json_object_set_new(payload, "aud", json_string(c->aud)) != 0 ||
	    json_object_set_new(payload, "client_id", json_string(c->client_id)) != 0 ||
	    json_object_set_new(payload, "iat", json_integer(c->iat)) != 0 ||
	    json_object_set_new(payload, "nbf", json_integer(c->iat)) != 0 ||
	    json_object_set_new(payload, "exp", json_integer(c->exp)) != 0 ||
	    json_object_set_new(payload, "jti", json_string(jti_out)) != 0)
		goto out;
	if (c->scope != NULL && c->scope[0] != '\0' &&
	    json_object_set_new(payload, "scope", json_string(c->scope)) != 0)
		goto out;
	if (c->auth_time > 0 &&
	    json_object_set_new(payload, "auth_time", json_integer(c->auth_time)) != 0)
		goto out;
	if (c->act != NULL &&
	    json_object_set(payload, "act", (json_t *)(uintptr_t)c->act) != 0)
		goto out;
	if ((text = json_dumps(payload, JSON_COMPACT)) == NULL)
		goto out;
	if (jws_sign_new(key, kid, ACCESS_TOKEN_TYP, text, strlen(text), jwt_out) != 0)
		goto out;
	rc = 0;
out:
	json_decref(payload);
	free(text);
	if (rc != 0)
		jti_out[0] = '\0';
	return rc;
}

static int
is_int(const json_t *j)
{
	return json_is_integer(j);
}

enum token_refusal
access_token_verify(const struct keyset *ks, const char *token, size_t len, const char *issuer,
    int64_t now, int64_t leeway, json_t **claims)
{
	struct jws jws;
	EVP_PKEY *key;
	json_t *payload = NULL, *j;
	json_error_t jerr;
	enum token_refusal r;

	*claims = NULL;
	if (jws_parse(token, len, &jws) != 0)
		return TOKEN_MALFORMED;
	if (jws.kid == NULL || (key = keyset_find(ks, jws.kid)) == NULL) {
		r = TOKEN_UNKNOWN_KEY;
		goto out;
	}
	if (jws_verify(&jws, key) != 0) {
		r = TOKEN_BAD_SIGNATURE;
		goto out;
	}
	/* RFC 9068 §4: typ must be at+jwt (application/at+jwt is the same media type). */
	if (jws.typ == NULL || (strcasecmp(jws.typ, ACCESS_TOKEN_TYP) != 0 &&
				   strcasecmp(jws.typ, "application/at+jwt") != 0)) {
		r = TOKEN_WRONG_TYPE;
		goto out;
	}
	payload = json_loadb((const char *)jws.payload, jws.payload_len, JSON_REJECT_DUPLICATES,
	    &jerr);
	if (!json_is_object(payload)) {
		r = TOKEN_MALFORMED;
		goto out;
	}
	j = json_object_get(payload, "iss");
	if (!json_is_string(j) || strcmp(json_string_value(j), issuer) != 0) {
		r = TOKEN_WRONG_ISSUER;
		goto out;
	}
	if (!json_is_string(json_object_get(payload, "aud")) ||
	    !json_is_string(json_object_get(payload, "sub")) ||
	    !json_is_string(json_object_get(payload, "client_id")) ||
	    !json_is_string(json_object_get(payload, "jti")) ||
	    !is_int(json_object_get(payload, "exp")) || !is_int(json_object_get(payload, "iat"))) {
		r = TOKEN_BAD_CLAIMS;
		goto out;
	}
	j = json_object_get(payload, "scope");
	if (j != NULL && !json_is_string(j)) {
		r = TOKEN_BAD_CLAIMS;
		goto out;
	}
	if (json_integer_value(json_object_get(payload, "exp")) + leeway <= now) {
		r = TOKEN_EXPIRED;
		goto out;
	}
	j = json_object_get(payload, "nbf");
	if (j != NULL && (!is_int(j) || json_integer_value(j) - leeway > now)) {
		r = is_int(j) ? TOKEN_NOT_YET_VALID : TOKEN_BAD_CLAIMS;
		goto out;
	}
	*claims = payload;
	payload = NULL;
	r = TOKEN_OK;
out:
	json_decref(payload);
	jws_clear(&jws);
	return r;
}
