/* JWS and JWK against published vectors (RFC 7515 A.2/A.3, RFC 8037 A.4, RFC 7638 §3.1),
 * and every refusal of the verifier. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jose/b64url.h"
#include "jose/jwk.h"
#include "jose/jws.h"
#include "tap.h"

static json_t *
load_vector(const char *name)
{
	json_error_t err;
	size_t len;
	char *text = tap_read_data(name, &len);
	json_t *j = json_loadb(text, len, 0, &err);

	free(text);
	if (j == NULL) {
		printf("Bail out! %s: %s\n", name, err.text);
		exit(1);
	}
	return j;
}

static int
verify_text(const char *compact, EVP_PKEY *key)
{
	struct jws jws;
	int rc;

	if (jws_parse(compact, strlen(compact), &jws) != 0)
		return -2;
	rc = jws_verify(&jws, key);
	jws_clear(&jws);
	return rc;
}

/* Flip one bit of the character at index i (staying inside the base64url alphabet
 * by swapping between two letters). */
static char *
flipped(const char *compact, size_t i)
{
	char *c = strdup(compact);

	c[i] = c[i] == 'A' ? 'B' : 'A';
	return c;
}

static void
vector(const char *file, const char *alg, int deterministic)
{
	json_t *v = load_vector(file);
	const char *jws_text = json_string_value(json_object_get(v, "jws"));
	const char *prot = json_string_value(json_object_get(v, "protected_b64"));
	const char *payload = json_string_value(json_object_get(v, "payload_b64"));
	EVP_PKEY *priv = NULL, *pub = NULL;
	char *input = NULL, *sig = NULL, *bad;
	size_t n;

	ok(jwk_from_json(json_object_get(v, "jwk"), 1, &priv) == 0, "%s: private JWK imports", file);
	ok(jwk_from_json(json_object_get(v, "jwk"), 0, &pub) == 0, "%s: public JWK imports", file);
	is_str(jws_alg_name(jwk_alg_of_key(pub)), alg, "%s: the key decides %s", file, alg);
	is_int(verify_text(jws_text, pub), 0, "%s: published JWS verifies", file);
	n = strlen(prot) + strlen(payload) + 2;
	input = malloc(n);
	snprintf(input, n, "%s.%s", prot, payload);
	ok(jws_signature_new(priv, input, strlen(input), &sig) == 0, "%s: signs", file);
	if (deterministic) {
		is_str(sig, strrchr(jws_text, '.') + 1, "%s: signature equals the published one", file);
	} else {
		size_t m = strlen(input) + strlen(sig) + 2;
		char *mine = malloc(m);

		snprintf(mine, m, "%s.%s", input, sig);
		is_int(verify_text(mine, pub), 0, "%s: a fresh signature verifies", file);
		free(mine);
	}
	/* A flipped bit anywhere in header, payload or signature breaks it. */
	bad = flipped(jws_text, 5);
	ok(verify_text(bad, pub) != 0, "%s: flipped header bit refused", file);
	free(bad);
	bad = flipped(jws_text, strlen(prot) + 3);
	ok(verify_text(bad, pub) != 0, "%s: flipped payload bit refused", file);
	free(bad);
	bad = flipped(jws_text, strlen(jws_text) - 5);
	ok(verify_text(bad, pub) != 0, "%s: flipped signature bit refused", file);
	free(bad);
	/* Truncations. */
	bad = strdup(jws_text);
	bad[strlen(bad) - 4] = '\0';
	ok(verify_text(bad, pub) != 0, "%s: truncated signature refused", file);
	bad[strrchr(bad, '.') - bad] = '\0';
	ok(verify_text(bad, pub) == -2, "%s: two parts refused by the parser", file);
	free(bad);
	free(input);
	free(sig);
	EVP_PKEY_free(priv);
	EVP_PKEY_free(pub);
	json_decref(v);
}

/* A compact JWS with a given header JSON, payload and signature bytes. */
static char *
forge(const char *header, const char *payload, const char *sig_b64)
{
	char *h = b64url_encode_new(header, strlen(header));
	char *p = b64url_encode_new(payload, strlen(payload));
	size_t n = strlen(h) + strlen(p) + strlen(sig_b64) + 3;
	char *out = malloc(n);

	snprintf(out, n, "%s.%s.%s", h, p, sig_b64);
	free(h);
	free(p);
	return out;
}

static void
refusals(void)
{
	EVP_PKEY *ec = NULL, *ed = NULL, *rsa = NULL;
	char *t = NULL, *forged;
	struct jws jws;
	const char *dot;

	ok(jwk_generate(JWS_ALG_ES256, &ec) == 0 && jwk_generate(JWS_ALG_EDDSA, &ed) == 0 &&
	    jwk_generate(JWS_ALG_RS256, &rsa) == 0, "generate one key per algorithm");
	ok(jws_sign_new(ec, "k1", "at+jwt", "{\"a\":1}", 7, &t) == 0, "ES256 sign");
	is_int(verify_text(t, ec), 0, "ES256 round trip");
	ok(verify_text(t, ed) != 0, "ES256 token refused by an Ed25519 key (wrong alg for key)");
	ok(verify_text(t, rsa) != 0, "ES256 token refused by an RSA key");
	ok(jws_parse(t, strlen(t), &jws) == 0, "parse");
	is_str(jws.kid, "k1", "kid parsed");
	is_str(jws.typ, "at+jwt", "typ parsed");
	is_str(jws.alg, "ES256", "alg from the key");
	jws_clear(&jws);
	dot = strrchr(t, '.');

	/* alg none: header says none, no signature. */
	forged = forge("{\"alg\":\"none\"}", "{\"a\":1}", "");
	ok(verify_text(forged, ec) != 0, "alg none with empty signature refused");
	free(forged);
	forged = forge("{\"alg\":\"none\",\"kid\":\"k1\"}", "{\"a\":1}", dot + 1);
	ok(verify_text(forged, ec) != 0, "alg none with a real signature refused");
	free(forged);
	/* The header may not pick another algorithm for the key. */
	forged = forge("{\"alg\":\"HS256\",\"kid\":\"k1\"}", "{\"a\":1}", dot + 1);
	ok(verify_text(forged, ec) != 0, "HS256 header refused for an EC key");
	free(forged);
	forged = forge("{\"alg\":\"ES384\",\"kid\":\"k1\"}", "{\"a\":1}", dot + 1);
	ok(verify_text(forged, ec) != 0, "ES384 header refused for a P-256 key");
	free(forged);
	forged = forge("{\"alg\":\"ES256\",\"crit\":[\"exp\"]}", "{}", dot + 1);
	ok(jws_parse(forged, strlen(forged), &jws) != 0, "crit header refused");
	free(forged);
	forged = forge("[1,2]", "{}", dot + 1);
	ok(jws_parse(forged, strlen(forged), &jws) != 0, "non-object header refused");
	free(forged);
	forged = forge("{\"alg\":\"ES256\",\"alg\":\"none\"}", "{}", dot + 1);
	ok(jws_parse(forged, strlen(forged), &jws) != 0, "duplicate header member refused");
	free(forged);
	forged = forge("{\"alg\":7}", "{}", dot + 1);
	ok(jws_parse(forged, strlen(forged), &jws) != 0, "non-string alg refused");
	free(forged);
	ok(jws_parse("a.b.c.d", 7, &jws) != 0, "four parts refused");
	ok(jws_parse("..", 2, &jws) != 0, "empty parts refused");
	ok(jws_parse("", 0, &jws) != 0, "empty input refused");
	ok(jws_parse("e30.e30.!!", 10, &jws) != 0, "bad base64url signature refused");
	{
		char big[JWS_MAX_LEN + 10];

		memset(big, 'A', sizeof(big));
		big[10] = '.';
		big[20] = '.';
		ok(jws_parse(big, sizeof(big), &jws) != 0, "oversized token refused before decoding");
	}
	/* ES256 signatures must be exactly 64 bytes. */
	{
		char *s65, *withsig;
		unsigned char raw[65];
		size_t n = dot - t + 1;

		memset(raw, 1, sizeof(raw));
		s65 = b64url_encode_new(raw, sizeof(raw));
		withsig = malloc(n + strlen(s65) + 1);
		memcpy(withsig, t, n);
		memcpy(withsig + n, s65, strlen(s65) + 1);
		ok(verify_text(withsig, ec) != 0, "ES256 signature of 65 bytes refused");
		free(s65);
		free(withsig);
	}
	free(t);
	ok(jws_sign_new(ed, NULL, NULL, "{}", 2, &t) == 0 && verify_text(t, ed) == 0,
	    "EdDSA round trip without kid/typ");
	free(t);
	ok(jws_sign_new(rsa, "r", NULL, "{}", 2, &t) == 0 && verify_text(t, rsa) == 0,
	    "RS256 round trip");
	free(t);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(ed);
	EVP_PKEY_free(rsa);
}

static void
thumbprints(void)
{
	json_t *v = load_vector("rfc7638_thumbprint.json");
	EVP_PKEY *k = NULL;
	char *tp = NULL;
	json_t *exported = NULL;

	ok(jwk_from_json(json_object_get(v, "jwk"), 0, &k) == 0, "RFC 7638 key imports");
	ok(jwk_thumbprint_new(k, &tp) == 0, "thumbprint computed");
	is_str(tp, json_string_value(json_object_get(v, "thumbprint")), "RFC 7638 §3.1 thumbprint");
	ok(jwk_public_to_json(k, &exported) == 0, "public export");
	is_str(json_string_value(json_object_get(exported, "n")),
	    json_string_value(json_object_get(json_object_get(v, "jwk"), "n")), "n round trips");
	ok(json_object_get(exported, "d") == NULL, "no private member exported");
	json_decref(exported);
	free(tp);
	EVP_PKEY_free(k);
	k = NULL;
	tp = NULL;
	ok(jwk_from_json(json_object_get(v, "ed25519_jwk"), 0, &k) == 0, "Ed25519 key imports");
	ok(jwk_thumbprint_new(k, &tp) == 0, "Ed25519 thumbprint computed");
	is_str(tp, json_string_value(json_object_get(v, "ed25519_thumbprint")),
	    "RFC 8037 A.3 thumbprint");
	free(tp);
	EVP_PKEY_free(k);
	json_decref(v);
}

static void
bad_jwks(void)
{
	static const char *const cases[] = {
		"{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"AA\",\"y\":\"AA\"}",
		"{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAA\",\"y\":\"AAAA\"}",
		"{\"kty\":\"OKP\",\"crv\":\"Ed448\",\"x\":\"AAAA\"}",
		"{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AAAA\"}",
		"{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}",
		"{\"kty\":\"oct\",\"k\":\"AAAA\"}",
		"{\"crv\":\"P-256\"}",
		"[]",
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *j = json_loads(cases[i], 0, NULL);
		EVP_PKEY *k = NULL;

		ok(jwk_from_json(j, 0, &k) != 0 && k == NULL, "bad JWK refused: %s", cases[i]);
		json_decref(j);
	}
	{
		/* A P-256 point that is not on the curve. */
		json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-256", "x",
		    "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "y",
		    "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
		EVP_PKEY *k = NULL;

		ok(jwk_from_json(j, 0, &k) != 0, "EC point off the curve refused");
		EVP_PKEY_free(k);
		json_decref(j);
	}
}

/* The public JWK of KEY with member NAME replaced by the base64url of RAW (LEN octets). */
static json_t *
rsa_jwk_with(EVP_PKEY *key, const char *name, const unsigned char *raw, size_t len)
{
	json_t *j = NULL;
	char *v = b64url_encode_new(raw, len);

	if (jwk_public_to_json(key, &j) != 0 || v == NULL) {
		free(v);
		return j;
	}
	json_object_set_new(j, name, json_string(v));
	free(v);
	return j;
}

/* KEY's public JWK with member NAME set to RAW must not import. */
static void
rsa_refused(EVP_PKEY *key, const char *name, const unsigned char *raw, size_t len, const char *what)
{
	json_t *j = rsa_jwk_with(key, name, raw, len);
	EVP_PKEY *k = NULL;

	ok(j != NULL && jwk_from_json(j, 0, &k) != 0 && k == NULL, "RSA %s refused", what);
	EVP_PKEY_free(k);
	json_decref(j);
}

/* RSA members that no key has: refused on import (a fuzzed header once carried e = 0,
 * which imported and then could not be exported again). */
static void
bad_rsa_members(void)
{
	unsigned char n[257], e[3] = {0, 0, 0};
	size_t nlen;
	EVP_PKEY *key = NULL, *k = NULL;
	json_t *j = NULL;
	const char *n64;

	if (jwk_generate(JWS_ALG_RS256, &key) != 0 || jwk_public_to_json(key, &j) != 0 ||
	    (n64 = json_string_value(json_object_get(j, "n"))) == NULL ||
	    b64url_decode(n64, strlen(n64), n, sizeof(n), &nlen) != 0) {
		ok(0, "an RSA key to start from");
		json_decref(j);
		EVP_PKEY_free(key);
		return;
	}
	json_decref(j);
	j = rsa_jwk_with(key, "n", n, nlen);
	ok(jwk_from_json(j, 0, &k) == 0, "the generated %zu-octet modulus imports", nlen);
	EVP_PKEY_free(k);
	json_decref(j);
	rsa_refused(key, "e", e, 3, "e = 0 (three zero octets)");
	e[0] = 1;
	rsa_refused(key, "e", e, 1, "e = 1");
	e[0] = 2;
	rsa_refused(key, "e", e, 1, "e = 2 (even)");
	e[0] = 0;
	e[1] = 1;
	rsa_refused(key, "e", e, 3, "e = 256 (even)");
	rsa_refused(key, "e", n, nlen, "e = n");
	n[nlen - 1] ^= 1;
	rsa_refused(key, "n", n, nlen, "even modulus");
	n[nlen - 1] ^= 1;
	/* 256 octets but under 2048 bits: a leading zero octet does not make the key bigger. */
	memmove(n + 1, n, nlen - 1);
	n[0] = 0;
	n[nlen - 1] |= 1;
	rsa_refused(key, "n", n, nlen, "modulus of 2040 bits padded to 256 octets");
	EVP_PKEY_free(key);
}

int
main(void)
{
	vector("rfc7515_a2_rs256.json", "RS256", 1);
	vector("rfc7515_a3_es256.json", "ES256", 0);
	vector("rfc8037_a4_ed25519.json", "EdDSA", 1);
	refusals();
	thumbprints();
	bad_jwks();
	bad_rsa_members();
	is_int(jws_alg_parse("ES256"), JWS_ALG_ES256, "alg names parse");
	is_int(jws_alg_parse("es256"), JWS_ALG_NONE, "alg names are case-sensitive");
	is_int(jws_alg_parse("none"), JWS_ALG_NONE, "none is no algorithm");
	return tap_done();
}
