/* Client ID Metadata Documents: a client_id that is an https URL names a JSON document
 * that describes the client. Fetched with strict limits (no redirects, https only, a
 * size cap, a timeout, no private addresses unless allowed). */
#ifndef MCP_OAUTH_CIMD_H
#define MCP_OAUTH_CIMD_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define CIMD_MAX_BYTES (64 * 1024)
#define CIMD_TIMEOUT_MS 5000
#define CIMD_MIN_CACHE 60
#define CIMD_MAX_CACHE 86400
#define CIMD_DEFAULT_CACHE 3600

struct cimd_policy {
	int allow_private;             /* loopback, private, link-local addresses (tests) */
	const char *ca_file;           /* an extra CA bundle, or NULL */
	const char *allowed_domains;   /* space-separated host suffixes, NULL: any host */
};

/* Does client_id look like a metadata document URL: https, a host, a path other than
 * "/", no fragment, no userinfo, no dot segments? */
int cimd_is_url(const char *client_id);

/* Is the URL's host allowed by the policy's domain list? */
int cimd_host_allowed(const char *url, const struct cimd_policy *p);

/* Check a parsed document for url: client_id equal to the URL, redirect_uris a
 * non-empty list of registrable redirect URIs, token_endpoint_auth_method "none" (or
 * absent), no secrets, grant and response types of the code flow, bounded strings.
 * Pure. 0, or -1 with a reason in err. */
int cimd_validate(const json_t *doc, const char *url, char *err, size_t errlen);

/* Fetch url and validate it (blocking: run it on a worker). On success *doc is a new
 * reference and *max_age the time to keep it (from Cache-Control, bounded). */
int cimd_fetch(const char *url, const struct cimd_policy *p, json_t **doc, int64_t *max_age,
    char *err, size_t errlen);

/* The freshness lifetime from a Cache-Control value (NULL: the default). */
int64_t cimd_cache_lifetime(const char *cache_control);

#endif
