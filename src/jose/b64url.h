/* base64url without padding (RFC 4648 §5, RFC 7515 §2). */
#ifndef MCP_JOSE_B64URL_H
#define MCP_JOSE_B64URL_H

#include <stddef.h>

/* Length of the encoding of n bytes (no NUL). */
size_t b64url_encoded_len(size_t n);

/* Encode n bytes into out, which must hold b64url_encoded_len(n) + 1 bytes;
 * NUL-terminates; returns the length written. */
size_t b64url_encode(const void *in, size_t n, char *out);

/* Encode into a new NUL-terminated string owned by the caller; NULL on ENOMEM. */
char *b64url_encode_new(const void *in, size_t n);

/* Decode len characters of unpadded base64url into out (capacity outcap).
 * Refuses padding, characters outside the alphabet, a length of 4k+1, and
 * non-canonical trailing bits. On success *outlen is the byte count.
 * Returns 0 or -1. Pure: no allocation. */
int b64url_decode(const char *in, size_t len, unsigned char *out, size_t outcap, size_t *outlen);

/* Upper bound of the decoded length of len characters. */
size_t b64url_decoded_max(size_t len);

/* Decode into a new buffer owned by the caller (one extra NUL byte is appended
 * so text can be used as a C string; *outlen excludes it). NULL on failure. */
unsigned char *b64url_decode_new(const char *in, size_t len, size_t *outlen);

/* Standard base64 with padding, for the master key file and similar. */
int b64std_decode(const char *in, size_t len, unsigned char *out, size_t outcap, size_t *outlen);
char *b64std_encode_new(const void *in, size_t n);

#endif
