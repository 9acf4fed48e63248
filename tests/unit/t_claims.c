/* RFC 9068 access tokens: minting and every refusal of the verifier. */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "jose/b64url.h"
#include "jose/jws.h"
#include "oauth/claims.h"
#include "tap.h"

#define ISS "https://as.example"

static struct store *st;
static struct master_key mk;

static struct keyset *
fresh_keyset(enum jws_alg alg)
{
	struct store_options opt = {.synchronous = "NORMAL", .create = 1};
	struct keyset *ks = NULL;
	char *path = store_memory_path_new();

	store_close(st);
	store_open(path, &opt, &st);
	store_migrate(st, NULL);
	keystore_ensure(st, &mk, alg, 1);
	keyset_load(st, &mk, &ks);
	free(path);
	return ks;
}

static char *
mint(struct keyset *ks, int64_t iat, int64_t exp, const char *iss, json_t *act)
{
	struct access_claims c;
	char jti[JTI_LEN + 1], *jwt = NULL;

	memset(&c, 0, sizeof(c));
	c.iss = iss;
	c.sub = "alice";
	c.aud = "https://mcp.example/mcp";
	c.client_id = "client-1";
	c.scope = "read";
	c.iat = iat;
	c.exp = exp;
	c.auth_time = iat - 5;
	c.act = act;
	if (access_token_mint(ks, &c, &jwt, jti) != 0)
		return NULL;
	return jwt;
}

/* Re-sign a token with a changed header (alg, typ, kid) using the signer's key. */
static char *
reheader(struct keyset *ks, const char *jwt, const char *header)
{
	const char *dot = strchr(jwt, '.');
	const char *dot2 = strrchr(jwt, '.');
	char *h = b64url_encode_new(header, strlen(header)), *input, *sig = NULL, *out;
	EVP_PKEY *key;
	const char *kid;
	size_t n = strlen(h) + (size_t)(dot2 - dot) + 1;

	input = malloc(n);
	snprintf(input, n, "%s%.*s", h, (int)(dot2 - dot), dot);
	keyset_signer(ks, &key, &kid);
	jws_signature_new(key, input, strlen(input), &sig);
	n = strlen(input) + strlen(sig) + 2;
	out = malloc(n);
	snprintf(out, n, "%s.%s", input, sig);
	free(h);
	free(input);
	free(sig);
	return out;
}

static enum token_refusal
check(struct keyset *ks, const char *jwt, int64_t now)
{
	json_t *claims = NULL;
	enum token_refusal r = access_token_verify(ks, jwt, strlen(jwt), ISS, now, 0, &claims);

	json_decref(claims);
	return r;
}

/* jtis come from a per-thread block of DRBG output: across many refills and from two
 * threads at once, every one is well formed and none repeats. */
#define JTIS_PER_THREAD 5000

struct jti_batch {
	char jti[JTIS_PER_THREAD][JTI_LEN + 1];
	int failed;
};

static void *
jti_batch_fill(void *arg)
{
	struct jti_batch *b = arg;
	int i;

	for (i = 0; i < JTIS_PER_THREAD; i++)
		b->failed |= jti_new(b->jti[i]) != 0 || strlen(b->jti[i]) != JTI_LEN;
	return NULL;
}

static int
jti_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void
test_jti_unique(void)
{
	static struct jti_batch batch[2];
	static char all[2 * JTIS_PER_THREAD][JTI_LEN + 1];
	pthread_t other;
	int i, repeats = 0;

	ok(pthread_create(&other, NULL, jti_batch_fill, &batch[1]) == 0, "second thread started");
	jti_batch_fill(&batch[0]);
	pthread_join(other, NULL);
	ok(!batch[0].failed && !batch[1].failed, "every jti is %d characters", JTI_LEN);
	memcpy(all, batch[0].jti, sizeof(batch[0].jti));
	memcpy(all[JTIS_PER_THREAD], batch[1].jti, sizeof(batch[1].jti));
	qsort(all, 2 * JTIS_PER_THREAD, sizeof(all[0]), jti_cmp);
	for (i = 1; i < 2 * JTIS_PER_THREAD; i++)
		repeats += strcmp(all[i - 1], all[i]) == 0;
	is_int(repeats, 0, "%d jtis from two threads, none repeated", 2 * JTIS_PER_THREAD);
}

int
main(void)
{
	enum jws_alg algs[] = {JWS_ALG_ES256, JWS_ALG_EDDSA, JWS_ALG_RS256};
	struct keyset *ks, *other;
	json_t *claims = NULL, *act;
	char *jwt, *bad, hdr[256];
	EVP_PKEY *key;
	const char *kid;
	size_t i;

	master_key_ephemeral(&mk);
	test_jti_unique();
	for (i = 0; i < 3; i++) {
		ks = fresh_keyset(algs[i]);
		jwt = mint(ks, 1000, 1600, ISS, NULL);
		ok(jwt != NULL, "%s: minted", jws_alg_name(algs[i]));
		is_int(access_token_verify(ks, jwt, strlen(jwt), ISS, 1001, 0, &claims), TOKEN_OK,
		    "%s: verifies", jws_alg_name(algs[i]));
		is_str(json_string_value(json_object_get(claims, "aud")), "https://mcp.example/mcp",
		    "aud is the one resource, as a string");
		ok(json_integer_value(json_object_get(claims, "nbf")) == 1000 &&
		    json_integer_value(json_object_get(claims, "auth_time")) == 995 &&
		    strlen(json_string_value(json_object_get(claims, "jti"))) == JTI_LEN,
		    "nbf, auth_time and jti present");
		json_decref(claims);
		claims = NULL;
		free(jwt);
		keyset_unref(ks);
	}

	ks = fresh_keyset(JWS_ALG_ES256);
	keyset_signer(ks, &key, &kid);
	jwt = mint(ks, 1000, 1600, ISS, NULL);
	is_int(check(ks, jwt, 1600), TOKEN_EXPIRED, "expired at exp");
	is_int(check(ks, jwt, 999), TOKEN_NOT_YET_VALID, "not valid before nbf");
	ok(access_token_verify(ks, jwt, strlen(jwt), "https://other.example", 1001, 0, &claims) ==
	    TOKEN_WRONG_ISSUER, "foreign issuer refused");
	other = fresh_keyset(JWS_ALG_ES256);
	is_int(check(other, jwt, 1001), TOKEN_UNKNOWN_KEY, "a token signed by keys we do not have");
	keyset_unref(other);
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\",\"typ\":\"JWT\"}", kid);
	bad = reheader(ks, jwt, hdr);
	is_int(check(ks, bad, 1001), TOKEN_WRONG_TYPE, "typ JWT refused (not at+jwt)");
	free(bad);
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\"}", kid);
	bad = reheader(ks, jwt, hdr);
	is_int(check(ks, bad, 1001), TOKEN_WRONG_TYPE, "missing typ refused");
	free(bad);
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"none\",\"kid\":\"%s\",\"typ\":\"at+jwt\"}", kid);
	bad = reheader(ks, jwt, hdr);
	is_int(check(ks, bad, 1001), TOKEN_BAD_SIGNATURE, "alg none refused");
	free(bad);
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"../../etc/passwd\",\"typ\":\"at+jwt\"}");
	bad = reheader(ks, jwt, hdr);
	is_int(check(ks, bad, 1001), TOKEN_UNKNOWN_KEY, "kid path traversal is just an unknown kid");
	free(bad);
	bad = strdup(jwt);
	bad[strlen(bad) - 3] = bad[strlen(bad) - 3] == 'A' ? 'B' : 'A';
	is_int(check(ks, bad, 1001), TOKEN_BAD_SIGNATURE, "bad signature");
	free(bad);
	is_int(check(ks, "not.a.jwt", 1001), TOKEN_MALFORMED, "garbage is malformed");
	free(jwt);

	act = json_pack("{s:s, s:{s:s}}", "sub", "svc-b", "act", "sub", "svc-a");
	jwt = mint(ks, 1000, 1600, ISS, act);
	ok(access_token_verify(ks, jwt, strlen(jwt), ISS, 1001, 0, &claims) == TOKEN_OK &&
	    json_equal(json_object_get(claims, "act"), act), "nested act claim carried");
	json_decref(claims);
	json_decref(act);
	free(jwt);
	keyset_unref(ks);
	store_close(st);
	return tap_done();
}
