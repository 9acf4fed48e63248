/* /authorize: the redirect back to the client, with a code or an error. */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>

#include "http/app.h"
#include "http/authz.h"
#include "http/endpoints.h"
#include "http/reply.h"
#include "oauth/audit.h"
#include "oauth/grants.h"

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

enum MHD_Result
authz_refuse_too_long(struct request *req)
{
	return authz_refuse_page(req, "invalid_request",
	    "The request is too large to send back to the application (state too long).");
}

/* Redirect to the client with error, error_description, state and iss (RFC 9207). */
enum MHD_Result
authz_redirect_error(struct request *req, const struct authz *a, const char *error,
    const char *desc)
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
	r = rc == BUF_OK ? reply_redirect(req, b.data) : authz_refuse_too_long(req);
	buf_free(&b);
	return r;
}

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
enum MHD_Result
authz_issue_code(struct request *req, const struct authz *a, const struct who *w)
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
		return authz_refuse_too_long(req);
	}
	grant_env_init(req, &env, NULL);
	env.now = a->now;
	if (a->used_default_resource)
		audit_default_resource(req, a, w->user.name);
	if (grant_code_issue(&env, &a->client, w->user_id, w->auth_time, a->redirect_uri,
		a->redirect_given, a->challenge, a->resources, a->scope, &code) != 0) {
		buf_free(&tail);
		return authz_redirect_error(req, a, "temporarily_unavailable",
		    "cannot store the code");
	}
	buf_init(&b, REDIRECT_MAX);
	rc = buf_puts(&b, a->redirect_uri);
	rc |= buf_puts(&b, strchr(a->redirect_uri, '?') ? "&code=" : "?code=");
	rc |= buf_puts(&b, code);
	rc |= buf_append(&b, tail.data, tail.len);
	r = rc == BUF_OK ? reply_redirect(req, b.data) : authz_refuse_too_long(req);
	buf_free(&b);
	buf_free(&tail);
	OPENSSL_clear_free(code, strlen(code));
	return r;
}
