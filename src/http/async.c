/* Suspend, work on a pool, resume, run the endpoint again: the glue for slow work. */
#include "config.h"

#include "http/async.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "jose/jwks.h"
#include "jose/jws.h"
#include "oauth/cimd.h"
#include "oauth/secret.h"
#include "oauth/secret_cache.h"
#include "oauth/upstream.h"
#include "util/password.h"
#include "util/workpool.h"

enum job_kind {
	JOB_VERIFY,
	JOB_HASH,
	JOB_FETCH,
	JOB_CALL,
};

struct async_job {
	struct work_job w;         /* first: the pool sees only this */
	struct request *req;
	enum job_kind kind;
	char *a;                   /* verify: encoded; fetch: url */
	char *b;                   /* verify, hash: the secret */
	const struct cimd_policy *policy;
	int result;
	char *out;                 /* hash: the encoded hash */
	char *client_id;           /* verify of a client secret: whose */
	struct request *waiters[32]; /* requests waiting for this same verification */
	int nwaiters;
	struct async_job *next_inflight;
	async_call_fn call;        /* call: the work, its argument and how to free it */
	void *call_arg;
	void (*call_free)(void *arg);
	json_t *doc;               /* fetch: the document */
	int64_t max_age;           /* fetch: how long to keep it */
	char err[256];
};

static void
secret_free(char *s)
{
	if (s != NULL)
		OPENSSL_clear_free(s, strlen(s) + 1);
}

static void
job_free(struct async_job *j)
{
	if (j == NULL)
		return;
	free(j->a);
	free(j->client_id);
	secret_free(j->b);
	free(j->out);
	json_decref(j->doc);
	if (j->call_arg != NULL && j->call_free != NULL)
		j->call_free(j->call_arg);
	free(j);
}

void
request_async_free(struct request *req)
{
	job_free(req->async);
	req->async = NULL;
}

static void
run(struct work_job *w)
{
	struct async_job *j = (struct async_job *)w;

	switch (j->kind) {
	case JOB_VERIFY:
		j->result = password_verify(j->a, j->b, strlen(j->b));
		break;
	case JOB_HASH:
		j->result = password_hash_new(j->b, strlen(j->b), &j->out);
		break;
	case JOB_FETCH:
		j->result = cimd_fetch(j->a, j->policy, &j->doc, &j->max_age, j->err, sizeof(j->err));
		break;
	case JOB_CALL:
		j->call(j->call_arg);
		break;
	}
}

/* Client-secret verifications in progress: a burst of requests from one client (a new
 * process meeting a busy client, say) shares one argon2 run instead of each paying. */
static pthread_mutex_t inflight_lock = PTHREAD_MUTEX_INITIALIZER;
static struct async_job *inflight;

static void
inflight_remove(struct async_job *j)
{
	struct async_job **p;

	for (p = &inflight; *p != NULL; p = &(*p)->next_inflight) {
		if (*p == j) {
			*p = j->next_inflight;
			break;
		}
	}
}

static void
done(struct work_job *w)
{
	struct async_job *j = (struct async_job *)w;
	struct request *req = j->req;
	int i;

	if (j->client_id != NULL) {
		/* Remember a success before waking anyone: the waiters find it in the cache. */
		if (j->result == 1)
			secret_cache_put(req->app->secrets, j->client_id, j->a, j->b);
		pthread_mutex_lock(&inflight_lock);
		inflight_remove(j);
		pthread_mutex_unlock(&inflight_lock);
		for (i = 0; i < j->nwaiters; i++)
			MHD_resume_connection(j->waiters[i]->conn);
	}
	req->async_finished = 1;
	/* Nothing may touch the job or the request after this: the connection's thread
	 * may run the endpoint again and free both at once. */
	MHD_resume_connection(req->conn);
}

static int
same(const char *x, const char *y)
{
	return (x == NULL && y == NULL) || (x != NULL && y != NULL && strcmp(x, y) == 0);
}

/* The finished job for these inputs, taken from the request; or NULL after dropping a
 * job for other inputs. */
static struct async_job *
take_finished(struct request *req, enum job_kind kind, const char *a, const char *b)
{
	struct async_job *j = req->async;

	if (j == NULL)
		return NULL;
	req->async = NULL;
	req->async_finished = 0;
	if (j->kind == kind && same(j->a, a) && same(j->b, b))
		return j;
	job_free(j);
	return NULL;
}

static struct async_job *
job_new(struct request *req, enum job_kind kind, const char *a, const char *b,
    const struct cimd_policy *policy, const char *client_id)
{
	struct async_job *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return NULL;
	j->w.run = run;
	j->w.done = done;
	j->req = req;
	j->kind = kind;
	j->policy = policy;
	if ((client_id != NULL && (j->client_id = strdup(client_id)) == NULL) ||
	    (a != NULL && (j->a = strdup(a)) == NULL) || (b != NULL && (j->b = strdup(b)) == NULL)) {
		job_free(j);
		return NULL;
	}
	return j;
}

/* Suspend the request and queue j (which the request then owns). */
static int
job_submit(struct request *req, struct workpool *pool, struct async_job *j)
{
	req->async = j;
	/* Suspend before queuing, so that the wake-up cannot come first. */
	MHD_suspend_connection(req->conn);
	if (j->client_id != NULL) {
		pthread_mutex_lock(&inflight_lock);
		j->next_inflight = inflight;
		inflight = j;
		pthread_mutex_unlock(&inflight_lock);
	}
	if (workpool_submit(pool, &j->w) != 0) {
		if (j->client_id != NULL) {
			pthread_mutex_lock(&inflight_lock);
			inflight_remove(j);
			pthread_mutex_unlock(&inflight_lock);
		}
		MHD_resume_connection(req->conn);
		req->async = NULL;
		job_free(j);
		return ASYNC_BUSY;
	}
	return ASYNC_PENDING;
}

static int
start(struct request *req, struct workpool *pool, enum job_kind kind, const char *a,
    const char *b, const struct cimd_policy *policy, const char *client_id)
{
	struct async_job *j = job_new(req, kind, a, b, policy, client_id);

	return j == NULL ? ASYNC_BUSY : job_submit(req, pool, j);
}

/* Wait for a verification of the same secret that is already running: 1 when this
 * request is now suspended as one of its waiters. */
static int
join_inflight(struct request *req, const char *client_id, const char *encoded,
    const char *secret)
{
	struct async_job *j;
	int joined = 0;

	pthread_mutex_lock(&inflight_lock);
	for (j = inflight; j != NULL; j = j->next_inflight) {
		if (strcmp(j->client_id, client_id) == 0 && strcmp(j->a, encoded) == 0 &&
		    strlen(j->b) == strlen(secret) && CRYPTO_memcmp(j->b, secret, strlen(secret)) == 0 &&
		    j->nwaiters < (int)(sizeof(j->waiters) / sizeof(j->waiters[0]))) {
			/* Suspended under the lock: done() cannot resume it before this. */
			MHD_suspend_connection(req->conn);
			j->waiters[j->nwaiters++] = req;
			joined = 1;
			break;
		}
	}
	pthread_mutex_unlock(&inflight_lock);
	return joined;
}

int
request_client_secret_verify(struct request *req, const char *client_id, const char *encoded,
    const char *secret, int *match)
{
	struct async_job *j = take_finished(req, JOB_VERIFY, encoded, secret);

	*match = 0;
	if (j != NULL) {
		*match = j->result == 1;
		job_free(j);
		return ASYNC_DONE;
	}
	if (join_inflight(req, client_id, encoded, secret))
		return ASYNC_PENDING;
	return start(req, req->app->hashpool, JOB_VERIFY, encoded, secret, NULL, client_id);
}

int
request_password_verify(struct request *req, const char *encoded, const char *secret,
    int *match)
{
	struct async_job *j = take_finished(req, JOB_VERIFY, encoded, secret);

	*match = 0;
	if (j == NULL)
		return start(req, req->app->hashpool, JOB_VERIFY, encoded, secret, NULL, NULL);
	*match = j->result == 1;
	job_free(j);
	return ASYNC_DONE;
}

int
request_new_secret(struct request *req, char **secret, char **encoded)
{
	struct async_job *j = req->async;
	char *fresh;
	int rc;

	*secret = *encoded = NULL;
	if (j != NULL && j->kind == JOB_HASH && req->async_finished) {
		req->async = NULL;
		req->async_finished = 0;
		if (j->result == 0) {
			*secret = j->b;
			*encoded = j->out;
			j->b = j->out = NULL;
		}
		job_free(j);
		return *encoded != NULL ? ASYNC_DONE : ASYNC_BUSY;
	}
	request_async_free(req);
	if ((fresh = secret_random_new(32)) == NULL)
		return ASYNC_BUSY;
	rc = start(req, req->app->hashpool, JOB_HASH, NULL, fresh, NULL, NULL);
	secret_free(fresh);
	return rc;
}

int
request_cimd_fetch(struct request *req, const char *url, json_t **doc, int64_t *max_age,
    char *err, size_t errlen)
{
	struct async_job *j = take_finished(req, JOB_FETCH, url, NULL);

	*doc = NULL;
	*max_age = 0;
	if (j == NULL)
		return start(req, req->app->fetchpool, JOB_FETCH, url, NULL, &req->app->cimd_policy, NULL);
	*doc = j->doc;
	*max_age = j->max_age;
	j->doc = NULL;
	snprintf(err, errlen, "%s", j->err);
	job_free(j);
	return ASYNC_DONE;
}

int
request_call_result(struct request *req, const char *key, void **done)
{
	struct async_job *j;

	*done = NULL;
	/* Another call's result stays for the step that asked for it: a request may make
	 * several calls in sequence (the keys of a client, then those of an assertion's
	 * issuer), each found again on the passes after it. */
	if (req->async == NULL || req->async->kind != JOB_CALL || !same(req->async->a, key))
		return 0;
	if ((j = take_finished(req, JOB_CALL, key, NULL)) == NULL)
		return 0;
	*done = j->call_arg;
	j->call_arg = NULL;
	job_free(j);
	return 1;
}

int
request_call_start(struct request *req, const char *key, async_call_fn fn, void *arg,
    void (*free_arg)(void *arg))
{
	return request_call_start_on(req, req->app->fetchpool, key, fn, arg, free_arg);
}

int
request_call_start_on(struct request *req, struct workpool *pool, const char *key,
    async_call_fn fn, void *arg, void (*free_arg)(void *arg))
{
	struct async_job *j;

	job_free(req->async); /* an unclaimed result of an earlier call */
	req->async = NULL;
	req->async_finished = 0;
	if ((j = job_new(req, JOB_CALL, key, NULL, NULL, NULL)) == NULL) {
		free_arg(arg);
		return ASYNC_BUSY;
	}
	j->call = fn;
	j->call_arg = arg;
	j->call_free = free_arg;
	return job_submit(req, pool, j);
}

const char *
request_call_key(const struct request *req)
{
	return req->async != NULL && req->async->kind == JOB_CALL ? req->async->a : NULL;
}

/* ---- the keys of other parties ---- */

struct jwks_call {
	char *uri;
	struct net_policy np;
	int refetch;
	json_t *jwks;            /* the result, or NULL with err */
	char err[256];
};

static void
jwks_call_free(void *arg)
{
	struct jwks_call *c = arg;

	free(c->uri);
	json_decref(c->jwks);
	free(c);
}

static void
jwks_call_run(void *arg)
{
	struct jwks_call *c = arg;

	if (upstream_jwks(c->uri, &c->np, c->refetch, &c->jwks, c->err, sizeof(c->err)) != 0)
		c->jwks = NULL;
}

int
request_jwks(struct request *req, const char *uri, const struct net_policy *np, int refetch,
    json_t **jwks, char *err, size_t errlen)
{
	struct jwks_call *c;
	void *done;
	char key[2100];

	*jwks = NULL;
	if (strlen(uri) > sizeof(key) - 16) {
		snprintf(err, errlen, "the JWKS URL is too long");
		return ASYNC_DONE;
	}
	snprintf(key, sizeof(key), "jwks %d %s", refetch, uri);
	if (request_call_result(req, key, &done)) {
		c = done;
		*jwks = c->jwks;
		c->jwks = NULL;
		snprintf(err, errlen, "%s", c->err);
		jwks_call_free(c);
		return ASYNC_DONE;
	}
	if (upstream_jwks_cached(uri, refetch, jwks, err, errlen))
		return ASYNC_DONE;
	if ((c = calloc(1, sizeof(*c))) == NULL || (c->uri = strdup(uri)) == NULL) {
		free(c);
		return ASYNC_BUSY;
	}
	c->np = *np;
	c->refetch = refetch;
	return request_call_start(req, key, jwks_call_run, c, jwks_call_free);
}

/* Does a key of jwks fit the header of token (kid and alg)? A token that does not even
 * parse "fits": the checks that follow refuse it with the right reason. */
static int
jwks_has_key_for(const json_t *jwks, const char *token)
{
	struct jws jws;
	EVP_PKEY *key = NULL;
	int fits = 1;

	memset(&jws, 0, sizeof(jws));
	if (strlen(token) <= JWS_MAX_LEN && jws_parse(token, strlen(token), &jws) == 0) {
		fits = jwks_pick(jwks, jws.kid, jws.alg, &key) != JWKS_NO_MATCH;
		EVP_PKEY_free(key);
	}
	jws_clear(&jws);
	return fits;
}

int
request_jwks_for(struct request *req, const char *inline_jwks, const char *uri,
    const struct net_policy *np, const char *token, json_t **jwks, char *err, size_t errlen)
{
	int rc;

	*jwks = NULL;
	if (inline_jwks != NULL) {
		if ((*jwks = json_loads(inline_jwks, JSON_REJECT_DUPLICATES, NULL)) == NULL)
			snprintf(err, errlen, "the registered JWKS is not JSON");
		return ASYNC_DONE;
	}
	if (uri == NULL) {
		snprintf(err, errlen, "no JWKS is registered");
		return ASYNC_DONE;
	}
	if ((rc = request_jwks(req, uri, np, 0, jwks, err, errlen)) != ASYNC_DONE || *jwks == NULL)
		return rc;
	if (jwks_has_key_for(*jwks, token))
		return ASYNC_DONE;
	/* An unknown kid: the party rotated its keys, or the token is forged. Fetch again,
	 * at most once a cool-down (upstream_jwks). */
	json_decref(*jwks);
	return request_jwks(req, uri, np, 1, jwks, err, errlen);
}
