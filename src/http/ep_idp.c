/* Sign-in through an upstream OpenID Connect provider (DESIGN.md §10.3): the redirect
 * there (idp_start, from /authorize) and the way back ({issuer}/idp/NAME/callback). The
 * protocol lives in oauth/upstream*.c (upstream.h); this file keeps the browser's side: the state, its
 * binding to the browser that started it, the pages and the audit records.
 *
 * A sign-in in progress is a row of upstream_logins under the hash of its state, taken
 * once by the callback on whichever node the browser reaches. It belongs to the browser
 * that holds the cookie set with it; it carries the nonce, the PKCE verifier and the
 * /authorize request to resume. Once the provider's answer checks out, the user gets a
 * session here and goes back to /authorize, which continues as after a password login. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "http/async.h"
#include "http/endpoints.h"
#include "http/pages.h"
#include "http/reply.h"
#include "oauth/audit.h"
#include "oauth/fedusers.h"
#include "oauth/pkce.h"
#include "oauth/secret.h"
#include "oauth/upstream.h"
#include "util/log.h"

#define BINDING_COOKIE "mcp_authd_upstream"
#define LOGIN_TTL 600                  /* a sign-in at the provider must come back in 10 min */
#define ID_TOKEN_SKEW 120
#define ID_TOKEN_MAX_AGE 600

/* ---- audit ---- */

static void
audit_upstream(struct request *req, const char *event, const char *outcome, const char *reason,
    const char *idp, const char *user, const char *sub, const json_t *groups)
{
	struct store_audit ev;
	json_t *detail = json_object();
	char *text;

	/* Which provider, the subject it asserted and the groups used, when known. */
	if (idp != NULL)
		json_object_set_new(detail, "idp", json_string(idp));
	if (sub != NULL)
		json_object_set_new(detail, "sub", json_string(sub));
	if (groups != NULL)
		json_object_set(detail, "groups", (json_t *)(uintptr_t)groups);
	text = detail ? json_dumps(detail, JSON_COMPACT) : NULL;

	memset(&ev, 0, sizeof(ev));
	ev.ts = (int64_t)time(NULL);
	ev.event = event;
	ev.outcome = outcome;
	ev.reason = reason;
	ev.subject = user;
	ev.remote_addr = req->remote_addr;
	ev.detail = text;
	audit_write(app_store(req->app), req->app->audit, &ev);
	free(text);
	json_decref(detail);
}

static enum MHD_Result
refuse(struct request *req, unsigned int status, const char *title, const char *message)
{
	return page_error(req, status, "access_denied", title, message);
}

/* {issuer}/idp/NAME/callback: what is registered at the provider. New string. */
static char *
callback_uri_new(struct request *req, const char *name)
{
	char path[UPSTREAM_NAME_MAX + 32];

	snprintf(path, sizeof(path), "/idp/%s/callback", name);
	return app_url_new(req->app, path);
}

/* ---- the redirect to the provider ---- */

struct discover_job {
	struct store_idp idp;
	int allow_http;
	struct upstream_metadata md;
	int rc;
	char err[256];
};

static void
discover_free(void *arg)
{
	struct discover_job *j = arg;

	store_idp_clear(&j->idp);
	upstream_metadata_clear(&j->md);
	free(j);
}

static void
discover_run(void *arg)
{
	struct discover_job *j = arg;
	struct net_policy np;

	upstream_net_policy(&j->idp, j->allow_http, &np);
	j->rc = upstream_discover(j->idp.issuer, &np, &j->md, j->err, sizeof(j->err));
}

/* Keep the sign-in and send the browser to the provider. */
static enum MHD_Result
redirect_upstream(struct request *req, const struct discover_job *j, const char *authorize_query)
{
	struct store_upstream_login l;
	unsigned char state_hash[SECRET_HASH_LEN];
	char *state = NULL, *binding = NULL, *callback = NULL, challenge[44], name[64];
	struct buf b;
	enum MHD_Result r;
	int64_t now = (int64_t)time(NULL);
	int rc;

	memset(&l, 0, sizeof(l));
	buf_init(&b, 8192);
	state = secret_random_new(32);
	binding = secret_random_new(32);
	l.nonce = secret_random_new(24);
	l.code_verifier = secret_random_new(32);
	callback = callback_uri_new(req, j->idp.name);
	if (state == NULL || binding == NULL || l.nonce == NULL || l.code_verifier == NULL ||
	    callback == NULL || pkce_s256_challenge(l.code_verifier, challenge) != 0) {
		r = reply_error_status(req, 500, "server_error", "no randomness");
		goto out;
	}
	l.idp = j->idp.name;
	secret_hash(binding, l.browser_hash);
	l.authorize_query = (char *)(uintptr_t)authorize_query;
	l.created_at = now;
	l.expires_at = now + LOGIN_TTL;
	secret_hash(state, state_hash);
	rc = store_upstream_login_add(app_store(req->app), state_hash, &l);
	l.idp = l.authorize_query = NULL;
	if (rc != STORE_OK) {
		r = store_rc_transient(rc) ? reply_error_status(req, 503, "temporarily_unavailable",
						 "the database is unavailable, retry")
					   : reply_error_status(req, 500, "server_error",
						 "cannot keep the sign-in");
		goto out;
	}
	request_cookie_name(req, BINDING_COOKIE, name, sizeof(name));
	if ((rc = buf_puts(&b, j->md.authorization_endpoint)) != BUF_OK) {
		r = reply_error_status(req, 500, "server_error", "cannot build the redirect");
		goto out;
	}
	rc |= net_query_pair(&b, "response_type", "code");
	rc |= net_query_pair(&b, "client_id", j->idp.client_id);
	rc |= net_query_pair(&b, "redirect_uri", callback);
	rc |= net_query_pair(&b, "scope", j->idp.scopes);
	rc |= net_query_pair(&b, "state", state);
	rc |= net_query_pair(&b, "nonce", l.nonce);
	rc |= net_query_pair(&b, "code_challenge", challenge);
	rc |= net_query_pair(&b, "code_challenge_method", "S256");
	if (rc != BUF_OK || request_set_cookie(req, name, binding, LOGIN_TTL) != 0) {
		r = reply_error_status(req, 500, "server_error", "cannot build the redirect");
		goto out;
	}
	r = reply_redirect(req, b.data);
out:
	buf_free(&b);
	if (state != NULL)
		OPENSSL_clear_free(state, strlen(state));
	if (binding != NULL)
		OPENSSL_clear_free(binding, strlen(binding));
	free(callback);
	store_upstream_login_clear(&l);
	return r;
}

int
idp_start(struct request *req, const char *idp_name, const char *authorize_query,
    enum MHD_Result *r)
{
	struct discover_job *j;
	void *done = NULL;
	char key[UPSTREAM_NAME_MAX + 16];
	int rc;

	snprintf(key, sizeof(key), "discover:%s", idp_name);
	if (request_call_result(req, key, &done)) {
		j = done;
		if (j->rc != 0) {
			log_warn("identity provider %s: %s", j->idp.name, j->err);
			audit_upstream(req, "upstream.refused", "refused", j->err, j->idp.name, NULL,
			    NULL, NULL);
			*r = page_error(req, 502, "temporarily_unavailable",
			    "The identity provider cannot be reached",
			    "Signing in through it is not possible right now. Try again later, or ask "
			    "your administrator.");
		} else
			*r = redirect_upstream(req, j, authorize_query);
		discover_free(j);
		return 0;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return -1;
	rc = store_idp_get(app_store(req->app), idp_name, &j->idp);
	if (rc == STORE_OK && j->idp.client_id[0] == '\0') {
		store_idp_clear(&j->idp); /* an issuer of ID-JAGs only: no sign-in through it */
		rc = STORE_NOTFOUND;
	}
	if (rc != STORE_OK) {
		free(j);
		return rc == STORE_NOTFOUND ? 1 : -1;
	}
	j->allow_http = (int)req->app->cfg->allow_insecure_issuer;
	switch (request_call_start(req, key, discover_run, j, discover_free)) {
	case ASYNC_PENDING:
		*r = MHD_YES;
		return 0;
	default:
		*r = reply_error_status(req, 503, "temporarily_unavailable", "server busy, retry");
		return 0;
	}
}

/* ---- the way back ---- */

struct finish_job {
	struct store_idp idp;
	int allow_http;
	char *secret;              /* the provider's client secret, opened; NULL: none */
	char *code, *verifier, *nonce, *callback;
	/* results */
	int rc;
	enum upstream_refusal refusal; /* why the ID token was refused, when it was */
	json_t *claims;
	json_t *userinfo;
	char err[256];
};

static void
finish_free(void *arg)
{
	struct finish_job *j = arg;

	store_idp_clear(&j->idp);
	if (j->secret != NULL)
		OPENSSL_clear_free(j->secret, strlen(j->secret));
	if (j->code != NULL)
		OPENSSL_clear_free(j->code, strlen(j->code));
	if (j->verifier != NULL)
		OPENSSL_clear_free(j->verifier, strlen(j->verifier));
	free(j->nonce);
	free(j->callback);
	json_decref(j->claims);
	json_decref(j->userinfo);
	free(j);
}

/* On a worker: the provider's metadata, the code redeemed, the ID token checked (its
 * JWKS fetched again once when the kid is unknown), and userinfo for missing claims. */
static void
finish_run(void *arg)
{
	struct finish_job *j = arg;
	struct upstream_metadata md;
	struct upstream_expect e;
	struct net_policy np;
	char *id_token = NULL, *access_token = NULL;
	json_t *jwks = NULL;

	j->rc = -1;
	j->refusal = UPSTREAM_OK;
	upstream_net_policy(&j->idp, j->allow_http, &np);
	if (upstream_discover(j->idp.issuer, &np, &md, j->err, sizeof(j->err)) != 0)
		return;
	if (upstream_redeem(&md, &j->idp, j->secret, j->code, j->verifier, j->callback, &np,
		&id_token, &access_token, j->err, sizeof(j->err)) != 0)
		goto out;
	memset(&e, 0, sizeof(e));
	e.issuer = md.issuer;
	e.client_id = j->idp.client_id;
	e.nonce = j->nonce;
	e.now = (int64_t)time(NULL);
	e.skew = ID_TOKEN_SKEW;
	e.max_age = ID_TOKEN_MAX_AGE;
	if (upstream_jwks(md.jwks_uri, &np, 0, &jwks, j->err, sizeof(j->err)) != 0)
		goto out;
	j->refusal = upstream_id_token_check(id_token, jwks, &e, &j->claims, j->err, sizeof(j->err));
	if (j->refusal == UPSTREAM_UNKNOWN_KID) {
		json_decref(jwks);
		jwks = NULL;
		if (upstream_jwks(md.jwks_uri, &np, 1, &jwks, j->err, sizeof(j->err)) != 0)
			goto out;
		j->refusal = upstream_id_token_check(id_token, jwks, &e, &j->claims, j->err,
		    sizeof(j->err));
	}
	if (j->refusal != UPSTREAM_OK)
		goto out;
	if (upstream_identity_wants_userinfo(&j->idp, j->claims) && md.userinfo_endpoint != NULL &&
	    access_token != NULL &&
	    upstream_userinfo(&md, access_token, &np, &j->userinfo, j->err, sizeof(j->err)) != 0)
		goto out;
	j->rc = 0;
out:
	json_decref(jwks);
	free(id_token);
	if (access_token != NULL)
		OPENSSL_clear_free(access_token, strlen(access_token));
	upstream_metadata_clear(&md);
}

/* The user this sign-in is (oauth/fedusers.c); *why says what went wrong for the page.
 * *created: 1 made just in time, 2 linked by a verified email. */
static int
find_user(struct request *req, const struct store_idp *p, const struct upstream_identity *id,
    struct store_user *u, int *created, const char **why)
{
	*created = 0;
	switch (fed_user_find(app_store(req->app), p, id->subject, id->email, id->email_verified,
	    (int64_t)time(NULL), u)) {
	case FED_FOUND:
		return 0;
	case FED_LINKED:
		*created = 2;
		return 0;
	case FED_CREATED:
		*created = 1;
		return 0;
	case FED_UNKNOWN:
		*why = "You have no account here yet. Ask your administrator to add you "
		       "(mcp-authd user add NAME --idp PROVIDER --sub SUBJECT).";
		return -1;
	case FED_EMAIL_TAKEN:
		*why = "This email belongs to a user who signs in another way here.";
		return -1;
	case FED_BAD_SUBJECT:
		*why = "Your identity provider names you in a way this server cannot use. Tell "
		       "your administrator.";
		return -1;
	default:
		*why = "The database is unavailable. Try again in a moment.";
		return -1;
	}
}

static enum MHD_Result
finish(struct request *req, struct finish_job *j, const char *authorize_query)
{
	struct upstream_identity id;
	struct store_user u;
	unsigned char hash[SECRET_HASH_LEN];
	char *v = NULL, *groups = NULL, *where = NULL, name[64];
	const char *why = NULL;
	enum MHD_Result r;
	int created = 0, rc;
	int64_t now = (int64_t)time(NULL);

	memset(&id, 0, sizeof(id));
	memset(&u, 0, sizeof(u));
	if (j->rc != 0) {
		log_info("sign-in through %s refused: %s", j->idp.name, j->err);
		audit_upstream(req, "upstream.refused", "refused",
		    j->refusal != UPSTREAM_OK ? upstream_refusal_name(j->refusal) : j->err, j->idp.name,
		    NULL, NULL, NULL);
		return refuse(req, 502, "Signing in through your identity provider failed",
		    "Its answer could not be accepted. Go back to the application and try again; "
		    "if it keeps failing, tell your administrator.");
	}
	if (upstream_identity_read(&j->idp, j->claims, j->userinfo, &id, j->err, sizeof(j->err)) != 0) {
		audit_upstream(req, "upstream.refused", "refused", j->err, j->idp.name, NULL,
		    json_string_value(json_object_get(j->claims, "sub")), NULL);
		return refuse(req, 403, "Signing in through your identity provider failed",
		    "It did not say who you are in a way this server can use. Tell your "
		    "administrator.");
	}
	if (!upstream_groups_allowed(j->idp.allowed_groups, id.groups)) {
		audit_upstream(req, "upstream.refused", "refused", "not in an allowed group",
		    j->idp.name, NULL, id.subject, id.groups);
		r = refuse(req, 403, "You may not sign in here",
		    "Your groups at the identity provider do not include one this server admits.");
		goto out;
	}
	if (find_user(req, &j->idp, &id, &u, &created, &why) != 0) {
		audit_upstream(req, "upstream.refused", "refused", "no user for this subject",
		    j->idp.name, NULL, id.subject, id.groups);
		r = refuse(req, 403, "You may not sign in here", why);
		goto out;
	}
	if (created)
		audit_upstream(req, created == 1 ? "user.created" : "user.linked", "ok",
		    created == 1 ? "just-in-time, at the first sign-in"
				 : "a local user, by the email the provider verified",
		    j->idp.name, u.name, id.subject, id.groups);
	if (u.disabled) {
		audit_upstream(req, "upstream.refused", "refused", "account disabled", j->idp.name,
		    u.name, id.subject, id.groups);
		r = refuse(req, 403, "You may not sign in here", "Your account here is disabled.");
		goto out;
	}
	groups = json_dumps(id.groups, JSON_COMPACT);
	rc = store_user_set_idp_claims(app_store(req->app), u.id, id.email, groups);
	if (rc == STORE_OK && (v = secret_random_new(32)) != NULL) {
		secret_hash(v, hash);
		rc = store_session_add(app_store(req->app), hash, sizeof(hash), u.id, now, now,
		    now + req->app->cfg->session_ttl);
	} else if (rc == STORE_OK)
		rc = STORE_ERROR;
	if (rc != STORE_OK) {
		r = reply_error_status(req, 503, "temporarily_unavailable", "cannot start a session");
		goto out;
	}
	request_cookie_name(req, SESSION_COOKIE, name, sizeof(name));
	if (request_set_cookie(req, name, v, req->app->cfg->session_ttl) != 0 ||
	    (where = malloc(strlen(authorize_query) + 32)) == NULL) {
		r = reply_error_status(req, 500, "server_error", "cannot start a session");
		goto out;
	}
	audit_upstream(req, "upstream.login", "ok", NULL, j->idp.name, u.name, id.subject, id.groups);
	/* Back to the authorization request, which continues as after a password login. */
	sprintf(where, "/authorize?%s", authorize_query);
	{
		char *url = app_url_new(req->app, where);

		r = url != NULL ? reply_redirect(req, url)
				: reply_error_status(req, 500, "server_error", "out of memory");
		free(url);
	}
out:
	if (v != NULL)
		OPENSSL_clear_free(v, strlen(v));
	free(groups);
	free(where);
	store_user_clear(&u);
	upstream_identity_clear(&id);
	return r;
}

/* The first pass: the state taken and checked, then the worker started. */
static enum MHD_Result
callback_begin(struct request *req, const char *idp_name, const struct form *in)
{
	const char *state = form_get(in, "state", NULL), *code = form_get(in, "code", NULL);
	const char *error = form_get(in, "error", NULL), *cookie;
	struct store_upstream_login l;
	struct finish_job *j = NULL;
	unsigned char state_hash[SECRET_HASH_LEN], browser[SECRET_HASH_LEN];
	char name[64], reason[160];
	enum MHD_Result r;
	int rc;

	memset(&l, 0, sizeof(l));
	if (state == NULL || state[0] == '\0' || strlen(state) > 256) {
		audit_upstream(req, "upstream.refused", "refused", "no state", idp_name, NULL, NULL,
		    NULL);
		return refuse(req, 400, "This sign-in cannot continue",
		    "The identity provider sent you back without the sign-in's state. Go back to "
		    "the application and start again.");
	}
	secret_hash(state, state_hash);
	rc = store_upstream_login_take(app_store(req->app), state_hash, &l);
	if (rc != STORE_OK) {
		if (store_rc_transient(rc))
			return reply_error_status(req, 503, "temporarily_unavailable",
			    "the database is unavailable, retry");
		audit_upstream(req, "upstream.refused", "refused", "unknown or replayed state",
		    idp_name, NULL, NULL, NULL);
		return refuse(req, 400, "This sign-in cannot continue",
		    "This sign-in was already completed, or it is unknown. Go back to the "
		    "application and start again.");
	}
	request_cookie_name(req, BINDING_COOKIE, name, sizeof(name));
	cookie = request_cookie(req, name);
	if (cookie != NULL)
		secret_hash(cookie, browser);
	if (cookie == NULL ||
	    CRYPTO_memcmp(browser, l.browser_hash, sizeof(browser)) != 0) {
		audit_upstream(req, "upstream.refused", "refused", "state from another browser",
		    idp_name, NULL, NULL, NULL);
		r = refuse(req, 400, "This sign-in cannot continue",
		    "It was started in another browser. Go back to the application and start "
		    "again here.");
		goto out;
	}
	request_set_cookie(req, name, "", 0);
	if (strcmp(l.idp, idp_name) != 0 || l.expires_at <= (int64_t)time(NULL)) {
		audit_upstream(req, "upstream.refused", "refused",
		    strcmp(l.idp, idp_name) != 0 ? "state of another provider" : "sign-in expired",
		    idp_name, NULL, NULL, NULL);
		r = refuse(req, 400, "This sign-in cannot continue",
		    "It took too long, or came back from another provider. Go back to the "
		    "application and start again.");
		goto out;
	}
	if (error != NULL || code == NULL || code[0] == '\0' || strlen(code) > 4096) {
		snprintf(reason, sizeof(reason), "the provider answered %.64s",
		    error != NULL ? error : "without a code");
		audit_upstream(req, "upstream.refused", "refused", reason, idp_name, NULL, NULL, NULL);
		r = refuse(req, 403, "The identity provider did not sign you in",
		    error != NULL && strcmp(error, "access_denied") == 0
			? "You or the identity provider declined. Go back to the application to try "
			  "again."
			: "It reported an error. Go back to the application and try again.");
		goto out;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		r = reply_error_status(req, 500, "server_error", "out of memory");
		goto out;
	}
	if (store_idp_get(app_store(req->app), idp_name, &j->idp) != STORE_OK ||
	    j->idp.client_id[0] == '\0') {
		store_idp_clear(&j->idp);
		free(j);
		r = refuse(req, 404, "Unknown identity provider", "This provider is not registered here.");
		goto out;
	}
	j->allow_http = (int)req->app->cfg->allow_insecure_issuer;
	if (j->idp.client_secret_enc != NULL &&
	    upstream_secret_open(&req->app->mk, j->idp.name, j->idp.client_secret_enc,
		j->idp.client_secret_enc_len, &j->secret) != 0) {
		log_error("identity provider %s: its client secret does not open under the master key",
		    j->idp.name);
		finish_free(j);
		r = reply_error_status(req, 500, "server_error", "the provider's secret is unusable");
		goto out;
	}
	j->code = strdup(code);
	j->verifier = strdup(l.code_verifier);
	j->nonce = strdup(l.nonce);
	j->callback = callback_uri_new(req, idp_name);
	/* The request to resume rides along in the job's key: the second pass needs it. */
	if (j->code == NULL || j->verifier == NULL || j->nonce == NULL || j->callback == NULL) {
		finish_free(j);
		r = reply_error_status(req, 500, "server_error", "out of memory");
		goto out;
	}
	switch (request_call_start(req, l.authorize_query, finish_run, j, finish_free)) {
	case ASYNC_PENDING:
		r = MHD_YES;
		break;
	default:
		r = reply_error_status(req, 503, "temporarily_unavailable", "server busy, retry");
	}
out:
	store_upstream_login_clear(&l);
	return r;
}

enum MHD_Result
ep_idp_callback(struct request *req)
{
	char idp_name[UPSTREAM_NAME_MAX + 1];
	const char *p = req->path + strlen(req->app->issuer_path) + strlen("/idp/");
	const char *end = strchr(p, '/');
	struct form in;
	void *done = NULL;
	enum MHD_Result r;

	if (end == NULL || strcmp(end, "/callback") != 0 || (size_t)(end - p) > UPSTREAM_NAME_MAX) {
		return page_error(req, 404, "not_found", "Not found", "There is nothing here.");
	}
	memcpy(idp_name, p, (size_t)(end - p));
	idp_name[end - p] = '\0';
	if (!upstream_name_ok(idp_name))
		return page_error(req, 404, "not_found", "Not found", "There is nothing here.");
	if (request_form_query(req, &in) != FORM_OK)
		return refuse(req, 400, "This sign-in cannot continue",
		    "The identity provider's answer is malformed.");
	if (request_call_key(req) != NULL) {
		/* The second pass: the key of the finished job is the request to resume. */
		char *copy = strdup(request_call_key(req));

		if (copy != NULL && request_call_result(req, copy, &done)) {
			r = finish(req, done, copy);
			finish_free(done);
		} else
			r = reply_error_status(req, 500, "server_error", "lost the sign-in");
		free(copy);
	} else
		r = callback_begin(req, idp_name, &in);
	form_clear(&in);
	return r;
}
