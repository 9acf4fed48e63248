/* credential set | rotate | list | remove: the service credentials of the vault
 * (DESIGN.md §10.5), and resource allow-credential's half in cmd_resource.c. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli/cli.h"
#include "oauth/vault.h"
#include "util/config.h"

#define ROTATE_ATTEMPTS 3

/* The secret on standard input: everything up to end of file (at most VAULT_SECRET_MAX
 * bytes), less one trailing newline. *len 0 or -1 refuses. */
static int
read_secret(unsigned char *buf, size_t cap, size_t *len)
{
	size_t n = fread(buf, 1, cap, stdin);

	*len = 0;
	if (n == cap || ferror(stdin))
		return cli_fail("the credential on standard input is longer than %d bytes",
		    VAULT_SECRET_MAX);
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (n == 0 || memchr(buf, '\0', n) != NULL)
		return cli_fail("no credential on standard input (text, without NUL bytes)");
	*len = n;
	return EXIT_OK;
}

static int
credential_store(struct cli *c, const char *name, int rotate, int64_t overlap)
{
	unsigned char secret[VAULT_SECRET_MAX + 1];
	struct store_credential cred;
	struct master_key mk;
	int64_t version = 1, now = cli_now();
	size_t len = 0;
	int rc, attempt, src = STORE_ERROR;

	if (!vault_name_ok(name))
		return cli_fail("bad credential name '%s' (1-32 of a-z, 0-9 and '-': MCP servers ask "
				"for it as audience)", name);
	if ((rc = read_secret(secret, sizeof(secret), &len)) != EXIT_OK ||
	    (rc = cli_master_key(c, &mk)) != EXIT_OK) {
		OPENSSL_cleanse(secret, sizeof(secret));
		return rc;
	}
	/* A concurrent rotation takes the version this one sealed for: seal again for the
	 * next one. */
	for (attempt = 0; attempt < ROTATE_ATTEMPTS; attempt++) {
		memset(&cred, 0, sizeof(cred));
		if (rotate && (src = store_credential_next_version(c->st, name, &version)) != STORE_OK)
			break;
		cred.name = (char *)(uintptr_t)name;
		cred.version = version;
		cred.created_at = now;
		if (vault_credential_seal(&mk, name, version, secret, len, &cred) != 0) {
			src = STORE_ERROR;
			break;
		}
		src = rotate ? store_credential_rotate(c->st, &cred, now + overlap, &version)
			     : store_credential_add(c->st, &cred);
		cred.name = NULL;
		if (src == STORE_CONFLICT && rotate) {
			store_credential_clear(&cred);
			continue;
		}
		break;
	}
	OPENSSL_cleanse(secret, sizeof(secret));
	master_key_wipe(&mk);
	if (src == STORE_CONFLICT)
		rc = cli_fail("credential '%s' already exists (credential rotate it)", name);
	else if (src == STORE_NOTFOUND)
		rc = cli_fail("no credential '%s' (credential set it first)", name);
	else if (src != STORE_OK)
		rc = cli_fail("cannot store the credential: %s", store_errmsg(c->st));
	else if (c->json)
		rc = cli_print_json(json_pack("{s:s, s:I, s:s, s:I}", "name", name, "version",
		    (json_int_t)version, "fingerprint", cred.fingerprint, "previous_served_until",
		    (json_int_t)(rotate ? now + overlap : 0)));
	else {
		printf("credential %s version %lld (%s)", name, (long long)version, cred.fingerprint);
		if (rotate && overlap > 0)
			printf("; the previous version is served for %lld s more", (long long)overlap);
		printf("\n");
		rc = EXIT_OK;
	}
	store_credential_clear(&cred);
	return rc;
}

static int
print_credential(const struct store_credential *cr, void *arg)
{
	json_t *list = arg;
	char when[32];

	if (list != NULL)
		return json_array_append_new(list, json_pack("{s:s, s:I, s:s, s:I, s:o}", "name",
		    cr->name, "version", (json_int_t)cr->version, "fingerprint", cr->fingerprint,
		    "created_at", (json_int_t)cr->created_at, "retires_at",
		    cr->retires_at ? json_integer((json_int_t)cr->retires_at) : json_null()));
	cli_time_str(cr->created_at, when);
	printf("%-24s v%-4lld %s %s", cr->name, (long long)cr->version, cr->fingerprint, when);
	if (cr->retires_at) {
		cli_time_str(cr->retires_at, when);
		printf(" (served until %s)", when);
	}
	printf("\n");
	return 0;
}

static int
credential_list(struct cli *c)
{
	json_t *list = c->json ? json_array() : NULL;

	if (store_credential_list(c->st, cli_now(), print_credential, list) != STORE_OK) {
		json_decref(list);
		return cli_fail("cannot list credentials: %s", store_errmsg(c->st));
	}
	return list != NULL ? cli_print_json(list) : EXIT_OK;
}

int
cmd_credential(struct cli *c, int argc, char **argv)
{
	const char *overlap_text = NULL, *pos[3];
	int64_t overlap = 0;
	int npos, rc, from_stdin = 0;
	const struct cli_opt opts[] = {
		{"--stdin", OPT_FLAG, &from_stdin},
		{"--overlap", OPT_VALUE, &overlap_text},
		{NULL, OPT_FLAG, NULL},
	};

	if ((rc = cli_parse(c, argc - 1, argv + 1, opts, pos, 2, &npos)) != 0)
		return rc;
	if (npos < 1)
		return cli_misuse("credential needs a subcommand: set, rotate, list, remove");
	if ((strcmp(pos[0], "set") == 0 || strcmp(pos[0], "rotate") == 0) &&
	    (npos != 2 || !from_stdin))
		return cli_misuse("usage: credential %s NAME --stdin%s", pos[0],
		    strcmp(pos[0], "rotate") == 0 ? " [--overlap SECONDS]" : "");
	if (overlap_text != NULL && strcmp(pos[0], "rotate") != 0)
		return cli_misuse("--overlap goes with credential rotate");
	if (overlap_text != NULL &&
	    (config_parse_duration(overlap_text, &overlap) != 0 || overlap < 0 || overlap > 86400 * 30))
		return cli_fail("--overlap must be 0 to 30 days");
	if (strcmp(pos[0], "remove") == 0 && npos != 2)
		return cli_misuse("usage: credential remove NAME");
	if (strcmp(pos[0], "list") == 0 && npos != 1)
		return cli_misuse("usage: credential list");
	if ((rc = cli_config_load(c)) != 0 || (rc = cli_open_store(c, 0)) != 0)
		return rc;
	if (strcmp(pos[0], "set") == 0)
		return credential_store(c, pos[1], 0, 0);
	if (strcmp(pos[0], "rotate") == 0)
		return credential_store(c, pos[1], 1, overlap);
	if (strcmp(pos[0], "list") == 0)
		return credential_list(c);
	if (strcmp(pos[0], "remove") == 0) {
		rc = store_credential_remove(c->st, pos[1]);
		if (rc == STORE_NOTFOUND)
			return cli_fail("no credential '%s'", pos[1]);
		if (rc != STORE_OK)
			return cli_fail("cannot remove the credential: %s", store_errmsg(c->st));
		if (c->json)
			return cli_print_json(json_pack("{s:s, s:b}", "name", pos[1], "removed", 1));
		printf("credential %s removed, with every version and who may fetch it\n", pos[1]);
		return EXIT_OK;
	}
	return cli_misuse("credential needs a subcommand: set, rotate, list, remove");
}
