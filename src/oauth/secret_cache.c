/* Direct-mapped cache of HMAC(process key, client_id, secret) per client. */
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

struct slot {
	unsigned char id_mac[MAC_LEN];     /* HMAC of the client_id: which client */
	unsigned char hash_digest[32];     /* SHA-256 of the stored argon2 string */
	unsigned char secret_mac[MAC_LEN]; /* HMAC of client_id || 0 || secret */
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

/* Keyed hash SHA-256(key || len(a) || len(b) || a || b): the lengths keep ("ab", "c")
 * and ("a", "bc") apart, and the output never leaves the process. */
static void
mac2(const struct secret_cache *c, const char *a, const char *b, unsigned char *out)
{
	uint64_t lens[2] = {strlen(a), b ? strlen(b) : 0};
	unsigned int len = MAC_LEN;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (ctx == NULL || EVP_DigestInit_ex(ctx, c->md, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, c->key, sizeof(c->key)) != 1 ||
	    EVP_DigestUpdate(ctx, lens, sizeof(lens)) != 1 ||
	    EVP_DigestUpdate(ctx, a, lens[0]) != 1 ||
	    (lens[1] > 0 && EVP_DigestUpdate(ctx, b, lens[1]) != 1) ||
	    EVP_DigestFinal_ex(ctx, out, &len) != 1)
		memset(out, 0, MAC_LEN); /* an all-zero MAC never matches a stored one */
	EVP_MD_CTX_free(ctx);
}

static void
digest(const struct secret_cache *c, const char *s, unsigned char *out)
{
	unsigned int len = 32;

	if (EVP_Digest(s, strlen(s), out, &len, c->md, NULL) != 1)
		memset(out, 0, 32);
}

static struct slot *
slot_for(struct secret_cache *c, const unsigned char *id_mac)
{
	uint64_t h;

	memcpy(&h, id_mac, sizeof(h));
	return &c->slots[h % c->nslots];
}

int
secret_cache_check(struct secret_cache *c, const char *client_id, const char *stored_hash,
    const char *secret)
{
	unsigned char id_mac[MAC_LEN], secret_mac[MAC_LEN], hdigest[32];
	struct slot *s;
	int hit;

	if (c == NULL || client_id == NULL || stored_hash == NULL || secret == NULL)
		return 0;
	mac2(c, client_id, NULL, id_mac);
	mac2(c, client_id, secret, secret_mac);
	digest(c, stored_hash, hdigest);
	pthread_mutex_lock(&c->lock);
	s = slot_for(c, id_mac);
	hit = s->used && CRYPTO_memcmp(s->id_mac, id_mac, MAC_LEN) == 0 &&
	    CRYPTO_memcmp(s->hash_digest, hdigest, sizeof(hdigest)) == 0 &&
	    CRYPTO_memcmp(s->secret_mac, secret_mac, MAC_LEN) == 0;
	pthread_mutex_unlock(&c->lock);
	OPENSSL_cleanse(secret_mac, sizeof(secret_mac));
	return hit;
}

void
secret_cache_put(struct secret_cache *c, const char *client_id, const char *stored_hash,
    const char *secret)
{
	unsigned char id_mac[MAC_LEN], secret_mac[MAC_LEN], hdigest[32];
	struct slot *s;

	if (c == NULL || client_id == NULL || stored_hash == NULL || secret == NULL)
		return;
	mac2(c, client_id, NULL, id_mac);
	mac2(c, client_id, secret, secret_mac);
	digest(c, stored_hash, hdigest);
	pthread_mutex_lock(&c->lock);
	s = slot_for(c, id_mac);
	memcpy(s->id_mac, id_mac, MAC_LEN);
	memcpy(s->hash_digest, hdigest, sizeof(hdigest));
	memcpy(s->secret_mac, secret_mac, MAC_LEN);
	s->used = 1;
	pthread_mutex_unlock(&c->lock);
	OPENSSL_cleanse(secret_mac, sizeof(secret_mac));
}

void
secret_cache_forget(struct secret_cache *c, const char *client_id)
{
	unsigned char id_mac[MAC_LEN];
	struct slot *s;

	if (c == NULL || client_id == NULL)
		return;
	mac2(c, client_id, NULL, id_mac);
	pthread_mutex_lock(&c->lock);
	s = slot_for(c, id_mac);
	if (s->used && CRYPTO_memcmp(s->id_mac, id_mac, MAC_LEN) == 0)
		memset(s, 0, sizeof(*s));
	pthread_mutex_unlock(&c->lock);
}
