/* Fixed-window rate limits in a fixed table: bounded memory whatever the traffic. */
#include "config.h"

#include "util/ratelimit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct bucket {
	int64_t window_start;
	unsigned int count;
};

struct ratelimit {
	pthread_mutex_t lock;
	unsigned int nslots;
	int64_t window;
	struct bucket *slots;
};

static uint64_t
fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

int
ratelimit_new(unsigned int slots, int64_t window_secs, struct ratelimit **out)
{
	struct ratelimit *r;

	*out = NULL;
	if (slots == 0 || window_secs <= 0 || (r = calloc(1, sizeof(*r))) == NULL)
		return -1;
	if ((r->slots = calloc(slots, sizeof(*r->slots))) == NULL) {
		free(r);
		return -1;
	}
	r->nslots = slots;
	r->window = window_secs;
	pthread_mutex_init(&r->lock, NULL);
	*out = r;
	return 0;
}

void
ratelimit_free(struct ratelimit *r)
{
	if (r == NULL)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r->slots);
	free(r);
}

int
ratelimit_take(struct ratelimit *r, const char *key, unsigned int limit, int64_t now,
    int64_t *retry_after)
{
	uint64_t h = fnv1a(key);
	struct bucket *b;
	int ok;

	if (retry_after != NULL)
		*retry_after = 0;
	if (limit == 0)
		return 1;
	pthread_mutex_lock(&r->lock);
	b = &r->slots[h % r->nslots];
	if (now - b->window_start >= r->window) {
		b->window_start = now - now % r->window;
		b->count = 0;
	}
	ok = b->count < limit;
	if (ok)
		b->count++;
	else if (retry_after != NULL)
		*retry_after = b->window_start + r->window - now;
	pthread_mutex_unlock(&r->lock);
	return ok;
}
