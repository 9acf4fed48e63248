/* Upstream OpenID Connect identity providers: registration rules, sealed secrets, and the
 * checks every ID token passes. */
#include "config.h"

#include "oauth/upstream.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

#include "jose/b64url.h"
#include "oauth/assertion.h"
#include "oauth/scope.h"
#include "oauth/uri.h"
#include "util/buf.h"

/* What a sealed client secret is bound to: the provider's name, after this prefix. */
#define SECRET_AAD_PREFIX "mcp-authd upstream client secret v1:"

int
upstream_name_ok(const char *name)
{
	size_t n = strlen(name), i;

	if (n == 0 || n > UPSTREAM_NAME_MAX || name[0] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		char ch = name[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-'))
			return 0;
	}
	return 1;
}

int
upstream_claim_name_ok(const char *claim)
{
	size_t n = strlen(claim), i;

	if (n == 0 || n > 64)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)claim[i];

		if (ch <= 0x20 || ch >= 0x7f)
			return 0;
	}
	return 1;
}

static int
secret_aad(const char *name, char *aad, size_t len)
{
	int n = snprintf(aad, len, "%s%s", SECRET_AAD_PREFIX, name);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int
upstream_secret_seal(const struct master_key *mk, const char *name, const char *secret,
    unsigned char **blob, size_t *bloblen)
{
	char aad[SEAL_AAD_MAX];

	*blob = NULL;
	*bloblen = 0;
	if (secret_aad(name, aad, sizeof(aad)) != 0)
		return -1;
	return seal_bytes(mk, aad, (const unsigned char *)secret, strlen(secret), blob, bloblen);
}

int
upstream_secret_open(const struct master_key *mk, const char *name,
    const unsigned char *blob, size_t bloblen, char **secret)
{
	char aad[SEAL_AAD_MAX];
	unsigned char *plain = NULL;
	size_t n = 0;
	char *s;

	*secret = NULL;
	if (secret_aad(name, aad, sizeof(aad)) != 0 ||
	    unseal_bytes(mk, aad, blob, bloblen, &plain, &n) != 0)
		return -1;
	/* A secret is text: a NUL inside would cut it short where it is sent. */
	if (memchr(plain, '\0', n) != NULL || (s = malloc(n + 1)) == NULL) {
		OPENSSL_clear_free(plain, n);
		return -1;
	}
	memcpy(s, plain, n);
	s[n] = '\0';
	OPENSSL_clear_free(plain, n);
	*secret = s;
	return 0;
}

/* Listing first, rewriting after: a statement is not changed under its own cursor. */
struct idp_secret {
	int64_t id;
	char *name;
	unsigned char *enc;
	size_t len;
};

struct idp_secrets {
	struct idp_secret *v;
	size_t n;
};

static int
collect_secret(const struct store_idp *p, void *arg)
{
	struct idp_secrets *all = arg;
	struct idp_secret *grown, *e;

	if (p->client_secret_enc == NULL)
		return 0;
	if ((grown = realloc(all->v, (all->n + 1) * sizeof(*grown))) == NULL)
		return -1;
	all->v = grown;
	e = &all->v[all->n];
	memset(e, 0, sizeof(*e));
	e->id = p->id;
	e->len = p->client_secret_enc_len;
	if ((e->name = strdup(p->name)) == NULL || (e->enc = malloc(e->len)) == NULL) {
		free(e->name);
		return -1;
	}
	memcpy(e->enc, p->client_secret_enc, e->len);
	all->n++;
	return 0;
}

int
upstream_secret_rewrap_within(struct store *st, const struct master_key *old_mk,
    const struct master_key *new_mk, int *count)
{
	struct idp_secrets all = {NULL, 0};
	unsigned char *blob = NULL;
	size_t bloblen = 0, i;
	char *secret = NULL;
	int rc = -1;

	*count = 0;
	if (store_idp_list(st, collect_secret, &all) != STORE_OK)
		goto out;
	for (i = 0; i < all.n; i++) {
		const struct idp_secret *e = &all.v[i];

		if (upstream_secret_open(old_mk, e->name, e->enc, e->len, &secret) != 0 ||
		    upstream_secret_seal(new_mk, e->name, secret, &blob, &bloblen) != 0 ||
		    store_idp_set_secret(st, e->id, blob, bloblen) != STORE_OK)
			goto out;
		OPENSSL_clear_free(secret, strlen(secret));
		free(blob);
		secret = NULL;
		blob = NULL;
	}
	*count = (int)all.n;
	rc = 0;
out:
	if (secret != NULL)
		OPENSSL_clear_free(secret, strlen(secret));
	free(blob);
	for (i = 0; i < all.n; i++) {
		free(all.v[i].name);
		free(all.v[i].enc);
	}
	free(all.v);
	return rc;
}

/* ---- ID tokens ---- */

const char *
upstream_refusal_name(enum upstream_refusal r)
{
	switch (r) {
	case UPSTREAM_OK:
		return "ok";
	case UPSTREAM_MALFORMED:
		return "malformed";
	case UPSTREAM_ALG:
		return "alg";
	case UPSTREAM_UNKNOWN_KID:
		return "unknown_kid";
	case UPSTREAM_SIGNATURE:
		return "signature";
	case UPSTREAM_ISSUER:
		return "iss";
	case UPSTREAM_AUDIENCE:
		return "aud";
	case UPSTREAM_EXPIRED:
		return "exp";
	case UPSTREAM_IAT:
		return "iat";
	case UPSTREAM_NONCE:
		return "nonce";
	case UPSTREAM_SUBJECT:
		return "sub";
	}
	return "?";
}

static enum upstream_refusal
refuse(enum upstream_refusal r, char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "%s", why);
	return r;
}

static enum upstream_refusal
audience_check(const json_t *claims, const char *client_id, char *err, size_t errlen)
{
	const json_t *aud = json_object_get(claims, "aud"), *a;
	const char *azp = json_string_value(json_object_get(claims, "azp"));
	int found = 0;
	size_t i, n = 0;

	if (json_is_string(aud)) {
		found = strcmp(json_string_value(aud), client_id) == 0;
		n = 1;
	} else if (json_is_array(aud)) {
		json_array_foreach(aud, i, a) {
			if (!json_is_string(a))
				return refuse(UPSTREAM_AUDIENCE, err, errlen, "aud holds a non-string");
			if (strcmp(json_string_value(a), client_id) == 0)
				found = 1;
			n++;
		}
	}
	if (!found)
		return refuse(UPSTREAM_AUDIENCE, err, errlen, "the ID token is not for this client (aud)");
	if (json_object_get(claims, "azp") != NULL && (azp == NULL || strcmp(azp, client_id) != 0))
		return refuse(UPSTREAM_AUDIENCE, err, errlen,
		    "the ID token was issued to another party (azp)");
	if (n > 1 && azp == NULL)
		return refuse(UPSTREAM_AUDIENCE, err, errlen,
		    "the ID token has several audiences and no azp");
	return UPSTREAM_OK;
}

static enum upstream_refusal
claims_check(const json_t *claims, const struct upstream_expect *e, char *err, size_t errlen)
{
	const char *iss = json_string_value(json_object_get(claims, "iss"));
	const char *nonce = json_string_value(json_object_get(claims, "nonce"));
	const char *sub = json_string_value(json_object_get(claims, "sub"));
	enum upstream_refusal r;
	int64_t exp, iat;

	if (iss == NULL || strcmp(iss, e->issuer) != 0)
		return refuse(UPSTREAM_ISSUER, err, errlen, "the ID token's iss is not the provider's");
	if ((r = audience_check(claims, e->client_id, err, errlen)) != UPSTREAM_OK)
		return r;
	if (assertion_numeric_date(claims, "exp", &exp) != 0)
		return refuse(UPSTREAM_EXPIRED, err, errlen, "the ID token has no exp");
	if (exp + e->skew <= e->now)
		return refuse(UPSTREAM_EXPIRED, err, errlen, "the ID token has expired");
	if (assertion_numeric_date(claims, "iat", &iat) != 0)
		return refuse(UPSTREAM_IAT, err, errlen, "the ID token has no iat");
	if (iat > e->now + e->skew)
		return refuse(UPSTREAM_IAT, err, errlen, "the ID token was issued in the future");
	if (iat + e->max_age + e->skew < e->now)
		return refuse(UPSTREAM_IAT, err, errlen, "the ID token was issued too long ago");
	if (nonce == NULL || e->nonce == NULL || strcmp(nonce, e->nonce) != 0)
		return refuse(UPSTREAM_NONCE, err, errlen,
		    "the ID token's nonce is not the one this login sent");
	if (sub == NULL || sub[0] == '\0' || strlen(sub) > 255)
		return refuse(UPSTREAM_SUBJECT, err, errlen, "the ID token has no usable sub");
	return UPSTREAM_OK;
}

enum upstream_refusal
upstream_id_token_check(const char *token, const json_t *jwks, const struct upstream_expect *e,
    json_t **claims, char *err, size_t errlen)
{
	enum upstream_refusal r;
	json_t *header = NULL, *payload = NULL;

	*claims = NULL;
	switch (assertion_verify(token, jwks, "the ID token", &header, &payload, err, errlen)) {
	case ASSERTION_OK:
		break;
	case ASSERTION_ALG:
		return UPSTREAM_ALG;
	case ASSERTION_UNKNOWN_KID:
		return UPSTREAM_UNKNOWN_KID;
	case ASSERTION_SIGNATURE:
		return UPSTREAM_SIGNATURE;
	default:
		return UPSTREAM_MALFORMED;
	}
	json_decref(header);
	if ((r = claims_check(payload, e, err, errlen)) != UPSTREAM_OK) {
		json_decref(payload);
		return r;
	}
	*claims = payload;
	return UPSTREAM_OK;
}

/* ---- discovery ---- */

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

/* ---- identity and reach ---- */

void
upstream_identity_clear(struct upstream_identity *id)
{
	if (id == NULL)
		return;
	free(id->subject);
	free(id->email);
	json_decref(id->groups);
	memset(id, 0, sizeof(*id));
}

int
upstream_identity_wants_userinfo(const struct store_idp *p, const json_t *id_claims)
{
	return json_object_get(id_claims, p->claim_user) == NULL ||
	    json_object_get(id_claims, p->claim_email) == NULL ||
	    json_object_get(id_claims, p->claim_groups) == NULL;
}

/* The claim from the ID token, else from userinfo. */
static const json_t *
claim(const json_t *id_claims, const json_t *userinfo, const char *name)
{
	const json_t *v = json_object_get(id_claims, name);

	return v != NULL || userinfo == NULL ? v : json_object_get(userinfo, name);
}

static int
group_ok(const json_t *g)
{
	const char *s = json_string_value(g);

	return s != NULL && s[0] != '\0' && strlen(s) <= UPSTREAM_GROUP_MAX;
}

static int
read_groups(const json_t *v, json_t **out, char *err, size_t errlen)
{
	const json_t *g;
	size_t i;

	*out = json_array();
	if (*out == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_string(v)) {
		if (!group_ok(v))
			goto bad;
		return json_array_append(*out, (json_t *)(uintptr_t)v);
	}
	if (!json_is_array(v) || json_array_size(v) > UPSTREAM_MAX_GROUPS)
		goto bad;
	json_array_foreach(v, i, g) {
		if (!group_ok(g))
			goto bad;
		json_array_append(*out, (json_t *)(uintptr_t)g);
	}
	return 0;
bad:
	json_decref(*out);
	*out = NULL;
	snprintf(err, errlen, "the groups claim is not a list of at most %d group names",
	    UPSTREAM_MAX_GROUPS);
	return -1;
}

int
upstream_identity_read(const struct store_idp *p, const json_t *id_claims,
    const json_t *userinfo, struct upstream_identity *out, char *err, size_t errlen)
{
	const char *sub = json_string_value(json_object_get(id_claims, "sub"));
	const char *user, *email, *info_sub;
	const json_t *verified;

	memset(out, 0, sizeof(*out));
	if (userinfo != NULL) {
		info_sub = json_string_value(json_object_get(userinfo, "sub"));
		if (info_sub == NULL || sub == NULL || strcmp(info_sub, sub) != 0) {
			snprintf(err, errlen, "the userinfo answer is about another subject");
			return -1;
		}
	}
	user = json_string_value(claim(id_claims, userinfo, p->claim_user));
	if (user == NULL || user[0] == '\0' || strlen(user) > 255) {
		snprintf(err, errlen, "the provider did not assert the user claim %s", p->claim_user);
		return -1;
	}
	email = json_string_value(claim(id_claims, userinfo, p->claim_email));
	verified = claim(id_claims, userinfo, "email_verified");
	if ((out->subject = strdup(user)) == NULL ||
	    (email != NULL && strlen(email) <= 320 && (out->email = strdup(email)) == NULL)) {
		snprintf(err, errlen, "out of memory");
		upstream_identity_clear(out);
		return -1;
	}
	out->email_verified = out->email != NULL && json_is_true(verified);
	if (read_groups(claim(id_claims, userinfo, p->claim_groups), &out->groups, err, errlen) != 0) {
		upstream_identity_clear(out);
		return -1;
	}
	return 0;
}

static int
in_groups(const json_t *groups, const char *name)
{
	const json_t *g;
	size_t i;

	json_array_foreach(groups, i, g) {
		if (strcmp(json_string_value(g), name) == 0)
			return 1;
	}
	return 0;
}

int
upstream_groups_allowed(const char *allowed, const json_t *groups)
{
	const json_t *g;
	size_t i;

	if (allowed == NULL)
		return 1;
	json_array_foreach(groups, i, g) {
		if (scope_has(allowed, json_string_value(g)))
			return 1;
	}
	return 0;
}

char *
upstream_reach_new(const struct upstream_map *maps, size_t n, const json_t *groups,
    const char *resource_uri, const char *resource_scopes, int *reachable)
{
	struct buf b;
	char *copy, *tok, *save = NULL, *out;
	size_t i;

	*reachable = 0;
	if (n == 0) {
		*reachable = 1;
		return strdup(resource_scopes);
	}
	for (i = 0; i < n; i++) {
		if (strcmp(maps[i].resource_uri, resource_uri) == 0 && in_groups(groups, maps[i].group))
			*reachable = 1;
	}
	if (!*reachable)
		return NULL;
	/* Each scope of the resource that some mapping of the groups allows, in the
	 * resource's order. */
	if ((copy = strdup(resource_scopes)) == NULL)
		return NULL;
	buf_init(&b, 0);
	for (tok = strtok_r(copy, " ", &save); tok != NULL; tok = strtok_r(NULL, " ", &save)) {
		for (i = 0; i < n; i++) {
			if (strcmp(maps[i].resource_uri, resource_uri) == 0 &&
			    in_groups(groups, maps[i].group) &&
			    (maps[i].scopes == NULL || scope_has(maps[i].scopes, tok))) {
				if ((b.len > 0 && buf_puts(&b, " ") != BUF_OK) || buf_puts(&b, tok) != BUF_OK)
					goto oom;
				break;
			}
		}
	}
	free(copy);
	if ((out = strdup(b.data != NULL ? b.data : "")) == NULL)
		goto oom_freed;
	buf_free(&b);
	return out;
oom:
	free(copy);
oom_freed:
	buf_free(&b);
	return NULL;
}

/* ---- talking to the provider ---- */

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

int
upstream_redeem(const struct upstream_metadata *md, const struct store_idp *p,
    const char *secret, const char *code, const char *verifier, const char *redirect_uri,
    const struct net_policy *np, char **id_token, char **access_token, char *err,
    size_t errlen)
{
	struct net_request req = {.url = md->token_endpoint};
	struct net_response r;
	struct buf form;
	char why[200], *auth = NULL;
	json_t *doc = NULL;
	const char *v;
	int rc = -1;

	*id_token = *access_token = NULL;
	memset(&r, 0, sizeof(r));
	buf_init(&form, 0);
	if (net_form_pair(&form, "grant_type", "authorization_code") != BUF_OK ||
	    net_form_pair(&form, "code", code) != BUF_OK ||
	    net_form_pair(&form, "redirect_uri", redirect_uri) != BUF_OK ||
	    net_form_pair(&form, "code_verifier", verifier) != BUF_OK)
		goto oom;
	if (secret == NULL || md->auth_post) {
		if (net_form_pair(&form, "client_id", p->client_id) != BUF_OK ||
		    (secret != NULL && net_form_pair(&form, "client_secret", secret) != BUF_OK))
			goto oom;
	} else if ((auth = net_basic_auth_new(p->client_id, secret)) == NULL)
		goto oom;
	req.form = form.data;
	req.authorization = auth;
	if (net_fetch(&req, np, &r, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "cannot reach the provider's token endpoint: %s", why);
		goto out;
	}
	doc = json_loadb(r.body, r.len, JSON_REJECT_DUPLICATES, NULL);
	if (r.status != 200) {
		v = json_string_value(json_object_get(doc, "error"));
		snprintf(err, errlen, "the provider's token endpoint answered %ld%s%.60s", r.status,
		    v ? ": " : "", v ? v : "");
		goto out;
	}
	if (!json_is_object(doc) || (v = json_string_value(json_object_get(doc, "id_token"))) == NULL) {
		snprintf(err, errlen, "the provider's token answer has no id_token");
		goto out;
	}
	if ((*id_token = strdup(v)) == NULL)
		goto oom;
	v = json_string_value(json_object_get(doc, "access_token"));
	if (v != NULL && (*access_token = strdup(v)) == NULL)
		goto oom;
	rc = 0;
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
out:
	if (rc != 0) {
		free(*id_token);
		free(*access_token);
		*id_token = *access_token = NULL;
	}
	if (form.data != NULL)
		OPENSSL_cleanse(form.data, form.len);
	buf_free(&form);
	if (auth != NULL)
		OPENSSL_clear_free(auth, strlen(auth));
	json_decref(doc);
	net_response_clear(&r);
	return rc;
}

int
upstream_userinfo(const struct upstream_metadata *md, const char *access_token,
    const struct net_policy *np, json_t **out, char *err, size_t errlen)
{
	struct net_request req = {.url = md->userinfo_endpoint};
	struct net_response r;
	char why[200], auth[4096];
	int rc = -1;

	*out = NULL;
	if (md->userinfo_endpoint == NULL || access_token == NULL) {
		snprintf(err, errlen, "the provider has no userinfo endpoint to ask for missing claims");
		return -1;
	}
	if (snprintf(auth, sizeof(auth), "Bearer %s", access_token) >= (int)sizeof(auth)) {
		snprintf(err, errlen, "the provider's access token is too long");
		return -1;
	}
	req.authorization = auth;
	if (net_fetch(&req, np, &r, why, sizeof(why)) != 0)
		snprintf(err, errlen, "cannot reach the provider's userinfo endpoint: %s", why);
	else if (r.status != 200)
		snprintf(err, errlen, "the provider's userinfo endpoint answered %ld", r.status);
	else if ((*out = json_loadb(r.body, r.len, JSON_REJECT_DUPLICATES, NULL)) == NULL ||
	    !json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		snprintf(err, errlen, "the provider's userinfo answer is not a JSON object");
	} else
		rc = 0;
	OPENSSL_cleanse(auth, sizeof(auth));
	net_response_clear(&r);
	return rc;
}
