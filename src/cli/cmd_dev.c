/* dev: the mock issuer for test suites (DESIGN.md §5a). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli/cli.h"
#include "cli/serve_loop.h"
#include "http/server.h"
#include "oauth/resource.h"
#include "oauth/secret.h"
#include "util/log.h"
#include "util/password.h"

#define DEV_DEFAULT_PORT 8414

struct dev_seed {
	const char *user;
	char *password;
	char *client_id;
	char *client_secret;
	json_t *resources;
};

static int
seed_resources(struct store *st, const struct cli_list *uris, json_t *out, int64_t now)
{
	int i;

	for (i = 0; i < uris->n; i++) {
		struct store_resource r;
		int rc;

		memset(&r, 0, sizeof(r));
		if (resource_normalize(uris->v[i], strlen(uris->v[i]), &r.uri, &r.uri_key) != 0)
			return cli_fail("'%s' is not a valid resource URI", uris->v[i]);
		r.name = r.uri;
		r.scopes = (char *)(uintptr_t)"";
		r.created_at = now;
		rc = store_resource_add(st, &r, NULL);
		r.name = NULL;
		r.scopes = NULL;
		if (rc == STORE_OK)
			json_array_append_new(out, json_string(r.uri));
		store_resource_clear(&r);
		if (rc != STORE_OK && rc != STORE_CONFLICT)
			return cli_fail("cannot register resource %s", uris->v[i]);
	}
	return EXIT_OK;
}

static int
seed(struct store *st, struct dev_seed *s, const char *user_spec, const struct cli_list *uris,
    int64_t now)
{
	struct store_client cl;
	char *hash = NULL;
	int rc;

	memset(&cl, 0, sizeof(cl));
	if (user_spec != NULL) {
		const char *colon = strchr(user_spec, ':');

		if (colon == NULL || colon == user_spec || colon[1] == '\0')
			return cli_misuse("--user wants NAME:PASSWORD");
		s->user = user_spec;
		if ((s->password = strdup(colon + 1)) == NULL)
			return cli_fail("out of memory");
		((char *)(uintptr_t)user_spec)[colon - user_spec] = '\0';
	} else {
		s->user = "dev";
		if ((s->password = strdup("dev")) == NULL)
			return cli_fail("out of memory");
	}
	if (password_hash_new(s->password, strlen(s->password), &hash) != 0 ||
	    store_user_add(st, s->user, hash, now, NULL) != STORE_OK) {
		free(hash);
		return cli_fail("cannot seed the dev user");
	}
	free(hash);
	hash = NULL;
	if ((rc = seed_resources(st, uris, s->resources, now)) != 0)
		return rc;
	s->client_id = secret_random_new(16);
	s->client_secret = secret_random_new(32);
	if (s->client_id == NULL || s->client_secret == NULL ||
	    password_hash_new(s->client_secret, strlen(s->client_secret), &cl.secret_hash) != 0)
		return cli_fail("cannot make the dev client");
	cl.client_id = s->client_id;
	cl.name = (char *)(uintptr_t)"mcp-authd dev client";
	cl.confidential = 1;
	cl.auth_method = (char *)(uintptr_t)"client_secret_basic";
	cl.grant_types = (char *)(uintptr_t)"client_credentials";
	cl.origin = (char *)(uintptr_t)"dev";
	cl.created_at = now;
	rc = store_client_add(st, &cl, NULL);
	free(cl.secret_hash);
	return rc == STORE_OK ? EXIT_OK : cli_fail("cannot seed the dev client");
}

int
cmd_dev(struct cli *c, int argc, char **argv)
{
	const char *port_text = NULL, *user_spec = NULL, *pos[1];
	struct cli_list resources;
	struct dev_seed s;
	struct master_key mk;
	struct store *anchor = NULL;
	struct store_options opt = {"NORMAL", 1, 0};
	struct server *srv = NULL;
	struct app app;
	char err[512], issuer[64], *path = NULL;
	int interactive = 0, npos, fd = -1, app_ready = 0, rc;
	uint16_t port;
	long want = DEV_DEFAULT_PORT;
	const struct cli_opt opts[] = {
		{"--port", OPT_VALUE, &port_text},
		{"--resource", OPT_LIST, &resources},
		{"--interactive", OPT_FLAG, &interactive},
		{"--user", OPT_VALUE, &user_spec},
		{NULL, OPT_FLAG, NULL},
	};

	memset(&resources, 0, sizeof(resources));
	memset(&s, 0, sizeof(s));
	memset(&mk, 0, sizeof(mk));
	if ((rc = cli_parse(c, argc - 1, argv + 1, opts, pos, 0, &npos)) != 0)
		return rc;
	if (port_text != NULL) {
		char *end;

		want = strtol(port_text, &end, 10);
		if (*end != '\0' || want < 0 || want > 65535)
			return cli_misuse("--port must be 0..65535");
	}
	/* Dev defaults differ from serve: open registration; flags still win. */
	config_set(&c->cfg, "registration", "open", CONFIG_SRC_DEFAULT, err, sizeof(err));
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
	if ((path = store_memory_path_new()) == NULL || store_open(path, &opt, &anchor) != STORE_OK ||
	    store_migrate(anchor, NULL) != STORE_OK ||
	    store_setting_set(anchor, "issuer", issuer) != STORE_OK) {
		rc = cli_fail("cannot create the in-memory database");
		goto out;
	}
	if (master_key_ephemeral(&mk) != 0 ||
	    keystore_ensure(anchor, &mk, jws_alg_parse(c->cfg.signing_alg), cli_now()) != 0) {
		rc = cli_fail("cannot create a signing key");
		goto out;
	}
	if ((rc = seed(anchor, &s, user_spec, &resources, cli_now())) != 0)
		goto out;
	serve_block_signals();
	app_ready = 1;
	if (app_init(&app, &c->cfg, issuer, path, &mk, 1, err, sizeof(err)) != 0) {
		rc = cli_fail("%s", err);
		goto out;
	}
	app.dev_interactive = interactive;
	app.dev_any_resource = resources.n == 0;
	app.dev_user = strdup(s.user);
	if (server_start(&app, NULL, fd, (unsigned int)c->cfg.threads, &srv, err, sizeof(err)) != 0) {
		rc = cli_fail("%s", err);
		goto out;
	}
	fd = -1;
	{
		json_t *line = json_pack("{s:s, s:i, s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s}, s:O}",
		    "issuer", issuer, "port", (int)port, "metadata_url", "", "jwks_uri", "", "user",
		    "name", s.user, "password", s.password, "client", "client_id", s.client_id,
		    "client_secret", s.client_secret, "resources", s.resources);
		char *u1 = app_url_new(&app, "/.well-known/oauth-authorization-server");
		char *u2 = app_url_new(&app, "/jwks.json");

		if (line != NULL && u1 != NULL && u2 != NULL) {
			json_object_set_new(line, "metadata_url", json_string(u1));
			json_object_set_new(line, "jwks_uri", json_string(u2));
		}
		free(u1);
		free(u2);
		cli_print_json(line);
		fflush(stdout);
	}
	log_info("mcp-authd dev listening on %s", issuer);
	rc = serve_wait(&app, NULL) == 0 ? EXIT_OK : EXIT_USER;
	app_quiesce(&app);
	server_stop(srv);
out:
	if (app_ready)
		app_free(&app);
	if (fd >= 0)
		close(fd);
	store_close(anchor);
	master_key_wipe(&mk);
	free(path);
	if (s.password != NULL)
		OPENSSL_clear_free(s.password, strlen(s.password));
	if (s.client_secret != NULL)
		OPENSSL_clear_free(s.client_secret, strlen(s.client_secret));
	free(s.client_id);
	json_decref(s.resources);
	return rc;
}
