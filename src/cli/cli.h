/* Shared plumbing of the command-line front ends: options, configuration, output. */
#ifndef MCP_CLI_CLI_H
#define MCP_CLI_CLI_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "jose/keystore.h"
#include "store/store.h"
#include "util/config.h"

/* Exit statuses (DESIGN.md §6). */
enum {
	EXIT_OK = 0,
	EXIT_USER = 1,    /* a user error: one line on stderr */
	EXIT_MISUSE = 2,  /* bad usage */
};

#define CLI_MAX_FLAGS 64
#define CLI_MAX_LIST 64

struct cli {
	struct config cfg;
	int json;
	const char *config_file;
	/* Config keys given as flags, applied last (flags win). */
	const char *flag_key[CLI_MAX_FLAGS];
	const char *flag_val[CLI_MAX_FLAGS];
	int nflags;
	struct store *st;
};

enum opt_kind {
	OPT_FLAG,   /* dest: int *, set to 1 */
	OPT_VALUE,  /* dest: const char **, last one wins */
	OPT_LIST,   /* dest: struct cli_list *, repeatable */
};

struct cli_list {
	const char *v[CLI_MAX_LIST];
	int n;
};

struct cli_opt {
	const char *name;   /* "--name" */
	enum opt_kind kind;
	void *dest;
};

/* Parse a command's arguments: known options into their destinations, --json
 * anywhere, "--<config-key> VALUE" (dashes or underscores) as config flags, the
 * rest as positionals (at most maxpos). Prints the problem and returns
 * EXIT_MISUSE on bad usage, else 0. */
int cli_parse(struct cli *c, int argc, char **argv, const struct cli_opt *opts, const char **pos,
    int maxpos, int *npos);

/* Build the effective configuration: defaults, file, environment, flags. */
int cli_config_load(struct cli *c);

/* Open the database named by the configuration; with create, make the file (and
 * migrate). Prints the reason and returns EXIT_USER on failure. */
int cli_open_store(struct cli *c, int create);

/* Load the master key named by the configuration. */
int cli_master_key(struct cli *c, struct master_key *mk);

/* The issuer: configuration first, then the one recorded by init. New string. */
int cli_issuer(struct cli *c, char **issuer);

/* Print a one-line error ("mcp-authd: ...") and return EXIT_USER. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print a usage error and return EXIT_MISUSE. */
int cli_misuse(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print a JSON document on one line to stdout and consume the reference. */
int cli_print_json(json_t *doc);

/* Current time in seconds. */
int64_t cli_now(void);

/* ISO 8601 UTC for a time (0 -> "-"); out must hold 32 bytes. */
void cli_time_str(int64_t t, char *out);

/* Read one line from f into out (without the newline); -1 at EOF or when too long. */
int cli_read_line(FILE *f, char *out, size_t outlen);

/* Look a registered resource up by any spelling of its URI; prints why not and returns
 * EXIT_USER when there is none. */
/* --jwks-file F | --jwks-uri URL (flag "--jwks"): exclusive; a file must hold a JWKS of
 * public keys (jose/jwks.h), returned compact in *jwks_text (new string, NULL for a
 * URI); a URI must be https (http with allow_insecure_issuer). */
int cli_keys_option(struct cli *c, const char *flag, const char *jwks_file, const char *jwks_uri,
    char **jwks_text);

int cli_find_resource(struct cli *c, const char *uri, struct store_resource *out);

/* Record a configuration flag (--KEY VALUE) that beats the environment and the file;
 * the value is borrowed from argv. EXIT_OK, or the exit code of the refusal. */
int cli_flag_add(struct cli *c, const char *key, const char *value);

/* Release what cli holds. */
void cli_free(struct cli *c);

/* The commands. argv[0] is the command name. */
int cmd_init(struct cli *c, int argc, char **argv);
int cmd_serve(struct cli *c, int argc, char **argv);
int cmd_dev(struct cli *c, int argc, char **argv);
int cmd_user(struct cli *c, int argc, char **argv);
int cmd_resource(struct cli *c, int argc, char **argv);
int cmd_client(struct cli *c, int argc, char **argv);
int cmd_keys(struct cli *c, int argc, char **argv);
int cmd_token(struct cli *c, int argc, char **argv);
int cmd_audit(struct cli *c, int argc, char **argv);
int cmd_check_config(struct cli *c, int argc, char **argv);
int cmd_backup(struct cli *c, int argc, char **argv);
int cmd_purge(struct cli *c, int argc, char **argv);
int cmd_store(struct cli *c, int argc, char **argv);
int cmd_idp(struct cli *c, int argc, char **argv);
int cmd_credential(struct cli *c, int argc, char **argv);
int cmd_connection(struct cli *c, int argc, char **argv);
int cmd_bench_seed(struct cli *c, int argc, char **argv);

#endif
