/* resource add | list | remove | allow-exchange | allow-credential | metadata. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "oauth/resource.h"
#include "oauth/scope.h"

#define RESOURCE_NAME_MAX 200

static int
check_scopes(const char *what, const char *scopes)
{
	if (scopes != NULL && !scope_valid(scopes))
		return cli_fail("%s '%s' is not a space-separated list of scope tokens", what, scopes);
	return EXIT_OK;
}

static int
resource_add(struct cli *c, const char *uri_in, const char *name, const char *scopes,
    const char *defaults, const char *ttl_text)
{
	struct store_resource r;
	int64_t ttl = 0;
	int rc;

	memset(&r, 0, sizeof(r));
	if (resource_normalize(uri_in, strlen(uri_in), &r.uri, &r.uri_key) != 0)
		return cli_fail("'%s' is not a valid resource URI (absolute http(s), no query or "
				"fragment)", uri_in);
	if ((rc = check_scopes("--scopes", scopes)) != 0 ||
	    (rc = check_scopes("--default-scopes", defaults)) != 0)
		goto out;
	if (defaults != NULL && !scope_subset(defaults, scopes ? scopes : "")) {
		rc = cli_fail("--default-scopes must be among --scopes");
		goto out;
	}
	if (ttl_text != NULL && (config_parse_duration(ttl_text, &ttl) != 0 || ttl < 1 ||
				    ttl > 86400)) {
		rc = cli_fail("--ttl must be 1..86400 seconds");
		goto out;
	}
	if (name != NULL && (strlen(name) == 0 || strlen(name) > RESOURCE_NAME_MAX)) {
		rc = cli_fail("--name must be 1..%d characters", RESOURCE_NAME_MAX);
		goto out;
	}
	r.name = (char *)(uintptr_t)(name ? name : r.uri);
	r.scopes = (char *)(uintptr_t)(scopes ? scopes : "");
	r.default_scopes = (char *)(uintptr_t)defaults;
	r.ttl = ttl;
	r.created_at = cli_now();
	rc = store_resource_add(c->st, &r, &r.id);
	r.name = r.scopes = r.default_scopes = NULL;
	if (rc == STORE_CONFLICT) {
		rc = cli_fail("resource '%s' is already registered", r.uri);
		goto out;
	}
	if (rc != STORE_OK) {
		rc = cli_fail("cannot add resource: %s", store_errmsg(c->st));
		goto out;
	}
	if (c->json)
		rc = cli_print_json(json_pack("{s:s, s:s}", "uri", r.uri, "name", name ? name : r.uri));
	else {
		printf("resource %s added\n", r.uri);
		rc = EXIT_OK;
	}
out:
	store_resource_clear(&r);
	return rc;
}

static int
print_resource(const struct store_resource *r, void *arg)
{
	json_t *list = arg;

	if (list != NULL) {
		json_t *o = json_pack("{s:s, s:s, s:s}", "uri", r->uri, "name", r->name, "scopes",
		    r->scopes);

		if (o == NULL)
			return -1;
		json_object_set_new(o, "default_scopes",
		    r->default_scopes ? json_string(r->default_scopes) : json_null());
		json_object_set_new(o, "access_token_ttl", r->ttl ? json_integer(r->ttl) : json_null());
		return json_array_append_new(list, o);
	}
	printf("%-40s %-20s scopes=[%s]%s%s%s\n", r->uri, r->name, r->scopes,
	    r->default_scopes ? " default=[" : "", r->default_scopes ? r->default_scopes : "",
	    r->default_scopes ? "]" : "");
	return 0;
}

static int
print_edge(const char *from, const char *to, const char *scopes, void *arg)
{
	json_t *list = arg;

	if (list != NULL)
		return json_array_append_new(list, json_pack("{s:s, s:s, s:o}", "from", from, "to", to,
		    "scopes", scopes ? json_string(scopes) : json_null()));
	printf("exchange %s -> %s scopes=[%s]\n", from, to, scopes ? scopes : "*");
	return 0;
}

static int
resource_list(struct cli *c)
{
	json_t *doc = NULL, *rl = NULL, *el = NULL;

	if (c->json) {
		rl = json_array();
		el = json_array();
		doc = json_pack("{s:o, s:o}", "resources", rl, "exchange", el);
		if (doc == NULL)
			return cli_fail("out of memory");
	}
	if (store_resource_list(c->st, print_resource, rl) != STORE_OK ||
	    store_edge_list(c->st, print_edge, el) != STORE_OK) {
		json_decref(doc);
		return cli_fail("cannot list resources: %s", store_errmsg(c->st));
	}
	return doc ? cli_print_json(doc) : EXIT_OK;
}

static int
resource_allow(struct cli *c, const char *from_uri, const char *to_uri, const char *scopes)
{
	struct store_resource from, to;
	int rc;

	memset(&from, 0, sizeof(from));
	memset(&to, 0, sizeof(to));
	if ((rc = check_scopes("--scopes", scopes)) != 0)
		return rc;
	if ((rc = cli_find_resource(c, from_uri, &from)) != 0 ||
	    (rc = cli_find_resource(c, to_uri, &to)) != 0)
		goto out;
	if (from.id == to.id) {
		rc = cli_fail("an exchange edge needs two different resources");
		goto out;
	}
	if (scopes != NULL && !scope_subset(scopes, to.scopes)) {
		rc = cli_fail("--scopes must be among the scopes of %s (%s)", to.uri, to.scopes);
		goto out;
	}
	if (store_edge_put(c->st, from.id, to.id, scopes, cli_now()) != STORE_OK) {
		rc = cli_fail("cannot add the exchange edge: %s", store_errmsg(c->st));
		goto out;
	}
	if (c->json)
		rc = cli_print_json(json_pack("{s:s, s:s, s:o}", "from", from.uri, "to", to.uri,
		    "scopes", scopes ? json_string(scopes) : json_null()));
	else {
		printf("exchange %s -> %s allowed\n", from.uri, to.uri);
		rc = EXIT_OK;
	}
out:
	store_resource_clear(&from);
	store_resource_clear(&to);
	return rc;
}

/* resource allow-credential URI NAME: the MCP server at URI may fetch the vault's
 * credential NAME (token exchange with audience=NAME, by the client acting for URI). */
static int
resource_allow_credential(struct cli *c, const char *uri, const char *name)
{
	struct store_resource r;
	int rc;

	if ((rc = cli_find_resource(c, uri, &r)) != 0)
		return rc;
	/* A service credential or a user connection: the store knows either name. */
	rc = store_resource_credential_allow(c->st, r.id, name, cli_now());
	if (rc == STORE_NOTFOUND)
		rc = cli_fail("no credential or connection '%s' (credential set or connection add "
			      "it first)", name);
	else if (rc != STORE_OK)
		rc = cli_fail("cannot add the policy: %s", store_errmsg(c->st));
	else if (c->json)
		rc = cli_print_json(json_pack("{s:s, s:s}", "resource", r.uri, "credential", name));
	else {
		printf("%s may fetch credential %s\n", r.uri, name);
		rc = EXIT_OK;
	}
	store_resource_clear(&r);
	return rc;
}

static int
resource_metadata(struct cli *c, const char *uri)
{
	struct store_resource r;
	char *issuer = NULL;
	json_t *doc;
	int rc;

	if ((rc = cli_find_resource(c, uri, &r)) != 0)
		return rc;
	if ((rc = cli_issuer(c, &issuer)) != 0)
		goto out;
	/* RFC 9728 protected resource metadata, to be served by the MCP server at
	 * /.well-known/oauth-protected-resource (path-inserted for a path). */
	doc = json_pack("{s:s, s:[s], s:o, s:[s], s:s}", "resource", r.uri, "authorization_servers",
	    issuer, "scopes_supported", scope_json_array(r.scopes), "bearer_methods_supported", "header",
	    "resource_name", r.name);
	rc = cli_print_json(doc);
out:
	free(issuer);
	store_resource_clear(&r);
	return rc;
}

int
cmd_resource(struct cli *c, int argc, char **argv)
{
	const char *name = NULL, *scopes = NULL, *defaults = NULL, *ttl = NULL, *pos[4];
	int npos, rc;
	const struct cli_opt opts[] = {
		{"--name", OPT_VALUE, &name},
		{"--scopes", OPT_VALUE, &scopes},
		{"--default-scopes", OPT_VALUE, &defaults},
		{"--ttl", OPT_VALUE, &ttl},
		{NULL, OPT_FLAG, NULL},
	};

	if ((rc = cli_parse(c, argc - 1, argv + 1, opts, pos, 3, &npos)) != 0)
		return rc;
	if (npos < 1)
		return cli_misuse("resource needs a subcommand: add, list, remove, allow-exchange, "
				  "allow-credential, metadata");
	if (strcmp(pos[0], "add") == 0 && npos != 2)
		return cli_misuse("usage: resource add URI [--name N] [--scopes \"a b\"] "
				  "[--default-scopes \"a\"] [--ttl SECONDS]");
	if (strcmp(pos[0], "allow-exchange") == 0 && npos != 3)
		return cli_misuse("usage: resource allow-exchange FROM_URI TO_URI [--scopes \"a b\"]");
	if (strcmp(pos[0], "allow-credential") == 0 && npos != 3)
		return cli_misuse("usage: resource allow-credential RESOURCE_URI NAME");
	if ((strcmp(pos[0], "remove") == 0 || strcmp(pos[0], "metadata") == 0) && npos != 2)
		return cli_misuse("usage: resource %s URI", pos[0]);
	if (strcmp(pos[0], "list") == 0 && npos != 1)
		return cli_misuse("usage: resource list");
	if ((rc = cli_config_load(c)) != 0 || (rc = cli_open_store(c, 0)) != 0)
		return rc;
	if (strcmp(pos[0], "add") == 0)
		return resource_add(c, pos[1], name, scopes, defaults, ttl);
	if (strcmp(pos[0], "list") == 0)
		return resource_list(c);
	if (strcmp(pos[0], "allow-exchange") == 0)
		return resource_allow(c, pos[1], pos[2], scopes);
	if (strcmp(pos[0], "allow-credential") == 0)
		return resource_allow_credential(c, pos[1], pos[2]);
	if (strcmp(pos[0], "metadata") == 0)
		return resource_metadata(c, pos[1]);
	if (strcmp(pos[0], "remove") == 0) {
		struct store_resource r;

		if ((rc = cli_find_resource(c, pos[1], &r)) != 0)
			return rc;
		rc = store_resource_remove(c->st, r.uri_key);
		if (rc == STORE_OK && c->json)
			rc = cli_print_json(json_pack("{s:s, s:b}", "uri", r.uri, "removed", 1));
		else if (rc == STORE_OK)
			printf("resource %s removed\n", r.uri);
		else
			rc = cli_fail("cannot remove resource: %s", store_errmsg(c->st));
		store_resource_clear(&r);
		return rc;
	}
	return cli_misuse("unknown resource subcommand '%s'", pos[0]);
}
