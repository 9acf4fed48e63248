"""Send the hostile-input catalogue to a running mcp-authd and judge every answer.

usage: python3 hostile.py CATALOGUE.json HOST PORT

Every case goes over its own TCP connection as raw bytes, so that malformed HTTP
(NUL bytes, broken chunking, lying lengths) reaches the server exactly as written.
Strings in the catalogue are byte strings: each character U+0000..U+00FF is one
byte (JSON "\\u0000" is a NUL byte, "\\u00c0\\u00af" an overlong '/').

Substitutions inside any string of a case:
  ${NAME}          the environment variable NAME (set by t_hostile.sh)
  ${tok:NAME}      a crafted JWT (see craft_tokens)
  ${fill:N:TEXT}   TEXT repeated N times

Every case, whatever it expects, must also: be answered within TIME_BOUND seconds,
never with a 5xx; a JSON body must parse; an HTML body must carry no raw <script
(the pages have none of their own); no response header may carry an injected
header or a CR/LF.

Output: one line per case, "ok - NAME" or "not ok - NAME", diagnostics as "# ...".
Exit status 0 when every case passed.
"""
import base64
import hashlib
import hmac
import html.parser
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse

TIME_BOUND = 5.0      # seconds for one answer: anything slower is a hang
SOCKET_TIMEOUT = 10.0


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_dec(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


# ---- crafted tokens ----

def der_to_raw(der, size=32):
    """An ECDSA DER signature (SEQUENCE of two INTEGERs) as the JWS R||S form."""
    def integer(b, i):
        assert b[i] == 0x02
        n = b[i + 1]
        v = b[i + 2:i + 2 + n]
        return v.lstrip(b"\x00").rjust(size, b"\x00"), i + 2 + n
    i = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7F)
    r, i = integer(der, i)
    s, _ = integer(der, i)
    return r + s


def spki_pem(jwk):
    """The PEM public key of an EC P-256 or Ed25519 JWK: what an attacker would use as
    an HMAC secret in an alg confusion attack."""
    if jwk.get("kty") == "EC":
        der = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200") + \
            b"\x04" + b64u_dec(jwk["x"]) + b64u_dec(jwk["y"])
    elif jwk.get("kty") == "OKP":
        der = bytes.fromhex("302a300506032b6570032100") + b64u_dec(jwk["x"])
    else:
        return None
    body = base64.encodebytes(der).decode().replace("\n", "")
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines) + "\n-----END PUBLIC KEY-----\n"


def jws(header, claims, sig=b""):
    h = header if isinstance(header, str) else json.dumps(header, separators=(",", ":"))
    c = claims if isinstance(claims, str) else json.dumps(claims, separators=(",", ":"))
    return b64u(h.encode()) + "." + b64u(c.encode()) + "." + b64u(sig)


def hs256(header, claims, key):
    h = b64u(json.dumps(header, separators=(",", ":")).encode())
    c = b64u(json.dumps(claims, separators=(",", ":")).encode())
    mac = hmac.new(key, (h + "." + c).encode(), hashlib.sha256).digest()
    return h + "." + c + "." + b64u(mac)


def es256_openssl(header, claims, pem_path):
    h = b64u(json.dumps(header, separators=(",", ":")).encode())
    c = b64u(json.dumps(claims, separators=(",", ":")).encode())
    der = subprocess.run(["openssl", "dgst", "-sha256", "-sign", pem_path],
                         input=(h + "." + c).encode(), capture_output=True, check=True).stdout
    return h + "." + c + "." + b64u(der_to_raw(der))


def craft_tokens(env):
    """Tokens for the token-bearing endpoints, all made from one real access token
    (HOSTILE_TOKEN, for resource A) and the server's published key."""
    real = env["HOSTILE_TOKEN"]
    h64, c64, s64 = real.split(".")
    header = json.loads(b64u_dec(h64))
    claims = json.loads(b64u_dec(c64))
    sig = b64u_dec(s64)
    kid = header["kid"]
    with open(env["HOSTILE_JWKS"]) as f:
        jwks = json.load(f)
    jwk = next(k for k in jwks["keys"] if k.get("kid") == kid)
    pem = spki_pem(jwk)
    t = {}
    t["alg_none"] = jws(dict(header, alg="none"), claims)
    t["alg_none_sig"] = jws(dict(header, alg="none"), claims, sig)
    t["alg_none_nokid"] = jws({"alg": "none", "typ": "at+jwt"}, claims)
    hs = dict(header, alg="HS256")
    t["hs256_pem"] = hs256(hs, claims, (pem or "").encode())
    t["hs256_pem_nonl"] = hs256(hs, claims, (pem or "").strip().encode())
    t["hs256_jwk"] = hs256(hs, claims, json.dumps(jwk, separators=(",", ":")).encode())
    t["hs256_jwks"] = hs256(hs, claims, json.dumps(jwks, separators=(",", ":")).encode())
    t["rs256_header"] = jws(dict(header, alg="RS256"), claims, sig)
    t["alg_lowercase"] = jws(dict(header, alg=header["alg"].lower()), claims, sig)
    t["kid_traversal"] = jws(dict(header, kid="../../../../../../etc/passwd"), claims, sig)
    t["kid_traversal_enc"] = jws(dict(header, kid="..%2f..%2f..%2fetc%2fpasswd"), claims, sig)
    t["kid_sql"] = jws(dict(header, kid="x' OR '1'='1' --"), claims, sig)
    t["kid_sql_drop"] = jws(dict(header, kid="'; DROP TABLE signing_keys; --"), claims, sig)
    t["kid_nul"] = jws(dict(header, kid=kid + "\u0000../../etc/passwd"), claims, sig)
    t["kid_huge"] = jws(dict(header, kid="k" * 5000), claims, sig)
    t["kid_number"] = jws(dict(header, kid=12345), claims, sig)
    t["jku_x5u"] = jws(dict(header, jku="https://attacker.example/jwks.json",
                            x5u="https://attacker.example/cert.pem", kid="attacker"), claims, sig)
    t["embedded_jwk"] = jws(dict(header, jwk={"kty": "oct", "k": b64u(b"secret")}, alg="HS256"),
                            claims, hmac.new(b"secret", b"", hashlib.sha256).digest())
    t["crit"] = jws(dict(header, crit=["exp"]), claims, sig)
    t["dup_alg"] = jws('{"alg":"%s","alg":"none","kid":"%s","typ":"at+jwt"}' % (header["alg"], kid),
                       claims, sig)
    t["deep_header"] = b64u(("[" * 3000 + "]" * 3000).encode()) + "." + c64 + "." + s64
    t["header_not_json"] = b64u(b"\xc0\xaf\x00{") + "." + c64 + "." + s64
    t["five_parts"] = real + ".AAAA.BBBB"
    t["bad_b64"] = h64 + ".!!!!." + s64
    t["tampered_sub"] = h64 + "." + b64u(json.dumps(dict(claims, sub="admin")).encode()) + "." + s64
    t["claims_huge_6k"] = jws(header, dict(claims, x="A" * 4500), sig)
    t["claims_huge_40k"] = jws(header, dict(claims, x="A" * 30000), sig)
    t["claims_huge_1m"] = jws(header, dict(claims, x="A" * (1024 * 1024)), sig)
    t["claims_deep"] = jws(header, "[" * 3000 + "]" * 3000, sig)
    foreign = env.get("HOSTILE_FOREIGN_KEY")
    if foreign and header["alg"] == "ES256":
        t["foreign_server_kid"] = es256_openssl(header, claims, foreign)
        t["foreign_own_kid"] = es256_openssl(dict(header, kid="foreign-key-1"), claims, foreign)
    else:
        t["foreign_server_kid"] = t["foreign_own_kid"] = t["rs256_header"]
    return t


# ---- substitution ----

SUBST = re.compile(r"\$\{([^}]*)\}")


def expand(s, env, tokens):
    def one(m):
        ref = m.group(1)
        if ref.startswith("tok:"):
            return tokens[ref[4:]]
        if ref.startswith("fill:"):
            _, n, text = ref.split(":", 2)
            return text * int(n)
        return env[ref]
    return SUBST.sub(one, s)


def expand_all(obj, env, tokens):
    if isinstance(obj, str):
        return expand(obj, env, tokens)
    if isinstance(obj, list):
        return [expand_all(x, env, tokens) for x in obj]
    if isinstance(obj, dict):
        return {k: expand_all(v, env, tokens) for k, v in obj.items()}
    return obj


def raw(s):
    """A catalogue string as the bytes it stands for."""
    return s.encode("latin-1")


# ---- HTTP over a raw socket ----

class Response:
    def __init__(self):
        self.status = None
        self.headers = []        # (name, value) in order, as bytes decoded latin-1
        self.body = b""
        self.elapsed = 0.0
        self.note = ""

    def header(self, name):
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v
        return None


def parse_response(data, r):
    head, sep, rest = data.partition(b"\r\n\r\n")
    if not sep:
        r.note = "incomplete response (%d bytes)" % len(data)
        return
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
    if not m:
        r.note = "bad status line %r" % lines[0][:80]
        return
    r.status = int(m.group(1))
    for line in lines[1:]:
        n, _, v = line.partition(":")
        r.headers.append((n.strip(), v.strip()))
    if (r.header("Transfer-Encoding") or "").lower() == "chunked":
        body = b""
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0] or b"0", 16)
            if size == 0:
                break
            body += rest[:size]
            rest = rest[size + 2:]
        r.body = body
    else:
        n = r.header("Content-Length")
        r.body = rest[:int(n)] if n is not None and n.isdigit() else rest


def send_request(host, port, request, body_chunks):
    """Send the head and body; read the answer until the server closes or one
    complete response has arrived."""
    r = Response()
    start = time.monotonic()
    s = socket.create_connection((host, port), timeout=SOCKET_TIMEOUT)
    data = b""
    try:
        try:
            s.sendall(request)
            for chunk in body_chunks:
                s.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered early and stopped reading: read its answer
        while True:
            try:
                got = s.recv(65536)
            except ConnectionResetError:
                break
            if not got:
                break
            data += got
            if complete(data):
                break
    except socket.timeout:
        r.note = "timed out after %.1fs" % (time.monotonic() - start)
    finally:
        s.close()
    r.elapsed = time.monotonic() - start
    parse_response(data, r)
    return r


def complete(data):
    head, sep, rest = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    m = re.search(rb"\r\ncontent-length:\s*(\d+)", head, re.I)
    if m:
        return len(rest) >= int(m.group(1))
    if re.search(rb"\r\ntransfer-encoding:\s*chunked", head, re.I):
        return rest.endswith(b"0\r\n\r\n")
    return False


def build(case, host, port, extra_headers=None, body_override=None):
    """The request bytes and the body's chunks for a case."""
    if "raw" in case:
        return raw(case["raw"]), []
    method = case.get("method", "GET")
    target = case["endpoint"]
    if case.get("query") is not None:
        target += "?" + case["query"]
    headers = [("Host", "%s:%d" % (host, port))]
    for k, v in (case.get("headers") or {}).items():
        headers.append((k, v))
    for k, v in (extra_headers or []):
        headers.append((k, v))
    body = body_override if body_override is not None else case.get("body")
    chunks = []
    if body is not None:
        b = body if isinstance(body, bytes) else raw(body)
        if case.get("chunked"):
            headers.append(("Transfer-Encoding", "chunked"))
            for i in range(0, len(b), 16384):
                piece = b[i:i + 16384]
                chunks.append(b"%x\r\n" % len(piece) + piece + b"\r\n")
            chunks.append(b"0\r\n\r\n")
        else:
            headers.append(("Content-Length", str(len(b))))
            chunks = [b[i:i + 65536] for i in range(0, len(b), 65536)]
    headers.append(("Connection", "close"))
    head = "%s %s HTTP/1.1\r\n" % (method, target)
    head += "".join("%s: %s\r\n" % (k, v) for k, v in headers) + "\r\n"
    return raw(head), chunks


# ---- the login and consent forms ----

class FormParser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.fields = []
        self.in_form = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.in_form = True
        elif tag == "input" and self.in_form and "name" in a and a.get("type") == "hidden":
            self.fields.append((a["name"], a.get("value") or ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_form = False


def cookies_of(resp, jar):
    for n, v in resp.headers:
        if n.lower() == "set-cookie":
            pair = v.split(";", 1)[0]
            k, _, val = pair.partition("=")
            jar[k] = val


def page_form(host, port, path_query, jar):
    req = raw("GET %s HTTP/1.1\r\nHost: %s:%d\r\n%sConnection: close\r\n\r\n" % (
        path_query, host, port,
        ("Cookie: %s\r\n" % "; ".join("%s=%s" % kv for kv in jar.items())) if jar else ""))
    resp = send_request(host, port, req, [])
    cookies_of(resp, jar)
    p = FormParser()
    p.feed(resp.body.decode("utf-8", "replace"))
    return resp, p.fields


def form_case(case, host, port):
    """A post of the login or consent form: fetch the page as a browser would (with
    its cookie and CSRF token), sign in first when asked, then post with the case's
    fields set (replacing the page's), added (beside the page's) or dropped."""
    spec = case["form"]
    jar = {}
    resp, fields = page_form(host, port, spec["page"], jar)
    if resp.status != 200 or not fields:
        return None, "the form page did not load (status %s)" % resp.status
    if spec.get("login"):
        user, password = spec["login"]
        body = urllib.parse.urlencode(fields + [("username", user), ("password", password)])
        r = send_request(host, port, *build(
            {"method": "POST", "endpoint": "/authorize",
             "headers": {"Content-Type": "application/x-www-form-urlencoded",
                         "Cookie": "; ".join("%s=%s" % kv for kv in jar.items())},
             "body": body}, host, port))
        cookies_of(r, jar)
        p = FormParser()
        p.feed(r.body.decode("utf-8", "replace"))
        fields = p.fields
        if r.status != 200 or not fields:
            return None, "sign-in for the consent form failed (status %s)" % r.status
    drop = set(spec.get("drop", []))
    sets = spec.get("set", {})
    out = [(n, v) for n, v in fields if n not in drop and n not in sets]
    enc = [urllib.parse.quote(n, safe="") + "=" + urllib.parse.quote(v, safe="") for n, v in out]
    # Values set or added by the case are sent as written (already urlencoded, raw bytes
    # allowed); "add" keeps the page's own field of that name too.
    enc += ["%s=%s" % (n, v) for n, v in sets.items()]
    enc += ["%s=%s" % (n, v) for n, v in spec.get("add", {}).items()]
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if jar and not spec.get("no_cookie"):
        headers["Cookie"] = "; ".join("%s=%s" % kv for kv in jar.items())
    c = {"method": "POST", "endpoint": "/authorize", "headers": headers, "body": "&".join(enc)}
    return send_request(host, port, *build(c, host, port)), None


# ---- judging ----

def judge(case, r):
    """A list of failures, empty when the answer is right."""
    exp = case["expect"]
    bad = []
    if exp.get("closed"):
        # Refused below HTTP: the connection must be closed at once, or answered 4xx.
        if r.elapsed > TIME_BOUND or r.note.startswith("timed out"):
            return ["not closed within %.0fs" % TIME_BOUND]
        if r.status is not None and not 400 <= r.status < 500:
            return ["answered %d, want a 4xx or a closed connection" % r.status]
        return []
    if r.status is None:
        return ["no HTTP answer: " + (r.note or "connection closed")]
    if r.elapsed > TIME_BOUND:
        bad.append("answered after %.1fs (bound %.0fs)" % (r.elapsed, TIME_BOUND))
    if r.status >= 500 and not exp.get("allow_5xx"):
        bad.append("a %d answer" % r.status)
    if r.status != exp["status"]:
        bad.append("status %d, want %d" % (r.status, exp["status"]))
    ctype = (r.header("Content-Type") or "").lower()
    text = r.body.decode("utf-8", "replace")
    doc = None
    if ctype.startswith("application/json"):
        try:
            doc = json.loads(r.body)
        except ValueError:
            bad.append("a JSON body that does not parse: %r" % text[:120])
    if "error" in exp:
        got = doc.get("error") if isinstance(doc, dict) else None
        if exp["error"] is not None and got != exp["error"]:
            bad.append("error %r, want %r" % (got, exp["error"]))
        if exp["error"] is not None and not isinstance((doc or {}).get("error_description", ""), str):
            bad.append("error_description is not a string")
    for k, v in (exp.get("json") or {}).items():
        if not isinstance(doc, dict) or doc.get(k) != v:
            bad.append("JSON %s = %r, want %r" % (k, (doc or {}).get(k) if isinstance(doc, dict) else None, v))
    if "json_exact" in exp and doc != exp["json_exact"]:
        bad.append("JSON body %r, want %r" % (doc, exp["json_exact"]))
    if exp.get("html") and not ctype.startswith("text/html"):
        bad.append("content type %r, want an HTML page" % ctype)
    if ctype.startswith("text/html") and "<script" in text.lower():
        bad.append("a raw <script in the page")
    for s in exp.get("not_in_body", []):
        if s.lower() in text.lower():
            bad.append("the body holds %r unescaped" % s)
    if "page_error" in exp and "Error: <code>%s</code>" % exp["page_error"] not in text:
        bad.append("the page does not name the error %r" % exp["page_error"])
    for s in exp.get("in_body", []):
        if s not in text:
            bad.append("the body lacks %r" % s)
    loc = r.header("Location")
    if "location" in exp:
        want = exp["location"]
        if want is None and loc is not None:
            bad.append("redirected to %r, want no redirect" % loc[:200])
        elif want is not None and (loc is None or not loc.startswith(want)):
            bad.append("Location %r, want a prefix %r" % ((loc or "")[:200], want))
    if loc is not None:
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query)
        for k, v in (exp.get("location_params") or {}).items():
            got = q.get(k, [None])[0]
            if got != v:
                bad.append("Location %s=%r, want %r" % (k, (got or "")[:80], (v or "")[:80]))
    for n, v in r.headers:
        if n.lower().startswith("x-injected") or "\r" in v or "\n" in v:
            bad.append("an injected response header %r" % n)
        if n.lower() == "set-cookie" and "injected" in v.lower():
            bad.append("an injected cookie %r" % v[:80])
    return bad


def main():
    cat_path, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(cat_path) as f:
        catalogue = json.load(f)
    env = dict(os.environ)
    env["HOSTPORT"] = "%s:%d" % (host, port)
    tokens = craft_tokens(env)
    failed = 0
    names = set()
    for case in catalogue["cases"]:
        name = case["name"]
        if name in names:
            print("not ok - duplicate case name %s" % name)
            failed += 1
            continue
        names.add(name)
        c = expand_all(case, env, tokens)
        err = None
        try:
            if "form" in c:
                r, err = form_case(c, host, port)
            else:
                r = send_request(host, port, *build(c, host, port))
        except OSError as e:
            r, err = None, "connection failed: %s" % e
        bad = [err] if err else judge(c, r)
        tag = "[%s] %s %s" % (case.get("category", "?"), case.get("method", "RAW"), case["endpoint"])
        if bad:
            failed += 1
            print("not ok - %s: %s" % (tag, name))
            for b in bad:
                print("#   " + b)
            if r is not None and r.status is not None:
                print("#   body: %r" % r.body[:300])
        else:
            print("ok - %s: %s" % (tag, name))
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
