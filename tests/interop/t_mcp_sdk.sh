#!/bin/bash
# End to end with the official MCP TypeScript SDK: a real MCP server (streamable HTTP, one
# tool) that serves the RFC 9728 metadata `resource metadata` prints and checks the token's
# audience; a real SDK client with no pre-registration, once through dynamic registration
# and once through a Client ID Metadata Document served by a loopback HTTPS fixture.
. "${TOP_SRCDIR:-.}/tests/integ/lib.sh"

IOP="$TOP_SRCDIR/tests/interop"
[ -d "$IOP/node_modules/@modelcontextprotocol/sdk" ] || skip_all "npm packages missing: run contrib/install-deps"
NODE=$IOP/node_modules/.bin/node
[ -x "$NODE" ] || NODE=${NODE:-node}

init_db
MCP_PORT=$(free_port)
RES="http://127.0.0.1:$MCP_PORT/mcp"
OTHER=https://other.example.com/mcp
authd resource add "$RES" --name "Echo server" --scopes "echo:read echo:write" --default-scopes echo:read >/dev/null
authd resource add "$OTHER" --name Other --scopes "read" >/dev/null
printf 'hunter2-hunter2\n' | authd user add alice --password-stdin >/dev/null
authd resource metadata "$RES" >"$T/prm.json"
start_https_fixture
DOC_URL="https://127.0.0.1:$FIXTURE_PORT/mcp-client.json"
printf '{"client_id":"%s","client_name":"MCP SDK via metadata document","redirect_uris":["http://127.0.0.1:49152/callback"],"grant_types":["authorization_code","refresh_token"],"response_types":["code"],"token_endpoint_auth_method":"none"}' \
	"$DOC_URL" >"$FIXTURE_DIR/mcp-client.json"
export MCP_AUTHD_REGISTRATION=open MCP_AUTHD_CIMD_ALLOW_PRIVATE=true MCP_AUTHD_CIMD_CA_FILE="$FIXTURE_CA"
start_serve

"$NODE" "$IOP/mcp_server.mjs" "$MCP_PORT" "$ISSUER" "$T/prm.json" >"$T/mcp.out" 2>"$T/mcp.err" &
MCP_PID=$!
for i in $(seq 1 200); do grep -q listening "$T/mcp.out" && break; sleep 0.05; done
grep -q listening "$T/mcp.out"; ok $? "the SDK's MCP server is up"

for mode in dcr "$DOC_URL"; do
	name=$([ "$mode" = dcr ] && echo "dynamic registration" || echo "metadata document")
	out=$(cd "$IOP" && "$NODE" mcp_client.mjs "$RES" alice hunter2-hunter2 "$mode" 2>"$T/client.err")
	ok $? "$name: the SDK client discovers, registers, authorizes and calls the tool"
	[ -n "$out" ] || sed 's/^/# /' "$T/client.err"
	is "$(echo "$out" | jq -c .tools)" '["echo"]' "$name: tools/list"
	is "$(echo "$out" | jq -r .echo)" hello "$name: tools/call"
	is "$(echo "$out" | jq -r .echo_meta.sub)" alice "$name: the server saw the user"
	is "$(echo "$out" | jq -r .authorization_request.resource)" "$RES" "$name: the SDK sent resource"
	is "$(echo "$out" | jq -r .authorization_request.code_challenge_method)" S256 "$name: PKCE S256"
	is "$(echo "$out" | jq -r .callback_iss)" "$ISSUER" "$name: iss in the callback"
	is "$(echo "$out" | jq -r .token.aud)" "$RES" "$name: the token's audience is the MCP server"
	is "$(echo "$out" | jq -r .echo_after_refresh)" again "$name: after a 401 the SDK refreshed and retried"
	is "$(echo "$out" | jq -r .refreshed)" true "$name: with a new token"
done
is "$(echo "$out" | jq -r .token.client_id)" "$DOC_URL" "metadata document: client_id is the document's URL"
is "$(authd client list --json | jq -r '[.[].origin] | sort | join(",")')" "cimd,dcr" \
	"one client registered dynamically, one known by its document"

# Once more, the user signing in through the enterprise's provider (oidc-provider): the
# SDK's flow is the same, the sign-in happens upstream (DESIGN.md §10.3).
if [ -d "$IOP/node_modules/oidc-provider" ]; then
	IDP_PORT=$(free_port)
	(cd "$IOP" && PORT=$IDP_PORT CLIENT_ID=authd CLIENT_SECRET=corp-secret-1 \
		REDIRECT_URI="$ISSUER/idp/corp/callback" \
		USERS='{"carol":{"email":"carol@corp.example","email_verified":true,"groups":["eng"]}}' \
		exec "$NODE" upstream_idp.mjs >"$T/idp.out" 2>"$T/idp.err") &
	IDP_PID=$!
	wait_http "http://127.0.0.1:$IDP_PORT/.well-known/openid-configuration"
	printf 'corp-secret-1\n' | authd idp add corp --issuer "http://127.0.0.1:$IDP_PORT" \
		--client-id authd --client-secret-stdin --scopes "openid email groups" --jit \
		--allow-private >/dev/null
	authd idp map corp --group eng --resource "$RES" >/dev/null
	out=$(cd "$IOP" && UPSTREAM=corp:carol "$NODE" mcp_client.mjs "$RES" - - dcr 2>"$T/client.err")
	ok $? "through the enterprise IdP: the SDK client authorizes and calls the tool"
	[ -n "$out" ] || sed 's/^/# /' "$T/client.err"
	is "$(echo "$out" | jq -r .echo)" hello "through the enterprise IdP: tools/call"
	is "$(echo "$out" | jq -r .echo_meta.sub)" corp:carol "the MCP server saw the federated user"
	is "$(echo "$out" | jq -r .token.aud)" "$RES" "the token's audience is the MCP server"
	is "$(echo "$out" | jq -r .echo_after_refresh)" again "and refresh works for a federated user"
	kill "$IDP_PID" 2>/dev/null
fi

# The MCP server refuses a perfectly valid token minted for another resource.
WRONG=$(authd token mint --resource "$OTHER" --sub alice)
req POST "$RES" -H "Authorization: Bearer $WRONG" -H 'Content-Type: application/json' \
	-H 'Accept: application/json, text/event-stream' \
	-d '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'
is "$STATUS" 401 "a token for another resource: 401 at the MCP server"
like "$(header WWW-Authenticate)" 'resource_metadata=' "with a pointer to its metadata"
RIGHT=$(authd token mint --resource "$RES" --sub alice)
req POST "$RES" -H "Authorization: Bearer $RIGHT" -H 'Content-Type: application/json' \
	-H 'Accept: application/json, text/event-stream' \
	-d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}'
is "$STATUS" 200 "the same request with a token for this server: 200"

kill "$MCP_PID" 2>/dev/null
wait "$MCP_PID" 2>/dev/null
stop_https_fixture
done_testing
