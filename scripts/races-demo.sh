#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The idle-close races of docs/races.md, before and after kapa (root).
#
# A client and a server network namespace joined through kapa-dp
# (net_af_packet on the root-side veth ends: tests/e2e/lib.sh's topology),
# Debian's nginx in the server namespace with a short idle limit
# (keepalive_timeout 3, no Keep-Alive field), and the same client workload
# twice: tests/e2e/race_client.py, four connections each reused after an idle
# time drawn in [2.8, 3.2] s, for a fixed duration; every request it lost
# (sent, then the server's FIN or RST instead of a response) is logged and sent
# again on a new connection, and a request it could not even send (its socket
# already knew of a close: nothing went on the wire) is logged apart (STALE)
# and sent on a new connection.
#
#   1. kapa-dp in observe mode: kapa counts, nothing on the wire changes;
#   2. kapa-dp with --policy timeout=2,mode=advertise: kapa closes connections
#      idle for 2 s (RST both ways, before nginx's 3 s) and tells clients
#      Keep-Alive: timeout=1 on every persistent response.
#
# Each run captures the client's eth0 (dumpcap) and reports: the client's own
# count of lost requests, kapa-dp's race counters (printed at its exit) and
# kapa-inspect's races on the capture. Everything it starts is stopped and
# torn down on success and on failure (tests/e2e/lib.sh).
#
# Usage: scripts/races-demo.sh KAPA_DP KAPA_INSPECT [SECONDS]
#   e.g. scripts/races-demo.sh build/dataplane/dp/kapa-dp build/dataplane/inspect/kapa-inspect
# SECONDS: each run's duration (default 40). E2E_KEEP=1 keeps the logs and
# captures (in ${TMPDIR:-/tmp}/kapa-e2e-racedemo.kept).
set -Eeuo pipefail

usage="usage: races-demo.sh KAPA_DP KAPA_INSPECT [SECONDS]"
kapa_dp=$(realpath "${1:?$usage}")
inspect=$(realpath "${2:?$usage}")
secs=${3:-40}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../tests/e2e/lib.sh
source "$here/../tests/e2e/lib.sh"

[[ -x $inspect ]] || fail "kapa-inspect not found at $inspect"
if ! [[ $secs =~ ^[0-9]+$ ]] || ((secs < 10)); then
	fail "SECONDS: a whole number, at least 10 (got '$secs')"
fi

# nginx's idle limit, and the client's idle times around it (ms).
# shellcheck disable=SC2034 # read by lib.sh's e2e_nginx_start
E2E_NGINX_KEEPALIVE=3
idle_lo=2800
idle_hi=3200

e2e_init racedemo
e2e_dp_init "$kapa_dp"
e2e_topo_up
e2e_nginx_start

declare -A fig=() # "mode:what" -> value, for the table at the end
modes=()

# One run: kapa-dp with POLICY, the workload, the figures.
# $1 = mode (a word), $2 = policy, $3 = what kapa does
run() {
	local mode=$1 policy=$2 what=$3 out cap json report c n fin rst retried
	modes+=("$mode")
	echo
	echo "=== $mode: kapa-dp --policy $policy"
	echo "    $what"
	e2e_dp_start --policy "$policy"
	e2e_wait_path
	e2e_capture_start "$mode" client eth0 "tcp port $E2E_HTTP_PORT"
	out=$E2E_DIR/client-$mode.out
	e2e_spawn "client-$mode" client "$out" python3 -u "$E2E_LIB_DIR/race_client.py" \
		"$E2E_V4_S" --threads 4 --races 1000000 --duration "$secs" \
		--idle-lo "$idle_lo" --idle-hi "$idle_hi" --seed 1
	e2e_wait "client-$mode" $((secs + 30)) || fail "race_client.py failed (see $out)"
	e2e_capture_stop "$mode" 1.5
	e2e_dp_stop

	# The client's own account.
	fig[$mode:requests]=$(sed -nE 's/^OK requests=([0-9]+).*/\1/p' "$out")
	[[ -n ${fig[$mode:requests]} ]] || fail "race_client.py printed no summary (see $out)"
	fig[$mode:lost]=$(grep -c '^FAIL ' "$out" || true)
	fig[$mode:stale]=$(grep -c '^STALE ' "$out" || true)
	fig[$mode:retries]=$(grep -c '^RETRY ' "$out" || true)
	# kapa-dp's counters at its exit (this run's).
	for c in races_fin races_rst races_retried idle_closes idle_reuses hint_conns \
		hint_compliant hint_reuse_late hint_over_max hint_closed_in_time \
		race_tables_full rst_idle ka_inserted ka_rewritten http_requests conns_opened; do
		fig[$mode:$c]=$(e2e_dp_counter "$c")
	done
	# kapa-inspect on the client's capture.
	cap=$(e2e_capture_file "$mode")
	json=$E2E_DIR/inspect-$mode.json
	report=$E2E_DIR/inspect-$mode.report
	"$inspect" --json "$cap" >"$json" || fail "kapa-inspect --json failed on $cap"
	"$inspect" "$cap" >"$report" || fail "kapa-inspect failed on $cap"
	read -r n fin rst retried < <(
		python3 - "$json" <<-'EOF'
			import json, sys
			r = [o for o in map(json.loads, open(sys.argv[1])) if "race" in o]
			print(len(r), sum(o["race"] == "fin" for o in r), sum(o["race"] == "rst" for o in r),
			      sum(bool(o.get("retried")) for o in r))
		EOF
	)
	fig[$mode:i_races]=$n
	fig[$mode:i_finrst]="$fin / $rst"
	fig[$mode:i_retried]=$retried
	fig[$mode:ka_sum]=$((${fig[$mode:ka_inserted]} + ${fig[$mode:ka_rewritten]}))
	fig[$mode:i_closed]=$(sed -nE 's/^  idle connections closed by the server +([0-9]+)$/\1/p' "$report")
	fig[$mode:i_reused]=$(sed -nE 's/^  idle connections reused and answered +([0-9]+)$/\1/p' "$report")

	echo "--- the client (race_client.py): ${fig[$mode:requests]} requests answered," \
		"${fig[$mode:lost]} lost (FAIL), ${fig[$mode:stale]} not sent, the close known (STALE)," \
		"${fig[$mode:retries]} sent again on a new connection"
	grep -E '^(FAIL|STALE) ' "$out" | head -n 3 | sed 's/^/    client| /'
	echo "--- kapa-inspect on the client's capture ($E2E_CAP_FRAMES frames):"
	sed -n '/^idle-close races/,/^$/p' "$report" | sed '/^$/d; s/^/    report| /'
	sed -n '/^keep-alive hint compliance/,/^$/p' "$report" | sed '/^$/d; s/^/    report| /'
}

run observe "mode=observe" \
	"kapa tracks and counts; nothing on the wire changes; nginx closes idle connections at 3 s"
run advertise "timeout=2,mode=advertise" \
	"kapa resets connections idle for 2 s (both ways) and tells clients Keep-Alive: timeout=1"

echo
echo "=== side by side (nginx keepalive_timeout 3; 4 connections reused after $idle_lo-$idle_hi ms idle; ${secs} s a run)"
row() {
	local label=$1 key=$2 m line
	line=$(printf '    %-56s' "$label")
	for m in "${modes[@]}"; do
		line+=$(printf ' %10s' "${fig[$m:$key]:-}")
	done
	echo "$line"
}
printf '    %-56s' ""
printf ' %10s' "${modes[@]}"
echo
row "client: requests answered" requests
row "client: requests lost (sent, met the close)" lost
row "client: not sent, the close already known (STALE)" stale
row "client: sent again on a new connection" retries
row "kapa-dp: races_fin" races_fin
row "kapa-dp: races_rst" races_rst
row "kapa-dp: races_retried" races_retried
row "kapa-dp: idle_closes (by the server)" idle_closes
row "kapa-dp: idle_reuses" idle_reuses
row "kapa-dp: rst_idle (kapa's idle resets)" rst_idle
row "kapa-dp: ka_inserted + ka_rewritten" ka_sum
row "kapa-dp: hint_conns" hint_conns
row "kapa-dp: hint_compliant" hint_compliant
row "kapa-dp: hint_reuse_late" hint_reuse_late
row "kapa-dp: hint_over_max" hint_over_max
row "kapa-dp: hint_closed_in_time" hint_closed_in_time
row "kapa-dp: race_tables_full" race_tables_full
row "kapa-dp: http_requests" http_requests
row "kapa-dp: conns_opened" conns_opened
row "kapa-inspect (client capture): races" i_races
row "kapa-inspect: of which fin / rst" i_finrst
row "kapa-inspect: retried within 1 s" i_retried
row "kapa-inspect: idle connections closed by the server" i_closed
row "kapa-inspect: idle connections reused and answered" i_reused
pass "both runs measured"
