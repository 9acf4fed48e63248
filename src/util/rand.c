/* Random bytes from OpenSSL's CSPRNG (never rand()). */
#include "config.h"

#include "util/rand.h"

#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

int
rand_bytes(void *buf, size_t n)
{
	if (n > INT_MAX)
		return -1;
	return RAND_bytes(buf, (int)n) == 1 ? 0 : -1;
}

/* Each call of RAND_bytes pays a fixed cost (OpenSSL 3's CTR-DRBG rekeys its AES state
 * after every request, whatever its size): at 16 bytes per access token that was 5% of a
 * client_credentials request. Identifiers are taken from a per-thread block of DRBG
 * output instead, drawn 1 KiB at a time; the bytes handed out are wiped from the block.
 * The process never forks after starting its threads, so no two processes share one. */
#define ID_BLOCK 1024

static __thread unsigned char id_block[ID_BLOCK];
static __thread size_t id_left;

int
rand_id_bytes(void *buf, size_t n)
{
	unsigned char *from;

	if (n > ID_BLOCK / 8)
		return rand_bytes(buf, n);
	if (id_left < n) {
		if (RAND_bytes(id_block, ID_BLOCK) != 1)
			return -1;
		id_left = ID_BLOCK;
	}
	from = id_block + (ID_BLOCK - id_left);
	memcpy(buf, from, n);
	OPENSSL_cleanse(from, n);
	id_left -= n;
	return 0;
}
