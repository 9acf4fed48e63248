# Shared helpers for the integration tests: TAP output, a temporary database, a
# real daemon on 127.0.0.1, and curl wrappers. Sourced by tests/integ/t_*.sh.
set -u

: "${MCP_AUTHD:?MCP_AUTHD must name the binary (make check sets it)}"
: "${TOP_SRCDIR:=.}"
PYTHON3=${PYTHON3:-/usr/bin/python3}

TAP_N=0
TAP_FAILED=0

ok() { # ok CONDITION-EXIT-STATUS DESCRIPTION
	TAP_N=$((TAP_N + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $TAP_N - $2"
	else
		echo "not ok $TAP_N - $2"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
}

check() { # check DESCRIPTION COMMAND... : ok when the command succeeds
	local desc=$1
	shift
	if "$@" >/dev/null 2>&1; then ok 0 "$desc"; else ok 1 "$desc"; fi
}

is() { # is GOT WANT DESCRIPTION
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		echo "#   got:  '$1'"
		echo "#   want: '$2'"
	fi
}

like() { # like GOT EXTENDED-REGEX DESCRIPTION
	if printf '%s' "$1" | grep -Eq -- "$2"; then
		ok 0 "$3"
	else
		ok 1 "$3"
		echo "#   '$1' does not match /$2/"
	fi
}

unlike() { # unlike GOT EXTENDED-REGEX DESCRIPTION
	if printf '%s' "$1" | grep -Eq -- "$2"; then
		ok 1 "$3"
		echo "#   '$1' matches /$2/"
	else
		ok 0 "$3"
	fi
}

done_testing() {
	echo "1..$TAP_N"
	[ "$TAP_FAILED" -eq 0 ]
}

skip_all() {
	echo "1..0 # SKIP $1"
	exit 0
}

T=$(mktemp -d "${TMPDIR:-/tmp}/mcp-authd-test.XXXXXX")
SERVER_PID=
cleanup() {
	[ -n "${CLEANUP_EXTRA:-}" ] && eval "$CLEANUP_EXTRA"
	if [ -n "${FIXTURE_PID:-}" ]; then
		kill "$FIXTURE_PID" 2>/dev/null
		wait "$FIXTURE_PID" 2>/dev/null
	fi
	if [ -n "$SERVER_PID" ]; then
		kill "$SERVER_PID" 2>/dev/null
		wait "$SERVER_PID" 2>/dev/null
	fi
	rm -rf "$T"
	if [ -n "${PG_PID:-}" ]; then pg_stop_throwaway; fi
}
trap cleanup EXIT

# The backend under test: SQLite files by default; with MCP_AUTHD_TEST_BACKEND=postgresql
# (tests/pg/on-postgresql) the same suite runs against a throwaway PostgreSQL cluster.
MCP_AUTHD_TEST_BACKEND=${MCP_AUTHD_TEST_BACKEND:-sqlite}
db_is_pg() { [ "$MCP_AUTHD_TEST_BACKEND" = postgresql ]; }
if db_is_pg; then
	. "$TOP_SRCDIR/tests/pg/cluster.sh"
	pg_available || skip_all "PostgreSQL 15 is not installed (postgresql-15)"
	pg_start_throwaway || { echo "Bail out! cannot start a PostgreSQL cluster"; exit 1; }
	export MCP_AUTHD_DB="$PG_URL"
else
	export MCP_AUTHD_DB="$T/mcp-authd.db"
fi

# db_new NAME: the location of another, empty database of the backend under test.
db_new() {
	if db_is_pg; then
		pg_psql "$PG_PORT" "CREATE DATABASE $1" >/dev/null && echo "postgresql://postgres@127.0.0.1:$PG_PORT/$1"
	else
		echo "$T/$1.db"
	fi
}

# db_dump FILE: every byte the database holds (files, or a dump of the database), for
# tests that look for secrets at rest.
db_dump() {
	if db_is_pg; then
		"$PG_BIN/pg_dump" -h 127.0.0.1 -p "$PG_PORT" -U postgres authd >"$1"
	else
		cat "$MCP_AUTHD_DB"* >"$1"
	fi
}

# db_query SQL: the first column of the first row.
db_query() {
	if db_is_pg; then
		PG_DB=authd pg_psql "$PG_PORT" "$1"
	else
		"$PYTHON3" -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); print(c.execute(sys.argv[2]).fetchone()[0])' "$MCP_AUTHD_DB" "$1"
	fi
}

# db_exec SQL: run one statement and commit it.
db_exec() {
	if db_is_pg; then
		PG_DB=authd pg_psql "$PG_PORT" "$1" >/dev/null
	else
		"$PYTHON3" -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit()' "$MCP_AUTHD_DB" "$1"
	fi
}

# db_reset: an empty database again.
db_reset() {
	if db_is_pg; then
		pg_psql "$PG_PORT" "DROP DATABASE authd WITH (FORCE)" >/dev/null &&
			pg_psql "$PG_PORT" "CREATE DATABASE authd" >/dev/null
	else
		rm -f "$MCP_AUTHD_DB"*
	fi
}
export MCP_AUTHD_MASTER_KEY_FILE="$T/master.key"
export MCP_AUTHD_ALLOW_INSECURE_ISSUER=true
export MCP_AUTHD_LOG_LEVEL=${MCP_AUTHD_LOG_LEVEL:-info}
unset MCP_AUTHD_CONFIG

authd() { "$MCP_AUTHD" "$@"; }

free_port() {
	"$PYTHON3" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# init_db [extra init args]: a fresh database for an issuer on a free port.
init_db() {
	PORT=$(free_port)
	ISSUER="http://127.0.0.1:$PORT"
	BASE="$ISSUER"
	authd init --issuer "$ISSUER" "$@" >/dev/null
}

wait_http() { # wait_http URL: until it answers, at most 10 s
	local i
	for i in $(seq 1 200); do
		if curl -fs -o /dev/null "$1"; then return 0; fi
		sleep 0.05
	done
	return 1
}

# start_serve [extra serve args]
start_serve() {
	"$MCP_AUTHD" serve --listen "127.0.0.1:$PORT" "$@" >/dev/null 2>>"$T/serve.log" &
	SERVER_PID=$!
	wait_http "$BASE/healthz"
}

stop_serve() {
	if [ -n "$SERVER_PID" ]; then
		kill -TERM "$SERVER_PID" 2>/dev/null
		wait "$SERVER_PID" 2>/dev/null
		SERVER_PID=
	fi
}

# req METHOD URL [curl args...]: sets STATUS, BODY, HEADERS.
req() {
	local method=$1 url=$2
	shift 2
	: >"$T/headers"
	BODY=$(curl -s -X "$method" -D "$T/headers" -o - -w '' "$url" "$@")
	STATUS=$(head -1 "$T/headers" | awk '{print $2}')
	HEADERS=$(tr -d '\r' <"$T/headers")
}

header() { # header NAME: value of a response header from the last req
	printf '%s\n' "$HEADERS" | awk -v n="$(echo "$1" | tr 'A-Z' 'a-z')" -F': ' \
		'tolower($1) == n { sub(/^[^:]*: /, ""); print; exit }'
}

jqr() { printf '%s' "$BODY" | jq -r "$@"; }

# jwt_json N TOKEN: decode part N (1 header, 2 claims) of a compact JWT.
jwt_json() {
	printf '%s' "$2" | cut -d. -f"$1" | tr '_-' '/+' |
		awk '{ n = length($0) % 4; if (n == 2) $0 = $0 "=="; else if (n == 3) $0 = $0 "="; print }' |
		base64 -d 2>/dev/null
}

# now_ms: the wall clock in milliseconds since the epoch. Bash's SECONDS counts whole
# seconds, too coarse to time anything against the server's whole-second clock.
now_ms() { date +%s%3N; }

# sleep_until_ms EPOCH_MS: sleep until then (at once if it has passed).
sleep_until_ms() {
	local d=$(($1 - $(now_ms)))
	if [ "$d" -gt 0 ]; then sleep "$((d / 1000)).$(printf '%03d' $((d % 1000)))"; fi
}

# until_ms LIMIT_MS COMMAND...: run COMMAND every 20 ms until it succeeds, at most
# LIMIT_MS; ELAPSED_MS gets how long it took. Fails when time ran out. Changes made by
# one process reach another's registry cache within a second (DESIGN.md §10.2): this is
# how the tests measure it.
until_ms() {
	local limit=$1 start now
	shift
	start=$(now_ms)
	while :; do
		if "$@" >/dev/null 2>&1; then
			ELAPSED_MS=$(($(now_ms) - start))
			return 0
		fi
		now=$(now_ms)
		if [ $((now - start)) -ge "$limit" ]; then
			ELAPSED_MS=$((now - start))
			return 1
		fi
		sleep 0.02
	done
}

# pkce: sets VERIFIER and CHALLENGE (S256).
pkce() {
	VERIFIER=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
	CHALLENGE=$(printf %s "$VERIFIER" | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '=\n')
}

# browse URL: GET with the cookie jar; sets STATUS, BODY, HEADERS, LOCATION.
browse() {
	req GET "$1" -c "$T/jar" -b "$T/jar"
	LOCATION=$(header Location)
}

# submit NAME=VALUE...: post the first form of the last page, as a browser would.
submit() {
	local out action body
	out=$(printf '%s' "$BODY" | "$PYTHON3" "$TOP_SRCDIR/tests/integ/formdata.py" "$@") || return 1
	action=$(printf '%s\n' "$out" | head -1)
	body=$(printf '%s\n' "$out" | tail -1)
	req POST "$action" -c "$T/jar" -b "$T/jar" -H 'Content-Type: application/x-www-form-urlencoded' \
		--data "$body"
	LOCATION=$(header Location)
}

# qparam NAME URL: a query parameter of a URL, decoded.
qparam() {
	"$PYTHON3" -c 'import sys, urllib.parse as u; q = u.parse_qs(u.urlsplit(sys.argv[2]).query); print(q.get(sys.argv[1], [""])[0])' "$1" "$2"
}

# start_https_fixture: a loopback HTTPS file server with a self-signed certificate for
# 127.0.0.1; sets FIXTURE_DIR, FIXTURE_PORT, FIXTURE_CA.
start_https_fixture() {
	FIXTURE_DIR="$T/fixture"
	mkdir -p "$FIXTURE_DIR"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj /CN=127.0.0.1 -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
		-keyout "$T/fixture.key" -out "$T/fixture.crt" 2>/dev/null
	FIXTURE_CA="$T/fixture.crt"
	"$PYTHON3" "$TOP_SRCDIR/tests/integ/https_fixture.py" "$FIXTURE_DIR" "$T/fixture.crt" \
		"$T/fixture.key" "$T/fixture.port" >/dev/null 2>&1 &
	FIXTURE_PID=$!
	local i
	for i in $(seq 1 100); do
		[ -s "$T/fixture.port" ] && break
		sleep 0.05
	done
	FIXTURE_PORT=$(cat "$T/fixture.port")
}

stop_https_fixture() {
	[ -n "${FIXTURE_PID:-}" ] && kill "$FIXTURE_PID" 2>/dev/null && wait "$FIXTURE_PID" 2>/dev/null
	FIXTURE_PID=
}
