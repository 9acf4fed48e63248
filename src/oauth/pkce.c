/* PKCE S256 verification. */
#include "config.h"

#include "oauth/pkce.h"

#include <ctype.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "jose/b64url.h"

#define S256_LEN 43

int
pkce_challenge_valid(const char *challenge)
{
	unsigned char raw[SHA256_DIGEST_LENGTH + 3];
	size_t n;

	return challenge != NULL && strlen(challenge) == S256_LEN &&
	    b64url_decode(challenge, S256_LEN, raw, sizeof(raw), &n) == 0 &&
	    n == SHA256_DIGEST_LENGTH;
}

int
pkce_verifier_valid(const char *verifier)
{
	size_t n, i;

	if (verifier == NULL)
		return 0;
	n = strlen(verifier);
	if (n < 43 || n > 128)
		return 0;
	for (i = 0; i < n; i++) {
		char c = verifier[i];

		if (!isalnum((unsigned char)c) && c != '-' && c != '.' && c != '_' && c != '~')
			return 0;
	}
	return 1;
}

int
pkce_s256_matches(const char *verifier, const char *challenge)
{
	unsigned char digest[SHA256_DIGEST_LENGTH];
	char computed[S256_LEN + 1];

	if (!pkce_verifier_valid(verifier) || !pkce_challenge_valid(challenge))
		return 0;
	SHA256((const unsigned char *)verifier, strlen(verifier), digest);
	b64url_encode(digest, sizeof(digest), computed);
	return CRYPTO_memcmp(computed, challenge, S256_LEN) == 0;
}

int
pkce_s256_challenge(const char *verifier, char out[44])
{
	unsigned char digest[32];
	unsigned int n = 0;

	if (EVP_Digest(verifier, strlen(verifier), digest, &n, EVP_sha256(), NULL) != 1 || n != 32)
		return -1;
	b64url_encode(digest, 32, out);
	return 0;
}
