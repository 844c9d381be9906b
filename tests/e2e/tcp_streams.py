#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Compare the TCP byte streams of two captures, connection by connection.

Usage: tcp_streams.py A B [--drop REGEX] [--expect-dropped N]

A and B are pcap or pcapng files of the same traffic at two points (e.g. what
the client namespace saw and what the server namespace saw, with kapa-dp
between them). Every TCP connection is reassembled in both directions from
its sequence numbers (each direction from its SYN, else from its first
segment; retransmitted bytes must repeat what was sent before), and each
direction's bytes in A must equal those in B. Frame boundaries, sequence
numbers and acknowledgements may differ (kapa's insertions split segments and
shift sequence numbers): only the application's bytes count.

--drop REGEX (Python bytes regex, multiline) removes every match from A's
streams before the comparison: what kapa-dp was expected to add, e.g.
'^Keep-Alive: timeout=\\d+, max=\\d+\\r\\n'. --expect-dropped N fails unless
exactly N matches were removed.

Exit 0 when every connection is in both captures with equal streams, 1 at the
first difference (printed with its offset and context), 2 when a file cannot
be read or a stream has a hole. Plain python3 (pcap_compare.py's reader).
"""

import argparse
import collections
import os
import re
import struct
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pcap_compare import CaptureError, Frame, read_frames  # noqa: E402


class StreamError(Exception):
    pass


class Direction:
    """One direction of one connection: its bytes by relative offset."""

    def __init__(self):
        self.base = None
        self.syn_seen = False
        self.chunks = {}  # offset -> bytes

    def add(self, seq, syn, data, where):
        if syn:
            if self.chunks:
                raise StreamError("%s: SYN on a tuple that carried data (a reused "
                                  "4-tuple: not supported)" % where)
            self.base = (seq + 1) & 0xFFFFFFFF
            self.syn_seen = True
            return
        if not data:
            return
        if self.base is None:
            self.base = seq
        off = (seq - self.base) & 0xFFFFFFFF
        old = self.chunks.get(off)
        if old is None or len(data) > len(old):
            if old is not None and data[:len(old)] != old:
                raise StreamError("%s: retransmission at offset %d differs" % (where, off))
            self.chunks[off] = data
        elif old[:len(data)] != data:
            raise StreamError("%s: retransmission at offset %d differs" % (where, off))

    def stream(self, where):
        out = bytearray()
        for off in sorted(self.chunks):
            data = self.chunks[off]
            if off > len(out):
                raise StreamError("%s: hole of %d bytes at offset %d"
                                  % (where, off - len(out), len(out)))
            overlap = len(out) - off
            if overlap > 0:
                if bytes(out[off:off + min(overlap, len(data))]) != data[:overlap]:
                    raise StreamError("%s: overlapping bytes at offset %d differ" % (where, off))
                data = data[overlap:]
            out += data
        return bytes(out)


def tcp_payload(fr):
    """The frame's TCP payload, without Ethernet padding."""
    d = fr.data
    if fr.src.version == 4:
        end = fr.l3 + struct.unpack("!H", d[fr.l3 + 2:fr.l3 + 4])[0]
    else:
        end = fr.l3 + 40 + struct.unpack("!H", d[fr.l3 + 4:fr.l3 + 6])[0]
    return d[fr.payload:end]


def streams(path):
    """{(src, sport, dst, dport): bytes} for every direction of every connection."""
    dirs = collections.OrderedDict()
    for n, (linktype, origlen, data) in enumerate(read_frames(path), 1):
        fr = Frame(n, linktype, origlen, data)
        if fr.kind != "TCP":
            continue
        if len(data) < origlen:
            raise CaptureError("frame %d truncated by the capture" % n)
        t = fr.l4
        seq = struct.unpack("!I", data[t + 4:t + 8])[0]
        flags = data[t + 13]
        key = fr.flow()
        dirs.setdefault(key, Direction()).add(seq, flags & 0x02, tcp_payload(fr),
                                              "%s frame %d" % (path, n))
    return collections.OrderedDict((k, d.stream("%s %s" % (path, name(k))))
                                   for k, d in dirs.items())


def name(key):
    fmt = "[%s]:%d" if key[0].version == 6 else "%s:%d"
    return "%s > %s" % (fmt % key[:2], fmt % key[2:4])


def first_difference(a, b):
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--drop")
    ap.add_argument("--expect-dropped", type=int)
    args = ap.parse_args()
    try:
        sa, sb = streams(args.a), streams(args.b)
    except (CaptureError, StreamError) as e:
        print("tcp_streams: %s" % e)
        return 2
    drop = re.compile(args.drop.encode(), re.M) if args.drop else None
    dropped = 0
    total = 0
    for key in list(sa) + [k for k in sb if k not in sa]:
        if key not in sa or key not in sb:
            print("tcp_streams: %s is only in %s (%d bytes)"
                  % (name(key), args.a if key in sa else args.b,
                     len(sa.get(key, sb.get(key)))))
            return 1
        a = sa[key]
        if drop:
            a, n = drop.subn(b"", a)
            dropped += n
        b = sb[key]
        if a != b:
            i = first_difference(a, b)
            print("tcp_streams: %s differs at byte %d (%d bytes in A, %d in B)"
                  % (name(key), i, len(a), len(b)))
            print("  A: %r" % a[max(0, i - 40):i + 40])
            print("  B: %r" % b[max(0, i - 40):i + 40])
            return 1
        total += len(b)
    conns = {frozenset((k[:2], k[2:])) for k in sa}
    print("tcp_streams: %d directions of %d connections equal, %d bytes; %d matches dropped from A"
          % (len(sa), len(conns), total, dropped))
    if args.expect_dropped is not None and dropped != args.expect_dropped:
        print("tcp_streams: %d matches dropped, expected %d" % (dropped, args.expect_dropped))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
