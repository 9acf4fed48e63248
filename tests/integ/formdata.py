"""Play the browser for one HTML form: print its action and its urlencoded body.

usage: python3 formdata.py [NAME=VALUE ...] < page.html
The form used is the first that has every field the arguments name (on a login page
with identity providers' buttons, the password form), else the first that has one of
them, else the first form; hidden and text inputs keep their values, the arguments add
or replace fields (a submit button's name=value is passed this way).
Line 1 of the output is the form's action, line 2 the body.
"""
import html.parser
import sys
import urllib.parse


class Forms(html.parser.HTMLParser):
    """Every form of the page: its action and its hidden, text and password inputs."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []
        self.cur = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.cur = {"action": a.get("action", ""), "fields": []}
            self.forms.append(self.cur)
        elif tag == "input" and self.cur is not None:
            if a.get("type", "text") in ("hidden", "text", "password") and "name" in a:
                self.cur["fields"].append((a["name"], a.get("value", "")))

    def handle_endtag(self, tag):
        if tag == "form":
            self.cur = None


def pick_form(page, names):
    """The form of page (HTML text) to fill in the fields names: the first that has all of
    them (on a login page with identity providers' buttons, the password form), else
    the first that has one of them, else the first. A dict {"action", "fields"}, or
    None when the page has no form."""
    f = Forms()
    f.feed(page)
    if not f.forms:
        return None
    names = list(names)
    for fm in f.forms:
        if names and all(any(n == fname for fname, _ in fm["fields"]) for n in names):
            return fm
    for fm in f.forms:
        if any(n == fname for n in names for fname, _ in fm["fields"]):
            return fm
    return f.forms[0]


def main():
    args = [arg.partition("=") for arg in sys.argv[1:]]
    form = pick_form(sys.stdin.read(), [name for name, _, _ in args])
    if form is None:
        sys.exit("no form on the page")
    fields = list(form["fields"])
    for name, _, value in args:
        fields = [(n, v) for (n, v) in fields if n != name]
        fields.append((name, value))
    print(form["action"])
    print(urllib.parse.urlencode(fields))


if __name__ == "__main__":
    main()
