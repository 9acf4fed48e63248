/* Resource URI normalisation (RFC 8707 §2, RFC 3986 §6.2.2.1 and §6.2.3). */
#include "config.h"

#include "oauth/resource.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "oauth/uri.h"
#include "util/buf.h"

int
resource_normalize(const char *in, size_t len, char **uri_out, char **key_out)
{
	struct uri_http u;
	struct buf b;
	size_t i;
	int rc = -1;

	if (uri_out != NULL)
		*uri_out = NULL;
	if (key_out != NULL)
		*key_out = NULL;
	if (len == 0 || len > RESOURCE_URI_MAX || uri_parse_http(in, len, &u) != 0)
		return -1;
	/* RFC 8707 §2: no fragment; SHOULD NOT have a query, which we make a MUST so
	 * that one server has one name. Userinfo has no place in an identifier. */
	if (u.query != NULL || u.fragment != NULL || u.has_userinfo)
		return -1;
	buf_init(&b, RESOURCE_URI_MAX + 8);
	if (buf_puts(&b, u.https ? "https://" : "http://") != 0)
		goto out;
	for (i = 0; i < u.host_len; i++) {
		if (buf_putc(&b, (char)tolower((unsigned char)u.host[i])) != 0)
			goto out;
	}
	if (u.port != -1 && u.port != (u.https ? 443 : 80) && buf_printf(&b, ":%d", u.port) != 0)
		goto out;
	/* The path is kept as registered: no case folding, no dot-segment removal. */
	if (buf_append(&b, u.path, u.path_len) != 0)
		goto out;
	if (uri_out != NULL && (*uri_out = strdup(b.data)) == NULL)
		goto out;
	if (u.path_len > 0 && u.path[u.path_len - 1] == '/')
		b.data[--b.len] = '\0';
	if (key_out != NULL && (*key_out = strdup(b.data)) == NULL)
		goto out;
	rc = 0;
out:
	if (rc != 0 && uri_out != NULL) {
		free(*uri_out);
		*uri_out = NULL;
	}
	buf_free(&b);
	return rc;
}
