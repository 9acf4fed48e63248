/* idp add | list | remove | map | unmap: the upstream identity providers users sign in
 * through (DESIGN.md §10.3). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli/cli.h"
#include "oauth/issuer.h"
#include "oauth/scope.h"
#include "oauth/upstream.h"

#define DISPLAY_NAME_MAX 100
#define CLIENT_ID_MAX 255

struct idp_args {
	const char *issuer, *client_id, *display_name, *scopes;
	const char *claim_user, *claim_email, *claim_groups, *allowed_groups;
	const char *group, *resource, *jwks_file, *jwks_uri, *id_jag_clients;
	int secret_stdin, jit, no_jit, link_verified_email, allow_private, id_jag;
};

/* The redirect URI to register at the provider. New string. */
static char *
callback_uri_new(struct cli *c, const char *name)
{
	char *issuer = NULL, *uri = NULL;
	size_t n;

	if (cli_issuer(c, &issuer) != EXIT_OK)
		return NULL;
	n = strlen(issuer);
	while (n > 0 && issuer[n - 1] == '/')
		n--;
	if ((uri = malloc(n + strlen(name) + sizeof("/idp//callback"))) != NULL)
		sprintf(uri, "%.*s/idp/%s/callback", (int)n, issuer, name);
	else
		cli_fail("out of memory");
	free(issuer);
	return uri;
}

static int
check_claim(const char *flag, const char *claim)
{
	if (claim != NULL && !upstream_claim_name_ok(claim))
		return cli_fail("%s '%s' is not a claim name (1-64 printable characters, no spaces)",
		    flag, claim);
	return EXIT_OK;
}

/* The new provider's client secret, sealed: one line on standard input. */
static int
read_sealed_secret(struct cli *c, const char *name, struct store_idp *p)
{
	char secret[UPSTREAM_SECRET_MAX + 2];
	struct master_key mk;
	int rc;

	if (cli_read_line(stdin, secret, sizeof(secret)) != 0 || secret[0] == '\0') {
		OPENSSL_cleanse(secret, sizeof(secret));
		return cli_fail("no client secret on standard input (one line, at most %d bytes)",
		    UPSTREAM_SECRET_MAX);
	}
	if ((rc = cli_master_key(c, &mk)) == EXIT_OK &&
	    upstream_secret_seal(&mk, name, secret, &p->client_secret_enc,
		&p->client_secret_enc_len) != 0)
		rc = cli_fail("cannot seal the client secret");
	master_key_wipe(&mk);
	OPENSSL_cleanse(secret, sizeof(secret));
	return rc;
}

/* One provider per issuer may vouch for ID-JAGs: the token endpoint finds it by iss. */
static int
id_jag_issuer_free(struct cli *c, const char *issuer)
{
	struct store_idp other;
	int rc = store_idp_get_id_jag(c->st, issuer, &other);

	if (rc == STORE_OK) {
		rc = cli_fail("identity provider '%s' already vouches for ID-JAGs of %s", other.name,
		    issuer);
		store_idp_clear(&other);
		return rc;
	}
	return rc == STORE_NOTFOUND ? EXIT_OK
				    : cli_fail("cannot read identity providers: %s", store_errmsg(c->st));
}

static int
idp_add(struct cli *c, const char *name, const struct idp_args *a)
{
	struct store_idp p;
	char err[256], *callback = NULL, *jwks = NULL;
	int rc;

	memset(&p, 0, sizeof(p));
	if (!upstream_name_ok(name))
		return cli_fail("bad provider name '%s' (1-%d of a-z, 0-9 and '-': it is part of the "
				"callback URI)", name, UPSTREAM_NAME_MAX);
	/* A sign-in provider has a client id there; an issuer of ID-JAGs only needs keys. */
	if (a->issuer == NULL || (a->client_id == NULL && !a->id_jag))
		return cli_misuse("usage: idp add NAME --issuer URL --client-id ID "
				  "[--client-secret-stdin] ... | idp add NAME --issuer URL "
				  "(--jwks-uri URL | --jwks-file F) --id-jag [--id-jag-clients \"ID...\"]");
	if (issuer_check(a->issuer, (int)c->cfg.allow_insecure_issuer, err, sizeof(err)) != 0)
		return cli_fail("--issuer: %s", err);
	if (a->client_id != NULL && (a->client_id[0] == '\0' || strlen(a->client_id) > CLIENT_ID_MAX))
		return cli_fail("--client-id must be 1..%d characters", CLIENT_ID_MAX);
	if (a->client_id == NULL && a->secret_stdin)
		return cli_misuse("--client-secret-stdin goes with --client-id");
	if (!a->id_jag && (a->jwks_file != NULL || a->jwks_uri != NULL))
		return cli_misuse("--jwks-uri and --jwks-file go with --id-jag (sign-in reads the "
				  "provider's keys from its discovery document)");
	if (a->id_jag && a->jwks_file == NULL && a->jwks_uri == NULL)
		return cli_misuse("--id-jag needs the issuer's keys: --jwks-uri URL or --jwks-file F");
	if (a->id_jag_clients != NULL && (!a->id_jag || a->id_jag_clients[0] == '\0' ||
					     !scope_valid(a->id_jag_clients)))
		return cli_fail("--id-jag-clients goes with --id-jag: a space-separated list of "
				"client ids");
	if (a->id_jag && (rc = id_jag_issuer_free(c, a->issuer)) != EXIT_OK)
		return rc;
	if (a->display_name != NULL &&
	    (a->display_name[0] == '\0' || strlen(a->display_name) > DISPLAY_NAME_MAX))
		return cli_fail("--display-name must be 1..%d characters", DISPLAY_NAME_MAX);
	if (a->scopes != NULL && (!scope_valid(a->scopes) || !scope_has(a->scopes, "openid")))
		return cli_fail("--scopes must be a space-separated list of scopes with openid");
	if (a->allowed_groups != NULL && (a->allowed_groups[0] == '\0' ||
					     !scope_valid(a->allowed_groups)))
		return cli_fail("--allowed-groups must be a space-separated list of group names");
	if (a->jit && a->no_jit)
		return cli_misuse("--jit and --no-jit exclude each other");
	if ((rc = check_claim("--claim-user", a->claim_user)) != 0 ||
	    (rc = check_claim("--claim-email", a->claim_email)) != 0 ||
	    (rc = check_claim("--claim-groups", a->claim_groups)) != 0)
		return rc;
	if ((rc = cli_keys_option(c, "--jwks", a->jwks_file, a->jwks_uri, &jwks)) != EXIT_OK)
		return rc;
	if ((callback = callback_uri_new(c, name)) == NULL) {
		free(jwks);
		return EXIT_USER;
	}
	if (a->secret_stdin && (rc = read_sealed_secret(c, name, &p)) != EXIT_OK)
		goto out;
	p.name = (char *)(uintptr_t)name;
	p.issuer = (char *)(uintptr_t)a->issuer;
	p.client_id = (char *)(uintptr_t)(a->client_id ? a->client_id : "");
	p.jwks = jwks;
	p.jwks_uri = (char *)(uintptr_t)a->jwks_uri;
	p.id_jag = a->id_jag;
	p.id_jag_clients = (char *)(uintptr_t)a->id_jag_clients;
	p.display_name = (char *)(uintptr_t)(a->display_name ? a->display_name : name);
	p.scopes = (char *)(uintptr_t)(a->scopes ? a->scopes : UPSTREAM_DEFAULT_SCOPES);
	p.claim_user = (char *)(uintptr_t)(a->claim_user ? a->claim_user : "sub");
	p.claim_email = (char *)(uintptr_t)(a->claim_email ? a->claim_email : "email");
	p.claim_groups = (char *)(uintptr_t)(a->claim_groups ? a->claim_groups : "groups");
	p.allowed_groups = (char *)(uintptr_t)a->allowed_groups;
	p.jit = a->jit;
	p.link_verified_email = a->link_verified_email;
	p.allow_private = a->allow_private;
	p.created_at = cli_now();
	rc = store_idp_add(c->st, &p, &p.id);
	p.name = p.issuer = p.client_id = p.display_name = p.scopes = NULL;
	p.claim_user = p.claim_email = p.claim_groups = p.allowed_groups = NULL;
	p.jwks_uri = p.id_jag_clients = NULL; /* jwks stays: store_idp_clear frees it */
	if (rc == STORE_CONFLICT) {
		rc = cli_fail("identity provider '%s' already exists (idp remove it first)", name);
		goto out;
	}
	if (rc != STORE_OK) {
		rc = cli_fail("cannot add identity provider: %s", store_errmsg(c->st));
		goto out;
	}
	if (c->json)
		rc = cli_print_json(json_pack("{s:s, s:s, s:s?, s:b}", "name", name, "issuer",
		    a->issuer, "redirect_uri", a->client_id ? callback : NULL, "id_jag", a->id_jag));
	else if (a->client_id == NULL) {
		printf("identity provider %s added: the token endpoint accepts ID-JAGs it issues\n",
		    name);
		rc = EXIT_OK;
	} else {
		printf("identity provider %s added; register this redirect URI with it: %s\n", name,
		    callback);
		rc = EXIT_OK;
	}
out:
	free(callback);
	store_idp_clear(&p);
	return rc;
}

/* The mappings of one provider, as JSON or as indented lines. */
struct map_print {
	json_t *list;
};

static int
print_map(const char *idp, const char *group, const char *resource_uri, const char *scopes,
    void *arg)
{
	struct map_print *mp = arg;

	(void)idp;
	if (mp->list != NULL)
		return json_array_append_new(mp->list, json_pack("{s:s, s:s, s:s?}", "group", group,
		    "resource", resource_uri, "scopes", scopes));
	printf("    group %-24s -> %s (%s)\n", group, resource_uri, scopes ? scopes : "every scope");
	return 0;
}

struct idp_print {
	struct cli *c;
	json_t *list;
};

static int
print_idp(const struct store_idp *p, void *arg)
{
	struct idp_print *ip = arg;
	struct map_print mp = {NULL};
	char *callback = callback_uri_new(ip->c, p->name);
	json_t *doc;
	int rc;

	if (callback == NULL)
		return -1;
	if (ip->list != NULL) {
		mp.list = json_array();
		doc = json_pack("{s:s, s:s, s:s, s:b, s:s, s:s, s:s, s:s, s:s, s:s?, s:b, s:b, s:b, "
				"s:I, s:s}",
		    "name", p->name, "issuer", p->issuer, "client_id", p->client_id, "client_secret",
		    p->client_secret_enc != NULL, "display_name", p->display_name, "scopes",
		    p->scopes, "claim_user", p->claim_user, "claim_email", p->claim_email,
		    "claim_groups", p->claim_groups, "allowed_groups", p->allowed_groups, "jit",
		    p->jit, "link_verified_email", p->link_verified_email, "allow_private",
		    p->allow_private, "created_at", (json_int_t)p->created_at, "redirect_uri",
		    callback);
		free(callback);
		if (doc == NULL || mp.list == NULL) {
			json_decref(doc);
			json_decref(mp.list);
			return -1;
		}
		json_object_set_new(doc, "mappings", mp.list);
		json_object_set_new(doc, "id_jag", json_boolean(p->id_jag));
		if (p->id_jag_clients != NULL)
			json_object_set_new(doc, "id_jag_clients", json_string(p->id_jag_clients));
		if (p->jwks_uri != NULL)
			json_object_set_new(doc, "jwks_uri", json_string(p->jwks_uri));
		json_object_set_new(doc, "jwks", json_boolean(p->jwks != NULL));
		if (json_array_append_new(ip->list, doc) != 0)
			return -1;
		rc = store_idp_map_list(ip->c->st, p->id, print_map, &mp);
		return rc == STORE_OK ? 0 : -1;
	}
	printf("%-16s %s (%s)\n", p->name, p->issuer, p->display_name);
	if (p->id_jag)
		printf("    ID-JAG issuer; keys %s; clients %s\n",
		    p->jwks_uri ? p->jwks_uri : "registered inline",
		    p->id_jag_clients ? p->id_jag_clients : "every confidential client");
	if (p->client_id[0] != '\0')
		printf("    client_id %s%s; scopes \"%s\"; claims user=%s email=%s groups=%s\n",
		    p->client_id, p->client_secret_enc ? " with a sealed secret" : ", no secret",
		    p->scopes, p->claim_user, p->claim_email, p->claim_groups);
	printf("    %s%s%s; allowed groups: %s\n", p->jit ? "jit" : "no-jit",
	    p->link_verified_email ? ", links verified emails" : "",
	    p->allow_private ? ", private addresses allowed" : "",
	    p->allowed_groups ? p->allowed_groups : "all");
	if (p->client_id[0] != '\0')
		printf("    redirect URI %s\n", callback);
	free(callback);
	return store_idp_map_list(ip->c->st, p->id, print_map, &mp) == STORE_OK ? 0 : -1;
}

static int
idp_list(struct cli *c)
{
	struct idp_print ip = {c, c->json ? json_array() : NULL};

	if (store_idp_list(c->st, print_idp, &ip) != STORE_OK) {
		json_decref(ip.list);
		return cli_fail("cannot list identity providers: %s", store_errmsg(c->st));
	}
	return ip.list ? cli_print_json(ip.list) : EXIT_OK;
}

static int
idp_remove(struct cli *c, const char *name)
{
	int rc;

	if (store_begin(c->st) != STORE_OK)
		return cli_fail("cannot remove identity provider: %s", store_errmsg(c->st));
	rc = store_idp_remove(c->st, name, cli_now());
	if (rc == STORE_OK)
		rc = store_commit(c->st);
	else
		store_rollback(c->st);
	if (rc == STORE_NOTFOUND)
		return cli_fail("no identity provider '%s'", name);
	if (rc != STORE_OK)
		return cli_fail("cannot remove identity provider: %s", store_errmsg(c->st));
	if (c->json)
		return cli_print_json(json_pack("{s:s, s:b}", "name", name, "removed", 1));
	printf("identity provider %s removed; its users' refresh tokens are revoked\n", name);
	return EXIT_OK;
}

/* idp map / unmap: the provider and the resource both must exist. */
static int
idp_map(struct cli *c, const char *name, const struct idp_args *a, int add)
{
	const char *scopes = a->scopes;
	struct store_idp p;
	struct store_resource r;
	int rc;

	memset(&r, 0, sizeof(r));
	if (a->group == NULL || a->resource == NULL || (!add && scopes != NULL))
		return cli_misuse(add ? "usage: idp map NAME --group G --resource URI [--scopes \"a b\"]"
				      : "usage: idp unmap NAME --group G --resource URI");
	if (a->group[0] == '\0' || strlen(a->group) > 256)
		return cli_fail("--group must be 1..256 characters");
	rc = store_idp_get(c->st, name, &p);
	if (rc == STORE_NOTFOUND)
		return cli_fail("no identity provider '%s' (see 'mcp-authd idp list')", name);
	if (rc != STORE_OK)
		return cli_fail("cannot read identity providers: %s", store_errmsg(c->st));
	if ((rc = cli_find_resource(c, a->resource, &r)) != EXIT_OK)
		goto out;
	if (add && scopes != NULL && (!scope_valid(scopes) || !scope_subset(scopes, r.scopes))) {
		rc = cli_fail("--scopes must be among the scopes of %s (%s)", r.uri, r.scopes);
		goto out;
	}
	rc = add ? store_idp_map_put(c->st, p.id, a->group, r.id, scopes, cli_now())
		 : store_idp_map_remove(c->st, p.id, a->group, r.id);
	if (rc == STORE_NOTFOUND) {
		rc = cli_fail("group '%s' of %s is not mapped to %s", a->group, name, r.uri);
		goto out;
	}
	if (rc != STORE_OK) {
		rc = cli_fail("cannot change the mapping: %s", store_errmsg(c->st));
		goto out;
	}
	if (c->json)
		rc = cli_print_json(json_pack("{s:s, s:s, s:s, s:s?, s:b}", "idp", name, "group",
		    a->group, "resource", r.uri, "scopes", add ? scopes : NULL, "mapped", add));
	else {
		if (add)
			printf("members of %s at %s may reach %s (%s)\n", a->group, name, r.uri,
			    scopes ? scopes : "every scope");
		else
			printf("group %s of %s no longer maps to %s\n", a->group, name, r.uri);
		rc = EXIT_OK;
	}
out:
	store_idp_clear(&p);
	store_resource_clear(&r);
	return rc;
}

int
cmd_idp(struct cli *c, int argc, char **argv)
{
	struct idp_args a;
	const char *pos[3];
	int npos, rc;

	memset(&a, 0, sizeof(a));
	{
		const struct cli_opt opts[] = {
			{"--issuer", OPT_VALUE, &a.issuer},
			{"--client-id", OPT_VALUE, &a.client_id},
			{"--client-secret-stdin", OPT_FLAG, &a.secret_stdin},
			{"--display-name", OPT_VALUE, &a.display_name},
			{"--scopes", OPT_VALUE, &a.scopes},
			{"--claim-user", OPT_VALUE, &a.claim_user},
			{"--claim-email", OPT_VALUE, &a.claim_email},
			{"--claim-groups", OPT_VALUE, &a.claim_groups},
			{"--allowed-groups", OPT_VALUE, &a.allowed_groups},
			{"--jit", OPT_FLAG, &a.jit},
			{"--no-jit", OPT_FLAG, &a.no_jit},
			{"--link-verified-email", OPT_FLAG, &a.link_verified_email},
			{"--allow-private", OPT_FLAG, &a.allow_private},
			{"--jwks-uri", OPT_VALUE, &a.jwks_uri},
			{"--jwks-file", OPT_VALUE, &a.jwks_file},
			{"--id-jag", OPT_FLAG, &a.id_jag},
			{"--id-jag-clients", OPT_VALUE, &a.id_jag_clients},
			{"--group", OPT_VALUE, &a.group},
			{"--resource", OPT_VALUE, &a.resource},
			{NULL, OPT_FLAG, NULL},
		};

		if ((rc = cli_parse(c, argc - 1, argv + 1, opts, pos, 2, &npos)) != 0)
			return rc;
	}
	if (npos < 1)
		return cli_misuse("idp needs a subcommand: add, list, remove, map, unmap");
	if (strcmp(pos[0], "list") == 0 ? npos != 1 : npos != 2)
		return cli_misuse("usage: idp %s%s", pos[0], strcmp(pos[0], "list") == 0 ? "" : " NAME ...");
	if ((rc = cli_config_load(c)) != 0 || (rc = cli_open_store(c, 0)) != 0)
		return rc;
	if (strcmp(pos[0], "add") == 0)
		return idp_add(c, pos[1], &a);
	if (strcmp(pos[0], "list") == 0)
		return idp_list(c);
	if (strcmp(pos[0], "remove") == 0)
		return idp_remove(c, pos[1]);
	if (strcmp(pos[0], "map") == 0)
		return idp_map(c, pos[1], &a, 1);
	if (strcmp(pos[0], "unmap") == 0)
		return idp_map(c, pos[1], &a, 0);
	return cli_misuse("unknown idp subcommand '%s'", pos[0]);
}
