#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Read the e2e nginx access log (log_format kapa in nginx.conf.in).

Each line is tab-separated name=value fields: msec, conn ($connection),
conn_req ($connection_requests), client, cport, status, body, sent, complete,
rtime, http_connection, request. The server's log is the suite's count of
requests (wrk does not count requests in flight when it stops).

Usage: access_log.py LOG [--skip N] [--path PREFIX] [--status CODE] COMMAND
  count    the number of requests
  conns    one line per connection, in order of its first request:
           "CONN REQUESTS CLIENT:PORT"
  summary  requests, connections, requests per connection, statuses
  records  the selected lines as JSON, one object a line

--skip N ignores the first N lines (lib.sh's e2e_log_mark); --path keeps the
requests whose target starts with PREFIX; --status those with that status.
A line that does not parse is an error (exit 2), never silently dropped.
"""

import argparse
import collections
import json
import sys


def parse_line(line, lineno):
    rec = {}
    for field in line.rstrip("\n").split("\t"):
        name, sep, value = field.partition("=")
        if not sep:
            raise ValueError("line %d: field %r is not name=value" % (lineno, field))
        rec[name] = value
    for need in ("conn", "conn_req", "status", "request"):
        if need not in rec:
            raise ValueError("line %d: no %s= field (log_format kapa?)" % (lineno, need))
    rec["conn"] = int(rec["conn"])
    rec["conn_req"] = int(rec["conn_req"])
    rec["line"] = lineno
    parts = rec["request"].split(" ")
    rec["target"] = parts[1] if len(parts) >= 2 else ""
    return rec


def read_log(path, skip):
    recs = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            if lineno <= skip or not line.strip():
                continue
            recs.append(parse_line(line, lineno))
    return recs


def by_connection(recs):
    """OrderedDict conn -> list of records, in order of first appearance."""
    conns = collections.OrderedDict()
    for r in recs:
        conns.setdefault(r["conn"], []).append(r)
    return conns


def check_numbering(conns, out):
    """Warn when a connection's requests are not numbered consecutively.

    nginx numbers requests 1, 2, ... on a connection; a gap means a request
    was not logged (or the window cut a connection that started earlier,
    which only the first number shows)."""
    for conn, rs in conns.items():
        nums = sorted(r["conn_req"] for r in rs)
        if nums != list(range(nums[0], nums[0] + len(nums))):
            out.write("access_log: warning: connection %d numbers its requests %s\n"
                      % (conn, nums))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("log")
    ap.add_argument("--skip", type=int, default=0)
    ap.add_argument("--path", default=None)
    ap.add_argument("--status", default=None)
    ap.add_argument("command", choices=["count", "conns", "summary", "records"])
    args = ap.parse_args()

    try:
        recs = read_log(args.log, args.skip)
    except (OSError, ValueError) as e:
        sys.stderr.write("access_log: %s: %s\n" % (args.log, e))
        return 2
    if args.path is not None:
        recs = [r for r in recs if r["target"].startswith(args.path)]
    if args.status is not None:
        recs = [r for r in recs if r["status"] == args.status]
    conns = by_connection(recs)

    if args.command == "count":
        print(len(recs))
    elif args.command == "conns":
        check_numbering(conns, sys.stderr)
        for conn, rs in conns.items():
            print("%d %d %s:%s" % (conn, len(rs), rs[0].get("client", "?"),
                                   rs[0].get("cport", "?")))
    elif args.command == "summary":
        check_numbering(conns, sys.stderr)
        per = collections.Counter(len(rs) for rs in conns.values())
        statuses = collections.Counter(r["status"] for r in recs)
        print("requests %d" % len(recs))
        print("connections %d" % len(conns))
        print("requests_per_connection %s" % " ".join(
            "%dx%d" % (n, c) for n, c in sorted(per.items())))
        print("statuses %s" % " ".join(
            "%s:%d" % (s, c) for s, c in sorted(statuses.items())))
    else:
        for r in recs:
            print(json.dumps(r, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
