#!/usr/bin/python3
"""Verify the JOSE/base64url test vectors in this directory.

Run with the system interpreter (needs Debian's python3-jwcrypto):
    /usr/bin/python3 tests/data/verify_vectors.py
"""
import base64
import json
import os
import sys

from jwcrypto import jwk, jws
from jwcrypto.common import json_decode

HERE = os.path.dirname(os.path.abspath(__file__))


def load(name):
    with open(os.path.join(HERE, name), encoding="utf-8") as f:
        return json.load(f)


def b64url_nopad(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def check_compact(name, expect_alg, deterministic):
    v = load(name)
    key = jwk.JWK(**v["jwk"])
    assert key.has_private, name + ": jwk must be private"
    parts = v["jws"].split(".")
    assert len(parts) == 3, name + ": jws must have 3 parts"
    assert "\n" not in v["jws"] and " " not in v["jws"], name
    assert parts[0] == v["protected_b64"], name + ": protected_b64 mismatch"
    assert parts[1] == v["payload_b64"], name + ": payload_b64 mismatch"
    assert json_decode(b64url_decode(parts[0]))["alg"] == expect_alg, name

    # Verify the published JWS with the public half of the key.
    pub = jwk.JWK(**json_decode(key.export_public()))
    tok = jws.JWS()
    tok.deserialize(v["jws"])
    tok.verify(pub)  # raises on failure
    assert b64url_nopad(tok.payload) == v["payload_b64"], name

    # A tampered signature must fail.
    bad_sig = parts[2][:-2] + ("AA" if parts[2][-2:] != "AA" else "BA")
    t2 = jws.JWS()
    t2.deserialize(".".join(parts[:2] + [bad_sig]))
    try:
        t2.verify(pub)
    except jws.InvalidJWSSignature:
        pass
    else:
        raise AssertionError(name + ": tampered signature verified")

    # Re-sign the same protected header + payload with the private key.
    header = b64url_decode(parts[0]).decode("utf-8")
    payload = b64url_decode(parts[1])
    core = jws.JWSCore(expect_alg, key, header, payload)
    out = core.sign()
    assert out["protected"] == parts[0], name + ": protected re-encoding"
    assert out["payload"].decode("ascii") == parts[1], name + ": payload re-encoding"
    new_sig = b64url_decode(out["signature"])
    jws.JWSCore(expect_alg, pub, header, payload).verify(new_sig)
    if deterministic:
        assert b64url_nopad(new_sig) == parts[2], \
            name + ": re-signing did not reproduce the published signature"
    return name + ": OK (verify" + (", re-sign identical" if deterministic
                                     else ", fresh signature verifies") + ")"


def check_rsa_consistency():
    v = load("rfc7515_a2_rs256.json")["jwk"]
    i = {k: int.from_bytes(b64url_decode(v[k]), "big")
         for k in ("n", "e", "d", "p", "q", "dp", "dq", "qi")}
    assert i["p"] * i["q"] == i["n"]
    assert i["dp"] == i["d"] % (i["p"] - 1)
    assert i["dq"] == i["d"] % (i["q"] - 1)
    assert (i["qi"] * i["q"]) % i["p"] == 1
    return "rfc7515_a2_rs256.json: OK (RSA CRT params consistent)"


def check_thumbprints():
    v = load("rfc7638_thumbprint.json")
    tp = jwk.JWK(**v["jwk"]).thumbprint()
    assert tp == v["thumbprint"], "RSA thumbprint %s" % tp
    tp2 = jwk.JWK(**v["ed25519_jwk"]).thumbprint()
    assert tp2 == v["ed25519_thumbprint"], "Ed25519 thumbprint %s" % tp2
    # The RFC 8037 A.1 private key's public half must be that same key.
    ed = jwk.JWK(**load("rfc8037_a4_ed25519.json")["jwk"])
    assert ed.thumbprint() == v["ed25519_thumbprint"]
    return "rfc7638_thumbprint.json: OK (RSA + Ed25519 thumbprints)"


def check_base64():
    vecs = load("rfc4648_base64url.json")
    n = 0
    for e in vecs:
        raw = e["raw"].encode("ascii") if "raw" in e else bytes.fromhex(e["raw_hex"])
        enc = e["b64url_nopad"]
        assert "=" not in enc
        assert b64url_nopad(raw) == enc, e
        assert b64url_decode(enc) == raw, e
        if "base64_padded" in e:
            assert base64.b64encode(raw).decode() == e["base64_padded"], e
        n += 1
    rfc = [e["raw"] for e in vecs if "raw" in e]
    assert rfc == ["", "f", "fo", "foo", "foob", "fooba", "foobar"]
    joined = "".join(e["b64url_nopad"] for e in vecs if "raw_hex" in e)
    assert "-" in joined and "_" in joined
    return "rfc4648_base64url.json: OK (%d vectors)" % n


def main():
    results = [
        check_compact("rfc7515_a2_rs256.json", "RS256", True),
        check_rsa_consistency(),
        check_compact("rfc7515_a3_es256.json", "ES256", False),
        check_compact("rfc8037_a4_ed25519.json", "EdDSA", True),
        check_thumbprints(),
        check_base64(),
    ]
    for r in results:
        print(r)
    print("ALL VECTORS OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
