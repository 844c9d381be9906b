#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A keep-alive HTTP/1.x client that reports what happened to each request.

curl, wrk and ab say how many requests succeeded; the e2e tests also need to
know, for every request, which connection carried it, the Connection and
Keep-Alive fields of its response exactly as they arrived, whether the body
was byte-exact, and whether a kept-alive connection was reset (and when).

Usage: http_client.py ADDR [--port P] [--http10] [--ignore-close] [--retry]
                      [--www DIR] [--timeout S] STEP...

STEP is one of
  /PATH      GET /PATH on the current connection (one is opened when there is
             none); then, unless --ignore-close, the connection is closed when
             the response says so (Connection: close; an HTTP/1.0 response
             without Connection: keep-alive)
  sleep=S    wait S seconds, the connection kept open
  probe      report whether the idle connection is still open ("open"), was
             reset ("reset") or closed by a FIN ("fin"), without sending; one
             that is not open is closed (the next request opens a new one)
  close      close the current connection (FIN)

One JSON object a line on stdout:
  {"n": 1, "path": "/size/1448", "conn": 1, "reused": false, "status": 200,
   "version": "HTTP/1.1", "connection": "keep-alive", "keep_alive":
   "timeout=9, max=2", "len": 1448, "body_ok": true, "error": null}
connection and keep_alive are the fields' values as sent (several lines joined
with ", "), null when absent; body_ok compares the body with the file of that
path under --www (null when there is no such file); error is "reset" (ECONNRESET
or EPIPE), "closed" (EOF before a complete response) or "timeout". A failed
request on a reused connection is retried once on a new one with --retry (as
curl does), which prints a second object for the same n.
  {"probe": "open"|"reset"|"fin", "conn": C, "at": SECONDS}
  {"summary": {"requests": N, "ok": K, "errors": E, "connections": C}}
Exit status 0 when every request got a response (retries included), 1 if not,
2 on bad usage. --http10 sends HTTP/1.0 requests with Connection: keep-alive.
"""

import argparse
import errno
import json
import os
import select
import socket
import sys
import time


class RequestError(Exception):
    def __init__(self, kind):
        super().__init__(kind)
        self.kind = kind


def classify(exc):
    if isinstance(exc, socket.timeout):
        return "timeout"
    if isinstance(exc, (ConnectionResetError, BrokenPipeError)):
        return "reset"
    if isinstance(exc, OSError) and exc.errno in (errno.ECONNRESET, errno.EPIPE):
        return "reset"
    return "error:%s" % exc


class Conn:
    def __init__(self, addr, port, timeout, number):
        family = socket.AF_INET6 if ":" in addr else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect((addr, port))
        self.number = number
        self.used = 0
        self.buf = b""

    def recv_more(self):
        try:
            data = self.sock.recv(65536)
        except OSError as e:
            raise RequestError(classify(e)) from e
        if not data:
            raise RequestError("closed")
        self.buf += data

    def read_response(self):
        while b"\r\n\r\n" not in self.buf:
            self.recv_more()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        version, status = lines[0].split(" ", 2)[:2]
        fields = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            fields.setdefault(name.strip().lower(), []).append(value.strip())
        length = fields.get("content-length")
        if length is not None:
            n = int(length[0])
            while len(self.buf) < n:
                self.recv_more()
            body, self.buf = self.buf[:n], self.buf[n:]
        else:  # close-delimited
            try:
                while True:
                    self.recv_more()
            except RequestError as e:
                if e.kind != "closed":
                    raise
            body, self.buf = self.buf, b""
        return version, int(status), fields, body

    def probe(self):
        """open / reset / fin, without sending anything."""
        r, _, _ = select.select([self.sock], [], [], 0)
        if not r:
            return "open"
        try:
            data = self.sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except OSError as e:
            return "reset" if classify(e) == "reset" else classify(e)
        return "fin" if not data else "data"

    def close(self):
        self.sock.close()


def expected_body(www, path):
    if not www:
        return None
    f = os.path.join(www, path.split("?")[0].lstrip("/"))
    if path.endswith("/"):
        f = os.path.join(f, "index.html")
    try:
        with open(f, "rb") as fh:
            return fh.read()
    except OSError:
        return None


def joined(fields, name):
    v = fields.get(name)
    return None if v is None else ", ".join(v)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("addr")
    ap.add_argument("--port", type=int, default=80)
    ap.add_argument("--http10", action="store_true")
    ap.add_argument("--ignore-close", action="store_true")
    ap.add_argument("--retry", action="store_true")
    ap.add_argument("--www")
    ap.add_argument("--timeout", type=float, default=15)
    ap.add_argument("steps", nargs="+")
    a = ap.parse_args()

    host = "[%s]" % a.addr if ":" in a.addr else a.addr
    t0 = time.monotonic()
    conn = None
    nconns = 0
    stats = {"requests": 0, "ok": 0, "errors": 0}
    out = sys.stdout

    def emit(obj):
        out.write(json.dumps(obj, sort_keys=True) + "\n")
        out.flush()

    def request(n, path):
        nonlocal conn, nconns
        if conn is None:
            nconns += 1
            try:
                conn = Conn(a.addr, a.port, a.timeout, nconns)
            except OSError as e:
                return {"n": n, "path": path, "conn": nconns, "reused": False,
                        "error": "connect:%s" % classify(e)}
        rec = {"n": n, "path": path, "conn": conn.number, "reused": conn.used > 0,
               "at": round(time.monotonic() - t0, 3)}
        if a.http10:
            req = "GET %s HTTP/1.0\r\nHost: %s\r\nConnection: keep-alive\r\n" % (path, host)
        else:
            req = "GET %s HTTP/1.1\r\nHost: %s\r\n" % (path, host)
        req += "User-Agent: kapa-e2e-http-client\r\n\r\n"
        conn.used += 1
        try:
            try:
                conn.sock.sendall(req.encode())
            except OSError as e:
                raise RequestError(classify(e)) from e
            version, status, fields, body = conn.read_response()
        except RequestError as e:
            rec["error"] = e.kind
            conn.close()
            conn = None
            return rec
        want = expected_body(a.www, path)
        rec.update({"version": version, "status": status,
                    "connection": joined(fields, "connection"),
                    "keep_alive": joined(fields, "keep-alive"),
                    "len": len(body), "error": None,
                    "body_ok": None if want is None else body == want})
        tokens = [t.strip().lower() for t in (rec["connection"] or "").split(",")]
        closes = "close" in tokens or (version == "HTTP/1.0" and "keep-alive" not in tokens)
        if closes and not a.ignore_close:
            conn.close()
            conn = None
        return rec

    n = 0
    for step in a.steps:
        if step.startswith("/"):
            n += 1
            rec = request(n, step)
            if rec["error"] and rec["reused"] and a.retry:
                emit(rec)
                rec = request(n, step)
            emit(rec)
            stats["requests"] += 1
            if rec["error"]:
                stats["errors"] += 1
            else:
                stats["ok"] += 1
        elif step.startswith("sleep="):
            time.sleep(float(step[6:]))
        elif step == "probe":
            state = conn.probe() if conn else "none"
            emit({"probe": state, "conn": conn.number if conn else None,
                  "at": round(time.monotonic() - t0, 3)})
            if conn and state != "open":  # as curl does: a new one next time
                conn.close()
                conn = None
        elif step == "close":
            if conn:
                conn.close()
                conn = None
        else:
            sys.stderr.write("http_client: unknown step %r\n" % step)
            return 2
    if conn:
        conn.close()
    stats["connections"] = nconns
    emit({"summary": stats})
    return 0 if stats["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
