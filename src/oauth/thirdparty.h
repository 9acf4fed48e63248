/* Talking to a third party's authorization server (DESIGN.md §10.5): the token requests of
 * a connection (RFC 6749 §4.1.3 code redemption, §6 refresh) and RFC 7009 revocation, all
 * through net/fetch.h's policy. Blocking: run these on a worker. */
#ifndef MCP_OAUTH_THIRDPARTY_H
#define MCP_OAUTH_THIRDPARTY_H

#include <stddef.h>
#include <stdint.h>

#include "net/fetch.h"

#define THIRDPARTY_TOKEN_MAX 8192        /* an access or refresh token we keep */
#define THIRDPARTY_MAX_BYTES (64 * 1024) /* a token answer */
#define THIRDPARTY_TIMEOUT_MS 10000

/* Who we are at the third party. */
struct thirdparty_client {
	const char *token_url;
	const char *revoke_url;  /* NULL: none */
	const char *client_id;
	const char *secret;      /* NULL: a public client (client_id in the form) */
	const char *resource;    /* RFC 8707 resource sent with every token request; NULL: none */
};

/* A token answer. */
struct thirdparty_tokens {
	char *access_token;
	char *refresh_token;     /* NULL: none given */
	char *scope;             /* NULL: not said */
	int64_t expires_in;      /* 0: not said (a said 0 reads as 1: over at once) */
	int bearer;              /* token_type said Bearer (any case) */
};

/* Wipes the tokens before freeing them. */
void thirdparty_tokens_clear(struct thirdparty_tokens *t);

enum thirdparty_outcome {
	THIRDPARTY_OK = 0,
	THIRDPARTY_REFUSED,      /* the third party said invalid_grant: only the user can mend
				  * it, by connecting again */
	THIRDPARTY_FAILED,       /* unreachable, slow, oversized, an error status, a malformed
				  * answer: may pass later */
};

/* Redeem the code with the PKCE verifier and the redirect_uri it was sent with. */
enum thirdparty_outcome thirdparty_redeem(const struct thirdparty_client *tc, const char *code,
    const char *verifier, const char *redirect_uri, const struct net_policy *np,
    struct thirdparty_tokens *out, char *err, size_t errlen);

/* Refresh with refresh_token. A third party that rotates refresh tokens gives a new one
 * (out->refresh_token); one that does not gives none and the old one stays good. */
enum thirdparty_outcome thirdparty_refresh(const struct thirdparty_client *tc,
    const char *refresh_token, const struct net_policy *np, struct thirdparty_tokens *out,
    char *err, size_t errlen);

/* RFC 7009: revoke token (hint "refresh_token" or "access_token"). 0 when the third party
 * answered 200 (it does so for a token it no longer knows, too). */
int thirdparty_revoke(const struct thirdparty_client *tc, const char *token, const char *hint,
    const struct net_policy *np, char *err, size_t errlen);

/* Check a token answer (exposed for the unit tests and the fuzzer): status and body as
 * they came. */
enum thirdparty_outcome thirdparty_parse(long status, const char *body, size_t len,
    struct thirdparty_tokens *out, char *err, size_t errlen);

#endif
