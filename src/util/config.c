/* Table-driven configuration: one entry per key, typed, with a default. */
#include "config.h"

#include "util/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/netaddr.h"

enum cfg_type {
	T_STRING,
	T_INT,
	T_DURATION,
	T_BOOL,
	T_NETWORKS, /* a string: addresses and networks, "127.0.0.1 10.0.0.0/8" */
};

struct cfg_key {
	const char *name;
	enum cfg_type type;
	size_t offset;
	const char *def;
	const char *choices; /* space-separated allowed values, or NULL */
	int64_t min, max;    /* bounds for numbers */
	int secret;          /* masked by check-config */
};

#define S(f) offsetof(struct config, f)

static const struct cfg_key keys[] = {
	{"issuer", T_STRING, S(issuer), NULL, NULL, 0, 0, 0},
	{"db", T_STRING, S(db), "/var/lib/mcp-authd/mcp-authd.db", NULL, 0, 0, 0},
	{"listen", T_STRING, S(listen), "127.0.0.1:8414", NULL, 0, 0, 0},
	{"master_key_file", T_STRING, S(master_key_file), NULL, NULL, 0, 0, 0},
	{"signing_alg", T_STRING, S(signing_alg), "ES256", "ES256 EdDSA RS256", 0, 0, 0},
	{"access_token_ttl", T_DURATION, S(access_token_ttl), "600", NULL, 1, 86400, 0},
	{"refresh_token_ttl", T_DURATION, S(refresh_token_ttl), "2592000", NULL, 60, 31622400, 0},
	{"jwks_max_age", T_DURATION, S(jwks_max_age), "600", NULL, 0, 604800, 0},
	{"rotate_every", T_DURATION, S(rotate_every), "0", NULL, 0, 31622400, 0},
	{"key_check_interval", T_DURATION, S(key_check_interval), "5", NULL, 1, 3600, 0},
	{"registration", T_STRING, S(registration), "token", "open token off", 0, 0, 0},
	{"default_resource", T_STRING, S(default_resource), NULL, NULL, 0, 0, 0},
	{"audit_file", T_STRING, S(audit_file), NULL, NULL, 0, 0, 0},
	{"audit_retention", T_DURATION, S(audit_retention), "7776000", NULL, 0, INT64_C(3162240000),
	    0},
	{"threads", T_INT, S(threads), "0", NULL, 0, 256, 0},
	{"hash_workers", T_INT, S(hash_workers), "0", NULL, 0, 64, 0},
	{"max_body", T_INT, S(max_body), "65536", NULL, 1024, 16777216, 0},
	{"log_level", T_STRING, S(log_level), "info", "error warn info debug", 0, 0, 0},
	{"templates_dir", T_STRING, S(templates_dir), NULL, NULL, 0, 0, 0},
	{"allow_insecure_issuer", T_BOOL, S(allow_insecure_issuer), "false", NULL, 0, 1, 0},
	{"trusted_proxies", T_NETWORKS, S(trusted_proxies), NULL, NULL, 0, 0, 0},
	{"metrics_token", T_STRING, S(metrics_token), NULL, NULL, 0, 0, 1},
	{"metrics_allow", T_NETWORKS, S(metrics_allow), NULL, NULL, 0, 0, 0},
	{"synchronous", T_STRING, S(synchronous), "NORMAL", "NORMAL FULL", 0, 0, 0},
	{"session_ttl", T_DURATION, S(session_ttl), "43200", NULL, 60, 31622400, 0},
	{"idp_session_ttl", T_DURATION, S(idp_session_ttl), "43200", NULL, 300, 31622400, 0},
	{"local_login", T_BOOL, S(local_login), "true", NULL, 0, 1, 0},
	{"consent_ttl", T_DURATION, S(consent_ttl), "7776000", NULL, 0, 316224000, 0},
	{"max_delegation_depth", T_INT, S(max_delegation_depth), "4", NULL, 1, 32, 0},
	{"cimd_allow_private", T_BOOL, S(cimd_allow_private), "false", NULL, 0, 1, 0},
	{"cimd_allowed_domains", T_STRING, S(cimd_allowed_domains), NULL, NULL, 0, 0, 0},
	{"cimd_ca_file", T_STRING, S(cimd_ca_file), NULL, NULL, 0, 0, 0},
	{"outbound_ca_file", T_STRING, S(outbound_ca_file), NULL, NULL, 0, 0, 0},
	{"registration_rate", T_INT, S(registration_rate), "20", NULL, 0, 1000000, 0},
	{"max_connections_per_ip", T_INT, S(max_connections_per_ip), "256", NULL, 0, 100000, 0},
	{"connection_timeout", T_DURATION, S(connection_timeout), "30", NULL, 1, 3600, 0},
	{"login_throttle", T_BOOL, S(login_throttle), "true", NULL, 0, 1, 0},
	{"login_throttle_after", T_INT, S(login_throttle_after), "5", NULL, 1, 1000, 0},
	{"login_throttle_addr_after", T_INT, S(login_throttle_addr_after), "20", NULL, 1, 100000, 0},
	{"login_throttle_delay", T_DURATION, S(login_throttle_delay), "1", NULL, 1, 3600, 0},
	{"login_throttle_max_delay", T_DURATION, S(login_throttle_max_delay), "900", NULL, 1, 86400, 0},
	{"login_throttle_window", T_DURATION, S(login_throttle_window), "900", NULL, 1, 86400, 0},
	{"max_params", T_INT, S(max_params), "64", NULL, 1, 64, 0},
	{"max_param_length", T_INT, S(max_param_length), "8192", NULL, 64, 8192, 0},
	{"purge_every", T_DURATION, S(purge_every), "3600", NULL, 0, 86400, 0},
	{"db_timeout", T_DURATION, S(db_timeout), "5", NULL, 1, 300, 0},
	{"registry_poll_ms", T_INT, S(registry_poll_ms), "250", NULL, 20, 1000, 0},
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

_Static_assert(NKEYS <= CONFIG_MAX_KEYS, "raise CONFIG_MAX_KEYS");

static const struct cfg_key *
key_find(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	}
	return NULL;
}

int
config_key_known(const char *key)
{
	return key_find(key) != NULL;
}

int
config_parse_duration(const char *text, int64_t *out)
{
	char *end;
	long long v;
	int64_t mult = 1;

	*out = 0;
	errno = 0;
	if (!isdigit((unsigned char)text[0]))
		return -1;
	v = strtoll(text, &end, 10);
	if (errno != 0 || v < 0)
		return -1;
	if (*end != '\0') {
		switch (*end) {
		case 's': mult = 1; break;
		case 'm': mult = 60; break;
		case 'h': mult = 3600; break;
		case 'd': mult = 86400; break;
		default: return -1;
		}
		if (end[1] != '\0')
			return -1;
	}
	if (v > INT64_MAX / mult)
		return -1;
	*out = (int64_t)v * mult;
	return 0;
}

static int
parse_bool(const char *text, int64_t *out)
{
	if (strcmp(text, "true") == 0 || strcmp(text, "yes") == 0 || strcmp(text, "1") == 0 ||
	    strcmp(text, "on") == 0) {
		*out = 1;
		return 0;
	}
	if (strcmp(text, "false") == 0 || strcmp(text, "no") == 0 || strcmp(text, "0") == 0 ||
	    strcmp(text, "off") == 0) {
		*out = 0;
		return 0;
	}
	return -1;
}

static int
choice_ok(const char *choices, const char *value)
{
	size_t n = strlen(value);
	const char *p = choices;

	while (*p != '\0') {
		const char *e = strchr(p, ' ');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (len == n && strncmp(p, value, n) == 0)
			return 1;
		p += len;
		while (*p == ' ')
			p++;
	}
	return 0;
}

static int
key_set(struct config *cfg, const struct cfg_key *k, const char *value, char *err, size_t errlen)
{
	char *base = (char *)cfg;
	int64_t v;
	char *end;

	switch (k->type) {
	case T_NETWORKS:
		if (!netaddr_list_valid(value)) {
			snprintf(err, errlen,
			    "%s: '%s' is not a list of IP addresses or networks (a.b.c.d/n, x::/n)",
			    k->name, value);
			return -1;
		}
		__attribute__((fallthrough)); /* clang does not read fall-through comments */
	case T_STRING: {
		char **slot = (char **)(void *)(base + k->offset);
		char *dup;

		if (k->choices != NULL && !choice_ok(k->choices, value)) {
			snprintf(err, errlen, "%s: '%s' is not one of: %s", k->name, value, k->choices);
			return -1;
		}
		if ((dup = strdup(value)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		free(*slot);
		*slot = dup;
		return 0;
	}
	case T_INT:
		errno = 0;
		v = strtoll(value, &end, 10);
		/* strtoll would take " 4" and "+4"; a config value is digits only. */
		if (errno != 0 || end == value || *end != '\0' ||
		    !(isdigit((unsigned char)value[0]) || (value[0] == '-' && isdigit((unsigned char)value[1])))) {
			snprintf(err, errlen, "%s: '%s' is not a number", k->name, value);
			return -1;
		}
		break;
	case T_DURATION:
		if (config_parse_duration(value, &v) != 0) {
			snprintf(err, errlen, "%s: '%s' is not a duration (seconds, or N with s/m/h/d)",
			    k->name, value);
			return -1;
		}
		break;
	case T_BOOL:
		if (parse_bool(value, &v) != 0) {
			snprintf(err, errlen, "%s: '%s' is not true or false", k->name, value);
			return -1;
		}
		break;
	default:
		return -1;
	}
	if (v < k->min || v > k->max) {
		snprintf(err, errlen, "%s: %lld is outside %lld..%lld", k->name, (long long)v,
		    (long long)k->min, (long long)k->max);
		return -1;
	}
	*(int64_t *)(void *)(base + k->offset) = v;
	return 0;
}

int
config_init(struct config *cfg)
{
	char err[256];
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < NKEYS; i++) {
		cfg->sources[i] = CONFIG_SRC_DEFAULT;
		if (keys[i].def != NULL && key_set(cfg, &keys[i], keys[i].def, err, sizeof(err)) != 0)
			return -1;
	}
	return 0;
}

void
config_free(struct config *cfg)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		if (keys[i].type == T_STRING || keys[i].type == T_NETWORKS) {
			char **slot = (char **)(void *)((char *)cfg + keys[i].offset);

			free(*slot);
			*slot = NULL;
		}
	}
}

int
config_set(struct config *cfg, const char *key, const char *value, enum config_source src,
    char *err, size_t errlen)
{
	const struct cfg_key *k = key_find(key);

	if (k == NULL) {
		snprintf(err, errlen, "unknown configuration key '%s'", key);
		return -2;
	}
	if (key_set(cfg, k, value, err, errlen) != 0)
		return -1;
	cfg->sources[k - keys] = (unsigned char)src;
	return 0;
}

static const char *
trim(char *s, char **end_inout)
{
	char *e = *end_inout;

	while (s < e && isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	*e = '\0';
	*end_inout = e;
	return s;
}

int
config_parse_text(struct config *cfg, const char *text, size_t len, char *err, size_t errlen)
{
	char line[4096], msg[256];
	size_t pos = 0, lineno = 0;

	while (pos < len) {
		size_t start = pos, n;
		char *eq, *end, *hash;
		const char *key, *value;

		while (pos < len && text[pos] != '\n')
			pos++;
		n = pos - start;
		pos++; /* past '\n' */
		lineno++;
		if (n >= sizeof(line)) {
			snprintf(err, errlen, "line %zu: too long", lineno);
			return -1;
		}
		memcpy(line, text + start, n);
		line[n] = '\0';
		if (memchr(line, '\0', n) != NULL) {
			snprintf(err, errlen, "line %zu: NUL byte", lineno);
			return -1;
		}
		/* A '#' starts a comment only at the start of a line or after whitespace,
		 * so that values such as URLs with fragments are rejected by their own
		 * validation rather than silently cut. */
		for (hash = line; (hash = strchr(hash, '#')) != NULL; hash++) {
			if (hash == line || isspace((unsigned char)hash[-1])) {
				*hash = '\0';
				break;
			}
		}
		end = line + strlen(line);
		key = trim(line, &end);
		if (*key == '\0')
			continue;
		if ((eq = strchr(key, '=')) == NULL) {
			snprintf(err, errlen, "line %zu: expected 'key = value'", lineno);
			return -1;
		}
		*eq = '\0';
		{
			char *kend = eq;

			key = trim((char *)(uintptr_t)key, &kend);
		}
		value = trim(eq + 1, &end);
		if (config_set(cfg, key, value, CONFIG_SRC_FILE, msg, sizeof(msg)) != 0) {
			snprintf(err, errlen, "line %zu: %s", lineno, msg);
			return -1;
		}
	}
	return 0;
}

int
config_load_file(struct config *cfg, const char *path, char *err, size_t errlen)
{
	struct buf b;
	char chunk[4096], msg[256];
	FILE *f;
	size_t n;
	int rc = -1;

	buf_init(&b, 1024 * 1024);
	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_append(&b, chunk, n) != 0) {
			snprintf(err, errlen, "%s: too large", path);
			goto out;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		goto out;
	}
	if (config_parse_text(cfg, b.data ? b.data : "", b.len, msg, sizeof(msg)) != 0) {
		snprintf(err, errlen, "%s: %s", path, msg);
		goto out;
	}
	rc = 0;
out:
	fclose(f);
	buf_free(&b);
	return rc;
}

int
config_apply_env(struct config *cfg, char *err, size_t errlen)
{
	char name[128], msg[256];
	size_t i, j;

	for (i = 0; i < NKEYS; i++) {
		const char *v;

		snprintf(name, sizeof(name), "MCP_AUTHD_");
		for (j = 0; keys[i].name[j] != '\0' && 10 + j < sizeof(name) - 1; j++)
			name[10 + j] = (char)toupper((unsigned char)keys[i].name[j]);
		name[10 + j] = '\0';
		if ((v = getenv(name)) == NULL)
			continue;
		if (config_set(cfg, keys[i].name, v, CONFIG_SRC_ENV, msg, sizeof(msg)) != 0) {
			snprintf(err, errlen, "%s: %s", name, msg);
			return -1;
		}
	}
	return 0;
}

void
config_visit(const struct config *cfg, config_visit_fn fn, void *arg)
{
	const char *base = (const char *)cfg;
	char num[32];
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		const struct cfg_key *k = &keys[i];

		if (k->type == T_STRING || k->type == T_NETWORKS) {
			const char *s = *(char *const *)(const void *)(base + k->offset);

			fn(k->name, s ? s : "", (enum config_source)cfg->sources[i], k->secret, arg);
		} else {
			int64_t v = *(const int64_t *)(const void *)(base + k->offset);

			if (k->type == T_BOOL)
				snprintf(num, sizeof(num), "%s", v ? "true" : "false");
			else
				snprintf(num, sizeof(num), "%lld", (long long)v);
			fn(k->name, num, (enum config_source)cfg->sources[i], k->secret, arg);
		}
	}
}
