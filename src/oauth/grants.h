/* The token endpoint's decisions, without HTTP: what a grant yields, or why not. */
#ifndef MCP_OAUTH_GRANTS_H
#define MCP_OAUTH_GRANTS_H

#include <stdint.h>

#include "jose/keystore.h"
#include "oauth/audit.h"
#include "oauth/claims.h"
#include "oauth/errors.h"
#include "store/store.h"

#define GRANT_TYPE_TOKEN_EXCHANGE "urn:ietf:params:oauth:grant-type:token-exchange"
#define TOKEN_TYPE_ACCESS "urn:ietf:params:oauth:token-type:access_token"
#define CODE_TTL 60

/* What every grant needs from the server. */
struct grant_env {
	struct store *st;
	const struct keyset *keys;
	const char *issuer;
	int64_t now;
	int64_t access_ttl;      /* default access token lifetime */
	int64_t refresh_ttl;
	int64_t idp_session_ttl; /* a federated user's refresh family ends this long after the
				  * upstream sign-in (0: no bound) */
	int auto_register;       /* dev: unknown well-formed resources are registered */
	int64_t max_delegation_depth; /* act nests at most this deep (token exchange) */
	const struct master_key *mk; /* opens what the vault keeps */
	const char *remote_addr;
	struct audit_sink *audit;
};

/* A vault fetch that must wait for a third party (oauth/connections.h): whose tokens,
 * and who asks. */
struct vault_pending {
	char *connection;
	int64_t user_id;
	int64_t generation;      /* the row's, found needing a refresh */
	char *sub;
	char *client_id;
	char *resource;          /* the resource the client acts for */
};

/* The outcome of a grant. On failure only error and error_description are set (and
 * connect_uri, for a vault fetch that connecting mends). */
struct token_response {
	enum oauth_error error;
	char error_description[200];
	char *access_token;
	char *refresh_token;     /* NULL when none is issued */
	char *scope;
	char *resource;          /* the token's aud */
	int64_t expires_in;
	char jti[JTI_LEN + 1];
	int exchanged;           /* answer with issued_token_type (RFC 8693) */
	const char *token_type;  /* NULL: Bearer; "N_A" for a credential of another party */
	/* Stateful grants sign after their transaction commits, so that the write lock is
	 * not held across a signature: the claims wait here (borrowed for the grant's
	 * duration). */
	int deferred;
	struct access_claims claims;
	/* The store's code when the database, not the request, failed the grant: with
	 * STORE_RETRY the transaction lost a conflict and ran again (at most GRANT_ATTEMPTS
	 * times). */
	int store_rc;
	char *connect_uri;       /* a vault refusal: where the user connects (again) */
	struct vault_pending *pending; /* a vault fetch to finish on a worker */
};

#define GRANT_ATTEMPTS 3

void token_response_clear(struct token_response *r);

/* authorization_code (RFC 6749 §4.1.3, RFC 7636, RFC 8707): the code is consumed by
 * any redemption attempt; a second redemption revokes what the first issued. */
int grant_authorization_code(const struct grant_env *env, const struct store_client *client,
    const char *code, const char *verifier, const char *redirect_uri, const char *resource,
    struct token_response *out);

/* refresh_token: rotated on every use; reuse of a rotated token revokes the family.
 * resource picks one of the granted resources, scope may narrow. */
int grant_refresh(const struct grant_env *env, const struct store_client *client,
    const char *refresh_token, const char *resource, const char *scope,
    struct token_response *out);

/* client_credentials: a token for the client itself (sub = client_id), for one of the
 * resources it was registered for. */
int grant_client_credentials(const struct grant_env *env, const struct store_client *client,
    const char *resource, const char *scope, struct token_response *out);

/* The jwt-bearer grant (RFC 7523 §2.1) with an ID-JAG: issuer is the provider trusted for
 * ID-JAGs whose issuer the assertion names (NULL: none is), jwks its keys (NULL: they
 * could not be had). Checked (oauth/idjag.h), used once (replay cache), the user found or
 * created as for a sign-in through that provider, and an access token for the resource
 * with requested ∩ asserted ∩ the resource's scopes; no refresh token. Every refusal of
 * the assertion is invalid_grant, audited. */
int grant_id_jag(const struct grant_env *env, const struct store_client *client,
    const struct store_idp *issuer, const json_t *jwks, const char *assertion,
    const char *resource, const char *scope, struct token_response *out);

/* For grants kept in their own files (oauth/idjag.c, oauth/vault.c). */

/* A refusal (error and description), audited as token.refused through the batch writer. */
int grant_refuse(const struct grant_env *env, struct token_response *out, enum oauth_error e,
    const char *client_id, const char *sub, const char *resource, const char *why);
/* The database failed the grant: 503 when a retry may pass, else 500. */
int grant_refuse_db(struct token_response *out, int store_rc);
/* An access token, no refresh token, for sub at r with scope. */
int grant_issue_access(const struct grant_env *env, const char *client_id, const char *sub,
    int64_t auth_time, const struct store_resource *r, const char *scope,
    struct token_response *out);
/* An audit record through the batch writer. */
void grant_audit(const struct grant_env *env, const char *event, const char *outcome,
    const char *reason, const char *client_id, const char *sub, const char *resource,
    const char *jti);

/* What a token exchange request carries (RFC 8693 §2.1). */
struct exchange_request {
	const char *subject_token;
	const char *subject_token_type;
	const char *actor_token;
	const char *requested_token_type;
	const char *resource;
	const char *audience;
	const char *scope;
};

/* Token exchange: the client, acting for resource A, trades a token we issued whose
 * aud is A for a new token bound to B, allowed only along an edge A -> B. The new
 * token keeps sub, carries act (nested when the subject already had one), at most
 * the scopes of the subject, the edge and B, and lives no longer than the subject. */
int grant_token_exchange(const struct grant_env *env, const struct store_client *client,
    const struct exchange_request *x, struct token_response *out);

/* A new authorization code bound to everything the request said; *code_out is the
 * code to send (new string). */
int grant_code_issue(const struct grant_env *env, const struct store_client *client,
    int64_t user_id, int64_t auth_time, const char *redirect_uri, int redirect_uri_given,
    const char *code_challenge, const char *resources, const char *scope, char **code_out);

#endif
