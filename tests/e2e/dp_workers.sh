#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# dp_workers: two workers (--lcores '0@0,(1,2)@1'). net_af_packet has no
# symmetric RSS, so each port's queue is polled by one worker and every TCP
# segment is handed to the worker that owns its connection (software dispatch).
#
# 1. mode=observe, wrk 4 s on 32 connections: no socket error; kapa-dp's
#    http_requests equal nginx's access log; segments were dispatched, none
#    dropped for a full ring (dispatch_full 0); per worker (telemetry
#    /kapa/stats,W while it runs) both own connections and requests, and
#    their counts add up to the total.
# 2. timeout=30,max=50,mode=advertise: wrk 3 s on 16 connections: no socket
#    error, no connection in nginx's log with more than 50 requests; both
#    workers inserted Keep-Alive fields and rewrote closes; one connection
#    checked response by response (Keep-Alive: timeout=29, max=49..1, then
#    Connection: close on the 50th, bodies byte-exact); counts equal the log.
#
# Usage: dp_workers.sh [KAPA_DP]  (meson passes the built kapa-dp)
# shellcheck disable=SC2119 # lib.sh functions with optional arguments
# shellcheck disable=SC2001 # sed prefixes every line of a multi-line value
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

e2e_init workers
e2e_dp_init "${1:-}"
e2e_require_cmd wrk

e2e_topo_up
e2e_nginx_start

# Per-worker counters: "W name=value ..." for the names given, one line a worker.
per_worker() {
	local w
	for w in 0 1; do
		e2e_dp_telemetry "/kapa/stats,$w" >"$E2E_DIR/tel.$w" ||
			fail "telemetry /kapa/stats,$w did not answer"
		printf '%s %s\n' "$w" "$(python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))
print(" ".join("%s=%s" % (n, s[n]) for n in sys.argv[2:]))' "$E2E_DIR/tel.$w" "$@")"
	done
}

# The value of counter $2 for worker $1 from per_worker's output in $tel.
tel_of() {
	awk -v w="$1" -v n="$2" '$1 == w { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == n) print kv[2] } }' <<<"$tel"
}

e2e_log "---- two workers, mode=observe"
e2e_dp_start --workers 2 --policy mode=observe
grep -q '^kapa-dp: 2 workers, software dispatch' "$E2E_BRIDGE_LOG" ||
	fail "kapa-dp did not start two workers with software dispatch: $(grep '^kapa-dp: [0-9] worker' "$E2E_BRIDGE_LOG")"
e2e_wait_path
e2e_log_mark
e2e_wrk "$E2E_DIR/wrk.observe" -t 2 -c 32 -d 4s "$E2E_URL4/size/1448"
e2e_expect_eq "wrk socket errors" "$E2E_WRK_SOCKET_ERRORS" 0
e2e_expect_eq "wrk non-2xx responses" "$E2E_WRK_NON2XX" 0
e2e_nginx_wait_active 1 10 || fail "stub_status: $E2E_NGINX_ACTIVE active connections after wrk, expected 1"
logged=$(e2e_log_count)
((logged >= E2E_WRK_REQUESTS && logged <= E2E_WRK_REQUESTS + 32)) ||
	fail "nginx logged $logged requests, wrk completed $E2E_WRK_REQUESTS (expected up to 32 more)"
e2e_expect_eq "wrk's connections in nginx's log" "$(e2e_log_conns | wc -l)" 32
sleep 0.1 # the workers publish their counters every 10 ms
tel=$(per_worker http_requests conns_opened dispatched dispatch_full)
sed 's/^/    worker| /' <<<"$tel"
for w in 0 1; do
	(($(tel_of "$w" http_requests) > 0 && $(tel_of "$w" conns_opened) > 0)) ||
		fail "worker $w owned no connection or request: $(grep "^$w " <<<"$tel")"
done
e2e_bridge_check
e2e_dp_stop
e2e_dp_expect http_requests == "$logged" "nginx's access log"
e2e_dp_expect http_requests == $(($(tel_of 0 http_requests) + $(tel_of 1 http_requests))) "the two workers' counts added"
e2e_dp_expect dispatched '>' 0
e2e_dp_expect dispatch_full == 0
e2e_dp_expect tx_dropped == 0
e2e_dp_expect gaps == 0

e2e_log "---- two workers, timeout=30,max=50,mode=advertise"
e2e_dp_start --workers 2 --policy timeout=30,max=50,mode=advertise
e2e_wait_path
e2e_log_mark
mode_mark=$E2E_LOG_MARK
e2e_wrk "$E2E_DIR/wrk.advertise" -t 2 -c 16 -d 3s "$E2E_URL4/size/1448"
e2e_expect_eq "wrk socket errors" "$E2E_WRK_SOCKET_ERRORS" 0
e2e_expect_eq "wrk non-2xx responses" "$E2E_WRK_NON2XX" 0
e2e_nginx_wait_active 1 10 || fail "stub_status: $E2E_NGINX_ACTIVE active connections after wrk, expected 1"
e2e_log_summary | sed 's/^/    log| /'
most=$(e2e_log_conns | awk '$2 > m { m = $2 } END { print m + 0 }')
e2e_expect_eq "most requests on one wrk connection under max=50" "$most" 50
sleep 0.1
tel=$(per_worker http_requests ka_inserted close_rewritten)
sed 's/^/    worker| /' <<<"$tel"
for w in 0 1; do
	(($(tel_of "$w" ka_inserted) > 0 && $(tel_of "$w" close_rewritten) > 0)) ||
		fail "worker $w acted on no connection: $(grep "^$w " <<<"$tel")"
done

# One connection, response by response.
steps=()
for ((k = 1; k <= 51; k++)); do
	steps+=(/size/1449)
done
out=$E2E_DIR/client.out
e2e_http_client "$out" "$E2E_V4_S" --www "$E2E_NGINX_DIR/www" "${steps[@]}" ||
	fail "http_client.py: a request failed (see $out)"
bad=$(e2e_jrec "$out" --where 'r["status"] != 200 or r["body_ok"] is not True or (
	(r["conn"], r["connection"], r["keep_alive"]) != (
		(1, "keep-alive", "timeout=29, max=%d" % (50 - r["n"])) if r["n"] < 50 else
		(1, "close", None) if r["n"] == 50 else
		(2, "keep-alive", "timeout=29, max=49")))' | head -n 5)
[[ -z $bad ]] || fail "http_client.py: responses not as advertised (first 5): $bad"
e2e_log "ok: 49 responses with Keep-Alive: timeout=29, max=49..1, the 50th with Connection: close, the 51st on a new connection"

E2E_LOG_MARK=$mode_mark
logged=$(e2e_log_count)
closed=$(e2e_log_conns | awk '$2 == 50' | wc -l)
e2e_bridge_check
e2e_dp_stop
e2e_dp_expect http_requests == "$logged" "nginx's access log"
e2e_dp_expect close_rewritten == "$closed" "connections with 50 requests in nginx's log"
e2e_dp_expect ka_inserted == $((logged - closed)) "every response but the closing ones"
e2e_dp_expect rst_max == 0
e2e_dp_expect dispatched '>' 0
e2e_dp_expect dispatch_full == 0
e2e_dp_expect tx_dropped == 0
pass
