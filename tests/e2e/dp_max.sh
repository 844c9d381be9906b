#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# dp_max: the max-requests limit, max=3, under mode=enforce and then
# mode=advertise (timeout=10 beside it, long enough never to act here).
#
# For each mode, one kapa-dp:
# 1. curl, four URLs: responses 1 and 2 keep the connection (advertise: with
#    Keep-Alive: timeout=9, max=2 then max=1), response 3 carries
#    Connection: close, and the fourth request goes out on a new connection
#    (num_connects 1 0 0 1; nginx logs 3 + 1 requests on two connections).
# 2. http_client.py --ignore-close sends a fourth request on the connection
#    anyway. Once the client has acknowledged response 3, kapa closes the
#    connection as the server would have (a FIN to each end: closed_max); a
#    4th request that carries that acknowledgement itself
#    (the client was quicker than its kernel's ACK) is refused with RSTs both
#    ways (rst_max), as is one sent after kapa's FIN (the client reads the
#    FIN first: 'closed'). The client sees 'closed' or 'reset'; nginx never
#    sees the request and its end is gone either way (stub_status back to 1).
# 3. wrk, 3 s on 4 connections: every connection in nginx's log served at most
#    3 requests, and wrk reports no socket error. Why none: wrk reads the
#    Connection field of each response (http_should_keep_alive) and opens a new
#    connection instead of sending a 4th request, so kapa never has a request
#    to refuse; closing is wrk's own FIN, which is no error. A read error would
#    mean kapa reset a connection that honoured the close.
# Then the counters: close_rewritten equals the connections that reached 3
# requests (nginx always sends Connection: keep-alive, which is rewritten in
# place), nothing inserted for the close; rst_max 1 after a reset, else at
# most 1 and closed_max at least 1; advertise: ka_inserted
# equals the responses to requests 1 and 2; kapa counted the refused request
# too (http_requests = nginx's log + 1); all mbufs back.
#
# Usage: dp_max.sh [KAPA_DP]  (meson passes the built kapa-dp)
# shellcheck disable=SC2119 # lib.sh functions with optional arguments
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

e2e_init max
e2e_dp_init "${1:-}"
e2e_require_cmd wrk

e2e_topo_up
e2e_nginx_start

# The Connection and Keep-Alive lines of curl's header dump, one response a
# line: "keep-alive|timeout=9, max=2 close| ...".
fields_of() {
	awk 'BEGIN { RS = "\r\n" }
		/^HTTP\// { if (n++) printf "%s|%s ", c, k; c = "-"; k = "-" }
		tolower($0) ~ /^connection:/ { sub(/^[^:]*: */, ""); sub(/ *$/, ""); c = $0 }
		tolower($0) ~ /^keep-alive:/ { sub(/^[^:]*: */, ""); sub(/ *$/, ""); k = $0 }
		END { if (n) printf "%s|%s ", c, k }' "$1"
}

for mode in enforce advertise; do
	e2e_log "---- mode=$mode"
	e2e_dp_start --policy "timeout=10,max=3,mode=$mode"
	e2e_wait_path
	e2e_log_mark
	mode_mark=$E2E_LOG_MARK

	# 1. curl: the 4th request on a new connection.
	got=$(e2e_curl -D "$E2E_DIR/headers.$mode" -w '%{http_code}/%{num_connects} ' \
		-o /dev/null -o /dev/null -o /dev/null -o /dev/null \
		"$E2E_URL4/size/1448" "$E2E_URL4/size/2896" "$E2E_URL4/size/1449" "$E2E_URL4/")
	e2e_expect_eq "curl, 4 URLs under max=3: status/new connections" "$got" \
		"200/1 200/0 200/0 200/1 "
	if [[ $mode == advertise ]]; then
		want="keep-alive|timeout=9, max=2 keep-alive|timeout=9, max=1 close|- keep-alive|timeout=9, max=2 "
	else
		want="keep-alive|- keep-alive|- close|- keep-alive|- "
	fi
	e2e_expect_eq "Connection|Keep-Alive of the 4 responses" "$(fields_of "$E2E_DIR/headers.$mode")" "$want"
	e2e_log_wait 4 || fail "nginx logged $E2E_LOG_N of curl's 4 requests"
	e2e_expect_eq "requests per connection in nginx's log" \
		"$(e2e_log_conns | awk '{ printf "%s ", $2 }')" "3 1 "

	# 2. A client that ignores the close: kapa closed the connection, or
	#    refuses its 4th request with RSTs.
	out=$E2E_DIR/client.$mode
	e2e_log_mark
	e2e_http_client "$out" "$E2E_V4_S" --ignore-close /size/1 /size/100 /size/1448 /size/1 ||
		true # the 4th request fails: checked below
	sed 's/^/    client| /' "$out"
	got=$(e2e_jrec "$out" --join ' ' \
		--show '"%s:%s/%s/%s" % (r["n"], r["status"], r["connection"], r["error"])')
	first3="1:200/keep-alive/None 2:200/keep-alive/None 3:200/close/None"
	case "$got" in
	"$first3 4:None/None/reset") refused=1 ;;
	"$first3 4:None/None/closed") refused=0 ;;
	*) fail "a 4th request on the closed connection: got '$got', expected '$first3 4:None/None/closed' (or .../reset)" ;;
	esac
	e2e_log "ok: a 4th request on the closed connection: $got"
	e2e_nginx_wait_active 1 5 ||
		fail "stub_status: $E2E_NGINX_ACTIVE active connections: nginx's end of the refused connection was not reset"
	e2e_log "ok: nginx's end of the refused connection was reset (stub_status 1)"
	e2e_log_wait 3 || fail "nginx logged $E2E_LOG_N of the 3 requests kapa let through"
	sleep 0.5
	e2e_expect_eq "requests nginx saw on the refused connection" "$(e2e_log_count)" 3

	# 3. wrk: at most 3 requests a connection, no socket errors (see the top).
	e2e_log_mark
	e2e_wrk "$E2E_DIR/wrk.$mode" -t 2 -c 4 -d 3s "$E2E_URL4/size/1448"
	e2e_expect_eq "wrk socket errors" "$E2E_WRK_SOCKET_ERRORS" 0
	e2e_expect_eq "wrk non-2xx responses" "$E2E_WRK_NON2XX" 0
	e2e_nginx_wait_active 1 10 ||
		fail "stub_status: $E2E_NGINX_ACTIVE active connections 10 s after wrk, expected 1"
	e2e_log_summary | sed 's/^/    log| /'
	most=$(e2e_log_conns | awk '$2 > m { m = $2 } END { print m + 0 }')
	e2e_expect_eq "most requests on one wrk connection" "$most" 3
	full=$(e2e_log_conns | awk '$2 == 3' | wc -l)
	((full * 3 * 10 >= E2E_WRK_REQUESTS * 9)) ||
		fail "only $full connections reached 3 requests for $E2E_WRK_REQUESTS requests"

	# All of this mode's requests, and the counters.
	e2e_bridge_check
	e2e_dp_stop
	E2E_LOG_MARK=$mode_mark
	logged=$(e2e_log_count)
	closed=$(e2e_log_conns | awk '$2 == 3' | wc -l)
	e2e_dp_expect close_rewritten == "$closed" "connections with 3 requests in nginx's log"
	e2e_dp_expect close_inserted == 0 "nginx always sends a Connection field"
	e2e_dp_expect close_after_response == 0
	if ((refused)); then
		e2e_dp_expect rst_max == 1 "the 4th request of the client that ignored the close"
	else
		# Its 4th request, if it went out after kapa's FIN, was refused.
		e2e_dp_expect rst_max "<=" 1 "the client that ignored the close found it closed"
		e2e_dp_expect closed_max ">=" 1 "the close made for the client that ignored it"
	fi
	e2e_dp_expect rst_idle == 0
	e2e_dp_expect http_requests == $((logged + 1)) "nginx's log + the refused request"
	e2e_dp_expect http_responses == "$logged" "nginx's access log"
	if [[ $mode == advertise ]]; then
		e2e_dp_expect ka_inserted == $((logged - closed)) "responses to requests 1 and 2"
	else
		e2e_dp_expect ka_inserted == 0
		e2e_dp_expect bytes_inserted == 0
	fi
done
pass
