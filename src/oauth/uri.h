/* A strict parser for absolute http(s) URIs (RFC 3986), shared by resource indicators,
 * redirect URIs and issuers. */
#ifndef MCP_OAUTH_URI_H
#define MCP_OAUTH_URI_H

#include <stddef.h>

/* The parts of an http(s) URI, pointing into the parsed text. */
struct uri_http {
	int https;
	const char *host;         /* brackets included for IPv6 literals */
	size_t host_len;
	int port;                 /* -1 when absent */
	const char *path;         /* possibly empty */
	size_t path_len;
	const char *query;        /* after '?', NULL when there is no '?' */
	size_t query_len;
	const char *fragment;     /* after '#', NULL when there is no '#' */
	size_t fragment_len;
	int has_userinfo;         /* an '@' in the authority */
};

/* Parse len bytes. Refused (-1): another scheme, no "//", an empty or malformed
 * host (DNS labels of letters, digits and inner hyphens; IPv4; bracketed IPv6),
 * a port outside 1..65535 or not all digits, characters outside RFC 3986 (spaces,
 * controls, quotes, angle brackets, backslash, non-ASCII), a '%' not followed by
 * two hex digits. Userinfo is reported, not refused. Pure. */
int uri_parse_http(const char *s, size_t len, struct uri_http *out);

/* Is host one of 127.0.0.1 or [::1] (the loopback IP literals)? */
int uri_host_is_loopback_ip(const char *host, size_t len);

/* Every byte of s[0..len) is an RFC 3986 character and every '%' starts a
 * two-hex-digit escape. */
int uri_chars_ok(const char *s, size_t len);

#endif
