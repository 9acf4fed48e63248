/* IP addresses and networks as text: "192.0.2.1", "10.0.0.0/8", "2001:db8::/32". */
#ifndef MCP_UTIL_NETADDR_H
#define MCP_UTIL_NETADDR_H

#include <stddef.h>

/* Is addr (an IPv4 or IPv6 address) in one of the networks or addresses of list
 * (separated by spaces or commas)? Entries that do not parse match nothing. */
int netaddr_in_list(const char *list, const char *addr);

/* Does every entry of list parse as an address or network, and is there one? */
int netaddr_list_valid(const char *list);

/* Is text a single IPv4 or IPv6 address? */
int netaddr_valid(const char *text);

struct sockaddr;

/* The text of a socket address (IPv4 or IPv6, no port) into out; "" for any other
 * family or NULL. */
void netaddr_format(const struct sockaddr *sa, char *out, size_t outlen);

/* The key under which per-address limits count addr: an IPv4 address (also when
 * written as ::ffff:a.b.c.d) as itself, an IPv6 address as its /64 ("2001:db8::/64").
 * -1 when addr is not an address or out (64 bytes suffice) is too small. */
int netaddr_key(const char *addr, char *out, size_t outlen);

#endif
