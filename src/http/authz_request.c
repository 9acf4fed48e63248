/* /authorize: validating the request (client, redirect URI, PKCE, resources, scope). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "http/async.h"
#include "http/authz.h"
#include "http/reply.h"
#include "oauth/cimd.h"
#include "oauth/pkce.h"
#include "oauth/redirect.h"
#include "oauth/registry.h"
#include "oauth/scope.h"
#include "util/log.h"

void
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
		*r = authz_refuse_page(req, "invalid_client",
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
		*r = authz_refuse_page(req, "invalid_client",
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
		*r = authz_refuse_page(req, "invalid_client",
		    "The application's metadata could not be kept.");
		goto out;
	}
	rc = 0;
out:
	free(meta);
	free(host);
	json_decref(doc);
	return rc;
}

int
authz_check_client(struct request *req, const struct form *in, struct authz *a,
    enum MHD_Result *r)
{
	struct store *st = app_store(req->app);
	const char *client_id, *redirect;
	int dup1 = 0, dup2 = 0, rc;
	size_t i;

	client_id = form_get(in, "client_id", &dup1);
	redirect = form_get(in, "redirect_uri", &dup2);
	if (dup1 || dup2 || client_id == NULL || client_id[0] == '\0') {
		*r = authz_refuse_page(req, "invalid_request",
		    "The request does not name one client.");
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
		    ? authz_refuse_page(req, "invalid_client",
			  "The application is not registered here.")
		    : reply_error_status(req, 503, "temporarily_unavailable", "database busy");
		return -1;
	}
	request_log_client(req, a->client.client_id);
	if (!scope_has(a->client.grant_types, "authorization_code") ||
	    a->client.n_redirect_uris == 0) {
		*r = authz_refuse_page(req, "unauthorized_client",
		    "This application may not sign users in.");
		return -1;
	}
	if (redirect == NULL) {
		/* Omitting it is allowed only when there is no choice to make. */
		if (a->client.n_redirect_uris != 1) {
			*r = authz_refuse_page(req, "invalid_request",
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
	*r = authz_refuse_page(req, "invalid_redirect_uri",
	    "The redirect URI is not registered for this application.");
	return -1;
}

static int
cmp_resource(const void *x, const void *y)
{
	return strcmp(((const struct store_resource *)x)->uri,
	    ((const struct store_resource *)y)->uri);
}

const char *
authz_check_request(struct request *req, const struct form *in, struct authz *a,
    const char **error)
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
