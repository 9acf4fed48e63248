#!/usr/bin/python3
"""Load across the nodes of a fleet for tests/integ/t_fleet.sh.

  fleet.py chains URLS SECONDS TOKENS CLIENT_ID CC_BASIC RESOURCE MARKER
      URLS is a comma-separated list of node base URLs. One thread per refresh token
      in the file TOKENS (a chain: it rotates its token as fast as it can, each request
      to the next node in turn) and two threads of client_credentials, for SECONDS.
      MARKER is created once the load runs. A node that refuses the connection is dead
      for that thread from then on, and the same request goes to the next node (nothing
      was sent). A request cut after it was sent is "in doubt": the same token then goes
      to a living node and must come back 200 (the dead node never committed) or
      "refresh token already used" (it committed and the answer died with it; the
      replay ends the chain, as it must); anything else is a violation. At the end,
      every chain still alive presents its last token, received in a 200, to a living
      node: it must work. A 503 temporarily_unavailable (the database was away, or the
      outcome of a commit is unknown and the node failed closed) is counted and handled
      like a cut. Prints one JSON document:
        rotations, cc_ok       200 answers
        refused, cut           per node
        unavailable            503 temporarily_unavailable answers (with Retry-After)
        in_doubt               {"200": n, "already used": n}
        bad                    answers from living nodes that must never happen
        violations             acknowledged tokens that did not work, in-doubt outcomes
                               other than the two allowed
        final                  {"worked": n, "chains": n, "answer_lost": n}: the last
                               check, asked like the load (an answer lost to a cut
                               connection there ends the chain as "already used")
"""
import base64
import http.client
import json
import sys
import threading
import time
import urllib.parse

TIMEOUT = 30


def unavailable(status, doc, headers):
    return (status == 503 and isinstance(doc, dict) and doc.get("error") == "temporarily_unavailable"
            and headers.get("retry-after", "").isdigit())


def post(base, path, body, basic=None):
    """(status, json or None, headers) | ("refused", None, {}) | ("cut", None, {})"""
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=TIMEOUT)
    try:
        conn.connect()
    except OSError:
        return "refused", None, {}
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Connection": "close"}
    if basic:
        headers["Authorization"] = "Basic " + base64.b64encode(basic.encode()).decode()
    try:
        conn.request("POST", path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        try:
            doc = json.loads(data)
        except ValueError:
            doc = None
        return resp.status, doc, {k.lower(): v for k, v in resp.getheaders()}
    except (OSError, http.client.HTTPException):
        return "cut", None, {}
    finally:
        conn.close()


def form(**kw):
    return urllib.parse.urlencode(kw)


def chains(urls, seconds, tokens_path, client_id, cc_basic, resource, marker):
    urls = urls.split(",")
    tokens = [t.strip() for t in open(tokens_path) if t.strip()]
    lock = threading.Lock()
    out = {"rotations": 0, "cc_ok": 0, "refused": {}, "cut": {}, "in_doubt": {}, "unavailable": 0,
           "bad": [], "violations": [], "final": {"worked": 0, "chains": 0}}
    dead = set()
    end = time.monotonic() + seconds
    last = {}

    def note(kind, node):
        with lock:
            out[kind][node] = out[kind].get(node, 0) + 1
            dead.add(node)

    def living(start):
        for k in range(len(urls)):
            n = urls[(start + k) % len(urls)]
            if n not in dead:
                return n
        return None

    def refresh(node, token):
        return post(node, "/token", form(grant_type="refresh_token", client_id=client_id,
                                         refresh_token=token))

    def present(token, turn, deadline):
        """Present token until a definite answer: 200 (its successor), "already used"
        after an answer we lost (the rotation had happened), or a violation. A refused
        connection sends nothing; a cut or a 503 leaves the outcome in doubt, so the same
        token goes again."""
        doubt = False
        while time.monotonic() < deadline:
            node = living(turn)
            turn += 1
            if node is None:
                return "gone", None, turn
            status, doc, hdrs = refresh(node, token)
            if status == "refused":
                note("refused", node)
                continue
            if status == "cut" or unavailable(status, doc, hdrs):
                if status == "cut":
                    note("cut", node)
                else:
                    with lock:
                        out["unavailable"] += 1
                doubt = True
                time.sleep(0.05)
                continue
            what = doc.get("error_description", "") if isinstance(doc, dict) else ""
            if status == 200:
                if doubt:
                    with lock:
                        out["in_doubt"]["200"] = out["in_doubt"].get("200", 0) + 1
                return "ok", doc["refresh_token"], turn
            if doubt and status == 400 and "already used" in what:
                with lock:
                    out["in_doubt"]["already used"] = out["in_doubt"].get("already used", 0) + 1
                return "used", None, turn
            return "violation", "%s %s at %s%s" % (status, what or doc, node,
                                                   " (after an answer lost)" if doubt else ""), turn
        return "violation", "still in doubt after 15 s", turn

    def chain(i):
        token, turn = tokens[i], i
        while time.monotonic() < end:
            outcome, value, turn = present(token, turn, end + 15)
            if outcome == "gone":
                return
            if outcome != "ok":
                last[i] = None
                if outcome == "violation":
                    with lock:
                        out["violations"].append("chain %d: its acknowledged token: %s" % (i, value))
                return
            token = value
            last[i] = token
            with lock:
                out["rotations"] += 1

    def cc(j):
        turn = j
        while time.monotonic() < end:
            node = living(turn)
            turn += 1
            if node is None:
                return
            status, doc, hdrs = post(node, "/token", form(grant_type="client_credentials",
                                                          resource=resource), cc_basic)
            if status in ("refused", "cut"):
                note(status, node)
            elif unavailable(status, doc, hdrs):
                with lock:
                    out["unavailable"] += 1
            elif status == 200:
                with lock:
                    out["cc_ok"] += 1
            else:
                with lock:
                    out["bad"].append("client_credentials at %s: %s %s" % (node, status, doc))

    threads = [threading.Thread(target=chain, args=(i,)) for i in range(len(tokens))]
    threads += [threading.Thread(target=cc, args=(j,)) for j in range(2)]
    for t in threads:
        t.start()
    open(marker, "w").close()
    for t in threads:
        t.join()
    # Every chain still alive: its last token, received in a 200, works on a living node
    # (asked as the chains ask: the database may still be losing connections).
    for i, token in last.items():
        if token is None:
            continue
        out["final"]["chains"] += 1
        outcome, value, _ = present(token, i, time.monotonic() + 15)
        if outcome == "ok":
            out["final"]["worked"] += 1
        elif outcome == "used":
            out["final"]["answer_lost"] = out["final"].get("answer_lost", 0) + 1
        else:
            out["violations"].append("chain %d: last acknowledged token: %s" % (i, value))
    out["dead"] = sorted(dead)
    print(json.dumps(out, sort_keys=True))
    return 1 if out["violations"] or out["bad"] else 0


def main():
    a = sys.argv[1:]
    if len(a) == 8 and a[0] == "chains":
        sys.exit(chains(a[1], float(a[2]), a[3], a[4], a[5], a[6], a[7]))
    sys.stderr.write(__doc__)
    sys.exit(2)


if __name__ == "__main__":
    main()
