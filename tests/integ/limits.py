"""Raw-socket clients for tests/integ/t_limits.sh: what curl cannot do.

usage: python3 limits.py COMMAND PORT ARGS...
  conns PORT SRC N          open N connections from source address SRC; print how many
                            the server kept ("alive=K") and the status of a request on
                            one of them ("status=200", or "status=closed")
  inflight PORT SRC N A B   as a proxy at SRC: hold N requests in flight for client A
                            (headers sent, body not); print the status of one more for
                            A, one for B, and one for A once the N are gone
  slow PORT INTERVAL        send a request head one byte every INTERVAL s; print the
                            seconds until the server closed ("closed=S") or "complete"
  idle PORT                 connect and send nothing: "closed=S"
  keepalive PORT            one request, then idle on the same connection: "closed=S"
  header PORT SIZE [TRIES]  a request with a SIZE-byte header, tried until one shows a
                            status: "status=431 secs=S", "status=closed" (every try
                            cut without one) or "status=hang"
Every wait is bounded: nothing here can hang a test.
"""
import socket
import sys
import threading
import time

HOST = "127.0.0.1"


def connect(port, src=None, timeout=5.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if src is not None:
        s.bind((src, 0))
    s.connect((HOST, port))
    return s


def status_of(s, request, timeout=5.0):
    """Send request on s and return the response's status code as text."""
    s.settimeout(timeout)
    try:
        s.sendall(request)
    except OSError:
        return "closed"
    return status_read(s)


def status_read(s):
    """The status code of the response arriving on s, without sending anything: a
    send on a connection the server has already closed fails (EPIPE) even when its
    answer is waiting to be read."""
    try:
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                return "closed"
            data += chunk
        return data.split(b" ", 2)[1].decode()
    except socket.timeout:
        return "hang"
    except OSError:
        return "closed"


def alive(s):
    """Is the connection still open (no EOF, no reset, nothing to read)?"""
    s.setblocking(False)
    try:
        data = s.recv(1, socket.MSG_PEEK)
        ok = len(data) > 0
    except BlockingIOError:
        ok = True
    except OSError:
        ok = False
    s.setblocking(True)
    return ok


def get(path, xff=None, close=True):
    h = "GET %s HTTP/1.1\r\nHost: %s\r\n" % (path, HOST)
    if xff is not None:
        h += "X-Forwarded-For: %s\r\n" % xff
    if close:
        h += "Connection: close\r\n"
    return (h + "\r\n").encode()


def wait_closed(s, limit=15.0):
    t = time.monotonic()
    s.settimeout(limit)
    try:
        while s.recv(4096):
            pass
    except socket.timeout:
        return "open"
    except OSError:
        pass
    return "closed=%.1f" % (time.monotonic() - t)


def cmd_conns(port, src, n):
    socks = []
    for _ in range(int(n)):
        try:
            socks.append(connect(port, src))
        except OSError:
            pass
    time.sleep(0.5)
    live = [s for s in socks if alive(s)]
    st = status_of(live[0], get("/healthz")) if live else "closed"
    print("alive=%d status=%s" % (len(live), st))


def cmd_inflight(port, src, n, a, b):
    held = []
    for _ in range(int(n)):
        s = connect(port, src)
        s.sendall(("POST /token HTTP/1.1\r\nHost: %s\r\nX-Forwarded-For: %s\r\n"
                   "Content-Type: application/x-www-form-urlencoded\r\n"
                   "Content-Length: 10\r\n\r\n" % (HOST, a)).encode())
        held.append(s)
    time.sleep(0.5)
    over = status_of(connect(port, src), get("/healthz", a))
    other = status_of(connect(port, src), get("/healthz", b))
    kept = sum(1 for s in held if alive(s))
    for s in held:
        s.close()
    time.sleep(0.5)
    after = status_of(connect(port, src), get("/healthz", a))
    print("held=%d over=%s other=%s after=%s" % (kept, over, other, after))


def cmd_slow(port, interval):
    s = connect(port)
    head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: " + b"s" * 200 + b"\r\n\r\n"
    t = time.monotonic()
    for i in range(len(head)):
        try:
            s.sendall(head[i:i + 1])
        except OSError:
            break
        time.sleep(float(interval))
        if not alive(s):
            break
        if time.monotonic() - t > 20:
            print("open")
            return
    else:
        print("complete")
        return
    print("closed=%.1f" % (time.monotonic() - t))


def cmd_idle(port):
    print(wait_closed(connect(port)))


def cmd_keepalive(port):
    s = connect(port)
    st = status_of(s, get("/healthz", close=False))
    # Read the rest of the small response, then wait for the server to let go.
    print("status=%s %s" % (st, wait_closed(s)))


def header_once(port, size):
    s = connect(port)
    req = (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * int(size) +
           b"\r\nConnection: close\r\n\r\n")
    result = []
    s.settimeout(5.0)
    reader = threading.Thread(target=lambda: result.append(status_read(s)))
    reader.start()
    try:
        s.sendall(req)
    except OSError:
        pass
    reader.join(10)
    s.close()
    return result[0] if result else "hang"


def cmd_header(port, size, tries="1"):
    # The server answers before it has read the whole head and then closes; the reset
    # that a close with unread data sends can reach the client before the answer is
    # read, and the kernel then drops the answer. So: every try must end at once, and
    # one of them must show the status.
    t = time.monotonic()
    seen = "closed"
    for _ in range(int(tries)):
        st = header_once(port, size)
        if st == "hang":
            seen = st
            break
        if st != "closed":
            seen = st
            break
    print("status=%s secs=%.1f" % (seen, time.monotonic() - t))


def main():
    cmd, port, args = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    {"conns": cmd_conns, "inflight": cmd_inflight, "slow": cmd_slow, "idle": cmd_idle,
     "keepalive": cmd_keepalive, "header": cmd_header}[cmd](port, *args)


if __name__ == "__main__":
    main()
