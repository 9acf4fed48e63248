/* argon2id with OWASP parameters on libargon2. */
#include "config.h"

#include "util/password.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>

#include "util/rand.h"

#define SALT_LEN 16
#define HASH_LEN 32

int
password_hash_new(const char *secret, size_t len, char **encoded_out)
{
	uint8_t salt[SALT_LEN];
	size_t enclen;
	char *enc = NULL;
	int rc = -1;

	*encoded_out = NULL;
	if (len > PASSWORD_MAX_LEN)
		goto out;
	if (rand_bytes(salt, sizeof(salt)) != 0)
		goto out;
	enclen = argon2_encodedlen(PASSWORD_T_COST, PASSWORD_M_COST_KIB, PASSWORD_PARALLELISM,
	    SALT_LEN, HASH_LEN, Argon2_id);
	if ((enc = malloc(enclen)) == NULL)
		goto out;
	if (argon2id_hash_encoded(PASSWORD_T_COST, PASSWORD_M_COST_KIB, PASSWORD_PARALLELISM, secret,
		len, salt, sizeof(salt), HASH_LEN, enc, enclen) != ARGON2_OK)
		goto out;
	*encoded_out = enc;
	enc = NULL;
	rc = 0;
out:
	free(enc);
	return rc;
}

int
password_verify(const char *encoded, const char *secret, size_t len)
{
	int r;

	if (encoded == NULL || len > PASSWORD_MAX_LEN)
		return -1;
	if (strncmp(encoded, "$argon2id$", 10) != 0)
		return -1;
	r = argon2id_verify(encoded, secret, len);
	if (r == ARGON2_OK)
		return 1;
	if (r == ARGON2_VERIFY_MISMATCH)
		return 0;
	return -1;
}
