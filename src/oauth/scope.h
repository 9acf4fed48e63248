/* Scope strings (RFC 6749 §3.3): space-separated sets of scope tokens. */
#ifndef MCP_OAUTH_SCOPE_H
#define MCP_OAUTH_SCOPE_H

#include <stddef.h>

#include <jansson.h>

#define SCOPE_MAX_LEN 4096

/* Every token is NQCHAR+ and tokens are separated by single spaces (leading,
 * trailing or doubled spaces refused). The empty string is valid (no scope). */
int scope_valid(const char *s);

/* Is token (NUL-terminated) one of the tokens of list? */
int scope_has(const char *list, const char *token);

/* Is every token of a also in b? */
int scope_subset(const char *a, const char *b);

/* Tokens of a that are also in b, in a's order (new string). NULL on ENOMEM. */
char *scope_intersect_new(const char *a, const char *b);

/* Sorted, de-duplicated copy (new string), for comparing scope sets. */
char *scope_sorted_new(const char *s);

/* The tokens as a JSON array of strings (new reference; NULL on ENOMEM). */
json_t *scope_json_array(const char *s);

#endif
