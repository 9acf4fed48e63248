/* Slow work for a request, done on a worker pool while the connection is suspended.
 *
 * The first call of an operation suspends the connection, queues the work and returns
 * ASYNC_PENDING: the endpoint returns MHD_YES without a response. When the work is done
 * the connection resumes and the endpoint runs again from the start; the same call,
 * with the same inputs, then returns ASYNC_DONE with the result. Endpoints therefore
 * do nothing with side effects before such a call. */
#ifndef MCP_HTTP_ASYNC_H
#define MCP_HTTP_ASYNC_H

#include <jansson.h>

#include "http/request.h"
#include "net/fetch.h"

enum {
	ASYNC_DONE = 0,     /* the result is in the out-parameters */
	ASYNC_PENDING = 1,  /* suspended: return MHD_YES, reply later */
	ASYNC_BUSY = -1,    /* the pool is full or stopping: answer 503 */
};

/* argon2id verification of secret against encoded: *match 1 or 0. */
int request_password_verify(struct request *req, const char *encoded, const char *secret,
    int *match);

/* The same for a client's secret, shared between concurrent requests: when the same
 * secret of the same client is already being verified, this request waits for that
 * run instead of starting its own, and a success lands in the verified-secret cache
 * before anyone is woken (so waiters, running again, find it there). */
int request_client_secret_verify(struct request *req, const char *client_id,
    const char *encoded, const char *secret, int *match);

/* A new random secret and its argon2id hash: on ASYNC_DONE *secret and *encoded are
 * new strings (the caller frees both; the secret with OPENSSL_clear_free). The same
 * secret comes back on the second pass, so the endpoint can show it once. */
int request_new_secret(struct request *req, char **secret, char **encoded);

/* Fetch and validate a Client ID Metadata Document (oauth/cimd.h) on the fetch pool:
 * on ASYNC_DONE either *doc is the document (new reference) and *max_age its cache
 * lifetime, or *doc is NULL and err says why. */
int request_cimd_fetch(struct request *req, const char *url, json_t **doc, int64_t *max_age,
    char *err, size_t errlen);

/* Any slow work (outbound requests to an upstream provider), in two passes. The first
 * pass, after its side effects, calls request_call_start: fn(arg) runs on the fetch pool
 * (arg now the job's, freed with free_arg if the request goes away; free_arg frees it at
 * once when the job cannot start) and the endpoint returns MHD_YES without a response
 * on ASYNC_PENDING. When the connection resumes, the endpoint runs again from the start:
 * request_call_result then returns 1 with the same arg, results filled, in *done (now
 * the caller's). It returns 0 on a first pass. */
typedef void (*async_call_fn)(void *arg);
int request_call_result(struct request *req, const char *key, void **done);
int request_call_start(struct request *req, const char *key, async_call_fn fn, void *arg,
    void (*free_arg)(void *arg));
/* The same on another pool than the fetch pool. */
struct workpool;
int request_call_start_on(struct request *req, struct workpool *pool, const char *key,
    async_call_fn fn, void *arg, void (*free_arg)(void *arg));
/* The key of the finished call a resumed request holds, or NULL (a first pass). */
const char *request_call_key(const struct request *req);

/* A JWKS by URL (upstream_jwks: its cache, else fetched on the fetch pool; with refetch
 * fetched again unless that happened within the cool-down). On ASYNC_DONE *jwks is a new
 * reference, or NULL with err saying why. */
int request_jwks(struct request *req, const char *uri, const struct net_policy *np, int refetch,
    json_t **jwks, char *err, size_t errlen);

/* The JWKS that should verify token: the registered document inline_jwks (JSON text)
 * when there is one, else the one at uri, fetched again once when none of its keys fits
 * the token's kid and alg. Same results as request_jwks. */
int request_jwks_for(struct request *req, const char *inline_jwks, const char *uri,
    const struct net_policy *np, const char *token, json_t **jwks, char *err, size_t errlen);

/* Release an unfinished or unclaimed job of a request (request teardown). */
void request_async_free(struct request *req);

#endif
