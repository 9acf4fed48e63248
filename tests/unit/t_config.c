/* Unit tests for the table-driven configuration (src/util/config.h). */
#include "config.h"

#include "util/config.h"

#include "tap.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What config_visit reported, in order. */
struct seen {
	size_t n;
	char key[CONFIG_MAX_KEYS][64];
	char value[CONFIG_MAX_KEYS][256];
	enum config_source src[CONFIG_MAX_KEYS];
	int secret[CONFIG_MAX_KEYS];
};

static void
record(const char *key, const char *value, enum config_source src, int is_secret, void *arg)
{
	struct seen *s = arg;

	if (s->n >= CONFIG_MAX_KEYS)
		return;
	snprintf(s->key[s->n], sizeof(s->key[0]), "%s", key);
	snprintf(s->value[s->n], sizeof(s->value[0]), "%s", value);
	s->src[s->n] = src;
	s->secret[s->n] = is_secret;
	s->n++;
}

/* Index of key in a visit, or -1. */
static int
seen_find(const struct seen *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (strcmp(s->key[i], key) == 0)
			return (int)i;
	}
	return -1;
}

/* The source config_visit reports for key, or -1 when it is not visited. */
static int
source_of(const struct config *cfg, const char *key)
{
	struct seen s;
	int i;

	memset(&s, 0, sizeof(s));
	config_visit(cfg, record, &s);
	i = seen_find(&s, key);
	return i < 0 ? -1 : (int)s.src[i];
}

/* Does str start with prefix? */
static int
starts(const char *str, const char *prefix)
{
	return strncmp(str, prefix, strlen(prefix)) == 0;
}

static void
test_defaults(void)
{
	struct config cfg;
	struct seen s;
	size_t i;
	int all_default = 1, all_known = 1;

	is_int(config_init(&cfg), 0, "config_init");
	is_str(cfg.issuer, NULL, "issuer has no default");
	is_str(cfg.db, "/var/lib/mcp-authd/mcp-authd.db", "db default");
	is_str(cfg.listen, "127.0.0.1:8414", "listen default");
	is_str(cfg.signing_alg, "ES256", "signing_alg default");
	is_str(cfg.registration, "token", "registration default");
	is_str(cfg.log_level, "info", "log_level default");
	is_str(cfg.synchronous, "NORMAL", "synchronous default");
	is_str(cfg.master_key_file, NULL, "master_key_file has no default");
	is_str(cfg.default_resource, NULL, "default_resource off unless set");
	is_int(cfg.access_token_ttl, 600, "access_token_ttl default");
	is_int(cfg.refresh_token_ttl, 2592000, "refresh_token_ttl default");
	is_int(cfg.key_check_interval, 5, "key_check_interval default");
	is_int(cfg.audit_retention, 7776000, "audit_retention default");
	is_int(cfg.threads, 0, "threads default");
	is_int(cfg.max_body, 65536, "max_body default");
	is_int(cfg.max_delegation_depth, 4, "max_delegation_depth default");
	is_int(cfg.allow_insecure_issuer, 0, "allow_insecure_issuer default");
	is_int(cfg.login_throttle, 1, "login_throttle default");
	is_int(cfg.purge_every, 3600, "purge_every default");

	memset(&s, 0, sizeof(s));
	config_visit(&cfg, record, &s);
	ok(s.n > 20 && s.n <= CONFIG_MAX_KEYS, "config_visit visits every key (%zu)", s.n);
	is_str(s.key[0], "issuer", "visit follows table order");
	for (i = 0; i < s.n; i++) {
		if (s.src[i] != CONFIG_SRC_DEFAULT)
			all_default = 0;
		if (!config_key_known(s.key[i]))
			all_known = 0;
	}
	ok(all_default, "after config_init every source is default");
	ok(all_known, "every visited key is a known key");
	is_str(s.value[seen_find(&s, "issuer")], "", "unset string visited as \"\"");
	is_str(s.value[seen_find(&s, "threads")], "0", "integer visited as text");
	is_str(s.value[seen_find(&s, "access_token_ttl")], "600", "duration visited in seconds");
	is_str(s.value[seen_find(&s, "login_throttle")], "true", "boolean visited as true");
	is_str(s.value[seen_find(&s, "allow_insecure_issuer")], "false", "boolean false");
	is_str(s.value[seen_find(&s, "listen")], "127.0.0.1:8414", "string visited");
	config_free(&cfg);
	is_str(cfg.db, NULL, "config_free clears strings");
	config_free(&cfg);
	ok(1, "config_free twice is harmless");

	ok(config_key_known("issuer"), "issuer is known");
	ok(config_key_known("purge_every"), "purge_every is known");
	ok(!config_key_known("Issuer"), "keys are case-sensitive");
	ok(!config_key_known("issuer "), "no trailing space");
	ok(!config_key_known(""), "empty key unknown");
	ok(!config_key_known("access-token-ttl"), "dashes are not underscores");
}

/* The last error from set(), for the tests that check its text. */
static char last_err[256];

static int
set(struct config *cfg, const char *key, const char *value, enum config_source src)
{
	return config_set(cfg, key, value, src, last_err, sizeof(last_err));
}

static void
test_set(void)
{
	struct config cfg;

	config_init(&cfg);
	last_err[0] = '\0';
	is_int(set(&cfg, "issuer", "https://as.example", CONFIG_SRC_FLAG), 0, "set a string");
	is_str(cfg.issuer, "https://as.example", "string stored");
	is_int(source_of(&cfg, "issuer"), CONFIG_SRC_FLAG, "source recorded");
	is_int(set(&cfg, "issuer", "https://other.example", CONFIG_SRC_FILE), 0,
	    "set a string again");
	is_str(cfg.issuer, "https://other.example", "string replaced");
	is_int(source_of(&cfg, "issuer"), CONFIG_SRC_FILE, "source replaced");
	is_int(source_of(&cfg, "db"), CONFIG_SRC_DEFAULT, "other sources untouched");

	is_int(set(&cfg, "nope", "1", CONFIG_SRC_FILE), -2, "unknown key");
	is_str(last_err, "unknown configuration key 'nope'", "unknown key reported");
	is_int(set(&cfg, "ISSUER", "x", CONFIG_SRC_FILE), -2, "upper-case key unknown");
	is_int(set(&cfg, "", "x", CONFIG_SRC_FILE), -2, "empty key unknown");

	/* Choices. */
	is_int(set(&cfg, "signing_alg", "EdDSA", CONFIG_SRC_FILE), 0, "allowed choice");
	is_str(cfg.signing_alg, "EdDSA", "choice stored");
	is_int(set(&cfg, "signing_alg", "RS256", CONFIG_SRC_FILE), 0, "last choice");
	last_err[0] = '\0';
	is_int(set(&cfg, "signing_alg", "HS256", CONFIG_SRC_ENV), -1, "choice not allowed");
	ok(starts(last_err, "signing_alg: 'HS256' is not one of:"),
	    "choice error names key and value");
	is_str(cfg.signing_alg, "RS256", "refused choice leaves the value");
	is_int(source_of(&cfg, "signing_alg"), CONFIG_SRC_FILE, "refused choice leaves the source");
	is_int(set(&cfg, "signing_alg", "es256", CONFIG_SRC_FILE), -1,
	    "choices are case-sensitive");
	is_int(set(&cfg, "signing_alg", "ES", CONFIG_SRC_FILE), -1, "prefix of a choice");
	is_int(set(&cfg, "signing_alg", "ES2566", CONFIG_SRC_FILE), -1, "extension of a choice");
	is_int(set(&cfg, "signing_alg", "ES256 EdDSA", CONFIG_SRC_FILE), -1, "two choices at once");
	is_int(set(&cfg, "signing_alg", "", CONFIG_SRC_FILE), -1, "empty choice");
	is_int(set(&cfg, "registration", "off", CONFIG_SRC_FILE), 0, "registration off");
	is_int(set(&cfg, "log_level", "trace", CONFIG_SRC_FILE), -1, "unknown log level");
	is_int(set(&cfg, "synchronous", "FULL", CONFIG_SRC_FILE), 0, "synchronous FULL");
	is_int(set(&cfg, "synchronous", "OFF", CONFIG_SRC_FILE), -1, "synchronous OFF refused");

	/* Durations with bounds 1..86400. */
	is_int(set(&cfg, "access_token_ttl", "10m", CONFIG_SRC_FILE), 0, "duration with suffix");
	is_int(cfg.access_token_ttl, 600, "10m is 600 s");
	is_int(set(&cfg, "access_token_ttl", "1d", CONFIG_SRC_FILE), 0, "duration at the maximum");
	is_int(cfg.access_token_ttl, 86400, "1d is 86400 s");
	is_int(set(&cfg, "access_token_ttl", "1", CONFIG_SRC_FILE), 0, "duration at the minimum");
	last_err[0] = '\0';
	is_int(set(&cfg, "access_token_ttl", "86401", CONFIG_SRC_ENV), -1,
	    "duration above the maximum");
	is_str(last_err, "access_token_ttl: 86401 is outside 1..86400", "range error text");
	is_int(cfg.access_token_ttl, 1, "refused duration leaves the value");
	is_int(source_of(&cfg, "access_token_ttl"), CONFIG_SRC_FILE, "and the source");
	is_int(set(&cfg, "access_token_ttl", "0", CONFIG_SRC_FILE), -1,
	    "duration below the minimum");
	is_int(set(&cfg, "access_token_ttl", "2d", CONFIG_SRC_FILE), -1,
	    "suffixed duration above the maximum");
	last_err[0] = '\0';
	is_int(set(&cfg, "access_token_ttl", "forever", CONFIG_SRC_FILE), -1, "not a duration");
	ok(starts(last_err, "access_token_ttl: 'forever' is not a duration"),
	    "duration error text");
	is_int(set(&cfg, "audit_retention", "36600d", CONFIG_SRC_FILE), 0,
	    "duration beyond 32 bits at the maximum");
	is_int(cfg.audit_retention, INT64_C(3162240000), "36600d kept as 64-bit");
	is_int(set(&cfg, "audit_retention", "36601d", CONFIG_SRC_FILE), -1,
	    "duration beyond 32 bits above the maximum");
	is_int(set(&cfg, "rotate_every", "0", CONFIG_SRC_FILE), 0, "zero where the minimum is 0");

	/* Integers. */
	is_int(set(&cfg, "threads", "8", CONFIG_SRC_FILE), 0, "integer");
	is_int(cfg.threads, 8, "integer stored");
	is_int(set(&cfg, "threads", "256", CONFIG_SRC_FILE), 0, "integer at the maximum");
	is_int(set(&cfg, "threads", "257", CONFIG_SRC_FILE), -1, "integer above the maximum");
	is_int(set(&cfg, "threads", "-1", CONFIG_SRC_FILE), -1, "negative integer");
	last_err[0] = '\0';
	is_int(set(&cfg, "threads", "8a", CONFIG_SRC_FILE), -1, "integer with junk");
	is_str(last_err, "threads: '8a' is not a number", "integer error text");
	is_int(set(&cfg, "threads", "", CONFIG_SRC_FILE), -1, "empty integer");
	is_int(set(&cfg, "threads", "0x10", CONFIG_SRC_FILE), -1, "hex integer");
	is_int(set(&cfg, "threads", "1e2", CONFIG_SRC_FILE), -1, "exponent");
	is_int(set(&cfg, "threads", "99999999999999999999", CONFIG_SRC_FILE), -1,
	    "integer overflow");
	is_int(set(&cfg, "threads", "10m", CONFIG_SRC_FILE), -1, "duration suffix on an integer");
	is_int(cfg.threads, 256, "refused integers leave the value");
	is_int(set(&cfg, "max_body", "1023", CONFIG_SRC_FILE), -1, "max_body below 1024");
	is_int(set(&cfg, "max_delegation_depth", "0", CONFIG_SRC_FILE), -1,
	    "max_delegation_depth 0 refused (no exchange at all is not a depth)");
	is_int(set(&cfg, "max_delegation_depth", "33", CONFIG_SRC_FILE), -1,
	    "max_delegation_depth above 32 refused");
	is_int(set(&cfg, "max_body", "1024", CONFIG_SRC_FILE), 0, "max_body 1024");
	is_int(set(&cfg, "max_body", "16777216", CONFIG_SRC_FILE), 0, "max_body 16 MiB");
	is_int(set(&cfg, "max_body", "16777217", CONFIG_SRC_FILE), -1, "max_body above 16 MiB");

	/* Booleans. */
	{
		static const char *const yes[] = {"true", "yes", "1", "on"};
		static const char *const no[] = {"false", "no", "0", "off"};
		static const char *const bad[] = {"TRUE", "True", "y", "2", "", "maybe", " true"};
		size_t i;

		for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
			cfg.allow_insecure_issuer = 0;
			is_int(set(&cfg, "allow_insecure_issuer", yes[i], CONFIG_SRC_FILE), 0,
			    "'%s' accepted", yes[i]);
			is_int(cfg.allow_insecure_issuer, 1, "'%s' is true", yes[i]);
		}
		for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
			cfg.allow_insecure_issuer = 1;
			is_int(set(&cfg, "allow_insecure_issuer", no[i], CONFIG_SRC_FILE), 0,
			    "'%s' accepted", no[i]);
			is_int(cfg.allow_insecure_issuer, 0, "'%s' is false", no[i]);
		}
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			is_int(set(&cfg, "login_throttle", bad[i], CONFIG_SRC_FILE), -1,
			    "'%s' is not a boolean", bad[i]);
		}
		ok(starts(last_err, "login_throttle: ' true' is not true or false"),
		    "boolean error text");
	}

	/* A small error buffer is filled, truncated and terminated. */
	{
		char small[8];

		memset(small, 'x', sizeof(small));
		is_int(config_set(&cfg, "threads", "junk", CONFIG_SRC_FILE, small, sizeof(small)),
		    -1, "error into a small buffer");
		is_int(strlen(small), sizeof(small) - 1, "small error buffer is terminated");
	}
	config_free(&cfg);
}

static void
duration(const char *text, int want_rc, int64_t want, const char *what)
{
	int64_t v = -12345;
	int rc = config_parse_duration(text, &v);

	/* On failure *out is not checked: the header does not say what it holds then. */
	is_int(rc, want_rc, "duration '%s': %s", text, what);
	if (want_rc == 0)
		is_int(v, want, "duration '%s' value", text);
}

static void
test_duration(void)
{
	duration("0", 0, 0, "zero");
	duration("45", 0, 45, "plain seconds");
	duration("45s", 0, 45, "seconds suffix");
	duration("2m", 0, 120, "minutes");
	duration("3h", 0, 10800, "hours");
	duration("4d", 0, 345600, "days");
	duration("007", 0, 7, "leading zeros");
	duration("9223372036854775807", 0, INT64_MAX, "INT64_MAX seconds");
	duration("106751991167300d", 0, INT64_C(106751991167300) * 86400, "most days that fit");
	duration("106751991167301d", -1, 0, "days that overflow");
	duration("153722867280912931m", -1, 0, "minutes that overflow");
	duration("9223372036854775808", -1, 0, "seconds that overflow");
	duration("", -1, 0, "empty");
	duration("s", -1, 0, "suffix only");
	duration("-1", -1, 0, "negative");
	duration("+1", -1, 0, "plus sign");
	duration(" 1", -1, 0, "leading space");
	duration("1 ", -1, 0, "trailing space");
	duration("1 m", -1, 0, "space before suffix");
	duration("1.5h", -1, 0, "fraction");
	duration("1ms", -1, 0, "two-letter suffix");
	duration("1mm", -1, 0, "doubled suffix");
	duration("1M", -1, 0, "upper-case suffix");
	duration("1w", -1, 0, "weeks are not a unit");
	duration("1h30m", -1, 0, "compound duration");
	duration("0x10", -1, 0, "hex");
}

static void
test_parse_text(void)
{
	struct config cfg;
	char err[256];
	const char *text;
	char *big;
	size_t n;

	config_init(&cfg);
	text = "# a comment\n"
	       "\n"
	       "   \t\n"
	       "issuer = https://as.example\n"
	       "  listen=0.0.0.0:9000  \r\n"
	       "access_token_ttl = 5m # five minutes\n"
	       "threads\t=\t4\n"
	       "    # an indented comment\n"
	       "default_resource = https://mcp.example/#frag\n"
	       "trusted_proxies = 10.0.0.1 10.0.0.2\n"
	       "cimd_allowed_domains = a.example\t#tab before comment\n"
	       "db = /tmp/x=y.db\n"
	       "login_throttle = off";
	err[0] = '\0';
	is_int(config_parse_text(&cfg, text, strlen(text), err, sizeof(err)), 0,
	    "good file parses");
	is_str(err, "", "no error for a good file");
	is_str(cfg.issuer, "https://as.example", "issuer from file");
	is_str(cfg.listen, "0.0.0.0:9000", "surrounding spaces and CR trimmed");
	is_int(cfg.access_token_ttl, 300, "comment after whitespace cut");
	is_int(cfg.threads, 4, "tabs around '='");
	is_str(cfg.default_resource, "https://mcp.example/#frag", "'#' inside a value kept");
	is_str(cfg.trusted_proxies, "10.0.0.1 10.0.0.2", "inner spaces kept");
	is_str(cfg.cimd_allowed_domains, "a.example", "comment after a tab cut");
	is_str(cfg.db, "/tmp/x=y.db", "only the first '=' splits");
	is_int(cfg.login_throttle, 0, "last line without a newline");
	is_int(source_of(&cfg, "issuer"), CONFIG_SRC_FILE, "file source recorded");
	is_int(source_of(&cfg, "signing_alg"), CONFIG_SRC_DEFAULT, "untouched key stays default");
	config_free(&cfg);

	config_init(&cfg);
	is_int(config_parse_text(&cfg, "", 0, err, sizeof(err)), 0, "empty file");
	is_int(config_parse_text(&cfg, "\n\n#x\n", 5, err, sizeof(err)), 0, "comments only");
	text = "threads = 4\nthreads = 5\n";
	is_int(config_parse_text(&cfg, text, 12, err, sizeof(err)), 0, "length-bounded text");
	is_int(cfg.threads, 4, "bytes past len ignored");
	config_free(&cfg);

	/* Errors carry the line number, counting blank and comment lines. */
	config_init(&cfg);
	text = "issuer = https://as.example\n\n# c\nbogus = 1\nthreads = 9\n";
	is_int(config_parse_text(&cfg, text, strlen(text), err, sizeof(err)), -1, "unknown key");
	is_str(err, "line 4: unknown configuration key 'bogus'", "unknown key on line 4");
	is_int(cfg.threads, 0, "parsing stops at the bad line");
	config_free(&cfg);

	config_init(&cfg);
	text = "threads = 2\r\naccess_token_ttl = forever\r\n";
	is_int(config_parse_text(&cfg, text, strlen(text), err, sizeof(err)), -1, "bad duration");
	ok(starts(err, "line 2: access_token_ttl: 'forever' is not a duration"),
	    "bad duration on line 2 (CRLF lines): %s", err);
	is_int(cfg.threads, 2, "lines before the bad one are applied");
	is_int(cfg.access_token_ttl, 600, "bad value not applied");
	config_free(&cfg);

	config_init(&cfg);
	text = "signing_alg = HS256\n";
	is_int(config_parse_text(&cfg, text, strlen(text), err, sizeof(err)), -1, "bad choice");
	ok(starts(err, "line 1: signing_alg: 'HS256' is not one of"), "bad choice: %s", err);
	text = "max_body = 10\n";
	is_int(config_parse_text(&cfg, text, strlen(text), err, sizeof(err)), -1, "out of range");
	is_str(err, "line 1: max_body: 10 is outside 1024..16777216", "out of range message");
	text = "\ntrusted_proxies = 127.0.0.1 proxy.internal\n";
	is_int(config_parse_text(&cfg, text, strlen(text), err, sizeof(err)), -1,
	    "a host name in trusted_proxies");
	ok(starts(err, "line 2: trusted_proxies: '127.0.0.1 proxy.internal' is not a list"), "names the bad list: %s", err);
	text = "trusted_proxies = 10.0.0.0/40\n";
	is_int(config_parse_text(&cfg, text, strlen(text), err, sizeof(err)), -1,
	    "a prefix too long for IPv4");
	ok(cfg.trusted_proxies == NULL, "a refused list is not kept");
	text = "login_throttle = maybe\n";
	is_int(config_parse_text(&cfg, text, strlen(text), err, sizeof(err)), -1, "bad boolean");
	ok(starts(err, "line 1: login_throttle:"), "bad boolean message: %s", err);
	text = "\nissuer\n";
	is_int(config_parse_text(&cfg, text, strlen(text), err, sizeof(err)), -1, "no '='");
	is_str(err, "line 2: expected 'key = value'", "missing '=' message");
	text = " = 5\n";
	is_int(config_parse_text(&cfg, text, strlen(text), err, sizeof(err)), -1, "empty key");
	is_str(err, "line 1: unknown configuration key ''", "empty key message");
	text = "access token ttl = 5\n";
	is_int(config_parse_text(&cfg, text, strlen(text), err, sizeof(err)), -1, "spaces in key");
	text = "#issuer = x\nthreads = 3 # comment = 4\n";
	is_int(config_parse_text(&cfg, text, strlen(text), err, sizeof(err)), 0,
	    "'=' inside a comment ignored");
	is_int(cfg.threads, 3, "value before the comment");
	text = "threads = 3#4\n";
	is_int(config_parse_text(&cfg, text, strlen(text), err, sizeof(err)), -1,
	    "'#' without whitespace is part of the value");
	ok(starts(err, "line 1: threads: '3#4'"), "'3#4' reported: %s", err);
	text = "issuer = a\nthreads = 1\0\nthreads = 2\n";
	is_int(config_parse_text(&cfg, text, 36, err, sizeof(err)), -1, "NUL byte");
	is_str(err, "line 2: NUL byte", "NUL byte reported on its line");
	config_free(&cfg);

	/* Lines up to 4095 bytes are fine; 4096 is too long. */
	config_init(&cfg);
	big = malloc(4200);
	if (big == NULL) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	n = (size_t)snprintf(big, 4200, "issuer = ");
	memset(big + n, 'a', 4095 - n);
	big[4095] = '\n';
	is_int(config_parse_text(&cfg, big, 4096, err, sizeof(err)), 0, "4095-byte line accepted");
	ok(cfg.issuer != NULL && strlen(cfg.issuer) == 4095 - n, "long value stored whole");
	big[4095] = 'a';
	big[4096] = '\n';
	memcpy(big + 4097, "threads = 1\n", 12);
	is_int(config_parse_text(&cfg, big, 4109, err, sizeof(err)), -1, "4096-byte line refused");
	is_str(err, "line 1: too long", "too long reported");
	memmove(big + 12, big, 4097);
	memcpy(big, "threads = 1\n", 12);
	is_int(config_parse_text(&cfg, big, 4109, err, sizeof(err)), -1,
	    "long line after a good one refused");
	is_str(err, "line 2: too long", "too long reported on line 2");
	free(big);
	config_free(&cfg);
}

static void
test_env(void)
{
	struct config cfg;
	char err[256];
	const char *text;

	config_init(&cfg);
	setenv("MCP_AUTHD_THREADS", "12", 1);
	setenv("MCP_AUTHD_ISSUER", "https://env.example", 1);
	setenv("MCP_AUTHD_ACCESS_TOKEN_TTL", "2m", 1);
	setenv("MCP_AUTHD_BOGUS", "1", 1);
	setenv("mcp_authd_db", "/lower/case.db", 1);
	text = "threads = 2\nlisten = 1.2.3.4:5\n";
	is_int(config_parse_text(&cfg, text, strlen(text), err, sizeof(err)), 0,
	    "file before environment");
	err[0] = '\0';
	is_int(config_apply_env(&cfg, err, sizeof(err)), 0, "apply environment");
	is_str(err, "", "no error from the environment");
	is_int(cfg.threads, 12, "environment overrides the file");
	is_int(source_of(&cfg, "threads"), CONFIG_SRC_ENV, "source is env");
	is_str(cfg.issuer, "https://env.example", "string from the environment");
	is_int(cfg.access_token_ttl, 120, "duration from the environment");
	is_str(cfg.listen, "1.2.3.4:5", "file value not in the environment kept");
	is_int(source_of(&cfg, "listen"), CONFIG_SRC_FILE, "file source kept");
	is_str(cfg.db, "/var/lib/mcp-authd/mcp-authd.db", "lower-case variable ignored");
	is_int(source_of(&cfg, "db"), CONFIG_SRC_DEFAULT, "db still default");
	unsetenv("MCP_AUTHD_BOGUS");
	unsetenv("mcp_authd_db");

	setenv("MCP_AUTHD_ACCESS_TOKEN_TTL", "forever", 1);
	err[0] = '\0';
	is_int(config_apply_env(&cfg, err, sizeof(err)), -1, "bad value in the environment");
	ok(starts(err, "MCP_AUTHD_ACCESS_TOKEN_TTL: access_token_ttl: 'forever'"),
	    "environment error names the variable: %s", err);
	is_int(cfg.access_token_ttl, 120, "bad environment value not applied");
	setenv("MCP_AUTHD_ACCESS_TOKEN_TTL", "", 1);
	is_int(config_apply_env(&cfg, err, sizeof(err)), -1, "empty duration in the environment");
	unsetenv("MCP_AUTHD_ACCESS_TOKEN_TTL");
	setenv("MCP_AUTHD_SIGNING_ALG", "none", 1);
	is_int(config_apply_env(&cfg, err, sizeof(err)), -1, "alg none from the environment");
	unsetenv("MCP_AUTHD_SIGNING_ALG");
	setenv("MCP_AUTHD_CIMD_ALLOW_PRIVATE", "yes", 1);
	is_int(config_apply_env(&cfg, err, sizeof(err)), 0, "boolean from the environment");
	is_int(cfg.cimd_allow_private, 1, "boolean set");
	unsetenv("MCP_AUTHD_CIMD_ALLOW_PRIVATE");
	unsetenv("MCP_AUTHD_THREADS");
	unsetenv("MCP_AUTHD_ISSUER");

	/* A flag after the environment wins and says so. */
	is_int(config_set(&cfg, "threads", "3", CONFIG_SRC_FLAG, err, sizeof(err)), 0, "flag");
	is_int(source_of(&cfg, "threads"), CONFIG_SRC_FLAG, "source is flag");
	config_free(&cfg);
}

static void
test_load_file(void)
{
	struct config cfg;
	char path[] = "/tmp/t_config.XXXXXX", err[512];
	const char *text = "threads = 7\nbogus = 1\n";
	FILE *f;
	int fd;

	config_init(&cfg);
	if ((fd = mkstemp(path)) < 0 || (f = fdopen(fd, "w")) == NULL) {
		printf("Bail out! cannot create a temporary file\n");
		exit(1);
	}
	fputs(text, f);
	fclose(f);
	is_int(config_load_file(&cfg, path, err, sizeof(err)), -1, "file with an unknown key");
	ok(starts(err, path) && strstr(err, ": line 2: unknown configuration key 'bogus'") != NULL,
	    "file error names the file and line: %s", err);
	is_int(cfg.threads, 7, "good line before the error applied");
	f = fopen(path, "w");
	if (f == NULL) {
		printf("Bail out! cannot rewrite %s\n", path);
		exit(1);
	}
	fputs("threads = 6\n", f);
	fclose(f);
	is_int(config_load_file(&cfg, path, err, sizeof(err)), 0, "good file loads");
	is_int(cfg.threads, 6, "value from the file");
	f = fopen(path, "w");
	if (f != NULL)
		fclose(f);
	is_int(config_load_file(&cfg, path, err, sizeof(err)), 0, "empty file loads");
	unlink(path);
	is_int(config_load_file(&cfg, path, err, sizeof(err)), -1, "missing file");
	ok(starts(err, path), "missing file error names the file: %s", err);
	config_free(&cfg);
}

int
main(void)
{
	test_defaults();
	test_set();
	test_duration();
	test_parse_text();
	test_env();
	test_load_file();
	return tap_done();
}
