/* POST /register: RFC 7591 dynamic client registration, open or gated by an initial
 * access token, rate-limited per source address, audited. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "http/async.h"
#include "http/endpoints.h"
#include "http/reply.h"
#include "oauth/audit.h"
#include "oauth/dcr.h"
#include "oauth/secret.h"
#include "oauth/throttle.h"

static int
bearer_ok(struct request *req, int64_t now)
{
	const char *auth = request_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
	unsigned char hash[SECRET_HASH_LEN];

	if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0 || strlen(auth + 7) > 256)
		return 0;
	secret_hash(auth + 7, hash);
	return store_regtoken_check(app_store(req->app), hash, sizeof(hash), now) == STORE_OK;
}

static enum MHD_Result
refuse(struct request *req, unsigned int status, const char *error, const char *desc)
{
	struct MHD_Response *resp;
	json_t *doc = json_pack("{s:s, s:s}", "error", error, "error_description", desc);
	char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;

	json_decref(doc);
	if (text == NULL)
		return MHD_NO;
	resp = reply_response_new(text, strlen(text), "application/json", REPLY_NO_STORE | REPLY_CORS);
	free(text);
	if (resp != NULL && status == 401)
		MHD_add_response_header(resp, "WWW-Authenticate",
		    "Bearer error=\"invalid_token\", error_description=\"initial access token required\"");
	return reply_queue(req, status, resp);
}

static void
audit_registration(struct request *req, const char *client_id, int64_t now)
{
	struct store_audit a;

	memset(&a, 0, sizeof(a));
	a.ts = now;
	a.event = "client.registered";
	a.outcome = "ok";
	a.reason = "dynamic client registration";
	a.client_id = client_id;
	a.remote_addr = req->remote_addr;
	audit_write(app_store(req->app), req->app->audit, &a);
}

enum MHD_Result
ep_register(struct request *req)
{
	const char *policy = req->app->cfg->registration;
	const char *ct = request_header(req, MHD_HTTP_HEADER_CONTENT_TYPE);
	struct dcr_client reg;
	struct store_client c;
	struct store *st = NULL;
	json_error_t jerr;
	json_t *body = NULL, *answer = NULL;
	char err[256], *secret = NULL, *hash = NULL, *meta_text = NULL, *client_id = NULL;
	char *jwks_text = NULL;
	int64_t now = (int64_t)time(NULL), wait;
	int resumed = req->async != NULL, rc;
	enum oauth_error e;
	enum MHD_Result r;
	char retry[32];

	memset(&reg, 0, sizeof(reg));
	if (strcmp(policy, "off") == 0)
		return reply_error_status(req, MHD_HTTP_NOT_FOUND, "not_found",
		    "dynamic client registration is disabled");
	if (strcmp(policy, "token") == 0 && !bearer_ok(req, now))
		return refuse(req, 401, "invalid_token",
		    "registration needs an initial access token (mcp-authd client registration-token)");
	/* Counted once per request, not again when it resumes after hashing, and in the
	 * store, so that every node of a fleet counts against the same budget. */
	if (!resumed && (st = app_store(req->app)) == NULL)
		return reply_oauth_error(req, OAUTH_TEMPORARILY_UNAVAILABLE, "database unavailable");
	if (!resumed && (rc = throttle_rate_take(st, "register", req->remote_addr,
			     req->app->cfg->registration_rate, 60, now, &wait)) < 0)
		return reply_oauth_error(req, OAUTH_TEMPORARILY_UNAVAILABLE, "database unavailable");
	if (!resumed && rc == 0) {
		struct MHD_Response *resp;
		static const char body429[] = "{\"error\":\"slow_down\",\"error_description\":"
					      "\"too many registrations from this address\"}";

		resp = reply_response_new(body429, sizeof(body429) - 1, "application/json",
		    REPLY_NO_STORE | REPLY_CORS);
		if (resp == NULL)
			return MHD_NO;
		snprintf(retry, sizeof(retry), "%lld", (long long)(wait > 0 ? wait : 1));
		MHD_add_response_header(resp, "Retry-After", retry);
		return reply_queue(req, 429, resp);
	}
	if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0)
		return reply_oauth_error(req, OAUTH_INVALID_CLIENT_METADATA,
		    "the registration must be application/json");
	body = json_loadb(req->body.data ? req->body.data : "", req->body.len,
	    JSON_REJECT_DUPLICATES, &jerr);
	if (body == NULL)
		return reply_oauth_error(req, OAUTH_INVALID_CLIENT_METADATA, "the body is not JSON");
	if ((e = dcr_validate(body, &reg, err, sizeof(err))) != OAUTH_OK) {
		r = reply_oauth_error(req, e, err);
		goto out;
	}
	/* A secret for secret-based methods; a private_key_jwt client has its keys. */
	if (reg.confidential && reg.jwks == NULL && reg.jwks_uri == NULL) {
		switch (request_new_secret(req, &secret, &hash)) {
		case ASYNC_PENDING:
			r = MHD_YES;
			goto out;
		case ASYNC_BUSY:
			r = reply_oauth_error(req, OAUTH_TEMPORARILY_UNAVAILABLE, "server busy, retry");
			goto out;
		default:
			break;
		}
	}
	if ((client_id = secret_random_id_new(16)) == NULL ||
	    (meta_text = json_dumps(reg.metadata, JSON_COMPACT)) == NULL ||
	    (reg.jwks != NULL && (jwks_text = json_dumps(reg.jwks, JSON_COMPACT)) == NULL)) {
		r = reply_oauth_error(req, OAUTH_SERVER_ERROR, "out of memory");
		goto out;
	}
	memset(&c, 0, sizeof(c));
	c.client_id = client_id;
	c.name = (char *)(uintptr_t)(reg.client_name ? reg.client_name : "Unnamed application");
	c.confidential = reg.confidential;
	c.auth_method = (char *)(uintptr_t)reg.auth_method;
	c.secret_hash = hash;
	c.jwks = jwks_text;
	c.jwks_uri = (char *)(uintptr_t)reg.jwks_uri;
	c.grant_types = reg.grant_types;
	c.origin = (char *)(uintptr_t)"dcr";
	c.metadata = meta_text;
	c.remote_addr = req->remote_addr;
	c.created_at = now;
	c.redirect_uris = (char **)(uintptr_t)reg.redirect_uris;
	c.n_redirect_uris = reg.n_redirect_uris;
	if (store_begin(app_store(req->app)) != STORE_OK) {
		r = reply_oauth_error(req, OAUTH_TEMPORARILY_UNAVAILABLE, "database busy, retry");
		goto out;
	}
	rc = store_client_add(app_store(req->app), &c, NULL);
	if (rc == STORE_OK)
		audit_registration(req, client_id, now);
	if (rc != STORE_OK || store_commit(app_store(req->app)) != STORE_OK) {
		store_rollback(app_store(req->app));
		r = reply_oauth_error(req, OAUTH_TEMPORARILY_UNAVAILABLE, "database busy, retry");
		goto out;
	}
	request_log_client(req, client_id);
	/* RFC 7591 §3.2.1: the registered metadata, redirect_uris included, plus the id. */
	answer = json_deep_copy(reg.metadata);
	json_object_set_new(answer, "client_id", json_string(client_id));
	json_object_set_new(answer, "client_id_issued_at", json_integer(now));
	if (secret != NULL) {
		json_object_set_new(answer, "client_secret", json_string(secret));
		json_object_set_new(answer, "client_secret_expires_at", json_integer(0));
	}
	r = reply_json(req, MHD_HTTP_CREATED, answer, REPLY_NO_STORE | REPLY_CORS);
out:
	json_decref(answer);
	json_decref(body);
	dcr_client_clear(&reg);
	if (secret != NULL)
		OPENSSL_clear_free(secret, strlen(secret));
	free(hash);
	free(meta_text);
	free(jwks_text);
	free(client_id);
	return r;
}
