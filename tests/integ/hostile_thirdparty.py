"""A hostile third-party authorization server for the vault's connections
(tests/integ/t_connections_hostile.sh): its token endpoint answers as the mode says.

usage: $PYTHON3 hostile_thirdparty.py PORT [CLIENT_ID CLIENT_SECRET]
Listens on 127.0.0.1:PORT. The client authenticates with HTTP Basic (default
hostile-client / hostile-secret); anything else is answered 401 invalid_client.

  GET  /authorize   redirects back at once (no login) to redirect_uri with a code and the
                    state it received; the code remembers the PKCE challenge and redirect_uri
  POST /token       authorization_code and refresh_token grants, answered as the mode of
                    that grant says
  POST /revoke      RFC 7009: records (token_type_hint, token); answers 200 (revoking the
                    grant of a refresh token it knows), or 503 with revoke=503
  GET  /control?[mode=M][&code=M][&refresh=M][&revoke=ok|503]
                    sets the mode of both grants (mode), of code redemption (code) or of
                    refresh (refresh), and the revocation endpoint's; answers them
  GET  /count       {"token_requests", "redeems", "refreshes" (refresh requests, any mode),
                    "rotations" (good refreshes), "reuse" (a rotated refresh token used again:
                    its grant is revoked), "followed" (requests to /elsewhere), "bad_auth",
                    "pkce_failures", "by_mode": {"code:MODE" or "refresh:MODE": requests}}
  GET  /grant       the newest grant: {"id", "access", "refresh", "revoked", "generation"}
  GET  /revoked     [[hint, token], ...] in the order asked
  *    /elsewhere   where the redirect modes point: counts, answers a token (never to be used)

Token endpoint modes (each token starts TPAT- or TPRT-, for the tests to look for them):
  good             access_token, refresh_token, expires_in 3600, scope; refresh tokens
                   ROTATE, and one used again after rotation revokes the whole grant
                   (invalid_grant from then on)
  norotate         as good, but a refresh gives no new refresh token (the old one stays)
  short            as good, with expires_in 5 (under the 30 s refresh margin)
  html500          500 with an HTML page
  invalid_grant    400 {"error": "invalid_grant"}
  invalid_grant_401  401 {"error": "invalid_grant"}
  invalid_grant_500  500 {"error": "invalid_grant"} (a broken server, not a dead grant)
  invalid_client   400 {"error": "invalid_client"}
  unauthorized     401 {"error": "invalid_client"} with WWW-Authenticate
  echo             400 whose error repeats the code or refresh token it was sent
  empty            200 with an empty body
  not_json         200 text/plain
  array            200 with a JSON array holding a good answer
  no_access_token  empty_access_token  number_access_token  control_access_token
  huge_access_token (9000 characters)  expires_negative  expires_string ("soon")
  duplicate        access_token twice
  slow             a good-looking answer after 15 s (without rotating anything)
  oversized        200 with a 70 KiB body (Content-Length)
  oversized_stream 200 with a 200 KiB body, no Content-Length (read until close)
  redirect302 redirect307   to /elsewhere
"""
import base64
import hashlib
import http.server
import json
import secrets
import socketserver
import sys
import threading
import time
import urllib.parse

LOCK = threading.Lock()
STATE = {
    "code": "good",      # the mode of authorization_code requests
    "refresh": "good",   # the mode of refresh_token requests
    "revoke": "ok",
    "codes": {},        # code -> {"challenge", "redirect_uri"}
    "grants": [],       # {"id", "access", "refresh", "old": set, "revoked", "generation"}
    "revoked": [],
    "count": {k: 0 for k in ("token_requests", "redeems", "refreshes", "rotations", "reuse",
                             "followed", "bad_auth", "pkce_failures")},
    "by_mode": {},
}
SLOW_SECONDS = 15


def token(prefix):
    return "%s-%s" % (prefix, secrets.token_urlsafe(24))


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body, ctype="application/json", headers=(), length=True):
        if isinstance(body, bytes):
            data = body
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            if length:
                self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (the slow mode)
        if not length:
            self.close_connection = True

    def path_query(self):
        u = urllib.parse.urlsplit(self.path)
        return u.path, {k: v[0] for k, v in urllib.parse.parse_qs(u.query).items()}

    def form(self):
        n = int(self.headers.get("Content-Length", "0") or 0)
        raw = self.rfile.read(n).decode("utf-8", "replace") if n else ""
        return {k: v[0] for k, v in urllib.parse.parse_qs(raw, keep_blank_values=True).items()}

    def authenticated(self):
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Basic "):
            return False
        try:
            who, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        except ValueError:
            return False
        return (urllib.parse.unquote_plus(who) == self.server.client_id and
                urllib.parse.unquote_plus(secret) == self.server.client_secret)

    # ---- GET ----

    def do_GET(self):
        path, q = self.path_query()
        if path == "/authorize":
            code = secrets.token_urlsafe(16)
            with LOCK:
                STATE["codes"][code] = {"challenge": q.get("code_challenge", ""),
                                        "redirect_uri": q.get("redirect_uri", "")}
            back = q.get("redirect_uri", "http://127.0.0.1:1/")
            answer = urllib.parse.urlencode({"code": code, "state": q.get("state", "")})
            self.send_response(302)
            self.send_header("Location", back + ("&" if "?" in back else "?") + answer)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/control":
            with LOCK:
                for k in ("code", "refresh"):
                    if k in q or "mode" in q:
                        STATE[k] = q.get(k, q.get("mode"))
                if "revoke" in q:
                    STATE["revoke"] = q["revoke"]
                self.reply(200, {k: STATE[k] for k in ("code", "refresh", "revoke")})
        elif path == "/count":
            with LOCK:
                self.reply(200, dict(STATE["count"], by_mode=dict(STATE["by_mode"])))
        elif path == "/grant":
            with LOCK:
                g = STATE["grants"][-1] if STATE["grants"] else None
                self.reply(200, None if g is None else
                           {k: g[k] for k in ("id", "access", "refresh", "revoked",
                                              "generation")})
        elif path == "/revoked":
            with LOCK:
                self.reply(200, list(STATE["revoked"]))
        elif path == "/elsewhere":
            self.elsewhere()
        else:
            self.reply(404, {"error": "not_found"})

    def elsewhere(self):
        with LOCK:
            STATE["count"]["followed"] += 1
        self.reply(200, {"access_token": token("TPAT-followed"), "token_type": "Bearer",
                         "expires_in": 3600, "refresh_token": token("TPRT-followed")})

    # ---- POST ----

    def do_POST(self):
        path, _ = self.path_query()
        form = self.form()
        if path == "/elsewhere":
            self.elsewhere()
        elif path == "/token":
            self.token_endpoint(form)
        elif path == "/revoke":
            self.revoke_endpoint(form)
        else:
            self.reply(404, {"error": "not_found"})

    def good_answer(self, access, refresh, expires_in=3600):
        body = {"access_token": access, "token_type": "Bearer", "expires_in": expires_in,
                "scope": "repo"}
        if refresh is not None:
            body["refresh_token"] = refresh
        self.reply(200, body)

    def token_endpoint(self, form):
        grant_type = form.get("grant_type", "")
        with LOCK:
            mode = STATE["refresh"] if grant_type == "refresh_token" else STATE["code"]
            STATE["count"]["token_requests"] += 1
            if grant_type == "refresh_token":
                STATE["count"]["refreshes"] += 1
            elif grant_type == "authorization_code":
                STATE["count"]["redeems"] += 1
            key = "%s:%s" % ("refresh" if grant_type == "refresh_token" else "code", mode)
            STATE["by_mode"][key] = STATE["by_mode"].get(key, 0) + 1
        if not self.authenticated():
            with LOCK:
                STATE["count"]["bad_auth"] += 1
            self.reply(401, {"error": "invalid_client"},
                       headers=(("WWW-Authenticate", 'Basic realm="hostile"'),))
            return
        if mode in ("good", "norotate", "short"):
            self.good_token(form, grant_type, mode)
            return
        self.bad_token(form, mode)

    def good_token(self, form, grant_type, mode):
        expires_in = 5 if mode == "short" else 3600
        with LOCK:
            if grant_type == "authorization_code":
                c = STATE["codes"].pop(form.get("code", ""), None)
                verifier = form.get("code_verifier", "")
                if c is None or c["redirect_uri"] != form.get("redirect_uri"):
                    answer = (400, {"error": "invalid_grant"})
                elif b64url(hashlib.sha256(verifier.encode()).digest()) != c["challenge"]:
                    STATE["count"]["pkce_failures"] += 1
                    answer = (400, {"error": "invalid_grant",
                                    "error_description": "PKCE verification failed"})
                else:
                    g = {"id": len(STATE["grants"]) + 1, "access": token("TPAT"),
                         "refresh": token("TPRT"), "old": set(), "revoked": False,
                         "generation": 1}
                    STATE["grants"].append(g)
                    answer = (200, g["access"], g["refresh"])
            elif grant_type == "refresh_token":
                rt = form.get("refresh_token", "")
                live = [g for g in STATE["grants"] if g["refresh"] == rt and not g["revoked"]]
                reused = [g for g in STATE["grants"] if rt in g["old"]]
                if live:
                    g = live[0]
                    g["generation"] += 1
                    g["access"] = token("TPAT")
                    if mode != "norotate":
                        g["old"].add(g["refresh"])
                        g["refresh"] = token("TPRT")
                    STATE["count"]["rotations"] += 1
                    answer = (200, g["access"], g["refresh"] if mode != "norotate" else None)
                elif reused:
                    # RFC 6819 §5.2.2.3 / OAuth 2.1: reuse of a rotated refresh token
                    # revokes the whole grant.
                    STATE["count"]["reuse"] += 1
                    for g in reused:
                        g["revoked"] = True
                    answer = (400, {"error": "invalid_grant",
                                    "error_description": "refresh token reused"})
                else:
                    answer = (400, {"error": "invalid_grant"})
            else:
                answer = (400, {"error": "unsupported_grant_type"})
        if answer[0] == 200:
            self.good_answer(answer[1], answer[2], expires_in)
        else:
            self.reply(answer[0], answer[1])

    def bad_token(self, form, mode):
        good = {"access_token": token("TPAT-bad"), "token_type": "Bearer", "expires_in": 3600,
                "refresh_token": token("TPRT-bad"), "scope": "repo"}
        if mode == "html500":
            self.reply(500, "<html><body><h1>Internal Server Error</h1></body></html>",
                       "text/html")
        elif mode == "invalid_grant":
            self.reply(400, {"error": "invalid_grant"})
        elif mode == "invalid_grant_401":
            self.reply(401, {"error": "invalid_grant"})
        elif mode == "invalid_grant_500":
            self.reply(500, {"error": "invalid_grant"})
        elif mode == "invalid_client":
            self.reply(400, {"error": "invalid_client"})
        elif mode == "unauthorized":
            self.reply(401, {"error": "invalid_client"},
                       headers=(("WWW-Authenticate", 'Basic realm="hostile"'),))
        elif mode == "echo":
            said = form.get("refresh_token") or form.get("code") or ""
            self.reply(400, {"error": "unknown grant " + said,
                             "error_description": "we do not know " + said})
        elif mode == "empty":
            self.reply(200, b"")
        elif mode == "not_json":
            self.reply(200, "access_token=%s&token_type=bearer" % good["access_token"],
                       "text/plain")
        elif mode == "array":
            self.reply(200, [good])
        elif mode == "no_access_token":
            del good["access_token"]
            self.reply(200, good)
        elif mode == "empty_access_token":
            good["access_token"] = ""
            self.reply(200, good)
        elif mode == "number_access_token":
            good["access_token"] = 123456789
            self.reply(200, good)
        elif mode == "control_access_token":
            good["access_token"] = "TPAT-ctl\r\nX-Injected: 1\u0001"
            self.reply(200, good)
        elif mode == "huge_access_token":
            good["access_token"] = "TPAT-" + "a" * 9000
            self.reply(200, good)
        elif mode == "expires_negative":
            good["expires_in"] = -3600
            self.reply(200, good)
        elif mode == "expires_string":
            good["expires_in"] = "soon"
            self.reply(200, good)
        elif mode == "duplicate":
            text = json.dumps(good)
            self.reply(200, text[:-1] + ', "access_token": "%s"}' % token("TPAT-dup"))
        elif mode == "slow":
            time.sleep(SLOW_SECONDS)
            self.reply(200, good)
        elif mode == "oversized":
            good["padding"] = "x" * (70 * 1024)
            self.reply(200, good)
        elif mode == "oversized_stream":
            good["padding"] = "x" * (200 * 1024)
            self.reply(200, good, length=False)
        elif mode in ("redirect302", "redirect307"):
            port = self.server.server_address[1]
            try:
                self.send_response(302 if mode == "redirect302" else 307)
                self.send_header("Location", "http://127.0.0.1:%d/elsewhere" % port)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except (BrokenPipeError, ConnectionResetError):
                pass
        else:
            self.reply(500, {"error": "server_error", "error_description": "unknown mode"})

    def revoke_endpoint(self, form):
        if not self.authenticated():
            self.reply(401, {"error": "invalid_client"})
            return
        tok = form.get("token", "")
        with LOCK:
            STATE["revoked"].append([form.get("token_type_hint", ""), tok])
            if STATE["revoke"] != "ok":
                answer = 503
            else:
                answer = 200
                for g in STATE["grants"]:
                    if tok == g["refresh"] or tok in g["old"]:
                        g["revoked"] = True
        if answer == 200:
            self.reply(200, b"", "text/plain")
        else:
            self.reply(503, "<html>Service Unavailable</html>", "text/html")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    srv = Server(("127.0.0.1", int(sys.argv[1])), Handler)
    srv.client_id = sys.argv[2] if len(sys.argv) > 2 else "hostile-client"
    srv.client_secret = sys.argv[3] if len(sys.argv) > 3 else "hostile-secret"
    srv.serve_forever()


if __name__ == "__main__":
    main()
