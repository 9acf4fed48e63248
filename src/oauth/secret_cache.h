/* Per-process memory of client secrets already verified with argon2 (DESIGN.md §8): a
 * confidential client pays argon2 once per process, not once per request. */
#ifndef MCP_OAUTH_SECRET_CACHE_H
#define MCP_OAUTH_SECRET_CACHE_H

#include <stddef.h>

struct secret_cache;

/* A cache of `slots` entries keyed by client_id, with a fresh random MAC key.
 * Only keyed hashes are kept, never a secret. */
int secret_cache_new(size_t slots, struct secret_cache **out);
void secret_cache_free(struct secret_cache *c);

/* 1 when (client_id, secret) was verified before against exactly this stored
 * argon2 hash; a changed hash (new secret, re-created client) is a miss. */
int secret_cache_check(struct secret_cache *c, const char *client_id, const char *stored_hash,
    const char *secret);

/* Remember a successful verification. */
void secret_cache_put(struct secret_cache *c, const char *client_id, const char *stored_hash,
    const char *secret);

/* Forget a client (removed or changed by this process). */
void secret_cache_forget(struct secret_cache *c, const char *client_id);

#endif
