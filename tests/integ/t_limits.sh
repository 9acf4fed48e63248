#!/bin/bash
# Request limits against the real daemon: parameter count and length, body size, header
# size, connections per address (the forwarded client's behind a trusted proxy), and
# connections that send too slowly or not at all. Each refusal, and a request right at
# each limit that must still pass.
. "${TOP_SRCDIR:-.}/tests/integ/lib.sh"

init_db
FILES=https://files.example.com/mcp
authd resource add "$FILES" --name Files --scopes files:read >/dev/null
APP=$(authd --json client add --name Notes --public --redirect-uri http://127.0.0.1/callback |
	jq -r .client_id)
enc() { "$PYTHON3" -c 'import sys, urllib.parse as u; print(u.quote(sys.argv[1], safe=""))' "$1"; }
pkce
AUTHZ="$BASE/authorize?response_type=code&client_id=$APP&redirect_uri=$(enc http://127.0.0.1/callback)"
AUTHZ="$AUTHZ&code_challenge=$CHALLENGE&code_challenge_method=S256&resource=$(enc "$FILES")"
raw() { "$PYTHON3" "$TOP_SRCDIR/tests/integ/limits.py" "$@"; }
rep() { "$PYTHON3" -c 'import sys; print(sys.argv[1] * int(sys.argv[2]), end="")' "$1" "$2"; }
pairs() { # pairs N: "grant_type=x&p2=1&...&pN=1", N parameters in all
	local i s="grant_type=x"
	for ((i = 2; i <= $1; i++)); do s="$s&p$i=1"; done
	printf '%s' "$s"
}
post_token() { req POST "$BASE/token" -H 'Content-Type: application/x-www-form-urlencoded' "$@"; }
limited() { curl -s "$BASE/metrics" | awk -v k="mcp_authd_limited_total{limit=\"$1\"}" '$1 == k { print $2 }'; }

# ---- defaults ----
start_serve
like "$(authd check-config | grep '^max_connections_per_ip ')" "= 256 " \
	"per-address connections: 256 by default (at least 128 for real deployments)"
like "$(authd check-config | grep '^max_params ')" "= 64 " "max_params: 64 by default"
like "$(authd check-config | grep '^max_param_length ')" "= 8192 " "max_param_length: 8192 by default"
sleep 0.3 # let the server see the last test's connections go (here and below)
is "$(raw conns "$PORT" 127.0.0.1 130)" "alive=130 status=200" \
	"130 connections from one address are fine by default"
post_token --data "$(pairs 64)"
is "$(jqr .error)" unsupported_grant_type "64 parameters pass by default"
stop_serve

# ---- tight limits ----
export MCP_AUTHD_MAX_PARAMS=10 MCP_AUTHD_MAX_PARAM_LENGTH=100 MCP_AUTHD_MAX_BODY=2048
export MCP_AUTHD_MAX_CONNECTIONS_PER_IP=4 MCP_AUTHD_CONNECTION_TIMEOUT=2
start_serve

# Parameter count, body (JSON endpoints: RFC 6749 invalid_request).
post_token --data "$(pairs 10)"
is "$STATUS $(jqr .error)" "400 unsupported_grant_type" "/token: 10 parameters (the limit) pass"
post_token --data "$(pairs 11)"
is "$STATUS $(jqr .error)" "400 invalid_request" "/token: 11 parameters: 400 invalid_request"
is "$(jqr .error_description)" "too many parameters" "saying why"
post_token --data "grant_type=x&v=$(rep a 100)"
is "$(jqr .error)" unsupported_grant_type "/token: a value of 100 bytes (the limit) passes"
post_token --data "grant_type=x&v=$(rep a 101)"
is "$STATUS $(jqr .error)" "400 invalid_request" "/token: a value of 101 bytes: 400 invalid_request"
is "$(jqr .error_description)" "a parameter is too long" "saying why"
post_token --data "grant_type=x&$(rep n 101)=1"
is "$STATUS $(jqr .error)" "400 invalid_request" "/token: a name of 101 bytes: 400"
post_token --data "grant_type=x&v=$(rep %41 101)"
is "$STATUS $(jqr .error)" "400 invalid_request" "/token: the length counts decoded bytes"
req POST "$BASE/revoke" -H 'Content-Type: application/x-www-form-urlencoded' --data "$(pairs 11)"
is "$STATUS $(jqr .error)" "400 invalid_request" "/revoke: 11 parameters: 400 invalid_request"

post_token --data "grant_type=x&pad=$(rep a 2031)"
is "$STATUS" 400 "a body of 2048 bytes (max_body) is read"
post_token --data "grant_type=x&pad=$(rep a 2032)"
is "$STATUS $(jqr .error)" "413 invalid_request" "a body of 2049 bytes: 413 invalid_request"
post_token -H 'Transfer-Encoding: chunked' --data "grant_type=x&pad=$(rep a 2032)"
is "$STATUS" 413 "the same without Content-Length (chunked): 413"

# The same limits on the HTML endpoint: an error page, never a redirect.
req GET "$AUTHZ&x1=1&x2=1&x3=1&x4=1"
is "$STATUS" 200 "/authorize: 10 query parameters pass (the login page)"
req GET "$AUTHZ&x1=1&x2=1&x3=1&x4=1&x5=1"
is "$STATUS" 400 "/authorize: 11 query parameters: 400"
like "$(header Content-Type)" "text/html" "as an error page"
is "$(header Location)" "" "not redirected anywhere"
req GET "$AUTHZ&state=$(rep s 100)"
is "$STATUS" 200 "/authorize: a state of 100 bytes passes"
req GET "$AUTHZ&state=$(rep s 101)"
is "$STATUS" 400 "/authorize: a state of 101 bytes: 400 page"
req POST "$BASE/authorize" -H 'Content-Type: application/x-www-form-urlencoded' --data "$(pairs 11)"
is "$STATUS" 400 "/authorize POST: 11 parameters: 400 page"
like "$(header Content-Type)" "text/html" "as an error page"

# Header size: libmicrohttpd's 16 KiB per connection.
is "$(raw header "$PORT" 8192 | cut -d' ' -f1)" status=200 "an 8 KiB header passes"
out=$(raw header "$PORT" 20480 10)
like "$out" "^status=(431|400) secs=[0-2]\\." "a 20 KiB header: 431 at once, no hang ($out)"

# Connections per address, without a proxy: the TCP peer counts.
BEFORE=$(limited connections)
sleep 0.3
is "$(raw conns "$PORT" 127.0.0.1 4)" "alive=4 status=200" "4 connections (the limit) from one address"
sleep 0.3
is "$(raw conns "$PORT" 127.0.0.1 6)" "alive=4 status=200" "the 5th and 6th are closed at once"
test "$(limited connections)" -gt "$BEFORE"
ok $? "refusals counted in mcp_authd_limited_total{limit=\"connections\"}"
sleep 0.3
is "$(raw conns "$PORT" 127.0.0.2 4)" "alive=4 status=200" "another address has its own 4"

# Slow and idle connections are closed at connection_timeout (2 s).
out=$(raw slow "$PORT" 0.2)
like "$out" "^closed=(1\\.[5-9]|2\\.[0-9]|3\\.[0-5])$" "a request head sent byte by byte is cut at the timeout ($out)"
out=$(raw idle "$PORT")
like "$out" "^closed=(1\\.[5-9]|2\\.[0-9]|3\\.[0-5])$" "an idle connection is closed at the timeout ($out)"
out=$(raw keepalive "$PORT")
like "$out" "^status=200 closed=(1\\.[5-9]|2\\.[0-9]|3\\.[0-5])$" "an idle keep-alive connection too ($out)"
test "$(limited timeout)" -ge 1
ok $? "counted in mcp_authd_limited_total{limit=\"timeout\"}"
req GET "$BASE/healthz"
is "$STATUS" 200 "a request sent at once is not affected"
stop_serve

# ---- behind a trusted proxy ----
export MCP_AUTHD_CONNECTION_TIMEOUT=5
MCP_AUTHD_TRUSTED_PROXIES=127.0.0.1 start_serve
sleep 0.3
is "$(raw conns "$PORT" 127.0.0.1 8)" "alive=8 status=200" \
	"the trusted proxy is not held to the per-address connection limit"
is "$(raw inflight "$PORT" 127.0.0.1 4 203.0.113.5 203.0.113.6)" "held=4 over=429 other=200 after=200" \
	"its clients are: 4 requests in flight from 203.0.113.5, the 5th gets 429, 203.0.113.6 and later ones pass"
test "$(limited requests)" -ge 1
ok $? "counted in mcp_authd_limited_total{limit=\"requests\"}"
sleep 0.3
is "$(raw conns "$PORT" 127.0.0.2 6)" "alive=4 status=200" "a peer that is not a trusted proxy still gets 4"
is "$(raw inflight "$PORT" 127.0.0.2 3 203.0.113.5 203.0.113.6 | cut -d' ' -f2)" "over=200" \
	"and its X-Forwarded-For is ignored (it cannot claim to be someone else)"
stop_serve

done_testing
