/* The worker pool (src/util/workpool.h) running argon2 jobs: results, back-pressure, stop. */
#include "config.h"

#include "util/workpool.h"
#include "util/password.h"

#include "tap.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* argon2 takes ~50 ms a job, far longer under valgrind: wait generously, never forever. */
#define WAIT_SECONDS 300

static char right_secret[] = "correct horse battery staple";
static char wrong_secret[] = "correct horse battery stapler";
static char malformed[] = "$argon2id$v=19$m=19456,t=2,p=1$not-base64!$nope";

/* Every done() call is counted here, under the lock, and announced on the condition. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int done_total;

struct tjob {
	struct work_job job;
	char *encoded;
	char *secret;
	int job_result; /* set by run() */
	int calls;      /* done() calls for this job */
	int result;     /* job_result as seen inside done() */
};

static void
on_run(struct work_job *job)
{
	struct tjob *t = job->arg;

	t->job_result = password_verify(t->encoded, t->secret, strlen(t->secret));
}

static void
on_done(struct work_job *job)
{
	struct tjob *t = job->arg;

	pthread_mutex_lock(&lock);
	t->calls++;
	t->result = t->job_result;
	done_total++;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

static void
job_init(struct tjob *t, char *encoded, char *secret)
{
	memset(t, 0, sizeof(*t));
	t->encoded = encoded;
	t->secret = secret;
	t->job_result = 99;
	t->job.run = on_run;
	t->job.done = on_done;
	t->job.arg = t;
	t->result = 99;
}

/* Wait until done_total reaches n; returns 0, or -1 on timeout. */
static int
wait_done(int n)
{
	struct timespec until;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += WAIT_SECONDS;
	pthread_mutex_lock(&lock);
	while (done_total < n && rc == 0)
		if (pthread_cond_timedwait(&cond, &lock, &until) == ETIMEDOUT)
			rc = -1;
	if (done_total < n)
		rc = -1;
	pthread_mutex_unlock(&lock);
	return rc;
}

static void
reset_done(void)
{
	pthread_mutex_lock(&lock);
	done_total = 0;
	pthread_mutex_unlock(&lock);
}

static int
calls_of(struct tjob *t)
{
	int n;

	pthread_mutex_lock(&lock);
	n = t->calls;
	pthread_mutex_unlock(&lock);
	return n;
}

static void
test_results(char *hash)
{
	struct workpool *p = (struct workpool *)&p; /* must be cleared on failure too */
	struct tjob j[3];
	int i;

	is_int(workpool_start(2, 16, &p), 0, "start 2 workers");
	ok(p != NULL, "pool handed out");
	reset_done();
	job_init(&j[0], hash, right_secret);
	job_init(&j[1], hash, wrong_secret);
	job_init(&j[2], malformed, right_secret);
	for (i = 0; i < 3; i++)
		is_int(workpool_submit(p, &j[i].job), 0, "submit job %d", i);
	is_int(wait_done(3), 0, "three done() calls arrive");
	is_int(j[0].result, 1, "right secret: 1");
	is_int(j[1].result, 0, "wrong secret: 0");
	is_int(j[2].result, -1, "malformed hash: -1");
	ok(j[0].job_result == 1 && j[1].job_result == 0 && j[2].job_result == -1,
	    "job.result set before done()");
	workpool_stop(p);
	for (i = 0; i < 3; i++)
		is_int(j[i].calls, 1, "job %d: done called exactly once", i);
	workpool_stop(p);
	ok(1, "stop twice is harmless");
	workpool_free(p);
}

static void
test_full_queue(char *hash)
{
	struct workpool *p = NULL;
	struct tjob j[3];
	int rc[3], i, accepted = 0;

	is_int(workpool_start(1, 1, &p), 0, "start 1 worker, max_pending 1");
	reset_done();
	for (i = 0; i < 3; i++)
		job_init(&j[i], hash, right_secret);
	/* One job runs (~50 ms) and one may wait: the third has no room either way. */
	for (i = 0; i < 3; i++)
		rc[i] = workpool_submit(p, &j[i].job);
	is_int(rc[0], 0, "first submit accepted");
	is_int(rc[2], -1, "third submit refused: the queue is full");
	tap_diag("second submit: %d (0 when the worker had taken the first)", rc[1]);
	for (i = 0; i < 3; i++)
		accepted += rc[i] == 0;
	is_int(wait_done(accepted), 0, "every accepted job done");
	workpool_stop(p);
	for (i = 0; i < 3; i++) {
		if (rc[i] == 0) {
			is_int(j[i].calls, 1, "accepted job %d: done once", i);
			is_int(j[i].result, 1, "accepted job %d: right result", i);
		} else {
			is_int(j[i].calls, 0, "refused job %d: done never called", i);
			is_int(j[i].job_result, 99, "refused job %d: untouched", i);
		}
	}
	workpool_free(p);

	is_int(workpool_start(1, 0, &p), 0, "start with max_pending 0");
	job_init(&j[0], hash, right_secret);
	is_int(workpool_submit(p, &j[0].job), -1, "max_pending 0: every submit refused");
	workpool_free(p);
	is_int(j[0].calls, 0, "refused job never done");
}

static void
test_stop(char *hash)
{
	struct workpool *p = NULL;
	struct tjob j[5], late;
	int i, once = 1, right = 1;

	is_int(workpool_start(1, 8, &p), 0, "start 1 worker, max_pending 8");
	reset_done();
	for (i = 0; i < 5; i++) {
		job_init(&j[i], i % 2 ? malformed : hash, i % 3 ? wrong_secret : right_secret);
		is_int(workpool_submit(p, &j[i].job), 0, "queue job %d", i);
	}
	/* Stop at once: the jobs still queued must run, not vanish. */
	workpool_stop(p);
	for (i = 0; i < 5; i++) {
		int want = i % 2 ? -1 : i % 3 ? 0 : 1;

		once &= calls_of(&j[i]) == 1;
		right &= j[i].result == want;
		if (calls_of(&j[i]) != 1 || j[i].result != want)
			tap_diag("job %d: %d calls, result %d, want %d", i, j[i].calls, j[i].result,
			    want);
	}
	ok(once, "stop ran every queued job's done exactly once");
	ok(right, "and each with the right result");
	is_int(done_total, 5, "five done() calls in all");

	job_init(&late, hash, right_secret);
	is_int(workpool_submit(p, &late.job), -1, "submit after stop refused");
	workpool_free(p);
	is_int(late.calls, 0, "refused job never done");
	is_int(late.job_result, 99, "refused job untouched");

	/* free without stop: it stops first, which finishes the queue. */
	is_int(workpool_start(2, 8, &p), 0, "start 2 workers");
	reset_done();
	for (i = 0; i < 4; i++) {
		job_init(&j[i], hash, i % 2 ? wrong_secret : right_secret);
		is_int(workpool_submit(p, &j[i].job), 0, "queue job %d", i);
	}
	workpool_free(p);
	once = 1;
	right = 1;
	for (i = 0; i < 4; i++) {
		once &= j[i].calls == 1;
		right &= j[i].result == (i % 2 ? 0 : 1);
	}
	ok(once, "free ran every queued job's done exactly once");
	ok(right, "and each with the right result");
}

static void
test_misc(void)
{
	struct workpool *p = NULL;

	is_int(workpool_start(0, 4, &p), 0, "start 0: one worker per core");
	workpool_stop(p);
	workpool_free(p);
	workpool_stop(NULL);
	workpool_free(NULL);
	ok(1, "stop(NULL) and free(NULL)");
}

int
main(void)
{
	char *hash = NULL;

	if (password_hash_new(right_secret, strlen(right_secret), &hash) != 0) {
		printf("Bail out! password_hash_new failed\n");
		return 1;
	}
	test_results(hash);
	test_full_queue(hash);
	test_stop(hash);
	test_misc();
	free(hash);
	return tap_done();
}
