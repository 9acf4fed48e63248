#!/usr/bin/python3
"""Races and crash-safety load for tests/integ/t_races.sh and t_crash.sh.

  race.py burst URL[,URL...] N BODY
      Open N connections first (the i-th to the i-th URL, round robin: several nodes of
      a fleet), then release N copies of one form POST together (a barrier), and print
      one JSON document:
        status  answers by HTTP status          {"200": 1, "400": 199}
        error   4xx answers by RFC 6749 error   {"invalid_grant": 199}
        bad     answers that must never happen: 5xx, a connection cut, a 4xx without
                an RFC 6749 JSON error body (a list of short descriptions)
        ok      the JSON bodies of the 200 answers

  race.py mixed BASE SECONDS SPEC_JSON
      Concurrent traffic of several kinds for SECONDS; SPEC_JSON names what to run:
        {"cc": {"basic": "ID:SECRET", "resource": URI, "threads": N},
         "refresh": {"client_id": ID, "tokens": [T, ...]},      one thread per chain
         "register": {"threads": N},
         "flows": {"client_id": ID, "redirect_uri": URI, "resource": URI,
                   "users": [[NAME, PASSWORD], ...]}}           one thread per user
      A flow thread signs in once, then loops: authorize with prompt=consent, allow,
      redeem the code. Prints {"counts": {KIND: {STATUS: n}}, "bad": [...]}; bad is what
      must never happen (5xx, cut, malformed 4xx, an error redirect, a broken chain).

  race.py chains BASE CLIENT_ID STATE LOG MARKER CC_BASIC RESOURCE
      Crash load: one thread per refresh-token chain of STATE (JSON {chain: token})
      rotating as fast as it can, two threads of client_credentials, until the server
      is gone. Every event goes to LOG as one flushed line, written before the next
      request: "sent C T" before T is presented, "ok C T2" when a 200 brought T2,
      "dead C" when the connection was refused (nothing sent), "fail C STATUS" for any
      other answer. MARKER is created once the load runs. Prints JSON counts.

  race.py hold DB SECONDS HOLD
      A foreign writer, like a slow admin command: take SQLite's write lock (BEGIN
      IMMEDIATE) for HOLD seconds, let go for 50 ms, again, for SECONDS; print the count.

  race.py crashcheck DB STATE LOG PLAN
      With the server dead (DB a copy of its files), decide from the client's log and the database what each
      chain's last token must do after a restart, and check that no token the client
      received in a 200 is unknown to the database. Writes PLAN (JSON) and prints a
      summary; exit status 1 on any violation.

  race.py crashuse BASE CLIENT_ID STATE PLAN SPARES
      After the restart: present each chain's last token as PLAN says (200 expected,
      or invalid_grant for a token legitimately rotated by a request cut by the kill,
      which then starts a new chain from SPARES); rewrite STATE. Exit status 1 on any
      violation.
"""
import base64
import hashlib
import http.client
import json
import os
import sqlite3
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from formdata import pick_form  # noqa: E402  (the same browser as the shell tests)

TIMEOUT = 120


class Answer:
    def __init__(self, status=None, headers=None, body=b"", cut=False, refused=False,
                 cookies=()):
        self.status = status
        self.headers = headers or {}
        self.cookies = cookies
        self.body = body
        self.cut = cut
        self.refused = refused

    def json(self):
        try:
            return json.loads(self.body.decode())
        except (ValueError, UnicodeDecodeError):
            return None


def connect(url):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=TIMEOUT)
    try:
        conn.connect()
    except OSError:
        return None
    return conn


def send(conn, method, url, body=None, headers=None):
    """One request on an open connection, closed afterwards."""
    u = urllib.parse.urlsplit(url)
    path = (u.path or "/") + ("?" + u.query if u.query else "")
    h = {"Connection": "close"}
    h.update(headers or {})
    try:
        conn.request(method, path, body=body, headers=h)
        resp = conn.getresponse()
        data = resp.read()
        hdrs = {k.lower(): v for k, v in resp.getheaders()}
        if hdrs.get("content-length") not in (None, str(len(data))):
            return Answer(cut=True)
        return Answer(resp.status, hdrs, data, cookies=resp.headers.get_all("Set-Cookie") or ())
    except (OSError, http.client.HTTPException):
        return Answer(cut=True)
    finally:
        conn.close()


def request(method, url, body=None, headers=None):
    conn = connect(url)
    if conn is None:
        return Answer(refused=True)
    return send(conn, method, url, body, headers)


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def basic(cred):
    return {"Authorization": "Basic " + base64.b64encode(cred.encode()).decode()}


def judge(a, json_errors=True):
    """None when the answer is acceptable under load, else why not."""
    if a.refused:
        return "refused"
    if a.cut:
        return "cut"
    if a.status >= 500:
        return "%d %s" % (a.status, a.body[:120].decode(errors="replace"))
    if 400 <= a.status < 500 and json_errors:
        j = a.json()
        if not isinstance(j, dict) or not isinstance(j.get("error"), str):
            return "%d without an RFC 6749 error body" % a.status
    return None


def burst(urls, n, body):
    urls = urls.split(",")
    conns = [None] * n
    answers = [None] * n
    barrier = threading.Barrier(n)

    def one(i):
        url = urls[i % len(urls)]
        conns[i] = connect(url)
        barrier.wait()
        if conns[i] is None:
            answers[i] = Answer(refused=True)
        else:
            answers[i] = send(conns[i], "POST", url, body, FORM)

    ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    out = {"status": {}, "error": {}, "bad": [], "ok": []}
    for a in answers:
        why = judge(a)
        if why is not None:
            out["bad"].append(why)
            continue
        out["status"][str(a.status)] = out["status"].get(str(a.status), 0) + 1
        if a.status == 200:
            out["ok"].append(a.json())
        else:
            e = a.json()["error"]
            out["error"][e] = out["error"].get(e, 0) + 1
    print(json.dumps(out, sort_keys=True))


def mixed(base, seconds, spec):
    counts = {}
    bad = []
    extra = {"rotations": 0, "codes": 0, "consents": 0}
    lock = threading.Lock()
    end = time.monotonic() + seconds

    def count(kind, a, why=None):
        key = "cut" if a.cut else "refused" if a.refused else str(a.status)
        with lock:
            c = counts.setdefault(kind, {})
            c[key] = c.get(key, 0) + 1
            if why is not None:
                bad.append("%s: %s" % (kind, why))

    def cc_worker(cfg):
        body = urllib.parse.urlencode({"grant_type": "client_credentials",
                                       "resource": cfg["resource"]})
        while time.monotonic() < end:
            a = request("POST", base + "/token", body, dict(FORM, **basic(cfg["basic"])))
            why = judge(a)
            if why is None and a.status != 200:
                why = "client_credentials refused: %s" % a.body[:120]
            count("client_credentials", a, why)

    def refresh_worker(client_id, token):
        while time.monotonic() < end:
            body = urllib.parse.urlencode({"grant_type": "refresh_token",
                                           "refresh_token": token, "client_id": client_id})
            a = request("POST", base + "/token", body, FORM)
            why = judge(a)
            if why is None and a.status != 200:
                why = "a chain's current refresh token was refused: %s" % a.body[:120]
            count("refresh_token", a, why)
            if a.status != 200:
                return
            token = a.json()["refresh_token"]
            with lock:
                extra["rotations"] += 1

    def register_worker():
        n = 0
        while time.monotonic() < end:
            n += 1
            # Every fourth one confidential: its secret is hashed on the hash workers.
            doc = {"client_name": "race %d" % n, "redirect_uris": ["http://127.0.0.1/cb"],
                   "token_endpoint_auth_method": "client_secret_basic" if n % 4 == 0
                   else "none", "grant_types": ["authorization_code", "refresh_token"]}
            a = request("POST", base + "/register", json.dumps(doc),
                        {"Content-Type": "application/json"})
            why = judge(a)
            if why is None and a.status not in (201, 429):
                why = "registration refused: %d %s" % (a.status, a.body[:120])
            count("register", a, why)

    def flow_worker(cfg, user, password):
        cookies = {}

        def go(method, url, form=None):
            h = {}
            if form is not None:
                h.update(FORM)
            if cookies:
                h["Cookie"] = "; ".join("%s=%s" % kv for kv in cookies.items())
            a = request(method, urllib.parse.urljoin(base + "/", url),
                        urllib.parse.urlencode(form) if form is not None else None, h)
            for c in a.cookies:
                name, _, rest = c.partition("=")
                cookies[name.strip()] = rest.split(";")[0]
            return a

        def submit(page, **fields):
            f = pick_form(page.body.decode(errors="replace"), fields.keys())
            if f is None:
                return None
            data = [(k, v) for (k, v) in f["fields"] if k not in fields] + list(fields.items())
            return go("POST", f["action"], data)

        def authorize_url(challenge):
            return base + "/authorize?" + urllib.parse.urlencode({
                "response_type": "code", "client_id": cfg["client_id"],
                "redirect_uri": cfg["redirect_uri"], "code_challenge": challenge,
                "code_challenge_method": "S256", "resource": cfg["resource"],
                "state": "race", "prompt": "consent"})

        def page_ok(kind, a, want):
            why = judge(a, json_errors=False)
            if why is None and a.status not in want:
                why = "%d %s" % (a.status, a.body[:160])
            count(kind, a, why)
            return why is None

        signed_in = False
        while time.monotonic() < end:
            verifier = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
            challenge = base64.urlsafe_b64encode(
                hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            a = go("GET", authorize_url(challenge))
            if not page_ok("authorize", a, (200,)):
                return
            if not signed_in:
                # Signing in runs argon2 on the hash workers; a burst may be told to
                # retry (503 by design, not a database error): then try again.
                a = submit(a, username=user, password=password)
                if a is not None and a.status == 503 and b"server busy" in a.body:
                    count("login_retry", a)
                    time.sleep(0.2)
                    continue
                if a is None or not page_ok("login", a, (200,)):
                    return
                signed_in = True
            a = submit(a, decision="allow")
            if a is None or not page_ok("consent", a, (303,)):
                return
            loc = a.headers.get("location", "")
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query)
            if "code" not in q:
                with lock:
                    bad.append("consent: redirected without a code: %s" % loc[:200])
                return
            with lock:
                extra["consents"] += 1
            body = urllib.parse.urlencode({
                "grant_type": "authorization_code", "code": q["code"][0],
                "code_verifier": verifier, "redirect_uri": cfg["redirect_uri"],
                "client_id": cfg["client_id"]})
            a = request("POST", base + "/token", body, FORM)
            why = judge(a)
            if why is None and a.status != 200:
                why = "a fresh code was refused: %s" % a.body[:160]
            count("authorization_code", a, why)
            if why is not None:
                return
            with lock:
                extra["codes"] += 1

    ts = []
    if "cc" in spec:
        for _ in range(spec["cc"].get("threads", 2)):
            ts.append(threading.Thread(target=cc_worker, args=(spec["cc"],)))
    if "refresh" in spec:
        for tok in spec["refresh"]["tokens"]:
            ts.append(threading.Thread(target=refresh_worker,
                                       args=(spec["refresh"]["client_id"], tok)))
    if "register" in spec:
        for _ in range(spec["register"].get("threads", 2)):
            ts.append(threading.Thread(target=register_worker))
    if "flows" in spec:
        for user, pw in spec["flows"]["users"]:
            ts.append(threading.Thread(target=flow_worker, args=(spec["flows"], user, pw)))
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(json.dumps({"counts": counts, "bad": bad, "done": extra}, sort_keys=True))


def chains(base, client_id, state_path, log_path, marker, cc_basic, resource):
    with open(state_path) as f:
        state = json.load(f)
    log = open(log_path, "a")
    lock = threading.Lock()
    counts = {"rotations": 0, "cc": {}, "fail": 0}
    gone = threading.Event()

    def note(line):
        # One line per event, flushed before the next request goes out: the record
        # survives whatever happens to the server.
        with lock:
            log.write(line + "\n")
            log.flush()

    def chain(name, token):
        while not gone.is_set():
            conn = connect(base)
            if conn is None:
                note("dead %s" % name)
                gone.set()
                return
            note("sent %s %s" % (name, token))
            body = urllib.parse.urlencode({"grant_type": "refresh_token",
                                           "refresh_token": token, "client_id": client_id})
            a = send(conn, "POST", base + "/token", body, FORM)
            if a.cut:
                gone.set()
                return
            if a.status != 200:
                note("fail %s %d" % (name, a.status))
                with lock:
                    counts["fail"] += 1
                return
            token = a.json()["refresh_token"]
            note("ok %s %s" % (name, token))
            with lock:
                counts["rotations"] += 1

    def cc():
        body = urllib.parse.urlencode({"grant_type": "client_credentials", "resource": resource})
        while not gone.is_set():
            a = request("POST", base + "/token", body, dict(FORM, **basic(cc_basic)))
            key = "cut" if a.cut else "refused" if a.refused else str(a.status)
            with lock:
                counts["cc"][key] = counts["cc"].get(key, 0) + 1
            if a.refused:
                gone.set()

    ts = [threading.Thread(target=chain, args=kv) for kv in sorted(state.items())]
    ts += [threading.Thread(target=cc) for _ in range(2)]
    for t in ts:
        t.start()
    open(marker, "w").close()
    # A safety net, should the kill never come.
    gone.wait(30)
    gone.set()
    for t in ts:
        t.join()
    log.close()
    print(json.dumps(counts, sort_keys=True))


def hold(db_path, seconds, hold_for):
    db = sqlite3.connect(db_path, isolation_level=None, timeout=60)
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        db.execute("BEGIN IMMEDIATE")
        time.sleep(hold_for)
        db.execute("COMMIT")
        n += 1
        time.sleep(0.05)
    db.close()
    print(n)


def token_hash(t):
    return hashlib.sha256(t.encode()).digest()


def crashcheck(db_path, state_path, log_path, plan_path):
    with open(state_path) as f:
        state = json.load(f)
    received = {c: [] for c in state}  # tokens received in a 200, in order
    last = {c: "start" for c in state}  # the chain's last event
    with open(log_path) as f:
        for line in f:
            parts = line.split()
            if not parts:
                continue
            if parts[0] == "ok":
                received[parts[1]].append(parts[2])
            last[parts[1]] = parts[0]
    db = sqlite3.connect(db_path)  # a copy of the dead server's files
    problems = []
    plan = {}
    summary = {"received": 0, "works": 0, "rotated_in_flight": 0}

    def row(t):
        return db.execute("SELECT rotated_at FROM refresh_tokens WHERE token_hash = ?",
                          (token_hash(t),)).fetchone()

    for c, start in sorted(state.items()):
        seen = [start] + received[c]
        summary["received"] += len(received[c])
        for i, t in enumerate(seen):
            r = row(t)
            if r is None:
                problems.append("%s: token %d of the chain (received in a 200) is unknown" % (c, i))
            elif i < len(seen) - 1 and r[0] is None:
                problems.append("%s: token %d was rotated by a 200 but is not marked so" % (c, i))
        r = row(seen[-1])
        if r is None:
            continue
        if r[0] is None:
            plan[c] = {"token": seen[-1], "expect": "works"}
            summary["works"] += 1
        elif last[c] == "sent":
            # Presented when the kill came: the rotation committed, the answer was
            # lost with the process. Legitimate: the successor must be stored.
            n = db.execute("SELECT count(*) FROM refresh_tokens t JOIN refresh_tokens p "
                           "ON p.family_id = t.family_id WHERE p.token_hash = ? "
                           "AND t.issued_at >= p.rotated_at AND t.rotated_at IS NULL "
                           "AND t.token_hash != p.token_hash",
                           (token_hash(seen[-1]),)).fetchone()[0]
            if n < 1:
                problems.append("%s: the last token was rotated but no successor is stored" % c)
            plan[c] = {"token": seen[-1], "expect": "rotated"}
            summary["rotated_in_flight"] += 1
        else:
            problems.append("%s: the last token received (event %s) is already rotated" %
                            (c, last[c]))
    db.close()
    with open(plan_path, "w") as f:
        json.dump(plan, f)
    summary["problems"] = problems
    print(json.dumps(summary, sort_keys=True))
    return 1 if problems else 0


def crashuse(base, client_id, state_path, plan_path, spares_path):
    with open(plan_path) as f:
        plan = json.load(f)
    with open(spares_path) as f:
        spares = [l.strip() for l in f if l.strip()]
    problems = []
    state = {}
    summary = {"worked": 0, "rotated": 0}
    for c, p in sorted(plan.items()):
        body = urllib.parse.urlencode({"grant_type": "refresh_token",
                                       "refresh_token": p["token"], "client_id": client_id})
        a = request("POST", base + "/token", body, FORM)
        j = a.json() or {}
        if p["expect"] == "works":
            if a.status == 200:
                state[c] = j["refresh_token"]
                summary["worked"] += 1
            else:
                problems.append("%s: the last token received was refused: %s %s" %
                                (c, a.status, j.get("error_description")))
        else:
            if a.status == 400 and j.get("error") == "invalid_grant" and \
                    "unknown" not in j.get("error_description", ""):
                summary["rotated"] += 1
            else:
                problems.append("%s: a token rotated in flight answered %s %s" %
                                (c, a.status, j.get("error_description")))
    with open(state_path) as f:
        old = json.load(f)
    for c in old:
        if c not in state:
            if not spares:
                problems.append("out of spare refresh tokens")
                break
            state[c] = spares.pop()
    with open(state_path, "w") as f:
        json.dump(state, f)
    with open(spares_path, "w") as f:
        f.write("".join(s + "\n" for s in spares))
    summary["problems"] = problems
    print(json.dumps(summary, sort_keys=True))
    return 1 if problems else 0


def main():
    a = sys.argv[1:]
    if len(a) == 4 and a[0] == "burst":
        burst(a[1], int(a[2]), a[3])
    elif len(a) == 4 and a[0] == "mixed":
        mixed(a[1], float(a[2]), json.loads(a[3]))
    elif len(a) == 8 and a[0] == "chains":
        chains(*a[1:])
    elif len(a) == 4 and a[0] == "hold":
        hold(a[1], float(a[2]), float(a[3]))
    elif len(a) == 5 and a[0] == "crashcheck":
        sys.exit(crashcheck(*a[1:]))
    elif len(a) == 6 and a[0] == "crashuse":
        sys.exit(crashuse(*a[1:]))
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
