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


def main():
    f = Forms()
    f.feed(sys.stdin.read())
    if not f.forms:
        sys.exit("no form on the page")
    # The form that has the fields the arguments fill in (the password form of a login
    # page that also has identity providers' buttons), else the first one.
    names = [arg.partition("=")[0] for arg in sys.argv[1:]]
    form = next((fm for fm in f.forms if names and
                 all(any(n == fname for fname, _ in fm["fields"]) for n in names)), None)
    if form is None:
        form = next((fm for fm in f.forms if any(n == fname for n in names
                                                  for fname, _ in fm["fields"])), f.forms[0])
    fields = list(form["fields"])
    for arg in sys.argv[1:]:
        name, _, value = arg.partition("=")
        fields = [(n, v) for (n, v) in fields if n != name]
        fields.append((name, value))
    print(form["action"])
    print(urllib.parse.urlencode(fields))


if __name__ == "__main__":
    main()
