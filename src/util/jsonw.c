/* Minimal JSON writer: strings and integers, escaped per RFC 8259 §7. */
#include "config.h"

#include "util/jsonw.h"

#include <stdio.h>
#include <string.h>

int
jsonw_string(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;
	int rc;

	if ((rc = buf_putc(b, '"')) != BUF_OK)
		return rc;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[7];
		size_t n;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		if ((rc = buf_append(b, run, (size_t)(s - run))) != BUF_OK)
			return rc;
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			n = 2;
		} else {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			n = 6;
		}
		if ((rc = buf_append(b, esc, n)) != BUF_OK)
			return rc;
		run = s + 1;
	}
	if ((rc = buf_append(b, run, (size_t)(s - run))) != BUF_OK)
		return rc;
	return buf_putc(b, '"');
}

int
jsonw_member_string(struct buf *b, int first, const char *name, const char *value)
{
	int rc;

	if ((!first && (rc = buf_putc(b, ',')) != BUF_OK) || (rc = jsonw_string(b, name)) != BUF_OK ||
	    (rc = buf_putc(b, ':')) != BUF_OK)
		return rc;
	return jsonw_string(b, value);
}

int
jsonw_member_int(struct buf *b, int first, const char *name, int64_t value)
{
	int rc;

	if ((!first && (rc = buf_putc(b, ',')) != BUF_OK) || (rc = jsonw_string(b, name)) != BUF_OK)
		return rc;
	return buf_printf(b, ":%lld", (long long)value);
}
