/* What counts as text: well-formed UTF-8 without control characters. */
#include "config.h"

#include "util/text.h"

/* Well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF) and no C0
 * controls except tab, no DEL. */
int
text_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t k, j;
		unsigned int cp;

		if (c < 0x80) {
			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return 0;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (n - i <= k)
			return 0;
		for (j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		/* C1 controls: U+0085 and U+009B end lines or start escapes in some
		 * terminals and log viewers. */
		if (cp >= 0x80 && cp <= 0x9f)
			return 0;
		i += k + 1;
	}
	return 1;
}
