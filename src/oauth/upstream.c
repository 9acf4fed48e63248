/* Upstream OpenID Connect identity providers: registration rules, sealed client secrets.
 *
 * The rest of the module, all behind oauth/upstream.h: upstream_discovery.c (discovery,
 * JWKS, their cache), upstream_idtoken.c (ID token checks), upstream_identity.c (claim
 * and group mapping), upstream_token.c (token and userinfo endpoints). */
#include "config.h"

#include "oauth/upstream.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

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
