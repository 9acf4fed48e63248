#!/bin/bash
# Races against the real daemon (issue 9): 200 concurrent redemptions of one
# authorization code, 100 concurrent uses of one refresh token, and consent,
# registration and key rotation from the CLI while tokens are being issued: exactly
# one winner, the replays end the winner's family, and no client ever sees a 5xx, a
# cut connection or a database busy error.
. "${TOP_SRCDIR:-.}/tests/integ/lib.sh"

RACE="$PYTHON3 $TOP_SRCDIR/tests/integ/race.py"
CODE_RACES=${CODE_RACES:-5}
CODE_RACERS=${CODE_RACERS:-200}
REFRESH_RACES=${REFRESH_RACES:-3}
REFRESH_RACERS=${REFRESH_RACERS:-100}
MIXED_SECONDS=${MIXED_SECONDS:-8}

export MCP_AUTHD_REGISTRATION=open MCP_AUTHD_REGISTRATION_RATE=0 # part of the load, unthrottled
export MCP_AUTHD_JWKS_MAX_AGE=0      # so that `keys rotate` may run back to back
export MCP_AUTHD_LOG_LEVEL=warn
init_db
R=https://files.example.com/mcp
REDIRECT=http://127.0.0.1/cb
authd resource add "$R" --name Files --scopes "files:read files:write" >/dev/null
for u in alice bob carol dave; do
	printf '%s-pw\n' "$u" | authd user add "$u" --password-stdin >/dev/null
done
PUB=$(authd --json client add --name App --public --redirect-uri "$REDIRECT" | jq -r .client_id)
CC=$(authd --json client add --name Machine --resource "$R")
CC_BASIC="$(jq -r .client_id <<<"$CC"):$(jq -r .client_secret <<<"$CC")"
RS=$(authd --json client add --name "Files server" --acts-for "$R")
RS_BASIC="$(jq -r .client_id <<<"$RS"):$(jq -r .client_secret <<<"$RS")"
start_serve
ok $? "server started"

enc() { "$PYTHON3" -c 'import sys, urllib.parse as u; print(u.quote(sys.argv[1], safe=""))' "$1"; }
seed() { # seed --codes N | --refresh N: into $T/seeded; the PKCE verifier to VERIFIER
	local what=${1#--}
	VERIFIER=$(authd bench-seed --client "$PUB" --user alice --resource "$R" \
		--redirect-uri "$REDIRECT" "$1" "$2" "--$what-file" "$T/seeded")
}
refresh() { # refresh TOKEN: STATUS, BODY
	req POST "$BASE/token" -d grant_type=refresh_token -d client_id="$PUB" \
		--data-urlencode refresh_token="$1"
}
introspect_active() { # introspect_active ACCESS_TOKEN: prints true or false
	curl -s -u "$RS_BASIC" "$BASE/introspect" --data-urlencode token="$1" | jq -r .active
}
sum() { jq -r "$1 // 0" "$T/race.json"; }

# ---- control: introspection sees a live token, so "inactive" below means revoked ----
seed --codes 1
req POST "$BASE/token" -d grant_type=authorization_code -d client_id="$PUB" \
	-d code="$(cat "$T/seeded")" -d code_verifier="$VERIFIER" --data-urlencode redirect_uri="$REDIRECT"
is "$STATUS" 200 "control: a code redeemed once"
is "$(introspect_active "$(jqr .access_token)")" true "control: its access token introspects active"

# ---- (a) one authorization code, many redemptions at once ----
won=0 lost=0 bad=0 revoked=0 inactive=0
for i in $(seq 1 "$CODE_RACES"); do
	seed --codes 1 # a fresh code per race: the 60 s code life must not decide the outcome
	body="grant_type=authorization_code&client_id=$PUB&code=$(cat "$T/seeded")"
	body="$body&code_verifier=$VERIFIER&redirect_uri=$(enc "$REDIRECT")"
	$RACE burst "$BASE/token" "$CODE_RACERS" "$body" >"$T/race.json"
	is "$(sum '.status["200"]')" 1 "code race $i: exactly one 200 of $CODE_RACERS"
	is "$(sum '.error.invalid_grant')" $((CODE_RACERS - 1)) "code race $i: every other answer invalid_grant"
	is "$(jq -r '.bad | length' "$T/race.json")" 0 "code race $i: no 5xx, no cut connection"
	jq -r '.bad[]' "$T/race.json" | head -5 | sed 's/^/#   /'
	won=$((won + $(sum '.status["200"]')))
	lost=$((lost + $(sum '.error.invalid_grant')))
	bad=$((bad + $(jq -r '.bad | length' "$T/race.json")))
	rt=$(jq -r '.ok[0].refresh_token // empty' "$T/race.json")
	at=$(jq -r '.ok[0].access_token // empty' "$T/race.json")
	refresh "$rt"
	is "$(jqr .error)" invalid_grant "code race $i: the winner's refresh token is revoked by the replays"
	[ "$(jqr .error)" = invalid_grant ] && revoked=$((revoked + 1))
	a=$(introspect_active "$at")
	is "$a" false "code race $i: the winner's access token introspects inactive"
	[ "$a" = false ] && inactive=$((inactive + 1))
done
echo "# code races: $CODE_RACES x $CODE_RACERS redemptions: $won won, $lost invalid_grant, $bad bad;" \
	"winner's family revoked $revoked/$CODE_RACES, access token inactive $inactive/$CODE_RACES"

# ---- (b) one refresh token, many uses at once ----
won=0 lost=0 bad=0 ended=0
for i in $(seq 1 "$REFRESH_RACES"); do
	seed --refresh 1
	rt0=$(cat "$T/seeded")
	$RACE burst "$BASE/token" "$REFRESH_RACERS" \
		"grant_type=refresh_token&client_id=$PUB&refresh_token=$rt0" >"$T/race.json"
	w=$(sum '.status["200"]')
	[ "$w" -le 1 ]
	ok $? "refresh race $i: at most one 200 of $REFRESH_RACERS (got $w)"
	is "$(sum '.error.invalid_grant')" $((REFRESH_RACERS - w)) "refresh race $i: every other answer invalid_grant"
	is "$(jq -r '.bad | length' "$T/race.json")" 0 "refresh race $i: no 5xx, no cut connection"
	jq -r '.bad[]' "$T/race.json" | head -5 | sed 's/^/#   /'
	won=$((won + w))
	lost=$((lost + $(sum '.error.invalid_grant')))
	bad=$((bad + $(jq -r '.bad | length' "$T/race.json")))
	refresh "$rt0"
	is "$(jqr .error)" invalid_grant "refresh race $i: the raced token stays dead"
	fam_dead=1
	if [ "$w" -eq 1 ]; then
		refresh "$(jq -r '.ok[0].refresh_token' "$T/race.json")"
		is "$(jqr .error)" invalid_grant "refresh race $i: the winner's new refresh token is revoked (family ended)"
		[ "$(jqr .error)" = invalid_grant ] || fam_dead=0
		is "$(introspect_active "$(jq -r '.ok[0].access_token' "$T/race.json")")" false \
			"refresh race $i: the winner's access token introspects inactive"
	fi
	ended=$((ended + fam_dead))
done
echo "# refresh races: $REFRESH_RACES x $REFRESH_RACERS uses: $won won, $lost invalid_grant, $bad bad;" \
	"family ended $ended/$REFRESH_RACES"

# ---- (c) consent, registration and key rotation while tokens are being issued ----
seed --refresh 4
spec=$(jq -n --arg cc "$CC_BASIC" --arg r "$R" --arg pub "$PUB" --arg red "$REDIRECT" \
	--rawfile toks "$T/seeded" '{
	cc: {basic: $cc, resource: $r, threads: 2},
	refresh: {client_id: $pub, tokens: ($toks | split("\n") | map(select(. != "")))},
	register: {threads: 2},
	flows: {client_id: $pub, redirect_uri: $red, resource: $r,
		users: [["alice", "alice-pw"], ["bob", "bob-pw"], ["carol", "carol-pw"], ["dave", "dave-pw"]]}
}')
$RACE mixed "$BASE" "$MIXED_SECONDS" "$spec" >"$T/mixed.json" &
LOADER=$!
rotations=0 rotate_failed=0
while kill -0 "$LOADER" 2>/dev/null; do
	if authd keys rotate >/dev/null 2>>"$T/rotate.err"; then
		rotations=$((rotations + 1))
	else
		rotate_failed=$((rotate_failed + 1))
	fi
	sleep 0.2
done
wait "$LOADER"
ok $? "mixed load ran"
is "$(jq -r '.bad | length' "$T/mixed.json")" 0 "mixed load: no 5xx, no cut, no malformed error, no busy"
jq -r '.bad[]' "$T/mixed.json" | head -10 | sed 's/^/#   /'
[ "$rotations" -ge 2 ]
ok $? "keys rotate ran from the CLI during the load ($rotations rotations)"
is "$rotate_failed" 0 "keys rotate never failed against the serving database"
head -3 "$T/rotate.err" | sed 's/^/#   /'
for k in client_credentials refresh_token register authorize consent authorization_code; do
	n=$(jq -r --arg k "$k" '[.counts[$k] // {} | to_entries[] | select(.key | test("^2|^3")) | .value] | add // 0' \
		"$T/mixed.json")
	[ "$n" -gt 0 ]
	ok $? "mixed load: $k answered ($n)"
done
echo "# mixed load, $MIXED_SECONDS s: $(jq -c .counts "$T/mixed.json")"
echo "# mixed load: $(jq -c .done "$T/mixed.json"), $rotations key rotations"

if ! db_is_pg; then
# ---- (d) a foreign writer holding SQLite's lock, well within the busy bound ----
# Another process (an admin command, a second server) holds the write lock for 300 ms
# at a time: the server's writers wait in the busy handler (bounded, 5 s) and then
# commit; no client sees "database is locked".
seed --refresh 2
spec=$(jq -n --arg cc "$CC_BASIC" --arg r "$R" --arg pub "$PUB" --rawfile toks "$T/seeded" '{
	cc: {basic: $cc, resource: $r, threads: 1},
	refresh: {client_id: $pub, tokens: ($toks | split("\n") | map(select(. != "")))},
	register: {threads: 1}}')
$RACE hold "$MCP_AUTHD_DB" 4 0.3 >"$T/held" &
HOLDER=$!
$RACE mixed "$BASE" 4 "$spec" >"$T/held.json"
wait "$HOLDER"
is "$(jq -r '.bad | length' "$T/held.json")" 0 "foreign writer: no 5xx, no cut, no busy error"
jq -r '.bad[]' "$T/held.json" | head -10 | sed 's/^/#   /'
n=$(jq -r '[.counts.refresh_token // {} | to_entries[] | select(.key == "200") | .value] | add // 0' "$T/held.json")
[ "$n" -gt 0 ]
ok $? "foreign writer: refresh rotations still committed ($n)"
echo "# foreign writer: lock taken $(cat "$T/held") times for 300 ms; load: $(jq -c .counts "$T/held.json")"
fi

req GET "$BASE/readyz"
is "$STATUS" 200 "still ready afterwards"
grep -qi "database is locked\|SQLITE_BUSY" "$T/serve.log"
ok $((1 - $?)) "no 'database is locked' in the server's log"

done_testing
