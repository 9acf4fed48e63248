/* Upstream OpenID Connect identity providers (DESIGN.md §10.3): what a provider's
 * registration may hold, and its client secret sealed under the master key. */
#ifndef MCP_OAUTH_UPSTREAM_H
#define MCP_OAUTH_UPSTREAM_H

#include <stddef.h>

#include "jose/seal.h"
#include "store/store.h"

#define UPSTREAM_NAME_MAX 32
#define UPSTREAM_SECRET_MAX 1024
#define UPSTREAM_DEFAULT_SCOPES "openid email profile"

/* A provider's name is part of its callback URI ({issuer}/idp/NAME/callback):
 * 1-32 of [a-z0-9-], starting with a letter or digit. */
int upstream_name_ok(const char *name);

/* A claim name the mapping reads: 1-64 printable characters, no spaces. */
int upstream_claim_name_ok(const char *claim);

/* Seal a provider's client secret, bound to the provider's name. *blob is new. */
int upstream_secret_seal(const struct master_key *mk, const char *name, const char *secret,
    unsigned char **blob, size_t *bloblen);

/* Open it: a new NUL-terminated string (release with OPENSSL_clear_free(s, strlen(s)));
 * -1 on a wrong master key or a blob that belongs to another provider. */
int upstream_secret_open(const struct master_key *mk, const char *name,
    const unsigned char *blob, size_t bloblen, char **secret);

/* Re-seal every provider's client secret under new_mk inside the caller's transaction
 * (keys rewrap). *count: how many. */
int upstream_secret_rewrap_within(struct store *st, const struct master_key *old_mk,
    const struct master_key *new_mk, int *count);

#endif
