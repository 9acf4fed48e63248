/* Endpoint handlers, one file each (ep_*.c), wired up by the routing table in server.c. */
#ifndef MCP_HTTP_ENDPOINTS_H
#define MCP_HTTP_ENDPOINTS_H

#include "http/app.h"
#include "http/request.h"

/* ep_metadata.c: RFC 8414 metadata (and its OpenID alias), JWKS, health. */
int metadata_render(struct app *app);
enum MHD_Result ep_metadata(struct request *req);
enum MHD_Result ep_jwks(struct request *req);
enum MHD_Result ep_healthz(struct request *req);
enum MHD_Result ep_readyz(struct request *req);
enum MHD_Result ep_metrics(struct request *req);

/* ep_authorize.c: the authorization endpoint (login, consent, code). */
enum MHD_Result ep_authorize(struct request *req);

/* The browser's sign-in session cookie (http/session.c, ep_idp.c). */
#define SESSION_COOKIE "mcp_authd_session"

/* ep_idp.c: sign-in through an upstream provider. idp_start sends the browser to provider
 * idp_name to sign in, then back to /authorize?authorize_query: 0 with *r the answer
 * (or MHD_YES while the provider's metadata is fetched), 1 when there is no such
 * provider, -1 on a failure to answer with a generic error. */
int idp_start(struct request *req, const char *idp_name, const char *authorize_query,
    enum MHD_Result *r);
/* {issuer}/idp/NAME/callback: the provider's answer. */
enum MHD_Result ep_idp_callback(struct request *req);

/* ep_connect.c: {issuer}/connect/NAME and its callback (connecting a user's account at a
 * third party), and {issuer}/connections (the user's list, disconnecting). */
enum MHD_Result ep_connect(struct request *req);
enum MHD_Result ep_connections(struct request *req);

/* ep_token.c: the token endpoint, and the grant environment of a request. */
enum MHD_Result ep_token(struct request *req);
struct grant_env;
void grant_env_init(struct request *req, struct grant_env *env, const struct keyset *ks);

/* ep_revoke.c: revocation (RFC 7009) and introspection (RFC 7662). */
enum MHD_Result ep_revoke(struct request *req);
enum MHD_Result ep_introspect(struct request *req);

/* ep_register.c: dynamic client registration (RFC 7591). */
enum MHD_Result ep_register(struct request *req);

/* ep_dev.c: the mock issuer's test helpers (dev mode only). */
enum MHD_Result ep_dev_token(struct request *req);
enum MHD_Result ep_dev_bad_token(struct request *req);
enum MHD_Result ep_dev_id_jag(struct request *req);

#endif
