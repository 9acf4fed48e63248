/* RFC 9068 JWT access tokens: minting and verification of our own tokens. */
#ifndef MCP_OAUTH_CLAIMS_H
#define MCP_OAUTH_CLAIMS_H

#include <stdint.h>

#include <jansson.h>

#include "jose/keystore.h"

/* A jti is 16 random bytes, base64url. */
#define JTI_LEN 22
#define ACCESS_TOKEN_TYP "at+jwt"

struct access_claims {
	const char *iss;
	const char *sub;
	const char *aud;          /* exactly one resource */
	const char *client_id;
	const char *scope;        /* may be NULL or "" (claim left out) */
	int64_t iat;
	int64_t exp;
	int64_t auth_time;        /* 0: no user authentication involved */
	const json_t *act;        /* RFC 8693 §4.1 actor, or NULL */
	const char *jti;          /* chosen beforehand (stateful grants), or NULL for a new one */
};

/* Build the claim set, sign it with the key set's signer, header typ at+jwt.
 * *jwt_out is new (free()); jti_out receives the token's jti (c->jti, or a new one). */
int access_token_mint(const struct keyset *ks, const struct access_claims *c, char **jwt_out,
    char jti_out[JTI_LEN + 1]);

/* Why a presented token was refused (for audit reasons and error text). */
enum token_refusal {
	TOKEN_OK = 0,
	TOKEN_MALFORMED,
	TOKEN_UNKNOWN_KEY,
	TOKEN_BAD_SIGNATURE,
	TOKEN_WRONG_TYPE,
	TOKEN_WRONG_ISSUER,
	TOKEN_EXPIRED,
	TOKEN_NOT_YET_VALID,
	TOKEN_BAD_CLAIMS,
};

const char *token_refusal_name(enum token_refusal r);

/* A new jti (16 random bytes, base64url) into out. 0 or -1. */
int jti_new(char out[JTI_LEN + 1]);

/* Verify a token we issued: parse, find the key by kid among our published keys
 * (the key decides the algorithm), check the signature, typ at+jwt, iss equal to
 * issuer, nbf/exp against now with `leeway` seconds, and the presence and types
 * of the RFC 9068 claims (aud a single string). On TOKEN_OK *claims is the
 * payload (new reference). */
enum token_refusal access_token_verify(const struct keyset *ks, const char *token, size_t len,
    const char *issuer, int64_t now, int64_t leeway, json_t **claims);

#endif
