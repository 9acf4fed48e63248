/* Upstream providers: the token endpoint (redeeming a code) and the userinfo endpoint. */
#include "config.h"

#include "oauth/upstream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "util/buf.h"

int
upstream_redeem(const struct upstream_metadata *md, const struct store_idp *p,
    const char *secret, const char *code, const char *verifier, const char *redirect_uri,
    const struct net_policy *np, char **id_token, char **access_token, char *err,
    size_t errlen)
{
	struct net_request req = {.url = md->token_endpoint};
	struct net_response r;
	struct buf form;
	char why[200], *auth = NULL;
	json_t *doc = NULL;
	const char *v;
	int rc = -1;

	*id_token = *access_token = NULL;
	memset(&r, 0, sizeof(r));
	buf_init(&form, 0);
	if (net_form_pair(&form, "grant_type", "authorization_code") != BUF_OK ||
	    net_form_pair(&form, "code", code) != BUF_OK ||
	    net_form_pair(&form, "redirect_uri", redirect_uri) != BUF_OK ||
	    net_form_pair(&form, "code_verifier", verifier) != BUF_OK)
		goto oom;
	if (secret == NULL || md->auth_post) {
		if (net_form_pair(&form, "client_id", p->client_id) != BUF_OK ||
		    (secret != NULL && net_form_pair(&form, "client_secret", secret) != BUF_OK))
			goto oom;
	} else if ((auth = net_basic_auth_new(p->client_id, secret)) == NULL)
		goto oom;
	req.form = form.data;
	req.authorization = auth;
	if (net_fetch(&req, np, &r, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "cannot reach the provider's token endpoint: %s", why);
		goto out;
	}
	doc = json_loadb(r.body, r.len, JSON_REJECT_DUPLICATES, NULL);
	if (r.status != 200) {
		v = json_string_value(json_object_get(doc, "error"));
		snprintf(err, errlen, "the provider's token endpoint answered %ld%s%.60s", r.status,
		    v ? ": " : "", v ? v : "");
		goto out;
	}
	if (!json_is_object(doc) || (v = json_string_value(json_object_get(doc, "id_token"))) == NULL) {
		snprintf(err, errlen, "the provider's token answer has no id_token");
		goto out;
	}
	if ((*id_token = strdup(v)) == NULL)
		goto oom;
	v = json_string_value(json_object_get(doc, "access_token"));
	if (v != NULL && (*access_token = strdup(v)) == NULL)
		goto oom;
	rc = 0;
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
out:
	if (rc != 0) {
		free(*id_token);
		free(*access_token);
		*id_token = *access_token = NULL;
	}
	if (form.data != NULL)
		OPENSSL_cleanse(form.data, form.len);
	buf_free(&form);
	if (auth != NULL)
		OPENSSL_clear_free(auth, strlen(auth));
	json_decref(doc);
	net_response_clear(&r);
	return rc;
}

int
upstream_userinfo(const struct upstream_metadata *md, const char *access_token,
    const struct net_policy *np, json_t **out, char *err, size_t errlen)
{
	struct net_request req = {.url = md->userinfo_endpoint};
	struct net_response r;
	char why[200], auth[4096];
	int rc = -1;

	*out = NULL;
	if (md->userinfo_endpoint == NULL || access_token == NULL) {
		snprintf(err, errlen, "the provider has no userinfo endpoint to ask for missing claims");
		return -1;
	}
	if (snprintf(auth, sizeof(auth), "Bearer %s", access_token) >= (int)sizeof(auth)) {
		snprintf(err, errlen, "the provider's access token is too long");
		return -1;
	}
	req.authorization = auth;
	if (net_fetch(&req, np, &r, why, sizeof(why)) != 0)
		snprintf(err, errlen, "cannot reach the provider's userinfo endpoint: %s", why);
	else if (r.status != 200)
		snprintf(err, errlen, "the provider's userinfo endpoint answered %ld", r.status);
	else if ((*out = json_loadb(r.body, r.len, JSON_REJECT_DUPLICATES, NULL)) == NULL ||
	    !json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		snprintf(err, errlen, "the provider's userinfo answer is not a JSON object");
	} else
		rc = 0;
	OPENSSL_cleanse(auth, sizeof(auth));
	net_response_clear(&r);
	return rc;
}
