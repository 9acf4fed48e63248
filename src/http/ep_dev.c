/* Test helpers of the mock issuer (dev mode only; 404 in serve): POST /dev/token mints
 * a token with the claims given, POST /dev/bad-token?kind=... one that a correct
 * resource server must refuse; POST /dev/id-jag an ID-JAG as an enterprise IdP would
 * (the mock issuer trusts itself as one), and the id-jag-* bad kinds ones it refuses. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "http/endpoints.h"
#include "http/reply.h"
#include "jose/b64url.h"
#include "jose/jws.h"
#include "oauth/assertion.h"
#include "oauth/claims.h"
#include "oauth/registry.h"
#include "oauth/secret.h"
#include "util/buf.h"

static const char *const bad_kinds[] = {"expired", "not-yet-valid", "wrong-audience",
    "wrong-issuer", "unknown-kid", "bad-signature", "alg-none", "wrong-typ", NULL};
/* ID-JAGs the token endpoint must refuse: "id-jag-" and one of these. */
static const char *const bad_id_jag_kinds[] = {"expired", "wrong-audience", "wrong-issuer",
    "unknown-kid", "bad-signature", "alg-none", "wrong-typ", "wrong-client", "too-long", NULL};

#define IDJAG_DEV_LIFETIME 300

/* The claims of a good token: defaults for everything, then what the caller gave. */
static json_t *
claims_for(struct request *req, json_t *given, int64_t now, char *err, size_t errlen)
{
	struct store *st = app_store(req->app);
	struct store_resource r;
	const json_t *aud = json_object_get(given, "aud");
	char *uri = NULL, *jti = secret_random_new(16);
	json_t *c = NULL;

	memset(&r, 0, sizeof(r));
	if (aud == NULL) {
		if (req->app->dev_default_aud == NULL) {
			snprintf(err, errlen, "no resource was named when dev started: give aud");
			goto out;
		}
		json_object_set_new(given, "aud", json_string(req->app->dev_default_aud));
		aud = json_object_get(given, "aud");
	}
	if (json_is_string(aud)) {
		/* A string aud must be a resource (registered on first use when dev mode takes
		 * any resource), so that the token is exactly what the real flows give. */
		if (registry_resource_find(st, json_string_value(aud), req->app->dev_any_resource, now,
			&r) != OAUTH_OK) {
			snprintf(err, errlen, "aud is not a registered resource");
			goto out;
		}
		uri = strdup(r.uri);
	}
	c = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:s}", "iss", req->app->issuer, "sub",
	    req->app->dev_user ? req->app->dev_user : "dev", "client_id", "mcp-authd-dev", "iat",
	    (json_int_t)now, "nbf", (json_int_t)now, "exp",
	    (json_int_t)(now + req->app->cfg->access_token_ttl), "auth_time", (json_int_t)now, "jti",
	    jti ? jti : "dev");
	if (c == NULL)
		goto out;
	if (uri != NULL) {
		json_object_set_new(c, "aud", json_string(uri));
		if (r.id != 0 && registry_default_scopes(&r)[0] != '\0')
			json_object_set_new(c, "scope", json_string(registry_default_scopes(&r)));
	}
	json_object_update(c, given);
	if (uri != NULL && json_is_string(aud))
		json_object_set_new(c, "aud", json_string(uri));
out:
	store_resource_clear(&r);
	free(uri);
	free(jti);
	return c;
}

/* The claims of a good ID-JAG from the mock issuer as an enterprise IdP: for the
 * seeded client, the seeded user, the first resource named (its default scopes), then
 * what the caller gave. */
static json_t *
id_jag_claims_for(struct request *req, json_t *given, int64_t now, char *err, size_t errlen)
{
	struct store_resource r;
	const json_t *res = json_object_get(given, "resource");
	const char *uri = json_is_string(res) ? json_string_value(res) : req->app->dev_default_aud;
	char *jti = secret_random_new(16);
	json_t *c;

	memset(&r, 0, sizeof(r));
	c = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s}", "iss", req->app->issuer, "sub",
	    req->app->dev_user ? req->app->dev_user : "dev", "aud", req->app->issuer, "client_id",
	    req->app->dev_client_id ? req->app->dev_client_id : "", "iat", (json_int_t)now, "exp",
	    (json_int_t)(now + IDJAG_DEV_LIFETIME), "jti", jti ? jti : "dev");
	free(jti);
	if (c == NULL)
		return NULL;
	if (uri != NULL) {
		if (registry_resource_find(app_store(req->app), uri, req->app->dev_any_resource, now,
			&r) != OAUTH_OK) {
			snprintf(err, errlen, "resource is not a registered resource");
			json_decref(c);
			return NULL;
		}
		json_object_set_new(c, "resource", json_string(r.uri));
		json_object_set_new(c, "scope", json_string(registry_default_scopes(&r)));
		store_resource_clear(&r);
	}
	json_object_update(c, given);
	return c;
}

/* Sign claims with the header fields given; key NULL means "no signature" (alg none). */
static char *
sign(EVP_PKEY *key, const char *alg, const char *kid, const char *typ, const json_t *claims)
{
	json_t *hdr = json_pack("{s:s}", "alg", alg);
	char *h = NULL, *p = NULL, *hb = NULL, *pb = NULL, *sig = NULL, *out = NULL;
	struct buf b;

	buf_init(&b, 64 * 1024);
	if (hdr == NULL)
		return NULL;
	if (kid != NULL)
		json_object_set_new(hdr, "kid", json_string(kid));
	if (typ != NULL)
		json_object_set_new(hdr, "typ", json_string(typ));
	h = json_dumps(hdr, JSON_COMPACT | JSON_PRESERVE_ORDER);
	p = json_dumps(claims, JSON_COMPACT);
	if (h == NULL || p == NULL || (hb = b64url_encode_new(h, strlen(h))) == NULL ||
	    (pb = b64url_encode_new(p, strlen(p))) == NULL ||
	    buf_printf(&b, "%s.%s", hb, pb) != BUF_OK)
		goto out;
	if (key != NULL && jws_signature_new(key, b.data, b.len, &sig) != 0)
		goto out;
	if (buf_printf(&b, ".%s", sig ? sig : "") == BUF_OK)
		out = buf_take(&b);
out:
	buf_free(&b);
	json_decref(hdr);
	free(h);
	free(p);
	free(hb);
	free(pb);
	free(sig);
	return out;
}

static enum MHD_Result
dev_mint(struct request *req, const char *kind, int id_jag)
{
	const char *typ = id_jag ? IDJAG_TYP : ACCESS_TOKEN_TYP;
	struct keyset *ks = app_keys(req->app);
	EVP_PKEY *key = NULL, *stranger = NULL;
	const char *kid = NULL, *alg;
	json_t *given = NULL, *claims = NULL, *answer;
	json_error_t jerr;
	char err[160], *tok = NULL;
	int64_t now = (int64_t)time(NULL);
	enum MHD_Result r;

	if (ks == NULL || keyset_signer(ks, &key, &kid) != 0) {
		keyset_unref(ks);
		return reply_oauth_error(req, OAUTH_TEMPORARILY_UNAVAILABLE, "no signing key");
	}
	alg = jws_alg_name(jwk_alg_of_key(key));
	given = req->body.len > 0
	    ? json_loadb(req->body.data, req->body.len, JSON_REJECT_DUPLICATES, &jerr)
	    : json_object();
	if (!json_is_object(given)) {
		r = reply_oauth_error(req, OAUTH_INVALID_REQUEST, "the body must be a JSON object of claims");
		goto out;
	}
	claims = id_jag ? id_jag_claims_for(req, given, now, err, sizeof(err))
			: claims_for(req, given, now, err, sizeof(err));
	if (claims == NULL) {
		r = reply_oauth_error(req, OAUTH_INVALID_TARGET, err);
		goto out;
	}
	if (kind == NULL) {
		tok = sign(key, alg, kid, typ, claims);
	} else if (strcmp(kind, "expired") == 0) {
		json_object_set_new(claims, "iat", json_integer(now - 3600));
		json_object_set_new(claims, "nbf", json_integer(now - 3600));
		json_object_set_new(claims, "exp", json_integer(now - 600));
		tok = sign(key, alg, kid, typ, claims);
	} else if (strcmp(kind, "not-yet-valid") == 0) {
		json_object_set_new(claims, "nbf", json_integer(now + 3600));
		json_object_set_new(claims, "exp", json_integer(now + 7200));
		tok = sign(key, alg, kid, typ, claims);
	} else if (strcmp(kind, "wrong-audience") == 0) {
		json_object_set_new(claims, "aud", json_string("https://wrong-audience.invalid/mcp"));
		tok = sign(key, alg, kid, typ, claims);
	} else if (strcmp(kind, "wrong-issuer") == 0) {
		json_object_set_new(claims, "iss", json_string("https://wrong-issuer.invalid"));
		tok = sign(key, alg, kid, typ, claims);
	} else if (strcmp(kind, "unknown-kid") == 0) {
		/* A real signature by a key nobody published. */
		char *fake_kid = NULL;

		if (jwk_generate(jwk_alg_of_key(key), &stranger) == 0 &&
		    jwk_thumbprint_new(stranger, &fake_kid) == 0)
			tok = sign(stranger, alg, fake_kid, typ, claims);
		free(fake_kid);
	} else if (strcmp(kind, "bad-signature") == 0) {
		if ((tok = sign(key, alg, kid, typ, claims)) != NULL) {
			/* Change one character in the middle of the signature: still base64url,
			 * no longer the signature of this header and payload. */
			char *s = strrchr(tok, '.') + 1;
			size_t mid = strlen(s) / 2;

			s[mid] = s[mid] == 'A' ? 'B' : 'A';
		}
	} else if (strcmp(kind, "alg-none") == 0) {
		tok = sign(NULL, "none", kid, typ, claims);
	} else if (strcmp(kind, "wrong-typ") == 0) {
		tok = sign(key, alg, kid, id_jag ? ACCESS_TOKEN_TYP : "JWT", claims);
	} else if (strcmp(kind, "wrong-client") == 0) {
		json_object_set_new(claims, "client_id", json_string("another-client"));
		tok = sign(key, alg, kid, typ, claims);
	} else if (strcmp(kind, "too-long") == 0) {
		json_object_set_new(claims, "exp", json_integer(now + 3600));
		tok = sign(key, alg, kid, typ, claims);
	}
	if (tok == NULL) {
		r = reply_oauth_error(req, OAUTH_SERVER_ERROR, "cannot sign");
		goto out;
	}
	/* An ID-JAG comes as an IdP's token exchange answers it (the draft, §4.3). */
	answer = id_jag ? json_pack("{s:s, s:s, s:s, s:i}", "access_token", tok, "issued_token_type",
			      "urn:ietf:params:oauth:token-type:id-jag", "token_type", "N_A",
			      "expires_in", IDJAG_DEV_LIFETIME)
			: json_pack("{s:s, s:s}", "access_token", tok, "token_type", "Bearer");
	if (kind != NULL)
		json_object_set_new(answer, "kind", json_string(kind));
	r = reply_json(req, MHD_HTTP_OK, answer, REPLY_NO_STORE | REPLY_CORS);
	json_decref(answer);
out:
	free(tok);
	EVP_PKEY_free(stranger);
	json_decref(claims);
	json_decref(given);
	keyset_unref(ks);
	return r;
}

enum MHD_Result
ep_dev_token(struct request *req)
{
	return dev_mint(req, NULL, 0);
}

enum MHD_Result
ep_dev_id_jag(struct request *req)
{
	return dev_mint(req, NULL, 1);
}

enum MHD_Result
ep_dev_bad_token(struct request *req)
{
	const char *kind = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, "kind");
	size_t i;

	for (i = 0; kind != NULL && bad_kinds[i] != NULL; i++) {
		if (strcmp(kind, bad_kinds[i]) == 0)
			return dev_mint(req, bad_kinds[i], 0);
	}
	for (i = 0; kind != NULL && strncmp(kind, "id-jag-", 7) == 0 && bad_id_jag_kinds[i] != NULL;
	     i++) {
		if (strcmp(kind + 7, bad_id_jag_kinds[i]) == 0)
			return dev_mint(req, bad_id_jag_kinds[i], 1);
	}
	return reply_oauth_error(req, OAUTH_INVALID_REQUEST,
	    "kind must be expired, not-yet-valid, wrong-audience, wrong-issuer, unknown-kid, "
	    "bad-signature, alg-none or wrong-typ; or for an ID-JAG id-jag-expired, "
	    "id-jag-wrong-audience, id-jag-wrong-issuer, id-jag-unknown-kid, id-jag-bad-signature, "
	    "id-jag-alg-none, id-jag-wrong-typ, id-jag-wrong-client or id-jag-too-long");
}
