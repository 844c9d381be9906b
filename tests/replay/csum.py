#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""kapa-inspect --verify-checksums on a capture written here.

One connection, IPv4 or IPv6: the handshake, then a client segment whose TCP
checksum is wrong carrying two requests (/bad1, /bad2), then the good copy of
the same bytes' place with one request (/good, the same length), a response
and its ACK. The server never saw the bad segment, so

  - with --verify-checksums: one request, /good, paired with the response;
    the report says one segment ignored for its checksum;
  - without (the default): today's answer, the first copy wins: /bad1 and
    /bad2, the response paired with /bad1; no checksum line in the report.

Usage: csum.py --inspect KAPA_INSPECT
Exit status 0 when every check holds, 1 otherwise (each failure printed).
"""
import argparse
import ipaddress
import json
import os
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import replay  # noqa: E402  (the checksums of the frames it writes)

BAD = b"GET /bad1 HTTP/1.1\r\nHost: x\r\n\r\nGET /bad2 HTTP/1.1\r\nHost: x\r\n\r\n"
GOOD = b"GET /good HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"p" * 22 + b"\r\n\r\n"
RESP = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
assert len(BAD) == len(GOOD), (len(BAD), len(GOOD))

ADDRS = {
    4: ("198.18.0.1", "198.18.0.2"),
    6: ("2001:db8::1", "2001:db8::2"),
}


def frame(family, src, dst, sport, dport, seq, ack, flags, payload=b"", wrong=False):
    """An Ethernet frame with the IP and TCP checksums filled (the TCP one
    made wrong when asked)."""
    s = ipaddress.ip_address(src).packed
    d = ipaddress.ip_address(dst).packed
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    seg = tcp + payload
    if family == 4:
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(seg), 1, 0x4000, 64, 6, 0, s, d)
        ip = ip[:10] + struct.pack("!H", replay.ip4_checksum(ip)) + ip[12:]
        etype = 0x0800
    else:
        ip = struct.pack("!IHBB16s16s", 6 << 28, len(seg), 6, 64, s, d)
        etype = 0x86DD
    c = replay.tcp_checksum(family == 6, ip, seg)
    if wrong:
        c ^= 0x1234
    seg = seg[:16] + struct.pack("!H", c) + seg[18:]
    return b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + struct.pack("!H", etype) + ip + seg


def capture(family, path):
    cli, srv = ADDRS[family]
    cisn, sisn = 1000, 5000
    A, S, P = 0x10, 0x02, 0x18
    c2s = lambda *a, **k: frame(family, cli, srv, 40000, 80, *a, **k)
    s2c = lambda *a, **k: frame(family, srv, cli, 80, 40000, *a, **k)
    frames = [
        c2s(cisn, 0, S),
        s2c(sisn, cisn + 1, S | A),
        c2s(cisn + 1, sisn + 1, A),
        c2s(cisn + 1, sisn + 1, P, BAD, wrong=True),     # frame 4: dropped by the server
        c2s(cisn + 1, sisn + 1, P, GOOD),                # frame 5: the copy it took
        s2c(sisn + 1, cisn + 1 + len(GOOD), P, RESP),    # frame 6
        c2s(cisn + 1 + len(GOOD), sisn + 1 + len(RESP), A),
    ]
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000, i * 1000, len(fr), len(fr)))
            f.write(fr)


def run(inspect, args):
    p = subprocess.run([inspect] + args, capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError("%s %s: exit %d: %s" % (inspect, " ".join(args), p.returncode,
                                                    p.stderr.strip()))
    return p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--inspect", required=True)
    a = ap.parse_args()
    failures = []

    def check(what, got, want):
        if got != want:
            failures.append("%s: got %r, want %r" % (what, got, want))

    with tempfile.TemporaryDirectory() as tmp:
        for family in (4, 6):
            path = os.path.join(tmp, "csum%d.pcap" % family)
            capture(family, path)
            for verify in (True, False):
                opt = ["--verify-checksums"] if verify else []
                name = "IPv%d %s" % (family, "--verify-checksums" if verify else "default")
                msgs = [json.loads(l) for l in run(a.inspect, opt + ["--json", path]).splitlines()]
                reqs = [m for m in msgs if m.get("dir") == "request"]
                rsps = [m for m in msgs if m.get("dir") == "response"]
                if verify:
                    check(name + " request targets", [m["target"] for m in reqs], ["/good"])
                    check(name + " request frame", [m["frame"] for m in reqs], [5])
                else:
                    check(name + " request targets", [m["target"] for m in reqs],
                          ["/bad1", "/bad2"])
                    check(name + " request frames", [m["frame"] for m in reqs], [4, 4])
                check(name + " responses", [(m["status"], m["index"], "pair_unsure" in m)
                                            for m in rsps], [(200, 0, False)])
                report = run(a.inspect, opt + [path])
                line = [l for l in report.splitlines() if l.startswith("TCP checksums")]
                if verify:
                    check(name + " report", line,
                          ["TCP checksums          7 verified, 1 bad: ignored "
                           "(forwarded, not used)"])
                else:
                    check(name + " report", line, [])
                check(name + " report requests",
                      [l for l in report.splitlines() if l.startswith("messages  ")],
                      ["messages               %d requests, 1 final responses, 0 interim (1xx)"
                       % (1 if verify else 2)])
    for f in failures:
        print("FAIL", f)
    if not failures:
        print("ok: 2 families x 2 modes")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
