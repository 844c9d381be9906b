#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A deliberately slow HTTP backend for the end-to-end suite.

nginx (nginx.conf.in) proxies /slow/ to it, unbuffered, so that a client sees:

  GET /slow/headers?delay=S&size=N
      nothing for S seconds, then the response headers and N body bytes
      (Content-Length: N);
  GET /slow/stall?size=N&at=K&delay=S
      the headers (Content-Length: N) and the first K body bytes at once, then
      nothing for S seconds, then the remaining N-K bytes.

S may be fractional. Listens on 127.0.0.1 only (the server namespace's
loopback); prints one line "slow_backend: listening on 127.0.0.1:PORT" once it
accepts connections.

Usage: slow_backend.py --port PORT
"""

import argparse
import http.server
import sys
import time
import urllib.parse

PATTERN = b"kapa-e2e slow body "


def body_bytes(n):
    """n bytes of a fixed text pattern (readable in a capture)."""
    reps = n // len(PATTERN) + 1
    return (PATTERN * reps)[:n]


class SlowHandler(http.server.BaseHTTPRequestHandler):
    # HTTP/1.0: one request per upstream connection, nginx closes after it.
    protocol_version = "HTTP/1.0"
    server_version = "kapa-slow-backend"

    def _params(self):
        query = urllib.parse.urlsplit(self.path).query
        raw = urllib.parse.parse_qs(query)
        try:
            return {
                "delay": float(raw.get("delay", ["1"])[0]),
                "size": int(raw.get("size", ["100"])[0]),
                "at": int(raw.get("at", ["-1"])[0]),
            }
        except ValueError:
            return None

    def _headers(self, size):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        self.end_headers()

    def do_GET(self):  # noqa: N802 (http.server's name)
        path = urllib.parse.urlsplit(self.path).path
        p = self._params()
        if p is None or p["size"] < 0 or p["delay"] < 0:
            self.send_error(400, "bad delay/size/at")
            return
        body = body_bytes(p["size"])
        try:
            if path == "/slow/headers":
                time.sleep(p["delay"])
                self._headers(len(body))
                self.wfile.write(body)
            elif path == "/slow/stall":
                at = p["at"] if 0 <= p["at"] <= len(body) else len(body) // 2
                self._headers(len(body))
                self.wfile.write(body[:at])
                self.wfile.flush()
                time.sleep(p["delay"])
                self.wfile.write(body[at:])
            else:
                self.send_error(404, "try /slow/headers or /slow/stall")
        except (BrokenPipeError, ConnectionResetError):
            pass  # nginx gave up on us (its client went away): nothing to do

    def log_message(self, fmt, *args):
        sys.stderr.write("slow_backend: %s\n" % (fmt % args))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), SlowHandler)
    srv.daemon_threads = True
    print("slow_backend: listening on 127.0.0.1:%d" % args.port, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
