#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# bridge_smoke: proves the e2e harness (lib.sh) end to end with a bridge that
# changes nothing: dpdk-testpmd in io forwarding mode until kapa-dp exists
# (KAPA_BRIDGE_CMD overrides it, e.g.
# KAPA_BRIDGE_CMD="build/dataplane/dp/kapa-dp @EAL@ -- --bridge 0:1 --policy mode=observe").
#
# Through the bridge: one curl request; one connection carrying three requests
# (and one carrying every /size/N file); a slow-header and a stalled-body
# response; wrk for 3 s on 4 connections; ab, 200 requests on 2 kept-alive
# connections; one curl over IPv6. Checks: every
# response complete, connections reused where they should be, no wrk socket
# error, nginx's access log counts exactly what the clients sent (wrk: its count
# plus at most one request in flight per connection), stub_status back to the
# status request alone, and the frames that left each namespace arrived in the
# other unchanged, both ways.
# shellcheck disable=SC2119 # lib.sh functions with optional arguments
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

e2e_init smoke
e2e_require_cmd wrk
[[ -n ${KAPA_BRIDGE_CMD:-} ]] || e2e_require_cmd dpdk-testpmd

e2e_topo_up
e2e_nginx_start
e2e_capture_start client client
e2e_capture_start server server
e2e_bridge_start
e2e_wait_path
sent=0 # requests the clients sent whose count is known

# One request.
e2e_log_mark
got=$(e2e_curl -o /dev/null -w '%{http_code} %{size_download} %{num_connects}' "$E2E_URL4/size/1448")
e2e_expect_eq "one curl request: status, bytes, connects" "$got" "200 1448 1"
e2e_log_wait 1 || fail "nginx logged $E2E_LOG_N requests for one curl request"
e2e_expect_eq "requests logged for one curl request" "$E2E_LOG_N" 1
sent=$((sent + 1))

# Three requests on one connection: curl reuses it for its later URLs.
e2e_log_mark
got=$(e2e_curl -w '%{http_code}/%{num_connects} ' -o /dev/null -o /dev/null -o /dev/null \
	"$E2E_URL4/" "$E2E_URL4/size/1447" "$E2E_URL4/size/1449")
e2e_expect_eq "three URLs, one curl: status/new connections" "$got" "200/1 200/0 200/0 "
e2e_log_wait 3 || fail "nginx logged $E2E_LOG_N of 3 requests"
conns=$(e2e_log_conns)
e2e_expect_eq "connections and requests per connection in the log" \
	"$(awk '{ print $2 }' <<<"$conns" | tr '\n' ' ')" "3 "
sent=$((sent + 3))

# Every /size/N file on one connection, each of its exact size.
e2e_log_mark
urls=()
outs=()
want=""
for n in ${E2E_NGINX_SIZES:-$E2E_NGINX_SIZES_DEFAULT}; do
	urls+=("$E2E_URL4/size/$n")
	outs+=(-o /dev/null)
	want+="200/$n "
done
got=$(e2e_curl -w '%{http_code}/%{size_download} ' "${outs[@]}" "${urls[@]}")
e2e_expect_eq "${#urls[@]} sizes: status/bytes" "$got" "$want"
e2e_log_wait "${#urls[@]}" || fail "nginx logged $E2E_LOG_N of ${#urls[@]} requests"
e2e_expect_eq "connections for ${#urls[@]} sizes" "$(e2e_log_conns | wc -l)" 1
sent=$((sent + ${#urls[@]}))

# Late headers, then a body that stalls half-way (slow_backend.py behind nginx).
got=$(e2e_curl -o /dev/null -w '%{http_code} %{size_download} %{time_starttransfer}' \
	"$E2E_URL4/slow/headers?delay=1&size=3000")
read -r code size tfirst <<<"$got"
[[ $code == 200 && $size == 3000 ]] || fail "slow headers: got '$got', expected 200 and 3000 bytes"
awk -v t="$tfirst" 'BEGIN { exit !(t >= 0.95) }' ||
	fail "slow headers: first byte after ${tfirst}s, expected about 1 s"
e2e_log "ok: slow headers: first byte after ${tfirst}s"
got=$(e2e_curl -o /dev/null -w '%{http_code} %{size_download} %{time_starttransfer} %{time_total}' \
	"$E2E_URL4/slow/stall?size=100000&at=5000&delay=1")
read -r code size tfirst ttotal <<<"$got"
[[ $code == 200 && $size == 100000 ]] || fail "stalled body: got '$got', expected 200 and 100000 bytes"
awk -v a="$tfirst" -v b="$ttotal" 'BEGIN { exit !(a < 0.5 && b - a >= 0.9) }' ||
	fail "stalled body: first byte after ${tfirst}s, done after ${ttotal}s: expected a 1 s stall mid-body"
e2e_log "ok: stalled body: first byte after ${tfirst}s, complete after ${ttotal}s"
sent=$((sent + 2))

# wrk: 3 s, 4 connections. The log counts what wrk counted plus at most the one
# request in flight on each connection when wrk stopped.
e2e_log_mark
e2e_wrk "$E2E_DIR/wrk.out" -t 2 -c 4 -d 3s "$E2E_URL4/size/1448"
e2e_bridge_check
e2e_expect_eq "wrk socket errors" "$E2E_WRK_SOCKET_ERRORS" 0
e2e_expect_eq "wrk non-2xx responses" "$E2E_WRK_NON2XX" 0
((E2E_WRK_REQUESTS > 100)) || fail "wrk completed only $E2E_WRK_REQUESTS requests in 3 s"
e2e_nginx_wait_active 1 10 ||
	fail "stub_status: $E2E_NGINX_ACTIVE active connections 10 s after wrk, expected 1 (the status request)"
logged=$(e2e_log_count)
((logged >= E2E_WRK_REQUESTS && logged <= E2E_WRK_REQUESTS + 4)) ||
	fail "nginx logged $logged requests, wrk completed $E2E_WRK_REQUESTS (expected up to 4 more)"
e2e_log "ok: wrk completed $E2E_WRK_REQUESTS requests, nginx logged $logged"
e2e_expect_eq "connections wrk opened" "$(e2e_log_conns | wc -l)" 4
e2e_log_summary | sed 's/^/    log| /'
sent=$((sent + logged))

# ab: exactly 200 requests, kept alive on 2 connections.
e2e_log_mark
e2e_ab "$E2E_DIR/ab.out" -k -n 200 -c 2 "$E2E_URL4/size/2896"
e2e_expect_eq "ab complete/failed/keep-alive/non-2xx requests" \
	"$E2E_AB_COMPLETE/$E2E_AB_FAILED/$E2E_AB_KEEPALIVE/$E2E_AB_NON2XX" "200/0/200/0"
e2e_log_wait 200 || fail "nginx logged $E2E_LOG_N of ab's 200 requests"
e2e_expect_eq "requests logged for ab" "$E2E_LOG_N" 200
e2e_expect_eq "connections ab used" "$(e2e_log_conns | wc -l)" 2
sent=$((sent + 200))

# IPv6.
e2e_log_mark
got=$(e2e_curl -g -o /dev/null -w '%{http_code} %{size_download}' "$E2E_URL6/size/1428")
e2e_expect_eq "curl over IPv6: status, bytes" "$got" "200 1428"
e2e_log_wait 1 || fail "nginx logged no request over IPv6"
client=$(e2e_log_conns | awk '{ print $3 }')
[[ $client == "$E2E_V6_C":* ]] || fail "the IPv6 request was logged from '$client', expected $E2E_V6_C"
e2e_log "ok: nginx logged the request from $client"
sent=$((sent + 1))

# Everything is done: nginx holds only the status request's connection, and its
# log has exactly what the clients sent.
e2e_nginx_wait_active 1 10 ||
	fail "stub_status: $E2E_NGINX_ACTIVE active connections after the clients finished, expected 1"
e2e_log "ok: stub_status: 1 active connection (the status request)"
E2E_LOG_MARK=0
e2e_expect_eq "requests in nginx's access log, all phases" "$(e2e_log_count)" "$sent"

# The bytes: what left one namespace arrived in the other unchanged.
e2e_capture_stop client
e2e_capture_stop server
e2e_pcap_compare client server --reorder 4 --src "$E2E_V4_C" --src "$E2E_V6_C" ||
	fail "client -> server frames changed across the bridge"
((E2E_PCAP_FRAMES > 1000)) || fail "client -> server: only $E2E_PCAP_FRAMES TCP frames compared"
e2e_log "ok: client -> server: $E2E_PCAP_FRAMES TCP frames identical"
e2e_pcap_compare server client --reorder 4 --src "$E2E_V4_S" --src "$E2E_V6_S" ||
	fail "server -> client frames changed across the bridge"
((E2E_PCAP_FRAMES > 1000)) || fail "server -> client: only $E2E_PCAP_FRAMES TCP frames compared"
e2e_log "ok: server -> client: $E2E_PCAP_FRAMES TCP frames identical"

# The bridge stops on SIGTERM; kapa-dp's counters, where it prints them.
e2e_bridge_check
e2e_bridge_stop
((E2E_BRIDGE_KILLED == 0)) || fail "the bridge did not stop on SIGTERM"
e2e_expect_eq "bridge exit status" "$E2E_BRIDGE_RC" 0
if [[ -n $(e2e_bridge_counters) ]]; then
	e2e_bridge_counters | sed 's/^/    counter| /'
	n=$(e2e_bridge_counter http_requests)
	[[ -z $n ]] || e2e_expect_eq "kapa-dp http_requests vs nginx's access log" "$n" "$sent"
fi
pass "$sent requests through the bridge"
