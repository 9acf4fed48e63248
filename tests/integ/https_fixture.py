"""A loopback HTTPS server for tests: serves the files of a directory, with a few paths
that misbehave on purpose. Writes the port it got to PORT_FILE once it listens.

usage: python3 https_fixture.py DIR CERT KEY PORT_FILE
  /<name>.json     the file, Content-Type application/json (Cache-Control from
                   <name>.json.cc if that file exists)
  /<name>.txt      the file, Content-Type text/plain
  /redirect.json   302 to /client.json
  /slow.json       answers after 8 seconds
  /big.json        100 KiB of JSON
Each request is logged to DIR/requests.log as "<path>\\n".
"""
import http.server
import os
import ssl
import sys
import time

root, cert, key, port_file = sys.argv[1:5]


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def send_body(self, body, ctype, extra=()):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?")[0]
        with open(os.path.join(root, "requests.log"), "a") as log:
            log.write(path + "\n")
        if path == "/redirect.json":
            self.send_response(302)
            self.send_header("Location", "/client.json")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if path == "/slow.json":
            time.sleep(8)
        if path == "/big.json":
            self.send_body(b'{"pad":"' + b"x" * (100 * 1024) + b'"}', "application/json")
            return
        name = os.path.basename(path)
        file = os.path.join(root, name)
        if not name or not os.path.isfile(file):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        with open(file, "rb") as f:
            body = f.read()
        extra = []
        if os.path.isfile(file + ".cc"):
            with open(file + ".cc") as f:
                extra.append(("Cache-Control", f.read().strip()))
        ctype = "application/json" if name.endswith(".json") else "text/plain"
        self.send_body(body, ctype, extra)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
