#!/bin/bash
# Interop: oauth4webapi (a real OAuth 2 client library) runs discovery, PKCE authorization,
# code redemption with a resource indicator and refresh against the real daemon; jose
# verifies every token against the JWKS.
. "${TOP_SRCDIR:-.}/tests/integ/lib.sh"

IOP="$TOP_SRCDIR/tests/interop"
[ -d "$IOP/node_modules/oauth4webapi" ] || skip_all "npm packages missing: run contrib/install-deps"
NODE=$IOP/node_modules/.bin/node
[ -x "$NODE" ] || NODE=${NODE:-node}

init_db
RES=https://files.example.com/mcp
authd resource add "$RES" --name Files --scopes "files:read files:write" --default-scopes files:read >/dev/null
printf 'hunter2-hunter2\n' | authd user add alice --password-stdin >/dev/null
CID=$(authd --json client add --name "oauth4webapi" --public --redirect-uri http://127.0.0.1/cb | jq -r .client_id)
start_serve

out=$("$NODE" "$IOP/oauth_flow.mjs" "$ISSUER" "$CID" "http://127.0.0.1:49152/cb" "$RES" alice hunter2-hunter2)
ok $? "oauth4webapi completes discovery, authorization, code exchange and refresh"
echo "# $out"
is "$(echo "$out" | jq -r .iss_checked)" true "the authorization response carries iss (RFC 9207)"
is "$(echo "$out" | jq -r .token_type)" bearer "token_type Bearer"
is "$(echo "$out" | jq -r .first.aud)" "$RES" "jose verifies the first token, aud the resource"
is "$(echo "$out" | jq -r .first.sub)" alice "sub"
is "$(echo "$out" | jq -r .first.scope)" files:read "default scope"
is "$(echo "$out" | jq -r .first.client_id)" "$CID" "client_id"
is "$(echo "$out" | jq -r .second.aud)" "$RES" "jose verifies the refreshed token"
is "$(echo "$out" | jq -r .second.jti_differs)" true "a new token, not the old one"
is "$(echo "$out" | jq -r .rotated)" true "the refresh token rotated"
is "$(echo "$out" | jq -r .reuse)" invalid_grant "the rotated refresh token is refused"
done_testing
