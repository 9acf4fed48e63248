/* The token requests of a connection to a third party, and what its answers may say. */
#include "config.h"

#include "oauth/thirdparty.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "oauth/scope.h"
#include "util/buf.h"

static void
wipe_free(char *s)
{
	if (s != NULL)
		OPENSSL_clear_free(s, strlen(s));
}

void
thirdparty_tokens_clear(struct thirdparty_tokens *t)
{
	wipe_free(t->access_token);
	wipe_free(t->refresh_token);
	free(t->scope);
	memset(t, 0, sizeof(*t));
}

/* A token we keep: 1..THIRDPARTY_TOKEN_MAX printable ASCII characters (RFC 6749 §A.12,
 * §A.17: VSCHAR), so that what is handed on is exactly what the third party sent. */
static int
token_ok(const char *v)
{
	size_t i, n;

	if (v == NULL || (n = strlen(v)) == 0 || n > THIRDPARTY_TOKEN_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
			return 0;
	}
	return 1;
}

/* The error codes of a token endpoint (RFC 6749 §5.2, RFC 8707 §2, RFC 7009 §2.2.1) and
 * the two of the authorization endpoint that some use there too. */
static int
error_known(const char *s)
{
	static const char *const known[] = {"invalid_request", "invalid_client", "invalid_grant",
	    "unauthorized_client", "unsupported_grant_type", "invalid_scope", "invalid_target",
	    "unsupported_token_type", "server_error", "temporarily_unavailable"};
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (strcmp(s, known[i]) == 0)
			return 1;
	}
	return 0;
}

enum thirdparty_outcome
thirdparty_parse(long status, const char *body, size_t len, struct thirdparty_tokens *out,
    char *err, size_t errlen)
{
	json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL), *v;
	const char *s;
	enum thirdparty_outcome rc = THIRDPARTY_FAILED;

	memset(out, 0, sizeof(*out));
	if (status != 200) {
		s = json_string_value(json_object_get(doc, "error"));
		/* RFC 6749 §5.2: invalid_grant is the one that says the grant itself is
		 * dead (expired, revoked, reused); anything else may be ours or theirs to
		 * mend, and connecting again would not help. */
		if ((status == 400 || status == 401) && s != NULL && strcmp(s, "invalid_grant") == 0)
			rc = THIRDPARTY_REFUSED;
		/* The message goes to the log and the audit: it names the error only when it
		 * is a code the RFCs define, never text of the third party's choosing (which
		 * may repeat the refresh token we sent). */
		snprintf(err, errlen, "the third party answered %ld%s%s", status,
		    s == NULL ? "" : error_known(s) ? ": " : " with an error of its own",
		    s != NULL && error_known(s) ? s : "");
		goto out;
	}
	if (!json_is_object(doc)) {
		snprintf(err, errlen, "the third party's token answer is not a JSON object");
		goto out;
	}
	s = json_string_value(json_object_get(doc, "access_token"));
	if (!token_ok(s)) {
		snprintf(err, errlen, "the third party's answer has no usable access_token");
		goto out;
	}
	if ((out->access_token = strdup(s)) == NULL)
		goto oom;
	if ((v = json_object_get(doc, "refresh_token")) != NULL && !json_is_null(v)) {
		if (!token_ok(json_string_value(v))) {
			snprintf(err, errlen, "the third party's refresh_token is malformed");
			goto out;
		}
		if ((out->refresh_token = strdup(json_string_value(v))) == NULL)
			goto oom;
	}
	if ((v = json_object_get(doc, "expires_in")) != NULL && !json_is_null(v)) {
		/* Some send it as a string of digits; anything else is a malformed answer. */
		json_int_t n = -1;

		if (json_is_integer(v))
			n = json_integer_value(v);
		else if (json_is_string(v) && strspn(json_string_value(v), "0123456789") ==
		    strlen(json_string_value(v)) && strlen(json_string_value(v)) - 1 < 10)
			n = strtoll(json_string_value(v), NULL, 10);
		if (n < 0 || n > 10LL * 365 * 86400) {
			snprintf(err, errlen, "the third party's expires_in is malformed");
			goto out;
		}
		/* 0 says the token is already over; kept as 0 it would read "not said", a
		 * token handed out for ever and never refreshed. */
		out->expires_in = n == 0 ? 1 : (int64_t)n;
	}
	if ((v = json_object_get(doc, "scope")) != NULL && !json_is_null(v)) {
		s = json_string_value(v);
		/* Some third parties join scopes with commas: kept as said, if printable. */
		if (s == NULL || strlen(s) > 2048 || (s[0] != '\0' && !token_ok(s) &&
		    !scope_valid(s))) {
			snprintf(err, errlen, "the third party's scope is malformed");
			goto out;
		}
		if ((out->scope = strdup(s)) == NULL)
			goto oom;
	}
	s = json_string_value(json_object_get(doc, "token_type"));
	out->bearer = s != NULL && strcasecmp(s, "bearer") == 0;
	rc = THIRDPARTY_OK;
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
out:
	if (rc != THIRDPARTY_OK)
		thirdparty_tokens_clear(out);
	json_decref(doc);
	return rc;
}

/* POST form (the grant's own pairs) to url, authenticated as the client; the answer is
 * left in r. */
static int
post(const struct thirdparty_client *tc, const char *url, struct buf *form,
    const struct net_policy *np, struct net_response *r, char *err, size_t errlen)
{
	struct net_request req = {.url = url};
	char why[200], *auth = NULL;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (tc->secret == NULL) {
		if (net_form_pair(form, "client_id", tc->client_id) != BUF_OK)
			goto oom;
	} else if ((auth = net_basic_auth_new(tc->client_id, tc->secret)) == NULL)
		goto oom;
	req.form = form->data;
	req.authorization = auth;
	if (net_fetch(&req, np, r, why, sizeof(why)) != 0)
		snprintf(err, errlen, "cannot reach the third party: %s", why);
	else
		rc = 0;
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
out:
	if (auth != NULL)
		OPENSSL_clear_free(auth, strlen(auth));
	return rc;
}

static enum thirdparty_outcome
token_request(const struct thirdparty_client *tc, struct buf *form, const struct net_policy *np,
    struct thirdparty_tokens *out, char *err, size_t errlen)
{
	struct net_response r;
	enum thirdparty_outcome rc = THIRDPARTY_FAILED;

	memset(out, 0, sizeof(*out));
	if (tc->resource != NULL && net_form_pair(form, "resource", tc->resource) != BUF_OK) {
		snprintf(err, errlen, "out of memory");
		return THIRDPARTY_FAILED;
	}
	if (post(tc, tc->token_url, form, np, &r, err, errlen) == 0)
		rc = thirdparty_parse(r.status, r.body, r.len, out, err, errlen);
	if (r.body != NULL)
		OPENSSL_cleanse(r.body, r.len);
	net_response_clear(&r);
	return rc;
}

static void
form_wipe(struct buf *form)
{
	if (form->data != NULL)
		OPENSSL_cleanse(form->data, form->len);
	buf_free(form);
}

enum thirdparty_outcome
thirdparty_redeem(const struct thirdparty_client *tc, const char *code, const char *verifier,
    const char *redirect_uri, const struct net_policy *np, struct thirdparty_tokens *out,
    char *err, size_t errlen)
{
	struct buf form;
	enum thirdparty_outcome rc = THIRDPARTY_FAILED;

	memset(out, 0, sizeof(*out));
	buf_init(&form, 0);
	if (net_form_pair(&form, "grant_type", "authorization_code") != BUF_OK ||
	    net_form_pair(&form, "code", code) != BUF_OK ||
	    net_form_pair(&form, "redirect_uri", redirect_uri) != BUF_OK ||
	    net_form_pair(&form, "code_verifier", verifier) != BUF_OK)
		snprintf(err, errlen, "out of memory");
	else
		rc = token_request(tc, &form, np, out, err, errlen);
	form_wipe(&form);
	return rc;
}

enum thirdparty_outcome
thirdparty_refresh(const struct thirdparty_client *tc, const char *refresh_token,
    const struct net_policy *np, struct thirdparty_tokens *out, char *err, size_t errlen)
{
	struct buf form;
	enum thirdparty_outcome rc = THIRDPARTY_FAILED;

	memset(out, 0, sizeof(*out));
	buf_init(&form, 0);
	if (net_form_pair(&form, "grant_type", "refresh_token") != BUF_OK ||
	    net_form_pair(&form, "refresh_token", refresh_token) != BUF_OK)
		snprintf(err, errlen, "out of memory");
	else
		rc = token_request(tc, &form, np, out, err, errlen);
	form_wipe(&form);
	return rc;
}

int
thirdparty_revoke(const struct thirdparty_client *tc, const char *token, const char *hint,
    const struct net_policy *np, char *err, size_t errlen)
{
	struct net_response r;
	struct buf form;
	int rc = -1;

	memset(&r, 0, sizeof(r));
	if (tc->revoke_url == NULL)
		return 0;
	buf_init(&form, 0);
	if (net_form_pair(&form, "token", token) != BUF_OK ||
	    net_form_pair(&form, "token_type_hint", hint) != BUF_OK)
		snprintf(err, errlen, "out of memory");
	else if (post(tc, tc->revoke_url, &form, np, &r, err, errlen) == 0) {
		if (r.status == 200)
			rc = 0;
		else
			snprintf(err, errlen, "the third party's revocation endpoint answered %ld",
			    r.status);
	}
	form_wipe(&form);
	net_response_clear(&r);
	return rc;
}
