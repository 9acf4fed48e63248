#!/bin/bash
# bench/versus.sh OLD_BINARY NEW_BINARY [PAIRS]: refresh_token on SQLite (c=16, 8 s), the
# two binaries in turn, PAIRS times (default 4), each on a fresh database: a
# side-by-side check that a change did not slow the first stage's stateful path on a
# machine whose speed drifts. SCENARIO=cc measures client_credentials (the stateless hot
# path, client_secret_basic) instead.
#   git worktree add /tmp/old 7671d9b && (cd /tmp/old && autoreconf -fi && ./configure -q && make mcp-authd)
#   bench/versus.sh /tmp/old/mcp-authd ./mcp-authd
set -euo pipefail
cd "$(dirname "$0")/.."
export BENCH_DIR="$PWD/bench" MCP_AUTHD_ALLOW_INSECURE_ISSUER=true MCP_AUTHD_LOG_LEVEL=warn
PAIRS=${3:-4}
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
run() { # run BINARY: prints req/s
	local bin=$1 W P I pub S r
	W=$(mktemp -d /tmp/mcp-authd-versus.XXXXXX)
	P=$(port)
	I=http://127.0.0.1:$P
	export MCP_AUTHD_DB=$W/db MCP_AUTHD_MASTER_KEY_FILE=$W/mk
	"$bin" init --issuer "$I" >/dev/null
	"$bin" resource add https://mcp.example.com/ --scopes read >/dev/null
	printf 'pw\n' | "$bin" user add bench --password-stdin >/dev/null
	pub=$("$bin" --json client add --name flow --public --redirect-uri http://127.0.0.1/cb | jq -r .client_id)
	"$bin" serve --listen "127.0.0.1:$P" >/dev/null 2>&1 &
	S=$!
	for _ in $(seq 1 100); do curl -fs -o /dev/null "$I/healthz" && break; sleep 0.05; done
	"$bin" bench-seed --client "$pub" --user bench --resource https://mcp.example.com/ \
		--redirect-uri http://127.0.0.1/cb --refresh 64 --refresh-file "$W/refresh" >/dev/null
	if [ "${SCENARIO:-refresh}" = cc ]; then
		cc=$("$bin" --json client add --name cc --confidential --grant client_credentials \
			--resource https://mcp.example.com/)
		basic=$(printf '%s:%s' "$(jq -r .client_id <<<"$cc")" "$(jq -r .client_secret <<<"$cc")" | base64 -w0)
		r=$(BASIC="$basic" BODY="grant_type=client_credentials&resource=https%3A%2F%2Fmcp.example.com%2F" \
			wrk -t2 -c16 -d8s -s bench/wrk/form.lua "$I/token" |
			sed -n 's/^SUMMARY rps=\([0-9.]*\).*/\1/p')
	else
		r=$(MODE=refresh FILE="$W/refresh" CLIENT_ID="$pub" THREADS=2 wrk -t2 -c16 -d8s \
			-s bench/wrk/pool.lua "$I/token" | sed -n 's/^SUMMARY rps=\([0-9.]*\).*/\1/p')
	fi
	kill "$S"
	wait "$S" 2>/dev/null || true
	rm -rf "$W"
	echo "$r"
}
for i in $(seq 1 "$PAIRS"); do
	a=$(run "$1")
	b=$(run "$2")
	printf 'pair %d: %s %.0f/s, %s %.0f/s\n' "$i" "$1" "$a" "$2" "$b"
done
