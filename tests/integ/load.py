#!/usr/bin/python3
"""Load for the operations tests: real HTTP requests from several threads.

  load.py hammer URL SECONDS THREADS BODY [BASIC]
      POST BODY (a form) to URL over a new connection each time until SECONDS have
      passed or the server goes away; print JSON counts:
        ok      complete answers, by status ({"200": n, ...})
        refused connections the server did not take (it had stopped listening)
        cut     connections it took and closed without a complete answer
  load.py burst URL BODY BASIC [BASIC ...]
      One POST per credential, all at once; print one status per line when all are
      answered (or "cut" for a connection closed without an answer). With
      BURST_SENT_FILE set, create that file once every request has been sent.

A new connection per request makes "cut" mean what a graceful stop must avoid: a
request the server accepted and then dropped.
"""
import base64
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse


def post(url, body, basic, timeout=30, on_sent=None):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        conn.connect()
    except OSError:
        return "refused"
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Connection": "close"}
    if basic:
        headers["Authorization"] = "Basic " + base64.b64encode(basic.encode()).decode()
    try:
        conn.request("POST", u.path or "/", body=body, headers=headers)
        if on_sent:
            on_sent()
        resp = conn.getresponse()
        data = resp.read()
        if resp.getheader("Content-Length") not in (None, str(len(data))):
            return "cut"
        return str(resp.status)
    except (OSError, http.client.HTTPException):
        return "cut"
    finally:
        conn.close()


def hammer(url, seconds, threads, body, basic):
    counts = {"ok": {}, "refused": 0, "cut": 0}
    lock = threading.Lock()
    end = time.monotonic() + seconds
    gone = threading.Event()

    def worker():
        while time.monotonic() < end and not gone.is_set():
            r = post(url, body, basic)
            with lock:
                if r == "refused":
                    counts["refused"] += 1
                    gone.set()
                elif r == "cut":
                    counts["cut"] += 1
                else:
                    counts["ok"][r] = counts["ok"].get(r, 0) + 1

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(json.dumps(counts, sort_keys=True))


def burst(url, body, basics):
    results = [None] * len(basics)
    sent = []
    lock = threading.Lock()
    marker = os.environ.get("BURST_SENT_FILE")

    def on_sent():
        with lock:
            sent.append(1)
            if marker and len(sent) == len(basics):
                open(marker, "w").close()

    def one(i, basic):
        results[i] = post(url, body, basic, on_sent=on_sent)

    ts = [threading.Thread(target=one, args=(i, b)) for i, b in enumerate(basics)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("\n".join(results))


def main():
    if len(sys.argv) >= 6 and sys.argv[1] == "hammer":
        hammer(sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), sys.argv[5],
               sys.argv[6] if len(sys.argv) > 6 else None)
    elif len(sys.argv) >= 5 and sys.argv[1] == "burst":
        burst(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
