/* Strict http(s) URI parsing: one place that decides what a well-formed URI is. */
#include "config.h"

#include "oauth/uri.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

static int
uri_char(unsigned char c)
{
	/* RFC 3986 unreserved, gen-delims and sub-delims, and '%'. */
	return isalnum(c) || strchr("-._~:/?#[]@!$&'()*+,;=%", c) != NULL;
}

int
uri_chars_ok(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\0' || c > 0x7e || !uri_char(c))
			return 0;
		if (c == '%' && (i + 2 >= len || !isxdigit((unsigned char)s[i + 1]) ||
				    !isxdigit((unsigned char)s[i + 2])))
			return 0;
	}
	return 1;
}

static int
dns_name_ok(const char *h, size_t n)
{
	size_t i, label = 0;

	if (n == 0 || n > 253)
		return 0;
	for (i = 0; i < n; i++) {
		char c = h[i];

		if (c == '.') {
			if (label == 0 || h[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)c) && c != '-')
			return 0;
		if (c == '-' && label == 0)
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0 && h[n - 1] != '-';
}

static int
ipv6_literal_ok(const char *h, size_t n)
{
	char tmp[64];
	unsigned char addr[16];

	if (n < 4 || n - 2 >= sizeof(tmp) || h[0] != '[' || h[n - 1] != ']')
		return 0;
	memcpy(tmp, h + 1, n - 2);
	tmp[n - 2] = '\0';
	return inet_pton(AF_INET6, tmp, addr) == 1;
}

int
uri_host_is_loopback_ip(const char *host, size_t len)
{
	return (len == 9 && memcmp(host, "127.0.0.1", 9) == 0) ||
	    (len == 5 && memcmp(host, "[::1]", 5) == 0);
}

int
uri_parse_http(const char *s, size_t len, struct uri_http *out)
{
	const char *p, *end = s + len, *auth, *auth_end, *at, *h, *h_end, *q, *f;

	memset(out, 0, sizeof(*out));
	out->port = -1;
	if (!uri_chars_ok(s, len))
		return -1;
	if (len >= 8 && strncasecmp(s, "https://", 8) == 0) {
		out->https = 1;
		auth = s + 8;
	} else if (len >= 7 && strncasecmp(s, "http://", 7) == 0) {
		auth = s + 7;
	} else {
		return -1;
	}
	for (auth_end = auth; auth_end < end && *auth_end != '/' && *auth_end != '?' &&
	     *auth_end != '#'; auth_end++)
		;
	at = memchr(auth, '@', (size_t)(auth_end - auth));
	out->has_userinfo = at != NULL;
	h = at ? at + 1 : auth;
	if (h < auth_end && *h == '[') {
		const char *close = memchr(h, ']', (size_t)(auth_end - h));

		if (close == NULL || !ipv6_literal_ok(h, (size_t)(close + 1 - h)))
			return -1;
		h_end = close + 1;
	} else {
		for (h_end = h; h_end < auth_end && *h_end != ':'; h_end++)
			;
		if (!dns_name_ok(h, (size_t)(h_end - h)))
			return -1;
	}
	if (h_end < auth_end) {
		long port = 0;

		if (*h_end != ':' || auth_end - h_end < 2 || auth_end - h_end > 6)
			return -1;
		for (p = h_end + 1; p < auth_end; p++) {
			if (!isdigit((unsigned char)*p))
				return -1;
			port = port * 10 + (*p - '0');
		}
		if (port < 1 || port > 65535)
			return -1;
		out->port = (int)port;
	}
	out->host = h;
	out->host_len = (size_t)(h_end - h);
	f = memchr(auth_end, '#', (size_t)(end - auth_end));
	q = memchr(auth_end, '?', (size_t)((f ? f : end) - auth_end));
	out->path = auth_end;
	out->path_len = (size_t)((q ? q : f ? f : end) - auth_end);
	/* '[' ']' are gen-delims: fine in the authority, not in a path or query. */
	if (memchr(out->path, '[', out->path_len) != NULL ||
	    memchr(out->path, ']', out->path_len) != NULL)
		return -1;
	if (q != NULL) {
		out->query = q + 1;
		out->query_len = (size_t)((f ? f : end) - q - 1);
		if (memchr(out->query, '[', out->query_len) != NULL ||
		    memchr(out->query, ']', out->query_len) != NULL)
			return -1;
	}
	if (f != NULL) {
		out->fragment = f + 1;
		out->fragment_len = (size_t)(end - f - 1);
	}
	return 0;
}
