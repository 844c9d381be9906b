#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Compare the TCP frames of one direction in two captures, byte for byte.

Usage: pcap_compare.py A B [--src ADDR ...] [--dst ADDR ...] [--strict-order]
                        [--reorder W]

A and B are pcap or pcapng files (e.g. what left the client namespace and what
arrived in the server namespace). From each, the IPv4/IPv6 TCP frames whose IP
source is one of --src (and destination one of --dst, where given) are taken in
capture order and compared frame by frame, whole frames including the link
header. Every other frame (ARP, NDP and other ICMPv6, the other direction, ...)
is ignored and counted in the report. Timestamps are not compared.

Order is compared within each TCP connection (address and port 4-tuple): both
captures must hold the same connections, each with the same frames in the same
order. Across connections the two capture points may interleave frames
differently without anything being wrong: a veth delivers what each CPU sends
through that CPU's own backlog, so frames that two threads send at once on two
connections arrive in either order. --strict-order compares the whole
direction in one order instead (right for one connection, or one sending CPU).
Even within a connection, frames that two CPUs send at once (a pure ACK from a
softirq, a request from the application's thread) can change places; --reorder
W accepts an identical frame up to W places away within its connection and
counts how many were out of place.

Exit 0 when both sequences are identical, 1 at the first difference (printed
with the two frames and the differing field), 2 when a file cannot be read.
Plain python3: no scapy, no tshark.
"""

import argparse
import collections
import ipaddress
import struct
import sys

LINKTYPE_EN10MB = 1
LINKTYPE_RAW = 101
LINKTYPE_LINUX_SLL = 113
LINKTYPE_LINUX_SLL2 = 276
LINK_NAMES = {LINKTYPE_EN10MB: "EN10MB", LINKTYPE_RAW: "RAW",
              LINKTYPE_LINUX_SLL: "LINUX_SLL", LINKTYPE_LINUX_SLL2: "LINUX_SLL2"}

ETH_VLAN = (0x8100, 0x88A8, 0x9100)
IPV6_EXT = (0, 43, 60)  # hop-by-hop, routing, destination options


class CaptureError(Exception):
    pass


# ---- reading pcap and pcapng -------------------------------------------------

def read_pcap(f, head):
    """Yield (linktype, origlen, data) from a classic pcap file."""
    magic = head[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise CaptureError("not a pcap file")
    rest = f.read(16)  # thiszone, sigfigs, snaplen, network
    if len(rest) < 16:
        raise CaptureError("truncated pcap header")
    linktype = struct.unpack(endian + "I", rest[12:16])[0] & 0x0FFFFFFF
    while True:
        rec = f.read(16)
        if not rec:
            return
        if len(rec) < 16:
            raise CaptureError("truncated record header")
        _, _, caplen, origlen = struct.unpack(endian + "IIII", rec)
        data = f.read(caplen)
        if len(data) < caplen:
            raise CaptureError("truncated frame")
        yield linktype, origlen, data


def read_pcapng(f, head):
    """Yield (linktype, origlen, data) from a pcapng file (EPB, SPB, PB)."""
    endian = None
    ifaces = []  # (linktype, snaplen) per interface of the current section
    block = head
    while True:
        if block is None:
            block = f.read(8)
            if not block:
                return
        if len(block) < 8:
            raise CaptureError("truncated block header")
        if block[:4] == b"\x0a\x0d\x0d\x0a":  # section header: byte order
            bom = f.read(4)
            if bom == b"\x4d\x3c\x2b\x1a":
                endian = "<"
            elif bom == b"\x1a\x2b\x3c\x4d":
                endian = ">"
            else:
                raise CaptureError("bad pcapng byte-order magic")
            total = struct.unpack(endian + "I", block[4:8])[0]
            body = bom + f.read(total - 12)
            ifaces = []
        else:
            if endian is None:
                raise CaptureError("pcapng block before the section header")
            total = struct.unpack(endian + "I", block[4:8])[0]
            body = f.read(total - 8)
        if total < 12 or len(body) < total - 8:
            raise CaptureError("truncated pcapng block")
        btype = struct.unpack(endian + "I", block[:4])[0]
        payload = body[:-4]  # the trailing copy of the total length
        block = None
        if btype == 1:  # interface description
            linktype, _, snaplen = struct.unpack(endian + "HHI", payload[:8])
            ifaces.append((linktype, snaplen))
        elif btype == 6:  # enhanced packet
            iface, _, _, caplen, origlen = struct.unpack(endian + "IIIII", payload[:20])
            if iface >= len(ifaces):
                raise CaptureError("packet on undeclared interface %d" % iface)
            yield ifaces[iface][0], origlen, payload[20:20 + caplen]
        elif btype == 3:  # simple packet: interface 0
            if not ifaces:
                raise CaptureError("simple packet block without an interface")
            origlen = struct.unpack(endian + "I", payload[:4])[0]
            snaplen = ifaces[0][1] or origlen
            yield ifaces[0][0], origlen, payload[4:4 + min(origlen, snaplen)]
        elif btype == 2:  # obsolete packet block
            iface, _, _, _, caplen, origlen = struct.unpack(endian + "HHIIII", payload[:20])
            if iface >= len(ifaces):
                raise CaptureError("packet on undeclared interface %d" % iface)
            yield ifaces[iface][0], origlen, payload[20:20 + caplen]
        # other blocks (statistics, name resolution, custom) carry no frames


def read_frames(path):
    """Yield (linktype, origlen, data) for every frame of a pcap/pcapng file."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise CaptureError("empty or truncated file")
            if head[:4] == b"\x0a\x0d\x0d\x0a":
                yield from read_pcapng(f, head)
            else:
                yield from read_pcap(f, head)
    except OSError as e:
        raise CaptureError(str(e)) from e


# ---- dissecting just enough ----------------------------------------------------

class Frame:
    """One frame and, for TCP, where its layers start."""

    def __init__(self, number, linktype, origlen, data):
        self.number = number  # 1-based, as tshark numbers frames
        self.linktype = linktype
        self.origlen = origlen
        self.data = data
        self.kind = "other"
        self.l3 = self.l4 = self.payload = None
        self.src = self.dst = None
        self.dissect()

    def dissect(self):
        d = self.data
        if self.linktype == LINKTYPE_EN10MB:
            if len(d) < 14:
                self.kind = "runt"
                return
            off, etype = 14, struct.unpack("!H", d[12:14])[0]
            while etype in ETH_VLAN and len(d) >= off + 4:
                etype = struct.unpack("!H", d[off + 2:off + 4])[0]
                off += 4
        elif self.linktype == LINKTYPE_LINUX_SLL:
            if len(d) < 16:
                self.kind = "runt"
                return
            off, etype = 16, struct.unpack("!H", d[14:16])[0]
        elif self.linktype == LINKTYPE_LINUX_SLL2:
            if len(d) < 20:
                self.kind = "runt"
                return
            off, etype = 20, struct.unpack("!H", d[0:2])[0]
        elif self.linktype == LINKTYPE_RAW:
            if not d:
                self.kind = "runt"
                return
            off = 0
            etype = {4: 0x0800, 6: 0x86DD}.get(d[0] >> 4, 0)
        else:
            raise CaptureError("link type %d not supported (EN10MB, LINUX_SLL, "
                               "LINUX_SLL2, RAW are)" % self.linktype)
        if etype == 0x0806:
            self.kind = "ARP"
        elif etype == 0x0800:
            self.dissect_ipv4(off)
        elif etype == 0x86DD:
            self.dissect_ipv6(off)
        else:
            self.kind = "ethertype 0x%04x" % etype

    def dissect_ipv4(self, off):
        d = self.data
        if len(d) < off + 20:
            self.kind = "IPv4 truncated"
            return
        ihl = (d[off] & 0x0F) * 4
        proto = d[off + 9]
        frag = struct.unpack("!H", d[off + 6:off + 8])[0] & 0x1FFF
        self.l3 = off
        self.src = ipaddress.ip_address(d[off + 12:off + 16])
        self.dst = ipaddress.ip_address(d[off + 16:off + 20])
        if proto != 6:
            self.kind = {1: "ICMP", 17: "UDP"}.get(proto, "IPv4 proto %d" % proto)
        elif frag != 0:
            self.kind = "IPv4 TCP fragment"
        else:
            self.tcp(off + ihl)

    def dissect_ipv6(self, off):
        d = self.data
        if len(d) < off + 40:
            self.kind = "IPv6 truncated"
            return
        self.l3 = off
        self.src = ipaddress.ip_address(d[off + 8:off + 24])
        self.dst = ipaddress.ip_address(d[off + 24:off + 40])
        nh, p = d[off + 6], off + 40
        while nh in IPV6_EXT and len(d) >= p + 2:
            nh, p = d[p], p + (d[p + 1] + 1) * 8
        if nh == 6:
            self.tcp(p)
        elif nh == 58:
            icmp_type = d[p] if len(d) > p else -1
            self.kind = "NDP" if 133 <= icmp_type <= 137 else "ICMPv6"
        else:
            self.kind = {17: "UDP", 44: "IPv6 fragment"}.get(nh, "IPv6 next header %d" % nh)

    def tcp(self, off):
        d = self.data
        if len(d) < off + 20:
            self.kind = "TCP truncated"
            return
        self.kind = "TCP"
        self.l4 = off
        self.payload = off + (d[off + 12] >> 4) * 4

    def flow(self):
        """The connection's 4-tuple (source first), for TCP frames."""
        sport, dport = struct.unpack("!HH", self.data[self.l4:self.l4 + 4])
        return (self.src, sport, self.dst, dport)

    def summary(self):
        if self.kind != "TCP":
            return "frame %d: %s, %d bytes" % (self.number, self.kind, len(self.data))
        d, t = self.data, self.l4
        sport, dport, seq, ack = struct.unpack("!HHII", d[t:t + 12])
        flags = d[t + 13]
        names = "".join(n for bit, n in ((0x02, "S"), (0x01, "F"), (0x04, "R"),
                                         (0x08, "P"), (0x10, "A")) if flags & bit)
        fmt = "[%s]:%d" if self.src.version == 6 else "%s:%d"
        return ("frame %d: %s > %s [%s] seq=%d ack=%d len=%d, %d bytes"
                % (self.number, fmt % (self.src, sport), fmt % (self.dst, dport),
                   names or ".", seq, ack, len(d) - self.payload, len(d)))

    def field_at(self, pos):
        """Name the header field (or payload byte) that byte pos belongs to."""
        if self.kind != "TCP":
            return "byte %d" % pos
        if pos < self.l3:
            return "link header byte %d" % pos
        if pos < self.l4:
            rel = pos - self.l3
            if self.src.version == 4:
                table = ((1, "IPv4 version/ihl"), (2, "IPv4 tos"), (4, "IPv4 total length"),
                         (6, "IPv4 id"), (8, "IPv4 flags/fragment"), (9, "IPv4 ttl"),
                         (10, "IPv4 protocol"), (12, "IPv4 checksum"), (16, "IPv4 source"),
                         (20, "IPv4 destination"))
            else:
                table = ((4, "IPv6 version/class/flow"), (6, "IPv6 payload length"),
                         (7, "IPv6 next header"), (8, "IPv6 hop limit"),
                         (24, "IPv6 source"), (40, "IPv6 destination"))
            for end, name in table:
                if rel < end:
                    return "%s (byte %d)" % (name, pos)
            return "IP options/extension headers (byte %d)" % pos
        if pos < self.payload:
            rel = pos - self.l4
            for end, name in ((2, "TCP source port"), (4, "TCP destination port"),
                              (8, "TCP sequence number"), (12, "TCP acknowledgement"),
                              (13, "TCP data offset"), (14, "TCP flags"), (16, "TCP window"),
                              (18, "TCP checksum"), (20, "TCP urgent pointer")):
                if rel < end:
                    return "%s (byte %d)" % (name, pos)
            return "TCP options (byte %d)" % pos
        return "TCP payload byte %d (frame byte %d)" % (pos - self.payload, pos)


# ---- selecting and comparing -----------------------------------------------------

def select(path, srcs, dsts):
    """The frames of the direction, in order, and a Counter of what was ignored."""
    chosen, ignored = [], collections.Counter()
    linktypes = set()
    for n, (linktype, origlen, data) in enumerate(read_frames(path), 1):
        fr = Frame(n, linktype, origlen, data)
        linktypes.add(linktype)
        if fr.kind != "TCP":
            ignored[fr.kind] += 1
        elif (srcs and fr.src not in srcs) or (dsts and fr.dst not in dsts):
            ignored["TCP, other direction"] += 1
        elif len(data) < origlen:
            raise CaptureError("frame %d truncated by the capture (%d of %d bytes): "
                               "capture with a larger snaplen" % (n, len(data), origlen))
        else:
            chosen.append(fr)
    return chosen, ignored, linktypes


def describe_ignored(ignored):
    if not ignored:
        return "none"
    return ", ".join("%d %s" % (c, k) for k, c in sorted(ignored.items()))


def by_flow(frames):
    """Frames grouped by connection, in order of each one's first frame."""
    flows = collections.OrderedDict()
    for fr in frames:
        flows.setdefault(fr.flow(), []).append(fr)
    return flows


def flow_name(key):
    src, sport, dst, dport = key
    fmt = "[%s]:%d" if src.version == 6 else "%s:%d"
    return "%s > %s" % (fmt % (src, sport), fmt % (dst, dport))


def first_difference(a, b):
    """Index of the first differing byte of two frames (or of the shorter end)."""
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


def match_window(xs, ys, window):
    """Match each frame of xs to an identical unmatched one of ys at most
    window places away (its own place first). Returns the indices of xs with
    no match and how many matched out of place."""
    used = [False] * len(ys)
    bad, moved = [], 0
    for i, x in enumerate(xs):
        for j in [i] + [k for d in range(1, window + 1) for k in (i - d, i + d)]:
            if 0 <= j < len(ys) and not used[j] and ys[j].data == x.data:
                used[j] = True
                moved += j != i
                break
        else:
            bad.append(i)
    return bad, moved


def main():
    ap = argparse.ArgumentParser(
        description="Compare one direction's TCP frames of two captures byte for byte.")
    ap.add_argument("a", metavar="A")
    ap.add_argument("b", metavar="B")
    ap.add_argument("--src", action="append", default=[],
                    help="keep TCP frames from this IP address (repeatable)")
    ap.add_argument("--dst", action="append", default=[],
                    help="keep TCP frames to this IP address (repeatable)")
    ap.add_argument("--strict-order", action="store_true",
                    help="compare the direction in one order, not per connection")
    ap.add_argument("--reorder", type=int, default=0, metavar="W",
                    help="within a connection, let an identical frame stand up to W "
                         "places from where the other capture has it (counted)")
    args = ap.parse_args()
    try:
        srcs = {ipaddress.ip_address(s) for s in args.src}
        dsts = {ipaddress.ip_address(s) for s in args.dst}
    except ValueError as e:
        ap.error(str(e))

    try:
        fa, ia, la = select(args.a, srcs, dsts)
        fb, ib, lb = select(args.b, srcs, dsts)
    except CaptureError as e:
        sys.stderr.write("pcap_compare: %s\n" % e)
        return 2
    if la and lb and la != lb:
        sys.stderr.write("pcap_compare: link types differ (%s vs %s): frames cannot be "
                         "compared byte for byte\n" % (sorted(la), sorted(lb)))
        return 2

    what = []
    if srcs:
        what.append("from " + ",".join(sorted(map(str, srcs))))
    if dsts:
        what.append("to " + ",".join(sorted(map(str, dsts))))
    what = " ".join(what) or "all directions"
    print("pcap_compare: TCP frames %s: A %d, B %d" % (what, len(fa), len(fb)))
    print("pcap_compare: ignored in A: %s" % describe_ignored(ia))
    print("pcap_compare: ignored in B: %s" % describe_ignored(ib))

    if args.strict_order:
        seqs_a = collections.OrderedDict([("the whole direction", fa)])
        seqs_b = collections.OrderedDict([("the whole direction", fb)])
    else:
        seqs_a = collections.OrderedDict((flow_name(k), v) for k, v in by_flow(fa).items())
        seqs_b = collections.OrderedDict((flow_name(k), v) for k, v in by_flow(fb).items())
        print("pcap_compare: %d connections in A, %d in B (order compared within each)"
              % (len(seqs_a), len(seqs_b)))

    # Every difference, as (A's frame number where it shows, description).
    diffs, positions, moved = [], 0, 0
    for name in set(seqs_b) - set(seqs_a):
        diffs.append((seqs_b[name][0].number,
                      ["connection %s only in B: %d frames, the first %s"
                       % (name, len(seqs_b[name]), seqs_b[name][0].summary())]))
    for name, xs in seqs_a.items():
        ys = seqs_b.get(name)
        if ys is None:
            diffs.append((xs[0].number, ["connection %s only in A: %d frames, the first %s"
                                         % (name, len(xs), xs[0].summary())]))
            continue
        bad = [i for i, (x, y) in enumerate(zip(xs, ys)) if x.data != y.data]
        if bad and args.reorder:
            bad, m = match_window(xs[:len(ys)], ys[:len(xs)], args.reorder)
            moved += m
        positions += len(bad)
        if bad:
            i = bad[0]
            x, y = xs[i], ys[i]
            pos = first_difference(x.data, y.data)
            text = ["frame %d of %s (%d of %d compared frames of it differ)"
                    % (i + 1, name, len(bad), min(len(xs), len(ys))),
                    "  A %s" % x.summary(), "  B %s" % y.summary()]
            if pos < min(len(x.data), len(y.data)):
                text.append("  first differing byte: %s: A 0x%02x, B 0x%02x"
                            % (x.field_at(pos), x.data[pos], y.data[pos]))
            else:
                text.append("  equal for %d bytes, then one frame ends (A %d bytes, B %d)"
                            % (pos, len(x.data), len(y.data)))
            diffs.append((x.number, text))
        if len(xs) != len(ys):
            longer, which = (xs, "A") if len(xs) > len(ys) else (ys, "B")
            extra = longer[min(len(xs), len(ys))]
            # Where it shows in A: the extra frame itself, or after A's last one.
            at = extra.number if which == "A" else xs[-1].number
            diffs.append((at, ["%s: A has %d frames, B %d; the first only in %s: %s"
                               % (name, len(xs), len(ys), which, extra.summary())]))

    if not diffs:
        if moved:
            print("pcap_compare: %d frames matched out of capture order (within %d places)"
                  % (moved, args.reorder))
        print("pcap_compare: identical (%d frames)" % len(fa))
        return 0
    diffs.sort(key=lambda d: d[0])
    print("pcap_compare: DIFFERENT: %d difference(s), %d differing frame(s) in place; the first:"
          % (len(diffs), positions))
    for line in diffs[0][1]:
        print("  " + line)
    return 1


if __name__ == "__main__":
    sys.exit(main())
