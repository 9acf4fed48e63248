/* Key sealing, states, rotation, rewrap, key sets, and no private key in clear on disk. */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "jose/keystore.h"
#include "tap.h"

struct tally {
	int next, active, retired;
	char active_alg[16];
};

static int
tally_key(const struct store_key *k, void *arg)
{
	struct tally *t = arg;

	if (strcmp(k->state, "next") == 0)
		t->next++;
	else if (strcmp(k->state, "active") == 0) {
		t->active++;
		snprintf(t->active_alg, sizeof(t->active_alg), "%s", k->alg);
	} else
		t->retired++;
	return 0;
}

static struct tally
count(struct store *st)
{
	struct tally t;

	memset(&t, 0, sizeof(t));
	store_key_list(st, tally_key, &t);
	return t;
}

static void
sealing(void)
{
	struct master_key mk, other;
	EVP_PKEY *key = NULL, *back = NULL;
	unsigned char *der = NULL, *blob = NULL;
	size_t bloblen = 0;
	int derlen;

	ok(master_key_ephemeral(&mk) == 0 && master_key_ephemeral(&other) == 0, "two master keys");
	ok(jwk_generate(JWS_ALG_ES256, &key) == 0, "a key");
	derlen = i2d_PrivateKey(key, &der);
	ok(keystore_seal(&mk, "kid1", der, (size_t)derlen, &blob, &bloblen) == 0, "seal");
	ok(bloblen > (size_t)derlen && memmem(blob, bloblen, der, (size_t)derlen) == NULL,
	    "sealed blob does not contain the DER");
	ok(keystore_unseal(&mk, "kid1", blob, bloblen, &back) == 0, "unseal");
	ok(back != NULL && EVP_PKEY_eq(key, back) == 1, "same key back");
	EVP_PKEY_free(back);
	back = NULL;
	ok(keystore_unseal(&other, "kid1", blob, bloblen, &back) != 0 && back == NULL,
	    "wrong master key fails cleanly");
	ok(keystore_unseal(&mk, "kid2", blob, bloblen, &back) != 0,
	    "a blob moved to another kid fails (kid is associated data)");
	blob[bloblen / 2] ^= 1;
	ok(keystore_unseal(&mk, "kid1", blob, bloblen, &back) != 0, "tampered blob fails");
	ok(keystore_unseal(&mk, "kid1", blob, 10, &back) != 0, "short blob fails");
	OPENSSL_free(der);
	free(blob);
	EVP_PKEY_free(key);
}

static void
master_files(void)
{
	char dir[] = "/tmp/t_keystore_XXXXXX", path[128], err[256];
	struct master_key mk, again;
	int fd;

	ok(mkdtemp(dir) != NULL, "temp dir");
	snprintf(path, sizeof(path), "%s/master.key", dir);
	ok(master_key_create(path, &mk, err, sizeof(err)) == 0, "create master key file");
	ok(master_key_create(path, &again, err, sizeof(err)) != 0, "never overwrites");
	ok(master_key_load(path, &again, err, sizeof(err)) == 0 &&
	    memcmp(mk.bytes, again.bytes, MASTER_KEY_LEN) == 0, "loads back the same key");
	chmod(path, 0644);
	ok(master_key_load(path, &again, err, sizeof(err)) != 0 && strstr(err, "chmod 600"),
	    "world-readable key file refused: %s", err);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	ok(write(fd, "c2hvcnQ=\n", 9) == 9, "write a short key");
	close(fd);
	ok(master_key_load(path, &again, err, sizeof(err)) != 0, "short key refused: %s", err);
	unlink(path);
	ok(master_key_load(path, &again, err, sizeof(err)) != 0, "missing file: %s", err);
	ok(master_key_load(NULL, &again, err, sizeof(err)) != 0, "no path: %s", err);
	rmdir(dir);
}

static void
lifecycle(void)
{
	struct store_options opt = {.synchronous = "NORMAL", .create = 1};
	struct rotate_policy p = {.alg = JWS_ALG_ES256, .jwks_max_age = 100, .max_token_ttl = 600};
	struct master_key mk, mk2;
	struct store *st = NULL;
	struct keyset *ks = NULL;
	struct tally t;
	EVP_PKEY *signer;
	const char *kid, *jwks;
	char *path = store_memory_path_new(), first_kid[64];
	int64_t wait, v1, v2;
	size_t len;
	int count_rw = 0, rc;

	master_key_ephemeral(&mk);
	master_key_ephemeral(&mk2);
	ok(store_open(path, &opt, &st) == STORE_OK && store_migrate(st, NULL) == STORE_OK, "db");
	ok(keystore_ensure(st, &mk, JWS_ALG_ES256, 1000) == 0, "ensure keys");
	t = count(st);
	ok(t.active == 1 && t.next == 1 && t.retired == 0, "one active, one next");
	store_keys_version(st, &v1);
	ok(keystore_ensure(st, &mk, JWS_ALG_ES256, 1000) == 0, "ensure again");
	t = count(st);
	ok(t.active == 1 && t.next == 1, "ensure is idempotent");
	store_keys_version(st, &v2);
	is_int(v2, v1, "no version bump when nothing changed");

	ok(keyset_load(st, &mk, &ks) == 0, "key set loads");
	is_int(keyset_count(ks), 2, "two keys published");
	ok(keyset_signer(ks, &signer, &kid) == 0, "a signer");
	snprintf(first_kid, sizeof(first_kid), "%s", kid);
	jwks = keyset_jwks(ks, &len);
	ok(strstr(jwks, first_kid) != NULL && strstr(jwks, "\"d\"") == NULL,
	    "JWKS has the active kid and no private member");
	ok(keyset_find(ks, first_kid) != NULL && keyset_find(ks, "nope") == NULL, "find by kid");
	keyset_unref(ks);
	ks = NULL;
	is_int(keyset_load(st, &mk2, &ks), KEYSTORE_EMASTER, "wrong master key: clear error");

	/* Pre-publication: the next key may not sign before jwks_max_age has passed. */
	is_int(keystore_rotate(st, &mk, &p, 1050, &wait), ROTATE_TOO_SOON, "too soon");
	is_int(wait, 50, "50 s to wait");
	is_int(keystore_rotate(st, &mk, &p, 1100, &wait), ROTATE_DONE, "rotates after max age");
	t = count(st);
	ok(t.active == 1 && t.next == 1 && t.retired == 1, "next->active, active->retired, new next");
	ok(keyset_load(st, &mk, &ks) == 0 && keyset_signer(ks, &signer, &kid) == 0 &&
	    strcmp(kid, first_kid) != 0, "the signer changed");
	ok(keyset_find(ks, first_kid) != NULL, "the retired key is still published");
	is_int(keyset_count(ks), 3, "three keys published");
	keyset_unref(ks);
	ks = NULL;

	/* The retired key goes once its tokens have surely expired (1100 + 2 * 600). */
	is_int(keystore_rotate(st, &mk, &p, 1200, &wait), ROTATE_DONE, "second rotation");
	t = count(st);
	is_int(t.retired, 2, "two retired");
	is_int(keystore_rotate(st, &mk, &p, 2299, &wait), ROTATE_DONE, "third rotation");
	ok(keyset_load(st, &mk, &ks) == 0 && keyset_find(ks, first_kid) != NULL,
	    "the first key is still published just before its deletion time");
	keyset_unref(ks);
	ks = NULL;
	is_int(keystore_rotate(st, &mk, &p, 2400, &wait), ROTATE_DONE, "fourth rotation");
	ok(keyset_load(st, &mk, &ks) == 0 && keyset_find(ks, first_kid) == NULL,
	    "the first key is gone after its deletion time");
	keyset_unref(ks);
	ks = NULL;

	/* Algorithm switch: staged first, promoted after the wait. */
	p.alg = JWS_ALG_EDDSA;
	is_int(keystore_rotate(st, &mk, &p, 2500, &wait), ROTATE_STAGED, "EdDSA key staged");
	t = count(st);
	is_str(t.active_alg, "ES256", "ES256 still signs");
	is_int(keystore_rotate(st, &mk, &p, 2550, &wait), ROTATE_TOO_SOON, "EdDSA not yet");
	is_int(keystore_rotate(st, &mk, &p, 2600, &wait), ROTATE_DONE, "EdDSA promoted");
	t = count(st);
	is_str(t.active_alg, "EdDSA", "EdDSA signs now");
	is_int(t.next, 1, "one next key (the stale ES256 next is dropped)");
	p.force = 1;
	p.alg = JWS_ALG_RS256;
	is_int(keystore_rotate(st, &mk, &p, 2601, &wait), ROTATE_DONE, "forced switch to RS256");
	t = count(st);
	is_str(t.active_alg, "RS256", "RS256 signs at once when forced");

	/* A scheduled rotation happens once, whoever asks first. */
	p.force = 0;
	p.alg = JWS_ALG_RS256;
	p.jwks_max_age = 0;
	p.due_after = 100;
	is_int(keystore_rotate(st, &mk, &p, 2650, &wait), ROTATE_NOT_DUE,
	    "not due: the active key is younger than due_after");
	is_int(keystore_rotate(st, &mk, &p, 2701, &wait), ROTATE_DONE, "due: rotated");
	is_int(keystore_rotate(st, &mk, &p, 2701, &wait), ROTATE_NOT_DUE,
	    "a second server asking at the same moment does nothing");
	/* An emergency: the active key is deleted at once, not retired. */
	ok(keyset_load(st, &mk, &ks) == 0 && keyset_signer(ks, &signer, &kid) == 0, "a signer");
	snprintf(first_kid, sizeof(first_kid), "%s", kid);
	keyset_unref(ks);
	ks = NULL;
	p.due_after = 0;
	p.force = p.emergency = 1;
	is_int(keystore_rotate(st, &mk, &p, 2702, &wait), ROTATE_DONE, "emergency rotation");
	ok(keyset_load(st, &mk, &ks) == 0 && keyset_find(ks, first_kid) == NULL,
	    "the compromised key is no longer published");
	keyset_unref(ks);
	ks = NULL;
	p.emergency = 0;

	/* Rewrap: the new master key opens every key, the old one none. */
	/* Apart: the message's count must be read after the call has set it. */
	rc = keystore_rewrap(st, &mk, &mk2, &count_rw);
	ok(rc == 0 && count_rw > 0, "rewrap %d keys", rc == 0 ? count_rw : 0);
	ok(keyset_load(st, &mk2, &ks) == 0, "new master key opens the keys");
	keyset_unref(ks);
	ks = NULL;
	is_int(keyset_load(st, &mk, &ks), KEYSTORE_EMASTER, "old master key no longer does");
	ok(keystore_rewrap(st, &mk, &mk2, &count_rw) != 0, "rewrap with the wrong key fails");
	ok(keyset_load(st, &mk2, &ks) == 0, "and changed nothing");
	keyset_unref(ks);
	store_close(st);
	free(path);
}

struct scalars {
	const struct master_key *mk;
	unsigned char d[8][32];
	int n;
};

/* The private scalar of each key row, decrypted. */
static int
collect_private(const struct store_key *k, void *arg)
{
	struct scalars *sc = arg;
	EVP_PKEY *key = NULL;
	BIGNUM *d = NULL;
	int n = 0;

	if (sc->n >= 8 ||
	    keystore_unseal(sc->mk, k->kid, k->private_enc, k->private_enc_len, &key) != 0)
		return -1;
	if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &d) == 1)
		n = BN_bn2binpad(d, sc->d[sc->n], 32);
	BN_free(d);
	EVP_PKEY_free(key);
	if (n != 32)
		return -1;
	sc->n++;
	return 0;
}

static unsigned char *
slurp(const char *path, size_t *len)
{
	unsigned char *data = NULL;
	FILE *f = fopen(path, "rb");
	long n;

	*len = 0;
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	if (n > 0 && (data = malloc((size_t)n)) != NULL && fread(data, 1, (size_t)n, f) == (size_t)n)
		*len = (size_t)n;
	fclose(f);
	return data;
}

static void
no_clear_private_key_on_disk(void)
{
	struct store_options opt = {.synchronous = "NORMAL", .create = 1};
	struct master_key mk;
	struct scalars sc;
	char path[] = "/tmp/t_keyfile_XXXXXX", side[64];
	struct store *st = NULL;
	unsigned char *file;
	size_t flen;
	int fd, i, found = 0;

	fd = mkstemp(path);
	close(fd);
	unlink(path);
	master_key_ephemeral(&mk);
	memset(&sc, 0, sizeof(sc));
	sc.mk = &mk;
	ok(store_open(path, &opt, &st) == STORE_OK && store_migrate(st, NULL) == STORE_OK &&
	    keystore_ensure(st, &mk, JWS_ALG_ES256, 1) == 0, "file db with keys");
	ok(store_key_list(st, collect_private, &sc) == STORE_OK, "private scalars decrypted");
	is_int(sc.n, 2, "two private keys examined");
	/* Closing checkpoints the WAL into the main file. */
	store_close(st);
	file = slurp(path, &flen);
	ok(flen > 0, "database file read (%zu bytes)", flen);
	for (i = 0; i < sc.n; i++)
		found |= memmem(file, flen, sc.d[i], 32) != NULL;
	ok(!found, "no private key scalar appears in the database file");
	free(file);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
	unlink(path);
}

/* Envelopes (the vault): each secret under its own data key, both bound to the same
 * associated data; a master key change rewraps the data key only. */
static void
envelopes(void)
{
	static const unsigned char secret[] = "ghp_0123456789abcdef";
	struct master_key mk, mk2;
	struct sealed_envelope e, e2;
	unsigned char *out = NULL, *rewrapped = NULL;
	size_t n = 0, rn = 0;

	ok(master_key_ephemeral(&mk) == 0 && master_key_ephemeral(&mk2) == 0, "two master keys");
	ok(seal_envelope(&mk, "credential github v1", secret, sizeof(secret) - 1, &e) == 0, "seal");
	ok(memmem(e.sealed, e.sealed_len, "ghp_", 4) == NULL, "the sealed blob does not hold it");
	ok(unseal_envelope(&mk, "credential github v1", e.wrapped_key, e.wrapped_key_len, e.sealed,
	       e.sealed_len, &out, &n) == 0 &&
	       n == sizeof(secret) - 1 && memcmp(out, secret, n) == 0,
	    "opens to the secret");
	OPENSSL_clear_free(out, n);
	ok(unseal_envelope(&mk, "credential github v2", e.wrapped_key, e.wrapped_key_len, e.sealed,
	       e.sealed_len, &out, &n) != 0,
	    "another version's associated data: refused (rows cannot be swapped)");
	ok(unseal_envelope(&mk2, "credential github v1", e.wrapped_key, e.wrapped_key_len, e.sealed,
	       e.sealed_len, &out, &n) != 0,
	    "another master key: refused");
	ok(seal_envelope(&mk, "credential github v1", secret, sizeof(secret) - 1, &e2) == 0 &&
	       unseal_envelope(&mk, "credential github v1", e2.wrapped_key, e2.wrapped_key_len,
		   e.sealed, e.sealed_len, &out, &n) != 0,
	    "each secret has its own data key: another envelope's key does not open it");
	e.sealed[e.sealed_len - 1] ^= 1;
	ok(unseal_envelope(&mk, "credential github v1", e.wrapped_key, e.wrapped_key_len, e.sealed,
	       e.sealed_len, &out, &n) != 0,
	    "a flipped bit: refused");
	e.sealed[e.sealed_len - 1] ^= 1;
	ok(rewrap_envelope_key(&mk, &mk2, "credential github v1", e.wrapped_key, e.wrapped_key_len,
	       &rewrapped, &rn) == 0,
	    "rewrap the data key under a new master key");
	ok(unseal_envelope(&mk2, "credential github v1", rewrapped, rn, e.sealed, e.sealed_len, &out,
	       &n) == 0 && memcmp(out, secret, n) == 0,
	    "the same sealed secret opens under the new master key");
	OPENSSL_clear_free(out, n);
	ok(rewrap_envelope_key(&mk2, &mk, "credential github v1", e.wrapped_key, e.wrapped_key_len,
	       &out, &n) != 0,
	    "rewrap with the wrong old master key: refused");
	free(rewrapped);
	sealed_envelope_clear(&e);
	sealed_envelope_clear(&e2);
	master_key_wipe(&mk);
	master_key_wipe(&mk2);
}

int
main(void)
{
	sealing();
	envelopes();
	master_files();
	lifecycle();
	no_clear_private_key_on_disk();
	return tap_done();
}
