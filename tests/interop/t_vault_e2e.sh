#!/bin/bash
# A user connects a third-party account in a real browser, and an MCP server built with the
# MCP SDK uses it (DESIGN.md §10.5, docs/operations.md "users' connections"): headless
# Chromium signs bob in for the SDK client, the SDK calls a tool whose vault fetch (RFC 8693
# token exchange, audience=tp) is refused with connect_uri and that answers with a URL
# elicitation; the browser follows it to the third party (a second mcp-authd), where alice
# signs in and allows, and comes back to /connections. Then the same tool fetches the
# third-party token and the third party's API accepts it as alice's, while the user's own
# token forwarded to that API is refused (tests/interop/vault_e2e.mjs drives the browser
# and the client, tests/interop/vault_mcp_server.mjs is the MCP server).
#
# Both servers run on 127.0.0.1, and a browser shares cookies across the ports of one host
# (both use the cookie names mcp_authd_session and mcp_authd_csrf): the browser reaches
# the third party as "localhost" (its issuer), the servers call it on 127.0.0.1.
. "${TOP_SRCDIR:-.}/tests/integ/lib.sh"

IOP=$(cd "$TOP_SRCDIR/tests/interop" && pwd)
[ -x /usr/bin/chromium ] || skip_all "chromium is not installed"
for pkg in puppeteer-core @modelcontextprotocol/sdk jose; do
	[ -d "$IOP/node_modules/$pkg" ] || skip_all "npm packages missing ($pkg): run contrib/install-deps"
done
NODE=$IOP/node_modules/.bin/node
[ -x "$NODE" ] || NODE=${NODE:-node}
# The artifact: the connections page (a directory of its own: t_chromium.sh empties the
# top one when it starts).
SHOTS=${SCREENSHOT_DIR:-$PWD/tests/screenshots}/vault
mkdir -p "$SHOTS"
SHOT=$SHOTS/connections-$MCP_AUTHD_TEST_BACKEND.png
rm -f "$SHOT"

API=https://api.thirdparty.test
MCP_PID=
TP_PID=
CLEANUP_EXTRA='kill $MCP_PID $TP_PID 2>/dev/null; wait $MCP_PID $TP_PID 2>/dev/null'

# ---- the third party: another mcp-authd on its own SQLite file, issuer on "localhost" ----
TP_PORT=$(free_port)
TP_ISSUER=http://localhost:$TP_PORT # what the browser sees
TP_DIRECT=http://127.0.0.1:$TP_PORT # what the servers call
tp() { MCP_AUTHD_DB="$T/thirdparty.db" "$MCP_AUTHD" "$@"; }
tp init --issuer "$TP_ISSUER" >/dev/null
tp resource add "$API" --name "Third-party API" --scopes "repo read" >/dev/null
printf 'alice-pass\n' | tp user add alice --password-stdin >/dev/null

init_db
out=$(tp --json client add --name "mcp-authd vault" --confidential --redirect-uri "$ISSUER/connect/tp/callback" \
	--grant authorization_code --grant refresh_token --resource "$API")
TPID=$(jq -r .client_id <<<"$out")
TPSEC=$(jq -r .client_secret <<<"$out")
out=$(tp --json client add --name "API gateway" --resource "$API" --introspect-admin)
AUDID=$(jq -r .client_id <<<"$out")
AUDSEC=$(jq -r .client_secret <<<"$out")
MCP_AUTHD_DB="$T/thirdparty.db" "$MCP_AUTHD" serve --listen "127.0.0.1:$TP_PORT" >/dev/null 2>>"$T/thirdparty.log" &
TP_PID=$!
wait_http "$TP_DIRECT/healthz"
ok $? "the third party is up on 127.0.0.1:$TP_PORT"
is "$(curl -s --max-time 5 "$TP_ISSUER/.well-known/oauth-authorization-server" | jq -r .issuer)" "$TP_ISSUER" \
	"and answers as $TP_ISSUER"

# ---- mcp-authd: the MCP server, its client, bob, the MCP client, the connection ----
MCP_PORT=$(free_port)
RES="http://127.0.0.1:$MCP_PORT/mcp"
authd resource add "$RES" --name "Upstream tools" --scopes "tools" >/dev/null
printf 'bob-pass\n' | authd user add bob --password-stdin >/dev/null
CB_PORT=$(free_port)
APP=$(authd --json client add --name "Vault e2e app" --public \
	--redirect-uri "http://127.0.0.1:$CB_PORT/callback" | jq -r .client_id)
out=$(authd --json client add --name "Upstream tools server" --acts-for "$RES")
SID=$(jq -r .client_id <<<"$out")
SSEC=$(jq -r .client_secret <<<"$out")
out=$(printf '%s\n' "$TPSEC" | authd --json connection add tp --authorize-url "$TP_ISSUER/authorize" \
	--token-url "$TP_DIRECT/token" --revoke-url "$TP_DIRECT/revoke" --client-id "$TPID" \
	--client-secret-stdin --scopes repo --resource "$API" --allow-private)
ok $? "connection add tp: the browser goes to localhost, the server calls 127.0.0.1"
is "$(jq -r .connect_uri <<<"$out")" "$ISSUER/connect/tp" "users connect at $ISSUER/connect/tp"
authd resource allow-credential "$RES" tp >/dev/null
ok $? "the MCP server may fetch tp"
authd resource metadata "$RES" >"$T/prm.json"
start_serve
ok $? "mcp-authd is up"

(cd "$IOP" && EXCHANGE_CLIENT_ID=$SID EXCHANGE_CLIENT_SECRET=$SSEC CONNECTION=tp \
	API_URL="$TP_DIRECT/introspect" API_CLIENT_ID=$AUDID API_CLIENT_SECRET=$AUDSEC \
	exec "$NODE" vault_mcp_server.mjs "$MCP_PORT" "$ISSUER" "$T/prm.json" >"$T/mcp.out" 2>"$T/mcp.err") &
MCP_PID=$!
for i in $(seq 1 200); do grep -q listening "$T/mcp.out" && break; sleep 0.05; done
grep -q listening "$T/mcp.out"
ok $? "the SDK's MCP server is up"
if [ "$TAP_FAILED" -gt 0 ]; then
	sed 's/^/# /' "$T/thirdparty.log" "$T/serve.log" "$T/mcp.err" 2>/dev/null | tail -20
	echo "Bail out! the servers are not all up"
	exit 1
fi

# ---- the browser and the SDK client ----
out=$(cd "$IOP" && MCP_URL=$RES CLIENT_ID=$APP CALLBACK_PORT=$CB_PORT USERNAME=bob PASSWORD=bob-pass \
	TP_USERNAME=alice TP_PASSWORD=alice-pass SHOT=$SHOT timeout 60 "$NODE" vault_e2e.mjs 2>"$T/e2e.err")
o() { printf '%s' "$out" | jq -r "$@" 2>/dev/null; }
is "$(o '.failure // "none"')" none "the browser and the SDK client went through every step"
if [ "$(o '.failure // "none"')" != none ]; then
	o -c 'del(.navigations, .calls)' | cut -c1-2000 | sed 's/^/# /'
	sed 's/^/# stderr: /' "$T/e2e.err" | head -20
	sed 's/^/# mcp server: /' "$T/mcp.err" | head -20
fi
o '.navigations[]' | sed "s|$ISSUER|AUTHD|g; s|$TP_ISSUER|TP|g; s|http://127.0.0.1:$CB_PORT|CLIENT|g; s/^/# browser: /"

# 1. bob signs in for the SDK client.
is "$(o .authorization_request.resource)" "$RES" "the SDK asked for a token for the MCP server (resource)"
is "$(o .authorization_request.code_challenge_method)" S256 "with PKCE S256"
is "$(o '[.token.sub, .token.aud, .token.client_id] | join(" ")')" "bob $RES $APP" \
	"the browser signed bob in: the SDK's token is bob's, for the MCP server"
is "$(o '.tools | join(",")')" "forward_token,whoami_upstream" "tools/list"

# 2. Before connecting: the vault says where to connect, the tool elicits that URL.
is "$(o .elicitation.code)" -32042 "whoami_upstream before connecting: a URL elicitation (-32042)"
is "$(o '.elicitation.elicitations[0].mode')" url "mode url"
is "$(o '.elicitation.elicitations[0].url')" "$ISSUER/connect/tp" "to connect_uri, {issuer}/connect/tp"
audit=$(authd --json audit tail -n 200)
is "$(jq -r '[.[] | select(.event == "credential.refused")] | map("\(.sub) \(.client_id) \(.resource)") | join(",")' <<<"$audit")" \
	"bob $SID $RES" "mcp-authd audited one refused fetch: bob's, by the MCP server's client"

# 3. Connecting in the browser.
is "$(o .third_party_origin)" "$TP_ISSUER" "the elicitation URL took the browser to the third party's sign-in"
like "$(o '.navigations | join(" ")')" \
	"GET $ISSUER/connect/tp GET $TP_ISSUER/authorize .*POST $TP_ISSUER/authorize GET $ISSUER/connect/tp/callback GET $ISSUER/connections" \
	"connect, the third party's login and consent, the callback, the list"
is "$(o .connections_url)" "$ISSUER/connections?connected=tp" "back at mcp-authd's list of connections"
like "$(o .connections_title)" "^Connected accounts" "the connections page"
is "$(o '.connections_names | join(",")')" tp "lists tp"
like "$(o .connections_notice)" "tp" "and says it was connected"
[ -s "$SHOT" ]
ok $? "screenshot ${SHOT#"$PWD"/} kept"
is "$(o '.http_errors | join(" ")')" "" "no page answered an error on the way"
is "$(o '[.cookies[] | select(endswith(" mcp_authd_session")) | split(" ")[0]] | sort | join(",")')" \
	"127.0.0.1,localhost" "a session at each server, in cookies of their own hosts"
is "$(db_query "SELECT count(*) FROM user_connections")" 1 "mcp-authd keeps one connection"

# 4. Connected: the tool gets alice's token at the third party; bob's own token is refused.
is "$(o .whoami.exchange_status)" 200 "whoami_upstream: the vault fetch succeeds"
is "$(o '[.whoami.token_type, .whoami.issued_token_type, .whoami.scope] | join(" ")')" \
	"Bearer urn:ietf:params:oauth:token-type:access_token repo" "a bearer access token with the scope granted upstream"
is "$(o .whoami.has_refresh_token)" false "never the refresh token"
is "$(o '[.whoami.upstream_token.iss, .whoami.upstream_token.aud, .whoami.upstream_token.sub] | join(" ")')" \
	"$TP_ISSUER $API alice" "the third party's token, for its API, for alice"
is "$(o '[.whoami.accepted, .whoami.sub] | join(" ")')" "true alice" \
	"the third party's API accepts it: the tool answers alice, the connected account"
is "$(o '[.forward.api_status, .forward.accepted] | join(" ")')" "200 false" \
	"forward_token: the third party's API refuses bob's own token, forwarded"
is "$(o .forward.sub)" null "and names nobody"
audit=$(authd --json audit tail -n 200)
is "$(jq '[.[] | select(.event == "connection.connected" and .sub == "bob")] | length' <<<"$audit")" 1 \
	"the connection is audited, for bob"
is "$(jq '[.[] | select(.event == "credential.fetched" and .sub == "bob")] | length' <<<"$audit")" 1 \
	"and the fetch"
unlike "$out$(cat "$T/mcp.out" "$T/mcp.err")" "$TPSEC" "the client secret appears in no output"

kill "$MCP_PID" 2>/dev/null
wait "$MCP_PID" 2>/dev/null
MCP_PID=
stop_serve
done_testing
