"""Play the browser through a sign-in at an upstream identity provider: mcp-authd's
/authorize, its "Sign in with ..." button, the provider's pages, the way back, mcp-authd's
consent, the code and the token. Cookies persist in a jar file between commands, so that
a test can replay a step with the same browser, or with another one (another jar).

usage: python3 federation.py JAR COMMAND ARGS...
  login ISSUER CLIENT_ID RESOURCE SCOPE LOGIN [IDP]
        the whole flow as LOGIN at the provider (its development login page accepts any
        password); prints key=value lines:
          start=STATUS        /authorize (200: the login page; 303: straight upstream)
          buttons=N           "Sign in with" buttons on the login page
          callback_url=URL    the provider's redirect back to mcp-authd
          callback=STATUS     mcp-authd's answer to it (303 back to /authorize on success)
          page=TEXT           the text of an error page, when there is one
          consent=STATUS      mcp-authd's consent page (200), when shown
          code=yes|no         whether the client got a code
          error=ERROR         the OAuth error the client got instead, if any
          token=STATUS access_token=JWT scope=SCOPE   the code redeemed
  get URL           one GET with the jar: "status=N location=URL" and page=TEXT
  start ISSUER CLIENT_ID RESOURCE SCOPE [IDP]
        only as far as the provider: prints "upstream=URL" (its authorization request)
IDP picks the provider's button: its name, or its place on the page (default 0).
Every wait is bounded (20 s per request).
"""
import base64
import hashlib
import http.cookiejar
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from formdata import Forms  # noqa: E402  (the same form parser as the shell tests)

REDIRECT = "http://127.0.0.1/callback"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    def __init__(self, jar_path):
        self.jar = http.cookiejar.LWPCookieJar(jar_path)
        if os.path.exists(jar_path):
            self.jar.load(ignore_discard=True, ignore_expires=True)
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)

    def save(self):
        self.jar.save(ignore_discard=True, ignore_expires=True)

    def go(self, method, url, data=None):
        req = urllib.request.Request(url, data=data.encode() if data is not None else None,
                                     method=method)
        if data is not None:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            r = self.opener.open(req, timeout=20)
        except urllib.error.HTTPError as e:
            r = e
        body = r.read().decode("utf-8", "replace")
        loc = r.headers.get("Location")
        return r.status, urllib.parse.urljoin(url, loc) if loc else None, body

    def submit(self, url, body, index=0, **override):
        f = Forms()
        f.feed(body)
        form = f.forms[index]
        fields = [(k, v) for k, v in form["fields"] if k not in override]
        fields += list(override.items())
        return self.go("POST", urllib.parse.urljoin(url, form["action"]),
                       urllib.parse.urlencode(fields))

    def follow(self, url, stop_prefix):
        """GET url and follow redirects until a page, or a URL under stop_prefix."""
        for _ in range(20):
            status, loc, body = self.go("GET", url)
            if status not in (301, 302, 303, 307) or loc is None:
                return url, status, body
            url = loc
            if url.startswith(stop_prefix):
                return url, None, None
        raise SystemExit("too many redirects")


def page_text(body):
    text = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", body, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", text).split())[:300]


def authorize_url(issuer, client_id, resource, scope):
    verifier = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    q = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
         "code_challenge": challenge, "code_challenge_method": "S256", "resource": resource,
         "state": "client-state"}
    if scope:
        q["scope"] = scope
    return issuer + "/authorize?" + urllib.parse.urlencode(q), verifier


def to_upstream(b, out, issuer, client_id, resource, scope, idp_index):
    """/authorize, then the provider's button: the URL of the provider's request."""
    url, verifier = authorize_url(issuer, client_id, resource, scope)
    status, loc, body = b.go("GET", url)
    out.append("start=%d" % status)
    if status == 200:
        out.append("buttons=%d" % body.count("Sign in with"))
        if not str(idp_index).isdigit():
            # The button of the provider of that name.
            f = Forms()
            f.feed(body)
            idp_index = next((i for i, form in enumerate(f.forms)
                              if ("idp", idp_index) in form["fields"]), 0)
        status, loc, body = b.submit(url, body, int(idp_index))
    if status != 303 or loc is None or loc.startswith(issuer):
        out.append("page=" + page_text(body))
        return None, verifier
    return loc, verifier


def cmd_start(b, issuer, client_id, resource, scope, idp_index="0"):
    out = []
    loc, _ = to_upstream(b, out, issuer, client_id, resource, scope, idp_index)
    if loc is not None:
        out.append("upstream=" + loc)
    return out


def cmd_login(b, issuer, client_id, resource, scope, login, idp_index="0"):
    out = []
    loc, verifier = to_upstream(b, out, issuer, client_id, resource, scope, idp_index)
    if loc is None:
        return out
    # The provider's pages: its login form, then its consent, until it sends us back.
    url, status, body = b.follow(loc, issuer)
    for step in range(4):
        if status is None:
            break
        if status != 200:
            out.append("upstream_page=%d %s" % (status, page_text(body)))
            return out
        fields = {"login": login, "password": "any"} if "name=\"login\"" in body else {}
        status, loc, body = b.submit(url, body, 0, **fields)
        if loc is None:
            out.append("upstream_page=%d %s" % (status, page_text(body)))
            return out
        if loc.startswith(issuer):
            url, status = loc, None
            break
        url, status, body = b.follow(loc, issuer)
    out.append("callback_url=" + url)
    status, loc, body = b.go("GET", url)
    out.append("callback=%d" % status)
    if status != 303:
        out.append("page=" + page_text(body))
        return out
    # Back at /authorize, signed in: mcp-authd's consent, then the code.
    status, loc, body = b.go("GET", loc)
    if status == 200:
        out.append("consent=200")
        out.append("consent_scopes=" + ",".join(re.findall(r"<li><code>([^<]*)</code></li>", body)))
        status, loc, body = b.submit(loc if loc else issuer + "/authorize", body, 0,
                                     decision="allow")
    if loc is None or not loc.startswith(REDIRECT):
        out.append("page=" + page_text(body))
        return out
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query)
    if "code" not in q:
        out.append("code=no")
        out.append("error=" + q.get("error", [""])[0])
        out.append("error_description=" + q.get("error_description", [""])[0])
        return out
    out.append("code=yes")
    status, _, body = b.go("POST", issuer + "/token", urllib.parse.urlencode({
        "grant_type": "authorization_code", "code": q["code"][0], "client_id": client_id,
        "redirect_uri": REDIRECT, "code_verifier": verifier}))
    out.append("token=%d" % status)
    m = re.search(r'"access_token":"([^"]+)"', body)
    s = re.search(r'"scope":"([^"]*)"', body)
    r = re.search(r'"refresh_token":"([^"]+)"', body)
    out.append("access_token=" + (m.group(1) if m else ""))
    out.append("scope=" + (s.group(1) if s else ""))
    out.append("refresh_token=" + (r.group(1) if r else ""))
    return out


def cmd_get(b, url):
    status, loc, body = b.go("GET", url)
    return ["status=%d location=%s" % (status, loc or ""), "page=" + page_text(body)]


def main():
    jar, command, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    b = Browser(jar)
    fn = {"login": cmd_login, "get": cmd_get, "start": cmd_start}[command]
    try:
        out = fn(b, *args)
    finally:
        b.save()
    print("\n".join(out))


if __name__ == "__main__":
    main()
