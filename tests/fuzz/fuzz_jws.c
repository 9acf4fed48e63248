/* Fuzz target: compact JWS parsing and verification, and JWK import from a header. */
#include "config.h"

#include "jose/jwk.h"
#include "jose/jws.h"

#include "fuzz.h"

#include <openssl/evp.h>

#define NKEYS 3

/* One key per algorithm, made once: the fuzzer cannot know them, so no input may
 * ever verify. They live for the whole process (libFuzzer has no teardown hook). */
static EVP_PKEY *keys[NKEYS];
static struct jws_verifier *verifiers[NKEYS];

static void
setup(void)
{
	static const enum jws_alg algs[NKEYS] = { JWS_ALG_ES256, JWS_ALG_EDDSA, JWS_ALG_RS256 };
	size_t i;

	if (keys[0] != NULL)
		return;
	for (i = 0; i < NKEYS; i++) {
		if (jwk_generate(algs[i], &keys[i]) != 0 || jws_verifier_new(keys[i], &verifiers[i]) != 0)
			abort();
	}
}

/* An embedded "jwk" header member is attacker-chosen key material: import it the way
 * a careless verifier would, and export it again, to exercise jwk_from_json. */
static void
import_header_jwk(const json_t *header)
{
	const json_t *jwk = json_object_get(header, "jwk");
	EVP_PKEY *k = NULL;
	json_t *pub = NULL;
	char *thumb = NULL;

	if (!json_is_object(jwk))
		return;
	if (jwk_from_json(jwk, 0, &k) == 0) {
		FUZZ_ASSERT(jwk_public_to_json(k, &pub) == 0 || jwk_alg_of_key(k) == JWS_ALG_NONE);
		if (jwk_alg_of_key(k) != JWS_ALG_NONE)
			FUZZ_ASSERT(jwk_thumbprint_new(k, &thumb) == 0);
	}
	free(thumb);
	json_decref(pub);
	EVP_PKEY_free(k);
	k = NULL;
	if (jwk_from_json(jwk, 1, &k) == 0)
		FUZZ_ASSERT(k != NULL);
	EVP_PKEY_free(k);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jws jws;
	size_t i;

	setup();
	if (jws_parse((const char *)data, size, &jws) != 0)
		return 0;
	FUZZ_ASSERT(jws.alg != NULL && jws.payload != NULL && json_is_object(jws.header));
	FUZZ_ASSERT(jws.signing_input_len < size);
	for (i = 0; i < NKEYS; i++) {
		FUZZ_ASSERT(jws_verify(&jws, keys[i]) != 0);
		FUZZ_ASSERT(jws_verifier_verify(verifiers[i], &jws) != 0);
	}
	import_header_jwk(jws.header);
	jws_clear(&jws);
	return 0;
}
