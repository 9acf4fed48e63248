/* Fuzz target: a third party's token answers (thirdparty_parse), as the vault reads them
 * when a user connects and when it refreshes. The first byte picks the status. */
#include "config.h"

#include "oauth/thirdparty.h"

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = {200, 400, 401, 500};
	struct thirdparty_tokens t;
	enum thirdparty_outcome o;
	char err[256];
	long status;

	if (size == 0)
		return 0;
	status = statuses[data[0] % 4];
	err[0] = '\0';
	o = thirdparty_parse(status, (const char *)data + 1, size - 1, &t, err, sizeof(err));
	if (o == THIRDPARTY_OK) {
		/* What is kept is what may be kept: a printable token, a sane lifetime. */
		size_t i, n;

		FUZZ_ASSERT(status == 200 && t.access_token != NULL);
		n = strlen(t.access_token);
		FUZZ_ASSERT(n > 0 && n <= THIRDPARTY_TOKEN_MAX);
		for (i = 0; i < n; i++)
			FUZZ_ASSERT(t.access_token[i] >= 0x20 && t.access_token[i] <= 0x7e);
		FUZZ_ASSERT(t.refresh_token == NULL || (strlen(t.refresh_token) > 0 &&
		    strlen(t.refresh_token) <= THIRDPARTY_TOKEN_MAX));
		FUZZ_ASSERT(t.expires_in >= 0 && t.expires_in <= 10LL * 365 * 86400);
	} else {
		FUZZ_ASSERT(t.access_token == NULL && t.refresh_token == NULL && t.scope == NULL);
		FUZZ_ASSERT(err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL);
		FUZZ_ASSERT(o != THIRDPARTY_REFUSED || status == 400 || status == 401);
	}
	thirdparty_tokens_clear(&t);
	return 0;
}
