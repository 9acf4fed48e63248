/* What every endpoint shares: configuration, issuer, keys, per-thread database. */
#ifndef MCP_HTTP_APP_H
#define MCP_HTTP_APP_H

#include <pthread.h>
#include <stdint.h>

#include <microhttpd.h>

#include "jose/keystore.h"
#include "oauth/audit.h"
#include "oauth/cimd.h"
#include "oauth/secret_cache.h"
#include "store/store.h"
#include "util/config.h"

struct app {
	const struct config *cfg;
	char *issuer;               /* no trailing slash */
	const char *issuer_path;    /* "" or "/path", points into issuer */
	int dev;                    /* mock-issuer mode: dev helpers, auto approval */
	int dev_interactive;        /* dev: show the login page instead of auto login */
	int dev_any_resource;       /* dev: register well-formed resources on first use */
	char *dev_user;             /* dev: the seeded user auto-logged in */
	char *dev_default_aud;      /* dev: the first resource named, /dev/token's default aud */
	char *dev_client_id;        /* dev: the seeded client, /dev/id-jag's default client_id */
	char *db_path;
	struct store_options store_opt;
	struct master_key mk;
	int64_t max_token_ttl;      /* longest access token any key may have signed */

	pthread_key_t store_key;    /* this thread's struct store * */
	struct store_cache *cache;  /* clients, resources, edges, revoked jtis (§10.2) */
	pthread_mutex_t lock;       /* guards keys and the cached responses below */
	struct keyset *keys;
	struct workpool *hashpool;  /* argon2 off the event threads */
	struct workpool *fetchpool; /* metadata document fetches */
	struct workpool *vaultpool; /* vault fetches that wait for a third party's refresh:
				     * their own workers, so that waiting ones never hold up
				     * sign-ins and connects on the fetch pool */
	struct cimd_policy cimd_policy;
	struct secret_cache *secrets; /* verified client secrets */
	struct audit_sink *audit;
	unsigned char csrf_key[32]; /* derived from the master key: forms survive restarts */
	char *templates[4];         /* login, consent, error, connections */
	int https;                  /* issuer is https: __Host- cookies, Secure */
	int64_t last_purge;
	int64_t started_at;
	struct metrics *metrics;    /* created by the server with its routing table */
	volatile int stopping;      /* finishing in-flight requests: close connections */
	struct MHD_Response *jwks_resp;
	struct MHD_Response *metadata_resp;
	char *metadata_json;
	size_t metadata_len;
};

/* Set up the shared state; loads the keys through a first connection. On failure
 * err receives a one-line reason. */
int app_init(struct app *app, const struct config *cfg, const char *issuer, const char *db_path,
    const struct master_key *mk, int dev, char *err, size_t errlen);
void app_free(struct app *app);

/* This thread's database connection, opened on first use; NULL on failure. */
struct store *app_store(struct app *app);

/* The current key set, with a reference the caller must drop (keyset_unref). */
struct keyset *app_keys(struct app *app);

/* Reload keys from the database and re-render the JWKS response. */
int app_keys_reload(struct app *app);

/* Periodic work of a running server: a scheduled rotation when one is due, the purge of
 * expired rows (and keys) every purge_every, then a check for key changes made by any
 * process. Called from the main thread every key_check_interval. */
void app_maintain(struct app *app, int64_t now);

/* Reload the keys if another process changed them (one cheap read of the keys
 * version). 1 when reloaded, 0 when unchanged, negative on error. */
int app_keys_check(struct app *app);

/* Queue a cached response (JWKS or metadata) while holding the lock, so that a
 * concurrent reload cannot free it under us. */
enum MHD_Result app_queue_cached(struct app *app, struct MHD_Connection *conn,
    struct MHD_Response **slot);

/* Workers for vault fetches that wait (DESIGN.md §10.5): each waits at most the refresh
 * lease (CONNECTION_LEASE), polling the database, so this bounds how many fetches can
 * wait at once before the next ones queue. */
#define VAULT_WORKERS 16

enum page {
	PAGE_LOGIN = 0,
	PAGE_CONSENT = 1,
	PAGE_ERROR = 2,
	PAGE_CONNECTIONS = 3,
};

/* Stop the work that holds suspended connections (before stopping HTTP). */
void app_quiesce(struct app *app);

/* Issuer with a path appended ("https://as.example/token"); new string. */
char *app_url_new(const struct app *app, const char *path);

#endif
