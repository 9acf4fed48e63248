/* Identity Assertion JWT Authorization Grants (draft-ietf-oauth-identity-assertion-authz-
 * grant; the MCP enterprise-managed authorization extension): what an enterprise IdP's
 * ID-JAG must say before this server trades it for an access token. */
#ifndef MCP_OAUTH_IDJAG_H
#define MCP_OAUTH_IDJAG_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "oauth/assertion.h"

/* A verified ID-JAG. The strings are borrowed from claims. */
struct idjag {
	json_t *claims;
	const char *subject;     /* the user at the issuer */
	const char *jti;
	int64_t exp;
	const char *resource;    /* NULL when the ID-JAG names none */
	const char *scope;       /* NULL when it carries none */
	const char *email;       /* NULL when absent */
};

void idjag_clear(struct idjag *g);

/* Check an ID-JAG: typ oauth-id-jag+jwt, a signature by a key of the issuer's jwks with
 * an accepted alg, iss exactly trusted_issuer, aud exactly our_issuer (a string or an
 * array of one), client_id the presenting client, sub, jti, iat and exp with a lifetime
 * of at most ASSERTION_MAX_LIFETIME, resource (if any) a string or an array of one
 * string, scope (if any) a scope list. */
enum assertion_refusal idjag_check(const char *token, const json_t *jwks,
    const char *trusted_issuer, const char *our_issuer, const char *client_id, int64_t now,
    struct idjag *out, char *err, size_t errlen);

/* May client_id present ID-JAGs of an issuer whose --id-jag-clients is allowed (NULL:
 * every confidential client)? */
int idjag_client_allowed(const char *allowed, const char *client_id);

#endif
