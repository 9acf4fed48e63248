/* Compact JWS over EVP: ES256 (raw R||S), EdDSA (Ed25519), RS256 (PKCS#1 v1.5). */
#include "config.h"

#include "jose/jws.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/ecdsa.h>

#include "jose/b64url.h"
#include "util/buf.h"

#define ES256_COORD 32

static const EVP_MD *
alg_digest(enum jws_alg alg)
{
	/* Ed25519 hashes internally: EVP wants no digest for it. */
	return alg == JWS_ALG_EDDSA ? NULL : EVP_sha256();
}

/* DER ECDSA signature -> fixed 64-byte R||S (RFC 7518 §3.4). */
static int
ecdsa_der_to_raw(const unsigned char *der, size_t len, unsigned char *raw)
{
	const unsigned char *p = der;
	const BIGNUM *r, *s;
	ECDSA_SIG *sig;
	int rc = -1;

	if ((sig = d2i_ECDSA_SIG(NULL, &p, (long)len)) == NULL)
		return -1;
	ECDSA_SIG_get0(sig, &r, &s);
	if (BN_bn2binpad(r, raw, ES256_COORD) == ES256_COORD &&
	    BN_bn2binpad(s, raw + ES256_COORD, ES256_COORD) == ES256_COORD)
		rc = 0;
	ECDSA_SIG_free(sig);
	return rc;
}

/* 64-byte R||S -> DER; *der owned by the caller (OPENSSL_free). */
static int
ecdsa_raw_to_der(const unsigned char *raw, unsigned char **der, int *derlen)
{
	ECDSA_SIG *sig = NULL;
	BIGNUM *r = NULL, *s = NULL;
	int rc = -1;

	*der = NULL;
	if ((sig = ECDSA_SIG_new()) == NULL)
		goto out;
	r = BN_bin2bn(raw, ES256_COORD, NULL);
	s = BN_bin2bn(raw + ES256_COORD, ES256_COORD, NULL);
	if (r == NULL || s == NULL || ECDSA_SIG_set0(sig, r, s) != 1)
		goto out;
	r = s = NULL; /* owned by sig now */
	if ((*derlen = i2d_ECDSA_SIG(sig, der)) <= 0) {
		*der = NULL;
		goto out;
	}
	rc = 0;
out:
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(sig);
	return rc;
}

/* Raw signature bytes over input, with md initialised for signing (and consumed). */
static int
sign_with(EVP_MD_CTX *md, enum jws_alg alg, const char *input, size_t len, unsigned char **sig,
    size_t *siglen)
{
	unsigned char *der = NULL, *raw = NULL;
	size_t derlen = 0;
	int rc = -1;

	*sig = NULL;
	*siglen = 0;
	if (EVP_DigestSign(md, NULL, &derlen, (const unsigned char *)input, len) != 1)
		goto out;
	if ((der = malloc(derlen)) == NULL)
		goto out;
	if (EVP_DigestSign(md, der, &derlen, (const unsigned char *)input, len) != 1)
		goto out;
	if (alg == JWS_ALG_ES256) {
		if ((raw = malloc(2 * ES256_COORD)) == NULL ||
		    ecdsa_der_to_raw(der, derlen, raw) != 0)
			goto out;
		*sig = raw;
		*siglen = 2 * ES256_COORD;
		raw = NULL;
	} else {
		*sig = der;
		*siglen = derlen;
		der = NULL;
	}
	rc = 0;
out:
	free(der);
	free(raw);
	return rc;
}

/* Raw signature bytes over input; *sig is malloc'd. */
static int
sign_raw(EVP_PKEY *key, const char *input, size_t len, unsigned char **sig, size_t *siglen)
{
	enum jws_alg alg = jwk_alg_of_key(key);
	EVP_MD_CTX *md = NULL;
	int rc = -1;

	*sig = NULL;
	*siglen = 0;
	if (alg == JWS_ALG_NONE || (md = EVP_MD_CTX_new()) == NULL)
		goto out;
	if (EVP_DigestSignInit_ex(md, NULL, alg == JWS_ALG_EDDSA ? NULL : "SHA256", NULL, NULL, key,
		NULL) != 1)
		goto out;
	rc = sign_with(md, alg, input, len, sig, siglen);
out:
	EVP_MD_CTX_free(md);
	return rc;
}

struct jws_signer {
	EVP_PKEY *key;             /* a reference */
	enum jws_alg alg;
	EVP_MD_CTX *tmpl;          /* initialised for signing; NULL for Ed25519 */
	char *header_b64;
};

int
jws_signer_new(EVP_PKEY *key, const char *kid, const char *typ, struct jws_signer **out)
{
	struct jws_signer *s;
	json_t *hdr = NULL;
	char *text = NULL;
	int rc = -1;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -1;
	s->alg = jwk_alg_of_key(key);
	if (s->alg == JWS_ALG_NONE || EVP_PKEY_up_ref(key) != 1)
		goto out;
	s->key = key;
	if ((hdr = json_pack("{s:s}", "alg", jws_alg_name(s->alg))) == NULL)
		goto out;
	if (kid != NULL)
		json_object_set_new(hdr, "kid", json_string(kid));
	if (typ != NULL)
		json_object_set_new(hdr, "typ", json_string(typ));
	if ((text = json_dumps(hdr, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL ||
	    (s->header_b64 = b64url_encode_new(text, strlen(text))) == NULL)
		goto out;
	/* Ed25519 signs in one shot and its context cannot be copied: it is made per
	 * signature, which is cheap without a digest to fetch. */
	if (s->alg != JWS_ALG_EDDSA) {
		if ((s->tmpl = EVP_MD_CTX_new()) == NULL ||
		    EVP_DigestSignInit_ex(s->tmpl, NULL, "SHA256", NULL, NULL, key, NULL) != 1)
			goto out;
	}
	*out = s;
	s = NULL;
	rc = 0;
out:
	json_decref(hdr);
	free(text);
	jws_signer_free(s);
	return rc;
}

void
jws_signer_free(struct jws_signer *s)
{
	if (s == NULL)
		return;
	EVP_MD_CTX_free(s->tmpl);
	EVP_PKEY_free(s->key);
	free(s->header_b64);
	free(s);
}

int
jws_signer_sign(const struct jws_signer *s, const char *payload, size_t len, struct buf *out)
{
	unsigned char *sig = NULL;
	size_t siglen = 0, start = out->len, enclen;
	EVP_MD_CTX *md = NULL;
	char *enc = NULL;
	int rc = -1;

	enclen = b64url_encoded_len(len);
	if ((enc = malloc(enclen + 1)) == NULL)
		return -1;
	b64url_encode(payload, len, enc);
	if (buf_puts(out, s->header_b64) != BUF_OK || buf_putc(out, '.') != BUF_OK ||
	    buf_append(out, enc, enclen) != BUF_OK)
		goto out;
	if ((md = EVP_MD_CTX_new()) == NULL)
		goto out;
	if (s->tmpl != NULL ? EVP_MD_CTX_copy_ex(md, s->tmpl) != 1
			    : EVP_DigestSignInit_ex(md, NULL, NULL, NULL, NULL, s->key, NULL) != 1)
		goto out;
	if (sign_with(md, s->alg, out->data + start, out->len - start, &sig, &siglen) != 0)
		goto out;
	free(enc);
	if ((enc = b64url_encode_new(sig, siglen)) == NULL || buf_putc(out, '.') != BUF_OK ||
	    buf_puts(out, enc) != BUF_OK)
		goto out;
	rc = 0;
out:
	if (rc != 0 && out->data != NULL) {
		out->len = start;
		out->data[start] = '\0';
	}
	EVP_MD_CTX_free(md);
	free(sig);
	free(enc);
	return rc;
}

int
jws_signature_new(EVP_PKEY *key, const char *signing_input, size_t len, char **out)
{
	unsigned char *sig = NULL;
	size_t siglen;
	int rc = -1;

	*out = NULL;
	if (sign_raw(key, signing_input, len, &sig, &siglen) != 0)
		goto out;
	if ((*out = b64url_encode_new(sig, siglen)) == NULL)
		goto out;
	rc = 0;
out:
	free(sig);
	return rc;
}

int
jws_sign_new(EVP_PKEY *key, const char *kid, const char *typ, const char *payload_json,
    size_t payload_len, char **out)
{
	enum jws_alg alg = jwk_alg_of_key(key);
	json_t *hdr = NULL;
	char *hdr_text = NULL, *hdr_b64 = NULL, *payload_b64 = NULL, *sig = NULL;
	struct buf b;
	int rc = -1;

	*out = NULL;
	buf_init(&b, JWS_MAX_LEN + 2 * payload_len);
	if (alg == JWS_ALG_NONE)
		goto out;
	if ((hdr = json_pack("{s:s}", "alg", jws_alg_name(alg))) == NULL)
		goto out;
	if (kid != NULL && json_object_set_new(hdr, "kid", json_string(kid)) != 0)
		goto out;
	if (typ != NULL && json_object_set_new(hdr, "typ", json_string(typ)) != 0)
		goto out;
	if ((hdr_text = json_dumps(hdr, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL)
		goto out;
	if ((hdr_b64 = b64url_encode_new(hdr_text, strlen(hdr_text))) == NULL ||
	    (payload_b64 = b64url_encode_new(payload_json, payload_len)) == NULL)
		goto out;
	if (buf_printf(&b, "%s.%s", hdr_b64, payload_b64) != 0)
		goto out;
	if (jws_signature_new(key, b.data, b.len, &sig) != 0)
		goto out;
	if (buf_putc(&b, '.') != 0 || buf_puts(&b, sig) != 0)
		goto out;
	if ((*out = buf_take(&b)) == NULL)
		goto out;
	rc = 0;
out:
	json_decref(hdr);
	free(hdr_text);
	free(hdr_b64);
	free(payload_b64);
	free(sig);
	buf_free(&b);
	return rc;
}

void
jws_clear(struct jws *jws)
{
	json_decref(jws->header);
	free(jws->payload);
	free(jws->sig);
	free(jws->signing_input);
	memset(jws, 0, sizeof(*jws));
}

int
jws_parse(const char *compact, size_t len, struct jws *out)
{
	const char *dot1, *dot2;
	unsigned char *hdr = NULL;
	size_t hdrlen;
	json_t *alg, *kid, *typ;
	json_error_t jerr;

	memset(out, 0, sizeof(*out));
	if (compact == NULL || len == 0 || len > JWS_MAX_LEN)
		return -1;
	if (memchr(compact, '\0', len) != NULL)
		return -1;
	if ((dot1 = memchr(compact, '.', len)) == NULL)
		return -1;
	if ((dot2 = memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - compact))) == NULL)
		return -1;
	/* A fourth part means JWE or garbage. */
	if (memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - compact)) != NULL)
		return -1;
	if (dot1 == compact || dot2 == dot1 + 1 || dot2 + 1 == compact + len)
		return -1;
	if ((hdr = b64url_decode_new(compact, (size_t)(dot1 - compact), &hdrlen)) == NULL)
		goto fail;
	out->header = json_loadb((const char *)hdr, hdrlen, JSON_REJECT_DUPLICATES, &jerr);
	free(hdr);
	if (!json_is_object(out->header))
		goto fail;
	alg = json_object_get(out->header, "alg");
	kid = json_object_get(out->header, "kid");
	typ = json_object_get(out->header, "typ");
	if (!json_is_string(alg))
		goto fail;
	if ((kid != NULL && !json_is_string(kid)) || (typ != NULL && !json_is_string(typ)))
		goto fail;
	/* We understand no critical extensions, so any "crit" is a reason to refuse. */
	if (json_object_get(out->header, "crit") != NULL)
		goto fail;
	out->alg = json_string_value(alg);
	out->kid = kid ? json_string_value(kid) : NULL;
	out->typ = typ ? json_string_value(typ) : NULL;
	out->payload = b64url_decode_new(dot1 + 1, (size_t)(dot2 - dot1 - 1), &out->payload_len);
	if (out->payload == NULL)
		goto fail;
	out->sig = b64url_decode_new(dot2 + 1, len - (size_t)(dot2 + 1 - compact), &out->sig_len);
	if (out->sig == NULL)
		goto fail;
	out->signing_input_len = (size_t)(dot2 - compact);
	if ((out->signing_input = malloc(out->signing_input_len + 1)) == NULL)
		goto fail;
	memcpy(out->signing_input, compact, out->signing_input_len);
	out->signing_input[out->signing_input_len] = '\0';
	return 0;
fail:
	jws_clear(out);
	return -1;
}

/* Check sig over the signing input with md set up for verifying (consumed). */
static int
verify_with(EVP_MD_CTX *md, enum jws_alg alg, const struct jws *jws)
{
	unsigned char *der = NULL;
	const unsigned char *sig = jws->sig;
	size_t siglen = jws->sig_len;
	int derlen, rc = -1;

	if (alg == JWS_ALG_ES256) {
		if (siglen != 2 * ES256_COORD || ecdsa_raw_to_der(sig, &der, &derlen) != 0)
			goto out;
		sig = der;
		siglen = (size_t)derlen;
	}
	if (EVP_DigestVerify(md, sig, siglen, (const unsigned char *)jws->signing_input,
		jws->signing_input_len) != 1)
		goto out;
	rc = 0;
out:
	OPENSSL_free(der);
	return rc;
}

int
jws_verify(const struct jws *jws, EVP_PKEY *key)
{
	enum jws_alg alg = jwk_alg_of_key(key);
	EVP_MD_CTX *md = NULL;
	int rc = -1;

	if (alg == JWS_ALG_NONE || jws->alg == NULL || strcmp(jws->alg, jws_alg_name(alg)) != 0)
		return -1;
	if ((md = EVP_MD_CTX_new()) == NULL)
		goto out;
	if (EVP_DigestVerifyInit_ex(md, NULL, alg_digest(alg) ? "SHA256" : NULL, NULL, NULL, key,
		NULL) != 1)
		goto out;
	rc = verify_with(md, alg, jws);
out:
	EVP_MD_CTX_free(md);
	return rc;
}

struct jws_verifier {
	EVP_PKEY *key;             /* a reference */
	enum jws_alg alg;
	EVP_MD_CTX *tmpl;          /* NULL for Ed25519, which cannot be copied */
};

int
jws_verifier_new(EVP_PKEY *key, struct jws_verifier **out)
{
	struct jws_verifier *v;

	*out = NULL;
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return -1;
	v->alg = jwk_alg_of_key(key);
	if (v->alg == JWS_ALG_NONE || EVP_PKEY_up_ref(key) != 1) {
		free(v);
		return -1;
	}
	v->key = key;
	if (v->alg != JWS_ALG_EDDSA &&
	    ((v->tmpl = EVP_MD_CTX_new()) == NULL ||
		EVP_DigestVerifyInit_ex(v->tmpl, NULL, "SHA256", NULL, NULL, key, NULL) != 1)) {
		jws_verifier_free(v);
		return -1;
	}
	*out = v;
	return 0;
}

void
jws_verifier_free(struct jws_verifier *v)
{
	if (v == NULL)
		return;
	EVP_MD_CTX_free(v->tmpl);
	EVP_PKEY_free(v->key);
	free(v);
}

int
jws_verifier_verify(const struct jws_verifier *v, const struct jws *jws)
{
	EVP_MD_CTX *md;
	int rc = -1;

	if (v->tmpl == NULL)
		return jws_verify(jws, v->key);
	/* The key decides the algorithm, never the header. */
	if (jws->alg == NULL || strcmp(jws->alg, jws_alg_name(v->alg)) != 0)
		return -1;
	if ((md = EVP_MD_CTX_new()) == NULL)
		return -1;
	if (EVP_MD_CTX_copy_ex(md, v->tmpl) == 1)
		rc = verify_with(md, v->alg, jws);
	EVP_MD_CTX_free(md);
	return rc;
}
