/* Signing keys at rest (AES-256-GCM under the master key) and in memory (key sets). */
#include "config.h"

#include "jose/keystore.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "jose/b64url.h"
#include "jose/jws.h"
#include "util/rand.h"

/* What a sealed private key is bound to: its kid, after this prefix. */
#define SEAL_AAD_PREFIX "mcp-authd signing key v1:"

/* ---- sealing signing keys ---- */

int
keystore_seal(const struct master_key *mk, const char *kid, const unsigned char *der,
    size_t derlen, unsigned char **blob, size_t *bloblen)
{
	char aad[SEAL_AAD_MAX];

	*blob = NULL;
	*bloblen = 0;
	if (snprintf(aad, sizeof(aad), "%s%s", SEAL_AAD_PREFIX, kid) >= (int)sizeof(aad))
		return -1;
	return seal_bytes(mk, aad, der, derlen, blob, bloblen);
}

int
keystore_unseal(const struct master_key *mk, const char *kid, const unsigned char *blob,
    size_t bloblen, EVP_PKEY **key)
{
	char aad[SEAL_AAD_MAX];
	unsigned char *der = NULL;
	const unsigned char *p;
	size_t derlen = 0;
	int rc = -1;

	*key = NULL;
	if (snprintf(aad, sizeof(aad), "%s%s", SEAL_AAD_PREFIX, kid) >= (int)sizeof(aad) ||
	    unseal_bytes(mk, aad, blob, bloblen, &der, &derlen) != 0)
		return -1;
	p = der;
	if ((*key = d2i_AutoPrivateKey(NULL, &p, (long)derlen)) != NULL)
		rc = 0;
	OPENSSL_clear_free(der, derlen);
	return rc;
}

/* ---- key rows ---- */

int
keystore_create(struct store *st, const struct master_key *mk, enum jws_alg alg,
    const char *state, int64_t now, char **kid_out)
{
	struct store_key row;
	EVP_PKEY *key = NULL;
	json_t *jwk = NULL;
	unsigned char *der = NULL;
	int derlen = 0, rc = -1;

	memset(&row, 0, sizeof(row));
	if (kid_out != NULL)
		*kid_out = NULL;
	if (jwk_generate(alg, &key) != 0)
		goto out;
	if (jwk_thumbprint_new(key, &row.kid) != 0 || jwk_public_to_json(key, &jwk) != 0)
		goto out;
	if ((row.public_jwk = json_dumps(jwk, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		goto out;
	if ((derlen = i2d_PrivateKey(key, &der)) <= 0) {
		der = NULL;
		goto out;
	}
	if (keystore_seal(mk, row.kid, der, (size_t)derlen, &row.private_enc, &row.private_enc_len) !=
	    0)
		goto out;
	row.alg = (char *)(uintptr_t)jws_alg_name(alg);
	row.state = (char *)(uintptr_t)state;
	row.created_at = now;
	row.activated_at = strcmp(state, "active") == 0 ? now : 0;
	rc = store_key_add(st, &row, NULL);
	row.alg = NULL;
	row.state = NULL;
	if (rc == STORE_OK && kid_out != NULL) {
		*kid_out = row.kid;
		row.kid = NULL;
	}
out:
	if (der != NULL)
		OPENSSL_clear_free(der, (size_t)derlen);
	json_decref(jwk);
	EVP_PKEY_free(key);
	store_key_clear(&row);
	return rc == STORE_OK ? 0 : -1;
}

/* A snapshot of the key rows, for decisions made inside one transaction. */
struct key_rows {
	struct store_key *v;
	size_t n;
};

static int
key_rows_add(const struct store_key *k, void *arg)
{
	struct key_rows *rows = arg;
	struct store_key *grown, *d;

	grown = realloc(rows->v, (rows->n + 1) * sizeof(*grown));
	if (grown == NULL)
		return STORE_ERROR;
	rows->v = grown;
	d = &rows->v[rows->n];
	memset(d, 0, sizeof(*d));
	d->id = k->id;
	d->kid = strdup(k->kid);
	d->alg = strdup(k->alg);
	d->state = strdup(k->state);
	d->public_jwk = strdup(k->public_jwk);
	d->created_at = k->created_at;
	d->activated_at = k->activated_at;
	d->retired_at = k->retired_at;
	d->delete_after = k->delete_after;
	rows->n++;
	if (k->private_enc_len > 0) {
		if ((d->private_enc = malloc(k->private_enc_len)) == NULL)
			return STORE_ERROR;
		memcpy(d->private_enc, k->private_enc, k->private_enc_len);
		d->private_enc_len = k->private_enc_len;
	}
	if (d->kid == NULL || d->alg == NULL || d->state == NULL || d->public_jwk == NULL)
		return STORE_ERROR;
	return STORE_OK;
}

static void
key_rows_free(struct key_rows *rows)
{
	size_t i;

	for (i = 0; i < rows->n; i++)
		store_key_clear(&rows->v[i]);
	free(rows->v);
	rows->v = NULL;
	rows->n = 0;
}

static int
key_rows_load(struct store *st, struct key_rows *rows)
{
	rows->v = NULL;
	rows->n = 0;
	if (store_key_list(st, key_rows_add, rows) != STORE_OK) {
		key_rows_free(rows);
		return -1;
	}
	return 0;
}

/* The transaction every change of keys runs in, with the keys read inside it. One such
 * change at a time across every process sharing the database: a second node reads the
 * keys only after the first has committed (and then finds its scheduled rotation no
 * longer due). On failure nothing is left open. */
static int
keys_begin(struct store *st, struct key_rows *rows)
{
	rows->v = NULL;
	rows->n = 0;
	if (store_begin(st) != STORE_OK)
		return -1;
	if (store_lock(st, STORE_LOCK_KEYS) != STORE_OK || key_rows_load(st, rows) != 0) {
		store_rollback(st);
		return -1;
	}
	return 0;
}

static int
row_is(const struct store_key *k, const char *state, enum jws_alg alg)
{
	return strcmp(k->state, state) == 0 &&
	    (alg == JWS_ALG_NONE || strcmp(k->alg, jws_alg_name(alg)) == 0);
}

int
keystore_ensure(struct store *st, const struct master_key *mk, enum jws_alg alg, int64_t now)
{
	struct key_rows rows = {NULL, 0};
	int have_active = 0, have_next = 0, rc = -1;
	size_t i;

	if (keys_begin(st, &rows) != 0)
		return -1;
	for (i = 0; i < rows.n; i++) {
		have_active |= row_is(&rows.v[i], "active", JWS_ALG_NONE);
		have_next |= row_is(&rows.v[i], "next", JWS_ALG_NONE);
	}
	/* Nothing has been signed before the first active key exists, so it may sign at
	 * once; every later key waits its turn as `next`. */
	if (!have_active && keystore_create(st, mk, alg, "active", now, NULL) != 0)
		goto out;
	if (!have_next && keystore_create(st, mk, alg, "next", now, NULL) != 0)
		goto out;
	if ((!have_active || !have_next) && store_keys_version_bump(st) != STORE_OK)
		goto out;
	if (store_commit(st) != STORE_OK)
		goto out_norollback;
	rc = 0;
	goto out_norollback;
out:
	store_rollback(st);
out_norollback:
	key_rows_free(&rows);
	return rc;
}

int
keystore_rotate(struct store *st, const struct master_key *mk, const struct rotate_policy *p,
    int64_t now, int64_t *wait_out)
{
	struct key_rows rows = {NULL, 0};
	const struct store_key *next = NULL;
	int deleted, rc = -1;
	size_t i;

	*wait_out = 0;
	if (keys_begin(st, &rows) != 0)
		return -1;
	if (p->due_after > 0) {
		for (i = 0; i < rows.n; i++) {
			if (row_is(&rows.v[i], "active", JWS_ALG_NONE) &&
			    now - rows.v[i].activated_at < p->due_after) {
				rc = ROTATE_NOT_DUE;
				store_rollback(st);
				goto out;
			}
		}
	}
	for (i = 0; i < rows.n; i++) {
		if (row_is(&rows.v[i], "next", p->alg))
			next = &rows.v[i];
	}
	if (next == NULL) {
		/* A new algorithm: publish its first key now; it signs only after the
		 * same pre-publication wait as any other key (unless forced). */
		if (keystore_create(st, mk, p->alg, "next", now, NULL) != 0)
			goto fail;
		if (!p->force) {
			rc = ROTATE_STAGED;
			goto commit;
		}
		key_rows_free(&rows);
		if (key_rows_load(st, &rows) != 0)
			goto fail;
		for (i = 0; i < rows.n; i++) {
			if (row_is(&rows.v[i], "next", p->alg))
				next = &rows.v[i];
		}
		if (next == NULL)
			goto fail;
	}
	if (!p->force && now - next->created_at < p->jwks_max_age) {
		*wait_out = p->jwks_max_age - (now - next->created_at);
		rc = ROTATE_TOO_SOON;
		store_rollback(st);
		goto out;
	}
	/* Retire every active key first: the unique index allows one active per alg. In an
	 * emergency the active key is deleted instead, so that nothing it signed verifies. */
	for (i = 0; i < rows.n; i++) {
		if (row_is(&rows.v[i], "active", JWS_ALG_NONE) &&
		    (p->emergency ? store_key_delete(st, rows.v[i].id)
				  : store_key_set_state(st, rows.v[i].id, "retired",
					rows.v[i].activated_at, now,
					now + KEYSTORE_RETIRE_FACTOR * p->max_token_ttl)) != STORE_OK)
			goto fail;
		/* A next key of another algorithm never signed anything: drop it. */
		if (row_is(&rows.v[i], "next", JWS_ALG_NONE) && &rows.v[i] != next &&
		    strcmp(rows.v[i].alg, next->alg) != 0 &&
		    store_key_delete(st, rows.v[i].id) != STORE_OK)
			goto fail;
	}
	if (store_key_set_state(st, next->id, "active", now, 0, 0) != STORE_OK)
		goto fail;
	if (keystore_create(st, mk, p->alg, "next", now, NULL) != 0)
		goto fail;
	if (store_key_delete_expired(st, now, &deleted) != STORE_OK)
		goto fail;
	rc = ROTATE_DONE;
commit:
	if (store_keys_version_bump(st) != STORE_OK)
		goto fail;
	if (store_commit(st) != STORE_OK) {
		rc = -1;
		goto out;
	}
	goto out;
fail:
	rc = -1;
	store_rollback(st);
out:
	key_rows_free(&rows);
	return rc;
}

int
keystore_max_token_ttl(struct store *st, int64_t default_ttl, int64_t *out)
{
	int64_t longest = 0;

	*out = default_ttl;
	if (store_resource_max_ttl(st, &longest) != STORE_OK)
		return -1;
	if (longest > *out)
		*out = longest;
	return 0;
}

int
keystore_rewrap_within(struct store *st, const struct master_key *old_mk,
    const struct master_key *new_mk, int *count)
{
	struct key_rows rows = {NULL, 0};
	EVP_PKEY *key = NULL;
	unsigned char *der = NULL, *blob = NULL;
	size_t bloblen = 0, i;
	int derlen = 0, rc = -1;

	*count = 0;
	if (store_lock(st, STORE_LOCK_KEYS) != STORE_OK || key_rows_load(st, &rows) != 0)
		return -1;
	for (i = 0; i < rows.n; i++) {
		const struct store_key *k = &rows.v[i];

		if (keystore_unseal(old_mk, k->kid, k->private_enc, k->private_enc_len, &key) != 0)
			goto out;
		if ((derlen = i2d_PrivateKey(key, &der)) <= 0) {
			der = NULL;
			goto out;
		}
		if (keystore_seal(new_mk, k->kid, der, (size_t)derlen, &blob, &bloblen) != 0)
			goto out;
		if (store_key_set_private(st, k->id, blob, bloblen) != STORE_OK)
			goto out;
		OPENSSL_clear_free(der, (size_t)derlen);
		OPENSSL_clear_free(blob, bloblen);
		EVP_PKEY_free(key);
		der = NULL;
		blob = NULL;
		key = NULL;
	}
	if (store_keys_version_bump(st) != STORE_OK)
		goto out;
	*count = (int)rows.n;
	rc = 0;
out:
	if (der != NULL)
		OPENSSL_clear_free(der, (size_t)derlen);
	if (blob != NULL)
		OPENSSL_clear_free(blob, bloblen);
	EVP_PKEY_free(key);
	key_rows_free(&rows);
	return rc;
}

int
keystore_rewrap(struct store *st, const struct master_key *old_mk,
    const struct master_key *new_mk, int *count)
{
	*count = 0;
	if (store_begin(st) != STORE_OK)
		return -1;
	if (keystore_rewrap_within(st, old_mk, new_mk, count) != 0) {
		store_rollback(st);
		*count = 0;
		return -1;
	}
	if (store_commit(st) != STORE_OK) {
		*count = 0;
		return -1;
	}
	return 0;
}

/* ---- key sets ---- */

struct keyset_entry {
	char *kid;
	enum jws_alg alg;
	int state_rank;            /* 0 active, 1 next, 2 retired: JWKS order */
	int64_t activated_at;
	EVP_PKEY *pub;
	EVP_PKEY *priv;            /* active keys only */
	struct jws_verifier *verifier;
};

struct keyset {
	atomic_int refs;
	int64_t version;
	struct keyset_entry *v;
	size_t n;
	size_t signer;             /* index into v, or n when none */
	struct jws_signer *jws;    /* the signer's prepared JWS signer */
	char *jwks;
	size_t jwks_len;
};

static void
keyset_free(struct keyset *ks)
{
	size_t i;

	for (i = 0; i < ks->n; i++) {
		free(ks->v[i].kid);
		EVP_PKEY_free(ks->v[i].pub);
		EVP_PKEY_free(ks->v[i].priv);
		jws_verifier_free(ks->v[i].verifier);
	}
	free(ks->v);
	free(ks->jwks);
	jws_signer_free(ks->jws);
	free(ks);
}

void
keyset_ref(struct keyset *ks)
{
	atomic_fetch_add(&ks->refs, 1);
}

void
keyset_unref(struct keyset *ks)
{
	if (ks != NULL && atomic_fetch_sub(&ks->refs, 1) == 1)
		keyset_free(ks);
}

static int
state_rank(const char *state)
{
	if (strcmp(state, "active") == 0)
		return 0;
	if (strcmp(state, "next") == 0)
		return 1;
	return 2;
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct keyset_entry *x = a, *y = b;

	if (x->state_rank != y->state_rank)
		return x->state_rank - y->state_rank;
	return (x->activated_at < y->activated_at) - (x->activated_at > y->activated_at);
}

static int
render_jwks(struct keyset *ks)
{
	json_t *doc = NULL, *arr, *jwk;
	size_t i;
	int rc = -1;

	if ((doc = json_object()) == NULL || (arr = json_array()) == NULL)
		goto out;
	json_object_set_new(doc, "keys", arr);
	for (i = 0; i < ks->n; i++) {
		if (jwk_public_to_json(ks->v[i].pub, &jwk) != 0)
			goto out;
		json_object_set_new(jwk, "kid", json_string(ks->v[i].kid));
		json_object_set_new(jwk, "alg", json_string(jws_alg_name(ks->v[i].alg)));
		json_object_set_new(jwk, "use", json_string("sig"));
		if (json_array_append_new(arr, jwk) != 0)
			goto out;
	}
	if ((ks->jwks = json_dumps(doc, JSON_COMPACT)) == NULL)
		goto out;
	ks->jwks_len = strlen(ks->jwks);
	rc = 0;
out:
	json_decref(doc);
	return rc;
}

static int
keyset_fill(struct keyset *ks, const struct key_rows *rows, const struct master_key *mk)
{
	json_error_t jerr;
	size_t i;

	if (rows->n > 0 && (ks->v = calloc(rows->n, sizeof(*ks->v))) == NULL)
		return -1;
	for (i = 0; i < rows->n; i++) {
		const struct store_key *k = &rows->v[i];
		struct keyset_entry *e = &ks->v[ks->n];
		json_t *jwk;
		int r;

		if ((e->kid = strdup(k->kid)) == NULL)
			return -1;
		ks->n++;
		e->alg = jws_alg_parse(k->alg);
		e->state_rank = state_rank(k->state);
		e->activated_at = k->activated_at;
		if ((jwk = json_loads(k->public_jwk, 0, &jerr)) == NULL)
			return -1;
		r = jwk_from_json(jwk, 0, &e->pub);
		json_decref(jwk);
		if (r != 0 || jwk_alg_of_key(e->pub) != e->alg ||
		    jws_verifier_new(e->pub, &e->verifier) != 0)
			return -1;
		if (e->state_rank == 0 &&
		    keystore_unseal(mk, k->kid, k->private_enc, k->private_enc_len, &e->priv) != 0)
			return KEYSTORE_EMASTER;
	}
	if (ks->n > 1)
		qsort(ks->v, ks->n, sizeof(*ks->v), entry_cmp);
	/* After sorting, the first entry is the most recently activated active key. */
	ks->signer = (ks->n > 0 && ks->v[0].state_rank == 0) ? 0 : ks->n;
	if (ks->signer < ks->n &&
	    jws_signer_new(ks->v[0].priv, ks->v[0].kid, "at+jwt", &ks->jws) != 0)
		return -1;
	return render_jwks(ks);
}

int
keyset_load(struct store *st, const struct master_key *mk, struct keyset **out)
{
	struct key_rows rows = {NULL, 0};
	struct keyset *ks = NULL;
	int64_t before = -1, after = -2;
	int attempt, rc = -1;

	*out = NULL;
	/* Read the version before and after the rows: equal means a consistent view. */
	for (attempt = 0; attempt < 5 && before != after; attempt++) {
		key_rows_free(&rows);
		if (store_keys_version(st, &before) != STORE_OK || key_rows_load(st, &rows) != 0 ||
		    store_keys_version(st, &after) != STORE_OK)
			goto out;
	}
	if (before != after)
		goto out;
	if ((ks = calloc(1, sizeof(*ks))) == NULL)
		goto out;
	atomic_init(&ks->refs, 1);
	ks->version = before;
	if ((rc = keyset_fill(ks, &rows, mk)) != 0)
		goto out;
	*out = ks;
	ks = NULL;
out:
	if (ks != NULL)
		keyset_free(ks);
	key_rows_free(&rows);
	return rc == KEYSTORE_EMASTER ? KEYSTORE_EMASTER : (*out ? 0 : -1);
}

int
keyset_signer(const struct keyset *ks, EVP_PKEY **key, const char **kid)
{
	*key = NULL;
	*kid = NULL;
	if (ks == NULL || ks->signer >= ks->n || ks->v[ks->signer].priv == NULL)
		return -1;
	*key = ks->v[ks->signer].priv;
	*kid = ks->v[ks->signer].kid;
	return 0;
}

const struct jws_signer *
keyset_jws_signer(const struct keyset *ks)
{
	return ks != NULL ? ks->jws : NULL;
}

const struct jws_verifier *
keyset_verifier(const struct keyset *ks, const char *kid)
{
	size_t i;

	if (ks == NULL || kid == NULL)
		return NULL;
	for (i = 0; i < ks->n; i++) {
		if (strcmp(ks->v[i].kid, kid) == 0)
			return ks->v[i].verifier;
	}
	return NULL;
}

EVP_PKEY *
keyset_find(const struct keyset *ks, const char *kid)
{
	size_t i;

	if (ks == NULL || kid == NULL)
		return NULL;
	for (i = 0; i < ks->n; i++) {
		if (strcmp(ks->v[i].kid, kid) == 0)
			return ks->v[i].pub;
	}
	return NULL;
}

const char *
keyset_jwks(const struct keyset *ks, size_t *len)
{
	*len = ks->jwks_len;
	return ks->jwks;
}

int64_t
keyset_signer_activated_at(const struct keyset *ks)
{
	return ks->signer < ks->n ? ks->v[ks->signer].activated_at : 0;
}

int64_t
keyset_version(const struct keyset *ks)
{
	return ks->version;
}

size_t
keyset_count(const struct keyset *ks)
{
	return ks->n;
}
