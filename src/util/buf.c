/* Bounded, growable byte buffers (curl's dynbuf is the model). */
#include "config.h"

#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

void
buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max ? max : BUF_DEFAULT_MAX;
}

static int
buf_reserve(struct buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (extra > b->max || b->len > b->max - extra)
		return BUF_TOOBIG;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return BUF_OK;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	p = malloc(cap);
	if (p == NULL)
		return BUF_NOMEM;
	if (b->data != NULL) {
		memcpy(p, b->data, b->len);
		OPENSSL_clear_free(b->data, b->cap);
	}
	b->data = p;
	b->cap = cap;
	return BUF_OK;
}

int
buf_append(struct buf *b, const void *p, size_t n)
{
	int rc;

	if ((rc = buf_reserve(b, n)) != BUF_OK)
		return rc;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return BUF_OK;
}

int
buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int
buf_putc(struct buf *b, char c)
{
	return buf_append(b, &c, 1);
}

int
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n, rc;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return BUF_NOMEM;
	if ((rc = buf_reserve(b, (size_t)n)) != BUF_OK)
		return rc;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return BUF_OK;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

char *
buf_take(struct buf *b)
{
	char *p;

	if (b->data == NULL)
		return strdup("");
	p = b->data;
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}

void
buf_free(struct buf *b)
{
	if (b->data != NULL)
		OPENSSL_clear_free(b->data, b->cap);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

int
buf_put_urlencoded(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		int rc;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			rc = buf_putc(b, (char)c);
		} else {
			char esc[3] = {'%', hex[c >> 4], hex[c & 15]};

			rc = buf_append(b, esc, 3);
		}
		if (rc != BUF_OK)
			return rc;
	}
	return BUF_OK;
}
