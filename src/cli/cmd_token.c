/* token mint: an access token for tests and operators, signed by the active key. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include <curl/curl.h>

#include "oauth/audit.h"
#include "oauth/claims.h"
#include "oauth/resource.h"
#include "oauth/scope.h"
#include "util/buf.h"

static size_t
collect(char *ptr, size_t size, size_t nmemb, void *arg)
{
	return buf_append(arg, ptr, size * nmemb) == BUF_OK ? size * nmemb : 0;
}

/* Mint through a running mock issuer (`mcp-authd dev` at url): its keys live in its
 * memory, so the token comes from its /dev/token helper. */
static int
mint_from_dev(struct cli *c, const char *url, const char *resource, const char *sub,
    const char *scope, const char *ttl_text, const char *client_id)
{
	char endpoint[2048], *body_text = NULL;
	struct curl_slist *hdrs = NULL;
	json_t *body = json_pack("{s:s, s:s}", "aud", resource, "sub", sub), *answer = NULL;
	struct buf out;
	CURL *curl = NULL;
	long status = 0;
	int64_t ttl;
	int rc;

	buf_init(&out, 256 * 1024);
	if (body == NULL)
		return cli_fail("out of memory");
	if (scope != NULL)
		json_object_set_new(body, "scope", json_string(scope));
	if (client_id != NULL)
		json_object_set_new(body, "client_id", json_string(client_id));
	if (ttl_text != NULL) {
		if (config_parse_duration(ttl_text, &ttl) != 0 || ttl < 1 || ttl > 86400) {
			rc = cli_fail("--ttl must be 1..86400 seconds");
			goto out;
		}
		json_object_set_new(body, "exp", json_integer(cli_now() + ttl));
	}
	snprintf(endpoint, sizeof(endpoint), "%s/dev/token", url);
	body_text = json_dumps(body, JSON_COMPACT);
	hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	if (body_text == NULL || hdrs == NULL || (curl = curl_easy_init()) == NULL) {
		rc = cli_fail("out of memory");
		goto out;
	}
	curl_easy_setopt(curl, CURLOPT_URL, endpoint);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body_text);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out);
	if (curl_easy_perform(curl) != CURLE_OK) {
		rc = cli_fail("cannot reach the mock issuer at %s", url);
		goto out;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	answer = json_loadb(out.data ? out.data : "", out.len, 0, NULL);
	if (status != 200 || json_string_value(json_object_get(answer, "access_token")) == NULL) {
		const char *why = json_string_value(json_object_get(answer, "error_description"));

		rc = cli_fail("%s did not mint a token (%ld%s%s): is it `mcp-authd dev`?", url, status,
		    why ? ": " : "", why ? why : "");
		goto out;
	}
	if (c->json) {
		rc = cli_print_json(answer);
		answer = NULL;
	} else {
		puts(json_string_value(json_object_get(answer, "access_token")));
		rc = EXIT_OK;
	}
out:
	json_decref(body);
	json_decref(answer);
	free(body_text);
	curl_slist_free_all(hdrs);
	if (curl != NULL)
		curl_easy_cleanup(curl);
	buf_free(&out);
	return rc;
}

int
cmd_token(struct cli *c, int argc, char **argv)
{
	const char *resource = NULL, *sub = NULL, *scope = NULL, *ttl_text = NULL, *client_id = NULL;
	const char *from = NULL;
	const char *pos[2];
	struct store_resource r;
	struct master_key mk;
	struct keyset *ks = NULL;
	struct access_claims claims;
	char jti[JTI_LEN + 1], *issuer = NULL, *key = NULL, *jwt = NULL;
	int64_t ttl, now = cli_now();
	int npos, rc;
	const struct cli_opt opts[] = {
		{"--resource", OPT_VALUE, &resource},
		{"--sub", OPT_VALUE, &sub},
		{"--scope", OPT_VALUE, &scope},
		{"--ttl", OPT_VALUE, &ttl_text},
		{"--client-id", OPT_VALUE, &client_id},
		{"--from", OPT_VALUE, &from},
		{NULL, OPT_FLAG, NULL},
	};

	memset(&r, 0, sizeof(r));
	memset(&mk, 0, sizeof(mk));
	if ((rc = cli_parse(c, argc - 1, argv + 1, opts, pos, 1, &npos)) != 0)
		return rc;
	if (npos != 1 || strcmp(pos[0], "mint") != 0 || resource == NULL || sub == NULL)
		return cli_misuse("usage: token mint --resource URI --sub S [--scope S] [--ttl SECONDS] "
				  "[--from DEV_ISSUER_URL]");
	if ((rc = cli_config_load(c)) != 0)
		return rc;
	if (from != NULL)
		return mint_from_dev(c, from, resource, sub, scope, ttl_text, client_id);
	if ((rc = cli_open_store(c, 0)) != 0)
		return rc;
	if (resource_normalize(resource, strlen(resource), NULL, &key) != 0)
		return cli_fail("'%s' is not a valid resource URI", resource);
	rc = store_resource_get_by_key(c->st, key, &r);
	free(key);
	if (rc != STORE_OK)
		return cli_fail("no resource '%s': a token's audience must be a registered resource",
		    resource);
	ttl = r.ttl ? r.ttl : c->cfg.access_token_ttl;
	if (ttl_text != NULL && (config_parse_duration(ttl_text, &ttl) != 0 || ttl < 1 ||
				    ttl > 86400)) {
		rc = cli_fail("--ttl must be 1..86400 seconds");
		goto out;
	}
	if (scope == NULL)
		scope = r.default_scopes ? r.default_scopes : r.scopes;
	if (!scope_valid(scope) || !scope_subset(scope, r.scopes)) {
		rc = cli_fail("--scope must be among the scopes of %s (%s)", r.uri, r.scopes);
		goto out;
	}
	if ((rc = cli_issuer(c, &issuer)) != 0 || (rc = cli_master_key(c, &mk)) != 0)
		goto out;
	if (keyset_load(c->st, &mk, &ks) != 0) {
		rc = cli_fail("cannot open the signing keys (wrong master key?)");
		goto out;
	}
	memset(&claims, 0, sizeof(claims));
	claims.iss = issuer;
	claims.sub = sub;
	claims.aud = r.uri;
	claims.client_id = client_id ? client_id : "mcp-authd-cli";
	claims.scope = scope;
	claims.iat = now;
	claims.exp = now + ttl;
	if (access_token_mint(ks, &claims, &jwt, jti) != 0) {
		rc = cli_fail("cannot sign: no active key (run 'mcp-authd init')");
		goto out;
	}
	{
		struct audit_sink *sink = NULL;
		struct store_audit a;

		memset(&a, 0, sizeof(a));
		a.ts = now;
		a.event = "token.issued";
		a.outcome = "ok";
		a.reason = "token mint (command line)";
		a.client_id = claims.client_id;
		a.subject = sub;
		a.resource = r.uri;
		a.jti = jti;
		audit_sink_open(c->cfg.audit_file, &sink);
		audit_write(c->st, sink, &a);
		audit_sink_close(sink);
	}
	if (c->json)
		rc = cli_print_json(json_pack("{s:s, s:s, s:I, s:s}", "access_token", jwt,
		    "token_type", "Bearer", "expires_in", (json_int_t)ttl, "jti", jti));
	else {
		puts(jwt);
		rc = EXIT_OK;
	}
out:
	free(jwt);
	keyset_unref(ks);
	master_key_wipe(&mk);
	free(issuer);
	store_resource_clear(&r);
	return rc;
}
