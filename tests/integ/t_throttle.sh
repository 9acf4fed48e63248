#!/bin/bash
# Login throttling against the real daemon: growing delays per account and per source
# address, no password check while a delay runs, audited, capped, forgotten with time,
# X-Forwarded-For believed only from a trusted proxy, and off when configured off.
. "${TOP_SRCDIR:-.}/tests/integ/lib.sh"

init_db
FILES=https://files.example.com/mcp
authd resource add "$FILES" --name Files --scopes files:read >/dev/null
printf 'correct horse\n' | authd user add alice --password-stdin >/dev/null
printf 'pw-bob\n' | authd user add bob --password-stdin >/dev/null
printf 'pw-carol\n' | authd user add carol --password-stdin >/dev/null
APP=$(authd --json client add --name Notes --public --redirect-uri http://127.0.0.1/callback |
	jq -r .client_id)

enc() { "$PYTHON3" -c 'import sys, urllib.parse as u; print(u.quote(sys.argv[1], safe=""))' "$1"; }
pkce
AUTHZ="$BASE/authorize?response_type=code&client_id=$APP&redirect_uri=$(enc http://127.0.0.1/callback)"
# prompt=login: the login form every time, whatever session the cookie jar holds.
AUTHZ="$AUTHZ&code_challenge=$CHALLENGE&code_challenge_method=S256&resource=$(enc "$FILES")&prompt=login"

# Small delays: the first after 3 failures of an account, 1 s, doubling up to 2 s;
# failures forgotten 4 s after the last one. Addresses get a threshold of their own.
export MCP_AUTHD_LOGIN_THROTTLE_AFTER=3
export MCP_AUTHD_LOGIN_THROTTLE_ADDR_AFTER=100
export MCP_AUTHD_LOGIN_THROTTLE_DELAY=1
export MCP_AUTHD_LOGIN_THROTTLE_MAX_DELAY=2
export MCP_AUTHD_LOGIN_THROTTLE_WINDOW=4

# login USER PASSWORD [X-Forwarded-For]: post the login form as a browser would
# (a fresh login page each time: the form's CSRF token is bound to the cookie jar).
login() {
	local xff=() out
	[ -n "${3:-}" ] && xff=(-H "X-Forwarded-For: $3")
	req GET "$AUTHZ" -c "$T/jar" -b "$T/jar" "${xff[@]}"
	out=$(printf '%s' "$BODY" | "$PYTHON3" "$TOP_SRCDIR/tests/integ/formdata.py" \
		"username=$1" "password=$2") || return 1
	req POST "$(printf '%s\n' "$out" | head -1)" -c "$T/jar" -b "$T/jar" "${xff[@]}" \
		-H 'Content-Type: application/x-www-form-urlencoded' --data "$(printf '%s\n' "$out" | tail -1)"
}
metric() { # metric OUTCOME: mcp_authd_logins_total for it
	curl -s "$BASE/metrics" | awk -v k="mcp_authd_logins_total{outcome=\"$1\"}" '$1 == k { print $2 }'
}
audit_count() { # audit_count EVENT [SUBJECT]: records of that event (and subject)
	authd audit tail -n 500 --json |
		jq --arg e "$1" --arg s "${2:-}" '[.[] | select(.event == $e and ($s == "" or .sub == $s))] | length'
}
is_refused_page() { # the login page again, with the throttling message
	printf '%s' "$BODY" | grep -q 'name="password"' &&
		printf '%s' "$BODY" | grep -q "Too many failed sign-in attempts"
}

start_serve

# ---- per account ----
for i in 1 2 3; do
	login alice wrong
	is "$STATUS" 401 "alice: wrong password $i: 401"
done
OK0=$(metric ok)
FAILED0=$(metric failed)
THROTTLED0=$(metric throttled)
login alice 'correct horse'
is "$STATUS" 429 "after 3 failures the right password is refused: 429"
check "the login page again, saying why" is_refused_page
is "$(header Retry-After)" 1 "Retry-After: the delay left"
is "$(metric throttled)" $((THROTTLED0 + 1)) "counted as throttled"
is "$(metric ok)/$(metric failed)" "$OK0/$FAILED0" "the password was not checked (no ok, no failed)"
is "$(audit_count login.failed alice)" 3 "each failure audited as login.failed"
is "$(audit_count login.throttled alice)" 1 "the refused attempt audited as login.throttled"
like "$(authd audit tail -n 1 --json | jq -r '.[0].reason')" "account" "the audit says which limit"
is "$(authd audit tail -n 1 --json | jq -r '.[0].remote_addr')" 127.0.0.1 "and from where"
login bob pw-bob
is "$STATUS" 200 "another account from the same address is not held back"

sleep 1.2
login alice 'correct horse'
is "$STATUS" 200 "after the delay the right password gets in"
login alice wrong
is "$STATUS" 401 "a success clears the account's count: the next failure is just a failure"
login alice wrong
login alice wrong
is "$STATUS" 401 "three failures again"

# ---- growing, capped, never permanent ----
login alice wrong
is "$STATUS" 429 "during the delay even a wrong password is not checked"
sleep 1.2
login alice wrong
is "$STATUS" 401 "after the delay: checked (failure 4)"
login alice 'correct horse'
is "$STATUS" 429 "failure 4 earns a longer delay"
is "$(header Retry-After)" 2 "twice the first (2 s)"
# Checks that a delay still runs come early, checks that it is over come late: a slow
# machine only makes the latter safer.
sleep 0.5
login alice 'correct horse'
is "$STATUS" 429 "still waiting half-way through a 2 s delay"
sleep 1.7
login alice wrong
is "$STATUS" 401 "failure 5"
login alice wrong
# Uncapped it would be 4 s; what is left of the 2 s cap may read 1 when the hash of
# failure 5 was slow (sanitizers).
like "$(header Retry-After)" '^[12]$' "the delay stays at the cap (login_throttle_max_delay)"
sleep 2.2
login alice 'correct horse'
is "$STATUS" 200 "no permanent lockout: after the capped delay the owner gets in"

# ---- old failures are forgotten (login_throttle_window) ----
login carol wrong
login carol wrong
sleep 4.5
login carol wrong
login carol wrong
is "$STATUS" 401 "failures older than the window do not count"
login carol pw-carol
is "$STATUS" 200 "so carol is not held back after 4 failures spread over the window"

# ---- per source address; X-Forwarded-For only from a trusted proxy ----
stop_serve
export MCP_AUTHD_LOGIN_THROTTLE_AFTER=100
export MCP_AUTHD_LOGIN_THROTTLE_ADDR_AFTER=4
# A delay longer than a slow run (sanitizers, PostgreSQL) takes between the fourth guess
# and the next attempt, so that the next attempt surely falls inside it.
export MCP_AUTHD_LOGIN_THROTTLE_DELAY=5 MCP_AUTHD_LOGIN_THROTTLE_MAX_DELAY=5
start_serve
# Clear the address's count left by the tests above: a success does not clear it, so
# let it be forgotten instead.
sleep 4.2
n=0
for u in u1 u2 u3 u4; do
	n=$((n + 1))
	login "$u" guess "198.51.100.$n"
	is "$STATUS" 401 "guess $n against a different account ($u)"
done
login bob pw-bob "198.51.100.99"
is "$STATUS" 429 "the address is throttled across accounts, right password or not"
like "$(authd audit tail -n 1 --json | jq -r '.[0].reason')" "address" "audited as an address limit"
is "$(authd audit tail -n 1 --json | jq -r '.[0].remote_addr')" 127.0.0.1 \
	"X-Forwarded-For from an untrusted peer is ignored: the attacker cannot choose its address"
is "$(authd audit tail -n 5 --json | jq -c '[.[] | select(.event == "login.failed") | .sub]')" \
	"[null,null,null,null]" "names that are no account are not written to the audit"

stop_serve
MCP_AUTHD_TRUSTED_PROXIES=127.0.0.1 start_serve
login bob pw-bob 203.0.113.7
is "$STATUS" 200 "behind a trusted proxy the client's own address counts"
for u in u1 u2 u3 u4; do login "$u" guess 203.0.113.8; done
login bob pw-bob 203.0.113.8
is "$STATUS" 429 "a forwarded client that keeps guessing is throttled"
is "$(authd audit tail -n 1 --json | jq -r '.[0].remote_addr')" 203.0.113.8 "under its forwarded address"
login bob pw-bob 203.0.113.9
is "$STATUS" 200 "while its neighbour behind the same proxy is not"
login bob pw-bob "203.0.113.9, 127.0.0.1"
is "$STATUS" 200 "trusted hops are skipped from the right"
login bob pw-bob "203.0.113.8, 203.0.113.9"
is "$STATUS" 200 "the right-most untrusted hop is the client, not what it claims further left"

# ---- login_throttle = false ----
stop_serve
export MCP_AUTHD_LOGIN_THROTTLE_AFTER=1
export MCP_AUTHD_LOGIN_THROTTLE_ADDR_AFTER=1
MCP_AUTHD_LOGIN_THROTTLE=false start_serve
login carol wrong
login carol wrong
login carol wrong
is "$STATUS" 401 "throttling off: failures are only failures"
login carol pw-carol
is "$STATUS" 200 "throttling off: the right password gets in at once"
stop_serve

done_testing
