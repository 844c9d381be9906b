#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# kapa-inspect --json against tshark extracting the same fields from the same
# capture: wall time of one run each, and the ratio tshark / kapa-inspect.
#
#   bench_inspect.sh KAPA_INSPECT CORPUS_DIR [TOP_N]
#
# Captures: the TOP_N (default 3) largest of the corpus by bytes, then all
# Ethernet captures concatenated (mergecap -a), then that concatenation
# repeated 8 times (kapa-inspect's start-up, EAL and the Hyperscan compile,
# weighs on small files). The page cache is warmed before each timing.
set -eu

inspect=${1:?kapa-inspect binary}
corpus=${2:?corpus directory}
top=${3:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

[ -f "$corpus/INDEX.tsv" ] || { echo "corpus not found at $corpus" >&2; exit 1; }
command -v tshark >/dev/null || { echo "tshark not installed" >&2; exit 1; }

now_ns() { date +%s%N; }

# The fields the replay truth uses, with the truth's reassembly settings.
run_tshark() {
	tshark -n -r "$1" \
		-o tcp.desegment_tcp_streams:TRUE -o http.desegment_headers:TRUE \
		-o http.desegment_body:TRUE -Y http -T fields \
		-e tcp.stream -e http.request.method -e http.response.code \
		-e http.request.version -e http.response.version -e http.connection \
		>"$tmp/tshark.out" 2>/dev/null
}

run_kapa() {
	"$inspect" --json "$1" >"$tmp/kapa.out"
}

bench_one() {
	f=$1
	cat "$f" >/dev/null
	t0=$(now_ns); run_kapa "$f"; t1=$(now_ns)
	t2=$(now_ns); run_tshark "$f"; t3=$(now_ns)
	k=$(( (t1 - t0) / 1000000 )); t=$(( (t3 - t2) / 1000000 ))
	msgs=$(wc -l <"$tmp/kapa.out")
	bytes=$(stat -c %s "$f")
	awk -v n="$(basename "$f")" -v b="$bytes" -v m="$msgs" -v k="$k" -v t="$t" 'BEGIN {
		printf "%-58s %9.1f MB %7d msgs  kapa %7d ms  tshark %7d ms  ratio %6.1fx\n",
			n, b / 1e6, m, k, t, (k > 0 ? t / k : 0) }'
}

echo "kapa-inspect vs tshark (wall time, one run each; ratio = tshark / kapa)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
awk -F'\t' 'NR > 1 { print $29 "\t" $1 }' "$corpus/INDEX.tsv" | sort -rn | head -n "$top" |
	cut -f2 | while read -r name; do
		bench_one "$corpus/pcaps/$name"
	done

eth=$(awk -F'\t' 'NR > 1 && $4 == "ether" { print $1 }' "$corpus/INDEX.tsv")
(cd "$corpus/pcaps" && mergecap -a -F pcap -w "$tmp/all.pcap" $eth)
bench_one "$tmp/all.pcap"
set --
for i in 1 2 3 4 5 6 7 8; do set -- "$@" "$tmp/all.pcap"; done
mergecap -a -F pcap -w "$tmp/all-x8.pcap" "$@"
bench_one "$tmp/all-x8.pcap"
