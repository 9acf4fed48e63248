/* Unit tests for redirect URI classification and matching (src/oauth/redirect.h). */
#include "config.h"

#include "oauth/redirect.h"

#include "tap.h"

#include <stdlib.h>
#include <string.h>

/* A URI for a TAP description: control and non-ASCII bytes as \xNN so that one result
 * stays on one line. Two slots, for match()'s two URIs. */
static const char *
shown(const char *s, int slot)
{
	static char out[2][256];
	size_t o = 0;

	for (; *s != '\0' && o + 5 < sizeof(out[0]); s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= 0x20 || c >= 0x7f)
			o += (size_t)snprintf(out[slot] + o, sizeof(out[0]) - o, "\\x%02x", c);
		else
			out[slot][o++] = (char)c;
	}
	out[slot][o] = '\0';
	return out[slot];
}

static void
kind(const char *uri, enum redirect_kind want, const char *what)
{
	is_int(redirect_uri_classify(uri), want, "classify %s: %s", what, shown(uri, 0));
}

static void
match(const char *reg, const char *pres, int want, const char *what)
{
	is_int(redirect_uri_match(reg, pres) != 0, want, "%s: %s vs %s", what, shown(reg, 0),
	    shown(pres, 1));
}

static void
test_classify_ok(void)
{
	kind("https://app.example.com/cb", REDIRECT_HTTPS, "https");
	kind("https://app.example.com", REDIRECT_HTTPS, "https without path");
	kind("https://app.example.com:8443/cb?x=1&y=2", REDIRECT_HTTPS,
	    "https with port and query");
	kind("https://[2001:db8::1]/cb", REDIRECT_HTTPS, "https IPv6 literal");
	kind("https://127.0.0.1/cb", REDIRECT_HTTPS, "https on loopback is just https");

	kind("http://127.0.0.1/cb", REDIRECT_LOOPBACK, "http 127.0.0.1");
	kind("http://127.0.0.1:8080/cb", REDIRECT_LOOPBACK, "http 127.0.0.1 with port");
	kind("http://127.0.0.1", REDIRECT_LOOPBACK, "http 127.0.0.1 without path");
	kind("http://127.0.0.1?x=1", REDIRECT_LOOPBACK, "http 127.0.0.1 with query, no path");
	kind("http://[::1]/cb", REDIRECT_LOOPBACK, "http [::1]");
	kind("http://[::1]:3000/cb", REDIRECT_LOOPBACK, "http [::1] with port");
	kind("http://localhost/cb", REDIRECT_LOOPBACK, "http localhost");
	kind("http://localhost:3000/cb", REDIRECT_LOOPBACK, "http localhost with port");
	kind("http://LocalHost:3000/cb", REDIRECT_LOOPBACK, "http localhost in mixed case");

	kind("com.example.app:/cb", REDIRECT_PRIVATE_SCHEME, "private-use scheme");
	kind("com.example.app:/oauth2redirect/example-provider", REDIRECT_PRIVATE_SCHEME,
	    "private-use scheme, RFC 8252 example");
	kind("com.example.app://oauth/cb", REDIRECT_PRIVATE_SCHEME, "private-use with authority");
	kind("com.example-app.v2+x:/cb", REDIRECT_PRIVATE_SCHEME, "'-', '+' and digits in scheme");
	kind("com.example.app:cb", REDIRECT_PRIVATE_SCHEME, "private-use with rootless path");
}

static void
test_classify_refused(void)
{
	char *s;

	kind("", REDIRECT_INVALID, "empty");
	kind("http://app.example.com/cb", REDIRECT_INVALID, "plain http elsewhere");
	kind("http://127.0.0.2/cb", REDIRECT_INVALID, "http 127.0.0.2");
	kind("http://127.1/cb", REDIRECT_INVALID, "short IPv4 loopback");
	kind("http://[::2]/cb", REDIRECT_INVALID, "http [::2]");
	kind("http://127.0.0.1.evil.example/cb", REDIRECT_INVALID, "loopback-prefixed host");
	kind("http://localhost.evil.example/cb", REDIRECT_INVALID, "localhost-prefixed host");
	kind("http://evillocalhost/cb", REDIRECT_INVALID, "localhost-suffixed host");
	kind("http://evil.example/127.0.0.1", REDIRECT_INVALID, "loopback in the path");
	kind("http://127.0.0.1@evil.example/cb", REDIRECT_INVALID, "loopback as userinfo");
	kind("http://evil.example@127.0.0.1/cb", REDIRECT_INVALID, "userinfo before loopback");
	kind("http://[::1", REDIRECT_INVALID, "unterminated [::1");
	kind("http:///cb", REDIRECT_INVALID, "http without host");
	kind("http://:8080/cb", REDIRECT_INVALID, "http with port only");

	kind("https://a.example/cb#x", REDIRECT_INVALID, "fragment");
	kind("https://a.example/cb#", REDIRECT_INVALID, "empty fragment");
	kind("http://127.0.0.1/cb#x", REDIRECT_INVALID, "loopback with fragment");
	kind("com.example.app:/cb#x", REDIRECT_INVALID, "private-use with fragment");

	kind("https://user@a.example/cb", REDIRECT_INVALID, "userinfo");
	kind("https://user:pw@a.example/cb", REDIRECT_INVALID, "userinfo with password");
	kind("https://@a.example/cb", REDIRECT_INVALID, "empty userinfo");
	kind("https:///cb", REDIRECT_INVALID, "https without host");
	kind("https://", REDIRECT_INVALID, "https scheme only");
	kind("https://:443/cb", REDIRECT_INVALID, "https with port only");

	kind("https://a.example/c b", REDIRECT_INVALID, "space");
	kind(" https://a.example/cb", REDIRECT_INVALID, "leading space");
	kind("https://a.example/cb\n", REDIRECT_INVALID, "trailing newline");
	kind("https://a.example/c\tb", REDIRECT_INVALID, "tab");
	kind("https://a.example/c\rb", REDIRECT_INVALID, "carriage return");
	kind("https://a.example/cb\x7f", REDIRECT_INVALID, "DEL");
	kind("https://a.example/caf\xc3\xa9", REDIRECT_INVALID, "non-ASCII");
	kind("https://a.example\\@evil.example/cb", REDIRECT_INVALID, "backslash");
	kind("https://a.example/\"cb\"", REDIRECT_INVALID, "double quote");
	kind("https://a.example/<cb>", REDIRECT_INVALID, "angle brackets");

	kind("javascript:alert(1)", REDIRECT_INVALID, "javascript");
	kind("JavaScript:alert(1)", REDIRECT_INVALID, "javascript in mixed case");
	kind("javascript://a.example/%0Aalert(1)", REDIRECT_INVALID, "javascript with authority");
	kind("data:text/html,hi", REDIRECT_INVALID, "data");
	kind("DATA:text/html;base64,PGI+", REDIRECT_INVALID, "data in upper case");
	kind("vbscript:msgbox", REDIRECT_INVALID, "vbscript");
	kind("file:///etc/passwd", REDIRECT_INVALID, "file");
	kind("myapp:/cb", REDIRECT_INVALID, "private-use scheme without a dot");
	kind("com.example.app:", REDIRECT_INVALID, "private-use scheme with nothing after");
	kind("1com.example.app:/cb", REDIRECT_INVALID, "scheme starting with a digit");
	kind(".example.app:/cb", REDIRECT_INVALID, "scheme starting with a dot");
	kind("com_example.app:/cb", REDIRECT_INVALID, "underscore in scheme");
	kind(":/cb", REDIRECT_INVALID, "empty scheme");
	kind("/cb", REDIRECT_INVALID, "relative path");
	kind("//a.example/cb", REDIRECT_INVALID, "scheme-relative");
	kind("a.example/cb", REDIRECT_INVALID, "no scheme");
	kind("HTTP://127.0.0.1/cb", REDIRECT_INVALID, "upper-case HTTP (not treated as http)");
	kind("https:/a.example/cb", REDIRECT_INVALID, "https with one slash");

	/* REDIRECT_URI_MAX bytes are fine, one more is not. */
	s = malloc(REDIRECT_URI_MAX + 2);
	if (s == NULL) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	memcpy(s, "https://a.example/", 18);
	memset(s + 18, 'x', REDIRECT_URI_MAX - 18);
	s[REDIRECT_URI_MAX] = '\0';
	is_int(redirect_uri_classify(s), REDIRECT_HTTPS, "REDIRECT_URI_MAX bytes accepted");
	s[REDIRECT_URI_MAX] = 'x';
	s[REDIRECT_URI_MAX + 1] = '\0';
	is_int(redirect_uri_classify(s), REDIRECT_INVALID, "REDIRECT_URI_MAX + 1 bytes refused");
	free(s);
}

/* Malformed URIs that the header's "absolute, no userinfo" rules out. */
static void
test_classify_malformed(void)
{
	ok(redirect_uri_classify("com.example.app://user@host/cb") == REDIRECT_INVALID,
	    "userinfo in a private-use URI refused");
	ok(redirect_uri_classify("http://[::1]evil/cb") == REDIRECT_INVALID,
	    "junk after [::1] refused");
	ok(redirect_uri_classify("https://[/cb") == REDIRECT_INVALID,
	    "unterminated IPv6 literal refused");
	ok(redirect_uri_classify("http://127.0.0.1:abc/cb") == REDIRECT_INVALID,
	    "non-numeric port refused");
}

static void
test_match(void)
{
	match("https://a.example/cb", "https://a.example/cb", 1, "exact https");
	match("https://a.example/cb", "https://a.example/cb/", 0, "trailing slash");
	match("https://a.example/cb", "https://a.example/CB", 0, "path case");
	match("https://a.example/cb", "https://A.example/cb", 0, "host case (exact match)");
	match("https://a.example/cb", "https://a.example/cb?x=1", 0, "added query");
	match("https://a.example/cb?x=1", "https://a.example/cb?x=2", 0, "different query");
	match("https://a.example/cb?x=1", "https://a.example/cb?x=1", 1, "same query");
	match("https://a.example/cb", "https://a.example:443/cb", 0, "explicit default port");
	match("https://a.example/cb", "https://a.example:8443/cb", 0, "https port");
	match("https://a.example/cb", "https://b.example/cb", 0, "other host");
	match("https://a.example/cb", "http://a.example/cb", 0, "scheme downgrade");
	match("https://127.0.0.1/cb", "https://127.0.0.1:8443/cb", 0,
	    "https loopback: no port rule");
	match("https://a.example/cb", "", 0, "empty presented");

	match("http://127.0.0.1/cb", "http://127.0.0.1/cb", 1, "loopback exact");
	match("http://127.0.0.1/cb", "http://127.0.0.1:51234/cb", 1, "loopback any port");
	match("http://127.0.0.1:8080/cb", "http://127.0.0.1:9090/cb", 1, "loopback other port");
	match("http://127.0.0.1:8080/cb", "http://127.0.0.1/cb", 1, "loopback no port");
	match("http://127.0.0.1", "http://127.0.0.1:9000", 1, "loopback without path");
	match("http://127.0.0.1/cb", "http://127.0.0.1:1/cb", 1, "loopback port 1");
	match("http://[::1]/cb", "http://[::1]:8080/cb", 1, "[::1] any port");
	match("http://[::1]:3000/cb", "http://[::1]/cb", 1, "[::1] no port");
	match("http://127.0.0.1/cb", "http://127.0.0.1:8080/cb2", 0, "loopback path differs");
	match("http://127.0.0.1/cb", "http://127.0.0.1:8080/cb/", 0, "loopback trailing slash");
	match("http://127.0.0.1/cb", "http://127.0.0.1:8080/cb?x", 0, "loopback query added");
	match("http://127.0.0.1/cb?a=1", "http://127.0.0.1:8080/cb?a=2", 0, "loopback query");
	match("http://127.0.0.1:8080/cb", "http://127.0.0.1:9000", 0, "loopback path dropped");
	match("http://127.0.0.1/cb", "http://127.0.0.1:/cb", 0, "empty port");
	match("http://127.0.0.1/cb", "http://127.0.0.1:12ab/cb", 0, "port with letters");
	match("http://127.0.0.1/cb", "http://127.0.0.1:-1/cb", 0, "negative port");
	match("http://127.0.0.1/cb", "http://127.0.0.1:80@evil.example/cb", 0, "userinfo trick");
	match("http://127.0.0.1/cb", "http://127.0.0.1@evil.example/cb", 0, "host as userinfo");
	match("http://127.0.0.1/cb", "http://127.0.0.1.evil.example/cb", 0, "loopback prefix");
	match("http://127.0.0.1/cb", "http://127.0.0.10/cb", 0, "longer IP");
	match("http://127.0.0.1/cb", "https://127.0.0.1:443/cb", 0, "scheme change");
	match("http://127.0.0.1/cb", "http://[::1]/cb", 0, "other address family");
	match("http://[::1]/cb", "http://127.0.0.1/cb", 0, "other address family (reverse)");
	match("http://[::1]/cb", "http://[::1]x/cb", 0, "junk after [::1]");
	match("http://[::1]/cb", "http://[::1]:8080x/cb", 0, "junk after the port");

	match("http://localhost:3000/cb", "http://localhost:3000/cb", 1, "localhost exact");
	match("http://localhost:3000/cb", "http://localhost:4000/cb", 0, "localhost other port");
	match("http://localhost/cb", "http://localhost:3000/cb", 0, "localhost added port");
	match("http://localhost:3000/cb", "http://localhost/cb", 0, "localhost dropped port");
	match("http://localhost/cb", "http://127.0.0.1/cb", 0, "localhost vs 127.0.0.1");

	match("com.example.app:/cb", "com.example.app:/cb", 1, "private-use exact");
	match("com.example.app:/cb", "com.example.app:/cb2", 0, "private-use path");
	match("com.example.app:/cb", "com.example.app:/Cb", 0, "private-use path case");
	match("com.example.app:/cb", "com.example.evil:/cb", 0, "private-use scheme");
}

static void
host(const char *uri, const char *want)
{
	char *h = redirect_uri_host_new(uri);

	is_str(h, want, "host of %s", uri);
	free(h);
}

static void
test_host(void)
{
	char *h;

	host("https://app.example.com/cb", "app.example.com");
	host("https://app.example.com:8443/cb", "app.example.com");
	host("https://app.example.com", "app.example.com");
	host("https://app.example.com?x=1", "app.example.com");
	host("http://[::1]:3000/cb", "[::1]");
	host("http://127.0.0.1:3000/cb", "127.0.0.1");
	host("com.example.app://oauth/cb", "com.example.app");
	h = redirect_uri_host_new("com.example.app:/cb");
	ok(h != NULL, "a URI without authority still gives something to display");
	free(h);
}

int
main(void)
{
	test_classify_ok();
	test_classify_refused();
	test_classify_malformed();
	test_match();
	test_host();
	tap_diag("redirect: REDIRECT_URI_MAX %d", REDIRECT_URI_MAX);
	return tap_done();
}
