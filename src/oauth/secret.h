/* Opaque secrets (codes, refresh tokens, client secrets, ids): generation and the
 * SHA-256 form in which the database keeps them. */
#ifndef MCP_OAUTH_SECRET_H
#define MCP_OAUTH_SECRET_H

#include <stddef.h>

#define SECRET_HASH_LEN 32

/* nbytes random bytes, base64url (new string); NULL on failure. 32 bytes gives
 * the 256-bit codes and tokens of DESIGN.md §1. */
char *secret_random_new(size_t nbytes);

/* A random identifier (client ids) like secret_random_new, but starting with a letter
 * or digit, so that it never reads as an option on a command line. */
char *secret_random_id_new(size_t nbytes);

/* SHA-256 of a NUL-terminated secret, as stored. */
void secret_hash(const char *secret, unsigned char out[SECRET_HASH_LEN]);

#endif
