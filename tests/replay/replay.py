#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Replay one corpus capture through kapa-inspect --json and compare every
HTTP message with the tshark-derived truth (see README.md for the rules).

  replay.py --inspect BIN --corpus DIR --known FILE CAPTURE
  replay.py --inspect BIN --corpus DIR --bad-input KIND
  replay.py --inspect BIN --corpus DIR --report-total CAPTURE...

Exit status 0 when every disagreement is listed in the known-differences
file, 1 otherwise (and when the corpus or the capture is missing)."""

import argparse
import csv
import ipaddress
import json
import os
import re
import struct
import subprocess
import sys
import tempfile

FIELDS = ("method_or_code", "version", "connection", "keep_alive")
TIMEOUT_S = 600


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def norm_connection(value):
    """Connection tokens as sent, in order: lines are joined with ' | ' in the
    truth, tokens separated by ','; both trimmed; empty tokens dropped."""
    if value in ("-", ""):
        return []
    toks = []
    for line in value.split(" | "):
        toks.extend(t.strip() for t in line.split(","))
    return [t for t in toks if t]


def norm_keep_alive(value):
    """Keep-Alive field values as sent, one per line, each trimmed."""
    if value in ("-", ""):
        return []
    return [v.strip() for v in value.split(" | ")]


def norm_version(value):
    if value in ("-", ""):
        return ""
    return value[5:] if value.startswith("HTTP/") else value


def load_truth(path):
    """(stream, dir, msg_seq) -> message, in the compared form."""
    out = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            key = (int(row["tcp_stream"]), row["direction"], int(row["msg_seq"]))
            out[key] = {
                "method_or_code": row["method_or_code"],
                "version": norm_version(row["version"]),
                "connection": norm_connection(row["connection"]),
                "keep_alive": norm_keep_alive(row["keep_alive"]),
                "frame": row["frame"],
                "hdr_frame": int(row["hdr_frame"]) if row["hdr_frame"] != "?" else None,
                "uri": row["uri_or_phrase"] if row["direction"] == "request" else None,
                "ends": frozenset((endpoint(row["src"]), endpoint(row["dst"]))),
            }
    return out


def endpoint(text):
    """'1.2.3.4:80', '[2001:db8::1]:80' or tshark's '2001:db8::1:80' ->
    (address, port) in one canonical form."""
    addr, port = text.rsplit(":", 1)
    return (ipaddress.ip_address(addr.strip("[]")), int(port))


def run_inspect(inspect, path):
    p = subprocess.run([inspect, "--json", path], capture_output=True, timeout=TIMEOUT_S)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def load_kapa(stdout):
    out = {}
    for n, line in enumerate(stdout.splitlines(), 1):
        try:
            m = json.loads(line)
        except ValueError as e:
            fail("kapa-inspect output line %d is not JSON (%s): %r" % (n, e, line[:200]))
        if "dir" not in m:
            continue  # not a message (a race, an action): BRIEF's contract
        key = (m["stream"], m["dir"], m["index"] + 1)
        if key in out:
            fail("kapa-inspect reported %r twice" % (key,))
        out[key] = {
            "method_or_code": m["method"] if m["dir"] == "request" else str(m["status"]),
            "version": m.get("version", ""),
            "connection": m.get("connection", []),
            "keep_alive": m.get("keep_alive_raw", []),
            "frame": m["frame"],
            "hdr_frame": m["hdr_frame"],
            "target": m.get("target"),
            "ends": frozenset(endpoint(e) for e in m["flow"].split(" > ")),
        }
    return out


def index_holes(kapa):
    """kapa's index must count the messages of a stream and direction
    0, 1, 2, ... without holes. @return [((stream, dir), n, indexes)]"""
    seen = {}
    for (stream, d, seq) in kapa:
        seen.setdefault((stream, d), []).append(seq - 1)
    return [(sd, len(v), sorted(v)[:10]) for sd, v in sorted(seen.items())
            if sorted(v) != list(range(len(v)))]


def stream_map(kapa, truth):
    """Pair kapa's streams with tshark's by their endpoints (the n-th stream
    on an address/port pair with the n-th), so that a numbering difference
    (a connection one side numbers and the other does not see) shows once,
    as a 'stream' disagreement, instead of as every later message.
    @return {kapa stream: truth stream}"""
    def by_ends(msgs):
        seen = {}
        for key, m in sorted(msgs.items()):
            lst = seen.setdefault(m["ends"], [])
            if key[0] not in lst:
                lst.append(key[0])
        return seen
    kt, tt = by_ends(kapa), by_ends(truth)
    out = {}
    for ends, ks in kt.items():
        for i, k in enumerate(ks):
            ts = tt.get(ends, [])
            if i < len(ts):
                out[k] = ts[i]
    return out


def show(v):
    if isinstance(v, list):
        return " | ".join(v) if v else "-"
    return v if v != "" else "-"


def load_known(path, capture):
    """Rows for this capture: (stream, dir, msg_seq, field) -> reason; any of
    the first three may be '*'."""
    known = {}
    if not os.path.exists(path):
        return known
    with open(path, newline="") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            cols = line.split("\t")
            if len(cols) != 6 or not cols[5].strip():
                fail("%s:%d: expected 6 tab-separated columns with a reason" % (path, n))
            if cols[0] != capture:
                continue
            known[(cols[1], cols[2], cols[3], cols[4])] = cols[5]
    return known


def explained(known, stream, d, seq, field):
    for (ks, kd, kq, kf), reason in known.items():
        if ks in ("*", str(stream)) and kd in ("*", d) and kq in ("*", str(seq)) and kf == field:
            return (ks, kd, kq, kf), reason
    return None, None


def same_target(k, t):
    """Request targets agree (the truth keeps 200 characters, escapes tabs
    and newlines and decodes non-ASCII bytes: compare plain ASCII only)."""
    if k.get("target") is None or t.get("uri") is None:
        return True
    a, b = k["target"][:200], t["uri"][:200]
    if "\\" in b or not a.isascii() or not b.isascii():
        return True
    return a == b


def compatible(k, t):
    """Can kapa message k be tshark's message t? The same method or status,
    the same request target, and the same frames: the header block completes
    in tshark's hdr_frame (the header-only pass), and the message starts no
    later than tshark's frame (where its body completes). Where that pass lost
    track of the stream (hdr_frame '?'), only messages that agree on every
    field are paired, so that a field difference is reported only for
    messages known to be the same."""
    if k["method_or_code"] != t["method_or_code"] or not same_target(k, t):
        return False
    if int(k["frame"]) > int(t["frame"]):
        return False
    if t["hdr_frame"] is None:
        return all(k[f] == t[f] for f in FIELDS)
    return int(k["hdr_frame"]) == t["hdr_frame"]


def score(k, t):
    sc = 100    # pairs first; the bonus below only chooses between pairings
    if all(k[f] == t[f] for f in FIELDS):
        sc += 1
    return sc


def align(ks, ts):
    """Pair two ordered message lists (one stream, one direction) so that the
    total score is highest, keeping order (a weighted longest common
    subsequence). @return [(kapa msg or None, truth msg or None)]"""
    n, m = len(ks), len(ts)
    best = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            b = max(best[i + 1][j], best[i][j + 1])
            if compatible(ks[i], ts[j]):
                b = max(b, best[i + 1][j + 1] + score(ks[i], ts[j]))
            best[i][j] = b
    out, i, j = [], 0, 0
    while i < n and j < m:
        if compatible(ks[i], ts[j]) and best[i][j] == best[i + 1][j + 1] + score(ks[i], ts[j]):
            out.append((ks[i], ts[j]))
            i, j = i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            out.append((ks[i], None))
            i += 1
        else:
            out.append((None, ts[j]))
            j += 1
    out += [(k, None) for k in ks[i:]] + [(None, t) for t in ts[j:]]
    return out


def group(msgs):
    g = {}
    for (stream, d, seq), m in sorted(msgs.items()):
        g.setdefault((stream, d), []).append(dict(m, seq=seq))
    return g


def diff_one(stream, d, ks, ts):
    diffs = []
    for k, t in align(ks, ts):
        if t is None:
            diffs.append((stream, d, k["seq"], "extra", "kapa has %s %s (frame %s), tshark has none" % (
                d, k["method_or_code"], k["hdr_frame"])))
        elif k is None:
            diffs.append((stream, d, t["seq"], "missing", "tshark has %s %s (frame %s), kapa has none" % (
                d, t["method_or_code"], t["frame"])))
        else:
            for f in FIELDS:
                if k[f] != t[f]:
                    diffs.append((stream, d, t["seq"], f, "expected %r got %r (tshark frame %s, kapa frame %s)" % (
                        show(t[f]), show(k[f]), t["frame"], k["hdr_frame"])))
    return diffs


def compare(kapa, truths):
    """Per stream and direction, align kapa's messages with each truth and
    keep the truth that disagrees least (a message agrees when it matches
    truth/ or truth_alt_ooo/). Every message is either paired or reported
    missing/extra, so the counts per stream and direction agree exactly
    when nothing is missing or extra.
    @return list of (stream, dir, msg_seq, field, detail)."""
    kg = group(kapa)
    tgs = [group(t) for t in truths]
    keys = set(kg).union(*tgs)
    diffs = []
    for sd in sorted(keys, key=lambda k: (k[0], k[1] != "request")):
        options = [diff_one(sd[0], sd[1], kg.get(sd, []), tg.get(sd, [])) for tg in tgs]
        diffs += min(options, key=len)
    return diffs


def replay(args):
    corpus = args.corpus
    if not os.path.isdir(os.path.join(corpus, "pcaps")):
        fail("corpus not found at %s (expected pcaps/, truth/)" % corpus)
    pcap = os.path.join(corpus, "pcaps", args.capture)
    truth = os.path.join(corpus, "truth", args.capture + ".tsv")
    alt = os.path.join(corpus, "truth_alt_ooo", args.capture + ".tsv")
    for p in (pcap, truth):
        if not os.path.exists(p):
            fail("%s is missing" % p)
    truths = [load_truth(truth)]
    if os.path.exists(alt):
        truths.append(load_truth(alt))
    rc, out, err = run_inspect(args.inspect, pcap)
    if rc != 0:
        fail("kapa-inspect exited %d: %s" % (rc, err.strip()))
    kapa = load_kapa(out)
    holes = index_holes(kapa)
    smap = stream_map(kapa, truths[0])
    diffs = [(t, "*", "*", "stream", "kapa numbers it stream %d, tshark %d" % (k, t))
             for k, t in sorted(smap.items()) if k != t]
    kapa = {(smap.get(k[0], k[0]),) + k[1:]: v for k, v in kapa.items()}
    diffs += compare(kapa, truths)
    diffs += [(smap.get(sd[0], sd[0]), sd[1], "*", "index", "kapa's indexes are not 0..%d: %s" % (n - 1, got))
              for sd, n, got in holes]
    known = load_known(args.known, args.capture)
    used = set()
    unexplained = []
    lines = []
    for d in diffs:
        k, reason = explained(known, *d[:4])
        if k is not None:
            used.add(k)
            lines.append("  known  %s %s #%s %-14s %s [%s]" % (d[0], d[1], d[2], d[3], d[4], reason))
        else:
            unexplained.append(d)
            lines.append("  DIFF   %s %s #%s %-14s %s" % (d[0], d[1], d[2], d[3], d[4]))
    agree = len(kapa) - len(set(d[:3] for d in diffs if d[3] != "missing" and d[3] != "stream"))
    print("%s: truth %d messages%s, kapa %d, agreeing %d, disagreements %d (known %d, unexplained %d)" % (
        args.capture, len(truths[0]),
        " (alt ooo %d)" % len(truths[1]) if len(truths) > 1 else "",
        len(kapa), agree, len(diffs), len(diffs) - len(unexplained), len(unexplained)))
    for line in lines[:args.max_lines]:
        print(line)
    if len(lines) > args.max_lines:
        print("  ... %d more" % (len(lines) - args.max_lines))
    stale = sorted(set(known) - used)
    for k in stale:
        print("  STALE known-differences entry (no longer differs; remove it): %s" % "\t".join(k))
    if err.strip():
        print("kapa-inspect stderr: " + err.strip())
    return 1 if unexplained or stale else 0


def write_pcap(path, linktype, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, linktype))
        for i, data in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000 + i, 0, len(data), len(data)))
            f.write(data)


def write_records(path, linktype, records):
    """A classic little-endian microsecond pcap of @p records, (ts_sec,
    ts_usec, wire length, captured bytes) as read_pcap() returns them."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, linktype))
        for sec, usec, orig, data in records:
            f.write(struct.pack("<IIII", sec, usec, len(data), orig) + data)


def bad_input(args):
    """Files kapa-inspect must refuse (or read in part) with a clear error."""
    corpus = args.corpus
    src = os.path.join(corpus, "pcaps", args.source)
    if not os.path.exists(src):
        fail("%s is missing" % src)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, args.bad_input + ".pcap")
        expect_err = None
        if args.bad_input == "not-a-capture":
            with open(path, "w") as f:
                f.write("GET / HTTP/1.1\r\nHost: example\r\n\r\n" * 20)
            expect_err = "not a readable pcap or pcapng capture"
        elif args.bad_input == "empty":
            open(path, "wb").close()
            expect_err = "not a readable pcap or pcapng capture"
        elif args.bad_input == "missing":
            path = os.path.join(tmp, "does-not-exist.pcap")
            expect_err = "cannot open"
        elif args.bad_input == "unsupported-link":
            # LINKTYPE_IEEE802_11 (105): a link type kapa does not read.
            write_pcap(path, 105, [b"\x08\x00" + b"\x00" * 40])
            expect_err = "unsupported link type 105"
        elif args.bad_input == "truncated":
            with open(src, "rb") as f:
                data = f.read()
            # Cut in the middle of a record, past a good number of frames.
            with open(path, "wb") as f:
                f.write(data[:len(data) * 3 // 5 + 7])
            expect_err = "truncated"
        else:
            fail("unknown --bad-input %s" % args.bad_input)
        rc, out, err = run_inspect(args.inspect, path)
        print("kapa-inspect exit %d, stderr: %s" % (rc, err.strip()))
        if rc != 2:
            fail("expected exit status 2, got %d" % rc)
        if expect_err not in err:
            fail("expected the error to say %r" % expect_err)
        if args.bad_input != "truncated":
            if out.strip():
                fail("expected no output, got %r" % out[:200])
            return 0
        # A truncated capture still reports what it read: a non-empty
        # subset of what the whole capture gives.
        part = load_kapa(out)
        rc, full_out, err = run_inspect(args.inspect, src)
        full = load_kapa(full_out)
        if not part:
            fail("no message reported from the readable part")
        extra = [k for k in part if k not in full or part[k]["method_or_code"] != full[k]["method_or_code"]]
        if extra:
            fail("messages not in the full capture's output: %r" % extra[:5])
        print("truncated capture: %d of %d messages reported" % (len(part), len(full)))
        return 0


LINK_VARIANTS = ("raw", "sll", "sll2", "null", "null-be", "loop", "pcapng", "pcap-ns",
                 "ipip", "gre", "gre-eth", "erspan", "vxlan", "geneve", "gtpu")
# Tunnel variants: each frame (its IP datagram, or for the Ethernet-carrying
# tunnels the whole frame) inside Ethernet / IPv4 / tunnel, outer addresses
# fixed in 198.18.0.0/15 (both directions share them, as between two
# tunnel end points), lengths right, the IPv4 checksum right, the UDP
# checksum 0 (IPv4 allows it).
TUNNEL_VARIANTS = ("ipip", "gre", "gre-eth", "erspan", "vxlan", "geneve", "gtpu")
TUNNEL_SRC, TUNNEL_DST = bytes([198, 18, 200, 1]), bytes([198, 18, 200, 2])


def read_pcap(path):
    """@return (linktype, [(ts_sec, ts_usec, orig_len, data)]) of a classic
    little-endian microsecond pcap."""
    with open(path, "rb") as f:
        data = f.read()
    magic, _, _, _, _, _, linktype = struct.unpack("<IHHiIII", data[:24])
    if magic != 0xa1b2c3d4:
        fail("%s: expected a little-endian microsecond pcap" % path)
    frames, off = [], 24
    while off + 16 <= len(data):
        sec, usec, incl, orig = struct.unpack("<IIII", data[off:off + 16])
        frames.append((sec, usec, orig, data[off + 16:off + 16 + incl]))
        off += 16 + incl
    return linktype, frames


VLAN_TPIDS = (0x8100, 0x88a8, 0x9100)
MAX_VLAN_DEPTH = 8      # KAPA_MAX_VLAN_DEPTH
MAX_MPLS_DEPTH = 8      # KAPA_MAX_MPLS_DEPTH


def link_of(frame):
    """Walk an Ethernet frame's link layer as kapa's parser does: up to 8
    VLAN tags of any TPID, then a PPPoE session (PPP IPv4/IPv6) or an MPLS
    stack (IP told by the nibble after the bottom label).
    @return (ethertype, l3 offset, offset of the PPPoE length or None): the
    ethertype is 0x0800 or 0x86dd for IP, else the type that is not (with
    the offset where its payload starts)."""
    etype, off = struct.unpack(">H", frame[12:14])[0], 14
    tags = 0
    while etype in VLAN_TPIDS and tags < MAX_VLAN_DEPTH and len(frame) >= off + 4:
        etype, off = struct.unpack(">H", frame[off + 2:off + 4])[0], off + 4
        tags += 1
    if etype == 0x8864:
        if len(frame) < off + 8 or frame[off] != 0x11 or frame[off + 1] != 0:
            return etype, off, None
        ppp = struct.unpack(">H", frame[off + 6:off + 8])[0]
        ip = {0x0021: 0x0800, 0x0057: 0x86dd}.get(ppp)
        return (ip if ip else etype), off + 8, off + 4
    if etype in (0x8847, 0x8848):
        start = off
        for _ in range(MAX_MPLS_DEPTH):
            if len(frame) < off + 4:
                return etype, start, None
            off += 4
            if frame[off - 2] & 1:
                break
        else:
            return etype, start, None
        ip = {4: 0x0800, 6: 0x86dd}.get(frame[off] >> 4) if len(frame) > off else None
        return (ip if ip else etype), off, None
    return etype, off, None


def l3_of(frame):
    """Ethernet frame -> (ethertype, L3 bytes), the link layer (tags,
    PPPoE, MPLS) skipped as link_of() does."""
    etype, off, _ = link_of(frame)
    return etype, frame[off:]


def ip4_checksum(hdr):
    total = sum(struct.unpack(">%dH" % (len(hdr) // 2), hdr))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return ~total & 0xffff


def ip_datagram(frame):
    """The IP datagram of an Ethernet frame (link layer walked as
    link_of() does, Ethernet padding cut): (ethertype, captured bytes, wire
    length), or None when the frame is not IP."""
    etype, off, _ = link_of(frame)
    if etype == 0x0800 and len(frame) >= off + 4:
        wire = struct.unpack(">H", frame[off + 2:off + 4])[0]
    elif etype == 0x86dd and len(frame) >= off + 6:
        wire = 40 + struct.unpack(">H", frame[off + 4:off + 6])[0]
    else:
        return None
    return etype, frame[off:off + wire], wire


def tunnel_frame(kind, frame, orig):
    """@p frame (wire length @p orig) inside a tunnel of @p kind: (bytes,
    wire length), or None for a frame the tunnel cannot carry (IP-carrying
    tunnels take IP datagrams only)."""
    if kind in ("ipip", "gre", "gtpu"):
        inner = ip_datagram(frame)
        if inner is None:
            return None
        etype, data, wire = inner
    else:
        etype, data, wire = 0x6558, frame, orig
    v6 = etype == 0x86dd
    if kind == "ipip":
        proto, hdr = 41 if v6 else 4, b""
    elif kind == "gre":
        # Key and sequence number present: the options the parser skips.
        proto, hdr = 47, struct.pack(">HHII", 0x3000, etype, 0x1234, 7)
    elif kind == "gre-eth":
        # Checksum present too (0: nobody checks it here).
        proto, hdr = 47, struct.pack(">HHHHI", 0x8000 | 0x2000, 0x6558, 0, 0, 42)
    elif kind == "erspan":
        # ERSPAN type II: GRE with a sequence number, 8-byte header (v1).
        proto, hdr = 47, struct.pack(">HHI", 0x1000, 0x88be, 7) + struct.pack(">II", 0x1000_0001, 0)
    else:
        if kind == "vxlan":
            port, tun = 4789, struct.pack(">II", 0x08000000, 0x123400)
        elif kind == "geneve":
            # One 8-byte option (length 2 words), then the frame.
            port, tun = 6081, struct.pack(">BBHI", 2, 0, 0x6558, 0x123400) + \
                struct.pack(">HBBI", 0x0104, 0x80, 1, 0xdeadbeef)
        else:
            # GTP-U G-PDU with the S flag (4 optional bytes), no extension.
            port = 2152
            tun = struct.pack(">BBHIHBB", 0x32, 0xff, 4 + wire, 0x1000, 1, 0, 0)
        udp_len = 8 + len(tun) + wire
        proto, hdr = 17, struct.pack(">HHHH", 40000, port, udp_len, 0) + tun
    tot = 20 + len(hdr) + wire
    ip = bytearray(struct.pack(">BBHHHBBH4s4s", 0x45, 0, tot, 0, 0x4000, 64, proto, 0,
                               TUNNEL_SRC, TUNNEL_DST))
    struct.pack_into(">H", ip, 10, ip4_checksum(bytes(ip)))
    eth = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00"
    return eth + bytes(ip) + hdr + data, 14 + tot


def write_variant(kind, frames, path):
    """Re-encode Ethernet frames under another link type or file format.
    Non-IP frames are dropped where the link type cannot carry them (all
    but cooked captures); the link layer under IP (tags, PPPoE, MPLS) is
    dropped with the Ethernet header where only IP follows."""
    af6 = {"null": 30, "null-be": 24, "loop": 28}
    out = []
    for sec, usec, orig, frame in frames:
        if kind in ("pcapng", "pcap-ns"):
            out.append((sec, usec, orig, frame))
            continue
        if kind in TUNNEL_VARIANTS:
            t = tunnel_frame(kind, frame, orig)
            if t is not None:
                out.append((sec, usec, t[1], t[0]))
            continue
        if kind in ("sll", "sll2"):
            # A cooked header keeps what followed Ethernet's ethertype (tags,
            # PPPoE, MPLS: libpcap puts removed tags back) under that type;
            # a type below 0x0600 (an 802.3 length) means something else there.
            etype, l3 = struct.unpack(">H", frame[12:14])[0], frame[14:]
            if etype < 0x0600:
                continue
            if kind == "sll":
                hdr = struct.pack(">HHH8sH", 0, 1, 6, frame[6:12] + b"\0\0", etype)
            else:
                hdr = struct.pack(">HHIHBB8s", etype, 0, 1, 1, 0, 6, frame[6:12] + b"\0\0")
            out.append((sec, usec, orig - len(frame) + len(hdr) + len(l3), hdr + l3))
            continue
        etype, l3 = l3_of(frame)
        if etype not in (0x0800, 0x86dd):
            continue
        v6 = etype == 0x86dd
        if kind == "raw":
            hdr = b""
        else:
            fam = af6[kind] if v6 else 2
            hdr = struct.pack("<I" if kind == "null" else ">I", fam)
        out.append((sec, usec, orig - len(frame) + len(hdr) + len(l3), hdr + l3))
    linktype = {"raw": 101, "sll": 113, "sll2": 276, "null": 0, "null-be": 0,
                "loop": 108, "pcapng": 1, "pcap-ns": 1}.get(kind, 1)
    with open(path, "wb") as f:
        if kind == "pcapng":
            def block(btype, body):
                body += b"\0" * (-len(body) % 4)
                n = len(body) + 12
                return struct.pack("<II", btype, n) + body + struct.pack("<I", n)
            f.write(block(0x0a0d0d0a, struct.pack("<IHHq", 0x1a2b3c4d, 1, 0, -1)))
            f.write(block(0x00000001, struct.pack("<HHI", linktype, 0, 0)))
            for sec, usec, orig, data in out:
                ts = sec * 1000000 + usec
                f.write(block(0x00000006, struct.pack("<IIIII", 0, ts >> 32, ts & 0xffffffff,
                                                      len(data), orig) + data))
            return
        nano = kind == "pcap-ns"
        f.write(struct.pack("<IHHiIII", 0xa1b23c4d if nano else 0xa1b2c3d4, 2, 4, 0, 0, 262144, linktype))
        for sec, usec, orig, data in out:
            f.write(struct.pack("<IIII", sec, usec * 1000 if nano else usec, len(data), orig) + data)


def tcp_checksum(v6, ip_hdr, segment):
    """The TCP checksum of @p segment (its checksum field zero) under the
    IPv4 or IPv6 header @p ip_hdr (RFC 9293 §3.1, RFC 8200 §8.1)."""
    if v6:
        pseudo = ip_hdr[8:40] + struct.pack(">IxxxB", len(segment), 6)
    else:
        pseudo = ip_hdr[12:20] + struct.pack(">xBH", 6, len(segment))
    data = pseudo + segment + (b"\0" if len(segment) % 2 else b"")
    return ip4_checksum(data)


def tcp_datagram(frame):
    """Where the TCP segment of an Ethernet frame lies, the link layer walked
    as link_of() does: (ethertype, IP header offset, PPPoE length offset or
    None, IP header length, end of the datagram), or None when the frame
    is not an unfragmented IPv4 or IPv6 datagram (no extension headers)
    holding a whole TCP header."""
    etype, ip, pppoe_len = link_of(frame)
    if etype == 0x0800 and len(frame) >= ip + 20:
        ihl = (frame[ip] & 15) * 4
        if frame[ip + 9] != 6 or struct.unpack(">H", frame[ip + 6:ip + 8])[0] & 0x3fff:
            return None
        end = ip + struct.unpack(">H", frame[ip + 2:ip + 4])[0]
    elif etype == 0x86dd and len(frame) >= ip + 40:
        if frame[ip + 6] != 6:
            return None
        ihl = 40
        end = ip + 40 + struct.unpack(">H", frame[ip + 4:ip + 6])[0]
    else:
        return None
    if end > len(frame) or ip + ihl + 20 > end:
        return None
    return etype, ip, pppoe_len, ihl, end


def split_tcp(frame, pieces, swap, cuts=None, checksums=False):
    """Cut the TCP payload of an Ethernet frame into @p pieces frames (the
    bytes unchanged, sequence numbers and IP lengths adjusted; checksums are
    not recomputed unless @p checksums: kapa does not verify them). With
    @p swap the first two pieces are sent in reverse order. @p cuts, when
    given, are the payload offsets to cut at instead (sorted, inside the
    payload; @p pieces is then ignored). @return [frame] (the frame itself
    when it is not a plain TCP segment with data), the pieces in stream
    order unless swapped. The link layer is walked as link_of() does; under
    PPPoE each piece's PPPoE length is rewritten to cover its datagram (MPLS
    has no length)."""
    where = tcp_datagram(frame)
    if where is None:
        return [frame]
    etype, ip, pppoe_len, ihl, end = where
    tcp = ip + ihl
    doff = (frame[tcp + 12] >> 4) * 4
    flags = frame[tcp + 13]
    data = frame[tcp + doff:end]
    if flags & 0x06 or len(data) < 2:
        return [frame]
    if cuts is None:
        pieces = min(pieces, len(data))
        cuts = [len(data) * i // pieces for i in range(pieces + 1)]
    else:
        cuts = [0] + list(cuts) + [len(data)]
        pieces = len(cuts) - 1
    seq = struct.unpack(">I", frame[tcp + 4:tcp + 8])[0]
    out = []
    for i in range(pieces):
        chunk = data[cuts[i]:cuts[i + 1]]
        hdr = bytearray(frame[:tcp + doff])
        struct.pack_into(">I", hdr, tcp + 4, (seq + cuts[i]) & 0xffffffff)
        if i != pieces - 1:
            hdr[tcp + 13] = flags & ~0x09    # FIN and PSH only on the last piece
        if etype == 0x0800:
            struct.pack_into(">H", hdr, ip + 2, ihl + doff + len(chunk))
        else:
            struct.pack_into(">H", hdr, ip + 4, doff + len(chunk))
        if pppoe_len is not None:
            # PPP protocol + the datagram; PPPoE padding is not copied.
            struct.pack_into(">H", hdr, pppoe_len, 2 + len(hdr) - ip + len(chunk))
        if checksums:
            if etype == 0x0800:
                struct.pack_into(">H", hdr, ip + 10, 0)
                struct.pack_into(">H", hdr, ip + 10, ip4_checksum(bytes(hdr[ip:ip + ihl])))
            struct.pack_into(">H", hdr, tcp + 16, 0)
            struct.pack_into(">H", hdr, tcp + 16, tcp_checksum(
                etype == 0x86dd, bytes(hdr[ip:tcp]), bytes(hdr[tcp:]) + chunk))
        out.append(bytes(hdr) + chunk)
    if swap and len(out) > 1:
        out[0], out[1] = out[1], out[0]
    return out


def ethernet_source(args):
    """--source's path in the corpus and its frames; fails unless it is
    an Ethernet capture (what the cutter and the fragmenter rewrite)."""
    src = os.path.join(args.corpus, "pcaps", args.source)
    if not os.path.exists(src):
        fail("%s is missing" % src)
    linktype, frames = read_pcap(src)
    if linktype != 1:
        fail("%s is not an Ethernet capture" % src)
    return src, frames


def resegment(args):
    """kapa must give the same messages however the bytes are cut into
    segments, and whatever order the pieces of a segment arrive in."""
    src, frames = ethernet_source(args)
    if args.resegment == "both":
        for mode in ("inorder", "ooo"):
            args.resegment = mode
            resegment(args)
        return 0
    swap = args.resegment == "ooo"
    out = []
    for n, (sec, usec, orig, frame) in enumerate(frames):
        # A sender's first data segment is swapped too: a connection
        # picked up mid-stream starts at its earliest bytes, even when
        # they arrive after the first piece seen (docs/core-tcp.md).
        pieces = split_tcp(frame, 2 + (n * 7919) % 5, swap)
        for piece in pieces:
            out.append((sec, usec, len(piece), piece))

    rc, base, err = run_inspect(args.inspect, src)
    if rc != 0:
        fail("kapa-inspect exited %d on %s: %s" % (rc, src, err))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "recut.pcap")
        write_records(path, 1, out)
        rc, text, err = run_inspect(args.inspect, path)
    if rc != 0:
        fail("kapa-inspect exited %d on the re-cut capture: %s" % (rc, err))
    a, b = without_frames(base), without_frames(text)
    if a != b:
        key = lambda o: (o["stream"], o["dir"], o["index"])
        ka, kb = {key(o): o for o in a}, {key(o): o for o in b}
        for k in sorted(set(ka) | set(kb)):
            if ka.get(k) != kb.get(k):
                print("  %s\n    whole: %s\n    recut: %s" % (k, ka.get(k), kb.get(k)))
        fail("%s cut into %d frames (%s): %d messages differ" % (
            args.source, len(out), args.resegment,
            sum(1 for k in set(ka) | set(kb) if ka.get(k) != kb.get(k))))
    print("%s cut into %d frames (was %d, %s): the same %d messages" % (
        args.source, len(out), len(frames), args.resegment, len(a)))
    return 0


FRAGMENT_MODES = ("inorder", "reversed", "shuffled")


def fragment_ip(frame, n, mode):
    """Cut the IP datagram of an Ethernet frame carrying a TCP segment with
    data into 2-5 IP fragments (IPv4: MF and offset; IPv6: a Fragment
    header after the fixed header), data offsets multiples of 8, the link
    layer copied (a PPPoE length rewritten for each fragment). @p mode:
    the fragments in order, in reverse, or in a shuffled order with one
    sent twice (a duplicate: the first copy wins, as for the receiver).
    @return [frame] (the frame itself when it is not such a segment)."""
    where = tcp_datagram(frame)
    if where is None:
        return [frame]
    etype, ip, pppoe_len, ihl, end = where
    body = ip + ihl
    payload = frame[body:end]
    doff = (payload[12] >> 4) * 4
    if len(payload) - doff < 2 or len(payload) < 16:
        return [frame]
    k = min(2 + (n * 7919) % 4, len(payload) // 8)
    cuts = [0] + [len(payload) * i // k // 8 * 8 for i in range(1, k)] + [len(payload)]
    cuts = sorted(set(cuts))
    out = []
    for i in range(len(cuts) - 1):
        chunk = payload[cuts[i]:cuts[i + 1]]
        more = 1 if i < len(cuts) - 2 else 0
        if etype == 0x0800:
            hdr = bytearray(frame[:body])
            struct.pack_into(">H", hdr, ip + 2, ihl + len(chunk))
            struct.pack_into(">H", hdr, ip + 4, n & 0xffff)
            struct.pack_into(">H", hdr, ip + 6, more << 13 | cuts[i] // 8)
            struct.pack_into(">H", hdr, ip + 10, 0)
            struct.pack_into(">H", hdr, ip + 10, ip4_checksum(bytes(hdr[ip:body])))
        else:
            hdr = bytearray(frame[:body])
            hdr[ip + 6] = 44
            struct.pack_into(">H", hdr, ip + 4, 8 + len(chunk))
            hdr += struct.pack(">BBHI", 6, 0, cuts[i] | more, 0x4b000000 | n)
        if pppoe_len is not None:
            struct.pack_into(">H", hdr, pppoe_len, 2 + len(hdr) - ip + len(chunk))
        out.append(bytes(hdr) + chunk)
    if mode == "reversed":
        out.reverse()
    elif mode == "shuffled":
        rot = (n * 31) % len(out)
        out = out[rot:] + out[:rot]
        out.insert(1, out[0])
    return out


def fragment(args):
    """A request or response carried in IP fragments must be seen as when
    it is not: every data segment of --source sent as IP fragments gives
    the same messages, each at the frame of the fragment that completed
    its datagram (where tshark reports it)."""
    src, frames = ethernet_source(args)
    out, renumber, cut = [], {}, 0
    for n, (sec, usec, orig, frame) in enumerate(frames):
        pieces = fragment_ip(frame, n + 1, args.fragment)
        cut += len(pieces) > 1
        for piece in pieces:
            out.append((sec, usec, len(piece), piece))
        # The last fragment sent completes the datagram.
        renumber[n + 1] = len(out)
    if cut == 0:
        fail("%s: no segment to fragment" % args.source)

    rc, base, err = run_inspect(args.inspect, src)
    if rc != 0:
        fail("kapa-inspect exited %d on %s: %s" % (rc, src, err))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "fragmented.pcap")
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
            for sec, usec, orig, data in out:
                f.write(struct.pack("<IIII", sec, usec, len(data), orig) + data)
        rc, text, err = run_inspect(args.inspect, path)
    if rc != 0:
        fail("kapa-inspect exited %d on the fragmented capture: %s" % (rc, err))
    a = [o for o in map(json.loads, base.splitlines()) if "dir" in o]
    b = [o for o in map(json.loads, text.splitlines()) if "dir" in o]
    if not a:
        fail("no message in %s" % src)
    for o in a:
        o["frame"] = renumber[o["frame"]]
        o["hdr_frame"] = renumber[o["hdr_frame"]]
    key = lambda o: (o["stream"], o["dir"], o["index"])
    ka, kb = {key(o): o for o in a}, {key(o): o for o in b}
    bad = [k for k in sorted(set(ka) | set(kb)) if ka.get(k) != kb.get(k)]
    for k in bad[:args.max_lines]:
        print("  %s\n    whole:      %s\n    fragmented: %s" % (k, ka.get(k), kb.get(k)))
    if bad:
        fail("%s with %d segments in IP fragments (%s): %d messages differ" % (
            args.source, cut, args.fragment, len(bad)))
    print("%s with %d segments in IP fragments (%d frames, %s): the same %d messages" % (
        args.source, cut, len(out), args.fragment, len(a)))
    return 0


def without_frames(text):
    """kapa-inspect --json output as objects without their frame numbers,
    which re-cut or re-encoded captures renumber."""
    objs = [o for o in map(json.loads, text.splitlines()) if "dir" in o]
    for o in objs:
        o.pop("frame")
        o.pop("hdr_frame")
    # Output order follows the frame of each message's first byte, which a
    # re-cut moves; the messages themselves must not change.
    return sorted(objs, key=lambda o: (o.get("file", ""), o["stream"], o["dir"], o["index"]))


def link_variant(args):
    """The same traffic under another link type or file format must give the
    same messages (frame numbers aside: frames a link type cannot carry are
    dropped)."""
    src = os.path.join(args.corpus, "pcaps", args.source)
    if not os.path.exists(src):
        fail("%s is missing" % src)
    _, frames = read_pcap(src)

    rc, base, err = run_inspect(args.inspect, src)
    if rc != 0:
        fail("kapa-inspect exited %d on %s: %s" % (rc, src, err))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "variant-" + args.link_variant)
        write_variant(args.link_variant, frames, path)
        rc, out, err = run_inspect(args.inspect, path)
    if rc != 0:
        fail("kapa-inspect exited %d on the %s variant: %s" % (rc, args.link_variant, err))
    a, b = without_frames(base), without_frames(out)
    if not a:
        fail("no message in %s" % src)
    if a != b:
        for x, y in zip(a, b):
            if x != y:
                fail("%s variant differs:\n  ethernet: %s\n  variant:  %s" % (args.link_variant, x, y))
        fail("%s variant: %d messages, ethernet %d" % (args.link_variant, len(b), len(a)))
    print("%s variant of %s: the same %d messages" % (args.link_variant, args.source, len(a)))
    return 0


def report_total(args):
    """The operator report over several captures ends with a total whose
    counters are the sums of the per-file ones (and per-file reports are
    unchanged by the company of other files)."""
    paths = [os.path.join(args.corpus, "pcaps", c) for c in args.captures]
    for p in paths:
        if not os.path.exists(p):
            fail("capture missing: %s" % p)

    def sections(text):
        out, name = {}, None
        for line in text.splitlines():
            if line.startswith("== "):
                name = line[3:]
                out[name] = []
            elif name is not None:
                out[name].append(line)
        return out

    def numbers(lines):
        """Counter lines as {label: [N, ...]}: the label is the line with its
        numbers replaced by '#'. Keep-Alive sets keep their values in the
        label; maxima and means are left out (they do not add up)."""
        got = {}
        for line in lines:
            if "most on one" in line or "mean " in line or "observed idle limit:" in line:
                continue
            if "timeout=" in line:
                label, n = line.rsplit(None, 2)[0], line.split()[-2]
                got[label.strip()] = [int(n)]
                continue
            line = re.sub(r"#+$|\([0-9.]+%\)", "", line).strip()
            line = re.sub(r"^(Connection: [a-z-]+) ", r"\1  ", line)
            if line.startswith("frames "):
                line = re.sub(r" (over [0-9.]+ s|in \d+ captures)", "", line)
            fields = re.split(r"\s{2,}", line)
            if len(fields) > 1 and all(f.isdigit() for f in fields[1:]):
                got[fields[0]] = [int(f) for f in fields[1:]]
                continue
            line = " ".join(line.split())
            nums = re.findall(r"(?<![\w.=])\d+(?![\w.])", line)
            if nums:
                got[re.sub(r"(?<![\w.=])\d+(?![\w.])", "#", line)] = [int(n) for n in nums]
        return got

    out = subprocess.run([args.inspect] + paths, capture_output=True, text=True,
                         timeout=TIMEOUT_S)
    if out.returncode != 0:
        fail("kapa-inspect exited %d: %s" % (out.returncode, out.stderr.strip()))
    secs = sections(out.stdout)
    title = "all %d captures" % len(paths)
    if title not in secs:
        fail("no '== %s' section in the report" % title)
    want = {}
    for p in paths:
        if p not in secs:
            fail("no report for %s" % p)
        alone = subprocess.run([args.inspect, p], capture_output=True, text=True,
                               timeout=TIMEOUT_S)
        if sections(alone.stdout).get(p) != secs[p]:
            fail("the report of %s differs when run alone" % p)
        for k, v in numbers(secs[p]).items():
            prev = want.get(k, [0] * len(v))
            want[k] = [x + y for x, y in zip(prev, v)]
    total = numbers(secs[title])
    bad = 0
    for k in sorted(set(want) | set(total)):
        if want.get(k) != total.get(k):
            print("total %r: %s, sum of the files %s" % (k, total.get(k), want.get(k)))
            bad += 1
    if not any(k.startswith("messages") and v[0] > 0 for k, v in total.items()):
        fail("the captures gave no requests: not a useful check")
    if bad:
        fail("%d counters of the total differ from the sums" % bad)
    print("OK: %d counters of the total over %d captures equal the sums" % (len(total), len(paths)))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inspect", required=True, help="kapa-inspect binary")
    ap.add_argument("--corpus", required=True, help="corpus directory (pcaps/, truth/)")
    ap.add_argument("--known", help="known differences TSV")
    ap.add_argument("--max-lines", type=int, default=200)
    ap.add_argument("--bad-input", help="not-a-capture|empty|missing|unsupported-link|truncated")
    ap.add_argument("--link-variant", choices=LINK_VARIANTS,
                    help="re-encode --source under this link type / format and compare")
    ap.add_argument("--resegment", choices=("inorder", "ooo", "both"),
                    help="cut every TCP segment of --source into 2-6 pieces and compare")
    ap.add_argument("--fragment", choices=FRAGMENT_MODES,
                    help="send every TCP data segment of --source in IP fragments and compare")
    ap.add_argument("--source", default="pcapplusplus__pcap_examples__http-packets2.pcap",
                    help="capture the truncated and link-variant tests use")
    ap.add_argument("--report-total", dest="captures", nargs="+", metavar="CAPTURE",
                    help="check the operator report's total over these captures")
    ap.add_argument("capture", nargs="?")
    args = ap.parse_args()
    if args.captures:
        sys.exit(report_total(args))
    if args.bad_input:
        sys.exit(bad_input(args))
    if args.link_variant:
        sys.exit(link_variant(args))
    if args.resegment:
        sys.exit(resegment(args))
    if args.fragment:
        sys.exit(fragment(args))
    if not args.capture or not args.known:
        ap.error("CAPTURE and --known are required")
    sys.exit(replay(args))


if __name__ == "__main__":
    main()
