/* Audit records to the database and an optional JSON-lines file. */
#include "config.h"

#include "oauth/audit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

struct audit_sink {
	pthread_mutex_t lock;
	char *path;
	FILE *file;
};

int
audit_sink_open(const char *path, struct audit_sink **out)
{
	struct audit_sink *s;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -1;
	pthread_mutex_init(&s->lock, NULL);
	if (path != NULL && path[0] != '\0') {
		if ((s->path = strdup(path)) == NULL || (s->file = fopen(path, "ae")) == NULL) {
			audit_sink_close(s);
			return -1;
		}
	}
	*out = s;
	return 0;
}

int
audit_sink_reopen(struct audit_sink *s)
{
	FILE *f;
	int rc = 0;

	if (s == NULL || s->path == NULL)
		return 0;
	pthread_mutex_lock(&s->lock);
	if ((f = fopen(s->path, "ae")) != NULL) {
		if (s->file != NULL)
			fclose(s->file);
		s->file = f;
	} else {
		rc = -1;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void
audit_sink_close(struct audit_sink *s)
{
	if (s == NULL)
		return;
	if (s->file != NULL)
		fclose(s->file);
	free(s->path);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

json_t *
audit_json(const struct store_audit *a)
{
	json_t *o = json_pack("{s:I, s:s, s:s}", "ts", (json_int_t)a->ts, "event", a->event,
	    "outcome", a->outcome);

	if (o == NULL)
		return NULL;
#define OPT(k, v)                                            \
	if ((v) != NULL)                                     \
		json_object_set_new(o, (k), json_string(v));
	OPT("reason", a->reason)
	OPT("client_id", a->client_id)
	OPT("sub", a->subject)
	OPT("resource", a->resource)
	OPT("jti", a->jti)
	OPT("remote_addr", a->remote_addr)
	OPT("detail", a->detail)
#undef OPT
	if (a->act != NULL) {
		json_t *act = json_loads(a->act, 0, NULL);

		json_object_set_new(o, "act", act ? act : json_string(a->act));
	}
	return o;
}

int
audit_write(struct store *st, struct audit_sink *sink, const struct store_audit *a)
{
	int rc = store_audit_add(st, a);

	if (rc != STORE_OK)
		log_error("audit record not stored: %s", store_errmsg(st));
	if (sink != NULL && sink->file != NULL) {
		json_t *o = audit_json(a);
		char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;

		if (line != NULL) {
			pthread_mutex_lock(&sink->lock);
			fprintf(sink->file, "%s\n", line);
			fflush(sink->file);
			pthread_mutex_unlock(&sink->lock);
		}
		free(line);
		json_decref(o);
	}
	return rc == STORE_OK ? 0 : -1;
}
