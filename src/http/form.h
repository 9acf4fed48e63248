/* application/x-www-form-urlencoded bodies and query strings (pure parsers). */
#ifndef MCP_HTTP_FORM_H
#define MCP_HTTP_FORM_H

#include <stddef.h>

#include "util/buf.h"

#define FORM_MAX_PARAMS 64
#define FORM_MAX_VALUE 8192

struct form_param {
	char *name;
	char *value;
};

/* A decoded form. Owns its strings (form_clear). */
struct form {
	struct form_param v[FORM_MAX_PARAMS];
	size_t n;
};

enum {
	FORM_OK = 0,
	FORM_BAD_ENCODING = -1,  /* bad %-escape, %00, a control byte, or bad UTF-8 */
	FORM_TOO_MANY = -2,      /* more than FORM_MAX_PARAMS parameters */
	FORM_TOO_LONG = -3,      /* a name or value longer than FORM_MAX_VALUE */
	FORM_NOMEM = -4,
};

/* Decode len bytes of "a=b&c=d" ('+' is a space). Empty pairs are skipped.
 * Values must be valid UTF-8 without control characters (tab excepted).
 * Pure apart from allocation; on failure *out is cleared. */
int form_parse(const char *data, size_t len, struct form *out);

/* Add one already-decoded pair (used for query arguments that the HTTP library
 * decoded); the same checks as form_parse apply. */
int form_add(struct form *f, const char *name, const char *value);

/* Number of times name occurs. */
size_t form_count(const struct form *f, const char *name);

/* The value of a parameter that must occur at most once: NULL when absent; sets
 * *dup when it occurs more than once (and returns NULL). */
const char *form_get(const struct form *f, const char *name, int *dup);

/* The i-th value of a repeatable parameter, or NULL. */
const char *form_get_nth(const struct form *f, const char *name, size_t i);

void form_clear(struct form *f);

/* Does f keep within an operator's tighter limits (max_params, max_param_length; the
 * parser's own ceilings are FORM_MAX_PARAMS and FORM_MAX_VALUE)? FORM_OK, FORM_TOO_MANY
 * or FORM_TOO_LONG (a name or a value longer than max_len bytes). */
int form_check_limits(const struct form *f, size_t max_params, size_t max_len);

/* A short description of a FORM_* code for an error_description (static). */
const char *form_strerror(int rc);

/* Percent-decode one component (as in a form) into a new string; FORM_* code. */
int form_decode(const char *in, size_t len, char **out);


#endif
