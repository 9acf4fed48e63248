/* The reads the registry cache answers: clients, resources, exchange edges, grants, jtis. */
#include "config.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "store/backend.h"
#include "store/cache.h"
#include "store/cache_private.h"

/* Clients are cached as they are asked for (dynamic registration can make many); past
 * this many the table starts again empty rather than growing without bound. */
#define CLIENTS_MAX 16384

/* The cache st may read: none when the transaction in progress changed the registry
 * (its own writes are not in the cache until they commit) or before the first load. */
static struct store_cache *
usable(struct store *st)
{
	struct store_cache *c = st->cache;

	if (c == NULL || st->registry_dirty)
		return NULL;
	return c;
}

static int
client_lookup(struct store *st, const char *client_id, struct store_client *out, int with_uris)
{
	struct store_cache *c = usable(st);
	struct store_client *copy;
	const struct entry *e;
	int64_t epoch;
	int rc;

	memset(out, 0, sizeof(*out));
	if (c == NULL || client_id == NULL)
		return with_uris ? st->be->client_get(st, client_id, out)
				 : st->be->client_get_lite(st, client_id, out);
	pthread_rwlock_rdlock(&c->rw);
	if ((e = cache_map_get(&c->clients, client_id)) != NULL) {
		rc = store_client_copy(out, e->client, with_uris);
		pthread_rwlock_unlock(&c->rw);
		atomic_fetch_add_explicit(&c->hits, 1, memory_order_relaxed);
		return rc;
	}
	epoch = c->epoch;
	pthread_rwlock_unlock(&c->rw);
	atomic_fetch_add_explicit(&c->misses, 1, memory_order_relaxed);
	if ((rc = st->be->client_get(st, client_id, out)) != STORE_OK)
		return rc;
	if ((copy = calloc(1, sizeof(*copy))) == NULL || store_client_copy(copy, out, 1) != STORE_OK) {
		free(copy);
		return STORE_OK; /* answered, just not cached */
	}
	pthread_rwlock_wrlock(&c->rw);
	/* Only when no change was applied since the read began: otherwise what we read
	 * may be older than a change already applied, and would stay. */
	if (c->epoch == epoch) {
		if (c->clients.n >= CLIENTS_MAX)
			cache_map_clear(&c->clients);
		cache_map_put(&c->clients, client_id, 0, copy);
		copy = NULL;
	}
	pthread_rwlock_unlock(&c->rw);
	if (copy != NULL) {
		store_client_clear(copy);
		free(copy);
	}
	return STORE_OK;
}

int
store_client_get(struct store *st, const char *client_id, struct store_client *out)
{
	return client_lookup(st, client_id, out, 1);
}

int
store_client_get_lite(struct store *st, const char *client_id, struct store_client *out)
{
	return client_lookup(st, client_id, out, 0);
}

/* Copy a resource found in the registry under the read lock. */
static int
resource_answer(struct store_cache *c, const struct store_resource *r, struct store_resource *out)
{
	int rc = r != NULL ? store_resource_copy(out, r) : STORE_NOTFOUND;

	atomic_fetch_add_explicit(&c->hits, 1, memory_order_relaxed);
	return rc;
}

int
store_resource_get_by_key(struct store *st, const char *uri_key, struct store_resource *out)
{
	struct store_cache *c = usable(st);
	int rc;

	memset(out, 0, sizeof(*out));
	if (c == NULL)
		return st->be->resource_get_by_key(st, uri_key, out);
	pthread_rwlock_rdlock(&c->rw);
	rc = resource_answer(c, cache_registry_by_key(c->reg, uri_key), out);
	pthread_rwlock_unlock(&c->rw);
	return rc;
}

int
store_resource_get(struct store *st, int64_t id, struct store_resource *out)
{
	struct store_cache *c = usable(st);
	int rc;

	memset(out, 0, sizeof(*out));
	if (c == NULL)
		return st->be->resource_get(st, id, out);
	pthread_rwlock_rdlock(&c->rw);
	rc = resource_answer(c, cache_registry_by_id(c->reg, id), out);
	pthread_rwlock_unlock(&c->rw);
	return rc;
}

int
store_resource_for_client(struct store *st, const char *uri_key, int64_t client,
    struct store_resource *out, int *allowed)
{
	struct store_cache *c = usable(st);
	const struct store_resource *r;
	int rc;

	memset(out, 0, sizeof(*out));
	*allowed = 0;
	if (c == NULL)
		return st->be->resource_for_client(st, uri_key, client, out, allowed);
	pthread_rwlock_rdlock(&c->rw);
	r = cache_registry_by_key(c->reg, uri_key);
	if (r != NULL)
		*allowed = cache_pair_find(c->reg->grants, c->reg->ngrants, client, r->id) != NULL;
	rc = resource_answer(c, r, out);
	pthread_rwlock_unlock(&c->rw);
	return rc;
}

int
store_edge_get(struct store *st, int64_t from_id, int64_t to_id, char **scopes)
{
	struct store_cache *c = usable(st);
	const struct pair *p;
	int rc = STORE_OK;

	*scopes = NULL;
	if (c == NULL)
		return st->be->edge_get(st, from_id, to_id, scopes);
	pthread_rwlock_rdlock(&c->rw);
	p = cache_pair_find(c->reg->edges, c->reg->nedges, from_id, to_id);
	if (p == NULL)
		rc = STORE_NOTFOUND;
	else if (p->text != NULL && (*scopes = strdup(p->text)) == NULL)
		rc = STORE_ERROR;
	pthread_rwlock_unlock(&c->rw);
	atomic_fetch_add_explicit(&c->hits, 1, memory_order_relaxed);
	return rc;
}

int
store_client_resource_allowed(struct store *st, int64_t client, int64_t resource)
{
	struct store_cache *c = usable(st);
	int found;

	if (c == NULL)
		return st->be->client_resource_allowed(st, client, resource);
	pthread_rwlock_rdlock(&c->rw);
	found = cache_pair_find(c->reg->grants, c->reg->ngrants, client, resource) != NULL;
	pthread_rwlock_unlock(&c->rw);
	atomic_fetch_add_explicit(&c->hits, 1, memory_order_relaxed);
	return found ? STORE_OK : STORE_NOTFOUND;
}

int
store_jti_revoked(struct store *st, const char *jti)
{
	struct store_cache *c = usable(st);
	int found;

	if (jti == NULL)
		return STORE_NOTFOUND;
	if (c == NULL)
		return st->be->jti_revoked(st, jti);
	pthread_rwlock_rdlock(&c->rw);
	found = cache_map_get(&c->jtis, jti) != NULL;
	pthread_rwlock_unlock(&c->rw);
	atomic_fetch_add_explicit(&c->hits, 1, memory_order_relaxed);
	return found ? STORE_OK : STORE_NOTFOUND;
}
