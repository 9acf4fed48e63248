/* user add | list | disable. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli/cli.h"
#include "jose/b64url.h"
#include "util/password.h"
#include "util/rand.h"

#define USER_NAME_MAX 128

static int
user_name_ok(const char *name)
{
	size_t n = strlen(name), i;

	if (n == 0 || n > USER_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)name[i];

		if (ch <= 0x20 || ch == 0x7f || ch == ':')
			return 0;
	}
	return 1;
}

static int
prompt_password(char *out, size_t outlen)
{
	struct termios old, quiet;
	char again[PASSWORD_MAX_LEN + 2];
	int rc = -1;

	if (tcgetattr(STDIN_FILENO, &old) != 0)
		return -1;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	fputs("password: ", stderr);
	if (cli_read_line(stdin, out, outlen) == 0) {
		fputs("\nagain: ", stderr);
		if (cli_read_line(stdin, again, sizeof(again)) == 0 && strcmp(out, again) == 0)
			rc = 0;
	}
	fputc('\n', stderr);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	OPENSSL_cleanse(again, sizeof(again));
	return rc;
}

static int
user_add(struct cli *c, const char *name, int from_stdin)
{
	char password[PASSWORD_MAX_LEN + 2];
	unsigned char raw[18];
	char *hash = NULL;
	int generated = 0, rc;

	if (!user_name_ok(name))
		return cli_fail("bad user name '%s' (1-%d printable characters, no spaces or ':')",
		    name, USER_NAME_MAX);
	if (from_stdin) {
		if (cli_read_line(stdin, password, sizeof(password)) != 0 || password[0] == '\0')
			return cli_fail("no password on standard input (one line, at most %u bytes)",
			    PASSWORD_MAX_LEN);
	} else if (isatty(STDIN_FILENO)) {
		if (prompt_password(password, sizeof(password)) != 0 || password[0] == '\0')
			return cli_fail("passwords did not match");
	} else {
		/* Nobody to ask: make a strong password and show it once. */
		if (rand_bytes(raw, sizeof(raw)) != 0)
			return cli_fail("no randomness");
		b64url_encode(raw, sizeof(raw), password);
		generated = 1;
	}
	if (password_hash_new(password, strlen(password), &hash) != 0) {
		rc = cli_fail("cannot hash the password");
		goto out;
	}
	rc = store_user_add(c->st, name, hash, cli_now(), NULL);
	if (rc == STORE_CONFLICT) {
		rc = cli_fail("user '%s' already exists", name);
		goto out;
	}
	if (rc != STORE_OK) {
		rc = cli_fail("cannot add user: %s", store_errmsg(c->st));
		goto out;
	}
	if (c->json) {
		json_t *doc = json_pack("{s:s}", "name", name);

		if (doc != NULL && generated)
			json_object_set_new(doc, "password", json_string(password));
		rc = cli_print_json(doc);
	} else {
		if (generated)
			printf("user %s added; password (shown once): %s\n", name, password);
		else
			printf("user %s added\n", name);
		rc = EXIT_OK;
	}
out:
	OPENSSL_cleanse(password, sizeof(password));
	free(hash);
	return rc;
}

/* A federated user: known by (provider, subject), no password. */
static int
user_add_federated(struct cli *c, const char *name, const char *idp, const char *sub)
{
	struct store_idp p;
	int rc;

	if (!user_name_ok(name))
		return cli_fail("bad user name '%s' (1-%d printable characters, no spaces or ':')",
		    name, USER_NAME_MAX);
	if (sub[0] == '\0' || strlen(sub) > 255)
		return cli_fail("--sub must be 1..255 characters");
	rc = store_idp_get(c->st, idp, &p);
	store_idp_clear(&p);
	if (rc == STORE_NOTFOUND)
		return cli_fail("no identity provider '%s' (see 'mcp-authd idp list')", idp);
	if (rc != STORE_OK)
		return cli_fail("cannot read identity providers: %s", store_errmsg(c->st));
	rc = store_user_add_federated(c->st, name, idp, sub, cli_now(), NULL);
	if (rc == STORE_CONFLICT)
		return cli_fail("user '%s' already exists, or %s's subject '%s' is already a user",
		    name, idp, sub);
	if (rc != STORE_OK)
		return cli_fail("cannot add user: %s", store_errmsg(c->st));
	if (c->json)
		return cli_print_json(json_pack("{s:s, s:s, s:s}", "name", name, "idp", idp, "sub",
		    sub));
	printf("user %s added; signs in through %s as subject %s\n", name, idp, sub);
	return EXIT_OK;
}

static int
print_user(const struct store_user *u, void *arg)
{
	json_t *list = arg;
	char when[32];

	if (list != NULL)
		return json_array_append_new(list, json_pack("{s:s, s:b, s:I, s:s?, s:s?, s:s?, s:s?}",
		    "name", u->name, "disabled", u->disabled, "created_at", (json_int_t)u->created_at,
		    "idp", u->idp, "sub", u->idp_sub, "email", u->email, "groups", u->idp_groups));
	cli_time_str(u->created_at, when);
	if (u->idp != NULL)
		printf("%-32s %-8s %s %s:%s\n", u->name, u->disabled ? "disabled" : "active", when,
		    u->idp, u->idp_sub);
	else
		printf("%-32s %-8s %s\n", u->name, u->disabled ? "disabled" : "active", when);
	return 0;
}

int
cmd_user(struct cli *c, int argc, char **argv)
{
	int from_stdin = 0, npos, rc;
	const char *pos[3], *idp = NULL, *sub = NULL;
	const struct cli_opt opts[] = {
		{"--password-stdin", OPT_FLAG, &from_stdin},
		{"--idp", OPT_VALUE, &idp},
		{"--sub", OPT_VALUE, &sub},
		{NULL, OPT_FLAG, NULL},
	};

	if ((rc = cli_parse(c, argc - 1, argv + 1, opts, pos, 2, &npos)) != 0)
		return rc;
	if (npos < 1)
		return cli_misuse("user needs a subcommand: add, list, disable");
	if ((rc = cli_config_load(c)) != 0 || (rc = cli_open_store(c, 0)) != 0)
		return rc;
	if (strcmp(pos[0], "add") == 0) {
		if (npos != 2 || (idp == NULL) != (sub == NULL) || (idp != NULL && from_stdin))
			return cli_misuse("usage: user add NAME [--password-stdin] | "
					  "user add NAME --idp P --sub S");
		if (idp != NULL)
			return user_add_federated(c, pos[1], idp, sub);
		return user_add(c, pos[1], from_stdin);
	}
	if (strcmp(pos[0], "list") == 0) {
		json_t *list = c->json ? json_array() : NULL;

		if (npos != 1)
			return cli_misuse("usage: user list");
		if (store_user_list(c->st, print_user, list) != STORE_OK) {
			json_decref(list);
			return cli_fail("cannot list users: %s", store_errmsg(c->st));
		}
		return list ? cli_print_json(list) : EXIT_OK;
	}
	if (strcmp(pos[0], "disable") == 0) {
		if (npos != 2)
			return cli_misuse("usage: user disable NAME");
		rc = store_user_set_disabled(c->st, pos[1], 1);
		if (rc == STORE_NOTFOUND)
			return cli_fail("no user '%s'", pos[1]);
		if (rc != STORE_OK)
			return cli_fail("cannot disable user: %s", store_errmsg(c->st));
		if (c->json)
			return cli_print_json(json_pack("{s:s, s:b}", "name", pos[1], "disabled", 1));
		printf("user %s disabled\n", pos[1]);
		return EXIT_OK;
	}
	return cli_misuse("unknown user subcommand '%s'", pos[0]);
}
