/* Unit tests for base64url and base64 (src/jose/b64url.h) against RFC 4648 vectors. */
#include "config.h"

#include "jose/b64url.h"

#include "tap.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Hex text to bytes; returns the byte count or -1. */
static long
from_hex(const char *hex, unsigned char *out, size_t cap)
{
	size_t n = strlen(hex), i;

	if (n % 2 != 0 || n / 2 > cap)
		return -1;
	for (i = 0; i < n / 2; i++) {
		unsigned int b;

		if (sscanf(hex + 2 * i, "%2x", &b) != 1)
			return -1;
		out[i] = (unsigned char)b;
	}
	return (long)(n / 2);
}

/* Decode a C string with b64url_decode into a generous buffer; -1 on refusal. */
static int
url_decode_str(const char *in, unsigned char *out, size_t cap, size_t *outlen)
{
	return b64url_decode(in, strlen(in), out, cap, outlen);
}

static void
url_refused(const char *in, size_t len, const char *what)
{
	unsigned char out[64];
	size_t outlen = 99;
	unsigned char *p;

	is_int(b64url_decode(in, len, out, sizeof(out), &outlen), -1, "b64url refuses %s", what);
	is_int(outlen, 0, "refusal of %s leaves *outlen 0", what);
	p = b64url_decode_new(in, len, &outlen);
	ok(p == NULL && outlen == 0, "b64url_decode_new refuses %s", what);
	free(p);
}

static void
std_refused(const char *in, const char *what)
{
	unsigned char out[64];
	size_t outlen = 99;

	is_int(b64std_decode(in, strlen(in), out, sizeof(out), &outlen), -1,
	    "b64std refuses %s", what);
}

static void
std_decodes(const char *in, const void *want, size_t wantlen, const char *what)
{
	unsigned char out[64];
	size_t outlen = 99;
	int rc = b64std_decode(in, strlen(in), out, sizeof(out), &outlen);

	ok(rc == 0 && outlen == wantlen && memcmp(out, want, wantlen) == 0, "b64std decodes %s",
	    what);
}

/* One vector: encode, decode (exact and tight capacities), and the standard alphabet. */
static void
check_vector(const unsigned char *raw, size_t n, const char *enc, const char *padded)
{
	unsigned char out[256];
	char buf[512], *s;
	size_t outlen = 99, elen = strlen(enc);
	unsigned char *d;

	is_int(b64url_encoded_len(n), elen, "encoded_len(%zu) for '%s'", n, enc);
	s = b64url_encode_new(raw, n);
	is_str(s, enc, "b64url_encode_new gives '%s'", enc);
	free(s);
	memset(buf, '#', sizeof(buf));
	is_int(b64url_encode(raw, n, buf), elen, "b64url_encode length for '%s'", enc);
	ok(buf[elen] == '\0' && buf[elen + 1] == '#', "b64url_encode terminates and stops at %zu",
	    elen);
	is_str(buf, enc, "b64url_encode gives '%s'", enc);

	is_int(b64url_decode(enc, elen, out, n, &outlen), 0, "decode '%s' with exact capacity",
	    enc);
	ok(outlen == n && memcmp(out, raw, n) == 0, "decode '%s' gives the raw bytes", enc);
	if (n > 0)
		is_int(b64url_decode(enc, elen, out, n - 1, &outlen), -1,
		    "decode '%s' with one byte too few refused", enc);
	ok(b64url_decoded_max(elen) >= n, "decoded_max(%zu) covers %zu bytes", elen, n);
	d = b64url_decode_new(enc, elen, &outlen);
	ok(d != NULL && outlen == n && memcmp(d, raw, n) == 0 && d[n] == '\0',
	    "b64url_decode_new '%s' is exact and NUL-terminated", enc);
	free(d);

	if (padded != NULL) {
		s = b64std_encode_new(raw, n);
		is_str(s, padded, "b64std_encode_new gives '%s'", padded);
		free(s);
		std_decodes(padded, raw, n, padded);
	}
}

static void
test_vectors(void)
{
	json_error_t jerr;
	json_t *root, *v;
	size_t len, i;
	char *text = tap_read_data("rfc4648_base64url.json", &len);

	root = json_loadb(text, len, 0, &jerr);
	free(text);
	if (!json_is_array(root)) {
		printf("Bail out! rfc4648_base64url.json: %s\n", jerr.text);
		exit(1);
	}
	ok(json_array_size(root) >= 15, "vectors loaded (%zu)", json_array_size(root));
	json_array_foreach(root, i, v) {
		const char *enc = json_string_value(json_object_get(v, "b64url_nopad"));
		const char *raw = json_string_value(json_object_get(v, "raw"));
		const char *hex = json_string_value(json_object_get(v, "raw_hex"));
		const char *padded = json_string_value(json_object_get(v, "base64_padded"));
		unsigned char bytes[128];
		char std[256];
		size_t n, j;
		long hn;

		if (enc == NULL || (raw == NULL && hex == NULL)) {
			ok(0, "vector %zu is well formed", i);
			continue;
		}
		if (raw != NULL) {
			n = strlen(raw);
			memcpy(bytes, raw, n);
		} else if ((hn = from_hex(hex, bytes, sizeof(bytes))) < 0) {
			ok(0, "vector %zu has good hex", i);
			continue;
		} else {
			n = (size_t)hn;
		}
		check_vector(bytes, n, enc, padded);

		/* The same bytes in the standard alphabet: b64std takes them, with or without
		 * padding; b64url refuses '+' and '/'. */
		for (j = 0; enc[j] != '\0'; j++)
			std[j] = enc[j] == '-' ? '+' : enc[j] == '_' ? '/' : enc[j];
		std[j] = '\0';
		std_decodes(std, bytes, n, "the unpadded standard form");
		while (j % 4 != 0)
			std[j++] = '=';
		std[j] = '\0';
		std_decodes(std, bytes, n, "the padded standard form");
		if (strpbrk(std, "+/") != NULL)
			url_refused(std, strlen(std), "the standard alphabet");
	}
	json_decref(root);
}

static void
test_refusals(void)
{
	unsigned char out[64];
	size_t outlen, i;
	int all_ok;

	url_refused("Zg==", 4, "'==' padding");
	url_refused("Zm8=", 4, "'=' padding");
	url_refused("Zg=", 3, "a single '=' after two characters");
	url_refused("Zm9v=", 5, "'=' after a full quantum");
	url_refused("====", 4, "padding only");
	url_refused("Zm9+", 4, "'+' (standard alphabet)");
	url_refused("Zm9/", 4, "'/' (standard alphabet)");
	url_refused("Zm 9v", 5, "a space");
	url_refused("Zm9v\n", 5, "a trailing newline");
	url_refused("Zm.v", 4, "a dot");
	url_refused("Zm9\x80", 4, "a non-ASCII byte");
	url_refused("Zm9\xff", 4, "byte FF");
	url_refused("Z", 1, "length 1");
	url_refused("Zm9vY", 5, "length 5");
	url_refused("Zm9vYmFyZ", 9, "length 9");
	url_refused("Zh", 2, "non-canonical 'Zh' for 'f'");
	url_refused("Zm9", 3, "non-canonical 'Zm9' for 'fo'");
	url_refused("Zm9vYh", 6, "non-canonical last quantum after a full one");
	url_refused("_x", 2, "non-canonical '_x'");
	url_refused("-_9", 3, "non-canonical '-_9'");
	url_refused("Zm\0v", 4, "NUL inside a quantum");
	url_refused("Zm9v\0\0", 6, "NULs in the tail");
	url_refused("Zg\0", 3, "NUL as the last character");

	/* Every byte in every position of a quantum: accepted exactly when in the alphabet. */
	all_ok = 1;
	for (i = 0; i < 256 * 4; i++) {
		char q[4] = {'A', 'A', 'A', 'A'};
		int c = (int)(i % 256);
		int want = c != 0 && memchr(url_alphabet, c, 64) != NULL ? 0 : -1;

		q[i / 256] = (char)c;
		if (b64url_decode(q, 4, out, sizeof(out), &outlen) != want) {
			all_ok = 0;
			tap_diag("byte 0x%02x at %zu: wrong answer", c, i / 256);
		}
	}
	ok(all_ok, "every byte in every quantum position judged by the alphabet");

	/* Only canonical second characters after a one-byte tail (low four bits zero). */
	all_ok = 1;
	for (i = 0; i < 64; i++) {
		char two[2] = {'Z', url_alphabet[i]};
		int want = (i & 0x0f) == 0 ? 0 : -1;

		if (b64url_decode(two, 2, out, sizeof(out), &outlen) != want)
			all_ok = 0;
	}
	ok(all_ok, "a two-character tail is accepted only with canonical trailing bits");
	all_ok = 1;
	for (i = 0; i < 64; i++) {
		char three[3] = {'Z', 'm', url_alphabet[i]};
		int want = (i & 0x03) == 0 ? 0 : -1;

		if (b64url_decode(three, 3, out, sizeof(out), &outlen) != want)
			all_ok = 0;
	}
	ok(all_ok, "a three-character tail is accepted only with canonical trailing bits");

	/* Capacity is checked before writing. */
	is_int(url_decode_str("Zm9vYmFy", out, 5, &outlen), -1, "capacity one short refused");
	is_int(url_decode_str("Zm9vYmFy", out, 6, &outlen), 0, "exact capacity accepted");
	is_int(url_decode_str("", out, 0, &outlen), 0, "empty input, zero capacity");
	is_int(outlen, 0, "empty input decodes to nothing");
	is_int(b64url_decode("Zg", 2, NULL, 0, &outlen), -1, "no room at all refused");
}

static void
test_std(void)
{
	static const unsigned char fbff[] = {0xfb, 0xff};

	std_decodes("Zg==", "f", 1, "'Zg=='");
	std_decodes("Zg", "f", 1, "unpadded 'Zg'");
	std_decodes("Zm8=", "fo", 2, "'Zm8='");
	std_decodes("Zm8", "fo", 2, "unpadded 'Zm8'");
	std_decodes("Zm9v", "foo", 3, "'Zm9v'");
	std_decodes("Zm9vYmFy", "foobar", 6, "'Zm9vYmFy'");
	std_decodes("+/8=", fbff, 2, "'+/8='");
	std_decodes("", "", 0, "empty");

	std_refused("Zg=", "incomplete padding");
	std_refused("Zm9v=", "padding after a full quantum");
	std_refused("Zm9v==", "two '=' after a full quantum");
	std_refused("Zm8==", "too much padding for three characters");
	std_refused("Zg===", "three '='");
	std_refused("=", "a lone '='");
	std_refused("==", "a lone '=='");
	std_refused("====", "padding only");
	std_refused("Z===", "one character and padding");
	std_refused("Zg==Zg==", "padding in the middle");
	std_refused("Z", "length 1");
	std_refused("Zh==", "non-canonical trailing bits");
	std_refused("Zm9=", "non-canonical trailing bits, one '='");
	std_refused("-_8=", "the url alphabet");
	std_refused("Zm9v Zg==", "a space");
	std_refused("Zm9v\nZg==", "a newline");
	{
		unsigned char out[8];
		size_t outlen;

		is_int(b64std_decode("Zg\0=", 4, out, sizeof(out), &outlen), -1,
		    "b64std refuses NUL");
		is_int(b64std_decode("Zm9vYmFy", 8, out, 5, &outlen), -1,
		    "b64std checks the capacity");
	}
}

static void
test_roundtrip(void)
{
	unsigned char raw[300], out[300];
	size_t n, outlen, i;
	int all_ok = 1;
	uint32_t x = 12345;

	for (i = 0; i < sizeof(raw); i++) {
		x = x * 1103515245u + 12345u; /* fixed LCG: reproducible bytes */
		raw[i] = (unsigned char)(x >> 16);
	}
	for (i = 0; i < 256; i++)
		raw[i] = (unsigned char)i;
	for (n = 0; n <= sizeof(raw); n++) {
		char *enc = b64url_encode_new(raw, n), *std = b64std_encode_new(raw, n);

		if (enc == NULL || std == NULL || strlen(enc) != b64url_encoded_len(n) ||
		    strpbrk(enc, "+/=") != NULL || strlen(std) % 4 != 0 ||
		    b64url_decode(enc, strlen(enc), out, n, &outlen) != 0 || outlen != n ||
		    memcmp(out, raw, n) != 0 ||
		    b64std_decode(std, strlen(std), out, n, &outlen) != 0 || outlen != n ||
		    memcmp(out, raw, n) != 0) {
			all_ok = 0;
			tap_diag("round trip failed at length %zu", n);
		}
		free(enc);
		free(std);
	}
	ok(all_ok, "every length 0..%zu round-trips through both alphabets", sizeof(raw));
}

int
main(void)
{
	test_vectors();
	test_refusals();
	test_std();
	test_roundtrip();
	return tap_done();
}
