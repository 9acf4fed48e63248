/* Unit tests for PKCE S256 (src/oauth/pkce.h): RFC 7636 Appendix B, verifier and challenge. */
#include "config.h"

#include "oauth/pkce.h"

#include "tap.h"

#include <stdio.h>
#include <string.h>

#include <openssl/sha.h>

#include "jose/b64url.h"

/* RFC 7636 Appendix B. */
#define RFC_VERIFIER "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define RFC_CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

/* s with the character at i replaced by c, in out (at least strlen(s) + 1 bytes). */
static const char *
with_char(char *out, size_t cap, const char *s, size_t i, char c)
{
	snprintf(out, cap, "%s", s);
	out[i] = c;
	return out;
}

/* n copies of c. */
static const char *
repeat(char *out, size_t n, char c)
{
	memset(out, c, n);
	out[n] = '\0';
	return out;
}

/* Our own S256 of v, computed without the module. */
static void
s256(const char *v, char *out)
{
	unsigned char d[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)v, strlen(v), d);
	b64url_encode(d, sizeof(d), out);
}

static void
test_rfc_vector(void)
{
	char buf[256];
	size_t i, n = strlen(RFC_VERIFIER);
	int any_match = 0;

	is_int(strlen(RFC_VERIFIER), 43, "RFC verifier is 43 characters");
	is_int(pkce_verifier_valid(RFC_VERIFIER), 1, "RFC verifier valid");
	is_int(pkce_challenge_valid(RFC_CHALLENGE), 1, "RFC challenge valid");
	is_int(pkce_s256_matches(RFC_VERIFIER, RFC_CHALLENGE), 1, "RFC 7636 Appendix B matches");

	is_int(pkce_s256_matches(with_char(buf, sizeof(buf), RFC_VERIFIER, 0, 'e'),
		   RFC_CHALLENGE),
	    0, "first verifier character changed");
	is_int(pkce_s256_matches(with_char(buf, sizeof(buf), RFC_VERIFIER, n - 1, 'j'),
		   RFC_CHALLENGE),
	    0, "last verifier character changed");
	is_int(pkce_s256_matches(RFC_VERIFIER, with_char(buf, sizeof(buf), RFC_CHALLENGE, 0, 'F')),
	    0, "first challenge character changed");
	is_int(pkce_s256_matches(RFC_VERIFIER, with_char(buf, sizeof(buf), RFC_CHALLENGE, 21, 'A')),
	    0, "middle challenge character changed");
	is_int(pkce_s256_matches(RFC_VERIFIER, with_char(buf, sizeof(buf), RFC_CHALLENGE, 42, 'Q')),
	    0, "last challenge character changed (still canonical)");
	/* Every single-character change of the verifier, to another allowed character. */
	for (i = 0; i < n; i++) {
		char c = RFC_VERIFIER[i] == 'A' ? 'B' : 'A';

		any_match |= pkce_s256_matches(with_char(buf, sizeof(buf), RFC_VERIFIER, i, c),
		    RFC_CHALLENGE);
	}
	is_int(any_match, 0, "no one-character change of the verifier matches");
	is_int(pkce_s256_matches(RFC_CHALLENGE, RFC_VERIFIER), 0, "arguments swapped");
	is_int(pkce_s256_matches(RFC_VERIFIER, RFC_VERIFIER), 0, "challenge = verifier (plain)");
	is_int(pkce_s256_matches(NULL, RFC_CHALLENGE), 0, "NULL verifier");
	is_int(pkce_s256_matches(RFC_VERIFIER, NULL), 0, "NULL challenge");
	is_int(pkce_s256_matches(NULL, NULL), 0, "both NULL");
	is_int(pkce_s256_matches("", ""), 0, "both empty");
	snprintf(buf, sizeof(buf), "%s=", RFC_CHALLENGE);
	is_int(pkce_s256_matches(RFC_VERIFIER, buf), 0, "padded challenge does not match");
	snprintf(buf, sizeof(buf), "%s ", RFC_CHALLENGE);
	is_int(pkce_s256_matches(RFC_VERIFIER, buf), 0, "challenge with a trailing space");
	snprintf(buf, sizeof(buf), "%sx", RFC_VERIFIER);
	is_int(pkce_s256_matches(buf, RFC_CHALLENGE), 0, "verifier with an extra character");
}

static void
test_verifier(void)
{
	char v[256], c[64];
	static const char *const bad_chars = "+/= %\"'<>!@#$&*()[]{}:;,?\\|^`\t\n";
	const char *p;
	int all_refused = 1;

	is_int(pkce_verifier_valid(repeat(v, 42, 'a')), 0, "42 characters: too short");
	is_int(pkce_verifier_valid(repeat(v, 43, 'a')), 1, "43 characters: shortest");
	is_int(pkce_verifier_valid(repeat(v, 128, 'a')), 1, "128 characters: longest");
	is_int(pkce_verifier_valid(repeat(v, 129, 'a')), 0, "129 characters: too long");
	is_int(pkce_verifier_valid(""), 0, "empty");
	is_int(pkce_verifier_valid(NULL), 0, "NULL");
	snprintf(v, sizeof(v), "%s",
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~");
	is_int(pkce_verifier_valid(v), 1, "every unreserved character");
	for (p = bad_chars; *p != '\0'; p++) {
		repeat(v, 50, 'a');
		v[20] = *p;
		if (pkce_verifier_valid(v) != 0) {
			all_refused = 0;
			tap_diag("  accepted 0x%02x", (unsigned char)*p);
		}
	}
	ok(all_refused, "reserved, space and control characters refused");
	repeat(v, 50, 'a');
	v[10] = '\xc3';
	v[11] = '\xa9';
	is_int(pkce_verifier_valid(v), 0, "non-ASCII (UTF-8 e acute) refused");
	repeat(v, 50, 'a');
	v[49] = '\x7f';
	is_int(pkce_verifier_valid(v), 0, "DEL refused");
	repeat(v, 50, 'a');
	v[0] = '\xff';
	is_int(pkce_verifier_valid(v), 0, "0xff refused");

	/* The bounds apply to matching too, with challenges computed here. */
	s256(repeat(v, 128, '~'), c);
	is_int(pkce_s256_matches(v, c), 1, "128-character verifier matches its own S256");
	s256(repeat(v, 129, '~'), c);
	is_int(pkce_s256_matches(v, c), 0, "129-character verifier refused despite a right S256");
	s256(repeat(v, 42, 'a'), c);
	is_int(pkce_s256_matches(v, c), 0, "42-character verifier refused despite a right S256");
	snprintf(v, sizeof(v), "%s", "0123456789-._~ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq");
	s256(v, c);
	is_int(pkce_s256_matches(v, c), 1, "unreserved characters verifier matches its own S256");
	repeat(v, 50, 'a');
	v[5] = '+';
	s256(v, c);
	is_int(pkce_s256_matches(v, c), 0, "verifier with '+' refused despite a right S256");
}

static void
test_challenge(void)
{
	char ch[128];

	is_int(pkce_challenge_valid(repeat(ch, 43, 'A')), 1, "43 x 'A' (all-zero digest) valid");
	is_int(pkce_challenge_valid(repeat(ch, 42, 'A')), 0, "42 characters");
	is_int(pkce_challenge_valid(repeat(ch, 44, 'A')), 0, "44 characters");
	is_int(pkce_challenge_valid(repeat(ch, 86, 'A')), 0, "86 characters (SHA-512 size)");
	is_int(pkce_challenge_valid(""), 0, "empty");
	is_int(pkce_challenge_valid(NULL), 0, "NULL");
	snprintf(ch, sizeof(ch), "%s=", RFC_CHALLENGE);
	is_int(pkce_challenge_valid(ch), 0, "with '=' padding (44 characters)");
	is_int(pkce_challenge_valid(with_char(ch, sizeof(ch), RFC_CHALLENGE, 42, '=')), 0,
	    "'=' in the last place (43 characters)");
	is_int(pkce_challenge_valid(with_char(ch, sizeof(ch), RFC_CHALLENGE, 10, '+')), 0,
	    "'+' (standard base64)");
	is_int(pkce_challenge_valid(with_char(ch, sizeof(ch), RFC_CHALLENGE, 10, '/')), 0,
	    "'/' (standard base64)");
	is_int(pkce_challenge_valid(with_char(ch, sizeof(ch), RFC_CHALLENGE, 10, '.')), 0, "'.'");
	is_int(pkce_challenge_valid(with_char(ch, sizeof(ch), RFC_CHALLENGE, 10, '~')), 0, "'~'");
	is_int(pkce_challenge_valid(with_char(ch, sizeof(ch), RFC_CHALLENGE, 10, ' ')), 0, "space");
	/* The last of 43 characters carries 4 data bits and 2 zero bits: 'M' (12) is canonical,
	 * 'N' (13), 'O' (14) and 'P' (15) decode to the same digest with stray bits set. */
	is_int(pkce_challenge_valid(with_char(ch, sizeof(ch), RFC_CHALLENGE, 42, 'N')), 0,
	    "non-canonical last character 'N'");
	is_int(pkce_challenge_valid(with_char(ch, sizeof(ch), RFC_CHALLENGE, 42, 'P')), 0,
	    "non-canonical last character 'P'");
	is_int(pkce_s256_matches(RFC_VERIFIER, with_char(ch, sizeof(ch), RFC_CHALLENGE, 42, 'N')),
	    0, "non-canonical twin of the RFC challenge does not match");
	is_int(pkce_challenge_valid(with_char(ch, sizeof(ch), RFC_CHALLENGE, 42, 'Q')), 1,
	    "canonical last character 'Q'");
	is_int(pkce_challenge_valid(repeat(ch, 43, '_')), 0, "43 x '_' (stray bits)");
	repeat(ch, 43, '_');
	ch[42] = '8';
	is_int(pkce_challenge_valid(ch), 1, "42 x '_' + '8' (all-ones digest) valid");
}

int
main(void)
{
	test_rfc_vector();
	test_verifier();
	test_challenge();
	return tap_done();
}
