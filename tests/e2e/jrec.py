#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Select and show records of a JSON-lines file (http_client.py's report,
access_log.py's records), with Python expressions: what the tests would ask
jq for, without jq (scripts/debian-packages.txt does not list it).

Usage: jrec.py FILE [--where EXPR] [--show EXPR] [--join SEP] [--count]

Each line is one record, bound to r: a dict in which a missing key reads as
None. Records with a "summary" key are left out unless EXPR names them
(--where 'r["summary"]'). --where keeps the records for which EXPR is true;
--show prints EXPR for each (default: the record as JSON), one a line, or
joined by SEP with --join; --count prints how many were kept.

  jrec.py out.json --show '"%s:%s" % (r["n"], r["status"])' --join ' '
  jrec.py out.json --where 'r["error"]' --count
"""

import argparse
import json
import sys


class Rec(dict):
    def __missing__(self, key):
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("file")
    ap.add_argument("--where")
    ap.add_argument("--show")
    ap.add_argument("--join")
    ap.add_argument("--count", action="store_true")
    a = ap.parse_args()

    wants_summary = "summary" in (a.where or "")
    # In parentheses: an expression may span lines (and be indented).
    where = compile("(%s)" % a.where, "--where", "eval") if a.where else None
    show = compile("(%s)" % a.show, "--show", "eval") if a.show else None
    out = []
    with open(a.file, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line, object_hook=Rec)
            except ValueError as e:
                sys.stderr.write("jrec: %s line %d: %s\n" % (a.file, lineno, e))
                return 2
            if r["summary"] is not None and not wants_summary:
                continue
            if where and not eval(where, {}, {"r": r}):  # noqa: S307 (the tests' own)
                continue
            out.append(eval(show, {}, {"r": r}) if show else json.dumps(r, sort_keys=True))
    if a.count:
        print(len(out))
    elif a.join is not None:
        print(a.join.join(str(x) for x in out))
    else:
        for x in out:
            print(x)
    return 0


if __name__ == "__main__":
    sys.exit(main())
