#!/bin/bash
# Per-user connections of the vault (DESIGN.md §10.5): a user connects an account at a
# third party (a second mcp-authd plays it: authorization server and API, with refresh
# tokens that rotate and a reuse that revokes the family), an MCP server fetches the
# user's third-party token through token exchange with the user's token for itself, an
# expired one is refreshed once however many ask at the same moment, a refused refresh
# asks the user to connect again, and disconnecting revokes upstream before forgetting.
. "${TOP_SRCDIR:-.}/tests/integ/lib.sh"

X=urn:ietf:params:oauth:grant-type:token-exchange
AT=urn:ietf:params:oauth:token-type:access_token
API=https://api.thirdparty.test
FILES=https://files.example.com/mcp
MAIL=https://mail.example.com/mcp

# ---- the third party: another mcp-authd, always on its own SQLite file ----
TP_PORT=$(free_port)
TP=http://127.0.0.1:$TP_PORT
tp() { MCP_AUTHD_DB="$T/thirdparty.db" "$MCP_AUTHD" "$@"; }
tp init --issuer "$TP" >/dev/null
tp resource add "$API" --name "Third-party API" --scopes "repo read" >/dev/null
printf 'pass\n' | tp user add alice --password-stdin >/dev/null
tp_db() { "$PYTHON3" -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); r = c.execute(sys.argv[2]).fetchone(); c.commit(); print(r[0] if r else "")' "$T/thirdparty.db" "$1"; }

init_db
out=$(tp --json client add --name "mcp-authd vault" --confidential --redirect-uri "$ISSUER/connect/tp/callback" \
	--grant authorization_code --grant refresh_token --resource "$API")
TPID=$(jq -r .client_id <<<"$out")
TPSEC=$(jq -r .client_secret <<<"$out")
out=$(tp --json client add --name auditor --resource "$API" --introspect-admin)
AUDID=$(jq -r .client_id <<<"$out")
AUDSEC=$(jq -r .client_secret <<<"$out")
MCP_AUTHD_DB="$T/thirdparty.db" "$MCP_AUTHD" serve --listen "127.0.0.1:$TP_PORT" >/dev/null 2>>"$T/thirdparty.log" &
TP_PID=$!
CLEANUP_EXTRA="kill $TP_PID"
wait_http "$TP/healthz"
ok $? "the third party is up"
tp_introspect() { curl -s -u "$AUDID:$AUDSEC" "$TP/introspect" -d token="$1" | jq -r .active; }

# ---- this server ----
authd resource add "$FILES" --name Files --scopes "read" >/dev/null
authd resource add "$MAIL" --name Mail --scopes "read" >/dev/null
printf 'pass\n' | authd user add bob --password-stdin >/dev/null
printf 'pass\n' | authd user add carol --password-stdin >/dev/null
REDIRECT=http://127.0.0.1:1/cb
APP=$(authd --json client add --name "MCP app" --public --redirect-uri "$REDIRECT" | jq -r .client_id)
out=$(authd --json client add --name "Files server" --acts-for "$FILES")
FID=$(jq -r .client_id <<<"$out")
FSEC=$(jq -r .client_secret <<<"$out")
out=$(authd --json client add --name "Mail server" --acts-for "$MAIL")
MID=$(jq -r .client_id <<<"$out")
MSEC=$(jq -r .client_secret <<<"$out")
out=$(authd --json client add --name Job --confidential --grant client_credentials --resource "$FILES")
JID=$(jq -r .client_id <<<"$out")
JSEC=$(jq -r .client_secret <<<"$out")

# ---- the command line ----
add() { printf '%s\n' "$TPSEC" | authd --json connection add "$@" --client-secret-stdin; }
out=$(add tp --authorize-url "$TP/authorize" --token-url "$TP/token" --revoke-url "$TP/revoke" \
	--client-id "$TPID" --scopes "repo" --resource "$API" --allow-private)
ok $? "connection add"
is "$(jq -r .redirect_uri <<<"$out")" "$ISSUER/connect/tp/callback" "it names the redirect URI to register"
is "$(jq -r .connect_uri <<<"$out")" "$ISSUER/connect/tp" "and where users connect"
add tp --authorize-url "$TP/authorize" --token-url "$TP/token" --client-id x --scopes a >/dev/null 2>&1
is $? 1 "the same name again: refused"
printf 'k\n' | authd credential set svc --stdin >/dev/null
add svc --authorize-url "$TP/authorize" --token-url "$TP/token" --client-id x --scopes a >/dev/null 2>&1
is $? 1 "a credential's name: refused (one namespace)"
add Bad --authorize-url "$TP/authorize" --token-url "$TP/token" --client-id x --scopes a >/dev/null 2>&1
is $? 1 "a name with capitals: refused"
MCP_AUTHD_ALLOW_INSECURE_ISSUER=false add plain --authorize-url "$TP/authorize" --token-url "$TP/token" \
	--client-id x --scopes a >/dev/null 2>&1
is $? 1 "http endpoints without allow_insecure_issuer: refused"
add frag --authorize-url "$TP/authorize#x" --token-url "$TP/token" --client-id x --scopes a >/dev/null 2>&1
is $? 1 "an endpoint with a fragment: refused"
authd connection add nosecret --authorize-url "$TP/authorize" --token-url "$TP/token" >/dev/null 2>&1
is $? 2 "the endpoints and a client id are required"
listing=$(authd --json connection list)
is "$(jq -r '.[] | select(.name == "tp") | [.client_id, .client_secret, .resource] | join(" ")' <<<"$listing")" \
	"$TPID true $API" "connection list: client, whether a secret is sealed, resource"
unlike "$listing$(authd connection list)$(authd check-config 2>&1)" "$TPSEC" "no listing shows the client secret"
authd resource allow-credential "$FILES" tp >/dev/null
ok $? "resource allow-credential takes a connection's name"

start_serve
# Two browsers on one host: each server's cookies in a jar of their own (both run on
# 127.0.0.1, where a browser would share cookies across ports).
JAR=$T/jar.bob
browse() { req GET "$1" -c "$JAR" -b "$JAR"; LOCATION=$(header Location); }
submit() {
	local out
	out=$(printf '%s' "$BODY" | "$PYTHON3" "$TOP_SRCDIR/tests/integ/formdata.py" "$@") || return 1
	req POST "$(head -1 <<<"$out")" -c "$JAR" -b "$JAR" -H 'Content-Type: application/x-www-form-urlencoded' \
		--data "$(tail -1 <<<"$out")"
	LOCATION=$(header Location)
}
enc() { jq -rn --arg v "$1" '$v|@uri'; }
# sign_in USER RESOURCE: the MCP app's authorization code flow in jar $JAR; TOKEN is the result.
sign_in() {
	pkce
	browse "$ISSUER/authorize?response_type=code&client_id=$APP&redirect_uri=$(enc "$REDIRECT")&state=s&code_challenge=$CHALLENGE&code_challenge_method=S256&resource=$(enc "$2")"
	if printf '%s' "$BODY" | grep -q 'name="password"'; then submit username="$1" "password=pass"; fi
	if [ "$STATUS" = 200 ]; then submit decision=allow; fi
	req POST "$ISSUER/token" -d grant_type=authorization_code -d client_id="$APP" -d code="$(qparam code "$LOCATION")" \
		-d code_verifier="$VERIFIER" -d redirect_uri="$REDIRECT" -d resource="$2"
	TOKEN=$(jqr .access_token)
}
sign_in bob "$FILES"
BOB_FILES=$TOKEN
sign_in bob "$MAIL"
BOB_MAIL=$TOKEN
[ -n "$BOB_FILES" ] && [ "$BOB_MAIL" != null ]
ok $? "bob signed in for Files and for Mail"
JAR=$T/jar.carol
sign_in carol "$FILES"
JAR=$T/jar.bob

fetch() { # fetch CLIENT:SECRET [extra curl args]: the vault fetch of connection tp
	local who=$1
	shift
	req POST "$ISSUER/token" -u "$who" -d grant_type=$X -d audience=tp -d requested_token_type=$AT "$@"
}

# ---- before connecting ----
fetch "$FID:$FSEC" -d subject_token="$BOB_FILES" -d subject_token_type=$AT
is "$STATUS" 400 "not connected yet: 400"
is "$(jqr .error)" invalid_grant "invalid_grant"
is "$(jqr .connect_uri)" "$ISSUER/connect/tp" "with connect_uri, for URL elicitation"

# ---- connecting ----
JAR=$T/jar.nobody
browse "$ISSUER/connect/tp"
is "$STATUS" 401 "/connect without a session: 401, sign in first"
JAR=$T/jar.bob
browse "$ISSUER/connect/nothing"
is "$STATUS" 404 "/connect to an unknown connection: 404"
browse "$ISSUER/connect/tp/elsewhere"
is "$STATUS" 404 "an unknown path below it: 404"

# connect_to_tp: /connect/tp in $JAR, then alice signs in and allows at the third party
# (its own jar); CALLBACK is where the third party sends the browser back.
connect_to_tp() {
	local jar=$JAR
	browse "$ISSUER/connect/tp"
	START_STATUS=$STATUS
	START=$LOCATION
	JAR=$T/jar.tp
	browse "$START"
	if printf '%s' "$BODY" | grep -q 'name="password"'; then submit username=alice "password=pass"; fi
	if [ "$STATUS" = 200 ]; then submit decision=allow; fi
	CALLBACK=$LOCATION
	JAR=$jar
}
connect_to_tp
is "$START_STATUS" 303 "/connect/tp: off to the third party"
like "$START" "^$TP/authorize\\?response_type=code&client_id=$TPID&" "at its authorization endpoint"
is "$(qparam code_challenge_method "$START")" S256 "with PKCE S256"
like "$(qparam state "$START")" '^[A-Za-z0-9_-]{43}$' "a 256-bit state"
is "$(qparam resource "$START")" "$API" "the resource (RFC 8707)"
is "$(qparam redirect_uri "$START")" "$ISSUER/connect/tp/callback" "and our callback"
like "$CALLBACK" "^$ISSUER/connect/tp/callback\\?code=" "the third party sends the browser back with a code"
# The state came back in another user's browser: refused, nothing stored.
JAR=$T/jar.carol
browse "$CALLBACK"
is "$STATUS" 403 "the callback in another session: 403"
JAR=$T/jar.bob
browse "$CALLBACK"
is "$STATUS" 400 "and that state is spent: the right browser cannot use it either"
is "$(db_query "SELECT count(*) FROM user_connections")" 0 "nothing was stored"

connect_to_tp
browse "$CALLBACK"
is "$STATUS" 303 "the callback in bob's session: connected"
is "$LOCATION" "$ISSUER/connections?connected=tp" "to the list of connections"
browse "$CALLBACK"
is "$STATUS" 400 "the same callback again: refused (a state is used once)"
browse "$ISSUER/connections"
is "$STATUS" 200 "/connections"
like "$BODY" '<div class="name">tp</div>' "lists tp"
like "$BODY" 'Connected accounts of bob' "for bob"
like "$BODY" 'name="csrf_token" value="[A-Za-z0-9_-]{43}"' "with a disconnect form"
LIST_PAGE=$BODY

# ---- fetching ----
fetch "$FID:$FSEC" -d subject_token="$BOB_FILES" -d subject_token_type=$AT
is "$STATUS" 200 "the Files server fetches bob's third-party token"
TP_TOKEN=$(jqr .access_token)
is "$(jqr .issued_token_type)" "$AT" "issued_token_type: an access token"
is "$(jqr .token_type)" Bearer "token_type Bearer"
is "$(jqr .scope)" repo "scope as granted upstream"
[ "$(jqr .expires_in)" -gt 0 ]
ok $? "expires_in as granted upstream"
is "$(jqr .refresh_token)" null "never the refresh token"
claims=$(jwt_json 2 "$TP_TOKEN")
is "$(jq -r '[.iss, .aud, .sub] | join(" ")' <<<"$claims")" "$TP $API alice" \
	"the third party's token, for its API, for alice"
is "$(tp_introspect "$TP_TOKEN")" true "the third party's API accepts it"
is "$(tp_introspect "$BOB_FILES")" false "and would refuse bob's own token, forwarded (not its issuer)"

# ---- refusals ----
fetch "$MID:$MSEC" -d subject_token="$BOB_MAIL" -d subject_token_type=$AT
is "$STATUS $(jqr .error)" "400 invalid_target" "a server the policy does not name: invalid_target"
fetch "$FID:$FSEC" -d subject_token="$BOB_MAIL" -d subject_token_type=$AT
is "$STATUS $(jqr .error)" "400 invalid_grant" "a subject token for another server (confused deputy): invalid_grant"
fetch "$FID:$FSEC"
is "$STATUS $(jqr .error)" "400 invalid_request" "no subject token: invalid_request"
fetch "$FID:$FSEC" -d subject_token=garbage -d subject_token_type=$AT
is "$STATUS $(jqr .error)" "400 invalid_grant" "a malformed subject token: invalid_grant"
fetch "$FID:$FSEC" -d subject_token="$BOB_FILES" -d subject_token_type=urn:ietf:params:oauth:token-type:id_token
is "$STATUS $(jqr .error)" "400 invalid_request" "another subject_token_type: invalid_request"
req POST "$ISSUER/token" -u "$JID:$JSEC" -d grant_type=client_credentials -d resource="$FILES"
fetch "$FID:$FSEC" -d subject_token="$(jqr .access_token)" -d subject_token_type=$AT
is "$STATUS $(jqr .error)" "400 invalid_grant" "a client's own token names no user: invalid_grant"
JAR=$T/jar.carol
sign_in carol "$FILES"
JAR=$T/jar.bob
fetch "$FID:$FSEC" -d subject_token="$TOKEN" -d subject_token_type=$AT
is "$STATUS $(jqr .error) $(jqr .connect_uri)" "400 invalid_grant $ISSUER/connect/tp" \
	"carol has not connected: her fetch does not get bob's"

# ---- an expired third-party token: one refresh for twenty at once ----
# On PostgreSQL a second node serves the same database, and the twenty go to both: the
# lease that makes one of them refresh is the database's, not a process's.
NODES=("$ISSUER")
if db_is_pg; then
	PORT2=$(free_port)
	"$MCP_AUTHD" serve --listen "127.0.0.1:$PORT2" >/dev/null 2>>"$T/serve2.log" &
	NODE2_PID=$!
	CLEANUP_EXTRA="kill $TP_PID $NODE2_PID"
	wait_http "http://127.0.0.1:$PORT2/healthz"
	ok $? "a second node on the same PostgreSQL database"
	NODES+=("http://127.0.0.1:$PORT2")
fi
refreshes() { tp_db "SELECT count(*) FROM audit WHERE event = 'token.issued' AND reason = 'refresh_token'"; }
before=$(refreshes)
db_exec "UPDATE user_connections SET expires_at = 1"
for i in $(seq 1 20); do
	curl -s -u "$FID:$FSEC" "${NODES[i % ${#NODES[@]}]}/token" -d grant_type=$X -d audience=tp \
		-d requested_token_type=$AT -d subject_token="$BOB_FILES" -d subject_token_type=$AT >"$T/fetch.$i" &
done
wait_fetches() { local i; for i in $(seq 1 20); do [ -s "$T/fetch.$i" ] || return 1; done; }
until_ms 30000 wait_fetches
ok $? "twenty concurrent fetches answered"
sleep 0.3
is "$(cat "$T"/fetch.* | jq -r .access_token | sort -u | wc -l | tr -d ' ')" 1 "all twenty got one token"
NEW_TOKEN=$(jq -r .access_token "$T/fetch.1")
[ "$NEW_TOKEN" != "$TP_TOKEN" ] && [ "$NEW_TOKEN" != null ]
ok $? "a new one"
is "$(($(refreshes) - before))" 1 "the third party saw exactly one refresh"
is "$(tp_introspect "$NEW_TOKEN")" true "and accepts the new token"
if db_is_pg; then
	kill "$NODE2_PID"
	wait "$NODE2_PID" 2>/dev/null
	CLEANUP_EXTRA="kill $TP_PID"
fi

# The third party rotates refresh tokens and revokes the family on reuse: a second
# refresh works only if the new refresh token was stored before the first answer.
db_exec "UPDATE user_connections SET expires_at = 1"
fetch "$FID:$FSEC" -d subject_token="$BOB_FILES" -d subject_token_type=$AT
is "$STATUS" 200 "a second refresh works: the rotated refresh token was kept"
is "$(($(refreshes) - before))" 2 "two refreshes in all"
LAST_TOKEN=$(jqr .access_token)

# ---- the third party refuses the refresh: connect again ----
tp_db "DELETE FROM refresh_tokens" >/dev/null
db_exec "UPDATE user_connections SET expires_at = 1"
fetch "$FID:$FSEC" -d subject_token="$BOB_FILES" -d subject_token_type=$AT
is "$STATUS $(jqr .error)" "400 invalid_grant" "a refused refresh: invalid_grant"
like "$(jqr .error_description)" "^needs_reauthorization" "needs_reauthorization described"
is "$(jqr .connect_uri)" "$ISSUER/connect/tp" "with connect_uri"
fetch "$FID:$FSEC" -d subject_token="$BOB_FILES" -d subject_token_type=$AT
like "$(jqr .error_description)" "^needs_reauthorization" "and so until the user connects again"
browse "$ISSUER/connections"
like "$BODY" "connect again" "the list says so"
connect_to_tp
browse "$CALLBACK"
is "$STATUS" 303 "connecting again"
fetch "$FID:$FSEC" -d subject_token="$BOB_FILES" -d subject_token_type=$AT
is "$STATUS" 200 "mends it"
LAST_TOKEN=$(jqr .access_token)

# ---- nothing in clear ----
db_dump "$T/dump"
for secret in "$LAST_TOKEN" "$NEW_TOKEN" "$TPSEC"; do
	grep -qF -- "$secret" "$T/dump"
	is $? 1 "the database holds no third-party token nor client secret in clear (${secret:0:12}...)"
done
grep -qF -- "$LAST_TOKEN" "$T/serve.log"
is $? 1 "nor the log"
audit=$(authd --json audit tail -n 400)
unlike "$audit" "$LAST_TOKEN" "nor the audit"
is "$(jq '[.[] | select(.event == "credential.fetched" and .sub == "bob")] | length' <<<"$audit")" 23 \
	"every fetch audited, with the user"
like "$(jq -r '[.[] | select(.event == "credential.fetched")][-1].detail' <<<"$audit")" \
	'"fingerprint":"sha256:[0-9a-f]{16}"' "by the token's fingerprint"
[ "$(jq '[.[] | select(.event == "credential.refused")] | length' <<<"$audit")" -ge 9 ]
ok $? "every refusal audited"
is "$(jq '[.[] | select(.event == "connection.connected")] | length' <<<"$audit")" 2 "connects audited"

# ---- disconnecting ----
live_grants() { tp_db "SELECT count(*) FROM token_families f WHERE revoked_at IS NULL AND EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.family_id = f.family_id)"; }
is "$(live_grants)" 1 "bob's grant is alive at the third party"
req POST "$ISSUER/connections" -b "$JAR" --data "disconnect=tp&csrf_token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
is "$STATUS" 403 "a disconnect without the form's token: 403"
BODY=$LIST_PAGE
submit
is "$STATUS" 200 "disconnect"
like "$BODY" "tp is disconnected" "says so"
is "$(tp_introspect "$LAST_TOKEN")" false "the third party revoked the access token"
is "$(live_grants)" 0 "and the grant (RFC 7009)"
fetch "$FID:$FSEC" -d subject_token="$BOB_FILES" -d subject_token_type=$AT
is "$STATUS $(jqr .error)" "400 invalid_grant" "a fetch after: not connected"
is "$(db_query "SELECT count(*) FROM user_connections")" 0 "the tokens are forgotten"

# ---- connection remove ----
authd connection remove tp >/dev/null
ok $? "connection remove"
fetch "$FID:$FSEC" -d subject_token="$BOB_FILES" -d subject_token_type=$AT
is "$STATUS $(jqr .error)" "400 invalid_target" "then the name is unknown: invalid_target"
is "$(db_query "SELECT count(*) FROM resource_credentials WHERE name = 'tp'")" 0 "and so is the policy"

stop_serve
done_testing
