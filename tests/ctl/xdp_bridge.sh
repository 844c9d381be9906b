#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Suite 'ctl' (root): kapa's XDP program bridging two veth pairs, on the
# running kernel, with real TCP between two namespaces (docs/xdp.md):
#
#   netns kxbr-a: kxbra1 198.18.201.1 == kxbra0 [XDP] <-> [XDP] kxbrb0 == kxbrb1 198.18.201.2 :netns kxbr-b
#                                              (root namespace)
#
#  a) fail open: kapa-xdp attaches an instance of the program on each
#     root-side end, the other end as its peer, no AF_XDP socket anywhere:
#     HTTP both ways (port 80, inspected, and 8080, not) goes through the
#     redirect; nothing reaches the root namespace's stack (a packet socket
#     on each root-side end sees no incoming frame); the counters say
#     failopen and to_peer. Then what this kernel's veth needs, checked:
#     a frame redirected into a veth reaches the far end only when that end
#     has NAPI on (an XDP program of its own, as xdp_pass.bpf.o here, or
#     GRO turned on after the link is up), and a namespace end that leaves
#     TCP checksums to offload sends frames whose checksum nobody finishes.
#  b) AF_XDP: dpdk-testpmd with two net_af_xdp ports (xdp_prog=kapa_xdp.bpf.o,
#     forwarding port to port, as kapa-dp would bridge them) and kapa-xdp
#     setup with --ports 80: port 80 goes to the sockets and through
#     testpmd (to_socket), 8080 straight to the peer (to_peer).
#  c) testpmd killed (-9): its program stays attached, its sockets are
#     gone: everything flows via the peer again (failopen), still nothing
#     reaches the root namespace's stack.
#  d) testpmd stopped cleanly: DPDK detaches its program when it closes the
#     port; kapa-xdp attach puts the fail-open instance back.
#  e) kapa-dp itself on the two net_af_xdp ports (xdp_prog=, --ports 80):
#     it sets the program up (says so), HTTP on port 80 goes through it
#     (its http_requests, in the pinned kapa_stats while it runs and in its
#     exit counters, equal the server's access log; every frame it received
#     is one the program counted to_socket; no ARP reaches it), 8080 goes
#     straight to the peer.
#  f) kapa-dp on DPDK's default program (no xdp_prog=): says that program
#     sends it everything; 8080 then goes through kapa-dp too.
#  g) kapa-dp stopped (SIGSTOP): its sockets stay bound, port 80 waits for
#     it (no fail open); continued, it flows. Then killed (-9): everything
#     fails open to the peer, nothing reaches the root namespace's stack.
#
# Own namespaces, interfaces, --file-prefix and map root (kxbr*); everything
# is torn down on success and failure, processes by their PID.
# Usage: xdp_bridge.sh KAPA_XDP KAPA_XDP_BPF_O BPFTOOL KAPA_DP XDP_PASS_BPF_O
set -euo pipefail

kx=$1
obj=$2
bpftool=$3
kdp=$4
pass_obj=$5
root=/sys/fs/bpf/kxbr
nsa=kxbr-a
nsb=kxbr-b
a0=kxbra0 a1=kxbra1 b0=kxbrb0 b1=kxbrb1
ipa=198.18.201.1
ipb=198.18.201.2
py=/usr/bin/python3
tmp=$(mktemp -d /tmp/kxbr.XXXXXX)
pids=()
testpmd_pid=
kdp_pid=

say() { echo "xdp_bridge: $*"; }
fail() {
	echo "xdp_bridge: FAIL: $*" >&2
	exit 1
}

cleanup() {
	local rc=$? p
	set +e
	[ -n "$testpmd_pid" ] && kill -9 "$testpmd_pid" 2>/dev/null && wait "$testpmd_pid" 2>/dev/null
	[ -n "$kdp_pid" ] && kill -9 "$kdp_pid" 2>/dev/null && wait "$kdp_pid" 2>/dev/null
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	ip link del "$a0" 2>/dev/null
	ip link del "$b0" 2>/dev/null
	ip netns del "$nsa" 2>/dev/null
	ip netns del "$nsb" 2>/dev/null
	if [ $rc -ne 0 ] && [ -f "$tmp/testpmd.log" ]; then
		echo "--- testpmd log (last 30 lines)" >&2
		tail -30 "$tmp/testpmd.log" >&2
	fi
	if [ $rc -ne 0 ] && [ -f "$tmp/kapa-dp.log" ]; then
		echo "--- kapa-dp log (last 40 lines)" >&2
		tail -40 "$tmp/kapa-dp.log" >&2
	fi
	rm -rf "$tmp" /var/run/dpdk/kxbr /var/run/dpdk/kxbr-dp "$root" \
		/run/kapa/kapa-dp_sys_fs_bpf_kxbr.lock
	exit $rc
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || fail "must run as root (namespaces, XDP, AF_XDP)"
[ -x "$kdp" ] || fail "kapa-dp not found at '$kdp'"
[ ! -e "$root" ] || fail "$root exists: another run left it, or someone uses it"
for t in ip ethtool curl stdbuf dpdk-testpmd "$py"; do
	command -v "$t" >/dev/null || fail "'$t' not found (scripts/install-deps.sh)"
done

# $1 = interface, $2 = counter: its value (kapa-xdp show).
ctr() {
	"$kx" show "$1" | awk -v n="$2" '$1 == n { print $2 }'
}

# Snapshot every counter of both root-side ends into $tmp/$1.
snap() {
	{ "$kx" show "$a0" | sed "s/^/$a0 /"; "$kx" show "$b0" | sed "s/^/$b0 /"; } >"$tmp/$1"
}

# $1 = snapshot, $2 = interface, $3 = counter: its growth since the snapshot.
delta() {
	local before now
	before=$(awk -v i="$2" -v n="$3" '$1 == i && $2 == n { print $3 }' "$tmp/$1")
	now=$(ctr "$2" "$3")
	echo $((now - before))
}

# $1 = namespace, $2 = URL: the page, or FAIL.
get() {
	local body
	body=$(ip netns exec "$1" curl -s -m 5 "$2") || fail "$1: curl $2 failed (exit $?)"
	[ "$body" = "kxbr" ] || fail "$1: curl $2 answered '$body'"
}

# $1 = namespace, $2 = URL: must NOT get through within 2 s.
get_fails() {
	if ip netns exec "$1" curl -s -m 2 "$2" >/dev/null; then
		return 1
	fi
	return 0
}

# Packet sockets on both root-side ends, counting incoming frames (what the
# root namespace's stack would receive: XDP acts before the taps) until
# $tmp/taps.stop appears.
taps_start() {
	rm -f "$tmp/taps.stop" "$tmp/taps.out"
	"$py" - "$a0" "$b0" "$tmp/taps.stop" >"$tmp/taps.out" <<'EOF' &
import os, select, socket, sys
socks = []
for name in sys.argv[1:3]:
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    s.bind((name, 0))
    socks.append(s)
counts = {s: 0 for s in socks}
open(sys.argv[3] + ".ready", "w").close()
while not os.path.exists(sys.argv[3]):
    ready, _, _ = select.select(socks, [], [], 0.1)
    for s in ready:
        _, addr = s.recvfrom(65535)
        if addr[2] != socket.PACKET_OUTGOING:
            counts[s] += 1
print(" ".join(str(counts[s]) for s in socks))
EOF
	taps_pid=$!
	pids+=("$taps_pid")
	for _ in $(seq 50); do
		[ -f "$tmp/taps.stop.ready" ] && return 0
		sleep 0.1
	done
	fail "packet-socket counter did not start"
}

# Stop the counter: incoming frames on each end in $taps_a, $taps_b.
taps_stop() {
	touch "$tmp/taps.stop"
	wait "$taps_pid" || fail "packet-socket counter failed"
	rm -f "$tmp/taps.stop.ready"
	read -r taps_a taps_b <"$tmp/taps.out"
}

# Stop the counter; fail when the root namespace's stack saw a frame.
taps_check() {
	taps_stop
	say "$1: frames that reached the root namespace's stack: $a0 $taps_a, $b0 $taps_b"
	[ "$taps_a" -eq 0 ] && [ "$taps_b" -eq 0 ] || fail "$1: frames reached the root namespace's stack"
}

# ---- the two namespaces, each behind a veth pair --------------------------
# Offloads off, as for kapa-dp (real segments, checksums finished by the
# sender), GRO too; an XDP_PASS program on the namespace ends: see (a).
setup_ns() {
	local ns=$1 out=$2 in=$3 ip=$4
	ip netns add "$ns"
	ip link add "$out" type veth peer name "$in" netns "$ns"
	sysctl -qw "net.ipv6.conf.$out.disable_ipv6=1"
	ethtool -K "$out" tso off gso off gro off tx off rx off >/dev/null
	ip link set "$out" up
	ip -n "$ns" link set lo up
	ip -n "$ns" addr add "$ip/24" dev "$in"
	ip netns exec "$ns" ethtool -K "$in" tso off gso off gro off tx off rx off >/dev/null
	ip -n "$ns" link set "$in" up
	ip -n "$ns" link set dev "$in" xdpdrv obj "$pass_obj" sec xdp
}
setup_ns "$nsa" "$a0" "$a1" "$ipa"
setup_ns "$nsb" "$b0" "$b1" "$ipb"

mkdir -p "$tmp/www"
echo kxbr >"$tmp/www/index.html"
# $1 = namespace, $2 = address, $3 = port
serve() {
	ip netns exec "$1" "$py" -m http.server "$3" --bind "$2" --directory "$tmp/www" \
		>"$tmp/http-$1-$3.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 50); do
		ip netns exec "$1" curl -s -m 1 "http://$2:$3/" >/dev/null && return 0
		sleep 0.1
	done
	fail "HTTP server on $2:$3 did not start"
}
serve "$nsb" "$ipb" 80
serve "$nsb" "$ipb" 8080
serve "$nsa" "$ipa" 8080

# ---- (a) fail open: the program, no socket ---------------------------------
"$kx" attach "$a0" "$b0" --ports 80 >/dev/null
snap a
taps_start
get "$nsa" "http://$ipb/"
get "$nsa" "http://$ipb:8080/"
get "$nsb" "http://$ipa:8080/"
taps_check "(a) fail open"
for i in "$a0" "$b0"; do
	[ "$(delta a "$i" to_socket)" -eq 0 ] || fail "(a) $i: to_socket without a socket"
	[ "$(delta a "$i" failopen)" -gt 0 ] || fail "(a) $i: port 80 frames not counted failopen"
	[ "$(delta a "$i" to_peer)" -gt "$(delta a "$i" failopen)" ] ||
		fail "(a) $i: port 8080 frames not counted to_peer"
	[ "$(delta a "$i" no_peer)" -eq 0 ] || fail "(a) $i: frames dropped for want of a peer"
done
say "(a) fail open: HTTP both ways through the redirect: $a0 $(delta a "$a0" to_peer) to_peer" \
	"($(delta a "$a0" failopen) failopen), $b0 $(delta a "$b0" to_peer) ($(delta a "$b0" failopen))"

# bpftool shows the counters by name (BTF).
dump=$("$bpftool" map dump name kapa_xdp_stats)
grep -q '"failopen":' <<<"$dump" || fail "bpftool map dump name kapa_xdp_stats: no named counters"

# What veth needs on this kernel: frames redirected into kxbrb0 are handed
# to kxbrb1's NAPI, which runs only with an XDP program there or GRO on.
ip -n "$nsb" link set dev "$b1" xdpdrv off
drops=$(ethtool -S "$a0" | awk '$1 == "rx_queue_0_drops:" { print $2 }')
if ! get_fails "$nsa" "http://$ipb:8080/"; then
	fail "veth delivered redirected frames without NAPI on the far end: update docs/xdp.md"
fi
drops2=$(ethtool -S "$a0" | awk '$1 == "rx_queue_0_drops:" { print $2 }')
[ "$drops2" -gt "$drops" ] || fail "redirect failures into $b0 not counted in $a0's rx_queue_0_drops"
# GRO instead of the program works too, when turned on with the link up.
ip netns exec "$nsb" ethtool -K "$b1" gro on >/dev/null
get "$nsa" "http://$ipb:8080/"
ip netns exec "$nsb" ethtool -K "$b1" gro off >/dev/null
ip -n "$nsb" link set dev "$b1" xdpdrv obj "$pass_obj" sec xdp
get "$nsa" "http://$ipb:8080/"
say "(a) veth: with neither an XDP program nor GRO on $b1 the redirect fails" \
	"($((drops2 - drops)) drops on $a0); GRO on, or the XDP_PASS program, and it works"
# And a sender that leaves its TCP checksum to offload: the redirected
# frame keeps a partial checksum that the far end refuses.
ip netns exec "$nsa" ethtool -K "$a1" tx on >/dev/null
if ! get_fails "$nsa" "http://$ipb:8080/"; then
	fail "a partial checksum survived the redirect: update docs/xdp.md"
fi
ip netns exec "$nsa" ethtool -K "$a1" tx off >/dev/null
get "$nsa" "http://$ipb:8080/"
say "(a) veth: with TX checksum offload on $a1 TCP fails through the redirect; off, it works"

# ---- (b) AF_XDP sockets: testpmd bridging two net_af_xdp ports --------------
# Start testpmd; @return 1 when it came up without its ports (it then
# still says "Press enter to exit").
testpmd_once() {
	"$kx" detach "$a0" "$b0" >/dev/null	# DPDK attaches only where none is
	rm -f "$tmp/testpmd.in"
	mkfifo "$tmp/testpmd.in"
	# stdin held open (fd 3) so that testpmd waits for "enter" until stopped.
	exec 3<>"$tmp/testpmd.in"
	stdbuf -oL dpdk-testpmd -l 0,1 --no-pci --no-huge -m 512 --file-prefix kxbr \
		--vdev "net_af_xdp0,iface=$a0,xdp_prog=$obj" \
		--vdev "net_af_xdp1,iface=$b0,xdp_prog=$obj" -- \
		--forward-mode=io --auto-start --nb-cores=1 --total-num-mbufs=16384 \
		<"$tmp/testpmd.in" >>"$tmp/testpmd.log" 2>&1 &
	testpmd_pid=$!
	for _ in $(seq 300); do
		if grep -q "Press enter to exit" "$tmp/testpmd.log"; then
			grep -q "Fail to configure port\|Fail to start port" "$tmp/testpmd.log" || return 0
			kill -9 "$testpmd_pid"
			wait "$testpmd_pid" 2>/dev/null || true
			testpmd_pid=
			return 1
		fi
		kill -0 "$testpmd_pid" 2>/dev/null || fail "dpdk-testpmd exited at start"
		sleep 0.1
	done
	fail "dpdk-testpmd did not start forwarding within 30 s"
}

# Right after a socket holder was killed, the kernel may still hold its
# queue (the socket's buffer pool is released in deferred work): the new
# bind fails with EBUSY. Counted and retried, as a restart must be.
start_testpmd() {
	local try
	: >"$tmp/testpmd.log"
	for try in 1 2 3 4 5 6 7 8 9 10; do
		if testpmd_once; then
			[ "$try" -eq 1 ] || say "$1: testpmd up at attempt $try (queue busy before)"
			return 0
		fi
		echo "--- attempt $try failed" >>"$tmp/testpmd.log"
		sleep 0.5
	done
	fail "$1: testpmd could not configure its ports in 10 attempts"
}
start_testpmd "(b)"
prog_a=$("$kx" show "$a0" | awk 'NR == 1 { print $3 }')
"$kx" setup "$a0" "$b0" --ports 80 >/dev/null
snap b
for _ in 1 2 3; do get "$nsa" "http://$ipb/"; done
for i in "$a0" "$b0"; do
	[ "$(delta b "$i" to_socket)" -gt 0 ] || fail "(b) $i: port 80 frames not to the socket"
	[ "$(delta b "$i" failopen)" -eq 0 ] || fail "(b) $i: failopen with a socket bound"
done
snap b2
get "$nsa" "http://$ipb:8080/"
get "$nsb" "http://$ipa:8080/"
for i in "$a0" "$b0"; do
	[ "$(delta b2 "$i" to_socket)" -eq 0 ] || fail "(b) $i: port 8080 frames went to the socket"
	[ "$(delta b2 "$i" to_peer)" -gt 0 ] || fail "(b) $i: port 8080 frames not to the peer"
done
say "(b) AF_XDP: port 80 through testpmd ($a0 $(delta b "$a0" to_socket)," \
	"$b0 $(delta b "$b0" to_socket) to_socket), 8080 straight to the peer" \
	"($a0 $(delta b2 "$a0" to_peer), $b0 $(delta b2 "$b0" to_peer) to_peer)"

# ---- (c) the socket holder killed: fail open ---------------------------------
kill -9 "$testpmd_pid"
wait "$testpmd_pid" 2>/dev/null || true
testpmd_pid=
[ "$("$kx" show "$a0" | awk 'NR == 1 { print $3 }')" = "$prog_a" ] ||
	fail "(c) the program DPDK attached is gone after kill -9"
snap c
taps_start
get "$nsa" "http://$ipb/"
get "$nsa" "http://$ipb:8080/"
get "$nsb" "http://$ipa:8080/"
taps_check "(c) after kill -9"
for i in "$a0" "$b0"; do
	[ "$(delta c "$i" to_socket)" -eq 0 ] || fail "(c) $i: to_socket with no socket"
	[ "$(delta c "$i" failopen)" -gt 0 ] || fail "(c) $i: port 80 not failopen"
done
say "(c) testpmd killed: program $prog_a stays, port 80 fails open" \
	"($a0 $(delta c "$a0" failopen), $b0 $(delta c "$b0" failopen) failopen)"

# ---- (d) a clean stop detaches; kapa-xdp attach puts fail open back ---------
start_testpmd "(d)"
"$kx" setup "$a0" "$b0" --ports 80 >/dev/null
get "$nsa" "http://$ipb/"
kill -TERM "$testpmd_pid"
wait "$testpmd_pid" 2>/dev/null || true
testpmd_pid=
fwd=$(awk '/Accumulated forward statistics/ { on = 1 } on && /RX-packets:/ { print $2; exit }' \
	"$tmp/testpmd.log")
[ "${fwd:-0}" -gt 0 ] || fail "(d) testpmd forwarded nothing"
if "$kx" show "$a0" >/dev/null 2>&1; then
	fail "(d) a program is still attached to $a0 after DPDK closed the port"
fi
# No program: the frames go up this host's stack and are lost there (the
# packet sockets see them: the counter is no blind one).
taps_start
get_fails "$nsa" "http://$ipb:8080/" || fail "(d) traffic flowed with no program attached?"
taps_stop
[ "$taps_a" -gt 0 ] || fail "(d) no program attached, yet the root namespace's stack saw nothing on $a0"
"$kx" attach "$a0" "$b0" --ports 80 >/dev/null
get "$nsa" "http://$ipb/"
get "$nsb" "http://$ipa:8080/"
say "(d) clean stop: testpmd forwarded $fwd frames, DPDK detached the program" \
	"($taps_a frames to the root namespace's stack meanwhile); kapa-xdp attach: flowing again"

# ---- (e) kapa-dp on the net_af_xdp ports, kapa's program -------------------
# $1 = phase, $2 = extra device arguments (",xdp_prog=..." or ""). Started
# after the fail-open instance is detached (DPDK attaches only where no
# program is); up when it says "forwarding".
start_kapa_dp() {
	"$kx" detach "$a0" "$b0" >/dev/null
	: >"$tmp/kapa-dp.log"
	"$kdp" -l 0,1 --no-huge -m 512 --no-pci --file-prefix kxbr-dp \
		--vdev "net_af_xdp0,iface=$a0$2" --vdev "net_af_xdp1,iface=$b0$2" -- \
		--bridge 0:1 --ports 80 --idle-sleep-us 200 --max-conns 1024 \
		--map-root "$root" >"$tmp/kapa-dp.log" 2>&1 &
	kdp_pid=$!
	for _ in $(seq 300); do
		grep -q "^kapa-dp: forwarding" "$tmp/kapa-dp.log" && return 0
		kill -0 "$kdp_pid" 2>/dev/null || fail "$1: kapa-dp exited at start"
		sleep 0.1
	done
	fail "$1: kapa-dp did not start forwarding within 30 s"
}

# SIGTERM, then its exit counters in $tmp/kapa-dp.counters ("name value").
stop_kapa_dp() {
	kill -TERM "$kdp_pid"
	wait "$kdp_pid" || fail "$1: kapa-dp exited with status $?"
	kdp_pid=
	sed -n '/^kapa-dp: counters$/,/^kapa-dp: /p' "$tmp/kapa-dp.log" | grep -v '^kapa-dp:' \
		>"$tmp/kapa-dp.counters" || true
	[ -s "$tmp/kapa-dp.counters" ] || fail "$1: kapa-dp printed no counters"
	check_mbufs "$1"
}

# DPDK 22.11's net_af_xdp keeps what it lent the kernel when it closes a
# port: the 2048 mbufs of each RX queue's fill ring and the last TX burst's,
# not yet completed (its xdp_umem_destroy drops the pool, it frees none).
# So kapa-dp's "mbufs N of M back" misses exactly 2 x 2048 plus at most a
# burst (32) per port here; anything else is kapa-dp's loss.
check_mbufs() {
	local line back total held
	line=$(grep '^kapa-dp: mbufs [0-9]* of [0-9]* back in the pool' "$tmp/kapa-dp.log") ||
		fail "$1: kapa-dp printed no mbuf count"
	read -r back total <<<"$(awk '{ print $3, $5 }' <<<"$line")"
	held=$((total - back))
	[ "$held" -ge 4096 ] && [ "$held" -le $((4096 + 2 * 32)) ] ||
		fail "$1: $held mbufs not back in kapa-dp's pool, the PMD holds 4096 to 4160: $line"
	say "$1 kapa-dp's pool: $held mbufs held by net_af_xdp at close (fill rings 4096 + $((held - 4096)) in TX)"
}
kctr() {
	awk -v n="$1" '$1 == n { print $2 }' "$tmp/kapa-dp.counters"
}

# http_requests summed over the workers' records of the pinned kapa_stats.
pinned_requests() {
	"$bpftool" -j map dump pinned "$root/kapa_stats" | "$py" -c '
import json, sys
print(sum(e["formatted"]["value"]["http_requests"] for e in json.load(sys.stdin)))'
}

# Requests the server on port 80 has logged.
served80() {
	grep -c '"GET / HTTP/1.1" 200' "$tmp/http-$nsb-80.log" || true
}

start_kapa_dp "(e)" ",xdp_prog=$obj"
grep -q "^kapa-dp: port 0 ($a0): kapa's XDP program: TCP of --ports to kapa-dp, the rest straight to $b0" \
	"$tmp/kapa-dp.log" || fail "(e) kapa-dp did not say it set up kapa's program on $a0"
grep -q "^kapa-dp: port 1 ($b0): kapa's XDP program: TCP of --ports to kapa-dp, the rest straight to $a0" \
	"$tmp/kapa-dp.log" || fail "(e) kapa-dp did not say it set up kapa's program on $b0"
[ "$("$kx" show "$a0" | awk 'NR == 1 { print $5 }')" = "configured," ] ||
	fail "(e) the program on $a0 is not configured"
n80=5
log0=$(served80)
for _ in $(seq $n80); do get "$nsa" "http://$ipb/"; done
logged=$(( $(served80) - log0 ))
[ "$logged" -eq "$n80" ] || fail "(e) the server logged $logged of $n80 requests"
snap e
get "$nsa" "http://$ipb:8080/"
get "$nsb" "http://$ipa:8080/"
for i in "$a0" "$b0"; do
	[ "$(delta e "$i" to_socket)" -eq 0 ] || fail "(e) $i: port 8080 frames went to kapa-dp"
	[ "$(delta e "$i" to_peer)" -gt 0 ] || fail "(e) $i: port 8080 frames not to the peer"
	[ "$(ctr "$i" failopen)" -eq 0 ] || fail "(e) $i: failopen while kapa-dp runs"
done
# kapa-dp publishes its counters a few times a second.
for _ in $(seq 30); do
	pin=$(pinned_requests)
	[ "$pin" -eq "$logged" ] && break
	sleep 0.1
done
[ "$pin" -eq "$logged" ] || fail "(e) pinned kapa_stats: http_requests $pin, server logged $logged"
sock=$(( $(ctr "$a0" to_socket) + $(ctr "$b0" to_socket) ))
peer_a=$(delta e "$a0" to_peer) peer_b=$(delta e "$b0" to_peer)
stop_kapa_dp "(e)"
[ "$(kctr http_requests)" -eq "$logged" ] ||
	fail "(e) kapa-dp counted $(kctr http_requests) requests, the server logged $logged"
[ "$(kctr http_responses)" -eq "$logged" ] ||
	fail "(e) kapa-dp counted $(kctr http_responses) responses for $logged requests"
[ "$(kctr pkts_non_ip)" -eq 0 ] || fail "(e) kapa-dp received $(kctr pkts_non_ip) non-IP frames (ARP goes to the peer)"
[ "$(kctr rx_packets)" -eq "$sock" ] ||
	fail "(e) kapa-dp received $(kctr rx_packets) frames, the programs sent $sock to its sockets"
say "(e) kapa-dp on net_af_xdp: $logged requests on port 80 through it (server log," \
	"pinned kapa_stats and exit counters agree; $(kctr rx_packets) frames = to_socket)," \
	"8080 to the peer ($a0 $peer_a, $b0 $peer_b to_peer)"

# ---- (f) kapa-dp on DPDK's default program -----------------------------------
start_kapa_dp "(f)" ""
line=$(grep "^kapa-dp: port 0: .*is not kapa's.*; that program sends everything to kapa-dp" \
	"$tmp/kapa-dp.log") || fail "(f) kapa-dp did not say the default program sends it everything"
say "(f) $line"
get "$nsa" "http://$ipb:8080/"
get "$nsb" "http://$ipa:8080/"
get "$nsa" "http://$ipb/"
stop_kapa_dp "(f)"
[ "$(kctr pkts_tcp)" -gt 0 ] || fail "(f) kapa-dp saw no TCP with DPDK's default program"
[ "$(kctr http_requests)" -eq 1 ] || fail "(f) kapa-dp counted $(kctr http_requests) requests on port 80, not 1"
say "(f) DPDK's default program: $(kctr pkts_tcp) TCP segments (8080 included) and" \
	"$(kctr pkts_non_ip) non-IP frames through kapa-dp"
"$kx" show "$a0" >/dev/null 2>&1 && fail "(f) a program stayed on $a0 after kapa-dp stopped"

# ---- (g) kapa-dp killed: fail open -------------------------------------------
start_kapa_dp "(g)" ",xdp_prog=$obj"
get "$nsa" "http://$ipb/"
# First stopped, not gone: its sockets stay bound, so nothing fails open
# and port 80 waits for it (the limit docs/xdp.md states).
snap h
kill -STOP "$kdp_pid"
get_fails "$nsa" "http://$ipb/" || fail "(g) port 80 got through a stopped kapa-dp?"
stopped_sock=$(delta h "$a0" to_socket)
[ "$stopped_sock" -gt 0 ] || fail "(g) $a0: no frame to the stopped kapa-dp's socket"
[ "$(delta h "$a0" failopen)" -eq 0 ] || fail "(g) $a0: failopen while kapa-dp's sockets are bound"
kill -CONT "$kdp_pid"
get "$nsa" "http://$ipb/"
say "(g) kapa-dp stopped (SIGSTOP): port 80 does not get through ($stopped_sock frames" \
	"to_socket on $a0, none failopen); continued (SIGCONT), it does"
kill -9 "$kdp_pid"
wait "$kdp_pid" 2>/dev/null || true
kdp_pid=
snap g
taps_start
get "$nsa" "http://$ipb/"
get "$nsb" "http://$ipa:8080/"
taps_check "(g) after kill -9"
for i in "$a0" "$b0"; do
	[ "$(delta g "$i" to_socket)" -eq 0 ] || fail "(g) $i: to_socket with kapa-dp dead"
	[ "$(delta g "$i" failopen)" -gt 0 ] || fail "(g) $i: port 80 not failopen"
done
say "(g) kapa-dp killed: port 80 fails open ($a0 $(delta g "$a0" failopen)," \
	"$b0 $(delta g "$b0" failopen) failopen)"
say "PASS"
