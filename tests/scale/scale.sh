#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# kapa-inspect on a generated capture of N keep-alive connections all open at
# once (gen_conns.c; written to a temporary directory, never committed).
#
#   scale.sh GEN_CONNS KAPA_INSPECT check N
#       the report and --json: every connection with 2 requests and 2 paired
#       responses, nothing on stderr; prints each run's peak RSS
#   scale.sh GEN_CONNS KAPA_INSPECT limit N MAX_CONNS
#       with --max-conns MAX_CONNS well under N: the stderr line appears
#       once, with the count this capture must give (5N, see below); and
#       without the option, no line and every connection right
#   scale.sh GEN_CONNS KAPA_INSPECT bench SMALL LARGE [GOAL_BYTES]
#       peak RSS of the report and of --json at SMALL and LARGE connections
#       (each also checked as above), and bytes per connection
#       (RSS(LARGE) - RSS(SMALL)) / (LARGE - SMALL); fails when it is not
#       under GOAL_BYTES (default 512)
#
# Peak RSS is the kernel's high-water mark (GNU time's %M). kapa-inspect's
# growing table does not use the hugetlb pool, so RSS is all of it.
set -eu

gen=${1:?gen_conns binary}
inspect=${2:?kapa-inspect binary}
mode=${3:?check, limit or bench}
shift 3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

command -v /usr/bin/time >/dev/null || { echo "FAIL: /usr/bin/time (GNU time) not installed" >&2; exit 1; }

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

capture() {
	"$gen" "$1" "$tmp/c$1.pcap" >/dev/null || fail "gen_conns $1"
}

# run_report N [ARGS...]: sets rss (KiB); the report in $tmp/rep, stderr in $tmp/err
run_report() {
	n=$1
	shift
	/usr/bin/time -f %M -o "$tmp/rss" "$inspect" "$@" "$tmp/c$n.pcap" >"$tmp/rep" 2>"$tmp/err" ||
		fail "kapa-inspect $* c$n.pcap exited $?: $(cat "$tmp/err")"
	rss=$(tail -n 1 "$tmp/rss")
}

# The report of N connections: 2 requests on each, 2N final responses, none
# cut short, nothing on stderr.
check_report() {
	n=$1
	[ ! -s "$tmp/err" ] || fail "report of $n: stderr: $(cat "$tmp/err")"
	grep -Eq "^messages +$((2 * n)) requests, $((2 * n)) final responses" "$tmp/rep" ||
		fail "report of $n: $(grep '^messages' "$tmp/rep")"
	grep -Eq "^  2 +$n " "$tmp/rep" ||
		fail "report of $n: requests per connection: $(grep -E '^  [0-9]' "$tmp/rep" | head -3 | tr '\n' '|')"
	grep -Eq "expired or evicted by kapa +0$" "$tmp/rep" ||
		fail "report of $n: $(grep 'expired or evicted' "$tmp/rep")"
}

# --json of N connections, counted as it streams out (no copy kept): requests
# and responses with index 0 and 1, N of each, none pair_unsure.
run_json() {
	n=$1
	/usr/bin/time -f %M -o "$tmp/rss" "$inspect" --json "$tmp/c$n.pcap" 2>"$tmp/err" |
		awk -v n="$n" '
			/"dir":"request","index":0,/ { q0++ }
			/"dir":"request","index":1,/ { q1++ }
			/"dir":"response","index":0,/ { r0++ }
			/"dir":"response","index":1,/ { r1++ }
			/pair_unsure/ { unsure++ }
			{ lines++ }
			END {
				if (q0 != n || q1 != n || r0 != n || r1 != n || unsure != 0 || lines != 4 * n) {
					printf "json of %d: requests %d+%d, responses %d+%d, pair_unsure %d, objects %d\n",
						n, q0, q1, r0, r1, unsure, lines
					exit 1
				}
			}' >"$tmp/json_check" || fail "$(cat "$tmp/json_check")"
	[ ! -s "$tmp/err" ] || fail "json of $n: stderr: $(cat "$tmp/err")"
	rss=$(tail -n 1 "$tmp/rss")
}

case $mode in
check)
	n=${1:?N}
	capture "$n"
	run_report "$n"
	check_report "$n"
	echo "report, $n connections: peak RSS $rss KiB"
	run_json "$n"
	echo "--json, $n connections: peak RSS $rss KiB"
	;;
limit)
	n=${1:?N}
	max=${2:?MAX_CONNS}
	capture "$n"
	/usr/bin/time -f %M -o "$tmp/rss" "$inspect" --max-conns "$max" "$tmp/c$n.pcap" \
		>"$tmp/rep" 2>"$tmp/err" || fail "kapa-inspect --max-conns $max exited $?"
	lines=$(grep -c 'lost their state' "$tmp/err" || true)
	[ "$lines" -eq 1 ] || fail "expected one stderr line about lost state, got $lines: $(cat "$tmp/err")"
	said=$(sed -n 's/.*: \([0-9]*\) connections lost their state.*/\1/p' "$tmp/err")
	# Frames visit the connections in order, so with an LRU table smaller
	# than N every entry is evicted before its connection's next frame:
	# after the handshake and after each of the 4 messages (the pickup
	# entries the FINs make are closed when evicted, no state lost): 5N.
	[ -n "$said" ] || fail "cannot read the count: $(cat "$tmp/err")"
	[ "$said" -eq $((5 * n)) ] ||
		fail "stderr says $said connections lost state; expected 5 x $n = $((5 * n))"
	grep -q -- '--max-conns N' "$tmp/err" || fail "the line does not say what to pass: $(cat "$tmp/err")"
	echo "--max-conns $max, $n connections: $(cat "$tmp/err")"
	# And without the limit, no such line.
	run_report "$n"
	check_report "$n"
	echo "default limit, $n connections: nothing on stderr"
	;;
bench)
	small=${1:?SMALL}
	large=${2:?LARGE}
	goal=${3:-512}
	status=0
	echo "kapa-inspect peak RSS, generated keep-alive captures (tests/scale/gen_conns.c)"
	echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
	capture "$small"
	capture "$large"
	for what in report json; do
		for n in "$small" "$large"; do
			t0=$(date +%s%N)
			if [ "$what" = report ]; then
				run_report "$n"
				check_report "$n"
			else
				run_json "$n"
			fi
			t1=$(date +%s%N)
			eval "rss_${what}_$n=$rss"
			printf "%-7s %9d connections: peak RSS %8d KiB, %6.1f s\n" "$what" "$n" "$rss" \
				"$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a) / 1e9 }')"
		done
		eval "a=\$rss_${what}_$small b=\$rss_${what}_$large"
		per=$(( (b - a) * 1024 / (large - small) ))
		verdict=ok
		[ "$per" -lt "$goal" ] || { verdict="OVER the goal"; status=1; }
		printf "%-7s bytes per connection: (%d - %d) KiB / %d = %d B (goal < %d B: %s)\n" \
			"$what" "$b" "$a" $((large - small)) "$per" "$goal" "$verdict"
	done
	exit $status
	;;
*)
	fail "unknown mode $mode"
	;;
esac
