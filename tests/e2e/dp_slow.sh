#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# dp_slow: a request outstanding is never idle; the stall limit is what
# bounds it. Policy timeout=2,stall=4,mode=enforce; the slow responses come
# from slow_backend.py behind nginx (/slow/...).
#
# 1. curl /slow/headers?delay=3: the response comes after 3 s, longer than
#    the idle limit but shorter than the stall limit: complete, not reset.
# 2. http_client.py on one connection: a quick request, the 3 s one, then
#    1 s later the connection is still open and carries a third request; 3 s
#    after that (idle, nothing outstanding) it has been reset: the idle limit
#    applies again once the slow response is through.
# 3. curl /slow/stall (5000 body bytes, then nothing for 8 s): reset by the
#    stall limit after about 4 s, with 5000 bytes received (curl exit 56).
# 4. curl /slow/headers?delay=8 (no response for 8 s): reset after about 4 s.
# Each time nginx's end goes too (stub_status back to 1). kapa-dp: rst_stall 2,
# rst_idle 1 (step 2's connection only), 2 RSTs each, all mbufs back.
#
# Usage: dp_slow.sh [KAPA_DP]  (meson passes the built kapa-dp)
# shellcheck disable=SC2119 # lib.sh functions with optional arguments
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

e2e_init slow
e2e_dp_init "${1:-}"
e2e_require_cmd tshark

e2e_topo_up
e2e_nginx_start
# For the diagnosis of a stall that is not reset (stall_reset).
e2e_capture_start client client
e2e_capture_start server server
e2e_dp_start --policy timeout=2,stall=4,mode=enforce
e2e_wait_path

# 1. Late headers: outstanding 3 s, past the 2 s idle limit, not reset.
got=$(e2e_curl -o /dev/null -w '%{http_code} %{size_download} %{time_total}' \
	"$E2E_URL4/slow/headers?delay=3&size=3000") || fail "curl of a 3 s response failed: '$got'"
read -r code size ttotal <<<"$got"
e2e_expect_eq "3 s response under timeout=2,stall=4: status, bytes" "$code $size" "200 3000"
awk -v t="$ttotal" 'BEGIN { exit !(t >= 2.9) }' || fail "the 3 s response came after ${ttotal}s"
e2e_log "ok: the response came after ${ttotal}s"
e2e_nginx_wait_active 1 5 || fail "stub_status: $E2E_NGINX_ACTIVE active connections, expected 1"

# 2. The same on a kept-alive connection, which the idle limit then closes.
out=$E2E_DIR/client.out
e2e_http_client "$out" "$E2E_V4_S" /size/100 "/slow/headers?delay=3&size=100" sleep=1 probe \
	/size/1 sleep=3 probe || fail "http_client.py: a request failed (see $out)"
sed 's/^/    client| /' "$out"
got=$(e2e_jrec "$out" --join ' ' --show '"probe:" + r["probe"] if r["probe"]
	else "req%s:%s/conn%s" % (r["n"], r["status"], r["conn"])')
e2e_expect_eq "slow response on a kept-alive connection, then idle" "$got" \
	"req1:200/conn1 req2:200/conn1 probe:open req3:200/conn1 probe:reset"
e2e_nginx_wait_active 1 5 || fail "stub_status: $E2E_NGINX_ACTIVE active connections, expected 1"

# stall_reset WHAT URL WANT: curl URL, which the stall limit must reset about
# 4 s in; WANT is "HTTP-status bytes" as curl ends. curl runs in the
# background: when it is still waiting 7 s in, kapa-dp's view of the
# connection (telemetry /kapa/conns) goes into the failure message, and
# nginx's, and the frames each side saw by then.
stall_reset() {
	local what=$1 url=$2 want=$3 out=$E2E_DIR/stall.out rc=0 got code size ttotal
	e2e_spawn stall client "$out" curl -sS --noproxy '*' --max-time 30 -o /dev/null \
		-w '\nresult %{http_code} %{size_download} %{time_total}\n' "$url"
	if ! e2e_wait_for 7 _stall_done; then
		e2e_log "$what: not reset 7 s into a 4 s stall limit; kapa-dp's live connections:"
		e2e_dp_telemetry /kapa/conns,10 2>&1 | sed 's/^/    /'
		e2e_log "nginx: $(e2e_nginx_status | tr '\n' ' ')"
		e2e_capture_stop client 0
		e2e_capture_stop server 0
		for cap in client server; do
			e2e_log "the last frames in the $cap capture:"
			tshark -r "$(e2e_capture_file "$cap")" -Y tcp 2>/dev/null | tail -n 12 | sed 's/^/    /'
		done
		fail "$what: not reset 7 s into a 4 s stall limit (see above)"
	fi
	e2e_wait stall 5 || rc=$?
	read -r code size ttotal < <(sed -n 's/^result //p' "$out")
	e2e_expect_eq "$what: curl status, HTTP status, bytes" "$rc $code $size" "56 $want"
	grep -q 'reset by peer' "$out" || fail "$what: curl said '$(head -n 1 "$out")', expected a reset"
	awk -v t="$ttotal" 'BEGIN { exit !(t >= 3.9 && t < 7) }' ||
		fail "$what: reset after ${ttotal}s, expected the 4 s stall limit"
	e2e_log "ok: $what: reset after ${ttotal}s"
	e2e_nginx_wait_active 1 5 ||
		fail "stub_status: $E2E_NGINX_ACTIVE active connections: nginx's end of the $what was not reset"
}

# shellcheck disable=SC2317 # called by e2e_wait_for
_stall_done() {
	! e2e_alive stall
}

# 3. A body that stalls: reset by the stall limit, mid-body.
stall_reset "stalled body" "$E2E_URL4/slow/stall?size=100000&at=5000&delay=8" "200 5000"

# 4. No response at all: reset by the stall limit.
stall_reset "unanswered request" "$E2E_URL4/slow/headers?delay=8&size=100" "000 0"

e2e_bridge_check
e2e_dp_stop
e2e_dp_expect rst_stall == 2 "the stalled body and the unanswered request"
e2e_dp_expect rst_idle == 1 "step 2's connection, once idle"
e2e_dp_expect rst_sent == 6 "each close resets both ends"
e2e_dp_expect http_requests == 6
e2e_dp_expect http_responses == 5 "the unanswered request has none"
pass
