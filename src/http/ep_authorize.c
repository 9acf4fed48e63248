/* GET/POST /authorize: validate, log the user in, ask consent, redirect with a code.
 *
 * The request's parameters travel through the login and consent forms as hidden
 * fields and are validated again on every step, so nothing about a pending request
 * is kept on the server. Forms carry a CSRF token bound to a browser cookie and to
 * exactly those parameters. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "http/async.h"
#include "http/endpoints.h"
#include "http/metrics.h"
#include "http/pages.h"
#include "http/reply.h"
#include "http/session.h"
#include "jose/b64url.h"
#include "oauth/cimd.h"
#include "oauth/grants.h"
#include "oauth/pkce.h"
#include "oauth/redirect.h"
#include "oauth/registry.h"
#include "oauth/scope.h"
#include "oauth/secret.h"
#include "oauth/throttle.h"
#include "oauth/upstream.h"
#include "util/log.h"
#include "util/password.h"

#define MAX_RESOURCES 8
#define CSRF_COOKIE "mcp_authd_csrf"
#define USERNAME_MAX 128

/* A validated authorization request. */
struct authz {
	struct form params;        /* the OAuth parameters, re-sent by the forms */
	struct store_client client;
	const char *redirect_uri;  /* the effective one */
	int redirect_given;
	const char *state;
	const char *challenge;
	const char *prompt;
	struct store_resource res[MAX_RESOURCES];
	size_t nres;
	char *resources;           /* sorted registered URIs, space-separated */
	char *scope;               /* sorted effective scope */
	int used_default_resource;
	int64_t now;
};

static void
authz_clear(struct authz *a)
{
	size_t i;

	form_clear(&a->params);
	store_client_clear(&a->client);
	for (i = 0; i < a->nres; i++)
		store_resource_clear(&a->res[i]);
	free(a->resources);
	free(a->scope);
	memset(a, 0, sizeof(*a));
}

/* Fields of our own forms, never forwarded as authorization parameters. */
static int
is_form_field(const char *name)
{
	static const char *const fields[] = {"step", "csrf_token", "username", "password",
	    "decision", "idp", NULL};
	size_t i;

	for (i = 0; fields[i] != NULL; i++) {
		if (strcmp(name, fields[i]) == 0)
			return 1;
	}
	return 0;
}

/* ---- outcomes ---- */

/* An error that must not be redirected: the client or redirect URI is untrusted. */
static enum MHD_Result
refuse_page(struct request *req, const char *error, const char *message)
{
	return page_error(req, MHD_HTTP_BAD_REQUEST, error, "This sign-in request cannot continue",
	    message);
}

/* The longest Location we send. libmicrohttpd builds the response headers in the
 * connection's 16 KiB memory pool, which still holds the request's own headers: with a
 * longer one it drops the connection without any answer. A state whose encoding does
 * not fit gets an error page instead (a state cut short would be a wrong one). */
#define REDIRECT_MAX 6144
#define CODE_CHARS 43 /* 32 random bytes, base64url */

/* Append state (when there is one) and iss (RFC 9207) to a redirect being built. */
static int
redirect_append_tail(struct buf *b, const struct request *req, const struct authz *a)
{
	int rc = BUF_OK;

	if (a->state != NULL) {
		rc |= buf_puts(b, "&state=");
		rc |= buf_put_urlencoded(b, a->state);
	}
	rc |= buf_puts(b, "&iss=");
	rc |= buf_put_urlencoded(b, req->app->issuer);
	return rc;
}

static enum MHD_Result
refuse_too_long(struct request *req)
{
	return refuse_page(req, "invalid_request",
	    "The request is too large to send back to the application (state too long).");
}

/* Redirect to the client with error, error_description, state and iss (RFC 9207). */
static enum MHD_Result
redirect_error(struct request *req, const struct authz *a, const char *error, const char *desc)
{
	struct buf b;
	enum MHD_Result r;
	int rc;

	buf_init(&b, REDIRECT_MAX);
	rc = buf_puts(&b, a->redirect_uri);
	rc |= buf_puts(&b, strchr(a->redirect_uri, '?') ? "&error=" : "?error=");
	rc |= buf_put_urlencoded(&b, error);
	rc |= buf_puts(&b, "&error_description=");
	rc |= buf_put_urlencoded(&b, desc);
	rc |= redirect_append_tail(&b, req, a);
	r = rc == BUF_OK ? reply_redirect(req, b.data) : refuse_too_long(req);
	buf_free(&b);
	return r;
}

/* ---- validation ---- */

/* A client known by its metadata document: fetched (on the fetch pool) when unknown
 * or stale, kept as a client row. 0 when a->client is filled, 1 while fetching, -1
 * after answering with an error page. */
static int
cimd_client(struct request *req, const char *client_id, struct authz *a, enum MHD_Result *r)
{
	struct store *st = app_store(req->app);
	struct store_client c;
	json_t *doc = NULL;
	const json_t *v;
	const char *uris[32];
	char err[256], *meta = NULL, *host = NULL;
	int64_t max_age = 0;
	size_t i;
	int rc = -1;

	if (store_client_get(st, client_id, &a->client) == STORE_OK &&
	    strcmp(a->client.origin, "cimd") == 0 && a->client.metadata_expires_at > a->now)
		return 0;
	store_client_clear(&a->client);
	if (!cimd_host_allowed(client_id, &req->app->cimd_policy)) {
		*r = refuse_page(req, "invalid_client",
		    "Applications from this domain may not sign users in here.");
		return -1;
	}
	switch (request_cimd_fetch(req, client_id, &doc, &max_age, err, sizeof(err))) {
	case ASYNC_PENDING:
		*r = MHD_YES;
		return 1;
	case ASYNC_BUSY:
		*r = reply_error_status(req, 503, "temporarily_unavailable", "server busy, retry");
		return -1;
	default:
		break;
	}
	if (doc == NULL) {
		log_info("client metadata document %s refused: %s", client_id, err);
		*r = refuse_page(req, "invalid_client",
		    "The application's metadata document could not be used.");
		return -1;
	}
	memset(&c, 0, sizeof(c));
	v = json_object_get(doc, "redirect_uris");
	for (i = 0; i < json_array_size(v) && i < sizeof(uris) / sizeof(uris[0]); i++)
		uris[i] = json_string_value(json_array_get(v, i));
	host = redirect_uri_host_new(client_id);
	v = json_object_get(doc, "client_name");
	c.client_id = (char *)(uintptr_t)client_id;
	c.name = (char *)(uintptr_t)(v ? json_string_value(v) : host ? host : client_id);
	c.auth_method = (char *)(uintptr_t)"none";
	c.grant_types = (char *)(uintptr_t)"authorization_code refresh_token";
	c.origin = (char *)(uintptr_t)"cimd";
	c.metadata = meta = json_dumps(doc, JSON_COMPACT);
	c.created_at = c.updated_at = a->now;
	c.metadata_expires_at = a->now + max_age;
	c.redirect_uris = (char **)(uintptr_t)uris;
	c.n_redirect_uris = i;
	if (meta == NULL || store_client_put_cimd(st, &c) != STORE_OK ||
	    store_client_get(st, client_id, &a->client) != STORE_OK) {
		*r = refuse_page(req, "invalid_client", "The application's metadata could not be kept.");
		goto out;
	}
	rc = 0;
out:
	free(meta);
	free(host);
	json_decref(doc);
	return rc;
}

/* Steps 1-2: the client and its redirect URI. Failure answers with a page; 1 means the
 * client's metadata is being fetched (*r is MHD_YES). */
static int
check_client(struct request *req, const struct form *in, struct authz *a, enum MHD_Result *r)
{
	struct store *st = app_store(req->app);
	const char *client_id, *redirect;
	int dup1 = 0, dup2 = 0, rc;
	size_t i;

	client_id = form_get(in, "client_id", &dup1);
	redirect = form_get(in, "redirect_uri", &dup2);
	if (dup1 || dup2 || client_id == NULL || client_id[0] == '\0') {
		*r = refuse_page(req, "invalid_request", "The request does not name one client.");
		return -1;
	}
	if (st == NULL) {
		*r = reply_error_status(req, 503, "temporarily_unavailable", "database unavailable");
		return -1;
	}
	if (cimd_is_url(client_id)) {
		if ((rc = cimd_client(req, client_id, a, r)) != 0)
			return rc;
	} else if ((rc = store_client_get(st, client_id, &a->client)) != STORE_OK) {
		*r = rc == STORE_NOTFOUND
		    ? refuse_page(req, "invalid_client", "The application is not registered here.")
		    : reply_error_status(req, 503, "temporarily_unavailable", "database busy");
		return -1;
	}
	request_log_client(req, a->client.client_id);
	if (!scope_has(a->client.grant_types, "authorization_code") ||
	    a->client.n_redirect_uris == 0) {
		*r = refuse_page(req, "unauthorized_client",
		    "This application may not sign users in.");
		return -1;
	}
	if (redirect == NULL) {
		/* Omitting it is allowed only when there is no choice to make. */
		if (a->client.n_redirect_uris != 1) {
			*r = refuse_page(req, "invalid_request",
			    "The request has no redirect_uri and the application has several.");
			return -1;
		}
		a->redirect_uri = a->client.redirect_uris[0];
		return 0;
	}
	for (i = 0; i < a->client.n_redirect_uris; i++) {
		if (redirect_uri_match(a->client.redirect_uris[i], redirect)) {
			a->redirect_uri = redirect;
			a->redirect_given = 1;
			return 0;
		}
	}
	*r = refuse_page(req, "invalid_redirect_uri",
	    "The redirect URI is not registered for this application.");
	return -1;
}

static int
cmp_resource(const void *x, const void *y)
{
	return strcmp(((const struct store_resource *)x)->uri,
	    ((const struct store_resource *)y)->uri);
}

/* Step 3: everything else; a failure is an error redirect (returns its description). */
static const char *
check_request(struct request *req, const struct form *in, struct authz *a, const char **error)
{
	struct store *st = app_store(req->app);
	const char *v, *method, *scope, *names[] = {"response_type", "code_challenge",
	    "code_challenge_method", "scope", "state", "prompt", "response_mode", NULL};
	struct buf b;
	size_t i, j, nres = form_count(in, "resource");
	int dup = 0, union_ok;
	enum oauth_error e;

	*error = "invalid_request";
	/* Read before the checks below, so that their error redirects carry it (RFC 6749
	 * §4.1.2.1); a repeated state is NULL and is not echoed. */
	a->state = form_get(in, "state", &dup);
	for (i = 0; names[i] != NULL; i++) {
		if (form_count(in, names[i]) > 1)
			return "a parameter is repeated";
	}
	a->prompt = form_get(in, "prompt", &dup);
	v = form_get(in, "response_type", &dup);
	if (v == NULL)
		return "response_type is required";
	if (strcmp(v, "code") != 0) {
		*error = "unsupported_response_type";
		return "only response_type=code is supported";
	}
	v = form_get(in, "response_mode", &dup);
	if (v != NULL && strcmp(v, "query") != 0)
		return "only response_mode=query is supported";
	method = form_get(in, "code_challenge_method", &dup);
	a->challenge = form_get(in, "code_challenge", &dup);
	if (a->challenge == NULL)
		return "code_challenge is required (PKCE with S256)";
	if (method == NULL || strcmp(method, "S256") != 0)
		return "code_challenge_method must be S256";
	if (!pkce_challenge_valid(a->challenge))
		return "code_challenge must be the base64url SHA-256 of the code_verifier";
	if (a->prompt != NULL && strcmp(a->prompt, "none") != 0 && strcmp(a->prompt, "login") != 0 &&
	    strcmp(a->prompt, "consent") != 0)
		return "prompt must be none, login or consent";

	/* RFC 8707 resources: one or more, each registered. */
	*error = "invalid_target";
	if (nres > MAX_RESOURCES)
		return "too many resources";
	for (i = 0; i < nres; i++) {
		struct store_resource r;

		e = registry_resource_find(st, form_get_nth(in, "resource", i),
		    req->app->dev_any_resource, a->now, &r);
		if (e != OAUTH_OK)
			return e == OAUTH_SERVER_ERROR ? "database busy" : "unknown or malformed resource";
		for (j = 0; j < a->nres && a->res[j].id != r.id; j++)
			;
		if (j < a->nres)
			store_resource_clear(&r);
		else
			a->res[a->nres++] = r;
	}
	if (nres == 0) {
		const char *fallback = a->client.default_resource;

		if (fallback == NULL)
			fallback = req->app->cfg->default_resource;
		if (fallback == NULL)
			return "resource is required (RFC 8707): name the MCP server";
		if (registry_resource_find(st, fallback, 0, a->now, &a->res[0]) != OAUTH_OK)
			return "the configured default resource is not registered";
		a->nres = 1;
		a->used_default_resource = 1;
	}
	qsort(a->res, a->nres, sizeof(a->res[0]), cmp_resource);

	/* Scope: what was asked, each token allowed by one of the resources; or the
	 * resources' defaults when nothing was asked (MCP clients often ask nothing). */
	*error = "invalid_scope";
	scope = form_get(in, "scope", &dup);
	buf_init(&b, 16 * 1024);
	if (scope != NULL && scope[0] != '\0') {
		if (!scope_valid(scope)) {
			buf_free(&b);
			return "malformed scope";
		}
		buf_puts(&b, scope);
	} else {
		for (i = 0; i < a->nres; i++) {
			const char *d = registry_default_scopes(&a->res[i]);

			if (d[0] != '\0' && (b.len > 0 ? buf_putc(&b, ' ') : 0) == 0)
				buf_puts(&b, d);
		}
	}
	a->scope = scope_sorted_new(b.data ? b.data : "");
	buf_free(&b);
	if (a->scope == NULL)
		return "out of memory";
	/* Every token must be allowed by at least one requested resource. */
	union_ok = 1;
	{
		char *copy = strdup(a->scope), *p = copy, *tok;

		while (copy != NULL && p != NULL && *p != '\0' && union_ok) {
			int allowed = 0;

			tok = p;
			p = strchr(p, ' ');
			if (p != NULL)
				*p++ = '\0';
			for (i = 0; i < a->nres && !allowed; i++)
				allowed = registry_scope_allowed(&a->res[i], tok);
			union_ok = allowed;
		}
		free(copy);
	}
	if (!union_ok)
		return "scope not allowed by the requested resources";

	buf_init(&b, 16 * 1024);
	for (i = 0; i < a->nres; i++) {
		if (i > 0)
			buf_putc(&b, ' ');
		buf_puts(&b, a->res[i].uri);
	}
	a->resources = buf_take(&b);
	buf_free(&b);
	*error = NULL;
	return a->resources ? NULL : "out of memory";
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

static int
csrf_ok(struct request *req, const struct authz *a, const char *presented)
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

static enum MHD_Result
login_page(struct request *req, const struct authz *a, unsigned int status, const char *error,
    const char *username)
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

/* The authorization request as a query string, to come back to after the provider.
 * prompt=login is dropped: the sign-in it asks for is the one happening. New string. */
static char *
authorize_query_new(const struct authz *a)
{
	struct buf b;
	size_t i;
	int rc = BUF_OK;

	buf_init(&b, 8192);
	for (i = 0; i < a->params.n; i++) {
		if (strcmp(a->params.v[i].name, "prompt") == 0 &&
		    strcmp(a->params.v[i].value, "login") == 0)
			continue;
		if (b.len > 0)
			rc |= buf_putc(&b, '&');
		rc |= buf_put_urlencoded(&b, a->params.v[i].name);
		rc |= buf_putc(&b, '=');
		rc |= buf_put_urlencoded(&b, a->params.v[i].value);
	}
	if (rc != BUF_OK || b.data == NULL) {
		buf_free(&b);
		return NULL;
	}
	return b.data;
}

/* To the provider to sign in (a button of the login page, or the only provider). */
static enum MHD_Result
step_upstream(struct request *req, const struct authz *a, const char *idp)
{
	enum MHD_Result r;
	char *query;
	int rc;

	if (idp == NULL || !upstream_name_ok(idp))
		return login_page(req, a, MHD_HTTP_BAD_REQUEST, "Unknown identity provider.", NULL);
	if ((query = authorize_query_new(a)) == NULL)
		return refuse_too_long(req);
	rc = idp_start(req, idp, query, &r);
	free(query);
	if (rc == 1)
		return login_page(req, a, MHD_HTTP_BAD_REQUEST, "Unknown identity provider.", NULL);
	if (rc < 0)
		return reply_error_status(req, 500, "server_error", "cannot start the sign-in");
	return r;
}

/* With local_login off and exactly one provider, the login page would be one button:
 * its name instead, so that /authorize goes straight there. */
static int
only_provider(const struct store_idp *p, void *arg)
{
	char **name = arg;

	if (p->client_id[0] == '\0')
		return 0;
	if (*name != NULL) {
		free(*name);
		*name = NULL;
		return 1; /* a second one: there is no single provider */
	}
	*name = strdup(p->name);
	return 0;
}

static enum MHD_Result
consent_page(struct request *req, const struct authz *a, const char *username)
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


/* ---- the flow ---- */

static void
audit_default_resource(struct request *req, const struct authz *a, const char *sub)
{
	struct store_audit ev;

	memset(&ev, 0, sizeof(ev));
	ev.ts = a->now;
	ev.event = "authorize.default_resource";
	ev.outcome = "ok";
	ev.reason = "request named no resource; the configured default was used";
	ev.client_id = a->client.client_id;
	ev.subject = sub;
	ev.resource = a->resources;
	ev.remote_addr = req->remote_addr;
	audit_write(app_store(req->app), req->app->audit, &ev);
}

/* The user is known and has consented: issue the code and send it back. */
static enum MHD_Result
issue_code(struct request *req, const struct authz *a, const struct who *w)
{
	struct grant_env env;
	struct buf b, tail;
	char *code = NULL;
	enum MHD_Result r;
	int rc;

	/* Everything but the code first: a request whose answer cannot be sent gets none. */
	buf_init(&tail, REDIRECT_MAX);
	if (redirect_append_tail(&tail, req, a) != BUF_OK ||
	    strlen(a->redirect_uri) + strlen("?code=") + CODE_CHARS + tail.len > REDIRECT_MAX) {
		buf_free(&tail);
		return refuse_too_long(req);
	}
	grant_env_init(req, &env, NULL);
	env.now = a->now;
	if (a->used_default_resource)
		audit_default_resource(req, a, w->user.name);
	if (grant_code_issue(&env, &a->client, w->user_id, w->auth_time, a->redirect_uri,
		a->redirect_given, a->challenge, a->resources, a->scope, &code) != 0) {
		buf_free(&tail);
		return redirect_error(req, a, "temporarily_unavailable", "cannot store the code");
	}
	buf_init(&b, REDIRECT_MAX);
	rc = buf_puts(&b, a->redirect_uri);
	rc |= buf_puts(&b, strchr(a->redirect_uri, '?') ? "&code=" : "?code=");
	rc |= buf_puts(&b, code);
	rc |= buf_append(&b, tail.data, tail.len);
	r = rc == BUF_OK ? reply_redirect(req, b.data) : refuse_too_long(req);
	buf_free(&b);
	buf_free(&tail);
	OPENSSL_clear_free(code, strlen(code));
	return r;
}

/* ---- what a federated user's groups reach ---- */

struct maps {
	struct upstream_map *v;
	size_t n;
};

static int
collect_map(const char *idp, const char *group, const char *resource_uri, const char *scopes,
    void *arg)
{
	struct maps *m = arg;
	struct upstream_map *grown = realloc(m->v, (m->n + 1) * sizeof(*grown));

	(void)idp;
	if (grown == NULL)
		return -1;
	m->v = grown;
	m->v[m->n].group = strdup(group);
	m->v[m->n].resource_uri = strdup(resource_uri);
	m->v[m->n].scopes = scopes != NULL ? strdup(scopes) : NULL;
	m->n++;
	if (m->v[m->n - 1].group == NULL || m->v[m->n - 1].resource_uri == NULL ||
	    (scopes != NULL && m->v[m->n - 1].scopes == NULL))
		return -1;
	return 0;
}

static void
maps_free(struct maps *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		free((char *)(uintptr_t)m->v[i].group);
		free((char *)(uintptr_t)m->v[i].resource_uri);
		free((char *)(uintptr_t)m->v[i].scopes);
	}
	free(m->v);
}

/* For a user who signed in through a provider: every requested resource must be one
 * their groups (as of that sign-in) reach, and the scope narrows to what the groups
 * allow. NULL when the request may go on (a->scope narrowed); otherwise why not. */
static const char *
federated_reach(struct request *req, struct authz *a, const struct who *w)
{
	struct store *st = app_store(req->app);
	struct store_idp p;
	struct maps m = {NULL, 0};
	struct buf allowed;
	json_t *groups = NULL;
	const char *why = NULL;
	char *reach, *narrowed;
	size_t i;
	int reachable;

	if (w->user.idp == NULL)
		return NULL;
	memset(&p, 0, sizeof(p));
	buf_init(&allowed, 0);
	if (store_idp_get(st, w->user.idp, &p) != STORE_OK) {
		why = "the user's identity provider is no longer registered";
		goto out;
	}
	if (store_idp_map_list(st, p.id, collect_map, &m) != STORE_OK) {
		why = "cannot read the identity provider's group mappings";
		goto out;
	}
	groups = w->user.idp_groups ? json_loads(w->user.idp_groups, 0, NULL) : json_array();
	if (!json_is_array(groups)) {
		json_decref(groups);
		groups = json_array();
	}
	for (i = 0; i < a->nres; i++) {
		reach = upstream_reach_new(m.v, m.n, groups, a->res[i].uri,
		    a->res[i].scopes ? a->res[i].scopes : "", &reachable);
		if (reach == NULL) {
			why = reachable ? "out of memory"
					: "the user's groups at the identity provider do not reach the "
					  "requested resource";
			goto out;
		}
		if (allowed.len > 0 && reach[0] != '\0')
			buf_putc(&allowed, ' ');
		buf_puts(&allowed, reach);
		free(reach);
	}
	if ((narrowed = scope_intersect_new(a->scope, allowed.data ? allowed.data : "")) == NULL) {
		why = "out of memory";
		goto out;
	}
	free(a->scope);
	a->scope = narrowed;
out:
	json_decref(groups);
	maps_free(&m);
	buf_free(&allowed);
	store_idp_clear(&p);
	return why;
}

/* Consent remembered, or not needed (dev), or ask for it. */
static enum MHD_Result
after_login(struct request *req, struct authz *a, const struct who *w)
{
	int prompt_consent = a->prompt != NULL && strcmp(a->prompt, "consent") == 0;
	int remembered;
	const char *why;

	if ((why = federated_reach(req, a, w)) != NULL)
		return redirect_error(req, a, "access_denied", why);

	if (req->app->dev)
		return issue_code(req, a, w);
	remembered = store_consent_check(app_store(req->app), w->user_id, a->client.id,
			 a->resources, a->scope, a->now) == STORE_OK;
	if (remembered && !prompt_consent)
		return issue_code(req, a, w);
	if (a->prompt != NULL && strcmp(a->prompt, "none") == 0)
		return redirect_error(req, a, "consent_required", "the user has not consented");
	return consent_page(req, a, w->user.name);
}

static enum MHD_Result
step_start(struct request *req, struct authz *a)
{
	struct who w;
	enum MHD_Result r;
	int have = session_user(req, a->now, &w) == 0;
	int prompt_none = a->prompt != NULL && strcmp(a->prompt, "none") == 0;
	int prompt_login = a->prompt != NULL && strcmp(a->prompt, "login") == 0;

	if (have && !prompt_login) {
		r = after_login(req, a, &w);
		store_user_clear(&w.user);
		return r;
	}
	store_user_clear(&w.user);
	if (prompt_none)
		return redirect_error(req, a, "login_required", "the user is not signed in");
	if (!req->app->cfg->local_login && !req->app->dev) {
		char *only = NULL;

		if (store_idp_list(app_store(req->app), only_provider, &only) == STORE_OK &&
		    only != NULL) {
			r = step_upstream(req, a, only);
			free(only);
			return r;
		}
		free(only);
	}
	if (req->app->dev && !req->app->dev_interactive && req->app->dev_user != NULL) {
		/* The mock issuer signs its seeded user in without a form. */
		struct store_user u;

		if (store_user_get_by_name(app_store(req->app), req->app->dev_user, &u) != STORE_OK)
			return refuse_page(req, "server_error", "The dev user is missing.");
		if (session_start(req, &u, a->now, &w) != 0) {
			store_user_clear(&u);
			return refuse_page(req, "server_error", "Cannot start a session.");
		}
		store_user_clear(&u);
		r = after_login(req, a, &w);
		store_user_clear(&w.user);
		return r;
	}
	return login_page(req, a, MHD_HTTP_OK, NULL, NULL);
}

/* A hash of a random password with the same parameters: unknown users cost the same
 * time as known ones, so that timing does not tell which names exist. */
static const char dummy_hash[] =
    "$argon2id$v=19$m=19456,t=2,p=1$RGlFN0xJaUJTSXVOUVBRWg$"
    "PtVVINJe2spPyw2MdlUjIvbrRA67i5aoQaegZyAM8+I";

/* Wall-clock milliseconds: login delays of a second must not round to nothing. */
static int64_t
time_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
throttle_policy_of(const struct app *app, struct throttle_policy *p)
{
	const struct config *c = app->cfg;

	p->enabled = c->login_throttle != 0;
	p->user_after = c->login_throttle_after;
	p->addr_after = c->login_throttle_addr_after;
	p->delay = c->login_throttle_delay;
	p->max_delay = c->login_throttle_max_delay;
	p->window = c->login_throttle_window;
}

/* login.failed and login.throttled. The name typed is recorded only when it is an
 * account's: a password typed into the username field must not reach the audit. */
static void
audit_login(struct request *req, const struct authz *a, const char *event, const char *name,
    const char *reason)
{
	struct store_audit ev;

	memset(&ev, 0, sizeof(ev));
	ev.ts = a->now;
	ev.event = event;
	ev.outcome = "refused";
	ev.reason = reason;
	ev.client_id = a->client.client_id;
	ev.subject = name;
	ev.remote_addr = req->remote_addr;
	audit_write(app_store(req->app), req->app->audit, &ev);
}

/* Too many failures: the login page again, and no password check at all, so that an
 * attacker's guesses during the delay cost nothing and tell nothing. */
static enum MHD_Result
login_throttled(struct request *req, const struct authz *a, const char *username,
    int64_t wait_ms, const char *which)
{
	struct store_user u;
	char reason[96], msg[160];
	int64_t wait = (wait_ms + 999) / 1000; /* whole seconds, rounded up */
	int exists;

	exists = store_user_get_by_name(app_store(req->app), username, &u) == STORE_OK;
	snprintf(reason, sizeof(reason), "too many failed logins for this %s; %lld s to wait",
	    which, (long long)wait);
	audit_login(req, a, "login.throttled", exists ? u.name : NULL, reason);
	store_user_clear(&u);
	log_info("login throttled (%s) for a user of client %s from %s", which,
	    a->client.client_id, req->remote_addr);
	metrics_login(req->app->metrics, "throttled");
	snprintf(req->retry_after, sizeof(req->retry_after), "%lld", (long long)wait);
	snprintf(msg, sizeof(msg), "Too many failed sign-in attempts. Wait %lld second%s, then "
	    "try again.", (long long)wait, wait == 1 ? "" : "s");
	return login_page(req, a, MHD_HTTP_TOO_MANY_REQUESTS, msg, username);
}

static enum MHD_Result
step_login(struct request *req, const struct form *in, struct authz *a)
{
	const char *username = form_get(in, "username", NULL);
	const char *password = form_get(in, "password", NULL);
	struct store *st = app_store(req->app);
	struct throttle_policy tp;
	struct store_user u;
	struct who w;
	enum MHD_Result r;
	const char *which;
	int64_t wait_ms, now_ms = time_ms();
	int exists, known, match = 0, resumed = req->async != NULL;

	memset(&u, 0, sizeof(u));
	if (username == NULL || password == NULL || username[0] == '\0' ||
	    strlen(username) > USERNAME_MAX || strlen(password) > PASSWORD_MAX_LEN)
		return login_page(req, a, MHD_HTTP_BAD_REQUEST, "Enter a username and a password.",
		    username && strlen(username) <= USERNAME_MAX ? username : NULL);
	throttle_policy_of(req->app, &tp);
	/* Checked once, before the hash starts; the second pass, with the hash done,
	 * finishes what the first began. */
	if (!resumed && throttle_check(st, &tp, username, req->remote_addr, now_ms, &wait_ms,
	    &which) == 1)
		return login_throttled(req, a, username, wait_ms, which);
	exists = store_user_get_by_name(st, username, &u) == STORE_OK;
	/* A federated user has no password here: checked against the dummy hash like an
	 * unknown name, so that the answer takes as long. (A local user linked to a provider
	 * keeps the password it had.) */
	known = exists && !u.disabled && strcmp(u.password_hash, STORE_NO_PASSWORD) != 0;
	switch (request_password_verify(req, known ? u.password_hash : dummy_hash, password,
	    &match)) {
	case ASYNC_PENDING:
		store_user_clear(&u);
		return MHD_YES;
	case ASYNC_BUSY:
		store_user_clear(&u);
		return reply_error_status(req, 503, "temporarily_unavailable", "server busy, retry");
	default:
		break;
	}
	if (!known || !match) {
		log_info("login failed for a user of client %s from %s", a->client.client_id,
		    req->remote_addr);
		if (throttle_failure(st, &tp, username, req->remote_addr, now_ms) != STORE_OK)
			log_warn("cannot count a failed login: %s", store_errmsg(st));
		audit_login(req, a, "login.failed", exists ? u.name : NULL,
		    !exists ? "unknown username" : u.disabled ? "account disabled" :
		    strcmp(u.password_hash, STORE_NO_PASSWORD) == 0 ?
		    "federated user: signs in through the identity provider" :
		    "wrong password");
		metrics_login(req->app->metrics, "failed");
		store_user_clear(&u);
		return login_page(req, a, MHD_HTTP_UNAUTHORIZED, "Wrong username or password.",
		    username);
	}
	metrics_login(req->app->metrics, "ok");
	if (throttle_success(st, &tp, username) != STORE_OK)
		log_warn("cannot clear failed logins: %s", store_errmsg(st));
	if (session_start(req, &u, a->now, &w) != 0) {
		store_user_clear(&u);
		return refuse_page(req, "server_error", "Cannot start a session.");
	}
	store_user_clear(&u);
	r = after_login(req, a, &w);
	store_user_clear(&w.user);
	return r;
}

static enum MHD_Result
step_consent(struct request *req, const struct form *in, struct authz *a)
{
	const char *decision = form_get(in, "decision", NULL), *why;
	struct who w;
	enum MHD_Result r;

	if (session_user(req, a->now, &w) != 0) {
		store_user_clear(&w.user);
		return login_page(req, a, MHD_HTTP_OK, "Your session ended; sign in again.", NULL);
	}
	if (decision == NULL || strcmp(decision, "allow") != 0) {
		store_user_clear(&w.user);
		return redirect_error(req, a, "access_denied", "the user denied the request");
	}
	if ((why = federated_reach(req, a, &w)) != NULL) {
		store_user_clear(&w.user);
		return redirect_error(req, a, "access_denied", why);
	}
	if (req->app->cfg->consent_ttl > 0)
		store_consent_put(app_store(req->app), w.user_id, a->client.id, a->resources, a->scope,
		    a->now, a->now + req->app->cfg->consent_ttl);
	r = issue_code(req, a, &w);
	store_user_clear(&w.user);
	return r;
}

enum MHD_Result
ep_authorize(struct request *req)
{
	struct form in;
	struct authz a;
	enum MHD_Result r;
	const char *step = NULL, *error, *desc;
	int post = strcmp(req->method, "POST") == 0, rc;
	size_t i;

	memset(&a, 0, sizeof(a));
	a.now = (int64_t)time(NULL);
	rc = post ? request_form_body(req, &in) : request_form_query(req, &in);
	if (rc != FORM_OK)
		return refuse_page(req, "invalid_request",
		    "The request parameters are malformed (bad encoding, too many or too long).");
	for (i = 0; i < in.n; i++) {
		if (!is_form_field(in.v[i].name) &&
		    form_add(&a.params, in.v[i].name, in.v[i].value) != FORM_OK) {
			r = refuse_page(req, "invalid_request", "Too many parameters.");
			goto out;
		}
	}
	if (check_client(req, &in, &a, &r) != 0)
		goto out; /* an error page, or waiting for the client's metadata document */
	if ((desc = check_request(req, &in, &a, &error)) != NULL) {
		r = redirect_error(req, &a, error, desc);
		goto out;
	}
	if (post)
		step = form_get(&in, "step", NULL);
	if (step != NULL && !csrf_ok(req, &a, form_get(&in, "csrf_token", NULL))) {
		r = page_error(req, MHD_HTTP_FORBIDDEN, "invalid_request", "This form has expired",
		    "The form was not sent from this sign-in page, or it has expired. "
		    "Go back to the application and start again.");
		goto out;
	}
	if (step != NULL && strcmp(step, "login") == 0 && !req->app->cfg->local_login)
		r = login_page(req, &a, MHD_HTTP_BAD_REQUEST, "Sign in with your identity provider.",
		    NULL);
	else if (step != NULL && strcmp(step, "login") == 0)
		r = step_login(req, &in, &a);
	else if (step != NULL && strcmp(step, "upstream") == 0)
		r = step_upstream(req, &a, form_get(&in, "idp", NULL));
	else if (step != NULL && strcmp(step, "consent") == 0)
		r = step_consent(req, &in, &a);
	else
		r = step_start(req, &a);
out:
	authz_clear(&a);
	form_clear(&in);
	return r;
}
