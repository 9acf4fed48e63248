/* Upstream OpenID Connect identity providers (DESIGN.md §10.3): what a provider's
 * registration may hold, and its client secret sealed under the master key. */
#ifndef MCP_OAUTH_UPSTREAM_H
#define MCP_OAUTH_UPSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "jose/seal.h"
#include "net/fetch.h"
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

/* ---- discovery (OpenID Connect Discovery 1.0 §3, §4.3) ---- */

/* What this server needs from a provider's discovery document. */
struct upstream_metadata {
	char *issuer;
	char *authorization_endpoint;
	char *token_endpoint;
	char *jwks_uri;
	char *userinfo_endpoint;     /* NULL when the provider has none */
	int auth_post;               /* authenticate with client_secret_post: the provider
				      * lists methods and client_secret_basic is not one */
};

void upstream_metadata_clear(struct upstream_metadata *m);

/* Check a discovery document for the configured issuer: "issuer" exactly equal to it
 * (no trailing-slash leniency: a mix-up defence), the authorization, token and JWKS
 * endpoints present and https (http too with allow_http), S256 among the PKCE methods
 * when the document lists them, one of RS256, ES256, EdDSA among the ID token
 * algorithms when it lists them, and client_secret_basic or client_secret_post among
 * the client authentication methods when it lists them. 0, or -1 with a reason. */
int upstream_metadata_parse(const json_t *doc, const char *issuer, int allow_http,
    struct upstream_metadata *out, char *err, size_t errlen);

/* ---- ID tokens (OpenID Connect Core 1.0 §3.1.3.7) ---- */

/* What an ID token from the provider must say. */
struct upstream_expect {
	const char *issuer;      /* iss, exactly (the discovery document's issuer) */
	const char *client_id;   /* in aud; azp when present (and required with several aud) */
	const char *nonce;       /* the nonce sent with this login */
	int64_t now;
	int64_t skew;            /* seconds of clock difference tolerated (exp, iat) */
	int64_t max_age;         /* iat at most this old */
};

/* Why an ID token was refused. UPSTREAM_UNKNOWN_KID is the one the caller answers by
 * fetching the provider's JWKS again (keys rotate) before giving up. */
enum upstream_refusal {
	UPSTREAM_OK = 0,
	UPSTREAM_MALFORMED,
	UPSTREAM_ALG,
	UPSTREAM_UNKNOWN_KID,
	UPSTREAM_SIGNATURE,
	UPSTREAM_ISSUER,
	UPSTREAM_AUDIENCE,
	UPSTREAM_EXPIRED,
	UPSTREAM_IAT,
	UPSTREAM_NONCE,
	UPSTREAM_SUBJECT,
};

/* Short name of a refusal for audit records ("nonce", "signature"...). */
const char *upstream_refusal_name(enum upstream_refusal r);

/* Check an ID token against the provider's JWKS document ({"keys":[...]}) and what it
 * must say. The signature first, with a key of the JWKS chosen by kid (or the only key
 * that fits when the token names none) whose algorithm is the header's: RS256, ES256
 * or EdDSA only, never "none", never an HMAC. Then iss, aud/azp, exp and iat within
 * skew, nonce, and a sub. On UPSTREAM_OK *claims is a new reference to the payload;
 * otherwise err says why in one line. */
enum upstream_refusal upstream_id_token_check(const char *token, const json_t *jwks,
    const struct upstream_expect *e, json_t **claims, char *err, size_t errlen);

/* ---- who the provider says the user is, and what their groups reach ---- */

#define UPSTREAM_MAX_GROUPS 256
#define UPSTREAM_GROUP_MAX 256

struct upstream_identity {
	char *subject;           /* the provider's claim_user value */
	char *email;             /* NULL when not asserted */
	int email_verified;      /* email_verified is JSON true (not the string "true") */
	json_t *groups;          /* array of group names; empty when none asserted */
};

void upstream_identity_clear(struct upstream_identity *id);

/* Does reading p's claims need the userinfo endpoint: is one of the mapped claims
 * (user, email, groups) missing from the ID token's claims? */
int upstream_identity_wants_userinfo(const struct store_idp *p, const json_t *id_claims);

/* Read the mapped claims from the ID token's, and from userinfo (may be NULL) for those
 * the ID token lacks; userinfo's sub must then be the ID token's (OIDC Core §5.3.4). The
 * user claim must be a non-empty string; groups an array of strings or one string, at
 * most UPSTREAM_MAX_GROUPS of at most UPSTREAM_GROUP_MAX bytes (more is refused, not
 * cut short). 0, or -1 with a reason. */
int upstream_identity_read(const struct store_idp *p, const json_t *id_claims,
    const json_t *userinfo, struct upstream_identity *out, char *err, size_t errlen);

/* --allowed-groups: 1 when allowed is NULL (everyone) or names one of groups. */
int upstream_groups_allowed(const char *allowed, const json_t *groups);

/* One group mapping of a provider (idp map). scopes NULL: every scope of the resource. */
struct upstream_map {
	const char *group;
	const char *resource_uri;
	const char *scopes;
};

/* What the groups reach of one resource through a provider's n mappings: the scopes of
 * resource_scopes that a mapping of one of the groups to resource_uri allows (a new,
 * space-separated string, possibly empty); NULL with *reachable 0 when no mapping of
 * the groups names the resource. A provider without any mapping does not restrict:
 * every scope. NULL with *reachable 1 means out of memory. */
char *upstream_reach_new(const struct upstream_map *maps, size_t n, const json_t *groups,
    const char *resource_uri, const char *resource_scopes, int *reachable);

/* ---- talking to the provider (blocking: run these on a worker) ---- */

#define UPSTREAM_MAX_BYTES (256 * 1024)
#define UPSTREAM_TIMEOUT_MS 10000
#define UPSTREAM_CACHE_TTL 3600      /* discovery documents and JWKS are kept an hour */
#define UPSTREAM_JWKS_COOLDOWN 60    /* an unknown kid refetches the JWKS at most this often */

/* The policy of every request to provider p: https unless allow_http, its own
 * --allow-private, the size and time limits above. */
void upstream_net_policy(const struct store_idp *p, int allow_http, struct net_policy *out);

/* The provider's discovery document, checked (upstream_metadata_parse), from a per-process
 * cache of UPSTREAM_CACHE_TTL. */
int upstream_discover(const char *issuer, const struct net_policy *np,
    struct upstream_metadata *out, char *err, size_t errlen);

/* The provider's JWKS (a new reference), cached like discovery; with refetch, fetched
 * again unless it was fetched less than UPSTREAM_JWKS_COOLDOWN ago (an unknown kid:
 * the provider rotated its keys, or someone presents a token no key signed). */
int upstream_jwks(const char *jwks_uri, const struct net_policy *np, int refetch, json_t **out,
    char *err, size_t errlen);

/* What upstream_jwks would answer without fetching: 1 with *out a new reference, or
 * with *out NULL and err when the last fetch failed within the cool-down (a dead JWKS
 * is not fetched again for every request); 0 when it would fetch. */
int upstream_jwks_cached(const char *jwks_uri, int refetch, json_t **out, char *err,
    size_t errlen);

/* Redeem the upstream code at the token endpoint (client_secret_basic, or _post when the
 * provider asks; no secret: a public client), with the PKCE verifier. *id_token and
 * *access_token are new strings; an error answer gives -1 with the provider's error. */
int upstream_redeem(const struct upstream_metadata *md, const struct store_idp *p,
    const char *secret, const char *code, const char *verifier, const char *redirect_uri,
    const struct net_policy *np, char **id_token, char **access_token, char *err,
    size_t errlen);

/* The userinfo answer for access_token (a new reference to a JSON object). */
int upstream_userinfo(const struct upstream_metadata *md, const char *access_token,
    const struct net_policy *np, json_t **out, char *err, size_t errlen);

/* Forget what the cache holds (tests). */
void upstream_cache_clear(void);

#endif
