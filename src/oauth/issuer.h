/* The issuer identifier (RFC 8414 §2): what may be used as one. */
#ifndef MCP_OAUTH_ISSUER_H
#define MCP_OAUTH_ISSUER_H

#include <stddef.h>

/* An issuer is an absolute http(s) URL with a host, no query, no fragment, no
 * userinfo; https unless allow_insecure. 0, or -1 with a reason in err. */
int issuer_check(const char *url, int allow_insecure, char *err, size_t errlen);

#endif
