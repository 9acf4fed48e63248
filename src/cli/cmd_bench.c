/* bench-seed: bulk authorization codes and refresh tokens for the benchmarks, made by
 * the same grant and storage code as the real flow (bench/run uses it; not for
 * production databases). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cli/cli.h"
#include "jose/b64url.h"
#include "oauth/grants.h"

static int
write_line(FILE *f, const char *s)
{
	return fputs(s, f) < 0 || fputc('\n', f) == EOF ? -1 : 0;
}

int
cmd_bench_seed(struct cli *c, int argc, char **argv)
{
	const char *client_id = NULL, *user = NULL, *resource = NULL, *redirect = NULL,
		   *codes_file = NULL, *refresh_file = NULL, *codes_n = NULL, *refresh_n = NULL, *pos[1];
	static const char verifier[] = "bench-verifier-0123456789-0123456789-abcdefghij";
	unsigned char digest[32];
	char challenge[64], *issuer = NULL;
	struct store_client client;
	struct store_user u;
	struct master_key mk;
	struct keyset *ks = NULL;
	struct grant_env env;
	FILE *cf = NULL, *rf = NULL;
	long ncodes = 0, nrefresh = 0, i;
	unsigned int dlen = sizeof(digest);
	int npos, rc;
	const struct cli_opt opts[] = {
		{"--client", OPT_VALUE, &client_id},
		{"--user", OPT_VALUE, &user},
		{"--resource", OPT_VALUE, &resource},
		{"--redirect-uri", OPT_VALUE, &redirect},
		{"--codes", OPT_VALUE, &codes_n},
		{"--codes-file", OPT_VALUE, &codes_file},
		{"--refresh", OPT_VALUE, &refresh_n},
		{"--refresh-file", OPT_VALUE, &refresh_file},
		{NULL, OPT_FLAG, NULL},
	};

	memset(&client, 0, sizeof(client));
	memset(&u, 0, sizeof(u));
	memset(&mk, 0, sizeof(mk));
	if ((rc = cli_parse(c, argc - 1, argv + 1, opts, pos, 0, &npos)) != 0)
		return rc;
	if (client_id == NULL || user == NULL || resource == NULL || redirect == NULL)
		return cli_misuse("usage: bench-seed --client ID --user NAME --resource URI "
				  "--redirect-uri URI [--codes N --codes-file F] [--refresh N --refresh-file F]");
	ncodes = codes_n ? strtol(codes_n, NULL, 10) : 0;
	nrefresh = refresh_n ? strtol(refresh_n, NULL, 10) : 0;
	if ((ncodes > 0 && codes_file == NULL) || (nrefresh > 0 && refresh_file == NULL))
		return cli_misuse("--codes needs --codes-file and --refresh needs --refresh-file");
	if ((rc = cli_config_load(c)) != 0 || (rc = cli_open_store(c, 0)) != 0)
		return rc;
	if ((rc = cli_issuer(c, &issuer)) != 0 || (rc = cli_master_key(c, &mk)) != 0)
		goto out;
	if (store_client_get(c->st, client_id, &client) != STORE_OK ||
	    store_user_get_by_name(c->st, user, &u) != STORE_OK) {
		rc = cli_fail("unknown client or user");
		goto out;
	}
	if (keyset_load(c->st, &mk, &ks) != 0) {
		rc = cli_fail("cannot open the keys");
		goto out;
	}
	EVP_Digest(verifier, strlen(verifier), digest, &dlen, EVP_sha256(), NULL);
	b64url_encode(digest, sizeof(digest), challenge);
	memset(&env, 0, sizeof(env));
	env.st = c->st;
	env.keys = ks;
	env.issuer = issuer;
	env.now = cli_now();
	env.access_ttl = c->cfg.access_token_ttl;
	env.refresh_ttl = c->cfg.refresh_token_ttl;
	env.idp_session_ttl = c->cfg.idp_session_ttl;
	if ((codes_file && (cf = fopen(codes_file, "w")) == NULL) ||
	    (refresh_file && (rf = fopen(refresh_file, "w")) == NULL)) {
		rc = cli_fail("cannot write the output files");
		goto out;
	}
	store_begin(c->st);
	for (i = 0; i < ncodes + nrefresh; i++) {
		char *code = NULL;

		if (grant_code_issue(&env, &client, u.id, env.now, redirect, 1, challenge, resource,
			"", &code) != 0) {
			store_rollback(c->st);
			rc = cli_fail("cannot store a code");
			goto out;
		}
		if (i < ncodes)
			write_line(cf, code);
		else if (i == ncodes) {
			/* The codes are in; the refresh tokens come from redeeming more codes,
			 * each in its own transaction, exactly as /token does. */
			store_commit(c->st);
		}
		if (i >= ncodes) {
			struct token_response t;

			if (grant_authorization_code(&env, &client, code, verifier, redirect, NULL, &t) != 0) {
				rc = cli_fail("cannot redeem: %s", t.error_description);
				free(code);
				goto out;
			}
			write_line(rf, t.refresh_token);
			token_response_clear(&t);
		}
		free(code);
	}
	if (nrefresh == 0)
		store_commit(c->st);
	printf("%s\n", verifier);
	rc = EXIT_OK;
out:
	if (cf != NULL)
		fclose(cf);
	if (rf != NULL)
		fclose(rf);
	keyset_unref(ks);
	store_client_clear(&client);
	store_user_clear(&u);
	master_key_wipe(&mk);
	free(issuer);
	return rc;
}
