/* The one interface over both backends: the backend is picked from the location when a
 * store opens, and every operation goes through its table; changes to what the registry
 * cache holds bring this process's cache up to date when they commit. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "store/backend.h"
#include "store/cache.h"

int
store_rc_transient(int rc)
{
	return rc == STORE_BUSY || rc == STORE_UNAVAILABLE || rc == STORE_RETRY ||
	    rc == STORE_UNKNOWN;
}

int
store_location_is_url(const char *location)
{
	return location != NULL && (strncasecmp(location, "postgresql://", 13) == 0 ||
	    strncasecmp(location, "postgres://", 11) == 0);
}

/* Where a URI keeps passwords. libpq ends the userinfo at the first '@' before any
 * '/' and the password at that '@'; someone who wrote a raw '@' into a password meant
 * the last one: mask up to the last '@' before the first '/', which covers both. The
 * password starts after the first ':'. Query parameters start at the first '?' after
 * the userinfo and end at '&'. Spans [from, to) into location, at most max; how many. */
#define MAX_PASSWORDS 8

struct span {
	size_t from, to;
};

static int
password_spans(const char *location, struct span *out, int max)
{
	const char *auth, *q, *colon, *after, *at;
	int n = 0;

	if (!store_location_is_url(location))
		return 0;
	auth = strstr(location, "://") + 3;
	at = NULL;
	for (q = auth; *q != '\0' && *q != '/'; q++) {
		if (*q == '@')
			at = q;
	}
	after = auth;
	if (at != NULL) {
		after = at + 1;
		if ((colon = memchr(auth, ':', (size_t)(at - auth))) != NULL && n < max) {
			out[n].from = (size_t)(colon + 1 - location);
			out[n++].to = (size_t)(at - location);
		}
	}
	for (q = strchr(after, '?'); q != NULL && n < max; q = strchr(q + 1, '&')) {
		if (strncasecmp(q + 1, "password=", 9) == 0) {
			out[n].from = (size_t)(q + 10 - location);
			out[n].to = out[n].from + strcspn(q + 10, "&");
			n++;
		}
	}
	return n;
}

char *
store_location_masked_new(const char *location)
{
	struct span spans[MAX_PASSWORDS];
	size_t len, at = 0, o = 0;
	char *out;
	int i, n;

	if (location == NULL)
		return NULL;
	n = password_spans(location, spans, MAX_PASSWORDS);
	len = strlen(location);
	if ((out = malloc(len + 4 * (size_t)n + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		memcpy(out + o, location + at, spans[i].from - at);
		o += spans[i].from - at;
		memcpy(out + o, "****", 4);
		o += 4;
		at = spans[i].to;
	}
	memcpy(out + o, location + at, len - at + 1);
	return out;
}

/* Replace each appearance of secret[0..n) in text (NUL-terminated within cap bytes) by
 * "****". A mask longer than the secret grows the text: what no longer fits is cut off,
 * from the mask on when even the mask does not fit, so that no part of a secret is left
 * and nothing is read or written past cap. */
static void
scrub_one(char *text, size_t cap, const char *secret, size_t n)
{
	size_t len = strnlen(text, cap - 1), pos = 0, at, rest;
	char *hit;

	text[len] = '\0';
	if (n == 0)
		return;
	while (pos < len && (hit = memmem(text + pos, len - pos, secret, n)) != NULL) {
		at = (size_t)(hit - text);
		if (at + 4 > cap - 1) {
			text[at] = '\0';
			return;
		}
		rest = len - at - n;
		if (at + 4 + rest > cap - 1)
			rest = 0; /* the tail could hold the start of another appearance */
		memmove(hit + 4, hit + n, rest);
		memcpy(hit, "****", 4);
		len = at + 4 + rest;
		text[len] = '\0';
		pos = at + 4;
	}
}

/* secret[0..n) percent-decoded into out (cap bytes); its length. */
static size_t
percent_decode(const char *secret, size_t n, char *out, size_t cap)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 1 < cap; i++) {
		unsigned int v;

		if (secret[i] == '%' && i + 2 < n && sscanf(secret + i + 1, "%2x", &v) == 1) {
			out[o++] = (char)v;
			i += 2;
		} else {
			out[o++] = secret[i];
		}
	}
	out[o] = '\0';
	return o;
}

void
store_scrub_password(const char *location, char *text, size_t cap)
{
	struct span spans[MAX_PASSWORDS];
	char decoded[256];
	int i, n;

	if (text == NULL || cap < 5)
		return;
	n = password_spans(location, spans, MAX_PASSWORDS);
	for (i = 0; i < n; i++) {
		size_t len = spans[i].to - spans[i].from;

		scrub_one(text, cap, location + spans[i].from, len);
		if (len < sizeof(decoded))
			scrub_one(text, cap,
			    decoded, percent_decode(location + spans[i].from, len, decoded, sizeof(decoded)));
	}
	OPENSSL_cleanse(decoded, sizeof(decoded)); /* it held a password */
}

char *
store_memory_path_new(void)
{
	return sqlite_memory_path_new();
}

static _Thread_local char open_error[256];

const char *
store_open_error(void)
{
	return open_error;
}

void
store_set_open_error(const char *why)
{
	snprintf(open_error, sizeof(open_error), "%s", why ? why : "");
}

int
store_open(const char *location, const struct store_options *opt, struct store **out)
{
	int rc;

	*out = NULL;
	open_error[0] = '\0';
	if (store_location_is_url(location))
		rc = pgsql_open(location, opt, out);
	else
		rc = sqlite_open(location, opt, out);
	if (rc != STORE_OK && open_error[0] == '\0')
		store_set_open_error(rc == STORE_UNAVAILABLE ? "unreachable" : "cannot open");
	if (rc == STORE_OK && opt != NULL)
		(*out)->cache = opt->cache;
	if (rc == STORE_UNAVAILABLE && opt != NULL)
		store_cache_note_unavailable(opt->cache);
	return rc;
}

void
store_close(struct store *st)
{
	if (st != NULL)
		st->be->close(st);
}

const char *
store_backend_name(const struct store *st)
{
	return st->be->name;
}

const char *
store_errmsg(struct store *st)
{
	return st != NULL ? st->be->errmsg(st) : "no database";
}

/* Every answer passes here: a connection that found the database gone tells the cache,
 * so that the token endpoint answers 503 at once instead of each request waiting. (An
 * unknown outcome is one statement's, not the database's state.) */
static int
seen(struct store *st, int rc)
{
	if (rc == STORE_UNAVAILABLE)
		store_cache_note_unavailable(st->cache);
	return rc;
}

int
store_begin(struct store *st)
{
	int rc = seen(st, st->be->begin(st));

	if (rc == STORE_OK) {
		st->in_tx = 1;
		st->registry_dirty = 0;
	}
	return rc;
}

int
store_commit(struct store *st)
{
	int rc = seen(st, st->be->commit(st)), dirty = st->registry_dirty;

	st->in_tx = 0;
	st->registry_dirty = 0;
	if (rc == STORE_OK && dirty)
		store_cache_catch_up(st->cache, st);
	return rc;
}

void
store_rollback(struct store *st)
{
	st->be->rollback(st);
	st->in_tx = 0;
	st->registry_dirty = 0;
}

void
store_registry_touched(struct store *st)
{
	if (st->cache == NULL)
		return;
	if (st->in_tx)
		st->registry_dirty = 1;
	else
		store_cache_catch_up(st->cache, st);
}

#define STORE_PLAIN_WRAPPER(name, params, args)                                                  \
	int store_##name params                                                                  \
	{                                                                                        \
		return seen(st, st->be->name args);                                              \
	}
STORE_PLAIN_OPS(STORE_PLAIN_WRAPPER)
#undef STORE_PLAIN_WRAPPER

#define STORE_WRITE_WRAPPER(name, params, args)                                                  \
	int store_##name params                                                                  \
	{                                                                                        \
		int rc = seen(st, st->be->name args);                                            \
                                                                                                 \
		if (rc == STORE_OK)                                                              \
			store_registry_touched(st);                                              \
		return rc;                                                                       \
	}
STORE_REGISTRY_WRITE_OPS(STORE_WRITE_WRAPPER)
#undef STORE_WRITE_WRAPPER

int
store_migration_number(const char *name)
{
	int n = 0, digits = 0;

	while (*name >= '0' && *name <= '9') {
		n = n * 10 + (*name++ - '0');
		digits++;
	}
	return (digits > 0 && *name == '_') ? n : -1;
}
