/* Fuzz target: the template renderer, with a fixed context of hostile values. */
#include "config.h"

#include "util/buf.h"
#include "util/tmpl.h"

#include "fuzz.h"

#include <jansson.h>

/* Names a template is likely to use, with values that need escaping, nested
 * sections, arrays of scalars and of objects, and every falsy kind. */
static const char context_json[] =
    "{\"client_name\":\"<script>alert(1)</script>\",\"host\":\"a\\\"b'c`d=e&f\","
    "\"n\":42,\"r\":1.5,\"t\":true,\"f\":false,\"z\":null,\"e\":\"\",\"ea\":[],"
    "\"scopes\":[\"read\",\"<b>write</b>\",\"x&y\"],"
    "\"items\":[{\"name\":\"one\",\"sub\":[1,2]},{\"name\":\"<two>\",\"sub\":[]}],"
    "\"o\":{\"name\":\"inner\",\"o\":{\"name\":\"deeper\"}},"
    "\"error\":\"invalid_request\",\"csrf\":\"tok'en\"}";

static json_t *ctx;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out;

	if (ctx == NULL && (ctx = json_loads(context_json, 0, NULL)) == NULL)
		abort();
	/* A small ceiling, so that hitting it is part of what gets fuzzed. */
	buf_init(&out, 64 * 1024);
	/* Every value is escaped, so a '<' in the output can only come from the template. */
	if (tmpl_render((const char *)data, size, ctx, &out) == 0 && memchr(data, '<', size) == NULL)
		FUZZ_ASSERT(out.data == NULL || memchr(out.data, '<', out.len) == NULL);
	buf_free(&out);
	return 0;
}
