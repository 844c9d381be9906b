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
    """{(stream, frame): [method or status, ...]} with body desegmentation off."""
    out = subprocess.run(
        ["tshark", "-n", "-r", pcap, "-o", "tcp.desegment_tcp_streams:TRUE",
         "-o", "http.desegment_headers:TRUE", "-o", "http.desegment_body:FALSE",
         "-Y", "http", "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|",
         "-e", "frame.number", "-e", "tcp.stream", "-e", "http.request.method",
         "-e", "http.response.code"],
        capture_output=True, text=True, check=True).stdout
    seen = {}
    for line in out.splitlines():
        cols = line.split("\t")
        frame, stream = int(cols[0]), cols[1].split("|")[0]
        vals = [v for c in cols[2:4] for v in c.split("|") if v]
        seen.setdefault((int(stream), frame), []).extend(vals)
    return seen


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
                if m["method_or_code"] in hp.get((stream, int(m["hdr_frame"])), []):
                    print("%s\t%d\t%s\t%d\textra\tbody never completes in the capture: the header "
                          "block completes in frame %s (tshark finds %s there with "
                          "http.desegment_body:FALSE), and with body desegmentation tshark "
                          "reports a message only when its body completes" % (
                              cap, stream, d, seq, m["hdr_frame"], m["method_or_code"]))
                    continue
            print("# %s\t%s\t%s\t%s\t%s\t%s" % (cap, stream, d, seq, field, detail), file=sys.stderr)


if __name__ == "__main__":
    main()
