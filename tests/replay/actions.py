#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""kapa-inspect --policy -w over a corpus capture: what kapa-dp would send,
checked from the written capture alone, never from kapa's own bookkeeping.

  actions.py --inspect BIN --corpus DIR --observe CAPTURE
      observe mode: the written capture is the input, record for record,
      byte for byte, timestamp for timestamp.
  actions.py --inspect BIN --corpus DIR --observe-variant KIND --source CAPTURE
      the same over a link / tunnel / format variant of CAPTURE (replay.py's).
  actions.py --inspect BIN --corpus DIR --enforce CAPTURE
      under enforcing and advertising policies:
      - every frame kapa edited or crafted (one not in the input) has a good
        IP and TCP checksum (tshark, checksum validation on);
      - every RST kapa crafted carries the sequence number tshark's analysis
        expects next (no retransmission, out-of-order or lost-segment flag);
      - each direction of each TCP stream, reassembled from the written
        frames (up to kapa's own RST), equals the input's with only
        Connection / Keep-Alive field lines added, rewritten or renamed
        (both sides compared with those lines removed): a prefix of it where
        kapa reset the connection or held a request back;
      - the messages kapa-inspect --json reports are those of a run without
        a policy (a policy never changes what is observed), on every stream
        kapa did not reset (after a reset the capture goes on, and kapa picks
        the rest up as a new connection).

Exit status 0 when every check holds, 1 otherwise."""

import argparse
import hashlib
import json
import os
import re
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import replay  # noqa: E402  (the variants and the pcap reader of the replay suite)

TIMEOUT_S = 600
OBSERVE = "mode=observe,timeout=1,max=1,stall=1,opaque_idle=1"
# Policies that make kapa act on as many messages as possible: short limits,
# both modes that act, max low enough to refuse requests.
ENFORCE = (
    "mode=advertise,timeout=2,max=3,stall=10",
    "mode=enforce,timeout=1,max=1",
    "mode=advertise,max=2,opaque_idle=5",
)
FIELD_LINE = re.compile(rb"(?im)^(?:connection|keep-alive|x-kapa-old)[ \t]*:[^\n]*\n")


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def read_any_pcap(path):
    """@return (linktype, [(ts_ns, orig_len, data)]) of a classic pcap, either
    byte order, micro- or nanosecond timestamps."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        fail("%s: not a pcap (%d bytes)" % (path, len(data)))
    for endian in ("<", ">"):
        magic = struct.unpack(endian + "I", data[:4])[0]
        if magic in (0xa1b2c3d4, 0xa1b23c4d):
            break
    else:
        fail("%s: not a classic pcap" % path)
    scale = 1000 if magic == 0xa1b2c3d4 else 1
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    frames, off = [], 24
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(endian + "IIII", data[off:off + 16])
        frames.append((sec * 1000000000 + frac * scale, orig, data[off + 16:off + 16 + incl]))
        off += 16 + incl
    return linktype, frames


def inspect_w(inspect, src, out, policy, extra=()):
    cmd = [inspect, "--policy", policy, "-w", out] + list(extra) + [src]
    p = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT_S)
    if p.returncode != 0:
        fail("%s exited %d: %s" % (" ".join(cmd), p.returncode, p.stderr.decode()[:500]))
    return p.stdout.decode("utf-8", "replace")


def same_capture(src, out, what):
    lt_in, fin = read_any_pcap(src)
    lt_out, fout = read_any_pcap(out)
    if lt_in != lt_out:
        fail("%s: link type %d written, %d read" % (what, lt_out, lt_in))
    if len(fin) != len(fout):
        fail("%s: %d frames written, %d read" % (what, len(fout), len(fin)))
    for n, (a, b) in enumerate(zip(fin, fout), 1):
        if a[2] != b[2]:
            fail("%s: frame %d differs" % (what, n))
        if a[0] != b[0] or a[1] != b[1]:
            fail("%s: frame %d time or length differs (%r, %r)" % (what, n, a[:2], b[:2]))
    return len(fin)


def observe(args):
    src = os.path.join(args.corpus, "pcaps", args.observe)
    if not os.path.exists(src):
        fail("%s is missing" % src)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.pcap")
        inspect_w(args.inspect, src, out, OBSERVE)
        n = same_capture(src, out, args.observe)
    print("%s: observe mode wrote the %d frames unchanged" % (args.observe, n))
    return 0


def observe_variant(args):
    src = os.path.join(args.corpus, "pcaps", args.source)
    if not os.path.exists(src):
        fail("%s is missing" % src)
    _, frames = replay.read_pcap(src)
    with tempfile.TemporaryDirectory() as tmp:
        var = os.path.join(tmp, "variant-" + args.observe_variant)
        replay.write_variant(args.observe_variant, frames, var)
        if args.observe_variant == "pcapng":
            # -w writes classic pcap: compare against the same frames as pcap
            plain = os.path.join(tmp, "plain.pcap")
            subprocess.run(["editcap", "-F", "pcap", var, plain], check=True,
                           capture_output=True, timeout=TIMEOUT_S)
            ref = plain
        else:
            ref = var
        out = os.path.join(tmp, "out.pcap")
        inspect_w(args.inspect, var, out, OBSERVE)
        n = same_capture(ref, out, "%s variant of %s" % (args.observe_variant, args.source))
    print("%s variant of %s: observe mode wrote the %d frames unchanged" %
          (args.observe_variant, args.source, n))
    return 0


def tshark_fields(path, fields, extra=()):
    cmd = ["tshark", "-n", "-r", path, "-o", "tcp.check_checksum:TRUE",
           "-o", "ip.check_checksum:TRUE", "-o", "tcp.relative_sequence_numbers:FALSE",
           "-T", "fields", "-E", "separator=\t", "-E", "occurrence=l"] + list(extra)
    for f in fields:
        cmd += ["-e", f]
    p = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT_S)
    if p.returncode != 0:
        fail("tshark on %s exited %d: %s" % (path, p.returncode, p.stderr.decode()[:300]))
    rows = []
    for line in p.stdout.decode("utf-8", "replace").split("\n"):
        if line:
            cols = line.split("\t")
            rows.append(dict(zip(fields, cols + [""] * (len(fields) - len(cols)))))
    return rows


SEG_FIELDS = ("frame.number", "tcp.stream", "tcp.srcport", "tcp.dstport", "tcp.seq_raw",
              "tcp.flags.syn", "tcp.flags.reset", "tcp.payload", "ip.checksum.status",
              "tcp.checksum.status", "tcp.analysis.flags", "tcp.analysis.retransmission",
              "tcp.analysis.out_of_order", "tcp.analysis.lost_segment",
              "tcp.analysis.spurious_retransmission")


def segments(path):
    """Per frame of a capture: its TCP stream, direction (src port), seq,
    payload, checksum verdicts, analysis flags."""
    return tshark_fields(path, SEG_FIELDS)


def reassemble(segs):
    """First copy wins, from the first sequence number seen (the SYN's + 1
    when there is one) to the first hole."""
    base, data = None, {}
    for s in segs:
        if not s["tcp.seq_raw"]:
            continue    # a TCP header quoted in an ICMP error
        seq = int(s["tcp.seq_raw"]) + (1 if s["tcp.flags.syn"] in ("1", "True") else 0)
        if base is None:
            base = seq
        payload = bytes.fromhex(s["tcp.payload"].replace(":", ""))
        off = (seq - base) & 0xffffffff
        if off > 1 << 30:
            continue    # before the base: an old segment
        for i, c in enumerate(payload):
            data.setdefault(off + i, c)
    out, i = bytearray(), 0
    while i in data:
        out.append(data[i])
        i += 1
    return bytes(out)


def normalized(b):
    return FIELD_LINE.sub(b"", b)


def enforce_one(args, src, policy, in_segs, in_frames, tmp):
    out = os.path.join(tmp, "out.pcap")
    inspect_w(args.inspect, src, out, policy)
    _, out_frames = read_any_pcap(out)
    known = {hashlib.sha1(f[2]).digest() for f in in_frames}
    new = {n for n, f in enumerate(out_frames, 1) if hashlib.sha1(f[2]).digest() not in known}
    out_segs = segments(out)
    bad_csum, bad_rst, rsts = [], [], 0
    for s in out_segs:
        n = int(s["frame.number"])
        if n not in new:
            continue
        if s["tcp.checksum.status"] not in ("1", "Good") or \
           s["ip.checksum.status"] not in ("", "1", "Good"):
            bad_csum.append(n)
        # Crafted RSTs are where the receiver expects the next byte. (Not
        # checked here for crafted FINs, which cannot be told apart from a
        # server's FIN retransmitted and shifted: tests/unit/test_engine.c.)
        if s["tcp.flags.reset"] in ("1", "True"):
            rsts += 1
            if any(s[f] for f in ("tcp.analysis.retransmission", "tcp.analysis.out_of_order",
                                  "tcp.analysis.lost_segment",
                                  "tcp.analysis.spurious_retransmission")):
                bad_rst.append(n)
    if bad_csum:
        fail("%s: edited or crafted frames with a bad checksum: %s" % (policy, bad_csum[:20]))
    if bad_rst:
        fail("%s: crafted RSTs not at the sequence number expected next: %s" %
             (policy, bad_rst[:20]))
    # Streams: per (stream, sending port), input against output.
    def by_dir(segs, stop_at_rst):
        dirs, stopped = {}, set()
        for s in segs:
            if not s["tcp.stream"]:
                continue
            key = (s["tcp.stream"], s["tcp.srcport"])
            n = int(s["frame.number"])
            if stop_at_rst and n in new and s["tcp.flags.reset"] in ("1", "True"):
                stopped.add(s["tcp.stream"])
            if s["tcp.stream"] in stopped:
                continue
            dirs.setdefault(key, []).append(s)
        return dirs, stopped
    in_dirs, _ = by_dir(in_segs, False)
    out_dirs, reset = by_dir(out_segs, True)
    dropped = len(in_frames) - (len(out_frames) - len(new)) > 0
    compared = 0
    for key, segs in in_dirs.items():
        cut = key[0] in reset or dropped
        a = normalized(reassemble(segs))
        b = reassemble(out_dirs.get(key, []))
        if cut:
            b = b[:b.rfind(b"\n") + 1]     # a field line cut short is not one
        b = normalized(b)
        if (b != a) if not cut else not a.startswith(b):
            i = next((k for k in range(min(len(a), len(b))) if a[k] != b[k]), min(len(a), len(b)))
            fail("%s: stream %s from port %s differs at byte %d (read %d, written %d):\n"
                 "  read:    %r\n  written: %r" % (policy, key[0], key[1], i, len(a), len(b),
                                                    a[max(0, i - 40):i + 40],
                                                    b[max(0, i - 40):i + 40]))
        compared += len(a)
    return len(new), rsts, compared


def messages_only(stdout, skip_streams):
    out = []
    for line in stdout.splitlines():
        if '"dir":' in line and json.loads(line)["stream"] not in skip_streams:
            out.append(line)
    return sorted(out)


def enforce(args):
    src = os.path.join(args.corpus, "pcaps", args.enforce)
    if not os.path.exists(src):
        fail("%s is missing" % src)
    _, in_frames = read_any_pcap(src)
    in_segs = segments(src)
    base = subprocess.run([args.inspect, "--json", src], capture_output=True,
                          timeout=TIMEOUT_S).stdout.decode("utf-8", "replace")
    with tempfile.TemporaryDirectory() as tmp:
        for policy in ENFORCE:
            new, rsts, compared = enforce_one(args, src, policy, in_segs, in_frames, tmp)
            js = subprocess.run([args.inspect, "--json", "--policy", policy, src],
                                capture_output=True, timeout=TIMEOUT_S)
            if js.returncode != 0:
                fail("--json --policy %s exited %d" % (policy, js.returncode))
            out = js.stdout.decode("utf-8", "replace")
            actions = [json.loads(l) for l in out.splitlines() if '"action":' in l]
            # A connection kapa reset (or closed) goes on in the capture (its ends never
            # saw the RST): what follows is picked up anew, so only the
            # streams kapa never reset must report the same messages.
            reset = {a["stream"] for a in actions if a["action"] in ("rst", "close")}
            if messages_only(out, reset) != messages_only(base, reset):
                fail("%s: the messages reported differ from a run without a policy" % policy)
            for a in actions:
                if "dir" in a or not {"stream", "flow", "frame", "action", "reason"} <= a.keys():
                    fail("%s: malformed action object %r" % (policy, a))
            print("%s: %s: %d frames edited or crafted (%d RSTs), %d actions, "
                  "%d stream bytes compared" % (args.enforce, policy, new, rsts,
                                                len(actions), compared))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inspect", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--observe", metavar="CAPTURE")
    ap.add_argument("--observe-variant", choices=replay.LINK_VARIANTS)
    ap.add_argument("--source")
    ap.add_argument("--enforce", metavar="CAPTURE")
    args = ap.parse_args()
    if args.observe:
        sys.exit(observe(args))
    if args.observe_variant:
        sys.exit(observe_variant(args))
    if args.enforce:
        sys.exit(enforce(args))
    ap.error("one of --observe, --observe-variant, --enforce")


if __name__ == "__main__":
    main()
