#!/bin/bash
# bench/alternate.sh: client_credentials on SQLite, on PostgreSQL and the stack's
# ceiling (bench/ceiling.c), measured in turn, ROUNDS times, so that every ratio is taken
# between runs seconds apart. This machine's CPU speed drifts by a factor of two over
# tens of minutes (OpenSSL's sign rate went from 26,577/s to 53,674/s between two runs),
# which makes ratios between figures taken minutes apart meaningless.
#
# env: DURATION (seconds per run, default 8), ROUNDS (default 3), CONNS (default "16 64")
set -euo pipefail
cd "$(dirname "$0")/.."
export BENCH_DIR="$PWD/bench"
DURATION=${DURATION:-8}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-"16 64"}
make -j"$(nproc)" mcp-authd >/dev/null
. tests/pg/cluster.sh
W=$(mktemp -d /tmp/mcp-authd-alt.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}" $(cat "$W/pids" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	pg_stop_throwaway
	rm -rf "$W"
}
trap cleanup EXIT
gcc -O2 -o "$W/ceiling" bench/ceiling.c -lmicrohttpd -lcrypto
PG_DURABLE=1 pg_start_throwaway >/dev/null
export MCP_AUTHD_MASTER_KEY_FILE=$W/master.key MCP_AUTHD_ALLOW_INSECURE_ISSUER=true \
	MCP_AUTHD_LOG_LEVEL=warn
A=https://mcp.example.com/
body="grant_type=client_credentials&resource=https%3A%2F%2Fmcp.example.com%2F&scope=read"
wait_url() { for _ in $(seq 1 200); do curl -fs -o /dev/null "$1" && return 0; sleep 0.05; done; return 1; }
node() { # node LOCATION: set up and start a node on it; prints "URL BASIC"
	local port url cc
	port=$(pg_free_port)
	url="http://127.0.0.1:$port"
	MCP_AUTHD_DB=$1 ./mcp-authd init --issuer "$url" >/dev/null
	MCP_AUTHD_DB=$1 ./mcp-authd resource add "$A" --scopes read >/dev/null
	cc=$(MCP_AUTHD_DB=$1 ./mcp-authd --json client add --name cc --resource "$A")
	cc=$(printf '%s:%s' "$(jq -r .client_id <<<"$cc")" "$(jq -r .client_secret <<<"$cc")" | base64 -w0)
	MCP_AUTHD_DB=$1 ./mcp-authd serve --listen "127.0.0.1:$port" >/dev/null 2>>"$W/serve.log" &
	echo "$!" >>"$W/pids" # node runs in a subshell: its PIDS would not reach cleanup
	wait_url "$url/healthz"
	curl -s -o /dev/null -H "Authorization: Basic $cc" "$url/token" -d "$body"
	echo "$url $cc"
}
read -r SQ_URL SQ_BASIC <<<"$(node "$W/bench.db")"
read -r PG_NODE PG_BASIC <<<"$(node "$PG_URL")"
CP=$(pg_free_port)
"$W/ceiling" "$CP" "$(nproc)" &
PIDS+=("$!")
sleep 0.3
rate() { # rate URL BASIC C: req/s of one run
	env BASIC="$2" BODY="$body" wrk -t2 -c"$3" -d"$DURATION"s -s bench/wrk/form.lua "$1/token" |
		sed -n 's/^SUMMARY rps=\([0-9.]*\).*/\1/p'
}
printf '%-6s %5s %12s %12s %12s %9s %9s\n' round conns ceiling sqlite postgresql "sq/ceil" "pg/sq"
for c in $CONNS; do
	for r in $(seq 1 "$ROUNDS"); do
		ce=$(rate "http://127.0.0.1:$CP" "" "$c")
		sq=$(rate "$SQ_URL" "$SQ_BASIC" "$c")
		pg=$(rate "$PG_NODE" "$PG_BASIC" "$c")
		awk -v r="$r" -v c="$c" -v ce="$ce" -v sq="$sq" -v pg="$pg" 'BEGIN {
			printf "%-6s %5s %12.0f %12.0f %12.0f %9.2f %9.2f\n", r, c, ce, sq, pg, sq / ce, pg / sq }'
	done
done
