/* Worker threads: a mutex-protected FIFO and a condition variable. */
#include "config.h"

#include "util/workpool.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>


#define MAX_WORKERS 64

struct workpool {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct work_job *head, *tail;
	unsigned int pending, max_pending;
	int stopping;
	int joined;
	unsigned int nthreads;
	pthread_t threads[MAX_WORKERS];
};

static void *
worker(void *arg)
{
	struct workpool *p = arg;
	struct work_job *job;

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
		job->run(job);
		job->done(job);
	}
}

int
workpool_start(unsigned int nthreads, unsigned int max_pending, struct workpool **out)
{
	struct workpool *p;
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
		workpool_free(p);
		return -1;
	}
	*out = p;
	return 0;
}

int
workpool_submit(struct workpool *p, struct work_job *job)
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
workpool_stop(struct workpool *p)
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
workpool_free(struct workpool *p)
{
	if (p == NULL)
		return;
	workpool_stop(p);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
