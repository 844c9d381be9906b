#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# dp_restart: kapa-dp killed with SIGKILL and started again on the same map
# root.
#
# 1. Mid-traffic, mode=observe: wrk (8 connections, 6 s, -T 10s) runs while
#    kapa-dp is killed 2 s in and started again at once. The connections go
#    on through the new kapa-dp, which picks them up mid-stream: wrk completes
#    with no socket error, nginx's log shows the same 8 connections only (none
#    was reset and reopened), and kapa-dp #2 counts conns_midstream 8 and
#    every request it saw after its start.
#    Counts today: kapa-dp #2's http_requests lies between the requests nginx
#    logged after #2 was ready and those logged after #1 died (the requests in
#    flight across the gap are counted once their bytes pass #2, when TCP
#    retransmits them, or not, when only their response did). Exact equality
#    with the log across a restart is expected only after the 'fidelity'
#    issue (counters carried over in kapa_stats); this test then gets an
#    exact check.
# 2. The ghost, mode=advertise: curl sends two requests 6 s apart on one
#    connection (--rate 10/m); kapa-dp #3 inserts Keep-Alive into the first
#    response (the connection's sequence numbers are now shifted), is killed,
#    and kapa-dp #4 starts on the same maps: the second request on the old
#    connection is reset both ways (ghosts_reset 1; nginx's end goes too), and
#    curl retries on a fresh connection, which succeeds.
# 3. A clean stop (SIGTERM) of kapa-dp #4 while a connection it shifted is
#    open and idle: both ends are reset (the client sees it, nginx drops its
#    end), rst_shutdown 1.
#
# Usage: dp_restart.sh [KAPA_DP]  (meson passes the built kapa-dp)
# shellcheck disable=SC2119 # lib.sh functions with optional arguments
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

e2e_init restart
e2e_dp_init "${1:-}"
e2e_require_cmd wrk

e2e_topo_up
e2e_nginx_start

# Wall-clock seconds.milliseconds, as nginx's $msec.
now_msec() {
	local t=$EPOCHREALTIME
	echo "${t%.*}.${t#*.}" | cut -c1-14
}

# Requests nginx logged (since the mark) with $msec after $1.
logged_after() {
	awk -F'\t' -v skip="$E2E_LOG_MARK" -v t="$1" \
		'NR > skip { sub(/^msec=/, "", $1); if ($1 + 0 > t + 0) n++ } END { print n + 0 }' \
		"$E2E_ACCESS_LOG"
}

e2e_log "---- kill -9 under wrk, mode=observe"
e2e_dp_start --policy mode=observe
e2e_wait_path
e2e_log_mark
e2e_spawn wrk client "$E2E_DIR/wrk.out" wrk -t 2 -c 8 -d 6s -T 10s "$E2E_URL4/size/1448"
sleep 2
e2e_alive wrk || fail "wrk ended early: $(cat "$E2E_DIR/wrk.out")"
t_kill=$(now_msec)
e2e_dp_kill9
e2e_dp_start --policy mode=observe
t_ready=$(now_msec)
e2e_log "kapa-dp #2 ready $(awk -v a="$t_kill" -v b="$t_ready" 'BEGIN { printf "%.3f", b - a }') s after the kill"
e2e_wait wrk 30 || fail "wrk failed: $(tail -n 3 "$E2E_DIR/wrk.out")"
sed 's/^/    wrk| /' "$E2E_DIR/wrk.out"
wrk_requests=$(awk '/ requests in / { print $1 }' "$E2E_DIR/wrk.out")
errors=$(awk -F'[ ,]+' '/Socket errors:/ {
	for (i = 1; i < NF; i++) if ($i ~ /^(connect|read|write|timeout)$/) s += $(i + 1)
} END { print s + 0 }' "$E2E_DIR/wrk.out")
e2e_expect_eq "wrk socket errors across the restart" "$errors" 0
e2e_nginx_wait_active 1 10 || fail "stub_status: $E2E_NGINX_ACTIVE active connections after wrk, expected 1"
logged=$(e2e_log_count)
((logged >= wrk_requests && logged <= wrk_requests + 8)) ||
	fail "nginx logged $logged requests, wrk completed $wrk_requests (expected up to 8 more)"
e2e_expect_eq "wrk's connections in nginx's log (none reopened)" "$(e2e_log_conns | wc -l)" 8
after_kill=$(logged_after "$t_kill")
after_ready=$(logged_after "$t_ready")
e2e_log "nginx logged $logged requests: $after_kill after the kill, $after_ready after kapa-dp #2 was ready"
e2e_bridge_check
e2e_dp_stop
e2e_dp_expect conns_midstream == 8 "wrk's connections, picked up mid-stream"
e2e_dp_expect conns_opened == 0 "no new connection"
n=$(e2e_dp_counter http_requests)
e2e_log "kapa-dp #2 counted $n requests; nginx logged $after_ready after #2 was ready, $after_kill after #1 died"
((n >= after_ready && n <= after_kill)) ||
	fail "kapa-dp #2 counted $n requests: expected between $after_ready (logged after it was ready) and $after_kill (logged after the kill)"
e2e_log "ok: kapa-dp #2's count lies between the two"
e2e_dp_expect rst_sent == 0 "observe"
e2e_dp_expect ghosts_reset == 0 "nothing was shifted"

e2e_log "---- the ghost: kill -9 with a shifted connection, mode=advertise"
policy=timeout=30,max=100,mode=advertise
e2e_dp_start --policy "$policy"
e2e_wait_path
e2e_log_mark
e2e_spawn curl client "$E2E_DIR/curl.out" curl -sS -v --noproxy '*' --max-time 30 --rate 10/m \
	-o /dev/null -o /dev/null -w 'result %{http_code}/%{num_connects}\n' \
	"$E2E_URL4/size/1448" "$E2E_URL4/size/2896"
e2e_log_wait 1 5 || fail "nginx logged no first request from curl"
sleep 0.5
grep -q '^< Keep-Alive: timeout=29, max=99' "$E2E_DIR/curl.out" ||
	fail "the first response carried no inserted Keep-Alive: $(grep '^<' "$E2E_DIR/curl.out")"
e2e_dp_kill9
e2e_dp_start --policy "$policy"
grep -q '^kapa-dp: 1 connections were shifted by a kapa-dp that did not stop cleanly' "$E2E_BRIDGE_LOG" ||
	fail "kapa-dp #4 did not find the shifted connection: $(grep -i shifted "$E2E_BRIDGE_LOG")"
e2e_log "ok: kapa-dp #4 found 1 shifted connection"
e2e_wait curl 30 || fail "curl failed: $(tail -n 5 "$E2E_DIR/curl.out")"
grep -E '^\* (Connection died|Recv failure)' "$E2E_DIR/curl.out" | sed 's/^/    curl| /'
grep -q '^\* Connection died, retrying a fresh connect' "$E2E_DIR/curl.out" ||
	fail "curl did not retry on a fresh connection: $(grep '^\*' "$E2E_DIR/curl.out" | tail -n 8)"
e2e_expect_eq "curl: status/new connections of the two requests" \
	"$(sed -n 's/^result //p' "$E2E_DIR/curl.out" | tr '\n' ' ')" "200/1 200/1 "
e2e_nginx_wait_active 1 5 ||
	fail "stub_status: $E2E_NGINX_ACTIVE active connections: nginx's end of the ghost was not reset"
e2e_log "ok: nginx's end of the ghost was reset too (stub_status 1)"
e2e_expect_eq "requests per connection in nginx's log" \
	"$(e2e_log_conns | awk '{ printf "%s ", $2 }')" "1 1 "

# 3. A clean stop with a shifted connection open: kapa-dp resets it both ways.
out=$E2E_DIR/client.out
e2e_spawn client client "$out" python3 "$E2E_LIB_DIR/http_client.py" "$E2E_V4_S" \
	/size/1448 sleep=3 probe
e2e_log_wait 3 5 || fail "nginx logged no request from http_client.py"
sleep 0.5
e2e_bridge_check
e2e_dp_stop
e2e_wait client 10 || fail "http_client.py failed: $(cat "$out")"
e2e_expect_eq "the shifted connection after kapa-dp stopped" \
	"$(e2e_jrec "$out" --show 'r["probe"] or "%s/%s" % (r["status"], r["keep_alive"])' --join ' ')" \
	"200/timeout=29, max=99 reset"
e2e_nginx_wait_active 1 5 ||
	fail "stub_status: $E2E_NGINX_ACTIVE active connections: nginx's end of the shifted connection was not reset at the stop"
e2e_log "ok: nginx's end of the shifted connection was reset at the stop (stub_status 1)"
e2e_dp_expect ghosts_reset == 1
e2e_dp_expect rst_shutdown == 1 "the connection held open at the stop"
e2e_dp_expect http_requests == 2 "the retried request and the held connection's"
e2e_dp_expect ka_inserted == 2
pass
