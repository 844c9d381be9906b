#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write a large classic pcap of HTTP/1.1 keep-alive connections (bench_inspect.sh).

    gen_keepalive_pcap.py OUT.pcap [--conns N] [--requests N] [--body BYTES]

Every connection (client 10.1.x.y, server 10.2.0.1:80) opens with a handshake,
carries --requests GET/200 exchanges on keep-alive (Connection: keep-alive,
Keep-Alive: timeout=5, max=100 in the responses; Content-Length bodies cut
into 1448-byte segments, the client acknowledging every second one) and
closes with FINs. All connections are open at once: the exchanges go round
the connections (request 1 of every connection, then request 2, ...), so
that the capture interleaves as a busy server's would. Timestamps advance
10 us per frame. Checksums are left zero (neither kapa-inspect nor tshark
checks them by default). The defaults give about 790 MB, 580K frames.
"""
import argparse
import struct
import sys

MSS = 1448
SERVER_IP = bytes([10, 2, 0, 1])
SERVER_PORT = 80
MAC_C = bytes.fromhex("020000000001")
MAC_S = bytes.fromhex("020000000002")

SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01


class Writer:
    def __init__(self, f):
        self.f = f
        self.buf = []
        self.ts_us = 1700000000 * 1000000
        self.frames = 0

    def frame(self, src_mac, dst_mac, src_ip, dst_ip, sport, dport, seq, ack, flags, payload):
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xffffffff, ack & 0xffffffff,
                          5 << 4, flags, 65535, 0, 0)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), 0, 0x4000,
                         64, 6, 0, src_ip, dst_ip)
        pkt = dst_mac + src_mac + b"\x08\x00" + ip + tcp + payload
        self.ts_us += 10
        self.buf.append(struct.pack("<IIII", self.ts_us // 1000000, self.ts_us % 1000000,
                                    len(pkt), len(pkt)))
        self.buf.append(pkt)
        self.frames += 1
        if len(self.buf) >= 4096:
            self.flush()

    def flush(self):
        self.f.write(b"".join(self.buf))
        self.buf = []


class Conn:
    def __init__(self, i):
        self.ip = bytes([10, 1, (i >> 8) & 0xff, i & 0xff])
        self.port = 10000 + i % 50000
        self.cseq = 1000 + i * 7919
        self.sseq = 5000000 + i * 104729

    def c2s(self, w, flags, payload=b""):
        w.frame(MAC_C, MAC_S, self.ip, SERVER_IP, self.port, SERVER_PORT,
                self.cseq, self.sseq, flags, payload)
        self.cseq += len(payload) + (1 if flags & (SYN | FIN) else 0)

    def s2c(self, w, flags, payload=b""):
        w.frame(MAC_S, MAC_C, SERVER_IP, self.ip, SERVER_PORT, self.port,
                self.sseq, self.cseq, flags, payload)
        self.sseq += len(payload) + (1 if flags & (SYN | FIN) else 0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--conns", type=int, default=2000)
    ap.add_argument("--requests", type=int, default=6)
    ap.add_argument("--body", type=int, default=64 * 1024)
    a = ap.parse_args()
    if not 1 <= a.conns <= 65000 or a.requests < 1 or a.body < 0:
        sys.exit("gen_keepalive_pcap: --conns 1..65000, --requests >= 1, --body >= 0")

    body = bytes((i * 31 + 7) & 0x7f | 0x20 for i in range(a.body))
    head = ("HTTP/1.1 200 OK\r\nServer: gen\r\nContent-Type: application/octet-stream\r\n"
            "Content-Length: %d\r\nConnection: keep-alive\r\n"
            "Keep-Alive: timeout=5, max=100\r\n\r\n" % a.body).encode()
    response = head + body
    with open(a.out, "wb") as f:
        w = Writer(f)
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
        conns = [Conn(i) for i in range(a.conns)]
        for c in conns:
            c.c2s(w, SYN)
            c.s2c(w, SYN | ACK)
            c.c2s(w, ACK)
        for r in range(a.requests):
            for i, c in enumerate(conns):
                c.c2s(w, PSH | ACK, b"GET /obj/%d/%d HTTP/1.1\r\nHost: origin.example\r\n"
                      b"User-Agent: gen\r\nConnection: keep-alive\r\n\r\n" % (i, r))
                for k, off in enumerate(range(0, len(response), MSS)):
                    c.s2c(w, PSH | ACK if off + MSS >= len(response) else ACK,
                          response[off:off + MSS])
                    if k % 2 == 1:
                        c.c2s(w, ACK)
        for c in conns:
            c.c2s(w, FIN | ACK)
            c.s2c(w, FIN | ACK)
            c.c2s(w, ACK)
        w.flush()
    print("%s: %d connections x %d requests, %d frames" % (a.out, a.conns, a.requests, w.frames))


if __name__ == "__main__":
    main()
