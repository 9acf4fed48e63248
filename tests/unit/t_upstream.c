/* Upstream identity providers: what a registration may hold, and client secrets sealed
 * under the master key (bound to the provider, moved by a rewrap). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "oauth/upstream.h"
#include "tap.h"

static void
names(void)
{
	ok(upstream_name_ok("corp") && upstream_name_ok("entra-id") && upstream_name_ok("0kta"),
	    "lower-case letters, digits and '-'");
	ok(upstream_name_ok("abcdefghijabcdefghijabcdefghij12"), "32 characters");
	ok(!upstream_name_ok("abcdefghijabcdefghijabcdefghij123"), "33 are too many");
	ok(!upstream_name_ok(""), "empty refused");
	ok(!upstream_name_ok("-corp"), "a leading '-' refused");
	ok(!upstream_name_ok("Corp") && !upstream_name_ok("co rp") && !upstream_name_ok("co/rp") &&
	    !upstream_name_ok("co.rp") && !upstream_name_ok("c%2f"),
	    "upper case, spaces, slashes, dots and escapes refused (the name is a path segment)");
	ok(upstream_claim_name_ok("groups") && upstream_claim_name_ok("https://example.com/roles"),
	    "claim names: plain and namespaced");
	ok(!upstream_claim_name_ok("") && !upstream_claim_name_ok("two words") &&
	    !upstream_claim_name_ok("t\xc3\xa9"), "claim names: empty, spaces, non-ASCII refused");
}

static void
secrets(void)
{
	struct master_key mk, mk2;
	unsigned char *blob = NULL, *other = NULL;
	size_t len = 0, olen = 0;
	char *secret = NULL;

	ok(master_key_ephemeral(&mk) == 0 && master_key_ephemeral(&mk2) == 0, "two master keys");
	ok(upstream_secret_seal(&mk, "corp", "s3cr3t value", &blob, &len) == 0 && len > 12,
	    "seal");
	ok(memmem(blob, len, "s3cr3t", 6) == NULL, "the blob does not hold the secret");
	ok(upstream_secret_open(&mk, "corp", blob, len, &secret) == 0, "open");
	is_str(secret, "s3cr3t value", "the secret comes back");
	OPENSSL_clear_free(secret, strlen(secret));
	secret = NULL;
	ok(upstream_secret_open(&mk, "other", blob, len, &secret) != 0 && secret == NULL,
	    "a blob moved to another provider does not open");
	ok(upstream_secret_open(&mk2, "corp", blob, len, &secret) != 0,
	    "another master key does not open it");
	blob[len - 1] ^= 1;
	ok(upstream_secret_open(&mk, "corp", blob, len, &secret) != 0, "a flipped bit: refused");
	blob[len - 1] ^= 1;
	ok(upstream_secret_open(&mk, "corp", blob, 10, &secret) != 0, "a cut blob: refused");
	ok(upstream_secret_seal(&mk, "corp", "s3cr3t value", &other, &olen) == 0 && olen == len &&
	    memcmp(blob, other, len) != 0, "sealing twice gives two blobs (a fresh nonce)");
	ok(upstream_secret_seal(&mk, "corp", "", &other, &olen) != 0 || (free(other), 0),
	    "an empty secret is not sealed");
	free(blob);
	master_key_wipe(&mk);
	master_key_wipe(&mk2);
}

/* A rewrap moves every provider's secret to the new key, in the caller's transaction. */
static void
rewrap(void)
{
	struct store_options opt = {.synchronous = "NORMAL", .create = 1};
	struct master_key mk, mk2;
	struct store *st = NULL;
	struct store_idp p, got;
	char *path = store_memory_path_new(), *secret = NULL;
	int count = -1;

	ok(master_key_ephemeral(&mk) == 0 && master_key_ephemeral(&mk2) == 0, "rewrap: two keys");
	ok(store_open(path, &opt, &st) == STORE_OK && store_migrate(st, NULL) == STORE_OK,
	    "rewrap: a store");
	memset(&p, 0, sizeof(p));
	p.issuer = MUT("https://idp.example");
	p.client_id = MUT("authd");
	p.display_name = MUT("IdP");
	p.scopes = MUT("openid");
	p.claim_user = MUT("sub");
	p.claim_email = MUT("email");
	p.claim_groups = MUT("groups");
	p.name = MUT("with-secret");
	ok(upstream_secret_seal(&mk, "with-secret", "top secret", &p.client_secret_enc,
	    &p.client_secret_enc_len) == 0 && store_idp_add(st, &p, NULL) == STORE_OK,
	    "rewrap: a provider with a sealed secret");
	free(p.client_secret_enc);
	p.client_secret_enc = NULL;
	p.client_secret_enc_len = 0;
	p.name = MUT("without");
	ok(store_idp_add(st, &p, NULL) == STORE_OK, "rewrap: and one without");
	ok(store_begin(st) == STORE_OK, "rewrap: begin");
	ok(upstream_secret_rewrap_within(st, &mk2, &mk, &count) != 0,
	    "rewrap: the wrong current key fails");
	store_rollback(st);
	ok(store_begin(st) == STORE_OK &&
	    upstream_secret_rewrap_within(st, &mk, &mk2, &count) == 0 && count == 1 &&
	    store_commit(st) == STORE_OK, "rewrap: one secret re-sealed");
	ok(store_idp_get(st, "with-secret", &got) == STORE_OK, "rewrap: read back");
	ok(upstream_secret_open(&mk, got.name, got.client_secret_enc, got.client_secret_enc_len,
	    &secret) != 0, "rewrap: the old key no longer opens it");
	ok(upstream_secret_open(&mk2, got.name, got.client_secret_enc, got.client_secret_enc_len,
	    &secret) == 0, "rewrap: the new one does");
	is_str(secret, "top secret", "rewrap: the same secret");
	if (secret != NULL)
		OPENSSL_clear_free(secret, strlen(secret));
	store_idp_clear(&got);
	store_close(st);
	free(path);
	master_key_wipe(&mk);
	master_key_wipe(&mk2);
}

int
main(void)
{
	names();
	secrets();
	rewrap();
	return tap_done();
}
