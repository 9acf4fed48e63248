#!/bin/bash
# Interop: tokens from `token mint` verify against the served JWKS with libraries we did
# not write (jose from npm, python3-jwcrypto from Debian), for each algorithm; and a
# tampered token or a wrong audience is refused by both.
. "${TOP_SRCDIR:-.}/tests/integ/lib.sh"

IOP="$TOP_SRCDIR/tests/interop"
[ -d "$IOP/node_modules/jose" ] || skip_all "npm packages missing: run contrib/install-deps"
"$PYTHON3" -c 'import jwcrypto' 2>/dev/null || skip_all "python3-jwcrypto missing"
NODE=$IOP/node_modules/.bin/node
[ -x "$NODE" ] || NODE=${NODE:-node}

RES=https://files.mcp.example.com/mcp
for alg in ES256 EdDSA RS256; do
	db_reset
	rm -f "$MCP_AUTHD_MASTER_KEY_FILE"
	init_db --signing-alg "$alg"
	authd resource add "$RES" --scopes "files:read files:write" >/dev/null
	start_serve
	tok=$(authd token mint --resource "$RES" --sub alice --scope files:read)
	out=$("$NODE" "$IOP/verify_jose.mjs" "$ISSUER" "$RES" "$tok")
	ok $? "$alg: jose verifies the minted token against /jwks.json"
	is "$(echo "$out" | jq -r .header.alg)" "$alg" "$alg: header alg"
	is "$(echo "$out" | jq -r .header.typ)" "at+jwt" "$alg: typ at+jwt"
	is "$(echo "$out" | jq -r .claims.aud)" "$RES" "$alg: aud is the resource, a string"
	is "$(echo "$out" | jq -r .claims.scope)" "files:read" "$alg: scope"
	out=$("$PYTHON3" "$IOP/verify_jwcrypto.py" "$ISSUER" "$RES" "$tok")
	ok $? "$alg: jwcrypto verifies it too"
	is "$(echo "$out" | jq -r .claims.sub)" alice "$alg: jwcrypto sees sub"
	"$NODE" "$IOP/verify_jose.mjs" "$ISSUER" "https://other.example" "$tok" 2>/dev/null
	is $? 1 "$alg: jose refuses it for another audience"
	# Change one character in the middle of the signature (the last one may carry
	# only padding bits, which lenient decoders ignore).
	sig=${tok##*.}
	c=${sig:10:1}
	bad="${tok%.*}.${sig:0:10}$([ "$c" = A ] && echo B || echo A)${sig:11}"
	"$NODE" "$IOP/verify_jose.mjs" "$ISSUER" "$RES" "$bad" 2>/dev/null
	is $? 1 "$alg: jose refuses a tampered signature"
	"$PYTHON3" "$IOP/verify_jwcrypto.py" "$ISSUER" "$RES" "$bad" 2>/dev/null
	is $? 1 "$alg: jwcrypto refuses a tampered signature"
	stop_serve
done
done_testing
