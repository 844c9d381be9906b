#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Python's http.client against a server that announces Keep-Alive
timeout=2, max=5: http.client ignores the hint, so this reuses one connection
after 0.5, 1 and 3 s of idle (the last past the timeout), and another for
eight requests in a row (past max), closing each itself."""
import http.client
import sys
import time

UA = "Python-http.client/%d.%d" % sys.version_info[:2]


def run(host, pauses, count):
    conn = http.client.HTTPConnection(host, 80, timeout=10)
    for i in range(count):
        if i > 0:
            time.sleep(pauses[i - 1] if i - 1 < len(pauses) else 0)
        conn.request("GET", "/%d" % i, headers={"User-Agent": UA})
        r = conn.getresponse()
        r.read()
        print("status=%d keep_alive=%s" % (r.status, r.getheader("Keep-Alive")), flush=True)
    conn.close()


run(sys.argv[1], [0.5, 1.0, 3.0], 4)
run(sys.argv[1], [], 8)
