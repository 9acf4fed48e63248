"""Play the browser for one HTML form: print its action and its urlencoded body.

usage: python3 formdata.py [NAME=VALUE ...] < page.html
The first form of the page is used; hidden and text inputs keep their values, the
arguments add or replace fields (a submit button's name=value is passed this way).
Line 1 of the output is the form's action, line 2 the body.
"""
import html.parser
import sys
import urllib.parse


class Form(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.action = None
        self.fields = []
        self.done = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self.done:
            return
        if tag == "form" and self.action is None:
            self.action = a.get("action", "")
        elif tag == "input" and self.action is not None:
            if a.get("type", "text") in ("hidden", "text", "password") and "name" in a:
                self.fields.append((a["name"], a.get("value", "")))

    def handle_endtag(self, tag):
        if tag == "form" and self.action is not None:
            self.done = True


def main():
    f = Form()
    f.feed(sys.stdin.read())
    if f.action is None:
        sys.exit("no form on the page")
    fields = list(f.fields)
    for arg in sys.argv[1:]:
        name, _, value = arg.partition("=")
        fields = [(n, v) for (n, v) in fields if n != name]
        fields.append((name, value))
    print(f.action)
    print(urllib.parse.urlencode(fields))


if __name__ == "__main__":
    main()
