/* Fuzz target: database locations (a SQLite path or a PostgreSQL URI) as an operator
 * writes them: which backend they name, the password masking of every log line and
 * listing that shows one, and the scrubbing of libpq's messages. */
#include "config.h"

#include "store/backend.h"
#include "store/store.h"

#include "fuzz.h"

#include <stdio.h>

/* ":PASSWORD@" of postgresql://USER:PASSWORD@... when USER and PASSWORD are non-empty
 * and hold none of ":@/?&*" (a new string), else NULL. */
static char *
plain_password_new(const char *loc)
{
	const char *p = strstr(loc, "://"), *colon, *end;
	char *out;
	size_t user, pass;

	if (!store_location_is_url(loc) || p == NULL)
		return NULL;
	p += 3;
	user = strcspn(p, ":@/?&*");
	colon = p + user;
	if (user == 0 || *colon != ':')
		return NULL;
	pass = strcspn(colon + 1, ":@/?&*");
	end = colon + 1 + pass;
	if (pass == 0 || *end != '@' || (out = malloc(pass + 3)) == NULL)
		return NULL;
	memcpy(out, colon, pass + 2);
	out[pass + 2] = '\0';
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *loc = fuzz_strdup(data, size), *masked, *again, text[512];

	(void)store_location_is_url(loc);
	masked = store_location_masked_new(loc);
	FUZZ_ASSERT(masked != NULL);
	/* In the plain form, scheme://USER:PASSWORD@HOST... with neither part holding a
	 * delimiter, the password is gone. (Masking is not idempotent on every input: a
	 * masked password that held a '/' moves where the authority seems to end; what
	 * counts is that the first pass hides what libpq would read as a password.) */
	again = plain_password_new(loc);
	if (again != NULL) {
		/* where it stood: right after the user name */
		size_t at = (size_t)(strstr(loc, again) - loc);

		FUZZ_ASSERT(strncmp(masked, loc, at) == 0 && strncmp(masked + at, ":****@", 6) == 0);
	}
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
