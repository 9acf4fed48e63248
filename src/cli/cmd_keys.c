/* keys list | rotate | rewrap. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "oauth/upstream.h"
#include "oauth/connections.h"
#include "oauth/vault.h"

static int
print_key(const struct store_key *k, void *arg)
{
	json_t *list = arg;
	char created[32], activated[32], retired[32], due[32];

	if (list != NULL) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:I}", "kid", k->kid, "alg", k->alg, "state",
		    k->state, "created_at", (json_int_t)k->created_at);

		if (o == NULL)
			return -1;
		json_object_set_new(o, "activated_at",
		    k->activated_at ? json_integer(k->activated_at) : json_null());
		json_object_set_new(o, "retired_at",
		    k->retired_at ? json_integer(k->retired_at) : json_null());
		json_object_set_new(o, "delete_after",
		    k->delete_after ? json_integer(k->delete_after) : json_null());
		return json_array_append_new(list, o);
	}
	cli_time_str(k->created_at, created);
	cli_time_str(k->activated_at, activated);
	cli_time_str(k->retired_at, retired);
	cli_time_str(k->delete_after, due);
	printf("%-8s %-6s %-44s created=%s activated=%s retired=%s deletion_due=%s\n", k->state,
	    k->alg, k->kid, created, activated, retired, due);
	return 0;
}

static int
keys_rotate(struct cli *c, const char *alg_name, int force, int emergency)
{
	struct rotate_policy p;
	struct master_key mk;
	int64_t wait = 0;
	int r, rc;

	memset(&p, 0, sizeof(p));
	p.alg = jws_alg_parse(alg_name ? alg_name : c->cfg.signing_alg);
	if (p.alg == JWS_ALG_NONE)
		return cli_misuse("--alg must be ES256, EdDSA or RS256");
	p.jwks_max_age = c->cfg.jwks_max_age;
	p.force = force || emergency;
	p.emergency = emergency;
	if (keystore_max_token_ttl(c->st, c->cfg.access_token_ttl, &p.max_token_ttl) != 0)
		return cli_fail("cannot read resources: %s", store_errmsg(c->st));
	if ((rc = cli_master_key(c, &mk)) != 0)
		return rc;
	r = keystore_rotate(c->st, &mk, &p, cli_now(), &wait);
	master_key_wipe(&mk);
	if (r < 0)
		return cli_fail("rotation failed: %s", store_errmsg(c->st));
	if (r == ROTATE_TOO_SOON)
		return cli_fail("the next key has been published for less than jwks_max_age (%llds): "
				"verifiers may not have it yet; retry in %llds, or use --force in an "
				"emergency", (long long)p.jwks_max_age, (long long)wait);
	if (c->json)
		return cli_print_json(json_pack("{s:s, s:s}", "result",
		    r == ROTATE_STAGED ? "staged" : emergency ? "emergency" : "rotated", "alg",
		    jws_alg_name(p.alg)));
	if (emergency) {
		printf("emergency rotation: the compromised key is deleted (its tokens no longer "
		       "verify); the next %s key signs now\n", jws_alg_name(p.alg));
		return EXIT_OK;
	}
	if (r == ROTATE_STAGED)
		printf("published a %s key as next; rotate again after jwks_max_age (%llds) to make it "
		       "sign\n", jws_alg_name(p.alg), (long long)p.jwks_max_age);
	else
		printf("rotated: the next %s key now signs; a new next key is published\n",
		    jws_alg_name(p.alg));
	return EXIT_OK;
}

static int
keys_rewrap(struct cli *c, const char *new_file)
{
	struct master_key old_mk, new_mk;
	char err[512];
	int count = 0, secrets = 0, credentials = 0, connections = 0, rc;

	if (new_file == NULL)
		return cli_misuse("usage: keys rewrap --new-master-key-file F");
	if ((rc = cli_master_key(c, &old_mk)) != 0)
		return rc;
	if (master_key_load(new_file, &new_mk, err, sizeof(err)) != 0) {
		master_key_wipe(&old_mk);
		return cli_fail("%s", err);
	}
	/* Signing keys, upstream client secrets and the vault's data keys move together, all
	 * or nothing. */
	rc = store_begin(c->st) == STORE_OK ? 0 : -1;
	if (rc == 0 && (keystore_rewrap_within(c->st, &old_mk, &new_mk, &count) != 0 ||
			   upstream_secret_rewrap_within(c->st, &old_mk, &new_mk, &secrets) != 0 ||
			   vault_rewrap_within(c->st, &old_mk, &new_mk, &credentials) != 0 ||
			   connection_rewrap_within(c->st, &old_mk, &new_mk, &connections) != 0)) {
		store_rollback(c->st);
		rc = -1;
	}
	if (rc == 0 && store_commit(c->st) != STORE_OK)
		rc = -1;
	master_key_wipe(&old_mk);
	master_key_wipe(&new_mk);
	if (rc != 0)
		return cli_fail("rewrap failed, nothing changed: the current master key does not open "
				"every sealed secret");
	if (c->json)
		return cli_print_json(json_pack("{s:i, s:i, s:i, s:i}", "rewrapped", count,
		    "idp_secrets", secrets, "credentials", credentials, "connection_secrets",
		    connections));
	printf("%d keys, %d identity provider secrets, %d credential versions and %d connection "
	       "secrets re-encrypted; point master_key_file at %s now\n", count, secrets,
	    credentials, connections, new_file);
	return EXIT_OK;
}

int
cmd_keys(struct cli *c, int argc, char **argv)
{
	const char *alg = NULL, *new_file = NULL, *pos[2];
	int force = 0, emergency = 0, npos, rc;
	const struct cli_opt opts[] = {
		{"--alg", OPT_VALUE, &alg},
		{"--force", OPT_FLAG, &force},
		{"--emergency", OPT_FLAG, &emergency},
		{"--new-master-key-file", OPT_VALUE, &new_file},
		{NULL, OPT_FLAG, NULL},
	};

	if ((rc = cli_parse(c, argc - 1, argv + 1, opts, pos, 1, &npos)) != 0)
		return rc;
	if (npos != 1)
		return cli_misuse("keys needs a subcommand: list, rotate, rewrap");
	if ((rc = cli_config_load(c)) != 0 || (rc = cli_open_store(c, 0)) != 0)
		return rc;
	if (strcmp(pos[0], "list") == 0) {
		json_t *list = c->json ? json_array() : NULL;

		if (store_key_list(c->st, print_key, list) != STORE_OK) {
			json_decref(list);
			return cli_fail("cannot list keys: %s", store_errmsg(c->st));
		}
		return list ? cli_print_json(list) : EXIT_OK;
	}
	if (strcmp(pos[0], "rotate") == 0)
		return keys_rotate(c, alg, force, emergency);
	if (strcmp(pos[0], "rewrap") == 0)
		return keys_rewrap(c, new_file);
	return cli_misuse("unknown keys subcommand '%s'", pos[0]);
}
