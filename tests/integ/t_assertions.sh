#!/bin/bash
# Client assertions (private_key_jwt, RFC 7523) and ID-JAGs (the jwt-bearer grant) under
# attack: a catalogue of JWTs each broken in one way, each refused with its status, its
# error and its audit record, none of them issuing a token; and the happy paths for every
# algorithm. The catalogue itself is tests/integ/assertions.py (python3-jwcrypto signs;
# one process for every token); this script sets up the clients, the trusted issuers and
# two nodes on one database, and turns its results into TAP.
. "${TOP_SRCDIR:-.}/tests/integ/lib.sh"
/usr/bin/python3 -c 'import jwcrypto' 2>/dev/null || skip_all "python3-jwcrypto is not installed"
# Each request leaves from its own loopback address, to find its audit records.
/usr/bin/python3 -c 'import socket; socket.socket().bind(("127.0.10.2", 0))' 2>/dev/null ||
	skip_all "loopback addresses other than 127.0.0.1 cannot be bound"

init_db
RES1=https://files.example.com/mcp
RES2=https://mail.example.com/mcp
authd resource add "$RES1" --name Files --scopes "files:read files:write files:admin" >/dev/null
authd resource add "$RES2" --name Mail --scopes "mail:read" >/dev/null

KEYS=$T/keys
mkdir -p "$KEYS"
/usr/bin/python3 "$TOP_SRCDIR/tests/integ/assertions.py" keys "$KEYS" ||
	{ echo "Bail out! cannot make the keys"; exit 1; }

# client_add VAR [client add args]: VAR gets the client_id, VAR_SECRET the secret if any.
client_add() {
	local var=$1 out
	shift
	out=$(authd --json client add "$@") || { echo "# client add $* failed"; return 1; }
	printf -v "$var" '%s' "$(printf '%s' "$out" | jq -r .client_id)"
	printf -v "${var}_SECRET" '%s' "$(printf '%s' "$out" | jq -r '.client_secret // empty')"
}
client_add AGENT --name Agent --confidential --grant jwt-bearer --resource "$RES1" --resource "$RES2"
client_add AGENT2 --name Agent2 --confidential --grant jwt-bearer --resource "$RES1"
client_add NOGRANT --name NoGrant --confidential --grant client_credentials --resource "$RES1"
client_add PUBLIC_CLIENT --name App --public --redirect-uri http://127.0.0.1/callback
client_add KC_ES --name KeyES --jwks-file "$KEYS/kc-es.jwks" --grant client_credentials \
	--grant jwt-bearer --resource "$RES1" --introspect-admin
client_add KC_ED --name KeyEd --jwks-file "$KEYS/kc-ed.jwks" --grant client_credentials \
	--resource "$RES1"
client_add KC_RSA --name KeyRSA --jwks-file "$KEYS/kc-rsa.jwks" --grant client_credentials \
	--resource "$RES1"
client_add KC_TWO --name KeyTwo --jwks-file "$KEYS/kc-two.jwks" --grant client_credentials \
	--resource "$RES1"
is "$KC_ES_SECRET$KC_ED_SECRET$KC_RSA_SECRET$KC_TWO_SECRET" "" "key clients get no secret"
like "$AGENT_SECRET" '^.{20,}$' "a secret client gets its secret"

authd idp add acme --issuer https://acme.example.com --jwks-file "$KEYS/acme.jwks" --id-jag \
	--jit >/dev/null
authd idp add other --issuer https://other.example.com --jwks-file "$KEYS/other-es.jwks" \
	--id-jag --jit >/dev/null
authd idp add nojit --issuer https://nojit.example.com --jwks-file "$KEYS/nojit-es.jwks" \
	--id-jag --id-jag-clients "$AGENT $KC_ES" >/dev/null
# An issuer trusted for sign-in (OpenID Connect) only, not for ID-JAGs.
authd idp add signin --issuer https://signin.example.com --client-id authd >/dev/null
authd idp add signin2 --issuer https://signin2.example.com --client-id authd \
	--jwks-file "$KEYS/signin-es.jwks" >/dev/null 2>&1
is $? 2 "keys go with --id-jag only (sign-in reads them from discovery)"
authd user add alice --idp nojit --sub alice-sub >/dev/null
is "$(authd --json idp list | jq '[.[] | select(.id_jag)] | length')/$(authd --json idp list | jq length)" \
	3/4 "three ID-JAG issuers and a sign-in provider"

start_serve || { echo "Bail out! the server does not start"; exit 1; }
# A second node on the same database, for replays across nodes.
PORT2=$(free_port)
"$MCP_AUTHD" serve --listen "127.0.0.1:$PORT2" >/dev/null 2>>"$T/serve2.log" &
NODE2_PID=$!
CLEANUP_EXTRA='kill $NODE2_PID 2>/dev/null; wait $NODE2_PID 2>/dev/null'
wait_http "http://127.0.0.1:$PORT2/healthz" || { echo "Bail out! node 2 does not start"; exit 1; }

started=$(date +%s)
ISSUER=$ISSUER BASE2="http://127.0.0.1:$PORT2" KEYS=$KEYS RES1=$RES1 RES2=$RES2 \
	AGENT=$AGENT AGENT_SECRET=$AGENT_SECRET AGENT2=$AGENT2 AGENT2_SECRET=$AGENT2_SECRET \
	NOGRANT=$NOGRANT NOGRANT_SECRET=$NOGRANT_SECRET PUBLIC_CLIENT=$PUBLIC_CLIENT \
	KC_ES=$KC_ES KC_ED=$KC_ED KC_RSA=$KC_RSA KC_TWO=$KC_TWO MCP_AUTHD=$MCP_AUTHD \
	/usr/bin/python3 "$TOP_SRCDIR/tests/integ/assertions.py" run >"$T/results" 2>"$T/driver.err"
rc=$?
while IFS= read -r line; do
	case $line in
	"PASS "*) ok 0 "${line#PASS }" ;;
	"FAIL "*) ok 1 "${line#FAIL }" ;;
	*) echo "$line" ;;
	esac
done <"$T/results"
is "$rc" 0 "the catalogue ran to its end ($(($(date +%s) - started)) s)"
[ "$rc" -ne 0 ] && sed 's/^/# /' "$T/driver.err" | tail -20
like "$(grep -c '^PASS\|^FAIL' "$T/results")" '^[0-9]{3,}$' "at least 100 results"

req GET "$BASE/healthz"
is "$STATUS" 200 "node 1 still answers"
req GET "http://127.0.0.1:$PORT2/healthz"
is "$STATUS" 200 "node 2 still answers"
unlike "$(cat "$T/serve.log" "$T/serve2.log")" 'eyJ[A-Za-z0-9_-]{10,}\.eyJ' \
	"no JWT reaches the server logs"
done_testing
