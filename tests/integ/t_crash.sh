#!/bin/bash
# Crash safety (issue 9): load that rotates refresh tokens and issues client_credentials
# tokens, the server killed with SIGKILL at a random moment, twenty times, with the
# default synchronous=NORMAL in WAL mode. After every kill: PRAGMA integrity_check is
# ok, every refresh token the client received in a 200 is known to the database, and
# each chain's last token still works after the restart, unless the request presenting
# it was in flight at the kill and its rotation committed (the answer died with the
# process): then the database holds the successor and the token answers "already
# used", never "unknown".
. "${TOP_SRCDIR:-.}/tests/integ/lib.sh"

RACE="$PYTHON3 $TOP_SRCDIR/tests/integ/race.py"
ROUNDS=${CRASH_ROUNDS:-20}
CHAINS=${CRASH_CHAINS:-8}
SPARES=${CRASH_SPARES:-80}

command -v sqlite3 >/dev/null || skip_all "no sqlite3 shell"
# What a killed node leaves in PostgreSQL is tested by tests/integ/t_fleet.sh (node loss).
db_is_pg && skip_all "SQLite file safety; PostgreSQL: node loss in t_fleet.sh"
export MCP_AUTHD_LOG_LEVEL=warn
unset MCP_AUTHD_SYNCHRONOUS
init_db
is "$(authd --json check-config | jq -r .synchronous.value)" NORMAL "the default synchronous mode is tested"
R=https://files.example.com/mcp
REDIRECT=http://127.0.0.1/cb
authd resource add "$R" --name Files --scopes "files:read" >/dev/null
printf 'pw\n' | authd user add alice --password-stdin >/dev/null
PUB=$(authd --json client add --name App --public --redirect-uri "$REDIRECT" | jq -r .client_id)
CC=$(authd --json client add --name Machine --resource "$R")
CC_BASIC="$(jq -r .client_id <<<"$CC"):$(jq -r .client_secret <<<"$CC")"
authd bench-seed --client "$PUB" --user alice --resource "$R" --redirect-uri "$REDIRECT" \
	--refresh $((CHAINS + SPARES)) --refresh-file "$T/seeded" >/dev/null
head -n "$CHAINS" "$T/seeded" | jq -R . | jq -s 'to_entries | map({key: "c\(.key)", value}) | from_entries' \
	>"$T/state.json"
tail -n +"$((CHAINS + 1))" "$T/seeded" >"$T/spares"
is "$(jq length "$T/state.json")" "$CHAINS" "$CHAINS refresh token chains seeded"

kills=0 intact=0 checked=0 used=0 rotations=0 received=0 in_flight=0 cc_ok=0 cc_bad=0 fails=0 noticed=0
for round in $(seq 1 "$ROUNDS"); do
	start_serve
	if [ "$round" -gt 1 ]; then
		# The restart after the previous kill: each chain's last token, as planned.
		$RACE crashuse "$BASE" "$PUB" "$T/state.json" "$T/plan.json" "$T/spares" >"$T/use.json"
		if [ $? -ne 0 ]; then
			ok 1 "round $((round - 1)): after the restart every chain's last token did what it must"
			jq -r '.problems[]' "$T/use.json" | head -5 | sed 's/^/#   /'
		fi
		used=$((used + $(jq -r .worked "$T/use.json")))
	fi
	rm -f "$T/marker" "$T/log"
	$RACE chains "$BASE" "$PUB" "$T/state.json" "$T/log" "$T/marker" "$CC_BASIC" "$R" \
		>"$T/counts.json" &
	LOADER=$!
	for _ in $(seq 1 200); do [ -e "$T/marker" ] && break; sleep 0.05; done
	# 0.3 to 1.5 s into the load
	sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.3f", 0.3 + (r % 1201) / 1000 }')"
	kill -KILL "$SERVER_PID"
	wait "$SERVER_PID" 2>/dev/null
	SERVER_PID=
	kills=$((kills + 1))
	wait "$LOADER"
	rotations=$((rotations + $(jq -r .rotations "$T/counts.json")))
	fails=$((fails + $(jq -r .fail "$T/counts.json")))
	cc_ok=$((cc_ok + $(jq -r '.cc["200"] // 0' "$T/counts.json")))
	cc_bad=$((cc_bad + $(jq -r '[.cc | to_entries[] | select(.key | test("^[0-9]")) | select(.key != "200") | .value] | add // 0' "$T/counts.json")))

	# Check a copy of the dead server's files; the restart then recovers the originals.
	rm -rf "$T/copy" && mkdir "$T/copy"
	cp "$MCP_AUTHD_DB" "$T/copy/db"
	for x in -wal -shm; do [ -e "$MCP_AUTHD_DB$x" ] && cp "$MCP_AUTHD_DB$x" "$T/copy/db$x"; done
	cp "$MCP_AUTHD_DB" "$T/copy/nowal"
	ic=$(sqlite3 "$T/copy/db" 'PRAGMA integrity_check' 2>&1)
	if [ "$ic" = ok ]; then intact=$((intact + 1)); else ok 1 "round $round: integrity_check: $ic"; fi
	$RACE crashcheck "$T/copy/db" "$T/state.json" "$T/log" "$T/plan.json" >"$T/check.json"
	if [ $? -eq 0 ]; then
		checked=$((checked + 1))
	else
		ok 1 "round $round: every token received in a 200 is known to the database"
		jq -r '.problems[]' "$T/check.json" | head -5 | sed 's/^/#   /'
	fi
	# The checker's own control: the database file without its WAL (what the last
	# commits would look like had they not reached the file) must show losses.
	$RACE crashcheck "$T/copy/nowal" "$T/state.json" "$T/log" "$T/plan.nowal.json" >/dev/null 2>&1 ||
		noticed=$((noticed + 1))
	received=$((received + $(jq -r .received "$T/check.json")))
	in_flight=$((in_flight + $(jq -r .rotated_in_flight "$T/check.json")))
done
start_serve
$RACE crashuse "$BASE" "$PUB" "$T/state.json" "$T/plan.json" "$T/spares" >"$T/use.json"
ok $? "after the last restart every chain's last token did what it must"
jq -r '.problems[]' "$T/use.json" | head -5 | sed 's/^/#   /'
used=$((used + $(jq -r .worked "$T/use.json")))
req POST "$BASE/token" -u "$CC_BASIC" -d grant_type=client_credentials -d resource="$R"
is "$STATUS" 200 "client_credentials after the last restart"
stop_serve
is "$(sqlite3 "$MCP_AUTHD_DB" 'PRAGMA integrity_check')" ok "integrity_check after a clean stop"

is "$kills" "$ROUNDS" "the server was killed $ROUNDS times"
is "$intact" "$ROUNDS" "integrity_check ok after every kill"
is "$checked" "$ROUNDS" "no token received in a 200 was lost in any round"
is "$fails" 0 "no refresh answered other than 200 while the server lived"
is "$cc_bad" 0 "client_credentials: no answer other than 200 while the server lived"
[ "$noticed" -gt 0 ]
ok $? "control: the checker notices lost commits when a copy's WAL is dropped ($noticed/$ROUNDS rounds)"
[ "$rotations" -gt "$ROUNDS" ]
ok $? "the load rotated refresh tokens ($rotations)"
echo "# $kills SIGKILLs under load, synchronous=NORMAL: integrity ok $intact/$ROUNDS;" \
	"$received refresh tokens received in a 200, none lost; chains' last tokens working after" \
	"restart: $used; rotated by a request cut by the kill: $in_flight; client_credentials: $cc_ok ok"

done_testing
