/* Per-address counters in fixed tables and a sweeper for requests that arrive too slowly. */
#include "config.h"

#include "http/guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "util/netaddr.h"
#include "util/rand.h"

/* Addresses hash into fixed tables: bounded memory whatever the traffic. Two addresses
 * in one slot share a count, which can only make the limit stricter; the hash is keyed
 * with a random seed so that no one can aim a collision at someone else's slot. */
#define NSLOTS 8192
#define SWEEP_MS 200

struct guard_conn {
	struct guard_conn *prev, *next;
	MHD_socket fd;
	int slot;              /* counted per-address slot, or -1 (trusted proxy) */
	int64_t since_ms;      /* receiving a request since then; 0 when not receiving */
	int cut;               /* shut down by the sweeper */
};

struct guard {
	char *trusted;
	unsigned int max_per_addr;
	int64_t timeout_ms;
	struct metrics *metrics;
	uint64_t seed;
	pthread_mutex_t lock;      /* guards everything below */
	unsigned int conns[NSLOTS];
	unsigned int requests[NSLOTS];
	struct guard_conn *head;
	pthread_t sweeper;
	pthread_cond_t wake;
	int stop;
	int started;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
slot_of(const struct guard *g, const char *key)
{
	uint64_t h = 1469598103934665603ULL ^ g->seed;

	for (; *key != '\0'; key++) {
		h ^= (unsigned char)*key;
		h *= 1099511628211ULL;
	}
	h ^= h >> 29;
	return (int)(h % NSLOTS);
}

/* The per-address slot of a peer, or -1 when it is exempt (a trusted proxy, or no
 * limit). */
static int
peer_slot(const struct guard *g, const struct sockaddr *sa)
{
	char text[64], key[64];

	if (g->max_per_addr == 0)
		return -1;
	netaddr_format(sa, text, sizeof(text));
	if (text[0] == '\0' || (g->trusted != NULL && netaddr_in_list(g->trusted, text)))
		return -1;
	if (netaddr_key(text, key, sizeof(key)) != 0)
		return -1;
	return slot_of(g, key);
}

static void *
sweep(void *arg)
{
	struct guard *g = arg;
	struct guard_conn *c;
	struct timespec until;
	int64_t now;

	pthread_mutex_lock(&g->lock);
	while (!g->stop) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += SWEEP_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&g->wake, &g->lock, &until);
		now = now_ms();
		for (c = g->head; c != NULL && !g->stop; c = c->next) {
			if (c->cut || c->since_ms == 0 || now - c->since_ms < g->timeout_ms)
				continue;
			/* The socket stays libmicrohttpd's to close: it sees the end of the
			 * stream and closes the connection. The record leaves the list (under
			 * this lock) before the socket is closed, so fd is still this one. */
			shutdown(c->fd, SHUT_RDWR);
			c->cut = 1;
			metrics_limited(g->metrics, "timeout");
		}
	}
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

int
guard_new(const char *trusted_proxies, unsigned int max_per_addr, int64_t timeout_secs,
    struct metrics *metrics, struct guard **out)
{
	struct guard *g;

	*out = NULL;
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return -1;
	if ((trusted_proxies != NULL && (g->trusted = strdup(trusted_proxies)) == NULL) ||
	    rand_bytes(&g->seed, sizeof(g->seed)) != 0) {
		free(g->trusted);
		free(g);
		return -1;
	}
	g->max_per_addr = max_per_addr;
	g->timeout_ms = timeout_secs * 1000;
	g->metrics = metrics;
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->wake, NULL);
	if (pthread_create(&g->sweeper, NULL, sweep, g) != 0) {
		guard_free(g);
		return -1;
	}
	g->started = 1;
	*out = g;
	return 0;
}

void
guard_free(struct guard *g)
{
	struct guard_conn *c;

	if (g == NULL)
		return;
	if (g->started) {
		pthread_mutex_lock(&g->lock);
		g->stop = 1;
		pthread_cond_signal(&g->wake);
		pthread_mutex_unlock(&g->lock);
		pthread_join(g->sweeper, NULL);
	}
	while ((c = g->head) != NULL) {
		g->head = c->next;
		free(c);
	}
	pthread_cond_destroy(&g->wake);
	pthread_mutex_destroy(&g->lock);
	free(g->trusted);
	free(g);
}

enum MHD_Result
guard_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	struct guard *g = cls;
	int slot = peer_slot(g, addr), ok;

	(void)addrlen;
	if (slot < 0)
		return MHD_YES;
	/* A quick refusal before MHD sets anything up; two accepts at once may both pass
	 * here, so the limit itself is held where the connection is counted (guard_notify). */
	pthread_mutex_lock(&g->lock);
	ok = g->conns[slot] < g->max_per_addr;
	pthread_mutex_unlock(&g->lock);
	if (!ok) {
		metrics_limited(g->metrics, "connections");
		log_debug("connection refused: too many from one address");
	}
	return ok ? MHD_YES : MHD_NO;
}

void
guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
    enum MHD_ConnectionNotificationCode code)
{
	struct guard *g = cls;
	struct guard_conn *c;
	const union MHD_ConnectionInfo *ci;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		if ((c = calloc(1, sizeof(*c))) == NULL)
			return;
		ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		c->slot = peer_slot(g, ci != NULL ? ci->client_addr : NULL);
		ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		c->fd = ci != NULL ? ci->connect_fd : MHD_INVALID_SOCKET;
		c->since_ms = c->fd != MHD_INVALID_SOCKET ? now_ms() : 0;
		pthread_mutex_lock(&g->lock);
		if (c->slot >= 0 && g->conns[c->slot] >= g->max_per_addr) {
			/* Over the limit after all: close it at once, uncounted. */
			c->slot = -1;
			c->cut = 1;
		} else if (c->slot >= 0) {
			g->conns[c->slot]++;
		}
		c->next = g->head;
		if (g->head != NULL)
			g->head->prev = c;
		g->head = c;
		pthread_mutex_unlock(&g->lock);
		*socket_context = c;
		if (c->cut) {
			metrics_limited(g->metrics, "connections");
			if (c->fd != MHD_INVALID_SOCKET)
				shutdown(c->fd, SHUT_RDWR);
		}
		return;
	}
	if ((c = *socket_context) == NULL)
		return;
	pthread_mutex_lock(&g->lock);
	if (c->slot >= 0)
		g->conns[c->slot]--;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		g->head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&g->lock);
	free(c);
	*socket_context = NULL;
}

static struct guard_conn *
conn_record(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci != NULL ? ci->socket_context : NULL;
}

void
guard_received(struct guard *g, struct MHD_Connection *conn)
{
	struct guard_conn *c = conn_record(conn);

	if (c == NULL)
		return;
	pthread_mutex_lock(&g->lock);
	c->since_ms = 0;
	pthread_mutex_unlock(&g->lock);
}

void
guard_answered(struct guard *g, struct MHD_Connection *conn)
{
	struct guard_conn *c = conn_record(conn);

	if (c == NULL)
		return;
	pthread_mutex_lock(&g->lock);
	if (c->fd != MHD_INVALID_SOCKET)
		c->since_ms = now_ms();
	pthread_mutex_unlock(&g->lock);
}

int
guard_client_take(struct guard *g, const char *addr)
{
	char key[64];
	int slot, ok = 1;

	if (g->max_per_addr == 0)
		return 0;
	if (netaddr_key(addr, key, sizeof(key)) != 0)
		snprintf(key, sizeof(key), "%s", addr);
	slot = slot_of(g, key);
	pthread_mutex_lock(&g->lock);
	if (g->requests[slot] < g->max_per_addr)
		g->requests[slot]++;
	else
		ok = 0;
	pthread_mutex_unlock(&g->lock);
	if (!ok)
		metrics_limited(g->metrics, "requests");
	return ok ? 0 : -1;
}

void
guard_client_release(struct guard *g, const char *addr)
{
	char key[64];
	int slot;

	if (g->max_per_addr == 0)
		return;
	if (netaddr_key(addr, key, sizeof(key)) != 0)
		snprintf(key, sizeof(key), "%s", addr);
	slot = slot_of(g, key);
	pthread_mutex_lock(&g->lock);
	if (g->requests[slot] > 0)
		g->requests[slot]--;
	pthread_mutex_unlock(&g->lock);
}
