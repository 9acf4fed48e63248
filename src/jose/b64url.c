/* base64url and base64, strict decoders over (pointer, length). */
#include "config.h"

#include "jose/b64url.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char std_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
b64url_encoded_len(size_t n)
{
	return (n / 3) * 4 + ((n % 3) ? (n % 3) + 1 : 0);
}

static size_t
encode_with(const char *alphabet, int pad, const unsigned char *p, size_t n, char *out)
{
	size_t i, o = 0;

	for (i = 0; i + 3 <= n; i += 3) {
		uint32_t v = ((uint32_t)p[i] << 16) | ((uint32_t)p[i + 1] << 8) | p[i + 2];

		out[o++] = alphabet[(v >> 18) & 63];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
		out[o++] = alphabet[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;

		out[o++] = alphabet[(v >> 18) & 63];
		out[o++] = alphabet[(v >> 12) & 63];
		if (pad) {
			out[o++] = '=';
			out[o++] = '=';
		}
	} else if (n - i == 2) {
		uint32_t v = ((uint32_t)p[i] << 16) | ((uint32_t)p[i + 1] << 8);

		out[o++] = alphabet[(v >> 18) & 63];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

size_t
b64url_encode(const void *in, size_t n, char *out)
{
	return encode_with(url_alphabet, 0, in, n, out);
}

char *
b64url_encode_new(const void *in, size_t n)
{
	char *out = malloc(b64url_encoded_len(n) + 1);

	if (out != NULL)
		b64url_encode(in, n, out);
	return out;
}

char *
b64std_encode_new(const void *in, size_t n)
{
	char *out = malloc(((n + 2) / 3) * 4 + 1);

	if (out != NULL)
		encode_with(std_alphabet, 1, in, n, out);
	return out;
}

size_t
b64url_decoded_max(size_t len)
{
	return (len / 4) * 3 + 3;
}

static int
sextet(const char *alphabet, char c)
{
	const char *p;

	if (c == '\0')
		return -1;
	p = memchr(alphabet, c, 64);
	return p ? (int)(p - alphabet) : -1;
}

/* Decode unpadded input of len characters; shared by both alphabets. */
static int
decode_with(const char *alphabet, const char *in, size_t len, unsigned char *out, size_t outcap,
    size_t *outlen)
{
	size_t i, o = 0, rem = len % 4, need;
	uint32_t v;
	int a, b, c, d;

	*outlen = 0;
	if (rem == 1)
		return -1;
	need = (len / 4) * 3 + (rem ? rem - 1 : 0);
	if (need > outcap)
		return -1;
	for (i = 0; i + 4 <= len; i += 4) {
		a = sextet(alphabet, in[i]);
		b = sextet(alphabet, in[i + 1]);
		c = sextet(alphabet, in[i + 2]);
		d = sextet(alphabet, in[i + 3]);
		if ((a | b | c | d) < 0)
			return -1;
		v = ((uint32_t)a << 18) | ((uint32_t)b << 12) | ((uint32_t)c << 6) | (uint32_t)d;
		out[o++] = (unsigned char)(v >> 16);
		out[o++] = (unsigned char)(v >> 8);
		out[o++] = (unsigned char)v;
	}
	if (rem == 2) {
		a = sextet(alphabet, in[i]);
		b = sextet(alphabet, in[i + 1]);
		if ((a | b) < 0 || (b & 0x0f) != 0)
			return -1;
		out[o++] = (unsigned char)((a << 2) | (b >> 4));
	} else if (rem == 3) {
		a = sextet(alphabet, in[i]);
		b = sextet(alphabet, in[i + 1]);
		c = sextet(alphabet, in[i + 2]);
		if ((a | b | c) < 0 || (c & 0x03) != 0)
			return -1;
		out[o++] = (unsigned char)((a << 2) | (b >> 4));
		out[o++] = (unsigned char)(((b & 0x0f) << 4) | (c >> 2));
	}
	*outlen = o;
	return 0;
}

int
b64url_decode(const char *in, size_t len, unsigned char *out, size_t outcap, size_t *outlen)
{
	return decode_with(url_alphabet, in, len, out, outcap, outlen);
}

unsigned char *
b64url_decode_new(const char *in, size_t len, size_t *outlen)
{
	size_t cap = b64url_decoded_max(len);
	unsigned char *out = malloc(cap + 1);

	*outlen = 0;
	if (out == NULL)
		return NULL;
	if (b64url_decode(in, len, out, cap, outlen) != 0) {
		free(out);
		return NULL;
	}
	out[*outlen] = '\0';
	return out;
}

int
b64std_decode(const char *in, size_t len, unsigned char *out, size_t outcap, size_t *outlen)
{
	/* Padding is optional; when present it must complete the last quantum. */
	size_t pad = 0;

	while (len > 0 && in[len - 1] == '=' && pad < 2) {
		len--;
		pad++;
	}
	if (pad > 0 && (len + pad) % 4 != 0)
		return -1;
	return decode_with(std_alphabet, in, len, out, outcap, outlen);
}
