/* A small logic-less template renderer (a subset of mustache) that escapes every value:
 * the only way HTML is produced, so there is no raw output path. */
#ifndef MCP_UTIL_TMPL_H
#define MCP_UTIL_TMPL_H

#include <stddef.h>

#include <jansson.h>

#include "util/buf.h"

#define TMPL_MAX_DEPTH 8

/* Render tmpl[0..len) with the values of ctx (a JSON object) into out.
 *   {{name}}              the value, HTML-escaped (strings, integers, reals, booleans)
 *   {{#name}}..{{/name}}  once per element of an array (each element becomes the
 *                         innermost context; {{.}} is the element itself), or once
 *                         when the value is true, a non-empty string or an object
 *   {{^name}}..{{/name}}  when the value is missing, false, null, "" or []
 *   {{! comment }}
 * Names are looked up from the innermost context outwards. There is no unescaped
 * form: "{{{" and "{{&" are errors. Returns 0, or -1 on a malformed template
 * (unbalanced sections, too deep, unknown tag) or when out's ceiling is hit.
 * Pure apart from out. */
int tmpl_render(const char *tmpl, size_t len, const json_t *ctx, struct buf *out);

/* Append s[0..n) to out with &, <, >, ", ', ` and = as character references. */
int tmpl_escape(struct buf *out, const char *s, size_t n);

#endif
