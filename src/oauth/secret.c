/* Random opaque values and their stored hashes. */
#include "config.h"

#include "oauth/secret.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "jose/b64url.h"
#include "util/rand.h"

char *
secret_random_new(size_t nbytes)
{
	unsigned char raw[64];
	char *out;

	if (nbytes > sizeof(raw) || rand_bytes(raw, nbytes) != 0)
		return NULL;
	out = b64url_encode_new(raw, nbytes);
	OPENSSL_cleanse(raw, sizeof(raw));
	return out;
}

void
secret_hash(const char *secret, unsigned char out[SECRET_HASH_LEN])
{
	SHA256((const unsigned char *)secret, strlen(secret), out);
}
