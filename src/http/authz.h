/* The /authorize endpoint's private parts, shared by ep_authorize.c (the flow),
 * authz_request.c (validation), authz_pages.c (login and consent forms, CSRF) and
 * authz_redirect.c (the way back to the client). */
#ifndef MCP_HTTP_AUTHZ_H
#define MCP_HTTP_AUTHZ_H

#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "http/form.h"
#include "http/request.h"
#include "http/session.h"
#include "store/store.h"

#define MAX_RESOURCES 8

/* A validated authorization request. */
struct authz {
	struct form params;        /* the OAuth parameters, re-sent by the forms */
	struct store_client client;
	const char *redirect_uri;  /* the effective one */
	int redirect_given;
	const char *state;
	const char *challenge;
	const char *prompt;
	struct store_resource res[MAX_RESOURCES];
	size_t nres;
	char *resources;           /* sorted registered URIs, space-separated */
	char *scope;               /* sorted effective scope */
	int used_default_resource;
	int64_t now;
};

/* Release everything a holds and zero it. */
void authz_clear(struct authz *a);

/* authz_request.c. Steps 1-2: the client and its redirect URI, into a. 0 when both are
 * good; -1 after answering with an error page (*r); 1 while the client's metadata
 * document is fetched (*r is MHD_YES). */
int authz_check_client(struct request *req, const struct form *in, struct authz *a,
    enum MHD_Result *r);

/* Step 3: everything else, into a. NULL when the request is good; otherwise the
 * description for an error redirect, with *error its OAuth error code (static). */
const char *authz_check_request(struct request *req, const struct form *in, struct authz *a,
    const char **error);

/* authz_pages.c. An error page for what must not be redirected: the client or redirect
 * URI is untrusted. */
enum MHD_Result authz_refuse_page(struct request *req, const char *error, const char *message);

/* Whether presented is the CSRF token of this browser's cookie and a's parameters. */
int authz_csrf_ok(struct request *req, const struct authz *a, const char *presented);

/* The login form with status, an optional error message and the username to show
 * again (NULL for none). */
enum MHD_Result authz_login_page(struct request *req, const struct authz *a, unsigned int status,
    const char *error, const char *username);

/* The consent form for username. */
enum MHD_Result authz_consent_page(struct request *req, const struct authz *a,
    const char *username);

/* authz_redirect.c. The error page for an answer too long to redirect with. */
enum MHD_Result authz_refuse_too_long(struct request *req);

/* Redirect to the client with error, error_description desc, state and iss. */
enum MHD_Result authz_redirect_error(struct request *req, const struct authz *a,
    const char *error, const char *desc);

/* The user w is known and has consented: issue the code and redirect with it. */
enum MHD_Result authz_issue_code(struct request *req, const struct authz *a,
    const struct who *w);

#endif
