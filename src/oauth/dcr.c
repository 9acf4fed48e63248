/* Registration metadata validation (RFC 7591 §2, OpenID Dynamic Registration §2). */
#include "config.h"

#include "oauth/dcr.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "jose/jwks.h"
#include "oauth/redirect.h"
#include "oauth/scope.h"
#include "oauth/uri.h"

void
dcr_client_clear(struct dcr_client *c)
{
	json_decref(c->metadata);
	memset(c, 0, sizeof(*c));
}

static enum oauth_error __attribute__((format(printf, 4, 5)))
bad(char *err, size_t errlen, enum oauth_error e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return e;
}

/* Copy an optional bounded string member; -1 when present but not such a string. */
static int
copy_string(const json_t *in, json_t *out, const char *name, size_t max)
{
	const json_t *v = json_object_get(in, name);

	if (v == NULL)
		return 0;
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max ||
	    memchr(json_string_value(v), '\0', json_string_length(v)) != NULL)
		return -1;
	return json_object_set_new(out, name, json_string(json_string_value(v)));
}

static int
copy_https_url(const json_t *in, json_t *out, const char *name)
{
	const json_t *v = json_object_get(in, name);
	struct uri_http u;

	if (v == NULL)
		return 0;
	if (!json_is_string(v) || strncmp(json_string_value(v), "https://", 8) != 0 ||
	    json_string_length(v) > 2048 ||
	    uri_parse_http(json_string_value(v), json_string_length(v), &u) != 0)
		return -1;
	return json_object_set_new(out, name, json_string(json_string_value(v)));
}

/* A list member of strings from `allowed`; missing gives `def`. */
static int
string_list(const json_t *in, const char *name, const char *const *allowed,
    const char *const *def, json_t **out)
{
	const json_t *arr = json_object_get(in, name), *v;
	size_t i, k;

	*out = json_array();
	if (*out == NULL)
		return -1;
	if (arr == NULL) {
		for (k = 0; def[k] != NULL; k++)
			json_array_append_new(*out, json_string(def[k]));
		return 0;
	}
	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return -1;
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v))
			return -1;
		for (k = 0; allowed[k] != NULL && strcmp(allowed[k], json_string_value(v)) != 0; k++)
			;
		if (allowed[k] == NULL)
			return -1;
		json_array_append_new(*out, json_string(allowed[k]));
	}
	return 0;
}

static int
has(const json_t *arr, const char *s)
{
	const json_t *v;
	size_t i;

	json_array_foreach(arr, i, v) {
		if (strcmp(json_string_value(v), s) == 0)
			return 1;
	}
	return 0;
}

/* private_key_jwt (RFC 7591 §2): the client's public keys, inline (jwks) or by URL
 * (jwks_uri, https), exactly one of them; neither for any other method. */
static int
keys(const json_t *req, json_t *m, struct dcr_client *out, char *err, size_t errlen)
{
	const json_t *jwks = json_object_get(req, "jwks");
	const json_t *uri = json_object_get(req, "jwks_uri");
	char why[160];

	if (strcmp(out->auth_method, "private_key_jwt") != 0) {
		if (jwks != NULL || uri != NULL) {
			bad(err, errlen, OAUTH_INVALID_CLIENT_METADATA,
			    "jwks and jwks_uri are for private_key_jwt clients");
			return -1;
		}
		return 0;
	}
	if ((jwks == NULL) == (uri == NULL)) {
		bad(err, errlen, OAUTH_INVALID_CLIENT_METADATA,
		    "private_key_jwt needs exactly one of jwks and jwks_uri");
		return -1;
	}
	if (uri != NULL) {
		if (copy_https_url(req, m, "jwks_uri") != 0) {
			bad(err, errlen, OAUTH_INVALID_CLIENT_METADATA, "jwks_uri must be an https URL");
			return -1;
		}
		out->jwks_uri = json_string_value(json_object_get(m, "jwks_uri"));
		return 0;
	}
	if (jwks_check_public(jwks, why, sizeof(why)) != 0) {
		bad(err, errlen, OAUTH_INVALID_CLIENT_METADATA, "jwks: %s", why);
		return -1;
	}
	json_object_set_new(m, "jwks", json_deep_copy(jwks));
	out->jwks = json_object_get(m, "jwks");
	return 0;
}

enum oauth_error
dcr_validate(const json_t *req, struct dcr_client *out, char *err, size_t errlen)
{
	static const char *const grants[] = {"authorization_code", "refresh_token", NULL};
	static const char *const def_grants[] = {"authorization_code", NULL};
	static const char *const responses[] = {"code", NULL};
	static const char *const methods[] = {"none", "client_secret_basic", "client_secret_post",
	    "private_key_jwt", NULL};
	const enum oauth_error meta = OAUTH_INVALID_CLIENT_METADATA;
	const json_t *uris, *v, *contacts;
	json_t *m, *list = NULL;
	const char *app_type = "web";
	size_t i, k;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(req))
		return bad(err, errlen, meta, "the registration must be a JSON object");
	if ((m = out->metadata = json_object()) == NULL)
		return bad(err, errlen, OAUTH_SERVER_ERROR, "out of memory");

	v = json_object_get(req, "application_type");
	if (v != NULL) {
		if (!json_is_string(v) || (strcmp(json_string_value(v), "web") != 0 &&
					      strcmp(json_string_value(v), "native") != 0))
			goto bad_meta_app;
		app_type = json_string_value(v);
	}
	json_object_set_new(m, "application_type", json_string(app_type));

	/* Redirect URIs: https or loopback http; native apps may also use a private-use
	 * scheme (RFC 8252 §7.1). Never a fragment. */
	uris = json_object_get(req, "redirect_uris");
	if (!json_is_array(uris) || json_array_size(uris) == 0)
		return bad(err, errlen, OAUTH_INVALID_REDIRECT_URI, "redirect_uris is required");
	if (json_array_size(uris) > DCR_MAX_REDIRECT_URIS)
		return bad(err, errlen, OAUTH_INVALID_REDIRECT_URI, "too many redirect_uris");
	if ((list = json_array()) == NULL)
		return bad(err, errlen, OAUTH_SERVER_ERROR, "out of memory");
	json_object_set_new(m, "redirect_uris", list);
	json_array_foreach(uris, i, v) {
		enum redirect_kind kind = json_is_string(v)
		    ? redirect_uri_classify(json_string_value(v))
		    : REDIRECT_INVALID;

		if (kind == REDIRECT_INVALID ||
		    (kind == REDIRECT_PRIVATE_SCHEME && strcmp(app_type, "native") != 0))
			return bad(err, errlen, OAUTH_INVALID_REDIRECT_URI,
			    "redirect URI %s refused: https, or http on a loopback host, without fragment",
			    json_is_string(v) ? json_string_value(v) : "(not a string)");
		for (k = 0; k < out->n_redirect_uris; k++) {
			if (strcmp(out->redirect_uris[k], json_string_value(v)) == 0)
				break;
		}
		if (k < out->n_redirect_uris)
			continue;
		json_array_append_new(list, json_string(json_string_value(v)));
		out->redirect_uris[out->n_redirect_uris++] =
		    json_string_value(json_array_get(list, json_array_size(list) - 1));
	}

	v = json_object_get(req, "token_endpoint_auth_method");
	out->auth_method = "client_secret_basic"; /* RFC 7591 §2 default */
	if (v != NULL) {
		for (k = 0; methods[k] != NULL; k++) {
			if (json_is_string(v) && strcmp(json_string_value(v), methods[k]) == 0)
				break;
		}
		if (methods[k] == NULL)
			return bad(err, errlen, meta,
			    "token_endpoint_auth_method must be none, client_secret_basic, "
			    "client_secret_post or private_key_jwt");
		out->auth_method = methods[k];
	}
	out->confidential = strcmp(out->auth_method, "none") != 0;
	json_object_set_new(m, "token_endpoint_auth_method", json_string(out->auth_method));
	if (keys(req, m, out, err, errlen) != 0)
		return OAUTH_INVALID_CLIENT_METADATA;

	if (string_list(req, "grant_types", grants, def_grants, &list) != 0) {
		json_decref(list);
		return bad(err, errlen, meta,
		    "grant_types may be authorization_code and refresh_token");
	}
	json_object_set_new(m, "grant_types", list);
	if (!has(list, "authorization_code"))
		return bad(err, errlen, meta, "grant_types must include authorization_code");
	snprintf(out->grant_types, sizeof(out->grant_types), "authorization_code%s",
	    has(list, "refresh_token") ? " refresh_token" : "");
	if (string_list(req, "response_types", responses, responses, &list) != 0) {
		json_decref(list);
		return bad(err, errlen, meta, "response_types may only be code");
	}
	json_object_set_new(m, "response_types", list);

	if (copy_string(req, m, "client_name", DCR_MAX_NAME) != 0 ||
	    copy_string(req, m, "software_id", DCR_MAX_NAME) != 0 ||
	    copy_string(req, m, "software_version", DCR_MAX_NAME) != 0)
		return bad(err, errlen, meta, "client_name, software_id and software_version are "
					      "strings of 1-200 characters");
	if (copy_https_url(req, m, "client_uri") != 0 || copy_https_url(req, m, "logo_uri") != 0 ||
	    copy_https_url(req, m, "tos_uri") != 0 || copy_https_url(req, m, "policy_uri") != 0)
		return bad(err, errlen, meta,
		    "client_uri, logo_uri, tos_uri and policy_uri must be https URLs");
	v = json_object_get(req, "scope");
	if (v != NULL) {
		if (!json_is_string(v) || !scope_valid(json_string_value(v)))
			return bad(err, errlen, OAUTH_INVALID_CLIENT_METADATA, "malformed scope");
		json_object_set_new(m, "scope", json_string(json_string_value(v)));
	}
	contacts = json_object_get(req, "contacts");
	if (contacts != NULL) {
		if (!json_is_array(contacts) || json_array_size(contacts) > 10)
			goto bad_contacts;
		json_array_foreach(contacts, i, v) {
			if (!json_is_string(v) || json_string_length(v) == 0 ||
			    json_string_length(v) > 320)
				goto bad_contacts;
		}
		json_object_set_new(m, "contacts", json_deep_copy(contacts));
	}
	out->client_name = json_string_value(json_object_get(m, "client_name"));
	return OAUTH_OK;
bad_meta_app:
	return bad(err, errlen, meta, "application_type must be web or native");
bad_contacts:
	return bad(err, errlen, meta, "contacts must be at most 10 strings");
}
