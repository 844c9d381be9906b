#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""One ICMP/ICMPv6 echo: exit 0 when ADDR answers within --timeout seconds.

This machine has no ping (iputils-ping is not installed); lib.sh's
e2e_wait_path uses this instead. Raw sockets: needs root (the suite has it).

Usage: ping.py ADDR [--timeout S]
"""

import argparse
import ipaddress
import os
import select
import socket
import struct
import sys
import time


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def echo(addr, timeout):
    v6 = addr.version == 6
    if v6:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        req_type, rep_type = 128, 129
    else:
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        req_type, rep_type = 8, 0
    ident, seq = os.getpid() & 0xFFFF, 1
    payload = b"kapa-e2e ping"
    msg = struct.pack("!BBHHH", req_type, 0, 0, ident, seq) + payload
    if not v6:  # the kernel computes ICMPv6 checksums itself
        msg = msg[:2] + struct.pack("!H", checksum(msg)) + msg[4:]
    sock.sendto(msg, (str(addr), 0))
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([sock], [], [], left)[0]:
            return False
        data, src = sock.recvfrom(2048)
        if not v6:
            data = data[(data[0] & 0x0F) * 4:]  # IPv4 raw sockets include the header
        if len(data) < 8 or ipaddress.ip_address(src[0].split("%")[0]) != addr:
            continue
        typ, _, _, rid, rseq = struct.unpack("!BBHHH", data[:8])
        if typ == rep_type and rid == ident and rseq == seq:
            return True


def main():
    ap = argparse.ArgumentParser(description="one ICMP echo")
    ap.add_argument("addr", type=ipaddress.ip_address)
    ap.add_argument("--timeout", type=float, default=1.0)
    args = ap.parse_args()
    try:
        return 0 if echo(args.addr, args.timeout) else 1
    except OSError as e:
        sys.stderr.write("ping.py: %s: %s\n" % (args.addr, e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
