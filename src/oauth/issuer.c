/* Issuer identifier validation. */
#include "config.h"

#include "oauth/issuer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oauth/resource.h"

int
issuer_check(const char *url, int allow_insecure, char *err, size_t errlen)
{
	char *norm = NULL;

	/* The resource rules (absolute http(s), host, no userinfo, query or
	 * fragment) are exactly what RFC 8414 §2 asks of an issuer. */
	if (url == NULL || resource_normalize(url, strlen(url), &norm, NULL) != 0) {
		snprintf(err, errlen,
		    "issuer '%s' must be an absolute https URL without query or fragment",
		    url ? url : "");
		return -1;
	}
	free(norm);
	if (strncmp(url, "https://", 8) != 0 && !allow_insecure) {
		snprintf(err, errlen,
		    "issuer '%s' must use https (TLS may end at a reverse proxy); "
		    "set allow_insecure_issuer = true for local testing", url);
		return -1;
	}
	return 0;
}
