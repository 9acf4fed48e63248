#!/usr/bin/python3
"""The hostile catalogue of client assertions (RFC 7523 private_key_jwt) and ID-JAGs
(the jwt-bearer grant) for tests/integ/t_assertions.sh, signed with python3-jwcrypto.

  assertions.py keys DIR   every key the catalogue signs with (DIR/NAME.jwk, DIR/NAME.jwks,
                           see jwtforge.py) and the JWKS files the shell registers
  assertions.py run        the catalogue against the running servers; prints "PASS desc",
                           "FAIL desc" and "# diagnostic" lines that the shell turns into TAP

`run` takes its fixtures from the environment (set by t_assertions.sh): ISSUER, BASE2 (a
second node on the same database), KEYS, RES1, RES2, AGENT/AGENT_SECRET,
AGENT2/AGENT2_SECRET, NOGRANT/NOGRANT_SECRET, PUBLIC_CLIENT, KC_ES, KC_ED, KC_RSA, KC_TWO,
MCP_AUTHD.

Every request leaves from its own loopback address (127.0.x.y), so that the audit
records it caused (remote_addr) can be told apart afterwards: each refusal must have its
record with the right event, outcome and reason (and, where said, client_id and
endpoint), no request that was refused may have a token.issued record, and no record may
hold a secret, an assertion or the client_id a caller named for no client.
"""
import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jwtforge  # noqa: E402
from jwcrypto import jwe, jwk, jws  # noqa: E402
from jwcrypto.common import json_encode  # noqa: E402

CLIENT_ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
IDJAG_TYP = "oauth-id-jag+jwt"
ACME = "https://acme.example.com"
OTHER = "https://other.example.com"
NOJIT = "https://nojit.example.com"
EVIL = "https://evil.example.com"
SIGNIN = "https://signin.example.com"

KEYS = [("EC", "acme-es1"), ("EC", "acme-es2"), ("OKP", "acme-ed"), ("RSA", "acme-rsa"),
        ("EC", "other-es"), ("EC", "nojit-es"), ("EC", "evil-es"), ("EC", "signin-es"),
        ("EC", "kc-es"), ("OKP", "kc-ed"), ("RSA", "kc-rsa"), ("EC", "kc-two-a"),
        ("EC", "kc-two-b")]
JWKS_SETS = {"acme": ["acme-es1", "acme-es2", "acme-ed", "acme-rsa"],
             "kc-two": ["kc-two-a", "kc-two-b"]}


def make_keys(folder):
    for kty, name in KEYS:
        jwtforge.keygen(kty, folder, name)
    for out, names in JWKS_SETS.items():
        keys = []
        for n in names:
            with open(f"{folder}/{n}.jwks") as f:
                keys += json.load(f)["keys"]
        with open(f"{folder}/{out}.jwks", "w") as f:
            json.dump({"keys": keys}, f)


# ---- JWTs, well and badly made ----

def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Keys:
    def __init__(self, folder):
        self.folder = folder
        self.cache = {}

    def doc(self, name):
        with open(f"{self.folder}/{name}.jwk") as f:
            return json.load(f)

    def key(self, name):
        if name not in self.cache:
            self.cache[name] = jwk.JWK(**self.doc(name))
        return self.cache[name]

    def kid(self, name):
        return self.doc(name)["kid"]


def resolve_times(claims):
    """"+60" / "-30" are seconds from now (as in jwtforge.py)."""
    now = int(time.time())
    out = dict(claims)
    for k in ("exp", "iat", "nbf"):
        if isinstance(out.get(k), str) and out[k][:1] in "+-":
            out[k] = now + int(out[k])
    return out


def sign_raw(keys, keyname, alg, header, payload_text):
    """A compact JWS over exactly payload_text (which may be any JSON text, even one that
    jwcrypto would never write); header is a dict (alg and the key's kid added, None
    members dropped) or a raw JSON text signed as it is."""
    if isinstance(header, dict):
        h = {"alg": alg, "kid": keys.kid(keyname)}
        h.update(header)
        header = json_encode({k: v for k, v in h.items() if v is not None})
    s = jws.JWSCore(alg, keys.key(keyname), header, payload_text.encode()).sign()
    return s["protected"] + "." + s["payload"].decode() + "." + s["signature"]


def sign(keys, keyname, alg, header, claims):
    return sign_raw(keys, keyname, alg, header, json_encode(resolve_times(claims)))


def unsigned(header, claims):
    """alg none: a header, the claims, and an empty signature."""
    return b64(json_encode(header)) + "." + b64(json_encode(resolve_times(claims))) + "."


def hs256_with_public_key(keys, keyname, header, claims):
    """The classic confusion: HS256 keyed with the bytes of the verifier's public key."""
    pem = keys.key(keyname).export_to_pem(private_key=False, password=None)
    h = {"alg": "HS256", "kid": keys.kid(keyname)}
    h.update(header)
    signing_input = b64(json_encode(h)) + "." + b64(json_encode(resolve_times(claims)))
    mac = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64(mac)


def encrypted(keys, keyname, claims):
    """A JWE (five parts) of the claims, to the RSA key keyname."""
    pub = jwk.JWK(**json.loads(keys.key(keyname).export_public()))
    token = jwe.JWE(json_encode(resolve_times(claims)).encode(),
                    json_encode({"alg": "RSA-OAEP-256", "enc": "A256GCM", "typ": IDJAG_TYP}))
    token.add_recipient(pub)
    return token.serialize(compact=True)


def jwt_claims(token):
    try:
        seg = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4)))
    except Exception:  # noqa: BLE001 - a diagnostic only
        return {}


# ---- HTTP, one loopback address per request ----

class Response:
    def __init__(self, status, body, addr):
        self.status = status
        self.addr = addr
        self.text = body
        try:
            self.json = json.loads(body) if body else {}
        except ValueError:
            self.json = {}
        if not isinstance(self.json, dict):
            self.json = {}

    def short(self):
        return f"{self.status} {self.text[:300]}"


class Client:
    def __init__(self):
        self.n = 0

    def next_addr(self):
        self.n += 1
        return f"127.0.{10 + self.n // 250}.{1 + self.n % 250}"

    def post(self, base, path, form, basic=None, authorization=None):
        u = urllib.parse.urlsplit(base)
        addr = self.next_addr()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if basic is not None:
            raw = urllib.parse.quote(basic[0], safe="") + ":" + urllib.parse.quote(basic[1], safe="")
            headers["Authorization"] = "Basic " + base64.b64encode(raw.encode()).decode()
        if authorization is not None:
            headers["Authorization"] = authorization
        body = urllib.parse.urlencode(form)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=20,
                                          source_address=(addr, 0))
        try:
            conn.request("POST", path, body=body, headers=headers)
            r = conn.getresponse()
            return Response(r.status, r.read().decode("utf-8", "replace"), addr)
        finally:
            conn.close()


# ---- the catalogue ----

class Catalogue:
    def __init__(self):
        e = os.environ
        self.issuer = e["ISSUER"]
        self.base2 = e["BASE2"]
        self.token_endpoint = self.issuer + "/token"
        self.keys = Keys(e["KEYS"])
        self.res1, self.res2 = e["RES1"], e["RES2"]
        self.agent = (e["AGENT"], e["AGENT_SECRET"])
        self.agent2 = (e["AGENT2"], e["AGENT2_SECRET"])
        self.nogrant = (e["NOGRANT"], e["NOGRANT_SECRET"])
        self.public = e["PUBLIC_CLIENT"]
        self.kc = {"es": e["KC_ES"], "ed": e["KC_ED"], "rsa": e["KC_RSA"], "two": e["KC_TWO"]}
        self.http = Client()
        # remote_addr -> (description, audit expectation or None, may issue a token); an
        # audit expectation is (event, reason regex) or (event, reason regex, {"client_id":
        # id or None for none, "endpoint": path})
        self.expect = {}
        # What no audit record may contain: wrong secrets, the ids of no client.
        self.never_audited = []
        self.counts = {"idjag_refused": 0, "idjag_accepted": 0, "ca_refused": 0,
                       "ca_accepted": 0}

    # -- output --
    @staticmethod
    def result(passed, desc, diag=None):
        print(("PASS " if passed else "FAIL ") + desc.replace("\n", " "))
        if not passed and diag:
            for line in str(diag).splitlines():
                print("#   " + line)
        sys.stdout.flush()
        return passed

    # -- building blocks --
    def idjag_claims(self, **over):
        c = {"iss": ACME, "sub": "user-1", "aud": self.issuer, "client_id": self.agent[0],
             "jti": uuid.uuid4().hex, "iat": "-5", "exp": "+120", "resource": self.res1,
             "scope": "files:read"}
        c.update(over)
        return {k: v for k, v in c.items() if v is not DROP}

    def idjag(self, key="acme-es1", alg="ES256", header=None, **over):
        h = {"typ": IDJAG_TYP}
        h.update(header or {})
        return sign(self.keys, key, alg, h, self.idjag_claims(**over))

    def ca_claims(self, who="es", **over):
        cid = self.kc[who]
        c = {"iss": cid, "sub": cid, "aud": self.issuer, "jti": uuid.uuid4().hex,
             "iat": "-5", "exp": "+60"}
        c.update(over)
        return {k: v for k, v in c.items() if v is not DROP}

    def client_assertion(self, who="es", key=None, alg=None, header=None, **over):
        key = key or {"es": "kc-es", "ed": "kc-ed", "rsa": "kc-rsa", "two": "kc-two-a"}[who]
        alg = alg or {"es": "ES256", "ed": "EdDSA", "rsa": "RS256", "two": "ES256"}[who]
        return sign(self.keys, key, alg, header or {}, self.ca_claims(who, **over))

    def ca_form(self, assertion, client_id=None):
        f = [("client_assertion_type", CLIENT_ASSERTION), ("client_assertion", assertion)]
        if client_id is not None:
            f.append(("client_id", client_id))
        return f

    def present_idjag(self, assertion, client=None, resource=None, scope=None, base=None,
                      extra_form=None):
        """POST /token with the jwt-bearer grant; client: (id, secret) for Basic, or a
        client-assertion form (list; [] for no client authentication) for private_key_jwt,
        or ("public", id)."""
        client = self.agent if client is None else client
        form = [("grant_type", JWT_BEARER)]
        if assertion is not None:
            form.append(("assertion", assertion))
        if resource is not None:
            form.append(("resource", resource))
        if scope is not None:
            form.append(("scope", scope))
        basic = None
        if isinstance(client, list):
            form += client
        elif client[0] == "public":
            form.append(("client_id", client[1]))
        else:
            basic = client
        form += extra_form or []
        return self.http.post(base or self.issuer, "/token", form, basic)

    def present_ca(self, form, path="/token", base=None, extra=None, basic=None):
        if path == "/token":
            f = [("grant_type", "client_credentials"), ("resource", self.res1)] + form
        else:
            f = list(extra or []) + form
        return self.http.post(base or self.issuer, path, f, basic)

    # -- expectations --
    def refused(self, desc, r, status, error, audit=None, kind="idjag"):
        """A refusal: its status and error, no token in the answer; its audit record
        (event, reason regex) and no token.issued record are checked at the end."""
        self.expect[r.addr] = (desc, audit, False)
        self.counts[kind + "_refused"] += 1
        ok = (r.status == status and r.json.get("error") == error and
              "access_token" not in r.json and "refresh_token" not in r.json)
        self.result(ok, f"{desc}: {status} {error}, no token", f"got {r.short()}")
        return r

    def idjag_refused(self, desc, r, reason):
        return self.refused("ID-JAG " + desc, r, 400, "invalid_grant",
                            ("token.refused", reason), "idjag")

    def ca_refused(self, desc, r, reason, status=401, error="invalid_client", **want):
        audit = ("client.auth_refused", "^" + reason + "$", want) if reason else None
        return self.refused("client assertion " + desc, r, status, error, audit, "ca")

    def auth_refused(self, desc, r, reason, client_id, endpoint, status=401,
                     error="invalid_client"):
        """A refused client authentication (any method): client.auth_refused with reason,
        client_id (None: none recorded) and the endpoint."""
        return self.refused(desc, r, status, error,
                            ("client.auth_refused", "^" + reason + "$",
                             {"client_id": client_id, "endpoint": endpoint}), "ca")

    def accepted(self, desc, r, resource=None, sub=None, client_id=None, scope=None,
                 kind="idjag"):
        """A token: 200, an access token for that resource, user and client; no refresh
        token; scope as expected (None: not checked; "": none granted)."""
        self.expect[r.addr] = (desc, None, True)
        self.counts[kind + "_accepted"] += 1
        at = r.json.get("access_token")
        claims = jwt_claims(at) if at else {}
        problems = []
        if r.status != 200 or not at:
            problems.append("no token")
        if resource is not None and claims.get("aud") != resource:
            problems.append(f"aud {claims.get('aud')!r}")
        if sub is not None and claims.get("sub") != sub:
            problems.append(f"sub {claims.get('sub')!r}")
        if client_id is not None and claims.get("client_id") != client_id:
            problems.append(f"client_id {claims.get('client_id')!r}")
        if kind == "idjag" and "refresh_token" in r.json:
            problems.append("a refresh token")
        if scope is not None and r.json.get("scope", "") != scope:
            problems.append(f"scope {r.json.get('scope')!r}, want {scope!r}")
        self.result(not problems, desc + ": 200 with a token" +
                    (f" (scope \"{scope}\")" if scope else ""),
                    "; ".join(problems) + f"\ngot {r.short()}")
        return at

    def race(self, what, send, kind, n=10):
        """Send the same JWT n times at once, half to each node: exactly one token."""
        import threading
        results = [None] * n

        def one(i):
            results[i] = send(self.issuer if i % 2 == 0 else self.base2)
        threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        won = [r for r in results if r is not None and r.status == 200]
        lost = [r for r in results if r is not None and r.status != 200]
        for r in won:
            self.expect[r.addr] = (f"{what} race winner", None, True)
            self.counts[kind + "_accepted"] += 1
        for r in lost:
            event = "token.refused" if kind == "idjag" else "client.auth_refused"
            reason = "used before" if kind == "idjag" else "^replay$"
            self.expect[r.addr] = (f"{what} race losers", (event, reason), False)
            self.counts[kind + "_refused"] += 1
        self.result(len(won) == 1 and all(
            r.json.get("error") == ("invalid_grant" if kind == "idjag" else "invalid_client")
            for r in lost),
            f"{what} sent {n} times at once to two nodes: exactly one token",
            "\n".join(r.short() for r in results if r is not None))

    # -- the ID-JAG catalogue --
    def idjag_catalogue(self):
        k, res1 = self.keys, self.res1
        a, acme_user = self.agent[0], "acme:user-1"

        # Happy paths: each algorithm, the typ spellings, both aud forms.
        for key, alg in (("acme-es1", "ES256"), ("acme-ed", "EdDSA"), ("acme-rsa", "RS256"),
                         ("acme-rsa", "PS256")):
            self.accepted(f"ID-JAG {alg} (JIT user)", self.present_idjag(self.idjag(key, alg)),
                          res1, acme_user, a, "files:read")
        self.accepted("ID-JAG typ application/OAUTH-ID-JAG+JWT",
                      self.present_idjag(self.idjag(header={"typ": "application/OAUTH-ID-JAG+JWT"})),
                      res1, acme_user, a)
        self.accepted("ID-JAG without kid, one EdDSA key in the JWKS fits",
                      self.present_idjag(self.idjag("acme-ed", "EdDSA", {"kid": None})),
                      res1, acme_user, a)
        self.accepted("ID-JAG aud a one-element array",
                      self.present_idjag(self.idjag(aud=[self.issuer])), res1, acme_user, a)
        self.accepted("ID-JAG resource a one-element array, request names the same",
                      self.present_idjag(self.idjag(resource=[res1]), resource=res1), res1)
        self.accepted("ID-JAG without resource claim: the request's resource",
                      self.present_idjag(self.idjag(resource=DROP, scope="mail:read"),
                                         resource=self.res2), self.res2, acme_user, a,
                      "mail:read")
        self.accepted("ID-JAG expired within the skew (exp = now-10)",
                      self.present_idjag(self.idjag(exp="-10", iat="-100")), res1)
        self.accepted("ID-JAG issued in the future within the skew (iat = now+10)",
                      self.present_idjag(self.idjag(iat="+10", exp="+120")), res1)
        self.accepted("ID-JAG with nbf = now+10 (within the skew)",
                      self.present_idjag(self.idjag(nbf="+10")), res1)
        big = "x" * 5500
        self.accepted("ID-JAG of 7.5 KiB (large claims, under the 8 KiB form limit)",
                      self.present_idjag(self.idjag(padding=big)), res1)
        # Scope: requested ∩ asserted ∩ the resource's.
        wide = "files:read files:write mail:read bogus:scope"
        self.accepted("scope narrowing: requested ∩ asserted ∩ resource's",
                      self.present_idjag(self.idjag(scope=wide), scope="files:write files:admin"),
                      res1, acme_user, a, "files:write")
        self.accepted("scope: no request scope grants asserted ∩ resource's",
                      self.present_idjag(self.idjag(scope=wide)), res1, acme_user, a,
                      "files:read files:write")
        r = self.present_idjag(self.idjag(scope=DROP), scope="files:read")
        self.accepted("scope: an ID-JAG without scope grants none", r, res1, acme_user, a, "")
        at = r.json.get("access_token")
        self.result(at is not None and jwt_claims(at).get("scope", "") == "",
                    "  and the token carries no scope", f"claims {jwt_claims(at) if at else None}")
        self.accepted("scope: requested but not asserted grants none",
                      self.present_idjag(self.idjag(scope="files:read"), scope="files:admin"),
                      res1, acme_user, a, "")
        # The same jti at another issuer is another ID-JAG.
        jti = "shared-" + uuid.uuid4().hex
        self.accepted("ID-JAG jti J at acme",
                      self.present_idjag(self.idjag(jti=jti)), res1)
        self.accepted("ID-JAG jti J at another issuer (replay is per issuer)",
                      self.present_idjag(self.idjag("other-es", iss=OTHER, jti=jti)), res1,
                      "other:user-1")
        # Presented by a private_key_jwt client.
        self.accepted("ID-JAG presented by a private_key_jwt client",
                      self.present_idjag(self.idjag(client_id=self.kc["es"]),
                                         client=self.ca_form(self.client_assertion("es"))),
                      res1, acme_user, self.kc["es"])

        # Refusals: signatures and their algorithms.
        self.idjag_refused("alg none (unsigned, empty signature)",
                           self.present_idjag(unsigned({"alg": "none", "typ": IDJAG_TYP},
                                                       self.idjag_claims())), "unsigned|alg")
        self.idjag_refused("HS256 keyed with the issuer's public key",
                           self.present_idjag(hs256_with_public_key(
                               k, "acme-es1", {"typ": IDJAG_TYP}, self.idjag_claims())),
                           "alg HS256 is not accepted")
        self.idjag_refused("HS256 keyed with the issuer's RSA public key",
                           self.present_idjag(hs256_with_public_key(
                               k, "acme-rsa", {"typ": IDJAG_TYP}, self.idjag_claims())),
                           "alg HS256 is not accepted")
        # A JWE carries no readable iss: it is refused for what it is, not for its issuer.
        self.idjag_refused("a JWE (5 parts)",
                           self.present_idjag(encrypted(k, "acme-rsa", self.idjag_claims())),
                           "encrypted")
        # Over max_param_length the body is refused unread: no grant to name, no record.
        r = self.present_idjag(self.idjag(padding="x" * 17000))
        self.refused("ID-JAG of 17 KiB (over the 8 KiB form limit)", r, 400, "invalid_request")
        self.idjag_refused("ES256 header over an EdDSA key (kid of the Ed25519 key)",
                           self.present_idjag(self.idjag("acme-es1", "ES256",
                                                         {"kid": k.kid("acme-ed")})),
                           "no key of the JWKS")
        self.idjag_refused("kid unknown", self.present_idjag(self.idjag(header={"kid": "nope"})),
                           "no key of the JWKS")
        self.idjag_refused("no kid, two ES256 keys in the JWKS",
                           self.present_idjag(self.idjag(header={"kid": None})),
                           "several keys")
        self.idjag_refused("signed by another issuer's key (its own kid)",
                           self.present_idjag(self.idjag("other-es")), "no key of the JWKS")
        self.idjag_refused("signed by another key under the issuer's kid",
                           self.present_idjag(self.idjag("evil-es", header={"kid": k.kid("acme-es1")})),
                           "signature that does not verify")
        evil_jwk = json.loads(k.key("evil-es").export_public())
        self.idjag_refused("the attacker's key embedded in the header (jwk)",
                           self.present_idjag(self.idjag("evil-es", header={"jwk": evil_jwk})),
                           "no key of the JWKS")
        self.idjag_refused("the attacker's JWKS named in the header (jku)",
                           self.present_idjag(self.idjag("evil-es", header={
                               "jku": EVIL + "/jwks", "kid": k.kid("acme-es1")})),
                           "signature that does not verify")
        self.idjag_refused("a crit header extension",
                           self.present_idjag(self.idjag(header={"crit": ["urn:example:x"],
                                                                 "urn:example:x": True})),
                           "not a compact JWS")
        tok = self.idjag()
        h, p, s = tok.split(".")
        p2 = b64(json_encode(dict(jwt_claims(tok), scope="files:read files:write")))
        self.idjag_refused("payload changed after signing",
                           self.present_idjag(f"{h}.{p2}.{s}"), "signature that does not verify")
        # Nested JSON tricks.
        hdr = json_encode({"alg": "ES256", "kid": k.kid("acme-es1"), "typ": IDJAG_TYP})
        base = resolve_times(self.idjag_claims())
        dup = json_encode(base)[:-1] + ',"aud":"https://evil.example.org"}'
        self.idjag_refused("duplicate aud member",
                           self.present_idjag(sign_raw(k, "acme-es1", "ES256", hdr, dup)),
                           "not a JSON object")
        dup_iss = json_encode(dict(base, iss=EVIL))[:-1] + f',"iss":"{ACME}"' + "}"
        self.idjag_refused("duplicate iss member (evil first, ours last)",
                           self.present_idjag(sign_raw(k, "acme-es1", "ES256", hdr, dup_iss)),
                           "not a JSON object")
        dup_hdr = hdr[:-1] + ',"alg":"none"}'
        self.idjag_refused("duplicate alg in the header",
                           self.present_idjag(sign_raw(k, "acme-es1", "ES256", dup_hdr,
                                                       json_encode(base))),
                           "not a compact JWS|alg")
        self.idjag_refused("aud an object",
                           self.present_idjag(self.idjag(aud={"aud": self.issuer})), "aud")
        self.idjag_refused("aud an array of ours and another",
                           self.present_idjag(self.idjag(aud=[self.issuer, "https://rs.example.com"])),
                           r"\(aud\)")
        self.idjag_refused("aud a two-element array of ours twice",
                           self.present_idjag(self.idjag(aud=[self.issuer, self.issuer])),
                           r"\(aud\)")
        self.idjag_refused("aud a nested array",
                           self.present_idjag(self.idjag(aud=[[self.issuer]])), r"\(aud\)")
        self.idjag_refused("aud the token endpoint (must be exactly the issuer)",
                           self.present_idjag(self.idjag(aud=self.token_endpoint)), r"\(aud\)")
        self.idjag_refused("aud the issuer with a trailing slash",
                           self.present_idjag(self.idjag(aud=self.issuer + "/")), r"\(aud\)")
        self.idjag_refused("aud another server",
                           self.present_idjag(self.idjag(aud="https://as.example.net")), r"\(aud\)")
        self.idjag_refused("sub a number", self.present_idjag(self.idjag(sub=12345)), "sub")
        # A sub becomes part of a user name ("acme:SUB"): printable ASCII only, no spaces.
        for what, sub in (("a newline", "x\ny"), ("a tab", "\t"), ("a space", "a b"),
                          ("a right-to-left override", "x\u202ey"), ("a DEL", "x\x7f")):
            self.idjag_refused("sub with " + what,
                               self.present_idjag(self.idjag(sub=sub)), "printable ASCII")
        self.idjag_refused("sub of 256 characters",
                           self.present_idjag(self.idjag(sub="s" * 256)), "sub")
        self.idjag_refused("exp a string", self.present_idjag(self.idjag(exp="1999999999")),
                           "no exp")
        self.idjag_refused("exp 1e300", self.present_idjag(self.idjag(exp=1e300)), "no exp")
        self.idjag_refused("exp negative", self.present_idjag(self.idjag(exp=-1)), "no exp")
        self.idjag_refused("iat a string", self.present_idjag(self.idjag(iat="now")),
                           "iat that is not a date")
        self.idjag_refused("resource a nested array",
                           self.present_idjag(self.idjag(resource=[[res1]])),
                           "resource is not one resource")
        self.idjag_refused("resource a two-element array",
                           self.present_idjag(self.idjag(resource=[res1, self.res2])),
                           "resource is not one resource")
        self.idjag_refused("scope a number", self.present_idjag(self.idjag(scope=7)),
                           "scope is not a list")
        # typ.
        self.idjag_refused("typ missing", self.present_idjag(self.idjag(header={"typ": None})),
                           "must have typ oauth-id-jag\\+jwt")
        for typ in ("JWT", "at+jwt", "client-authentication+jwt", "oauth-id-jag"):
            self.idjag_refused(f"typ {typ}", self.present_idjag(self.idjag(header={"typ": typ})),
                               "must have typ")
        self.idjag_refused("typ not a string",
                           self.present_idjag(self.idjag(header={"typ": ["oauth-id-jag+jwt"]})),
                           "typ|not a compact JWS")
        # Issuers.
        self.idjag_refused("iss another trusted issuer, signed with acme's key",
                           self.present_idjag(self.idjag(iss=OTHER)), "no key of the JWKS")
        self.idjag_refused("iss with a trailing slash (not the trusted issuer)",
                           self.present_idjag(self.idjag(iss=ACME + "/")), "not trusted")
        self.idjag_refused("iss in upper case",
                           self.present_idjag(self.idjag(iss=ACME.upper())), "not trusted")
        self.idjag_refused("issuer not trusted (its own key)",
                           self.present_idjag(self.idjag("evil-es", iss=EVIL)), "not trusted")
        self.idjag_refused("issuer trusted for sign-in only (no --id-jag)",
                           self.present_idjag(self.idjag("signin-es", iss=SIGNIN)),
                           "not trusted")
        self.idjag_refused("iss missing", self.present_idjag(self.idjag(iss=DROP)),
                           "names no issuer")
        # Claims.
        self.idjag_refused("client_id claim of another client",
                           self.present_idjag(self.idjag(client_id=self.agent2[0])),
                           "another client")
        self.idjag_refused("client_id claim missing",
                           self.present_idjag(self.idjag(client_id=DROP)), "no client_id")
        self.idjag_refused("sub missing", self.present_idjag(self.idjag(sub=DROP)),
                           "no usable sub")
        self.idjag_refused("jti missing", self.present_idjag(self.idjag(jti=DROP)),
                           "no usable jti")
        self.idjag_refused("jti empty", self.present_idjag(self.idjag(jti="")), "no usable jti")
        self.idjag_refused("iat missing", self.present_idjag(self.idjag(iat=DROP)), "no iat")
        self.idjag_refused("exp missing", self.present_idjag(self.idjag(exp=DROP)), "no exp")
        self.idjag_refused("expired beyond the skew (exp = now-60)",
                           self.present_idjag(self.idjag(exp="-60", iat="-120")), "has expired")
        self.idjag_refused("iat in the future beyond the skew (now+60)",
                           self.present_idjag(self.idjag(iat="+60", exp="+120")),
                           "issued in the future")
        self.idjag_refused("nbf beyond the skew (now+60)",
                           self.present_idjag(self.idjag(nbf="+60")), "not valid yet")
        self.idjag_refused("lifetime 10 minutes (exp = now+600)",
                           self.present_idjag(self.idjag(iat="-1", exp="+600")),
                           "too far ahead")
        self.idjag_refused("lifetime 10 minutes (iat = now-500, exp = now+100)",
                           self.present_idjag(self.idjag(iat="-500", exp="+100")),
                           "lives longer")
        # Resources.
        self.idjag_refused("resource unregistered",
                           self.present_idjag(self.idjag(resource="https://unknown.example.com/mcp")),
                           "not registered")
        self.idjag_refused("resource differing from the request's",
                           self.present_idjag(self.idjag(), resource=self.res2),
                           "not the ID-JAG's")
        self.idjag_refused("no resource anywhere",
                           self.present_idjag(self.idjag(resource=DROP)),
                           "neither the ID-JAG nor the request")
        # Replays: on this node, then on another node of the same database.
        tok = self.idjag()
        self.accepted("ID-JAG J (first use)", self.present_idjag(tok), res1)
        self.idjag_refused("J again (replayed jti)", self.present_idjag(tok), "used before")
        tok = self.idjag()
        self.accepted("ID-JAG K at node 1", self.present_idjag(tok), res1)
        self.idjag_refused("K at node 2 (replay across nodes)",
                           self.present_idjag(tok, base=self.base2), "used before")
        tok = self.idjag(jti="same-jti-" + uuid.uuid4().hex)
        tok2 = self.idjag(jti=jwt_claims(tok)["jti"], sub="user-2")
        self.accepted("ID-JAG L", self.present_idjag(tok), res1)
        self.idjag_refused("another ID-JAG with L's jti",
                           self.present_idjag(tok2, base=self.base2), "used before")
        # The same ID-JAG ten times at once, on both nodes: one token.
        tok = self.idjag()
        self.race("ID-JAG", lambda base: self.present_idjag(tok, base=base), "idjag")
        # Who presents it.
        self.auth_refused("ID-JAG presented by a public client",
                          self.present_idjag(self.idjag(), client=("public", self.public)),
                          "public", self.public, "/token")
        wrong = "wrong-secret-" + uuid.uuid4().hex
        self.never_audited.append(wrong)
        self.auth_refused("ID-JAG presented with a wrong client secret",
                          self.present_idjag(self.idjag(), client=(self.agent[0], wrong)),
                          "secret", self.agent[0], "/token")
        self.auth_refused("ID-JAG presented with no client authentication",
                          self.present_idjag(self.idjag(), client=[]), "no_client", None,
                          "/token")
        self.refused("ID-JAG presented by a client without the jwt-bearer grant",
                     self.present_idjag(self.idjag(client_id=self.nogrant[0]),
                                        client=self.nogrant),
                     400, "unauthorized_client",
                     ("token.refused", "may not use this grant type",
                      {"client_id": self.nogrant[0]}))
        self.refused("ID-JAG request without assertion", self.present_idjag(None), 400,
                     "invalid_request",
                     ("token.refused", "assertion is required", {"client_id": self.agent[0]}))
        self.refused("ID-JAG request with the assertion twice",
                     self.present_idjag(self.idjag(), extra_form=[("assertion", self.idjag())]),
                     400, "invalid_request",
                     ("token.refused", "a parameter is repeated", {"client_id": None}))
        self.refused("ID-JAG request naming two resources",
                     self.present_idjag(self.idjag(), extra_form=[("resource", self.res1),
                                                                  ("resource", self.res2)]),
                     400, "invalid_target",
                     ("token.refused", "one audience", {"client_id": None}))
        self.idjag_refused("of an issuer by a client not in --id-jag-clients",
                           self.present_idjag(self.idjag("nojit-es", iss=NOJIT, sub="alice-sub",
                                                         client_id=self.agent2[0]),
                                              client=self.agent2),
                           "may not present ID-JAGs of that issuer")
        self.idjag_refused("for a user unknown, no --jit",
                           self.present_idjag(self.idjag("nojit-es", iss=NOJIT, sub="stranger")),
                           "subject is no user here")
        self.accepted("ID-JAG for a pre-provisioned user (user add --idp --sub)",
                      self.present_idjag(self.idjag("nojit-es", iss=NOJIT, sub="alice-sub")),
                      res1, "alice", a, "files:read")

    # -- the client-assertion catalogue --
    def ca_catalogue(self):
        k, res1, kc = self.keys, self.res1, self.kc
        for who, key, alg in (("es", "kc-es", "ES256"), ("ed", "kc-ed", "EdDSA"),
                              ("rsa", "kc-rsa", "RS256"), ("rsa", "kc-rsa", "PS256")):
            self.accepted(f"client assertion {alg}",
                          self.present_ca(self.ca_form(self.client_assertion(who, key, alg),
                                                       kc[who])),
                          res1, kc[who], kc[who], kind="ca")
        ok = lambda desc, form: self.accepted("client assertion " + desc,  # noqa: E731
                                              self.present_ca(form), res1, kc["es"],
                                              kc["es"], kind="ca")
        ok("aud the token endpoint URL",
           self.ca_form(self.client_assertion(aud=self.token_endpoint), kc["es"]))
        ok("aud an array of the issuer and the token endpoint",
           self.ca_form(self.client_assertion(aud=[self.issuer, self.token_endpoint])))
        ok("without client_id (found from iss)", self.ca_form(self.client_assertion()))
        ok("typ JWT", self.ca_form(self.client_assertion(header={"typ": "JWT"})))
        ok("typ client-authentication+jwt",
           self.ca_form(self.client_assertion(header={"typ": "client-authentication+jwt"})))
        ok("without iat", self.ca_form(self.client_assertion(iat=DROP)))
        ok("without kid (the single key fits)",
           self.ca_form(self.client_assertion(header={"kid": None})))
        ok("expired within the skew (exp = now-10)",
           self.ca_form(self.client_assertion(exp="-10", iat="-60")))
        ok("issued within the skew (iat = now+10)",
           self.ca_form(self.client_assertion(iat="+10")))

        def bad(desc, form, reason, **kw):
            return self.ca_refused(desc, self.present_ca(form, **kw), reason)

        es = kc["es"]
        claims = self.ca_claims()
        bad("alg none (unsigned)", self.ca_form(unsigned({"alg": "none"}, claims), es), "alg")
        bad("HS256 keyed with the client's public key",
            self.ca_form(hs256_with_public_key(k, "kc-es", {}, self.ca_claims()), es), "alg")
        bad("HS256 keyed with the RSA client's public key",
            self.ca_form(hs256_with_public_key(k, "kc-rsa", {}, self.ca_claims("rsa")),
                         kc["rsa"]), "alg")
        bad("a JWE (5 parts)",
            self.ca_form(encrypted(k, "kc-rsa", self.ca_claims("rsa")), kc["rsa"]), "malformed")
        self.ca_refused("of 17 KiB (over the 8 KiB form limit)",
                        self.present_ca(self.ca_form(self.client_assertion(pad="x" * 17000), es)),
                        None, 400, "invalid_request")
        hdr = json_encode({"alg": "ES256", "kid": k.kid("kc-es")})
        base = resolve_times(self.ca_claims())
        bad("payload with a duplicate aud",
            self.ca_form(sign_raw(k, "kc-es", "ES256", hdr,
                                  json_encode(base)[:-1] + ',"aud":"https://evil.example.org"}'),
                         es), "malformed")
        bad("typ oauth-id-jag+jwt (an ID-JAG as a client assertion)",
            self.ca_form(self.client_assertion(header={"typ": IDJAG_TYP})), "typ")
        bad("typ at+jwt", self.ca_form(self.client_assertion(header={"typ": "at+jwt"})), "typ")
        bad("kid unknown", self.ca_form(self.client_assertion(header={"kid": "nope"})),
            "unknown_kid")
        bad("no kid, two keys in the client's JWKS",
            self.ca_form(self.client_assertion("two", header={"kid": None})), "unknown_kid")
        bad("signed by another client's key (its kid)",
            self.ca_form(self.client_assertion(key="kc-two-a"), es), "unknown_kid")
        bad("signed by another key under the client's kid",
            self.ca_form(self.client_assertion(key="evil-es", header={"kid": k.kid("kc-es")}), es),
            "signature")
        bad("the attacker's key embedded in the header (jwk)",
            self.ca_form(self.client_assertion(key="evil-es", header={
                "jwk": json.loads(k.key("evil-es").export_public())}), es), "unknown_kid")
        bad("a crit header extension",
            self.ca_form(self.client_assertion(header={"crit": ["urn:example:x"],
                                                       "urn:example:x": True})), "malformed")
        bad("iss another client (client_id names this one)",
            self.ca_form(self.client_assertion(iss=kc["ed"]), es), "iss")
        bad("client_id names another client than iss",
            self.ca_form(self.client_assertion(), kc["ed"]), "unknown_kid")
        bad("sub another client", self.ca_form(self.client_assertion(sub=kc["ed"])), "sub")
        bad("sub a number", self.ca_form(self.client_assertion(sub=1), es), "sub")
        bad("sub missing", self.ca_form(self.client_assertion(sub=DROP)), "sub")
        bad("aud another server",
            self.ca_form(self.client_assertion(aud="https://as.example.net")), "aud")
        bad("aud an array of ours and another",
            self.ca_form(self.client_assertion(aud=[self.issuer, "https://as.example.net"])), "aud")
        bad("aud an object", self.ca_form(self.client_assertion(aud={"a": self.issuer})), "aud")
        bad("aud a nested array", self.ca_form(self.client_assertion(aud=[[self.issuer]])), "aud")
        bad("aud the introspection endpoint",
            self.ca_form(self.client_assertion(aud=self.issuer + "/introspect")), "aud")
        bad("exp missing", self.ca_form(self.client_assertion(exp=DROP)), "exp")
        bad("exp a string", self.ca_form(self.client_assertion(exp="2000000000")), "exp")
        bad("exp 1e300", self.ca_form(self.client_assertion(exp=1e300)), "exp")
        bad("expired beyond the skew (exp = now-60)",
            self.ca_form(self.client_assertion(exp="-60", iat="-120")), "exp")
        bad("exp 10 minutes ahead", self.ca_form(self.client_assertion(iat=DROP, exp="+600")),
            "lifetime")
        bad("lifetime 10 minutes (iat = now-500, exp = now+100)",
            self.ca_form(self.client_assertion(iat="-500", exp="+100")), "lifetime")
        bad("iat in the future beyond the skew (now+60)",
            self.ca_form(self.client_assertion(iat="+60", exp="+120")), "iat")
        bad("nbf beyond the skew (now+60)", self.ca_form(self.client_assertion(nbf="+60")), "iat")
        bad("jti missing", self.ca_form(self.client_assertion(jti=DROP)), "jti")
        bad("jti of 256 characters", self.ca_form(self.client_assertion(jti="j" * 256)), "jti")
        tok = self.client_assertion()
        self.accepted("client assertion A (first use)", self.present_ca(self.ca_form(tok)), res1,
                      kind="ca")
        bad("A again (replayed jti)", self.ca_form(tok), "replay")
        tok = self.client_assertion()
        self.accepted("client assertion B at node 1", self.present_ca(self.ca_form(tok)), res1,
                      kind="ca")
        bad("B at node 2 (replay across nodes)", self.ca_form(tok), "replay", base=self.base2)
        tok = self.client_assertion()
        self.race("client assertion", lambda base: self.present_ca(self.ca_form(tok), base=base),
                  "ca")
        # Malformed combinations and refusals before any assertion is checked: audited too,
        # with no client_id unless the client is one of ours.
        def malformed(desc, r, reason="request", status=400, error="invalid_request",
                      client_id=None):
            self.ca_refused(desc, r, reason, status, error, client_id=client_id,
                            endpoint="/token")
        guess = "guess-" + uuid.uuid4().hex
        self.never_audited.append(guess)
        malformed("with a Basic header too",
                  self.present_ca(self.ca_form(self.client_assertion()),
                                  basic=(self.agent[0], guess)))
        malformed("with client_secret too",
                  self.present_ca(self.ca_form(self.client_assertion()) +
                                  [("client_secret", guess)]))
        malformed("without client_assertion_type",
                  self.present_ca([("client_assertion", self.client_assertion())]))
        malformed("client_assertion_type without client_assertion",
                  self.present_ca([("client_assertion_type", CLIENT_ASSERTION)]))
        malformed("client_assertion repeated",
                  self.present_ca(self.ca_form(self.client_assertion()) +
                                  [("client_assertion", self.client_assertion())]))
        malformed("unsupported client_assertion_type",
                  self.present_ca([("client_assertion_type", "urn:example:saml"),
                                   ("client_assertion", self.client_assertion())]),
                  "assertion_type", 401, "invalid_client")
        malformed("by a secret client",
                  self.present_ca(self.ca_form(self.client_assertion(iss=self.agent[0],
                                                                     sub=self.agent[0]),
                                               self.agent[0])),
                  "method", 401, "invalid_client", self.agent[0])
        nobody = "no-such-client-" + uuid.uuid4().hex
        self.never_audited.append(nobody)
        malformed("for an unknown client",
                  self.present_ca(self.ca_form(self.client_assertion(iss=nobody, sub=nobody))),
                  "unknown_client", 401, "invalid_client")
        malformed("without iss or client_id",
                  self.present_ca(self.ca_form(self.client_assertion(iss=DROP))),
                  "no_client", 401, "invalid_client")
        self.auth_refused("a key client presenting a secret",
                          self.present_ca([], basic=(kc["es"], guess)), "method", kc["es"],
                          "/token")
        self.auth_refused("a key client presenting nothing",
                          self.present_ca([("client_id", kc["es"])]), "method", kc["es"],
                          "/token")
        # Secrets at /token: wrong, missing, for no client.
        wrong = "wrong-secret-" + uuid.uuid4().hex
        self.never_audited.append(wrong)
        self.auth_refused("a wrong client secret (Basic) at /token",
                          self.present_ca([], basic=(self.nogrant[0], wrong)), "secret",
                          self.nogrant[0], "/token")
        self.auth_refused("a wrong client secret (client_secret_post) at /token",
                          self.present_ca([("client_id", self.nogrant[0]),
                                           ("client_secret", wrong)]), "secret",
                          self.nogrant[0], "/token")
        self.auth_refused("a secret client presenting no secret at /token",
                          self.present_ca([("client_id", self.nogrant[0])]), "no_secret",
                          self.nogrant[0], "/token")
        self.auth_refused("a secret for an unknown client at /token",
                          self.present_ca([], basic=(nobody, wrong)), "unknown_client", None,
                          "/token")
        self.auth_refused("malformed Basic credentials at /token",
                          self.http.post(self.issuer, "/token", [
                              ("grant_type", "client_credentials")], authorization="Basic !!!"),
                          "basic", None, "/token")

    # -- /introspect and /revoke --
    def introspect_revoke(self):
        kc, res1 = self.kc, self.res1
        r = self.present_ca(self.ca_form(self.client_assertion("ed")))
        tok = self.accepted("a client_credentials token for the key client", r, res1,
                            kind="ca")
        r = self.present_ca(self.ca_form(self.client_assertion("es")), "/introspect",
                            extra=[("token", tok or "x")])
        self.expect[r.addr] = ("introspect", None, False)
        self.result(r.status == 200 and r.json.get("active") is True and
                    r.json.get("client_id") == kc["ed"],
                    "/introspect with a client assertion (--introspect-admin): active",
                    r.short())
        r = self.present_ca(self.ca_form(self.client_assertion("es", aud=self.token_endpoint)),
                            "/introspect", extra=[("token", tok or "x")])
        self.expect[r.addr] = ("introspect", None, False)
        self.result(r.status == 200 and r.json.get("active") is True,
                    "/introspect: aud the token endpoint URL accepted", r.short())
        r = self.present_ca(self.ca_form(self.client_assertion("rsa")), "/introspect",
                            extra=[("token", tok or "x")])
        self.expect[r.addr] = ("introspect", None, False)
        self.result(r.status == 200 and r.json.get("active") is False,
                    "/introspect by a key client that is neither admin nor the resource: inactive",
                    r.short())
        self.ca_refused("at /introspect, expired", self.present_ca(
            self.ca_form(self.client_assertion("es", exp="-60", iat="-100")), "/introspect",
            extra=[("token", tok or "x")]), "exp")
        self.ca_refused("at /introspect, alg none", self.present_ca(
            self.ca_form(unsigned({"alg": "none"}, self.ca_claims("es")), kc["es"]),
            "/introspect", extra=[("token", tok or "x")]), "alg")
        self.ca_refused("at /revoke, wrong typ", self.present_ca(
            self.ca_form(self.client_assertion("ed", header={"typ": IDJAG_TYP})), "/revoke",
            extra=[("token", tok or "x")]), "typ", client_id=kc["ed"], endpoint="/revoke")
        self.ca_refused("at /introspect, signed by another key", self.present_ca(
            self.ca_form(self.client_assertion("es", key="evil-es",
                                               header={"kid": self.keys.kid("kc-es")})),
            "/introspect", extra=[("token", tok or "x")]), "signature", client_id=kc["es"],
            endpoint="/introspect")
        wrong = "wrong-secret-" + uuid.uuid4().hex
        nobody = "no-such-client-" + uuid.uuid4().hex
        self.never_audited += [wrong, nobody]
        for path in ("/introspect", "/revoke"):
            self.auth_refused(f"a wrong client secret at {path}",
                              self.present_ca([], path, extra=[("token", tok or "x")],
                                              basic=(self.agent[0], wrong)),
                              "secret", self.agent[0], path)
            self.auth_refused(f"an unknown client at {path}",
                              self.present_ca([("client_id", nobody),
                                               ("client_secret", wrong)], path,
                                              extra=[("token", tok or "x")]),
                              "unknown_client", None, path)
        r = self.present_ca(self.ca_form(self.client_assertion("ed")), "/revoke",
                            extra=[("token", tok or "x")])
        self.expect[r.addr] = ("revoke", None, False)
        self.result(r.status == 200, "/revoke with a client assertion: 200", r.short())
        r = self.present_ca(self.ca_form(self.client_assertion("es")), "/introspect",
                            extra=[("token", tok or "x")])
        self.expect[r.addr] = ("introspect", None, False)
        self.result(r.status == 200 and r.json.get("active") is False,
                    "the revoked token is inactive", r.short())

    # -- the audit trail --
    def audit(self):
        want = sum(1 for v in self.expect.values() if v[1] is not None or v[2])
        deadline = time.time() + 10
        while True:
            try:
                out = subprocess.run([os.environ["MCP_AUTHD"], "--json", "audit", "tail", "-n",
                                      "5000"], capture_output=True, text=True, check=False)
                records = json.loads(out.stdout)
            except (OSError, ValueError):
                records = []
            by_addr = {}
            for rec in records:
                if rec.get("remote_addr") in self.expect:
                    by_addr.setdefault(rec["remote_addr"], []).append(rec)
            have = sum(1 for a, v in self.expect.items()
                       if (v[1] is not None or v[2]) and a in by_addr)
            if have >= want or time.time() > deadline:
                break
            time.sleep(0.1)
        issued = 0
        checked = {}  # one line per description (the losers of a race share theirs)
        for addr, (desc, audit, may_issue) in self.expect.items():
            recs = by_addr.get(addr, [])
            events = [r.get("event") for r in recs]
            if may_issue:
                issued += events.count("token.issued")
                continue
            if audit is not None:
                event, reason = audit[0], audit[1]
                want = audit[2] if len(audit) > 2 else {}
                found = [r for r in recs if r.get("event") == event]
                ok = (len(found) == 1 and found[0].get("outcome") == "refused" and
                      re.search(reason, found[0].get("reason") or "") and
                      "token.issued" not in events)
                if ok and "client_id" in want:
                    ok = found[0].get("client_id") == want["client_id"]
                if ok and "endpoint" in want:
                    try:
                        detail = json.loads(found[0].get("detail") or "{}")
                    except ValueError:
                        detail = {}
                    ok = detail.get("endpoint") == want["endpoint"]
                shown = reason + "".join(
                    f", {k} {'none' if v is None else 'the client' if k == 'client_id' else v}"
                    for k, v in sorted(want.items()))
                line = checked.setdefault((desc, event, shown), [True, []])
                if not ok:
                    line[0] = False
                    line[1].append(f"{addr}: records {json.dumps(recs)}")
            elif "token.issued" in events:
                self.result(False, f"audit: {desc}: no token.issued", json.dumps(recs))
        for (desc, event, reason), (ok, diag) in checked.items():
            self.result(ok, f"audit: {desc}: {event} refused /{reason}/", "\n".join(diag))
        text = json.dumps(records)
        leaked = [s for s in self.never_audited if s in text]
        self.result(not leaked, "audit: no wrong secret nor unknown client_id in any record",
                    f"found {leaked}")
        self.result(re.search(r"eyJ[A-Za-z0-9_-]{10,}\.eyJ", text) is None,
                    "audit: no assertion in any record")
        accepted = self.counts["idjag_accepted"] + self.counts["ca_accepted"]
        self.result(issued == accepted,
                    f"audit: exactly one token.issued per accepted request ({accepted})",
                    f"{issued} token.issued records")
        print("# counts: " + json.dumps(self.counts))


class _Drop:
    def __repr__(self):
        return "DROP"


DROP = _Drop()  # a claim or header member left out


def run():
    c = Catalogue()
    c.idjag_catalogue()
    c.ca_catalogue()
    c.introspect_revoke()
    c.audit()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "keys":
        make_keys(sys.argv[2])
    elif len(sys.argv) == 2 and sys.argv[1] == "run":
        run()
    else:
        raise SystemExit(__doc__)
