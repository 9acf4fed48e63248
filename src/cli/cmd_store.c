/* store copy: move a deployment into another database (SQLite -> PostgreSQL). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int
cmd_store(struct cli *c, int argc, char **argv)
{
	struct store_options opt = {.timeout_ms = 0};
	struct store_copy_report report;
	struct store *dst = NULL;
	const char *to = NULL, *pos[2];
	char *shown = NULL;
	json_t *doc = NULL;
	int npos, t, rc;
	int64_t total = 0;
	const struct cli_opt opts[] = {
		{"--to", OPT_VALUE, &to},
		{NULL, OPT_FLAG, NULL},
	};

	if ((rc = cli_parse(c, argc - 1, argv + 1, opts, pos, 1, &npos)) != 0)
		return rc;
	if (npos != 1 || strcmp(pos[0], "copy") != 0 || to == NULL)
		return cli_misuse("usage: store copy --to URL");
	if ((rc = cli_config_load(c)) != 0 || (rc = cli_open_store(c, 0)) != 0)
		return rc;
	if ((shown = store_location_masked_new(to)) == NULL)
		return cli_fail("out of memory");
	if (strcmp(to, c->cfg.db) == 0) {
		rc = cli_fail("the source and the destination are the same database");
		goto out;
	}
	opt.timeout_ms = (int)(c->cfg.db_timeout * 1000);
	opt.create = 1;
	if (store_open(to, &opt, &dst) != STORE_OK) {
		rc = cli_fail("cannot open database %s: %s", shown, store_open_error());
		goto out;
	}
	if (store_migrate(dst, NULL) != STORE_OK) {
		rc = cli_fail("cannot create the schema in %s: %s", shown, store_errmsg(dst));
		goto out;
	}
	switch (store_copy(c->st, dst, &report)) {
	case STORE_OK:
		break;
	case STORE_CONFLICT:
		rc = cli_fail("%s is not empty: store copy only fills an empty database", shown);
		goto out;
	default:
		if (report.failed_table >= 0)
			rc = cli_fail("copy into %s failed in table %s, nothing was kept: %s", shown,
			    store_table_name(report.failed_table), store_errmsg(dst));
		else
			rc = cli_fail("copy into %s failed, nothing was kept: %s", shown,
			    store_errmsg(dst));
		goto out;
	}
	if (c->json && (doc = json_object()) == NULL) {
		rc = cli_fail("out of memory");
		goto out;
	}
	for (t = 0; t < STORE_TABLE_COUNT; t++) {
		total += report.rows[t];
		if (doc != NULL)
			json_object_set_new(doc, store_table_name(t), json_integer(report.rows[t]));
		else
			printf("%-22s %10lld rows copied and verified\n", store_table_name(t),
			    (long long)report.rows[t]);
	}
	if (doc != NULL) {
		rc = cli_print_json(json_pack("{s:s, s:I, s:o}", "to", shown, "rows", (json_int_t)total,
		    "tables", doc));
		doc = NULL;
	} else {
		printf("%lld rows copied into %s and counted again there\n", (long long)total, shown);
		rc = EXIT_OK;
	}
out:
	json_decref(doc);
	store_close(dst);
	free(shown);
	return rc;
}
