#!/usr/bin/python3
"""Keys and JWTs made by a third party (python3-jwcrypto), for the tests of client
assertions and ID-JAGs.

  jwtforge.py keygen KTY DIR NAME      write DIR/NAME.jwk (private) and DIR/NAME.jwks (public)
                                       KTY: EC (P-256), OKP (Ed25519), RSA (2048)
  jwtforge.py sign KEYFILE ALG HEADER_JSON CLAIMS_JSON
                                       a compact JWS; the header's kid is the key's
                                       unless HEADER_JSON sets one ("kid": null drops it)
"""
import json
import sys
import time
import uuid

from jwcrypto import jwk, jws
from jwcrypto.common import json_encode


def keygen(kty, folder, name):
    if kty == "EC":
        key = jwk.JWK.generate(kty="EC", crv="P-256")
    elif kty == "OKP":
        key = jwk.JWK.generate(kty="OKP", crv="Ed25519")
    elif kty == "RSA":
        key = jwk.JWK.generate(kty="RSA", size=2048)
    else:
        raise SystemExit("unknown key type " + kty)
    kid = name + "-" + uuid.uuid4().hex[:8]
    private = json.loads(key.export_private())
    private["kid"] = kid
    public = json.loads(key.export_public())
    public["kid"] = kid
    with open(f"{folder}/{name}.jwk", "w") as f:
        json.dump(private, f)
    with open(f"{folder}/{name}.jwks", "w") as f:
        json.dump({"keys": [public]}, f)


def sign(keyfile, alg, header_json, claims_json):
    with open(keyfile) as f:
        doc = json.load(f)
    key = jwk.JWK(**doc)
    header = {"alg": alg, "kid": doc["kid"]}
    header.update(json.loads(header_json))
    header = {k: v for k, v in header.items() if v is not None}
    claims = json.loads(claims_json)
    now = int(time.time())
    # Relative times: "+60" / "-30" are seconds from now.
    for k in ("exp", "iat", "nbf"):
        if isinstance(claims.get(k), str) and claims[k][:1] in "+-":
            claims[k] = now + int(claims[k])
    token = jws.JWS(json_encode(claims).encode())
    token.add_signature(key, alg=alg, protected=json_encode(header))
    print(token.serialize(compact=True))


if __name__ == "__main__":
    if sys.argv[1] == "keygen":
        keygen(*sys.argv[2:5])
    elif sys.argv[1] == "sign":
        sign(*sys.argv[2:6])
    else:
        raise SystemExit(__doc__)
