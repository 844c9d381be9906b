#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# dp_advertise: mode=advertise inserts Keep-Alive: timeout=T-1, max=M-k where
# nginx sends none, and the connection stays consistent for hundreds of
# requests after the insertions (sequence numbers shifted one way, ACKs and
# SACKs translated the other).
#
# nginx runs with sendfile off, so that a response's header block and body
# leave in full segments: an insertion into a segment of a response near a
# multiple of the MSS makes it too large, and kapa splits it (pkts_split).
# Policy timeout=30,max=1000.
# 1. http_client.py: 600 requests on one connection, cycling through sizes
#    just under, at and over 1, 2, 3 and 10 segments of payload: every
#    response 200, Connection: keep-alive, Keep-Alive exactly
#    "timeout=29, max=<1000-k>" for request k, and the body byte-exact.
# 2. curl: 300 URLs on a connection of its own (num_connects 1, then 0), the
#    Keep-Alive countdown max=999..700 in its header dump, every body
#    byte-exact.
# 3. 300 requests on a third connection under loss (lossy.bpf.c under tc:
#    about 1 data segment in 30 dropped before kapa and after it, so TCP
#    retransmits edited and split segments and the client sends SACK blocks
#    that kapa translates): every body byte-exact, no reset, each response
#    with its exact Keep-Alive or, where kapa no longer held the bytes to
#    edit, none (refused_forwarded counts those).
# 4. No RST anywhere (captures), SACK blocks seen, nothing reset by kapa,
#    nginx back to 1 connection; kapa counted one insertion of 34 bytes for
#    every Keep-Alive the clients saw (bytes_inserted), split segments, no
#    other refusal.
# 5. The captures: the byte streams the client saw are those the server sent
#    with exactly the inserted lines added (tcp_streams.py), and the client's
#    requests reached the server unchanged.
#
# Usage: dp_advertise.sh [KAPA_DP]  (meson passes the built kapa-dp)
# shellcheck disable=SC2119 # lib.sh functions with optional arguments
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

e2e_init adv
e2e_dp_init "${1:-}"
e2e_require_cmd tshark clang tc

E2E_NGINX_EXTRA="sendfile off;"
e2e_topo_up
e2e_nginx_start
e2e_capture_start client client
e2e_capture_start server server
e2e_dp_start --policy timeout=30,max=1000,mode=advertise
e2e_wait_path

sizes=(1447 1448 1449 2895 2896 2897 4343 4344 4345 14480 100 1)

# 1. 600 requests on one connection, every response checked.
steps=()
for ((k = 0; k < 600; k++)); do
	steps+=("/size/${sizes[k % ${#sizes[@]}]}")
done
out=$E2E_DIR/client.out
e2e_http_client "$out" "$E2E_V4_S" --www "$E2E_NGINX_DIR/www" "${steps[@]}" ||
	fail "http_client.py: a request failed (see $out): $(e2e_jrec "$out" --where 'r["error"]' | head -n 3)"
bad=$(e2e_jrec "$out" --where 'r["status"] != 200 or r["conn"] != 1
	or r["connection"] != "keep-alive" or r["keep_alive"] != "timeout=29, max=%d" % (1000 - r["n"])
	or r["body_ok"] is not True' | head -n 5)
[[ -z $bad ]] || fail "http_client.py: responses not as advertised (first 5): $bad"
e2e_expect_eq "http_client.py: requests/ok/connections" \
	"$(e2e_jrec "$out" --where 'r["summary"]' --show '"%(requests)d/%(ok)d/%(connections)d" % r["summary"]')" \
	"600/600/1"
e2e_log "ok: 600 responses on one connection, each with Keep-Alive: timeout=29, max=999..400 and its exact body"

# 2. curl: 300 URLs on one connection, each body to its own file.
urls=()
outs=()
want=""
connects=1
mkdir "$E2E_DIR/curl"
for ((k = 0; k < 300; k++)); do
	n=${sizes[(k * 5) % ${#sizes[@]}]}
	urls+=("$E2E_URL4/size/$n")
	outs+=(-o "$E2E_DIR/curl/$k")
	want+="200/$connects "
	connects=0
done
got=$(e2e_curl -D "$E2E_DIR/curl.headers" -w '%{http_code}/%{num_connects} ' "${outs[@]}" "${urls[@]}")
[[ $got == "$want" ]] ||
	fail "curl, 300 URLs: status/new connections: got '$got', expected 200/1 then 299 times 200/0"
e2e_log "ok: curl, 300 URLs: all 200, one connection"
for ((k = 0; k < 300; k++)); do
	cmp -s "$E2E_DIR/curl/$k" "$E2E_NGINX_DIR/www/${urls[k]#"$E2E_URL4"/}" ||
		fail "curl: the body of request $((k + 1)) (${urls[k]}) differs from the file"
done
e2e_log "ok: curl's 300 bodies byte-exact"
# (An inserted line of odd length ends in one space, trailing OWS: kapa keeps
# its insertions even-sized. RFC 9110 §5.5 lets a value be followed by OWS.)
got=$(tr -d '\r' <"$E2E_DIR/curl.headers" |
	awk -F': ' 'tolower($1) == "keep-alive" { sub(/ +$/, "", $2); print $2 }' |
	awk '$0 != "timeout=29, max=" (1000 - NR) { bad++ } END { print NR "/" bad + 0 }')
e2e_expect_eq "curl: Keep-Alive lines/mismatches (timeout=29, max=999..700)" "$got" "300/0"

# 3. 300 requests on one connection under loss: about one data segment in 30
# dropped before kapa (the server's eth0 egress: kapa sees holes and
# retransmissions) and after it (the client's eth0 ingress: TCP retransmits
# edited and split segments, the client sends SACK blocks that kapa
# translates). A response whose header block kapa could not edit in the
# segment in hand goes without Keep-Alive (counted as refused), never with a
# wrong one; every body stays byte-exact and the connection is never reset.
e2e_lossy server egress 30
e2e_lossy client ingress 30
steps=()
for ((k = 0; k < 300; k++)); do
	steps+=("/size/${sizes[k % 10]}")
done
out=$E2E_DIR/lossy.out
e2e_http_client "$out" "$E2E_V4_S" --www "$E2E_NGINX_DIR/www" "${steps[@]}" ||
	fail "http_client.py under loss: a request failed (see $out): $(e2e_jrec "$out" --where 'r["error"]' | head -n 3)"
e2e_lossy_off server
e2e_lossy_off client
bad=$(e2e_jrec "$out" --where 'r["status"] != 200 or r["conn"] != 1
	or r["connection"] != "keep-alive" or r["body_ok"] is not True
	or r["keep_alive"] not in (None, "timeout=29, max=%d" % (1000 - r["n"]))' | head -n 5)
[[ -z $bad ]] || fail "http_client.py under loss: responses wrong (first 5): $bad"
lossy_ka=$(e2e_jrec "$out" --where 'r["keep_alive"] is not None' --count)
e2e_log "ok: under loss, 300 responses on one connection with their exact bodies, $lossy_ka with the right Keep-Alive, the others with none"
((lossy_ka >= 150)) || fail "under loss only $lossy_ka of 300 responses got their Keep-Alive"

# 4. Nothing reset, everything counted.
e2e_nginx_wait_active 1 10 ||
	fail "stub_status: $E2E_NGINX_ACTIVE active connections after the clients ended, expected 1"
e2e_log_mark
E2E_LOG_MARK=0
e2e_expect_eq "requests in nginx's log" "$(e2e_log_count)" 1200
e2e_capture_stop client
e2e_capture_stop server
for cap in client server; do
	rsts=$(tshark -r "$(e2e_capture_file "$cap")" -Y 'tcp.flags.reset == 1' 2>/dev/null | wc -l)
	e2e_expect_eq "RST frames in the $cap capture" "$rsts" 0
done
# The loss did what it is for: retransmissions, and SACK blocks to translate.
for cap in client server; do
	n=$(tshark -r "$(e2e_capture_file "$cap")" -Y 'tcp.options.sack_le' 2>/dev/null | wc -l)
	((n > 0)) || fail "no segment with SACK blocks in the $cap capture: the loss tested nothing"
	e2e_log "ok: $n segments with SACK blocks in the $cap capture"
done
e2e_bridge_check
e2e_dp_stop
inserted=$((900 + lossy_ka))
e2e_dp_expect http_requests == 1200 "nginx's access log"
e2e_dp_expect ka_inserted == "$inserted" "every response but those refused under loss"
# "Keep-Alive: timeout=29, max=NNN \r\n": 34 bytes (33, padded to even) for
# every max from 999 to 400.
e2e_dp_expect bytes_inserted == $((inserted * 34)) "$inserted lines of 34 bytes"
e2e_dp_expect refused_forwarded == $((300 - lossy_ka)) "responses without Keep-Alive under loss"
e2e_dp_expect pkts_split '>' 0 "insertions into full segments"
e2e_dp_expect acks_translated '>' 0
for c in rst_sent rst_shutdown refused_no_room refused_log_full \
	refused_other close_rewritten close_inserted craft_no_mbuf tx_dropped; do
	e2e_dp_expect "$c" == 0
done

# 5. The streams: what the client saw is what the server sent plus the lines.
python3 "$E2E_LIB_DIR/tcp_streams.py" "$(e2e_capture_file client)" "$(e2e_capture_file server)" \
	--drop '^Keep-Alive: timeout=29, max=[0-9]+ ?\r\n' --expect-dropped "$inserted" \
	>"$E2E_DIR/streams.out" ||
	fail "the streams differ beyond the inserted lines: $(cat "$E2E_DIR/streams.out")"
sed 's/^/    /' "$E2E_DIR/streams.out"
e2e_log "ok: the connections' streams equal in both captures but for the $inserted inserted lines"
pass
