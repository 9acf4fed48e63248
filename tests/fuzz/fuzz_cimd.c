/* Fuzz target: Client ID Metadata Documents (cimd_validate) and the URL and
 * Cache-Control checks made before and after a fetch. */
#include "config.h"

#include "oauth/cimd.h"

#include "fuzz.h"

#include <jansson.h>

/* A document normally names itself; one that does not is checked against this. */
#define OTHER_URL "https://app.example.com/oauth/client.json"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct cimd_policy policy = {0, NULL, "example.com example.org"};
	json_error_t jerr;
	json_t *doc;
	const char *url;
	char *text, err[256];
	int64_t age;

	/* The raw input as a client_id and as a Cache-Control value. */
	text = fuzz_strdup(data, size);
	if (cimd_is_url(text))
		(void)cimd_host_allowed(text, &policy);
	age = cimd_cache_lifetime(text);
	FUZZ_ASSERT(age >= CIMD_MIN_CACHE && age <= CIMD_MAX_CACHE);
	free(text);

	/* The same flags as cimd_fetch. */
	doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	if (doc == NULL)
		return 0;
	url = json_string_value(json_object_get(doc, "client_id"));
	if (url == NULL || !cimd_is_url(url))
		url = OTHER_URL;
	err[0] = '\0';
	if (cimd_validate(doc, url, err, sizeof(err)) != 0)
		FUZZ_ASSERT(err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL);
	json_decref(doc);
	return 0;
}
