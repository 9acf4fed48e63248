/* dev: the mock issuer for test suites (DESIGN.md §5a).
 *
 * Everything lives in memory and is made fresh for each run: the database, the signing
 * key, the seeded user and clients. To answer within milliseconds, the argon2 hashes of
 * the seeded secrets are computed after the server is up: until then the seeded rows
 * hold a placeholder that verifies nothing, and the seeded clients' secrets are already
 * in the process's verified-secret cache, so they work from the first request. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli/cli.h"
#include "cli/serve_loop.h"
#include "http/server.h"
#include "oauth/assertion.h"
#include "oauth/grants.h"
#include "oauth/registry.h"
#include "oauth/resource.h"
#include "oauth/secret.h"
#include "util/log.h"
#include "util/password.h"

#define DEV_DEFAULT_PORT 8414
#define PLACEHOLDER_HASH "!" /* never verifies: not an argon2id string */
#define MAX_SEEDED 16

struct seeded_client {
	char *client_id;
	char *secret;
	const char *acts_for;   /* registered URI, borrowed from the args */
};

struct dev_seed {
	char *user;
	char *password;
	struct seeded_client clients[MAX_SEEDED];
	int nclients;
	json_t *resources;
	char *db_path;
};

static void
seed_clear(struct dev_seed *s)
{
	int i;

	free(s->user);
	if (s->password != NULL)
		OPENSSL_clear_free(s->password, strlen(s->password));
	for (i = 0; i < s->nclients; i++) {
		free(s->clients[i].client_id);
		if (s->clients[i].secret != NULL)
			OPENSSL_clear_free(s->clients[i].secret, strlen(s->clients[i].secret));
	}
	json_decref(s->resources);
}

/* Register a resource that accepts any scope (a mock issuer does not know the scopes
 * of the servers under test). Returns its id through out (may be NULL). */
static int
dev_resource(struct store *st, const char *uri, int64_t now, json_t *listed, int64_t *id)
{
	struct store_resource r;
	int rc;

	memset(&r, 0, sizeof(r));
	if (resource_normalize(uri, strlen(uri), &r.uri, &r.uri_key) != 0)
		return cli_fail("'%s' is not a valid resource URI", uri);
	r.name = r.uri;
	r.scopes = (char *)(uintptr_t)REGISTRY_ANY_SCOPE;
	r.created_at = now;
	rc = store_resource_add(st, &r, id);
	if (rc == STORE_OK)
		json_array_append_new(listed, json_string(r.uri));
	r.name = r.scopes = NULL;
	if (rc == STORE_CONFLICT && id != NULL) {
		struct store_resource got;

		memset(&got, 0, sizeof(got));
		if ((rc = store_resource_get_by_key(st, r.uri_key, &got)) == STORE_OK)
			*id = got.id;
		store_resource_clear(&got);
	}
	store_resource_clear(&r);
	return rc == STORE_OK ? EXIT_OK : cli_fail("cannot register resource %s", uri);
}

/* A confidential client with a placeholder hash; its real hash comes later. */
static int
dev_client(struct store *st, struct dev_seed *s, const char *name, const char *grants,
    int64_t acts_for, const char *acts_for_uri, int64_t now)
{
	struct seeded_client *sc;
	struct store_client c;

	if (s->nclients >= MAX_SEEDED)
		return cli_misuse("too many seeded clients");
	sc = &s->clients[s->nclients];
	if ((sc->client_id = secret_random_id_new(16)) == NULL ||
	    (sc->secret = secret_random_new(32)) == NULL)
		return cli_fail("no randomness");
	sc->acts_for = acts_for_uri;
	s->nclients++;
	memset(&c, 0, sizeof(c));
	c.client_id = sc->client_id;
	c.name = (char *)(uintptr_t)name;
	c.confidential = 1;
	c.auth_method = (char *)(uintptr_t)"client_secret_basic";
	c.secret_hash = (char *)(uintptr_t)PLACEHOLDER_HASH;
	c.grant_types = (char *)(uintptr_t)grants;
	c.acts_for = acts_for;
	c.origin = (char *)(uintptr_t)"dev";
	c.created_at = now;
	return store_client_add(st, &c, NULL) == STORE_OK ? EXIT_OK
							   : cli_fail("cannot seed the dev client");
}

static int
seed(struct store *st, struct dev_seed *s, const char *issuer, const char *user_spec,
    const struct cli_list *uris, const struct cli_list *edges, int64_t now)
{
	struct store_idp self;
	int64_t from = 0, to = 0;
	int i, rc;

	if (user_spec != NULL) {
		const char *colon = strchr(user_spec, ':');

		if (colon == NULL || colon == user_spec || colon[1] == '\0')
			return cli_misuse("--user wants NAME:PASSWORD");
		s->user = strndup(user_spec, (size_t)(colon - user_spec));
		s->password = strdup(colon + 1);
	} else {
		s->user = strdup("dev");
		s->password = strdup("dev");
	}
	if (s->user == NULL || s->password == NULL)
		return cli_fail("out of memory");
	if (store_user_add(st, s->user, PLACEHOLDER_HASH, now, NULL) != STORE_OK)
		return cli_fail("cannot seed the dev user");
	for (i = 0; i < uris->n; i++) {
		if ((rc = dev_resource(st, uris->v[i], now, s->resources, NULL)) != 0)
			return rc;
	}
	/* The ready client: client_credentials for any resource (origin dev), and ID-JAGs. */
	if ((rc = dev_client(st, s, "mcp-authd dev client", "client_credentials " GRANT_TYPE_JWT_BEARER,
		 0, NULL, now)) != 0)
		return rc;
	/* The mock issuer is its own enterprise IdP: it trusts the ID-JAGs /dev/id-jag mints
	 * (signed with its own keys) and makes their users just in time. */
	memset(&self, 0, sizeof(self));
	self.name = (char *)(uintptr_t)"dev";
	self.issuer = (char *)(uintptr_t)issuer;
	self.client_id = (char *)(uintptr_t)"";
	self.display_name = (char *)(uintptr_t)"mcp-authd dev";
	self.scopes = (char *)(uintptr_t)"openid";
	self.claim_user = (char *)(uintptr_t)"sub";
	self.claim_email = (char *)(uintptr_t)"email";
	self.claim_groups = (char *)(uintptr_t)"groups";
	self.id_jag = 1;
	self.jit = 1;
	self.created_at = now;
	if (store_idp_add(st, &self, NULL) != STORE_OK)
		return cli_fail("cannot seed the dev ID-JAG issuer");
	/* --allow-exchange "FROM TO": the edge, and a client acting for FROM. */
	for (i = 0; i < edges->n; i++) {
		char from_uri[2048], to_uri[2048];
		const char *space = strchr(edges->v[i], ' ');

		if (space == NULL || (size_t)(space - edges->v[i]) >= sizeof(from_uri) ||
		    strlen(space + 1) >= sizeof(to_uri))
			return cli_misuse("--allow-exchange wants \"FROM_URI TO_URI\"");
		snprintf(from_uri, sizeof(from_uri), "%.*s", (int)(space - edges->v[i]), edges->v[i]);
		snprintf(to_uri, sizeof(to_uri), "%s", space + 1);
		if ((rc = dev_resource(st, from_uri, now, s->resources, &from)) != 0 ||
		    (rc = dev_resource(st, to_uri, now, s->resources, &to)) != 0)
			return rc;
		if (store_edge_put(st, from, to, NULL, now) != STORE_OK)
			return cli_fail("cannot add the exchange edge");
		if ((rc = dev_client(st, s, "mcp-authd dev exchange client", GRANT_TYPE_TOKEN_EXCHANGE,
			 from, edges->v[i], now)) != 0)
			return rc;
	}
	return EXIT_OK;
}

/* After start-up: the real argon2id hashes of the seeded secrets. */
static void *
hash_seeds(void *arg)
{
	struct dev_seed *s = arg;
	struct store_options opt = {.synchronous = "NORMAL"};
	struct store *st = NULL;
	char *hash = NULL;
	int i;

	if (store_open(s->db_path, &opt, &st) != STORE_OK)
		return NULL;
	if (password_hash_new(s->password, strlen(s->password), &hash) == 0)
		store_user_set_password(st, s->user, hash);
	free(hash);
	for (i = 0; i < s->nclients; i++) {
		hash = NULL;
		if (password_hash_new(s->clients[i].secret, strlen(s->clients[i].secret), &hash) != 0)
			continue;
		/* Not put in the verified-secret cache: it is keyed by client, and the real hash
		 * there would replace the placeholder's entry while the registry cache still
		 * hands out the placeholder (until its next poll), failing the client's requests
		 * in between. The first request after the poll verifies once, and caches. */
		store_client_set_secret(st, s->clients[i].client_id, hash, cli_now());
		free(hash);
	}
	store_close(st);
	return NULL;
}

static json_t *
ready_line(struct app *app, const struct dev_seed *s, uint16_t port)
{
	char *jwks = app_url_new(app, "/jwks.json");
	char *meta = app_url_new(app, "/.well-known/oauth-authorization-server");
	char *token = app_url_new(app, "/token");
	json_t *line, *ex = json_array();
	int i;

	for (i = 1; i < s->nclients; i++) {
		const char *pair = s->clients[i].acts_for;

		json_array_append_new(ex, json_pack("{s:s%, s:s, s:s, s:s}", "acts_for", pair,
		    strcspn(pair, " "), "to", strchr(pair, ' ') + 1, "client_id",
		    s->clients[i].client_id, "client_secret", s->clients[i].secret));
	}
	line = json_pack("{s:s, s:i, s:s, s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s}, s:O, s:o, s:s}",
	    "issuer", app->issuer, "port", (int)port, "metadata_url", meta ? meta : "", "jwks_uri",
	    jwks ? jwks : "", "token_endpoint", token ? token : "", "user", "name", s->user,
	    "password", s->password, "client", "client_id", s->clients[0].client_id,
	    "client_secret", s->clients[0].secret, "resources", s->resources, "exchange_clients",
	    ex, "id_jag_issuer", app->issuer);
	free(jwks);
	free(meta);
	free(token);
	return line;
}

int
cmd_dev(struct cli *c, int argc, char **argv)
{
	const char *port_text = NULL, *user_spec = NULL, *pos[1], *first;
	struct cli_list resources, edges;
	struct dev_seed s;
	struct master_key mk;
	struct store *anchor = NULL;
	struct store_options opt = {.synchronous = "NORMAL", .create = 1};
	struct server *srv = NULL;
	struct app app;
	pthread_t hasher;
	char err[512], issuer[64];
	int interactive = 0, npos, fd = -1, app_ready = 0, hashing = 0, i, rc;
	uint16_t port;
	long want = DEV_DEFAULT_PORT;
	const struct cli_opt opts[] = {
		{"--port", OPT_VALUE, &port_text},
		{"--resource", OPT_LIST, &resources},
		{"--allow-exchange", OPT_LIST, &edges},
		{"--interactive", OPT_FLAG, &interactive},
		{"--user", OPT_VALUE, &user_spec},
		{NULL, OPT_FLAG, NULL},
	};

	memset(&resources, 0, sizeof(resources));
	memset(&edges, 0, sizeof(edges));
	memset(&s, 0, sizeof(s));
	memset(&mk, 0, sizeof(mk));
	if ((rc = cli_parse(c, argc - 1, argv + 1, opts, pos, 0, &npos)) != 0)
		return rc;
	if (port_text != NULL) {
		char *end;

		want = strtol(port_text, &end, 10);
		if (*end != '\0' || end == port_text || want < 0 || want > 65535)
			return cli_misuse("--port must be 0..65535");
	}
	/* Dev defaults differ from serve: open registration; flags still win. */
	config_set(&c->cfg, "registration", "open", CONFIG_SRC_DEFAULT, err, sizeof(err));
	config_set(&c->cfg, "allow_insecure_issuer", "true", CONFIG_SRC_DEFAULT, err, sizeof(err));
	if ((rc = cli_config_load(c)) != 0)
		return rc;
	if ((s.resources = json_array()) == NULL)
		return cli_fail("out of memory");
	if ((fd = server_listen_loopback((uint16_t)want, &port)) < 0) {
		rc = cli_fail("cannot listen on 127.0.0.1:%ld", want);
		goto out;
	}
	snprintf(issuer, sizeof(issuer), "http://127.0.0.1:%u", port);
	/* One connection keeps the in-memory database alive for the whole run. */
	if ((s.db_path = store_memory_path_new()) == NULL ||
	    store_open(s.db_path, &opt, &anchor) != STORE_OK || store_migrate(anchor, NULL) != STORE_OK ||
	    store_setting_set(anchor, "issuer", issuer) != STORE_OK) {
		rc = cli_fail("cannot create the in-memory database");
		goto out;
	}
	if (master_key_ephemeral(&mk) != 0 ||
	    keystore_ensure(anchor, &mk, jws_alg_parse(c->cfg.signing_alg), cli_now()) != 0) {
		rc = cli_fail("cannot create a signing key");
		goto out;
	}
	if ((rc = seed(anchor, &s, issuer, user_spec, &resources, &edges, cli_now())) != 0)
		goto out;
	serve_block_signals();
	app_ready = 1;
	if (app_init(&app, &c->cfg, issuer, s.db_path, &mk, 1, err, sizeof(err)) != 0) {
		rc = cli_fail("%s", err);
		goto out;
	}
	app.dev_interactive = interactive;
	app.dev_any_resource = resources.n == 0 && edges.n == 0;
	app.dev_user = s.user != NULL ? strdup(s.user) : NULL;
	if ((first = json_string_value(json_array_get(s.resources, 0))) != NULL)
		app.dev_default_aud = strdup(first);
	if (s.nclients > 0 && s.clients[0].client_id != NULL)
		app.dev_client_id = strdup(s.clients[0].client_id);
	/* The seeded secrets are known: no argon2 needed to recognise them in this process. */
	for (i = 0; i < s.nclients; i++)
		secret_cache_put(app.secrets, s.clients[i].client_id, PLACEHOLDER_HASH,
		    s.clients[i].secret);
	if (server_start(&app, NULL, fd, (unsigned int)c->cfg.threads, &srv, err, sizeof(err)) != 0) {
		rc = cli_fail("%s", err);
		goto out;
	}
	fd = -1;
	cli_print_json(ready_line(&app, &s, port));
	fflush(stdout);
	hashing = pthread_create(&hasher, NULL, hash_seeds, &s) == 0;
	log_info("mcp-authd dev listening on %s", issuer);
	serve_notify("READY=1");
	rc = serve_wait(&app, NULL) == 0 ? EXIT_OK : EXIT_USER;
	/* In-flight requests finish with the worker pools still running, then the
	 * pools stop (they may hold suspended connections), then the threads. */
	server_drain(srv, 10000);
	app_quiesce(&app);
	server_stop(srv);
out:
	if (hashing)
		pthread_join(hasher, NULL);
	if (app_ready)
		app_free(&app);
	if (fd >= 0)
		close(fd);
	store_close(anchor);
	master_key_wipe(&mk);
	free(s.db_path);
	seed_clear(&s);
	return rc;
}
