/* Client authentication: secrets (RFC 6749 §2.3.1) with the verified-secret cache, and
 * keys (private_key_jwt, RFC 7523). */
#include "config.h"

#include "http/clientauth.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "http/async.h"
#include "http/reply.h"
#include "jose/b64url.h"
#include "oauth/assertion.h"
#include "oauth/audit.h"
#include "oauth/secret_cache.h"
#include "oauth/upstream.h"
#include "util/log.h"
#include "util/password.h"

#define CREDENTIAL_MAX 2048

/* Split "Basic base64(urlenc(id):urlenc(secret))". 0, or -1 when malformed. */
static int
parse_basic(const char *header, char **id, char **secret)
{
	unsigned char raw[CREDENTIAL_MAX];
	size_t n, len;
	const char *b64;
	char *colon;
	int rc = -1;

	*id = *secret = NULL;
	if (strncasecmp(header, "Basic ", 6) != 0)
		return -1;
	b64 = header + 6;
	while (*b64 == ' ')
		b64++;
	len = strlen(b64);
	if (len == 0 || len > CREDENTIAL_MAX ||
	    b64std_decode(b64, len, raw, sizeof(raw) - 1, &n) != 0)
		return -1;
	raw[n] = '\0';
	if (memchr(raw, '\0', n) != NULL || (colon = strchr((char *)raw, ':')) == NULL)
		goto out;
	if (form_decode((char *)raw, (size_t)(colon - (char *)raw), id) != FORM_OK ||
	    form_decode(colon + 1, n - (size_t)(colon + 1 - (char *)raw), secret) != FORM_OK)
		goto out;
	rc = 0;
out:
	if (rc != 0) {
		free(*id);
		if (*secret != NULL)
			OPENSSL_clear_free(*secret, strlen(*secret));
		*id = *secret = NULL;
	}
	OPENSSL_cleanse(raw, sizeof(raw));
	return rc;
}

/* A failure that says nothing about the credentials (the database or the pools busy, out
 * of memory): answered, not audited. */
static enum client_auth
fail(struct request *req, enum MHD_Result *result, enum oauth_error e, const char *why)
{
	*result = reply_oauth_error(req, e, why);
	return CLIENT_AUTH_REPLIED;
}

/* A refused authentication: audited as client.auth_refused (reason a fixed word, which
 * endpoint, the error said), then answered. Never a secret nor the assertion, and
 * client_id only for a client of ours: the id a caller names for no client is the caller's
 * words, perhaps a secret pasted into the wrong field (login.failed leaves out a username
 * that is no account's for the same reason). */
static enum client_auth
refuse(struct request *req, enum MHD_Result *result, enum oauth_error e, const char *client_id,
    const char *reason, const char *why)
{
	struct store *st = app_store(req->app);
	json_t *d = json_pack("{s:s, s:s}", "error", why, "endpoint", req->path);

	if (st != NULL)
		audit_submit_refusal(req->app->audit, st, "client.auth_refused", reason, client_id,
		    req->remote_addr, d);
	json_decref(d);
	return fail(req, result, e, why);
}

/* The client named id (logged with the request), or a refusal queued in *result. */
static int
load_client(struct request *req, const char *id, struct store_client *out,
    enum MHD_Result *result)
{
	struct store *st = app_store(req->app);
	int rc;

	request_log_client(req, id);
	if (st == NULL) {
		fail(req, result, OAUTH_TEMPORARILY_UNAVAILABLE, "database unavailable");
		return -1;
	}
	if ((rc = store_client_get_lite(st, id, out)) == STORE_NOTFOUND) {
		refuse(req, result, OAUTH_INVALID_CLIENT, NULL, "unknown_client", "unknown client");
		return -1;
	}
	if (rc != STORE_OK) {
		fail(req, result, OAUTH_TEMPORARILY_UNAVAILABLE, "database busy");
		return -1;
	}
	return 0;
}

/* A refused client assertion: the check that failed is the reason. */
static enum client_auth
assertion_refused(struct request *req, enum MHD_Result *result, const char *client_id,
    enum assertion_refusal why, const char *detail)
{
	return refuse(req, result, OAUTH_INVALID_CLIENT, client_id, assertion_refusal_name(why),
	    detail);
}

/* Where a client's keys may be fetched from: https (http with allow_insecure_issuer),
 * private addresses only for a client the operator added or when registrations may
 * point there (cimd_allow_private). */
static void
client_keys_policy(const struct request *req, const struct store_client *c, struct net_policy *np)
{
	const struct config *cfg = req->app->cfg;

	memset(np, 0, sizeof(*np));
	np->allow_http = (int)cfg->allow_insecure_issuer;
	np->allow_private = strcmp(c->origin ? c->origin : "", "cli") == 0 ||
	    cfg->cimd_allow_private != 0;
	np->max_bytes = UPSTREAM_MAX_BYTES;
	np->timeout_ms = UPSTREAM_TIMEOUT_MS;
}

/* private_key_jwt (RFC 7523 §2.2, §3): the assertion signed by one of the client's keys,
 * for this server, short-lived, its jti never seen before. */
static enum client_auth
key_authenticate(struct request *req, const char *body_id, const char *type,
    const char *assertion, struct store_client *out, enum MHD_Result *result)
{
	struct store *st = app_store(req->app);
	struct net_policy np;
	unsigned char replay[32];
	char *id = NULL, *endpoint = NULL, err[256];
	json_t *jwks = NULL, *claims = NULL;
	enum assertion_refusal why;
	enum client_auth r;
	int64_t now = (int64_t)time(NULL), exp = 0;
	int rc;

	if (type == NULL || assertion == NULL)
		return refuse(req, result, OAUTH_INVALID_REQUEST, NULL, "request",
		    "client_assertion and client_assertion_type go together");
	if (strcmp(type, ASSERTION_TYPE_JWT_BEARER) != 0)
		return refuse(req, result, OAUTH_INVALID_CLIENT, NULL, "assertion_type",
		    "unsupported client_assertion_type");
	/* The client is named by client_id, or else by the assertion's (unverified) issuer:
	 * only a key of that client's can make the assertion pass. */
	id = body_id != NULL ? strdup(body_id) : assertion_peek_issuer(assertion);
	if (id == NULL || id[0] == '\0') {
		free(id);
		return refuse(req, result, OAUTH_INVALID_CLIENT, NULL, "no_client",
		    "the client assertion names no client");
	}
	if (load_client(req, id, out, result) != 0) {
		r = CLIENT_AUTH_REPLIED;
		goto out;
	}
	if (out->auth_method == NULL || strcmp(out->auth_method, "private_key_jwt") != 0) {
		r = refuse(req, result, OAUTH_INVALID_CLIENT, out->client_id, "method",
		    "this client does not authenticate with private_key_jwt");
		goto out;
	}
	client_keys_policy(req, out, &np);
	err[0] = '\0';
	switch (request_jwks_for(req, out->jwks, out->jwks_uri, &np, assertion, &jwks, err,
	    sizeof(err))) {
	case ASYNC_PENDING:
		r = CLIENT_AUTH_PENDING;
		goto out;
	case ASYNC_BUSY:
		r = fail(req, result, OAUTH_TEMPORARILY_UNAVAILABLE, "server busy, retry");
		goto out;
	default:
		break;
	}
	if (jwks == NULL) {
		log_info("client %s: its keys are unavailable: %s", out->client_id, err);
		r = assertion_refused(req, result, out->client_id, ASSERTION_UNKNOWN_KID,
		    "the client's keys cannot be fetched");
		goto out;
	}
	/* The token endpoint as metadata names it: an alternative audience (RFC 7523 §3). */
	if ((endpoint = app_url_new(req->app, "/token")) == NULL) {
		r = fail(req, result, OAUTH_SERVER_ERROR, "out of memory");
		goto out;
	}
	why = client_assertion_check(assertion, jwks, out->client_id, req->app->issuer, endpoint,
	    now, &claims, err, sizeof(err));
	if (why != ASSERTION_OK) {
		r = assertion_refused(req, result, out->client_id, why, err);
		goto out;
	}
	/* One use per jti, on every node: kept until the assertion expires (plus the skew
	 * it would still be accepted within). */
	assertion_numeric_date(claims, "exp", &exp);
	if (assertion_replay_key("client", out->client_id,
		json_string_value(json_object_get(claims, "jti")), replay) != 0) {
		r = fail(req, result, OAUTH_SERVER_ERROR, "out of memory");
		goto out;
	}
	rc = store_jti_use(st, replay, exp + ASSERTION_SKEW, now);
	if (rc == STORE_CONFLICT) {
		r = assertion_refused(req, result, out->client_id, ASSERTION_REPLAY,
		    "the client assertion was used before (jti)");
		goto out;
	}
	if (rc != STORE_OK) {
		r = fail(req, result, OAUTH_TEMPORARILY_UNAVAILABLE, "database busy, retry");
		goto out;
	}
	r = CLIENT_AUTH_OK;
out:
	if (r != CLIENT_AUTH_OK)
		store_client_clear(out);
	json_decref(claims);
	json_decref(jwks);
	free(endpoint);
	free(id);
	return r;
}

enum client_auth
client_authenticate(struct request *req, const struct form *f, unsigned int flags,
    struct store_client *out, enum MHD_Result *result)
{
	const char *auth = request_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
	const char *body_id, *body_secret, *assertion_type, *assertion;
	char *basic_id = NULL, *basic_secret = NULL;
	const char *id, *secret;
	enum client_auth r;
	int dup1 = 0, dup2 = 0, dup3 = 0, dup4 = 0, match = 0;

	memset(out, 0, sizeof(*out));
	body_id = form_get(f, "client_id", &dup1);
	body_secret = form_get(f, "client_secret", &dup2);
	assertion_type = form_get(f, "client_assertion_type", &dup3);
	assertion = form_get(f, "client_assertion", &dup4);
	if (dup1 || dup2 || dup3 || dup4)
		return refuse(req, result, OAUTH_INVALID_REQUEST, NULL, "request",
		    "a client credential is repeated");
	if (assertion_type != NULL || assertion != NULL) {
		if (auth != NULL || body_secret != NULL)
			return refuse(req, result, OAUTH_INVALID_REQUEST, NULL, "request",
			    "use one client authentication method, not two");
		return key_authenticate(req, body_id, assertion_type, assertion, out, result);
	}
	if (auth != NULL && parse_basic(auth, &basic_id, &basic_secret) != 0)
		return refuse(req, result, OAUTH_INVALID_CLIENT, NULL, "basic",
		    "malformed Basic credentials");
	if (basic_id != NULL && body_secret != NULL) {
		r = refuse(req, result, OAUTH_INVALID_REQUEST, NULL, "request",
		    "use one client authentication method, not two");
		goto out;
	}
	if (basic_id != NULL && body_id != NULL && strcmp(basic_id, body_id) != 0) {
		r = refuse(req, result, OAUTH_INVALID_REQUEST, NULL, "request",
		    "client_id differs from the credentials");
		goto out;
	}
	id = basic_id ? basic_id : body_id;
	secret = basic_id ? basic_secret : body_secret;
	if (id == NULL || id[0] == '\0') {
		r = refuse(req, result, OAUTH_INVALID_CLIENT, NULL, "no_client",
		    "client authentication required");
		goto out;
	}
	if (load_client(req, id, out, result) != 0) {
		r = CLIENT_AUTH_REPLIED;
		goto out;
	}
	if (!out->confidential) {
		if (secret != NULL)
			r = refuse(req, result, OAUTH_INVALID_CLIENT, out->client_id, "method",
			    "a public client has no secret");
		else if (flags & CLIENT_AUTH_CONFIDENTIAL)
			r = refuse(req, result, OAUTH_INVALID_CLIENT, out->client_id, "public",
			    "this request needs a confidential client");
		else
			r = CLIENT_AUTH_OK;
		goto out;
	}
	if (out->auth_method != NULL && strcmp(out->auth_method, "private_key_jwt") == 0) {
		r = refuse(req, result, OAUTH_INVALID_CLIENT, out->client_id, "method",
		    "this client authenticates with private_key_jwt (client_assertion)");
		goto out;
	}
	if (secret == NULL || out->secret_hash == NULL) {
		r = refuse(req, result, OAUTH_INVALID_CLIENT, out->client_id,
		    secret == NULL ? "no_secret" : "secret", "client secret required");
		goto out;
	}
	if (strlen(secret) > PASSWORD_MAX_LEN) {
		r = refuse(req, result, OAUTH_INVALID_CLIENT, out->client_id, "secret",
		    "invalid client credentials");
		goto out;
	}
	if (secret_cache_check(req->app->secrets, out->client_id, out->secret_hash, secret)) {
		r = CLIENT_AUTH_OK;
		goto out;
	}
	switch (request_client_secret_verify(req, out->client_id, out->secret_hash, secret, &match)) {
	case ASYNC_PENDING:
		r = CLIENT_AUTH_PENDING;
		goto out;
	case ASYNC_BUSY:
		r = fail(req, result, OAUTH_TEMPORARILY_UNAVAILABLE, "server busy, retry");
		goto out;
	default:
		break;
	}
	if (!match) {
		r = refuse(req, result, OAUTH_INVALID_CLIENT, out->client_id, "secret",
		    "invalid client credentials");
		goto out;
	}
	secret_cache_put(req->app->secrets, out->client_id, out->secret_hash, secret);
	r = CLIENT_AUTH_OK;
out:
	if (r != CLIENT_AUTH_OK)
		store_client_clear(out);
	free(basic_id);
	if (basic_secret != NULL)
		OPENSSL_clear_free(basic_secret, strlen(basic_secret));
	return r;
}
