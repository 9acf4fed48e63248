/* JWT access tokens per RFC 9068, signed by the active key. */
#include "config.h"

#include "oauth/claims.h"

#include <stdlib.h>
#include <string.h>

#include "jose/b64url.h"
#include "jose/jws.h"
#include "util/jsonw.h"
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

/* The claim set as JSON text, written directly (this runs for every token). */
static int
payload_text(const struct access_claims *c, const char *jti, struct buf *b)
{
	char *act = NULL;
	int rc;

	/* One append per statement: C leaves the order of the operands of `|` open. */
	rc = buf_putc(b, '{');
	rc |= jsonw_member_string(b, 1, "iss", c->iss);
	rc |= jsonw_member_string(b, 0, "sub", c->sub);
	rc |= jsonw_member_string(b, 0, "aud", c->aud);
	rc |= jsonw_member_string(b, 0, "client_id", c->client_id);
	rc |= jsonw_member_int(b, 0, "iat", c->iat);
	rc |= jsonw_member_int(b, 0, "nbf", c->iat);
	rc |= jsonw_member_int(b, 0, "exp", c->exp);
	rc |= jsonw_member_string(b, 0, "jti", jti);
	if (c->scope != NULL && c->scope[0] != '\0')
		rc |= jsonw_member_string(b, 0, "scope", c->scope);
	if (c->auth_time > 0)
		rc |= jsonw_member_int(b, 0, "auth_time", c->auth_time);
	if (c->act != NULL) {
		if ((act = json_dumps(c->act, JSON_COMPACT)) == NULL)
			return -1;
		rc |= buf_puts(b, ",\"act\":");
		rc |= buf_puts(b, act);
		free(act);
	}
	rc |= buf_putc(b, '}');
	return rc == BUF_OK ? 0 : -1;
}

int
jti_new(char out[JTI_LEN + 1])
{
	unsigned char raw[16];

	out[0] = '\0';
	if (rand_id_bytes(raw, sizeof(raw)) != 0)
		return -1;
	b64url_encode(raw, sizeof(raw), out);
	return 0;
}

int
access_token_mint(const struct keyset *ks, const struct access_claims *c, char **jwt_out,
    char jti_out[JTI_LEN + 1])
{
	const struct jws_signer *signer = keyset_jws_signer(ks);
	struct buf payload, jwt;
	char jti[JTI_LEN + 1];
	int rc = -1;

	*jwt_out = NULL;
	/* c->jti may be jti_out itself: read it before writing there. */
	if (c->jti != NULL && strlen(c->jti) == JTI_LEN)
		memcpy(jti, c->jti, JTI_LEN + 1);
	else if (jti_new(jti) != 0)
		jti[0] = '\0';
	memcpy(jti_out, jti, JTI_LEN + 1);
	buf_init(&payload, 64 * 1024);
	buf_init(&jwt, 128 * 1024);
	if (signer == NULL || jti[0] == '\0')
		goto out;
	if (payload_text(c, jti_out, &payload) != 0)
		goto out;
	if (jws_signer_sign(signer, payload.data, payload.len, &jwt) != 0)
		goto out;
	if ((*jwt_out = buf_take(&jwt)) == NULL)
		goto out;
	rc = 0;
out:
	buf_free(&payload);
	buf_free(&jwt);
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
	const struct jws_verifier *key;
	json_t *payload = NULL, *j;
	json_error_t jerr;
	enum token_refusal r;

	*claims = NULL;
	if (jws_parse(token, len, &jws) != 0)
		return TOKEN_MALFORMED;
	if (jws.kid == NULL || (key = keyset_verifier(ks, jws.kid)) == NULL) {
		r = TOKEN_UNKNOWN_KEY;
		goto out;
	}
	if (jws_verifier_verify(key, &jws) != 0) {
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
