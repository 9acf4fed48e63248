/* client add | registration-token | list | remove. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli/cli.h"
#include "oauth/assertion.h"
#include "oauth/redirect.h"
#include "oauth/resource.h"
#include "oauth/secret.h"
#include "util/buf.h"
#include "util/password.h"

#define GRANT_TOKEN_EXCHANGE "urn:ietf:params:oauth:grant-type:token-exchange"
#define CLIENT_NAME_MAX 200

static const char *
grant_full_name(const char *g)
{
	static const char *const known[] = {"authorization_code", "refresh_token",
	    "client_credentials", GRANT_TOKEN_EXCHANGE, GRANT_TYPE_JWT_BEARER, NULL};
	size_t i;

	if (strcmp(g, "token-exchange") == 0 || strcmp(g, "token_exchange") == 0)
		return GRANT_TOKEN_EXCHANGE;
	if (strcmp(g, "jwt-bearer") == 0 || strcmp(g, "id-jag") == 0)
		return GRANT_TYPE_JWT_BEARER;
	for (i = 0; known[i] != NULL; i++) {
		if (strcmp(g, known[i]) == 0)
			return known[i];
	}
	return NULL;
}

static int
has_word(const char *list, const char *w)
{
	size_t n = strlen(w);
	const char *p = list;

	while ((p = strstr(p, w)) != NULL) {
		if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
			return 1;
		p += n;
	}
	return 0;
}

/* The canonical registered form of a resource named on the command line. */
static int
resolve_resource(struct cli *c, const char *uri, struct store_resource *out)
{
	char *key = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (resource_normalize(uri, strlen(uri), NULL, &key) != 0)
		return cli_fail("'%s' is not a valid resource URI", uri);
	rc = store_resource_get_by_key(c->st, key, out);
	free(key);
	if (rc == STORE_NOTFOUND)
		return cli_fail("no resource '%s' (add it with 'mcp-authd resource add')", uri);
	return rc == STORE_OK ? EXIT_OK : cli_fail("cannot read resources: %s", store_errmsg(c->st));
}

struct client_args {
	const char *name, *acts_for, *default_resource, *jwks_file, *jwks_uri;
	int is_public, is_confidential, introspect_admin;
	struct cli_list redirects, grants, resources;
};

static int
client_add(struct cli *c, struct client_args *a)
{
	struct store_client cl;
	struct store_resource acts, def, *res = NULL;
	struct buf grants;
	char *secret = NULL, *jwks = NULL;
	int i, rc, keys;

	memset(&cl, 0, sizeof(cl));
	memset(&acts, 0, sizeof(acts));
	memset(&def, 0, sizeof(def));
	buf_init(&grants, 1024);
	if (a->name == NULL || a->name[0] == '\0' || strlen(a->name) > CLIENT_NAME_MAX)
		return cli_misuse("client add needs --name N (1-%d characters)", CLIENT_NAME_MAX);
	if (a->is_public && a->is_confidential)
		return cli_misuse("--public and --confidential exclude each other");
	keys = a->jwks_file != NULL || a->jwks_uri != NULL;
	if (keys && a->is_public)
		return cli_misuse("a client with keys (--jwks-file, --jwks-uri) is confidential");

	for (i = 0; i < a->redirects.n; i++) {
		if (redirect_uri_classify(a->redirects.v[i]) == REDIRECT_INVALID)
			return cli_fail("redirect URI '%s' refused: it must be https, http on a loopback "
					"address, or a private-use scheme, with no fragment",
			    a->redirects.v[i]);
	}
	for (i = 0; i < a->grants.n; i++) {
		const char *g = grant_full_name(a->grants.v[i]);

		if (g == NULL)
			return cli_fail("unknown grant type '%s' (authorization_code, refresh_token, "
					"client_credentials, token-exchange, jwt-bearer)", a->grants.v[i]);
		if (!(grants.data && has_word(grants.data, g)))
			buf_printf(&grants, "%s%s", grants.len ? " " : "", g);
	}
	if (a->grants.n == 0) {
		/* The grants follow from what else was said. */
		if (a->redirects.n > 0)
			buf_puts(&grants, "authorization_code refresh_token");
		if (a->resources.n > 0)
			buf_printf(&grants, "%sclient_credentials", grants.len ? " " : "");
		if (a->acts_for != NULL)
			buf_printf(&grants, "%s%s", grants.len ? " " : "", GRANT_TOKEN_EXCHANGE);
		if (grants.len == 0) {
			rc = cli_misuse("say what the client does: --redirect-uri, --resource, "
					"--acts-for or --grant");
			goto out;
		}
	}
	cl.confidential = !a->is_public;
	if (!cl.confidential && (has_word(grants.data, "client_credentials") ||
				    has_word(grants.data, GRANT_TOKEN_EXCHANGE) ||
				    has_word(grants.data, GRANT_TYPE_JWT_BEARER) || a->introspect_admin)) {
		rc = cli_fail("a public client cannot use client_credentials, token exchange, ID-JAGs "
			      "or introspection: it has no credentials");
		goto out;
	}
	if (has_word(grants.data, "authorization_code") && a->redirects.n == 0) {
		rc = cli_fail("the authorization_code grant needs at least one --redirect-uri");
		goto out;
	}
	if (has_word(grants.data, "client_credentials") && a->resources.n == 0) {
		rc = cli_fail("the client_credentials grant needs at least one --resource");
		goto out;
	}
	if (has_word(grants.data, GRANT_TOKEN_EXCHANGE) && a->acts_for == NULL) {
		rc = cli_fail("token exchange needs --acts-for URI (the resource this client acts for)");
		goto out;
	}
	if (a->acts_for != NULL && (rc = resolve_resource(c, a->acts_for, &acts)) != 0)
		goto out;
	if (a->default_resource != NULL && (rc = resolve_resource(c, a->default_resource, &def)) != 0)
		goto out;
	if (a->resources.n > 0 && (res = calloc((size_t)a->resources.n, sizeof(*res))) == NULL) {
		rc = cli_fail("out of memory");
		goto out;
	}
	for (i = 0; i < a->resources.n; i++) {
		if ((rc = resolve_resource(c, a->resources.v[i], &res[i])) != 0)
			goto out;
	}
	/* Held by cl from here on: store_client_clear frees it. */
	if ((rc = cli_keys_option(c, "--jwks", a->jwks_file, a->jwks_uri, &jwks)) != EXIT_OK)
		goto out;
	cl.jwks = jwks;
	if ((cl.client_id = secret_random_id_new(16)) == NULL) {
		rc = cli_fail("no randomness");
		goto out;
	}
	if (cl.confidential && !keys) {
		if ((secret = secret_random_new(32)) == NULL ||
		    password_hash_new(secret, strlen(secret), &cl.secret_hash) != 0) {
			rc = cli_fail("cannot make a client secret");
			goto out;
		}
	}
	cl.name = (char *)(uintptr_t)a->name;
	cl.auth_method = (char *)(uintptr_t)(keys ? "private_key_jwt"
					     : cl.confidential ? "client_secret_basic" : "none");
	cl.jwks_uri = (char *)(uintptr_t)a->jwks_uri;
	cl.grant_types = grants.data;
	cl.acts_for = acts.id;
	cl.default_resource = def.uri;
	cl.introspect_admin = a->introspect_admin;
	cl.origin = (char *)(uintptr_t)"cli";
	cl.redirect_uris = (char **)(uintptr_t)a->redirects.v;
	cl.n_redirect_uris = (size_t)a->redirects.n;
	cl.created_at = cli_now();
	if (store_begin(c->st) != STORE_OK) {
		rc = cli_fail("database busy: %s", store_errmsg(c->st));
		goto out_clear;
	}
	rc = store_client_add(c->st, &cl, &cl.id);
	for (i = 0; rc == STORE_OK && res != NULL && i < a->resources.n; i++)
		rc = store_client_resource_add(c->st, cl.id, res[i].id);
	if (rc == STORE_OK)
		rc = store_commit(c->st);
	else
		store_rollback(c->st);
	if (rc != STORE_OK) {
		rc = cli_fail("cannot add client: %s", store_errmsg(c->st));
		goto out_clear;
	}
	if (c->json) {
		json_t *doc = json_pack("{s:s, s:s, s:s}", "client_id", cl.client_id, "name", a->name,
		    "grant_types", grants.data);

		if (doc != NULL && secret != NULL)
			json_object_set_new(doc, "client_secret", json_string(secret));
		rc = cli_print_json(doc);
	} else {
		printf("client_id: %s\n", cl.client_id);
		if (secret != NULL)
			printf("client_secret: %s\n(the secret is shown only this once)\n", secret);
		rc = EXIT_OK;
	}
out_clear:
	/* Borrowed members must not be freed by store_client_clear. */
	cl.name = cl.auth_method = cl.grant_types = cl.default_resource = cl.origin = NULL;
	cl.jwks_uri = NULL;
	cl.redirect_uris = NULL;
	cl.n_redirect_uris = 0;
out:
	store_client_clear(&cl);
	if (secret != NULL)
		OPENSSL_clear_free(secret, strlen(secret));
	for (i = 0; res != NULL && i < a->resources.n; i++)
		store_resource_clear(&res[i]);
	free(res);
	store_resource_clear(&acts);
	store_resource_clear(&def);
	buf_free(&grants);
	return rc;
}

static int
registration_token(struct cli *c, const char *ttl_text)
{
	unsigned char hash[SECRET_HASH_LEN];
	int64_t ttl = 86400, now = cli_now();
	char *token;
	int rc;

	if (ttl_text != NULL && (config_parse_duration(ttl_text, &ttl) != 0 || ttl < 1))
		return cli_fail("--ttl must be a positive number of seconds");
	if ((token = secret_random_new(32)) == NULL)
		return cli_fail("no randomness");
	secret_hash(token, hash);
	if (store_regtoken_add(c->st, hash, sizeof(hash), now, now + ttl) != STORE_OK) {
		rc = cli_fail("cannot store the token: %s", store_errmsg(c->st));
		goto out;
	}
	if (c->json)
		rc = cli_print_json(json_pack("{s:s, s:I}", "registration_token", token, "expires_at",
		    (json_int_t)(now + ttl)));
	else {
		printf("%s\n", token);
		rc = EXIT_OK;
	}
out:
	OPENSSL_clear_free(token, strlen(token));
	return rc;
}

static int
print_client(const struct store_client *cl, void *arg)
{
	json_t *list = arg;
	char when[32];

	if (list != NULL) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "client_id", cl->client_id,
		    "name", cl->name, "type", cl->confidential ? "confidential" : "public",
		    "grant_types", cl->grant_types, "origin", cl->origin, "created_at",
		    (json_int_t)cl->created_at);

		if (o == NULL)
			return -1;
		json_object_set_new(o, "acts_for",
		    cl->acts_for_uri ? json_string(cl->acts_for_uri) : json_null());
		json_object_set_new(o, "auth_method", json_string(cl->auth_method));
		if (cl->jwks_uri != NULL)
			json_object_set_new(o, "jwks_uri", json_string(cl->jwks_uri));
		return json_array_append_new(list, o);
	}
	cli_time_str(cl->created_at, when);
	printf("%-24s %-24s %-12s %-5s %s [%s]%s\n", cl->client_id, cl->name,
	    cl->confidential ? "confidential" : "public", cl->origin, when, cl->grant_types,
	    strcmp(cl->auth_method, "private_key_jwt") == 0 ? " private_key_jwt" : "");
	return 0;
}

int
cmd_client(struct cli *c, int argc, char **argv)
{
	struct client_args a;
	const char *ttl = NULL, *pos[3];
	int npos, rc;

	memset(&a, 0, sizeof(a));
	{
		const struct cli_opt opts[] = {
			{"--name", OPT_VALUE, &a.name},
			{"--public", OPT_FLAG, &a.is_public},
			{"--confidential", OPT_FLAG, &a.is_confidential},
			{"--redirect-uri", OPT_LIST, &a.redirects},
			{"--grant", OPT_LIST, &a.grants},
			{"--resource", OPT_LIST, &a.resources},
			{"--acts-for", OPT_VALUE, &a.acts_for},
			{"--default-resource", OPT_VALUE, &a.default_resource},
			{"--introspect-admin", OPT_FLAG, &a.introspect_admin},
			{"--jwks-file", OPT_VALUE, &a.jwks_file},
			{"--jwks-uri", OPT_VALUE, &a.jwks_uri},
			{"--ttl", OPT_VALUE, &ttl},
			{NULL, OPT_FLAG, NULL},
		};

		if ((rc = cli_parse(c, argc - 1, argv + 1, opts, pos, 2, &npos)) != 0)
			return rc;
	}
	if (npos < 1)
		return cli_misuse("client needs a subcommand: add, registration-token, list, remove");
	if (strcmp(pos[0], "remove") == 0 ? npos != 2 : npos != 1)
		return cli_misuse("usage: client %s%s", pos[0],
		    strcmp(pos[0], "remove") == 0 ? " ID" : " ...");
	if ((rc = cli_config_load(c)) != 0 || (rc = cli_open_store(c, 0)) != 0)
		return rc;
	if (strcmp(pos[0], "add") == 0)
		return client_add(c, &a);
	if (strcmp(pos[0], "registration-token") == 0)
		return registration_token(c, ttl);
	if (strcmp(pos[0], "list") == 0) {
		json_t *list = c->json ? json_array() : NULL;

		if (store_client_list(c->st, print_client, list) != STORE_OK) {
			json_decref(list);
			return cli_fail("cannot list clients: %s", store_errmsg(c->st));
		}
		return list ? cli_print_json(list) : EXIT_OK;
	}
	if (strcmp(pos[0], "remove") == 0) {
		rc = store_client_remove(c->st, pos[1]);
		if (rc == STORE_NOTFOUND)
			return cli_fail("no client '%s'", pos[1]);
		if (rc != STORE_OK)
			return cli_fail("cannot remove client: %s", store_errmsg(c->st));
		if (c->json)
			return cli_print_json(json_pack("{s:s, s:b}", "client_id", pos[1], "removed", 1));
		printf("client %s removed\n", pos[1]);
		return EXIT_OK;
	}
	return cli_misuse("unknown client subcommand '%s'", pos[0]);
}
