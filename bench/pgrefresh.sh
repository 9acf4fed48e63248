#!/bin/bash
# bench/pgrefresh.sh: refresh_token rotation alone on a fresh, durable PostgreSQL 15
# (fsync and synchronous_commit on), one node, nothing else run before it in the same
# database. bench/run measures refresh after the other scenarios, in a database that has
# just taken their audit records; this isolates the refresh path.
#
# env: THREADS_LIST (server threads, default 8), CONNS_LIST (default "16 64"), DURATION
#      (seconds per run, default 8), PGEXTRA (postgresql.conf lines, e.g. "commit_delay = 200")
set -euo pipefail
cd "$(dirname "$0")/.."
export BENCH_DIR="$PWD/bench"
. tests/pg/cluster.sh
W=$(mktemp -d /tmp/pgrefresh.XXXXXX)
S=
cleanup() {
	[ -n "$S" ] && kill "$S" 2>/dev/null && wait "$S" 2>/dev/null
	pg_stop_throwaway
	rm -rf "$W"
}
trap cleanup EXIT
# shellcheck disable=SC2086
PG_DURABLE=1 pg_start_throwaway ${PGEXTRA:-} >/dev/null
export MCP_AUTHD_DB=$PG_URL MCP_AUTHD_MASTER_KEY_FILE=$W/master.key
export MCP_AUTHD_ALLOW_INSECURE_ISSUER=true MCP_AUTHD_LOG_LEVEL=warn
A=https://mcp.example.com/
P=$(pg_free_port)
I=http://127.0.0.1:$P
./mcp-authd init --issuer "$I" >/dev/null
./mcp-authd resource add "$A" --scopes read >/dev/null
printf 'pw\n' | ./mcp-authd user add bench --password-stdin >/dev/null
pub=$(./mcp-authd --json client add --name flow --public --redirect-uri http://127.0.0.1/cb |
	jq -r .client_id)
for t in ${THREADS_LIST:-8}; do
	MCP_AUTHD_THREADS=$t ./mcp-authd serve --listen "127.0.0.1:$P" 2>"$W/log" &
	S=$!
	for _ in $(seq 1 100); do curl -fs -o /dev/null "$I/healthz" && break; sleep 0.05; done
	for c in ${CONNS_LIST:-16 64}; do
		./mcp-authd bench-seed --client "$pub" --user bench --resource "$A" \
			--redirect-uri http://127.0.0.1/cb --refresh $((c * 4)) \
			--refresh-file "$W/refresh" >/dev/null
		line=$(env THREADS=2 MODE=refresh FILE="$W/refresh" CLIENT_ID="$pub" \
			wrk -t2 -c"$c" -d"${DURATION:-8}"s -s bench/wrk/pool.lua "$I/token" | grep SUMMARY)
		echo "threads=$t conns=$c $line"
	done
	kill "$S"
	wait "$S" 2>/dev/null || true
	S=
done
