#!/bin/bash
# bench/pgcost.sh: what one grant costs on PostgreSQL, for docs/capacity.md. For each
# grant, one node under wrk for DURATION seconds against a throwaway PostgreSQL 15
# cluster (default durability); from the database's own counters (pg_stat_database,
# pg_current_wal_lsn) and the processes' CPU time (/proc/PID/stat), per request:
# transactions, rows written, WAL bytes, and CPU milliseconds of mcp-authd and of
# PostgreSQL. Also the size of an access token and of a token response.
#
# env: DURATION (default 10), CONNS (default 16)
set -euo pipefail
cd "$(dirname "$0")/.."
export BENCH_DIR="$PWD/bench"
DURATION=${DURATION:-10}
CONNS=${CONNS:-16}
make -j"$(nproc)" mcp-authd >/dev/null
. tests/pg/cluster.sh
W=$(mktemp -d /tmp/mcp-authd-pgcost.XXXXXX)
S=
cleanup() {
	[ -n "$S" ] && kill "$S" 2>/dev/null && wait "$S" 2>/dev/null
	pg_stop_throwaway
	rm -rf "$W"
}
trap cleanup EXIT
PG_DURABLE=1 pg_start_throwaway >/dev/null
export MCP_AUTHD_DB=$PG_URL MCP_AUTHD_MASTER_KEY_FILE=$W/master.key \
	MCP_AUTHD_ALLOW_INSECURE_ISSUER=true MCP_AUTHD_LOG_LEVEL=warn
A=https://mcp.example.com/
B=https://downstream.example.com/
P=$(pg_free_port)
I=http://127.0.0.1:$P
./mcp-authd init --issuer "$I" >/dev/null
./mcp-authd resource add "$A" --scopes read >/dev/null
./mcp-authd resource add "$B" --scopes read >/dev/null
./mcp-authd resource allow-exchange "$A" "$B" >/dev/null
printf 'pw\n' | ./mcp-authd user add bench --password-stdin >/dev/null
pub=$(./mcp-authd --json client add --name flow --public --redirect-uri http://127.0.0.1/cb | jq -r .client_id)
basic() { printf '%s:%s' "$(jq -r .client_id <<<"$1")" "$(jq -r .client_secret <<<"$1")" | base64 -w0; }
CC=$(basic "$(./mcp-authd --json client add --name cc --resource "$A")")
EX=$(basic "$(./mcp-authd --json client add --name ex --acts-for "$A")")
SUBJECT=$(./mcp-authd token mint --resource "$A" --sub bench --scope read --ttl 3600)
./mcp-authd serve --listen "127.0.0.1:$P" 2>"$W/log" &
S=$!
for _ in $(seq 1 100); do curl -fs -o /dev/null "$I/healthz" && break; sleep 0.05; done
curl -s -o /dev/null -H "Authorization: Basic $CC" "$I/token" -d grant_type=client_credentials -d resource="$A"
curl -s -o /dev/null -H "Authorization: Basic $EX" "$I/token" \
	-d grant_type=urn:ietf:params:oauth:grant-type:token-exchange -d subject_token="$SUBJECT" \
	-d subject_token_type=urn:ietf:params:oauth:token-type:access_token -d resource="$B"

q() { PG_DB=authd pg_psql "$PG_PORT" "$1"; }
cpu_ms() { # CPU milliseconds (user + system) of the given PIDs so far
	local t=0 pid
	for pid in "$@"; do
		[ -r "/proc/$pid/stat" ] || continue
		t=$((t + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
	done
	echo $((t * 1000 / $(getconf CLK_TCK)))
}
pg_pids() { echo "$PG_PID"; pgrep -P "$PG_PID"; }
counters() {
	q "SELECT xact_commit, tup_inserted + tup_updated + tup_deleted,
		pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint
	   FROM pg_stat_database WHERE datname = 'authd'" | tr '|' ' '
}
enc() { /usr/bin/python3 -c 'import sys, urllib.parse as u; print(u.quote(sys.argv[1], safe=""))' "$1"; }

printf '%-20s %8s %7s %7s %9s %8s %8s\n' grant "req/s" "xact" rows "WAL B" "authd ms" "pg ms"
measure() { # measure NAME SCRIPT ENV...
	local name=$1 script=$2 line reqs a0 a1 p0 p1 c0 c1
	shift 2
	sleep 1 # let the statistics collector settle
	read -r x0 r0 w0 <<<"$(counters)"
	a0=$(cpu_ms "$S")
	p0=$(cpu_ms $(pg_pids))
	line=$(env "$@" THREADS=2 wrk -t2 -c"$CONNS" -d"$DURATION"s -s "bench/wrk/$script" "$I/token" |
		grep SUMMARY)
	a1=$(cpu_ms "$S")
	p1=$(cpu_ms $(pg_pids))
	sleep 1.5 # the last audit batch, then the statistics
	read -r x1 r1 w1 <<<"$(counters)"
	reqs=$(sed 's/.*reqs=\([0-9]*\).*/\1/' <<<"$line")
	rps=$(sed 's/.*rps=\([0-9.]*\).*/\1/' <<<"$line")
	awk -v n="$name" -v rps="$rps" -v r="$reqs" -v x=$((x1 - x0)) -v t=$((r1 - r0)) \
		-v w=$((w1 - w0)) -v a=$((a1 - a0)) -v p=$((p1 - p0)) \
		'BEGIN { printf "%-20s %8.0f %7.3f %7.2f %9.0f %8.3f %8.3f\n", n, rps, x / r, t / r, w / r, a / r, p / r }'
}
measure client_credentials form.lua BASIC="$CC" \
	BODY="grant_type=client_credentials&resource=$(enc "$A")&scope=read"
measure token_exchange form.lua BASIC="$EX" \
	BODY="grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&subject_token=$SUBJECT&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token&resource=$(enc "$B")"
./mcp-authd bench-seed --client "$pub" --user bench --resource "$A" --redirect-uri http://127.0.0.1/cb \
	--refresh $((CONNS * 4)) --refresh-file "$W/refresh" >/dev/null
measure refresh_token pool.lua MODE=refresh FILE="$W/refresh" CLIENT_ID="$pub"
verifier=$(./mcp-authd bench-seed --client "$pub" --user bench --resource "$A" \
	--redirect-uri http://127.0.0.1/cb --codes $((DURATION * 8000)) --codes-file "$W/codes")
measure authorization_code pool.lua MODE=code FILE="$W/codes" CLIENT_ID="$pub" \
	VERIFIER="$verifier" REDIRECT="$(enc http://127.0.0.1/cb)"

at=$(curl -s -H "Authorization: Basic $CC" "$I/token" -d grant_type=client_credentials -d resource="$A")
echo
echo "access token: $(jq -r .access_token <<<"$at" | tr -d '\n' | wc -c) bytes;" \
	"token response: $(printf %s "$at" | wc -c) bytes;" \
	"audit row: $(q "SELECT avg(pg_column_size(a.*))::int FROM audit a") bytes;" \
	"refresh token row: $(q "SELECT avg(pg_column_size(r.*))::int FROM refresh_tokens r") bytes"
echo "database after the runs: $(q "SELECT pg_size_pretty(pg_database_size('authd'))")"
echo "OpenSSL, one core: $(openssl speed -seconds 2 ecdsap256 2>/dev/null | awk '/256 bits ecdsa/ {print $(NF-1) " ES256 signs/s, " $NF " verifies/s"}')"
