#!/bin/bash
# The vault's service credentials (DESIGN.md §10.5): an MCP server fetches the API key it
# calls a third party with, through token exchange, only where the policy says so; a
# rotation with an overlap loses no call; nothing of a credential is stored, logged or
# audited in clear.
. "${TOP_SRCDIR:-.}/tests/integ/lib.sh"

init_db
FILES=https://files.example.com/mcp
MAIL=https://mail.example.com/mcp
authd resource add "$FILES" --name Files --scopes "read" >/dev/null
authd resource add "$MAIL" --name Mail --scopes "read" >/dev/null
V1=ghp_first_$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
V2=ghp_second_$(head -c 12 /dev/urandom | base64 | tr -d '/+=')

# ---- the command line ----
out=$(printf '%s\n' "$V1" | authd --json credential set github --stdin)
ok $? "credential set"
is "$(jq -r '[.name, .version] | join(" ")' <<<"$out")" "github 1" "version 1"
FP1=$(jq -r .fingerprint <<<"$out")
like "$FP1" '^sha256:[0-9a-f]{16}$' "a fingerprint is shown, not the credential"
printf '%s\n' "$V1" | authd credential set github --stdin >/dev/null 2>&1
is $? 1 "set again: refused (rotate it)"
printf 'x\n' | authd credential set GitHub --stdin >/dev/null 2>&1
is $? 1 "a name with capitals is refused"
printf '' | authd credential set empty --stdin >/dev/null 2>&1
is $? 1 "an empty credential is refused"
head -c 9000 /dev/zero | tr '\0' a | authd credential set big --stdin >/dev/null 2>&1
is $? 1 "a credential over 8 KiB is refused"
authd credential set nostdin >/dev/null 2>&1
is $? 2 "--stdin is required (a credential never goes on the command line)"
printf 'x\n' | authd credential rotate nobody --stdin >/dev/null 2>&1
is $? 1 "rotating an unknown credential is refused"
authd resource allow-credential "$FILES" nobody >/dev/null 2>&1
is $? 1 "a policy for an unknown credential is refused"
authd resource allow-credential https://unknown.example.com/mcp github >/dev/null 2>&1
is $? 1 "a policy for an unknown resource is refused"
authd resource allow-credential "$FILES" github >/dev/null
ok $? "resource allow-credential"
authd resource allow-credential "$FILES" github >/dev/null
ok $? "allowing twice is harmless"
listing=$(authd --json credential list)
is "$(jq -c '[.[] | [.name, .version, .fingerprint]]' <<<"$listing")" "[[\"github\",1,\"$FP1\"]]" \
	"credential list: name, version, fingerprint"
unlike "$listing$(authd credential list)$(authd check-config 2>&1)" "$V1" \
	"no listing and no check-config shows the credential"

client() { authd --json client add --name "$1" --acts-for "$2"; }
out=$(client "Files server" "$FILES")
FID=$(jq -r .client_id <<<"$out")
FSEC=$(jq -r .client_secret <<<"$out")
out=$(client "Mail server" "$MAIL")
MID=$(jq -r .client_id <<<"$out")
MSEC=$(jq -r .client_secret <<<"$out")
out=$(authd --json client add --name Job --confidential --grant client_credentials --resource "$FILES")
JID=$(jq -r .client_id <<<"$out")
JSEC=$(jq -r .client_secret <<<"$out")
start_serve

X=urn:ietf:params:oauth:grant-type:token-exchange
AT=urn:ietf:params:oauth:token-type:access_token
fetch() { # fetch ID SECRET [curl args]: the credential named github, as that client
	local id=$1 secret=$2
	shift 2
	req POST "$BASE/token" -u "$id:$secret" -d grant_type=$X -d audience=github "$@"
}

# ---- fetching ----
fetch "$FID" "$FSEC" -d requested_token_type=$AT
is "$STATUS" 200 "the Files server fetches the credential it is allowed"
is "$(jqr .access_token)" "$V1" "the credential itself"
is "$(jqr '[.token_type, .issued_token_type] | join(" ")')" "N_A $AT" \
	"token_type N_A (not a token of ours), issued_token_type access_token (RFC 8693)"
is "$(jqr .refresh_token)/$(jqr .expires_in)" null/null "no refresh token, no expiry (a service credential)"
like "$(header Cache-Control)" "no-store" "never cached on the way"
fetch "$MID" "$MSEC"
is "$STATUS/$(jqr .error)" 400/invalid_target "a server without the policy: invalid_target"
is "$(jqr .access_token)" null "and no credential"
req POST "$BASE/token" -u "$FID:$FSEC" -d grant_type=$X -d audience=gitlab
is "$(jqr .error)" invalid_target "an unknown credential: invalid_target"
req POST "$BASE/token" -u "$FID:$FSEC" -d grant_type=$X -d audience="$MAIL"
like "$(jqr .error)/$(jqr .error_description)" "^invalid_target/.*resource" \
	"a URL as audience: invalid_target, saying that resource names MCP servers"
fetch "$FID" "$FSEC" -d resource="$MAIL"
is "$(jqr .error)" invalid_request "audience and resource together: invalid_request"
fetch "$FID" "$FSEC" -d requested_token_type=urn:ietf:params:oauth:token-type:refresh_token
is "$(jqr .error)" invalid_request "another requested_token_type: invalid_request"
fetch "$FID" "$FSEC" -d subject_token=x -d subject_token_type=$AT
is "$(jqr .error)" invalid_request "a subject token with a service credential: invalid_request"
fetch "$JID" "$JSEC"
is "$(jqr .error)" unauthorized_client "a client acting for no server: unauthorized_client"
fetch "$FID" wrong-secret
is "$STATUS/$(jqr .error)" 401/invalid_client "wrong client secret: 401"

# ---- rotation with an overlap, under load, against a third-party API ----
# The API accepts V1 until told to stop, and V2 only from two seconds after the rotation
# (a key takes time to be accepted everywhere): the overlap covers that. Times are in
# milliseconds: the overlap ends on a whole second of the server's clock, at most 4 s after
# the rotate command returned (ROT_END), and the third party revokes V1 1.5 s after that,
# as an operator would, leaving a call that fetched V1 just before the end time to use it.
mkdir -p "$T/api"
printf '%s\n' "$V1" >"$T/api/keys"
cat >"$T/api.py" <<'PY'
import http.server, sys
keys_file = sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        keys = open(keys_file).read().split()
        ok = self.headers.get("Authorization", "")[7:] in keys
        self.send_response(200 if ok else 401)
        self.end_headers()
        self.wfile.write(b"ok" if ok else b"no")
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
API_PORT=$(free_port)
"$PYTHON3" "$T/api.py" "$API_PORT" "$T/api/keys" &
API_PID=$!
CLEANUP_EXTRA='kill $API_PID $LOAD_PID 2>/dev/null'
wait_http "http://127.0.0.1:$API_PORT/" || true
# load: fetch the credential, then call the API with it, until $T/load.stop appears (at
# most 30 s); one line per call: FETCH_START_MS KEY_PREFIX FETCH_STATUS API_START_MS
# API_END_MS API_STATUS.
load() {
	local end=$((SECONDS + 30)) out tok code t0 t1 api
	while [ ! -e "$T/load.stop" ] && [ $SECONDS -lt $end ]; do
		t0=$(now_ms)
		out=$(curl -s -w '\n%{http_code}' -u "$FID:$FSEC" "$BASE/token" \
			-d grant_type=$X -d audience=github)
		tok=$(head -n 1 <<<"$out" | jq -r .access_token 2>/dev/null)
		code=$(tail -n 1 <<<"$out")
		t1=$(now_ms)
		api=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" \
			"http://127.0.0.1:$API_PORT/")
		echo "$t0 ${tok:0:10} $code $t1 $(now_ms) $api"
	done
}
load >"$T/load" &
LOAD_PID=$!
sleep 2
ROT_START=$(now_ms)
printf '%s\n' "$V2" | authd credential rotate github --stdin --overlap 4 >/dev/null
ok $? "credential rotate under load, overlap 4 s"
ROT_END=$(now_ms)
fetch "$FID" "$FSEC"
is "$(jqr .access_token)" "$V1" "during the overlap the previous version is still served"
like "$(jqr .expires_in)" '^[1-4]$' "with expires_in: until the overlap ends"
sleep_until_ms $((ROT_START + 2000))
printf '%s\n%s\n' "$V1" "$V2" >"$T/api/keys" # the API accepts the new key now
sleep_until_ms $((ROT_END + 4300))
fetch "$FID" "$FSEC"
is "$(jqr .access_token)/$(jqr .expires_in)" "$V2/null" "after the overlap the new version is served"
sleep_until_ms $((ROT_END + 5500))
REVOKING=$(now_ms)
printf '%s\n' "$V2" >"$T/api/keys" # and the old key is revoked at the third party
REVOKED=$(now_ms)
sleep 1.5
touch "$T/load.stop"
wait "$LOAD_PID"
calls=$(wc -l <"$T/load")
[ "$calls" -gt 20 ]; ok $? "the load made $calls calls"
is "$(awk '$3 != 200' "$T/load" | wc -l)" 0 "every fetch was answered 200"
# A call may fail only if it used V1 and its answer came once the revocation had begun,
# which needs a fetch that took V1 before the overlap ended and then waited 1.5 s to use
# it: a client past the expires_in it was given, counted apart (and shown) rather than
# blamed on the rotation.
late=$(awk -v k="${V1:0:10}" -v r="$REVOKING" '$6 != 200 && $2 == k && $5 >= r' "$T/load")
failed=$(awk -v k="${V1:0:10}" -v r="$REVOKING" '$6 != 200 && !($2 == k && $5 >= r)' "$T/load")
is "$failed" "" "no call failed across the rotation"
[ -z "$late" ] || sed 's/^/# held V1 past its expiry: /' <<<"$late"
is "$(awk -v k="${V1:0:10}" -v e=$((ROT_END + 4000)) '$2 == k && $1 > e' "$T/load")" "" \
	"no fetch that began after the overlap ended got the previous version"
[ "$(awk -v k="${V2:0:10}" -v r="$REVOKED" '$2 == k && $4 > r && $6 == 200' "$T/load" | wc -l)" -gt 0 ]
ok $? "calls with the new key succeed after the old one is revoked"
is "$(awk '{print $2}' "$T/load" | uniq | tr '\n' ' ')" "${V1:0:10} ${V2:0:10} " \
	"the old key until the overlap ended, then the new one, never back"
is "$(authd --json credential list | jq -c '[.[] | .version]')" "[2]" \
	"after the overlap only the current version is listed"

# ---- audit and rest ----
records=$(authd audit tail -n 500 --json)
is "$(jq '[.[] | select(.event == "credential.fetched")] | length' <<<"$records")" \
	"$(( $(grep -c . "$T/load") + 3 ))" "every fetch is audited"
is "$(jq -r '[.[] | select(.event == "credential.fetched") | .detail | fromjson | .fingerprint] | unique | join(" ")' <<<"$records" | wc -w)" \
	2 "with the fingerprint of the version served"
like "$(jq -r '[.[] | select(.event == "credential.refused") | .reason] | join("|")' <<<"$records")" \
	"may not fetch.*no credential" "refusals are audited, with why"
unlike "$records$(cat "$T/serve.log")" "$V1|$V2" "no audit record and no log line holds a credential"
db_dump "$T/dump"
grep -c -a -e "$V1" -e "$V2" "$T/dump" >/dev/null
is $? 1 "the database holds no credential in clear"
stop_serve

# ---- purge drops the retired version; a new master key: rewrap ----
is "$(authd --json purge | jq -r .credential_versions)" 1 "purge drops the retired version"
head -c 32 /dev/urandom | base64 >"$T/new.key"
chmod 600 "$T/new.key"
is "$(authd --json keys rewrap --new-master-key-file "$T/new.key" | jq -r .credentials)" 1 \
	"keys rewrap re-wraps the credential's data key"
MCP_AUTHD_MASTER_KEY_FILE="$T/new.key" start_serve
fetch "$FID" "$FSEC"
is "$(jqr .access_token)" "$V2" "served under the new master key"
stop_serve
authd credential remove github >/dev/null
ok $? "credential remove"
is "$(authd --json credential list | jq length)" 0 "gone"
authd credential remove github >/dev/null 2>&1
is $? 1 "removing it again is a user error"
done_testing
