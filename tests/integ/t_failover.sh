#!/bin/bash
# Failover drill (issue "Multi-node fleets on PostgreSQL"): a primary P with a
# synchronous streaming standby S on this machine, both durable (fsync on), and two
# mcp-authd nodes whose database is the multi-host URI "P then S" with
# target_session_attrs=read-write and db_timeout 2 s. Under load (refresh-token chains
# rotating through both nodes alternately, client_credentials on both), P is stopped
# (fast shutdown) and S promoted. Checks: the nodes answer 200 again within 10 s of the
# promotion; meanwhile the only errors are 503 temporarily_unavailable with Retry-After
# (no 500, no cut connection, no answer slower than db_timeout + 1 s); every refresh
# token received in a 200 is known on the promoted primary and each chain's last one
# still works (or, when its last request was answered 503, is "already used", never
# "unknown"); a code stored before the failover is redeemed exactly once across the
# nodes; both nodes ready at the end.
#
# Builds its own clusters (tests/pg/cluster.sh, tests/pg/replica.sh) whatever backend
# the rest of the suite runs on; evidence of a failure (or of any run, with
# FAILOVER_KEEP=1) is kept in /tmp/failover-evidence.
export MCP_AUTHD_TEST_BACKEND=sqlite
. "${TOP_SRCDIR:-.}/tests/integ/lib.sh"
. "$TOP_SRCDIR/tests/pg/cluster.sh"
. "$TOP_SRCDIR/tests/pg/replica.sh"

[ -x /usr/lib/postgresql/15/bin/initdb ] || skip_all "PostgreSQL 15 is not installed (postgresql-15)"
for tool in pg_basebackup psql jq; do
	command -v "$tool" >/dev/null || [ -x "$PG_BIN/$tool" ] || skip_all "no $tool"
done

CHAINS=${FAILOVER_CHAINS:-6}
SPARES=${FAILOVER_SPARES:-24}
LOAD_BEFORE=${FAILOVER_LOAD_BEFORE:-2}  # seconds of load before P is stopped
LOAD_AFTER=${FAILOVER_LOAD_AFTER:-12}   # seconds of load after the stop
DB_TIMEOUT=2
RESUME_LIMIT_MS=10000
SLOW_MS=$(((DB_TIMEOUT + 1) * 1000))
EVIDENCE=${FAILOVER_EVIDENCE:-/tmp/failover-evidence}

export PG_DURABLE=1 # fsync on: nothing here may rely on fsync=off
export MCP_AUTHD_LOG_LEVEL=info
export MCP_AUTHD_DB_TIMEOUT=$DB_TIMEOUT

PGROOT=$(mktemp -d "${TMPDIR:-/tmp}/mcp-authd-failover.XXXXXX")
chmod 755 "$PGROOT"
P_DIR=$PGROOT/primary S_DIR=$PGROOT/standby
P_PID= S_PID= NODE_A= NODE_B= LOADER= DRILL_DONE=0

drill_cleanup() {
	local pid
	for pid in $LOADER $NODE_A $NODE_B; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	if [ "$TAP_FAILED" -gt 0 ] || [ "$DRILL_DONE" != 1 ] || [ "${FAILOVER_KEEP:-0}" = 1 ]; then
		local keep
		keep="$EVIDENCE/$(date +%Y%m%d-%H%M%S)-$$"
		mkdir -p "$keep"
		cp "$T"/serve-*.log "$T"/events.jsonl "$T"/*.json "$T"/*.out "$keep"/ 2>/dev/null
		cp "$P_DIR/server.log" "$keep/primary-server.log" 2>/dev/null
		cp "$S_DIR/server.log" "$keep/standby-server.log" 2>/dev/null
		cp "$S_DIR/promote.log" "$keep/standby-promote.log" 2>/dev/null
		echo "# evidence kept in $keep"
	fi
	# A postmaster whose start was not confirmed is found by its pid file.
	[ -z "$P_PID" ] && [ -s "$P_DIR/data/postmaster.pid" ] && P_PID=$(head -1 "$P_DIR/data/postmaster.pid")
	[ -z "$S_PID" ] && [ -s "$S_DIR/data/postmaster.pid" ] && S_PID=$(head -1 "$S_DIR/data/postmaster.pid")
	pg_cluster_down "$P_PID"
	pg_cluster_down "$S_PID"
	P_PID= S_PID=
	rm -rf "$PGROOT"
}
CLEANUP_EXTRA=drill_cleanup

# ---- 1. the clusters: P, database authd, S streaming from it in synchronous mode ----
pg_cluster_init "$P_DIR" "wal_level = replica" "max_wal_senders = 5" ||
	{ echo "Bail out! cannot create the primary"; exit 1; }
P_PORT=$PG_PORT
pg_cluster_up "$P_DIR" || { echo "Bail out! cannot start the primary"; exit 1; }
P_PID=$PG_PID PG_PID=
pg_psql "$P_PORT" "CREATE DATABASE authd" >/dev/null
ok $? "primary P up on port $P_PORT (fsync=$(pg_psql "$P_PORT" 'SHOW fsync')), database authd created"
pg_standby_init "$P_PORT" "$S_DIR" authd_standby || { echo "Bail out! pg_basebackup failed"; exit 1; }
S_PORT=$PG_PORT
pg_cluster_up "$S_DIR" || { echo "Bail out! cannot start the standby"; exit 1; }
S_PID=$PG_PID PG_PID=
is "$(pg_psql "$S_PORT" 'SELECT pg_is_in_recovery()')" t "standby S up on port $S_PORT, in recovery"
pg_sync_replication "$P_PORT" authd_standby
ok $? "S streams from P as its synchronous standby (synchronous_commit=$(pg_psql "$P_PORT" 'SHOW synchronous_commit'))"

P_URL="postgresql://postgres@127.0.0.1:$P_PORT/authd"
FLEET_URL="postgresql://postgres@127.0.0.1:$P_PORT,127.0.0.1:$S_PORT/authd?target_session_attrs=read-write"

# ---- the authorization server's data, written to P (and so to S) ----
export MCP_AUTHD_DB=$P_URL
init_db
ok $? "mcp-authd init against P"
PORT_A=$PORT PORT_B=$(free_port)
R=https://files.example.com/mcp
REDIRECT=http://127.0.0.1/cb
authd resource add "$R" --name Files --scopes "files:read" >/dev/null
printf 'alice-pw\n' | authd user add alice --password-stdin >/dev/null
PUB=$(authd --json client add --name App --public --redirect-uri "$REDIRECT" | jq -r .client_id)
CC=$(authd --json client add --name Machine --resource "$R")
CC_BASIC="$(jq -r .client_id <<<"$CC"):$(jq -r .client_secret <<<"$CC")"
authd bench-seed --client "$PUB" --user alice --resource "$R" --redirect-uri "$REDIRECT" \
	--refresh $((CHAINS + SPARES)) --refresh-file "$T/seeded" >/dev/null
is "$(grep -c . "$T/seeded")" $((CHAINS + SPARES)) "$((CHAINS + SPARES)) refresh tokens seeded ($CHAINS chains, $SPARES spares)"
VERIFIER=$(authd bench-seed --client "$PUB" --user alice --resource "$R" --redirect-uri "$REDIRECT" \
	--codes 1 --codes-file "$T/code")
[ -s "$T/code" ] && [ -n "$VERIFIER" ]
ok $? "one authorization code seeded before the failover"
n=$(PG_DB=authd pg_psql "$S_PORT" "SELECT count(*) FROM refresh_tokens")
is "$n" $((CHAINS + SPARES)) "the seeded refresh tokens are on S already (synchronous)"

# ---- 2. two nodes on the multi-host URI ----
export MCP_AUTHD_DB=$FLEET_URL
"$MCP_AUTHD" serve --listen "127.0.0.1:$PORT_A" >/dev/null 2>>"$T/serve-a.log" &
NODE_A=$!
"$MCP_AUTHD" serve --listen "127.0.0.1:$PORT_B" >/dev/null 2>>"$T/serve-b.log" &
NODE_B=$!
BASE_A="http://127.0.0.1:$PORT_A" BASE_B="http://127.0.0.1:$PORT_B"
wait_http "$BASE_A/readyz" && wait_http "$BASE_B/readyz"
ok $? "two nodes serving on ports $PORT_A and $PORT_B, db $FLEET_URL, db_timeout ${DB_TIMEOUT}s"

# ---- 3. the load (its driver lives in $T) ----
cat >"$T/drill.py" <<'PY'
"""Failover drill load and its judge.

  drill.py load CFG       run until CFG["stop_file"] exists; one JSON line per answer
                          to CFG["log"]; the chains' final state to CFG["state"]
  drill.py judge CFG MARKS   MARKS: {"stop": ms, "promoted": ms, "end": ms}; prints JSON
  drill.py final CFG      present each chain's last token again; prints JSON
"""
import base64
import hashlib
import http.client
import json
import os
import socket
import sys
import threading
import time
import urllib.parse

FORM = {"Content-Type": "application/x-www-form-urlencoded", "Connection": "close"}


def now_ms():
    return time.time() * 1000.0


def post(cfg, node, body, headers=None):
    """One POST /token on a fresh connection; never raises, never waits forever."""
    u = urllib.parse.urlsplit(cfg["nodes"][node])
    ev = {"node": node, "t0": now_ms()}
    h = dict(FORM)
    h.update(headers or {})
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=cfg["http_timeout"])
    try:
        try:
            conn.connect()
        except socket.timeout:
            ev["outcome"] = "timeout"
            return ev, None
        except OSError as e:
            ev["outcome"] = "refused: %s" % e
            return ev, None
        try:
            conn.request("POST", "/token", body=body, headers=h)
            resp = conn.getresponse()
            data = resp.read()
        except socket.timeout:
            ev["outcome"] = "timeout"
            return ev, None
        except (OSError, http.client.HTTPException) as e:
            ev["outcome"] = "cut: %s" % e
            return ev, None
        ev["outcome"] = "answer"
        ev["status"] = resp.status
        ev["retry_after"] = resp.getheader("Retry-After")
        ev["content_type"] = resp.getheader("Content-Type")
        try:
            doc = json.loads(data.decode())
        except (ValueError, UnicodeDecodeError):
            doc = None
            ev["body"] = data[:200].decode(errors="replace")
        if isinstance(doc, dict):
            ev["error"] = doc.get("error")
            ev["desc"] = doc.get("error_description")
        return ev, doc
    finally:
        ev["t1"] = now_ms()
        conn.close()


def basic(cred):
    return {"Authorization": "Basic " + base64.b64encode(cred.encode()).decode()}


def load(cfg):
    log = open(cfg["log"], "a")
    lock = threading.Lock()
    spares = list(cfg["spares"])
    state = {}

    def stopping():
        return os.path.exists(cfg["stop_file"]) or time.time() > deadline

    deadline = time.time() + cfg["max_seconds"]

    def note(ev):
        with lock:
            log.write(json.dumps(ev, sort_keys=True) + "\n")
            log.flush()

    def chain(i, token):
        name = "c%d" % i
        st = {"token": token, "last": "start", "ended": [], "n": 0}
        with lock:
            state[name] = st
        k = i
        after503 = False
        while not stopping():
            node = k % 2  # alternately through both nodes
            k += 1
            body = urllib.parse.urlencode({"grant_type": "refresh_token",
                                           "refresh_token": st["token"],
                                           "client_id": cfg["client_id"]})
            ev, doc = post(cfg, node, body)
            ev.update(kind="refresh", chain=name, sent=st["token"], after503=after503)
            if ev.get("status") == 200 and isinstance(doc, dict) and doc.get("refresh_token"):
                st["token"] = ev["got"] = doc["refresh_token"]
                st["last"] = "200"
                st["n"] += 1
                after503 = False
                note(ev)
                continue
            note(ev)
            if ev.get("status") == 503:
                st["last"] = "503"
                after503 = True
                time.sleep(cfg["retry_pause"])
                continue
            # Anything else ends this family (judged later): keep the token for the
            # final check and go on with a fresh family.
            st["ended"].append({"token": st["token"], "after503": after503,
                                "status": ev.get("status"), "desc": ev.get("desc")})
            with lock:
                nxt = spares.pop() if spares else None
            if nxt is None:
                st["last"] = "out of spares"
                return
            st["token"], st["last"], after503 = nxt, "start", False

    def cc(node):
        body = urllib.parse.urlencode({"grant_type": "client_credentials",
                                       "resource": cfg["resource"]})
        while not stopping():
            ev, doc = post(cfg, node, body, basic(cfg["cc_basic"]))
            ev.update(kind="cc")
            if ev.get("status") == 200 and not (isinstance(doc, dict) and doc.get("access_token")):
                ev["status"] = "200 without an access token"
            note(ev)
            time.sleep(cfg["cc_pause"])

    ts = [threading.Thread(target=chain, args=(i, t)) for i, t in enumerate(cfg["chains"])]
    ts += [threading.Thread(target=cc, args=(n,)) for n in range(len(cfg["nodes"]))]
    for t in ts:
        t.start()
    open(cfg["marker"], "w").close()
    for t in ts:
        t.join()
    log.close()
    with open(cfg["state"], "w") as f:
        json.dump(state, f, sort_keys=True)
    print(json.dumps({"chains": {c: s["n"] for c, s in sorted(state.items())},
                      "spares_left": len(spares)}))


def judge(cfg, marks):
    evs = [json.loads(l) for l in open(cfg["log"]) if l.strip()]
    stop, promoted, end = marks["stop"], marks["promoted"], marks["end"]
    nn = len(cfg["nodes"])
    out = {"events": len(evs), "bad": [], "slow": [], "n503": [0] * nn,
           "n503_refresh": 0, "n503_cc": 0, "ok_before": [0] * nn, "ok_after": [0] * nn,
           "resume_ms": [None] * nn, "resume_from_stop_ms": [None] * nn,
           "first_503_ms": None, "last_503_ms": None, "tail_not_200": 0,
           "ended_after_503": 0, "max_ms": 0, "received": 0, "status": {}}
    received = []
    for ev in evs:
        d = ev["t1"] - ev["t0"]
        out["max_ms"] = max(out["max_ms"], round(d))
        if d > cfg["slow_ms"]:
            out["slow"].append("%s node %d: %d ms (%s %s) at %+d ms from the stop" % (
                ev["kind"], ev["node"], d, ev.get("status"), ev.get("desc"), ev["t0"] - stop))
        key = "%s %s" % (ev["kind"], ev.get("status", ev["outcome"].split(":")[0]))
        out["status"][key] = out["status"].get(key, 0) + 1
        where = "%s node %d at %+d ms from the stop" % (ev["kind"], ev["node"], ev["t0"] - stop)
        if ev["outcome"] != "answer":
            out["bad"].append("%s: %s" % (where, ev["outcome"]))
            continue
        s = ev["status"]
        if s == 200:
            if ev["kind"] == "refresh":
                received.append(ev["got"])
            if ev["t0"] < stop:
                out["ok_before"][ev["node"]] += 1
            if ev["t0"] >= promoted:
                out["ok_after"][ev["node"]] += 1
                if out["resume_ms"][ev["node"]] is None:
                    out["resume_ms"][ev["node"]] = round(ev["t1"] - promoted)
                    out["resume_from_stop_ms"][ev["node"]] = round(ev["t1"] - stop)
        elif s == 503:
            out["n503"][ev["node"]] += 1
            out["n503_" + ev["kind"]] += 1
            t = round(ev["t1"] - stop)
            if out["first_503_ms"] is None:
                out["first_503_ms"] = t
            out["first_503_ms"] = min(out["first_503_ms"], t)
            out["last_503_ms"] = max(out["last_503_ms"] if out["last_503_ms"] is not None else t, t)
            if ev.get("error") != "temporarily_unavailable" or not ev.get("retry_after") or \
                    not (ev.get("content_type") or "").startswith("application/json"):
                out["bad"].append("%s: 503 without an RFC 6749 temporarily_unavailable body "
                                  "and Retry-After: error=%s retry_after=%s body=%s" % (
                                      where, ev.get("error"), ev.get("retry_after"),
                                      ev.get("body")))
        elif ev["kind"] == "refresh" and s == 400 and ev.get("after503") and \
                ev.get("error") == "invalid_grant" and "unknown" not in (ev.get("desc") or ""):
            # The 503 before hid a COMMIT whose outcome was unknown and which happened:
            # the token is known and rotated ("already used"); failing closed is right.
            out["ended_after_503"] += 1
        else:
            out["bad"].append("%s: %s %s %s (after a 503: %s)" % (
                where, s, ev.get("error"), ev.get("desc"), ev.get("after503")))
        if ev["t0"] >= end - cfg["tail_ms"] and s != 200:
            out["tail_not_200"] += 1
    out["received"] = len(received)
    # The tokens received in a 200 (and the seeded ones), as SQL for the promoted primary.
    with open(cfg["hash_sql"], "w") as f:
        toks = received + list(cfg["chains"])
        f.write("CREATE TEMP TABLE got(h bytea);\n")
        for i in range(0, len(toks), 500):
            f.write("INSERT INTO got VALUES %s;\n" % ",".join(
                "('\\x%s')" % hashlib.sha256(t.encode()).hexdigest() for t in toks[i:i + 500]))
        f.write("SELECT count(*) || ' ' || count(*) FILTER (WHERE r.token_hash IS NULL) "
                "FROM got LEFT JOIN refresh_tokens r ON r.token_hash = got.h;\n")
    out["bad"] = out["bad"][:50]
    print(json.dumps(out, sort_keys=True))


def final(cfg):
    with open(cfg["state"]) as f:
        state = json.load(f)
    out = {"works": 0, "known_after_503": 0, "ended_known": 0, "problems": []}
    for i, (c, st) in enumerate(sorted(state.items())):
        node = (i + 1) % len(cfg["nodes"])
        body = urllib.parse.urlencode({"grant_type": "refresh_token", "refresh_token": st["token"],
                                       "client_id": cfg["client_id"]})
        ev, doc = post(cfg, node, body)
        s, desc = ev.get("status"), ev.get("desc") or ""
        if s == 200:
            out["works"] += 1
        elif st["last"] == "503" and s == 400 and ev.get("error") == "invalid_grant" and \
                "unknown" not in desc:
            out["known_after_503"] += 1
        else:
            out["problems"].append("%s (last answer %s): its last token answered %s %s %s" % (
                c, st["last"], s or ev["outcome"], ev.get("error"), desc))
        for e in st["ended"]:
            body = urllib.parse.urlencode({"grant_type": "refresh_token", "refresh_token": e["token"],
                                           "client_id": cfg["client_id"]})
            ev, doc = post(cfg, node, body)
            if ev.get("status") == 400 and ev.get("error") == "invalid_grant" and \
                    "unknown" not in (ev.get("desc") or ""):
                out["ended_known"] += 1
            else:
                out["problems"].append("%s: a family ended during the load answered %s %s" % (
                    c, ev.get("status") or ev["outcome"], ev.get("desc")))
    print(json.dumps(out, sort_keys=True))


def main():
    cfg = json.load(open(sys.argv[2]))
    if sys.argv[1] == "load":
        load(cfg)
    elif sys.argv[1] == "judge":
        judge(cfg, json.loads(sys.argv[3]))
    elif sys.argv[1] == "final":
        final(cfg)


main()
PY
jq -n --arg a "$BASE_A" --arg b "$BASE_B" --arg pub "$PUB" --arg cc "$CC_BASIC" --arg r "$R" \
	--arg t "$T" --argjson chains "$CHAINS" --argjson slow "$SLOW_MS" \
	--rawfile seeded "$T/seeded" '($seeded | split("\n") | map(select(. != ""))) as $s | {
	nodes: [$a, $b], client_id: $pub, cc_basic: $cc, resource: $r,
	chains: $s[0:$chains], spares: $s[$chains:],
	log: "\($t)/events.jsonl", state: "\($t)/state.json", marker: "\($t)/marker",
	stop_file: "\($t)/stop", hash_sql: "\($t)/hashes.sql",
	http_timeout: 10, max_seconds: 45, retry_pause: 0.2, cc_pause: 0.05,
	slow_ms: $slow, tail_ms: 2000}' >"$T/drill.json"
DRILL="$PYTHON3 $T/drill.py"
# A chain answered 503 presents the same token again after retry_pause (shorter than
# Retry-After, to see the switch closely); client_credentials every cc_pause per node.

$DRILL load "$T/drill.json" >"$T/load.out" 2>"$T/load.err" &
LOADER=$!
for _ in $(seq 1 200); do [ -e "$T/marker" ] && break; sleep 0.05; done
sleep "$LOAD_BEFORE"
STOP_MS=$(now_ms)
pg_cluster_down "$P_PID" INT # fast shutdown
P_PID=
STOPPED_MS=$(now_ms) # P is gone: S is promoted now, and the nodes' resume time counts from here
pg_promote "$S_DIR" "$S_PORT"
ok $? "P stopped in $((STOPPED_MS - STOP_MS)) ms, S promoted, accepting writes"
PROMOTED_MS=$(now_ms)
sleep_until_ms $((STOP_MS + LOAD_AFTER * 1000))
END_MS=$(now_ms)
touch "$T/stop"
wait "$LOADER"
ok $? "the load ran $(((END_MS - STOP_MS) / 1000)) s past the stop (chains' rotations: $(jq -c .chains "$T/load.out" 2>/dev/null))"
LOADER=
echo "# P stop asked at +0 ms, P gone and S promote asked at +$((STOPPED_MS - STOP_MS)) ms," \
	"S seen accepting writes at +$((PROMOTED_MS - STOP_MS)) ms"

# ---- 4. the checks ----
$DRILL judge "$T/drill.json" "{\"stop\": $STOP_MS, \"promoted\": $STOPPED_MS, \"end\": $END_MS}" \
	>"$T/judge.json"
J() { jq -r "$@" "$T/judge.json"; }
echo "# answers: $(J -c .status)"
[ "$(J '.ok_before | min')" -gt 0 ]
ok $? "before the stop both nodes answered 200 (refresh and client_credentials: $(J -c .ok_before))"
ra=$(J '.resume_ms[0] // -1') rb=$(J '.resume_ms[1] // -1')
[ "$ra" -ge 0 ] && [ "$ra" -le "$RESUME_LIMIT_MS" ] && [ "$rb" -ge 0 ] && [ "$rb" -le "$RESUME_LIMIT_MS" ]
ok $? "both nodes answer 200 again within $((RESUME_LIMIT_MS / 1000)) s of the promotion (node A ${ra} ms, node B ${rb} ms)"
echo "# first 200 after the promotion was asked: node A $ra ms, node B $rb ms; after the stop was asked: $(J -c .resume_from_stop_ms) ms"
is "$(J '.bad | length')" 0 "during the switch the only errors are 503 temporarily_unavailable with Retry-After: no 500, no cut connection, no other error"
J '.bad[]' | head -20 | sed 's/^/#   /'
is "$(J '.slow | length')" 0 "no answer took longer than db_timeout + 1 s = ${SLOW_MS} ms (slowest: $(J .max_ms) ms)"
J '.slow[]' | head -10 | sed 's/^/#   /'
echo "# 503 answers: $(J '.n503 | add') (node A $(J '.n503[0]'), node B $(J '.n503[1]'); refresh $(J .n503_refresh), client_credentials $(J .n503_cc)), first at $(J .first_503_ms) ms, last at $(J .last_503_ms) ms from the stop; families ended by an unknown COMMIT outcome: $(J .ended_after_503)"
is "$(J .tail_not_200)" 0 "the last 2 s of load: every answer 200"
[ "$(J '.ok_after | min')" -gt 0 ]
ok $? "after the promotion both nodes rotated and issued tokens (200s: $(J -c .ok_after))"

got=$(PG_DB=authd psql -X -q -At -h 127.0.0.1 -p "$S_PORT" -U postgres -d authd -f "$T/hashes.sql" 2>&1 | tail -1)
is "${got#* }" 0 "every refresh token received in a 200 is known on the promoted primary (${got%% *} tokens looked up)"
$DRILL final "$T/drill.json" >"$T/final.json"
F() { jq -r "$@" "$T/final.json"; }
is "$(F '.problems | length')" 0 "each chain's last token received in a 200 works afterwards ($(F .works) of $CHAINS; already used after a 503: $(F .known_after_503); ended families known: $(F .ended_known))"
F '.problems[]' | head -10 | sed 's/^/#   /'

# A code stored before the failover, redeemed on one node, then on the other.
redeem() {
	req POST "$1/token" -d grant_type=authorization_code -d client_id="$PUB" \
		-d code="$(cat "$T/code")" -d code_verifier="$VERIFIER" --data-urlencode redirect_uri="$REDIRECT"
}
redeem "$BASE_A"
s1=$STATUS e1=$(jqr -r '.error // empty' 2>/dev/null)
redeem "$BASE_B"
s2=$STATUS e2=$(jqr -r '.error_description // .error // empty' 2>/dev/null)
is "$s1 $s2" "200 400" "a code seeded before the failover: redeemed once (node A: $s1), refused on node B ($s2 $e2)"

req GET "$BASE_A/readyz"
a=$STATUS
req GET "$BASE_B/readyz"
is "$a $STATUS" "200 200" "/readyz is 200 on both nodes at the end"
for n in a b; do
	c=$(grep -ciE 'panic|assert|segfault|sanitizer' "$T/serve-$n.log")
	is "$c" 0 "node ${n^^}: no crash report in its log"
done
kill -0 "$NODE_A" 2>/dev/null && kill -0 "$NODE_B" 2>/dev/null
ok $? "both nodes still running"

DRILL_DONE=1
done_testing
