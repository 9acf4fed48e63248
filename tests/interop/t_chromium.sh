#!/bin/bash
# The sign-in pages in headless Chromium (tests/interop/chromium_flow.mjs): the password
# login and consent, the round trip through an upstream provider on another site
# (SameSite cookies, CSP, the redirect back to a loopback client), a keyboard-only pass
# over the login page, and a screenshot of each page in tests/screenshots/ (kept by CI).
. "${TOP_SRCDIR:-.}/tests/integ/lib.sh"

IOP="$TOP_SRCDIR/tests/interop"
[ -x /usr/bin/chromium ] || skip_all "chromium is not installed"
[ -d "$IOP/node_modules/puppeteer-core" ] || skip_all "npm packages missing: run contrib/install-deps"
NODE=$IOP/node_modules/.bin/node
[ -x "$NODE" ] || NODE=${NODE:-node}
SHOTS=${SCREENSHOT_DIR:-$PWD/tests/screenshots}
mkdir -p "$SHOTS" && rm -f "$SHOTS"/*.png

# mcp-authd on "localhost", the provider on "127.0.0.1": two sites for the browser.
PORT=$(free_port)
ISSUER="http://localhost:$PORT"
BASE="http://127.0.0.1:$PORT"
authd init --issuer "$ISSUER" >/dev/null
RES=https://files.example.com/mcp
authd resource add "$RES" --name Files --scopes "files:read files:write" >/dev/null
CB_PORT=$(free_port)
APP=$(authd --json client add --name "Notes" --public \
	--redirect-uri "http://127.0.0.1:$CB_PORT/callback" | jq -r .client_id)
printf 'hunter2-hunter2\n' | authd user add alice --password-stdin >/dev/null

IDP_PORT=$(free_port)
(cd "$IOP" && PORT=$IDP_PORT CLIENT_ID=authd CLIENT_SECRET=corp-secret-1 \
	REDIRECT_URI="$ISSUER/idp/corp/callback" \
	USERS='{"carol":{"email":"carol@corp.example","email_verified":true,"groups":["eng"]}}' \
	exec "$NODE" upstream_idp.mjs >"$T/idp.out" 2>"$T/idp.err") &
IDP_PID=$!
CLEANUP_EXTRA='kill $IDP_PID 2>/dev/null'
wait_http "http://127.0.0.1:$IDP_PORT/.well-known/openid-configuration"
ok $? "oidc-provider is up on another site"
printf 'corp-secret-1\n' | authd idp add corp --issuer "http://127.0.0.1:$IDP_PORT" \
	--client-id authd --client-secret-stdin --display-name "Corp SSO" \
	--scopes "openid email groups" --jit --allow-private >/dev/null
authd idp map corp --group eng --resource "$RES" --scopes files:read >/dev/null
start_serve

browse() {
	(cd "$IOP" && ISSUER=$ISSUER CLIENT_ID=$APP RESOURCE=$RES CALLBACK_PORT=$CB_PORT \
		USERNAME=alice PASSWORD=hunter2-hunter2 IDP_LOGIN=carol SHOTS=$SHOTS \
		timeout 120 "$NODE" chromium_flow.mjs 2>"$T/chromium.err")
}
out=$(browse)
# A browser on a loaded two-core machine (the suite runs two tests at a time) lost its
# first page in the -Werror pass of a CI run, and not in that run's ASan pass nor in any
# run of this test alone. What it saw is kept in the log; the whole flow then runs once more,
# and every check below is made on that second pass.
if [ "$(echo "$out" | jq -r '.failure // "none"' 2>/dev/null)" != none ]; then
	echo "# the first pass failed; what it saw:"
	echo "$out" | jq '{failure, failure_pages, login_url, login_title}' 2>&1 | sed 's/^/#   /' | cut -c1-300
	sed 's/^/#   stderr: /' "$T/chromium.err" | tail -20
	out=$(browse)
fi
echo "$out" | jq . 2>/dev/null | sed 's/^/# /' | cut -c1-160
is "$(echo "$out" | jq -r '.failure // "none"')" none "Chromium went through every page"
like "$(echo "$out" | jq -r .login_title)" "^Sign in" "the login page"
is "$(echo "$out" | jq -r '[.keyboard[] | .label] | join("|")')" \
	"Sign in with Corp SSO|Username|Password|Sign in" \
	"keyboard only: Tab reaches the provider's button, both fields and the sign-in button, in order"
is "$(echo "$out" | jq -r '.keyboard | length')" "$(echo "$out" | jq -r .controls)" \
	"every control of the page is reachable"
is "$(echo "$out" | jq -r '[.keyboard[] | select(.label == "")] | length')" 0 "and labelled"
like "$(echo "$out" | jq -r .consent_title)" "^Allow access" "typing and Enter signed in: the consent page"
is "$(echo "$out" | jq -r '[.consent_keyboard[] | .label] | join("|")')" "Deny|Allow" \
	"keyboard only on the consent page: Deny, then Allow"
is "$(echo "$out" | jq -r '.consent_keyboard | length')" "$(echo "$out" | jq -r .consent_controls)" \
	"every control of the consent page is reachable, and labelled"
is "$(echo "$out" | jq -r '.password_code.state')" pw-state "the password login ends with a code at the loopback client"
like "$(echo "$out" | jq -r '.password_code.code')" '^[A-Za-z0-9_-]{43}$' "a code"
is "$(echo "$out" | jq -r '.password_code.iss')" "$ISSUER" "with iss (RFC 9207)"
is "$(echo "$out" | jq -r .upstream_host)" "127.0.0.1:$IDP_PORT" "the button took the browser to the provider's site"
is "$(echo "$out" | jq -r .back_on)" "$ISSUER" "and the provider sent it back: the binding cookie crossed the sites (SameSite=Lax)"
like "$(echo "$out" | jq -r .federated_consent_text)" "files:read" "mcp-authd's consent for what carol's group reaches"
is "$(echo "$out" | jq -r '.federated_code.state')" idp-state "the federated sign-in ends with a code at the client"
like "$(echo "$out" | jq -r '.error_title')" "cannot continue" "an unknown client: the error page"
is "$(echo "$out" | jq -r '.csp_violations | length')" 0 "no Content-Security-Policy violation on any page"
for s in login consent upstream-login consent-federated error; do
	[ -s "$SHOTS/$s.png" ]; ok $? "screenshot $s.png kept"
done
done_testing
