#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# dp_frag: requests in IP fragments are counted by kapa-dp and reach the
# server unchanged.
#
# frag_client.py opens one keep-alive connection through kapa-dp and sends
# three requests on it, each as three IPv4 fragments, last one first (the
# kernel's socket holds the same bytes as sent, TCP_REPAIR, so the connection
# stays consistent and the responses are read from it). kapa-dp runs an
# advertising policy, which edits the responses (they are not fragmented)
# and must not touch the fragments. The ports are on net_pcap (E2E_PMD):
# net_af_packet would get the datagrams reassembled by the kernel. Checks:
# three 200 responses of the right lengths; nginx logged three requests;
# kapa-dp counted them (http_requests 3, frag_fragments 9,
# frag_reassembled 3, pkts_fragment 9) and refused no fragment; every
# fragment that left the client arrived at the server byte for byte; the
# acknowledgements of requests 2 and 3, which a shifted connection would
# have translated, were left as sent (refused_fragmented 2).
#
# On that connection the server drops the fragmented copies of requests 2
# and 3 (they acknowledge bytes it never sent: RFC 9293 3.10.7.4) and the
# client's kernel resends them whole, which kapa-dp translates: so a
# fragment-carrying client of a connection kapa shifted pays a
# retransmission per fragmented segment (docs/core-frag.md).
#
# Usage: dp_frag.sh [KAPA_DP]  (meson passes the built kapa-dp)
# shellcheck disable=SC2119 # lib.sh functions with optional arguments
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

e2e_init frag
e2e_dp_init "${1:-}"
# The ports on net_pcap: net_af_packet would hand kapa-dp the datagrams
# already reassembled by the kernel (lib.sh, e2e_eal_args).
E2E_PMD=pcap

e2e_topo_up
# The hand-made segments carry no TCP timestamps: none on this connection.
e2e_client sysctl -qw net.ipv4.tcp_timestamps=0
e2e_nginx_start
e2e_capture_start client client eth0 "ip[6:2] & 0x3fff != 0"
e2e_capture_start server server eth0 "ip[6:2] & 0x3fff != 0"
e2e_dp_start --policy timeout=30,max=100,mode=advertise
e2e_wait_path

got=$(e2e_client python3 "$E2E_LIB_DIR/frag_client.py" "$E2E_V4_S" 80 100 1449 4344 |
	tr '\n' ' ') || fail "frag_client.py failed: $got"
e2e_expect_eq "responses to the fragmented requests (status length)" "$got" \
	"200 100 200 1449 200 4344 "
e2e_log_wait 3 10 || fail "nginx logged $(e2e_log_count) requests, expected 3"

e2e_capture_stop client
e2e_capture_stop server
cf=$(e2e_capture_file client)
sf=$(e2e_capture_file server)
python3 - "$cf" "$sf" <<-'EOF' || fail "the fragments changed across kapa-dp"
	import struct, sys
	def frames(path):
	    data = open(path, "rb").read()
	    off, out = 24, []
	    while off + 16 <= len(data):
	        incl = struct.unpack("<I", data[off + 8:off + 12])[0]
	        out.append(data[off + 16:off + 16 + incl])
	        off += 16 + incl
	    return out
	a, b = frames(sys.argv[1]), frames(sys.argv[2])
	print("dp_frag: %d fragments sent, %d received" % (len(a), len(b)))
	sys.exit(0 if len(a) == 9 and a == b else 1)
EOF
e2e_log "ok: 9 fragments arrived byte for byte"

e2e_bridge_check
e2e_dp_stop
e2e_dp_expect http_requests == 3 "the fragmented requests"
e2e_dp_expect http_responses == 3
e2e_dp_expect pkts_fragment == 9
e2e_dp_expect frag_fragments == 9
e2e_dp_expect frag_reassembled == 3
for c in frag_foreign frag_timed_out frag_overlaps frag_duplicates frag_table_full \
	frag_refused_bounds frag_refused_dropped frag_refused_other gaps conns_midstream; do
	e2e_dp_expect "$c" == 0
done
e2e_dp_expect ka_inserted == 3 "the responses (not fragmented) are edited as usual"
# Requests 2 and 3 acknowledge the first response, whose Keep-Alive line
# moved the server's sequence numbers: their acknowledgement cannot be
# translated in fragments that go on unchanged (docs/core-frag.md).
e2e_dp_expect refused_fragmented == 2 "acks of requests 2 and 3 left untranslated"
pass "3 requests in IP fragments counted, the fragments unchanged"
