#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""
Differential test: kapa counts a request wherever an origin server serves it.

A table of request variants (VARIANTS: whitespace, case, line endings,
folding, duplicate and conflicting Content-Length / Transfer-Encoding,
Connection token lists, HTTP/1.0 and 1.1, absolute-form targets,
pipelining) is sent to Debian's nginx and HAProxy, each variant over one
connection of its own, in a network namespace this test creates (lo,
198.18.0.1 client, 198.18.0.2 servers). dumpcap captures lo; kapa-inspect
--json reads the capture. Per server and variant:

  answered  responses the client received (framed by Content-Length)
  served    requests the server logged with a status below 400
  logged    requests the server logged
  kapa_req  requests kapa-inspect reported on that connection
  kapa_resp responses kapa-inspect reported

A variant agrees when served <= kapa_req (no request a server ran escapes
kapa's count) and kapa_resp == answered. Every other outcome must be listed
in KNOWN with its reason (docs/core-http.md, "Differential test against
nginx and HAProxy"); a listed difference that no longer occurs fails too, so the list stays
true. Each variant ends with a well-formed `Connection: close` request, so
that the server closes and a desynchronised parser shows.

Needs root (a namespace), nginx, haproxy, dumpcap, ip. A missing
precondition fails; nothing skips. Every process started is stopped by its
pid, the namespace and the directory removed, on success and on failure
(--keep keeps the directory).

    server_diff.py --inspect BUILD/dataplane/inspect/kapa-inspect [--table]
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

CLIENT = "198.18.0.1"
SERVER = "198.18.0.2"
PORTS = {"nginx": 8080, "haproxy": 8081}

H = b"Host: t\r\n"
CLOSE = b"GET /end HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"


def req(line, fields=b"", body=b"", eol=b"\r\n"):
    """A request: its start line, Host, the fields, the empty line, body."""
    return line + eol + H.replace(b"\r\n", eol) + fields + eol + body


# (name, bytes sent before the closing request). Each is one connection.
VARIANTS = [
    ("plain", req(b"GET /a HTTP/1.1")),
    ("ws-run method-target (8 SP)", req(b"GET        /x HTTP/1.1")),
    ("ws-run both (2 SP)", req(b"GET  /  HTTP/1.1")),
    ("ws-run target-version", req(b"GET /x   HTTP/1.1")),
    ("ws-run 50 SP", req(b"GET" + b" " * 50 + b"/x HTTP/1.1")),
    ("trailing SP", req(b"GET /x HTTP/1.1 ")),
    ("trailing 3 SP", req(b"GET /x HTTP/1.1   ")),
    ("HTAB separators", req(b"GET\t/x\tHTTP/1.1")),
    ("HTAB trailing", req(b"GET /x HTTP/1.1\t")),
    ("SP HTAB mixed run", req(b"GET \t /x HTTP/1.1")),
    ("leading CRLF", b"\r\n" + req(b"GET /x HTTP/1.1")),
    ("leading 3 CRLF", b"\r\n\r\n\r\n" + req(b"GET /x HTTP/1.1")),
    ("leading bare LF", b"\n\n" + req(b"GET /x HTTP/1.1")),
    ("bare LF everywhere", req(b"GET /x HTTP/1.1", b"X-A: 1\n", eol=b"\n")),
    ("bare LF start line only", b"GET /x HTTP/1.1\n" + H + b"\r\n"),
    ("CRLF between pipelined", req(b"GET /1 HTTP/1.1") + b"\r\n\r\n" + req(b"GET /2 HTTP/1.1")),
    ("lower-case method", req(b"get /x HTTP/1.1")),
    ("lower-case version", req(b"GET /x http/1.1")),
    ("version HTTP/1.10", req(b"GET /x HTTP/1.10")),
    ("version HTTP/01.1", req(b"GET /x HTTP/01.1")),
    ("version HTTP/2.0", req(b"GET /x HTTP/2.0")),
    ("HTTP/1.0 keep-alive", req(b"GET /x HTTP/1.0", b"Connection: keep-alive\r\n")),
    ("HTTP/1.0 plain (closes)", req(b"GET /x HTTP/1.0")),
    ("HTTP/0.9 simple", b"GET /x\r\n"),
    ("absolute-form", req(b"GET http://t/x HTTP/1.1")),
    ("absolute-form with port", req(b"GET http://t:8080/x?q=1 HTTP/1.1")),
    ("OPTIONS *", req(b"OPTIONS * HTTP/1.1")),
    ("HEAD", req(b"HEAD /x HTTP/1.1")),
    ("field names in odd case", b"GET /x HTTP/1.1\r\nHOST: t\r\ncOnNeCtIoN: keep-alive\r\n\r\n"),
    ("Connection token list", req(b"GET /x HTTP/1.1", b"Connection: foo, keep-alive, bar\r\n")),
    ("Connection close, keep-alive (closes)", req(b"GET /x HTTP/1.1", b"Connection: close, keep-alive\r\n")),
    ("Connection on two lines", req(b"GET /x HTTP/1.1", b"Connection: keep-alive\r\nConnection: x-a\r\n")),
    ("Connection: CLOSE (closes)", req(b"GET /x HTTP/1.1", b"Connection: CLOSE\r\n")),
    ("obs-fold other field", req(b"GET /x HTTP/1.1", b"X-A: 1\r\n  2\r\n")),
    ("obs-fold Connection", req(b"GET /x HTTP/1.1", b"Connection: keep-alive,\r\n x-a\r\n")),
    ("obs-fold Content-Length", req(b"POST /x HTTP/1.1", b"Content-Length:\r\n 3\r\n", b"abc")),
    ("POST Content-Length", req(b"POST /x HTTP/1.1", b"Content-Length: 3\r\n", b"abc")),
    ("Content-Length twice, equal", req(b"POST /x HTTP/1.1", b"Content-Length: 3\r\nContent-Length: 3\r\n", b"abc")),
    ("Content-Length twice, differ", req(b"POST /x HTTP/1.1", b"Content-Length: 3\r\nContent-Length: 4\r\n", b"abcd")),
    ("Content-Length list 3, 3", req(b"POST /x HTTP/1.1", b"Content-Length: 3, 3\r\n", b"abc")),
    ("Content-Length +3", req(b"POST /x HTTP/1.1", b"Content-Length: +3\r\n", b"abc")),
    ("Content-Length with TE chunked", req(b"POST /x HTTP/1.1", b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n", b"3\r\nabc\r\n0\r\n\r\n")),
    ("TE chunked", req(b"POST /x HTTP/1.1", b"Transfer-Encoding: chunked\r\n", b"3\r\nabc\r\n0\r\n\r\n")),
    ("TE CHUNKED upper case", req(b"POST /x HTTP/1.1", b"Transfer-Encoding: CHUNKED\r\n", b"3\r\nabc\r\n0\r\n\r\n")),
    ("TE chunked twice", req(b"POST /x HTTP/1.1", b"Transfer-Encoding: chunked, chunked\r\n", b"3\r\nabc\r\n0\r\n\r\n")),
    ("TE gzip (not chunked)", req(b"POST /x HTTP/1.1", b"Transfer-Encoding: gzip\r\n", b"abc")),
    ("TE on HTTP/1.0", req(b"POST /x HTTP/1.0", b"Transfer-Encoding: chunked\r\nConnection: keep-alive\r\n", b"3\r\nabc\r\n0\r\n\r\n")),
    ("SP before colon, Content-Length", req(b"POST /x HTTP/1.1", b"Content-Length : 3\r\n", b"abc")),
    ("SP before colon, other field", req(b"GET /x HTTP/1.1", b"X-A : 1\r\n")),
    ("bare CR in a field", req(b"GET /x HTTP/1.1", b"X-A: a\rb\r\n")),
    ("whitespace before the first field", b"GET /x HTTP/1.1\r\n X-A: 1\r\n" + H + b"\r\n"),
    ("Expect: 100-continue", req(b"POST /x HTTP/1.1", b"Content-Length: 3\r\nExpect: 100-continue\r\n", b"abc")),
    ("pipelined 3", req(b"GET /1 HTTP/1.1") + req(b"GET /2 HTTP/1.1") + req(b"GET /3 HTTP/1.1")),
    ("pipelined, ws-run in the middle", req(b"GET /1 HTTP/1.1") + req(b"GET  /2  HTTP/1.1") + req(b"GET /3 HTTP/1.1")),
    ("pipelined POST then GET", req(b"POST /1 HTTP/1.1", b"Content-Length: 2\r\n", b"hi") + req(b"GET /2 HTTP/1.1")),
]

# (server, variant) -> reason: the differences that are not kapa bugs
# (docs/core-http.md, "Differential test against nginx and HAProxy").
# Every one is a connection kapa leaves because its framing could be read two ways (request smuggling's ground):
# kapa reports the request when its header block reads (else not), counts
# the leave reason, and from there the connection is opaque to it (its
# opaque_idle limit applies), so the server's answer and anything after it
# are not reported.
_FOLD = ("obs-fold in a framing field: leave obs-fold before the request is "
         "reported; nginx refuses it (400), HAProxy unfolds it and serves: which "
         "one is behind kapa cannot be known, so kapa does not guess")
_REFUSED = ("framing refused by the server too (%s): kapa reports the request, "
            "leaves (%s); the server's error response comes after the leave")
_CLTE = ("Content-Length with Transfer-Encoding: nginx refuses it (400), HAProxy "
         "serves it by the chunked body and closes; kapa reports the request and "
         "leaves (cl-te): never 'TE wins', the next hop may read CL")
_TE10 = ("Transfer-Encoding on HTTP/1.0 (RFC 9112 §6.1: faulty framing): nginx "
         "refuses it, HAProxy serves it chunked and closes; kapa reports the "
         "request and leaves (bad-te)")
_SPCOLON = ("whitespace before the colon of Content-Length: both servers refuse it "
            "(400); kapa leaves (bad-field) without reporting it; nothing served")
_WSFIELD = ("a line starting with whitespace right after the request line: both "
            "servers refuse it (400); kapa leaves (bad-field); nothing served")
KNOWN = {}
for _srv in ("nginx", "haproxy"):
    KNOWN[(_srv, "obs-fold Connection")] = _FOLD
    KNOWN[(_srv, "obs-fold Content-Length")] = _FOLD
    KNOWN[(_srv, "Content-Length twice, differ")] = _REFUSED % ("400", "bad-cl")
    KNOWN[(_srv, "Content-Length +3")] = _REFUSED % ("400", "bad-cl")
    KNOWN[(_srv, "TE chunked twice")] = _REFUSED % ("nginx 501, HAProxy 400", "bad-te")
    KNOWN[(_srv, "TE gzip (not chunked)")] = _REFUSED % ("nginx 501, HAProxy 400", "bad-te")
    KNOWN[(_srv, "Content-Length with TE chunked")] = _CLTE
    KNOWN[(_srv, "TE on HTTP/1.0")] = _TE10
    KNOWN[(_srv, "SP before colon, Content-Length")] = _SPCOLON
    KNOWN[(_srv, "whitespace before the first field")] = _WSFIELD


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


class Run:
    """Everything the test made, undone by cleanup() whatever happened."""

    def __init__(self, keep):
        self.keep = keep
        self.ns = "kdiff%d" % os.getpid()
        self.dir = tempfile.mkdtemp(prefix="kapa-server-diff-")
        os.chmod(self.dir, 0o755)
        self.procs = []  # (name, Popen)
        self.ns_made = False

    def sh(self, *argv, **kw):
        return subprocess.run(list(argv), check=True, **kw)

    def in_ns(self, *argv):
        return ["ip", "netns", "exec", self.ns] + list(argv)

    def spawn(self, name, argv, out):
        f = open(os.path.join(self.dir, out), "wb")
        p = subprocess.Popen(self.in_ns(*argv), stdout=f, stderr=subprocess.STDOUT,
                             start_new_session=True)
        self.procs.append((name, p))
        return p

    def stop(self, name):
        for n, p in list(self.procs):
            if n != name:
                continue
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
            self.procs.remove((n, p))

    def cleanup(self):
        for n, _ in list(self.procs):
            self.stop(n)
        if self.ns_made:
            subprocess.run(["ip", "netns", "delete", self.ns], check=False)
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            print("kept " + self.dir)


def preconditions():
    if os.geteuid() != 0:
        fail("precondition: root is needed (a network namespace); run with sudo")
    for cmd in ("ip", "nginx", "haproxy", "dumpcap"):
        if shutil.which(cmd) is None:
            fail("precondition: %s not found (scripts/debian-packages.txt lists its package)" % cmd)


NGINX_CONF = """
user root;
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log info;
events {{ worker_connections 64; }}
http {{
	server_tokens off;
	keepalive_timeout 30s;
	keepalive_requests 1000;
	client_body_temp_path {dir}/tmp;
	log_format diff 'cport=$remote_port status=$status request="$request"';
	access_log {dir}/nginx-access.log diff;
	server {{
		listen {srv}:{port};
		location / {{ return 200 "ok\\n"; }}
	}}
}}
"""

HAPROXY_CONF = """
global
	log stdout format raw local0
defaults
	mode http
	log global
	log-format "cport=%cp status=%ST request=%{{+Q}}r"
	timeout connect 5s
	timeout client 30s
	timeout server 30s
frontend diff
	bind {srv}:{port}
	http-request return status 200 content-type text/plain string ok
"""


def wait_listen(run, port):
    for _ in range(100):
        r = subprocess.run(run.in_ns("ss", "-Hltn", "sport = :%d" % port),
                           capture_output=True, text=True)
        if r.stdout.strip():
            return
        time.sleep(0.1)
    fail("server on port %d did not start (see %s)" % (port, run.dir))


def setup(run):
    run.sh("ip", "netns", "add", run.ns)
    run.ns_made = True
    run.sh("ip", "-n", run.ns, "link", "set", "lo", "up")
    for a in (CLIENT, SERVER):
        run.sh("ip", "-n", run.ns, "addr", "add", a + "/32", "dev", "lo")
    os.mkdir(os.path.join(run.dir, "tmp"))
    with open(os.path.join(run.dir, "nginx.conf"), "w") as f:
        f.write(NGINX_CONF.format(dir=run.dir, srv=SERVER, port=PORTS["nginx"]))
    with open(os.path.join(run.dir, "haproxy.cfg"), "w") as f:
        f.write(HAPROXY_CONF.format(srv=SERVER, port=PORTS["haproxy"]))
    run.spawn("nginx", ["nginx", "-c", os.path.join(run.dir, "nginx.conf")], "nginx.out")
    run.spawn("haproxy", ["haproxy", "-db", "-f", os.path.join(run.dir, "haproxy.cfg")],
              "haproxy.log")
    for port in PORTS.values():
        wait_listen(run, port)
    cap = os.path.join(run.dir, "lo.pcap")
    run.spawn("dumpcap", ["dumpcap", "-i", "lo", "-P", "-f", "tcp", "-w", cap], "dumpcap.out")
    for _ in range(100):
        if os.path.exists(cap) and os.path.getsize(cap) > 0:
            break
        time.sleep(0.1)
    else:
        fail("dumpcap did not start (see %s)" % run.dir)
    time.sleep(0.5)
    return cap


CLIENT_CODE = r"""
import json, socket, sys, time
srv, ports = sys.argv[1], json.loads(sys.argv[2])
jobs = json.loads(sys.stdin.read())
out = []
for server, i, data in jobs:
    s = socket.socket()
    # A port of its own per connection: the logs and the capture are
    # matched by client port, and an ephemeral one may come back.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("198.18.0.1", 20000 + 1000 * list(ports).index(server) + i))
    s.connect((srv, ports[server]))
    cport = s.getsockname()[1]
    s.sendall(bytes.fromhex(data))
    s.settimeout(1.0)
    got = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
    except (socket.timeout, ConnectionResetError):
        pass
    s.close()
    out.append([server, i, cport, got.hex()])
print(json.dumps(out))
"""


def count_responses(b):
    """Responses in what a client received. Bodies framed by
    Content-Length (both servers send it); no body for 1xx, 204, 304, or
    when the next bytes start a response (the answer to a HEAD)."""
    n = 0
    while b.startswith(b"HTTP/"):
        end = b.find(b"\r\n\r\n")
        if end < 0:
            break
        head = b[:end].split(b"\r\n")
        status = int(head[0].split()[1])
        cl = 0
        for line in head[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                cl = int(v.strip())
        n += 1
        b = b[end + 4:]
        if status < 200 or status in (204, 304) or b.startswith(b"HTTP/1."):
            continue
        b = b[cl:]
    return n


def read_log(path):
    """cport -> [status, ...] from a log of cport=N status=N request=...
    lines (HAProxy writes one line per request, and <BADREQ> ones)."""
    by = {}
    if not os.path.exists(path):
        return by
    with open(path, errors="replace") as f:
        for line in f:
            if not line.startswith("cport="):
                continue
            parts = dict(x.split("=", 1) for x in line.split()[:2])
            by.setdefault(int(parts["cport"]), []).append(int(parts["status"]))
    return by


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--inspect", required=True)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--table", action="store_true", help="print the table as Markdown")
    a = ap.parse_args()
    preconditions()
    if not os.access(a.inspect, os.X_OK):
        fail("precondition: kapa-inspect %s is not executable" % a.inspect)
    run = Run(a.keep)
    try:
        return test(run, a)
    finally:
        run.cleanup()


def test(run, a):
    cap = setup(run)
    jobs = [[srv, i, (v + CLOSE).hex()] for srv in PORTS for i, (_, v) in enumerate(VARIANTS)]
    r = subprocess.run(run.in_ns(sys.executable, "-c", CLIENT_CODE, SERVER, json.dumps(PORTS)),
                       input=json.dumps(jobs), capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        fail("client: " + r.stderr)
    results = json.loads(r.stdout)
    time.sleep(0.5)
    run.stop("dumpcap")
    run.stop("nginx")
    run.stop("haproxy")
    logs = {"nginx": read_log(os.path.join(run.dir, "nginx-access.log")),
            "haproxy": read_log(os.path.join(run.dir, "haproxy.log"))}
    ins = subprocess.run([a.inspect, "--json", cap], capture_output=True, text=True)
    if ins.returncode != 0:
        fail("kapa-inspect: " + ins.stderr)
    kapa = {}
    for line in ins.stdout.splitlines():
        o = json.loads(line)
        if "dir" not in o:
            continue
        cport = int(o["flow"].split(" > ")[0].rsplit(":", 1)[1])
        k = kapa.setdefault(cport, {"request": 0, "response": 0, "tolerated": set()})
        k[o["dir"]] += 1
        k["tolerated"].update(o.get("tolerated", []))
    rows, bad, seen_known = [], [], set()
    for srv, i, cport, got in results:
        name = VARIANTS[i][0]
        answered = count_responses(bytes.fromhex(got))
        st = logs[srv].get(cport, [])
        served = sum(1 for s in st if s < 400)
        k = kapa.get(cport, {"request": 0, "response": 0, "tolerated": set()})
        ok = served <= k["request"] and k["response"] == answered
        row = [srv, name, answered, served, len(st), k["request"], k["response"],
               ",".join(sorted(k["tolerated"])) or "-", ",".join(str(s) for s in st)]
        key = (srv, name)
        if key in KNOWN:
            seen_known.add(key)
            if ok:
                bad.append("listed difference no longer occurs: %s / %s" % key)
            row.append("known: " + KNOWN[key])
        elif not ok:
            bad.append("%s / %s: answered %d served %d logged %d, kapa requests %d responses %d"
                       % (srv, name, answered, served, len(st), k["request"], k["response"]))
            row.append("DIFFERENCE")
        else:
            row.append("")
        rows.append(row)
    if a.table:
        print("| server | variant | answered | served | logged | kapa req | kapa resp | tolerated | statuses | note |")
        print("|---|---|---:|---:|---:|---:|---:|---|---|---|")
        for row in rows:
            print("| " + " | ".join(str(x) for x in row) + " |")
    for key in KNOWN:
        if key not in seen_known:
            bad.append("listed variant not in the table: %s / %s" % key)
    for b in bad:
        print("FAIL: " + b, file=sys.stderr)
    print("%d variants x %d servers, %d differences unexplained"
          % (len(VARIANTS), len(PORTS), len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
