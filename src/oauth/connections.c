/* Per-user connections: sealing what they keep, and the fetch with its refresh. */
#include "config.h"

#include "oauth/connections.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "oauth/claims.h"
#include "oauth/vault.h"
#include "util/log.h"

static void
wipe_free(char *s)
{
	if (s != NULL)
		OPENSSL_clear_free(s, strlen(s));
}

/* ---- sealing ---- */

static int
aad_secret(const char *name, char *aad, size_t len)
{
	int n = snprintf(aad, len, "connection %s client-secret", name);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* A user's tokens are bound to the connection, the user and the generation: a row cannot
 * be moved to another user, nor an older generation put back. */
static int
aad_tokens(const char *name, int64_t user_id, int64_t generation, char *aad, size_t len)
{
	int n = snprintf(aad, len, "connection %s user %lld g%lld", name, (long long)user_id,
	    (long long)generation);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int
connection_secret_seal(const struct master_key *mk, struct store_connection *c,
    const char *secret)
{
	struct sealed_envelope e;
	char aad[SEAL_AAD_MAX];

	if (secret == NULL || secret[0] == '\0' || strlen(secret) > CONNECTION_SECRET_MAX ||
	    aad_secret(c->name, aad, sizeof(aad)) != 0 ||
	    seal_envelope(mk, aad, (const unsigned char *)secret, strlen(secret), &e) != 0)
		return -1;
	c->wrapped_key = e.wrapped_key;
	c->wrapped_key_len = e.wrapped_key_len;
	c->secret_enc = e.sealed;
	c->secret_enc_len = e.sealed_len;
	return 0;
}

/* Open an envelope into a new NUL-terminated string. */
static int
open_text(const struct master_key *mk, const char *aad, const unsigned char *wrapped,
    size_t wrapped_len, const unsigned char *sealed, size_t sealed_len, char **text, size_t *len)
{
	unsigned char *plain = NULL;
	size_t n = 0;

	*text = NULL;
	if (unseal_envelope(mk, aad, wrapped, wrapped_len, sealed, sealed_len, &plain, &n) != 0)
		return -1;
	if ((*text = OPENSSL_malloc(n + 1)) != NULL) {
		memcpy(*text, plain, n);
		(*text)[n] = '\0';
		*len = n;
	}
	OPENSSL_clear_free(plain, n);
	return *text != NULL ? 0 : -1;
}

int
connection_secret_open(const struct master_key *mk, const struct store_connection *c,
    char **secret)
{
	char aad[SEAL_AAD_MAX], *text = NULL;
	size_t n = 0;

	*secret = NULL;
	if (c->wrapped_key == NULL || c->secret_enc == NULL)
		return 0;
	if (aad_secret(c->name, aad, sizeof(aad)) != 0 ||
	    open_text(mk, aad, c->wrapped_key, c->wrapped_key_len, c->secret_enc, c->secret_enc_len,
		&text, &n) != 0)
		return -1;
	/* Handed on as a C string: one with a NUL inside would be cut short. */
	if (strlen(text) != n) {
		OPENSSL_clear_free(text, n + 1);
		return -1;
	}
	if ((*secret = strdup(text)) == NULL) {
		OPENSSL_clear_free(text, n + 1);
		return -1;
	}
	OPENSSL_clear_free(text, n + 1);
	return 0;
}

int
connection_tokens_store(struct store *st, const struct master_key *mk, const char *name,
    int64_t user_id, int64_t previous, const struct thirdparty_tokens *t,
    const char *keep_refresh, int64_t now)
{
	struct store_user_connection uc;
	struct sealed_envelope e;
	const char *refresh = t->refresh_token != NULL ? t->refresh_token : keep_refresh;
	char aad[SEAL_AAD_MAX], fp[VAULT_FINGERPRINT_LEN + 1], *text = NULL;
	json_t *doc = json_pack("{s:s}", "access_token", t->access_token);
	int rc = STORE_ERROR;

	memset(&uc, 0, sizeof(uc));
	memset(&e, 0, sizeof(e));
	if (doc == NULL || (refresh != NULL &&
	    json_object_set_new(doc, "refresh_token", json_string(refresh)) != 0) ||
	    (text = json_dumps(doc, JSON_COMPACT)) == NULL ||
	    aad_tokens(name, user_id, previous + 1, aad, sizeof(aad)) != 0 ||
	    vault_fingerprint((const unsigned char *)t->access_token, strlen(t->access_token), fp) != 0 ||
	    seal_envelope(mk, aad, (const unsigned char *)text, strlen(text), &e) != 0)
		goto out;
	uc.connection = (char *)(uintptr_t)name;
	uc.user_id = user_id;
	uc.generation = previous + 1;
	uc.wrapped_key = e.wrapped_key;
	uc.wrapped_key_len = e.wrapped_key_len;
	uc.tokens_enc = e.sealed;
	uc.tokens_enc_len = e.sealed_len;
	uc.fingerprint = fp;
	uc.scope = t->scope;
	uc.expires_at = t->expires_in > 0 ? now + t->expires_in : 0;
	uc.created_at = uc.updated_at = now;
	rc = store_user_connection_put(st, &uc);
out:
	sealed_envelope_clear(&e);
	wipe_free(text);
	/* json_decref frees the strings without wiping them: the copies inside doc. */
	if (doc != NULL) {
		const char *k;
		json_t *v;

		json_object_foreach(doc, k, v) {
			if (json_is_string(v))
				OPENSSL_cleanse((char *)(uintptr_t)json_string_value(v),
				    json_string_length(v));
		}
	}
	json_decref(doc);
	return rc;
}

int
connection_tokens_open(const struct master_key *mk, const struct store_user_connection *uc,
    char **access, char **refresh)
{
	char aad[SEAL_AAD_MAX], *text = NULL;
	json_t *doc = NULL;
	const char *a, *r;
	size_t n = 0;
	int rc = -1;

	*access = *refresh = NULL;
	if (aad_tokens(uc->connection, uc->user_id, uc->generation, aad, sizeof(aad)) != 0 ||
	    open_text(mk, aad, uc->wrapped_key, uc->wrapped_key_len, uc->tokens_enc,
		uc->tokens_enc_len, &text, &n) != 0)
		return -1;
	doc = json_loadb(text, n, 0, NULL);
	a = json_string_value(json_object_get(doc, "access_token"));
	r = json_string_value(json_object_get(doc, "refresh_token"));
	if (a != NULL && (*access = strdup(a)) != NULL &&
	    (r == NULL || (*refresh = strdup(r)) != NULL))
		rc = 0;
	if (doc != NULL) {
		const char *k;
		json_t *v;

		json_object_foreach(doc, k, v) {
			if (json_is_string(v))
				OPENSSL_cleanse((char *)(uintptr_t)json_string_value(v),
				    json_string_length(v));
		}
	}
	json_decref(doc);
	OPENSSL_clear_free(text, n + 1);
	if (rc != 0) {
		wipe_free(*access);
		wipe_free(*refresh);
		*access = *refresh = NULL;
	}
	return rc;
}

/* ---- keys rewrap ---- */

struct rewrap_row {
	int64_t id;              /* a connection's, or 0 for a user's row */
	char *connection;
	int64_t user_id, generation;
	unsigned char *wrapped;
	size_t len;
	struct rewrap_row *next;
};

struct rewrap {
	const struct master_key *old_mk, *new_mk;
	struct rewrap_row *rows;
	int failed;
};

static void
rewrap_add(struct rewrap *w, int64_t id, const char *connection, int64_t user_id,
    int64_t generation, const char *aad, const unsigned char *wrapped, size_t len)
{
	struct rewrap_row *r = calloc(1, sizeof(*r));

	if (r == NULL || (r->connection = strdup(connection)) == NULL ||
	    rewrap_envelope_key(w->old_mk, w->new_mk, aad, wrapped, len, &r->wrapped, &r->len) != 0) {
		if (r != NULL)
			free(r->connection);
		free(r);
		w->failed = 1;
		return;
	}
	r->id = id;
	r->user_id = user_id;
	r->generation = generation;
	r->next = w->rows;
	w->rows = r;
}

static int
rewrap_connection(const struct store_connection *c, void *arg)
{
	char aad[SEAL_AAD_MAX];

	if (c->wrapped_key == NULL)
		return 0;
	if (aad_secret(c->name, aad, sizeof(aad)) != 0) {
		((struct rewrap *)arg)->failed = 1;
		return -1;
	}
	rewrap_add(arg, c->id, c->name, 0, 0, aad, c->wrapped_key, c->wrapped_key_len);
	return 0;
}

static int
rewrap_user(const struct store_user_connection *uc, void *arg)
{
	char aad[SEAL_AAD_MAX];

	if (aad_tokens(uc->connection, uc->user_id, uc->generation, aad, sizeof(aad)) != 0) {
		((struct rewrap *)arg)->failed = 1;
		return -1;
	}
	rewrap_add(arg, 0, uc->connection, uc->user_id, uc->generation, aad, uc->wrapped_key,
	    uc->wrapped_key_len);
	return 0;
}

int
connection_rewrap_within(struct store *st, const struct master_key *old_mk,
    const struct master_key *new_mk, int *count)
{
	struct rewrap w = {old_mk, new_mk, NULL, 0};
	struct rewrap_row *r;
	int rc = 0;

	*count = 0;
	/* Collected first, written after: no write while a listing runs. */
	if (store_connection_list(st, rewrap_connection, &w) != STORE_OK ||
	    store_user_connection_each(st, rewrap_user, &w) != STORE_OK || w.failed)
		rc = -1;
	while ((r = w.rows) != NULL) {
		w.rows = r->next;
		if (rc == 0 && (r->id != 0 ? store_connection_set_key(st, r->id, r->wrapped, r->len)
		    : store_user_connection_set_key(st, r->connection, r->user_id, r->generation,
			r->wrapped, r->len)) != STORE_OK)
			rc = -1;
		else if (rc == 0)
			(*count)++;
		free(r->connection);
		free(r->wrapped);
		free(r);
	}
	return rc;
}

/* ---- talking to the third party ---- */

void
connection_client(const struct store_connection *c, const char *secret,
    struct thirdparty_client *out)
{
	memset(out, 0, sizeof(*out));
	out->token_url = c->token_url;
	out->revoke_url = c->revoke_url;
	out->client_id = c->client_id;
	out->secret = secret;
	out->resource = c->resource;
}

void
connection_net_policy(const struct store_connection *c, int allow_http, struct net_policy *out)
{
	memset(out, 0, sizeof(*out));
	out->allow_private = c->allow_private;
	out->allow_http = allow_http;
	out->max_bytes = THIRDPARTY_MAX_BYTES;
	out->timeout_ms = THIRDPARTY_TIMEOUT_MS;
}

char *
connection_connect_uri_new(const char *issuer, const char *name)
{
	size_t n = strlen(issuer) + strlen(name) + sizeof("/connect/");
	char *s = malloc(n);

	if (s != NULL)
		snprintf(s, n, "%s/connect/%s", issuer, name);
	return s;
}

/* ---- the fetch ---- */

/* Who asks, for whom, for what: the audit and the refusals of one fetch. */
struct asker {
	const char *client_id;
	const char *resource;
	const char *sub;
	const char *name;
};

static int
refuse(const struct grant_env *env, struct token_response *out, enum oauth_error e,
    const struct asker *k, int connect, const char *why)
{
	out->error = e;
	snprintf(out->error_description, sizeof(out->error_description), "%s", why);
	if (connect)
		out->connect_uri = connection_connect_uri_new(env->issuer, k->name);
	vault_audit(env, "refused", why, k->client_id, k->resource, k->sub, k->name, 0, NULL);
	return -1;
}

#define NEEDS_REAUTHORIZATION \
	"needs_reauthorization: the third party refused the stored grant; the user connects " \
	"again at connect_uri"

/* Answer with the row's access token. */
static int
answer(const struct grant_env *env, const struct asker *k, const struct store_user_connection *uc,
    const char *access, struct token_response *out)
{
	if ((out->access_token = strdup(access)) == NULL ||
	    (uc->scope != NULL && (out->scope = strdup(uc->scope)) == NULL))
		return grant_refuse_db(out, STORE_ERROR);
	out->token_type = "Bearer";
	out->exchanged = 1;
	out->expires_in = uc->expires_at > env->now ? uc->expires_at - env->now : 0;
	vault_audit(env, "ok", "user connection", k->client_id, k->resource, k->sub, k->name,
	    uc->generation, uc->fingerprint);
	return 0;
}

/* Is the row's access token good to hand out: not within the refresh margin of its end.
 * The margin is at most half the token's life, so that a third party whose tokens live
 * shorter than the margin still gets one refresh per token, not one per fetch. */
static int
fresh(const struct store_user_connection *uc, int64_t now)
{
	int64_t life = uc->expires_at - uc->updated_at, margin = CONNECTION_REFRESH_MARGIN;

	if (uc->expires_at == 0)
		return 1;
	if (life > 0 && life / 2 < margin)
		margin = life / 2;
	return uc->expires_at - now > margin;
}

static int
pending_new(const struct asker *k, const struct store_user_connection *uc,
    struct token_response *out)
{
	struct vault_pending *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return -1;
	out->pending = p;
	p->user_id = uc->user_id;
	p->generation = uc->generation;
	if ((p->connection = strdup(k->name)) == NULL || (p->sub = strdup(k->sub)) == NULL ||
	    (p->client_id = strdup(k->client_id)) == NULL ||
	    (p->resource = strdup(k->resource)) == NULL)
		return -1;
	return 0;
}

int
connection_fetch(const struct grant_env *env, const struct store_client *client,
    const struct exchange_request *x, const struct store_connection *c,
    struct token_response *out)
{
	struct asker k = {client->client_id, client->acts_for_uri, NULL, c->name};
	struct store_user_connection uc;
	struct store_user u;
	json_t *claims = NULL;
	enum token_refusal why;
	char *access = NULL, *refresh = NULL, reason[160];
	const char *aud;
	int rc = -1, src;

	memset(&uc, 0, sizeof(uc));
	memset(&u, 0, sizeof(u));
	out->exchanged = 1;
	if ((src = store_resource_credential_allowed(env->st, client->acts_for, c->name)) != STORE_OK) {
		if (src != STORE_NOTFOUND)
			return grant_refuse_db(out, src);
		return refuse(env, out, OAUTH_INVALID_TARGET, &k, 0,
		    "this server may not fetch that connection (resource allow-credential)");
	}
	if (x->subject_token == NULL || x->subject_token_type == NULL)
		return refuse(env, out, OAUTH_INVALID_REQUEST, &k, 0,
		    "a user's connection is fetched with the user's token as subject_token");
	if (strcmp(x->subject_token_type, TOKEN_TYPE_ACCESS) != 0 || x->actor_token != NULL)
		return refuse(env, out, OAUTH_INVALID_REQUEST, &k, 0,
		    "subject_token_type must be an access token, and no actor_token");
	/* The subject token: ours, current, not revoked, and for the server asking. A token
	 * for another server is the confused deputy: that server's user did not send it here. */
	why = access_token_verify(env->keys, x->subject_token, strlen(x->subject_token),
	    env->issuer, env->now, 0, &claims);
	if (why != TOKEN_OK) {
		snprintf(reason, sizeof(reason), "subject_token: %s",
		    why == TOKEN_WRONG_ISSUER ? "not issued here" : token_refusal_name(why));
		return refuse(env, out, OAUTH_INVALID_GRANT, &k, 0, reason);
	}
	aud = json_string_value(json_object_get(claims, "aud"));
	k.sub = json_string_value(json_object_get(claims, "sub"));
	if (store_jti_revoked(env->st, json_string_value(json_object_get(claims, "jti"))) == STORE_OK) {
		refuse(env, out, OAUTH_INVALID_GRANT, &k, 0, "subject_token: revoked");
		goto out;
	}
	if (aud == NULL || strcmp(aud, client->acts_for_uri) != 0) {
		refuse(env, out, OAUTH_INVALID_GRANT, &k, 0,
		    "subject_token: its audience is not the resource this client acts for");
		goto out;
	}
	if ((src = store_user_get_by_name(env->st, k.sub, &u)) != STORE_OK || u.disabled) {
		if (src != STORE_OK && src != STORE_NOTFOUND) {
			rc = grant_refuse_db(out, src);
			goto out;
		}
		refuse(env, out, OAUTH_INVALID_GRANT, &k, 0,
		    "subject_token: it names no user of this server (a client's own token?)");
		goto out;
	}
	if ((src = store_user_connection_get(env->st, c->name, u.id, &uc)) != STORE_OK) {
		if (src != STORE_NOTFOUND) {
			rc = grant_refuse_db(out, src);
			goto out;
		}
		refuse(env, out, OAUTH_INVALID_GRANT, &k, 1,
		    "the user has not connected this account: connect at connect_uri");
		goto out;
	}
	if (uc.needs_reauth) {
		refuse(env, out, OAUTH_INVALID_GRANT, &k, 1, NEEDS_REAUTHORIZATION);
		goto out;
	}
	if (connection_tokens_open(env->mk, &uc, &access, &refresh) != 0) {
		refuse(env, out, OAUTH_SERVER_ERROR, &k, 0,
		    "the connection's tokens do not open under the master key");
		goto out;
	}
	if (fresh(&uc, env->now))
		rc = answer(env, &k, &uc, access, out);
	else if (refresh == NULL)
		refuse(env, out, OAUTH_INVALID_GRANT, &k, 1,
		    "needs_reauthorization: the third party's token expired and it gave no refresh "
		    "token; the user connects again at connect_uri");
	else if (pending_new(&k, &uc, out) != 0)
		rc = grant_refuse_db(out, STORE_ERROR);
	else
		rc = 0; /* out->pending: the caller finishes on a worker */
out:
	wipe_free(access);
	wipe_free(refresh);
	store_user_connection_clear(&uc);
	store_user_clear(&u);
	json_decref(claims);
	return rc;
}

/* Refresh the row at generation upstream, holding its lease; store, then answer. */
static int
refresh_row(const struct grant_env *env, int allow_http, const struct asker *k,
    const struct store_user_connection *uc, struct token_response *out)
{
	struct store_connection c;
	struct store_user_connection now_uc;
	struct thirdparty_client tc;
	struct thirdparty_tokens t;
	struct net_policy np;
	enum thirdparty_outcome o;
	char *secret = NULL, *access = NULL, *refresh = NULL, err[256];
	int rc = -1, src, attempt;

	memset(&c, 0, sizeof(c));
	memset(&t, 0, sizeof(t));
	memset(&now_uc, 0, sizeof(now_uc));
	if ((src = store_connection_get(env->st, k->name, &c)) != STORE_OK) {
		if (src != STORE_NOTFOUND)
			return grant_refuse_db(out, src);
		return refuse(env, out, OAUTH_INVALID_TARGET, k, 0, "no credential has that name");
	}
	if (connection_secret_open(env->mk, &c, &secret) != 0 ||
	    connection_tokens_open(env->mk, uc, &access, &refresh) != 0 || refresh == NULL) {
		refuse(env, out, OAUTH_SERVER_ERROR, k, 0,
		    "the connection's secrets do not open under the master key");
		goto out;
	}
	connection_client(&c, secret, &tc);
	connection_net_policy(&c, allow_http, &np);
	err[0] = '\0';
	o = thirdparty_refresh(&tc, refresh, &np, &t, err, sizeof(err));
	if (o == THIRDPARTY_REFUSED) {
		store_user_connection_fail(env->st, k->name, uc->user_id, uc->generation);
		log_info("connection %s: the third party refused a refresh (%s)", k->name, err);
		refuse(env, out, OAUTH_INVALID_GRANT, k, 1, NEEDS_REAUTHORIZATION);
		goto out;
	}
	if (o != THIRDPARTY_OK) {
		/* The lease stays until it ends: the others wait for it, not hammer a third
		 * party that is down. */
		log_info("connection %s: refresh failed: %s", k->name, err);
		refuse(env, out, OAUTH_TEMPORARILY_UNAVAILABLE, k, 0,
		    "the third party could not refresh the token now; retry later");
		goto out;
	}
	/* Stored before anyone uses the new access token: a third party that rotates refresh
	 * tokens revokes the grant when the old one is used again. */
	for (attempt = 0; attempt < GRANT_ATTEMPTS; attempt++) {
		src = connection_tokens_store(env->st, env->mk, k->name, uc->user_id, uc->generation,
		    &t, refresh, env->now);
		if (src != STORE_RETRY && src != STORE_BUSY)
			break;
	}
	if (src != STORE_OK) {
		log_error("connection %s: the refreshed tokens could not be stored (%d)", k->name, src);
		rc = grant_refuse_db(out, src == STORE_CONFLICT ? STORE_BUSY : src);
		goto out;
	}
	if ((src = store_user_connection_get(env->st, k->name, uc->user_id, &now_uc)) != STORE_OK) {
		rc = grant_refuse_db(out, src);
		goto out;
	}
	rc = answer(env, k, &now_uc, t.access_token, out);
out:
	thirdparty_tokens_clear(&t);
	wipe_free(secret);
	wipe_free(access);
	wipe_free(refresh);
	store_user_connection_clear(&now_uc);
	store_connection_clear(&c);
	return rc;
}

int
connection_fetch_pending(const struct grant_env *env, int allow_http,
    const struct vault_pending *p, struct token_response *out)
{
	struct asker k = {p->client_id, p->resource, p->sub, p->connection};
	struct store_user_connection uc;
	struct timespec pause = {0, 50 * 1000 * 1000};
	struct grant_env e = *env;
	char *access = NULL, *refresh = NULL;
	/* A lease taken just before this request came may run its whole length, and the one
	 * who takes it next then needs up to a third party's time limit to refresh. */
	int64_t deadline = env->now + CONNECTION_LEASE + THIRDPARTY_TIMEOUT_MS / 1000 + 1;
	int64_t first_generation = p->generation;
	int rc = -1, src;

	memset(&uc, 0, sizeof(uc));
	out->exchanged = 1;
	for (;;) {
		e.now = (int64_t)time(NULL);
		store_user_connection_clear(&uc);
		if ((src = store_user_connection_get(e.st, p->connection, p->user_id, &uc)) != STORE_OK) {
			if (src != STORE_NOTFOUND)
				return grant_refuse_db(out, src);
			return refuse(&e, out, OAUTH_INVALID_GRANT, &k, 1,
			    "the user has not connected this account: connect at connect_uri");
		}
		if (uc.needs_reauth) {
			refuse(&e, out, OAUTH_INVALID_GRANT, &k, 1, NEEDS_REAUTHORIZATION);
			break;
		}
		/* Another request, here or on another node, refreshed it while this one waited:
		 * its token is the answer as long as it has not ended, even when the third party
		 * gives tokens shorter than the refresh margin (else every waiter would refresh
		 * again in turn). */
		if (fresh(&uc, e.now) || (uc.generation != first_generation &&
		    (uc.expires_at == 0 || uc.expires_at > e.now))) {
			if (connection_tokens_open(e.mk, &uc, &access, &refresh) != 0)
				refuse(&e, out, OAUTH_SERVER_ERROR, &k, 0,
				    "the connection's tokens do not open under the master key");
			else
				rc = answer(&e, &k, &uc, access, out);
			break;
		}
		src = store_user_connection_lease(e.st, p->connection, p->user_id, uc.generation,
		    e.now, e.now + CONNECTION_LEASE);
		if (src == STORE_OK) {
			rc = refresh_row(&e, allow_http, &k, &uc, out);
			break;
		}
		if (src != STORE_CONFLICT && src != STORE_BUSY && src != STORE_RETRY) {
			rc = grant_refuse_db(out, src);
			break;
		}
		if (e.now >= deadline) {
			refuse(&e, out, OAUTH_TEMPORARILY_UNAVAILABLE, &k, 0,
			    "the third party's token is being refreshed; retry later");
			break;
		}
		nanosleep(&pause, NULL);
	}
	wipe_free(access);
	wipe_free(refresh);
	store_user_connection_clear(&uc);
	return rc;
}
