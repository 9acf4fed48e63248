/* Fuzz target: redirect URI classification (registration) and matching (authorize). */
#include "config.h"

#include "oauth/redirect.h"

#include "fuzz.h"

/* The input is "<registered>\n<presented>"; without a newline both are the same. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t rlen = nl != NULL ? (size_t)(nl - data) : size;
	char *reg = fuzz_strdup(data, rlen);
	char *pres = nl != NULL ? fuzz_strdup(nl + 1, size - rlen - 1) : fuzz_strdup(data, size);
	enum redirect_kind kind = redirect_uri_classify(reg);
	char *host;

	/* What may be registered matches itself, and has something to show the user. */
	if (kind != REDIRECT_INVALID) {
		FUZZ_ASSERT(redirect_uri_match(reg, reg));
		host = redirect_uri_host_new(reg);
		FUZZ_ASSERT(host != NULL && host[0] != '\0');
		free(host);
	}
	/* Of what may be registered, only a loopback URI matches a different string (any
	 * port, RFC 8252 §7.3). */
	if (kind != REDIRECT_INVALID && strcmp(reg, pres) != 0 && redirect_uri_match(reg, pres))
		FUZZ_ASSERT(kind == REDIRECT_LOOPBACK);
	free(reg);
	free(pres);
	return 0;
}
