#!/bin/bash
# The MCP conformance suite's authorization-server scenarios
# (@modelcontextprotocol/conformance 0.2.0-alpha.12) against `serve`, with this script
# playing the browser through our login and consent pages, and against `dev`, whose
# auto-approval lets a plain redirect-following GET complete the flow.
. "${TOP_SRCDIR:-.}/tests/integ/lib.sh"

IOP="$TOP_SRCDIR/tests/interop"
SUITE="$IOP/node_modules/@modelcontextprotocol/conformance/dist/index.js"
[ -f "$SUITE" ] || skip_all "npm packages missing: run contrib/install-deps"
NODE=$IOP/node_modules/.bin/node

# run_suite ISSUER CLIENT_ID RESOURCE CALLBACK_PORT DRIVER: start the suite, hand its
# authorization URL to DRIVER, wait for the verdict. Sets SUITE_RC and SUITE_OUT.
run_suite() {
	local out="$T/suite.$RANDOM" url i
	"$NODE" "$SUITE" authorization --url "$1" --client-id "$2" --resource "$3" -p "$4" >"$out" 2>&1 &
	local pid=$!
	for i in $(seq 1 300); do
		grep -q "Callback server started" "$out" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	url=$(grep -o "$1/authorize?[^ ]*" "$out" | head -1)
	[ -n "$url" ] && "$5" "$url"
	wait "$pid"
	SUITE_RC=$?
	SUITE_OUT=$(cat "$out")
}

# serve: sign in and approve on our own pages, then deliver the redirect to the suite.
play_browser() {
	browse "$1"
	submit username=alice password=pw-conformance
	submit decision=allow
	curl -s -o /dev/null "$LOCATION"
}

init_db
RES=https://files.example.com/mcp
authd resource add "$RES" --name Files --scopes "read write" --default-scopes read >/dev/null
printf 'pw-conformance\n' | authd user add alice --password-stdin >/dev/null
CB=$(free_port)
CID=$(authd --json client add --name "MCP conformance" --public \
	--redirect-uri "http://127.0.0.1:$CB/callback" | jq -r .client_id)
start_serve
run_suite "$ISSUER" "$CID" "$RES" "$CB" play_browser
is "$SUITE_RC" 0 "serve: the conformance suite exits 0"
like "$SUITE_OUT" "authorization-server-metadata-endpoint: 2 passed, 0 failed" "serve: metadata scenario"
like "$SUITE_OUT" "authorization-code-grant: 1 passed, 0 failed" "serve: authorization code grant scenario"
like "$SUITE_OUT" "Total: 3 passed, 0 failed" "serve: no failure"
echo "$SUITE_OUT" | grep -E "✓|✗|Total" | sed 's/^/# /'
stop_serve

# dev: DCR registers the suite's client; the flow needs no pages.
"$MCP_AUTHD" dev --port 0 --resource "$RES" >"$T/dev.json" 2>"$T/dev.log" &
SERVER_PID=$!
for i in $(seq 1 100); do [ -s "$T/dev.json" ] && break; sleep 0.05; done
DEV=$(jq -r .issuer "$T/dev.json")
CB=$(free_port)
DEV_CID=$(curl -s "$DEV/register" -H 'Content-Type: application/json' \
	-d "{\"redirect_uris\":[\"http://127.0.0.1:$CB/callback\"],\"client_name\":\"MCP conformance\",\"token_endpoint_auth_method\":\"none\",\"grant_types\":[\"authorization_code\",\"refresh_token\"]}" |
	jq -r .client_id)
follow() { curl -s -L -o /dev/null "$1"; }
run_suite "$DEV" "$DEV_CID" "$RES" "$CB" follow
is "$SUITE_RC" 0 "dev: the conformance suite exits 0"
like "$SUITE_OUT" "Total: 3 passed, 0 failed" "dev: no failure"
echo "$SUITE_OUT" | grep -E "✓|✗|Total" | sed 's/^/# /'
done_testing
