/* JWTs other parties sign and this server accepts: client assertions (RFC 7523 §3,
 * private_key_jwt) and Identity Assertion JWT Authorization Grants (ID-JAG,
 * draft-ietf-oauth-identity-assertion-authz-grant). Checking only: finding the keys and
 * recording used jtis are the caller's. Upstream ID tokens share the signature part. */
#ifndef MCP_OAUTH_ASSERTION_H
#define MCP_OAUTH_ASSERTION_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define ASSERTION_MAX_LIFETIME 300   /* seconds from now to exp, and from iat to exp */
#define ASSERTION_SKEW 30            /* seconds of clock difference tolerated */
#define ASSERTION_CLAIM_MAX 255      /* sub, jti, client_id */
#define ASSERTION_TYPE_JWT_BEARER "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#define GRANT_TYPE_JWT_BEARER "urn:ietf:params:oauth:grant-type:jwt-bearer"
#define GRANT_PROFILE_ID_JAG "urn:ietf:params:oauth:grant-profile:id-jag"
#define IDJAG_TYP "oauth-id-jag+jwt"

/* Why a JWT was refused; the name goes into audit records. */
enum assertion_refusal {
	ASSERTION_OK = 0,
	ASSERTION_MALFORMED,
	ASSERTION_TYPE,          /* typ is not what this kind of JWT carries */
	ASSERTION_ALG,
	ASSERTION_UNKNOWN_KID,   /* no key fits: refetch the JWKS (cool-down) before giving up */
	ASSERTION_SIGNATURE,
	ASSERTION_ISSUER,
	ASSERTION_SUBJECT,
	ASSERTION_AUDIENCE,
	ASSERTION_CLIENT,        /* the client_id claim is not the authenticated client */
	ASSERTION_EXPIRED,
	ASSERTION_LIFETIME,      /* exp too far ahead, iat too long before exp, or exp not
				  * after iat */
	ASSERTION_IAT,           /* issued (or valid from) in the future; missing when required */
	ASSERTION_JTI,
	ASSERTION_RESOURCE,      /* an ID-JAG's resource is not a resource identifier */
	ASSERTION_SCOPE,         /* an ID-JAG's scope is not a scope list */
	ASSERTION_REPLAY,        /* the caller's: this jti was used before */
};

const char *assertion_refusal_name(enum assertion_refusal r);

/* The signature of a compact JWS from another party, checked with a key of jwks: parsed
 * (at most JWS_MAX_LEN bytes; a JWE is refused), alg accepted by jwks_alg_accepted, key
 * picked by kid, signature verified, payload a JSON object without duplicate members.
 * On ASSERTION_OK *header and *claims are new references; otherwise err says why. what
 * names the JWT in err ("the ID token"). */
enum assertion_refusal assertion_verify(const char *token, const json_t *jwks, const char *what,
    json_t **header, json_t **claims, char *err, size_t errlen);

/* What is wrong with the form of token before any key is at hand: ASSERTION_MALFORMED
 * (not a compact JWS, a JWE, a payload that is not a JSON object without duplicates),
 * ASSERTION_ALG (not an accepted alg, "none" included) or ASSERTION_ISSUER (no iss),
 * with err; else ASSERTION_OK. */
enum assertion_refusal assertion_shape(const char *token, const char *what, char *err,
    size_t errlen);

/* The unverified iss of a compact JWT (a new string), to find whose keys verify it;
 * NULL when there is none. Nothing read here is trusted until assertion_verify passes. */
char *assertion_peek_issuer(const char *token);

/* A NumericDate claim as whole seconds: 0, or -1 when missing or not a number. */
int assertion_numeric_date(const json_t *claims, const char *name, int64_t *out);

/* What the claims of an assertion must say. */
struct assertion_expect {
	const char *what;            /* "the client assertion", "the ID-JAG" */
	const char *typ;             /* required typ; NULL: absent, "JWT" or
				      * "client-authentication+jwt" */
	const char *issuer;          /* iss, exactly */
	const char *subject;         /* sub, exactly; NULL: any non-empty subject */
	const char *audience;        /* aud is this ... */
	const char *audience_alt;    /* ... or this (NULL: no alternative) */
	int audience_single;         /* aud a string or an array of one */
	const char *client_id;       /* the client_id claim is this; NULL: not checked */
	int iat_required;
	int64_t now;
};

/* Check header and claims: typ, iss, sub, aud, client_id, exp in the future and at most
 * ASSERTION_MAX_LIFETIME ahead, iat (and nbf) not in the future and iat before exp by at
 * most ASSERTION_MAX_LIFETIME, a jti; ASSERTION_SKEW either way. The edges (30 s, 300 s):
 * exp = now - 29 passes, now - 30 does not (refused once 30 s past exp); exp - now and
 * exp - iat pass up to 330; iat and nbf pass up to now + 30. */
enum assertion_refusal assertion_claims_check(const json_t *header, const json_t *claims,
    const struct assertion_expect *e, char *err, size_t errlen);

/* The replay-cache key of a jti: SHA-256 over the kind ("client", "id-jag"), who
 * issued it and the jti, each NUL-terminated. 0, or -1 out of memory. */
int assertion_replay_key(const char *kind, const char *issuer, const char *jti,
    unsigned char out[32]);

/* A client assertion (RFC 7523 §3) for client_id, with audience this server's issuer or
 * its token endpoint URL: verified with the client's JWKS, then checked. On ASSERTION_OK
 * *claims is a new reference (jti and exp for the replay cache). */
enum assertion_refusal client_assertion_check(const char *token, const json_t *jwks,
    const char *client_id, const char *issuer, const char *token_endpoint, int64_t now,
    json_t **claims, char *err, size_t errlen);

#endif
