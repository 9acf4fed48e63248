#!/bin/bash
# The hostile-input catalogue (issue 9): every case of tests/hostile/catalogue.json sent
# over real HTTP to a real daemon, one TAP line each; then the server must still answer,
# the database must be intact and nothing a legitimate client holds may be lost.
. "${TOP_SRCDIR:-.}/tests/integ/lib.sh"

HOSTILE=$TOP_SRCDIR/tests/hostile

init_db
A=https://files.example.com/mcp
B=https://calendar.example.com/mcp
authd resource add "$A" --name Files --scopes "read write" --default-scopes read >/dev/null
authd resource add "$B" --name Calendar --scopes "read" >/dev/null
authd resource allow-exchange "$A" "$B" --scopes read >/dev/null
printf 'correct horse\n' | authd user add alice --password-stdin >/dev/null
APP=$(authd --json client add --name '<script>alert(1)</script>' --public \
	--redirect-uri http://127.0.0.1/callback --redirect-uri https://app.example.com/cb | jq -r .client_id)
OTHER=$(authd --json client add --name Other --public --redirect-uri http://127.0.0.1/other | jq -r .client_id)
M=$(authd --json client add --name Machine --resource "$A")
M_ID=$(echo "$M" | jq -r .client_id)
M_SECRET=$(echo "$M" | jq -r .client_secret)
SA=$(authd --json client add --name "Files MCP server" --acts-for "$A")
SA_ID=$(echo "$SA" | jq -r .client_id)
SA_SECRET=$(echo "$SA" | jq -r .client_secret)
REG_TOKEN=$(authd --json client registration-token | jq -r .registration_token)
USER_A=$(authd token mint --resource "$A" --sub alice --scope read --ttl 600)
USER_B=$(authd token mint --resource "$B" --sub alice --scope read)
EXPIRED=$(authd token mint --resource "$A" --sub alice --ttl 1)
EXPIRED_AT=$(($(date +%s) + 2))
openssl ecparam -genkey -name prime256v1 -noout -out "$T/foreign.pem" 2>/dev/null
start_serve || { echo "Bail out! the server did not start"; exit 1; }
curl -fs "$BASE/jwks.json" >"$T/jwks.json"

enc() { "$PYTHON3" -c 'import sys, urllib.parse as u; print(u.quote(sys.argv[1], safe=""))' "$1"; }
basic() { printf 'Basic %s' "$(printf '%s' "$1" | base64 -w0)"; }
pkce
REDIRECT_ENC=$(enc http://127.0.0.1:7777/callback)
A_ENC=$(enc "$A")
AUTHZ_NO_RESOURCE="response_type=code&client_id=$APP&redirect_uri=$REDIRECT_ENC&code_challenge=$CHALLENGE&code_challenge_method=S256"
AUTHZ_NO_REDIRECT="response_type=code&client_id=$APP&code_challenge=$CHALLENGE&code_challenge_method=S256&resource=$A_ENC"
export APP OTHER M_ID M_SECRET SA_ID A B A_ENC REDIRECT_ENC CHALLENGE VERIFIER USER_A USER_B EXPIRED \
	REG_TOKEN AUTHZ_NO_RESOURCE AUTHZ_NO_REDIRECT
export B_ENC=$(enc "$B")
export GOOD_AUTHZ="$AUTHZ_NO_REDIRECT&redirect_uri=$REDIRECT_ENC"
export M_BASIC=$(basic "$M_ID:$M_SECRET")
export M_BASIC_NUL=$(printf '%s\0:%s' "$M_ID" "$M_SECRET" | base64 -w0 | sed 's/^/Basic /')
export SA_BASIC=$(basic "$SA_ID:$SA_SECRET")
export TE=urn:ietf:params:oauth:grant-type:token-exchange
export AT_TYPE=urn:ietf:params:oauth:token-type:access_token
export HOSTILE_TOKEN=$USER_A HOSTILE_JWKS=$T/jwks.json HOSTILE_FOREIGN_KEY=$T/foreign.pem

# What a legitimate client holds before the attack, to compare after it.
COUNTS_SQL="select (select count(*) from clients) || ' ' || (select count(*) from users) || ' ' || (select count(*) from resources) || ' ' || (select count(*) from \"keys\")"
BEFORE=$(db_query "$COUNTS_SQL")

while [ "$(date +%s)" -lt "$EXPIRED_AT" ]; do sleep 0.2; done # the expired token's case

# ---- the catalogue ----
"$PYTHON3" "$HOSTILE/hostile.py" "$HOSTILE/catalogue.json" 127.0.0.1 "$PORT" >"$T/cases.out" 2>"$T/cases.err"
runner_rc=$?
while IFS= read -r line; do
	case $line in
	"ok - "*) ok 0 "${line#ok - }" ;;
	"not ok - "*) ok 1 "${line#not ok - }" ;;
	*) echo "$line" ;;
	esac
done <"$T/cases.out"
[ -s "$T/cases.err" ] && sed 's/^/# runner: /' "$T/cases.err"
[ "$runner_rc" -le 1 ]; ok $? "the runner itself ran to the end"
CASES=$(grep -c '^\(not \)\?ok - ' "$T/cases.out")
[ "$CASES" -ge 70 ]; ok $? "at least 70 cases ($CASES)"

# ---- afterwards: still answering, nothing broken, nothing lost ----
kill -0 "$SERVER_PID" 2>/dev/null; ok $? "the server process is still running"
req GET "$BASE/healthz"
is "$STATUS" 200 "/healthz answers 200"
req GET "$BASE/readyz"
is "$STATUS" 200 "/readyz answers 200 (database reachable, key loaded)"
if ! db_is_pg; then
	is "$(db_query 'PRAGMA integrity_check')" ok "PRAGMA integrity_check is ok"
fi
# One client more: the registration with a script in its name, which is allowed.
is "$(db_query "$COUNTS_SQL")" "$(echo "$BEFORE" | awk '{print $1 + 1, $2, $3, $4}')" \
	"clients, users, resources and keys all still there (one client registered)"
req POST "$BASE/token" -u "$M_ID:$M_SECRET" -d grant_type=client_credentials -d resource="$A"
is "$STATUS" 200 "a normal client_credentials request still succeeds"
is "$(jwt_json 2 "$(jqr .access_token)" | jq -r .aud)" "$A" "with the right audience"
req POST "$BASE/token" -u "$SA_ID:$SA_SECRET" -d grant_type=$TE -d subject_token="$USER_A" \
	-d subject_token_type=$AT_TYPE -d resource="$B"
is "$STATUS" 200 "the real token survived the forged revocations: it still exchanges"
req POST "$BASE/introspect" -u "$SA_ID:$SA_SECRET" -d token="$USER_A"
is "$(jqr .active)" true "and is active to its resource server"
browse "$BASE/authorize?$GOOD_AUTHZ&state=after"
is "$STATUS" 200 "the login page still renders"
if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$T/serve.log"; then
	ok 1 "no sanitizer report in the server log"
	grep -E -A5 'AddressSanitizer|runtime error:' "$T/serve.log" | head -40 | sed 's/^/# /'
else
	ok 0 "no sanitizer report in the server log"
fi
unlike "$(cat "$T/serve.log")" "$USER_A|$M_SECRET|correct horse" "no token, secret or password in the log"

done_testing
