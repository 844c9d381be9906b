#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Re-cut every TCP segment of corpus captures at random points and shuffle
the pieces of each segment; kapa-inspect --json over the re-cut capture must
report the same messages as over the original (kapa against kapa, frame
numbers aside). See README.md, "Random re-cuts".

  recut.py --inspect BIN --corpus DIR --seed N [--known FILE] [CAPTURE...]

Without CAPTURE, every capture of the corpus's INDEX.tsv. Exit status 0 when
every capture gives the same messages or differs only in streams listed in
the known file, 1 otherwise (and when the corpus or a capture is missing)."""

import argparse
import csv
import os
import random
import struct
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import replay  # noqa: E402  (the pcap reading, the cutter, kapa-inspect runs)

# Link types of the corpus (and RAW): how to view a frame as Ethernet, so
# that replay.split_tcp() cuts it, and how to put each piece back.
LINK_ETHER, LINK_NULL, LINK_RAW, LINK_SLL = 1, 0, 101, 113
NULL_FAMILIES = {2: 0x0800, 24: 0x86dd, 28: 0x86dd, 30: 0x86dd}


def as_ether(linktype, frame):
    """@return (an Ethernet view of @p frame, a function that turns a piece
    of that view back into a frame of @p linktype), or None for a frame
    with nothing to cut (not IP under a NULL or RAW header)."""
    if linktype == LINK_ETHER:
        return frame, lambda piece: piece
    if linktype == LINK_SLL:
        # The cooked header's protocol field stands where Ethernet's type
        # does; what follows it (tags, PPPoE, IP) is walked as Ethernet's.
        head = frame[:14]
        return b"\0" * 12 + frame[14:], lambda piece: head + piece[12:]
    if linktype == LINK_NULL:
        fam = struct.unpack("<I", frame[:4])[0]
        if fam not in NULL_FAMILIES:
            fam = struct.unpack(">I", frame[:4])[0]
        etype = NULL_FAMILIES.get(fam)
        head = frame[:4]
    elif linktype == LINK_RAW:
        etype = {4: 0x0800, 6: 0x86dd}.get(frame[0] >> 4) if frame else None
        head = b""
    else:
        replay.fail("link type %d: not supported by the re-cut" % linktype)
    if etype is None:
        return None
    return b"\0" * 12 + struct.pack(">H", etype) + frame[len(head):], \
        lambda piece: head + piece[14:]


def cut_points(rng, n):
    """Random offsets to cut a payload of @p n bytes at (sorted): one to
    five cuts, and often a piece of one byte at either end."""
    if n < 2:
        return []
    points = set(rng.sample(range(1, n), rng.randint(1, min(n - 1, 5))))
    if rng.random() < 0.3:
        points.add(1)
    if rng.random() < 0.2:
        points.add(n - 1)
    return sorted(points)


def recut_frames(linktype, frames, rng):
    """Every TCP data segment of @p frames cut at random points into pieces
    sent in a random order (sequence numbers, IP lengths and checksums
    fixed up, FIN and PSH on the last piece of the stream). @return the
    new frames and how many segments were cut."""
    out, cut = [], 0
    for sec, usec, orig, frame in frames:
        view = as_ether(linktype, frame)
        pieces = [frame]
        if view is not None:
            eth, back = view
            # split_tcp() leaves whole what it cannot cut (not TCP, no
            # more than one byte of data, SYN or RST, IP fragments).
            if len(replay.split_tcp(eth, 2, False)) > 1:
                n = payload_len(eth)
                pieces = [back(p) for p in replay.split_tcp(
                    eth, 0, False, cuts=cut_points(rng, n), checksums=True)]
                rng.shuffle(pieces)
                cut += 1
        for piece in pieces:
            # A piece of a frame captured whole is whole too.
            out.append((sec, usec, len(piece) if piece is not frame else orig, piece))
    return out, cut


def payload_len(eth):
    """TCP payload bytes of an Ethernet view that replay.split_tcp() cuts."""
    etype, ip, _ = replay.link_of(eth)
    if etype == 0x0800:
        end = ip + struct.unpack(">H", eth[ip + 2:ip + 4])[0]
        tcp = ip + (eth[ip] & 15) * 4
    else:
        end = ip + 40 + struct.unpack(">H", eth[ip + 4:ip + 6])[0]
        tcp = ip + 40
    return end - tcp - (eth[tcp + 12] >> 4) * 4


def load_known(path):
    """{(capture, stream or '*'): reason} from a TSV (capture, stream, reason)."""
    known = {}
    if not path:
        return known
    with open(path, newline="") as f:
        for row in csv.reader(f, delimiter="\t"):
            if not row or row[0].startswith("#") or row[0] == "capture":
                continue
            if len(row) != 3 or not row[2].strip():
                replay.fail("%s: a row needs capture, stream and a reason: %r" % (path, row))
            known[(row[0], row[1])] = row[2]
    return known


def compare(capture, base, text, known):
    """@return (messages, unexplained differences, explained differences)."""
    a, b = replay.without_frames(base), replay.without_frames(text)
    key = lambda o: (o.get("file", ""), o["stream"], o["dir"], o["index"])
    ka, kb = {key(o): o for o in a}, {key(o): o for o in b}
    bad, ok = [], []
    for k in sorted(set(ka) | set(kb)):
        if ka.get(k) == kb.get(k):
            continue
        why = known.get((capture, str(k[1]))) or known.get((capture, "*"))
        (ok if why else bad).append((k, ka.get(k), kb.get(k)))
    return len(a), bad, ok


def corpus_captures(corpus):
    index = os.path.join(corpus, "INDEX.tsv")
    if not os.path.exists(index):
        replay.fail("%s is missing" % index)
    with open(index, newline="") as f:
        return [r["name"] for r in csv.DictReader(f, delimiter="\t")
                if r["name"].endswith(".pcap")]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inspect", required=True, help="kapa-inspect binary")
    ap.add_argument("--corpus", required=True, help="corpus directory (pcaps/, INDEX.tsv)")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--known", help="known differences TSV (capture, stream, reason)")
    ap.add_argument("--keep", help="write each re-cut capture into this directory")
    ap.add_argument("captures", nargs="*")
    args = ap.parse_args()

    known = load_known(args.known)
    captures = args.captures or corpus_captures(args.corpus)
    failed, used = [], set()
    for capture in captures:
        src = os.path.join(args.corpus, "pcaps", capture)
        if not os.path.exists(src):
            replay.fail("%s is missing" % src)
        linktype, frames = replay.read_pcap(src)
        # One generator per capture: a capture's cut does not depend on
        # which others run with it.
        rng = random.Random("%d:%s" % (args.seed, capture))
        out, cut = recut_frames(linktype, frames, rng)
        rc, base, err = replay.run_inspect(args.inspect, src)
        if rc != 0:
            replay.fail("kapa-inspect exited %d on %s: %s" % (rc, src, err))
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(args.keep or tmp, "recut-%d-%s" % (args.seed, capture))
            replay.write_records(path, linktype, out)
            rc, text, err = replay.run_inspect(args.inspect, path)
        if rc != 0:
            replay.fail("kapa-inspect exited %d on the re-cut %s: %s" % (rc, capture, err))
        n, bad, ok = compare(capture, base, text, known)
        for k, _, _ in ok:
            used.add((capture, str(k[1])) if (capture, str(k[1])) in known else (capture, "*"))
        status = "same %d messages" % n if not bad and not ok else \
            "%d differ (%d known)" % (len(bad) + len(ok), len(ok))
        print("%s: %d segments cut into %d frames (was %d): %s" % (
            capture, cut, len(out), len(frames), status))
        for k, x, y in bad[:20]:
            print("  %s\n    whole: %s\n    recut: %s" % (k, x, y))
        if bad:
            failed.append(capture)
    for k in sorted(set(known) - used):
        if k[0] in captures:
            print("note: known difference %s not seen with seed %d" % ("/".join(k), args.seed))
    if failed:
        replay.fail("seed %d: %d of %d captures give other messages when re-cut: %s" % (
            args.seed, len(failed), len(captures), " ".join(failed)))
    print("seed %d: all %d captures give the same messages re-cut" % (args.seed, len(captures)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
