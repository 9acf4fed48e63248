/* Compact JWS (RFC 7515) signing and verification; the key decides the algorithm. */
#ifndef MCP_JOSE_JWS_H
#define MCP_JOSE_JWS_H

#include <stddef.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "jose/jwk.h"

/* Largest compact JWS we parse; anything longer is refused before decoding. */
#define JWS_MAX_LEN (16u * 1024u)

/* A parsed (not yet verified) compact JWS. Owns header, payload and signature. */
struct jws {
	json_t *header;             /* decoded protected header */
	unsigned char *payload;     /* decoded payload, NUL-terminated */
	size_t payload_len;
	unsigned char *sig;         /* decoded signature */
	size_t sig_len;
	char *signing_input;        /* "<b64 header>.<b64 payload>" */
	size_t signing_input_len;
	const char *alg;            /* header "alg", borrowed from header */
	const char *kid;            /* header "kid" or NULL, borrowed */
	const char *typ;            /* header "typ" or NULL, borrowed */
};

/* Sign payload_json with key. The protected header is {"alg","kid","typ"} with alg
 * taken from the key; kid and typ may be NULL to leave them out. *out is a new
 * compact serialization owned by the caller. */
int jws_sign_new(EVP_PKEY *key, const char *kid, const char *typ, const char *payload_json,
    size_t payload_len, char **out);

/* Sign an exact signing input ("<b64 header>.<b64 payload>") and return the
 * base64url signature (new string); for test vectors and the dev bad-token kinds. */
int jws_signature_new(EVP_PKEY *key, const char *signing_input, size_t len, char **out);

/* Split and decode a compact JWS of len bytes. Checks shape only: three parts,
 * base64url, a JSON object header with a string "alg", no "crit", payload
 * present. Pure apart from allocation. 0 or -1; on failure *out is cleared. */
int jws_parse(const char *compact, size_t len, struct jws *out);

/* Verify a parsed JWS with key: the header's alg must be exactly the key's
 * algorithm, then the signature must check. 0 when valid, -1 otherwise. */
int jws_verify(const struct jws *jws, EVP_PKEY *key);

/* Release what jws_parse allocated; accepts a cleared struct. */
void jws_clear(struct jws *jws);

#endif
