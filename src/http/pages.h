/* HTML pages from templates: the only way the server writes HTML. */
#ifndef MCP_HTTP_PAGES_H
#define MCP_HTTP_PAGES_H

#include <jansson.h>

#include "http/app.h"
#include "http/request.h"

/* Load the templates: from templates_dir when set (operators' branding), else the
 * defaults compiled into the binary. Every template is test-rendered. */
int pages_load(struct app *app, char *err, size_t errlen);

/* Render page with ctx (consumed) plus issuer and issuer_name, and queue it. */
enum MHD_Result page_reply(struct request *req, unsigned int status, enum page page, json_t *ctx);

/* The error page: no redirect anywhere. */
enum MHD_Result page_error(struct request *req, unsigned int status, const char *error,
    const char *title, const char *message);

#endif
