#!/bin/bash
# Enterprise sign-in (DESIGN.md §10.3) against a real upstream provider: panva's
# oidc-provider as the enterprise IdP, users with groups. The whole way: client ->
# mcp-authd -> "Sign in with Corp SSO" -> the provider's login and consent -> back ->
# mcp-authd's consent -> a token whose aud is the resource and whose scopes follow the
# group mapping. Then what must be refused: a replayed or foreign-browser state, a user
# outside the allowed groups, a group that reaches nothing, no JIT, a disabled user, the
# provider removed; and what must follow: idp_session_ttl, local_login = false.
. "${TOP_SRCDIR:-.}/tests/integ/lib.sh"

IOP="$TOP_SRCDIR/tests/interop"
[ -d "$IOP/node_modules/oidc-provider" ] || skip_all "npm packages missing: run contrib/install-deps"
NODE=$IOP/node_modules/.bin/node
[ -x "$NODE" ] || NODE=${NODE:-node}

init_db
RES=https://files.example.com/mcp
CAL=https://cal.example.com/mcp
authd resource add "$RES" --name Files --scopes "files:read files:write" >/dev/null
authd resource add "$CAL" --name Calendar --scopes "cal:read" >/dev/null
APP=$(authd --json client add --name Notes --public --redirect-uri http://127.0.0.1/callback |
	jq -r .client_id)
printf 'local-pass-1\n' | authd user add dave --password-stdin >/dev/null

# The enterprise's provider: alice (eng), bob (sales), carol (eng, pre-provisioned), erin
# (eng, disabled here).
IDP_PORT=$(free_port)
IDP=http://127.0.0.1:$IDP_PORT
USERS='{"alice":{"email":"alice@corp.example","email_verified":true,"groups":["eng"]},
"bob":{"email":"bob@corp.example","email_verified":true,"groups":["sales"]},
"carol":{"email":"carol@corp.example","email_verified":true,"groups":["eng","ops"]},
"erin":{"email":"erin@corp.example","email_verified":true,"groups":["eng"]}}'
(cd "$IOP" && PORT=$IDP_PORT CLIENT_ID=authd CLIENT_SECRET=corp-secret-1 \
	REDIRECT_URI="$ISSUER/idp/corp/callback" USERS="$USERS" \
	exec "$NODE" upstream_idp.mjs >"$T/idp.out" 2>"$T/idp.err") &
IDP_PID=$!
CLEANUP_EXTRA='kill $IDP_PID 2>/dev/null'
wait_http "$IDP/.well-known/openid-configuration"; ok $? "oidc-provider is up as the enterprise IdP"

printf 'corp-secret-1\n' | authd idp add corp --issuer "$IDP" --client-id authd \
	--client-secret-stdin --display-name "Corp SSO" --scopes "openid email groups" --jit \
	--allowed-groups "eng ops sales" --allow-private >/dev/null
ok $? "idp add"
authd idp map corp --group eng --resource "$RES" --scopes files:read >/dev/null
authd idp map corp --group ops --resource "$RES" --scopes files:write >/dev/null
authd idp map corp --group ops --resource "$CAL" >/dev/null
ok $? "eng reaches files:read; ops reaches files:write and the calendar"
start_serve

fed() { "$PYTHON3" "$TOP_SRCDIR/tests/integ/federation.py" "$@"; }
val() { printf '%s\n' "$1" | sed -n "s/^$2=//p" | head -1; }
audit_last() { # audit_last EVENT: the detail and reason of the last record of EVENT
	authd audit tail -n 200 --json |
		jq -r --arg e "$1" '[.[] | select(.event == $e)] | last | "\(.reason // "") \(.detail // "")"'
}

# ---- the whole way, as alice (eng) ----
out=$(fed "$T/jar-alice" login "$ISSUER" "$APP" "$RES" "files:read files:write" alice)
echo "$out" | sed 's/^/# /' | cut -c1-160
is "$(val "$out" start)" 200 "/authorize shows the login page"
is "$(val "$out" buttons)" 1 "with one 'Sign in with' button"
like "$(val "$out" callback_url)" "^$ISSUER/idp/corp/callback\\?" "the provider sends the browser back to the callback"
is "$(val "$out" callback)" 303 "the callback signs alice in and resumes the authorization"
is "$(val "$out" consent)" 200 "mcp-authd's own consent page follows"
is "$(val "$out" consent_scopes)" "files:read" "asking only for what eng reaches (files:write dropped)"
is "$(val "$out" token)" 200 "the code is redeemed"
AT=$(val "$out" access_token)
is "$(jwt_json 2 "$AT" | jq -r .aud)" "$RES" "the token's aud is the resource"
is "$(jwt_json 2 "$AT" | jq -r .scope)" "files:read" "its scope follows the group mapping"
is "$(jwt_json 2 "$AT" | jq -r .sub)" "corp:alice" "its sub is the JIT user, named after the provider"
is "$(authd --json user list | jq -c '.[] | select(.name == "corp:alice") | [.idp, .sub, .email, .groups]')" \
	'["corp","alice","alice@corp.example","[\"eng\"]"]' "JIT created corp:alice with the asserted email and groups"
like "$(audit_last user.created)" '"idp":"corp","sub":"alice","groups":\["eng"\]' \
	"the JIT creation is audited with provider, subject and groups"
like "$(audit_last upstream.login)" '"idp":"corp"' "and the sign-in"

# The same state again, from the same browser: used once.
out2=$(fed "$T/jar-alice" get "$(val "$out" callback_url)")
like "$out2" "^status=400 " "a replayed callback (the state taken) is refused"
like "$out2" "already completed" "with a clear page"
like "$(audit_last upstream.refused)" "unknown or replayed state" "and an audit record"

# ---- a callback in another browser than the one that started the sign-in ----
out=$(fed "$T/jar-x1" start "$ISSUER" "$APP" "$RES" "files:read")
UP=$(val "$out" upstream)
like "$UP" "^$IDP/auth\\?" "the button leads to the provider's authorization endpoint"
for p in response_type=code code_challenge_method=S256 "client_id=authd" "nonce=" "state="; do
	case "$UP" in *"$p"*) ok 0 "the upstream request carries $p" ;;
	*) ok 1 "the upstream request carries $p" ;; esac
done
STATE=$(qparam state "$UP")
out2=$(fed "$T/jar-x2" get "$ISSUER/idp/corp/callback?code=whatever&state=$STATE")
like "$out2" "^status=400 " "the state presented by another browser is refused"
like "$out2" "another browser" "saying so"
like "$(audit_last upstream.refused)" "state from another browser" "audited"
out2=$(fed "$T/jar-x1" get "$ISSUER/idp/corp/callback?code=whatever&state=$STATE")
like "$out2" "^status=400 " "and the state is spent: its own browser cannot use it afterwards"

# An error from the provider.
out=$(fed "$T/jar-x3" start "$ISSUER" "$APP" "$RES" "files:read")
STATE=$(qparam state "$(val "$out" upstream)")
out2=$(fed "$T/jar-x3" get "$ISSUER/idp/corp/callback?error=access_denied&state=$STATE")
like "$out2" "^status=403 " "an error answered upstream ends in a page"
like "$out2" "declined" "that says the sign-in was declined"
like "$(audit_last upstream.refused)" "the provider answered access_denied" "audited"

# ---- who may not come in ----
out=$(fed "$T/jar-bob" login "$ISSUER" "$APP" "$RES" "files:read" bob)
is "$(val "$out" callback)" 303 "bob (sales) signs in: sales is an allowed group"
is "$(val "$out" error)" access_denied "but sales reaches no resource: access_denied to the client"
is "$(val "$out" code)" no "and no code"
authd idp remove corp >/dev/null
printf 'corp-secret-1\n' | authd idp add corp --issuer "$IDP" --client-id authd \
	--client-secret-stdin --display-name "Corp SSO" --scopes "openid email groups" \
	--allowed-groups "eng ops" --allow-private >/dev/null
authd idp map corp --group eng --resource "$RES" --scopes files:read >/dev/null
authd idp map corp --group ops --resource "$RES" --scopes files:write >/dev/null
authd idp map corp --group ops --resource "$CAL" >/dev/null
ok $? "the provider again, without JIT and with allowed groups eng and ops"
out=$(fed "$T/jar-bob2" login "$ISSUER" "$APP" "$RES" "files:read" bob)
is "$(val "$out" callback)" 403 "bob (sales) is refused at the callback"
like "$(val "$out" page)" "do not include one this server admits" "with a page saying why"
like "$(audit_last upstream.refused)" 'not in an allowed group.*"groups":\["sales"\]' \
	"audited with the groups used"
out=$(fed "$T/jar-erin" login "$ISSUER" "$APP" "$RES" "files:read" erin)
is "$(val "$out" callback)" 403 "without JIT an unknown user is refused, never looped"
like "$(val "$out" page)" "user add NAME --idp PROVIDER --sub SUBJECT" "the page names the command for the administrator"
out=$(fed "$T/jar-alice2" login "$ISSUER" "$APP" "$RES" "files:read" alice)
is "$(val "$out" token)" 200 "alice, created before, still signs in without JIT"
RT=$(val "$out" refresh_token)

# carol, pre-provisioned, in eng and ops: files:read and files:write, and the calendar.
authd user add carol --idp corp --sub carol >/dev/null
out=$(fed "$T/jar-carol" login "$ISSUER" "$APP" "$RES" "files:read files:write" carol)
is "$(val "$out" token)" 200 "carol, pre-provisioned with user add --idp --sub, signs in"
is "$(jwt_json 2 "$(val "$out" access_token)" | jq -r '.sub + " " + .scope')" "carol files:read files:write" \
	"as carol, with the union of what eng and ops reach"
out=$(fed "$T/jar-carol-cal" login "$ISSUER" "$APP" "$CAL" "cal:read" carol)
is "$(jwt_json 2 "$(val "$out" access_token)" | jq -r .aud)" "$CAL" "ops reaches the calendar too"
out=$(fed "$T/jar-alice3" login "$ISSUER" "$APP" "$CAL" "cal:read" alice)
is "$(val "$out" error)" access_denied "eng does not reach the calendar: access_denied"

# A disabled user: user disable still wins over the provider.
authd user add erin --idp corp --sub erin >/dev/null
authd user disable erin >/dev/null
out=$(fed "$T/jar-erin2" login "$ISSUER" "$APP" "$RES" "files:read" erin)
is "$(val "$out" callback)" 403 "a disabled federated user is refused"
like "$(audit_last upstream.refused)" "account disabled" "audited"

# A federated user has no password here.
browse "$ISSUER/authorize?response_type=code&client_id=$APP&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcallback&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&resource=$(printf %s "$RES" | jq -sRr @uri)"
submit step=login username=carol password=! >/dev/null
is "$STATUS" 401 "the password form refuses a federated user, whatever the password"

# ---- a sign-in's life: idp_session_ttl ----
# alice's refresh token from her last sign-in works now and ends idp_session_ttl after it.
req POST "$BASE/token" -d grant_type=refresh_token -d client_id="$APP" --data-urlencode refresh_token="$RT"
is "$STATUS" 200 "alice's refresh token rotates"
RT=$(jqr .refresh_token)
stop_serve
MCP_AUTHD_IDP_SESSION_TTL=300 start_serve
db_exec "UPDATE token_families SET auth_time = auth_time - 400 WHERE user_id = (SELECT id FROM users WHERE name = 'corp:alice')"
req POST "$BASE/token" -d grant_type=refresh_token -d client_id="$APP" --data-urlencode refresh_token="$RT"
is "$STATUS $(jqr .error)" "400 invalid_grant" "once the upstream sign-in is older than idp_session_ttl, refresh is refused"
like "$(jqr .error_description)" "sign in again" "saying to sign in again upstream"
stop_serve

# ---- local_login = false ----
MCP_AUTHD_LOCAL_LOGIN=false start_serve
out=$(fed "$T/jar-only" start "$ISSUER" "$APP" "$RES" "files:read")
is "$(val "$out" start)" 303 "with local_login off and one provider, /authorize goes straight to it"
like "$(val "$out" upstream)" "^$IDP/auth\\?" "to the provider's authorization endpoint"
browse "$ISSUER/authorize?response_type=code&client_id=$APP&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcallback&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&resource=$(printf %s "$RES" | jq -sRr @uri)"
is "$STATUS" 303 "(the same with curl)"
printf 'x\n' | authd idp add other --issuer https://login.other.example --client-id x --client-secret-stdin >/dev/null
browse "$ISSUER/authorize?response_type=code&client_id=$APP&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcallback&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&resource=$(printf %s "$RES" | jq -sRr @uri)"
is "$STATUS" 200 "with two providers: the login page"
is "$(printf '%s' "$BODY" | grep -c 'Sign in with')" 2 "one button each"
unlike "$BODY" 'name="password"' "and no password form"
submit step=login username=dave password=local-pass-1 >/dev/null
is "$STATUS" 400 "a password login posted anyway is refused"
stop_serve

# ---- --link-verified-email: a local user named by the verified email ----
stop_serve
printf 'local-pass-2\n' | authd user add carol@corp.example --password-stdin >/dev/null
authd idp remove corp >/dev/null
authd idp remove other >/dev/null
printf 'corp-secret-1\n' | authd idp add corp --issuer "$IDP" --client-id authd \
	--client-secret-stdin --display-name "Corp SSO" --scopes "openid email groups" \
	--link-verified-email --allow-private >/dev/null
start_serve
db_exec "UPDATE users SET idp = NULL, idp_sub = NULL WHERE name = 'carol'"
out=$(fed "$T/jar-link" login "$ISSUER" "$APP" "$RES" "files:read" carol)
is "$(val "$out" token)" 200 "carol's verified email links her first sign-in to the local user of that name"
is "$(jwt_json 2 "$(val "$out" access_token)" | jq -r .sub)" "carol@corp.example" "the token is that user's"
is "$(authd --json user list | jq -c '.[] | select(.name == "carol@corp.example") | [.idp, .sub]')" \
	'["corp","carol"]' "now linked to (corp, carol)"
like "$(audit_last user.linked)" '"idp":"corp","sub":"carol"' "the link is audited"
browse "$ISSUER/authorize?response_type=code&client_id=$APP&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcallback&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&resource=$(printf %s "$RES" | jq -sRr @uri)"
submit step=login username=carol@corp.example password=local-pass-2 >/dev/null
is "$STATUS" 200 "a linked user keeps the password she had (the consent page follows)"
stop_serve

# ---- the provider removed: its users' tokens end ----
start_serve
out=$(fed "$T/jar-carol2" login "$ISSUER" "$APP" "$RES" "files:read" carol)
RT=$(val "$out" refresh_token)
authd idp remove corp >/dev/null
req POST "$BASE/token" -d grant_type=refresh_token -d client_id="$APP" --data-urlencode refresh_token="$RT"
is "$STATUS $(jqr .error)" "400 invalid_grant" "idp remove revokes its users' refresh tokens"
out=$(fed "$T/jar-carol3" get "$ISSUER/idp/corp/callback?code=x&state=y")
like "$out" "^status=400 " "its callback refuses an unknown state"
done_testing
