/* Error names and statuses in one table. */
#include "config.h"

#include "oauth/errors.h"

#include <stddef.h>

static const struct {
	const char *name;
	int status;
} table[] = {
    [OAUTH_OK] = {"ok", 200},
    [OAUTH_INVALID_REQUEST] = {"invalid_request", 400},
    [OAUTH_INVALID_CLIENT] = {"invalid_client", 401},
    [OAUTH_INVALID_GRANT] = {"invalid_grant", 400},
    [OAUTH_UNAUTHORIZED_CLIENT] = {"unauthorized_client", 400},
    [OAUTH_UNSUPPORTED_GRANT_TYPE] = {"unsupported_grant_type", 400},
    [OAUTH_INVALID_SCOPE] = {"invalid_scope", 400},
    [OAUTH_INVALID_TARGET] = {"invalid_target", 400},
    [OAUTH_ACCESS_DENIED] = {"access_denied", 403},
    [OAUTH_UNSUPPORTED_RESPONSE_TYPE] = {"unsupported_response_type", 400},
    [OAUTH_INVALID_TOKEN] = {"invalid_token", 401},
    [OAUTH_UNSUPPORTED_TOKEN_TYPE] = {"unsupported_token_type", 400},
    [OAUTH_INVALID_REDIRECT_URI] = {"invalid_redirect_uri", 400},
    [OAUTH_INVALID_CLIENT_METADATA] = {"invalid_client_metadata", 400},
    [OAUTH_SLOW_DOWN] = {"slow_down", 429},
    [OAUTH_SERVER_ERROR] = {"server_error", 500},
    [OAUTH_TEMPORARILY_UNAVAILABLE] = {"temporarily_unavailable", 503},
    [OAUTH_NOT_FOUND] = {"not_found", 404},
    [OAUTH_METHOD_NOT_ALLOWED] = {"invalid_request", 405},
    [OAUTH_PAYLOAD_TOO_LARGE] = {"invalid_request", 413},
};

const char *
oauth_error_name(enum oauth_error e)
{
	if ((size_t)e >= sizeof(table) / sizeof(table[0]))
		return "server_error";
	return table[e].name;
}

int
oauth_error_status(enum oauth_error e)
{
	if ((size_t)e >= sizeof(table) / sizeof(table[0]))
		return 500;
	return table[e].status;
}
