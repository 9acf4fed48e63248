/* Mustache-subset rendering with mandatory HTML escaping (kcgi's khtml is the model). */
#include "config.h"

#include "util/tmpl.h"

#include <stdio.h>
#include <string.h>

#define NAME_MAX_LEN 64

struct frame {
	const json_t *stack[TMPL_MAX_DEPTH + 1];
	int depth;
};

int
tmpl_escape(struct buf *out, const char *s, size_t n)
{
	size_t i, start = 0;

	for (i = 0; i < n; i++) {
		const char *ent;

		switch (s[i]) {
		case '&': ent = "&amp;"; break;
		case '<': ent = "&lt;"; break;
		case '>': ent = "&gt;"; break;
		case '"': ent = "&quot;"; break;
		case '\'': ent = "&#39;"; break;
		case '`': ent = "&#96;"; break;
		case '=': ent = "&#61;"; break;
		default: continue;
		}
		if (buf_append(out, s + start, i - start) != 0 || buf_puts(out, ent) != 0)
			return -1;
		start = i + 1;
	}
	return buf_append(out, s + start, n - start) == 0 ? 0 : -1;
}

static const json_t *
lookup(const struct frame *f, const char *name)
{
	int i;

	if (strcmp(name, ".") == 0)
		return f->stack[f->depth];
	for (i = f->depth; i >= 0; i--) {
		const json_t *v;

		if (json_is_object(f->stack[i]) && (v = json_object_get(f->stack[i], name)) != NULL)
			return v;
	}
	return NULL;
}

static int
truthy(const json_t *v)
{
	if (v == NULL || json_is_null(v) || json_is_false(v))
		return 0;
	if (json_is_string(v))
		return json_string_length(v) > 0;
	if (json_is_array(v))
		return json_array_size(v) > 0;
	return 1;
}

static int
emit_value(struct buf *out, const json_t *v)
{
	char num[64];

	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_string(v))
		return tmpl_escape(out, json_string_value(v), json_string_length(v));
	if (json_is_integer(v)) {
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
		return tmpl_escape(out, num, strlen(num));
	}
	if (json_is_real(v)) {
		snprintf(num, sizeof(num), "%g", json_real_value(v));
		return tmpl_escape(out, num, strlen(num));
	}
	if (json_is_boolean(v))
		return tmpl_escape(out, json_is_true(v) ? "true" : "false", json_is_true(v) ? 4 : 5);
	return -1; /* objects and arrays are not printable */
}

/* Parse the tag at t[0..n) (after "{{"): sets kind and name; returns the length up to
 * and including "}}", or 0 when malformed. */
static size_t
parse_tag(const char *t, size_t n, char *kind, char *name)
{
	const char *close = NULL;
	size_t i, start, end;

	for (i = 0; i + 1 < n; i++) {
		if (t[i] == '}' && t[i + 1] == '}') {
			close = t + i;
			break;
		}
	}
	if (close == NULL)
		return 0;
	*kind = ' ';
	start = 0;
	if (t[0] == '#' || t[0] == '^' || t[0] == '/' || t[0] == '!') {
		*kind = t[0];
		start = 1;
	} else if (t[0] == '{' || t[0] == '&' || t[0] == '>' || t[0] == '=') {
		return 0; /* unescaped output, partials and delimiter changes do not exist */
	}
	end = (size_t)(close - t);
	if (*kind == '!')
		return end + 2;
	while (start < end && t[start] == ' ')
		start++;
	while (end > start && t[end - 1] == ' ')
		end--;
	if (end == start || end - start >= NAME_MAX_LEN)
		return 0;
	for (i = start; i < end; i++) {
		char c = t[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			c == '_' || c == '-' || c == '.'))
			return 0;
	}
	memcpy(name, t + start, end - start);
	name[end - start] = '\0';
	return (size_t)(close - t) + 2;
}

/* Find the end of the section opened by `name` in t[0..n): sets *body_len (bytes of
 * the body) and returns the offset just past its closing tag, or 0. */
static size_t
section_end(const char *t, size_t n, const char *name, size_t *body_len)
{
	char kind, inner[NAME_MAX_LEN];
	size_t i = 0, taglen;
	int level = 0;

	while (i + 1 < n) {
		if (!(t[i] == '{' && t[i + 1] == '{')) {
			i++;
			continue;
		}
		if ((taglen = parse_tag(t + i + 2, n - i - 2, &kind, inner)) == 0)
			return 0;
		if (kind == '#' || kind == '^') {
			level++;
		} else if (kind == '/') {
			if (level == 0) {
				if (strcmp(inner, name) != 0)
					return 0;
				*body_len = i;
				return i + 2 + taglen;
			}
			level--;
		}
		i += 2 + taglen;
	}
	return 0;
}

static int
render(const char *t, size_t n, struct frame *f, struct buf *out)
{
	char kind, name[NAME_MAX_LEN];
	size_t i = 0, text_start = 0, taglen, body_len, past;

	while (i + 1 < n) {
		const json_t *v;

		if (!(t[i] == '{' && t[i + 1] == '{')) {
			i++;
			continue;
		}
		if (buf_append(out, t + text_start, i - text_start) != 0)
			return -1;
		if ((taglen = parse_tag(t + i + 2, n - i - 2, &kind, name)) == 0)
			return -1;
		i += 2 + taglen;
		switch (kind) {
		case '!':
			break;
		case ' ':
			if (emit_value(out, lookup(f, name)) != 0)
				return -1;
			break;
		case '/':
			return -1; /* a close without an open */
		case '#':
		case '^':
			if ((past = section_end(t + i, n - i, name, &body_len)) == 0)
				return -1;
			if (f->depth >= TMPL_MAX_DEPTH)
				return -1;
			v = lookup(f, name);
			if (kind == '^') {
				if (!truthy(v) && render(t + i, body_len, f, out) != 0)
					return -1;
			} else if (json_is_array(v)) {
				size_t k;

				for (k = 0; k < json_array_size(v); k++) {
					f->stack[++f->depth] = json_array_get(v, k);
					if (render(t + i, body_len, f, out) != 0)
						return -1;
					f->depth--;
				}
			} else if (truthy(v)) {
				f->stack[++f->depth] = v;
				if (render(t + i, body_len, f, out) != 0)
					return -1;
				f->depth--;
			}
			i += past;
			break;
		default:
			return -1;
		}
		text_start = i;
	}
	return buf_append(out, t + text_start, n - text_start) == 0 ? 0 : -1;
}

/* The template's structure, whatever the data: every tag well-formed, every section
 * closed by its own name, nesting within TMPL_MAX_DEPTH. Rendering alone would miss
 * faults inside sections the data happens to skip. */
static int
validate(const char *t, size_t n)
{
	char open[TMPL_MAX_DEPTH][NAME_MAX_LEN], kind, name[NAME_MAX_LEN];
	size_t i = 0, taglen;
	int depth = 0;

	while (i + 1 < n) {
		if (!(t[i] == '{' && t[i + 1] == '{')) {
			i++;
			continue;
		}
		if ((taglen = parse_tag(t + i + 2, n - i - 2, &kind, name)) == 0)
			return -1;
		if (kind == '#' || kind == '^') {
			if (depth >= TMPL_MAX_DEPTH)
				return -1;
			memcpy(open[depth++], name, sizeof(name));
		} else if (kind == '/') {
			if (depth == 0 || strcmp(open[depth - 1], name) != 0)
				return -1;
			depth--;
		}
		i += 2 + taglen;
	}
	return depth == 0 ? 0 : -1;
}

int
tmpl_render(const char *tmpl, size_t len, const json_t *ctx, struct buf *out)
{
	struct frame f;

	if (validate(tmpl, len) != 0)
		return -1;
	f.depth = 0;
	f.stack[0] = ctx;
	return render(tmpl, len, &f, out);
}
