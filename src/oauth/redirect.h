/* Redirect URIs: what may be registered, and the exact-match rule (RFC 8252 §7.3 port
 * exception for loopback). */
#ifndef MCP_OAUTH_REDIRECT_H
#define MCP_OAUTH_REDIRECT_H

#define REDIRECT_URI_MAX 2048

enum redirect_kind {
	REDIRECT_INVALID = 0,
	REDIRECT_HTTPS,          /* https://host/... */
	REDIRECT_LOOPBACK,       /* http://127.0.0.1, http://[::1], http://localhost */
	REDIRECT_PRIVATE_SCHEME, /* com.example.app:/cb (RFC 8252 §7.1) */
};

/* Classify a redirect URI for registration: absolute, no fragment, no userinfo,
 * no whitespace or controls, at most REDIRECT_URI_MAX bytes; https, http on a
 * loopback host, or a private-use scheme with a dot. Plain http elsewhere is
 * REDIRECT_INVALID. */
enum redirect_kind redirect_uri_classify(const char *uri);

/* Does the presented redirect URI match the registered one? Exact string match,
 * except that for loopback IP literals (127.0.0.1, [::1]) any port matches,
 * including none (RFC 8252 §7.3). */
int redirect_uri_match(const char *registered, const char *presented);

/* What identifies the destination, for display: the host of an http(s) URI
 * ("app.example.com"), the scheme of a private-use one ("com.example.app").
 * New string or NULL. */
char *redirect_uri_host_new(const char *uri);

#endif
