/* The row structs of store.h, shared by both backends: releasing what a getter filled. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "store/cache.h"

void
store_key_clear(struct store_key *k)
{
	if (k == NULL)
		return;
	free(k->kid);
	free(k->alg);
	free(k->state);
	free(k->public_jwk);
	if (k->private_enc != NULL) {
		memset(k->private_enc, 0, k->private_enc_len);
		free(k->private_enc);
	}
	memset(k, 0, sizeof(*k));
}

void
store_user_clear(struct store_user *u)
{
	if (u == NULL)
		return;
	free(u->name);
	free(u->password_hash);
	free(u->idp);
	free(u->idp_sub);
	free(u->email);
	free(u->idp_groups);
	memset(u, 0, sizeof(*u));
}

void
store_idp_clear(struct store_idp *p)
{
	if (p == NULL)
		return;
	free(p->name);
	free(p->issuer);
	free(p->client_id);
	free(p->client_secret_enc);
	free(p->display_name);
	free(p->scopes);
	free(p->claim_user);
	free(p->claim_email);
	free(p->claim_groups);
	free(p->allowed_groups);
	free(p->jwks_uri);
	free(p->jwks);
	free(p->id_jag_clients);
	memset(p, 0, sizeof(*p));
}

void
store_credential_clear(struct store_credential *c)
{
	if (c == NULL)
		return;
	free(c->name);
	if (c->wrapped_key != NULL)
		OPENSSL_clear_free(c->wrapped_key, c->wrapped_key_len);
	if (c->secret_enc != NULL)
		OPENSSL_clear_free(c->secret_enc, c->secret_enc_len);
	free(c->fingerprint);
	memset(c, 0, sizeof(*c));
}

void
store_connection_clear(struct store_connection *c)
{
	if (c == NULL)
		return;
	free(c->name);
	free(c->authorize_url);
	free(c->token_url);
	free(c->revoke_url);
	free(c->client_id);
	if (c->wrapped_key != NULL)
		OPENSSL_clear_free(c->wrapped_key, c->wrapped_key_len);
	if (c->secret_enc != NULL)
		OPENSSL_clear_free(c->secret_enc, c->secret_enc_len);
	free(c->scopes);
	free(c->resource);
	memset(c, 0, sizeof(*c));
}

void
store_user_connection_clear(struct store_user_connection *uc)
{
	if (uc == NULL)
		return;
	free(uc->connection);
	if (uc->wrapped_key != NULL)
		OPENSSL_clear_free(uc->wrapped_key, uc->wrapped_key_len);
	if (uc->tokens_enc != NULL)
		OPENSSL_clear_free(uc->tokens_enc, uc->tokens_enc_len);
	free(uc->fingerprint);
	free(uc->scope);
	memset(uc, 0, sizeof(*uc));
}

void
store_connect_state_clear(struct store_connect_state *s)
{
	if (s == NULL)
		return;
	free(s->connection);
	if (s->code_verifier != NULL)
		OPENSSL_clear_free(s->code_verifier, strlen(s->code_verifier));
	memset(s, 0, sizeof(*s));
}

void
store_resource_clear(struct store_resource *r)
{
	if (r == NULL)
		return;
	free(r->uri);
	free(r->uri_key);
	free(r->name);
	free(r->scopes);
	free(r->default_scopes);
	memset(r, 0, sizeof(*r));
}

void
store_client_clear(struct store_client *c)
{
	size_t i;

	if (c == NULL)
		return;
	free(c->client_id);
	free(c->name);
	free(c->auth_method);
	free(c->secret_hash);
	free(c->grant_types);
	free(c->acts_for_uri);
	free(c->default_resource);
	free(c->origin);
	free(c->metadata);
	free(c->remote_addr);
	free(c->jwks);
	free(c->jwks_uri);
	for (i = 0; i < c->n_redirect_uris; i++)
		free(c->redirect_uris[i]);
	free(c->redirect_uris);
	memset(c, 0, sizeof(*c));
}

void
store_code_clear(struct store_code *c)
{
	if (c == NULL)
		return;
	free(c->redirect_uri);
	free(c->code_challenge);
	free(c->resources);
	free(c->scope);
	free(c->family_id);
	memset(c, 0, sizeof(*c));
}

void
store_family_clear(struct store_family *f)
{
	if (f == NULL)
		return;
	free(f->family_id);
	free(f->client_id);
	free(f->user_name);
	free(f->resources);
	free(f->scope);
	free(f->user_idp);
	memset(f, 0, sizeof(*f));
}

void
store_refresh_clear(struct store_refresh *r)
{
	if (r == NULL)
		return;
	free(r->family_id);
	free(r->scope);
	store_family_clear(&r->family);
	memset(r, 0, sizeof(*r));
}

/* strdup that keeps NULL and notes a failure in *oom. */
static char *
dup_or_null(const char *s, int *oom)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*oom = 1;
	return d;
}

int
store_resource_copy(struct store_resource *dst, const struct store_resource *src)
{
	int oom = 0;

	*dst = *src;
	dst->uri = dup_or_null(src->uri, &oom);
	dst->uri_key = dup_or_null(src->uri_key, &oom);
	dst->name = dup_or_null(src->name, &oom);
	dst->scopes = dup_or_null(src->scopes, &oom);
	dst->default_scopes = dup_or_null(src->default_scopes, &oom);
	if (oom) {
		store_resource_clear(dst);
		return STORE_ERROR;
	}
	return STORE_OK;
}

int
store_client_copy(struct store_client *dst, const struct store_client *src, int with_uris)
{
	size_t i;
	int oom = 0;

	*dst = *src;
	dst->redirect_uris = NULL;
	dst->n_redirect_uris = 0;
	dst->client_id = dup_or_null(src->client_id, &oom);
	dst->name = dup_or_null(src->name, &oom);
	dst->auth_method = dup_or_null(src->auth_method, &oom);
	dst->secret_hash = dup_or_null(src->secret_hash, &oom);
	dst->grant_types = dup_or_null(src->grant_types, &oom);
	dst->acts_for_uri = dup_or_null(src->acts_for_uri, &oom);
	dst->default_resource = dup_or_null(src->default_resource, &oom);
	dst->origin = dup_or_null(src->origin, &oom);
	dst->metadata = dup_or_null(src->metadata, &oom);
	dst->remote_addr = dup_or_null(src->remote_addr, &oom);
	dst->jwks = dup_or_null(src->jwks, &oom);
	dst->jwks_uri = dup_or_null(src->jwks_uri, &oom);
	if (with_uris && src->n_redirect_uris > 0 && !oom) {
		if ((dst->redirect_uris = calloc(src->n_redirect_uris, sizeof(char *))) == NULL)
			oom = 1;
		for (i = 0; !oom && i < src->n_redirect_uris; i++) {
			dst->redirect_uris[i] = dup_or_null(src->redirect_uris[i], &oom);
			dst->n_redirect_uris = i + 1;
		}
	}
	if (oom) {
		store_client_clear(dst);
		return STORE_ERROR;
	}
	return STORE_OK;
}

void
store_upstream_login_clear(struct store_upstream_login *l)
{
	if (l == NULL)
		return;
	free(l->idp);
	free(l->nonce);
	if (l->code_verifier != NULL)
		OPENSSL_clear_free(l->code_verifier, strlen(l->code_verifier));
	free(l->authorize_query);
	memset(l, 0, sizeof(*l));
}
