#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# `make run` as root: kapa-dp live on this machine. A client and a server
# network namespace joined through kapa-dp (net_af_packet on the root-side
# veth ends, offloads off, 198.18.0.0/15), Debian's nginx in the server
# namespace with keep-alive limits of its own (75 s, 1000 requests), and real
# clients (wrk, curl) for a few seconds under each mode: observe, enforce,
# advertise. After each, kapa's own report next to nginx's access log:
# requests, connections, requests per connection, keep-alive seen, actions.
# Everything it starts is stopped and torn down on success and on failure
# (tests/e2e/lib.sh, the e2e suite's harness: the same topology).
#
# Usage: scripts/demo.sh KAPA_DP [SECONDS]     (make run passes build/...)
set -Eeuo pipefail

kapa_dp=$(realpath "${1:?usage: demo.sh KAPA_DP [SECONDS]}")
secs=${2:-4}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../tests/e2e/lib.sh
source "$here/../tests/e2e/lib.sh"

# nginx as an operator would run it: its own limits, generous, no Keep-Alive
# field (Debian's default: keepalive_timeout has no second parameter).
E2E_NGINX_KEEPALIVE=75s
E2E_NGINX_REQUESTS=1000

e2e_init demo
e2e_require_hugepages 128
e2e_require_bpffs
e2e_require_cmd wrk
e2e_topo_up
e2e_nginx_start

# "name value" of kapa-dp's final counters, for the report.
ctr() { e2e_bridge_counter "$1"; }

# One mode: kapa-dp with POLICY, a load, then the report.
# $1 = title, $2 = policy, $3 = what the load shows
run_mode() {
	local title=$1 policy=$2 what=$3 req conns log_req log_conns per_conn max_per
	echo
	echo "=== $title: --policy $policy"
	echo "    $what"
	e2e_log_mark
	e2e_bridge_start "$kapa_dp" @EAL@ -l 0,1 -- --bridge 0:1 --idle-sleep-us 50 \
		--map-root "$E2E_MAP_ROOT" --max-conns 16384 --policy "$policy"
	e2e_wait_path
	e2e_wrk "$E2E_DIR/wrk-$title.out" -t1 -c8 -d"${secs}s" "$E2E_URL4/size/2897"
	# One client that pauses: reuse across a short pause, and (with a
	# timeout of 3 s) a fresh connection after a long one.
	e2e_curl -o /dev/null -o /dev/null -o /dev/null -D "$E2E_DIR/curl-$title.hdr" \
		-w 'curl: %{http_code} on a %{num_connects} new connection(s)\n' --rate 15/m \
		"$E2E_URL4/size/100" "$E2E_URL4/size/100" "$E2E_URL4/size/1448" || true
	e2e_bridge_stop
	e2e_log_wait 1 5 >/dev/null || true
	echo "--- what the client saw of the last responses' keep-alive fields:"
	grep -iE '^(connection|keep-alive):' "$E2E_DIR/curl-$title.hdr" | tail -n 4 | sed 's/^/    /'
	req=$(ctr http_requests)
	conns=$(( $(ctr conns_opened) + $(ctr conns_midstream) ))
	log_req=$(e2e_log_count)
	log_conns=$(e2e_log_conns | wc -l)
	per_conn=$(e2e_log_conns | awk '{ s += $2; if ($2 > m) m = $2 } END {
		if (NR) printf "%.1f", s / NR; else print 0 }')
	max_per=$(e2e_log_conns | awk '{ if ($2 > m) m = $2 } END { print m + 0 }')
	printf -- '--- kapa-dp, next to nginx'"'"'s access log:\n'
	printf '    %-34s %10s %10s\n' "" kapa nginx
	printf '    %-34s %10s %10s\n' "requests" "$req" "$log_req"
	printf '    %-34s %10s %10s\n' "connections (with requests: nginx)" "$conns" "$log_conns"
	printf '    %-34s %10s %10s\n' "requests per connection" \
		"$(awk -v r="$req" -v c="$conns" 'BEGIN { if (c) printf "%.1f", r / c; else print 0 }')" \
		"$per_conn"
	printf '    %-34s %10s %10s\n' "most requests on one connection" "" "$max_per"
	printf '    %-34s %10s\n' "requests with Connection: keep-alive" "$(ctr req_conn_keep_alive)"
	printf '    %-34s %10s\n' "responses with Connection: keep-alive" "$(ctr resp_conn_keep_alive)"
	printf '    %-34s %10s\n' "responses with a Keep-Alive field" "$(ctr resp_ka_field)"
	printf -- '--- actions:\n'
	printf '    %-34s %10s\n' "idle closes (RST both ways)" "$(ctr rst_idle)" \
		"requests past the max refused" "$(ctr rst_max)" \
		"Connection: close rewritten" "$(ctr close_rewritten)" \
		"Connection: close inserted" "$(ctr close_inserted)" \
		"Keep-Alive inserted" "$(ctr ka_inserted)" \
		"Keep-Alive rewritten" "$(ctr ka_rewritten)" \
		"segments split at the MSS" "$(ctr pkts_split)" \
		"shifted connections reset at stop" "$(ctr rst_shutdown)"
	grep -E '^kapa-dp: (worker [0-9]+:|mbufs)' "$E2E_BRIDGE_LOG" | sed 's/^/    /'
	[[ $req == "$log_req" ]] ||
		fail "$title: kapa counted $req requests, nginx logged $log_req"
	grep -q '^kapa-dp: mbufs \([0-9]*\) of \1 back' "$E2E_BRIDGE_LOG" ||
		fail "$title: mbufs did not all come back to the pool"
}

run_mode observe "mode=observe" \
	"kapa tracks and counts; nothing on the wire changes"
run_mode enforce "timeout=3,max=50,mode=enforce" \
	"idle connections closed after 3 s; Connection: close on the 50th response"
run_mode advertise "timeout=10,max=50,mode=advertise" \
	"enforce, and tell clients: Keep-Alive: timeout=9, max=49-k inserted"
pass "kapa-dp's request counts equal nginx's in every mode"
