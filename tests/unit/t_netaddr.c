/* Unit tests for address-in-network checks (src/util/netaddr.h), which decide whose
 * X-Forwarded-For is believed. */
#include "config.h"

#include "util/netaddr.h"

#include "tap.h"

static void
test_valid(void)
{
	ok(netaddr_valid("127.0.0.1"), "IPv4 address");
	ok(netaddr_valid("::1"), "IPv6 loopback");
	ok(netaddr_valid("2001:db8::5"), "IPv6 address");
	ok(netaddr_valid("::ffff:192.0.2.1"), "IPv4-mapped IPv6");
	ok(!netaddr_valid(""), "empty");
	ok(!netaddr_valid("localhost"), "a name is not an address");
	ok(!netaddr_valid("10.0.0.0/8"), "a network is not an address");
	ok(!netaddr_valid("256.1.1.1"), "octet out of range");
	ok(!netaddr_valid("1.2.3"), "three octets");
	ok(!netaddr_valid(" 1.2.3.4"), "leading space");
	ok(!netaddr_valid("1.2.3.4:80"), "with a port");
	ok(!netaddr_valid("[::1]"), "bracketed IPv6");
}

static void
test_list_valid(void)
{
	ok(netaddr_list_valid("127.0.0.1"), "one address");
	ok(netaddr_list_valid("127.0.0.1 ::1, 10.0.0.0/8,fd00::/8"), "spaces and commas");
	ok(netaddr_list_valid("0.0.0.0/0"), "everything (IPv4)");
	ok(netaddr_list_valid("10.0.0.0/32"), "a /32");
	ok(!netaddr_list_valid(""), "empty list");
	ok(!netaddr_list_valid(" , "), "separators only");
	ok(!netaddr_list_valid("10.0.0.0/33"), "IPv4 prefix above 32");
	ok(!netaddr_list_valid("::/129"), "IPv6 prefix above 128");
	ok(!netaddr_list_valid("10.0.0.0/"), "slash without a prefix");
	ok(!netaddr_list_valid("10.0.0.0/-1"), "negative prefix");
	ok(!netaddr_list_valid("10.0.0.0/+8"), "signed prefix");
	ok(!netaddr_list_valid("10.0.0.0/8x"), "trailing junk after the prefix");
	ok(!netaddr_list_valid("127.0.0.1 proxy.local"), "one bad entry spoils the list");
	ok(!netaddr_list_valid(NULL), "NULL");
}

static void
test_in_list(void)
{
	ok(netaddr_in_list("127.0.0.1", "127.0.0.1"), "exact IPv4");
	ok(!netaddr_in_list("127.0.0.1", "127.0.0.2"), "another IPv4");
	ok(netaddr_in_list("10.0.0.0/8", "10.255.1.2"), "inside /8");
	ok(!netaddr_in_list("10.0.0.0/8", "11.0.0.1"), "outside /8");
	ok(netaddr_in_list("192.168.4.0/22", "192.168.7.255"), "inside a /22 (partial byte)");
	ok(!netaddr_in_list("192.168.4.0/22", "192.168.8.0"), "just outside the /22");
	ok(netaddr_in_list("0.0.0.0/0", "203.0.113.9"), "/0 holds every IPv4 address");
	ok(!netaddr_in_list("0.0.0.0/0", "2001:db8::1"), "but no IPv6 address");
	ok(netaddr_in_list("::1", "::1"), "exact IPv6");
	ok(netaddr_in_list("fd00::/8", "fd12:3456::1"), "inside an IPv6 /8");
	ok(!netaddr_in_list("fd00::/8", "fe80::1"), "outside it");
	ok(netaddr_in_list("10.0.0.0/8", "::ffff:10.1.2.3"), "IPv4-mapped peer matches an IPv4 net");
	ok(netaddr_in_list("bad 10.0.0.1", "10.0.0.1"), "a bad entry matches nothing, others still do");
	ok(!netaddr_in_list("10.0.0.0/8", "10.0.0.1/32"), "the address must be an address");
	ok(!netaddr_in_list("10.0.0.0/8", "not-an-ip"), "junk address");
	ok(!netaddr_in_list(NULL, "10.0.0.1"), "no list");
	ok(!netaddr_in_list("10.0.0.0/8", NULL), "no address");
}

int
main(void)
{
	test_valid();
	test_list_valid();
	test_in_list();
	return tap_done();
}
