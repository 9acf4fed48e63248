/* Page rendering through util/tmpl (every value escaped). */
#include "config.h"

#include "http/pages.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/reply.h"
#include "oauth/redirect.h"
#include "util/embedded.h"
#include "util/log.h"
#include "util/tmpl.h"

static const char *const page_files[] = {"login.html", "consent.html", "error.html",
    "connections.html"};

static char *
read_file(const char *path)
{
	struct buf b;
	char chunk[4096];
	size_t n;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return NULL;
	buf_init(&b, 256 * 1024);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_append(&b, chunk, n) != BUF_OK) {
			buf_free(&b);
			fclose(f);
			errno = EFBIG;
			return NULL;
		}
	}
	fclose(f);
	return buf_take(&b);
}

int
pages_load(struct app *app, char *err, size_t errlen)
{
	const struct embedded_file *e;
	json_t *probe = json_object();
	struct buf out;
	size_t i;
	int rc = 0;

	for (i = 0; i < sizeof(page_files) / sizeof(page_files[0]); i++) {
		char path[4096];

		free(app->templates[i]);
		app->templates[i] = NULL;
		if (app->cfg->templates_dir != NULL) {
			snprintf(path, sizeof(path), "%s/%s", app->cfg->templates_dir, page_files[i]);
			app->templates[i] = read_file(path);
			/* A branding directory made before a page existed keeps working: the page
			 * it lacks is the default one. */
			if (app->templates[i] == NULL &&
			    (errno != ENOENT || i < (size_t)PAGE_CONNECTIONS)) {
				snprintf(err, errlen, "template %s: %s", path, strerror(errno));
				rc = -1;
				break;
			}
		}
		if (app->templates[i] == NULL) {
			for (e = embedded_templates; e->name != NULL; e++) {
				if (strcmp(e->name, page_files[i]) == 0)
					app->templates[i] = strdup(e->data);
			}
			if (app->templates[i] == NULL) {
				snprintf(err, errlen, "template %s missing from the build", page_files[i]);
				rc = -1;
				break;
			}
		}
		/* A broken template is found at start-up, not by the first user. */
		buf_init(&out, 1024 * 1024);
		if (tmpl_render(app->templates[i], strlen(app->templates[i]), probe, &out) != 0) {
			snprintf(err, errlen, "template %s does not parse", page_files[i]);
			rc = -1;
		}
		buf_free(&out);
		if (rc != 0)
			break;
	}
	json_decref(probe);
	return rc;
}

enum MHD_Result
page_reply(struct request *req, unsigned int status, enum page page, json_t *ctx)
{
	const char *t = req->app->templates[page];
	char *host = redirect_uri_host_new(req->app->issuer);
	enum MHD_Result r;
	struct buf out;

	buf_init(&out, 1024 * 1024);
	if (ctx == NULL)
		ctx = json_object();
	json_object_set_new(ctx, "issuer", json_string(req->app->issuer));
	json_object_set_new(ctx, "issuer_name", json_string(host ? host : req->app->issuer));
	free(host);
	if (t == NULL || tmpl_render(t, strlen(t), ctx, &out) != 0) {
		log_error("page %d did not render", (int)page);
		json_decref(ctx);
		buf_free(&out);
		return reply_error_status(req, 500, "server_error", "page rendering failed");
	}
	json_decref(ctx);
	r = reply_html(req, status, out.data, out.len);
	buf_free(&out);
	return r;
}

enum MHD_Result
page_error(struct request *req, unsigned int status, const char *error, const char *title,
    const char *message)
{
	return page_reply(req, status, PAGE_ERROR,
	    json_pack("{s:s, s:s, s:s}", "error", error, "title", title, "message", message));
}
