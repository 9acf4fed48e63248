#!/bin/bash
# Recipe: mcp-authd dev from a shell test. Start it on a port the OS picks, read its one
# JSON line, get tokens, and check what your MCP server must accept and refuse.
set -euo pipefail
MCP_AUTHD=${MCP_AUTHD:-mcp-authd}
RESOURCE=http://127.0.0.1:3000/mcp   # your MCP server's URL

coproc DEV { exec "$MCP_AUTHD" dev --port 0 --resource "$RESOURCE" 2>/dev/null; }
trap 'kill $DEV_PID' EXIT
read -r SETTINGS <&"${DEV[0]}"                      # {"issuer":...,"client":{...},...}
ISSUER=$(jq -r .issuer <<<"$SETTINGS")
CLIENT_ID=$(jq -r .client.client_id <<<"$SETTINGS")
CLIENT_SECRET=$(jq -r .client.client_secret <<<"$SETTINGS")

# A real token through the real grant...
TOKEN=$(curl -fsS -u "$CLIENT_ID:$CLIENT_SECRET" "$ISSUER/token" \
	-d grant_type=client_credentials -d resource="$RESOURCE" | jq -r .access_token)
# ...or one with exactly the claims a test needs...
ADMIN=$(curl -fsS "$ISSUER/dev/token" -d '{"sub":"alice","scope":"admin"}' | jq -r .access_token)
# ...or one your server must refuse.
EXPIRED=$(curl -fsS "$ISSUER/dev/bad-token?kind=expired" -d '{}' | jq -r .access_token)

# Here your test would call your MCP server with each token. This recipe checks the
# tokens' audience itself, as your server's verification would.
aud() { cut -d. -f2 <<<"$1" | tr '_-' '/+' | base64 -d 2>/dev/null | jq -r .aud; }
[ "$(aud "$TOKEN")" = "$RESOURCE" ]
[ "$(aud "$ADMIN")" = "$RESOURCE" ]
[ -n "$EXPIRED" ]
echo "shell recipe: ok"
