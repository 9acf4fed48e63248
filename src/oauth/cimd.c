/* Client ID Metadata Documents over libcurl, with SSRF protections. */
#include "config.h"

#include "oauth/cimd.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "oauth/redirect.h"
#include "oauth/uri.h"
#include "util/buf.h"

#define NAME_MAX_LEN 200
#define MAX_REDIRECT_URIS 20

int
cimd_is_url(const char *client_id)
{
	struct uri_http u;
	size_t n;

	if (client_id == NULL || (n = strlen(client_id)) > 2048 ||
	    strncmp(client_id, "https://", 8) != 0 || uri_parse_http(client_id, n, &u) != 0)
		return 0;
	if (u.fragment != NULL || u.has_userinfo || u.path_len < 2)
		return 0;
	/* No dot segments: the URL must name exactly one document. */
	if (strstr(client_id, "/./") != NULL || strstr(client_id, "/../") != NULL ||
	    (u.path_len >= 2 && memcmp(u.path + u.path_len - 2, "/.", 2) == 0) ||
	    (u.path_len >= 3 && memcmp(u.path + u.path_len - 3, "/..", 3) == 0))
		return 0;
	return 1;
}

int
cimd_host_allowed(const char *url, const struct cimd_policy *p)
{
	const char *list = p->allowed_domains, *tok;
	struct uri_http u;
	size_t len;

	if (list == NULL || list[0] == '\0')
		return 1;
	if (uri_parse_http(url, strlen(url), &u) != 0)
		return 0;
	for (tok = list; *tok != '\0';) {
		while (*tok == ' ')
			tok++;
		len = strcspn(tok, " ");
		if (len == 0)
			break;
		/* The domain itself or a subdomain of it. */
		if ((u.host_len == len && strncasecmp(u.host, tok, len) == 0) ||
		    (u.host_len > len && u.host[u.host_len - len - 1] == '.' &&
			strncasecmp(u.host + u.host_len - len, tok, len) == 0))
			return 1;
		tok += len;
	}
	return 0;
}

static int
string_member(const json_t *doc, const char *name, size_t max, int required, char *err,
    size_t errlen)
{
	const json_t *v = json_object_get(doc, name);

	if (v == NULL) {
		if (required)
			snprintf(err, errlen, "the document has no %s", name);
		return required ? -1 : 0;
	}
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max) {
		snprintf(err, errlen, "%s must be a string of 1-%zu characters", name, max);
		return -1;
	}
	return 0;
}

/* Every element of member (if present) is one of the allowed strings. */
static int
strings_within(const json_t *doc, const char *member, const char *const *allowed, char *err,
    size_t errlen)
{
	const json_t *arr = json_object_get(doc, member), *v;
	size_t i, k;

	if (arr == NULL)
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) == 0)
		goto bad;
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v))
			goto bad;
		for (k = 0; allowed[k] != NULL && strcmp(allowed[k], json_string_value(v)) != 0; k++)
			;
		if (allowed[k] == NULL)
			goto bad;
	}
	return 0;
bad:
	snprintf(err, errlen, "%s may only hold the values of the code flow", member);
	return -1;
}

int
cimd_validate(const json_t *doc, const char *url, char *err, size_t errlen)
{
	static const char *const grants[] = {"authorization_code", "refresh_token", NULL};
	static const char *const responses[] = {"code", NULL};
	const json_t *uris, *v, *method;
	size_t i;

	if (!json_is_object(doc)) {
		snprintf(err, errlen, "the document is not a JSON object");
		return -1;
	}
	v = json_object_get(doc, "client_id");
	if (!json_is_string(v) || strcmp(json_string_value(v), url) != 0) {
		snprintf(err, errlen, "the document's client_id is not its own URL");
		return -1;
	}
	uris = json_object_get(doc, "redirect_uris");
	if (!json_is_array(uris) || json_array_size(uris) == 0 ||
	    json_array_size(uris) > MAX_REDIRECT_URIS) {
		snprintf(err, errlen, "redirect_uris must list 1-%d URIs", MAX_REDIRECT_URIS);
		return -1;
	}
	json_array_foreach(uris, i, v) {
		if (!json_is_string(v) || redirect_uri_classify(json_string_value(v)) == REDIRECT_INVALID) {
			snprintf(err, errlen, "redirect_uris[%zu] is not an acceptable redirect URI", i);
			return -1;
		}
	}
	method = json_object_get(doc, "token_endpoint_auth_method");
	if (method != NULL &&
	    (!json_is_string(method) || strcmp(json_string_value(method), "none") != 0)) {
		snprintf(err, errlen, "token_endpoint_auth_method must be none");
		return -1;
	}
	if (json_object_get(doc, "client_secret") != NULL ||
	    json_object_get(doc, "client_secret_expires_at") != NULL) {
		snprintf(err, errlen, "a metadata document must not carry a client secret");
		return -1;
	}
	if (string_member(doc, "client_name", NAME_MAX_LEN, 0, err, errlen) != 0 ||
	    string_member(doc, "client_uri", 2048, 0, err, errlen) != 0 ||
	    string_member(doc, "logo_uri", 2048, 0, err, errlen) != 0 ||
	    strings_within(doc, "grant_types", grants, err, errlen) != 0 ||
	    strings_within(doc, "response_types", responses, err, errlen) != 0)
		return -1;
	return 0;
}

int64_t
cimd_cache_lifetime(const char *cc)
{
	const char *p;
	long long v;

	if (cc == NULL)
		return CIMD_DEFAULT_CACHE;
	if (strcasestr(cc, "no-store") != NULL || strcasestr(cc, "no-cache") != NULL)
		return CIMD_MIN_CACHE;
	if ((p = strcasestr(cc, "max-age=")) == NULL)
		return CIMD_DEFAULT_CACHE;
	v = strtoll(p + 8, NULL, 10);
	if (v < CIMD_MIN_CACHE)
		return CIMD_MIN_CACHE;
	return v > CIMD_MAX_CACHE ? CIMD_MAX_CACHE : v;
}

/* Addresses a metadata fetch must never reach, unless the policy allows them. */
static int
address_private(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		uint32_t a = ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr);

		return (a >> 24) == 0 || (a >> 24) == 10 || (a >> 24) == 127 ||
		    (a >> 16) == 0xa9fe || (a >> 20) == 0xac1 || (a >> 16) == 0xc0a8 ||
		    (a >> 22) == 0x191 /* 100.64/10 */ || (a >> 28) == 0xe || (a >> 28) == 0xf;
	}
	if (sa->sa_family == AF_INET6) {
		const unsigned char *b =
		    ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
		static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		static const unsigned char zero[15] = {0};

		if (memcmp(b, mapped, 12) == 0) {
			struct sockaddr_in v4;

			memset(&v4, 0, sizeof(v4));
			v4.sin_family = AF_INET;
			memcpy(&v4.sin_addr, b + 12, 4);
			return address_private((const struct sockaddr *)&v4);
		}
		return memcmp(b, zero, 15) == 0 /* :: and ::1 */ || (b[0] & 0xfe) == 0xfc ||
		    (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) || b[0] == 0xff;
	}
	return 1;
}

struct sink {
	struct buf body;
	int too_big;
};

static size_t
on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb;

	if (buf_append(&s->body, ptr, n) != BUF_OK) {
		s->too_big = 1;
		return 0; /* aborts the transfer */
	}
	return n;
}

struct header_sink {
	char cache_control[256];
	char content_type[128];
};

static size_t
on_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct header_sink *h = arg;
	size_t n = size * nmemb, vlen;
	char *dst = NULL;
	const char *v;

	if (n > 14 && strncasecmp(ptr, "cache-control:", 14) == 0) {
		dst = h->cache_control;
		v = ptr + 14;
	} else if (n > 13 && strncasecmp(ptr, "content-type:", 13) == 0) {
		dst = h->content_type;
		v = ptr + 13;
	} else {
		return n;
	}
	while (v < ptr + n && (*v == ' ' || *v == '\t'))
		v++;
	vlen = (size_t)(ptr + n - v);
	while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n'))
		vlen--;
	if (vlen >= 127)
		vlen = 127;
	memcpy(dst, v, vlen);
	dst[vlen] = '\0';
	return n;
}

/* Resolve the host once, check every address, and pin curl to the first one, so that
 * DNS cannot answer differently between the check and the connection. */
static int
resolve_pinned(const struct uri_http *u, const struct cimd_policy *p, struct curl_slist **pin,
    char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	char host[256], addr[INET6_ADDRSTRLEN + 2], entry[512];
	int port = u->port > 0 ? u->port : 443;

	*pin = NULL;
	if (u->host_len >= sizeof(host)) {
		snprintf(err, errlen, "host name too long");
		return -1;
	}
	memcpy(host, u->host, u->host_len);
	host[u->host_len] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	/* getaddrinfo wants an IPv6 literal without brackets. */
	if (host[0] == '[') {
		memmove(host, host + 1, u->host_len - 2);
		host[u->host_len - 2] = '\0';
	}
	if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL) {
		snprintf(err, errlen, "cannot resolve the document's host");
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (!p->allow_private && address_private(ai->ai_addr)) {
			snprintf(err, errlen, "the document's host has a private or loopback address");
			freeaddrinfo(res);
			return -1;
		}
	}
	ai = res;
	if (ai->ai_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr, addr,
		    sizeof(addr));
	else {
		size_t n;

		addr[0] = '[';
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_addr,
		    addr + 1, sizeof(addr) - 2);
		n = strlen(addr);
		addr[n] = ']';
		addr[n + 1] = '\0';
	}
	freeaddrinfo(res);
	snprintf(entry, sizeof(entry), "%.*s:%d:%s", (int)u->host_len, u->host, port, addr);
	if ((*pin = curl_slist_append(NULL, entry)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

int
cimd_fetch(const char *url, const struct cimd_policy *p, json_t **doc, int64_t *max_age,
    char *err, size_t errlen)
{
	struct sink s;
	struct header_sink h;
	struct curl_slist *pin = NULL, *hdrs = NULL;
	struct uri_http u;
	json_error_t jerr;
	CURL *curl = NULL;
	CURLcode cc;
	long status = 0;
	int rc = -1;

	*doc = NULL;
	*max_age = CIMD_DEFAULT_CACHE;
	memset(&h, 0, sizeof(h));
	buf_init(&s.body, CIMD_MAX_BYTES);
	s.too_big = 0;
	if (!cimd_is_url(url) || uri_parse_http(url, strlen(url), &u) != 0) {
		snprintf(err, errlen, "the client_id is not an https URL with a path");
		goto out;
	}
	if (!cimd_host_allowed(url, p)) {
		snprintf(err, errlen, "the document's host is not on the allowed list");
		goto out;
	}
	if (resolve_pinned(&u, p, &pin, err, errlen) != 0)
		goto out;
	if ((curl = curl_easy_init()) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	hdrs = curl_slist_append(NULL, "Accept: application/json");
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)CIMD_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)CIMD_MAX_BYTES);
	curl_easy_setopt(curl, CURLOPT_RESOLVE, pin);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, &h);
	if (p->ca_file != NULL)
		curl_easy_setopt(curl, CURLOPT_CAINFO, p->ca_file);
	cc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (s.too_big || cc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(err, errlen, "the document is larger than %d bytes", CIMD_MAX_BYTES);
		goto out;
	}
	if (cc != CURLE_OK) {
		snprintf(err, errlen, "cannot fetch the document: %s", curl_easy_strerror(cc));
		goto out;
	}
	if (status != 200) {
		snprintf(err, errlen, "fetching the document answered %ld", status);
		goto out;
	}
	if (strncasecmp(h.content_type, "application/json", 16) != 0 &&
	    strstr(h.content_type, "+json") == NULL) {
		snprintf(err, errlen, "the document is not served as JSON");
		goto out;
	}
	*doc = json_loadb(s.body.data ? s.body.data : "", s.body.len, JSON_REJECT_DUPLICATES, &jerr);
	if (*doc == NULL) {
		snprintf(err, errlen, "the document is not valid JSON");
		goto out;
	}
	if (cimd_validate(*doc, url, err, errlen) != 0) {
		json_decref(*doc);
		*doc = NULL;
		goto out;
	}
	*max_age = cimd_cache_lifetime(h.cache_control[0] ? h.cache_control : NULL);
	rc = 0;
out:
	curl_slist_free_all(pin);
	curl_slist_free_all(hdrs);
	if (curl != NULL)
		curl_easy_cleanup(curl);
	buf_free(&s.body);
	return rc;
}
