/* POST /token: client authentication, then the grant's decision, as RFC 6749 JSON. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "http/async.h"
#include "http/clientauth.h"
#include "http/endpoints.h"
#include "http/metrics.h"
#include "http/reply.h"
#include "oauth/assertion.h"
#include "oauth/audit.h"
#include "oauth/connections.h"
#include "oauth/grants.h"
#include "oauth/scope.h"
#include "oauth/upstream.h"
#include "util/jsonw.h"
#include "util/log.h"

static int
grant_allowed(const struct store_client *c, const char *grant)
{
	return scope_has(c->grant_types, grant);
}

static enum MHD_Result
reply_tokens(struct request *req, const struct token_response *t)
{
	struct buf b;
	enum MHD_Result r;
	int rc;

	/* Written directly: this runs for every token. */
	buf_init(&b, 64 * 1024);
	/* One append per statement: C leaves the order of the operands of `|` open. */
	rc = buf_putc(&b, '{');
	rc |= jsonw_member_string(&b, 1, "access_token", t->access_token);
	rc |= jsonw_member_string(&b, 0, "token_type", t->token_type ? t->token_type : "Bearer");
	if (t->expires_in > 0)
		rc |= jsonw_member_int(&b, 0, "expires_in", t->expires_in);
	if (t->refresh_token != NULL)
		rc |= jsonw_member_string(&b, 0, "refresh_token", t->refresh_token);
	if (t->scope != NULL && t->scope[0] != '\0')
		rc |= jsonw_member_string(&b, 0, "scope", t->scope);
	if (t->exchanged)
		rc |= jsonw_member_string(&b, 0, "issued_token_type", TOKEN_TYPE_ACCESS);
	rc |= buf_putc(&b, '}');
	r = rc == BUF_OK ? reply_json_text(req, MHD_HTTP_OK, b.data, b.len, REPLY_NO_STORE | REPLY_CORS)
			 : reply_oauth_error(req, OAUTH_SERVER_ERROR, "out of memory");
	buf_free(&b); /* wipes: the body held tokens */
	return r;
}

void
grant_env_init(struct request *req, struct grant_env *env, const struct keyset *ks)
{
	memset(env, 0, sizeof(*env));
	env->st = app_store(req->app);
	env->keys = ks;
	env->issuer = req->app->issuer;
	env->now = (int64_t)time(NULL);
	env->access_ttl = req->app->cfg->access_token_ttl;
	env->refresh_ttl = req->app->cfg->refresh_token_ttl;
	env->idp_session_ttl = req->app->cfg->idp_session_ttl;
	env->max_delegation_depth = req->app->cfg->max_delegation_depth;
	env->auto_register = req->app->dev_any_resource;
	env->remote_addr = req->remote_addr;
	env->audit = req->app->audit;
	env->mk = &req->app->mk;
}

/* A metrics label for a grant_type: one of a fixed set, whatever the client sent. */
static const char *
grant_label(const char *grant)
{
	static const char *const known[] = {"authorization_code", "refresh_token",
	    "client_credentials", GRANT_TYPE_TOKEN_EXCHANGE, GRANT_TYPE_JWT_BEARER, NULL};
	int i;

	for (i = 0; grant != NULL && known[i] != NULL; i++) {
		if (strcmp(grant, known[i]) == 0)
			return known[i];
	}
	return grant == NULL ? "none" : "unsupported";
}

/* A request refused before its grant ran (a repeated parameter, a grant the client may
 * not use): audited as token.refused like the grants' own refusals, so that no refusal of
 * a grant this server offers goes unrecorded. client_id only once authenticated: before,
 * it is the caller's words. A grant_type we do not offer is noise, not a refused grant. */
static enum MHD_Result
refuse_grant(struct request *req, const char *label, const char *client_id, enum oauth_error e,
    const char *why)
{
	struct store *st = app_store(req->app);
	json_t *d;

	if (st == NULL || strcmp(label, "none") == 0 || strcmp(label, "unsupported") == 0)
		return reply_oauth_error(req, e, why);
	d = json_pack("{s:s}", "grant_type", label);
	audit_submit_refusal(req->app->audit, st, "token.refused", why, client_id,
	    req->remote_addr, d);
	json_decref(d);
	return reply_oauth_error(req, e, why);
}

/* The JWKS this server publishes (a new reference), or NULL. */
static json_t *
own_jwks(struct request *req)
{
	struct keyset *ks = app_keys(req->app);
	const char *text;
	size_t len = 0;
	json_t *doc = NULL;

	if (ks != NULL && (text = keyset_jwks(ks, &len)) != NULL)
		doc = json_loadb(text, len, 0, NULL);
	keyset_unref(ks);
	return doc;
}

/* The provider trusted for the ID-JAG's issuer (*trusted 0: none) and its keys (*jwks
 * NULL: unavailable). Run before the client is authenticated: fetching keys suspends
 * the request, and nothing after a client assertion is accepted (its jti recorded) may. */
static int
id_jag_issuer(struct request *req, const char *assertion, struct store_idp *idp, int *trusted,
    json_t **jwks)
{
	struct net_policy np;
	char *iss, err[256];
	int rc = ASYNC_DONE;

	*trusted = 0;
	*jwks = NULL;
	if (assertion == NULL || (iss = assertion_peek_issuer(assertion)) == NULL)
		return ASYNC_DONE;
	if (app_store(req->app) != NULL &&
	    store_idp_get_id_jag(app_store(req->app), iss, idp) == STORE_OK) {
		*trusted = 1;
		if (req->app->dev && idp->jwks == NULL && idp->jwks_uri == NULL &&
		    strcmp(idp->issuer, req->app->issuer) == 0) {
			/* The mock issuer plays the enterprise IdP too (/dev/id-jag): its own keys. */
			*jwks = own_jwks(req);
			free(iss);
			return ASYNC_DONE;
		}
		upstream_net_policy(idp, (int)req->app->cfg->allow_insecure_issuer, &np);
		err[0] = '\0';
		rc = request_jwks_for(req, idp->jwks, idp->jwks_uri, &np, assertion, jwks, err,
		    sizeof(err));
		if (rc == ASYNC_DONE && *jwks == NULL)
			log_info("ID-JAG issuer %s: its keys are unavailable: %s", idp->name, err);
	}
	free(iss);
	return rc;
}

/* ---- a vault fetch that waits for a third party ---- */

struct vault_job {
	struct app *app;
	struct vault_pending *pending;
	char remote_addr[64];
	struct token_response out;
};

static void
vault_job_free(void *arg)
{
	struct vault_job *j = arg;

	j->out.pending = j->pending; /* freed with the response */
	token_response_clear(&j->out);
	free(j);
}

/* On a worker: the refresh, or the wait for another one (oauth/connections.h). */
static void
vault_job_run(void *arg)
{
	struct vault_job *j = arg;
	struct grant_env env;

	memset(&env, 0, sizeof(env));
	env.st = app_store(j->app);
	env.issuer = j->app->issuer;
	env.now = (int64_t)time(NULL);
	env.mk = &j->app->mk;
	env.audit = j->app->audit;
	env.remote_addr = j->remote_addr;
	if (env.st == NULL) {
		grant_refuse_db(&j->out, STORE_UNAVAILABLE);
		return;
	}
	connection_fetch_pending(&env, (int)j->app->cfg->allow_insecure_issuer, j->pending, &j->out);
}

/* Hand the fetch t->pending over to a worker: MHD_YES while it runs. */
static enum MHD_Result
vault_job_start(struct request *req, struct token_response *t)
{
	struct vault_job *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return reply_oauth_error(req, OAUTH_SERVER_ERROR, "out of memory");
	j->app = req->app;
	j->pending = t->pending;
	t->pending = NULL;
	snprintf(j->remote_addr, sizeof(j->remote_addr), "%s", req->remote_addr);
	if (request_call_start_on(req, req->app->vaultpool, "vault", vault_job_run, j,
		vault_job_free) == ASYNC_PENDING)
		return MHD_YES;
	return reply_oauth_error(req, OAUTH_TEMPORARILY_UNAVAILABLE, "server busy, retry");
}

/* The answer of a grant: the tokens, or the refusal (with connect_uri when connecting
 * mends it). */
static enum MHD_Result
reply_grant(struct request *req, const char *grant, int rc, const struct token_response *t)
{
	if (rc != 0)
		return reply_oauth_error_with(req, t->error, t->error_description, "connect_uri",
		    t->connect_uri);
	metrics_token(req->app->metrics, grant, t->resource);
	return reply_tokens(req, t);
}

enum MHD_Result
ep_token(struct request *req)
{
	struct form f;
	struct store_client client;
	struct token_response t;
	struct grant_env env;
	struct keyset *ks = NULL;
	struct store_idp issuer;
	json_t *issuer_jwks = NULL;
	const char *grant, *label, *params[2];
	enum MHD_Result result;
	int dup = 0, rc, i, trusted = 0;
	static const char *const single[] = {"grant_type", "code", "code_verifier", "redirect_uri",
	    "refresh_token", "scope", "client_id", "subject_token", "subject_token_type",
	    "actor_token", "actor_token_type", "requested_token_type", "audience", "assertion",
	    NULL};
	unsigned int auth_flags = 0;

	memset(&t, 0, sizeof(t));
	memset(&issuer, 0, sizeof(issuer));
	memset(&client, 0, sizeof(client));
	req->grant = "none"; /* until grant_type is read */
	/* The second pass of a vault fetch that waited for a third party: everything was
	 * checked on the first (the client authenticated, its assertion used up). */
	if (request_call_key(req) != NULL && strcmp(request_call_key(req), "vault") == 0) {
		void *done = NULL;
		struct vault_job *j;

		req->grant = GRANT_TYPE_TOKEN_EXCHANGE;
		if (!request_call_result(req, "vault", &done))
			return reply_oauth_error(req, OAUTH_SERVER_ERROR, "lost the fetch");
		j = done;
		result = reply_grant(req, GRANT_TYPE_TOKEN_EXCHANGE, j->out.error != OAUTH_OK ||
		    j->out.access_token == NULL ? -1 : 0, &j->out);
		vault_job_free(j);
		return result;
	}
	/* A form that does not parse names no grant: a parameter over max_param_length (an
	 * assertion over 8 KiB) is refused here, before anything in it is looked at, and
	 * leaves no audit record (docs/operations.md, ID-JAG). */
	if ((rc = request_form_body(req, &f)) != FORM_OK)
		return reply_oauth_error(req, OAUTH_INVALID_REQUEST, form_strerror(rc));
	/* The grant the request is for, for the record of a refusal (grant_type itself may be
	 * the repeated parameter: its first value). */
	label = grant_label(form_get_nth(&f, "grant_type", 0));
	/* One token has one audience (DESIGN.md §1): a token request names one resource. */
	if (form_count(&f, "resource") > 1) {
		form_clear(&f);
		return refuse_grant(req, label, NULL, OAUTH_INVALID_TARGET,
		    "a token has one audience: name one resource");
	}
	/* RFC 6749 §3.2: parameters must not repeat. */
	for (i = 0; single[i] != NULL; i++) {
		if (form_count(&f, single[i]) > 1) {
			form_clear(&f);
			return refuse_grant(req, label, NULL, OAUTH_INVALID_REQUEST,
			    "a parameter is repeated");
		}
	}
	grant = form_get(&f, "grant_type", &dup);
	req->grant = grant_label(grant);
	if (grant == NULL) {
		form_clear(&f);
		return reply_oauth_error(req, OAUTH_INVALID_REQUEST, "grant_type is required");
	}
	/* The draft: ID-JAGs are for confidential clients only. */
	if (strcmp(grant, "client_credentials") == 0 || strcmp(grant, GRANT_TYPE_TOKEN_EXCHANGE) == 0 ||
	    strcmp(grant, GRANT_TYPE_JWT_BEARER) == 0)
		auth_flags = CLIENT_AUTH_CONFIDENTIAL;
	else if (strcmp(grant, "authorization_code") != 0 && strcmp(grant, "refresh_token") != 0) {
		form_clear(&f);
		return reply_oauth_error(req, OAUTH_UNSUPPORTED_GRANT_TYPE, "unsupported grant_type");
	}
	/* A node that has lost its database says so at once rather than make every
	 * client wait db_timeout: 503 with Retry-After, which clients retry. */
	if (store_cache_healthy(req->app->cache) != STORE_OK) {
		form_clear(&f);
		return reply_oauth_error(req, OAUTH_TEMPORARILY_UNAVAILABLE, "database unavailable");
	}
	if (strcmp(grant, GRANT_TYPE_JWT_BEARER) == 0) {
		switch (id_jag_issuer(req, form_get(&f, "assertion", NULL), &issuer, &trusted,
		    &issuer_jwks)) {
		case ASYNC_PENDING:
			result = MHD_YES;
			goto out;
		case ASYNC_BUSY:
			result = reply_oauth_error(req, OAUTH_TEMPORARILY_UNAVAILABLE, "server busy, retry");
			goto out;
		default:
			break;
		}
	}
	switch (client_authenticate(req, &f, auth_flags, &client, &result)) {
	case CLIENT_AUTH_PENDING:
		result = MHD_YES;
		goto out;
	case CLIENT_AUTH_REPLIED:
		goto out;
	default:
		break;
	}
	if (!grant_allowed(&client, grant)) {
		result = refuse_grant(req, req->grant, client.client_id, OAUTH_UNAUTHORIZED_CLIENT,
		    "this client may not use this grant type");
		goto out;
	}
	ks = app_keys(req->app);
	grant_env_init(req, &env, ks);
	if (ks == NULL || env.st == NULL) {
		result = reply_oauth_error(req, OAUTH_TEMPORARILY_UNAVAILABLE, "not ready");
		goto out;
	}
	params[0] = form_get(&f, "resource", NULL);
	params[1] = form_get(&f, "scope", NULL);
	if (strcmp(grant, "authorization_code") == 0) {
		rc = grant_authorization_code(&env, &client, form_get(&f, "code", NULL),
		    form_get(&f, "code_verifier", NULL), form_get(&f, "redirect_uri", NULL), params[0],
		    &t);
	} else if (strcmp(grant, "refresh_token") == 0) {
		rc = grant_refresh(&env, &client, form_get(&f, "refresh_token", NULL), params[0],
		    params[1], &t);
	} else if (strcmp(grant, "client_credentials") == 0) {
		rc = grant_client_credentials(&env, &client, params[0], params[1], &t);
	} else if (strcmp(grant, GRANT_TYPE_JWT_BEARER) == 0) {
		rc = grant_id_jag(&env, &client, trusted ? &issuer : NULL, issuer_jwks,
		    form_get(&f, "assertion", NULL), params[0], params[1], &t);
	} else {
		struct exchange_request x;

		memset(&x, 0, sizeof(x));
		x.subject_token = form_get(&f, "subject_token", NULL);
		x.subject_token_type = form_get(&f, "subject_token_type", NULL);
		x.actor_token = form_get(&f, "actor_token", NULL);
		x.requested_token_type = form_get(&f, "requested_token_type", NULL);
		x.audience = form_get(&f, "audience", NULL);
		x.resource = params[0];
		x.scope = params[1];
		rc = grant_token_exchange(&env, &client, &x, &t);
	}
	if (rc == 0 && t.pending != NULL)
		result = vault_job_start(req, &t);
	else
		result = reply_grant(req, grant, rc, &t);
out:
	token_response_clear(&t);
	keyset_unref(ks);
	json_decref(issuer_jwks);
	store_idp_clear(&issuer);
	store_client_clear(&client);
	form_clear(&f);
	return result;
}
