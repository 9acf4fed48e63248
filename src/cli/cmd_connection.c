/* connection add | list | remove: the third parties users connect accounts at (DESIGN.md
 * §10.5); who may fetch them is resource allow-credential's (cmd_resource.c). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli/cli.h"
#include "oauth/connections.h"
#include "oauth/resource.h"
#include "oauth/scope.h"
#include "oauth/vault.h"

#define URL_MAX 2048
#define CLIENT_ID_MAX 256

struct connection_args {
	const char *authorize_url, *token_url, *revoke_url, *client_id, *scopes, *resource;
	int secret_stdin, allow_private;
};

/* A third party's endpoint: absolute https (http too with allow_insecure_issuer, for
 * local testing), printable, no fragment. The authorization endpoint may carry a query
 * (RFC 6749 §3.1); ours are appended to it. */
static int
url_check(const char *flag, const char *url, int allow_insecure)
{
	size_t i, n = url != NULL ? strlen(url) : 0;

	if (n == 0 || n > URL_MAX || strchr(url, '#') != NULL)
		return cli_fail("%s must be an absolute URL without a fragment, at most %d bytes",
		    flag, URL_MAX);
	for (i = 0; i < n; i++) {
		if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f)
			return cli_fail("%s must not hold spaces or control characters", flag);
	}
	if (strncmp(url, "https://", 8) != 0 &&
	    !(allow_insecure && strncmp(url, "http://", 7) == 0))
		return cli_fail("%s must use https (set allow_insecure_issuer = true for local "
				"testing)", flag);
	if (strlen(url + (url[4] == 's' ? 8 : 7)) == 0 || url[url[4] == 's' ? 8 : 7] == '/')
		return cli_fail("%s has no host", flag);
	return EXIT_OK;
}

static int
connection_add(struct cli *c, const char *name, const struct connection_args *a)
{
	struct store_connection conn;
	struct master_key mk;
	char secret[CONNECTION_SECRET_MAX + 2], *norm = NULL;
	int insecure = (int)c->cfg.allow_insecure_issuer, rc;

	memset(&conn, 0, sizeof(conn));
	if (!vault_name_ok(name))
		return cli_fail("bad connection name '%s' (1-32 of a-z, 0-9 and '-': MCP servers ask "
				"for it as audience, users connect at /connect/NAME)", name);
	if (a->authorize_url == NULL || a->token_url == NULL || a->client_id == NULL)
		return cli_misuse("usage: connection add NAME --authorize-url U --token-url U "
				  "--client-id ID [--client-secret-stdin] [--scopes \"a b\"] "
				  "[--revoke-url U] [--resource URI] [--allow-private]");
	if ((rc = url_check("--authorize-url", a->authorize_url, insecure)) != EXIT_OK ||
	    (rc = url_check("--token-url", a->token_url, insecure)) != EXIT_OK ||
	    (a->revoke_url != NULL &&
		(rc = url_check("--revoke-url", a->revoke_url, insecure)) != EXIT_OK))
		return rc;
	if (strchr(a->token_url, '?') != NULL ||
	    (a->revoke_url != NULL && strchr(a->revoke_url, '?') != NULL))
		return cli_fail("--token-url and --revoke-url take no query");
	if (a->client_id[0] == '\0' || strlen(a->client_id) > CLIENT_ID_MAX)
		return cli_fail("--client-id must be 1..%d characters", CLIENT_ID_MAX);
	if (a->scopes != NULL && a->scopes[0] != '\0' && !scope_valid(a->scopes))
		return cli_fail("--scopes must be a space-separated list of scopes (may be empty)");
	if (a->resource != NULL) {
		if (resource_normalize(a->resource, strlen(a->resource), &norm, NULL) != 0)
			return cli_fail("--resource must be an absolute URI without a fragment "
					"(RFC 8707)");
		free(norm);
	}
	conn.name = (char *)(uintptr_t)name;
	if (a->secret_stdin) {
		if (cli_read_line(stdin, secret, sizeof(secret)) != 0 || secret[0] == '\0') {
			OPENSSL_cleanse(secret, sizeof(secret));
			return cli_fail("no client secret on standard input (one line, at most %d bytes)",
			    CONNECTION_SECRET_MAX);
		}
		if ((rc = cli_master_key(c, &mk)) == EXIT_OK &&
		    connection_secret_seal(&mk, &conn, secret) != 0)
			rc = cli_fail("cannot seal the client secret");
		master_key_wipe(&mk);
		OPENSSL_cleanse(secret, sizeof(secret));
		if (rc != EXIT_OK) {
			conn.name = NULL;
			store_connection_clear(&conn);
			return rc;
		}
	}
	conn.authorize_url = (char *)(uintptr_t)a->authorize_url;
	conn.token_url = (char *)(uintptr_t)a->token_url;
	conn.revoke_url = (char *)(uintptr_t)a->revoke_url;
	conn.client_id = (char *)(uintptr_t)a->client_id;
	conn.scopes = (char *)(uintptr_t)(a->scopes != NULL ? a->scopes : "");
	conn.resource = (char *)(uintptr_t)a->resource;
	conn.allow_private = a->allow_private;
	conn.created_at = cli_now();
	rc = store_connection_add(c->st, &conn);
	conn.name = conn.authorize_url = conn.token_url = conn.revoke_url = NULL;
	conn.client_id = conn.scopes = conn.resource = NULL;
	store_connection_clear(&conn);
	if (rc == STORE_CONFLICT)
		return cli_fail("'%s' is taken by a connection or a credential (connection remove "
				"it first)", name);
	if (rc != STORE_OK)
		return cli_fail("cannot add the connection: %s", store_errmsg(c->st));
	{
		char *issuer = NULL, *callback = NULL, *connect = NULL;

		if ((rc = cli_issuer(c, &issuer)) != EXIT_OK)
			return rc;
		connect = connection_connect_uri_new(issuer, name);
		callback = connect != NULL ? malloc(strlen(connect) + sizeof("/callback")) : NULL;
		if (callback != NULL)
			sprintf(callback, "%s/callback", connect);
		if (c->json)
			rc = cli_print_json(json_pack("{s:s, s:s?, s:s?}", "name", name, "redirect_uri",
			    callback, "connect_uri", connect));
		else {
			printf("connection %s added\n", name);
			printf("register this redirect URI at the third party: %s\n",
			    callback ? callback : "");
			printf("users connect at: %s\n", connect ? connect : "");
			rc = EXIT_OK;
		}
		free(issuer);
		free(callback);
		free(connect);
	}
	return rc;
}

static int
print_connection(const struct store_connection *conn, void *arg)
{
	json_t *list = arg;
	char when[32];

	/* Never the secret: whether there is one. */
	if (list != NULL)
		return json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s, s:s?, "
		    "s:b, s:b, s:I}", "name", conn->name, "authorize_url", conn->authorize_url,
		    "token_url", conn->token_url, "revoke_url", conn->revoke_url, "client_id",
		    conn->client_id, "scopes", conn->scopes, "resource", conn->resource,
		    "client_secret", conn->secret_enc != NULL, "allow_private", conn->allow_private,
		    "created_at", (json_int_t)conn->created_at));
	cli_time_str(conn->created_at, when);
	printf("%-24s %s client %s%s %s\n", conn->name, conn->token_url, conn->client_id,
	    conn->secret_enc != NULL ? " (secret sealed)" : " (public)", when);
	return 0;
}

int
cmd_connection(struct cli *c, int argc, char **argv)
{
	struct connection_args a;
	const char *pos[3];
	int npos, rc;
	const struct cli_opt opts[] = {
		{"--authorize-url", OPT_VALUE, &a.authorize_url},
		{"--token-url", OPT_VALUE, &a.token_url},
		{"--revoke-url", OPT_VALUE, &a.revoke_url},
		{"--client-id", OPT_VALUE, &a.client_id},
		{"--client-secret-stdin", OPT_FLAG, &a.secret_stdin},
		{"--scopes", OPT_VALUE, &a.scopes},
		{"--resource", OPT_VALUE, &a.resource},
		{"--allow-private", OPT_FLAG, &a.allow_private},
		{NULL, OPT_FLAG, NULL},
	};

	memset(&a, 0, sizeof(a));
	if ((rc = cli_parse(c, argc - 1, argv + 1, opts, pos, 2, &npos)) != 0)
		return rc;
	if (npos < 1)
		return cli_misuse("connection needs a subcommand: add, list, remove");
	if (strcmp(pos[0], "add") == 0 && npos != 2)
		return cli_misuse("usage: connection add NAME --authorize-url U --token-url U ...");
	if (strcmp(pos[0], "add") != 0 &&
	    (a.authorize_url || a.token_url || a.revoke_url || a.client_id || a.secret_stdin ||
		a.scopes || a.resource || a.allow_private))
		return cli_misuse("those options go with connection add");
	if (strcmp(pos[0], "remove") == 0 && npos != 2)
		return cli_misuse("usage: connection remove NAME");
	if (strcmp(pos[0], "list") == 0 && npos != 1)
		return cli_misuse("usage: connection list");
	if ((rc = cli_config_load(c)) != 0 || (rc = cli_open_store(c, 0)) != 0)
		return rc;
	if (strcmp(pos[0], "add") == 0)
		return connection_add(c, pos[1], &a);
	if (strcmp(pos[0], "list") == 0) {
		json_t *list = c->json ? json_array() : NULL;

		if (store_connection_list(c->st, print_connection, list) != STORE_OK) {
			json_decref(list);
			return cli_fail("cannot list connections: %s", store_errmsg(c->st));
		}
		return list != NULL ? cli_print_json(list) : EXIT_OK;
	}
	if (strcmp(pos[0], "remove") == 0) {
		/* Forgets every user's tokens without revoking them upstream: users disconnect
		 * at /connections for that; an operator removing a connection says it is gone. */
		rc = store_connection_remove(c->st, pos[1]);
		if (rc == STORE_NOTFOUND)
			return cli_fail("no connection '%s'", pos[1]);
		if (rc != STORE_OK)
			return cli_fail("cannot remove the connection: %s", store_errmsg(c->st));
		if (c->json)
			return cli_print_json(json_pack("{s:s, s:b}", "name", pos[1], "removed", 1));
		printf("connection %s removed, with every user's tokens and who may fetch it\n", pos[1]);
		return EXIT_OK;
	}
	return cli_misuse("connection needs a subcommand: add, list, remove");
}
