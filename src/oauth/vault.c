/* Service credentials: sealing, the fingerprint shown instead of the secret, and the
 * fetch through token exchange. */
#include "config.h"

#include "oauth/vault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "oauth/audit.h"
#include "oauth/connections.h"
#include "oauth/upstream.h"

int
vault_name_ok(const char *name)
{
	return upstream_name_ok(name);
}

int
vault_fingerprint(const unsigned char *secret, size_t len, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	int i;

	if (EVP_Digest(secret, len, md, &n, EVP_sha256(), NULL) != 1 || n < 8)
		return -1;
	memcpy(out, "sha256:", 7);
	for (i = 0; i < 8; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
	return 0;
}

/* What a version is bound to: its name and version, so that rows cannot be swapped. */
static int
credential_aad(const char *name, int64_t version, char *aad, size_t len)
{
	int n = snprintf(aad, len, "credential %s v%lld", name, (long long)version);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int
vault_credential_seal(const struct master_key *mk, const char *name, int64_t version,
    const unsigned char *secret, size_t len, struct store_credential *c)
{
	struct sealed_envelope e;
	char aad[SEAL_AAD_MAX], fp[VAULT_FINGERPRINT_LEN + 1];

	if (len == 0 || len > VAULT_SECRET_MAX || credential_aad(name, version, aad, sizeof(aad)) != 0 ||
	    vault_fingerprint(secret, len, fp) != 0 || seal_envelope(mk, aad, secret, len, &e) != 0)
		return -1;
	if ((c->fingerprint = strdup(fp)) == NULL) {
		sealed_envelope_clear(&e);
		return -1;
	}
	c->wrapped_key = e.wrapped_key;
	c->wrapped_key_len = e.wrapped_key_len;
	c->secret_enc = e.sealed;
	c->secret_enc_len = e.sealed_len;
	return 0;
}

int
vault_credential_open(const struct master_key *mk, const struct store_credential *c,
    char **secret, size_t *len)
{
	char aad[SEAL_AAD_MAX];
	unsigned char *plain = NULL;
	size_t n = 0;

	*secret = NULL;
	*len = 0;
	if (credential_aad(c->name, c->version, aad, sizeof(aad)) != 0 ||
	    unseal_envelope(mk, aad, c->wrapped_key, c->wrapped_key_len, c->secret_enc,
		c->secret_enc_len, &plain, &n) != 0)
		return -1;
	if ((*secret = OPENSSL_malloc(n + 1)) == NULL) {
		OPENSSL_clear_free(plain, n);
		return -1;
	}
	memcpy(*secret, plain, n);
	(*secret)[n] = '\0';
	*len = n;
	OPENSSL_clear_free(plain, n);
	return 0;
}

struct rewrap {
	struct store *st;
	const struct master_key *old_mk, *new_mk;
	int count;
	int failed;
};

static int
rewrap_one(const struct store_credential *c, void *arg)
{
	struct rewrap *w = arg;
	unsigned char *blob = NULL;
	size_t len = 0;
	char aad[SEAL_AAD_MAX];

	if (credential_aad(c->name, c->version, aad, sizeof(aad)) != 0 ||
	    rewrap_envelope_key(w->old_mk, w->new_mk, aad, c->wrapped_key, c->wrapped_key_len, &blob,
		&len) != 0 ||
	    store_credential_set_key(w->st, c->id, blob, len) != STORE_OK) {
		w->failed = 1;
		free(blob);
		return -1;
	}
	free(blob);
	w->count++;
	return 0;
}

int
vault_rewrap_within(struct store *st, const struct master_key *old_mk,
    const struct master_key *new_mk, int *count)
{
	struct rewrap w = {st, old_mk, new_mk, 0, 0};

	*count = 0;
	if (store_credential_each(st, rewrap_one, &w) != STORE_OK || w.failed)
		return -1;
	*count = w.count;
	return 0;
}

void
vault_audit(const struct grant_env *env, const char *outcome, const char *reason,
    const char *client_id, const char *resource, const char *sub, const char *name,
    int64_t version, const char *fingerprint)
{
	struct store_audit a;
	json_t *d = json_pack("{s:s}", "credential", name);

	if (d != NULL && fingerprint != NULL) {
		json_object_set_new(d, "version", json_integer((json_int_t)version));
		json_object_set_new(d, "fingerprint", json_string(fingerprint));
	}
	memset(&a, 0, sizeof(a));
	a.ts = env->now;
	a.event = strcmp(outcome, "ok") == 0 ? "credential.fetched" : "credential.refused";
	a.outcome = outcome;
	a.reason = reason;
	a.client_id = client_id;
	a.subject = sub;
	a.resource = resource;
	a.remote_addr = env->remote_addr;
	audit_submit_detail(env->audit, env->st, &a, d);
	json_decref(d);
}

/* One audit record of a service credential's fetch or its refusal. */
static void
audit_fetch(const struct grant_env *env, const char *outcome, const char *reason,
    const struct store_client *client, const char *name, const struct store_credential *c)
{
	vault_audit(env, outcome, reason, client->client_id, client->acts_for_uri, NULL, name,
	    c != NULL ? c->version : 0, c != NULL ? c->fingerprint : NULL);
}

static int
refuse_fetch(const struct grant_env *env, struct token_response *out, enum oauth_error e,
    const struct store_client *client, const char *name, const struct store_credential *c,
    const char *why)
{
	out->error = e;
	snprintf(out->error_description, sizeof(out->error_description), "%s", why);
	audit_fetch(env, "refused", why, client, name, c);
	return -1;
}

int
vault_fetch(const struct grant_env *env, const struct store_client *client,
    const struct exchange_request *x, struct token_response *out)
{
	struct store_credential cur, prev, *served;
	const char *name = x->audience;
	char *secret = NULL;
	size_t len = 0;
	int rc = -1, src;

	memset(&cur, 0, sizeof(cur));
	memset(&prev, 0, sizeof(prev));
	out->exchanged = 1;
	if (x->resource != NULL)
		return refuse_fetch(env, out, OAUTH_INVALID_REQUEST, client, name, NULL,
		    "name a credential with audience, or a resource with resource, not both");
	if (x->requested_token_type != NULL && strcmp(x->requested_token_type, TOKEN_TYPE_ACCESS) != 0)
		return refuse_fetch(env, out, OAUTH_INVALID_REQUEST, client, name, NULL,
		    "only access tokens can be requested");
	if (strstr(name, "://") != NULL)
		return refuse_fetch(env, out, OAUTH_INVALID_TARGET, client, name, NULL,
		    "name a downstream MCP server with resource (RFC 8707); audience names a "
		    "credential of the vault");
	if (!vault_name_ok(name))
		return refuse_fetch(env, out, OAUTH_INVALID_TARGET, client, name, NULL,
		    "no credential has that name");
	if ((src = store_credential_get(env->st, name, &cur)) != STORE_OK) {
		struct store_connection conn;

		if (src != STORE_NOTFOUND)
			return grant_refuse_db(out, src);
		/* Not a service credential: a user's connection, perhaps. */
		memset(&conn, 0, sizeof(conn));
		if ((src = store_connection_get(env->st, name, &conn)) == STORE_OK) {
			rc = connection_fetch(env, client, x, &conn, out);
			store_connection_clear(&conn);
			return rc;
		}
		if (src != STORE_NOTFOUND)
			return grant_refuse_db(out, src);
		return refuse_fetch(env, out, OAUTH_INVALID_TARGET, client, name, NULL,
		    "no credential has that name");
	}
	if (x->subject_token != NULL || x->actor_token != NULL) {
		refuse_fetch(env, out, OAUTH_INVALID_REQUEST, client, name, NULL,
		    "a service credential is fetched as the server itself: no subject_token");
		goto out;
	}
	/* The policy: this server (the resource the client acts for) may fetch it. */
	if ((src = store_resource_credential_allowed(env->st, client->acts_for, name)) != STORE_OK) {
		if (src != STORE_NOTFOUND) {
			rc = grant_refuse_db(out, src);
			goto out;
		}
		refuse_fetch(env, out, OAUTH_INVALID_TARGET, client, name, NULL,
		    "this server may not fetch that credential (resource allow-credential)");
		goto out;
	}
	/* A rotation with an overlap keeps serving the version it replaces until the overlap
	 * ends: the new one may take that long to be accepted where it is used. */
	served = &cur;
	src = store_credential_get_previous(env->st, name, env->now, &prev);
	if (src == STORE_OK)
		served = &prev;
	else if (src != STORE_NOTFOUND) {
		rc = grant_refuse_db(out, src);
		goto out;
	}
	if (vault_credential_open(env->mk, served, &secret, &len) != 0) {
		refuse_fetch(env, out, OAUTH_SERVER_ERROR, client, name, served,
		    "the credential does not open under the master key");
		goto out;
	}
	if ((out->access_token = strdup(secret)) == NULL) {
		rc = grant_refuse_db(out, STORE_ERROR);
		goto out;
	}
	out->token_type = "N_A"; /* RFC 8693 §2.2.1: not an access token of ours */
	out->expires_in = served == &prev ? prev.retires_at - env->now : 0;
	audit_fetch(env, "ok", "service credential", client, name, served);
	rc = 0;
out:
	if (secret != NULL)
		OPENSSL_clear_free(secret, len + 1);
	store_credential_clear(&cur);
	store_credential_clear(&prev);
	return rc;
}
