/* Upstream providers: discovery, JWKS, and the per-process cache of both documents. */
#include "config.h"

#include "oauth/upstream.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "oauth/uri.h"

void
upstream_metadata_clear(struct upstream_metadata *m)
{
	if (m == NULL)
		return;
	free(m->issuer);
	free(m->authorization_endpoint);
	free(m->token_endpoint);
	free(m->jwks_uri);
	free(m->userinfo_endpoint);
	memset(m, 0, sizeof(*m));
}

/* An endpoint member: an absolute https URL (http too when allowed), no fragment. */
static int
endpoint(const json_t *doc, const char *name, int required, int allow_http, char **out,
    char *err, size_t errlen)
{
	const char *v = json_string_value(json_object_get(doc, name));
	struct uri_http u;

	*out = NULL;
	if (v == NULL) {
		if (!required)
			return 0;
		snprintf(err, errlen, "the discovery document has no %s", name);
		return -1;
	}
	if (strlen(v) > 2048 || uri_parse_http(v, strlen(v), &u) != 0 || u.fragment != NULL ||
	    u.has_userinfo ||
	    !(strncmp(v, "https://", 8) == 0 || (allow_http && strncmp(v, "http://", 7) == 0))) {
		snprintf(err, errlen, "the discovery document's %s is not an %s URL", name,
		    allow_http ? "http(s)" : "https");
		return -1;
	}
	if ((*out = strdup(v)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* Does the listed member (absent: yes) hold one of the wanted strings? */
static int
lists_any(const json_t *doc, const char *name, const char *const *wanted, int *listed)
{
	const json_t *list = json_object_get(doc, name), *v;
	size_t i, k;

	*listed = list != NULL;
	if (list == NULL)
		return 1;
	json_array_foreach(list, i, v) {
		for (k = 0; wanted[k] != NULL; k++) {
			if (json_is_string(v) && strcmp(json_string_value(v), wanted[k]) == 0)
				return 1;
		}
	}
	return 0;
}

int
upstream_metadata_parse(const json_t *doc, const char *issuer, int allow_http,
    struct upstream_metadata *out, char *err, size_t errlen)
{
	static const char *const s256[] = {"S256", NULL};
	static const char *const algs[] = {"RS256", "ES256", "EdDSA", NULL};
	static const char *const basic[] = {"client_secret_basic", NULL};
	static const char *const post[] = {"client_secret_post", NULL};
	const char *iss = json_string_value(json_object_get(doc, "issuer"));
	int listed;

	memset(out, 0, sizeof(*out));
	if (errlen > 0)
		err[0] = '\0';
	if (!json_is_object(doc)) {
		snprintf(err, errlen, "the discovery document is not a JSON object");
		return -1;
	}
	if (iss == NULL || strcmp(iss, issuer) != 0) {
		snprintf(err, errlen, "the discovery document names another issuer");
		return -1;
	}
	if ((out->issuer = strdup(issuer)) == NULL ||
	    endpoint(doc, "authorization_endpoint", 1, allow_http, &out->authorization_endpoint,
		err, errlen) != 0 ||
	    endpoint(doc, "token_endpoint", 1, allow_http, &out->token_endpoint, err, errlen) != 0 ||
	    endpoint(doc, "jwks_uri", 1, allow_http, &out->jwks_uri, err, errlen) != 0 ||
	    endpoint(doc, "userinfo_endpoint", 0, allow_http, &out->userinfo_endpoint, err,
		errlen) != 0)
		goto fail;
	if (!lists_any(doc, "code_challenge_methods_supported", s256, &listed)) {
		snprintf(err, errlen, "the provider does not support PKCE with S256");
		goto fail;
	}
	if (!lists_any(doc, "id_token_signing_alg_values_supported", algs, &listed)) {
		snprintf(err, errlen, "the provider signs ID tokens with none of RS256, ES256, EdDSA");
		goto fail;
	}
	if (!lists_any(doc, "token_endpoint_auth_methods_supported", basic, &listed)) {
		if (!lists_any(doc, "token_endpoint_auth_methods_supported", post, &listed)) {
			snprintf(err, errlen, "the provider accepts neither client_secret_basic nor "
					      "client_secret_post");
			goto fail;
		}
		out->auth_post = 1;
	}
	return 0;
fail:
	if (err[0] == '\0')
		snprintf(err, errlen, "out of memory");
	upstream_metadata_clear(out);
	return -1;
}

void
upstream_net_policy(const struct store_idp *p, int allow_http, struct net_policy *out)
{
	memset(out, 0, sizeof(*out));
	out->allow_private = p->allow_private;
	out->allow_http = allow_http;
	out->max_bytes = UPSTREAM_MAX_BYTES;
	out->timeout_ms = UPSTREAM_TIMEOUT_MS;
}

/* The per-process cache: a few providers, each a document by URL. */
#define CACHE_SLOTS 32

struct cached_doc {
	char *url;
	json_t *doc;             /* NULL: the last fetch failed ... */
	char *error;             /* ... and this is why */
	int64_t fetched_at;
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cached_doc cache[CACHE_SLOTS];

static int64_t
now_s(void)
{
	return (int64_t)time(NULL);
}

/* The cached document for url (a new reference) when younger than max_age. */
static json_t *
cache_get(const char *url, int64_t max_age, int64_t *fetched_at)
{
	json_t *doc = NULL;
	size_t i;

	pthread_mutex_lock(&cache_lock);
	for (i = 0; i < CACHE_SLOTS; i++) {
		if (cache[i].url != NULL && strcmp(cache[i].url, url) == 0) {
			if (cache[i].doc == NULL)
				break;
			if (fetched_at != NULL)
				*fetched_at = cache[i].fetched_at;
			if (now_s() - cache[i].fetched_at < max_age)
				doc = json_incref(cache[i].doc);
			break;
		}
	}
	pthread_mutex_unlock(&cache_lock);
	return doc;
}

/* Keep doc for url, or (doc NULL) that fetching it failed with error. */
static void
cache_put(const char *url, json_t *doc, const char *error)
{
	size_t i, slot = 0;
	char *copy = strdup(url), *why = error != NULL ? strdup(error) : NULL;

	if (copy == NULL || (error != NULL && why == NULL)) {
		free(copy);
		free(why);
		return;
	}
	pthread_mutex_lock(&cache_lock);
	for (i = 0; i < CACHE_SLOTS; i++) {
		if (cache[i].url != NULL && strcmp(cache[i].url, url) == 0) {
			slot = i;
			break;
		}
		if (cache[i].url == NULL || cache[i].fetched_at < cache[slot].fetched_at)
			slot = i;
	}
	/* A failure does not replace a good document: it stays until it is refetched. */
	if (doc == NULL && cache[slot].url != NULL && strcmp(cache[slot].url, url) == 0 &&
	    cache[slot].doc != NULL) {
		pthread_mutex_unlock(&cache_lock);
		free(copy);
		free(why);
		return;
	}
	free(cache[slot].url);
	free(cache[slot].error);
	json_decref(cache[slot].doc);
	cache[slot].url = copy;
	cache[slot].doc = json_incref(doc);
	cache[slot].error = why;
	cache[slot].fetched_at = now_s();
	pthread_mutex_unlock(&cache_lock);
}

/* Why fetching url failed, when that happened within the cool-down (a new string). */
static char *
cache_failure(const char *url)
{
	char *why = NULL;
	size_t i;

	pthread_mutex_lock(&cache_lock);
	for (i = 0; i < CACHE_SLOTS; i++) {
		if (cache[i].url != NULL && strcmp(cache[i].url, url) == 0) {
			if (cache[i].doc == NULL && cache[i].error != NULL &&
			    now_s() - cache[i].fetched_at < UPSTREAM_JWKS_COOLDOWN)
				why = strdup(cache[i].error);
			break;
		}
	}
	pthread_mutex_unlock(&cache_lock);
	return why;
}

void
upstream_cache_clear(void)
{
	size_t i;

	pthread_mutex_lock(&cache_lock);
	for (i = 0; i < CACHE_SLOTS; i++) {
		free(cache[i].url);
		free(cache[i].error);
		json_decref(cache[i].doc);
	}
	memset(cache, 0, sizeof(cache));
	pthread_mutex_unlock(&cache_lock);
}

/* GET url: a JSON object answered with 200. */
static int
get_json(const char *url, const struct net_policy *np, const char *what, json_t **out, char *err,
    size_t errlen)
{
	const struct net_request req = {.url = url};
	struct net_response r;
	char why[200];
	int rc = -1;

	*out = NULL;
	if (net_fetch(&req, np, &r, why, sizeof(why)) != 0)
		snprintf(err, errlen, "cannot fetch the provider's %s: %s", what, why);
	else if (r.status != 200)
		snprintf(err, errlen, "the provider's %s answered %ld", what, r.status);
	else if (!net_response_is_json(&r))
		snprintf(err, errlen, "the provider's %s is not served as JSON", what);
	else if ((*out = json_loadb(r.body, r.len, JSON_REJECT_DUPLICATES, NULL)) == NULL ||
	    !json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		snprintf(err, errlen, "the provider's %s is not a JSON object", what);
	} else
		rc = 0;
	net_response_clear(&r);
	return rc;
}

int
upstream_discover(const char *issuer, const struct net_policy *np,
    struct upstream_metadata *out, char *err, size_t errlen)
{
	char url[2200];
	size_t n = strlen(issuer);
	json_t *doc;
	int rc;

	memset(out, 0, sizeof(*out));
	/* OpenID Connect Discovery §4: the well-known path appended to the issuer. */
	if (snprintf(url, sizeof(url), "%.*s/.well-known/openid-configuration",
		(int)(n > 0 && issuer[n - 1] == '/' ? n - 1 : n), issuer) >= (int)sizeof(url)) {
		snprintf(err, errlen, "the issuer is too long");
		return -1;
	}
	if ((doc = cache_get(url, UPSTREAM_CACHE_TTL, NULL)) == NULL) {
		if (get_json(url, np, "discovery document", &doc, err, errlen) != 0)
			return -1;
		/* Only a document that passes is kept. */
		if ((rc = upstream_metadata_parse(doc, issuer, np->allow_http, out, err, errlen)) == 0)
			cache_put(url, doc, NULL);
		json_decref(doc);
		return rc;
	}
	rc = upstream_metadata_parse(doc, issuer, np->allow_http, out, err, errlen);
	json_decref(doc);
	return rc;
}

int
upstream_jwks_cached(const char *jwks_uri, int refetch, json_t **out, char *err, size_t errlen)
{
	int64_t fetched_at = 0;
	json_t *doc = cache_get(jwks_uri, UPSTREAM_CACHE_TTL, &fetched_at);
	char *why;

	*out = NULL;
	if (doc != NULL) {
		if (!refetch || now_s() - fetched_at < UPSTREAM_JWKS_COOLDOWN) {
			*out = doc;
			return 1;
		}
		json_decref(doc);
		return 0;
	}
	if ((why = cache_failure(jwks_uri)) == NULL)
		return 0;
	snprintf(err, errlen, "%s", why);
	free(why);
	return 1;
}

int
upstream_jwks(const char *jwks_uri, const struct net_policy *np, int refetch, json_t **out,
    char *err, size_t errlen)
{
	int64_t fetched_at = 0;
	json_t *doc;

	*out = NULL;
	doc = cache_get(jwks_uri, UPSTREAM_CACHE_TTL, &fetched_at);
	if (doc != NULL && (!refetch || now_s() - fetched_at < UPSTREAM_JWKS_COOLDOWN)) {
		*out = doc;
		return 0;
	}
	json_decref(doc);
	if (get_json(jwks_uri, np, "JWKS", &doc, err, errlen) != 0) {
		cache_put(jwks_uri, NULL, err);
		return -1;
	}
	if (!json_is_array(json_object_get(doc, "keys"))) {
		json_decref(doc);
		snprintf(err, errlen, "the JWKS has no keys");
		cache_put(jwks_uri, NULL, err);
		return -1;
	}
	cache_put(jwks_uri, doc, NULL);
	*out = doc;
	return 0;
}
