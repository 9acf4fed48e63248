/* Fuzz target: JWTs of other parties (oauth/assertion.c, oauth/idjag.c): the unverified
 * issuer lookup, the whole client assertion and ID-JAG checks against a JWKS the fuzzer
 * cannot sign for, and the claim checks alone on whatever header and payload parse. */
#include "config.h"

#include "jose/jwk.h"
#include "jose/jws.h"
#include "oauth/assertion.h"
#include "oauth/idjag.h"

#include "fuzz.h"

#include <openssl/evp.h>

#define ISSUER "https://as.example.com"
#define NOW 1800000000

/* One key per type, made once; no input can be signed by them. */
static json_t *jwks;

static void
setup(void)
{
	static const enum jws_alg algs[] = {JWS_ALG_ES256, JWS_ALG_EDDSA, JWS_ALG_RS256};
	EVP_PKEY *k;
	json_t *pub;
	size_t i;

	if (jwks != NULL)
		return;
	jwks = json_pack("{s:[]}", "keys");
	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		if (jwk_generate(algs[i], &k) != 0 || jwk_public_to_json(k, &pub) != 0)
			abort();
		json_array_append_new(json_object_get(jwks, "keys"), pub);
		EVP_PKEY_free(k);
	}
}

/* The claim checks with both kinds' rules, on a header and payload nobody signed. */
static void
claims_only(const char *token, size_t len)
{
	static const struct assertion_expect rules[] = {
	    {"a client assertion", NULL, "c1", "c1", ISSUER, ISSUER "/token", 0, NULL, 0, NOW},
	    {"an ID-JAG", IDJAG_TYP, "https://idp.example", NULL, ISSUER, NULL, 1, "c1", 1, NOW},
	};
	char err[200];
	struct jws jws;
	json_t *claims;
	size_t i;

	if (jws_parse(token, len, &jws) != 0)
		return;
	claims = json_loadb((const char *)jws.payload, jws.payload_len, JSON_REJECT_DUPLICATES, NULL);
	for (i = 0; json_is_object(claims) && i < sizeof(rules) / sizeof(rules[0]); i++) {
		err[0] = '\0';
		if (assertion_claims_check(jws.header, claims, &rules[i], err, sizeof(err)) !=
		    ASSERTION_OK)
			FUZZ_ASSERT(err[0] != '\0');
	}
	json_decref(claims);
	jws_clear(&jws);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *token = fuzz_strdup(data, size), *iss, err[200];
	json_t *claims = NULL;
	struct idjag g;

	setup();
	iss = assertion_peek_issuer(token);
	free(iss);
	err[0] = '\0';
	FUZZ_ASSERT(client_assertion_check(token, jwks, "c1", ISSUER, ISSUER "/token", NOW, &claims,
			err, sizeof(err)) != ASSERTION_OK);
	FUZZ_ASSERT(claims == NULL && err[0] != '\0');
	err[0] = '\0';
	FUZZ_ASSERT(idjag_check(token, jwks, "https://idp.example", ISSUER, "c1", NOW, &g, err,
			sizeof(err)) != ASSERTION_OK);
	FUZZ_ASSERT(g.claims == NULL && err[0] != '\0');
	claims_only(token, strlen(token));
	free(token);
	return 0;
}
