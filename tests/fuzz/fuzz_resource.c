/* Fuzz target: resource URI canonicalisation (RFC 8707) and the http(s) URI parser under it. */
#include "config.h"

#include "oauth/resource.h"
#include "oauth/uri.h"

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct uri_http u;
	char *uri = NULL, *key = NULL, *uri2 = NULL, *key2 = NULL;

	if (uri_parse_http((const char *)data, size, &u) == 0) {
		FUZZ_ASSERT(u.host != NULL && u.host_len > 0);
		FUZZ_ASSERT(u.host >= (const char *)data && u.host + u.host_len <= (const char *)data + size);
		FUZZ_ASSERT(u.port == -1 || (u.port >= 1 && u.port <= 65535));
		(void)uri_host_is_loopback_ip(u.host, u.host_len);
	}
	if (resource_normalize((const char *)data, size, &uri, &key) != 0) {
		FUZZ_ASSERT(uri == NULL && key == NULL);
		return 0;
	}
	/* The canonical form is a fixed point: normalising the registered URI gives it
	 * back with the same key. The key is the URI less at most one trailing '/'. */
	FUZZ_ASSERT(resource_normalize(uri, strlen(uri), &uri2, &key2) == 0);
	FUZZ_ASSERT(strcmp(uri, uri2) == 0 && strcmp(key, key2) == 0);
	FUZZ_ASSERT(strncmp(uri, key, strlen(key)) == 0 && strlen(uri) - strlen(key) <= 1);
	free(uri);
	free(key);
	free(uri2);
	free(key2);
	return 0;
}
