/* Per-request state shared by the server glue and the endpoints. */
#ifndef MCP_HTTP_REQUEST_H
#define MCP_HTTP_REQUEST_H

#include <stdint.h>

#include <microhttpd.h>

#include "http/app.h"
#include "http/form.h"
#include "util/buf.h"

struct route;
struct async_job;

struct request {
	struct app *app;
	struct MHD_Connection *conn;
	const struct route *route;
	char *path;                /* request path below the issuer path */
	char method[12];
	struct buf body;
	int body_too_large;
	size_t discarded;          /* bytes of a too-large body read and dropped */
	int responded;
	unsigned int status;
	char remote_addr[64];
	const char *log_client;    /* client_id for the request log line, borrowed */
	const char *error;         /* OAuth error code of an error reply (static), for metrics */
	const char *grant;         /* token requests: grant type label (static), for metrics */
	char log_client_buf[128];
	int64_t started_us;
	struct async_job *async;   /* slow work on a pool (http/async.h) */
	volatile int async_finished;
	char *set_cookie[4];       /* Set-Cookie values for the response */
	int n_set_cookie;
	char retry_after[24];      /* Retry-After of the response (seconds), or "" */
	int client_counted;        /* 1: holds a per-client request count (http/guard.h); -1: over it */
};

/* Endpoint handlers: queue exactly one response and return its MHD result. */
typedef enum MHD_Result (*endpoint_fn)(struct request *req);

/* Header value of the request, or NULL. */
const char *request_header(struct request *req, const char *name);

/* Parse the urlencoded body (POST) into f; FORM_* code. Requires
 * Content-Type application/x-www-form-urlencoded (else FORM_BAD_ENCODING). */
int request_form_body(struct request *req, struct form *f);

/* Collect the query arguments into f; FORM_* code. */
int request_form_query(struct request *req, struct form *f);

/* Remember the client for the request log line. */
void request_log_client(struct request *req, const char *client_id);

/* A cookie of the request, or NULL. */
const char *request_cookie(struct request *req, const char *name);

/* Add a Set-Cookie to the response: HttpOnly, SameSite=Lax, Path=/, and Secure when
 * the issuer is https. max_age 0 deletes the cookie. */
int request_set_cookie(struct request *req, const char *name, const char *value,
    int64_t max_age);

/* The name of one of our cookies: "__Host-<base>" when the issuer is https. */
void request_cookie_name(const struct request *req, const char *base, char *out, size_t outlen);

#endif
