/* JWK <-> EVP_PKEY for P-256, Ed25519 and RSA, on OpenSSL 3 provider APIs. */
#include "config.h"

#include "jose/jwk.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/sha.h>

#include "jose/b64url.h"
#include "util/buf.h"

#define P256_COORD 32
#define ED25519_LEN 32
#define RSA_MIN_BITS 2048
#define RSA_GEN_BITS 2048

static const char *const alg_names[] = {"ES256", "EdDSA", "RS256"};

const char *
jws_alg_name(enum jws_alg alg)
{
	if (alg < 0 || (size_t)alg >= sizeof(alg_names) / sizeof(alg_names[0]))
		return "none";
	return alg_names[alg];
}

enum jws_alg
jws_alg_parse(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(alg_names) / sizeof(alg_names[0]); i++) {
		if (strcmp(name, alg_names[i]) == 0)
			return (enum jws_alg)i;
	}
	return JWS_ALG_NONE;
}

enum jws_alg
jwk_alg_of_key(const EVP_PKEY *key)
{
	char group[64];
	size_t glen = 0;

	if (key == NULL)
		return JWS_ALG_NONE;
	if (EVP_PKEY_is_a(key, "EC")) {
		if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group,
			sizeof(group), &glen) != 1)
			return JWS_ALG_NONE;
		return strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0
		    ? JWS_ALG_ES256
		    : JWS_ALG_NONE;
	}
	if (EVP_PKEY_is_a(key, "ED25519"))
		return JWS_ALG_EDDSA;
	if (EVP_PKEY_is_a(key, "RSA"))
		return EVP_PKEY_get_bits(key) >= RSA_MIN_BITS ? JWS_ALG_RS256 : JWS_ALG_NONE;
	return JWS_ALG_NONE;
}

int
jwk_generate(enum jws_alg alg, EVP_PKEY **out)
{
	*out = NULL;
	switch (alg) {
	case JWS_ALG_ES256:
		*out = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case JWS_ALG_EDDSA:
		*out = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	case JWS_ALG_RS256:
		*out = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)RSA_GEN_BITS);
		break;
	default:
		break;
	}
	return *out != NULL ? 0 : -1;
}

/* base64url of a big number, fixed width when pad > 0, minimal otherwise. */
static char *
bn_b64url_new(const BIGNUM *bn, int pad)
{
	unsigned char tmp[1024];
	int n = pad > 0 ? pad : BN_num_bytes(bn);

	if (n <= 0 || (size_t)n > sizeof(tmp))
		return NULL;
	if (BN_bn2binpad(bn, tmp, n) != n)
		return NULL;
	return b64url_encode_new(tmp, (size_t)n);
}

static char *
param_b64url_new(const EVP_PKEY *key, const char *name, int pad)
{
	BIGNUM *bn = NULL;
	char *s;

	if (EVP_PKEY_get_bn_param(key, name, &bn) != 1)
		return NULL;
	s = bn_b64url_new(bn, pad);
	BN_clear_free(bn);
	return s;
}

/* The required public members as strings, in RFC 7638 lexicographic order. */
struct jwk_members {
	const char *kty;
	const char *crv;
	char *x, *y, *n, *e;
};

static void
members_clear(struct jwk_members *m)
{
	free(m->x);
	free(m->y);
	free(m->n);
	free(m->e);
	memset(m, 0, sizeof(*m));
}

static int
members_get(const EVP_PKEY *key, struct jwk_members *m)
{
	unsigned char raw[ED25519_LEN];
	size_t rawlen = sizeof(raw);

	memset(m, 0, sizeof(*m));
	switch (jwk_alg_of_key(key)) {
	case JWS_ALG_ES256:
		m->kty = "EC";
		m->crv = "P-256";
		m->x = param_b64url_new(key, OSSL_PKEY_PARAM_EC_PUB_X, P256_COORD);
		m->y = param_b64url_new(key, OSSL_PKEY_PARAM_EC_PUB_Y, P256_COORD);
		if (m->x == NULL || m->y == NULL)
			goto fail;
		return 0;
	case JWS_ALG_EDDSA:
		m->kty = "OKP";
		m->crv = "Ed25519";
		if (EVP_PKEY_get_raw_public_key(key, raw, &rawlen) != 1 || rawlen != ED25519_LEN)
			goto fail;
		if ((m->x = b64url_encode_new(raw, rawlen)) == NULL)
			goto fail;
		return 0;
	case JWS_ALG_RS256:
		m->kty = "RSA";
		m->n = param_b64url_new(key, OSSL_PKEY_PARAM_RSA_N, 0);
		m->e = param_b64url_new(key, OSSL_PKEY_PARAM_RSA_E, 0);
		if (m->n == NULL || m->e == NULL)
			goto fail;
		return 0;
	default:
		break;
	}
fail:
	members_clear(m);
	return -1;
}

int
jwk_public_to_json(const EVP_PKEY *key, json_t **out)
{
	struct jwk_members m;
	json_t *j = NULL;
	int rc = -1;

	*out = NULL;
	if (members_get(key, &m) != 0)
		return -1;
	if (m.n != NULL)
		j = json_pack("{s:s, s:s, s:s}", "kty", m.kty, "n", m.n, "e", m.e);
	else if (m.y != NULL)
		j = json_pack("{s:s, s:s, s:s, s:s}", "kty", m.kty, "crv", m.crv, "x", m.x, "y", m.y);
	else
		j = json_pack("{s:s, s:s, s:s}", "kty", m.kty, "crv", m.crv, "x", m.x);
	if (j == NULL)
		goto out;
	*out = j;
	rc = 0;
out:
	members_clear(&m);
	return rc;
}

int
jwk_thumbprint_new(const EVP_PKEY *key, char **out)
{
	unsigned char digest[SHA256_DIGEST_LENGTH];
	struct jwk_members m;
	struct buf b;
	int rc = -1;

	*out = NULL;
	buf_init(&b, 8192);
	if (members_get(key, &m) != 0)
		return -1;
	/* RFC 7638 §3.2: required members only, lexicographic order, no whitespace.
	 * The values are base64url or fixed names, so no JSON escaping is needed. */
	if (m.n != NULL)
		rc = buf_printf(&b, "{\"e\":\"%s\",\"kty\":\"%s\",\"n\":\"%s\"}", m.e, m.kty, m.n);
	else if (m.y != NULL)
		rc = buf_printf(&b, "{\"crv\":\"%s\",\"kty\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"}", m.crv,
		    m.kty, m.x, m.y);
	else
		rc = buf_printf(&b, "{\"crv\":\"%s\",\"kty\":\"%s\",\"x\":\"%s\"}", m.crv, m.kty, m.x);
	if (rc != 0) {
		rc = -1;
		goto out;
	}
	SHA256((const unsigned char *)b.data, b.len, digest);
	if ((*out = b64url_encode_new(digest, sizeof(digest))) == NULL)
		rc = -1;
out:
	members_clear(&m);
	buf_free(&b);
	return rc;
}

/* Decode a base64url JSON member into a BIGNUM; NULL when absent or bad. */
static BIGNUM *
member_bn(const json_t *jwk, const char *name)
{
	unsigned char tmp[1024];
	const char *s = json_string_value(json_object_get(jwk, name));
	size_t n;
	BIGNUM *bn;

	if (s == NULL || b64url_decode(s, strlen(s), tmp, sizeof(tmp), &n) != 0 || n == 0) {
		OPENSSL_cleanse(tmp, sizeof(tmp));
		return NULL;
	}
	/* tmp held a private member (d, p, q...): it does not stay on the stack. */
	bn = BN_bin2bn(tmp, (int)n, NULL);
	OPENSSL_cleanse(tmp, sizeof(tmp));
	return bn;
}

static int
member_raw(const json_t *jwk, const char *name, unsigned char *out, size_t want)
{
	const char *s = json_string_value(json_object_get(jwk, name));
	size_t n;

	if (s == NULL || b64url_decode(s, strlen(s), out, want, &n) != 0 || n != want)
		return -1;
	return 0;
}

static int
from_params(const char *type, OSSL_PARAM_BLD *bld, int selection, EVP_PKEY **out)
{
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	int rc = -1;

	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL)) == NULL)
		goto out;
	if (EVP_PKEY_fromdata_init(ctx) != 1 || EVP_PKEY_fromdata(ctx, out, selection, params) != 1)
		goto out;
	rc = 0;
out:
	OSSL_PARAM_free(params);
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

static int
ec_from_json(const json_t *jwk, int want_private, EVP_PKEY **out)
{
	unsigned char point[1 + 2 * P256_COORD];
	OSSL_PARAM_BLD *bld = NULL;
	BIGNUM *d = NULL;
	int rc = -1;

	if (strcmp(json_string_value(json_object_get(jwk, "crv")) ?: "", "P-256") != 0)
		return -1;
	point[0] = 0x04;
	if (member_raw(jwk, "x", point + 1, P256_COORD) != 0 ||
	    member_raw(jwk, "y", point + 1 + P256_COORD, P256_COORD) != 0)
		return -1;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL)
		goto out;
	if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)))
		goto out;
	if (want_private) {
		if ((d = member_bn(jwk, "d")) == NULL ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d))
			goto out;
	}
	rc = from_params("EC", bld, want_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, out);
out:
	BN_clear_free(d);
	OSSL_PARAM_BLD_free(bld);
	return rc;
}

static int
okp_from_json(const json_t *jwk, int want_private, EVP_PKEY **out)
{
	unsigned char x[ED25519_LEN], d[ED25519_LEN], derived[ED25519_LEN];
	size_t dlen = sizeof(derived);
	int rc = -1;

	if (strcmp(json_string_value(json_object_get(jwk, "crv")) ?: "", "Ed25519") != 0)
		return -1;
	if (member_raw(jwk, "x", x, sizeof(x)) != 0)
		return -1;
	if (!want_private) {
		*out = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, sizeof(x));
		return *out ? 0 : -1;
	}
	if (member_raw(jwk, "d", d, sizeof(d)) != 0)
		goto out;
	if ((*out = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, d, sizeof(d))) == NULL)
		goto out;
	/* The public half is derived from d; a JWK whose x disagrees is inconsistent. */
	if (EVP_PKEY_get_raw_public_key(*out, derived, &dlen) != 1 ||
	    CRYPTO_memcmp(derived, x, sizeof(x)) != 0) {
		EVP_PKEY_free(*out);
		*out = NULL;
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(d, sizeof(d));
	return rc;
}

static int
rsa_from_json(const json_t *jwk, int want_private, EVP_PKEY **out)
{
	static const struct {
		const char *member, *param;
	} priv[] = {
	    {"d", OSSL_PKEY_PARAM_RSA_D},
	    {"p", OSSL_PKEY_PARAM_RSA_FACTOR1},
	    {"q", OSSL_PKEY_PARAM_RSA_FACTOR2},
	    {"dp", OSSL_PKEY_PARAM_RSA_EXPONENT1},
	    {"dq", OSSL_PKEY_PARAM_RSA_EXPONENT2},
	    {"qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1},
	};
	BIGNUM *bns[8] = {NULL};
	OSSL_PARAM_BLD *bld = NULL;
	size_t i;
	int rc = -1;

	if ((bns[0] = member_bn(jwk, "n")) == NULL || (bns[1] = member_bn(jwk, "e")) == NULL)
		goto out;
	/* An RSA public key has an odd modulus of the size it claims (leading zero octets do
	 * not count) and an odd exponent 3 <= e < n (RFC 8017 3.1); anything else is no key,
	 * and e = 0 would not even export again. */
	if (BN_num_bits(bns[0]) < RSA_MIN_BITS || !BN_is_odd(bns[0]) || !BN_is_odd(bns[1]) ||
	    BN_is_one(bns[1]) || BN_cmp(bns[1], bns[0]) >= 0)
		goto out;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL)
		goto out;
	if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bns[0]) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bns[1]))
		goto out;
	if (want_private) {
		for (i = 0; i < sizeof(priv) / sizeof(priv[0]); i++) {
			if ((bns[2 + i] = member_bn(jwk, priv[i].member)) == NULL ||
			    !OSSL_PARAM_BLD_push_BN(bld, priv[i].param, bns[2 + i]))
				goto out;
		}
	}
	rc = from_params("RSA", bld, want_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, out);
out:
	for (i = 0; i < sizeof(bns) / sizeof(bns[0]); i++)
		BN_clear_free(bns[i]);
	OSSL_PARAM_BLD_free(bld);
	return rc;
}

int
jwk_from_json(const json_t *jwk, int want_private, EVP_PKEY **out)
{
	const char *kty;

	*out = NULL;
	if (!json_is_object(jwk) || (kty = json_string_value(json_object_get(jwk, "kty"))) == NULL)
		return -1;
	if (strcmp(kty, "EC") == 0)
		return ec_from_json(jwk, want_private, out);
	if (strcmp(kty, "OKP") == 0)
		return okp_from_json(jwk, want_private, out);
	if (strcmp(kty, "RSA") == 0)
		return rsa_from_json(jwk, want_private, out);
	return -1;
}
