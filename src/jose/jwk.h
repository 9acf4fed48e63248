/* JSON Web Keys on OpenSSL EVP_PKEY: generation, public export, import, RFC 7638 thumbprints. */
#ifndef MCP_JOSE_JWK_H
#define MCP_JOSE_JWK_H

#include <jansson.h>
#include <openssl/evp.h>

/* The algorithms we sign with. The key decides which one applies. */
enum jws_alg {
	JWS_ALG_NONE = -1,
	JWS_ALG_ES256 = 0,
	JWS_ALG_EDDSA = 1,
	JWS_ALG_RS256 = 2,
};

/* "ES256", "EdDSA", "RS256". */
const char *jws_alg_name(enum jws_alg alg);

/* Parse an algorithm name (exact, case-sensitive); JWS_ALG_NONE when unknown. */
enum jws_alg jws_alg_parse(const char *name);

/* The one algorithm a key may be used with: EC P-256 -> ES256, Ed25519 -> EdDSA,
 * RSA of at least 2048 bits -> RS256; JWS_ALG_NONE for anything else. */
enum jws_alg jwk_alg_of_key(const EVP_PKEY *key);

/* Generate a fresh key pair for alg; *out owned by the caller (EVP_PKEY_free). */
int jwk_generate(enum jws_alg alg, EVP_PKEY **out);

/* The public JWK of key: only the required public members (kty, crv, x, y, n, e).
 * *out is a new reference. */
int jwk_public_to_json(const EVP_PKEY *key, json_t **out);

/* RFC 7638 thumbprint (SHA-256, base64url) of key's public part; *out is a new
 * string owned by the caller. */
int jwk_thumbprint_new(const EVP_PKEY *key, char **out);

/* Build a key from a JWK object. With want_private the private members must be
 * present (EC d, OKP d, RSA d p q dp dq qi); otherwise they are ignored and the
 * result holds only the public key. */
int jwk_from_json(const json_t *jwk, int want_private, EVP_PKEY **out);

#endif
