#!/bin/bash
# Discovery over real HTTP: RFC 8414 metadata, JWKS, health, routing, limits, headers.
. "${TOP_SRCDIR:-.}/tests/integ/lib.sh"

init_db
start_serve; ok $? "serve answers /healthz"

req GET "$BASE/.well-known/oauth-authorization-server"
is "$STATUS" 200 "metadata 200"
is "$(jqr .issuer)" "$ISSUER" "issuer"
is "$(jqr .token_endpoint)" "$ISSUER/token" "token endpoint"
is "$(jqr .jwks_uri)" "$ISSUER/jwks.json" "jwks_uri"
is "$(jqr -c .code_challenge_methods_supported)" '["S256"]' "only S256"
is "$(jqr -c .response_types_supported)" '["code"]' "only code"
is "$(jqr .authorization_response_iss_parameter_supported)" true "RFC 9207 iss advertised"
is "$(header Access-Control-Allow-Origin)" "*" "CORS on metadata"
like "$(header Cache-Control)" "max-age" "metadata is cacheable"
META=$BODY
req GET "$BASE/.well-known/openid-configuration"
is "$BODY" "$META" "OpenID alias serves the same document"

req GET "$BASE/jwks.json"
is "$STATUS" 200 "jwks 200"
is "$(jqr '.keys | length')" 2 "active and next key published"
is "$(jqr '[.keys[] | has("d")] | any')" false "no private member"
is "$(jqr '[.keys[].kid] | unique | length')" 2 "distinct kids"
is "$(header Cache-Control)" "public, max-age=600" "Cache-Control max-age = jwks_max_age"
is "$(header Content-Type)" "application/json" "JSON content type"
like "$(header X-Content-Type-Options)" nosniff "nosniff"
is "$(header X-Frame-Options)" DENY "frames denied"

req OPTIONS "$BASE/jwks.json" -H 'Origin: https://app.example' \
	-H 'Access-Control-Request-Headers: mcp-protocol-version'
is "$STATUS" 204 "CORS preflight answered"
like "$(header Access-Control-Allow-Headers)" "MCP-Protocol-Version" "allows MCP-Protocol-Version"

req GET "$BASE/healthz"; is "$STATUS" 200 "healthz"
req GET "$BASE/readyz"; is "$STATUS" 200 "readyz: database and key ready"
req GET "$BASE/no-such-thing"; is "$STATUS" 404 "unknown path 404"
is "$(jqr .error)" not_found "with an error body"
req DELETE "$BASE/jwks.json"; is "$STATUS" 405 "wrong method 405"
like "$(header Allow)" "GET" "with Allow"
req GET "$BASE/dev/token"; is "$STATUS" 404 "dev helpers do not exist in serve"
req POST "$BASE/dev/token" -H 'Content-Type: application/json' -d '{}'
is "$STATUS" 404 "POST /dev/token 404 in serve"
head -c 200000 /dev/zero | tr '\0' a >"$T/big"
req POST "$BASE/jwks.json" --data-binary @"$T/big"
is "$STATUS" 413 "oversized body refused with 413"
is "$(jqr .error)" invalid_request "as an RFC 6749 error"
req POST "$BASE/jwks.json" -H 'Transfer-Encoding: chunked' --data-binary @"$T/big"
is "$STATUS" 413 "oversized chunked body refused with 413"
req GET "$BASE/healthz"; is "$STATUS" 200 "still serving after hostile bodies"
unlike "$(cat "$T/serve.log")" "[?]" "request log holds no query strings"
stop_serve
like "$(cat "$T/serve.log")" "stopped" "SIGTERM stops cleanly"

# An issuer with a path: endpoints below it, metadata also path-inserted (RFC 8414 §3.1).
PORT=$(free_port)
ISSUER="http://127.0.0.1:$PORT/tenant-a"
authd init --issuer "$ISSUER" >/dev/null
BASE="http://127.0.0.1:$PORT/tenant-a"
start_serve; ok $? "serve with a path issuer"
req GET "http://127.0.0.1:$PORT/.well-known/oauth-authorization-server/tenant-a"
is "$STATUS" 200 "path-inserted metadata"
is "$(jqr .issuer)" "$ISSUER" "issuer with its path"
is "$(jqr .jwks_uri)" "$ISSUER/jwks.json" "endpoints below the issuer path"
req GET "$ISSUER/.well-known/openid-configuration"; is "$STATUS" 200 "OIDC appended form"
req GET "$ISSUER/jwks.json"; is "$STATUS" 200 "jwks below the issuer path"
req GET "http://127.0.0.1:$PORT/jwks.json"; is "$STATUS" 404 "nothing outside the issuer path"
stop_serve

# serve refuses to start without a master key.
MCP_AUTHD_MASTER_KEY_FILE="$T/missing.key" authd serve --listen "127.0.0.1:$PORT" 2>"$T/err"
is $? 1 "serve refuses to start without a master key"
like "$(cat "$T/err")" "master key" "and says so"
head -c 32 /dev/urandom | base64 >"$T/wrong.key"
chmod 600 "$T/wrong.key"
MCP_AUTHD_MASTER_KEY_FILE="$T/wrong.key" authd serve --listen "127.0.0.1:$PORT" 2>"$T/err"
is $? 1 "a wrong master key is a clear error, not a crash"
like "$(cat "$T/err")" "do not open with this master key" "names the problem"

done_testing
