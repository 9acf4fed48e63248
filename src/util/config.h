/* Effective configuration: defaults < config file < MCP_AUTHD_<KEY> environment < flags. */
#ifndef MCP_UTIL_CONFIG_H
#define MCP_UTIL_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define CONFIG_MAX_KEYS 64

/* Every key of DESIGN.md §9. Strings are owned by the struct (config_free). */
struct config {
	char *issuer;
	char *db;
	char *listen;
	char *master_key_file;
	char *signing_alg;
	int64_t access_token_ttl;
	int64_t refresh_token_ttl;
	int64_t jwks_max_age;
	int64_t rotate_every;
	int64_t key_check_interval;
	char *registration;
	char *default_resource;
	char *audit_file;
	int64_t audit_retention;
	int64_t threads;
	int64_t hash_workers;
	int64_t max_body;
	char *log_level;
	char *templates_dir;
	int64_t allow_insecure_issuer;
	char *trusted_proxies;
	char *metrics_token;        /* /metrics wants "Authorization: Bearer" this */
	char *metrics_allow;        /* /metrics answers only these addresses and networks */
	char *synchronous;
	int64_t session_ttl;
	int64_t idp_session_ttl;    /* how long an upstream sign-in lets refresh tokens live */
	int64_t max_delegation_depth; /* how deep act may nest through token exchanges */
	int64_t local_login;        /* the password form on the login page */
	int64_t consent_ttl;
	int64_t cimd_allow_private;
	char *cimd_allowed_domains;
	char *cimd_ca_file;
	char *outbound_ca_file;
	int64_t registration_rate;
	int64_t max_connections_per_ip;
	int64_t connection_timeout;
	int64_t login_throttle;
	int64_t login_throttle_after;
	int64_t login_throttle_addr_after;
	int64_t login_throttle_delay;
	int64_t login_throttle_max_delay;
	int64_t login_throttle_window;
	int64_t max_params;
	int64_t max_param_length;
	int64_t purge_every;
	int64_t db_timeout;         /* longest wait for the database before a 503 */
	int64_t registry_poll_ms;   /* how often the registry cache reads the change log */

	/* Where each value came from (enum config_source), in key-table order. */
	unsigned char sources[CONFIG_MAX_KEYS];
};

/* Where a value came from, for check-config. */
enum config_source {
	CONFIG_SRC_DEFAULT = 0,
	CONFIG_SRC_FILE,
	CONFIG_SRC_ENV,
	CONFIG_SRC_FLAG,
};

/* Fill every key with its default. */
int config_init(struct config *cfg);

/* Release the strings. */
void config_free(struct config *cfg);

/* Set one key from text ("600", "10m", "true", ...). On failure returns -1 and
 * writes a one-line reason to err (size errlen). Unknown key: -2. */
int config_set(struct config *cfg, const char *key, const char *value, enum config_source src,
    char *err, size_t errlen);

/* Parse a whole config file held in memory: "key = value" lines, '#' comments,
 * blank lines. Stops at the first bad line and reports "line N: ..." in err. */
int config_parse_text(struct config *cfg, const char *text, size_t len, char *err, size_t errlen);

/* Read and parse a file; 0 or -1 with err filled in. */
int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen);

/* Apply every MCP_AUTHD_<KEY> present in the environment. */
int config_apply_env(struct config *cfg, char *err, size_t errlen);

/* Is `key` a configuration key (exact, lower case with underscores)? */
int config_key_known(const char *key);

/* Iterate over keys for check-config: calls fn(key, value text, source, is_secret)
 * for each key in table order. value text is "" for unset strings. */
typedef void (*config_visit_fn)(const char *key, const char *value, enum config_source src,
    int is_secret, void *arg);
void config_visit(const struct config *cfg, config_visit_fn fn, void *arg);

/* Parse a duration: plain seconds or with an s/m/h/d suffix. 0 or -1. */
int config_parse_duration(const char *text, int64_t *out);

#endif
