/* Login throttling: growing delays after repeated failures, per account and per source
 * address, capped and forgotten with time, so that no one is ever locked out for good. */
#ifndef MCP_OAUTH_THROTTLE_H
#define MCP_OAUTH_THROTTLE_H

#include <stdint.h>

#include "store/store.h"

struct throttle_policy {
	int enabled;
	int64_t user_after;  /* failures of one account before delays start */
	int64_t addr_after;  /* failures from one source address before delays start */
	int64_t delay;       /* the first delay (seconds); each further failure doubles it */
	int64_t max_delay;   /* the longest delay */
	int64_t window;      /* failures this much older than the latest are forgotten */
};

/* The delay that failure number `failures` imposes when delays start at the
 * `after`-th failure: 0 before, then delay, 2 delay, 4 delay ... up to max_delay. */
int64_t throttle_delay(const struct throttle_policy *p, int64_t after, int64_t failures);

/* May username try to log in from addr at now_ms (milliseconds since the epoch)? 0
 * when it may; 1 when it must wait, with *wait_ms the time left and *which "account"
 * or "address" (static). A negative
 * STORE_* code when the store fails: callers let the attempt through, since
 * refusing every login on a database error would be the worse failure. */
int throttle_check(struct store *st, const struct throttle_policy *p, const char *username,
    const char *addr, int64_t now_ms, int64_t *wait_ms, const char **which);

/* Count a failed login of username from addr and set the delays it earns. */
int throttle_failure(struct store *st, const struct throttle_policy *p, const char *username,
    const char *addr, int64_t now_ms);

/* A successful login of username: its account's failures are forgotten. The address's
 * are kept, or one account of an attacker's own would reset the address's count. */
int throttle_success(struct store *st, const struct throttle_policy *p, const char *username);

/* Fixed-window rate limits counted in the store, so that every node of a fleet counts
 * together (an attacker cannot multiply the budget by the number of nodes). Count one
 * event of kind ("register") from key (an address) at now, allowed `limit` per window
 * of window_secs (limit 0: unlimited). 1 when within the limit, 0 when over (with
 * *retry_after the seconds to the next window), a negative STORE_* code on failure. */
int throttle_rate_take(struct store *st, const char *kind, const char *key, int64_t limit,
    int64_t window_secs, int64_t now, int64_t *retry_after);

#endif
