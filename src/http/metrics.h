/* Prometheus metrics: requests by endpoint and status, latency histograms, tokens
 * issued by grant and resource, refusals by grant and error, key age, database size. */
#ifndef MCP_HTTP_METRICS_H
#define MCP_HTTP_METRICS_H

#include <stdint.h>

#include "store/store.h"
#include "util/buf.h"

struct metrics;

int metrics_new(unsigned int nroutes, const char *const *route_names, struct metrics **out);
void metrics_free(struct metrics *m);

/* One request answered: route index (or nroutes for "unknown"), status, latency. */
void metrics_request(struct metrics *m, unsigned int route, unsigned int status, int64_t micros);

/* A token issued, or a token request refused. */
void metrics_token(struct metrics *m, const char *grant, const char *resource);
void metrics_refusal(struct metrics *m, const char *grant, const char *error);

/* A login form submission: outcome "ok", "failed" or "throttled". */
void metrics_login(struct metrics *m, const char *outcome);

/* A connection or request cut by a limit: "connections" (per-address connections
 * refused), "requests" (per-client requests behind a proxy refused), "timeout" (a
 * connection closed because no whole request arrived within connection_timeout: slow
 * senders and idle keep-alive connections). */
void metrics_limited(struct metrics *m, const char *limit);

/* The text exposition (format 0.0.4) into out, with the gauges given. */
int metrics_render(struct metrics *m, struct buf *out, int64_t key_age, int64_t db_bytes,
    int64_t uptime, const struct store_cache_stats *cache, int db_up);

#endif
