/* The registry's rules: which resource a request names, and which scopes it may carry. */
#ifndef MCP_OAUTH_REGISTRY_H
#define MCP_OAUTH_REGISTRY_H

#include <stdint.h>

#include "oauth/errors.h"
#include "store/store.h"

/* A resource registered with this scope list accepts any scope (dev mode). */
#define REGISTRY_ANY_SCOPE "*"

/* Find the registered resource named by uri (any spelling that canonicalises to it).
 * With auto_register (dev mode), a well-formed unknown URI is registered on the spot
 * with REGISTRY_ANY_SCOPE. OAUTH_INVALID_TARGET when malformed or unknown. */
enum oauth_error registry_resource_find(struct store *st, const char *uri, int auto_register,
    int64_t now, struct store_resource *out);

/* registry_resource_find, also telling whether client may get client_credentials
 * tokens for the resource, in one lookup when the resource exists. */
enum oauth_error registry_resource_for_client(struct store *st, const char *uri, int64_t client,
    int auto_register, int64_t now, struct store_resource *out, int *allowed);

/* Does r allow every token of scope? */
int registry_scope_allowed(const struct store_resource *r, const char *scope);

/* The scope a request that names none gets for r: its default scopes, else all its
 * scopes ("" for an any-scope resource). */
const char *registry_default_scopes(const struct store_resource *r);

/* The part of a granted scope that a token for r carries (new string). */
char *registry_scope_for(const struct store_resource *r, const char *granted);

#endif
