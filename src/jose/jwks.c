/* Keys of other parties: a JWKS searched for a header's kid and alg, and verification
 * with either RSA algorithm. */
#include "config.h"

#include "jose/jwks.h"

#include <stdio.h>
#include <string.h>

#include <openssl/rsa.h>

#include "jose/jwk.h"

#define PS256_SALT_LEN 32

int
jwks_alg_accepted(const char *alg)
{
	return alg != NULL && (strcmp(alg, "ES256") == 0 || strcmp(alg, "EdDSA") == 0 ||
				  strcmp(alg, "RS256") == 0 || strcmp(alg, "PS256") == 0);
}

/* Does the key's type go with the header's algorithm? */
static int
key_fits(const EVP_PKEY *key, const char *alg)
{
	enum jws_alg k = jwk_alg_of_key(key);

	if (k == JWS_ALG_NONE || !jwks_alg_accepted(alg))
		return 0;
	if (strcmp(alg, "PS256") == 0)
		return k == JWS_ALG_RS256;
	return strcmp(alg, jws_alg_name(k)) == 0;
}

enum jwks_pick_result
jwks_pick(const json_t *jwks, const char *kid, const char *alg, EVP_PKEY **key)
{
	const json_t *keys = json_object_get(jwks, "keys"), *k;
	EVP_PKEY *found = NULL, *candidate;
	size_t i;
	int matches = 0;

	*key = NULL;
	if (!json_is_array(keys))
		return JWKS_NO_KEYS;
	json_array_foreach(keys, i, k) {
		const char *use = json_string_value(json_object_get(k, "use"));
		const char *kalg = json_string_value(json_object_get(k, "alg"));
		const char *kkid = json_string_value(json_object_get(k, "kid"));

		if (kid != NULL && (kkid == NULL || strcmp(kid, kkid) != 0))
			continue;
		/* A key meant for encryption, or pinned to another algorithm, never fits. */
		if ((use != NULL && strcmp(use, "sig") != 0) || (kalg != NULL && strcmp(kalg, alg) != 0))
			continue;
		if (jwk_from_json(k, 0, &candidate) != 0)
			continue;
		if (!key_fits(candidate, alg)) {
			EVP_PKEY_free(candidate);
			continue;
		}
		matches++;
		EVP_PKEY_free(found);
		found = candidate;
	}
	if (found == NULL)
		return JWKS_NO_MATCH;
	if (kid == NULL && matches > 1) {
		EVP_PKEY_free(found);
		return JWKS_AMBIGUOUS;
	}
	*key = found;
	return JWKS_PICKED;
}

static int
verify_pss(const struct jws *jws, EVP_PKEY *key)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int rc = -1;

	if (md == NULL)
		return -1;
	if (EVP_DigestVerifyInit_ex(md, &pctx, "SHA256", NULL, NULL, key, NULL) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, PS256_SALT_LEN) != 1 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1)
		goto out;
	if (EVP_DigestVerify(md, jws->sig, jws->sig_len, (const unsigned char *)jws->signing_input,
		jws->signing_input_len) == 1)
		rc = 0;
out:
	EVP_MD_CTX_free(md);
	return rc;
}

int
jwks_verify(const struct jws *jws, EVP_PKEY *key)
{
	if (jws->alg == NULL || !key_fits(key, jws->alg))
		return -1;
	if (strcmp(jws->alg, "PS256") == 0)
		return verify_pss(jws, key);
	return jws_verify(jws, key);
}

int
jwks_check_public(const json_t *doc, char *err, size_t errlen)
{
	static const char *const private_members[] = {"d", "p", "q", "dp", "dq", "qi", "k", NULL};
	const json_t *keys = json_object_get(doc, "keys"), *k;
	EVP_PKEY *key;
	size_t i, j;

	if (!json_is_object(doc) || !json_is_array(keys) || json_array_size(keys) == 0 ||
	    json_array_size(keys) > JWKS_MAX_KEYS) {
		snprintf(err, errlen, "a JWKS is {\"keys\": [...]} with 1 to %d keys", JWKS_MAX_KEYS);
		return -1;
	}
	json_array_foreach(keys, i, k) {
		for (j = 0; private_members[j] != NULL; j++) {
			if (json_object_get(k, private_members[j]) != NULL) {
				snprintf(err, errlen, "key %zu holds private or secret material (%s): "
				    "register public keys only", i, private_members[j]);
				return -1;
			}
		}
		if (jwk_from_json(k, 0, &key) != 0) {
			snprintf(err, errlen, "key %zu is not a public JWK this server reads", i);
			return -1;
		}
		j = jwk_alg_of_key(key) != JWS_ALG_NONE;
		EVP_PKEY_free(key);
		if (!j) {
			snprintf(err, errlen, "key %zu is not P-256, Ed25519 or RSA of 2048 bits or more",
			    i);
			return -1;
		}
	}
	return 0;
}
