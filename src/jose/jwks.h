/* Verifying what other parties signed: choosing the key of a JWKS for a JWS header, and
 * the algorithms accepted from them. */
#ifndef MCP_JOSE_JWKS_H
#define MCP_JOSE_JWKS_H

#include <jansson.h>
#include <openssl/evp.h>

#include "jose/jws.h"

enum jwks_pick_result {
	JWKS_PICKED = 0,
	JWKS_NO_KEYS,        /* the document has no "keys" array */
	JWKS_NO_MATCH,       /* no key has the kid, or none fits the algorithm */
	JWKS_AMBIGUOUS,      /* no kid in the header and several keys fit */
};

/* Is alg one this server verifies from others: ES256, EdDSA, RS256 or PS256? Never
 * "none", never an HMAC (whose secret an attacker would take from a public JWKS). */
int jwks_alg_accepted(const char *alg);

/* The key of jwks for a header's kid (NULL: the only key that fits) and alg. A key fits
 * when its type is the algorithm's (P-256 for ES256, Ed25519 for EdDSA, RSA of at least
 * 2048 bits for RS256 and PS256), its "use" (when given) is "sig" and its "alg" (when
 * given) is alg. *key is the caller's (EVP_PKEY_free). */
enum jwks_pick_result jwks_pick(const json_t *jwks, const char *kid, const char *alg,
    EVP_PKEY **key);

/* jws_verify for a key of another party: the header's alg must be accepted and fit the
 * key; PS256 is RSASSA-PSS with SHA-256, MGF1 SHA-256 and a 32-byte salt (RFC 7518
 * §3.5). 0 when the signature checks. */
int jwks_verify(const struct jws *jws, EVP_PKEY *key);

#define JWKS_MAX_KEYS 16

/* Is doc a JWKS a client or an issuer may register: {"keys": [...]} with 1 to
 * JWKS_MAX_KEYS public keys (no private members), each of a type an accepted algorithm
 * verifies with. 0, or -1 with a reason. */
int jwks_check_public(const json_t *doc, char *err, size_t errlen);

#endif
