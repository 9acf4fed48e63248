/* Scope set operations on space-separated strings. */
#include "config.h"

#include "oauth/scope.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

static int
nqchar(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
}

int
scope_valid(const char *s)
{
	size_t n = 0;
	int in_token = 0;

	if (s == NULL)
		return 0;
	for (; *s != '\0'; s++, n++) {
		if (n >= SCOPE_MAX_LEN)
			return 0;
		if (*s == ' ') {
			if (!in_token)
				return 0;
			in_token = 0;
		} else if (nqchar((unsigned char)*s)) {
			in_token = 1;
		} else {
			return 0;
		}
	}
	return n == 0 || in_token;
}

/* Next token of *p: sets *tok and *len, advances *p; 0 at the end. */
static int
next_token(const char **p, const char **tok, size_t *len)
{
	const char *s = *p;

	while (*s == ' ')
		s++;
	if (*s == '\0')
		return 0;
	*tok = s;
	while (*s != '\0' && *s != ' ')
		s++;
	*len = (size_t)(s - *tok);
	*p = s;
	return 1;
}

static int
has_n(const char *list, const char *token, size_t n)
{
	const char *p = list, *t;
	size_t len;

	while (next_token(&p, &t, &len)) {
		if (len == n && memcmp(t, token, n) == 0)
			return 1;
	}
	return 0;
}

int
scope_has(const char *list, const char *token)
{
	return list != NULL && has_n(list, token, strlen(token));
}

int
scope_subset(const char *a, const char *b)
{
	const char *p = a, *t;
	size_t len;

	if (a == NULL)
		return 1;
	while (next_token(&p, &t, &len)) {
		if (b == NULL || !has_n(b, t, len))
			return 0;
	}
	return 1;
}

char *
scope_intersect_new(const char *a, const char *b)
{
	const char *p = a ? a : "", *t;
	struct buf out;
	size_t len;

	buf_init(&out, SCOPE_MAX_LEN * 2);
	while (next_token(&p, &t, &len)) {
		if (b == NULL || !has_n(b, t, len) || (out.data && has_n(out.data, t, len)))
			continue;
		if ((out.len > 0 && buf_putc(&out, ' ') != 0) || buf_append(&out, t, len) != 0) {
			buf_free(&out);
			return NULL;
		}
	}
	return buf_take(&out);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *
scope_sorted_new(const char *s)
{
	char *copy, *p, **v = NULL, *res = NULL;
	size_t n = 0, i;
	struct buf out;

	buf_init(&out, SCOPE_MAX_LEN * 2);
	if ((copy = strdup(s ? s : "")) == NULL)
		return NULL;
	if ((v = calloc(strlen(copy) / 2 + 1, sizeof(*v))) == NULL)
		goto out;
	for (p = copy; *p != '\0';) {
		while (*p == ' ')
			*p++ = '\0';
		if (*p == '\0')
			break;
		v[n++] = p;
		while (*p != '\0' && *p != ' ')
			p++;
	}
	qsort(v, n, sizeof(*v), cmp_str);
	for (i = 0; i < n; i++) {
		if (i > 0 && strcmp(v[i], v[i - 1]) == 0)
			continue;
		if ((out.len > 0 && buf_putc(&out, ' ') != 0) || buf_puts(&out, v[i]) != 0)
			goto out;
	}
	res = buf_take(&out);
out:
	buf_free(&out);
	free(v);
	free(copy);
	return res;
}

json_t *
scope_json_array(const char *s)
{
	const char *p = s ? s : "", *t;
	json_t *a = json_array();
	size_t len;

	while (a != NULL && next_token(&p, &t, &len)) {
		if (json_array_append_new(a, json_stringn(t, len)) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}
