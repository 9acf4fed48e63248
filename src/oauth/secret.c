/* Random opaque values and their stored hashes. */
#include "config.h"

#include "oauth/secret.h"

#include <stdlib.h>
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

char *
secret_random_id_new(size_t nbytes)
{
	char *id;

	/* One draw in 32 starts with '-' or '_': draw again. */
	while ((id = secret_random_new(nbytes)) != NULL && (id[0] == '-' || id[0] == '_'))
		free(id);
	return id;
}

void
secret_hash(const char *secret, unsigned char out[SECRET_HASH_LEN])
{
	SHA256((const unsigned char *)secret, strlen(secret), out);
}
