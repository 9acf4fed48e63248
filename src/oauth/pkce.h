/* PKCE (RFC 7636) with S256 only. */
#ifndef MCP_OAUTH_PKCE_H
#define MCP_OAUTH_PKCE_H

/* An S256 code_challenge: base64url of a SHA-256 digest, exactly 43 characters. */
int pkce_challenge_valid(const char *challenge);

/* A code_verifier: 43 to 128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.1). */
int pkce_verifier_valid(const char *verifier);

/* Does BASE64URL(SHA256(verifier)) equal challenge? Constant time. */
int pkce_s256_matches(const char *verifier, const char *challenge);

/* The S256 challenge of a verifier (RFC 7636 §4.2), into out (44 bytes with the NUL):
 * what this server sends when it is the client. */
int pkce_s256_challenge(const char *verifier, char out[44]);

#endif
