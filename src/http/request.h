/* Per-request state shared by the server glue and the endpoints. */
#ifndef MCP_HTTP_REQUEST_H
#define MCP_HTTP_REQUEST_H

#include <stdint.h>

#include <microhttpd.h>

#include "http/app.h"
#include "http/form.h"
#include "util/buf.h"
#include "util/hashpool.h"

struct route;

struct request {
	struct app *app;
	struct MHD_Connection *conn;
	const struct route *route;
	char *path;                /* request path below the issuer path */
	char method[12];
	struct buf body;
	int body_too_large;
	int responded;
	unsigned int status;
	char remote_addr[64];
	const char *log_client;    /* client_id for the request log line, borrowed */
	char log_client_buf[128];
	int64_t started_us;
	struct hash_job *job;      /* argon2 work handed to the hash pool */
	volatile int job_finished;
	char *set_cookie[4];       /* Set-Cookie values for the response */
	int n_set_cookie;
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

enum {
	ASYNC_DONE = 0,     /* the result is in *match */
	ASYNC_PENDING = 1,  /* the connection is suspended: return MHD_YES, reply later */
	ASYNC_BUSY = -1,    /* the hash pool is full or stopping: answer 503 */
};

/* Verify secret against an argon2id hash without blocking the event thread: the
 * first call suspends the connection and hands the work to the hash pool; when it
 * is done the endpoint runs again from the start and the same call returns
 * ASYNC_DONE with *match set (1 match, 0 not). Endpoints must do nothing with
 * side effects before this call. */
int request_password_verify(struct request *req, const char *encoded, const char *secret,
    int *match);

/* A cookie of the request, or NULL. */
const char *request_cookie(struct request *req, const char *name);

/* Add a Set-Cookie to the response: HttpOnly, SameSite=Lax, Path=/, and Secure when
 * the issuer is https. max_age 0 deletes the cookie. */
int request_set_cookie(struct request *req, const char *name, const char *value,
    int64_t max_age);

/* The name of one of our cookies: "__Host-<base>" when the issuer is https. */
void request_cookie_name(const struct request *req, const char *base, char *out, size_t outlen);

#endif
