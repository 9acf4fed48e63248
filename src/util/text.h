/* What counts as text: well-formed UTF-8 without control characters. */
#ifndef MCP_UTIL_TEXT_H
#define MCP_UTIL_TEXT_H

#include <stddef.h>

/* 1 when s[0..n) is well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF)
 * with no C0 control but tab, no DEL and no C1 control; 0 otherwise. Names, scopes and
 * form values all must be text: a byte sequence one database accepts and another
 * refuses must not get in at all. */
int text_valid(const unsigned char *s, size_t n);

#endif
