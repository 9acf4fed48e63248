#!/bin/bash
# `mcp-authd dev`, the mock issuer: its ready line, auto-approved flows that validate like
# serve, the /dev/token and /dev/bad-token helpers (checked by jose and jwcrypto), token
# mint --from, token exchange, and the three recipes of docs/dev-mode.md.
. "${TOP_SRCDIR:-.}/tests/integ/lib.sh"

IOP="$TOP_SRCDIR/tests/interop"
NODE=$IOP/node_modules/.bin/node
[ -x "$NODE" ] || NODE=${NODE:-node}
HAVE_JS=0
[ -d "$IOP/node_modules/jose" ] && HAVE_JS=1

# dev_start ARGS...: start a dev instance on an OS-chosen port; sets DEV, SETTINGS.
dev_start() {
	"$MCP_AUTHD" dev --port 0 "$@" >"$T/dev.out" 2>"$T/dev.err" &
	SERVER_PID=$!
	local i
	for i in $(seq 1 200); do [ -s "$T/dev.out" ] && break; sleep 0.01; done
	SETTINGS=$(head -1 "$T/dev.out")
	DEV=$(jq -r .issuer <<<"$SETTINGS")
	BASE=$DEV
}
dev_stop() { stop_serve; }
s() { jq -r "$1" <<<"$SETTINGS"; }

A=https://files.example.com/mcp
B=https://calendar.example.com/mcp
dev_start --resource "$A" --allow-exchange "$A $B"
like "$DEV" '^http://127\.0\.0\.1:[0-9]+$' "--port 0: the OS chose a port, the issuer says which"
is "$(s .port)" "${DEV##*:}" "port in the ready line"
is "$(s .jwks_uri)" "$DEV/jwks.json" "jwks_uri in the ready line"
is "$(s .user.name)/$(s .user.password)" dev/dev "the seeded user"
like "$(s .client.client_id)" '^[A-Za-z0-9_-]{22}$' "a ready client"
like "$(s .client.client_secret)" '^[A-Za-z0-9_-]{43}$' "with its secret"
is "$(jq -c .resources <<<"$SETTINGS")" "[\"$A\",\"$B\"]" "the named resources"
is "$(wc -l <"$T/dev.out" | tr -d ' ')" 1 "one line on stdout"
CID=$(s .client.client_id)
CSECRET=$(s .client.client_secret)

# The ready client works from the first request (its hash is computed in the background).
req POST "$DEV/token" -u "$CID:$CSECRET" -d grant_type=client_credentials -d resource="$A"
is "$STATUS" 200 "client_credentials right after start"
is "$(jwt_json 2 "$(jqr .access_token)" | jq -r .aud)" "$A" "aud is the resource"
req POST "$DEV/token" -u "$CID:$CSECRET" -d grant_type=client_credentials -d resource=https://other.example.com
is "$(jqr .error)" invalid_target "named resources only: another one is invalid_target"
req POST "$DEV/token" -u "$CID:wrong" -d grant_type=client_credentials -d resource="$A"
is "$STATUS" 401 "a wrong secret is refused, as in serve"
sleep 0.5
req POST "$DEV/token" -u "$CID:$CSECRET" -d grant_type=client_credentials -d resource="$A"
is "$STATUS" 200 "and after the background hashing too"

# The code flow: registration open, login and consent automatic, validation as in serve.
req GET "$DEV/.well-known/oauth-authorization-server"
is "$(jqr .registration_endpoint)" "$DEV/register" "registration advertised"
req POST "$DEV/register" -H 'Content-Type: application/json' \
	-d '{"redirect_uris":["http://127.0.0.1:5000/cb"],"token_endpoint_auth_method":"none"}'
is "$STATUS" 201 "open registration: no initial access token needed"
PUB=$(jqr .client_id)
pkce
AUTHZ="$DEV/authorize?response_type=code&client_id=$PUB&redirect_uri=http://127.0.0.1:5000/cb&code_challenge=$CHALLENGE&code_challenge_method=S256&resource=$A&state=z"
browse "$AUTHZ"
is "$STATUS" 303 "no login page, no consent page: straight back with a code"
CODE=$(qparam code "$LOCATION")
req POST "$DEV/token" -d grant_type=authorization_code -d client_id="$PUB" -d code="$CODE" \
	-d code_verifier="$VERIFIER" -d redirect_uri=http://127.0.0.1:5000/cb
is "$STATUS" 200 "the code redeems"
is "$(jwt_json 2 "$(jqr .access_token)" | jq -r .sub)" dev "sub is the seeded user"
browse "$(sed 's/code_challenge_method=S256/code_challenge_method=plain/' <<<"$AUTHZ")"
is "$(qparam error "$LOCATION")" invalid_request "PKCE plain is refused, as in serve"
browse "$(sed 's/&resource=[^&]*//' <<<"$AUTHZ")"
is "$(qparam error "$LOCATION")" invalid_target "a missing resource is refused, as in serve"

# Token exchange: --allow-exchange made the edge and a client acting for A.
XID=$(s '.exchange_clients[0].client_id')
XSECRET=$(s '.exchange_clients[0].client_secret')
is "$(s '.exchange_clients[0].acts_for')" "$A" "an exchange client acting for A"
USER_TOKEN=$(curl -s "$DEV/dev/token" -d "{\"aud\":\"$A\",\"sub\":\"alice\"}" | jq -r .access_token)
req POST "$DEV/token" -u "$XID:$XSECRET" -d grant_type=urn:ietf:params:oauth:grant-type:token-exchange \
	-d subject_token="$USER_TOKEN" -d subject_token_type=urn:ietf:params:oauth:token-type:access_token \
	-d resource="$B"
is "$STATUS" 200 "token exchange works in dev"
is "$(jwt_json 2 "$(jqr .access_token)" | jq -c .act)" "{\"sub\":\"$XID\"}" "with act"
BTOKEN=$(curl -s "$DEV/dev/token" -d "{\"aud\":\"$B\",\"sub\":\"alice\"}" | jq -r .access_token)
req POST "$DEV/token" -u "$XID:$XSECRET" -d grant_type=urn:ietf:params:oauth:grant-type:token-exchange \
	-d subject_token="$BTOKEN" -d subject_token_type=urn:ietf:params:oauth:token-type:access_token \
	-d resource="$B"
is "$(jqr .error)" invalid_request "and refuses the confused deputy, as in serve"

# /dev/token: defaults for what is missing, the caller's claims for the rest.
req POST "$DEV/dev/token" -d '{}'
is "$STATUS" 200 "/dev/token with no claims"
C=$(jwt_json 2 "$(jqr .access_token)")
is "$(jq -r .aud <<<"$C")" "$A" "default aud: the first resource named"
is "$(jq -r .sub <<<"$C")" dev "default sub: the seeded user"
is "$(jq -r .iss <<<"$C")" "$DEV" "iss"
[ "$(jq .exp <<<"$C")" -gt "$(date +%s)" ]; ok $? "a future exp"
is "$(jwt_json 1 "$(jqr .access_token)" | jq -r .typ)" at+jwt "typ at+jwt"
req POST "$DEV/dev/token" -d "{\"aud\":\"$B\",\"sub\":\"carol\",\"scope\":\"a b\",\"tenant\":\"t1\"}"
C=$(jwt_json 2 "$(jqr .access_token)")
is "$(jq -r '[.aud, .sub, .scope, .tenant] | join(",")' <<<"$C")" "$B,carol,a b,t1" "given claims and extra ones"
req POST "$DEV/dev/token" -d '{"aud":"https://unknown.example.com"}'
is "$(jqr .error)" invalid_target "an unregistered aud is refused when resources are named"
req POST "$DEV/dev/token" -d '[1]'
is "$(jqr .error)" invalid_request "a body that is not an object"
GOOD=$(curl -s "$DEV/dev/token" -d '{}' | jq -r .access_token)

# /dev/bad-token: each kind is refused by real verifiers; the good token is not.
if [ "$HAVE_JS" = 1 ]; then
	"$NODE" "$IOP/verify_jose.mjs" "$DEV" "$A" "$GOOD" >/dev/null 2>&1
	ok $? "jose accepts the good token"
fi
"$PYTHON3" "$IOP/verify_jwcrypto.py" "$DEV" "$A" "$GOOD" >/dev/null 2>&1
ok $? "jwcrypto accepts the good token"
for kind in expired not-yet-valid wrong-audience wrong-issuer unknown-kid bad-signature alg-none wrong-typ; do
	req POST "$DEV/dev/bad-token?kind=$kind" -d '{"sub":"alice"}'
	is "$STATUS/$(jqr .kind)" "200/$kind" "bad-token $kind minted"
	BAD=$(jqr .access_token)
	if [ "$HAVE_JS" = 1 ]; then
		"$NODE" "$IOP/verify_jose.mjs" "$DEV" "$A" "$BAD" >/dev/null 2>&1
		is $? 1 "jose refuses the $kind token"
	fi
	"$PYTHON3" "$IOP/verify_jwcrypto.py" "$DEV" "$A" "$BAD" >/dev/null 2>&1
	is $? 1 "jwcrypto refuses the $kind token"
done
req POST "$DEV/dev/bad-token?kind=nonsense" -d '{}'
is "$(jqr .error)" invalid_request "an unknown kind: invalid_request"

# The mock issuer plays the enterprise IdP of Cross App Access: /dev/id-jag mints an ID-JAG
# for the ready client, which trades it at /token (jwt-bearer) with no consent screen.
is "$(s .id_jag_issuer)" "$DEV" "the ready line names the ID-JAG issuer (the dev issuer itself)"
req POST "$DEV/dev/id-jag" -H 'Content-Type: application/json' -d '{"sub":"erin","scope":"read"}'
is "$STATUS" 200 "/dev/id-jag mints an ID-JAG"
is "$(jqr .issued_token_type)" urn:ietf:params:oauth:token-type:id-jag "answered as an IdP's token exchange is"
JAG=$(jqr .access_token)
is "$(jwt_json 1 "$JAG" | jq -r .typ)" oauth-id-jag+jwt "typ oauth-id-jag+jwt"
is "$(jwt_json 2 "$JAG" | jq -r '[.iss, .aud, .client_id, .resource, .sub] | join(" ")')" \
	"$DEV $DEV $CID $A erin" "for this server, the ready client, the first resource, the sub given"
req POST "$DEV/token" -u "$CID:$CSECRET" -d grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer \
	--data-urlencode assertion="$JAG"
is "$STATUS" 200 "the ready client trades it for an access token"
is "$(jwt_json 2 "$(jqr .access_token)" | jq -r '[.aud, .sub, .scope] | join(" ")')" "$A dev:erin read" \
	"bound to the resource, for the user made just in time"
is "$(jqr .refresh_token)" null "no refresh token"
req POST "$DEV/token" -u "$CID:$CSECRET" -d grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer \
	--data-urlencode assertion="$JAG"
is "$(jqr .error)" invalid_grant "the same ID-JAG twice: refused"
req POST "$DEV/token" -d grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer --data-urlencode assertion="$JAG"
is "$STATUS" 401 "an ID-JAG without client authentication: 401"
for kind in expired wrong-audience wrong-issuer unknown-kid bad-signature alg-none wrong-typ \
	wrong-client too-long; do
	req POST "$DEV/dev/bad-token?kind=id-jag-$kind" -d '{}'
	BAD=$(jqr .access_token)
	req POST "$DEV/token" -u "$CID:$CSECRET" -d grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer \
		--data-urlencode assertion="$BAD"
	is "$STATUS/$(jqr .error)/$(jqr .access_token)" "400/invalid_grant/null" "an id-jag-$kind ID-JAG is refused"
done
req POST "$DEV/dev/token" -d '{}'
req POST "$DEV/token" -u "$CID:$CSECRET" -d grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer \
	--data-urlencode assertion="$(jqr .access_token)"
is "$(jqr .error)" invalid_grant "an access token of the same issuer is no ID-JAG (typ)"

# token mint against the dev instance's printed settings.
tok=$(authd token mint --from "$DEV" --resource "$A" --sub mallory --scope read)
ok $? "token mint --from the dev issuer"
is "$(jwt_json 2 "$tok" | jq -r '[.aud, .sub, .scope] | join(",")')" "$A,mallory,read" "with the claims asked for"
is "$(authd --json token mint --from "$DEV" --resource "$A" --sub x | jq -r .token_type)" Bearer "--json"
authd token mint --from "http://127.0.0.1:1" --resource "$A" --sub x >/dev/null 2>&1
is $? 1 "an unreachable dev issuer: a user error"
OLDKID=$(jwt_json 1 "$GOOD" | jq -r .kid)
dev_stop
like "$(cat "$T/dev.err")" "listening" "logs go to stderr"

# Any resource when none is named; interactive login; another user.
dev_start --interactive --user "bob:s3cret"
is "$(s .user.name)" bob "--user NAME:PASSWORD"
[ "$(curl -s "$DEV/jwks.json" | jq -r '.keys[0].kid')" != "$OLDKID" ]; ok $? "a fresh key every run"
req POST "$DEV/token" -u "$(s .client.client_id):$(s .client.client_secret)" -d grant_type=client_credentials \
	-d resource=https://anything.example.com/mcp
is "$STATUS" 200 "no resource named: any well-formed one is accepted"
req POST "$DEV/token" -u "$(s .client.client_id):$(s .client.client_secret)" -d grant_type=client_credentials \
	-d resource=https://anything.example.com/mcp#frag
is "$(jqr .error)" invalid_target "but not a malformed one"
sleep 0.5 # the seeded password's hash is computed just after start
req POST "$DEV/register" -H 'Content-Type: application/json' -d '{"redirect_uris":["http://127.0.0.1:5000/cb"],"token_endpoint_auth_method":"none"}'
PUB=$(jqr .client_id)
rm -f "$T/jar"
pkce
browse "$DEV/authorize?response_type=code&client_id=$PUB&redirect_uri=http://127.0.0.1:5000/cb&code_challenge=$CHALLENGE&code_challenge_method=S256&resource=https://anything.example.com/mcp"
like "$BODY" 'name="password"' "--interactive shows the login page"
submit username=bob password=wrong
is "$STATUS" 401 "a wrong password is refused"
submit username=bob password=s3cret
is "$STATUS" 303 "the right one signs in; consent is automatic"
like "$(qparam code "$LOCATION")" '^[A-Za-z0-9_-]{43}$' "a code"
dev_stop

# The recipes of docs/dev-mode.md, run as written; none may leave the issuer running.
recipe_left_running() {
	local i
	for i in $(seq 1 40); do
		pgrep -f "^$MCP_AUTHD dev --port 0 --resource http://127.0.0.1:3000/mcp" >/dev/null || return 1
		sleep 0.05
	done
	return 0
}
# Traced, so that a failure says which step of the recipe failed.
MCP_AUTHD="$MCP_AUTHD" bash -x "$TOP_SRCDIR/tests/dev/recipe_shell.sh" >"$T/shell.out" 2>&1
rc=$?
ok $rc "recipe: shell"
[ "$rc" = 0 ] || tail -15 "$T/shell.out" | sed 's/^/#   /'
recipe_left_running
is $? 1 "the shell recipe stops its issuer when it exits"
if [ "$HAVE_JS" = 1 ]; then
	(cd "$IOP" && MCP_AUTHD="$MCP_AUTHD" "$NODE" --test dev_recipe.test.mjs >"$T/node.out" 2>&1)
	ok $? "recipe: Node (node:test)"
	recipe_left_running
	is $? 1 "the Node recipe stops its issuer"
	grep -E "^# (pass|fail)" "$T/node.out" | sed 's/^/#   /'
fi
if "$PYTHON3" -c 'import pytest, jwcrypto' 2>/dev/null; then
	(cd "$TOP_SRCDIR/tests/dev" && MCP_AUTHD="$MCP_AUTHD" "$PYTHON3" -m pytest -q -p no:cacheprovider \
		test_recipe_pytest.py >"$T/pytest.out" 2>&1)
	ok $? "recipe: Python (pytest fixture)"
	recipe_left_running
	is $? 1 "the pytest fixture stops its issuer"
	tail -1 "$T/pytest.out" | sed 's/^/#   /'
fi
done_testing
