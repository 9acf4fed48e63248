/* Shared server state: issuer, keys (swapped atomically), cached documents. */
#include "config.h"

#include "http/app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "http/endpoints.h"
#include "http/metrics.h"
#include "http/pages.h"
#include "util/workpool.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "http/reply.h"
#include "util/log.h"

static void
store_destructor(void *p)
{
	store_close(p);
}

struct store *
app_store(struct app *app)
{
	struct store *st = pthread_getspecific(app->store_key);

	if (st != NULL)
		return st;
	if (store_open(app->db_path, &app->store_opt, &st) != STORE_OK) {
		char *shown = store_location_masked_new(app->db_path);

		log_error("cannot open database %s: %s", shown ? shown : "", store_open_error());
		free(shown);
		return NULL;
	}
	if (pthread_setspecific(app->store_key, st) != 0) {
		store_close(st);
		return NULL;
	}
	return st;
}

struct keyset *
app_keys(struct app *app)
{
	struct keyset *ks;

	pthread_mutex_lock(&app->lock);
	ks = app->keys;
	if (ks != NULL)
		keyset_ref(ks);
	pthread_mutex_unlock(&app->lock);
	return ks;
}

int
app_keys_reload(struct app *app)
{
	struct store *st = app_store(app);
	struct keyset *ks = NULL, *old;
	struct MHD_Response *resp, *old_resp;
	char cc[64];
	const char *jwks;
	size_t len;
	int rc;

	if (st == NULL)
		return -1;
	if ((rc = keyset_load(st, &app->mk, &ks)) != 0)
		return rc;
	jwks = keyset_jwks(ks, &len);
	snprintf(cc, sizeof(cc), "public, max-age=%lld", (long long)app->cfg->jwks_max_age);
	if ((resp = reply_response_new(jwks, len, "application/json", REPLY_CORS)) == NULL) {
		keyset_unref(ks);
		return -1;
	}
	MHD_add_response_header(resp, "Cache-Control", cc);
	pthread_mutex_lock(&app->lock);
	old = app->keys;
	old_resp = app->jwks_resp;
	app->keys = ks;
	app->jwks_resp = resp;
	pthread_mutex_unlock(&app->lock);
	keyset_unref(old);
	if (old_resp != NULL)
		MHD_destroy_response(old_resp);
	return 0;
}

int
app_keys_check(struct app *app)
{
	struct store *st = app_store(app);
	struct keyset *ks;
	int64_t version, current;
	int rc;

	if (st == NULL || store_keys_version(st, &version) != STORE_OK)
		return -1;
	ks = app_keys(app);
	current = ks ? keyset_version(ks) : -1;
	keyset_unref(ks);
	if (version == current)
		return 0;
	if ((rc = app_keys_reload(app)) != 0)
		return rc;
	return 1;
}

static void
scheduled_rotation(struct app *app, struct store *st, int64_t now)
{
	struct rotate_policy p;
	int64_t wait;
	int r;

	memset(&p, 0, sizeof(p));
	p.alg = jws_alg_parse(app->cfg->signing_alg);
	p.jwks_max_age = app->cfg->jwks_max_age;
	p.due_after = app->cfg->rotate_every;
	if (keystore_max_token_ttl(st, app->cfg->access_token_ttl, &p.max_token_ttl) != 0)
		return;
	r = keystore_rotate(st, &app->mk, &p, now, &wait);
	if (r == ROTATE_DONE)
		log_info("scheduled key rotation: the next %s key signs now", app->cfg->signing_alg);
	else if (r == ROTATE_STAGED)
		log_info("scheduled key rotation: a %s key is published; it signs at the next one",
		    app->cfg->signing_alg);
	else if (r == ROTATE_TOO_SOON)
		log_warn("scheduled key rotation deferred %llds: the next key is not yet published "
			 "for jwks_max_age", (long long)wait);
	else if (r < 0)
		log_error("scheduled key rotation failed: %s", store_errmsg(st));
}

void
app_maintain(struct app *app, int64_t now)
{
	struct store *st = app_store(app);
	struct store_purge_counts n;
	int64_t retention = app->cfg->audit_retention;

	if (st == NULL)
		return;
	if (app->cfg->rotate_every > 0)
		scheduled_rotation(app, st, now);
	if (app->cfg->purge_every > 0 && now - app->last_purge >= app->cfg->purge_every) {
		app->last_purge = now;
		if (store_purge(st, now, retention > 0 ? now - retention : 0, &n) == STORE_OK &&
		    (n.keys > 0 || n.codes > 0 || n.refresh_families > 0))
			log_info("purged %d codes, %d refresh families, %d retired keys", n.codes,
			    n.refresh_families, n.keys);
	}
	if (app_keys_check(app) > 0)
		log_info("signing keys changed: reloaded (keys version %lld)",
		    (long long)keyset_version(app->keys));
}

enum MHD_Result
app_queue_cached(struct app *app, struct MHD_Connection *conn, struct MHD_Response **slot)
{
	enum MHD_Result r = MHD_NO;

	pthread_mutex_lock(&app->lock);
	if (*slot != NULL)
		r = MHD_queue_response(conn, MHD_HTTP_OK, *slot);
	pthread_mutex_unlock(&app->lock);
	return r;
}

char *
app_url_new(const struct app *app, const char *path)
{
	size_t n = strlen(app->issuer) + strlen(path) + 1;
	char *u = malloc(n);

	if (u != NULL)
		snprintf(u, n, "%s%s", app->issuer, path);
	return u;
}

int
app_init(struct app *app, const struct config *cfg, const char *issuer, const char *db_path,
    const struct master_key *mk, int dev, char *err, size_t errlen)
{
	const char *p;
	size_t n;
	int rc;

	memset(app, 0, sizeof(*app));
	app->cfg = cfg;
	app->dev = dev;
	app->mk = *mk;
	app->store_opt.synchronous = cfg->synchronous;
	app->store_opt.manual_checkpoint = 1;
	app->store_opt.timeout_ms = (int)(cfg->db_timeout * 1000);
	app->max_token_ttl = cfg->access_token_ttl;
	pthread_mutex_init(&app->lock, NULL);
	if (pthread_key_create(&app->store_key, store_destructor) != 0) {
		snprintf(err, errlen, "out of thread keys");
		return -1;
	}
	if ((app->issuer = strdup(issuer)) == NULL || (app->db_path = strdup(db_path)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	n = strlen(app->issuer);
	while (n > 0 && app->issuer[n - 1] == '/')
		app->issuer[--n] = '\0';
	/* The issuer's path, if any, prefixes every endpoint (RFC 8414 §3). */
	p = strstr(app->issuer, "://");
	p = p ? strchr(p + 3, '/') : NULL;
	app->issuer_path = p ? p : "";
	/* The registry cache first: every connection opened from here on uses it. */
	if (store_cache_start(app->db_path, &app->store_opt, (int)cfg->registry_poll_ms,
		&app->cache) != STORE_OK) {
		snprintf(err, errlen, "cannot load the registry: %s", store_open_error());
		return -1;
	}
	app->store_opt.cache = app->cache;
	if ((rc = app_keys_reload(app)) != 0) {
		snprintf(err, errlen, rc == KEYSTORE_EMASTER
		    ? "the signing keys do not open with this master key"
		    : "cannot load signing keys (run 'mcp-authd init' first)");
		return -1;
	}
	{
		EVP_PKEY *key;
		const char *kid;

		if (keyset_signer(app->keys, &key, &kid) != 0) {
			snprintf(err, errlen, "no active signing key (run 'mcp-authd init')");
			return -1;
		}
	}
	if (metadata_render(app) != 0) {
		snprintf(err, errlen, "cannot render metadata");
		return -1;
	}
	app->https = strncmp(app->issuer, "https://", 8) == 0;
	app->started_at = (int64_t)time(NULL);
	if (pages_load(app, err, errlen) != 0)
		return -1;
	if (workpool_start((unsigned int)cfg->hash_workers, 1024, &app->hashpool) != 0 ||
	    workpool_start(4, 256, &app->fetchpool) != 0 ||
	    workpool_start(VAULT_WORKERS, 1024, &app->vaultpool) != 0 ||
	    secret_cache_new(4096, &app->secrets) != 0) {
		snprintf(err, errlen, "cannot start the worker threads");
		return -1;
	}
	app->cimd_policy.allow_private = (int)cfg->cimd_allow_private;
	app->cimd_policy.ca_file = cfg->cimd_ca_file;
	app->cimd_policy.allowed_domains = cfg->cimd_allowed_domains;
	if (audit_sink_open(cfg->audit_file, &app->audit) != 0) {
		snprintf(err, errlen, "cannot open the audit file %s", cfg->audit_file);
		return -1;
	}
	if (audit_sink_start_writer(app->audit, app->db_path, &app->store_opt) != 0) {
		snprintf(err, errlen, "cannot start the audit writer");
		return -1;
	}
	/* Forms rendered before a restart, or by another server of the fleet, must still
	 * verify: derive the CSRF key from the master key, not from randomness. */
	{
		unsigned int len = sizeof(app->csrf_key);
		static const char label[] = "mcp-authd csrf v1";

		if (HMAC(EVP_sha256(), app->mk.bytes, sizeof(app->mk.bytes),
			(const unsigned char *)label, sizeof(label) - 1, app->csrf_key, &len) == NULL) {
			snprintf(err, errlen, "cannot derive keys");
			return -1;
		}
	}
	return 0;
}

void
app_quiesce(struct app *app)
{
	workpool_stop(app->fetchpool);
	workpool_stop(app->vaultpool);
	workpool_stop(app->hashpool);
}

void
app_free(struct app *app)
{
	struct store *st = pthread_getspecific(app->store_key);
	size_t i;

	if (st != NULL) {
		pthread_setspecific(app->store_key, NULL);
		store_close(st);
	}
	keyset_unref(app->keys);
	workpool_free(app->hashpool);
	workpool_free(app->fetchpool);
	workpool_free(app->vaultpool);
	metrics_free(app->metrics);
	secret_cache_free(app->secrets);
	audit_sink_close(app->audit);
	store_cache_stop(app->cache);
	for (i = 0; i < sizeof(app->templates) / sizeof(app->templates[0]); i++)
		free(app->templates[i]);
	OPENSSL_cleanse(app->csrf_key, sizeof(app->csrf_key));
	if (app->jwks_resp != NULL)
		MHD_destroy_response(app->jwks_resp);
	if (app->metadata_resp != NULL)
		MHD_destroy_response(app->metadata_resp);
	free(app->metadata_json);
	free(app->dev_user);
	free(app->dev_default_aud);
	free(app->dev_client_id);
	free(app->issuer);
	free(app->db_path);
	master_key_wipe(&app->mk);
	pthread_key_delete(app->store_key);
	pthread_mutex_destroy(&app->lock);
	memset(app, 0, sizeof(*app));
}
