#!/bin/bash
# Enterprise sign-in against a hostile upstream provider (tests/integ/hostile_idp.py):
# every ID token and protocol failure ends in a clear page and an audit record, never a
# session. One provider per failure, all on one local server.
. "${TOP_SRCDIR:-.}/tests/integ/lib.sh"
/usr/bin/python3 -c 'import jwcrypto' 2>/dev/null || skip_all "python3-jwcrypto is not installed"

init_db
RES=https://files.example.com/mcp
authd resource add "$RES" --name Files --scopes "files:read" >/dev/null
APP=$(authd --json client add --name Notes --public --redirect-uri http://127.0.0.1/callback |
	jq -r .client_id)
printf 'local-pass-1\n' | authd user add dave@corp.example --password-stdin >/dev/null

/usr/bin/python3 "$TOP_SRCDIR/tests/integ/hostile_idp.py" "$T/idp.port" 2>"$T/idp.err" &
IDP_PID=$!
CLEANUP_EXTRA='kill $IDP_PID 2>/dev/null'
for _ in $(seq 1 100); do [ -s "$T/idp.port" ] && break; sleep 0.05; done
IDP=http://127.0.0.1:$(cat "$T/idp.port")
MODES="good post nonce iss aud expired alg-none hs256 unknown-kid no-sub unverified slow big issuer-mismatch error"
for m in $MODES; do
	extra=--jit
	[ "$m" = unverified ] && extra=--link-verified-email
	printf 'hostile-secret\n' | authd idp add "h-$m" --issuer "$IDP/$m" --client-id authd \
		--client-secret-stdin $extra --allow-private >/dev/null || echo "# idp add h-$m failed"
done
is "$(authd --json idp list | jq length)" "$(echo $MODES | wc -w)" "one provider per failure"
start_serve

fed() { "$PYTHON3" "$TOP_SRCDIR/tests/integ/federation.py" "$@"; }
val() { printf '%s\n' "$1" | sed -n "s/^$2=//p" | head -1; }
last_refusal() {
	authd audit tail -n 50 --json |
		jq -r '[.[] | select(.event == "upstream.refused")] | last | "\(.reason) \(.detail)"'
}
# signed_in JAR: does that browser now have a session? (/authorize would not show the login
# page but go on to consent or a code)
signed_in() {
	local out
	out=$(fed "$1" start "$ISSUER" "$APP" "$RES" "files:read" 0)
	[ "$(val "$out" start)" != 200 ]
}

out=$(fed "$T/jar-good" login "$ISSUER" "$APP" "$RES" "files:read" x h-good)
is "$(val "$out" callback)" 303 "the well-behaved mode signs in (the harness works)"
is "$(val "$out" token)" 200 "and ends in a token"
out=$(fed "$T/jar-post" login "$ISSUER" "$APP" "$RES" "files:read" x h-post)
is "$(val "$out" token)" 200 "a provider that takes only client_secret_post: the secret goes in the form"

# refused MODE REASON-REGEX DESCRIPTION
refused() {
	local mode=$1 reason=$2 what=$3 out
	out=$(fed "$T/jar-$mode" login "$ISSUER" "$APP" "$RES" "files:read" x "h-$mode")
	like "$(val "$out" callback)" '^(4|5)[0-9][0-9]$' "$what: the callback refuses ($(val "$out" callback))"
	like "$(val "$out" page)" "failed|cannot|may not|refused|declined|did not" "$what: with a page saying so"
	like "$(last_refusal)" "$reason" "$what: audited ($(last_refusal | cut -c1-60))"
	signed_in "$T/jar-$mode"
	is $? 1 "$what: no session"
}
refused nonce '^nonce \{"idp":"h-nonce"' "an ID token with another nonce"
refused iss '^iss ' "an ID token from another issuer"
refused aud '^aud ' "an ID token for another client"
refused expired '^exp ' "an expired ID token"
refused alg-none '^alg ' "alg none"
refused hs256 '^alg ' "HS256 keyed with the public key"
refused unknown-kid '^unknown_kid ' "a kid the JWKS never publishes (after one refetch)"
is "$(grep -c '^GET /unknown-kid/jwks$' "$T/idp.port.log")" 1 \
	"the unknown kid made no second JWKS fetch within the cool-down (fetched once)"
refused unknown-kid '^unknown_kid ' "the same again"
is "$(grep -c '^GET /unknown-kid/jwks$' "$T/idp.port.log")" 1 \
	"and a second sign-in with an unknown kid does not fetch the JWKS again (no amplification)"
refused no-sub '^sub ' "no sub"
refused slow "token endpoint.*(Timeout|timed out)" "a token endpoint slower than 10 s"
refused big "larger than" "a 300 KiB token answer"
refused error "the provider answered server_error" "an error from the authorization endpoint"

# An unverified email never links to the local user of that name.
out=$(fed "$T/jar-unverified" login "$ISSUER" "$APP" "$RES" "files:read" x h-unverified)
is "$(val "$out" callback)" 403 "email_verified false with linking on: refused (no JIT either)"
is "$(authd --json user list | jq -r '.[] | select(.name == "dave@corp.example") | .idp')" null \
	"the local user of that email stays unlinked"
like "$(last_refusal)" "no user for this subject" "audited"

# A discovery document naming another issuer: refused before the browser leaves.
out=$(fed "$T/jar-mix" start "$ISSUER" "$APP" "$RES" "files:read" h-issuer-mismatch)
is "$(val "$out" upstream)" "" "a discovery document naming another issuer: the browser is not sent there"
like "$(val "$out" page)" "cannot be reached" "a page says the provider cannot be used"
like "$(last_refusal)" "another issuer" "audited"

# Garbage at the callback.
out=$(fed "$T/jar-g" get "$ISSUER/idp/h-good/callback")
like "$out" "^status=400 " "a callback without state: 400 page"
out=$(fed "$T/jar-g" get "$ISSUER/idp/NOPE/callback?state=x")
like "$out" "^status=404 " "a callback for a name that cannot exist: 404"
out=$(fed "$T/jar-g" get "$ISSUER/idp/h-good/other")
like "$out" "^status=404 " "another path under /idp/: 404"
out=$(fed "$T/jar-g" get "$ISSUER/idp/h-good/callback?state=$(printf 'x%.0s' $(seq 1 300))")
like "$out" "^status=400 " "an oversized state: 400"
req GET "$BASE/healthz"
is "$STATUS" 200 "the server still answers"
unlike "$(cat "$T/serve.log")" "hostile-secret" "the provider's secret never reaches the log"
done_testing
