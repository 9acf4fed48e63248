"""Recipe: mcp-authd dev from pytest. A session fixture starts the mock issuer and hands
its settings to every test; tokens are checked with jwcrypto, as an MCP server would.
Run: MCP_AUTHD=/path/to/mcp-authd /usr/bin/python3 -m pytest test_recipe_pytest.py
"""
import base64
import json
import os
import subprocess
import urllib.request

import pytest
from jwcrypto import jwk, jwt

RESOURCE = "http://127.0.0.1:3000/mcp"  # your MCP server's URL


@pytest.fixture(scope="session")
def issuer():
    proc = subprocess.Popen(
        [os.environ.get("MCP_AUTHD", "mcp-authd"), "dev", "--port", "0", "--resource", RESOURCE],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    settings = json.loads(proc.stdout.readline())
    yield settings
    proc.terminate()
    proc.wait()


def post(url, data, headers=None):
    req = urllib.request.Request(url, data=data, headers=headers or {}, method="POST")
    with urllib.request.urlopen(req) as r:
        return json.load(r)


def verify(settings, token):
    """What your MCP server does with a bearer token."""
    with urllib.request.urlopen(settings["jwks_uri"]) as r:
        keys = jwk.JWKSet.from_json(r.read().decode())
    t = jwt.JWT(jwt=token, key=keys, algs=["ES256", "EdDSA", "RS256"],
                check_claims={"iss": settings["issuer"], "aud": RESOURCE, "exp": None,
                                  "nbf": None})
    if json.loads(t.header).get("typ") != "at+jwt":
        raise ValueError("not an access token")
    return json.loads(t.claims)


def test_client_credentials_token_is_accepted(issuer):
    basic = base64.b64encode(f"{issuer['client']['client_id']}:{issuer['client']['client_secret']}".encode()).decode()
    answer = post(issuer["token_endpoint"],
                  f"grant_type=client_credentials&resource={RESOURCE}".encode(),
                  {"Authorization": "Basic " + basic})
    assert verify(issuer, answer["access_token"])["aud"] == RESOURCE


def test_chosen_claims(issuer):
    answer = post(issuer["issuer"] + "/dev/token", json.dumps({"sub": "alice"}).encode())
    assert verify(issuer, answer["access_token"])["sub"] == "alice"


@pytest.mark.parametrize("kind", ["expired", "not-yet-valid", "wrong-audience", "wrong-issuer",
                                  "unknown-kid", "bad-signature", "alg-none", "wrong-typ"])
def test_bad_tokens_are_refused(issuer, kind):
    answer = post(f"{issuer['issuer']}/dev/bad-token?kind={kind}", b"{}")
    with pytest.raises(Exception):
        verify(issuer, answer["access_token"])
