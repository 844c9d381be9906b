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
# have translated, were left as sent (refused_fragmented 2). Then the same
# with two workers: every rebuilt datagram inspected by the worker that owns
# its connection (handed over when another one rebuilt it).
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

# Two workers (net_pcap ports have one queue: software dispatch). The
# fragments stay with the worker polling the client's port; the rebuilt
# datagram goes to the worker that owns the connection (a copy on its ring,
# frag_handed_over) or is inspected where it was rebuilt.
# Two connections, from source ports that dp_dispatch_owner() gives to
# worker 0 and to worker 1: whichever polls the client's port, one of them
# is owned by the other worker.
read -r port0 port1 < <(python3 - "$E2E_V4_C" "$E2E_V4_S" <<-'EOF'
	import socket, struct, sys
	def crc32c_word(crc, four):     # rte_hash_crc_4byte(): SSE4.2 crc32, no inversion
	    for byte in four:
	        crc ^= byte
	        for _ in range(8):
	            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
	    return crc
	a, b = socket.inet_aton(sys.argv[1]), socket.inet_aton(sys.argv[2])
	x = bytes(p ^ q for p, q in zip(a, b))
	found = {}
	for sport in range(41000, 42000):
	    owner = (crc32c_word(sport ^ 80, x) * 2) >> 32
	    found.setdefault(owner, sport)
	print(found[0], found[1])
	EOF
)
e2e_dp_start --workers 2 --policy timeout=30,max=100,mode=advertise
for p in "$port0" "$port1"; do
	got=$(e2e_client python3 "$E2E_LIB_DIR/frag_client.py" --sport "$p" "$E2E_V4_S" 80 \
		100 1449 4344 | tr '\n' ' ') || fail "frag_client.py failed (two workers): $got"
	e2e_expect_eq "two workers, source port $p: responses" "$got" "200 100 200 1449 200 4344 "
done
e2e_bridge_check
e2e_dp_stop
e2e_dp_expect http_requests == 6 "the fragmented requests, two workers"
e2e_dp_expect http_responses == 6
e2e_dp_expect frag_reassembled == 6
e2e_dp_expect frag_handed_over == 3 "the connection the other worker owns"
e2e_dp_expect frag_foreign == 0 "every rebuilt datagram inspected by the connection's owner"
pass "3 requests in IP fragments counted (one worker, two workers), the fragments unchanged"
