/* The downstream credential vault (DESIGN.md §10.5): third-party credentials an MCP server
 * fetches per call, through token exchange, instead of keeping them. This part holds
 * service credentials (an API key a server uses as itself), each version sealed with its
 * own data key under the master key, and serves them to the servers the policy names. */
#ifndef MCP_OAUTH_VAULT_H
#define MCP_OAUTH_VAULT_H

#include <stddef.h>
#include <stdint.h>

#include "jose/seal.h"
#include "oauth/grants.h"
#include "store/store.h"

#define VAULT_SECRET_MAX 8192
#define VAULT_FINGERPRINT_LEN 23   /* "sha256:" and 16 hex digits */

/* A credential's name: the rule of provider names (1-32 of [a-z0-9-]); it is the
 * audience an MCP server asks for. */
int vault_name_ok(const char *name);

/* "sha256:" and the first 16 hex digits of the SHA-256 of secret: what audit records and
 * listings show of a credential. out has VAULT_FINGERPRINT_LEN + 1 bytes. */
int vault_fingerprint(const unsigned char *secret, size_t len, char *out);

/* Seal version `version` of credential name: fills c's wrapped_key, secret_enc and
 * fingerprint (new allocations), bound to "credential NAME vVERSION". */
int vault_credential_seal(const struct master_key *mk, const char *name, int64_t version,
    const unsigned char *secret, size_t len, struct store_credential *c);

/* Open a stored version: -1 on a wrong master key or a row moved to another name or
 * version. *secret is new, NUL-terminated (OPENSSL_clear_free(*secret, *len + 1)). */
int vault_credential_open(const struct master_key *mk, const struct store_credential *c,
    char **secret, size_t *len);

/* Rewrap every version's data key under new_mk inside the caller's transaction. */
int vault_rewrap_within(struct store *st, const struct master_key *old_mk,
    const struct master_key *new_mk, int *count);

/* Token exchange with audience = a credential's name: the client acting for resource R
 * fetches the credential when `resource allow-credential R NAME` says so. The version
 * served is the one being rotated away from while its overlap lasts (expires_in says
 * until when), else the current one. When name is a user's connection instead, the
 * fetch is connection_fetch's (oauth/connections.h). Refusals: another
 * requested_token_type or a subject token (a service credential is fetched as the server
 * itself) invalid_request; no such credential or no policy invalid_target. Every fetch and
 * refusal is audited with the credential's fingerprint, never the credential. */
int vault_fetch(const struct grant_env *env, const struct store_client *client,
    const struct exchange_request *x, struct token_response *out);

/* An audit record of a fetch from the vault or its refusal (credential.fetched,
 * credential.refused): which credential or connection (name), which version, by its
 * fingerprint (NULL: none was reached), and sub when it is a user's. */
void vault_audit(const struct grant_env *env, const char *outcome, const char *reason,
    const char *client_id, const char *resource, const char *sub, const char *name,
    int64_t version, const char *fingerprint);

#endif
