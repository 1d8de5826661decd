"""Checks of a report_html() page for test/suites/report_html.sh.

    report_html_check.py parse PAGE            HTML5 parse errors, one a line (none: valid)
    report_html_check.py charts PAGE           one line per chart: "<title>|<svg count>|<points>|<segments>|<empty>"
    report_html_check.py elements PAGE TAG     how many elements TAG the parsed page has
    report_html_check.py text PAGE             the page's text content (what a reader sees)
    report_html_check.py attr PAGE NAME        the value of attribute NAME on <body>

Run with /usr/bin/python3 (Debian's python3-html5lib).
"""
import re
import sys

import html5lib

NS = {"h": "http://www.w3.org/1999/xhtml", "s": "http://www.w3.org/2000/svg"}


def load(path):
    with open(path, "rb") as f:
        return f.read()


def parse(path):
    parser = html5lib.HTMLParser(tree=html5lib.getTreeBuilder("etree"))
    doc = parser.parse(load(path))
    return parser, doc


def main():
    cmd, path = sys.argv[1], sys.argv[2]
    parser, doc = parse(path)
    if cmd == "parse":
        for pos, code, data in parser.errors:
            print("%s at %s %s" % (code, pos, data))
    elif cmd == "charts":
        for fig in doc.iter("{%s}figure" % NS["h"]):
            if "chart" not in fig.get("class", "").split():
                continue
            h3 = fig.find("h:h3", NS)
            svgs = fig.findall(".//s:svg", NS)
            points = 0
            segments = 0
            longest = 0
            for p in fig.iter("{%s}path" % NS["s"]):
                if "series" not in p.get("class", "").split():
                    continue
                d = p.get("d", "")
                n = len(re.findall(r"[ML]", d))
                points += n
                longest = max(longest, n)
                segments += 1
            empty = sum(1 for t in fig.iter("{%s}text" % NS["s"])
                        if "empty" in t.get("class", "").split())
            print("%s|%d|%d|%d|%d|%d" % ("".join(h3.itertext()) if h3 is not None else "",
                                         len(svgs), points, segments, empty, longest))
    elif cmd == "elements":
        tag = sys.argv[3]
        print(sum(1 for _ in doc.iter("{%s}%s" % (NS["h"], tag)))
              + sum(1 for _ in doc.iter("{%s}%s" % (NS["s"], tag))))
    elif cmd == "text":
        body = doc.find("h:body", NS)
        sys.stdout.write("".join(body.itertext()))
    elif cmd == "attr":
        body = doc.find("h:body", NS)
        print(body.get(sys.argv[3], ""))


main()
