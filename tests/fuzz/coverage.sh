#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Line coverage of dataplane/core (and kapa-inspect's capture.c) that the fuzz
# corpora reach, with clang's source-based coverage:
#
#   tests/fuzz/coverage.sh [-b BUILD_DIR] [CORPORA_DIR]
#
# Each harness is compiled with -fprofile-instr-generate -fcoverage-mapping
# (no fuzzer instrumentation, no sanitizers) and linked with replay_main.c,
# which runs every file of its corpus once through LLVMFuzzerTestOneInput().
# A harness replays its checked-in seeds (seeds/NAME), and CORPORA_DIR/NAME
# and CORPORA_DIR/NAME/* when CORPORA_DIR is given (corpora grown by longer
# runs, see docs/fuzzing.md; fuzz_pkt also reads CORPORA_DIR/pcap_frames,
# fuzz_capture CORPORA_DIR/capture_heads when they exist). The profiles are
# merged (llvm-profdata) and llvm-cov prints per-file line coverage: first
# per harness, then all harnesses together.
#
# Needs clang, llvm-profdata and llvm-cov (version 14 by default: CLANG,
# LLVM_PROFDATA and LLVM_COV override), pkg-config for DPDK, Hyperscan and
# libpcap. Writes only into BUILD_DIR (default build-cov).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=$top/build-cov
if [ "${1:-}" = -b ]; then
	build=$(mkdir -p "$2" && cd "$2" && pwd)
	shift 2
fi
corpora=${1:-}
CLANG=${CLANG:-clang-14}
command -v "$CLANG" >/dev/null 2>&1 || CLANG=clang
LLVM_PROFDATA=${LLVM_PROFDATA:-llvm-profdata-14}
LLVM_COV=${LLVM_COV:-llvm-cov-14}

core=$top/dataplane/core
inspect=$top/dataplane/inspect
mkdir -p "$build/profiles"
rm -f "$build"/profiles/*.profraw

cflags="-std=gnu11 -O1 -g -fprofile-instr-generate -fcoverage-mapping
	-D_GNU_SOURCE -DALLOW_EXPERIMENTAL_API -I$core -I$inspect
	$(pkg-config --cflags libdpdk libhs libpcap)"
libs="$(pkg-config --libs libdpdk libhs libpcap) -lstdc++ -lm"

# harness: its core sources (as tests/fuzz/meson.build lists them)
sources() {
	case $1 in
	pkt) echo "$core/kapa_pkt.c" ;;
	http_values) echo "$core/kapa_http_values.c" ;;
	http_seg|http_stream) echo "$core/kapa_http.c $core/kapa_http_values.c $core/kapa_http_scan.c" ;;
	tcp) echo "$core/kapa_tcp.c $core/kapa_reasm.c $core/kapa_flow.c $core/kapa_mem.c $core/kapa_timer.c $core/kapa_pkt.c $core/kapa_eal.c" ;;
	reasm) echo "$core/kapa_reasm.c $core/kapa_mem.c" ;;
	capture) echo "$inspect/capture.c $core/kapa_pkt.c" ;;
	frag) echo "$core/kapa_frag.c $core/kapa_mem.c $core/kapa_pkt.c" ;;
	esac
}

harnesses="pkt http_values http_seg http_stream tcp reasm capture frag"
objects=
for h in $harnesses; do
	exe=$build/fuzz_$h
	echo "coverage.sh: building $exe" >&2
	# shellcheck disable=SC2046,SC2086
	$CLANG $cflags -o "$exe" "$here/fuzz_$h.c" "$here/replay_main.c" $(sources $h) $libs
	objects="$objects -object=$exe"
	set -- "$here/seeds/$h"
	if [ -n "$corpora" ]; then
		[ -d "$corpora/$h" ] && set -- "$@" "$corpora/$h"
		for d in "$corpora/$h"/*/; do
			[ -d "$d" ] && set -- "$@" "$d"
		done
		[ "$h" = pkt ] && [ -d "$corpora/pcap_frames" ] && set -- "$@" "$corpora/pcap_frames"
		[ "$h" = capture ] && [ -d "$corpora/capture_heads" ] && set -- "$@" "$corpora/capture_heads"
	fi
	echo "coverage.sh: replaying $* through fuzz_$h" >&2
	LLVM_PROFILE_FILE="$build/profiles/$h.profraw" "$exe" "$@" >/dev/null
	"$LLVM_PROFDATA" merge -sparse -o "$build/profiles/$h.profdata" \
		"$build/profiles/$h.profraw"
done

"$LLVM_PROFDATA" merge -sparse -o "$build/profiles/all.profdata" "$build"/profiles/*.profraw

# Per-file line coverage; the harnesses' own files are left out.
report() {
	# shellcheck disable=SC2086
	"$LLVM_COV" report -instr-profile="$1" $2 \
		-ignore-filename-regex='tests/fuzz/' "$core"/*.c "$inspect/capture.c" |
		awk 'BEGIN { printf "%-22s %8s %8s %8s\n", "file", "lines", "missed", "cover" }
		     /^TOTAL/ || /\.c / {
			sub(".*/", "", $1); printf "%-22s %8s %8s %8s\n", $1, $8, $9, $10 }'
}
for h in $harnesses; do
	echo "== fuzz_$h"
	# shellcheck disable=SC2046
	report "$build/profiles/$h.profdata" "$build/fuzz_$h"
done
echo "== all harnesses together"
# shellcheck disable=SC2086
report "$build/profiles/all.profdata" "$(echo $objects | sed 's/^-object=//')"
