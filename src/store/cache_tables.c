/* The registry cache's tables: a string-keyed hash table, and the registry snapshot. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "store/backend.h"
#include "store/cache.h"
#include "store/cache_private.h"

/* ---- a small string-keyed hash table ---- */

static size_t
hash_str(const char *s)
{
	size_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

int
cache_map_init(struct map *m, size_t nslots)
{
	m->n = 0;
	m->nslots = nslots;
	m->slots = calloc(nslots, sizeof(*m->slots));
	return m->slots != NULL ? 0 : -1;
}

void
cache_entry_free(struct entry *e)
{
	if (e->client != NULL) {
		store_client_clear(e->client);
		free(e->client);
	}
	free(e->key);
	free(e);
}

void
cache_map_clear(struct map *m)
{
	size_t i;

	for (i = 0; m->slots != NULL && i < m->nslots; i++) {
		while (m->slots[i] != NULL) {
			struct entry *e = m->slots[i];

			m->slots[i] = e->next;
			cache_entry_free(e);
		}
	}
	m->n = 0;
}

void
cache_map_free(struct map *m)
{
	cache_map_clear(m);
	free(m->slots);
	m->slots = NULL;
	m->nslots = 0;
}

struct entry *
cache_map_get(const struct map *m, const char *key)
{
	struct entry *e;

	if (m->slots == NULL)
		return NULL;
	for (e = m->slots[hash_str(key) % m->nslots]; e != NULL; e = e->next) {
		if (strcmp(e->key, key) == 0)
			return e;
	}
	return NULL;
}

static void
map_grow(struct map *m)
{
	struct entry **slots;
	size_t i, n = m->nslots * 4;

	if ((slots = calloc(n, sizeof(*slots))) == NULL)
		return; /* stay slower, still correct */
	for (i = 0; i < m->nslots; i++) {
		while (m->slots[i] != NULL) {
			struct entry *e = m->slots[i];
			size_t h = hash_str(e->key) % n;

			m->slots[i] = e->next;
			e->next = slots[h];
			slots[h] = e;
		}
	}
	free(m->slots);
	m->slots = slots;
	m->nslots = n;
}

int
cache_map_put(struct map *m, const char *key, int64_t num, struct store_client *client)
{
	struct entry *e = cache_map_get(m, key);
	size_t h;

	if (e != NULL) {
		if (e->client != NULL) {
			store_client_clear(e->client);
			free(e->client);
		}
		e->num = num;
		e->client = client;
		return 0;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL || (e->key = strdup(key)) == NULL) {
		free(e);
		if (client != NULL) {
			store_client_clear(client);
			free(client);
		}
		return -1;
	}
	e->num = num;
	e->client = client;
	h = hash_str(key) % m->nslots;
	e->next = m->slots[h];
	m->slots[h] = e;
	if (++m->n > 2 * m->nslots)
		map_grow(m);
	return 0;
}

void
cache_map_del(struct map *m, const char *key)
{
	struct entry **p;

	if (m->slots == NULL)
		return;
	for (p = &m->slots[hash_str(key) % m->nslots]; *p != NULL; p = &(*p)->next) {
		if (strcmp((*p)->key, key) == 0) {
			struct entry *e = *p;

			*p = e->next;
			cache_entry_free(e);
			m->n--;
			return;
		}
	}
}

/* ---- the registry: resources, exchange edges, client_credentials grants ---- */
/* ---- the registry: resources, exchange edges, client_credentials grants ---- */

void
cache_registry_free(struct registry *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nres; i++)
		store_resource_clear(&r->res[i]);
	for (i = 0; i < r->nedges; i++)
		free(r->edges[i].text);
	free(r->res);
	free(r->by_id);
	free(r->edges);
	free(r->grants);
	cache_map_free(&r->by_key);
	free(r);
}

static int
add_resource(const struct store_resource *row, void *arg)
{
	struct registry *r = arg;

	if (r->nres == r->capres) {
		size_t cap = r->capres ? r->capres * 2 : 16;
		struct store_resource *grown = realloc(r->res, cap * sizeof(*grown));

		if (grown == NULL)
			return STORE_ERROR;
		r->res = grown;
		r->capres = cap;
	}
	if (store_resource_copy(&r->res[r->nres], row) != STORE_OK)
		return STORE_ERROR;
	r->nres++;
	return STORE_OK;
}

static int
add_pair(struct pair **v, size_t *n, size_t *cap, int64_t a, int64_t b, const char *text)
{
	struct pair *p;

	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		struct pair *grown = realloc(*v, c * sizeof(*grown));

		if (grown == NULL)
			return STORE_ERROR;
		*v = grown;
		*cap = c;
	}
	p = &(*v)[*n];
	p->a = a;
	p->b = b;
	p->text = NULL;
	if (text != NULL && (p->text = strdup(text)) == NULL)
		return STORE_ERROR;
	(*n)++;
	return STORE_OK;
}

static int
add_edge(int64_t from, int64_t to, const char *scopes, void *arg)
{
	struct registry *r = arg;

	return add_pair(&r->edges, &r->nedges, &r->capedges, from, to, scopes);
}

static int
add_grant(int64_t client, int64_t resource, const char *unused, void *arg)
{
	struct registry *r = arg;

	return add_pair(&r->grants, &r->ngrants, &r->capgrants, client, resource, NULL);
}

static int
pair_cmp(const void *x, const void *y)
{
	const struct pair *p = x, *q = y;

	if (p->a != q->a)
		return p->a < q->a ? -1 : 1;
	return p->b < q->b ? -1 : p->b > q->b;
}

int
cache_registry_load(struct store *st, struct registry **out)
{
	struct registry *r;
	size_t i;
	int rc = STORE_ERROR;

	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return STORE_ERROR;
	if ((rc = st->be->resource_list(st, add_resource, r)) != STORE_OK ||
	    (rc = st->be->edge_each(st, add_edge, r)) != STORE_OK ||
	    (rc = st->be->client_resource_each(st, add_grant, r)) != STORE_OK)
		goto fail;
	rc = STORE_ERROR;
	if (cache_map_init(&r->by_key, r->nres * 2 + 16) != 0 ||
	    (r->by_id = calloc(r->nres + 1, sizeof(struct pair))) == NULL)
		goto fail;
	for (i = 0; i < r->nres; i++) {
		if (cache_map_put(&r->by_key, r->res[i].uri_key, (int64_t)i, NULL) != 0)
			goto fail;
		r->by_id[i].a = r->res[i].id;
		r->by_id[i].b = (int64_t)i;
	}
	/* qsort wants a valid pointer even for nothing to sort. */
	if (r->nres > 0)
		qsort(r->by_id, r->nres, sizeof(struct pair), pair_cmp);
	if (r->nedges > 0)
		qsort(r->edges, r->nedges, sizeof(struct pair), pair_cmp);
	if (r->ngrants > 0)
		qsort(r->grants, r->ngrants, sizeof(struct pair), pair_cmp);
	*out = r;
	return STORE_OK;
fail:
	cache_registry_free(r);
	return rc;
}

const struct pair *
cache_pair_find(const struct pair *v, size_t n, int64_t a, int64_t b)
{
	struct pair key = {a, b, NULL};

	return n > 0 ? bsearch(&key, v, n, sizeof(*v), pair_cmp) : NULL;
}

/* by_id holds (id, index): search on the id alone. */
static int
id_cmp(const void *x, const void *y)
{
	int64_t a = ((const struct pair *)x)->a, b = ((const struct pair *)y)->a;

	return a < b ? -1 : a > b;
}

const struct store_resource *
cache_registry_by_id(const struct registry *r, int64_t id)
{
	struct pair key = {id, 0, NULL};
	const struct pair *p = r->nres > 0 ? bsearch(&key, r->by_id, r->nres, sizeof(key), id_cmp)
					   : NULL;

	return p != NULL ? &r->res[p->b] : NULL;
}

const struct store_resource *
cache_registry_by_key(const struct registry *r, const char *uri_key)
{
	const struct entry *e = uri_key ? cache_map_get(&r->by_key, uri_key) : NULL;

	return e != NULL ? &r->res[e->num] : NULL;
}
