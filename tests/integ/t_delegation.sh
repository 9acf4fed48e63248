#!/bin/bash
# Machine clients and delegation against the real daemon: client_credentials, RFC 8693
# token exchange (the confused deputy refused), introspection, revocation, audit trail.
. "${TOP_SRCDIR:-.}/tests/integ/lib.sh"

export MCP_AUTHD_AUDIT_FILE="$T/audit.jsonl"
init_db
A=https://files.example.com/mcp
B=https://calendar.example.com/mcp
C=https://mail.example.com/mcp
authd resource add "$A" --name Files --scopes "read write" >/dev/null
authd resource add "$B" --name Calendar --scopes "read write" --ttl 300 >/dev/null
authd resource add "$C" --name Mail --scopes "read" >/dev/null
authd resource allow-exchange "$A" "$B" --scopes read >/dev/null
authd resource allow-exchange "$B" "$C" >/dev/null
mkclient() { authd --json client add "$@"; }
M=$(mkclient --name "Nightly job" --resource "$A")
M_ID=$(echo "$M" | jq -r .client_id); M_SECRET=$(echo "$M" | jq -r .client_secret)
SA=$(mkclient --name "Files MCP server" --acts-for "$A")
SA_ID=$(echo "$SA" | jq -r .client_id); SA_SECRET=$(echo "$SA" | jq -r .client_secret)
SB=$(mkclient --name "Calendar MCP server" --acts-for "$B")
SB_ID=$(echo "$SB" | jq -r .client_id); SB_SECRET=$(echo "$SB" | jq -r .client_secret)
ADM=$(mkclient --name Auditor --resource "$C" --introspect-admin)
ADM_ID=$(echo "$ADM" | jq -r .client_id); ADM_SECRET=$(echo "$ADM" | jq -r .client_secret)
PUB=$(mkclient --name Public --public --redirect-uri http://127.0.0.1/cb | jq -r .client_id)
start_serve

token() { req POST "$BASE/token" "$@"; }
TE=urn:ietf:params:oauth:grant-type:token-exchange
AT_TYPE=urn:ietf:params:oauth:token-type:access_token
exchange() { # exchange ID SECRET SUBJECT-TOKEN RESOURCE [curl args...]
	local id=$1 secret=$2 subject=$3 res=$4
	shift 4
	token -u "$id:$secret" -d grant_type=$TE -d subject_token="$subject" \
		-d subject_token_type=$AT_TYPE -d resource="$res" "$@"
}
claims() { jwt_json 2 "$1"; }

# ---- client_credentials ----
token -u "$M_ID:$M_SECRET" -d grant_type=client_credentials -d resource="$A"
is "$STATUS" 200 "client_credentials: a token"
is "$(header Cache-Control)" no-store "no-store"
M_TOKEN=$(jqr .access_token)
is "$(claims "$M_TOKEN" | jq -r .sub)" "$M_ID" "sub is the client id"
is "$(claims "$M_TOKEN" | jq -r .aud)" "$A" "aud is the resource"
is "$(claims "$M_TOKEN" | jq -r .scope)" "read write" "all the resource's scopes by default"
is "$(jqr 'has("refresh_token")')" false "no refresh token"
token -d grant_type=client_credentials -d resource="$A" -d client_id="$M_ID" -d client_secret="$M_SECRET" \
	-d scope=read
is "$(claims "$(jqr .access_token)" | jq -r .scope)" read "client_secret_post, narrower scope"
token -u "$M_ID:$M_SECRET" -d grant_type=client_credentials -d resource="$B"
is "$(jqr .error)" invalid_target "a resource the client was not registered for: invalid_target"
token -u "$M_ID:$M_SECRET" -d grant_type=client_credentials
is "$(jqr .error)" invalid_target "no resource: invalid_target"
token -u "$M_ID:$M_SECRET" -d grant_type=client_credentials -d resource=https://nowhere.example.com
is "$(jqr .error)" invalid_target "unknown resource: invalid_target"
token -u "$M_ID:$M_SECRET" -d grant_type=client_credentials -d resource="$A" -d scope=admin
is "$(jqr .error)" invalid_scope "scope outside the resource's: invalid_scope"
token -u "$M_ID:$M_SECRET" -d grant_type=client_credentials -d resource="$A" -d resource="$B"
is "$(jqr .error)" invalid_target "two resources: invalid_target"
token -u "$M_ID:nope" -d grant_type=client_credentials -d resource="$A"
is "$STATUS" 401 "wrong secret: 401"
is "$(jqr .error)" invalid_client "invalid_client"
token -d client_id="$PUB" -d grant_type=client_credentials -d resource="$A"
is "$STATUS" 401 "a public client cannot use client_credentials"
token -u "$SA_ID:$SA_SECRET" -d grant_type=client_credentials -d resource="$A"
is "$(jqr .error)" unauthorized_client "a client registered only for exchange: unauthorized_client"

# ---- token exchange ----
USER_A=$(authd token mint --resource "$A" --sub alice --scope "read write" --ttl 120)
exchange "$SA_ID" "$SA_SECRET" "$USER_A" "$B"
is "$STATUS" 200 "the server acting for A exchanges a user's A-token for B"
T_B=$(jqr .access_token)
is "$(jqr .issued_token_type)" "$AT_TYPE" "issued_token_type (RFC 8693 §2.2.1)"
is "$(jqr .token_type)" Bearer "token_type Bearer"
[ "$T_B" != "$USER_A" ]; ok $? "a new token, never the presented one"
is "$(claims "$T_B" | jq -r .sub)" alice "same sub"
is "$(claims "$T_B" | jq -r .aud)" "$B" "aud is the downstream resource"
is "$(claims "$T_B" | jq -r .client_id)" "$SA_ID" "client_id is the acting client"
is "$(claims "$T_B" | jq -c .act)" "{\"sub\":\"$SA_ID\"}" "act names the acting client"
is "$(claims "$T_B" | jq -r .scope)" read "scope: subject ∩ edge ∩ target"
exp_a=$(claims "$USER_A" | jq .exp)
exp_b=$(claims "$T_B" | jq .exp)
[ "$exp_b" -le "$exp_a" ]; ok $? "lives no longer than the subject token ($exp_b <= $exp_a)"
[ "$(jqr .expires_in)" -le 120 ]; ok $? "expires_in bounded by the subject's remaining life"

# The confused deputy: the A-server presents a token meant for someone else.
USER_B=$(authd token mint --resource "$B" --sub alice --scope read)
exchange "$SA_ID" "$SA_SECRET" "$USER_B" "$C"
is "$STATUS" 400 "confused deputy: a B-token presented by the A-server is refused"
is "$(jqr 'has("access_token")')" false "confused deputy: no token"
like "$(jqr .error_description)" "audience" "confused deputy: because of its audience"
exchange "$SB_ID" "$SB_SECRET" "$USER_A" "$C"
is "$(jqr .error)" invalid_request "the B-server cannot exchange an A-token either"
exchange "$SA_ID" "$SA_SECRET" "$USER_A" "$C"
is "$(jqr .error)" invalid_target "no edge A -> C: invalid_target"
exchange "$SA_ID" "$SA_SECRET" "$USER_A" "$A"
is "$(jqr .error)" invalid_target "no edge A -> A: invalid_target"
exchange "$SA_ID" "$SA_SECRET" "$USER_A" "$B" -d scope=write
is "$(jqr .error)" invalid_scope "scope wider than the edge: invalid_scope"
exchange "$SA_ID" "$SA_SECRET" "$USER_A" "$B" -d requested_token_type=urn:ietf:params:oauth:token-type:refresh_token
is "$(jqr .error)" invalid_request "requested_token_type other than access token: refused"
exchange "$SA_ID" "$SA_SECRET" "$USER_A" "$B" -d requested_token_type=$AT_TYPE
is "$STATUS" 200 "requested_token_type access token: fine"
token -u "$SA_ID:$SA_SECRET" -d grant_type=$TE -d subject_token="$USER_A" \
	-d subject_token_type=urn:ietf:params:oauth:token-type:id_token -d resource="$B"
is "$(jqr .error)" invalid_request "subject_token_type not an access token: refused"
token -u "$SA_ID:$SA_SECRET" -d grant_type=$TE -d subject_token_type=$AT_TYPE -d resource="$B"
is "$(jqr .error)" invalid_request "no subject_token: refused"
exchange "$SA_ID" "$SA_SECRET" "$USER_A" "$B" -d actor_token="$USER_A" -d actor_token_type=$AT_TYPE
is "$(jqr .error)" invalid_request "actor_token: refused (the client is the actor)"
exchange "$SA_ID" "wrong" "$USER_A" "$B"
is "$STATUS" 401 "exchange needs the acting client's secret"

# Tokens we did not issue, or not as they were issued.
H=$(jwt_json 1 "$USER_A" | jq -c '.alg = "none"' | base64 -w0 | tr '+/' '-_' | tr -d '=')
P=$(echo "$USER_A" | cut -d. -f2)
exchange "$SA_ID" "$SA_SECRET" "$H.$P." "$B"
is "$(jqr .error)" invalid_request "alg none: refused"
is "$(jqr 'has("access_token")')" false "alg none: no token"
SIG=$(echo "$USER_A" | cut -d. -f3)
c=${SIG:10:1}
exchange "$SA_ID" "$SA_SECRET" "${USER_A%.*}.${SIG:0:10}$([ "$c" = A ] && echo B || echo A)${SIG:11}" "$B"
is "$(jqr .error)" invalid_request "bad signature: refused"
FORGED_P=$(claims "$USER_A" | jq -c '.aud = "'"$A"'" | .sub = "admin"' | base64 -w0 | tr '+/' '-_' | tr -d '=')
exchange "$SA_ID" "$SA_SECRET" "${USER_A%%.*}.$FORGED_P.$SIG" "$B"
is "$(jqr .error)" invalid_request "changed claims under the old signature: refused"
# A foreign issuer: another mcp-authd with its own keys.
(
	export MCP_AUTHD_DB="$T/other.db" MCP_AUTHD_MASTER_KEY_FILE="$T/other.key"
	authd init --issuer https://other-issuer.example >/dev/null
	authd resource add "$A" >/dev/null
	authd token mint --resource "$A" --sub alice
) >"$T/foreign"
exchange "$SA_ID" "$SA_SECRET" "$(cat "$T/foreign")" "$B"
is "$(jqr .error)" invalid_request "a token from a foreign issuer: refused"
EXPIRING=$(authd token mint --resource "$A" --sub alice --ttl 1)
sleep 2
exchange "$SA_ID" "$SA_SECRET" "$EXPIRING" "$B"
is "$(jqr .error)" invalid_request "an expired token: refused"
like "$(jqr .error_description)" expired "says expired"
# A revoked token: the machine client revokes its own token, then it is refused.
req POST "$BASE/revoke" -u "$M_ID:$M_SECRET" -d token="$M_TOKEN"
is "$STATUS" 200 "revocation of an access token: 200"
exchange "$SA_ID" "$SA_SECRET" "$M_TOKEN" "$B"
is "$(jqr .error)" invalid_request "a revoked token: refused"
like "$(jqr .error_description)" revoked "says revoked"

# Chains: A -> B -> C; the final token shows the whole act chain.
exchange "$SB_ID" "$SB_SECRET" "$T_B" "$C"
is "$STATUS" 200 "the B-server exchanges the B-token for C"
T_C=$(jqr .access_token)
is "$(claims "$T_C" | jq -r .aud)" "$C" "aud C"
is "$(claims "$T_C" | jq -r .sub)" alice "still alice"
is "$(claims "$T_C" | jq -c .act)" "{\"sub\":\"$SB_ID\",\"act\":{\"sub\":\"$SA_ID\"}}" \
	"nested act: the B-server, then the A-server"
is "$(claims "$T_C" | jq -r .scope)" read "scope carried down the chain"

# ---- introspection: only for the token's own resource server ----
introspect() { req POST "$BASE/introspect" -u "$1:$2" -d token="$3"; }
introspect "$SB_ID" "$SB_SECRET" "$T_B"
is "$STATUS" 200 "introspection 200"
is "$(jqr .active)" true "active for the server acting for its audience"
is "$(jqr .aud)" "$B" "mirrors aud"
is "$(jqr .sub)" alice "mirrors sub"
is "$(jqr -c .act)" "{\"sub\":\"$SA_ID\"}" "mirrors act"
is "$(jqr .client_id)" "$SA_ID" "mirrors client_id"
is "$(header Cache-Control)" no-store "no-store"
introspect "$SA_ID" "$SA_SECRET" "$T_B"
is "$(jqr -c .)" '{"active":false}' "inactive to a server acting for another resource"
introspect "$M_ID" "$M_SECRET" "$T_B"
is "$(jqr -c .)" '{"active":false}' "inactive to a machine client"
introspect "$ADM_ID" "$ADM_SECRET" "$T_B"
is "$(jqr .active)" true "active to an introspection admin"
introspect "$SB_ID" "$SB_SECRET" "garbage.token.here"
is "$(jqr -c .)" '{"active":false}' "garbage: inactive"
introspect "$SA_ID" "$SA_SECRET" "$M_TOKEN"
is "$(jqr -c .)" '{"active":false}' "a revoked token: inactive even to its resource server"
req POST "$BASE/introspect" -d client_id="$PUB" -d token="$T_B"
is "$STATUS" 401 "a public client may not introspect"
req POST "$BASE/introspect" -u "$SB_ID:$SB_SECRET"
is "$(jqr .error)" invalid_request "no token: invalid_request"

# ---- revocation ----
req POST "$BASE/revoke" -u "$M_ID:$M_SECRET" -d token=not-a-token-we-know
is "$STATUS" 200 "unknown token: 200"
req POST "$BASE/revoke" -u "$M_ID:$M_SECRET" -d token="$T_B"
is "$STATUS" 200 "another client's token: 200"
introspect "$SB_ID" "$SB_SECRET" "$T_B"
is "$(jqr .active)" true "but it stays active"
req POST "$BASE/revoke" -u "$SA_ID:$SA_SECRET" -d token="$T_B"
introspect "$SB_ID" "$SB_SECRET" "$T_B"
is "$(jqr .active)" false "its own client revokes it: inactive"
exchange "$SB_ID" "$SB_SECRET" "$T_B" "$C"
is "$(jqr .error)" invalid_request "and it can no longer be exchanged"
# A refresh token's whole family, from a real code flow.
printf 'pw-alice\n' | authd user add alice --password-stdin >/dev/null
pkce
browse "$BASE/authorize?response_type=code&client_id=$PUB&redirect_uri=http://127.0.0.1:9/cb&code_challenge=$CHALLENGE&code_challenge_method=S256&resource=$A"
submit username=alice password=pw-alice
submit decision=allow
CODE=$(qparam code "$LOCATION")
token -d grant_type=authorization_code -d client_id="$PUB" -d code="$CODE" -d code_verifier="$VERIFIER" \
	-d redirect_uri=http://127.0.0.1:9/cb
RT=$(jqr .refresh_token)
USER_AT=$(jqr .access_token)
req POST "$BASE/revoke" -d client_id="$PUB" -d token="$RT"
is "$STATUS" 200 "a public client revokes its refresh token"
token -d grant_type=refresh_token -d client_id="$PUB" -d refresh_token="$RT"
is "$(jqr .error)" invalid_grant "the revoked refresh token is refused"
exchange "$SA_ID" "$SA_SECRET" "$USER_AT" "$B"
is "$(jqr .error)" invalid_request "the access token issued beside it is revoked too"

# ---- removed client: its cached secret no longer works ----
token -u "$M_ID:$M_SECRET" -d grant_type=client_credentials -d resource="$A"
is "$STATUS" 200 "the machine client works (its secret is cached now)"
authd client remove "$M_ID" >/dev/null
LATE=0 # tokens issued while the removal was on its way to the server's cache
refused_now() {
	token -u "$M_ID:$M_SECRET" -d grant_type=client_credentials -d resource="$A"
	[ "$STATUS" = 200 ] && LATE=$((LATE + 1))
	[ "$STATUS" = 401 ]
}
until_ms 1000 refused_now
ok $? "after client remove, the same secret is refused within 1 s (${ELAPSED_MS} ms)"

# ---- the audit trail ----
sleep 0.3 # stateless grants are written by the batch writer (at most 50 ms)
authd audit tail -n 1000 --json >"$T/audit.json"
count() { jq "[.[] | select($1)] | length" "$T/audit.json"; }
is "$(count '.event == "token.issued" and .reason == "client_credentials"')" $((3 + LATE)) \
	"one record per client_credentials issuance"
is "$(count '.event == "token.exchanged"')" 3 "one record per exchange"
is "$(jq -c '[.[] | select(.event == "token.exchanged")][-1].act' "$T/audit.json")" \
	"{\"sub\":\"$SB_ID\",\"act\":{\"sub\":\"$SA_ID\"}}" "the act chain is recorded"
[ "$(count '.event == "token.refused"')" -ge 15 ]; ok $? "refusals audited"
is "$(count '.event == "token.refused" and (.reason | test("its audience is not"))')" 2 \
	"both confused deputy attempts are audited with their reason"
# Refused before the grant ran, and still recorded, with the grant it was for.
is "$(count '.event == "token.refused" and (.reason | test("one audience")) and
	(.detail | fromjson | .grant_type == "client_credentials")')" 1 \
	"a request naming two resources is audited too"
is "$(count '.event == "token.revoked"')" 3 "revocations audited"
is "$(count '.event == "token.issued" and .reason == "token mint (command line)"')" 3 \
	"command-line mints audited"
is "$(jq '[.[] | select(.jti != null)] | length' "$T/audit.json")" \
	"$(jq '[.[] | select(.event == "token.issued" or .event == "token.exchanged" or (.event == "token.revoked" and .reason == "access token revoked"))] | length' "$T/audit.json")" \
	"issued and exchanged tokens are named by jti"
test -s "$MCP_AUTHD_AUDIT_FILE"; ok $? "records also go to the audit file"
jq -e . "$MCP_AUTHD_AUDIT_FILE" >/dev/null; ok $? "as JSON lines"
db_dump "$T/db-bytes"
cat "$T/db-bytes" "$MCP_AUTHD_AUDIT_FILE" >"$T/everything"
leaked=0
for t in "$USER_A" "$T_B" "$T_C" "$M_TOKEN" "$RT" "$USER_AT" "$M_SECRET" "$SA_SECRET"; do
	grep -qF -- "$t" "$T/everything" && leaked=$((leaked + 1))
	grep -qF -- "$(echo "$t" | cut -d. -f3)" "$T/everything" 2>/dev/null && [ -n "$(echo "$t" | cut -d. -f3)" ] &&
		leaked=$((leaked + 1))
done
is "$leaked" 0 "no token, signature or secret in the audit trail or the database"
authd audit tail -n 3 >"$T/tail.txt"; ok $? "audit tail prints text"
is "$(wc -l <"$T/tail.txt" | tr -d ' ')" 3 "-n 3 gives three records"

# ---- delegation chains have a bound (max_delegation_depth) ----
# With edges both ways a token could be exchanged back and forth for ever, act nesting
# deeper at every hop.
stop_serve
authd resource allow-exchange "$B" "$A" --scopes read >/dev/null
MCP_AUTHD_MAX_DELEGATION_DEPTH=3 start_serve
is "$(MCP_AUTHD_MAX_DELEGATION_DEPTH=3 authd --json check-config |
	jq -r '.max_delegation_depth.value // .max_delegation_depth')" 3 "max_delegation_depth is a setting"
tok=$(authd token mint --resource "$A" --sub erin --scope read --ttl 120)
depth() { claims "$1" | jq '[paths(type == "object") | select(.[-1] == "act")] | length'; }
for hop in 1 2 3; do
	if [ $((hop % 2)) = 1 ]; then exchange "$SA_ID" "$SA_SECRET" "$tok" "$B"
	else exchange "$SB_ID" "$SB_SECRET" "$tok" "$A"; fi
	is "$STATUS" 200 "hop $hop of A <-> B: exchanged"
	tok=$(jqr .access_token)
	is "$(depth "$tok")" "$hop" "act nested $hop deep"
done
exchange "$SB_ID" "$SB_SECRET" "$tok" "$A"
is "$STATUS/$(jqr .error)" 400/invalid_request "a fourth hop would nest act 4 deep: refused"
like "$(jqr .error_description)" "max_delegation_depth" "saying which bound"
is "$(jqr .access_token)" null "no token"
is "$(authd audit tail -n 5 --json | jq -r '[.[] | select(.event == "token.refused")] | last | .reason')" \
	"the delegation chain would be deeper than max_delegation_depth" "the refusal is audited"

done_testing
