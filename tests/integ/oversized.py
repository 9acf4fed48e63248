"""A client that keeps writing an oversized body without reading, then reads the answer.

usage: python3 oversized.py PORT PATH BYTES [chunked]
Prints the status line the server sent, or the error the client met (a reset)."""
import socket
import sys

port, path, size = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
chunked = len(sys.argv) > 4
s = socket.create_connection(("127.0.0.1", port), timeout=10)
head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
head += "Content-Type: application/x-www-form-urlencoded\r\n"
head += "Transfer-Encoding: chunked\r\n" if chunked else f"Content-Length: {size}\r\n"
try:
    s.sendall((head + "\r\n").encode())
    block = b"x" * 16384
    sent = 0
    while sent < size:
        n = min(len(block), size - sent)
        s.sendall(b"%x\r\n" % n + block[:n] + b"\r\n" if chunked else block[:n])
        sent += n
    if chunked:
        s.sendall(b"0\r\n\r\n")
    answer = b""
    while b"\r\n" not in answer:
        got = s.recv(4096)
        if not got:
            break
        answer += got
    print(answer.split(b"\r\n")[0].decode() or "closed without an answer")
except OSError as e:
    print(f"failed {type(e).__name__}")
