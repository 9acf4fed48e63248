/* mcp-authd: subcommand dispatch (DESIGN.md §6). */
#include "config.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli/cli.h"
#include "util/log.h"

static const char usage_text[] =
    "usage: mcp-authd [--config FILE] [--db PATH|postgresql://...] [--json] COMMAND ...\n"
    "  init --issuer URL                       create/upgrade the database, first keys\n"
    "  serve [--listen ADDR:PORT]              run the server\n"
    "  dev [--port N] [--resource URI]... [--interactive] [--user NAME:PASSWORD]\n"
    "      [--allow-exchange \"FROM_URI TO_URI\"]...\n"
    "                                          mock issuer for tests\n"
    "  user add NAME [--password-stdin]        | user list | user disable NAME\n"
    "  user add NAME --idp P --sub S           pre-provision a federated user (no JIT)\n"
    "  resource add URI [--name N] [--scopes \"a b\"] [--default-scopes \"a\"] [--ttl SECONDS]\n"
    "  resource list | resource remove URI\n"
    "  resource allow-exchange FROM_URI TO_URI [--scopes \"a b\"]\n"
    "  resource metadata URI                   print RFC 9728 metadata to serve at the resource\n"
    "  client add --name N [--public|--confidential] [--redirect-uri URI]...\n"
    "             [--grant TYPE]... [--resource URI]... [--acts-for URI]\n"
    "             [--default-resource URI] [--introspect-admin]\n"
    "             [--jwks-file F | --jwks-uri URL]   private_key_jwt (keys, no secret)\n"
    "  client registration-token [--ttl SECONDS]   initial access token for /register\n"
    "  client list | client remove ID\n"
    "  idp add NAME --issuer URL --client-id ID [--client-secret-stdin] [--display-name T]\n"
    "          [--scopes \"openid email profile\"] [--claim-user sub] [--claim-email email]\n"
    "          [--claim-groups groups] [--allowed-groups \"g1 g2\"] [--jit|--no-jit]\n"
    "          [--link-verified-email] [--allow-private]\n"
    "  idp add NAME --issuer URL (--jwks-uri URL | --jwks-file F) --id-jag\n"
    "          [--id-jag-clients \"id1 id2\"] [--jit]   trust the ID-JAGs it issues\n"
    "  idp list | idp remove NAME\n"
    "  idp map NAME --group G --resource URI [--scopes \"a b\"] | idp unmap NAME --group G --resource URI\n"
    "  credential set NAME --stdin | credential rotate NAME --stdin [--overlap SECONDS]\n"
    "  credential list | credential remove NAME\n"
    "  connection add NAME --authorize-url U --token-url U --client-id ID\n"
    "             [--client-secret-stdin] [--scopes \"a b\"] [--revoke-url U] [--resource URI]\n"
    "             [--allow-private]\n"
    "  connection list | connection remove NAME\n"
    "  resource allow-credential URI NAME      the MCP server may fetch the credential or connection\n"
    "  keys list | keys rotate [--alg ES256|EdDSA|RS256] [--force] [--emergency]\n"
    "  keys rewrap --new-master-key-file F     re-encrypt sealed secrets under a new master key\n"
    "  token mint --resource URI --sub S [--scope S] [--ttl SECONDS] [--client-id ID]\n"
    "             [--from DEV_ISSUER_URL]         (through a running `mcp-authd dev`)\n"
    "  audit tail [-n N]\n"
    "  check-config                            print the effective configuration, secrets masked\n"
    "  backup FILE                             online backup, safe while serving (SQLite)\n"
    "  store copy --to URL                     copy everything into an empty database\n"
    "  purge                                   drop expired codes, tokens, keys, old audit records\n"
    "Every command accepts --json. Every configuration key is also a flag (--access-token-ttl 300).\n";

static const struct {
	const char *name;
	int (*fn)(struct cli *c, int argc, char **argv);
} commands[] = {
	{"init", cmd_init},
	{"serve", cmd_serve},
	{"dev", cmd_dev},
	{"user", cmd_user},
	{"resource", cmd_resource},
	{"client", cmd_client},
	{"keys", cmd_keys},
	{"token", cmd_token},
	{"audit", cmd_audit},
	{"check-config", cmd_check_config},
	{"backup", cmd_backup},
	{"purge", cmd_purge},
	{"store", cmd_store},
	{"idp", cmd_idp},
	{"credential", cmd_credential},
	{"connection", cmd_connection},
	{"bench-seed", cmd_bench_seed},
};

int
main(int argc, char **argv)
{
	struct cli c;
	size_t k;
	int i, rc;

	memset(&c, 0, sizeof(c));
	/* Before any thread starts: libcurl's global set-up is not thread-safe. */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	/* argon2 takes 19 MiB for a moment. glibc would raise its mmap threshold after the
	 * first such block and keep the later ones in the heap, resident for good; a fixed
	 * threshold hands every large block back to the system when it is freed. */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	if (config_init(&c.cfg) != 0) {
		fputs("mcp-authd: cannot initialise configuration\n", stderr);
		return EXIT_USER;
	}
	/* Global options come before the command. */
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(usage_text, stdout);
			rc = EXIT_OK;
			goto out;
		}
		if (strcmp(a, "--version") == 0) {
			puts(PACKAGE_STRING);
			rc = EXIT_OK;
			goto out;
		}
		if (strcmp(a, "--json") == 0) {
			c.json = 1;
			continue;
		}
		if (strcmp(a, "--config") == 0 || strcmp(a, "--db") == 0) {
			if (i + 1 >= argc) {
				rc = cli_misuse("option '%s' needs a value", a);
				goto out;
			}
			if (a[2] == 'c') {
				c.config_file = argv[++i];
			} else if ((rc = cli_flag_add(&c, "db", argv[++i])) != EXIT_OK) {
				goto out;
			}
			continue;
		}
		rc = cli_misuse("unknown option '%s'", a);
		goto out;
	}
	if (i >= argc) {
		fputs(usage_text, stderr);
		rc = EXIT_MISUSE;
		goto out;
	}
	/* --db on the command line beats MCP_AUTHD_DB, which beats the config file
	 * (DESIGN.md §6); other keys follow the same order through cli_config_load. */
	for (k = 0; k < sizeof(commands) / sizeof(commands[0]); k++) {
		if (strcmp(argv[i], commands[k].name) == 0)
			break;
	}
	if (k == sizeof(commands) / sizeof(commands[0])) {
		rc = cli_misuse("unknown command '%s'", argv[i]);
		goto out;
	}
	rc = commands[k].fn(&c, argc - i, argv + i);
out:
	cli_free(&c);
	curl_global_cleanup();
	return rc;
}
