/* The registry cache's insides, shared by cache.c (loading and keeping up with the change
 * log), cache_tables.c (its tables) and cache_reads.c (the reads it answers). */
#ifndef MCP_STORE_CACHE_PRIVATE_H
#define MCP_STORE_CACHE_PRIVATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* ---- a small string-keyed hash table (cache_tables.c) ---- */

struct entry {
	struct entry *next;
	char *key;
	int64_t num;                  /* jtis: expiry; resources: index */
	struct store_client *client;  /* clients: the cached row */
};

struct map {
	struct entry **slots;
	size_t nslots;
	size_t n;
};

/* An empty table of nslots slots: 0, or -1 out of memory. */
int cache_map_init(struct map *m, size_t nslots);

/* Free one entry, unlinked by the caller. */
void cache_entry_free(struct entry *e);

/* Empty m, keeping its slots. */
void cache_map_clear(struct map *m);

/* Empty m and free its slots. */
void cache_map_free(struct map *m);

/* The entry for key, or NULL. */
struct entry *cache_map_get(const struct map *m, const char *key);

/* Insert or replace key; takes client (freed on failure). 0, or -1 out of memory. */
int cache_map_put(struct map *m, const char *key, int64_t num, struct store_client *client);

/* Remove key when present. */
void cache_map_del(struct map *m, const char *key);

/* ---- the registry: resources, exchange edges, client_credentials grants ---- */

struct pair {
	int64_t a, b;
	char *text;             /* edges: scopes, NULL for every scope of the target */
};

struct registry {
	struct store_resource *res;
	size_t nres, capres;
	struct map by_key;      /* uri_key -> index into res */
	struct pair *by_id;     /* (id, index into res), sorted by id */
	struct pair *edges;     /* sorted by (from, to) */
	size_t nedges, capedges;
	struct pair *grants;    /* (client, resource), sorted */
	size_t ngrants, capgrants;
};

/* Free r and all it holds; accepts NULL. */
void cache_registry_free(struct registry *r);

/* Read the whole registry through st into a new *out. */
int cache_registry_load(struct store *st, struct registry **out);

/* The pair (a, b) among the n of v (sorted by a, then b), or NULL. */
const struct pair *cache_pair_find(const struct pair *v, size_t n, int64_t a, int64_t b);

/* The resource of r with id, or with uri_key (NULL: none); NULL when there is none. */
const struct store_resource *cache_registry_by_id(const struct registry *r, int64_t id);
const struct store_resource *cache_registry_by_key(const struct registry *r, const char *uri_key);

/* ---- the cache (cache.c) ---- */

struct store_cache {
	pthread_rwlock_t rw;        /* guards reg, clients, jtis, epoch */
	struct registry *reg;
	struct map clients;
	struct map jtis;            /* revoked jti -> expiry */
	int64_t epoch;              /* bumped by every change applied */

	pthread_mutex_t apply;      /* one catch-up at a time, in log order */
	int64_t applied_seq;        /* guarded by apply */
	atomic_int unavailable;
	atomic_llong hits, misses, reloads, seq_seen, njtis;

	char *location;
	struct store_options opt;   /* for the poller's own connection (no cache) */
	int poll_ms;
	pthread_t thread;
	int thread_started;
	pthread_mutex_t stop_mu;
	pthread_cond_t stop_cv;
	int stopping;
	struct store *first;        /* the connection start() loaded through, for the poller */
};

#endif
