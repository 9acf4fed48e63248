/* The registry cache's side facing store.c (the public half is in store.h). */
#ifndef MCP_STORE_CACHE_H
#define MCP_STORE_CACHE_H

#include "store/store.h"

/* Apply every change logged since the last one applied, reading through st (a
 * connection of this process, outside any transaction). Accepts a NULL cache. */
void store_cache_catch_up(struct store_cache *c, struct store *st);

/* A connection found the database unreachable: report unhealthy until the next
 * successful poll. Accepts a NULL cache. */
void store_cache_note_unavailable(struct store_cache *c);

/* Deep copies of rows (the cache hands out copies its callers own). */
int store_resource_copy(struct store_resource *dst, const struct store_resource *src);
int store_client_copy(struct store_client *dst, const struct store_client *src, int with_uris);

#endif
