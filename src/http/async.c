/* Suspend, work on a pool, resume, run the endpoint again: the glue for slow work. */
#include "config.h"

#include "http/async.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "oauth/cimd.h"
#include "oauth/secret.h"
#include "util/password.h"
#include "util/workpool.h"

enum job_kind {
	JOB_VERIFY,
	JOB_HASH,
	JOB_FETCH,
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
	secret_free(j->b);
	free(j->out);
	json_decref(j->doc);
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
	}
}

static void
done(struct work_job *w)
{
	struct async_job *j = (struct async_job *)w;
	struct request *req = j->req;

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

static int
start(struct request *req, struct workpool *pool, enum job_kind kind, const char *a,
    const char *b, const struct cimd_policy *policy)
{
	struct async_job *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return ASYNC_BUSY;
	j->w.run = run;
	j->w.done = done;
	j->req = req;
	j->kind = kind;
	j->policy = policy;
	if ((a != NULL && (j->a = strdup(a)) == NULL) || (b != NULL && (j->b = strdup(b)) == NULL)) {
		job_free(j);
		return ASYNC_BUSY;
	}
	req->async = j;
	/* Suspend before queuing, so that the wake-up cannot come first. */
	MHD_suspend_connection(req->conn);
	if (workpool_submit(pool, &j->w) != 0) {
		MHD_resume_connection(req->conn);
		req->async = NULL;
		job_free(j);
		return ASYNC_BUSY;
	}
	return ASYNC_PENDING;
}

int
request_password_verify(struct request *req, const char *encoded, const char *secret,
    int *match)
{
	struct async_job *j = take_finished(req, JOB_VERIFY, encoded, secret);

	*match = 0;
	if (j == NULL)
		return start(req, req->app->hashpool, JOB_VERIFY, encoded, secret, NULL);
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
	rc = start(req, req->app->hashpool, JOB_HASH, NULL, fresh, NULL);
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
		return start(req, req->app->fetchpool, JOB_FETCH, url, NULL, &req->app->cimd_policy);
	*doc = j->doc;
	*max_age = j->max_age;
	j->doc = NULL;
	snprintf(err, errlen, "%s", j->err);
	job_free(j);
	return ASYNC_DONE;
}
