#!/bin/bash
# Key lifecycle against running servers: two servers on one database follow a rotation
# made by the CLI within key_check_interval; SIGHUP forces a reload; the rotate_every
# schedule; a retired key stays published until its tokens have expired, then leaves;
# an emergency rotation unpublishes the compromised key at once.
. "${TOP_SRCDIR:-.}/tests/integ/lib.sh"

export MCP_AUTHD_KEY_CHECK_INTERVAL=1 MCP_AUTHD_JWKS_MAX_AGE=0
init_db
RES=https://files.example.com/mcp
authd resource add "$RES" --scopes read >/dev/null
C=$(authd --json client add --name m --resource "$RES")
CID=$(jq -r .client_id <<<"$C")
CSECRET=$(jq -r .client_secret <<<"$C")
kid_at() { # kid_at BASE: the kid a server signs with now
	curl -s -u "$CID:$CSECRET" "$1/token" -d grant_type=client_credentials -d resource="$RES" |
		jq -r .access_token | cut -d. -f1 | tr '_-' '/+' |
		awk '{ n = length($0) % 4; if (n == 2) $0 = $0 "=="; else if (n == 3) $0 = $0 "="; print }' |
		base64 -d 2>/dev/null | jq -r .kid
}
active_kid() { authd keys list --json | jq -r '.[] | select(.state == "active") | .kid'; }
wait_kid() { # wait_kid BASE KID SECONDS: until BASE signs with KID
	local i
	for i in $(seq 1 $(($3 * 10))); do
		[ "$(kid_at "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# Two servers on one database.
start_serve
A=$BASE
A_PID=$SERVER_PID
PORT2=$(free_port)
"$MCP_AUTHD" serve --listen "127.0.0.1:$PORT2" >/dev/null 2>>"$T/serve2.log" &
B_PID=$!
B="http://127.0.0.1:$PORT2"
wait_http "$B/healthz"
K1=$(active_kid)
is "$(kid_at "$A")" "$K1" "server A signs with the active key"
is "$(kid_at "$B")" "$K1" "server B too"
NEXT=$(authd keys list --json | jq -r '.[] | select(.state == "next") | .kid')
curl -s "$A/jwks.json" | jq -e --arg k "$NEXT" '[.keys[].kid] | index($k)' >/dev/null
ok $? "the next key is published before it signs"
authd keys rotate >/dev/null
K2=$(active_kid)
is "$K2" "$NEXT" "the CLI rotation made the next key active"
start=$(date +%s%N)
wait_kid "$A" "$K2" 3; ok $? "server A switches within the bound"
wait_kid "$B" "$K2" 3; ok $? "server B switches within the bound"
elapsed=$((($(date +%s%N) - start) / 1000000))
[ "$elapsed" -le 2500 ]; ok $? "both within key_check_interval plus a tick (${elapsed} ms)"
curl -s "$A/jwks.json" | jq -e --arg k "$K1" '[.keys[].kid] | index($k)' >/dev/null
ok $? "the retired key stays published"
kill -TERM "$B_PID"
wait "$B_PID"
stop_serve

# SIGHUP forces a reload when the periodic check is far away.
MCP_AUTHD_KEY_CHECK_INTERVAL=3600 start_serve
authd keys rotate >/dev/null
K3=$(active_kid)
sleep 0.3
is "$(kid_at "$BASE")" "$K2" "with a one-hour check interval the server still signs with the old key"
kill -HUP "$SERVER_PID"
wait_kid "$BASE" "$K3" 3; ok $? "SIGHUP: it signs with the new key"
like "$(cat "$T/serve.log")" "SIGHUP: keys reloaded" "and says so"
stop_serve

# The schedule, and a retired key leaving once its tokens have surely expired.
# The retired key is kept for twice the longest token (4 s here), time enough to look at
# it on a loaded machine; the active and next keys come from one reading of the list, so
# that a rotation cannot fall between them (then the next key would be one further on,
# and the old one already gone by the time the server signs with it).
export MCP_AUTHD_ROTATE_EVERY=2 MCP_AUTHD_JWKS_MAX_AGE=1 MCP_AUTHD_ACCESS_TOKEN_TTL=2 MCP_AUTHD_PURGE_EVERY=1
start_serve
read -r OLD NEXT < <(authd keys list --json |
	jq -r '[(.[] | select(.state == "active") | .kid), (.[] | select(.state == "next") | .kid)] | @tsv')
wait_kid "$BASE" "$NEXT" 6
ok $? "rotate_every: the server rotated on schedule"
like "$(cat "$T/serve.log")" "scheduled key rotation" "and logged it"
is "$(authd keys list --json | jq -r --arg k "$OLD" '.[] | select(.kid == $k) | .state')" retired \
	"the previous key is retired"
curl -s "$BASE/jwks.json" | jq -e --arg k "$OLD" '[.keys[].kid] | index($k)' >/dev/null
ok $? "and still published"
gone=1
for i in $(seq 1 150); do
	if ! curl -s "$BASE/jwks.json" | jq -e --arg k "$OLD" '[.keys[].kid] | index($k)' >/dev/null; then
		gone=0
		break
	fi
	sleep 0.1
done
ok $gone "once its longest token has expired (twice over), it leaves the JWKS"
stop_serve
unset MCP_AUTHD_ROTATE_EVERY MCP_AUTHD_ACCESS_TOKEN_TTL MCP_AUTHD_PURGE_EVERY

# Emergency: the compromised key stops verifying at once.
start_serve
BAD=$(kid_at "$BASE")
TOKEN=$(curl -s -u "$CID:$CSECRET" "$BASE/token" -d grant_type=client_credentials -d resource="$RES" | jq -r .access_token)
authd keys rotate --emergency >/dev/null; ok $? "keys rotate --emergency"
is "$(authd keys list --json | jq -r --arg k "$BAD" '[.[] | select(.kid == $k)] | length')" 0 \
	"the compromised key is deleted, not retired"
kill -HUP "$SERVER_PID"
for i in $(seq 1 30); do
	curl -s "$BASE/jwks.json" | jq -e --arg k "$BAD" '[.keys[].kid] | index($k)' >/dev/null || break
	sleep 0.1
done
curl -s "$BASE/jwks.json" | jq -e --arg k "$BAD" '[.keys[].kid] | index($k)' >/dev/null
is $? 1 "and unpublished"
ADMIN=$(authd --json client add --name auditor --resource "$RES" --introspect-admin)
req POST "$BASE/introspect" -u "$(jq -r .client_id <<<"$ADMIN"):$(jq -r .client_secret <<<"$ADMIN")" \
	-d token="$TOKEN"
is "$(jqr .active)" false "its tokens no longer verify"
stop_serve
done_testing
