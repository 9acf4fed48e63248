/* argon2id hashing and verification of user passwords and client secrets. */
#ifndef MCP_UTIL_PASSWORD_H
#define MCP_UTIL_PASSWORD_H

#include <stddef.h>

/* OWASP's minimum for argon2id: m=19 MiB, t=2, p=1. */
#define PASSWORD_M_COST_KIB 19456u
#define PASSWORD_T_COST 2u
#define PASSWORD_PARALLELISM 1u

/* Longest secret accepted for hashing or verification; longer input is refused
 * before argon2 runs so that it cannot be used to burn CPU. */
#define PASSWORD_MAX_LEN 1024u

/* Hash secret[0..len) with a fresh random salt. On success *encoded_out is a
 * PHC-format string ($argon2id$v=19$...) owned by the caller (free()).
 * Returns 0 or -1. Expensive (tens of ms): never call it on an event thread. */
int password_hash_new(const char *secret, size_t len, char **encoded_out);

/* Check secret against an encoded argon2id hash. Returns 1 on a match, 0 on a
 * mismatch, -1 on a malformed hash or an oversized secret. Expensive. */
int password_verify(const char *encoded, const char *secret, size_t len);

#endif
