#!/bin/bash
# The keys of ID-JAG issuers and of key clients, fetched by URL (--jwks-uri): cached, an
# unknown kid refetches at most once a minute (a rotation is picked up, a flood of forged
# kids is not a flood of fetches), and a dead JWKS is refused without a 5xx. Served by a
# plain local HTTP server whose access log counts the fetches.
. "${TOP_SRCDIR:-.}/tests/integ/lib.sh"
/usr/bin/python3 -c 'import jwcrypto' 2>/dev/null || skip_all "python3-jwcrypto is not installed"

forge() { /usr/bin/python3 "$TOP_SRCDIR/tests/integ/jwtforge.py" "$@"; }
init_db
RES=https://files.example.com/mcp
authd resource add "$RES" --name Files --scopes "files:read" >/dev/null
mkdir -p "$T/www"
for k in idp1 idp2 kc1 kc2; do forge keygen EC "$T" "$k"; done
cp "$T/idp1.jwks" "$T/www/idp.json"
cp "$T/kc1.jwks" "$T/www/client.json"
WWW_PORT=$(free_port)
(cd "$T/www" && exec /usr/bin/python3 -m http.server --bind 127.0.0.1 "$WWW_PORT") \
	2>"$T/www.log" >/dev/null &
WWW_PID=$!
CLEANUP_EXTRA='kill $WWW_PID 2>/dev/null'
wait_http "http://127.0.0.1:$WWW_PORT/idp.json" || { echo "Bail out! no JWKS server"; exit 1; }
: >"$T/www.log"
WWW=http://127.0.0.1:$WWW_PORT
fetches() { grep -c "GET /$1 " "$T/www.log"; }

authd idp add corp --issuer https://corp.example.com --jwks-uri "$WWW/idp.json" --id-jag --jit \
	--allow-private >/dev/null
authd idp add dead --issuer https://dead.example.com --jwks-uri http://127.0.0.1:1/jwks \
	--id-jag --jit --allow-private >/dev/null
OUT=$(authd --json client add --name Agent --confidential --grant jwt-bearer)
AGENT=$(jq -r .client_id <<<"$OUT")
AGENT_SECRET=$(jq -r .client_secret <<<"$OUT")
KC=$(authd --json client add --name Job --jwks-uri "$WWW/client.json" --resource "$RES" |
	jq -r .client_id)
start_serve || { echo "Bail out! the server does not start"; exit 1; }

# id_jag KEY [ISSUER]: an ID-JAG for the agent, signed by KEY, with a fresh jti (these run
# in command substitutions: no counter survives them).
id_jag() {
	local N=$RANDOM$RANDOM$RANDOM
	forge sign "$T/$1.jwk" ES256 '{"typ":"oauth-id-jag+jwt"}' \
		"{\"iss\":\"${2:-https://corp.example.com}\",\"sub\":\"u$N\",\"aud\":\"$ISSUER\",\"client_id\":\"$AGENT\",\"jti\":\"g$N\",\"iat\":\"+0\",\"exp\":\"+120\",\"resource\":\"$RES\",\"scope\":\"files:read\"}"
}
present() {
	req POST "$BASE/token" -u "$AGENT:$AGENT_SECRET" \
		-d grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer --data-urlencode assertion="$1"
}
# client_assertion KEY: for the key client, signed by KEY.
client_assertion() {
	local N=$RANDOM$RANDOM$RANDOM
	forge sign "$T/$1.jwk" ES256 '{"typ":"JWT"}' \
		"{\"iss\":\"$KC\",\"sub\":\"$KC\",\"aud\":\"$ISSUER\",\"jti\":\"c$N\",\"exp\":\"+60\"}"
}
cc() {
	req POST "$BASE/token" -d grant_type=client_credentials -d resource="$RES" \
		-d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \
		--data-urlencode client_assertion="$1"
}

present "$(id_jag idp1)"
is "$STATUS" 200 "an ID-JAG signed by the issuer's key at its jwks_uri"
present "$(id_jag idp1)"
is "$STATUS" 200 "a second one"
is "$(fetches idp.json)" 1 "the JWKS was fetched once (cached)"
cc "$(client_assertion kc1)"
is "$STATUS" 200 "a key client whose keys are at its jwks_uri"
cc "$(client_assertion kc1)"
is "$STATUS/$(fetches client.json)" 200/1 "again, from the cache"

# The issuer and the client rotate to new keys.
cp "$T/idp2.jwks" "$T/www/idp.json"
cp "$T/kc2.jwks" "$T/www/client.json"
ROTATED=$SECONDS
present "$(id_jag idp2)"
is "$STATUS/$(jqr .error)" 400/invalid_grant "a new kid within a minute of the fetch: refused"
like "$(jqr .error_description)" "no key of the JWKS" "as signed by no known key"
for i in 1 2 3 4 5; do present "$(id_jag idp2)"; done
is "$(fetches idp.json)" 1 "unknown kids do not refetch within the cool-down"
cc "$(client_assertion kc2)"
is "$STATUS/$(jqr .error)" 401/invalid_client "the client's new key within the cool-down: refused"
is "$(fetches client.json)" 1 "and not refetched"
present "$(id_jag idp1)"
is "$STATUS" 200 "the old key still works from the cache meanwhile"

# After the cool-down an unknown kid refetches: the rotation is picked up.
sleep $((62 - (SECONDS - ROTATED)))
present "$(id_jag idp2)"
is "$STATUS" 200 "after the cool-down the new kid refetches the JWKS and passes"
is "$(fetches idp.json)" 2 "one refetch"
cc "$(client_assertion kc2)"
is "$STATUS" 200 "the client's new key too"
is "$(fetches client.json)" 2 "one refetch of the client's JWKS"
present "$(id_jag idp1)"
is "$STATUS/$(jqr .error)" 400/invalid_grant "the retired key no longer verifies"
is "$(fetches idp.json)" 2 "and asking for it refetches nothing (cool-down)"

# A JWKS nobody serves: refused as unavailable, never a 5xx, and not retried per request.
present "$(id_jag idp1 https://dead.example.com)"
is "$STATUS/$(jqr .error)" 400/invalid_grant "an issuer whose JWKS cannot be fetched: invalid_grant"
like "$(jqr .error_description)" "keys are unavailable" "saying so"
JAG=$(id_jag idp1 https://dead.example.com) # made outside the timed part: python is slow to start
START=$(date +%s%N)
present "$JAG"
is "$STATUS" 400 "again"
MS=$(( ($(date +%s%N) - START) / 1000000 ))
[ "$MS" -lt 2000 ]
ok $? "answered at once: the failure is remembered (${MS} ms)"
like "$(cat "$T/serve.log")" "ID-JAG issuer dead: its keys are unavailable" "the log says why"

# ---- https: an http --jwks-uri only with allow_insecure_issuer, and certificates checked ----
# (Everything above runs with allow_insecure_issuer, as lib.sh sets it for a local issuer.)
start_https_fixture
cp "$T/idp1.jwks" "$FIXTURE_DIR/idp.json"
cp "$T/kc1.jwks" "$FIXTURE_DIR/client.json"
TLS=https://127.0.0.1:$FIXTURE_PORT
OUT=$(MCP_AUTHD_ALLOW_INSECURE_ISSUER=false authd idp add plain --issuer https://plain.example.com \
	--jwks-uri "$WWW/idp.json" --id-jag --jit --allow-private 2>&1)
is "$?" 1 "idp add: an http --jwks-uri is refused without allow_insecure_issuer"
like "$OUT" "--jwks-uri: .*must use https" "saying it must be https"
is "$(authd --json idp list | jq '[.[] | select(.name == "plain")] | length')" 0 "and adds nothing"
MCP_AUTHD_ALLOW_INSECURE_ISSUER=false authd idp add tls --issuer https://tls.example.com \
	--jwks-uri "$TLS/idp.json" --id-jag --jit --allow-private >/dev/null
is "$?" 0 "an https --jwks-uri is accepted"
is "$(authd --json idp list | jq -r '.[] | select(.name == "tls") | .jwks_uri')" "$TLS/idp.json" \
	"and stored as given"
OUT=$(MCP_AUTHD_ALLOW_INSECURE_ISSUER=false authd --json client add --name Plain \
	--jwks-uri "$WWW/client.json" --resource "$RES" 2>&1)
is "$?" 1 "client add: an http --jwks-uri is refused without allow_insecure_issuer"
like "$OUT" "--jwks-uri: .*must use https" "saying so"
OUT=$(MCP_AUTHD_ALLOW_INSECURE_ISSUER=false authd --json client add --name Tls \
	--jwks-uri "$TLS/client.json" --resource "$RES")
is "$?" 0 "an https one is accepted"
TLS_KC=$(jq -r .client_id <<<"$OUT")
# The fixture's certificate is self-signed: nothing the server trusts (the system's CAs)
# vouches for it, so the keys are unavailable and the ID-JAG refused, and no JWKS is read
# over that connection.
present "$(id_jag idp1 https://tls.example.com)"
is "$STATUS/$(jqr .error)" 400/invalid_grant \
	"an ID-JAG whose issuer's https JWKS has an untrusted certificate: invalid_grant"
like "$(jqr .error_description)" "keys are unavailable" "its keys are unavailable"
like "$(cat "$T/serve.log")" "ID-JAG issuer tls: its keys are unavailable: .*(SSL|certificate)" \
	"the log names the certificate"
cc "$(KC=$TLS_KC client_assertion kc1)"
is "$STATUS/$(jqr .error)" 401/invalid_client "so is a key client's assertion: invalid_client"
is "$(cat "$FIXTURE_DIR/requests.log" 2>/dev/null | grep -c 'json$')" 0 \
	"no request reached the fixture: the handshakes failed first"

# ---- outbound_ca_file: the enterprise's own CA, for every outbound fetch ----
OUT=$(MCP_AUTHD_OUTBOUND_CA_FILE=$T/no-such.pem authd check-config 2>&1)
is "$?" 1 "an outbound_ca_file that cannot be read stops the command"
like "$OUT" "outbound_ca_file: cannot read .*no-such.pem" "naming the file"
stop_serve
MCP_AUTHD_OUTBOUND_CA_FILE=$FIXTURE_CA start_serve ||
	{ echo "Bail out! the server does not start with outbound_ca_file"; exit 1; }
present "$(id_jag idp1 https://tls.example.com)"
is "$STATUS" 200 "with outbound_ca_file naming the fixture's CA, an ID-JAG verified against the https JWKS: 200"
jwt_json "$(jqr .access_token)" | jq -e --arg a "$RES" '.aud == $a' >/dev/null
ok $? "  a token for the resource"
cc "$(KC=$TLS_KC client_assertion kc1)"
is "$STATUS" 200 "and a key client whose JWKS is at that https URL authenticates: 200"
is "$(grep -c 'idp.json$' "$FIXTURE_DIR/requests.log")/$(grep -c 'client.json$' "$FIXTURE_DIR/requests.log")" \
	1/1 "each JWKS was fetched once, over https"
present "$(id_jag idp2 https://tls.example.com)"
is "$STATUS/$(jqr .error)" 400/invalid_grant "a CA that is trusted does not make a foreign key good"
done_testing
