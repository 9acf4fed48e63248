/* /authorize: the login and consent pages, and the CSRF tokens their forms carry. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "http/authz.h"
#include "http/pages.h"
#include "http/reply.h"
#include "jose/b64url.h"
#include "oauth/redirect.h"
#include "oauth/scope.h"
#include "oauth/secret.h"

#define CSRF_COOKIE "mcp_authd_csrf"

enum MHD_Result
authz_refuse_page(struct request *req, const char *error, const char *message)
{
	return page_error(req, MHD_HTTP_BAD_REQUEST, error, "This sign-in request cannot continue",
	    message);
}

/* ---- CSRF ---- */

/* HMAC(csrf key, browser cookie, the forwarded parameters in order). */
static int
csrf_token(struct request *req, const struct authz *a, const char *cookie, char out[64])
{
	unsigned char mac[32];
	unsigned int len = sizeof(mac);
	struct buf b;
	size_t i;
	int rc = -1;

	buf_init(&b, 256 * 1024);
	if (buf_puts(&b, cookie) != 0 || buf_putc(&b, '\n') != 0)
		goto out;
	for (i = 0; i < a->params.n; i++) {
		if (buf_printf(&b, "%zu:%s=%zu:%s\n", strlen(a->params.v[i].name), a->params.v[i].name,
			strlen(a->params.v[i].value), a->params.v[i].value) != 0)
			goto out;
	}
	if (HMAC(EVP_sha256(), req->app->csrf_key, sizeof(req->app->csrf_key),
		(const unsigned char *)b.data, b.len, mac, &len) == NULL)
		goto out;
	b64url_encode(mac, sizeof(mac), out);
	rc = 0;
out:
	buf_free(&b);
	return rc;
}

/* The browser-binding cookie, set now when the browser has none. */
static const char *
csrf_cookie(struct request *req, char *fresh, size_t freshlen)
{
	char name[64];
	const char *v;
	char *r;

	request_cookie_name(req, CSRF_COOKIE, name, sizeof(name));
	v = request_cookie(req, name);
	if (v != NULL && strlen(v) == 43)
		return v;
	if ((r = secret_random_new(32)) == NULL)
		return NULL;
	snprintf(fresh, freshlen, "%s", r);
	free(r);
	request_set_cookie(req, name, fresh, req->app->cfg->session_ttl);
	return fresh;
}

int
authz_csrf_ok(struct request *req, const struct authz *a, const char *presented)
{
	char name[64], want[64];
	const char *cookie;

	request_cookie_name(req, CSRF_COOKIE, name, sizeof(name));
	cookie = request_cookie(req, name);
	if (cookie == NULL || presented == NULL || strlen(presented) != 43 ||
	    csrf_token(req, a, cookie, want) != 0)
		return 0;
	return CRYPTO_memcmp(want, presented, 43) == 0;
}

/* ---- pages ---- */

static json_t *
hidden_params(const struct authz *a)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; arr != NULL && i < a->params.n; i++)
		json_array_append_new(arr, json_pack("{s:s, s:s}", "name", a->params.v[i].name,
		    "value", a->params.v[i].value));
	return arr;
}

static enum MHD_Result
form_page(struct request *req, const struct authz *a, enum page page, unsigned int status,
    json_t *ctx)
{
	char fresh[64], token[64], *action;
	const char *cookie = csrf_cookie(req, fresh, sizeof(fresh));

	if (cookie == NULL || csrf_token(req, a, cookie, token) != 0 ||
	    (action = app_url_new(req->app, "/authorize")) == NULL) {
		json_decref(ctx);
		return reply_error_status(req, 500, "server_error", "cannot build the form");
	}
	json_object_set_new(ctx, "action", json_string(action));
	json_object_set_new(ctx, "csrf", json_string(token));
	json_object_set_new(ctx, "params", hidden_params(a));
	json_object_set_new(ctx, "client_name", json_string(a->client.name));
	/* Who vouches for the name: a client that registered itself chose its own (anyone
	 * can call theirs "Claude Desktop"); a metadata document's client is vouched for by
	 * the host that serves it. Clients the operator added show their name alone. */
	if (a->client.origin != NULL && strcmp(a->client.origin, "dcr") == 0)
		json_object_set_new(ctx, "client_unverified", json_true());
	if (a->client.origin != NULL && strcmp(a->client.origin, "cimd") == 0) {
		char *host = redirect_uri_host_new(a->client.client_id);

		if (host != NULL)
			json_object_set_new(ctx, "client_host", json_string(host));
		free(host);
	}
	free(action);
	return page_reply(req, status, page, ctx);
}

static int
add_provider(const struct store_idp *p, void *arg)
{
	if (p->client_id[0] == '\0')
		return 0; /* an issuer of ID-JAGs only: nobody signs in through it */
	return json_array_append_new(arg, json_pack("{s:s, s:s}", "name", p->name, "display_name",
	    p->display_name));
}

enum MHD_Result
authz_login_page(struct request *req, const struct authz *a, unsigned int status,
    const char *error, const char *username)
{
	json_t *ctx = json_object(), *providers = json_array();

	if (error != NULL)
		json_object_set_new(ctx, "error", json_string(error));
	json_object_set_new(ctx, "username", json_string(username ? username : ""));
	/* One button per upstream provider; the password form unless local_login is off. */
	if (providers != NULL && store_idp_list(app_store(req->app), add_provider, providers) == STORE_OK &&
	    json_array_size(providers) > 0)
		json_object_set_new(ctx, "providers", json_incref(providers));
	json_decref(providers);
	if (req->app->cfg->local_login)
		json_object_set_new(ctx, "local_login", json_true());
	return form_page(req, a, PAGE_LOGIN, status, ctx);
}

enum MHD_Result
authz_consent_page(struct request *req, const struct authz *a, const char *username)
{
	json_t *ctx = json_object(), *res = json_array();
	char *host = redirect_uri_host_new(a->redirect_uri);
	int local_only = 1;
	size_t i;

	for (i = 0; i < a->nres; i++)
		json_array_append_new(res, json_pack("{s:s, s:s}", "name", a->res[i].name, "uri",
		    a->res[i].uri));
	/* Warn when every registered redirect URI stays on this machine. */
	for (i = 0; i < a->client.n_redirect_uris; i++) {
		if (redirect_uri_classify(a->client.redirect_uris[i]) != REDIRECT_LOOPBACK)
			local_only = 0;
	}
	json_object_set_new(ctx, "resources", res);
	json_object_set_new(ctx, "scopes", scope_json_array(a->scope));
	json_object_set_new(ctx, "redirect_host", json_string(host ? host : a->redirect_uri));
	json_object_set_new(ctx, "localhost_only", json_boolean(local_only));
	json_object_set_new(ctx, "username", json_string(username));
	free(host);
	return form_page(req, a, PAGE_CONSENT, MHD_HTTP_OK, ctx);
}

