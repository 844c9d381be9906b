#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Propose known-differences rows for one class of disagreement that tshark
itself can confirm: a message kapa reports ('extra') whose header block
tshark also finds, in the same frame, when body desegmentation is off. Such a
message's body never completes in the capture, and with body desegmentation
on (how the truth was made) tshark reports a message only when its body
completes. Every other disagreement is printed for a person to explain.

  explain.py --inspect BIN --corpus DIR CAPTURE...   (rows on stdout)

Not run by meson: it needs tshark; its output is reviewed and checked in."""

import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import replay  # noqa: E402


def header_pass(pcap):
    """[(stream, frame, method or status, uri)] with body desegmentation off."""
    out = subprocess.run(
        ["tshark", "-n", "-r", pcap, "-o", "tcp.desegment_tcp_streams:TRUE",
         "-o", "http.desegment_headers:TRUE", "-o", "http.desegment_body:FALSE",
         "-Y", "http", "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|",
         "-e", "frame.number", "-e", "tcp.stream", "-e", "http.request.method",
         "-e", "http.response.code", "-e", "http.request.uri"],
        capture_output=True, text=True, check=True).stdout
    seen = []
    for line in out.splitlines():
        cols = line.split("\t")
        frame, stream = int(cols[0]), int(cols[1].split("|")[0])
        uris = [u for u in cols[4].split("|") if u]
        for i, v in enumerate(v for v in cols[2].split("|") if v):
            seen.append((stream, frame, v, uris[i] if i < len(uris) else None))
        for v in (v for v in cols[3].split("|") if v):
            seen.append((stream, frame, v, None))
    return seen


def verify_extra(hp, truth, stream, m):
    """@return how tshark's header-only pass confirms kapa's extra message m,
    or None."""
    mc, frame = m["method_or_code"], int(m["hdr_frame"])
    if any(h[:3] == (stream, frame, mc) for h in hp):
        return "the header block completes in frame %d (tshark finds %s there with " \
            "http.desegment_body:FALSE)" % (frame, mc)
    if m.get("target"):
        for h in hp:
            if h[0] == stream and h[2] == mc and h[3] and h[3][:200] == m["target"][:200]:
                return "the header block completes in frame %d (tshark finds %s %s there " \
                    "with http.desegment_body:FALSE)" % (h[1], mc, h[3][:60])
        return None
    n_hdr = sum(1 for h in hp if h[0] == stream and h[2] == mc)
    n_body = sum(1 for k, t in truth.items() if k[0] == stream and t["method_or_code"] == mc)
    if n_hdr > n_body:
        return "tshark finds %d responses %s in this stream with http.desegment_body:FALSE, " \
            "%d with it" % (n_hdr, mc, n_body)
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--inspect", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("captures", nargs="+")
    args = ap.parse_args()
    for cap in args.captures:
        pcap = os.path.join(args.corpus, "pcaps", cap)
        truths = [replay.load_truth(os.path.join(args.corpus, "truth", cap + ".tsv"))]
        alt = os.path.join(args.corpus, "truth_alt_ooo", cap + ".tsv")
        if os.path.exists(alt):
            truths.append(replay.load_truth(alt))
        rc, out, err = replay.run_inspect(args.inspect, pcap)
        kapa = replay.load_kapa(out)
        smap = replay.stream_map(kapa, truths[0])
        kapa = {(smap.get(k[0], k[0]),) + k[1:]: v for k, v in kapa.items()}
        hp = header_pass(pcap)
        for stream, d, seq, field, detail in replay.compare(kapa, truths):
            if field == "extra":
                m = kapa[(stream, d, seq)]
                why = verify_extra(hp, truths[0], stream, m)
                if why:
                    print("%s\t%d\t%s\t%d\textra\tbody never completes in the capture: %s; "
                          "with body desegmentation tshark reports a message only when its "
                          "body completes" % (cap, stream, d, seq, why))
                    continue
            print("# %s\t%s\t%s\t%s\t%s\t%s" % (cap, stream, d, seq, field, detail), file=sys.stderr)


if __name__ == "__main__":
    main()
