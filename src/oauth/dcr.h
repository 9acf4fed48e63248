/* RFC 7591 dynamic client registration: what a registration request may say. */
#ifndef MCP_OAUTH_DCR_H
#define MCP_OAUTH_DCR_H

#include <stddef.h>

#include <jansson.h>

#include "oauth/errors.h"

#define DCR_MAX_REDIRECT_URIS 20
#define DCR_MAX_NAME 200

/* A validated registration. metadata is the normalised document to store and echo
 * (only the members we understand, defaults filled in); the other members borrow
 * from it. */
struct dcr_client {
	json_t *metadata;
	const char *redirect_uris[DCR_MAX_REDIRECT_URIS];
	size_t n_redirect_uris;
	const char *auth_method;
	const char *client_name;
	const char *jwks_uri;      /* private_key_jwt: where its keys are, or NULL */
	const json_t *jwks;        /* private_key_jwt: its keys, or NULL */
	char grant_types[64];      /* space-separated */
	int confidential;
};

/* Validate a parsed registration request. Returns OAUTH_OK (out filled),
 * OAUTH_INVALID_REDIRECT_URI or OAUTH_INVALID_CLIENT_METADATA with a reason in err.
 * Pure apart from allocation. */
enum oauth_error dcr_validate(const json_t *req, struct dcr_client *out, char *err, size_t errlen);

void dcr_client_clear(struct dcr_client *c);

#endif
