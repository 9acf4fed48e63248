/* IP addresses and networks as text: "192.0.2.1", "10.0.0.0/8", "2001:db8::/32". */
#ifndef MCP_UTIL_NETADDR_H
#define MCP_UTIL_NETADDR_H

/* Is addr (an IPv4 or IPv6 address) in one of the networks or addresses of list
 * (separated by spaces or commas)? Entries that do not parse match nothing. */
int netaddr_in_list(const char *list, const char *addr);

/* Does every entry of list parse as an address or network, and is there one? */
int netaddr_list_valid(const char *list);

/* Is text a single IPv4 or IPv6 address? */
int netaddr_valid(const char *text);

#endif
