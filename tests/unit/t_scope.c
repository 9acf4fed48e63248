/* Unit tests for scope strings and set operations (src/oauth/scope.h). */
#include "config.h"

#include "oauth/scope.h"

#include "tap.h"

#include <stdlib.h>
#include <string.h>

/* Compare a new string with want, then free it. */
static void
is_new_str(char *got, const char *want, const char *what)
{
	is_str(got, want, "%s", what);
	free(got);
}

static void
test_valid(void)
{
	char s[SCOPE_MAX_LEN + 2];
	size_t i;
	int all_ok = 1;

	ok(scope_valid(""), "empty string is valid (no scope)");
	ok(scope_valid("openid"), "one token");
	ok(scope_valid("openid profile email"), "three tokens");
	ok(scope_valid("mcp:tools/read a.b-c_d~e"), "punctuation inside tokens");
	ok(scope_valid("!#[]~"), "NQCHAR boundaries 0x21 0x23 0x5b 0x5d 0x7e");
	ok(!scope_valid(NULL), "NULL is not valid");
	ok(!scope_valid(" "), "a lone space");
	ok(!scope_valid(" a"), "leading space");
	ok(!scope_valid("a "), "trailing space");
	ok(!scope_valid("a  b"), "double space");
	ok(!scope_valid("a\tb"), "tab separator");
	ok(!scope_valid("a\nb"), "newline");
	ok(!scope_valid("a\"b"), "double quote (0x22)");
	ok(!scope_valid("a\\b"), "backslash (0x5c)");
	ok(!scope_valid("a\x7f"), "DEL");
	ok(!scope_valid("a\x01"), "control byte");
	ok(!scope_valid("caf\xc3\xa9"), "non-ASCII");

	/* Every single byte: valid exactly when it is an NQCHAR. */
	for (i = 1; i < 256; i++) {
		char one[2] = {(char)i, '\0'};
		int want = i == 0x21 || (i >= 0x23 && i <= 0x5b) || (i >= 0x5d && i <= 0x7e);

		if (scope_valid(one) != want) {
			all_ok = 0;
			tap_diag("byte 0x%02zx: got %d", i, scope_valid(one));
		}
	}
	ok(all_ok, "every single byte is valid exactly when it is an NQCHAR");

	/* SCOPE_MAX_LEN bytes are fine, one more is not. */
	memset(s, 'a', sizeof(s));
	for (i = 1; i < SCOPE_MAX_LEN; i += 2)
		s[i] = ' ';
	s[SCOPE_MAX_LEN - 1] = 'z';
	s[SCOPE_MAX_LEN] = '\0';
	ok(scope_valid(s), "SCOPE_MAX_LEN bytes of tokens are valid");
	s[SCOPE_MAX_LEN] = 'z';
	s[SCOPE_MAX_LEN + 1] = '\0';
	ok(!scope_valid(s), "SCOPE_MAX_LEN + 1 bytes are not");
}

static void
test_has(void)
{
	ok(scope_has("a b c", "a"), "first token");
	ok(scope_has("a b c", "b"), "middle token");
	ok(scope_has("a b c", "c"), "last token");
	ok(!scope_has("a b c", "d"), "absent token");
	ok(!scope_has("abc", "ab"), "prefix of a token is not a token");
	ok(!scope_has("ab", "abc"), "longer token is not a token");
	ok(!scope_has("xab ab", "b"), "suffix of a token is not a token");
	ok(!scope_has("a b", "a b"), "two tokens are not one");
	ok(!scope_has("a", ""), "empty token is never present");
	ok(!scope_has("", ""), "empty token in empty list");
	ok(!scope_has("", "a"), "empty list");
	ok(!scope_has(NULL, "a"), "NULL list");
	ok(!scope_has("READ", "read"), "tokens are case-sensitive");
}

static void
test_subset(void)
{
	ok(scope_subset("a", "a b"), "one of two");
	ok(scope_subset("b a", "a b"), "order does not matter");
	ok(scope_subset("a b", "a b"), "equal sets");
	ok(scope_subset("a a", "a"), "repeated token");
	ok(!scope_subset("a c", "a b"), "one token missing");
	ok(!scope_subset("ab", "a b"), "concatenation is not a subset");
	ok(!scope_subset("a", "ab"), "prefix is not a subset");
	ok(scope_subset("", "a"), "empty is a subset of anything");
	ok(scope_subset("", ""), "empty is a subset of empty");
	ok(scope_subset("", NULL), "empty is a subset of NULL");
	ok(scope_subset(NULL, NULL), "NULL is a subset of NULL");
	ok(scope_subset(NULL, "a"), "NULL is a subset of anything");
	ok(!scope_subset("a", NULL), "a token is not in NULL");
	ok(!scope_subset("a", ""), "a token is not in empty");
}

static void
test_intersect(void)
{
	is_new_str(scope_intersect_new("a b c", "c a"), "a c", "intersection keeps a's order");
	is_new_str(scope_intersect_new("a b", "c d"), "", "disjoint gives empty");
	is_new_str(scope_intersect_new("a a b a", "a b"), "a b", "duplicates dropped");
	is_new_str(scope_intersect_new("a ab a", "ab a"), "a ab", "prefix tokens kept apart");
	is_new_str(scope_intersect_new("ab", "a b"), "", "no partial matches");
	is_new_str(scope_intersect_new("", "a"), "", "empty a");
	is_new_str(scope_intersect_new("a", ""), "", "empty b");
	is_new_str(scope_intersect_new(NULL, "a"), "", "NULL a");
	is_new_str(scope_intersect_new("a", NULL), "", "NULL b");
	is_new_str(scope_intersect_new("x y z", "z y x"), "x y z", "equal sets");
}

static void
test_sorted(void)
{
	char *a, *b;

	is_new_str(scope_sorted_new("c a b"), "a b c", "sorted");
	is_new_str(scope_sorted_new("b a b a"), "a b", "sorted and de-duplicated");
	is_new_str(scope_sorted_new("z"), "z", "one token");
	is_new_str(scope_sorted_new(""), "", "empty");
	is_new_str(scope_sorted_new(NULL), "", "NULL");
	is_new_str(scope_sorted_new("B a A b"), "A B a b", "byte order (upper case first)");
	is_new_str(scope_sorted_new("ab a abc"), "a ab abc", "prefixes sort first");
	a = scope_sorted_new("read write admin");
	b = scope_sorted_new("admin read write read");
	ok(a != NULL && b != NULL && strcmp(a, b) == 0, "sorted forms compare equal as sets");
	free(a);
	free(b);
}

static void
test_json(void)
{
	json_t *a;

	a = scope_json_array("openid mcp:read");
	ok(json_is_array(a) && json_array_size(a) == 2, "two tokens give two elements");
	is_str(json_string_value(json_array_get(a, 0)), "openid", "first element");
	is_str(json_string_value(json_array_get(a, 1)), "mcp:read", "second element");
	json_decref(a);
	a = scope_json_array("");
	ok(json_is_array(a) && json_array_size(a) == 0, "empty string gives []");
	json_decref(a);
	a = scope_json_array(NULL);
	ok(json_is_array(a) && json_array_size(a) == 0, "NULL gives []");
	json_decref(a);
}

int
main(void)
{
	test_valid();
	test_has();
	test_subset();
	test_intersect();
	test_sorted();
	test_json();
	tap_diag("scope: SCOPE_MAX_LEN %d", SCOPE_MAX_LEN);
	return tap_done();
}
