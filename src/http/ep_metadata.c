/* Discovery: RFC 8414 metadata and JWKS, rendered once and served from memory; health. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "http/endpoints.h"
#include "http/metrics.h"
#include "http/reply.h"
#include "oauth/assertion.h"
#include "util/log.h"
#include "util/netaddr.h"

static int
set_url(json_t *doc, const struct app *app, const char *member, const char *path)
{
	char *u = app_url_new(app, path);
	int rc;

	if (u == NULL)
		return -1;
	rc = json_object_set_new(doc, member, json_string(u));
	free(u);
	return rc;
}

static json_t *
strings(const char *const *v)
{
	json_t *a = json_array();

	while (a != NULL && *v != NULL)
		json_array_append_new(a, json_string(*v++));
	return a;
}

int
metadata_render(struct app *app)
{
	static const char *const response_types[] = {"code", NULL};
	static const char *const response_modes[] = {"query", NULL};
	static const char *const grant_types[] = {"authorization_code", "refresh_token",
	    "client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange",
	    GRANT_TYPE_JWT_BEARER, NULL};
	static const char *const token_auth[] = {"client_secret_basic", "client_secret_post",
	    "private_key_jwt", "none", NULL};
	static const char *const secret_auth[] = {"client_secret_basic", "client_secret_post",
	    "private_key_jwt", NULL};
	/* What client assertions and ID-JAGs may be signed with (jose/jwks.c). */
	static const char *const assertion_algs[] = {"ES256", "EdDSA", "RS256", "PS256", NULL};
	static const char *const grant_profiles[] = {GRANT_PROFILE_ID_JAG, NULL};
	static const char *const challenge_methods[] = {"S256", NULL};
	static const char *const sig_algs[] = {"ES256", "EdDSA", "RS256", NULL};
	struct MHD_Response *resp;
	json_t *doc;
	int rc = -1;

	if ((doc = json_object()) == NULL)
		return -1;
	json_object_set_new(doc, "issuer", json_string(app->issuer));
	if (set_url(doc, app, "authorization_endpoint", "/authorize") != 0 ||
	    set_url(doc, app, "token_endpoint", "/token") != 0 ||
	    set_url(doc, app, "jwks_uri", "/jwks.json") != 0 ||
	    set_url(doc, app, "revocation_endpoint", "/revoke") != 0 ||
	    set_url(doc, app, "introspection_endpoint", "/introspect") != 0)
		goto out;
	json_object_set_new(doc, "response_types_supported", strings(response_types));
	json_object_set_new(doc, "response_modes_supported", strings(response_modes));
	json_object_set_new(doc, "grant_types_supported", strings(grant_types));
	json_object_set_new(doc, "token_endpoint_auth_methods_supported", strings(token_auth));
	json_object_set_new(doc, "revocation_endpoint_auth_methods_supported", strings(token_auth));
	json_object_set_new(doc, "introspection_endpoint_auth_methods_supported",
	    strings(secret_auth));
	json_object_set_new(doc, "token_endpoint_auth_signing_alg_values_supported",
	    strings(assertion_algs));
	json_object_set_new(doc, "revocation_endpoint_auth_signing_alg_values_supported",
	    strings(assertion_algs));
	json_object_set_new(doc, "introspection_endpoint_auth_signing_alg_values_supported",
	    strings(assertion_algs));
	/* draft-ietf-oauth-identity-assertion-authz-grant: ID-JAGs with the jwt-bearer grant. */
	json_object_set_new(doc, "authorization_grant_profiles_supported", strings(grant_profiles));
	json_object_set_new(doc, "code_challenge_methods_supported", strings(challenge_methods));
	json_object_set_new(doc, "authorization_response_iss_parameter_supported", json_true());
	if (strcmp(app->cfg->registration, "off") != 0 &&
	    set_url(doc, app, "registration_endpoint", "/register") != 0)
		goto out;
	json_object_set_new(doc, "client_id_metadata_document_supported", json_true());
	/* RFC 9068 access tokens are signed with one of these, chosen by the key. */
	json_object_set_new(doc, "access_token_signing_alg_values_supported", strings(sig_algs));
	free(app->metadata_json);
	if ((app->metadata_json = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL)
		goto out;
	app->metadata_len = strlen(app->metadata_json);
	resp = reply_response_new(app->metadata_json, app->metadata_len, "application/json",
	    REPLY_CORS);
	if (resp == NULL)
		goto out;
	MHD_add_response_header(resp, "Cache-Control", "public, max-age=3600");
	pthread_mutex_lock(&app->lock);
	if (app->metadata_resp != NULL)
		MHD_destroy_response(app->metadata_resp);
	app->metadata_resp = resp;
	pthread_mutex_unlock(&app->lock);
	rc = 0;
out:
	json_decref(doc);
	return rc;
}

static enum MHD_Result
serve_copy_jwks(struct request *req)
{
	struct keyset *ks = app_keys(req->app);
	const char *text;
	size_t len;
	enum MHD_Result r;

	if (ks == NULL)
		return reply_error_status(req, 503, "temporarily_unavailable", "no keys");
	text = keyset_jwks(ks, &len);
	r = reply_json_text(req, MHD_HTTP_OK, text, len, REPLY_CORS);
	keyset_unref(ks);
	return r;
}

static enum MHD_Result
serve_cached(struct request *req, struct MHD_Response **slot)
{
	enum MHD_Result r;

	/* The cached responses are shared: while stopping, answer with a copy that
	 * closes the connection. */
	if (req->app->stopping) {
		return slot == &req->app->jwks_resp ? serve_copy_jwks(req)
						    : reply_json_text(req, MHD_HTTP_OK,
							  req->app->metadata_json, req->app->metadata_len,
							  REPLY_CORS);
	}
	r = app_queue_cached(req->app, req->conn, slot);

	req->status = MHD_HTTP_OK;
	req->responded = 1;
	return r;
}

enum MHD_Result
ep_metadata(struct request *req)
{
	return serve_cached(req, &req->app->metadata_resp);
}

enum MHD_Result
ep_jwks(struct request *req)
{
	return serve_cached(req, &req->app->jwks_resp);
}

enum MHD_Result
ep_healthz(struct request *req)
{
	static const char ok[] = "{\"status\":\"ok\"}";

	return reply_json_text(req, MHD_HTTP_OK, ok, sizeof(ok) - 1, REPLY_NO_STORE);
}

enum MHD_Result
ep_readyz(struct request *req)
{
	static const char ok[] = "{\"status\":\"ready\"}";
	struct store *st = app_store(req->app);
	struct keyset *ks = app_keys(req->app);
	EVP_PKEY *key;
	const char *kid;
	int ready;

	ready = store_cache_healthy(req->app->cache) == STORE_OK && st != NULL &&
	    store_ping(st) == STORE_OK && ks != NULL && keyset_signer(ks, &key, &kid) == 0;
	keyset_unref(ks);
	if (!ready)
		return reply_error_status(req, MHD_HTTP_SERVICE_UNAVAILABLE, "temporarily_unavailable",
		    "database unreachable or no active signing key");
	return reply_json_text(req, MHD_HTTP_OK, ok, sizeof(ok) - 1, REPLY_NO_STORE);
}

/* "Authorization: Bearer <metrics_token>", compared in constant time. */
static int
metrics_token_ok(struct request *req)
{
	const char *h = request_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
	const char *want = req->app->cfg->metrics_token;
	size_t n = strlen(want);

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return 0;
	h += 7;
	return strlen(h) == n && CRYPTO_memcmp(h, want, n) == 0;
}

enum MHD_Result
ep_metrics(struct request *req)
{
	struct store *st;
	struct keyset *ks;
	struct store_cache_stats cache;
	int64_t now = (int64_t)time(NULL), bytes = 0, activated;
	enum MHD_Result r;
	struct buf b;

	/* Optional, for deployments where the port is reachable by more than the scraper:
	 * the addresses it may come from, and a bearer token it sends. */
	if (req->app->cfg->metrics_allow != NULL &&
	    !netaddr_in_list(req->app->cfg->metrics_allow, req->remote_addr))
		return reply_error_status(req, 403, "access_denied",
		    "metrics are not served to this address (metrics_allow)");
	if (req->app->cfg->metrics_token != NULL && !metrics_token_ok(req))
		return reply_bearer_challenge(req, "metrics want the bearer token metrics_token");
	st = app_store(req->app);
	ks = app_keys(req->app);
	activated = ks != NULL ? keyset_signer_activated_at(ks) : 0;
	keyset_unref(ks);
	if (st != NULL && store_cache_healthy(req->app->cache) == STORE_OK)
		store_size(st, &bytes);
	store_cache_stats(req->app->cache, &cache);
	buf_init(&b, 1024 * 1024);
	if (metrics_render(req->app->metrics, &b, activated > 0 ? now - activated : 0, bytes,
		now - req->app->started_at, &cache,
		store_cache_healthy(req->app->cache) == STORE_OK) != 0) {
		buf_free(&b);
		return reply_error_status(req, 500, "server_error", "cannot render metrics");
	}
	r = reply_text(req, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len,
	    REPLY_NO_STORE);
	buf_free(&b);
	return r;
}
