/* Outbound HTTP over libcurl, under one policy (see fetch.h). */
#include "config.h"

#include "net/fetch.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "jose/b64url.h"
#include "oauth/uri.h"
#include "util/buf.h"

int
net_address_private(const struct sockaddr *sa)
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
			return net_address_private((const struct sockaddr *)&v4);
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
resolve_pinned(const struct uri_http *u, int default_port, const struct net_policy *p,
    struct curl_slist **pin,
    char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	char host[256], addr[INET6_ADDRSTRLEN + 2], entry[512];
	int port = u->port > 0 ? u->port : default_port;

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
		snprintf(err, errlen, "cannot resolve the host");
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (!p->allow_private && net_address_private(ai->ai_addr)) {
			snprintf(err, errlen, "the host has a private or loopback address");
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

static const char *default_ca_file;

void
net_set_ca_file(const char *path)
{
	default_ca_file = path;
}

int
net_fetch(const struct net_request *req, const struct net_policy *p, struct net_response *out,
    char *err, size_t errlen)
{
	struct sink s;
	struct header_sink h;
	struct curl_slist *pin = NULL, *hdrs = NULL;
	struct uri_http u;
	char header[1024];
	CURL *curl = NULL;
	CURLcode cc;
	int https, rc = -1;

	memset(out, 0, sizeof(*out));
	memset(&h, 0, sizeof(h));
	buf_init(&s.body, p->max_bytes);
	s.too_big = 0;
	https = strncmp(req->url, "https://", 8) == 0;
	if ((!https && !(p->allow_http && strncmp(req->url, "http://", 7) == 0)) ||
	    uri_parse_http(req->url, strlen(req->url), &u) != 0 || u.has_userinfo) {
		snprintf(err, errlen, p->allow_http ? "not an http(s) URL" : "not an https URL");
		goto out;
	}
	if (resolve_pinned(&u, https ? 443 : 80, p, &pin, err, errlen) != 0)
		goto out;
	if ((curl = curl_easy_init()) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	snprintf(header, sizeof(header), "Accept: %s", req->accept ? req->accept : "application/json");
	hdrs = curl_slist_append(hdrs, header);
	if (req->authorization != NULL) {
		if (snprintf(header, sizeof(header), "Authorization: %s", req->authorization) >=
		    (int)sizeof(header)) {
			snprintf(err, errlen, "credentials too long");
			goto out;
		}
		hdrs = curl_slist_append(hdrs, header);
	}
	if (hdrs == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	curl_easy_setopt(curl, CURLOPT_URL, req->url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, https ? "https" : "http");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, p->timeout_ms);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)p->max_bytes);
	curl_easy_setopt(curl, CURLOPT_RESOLVE, pin);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, &h);
	if (req->form != NULL)
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->form);
	if (p->ca_file != NULL || default_ca_file != NULL)
		curl_easy_setopt(curl, CURLOPT_CAINFO, p->ca_file ? p->ca_file : default_ca_file);
	cc = curl_easy_perform(curl);
	if (s.too_big || cc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(err, errlen, "the answer is larger than %zu bytes", p->max_bytes);
		goto out;
	}
	if (cc != CURLE_OK) {
		snprintf(err, errlen, "%s", curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
	memcpy(out->cache_control, h.cache_control, sizeof(out->cache_control));
	memcpy(out->content_type, h.content_type, sizeof(out->content_type));
	if (buf_append(&s.body, "", 1) != BUF_OK) {
		snprintf(err, errlen, "the answer is larger than %zu bytes", p->max_bytes);
		goto out;
	}
	out->len = s.body.len - 1;
	out->body = s.body.data;
	s.body.data = NULL;
	rc = 0;
out:
	curl_slist_free_all(pin);
	curl_slist_free_all(hdrs);
	if (curl != NULL)
		curl_easy_cleanup(curl);
	buf_free(&s.body);
	return rc;
}

void
net_response_clear(struct net_response *r)
{
	if (r == NULL)
		return;
	free(r->body);
	memset(r, 0, sizeof(*r));
}

int
net_response_is_json(const struct net_response *r)
{
	return strncasecmp(r->content_type, "application/json", 16) == 0 ||
	    strstr(r->content_type, "+json") != NULL;
}

/* RFC 6749 §2.3.1: the client_id and secret are form-encoded before they are joined
 * and base64-encoded. */
char *
net_basic_auth_new(const char *client_id, const char *secret)
{
	struct buf b;
	char *enc = NULL, *out = NULL;

	buf_init(&b, 0);
	if (buf_put_urlencoded(&b, client_id) == BUF_OK && buf_putc(&b, ':') == BUF_OK &&
	    buf_put_urlencoded(&b, secret) == BUF_OK &&
	    (enc = b64std_encode_new(b.data, b.len)) != NULL &&
	    (out = malloc(strlen(enc) + 7)) != NULL)
		sprintf(out, "Basic %s", enc);
	if (b.data != NULL)
		OPENSSL_cleanse(b.data, b.len);
	buf_free(&b);
	if (enc != NULL)
		OPENSSL_clear_free(enc, strlen(enc));
	return out;
}

int
net_form_pair(struct buf *b, const char *name, const char *value)
{
	int rc = BUF_OK;

	if (b->len > 0)
		rc |= buf_putc(b, '&');
	rc |= buf_puts(b, name);
	rc |= buf_putc(b, '=');
	rc |= buf_put_urlencoded(b, value);
	return rc;
}

int
net_query_pair(struct buf *b, const char *name, const char *value)
{
	int rc = buf_putc(b, b->data != NULL && strchr(b->data, '?') != NULL ? '&' : '?');

	rc |= buf_puts(b, name);
	rc |= buf_putc(b, '=');
	rc |= buf_put_urlencoded(b, value);
	return rc;
}
