/* Unit tests for the urlencoded form decoder (src/http/form.h). */
#include "config.h"

#include "http/form.h"

#include "tap.h"

#include <stdlib.h>
#include <string.h>

/* Parse a C string and return the result code; the form is left for inspection. */
static int
parse_str(const char *s, struct form *f)
{
	return form_parse(s, strlen(s), f);
}

/* Parse "name=<value>" and check that it is refused with want and leaves no pairs. */
static void
refused(const char *data, size_t len, int want, const char *what)
{
	struct form f;
	int rc;

	memset(&f, 0xa5, sizeof(f)); /* garbage in *out must not matter */
	rc = form_parse(data, len, &f);
	is_int(rc, want, "refused: %s", what);
	is_int(f.n, 0, "refused: %s leaves an empty form", what);
	form_clear(&f);
}

/* Parse "v=<encoded>" and expect the decoded value. */
static void
decodes(const char *encoded, const char *want, const char *what)
{
	struct form f;
	char data[256];
	int rc;

	snprintf(data, sizeof(data), "v=%s", encoded);
	rc = parse_str(data, &f);
	is_int(rc, FORM_OK, "accepted: %s", what);
	is_str(form_get(&f, "v", NULL), want, "decoded: %s", what);
	form_clear(&f);
}

/* Build a string of n copies of unit (which has ulen bytes) after a prefix; caller frees. */
static char *
repeat(const char *prefix, const char *unit, size_t n)
{
	size_t plen = strlen(prefix), ulen = strlen(unit), i;
	char *s = malloc(plen + ulen * n + 1);

	if (s == NULL) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	memcpy(s, prefix, plen);
	for (i = 0; i < n; i++)
		memcpy(s + plen + i * ulen, unit, ulen);
	s[plen + ulen * n] = '\0';
	return s;
}

static void
test_happy(void)
{
	struct form f;
	int dup = -1;

	is_int(parse_str("a=b&c=d", &f), FORM_OK, "two pairs parse");
	is_int(f.n, 2, "two pairs counted");
	is_str(form_get(&f, "a", &dup), "b", "a=b");
	is_int(dup, 0, "dup cleared for a single occurrence");
	is_str(form_get(&f, "c", NULL), "d", "c=d (dup pointer may be NULL)");
	is_str(form_get(&f, "e", &dup), NULL, "absent name gives NULL");
	is_int(dup, 0, "absent name is not a duplicate");
	is_str(form_get(&f, "A", NULL), NULL, "names are case-sensitive");
	form_clear(&f);

	is_int(parse_str("", &f), FORM_OK, "empty input parses");
	is_int(f.n, 0, "empty input has no pairs");
	form_clear(&f);

	is_int(form_parse(NULL, 0, &f), FORM_OK, "NULL with length 0 parses");
	is_int(f.n, 0, "NULL with length 0 has no pairs");
	form_clear(&f);

	is_int(parse_str("&&a=1&&&b=2&", &f), FORM_OK, "empty pairs are skipped");
	is_int(f.n, 2, "only the two real pairs are kept");
	is_str(form_get_nth(&f, "b", 0), "2", "pair after empty ones decoded");
	form_clear(&f);

	is_int(parse_str("&", &f), FORM_OK, "a lone '&' parses");
	is_int(f.n, 0, "a lone '&' has no pairs");
	form_clear(&f);

	is_int(parse_str("flag&x=", &f), FORM_OK, "names without '=' or value parse");
	is_str(form_get(&f, "flag", NULL), "", "name without '=' has an empty value");
	is_str(form_get(&f, "x", NULL), "", "name with '=' and nothing after is empty");
	form_clear(&f);

	is_int(parse_str("a=b=c", &f), FORM_OK, "second '=' belongs to the value");
	is_str(form_get(&f, "a", NULL), "b=c", "value keeps the second '='");
	form_clear(&f);

	/* The length bounds the input: what follows is not looked at. */
	is_int(form_parse("a=b&c=d", 3, &f), FORM_OK, "length-bounded input parses");
	is_int(f.n, 1, "only the bytes within len are parsed");
	is_str(form_get(&f, "a", NULL), "b", "bounded pair decoded");
	is_str(form_get(&f, "c", NULL), NULL, "bytes past len ignored");
	form_clear(&f);
	is_int(form_parse("a=%41%", 5, &f), FORM_OK, "escape ending exactly at len");
	is_str(form_get(&f, "a", NULL), "A", "escape at the very end decoded");
	form_clear(&f);

	is_int(parse_str("na%6De=v%61l+ue", &f), FORM_OK, "names are percent-decoded too");
	is_str(form_get(&f, "name", NULL), "val ue", "decoded name finds decoded value");
	form_clear(&f);
}

static void
test_decoding(void)
{
	decodes("a+b", "a b", "'+' is a space");
	decodes("a%20b", "a b", "%20 is a space");
	decodes("%2B", "+", "%2B is a plus");
	decodes("%2b", "+", "lower-case hex digits");
	decodes("%26x%3Dy", "&x=y", "escaped '&' and '=' do not split");
	decodes("%25", "%", "escaped percent");
	decodes("%09", "\t", "tab is allowed");
	decodes("a\tb", "a\tb", "raw tab is allowed");
	decodes("%7E", "~", "highest printable ASCII below DEL");
	decodes("%20", " ", "lowest printable ASCII");
	decodes("%C3%A9", "\xc3\xa9", "two-byte UTF-8 (U+00E9)");
	decodes("\xc3\xa9", "\xc3\xa9", "raw two-byte UTF-8");
	decodes("%C2%A0", "\xc2\xa0", "U+00A0, lowest non-C1 two-byte");
	decodes("%DF%BF", "\xdf\xbf", "U+07FF, highest two-byte");
	decodes("%E0%A0%80", "\xe0\xa0\x80", "U+0800, lowest three-byte");
	decodes("%E2%82%AC", "\xe2\x82\xac", "three-byte UTF-8 (euro sign)");
	decodes("%ED%9F%BF", "\xed\x9f\xbf", "U+D7FF, just below the surrogates");
	decodes("%EE%80%80", "\xee\x80\x80", "U+E000, just above the surrogates");
	decodes("%EF%BF%BF", "\xef\xbf\xbf", "U+FFFF, highest three-byte");
	decodes("%F0%90%80%80", "\xf0\x90\x80\x80", "U+10000, lowest four-byte");
	decodes("%F0%9F%98%80", "\xf0\x9f\x98\x80", "four-byte UTF-8 (emoji)");
	decodes("%F4%8F%BF%BF", "\xf4\x8f\xbf\xbf", "U+10FFFF, highest code point");
}

static void
test_refusals(void)
{
	static const struct {
		const char *data;
		const char *what;
	} bad[] = {
		{"v=%", "lone '%' at the end"},
		{"v=%4", "'%' with one hex digit at the end"},
		{"v=%4&w=1", "'%' with one hex digit before '&'"},
		{"v=%4g", "non-hex second digit"},
		{"v=%g4", "non-hex first digit"},
		{"v=%%41", "'%' followed by '%'"},
		{"v=% 1", "'%' followed by a space"},
		{"v%=1", "bad escape in the name"},
		{"v=%00", "%00"},
		{"%00=v", "%00 in the name"},
		{"v=a%00b", "%00 in the middle"},
		{"v=%01", "C0 control %01"},
		{"v=%0A", "newline %0A"},
		{"v=%0D", "carriage return %0D"},
		{"v=%1F", "C0 control %1F"},
		{"v=%1B", "escape %1B"},
		{"v=%7F", "DEL %7F"},
		{"v=a\nb", "raw newline"},
		{"v=a\x7f" "b", "raw DEL"},
		{"v=a\x01", "raw control byte"},
		{"v=%80", "lone continuation byte"},
		{"v=%BF", "lone continuation byte %BF"},
		{"v=%C0%80", "overlong NUL %C0%80"},
		{"v=%C0%AF", "overlong '/' %C0%AF"},
		{"v=%C1%BF", "overlong two-byte %C1%BF"},
		{"v=%E0%80%80", "overlong three-byte NUL"},
		{"v=%E0%9F%BF", "overlong three-byte U+07FF"},
		{"v=%F0%80%80%80", "overlong four-byte NUL"},
		{"v=%F0%8F%BF%BF", "overlong four-byte U+FFFF"},
		{"v=%ED%A0%80", "high surrogate U+D800"},
		{"v=%ED%AD%BF", "high surrogate U+DB7F"},
		{"v=%ED%B0%80", "low surrogate U+DC00"},
		{"v=%ED%BF%BF", "low surrogate U+DFFF"},
		{"v=%ED%A0%BD%ED%B8%80", "CESU-8 surrogate pair"},
		{"v=%F4%90%80%80", "above U+10FFFF"},
		{"v=%F5%80%80%80", "lead byte F5"},
		{"v=%F8%88%80%80%80", "five-byte sequence"},
		{"v=%FC%84%80%80%80%80", "six-byte sequence"},
		{"v=%FE", "byte FE"},
		{"v=%FF", "byte FF"},
		{"v=%C3", "truncated two-byte at the end"},
		{"v=%C3&w=%A9", "two-byte split across pairs"},
		{"v=%C3%28", "two-byte with a non-continuation byte"},
		{"v=%E2%82", "truncated three-byte"},
		{"v=%E2%28%AC", "three-byte with a bad second byte"},
		{"v=%E2%82%28", "three-byte with a bad third byte"},
		{"v=%F0%9F%98", "truncated four-byte"},
		{"v=%F0%9F%98%28", "four-byte with a bad last byte"},
		{"v=\xc3", "raw truncated two-byte"},
		{"v=\xed\xa0\x80", "raw surrogate"},
		{"a=1&b=2&c=%00", "bad last pair after good ones"},
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused(bad[i].data, strlen(bad[i].data), FORM_BAD_ENCODING, bad[i].what);
	refused("v=a\0b", 5, FORM_BAD_ENCODING, "raw NUL inside the length");
	refused("\0", 1, FORM_BAD_ENCODING, "a lone raw NUL");
}

/* C1 controls (U+0080..U+009F) are control characters too, which the header refuses. */
static void
test_c1_controls(void)
{
	struct form f;
	int rc;

	rc = parse_str("v=%C2%85", &f);
	ok(rc == FORM_BAD_ENCODING, "U+0085 (NEL, a C1 control) refused");
	form_clear(&f);
	rc = parse_str("v=%C2%9B", &f);
	ok(rc == FORM_BAD_ENCODING, "U+009B (CSI, a C1 control) refused");
	form_clear(&f);
}

static void
test_repeats(void)
{
	struct form f;
	int dup = 0;

	is_int(parse_str("scope=a&resource=x&resource=y&resource=z", &f), FORM_OK,
	    "repeated names parse");
	is_int(form_count(&f, "resource"), 3, "form_count of a repeated name");
	is_int(form_count(&f, "scope"), 1, "form_count of a single name");
	is_int(form_count(&f, "nope"), 0, "form_count of an absent name");
	is_int(form_count(&f, "resourc"), 0, "form_count does not match prefixes");
	is_str(form_get(&f, "resource", &dup), NULL, "form_get of a repeated name is NULL");
	is_int(dup, 1, "form_get flags the duplicate");
	is_str(form_get(&f, "resource", NULL), NULL, "form_get of a duplicate without dup pointer");
	dup = 7;
	is_str(form_get(&f, "scope", &dup), "a", "form_get after a duplicate lookup");
	is_int(dup, 0, "form_get resets dup");
	is_str(form_get_nth(&f, "resource", 0), "x", "nth 0");
	is_str(form_get_nth(&f, "resource", 1), "y", "nth 1");
	is_str(form_get_nth(&f, "resource", 2), "z", "nth 2");
	is_str(form_get_nth(&f, "resource", 3), NULL, "nth past the end");
	is_str(form_get_nth(&f, "resource", (size_t)-1), NULL, "nth SIZE_MAX");
	is_str(form_get_nth(&f, "nope", 0), NULL, "nth of an absent name");
	is_str(form_get_nth(&f, "scope", 0), "a", "nth 0 of a single name");
	form_clear(&f);

	/* Duplicates that differ only in encoding are still duplicates. */
	is_int(parse_str("a=1&%61=2", &f), FORM_OK, "encoded duplicate parses");
	is_str(form_get(&f, "a", &dup), NULL, "encoded duplicate is a duplicate");
	is_int(dup, 1, "encoded duplicate flagged");
	form_clear(&f);
}

static void
test_limits(void)
{
	struct form f;
	char *s, *t;
	size_t i;

	/* FORM_MAX_PARAMS pairs are fine, one more is not. */
	s = repeat("", "p=1&", FORM_MAX_PARAMS);
	is_int(parse_str(s, &f), FORM_OK, "FORM_MAX_PARAMS pairs accepted");
	is_int(f.n, FORM_MAX_PARAMS, "all FORM_MAX_PARAMS pairs kept");
	is_int(form_count(&f, "p"), FORM_MAX_PARAMS, "form_count sees them all");
	is_str(form_get_nth(&f, "p", FORM_MAX_PARAMS - 1), "1", "last pair reachable");
	form_clear(&f);
	free(s);

	s = repeat("", "p=1&&", FORM_MAX_PARAMS);
	is_int(parse_str(s, &f), FORM_OK, "empty pairs do not count towards the limit");
	form_clear(&f);
	free(s);

	s = repeat("", "p=1&", FORM_MAX_PARAMS + 1);
	refused(s, strlen(s), FORM_TOO_MANY, "FORM_MAX_PARAMS + 1 pairs");
	free(s);
	s = repeat("", "p&", FORM_MAX_PARAMS + 1);
	refused(s, strlen(s), FORM_TOO_MANY, "FORM_MAX_PARAMS + 1 bare names");
	free(s);

	/* FORM_MAX_VALUE bytes, decoded, for a value and a name. */
	s = repeat("v=", "a", FORM_MAX_VALUE);
	is_int(parse_str(s, &f), FORM_OK, "value of FORM_MAX_VALUE bytes accepted");
	ok(f.n == 1 && strlen(f.v[0].value) == FORM_MAX_VALUE, "full value kept");
	form_clear(&f);
	free(s);
	s = repeat("v=", "a", FORM_MAX_VALUE + 1);
	refused(s, strlen(s), FORM_TOO_LONG, "value of FORM_MAX_VALUE + 1 bytes");
	free(s);

	s = repeat("", "n", FORM_MAX_VALUE);
	is_int(parse_str(s, &f), FORM_OK, "name of FORM_MAX_VALUE bytes accepted");
	form_clear(&f);
	free(s);
	s = repeat("", "n", FORM_MAX_VALUE + 1);
	refused(s, strlen(s), FORM_TOO_LONG, "name of FORM_MAX_VALUE + 1 bytes");
	free(s);

	/* The limit is on the decoded length: three input bytes per escape. */
	s = repeat("v=", "%41", FORM_MAX_VALUE);
	is_int(parse_str(s, &f), FORM_OK, "FORM_MAX_VALUE escapes accepted");
	ok(f.n == 1 && strlen(f.v[0].value) == FORM_MAX_VALUE, "decoded to FORM_MAX_VALUE bytes");
	form_clear(&f);
	free(s);
	s = repeat("v=", "%41", FORM_MAX_VALUE + 1);
	refused(s, strlen(s), FORM_TOO_LONG, "FORM_MAX_VALUE + 1 escapes");
	free(s);
	s = repeat("v=", "+", FORM_MAX_VALUE + 1);
	refused(s, strlen(s), FORM_TOO_LONG, "FORM_MAX_VALUE + 1 plus signs");
	free(s);

	/* A long value after FORM_MAX_PARAMS - 1 good pairs: everything is released. */
	s = repeat("", "p=1&", FORM_MAX_PARAMS - 1);
	t = repeat(s, "b", FORM_MAX_VALUE + 1);
	refused(t, strlen(t), FORM_TOO_LONG, "too-long last pair after many good ones");
	free(t);
	free(s);

	/* Lots of empty pairs: linear, and nothing kept. */
	s = repeat("", "&", 100000);
	is_int(parse_str(s, &f), FORM_OK, "100000 empty pairs parse");
	is_int(f.n, 0, "100000 empty pairs give no pairs");
	form_clear(&f);
	free(s);

	/* Every single byte as a value: refused exactly when it is a control or not ASCII. */
	for (i = 1; i < 256; i++) {
		char data[4] = {'v', '=', (char)i, '\0'};
		int want = (i < 0x20 && i != '\t') || i >= 0x7f ? FORM_BAD_ENCODING : FORM_OK;

		if (i == '&' || i == '%' || i == '=')
			continue;
		if (form_parse(data, 3, &f) != want) {
			ok(0, "single raw byte 0x%02zx gives %d", i, want);
			form_clear(&f);
			break;
		}
		form_clear(&f);
	}
	if (i == 256)
		ok(1, "every single raw byte is accepted or refused as the header says");
}

static void
test_add(void)
{
	struct form f;
	char *big;
	size_t i;

	memset(&f, 0, sizeof(f));
	is_int(form_add(&f, "a", "b c"), FORM_OK, "form_add on an empty form");
	is_int(form_add(&f, "tab", "x\ty"), FORM_OK, "form_add allows a tab");
	is_int(form_add(&f, "u", "\xe2\x82\xac"), FORM_OK, "form_add allows UTF-8");
	is_int(form_add(&f, "", ""), FORM_OK, "form_add allows empty strings");
	is_int(form_add(&f, "p", "%41+"), FORM_OK, "form_add does not decode");
	is_str(form_get(&f, "p", NULL), "%41+", "form_add keeps the value as given");
	is_str(form_get(&f, "a", NULL), "b c", "form_add value readable");
	is_int(f.n, 5, "five pairs added");

	is_int(form_add(&f, "a", "x\ny"), FORM_BAD_ENCODING, "form_add refuses a newline");
	is_int(form_add(&f, "a", "\x7f"), FORM_BAD_ENCODING, "form_add refuses DEL");
	is_int(form_add(&f, "a", "\x01"), FORM_BAD_ENCODING, "form_add refuses a C0 control");
	is_int(form_add(&f, "a\r", "x"), FORM_BAD_ENCODING, "form_add checks the name too");
	is_int(form_add(&f, "a", "\xc0\x80"), FORM_BAD_ENCODING, "form_add refuses overlong NUL");
	is_int(form_add(&f, "a", "\xed\xa0\x80"), FORM_BAD_ENCODING, "form_add refuses surrogate");
	is_int(form_add(&f, "a", "\xf4\x90\x80\x80"), FORM_BAD_ENCODING,
	    "form_add refuses > U+10FFFF");
	is_int(form_add(&f, "a", "\xc3"), FORM_BAD_ENCODING, "form_add refuses truncated UTF-8");
	is_int(form_add(&f, "a", "\xff"), FORM_BAD_ENCODING, "form_add refuses byte FF");

	big = repeat("", "x", FORM_MAX_VALUE + 1);
	is_int(form_add(&f, "a", big), FORM_TOO_LONG, "form_add refuses a long value");
	is_int(form_add(&f, big, "a"), FORM_TOO_LONG, "form_add refuses a long name");
	big[FORM_MAX_VALUE] = '\0';
	is_int(form_add(&f, "big", big), FORM_OK, "form_add takes FORM_MAX_VALUE bytes");
	free(big);
	is_int(f.n, 6, "refused adds leave the form unchanged");
	is_int(form_count(&f, "a"), 1, "refused adds added nothing");

	for (i = f.n; i < FORM_MAX_PARAMS; i++) {
		if (form_add(&f, "fill", "1") != FORM_OK)
			break;
	}
	is_int(f.n, FORM_MAX_PARAMS, "form_add fills up to FORM_MAX_PARAMS");
	is_int(form_add(&f, "one", "more"), FORM_TOO_MANY, "form_add refuses one more");
	is_int(f.n, FORM_MAX_PARAMS, "count unchanged after TOO_MANY");
	form_clear(&f);
	is_int(f.n, 0, "form_clear empties the form");
	form_clear(&f);
	ok(1, "form_clear twice is harmless");

	/* Query arguments are added on top of a parsed body. */
	is_int(parse_str("a=1", &f), FORM_OK, "parse before add");
	is_int(form_add(&f, "a", "2"), FORM_OK, "add after parse");
	is_int(form_count(&f, "a"), 2, "add after parse makes a duplicate");
	is_str(form_get_nth(&f, "a", 1), "2", "added pair comes last");
	form_clear(&f);
}

int
main(void)
{
	test_happy();
	test_decoding();
	test_refusals();
	test_c1_controls();
	test_repeats();
	test_limits();
	test_add();
	tap_diag("form: FORM_MAX_PARAMS %d, FORM_MAX_VALUE %d", FORM_MAX_PARAMS, FORM_MAX_VALUE);
	return tap_done();
}
