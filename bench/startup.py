"""Start-to-ready: from exec to the first 200 on the metadata URL, for any server.

usage: python3 startup.py RUNS PORT URL -- COMMAND ARGS...
The command is started RUNS times (killed after each answer); the URL is polled on a
fresh connection every 0.5 ms. Prints one JSON line: runs, median, p90, min, max (ms).
"""
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time


def wait_free(port):
    for _ in range(2000):
        s = socket.socket()
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
            return
        except OSError:
            time.sleep(0.005)
        finally:
            s.close()


def answered(port, path):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
            head = s.recv(64)
            return head.startswith(b"HTTP/1.1 200") or head.startswith(b"HTTP/1.0 200")
    except OSError:
        return False


def main():
    runs, port, url = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    cmd = sys.argv[sys.argv.index("--") + 1:]
    path = "/" + url.split("/", 3)[3]
    times = []
    for _ in range(runs):
        wait_free(port)
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
        while not answered(port, path):
            if p.poll() is not None:
                sys.exit("the server exited before answering")
            if time.perf_counter() - t0 > 30:
                sys.exit("no answer within 30 s")
            time.sleep(0.0005)
        times.append((time.perf_counter() - t0) * 1000)
        os.killpg(p.pid, signal.SIGTERM)
        p.wait()
    times.sort()
    print(json.dumps({
        "runs": runs,
        "median_ms": round(statistics.median(times), 2),
        "p90_ms": round(times[int(0.9 * (len(times) - 1))], 2),
        "min_ms": round(times[0], 2),
        "max_ms": round(times[-1], 2),
    }))


main()
