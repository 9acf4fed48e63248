/* Client ID Metadata Documents, fetched through net/fetch.c (its SSRF protections). */
#include "config.h"

#include "oauth/cimd.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/fetch.h"
#include "oauth/redirect.h"
#include "oauth/uri.h"

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

int
cimd_fetch(const char *url, const struct cimd_policy *p, json_t **doc, int64_t *max_age,
    char *err, size_t errlen)
{
	const struct net_policy np = {.allow_private = p->allow_private, .ca_file = p->ca_file,
	    .max_bytes = CIMD_MAX_BYTES, .timeout_ms = CIMD_TIMEOUT_MS};
	const struct net_request req = {.url = url};
	struct net_response r;
	char why[200];
	int rc = -1;

	*doc = NULL;
	*max_age = CIMD_DEFAULT_CACHE;
	memset(&r, 0, sizeof(r));
	if (!cimd_is_url(url)) {
		snprintf(err, errlen, "the client_id is not an https URL with a path");
		return -1;
	}
	if (!cimd_host_allowed(url, p)) {
		snprintf(err, errlen, "the document's host is not on the allowed list");
		return -1;
	}
	if (net_fetch(&req, &np, &r, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "cannot fetch the document: %s", why);
		goto out;
	}
	if (r.status != 200) {
		snprintf(err, errlen, "fetching the document answered %ld", r.status);
		goto out;
	}
	if (!net_response_is_json(&r)) {
		snprintf(err, errlen, "the document is not served as JSON");
		goto out;
	}
	if ((*doc = json_loadb(r.body, r.len, JSON_REJECT_DUPLICATES, NULL)) == NULL) {
		snprintf(err, errlen, "the document is not valid JSON");
		goto out;
	}
	if (cimd_validate(*doc, url, err, errlen) != 0) {
		json_decref(*doc);
		*doc = NULL;
		goto out;
	}
	*max_age = cimd_cache_lifetime(r.cache_control[0] ? r.cache_control : NULL);
	rc = 0;
out:
	net_response_clear(&r);
	return rc;
}
