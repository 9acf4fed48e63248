/* What every fuzz target shares: the libFuzzer entry point and a NUL-terminated copy. */
#ifndef MCP_TESTS_FUZZ_H
#define MCP_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Called by libFuzzer (clang -fsanitize=fuzzer) or by replay.c for each input.
 * Returns 0; a broken property aborts. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* data[0..size) as a new C string (embedded NULs kept, so strlen may be shorter);
 * aborts on ENOMEM, which is not a finding. */
static inline char *
fuzz_strdup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* A broken property: abort so libFuzzer records the input and replay fails. */
#define FUZZ_ASSERT(cond) \
	do { \
		if (!(cond)) \
			abort(); \
	} while (0)

#endif
