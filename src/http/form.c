/* Strict urlencoded form decoding: bounded, no NULs, no control bytes, valid UTF-8. */
#include "config.h"

#include "http/form.h"

#include <stdlib.h>
#include <string.h>

#include "util/text.h"

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode in[0..n) into a new string. */
int
form_decode(const char *in, size_t n, char **out)
{
	char *o, *p;
	size_t i;

	*out = NULL;
	if (n > FORM_MAX_VALUE * 3)
		return FORM_TOO_LONG;
	if ((o = malloc(n + 1)) == NULL)
		return FORM_NOMEM;
	for (i = 0, p = o; i < n; i++) {
		if (in[i] == '+') {
			*p++ = ' ';
		} else if (in[i] == '%') {
			int hi, lo;

			if (i + 2 >= n) {
				free(o);
				return FORM_BAD_ENCODING;
			}
			hi = hexval(in[i + 1]);
			lo = hexval(in[i + 2]);
			if (hi < 0 || lo < 0) {
				free(o);
				return FORM_BAD_ENCODING;
			}
			*p++ = (char)(hi * 16 + lo);
			i += 2;
		} else {
			*p++ = in[i];
		}
	}
	*p = '\0';
	if ((size_t)(p - o) > FORM_MAX_VALUE) {
		free(o);
		return FORM_TOO_LONG;
	}
	if (!text_valid((const unsigned char *)o, (size_t)(p - o))) {
		free(o);
		return FORM_BAD_ENCODING;
	}
	*out = o;
	return FORM_OK;
}

void
form_clear(struct form *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		free(f->v[i].name);
		free(f->v[i].value);
	}
	memset(f, 0, sizeof(*f));
}

int
form_check_limits(const struct form *f, size_t max_params, size_t max_len)
{
	size_t i;

	if (f->n > max_params)
		return FORM_TOO_MANY;
	for (i = 0; i < f->n; i++) {
		if (strlen(f->v[i].name) > max_len || strlen(f->v[i].value) > max_len)
			return FORM_TOO_LONG;
	}
	return FORM_OK;
}

const char *
form_strerror(int rc)
{
	switch (rc) {
	case FORM_OK:
		return "no error";
	case FORM_TOO_MANY:
		return "too many parameters";
	case FORM_TOO_LONG:
		return "a parameter is too long";
	case FORM_NOMEM:
		return "out of memory";
	default:
		return "the parameters must be application/x-www-form-urlencoded UTF-8";
	}
}

int
form_add(struct form *f, const char *name, const char *value)
{
	size_t nl = strlen(name), vl = strlen(value);

	if (f->n >= FORM_MAX_PARAMS)
		return FORM_TOO_MANY;
	if (nl > FORM_MAX_VALUE || vl > FORM_MAX_VALUE)
		return FORM_TOO_LONG;
	if (!text_valid((const unsigned char *)name, nl) || !text_valid((const unsigned char *)value, vl))
		return FORM_BAD_ENCODING;
	if ((f->v[f->n].name = strdup(name)) == NULL)
		return FORM_NOMEM;
	if ((f->v[f->n].value = strdup(value)) == NULL) {
		free(f->v[f->n].name);
		f->v[f->n].name = NULL;
		return FORM_NOMEM;
	}
	f->n++;
	return FORM_OK;
}

int
form_parse(const char *data, size_t len, struct form *out)
{
	size_t pos = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	while (pos < len) {
		size_t start = pos, eq;
		char *name = NULL, *value = NULL;

		while (pos < len && data[pos] != '&')
			pos++;
		if (pos == start) {
			pos++;
			continue;
		}
		for (eq = start; eq < pos && data[eq] != '='; eq++)
			;
		if (out->n >= FORM_MAX_PARAMS) {
			rc = FORM_TOO_MANY;
			goto fail;
		}
		if ((rc = form_decode(data + start, eq - start, &name)) != FORM_OK)
			goto fail;
		rc = form_decode(data + (eq < pos ? eq + 1 : pos), eq < pos ? pos - eq - 1 : 0, &value);
		if (rc != FORM_OK) {
			free(name);
			goto fail;
		}
		out->v[out->n].name = name;
		out->v[out->n].value = value;
		out->n++;
		pos++;
	}
	return FORM_OK;
fail:
	form_clear(out);
	return rc;
}

size_t
form_count(const struct form *f, const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < f->n; i++)
		n += strcmp(f->v[i].name, name) == 0;
	return n;
}

const char *
form_get(const struct form *f, const char *name, int *dup)
{
	const char *found = NULL;
	size_t i;

	if (dup != NULL)
		*dup = 0;
	for (i = 0; i < f->n; i++) {
		if (strcmp(f->v[i].name, name) != 0)
			continue;
		if (found != NULL) {
			if (dup != NULL)
				*dup = 1;
			return NULL;
		}
		found = f->v[i].value;
	}
	return found;
}

const char *
form_get_nth(const struct form *f, const char *name, size_t nth)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		if (strcmp(f->v[i].name, name) == 0 && nth-- == 0)
			return f->v[i].value;
	}
	return NULL;
}
