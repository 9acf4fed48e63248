/* Fuzz target: what an upstream OpenID provider sends: its discovery document
 * (upstream_metadata_parse) and ID tokens (upstream_id_token_check, against a fixed JWKS:
 * the header, the algorithm and key choice and the claim checks before and around the
 * signature). The first byte picks which. */
#include "config.h"

#include "oauth/upstream.h"

#include "fuzz.h"

#include <jansson.h>

#define ISSUER "https://idp.example.com"

static const char jwks_text[] =
    "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"k1\",\"alg\":\"ES256\",\"use\":\"sig\","
    "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
    "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"},"
    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"k2\","
    "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}]}";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct upstream_metadata md;
	struct upstream_expect e;
	json_t *doc, *jwks, *claims = NULL;
	char *text, err[256];
	enum upstream_refusal r;

	if (size == 0)
		return 0;
	err[0] = '\0';
	if (data[0] & 1) {
		doc = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, NULL);
		if (doc == NULL)
			return 0;
		memset(&md, 0, sizeof(md));
		if (upstream_metadata_parse(doc, ISSUER, data[0] & 2, &md, err, sizeof(err)) == 0) {
			FUZZ_ASSERT(md.issuer != NULL && strcmp(md.issuer, ISSUER) == 0);
			FUZZ_ASSERT(md.authorization_endpoint != NULL && md.token_endpoint != NULL &&
			    md.jwks_uri != NULL);
		} else
			FUZZ_ASSERT(err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL);
		upstream_metadata_clear(&md);
		json_decref(doc);
		return 0;
	}
	jwks = json_loads(jwks_text, 0, NULL);
	FUZZ_ASSERT(jwks != NULL);
	text = fuzz_strdup(data + 1, size - 1);
	memset(&e, 0, sizeof(e));
	e.issuer = ISSUER;
	e.client_id = "client-1";
	e.nonce = "n0nce";
	e.now = 1700000000;
	e.skew = 30;
	e.max_age = 600;
	r = upstream_id_token_check(text, jwks, &e, &claims, err, sizeof(err));
	/* Nothing random carries a signature of these keys. */
	FUZZ_ASSERT(r != UPSTREAM_OK && claims == NULL);
	FUZZ_ASSERT(err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL);
	FUZZ_ASSERT(upstream_refusal_name(r) != NULL);
	free(text);
	json_decref(jwks);
	return 0;
}
