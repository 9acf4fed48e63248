/* Client authentication at the token, introspection and revocation endpoints:
 * client_secret_basic, client_secret_post, private_key_jwt, or none for public clients. */
#ifndef MCP_HTTP_CLIENTAUTH_H
#define MCP_HTTP_CLIENTAUTH_H

#include "http/form.h"
#include "http/request.h"
#include "store/store.h"

enum client_auth {
	CLIENT_AUTH_OK = 0,       /* *out is the authenticated client */
	CLIENT_AUTH_PENDING,      /* hashing: return MHD_YES, the request runs again */
	CLIENT_AUTH_REPLIED,      /* a refusal was queued: return *result */
};

#define CLIENT_AUTH_CONFIDENTIAL 1 /* refuse public clients */

/* Authenticate the caller. A secret is checked against the cache of verified
 * secrets first and with argon2 (on the hash pool) only on a miss. A client assertion
 * is checked with the client's registered JWKS or the one at its jwks_uri (fetched on
 * the fetch pool: CLIENT_AUTH_PENDING), and its jti recorded as used. Failures are
 * 401 invalid_client with WWW-Authenticate; malformed attempts (two methods at
 * once, mismatched ids) 400 invalid_request. */
enum client_auth client_authenticate(struct request *req, const struct form *f,
    unsigned int flags, struct store_client *out, enum MHD_Result *result);

#endif
