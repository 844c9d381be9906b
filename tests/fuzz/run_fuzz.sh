#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# One bounded libFuzzer run, as the meson `fuzz` suite does it:
#
#   run_fuzz.sh HARNESS WORK_DIR SEED_DIR [PCAP_DIR]
#
# New inputs go to WORK_DIR/corpus (in the build tree, never the source
# tree); the checked-in SEED_DIR is read only; with PCAP_DIR, frames of the
# captures there are added as seeds once (make_seeds.sh). Crash inputs land in
# WORK_DIR. KAPA_FUZZ_SECONDS (default 30) bounds the run. KAPA_SEED_MODE
# says what the captures become: "frames" (default, one seed per frame) or
# "captures" (each capture cut to its first records, for fuzz_capture).
set -eu

harness=${1:?usage: run_fuzz.sh HARNESS WORK_DIR SEED_DIR [PCAP_DIR]}
work=${2:?}
seeds=${3:?}
pcaps=${4:-}
here=$(cd "$(dirname "$0")" && pwd)

mkdir -p "$work/corpus"
set -- "$work/corpus" "$seeds"
if [ -n "$pcaps" ]; then
	if [ ! -d "$work/pcap_seeds" ]; then
		if [ "${KAPA_SEED_MODE:-frames}" = captures ]; then
			"$here/make_seeds.sh" --captures "$work/pcap_seeds.tmp" "$pcaps"
		else
			"$here/make_seeds.sh" "$work/pcap_seeds.tmp" "$pcaps"
		fi
		mv "$work/pcap_seeds.tmp" "$work/pcap_seeds"
	fi
	set -- "$@" "$work/pcap_seeds"
fi
# libFuzzer exits 77 on a finding by default, which meson reads as SKIP.
exec "$harness" -max_total_time="${KAPA_FUZZ_SECONDS:-30}" -timeout=10 \
	-error_exitcode=1 -timeout_exitcode=1 \
	-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/" "$@"
