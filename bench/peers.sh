#!/bin/sh
# Install the peers the benchmarks compare with into $PEERS_DIR (never into the tree).
set -eu
PEERS_DIR=${PEERS_DIR:-/tmp/mcp-authd-peers}
mkdir -p "$PEERS_DIR"
cd "$PEERS_DIR"
[ -f package.json ] || printf '{"name":"mcp-authd-bench-peers","private":true}\n' >package.json
if [ ! -d node_modules/oauth2-mock-server ] || [ ! -d node_modules/oidc-provider ]; then
	npm install --no-audit --no-fund --loglevel=error oauth2-mock-server@9 oidc-provider@9 >&2
fi
echo "$PEERS_DIR"
