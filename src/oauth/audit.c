/* Audit records to the database and an optional JSON-lines file. */
#include "config.h"

#include "oauth/audit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/log.h"

#define BATCH_MAX 256
#define BATCH_INTERVAL_MS 50
#define QUEUE_MAX 65536
#define WAL_CHECKPOINT_FRAMES 1000 /* SQLite's own default threshold */

/* A queued record owns copies of its strings. */
struct queued {
	struct store_audit a;
	char *strings[11];
	struct queued *next;
};

struct audit_sink {
	pthread_mutex_t lock;      /* guards file */
	char *path;
	FILE *file;

	pthread_mutex_t qlock;     /* guards the queue and the writer's state */
	pthread_cond_t qwake;
	struct queued *head, *tail;
	size_t queued;
	int writer_running;
	int writer_stop;
	pthread_t writer;
	struct store *writer_store;
};

int
audit_sink_open(const char *path, struct audit_sink **out)
{
	struct audit_sink *s;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -1;
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->qlock, NULL);
	pthread_cond_init(&s->qwake, NULL);
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
	audit_sink_stop_writer(s);
	if (s->file != NULL)
		fclose(s->file);
	free(s->path);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->qlock);
	pthread_cond_destroy(&s->qwake);
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

static void
file_line(struct audit_sink *sink, const struct store_audit *a)
{
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
}

int
audit_write(struct store *st, struct audit_sink *sink, const struct store_audit *a)
{
	int rc = store_audit_add(st, a);

	if (rc != STORE_OK)
		log_error("audit record not stored: %s", store_errmsg(st));
	file_line(sink, a);
	return rc == STORE_OK ? 0 : -1;
}

static void
queued_free(struct queued *q)
{
	size_t i;

	for (i = 0; i < sizeof(q->strings) / sizeof(q->strings[0]); i++)
		free(q->strings[i]);
	free(q);
}

static struct queued *
queued_new(const struct store_audit *a)
{
	const char *src[11] = {a->event, a->outcome, a->reason, a->client_id, a->subject,
	    a->resource, a->act, a->jti, a->remote_addr, a->detail, NULL};
	const char **dst[11];
	struct queued *q = calloc(1, sizeof(*q));
	size_t i;

	if (q == NULL)
		return NULL;
	q->a.ts = a->ts;
	dst[0] = &q->a.event;
	dst[1] = &q->a.outcome;
	dst[2] = &q->a.reason;
	dst[3] = &q->a.client_id;
	dst[4] = &q->a.subject;
	dst[5] = &q->a.resource;
	dst[6] = &q->a.act;
	dst[7] = &q->a.jti;
	dst[8] = &q->a.remote_addr;
	dst[9] = &q->a.detail;
	for (i = 0; i < 10; i++) {
		if (src[i] == NULL)
			continue;
		if ((q->strings[i] = strdup(src[i])) == NULL) {
			queued_free(q);
			return NULL;
		}
		*dst[i] = q->strings[i];
	}
	return q;
}

/* Commit one batch: the records leave the queue only once they are in the table. */
static void
write_batch(struct audit_sink *s, struct queued *batch)
{
	struct queued *q;
	int tries;

	for (tries = 0; tries < 50; tries++) {
		if (store_begin(s->writer_store) != STORE_OK) {
			struct timespec ts = {0, 20 * 1000000};

			nanosleep(&ts, NULL);
			continue;
		}
		for (q = batch; q != NULL; q = q->next)
			store_audit_add(s->writer_store, &q->a);
		if (store_commit(s->writer_store) == STORE_OK)
			break;
	}
	if (tries == 50)
		log_error("audit batch lost: database stayed busy");
	for (q = batch; q != NULL; q = q->next)
		file_line(s, &q->a);
	while (batch != NULL) {
		q = batch->next;
		queued_free(batch);
		batch = q;
	}
}

static void *
writer_main(void *arg)
{
	struct audit_sink *s = arg;
	struct queued *batch, *last;
	struct timespec until;
	size_t n;

	for (;;) {
		pthread_mutex_lock(&s->qlock);
		/* Idle, it still wakes every 100 ms to checkpoint the WAL that the request
		 * threads (which never checkpoint themselves) have grown. */
		while (s->head == NULL && !s->writer_stop) {
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += 100 * 1000000L;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			if (pthread_cond_timedwait(&s->qwake, &s->qlock, &until) != 0) {
				pthread_mutex_unlock(&s->qlock);
				store_checkpoint(s->writer_store, WAL_CHECKPOINT_FRAMES);
				pthread_mutex_lock(&s->qlock);
			}
		}
		if (s->head == NULL && s->writer_stop) {
			pthread_mutex_unlock(&s->qlock);
			return NULL;
		}
		/* Let a batch gather for up to 50 ms unless it is already full. */
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += BATCH_INTERVAL_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (s->queued < BATCH_MAX && !s->writer_stop &&
		    pthread_cond_timedwait(&s->qwake, &s->qlock, &until) == 0)
			;
		batch = s->head;
		for (last = batch, n = 1; last->next != NULL && n < BATCH_MAX; last = last->next)
			n++;
		s->head = last->next;
		if (s->head == NULL)
			s->tail = NULL;
		last->next = NULL;
		s->queued -= n;
		pthread_mutex_unlock(&s->qlock);
		write_batch(s, batch);
		store_checkpoint(s->writer_store, WAL_CHECKPOINT_FRAMES);
	}
}

int
audit_sink_start_writer(struct audit_sink *s, const char *db_path, const struct store_options *opt)
{
	if (store_open(db_path, opt, &s->writer_store) != STORE_OK)
		return -1;
	if (pthread_create(&s->writer, NULL, writer_main, s) != 0) {
		store_close(s->writer_store);
		s->writer_store = NULL;
		return -1;
	}
	s->writer_running = 1;
	return 0;
}

void
audit_sink_stop_writer(struct audit_sink *s)
{
	if (s == NULL || !s->writer_running)
		return;
	pthread_mutex_lock(&s->qlock);
	s->writer_stop = 1;
	pthread_cond_broadcast(&s->qwake);
	pthread_mutex_unlock(&s->qlock);
	pthread_join(s->writer, NULL);
	s->writer_running = 0;
	store_close(s->writer_store);
	s->writer_store = NULL;
}

int
audit_submit(struct audit_sink *s, struct store *st, const struct store_audit *a)
{
	struct queued *q;

	if (s == NULL || !s->writer_running || (q = queued_new(a)) == NULL)
		return audit_write(st, s, a);
	pthread_mutex_lock(&s->qlock);
	if (s->queued >= QUEUE_MAX || s->writer_stop) {
		pthread_mutex_unlock(&s->qlock);
		queued_free(q);
		return audit_write(st, s, a);
	}
	if (s->tail != NULL)
		s->tail->next = q;
	else
		s->head = q;
	s->tail = q;
	s->queued++;
	if (s->queued == 1 || s->queued >= BATCH_MAX)
		pthread_cond_signal(&s->qwake);
	pthread_mutex_unlock(&s->qlock);
	return 0;
}

int
audit_submit_detail(struct audit_sink *s, struct store *st, const struct store_audit *a,
    const json_t *detail)
{
	struct store_audit with = *a;
	char *text = detail != NULL ? json_dumps(detail, JSON_COMPACT) : NULL;
	int rc;

	with.detail = text;
	rc = audit_submit(s, st, &with);
	free(text);
	return rc;
}

int
audit_submit_refusal(struct audit_sink *s, struct store *st, const char *event,
    const char *reason, const char *client_id, const char *remote_addr, const json_t *detail)
{
	struct store_audit a;

	memset(&a, 0, sizeof(a));
	a.ts = (int64_t)time(NULL);
	a.event = event;
	a.outcome = "refused";
	a.reason = reason;
	a.client_id = client_id;
	a.remote_addr = remote_addr;
	return audit_submit_detail(s, st, &a, detail);
}
