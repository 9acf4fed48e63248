#!/bin/bash
# Interop: a verifier that caches the JWKS (jose's createRemoteJWKSet, defaults) checks
# every token of a loop of token requests while the server rotates its keys three times
# on schedule: zero verification failures, and each rotation observed. jose re-fetches
# for an unknown kid at most every 30 s, so keys are pre-published for 31 s
# (jwks_max_age) and rotate every 31 s: about 100 s.
. "${TOP_SRCDIR:-.}/tests/integ/lib.sh"

IOP="$TOP_SRCDIR/tests/interop"
[ -d "$IOP/node_modules/jose" ] || skip_all "npm packages missing: run contrib/install-deps"
NODE=$IOP/node_modules/.bin/node

export MCP_AUTHD_JWKS_MAX_AGE=31 MCP_AUTHD_ROTATE_EVERY=31 MCP_AUTHD_KEY_CHECK_INTERVAL=1 \
	MCP_AUTHD_ACCESS_TOKEN_TTL=60
init_db
RES=https://files.example.com/mcp
authd resource add "$RES" --scopes read >/dev/null
C=$(authd --json client add --name verifier-loop --resource "$RES")
start_serve
out=$("$NODE" "$IOP/rotation_verifier.mjs" "$ISSUER" "$(jq -r .client_id <<<"$C")" \
	"$(jq -r .client_secret <<<"$C")" "$RES" 3 150)
ok $? "the verifier loop ran"
echo "# $(jq -c '{tokens, failures: (.failures | length), rotations_seen, jwks_fetches}' <<<"$out")"
is "$(jq '.failures | length' <<<"$out")" 0 "zero verification failures"
[ "$(jq .tokens <<<"$out")" -ge 300 ]; ok $? "over hundreds of tokens ($(jq .tokens <<<"$out"))"
is "$(jq .rotations_seen <<<"$out")" 3 "three rotations observed"
is "$(jq '.kids | unique | length' <<<"$out")" 4 "four signing keys in turn"
is "$(grep -c 'scheduled key rotation: the next' "$T/serve.log")" 3 "the server logged three rotations"
done_testing
