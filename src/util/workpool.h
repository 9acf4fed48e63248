/* Small pools of worker threads for slow work that must not run on an event thread:
 * argon2 (at most one worker per core, which also caps argon2's memory) and outbound
 * fetches (DESIGN.md §8). */
#ifndef MCP_UTIL_WORKPOOL_H
#define MCP_UTIL_WORKPOOL_H

#include <stddef.h>

struct workpool;

/* One piece of work. The submitter fills run and done; a worker calls run(job), then
 * done(job) exactly once, after which it never touches the job again (done may free
 * it, or hand it to a thread that does). */
struct work_job {
	void (*run)(struct work_job *job);
	void (*done)(struct work_job *job);
	void *arg;
	struct work_job *next;    /* queue link, pool-owned while queued */
};

/* Start nthreads workers (0: one per core); at most max_pending jobs may wait. */
int workpool_start(unsigned int nthreads, unsigned int max_pending, struct workpool **out);

/* Queue a job; -1 when the pool is NULL, full or stopping (the job is not taken and
 * done is not called). */
int workpool_submit(struct workpool *p, struct work_job *job);

/* Finish every queued job and join the workers; later submits fail. Accepts NULL;
 * a second call does nothing. */
void workpool_stop(struct workpool *p);

/* Free a pool (stopping it first if needed); accepts NULL. */
void workpool_free(struct workpool *p);

#endif
