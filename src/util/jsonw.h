/* Writing JSON text into bounded buffers, for the hot paths where building a jansson
 * tree only to print it would cost more than the rest of the request. */
#ifndef MCP_UTIL_JSONW_H
#define MCP_UTIL_JSONW_H

#include <stdint.h>

#include "util/buf.h"

/* Append s as a JSON string: quoted, with ", \ and control characters escaped
 * (bytes >= 0x80 are copied: the input is UTF-8). BUF_* code. */
int jsonw_string(struct buf *b, const char *s);

/* Append ,"name":"value" (or without the comma when first). BUF_* code. */
int jsonw_member_string(struct buf *b, int first, const char *name, const char *value);

/* Append ,"name":number. BUF_* code. */
int jsonw_member_int(struct buf *b, int first, const char *name, int64_t value);

#endif
