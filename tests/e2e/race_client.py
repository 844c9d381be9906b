#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A client that loses requests to a server's idle close, on purpose.

Several threads each keep one HTTP/1.1 connection (http.client) and reuse it
after an idle time drawn around the server's keep-alive limit, so that some
requests reach the server just after it closed the connection as idle. Each
failure (the server's FIN or RST instead of a response) is logged on one line,
with the connection's local port, then the same request is sent again on a
new connection. It stops once it has seen --races failures, or at --duration.

Output, one line each (read by race_capture.sh):
  FAIL port=P path=/r/T/N error=NAME idle_ms=I     a request sent and lost
  STALE port=P path=/r/T/N error=NAME idle_ms=I    the close was known before
                                                   the request could be sent
                                                   (nothing on the wire: no race)
  RETRY port=P path=/r/T/N status=S                its retry, on a new connection
  OK requests=R failures=F retries=R2              the summary, last
"""
import argparse
import http.client
import random
import sys
import threading
import time

lock = threading.Lock()
failures = 0
requests = 0
retries = 0


def log(line):
    with lock:
        print(line, flush=True)


def worker(args, tid, stop_at):
    global failures, requests, retries
    rnd = random.Random(args.seed * 100 + tid)
    conn = None
    n = 0
    last_idle_ms = 0
    while time.monotonic() < stop_at:
        with lock:
            if failures >= args.races:
                return
        if conn is None:
            conn = http.client.HTTPConnection(args.host, args.port, timeout=5)
        path = "/r/%d/%d" % (tid, n)
        n += 1
        if conn.sock is None:
            conn.connect()
        port = conn.sock.getsockname()[1]
        sent = False
        try:
            conn.request("GET", path, headers={"User-Agent": "kapa-race-client/1"})
            sent = True
            resp = conn.getresponse()
            resp.read()
            with lock:
                requests += 1
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                ConnectionAbortedError) as e:
            # Sent: the request went out and met the close. Not sent: the
            # socket already knew of the server's RST, nothing left.
            if sent:
                with lock:
                    failures += 1
            log("%s port=%d path=%s error=%s idle_ms=%d" % (
                "FAIL" if sent else "STALE", port, path, type(e).__name__, last_idle_ms))
            conn.close()
            # The retry: the same request line at once, on a new connection.
            conn = http.client.HTTPConnection(args.host, args.port, timeout=5)
            conn.request("GET", path, headers={"User-Agent": "kapa-race-client/1"})
            rport = conn.sock.getsockname()[1]
            resp = conn.getresponse()
            resp.read()
            with lock:
                retries += 1
                requests += 1
            log("RETRY port=%d path=%s status=%d" % (rport, path, resp.status))
        # Idle around the server's limit: some reuses land just after its close.
        last_idle_ms = int(rnd.uniform(args.idle_lo, args.idle_hi))
        time.sleep(last_idle_ms / 1000.0)



def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("host")
    ap.add_argument("--port", type=int, default=80)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--races", type=int, default=12, help="stop after this many failures")
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--idle-lo", type=float, default=950.0, help="ms")
    ap.add_argument("--idle-hi", type=float, default=1050.0, help="ms")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    stop_at = time.monotonic() + args.duration
    threads = [threading.Thread(target=worker, args=(args, t, stop_at)) for t in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log("OK requests=%d failures=%d retries=%d" % (requests, failures, retries))
    return 0


if __name__ == "__main__":
    sys.exit(main())
