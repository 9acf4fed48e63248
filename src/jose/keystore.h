/* Signing keys: generation, sealing under the master key, states and rotation, and the
 * in-memory key set (signing key, verification keys, rendered JWKS). */
#ifndef MCP_JOSE_KEYSTORE_H
#define MCP_JOSE_KEYSTORE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "jose/jwk.h"
#include "jose/seal.h"
#include "store/store.h"

/* A private key would not open: wrong master key, or the database was altered. */
#define KEYSTORE_EMASTER (-2)

/* AES-256-GCM seal of a private key's PKCS#8 DER, bound to kid as associated
 * data. *blob is new (free()). */
int keystore_seal(const struct master_key *mk, const char *kid, const unsigned char *der,
    size_t derlen, unsigned char **blob, size_t *bloblen);

/* Open a sealed blob into a private key. Fails (-1) on a wrong master key or
 * any tampering. */
int keystore_unseal(const struct master_key *mk, const char *kid, const unsigned char *blob,
    size_t bloblen, EVP_PKEY **key);

/* Generate a key for alg and insert it in `state` ("next" or "active"); the caller
 * holds the transaction. *kid_out (may be NULL) receives the new kid (free()). */
int keystore_create(struct store *st, const struct master_key *mk, enum jws_alg alg,
    const char *state, int64_t now, char **kid_out);

/* Make sure an active and a next key of alg exist (init). Bumps the keys version
 * when it creates any. Runs in its own transaction. */
int keystore_ensure(struct store *st, const struct master_key *mk, enum jws_alg alg, int64_t now);

/* Rotation policy inputs. */
struct rotate_policy {
	enum jws_alg alg;          /* algorithm wanted for new tokens */
	int64_t jwks_max_age;      /* a next key must be published this long first */
	int64_t max_token_ttl;     /* how long a retired key must stay published */
	int force;                 /* skip the pre-publication wait */
	int emergency;             /* a compromised key: delete the active key at once
				    * instead of retiring it (its tokens stop verifying) */
	int64_t due_after;         /* scheduled rotation: only when the active key has been
				    * active this long (0: always); checked inside the
				    * transaction, so that servers sharing a database rotate
				    * once, not once each */
};

enum {
	ROTATE_DONE = 0,
	ROTATE_TOO_SOON = 1,       /* next key not yet published long enough */
	ROTATE_STAGED = 2,         /* a next key of a new alg was created; promote later */
	ROTATE_NOT_DUE = 3,        /* due_after not reached: nothing done */
};

/* How long a retired key stays published: the longest token it may have signed, twice
 * over, for clocks that disagree and tokens held a little past their expiry. */
#define KEYSTORE_RETIRE_FACTOR 2

/* One rotation in one transaction: next -> active, active -> retired (deleted
 * after max_token_ttl), new next; retired keys past their time deleted. Returns
 * a ROTATE_* value (>= 0) or a negative error; *wait_out gets the seconds left
 * when ROTATE_TOO_SOON. */
int keystore_rotate(struct store *st, const struct master_key *mk, const struct rotate_policy *p,
    int64_t now, int64_t *wait_out);

/* The longest lifetime an access token may have been given: the server default or any
 * resource's own, whichever is longer. */
int keystore_max_token_ttl(struct store *st, int64_t default_ttl, int64_t *out);

/* Re-encrypt every private key under new_mk in one transaction. */
int keystore_rewrap(struct store *st, const struct master_key *old_mk,
    const struct master_key *new_mk, int *count);
/* The same inside the caller's transaction, so that other sealed secrets can move to
 * the new master key with the keys, all or nothing. */
int keystore_rewrap_within(struct store *st, const struct master_key *old_mk,
    const struct master_key *new_mk, int *count);

/* ---- the in-memory key set ---- */

struct keyset;

/* Load every published key; decrypt the active ones. Refcount starts at 1.
 * KEYSTORE_EMASTER when an active key will not open under mk. */
int keyset_load(struct store *st, const struct master_key *mk, struct keyset **out);

void keyset_ref(struct keyset *ks);
/* Drop a reference; frees on the last one. Accepts NULL. */
void keyset_unref(struct keyset *ks);

/* The signing key (the most recently activated active key), borrowed for the life
 * of the reference. -1 when there is none. */
int keyset_signer(const struct keyset *ks, EVP_PKEY **key, const char **kid);

/* The signing key's prepared signer for access tokens (typ at+jwt), borrowed for the
 * life of the reference; NULL when there is no signing key. */
struct jws_signer;
const struct jws_signer *keyset_jws_signer(const struct keyset *ks);

/* A published key's prepared verifier by kid, borrowed; NULL when unknown. */
struct jws_verifier;
const struct jws_verifier *keyset_verifier(const struct keyset *ks, const char *kid);

/* A published key by kid, borrowed; NULL when unknown. */
EVP_PKEY *keyset_find(const struct keyset *ks, const char *kid);

/* The rendered JWKS document {"keys":[...]}: active, next, retired. Borrowed. */
const char *keyset_jwks(const struct keyset *ks, size_t *len);

/* When the signing key became active (0 when there is none). */
int64_t keyset_signer_activated_at(const struct keyset *ks);

/* The keys version the set was loaded at. */
int64_t keyset_version(const struct keyset *ks);

/* Number of keys published. */
size_t keyset_count(const struct keyset *ks);

#endif
