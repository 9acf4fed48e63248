/* Fuzz target: base64url and base64 decoding, with round-trip properties. */
#include "config.h"

#include "jose/b64url.h"

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	unsigned char *dec = NULL, *std = NULL;
	char *enc = NULL;
	size_t declen = 0, stdlen = 0;

	/* Decoding is canonical (no padding, no stray trailing bits), so anything that
	 * decodes must encode back to exactly the input. */
	dec = b64url_decode_new(text, size, &declen);
	if (dec != NULL) {
		FUZZ_ASSERT(declen <= b64url_decoded_max(size));
		enc = b64url_encode_new(dec, declen);
		FUZZ_ASSERT(enc != NULL && strlen(enc) == size && memcmp(enc, text, size) == 0);
		free(enc);
		enc = NULL;
	}

	/* Any bytes encode, and decode back to themselves. */
	enc = b64url_encode_new(data, size);
	FUZZ_ASSERT(enc != NULL && strlen(enc) == b64url_encoded_len(size));
	free(dec);
	dec = b64url_decode_new(enc, strlen(enc), &declen);
	FUZZ_ASSERT(dec != NULL && declen == size && (size == 0 || memcmp(dec, data, size) == 0));

	/* Standard base64 (master key file): decode into a bounded buffer. */
	std = malloc(size / 4 * 3 + 3);
	FUZZ_ASSERT(std != NULL);
	if (b64std_decode(text, size, std, size / 4 * 3 + 3, &stdlen) == 0)
		FUZZ_ASSERT(stdlen <= size / 4 * 3 + 3);
	/* A too-small output buffer must be refused, never overrun. */
	if (size >= 8)
		(void)b64url_decode(text, size, std, 1, &stdlen);

	free(std);
	free(dec);
	free(enc);
	return 0;
}
