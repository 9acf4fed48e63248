/* Address-in-network tests with inet_pton. */
#include "config.h"

#include "util/netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

/* Parse an address into 16 bytes (IPv4 mapped into IPv6); the family's bit length. */
static int
addr_parse(const char *text, unsigned char out[16], int *bits)
{
	struct in_addr v4;

	if (inet_pton(AF_INET6, text, out) == 1) {
		*bits = 128;
		return 0;
	}
	if (inet_pton(AF_INET, text, &v4) == 1) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &v4, 4);
		*bits = 32;
		return 0;
	}
	return -1;
}

int
netaddr_valid(const char *text)
{
	unsigned char a[16];
	int bits;

	return addr_parse(text, a, &bits) == 0;
}

/* Parse one list entry ("10.0.0.0/8", "::1") of len bytes into a network and its
 * prefix length counted over the 128-bit mapped form. */
static int
entry_parse(const char *entry, size_t len, unsigned char net[16], int *prefix)
{
	char buf[64];
	const char *slash;
	char *end;
	int bits;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, entry, len);
	buf[len] = '\0';
	slash = strchr(buf, '/');
	if (slash != NULL)
		buf[slash - buf] = '\0';
	if (addr_parse(buf, net, &bits) != 0)
		return -1;
	*prefix = bits;
	if (slash != NULL) {
		long v = strtol(slash + 1, &end, 10);

		if (*end != '\0' || end == slash + 1 || slash[1] < '0' || slash[1] > '9' || v < 0 ||
		    v > bits)
			return -1;
		*prefix = (int)v;
	}
	/* An IPv4 prefix counts from the start of the mapped address. */
	*prefix += 128 - bits;
	return 0;
}

static int
prefix_equal(const unsigned char net[16], const unsigned char addr[16], int prefix)
{
	int i;

	for (i = 0; i < prefix / 8; i++) {
		if (net[i] != addr[i])
			return 0;
	}
	if (prefix % 8 != 0) {
		unsigned char mask = (unsigned char)(0xff << (8 - prefix % 8));

		if ((net[i] & mask) != (addr[i] & mask))
			return 0;
	}
	return 1;
}

/* Call visit for each entry of a space/comma separated list; stop at the first
 * non-zero return and pass it on. */
static int
list_each(const char *list, int (*visit)(const char *entry, size_t len, void *arg), void *arg)
{
	const char *p = list;
	int r;

	while (*p != '\0') {
		size_t n;

		while (*p == ' ' || *p == ',')
			p++;
		n = strcspn(p, " ,");
		if (n > 0 && (r = visit(p, n, arg)) != 0)
			return r;
		p += n;
	}
	return 0;
}

static int
visit_contains(const char *entry, size_t len, void *arg)
{
	unsigned char net[16];
	int prefix;

	return entry_parse(entry, len, net, &prefix) == 0 && prefix_equal(net, arg, prefix);
}

static int
visit_malformed(const char *entry, size_t len, void *arg)
{
	unsigned char net[16];
	int prefix;

	(*(int *)arg)++;
	return entry_parse(entry, len, net, &prefix) != 0;
}

int
netaddr_list_valid(const char *list)
{
	int entries = 0;

	if (list == NULL || list_each(list, visit_malformed, &entries) != 0)
		return 0;
	return entries > 0;
}

int
netaddr_in_list(const char *list, const char *addr)
{
	unsigned char a[16];
	int bits;

	if (list == NULL || addr == NULL || addr_parse(addr, a, &bits) != 0)
		return 0;
	return list_each(list, visit_contains, a);
}

int
netaddr_key(const char *addr, char *out, size_t outlen)
{
	unsigned char a[16];
	int bits;

	if (outlen > 0)
		out[0] = '\0';
	if (addr_parse(addr, a, &bits) != 0)
		return -1;
	if (bits == 32 || (memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0)) {
		if (inet_ntop(AF_INET, a + 12, out, (socklen_t)outlen) == NULL)
			return -1;
		return 0;
	}
	/* One IPv6 subscriber holds a whole /64: counting its addresses one by one
	 * would let it pick a fresh address for every attempt. */
	memset(a + 8, 0, 8);
	if (inet_ntop(AF_INET6, a, out, (socklen_t)outlen) == NULL)
		return -1;
	if (strlen(out) + 4 > outlen)
		return -1;
	memcpy(out + strlen(out), "/64", 4);
	return 0;
}

void
netaddr_format(const struct sockaddr *sa, char *out, size_t outlen)
{
	out[0] = '\0';
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
		    (socklen_t)outlen);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
		    (socklen_t)outlen);
}
