/* A small pool of threads that run argon2 away from the event threads (DESIGN.md §8).
 * At most one worker per core, which also caps the memory argon2 takes. */
#ifndef MCP_UTIL_HASHPOOL_H
#define MCP_UTIL_HASHPOOL_H

#include <stddef.h>

struct hashpool;

/* One verification. The submitter fills encoded, secret and done; the worker sets
 * result (1 match, 0 mismatch, -1 error) and then calls done(job) exactly once,
 * after which it never touches the job again (done may free it). */
struct hash_job {
	char *encoded;
	char *secret;
	size_t secret_len;
	int result;
	void (*done)(struct hash_job *job);
	void *arg;
	struct hash_job *next;    /* queue link, pool-owned while queued */
};

/* Start nthreads workers (0: one per core); at most max_pending jobs may wait. */
int hashpool_start(unsigned int nthreads, unsigned int max_pending, struct hashpool **out);

/* Queue a job; -1 when the queue is full or the pool is stopping (the job is not
 * taken and done is not called). */
int hashpool_submit(struct hashpool *p, struct hash_job *job);

/* Finish every queued job and join the workers; later submits fail. Accepts NULL. */
void hashpool_stop(struct hashpool *p);

/* Free a stopped pool (stopping it first if needed); accepts NULL. */
void hashpool_free(struct hashpool *p);

#endif
