/* Introspection (RFC 7662) and revocation (RFC 7009) decisions, without HTTP. */
#ifndef MCP_OAUTH_INSPECT_H
#define MCP_OAUTH_INSPECT_H

#include <jansson.h>

#include "oauth/grants.h"

/* The answer to `caller` about `token`: {"active": true, claims...} only for an access
 * token we issued, current and not revoked, and only when the caller acts for the
 * token's audience or is an introspection admin; {"active": false} for everything
 * else. New reference, NULL on ENOMEM. */
json_t *token_introspect(const struct grant_env *env, const struct store_client *caller,
    const char *token);

/* Revoke token on behalf of caller: a refresh token of the caller's ends its family;
 * an access token issued to the caller is refused from now until it expires. Tokens
 * that are unknown, not ours, or another client's are left alone. 0, or -1 when the
 * database failed (the caller should answer 503). */
int token_revoke(const struct grant_env *env, const struct store_client *caller,
    const char *token);

#endif
