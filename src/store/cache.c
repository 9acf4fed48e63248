/* The registry cache (DESIGN.md §10.2): clients, resources, exchange edges and revoked
 * jtis held per process, so that client_credentials and token exchange read nothing from
 * the database, and kept coherent with it through the change log that triggers write
 * (every change, whoever makes it, gets the next number of one dense sequence). */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/backend.h"
#include "store/cache.h"

/* Clients are cached as they are asked for (dynamic registration can make many); past
 * this many the table starts again empty rather than growing without bound. */
#define CLIENTS_MAX 16384
/* How often expired jtis leave the denylist (seconds). */
#define JTI_PRUNE_EVERY 30

/* ---- a small string-keyed hash table ---- */

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

static size_t
hash_str(const char *s)
{
	size_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static int
map_init(struct map *m, size_t nslots)
{
	m->n = 0;
	m->nslots = nslots;
	m->slots = calloc(nslots, sizeof(*m->slots));
	return m->slots != NULL ? 0 : -1;
}

static void
entry_free(struct entry *e)
{
	if (e->client != NULL) {
		store_client_clear(e->client);
		free(e->client);
	}
	free(e->key);
	free(e);
}

static void
map_clear(struct map *m)
{
	size_t i;

	for (i = 0; m->slots != NULL && i < m->nslots; i++) {
		while (m->slots[i] != NULL) {
			struct entry *e = m->slots[i];

			m->slots[i] = e->next;
			entry_free(e);
		}
	}
	m->n = 0;
}

static void
map_free(struct map *m)
{
	map_clear(m);
	free(m->slots);
	m->slots = NULL;
	m->nslots = 0;
}

static struct entry *
map_get(const struct map *m, const char *key)
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

/* Insert or replace key; takes client (freed on failure). */
static int
map_put(struct map *m, const char *key, int64_t num, struct store_client *client)
{
	struct entry *e = map_get(m, key);
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

static void
map_del(struct map *m, const char *key)
{
	struct entry **p;

	if (m->slots == NULL)
		return;
	for (p = &m->slots[hash_str(key) % m->nslots]; *p != NULL; p = &(*p)->next) {
		if (strcmp((*p)->key, key) == 0) {
			struct entry *e = *p;

			*p = e->next;
			entry_free(e);
			m->n--;
			return;
		}
	}
}

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

static void
registry_free(struct registry *r)
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
	map_free(&r->by_key);
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

/* Read the whole registry through st. */
static int
registry_load(struct store *st, struct registry **out)
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
	if (map_init(&r->by_key, r->nres * 2 + 16) != 0 ||
	    (r->by_id = calloc(r->nres + 1, sizeof(struct pair))) == NULL)
		goto fail;
	for (i = 0; i < r->nres; i++) {
		if (map_put(&r->by_key, r->res[i].uri_key, (int64_t)i, NULL) != 0)
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
	registry_free(r);
	return rc;
}

static const struct pair *
pair_find(const struct pair *v, size_t n, int64_t a, int64_t b)
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

static const struct store_resource *
registry_by_id(const struct registry *r, int64_t id)
{
	struct pair key = {id, 0, NULL};
	const struct pair *p = r->nres > 0 ? bsearch(&key, r->by_id, r->nres, sizeof(key), id_cmp)
					   : NULL;

	return p != NULL ? &r->res[p->b] : NULL;
}

static const struct store_resource *
registry_by_key(const struct registry *r, const char *uri_key)
{
	const struct entry *e = uri_key ? map_get(&r->by_key, uri_key) : NULL;

	return e != NULL ? &r->res[e->num] : NULL;
}

/* ---- the cache ---- */

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

struct change_list {
	struct store_change *v;
	size_t n, cap;
};

static void
change_list_free(struct change_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free((char *)(uintptr_t)l->v[i].key);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int
collect_change(const struct store_change *ch, void *arg)
{
	struct change_list *l = arg;
	struct store_change *c;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		struct store_change *grown = realloc(l->v, cap * sizeof(*grown));

		if (grown == NULL)
			return STORE_ERROR;
		l->v = grown;
		l->cap = cap;
	}
	c = &l->v[l->n];
	c->seq = ch->seq;
	c->expires_at = ch->expires_at;
	/* kind points to a constant so that the list owns only keys */
	c->kind = strcmp(ch->kind, "client") == 0 ? "client"
	    : strcmp(ch->kind, "jti") == 0       ? "jti"
						 : "registry";
	c->key = NULL;
	if (ch->key != NULL && (c->key = strdup(ch->key)) == NULL)
		return STORE_ERROR;
	l->n++;
	return STORE_OK;
}

static int
add_jti(const char *jti, int64_t expires_at, void *arg)
{
	return map_put(arg, jti, expires_at, NULL) == 0 ? STORE_OK : STORE_ERROR;
}

/* Everything again from the database; with the apply lock held. */
static int
full_reload(struct store_cache *c, struct store *st)
{
	struct registry *reg = NULL, *old_reg;
	struct map jtis, old_jtis;
	int64_t last = 0, oldest = 0;
	int rc;

	memset(&jtis, 0, sizeof(jtis));
	/* The position first: whatever changes while we read is applied again after. */
	if ((rc = st->be->changes_last(st, &last, &oldest)) != STORE_OK)
		return rc;
	if ((rc = registry_load(st, &reg)) != STORE_OK)
		return rc;
	if (map_init(&jtis, 1024) != 0) {
		registry_free(reg);
		return STORE_ERROR;
	}
	if ((rc = st->be->jti_each_live(st, (int64_t)time(NULL), add_jti, &jtis)) != STORE_OK) {
		registry_free(reg);
		map_free(&jtis);
		return rc;
	}
	pthread_rwlock_wrlock(&c->rw);
	old_reg = c->reg;
	old_jtis = c->jtis;
	c->reg = reg;
	c->jtis = jtis;
	map_clear(&c->clients);
	c->epoch++;
	pthread_rwlock_unlock(&c->rw);
	c->applied_seq = last;
	atomic_store(&c->seq_seen, last);
	atomic_store(&c->njtis, (long long)jtis.n);
	atomic_fetch_add(&c->reloads, 1);
	registry_free(old_reg);
	map_free(&old_jtis);
	return STORE_OK;
}

/* The changes after applied_seq; with the apply lock held. */
static int
apply_changes(struct store_cache *c, struct store *st)
{
	struct change_list l;
	struct registry *reg = NULL, *old_reg = NULL;
	size_t i;
	int rc, registry = 0;

	memset(&l, 0, sizeof(l));
	if ((rc = st->be->changes_since(st, c->applied_seq, collect_change, &l)) != STORE_OK)
		goto out;
	if (l.n == 0)
		goto out;
	/* The sequence is dense: a hole means rows were purged before we saw them. */
	if (l.v[0].seq != c->applied_seq + 1) {
		rc = full_reload(c, st);
		goto out;
	}
	for (i = 0; i < l.n; i++)
		registry |= strcmp(l.v[i].kind, "registry") == 0;
	if (registry && (rc = registry_load(st, &reg)) != STORE_OK)
		goto out;
	pthread_rwlock_wrlock(&c->rw);
	for (i = 0; i < l.n; i++) {
		const struct store_change *ch = &l.v[i];

		if (ch->key == NULL)
			continue;
		if (strcmp(ch->kind, "client") == 0)
			map_del(&c->clients, ch->key);
		else if (strcmp(ch->kind, "jti") == 0)
			map_put(&c->jtis, ch->key, ch->expires_at, NULL);
	}
	if (reg != NULL) {
		old_reg = c->reg;
		c->reg = reg;
		/* A client's acts_for_uri comes from its resource. */
		map_clear(&c->clients);
	}
	c->epoch++;
	atomic_store(&c->njtis, (long long)c->jtis.n);
	pthread_rwlock_unlock(&c->rw);
	c->applied_seq = l.v[l.n - 1].seq;
	atomic_store(&c->seq_seen, c->applied_seq);
	registry_free(old_reg);
out:
	change_list_free(&l);
	return rc;
}

void
store_cache_catch_up(struct store_cache *c, struct store *st)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->apply);
	apply_changes(c, st);
	pthread_mutex_unlock(&c->apply);
}

void
store_cache_note_unavailable(struct store_cache *c)
{
	if (c != NULL)
		atomic_store(&c->unavailable, 1);
}

int
store_cache_healthy(struct store_cache *c)
{
	return c != NULL && atomic_load(&c->unavailable) ? STORE_UNAVAILABLE : STORE_OK;
}

void
store_cache_stats(struct store_cache *c, struct store_cache_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (c == NULL)
		return;
	out->hits = atomic_load(&c->hits);
	out->misses = atomic_load(&c->misses);
	out->reloads = atomic_load(&c->reloads);
	out->applied_seq = atomic_load(&c->seq_seen);
	out->revoked_jtis = atomic_load(&c->njtis);
}

static void
prune_jtis(struct store_cache *c, int64_t now)
{
	size_t i;

	pthread_rwlock_wrlock(&c->rw);
	for (i = 0; c->jtis.slots != NULL && i < c->jtis.nslots; i++) {
		struct entry **p = &c->jtis.slots[i];

		while (*p != NULL) {
			if ((*p)->num < now) {
				struct entry *e = *p;

				*p = e->next;
				entry_free(e);
				c->jtis.n--;
			} else {
				p = &(*p)->next;
			}
		}
	}
	atomic_store(&c->njtis, (long long)c->jtis.n);
	pthread_rwlock_unlock(&c->rw);
}

/* Wait up to ms unless asked to stop; 1 when stopping. */
static int
pause_ms(struct store_cache *c, int ms)
{
	struct timespec ts;
	int stopping;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&c->stop_mu);
	if (!c->stopping)
		pthread_cond_timedwait(&c->stop_cv, &c->stop_mu, &ts);
	stopping = c->stopping;
	pthread_mutex_unlock(&c->stop_mu);
	return stopping;
}

static int
is_stopping(struct store_cache *c)
{
	int s;

	pthread_mutex_lock(&c->stop_mu);
	s = c->stopping;
	pthread_mutex_unlock(&c->stop_mu);
	return s;
}

/* The poller: on its own connection, wait for a notification (PostgreSQL) or poll_ms,
 * then apply what changed. A lost connection is opened again and everything reloaded,
 * since notifications sent meanwhile are gone. */
static void *
poller(void *arg)
{
	struct store_cache *c = arg;
	struct store *st = c->first;
	int64_t last_prune = (int64_t)time(NULL);
	int full = 0, rc;

	c->first = NULL;
	while (!is_stopping(c)) {
		if (st == NULL) {
			if (store_open(c->location, &c->opt, &st) != STORE_OK) {
				st = NULL;
				atomic_store(&c->unavailable, 1);
				pause_ms(c, c->poll_ms);
				continue;
			}
			full = 1;
		}
		if (!full && (rc = st->be->wait_change(st, c->poll_ms)) != STORE_OK)
			goto failed;
		pthread_mutex_lock(&c->apply);
		rc = full ? full_reload(c, st) : apply_changes(c, st);
		pthread_mutex_unlock(&c->apply);
		if (rc != STORE_OK)
			goto failed;
		full = 0;
		atomic_store(&c->unavailable, 0);
		if ((int64_t)time(NULL) - last_prune >= JTI_PRUNE_EVERY) {
			last_prune = (int64_t)time(NULL);
			prune_jtis(c, last_prune);
		}
		continue;
failed:
		/* Only a database out of reach makes the node answer 503; a read that failed
		 * otherwise (a lock, a conflict) is tried again at the next tick, where the
		 * log still holds what was missed. */
		if (rc != STORE_UNAVAILABLE) {
			pause_ms(c, c->poll_ms);
			continue;
		}
		atomic_store(&c->unavailable, 1);
		store_close(st);
		st = NULL;
		pause_ms(c, c->poll_ms);
	}
	store_close(st);
	return NULL;
}

int
store_cache_start(const char *location, const struct store_options *opt, int poll_ms,
    struct store_cache **out)
{
	struct store_cache *c;
	int rc = STORE_ERROR;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return STORE_ERROR;
	pthread_rwlock_init(&c->rw, NULL);
	pthread_mutex_init(&c->apply, NULL);
	pthread_mutex_init(&c->stop_mu, NULL);
	pthread_cond_init(&c->stop_cv, NULL);
	c->poll_ms = poll_ms > 0 ? poll_ms : 200;
	if (opt != NULL)
		c->opt = *opt;
	c->opt.cache = NULL;
	c->opt.create = 0;
	if ((c->location = strdup(location)) == NULL || map_init(&c->clients, 256) != 0 ||
	    map_init(&c->jtis, 64) != 0)
		goto fail;
	if ((rc = store_open(location, &c->opt, &c->first)) != STORE_OK)
		goto fail;
	pthread_mutex_lock(&c->apply);
	rc = full_reload(c, c->first);
	pthread_mutex_unlock(&c->apply);
	if (rc != STORE_OK)
		goto fail;
	if (pthread_create(&c->thread, NULL, poller, c) != 0) {
		rc = STORE_ERROR;
		goto fail;
	}
	c->thread_started = 1;
	*out = c;
	return STORE_OK;
fail:
	store_cache_stop(c);
	return rc;
}

void
store_cache_stop(struct store_cache *c)
{
	if (c == NULL)
		return;
	if (c->thread_started) {
		pthread_mutex_lock(&c->stop_mu);
		c->stopping = 1;
		pthread_cond_broadcast(&c->stop_cv);
		pthread_mutex_unlock(&c->stop_mu);
		pthread_join(c->thread, NULL);
	}
	store_close(c->first);
	registry_free(c->reg);
	map_free(&c->clients);
	map_free(&c->jtis);
	free(c->location);
	pthread_rwlock_destroy(&c->rw);
	pthread_mutex_destroy(&c->apply);
	pthread_mutex_destroy(&c->stop_mu);
	pthread_cond_destroy(&c->stop_cv);
	free(c);
}

/* ---- the reads the cache answers (their public functions) ---- */

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
	if ((e = map_get(&c->clients, client_id)) != NULL) {
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
			map_clear(&c->clients);
		map_put(&c->clients, client_id, 0, copy);
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
	rc = resource_answer(c, registry_by_key(c->reg, uri_key), out);
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
	rc = resource_answer(c, registry_by_id(c->reg, id), out);
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
	r = registry_by_key(c->reg, uri_key);
	if (r != NULL)
		*allowed = pair_find(c->reg->grants, c->reg->ngrants, client, r->id) != NULL;
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
	p = pair_find(c->reg->edges, c->reg->nedges, from_id, to_id);
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
	found = pair_find(c->reg->grants, c->reg->ngrants, client, resource) != NULL;
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
	found = map_get(&c->jtis, jti) != NULL;
	pthread_rwlock_unlock(&c->rw);
	atomic_fetch_add_explicit(&c->hits, 1, memory_order_relaxed);
	return found ? STORE_OK : STORE_NOTFOUND;
}
