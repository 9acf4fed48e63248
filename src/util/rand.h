/* Cryptographically secure random bytes and identifiers. */
#ifndef MCP_UTIL_RAND_H
#define MCP_UTIL_RAND_H

#include <stddef.h>

/* Fill buf with n random bytes from OpenSSL's DRBG; 0 or -1. */
int rand_bytes(void *buf, size_t n);

/* The same for identifiers that must be unique and unguessable but are not secrets
 * (a JWT's jti), at a fraction of the cost per call for n <= 128; 0 or -1. */
int rand_id_bytes(void *buf, size_t n);

#endif
