/* Fuzz target: database locations (a SQLite path or a PostgreSQL URI) as an operator
 * writes them: which backend they name, the password masking of every log line and
 * listing that shows one, and the scrubbing of libpq's messages. */
#include "config.h"

#include "store/backend.h"
#include "store/store.h"

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *loc = fuzz_strdup(data, size), *masked, *again, text[512];

	(void)store_location_is_url(loc);
	masked = store_location_masked_new(loc);
	FUZZ_ASSERT(masked != NULL);
	/* Masking what is masked changes nothing: the passwords are "****" already, and the
	 * places they sit in are found the same way. */
	again = store_location_masked_new(masked);
	FUZZ_ASSERT(again != NULL && strcmp(again, masked) == 0);
	if (!store_location_is_url(loc))
		FUZZ_ASSERT(strcmp(masked, loc) == 0);
	/* A message that quotes the location, scrubbed in a buffer of its own size. */
	snprintf(text, sizeof(text), "could not connect to \"%s\"", loc);
	store_scrub_password(loc, text, sizeof(text));
	FUZZ_ASSERT(memchr(text, '\0', sizeof(text)) != NULL);
	free(again);
	free(masked);
	free(loc);
	return 0;
}
