#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# kapa-dp on ports (docs/performance.md, "kapa-dp on ports"): packets per
# second through kapa-dp, its worker's cycles per packet, and kapa's own cost
# per packet (its time per packet less that of kapa-dp --bypass, the
# forwarding ceiling through the same PMDs and TX path), for
#
#   - kapa_gen's HTTP/1.1 keep-alive connections over net_memif, at 10K and
#     1M concurrent connections: --policy mode=observe, an acting policy
#     (timeout=60,max=100,mode=advertise, for information) and --bypass;
#   - a capture replayed through net_pcap (infinite_rx) into net_null, with
#     and without --bypass.
#
# One worker: kapa-dp -l 0,1 (main lcore 0 sleeps, worker on lcore 1), the
# generator on lcore 0. kapa_gen first opens every connection (its ramp),
# then sends for the measured duration; the script marks kapa-dp's worker
# counters (SIGUSR1: frames and busy cycles so far) when the measured part
# starts and when it ends, and takes the worker's cycles per packet from the
# two marks. Each row runs KAPA_BENCH_REPS times (rows alternate) and keeps
# its fastest repetition (least worker CPU time per packet). Prints
# one table and whether the goal (own cost <= 100 ns per packet at 1M in
# observe mode, at least half the ceiling) was met; a missed goal does not
# fail the run (it is a benchmark). Fails, saying why, when it cannot run.
#
# Usage: bench_dp.sh KAPA_DP KAPA_GEN CORPUS_DIR
# Environment:
#   KAPA_BENCH_QUICK=1      10K only, 3 s runs, one repetition
#   KAPA_BENCH_DURATION=S   measured seconds per run (10), after kapa_gen's ramp
#   KAPA_BENCH_REPS=N       repetitions per row (3)
#   KAPA_BENCH_CONNS="N.."  connection counts (10000 1000000)
#   KAPA_BENCH_PCAP=FILE    the capture to replay (the corpus's largest
#                           Ethernet capture, pcapplusplus__PcapExamples__example.pcap)
#   KAPA_BENCH_GEN_ARGS=..  more kapa_gen options (--requests, --body, --mss, ...)
#   KAPA_BENCH_LOGS=DIR     keep every run's kapa-dp and kapa_gen output there
#   KAPA_BENCH_RETRIES=N    runs in which kapa-dp's worker waited for its CPU more
#                           than 5% of the time (other programs on the 2 cores), or
#                           (kapa rows) kapa_gen's window was full less than 90% of
#                           it, are run again, up to N times per row and repetition (2)
# Needs root, bpffs on /sys/fs/bpf, and 2 MiB hugepages: it raises the
# reservation through scripts/host-prep.sh when too few are free.
set -euo pipefail

die() { echo "bench_dp: error: $*" >&2; exit 1; }
say() { echo "bench_dp: $*"; }

[ $# -eq 3 ] || die "usage: $0 KAPA_DP KAPA_GEN CORPUS_DIR"
dp=$1 gen=$2 corpus=$3
[ -x "$dp" ] || die "kapa-dp '$dp' is not an executable (build first: ninja -C build)"
[ -x "$gen" ] || die "kapa_gen '$gen' is not an executable (build first: ninja -C build)"
[ "$(id -u)" -eq 0 ] || die "needs root (hugepages, memif sockets, pinned maps): run it as root"
[ "$(findmnt -n -o FSTYPE --mountpoint /sys/fs/bpf 2>/dev/null)" = bpf ] ||
	die "bpffs is not mounted on /sys/fs/bpf (scripts/host-prep.sh mounts it)"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src_root=$(cd "$here/../.." && pwd)

quick=${KAPA_BENCH_QUICK:-0}
[ "$quick" = 1 ] || quick=0
if [ "$quick" = 1 ]; then
	dur=${KAPA_BENCH_DURATION:-3} reps=${KAPA_BENCH_REPS:-1} sizes=${KAPA_BENCH_CONNS:-10000}
else
	dur=${KAPA_BENCH_DURATION:-10} reps=${KAPA_BENCH_REPS:-3}
	sizes=${KAPA_BENCH_CONNS:-"10000 1000000"}
fi
pcap=${KAPA_BENCH_PCAP:-$corpus/pcaps/pcapplusplus__PcapExamples__example.pcap}
gen_args=${KAPA_BENCH_GEN_ARGS:-}
[ -r "$pcap" ] || die "capture '$pcap' not readable (CORPUS_DIR or KAPA_BENCH_PCAP)"
case "$dur$reps" in *[!0-9]*) die "KAPA_BENCH_DURATION and KAPA_BENCH_REPS are whole numbers" ;; esac
{ [ "$dur" -ge 1 ] && [ "$reps" -ge 1 ]; } || die "KAPA_BENCH_DURATION and KAPA_BENCH_REPS are at least 1"
if [ -n "${KAPA_BENCH_LOGS:-}" ]; then
	mkdir -p "$KAPA_BENCH_LOGS" || die "cannot create KAPA_BENCH_LOGS=$KAPA_BENCH_LOGS"
fi
for n in $sizes; do
	case "$n" in ''|*[!0-9]*) die "KAPA_BENCH_CONNS: '$n' is not a number" ;; esac
done

# ---- clean-up of everything started here, on success and failure ----------------------
tag=kapa-bench-$$
tmp=$(mktemp -d "/tmp/$tag.XXXXXX")
pids=() maproots=() prefixes=()
cleanup() {
	local p _
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null || continue
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
	done
	for p in "${maproots[@]}"; do rm -rf "$p"; done
	for p in "${prefixes[@]}"; do
		rm -rf "/var/run/dpdk/$p"
		rm -f /dev/hugepages/"$p"map_* /dev/hugepages/"$p"-*
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo "bench_dp: error: interrupted" >&2; exit 130' INT TERM
# The programs as they are now: a rebuild during the runs (others share the
# build tree) would otherwise change them between rows.
{ cp "$dp" "$tmp/kapa-dp" && cp "$gen" "$tmp/kapa_gen"; } || die "cannot copy the programs to $tmp"
dp=$tmp/kapa-dp gen=$tmp/kapa_gen

# ---- hugepages -------------------------------------------------------------------------
hp() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }
# kapa-dp: records (~515 B per connection, on hugepages when there is room)
# and rte_hash (~100 B), its mbufs; kapa_gen: four pools of 8191 mbufs.
max_n=0
for n in $sizes; do if [ "$n" -gt "$max_n" ]; then max_n=$n; fi; done
# kapa keeps a closed connection for 2 s (its linger): at 1.5 Mpps and 36
# frames a connection that is 80K more records; below 400K, full-table
# evictions would hit live connections.
max_conns_of() { local m=$(( $1 + $1 / 4 )); [ $m -ge 400000 ] || m=400000; echo $m; }
need=$(( ($(max_conns_of "$max_n") * 640 >> 21) + 200 ))
free_hp=$(hp HugePages_Free)
if [ "$free_hp" -lt "$need" ]; then
	want=$(( $(hp HugePages_Total) + need - free_hp ))
	say "$free_hp hugepages free, about $need needed: raising the reservation to $want"
	KAPA_HUGEPAGES=$want "$src_root/scripts/host-prep.sh" ||
		die "scripts/host-prep.sh could not reserve $want hugepages"
	free_hp=$(hp HugePages_Free)
	[ "$free_hp" -ge "$need" ] ||
		die "only $free_hp hugepages free after host-prep.sh, about $need needed (other processes hold them, or memory is fragmented)"
fi

# ---- one run ---------------------------------------------------------------------------
run_no=0
# wait_forwarding LOG PID: until kapa-dp says it forwards; dies with its log if it exits.
wait_forwarding() {
	local _
	for _ in $(seq 1200); do
		grep -qs '^kapa-dp: forwarding' "$1" && return 0
		if ! kill -0 "$2" 2>/dev/null; then
			tail -20 "$1" >&2
			die "kapa-dp exited before forwarding (log above: $1)"
		fi
		sleep 0.1
	done
	tail -20 "$1" >&2
	die "kapa-dp did not start forwarding in 120 s"
}

# stop_dp PID LOG: SIGTERM, wait, check it stopped cleanly.
stop_dp() {
	local rc=0
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" || rc=$?
	forget_pid "$1"
	if [ $rc -ne 0 ]; then
		tail -20 "$2" >&2
		die "kapa-dp exited with status $rc$([ $rc -gt 128 ] && echo " (signal $((rc - 128)))") before or at its stop (log above)"
	fi
	grep -q '^kapa-dp: worker 0: [0-9]* frames' "$2" || die "kapa-dp printed no worker cycles ($2)"
}

counter() { awk -v k="$2" '$1 == k { print $2; exit }' "$1"; }

# cpu_mark PID: "waiting_ns now_ns" of kapa-dp's worker thread (DPDK 22.11
# names it rte-worker-1): the time it was runnable but not running
# (schedstat's second field), and the clock.
cpu_mark() {
	local t
	for t in /proc/"$1"/task/*; do
		case "$(cat "$t/comm" 2>/dev/null)" in rte-worker-1|lcore-worker-1) ;; *) continue ;; esac
		echo "$(cut -d' ' -f2 "$t/schedstat") $(date +%s%N)"
		return
	done
	echo "0 0"
}
# off_cpu "MARK0" "MARK1": percent of the time between the marks the worker
# spent waiting for its CPU (other programs ran there).
off_cpu() {
	local w0 t0 w1 t1
	read -r w0 t0 <<<"$1"
	read -r w1 t1 <<<"$2"
	awk -v w="$((w1 - w0))" -v t="$((t1 - t0))" 'BEGIN { printf "%.1f", (t > 0 ? 100 * w / t : 0) }'
}
# wait_line FILE PID REGEX: until FILE has a line matching REGEX or PID exits.
wait_line() {
	while ! grep -qsE "$3" "$1"; do
		kill -0 "$2" 2>/dev/null || return 0
		sleep 0.05
	done
}
# forget_pid PID: no longer one to clean up.
forget_pid() {
	local p keep=()
	for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	pids=("${keep[@]}")
}
# release ROOT PREFIX...: a finished run's map root, runtime and hugepage files.
release() {
	local p
	rm -rf "$1"
	shift
	for p in "$@"; do
		rm -rf "/var/run/dpdk/$p"
		rm -f /dev/hugepages/"$p"map_* /dev/hugepages/"$p"-*
	done
}
# What kapa-dp could not send, but for the RSTs it sends at stop to the
# connections it must not leave behind (rst_shutdown, two each): by then
# kapa_gen has gone and they have nowhere to go.
dropped() {
	local d s
	d=$(counter "$1" tx_dropped) s=$(counter "$1" rst_shutdown)
	d=$((d - 2 * s))
	echo $((d < 0 ? 0 : d))
}

# Results, one line per run:
#   row conns pps cycles ns lost wait% build_ns dropped evicted edited off% ramp_s
results=$tmp/results

# keep_logs NAME LOG...: into KAPA_BENCH_LOGS, numbered by run.
keep_logs() {
	local name=$1 f; shift
	[ -n "${KAPA_BENCH_LOGS:-}" ] || return 0
	for f in "$@"; do cp "$f" "$KAPA_BENCH_LOGS/$(printf %02d "$run_no")-$name.$(basename "$f")"; done
}

# mark PID LOG N: ask kapa-dp for its mark N (SIGUSR1) and wait for it (its
# main lcore answers within 100 ms).
mark() {
	local _
	kill -USR1 "$1" 2>/dev/null || { tail -20 "$2" >&2; die "kapa-dp exited during the run (log above: $2)"; }
	for _ in $(seq 100); do
		grep -qs "^kapa-dp: mark $3: worker 0: " "$2" && return 0
		sleep 0.05
	done
	die "kapa-dp printed no mark $3 in 5 s after SIGUSR1 ($2)"
}
# window LOG: "frames cycles_per_frame ns_per_frame seconds" of worker 0
# between marks 0 and 1.
window() {
	awk '$1 == "kapa-dp:" && $2 == "mark" && $4 == "worker" && $5 == "0:" {
		m = $3 + 0; f[m] = $7; c[m] = $9; t[m] = $11; hz = $13
	}
	END {
		if (!(0 in f) || !(1 in f) || f[1] <= f[0]) { print "0 0 0 0"; exit }
		cpp = (c[1] - c[0]) / (f[1] - f[0])
		printf "%d %.1f %.1f %.3f\n", f[1] - f[0], cpp, cpp / hz * 1e9, (t[1] - t[0]) / hz
	}' "$1"
}

# run_memif ROW CONNS KAPA-DP-OPTIONS...
run_memif() {
	local row=$1 n=$2; shift 2
	local sock="$tmp/memif$((run_no += 1)).sock" root="/sys/fs/bpf/$tag-$run_no"
	local pdp="$tag-dp$run_no" pgen="$tag-gen$run_no" log="$tmp/dp$run_no.log"
	local glog="$tmp/gen$run_no.log" dpid gpid rc=0 line m0 m1
	local pps lost build frames cyc ns secs ramp
	maproots+=("$root") prefixes+=("$pdp" "$pgen")
	"$dp" -l 0,1 --no-pci --file-prefix "$pdp" \
		--vdev "net_memif0,role=server,socket=$sock,socket-abstract=no,id=0" \
		--vdev "net_memif1,role=server,socket=$sock,socket-abstract=no,id=1" \
		-- --bridge 0:1 --max-conns "$(max_conns_of "$n")" --map-root "$root" "$@" \
		>"$log" 2>&1 &
	dpid=$!
	pids+=("$dpid")
	wait_forwarding "$log" "$dpid"
	# shellcheck disable=SC2086 # gen_args: options, split on purpose
	"$gen" -l 0 --no-pci --file-prefix "$pgen" --single-file-segments \
		--vdev "net_memif0,role=client,socket=$sock,socket-abstract=no,id=0,zero-copy=yes,rsize=11" \
		--vdev "net_memif1,role=client,socket=$sock,socket-abstract=no,id=1,zero-copy=yes,rsize=11" \
		-- --conns "$n" --duration "$dur" \
		--max-half-open "$(( $(max_conns_of "$n") * 3 / 32 ))" --hold $gen_args >"$glog" 2>&1 &
	gpid=$!
	pids+=("$gpid")
	# The measured part: from the end of kapa_gen's ramp (every connection
	# open) to its result line. Were kapa_gen to fail first, the marks would
	# not matter: its status below says why.
	wait_line "$glog" "$gpid" '^kapa_gen: ramp done'
	m0=$(cpu_mark "$dpid")
	mark "$dpid" "$log" 0
	wait_line "$glog" "$gpid" '^kapa_gen: result '
	m1=$(cpu_mark "$dpid")
	mark "$dpid" "$log" 1
	off=$(off_cpu "$m0" "$m1")
	# kapa-dp stops first, while kapa_gen holds its end of the links.
	wait_line "$glog" "$gpid" '^kapa_gen: holding'
	stop_dp "$dpid" "$log"
	kill -TERM "$gpid" 2>/dev/null || true
	wait "$gpid" || rc=$?
	forget_pid "$gpid"
	if [ $rc -ne 0 ]; then
		grep -v '^EAL' "$glog" | tail -20 >&2
		die "kapa_gen failed (status $rc) in run '$row' at $n connections (log above)"
	fi
	release "$root" "$pdp" "$pgen"
	rm -f "$sock"
	line=$(grep '^kapa_gen: result ' "$glog") || die "kapa_gen printed no result ($glog)"
	pps=$(sed -E 's/.* frames_per_s=([0-9.]+).*/\1/' <<<"$line")
	lost=$(sed -E 's/.* lost=(-?[0-9]+).*/\1/' <<<"$line")
	wait=$(sed -E 's/.* window_full_pct=([0-9.]+).*/\1/' <<<"$line")
	build=$(sed -E 's/.* build_ns=([0-9.]+).*/\1/' <<<"$line")
	ramp=$(sed -E 's/.* ramp_s=([0-9.]+).*/\1/' <<<"$line")
	read -r frames cyc ns secs <<<"$(window "$log")"
	[ "$frames" -gt 0 ] || die "kapa-dp's marks show no frame in the measured part ($log)"
	echo "$row $n $pps $cyc $ns $lost $wait $build $(dropped "$log")" \
		"$(( $(counter "$log" rel_evict_lru) + $(counter "$log" rel_evict_embryonic) ))" \
		"$(counter "$log" pkts_edited) $off $ramp" >>"$results"
	printf 'bench_dp: %-10s %8s conns: %10.0f pps, %7.1f cycles (%6.1f ns) per packet, lost %s, generator waited %s%%, worker off its CPU %s%%, ramp %s s\n' \
		"$row" "$n" "$pps" "$cyc" "$ns" "$lost" "$wait" "$off" "$ramp"
	keep_logs "$row-$n" "$log" "$glog"
}

# run_pcap ROW KAPA-DP-OPTIONS...
run_pcap() {
	local row=$1; shift
	local root="/sys/fs/bpf/$tag-$((run_no += 1))" pdp="$tag-dp$run_no"
	local log="$tmp/dp$run_no.log" dpid frames cyc ns secs pps m0 spid
	maproots+=("$root") prefixes+=("$pdp")
	"$dp" -l 0,1 --no-pci --file-prefix "$pdp" \
		--vdev "net_pcap0,rx_pcap=$pcap,infinite_rx=1" --vdev "net_null0,no-rx=1" \
		-- --bridge 0:1 --map-root "$root" "$@" >"$log" 2>&1 &
	dpid=$!
	pids+=("$dpid")
	wait_forwarding "$log" "$dpid"
	# The measured part: $dur seconds between two marks, a second after the
	# start (the capture's connections are in the table by then).
	sleep 1
	m0=$(cpu_mark "$dpid")
	mark "$dpid" "$log" 0
	# In the background, so that a signal ends the wait at once.
	sleep "$dur" &
	spid=$!
	wait "$spid"
	off=$(off_cpu "$m0" "$(cpu_mark "$dpid")")
	mark "$dpid" "$log" 1
	stop_dp "$dpid" "$log"
	release "$root" "$pdp"
	wait=-
	read -r frames cyc ns secs <<<"$(window "$log")"
	[ "$frames" -gt 0 ] || die "kapa-dp's marks show no frame in the measured part ($log)"
	pps=$(awk -v f="$frames" -v s="$secs" 'BEGIN { printf "%.0f", f / s }')
	echo "$row $pcap_conns $pps $cyc $ns 0 - - $(dropped "$log") 0" \
		"$(counter "$log" pkts_edited) $off -" >>"$results"
	printf 'bench_dp: %-10s %8s conns: %10.0f pps, %7.1f cycles (%6.1f ns) per packet, worker off its CPU %s%%\n' \
		"$row" "$pcap_conns" "$pps" "$cyc" "$ns" "$off"
	keep_logs "$row" "$log"
}

# run RUNNER ROW ARGS...: run_memif or run_pcap, again (while retries are left)
# when others took the CPUs: kapa-dp's worker waited for its CPU more than 5%
# of the time, or kapa_gen could not keep its window full behind kapa's core
# (it waits most of the time when kapa is the slower side).
retries=${KAPA_BENCH_RETRIES:-2}
case "$retries" in ''|*[!0-9]*) die "KAPA_BENCH_RETRIES is a whole number" ;; esac
off=0 wait=-
noisy() {
	awk -v o="$off" -v w="$wait" -v r="$1" 'BEGIN {
		exit !(o > 5 || (r != "bypass" && w != "-" && w < 90)) }'
}
run() {
	local left=$retries
	"$@"
	while noisy "$2" && [ "$left" -gt 0 ]; do
		say "  (worker off its CPU $off% of the run, generator waiting $wait%: run again)"
		left=$((left - 1))
		"$@"
	done
}

# ---- the runs --------------------------------------------------------------------------
pcap_name=$(basename "$pcap")
pcap_conns=$(awk -F'\t' -v f="$pcap_name" '$1 == f { print $6 }' "$corpus/INDEX.tsv" 2>/dev/null)
[ -n "$pcap_conns" ] || pcap_conns="?"
say "$(date -u '+%F %T') UTC, $(git -C "$src_root" describe --always --dirty 2>/dev/null || echo '?')," \
	"load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs, $(hp HugePages_Free) hugepages free"
say "memif: kapa_gen ${gen_args:-(defaults)}, $dur s measured per run after its ramp;" \
	"rows alternate, best of $reps;" \
	"capture: $pcap_name ($pcap_conns TCP connections)"
for _ in $(seq "$reps"); do
	for n in $sizes; do
		run run_memif bypass "$n" --bypass
		run run_memif observe "$n" --policy mode=observe
		run run_memif advertise "$n" --policy timeout=60,max=100,mode=advertise
	done
	run run_pcap pcap-bypass --bypass
	run run_pcap pcap-observe --policy mode=observe
done
say "load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- the table -------------------------------------------------------------------------
echo
awk -v quick="$quick" '
function fmt(v, f) { return v == "" ? "-" : sprintf(f, v) }
{
	k = $1 SUBSEP $2
	if (!(k in seen)) { order[++nk] = k; seen[k] = 1 }
	# Time on the CPU: a worker that waited for its CPU a share of the run
	# had that share of every busy turn taken from it, on average.
	c = $5 * (1 - $12 / 100)
	if ((k in cns) && c >= cns[k])
		next	# keep the repetition with the least CPU time per packet
	pps[k] = $3; cyc[k] = $4; ns[k] = $5; lost[k] = $6; wt[k] = $7
	drop[k] = $9; evict[k] = $10; off[k] = $12; ramp[k] = $13; cns[k] = c
}
END {
	printf "%-12s %5s %6s %7s %7s %5s %7s %7s %5s %6s | %5s %5s %5s %7s %6s\n",
	       "run", "conns", "Mpps", "cyc/pkt", "ns/pkt", "off%", "cpu ns", "own ns", "x cl",
	       "x rate", "gen", "lost", "drop", "evicted", "ramp s"
	for (j = 1; j <= nk; j++) {
		k = order[j]; split(k, p, SUBSEP); row = p[1]; n = p[2]
		ceil = (row ~ /^pcap/) ? "pcap-bypass" SUBSEP n : "bypass" SUBSEP n
		base = row == "bypass" || row == "pcap-bypass"
		own = ratio = rrate = ""
		if (!base && (ceil in cns)) {
			own = cns[k] - cns[ceil]; ratio = cns[ceil] / cns[k]
			rrate = pps[k] / pps[ceil]
		}
		conns = (n >= 1000000 && n % 1000000 == 0) ? (n / 1000000) "M" : \
			((n >= 1000 && n % 1000 == 0) ? (n / 1000) "K" : n)
		printf "%-12s %5s %6.3f %7.1f %7.1f %5.1f %7.1f %7s %5s %6s | %5s %5s %5s %7s %6s\n",
		       row, conns, pps[k] / 1e6, cyc[k], ns[k], off[k], cns[k], fmt(own, "%.1f"),
		       fmt(ratio, "%.2f"), fmt(rrate, "%.2f"), wt[k], lost[k], drop[k], evict[k],
		       ramp[k]
		if (row == "observe" && n == 1000000 && own != "") {
			gown = own; grat = ratio
		}
	}
	print ""
	if (gown == "") {
		print "goal (own cost <= 100 ns per packet at 1M connections in observe mode, >= 0.5x the ceiling): not evaluated (no 1M observe and bypass rows" (quick ? ": quick run" : "") ")"
		exit
	}
	printf "goal at 1M connections, observe mode: own cost %.1f ns per packet (goal <= 100: %s); %.2fx the ceiling (goal >= 0.50: %s)\n",
	       gown, (gown <= 100 ? "met" : sprintf("NOT met, %.0f ns over", gown - 100)),
	       grat, (grat >= 0.5 ? "met" : "NOT met")
}' "$results"
cat <<'EOF2'

Measured part: memif, from the end of kapa_gen's ramp (every connection open) for the
duration; pcap, the duration from a second after the start. Mpps = frames through kapa-dp
per second (memif: what kapa_gen received back; pcap: kapa-dp's frames over the marks'
TSC time); cyc/pkt, ns/pkt = kapa-dp's worker between the marks: TSC cycles of the loop
turns that had packets, per packet; off% = share of the measured part that the worker
waited for its CPU (other programs on the 2 cores); cpu ns = ns/pkt x (1 - off): its time
on the CPU per packet; own ns = cpu ns less the ceiling's (the bypass row of the same
traffic: the same PMDs, no core); x cl = the ceiling's cpu ns over this row's: this row's
capacity against the ceiling's; x rate = this row's Mpps over the ceiling's (lower than
x cl where the generator, not kapa-dp, limited the ceiling's rate). gen = share of the
time kapa_gen waited with its window full (below 90: the generator, not kapa-dp, set the
pace). lost = sent minus received after the drain (negative: frames kapa crafted, RSTs);
drop = kapa-dp's tx_dropped but for the RSTs it sends at stop (rst_shutdown); evicted =
connections kapa evicted (half-open budget or full table); ramp s = kapa_gen's opening
of every connection, not measured. Each row is the repetition with the least cpu ns.
EOF2
