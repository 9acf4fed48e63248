"""A hostile upstream OpenID Connect provider for the federation tests: every way an
ID token or the protocol around it can be wrong, one per issuer path.

usage: /usr/bin/python3 hostile_idp.py PORT_FILE
The issuer http://127.0.0.1:PORT/MODE misbehaves as MODE says:
  good            a correct answer (groups ["eng"], email verified)
  nonce iss aud   the ID token's nonce, iss or aud is not the expected one
  expired         exp an hour ago
  alg-none        an unsigned token (alg "none")
  hs256           HS256, keyed with the provider's public JWK (key confusion)
  unknown-kid     signed by a key the JWKS never publishes
  no-sub          no sub claim
  unverified      email_verified false (for --link-verified-email)
  slow            the token endpoint answers after 12 s
  big             a 300 KiB token response
  issuer-mismatch the discovery document names another issuer
  error           the authorization endpoint answers error=server_error
  post            a correct provider that lists only client_secret_post and refuses
                  HTTP Basic credentials at its token endpoint
The authorization endpoint redirects back at once (no pages); the code carries the
nonce, so the server keeps no state. Writes its port to PORT_FILE once it listens, and
each GET ("GET /MODE/PATH") to PORT_FILE.log.
"""
import base64
import http.server
import json
import socketserver
import sys
import time
import urllib.parse

from jwcrypto import jwk, jws

KEY = jwk.JWK.generate(kty="RSA", size=2048, kid="k1", use="sig", alg="RS256")
ROGUE = jwk.JWK.generate(kty="RSA", size=2048, kid="rogue", use="sig", alg="RS256")


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(claims, mode):
    payload = json.dumps(claims).encode()
    if mode == "alg-none":
        return b64(b'{"alg":"none","kid":"k1"}') + "." + b64(payload) + "."
    if mode == "hs256":
        secret = jwk.JWK(kty="oct", k=b64(KEY.export_public().encode()))
        t = jws.JWS(payload)
        t.add_signature(secret, alg="HS256", protected={"alg": "HS256", "kid": "k1"})
        return t.serialize(compact=True)
    key = ROGUE if mode == "unknown-kid" else KEY
    t = jws.JWS(payload)
    t.add_signature(key, alg="RS256", protected={"alg": "RS256", "kid": key.key_id,
                                                 "typ": "JWT"})
    return t.serialize(compact=True)


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body, ctype="application/json", headers=()):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def split(self):
        u = urllib.parse.urlsplit(self.path)
        parts = u.path.split("/", 2)
        mode = parts[1] if len(parts) > 1 else ""
        rest = "/" + parts[2] if len(parts) > 2 else "/"
        base = "http://127.0.0.1:%d/%s" % (self.server.server_address[1], mode)
        return mode, rest, base, urllib.parse.parse_qs(u.query)

    def do_GET(self):
        mode, rest, base, q = self.split()
        with open(self.server.log_path, "a") as log:
            log.write("GET /%s%s\n" % (mode, rest))
        if rest == "/.well-known/openid-configuration":
            self.reply(200, {
                "issuer": "http://127.0.0.1:1/elsewhere" if mode == "issuer-mismatch" else base,
                "authorization_endpoint": base + "/authorize",
                "token_endpoint": base + "/token",
                "jwks_uri": base + "/jwks",
                "userinfo_endpoint": base + "/userinfo",
                "response_types_supported": ["code"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported":
                    ["client_secret_post"] if mode == "post" else ["client_secret_basic"],
            })
        elif rest == "/jwks":
            self.reply(200, {"keys": [json.loads(KEY.export_public())]})
        elif rest == "/authorize":
            back = q["redirect_uri"][0]
            state = q["state"][0]
            if mode == "error":
                answer = {"error": "server_error", "state": state}
            else:
                answer = {"code": b64(q["nonce"][0].encode()), "state": state}
            self.send_response(302)
            self.send_header("Location", back + "?" + urllib.parse.urlencode(answer))
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self.reply(404, {"error": "not_found"})

    def do_POST(self):
        mode, rest, base, _ = self.split()
        length = int(self.headers.get("Content-Length", "0"))
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        if rest != "/token":
            self.reply(404, {"error": "not_found"})
            return
        auth = self.headers.get("Authorization", "")
        client_id = "?"
        if auth.startswith("Basic "):
            client_id = urllib.parse.unquote(
                base64.b64decode(auth[6:]).decode().split(":", 1)[0])
        if mode == "post":
            if auth or form.get("client_secret", [""])[0] != "hostile-secret":
                self.reply(401, {"error": "invalid_client"})
                return
            client_id = form.get("client_id", ["?"])[0]
        code = form.get("code", [""])[0]
        nonce = base64.urlsafe_b64decode(code + "=" * (-len(code) % 4)).decode()
        now = int(time.time())
        claims = {"iss": base, "aud": client_id, "sub": "hostile-user", "iat": now,
                  "exp": now + 300, "nonce": nonce, "email": "dave@corp.example",
                  "email_verified": True, "groups": ["eng"]}
        if mode == "nonce":
            claims["nonce"] = "not-the-one-sent"
        elif mode == "iss":
            claims["iss"] = "https://evil.example"
        elif mode == "aud":
            claims["aud"] = "someone-else"
        elif mode == "expired":
            claims["exp"] = now - 3600
            claims["iat"] = now - 4000
        elif mode == "no-sub":
            del claims["sub"]
        elif mode == "unverified":
            claims["email_verified"] = False
        if mode == "slow":
            time.sleep(12)
        body = {"access_token": "upstream-at", "token_type": "Bearer", "expires_in": 300,
                "id_token": sign(claims, mode)}
        if mode == "big":
            body["padding"] = "x" * (300 * 1024)
        self.reply(200, body, headers=(("Cache-Control", "no-store"),))


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def main():
    srv = Server(("127.0.0.1", 0), Handler)
    srv.log_path = sys.argv[1] + ".log"
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
