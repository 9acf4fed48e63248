/* Unit tests for the verified-secret cache (src/oauth/secret_cache.h), including threads. */
#include "config.h"

#include "oauth/secret_cache.h"

#include "tap.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define HASH_A "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA"
#define HASH_B "$argon2id$v=19$m=19456,t=2,p=1$b3RoZXJzYWx0c2FsdA$bmV3aGFzaG5ld2hhc2huZXc"

/* 50k put/check rounds in all per run: enough to interleave, and under a minute in valgrind. */
#define NTHREADS 4
#define ITERATIONS (50000 / NTHREADS)

static void
test_basics(void)
{
	struct secret_cache *c = (struct secret_cache *)&c; /* must be cleared on failure */

	is_int(secret_cache_new(0, &c), -1, "zero slots refused");
	ok(c == NULL, "*out cleared on failure");
	is_int(secret_cache_new(64, &c), 0, "new");
	ok(c != NULL, "cache handed out");

	is_int(secret_cache_check(c, "app", HASH_A, "s3cret"), 0, "miss before put");
	secret_cache_put(c, "app", HASH_A, "s3cret");
	is_int(secret_cache_check(c, "app", HASH_A, "s3cret"), 1, "hit after put");
	is_int(secret_cache_check(c, "app", HASH_A, "s3cret"), 1, "still a hit");
	is_int(secret_cache_check(c, "app", HASH_A, "s3creT"), 0, "miss for another secret");
	is_int(secret_cache_check(c, "app", HASH_A, "s3cre"), 0, "miss for a prefix of it");
	is_int(secret_cache_check(c, "app", HASH_A, "s3cretx"), 0, "miss for an extension of it");
	is_int(secret_cache_check(c, "app", HASH_A, ""), 0, "miss for an empty secret");
	is_int(secret_cache_check(c, "app", HASH_B, "s3cret"), 0,
	    "miss when the stored hash changed");
	is_int(secret_cache_check(c, "app2", HASH_A, "s3cret"), 0, "miss for another client_id");
	is_int(secret_cache_check(c, "ap", HASH_A, "ps3cret"), 0,
	    "miss when client_id and secret split differently");
	is_int(secret_cache_check(c, "App", HASH_A, "s3cret"), 0, "client_id is case-sensitive");

	/* A new secret for the client: the old one stops hitting, the new one hits. */
	secret_cache_put(c, "app", HASH_B, "n3w");
	is_int(secret_cache_check(c, "app", HASH_B, "n3w"), 1, "hit for the new secret");
	is_int(secret_cache_check(c, "app", HASH_A, "s3cret"), 0, "old secret and hash: miss");
	is_int(secret_cache_check(c, "app", HASH_B, "s3cret"), 0, "old secret, new hash: miss");
	is_int(secret_cache_check(c, "app", HASH_A, "n3w"), 0, "new secret, old hash: miss");

	secret_cache_forget(c, "other");
	is_int(secret_cache_check(c, "app", HASH_B, "n3w"), 1,
	    "forgetting another client keeps this one");
	secret_cache_forget(c, "app");
	is_int(secret_cache_check(c, "app", HASH_B, "n3w"), 0, "miss after forget");
	secret_cache_forget(c, "app");
	is_int(secret_cache_check(c, "app", HASH_B, "n3w"), 0, "forget twice is harmless");
	secret_cache_put(c, "app", HASH_B, "n3w");
	is_int(secret_cache_check(c, "app", HASH_B, "n3w"), 1, "put again after forget");

	is_int(secret_cache_check(NULL, "app", HASH_B, "n3w"), 0, "NULL cache: miss");
	is_int(secret_cache_check(c, "app", NULL, "n3w"), 0, "NULL hash: miss");
	is_int(secret_cache_check(c, "app", HASH_B, NULL), 0, "NULL secret: miss");
	secret_cache_put(NULL, "app", HASH_B, "n3w");
	secret_cache_forget(NULL, "app");
	ok(1, "put and forget on a NULL cache do nothing");
	secret_cache_free(c);
	secret_cache_free(NULL);
	ok(1, "free, and free(NULL)");

	/* Two caches have different keys but the same answers. */
	{
		struct secret_cache *c1 = NULL, *c2 = NULL;

		ok(secret_cache_new(8, &c1) == 0 && secret_cache_new(8, &c2) == 0, "two caches");
		secret_cache_put(c1, "app", HASH_A, "s3cret");
		is_int(secret_cache_check(c2, "app", HASH_A, "s3cret"), 0,
		    "a put in one cache is not a hit in another");
		secret_cache_free(c1);
		secret_cache_free(c2);
	}
}

static void
test_one_slot(void)
{
	struct secret_cache *c = NULL;

	/* Direct-mapped: with one slot every client shares it; eviction may only cause misses. */
	is_int(secret_cache_new(1, &c), 0, "one-slot cache");
	secret_cache_put(c, "a", HASH_A, "sa");
	secret_cache_put(c, "b", HASH_A, "sb");
	is_int(secret_cache_check(c, "a", HASH_A, "sa"), 0, "evicted client: miss");
	is_int(secret_cache_check(c, "b", HASH_A, "sb"), 1, "latest client: hit");
	is_int(secret_cache_check(c, "a", HASH_A, "sb"), 0, "another client's secret: miss");
	secret_cache_forget(c, "a");
	is_int(secret_cache_check(c, "b", HASH_A, "sb"), 1,
	    "forgetting an evicted client keeps the one in the slot");
	secret_cache_free(c);
}

struct worker {
	struct secret_cache *c;
	char client_id[32];
	int exact;         /* the client owns its slot: every answer is known */
	long wrong;
	long hits;
};

static void *
work(void *arg)
{
	struct worker *w = arg;
	char secret[64], other[64];
	long i;

	for (i = 0; i < ITERATIONS; i++) {
		const char *hash = i % 3 == 0 ? HASH_B : HASH_A;
		const char *not_hash = i % 3 == 0 ? HASH_A : HASH_B;
		int right, r;

		snprintf(secret, sizeof(secret), "%s-secret-%ld", w->client_id, i % 7);
		snprintf(other, sizeof(other), "%s-secret-%ld", w->client_id, (i + 1) % 7);
		secret_cache_put(w->c, w->client_id, hash, secret);
		right = secret_cache_check(w->c, w->client_id, hash, secret);
		w->hits += right;
		if (w->exact ? right != 1 : right < 0 || right > 1)
			w->wrong++;
		/* Never a hit for something that was not the latest put for this client. */
		r = secret_cache_check(w->c, w->client_id, hash, other);
		r |= secret_cache_check(w->c, w->client_id, not_hash, secret);
		r |= secret_cache_check(w->c, "nobody", hash, secret);
		if (r != 0)
			w->wrong++;
		if (i % 1000 == 999) {
			secret_cache_forget(w->c, w->client_id);
			if (secret_cache_check(w->c, w->client_id, hash, secret) != 0)
				w->wrong++;
		}
	}
	return NULL;
}

static void
run_threads(struct secret_cache *c, struct worker *w, int exact, const char *what)
{
	pthread_t t[NTHREADS];
	long wrong = 0, hits = 0;
	int i, started = 0;

	for (i = 0; i < NTHREADS; i++) {
		w[i].c = c;
		w[i].exact = exact;
		w[i].wrong = 0;
		w[i].hits = 0;
		if (pthread_create(&t[i], NULL, work, &w[i]) == 0)
			started++;
	}
	is_int(started, NTHREADS, "%s: %d threads started", what, NTHREADS);
	for (i = 0; i < started; i++) {
		pthread_join(t[i], NULL);
		wrong += w[i].wrong;
		hits += w[i].hits;
	}
	is_int(wrong, 0, "%s: no wrong answers in %d threads x %d iterations", what, NTHREADS,
	    ITERATIONS);
	if (exact)
		is_int(hits, (long)NTHREADS * ITERATIONS, "%s: every own put then hits", what);
	else
		tap_diag("%s: %ld hits of %ld", what, hits, (long)NTHREADS * ITERATIONS);
}

static void
test_threads(void)
{
	struct secret_cache *c = NULL;
	struct worker w[NTHREADS];
	int i, n = 0, k;

	is_int(secret_cache_new(256, &c), 0, "cache for threads");
	/* The slot of a client depends on the cache's random key: pick client_ids that are
	 * seen to keep their own slot, so that every answer in the threads is known. */
	for (k = 0; n < NTHREADS && k < 1000; k++) {
		char id[32];
		int clash = 0;

		snprintf(id, sizeof(id), "client-%d", k);
		for (i = 0; i < n; i++)
			secret_cache_put(c, w[i].client_id, HASH_A, "probe");
		secret_cache_put(c, id, HASH_A, "probe");
		for (i = 0; i < n; i++)
			clash |= !secret_cache_check(c, w[i].client_id, HASH_A, "probe");
		if (!clash)
			snprintf(w[n++].client_id, sizeof(w[0].client_id), "%s", id);
		secret_cache_forget(c, id);
	}
	is_int(n, NTHREADS, "found %d client_ids with a slot each", NTHREADS);
	if (n == NTHREADS)
		run_threads(c, w, 1, "own slots");
	secret_cache_free(c);

	/* All threads on one slot: evictions give misses, but never a wrong hit. */
	is_int(secret_cache_new(1, &c), 0, "one-slot cache for threads");
	for (i = 0; i < NTHREADS; i++)
		snprintf(w[i].client_id, sizeof(w[i].client_id), "shared-%d", i);
	run_threads(c, w, 0, "one shared slot");
	secret_cache_free(c);
}

int
main(void)
{
	test_basics();
	test_one_slot();
	test_threads();
	return tap_done();
}
