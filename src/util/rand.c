/* Random bytes from OpenSSL's CSPRNG (never rand()). */
#include "config.h"

#include "util/rand.h"

#include <limits.h>

#include <openssl/rand.h>

int
rand_bytes(void *buf, size_t n)
{
	if (n > INT_MAX)
		return -1;
	return RAND_bytes(buf, (int)n) == 1 ? 0 : -1;
}
