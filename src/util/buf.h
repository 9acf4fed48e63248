/* Bounded, growable byte buffers: every built string and request body lives in one. */
#ifndef MCP_UTIL_BUF_H
#define MCP_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

/* A buffer owns `data`; it is always NUL-terminated when non-NULL (the NUL is not
 * counted in `len`). Appends that would take `len` past `max` fail with BUF_TOOBIG
 * and leave the buffer unchanged. */
struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
};

enum {
	BUF_OK = 0,
	BUF_NOMEM = -1,
	BUF_TOOBIG = -2,
};

/* Default ceiling for strings built in memory (JSON documents, pages). */
#define BUF_DEFAULT_MAX (1024u * 1024u)

/* Prepare an empty buffer with the given ceiling (0 means BUF_DEFAULT_MAX). */
void buf_init(struct buf *b, size_t max);

/* Append n bytes; 0 or BUF_NOMEM / BUF_TOOBIG. */
int buf_append(struct buf *b, const void *p, size_t n);

/* Append a NUL-terminated string. */
int buf_puts(struct buf *b, const char *s);

/* Append one byte. */
int buf_putc(struct buf *b, char c);

/* printf-style append. */
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Forget the contents, keep the allocation. */
void buf_reset(struct buf *b);

/* Hand the contents to the caller (who frees them with free()); the buffer is left
 * empty. Returns an empty string, not NULL, for an empty buffer; NULL on ENOMEM. */
char *buf_take(struct buf *b);

/* Free the contents (wiped first, for buffers that held secrets) and reset. */
void buf_free(struct buf *b);

/* Append s percent-encoded for a query string or form (RFC 3986 unreserved kept). */
int buf_put_urlencoded(struct buf *b, const char *s);

#endif
