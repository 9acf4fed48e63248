"""Verify an mcp-authd access token with python3-jwcrypto (Debian), as a resource server.

usage: /usr/bin/python3 verify_jwcrypto.py ISSUER AUDIENCE TOKEN
Prints the verified header and claims as one JSON line; exits 1 on any failure.
"""
import json
import sys
import time
import urllib.request

from jwcrypto import jwk, jwt


def main():
    issuer, audience, token = sys.argv[1:4]
    with urllib.request.urlopen(issuer + "/jwks.json", timeout=5) as r:
        keyset = jwk.JWKSet.from_json(r.read().decode())
    try:
        t = jwt.JWT(jwt=token, key=keyset, algs=["ES256", "EdDSA", "RS256"],
                    check_claims={"iss": issuer, "aud": audience, "exp": None, "nbf": None})
    except Exception as e:  # jwcrypto raises several types; all mean "refused"
        print("jwcrypto refused the token: %s" % e, file=sys.stderr)
        sys.exit(1)
    header = json.loads(t.header)
    claims = json.loads(t.claims)
    if header.get("typ") != "at+jwt" or not isinstance(claims.get("aud"), str):
        print("not an RFC 9068 access token", file=sys.stderr)
        sys.exit(1)
    if claims["exp"] <= time.time():
        sys.exit(1)
    print(json.dumps({"header": header, "claims": claims}))


main()
