#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""An HTTP/1.1 server that announces `Keep-Alive: timeout=2, max=5` on every
response and enforces neither, so that what clients do with the hint shows.

It logs, one line each (read by race_compliance.sh as the truth):
  REQ port=P n=N gap_ms=G ua=TOKEN      request N (1-based) of the connection
                                        from client port P, G ms after the end
                                        of the previous response (-1: first)
  CLOSE port=P idle_ms=I                the client closed, I ms after the last
                                        response
"""
import argparse
import http.server
import socketserver
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        self.n = 0
        self.last_end = None

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        now = time.monotonic()
        self.n += 1
        gap = -1 if self.last_end is None else int((now - self.last_end) * 1000)
        ua = (self.headers.get("User-Agent") or "-").split("/")[0].split(" ")[0] or "-"
        print("REQ port=%d n=%d gap_ms=%d ua=%s" % (self.client_address[1], self.n, gap, ua),
              flush=True)
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Connection", "keep-alive")
        self.send_header("Keep-Alive", "timeout=2, max=5")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        self.last_end = time.monotonic()

    def finish(self):
        if self.last_end is not None:
            print("CLOSE port=%d idle_ms=%d" % (
                self.client_address[1], int((time.monotonic() - self.last_end) * 1000)),
                flush=True)
        super().finish()


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=80)
    args = ap.parse_args()
    srv = Server(("0.0.0.0", args.port), Handler)
    print("hint_server: listening on %d" % args.port, flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
