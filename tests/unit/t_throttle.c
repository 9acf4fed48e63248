/* Login throttling on a real SQLite store; the address keys and form limits it leans on. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "http/form.h"
#include "oauth/throttle.h"
#include "store/store.h"
#include "tap.h"
#include "util/netaddr.h"

#define S 1000 /* one second in milliseconds */

static void
test_delay(void)
{
	struct throttle_policy p = {1, 3, 10, 1, 8, 60};

	is_int(throttle_delay(&p, 3, 0), 0, "no delay before any failure");
	is_int(throttle_delay(&p, 3, 2), 0, "no delay below the threshold");
	is_int(throttle_delay(&p, 3, 3), 1, "the threshold earns the first delay");
	is_int(throttle_delay(&p, 3, 4), 2, "each further failure doubles it");
	is_int(throttle_delay(&p, 3, 5), 4, "and again");
	is_int(throttle_delay(&p, 3, 6), 8, "up to the cap");
	is_int(throttle_delay(&p, 3, 7), 8, "and no further");
	is_int(throttle_delay(&p, 3, INT64_C(1) << 40), 8, "however many failures (no overflow)");
	p.delay = 5;
	p.max_delay = 3;
	is_int(throttle_delay(&p, 1, 1), 3, "a first delay above the cap is capped too");
}

static void
test_throttle(struct store *st)
{
	struct throttle_policy p = {1, 3, 5, 1, 4, 60};
	struct store_purge_counts pc;
	const char *which = "x";
	int64_t wait = -1, t = INT64_C(1700000000) * S, until, n;
	int i;

	is_int(throttle_check(st, &p, "alice", "192.0.2.1", t, &wait, &which), 0,
	    "nobody is throttled at first");
	ok(wait == 0 && which == NULL, "outputs cleared");
	for (i = 0; i < 2; i++)
		is_int(throttle_failure(st, &p, "alice", "192.0.2.1", t), STORE_OK, "failure counted");
	is_int(throttle_check(st, &p, "alice", "192.0.2.1", t, &wait, &which), 0,
	    "two failures: not yet");
	throttle_failure(st, &p, "alice", "192.0.2.1", t);
	is_int(throttle_check(st, &p, "alice", "192.0.2.1", t + 500, &wait, &which), 1,
	    "the third failure throttles the account");
	is_int(wait, 500, "for the rest of the first delay (ms)");
	is_str(which, "account", "and says which limit");
	is_int(throttle_check(st, &p, "alice", "192.0.2.1", t + S, &wait, &which), 0,
	    "the delay ends on time");
	is_int(throttle_check(st, &p, "bob", "192.0.2.1", t + 500, &wait, &which), 0,
	    "another account from that address is not throttled (3 < 5)");
	throttle_failure(st, &p, "alice", "192.0.2.1", t + S);
	is_int(throttle_check(st, &p, "alice", "192.0.2.1", t + S, &wait, &which), 1,
	    "failure 4 throttles again");
	is_int(wait, 2 * S, "for twice as long");
	throttle_failure(st, &p, "alice", "192.0.2.1", t + 3 * S);
	is_int(throttle_check(st, &p, "bob", "192.0.2.1", t + 3 * S, &wait, &which), 1,
	    "the fifth failure from one address throttles every account from it");
	is_str(which, "address", "as an address limit");
	is_int(throttle_check(st, &p, "bob", "192.0.2.2", t + 3 * S, &wait, &which), 0,
	    "but not other addresses");
	throttle_failure(st, &p, "alice", "192.0.2.9", t + 10 * S);
	throttle_failure(st, &p, "alice", "192.0.2.9", t + 20 * S);
	is_int(throttle_check(st, &p, "alice", "192.0.2.9", t + 20 * S, &wait, &which), 1,
	    "failure 7 of the account");
	is_int(wait, 4 * S, "is held at the cap");
	is_int(throttle_success(st, &p, "alice"), STORE_OK, "a success");
	is_int(throttle_check(st, &p, "alice", "192.0.2.7", t + 20 * S, &wait, &which), 0,
	    "clears the account");
	is_int(throttle_check(st, &p, "carol", "192.0.2.1", t + 3 * S + 500, &wait, &which), 1,
	    "but not the address");
	is_int(store_login_blocked_until(st, "user:nobody", &until), STORE_OK,
	    "an unknown subject reads as not blocked");
	is_int(until, 0, "with 0");

	/* Old failures are forgotten: failures spaced wider than the window never add up. */
	for (i = 0; i < 5; i++)
		throttle_failure(st, &p, "dave", "198.51.100.1", t + (int64_t)i * 61 * S);
	is_int(throttle_check(st, &p, "dave", "198.51.100.1", t + 4 * 61 * S, &wait, &which), 0,
	    "five failures more than a window apart: never throttled");
	is_int(store_login_failure_add(st, "user:dave", t + 4 * 61 * S + 1, 0, &n), STORE_OK,
	    "count directly");
	is_int(n, 2, "the count restarted at the last forgotten gap");

	/* One IPv6 subscriber is one address. */
	for (i = 0; i < 5; i++) {
		char a[64];

		snprintf(a, sizeof(a), "2001:db8:1:2::%x", i + 1);
		throttle_failure(st, &p, "erin", a, t);
	}
	is_int(throttle_check(st, &p, "frank", "2001:db8:1:2:ffff::1", t, &wait, &which), 1,
	    "five IPv6 addresses in one /64 count as one address");
	is_int(throttle_check(st, &p, "frank", "2001:db8:1:3::1", t, &wait, &which), 0,
	    "the next /64 is another");

	/* Switched off: nothing counted, nothing checked. */
	p.enabled = 0;
	for (i = 0; i < 10; i++)
		throttle_failure(st, &p, "gina", "203.0.113.1", t);
	is_int(throttle_check(st, &p, "alice", "192.0.2.1", t + 3 * S, &wait, &which), 0,
	    "disabled: no one is throttled");
	is_int(store_login_blocked_until(st, "user:gina", &until), STORE_OK, "read");
	is_int(until, 0, "disabled: failures are not counted");

	/* The purge keeps recent rows and rows still blocked. */
	ok(store_purge(st, t / S + 3600, 0, &pc) == STORE_OK, "purge an hour later");
	is_int(pc.login_failures, 0, "keeps rows younger than a day");
	ok(store_purge(st, t / S + 2 * 86400, 0, &pc) == STORE_OK, "purge two days later");
	ok(pc.login_failures >= 5, "drops old rows (%d)", pc.login_failures);
	is_int(store_login_blocked_until(st, "addr:192.0.2.1", &until), STORE_OK, "read");
	is_int(until, 0, "gone");
}

static void
test_netaddr_key(void)
{
	char k[64];

	is_int(netaddr_key("192.0.2.1", k, sizeof(k)), 0, "IPv4 key");
	is_str(k, "192.0.2.1", "IPv4: the address itself");
	is_int(netaddr_key("::ffff:192.0.2.1", k, sizeof(k)), 0, "v4-mapped key");
	is_str(k, "192.0.2.1", "v4-mapped: the IPv4 address");
	is_int(netaddr_key("2001:db8:1:2:3:4:5:6", k, sizeof(k)), 0, "IPv6 key");
	is_str(k, "2001:db8:1:2::/64", "IPv6: its /64");
	is_int(netaddr_key("::1", k, sizeof(k)), 0, "loopback key");
	is_str(k, "::/64", "::1 is in ::/64");
	is_int(netaddr_key("example.com", k, sizeof(k)), -1, "a name is no address");
	is_int(netaddr_key("2001:db8:1:2:3:4:5:6", k, 10), -1, "too small a buffer");
}

static void
test_form_limits(void)
{
	struct form f;
	char big[102];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	is_int(form_parse("a=1&b=2&c=3", 11, &f), FORM_OK, "parse");
	is_int(form_check_limits(&f, 3, 100), FORM_OK, "3 parameters within 3");
	is_int(form_check_limits(&f, 2, 100), FORM_TOO_MANY, "3 parameters over 2");
	form_clear(&f);
	memset(&f, 0, sizeof(f));
	big[100] = '\0';
	form_add(&f, "v", big);
	is_int(form_check_limits(&f, 64, 100), FORM_OK, "a value of exactly the length");
	big[100] = 'a';
	form_add(&f, big, "x");
	is_int(form_check_limits(&f, 64, 100), FORM_TOO_LONG, "a name one byte over");
	form_clear(&f);
	is_str(form_strerror(FORM_TOO_MANY), "too many parameters", "describe TOO_MANY");
	is_str(form_strerror(FORM_TOO_LONG), "a parameter is too long", "describe TOO_LONG");
	ok(strstr(form_strerror(FORM_BAD_ENCODING), "urlencoded") != NULL, "describe BAD_ENCODING");
}

int
main(void)
{
	struct store_options opt = {.synchronous = "NORMAL", .create = 1};
	struct store *st = NULL;
	char *path = store_memory_path_new();

	test_delay();
	if (path == NULL || store_open(path, &opt, &st) != STORE_OK ||
	    store_migrate(st, NULL) != STORE_OK) {
		printf("Bail out! cannot open a database\n");
		return 1;
	}
	test_throttle(st);
	test_netaddr_key();
	test_form_limits();
	store_close(st);
	free(path);
	return tap_done();
}
