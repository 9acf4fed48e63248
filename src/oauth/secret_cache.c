/* Direct-mapped cache of SHA-256(process key, client_id, secret) per client. */
#include "config.h"

#include "oauth/secret_cache.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "util/rand.h"

#define MAC_LEN 32
#define ID_MAX 128     /* longer client ids are not cached (they are URLs of public clients) */
#define HASH_MAX 160   /* an argon2id PHC string with our parameters is about 97 */

struct slot {
	char client_id[ID_MAX + 1];
	char stored_hash[HASH_MAX + 1]; /* the argon2 hash the secret was verified against */
	unsigned char secret_mac[MAC_LEN];
	int used;
};

struct secret_cache {
	pthread_mutex_t lock;
	unsigned char key[32];
	EVP_MD *md;              /* fetched once: fetching per call is slow in OpenSSL 3 */
	size_t nslots;
	struct slot *slots;
};

int
secret_cache_new(size_t slots, struct secret_cache **out)
{
	struct secret_cache *c;

	*out = NULL;
	if (slots == 0 || (c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	if ((c->slots = calloc(slots, sizeof(*c->slots))) == NULL || rand_bytes(c->key, 32) != 0 ||
	    (c->md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL) {
		free(c->slots);
		free(c);
		return -1;
	}
	c->nslots = slots;
	pthread_mutex_init(&c->lock, NULL);
	*out = c;
	return 0;
}

void
secret_cache_free(struct secret_cache *c)
{
	if (c == NULL)
		return;
	OPENSSL_cleanse(c->key, sizeof(c->key));
	OPENSSL_clear_free(c->slots, c->nslots * sizeof(*c->slots));
	EVP_MD_free(c->md);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* Keyed hash SHA-256(key || len(id) || len(secret) || id || secret): the lengths keep
 * ("ab", "c") and ("a", "bc") apart, and the output never leaves the process. */
static int
secret_mac(const struct secret_cache *c, const char *id, const char *secret, unsigned char *out)
{
	uint64_t lens[2] = {strlen(id), strlen(secret)};
	unsigned int len = MAC_LEN;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	ok = ctx != NULL && EVP_DigestInit_ex(ctx, c->md, NULL) == 1 &&
	    EVP_DigestUpdate(ctx, c->key, sizeof(c->key)) == 1 &&
	    EVP_DigestUpdate(ctx, lens, sizeof(lens)) == 1 &&
	    EVP_DigestUpdate(ctx, id, lens[0]) == 1 && EVP_DigestUpdate(ctx, secret, lens[1]) == 1 &&
	    EVP_DigestFinal_ex(ctx, out, &len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

/* Which slot a client uses: not a secret, so a plain FNV-1a of the id does. */
static struct slot *
slot_for(struct secret_cache *c, const char *client_id)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *client_id != '\0'; client_id++) {
		h ^= (unsigned char)*client_id;
		h *= 1099511628211ULL;
	}
	return &c->slots[h % c->nslots];
}

static int
cacheable(const struct secret_cache *c, const char *client_id, const char *stored_hash,
    const char *secret)
{
	return c != NULL && client_id != NULL && stored_hash != NULL && secret != NULL &&
	    strlen(client_id) <= ID_MAX && strlen(stored_hash) <= HASH_MAX;
}

int
secret_cache_check(struct secret_cache *c, const char *client_id, const char *stored_hash,
    const char *secret)
{
	unsigned char mac[MAC_LEN];
	struct slot *s;
	int hit;

	if (!cacheable(c, client_id, stored_hash, secret) || secret_mac(c, client_id, secret, mac) != 0)
		return 0;
	pthread_mutex_lock(&c->lock);
	s = slot_for(c, client_id);
	/* A changed stored hash (a new secret, a re-created client) is a miss. */
	hit = s->used && strcmp(s->client_id, client_id) == 0 &&
	    strcmp(s->stored_hash, stored_hash) == 0 &&
	    CRYPTO_memcmp(s->secret_mac, mac, MAC_LEN) == 0;
	pthread_mutex_unlock(&c->lock);
	OPENSSL_cleanse(mac, sizeof(mac));
	return hit;
}

void
secret_cache_put(struct secret_cache *c, const char *client_id, const char *stored_hash,
    const char *secret)
{
	unsigned char mac[MAC_LEN];
	struct slot *s;

	if (!cacheable(c, client_id, stored_hash, secret) || secret_mac(c, client_id, secret, mac) != 0)
		return;
	pthread_mutex_lock(&c->lock);
	s = slot_for(c, client_id);
	memcpy(s->client_id, client_id, strlen(client_id) + 1);
	memcpy(s->stored_hash, stored_hash, strlen(stored_hash) + 1);
	memcpy(s->secret_mac, mac, MAC_LEN);
	s->used = 1;
	pthread_mutex_unlock(&c->lock);
	OPENSSL_cleanse(mac, sizeof(mac));
}

void
secret_cache_forget(struct secret_cache *c, const char *client_id)
{
	struct slot *s;

	if (c == NULL || client_id == NULL || strlen(client_id) > ID_MAX)
		return;
	pthread_mutex_lock(&c->lock);
	s = slot_for(c, client_id);
	if (s->used && strcmp(s->client_id, client_id) == 0)
		memset(s, 0, sizeof(*s));
	pthread_mutex_unlock(&c->lock);
}
