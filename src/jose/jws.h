/* Compact JWS (RFC 7515) signing and verification; the key decides the algorithm. */
#ifndef MCP_JOSE_JWS_H
#define MCP_JOSE_JWS_H

#include <stddef.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "jose/jwk.h"
#include "util/buf.h"

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

/* A signer for one key, header and all prepared once: the protected header
 * {"alg","kid","typ"} is encoded once and the digest-sign context is set up once
 * and copied for each signature (setting one up costs as much as signing). Safe for
 * concurrent use once built. */
struct jws_signer;

int jws_signer_new(EVP_PKEY *key, const char *kid, const char *typ, struct jws_signer **out);
void jws_signer_free(struct jws_signer *s);

/* Append the compact JWS of payload to out. 0 or -1. */
int jws_signer_sign(const struct jws_signer *s, const char *payload, size_t len, struct buf *out);

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

/* A verifier for one key with its digest-verify context set up once (the same saving
 * as jws_signer); safe for concurrent use once built. */
struct jws_verifier;

int jws_verifier_new(EVP_PKEY *key, struct jws_verifier **out);
void jws_verifier_free(struct jws_verifier *v);

/* jws_verify with a prepared verifier: same rules, same result. */
int jws_verifier_verify(const struct jws_verifier *v, const struct jws *jws);

/* Release what jws_parse allocated; accepts a cleared struct. */
void jws_clear(struct jws *jws);

#endif
