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
# python3 is there wherever meson is.
set -eu

out=${1:?usage: make_seeds.sh OUT_DIR [PCAP_DIR [FRAMES_PER_FILE]]}
here=$(cd "$(dirname "$0")" && pwd)
pcaps=${2:-${KAPA_CORPUS:-$here/../../../shared/corpus}/pcaps}
per_file=${3:-32}

if [ ! -d "$pcaps" ]; then
	echo "make_seeds.sh: no capture directory $pcaps; only the checked-in seeds will be used" >&2
	mkdir -p "$out"
	exit 0
fi
mkdir -p "$out"
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
