#!/bin/bash
# MCP client registration against the real daemon: RFC 7591 dynamic registration (open,
# token-gated, off; validation; rate limit; audit) and Client ID Metadata Documents
# fetched from a loopback HTTPS fixture (validation, limits, SSRF refusals, caching).
. "${TOP_SRCDIR:-.}/tests/integ/lib.sh"

init_db
RES=https://files.example.com/mcp
authd resource add "$RES" --name Files --scopes "read write" >/dev/null
printf 'pw-alice\n' | authd user add alice --password-stdin >/dev/null
export MCP_AUTHD_REGISTRATION_RATE=1000
start_serve

register() { # register JSON [curl args...]
	local body=$1
	shift
	req POST "$BASE/register" -H 'Content-Type: application/json' --data "$body" "$@"
}
GOOD='{"redirect_uris":["http://127.0.0.1:3000/callback"],"client_name":"Claude","token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"],"response_types":["code"]}'

# ---- the registration policy: token by default for serve ----
req GET "$BASE/.well-known/oauth-authorization-server"
is "$(jqr .registration_endpoint)" "$ISSUER/register" "metadata advertises the registration endpoint"
is "$(jqr .client_id_metadata_document_supported)" true "and client ID metadata documents"
register "$GOOD"
is "$STATUS" 401 "serve: registration needs an initial access token"
is "$(jqr .error)" invalid_token "invalid_token"
like "$(header WWW-Authenticate)" '^Bearer error="invalid_token"' "with a Bearer challenge"
TOKEN=$(authd --json client registration-token --ttl 60 | jq -r .registration_token)
register "$GOOD" -H "Authorization: Bearer $TOKEN"
is "$STATUS" 201 "with the token: 201 Created"
is "$(header Cache-Control)" no-store "no-store"
is "$(header Access-Control-Allow-Origin)" "*" "CORS for browser clients"
CID=$(jqr .client_id)
like "$CID" '^[A-Za-z0-9_-]{22}$' "a client_id"
is "$(jqr -c .redirect_uris)" '["http://127.0.0.1:3000/callback"]' "redirect_uris echoed"
is "$(jqr .token_endpoint_auth_method)" none "token_endpoint_auth_method echoed"
is "$(jqr -c .grant_types)" '["authorization_code","refresh_token"]' "grant_types echoed"
is "$(jqr -c .response_types)" '["code"]' "response_types echoed"
is "$(jqr .client_name)" Claude "client_name echoed"
like "$(jqr .client_id_issued_at)" '^[0-9]{10}$' "client_id_issued_at"
is "$(jqr 'has("client_secret")')" false "no secret for a public client"
register "$GOOD" -H "Authorization: Bearer wrong-token"
is "$STATUS" 401 "a wrong initial access token: 401"
SHORT=$(authd --json client registration-token --ttl 1 | jq -r .registration_token)
sleep 2
register "$GOOD" -H "Authorization: Bearer $SHORT"
is "$STATUS" 401 "an expired initial access token: 401"
is "$(authd client list --json | jq -r ".[] | select(.client_id == \"$CID\") | .origin")" dcr \
	"client list shows how the client was created"
stop_serve

# ---- open registration: validation ----
export MCP_AUTHD_REGISTRATION=open
start_serve
reg_error() { # reg_error WANT-ERROR DESCRIPTION JSON
	register "$3"
	is "$STATUS" 400 "$2: 400"
	is "$(jqr .error)" "$1" "$2: $1"
}
reg_error invalid_redirect_uri "no redirect_uris" '{"client_name":"x"}'
reg_error invalid_redirect_uri "empty redirect_uris" '{"redirect_uris":[]}'
reg_error invalid_redirect_uri "plain http elsewhere" '{"redirect_uris":["http://app.example.com/cb"]}'
reg_error invalid_redirect_uri "a fragment" '{"redirect_uris":["https://app.example.com/cb#x"]}'
reg_error invalid_redirect_uri "a private-use scheme for a web client" '{"redirect_uris":["com.example.app:/cb"]}'
reg_error invalid_redirect_uri "javascript:" '{"redirect_uris":["javascript:alert(1)"],"application_type":"native"}'
reg_error invalid_redirect_uri "not a string" '{"redirect_uris":[42]}'
reg_error invalid_client_metadata "unknown auth method" '{"redirect_uris":["https://a.example.com/cb"],"token_endpoint_auth_method":"tls_client_auth"}'
reg_error invalid_client_metadata "private_key_jwt without keys" '{"redirect_uris":["https://a.example.com/cb"],"token_endpoint_auth_method":"private_key_jwt"}'
reg_error invalid_client_metadata "client_credentials" '{"redirect_uris":["https://a.example.com/cb"],"grant_types":["client_credentials"]}'
reg_error invalid_client_metadata "implicit response type" '{"redirect_uris":["https://a.example.com/cb"],"response_types":["token"]}'
reg_error invalid_client_metadata "grant types without authorization_code" '{"redirect_uris":["https://a.example.com/cb"],"grant_types":["refresh_token"]}'
reg_error invalid_client_metadata "unknown application_type" '{"redirect_uris":["https://a.example.com/cb"],"application_type":"tv"}'
reg_error invalid_client_metadata "client_name too long" "{\"redirect_uris\":[\"https://a.example.com/cb\"],\"client_name\":\"$(printf 'a%.0s' $(seq 201))\"}"
reg_error invalid_client_metadata "logo_uri over http" '{"redirect_uris":["https://a.example.com/cb"],"logo_uri":"http://a.example.com/logo.png"}'
reg_error invalid_client_metadata "a JSON array" '[1,2]'
reg_error invalid_client_metadata "\\u0000 in a string (jansson without JSON_ALLOW_NUL)" \
	'{"redirect_uris":["https://a.example.com/cb"],"client_name":"App\u0000Admin"}'
reg_error invalid_client_metadata "not JSON" 'client_name=x'
reg_error invalid_client_metadata "duplicate members" '{"redirect_uris":["https://a.example.com/cb"],"client_name":"a","client_name":"b"}'
req POST "$BASE/register" -H 'Content-Type: application/x-www-form-urlencoded' --data 'redirect_uris=x'
is "$(jqr .error)" invalid_client_metadata "a form body: invalid_client_metadata"
register '{"redirect_uris":["com.example.app:/cb"],"application_type":"native","token_endpoint_auth_method":"none"}'
is "$STATUS" 201 "a native app may use a private-use scheme"
is "$(jqr .application_type)" native "application_type echoed"
register '{"redirect_uris":["https://a.example.com/cb"],"client_name":"Web app","unknown_member":1}'
is "$STATUS" 201 "unknown members are ignored"
is "$(jqr 'has("unknown_member")')" false "and not echoed"
is "$(jqr .token_endpoint_auth_method)" client_secret_basic "the default method is client_secret_basic"
CONF_ID=$(jqr .client_id)
CONF_SECRET=$(jqr .client_secret)
like "$CONF_SECRET" '^[A-Za-z0-9_-]{43}$' "a confidential client gets a secret"
is "$(jqr .client_secret_expires_at)" 0 "that does not expire"
req POST "$BASE/introspect" -u "$CONF_ID:$CONF_SECRET" -d token=x
is "$STATUS" 200 "the secret authenticates the client"
req POST "$BASE/introspect" -u "$CONF_ID:wrong" -d token=x
is "$STATUS" 401 "a wrong one does not"
db_dump "$T/bytes"
grep -qF -- "$CONF_SECRET" "$T/bytes"; is $? 1 "the secret is not stored in clear"

# A key client (private_key_jwt): its public keys inline or by https URL; no secret.
KEY_REGS=0
if /usr/bin/python3 -c 'import jwcrypto' 2>/dev/null; then
	forge() { /usr/bin/python3 "$TOP_SRCDIR/tests/integ/jwtforge.py" "$@"; }
	forge keygen EC "$T" dcrkey
	forge keygen OKP "$T" other
	KEYS=$(cat "$T/dcrkey.jwks")
	PRIV=$(jq -c '.keys[0] + {d: "AAAA"}' "$T/dcrkey.jwks")
	reg_error invalid_client_metadata "jwks with a private key" \
		"{\"redirect_uris\":[\"https://a.example.com/cb\"],\"token_endpoint_auth_method\":\"private_key_jwt\",\"jwks\":{\"keys\":[$PRIV]}}"
	reg_error invalid_client_metadata "jwks and jwks_uri both" \
		"{\"redirect_uris\":[\"https://a.example.com/cb\"],\"token_endpoint_auth_method\":\"private_key_jwt\",\"jwks\":$KEYS,\"jwks_uri\":\"https://a.example.com/jwks\"}"
	reg_error invalid_client_metadata "jwks_uri over http" \
		'{"redirect_uris":["https://a.example.com/cb"],"token_endpoint_auth_method":"private_key_jwt","jwks_uri":"http://a.example.com/jwks"}'
	reg_error invalid_client_metadata "jwks for a secret client" \
		"{\"redirect_uris\":[\"https://a.example.com/cb\"],\"jwks\":$KEYS}"
	register "{\"redirect_uris\":[\"https://a.example.com/cb\"],\"token_endpoint_auth_method\":\"private_key_jwt\",\"jwks\":$KEYS}"
	is "$STATUS" 201 "a private_key_jwt client with jwks registers"
	is "$(jqr 'has("client_secret")')/$(jqr .token_endpoint_auth_method)" false/private_key_jwt \
		"no secret; the method echoed"
	is "$(jqr '.jwks.keys | length')" 1 "its keys echoed"
	KID=$(jqr .client_id)
	assertion() { # assertion KEY JTI
		forge sign "$T/$1.jwk" ES256 '{"typ":"JWT"}' \
			"{\"iss\":\"$KID\",\"sub\":\"$KID\",\"aud\":\"$ISSUER\",\"exp\":\"+60\",\"jti\":\"$2\"}"
	}
	req POST "$BASE/revoke" -d token=x \
		-d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \
		--data-urlencode client_assertion="$(assertion dcrkey r1)"
	is "$STATUS" 200 "it authenticates with a client assertion (at /revoke)"
	req POST "$BASE/revoke" -d token=x \
		-d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \
		--data-urlencode client_assertion="$(assertion dcrkey r1)"
	is "$STATUS/$(jqr .error)" 401/invalid_client "the same assertion again: replay refused"
	req POST "$BASE/revoke" -d token=x -u "$KID:some-secret"
	is "$STATUS" 401 "and never with a secret"
	register '{"redirect_uris":["https://a.example.com/cb"],"token_endpoint_auth_method":"private_key_jwt","jwks_uri":"https://keys.example.com/jwks.json"}'
	is "$STATUS/$(jqr .jwks_uri)" 201/https://keys.example.com/jwks.json "or with an https jwks_uri"
	KEY_REGS=2
fi

# A registered client runs the code flow.
register "$GOOD"
PUB=$(jqr .client_id)
pkce
browse "$BASE/authorize?response_type=code&client_id=$PUB&redirect_uri=http://127.0.0.1:3000/callback&code_challenge=$CHALLENGE&code_challenge_method=S256&resource=$RES"
is "$STATUS" 200 "a registered client gets the login page"
like "$BODY" "Claude" "with its name"
like "$BODY" 'class="unverified">\(a name it chose itself, not verified by' \
	"marked as chosen by itself: anyone can register as \"Claude\""
submit username=alice password=pw-alice
like "$BODY" 'This application registered itself: its name is its own choice' \
	"the consent page says so too"
submit decision=allow
req POST "$BASE/token" -d grant_type=authorization_code -d client_id="$PUB" -d code="$(qparam code "$LOCATION")" \
	-d code_verifier="$VERIFIER" -d redirect_uri=http://127.0.0.1:3000/callback
is "$STATUS" 200 "and a token"
is "$(authd audit tail -n 100 --json | jq '[.[] | select(.event == "client.registered")] | length')" \
	$((4 + KEY_REGS)) "each registration audited"
stop_serve

# ---- rate limit per source address ----
# The count lives in the database, where every node (and a restarted one) sees it. The
# budget is per minute, so the whole part, restart included, must fall inside one window:
# each try starts from an empty budget with at least 25 s of the minute left, and a try
# that still crosses into the next minute (a slow machine) runs again.
export MCP_AUTHD_REGISTRATION_RATE=2
for try in 1 2 3; do
	while [ "$(date +%S | sed 's/^0//')" -gt 35 ]; do sleep 1; done
	minute=$(date +%M)
	db_exec "DELETE FROM rate_limits"
	start_serve
	register "$GOOD"; first=$STATUS
	register "$GOOD"; second=$STATUS
	register "$GOOD"; third=$STATUS; retry_after=$(header Retry-After)
	stop_serve
	start_serve
	register "$GOOD"; after_restart=$STATUS
	stop_serve
	[ "$(date +%M)" = "$minute" ] && break
done
is "$first" 201 "first registration"
is "$second" 201 "second registration"
is "$third" 429 "third within the minute: 429"
like "$retry_after" '^[0-9]+$' "with Retry-After"
is "$after_restart" 429 "a restart does not reset the budget (it is kept in the database)"
export MCP_AUTHD_REGISTRATION_RATE=1000

# ---- registration off ----
MCP_AUTHD_REGISTRATION=off start_serve
register "$GOOD"
is "$STATUS" 404 "registration off: 404"
req GET "$BASE/.well-known/oauth-authorization-server"
is "$(jqr 'has("registration_endpoint")')" false "and not advertised"
stop_serve

# ---- Client ID Metadata Documents ----
start_https_fixture
DOCS="https://127.0.0.1:$FIXTURE_PORT"
doc() { # doc NAME JSON: publish a document
	printf '%s' "$2" >"$FIXTURE_DIR/$1"
}
CLIENT_URL="$DOCS/client.json"
doc client.json "{\"client_id\":\"$CLIENT_URL\",\"client_name\":\"Doc <Client>\",\"redirect_uris\":[\"http://127.0.0.1:4000/cb\"],\"token_endpoint_auth_method\":\"none\",\"grant_types\":[\"authorization_code\",\"refresh_token\"]}"
echo "max-age=3600" >"$FIXTURE_DIR/client.json.cc"
export MCP_AUTHD_CIMD_ALLOW_PRIVATE=true MCP_AUTHD_CIMD_CA_FILE="$FIXTURE_CA"
start_serve
enc() { "$PYTHON3" -c 'import sys, urllib.parse as u; print(u.quote(sys.argv[1], safe=""))' "$1"; }
cimd_authz() { # cimd_authz CLIENT-URL [REDIRECT]
	pkce
	browse "$BASE/authorize?response_type=code&client_id=$(enc "$1")&redirect_uri=$(enc "${2:-http://127.0.0.1:4000/cb}")&code_challenge=$CHALLENGE&code_challenge_method=S256&resource=$RES&state=s"
}
rm -f "$T/jar" # a new browser: no session yet
cimd_authz "$CLIENT_URL"
is "$STATUS" 200 "a client_id URL: the document is fetched and the login page shown"
like "$BODY" 'name="password"' "the login page"
like "$BODY" "Doc &lt;Client&gt;" "the document's client_name, escaped"
like "$BODY" '<span class="vouch">from 127.0.0.1</span>' "with the host that vouches for it"
unlike "$BODY" 'class="unverified"' "not marked as self-chosen: its host publishes it"
submit username=alice password=pw-alice
like "$BODY" 'Its description is published by <strong>127.0.0.1</strong>' "consent names the host too"
like "$BODY" "only receives answers on this computer" "consent warns: loopback-only redirect URIs"
like "$BODY" 'class="host">127.0.0.1<' "and shows the redirect host"
submit decision=allow
CODE=$(qparam code "$LOCATION")
req POST "$BASE/token" -d grant_type=authorization_code -d client_id="$CLIENT_URL" -d code="$CODE" \
	-d code_verifier="$VERIFIER" -d redirect_uri=http://127.0.0.1:4000/cb
is "$STATUS" 200 "the document's client redeems its code"
is "$(jwt_json 2 "$(jqr .access_token)" | jq -r .client_id)" "$CLIENT_URL" "client_id is the URL"
is "$(grep -c '^/client.json$' "$FIXTURE_DIR/requests.log")" 1 "fetched once"
doc client.json '{"changed":true}'
cimd_authz "$CLIENT_URL"
is "$STATUS" 303 "cached per Cache-Control: the changed document is not fetched again"
is "$(grep -c '^/client.json$' "$FIXTURE_DIR/requests.log")" 1 "still one fetch"
is "$(authd client list --json | jq -r ".[] | select(.client_id == \"$CLIENT_URL\") | .origin")" cimd \
	"client list shows it came from a metadata document"

cimd_refused() { # cimd_refused DESCRIPTION CLIENT-URL [REDIRECT]
	cimd_authz "$2" "${3:-}"
	is "$STATUS" 400 "$1: 400 page"
	check "$1: no redirect" no_location_header
}
no_location_header() { [ -z "$(header Location)" ]; }
doc other.json "{\"client_id\":\"$DOCS/other.json\",\"redirect_uris\":[\"http://127.0.0.1:4000/cb\"]}"
cimd_refused "a redirect_uri not in the document" "$DOCS/other.json" http://127.0.0.1:4000/elsewhere
doc wrongid.json "{\"client_id\":\"$DOCS/elsewhere.json\",\"redirect_uris\":[\"http://127.0.0.1:4000/cb\"]}"
cimd_refused "client_id not the document's URL" "$DOCS/wrongid.json"
doc nul.json "{\"client_id\":\"$DOCS/nul.json\",\"client_name\":\"App\\u0000Admin\",\"redirect_uris\":[\"http://127.0.0.1:4000/cb\"],\"token_endpoint_auth_method\":\"none\"}"
grep -q 'App\\u0000Admin' "$FIXTURE_DIR/nul.json"; ok $? "(the document holds the escape \\u0000)"
cimd_refused "a document with \\u0000 in a string" "$DOCS/nul.json"
doc noredirects.json "{\"client_id\":\"$DOCS/noredirects.json\"}"
cimd_refused "no redirect_uris" "$DOCS/noredirects.json"
doc secret.json "{\"client_id\":\"$DOCS/secret.json\",\"redirect_uris\":[\"http://127.0.0.1:4000/cb\"],\"client_secret\":\"x\"}"
cimd_refused "a document with a client secret" "$DOCS/secret.json"
doc basic.json "{\"client_id\":\"$DOCS/basic.json\",\"redirect_uris\":[\"http://127.0.0.1:4000/cb\"],\"token_endpoint_auth_method\":\"client_secret_basic\"}"
cimd_refused "token_endpoint_auth_method other than none" "$DOCS/basic.json"
doc text.txt "{\"client_id\":\"$DOCS/text.txt\",\"redirect_uris\":[\"http://127.0.0.1:4000/cb\"]}"
cimd_refused "a document not served as JSON" "$DOCS/text.txt"
doc broken.json "{\"client_id\":"
cimd_refused "invalid JSON" "$DOCS/broken.json"
cimd_refused "a document larger than 64 KiB" "$DOCS/big.json"
cimd_refused "a redirect instead of the document" "$DOCS/redirect.json"
cimd_refused "a missing document" "$DOCS/missing.json"
start=$(date +%s)
cimd_refused "a document slower than 5 s" "$DOCS/slow.json"
[ $(($(date +%s) - start)) -le 7 ]; ok $? "the slow fetch was cut off at the timeout"
cimd_refused "a client_id URL without a path" "$DOCS"
browse "$BASE/authorize?response_type=code&client_id=$(enc "http://127.0.0.1:$FIXTURE_PORT/client.json")&code_challenge=$CHALLENGE&code_challenge_method=S256&resource=$RES"
is "$STATUS" 400 "an http client_id is just an unknown client"
req GET "$BASE/healthz"
is "$STATUS" 200 "the server still answers"
stop_serve

# Private and loopback addresses are refused unless allowed; a domain list restricts hosts.
rm -f "$FIXTURE_DIR/requests.log"
doc fresh.json "{\"client_id\":\"$DOCS/fresh.json\",\"redirect_uris\":[\"http://127.0.0.1:4000/cb\"]}"
MCP_AUTHD_CIMD_ALLOW_PRIVATE=false start_serve
cimd_refused "a loopback document host (SSRF)" "$DOCS/fresh.json"
[ ! -s "$FIXTURE_DIR/requests.log" ]; ok $? "and nothing was fetched"
stop_serve
MCP_AUTHD_CIMD_ALLOWED_DOMAINS="example.com" start_serve
cimd_refused "a host outside cimd_allowed_domains" "$DOCS/fresh.json"
stop_serve
stop_https_fixture

done_testing
