/* Fuzz target: the config file parser (config_parse_text) and duration values. */
#include "config.h"

#include "util/config.h"

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	char err[256], *text;
	int64_t secs;

	if (config_init(&cfg) != 0)
		abort();
	err[0] = '\0';
	if (config_parse_text(&cfg, (const char *)data, size, err, sizeof(err)) != 0)
		FUZZ_ASSERT(err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL);
	config_free(&cfg);

	text = fuzz_strdup(data, size);
	if (config_parse_duration(text, &secs) == 0)
		FUZZ_ASSERT(secs >= 0);
	free(text);
	return 0;
}
