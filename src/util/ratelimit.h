/* Fixed-window counters per key (a source address): "at most N per window". */
#ifndef MCP_UTIL_RATELIMIT_H
#define MCP_UTIL_RATELIMIT_H

#include <stdint.h>

struct ratelimit;

/* A limiter with `slots` buckets (keys hash into them; a collision shares a bucket,
 * which can only make the limit stricter) and windows of window_secs. */
int ratelimit_new(unsigned int slots, int64_t window_secs, struct ratelimit **out);
void ratelimit_free(struct ratelimit *r);

/* Count one event for key at now. 1 when it is within limit per window (limit 0:
 * unlimited), 0 when over; *retry_after (may be NULL) gets the seconds to wait. */
int ratelimit_take(struct ratelimit *r, const char *key, unsigned int limit, int64_t now,
    int64_t *retry_after);

#endif
