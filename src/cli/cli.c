/* Option parsing, configuration loading and output helpers for the commands. */
#include "config.h"

#include "cli/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "jose/jwks.h"
#include "net/fetch.h"
#include "oauth/issuer.h"
#include "oauth/resource.h"
#include "util/log.h"
#include "util/text.h"

int
cli_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("mcp-authd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USER;
}

int
cli_misuse(const char *fmt, ...)
{
	va_list ap;

	fputs("mcp-authd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see 'mcp-authd --help')\n", stderr);
	return EXIT_MISUSE;
}

int
cli_print_json(json_t *doc)
{
	char *text;

	if (doc == NULL)
		return cli_fail("out of memory");
	text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	json_decref(doc);
	if (text == NULL)
		return cli_fail("out of memory");
	puts(text);
	free(text);
	return EXIT_OK;
}

int64_t
cli_now(void)
{
	return (int64_t)time(NULL);
}

void
cli_time_str(int64_t t, char *out)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL) {
		snprintf(out, 32, "-");
		return;
	}
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* "--access-token-ttl" -> "access_token_ttl" when that is a config key. */
static int
config_flag_key(const char *arg, char *key, size_t keylen)
{
	size_t i;

	if (strncmp(arg, "--", 2) != 0 || strlen(arg + 2) >= keylen)
		return 0;
	for (i = 0; arg[2 + i] != '\0'; i++)
		key[i] = arg[2 + i] == '-' ? '_' : arg[2 + i];
	key[i] = '\0';
	return config_key_known(key);
}

int
cli_parse(struct cli *c, int argc, char **argv, const struct cli_opt *opts, const char **pos,
    int maxpos, int *npos)
{
	char key[64];
	int i, rc;

	*npos = 0;
	for (i = 0; i < argc; i++) {
		const char *arg = argv[i], *val = NULL, *eq = NULL;
		const struct cli_opt *o = NULL;
		size_t namelen;

		/* Names, URIs and scopes are stored as text, and PostgreSQL refuses bytes
		 * that are not UTF-8: refuse them here, not at a later store copy. */
		if (!text_valid((const unsigned char *)arg, strlen(arg)))
			return cli_misuse("argument %d is not UTF-8 text (or holds a control "
					  "character)", i + 1);

		if (strcmp(arg, "--json") == 0) {
			c->json = 1;
			continue;
		}
		if (strncmp(arg, "--", 2) != 0 || strcmp(arg, "--") == 0) {
			if (strcmp(arg, "--") == 0) {
				for (i++; i < argc; i++) {
					if (*npos >= maxpos)
						return cli_misuse("unexpected argument '%s'", argv[i]);
					pos[(*npos)++] = argv[i];
				}
				break;
			}
			if (arg[0] == '-' && arg[1] != '\0' && opts != NULL) {
				/* Short options are spelled out by the command (-n). */
				for (o = opts; o->name != NULL && strcmp(o->name, arg) != 0; o++)
					;
				if (o->name == NULL)
					return cli_misuse("unknown option '%s'", arg);
				goto have_opt;
			}
			if (*npos >= maxpos)
				return cli_misuse("unexpected argument '%s'", arg);
			pos[(*npos)++] = arg;
			continue;
		}
		eq = strchr(arg, '=');
		namelen = eq ? (size_t)(eq - arg) : strlen(arg);
		for (o = opts; o != NULL && o->name != NULL; o++) {
			if (strlen(o->name) == namelen && strncmp(o->name, arg, namelen) == 0)
				break;
		}
		if (o == NULL || o->name == NULL) {
			char name[64];

			if (namelen >= sizeof(name))
				return cli_misuse("unknown option '%s'", arg);
			memcpy(name, arg, namelen);
			name[namelen] = '\0';
			if (!config_flag_key(name, key, sizeof(key)))
				return cli_misuse("unknown option '%s'", name);
			if (eq != NULL)
				val = eq + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else
				return cli_misuse("option '%s' needs a value", name);
			if ((rc = cli_flag_add(c, key, val)) != 0)
				return rc;
			continue;
		}
	have_opt:
		if (o->kind == OPT_FLAG) {
			if (eq != NULL)
				return cli_misuse("option '%s' takes no value", o->name);
			*(int *)o->dest = 1;
			continue;
		}
		if (eq != NULL)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else
			return cli_misuse("option '%s' needs a value", o->name);
		if (o->kind == OPT_VALUE) {
			*(const char **)o->dest = val;
		} else {
			struct cli_list *l = o->dest;

			if (l->n >= CLI_MAX_LIST)
				return cli_misuse("too many '%s' options", o->name);
			l->v[l->n++] = val;
		}
	}
	return 0;
}

int
cli_config_load(struct cli *c)
{
	char err[512];
	const char *file = c->config_file;
	enum log_level level;
	int i;

	if (file == NULL)
		file = getenv("MCP_AUTHD_CONFIG");
	if (file != NULL && config_load_file(&c->cfg, file, err, sizeof(err)) != 0)
		return cli_fail("%s", err);
	if (config_apply_env(&c->cfg, err, sizeof(err)) != 0)
		return cli_fail("%s", err);
	for (i = 0; i < c->nflags; i++) {
		if (config_set(&c->cfg, c->flag_key[i], c->flag_val[i], CONFIG_SRC_FLAG, err,
			sizeof(err)) != 0)
			return cli_fail("--%s: %s", c->flag_key[i], err);
	}
	if (log_level_parse(c->cfg.log_level, &level) == 0)
		log_set_level(level);
	/* Every command that reaches out (serve, idp add's discovery) trusts the same CAs;
	 * a bundle that cannot be read is said now, not as a failed handshake later. */
	if (c->cfg.outbound_ca_file != NULL) {
		if (access(c->cfg.outbound_ca_file, R_OK) != 0)
			return cli_fail("outbound_ca_file: cannot read %s: %s",
			    c->cfg.outbound_ca_file, strerror(errno));
		net_set_ca_file(c->cfg.outbound_ca_file);
	}
	return EXIT_OK;
}

static int
ensure_parent_dir(const char *path)
{
	char dir[4096];
	char *slash;
	size_t n = strlen(path);

	if (n >= sizeof(dir))
		return -1;
	memcpy(dir, path, n + 1);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

int
cli_open_store(struct cli *c, int create)
{
	struct store_options opt = {.synchronous = c->cfg.synchronous, .create = create,
	    .timeout_ms = (int)(c->cfg.db_timeout * 1000)};
	struct stat sb;
	char *shown;
	int version, rc = EXIT_OK;

	if (c->st != NULL)
		return EXIT_OK;
	/* A PostgreSQL URI may carry a password: never print it. */
	if ((shown = store_location_masked_new(c->cfg.db)) == NULL)
		return cli_fail("out of memory");
	if (!store_location_is_url(c->cfg.db)) {
		if (!create && stat(c->cfg.db, &sb) != 0) {
			rc = cli_fail("no database at %s (run 'mcp-authd init --issuer URL' first)",
			    shown);
			goto out;
		}
		if (create && ensure_parent_dir(c->cfg.db) != 0) {
			rc = cli_fail("cannot create the directory of %s: %s", shown, strerror(errno));
			goto out;
		}
	}
	if (store_open(c->cfg.db, &opt, &c->st) != STORE_OK) {
		rc = cli_fail("cannot open database %s: %s", shown, store_open_error());
		goto out;
	}
	if (create) {
		if (store_migrate(c->st, NULL) != STORE_OK)
			rc = cli_fail("cannot migrate database %s: %s", shown, store_errmsg(c->st));
		goto out;
	}
	if (store_schema_version(c->st, &version) != STORE_OK || version == 0) {
		rc = cli_fail("database %s is not initialised (run 'mcp-authd init')", shown);
		goto out;
	}
	/* Commands upgrade an older schema in place, as serve does. */
	if (store_migrate(c->st, NULL) != STORE_OK)
		rc = cli_fail("cannot migrate database %s: %s", shown, store_errmsg(c->st));
out:
	free(shown);
	return rc;
}

int
cli_master_key(struct cli *c, struct master_key *mk)
{
	char err[512];

	if (master_key_load(c->cfg.master_key_file, mk, err, sizeof(err)) != 0)
		return cli_fail("%s", err);
	return EXIT_OK;
}

int
cli_issuer(struct cli *c, char **issuer)
{
	*issuer = NULL;
	if (c->cfg.issuer != NULL && c->cfg.issuer[0] != '\0') {
		if ((*issuer = strdup(c->cfg.issuer)) == NULL)
			return cli_fail("out of memory");
		return EXIT_OK;
	}
	if (c->st != NULL && store_setting_get_new(c->st, "issuer", issuer) == STORE_OK)
		return EXIT_OK;
	return cli_fail("no issuer configured (set issuer, or run 'mcp-authd init --issuer URL')");
}

int
cli_read_line(FILE *f, char *out, size_t outlen)
{
	size_t n;

	if (fgets(out, (int)outlen, f) == NULL)
		return -1;
	n = strlen(out);
	if (n > 0 && out[n - 1] == '\n')
		out[--n] = '\0';
	else if (!feof(f))
		return -1;
	if (n > 0 && out[n - 1] == '\r')
		out[--n] = '\0';
	return 0;
}

int
cli_find_resource(struct cli *c, const char *uri, struct store_resource *out)
{
	char *key = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (resource_normalize(uri, strlen(uri), NULL, &key) != 0)
		return cli_fail("'%s' is not a valid resource URI (absolute http(s), no query or "
				"fragment)", uri);
	rc = store_resource_get_by_key(c->st, key, out);
	free(key);
	if (rc == STORE_NOTFOUND)
		return cli_fail("no resource '%s' (see 'mcp-authd resource list')", uri);
	if (rc != STORE_OK)
		return cli_fail("cannot read resources: %s", store_errmsg(c->st));
	return EXIT_OK;
}

int
cli_flag_add(struct cli *c, const char *key, const char *value)
{
	char *k;

	if (c->nflags >= CLI_MAX_FLAGS)
		return cli_misuse("too many options");
	if ((k = strdup(key)) == NULL)
		return cli_fail("out of memory");
	c->flag_key[c->nflags] = k;
	c->flag_val[c->nflags++] = value;
	return EXIT_OK;
}

void
cli_free(struct cli *c)
{
	int i;

	for (i = 0; i < c->nflags; i++)
		free((char *)(uintptr_t)c->flag_key[i]);
	store_close(c->st);
	config_free(&c->cfg);
}

int
cli_keys_option(struct cli *c, const char *flag, const char *jwks_file, const char *jwks_uri,
    char **jwks_text)
{
	char err[256];
	json_error_t jerr;
	json_t *doc;

	*jwks_text = NULL;
	if (jwks_file != NULL && jwks_uri != NULL)
		return cli_misuse("%s-file and %s-uri exclude each other", flag, flag);
	if (jwks_uri != NULL) {
		if (issuer_check(jwks_uri, (int)c->cfg.allow_insecure_issuer, err, sizeof(err)) != 0)
			return cli_fail("%s-uri: %s", flag, err);
		return EXIT_OK;
	}
	if (jwks_file == NULL)
		return EXIT_OK;
	if ((doc = json_load_file(jwks_file, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return cli_fail("%s-file %s: %s", flag, jwks_file, jerr.text);
	if (jwks_check_public(doc, err, sizeof(err)) != 0) {
		json_decref(doc);
		return cli_fail("%s-file %s: %s", flag, jwks_file, err);
	}
	*jwks_text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	return *jwks_text != NULL ? EXIT_OK : cli_fail("out of memory");
}
