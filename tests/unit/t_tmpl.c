/* Unit tests for the template renderer (src/util/tmpl.h): escaping, sections, refusals, pages. */
#include "config.h"

#include "util/buf.h"
#include "util/tmpl.h"

#include "tap.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every character tmpl_escape must replace, and the form it must take. */
#define HOSTILE "<script>x</script>\"'`=&"
#define HOSTILE_ESC "&lt;script&gt;x&lt;/script&gt;&quot;&#39;&#96;&#61;&amp;"

/* Render t with the context parsed from json (NULL: an empty object) under a ceiling. */
static int
render_max(const char *t, const char *json, size_t max, struct buf *out)
{
	json_error_t err;
	json_t *ctx = json != NULL ? json_loads(json, 0, &err) : json_object();
	int rc;

	buf_init(out, max);
	if (ctx == NULL) {
		printf("Bail out! bad test context %s: %s\n", json, err.text);
		exit(1);
	}
	rc = tmpl_render(t, strlen(t), ctx, out);
	json_decref(ctx);
	return rc;
}

/* Render and compare with want; want NULL means the template must be refused. */
static void
check(const char *t, const char *json, const char *want, const char *desc)
{
	struct buf out;
	int rc = render_max(t, json, 0, &out);

	if (want == NULL) {
		is_int(rc, -1, "%s: refused", desc);
	} else {
		is_int(rc, 0, "%s: renders", desc);
		is_str(rc == 0 ? (out.data ? out.data : "") : NULL, want, "%s: output", desc);
	}
	buf_free(&out);
}

/* One render whose return code the contract fixes (found wrong once, kept as a guard). */
static void
check_rc(const char *t, const char *json, int want_rc, const char *desc)
{
	struct buf out;
	int rc = render_max(t, json, 0, &out);

	ok(rc == want_rc, "%s", desc);
	if (rc != want_rc)
		tap_diag("  got %d, want %d", rc, want_rc);
	buf_free(&out);
}

static void
test_escape(void)
{
	struct buf b;

	buf_init(&b, 0);
	is_int(tmpl_escape(&b, "&<>\"'`=", 7), 0, "escape: every special character");
	is_str(b.data, "&amp;&lt;&gt;&quot;&#39;&#96;&#61;", "escape: character references");
	buf_reset(&b);
	is_int(tmpl_escape(&b, "plain text 123", 14), 0, "escape: plain text");
	is_str(b.data, "plain text 123", "escape: plain text unchanged");
	buf_reset(&b);
	is_int(tmpl_escape(&b, "a<b", 1), 0, "escape: only n bytes");
	is_str(b.data, "a", "escape: stops at n");
	buf_reset(&b);
	is_int(tmpl_escape(&b, "x\0<y", 4), 0, "escape: an embedded NUL is data");
	ok(b.len == 7 && memcmp(b.data, "x\0&lt;y", 7) == 0, "escape: NUL kept, '<' escaped");
	buf_reset(&b);
	is_int(tmpl_escape(&b, "", 0), 0, "escape: empty input");
	is_int(b.len, 0, "escape: empty output");
	buf_free(&b);

	buf_init(&b, 3);
	is_int(tmpl_escape(&b, "<", 1), -1, "escape: '&lt;' does not fit in 3");
	buf_free(&b);
	buf_init(&b, 4);
	is_int(tmpl_escape(&b, "&", 1), -1, "escape: '&amp;' does not fit in 4");
	buf_free(&b);
	buf_init(&b, 5);
	is_int(tmpl_escape(&b, "&", 1), 0, "escape: '&amp;' fits in 5");
	buf_free(&b);
}

static void
test_variables(void)
{
	check("hello", NULL, "hello", "text only");
	check("", NULL, "", "empty template");
	check("Hi {{name}}!", "{\"name\":\"Ann\"}", "Hi Ann!", "a variable");
	check("{{ name }}", "{\"name\":\"Ann\"}", "Ann", "spaces inside the tag");
	check("{{a}}{{b}}{{a}}", "{\"a\":\"1\",\"b\":\"2\"}", "121", "adjacent tags");
	check("[{{missing}}]", "{}", "[]", "a missing name prints nothing");
	check("[{{n}}]", "{\"n\":null}", "[]", "null prints nothing");
	check("{{s}}", "{\"s\":\"\"}", "", "empty string");
	check("{{v}}", "{\"v\":\"&<>\\\"'`=\"}", "&amp;&lt;&gt;&quot;&#39;&#96;&#61;",
	    "every special character of a value escaped");
	check("{{v}}", "{\"v\":\"<script>alert(1)</script>\"}",
	    "&lt;script&gt;alert(1)&lt;/script&gt;", "script tag escaped");
	check("<a title=\"{{v}}\">", "{\"v\":\"\\\" onmouseover=\\\"x\"}",
	    "<a title=\"&quot; onmouseover&#61;&quot;x\">", "attribute breakout escaped");
	check("<a title={{v}}>", "{\"v\":\"x onmouseover=alert(1)\"}",
	    "<a title=x onmouseover&#61;alert(1)>", "unquoted attribute: '=' escaped");
	check("{{v}}", "{\"v\":\"`${x}`\"}", "&#96;${x}&#96;", "backticks escaped");
	check("{{v}}", "{\"v\":\"{{x}}\"}", "{{x}}", "a value is never parsed as a template");
	check("{{v}}", "{\"v\":\"caf\\u00e9 \\u2603\"}", "caf\xc3\xa9 \xe2\x98\x83",
	    "UTF-8 passes through");
	check("{{n}}", "{\"n\":42}", "42", "an integer");
	check("{{n}}", "{\"n\":-7}", "-7", "a negative integer");
	check("{{n}}", "{\"n\":0}", "0", "zero");
	check("{{n}}", "{\"n\":9007199254740993}", "9007199254740993", "a large integer");
	check("{{t}} {{f}}", "{\"t\":true,\"f\":false}", "true false", "booleans");
	check("a}}b } {", NULL, "a}}b } {", "stray braces are text");
	check("a{b{{v}}", "{\"v\":\"1\"}", "a{b1", "a single brace before a tag");
	check("{{.}}", "{}", NULL, "printing the root object");
	check("{{o}}", "{\"o\":{\"a\":1}}", NULL, "printing an object");
	check("{{a}}", "{\"a\":[1,2]}", NULL, "printing an array");
	check("{{a}}", "{\"a\":[]}", NULL, "printing an empty array");
	check_rc("{{r}}", "{\"r\":1.5}", 0,
	    "a real number prints (header: strings, numbers, booleans)");
}

static void
test_sections(void)
{
	check("{{#items}}[{{name}}]{{/items}}",
	    "{\"items\":[{\"name\":\"a\"},{\"name\":\"<b>\"}]}", "[a][&lt;b&gt;]",
	    "section over an array of objects");
	check("{{#list}}<{{.}}>{{/list}}", "{\"list\":[\"x\",\"y&z\"]}", "<x><y&amp;z>",
	    "section over an array of strings with {{.}}");
	check("{{#list}}{{.}},{{/list}}", "{\"list\":[1,true,false]}", "1,true,false,",
	    "section over an array of scalars");
	check("{{#list}}x{{/list}}", "{\"list\":[]}", "", "empty array: no output");
	check("{{#rows}}{{#.}}{{.}}{{/.}};{{/rows}}", "{\"rows\":[[1,2],[3]]}", "12;3;",
	    "array of arrays through {{#.}}");
	check("{{#t}}yes{{/t}}", "{\"t\":true}", "yes", "true: once");
	check("{{#s}}[{{.}}]{{/s}}", "{\"s\":\"a<b\"}", "[a&lt;b]",
	    "non-empty string: once, {{.}} is the string");
	check("{{#o}}{{k}}{{/o}}", "{\"o\":{\"k\":\"v\"}}", "v", "object: once, as the context");
	check("{{#o}}x{{/o}}", "{\"o\":{}}", "x", "empty object: once");
	check("{{#m}}x{{/m}}", "{}", "", "missing: nothing");
	check("{{#f}}x{{/f}}", "{\"f\":false}", "", "false: nothing");
	check("{{#n}}x{{/n}}", "{\"n\":null}", "", "null: nothing");
	check("{{#s}}x{{/s}}", "{\"s\":\"\"}", "", "empty string: nothing");
	check("{{# t }}x{{/ t }}", "{\"t\":true}", "x", "spaces in section tags");

	check("{{^m}}no{{/m}}", "{}", "no", "inverted: missing");
	check("{{^f}}no{{/f}}", "{\"f\":false}", "no", "inverted: false");
	check("{{^n}}no{{/n}}", "{\"n\":null}", "no", "inverted: null");
	check("{{^s}}no{{/s}}", "{\"s\":\"\"}", "no", "inverted: empty string");
	check("{{^a}}no{{/a}}", "{\"a\":[]}", "no", "inverted: empty array");
	check("{{^t}}no{{/t}}", "{\"t\":true}", "", "inverted: true hides");
	check("{{^s}}no{{/s}}", "{\"s\":\"x\"}", "", "inverted: non-empty string hides");
	check("{{^a}}no{{/a}}", "{\"a\":[0]}", "", "inverted: non-empty array hides");
	check("{{^o}}no{{/o}}", "{\"o\":{}}", "", "inverted: object hides");
	check("{{#a}}{{.}}{{/a}}{{^a}}none{{/a}}", "{\"a\":[]}", "none", "section then inverted");
	check("{{^m}}{{v}}{{/m}}", "{\"v\":\"<\"}", "&lt;", "inverted body escapes too");

	check("{{#items}}{{name}}@{{site}} {{/items}}",
	    "{\"site\":\"S\",\"items\":[{\"name\":\"a\"},{\"name\":\"b\",\"site\":\"T\"}]}",
	    "a@S b@T ", "lookup from inner to outer, inner wins");
	check("{{#list}}{{title}}:{{.}} {{/list}}", "{\"title\":\"T\",\"list\":[\"x\",\"y\"]}",
	    "T:x T:y ", "a string element does not hide the outer context");
	check("{{#a}}{{#b}}{{x}}{{y}}{{z}}{{/b}}{{/a}}",
	    "{\"z\":\"3\",\"a\":{\"y\":\"2\",\"b\":{\"x\":\"1\"}}}", "123",
	    "three levels of lookup");
	check("{{#o}}{{k}}{{/o}}{{k}}", "{\"k\":\"out\",\"o\":{\"k\":\"in\"}}", "inout",
	    "the context is restored after a section");
	check("{{#a}}{{#a}}x{{/a}}{{/a}}", "{\"a\":[1,2]}", "xxxx",
	    "same name nested resolves outwards");

	check("a{{! a comment <b> }}b", NULL, "ab", "comment");
	check("a{{!}}b", NULL, "ab", "empty comment");
	check("{{! {{#x }}ok", NULL, "ok", "'{{' inside a comment opens nothing");
	check("{{! a }} b }}", NULL, " b }}", "a comment ends at the first '}}'");
}

/* n nested "{{#t}}" (or "{{^m}}" when inverted) around "x". */
static void
nested(char *t, size_t cap, int n, const char *open, const char *close)
{
	int i;

	t[0] = '\0';
	for (i = 0; i < n; i++)
		snprintf(t + strlen(t), cap - strlen(t), "%s", open);
	snprintf(t + strlen(t), cap - strlen(t), "x");
	for (i = 0; i < n; i++)
		snprintf(t + strlen(t), cap - strlen(t), "%s", close);
}

static void
test_depth(void)
{
	char t[1024], u[512];

	nested(t, sizeof(t), TMPL_MAX_DEPTH, "{{#t}}", "{{/t}}");
	check(t, "{\"t\":true}", "x", "TMPL_MAX_DEPTH nested sections render");
	nested(t, sizeof(t), TMPL_MAX_DEPTH, "{{#a}}", "{{/a}}");
	check(t, "{\"a\":[1]}", "x", "TMPL_MAX_DEPTH nested array sections render");
	nested(t, sizeof(t), TMPL_MAX_DEPTH + 1, "{{#t}}", "{{/t}}");
	check(t, "{\"t\":true}", NULL, "TMPL_MAX_DEPTH + 1 nested sections");
	nested(t, sizeof(t), TMPL_MAX_DEPTH + 1, "{{#a}}", "{{/a}}");
	check(t, "{\"a\":[1]}", NULL, "TMPL_MAX_DEPTH + 1 nested array sections");
	nested(t, sizeof(t), 40, "{{#t}}", "{{/t}}");
	check(t, "{\"t\":true}", NULL, "40 nested sections");

	/* "too deep" is a property of the template: pages_load() probes each page with an
	 * empty context at start-up so that a broken page is not found by the first user. */
	nested(t, sizeof(t), TMPL_MAX_DEPTH + 1, "{{^m}}", "{{/m}}");
	check_rc(t, "{}", -1,
	    "TMPL_MAX_DEPTH + 1 nested inverted sections refused");
	nested(u, sizeof(u), TMPL_MAX_DEPTH, "{{#t}}", "{{/t}}");
	snprintf(t, sizeof(t), "{{#m}}%s{{/m}}", u);
	check_rc(t, "{\"t\":true}", -1,
	    "TMPL_MAX_DEPTH + 1 nested sections refused when the outer one is empty");
}

/* A template as a one-line test description: control and non-ASCII bytes as \xNN. */
static void
printable(const char *s, char *out, size_t cap)
{
	size_t o = 0;

	for (; *s != '\0' && o + 5 < cap; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

static void
test_malformed(void)
{
	static const char *const bad[] = {
		"{{#a}}x",                 /* never closed */
		"{{#a}}x{{/b}}",           /* mismatched */
		"{{#a}}{{#b}}x{{/a}}",     /* inner never closed */
		"{{#a}}{{#b}}{{/a}}{{/b}}", /* crossed */
		"{{/a}}",                  /* close without open */
		"x{{/a}}y",
		"{{#a}}{{/a}}{{/a}}",      /* one close too many */
		"{{^a}}x",
		"{{^a}}x{{/b}}",
		"{{{x}}}",
		"{{{x}}",
		"{{&x}}",
		"{{& x}}",
		"{{>x}}",
		"{{> partial}}",
		"{{=x}}",
		"{{=<% %>=}}",
		"{{}}",
		"{{ }}",
		"{{#}}{{/}}",
		"{{/}}",
		"{{^}}",
		"{{a b}}",
		"{{a<b}}",
		"{{a\"b}}",
		"{{a}b}}",
		"{{a{b}}",
		"{{a/b}}",
		"{{a:b}}",
		"{{a\tb}}",
		"{{a\nb}}",
		"{{a\xc3\xa9}}",
		"{{#a b}}x{{/a b}}",
		"{{x",
		"{{x}",
		"abc{{",
		"{{",
		"{{!x",
		"{{#a}}{{x",
		"{{#a}}{{a b}}{{/a}}",  /* bad tag in a section that is not rendered */
		"{{#a}}{{{x}}}{{/a}}",
		"{{^t}}{{&x}}{{/t}}",
	};
	char desc[128];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		printable(bad[i], desc, sizeof(desc));
		check(bad[i], "{\"a\":[1],\"t\":true}", NULL, desc);
	}
	/* Empty context: sections are skipped, so only parsing can find the fault. */
	check("{{#a}}{{/b}}", "{}", NULL, "mismatched close of a skipped section");
	check("{{/a}}", "{}", NULL, "close without open, empty context");

	check_rc("{{#m}}{{#a}}{{/b}}{{/m}}", "{}", -1,
	    "mismatched inner section of a skipped section refused");
	check_rc("{{^t}}{{#a}}x{{/b}}{{/t}}", "{\"t\":true}", -1,
	    "mismatched inner section of a hidden inverted section refused");
	check("{{#t}}{{#a}}{{/b}}{{/t}}", "{\"t\":true}", NULL,
	    "mismatched inner section of a rendered section");
}

static void
test_ceiling(void)
{
	struct buf out;

	is_int(render_max("0123456789", NULL, 10, &out), 0, "output exactly at the ceiling");
	buf_free(&out);
	is_int(render_max("0123456789", NULL, 9, &out), -1, "text past the ceiling");
	buf_free(&out);
	is_int(render_max("{{v}}", "{\"v\":\"<<<\"}", 11, &out), -1,
	    "escaped value past the ceiling");
	buf_free(&out);
	is_int(render_max("{{v}}", "{\"v\":\"<<<\"}", 12, &out), 0, "escaped value at the ceiling");
	buf_free(&out);
	is_int(render_max("{{#a}}abcd{{/a}}", "{\"a\":[1,2,3]}", 10, &out), -1,
	    "section output past the ceiling");
	buf_free(&out);
	is_int(render_max("{{n}}", "{\"n\":123456}", 5, &out), -1, "a number past the ceiling");
	buf_free(&out);
}

/* A page's context with every string set to v. */
static json_t *
page_ctx(const char *page, const char *v)
{
	if (strcmp(page, "login.html") == 0)
		return json_pack("{s:s, s:s, s:s, s:[{s:s, s:s}, {s:s, s:s}], s:s, s:s, s:s, s:s, "
				 "s:b, s:[{s:s, s:s}]}",
		    "client_name", v, "error", v, "action", v, "params", "name", v, "value", v,
		    "name", v, "value", v, "csrf", v, "username", v, "issuer", v, "issuer_name",
		    v, "local_login", 1, "providers", "name", v, "display_name", v);
	if (strcmp(page, "consent.html") == 0)
		return json_pack("{s:s, s:s, s:b, s:[{s:s, s:s}], s:[s, s], s:s, s:s,"
				 " s:[{s:s, s:s}], s:s, s:s, s:s}",
		    "client_name", v, "redirect_host", v, "localhost_only", 1, "resources", "name",
		    v, "uri", v, "scopes", v, v, "username", v, "action", v, "params", "name", v,
		    "value", v, "csrf", v, "issuer", v, "issuer_name", v);
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "title", v, "message", v, "error", v,
	    "issuer", v, "issuer_name", v);
}

static char *
read_template(const char *name)
{
	const char *top = getenv("TOP_SRCDIR");
	char path[4096];
	struct buf b;
	char chunk[4096];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/templates/%s", top ? top : ".", name);
	if ((f = fopen(path, "r")) == NULL) {
		printf("Bail out! cannot open %s\n", path);
		exit(1);
	}
	buf_init(&b, 0);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_append(&b, chunk, n) != BUF_OK) {
			printf("Bail out! cannot read %s\n", path);
			exit(1);
		}
	}
	fclose(f);
	return buf_take(&b);
}

/* Count the occurrences of needle in hay, and write hay with each replaced by with. */
static size_t
replace_all(const char *hay, const char *needle, const char *with, struct buf *out)
{
	size_t count = 0, nlen = strlen(needle);
	const char *p;

	while ((p = strstr(hay, needle)) != NULL) {
		buf_append(out, hay, (size_t)(p - hay));
		buf_puts(out, with);
		hay = p + nlen;
		count++;
	}
	buf_puts(out, hay);
	return count;
}

static void
test_pages(void)
{
	static const char *const pages[] = {"login.html", "consent.html", "error.html"};
	size_t i;

	for (i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		char *t = read_template(pages[i]);
		json_t *hostile = page_ctx(pages[i], HOSTILE), *safe = page_ctx(pages[i], "SAFE");
		json_t *empty = json_object();
		struct buf hout, sout, eout, swapped;
		size_t count;
		int rc;

		buf_init(&hout, 0);
		buf_init(&sout, 0);
		buf_init(&eout, 0);
		buf_init(&swapped, 0);
		ok(hostile != NULL && safe != NULL, "%s: contexts built", pages[i]);
		is_int(tmpl_render(t, strlen(t), empty, &eout), 0,
		    "%s: renders with an empty context (the start-up probe)", pages[i]);
		is_int(tmpl_render(t, strlen(t), safe, &sout), 0, "%s: renders with plain values",
		    pages[i]);
		rc = tmpl_render(t, strlen(t), hostile, &hout);
		is_int(rc, 0, "%s: renders with hostile values", pages[i]);
		if (rc == 0 && hout.data != NULL && sout.data != NULL) {
			ok(strstr(hout.data, "<script>x") == NULL, "%s: no raw <script>x",
			    pages[i]);
			ok(strstr(hout.data, "<script") == NULL, "%s: no <script at all", pages[i]);
			ok(strstr(hout.data, HOSTILE_ESC) != NULL, "%s: the escaped form is there",
			    pages[i]);
			ok(strstr(hout.data, "{{") == NULL, "%s: every tag consumed", pages[i]);
			/* Put the plain value back wherever the escaped form appears: if that
			 * gives the plain page, every hostile byte was escaped and nothing else
			 * changed. */
			count = replace_all(hout.data, HOSTILE_ESC, "SAFE", &swapped);
			is_str(swapped.data, sout.data,
			    "%s: every value escaped in full (%zu places)", pages[i], count);
			ok(count >= 5, "%s: values printed in %zu places", pages[i], count);
		}
		buf_free(&hout);
		buf_free(&sout);
		buf_free(&eout);
		buf_free(&swapped);
		json_decref(hostile);
		json_decref(safe);
		json_decref(empty);
		free(t);
	}
}

int
main(void)
{
	test_escape();
	test_variables();
	test_sections();
	test_depth();
	test_malformed();
	test_ceiling();
	test_pages();
	return tap_done();
}
