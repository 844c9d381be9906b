#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# dp_csum: a request in a segment with a bad TCP or IPv4 header checksum,
# which nginx's kernel drops, is not counted by kapa-dp.
#
# In the client namespace, bad_csum_client.py opens a connection to nginx,
# sends beside its kernel a segment at the connection's next sequence number
# with a wrong TCP checksum (or a wrong IPv4 header checksum and a right TCP
# one) carrying two requests, then through the socket
# the real request (one, the same length: the same sequence numbers, other
# bytes); then curl makes one more request. nginx logs two requests.
#
#   1. kapa-dp as it runs by default (net_af_packet gives no checksum
#      verdict: kapa verifies in software), the exchange over IPv4 and over
#      IPv6 with the TCP checksum wrong, and over IPv4 with the IP header's
#      wrong: its request count equals nginx's access log, csum_bad is 3,
#      every checksum was verified in software, none by the port.
#   2. kapa-dp --no-verify-checksums on the IPv4 exchanges: each bad copy is
#      used (first copy wins; the good copy's bytes, already delivered, are
#      not looked at again), so kapa counts one request more than nginx
#      logged for each: what the check prevents, and proof that the
#      exchanges reach kapa-dp as intended.
#
# kapa-dp's exit report gives each run's own counters.
#
# Usage: dp_csum.sh [KAPA_DP]  (meson passes the built kapa-dp)
# shellcheck disable=SC2119 # lib.sh functions with optional arguments
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

e2e_init csum
e2e_dp_init "${1:-}"

e2e_topo_up
e2e_nginx_start

# One exchange over IPv4 (4) or IPv6 (6): the bad segment (its TCP checksum
# wrong, or with "ip" its IPv4 header's) and the good copy, then curl. Adds
# what nginx logged to logged.
logged=0
exchange() {
	local out host=$E2E_V4_S url=$E2E_URL4 n
	if [[ $1 == 6 ]]; then
		host=$E2E_V6_S
		url=$E2E_URL6
	fi
	e2e_log_mark
	out=$(e2e_client python3 "$E2E_LIB_DIR/bad_csum_client.py" eth0 "$host" \
		"$E2E_HTTP_PORT" "${2:-tcp}") ||
		fail "bad_csum_client.py (IPv$1 ${2:-tcp}): ${out:-no output}"
	e2e_log "client (IPv$1): $out"
	e2e_curl -o /dev/null "$url/" || fail "curl through kapa-dp (IPv$1)"
	e2e_log_wait 2 || fail "nginx logged $E2E_LOG_N requests, expected 2"
	n=$(e2e_log_count)
	e2e_expect_eq "IPv$1: requests nginx logged (the good copy, curl)" "$n" 2
	e2e_expect_eq "IPv$1: requests nginx logged for the bad copy's targets" \
		"$(e2e_log_count --path '/?csum-bad')" 0
	logged=$((logged + n))
	e2e_bridge_check
}

e2e_dp_start --policy mode=observe
e2e_wait_path
exchange 4
exchange 6
exchange 4 ip
e2e_dp_stop
e2e_dp_expect http_requests == "$logged" "nginx's access log"
e2e_dp_expect csum_bad == 3 "the segments nginx's kernel dropped: TCP per family, IPv4 header"
e2e_dp_expect csum_port == 0 "net_af_packet gives no checksum verdict"
e2e_dp_expect csum_sw == $(($(e2e_dp_counter pkts_tcp) + 3)) \
	"every segment was verified in software: those used (pkts_tcp) and the bad ones"

logged=0
e2e_dp_start --policy mode=observe --no-verify-checksums
e2e_wait_path
exchange 4
exchange 4 ip
e2e_dp_stop
e2e_dp_expect http_requests == $((logged + 2)) \
	"--no-verify-checksums: each bad copy's two requests and curl's, nginx logged $logged"
e2e_dp_expect csum_bad == 0 "--no-verify-checksums"
e2e_dp_expect csum_sw == 0 "--no-verify-checksums"
e2e_dp_expect csum_port == 0 "net_af_packet gives no checksum verdict"
pass "the bad segment's requests were not counted"
