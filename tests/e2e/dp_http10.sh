#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# dp_http10: HTTP/1.0 keep-alive, negotiated per request with
# Connection: keep-alive (ab -k, http_client.py --http10).
#
# Under mode=observe:
# 1. ab -k, 300 requests on 3 connections: all complete, all kept alive; nginx
#    logs 3 connections, each numbering its requests 1..N ($connection_requests);
# 2. curl -0 without keep-alive, two URLs: two connections, one request each.
# kapa-dp: req_conn_keep_alive = the Ns added up (300), http10_requests that
# and curl's 2, http_requests = nginx's log.
#
# Under max=10 (mode=enforce):
# 3. http_client.py --http10, 12 requests: response 10 carries
#    Connection: close (rewritten from nginx's keep-alive), the client opens a
#    new connection for request 11; a client that does not close after the
#    10th response sees the connection closed (FIN or RST) within 2 s, as
#    RFC 9112 §9.6 has the server that sent "close" close it;
# 4. ab -k, 300 requests on 3 connections: every response to a 10th request
#    carries Connection: close and ab goes on on new connections: ab completes
#    all 300 without failures; nginx's log shows no connection with more than 10
#    requests; ab's keep-alive count is 300 minus the closes; close_rewritten
#    equals the connections that reached 10; rst_max 0 (ab honours the close).
#
# Usage: dp_http10.sh [KAPA_DP]  (meson passes the built kapa-dp)
# shellcheck disable=SC2119 # lib.sh functions with optional arguments
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

e2e_init http10
e2e_dp_init "${1:-}"
e2e_require_cmd ab

e2e_topo_up
e2e_nginx_start

e2e_log "---- mode=observe"
e2e_dp_start --policy mode=observe
e2e_wait_path

# 1. ab -k: 300 requests, 3 connections kept alive throughout.
e2e_log_mark
e2e_ab "$E2E_DIR/ab.observe" -k -n 300 -c 3 -s 10 "$E2E_URL4/size/1448"
e2e_expect_eq "ab complete/failed/keep-alive/non-2xx" \
	"$E2E_AB_COMPLETE/$E2E_AB_FAILED/$E2E_AB_KEEPALIVE/$E2E_AB_NON2XX" "300/0/300/0"
e2e_log_wait 300 || fail "nginx logged $E2E_LOG_N of ab's 300 requests"
e2e_expect_eq "ab's connections in nginx's log" "$(e2e_log_conns | wc -l)" 3
# Per connection: $connection_requests numbers its requests 1..N, and the Ns
# add up to what kapa counts (ab shares the 300 among its connections as they
# become free, so the Ns vary).
recs=$(python3 "$E2E_LIB_DIR/access_log.py" "$E2E_ACCESS_LOG" --skip "$E2E_LOG_MARK" records)
read -r got ab_per_conn < <(python3 -c '
import collections, json, sys
per = collections.defaultdict(list)
for line in sys.stdin:
    r = json.loads(line)
    per[r["conn"]].append(r["conn_req"])
print(str(all(v == list(range(1, len(v) + 1)) for v in per.values())).lower(),
      sum(max(v) for v in per.values()))' <<<"$recs")
e2e_expect_eq "every ab connection numbers its requests 1..N" "$got" true
e2e_expect_eq "ab's requests, added up per connection" "$ab_per_conn" 300

# 2. HTTP/1.0 without keep-alive: one request a connection.
e2e_log_mark
got=$(e2e_curl -0 -o /dev/null -o /dev/null -w '%{http_code}/%{num_connects} ' \
	"$E2E_URL4/size/1" "$E2E_URL4/size/100")
e2e_expect_eq "curl -0, two URLs: status/new connections" "$got" "200/1 200/1 "
e2e_log_wait 2 || fail "nginx logged $E2E_LOG_N of curl's 2 requests"

e2e_nginx_wait_active 1 10 || fail "stub_status: $E2E_NGINX_ACTIVE active connections, expected 1"
E2E_LOG_MARK=0
logged=$(e2e_log_count)
e2e_dp_stop
e2e_dp_expect http10_requests == $((ab_per_conn + 2)) "ab's per connection, and curl's 2"
e2e_dp_expect req_conn_keep_alive == "$ab_per_conn" "ab's requests asked for keep-alive, curl's did not"
e2e_dp_expect http_requests == "$logged" "nginx's access log"
e2e_dp_expect http_responses == "$logged" "nginx's access log"
e2e_dp_expect pkts_edited == 0 "observe"

e2e_log "---- max=10, mode=enforce"
e2e_dp_start --policy max=10,mode=enforce
e2e_wait_path
mode_mark=$(wc -l <"$E2E_ACCESS_LOG")

# 3. One HTTP/1.0 client that honours the close.
out=$E2E_DIR/client.out
steps=()
for ((i = 1; i <= 12; i++)); do
	steps+=(/size/1449)
done
e2e_http_client "$out" "$E2E_V4_S" --http10 --www "$E2E_NGINX_DIR/www" "${steps[@]}" ||
	fail "http_client.py --http10: a request failed (see $out)"
got=$(e2e_jrec "$out" --show '"%s:%s/%s/%s" % (r["n"], r["conn"], r["connection"], r["body_ok"])' \
	--join ' ')
want=""
for ((i = 1; i <= 12; i++)); do
	if ((i == 10)); then
		want+="$i:1/close/True "
	else
		want+="$i:$((i <= 10 ? 1 : 2))/keep-alive/True "
	fi
done
want=${want% }
e2e_expect_eq "HTTP/1.0 keep-alive under max=10: request:connection/Connection/body" "$got" "$want"

# A client that reads the closing response and waits (as ab does: an HTTP/1.0
# response without keep-alive is read until the connection closes): the
# connection must close. RFC 9112 §9.6: the server that sends "close" must
# close the connection after that response; nginx does not know it sent one
# (kapa rewrote its keep-alive), so kapa has to close it.
out=$E2E_DIR/client.wait
e2e_http_client "$out" "$E2E_V4_S" --http10 --ignore-close "${steps[@]:0:10}" sleep=2 probe ||
	fail "http_client.py --http10: a request failed (see $out)"
got=$(e2e_jrec "$out" --where 'r["probe"]' --show 'r["probe"]')
[[ $got == reset || $got == fin ]] ||
	fail "HTTP/1.0 under max=10: the connection whose 10th response said 'Connection: close' is still $got 2 s later: nobody closes it (RFC 9112 §9.6), and a client that waits for the close (ab -k) hangs"
e2e_log "ok: the connection closed after the 10th response ($got)"

# 4. ab -k under max=10. ab -s 10: a response that does not end is a failure
# after 10 s rather than ab's default 30.
e2e_log_mark
e2e_ab "$E2E_DIR/ab.max" -k -n 300 -c 3 -s 10 "$E2E_URL4/size/1448"
e2e_expect_eq "ab complete/failed/non-2xx under max=10" \
	"$E2E_AB_COMPLETE/$E2E_AB_FAILED/$E2E_AB_NON2XX" "300/0/0"
e2e_log_wait 300 || fail "nginx logged $E2E_LOG_N of ab's 300 requests"
e2e_log_summary | sed 's/^/    log| /'
most=$(e2e_log_conns | awk '$2 > m { m = $2 } END { print m + 0 }')
e2e_expect_eq "most requests on one ab connection" "$most" 10
tens=$(e2e_log_conns | awk '$2 == 10' | wc -l)
((tens >= 27)) || fail "only $tens of ab's connections reached 10 requests (300 requests)"
e2e_expect_eq "ab's keep-alive requests (all but the closing responses)" \
	"$E2E_AB_KEEPALIVE" $((300 - tens))

e2e_nginx_wait_active 1 10 || fail "stub_status: $E2E_NGINX_ACTIVE active connections, expected 1"
E2E_LOG_MARK=$mode_mark
logged=$(e2e_log_count)
closed=$(e2e_log_conns | awk '$2 == 10' | wc -l)
e2e_bridge_check
e2e_dp_stop
e2e_dp_expect close_rewritten == "$closed" "connections with 10 requests in nginx's log"
e2e_dp_expect rst_max == 0 "every client honoured the close"
e2e_dp_expect http10_requests == "$logged" "every request was HTTP/1.0"
e2e_dp_expect req_conn_keep_alive == "$logged" "every request asked for keep-alive"
e2e_dp_expect http_requests == "$logged" "nginx's access log"
pass
