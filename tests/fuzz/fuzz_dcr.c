/* Fuzz target: the dynamic client registration body (JSON parse + dcr_validate). */
#include "config.h"

#include "oauth/dcr.h"

#include "fuzz.h"

#include <jansson.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dcr_client c;
	json_error_t jerr;
	json_t *req;
	char err[256];
	size_t i;

	/* The same flags as the registration endpoint. */
	req = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	if (req == NULL)
		return 0;
	if (dcr_validate(req, &c, err, sizeof(err)) == OAUTH_OK) {
		/* What is stored and echoed must be an object whose borrowed members agree. */
		FUZZ_ASSERT(json_is_object(c.metadata));
		FUZZ_ASSERT(c.n_redirect_uris <= DCR_MAX_REDIRECT_URIS);
		for (i = 0; i < c.n_redirect_uris; i++)
			FUZZ_ASSERT(c.redirect_uris[i] != NULL);
		FUZZ_ASSERT(memchr(c.grant_types, '\0', sizeof(c.grant_types)) != NULL);
	} else {
		FUZZ_ASSERT(memchr(err, '\0', sizeof(err)) != NULL && err[0] != '\0');
	}
	dcr_client_clear(&c);
	json_decref(req);
	return 0;
}
