#!/bin/bash
# Per-user connections against a hostile third party (tests/integ/hostile_thirdparty.py):
# every bad token answer at the connect is a 502 page and nothing stored; every bad refresh
# answer is temporarily_unavailable (503) without asking the user to connect again, except
# invalid_grant, which does; twenty fetches at once make one refresh of a third party that
# rotates refresh tokens and revokes a grant on reuse; a disconnect whose revocation fails
# keeps the connection. mcp-authd neither crashes nor hangs nor answers another 5xx.
# The waits (two answers slower than the 10 s limit, one 15 s lease) run beside the rest.
. "${TOP_SRCDIR:-.}/tests/integ/lib.sh"

X=urn:ietf:params:oauth:grant-type:token-exchange
AT=urn:ietf:params:oauth:token-type:access_token
FILES=https://files.example.com/mcp
CURL_MAX=30 # no request of this test may take longer (the slow modes take 10 s here)

# ---- the hostile third party ----
TP_PORT=$(free_port)
TP=http://127.0.0.1:$TP_PORT
"$PYTHON3" "$TOP_SRCDIR/tests/integ/hostile_thirdparty.py" "$TP_PORT" hostile-client hostile-secret \
	2>"$T/thirdparty.err" &
TP_PID=$!
CLEANUP_EXTRA="kill $TP_PID 2>/dev/null"
wait_http "$TP/count"
ok $? "the hostile third party is up"
tp_mode() { curl -fs -m 5 "$TP/control?$1" >/dev/null; } # tp_mode code=M&refresh=M&revoke=R
tp_count() { curl -fs -m 5 "$TP/count" | jq -r "$1"; }
tp_grant() { curl -fs -m 5 "$TP/grant" | jq -r ".$1"; }

# ---- this server ----
init_db
authd resource add "$FILES" --name Files --scopes "read" >/dev/null
printf 'pass\n' | authd user add bob --password-stdin >/dev/null
printf 'pass\n' | authd user add carol --password-stdin >/dev/null
REDIRECT=http://127.0.0.1:1/cb
APP=$(authd --json client add --name "MCP app" --public --redirect-uri "$REDIRECT" | jq -r .client_id)
out=$(authd --json client add --name "Files server" --acts-for "$FILES")
FID=$(jq -r .client_id <<<"$out")
FSEC=$(jq -r .client_secret <<<"$out")
printf 'hostile-secret\n' | authd connection add tp --authorize-url "$TP/authorize" --token-url "$TP/token" \
	--revoke-url "$TP/revoke" --client-id hostile-client --client-secret-stdin --scopes repo \
	--allow-private >/dev/null
ok $? "connection add tp (the hostile third party)"
authd resource allow-credential "$FILES" tp >/dev/null
start_serve
ok $? "mcp-authd is up"

browse() { req GET "$1" -m "$CURL_MAX" -c "$JAR" -b "$JAR"; LOCATION=$(header Location); }
submit() {
	local out
	out=$(printf '%s' "$BODY" | "$PYTHON3" "$TOP_SRCDIR/tests/integ/formdata.py" "$@") || return 1
	req POST "$(head -1 <<<"$out")" -m "$CURL_MAX" -c "$JAR" -b "$JAR" \
		-H 'Content-Type: application/x-www-form-urlencoded' --data "$(tail -1 <<<"$out")"
	LOCATION=$(header Location)
}
enc() { jq -rn --arg v "$1" '$v|@uri'; }
sign_in() { # sign_in USER RESOURCE: the MCP app's code flow in $JAR; TOKEN is the result
	pkce
	browse "$ISSUER/authorize?response_type=code&client_id=$APP&redirect_uri=$(enc "$REDIRECT")&state=s&code_challenge=$CHALLENGE&code_challenge_method=S256&resource=$(enc "$2")"
	if printf '%s' "$BODY" | grep -q 'name="password"'; then submit username="$1" "password=pass"; fi
	if [ "$STATUS" = 200 ]; then submit decision=allow; fi
	req POST "$ISSUER/token" -m "$CURL_MAX" -d grant_type=authorization_code -d client_id="$APP" \
		-d code="$(qparam code "$LOCATION")" -d code_verifier="$VERIFIER" -d redirect_uri="$REDIRECT" \
		-d resource="$2"
	TOKEN=$(jqr .access_token)
}
JAR=$T/jar.carol
sign_in carol "$FILES"
CAROL=$TOKEN
JAR=$T/jar.bob
sign_in bob "$FILES"
BOB=$TOKEN
[ -n "$BOB" ] && [ "$BOB" != null ] && [ -n "$CAROL" ] && [ "$CAROL" != null ]
ok $? "bob and carol signed in for Files"

# connect_to_tp: /connect/tp in $JAR; the third party sends the browser straight back (no
# login): CALLBACK is where.
connect_to_tp() {
	browse "$ISSUER/connect/tp"
	START_STATUS=$STATUS
	req GET "$LOCATION" -m "$CURL_MAX"
	CALLBACK=$(header Location)
}
fetch_args() { # the Files server's fetch of the connection tp of the user whose token is $1
	printf '%s\n' "$ISSUER/token" -m "$CURL_MAX" -u "$FID:$FSEC" -d grant_type=$X -d audience=tp \
		-d requested_token_type=$AT -d subject_token="$1" -d subject_token_type=$AT
}
fetch() { local a; mapfile -t a < <(fetch_args "${1:-$BOB}"); req POST "${a[@]}"; }
# bg NAME URL [curl args]: a request in the background; bg_wait NAME: STATUS, BODY, TOOK (s)
bg() {
	local name=$1
	shift
	rm -f "$T/bg.$name".*
	(curl -s -m "$CURL_MAX" -o "$T/bg.$name.body" -w '%{http_code} %{time_total}' "$@" \
		>"$T/bg.$name.out.tmp"; mv "$T/bg.$name.out.tmp" "$T/bg.$name.out") &
}
bg_wait() {
	until_ms $((CURL_MAX * 1000 + 5000)) test -e "$T/bg.$1.out"
	read -r STATUS TOOK <"$T/bg.$1.out"
	TOOK=${TOOK%.*}
	BODY=$(cat "$T/bg.$1.body" 2>/dev/null)
}
uid() { echo "(SELECT id FROM users WHERE name = '$1')"; }
stored() { db_query "SELECT count(*) FROM user_connections WHERE user_id = $(uid "${1:-bob}")"; }
row() { # needs_reauth and generation of a user's row
	db_query "SELECT needs_reauth || ' ' || generation FROM user_connections WHERE user_id = $(uid "${1:-bob}")"
}
expire() { # expire USER [lease too]: the stored token expired (and the lease ended)
	db_exec "UPDATE user_connections SET expires_at = 1${2:+, refreshing_until = 0} WHERE user_id = $(uid "$1")"
}
by_mode() { tp_count ".by_mode[\"$1\"] // 0"; }
reached() { [ "$(by_mode "$1")" = 1 ]; } # reached MODE-KEY: the third party got that request
todo() { # todo CONDITION-EXIT-STATUS DESCRIPTION REASON: a known defect (TAP TODO), not a failure
	TAP_N=$((TAP_N + 1))
	if [ "$1" -eq 0 ]; then echo "ok $TAP_N - $2 # TODO $3"; else echo "not ok $TAP_N - $2 # TODO $3"; fi
}
healthy() { # healthy WHAT: the process lives and /healthz answers 200
	local code
	code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$ISSUER/healthz")
	kill -0 "$SERVER_PID" 2>/dev/null && [ "$code" = 200 ]
	ok $? "$1: mcp-authd stays healthy"
}

# ---- carol connects; her refresh fails, and the lease holds the others off ----
JAR=$T/jar.carol
connect_to_tp
is "$START_STATUS" 303 "/connect/tp sends the browser to the third party"
like "$CALLBACK" "^$ISSUER/connect/tp/callback\\?code=[^&]+&state=" "which sends it straight back"
browse "$CALLBACK"
is "$STATUS $LOCATION" "303 $ISSUER/connections?connected=tp" "a good token answer: connected"
is "$(stored carol) $(tp_count .pkce_failures)" "1 0" "stored, and the PKCE verifier matched"
fetch "$CAROL"
is "$STATUS $(jqr .access_token)" "200 $(tp_grant access)" "a fetch gives the third party's access token"
is "$(jqr '"\(.scope) \(.token_type) \(.refresh_token)"')" "repo Bearer null" \
	"with its scope, as Bearer, never the refresh token"

tp_mode refresh=html500
expire carol
before=$(tp_count .refreshes)
fetch "$CAROL"
is "$STATUS $(jqr '"\(.error) \(.connect_uri)"')" "503 temporarily_unavailable null" \
	"refresh, html500: 503 temporarily_unavailable, no connect_uri"
is "$(row carol) $(($(tp_count .refreshes) - before))" "0 1 1" \
	"refresh, html500: not marked needs_reauthorization, the row unchanged, one refresh asked"
# The third party is good again, but the failed refresh's lease (CONNECTION_LEASE, 15 s)
# stands: four fetches now wait for it to end, then one refreshes for all.
tp_mode refresh=good
for i in 1 2 3 4; do
	mapfile -t a < <(fetch_args "$CAROL")
	bg "lease$i" -X POST "${a[@]}"
done
sleep 0.5

# ---- bob's connect: every bad token answer refused, nothing stored ----
JAR=$T/jar.bob
BAD_CONNECT="html500 invalid_grant invalid_grant_401 invalid_grant_500 invalid_client unauthorized
	echo empty not_json array no_access_token empty_access_token number_access_token
	control_access_token huge_access_token expires_negative expires_string duplicate
	oversized oversized_stream redirect302 redirect307"
n_bad=0
for mode in $BAD_CONNECT; do
	tp_mode "code=$mode"
	connect_to_tp
	start=$SECONDS
	browse "$CALLBACK"
	took=$((SECONDS - start))
	is "$STATUS $(stored)" "502 0" "connect, $mode: the callback is refused with 502, nothing stored (${took}s)"
	like "$BODY" "could not be connected" "connect, $mode: with an error page"
	healthy "connect, $mode"
	n_bad=$((n_bad + 1))
	if [ "$mode" = html500 ]; then
		# The first ran while carol's four fetches waited for the lease.
		[ "$took" -le 5 ]
		ok $? "a connect is not held up by fetches waiting for another user's lease (${took}s)"
		# The third party's token endpoint answers slower than mcp-authd waits (10 s):
		# the callback runs beside the other modes.
		tp_mode code=slow
		connect_to_tp
		bg slow_connect -b "$JAR" "$CALLBACK"
		until_ms 10000 reached code:slow
		ok $? "connect, slow: the token request reached the third party"
		n_bad=$((n_bad + 1))
	fi
done

# ---- the lease ----
took=0
for i in 1 2 3 4; do
	bg_wait "lease$i"
	lease_status="${lease_status:-}$STATUS "
	lease_tokens="${lease_tokens:-}$(jq -r .access_token <<<"$BODY") "
	[ "$TOOK" -gt "$took" ] && took=$TOOK
done
is "$lease_status" "200 200 200 200 " "the four fetches waiting for the lease: 200 once it ended (${took}s)"
[ "$took" -ge 5 ] && [ "$took" -le 25 ]
ok $? "they waited for the lease to end (${took}s), and not much longer"
is "$lease_tokens" "$(printf '%s ' $(tp_grant access) $(tp_grant access) $(tp_grant access) $(tp_grant access))" \
	"all four got the one new token"
is "$(($(tp_count .refreshes) - before)) $(tp_count .reuse)" "2 0" \
	"the third party saw one refresh after the failed one, and no reused refresh token"

bg_wait slow_connect
is "$STATUS $(stored)" "502 0" "connect, slow: the callback is refused with 502 after mcp-authd's limit (${TOOK}s)"
[ "$TOOK" -ge 9 ] && [ "$TOOK" -le 14 ]
ok $? "connect, slow: after 10 s, not 15 (${TOOK}s)"
healthy "connect, slow"
is "$(tp_count "[.by_mode | to_entries[] | select(.key | startswith(\"code:\")) | select(.key != \"code:good\") | .value] | \"\\(length) \\(add)\"")" \
	"$n_bad $n_bad" "one token request per bad connect, none retried"
is "$(tp_count .followed) $(tp_count .bad_auth)" "0 0" \
	"no redirect of the token endpoint was followed; every request authenticated the client"
audit=$(authd --json audit tail -n 400)
is "$(jq '[.[] | select(.event == "connection.refused")] | length' <<<"$audit")" "$n_bad" \
	"every refused connect audited"

# ---- bob connects ----
tp_mode code=good
connect_to_tp
browse "$CALLBACK"
is "$STATUS $(stored)" "303 1" "bob connects"
fetch
is "$STATUS $(jqr .access_token)" "200 $(tp_grant access)" "his fetch gives his token"

# ---- the fetch: a bad refresh answer is temporarily_unavailable, the grant kept ----
# carol's refresh meets a third party slower than mcp-authd waits, beside bob's.
tp_mode refresh=slow
expire carol
mapfile -t a < <(fetch_args "$CAROL")
bg slow_refresh -X POST "${a[@]}"
until_ms 10000 reached refresh:slow
ok $? "refresh, slow: the refresh request reached the third party"

BAD_REFRESH="invalid_grant_500 invalid_client unauthorized echo empty not_json array
	no_access_token empty_access_token number_access_token control_access_token huge_access_token
	expires_negative expires_string duplicate oversized oversized_stream redirect302 redirect307"
g=$(row)
for mode in $BAD_REFRESH; do
	tp_mode "refresh=$mode"
	expire bob lease # the lease of the failure before ended by hand: the test stays short
	fetch
	is "$STATUS $(jqr '"\(.error) \(.connect_uri)"') $(row)" "503 temporarily_unavailable null $g" \
		"refresh, $mode: 503 temporarily_unavailable, no connect_uri, not marked needs_reauthorization"
	healthy "refresh, $mode"
done
is "$(tp_count "[.by_mode | to_entries[] | select(.key | startswith(\"refresh:\")) | select(.key != \"refresh:good\") | .value] | \"\\(length) \\(add)\"")" \
	"21 21" "one refresh request per bad answer, none retried"
is "$(tp_count .followed)" 0 "no redirect of a refresh was followed"
bg_wait slow_refresh
is "$STATUS $(jq -r .error <<<"$BODY") $(row carol)" "503 temporarily_unavailable 0 2" \
	"refresh, slow: 503 temporarily_unavailable after mcp-authd's limit (${TOOK}s), not marked"
[ "$TOOK" -ge 9 ] && [ "$TOOK" -le 14 ]
ok $? "refresh, slow: after 10 s, not 15 (${TOOK}s)"
tp_mode refresh=good
expire bob lease
fetch
is "$STATUS $(jqr .access_token) $(tp_count .reuse)" "200 $(tp_grant access) 0" \
	"the third party good again: the refresh token kept through all that still works"
unlike "$(cat "$T/serve.log")" "TPRT-|TPAT-" \
	"no third-party token in mcp-authd's log (not even a refresh token repeated in an error)"

# ---- a refused refresh: connect again ----
for mode in invalid_grant invalid_grant_401; do
	tp_mode "refresh=$mode"
	expire bob
	before=$(tp_count .refreshes)
	fetch
	is "$STATUS $(jqr '"\(.error) \(.connect_uri)"')" "400 invalid_grant $ISSUER/connect/tp" \
		"refresh, $mode: 400 invalid_grant with connect_uri"
	like "$(jqr .error_description)" "^needs_reauthorization" "refresh, $mode: needs_reauthorization"
	like "$(row)" "^1 " "refresh, $mode: the connection is marked"
	tp_mode refresh=good
	fetch
	is "$STATUS $(jqr .error) $(($(tp_count .refreshes) - before))" "400 invalid_grant 1" \
		"refresh, $mode: and stays so, without asking the third party again"
	healthy "refresh, $mode"
	connect_to_tp
	browse "$CALLBACK"
	fetch
	is "$STATUS $(row | cut -d' ' -f1)" "200 0" "refresh, $mode: connecting again mends it"
done

# ---- rotation with reuse detection: twenty fetches at once, one refresh ----
twenty() {
	local i
	for i in $(seq 1 20); do
		mapfile -t a < <(fetch_args "$BOB")
		bg "f$i" -X POST "${a[@]}"
	done
	TWENTY=
	for i in $(seq 1 20); do
		bg_wait "f$i"
		TWENTY="$TWENTY$STATUS:$(jq -r .access_token <<<"$BODY")"$'\n'
	done
}
tp_mode refresh=good
before=$(tp_count .rotations)
expire bob
twenty
is "$(sort -u <<<"$TWENTY" | grep -c .)" 1 "twenty concurrent fetches: one answer for all"
is "$(sort -u <<<"$TWENTY" | grep .)" "200:$(tp_grant access)" "200, the new token"
is "$(($(tp_count .rotations) - before)) $(tp_count .reuse) $(tp_grant revoked)" "1 0 false" \
	"the third party saw exactly one refresh, no reuse, the grant alive"
expire bob
fetch
is "$STATUS $(jqr .access_token)" "200 $(tp_grant access)" "a second refresh: the rotated refresh token was kept"
is "$(($(tp_count .rotations) - before)) $(tp_count .reuse) $(tp_grant revoked)" "2 0 false" \
	"two refreshes in all, still no reuse"

# A third party that does not rotate: the refresh token stays, and works again.
tp_mode refresh=norotate
expire bob
fetch
is "$STATUS $(jqr .access_token)" "200 $(tp_grant access)" "a refresh answer without a new refresh token"
tp_mode refresh=good
expire bob
fetch
is "$STATUS $(jqr .access_token) $(tp_count .reuse)" "200 $(tp_grant access) 0" \
	"the next refresh uses the refresh token kept"

# A third party whose tokens live less than the refresh margin (30 s).
tp_mode refresh=short
expire bob
before=$(tp_count .rotations)
twenty
is "$(cut -d: -f1 <<<"$TWENTY" | sort -u | tr -d '\n')" 200 "short-lived tokens: twenty concurrent fetches served"
n=$(($(tp_count .rotations) - before))
is "$n" 1 "short-lived tokens: one refresh for twenty fetches at once"
is "$(tp_count .reuse)" 0 "short-lived tokens: no reuse"
tp_mode refresh=good
expire bob
fetch
is "$STATUS" 200 "back to long-lived tokens"

# ---- disconnect: the revocation endpoint down keeps the connection ----
RT=$(tp_grant refresh)
ATOK=$(tp_grant access)
tp_mode revoke=503
browse "$ISSUER/connections"
is "$STATUS" 200 "/connections"
submit
is "$STATUS $(stored)" "502 1" "disconnect, the revocation endpoint answering 503: refused, the connection kept"
like "$BODY" "could not be told to revoke" "the page says it could not revoke"
is "$(curl -fs -m 5 "$TP/revoked" | jq -c .)" "[[\"refresh_token\",\"$RT\"]]" \
	"it was asked to revoke the refresh token (first), nothing more"
healthy "disconnect, 503"
fetch
is "$STATUS $(jqr .access_token)" "200 $ATOK" "the connection still works"
tp_mode revoke=ok
browse "$ISSUER/connections"
submit
is "$STATUS $(stored)" "200 0" "disconnect, the revocation endpoint answering 200: forgotten"
like "$BODY" "tp is disconnected" "the page says so"
is "$(curl -fs -m 5 "$TP/revoked" | jq -c '.[1:]')" "[[\"refresh_token\",\"$RT\"],[\"access_token\",\"$ATOK\"]]" \
	"the revocation endpoint saw the refresh token, then the access token"
is "$(tp_grant revoked)" true "the grant is revoked upstream"
fetch
is "$STATUS $(jqr '"\(.error) \(.connect_uri)"')" "400 invalid_grant $ISSUER/connect/tp" "a fetch after: not connected"

# ---- nothing leaked ----
healthy "the end"
unlike "$(cat "$T/serve.log")$(authd --json audit tail -n 1000)" "TPRT-|TPAT-|hostile-secret" \
	"no third-party token nor the client secret in the log or the audit"
stop_serve
done_testing
