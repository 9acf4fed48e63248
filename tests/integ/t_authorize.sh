#!/bin/bash
# The authorization code flow against the real daemon, driven like a browser with curl's
# cookie jar: login, consent, code, redemption, refresh; and every refusal on the way.
. "${TOP_SRCDIR:-.}/tests/integ/lib.sh"

init_db
FILES=https://files.example.com/mcp
CAL=https://calendar.example.com/mcp
authd resource add "$FILES" --name "Files" --scopes "files:read files:write" \
	--default-scopes files:read >/dev/null
authd resource add "$CAL" --name "Calendar" --scopes "cal:read" >/dev/null
authd resource add https://evil.example.com --name '<b>Evil</b>' --scopes '<script>x</script>' >/dev/null
printf 'correct horse\n' | authd user add alice --password-stdin >/dev/null
printf 'pw2\n' | authd user add mallory --password-stdin >/dev/null
APP=$(authd --json client add --name 'Notes <script>alert(1)</script>' --public \
	--redirect-uri http://127.0.0.1/callback --redirect-uri https://app.example.com/cb | jq -r .client_id)
OTHER=$(authd --json client add --name Other --public --redirect-uri http://127.0.0.1/other | jq -r .client_id)
CONF=$(authd --json client add --name Web --confidential --redirect-uri https://web.example.com/cb)
CONF_ID=$(echo "$CONF" | jq -r .client_id)
CONF_SECRET=$(echo "$CONF" | jq -r .client_secret)
DEFAULTED=$(authd --json client add --name Legacy --public --redirect-uri http://127.0.0.1/legacy \
	--default-resource "$FILES" | jq -r .client_id)
start_serve

REDIRECT=http://127.0.0.1:7777/callback
enc() { "$PYTHON3" -c 'import sys, urllib.parse as u; print(u.quote(sys.argv[1], safe=""))' "$1"; }
authz_url() { # authz_url [extra query...]: a good request for $APP, plus extras
	local q="response_type=code&client_id=$APP&redirect_uri=$(enc "$REDIRECT")"
	q="$q&code_challenge=$CHALLENGE&code_challenge_method=S256&resource=$(enc "$FILES")&state=st-123"
	local x
	for x in "$@"; do q="$q&$x"; done
	echo "$BASE/authorize?$q"
}
no_location() { [ -z "$(header Location)" ]; }

pkce

# ---- requests that must never redirect ----
browse "$BASE/authorize?response_type=code&client_id=nope&redirect_uri=$(enc "$REDIRECT")"
is "$STATUS" 400 "unknown client: 400"
check "unknown client: no redirect anywhere" no_location
like "$BODY" "not registered" "unknown client: an error page"
browse "$BASE/authorize?response_type=code&redirect_uri=$(enc "$REDIRECT")"
is "$STATUS" 400 "missing client_id: 400 page"
browse "$(authz_url | sed "s|redirect_uri=[^&]*|redirect_uri=$(enc https://attacker.example/cb)|")"
is "$STATUS" 400 "unregistered redirect URI: 400"
check "unregistered redirect URI: no redirect" no_location
browse "$(authz_url | sed "s|redirect_uri=[^&]*|redirect_uri=$(enc https://app.example.com/cb/x)|")"
is "$STATUS" 400 "redirect URI must match exactly (path)"
browse "$(authz_url | sed "s|redirect_uri=[^&]*|redirect_uri=$(enc https://app.example.com:8443/cb)|")"
is "$STATUS" 400 "https redirect URIs get no port latitude"
browse "$(authz_url | sed "s|redirect_uri=[^&]*|redirect_uri=$(enc http://localhost:7777/callback)|")"
is "$STATUS" 400 "localhost is not the registered 127.0.0.1"
browse "$(authz_url | sed "s|client_id=[^&]*|client_id=$OTHER|")"
is "$STATUS" 400 "another client's redirect URI: 400"
like "$(header X-Frame-Options)" DENY "error page: X-Frame-Options DENY"
like "$(header Content-Security-Policy)" "frame-ancestors 'none'" "error page: frame-ancestors 'none'"

# ---- errors redirected to the client, with state and iss ----
redirect_err() { # redirect_err WANT-ERROR DESCRIPTION URL [WANT-STATE]
	browse "$3"
	is "$STATUS" 303 "$2: redirected"
	is "$(qparam error "$LOCATION")" "$1" "$2: error=$1"
	is "$(qparam state "$LOCATION")" "${4-st-123}" "$2: state echoed"
	is "$(qparam iss "$LOCATION")" "$ISSUER" "$2: iss (RFC 9207)"
	like "$LOCATION" "^$REDIRECT\\?" "$2: to the registered redirect URI"
}
redirect_err unsupported_response_type "response_type=token" "$(authz_url | sed 's/response_type=code/response_type=token/')"
redirect_err invalid_request "no response_type" "$(authz_url | sed 's/response_type=code&//')"
redirect_err invalid_request "no code_challenge" "$(authz_url | sed 's/code_challenge=[^&]*&//')"
redirect_err invalid_request "PKCE plain" "$(authz_url | sed 's/code_challenge_method=S256/code_challenge_method=plain/')"
redirect_err invalid_request "no code_challenge_method" "$(authz_url | sed 's/&code_challenge_method=S256//')"
redirect_err invalid_request "malformed code_challenge" "$(authz_url | sed 's/code_challenge=[^&]*/code_challenge=short/')"
redirect_err invalid_target "no resource" "$(authz_url | sed 's/&resource=[^&]*//')"
redirect_err invalid_target "unknown resource" "$(authz_url "resource=$(enc https://unknown.example.com)")"
redirect_err invalid_target "resource with a fragment" "$(authz_url | sed "s|resource=[^&]*|resource=$(enc "$FILES#x")|")"
redirect_err invalid_target "resource with a query" "$(authz_url | sed "s|resource=[^&]*|resource=$(enc "$FILES?x=1")|")"
redirect_err invalid_scope "scope the resource does not allow" "$(authz_url scope=admin)"
redirect_err invalid_scope "scope of another resource" "$(authz_url scope=cal:read)"
redirect_err invalid_request "repeated state" "$(authz_url state=again)" ""
redirect_err invalid_request "response_mode=fragment" "$(authz_url response_mode=fragment)"
redirect_err login_required "prompt=none without a session" "$(authz_url prompt=none)"

# ---- login ----
browse "$(authz_url)"
is "$STATUS" 200 "a good request shows the login page"
like "$BODY" 'name="password"' "with a password field"
like "$BODY" 'name="csrf_token" value="[A-Za-z0-9_-]{43}"' "and a CSRF token"
like "$BODY" "Notes &lt;script&gt;alert\\(1\\)&lt;/script&gt;" "client name escaped"
unlike "$BODY" 'class="(unverified|vouch)"' "a client the operator added: its name alone"
unlike "$BODY" "<script>alert" "no raw script from the client name"
is "$(header Cache-Control)" no-store "login page: no-store"
is "$(header X-Frame-Options)" DENY "login page: X-Frame-Options DENY"
like "$(header Content-Security-Policy)" "frame-ancestors 'none'" "login page: CSP frame-ancestors"
like "$(header Set-Cookie)" "mcp_authd_csrf=.*HttpOnly; SameSite=Lax" "CSRF cookie is HttpOnly, SameSite=Lax"
LOGIN_PAGE=$BODY

submit username=alice password=wrong
is "$STATUS" 401 "wrong password: 401"
like "$BODY" "Wrong username or password" "with a message"
unlike "$(header Set-Cookie)" "mcp_authd_session" "and no session"
BODY=$LOGIN_PAGE
submit username=nobody password=x
is "$STATUS" 401 "unknown user: the same answer"
like "$BODY" "Wrong username or password" "indistinguishable from a wrong password"

BODY=$LOGIN_PAGE
submit username=alice password='correct horse' csrf_token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
is "$STATUS" 403 "a forged CSRF token is refused"
BODY=$LOGIN_PAGE
out=$(printf '%s' "$BODY" | "$PYTHON3" "$TOP_SRCDIR/tests/integ/formdata.py" username=alice "password=correct horse")
req POST "$(echo "$out" | head -1)" --data "$(echo "$out" | tail -1)"
is "$STATUS" 403 "a right token without the browser's cookie is refused (cross-site post)"
BODY=$LOGIN_PAGE
submit username=alice "password=correct horse" state=changed
is "$STATUS" 403 "the CSRF token covers the request parameters"

BODY=$LOGIN_PAGE
submit username=alice "password=correct horse"
is "$STATUS" 200 "right password: the consent page"
like "$(header Set-Cookie)" "mcp_authd_session=[A-Za-z0-9_-]{43}; Path=/; Max-Age=[0-9]+; HttpOnly; SameSite=Lax" \
	"session cookie: HttpOnly, SameSite=Lax"
unlike "$(header Set-Cookie)" "Secure" "no Secure flag on an http issuer"
like "$BODY" "Notes &lt;script&gt;" "consent: the client's name, escaped"
like "$BODY" 'class="host">127.0.0.1<' "consent: the redirect URI's host"
like "$BODY" "Files <code>$FILES</code>" "consent: the resource by name and URI"
like "$BODY" "<code>files:read</code>" "consent: the default scope"
unlike "$BODY" "only receives answers on this computer" "consent: no loopback warning for a client with an https redirect URI"
CONSENT_PAGE=$BODY
submit decision=deny
is "$STATUS" 303 "deny redirects"
is "$(qparam error "$LOCATION")" access_denied "with access_denied"
is "$(qparam state "$LOCATION")" st-123 "and the state"

BODY=$CONSENT_PAGE
submit decision=allow
is "$STATUS" 303 "allow redirects"
CODE=$(qparam code "$LOCATION")
like "$CODE" '^[A-Za-z0-9_-]{43}$' "with a 256-bit code"
is "$(qparam state "$LOCATION")" st-123 "and the state"
is "$(qparam iss "$LOCATION")" "$ISSUER" "and iss"
like "$LOCATION" "^http://127.0.0.1:7777/callback\\?" "to the loopback URI with the port asked (RFC 8252 §7.3)"

# ---- token ----
token() { req POST "$BASE/token" "$@"; }
token -d grant_type=authorization_code -d client_id="$APP" -d code="$CODE" \
	-d code_verifier="$VERIFIER" -d redirect_uri="$REDIRECT"
is "$STATUS" 200 "code redeemed"
is "$(header Cache-Control)" no-store "token response: no-store"
is "$(jqr .token_type)" Bearer "token_type Bearer"
is "$(jqr .expires_in)" 600 "expires_in"
is "$(jqr .scope)" files:read "scope"
AT=$(jqr .access_token)
RT=$(jqr .refresh_token)
like "$RT" '^[A-Za-z0-9_-]{43}$' "a refresh token"
is "$(jwt_json 1 "$AT" | jq -r .typ)" at+jwt "typ at+jwt"
CLAIMS=$(jwt_json 2 "$AT")
is "$(echo "$CLAIMS" | jq -r '.aud | type')" string "aud is a string"
is "$(echo "$CLAIMS" | jq -r .aud)" "$FILES" "aud is the one resource"
is "$(echo "$CLAIMS" | jq -r .sub)" alice "sub is the user"
is "$(echo "$CLAIMS" | jq -r .client_id)" "$APP" "client_id"
is "$(echo "$CLAIMS" | jq -r .iss)" "$ISSUER" "iss"
is "$(echo "$CLAIMS" | jq -r '[.iat, .nbf, .exp, .jti, .auth_time] | map(. != null) | all')" true \
	"iat, nbf, exp, jti, auth_time present"

token -d grant_type=authorization_code -d client_id="$APP" -d code="$CODE" \
	-d code_verifier="$VERIFIER" -d redirect_uri="$REDIRECT"
is "$STATUS" 400 "second redemption refused"
is "$(jqr .error)" invalid_grant "invalid_grant"
token -d grant_type=refresh_token -d client_id="$APP" -d refresh_token="$RT"
is "$(jqr .error)" invalid_grant "the replay revoked the refresh token of the first redemption"

# A fresh code (consent is remembered now: straight back with a code).
new_code() { # new_code [extra query...]: sets CODE
	pkce
	browse "$(authz_url "$@")"
	CODE=$(qparam code "$LOCATION")
}
new_code
is "$STATUS" 303 "consent remembered: straight back to the client"
like "$CODE" '^[A-Za-z0-9_-]{43}$' "with a code"
token -d grant_type=authorization_code -d client_id="$APP" -d code="$CODE" \
	-d code_verifier="$(printf 'x%.0s' $(seq 43))" -d redirect_uri="$REDIRECT"
is "$(jqr .error)" invalid_grant "wrong code_verifier: invalid_grant"
token -d grant_type=authorization_code -d client_id="$APP" -d code="$CODE" \
	-d code_verifier="$VERIFIER" -d redirect_uri="$REDIRECT"
is "$(jqr .error)" invalid_grant "a code tried with a wrong verifier is spent"
new_code
token -d grant_type=authorization_code -d client_id="$APP" -d code="$CODE" -d redirect_uri="$REDIRECT"
is "$(jqr .error)" invalid_request "no code_verifier: invalid_request"
new_code
token -d grant_type=authorization_code -d client_id="$APP" -d code="$CODE" \
	-d code_verifier="$VERIFIER" -d redirect_uri=http://127.0.0.1:7777/other
is "$(jqr .error)" invalid_grant "redirect_uri mismatch: invalid_grant"
new_code
token -d grant_type=authorization_code -d client_id="$APP" -d code="$CODE" \
	-d code_verifier="$VERIFIER"
is "$(jqr .error)" invalid_grant "redirect_uri left out after it was given: invalid_grant"
new_code
token -d grant_type=authorization_code -d client_id="$OTHER" -d code="$CODE" \
	-d code_verifier="$VERIFIER" -d redirect_uri="$REDIRECT"
is "$(jqr .error)" invalid_grant "another client's code: invalid_grant"
new_code
token -d grant_type=authorization_code -d client_id="$APP" -d code="$CODE" \
	-d code_verifier="$VERIFIER" -d redirect_uri="$REDIRECT" -d resource="$CAL"
is "$(jqr .error)" invalid_target "a resource the code does not cover: invalid_target"

# Two resources granted: the token request must pick one; each token has one audience.
pkce
browse "$(authz_url "resource=$(enc "$CAL")" "scope=$(enc 'files:read cal:read')")"
is "$STATUS" 200 "a new resource set needs consent again"
submit decision=allow
CODE=$(qparam code "$LOCATION")
token -d grant_type=authorization_code -d client_id="$APP" -d code="$CODE" \
	-d code_verifier="$VERIFIER" -d redirect_uri="$REDIRECT"
is "$(jqr .error)" invalid_target "two resources granted, none named: invalid_target"
pkce
browse "$(authz_url "resource=$(enc "$CAL")" "scope=$(enc 'files:read cal:read')")"
CODE=$(qparam code "$LOCATION")
token -d grant_type=authorization_code -d client_id="$APP" -d code="$CODE" \
	-d code_verifier="$VERIFIER" -d redirect_uri="$REDIRECT" -d resource="$CAL" -d resource="$FILES"
is "$(jqr .error)" invalid_target "two resources in one token request: invalid_target"
pkce
browse "$(authz_url "resource=$(enc "$CAL")" "scope=$(enc 'files:read cal:read')")"
CODE=$(qparam code "$LOCATION")
token -d grant_type=authorization_code -d client_id="$APP" -d code="$CODE" \
	-d code_verifier="$VERIFIER" -d redirect_uri="$REDIRECT" -d resource="$CAL"
is "$STATUS" 200 "naming one of the two: a token"
is "$(jwt_json 2 "$(jqr .access_token)" | jq -r .aud)" "$CAL" "aud is the one named"
is "$(jqr .scope)" cal:read "scope narrowed to what that resource allows"
RT2=$(jqr .refresh_token)
token -d grant_type=refresh_token -d client_id="$APP" -d refresh_token="$RT2" -d resource="$FILES"
is "$STATUS" 200 "the refresh token can switch to the other granted resource"
is "$(jwt_json 2 "$(jqr .access_token)" | jq -r .aud)" "$FILES" "aud is that resource"
is "$(jqr .scope)" files:read "with its scope"
RT3=$(jqr .refresh_token)

# ---- refresh rotation ----
token -d grant_type=refresh_token -d client_id="$APP" -d refresh_token="$RT3" \
	-d resource=https://unknown.example.com
is "$(jqr .error)" invalid_target "refresh to an ungranted resource: invalid_target"
token -d grant_type=refresh_token -d client_id="$APP" -d refresh_token="$RT3" -d resource="$FILES" \
	-d scope="files:read files:write"
is "$(jqr .error)" invalid_scope "refresh to a wider scope: invalid_scope"
token -d grant_type=refresh_token -d client_id="$OTHER" -d refresh_token="$RT3" -d resource="$FILES"
is "$(jqr .error)" invalid_grant "another client's refresh token: invalid_grant"
token -d grant_type=refresh_token -d client_id="$APP" -d refresh_token="$RT3" -d resource="$CAL" \
	-d scope=cal:read
is "$STATUS" 200 "refresh after refused attempts still works (they spent nothing)"
RT4=$(jqr .refresh_token)
[ "$RT4" != "$RT3" ]; ok $? "rotated: a new refresh token"
token -d grant_type=refresh_token -d client_id="$APP" -d refresh_token="$RT3" -d resource="$CAL"
is "$(jqr .error)" invalid_grant "reuse of a rotated token: invalid_grant"
token -d grant_type=refresh_token -d client_id="$APP" -d refresh_token="$RT4" -d resource="$CAL"
is "$(jqr .error)" invalid_grant "and the whole family is revoked, the newest token included"
authd audit tail -n 50 --json >"$T/audit.json"
is "$(jq '[.[] | select(.event == "refresh.reused")] | length' "$T/audit.json")" 1 "reuse audited"
# Two replays above: the second redemption, and the code spent by a wrong verifier.
is "$(jq '[.[] | select(.event == "code.replayed")] | length' "$T/audit.json")" 2 "code replays audited"

# ---- client authentication ----
REDIRECT=https://web.example.com/cb
pkce
q="response_type=code&client_id=$CONF_ID&code_challenge=$CHALLENGE&code_challenge_method=S256&resource=$(enc "$FILES")&state=s"
browse "$BASE/authorize?$q"
is "$STATUS" 200 "the only redirect URI may be left out: consent page"
submit decision=allow
CODE=$(qparam code "$LOCATION")
like "$LOCATION" "^https://web.example.com/cb\\?" "redirected to the only registered URI"
token -d grant_type=authorization_code -d code="$CODE" -d code_verifier="$VERIFIER" -d client_id="$CONF_ID"
is "$STATUS" 401 "confidential client without its secret: 401"
is "$(jqr .error)" invalid_client "invalid_client"
like "$(header WWW-Authenticate)" "^Basic" "with WWW-Authenticate"
token -d grant_type=authorization_code -d code="$CODE" -d code_verifier="$VERIFIER" \
	-u "$CONF_ID:wrong-secret"
is "$STATUS" 401 "wrong secret: 401"
token -d grant_type=authorization_code -d code="$CODE" -d code_verifier="$VERIFIER" \
	-u "$CONF_ID:$CONF_SECRET" -d client_secret="$CONF_SECRET"
is "$STATUS" 400 "two authentication methods at once: 400"
is "$(jqr .error)" invalid_request "invalid_request"
token -d grant_type=authorization_code -d code="$CODE" -d code_verifier="$VERIFIER" \
	-u "$CONF_ID:$CONF_SECRET"
is "$STATUS" 200 "client_secret_basic works"
RT=$(jqr .refresh_token)
token -d grant_type=refresh_token -d refresh_token="$RT" -d client_id="$CONF_ID" \
	-d client_secret="$CONF_SECRET"
is "$STATUS" 200 "client_secret_post works"
token -d grant_type=refresh_token -d refresh_token=x -d client_id="$APP" -d client_secret=x
is "$STATUS" 401 "a public client presenting a secret: 401"
token -d grant_type=refresh_token -d refresh_token=x
is "$STATUS" 401 "no client at all: 401"
token -d grant_type=password -d client_id="$APP"
is "$(jqr .error)" unsupported_grant_type "password grant: unsupported_grant_type"
NOREFRESH=$(authd --json client add --name NoRefresh --public --redirect-uri http://127.0.0.1/n \
	--grant authorization_code | jq -r .client_id)
token -d grant_type=refresh_token -d client_id="$NOREFRESH" -d refresh_token="$RT"
is "$(jqr .error)" unauthorized_client "a grant the client may not use: unauthorized_client"
req POST "$BASE/token" -H 'Content-Type: application/json' -d '{"grant_type":"refresh_token"}'
is "$(jqr .error)" invalid_request "a JSON body: invalid_request"
token -d grant_type=refresh_token -d grant_type=refresh_token -d client_id="$APP"
is "$(jqr .error)" invalid_request "repeated grant_type: invalid_request"

# ---- default_resource: refused when unset (above), used and audited when set ----
REDIRECT=http://127.0.0.1/legacy
pkce
browse "$BASE/authorize?response_type=code&client_id=$DEFAULTED&code_challenge=$CHALLENGE&code_challenge_method=S256&state=d"
is "$STATUS" 200 "no resource, but the client has a default: consent page"
like "$BODY" "$FILES" "for the default resource"
like "$BODY" "only receives answers on this computer" "consent warns when every redirect URI is loopback"
submit decision=allow
CODE=$(qparam code "$LOCATION")
token -d grant_type=authorization_code -d client_id="$DEFAULTED" -d code="$CODE" -d code_verifier="$VERIFIER"
is "$(jwt_json 2 "$(jqr .access_token)" | jq -r .aud)" "$FILES" "the token is for the default resource"
is "$(authd audit tail -n 50 --json | jq '[.[] | select(.event == "authorize.default_resource")] | length')" 1 \
	"its use is audited"

# ---- hostile values on the pages ----
REDIRECT=http://127.0.0.1:7777/callback
pkce
browse "$(authz_url | sed "s|resource=[^&]*|resource=$(enc https://evil.example.com)|")&scope=$(enc '<script>x</script>')"
is "$STATUS" 200 "a hostile resource name and scope reach the consent page"
like "$BODY" "&lt;b&gt;Evil&lt;/b&gt;" "resource name escaped"
like "$BODY" "&lt;script&gt;x&lt;/script&gt;" "scope escaped"
unlike "$BODY" "<script>x" "nothing raw"
unlike "$BODY" "<b>Evil" "no raw markup"

# ---- prompt ----
pkce
browse "$(authz_url prompt=consent)"
is "$STATUS" 200 "prompt=consent asks again"
like "$BODY" 'name="decision"' "the consent page"
browse "$(authz_url prompt=login)"
like "$BODY" 'name="password"' "prompt=login asks for the password again"
browse "$(authz_url prompt=none)"
like "$(qparam code "$LOCATION")" '^[A-Za-z0-9_-]{43}$' "prompt=none with a session and consent: a code"

# ---- sessions of disabled users ----
authd user disable alice >/dev/null
browse "$(authz_url)"
like "$BODY" 'name="password"' "a disabled user's session no longer counts"

# ---- an https issuer (TLS ending at a proxy): __Host- cookies with Secure ----
stop_serve
PORT=$(free_port)
MCP_AUTHD_ALLOW_INSECURE_ISSUER=false authd init --issuer "https://127.0.0.1:$PORT" >/dev/null
BASE="http://127.0.0.1:$PORT"
start_serve
pkce
REDIRECT=http://127.0.0.1:7777/callback
browse "$BASE/authorize?response_type=code&client_id=$APP&redirect_uri=$(enc "$REDIRECT")&code_challenge=$CHALLENGE&code_challenge_method=S256&resource=$(enc "$FILES")"
is "$STATUS" 200 "https issuer: login page"
like "$(header Set-Cookie)" "^__Host-mcp_authd_csrf=[^;]+; Path=/; Max-Age=[0-9]+; HttpOnly; SameSite=Lax; Secure$" \
	"https issuer: __Host- prefix and Secure"
like "$BODY" "action=\"https://127.0.0.1:$PORT/authorize\"" "the form posts to the https issuer"

done_testing
