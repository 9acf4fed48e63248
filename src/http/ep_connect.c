/* Connecting a user's account at a third party (DESIGN.md §10.5): {issuer}/connect/NAME
 * sends the signed-in user there (authorization code, PKCE, a state bound to the session
 * that started it), /connect/NAME/callback keeps the tokens sealed, and /connections lists
 * the user's connections with a disconnect button that revokes upstream before forgetting. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "http/async.h"
#include "http/endpoints.h"
#include "http/pages.h"
#include "http/reply.h"
#include "http/session.h"
#include "jose/b64url.h"
#include "oauth/audit.h"
#include "oauth/connections.h"
#include "oauth/pkce.h"
#include "oauth/secret.h"
#include "oauth/upstream.h"
#include "oauth/vault.h"
#include "util/buf.h"
#include "util/log.h"

#define CALLBACK_ATTEMPTS 3

static enum MHD_Result
refuse(struct request *req, unsigned int status, const char *title, const char *message)
{
	return page_error(req, status, "access_denied", title, message);
}

static enum MHD_Result
not_found(struct request *req)
{
	return page_error(req, 404, "not_found", "Not found", "There is nothing here.");
}

static enum MHD_Result
db_unavailable(struct request *req)
{
	return reply_error_status(req, 503, "temporarily_unavailable",
	    "the database is unavailable, retry");
}

/* connection.* audit records: who, which connection, what happened. */
static void
audit_connection(struct app *app, struct store *st, const char *event, const char *outcome,
    const char *reason, const char *user, const char *name, const char *remote_addr,
    const char *fingerprint)
{
	struct store_audit a;
	json_t *d = json_pack("{s:s}", "connection", name);

	if (d != NULL && fingerprint != NULL)
		json_object_set_new(d, "fingerprint", json_string(fingerprint));
	memset(&a, 0, sizeof(a));
	a.ts = (int64_t)time(NULL);
	a.event = event;
	a.outcome = outcome;
	a.reason = reason;
	a.subject = user;
	a.remote_addr = remote_addr;
	audit_submit_detail(app->audit, st, &a, d);
	json_decref(d);
}

static char *
callback_uri_new(struct request *req, const char *name)
{
	char path[UPSTREAM_NAME_MAX + 32];

	snprintf(path, sizeof(path), "/connect/%s/callback", name);
	return app_url_new(req->app, path);
}

/* ---- /connect/NAME: off to the third party ---- */

static enum MHD_Result
connect_start(struct request *req, const char *name)
{
	struct store_connection c;
	struct store_connect_state s;
	struct who w;
	unsigned char state_hash[SECRET_HASH_LEN];
	char *state = NULL, *callback = NULL, challenge[44];
	int64_t now = (int64_t)time(NULL);
	struct buf b;
	enum MHD_Result r;
	int rc;

	memset(&c, 0, sizeof(c));
	memset(&s, 0, sizeof(s));
	memset(&w, 0, sizeof(w));
	buf_init(&b, 16384);
	if ((rc = store_connection_get(app_store(req->app), name, &c)) != STORE_OK) {
		r = rc == STORE_NOTFOUND ? not_found(req) : db_unavailable(req);
		goto out;
	}
	if (session_user(req, now, &w) != 0) {
		r = refuse(req, 401, "Sign in first",
		    "Connecting an account needs you signed in here. Sign in through your MCP "
		    "application, then open this link again in the same browser.");
		goto out;
	}
	state = secret_random_new(32);
	s.code_verifier = secret_random_new(32);
	callback = callback_uri_new(req, name);
	if (state == NULL || s.code_verifier == NULL || callback == NULL ||
	    pkce_s256_challenge(s.code_verifier, challenge) != 0) {
		r = reply_error_status(req, 500, "server_error", "no randomness");
		goto out;
	}
	s.connection = c.name;
	s.user_id = w.user_id;
	memcpy(s.session_hash, w.session_hash, sizeof(s.session_hash));
	s.created_at = now;
	s.expires_at = now + CONNECTION_STATE_TTL;
	secret_hash(state, state_hash);
	rc = store_connect_state_add(app_store(req->app), state_hash, &s);
	s.connection = NULL;
	if (rc != STORE_OK) {
		r = store_rc_transient(rc) ? db_unavailable(req)
					   : reply_error_status(req, 500, "server_error",
						 "cannot keep the connect");
		goto out;
	}
	rc = buf_puts(&b, c.authorize_url);
	rc |= net_query_pair(&b, "response_type", "code");
	rc |= net_query_pair(&b, "client_id", c.client_id);
	rc |= net_query_pair(&b, "redirect_uri", callback);
	if (c.scopes[0] != '\0')
		rc |= net_query_pair(&b, "scope", c.scopes);
	rc |= net_query_pair(&b, "state", state);
	rc |= net_query_pair(&b, "code_challenge", challenge);
	rc |= net_query_pair(&b, "code_challenge_method", "S256");
	if (c.resource != NULL)
		rc |= net_query_pair(&b, "resource", c.resource);
	if (rc != BUF_OK) {
		r = reply_error_status(req, 500, "server_error", "cannot build the redirect");
		goto out;
	}
	audit_connection(req->app, app_store(req->app), "connection.started", "ok",
	    "sent to the third party", w.user.name, name, req->remote_addr, NULL);
	r = reply_redirect(req, b.data);
out:
	buf_free(&b);
	if (state != NULL)
		OPENSSL_clear_free(state, strlen(state));
	free(callback);
	store_connect_state_clear(&s);
	store_connection_clear(&c);
	store_user_clear(&w.user);
	return r;
}

/* ---- /connect/NAME/callback: the code redeemed, the tokens kept ---- */

struct redeem_job {
	struct app *app;
	struct store_connection c;
	char *secret, *code, *verifier, *callback, *user;
	int64_t user_id;
	int allow_http;
	char remote_addr[64];
	/* results */
	int rc;
	char err[256];
};

static void
redeem_free(void *arg)
{
	struct redeem_job *j = arg;

	store_connection_clear(&j->c);
	if (j->secret != NULL)
		OPENSSL_clear_free(j->secret, strlen(j->secret));
	if (j->code != NULL)
		OPENSSL_clear_free(j->code, strlen(j->code));
	if (j->verifier != NULL)
		OPENSSL_clear_free(j->verifier, strlen(j->verifier));
	free(j->callback);
	free(j->user);
	free(j);
}

/* On a worker: redeem the code and store the tokens as the row's next generation. */
static void
redeem_run(void *arg)
{
	struct redeem_job *j = arg;
	struct store *st = app_store(j->app);
	struct store_user_connection old;
	struct thirdparty_client tc;
	struct thirdparty_tokens t;
	struct net_policy np;
	char fp[VAULT_FINGERPRINT_LEN + 1];
	int src = STORE_ERROR, attempt;

	j->rc = -1;
	memset(&t, 0, sizeof(t));
	connection_client(&j->c, j->secret, &tc);
	connection_net_policy(&j->c, j->allow_http, &np);
	if (st == NULL) {
		snprintf(j->err, sizeof(j->err), "the database is unavailable");
		return;
	}
	if (thirdparty_redeem(&tc, j->code, j->verifier, j->callback, &np, &t, j->err,
		sizeof(j->err)) != THIRDPARTY_OK) {
		audit_connection(j->app, st, "connection.refused", "refused", j->err, j->user,
		    j->c.name, j->remote_addr, NULL);
		return;
	}
	/* A connect again replaces what the user had: the next generation of the row. */
	for (attempt = 0; attempt < CALLBACK_ATTEMPTS; attempt++) {
		int64_t previous = 0;

		memset(&old, 0, sizeof(old));
		src = store_user_connection_get(st, j->c.name, j->user_id, &old);
		if (src == STORE_OK)
			previous = old.generation;
		store_user_connection_clear(&old);
		if (src != STORE_OK && src != STORE_NOTFOUND)
			break;
		src = connection_tokens_store(st, &j->app->mk, j->c.name, j->user_id, previous, &t,
		    NULL, (int64_t)time(NULL));
		if (src != STORE_CONFLICT && src != STORE_RETRY && src != STORE_BUSY)
			break;
	}
	if (src != STORE_OK) {
		snprintf(j->err, sizeof(j->err), "the tokens could not be stored");
		thirdparty_tokens_clear(&t);
		return;
	}
	vault_fingerprint((const unsigned char *)t.access_token, strlen(t.access_token), fp);
	audit_connection(j->app, st, "connection.connected", "ok",
	    t.refresh_token != NULL ? "tokens kept, with a refresh token" : "tokens kept",
	    j->user, j->c.name, j->remote_addr, fp);
	thirdparty_tokens_clear(&t);
	j->rc = 0;
}

static enum MHD_Result
callback_finish(struct request *req, struct redeem_job *j)
{
	char path[UPSTREAM_NAME_MAX + 40], *to;
	enum MHD_Result r;

	if (j->rc != 0) {
		log_info("connection %s: the connect failed: %s", j->c.name, j->err);
		return refuse(req, 502, "The account could not be connected",
		    "The service did not give the tokens. Go back to the application and try "
		    "again.");
	}
	snprintf(path, sizeof(path), "/connections?connected=%s", j->c.name);
	if ((to = app_url_new(req->app, path)) == NULL)
		return reply_error_status(req, 500, "server_error", "out of memory");
	r = reply_redirect(req, to);
	free(to);
	return r;
}

static enum MHD_Result
callback_begin(struct request *req, const char *name, const struct form *in)
{
	const char *state = form_get(in, "state", NULL), *code = form_get(in, "code", NULL);
	const char *error = form_get(in, "error", NULL);
	unsigned char state_hash[SECRET_HASH_LEN];
	struct store_connect_state s;
	struct redeem_job *j = NULL;
	struct who w;
	int64_t now = (int64_t)time(NULL);
	enum MHD_Result r;
	int rc;

	memset(&s, 0, sizeof(s));
	memset(&w, 0, sizeof(w));
	if (state == NULL || state[0] == '\0' || strlen(state) > 256)
		return refuse(req, 400, "This connect cannot continue",
		    "The service sent you back without the connect's state. Start again.");
	secret_hash(state, state_hash);
	if ((rc = store_connect_state_take(app_store(req->app), state_hash, &s)) != STORE_OK) {
		if (store_rc_transient(rc))
			return db_unavailable(req);
		audit_connection(req->app, app_store(req->app), "connection.refused", "refused",
		    "unknown or replayed state", NULL, name, req->remote_addr, NULL);
		return refuse(req, 400, "This connect cannot continue",
		    "It was already completed, or it is unknown. Start again.");
	}
	/* The user who finishes must be the one who started, in the same session: a state
	 * lured into someone else's browser connects nobody's account to nobody's. */
	if (session_user(req, now, &w) != 0 || w.user_id != s.user_id ||
	    CRYPTO_memcmp(w.session_hash, s.session_hash, sizeof(s.session_hash)) != 0) {
		audit_connection(req->app, app_store(req->app), "connection.refused", "refused",
		    "state of another session", w.user.name, name, req->remote_addr, NULL);
		r = refuse(req, 403, "This connect cannot continue",
		    "It was started in another session. Start again here.");
		goto out;
	}
	if (strcmp(s.connection, name) != 0 || s.expires_at <= now) {
		audit_connection(req->app, app_store(req->app), "connection.refused", "refused",
		    strcmp(s.connection, name) != 0 ? "state of another connection" : "connect expired",
		    w.user.name, name, req->remote_addr, NULL);
		r = refuse(req, 400, "This connect cannot continue",
		    "It took too long, or came back from another service. Start again.");
		goto out;
	}
	if (error != NULL || code == NULL || code[0] == '\0' || strlen(code) > 4096) {
		char reason[100];

		snprintf(reason, sizeof(reason), "the third party answered %.64s",
		    error != NULL ? error : "without a code");
		audit_connection(req->app, app_store(req->app), "connection.refused", "refused", reason,
		    w.user.name, name, req->remote_addr, NULL);
		r = refuse(req, 403, "The account was not connected",
		    "You or the service declined. Go back to the application to try again.");
		goto out;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		r = reply_error_status(req, 500, "server_error", "out of memory");
		goto out;
	}
	if ((rc = store_connection_get(app_store(req->app), name, &j->c)) != STORE_OK) {
		redeem_free(j);
		r = rc == STORE_NOTFOUND ? not_found(req) : db_unavailable(req);
		goto out;
	}
	if (connection_secret_open(&req->app->mk, &j->c, &j->secret) != 0) {
		log_error("connection %s: its client secret does not open under the master key", name);
		redeem_free(j);
		r = reply_error_status(req, 500, "server_error", "the connection's secret is unusable");
		goto out;
	}
	j->app = req->app;
	j->user_id = s.user_id;
	j->allow_http = (int)req->app->cfg->allow_insecure_issuer;
	snprintf(j->remote_addr, sizeof(j->remote_addr), "%s", req->remote_addr);
	j->code = strdup(code);
	j->verifier = strdup(s.code_verifier);
	j->callback = callback_uri_new(req, name);
	j->user = strdup(w.user.name);
	if (j->code == NULL || j->verifier == NULL || j->callback == NULL || j->user == NULL) {
		redeem_free(j);
		r = reply_error_status(req, 500, "server_error", "out of memory");
		goto out;
	}
	switch (request_call_start(req, "connect", redeem_run, j, redeem_free)) {
	case ASYNC_PENDING:
		r = MHD_YES;
		break;
	default:
		r = reply_error_status(req, 503, "temporarily_unavailable", "server busy, retry");
	}
out:
	store_connect_state_clear(&s);
	store_user_clear(&w.user);
	return r;
}

enum MHD_Result
ep_connect(struct request *req)
{
	char name[UPSTREAM_NAME_MAX + 1];
	const char *p = req->path + strlen(req->app->issuer_path) + strlen("/connect/");
	const char *end = strchr(p, '/');
	size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
	struct form in;
	void *done = NULL;
	enum MHD_Result r;

	if (n == 0 || n > UPSTREAM_NAME_MAX || (end != NULL && strcmp(end, "/callback") != 0))
		return not_found(req);
	memcpy(name, p, n);
	name[n] = '\0';
	if (!vault_name_ok(name))
		return not_found(req);
	if (end == NULL)
		return connect_start(req, name);
	if (request_call_key(req) != NULL) {
		if (request_call_result(req, "connect", &done)) {
			r = callback_finish(req, done);
			redeem_free(done);
			return r;
		}
		return reply_error_status(req, 500, "server_error", "lost the connect");
	}
	if (request_form_query(req, &in) != FORM_OK)
		return refuse(req, 400, "This connect cannot continue", "The service's answer is malformed.");
	r = callback_begin(req, name, &in);
	form_clear(&in);
	return r;
}

/* ---- /connections: the user's list, and disconnecting ---- */

/* The disconnect form's token: bound to the session, so that another site cannot post it. */
static int
csrf_token(struct request *req, const struct who *w, char out[44])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int len = sizeof(mac);
	unsigned char msg[SECRET_HASH_LEN + 12];

	memcpy(msg, "connections\n", 12);
	memcpy(msg + 12, w->session_hash, SECRET_HASH_LEN);
	if (HMAC(EVP_sha256(), req->app->csrf_key, sizeof(req->app->csrf_key), msg, sizeof(msg),
		mac, &len) == NULL || len != 32)
		return -1;
	b64url_encode(mac, 32, out);
	return 0;
}

struct list_ctx {
	struct request *req;
	json_t *items;
	const char *csrf;
	const char *action;
};

static int
list_one(const struct store_user_connection *uc, void *arg)
{
	struct list_ctx *l = arg;
	char since[32], *connect = connection_connect_uri_new(l->req->app->issuer, uc->connection);
	time_t t = (time_t)uc->created_at;
	struct tm tm;
	json_t *o;

	gmtime_r(&t, &tm);
	strftime(since, sizeof(since), "%Y-%m-%d %H:%M UTC", &tm);
	o = json_pack("{s:s, s:s, s:b, s:s, s:s, s:s}", "name", uc->connection, "since", since,
	    "needs_reauth", uc->needs_reauth, "connect", connect ? connect : "", "csrf", l->csrf,
	    "action", l->action);
	if (o != NULL && uc->scope != NULL)
		json_object_set_new(o, "scope", json_string(uc->scope));
	free(connect);
	return o != NULL && json_array_append_new(l->items, o) == 0 ? 0 : -1;
}

static enum MHD_Result
connections_page(struct request *req, const struct who *w, unsigned int status,
    const char *notice, const char *error)
{
	struct list_ctx l;
	char csrf[44], *action = app_url_new(req->app, "/connections");
	json_t *ctx;
	int rc;

	if (action == NULL || csrf_token(req, w, csrf) != 0) {
		free(action);
		return reply_error_status(req, 500, "server_error", "out of memory");
	}
	l.req = req;
	l.items = json_array();
	l.csrf = csrf;
	l.action = action;
	rc = store_user_connection_list_user(app_store(req->app), w->user_id, list_one, &l);
	free(action);
	if (rc != STORE_OK) {
		json_decref(l.items);
		return db_unavailable(req);
	}
	ctx = json_pack("{s:s, s:o}", "username", w->user.name, "connections", l.items);
	if (ctx != NULL && notice != NULL)
		json_object_set_new(ctx, "notice", json_string(notice));
	if (ctx != NULL && error != NULL)
		json_object_set_new(ctx, "error", json_string(error));
	return page_reply(req, status, PAGE_CONNECTIONS, ctx);
}

struct disconnect_job {
	struct app *app;
	struct store_connection c;
	char *secret, *user;
	int64_t user_id;
	int allow_http;
	char remote_addr[64];
	int rc;                  /* 0, or -1 with err */
	char err[256];
};

static void
disconnect_free(void *arg)
{
	struct disconnect_job *j = arg;

	store_connection_clear(&j->c);
	if (j->secret != NULL)
		OPENSSL_clear_free(j->secret, strlen(j->secret));
	free(j->user);
	free(j);
}

/* On a worker: revoke upstream (RFC 7009), the refresh token first (it ends the grant at
 * most third parties), then forget. A revocation that fails keeps the row: the user may
 * try again, and the grant is not left alive upstream with nobody to revoke it. */
static void
disconnect_run(void *arg)
{
	struct disconnect_job *j = arg;
	struct store *st = app_store(j->app);
	struct store_user_connection uc;
	struct thirdparty_client tc;
	struct net_policy np;
	char *access = NULL, *refresh = NULL;

	j->rc = -1;
	memset(&uc, 0, sizeof(uc));
	if (st == NULL || store_user_connection_get(st, j->c.name, j->user_id, &uc) != STORE_OK) {
		snprintf(j->err, sizeof(j->err), "The account is not connected.");
		return;
	}
	if (connection_tokens_open(&j->app->mk, &uc, &access, &refresh) != 0) {
		snprintf(j->err, sizeof(j->err), "The stored tokens do not open.");
		goto out;
	}
	connection_client(&j->c, j->secret, &tc);
	connection_net_policy(&j->c, j->allow_http, &np);
	if ((refresh != NULL &&
	    thirdparty_revoke(&tc, refresh, "refresh_token", &np, j->err, sizeof(j->err)) != 0) ||
	    thirdparty_revoke(&tc, access, "access_token", &np, j->err, sizeof(j->err)) != 0) {
		audit_connection(j->app, st, "connection.disconnect_failed", "error", j->err, j->user,
		    j->c.name, j->remote_addr, uc.fingerprint);
		snprintf(j->err, sizeof(j->err),
		    "The service could not be told to revoke the access; nothing was forgotten. "
		    "Try again later.");
		goto out;
	}
	if (store_user_connection_remove(st, j->c.name, j->user_id) != STORE_OK) {
		snprintf(j->err, sizeof(j->err), "The connection could not be forgotten; try again.");
		goto out;
	}
	audit_connection(j->app, st, "connection.disconnected", "ok",
	    j->c.revoke_url != NULL ? "revoked upstream, then forgotten" : "forgotten", j->user,
	    j->c.name, j->remote_addr, uc.fingerprint);
	j->rc = 0;
out:
	if (access != NULL)
		OPENSSL_clear_free(access, strlen(access));
	if (refresh != NULL)
		OPENSSL_clear_free(refresh, strlen(refresh));
	store_user_connection_clear(&uc);
}

static enum MHD_Result
disconnect_begin(struct request *req, const struct who *w, const struct form *in)
{
	const char *name = form_get(in, "disconnect", NULL), *presented = form_get(in, "csrf_token", NULL);
	struct disconnect_job *j;
	char want[44];
	int rc;

	if (csrf_token(req, w, want) != 0 || presented == NULL || strlen(presented) != 43 ||
	    CRYPTO_memcmp(want, presented, 43) != 0)
		return refuse(req, 403, "This form has expired", "Open the list of connections again.");
	if (name == NULL || !vault_name_ok(name))
		return connections_page(req, w, 400, NULL, "No such connection.");
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return reply_error_status(req, 500, "server_error", "out of memory");
	if ((rc = store_connection_get(app_store(req->app), name, &j->c)) != STORE_OK) {
		disconnect_free(j);
		return rc == STORE_NOTFOUND ? connections_page(req, w, 400, NULL, "No such connection.")
					    : db_unavailable(req);
	}
	if (connection_secret_open(&req->app->mk, &j->c, &j->secret) != 0 ||
	    (j->user = strdup(w->user.name)) == NULL) {
		disconnect_free(j);
		return reply_error_status(req, 500, "server_error", "the connection's secret is unusable");
	}
	j->app = req->app;
	j->user_id = w->user_id;
	j->allow_http = (int)req->app->cfg->allow_insecure_issuer;
	snprintf(j->remote_addr, sizeof(j->remote_addr), "%s", req->remote_addr);
	switch (request_call_start(req, "disconnect", disconnect_run, j, disconnect_free)) {
	case ASYNC_PENDING:
		return MHD_YES;
	default:
		return reply_error_status(req, 503, "temporarily_unavailable", "server busy, retry");
	}
}

enum MHD_Result
ep_connections(struct request *req)
{
	struct who w;
	struct form in;
	void *done = NULL;
	char notice[UPSTREAM_NAME_MAX + 40];
	const char *shown;
	enum MHD_Result r;

	if (session_user(req, (int64_t)time(NULL), &w) != 0) {
		store_user_clear(&w.user);
		return refuse(req, 401, "Sign in first",
		    "Your connected accounts are shown to you signed in. Sign in through your MCP "
		    "application, then open this page again in the same browser.");
	}
	if (request_call_key(req) != NULL) {
		struct disconnect_job *j;

		if (!request_call_result(req, "disconnect", &done)) {
			store_user_clear(&w.user);
			return reply_error_status(req, 500, "server_error", "lost the disconnect");
		}
		j = done;
		snprintf(notice, sizeof(notice), "%s is disconnected.", j->c.name);
		r = j->rc == 0 ? connections_page(req, &w, 200, notice, NULL)
			       : connections_page(req, &w, 502, NULL, j->err);
		disconnect_free(j);
		store_user_clear(&w.user);
		return r;
	}
	if (strcmp(req->method, "POST") == 0) {
		if (request_form_body(req, &in) != FORM_OK)
			r = connections_page(req, &w, 400, NULL, "The form is malformed.");
		else
			r = disconnect_begin(req, &w, &in);
		form_clear(&in);
		store_user_clear(&w.user);
		return r;
	}
	notice[0] = '\0';
	if (request_form_query(req, &in) == FORM_OK) {
		shown = form_get(&in, "connected", NULL);
		if (shown != NULL && vault_name_ok(shown))
			snprintf(notice, sizeof(notice), "%s is connected.", shown);
		form_clear(&in);
	}
	r = connections_page(req, &w, 200, notice[0] ? notice : NULL, NULL);
	store_user_clear(&w.user);
	return r;
}
