/* Redirect URI classification and matching. */
#include "config.h"

#include "oauth/redirect.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "oauth/uri.h"

static int
is_localhost(const char *h, size_t n)
{
	return n == 9 && strncasecmp(h, "localhost", 9) == 0;
}

static enum redirect_kind
classify_private_scheme(const char *uri, size_t n)
{
	size_t i;
	const char *rest;

	/* Reverse domain name: letters first, then letters, digits, '.', '-', '+',
	 * and at least one dot (RFC 8252 §7.1). */
	if (!isalpha((unsigned char)uri[0]))
		return REDIRECT_INVALID;
	for (i = 0; i < n && uri[i] != ':'; i++) {
		if (!isalnum((unsigned char)uri[i]) && uri[i] != '.' && uri[i] != '-' && uri[i] != '+')
			return REDIRECT_INVALID;
	}
	if (i == n || memchr(uri, '.', i) == NULL || i + 1 == n)
		return REDIRECT_INVALID;
	rest = uri + i + 1;
	if (!uri_chars_ok(rest, n - i - 1) || memchr(rest, '#', n - i - 1) != NULL)
		return REDIRECT_INVALID;
	/* An authority, if any, carries no userinfo. */
	if (strncmp(rest, "//", 2) == 0) {
		size_t alen = strcspn(rest + 2, "/?");

		if (memchr(rest + 2, '@', alen) != NULL)
			return REDIRECT_INVALID;
	}
	return REDIRECT_PRIVATE_SCHEME;
}

enum redirect_kind
redirect_uri_classify(const char *uri)
{
	size_t n = strlen(uri);
	struct uri_http u;

	if (n == 0 || n > REDIRECT_URI_MAX)
		return REDIRECT_INVALID;
	/* Lower-case schemes only: registered URIs are compared as strings. */
	if (strncmp(uri, "http://", 7) != 0 && strncmp(uri, "https://", 8) != 0)
		return classify_private_scheme(uri, n);
	if (uri_parse_http(uri, n, &u) != 0 || u.fragment != NULL || u.has_userinfo)
		return REDIRECT_INVALID;
	if (u.https)
		return REDIRECT_HTTPS;
	return uri_host_is_loopback_ip(u.host, u.host_len) || is_localhost(u.host, u.host_len)
	    ? REDIRECT_LOOPBACK
	    : REDIRECT_INVALID;
}

int
redirect_uri_match(const char *registered, const char *presented)
{
	struct uri_http r, p;
	const char *r_rest, *p_rest;

	if (strcmp(registered, presented) == 0)
		return redirect_uri_classify(presented) != REDIRECT_INVALID;
	if (uri_parse_http(registered, strlen(registered), &r) != 0 ||
	    uri_parse_http(presented, strlen(presented), &p) != 0)
		return 0;
	/* RFC 8252 §7.3: any port, for loopback IP literals over http only; "localhost"
	 * may resolve elsewhere, so it gets no such latitude. */
	if (r.https || p.https || !uri_host_is_loopback_ip(r.host, r.host_len) ||
	    r.host_len != p.host_len || memcmp(r.host, p.host, r.host_len) != 0 ||
	    p.has_userinfo || p.fragment != NULL || strncmp(presented, "http://", 7) != 0 ||
	    strncmp(registered, "http://", 7) != 0)
		return 0;
	/* Everything after the authority must be identical. */
	r_rest = r.path;
	p_rest = p.path;
	return strcmp(r_rest, p_rest) == 0;
}

char *
redirect_uri_host_new(const char *uri)
{
	struct uri_http u;
	char *out;

	/* A private-use scheme names the app (com.example.app); show that. */
	if (uri_parse_http(uri, strlen(uri), &u) != 0)
		return strndup(uri, strcspn(uri, ":"));
	if ((out = malloc(u.host_len + 1)) == NULL)
		return NULL;
	memcpy(out, u.host, u.host_len);
	out[u.host_len] = '\0';
	return out;
}
