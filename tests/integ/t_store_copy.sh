#!/bin/bash
# store copy: a live SQLite deployment moved into an empty PostgreSQL database. Every
# table arrives row for row (counted by the command, in the file and in PostgreSQL), a
# non-empty destination is refused, a password in the URL is never printed, and a server
# switched to the copy goes on where the old one stopped: the same keys and JWKS, codes
# and refresh tokens issued before the copy, client secrets, exchange edges, revocations,
# sessions, consents and the audit trail.
export MCP_AUTHD_TEST_BACKEND=sqlite # the source of the copy is SQLite, whatever the runner
. "${TOP_SRCDIR:-.}/tests/integ/lib.sh"
. "$TOP_SRCDIR/tests/pg/cluster.sh"
pg_available || skip_all "PostgreSQL 15 is not installed (postgresql-15)"
command -v psql >/dev/null || skip_all "psql is not installed"

# Every table store copy moves, in its order.
TABLES="settings users resources exchange_edges clients client_redirect_uris client_resources
registration_tokens consents sessions auth_codes token_families refresh_tokens revoked_jtis keys
audit login_failures rate_limits idps idp_group_maps upstream_logins credentials
resource_credentials connections user_connections connect_states"

export MCP_AUTHD_REGISTRATION=open MCP_AUTHD_REGISTRATION_RATE=1000
export MCP_AUTHD_JWKS_MAX_AGE=0 # so that `keys rotate` may run whenever the test wants
# A login is held back after two failures of an account (one before the copy, one after).
export MCP_AUTHD_LOGIN_THROTTLE_AFTER=2 MCP_AUTHD_LOGIN_THROTTLE_DELAY=60
SQLITE_DB=$MCP_AUTHD_DB
init_db
A=https://files.example.com/mcp
B=https://calendar.example.com/mcp
REDIRECT=http://127.0.0.1:9/cb
authd resource add "$A" --name Files --scopes "read write" >/dev/null
authd resource add "$B" --name Calendar --scopes "read write" --default-scopes read --ttl 300 >/dev/null
authd resource allow-exchange "$A" "$B" --scopes read >/dev/null
printf 'pw-alice\n' | authd user add alice --password-stdin >/dev/null
printf 'pw-bob\n' | authd user add bob --password-stdin >/dev/null
printf 'pw-carol\n' | authd user add carol --password-stdin >/dev/null
authd user disable carol >/dev/null
PUB=$(authd --json client add --name App --public --redirect-uri "$REDIRECT" \
	--redirect-uri http://127.0.0.1:9/other | jq -r .client_id)
M=$(authd --json client add --name "Nightly job" --resource "$A" --resource "$B")
M_ID=$(jq -r .client_id <<<"$M") M_SECRET=$(jq -r .client_secret <<<"$M")
SA=$(authd --json client add --name "Files MCP server" --acts-for "$A")
SA_ID=$(jq -r .client_id <<<"$SA") SA_SECRET=$(jq -r .client_secret <<<"$SA")
SB=$(authd --json client add --name "Calendar MCP server" --acts-for "$B")
SB_ID=$(jq -r .client_id <<<"$SB") SB_SECRET=$(jq -r .client_secret <<<"$SB")
REG_TOKEN=$(authd --json client registration-token --ttl 3600 | jq -r .registration_token)
authd keys rotate >/dev/null
ok $? "keys rotate on SQLite"
start_serve
ok $? "server started on SQLite"

enc() { "$PYTHON3" -c 'import sys, urllib.parse as u; print(u.quote(sys.argv[1], safe=""))' "$1"; }
token() { req POST "$BASE/token" "$@"; }
TE=urn:ietf:params:oauth:grant-type:token-exchange
AT_TYPE=urn:ietf:params:oauth:token-type:access_token
exchange() { # exchange ID SECRET SUBJECT-TOKEN RESOURCE
	token -u "$1:$2" -d grant_type=$TE --data-urlencode subject_token="$3" \
		-d subject_token_type=$AT_TYPE --data-urlencode resource="$4"
}
refresh() { # refresh TOKEN: STATUS, BODY
	token -d grant_type=refresh_token -d client_id="$PUB" --data-urlencode refresh_token="$1"
}
redeem() { # redeem CODE VERIFIER
	token -d grant_type=authorization_code -d client_id="$PUB" -d code="$1" -d code_verifier="$2" \
		--data-urlencode redirect_uri="$REDIRECT"
}
introspect() { # introspect ID SECRET TOKEN: prints the whole answer
	curl -s -u "$1:$2" "$BASE/introspect" --data-urlencode token="$3" | jq -c .
}
claims() { jwt_json 2 "$1"; }
sqlite_q() { # sqlite_q SQL: the first column of the first row, from the SQLite file
	"$PYTHON3" -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); print(c.execute(sys.argv[2]).fetchone()[0])' \
		"$SQLITE_DB" "$1"
}
pg_q() { # pg_q DATABASE SQL
	PG_DB=$1 pg_psql "$PG_PORT" "$2"
}
counts_sqlite() { # one "table N" line per table
	local t
	for t in $TABLES; do echo "$t $(sqlite_q "SELECT count(*) FROM $t")"; done
}
counts_pg() { # counts_pg DATABASE: one "table N" line per table
	local t
	for t in $TABLES; do echo "$t $(pg_q "$1" "SELECT count(*) FROM $t")"; done
}
authorize_url() { # authorize_url [extra query]: for CHALLENGE (run pkce first), scope read
	echo "$BASE/authorize?response_type=code&client_id=$PUB&redirect_uri=$(enc "$REDIRECT")&code_challenge=$CHALLENGE&code_challenge_method=S256&resource=$(enc "$A")&scope=read${1:-}"
}

# ---- 1. a SQLite deployment with live data of every kind ----
# A code flow through the login and consent pages: a session, a consent, a family.
pkce
browse "$(authorize_url "%20write")"
submit username=alice password=pw-alice
submit decision=allow
CODE=$(qparam code "$LOCATION")
[ -n "$CODE" ]; ok $? "code flow on SQLite: a code after login and consent"
redeem "$CODE" "$VERIFIER"
is "$STATUS" 200 "code flow on SQLite: redeemed"
RT1=$(jqr .refresh_token)
refresh "$RT1"
is "$STATUS" 200 "refresh on SQLite: rotated"
RT2=$(jqr .refresh_token) # unused: it must work after the copy
USER_AT2=$(jqr .access_token)
# client_credentials, one token revoked, one kept.
token -u "$M_ID:$M_SECRET" -d grant_type=client_credentials -d resource="$A"
is "$STATUS" 200 "client_credentials on SQLite"
M_TOKEN=$(jqr .access_token)
token -u "$M_ID:$M_SECRET" -d grant_type=client_credentials -d resource="$A"
M_TOKEN_KEPT=$(jqr .access_token)
req POST "$BASE/revoke" -u "$M_ID:$M_SECRET" -d token="$M_TOKEN"
is "$STATUS" 200 "revocation of an access token on SQLite"
is "$(introspect "$SA_ID" "$SA_SECRET" "$M_TOKEN")" '{"active":false}' \
	"the revoked token introspects inactive on SQLite"
# Token exchange along the edge A -> B.
exchange "$SA_ID" "$SA_SECRET" "$USER_AT2" "$B"
is "$STATUS" 200 "token exchange A -> B on SQLite"
# bench-seed: unredeemed codes and unused refresh tokens, plus one family revoked.
SEED_VERIFIER=$(authd bench-seed --client "$PUB" --user alice --resource "$A" --redirect-uri "$REDIRECT" \
	--codes 3 --codes-file "$T/codes" --refresh 3 --refresh-file "$T/refresh")
ok $? "bench-seed: 3 codes, 3 refresh tokens"
SEED_CODE=$(sed -n 1p "$T/codes")
SEED_RT=$(sed -n 1p "$T/refresh")
SEED_RT_REVOKED=$(sed -n 2p "$T/refresh")
req POST "$BASE/revoke" -d client_id="$PUB" --data-urlencode token="$SEED_RT_REVOKED"
is "$STATUS" 200 "revocation of a refresh token on SQLite"
# Dynamic client registration (a rate_limits row) and a failed login (login_failures).
req POST "$BASE/register" -H 'Content-Type: application/json' \
	--data '{"redirect_uris":["http://127.0.0.1:7/cb"],"client_name":"Registered","token_endpoint_auth_method":"none"}'
is "$STATUS" 201 "dynamic client registration on SQLite"
DCR_ID=$(jqr .client_id)
pkce
browse "$(authorize_url "&prompt=login")"
submit username=bob password=wrong-password
is "$STATUS" 401 "a failed login on SQLite"
# An upstream identity provider with a sealed client secret, a group mapping and a
# federated user (idps, idp_group_maps, the users' federation columns).
printf 'upstream-secret\n' | authd idp add corp --issuer https://login.corp.example \
	--client-id authd --client-secret-stdin --jit >/dev/null
ok $? "an identity provider on SQLite"
authd idp map corp --group eng --resource "$A" >/dev/null && authd user add fed-carol --idp corp --sub 00u1 >/dev/null
ok $? "its group mapping and a federated user"
# A sign-in in progress at the provider (upstream_logins), as the login flow keeps it.
"$PYTHON3" -c 'import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1]); n = int(time.time()); c.execute("INSERT INTO upstream_logins VALUES (randomblob(32), ?, randomblob(32), ?, ?, ?, ?, ?)", ("corp", "n0nce", "v" * 43, "response_type=code&client_id=x", n, n + 600)); c.commit()' "$SQLITE_DB"
ok $? "a sign-in in progress at the provider"
# A service credential rotated once (two versions, sealed blobs with NULs in them) that
# the Files server may fetch (credentials, resource_credentials), as the vault keeps them.
"$PYTHON3" - "$SQLITE_DB" "$A" <<'PY'
import os, sqlite3, sys, time
c = sqlite3.connect(sys.argv[1])
n = int(time.time())
r = c.execute("SELECT id FROM resources WHERE uri = ?", (sys.argv[2],)).fetchone()[0]
ins = ("INSERT INTO credentials(name, version, wrapped_key, secret_enc, fingerprint, created_at, "
       "retires_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
c.execute(ins, ("github", 1, os.urandom(60), b"\x00\xff\x00\x01" + os.urandom(40),
                "sha256:0123456789abcdef", n - 60, n + 3600))
c.execute(ins, ("github", 2, os.urandom(60), os.urandom(44), "sha256:fedcba9876543210", n, None))
c.execute("INSERT INTO resource_credentials(resource, name, created_at) VALUES (?, ?, ?)",
          (r, "github", n))
c.commit()
PY
ok $? "a service credential in two versions and the policy that lets a server fetch it"
# A third party users connect accounts at, a user's sealed tokens there, and a connect
# in progress (connections, user_connections, connect_states).
"$PYTHON3" - "$SQLITE_DB" <<'PY'
import os, sqlite3, sys, time
c = sqlite3.connect(sys.argv[1])
n = int(time.time())
u = c.execute("SELECT min(id) FROM users").fetchone()[0]
c.execute("INSERT INTO connections(name, authorize_url, token_url, revoke_url, client_id, wrapped_key, "
          "secret_enc, scopes, resource, allow_private, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          ("tp", "https://tp.example.com/authorize", "https://tp.example.com/token", None, "cid",
           os.urandom(60), b"\x00" + os.urandom(30), "repo", None, 0, n))
c.execute("INSERT INTO user_connections VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          ("tp", u, 3, os.urandom(60), b"\x00\xff" + os.urandom(50), "sha256:0011223344556677", "repo",
           n + 3600, 0, 0, n - 10, n))
c.execute("INSERT INTO connect_states VALUES (?, ?, ?, ?, ?, ?, ?)",
          (os.urandom(32), "tp", u, os.urandom(32), "v" * 43, n, n + 600))
c.commit()
PY
ok $? "a connection, a user's tokens there and a connect in progress"
curl -s "$BASE/jwks.json" >"$T/jwks.before"
is "$(jq '.keys | length' "$T/jwks.before")" "$(sqlite_q 'SELECT count(*) FROM keys')" \
	"JWKS before the copy: every key of the keys table"
stop_serve
counts_sqlite >"$T/counts.sqlite"
empty=$(awk '$2 == 0 { print $1 }' "$T/counts.sqlite" | tr '\n' ' ')
is "$empty" "" "the SQLite deployment has rows in every table store copy moves"
echo "# SQLite rows: $(tr '\n' ' ' <"$T/counts.sqlite")"
TOTAL=$(awk '{ n += $2 } END { print n }' "$T/counts.sqlite")

# ---- 2. store copy into an empty PostgreSQL database ----
pg_start_throwaway || { echo "Bail out! cannot start a PostgreSQL cluster"; exit 1; }
ok 0 "a throwaway PostgreSQL cluster on port $PG_PORT"
authd --db "$SQLITE_DB" store copy --to "$PG_URL" >"$T/copy.out" 2>"$T/copy.err"
is $? 0 "store copy into the empty database: exit 0"
is "$(cat "$T/copy.err")" "" "store copy: nothing on stderr"
sed 's/^/#   /' "$T/copy.out"
awk '$3 == "rows" && $4 == "copied" && $5 == "and" && $6 == "verified" && NF == 6 { print $1, $2 }' \
	"$T/copy.out" >"$T/counts.printed"
counts_pg authd >"$T/counts.pg"
is "$(cut -d' ' -f1 "$T/counts.printed" | tr '\n' ' ')" "$(echo $TABLES) " \
	"one 'rows copied and verified' line per table, in order"
for t in $TABLES; do
	n_sqlite=$(awk -v t="$t" '$1 == t { print $2 }' "$T/counts.sqlite")
	n_printed=$(awk -v t="$t" '$1 == t { print $2 }' "$T/counts.printed")
	n_pg=$(awk -v t="$t" '$1 == t { print $2 }' "$T/counts.pg")
	is "$n_printed/$n_pg" "$n_sqlite/$n_sqlite" "$t: $n_sqlite rows in SQLite, printed $n_printed, $n_pg in PostgreSQL"
done
is "$(tail -1 "$T/copy.out")" "$TOTAL rows copied into $PG_URL and counted again there" "the total line"
is "$(wc -l <"$T/copy.out" | tr -d ' ')" 27 "26 table lines and the total, nothing else"
# Not just as many rows: the same rows, column by column (blobs as bytea hex, as
# PostgreSQL's row_to_json writes them).
for t in $TABLES; do
	pg_q authd "SELECT row_to_json(r) FROM $t r" >"$T/rows.$t.pg"
done
"$PYTHON3" - "$SQLITE_DB" "$T" $TABLES >"$T/same" <<'PY'
import json, sqlite3, sys
db, tmp, tables = sys.argv[1], sys.argv[2], sys.argv[3:]
c = sqlite3.connect(db)
def canon(row):
    return json.dumps(row, sort_keys=True)
for t in tables:
    cur = c.execute(f"SELECT * FROM {t}")
    names = [d[0] for d in cur.description]
    src = []
    for r in cur:
        src.append(canon({n: ("\\x" + v.hex()) if isinstance(v, bytes) else v for n, v in zip(names, r)}))
    with open(f"{tmp}/rows.{t}.pg") as f:
        dst = [canon(json.loads(l)) for l in f if l.strip()]
    missing = sorted(set(src) - set(dst))
    extra = sorted(set(dst) - set(src))
    if sorted(src) == sorted(dst):
        print(t, "same")
    else:
        print(t, "differ:", len(src), "in SQLite,", len(dst), "in PostgreSQL; only in SQLite:",
              missing[:1], "only in PostgreSQL:", extra[:1])
PY
for t in $TABLES; do
	is "$(awk -v t="$t" '$1 == t { $1 = ""; sub(/^ /, ""); print }' "$T/same")" same \
		"$t: the same rows, column for column, in PostgreSQL as in SQLite"
done

# --json, into a second empty database.
pg_q postgres "CREATE DATABASE authd_json" >/dev/null
JSON_URL="postgresql://postgres@127.0.0.1:$PG_PORT/authd_json"
authd --json --db "$SQLITE_DB" store copy --to "$JSON_URL" >"$T/copy.json" 2>"$T/copy.json.err"
is $? 0 "store copy --json: exit 0"
jq -e . "$T/copy.json" >/dev/null
ok $? "store copy --json: one JSON document"
is "$(jq -r .to "$T/copy.json")" "$JSON_URL" "--json: to names the destination"
is "$(jq -r .rows "$T/copy.json")" "$TOTAL" "--json: rows is the total ($TOTAL)"
is "$(jq -c -S .tables "$T/copy.json")" \
	"$(jq -R -s -c -S 'split("\n") | map(select(. != "") | split(" ") | {(.[0]): (.[1] | tonumber)}) | add' "$T/counts.sqlite")" \
	"--json: tables gives every table with its SQLite row count"
counts_pg authd_json >"$T/counts.pg.json"
cmp -s "$T/counts.sqlite" "$T/counts.pg.json"
ok $? "--json: the second database holds as many rows per table as the SQLite file"

# A database that is not empty is refused, and left as it was.
authd --db "$SQLITE_DB" store copy --to "$PG_URL" >"$T/again.out" 2>"$T/again.err"
is $? 1 "store copy into the database it just filled: exit 1"
is "$(wc -l <"$T/again.err" | tr -d ' ')" 1 "refused with one line on stderr"
like "$(cat "$T/again.err")" "not empty" "which says the destination is not empty"
is "$(cat "$T/again.out")" "" "and nothing on stdout"
counts_pg authd >"$T/counts.pg.after"
cmp -s "$T/counts.pg" "$T/counts.pg.after"
ok $? "the refused copy left every table's count unchanged"
# A database that `init` prepared (settings and keys only) is refused too.
pg_q postgres "CREATE DATABASE authd_init" >/dev/null
INIT_URL="postgresql://postgres@127.0.0.1:$PG_PORT/authd_init"
authd --db "$INIT_URL" init --issuer "$ISSUER" >/dev/null 2>&1
authd --db "$SQLITE_DB" store copy --to "$INIT_URL" >/dev/null 2>"$T/init.err"
is $? 1 "a database that \`init\` prepared (settings, keys) is refused: exit 1"
is "$(pg_q authd_init "SELECT count(*) FROM users")" 0 "and receives no users"
# So is one whose only row is in the last table copied.
for t in $(echo $TABLES | tr ' ' '\n' | tac); do
	[ "$t" = rate_limits ] || pg_q authd_json "DELETE FROM $t" >/dev/null
done
is "$(counts_pg authd_json | awk '$2 > 0' | tr '\n' ' ')" "rate_limits 1 " \
	"a copy emptied of everything but its one rate_limits row"
authd --db "$SQLITE_DB" store copy --to "$JSON_URL" >/dev/null 2>"$T/one.err"
is $? 1 "a database with one row, in rate_limits only, is refused: exit 1"
is "$(pg_q authd_json "SELECT count(*) FROM users")" 0 "and receives no users"
# Emptied completely, the same database (its schema already there) takes the copy.
pg_q authd_json "DELETE FROM rate_limits" >/dev/null
authd --db "$SQLITE_DB" store copy --to "$JSON_URL" >"$T/recopy.out" 2>&1
is $? 0 "once empty again, a database that already has the schema takes the copy: exit 0"
counts_pg authd_json >"$T/counts.pg.recopy"
cmp -s "$T/counts.sqlite" "$T/counts.pg.recopy"
ok $? "with every table's rows"
counts_sqlite >"$T/counts.sqlite.after"
cmp -s "$T/counts.sqlite" "$T/counts.sqlite.after"
ok $? "the SQLite source keeps every table's count through the copies"

# A password in the URL is masked in everything store copy and check-config print.
SECRET=s3cret
pg_q postgres "CREATE DATABASE authd_pw" >/dev/null
PW_URL="postgresql://postgres:$SECRET@127.0.0.1:$PG_PORT/authd_pw"
PW_SHOWN="postgresql://postgres:****@127.0.0.1:$PG_PORT/authd_pw"
authd --db "$SQLITE_DB" store copy --to "$PW_URL" >"$T/pw.out" 2>"$T/pw.err"
is $? 0 "store copy to a URL with a password: exit 0"
is "$(tail -1 "$T/pw.out")" "$TOTAL rows copied into $PW_SHOWN and counted again there" \
	"the total line shows the URL with the password masked"
authd --json --db "$SQLITE_DB" store copy --to "$PW_URL" >"$T/pw.refused.out" 2>"$T/pw.refused.err"
is $? 1 "again (not empty now, --json): exit 1"
like "$(cat "$T/pw.refused.err")" "postgres:\\*\\*\\*\\*@" "the refusal shows the masked URL"
PW_Q_URL="postgresql://postgres@127.0.0.1:$PG_PORT/authd_pw?password=$SECRET&connect_timeout=5"
authd --db "$SQLITE_DB" store copy --to "$PW_Q_URL" >"$T/pwq.out" 2>"$T/pwq.err"
is $? 1 "password given as a URL parameter, not empty: exit 1"
like "$(cat "$T/pwq.err")" "password=\\*\\*\\*\\*" "the parameter is masked"
pg_q postgres "CREATE DATABASE authd_pw2" >/dev/null
PW2_URL="postgresql://postgres@127.0.0.1:$PG_PORT/authd_pw2?password=$SECRET"
authd --json --db "$SQLITE_DB" store copy --to "$PW2_URL" >"$T/pw2.out" 2>"$T/pw2.err"
is $? 0 "--json, password as a URL parameter: exit 0"
is "$(jq -r .to "$T/pw2.out")" "postgresql://postgres@127.0.0.1:$PG_PORT/authd_pw2?password=****" \
	"--json: to shows the parameter masked"
DEAD_PORT=$(free_port)
authd --db "$SQLITE_DB" store copy --to "postgresql://postgres:$SECRET@127.0.0.1:$DEAD_PORT/authd?connect_timeout=5" \
	>"$T/pwdead.out" 2>"$T/pwdead.err"
is $? 1 "a destination that cannot be reached: exit 1"
like "$(cat "$T/pwdead.err")" "postgres:\\*\\*\\*\\*@" "the error shows the masked URL"
MCP_AUTHD_DB="$PW_URL" authd check-config >"$T/cc.out" 2>&1
is $? 0 "check-config with the URL in MCP_AUTHD_DB"
like "$(grep '^db ' "$T/cc.out")" "postgres:\\*\\*\\*\\*@127" "check-config shows the db URL masked"
MCP_AUTHD_DB="$PW_URL" authd --json check-config >"$T/cc.json" 2>&1
is "$(jq -r .db.value "$T/cc.json")" "$PW_SHOWN" "check-config --json: the db URL masked"
printf 'db = %s\n' "$PW_Q_URL" >"$T/pw.conf"
authd --config "$T/pw.conf" check-config >"$T/cc.file.out" 2>&1
authd --db "$PW_URL" check-config >"$T/cc.flag.out" 2>&1
leaks=$(grep -l -- "$SECRET" "$T"/pw*.out "$T"/pw*.err "$T"/cc*.out "$T/cc.json" 2>/dev/null | xargs -r -n1 basename | tr '\n' ' ')
is "$leaks" "" "'$SECRET' appears in no output of store copy or check-config (env, --db, config file)"
for f in "$T"/pw*.err; do sed 's/^/#   /' "$f"; done

# ---- 3. a server switched to the copy: same master key, same issuer and port ----
authd --db "$SQLITE_DB" audit tail -n 1000 --json >"$T/audit.sqlite.json"
export MCP_AUTHD_DB="$PG_URL"
start_serve
ok $? "server started on the PostgreSQL copy"
req GET "$BASE/readyz"
is "$STATUS" 200 "ready on PostgreSQL"
curl -s "$BASE/jwks.json" >"$T/jwks.after"
cmp -s "$T/jwks.before" "$T/jwks.after"
ok $? "/jwks.json is byte for byte what the SQLite server published"
req GET "$BASE/.well-known/oauth-authorization-server"
is "$(jqr .issuer)" "$ISSUER" "the same issuer"

# The refresh token issued before the copy, never used: it rotates once.
refresh "$RT2"
is "$STATUS" 200 "a refresh token issued before the copy: 200"
RT3=$(jqr .refresh_token)
[ -n "$RT3" ] && [ "$RT3" != null ] && [ "$RT3" != "$RT2" ]
ok $? "and a new refresh token"
AT3=$(jqr .access_token)
KID=$(jwt_json 1 "$AT3" | jq -r .kid)
is "$(jq -r --arg k "$KID" '[.keys[] | select(.kid == $k)] | length' "$T/jwks.before")" 1 \
	"the new access token is signed by a key copied in encrypted form (kid $KID)"
is "$(claims "$AT3" | jq -r '.aud + " " + .scope')" "$A read write" "for the same resource and scope"
is "$(introspect "$SA_ID" "$SA_SECRET" "$AT3" | jq -r .active)" true "it introspects active"
# Revocations made before the copy still hold.
is "$(introspect "$SA_ID" "$SA_SECRET" "$M_TOKEN")" '{"active":false}' \
	"the access token revoked before the copy introspects inactive"
is "$(introspect "$SA_ID" "$SA_SECRET" "$M_TOKEN_KEPT" | jq -r .active)" true \
	"while its sibling, not revoked, introspects active"
exchange "$SA_ID" "$SA_SECRET" "$M_TOKEN" "$B"
is "$(jqr .error)" invalid_request "the revoked access token cannot be exchanged"
like "$(jqr .error_description)" revoked "because it is revoked"
refresh "$SEED_RT_REVOKED"
is "$(jqr .error)" invalid_grant "the refresh token revoked before the copy is refused"
# Token exchange along the copied edge A -> B.
exchange "$SA_ID" "$SA_SECRET" "$AT3" "$B"
is "$STATUS" 200 "token exchange along the copied edge A -> B: 200"
T_B=$(jqr .access_token)
is "$(claims "$T_B" | jq -r '.aud + " " + .scope + " " + .act.sub')" "$B read $SA_ID" \
	"aud B, the edge's scope, act the Files server"
is "$(introspect "$SB_ID" "$SB_SECRET" "$T_B" | jq -r .active)" true "the Calendar server sees it active"
exchange "$SB_ID" "$SB_SECRET" "$AT3" "$B"
is "$(jqr .error)" invalid_request "the confused deputy is still refused (an A-token from the B-server)"
# Reuse of a rotated refresh token ends its family, as before the copy.
refresh "$RT2"
is "$(jqr .error)" invalid_grant "the rotated predecessor presented again: refused"
is "$(pg_q authd "SELECT count(*) FROM token_families WHERE revoke_reason = 'refresh token reuse'")" 1 \
	"as reuse: its family is revoked for it"
refresh "$RT3"
is "$(jqr .error)" invalid_grant "which ends the family: its successor is refused too"
refresh "$RT1"
is "$(jqr .error)" invalid_grant "a token rotated before the copy is refused"
# bench-seed's refresh token and code, issued before the copy.
refresh "$SEED_RT"
is "$STATUS" 200 "a seeded refresh token from before the copy: 200"
redeem "$SEED_CODE" "$SEED_VERIFIER"
is "$STATUS" 200 "a code issued before the copy redeems: 200"
is "$(claims "$(jqr .access_token)" | jq -r .sub)" alice "for its user"
redeem "$SEED_CODE" "$SEED_VERIFIER"
is "$(jqr .error)" invalid_grant "and only once"
redeem "$(sed -n 2p "$T/codes")" wrong-verifier-0123456789-0123456789-abcdefgh
is "$(jqr .error)" invalid_grant "another with a wrong verifier: invalid_grant"
# The machine client authenticates with its copied secret.
token -u "$M_ID:$M_SECRET" -d grant_type=client_credentials -d resource="$B"
is "$STATUS" 200 "client_credentials with the copied secret: 200"
is "$(claims "$(jqr .access_token)" | jq -r .aud)" "$B" "for its second copied resource"
token -u "$M_ID:wrong" -d grant_type=client_credentials -d resource="$A"
is "$STATUS" 401 "a wrong secret: 401"
# The browser session and the consent from before the copy.
pkce
browse "$(authorize_url "%20write")"
CODE=$(qparam code "$LOCATION")
like "$STATUS ${LOCATION%%\?*} ${CODE:+code}" "^30[23] $REDIRECT code\$" \
	"the browser signed in before the copy gets a code without login or consent"
redeem "$CODE" "$VERIFIER"
is "$STATUS" 200 "and redeems it"
# A new browser: the login page, the copied password, and the copied consent.
rm -f "$T/jar"
pkce
browse "$(authorize_url "%20write")"
is "$STATUS" 200 "a new browser: the login page"
submit username=alice password=pw-alice
CODE=$(qparam code "$LOCATION")
like "$STATUS ${LOCATION%%\?*} ${CODE:+code}" "^30[23] $REDIRECT code\$" \
	"the copied user signs in with her password; her copied consent skips the consent page"
redeem "$CODE" "$VERIFIER"
is "$STATUS" 200 "and the code redeems"
# A new full code flow in that browser, for a scope not consented yet.
pkce
browse "$(authorize_url)"
is "$STATUS" 200 "a narrower scope: a page (the consent page, the session is kept)"
printf '%s' "$BODY" | grep -q 'name="password"'
ok $((1 - $?)) "not the login page"
submit decision=allow
CODE=$(qparam code "$LOCATION")
[ -n "$CODE" ]; ok $? "consent on PostgreSQL: a code"
redeem "$CODE" "$VERIFIER"
is "$STATUS" 200 "new code flow on PostgreSQL: redeemed"
is "$(claims "$(jqr .access_token)" | jq -r .scope)" read "for the scope asked"
RT_NEW=$(jqr .refresh_token)
refresh "$RT_NEW"
is "$STATUS" 200 "new code flow on PostgreSQL: refreshed"
rm -f "$T/jar"
pkce
browse "$(authorize_url "&prompt=login")"
submit username=carol password=pw-carol
is "$STATUS" 401 "the user disabled before the copy stays disabled"
# bob failed once before the copy: one more failure reaches the threshold of two.
pkce
browse "$(authorize_url "&prompt=login")"
submit username=bob password=wrong-again
is "$STATUS" 401 "bob's second failed login (the first was before the copy)"
pkce
browse "$(authorize_url "&prompt=login")"
submit username=bob password=pw-bob
is "$STATUS" 429 "the copied failure counts: bob's right password is now held back"
# Registration: the registered client is known, the counters continue.
req POST "$BASE/register" -H 'Content-Type: application/json' \
	--data '{"redirect_uris":["http://127.0.0.1:7/cb2"],"token_endpoint_auth_method":"none"}'
is "$STATUS" 201 "a new registration on PostgreSQL"
like "$(authd --json client list | jq -r '.[].client_id' | tr '\n' ' ')" "$DCR_ID" \
	"the client registered before the copy is listed"
# The registration counter of this address goes on from the copied row (when the
# 60-second window is still the same one; a new window starts from 1).
read -r W0 C0 <<<"$(sqlite_q "SELECT window_start || ' ' || count FROM rate_limits WHERE key = 'register:127.0.0.1'")"
read -r W1 C1 <<<"$(pg_q authd "SELECT window_start || ' ' || count FROM rate_limits WHERE key = 'register:127.0.0.1' ORDER BY window_start DESC LIMIT 1")"
if [ "$W1" = "$W0" ]; then want=$((C0 + 1)); else want=1; fi
is "$C1" "$want" "the registration counter on PostgreSQL (window $W1; copied window $W0 had $C0)"

# The initial access token minted before the copy, with registration by token.
stop_serve
MCP_AUTHD_REGISTRATION=token start_serve
ok $? "server restarted on PostgreSQL with registration by initial access token"
REG_BODY='{"redirect_uris":["http://127.0.0.1:7/cb3"],"token_endpoint_auth_method":"none"}'
req POST "$BASE/register" -H 'Content-Type: application/json' --data "$REG_BODY"
is "$STATUS" 401 "registration without a token: 401"
req POST "$BASE/register" -H 'Content-Type: application/json' -H "Authorization: Bearer $REG_TOKEN" \
	--data "$REG_BODY"
is "$STATUS" 201 "registration with the token minted before the copy: 201"

# The administration commands on the copy: new rows get ids after the copied ones, and
# the next key, copied encrypted, becomes the signing key.
printf 'pw-dave\n' | authd user add dave --password-stdin >/dev/null
ok $? "user add on the copy"
authd resource add https://mail.example.com/mcp --name Mail --scopes read >/dev/null
ok $? "resource add on the copy"
authd resource allow-exchange "$B" https://mail.example.com/mcp >/dev/null
ok $? "resource allow-exchange on the copy"
NEXT_KID=$(authd --json keys list | jq -r '.[] | select(.state == "next") | .kid')
echo "# keys before rotation on PostgreSQL: $(authd --json keys list | jq -c '[.[] | {kid, state}]')"
authd keys rotate >/dev/null
ok $? "keys rotate on the copy"
signing_kid_is() { # signing_kid_is KID: a new token is signed with it
	token -u "$M_ID:$M_SECRET" -d grant_type=client_credentials -d resource="$A"
	[ "$(jwt_json 1 "$(jqr .access_token)" | jq -r .kid)" = "$1" ]
}
until_ms 15000 signing_kid_is "$NEXT_KID"
ok $? "the server signs with the copied next key after the rotation (${ELAPSED_MS} ms)"
is "$(introspect "$SA_ID" "$SA_SECRET" "$(jqr .access_token)" | jq -r .active)" true \
	"and its tokens introspect active"
stop_serve # which writes out the audit batch of the last stateless grants

# The audit trail on PostgreSQL: the copied records first, then the new ones.
authd audit tail -n 1000 --json >"$T/audit.pg.json"
N_AUDIT=$(jq length "$T/audit.sqlite.json")
is "$N_AUDIT" "$(awk '$1 == "audit" { print $2 }' "$T/counts.sqlite")" "(audit tail on SQLite lists every record)"
is "$(jq -c ".[:$N_AUDIT]" "$T/audit.pg.json")" "$(jq -c . "$T/audit.sqlite.json")" \
	"audit tail on PostgreSQL starts with the $N_AUDIT copied records, unchanged"
[ "$(jq length "$T/audit.pg.json")" -gt "$N_AUDIT" ]
ok $? "followed by the records written since ($(jq length "$T/audit.pg.json") in all)"
is "$(jq '[.[] | select(.event == "token.exchanged")] | length' "$T/audit.pg.json")" 2 \
	"both exchanges, the copied one and the new one"
is "$(jq '[.[] | select(.event == "login.failed" and .sub == "bob")] | length' "$T/audit.pg.json")" 2 \
	"both of bob's failed logins"
authd audit tail -n 1000 >"$T/audit.pg.txt"
ok $? "audit tail (text) on PostgreSQL"
is "$(wc -l <"$T/audit.pg.txt" | tr -d ' ')" "$(jq length "$T/audit.pg.json")" "one line per record"
grep -Ei 'error|fatal|duplicate key' "$T/serve.log" | head -5 | sed 's/^/#   /'
grep -qiE 'duplicate key|violates' "$T/serve.log"
ok $((1 - $?)) "no key collision in the server's log"
done_testing
