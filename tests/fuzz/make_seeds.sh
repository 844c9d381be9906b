#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Turn the frames of libpcap captures into fuzz_pkt seeds: one file per
# distinct frame, its first byte the harness's l2 selector (0 Ethernet,
# 3 bare IP with the version nibble deciding), as kapa-inspect maps link types.
# The captures are read where they are (../shared/corpus/pcaps by default);
# nothing is copied into the repository.
#
#   tests/fuzz/make_seeds.sh OUT_DIR [PCAP_DIR [FRAMES_PER_FILE]]
#
# With --captures first, the seeds are for fuzz_capture instead: each capture
# (pcap or pcapng) cut after its first FRAMES_PER_FILE (default 8) records or
# blocks, whole records only, so that every seed is a small valid capture.
#
#   tests/fuzz/make_seeds.sh --captures OUT_DIR [PCAP_DIR [RECORDS_PER_FILE]]
#
# python3 is there wherever meson is.
set -eu

mode=frames
if [ "${1:-}" = --captures ]; then
	mode=captures
	shift
fi
out=${1:?usage: make_seeds.sh [--captures] OUT_DIR [PCAP_DIR [FRAMES_PER_FILE]]}
here=$(cd "$(dirname "$0")" && pwd)
pcaps=${2:-${KAPA_CORPUS:-$here/../../../shared/corpus}/pcaps}
if [ $mode = captures ]; then
	per_file=${3:-8}
else
	per_file=${3:-32}
fi

if [ ! -d "$pcaps" ]; then
	echo "make_seeds.sh: no capture directory $pcaps; only the checked-in seeds will be used" >&2
	mkdir -p "$out"
	exit 0
fi
mkdir -p "$out"
if [ $mode = captures ]; then
	exec python3 - "$out" "$pcaps" "$per_file" <<'PY'
import os, struct, sys

out, pcaps, per_file = sys.argv[1], sys.argv[2], int(sys.argv[3])
written = 0
for name in sorted(os.listdir(pcaps)):
    with open(os.path.join(pcaps, name), 'rb') as f:
        img = f.read(1 << 20)
    if len(img) < 24:
        continue
    magic = struct.unpack('<I', img[:4])[0]
    if magic in (0xa1b2c3d4, 0xa1b23c4d, 0xd4c3b2a1, 0x4d3cb2a1):
        end = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
        pos, n = 24, 0
        while n < per_file and pos + 16 <= len(img):
            caplen = struct.unpack(end + 'I', img[pos + 8:pos + 12])[0]
            if pos + 16 + caplen > len(img):
                break
            pos += 16 + caplen
            n += 1
    elif magic == 0x0a0d0d0a:
        end = '<' if img[8:12] == b'\x4d\x3c\x2b\x1a' else '>'
        pos, n = 0, 0
        while n < per_file + 2 and pos + 12 <= len(img):
            blen = struct.unpack(end + 'I', img[pos + 4:pos + 8])[0]
            if blen < 12 or pos + blen > len(img):
                break
            pos += blen
            n += 1
    else:
        continue
    with open(os.path.join(out, name + '.head'), 'wb') as s:
        s.write(img[:pos])
    written += 1
print('make_seeds.sh: %d capture heads from %s in %s' % (written, pcaps, out))
PY
fi
exec python3 - "$out" "$pcaps" "$per_file" <<'PY'
import hashlib, os, struct, sys

out, pcaps, per_file = sys.argv[1], sys.argv[2], int(sys.argv[3])
# link type -> (bytes of link header to drop, selector byte)
LINK = {1: (0, 0), 101: (0, 3), 113: (16, 3), 276: (20, 3), 0: (4, 3), 108: (4, 3)}
written = files = 0
for name in sorted(os.listdir(pcaps)):
    path = os.path.join(pcaps, name)
    with open(path, 'rb') as f:
        hdr = f.read(24)
        if len(hdr) < 24:
            continue
        magic = struct.unpack('<I', hdr[:4])[0]
        if magic in (0xa1b2c3d4, 0xa1b23c4d):
            end = '<'
        elif magic in (0xd4c3b2a1, 0x4d3cb2a1):
            end = '>'
        else:
            print('make_seeds.sh: %s: not a libpcap file, skipped' % name, file=sys.stderr)
            continue
        link = struct.unpack(end + 'I', hdr[20:24])[0] & 0x0fffffff
        if link not in LINK:
            print('make_seeds.sh: %s: link type %d, skipped' % (name, link), file=sys.stderr)
            continue
        skip, sel = LINK[link]
        files += 1
        n = 0
        while n < per_file:
            rec = f.read(16)
            if len(rec) < 16:
                break
            caplen = struct.unpack(end + 'IIII', rec)[2]
            frame = f.read(caplen)
            if len(frame) < caplen:
                break
            seed = bytes([sel]) + frame[skip:]
            digest = hashlib.sha1(seed).hexdigest()
            dst = os.path.join(out, digest)
            if not os.path.exists(dst):
                with open(dst, 'wb') as s:
                    s.write(seed)
                written += 1
            n += 1
print('make_seeds.sh: %d seeds from %d captures in %s' % (written, files, out))
PY
