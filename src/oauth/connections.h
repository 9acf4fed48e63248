/* Per-user OAuth connections to third parties (DESIGN.md §10.5): a user connects an
 * account at a third-party authorization server once; an MCP server the policy names then
 * fetches that user's third-party access token through token exchange, with the user's
 * token for it as subject_token. Expired third-party tokens are refreshed here, once
 * however many requests and nodes want them (a lease on the row), and the new refresh
 * token is stored before anyone is given the new access token. */
#ifndef MCP_OAUTH_CONNECTIONS_H
#define MCP_OAUTH_CONNECTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "jose/seal.h"
#include "net/fetch.h"
#include "oauth/grants.h"
#include "oauth/thirdparty.h"
#include "store/store.h"

#define CONNECTION_REFRESH_MARGIN 30  /* an access token this close to its end is refreshed */
#define CONNECTION_LEASE 15           /* a refresh holds the row at most this long (seconds) */
#define CONNECTION_STATE_TTL 600      /* a connect must come back within this */
#define CONNECTION_SECRET_MAX 1024

/* Seal a connection's client secret (c->name set): fills c's wrapped_key and secret_enc. */
int connection_secret_seal(const struct master_key *mk, struct store_connection *c,
    const char *secret);
/* Open it: *secret a new string (OPENSSL_clear_free(s, strlen(s))), NULL for a public
 * client. -1 when it does not open. */
int connection_secret_open(const struct master_key *mk, const struct store_connection *c,
    char **secret);

/* The third party as a client sees it, and the policy of every request to it. */
void connection_client(const struct store_connection *c, const char *secret,
    struct thirdparty_client *out);
void connection_net_policy(const struct store_connection *c, int allow_http,
    struct net_policy *out);

/* Store fresh tokens of the user at connection name as generation previous + 1 (previous 0:
 * a first connect). A refresh answer without a refresh token keeps keep_refresh.
 * STORE_CONFLICT when the row moved on meanwhile. */
int connection_tokens_store(struct store *st, const struct master_key *mk, const char *name,
    int64_t user_id, int64_t previous, const struct thirdparty_tokens *t,
    const char *keep_refresh, int64_t now);
/* Open a row: *access and *refresh (NULL when none) new, to be wiped. */
int connection_tokens_open(const struct master_key *mk, const struct store_user_connection *uc,
    char **access, char **refresh);

/* keys rewrap: every connection's secret and every user's tokens, in the caller's
 * transaction. */
int connection_rewrap_within(struct store *st, const struct master_key *old_mk,
    const struct master_key *new_mk, int *count);

/* {issuer}/connect/NAME: where a user connects (a new string). */
char *connection_connect_uri_new(const char *issuer, const char *name);

/* The fetch of a user's connection c (vault_fetch found audience to name it). The
 * subject token must be ours, current, for the resource the client acts for, and name a
 * user; the policy must allow it. A current access token is answered at once; one that
 * needs a refresh leaves out->pending set (the caller then runs connection_fetch_pending
 * on a worker). Refusals carry out->connect_uri where connecting (again) mends them. */
int connection_fetch(const struct grant_env *env, const struct store_client *client,
    const struct exchange_request *x, const struct store_connection *c,
    struct token_response *out);

/* On a worker: wait for another refresh of the row or take the lease and refresh upstream
 * (allow_http: http third parties too), then answer as connection_fetch would. A wait
 * lasts at most a lease and one refresh after it (26 s), then answers
 * temporarily_unavailable. */
int connection_fetch_pending(const struct grant_env *env, int allow_http,
    const struct vault_pending *p, struct token_response *out);

#endif
