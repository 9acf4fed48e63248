/* Client assertions and ID-JAGs: the signature with another party's JWKS, then the
 * claims, each refusal with its own reason. */
#include "config.h"

#include "oauth/assertion.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "jose/b64url.h"
#include "jose/jwks.h"
#include "jose/jws.h"

const char *
assertion_refusal_name(enum assertion_refusal r)
{
	static const char *const names[] = {"ok", "malformed", "typ", "alg", "unknown_kid",
	    "signature", "iss", "sub", "aud", "client_id", "exp", "lifetime", "iat", "jti",
	    "resource", "scope", "replay"};

	if ((size_t)r >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[r];
}

static enum assertion_refusal
refuse(enum assertion_refusal r, char *err, size_t errlen, const char *what, const char *why)
{
	snprintf(err, errlen, "%s %s", what, why);
	return r;
}

/* The JSON object a base64url segment of at most max bytes decodes to, or NULL. */
static json_t *
segment_object(const char *seg, size_t len, size_t max)
{
	unsigned char *raw;
	size_t n = 0;
	json_t *o;

	if (len == 0 || len > max || (raw = b64url_decode_new(seg, len, &n)) == NULL)
		return NULL;
	o = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL);
	free(raw);
	if (o != NULL && !json_is_object(o)) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

/* Why a token that does not parse as a JWS was sent, when that can be told: an unsigned
 * token (alg "none", empty signature) or an encrypted one (five parts). */
static enum assertion_refusal
unparsable(const char *token, const char *what, char *err, size_t errlen)
{
	const char *dot = strchr(token, '.'), *p;
	json_t *h;
	int dots = 0, none = 0;

	for (p = token; *p != '\0'; p++)
		dots += *p == '.';
	if (dots == 4)
		return refuse(ASSERTION_MALFORMED, err, errlen, what,
		    "is encrypted (JWE): only signed JWTs are accepted");
	if (dot != NULL && (h = segment_object(token, (size_t)(dot - token), 1024)) != NULL) {
		const char *alg = json_string_value(json_object_get(h, "alg"));

		none = alg != NULL && strcasecmp(alg, "none") == 0;
		json_decref(h);
	}
	if (none)
		return refuse(ASSERTION_ALG, err, errlen, what,
		    "is unsigned (alg none): ES256, EdDSA, RS256 or PS256 only");
	return refuse(ASSERTION_MALFORMED, err, errlen, what, "is not a compact JWS");
}

/* Short printable ASCII, neither '"' nor '\\'. */
static int
echoable(const char *s)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= 20 || s[i] < 0x20 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
			return 0;
	}
	return 1;
}

/* Parse a compact JWS and check its alg against the allow-list: an algorithm verified
 * with an asymmetric key; "none" and HMAC (keyed with what an attacker reads from the
 * public JWKS) never. On ASSERTION_OK *jws is the caller's (jws_clear). */
static enum assertion_refusal
parse_accepted(const char *token, const char *what, struct jws *jws, char *err, size_t errlen)
{
	memset(jws, 0, sizeof(*jws));
	if (token == NULL || token[0] == '\0')
		return refuse(ASSERTION_MALFORMED, err, errlen, what, "is missing");
	if (strlen(token) > JWS_MAX_LEN)
		return refuse(ASSERTION_MALFORMED, err, errlen, what, "is too large");
	if (jws_parse(token, strlen(token), jws) != 0)
		return unparsable(token, what, err, errlen);
	if (!jwks_alg_accepted(jws->alg)) {
		/* The caller's alg is named back only when it is short printable ASCII without
		 * quotes (RFC 6749's error_description characters): cut or odd bytes would be
		 * an invalid string in the answer and the audit record. */
		snprintf(err, errlen, "%s: alg %s is not accepted (ES256, EdDSA, RS256, PS256)",
		    what, echoable(jws->alg) ? jws->alg : "(not shown)");
		jws_clear(jws);
		return ASSERTION_ALG;
	}
	return ASSERTION_OK;
}

enum assertion_refusal
assertion_verify(const char *token, const json_t *jwks, const char *what, json_t **header,
    json_t **claims, char *err, size_t errlen)
{
	struct jws jws;
	enum assertion_refusal r = ASSERTION_OK;
	EVP_PKEY *key = NULL;
	json_t *payload = NULL;

	*header = *claims = NULL;
	if ((r = parse_accepted(token, what, &jws, err, errlen)) != ASSERTION_OK)
		return r;
	switch (jwks_pick(jwks, jws.kid, jws.alg, &key)) {
	case JWKS_PICKED:
		break;
	case JWKS_AMBIGUOUS:
		r = refuse(ASSERTION_UNKNOWN_KID, err, errlen, what,
		    "names no kid and several keys of the JWKS fit");
		goto out;
	default:
		r = refuse(ASSERTION_UNKNOWN_KID, err, errlen, what,
		    "was signed by no key of the JWKS (kid and alg)");
		goto out;
	}
	if (jwks_verify(&jws, key) != 0) {
		r = refuse(ASSERTION_SIGNATURE, err, errlen, what, "has a signature that does not verify");
		goto out;
	}
	if ((payload = json_loadb((const char *)jws.payload, jws.payload_len, JSON_REJECT_DUPLICATES,
		 NULL)) == NULL || !json_is_object(payload)) {
		r = refuse(ASSERTION_MALFORMED, err, errlen, what, "has a payload that is not a JSON object");
		goto out;
	}
	*header = json_incref(jws.header);
	*claims = payload;
	payload = NULL;
out:
	json_decref(payload);
	EVP_PKEY_free(key);
	jws_clear(&jws);
	return r;
}

enum assertion_refusal
assertion_shape(const char *token, const char *what, char *err, size_t errlen)
{
	struct jws jws;
	enum assertion_refusal r = ASSERTION_OK;
	json_t *payload = NULL;

	if ((r = parse_accepted(token, what, &jws, err, errlen)) != ASSERTION_OK)
		return r;
	if ((payload = json_loadb((const char *)jws.payload, jws.payload_len,
			JSON_REJECT_DUPLICATES, NULL)) == NULL ||
	    !json_is_object(payload))
		r = refuse(ASSERTION_MALFORMED, err, errlen, what,
		    "has a payload that is not a JSON object (or repeats a member)");
	else if (json_string_value(json_object_get(payload, "iss")) == NULL)
		r = refuse(ASSERTION_ISSUER, err, errlen, what, "names no issuer (iss)");
	json_decref(payload);
	jws_clear(&jws);
	return r;
}

char *
assertion_peek_issuer(const char *token)
{
	const char *a = strchr(token, '.'), *b;
	const char *iss;
	json_t *claims;
	char *out = NULL;

	if (a == NULL || (b = strchr(a + 1, '.')) == NULL)
		return NULL;
	if ((claims = segment_object(a + 1, (size_t)(b - a - 1), JWS_MAX_LEN)) == NULL)
		return NULL;
	if ((iss = json_string_value(json_object_get(claims, "iss"))) != NULL && iss[0] != '\0')
		out = strdup(iss);
	json_decref(claims);
	return out;
}

int
assertion_numeric_date(const json_t *claims, const char *name, int64_t *out)
{
	const json_t *v = json_object_get(claims, name);

	if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) < 1000000000000LL)
		*out = (int64_t)json_integer_value(v);
	else if (json_is_real(v) && json_real_value(v) > 0 && json_real_value(v) < 1e12)
		*out = (int64_t)json_real_value(v);
	else
		return -1;
	return 0;
}

/* A string claim of 1..ASSERTION_CLAIM_MAX bytes, or NULL. */
static const char *
short_string(const json_t *claims, const char *name)
{
	const char *s = json_string_value(json_object_get(claims, name));
	size_t n = s != NULL ? strlen(s) : 0;

	return n > 0 && n <= ASSERTION_CLAIM_MAX ? s : NULL;
}

/* Compare a typ with a media type: case-insensitive, "application/" optional (RFC 7515
 * §4.1.9). */
static int
typ_is(const char *typ, const char *want)
{
	if (strncasecmp(typ, "application/", 12) == 0)
		typ += 12;
	return strcasecmp(typ, want) == 0;
}

static enum assertion_refusal
typ_check(const json_t *header, const struct assertion_expect *e, char *err, size_t errlen)
{
	const json_t *v = json_object_get(header, "typ");
	const char *typ = json_string_value(v);

	if (v != NULL && typ == NULL)
		return refuse(ASSERTION_TYPE, err, errlen, e->what, "has a typ that is not a string");
	if (e->typ != NULL) {
		if (typ == NULL || !typ_is(typ, e->typ)) {
			snprintf(err, errlen, "%s must have typ %s", e->what, e->typ);
			return ASSERTION_TYPE;
		}
		return ASSERTION_OK;
	}
	/* A client assertion: a plain JWT. Any other declared type (an ID-JAG, an access
	 * token, a logout token) is some other party's JWT presented in the wrong place. */
	if (typ != NULL && !typ_is(typ, "JWT") && !typ_is(typ, "client-authentication+jwt"))
		return refuse(ASSERTION_TYPE, err, errlen, e->what, "has the typ of another kind of JWT");
	return ASSERTION_OK;
}

static int
audience_is(const char *aud, const struct assertion_expect *e)
{
	return strcmp(aud, e->audience) == 0 ||
	    (e->audience_alt != NULL && strcmp(aud, e->audience_alt) == 0);
}

/* aud a string that is ours, or an array of them (of one with audience_single): every
 * member must be ours, so that nobody else can accept the same JWT. */
static enum assertion_refusal
audience_check(const json_t *claims, const struct assertion_expect *e, char *err, size_t errlen)
{
	const json_t *aud = json_object_get(claims, "aud"), *a;
	size_t i;

	if (json_is_string(aud)) {
		if (audience_is(json_string_value(aud), e))
			return ASSERTION_OK;
	} else if (json_is_array(aud) && json_array_size(aud) > 0 &&
	    (!e->audience_single || json_array_size(aud) == 1)) {
		json_array_foreach(aud, i, a) {
			if (!json_is_string(a) || !audience_is(json_string_value(a), e))
				break;
		}
		if (i == json_array_size(aud))
			return ASSERTION_OK;
	}
	return refuse(ASSERTION_AUDIENCE, err, errlen, e->what, "is not addressed to this server (aud)");
}

enum assertion_refusal
assertion_claims_check(const json_t *header, const json_t *claims,
    const struct assertion_expect *e, char *err, size_t errlen)
{
	const char *iss = json_string_value(json_object_get(claims, "iss"));
	const char *sub = short_string(claims, "sub");
	const char *cid;
	enum assertion_refusal r;
	int64_t exp, iat = 0, nbf;
	int has_iat;

	if ((r = typ_check(header, e, err, errlen)) != ASSERTION_OK)
		return r;
	if (iss == NULL || strcmp(iss, e->issuer) != 0)
		return refuse(ASSERTION_ISSUER, err, errlen, e->what, "has another issuer (iss)");
	if (sub == NULL)
		return refuse(ASSERTION_SUBJECT, err, errlen, e->what, "has no usable sub");
	if (e->subject != NULL && strcmp(sub, e->subject) != 0)
		return refuse(ASSERTION_SUBJECT, err, errlen, e->what, "has another subject (sub)");
	if ((r = audience_check(claims, e, err, errlen)) != ASSERTION_OK)
		return r;
	if (e->client_id != NULL) {
		if ((cid = short_string(claims, "client_id")) == NULL)
			return refuse(ASSERTION_CLIENT, err, errlen, e->what, "has no client_id");
		if (strcmp(cid, e->client_id) != 0)
			return refuse(ASSERTION_CLIENT, err, errlen, e->what,
			    "was issued to another client (client_id)");
	}
	if (assertion_numeric_date(claims, "exp", &exp) != 0)
		return refuse(ASSERTION_EXPIRED, err, errlen, e->what, "has no exp");
	if (exp + ASSERTION_SKEW <= e->now)
		return refuse(ASSERTION_EXPIRED, err, errlen, e->what, "has expired");
	if (exp > e->now + ASSERTION_MAX_LIFETIME + ASSERTION_SKEW)
		return refuse(ASSERTION_LIFETIME, err, errlen, e->what,
		    "expires too far ahead (at most 5 minutes)");
	has_iat = json_object_get(claims, "iat") != NULL;
	if (has_iat && assertion_numeric_date(claims, "iat", &iat) != 0)
		return refuse(ASSERTION_IAT, err, errlen, e->what, "has an iat that is not a date");
	if (!has_iat && e->iat_required)
		return refuse(ASSERTION_IAT, err, errlen, e->what, "has no iat");
	if (has_iat && iat > e->now + ASSERTION_SKEW)
		return refuse(ASSERTION_IAT, err, errlen, e->what, "was issued in the future");
	if (has_iat && exp - iat > ASSERTION_MAX_LIFETIME + ASSERTION_SKEW)
		return refuse(ASSERTION_LIFETIME, err, errlen, e->what,
		    "lives longer than 5 minutes (exp - iat)");
	/* exp after iat: a JWT that ends when or before it begins comes from no working
	 * issuer, whatever the clocks say (the skew widens windows, it does not turn them). */
	if (has_iat && exp <= iat)
		return refuse(ASSERTION_LIFETIME, err, errlen, e->what,
		    "expires before it was issued (exp - iat)");
	if (json_object_get(claims, "nbf") != NULL &&
	    (assertion_numeric_date(claims, "nbf", &nbf) != 0 || nbf > e->now + ASSERTION_SKEW))
		return refuse(ASSERTION_IAT, err, errlen, e->what, "is not valid yet (nbf)");
	if (short_string(claims, "jti") == NULL)
		return refuse(ASSERTION_JTI, err, errlen, e->what, "has no usable jti");
	return ASSERTION_OK;
}

int
assertion_replay_key(const char *kind, const char *issuer, const char *jti, unsigned char out[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int n = 0;
	int rc = -1;

	if (md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(md, kind, strlen(kind) + 1) == 1 &&
	    EVP_DigestUpdate(md, issuer, strlen(issuer) + 1) == 1 &&
	    EVP_DigestUpdate(md, jti, strlen(jti) + 1) == 1 && EVP_DigestFinal_ex(md, out, &n) == 1)
		rc = 0;
	EVP_MD_CTX_free(md);
	return rc;
}

enum assertion_refusal
client_assertion_check(const char *token, const json_t *jwks, const char *client_id,
    const char *issuer, const char *token_endpoint, int64_t now, json_t **claims, char *err,
    size_t errlen)
{
	struct assertion_expect e;
	enum assertion_refusal r;
	json_t *header = NULL;

	*claims = NULL;
	if ((r = assertion_verify(token, jwks, "the client assertion", &header, claims, err,
		 errlen)) != ASSERTION_OK)
		return r;
	memset(&e, 0, sizeof(e));
	e.what = "the client assertion";
	e.issuer = client_id;     /* RFC 7523 §3: iss and sub are the client */
	e.subject = client_id;
	e.audience = issuer;
	e.audience_alt = token_endpoint;
	e.now = now;
	r = assertion_claims_check(header, *claims, &e, err, errlen);
	json_decref(header);
	if (r != ASSERTION_OK) {
		json_decref(*claims);
		*claims = NULL;
	}
	return r;
}
