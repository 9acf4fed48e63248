/* Unit tests for RFC 8707 resource URI normalisation (src/oauth/resource.h). */
#include "config.h"

#include "oauth/resource.h"

#include "tap.h"

#include <stdlib.h>
#include <string.h>

/* Normalise in[0..len) and expect (uri, key), or a refusal when want_uri is NULL. */
static void
check_n(const char *in, size_t len, const char *want_uri, const char *want_key, const char *what)
{
	char *uri = (char *)1, *key = (char *)1; /* must be overwritten either way */
	int rc = resource_normalize(in, len, &uri, &key);

	if (want_uri == NULL) {
		is_int(rc, -1, "refused: %s", what);
		ok(uri == NULL && key == NULL, "refused: %s clears both outputs", what);
	} else {
		is_int(rc, 0, "accepted: %s", what);
		is_str(uri, want_uri, "registered form: %s", what);
		is_str(key, want_key, "match key: %s", what);
	}
	if (uri != (char *)1)
		free(uri);
	if (key != (char *)1)
		free(key);
}

static void
check(const char *in, const char *want_uri, const char *want_key, const char *what)
{
	check_n(in, strlen(in), want_uri, want_key, what);
}

static void
refuse(const char *in, const char *what)
{
	check(in, NULL, NULL, what);
}

/* Do two inputs give the same match key? */
static int
same_key(const char *a, const char *b)
{
	char *ka = NULL, *kb = NULL;
	int same;

	same = resource_normalize(a, strlen(a), NULL, &ka) == 0 &&
	    resource_normalize(b, strlen(b), NULL, &kb) == 0 && strcmp(ka, kb) == 0;
	free(ka);
	free(kb);
	return same;
}

static void
test_happy(void)
{
	check("https://mcp.example.com/mcp", "https://mcp.example.com/mcp",
	    "https://mcp.example.com/mcp", "plain https");
	check("http://mcp.example.com/mcp", "http://mcp.example.com/mcp",
	    "http://mcp.example.com/mcp", "plain http");
	check("HTTPS://MCP.Example.COM/MCP/Tools", "https://mcp.example.com/MCP/Tools",
	    "https://mcp.example.com/MCP/Tools", "scheme and host lower-cased, path case kept");
	check("HtTp://H/x", "http://h/x", "http://h/x", "mixed-case http scheme");

	check("https://h:443/x", "https://h/x", "https://h/x", "https default port dropped");
	check("http://h:80/x", "http://h/x", "http://h/x", "http default port dropped");
	check("https://h:80/x", "https://h:80/x", "https://h:80/x", "port 80 kept for https");
	check("http://h:443/x", "http://h:443/x", "http://h:443/x", "port 443 kept for http");
	check("https://h:8443/x", "https://h:8443/x", "https://h:8443/x", "other port kept");
	check("https://h:1", "https://h:1", "https://h:1", "port 1 kept");
	check("https://h:65535/", "https://h:65535/", "https://h:65535", "port 65535 kept");
	check("https://h:08443/x", "https://h:8443/x", "https://h:8443/x",
	    "leading zero of a port dropped");
	check("https://h:00443/x", "https://h/x", "https://h/x",
	    "zero-padded default port dropped");
	check("https://h:443", "https://h", "https://h", "default port with no path");

	check("https://h", "https://h", "https://h", "empty path");
	check("https://h/", "https://h/", "https://h", "path '/' kept, dropped from the key");
	check("https://h/mcp/", "https://h/mcp/", "https://h/mcp", "one trailing slash");
	check("https://h/mcp//", "https://h/mcp//", "https://h/mcp/", "only one trailing slash");
	check("https://h:443/", "https://h/", "https://h", "default port and '/'");
	ok(same_key("https://h", "https://h/"), "empty path and '/' match");
	ok(same_key("https://h/mcp", "https://h/mcp/"), "'/mcp' and '/mcp/' match");
	ok(same_key("HTTPS://H:443/mcp/", "https://h/mcp"), "all normalisations together");
	ok(!same_key("https://h/mcp", "https://h/MCP"), "path case matters");
	ok(!same_key("https://h/mcp", "http://h/mcp"), "scheme matters");
	ok(!same_key("https://h/mcp", "https://h:8443/mcp"), "port matters");
	ok(!same_key("https://h/mcp", "https://h/mcp//"), "two trailing slashes are not one");
	ok(!same_key("https://a.h/mcp", "https://b.h/mcp"), "host matters");

	check("https://[::1]/mcp", "https://[::1]/mcp", "https://[::1]/mcp", "IPv6 loopback");
	check("https://[2001:DB8::A]:8443/mcp", "https://[2001:db8::a]:8443/mcp",
	    "https://[2001:db8::a]:8443/mcp", "IPv6 literal lower-cased, port kept");
	check("http://[::1]:80/", "http://[::1]/", "http://[::1]", "IPv6 with default port");
	check("https://[::ffff:192.0.2.1]/", "https://[::ffff:192.0.2.1]/",
	    "https://[::ffff:192.0.2.1]", "IPv4-mapped IPv6");
	check("https://127.0.0.1:3000/mcp", "https://127.0.0.1:3000/mcp",
	    "https://127.0.0.1:3000/mcp", "IPv4 literal with port");
	check("https://my-host.example/", "https://my-host.example/", "https://my-host.example",
	    "hyphen in host");

	check("https://h/a%20b", "https://h/a%20b", "https://h/a%20b", "percent-encoding kept");
	check("https://h/a;b=c,d", "https://h/a;b=c,d", "https://h/a;b=c,d", "sub-delims kept");
	check("https://h/~u/x@y:z", "https://h/~u/x@y:z", "https://h/~u/x@y:z",
	    "'~', '@' and ':' in the path");
	check("https://h/a!$&'()*+", "https://h/a!$&'()*+", "https://h/a!$&'()*+",
	    "every other sub-delim in the path");

	/* Only len bytes are read: a query past len is not looked at. */
	check_n("https://h/mcp?x=1", 13, "https://h/mcp", "https://h/mcp", "length-bounded input");
	check_n("https://h/mcp\0junk", 13, "https://h/mcp", "https://h/mcp", "NUL just past len");
}

static void
test_null_outputs(void)
{
	char *uri = NULL, *key = NULL;

	is_int(resource_normalize("https://H/x/", 12, &uri, NULL), 0, "key_out may be NULL");
	is_str(uri, "https://h/x/", "uri without key");
	free(uri);
	is_int(resource_normalize("https://H/x/", 12, NULL, &key), 0, "uri_out may be NULL");
	is_str(key, "https://h/x", "key without uri");
	free(key);
	is_int(resource_normalize("https://H/x/", 12, NULL, NULL), 0, "both may be NULL");
	is_int(resource_normalize("ftp://h/", 8, NULL, NULL), -1, "refusal with NULL outputs");
}

static void
test_refusals(void)
{
	refuse("", "empty");
	check_n("https://h/", 0, NULL, NULL, "length 0 of a good string");
	refuse("https://", "scheme only");
	refuse("http://", "http scheme only");
	refuse("https:///mcp", "empty host");
	refuse("https://:443/mcp", "port without host");
	refuse("https:/h/mcp", "one slash");
	refuse("https:h/mcp", "no slashes");
	refuse("//h/mcp", "scheme-relative");
	refuse("h/mcp", "no scheme");
	refuse("/mcp", "path only");
	refuse("ftp://h/mcp", "ftp scheme");
	refuse("wss://h/mcp", "wss scheme");
	refuse("urn:example:mcp", "URN");
	refuse("https://-/mcp", "host of a hyphen");
	refuse("https://../mcp", "host of dots");
	refuse("https://a..b/mcp", "empty DNS label");
	refuse("https://-a.example/mcp", "label starting with a hyphen");
	refuse("https://a-.example/mcp", "label ending with a hyphen");
	refuse("https://a_b.example/mcp", "underscore in a host");
	refuse("https://[1]/mcp", "bracketed non-address");
	refuse("https://[::1]x/mcp", "junk after an IPv6 literal");
	refuse("https://[::g]/mcp", "bad IPv6 literal");
	refuse("https://h/a[1]", "bracket in the path");
	check("https://[2001:DB8::1]:8443/mcp", "https://[2001:db8::1]:8443/mcp",
	    "https://[2001:db8::1]:8443/mcp", "IPv6 literal lower-cased, port kept");
	refuse("mailto:a@h", "mailto");
	refuse("javascript://h/%0Aalert(1)", "javascript scheme");
	refuse("httpx://h/", "scheme with http prefix");
	refuse("https ://h/", "space in scheme");

	refuse("https://h/mcp?x=1", "query");
	refuse("https://h/mcp?", "empty query");
	refuse("https://h?x=1", "query without path");
	refuse("https://h/mcp#f", "fragment");
	refuse("https://h/mcp#", "empty fragment");
	refuse("https://h#f", "fragment without path");
	refuse("https://h:443?x", "query after port");

	refuse("https://user@h/mcp", "userinfo");
	refuse("https://user:pw@h/mcp", "userinfo with password");
	refuse("https://@h/mcp", "empty userinfo");
	refuse("https://h@evil.example/mcp", "host-looking userinfo");

	refuse("https://h:0/", "port 0");
	refuse("https://h:65536/", "port 65536");
	refuse("https://h:99999/", "port 99999");
	refuse("https://h:123456/", "six-digit port");
	refuse("https://h:0000443/", "port with seven digits");
	refuse("https://h:/", "empty port");
	refuse("https://h:", "empty port at the end");
	refuse("https://h:abc/", "port with letters");
	refuse("https://h:80a/", "port with a trailing letter");
	refuse("https://h:-1/", "negative port");
	refuse("https://h:+80/", "port with a sign");
	refuse("https://h: 80/", "port with a space");
	refuse("https://h:80:80/", "two ports");

	refuse("https://h_x/", "underscore in host");
	refuse("https://h x/", "space in host");
	refuse("https://h%41/", "percent in host");
	refuse("https://h\xc3\xa9/", "non-ASCII host");
	refuse("https://h\\evil/", "backslash in host");
	refuse("https://h\t/", "tab in host");

	refuse("https://[]/", "empty IPv6 literal");
	refuse("https://[::1/", "unterminated IPv6 literal");
	refuse("https://[::1", "unterminated IPv6 literal at the end");
	refuse("https://[::g]/", "non-hex IPv6 literal");
	refuse("https://[::1]x/", "junk after IPv6 literal");
	refuse("https://[::1]:/", "empty port after IPv6 literal");
	refuse("https://[::1]:0/", "port 0 after IPv6 literal");
	refuse("https://[fe80::1%25eth0]/", "IPv6 zone identifier");
	refuse("https://::1/", "IPv6 without brackets");
	refuse("https://h[::1]/", "bracket inside a host");

	refuse("https://h/a b", "space in path");
	refuse("https://h/a\"b", "quote in path");
	refuse("https://h/a<b>", "angle brackets in path");
	refuse("https://h/a\\b", "backslash in path");
	refuse("https://h/a\nb", "newline in path");
	refuse("https://h/a\x7f", "DEL in path");
	refuse("https://h/\xc3\xa9", "non-ASCII in path");
	refuse("https://h/a{b}", "braces in path");
	refuse("https://h/a|b", "pipe in path");
	refuse("https://h/a^b", "caret in path");
	refuse("https://h/a`b", "backtick in path");
	refuse("https://h/a[b]", "brackets in path");
	check_n("https://h/a\0b", 12, NULL, NULL, "NUL inside the length");
	check_n("https://h\0/", 11, NULL, NULL, "NUL inside the host");
}

/* A percent sign must start a pct-encoded triplet (RFC 3986 §2.1); otherwise the URI is
 * malformed and the header promises -1. */
static void
test_bad_percent(void)
{
	char *uri = NULL;
	int rc;

	rc = resource_normalize("https://h/%zz", 13, &uri, NULL);
	ok(rc == -1, "'%%zz' in the path refused");
	free(uri);
	uri = NULL;
	rc = resource_normalize("https://h/mcp%", 14, &uri, NULL);
	ok(rc == -1, "trailing '%%' in the path refused");
	free(uri);
}

static void
test_length(void)
{
	char *s = malloc(RESOURCE_URI_MAX + 2), *uri = NULL, *key = NULL;

	if (s == NULL) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	memcpy(s, "https://h/", 10);
	memset(s + 10, 'a', RESOURCE_URI_MAX + 1 - 10);
	s[RESOURCE_URI_MAX - 1] = '/';
	s[RESOURCE_URI_MAX + 1] = '\0';
	is_int(resource_normalize(s, RESOURCE_URI_MAX, &uri, &key), 0,
	    "RESOURCE_URI_MAX bytes accepted");
	ok(uri != NULL && strlen(uri) == RESOURCE_URI_MAX, "registered form is full length");
	ok(key != NULL && strlen(key) == RESOURCE_URI_MAX - 1, "key loses the trailing slash");
	free(uri);
	free(key);
	uri = key = NULL;
	is_int(resource_normalize(s, RESOURCE_URI_MAX + 1, &uri, &key), -1,
	    "RESOURCE_URI_MAX + 1 bytes refused");
	ok(uri == NULL && key == NULL, "too long leaves outputs NULL");

	/* The longest URI whose port is dropped shrinks, which must not matter. */
	memcpy(s, "HTTPS://H:00443/", 16);
	is_int(resource_normalize(s, RESOURCE_URI_MAX, &uri, &key), 0,
	    "RESOURCE_URI_MAX bytes with a dropped port");
	ok(uri != NULL && strlen(uri) == RESOURCE_URI_MAX - 6, "dropped port shortens it");
	free(uri);
	free(key);
	free(s);
}

int
main(void)
{
	test_happy();
	test_null_outputs();
	test_refusals();
	test_bad_percent();
	test_length();
	tap_diag("resource: RESOURCE_URI_MAX %d", RESOURCE_URI_MAX);
	return tap_done();
}
