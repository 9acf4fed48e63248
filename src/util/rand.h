/* Cryptographically secure random bytes and identifiers. */
#ifndef MCP_UTIL_RAND_H
#define MCP_UTIL_RAND_H

#include <stddef.h>

/* Fill buf with n random bytes from OpenSSL's DRBG; 0 or -1. */
int rand_bytes(void *buf, size_t n);

#endif
