/* init: create or upgrade the database, record the issuer, make the first keys. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "oauth/issuer.h"

int
cmd_init(struct cli *c, int argc, char **argv)
{
	struct master_key mk;
	struct stat sb;
	char err[512], *issuer = NULL, *stored = NULL, *shown = NULL;
	const char *pos[1];
	enum jws_alg alg;
	int npos, version, created_key = 0, rc;

	memset(&mk, 0, sizeof(mk));
	if ((rc = cli_parse(c, argc - 1, argv + 1, NULL, pos, 0, &npos)) != 0)
		return rc;
	if ((rc = cli_config_load(c)) != 0)
		return rc;
	alg = jws_alg_parse(c->cfg.signing_alg);
	if ((rc = cli_open_store(c, 1)) != 0)
		return rc;
	store_setting_get_new(c->st, "issuer", &stored);
	if (c->cfg.issuer == NULL && stored == NULL) {
		rc = cli_misuse("init needs --issuer URL");
		goto out;
	}
	if ((issuer = strdup(c->cfg.issuer ? c->cfg.issuer : stored)) == NULL) {
		rc = cli_fail("out of memory");
		goto out;
	}
	while (strlen(issuer) > 0 && issuer[strlen(issuer) - 1] == '/')
		issuer[strlen(issuer) - 1] = '\0';
	if (issuer_check(issuer, (int)c->cfg.allow_insecure_issuer, err, sizeof(err)) != 0) {
		rc = cli_fail("%s", err);
		goto out;
	}
	if (store_setting_set(c->st, "issuer", issuer) != STORE_OK) {
		rc = cli_fail("cannot record the issuer: %s", store_errmsg(c->st));
		goto out;
	}
	if (c->cfg.master_key_file == NULL) {
		rc = cli_fail("no master key: set MCP_AUTHD_MASTER_KEY_FILE or master_key_file "
			      "(init creates the file if it does not exist)");
		goto out;
	}
	if (stat(c->cfg.master_key_file, &sb) != 0 && errno == ENOENT) {
		if (master_key_create(c->cfg.master_key_file, &mk, err, sizeof(err)) != 0) {
			rc = cli_fail("%s", err);
			goto out;
		}
		created_key = 1;
	} else if ((rc = cli_master_key(c, &mk)) != 0) {
		goto out;
	}
	if (keystore_ensure(c->st, &mk, alg, cli_now()) != 0) {
		rc = cli_fail("cannot create signing keys: %s", store_errmsg(c->st));
		goto out;
	}
	store_schema_version(c->st, &version);
	/* A PostgreSQL URI may carry a password: never print it. */
	if ((shown = store_location_masked_new(c->cfg.db)) == NULL) {
		rc = cli_fail("out of memory");
		goto out;
	}
	if (c->json) {
		rc = cli_print_json(json_pack("{s:s, s:s, s:i, s:s, s:b}", "db", shown, "issuer",
		    issuer, "schema_version", version, "master_key_file", c->cfg.master_key_file,
		    "master_key_created", created_key));
	} else {
		printf("database %s ready (schema %d), issuer %s\n", shown, version, issuer);
		if (created_key)
			printf("created master key %s: back it up, the signing keys need it\n",
			    c->cfg.master_key_file);
		rc = EXIT_OK;
	}
out:
	master_key_wipe(&mk);
	free(issuer);
	free(stored);
	free(shown);
	return rc;
}
