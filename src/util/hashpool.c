/* Worker threads for argon2: a mutex-protected FIFO and a condition variable. */
#include "config.h"

#include "util/hashpool.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/password.h"

#define MAX_WORKERS 64

struct hashpool {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct hash_job *head, *tail;
	unsigned int pending, max_pending;
	int stopping;
	int joined;
	unsigned int nthreads;
	pthread_t threads[MAX_WORKERS];
};

static void *
worker(void *arg)
{
	struct hashpool *p = arg;
	struct hash_job *job;

	for (;;) {
		pthread_mutex_lock(&p->lock);
		while (p->head == NULL && !p->stopping)
			pthread_cond_wait(&p->wake, &p->lock);
		if (p->head == NULL) {
			pthread_mutex_unlock(&p->lock);
			return NULL;
		}
		job = p->head;
		p->head = job->next;
		if (p->head == NULL)
			p->tail = NULL;
		p->pending--;
		pthread_mutex_unlock(&p->lock);
		job->next = NULL;
		job->result = password_verify(job->encoded, job->secret, job->secret_len);
		job->done(job);
	}
}

int
hashpool_start(unsigned int nthreads, unsigned int max_pending, struct hashpool **out)
{
	struct hashpool *p;
	unsigned int i;

	*out = NULL;
	if (nthreads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		nthreads = n > 0 ? (unsigned int)n : 1;
	}
	if (nthreads > MAX_WORKERS)
		nthreads = MAX_WORKERS;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -1;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	p->max_pending = max_pending;
	for (i = 0; i < nthreads; i++) {
		if (pthread_create(&p->threads[i], NULL, worker, p) != 0)
			break;
		p->nthreads++;
	}
	if (p->nthreads == 0) {
		hashpool_free(p);
		return -1;
	}
	*out = p;
	return 0;
}

int
hashpool_submit(struct hashpool *p, struct hash_job *job)
{
	int rc = -1;

	if (p == NULL)
		return -1;
	pthread_mutex_lock(&p->lock);
	if (!p->stopping && p->pending < p->max_pending) {
		job->next = NULL;
		if (p->tail != NULL)
			p->tail->next = job;
		else
			p->head = job;
		p->tail = job;
		p->pending++;
		pthread_cond_signal(&p->wake);
		rc = 0;
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

void
hashpool_stop(struct hashpool *p)
{
	unsigned int i;

	if (p == NULL)
		return;
	int join;

	pthread_mutex_lock(&p->lock);
	p->stopping = 1;
	pthread_cond_broadcast(&p->wake);
	/* Whoever stops first joins; a second stop has nothing left to do. */
	join = !p->joined;
	p->joined = 1;
	pthread_mutex_unlock(&p->lock);
	if (!join)
		return;
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
}

void
hashpool_free(struct hashpool *p)
{
	if (p == NULL)
		return;
	hashpool_stop(p);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
