/* check-config, backup, purge, audit tail: operator housekeeping. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "oauth/audit.h"
#include "oauth/issuer.h"

static const char *const source_names[] = {"default", "file", "env", "flag"};

static void
print_setting(const char *key, const char *value, enum config_source src, int secret, void *arg)
{
	json_t *doc = arg;
	const char *shown = (secret && value[0] != '\0') ? "********" : value;
	char *masked = NULL;

	/* A PostgreSQL URI in db may carry a password: show everything else. */
	if (strcmp(key, "db") == 0 && (masked = store_location_masked_new(value)) != NULL)
		shown = masked;
	if (doc != NULL)
		json_object_set_new(doc, key, json_pack("{s:s, s:s}", "value", shown, "source",
		    source_names[src]));
	else
		printf("%-24s = %-40s # %s\n", key, shown, source_names[src]);
	free(masked);
}

int
cmd_check_config(struct cli *c, int argc, char **argv)
{
	const char *pos[1];
	char err[512];
	json_t *doc = NULL;
	int npos, rc;

	if ((rc = cli_parse(c, argc - 1, argv + 1, NULL, pos, 0, &npos)) != 0)
		return rc;
	if ((rc = cli_config_load(c)) != 0)
		return rc;
	if (c->cfg.issuer != NULL &&
	    issuer_check(c->cfg.issuer, (int)c->cfg.allow_insecure_issuer, err, sizeof(err)) != 0)
		return cli_fail("%s", err);
	if (c->json && (doc = json_object()) == NULL)
		return cli_fail("out of memory");
	config_visit(&c->cfg, print_setting, doc);
	return doc ? cli_print_json(doc) : EXIT_OK;
}

int
cmd_backup(struct cli *c, int argc, char **argv)
{
	const char *pos[1];
	struct stat sb;
	int npos, rc;

	if ((rc = cli_parse(c, argc - 1, argv + 1, NULL, pos, 1, &npos)) != 0)
		return rc;
	if (npos != 1)
		return cli_misuse("usage: backup FILE");
	if ((rc = cli_config_load(c)) != 0)
		return rc;
	if (store_location_is_url(c->cfg.db))
		return cli_fail("backup works on SQLite only: back up PostgreSQL with pg_dump or "
				"pg_basebackup");
	if ((rc = cli_open_store(c, 0)) != 0)
		return rc;
	if (stat(pos[0], &sb) == 0)
		return cli_fail("%s exists; a backup never overwrites", pos[0]);
	if (store_backup(c->st, pos[0]) != STORE_OK)
		return cli_fail("backup to %s failed", pos[0]);
	chmod(pos[0], 0600);
	if (c->json)
		return cli_print_json(json_pack("{s:s}", "backup", pos[0]));
	printf("backup written to %s\n", pos[0]);
	return EXIT_OK;
}

int
cmd_purge(struct cli *c, int argc, char **argv)
{
	struct store_purge_counts n;
	const char *pos[1];
	int64_t now;
	int npos, rc;

	if ((rc = cli_parse(c, argc - 1, argv + 1, NULL, pos, 0, &npos)) != 0)
		return rc;
	if ((rc = cli_config_load(c)) != 0 || (rc = cli_open_store(c, 0)) != 0)
		return rc;
	now = cli_now();
	if (store_purge(c->st, now, c->cfg.audit_retention ? now - c->cfg.audit_retention : 0, &n) !=
	    STORE_OK)
		return cli_fail("purge failed: %s", store_errmsg(c->st));
	if (c->json)
		return cli_print_json(json_pack(
		    "{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "codes", n.codes,
		    "refresh_families", n.refresh_families, "revoked_jtis", n.revoked_jtis,
		    "sessions", n.sessions, "keys", n.keys, "audit", n.audit, "registration_tokens",
		    n.registration_tokens, "consents", n.consents, "upstream_logins",
		    n.upstream_logins, "used_assertions", n.used_jtis, "credential_versions",
		    n.credentials, "connect_states", n.connect_states));
	printf("purged: %d codes, %d refresh token families, %d revoked jtis, %d sessions, %d keys, "
	       "%d audit records, %d registration tokens, %d consents, %d upstream sign-ins, "
	       "%d used assertions, %d retired credential versions, %d connects in progress\n",
	    n.codes, n.refresh_families, n.revoked_jtis, n.sessions, n.keys, n.audit,
	    n.registration_tokens, n.consents, n.upstream_logins, n.used_jtis, n.credentials,
	    n.connect_states);
	return EXIT_OK;
}

static int
print_audit(const struct store_audit *a, void *arg)
{
	json_t *list = arg, *o = audit_json(a);
	char when[32], *text;

	if (o == NULL)
		return -1;
	if (list != NULL)
		return json_array_append_new(list, o);
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	cli_time_str(a->ts, when);
	printf("%s %s\n", when, text ? text : "");
	free(text);
	json_decref(o);
	return 0;
}

int
cmd_audit(struct cli *c, int argc, char **argv)
{
	const char *n_text = NULL, *pos[2];
	json_t *list = NULL;
	long n = 20;
	char *end;
	int npos, rc;
	const struct cli_opt opts[] = {
		{"-n", OPT_VALUE, &n_text},
		{NULL, OPT_FLAG, NULL},
	};

	if ((rc = cli_parse(c, argc - 1, argv + 1, opts, pos, 1, &npos)) != 0)
		return rc;
	if (npos != 1 || strcmp(pos[0], "tail") != 0)
		return cli_misuse("usage: audit tail [-n N]");
	if (n_text != NULL) {
		n = strtol(n_text, &end, 10);
		if (*end != '\0' || n < 1 || n > 1000000)
			return cli_misuse("-n must be a positive number");
	}
	if ((rc = cli_config_load(c)) != 0 || (rc = cli_open_store(c, 0)) != 0)
		return rc;
	if (c->json && (list = json_array()) == NULL)
		return cli_fail("out of memory");
	if (store_audit_tail(c->st, (int)n, print_audit, list) != STORE_OK) {
		json_decref(list);
		return cli_fail("cannot read the audit trail: %s", store_errmsg(c->st));
	}
	return list ? cli_print_json(list) : EXIT_OK;
}
