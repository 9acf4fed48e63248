/* RFC 8707 resource indicators: normalisation and the canonical match key. */
#ifndef MCP_OAUTH_RESOURCE_H
#define MCP_OAUTH_RESOURCE_H

#include <stddef.h>

#define RESOURCE_URI_MAX 2048

/* Normalise a resource URI of len bytes (DESIGN.md §1): scheme http or https,
 * scheme and host lower-cased, default port dropped, no userinfo, no query, no
 * fragment, path kept as given. *uri_out is the URI as registered (what tokens
 * carry in aud); *key_out the match key, the same with one trailing slash
 * dropped from the path, so "https://h", "https://h/" match each other, and so
 * do "https://h/mcp" and "https://h/mcp/". Both new strings owned by the caller
 * (either out pointer may be NULL). Pure. 0 or -1 (malformed). */
int resource_normalize(const char *in, size_t len, char **uri_out, char **key_out);

#endif
