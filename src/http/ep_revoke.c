/* POST /revoke (RFC 7009) and POST /introspect (RFC 7662). */
#include "config.h"

#include <string.h>

#include "http/clientauth.h"
#include "http/endpoints.h"
#include "http/reply.h"
#include "oauth/inspect.h"

/* Parse, authenticate, and hand the token to fn; shared by both endpoints. */
static enum MHD_Result
token_endpoint(struct request *req, unsigned int auth_flags,
    enum MHD_Result (*fn)(struct request *req, const struct grant_env *env,
	const struct store_client *caller, const char *token))
{
	struct form f;
	struct store_client caller;
	struct grant_env env;
	struct keyset *ks;
	const char *token;
	enum MHD_Result result;
	int dup = 0;

	if (request_form_body(req, &f) != FORM_OK)
		return reply_oauth_error(req, OAUTH_INVALID_REQUEST,
		    "the body must be application/x-www-form-urlencoded UTF-8");
	token = form_get(&f, "token", &dup);
	if (token == NULL || dup) {
		form_clear(&f);
		return reply_oauth_error(req, OAUTH_INVALID_REQUEST, "one token is required");
	}
	switch (client_authenticate(req, &f, auth_flags, &caller, &result)) {
	case CLIENT_AUTH_PENDING:
		form_clear(&f);
		return MHD_YES;
	case CLIENT_AUTH_REPLIED:
		form_clear(&f);
		return result;
	default:
		break;
	}
	ks = app_keys(req->app);
	grant_env_init(req, &env, ks);
	if (ks == NULL || env.st == NULL)
		result = reply_oauth_error(req, OAUTH_TEMPORARILY_UNAVAILABLE, "not ready");
	else
		result = fn(req, &env, &caller, token);
	keyset_unref(ks);
	store_client_clear(&caller);
	form_clear(&f);
	return result;
}

static enum MHD_Result
do_introspect(struct request *req, const struct grant_env *env, const struct store_client *caller,
    const char *token)
{
	json_t *answer = token_introspect(env, caller, token);
	enum MHD_Result r;

	if (answer == NULL)
		return reply_oauth_error(req, OAUTH_SERVER_ERROR, "out of memory");
	r = reply_json(req, MHD_HTTP_OK, answer, REPLY_NO_STORE);
	json_decref(answer);
	return r;
}

static enum MHD_Result
do_revoke(struct request *req, const struct grant_env *env, const struct store_client *caller,
    const char *token)
{
	static const char empty[] = "{}";

	if (token_revoke(env, caller, token) != 0)
		return reply_oauth_error(req, OAUTH_TEMPORARILY_UNAVAILABLE, "database busy, retry");
	/* RFC 7009 §2.2: 200 whether or not there was anything to revoke. */
	return reply_json_text(req, MHD_HTTP_OK, empty, sizeof(empty) - 1,
	    REPLY_NO_STORE | REPLY_CORS);
}

enum MHD_Result
ep_introspect(struct request *req)
{
	return token_endpoint(req, CLIENT_AUTH_CONFIDENTIAL, do_introspect);
}

enum MHD_Result
ep_revoke(struct request *req)
{
	return token_endpoint(req, 0, do_revoke);
}
