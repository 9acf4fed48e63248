#!/bin/bash
# Start-to-ready, from exec to the first 200 on the metadata URL: mcp-authd dev against
# oauth2-mock-server (npm), in the same run. RUNS starts each (default 25); median wins.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-25}
[ -x ./mcp-authd ] || { autoreconf -fi >/dev/null && ./configure -q && make -j"$(nproc)" >/dev/null; }
export PEERS_DIR=$(bench/peers.sh)
NODE=tests/interop/node_modules/.bin/node
[ -x "$NODE" ] || NODE=node
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
P1=$(port)
P2=$(port)
ours=$(/usr/bin/python3 bench/startup.py "$RUNS" "$P1" \
	"http://127.0.0.1:$P1/.well-known/oauth-authorization-server" -- ./mcp-authd dev --port "$P1")
peer=$(PORT=$P2 /usr/bin/python3 bench/startup.py "$RUNS" "$P2" \
	"http://127.0.0.1:$P2/.well-known/openid-configuration" -- "$NODE" bench/peers/oauth2-mock-server.mjs)
m1=$(jq .median_ms <<<"$ours")
m2=$(jq .median_ms <<<"$peer")
printf '%-28s %10s %10s %10s %10s\n' server "median ms" "p90 ms" "min ms" "max ms"
printf '%-28s %10s %10s %10s %10s\n' "mcp-authd dev" "$m1" "$(jq .p90_ms <<<"$ours")" \
	"$(jq .min_ms <<<"$ours")" "$(jq .max_ms <<<"$ours")"
printf '%-28s %10s %10s %10s %10s\n' "oauth2-mock-server $(jq -r .version "$PEERS_DIR/node_modules/oauth2-mock-server/package.json")" \
	"$m2" "$(jq .p90_ms <<<"$peer")" "$(jq .min_ms <<<"$peer")" "$(jq .max_ms <<<"$peer")"
echo "ratio (peer / mcp-authd, median): $(jq -n "$m2 / $m1 | . * 10 | round / 10")x  ($RUNS starts each, $(date -u +%F))"
