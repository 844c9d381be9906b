#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# dp_ipv6: the same topology over IPv6 (the ULA prefix fd00:6b61:7061::/64),
# kapa-dp with --policy timeout=4,mode=advertise.
#
# 1. The sizes around one, two and three IPv6 segments (1428 bytes of payload
#    a segment with timestamps) on one curl connection: each 200, byte-exact,
#    with the inserted Keep-Alive: timeout=3 (nginx with sendfile off: the
#    insertions split full IPv6 segments, pkts_split).
# 2. wrk over IPv6, 3 s on 4 connections: no socket error; nginx logged every
#    request from the IPv6 client; kapa-dp's http_requests equal the log and
#    every response got its Keep-Alive (ka_inserted).
# 3. The idle limit: curl reuses its connection after a 2 s pause and
#    reconnects after a 6 s one; http_client.py's idle connection is reset
#    (its probe sees the RST) and nginx's end goes too; rst_idle 2.
#
# Usage: dp_ipv6.sh [KAPA_DP]  (meson passes the built kapa-dp)
# shellcheck disable=SC2119 # lib.sh functions with optional arguments
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

e2e_init ipv6
e2e_dp_init "${1:-}"
e2e_require_cmd wrk

# sendfile off: header blocks and bodies share full segments, so that the
# insertions split segments at the IPv6 MSS (as dp_advertise does over IPv4).
E2E_NGINX_EXTRA="sendfile off;"
e2e_topo_up
e2e_nginx_start
e2e_dp_start --policy timeout=4,mode=advertise
e2e_wait_path

# 1. Sizes around the IPv6 MSS, bodies byte-exact, Keep-Alive inserted.
sizes=(1 1427 1428 1429 2855 2856 2857 4283 4284 4285 14480)
urls=()
outs=()
want=""
connects=1
for n in "${sizes[@]}"; do
	urls+=("$E2E_URL6/size/$n")
	outs+=(-o "$E2E_DIR/body.$n")
	want+="200/$n/$connects "
	connects=0
done
# Files for the sizes the harness does not serve by default.
for n in "${sizes[@]}"; do
	[[ -e $E2E_NGINX_DIR/www/size/$n ]] ||
		head -c "$n" "$E2E_NGINX_DIR/www/size/14480" >"$E2E_NGINX_DIR/www/size/$n"
done
got=$(e2e_curl -g -D "$E2E_DIR/headers" -w '%{http_code}/%{size_download}/%{num_connects} ' \
	"${outs[@]}" "${urls[@]}")
e2e_expect_eq "${#sizes[@]} sizes over IPv6: status/bytes/new connections" "$got" "$want"
for n in "${sizes[@]}"; do
	cmp -s "$E2E_DIR/body.$n" "$E2E_NGINX_DIR/www/size/$n" ||
		fail "over IPv6, the body of /size/$n differs from the file"
done
e2e_log "ok: ${#sizes[@]} bodies byte-exact"
got=$(tr -d '\r' <"$E2E_DIR/headers" |
	awk -F': ' 'tolower($1) == "keep-alive" { sub(/ +$/, "", $2); n[$2]++ }
		END { for (v in n) printf "%s x%d ", v, n[v] }')
e2e_expect_eq "Keep-Alive lines over IPv6" "$got" "timeout=3 x${#sizes[@]} "

# 2. wrk over IPv6; the count against nginx's log.
e2e_log_mark
e2e_wrk "$E2E_DIR/wrk.out" -t 2 -c 4 -d 3s "$E2E_URL6/size/1428"
e2e_expect_eq "wrk socket errors" "$E2E_WRK_SOCKET_ERRORS" 0
e2e_expect_eq "wrk non-2xx responses" "$E2E_WRK_NON2XX" 0
e2e_nginx_wait_active 1 10 || fail "stub_status: $E2E_NGINX_ACTIVE active connections after wrk, expected 1"
logged=$(e2e_log_count)
((logged >= E2E_WRK_REQUESTS && logged <= E2E_WRK_REQUESTS + 4)) ||
	fail "nginx logged $logged requests, wrk completed $E2E_WRK_REQUESTS (expected up to 4 more)"
clients=$(e2e_log_conns | awk '{ sub(/:[0-9]+$/, "", $3); print $3 }' | sort -u | tr '\n' ' ')
e2e_expect_eq "clients in nginx's log" "$clients" "$E2E_V6_C "
e2e_log "ok: wrk completed $E2E_WRK_REQUESTS requests, nginx logged $logged"

# 3. The idle limit over IPv6.
got=$(e2e_curl -g -o /dev/null -o /dev/null -w '%{http_code}/%{num_connects} ' --rate 30/m \
	"$E2E_URL6/size/1" "$E2E_URL6/size/100")
e2e_expect_eq "IPv6, 2 s pause under timeout=4: status/new connections" "$got" "200/1 200/0 "
got=$(e2e_curl -g -o /dev/null -o /dev/null -w '%{http_code}/%{num_connects} ' --rate 10/m \
	"$E2E_URL6/size/1" "$E2E_URL6/size/100")
e2e_expect_eq "IPv6, 6 s pause under timeout=4: status/new connections" "$got" "200/1 200/1 "
out=$E2E_DIR/client.out
e2e_http_client "$out" "$E2E_V6_S" /size/1 sleep=6 probe || fail "http_client.py failed (see $out)"
e2e_expect_eq "IPv6 idle connection after 6 s" "$(e2e_jrec "$out" --where 'r["probe"]' --show 'r["probe"]')" reset
e2e_nginx_wait_active 1 5 ||
	fail "stub_status: $E2E_NGINX_ACTIVE active connections: nginx's end of the idle IPv6 connection was not reset"

E2E_LOG_MARK=0
total=$(e2e_log_count)
e2e_bridge_check
e2e_dp_stop
e2e_dp_expect http_requests == "$total" "nginx's access log"
e2e_dp_expect ka_inserted == "$total" "every response"
e2e_dp_expect rst_idle == 2 "the 6 s curl pause and http_client.py's connection"
e2e_dp_expect rst_sent == 4 "both ends of each"
e2e_dp_expect pkts_split '>' 0 "insertions into full IPv6 segments"
pass
