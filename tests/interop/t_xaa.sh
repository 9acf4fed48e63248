#!/bin/bash
# Cross-App Access (Enterprise-Managed Authorization, SEP-990) end to end with the MCP
# TypeScript SDK v2 client (@modelcontextprotocol/client): a real enterprise IdP (panva's
# oidc-provider with an RFC 8693 exchange that mints ID-JAGs, xaa_idp.mjs), mcp-authd
# trusting it with `idp add --id-jag`, and a real MCP server that checks mcp-authd's
# tokens (mcp_server.mjs). The user signs in at the IdP, the SDK's CrossAppAccessProvider
# trades the ID token for an ID-JAG and the ID-JAG for an access token, and the tool is
# called. Then PrivateKeyJwtProvider (client_credentials with private_key_jwt, ES256 and
# RS256), and the ID-JAGs mcp-authd must refuse, minted by the IdP on a test switch: the
# SDK reports the error, no tool call is made, and the audit log says why.
. "${TOP_SRCDIR:-.}/tests/integ/lib.sh"

IOP="$TOP_SRCDIR/tests/interop"
for pkg in @modelcontextprotocol/client @modelcontextprotocol/sdk oidc-provider jose; do
	[ -d "$IOP/node_modules/$pkg" ] || skip_all "npm packages missing ($pkg): run contrib/install-deps"
done
NODE=$IOP/node_modules/.bin/node
[ -x "$NODE" ] || NODE=${NODE:-node}

init_db
MCP_PORT=$(free_port)
RES="http://127.0.0.1:$MCP_PORT/mcp"
OTHER=https://other.example.com/mcp
authd resource add "$RES" --name "Echo server" --scopes "echo:read echo:write" \
	--default-scopes echo:read >/dev/null
authd resource add "$OTHER" --name Other --scopes "read" >/dev/null
authd resource metadata "$RES" >"$T/prm.json"

# The AI application, known to mcp-authd as a confidential client allowed the jwt-bearer
# grant, and to the IdP as "ai-client".
authd --json client add --name "AI app" --confidential --grant jwt-bearer >"$T/app.json"
APP=$(jq -r .client_id "$T/app.json")
APP_SECRET=$(jq -r .client_secret "$T/app.json")
[ -n "$APP" ] && [ "$APP" != null ] && [ -n "$APP_SECRET" ] && [ "$APP_SECRET" != null ]
ok $? "client add --confidential --grant jwt-bearer prints a client_id and a secret"

# The enterprise IdP: alice may be given echo:read only, bob whatever is asked.
IDP_PORT=$(free_port)
IDP=http://127.0.0.1:$IDP_PORT
IDP_REDIRECT=http://127.0.0.1:$IDP_PORT/ai-app/callback
USERS='{"alice":{"email":"alice@corp.example","scopes":["echo:read"]},
"bob":{"email":"bob@corp.example"}}'
(cd "$IOP" && CLIENT_SECRET=ai-secret-1 REDIRECT_URI="$IDP_REDIRECT" USERS="$USERS" \
	exec "$NODE" xaa_idp.mjs "$IDP_PORT" "ai-client=$APP" >"$T/idp.out" 2>"$T/idp.err") &
IDP_PID=$!
MCP_PID=
CLEANUP_EXTRA='kill $IDP_PID $MCP_PID 2>/dev/null'
wait_http "$IDP/.well-known/openid-configuration"
ok $? "oidc-provider is up as the enterprise IdP"
is "$(curl -s "$IDP/.well-known/openid-configuration" | jq -r '.grant_types_supported | index("urn:ietf:params:oauth:grant-type:token-exchange") != null')" \
	true "it offers the token exchange"

authd idp add corp --issuer "$IDP" --jwks-uri "$IDP/jwks" --id-jag --jit --allow-private >/dev/null
ok $? "idp add corp --id-jag --jit"
start_serve
is "$(curl -s "$ISSUER/.well-known/oauth-authorization-server" |
	jq -r '.grant_types_supported | index("urn:ietf:params:oauth:grant-type:jwt-bearer") != null')" \
	true "mcp-authd's metadata lists the jwt-bearer grant"

"$NODE" "$IOP/mcp_server.mjs" "$MCP_PORT" "$ISSUER" "$T/prm.json" >"$T/mcp.out" 2>"$T/mcp.err" &
MCP_PID=$!
for i in $(seq 1 200); do grep -q listening "$T/mcp.out" && break; sleep 0.05; done
grep -q listening "$T/mcp.out"
ok $? "the MCP server (checks aud, issuer and signature of mcp-authd's tokens) is up"

# xaa USER: the SDK client, signing in at the IdP as USER. Sets OUT and RC.
xaa() {
	OUT=$(cd "$IOP" && IDP=$IDP IDP_CLIENT_ID=ai-client IDP_CLIENT_SECRET=ai-secret-1 \
		REDIRECT_URI="$IDP_REDIRECT" IDP_USER=$1 AUTHD_ISSUER=$ISSUER AUTHD_CLIENT_ID=$APP \
		AUTHD_CLIENT_SECRET=$APP_SECRET "$NODE" xaa_client.mjs xaa "$RES" 2>"$T/client.err")
	RC=$?
}
pkjwt() { # pkjwt CLIENT_ID KEY_FILE ALG: sets OUT and RC.
	OUT=$(cd "$IOP" && AUTHD_ISSUER=$ISSUER "$NODE" xaa_client.mjs pkjwt "$RES" "$@" 2>"$T/client.err")
	RC=$?
}
show() { # the client's answer (and its stderr) as TAP comments
	printf '%s\n' "$OUT" | jq -c 'del(.id_jag_jwt)' 2>/dev/null | cut -c1-600 | sed 's/^/# /'
	sed 's/^/# stderr: /' "$T/client.err" | head -20
}
o() { printf '%s' "$OUT" | jq -r "$@"; }
switch() { # switch JSON: the IdP's test switch (xaa_idp.mjs) for the next ID-JAGs
	curl -sf -X POST -H 'Content-Type: application/json' -d "$1" "$IDP/__test__/id-jag"
}
audit_last() { # audit_last EVENT: the reason and detail of the last record of EVENT
	authd audit tail -n 20 --json |
		jq -r --arg e "$1" '[.[] | select(.event == $e)] | last | "\(.reason // "") \(.detail // "")"'
}
no_tool_call() { # no_tool_call: the SDK never reached the MCP server with a token
	! printf '%s' "$OUT" | jq -r '.calls[]' | grep -Eq "^POST $RES (initialize|tools/list|tools/call) 200$"
}

# ---- Cross-App Access, as alice ----
xaa alice
ok $RC "alice: ID token -> ID-JAG -> access token -> tool call, all through the SDK"
[ "$RC" -eq 0 ] || show
echo "# the ID-JAG: $(o -c .id_jag_header) $(o -c .id_jag)"
is "$(o .tools | jq -c .)" '["echo"]' "tools/list"
is "$(o .echo)" hello "tools/call answers"
is "$(o .echo_meta.sub)" corp:alice "the MCP server saw the federated user corp:alice"
is "$(o .echo_meta.client_id)" "$APP" "and mcp-authd's client"
is "$(o .token.sub)" corp:alice "the access token's sub is corp:alice"
is "$(o .token.client_id)" "$APP" "its client_id is the AI app's client at mcp-authd"
is "$(o .token.aud)" "$RES" "its aud is the MCP server"
is "$(o .token.iss)" "$ISSUER" "its iss is mcp-authd"
is "$(o .token.scope)" echo:read "its scope: what the SDK asked (echo:read echo:write) within what the IdP asserted"
is "$(o .assertion_ctx.scope)" "echo:read echo:write" "(the SDK asked for the resource's scopes_supported)"
is "$(o .id_jag_header.typ)" oauth-id-jag+jwt "the IdP's ID-JAG is typed oauth-id-jag+jwt"
is "$(o '[.id_jag.iss, .id_jag.sub, .id_jag.aud, .id_jag.client_id, .id_jag.resource, .id_jag.scope] | join(" ")')" \
	"$IDP alice $ISSUER $APP $RES echo:read" \
	"and names the IdP, alice, mcp-authd, the AI app's client there, the resource and the scope"
is "$(o '.id_jag.exp - .id_jag.iat')" 300 "and lives five minutes"
like "$(o '.calls | join(",")')" \
	"POST $IDP/token urn:ietf:params:oauth:grant-type:token-exchange 200,POST $ISSUER/token urn:ietf:params:oauth:grant-type:jwt-bearer 200" \
	"the SDK exchanged the ID token at the IdP, then presented the ID-JAG to mcp-authd"
is "$(authd --json user list | jq -c '.[] | select(.name == "corp:alice") | [.idp, .sub]')" \
	'["corp","alice"]' "JIT created corp:alice"
like "$(audit_last token.issued)" "id-jag \\(user created\\)" "the issuance is audited as an ID-JAG grant"

# The same ID-JAG once more: one use only.
JAG=$(o .id_jag_jwt)
req POST "$ISSUER/token" -u "$APP:$APP_SECRET" -d grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer \
	--data-urlencode "assertion=$JAG" --data-urlencode "resource=$RES"
is "$STATUS $(jqr .error)" "400 invalid_grant" "the ID-JAG replayed: invalid_grant"
like "$(audit_last token.refused)" "used before" "audited as a replay"

# bob: the IdP asserts everything asked; mcp-authd grants the resource's scopes.
xaa bob
ok $RC "bob: the same way"
[ "$RC" -eq 0 ] || show
is "$(o '.echo + " " + .token.sub + " " + .token.scope')" "hello corp:bob echo:read echo:write" \
	"the tool answers bob, whose token has both scopes"

# ---- PrivateKeyJwtProvider: client_credentials with private_key_jwt ----
(cd "$IOP" && "$NODE" xaa_client.mjs keygen ec "$T/ec" && "$NODE" xaa_client.mjs keygen rsa "$T/rsa")
ok $? "EC P-256 and RSA keys generated in node, public JWKS written"
EC_CLIENT=$(authd --json client add --name "Key client EC" --jwks-file "$T/ec.jwks" --resource "$RES" \
	--grant client_credentials | jq -r .client_id)
RSA_CLIENT=$(authd --json client add --name "Key client RSA" --jwks-file "$T/rsa.jwks" --resource "$RES" \
	--grant client_credentials | jq -r .client_id)
[ -n "$EC_CLIENT" ] && [ "$EC_CLIENT" != null ] && [ -n "$RSA_CLIENT" ] && [ "$RSA_CLIENT" != null ]
ok $? "client add --jwks-file: two key clients"
for k in "ec ES256 $EC_CLIENT" "rsa RS256 $RSA_CLIENT"; do
	set -- $k
	pkjwt "$3" "$T/$1.pem" "$2"
	ok $RC "$2: PrivateKeyJwtProvider gets a token and calls the tool"
	[ "$RC" -eq 0 ] || show
	is "$(o .echo)" hello "$2: tools/call answers"
	is "$(o '[.token.sub, .token.client_id, .token.aud] | join(" ")')" "$3 $3 $RES" \
		"$2: the token is the client's own, for the MCP server"
	is "$(o '[.client_assertion.header.alg, .client_assertion.claims.iss, .client_assertion.claims.aud] | join(" ")')" \
		"$2 $3 $ISSUER" "$2: the SDK's client assertion, aud = mcp-authd's issuer"
done
pkjwt "$EC_CLIENT" "$T/rsa.pem" RS256
is "$RC" 1 "a client assertion signed with another client's key: the SDK fails"
is "$(o .error_code)" invalid_client "with invalid_client"
like "$(o .error)" "signed by no key" "saying why"
no_tool_call
ok $? "and no tool call was made"

# ---- ID-JAGs mcp-authd refuses, minted by the IdP on its test switch ----
NOW=$(date +%s)
refused() { # refused SWITCH-JSON USER AUDIT-REGEX DESCRIPTION
	switch "$1"
	xaa "$2"
	is "$RC" 1 "$4: the SDK reports an error"
	[ "$RC" -eq 1 ] || show
	is "$(o .error_code)" invalid_grant "$4: invalid_grant"
	echo "# the SDK's error: $(o .error)"
	no_tool_call
	ok $? "$4: no tool call"
	like "$(audit_last token.refused)" "$3" "$4: the audit log has token.refused, saying why"
	# On invalid_grant the SDK starts over once (a second ID-JAG, refused the same way).
	[ -n "${SHOWN_CALLS:-}" ] || echo "# the SDK's calls: $(o '.calls | join(", ")' | sed "s|$ISSUER/|AUTHD/|g; s|$IDP/|IDP/|g; s|http://127.0.0.1:$MCP_PORT/|MCP/|g")"
	SHOWN_CALLS=1
}
refused '{"claims":{"aud":"https://elsewhere.example.com"}}' alice \
	"not addressed to this server \\(aud\\)" "an ID-JAG for another audience"
refused "{\"claims\":{\"client_id\":\"$EC_CLIENT\"}}" alice \
	"issued to another client \\(client_id\\)" "an ID-JAG for another client"
refused '{"header":{"typ":"JWT"}}' alice "must have typ oauth-id-jag\\+jwt" "a plain JWT instead of an ID-JAG"
refused "{\"claims\":{\"iat\":$NOW,\"exp\":$((NOW + 3600))}}" alice "expires too far ahead" \
	"an ID-JAG valid for an hour"
refused "{\"claims\":{\"resource\":\"$OTHER\"}}" alice "the requested resource is not the ID-JAG's" \
	"an ID-JAG for another resource"
refused '{"claims":{"iss":"https://idp.unknown.example"}}' alice "issuer is not trusted here" \
	"an ID-JAG from an issuer mcp-authd does not trust"
authd user disable corp:bob >/dev/null
refused '{}' bob "the user is disabled" "a disabled user"
switch '{}'
xaa alice
ok $RC "the switch off: alice gets through again"
[ "$RC" -eq 0 ] || show

# The IdP refuses to mint from an ID token it did not issue: the SDK says so.
OUT=$(cd "$IOP" && "$NODE" --input-type=module -e "
	import { requestJwtAuthorizationGrant } from '@modelcontextprotocol/client';
	try {
		await requestJwtAuthorizationGrant({ tokenEndpoint: '$IDP/token', audience: '$ISSUER', resource: '$RES',
			idToken: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl', clientId: 'ai-client',
			clientSecret: 'ai-secret-1', scope: 'echo:read' });
		console.log('minted');
	} catch (e) { console.log(e.message); }" 2>&1)
like "$OUT" "Token exchange failed: invalid_grant" "a forged ID token: the IdP refuses the exchange, and the SDK reports it"

kill "$MCP_PID" 2>/dev/null
wait "$MCP_PID" 2>/dev/null
done_testing
