/* Fuzz target: form bodies and query strings (form_parse, form_decode, buf_put_urlencoded). */
#include "config.h"

#include "http/form.h"
#include "util/buf.h"

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct form f, again;
	struct buf b;
	char *one = NULL;
	size_t i;

	memset(&again, 0, sizeof(again));
	/* Encoding at most triples each decoded byte, and each pair adds '=' and '&'. */
	buf_init(&b, 3 * size + 2 * FORM_MAX_PARAMS + 1);
	if (form_parse((const char *)data, size, &f) == FORM_OK) {
		/* Re-encoding what was decoded must parse to the same pairs. */
		for (i = 0; i < f.n; i++) {
			int dup = 0;

			FUZZ_ASSERT(form_count(&f, f.v[i].name) >= 1);
			(void)form_get(&f, f.v[i].name, &dup);
			FUZZ_ASSERT(form_get_nth(&f, f.v[i].name, 0) != NULL);
			FUZZ_ASSERT(buf_puts(&b, i > 0 ? "&" : "") == 0);
			FUZZ_ASSERT(buf_put_urlencoded(&b, f.v[i].name) == 0);
			FUZZ_ASSERT(buf_putc(&b, '=') == 0);
			FUZZ_ASSERT(buf_put_urlencoded(&b, f.v[i].value) == 0);
		}
		FUZZ_ASSERT(form_parse(b.data != NULL ? b.data : "", b.len, &again) == FORM_OK);
		FUZZ_ASSERT(again.n == f.n);
		for (i = 0; i < f.n; i++) {
			FUZZ_ASSERT(strcmp(again.v[i].name, f.v[i].name) == 0);
			FUZZ_ASSERT(strcmp(again.v[i].value, f.v[i].value) == 0);
		}
		/* A decoded value is accepted as a query argument too. */
		if (f.n > 0) {
			form_clear(&again);
			FUZZ_ASSERT(form_add(&again, f.v[0].name, f.v[0].value) == FORM_OK);
		}
		form_clear(&f);
	}

	/* One component, as a query argument value. */
	if (form_decode((const char *)data, size, &one) == FORM_OK)
		FUZZ_ASSERT(one != NULL);
	free(one);

	form_clear(&again);
	buf_free(&b);
	return 0;
}
