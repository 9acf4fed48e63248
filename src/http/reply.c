/* Responses: every one goes through reply_queue, which adds the common headers. */
#include "config.h"

#include "http/reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
reply_add_common_headers(struct MHD_Response *resp, unsigned int flags)
{
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	if (flags & REPLY_NO_STORE) {
		MHD_add_response_header(resp, "Cache-Control", "no-store");
		MHD_add_response_header(resp, "Pragma", "no-cache");
	}
	if (flags & REPLY_CORS)
		MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
}

enum MHD_Result
reply_queue(struct request *req, unsigned int status, struct MHD_Response *resp)
{
	enum MHD_Result r;
	int i;

	if (resp == NULL)
		return MHD_NO;
	for (i = 0; i < req->n_set_cookie; i++)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, req->set_cookie[i]);
	/* Every 503 says when to come back (a database failover takes seconds). */
	if (req->retry_after[0] == '\0' && status == MHD_HTTP_SERVICE_UNAVAILABLE)
		snprintf(req->retry_after, sizeof(req->retry_after), "1");
	if (req->retry_after[0] != '\0')
		MHD_add_response_header(resp, "Retry-After", req->retry_after);
	/* Shutting down: this answer is the connection's last, so that keep-alive clients
	 * let go and the server can stop without cutting anyone off. */
	if (req->app->stopping)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	r = MHD_queue_response(req->conn, status, resp);
	MHD_destroy_response(resp);
	req->status = status;
	req->responded = 1;
	return r;
}

struct MHD_Response *
reply_response_new(const char *data, size_t len, const char *content_type, unsigned int flags)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(len, (void *)(uintptr_t)data, MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return NULL;
	MHD_add_response_header(resp, "Content-Type", content_type);
	reply_add_common_headers(resp, flags);
	return resp;
}

enum MHD_Result
reply_text(struct request *req, unsigned int status, const char *content_type, const char *text,
    size_t len, unsigned int flags)
{
	return reply_queue(req, status, reply_response_new(text, len, content_type, flags));
}

enum MHD_Result
reply_json_text(struct request *req, unsigned int status, const char *text, size_t len,
    unsigned int flags)
{
	return reply_text(req, status, "application/json", text, len, flags);
}

enum MHD_Result
reply_json(struct request *req, unsigned int status, const json_t *doc, unsigned int flags)
{
	char *text = json_dumps(doc, JSON_COMPACT);
	enum MHD_Result r;

	if (text == NULL)
		return MHD_NO;
	r = reply_json_text(req, status, text, strlen(text), flags);
	free(text);
	return r;
}

/* The error body, with one more member when extra_name is set. */
static enum MHD_Result
error_reply(struct request *req, unsigned int status, const char *error, const char *description,
    const char *extra_name, const char *extra_value, const char *challenge)
{
	struct MHD_Response *resp;
	json_t *doc;
	char *text;

	req->error = error;
	doc = json_pack("{s:s}", "error", error);
	if (doc != NULL && description != NULL)
		json_object_set_new(doc, "error_description", json_string(description));
	if (doc != NULL && extra_name != NULL && extra_value != NULL)
		json_object_set_new(doc, extra_name, json_string(extra_value));
	text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	if (text == NULL)
		return MHD_NO;
	resp = reply_response_new(text, strlen(text), "application/json", REPLY_NO_STORE | REPLY_CORS);
	free(text);
	if (resp != NULL && status == 401)
		MHD_add_response_header(resp, "WWW-Authenticate",
		    challenge != NULL ? challenge : "Basic realm=\"mcp-authd\"");
	return reply_queue(req, status, resp);
}

enum MHD_Result
reply_error_status(struct request *req, unsigned int status, const char *error,
    const char *description)
{
	return error_reply(req, status, error, description, NULL, NULL, NULL);
}

enum MHD_Result
reply_oauth_error_with(struct request *req, enum oauth_error e, const char *description,
    const char *name, const char *value)
{
	return error_reply(req, (unsigned int)oauth_error_status(e), oauth_error_name(e),
	    description, name, value, NULL);
}

enum MHD_Result
reply_bearer_challenge(struct request *req, const char *description)
{
	return error_reply(req, 401, "invalid_token", description, NULL, NULL,
	    "Bearer realm=\"mcp-authd\", error=\"invalid_token\"");
}

enum MHD_Result
reply_oauth_error(struct request *req, enum oauth_error e, const char *description)
{
	return reply_error_status(req, (unsigned int)oauth_error_status(e), oauth_error_name(e),
	    description);
}

enum MHD_Result
reply_html(struct request *req, unsigned int status, const char *html, size_t len)
{
	struct MHD_Response *resp;

	resp = reply_response_new(html, len, "text/html; charset=utf-8", REPLY_NO_STORE);
	if (resp == NULL)
		return MHD_NO;
	/* Pages carry their own styles inline and no scripts at all. */
	MHD_add_response_header(resp, "Content-Security-Policy",
	    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
	    "frame-ancestors 'none'; base-uri 'none'");
	return reply_queue(req, status, resp);
}

enum MHD_Result
reply_redirect(struct request *req, const char *location)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	reply_add_common_headers(resp, REPLY_NO_STORE);
	MHD_add_response_header(resp, "Location", location);
	return reply_queue(req, MHD_HTTP_SEE_OTHER, resp);
}
