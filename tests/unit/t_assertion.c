/* JWTs of other parties: key choice in a JWKS, PS256, registrable JWKS, and every check of
 * client assertions and ID-JAGs, each broken alone. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "jose/b64url.h"
#include "jose/jwk.h"
#include "jose/jwks.h"
#include "jose/jws.h"
#include "oauth/assertion.h"
#include "oauth/idjag.h"
#include "tap.h"

#define ISSUER "https://as.example.com"
#define ENDPOINT "https://as.example.com/token"
#define IDP "https://idp.corp.example"

static int64_t now;

/* A JWKS of the public parts of keys, with kids "k0", "k1", ... */
static json_t *
jwks_of(EVP_PKEY **keys, int n)
{
	json_t *doc = json_pack("{s:[]}", "keys"), *k;
	char kid[8];
	int i;

	for (i = 0; i < n; i++) {
		if (jwk_public_to_json(keys[i], &k) != 0)
			exit(1);
		snprintf(kid, sizeof(kid), "k%d", i);
		json_object_set_new(k, "kid", json_string(kid));
		json_array_append_new(json_object_get(doc, "keys"), k);
	}
	return doc;
}

/* base64url of text. */
static char *
b64(const char *text)
{
	return b64url_encode_new(text, strlen(text));
}

/* RSASSA-PSS SHA-256 over input, base64url (what jws.c never signs with). */
static char *
pss_signature(EVP_PKEY *key, const char *input)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char sig[512];
	size_t len = sizeof(sig);
	char *out = NULL;

	if (EVP_DigestSignInit_ex(md, &pctx, "SHA256", NULL, NULL, key, NULL) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) == 1 &&
	    EVP_DigestSign(md, sig, &len, (const unsigned char *)input, strlen(input)) == 1)
		out = b64url_encode_new(sig, len);
	EVP_MD_CTX_free(md);
	return out;
}

/* A compact JWS of header and claims (JSON texts) signed by key: with PS256 when the
 * header says so, else the key's own algorithm. */
static char *
jwt(EVP_PKEY *key, const char *header, const char *claims)
{
	char *h = b64(header), *p = b64(claims), *input, *sig = NULL, *out;
	size_t n = strlen(h) + strlen(p) + 2;

	input = malloc(n);
	snprintf(input, n, "%s.%s", h, p);
	if (strstr(header, "\"PS256\"") != NULL)
		sig = pss_signature(key, input);
	else if (jws_signature_new(key, input, strlen(input), &sig) != 0)
		sig = NULL;
	out = malloc(n + (sig ? strlen(sig) : 0) + 1);
	sprintf(out, "%s.%s", input, sig ? sig : "");
	free(h);
	free(p);
	free(input);
	free(sig);
	return out;
}

/* Claims of a good client assertion for "c1", with one member replaced or added (extra
 * is a JSON object text, "" for none). */
static char *
client_claims(const char *extra)
{
	json_t *c = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s}", "iss", "c1", "sub", "c1", "aud",
	    ISSUER, "exp", (json_int_t)(now + 60), "iat", (json_int_t)now, "jti", "j-1");
	json_t *e = extra[0] ? json_loads(extra, 0, NULL) : NULL;
	char *text;

	if (e != NULL)
		json_object_update(c, e);
	text = json_dumps(c, JSON_COMPACT);
	json_decref(c);
	json_decref(e);
	return text;
}

static enum assertion_refusal
client_check(EVP_PKEY *key, const json_t *jwks, const char *header, const char *extra)
{
	char *claims = client_claims(extra), *token = jwt(key, header, claims), err[200];
	json_t *out = NULL;
	enum assertion_refusal r;

	r = client_assertion_check(token, jwks, "c1", ISSUER, ENDPOINT, now, &out, err, sizeof(err));
	if (r != ASSERTION_OK)
		tap_diag("refused: %s", err);
	json_decref(out);
	free(claims);
	free(token);
	return r;
}

static char *
jag_claims(const char *extra)
{
	json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s}", "iss", IDP, "sub",
	    "u-42", "aud", ISSUER, "client_id", "c1", "exp", (json_int_t)(now + 120), "iat",
	    (json_int_t)now, "jti", "g-1", "resource", "https://files.example.com/mcp", "scope",
	    "files:read");
	json_t *e = extra[0] ? json_loads(extra, 0, NULL) : NULL;
	const char *k;
	json_t *v;
	char *text;

	json_object_foreach(e, k, v) {
		if (json_is_null(v))
			json_object_del(c, k); /* null: leave the claim out */
		else
			json_object_set(c, k, v);
	}
	text = json_dumps(c, JSON_COMPACT);
	json_decref(c);
	json_decref(e);
	return text;
}

static enum assertion_refusal
jag_check(EVP_PKEY *key, const json_t *jwks, const char *header, const char *extra,
    struct idjag *g)
{
	char *claims = jag_claims(extra), *token = jwt(key, header, claims), err[200];
	enum assertion_refusal r;

	r = idjag_check(token, jwks, IDP, ISSUER, "c1", now, g, err, sizeof(err));
	if (r != ASSERTION_OK)
		tap_diag("refused: %s", err);
	free(claims);
	free(token);
	return r;
}

/* The edges of time, each checked for both kinds of JWT: the skew (30 s) and the lifetime
 * (300 s) are fixed, and a check written as < where <= was meant moves an edge by one. */
#define NO_NBF (-1000000)
static const struct {
	int exp, iat, nbf;         /* seconds from now; nbf NO_NBF: left out */
	enum assertion_refusal want;
	const char *what;
} edges[] = {
	{-29, -60, NO_NBF, ASSERTION_OK, "exp = now-29: expired, within the skew"},
	{-30, -60, NO_NBF, ASSERTION_EXPIRED, "exp = now-30: refused (30 s past exp)"},
	{-31, -60, NO_NBF, ASSERTION_EXPIRED, "exp = now-31: refused"},
	{60, 30, NO_NBF, ASSERTION_OK, "iat = now+30: within the skew"},
	{60, 31, NO_NBF, ASSERTION_IAT, "iat = now+31: refused"},
	{60, 0, 30, ASSERTION_OK, "nbf = now+30: within the skew"},
	{60, 0, 31, ASSERTION_IAT, "nbf = now+31: refused"},
	{330, 0, NO_NBF, ASSERTION_OK, "exp = now+330 (lifetime 300 + skew): accepted"},
	{331, 0, NO_NBF, ASSERTION_LIFETIME, "exp = now+331: refused"},
	{30, -300, NO_NBF, ASSERTION_OK, "exp - iat = 330: accepted"},
	{30, -301, NO_NBF, ASSERTION_LIFETIME, "exp - iat = 331: refused"},
	{11, 10, NO_NBF, ASSERTION_OK, "exp one second after iat"},
	{10, 10, NO_NBF, ASSERTION_LIFETIME, "exp = iat: refused (exp after iat)"},
	{5, 20, NO_NBF, ASSERTION_LIFETIME, "exp before iat, both within the skew: refused"},
};

/* The time claims of edges[i] as a JSON object text. */
static void
edge_claims(size_t i, char *out, size_t n)
{
	int len = snprintf(out, n, "{\"exp\":%lld,\"iat\":%lld", (long long)(now + edges[i].exp),
	    (long long)(now + edges[i].iat));

	if (edges[i].nbf != NO_NBF)
		len += snprintf(out + len, n - (size_t)len, ",\"nbf\":%lld",
		    (long long)(now + edges[i].nbf));
	snprintf(out + len, n - (size_t)len, "}");
}

#define ES "{\"alg\":\"ES256\",\"kid\":\"k0\"}"
#define JAG_HDR "{\"alg\":\"ES256\",\"kid\":\"k0\",\"typ\":\"oauth-id-jag+jwt\"}"

int
main(void)
{
	EVP_PKEY *ec, *ed, *rsa, *ec2, *keys[4];
	json_t *jwks, *one, *two, *bad;
	struct idjag g;
	unsigned char k1[32], k2[32], k3[32];
	char err[200], *tok;
	json_t *h = NULL, *c = NULL;

	now = (int64_t)time(NULL);
	if (jwk_generate(JWS_ALG_ES256, &ec) != 0 || jwk_generate(JWS_ALG_EDDSA, &ed) != 0 ||
	    jwk_generate(JWS_ALG_RS256, &rsa) != 0 || jwk_generate(JWS_ALG_ES256, &ec2) != 0) {
		printf("Bail out! no keys\n");
		return 1;
	}
	keys[0] = ec;
	keys[1] = ed;
	keys[2] = rsa;
	jwks = jwks_of(keys, 3);

	/* ---- key choice ---- */
	{
		EVP_PKEY *k = NULL;

		is_int(jwks_pick(jwks, "k0", "ES256", &k), JWKS_PICKED, "by kid and alg");
		EVP_PKEY_free(k);
		is_int(jwks_pick(jwks, "k0", "EdDSA", &k), JWKS_NO_MATCH,
		    "a kid whose key is of another type than the alg: no key");
		is_int(jwks_pick(jwks, "k9", "ES256", &k), JWKS_NO_MATCH, "an unknown kid");
		is_int(jwks_pick(jwks, NULL, "RS256", &k), JWKS_PICKED,
		    "no kid: the only key that fits");
		EVP_PKEY_free(k);
		is_int(jwks_pick(jwks, "k2", "PS256", &k), JWKS_PICKED, "PS256 takes an RSA key");
		EVP_PKEY_free(k);
		is_int(jwks_pick(jwks, "k0", "HS256", &k), JWKS_NO_MATCH, "HS256 takes no key");
		keys[3] = ec2;
		two = jwks_of(keys + 2, 2); /* RSA k0, EC k1 */
		json_object_del(json_array_get(json_object_get(two, "keys"), 0), "kid");
		json_object_del(json_array_get(json_object_get(two, "keys"), 1), "kid");
		json_array_append(json_object_get(two, "keys"),
		    json_array_get(json_object_get(jwks, "keys"), 0));
		is_int(jwks_pick(two, NULL, "ES256", &k), JWKS_AMBIGUOUS,
		    "no kid and two keys that fit: ambiguous, not the first one");
		json_decref(two);
		one = json_deep_copy(jwks);
		json_object_set_new(json_array_get(json_object_get(one, "keys"), 0), "use",
		    json_string("enc"));
		is_int(jwks_pick(one, "k0", "ES256", &k), JWKS_NO_MATCH, "a key for encryption never signs");
		json_object_set_new(json_array_get(json_object_get(one, "keys"), 2), "alg",
		    json_string("RS256"));
		is_int(jwks_pick(one, "k2", "PS256", &k), JWKS_NO_MATCH,
		    "a key pinned to RS256 does not verify PS256");
		json_decref(one);
		bad = json_pack("{s:s}", "keys", "none");
		is_int(jwks_pick(bad, NULL, "ES256", &k), JWKS_NO_KEYS, "a JWKS without a keys array");
		json_decref(bad);
	}

	/* ---- registrable JWKS ---- */
	is_int(jwks_check_public(jwks, err, sizeof(err)), 0, "public P-256, Ed25519, RSA keys: registrable");
	{
		EVP_PKEY *priv_keys[1] = {ec};
		json_t *p = jwks_of(priv_keys, 1);

		json_object_set_new(json_array_get(json_object_get(p, "keys"), 0), "d",
		    json_string("AAAA"));
		is_int(jwks_check_public(p, err, sizeof(err)), -1, "a private member is refused");
		json_decref(p);
		p = json_pack("{s:[{s:s, s:s}]}", "keys", "kty", "oct", "k", "c2VjcmV0");
		is_int(jwks_check_public(p, err, sizeof(err)), -1, "a symmetric key is refused");
		json_decref(p);
		p = json_pack("{s:[]}", "keys");
		is_int(jwks_check_public(p, err, sizeof(err)), -1, "no keys: refused");
		json_decref(p);
	}

	/* ---- client assertions ---- */
	is_int(client_check(ec, jwks, ES, ""), ASSERTION_OK, "ES256 client assertion");
	is_int(client_check(ed, jwks, "{\"alg\":\"EdDSA\",\"kid\":\"k1\"}", ""), ASSERTION_OK, "EdDSA");
	is_int(client_check(rsa, jwks, "{\"alg\":\"RS256\",\"kid\":\"k2\"}", ""), ASSERTION_OK, "RS256");
	is_int(client_check(rsa, jwks, "{\"alg\":\"PS256\",\"kid\":\"k2\"}", ""), ASSERTION_OK, "PS256");
	is_int(client_check(rsa, jwks, "{\"alg\":\"PS256\",\"kid\":\"k2\",\"x\":1}", ""), ASSERTION_OK,
	    "PS256 with another header member");
	{
		/* An RS256 signature under a PS256 header. */
		char *claims = client_claims(""), *h256 = b64("{\"alg\":\"PS256\",\"kid\":\"k2\"}");
		char *pl = b64(claims), in[4096], *sig = NULL, full[8192];
		json_t *o = NULL;

		snprintf(in, sizeof(in), "%s.%s", h256, pl);
		jws_signature_new(rsa, in, strlen(in), &sig);
		snprintf(full, sizeof(full), "%s.%s", in, sig);
		is_int(client_assertion_check(full, jwks, "c1", ISSUER, ENDPOINT, now, &o, err,
			   sizeof(err)),
		    ASSERTION_SIGNATURE, "a PKCS#1 v1.5 signature under a PS256 header does not verify");
		free(claims);
		free(h256);
		free(pl);
		free(sig);
	}
	is_int(client_check(ec, jwks, "{\"alg\":\"ES256\",\"kid\":\"k0\",\"typ\":\"JWT\"}", ""),
	    ASSERTION_OK, "typ JWT");
	is_int(client_check(ec, jwks,
		   "{\"alg\":\"ES256\",\"kid\":\"k0\",\"typ\":\"client-authentication+jwt\"}", ""),
	    ASSERTION_OK, "typ client-authentication+jwt");
	is_int(client_check(ec, jwks, JAG_HDR, ""), ASSERTION_TYPE, "an ID-JAG is no client assertion");
	is_int(client_check(ec, jwks, "{\"alg\":\"ES256\",\"kid\":\"k0\",\"typ\":\"at+jwt\"}", ""),
	    ASSERTION_TYPE, "an access token is no client assertion");
	is_int(client_check(ec, jwks, "{\"alg\":\"ES256\",\"kid\":\"k0\",\"typ\":7}", ""),
	    ASSERTION_MALFORMED, "a typ that is not a string: not even a JWS header");
	is_int(client_check(ec2, jwks, ES, ""), ASSERTION_SIGNATURE, "signed by another key with k0's kid");
	is_int(client_check(ec, jwks, "{\"alg\":\"ES256\",\"kid\":\"k7\"}", ""), ASSERTION_UNKNOWN_KID,
	    "an unknown kid");
	is_int(client_check(ec, jwks, "{\"alg\":\"ES256\"}", ""), ASSERTION_OK,
	    "no kid: the only P-256 key of the JWKS");
	is_int(client_check(ec, jwks, ES, "{\"iss\":\"c2\"}"), ASSERTION_ISSUER, "iss another client");
	is_int(client_check(ec, jwks, ES, "{\"sub\":\"c2\"}"), ASSERTION_SUBJECT, "sub another client");
	is_int(client_check(ec, jwks, ES, "{\"aud\":\"" ENDPOINT "\"}"), ASSERTION_OK,
	    "aud the token endpoint");
	is_int(client_check(ec, jwks, ES, "{\"aud\":[\"" ISSUER "\",\"" ENDPOINT "\"]}"), ASSERTION_OK,
	    "aud both of ours");
	is_int(client_check(ec, jwks, ES, "{\"aud\":[\"" ISSUER "\",\"https://other.example\"]}"),
	    ASSERTION_AUDIENCE, "aud ours and another's: refused (the other could replay it)");
	is_int(client_check(ec, jwks, ES, "{\"aud\":\"https://as.example.com/\"}"), ASSERTION_AUDIENCE,
	    "aud with a trailing slash: refused (exact)");
	is_int(client_check(ec, jwks, ES, "{\"aud\":[]}"), ASSERTION_AUDIENCE, "aud an empty array");
	is_int(client_check(ec, jwks, ES, "{\"aud\":{\"a\":\"" ISSUER "\"}}"), ASSERTION_AUDIENCE,
	    "aud an object");
	is_int(client_check(ec, jwks, ES, "{\"exp\":null}"), ASSERTION_EXPIRED, "exp null");
	{
		char x[200];

		snprintf(x, sizeof(x), "{\"exp\":%lld}", (long long)(now - 31));
		is_int(client_check(ec, jwks, ES, x), ASSERTION_EXPIRED, "expired beyond the skew");
		snprintf(x, sizeof(x), "{\"exp\":%lld,\"iat\":%lld}", (long long)(now - 10),
		    (long long)(now - 60));
		is_int(client_check(ec, jwks, ES, x), ASSERTION_OK, "expired within the skew");
		snprintf(x, sizeof(x), "{\"exp\":%lld}", (long long)(now + 600));
		is_int(client_check(ec, jwks, ES, x), ASSERTION_LIFETIME, "exp 10 minutes ahead");
		snprintf(x, sizeof(x), "{\"iat\":%lld}", (long long)(now + 60));
		is_int(client_check(ec, jwks, ES, x), ASSERTION_IAT, "iat in the future");
		snprintf(x, sizeof(x), "{\"nbf\":%lld}", (long long)(now + 60));
		is_int(client_check(ec, jwks, ES, x), ASSERTION_IAT, "nbf in the future");
		snprintf(x, sizeof(x), "{\"iat\":%lld}", (long long)(now - 400));
		is_int(client_check(ec, jwks, ES, x), ASSERTION_LIFETIME, "iat 400 s before exp");
	}
	is_int(client_check(ec, jwks, ES, "{\"exp\":\"soon\"}"), ASSERTION_EXPIRED, "exp a string");
	is_int(client_check(ec, jwks, ES, "{\"exp\":1e300}"), ASSERTION_EXPIRED, "exp 1e300");
	is_int(client_check(ec, jwks, ES, "{\"jti\":\"\"}"), ASSERTION_JTI, "an empty jti");
	is_int(client_check(ec, jwks, ES, "{\"jti\":42}"), ASSERTION_JTI, "a jti that is a number");

	/* Whole tokens that are not what they claim. */
	{
		json_t *o = NULL;
		static const char none[] = "eyJhbGciOiJub25lIn0.eyJpc3MiOiJjMSJ9.";
		static const char jwe[] = "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d";

		is_int(client_assertion_check(none, jwks, "c1", ISSUER, ENDPOINT, now, &o, err,
			   sizeof(err)),
		    ASSERTION_ALG, "alg none");
		is_int(client_assertion_check(jwe, jwks, "c1", ISSUER, ENDPOINT, now, &o, err,
			   sizeof(err)),
		    ASSERTION_MALFORMED, "a JWE");
		ok(strstr(err, "JWE") != NULL, "and it says so (%s)", err);
		is_int(client_assertion_check("a.b", jwks, "c1", ISSUER, ENDPOINT, now, &o, err,
			   sizeof(err)),
		    ASSERTION_MALFORMED, "two parts");
	}
	{
		/* HS256 keyed with the public key: the classic confusion. */
		char *claims = client_claims(""), *hb = b64("{\"alg\":\"HS256\",\"kid\":\"k0\"}");
		char *pb = b64(claims), in[4096];
		json_t *o = NULL;

		snprintf(in, sizeof(in), "%s.%s.c2lnbmF0dXJl", hb, pb);
		is_int(client_assertion_check(in, jwks, "c1", ISSUER, ENDPOINT, now, &o, err,
			   sizeof(err)),
		    ASSERTION_ALG, "HS256 is never accepted");
		free(claims);
		free(hb);
		free(pb);
	}
	{
		/* The refused alg is named back only when it is short printable ASCII: a cut
		 * multibyte character or a quote would make the answer's and the audit record's
		 * string invalid. */
		static const char *const algs[] = {"HS256", "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9",
		    "A\\u0022B", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", NULL};
		int i;

		for (i = 0; algs[i] != NULL; i++) {
			char hdr[200], *claims = client_claims(""), *hb, *pb = b64(claims), in[4096];
			json_t *o = NULL;

			snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\",\"kid\":\"k0\"}", algs[i]);
			hb = b64(hdr);
			snprintf(in, sizeof(in), "%s.%s.c2lnbmF0dXJl", hb, pb);
			is_int(client_assertion_check(in, jwks, "c1", ISSUER, ENDPOINT, now, &o, err,
				   sizeof(err)),
			    ASSERTION_ALG, "alg %d refused", i);
			ok(i == 0 ? strstr(err, "alg HS256 is not") != NULL
				  : strstr(err, "alg (not shown) is not") != NULL,
			    "alg %d: %s", i, err);
			free(claims);
			free(hb);
			free(pb);
		}
	}
	{
		/* Duplicate members in the payload: refused, not "last one wins". */
		char *hb = b64(ES), in[4096], *sig = NULL, *pb;
		json_t *o = NULL;
		char dup[512];

		snprintf(dup, sizeof(dup),
		    "{\"iss\":\"c1\",\"sub\":\"c1\",\"aud\":\"https://evil.example\",\"aud\":\"%s\","
		    "\"exp\":%lld,\"jti\":\"d\"}",
		    ISSUER, (long long)(now + 60));
		pb = b64(dup);
		snprintf(in, sizeof(in), "%s.%s", hb, pb);
		jws_signature_new(ec, in, strlen(in), &sig);
		strcat(in, ".");
		strcat(in, sig);
		is_int(client_assertion_check(in, jwks, "c1", ISSUER, ENDPOINT, now, &o, err,
			   sizeof(err)),
		    ASSERTION_MALFORMED, "a duplicate aud member");
		free(hb);
		free(pb);
		free(sig);
	}
	{
		char *big = malloc(JWS_MAX_LEN + 10);
		json_t *o = NULL;

		memset(big, 'A', JWS_MAX_LEN + 9);
		big[JWS_MAX_LEN + 9] = '\0';
		big[100] = big[200] = '.';
		is_int(client_assertion_check(big, jwks, "c1", ISSUER, ENDPOINT, now, &o, err,
			   sizeof(err)),
		    ASSERTION_MALFORMED, "over 16 KiB");
		free(big);
	}
	/* jansson refuses \u0000 inside strings unless JSON_ALLOW_NUL is passed, which nothing
	 * here passes: a NUL would cut a C string short after a check saw all of it. */
	{
		char raw[512];
		json_t *o = NULL;

		snprintf(raw, sizeof(raw),
		    "{\"iss\":\"c1\",\"sub\":\"c1\\u0000admin\",\"aud\":\"%s\",\"exp\":%lld,"
		    "\"jti\":\"n\"}",
		    ISSUER, (long long)(now + 60));
		tok = jwt(ec, ES, raw);
		is_int(client_assertion_check(tok, jwks, "c1", ISSUER, ENDPOINT, now, &o, err,
			   sizeof(err)),
		    ASSERTION_MALFORMED, "\\u0000 inside a claim: the payload is refused as JSON");
		free(tok);
	}
	is_int(client_check(ec, jwks, "{\"alg\":\"ES256\",\"kid\":\"k0\\u0000x\"}", ""),
	    ASSERTION_MALFORMED, "\\u0000 inside a header member: not even a JWS");
	tok = jwt(ec, ES, "{\"iss\":\"c9\",\"exp\":1}");
	{
		char *iss = assertion_peek_issuer(tok);

		is_str(iss, "c9", "the unverified issuer is read for the lookup");
		free(iss);
	}
	is_int(assertion_verify(tok, jwks, "x", &h, &c, err, sizeof(err)), ASSERTION_OK,
	    "assertion_verify checks the signature only");
	json_decref(h);
	json_decref(c);
	free(tok);

	/* ---- ID-JAGs ---- */
	memset(&g, 0, sizeof(g));
	is_int(jag_check(ec, jwks, JAG_HDR, "", &g), ASSERTION_OK, "a good ID-JAG");
	is_str(g.subject, "u-42", "its subject");
	is_str(g.resource, "https://files.example.com/mcp", "its resource");
	is_str(g.scope, "files:read", "its scope");
	is_str(g.jti, "g-1", "its jti");
	idjag_clear(&g);
	is_int(jag_check(ec, jwks,
		   "{\"alg\":\"ES256\",\"kid\":\"k0\",\"typ\":\"application/OAUTH-ID-JAG+JWT\"}", "", &g),
	    ASSERTION_OK, "typ with application/ and other case");
	idjag_clear(&g);
	is_int(jag_check(ec, jwks, ES, "", &g), ASSERTION_TYPE, "no typ");
	is_int(jag_check(ec, jwks, "{\"alg\":\"ES256\",\"kid\":\"k0\",\"typ\":\"JWT\"}", "", &g),
	    ASSERTION_TYPE, "typ JWT");
	is_int(jag_check(ec, jwks, JAG_HDR, "{\"iss\":\"https://idp.corp.example/\"}", &g),
	    ASSERTION_ISSUER, "iss with a trailing slash");
	is_int(jag_check(ec, jwks, JAG_HDR, "{\"aud\":\"" ENDPOINT "\"}", &g), ASSERTION_AUDIENCE,
	    "aud the token endpoint: refused (exactly the issuer)");
	is_int(jag_check(ec, jwks, JAG_HDR, "{\"aud\":[\"" ISSUER "\"]}", &g), ASSERTION_OK,
	    "aud an array of one");
	idjag_clear(&g);
	is_int(jag_check(ec, jwks, JAG_HDR, "{\"aud\":[\"" ISSUER "\",\"" ISSUER "\"]}", &g),
	    ASSERTION_AUDIENCE, "aud an array of two");
	is_int(jag_check(ec, jwks, JAG_HDR, "{\"client_id\":\"c2\"}", &g), ASSERTION_CLIENT,
	    "client_id another client");
	is_int(jag_check(ec, jwks, JAG_HDR, "{\"client_id\":null}", &g), ASSERTION_CLIENT, "no client_id");
	is_int(jag_check(ec, jwks, JAG_HDR, "{\"sub\":null}", &g), ASSERTION_SUBJECT, "no sub");
	is_int(jag_check(ec, jwks, JAG_HDR, "{\"sub\":12}", &g), ASSERTION_SUBJECT, "sub a number");
	is_int(jag_check(ec, jwks, JAG_HDR, "{\"jti\":null}", &g), ASSERTION_JTI, "no jti");
	is_int(jag_check(ec, jwks, JAG_HDR, "{\"iat\":null}", &g), ASSERTION_IAT, "no iat");
	is_int(jag_check(ec, jwks, JAG_HDR, "{\"exp\":null}", &g), ASSERTION_EXPIRED, "no exp");
	is_int(jag_check(ec, jwks, JAG_HDR, "{\"resource\":7}", &g), ASSERTION_RESOURCE,
	    "resource a number");
	is_int(jag_check(ec, jwks, JAG_HDR, "{\"resource\":[\"https://a.example\",\"https://b.example\"]}",
		   &g),
	    ASSERTION_RESOURCE, "two resources: one token, one audience");
	is_int(jag_check(ec, jwks, JAG_HDR, "{\"resource\":[\"https://a.example/mcp\"]}", &g),
	    ASSERTION_OK, "resource an array of one");
	is_str(g.resource, "https://a.example/mcp", "read from the array");
	idjag_clear(&g);
	is_int(jag_check(ec, jwks, JAG_HDR, "{\"resource\":null}", &g), ASSERTION_OK, "no resource");
	ok(g.resource == NULL, "none read");
	idjag_clear(&g);
	is_int(jag_check(ec, jwks, JAG_HDR, "{\"scope\":\"a  b\"}", &g), ASSERTION_SCOPE,
	    "a malformed scope");
	is_int(jag_check(ec, jwks, JAG_HDR, "{\"scope\":[\"a\"]}", &g), ASSERTION_SCOPE, "scope an array");
	is_int(jag_check(ec2, jwks, JAG_HDR, "", &g), ASSERTION_SIGNATURE, "another issuer's key");
	ok(idjag_client_allowed(NULL, "c1"), "no --id-jag-clients: every client");
	ok(idjag_client_allowed("c0 c1", "c1"), "a listed client");
	ok(!idjag_client_allowed("c0 c11", "c1"), "an unlisted client (no prefix match)");

	/* ---- the edges of time ---- */
	{
		char x[200];
		size_t i;

		for (i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
			edge_claims(i, x, sizeof(x));
			is_int(client_check(ec, jwks, ES, x), edges[i].want, "client assertion: %s",
			    edges[i].what);
			memset(&g, 0, sizeof(g));
			is_int(jag_check(ec, jwks, JAG_HDR, x, &g), edges[i].want, "ID-JAG: %s",
			    edges[i].what);
			idjag_clear(&g);
		}
	}

	/* ---- replay keys ---- */
	assertion_replay_key("client", "c1", "j", k1);
	assertion_replay_key("id-jag", "c1", "j", k2);
	assertion_replay_key("client", "c1j", "", k3);
	ok(memcmp(k1, k2, 32) != 0, "the kind is part of the replay key");
	ok(memcmp(k1, k3, 32) != 0, "issuer and jti do not run into each other");

	json_decref(jwks);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(ed);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ec2);
	return tap_done();
}
