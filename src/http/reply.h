/* Building and queuing responses: JSON, RFC 6749 errors, pages, redirects. */
#ifndef MCP_HTTP_REPLY_H
#define MCP_HTTP_REPLY_H

#include <stddef.h>

#include <jansson.h>
#include <microhttpd.h>

#include "http/request.h"
#include "oauth/errors.h"

enum {
	REPLY_NO_STORE = 1 << 0,   /* Cache-Control: no-store (tokens, pages) */
	REPLY_CORS = 1 << 1,       /* Access-Control-Allow-Origin: * */
};

/* Headers every response carries (nosniff, frame denial, referrer policy), plus
 * those selected by flags. */
void reply_add_common_headers(struct MHD_Response *resp, unsigned int flags);

/* JSON text (copied). */
enum MHD_Result reply_json_text(struct request *req, unsigned int status, const char *text,
    size_t len, unsigned int flags);

/* JSON document (not consumed: the caller keeps its reference). */
enum MHD_Result reply_json(struct request *req, unsigned int status, const json_t *doc,
    unsigned int flags);

/* RFC 6749 §5.2 error body with the status of e; invalid_client on 401 also gets
 * WWW-Authenticate. description may be NULL. Always no-store. */
enum MHD_Result reply_oauth_error(struct request *req, enum oauth_error e,
    const char *description);

/* The same with one more member, name: value (RFC 6749 §5.2 allows extensions), when value
 * is not NULL. */
enum MHD_Result reply_oauth_error_with(struct request *req, enum oauth_error e,
    const char *description, const char *name, const char *value);

/* 401 invalid_token with a Bearer challenge (RFC 6750 §3): a bearer token is missing or
 * wrong. */
enum MHD_Result reply_bearer_challenge(struct request *req, const char *description);

/* The same with an explicit status (for 404, 405, 413 ...). */
enum MHD_Result reply_error_status(struct request *req, unsigned int status, const char *error,
    const char *description);

/* An HTML page (copied), no-store, with the page security headers. */
enum MHD_Result reply_html(struct request *req, unsigned int status, const char *html,
    size_t len);

/* 303 See Other to location (never cached). */
enum MHD_Result reply_redirect(struct request *req, const char *location);

/* Plain text with a content type (metrics, health). */
enum MHD_Result reply_text(struct request *req, unsigned int status, const char *content_type,
    const char *text, size_t len, unsigned int flags);

/* A response holding a copy of data, with Content-Type and the common headers;
 * NULL on failure. For responses that are built once and queued many times. */
struct MHD_Response *reply_response_new(const char *data, size_t len, const char *content_type,
    unsigned int flags);

/* Queue a prepared response and record its status. */
enum MHD_Result reply_queue(struct request *req, unsigned int status, struct MHD_Response *resp);

#endif
