#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# dp_idle: the keep-alive idle limit (--policy timeout=4,mode=enforce) over
# IPv4 (dp_ipv6 checks it over IPv6).
#
# 1. curl reuses its connection after a 2 s pause (shorter than the limit):
#    num_connects 1 then 0.
# 2. After a 6 s pause (longer) curl finds the connection closed and opens a
#    new one: num_connects 1 then 1.
# 3. http_client.py holds a connection idle and looks at it without sending:
#    still open after 3 s, reset (an RST, not a FIN) after 6 s; meanwhile
#    nginx counts it as active (stub_status 2 with the status request's own)
#    until kapa's RST reaches it too, no sooner than the limit after the
#    response, and drops back to 1; the next request opens a new connection.
# Then kapa-dp's counters: rst_idle 2 (cases 2 and 3), two RSTs each (both
# ways), requests equal to nginx's log, all mbufs back.
#
# Usage: dp_idle.sh [KAPA_DP]  (meson passes the built kapa-dp)
# shellcheck disable=SC2119 # lib.sh functions with optional arguments
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

e2e_init idle
e2e_dp_init "${1:-}"

e2e_topo_up
e2e_nginx_start
e2e_dp_start --policy timeout=4,mode=enforce
e2e_wait_path

# 1. A pause shorter than the limit: reused. (--rate 30/m: a transfer every 2 s.)
got=$(e2e_curl -o /dev/null -o /dev/null -w '%{http_code}/%{num_connects} ' --rate 30/m \
	"$E2E_URL4/size/1448" "$E2E_URL4/size/100")
e2e_expect_eq "2 s pause under timeout=4: status/new connections" "$got" "200/1 200/0 "

# 2. A pause longer than the limit: the connection was closed, curl reconnects.
got=$(e2e_curl -o /dev/null -o /dev/null -w '%{http_code}/%{num_connects} ' --rate 10/m \
	"$E2E_URL4/size/1448" "$E2E_URL4/size/100")
e2e_expect_eq "6 s pause under timeout=4: status/new connections" "$got" "200/1 200/1 "
e2e_nginx_wait_active 1 5 ||
	fail "stub_status: $E2E_NGINX_ACTIVE active connections after the curl runs, expected 1"

# 3. One connection held idle; both its ends see kapa's reset.
out=$E2E_DIR/client.out
e2e_spawn client client "$out" python3 "$E2E_LIB_DIR/http_client.py" "$E2E_V4_S" \
	/size/1 sleep=3 probe sleep=3 probe /size/100
e2e_log_wait 1 5 || fail "nginx logged no request from http_client.py"
t_resp=$(_e2e_now_ms)
sleep 2
active=$(e2e_nginx_active)
e2e_expect_eq "stub_status 2 s into the idle time (status + the idle connection)" "$active" 2
e2e_nginx_wait_active 1 6 ||
	fail "stub_status: still $E2E_NGINX_ACTIVE active connections 8 s after the response: nginx never saw the idle connection reset"
dt=$(($(_e2e_now_ms) - t_resp))
# The limit counts from the last byte; the response was logged just after it.
((dt >= 3900)) || fail "nginx's connection ended ${dt} ms after the response: before the 4 s limit"
e2e_log "ok: nginx's end of the idle connection ended ${dt} ms after the response (limit 4 s)"
e2e_wait client 10 || fail "http_client.py: a request failed (see $out)"
sed 's/^/    client| /' "$out"
got=$(e2e_jrec "$out" --join ' ' --show '"probe:" + r["probe"] if r["probe"]
	else "req%s:%s/conn%s" % (r["n"], r["status"], r["conn"])')
e2e_expect_eq "idle connection: probes at 3 s and 6 s, then a new connection" "$got" \
	"req1:200/conn1 probe:open probe:reset req2:200/conn2"

logged=$(e2e_log_count)
e2e_expect_eq "requests in nginx's log" "$logged" 6
e2e_bridge_check
e2e_dp_stop
e2e_dp_expect rst_idle == 2 "the 6 s curl pause and the held connection"
e2e_dp_expect rst_sent == 4 "each idle close resets both ends"
e2e_dp_expect http_requests == "$logged" "nginx's access log"
e2e_dp_expect rst_stall == 0
e2e_dp_expect rst_max == 0
e2e_dp_expect craft_no_mbuf == 0
e2e_dp_expect craft_no_port == 0
pass
