/* Client authentication (RFC 6749 §2.3.1) with the verified-secret cache. */
#include "config.h"

#include "http/clientauth.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "http/async.h"
#include "http/reply.h"
#include "jose/b64url.h"
#include "oauth/secret_cache.h"
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

static enum client_auth
fail(struct request *req, enum MHD_Result *result, enum oauth_error e, const char *why)
{
	*result = reply_oauth_error(req, e, why);
	return CLIENT_AUTH_REPLIED;
}

enum client_auth
client_authenticate(struct request *req, const struct form *f, unsigned int flags,
    struct store_client *out, enum MHD_Result *result)
{
	const char *auth = request_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
	const char *body_id, *body_secret;
	char *basic_id = NULL, *basic_secret = NULL;
	const char *id, *secret;
	struct store *st = app_store(req->app);
	enum client_auth r;
	int dup1 = 0, dup2 = 0, match = 0, rc;

	memset(out, 0, sizeof(*out));
	body_id = form_get(f, "client_id", &dup1);
	body_secret = form_get(f, "client_secret", &dup2);
	if (dup1 || dup2)
		return fail(req, result, OAUTH_INVALID_REQUEST, "client_id or client_secret repeated");
	if (auth != NULL && parse_basic(auth, &basic_id, &basic_secret) != 0)
		return fail(req, result, OAUTH_INVALID_CLIENT, "malformed Basic credentials");
	if (basic_id != NULL && body_secret != NULL) {
		r = fail(req, result, OAUTH_INVALID_REQUEST,
		    "use one client authentication method, not two");
		goto out;
	}
	if (basic_id != NULL && body_id != NULL && strcmp(basic_id, body_id) != 0) {
		r = fail(req, result, OAUTH_INVALID_REQUEST, "client_id differs from the credentials");
		goto out;
	}
	id = basic_id ? basic_id : body_id;
	secret = basic_id ? basic_secret : body_secret;
	if (id == NULL || id[0] == '\0') {
		r = fail(req, result, OAUTH_INVALID_CLIENT, "client authentication required");
		goto out;
	}
	request_log_client(req, id);
	if (st == NULL) {
		r = fail(req, result, OAUTH_TEMPORARILY_UNAVAILABLE, "database unavailable");
		goto out;
	}
	rc = store_client_get_lite(st, id, out);
	if (rc != STORE_OK) {
		r = fail(req, result, rc == STORE_NOTFOUND ? OAUTH_INVALID_CLIENT
							   : OAUTH_TEMPORARILY_UNAVAILABLE,
		    rc == STORE_NOTFOUND ? "unknown client" : "database busy");
		goto out;
	}
	if (!out->confidential) {
		if (secret != NULL || (flags & CLIENT_AUTH_CONFIDENTIAL))
			r = fail(req, result, OAUTH_INVALID_CLIENT,
			    secret ? "a public client has no secret"
				   : "this request needs a confidential client");
		else
			r = CLIENT_AUTH_OK;
		goto out;
	}
	if (secret == NULL || out->secret_hash == NULL) {
		r = fail(req, result, OAUTH_INVALID_CLIENT, "client secret required");
		goto out;
	}
	if (strlen(secret) > PASSWORD_MAX_LEN) {
		r = fail(req, result, OAUTH_INVALID_CLIENT, "invalid client credentials");
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
		r = fail(req, result, OAUTH_INVALID_CLIENT, "invalid client credentials");
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
