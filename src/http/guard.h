/* Limits under libmicrohttpd: connections per source address, requests per client
 * behind a trusted proxy, and a deadline for receiving each request (slowloris). */
#ifndef MCP_HTTP_GUARD_H
#define MCP_HTTP_GUARD_H

#include <stdint.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "http/metrics.h"

struct guard;

/* A guard allowing max_per_addr connections per source address (0: no limit) and
 * timeout_secs to receive a request, with a sweeper thread that enforces the latter.
 * Peers in trusted_proxies (may be NULL) are exempt from the per-address connection
 * count: their clients are counted one by one instead (guard_client_take). metrics
 * (may be NULL) is borrowed. */
int guard_new(const char *trusted_proxies, unsigned int max_per_addr, int64_t timeout_secs,
    struct metrics *metrics, struct guard **out);

/* Stop the sweeper and free; accepts NULL. Call after the daemon has stopped. */
void guard_free(struct guard *g);

/* libmicrohttpd's accept policy: MHD_YES when the peer may open one more connection. */
enum MHD_Result guard_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen);

/* libmicrohttpd's connection notification: track a connection from STARTED to CLOSED
 * (its record lives in *socket_context). */
void guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
    enum MHD_ConnectionNotificationCode code);

/* The connection's current request has arrived whole (or has been answered early):
 * its receive deadline no longer runs. */
void guard_received(struct guard *g, struct MHD_Connection *conn);

/* The connection's request is finished: the deadline runs again for the next one. */
void guard_answered(struct guard *g, struct MHD_Connection *conn);

/* Count one request in flight for client addr (behind a trusted proxy). 0 when within
 * max_per_addr, -1 when over (nothing is counted then). */
int guard_client_take(struct guard *g, const char *addr);

/* Release what guard_client_take counted. */
void guard_client_release(struct guard *g, const char *addr);

#endif
