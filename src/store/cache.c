/* The registry cache (DESIGN.md §10.2): clients, resources, exchange edges and revoked
 * jtis held per process, so that client_credentials and token exchange read nothing from
 * the database, and kept coherent with it through the change log that triggers write
 * (every change, whoever makes it, gets the next number of one dense sequence).
 *
 * Here: loading it, keeping up with the log, the poller. Its tables are in cache_tables.c,
 * the reads it answers in cache_reads.c. */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/backend.h"
#include "store/cache.h"
#include "store/cache_private.h"

/* How often expired jtis leave the denylist (seconds). */
#define JTI_PRUNE_EVERY 30

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
	return cache_map_put(arg, jti, expires_at, NULL) == 0 ? STORE_OK : STORE_ERROR;
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
	if ((rc = cache_registry_load(st, &reg)) != STORE_OK)
		return rc;
	if (cache_map_init(&jtis, 1024) != 0) {
		cache_registry_free(reg);
		return STORE_ERROR;
	}
	if ((rc = st->be->jti_each_live(st, (int64_t)time(NULL), add_jti, &jtis)) != STORE_OK) {
		cache_registry_free(reg);
		cache_map_free(&jtis);
		return rc;
	}
	pthread_rwlock_wrlock(&c->rw);
	old_reg = c->reg;
	old_jtis = c->jtis;
	c->reg = reg;
	c->jtis = jtis;
	cache_map_clear(&c->clients);
	c->epoch++;
	pthread_rwlock_unlock(&c->rw);
	c->applied_seq = last;
	atomic_store(&c->seq_seen, last);
	atomic_store(&c->njtis, (long long)jtis.n);
	atomic_fetch_add(&c->reloads, 1);
	cache_registry_free(old_reg);
	cache_map_free(&old_jtis);
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
	if (registry && (rc = cache_registry_load(st, &reg)) != STORE_OK)
		goto out;
	pthread_rwlock_wrlock(&c->rw);
	for (i = 0; i < l.n; i++) {
		const struct store_change *ch = &l.v[i];

		if (ch->key == NULL)
			continue;
		if (strcmp(ch->kind, "client") == 0)
			cache_map_del(&c->clients, ch->key);
		else if (strcmp(ch->kind, "jti") == 0)
			cache_map_put(&c->jtis, ch->key, ch->expires_at, NULL);
	}
	if (reg != NULL) {
		old_reg = c->reg;
		c->reg = reg;
		/* A client's acts_for_uri comes from its resource. */
		cache_map_clear(&c->clients);
	}
	c->epoch++;
	atomic_store(&c->njtis, (long long)c->jtis.n);
	pthread_rwlock_unlock(&c->rw);
	c->applied_seq = l.v[l.n - 1].seq;
	atomic_store(&c->seq_seen, c->applied_seq);
	cache_registry_free(old_reg);
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
				cache_entry_free(e);
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
	if ((c->location = strdup(location)) == NULL || cache_map_init(&c->clients, 256) != 0 ||
	    cache_map_init(&c->jtis, 64) != 0)
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
	cache_registry_free(c->reg);
	cache_map_free(&c->clients);
	cache_map_free(&c->jtis);
	free(c->location);
	pthread_rwlock_destroy(&c->rw);
	pthread_mutex_destroy(&c->apply);
	pthread_mutex_destroy(&c->stop_mu);
	pthread_cond_destroy(&c->stop_cv);
	free(c);
}
